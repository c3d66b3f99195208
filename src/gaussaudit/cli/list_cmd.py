"""``gaussaudit list encoders|datasets|tests``: what can be named (no torch import).

Rows come from the registries (built-ins and plugins alike); nothing here knows
a family by name. On a terminal wide enough for the whole table it is drawn by
rich; otherwise, and whenever the output is piped or redirected, it is printed
as plain aligned text of any width, so that no name or description is ever cut.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

__all__ = ["list_names"]

WHAT = ("encoders", "datasets", "tests")


def list_names(
    what: Annotated[str, typer.Argument(help="encoders, datasets or tests.")] = "encoders",
) -> None:
    """List the encoders, datasets or tests gaussaudit knows (plugins included)."""
    if what not in WHAT:
        from ..errors import UnknownNameError

        raise UnknownNameError("list", what, WHAT)
    if what == "encoders":
        from ..encoders import list_encoders, registry

        headers = ("name", "family", "input", "dim", "extra", "source", "description")
        rows = [
            (
                registry.display_name(s),
                s.family,
                ",".join(s.modalities),
                str(s.dim or "–"),
                s.extra,
                _origin(registry, s),
                s.description,
            )
            for s in list_encoders()
        ]
    elif what == "datasets":
        from ..datasets import list_datasets, registry

        headers = ("name", "family", "items", "source", "description")
        rows = [
            (registry.display_name(s), s.family, s.modality, _origin(registry, s), s.description)
            for s in list_datasets()
        ]
    else:
        from ..stats.tests import REGISTRY

        headers = ("test (JSON key)", "label", "family", "min rows", "in 'all'", "source")
        rows = [
            (
                s.name,
                s.label,
                s.family,
                str(s.min_rows),
                "yes" if s.default else "no",
                _origin(REGISTRY, s),
            )
            for s in REGISTRY.specs()
        ]
    _print_table(what, headers, rows)


def _origin(registry: Any, spec: Any) -> str:
    """``built-in``, the plugin's distribution, or where it was registered."""
    from ..registry import BUILTIN_SOURCE

    source = registry.source(spec) or ""
    if source == BUILTIN_SOURCE:
        return "built-in"
    return registry.distribution(spec) or source.split(" = ")[0]


def _print_table(title: str, headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """Print a rich table when it fits the terminal whole, else plain aligned text."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=title, box=None, header_style="bold")
    for col in headers:
        table.add_column(col, no_wrap=True)
    for row in rows:
        table.add_row(*row)
    unlimited = console.options.update(max_width=1_000_000)
    if console.is_terminal and console.measure(table, options=unlimited).maximum <= console.width:
        console.print(table)
    else:  # never cut a name or a description to fit a width
        print(_plain(headers, rows), end="")


def _plain(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Aligned columns separated by two spaces, no width limit (for pipes and files).

    Examples
    --------
    >>> print(_plain(("name", "dim"), [("resnet18", "512")]), end="")
    name      dim
    resnet18  512
    """
    table = [headers, *rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(headers))]
    lines = ("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table)
    return "\n".join(lines) + "\n"
