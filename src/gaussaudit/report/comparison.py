"""Rendering of ``gaussaudit compare``: the regressions between two reports.

:func:`comparison_renderables` and :func:`comparison_markdown` draw a
:class:`gaussaudit.compare.Comparison` (one table per view: metric, base, new,
delta, rule, result); :func:`render_comparison` gives it as text in any of
:data:`COMPARISON_FORMATS`. (Several report models side by side, one column
each, are a paper-style table: :func:`gaussaudit.report.tables.print_side_by_side`.)
"""

from __future__ import annotations

from typing import Any

from .._values import finite_number, short_repr
from ._format import pct, safe_text, sig, signed, signed_points, value_text
from ._labels import metric_label

__all__ = [
    "COMPARISON_FORMATS",
    "comparison_markdown",
    "comparison_renderables",
    "comparison_tables",
    "render_comparison",
]

#: Formats :func:`render_comparison` writes.
COMPARISON_FORMATS = ("terminal", "json", "markdown")


def _value(metric: str, x: Any) -> str:
    if x is None or isinstance(x, bool):
        return value_text(x)
    if finite_number(x) is None:  # garbage from a hand-edited report: shown, never formatted
        return safe_text(short_repr(x))
    if metric.endswith("pass_fraction"):
        return pct(x)
    return sig(x)


def _delta(metric: str, d: float | None) -> str:
    if d is None:
        return ""
    if metric.endswith("pass_fraction"):
        return signed_points(d)
    return signed(d)


def comparison_tables(comparison: Any) -> list:
    """One rich table per view: metric, base, new, delta, rule, result.

    Parameters
    ----------
    comparison : Comparison
        What :func:`gaussaudit.compare.compare_reports` returned.
    """
    from rich import box
    from rich.table import Table
    from rich.text import Text

    tables = []
    for view in comparison.views:
        table = Table(title=f"compare ({view} view)", box=box.SIMPLE_HEAVY, title_style="bold")
        for col, justify in (
            ("metric", "left"),
            ("base", "right"),
            ("new", "right"),
            ("delta", "right"),
            ("rule", "left"),
            ("result", "left"),
        ):
            table.add_column(col, justify=justify)  # type: ignore[arg-type]
        for d in comparison.deltas:
            if d.view != view:
                continue
            if d.regressed:
                flag = Text("REGRESSED", style="bold red")
            elif d.limit is None:
                flag = Text("–", style="dim")
            else:
                flag = Text("ok", style="green")
            table.add_row(
                metric_label(d.metric),
                _value(d.metric, d.base),
                _value(d.metric, d.new),
                _delta(d.metric, d.delta),
                d.limit or "",
                flag,
            )
        tables.append(table)
    return tables


def comparison_renderables(comparison: Any) -> list[Any]:
    """Return the tables of :func:`comparison_tables`, then the comparison's notes."""
    from rich.text import Text

    parts: list[Any] = comparison_tables(comparison)
    parts += [Text(f"• {note}", style="dim") for note in comparison.notes]
    return parts


def comparison_markdown(comparison: Any) -> str:
    """Render the comparison as Markdown (for a CI step summary).

    Returns
    -------
    str
        A heading, one table row per view and metric, and the notes.
    """
    status = "regressed" if comparison.regressed else "no regression"
    lines = [
        f"### gaussaudit compare: {status}",
        "",
        f"Base `{comparison.base_source}`, new `{comparison.new_source}`.",
        "",
        "| view | metric | base | new | delta | result |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for d in comparison.deltas:
        result = "❌ **regressed**" if d.regressed else ("✅ ok" if d.limit else "")
        lines.append(
            f"| {d.view} | {metric_label(d.metric)} | {_value(d.metric, d.base)} "
            f"| {_value(d.metric, d.new)} | {_delta(d.metric, d.delta)} | {result} |"
        )
    lines.append("")
    lines += [f"- {note}" for note in comparison.notes]
    return "\n".join(lines) + "\n"


def render_comparison(comparison: Any, fmt: str = "terminal", *, width: int = 120) -> str:
    """Render a comparison as text.

    Parameters
    ----------
    comparison : Comparison
        What :func:`gaussaudit.compare.compare_reports` returned.
    fmt : {"terminal", "json", "markdown"}
        ``terminal`` is the plain text of the tables (``width`` columns),
        ``json`` :meth:`Comparison.to_dict` as strict JSON.
    width : int
        Columns of the terminal text.

    Returns
    -------
    str

    Raises
    ------
    UnknownNameError
        For another ``fmt``.
    """
    if fmt == "json":
        from .json import render_json

        return render_json(comparison.to_dict())
    if fmt == "markdown":
        return comparison_markdown(comparison)
    if fmt == "terminal":
        from .terminal import renderables_text

        return renderables_text(comparison_renderables(comparison), width=width)
    from ..errors import UnknownNameError

    raise UnknownNameError("comparison format", fmt, COMPARISON_FORMATS)
