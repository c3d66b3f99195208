"""Paper-style tables: one builder, a neutral table model, and its renderers.

Every table that sets audit metrics side by side (the paper's Table 1 layout:
CV, AD mean, AD pass, DP mean p, DP pass, "Gaussian?" per column) is built by
:func:`build_table`: columns of metric dicts in, a :class:`Table` of strings
out, with the paper's values beside ours where a reference is given. The
renderers only lay the model out: :func:`rich_table` for the terminal,
:func:`markdown_table` for Markdown. On top sit the tables the commands print:

- :func:`table1_table`, :func:`table1_markdown`, :func:`print_table1`
  (``gaussaudit reproduce table1``; ``table1.md``);
- :func:`table2_table`, :func:`print_table2` (``gaussaudit reproduce table2``);
- :func:`side_by_side_table`, :func:`print_side_by_side` (``gaussaudit demo``:
  several report models, one column each);
- :func:`history_table`, :func:`print_history` (``gaussaudit train synthetic``:
  one row per audited epoch).

A metric dict uses the keys of :data:`gaussaudit.paper.METRICS` (``cv``,
``ad_mean``, ``ad_pass_fraction``, ``dp_mean_pvalue``, ``dp_pass_fraction``,
``gaussian``) plus any others a row spec names; ``{"skipped": reason}`` marks a
column that did not run, and ``bands`` (key -> ``(low, high)``) the 99 % null
band of a pass fraction. A string value (``"skipped"``) is printed as is.

The number formatters (:func:`fmt_number`, :func:`fmt_paper_number`,
:func:`fmt_percent`, :func:`fmt_count`, :func:`fmt_flag`, :func:`fmt_verdict`)
are the only ones these tables use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..stats.univariate import AD_THRESHOLD

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

__all__ = [
    "HISTORY_SPECS",
    "TABLE1_SPECS",
    "TABLE2_SPECS",
    "Row",
    "RowSpec",
    "Table",
    "build_table",
    "fmt_count",
    "fmt_flag",
    "fmt_number",
    "fmt_paper_number",
    "fmt_percent",
    "fmt_verdict",
    "history_table",
    "markdown_table",
    "print_history",
    "print_side_by_side",
    "print_table1",
    "print_table2",
    "rich_table",
    "side_by_side_rows",
    "side_by_side_table",
    "table1_markdown",
    "table1_table",
    "table2_table",
    "view_metrics",
]

DASH = "–"

# ------------------------------------------------------------------------- formatters


def fmt_number(value: Any, digits: int = 3) -> str:
    """Format a number with ``digits`` significant digits, scientific when tiny or huge.

    Parameters
    ----------
    value : float, str or None
        None prints as ``–``; a string is returned unchanged.
    digits : int

    Returns
    -------
    str

    Examples
    --------
    >>> fmt_number(0.39712), fmt_number(5.8e-35), fmt_number(None)
    ('0.397', '5.80e-35', '–')
    """
    if value is None or isinstance(value, str):
        return DASH if value is None else value
    x = float(value)
    if x != 0 and (abs(x) < 10 ** (-digits) or abs(x) >= 1e5):
        return f"{x:.2e}"
    return f"{x:.{digits}g}"


def fmt_paper_number(value: Any, digits: int = 3) -> str:
    """Format a number as the paper's tables print it.

    At most ``digits`` decimals below 1 (trailing zeros dropped), ``digits``
    significant digits from 1 on, one-digit scientific below ``10**-(digits-1)``.

    Examples
    --------
    >>> fmt_paper_number(0.0701), fmt_paper_number(0.004), fmt_paper_number(80.12)
    ('0.07', '4.0e-03', '80.1')
    """
    if value is None or isinstance(value, str):
        return DASH if value is None else value
    if isinstance(value, bool):
        return fmt_flag(value)
    x = float(value)
    if x != 0 and abs(x) < 10 ** -(digits - 1):
        return f"{x:.1e}"
    return f"{x:.{digits}g}" if abs(x) >= 1 else f"{x:.{digits}f}".rstrip("0").rstrip(".")


def fmt_percent(value: Any) -> str:
    """Format a fraction as a percentage with one decimal.

    Examples
    --------
    >>> fmt_percent(0.9375), fmt_percent(None)
    ('93.8%', '–')
    """
    if value is None or isinstance(value, str):
        return DASH if value is None else value
    return f"{100 * float(value):.1f}%"


def fmt_count(value: Any) -> str:
    """Format a whole number (epochs, n, d).

    Examples
    --------
    >>> fmt_count(5000.0), fmt_count(None)
    ('5000', '–')
    """
    if value is None or isinstance(value, str):
        return DASH if value is None else value
    return str(int(value))


def fmt_flag(value: Any) -> str:
    """``✓``, ``×`` or ``–`` (undecided) for a yes/no verdict.

    Examples
    --------
    >>> fmt_flag(True), fmt_flag(False), fmt_flag(None)
    ('✓', '×', '–')
    """
    if value is None or isinstance(value, str):
        return DASH if value is None else value
    return "✓" if value else "×"


def fmt_verdict(value: Any) -> str:
    """``✓ yes``, ``× no`` or ``n/a``: a verdict in words.

    Examples
    --------
    >>> fmt_verdict(True), fmt_verdict(None)
    ('✓ yes', 'n/a')
    """
    if isinstance(value, str):
        return value
    return "n/a" if value is None else ("✓ yes" if value else "× no")


def _fmt_band(band: Sequence[float] | None) -> str:
    if not band or band[0] is None:
        return ""
    return f"[{100 * band[0]:.0f}–{100 * band[1]:.0f}]"


# ------------------------------------------------------------------------------ model


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
        Value -> text (one of this module's formatters).
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
    return spec.fmt(value), _fmt_band(band), _status(value, band, spec)


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


# -------------------------------------------------------------------------- renderers

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


# -------------------------------------------------------------------------- Table 1

#: The paper's Table 1 rows, compared with the paper's values.
TABLE1_SPECS = (
    RowSpec("cv", "CV"),
    RowSpec("ad_mean", f"AD avg (< {AD_THRESHOLD})"),
    RowSpec("ad_pass_fraction", "AD % normal", fmt_percent),
    RowSpec("dp_mean_pvalue", "DP avg p (> 0.05)"),
    RowSpec("dp_pass_fraction", "DP % normal", fmt_percent),
    RowSpec("gaussian", "Gaussian?", fmt_flag),
    RowSpec("alignment", "alignment (pos. cos)", compared=False),
    RowSpec("uniformity_std", "neg. cos std", compared=False),
    RowSpec("epochs", "epochs", fmt_count),
    RowSpec("n", "n audited", fmt_count, compared=False),
    RowSpec("d", "d", fmt_count, compared=False),
)


def table1_table(result: Mapping[str, Any]) -> Table:
    """Build the model of reproduced Table 1 beside the paper's.

    Parameters
    ----------
    result : dict
        What :func:`gaussaudit.paper.reproduce_table1` returned (or ``table1.json``).

    Returns
    -------
    Table
    """
    cols = list(result["columns_requested"])
    ours = {c: result["columns"].get(c) for c in cols}
    return build_table(
        ours,
        TABLE1_SPECS,
        paper={c: result["paper"].get(c) for c in cols},
        title=f"Table 1, reproduced (preset {result['preset']['name']}); "
        "dim rows: the paper's values",
    )


def table1_markdown(result: Mapping[str, Any]) -> str:
    """Table 1 as Markdown: each reproduced value with the paper's in parentheses.

    Parameters
    ----------
    result : dict
        What :func:`gaussaudit.paper.reproduce_table1` returned (or ``table1.json``).

    Returns
    -------
    str
    """
    table = table1_table(result)
    lines = [
        f"# Table 1 reproduced (preset {result['preset']['name']})",
        "",
        "Each cell: reproduced value (paper's value); `–` where the paper gives none. "
        "Unnormalised embeddings.",
        "",
        *markdown_table(table),
        "",
    ]
    for c in table.columns:
        ours = result["columns"].get(c, {})
        if "skipped" in ours:
            lines.append(f"- **{c}**: skipped: {ours['skipped']}")
        elif ours:
            lines.append(f"- **{c}**: {ours.get('dataset')}; {ours.get('layer')}")
    if result["preset"]["reductions"]:
        lines += ["", "Reductions of this preset:", ""]
        lines += [f"- {r}" for r in result["preset"]["reductions"]]
    lines += ["", f"Wall time: {result['seconds']:.0f} s.", ""]
    return "\n".join(lines)


def _wide_console(needed: int) -> Console:
    from rich.console import Console

    return Console(width=max(Console().width, needed))


def print_table1(result: Mapping[str, Any], console: Console | None = None) -> None:
    """Print reproduced Table 1 with the paper's values in dim rows, then what was skipped.

    Parameters
    ----------
    result : dict
        What :func:`gaussaudit.paper.reproduce_table1` returned.
    console : rich.console.Console, optional
        Default: stdout, wide enough for every column header even when piped.
    """
    table = table1_table(result)
    if console is None:
        console = _wide_console(26 + sum(max(len(c), 7) + 3 for c in table.columns))
    console.print(rich_table(table, paper="below"))
    for c in table.columns:
        ours = result["columns"].get(c, {})
        if "skipped" in ours:
            console.print(f"[yellow]{c}[/yellow]: skipped: {ours['skipped']}")
    cnn = result["settings"].get("cnn") or {}
    if cnn.get("dataset_why"):
        console.print(f"image pair dataset: {cnn['dataset_why']}")
    for r in result["preset"]["reductions"]:
        console.print(f"[dim]reduced: {r}[/dim]")
    console.print(f"wall time {result['seconds']:.0f} s")


# -------------------------------------------------------------------------- Table 2

#: Table 2's cells (no CV: the paper's Table 2 has none).
TABLE2_SPECS = (
    RowSpec("ad_mean", "AD avg"),
    RowSpec("ad_pass_fraction", "AD % normal", fmt_percent),
    RowSpec("dp_mean_pvalue", "DP avg p"),
    RowSpec("dp_pass_fraction", "DP % normal", fmt_percent),
    RowSpec("gaussian", "Gaussian?", fmt_flag),
)
_VIEWS2 = ("unnormalized", "normalized")


def _join_views(tables: Sequence[Table]) -> Table:
    """Merge same-shaped tables cell by cell as ``a / b``."""

    def join(parts: Iterable[tuple[str, ...] | None]) -> tuple[str, ...] | None:
        parts = list(parts)
        return None if parts[0] is None else tuple(" / ".join(c) for c in zip(*parts, strict=True))

    first = tables[0]
    rows = tuple(
        Row(row.label, join(t.rows[i].ours for t in tables), join(t.rows[i].paper for t in tables))
        for i, row in enumerate(first.rows)
    )
    return Table(first.title, first.corner, first.columns, rows, first.caption)


def table2_table(result: Mapping[str, Any]) -> Table:
    """Build the model of the Table 2 rows that ran: ``unnormalized / normalized`` cells.

    Parameters
    ----------
    result : dict
        What :func:`gaussaudit.paper.reproduce_table2` returned.

    Returns
    -------
    Table
    """
    keys = list(result["ran"])
    per_view = [
        build_table(
            {k: result["rows"][k][view] for k in keys},
            TABLE2_SPECS,
            paper={k: result["paper"][k][view] for k in keys},
        )
        for view in _VIEWS2
    ]
    joined = _join_views(per_view).transposed("row")
    return Table(
        "Table 2, reproduced: ours (paper); unnormalized / normalized",
        joined.corner,
        joined.columns,
        joined.rows,
    )


def print_table2(result: Mapping[str, Any], console: Console | None = None) -> None:
    """Print what ran of Table 2 beside the paper's numbers, and what was skipped.

    Parameters
    ----------
    result : dict
        What :func:`gaussaudit.paper.reproduce_table2` returned.
    console : rich.console.Console, optional
    """
    from rich.console import Console

    console = console or Console()
    if result["ran"]:
        console.print(rich_table(table2_table(result), paper="inline", label_style=""))
    else:
        console.print("Table 2: no row could run here.")
    for key, why in result["skipped"].items():
        console.print(f"[yellow]{key}[/yellow]: skipped: {why}")


# -------------------------------------------------------------------- side by side


def view_metrics(view: Mapping[str, Any]) -> dict[str, Any]:
    """Read the paper-table metrics of one view of a report model (the JSON contract's names).

    Parameters
    ----------
    view : dict
        ``report["views"][name]``.

    Returns
    -------
    dict
        ``shape``, ``cv``, ``ad_mean``, ``ad_pass_fraction``, ``dp_mean_pvalue``,
        ``dp_pass_fraction``, ``gaussian`` (the paper rule), ``calibrated`` and
        the null ``bands`` of the pass fractions; a skipped test's pass fraction
        reads ``"skipped"``.
    """
    coords = view.get("coordinates") or {}
    out: dict[str, Any] = {
        "shape": f"{view['n']} × {view['d']}",
        "cv": (view.get("norms") or {}).get("cv"),
        "gaussian": view["verdict"]["paper_rule"],
        "calibrated": view["verdict"]["calibrated"],
        "bands": {},
    }
    for test, mean_key, key, prefix in (
        ("anderson_darling", "mean", "ad_mean", "ad"),
        ("dagostino_pearson", "mean_pvalue", "dp_mean_pvalue", "dp"),
    ):
        entry = coords.get(test) or {}
        out[key] = entry.get(mean_key)
        frac = f"{prefix}_pass_fraction"
        out[frac] = "skipped" if "skipped" in entry else entry.get("pass_fraction")
        band = entry.get("null_band") or {}
        out["bands"][frac] = (band.get("low"), band.get("high"))
    return out


def side_by_side_rows(threshold: float, alpha: float) -> tuple[RowSpec, ...]:
    """Return the rows of the side-by-side audit table at a threshold and level."""
    return (
        RowSpec("shape", "n × d", str),
        RowSpec("cv", "CV of norms", fmt_number),
        RowSpec("ad_mean", f"AD avg (< {threshold})", fmt_number),
        RowSpec("ad_pass_fraction", "AD % normal", fmt_percent),
        RowSpec("dp_mean_pvalue", f"DP avg p (> {alpha})", fmt_number),
        RowSpec("dp_pass_fraction", "DP % normal", fmt_percent),
        RowSpec("gaussian", "Gaussian? (paper rule)", fmt_verdict),
        RowSpec("calibrated", "Gaussian? (calibrated)", fmt_verdict),
    )


def side_by_side_table(reports: Mapping[str, Mapping[str, Any]], *, view: str = "raw") -> Table:
    """One view of several report models, one column each (no paper values).

    Parameters
    ----------
    reports : mapping
        Column label -> report model.
    view : str

    Returns
    -------
    Table
    """
    config = next(iter(reports.values()))["config"]
    return build_table(
        {label: view_metrics(r["views"][view]) for label, r in reports.items()},
        side_by_side_rows(config["ad_threshold"], config["alpha"]),
        title=f"Gaussianity audit ({view} view)",
        caption="pass fractions: [99% null band]",
    )


def print_side_by_side(
    reports: Mapping[str, Mapping[str, Any]], console: Console, *, view: str = "raw"
) -> None:
    """Print :func:`side_by_side_table` (``gaussaudit demo``).

    Parameters
    ----------
    reports : mapping
        Column label -> report model.
    console : rich.console.Console
    view : str
    """
    from rich import box

    console.print(rich_table(side_by_side_table(reports, view=view), box=box.SIMPLE_HEAVY))


# ------------------------------------------------------------------------- history

#: The per-epoch audit table of a synthetic run (one row per audited epoch).
HISTORY_SPECS = (
    RowSpec("cv", "CV"),
    RowSpec("ad_mean", "AD"),
    RowSpec("ad_pass_fraction", "AD pass", fmt_percent),
    RowSpec("dp_mean_pvalue", "DP p"),
    RowSpec("dp_pass_fraction", "DP pass", fmt_percent),
    RowSpec("gaussian", "G", fmt_flag),
    RowSpec("alignment", "align"),
    RowSpec("uniformity_std", "neg sd"),
    RowSpec("train_loss", "loss"),
)


def history_table(epochs: Mapping[str, Mapping[str, Any]], *, kind: str, seconds: float) -> Table:
    """Per-epoch audits of a synthetic run, one row per audited epoch.

    Parameters
    ----------
    epochs : mapping
        Epoch (as text) -> metric dict (``cv``, ``ad_mean``, ...,
        ``alignment``, ``uniformity_std``, ``train_loss``), e.g.
        :func:`gaussaudit.paper.epoch_metrics` of each ``run.history`` entry.
    kind : str
        ``laplace``, ``gmm`` or ``binary``.
    seconds : float
        Wall time of the run.

    Returns
    -------
    Table

    Examples
    --------
    >>> t = history_table({"0": {"ad_mean": 0.39, "gaussian": True}}, kind="gmm", seconds=3)
    >>> t.columns[:3], t.rows[0].ours[:3]
    (('CV', 'AD', 'AD pass'), ('–', '0.39', '–'))
    """
    table = build_table(epochs, HISTORY_SPECS).transposed("epoch")
    return Table(
        f"synthetic {kind}: unnormalised test embeddings ({seconds:.0f} s)",
        table.corner,
        table.columns,
        table.rows,
        f"AD: mean A^2 (pass < {AD_THRESHOLD}); DP: mean p (pass > 0.05); G: paper rule; "
        "align: positive-pair cosine; neg sd: std of negative-pair cosines",
    )


def print_history(
    epochs: Mapping[str, Mapping[str, Any]],
    *,
    kind: str,
    seconds: float,
    console: Console | None = None,
) -> None:
    """Print :func:`history_table` (``gaussaudit train synthetic``).

    Parameters
    ----------
    epochs : mapping
        Epoch (as text) -> metric dict.
    kind : str
    seconds : float
    console : rich.console.Console, optional
        Default: stdout, at least 100 columns wide.
    """
    console = console or _wide_console(100)
    table = history_table(epochs, kind=kind, seconds=seconds)
    console.print(rich_table(table, label_style="", label_justify="right", no_wrap=True))
