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
are the only ones these tables use; they live in
:mod:`gaussaudit.report._format` with the other renderers' formatters and are
re-exported here.

Modules: :mod:`~gaussaudit.report.tables.model` (the model and its builder),
:mod:`~gaussaudit.report.tables.render` (rich and Markdown),
:mod:`~gaussaudit.report.tables.paper` (Tables 1 and 2) and
:mod:`~gaussaudit.report.tables.audits` (side by side, training history).
"""

from .._format import (
    fmt_count,
    fmt_flag,
    fmt_number,
    fmt_paper_number,
    fmt_percent,
    fmt_verdict,
)
from .audits import (
    HISTORY_SPECS,
    history_table,
    print_history,
    print_side_by_side,
    side_by_side_rows,
    side_by_side_table,
    view_metrics,
)
from .model import Row, RowSpec, Table, build_table
from .paper import (
    TABLE1_SPECS,
    TABLE2_SPECS,
    print_table1,
    print_table2,
    table1_markdown,
    table1_table,
    table2_table,
)
from .render import markdown_table, rich_table

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
