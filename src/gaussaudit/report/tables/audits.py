"""Tables of our own audits: several reports side by side, and a training run's epochs.

- :func:`side_by_side_table`, :func:`print_side_by_side` (``gaussaudit demo``:
  several report models, one column each);
- :func:`history_table`, :func:`print_history` (``gaussaudit train synthetic``:
  one row per audited epoch).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...stats.univariate import AD_THRESHOLD
from .._format import fmt_flag, fmt_number, fmt_percent, fmt_verdict
from .model import RowSpec, Table, build_table
from .render import _wide_console, rich_table

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

__all__ = [
    "HISTORY_SPECS",
    "history_table",
    "print_history",
    "print_side_by_side",
    "side_by_side_rows",
    "side_by_side_table",
    "view_metrics",
]


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
