"""Results of the synthetic experiments: one :class:`EpochMetrics` per audited epoch.

The audit of each epoch is kept under the JSON report's names (``norms``,
``coordinates``, ``verdict``; :func:`gaussaudit.train.audit.audit_matrix`); the
paper's table cells (``ad_mean``, ``dp_pass_fraction``, ...) are read-only
properties computed from them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UsageError

__all__ = ["EpochMetrics", "SyntheticRun"]


@dataclass(frozen=True)
class EpochMetrics:
    """The audit of one evaluation epoch (epoch 0 is the random initialisation).

    Attributes
    ----------
    epoch : int
    n, d : int
        Test vectors audited and embedding dimension.
    norms, coordinates, verdict : dict
        The per-epoch audit of the raw test embeddings, in the JSON report's
        names (:func:`gaussaudit.train.audit.audit_matrix`):
        ``norms["cv"]``, ``coordinates["anderson_darling"]["mean"]``,
        ``coordinates["dagostino_pearson"]["mean_pvalue"]``, ...,
        ``verdict["paper_rule"]``. Empty (``{}``) when the audit failed.
    alignment, alignment_std : float
        Mean and std of positive-pair cosines.
    uniformity_mean, uniformity_std : float
        Mean and std of negative-pair cosines (a uniform sphere gives 0 and
        ``1/sqrt(d)``).
    train_loss : float or None
        Mean training loss of this epoch (None at epoch 0).
    seconds : float
        Wall time since the start of the run.
    notes : tuple of str

    Notes
    -----
    The read-only properties ``cv``, ``mean_norm``, ``effective_dimension``,
    ``ad_mean``, ``ad_pass_fraction``, ``dp_mean_pvalue``, ``dp_pass_fraction``
    and ``gaussian`` (the paper rule) are the paper's table cells
    (:func:`gaussaudit.train.audit.paper_cells`), read from the audit.
    """

    epoch: int
    n: int
    d: int
    norms: dict
    coordinates: dict
    verdict: dict
    alignment: float
    alignment_std: float
    uniformity_mean: float
    uniformity_std: float
    train_loss: float | None
    seconds: float
    notes: tuple[str, ...] = ()

    def _cells(self) -> dict[str, Any]:
        from .audit import paper_cells

        return paper_cells(
            {"norms": self.norms, "coordinates": self.coordinates, "verdict": self.verdict}
        )

    @property
    def cv(self) -> float | None:
        """CV of the raw norms (std / mean)."""
        return self._cells()["cv"]

    @property
    def mean_norm(self) -> float | None:
        """Mean raw norm."""
        return (self.norms or {}).get("mean")

    @property
    def effective_dimension(self) -> float | None:
        """Participation ratio of the covariance spectrum."""
        return (self.norms or {}).get("effective_dimension")

    @property
    def ad_mean(self) -> float | None:
        """Mean Anderson–Darling A² over coordinates (the paper's "AD Avg.")."""
        return self._cells()["ad_mean"]

    @property
    def ad_pass_fraction(self) -> float | None:
        """Fraction of coordinates with A² below the threshold."""
        return self._cells()["ad_pass_fraction"]

    @property
    def dp_mean_pvalue(self) -> float | None:
        """Mean D'Agostino–Pearson p-value (the paper's "DP Avg.")."""
        return self._cells()["dp_mean_pvalue"]

    @property
    def dp_pass_fraction(self) -> float | None:
        """Fraction of coordinates with DP p above alpha."""
        return self._cells()["dp_pass_fraction"]

    @property
    def gaussian(self) -> bool | None:
        """The paper's rule (``verdict["paper_rule"]``)."""
        return self._cells()["gaussian"]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN and inf as None); the audit under its report names."""
        out = {k: _finite(getattr(self, k)) for k in self.__dataclass_fields__}
        out["notes"] = list(self.notes)
        return out


@dataclass(frozen=True, eq=False)
class SyntheticRun:
    """What :func:`train_synthetic` did and found.

    Attributes
    ----------
    kind : str
        ``laplace``, ``gmm`` or ``binary``.
    settings : dict
        Every setting used, stated or chosen (JSON-ready).
    history : tuple of EpochMetrics
        One entry per evaluated epoch, in order, starting at epoch 0.
    seconds : float
        Wall time of the whole run.
    log_path : Path or None
        The JSONL log, when one was written.
    encoder : torch.nn.Module or None
        The trained encoder (on the CPU).
    """

    kind: str
    settings: dict
    history: tuple[EpochMetrics, ...]
    seconds: float
    log_path: Path | None = None
    encoder: Any = field(default=None, repr=False)

    @property
    def final(self) -> EpochMetrics:
        """Metrics of the last evaluated epoch."""
        return self.history[-1]

    @property
    def epochs_evaluated(self) -> tuple[int, ...]:
        """Evaluated epochs, in order."""
        return tuple(m.epoch for m in self.history)

    def at(self, epoch: int) -> EpochMetrics:
        """Metrics of an evaluated epoch.

        Raises
        ------
        UsageError
            When ``epoch`` was not evaluated.
        """
        for m in self.history:
            if m.epoch == int(epoch):
                return m
        raise UsageError(
            f"epoch {epoch} was not evaluated (evaluated: {list(self.epochs_evaluated)})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the run (without the encoder)."""
        return {
            "kind": self.kind,
            "settings": self.settings,
            "seconds": round(self.seconds, 3),
            "log_path": str(self.log_path) if self.log_path else None,
            "history": [m.to_dict() for m in self.history],
        }


def _finite(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value
