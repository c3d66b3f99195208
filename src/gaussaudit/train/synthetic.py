"""Old import path of :mod:`gaussaudit.train.synthetic_runs` (kept until its callers move).

The synthetic-input trainer lives in :mod:`gaussaudit.train.synthetic_runs`; the
name ``synthetic`` is the synthetic *datasets* module's
(:mod:`gaussaudit.datasets.synthetic`). Import from ``synthetic_runs``.
"""

from __future__ import annotations

from .synthetic_runs import (
    CHOICES,
    KINDS,
    PAPER_EPOCHS,
    EpochMetrics,
    SyntheticRun,
    eval_schedule,
    train_synthetic,
)

__all__ = [
    "CHOICES",
    "KINDS",
    "PAPER_EPOCHS",
    "EpochMetrics",
    "SyntheticRun",
    "eval_schedule",
    "train_synthetic",
]
