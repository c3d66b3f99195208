"""Helpers the Table 1 and Table 2 reruns share: column parsing, JSON numbers, audit reads."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import UnknownNameError, UsageError

__all__ = [
    "PAPER_METRICS",
    "audit_metrics",
    "epoch_metrics",
    "json_number",
    "parse_columns",
    "progress_console",
]

#: The paper's six metrics, in the order every column lists them.
PAPER_METRICS = (
    "cv",
    "ad_mean",
    "ad_pass_fraction",
    "dp_mean_pvalue",
    "dp_pass_fraction",
    "gaussian",
)


def parse_columns(only: str | Sequence[str] | None, choices: Sequence[str]) -> list[str]:
    """Parse ``"laplace,gmm"`` (or a list) into known names, in canonical order.

    Parameters
    ----------
    only : str, sequence of str or None
        Names to keep; None or ``"all"`` keeps every choice.
    choices : sequence of str

    Returns
    -------
    list of str

    Raises
    ------
    UnknownNameError
        For a name not in ``choices``.

    Examples
    --------
    >>> parse_columns("gmm, laplace", ("laplace", "gmm", "binary_e0"))
    ['laplace', 'gmm']
    """
    if only is None:
        return list(choices)
    items = [t.strip() for t in only.split(",")] if isinstance(only, str) else list(only)
    items = [t for t in items if t]
    if items == ["all"]:
        return list(choices)
    for item in items:
        if item not in choices:
            raise UnknownNameError("column", item, (*choices, "all"))
    if not items:
        raise UsageError("no column selected")
    return [c for c in choices if c in items]


def json_number(value: Any) -> Any:
    """Return a JSON-ready value: numpy scalars as Python numbers, NaN and inf as None.

    Examples
    --------
    >>> json_number(np.float32(0.5)), json_number(float("nan")), json_number(np.int64(3))
    (0.5, None, 3)
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    try:
        f = float(value)
    except (TypeError, ValueError):
        return value
    return f if math.isfinite(f) else None


def audit_metrics(record: Mapping[str, Any]) -> dict[str, Any]:
    """Return the paper's metrics from one per-epoch audit record of the trainer.

    This is the only place the reruns read the keys of
    :func:`gaussaudit.train.audit.audit_matrix` (``ad_mean``, ``ad_pass``,
    ``dp_mean_p``, ``dp_pass``, ...): when those keys change, change them here.

    Parameters
    ----------
    record : mapping
        One audited layer of the trainer's per-epoch record, or what
        ``audit_matrix`` returned.

    Returns
    -------
    dict
        ``cv``, ``ad_mean``, ``ad_pass_fraction``, ``dp_mean_pvalue``,
        ``dp_pass_fraction``, ``gaussian``, ``n``, ``d``, ``mean_norm`` and
        ``effective_dimension`` (JSON-ready numbers; None where missing).

    Examples
    --------
    >>> audit_metrics({"ad_mean": 0.4, "ad_pass": 0.95, "gaussian": True})["ad_pass_fraction"]
    0.95
    """
    return {
        "cv": json_number(record.get("cv")),
        "ad_mean": json_number(record.get("ad_mean")),
        "ad_pass_fraction": json_number(record.get("ad_pass")),
        "dp_mean_pvalue": json_number(record.get("dp_mean_p")),
        "dp_pass_fraction": json_number(record.get("dp_pass")),
        "gaussian": record.get("gaussian"),
        "n": json_number(record.get("n")),
        "d": json_number(record.get("d")),
        "mean_norm": json_number(record.get("mean_norm")),
        "effective_dimension": json_number(record.get("effective_dimension")),
    }


def epoch_metrics(metrics: Any) -> dict[str, Any]:
    """Return the paper's metrics from one audited epoch of a synthetic run.

    The only place the reruns read :class:`gaussaudit.train.synthetic.EpochMetrics`
    (``ad_mean``, ``ad_pass_fraction``, ``dp_mean_pvalue``, ...).

    Parameters
    ----------
    metrics : EpochMetrics

    Returns
    -------
    dict
        ``cv``, ``ad_mean``, ``ad_pass_fraction``, ``dp_mean_pvalue``,
        ``dp_pass_fraction``, ``gaussian``, ``n``, ``d``, ``mean_norm``,
        ``effective_dimension``, ``alignment``, ``uniformity_mean``,
        ``uniformity_std``, ``train_loss`` and ``epoch`` (JSON-ready).
    """
    m = metrics
    return {
        "cv": json_number(m.cv),
        "ad_mean": json_number(m.ad_mean),
        "ad_pass_fraction": json_number(m.ad_pass_fraction),
        "dp_mean_pvalue": json_number(m.dp_mean_pvalue),
        "dp_pass_fraction": json_number(m.dp_pass_fraction),
        "gaussian": m.gaussian,
        "n": json_number(m.n),
        "d": json_number(m.d),
        "mean_norm": json_number(m.mean_norm),
        "effective_dimension": json_number(m.effective_dimension),
        "alignment": json_number(m.alignment),
        "uniformity_mean": json_number(m.uniformity_mean),
        "uniformity_std": json_number(m.uniformity_std),
        "train_loss": json_number(m.train_loss),
        "epoch": json_number(m.epoch),
    }


def progress_console(progress: bool):
    """Return a rich console on stderr, silent unless ``progress``."""
    from rich.console import Console

    return Console(stderr=True, quiet=not progress)
