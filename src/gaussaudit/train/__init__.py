"""The trainer: CIFAR-style backbones, heads, methods and a plain, audited, resumable loop.

A separate subpackage with its own extra (``gaussaudit[train]``); the statistics
core never imports it, and it never imports :mod:`gaussaudit.encoders` (the
``resnet18-simclr`` / ``resnet18-supervised`` encoders import it instead, lazily,
to read its checkpoints).

Modules, one job each: :mod:`~.config` and :mod:`~.presets` (settings),
:mod:`~.backbones`, :mod:`~.heads`, :mod:`~.mlp`, :mod:`~.models` (networks),
:mod:`~.losses`, :mod:`~.augment`, :mod:`~.methods` (SimCLR and supervised, a
table), :mod:`~.precision`, :mod:`~.seeding`, :mod:`~.data`, :mod:`~.session`
(one run's state and steps), :mod:`~.loop` (the loop), :mod:`~.runs` (run
directories), :mod:`~.checkpoint` (the checkpoint format and its integrity
record), :mod:`~.audit` (the per-epoch audit: the battery of ``gaussaudit
test``) and :mod:`~.synthetic_runs` (the paper's synthetic experiments).

The main names are importable from here (loaded on first use):
``train``, ``export_embeddings``, ``RunResult``, ``TrainConfig``,
``train_synthetic``, ``audit_matrix``, ``save_checkpoint``, ``load_checkpoint``.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "RunResult",
    "TrainConfig",
    "audit_matrix",
    "export_embeddings",
    "load_checkpoint",
    "save_checkpoint",
    "train",
    "train_synthetic",
]

_LAZY = {
    "RunResult": ".loop",
    "TrainConfig": ".config",
    "audit_matrix": ".audit",
    "export_embeddings": ".loop",
    "load_checkpoint": ".checkpoint",
    "save_checkpoint": ".checkpoint",
    "train": ".loop",
    "train_synthetic": ".synthetic_runs",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
