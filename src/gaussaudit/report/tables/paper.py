"""The paper's tables, reproduced: Table 1 and Table 2 beside the paper's values.

- :func:`table1_table`, :func:`table1_markdown`, :func:`print_table1`
  (``gaussaudit reproduce table1``; ``table1.md``);
- :func:`table2_table`, :func:`print_table2` (``gaussaudit reproduce table2``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ...stats.univariate import AD_THRESHOLD
from .._format import fmt_count, fmt_flag, fmt_percent
from .model import Row, RowSpec, Table, build_table
from .render import _wide_console, markdown_table, rich_table

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

__all__ = [
    "TABLE1_SPECS",
    "TABLE2_SPECS",
    "print_table1",
    "print_table2",
    "table1_markdown",
    "table1_table",
    "table2_table",
]

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
