"""The passes of the Dask engine, built as task graphs and computed on the cluster.

Each function builds the tasks of one pass of :mod:`.numpy_engine` (scan,
column groups, projection groups, Gram tiles) over a ``dask.array`` whose
chunks the workers read themselves; the task bodies are in :mod:`.dask_tasks`.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from ..errors import (
    InvalidEmbeddingsError,
    NotApplicableError,
    ResourceUnavailableError,
)
from ..stats._validation import MIN_ROWS, MatrixCheck, _constant_from_range, nonfinite_message
from ..stats.config import AuditConfig
from ..stats.engines.passes import StreamScan, _join
from ..stats.results import Skipped
from . import dask_tasks as tasks
from .worker_sources import WorkerSource

__all__ = ["DaskEngineError"]


class DaskEngineError(ResourceUnavailableError):
    """The Dask cluster could not finish the audit (workers lost, scheduler unreachable).

    Never a partial or wrong result: the audit is abandoned. Exit code 3.
    """


def _literal(obj: Any) -> Any:
    """``obj`` as one key of the graph, shared by the tasks that take it.

    Unlike ``client.scatter``, a graph literal survives the loss of the worker
    holding it: the scheduler sends it again.
    """
    from dask import delayed

    return delayed(obj, pure=True, traverse=False)


def _delayed(obj: Any) -> Any:
    """Arrays as one Delayed each, lists element-wise; other objects as they are."""
    import dask.array as da
    from dask import delayed

    if isinstance(obj, da.Array):
        return delayed(np.asarray, pure=True)(obj)
    if isinstance(obj, list):
        return [_delayed(o) for o in obj]
    return obj


def _compute(client: Any, *objs: Any) -> tuple[Any, ...]:
    """Compute on the cluster, results in the order given.

    Everything is computed as Delayed objects: mixing dask arrays and Delayed
    objects in one ``compute`` returned them out of order (dask 2026.8 with
    ``distributed``), which would swap results silently.
    Cluster failures become :class:`DaskEngineError`.
    """
    import dask
    from distributed import KilledWorker
    from distributed.client import FutureCancelledError

    try:
        return tuple(dask.compute(*[_delayed(o) for o in objs], scheduler=client))
    except KilledWorker as err:
        task, tries = err.args[0], int(err.args[2]) + 1 if len(err.args) > 2 else "several"
        raise DaskEngineError(
            f"the Dask cluster lost the workers running the audit: task {task!r} was tried "
            f"{tries} times and each worker died; nothing was reported. Give the workers "
            "more memory (see docs/distributed.md) or lower chunk_rows"
        ) from None
    except FutureCancelledError as err:
        raise DaskEngineError(
            f"the Dask cluster lost data the audit needed ({err}); nothing was reported"
        ) from None
    except (OSError, TimeoutError) as err:
        if isinstance(err, InvalidEmbeddingsError | ResourceUnavailableError):
            raise
        raise DaskEngineError(f"the Dask cluster failed during the audit: {err}") from None


def _worker_count(client: Any) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))


# ----------------------------------------------------------------------------- the input
def _array(spec: Any, chunks: tuple[tuple[int, ...], tuple[int]], dtype: np.dtype) -> Any:
    """Return a dask array whose chunks the workers read from ``spec``."""
    import dask.array as da

    return da.from_array(
        spec, chunks=chunks, lock=False, asarray=True, fancy=False, inline_array=False,
        meta=np.empty((0, 0), dtype=dtype), name=False,
    )  # fmt: skip


def _chunks(spec: WorkerSource, chunk_rows: int | None) -> tuple[int, ...]:
    if chunk_rows is None and spec.bounds:
        return tuple(b - a for a, b in spec.bounds)
    rows = int(chunk_rows) if chunk_rows else 65536
    full, rest = divmod(spec.n, rows)
    return (rows,) * full + ((rest,) if rest else ())


def _scan(client: Any, xa: Any, spec: WorkerSource, name: str = "embeddings") -> StreamScan:
    """Run the NumPy engine's scan (:func:`.passes.scan`), one task per chunk."""
    from dask import delayed

    if spec.n < MIN_ROWS:
        raise InvalidEmbeddingsError(f"{name} has {spec.n} row(s); at least {MIN_ROWS} are needed")
    if spec.d == 0:
        raise InvalidEmbeddingsError(f"{name} has no columns (shape {spec.shape})")
    starts = np.concatenate([[0], np.cumsum(xa.chunks[0])])[:-1]
    parts = [
        delayed(tasks.scan_chunk, pure=True)(block, int(s))
        for block, s in zip(xa.to_delayed().ravel(), starts, strict=True)
    ]
    (found,) = _compute(client, tasks.tree_reduce(parts))
    if found.bad:
        raise InvalidEmbeddingsError(nonfinite_message(name, found.bad, found.first))
    const_idx, scale = _constant_from_range(found.high, found.low)
    const = tuple(int(i) for i in const_idx)
    notes = []
    if const:
        shown = ", ".join(str(i) for i in const[:10]) + (" ..." if len(const) > 10 else "")
        notes.append(
            f"{len(const)} constant or numerically zero column(s) excluded from "
            f"per-coordinate tests: {shown}"
        )
    check = MatrixCheck(
        n=spec.n, d=spec.d, input_dtype=str(spec.dtype), constant_columns=const,
        notes=tuple(notes),
    )  # fmt: skip
    columns = np.setdiff1d(np.arange(spec.d), np.asarray(const, dtype=int))
    return StreamScan(check=check, column_scale=scale, columns=columns)


class _DaskRows:
    """Stands in for the matrix where the battery indexes a row subsample (gathered by workers)."""

    def __init__(self, client: Any, xa: Any) -> None:
        self.client, self.xa = client, xa
        self.shape = tuple(int(s) for s in xa.shape)

        self._cache: dict[bytes, np.ndarray] = {}

    def prefetched(self, rows: np.ndarray, values: np.ndarray) -> None:
        """Remember rows already gathered (the battery asks for the same subsample twice)."""
        self._cache[np.asarray(rows, dtype=np.intp).tobytes()] = np.asarray(values, np.float64)

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        key = np.asarray(rows, dtype=np.intp).tobytes()
        if key not in self._cache:
            (block,) = _compute(self.client, self.xa[np.asarray(rows)])
            self._cache[key] = np.asarray(block, dtype=np.float64)
        return self._cache[key]


class _DaskSource:
    """The ``take`` of a BlockSource, answered by the workers (for the subsample steps)."""

    def __init__(self, rows: _DaskRows, dtype: np.dtype) -> None:
        self.rows = rows
        self.n, self.d = rows.shape
        self.dtype = dtype

    def take(self, rows: np.ndarray) -> np.ndarray:
        """Rows at the increasing indices ``rows``, gathered on the cluster."""
        return self.rows[np.asarray(rows)]


# ----------------------------------------------------------------------------- passes
def _column_tasks(
    client: Any, shared: Any, sc: StreamScan, specs: list[Any], cfg: AuditConfig, *,
    col_block: int | None, memory_limit: int, workers: int,
) -> list[Any]:  # fmt: skip
    """One delayed task per group of columns (at least two groups per worker when possible)."""
    from dask import delayed

    n = sc.check.n
    cols = sc.columns
    if not specs or cols.size == 0:
        return []
    width = col_block or int(max(1, min(128, memory_limit // 2 // max(n * 8 * 5, 1))))
    per_pass = max(width, (memory_limit // 4) // max(n * 8, 1))
    group = max(1, min(per_pass, math.ceil(cols.size / (2 * workers))))
    width = min(width, group)
    group = math.ceil(group / width) * width
    names = tuple(s.name for s in specs)
    sc_f = _literal(sc)
    return [
        delayed(tasks.column_group, pure=True)(shared, cols[g : g + group], width, sc_f, names, cfg)
        for g in range(0, cols.size, group)
    ]


def _column_results(
    groups: list[list[dict[str, Any]]], specs: list[Any], sc: StreamScan, cfg: AuditConfig
) -> dict[str, Any]:
    """Join per-block results in column order; a test skipped in any block is skipped."""
    from ..stats.engines.passes import _column_tests
    from ..stats.engines.source import ArraySource

    d = sc.check.d
    if specs and sc.columns.size == 0:  # every column constant: the kernels' empty results
        return _column_tests(ArraySource(np.zeros((sc.check.n, d))), sc, specs, cfg,
                             col_block=1, workers=1)  # fmt: skip
    out: dict[str, Any] = {}
    for spec in specs:
        blocks = [res[spec.name] for group in groups for res in group]
        skipped = next((r for r in blocks if isinstance(r, Skipped)), None)
        out[spec.name] = skipped if skipped is not None else _join(blocks, d)
    return out


def _projection_result(
    parts: list[list[Any]], directions: np.ndarray, cfg: AuditConfig, n: int, d: int
) -> Any:
    """Join per-group projection results as the NumPy engine's ``_projections`` does."""
    from ..stats.results import CoordinateTestResult, ProjectionResult
    from ..stats.univariate import DP_MIN_ROWS

    by_test: dict[str, list[Any]] = {"anderson_darling": [], "dagostino_pearson": [],
                                     "epps_pulley": []}  # fmt: skip
    for group in parts:
        for r in group:
            by_test[r.test].append(r)
    found: dict[str, Any] = {"anderson_darling": _join(by_test["anderson_darling"], d)}
    if n < DP_MIN_ROWS:
        found["dagostino_pearson"] = Skipped(
            "dagostino_pearson", f"needs at least {DP_MIN_ROWS} rows, got {n}"
        )
    else:
        found["dagostino_pearson"] = _join(by_test["dagostino_pearson"], d)
    found["epps_pulley"] = _join(by_test["epps_pulley"], d)
    for key, res in found.items():
        if isinstance(res, CoordinateTestResult):
            found[key] = replace(res, d=directions.shape[1])
    return ProjectionResult(
        n_projections=int(cfg.projections), seed=int(cfg.seed), directions=directions,
        tests=found,
    )  # fmt: skip


def _projection_tasks(
    client: Any, shared: Any, cfg: AuditConfig, mean: Any, *, n: int, d: int,
    chunk_rows: int, memory_limit: int, workers: int,
) -> tuple[np.ndarray | None, list[Any], Skipped | None]:  # fmt: skip
    from dask import delayed

    from ..errors import UsageError as _UsageError
    from ..stats.projections import random_directions

    try:
        directions = random_directions(d, cfg.projections, seed=cfg.seed)
    except _UsageError as err:
        return None, [], Skipped("projections", str(err))
    k = directions.shape[1]
    group = int(max(1, min(k, memory_limit // max(n * 8 * 6, 1), math.ceil(k / workers))))
    out = []
    for g0 in range(0, k, group):
        dirs = _literal(directions[:, g0 : g0 + group])
        out.append(
            delayed(tasks.projection_group, pure=True)(
                shared, dirs, mean, g0, cfg.threshold, chunk_rows
            )
        )
    return directions, out, None


def _gram_tests(
    client: Any, spec: WorkerSource, comoments: Any, keep: np.ndarray, which: tuple[str, ...],
    *, row_scale: float, tile_rows: int,
) -> tuple[Any, Any]:  # fmt: skip
    """Mardia / Henze–Zirkler over all rows: one task per Gram tile ``i <= j``."""
    from dask import delayed

    from ..stats.engines.partials_tiles import henze_zirkler_result, hz_degenerate, mardia_result
    from ..stats.engines.streamed import _whitening
    from ..stats.multivariate import hz_beta

    n, p = spec.n, keep.size
    want_m, want_h = "mardia" in which, "hz" in which
    if want_h and hz_degenerate(n, p):
        raise NotApplicableError(hz_degenerate(n, p))
    beta = hz_beta(n, p)
    scale = beta if want_h else 1.0
    mean, w = _whitening(comoments, keep, scale=scale)
    by_tensor = want_m and p * p < n
    skew, hz = want_m and not by_tensor, want_h
    xg = _array(spec, (_chunks(replace(spec, bounds=None), tile_rows), (spec.d,)), spec.dtype)
    sel = None if keep.size == spec.d else _literal(keep)
    mean_f, w_f = _literal(mean), _literal(w)
    ys = [
        delayed(tasks.whiten_chunk, pure=True)(b, sel, row_scale, mean_f, w_f)
        for b in xg.to_delayed().ravel()
    ]
    parts = [
        delayed(tasks.gram_diagonal, pure=True)(y, scale, beta, by_tensor, skew, hz, 1024)
        for y in ys
    ]
    if skew or hz:
        parts += [
            delayed(tasks.gram_tile, pure=True)(ys[i], ys[j], skew, hz)
            for i in range(len(ys))
            for j in range(i + 1, len(ys))
        ]
    (sums,) = _compute(client, tasks.tree_reduce(parts))
    m = mardia_result(sums, p=p, scale=scale) if want_m else None
    h = henze_zirkler_result(sums, p=p) if want_h else None
    return m, h
