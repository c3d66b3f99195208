"""Engines: where the blocks of a streamed audit are computed and merged.

Every statistic of the battery is computed from per-block partial results
that merge exactly and then finalise (:mod:`.partials`), so an engine only
decides where blocks come from and where they are computed. The NumPy engine
(:mod:`.numpy_engine`) reads a :class:`~.source.BlockSource` block by block on
threads; its peak memory is bounded by the block sizes, not by the rows.

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
    "epps_pulley_stream": "numpy_engine",
    "mardia_henze_zirkler_stream": "numpy_engine",
    "column_moments": "numpy_engine",
    "scan": "numpy_engine",
    "DEFAULT_MEMORY_LIMIT": "numpy_engine",
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
