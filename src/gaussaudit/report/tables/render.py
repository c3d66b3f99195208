"""Renderers of a :class:`~gaussaudit.report.tables.model.Table`: rich (terminal) and Markdown.

They only lay the model out; every number was formatted when the table was built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .model import Table

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

__all__ = ["markdown_table", "rich_table"]

_STATUS_STYLE = {"pass": "bold green", "fail": "bold red", "na": "dim"}


def _rich_cell(text: str, note: str, status: str) -> str:
    from rich.markup import escape

    style = _STATUS_STYLE.get(status)
    out = f"[{style}]{escape(text)}[/{style}]" if style else escape(text)
    return out + (f" [dim]{escape(note)}[/dim]" if note else "")


def rich_table(
    table: Table,
    *,
    paper: str = "below",
    label_style: str = "bold",
    label_justify: str = "left",
    no_wrap: bool = False,
    **options: Any,
):
    """Lay a :class:`Table` out as a ``rich.table.Table``.

    Parameters
    ----------
    table : Table
    paper : {"below", "inline"}
        The paper's values as a dim ``  paper`` row under ours, or as
        ``ours (paper)`` in each cell.
    label_style, label_justify : str
        Style and justification of the label column (which never wraps).
    no_wrap : bool
        Keep the value columns from wrapping too.
    **options
        Passed to ``rich.table.Table`` (``box``, ``title_style``, ...).

    Returns
    -------
    rich.table.Table
    """
    from rich.markup import escape
    from rich.table import Table as RichTable

    title, caption = escape(table.title) or None, escape(table.caption) or None
    out = RichTable(title=title, caption=caption, **options)
    out.add_column(table.corner, style=label_style, justify=label_justify, no_wrap=True)
    for name in table.columns:
        out.add_column(name, justify="right", min_width=len(name), no_wrap=no_wrap)
    for row in table.rows:
        n = len(row.ours)
        notes, status = row.notes or ("",) * n, row.status or ("",) * n
        cells = [_rich_cell(*c) for c in zip(row.ours, notes, status, strict=True)]
        if row.paper is not None and paper == "inline":
            cells = [f"{c} ({escape(p)})" for c, p in zip(cells, row.paper, strict=True)]
        out.add_row(escape(row.label), *cells)
        if row.paper is not None and paper == "below":
            theirs = [escape(p) for p in row.paper]
            out.add_row("  paper", *theirs, style="dim", end_section=True)
    return out


def markdown_table(table: Table) -> list[str]:
    """Lay a :class:`Table` out as GitHub Markdown lines; compared cells read ``ours (paper)``.

    Examples
    --------
    >>> from gaussaudit.report.tables import RowSpec, build_table
    >>> t = build_table({"a": {"cv": 0.1}}, [RowSpec("cv", "CV")], paper={"a": None})
    >>> markdown_table(t)
    ['| metric | a |', '|---|---|', '| CV | 0.1 (–) |']
    """
    lines = [
        f"| {table.corner} | " + " | ".join(table.columns) + " |",
        "|---|" + "---|" * len(table.columns),
    ]
    for row in table.rows:
        cells = list(row.ours)
        if row.paper is not None:
            cells = [f"{a} ({b})" for a, b in zip(cells, row.paper, strict=True)]
        for j, note in enumerate(row.notes or ()):
            cells[j] += f" {note}" if note else ""
        lines.append("| " + " | ".join([row.label, *cells]) + " |")
    return lines


def _wide_console(needed: int) -> Console:
    from rich.console import Console

    return Console(width=max(Console().width, needed))
