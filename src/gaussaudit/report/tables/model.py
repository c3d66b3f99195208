"""The neutral model of a paper-style table and its one builder.

:func:`build_table` turns columns of metric dicts into a :class:`Table` of
strings (rows of :class:`Row`, one per :class:`RowSpec`), with the paper's
values beside ours where a reference is given. The renderers
(:mod:`gaussaudit.report.tables.render`) only lay it out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._format import DASH, band_range, fmt_paper_number, fmt_verdict

__all__ = ["Row", "RowSpec", "Table", "build_table"]


def _band_note(band: Sequence[float] | None) -> str:
    """Format the 99 % null band of a pass fraction as a cell note, ``[90–99]``."""
    if not band or band[0] is None:
        return ""
    return f"[{band_range(band[0], band[1], percent=False)}]"


@dataclass(frozen=True)
class RowSpec:
    """One row of a paper-style table: which metric, its label and how to print it.

    Attributes
    ----------
    key : str
        The metric's key in each column's dict.
    label : str
        The row's label.
    fmt : callable
        Value -> text (one of the formatters of :mod:`gaussaudit.report._format`).
    compared : bool
        Show the paper's value beside ours (when a reference is given).
    """

    key: str
    label: str
    fmt: Callable[[Any], str] = fmt_paper_number
    compared: bool = True


@dataclass(frozen=True)
class Row:
    """One built row: a label and one text per column.

    Attributes
    ----------
    label : str
    ours : tuple of str
        Our value per column.
    paper : tuple of str or None
        The paper's value per column (``–`` where it gives none); None when the
        row is not compared with the paper.
    notes : tuple of str or None
        A secondary text per cell (the null band of a pass fraction), ``""`` for none.
    status : tuple of str or None
        ``"pass"``, ``"fail"``, ``"na"`` or ``""`` per cell, for renderers that colour.
    """

    label: str
    ours: tuple[str, ...]
    paper: tuple[str, ...] | None = None
    notes: tuple[str, ...] | None = None
    status: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Table:
    """A neutral table: headers and rows of text, ours beside the paper's.

    Attributes
    ----------
    title : str
    corner : str
        Heading of the label column.
    columns : tuple of str
        Headings of the value columns.
    rows : tuple of Row
    caption : str
    """

    title: str
    corner: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    caption: str = ""

    def transposed(self, corner: str) -> Table:
        """Swap rows and columns: the row labels become the headings.

        Parameters
        ----------
        corner : str
            Heading of the new label column.

        Raises
        ------
        ValueError
            When only some rows carry the paper's values (or notes, or status).
        """
        parts = {name: _transpose([getattr(r, name) for r in self.rows]) for name in _PARTS}
        rows = tuple(
            Row(label, *(None if parts[k] is None else parts[k][j] for k in _PARTS))
            for j, label in enumerate(self.columns)
        )
        return Table(self.title, corner, tuple(r.label for r in self.rows), rows, self.caption)


_PARTS = ("ours", "paper", "notes", "status")


def _transpose(per_row: list[tuple[str, ...] | None]) -> list[tuple[str, ...]] | None:
    if all(v is None for v in per_row):
        return None
    if any(v is None for v in per_row):
        raise ValueError("cannot transpose: only some rows carry this part")
    return [tuple(col) for col in zip(*per_row, strict=True)]


def _status(value: Any, band: Sequence[float] | None, spec: RowSpec) -> str:
    if isinstance(value, str):
        return "na"
    if spec.fmt is fmt_verdict:
        return "na" if value is None else ("pass" if value else "fail")
    if band and band[0] is not None and value is not None and value < band[0]:
        return "fail"
    return ""


def _cell(column: Mapping[str, Any] | None, spec: RowSpec) -> tuple[str, str, str]:
    """Text, note and status of one of our cells."""
    if not column or "skipped" in column:
        return "skipped", "", "na"
    value = column.get(spec.key)
    band = (column.get("bands") or {}).get(spec.key)
    return spec.fmt(value), _band_note(band), _status(value, band, spec)


def build_table(
    columns: Mapping[str, Mapping[str, Any] | None],
    rows: Sequence[RowSpec],
    *,
    paper: Mapping[str, Mapping[str, Any] | None] | None = None,
    title: str = "",
    corner: str = "metric",
    caption: str = "",
) -> Table:
    """Build a paper-style table: one column per metric dict, one row per spec.

    Parameters
    ----------
    columns : mapping
        Column heading -> metric dict (None or ``{"skipped": reason}``: every
        cell reads ``skipped``).
    rows : sequence of RowSpec
    paper : mapping, optional
        Column heading -> the paper's metric dict (None where the paper has no
        such column). Without it no row is compared.
    title, corner, caption : str

    Returns
    -------
    Table

    Examples
    --------
    >>> t = build_table({"a": {"ad_mean": 0.39}}, [RowSpec("ad_mean", "AD")],
    ...                 paper={"a": {"ad_mean": 0.38}})
    >>> t.rows[0].ours, t.rows[0].paper
    (('0.39',), ('0.38',))
    """
    built = []
    for spec in rows:
        cells = [_cell(columns[c], spec) for c in columns]
        theirs = None
        if paper is not None and spec.compared:
            refs = [paper.get(c) for c in columns]
            theirs = tuple(spec.fmt(r[spec.key]) if r and spec.key in r else DASH for r in refs)
        notes = tuple(c[1] for c in cells)
        status = tuple(c[2] for c in cells)
        built.append(
            Row(
                spec.label,
                tuple(c[0] for c in cells),
                theirs,
                notes if any(notes) else None,
                status if any(status) else None,
            )
        )
    return Table(title, corner, tuple(columns), tuple(built), caption)
