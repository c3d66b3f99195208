"""``gaussaudit list encoders|datasets|tests``: what can be named (no torch import)."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["list_names"]

WHAT = ("encoders", "datasets", "tests")


def list_names(
    what: Annotated[str, typer.Argument(help="encoders, datasets or tests.")] = "encoders",
) -> None:
    """List the encoders, datasets or tests gaussaudit knows (plugins included)."""
    from rich.console import Console
    from rich.table import Table

    if what not in WHAT:
        from ..errors import UnknownNameError

        raise UnknownNameError("list", what, WHAT)
    table = Table(title=what, box=None, header_style="bold")
    if what == "encoders":
        from ..encoders import list_encoders

        for col in ("name", "family", "input", "dim", "extra", "description"):
            table.add_column(col)
        for s in list_encoders():
            name = (
                f"{s.name}:..."
                if s.family in ("openclip", "timm", "sentence-transformers")
                and s.name in ("openclip", "timm", "st")
                else s.name
            )
            table.add_row(
                name, s.family, ",".join(s.modalities), str(s.dim or "–"), s.extra, s.description
            )
    elif what == "datasets":
        from ..datasets import list_datasets, registry

        for col in ("name", "family", "items"):
            table.add_column(col, no_wrap=True)
        table.add_column("description")
        for s in list_datasets():
            name = f"{s.name}:..." if registry.is_prefix(s) else s.name
            table.add_row(name, s.family, s.modality, s.description)
    else:
        from ..stats.battery import TESTS

        table.add_column("test (JSON key)")
        for t in TESTS:
            table.add_row(t)
    Console().print(table)
