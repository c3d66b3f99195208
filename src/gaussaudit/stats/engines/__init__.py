"""Engines: where the blocks of a streamed audit are computed and merged.

Every statistic of the battery is computed from per-block partial results
that merge exactly and then finalise (:mod:`.partials`), so an engine only
decides where blocks come from and where they are computed. The NumPy engine
(:mod:`.numpy_engine`) reads a :class:`~.source.BlockSource` block by block on
threads; its peak memory is bounded by the block sizes, not by the rows.

Modules: :mod:`.source` (block sources), :mod:`.partials` (mergeable partial
results and their finalisers), :mod:`.passes` (scan, moment, column-block and
projection passes), :mod:`.streamed` (Gram-tile Mardia/Henze–Zirkler and
Epps–Pulley over all rows), :mod:`.numpy_engine` (:func:`audit_stream`).

Examples
--------
>>> import numpy as np
>>> from gaussaudit.stats.engines import ArraySource, audit_stream
>>> x = np.random.default_rng(0).standard_normal((400, 5)).astype(np.float32)
>>> result = audit_stream(ArraySource(x), projections=8, subspaces=0, block_rows=100)
>>> result.views["raw"].n
400
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "audit_stream": "numpy_engine",
    "epps_pulley_stream": "streamed",
    "mardia_henze_zirkler_stream": "streamed",
    "column_moments": "passes",
    "scan": "passes",
    "StreamScan": "passes",
    "DEFAULT_MEMORY_LIMIT": "passes",
    "ArraySource": "source",
    "BlockSource": "source",
    "NpyFileSource": "source",
    "as_source": "source",
    "open_npy": "source",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
