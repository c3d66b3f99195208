"""Engines: where the blocks of a streamed audit are computed and merged.

Every statistic of the battery is computed from per-block partial results
that merge exactly and then finalise (:mod:`.partials`), so an engine only
decides where blocks come from and where they are computed. The NumPy engine
(:mod:`.numpy_engine`) reads a :class:`~.source.BlockSource` block by block on
threads; its peak memory is bounded by the block sizes, not by the rows.

Modules: :mod:`.source` (block sources), :mod:`.partials` (mergeable partial
results and their finalisers), :mod:`.passes` (scan, moment, column-block and
projection passes), :mod:`.streamed` (Gram-tile Mardia/Henze–Zirkler and
Epps–Pulley over all rows), :mod:`.numpy_engine` (:func:`audit_stream`),
:mod:`.stream_views` (the normalised and whitened views as block sources) and
:mod:`.finish` (the subsample steps: calibration, departure, sphere, diagnosis).

The engine registry
-------------------
:data:`ENGINES` maps an engine name (``AuditConfig.engine``) to the dotted path
of its audit function; :func:`get_engine` imports it only when asked for.
Every engine function has the signature of
:func:`.numpy_engine.audit_stream`, which is stable::

    def audit_stream_<engine>(
        source,                    # BlockSource, array_like or .npy path
        config=None,               # AuditConfig (None: AuditConfig())
        *,
        block_rows=None,           # rows per block of the row passes (None: from memory_limit)
        col_block=None,            # columns per float64 block of the sorted tests
        memory_limit=DEFAULT_MEMORY_LIMIT,  # bytes the engine's buffers may use
        workers=None,              # threads / workers computing blocks
        keep_norms=True,           # keep the row norms (8 bytes per row) for plots
        progress=None,             # progress(label, done, total)
        **overrides,               # AuditConfig fields to override
    ) -> AuditResult               # matrix=None; ``execution`` says what was done

An engine may accept more keyword arguments of its own (e.g. ``scheduler``
for Dask, ``device`` for torch; the numpy engine's ``subsample_steps``) after
these. The result's ``execution`` dict should name the engine and say
``streamed``, ``rows_audited`` and ``block_rows``; :func:`gaussaudit.workflows.audit_file`
adds ``memory_limit`` and the report's ``input.engine``. ``memory_limit`` is
given in bytes (``AuditConfig.memory_limit_bytes()``, capped at 512 MiB of
working memory by ``audit_file``). Third-party engines are added
with :func:`register_engine`.

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
from collections.abc import Callable
from typing import Any

from ...errors import MissingExtraError, UnknownNameError

#: Engine name -> ``"module:function"`` of its audit function (see the module docstring).
ENGINES: dict[str, str] = {
    "numpy": "gaussaudit.stats.engines.numpy_engine:audit_stream",
    "dask": "gaussaudit.backends.dask_engine:audit_stream_dask",
    "torch": "gaussaudit.backends.torch_engine:audit_stream_torch",
}
#: The package each built-in engine needs, and the extra that installs it.
_ENGINE_EXTRAS = {"dask": ("dask", "dask"), "torch": ("torch", "torch")}


def register_engine(name: str, target: str) -> None:
    """Register an engine: ``target`` is ``"module:function"`` (``audit_stream``'s signature).

    Examples
    --------
    >>> register_engine("numpy", "gaussaudit.stats.engines.numpy_engine:audit_stream")
    """
    if ":" not in target:
        raise ValueError(f"target must be 'module:function', got {target!r}")
    ENGINES[name] = target


def get_engine(name: str) -> Callable[..., Any]:
    """Return the audit function of the engine ``name``, importing it now.

    Raises
    ------
    UnknownNameError
        No engine of that name is registered.
    MissingExtraError
        The engine's module or the package it needs is not installed (the
        message names the extra to install).

    Examples
    --------
    >>> get_engine("numpy").__name__
    'audit_stream'
    """
    if name not in ENGINES:
        raise UnknownNameError("engine", name, tuple(ENGINES))
    module_name, func_name = ENGINES[name].split(":", 1)
    package, extra = _ENGINE_EXTRAS.get(name, (name, name))
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        missing = err.name or ""
        if module_name.startswith("gaussaudit.") and missing != module_name:
            # the engine's own dependency is missing (e.g. dask, torch)
            raise MissingExtraError(missing.split(".")[0] or package, extra,
                                    f"the {name} engine") from err  # fmt: skip
        raise MissingExtraError(package, extra, f"the {name} engine") from err
    try:
        return getattr(module, func_name)
    except AttributeError:
        raise MissingExtraError(package, extra, f"the {name} engine") from None


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

__all__ = sorted([*_LAZY, "ENGINES", "get_engine", "register_engine"])


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
