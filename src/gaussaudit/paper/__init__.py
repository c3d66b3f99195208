"""The paper (Betser et al., ICLR 2026): its reference numbers, their reruns, and the demo.

- :mod:`~gaussaudit.paper.reference`: Tables 1 and 2 as data (:func:`table1`,
  :func:`table2`, :data:`TABLE1`, ...), and the paper's rule's thresholds.
- :mod:`~gaussaudit.paper.presets`: what the Table 1 rerun runs (:data:`PRESETS`).
- :mod:`~gaussaudit.paper.table1_rerun`: :func:`reproduce_table1` (synthetic
  columns and the supervised / contrastive pair).
- :mod:`~gaussaudit.paper.table2_rerun`: :func:`reproduce_table2` (pretrained rows).
- :mod:`~gaussaudit.paper.fig4`: :func:`reproduce_fig4` (Fig. 4 training dynamics,
  contrastive against supervised), read in words by :mod:`~gaussaudit.paper.reading`.
- :mod:`~gaussaudit.paper.demo`: :func:`run_demo`, the offline end-to-end example.

These return data; :mod:`gaussaudit.report.tables` renders it.

Examples
--------
>>> from gaussaudit import paper
>>> paper.table1()["contrastive"]["gaussian"], paper.TABLE2_ROWS[0]
(True, 'resnet34_coco')
"""

from __future__ import annotations

from ._common import audit_metrics, epoch_metrics, parse_columns
from .demo import DemoResult, make_demo_embeddings, run_demo, run_synthetic_demo, run_trained_demo
from .fig4 import reproduce_fig4
from .presets import CNN_COLUMNS, PRESETS, SYNTHETIC_COLUMNS, TABLE1_COLUMNS
from .reference import (
    AD_THRESHOLD,
    CITATION,
    DP_ALPHA,
    FIG4,
    FIG6_CV,
    INFERRED,
    METRICS,
    NULL_EXPECTATIONS,
    TABLE1,
    TABLE1_NOTES,
    TABLE2,
    TABLE2_NOTES,
    table1,
    table2,
)
from .table1_rerun import reproduce_table1
from .table2_rerun import TABLE2_ROWS, reproduce_table2

__all__ = [
    "AD_THRESHOLD",
    "CITATION",
    "CNN_COLUMNS",
    "DP_ALPHA",
    "FIG4",
    "FIG6_CV",
    "INFERRED",
    "METRICS",
    "NULL_EXPECTATIONS",
    "PRESETS",
    "SYNTHETIC_COLUMNS",
    "TABLE1",
    "TABLE1_COLUMNS",
    "TABLE1_NOTES",
    "TABLE2",
    "TABLE2_NOTES",
    "TABLE2_ROWS",
    "DemoResult",
    "audit_metrics",
    "epoch_metrics",
    "make_demo_embeddings",
    "parse_columns",
    "reproduce_fig4",
    "reproduce_table1",
    "reproduce_table2",
    "run_demo",
    "run_synthetic_demo",
    "run_trained_demo",
    "table1",
    "table2",
]
