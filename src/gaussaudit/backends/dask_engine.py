"""The Dask engine: the streamed audit with its blocks computed on a Dask cluster.

:func:`audit_stream` runs the same passes as the NumPy engine
(:mod:`.numpy_engine`) and returns the same
:class:`~gaussaudit.stats.battery.AuditResult` (every statistic to 1e-10
relative), but each block's partial result is computed by a Dask worker:

- the input is a ``dask.array`` whose chunks the *workers* read from the path
  (``.npy`` with positioned reads, Zarr, HDF5, a Parquet file or directory by
  row group; see :mod:`.worker_sources`); the client reads headers only;
- scan, moments, co-moments and norms: one task per chunk, merged on the
  workers by a balanced tree of the exact merges of :mod:`.partials`;
- sorted per-coordinate tests: one task per group of columns, which reads
  those columns for all rows and runs the in-memory kernels per column block;
- random projections: one task per group of directions;
- full-view Mardia / Henze–Zirkler over all rows: whitened row blocks, then
  one task per Gram tile ``i <= j`` (a blockwise product), tree-merged;
- finalisation (p-values, verdict) on the client, from merged partials of a
  few kilobytes.

``scheduler`` names the cluster: ``"tcp://HOST:PORT"`` for a running one, a
``distributed.Client``, or None for a ``LocalCluster`` started for the run
and closed after it. Results do not depend on the chunk sizes nor on the
number of workers. Dask (``pip install 'gaussaudit[dask]'``) is imported only
when this engine runs.

Examples
--------
A ``.npy`` file on a cluster's shared file system::

    from gaussaudit.stats.config import AuditConfig
    from gaussaudit.backends.dask_engine import audit_stream
    result = audit_stream("/data/emb.npy", AuditConfig(), scheduler="tcp://10.0.0.5:8786")
    result.views["raw"].verdict.gaussian
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields, replace
from typing import Any

import numpy as np

from ..errors import MissingExtraError, UsageError
from ..stats._sampling import describe_subsample, seeded_rows
from ..stats.config import AuditConfig
from ..stats.engines.full_view import (
    finish_raw,
    full_view_allowed,
    note_full_multivariate,
    stream_full_multivariate,
    subspaces_step,
)
from ..stats.engines.partials import norm_result
from ..stats.engines.passes import _MOMENT_TESTS, DEFAULT_MEMORY_LIMIT, _auto_rows, _moment_results
from ..stats.results import Skipped
from ..stats.tests import coordinate_tests, multivariate_tests
from . import dask_tasks as tasks
from .dask_passes import (
    DaskEngineError,
    _array,
    _chunks,
    _column_results,
    _column_tasks,
    _compute,
    _DaskRows,
    _DaskSource,
    _gram_tests,
    _literal,
    _projection_result,
    _projection_tasks,
    _scan,
    _worker_count,
)
from .worker_sources import WorkerSource, worker_source

__all__ = ["DaskEngineError", "audit_stream"]


def _import_dask() -> None:
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise MissingExtraError("dask", "dask", "the Dask engine") from None


# ----------------------------------------------------------------------------- cluster
@contextmanager
def _client(scheduler: Any, n_workers: int | None) -> Iterator[Any]:
    """Yield a ``distributed.Client`` on ``scheduler`` (or a LocalCluster started for the run)."""
    from distributed import Client, LocalCluster

    if isinstance(scheduler, Client):
        yield scheduler
        return
    if scheduler is None:
        workers = int(n_workers) if n_workers else min(4, os.cpu_count() or 1)
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
        try:
            with Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    if isinstance(scheduler, str):
        if not scheduler.startswith(("tcp://", "tls://", "ws://", "wss://", "inproc://")):
            raise UsageError(
                f"scheduler must be an address such as 'tcp://HOST:8786', got {scheduler!r}"
            )
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as err:
            raise DaskEngineError(
                f"cannot reach the Dask scheduler at {scheduler}: {err}"
            ) from None
        with client:
            yield client
        return
    if hasattr(scheduler, "scheduler_address"):  # a cluster object (LocalCluster, jobqueue, ...)
        with Client(scheduler) as client:
            yield client
        return
    raise UsageError(
        "scheduler must be None, an address 'tcp://HOST:PORT', a distributed.Client or a "
        f"cluster, got {type(scheduler).__name__}"
    )


# ----------------------------------------------------------------------------- audit
def _positive(name: str, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or int(value) < 1):
        raise UsageError(f"{name} must be a positive integer, got {value!r}")


def audit_stream(
    source: Any,
    config: AuditConfig | None = None,
    *,
    scheduler: Any = None,
    n_workers: int | None = None,
    chunk_rows: int | None = None,
    col_block: int | None = None,
    tile_rows: int | None = None,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
    block_rows: int | None = None,
    workers: int | None = None,
    keep_norms: bool = True,
    key: str | None = None,
    columns: tuple[str, ...] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    **overrides: Any,
) -> Any:
    """Audit the raw view of a matrix on a Dask cluster; the workers read the blocks.

    Parameters
    ----------
    source : path, BlockSource or array_like
        A ``.npy`` file, ``.zarr`` store, ``.h5``/``.hdf5`` file, ``.parquet``
        file or directory of them (read by the workers from this path, which
        they must see at the same place); an
        :class:`~.source.NpyFileSource` or memory map (described by its
        file); any other picklable :class:`~.source.BlockSource` or array
        (shipped to the workers).
    config : AuditConfig, optional
        As for :func:`gaussaudit.stats.audit`; ``views`` must be ``("raw",)``.
    scheduler : str, distributed.Client or cluster, optional
        ``"tcp://HOST:PORT"`` of a running scheduler, a client, or a cluster
        object (``dask_jobqueue.SLURMCluster``, ...). None starts a
        ``LocalCluster`` of ``n_workers`` single-threaded processes for this
        call and closes it afterwards.
    n_workers : int, optional
        Workers of the local cluster (default: up to 4).
    chunk_rows : int, optional
        Rows per chunk of the row passes (default: from ``memory_limit``; for
        Parquet, its row groups).
    col_block : int, optional
        Columns per float64 block of the sorted tests.
    tile_rows : int, optional
        Rows per block of the Gram tiles of full-view Mardia / Henze–Zirkler
        over all rows (default ``min(chunk_rows, 2048)``).
    memory_limit : int
        Bytes each task's buffers may use, per worker thread (see
        ``docs/distributed.md`` for the memory a worker needs).
    block_rows, workers : int, optional
        The NumPy engine's names of ``chunk_rows`` and ``n_workers`` (so that
        either engine takes the other's keywords); the latter names win.
    keep_norms : bool
        Bring the row norms (8 bytes per row) back for plots; False leaves
        ``NormResult.norms`` empty.
    key : str, optional
        The array inside a Zarr store or HDF5 file.
    columns : sequence of str, optional
        Parquet columns (default: every numeric one).
    progress : callable, optional
        ``progress(label, done, total)`` as for :func:`~gaussaudit.stats.audit`.
    **overrides
        Fields of :class:`AuditConfig` to override.

    Returns
    -------
    AuditResult
        The NumPy engine's result to rounding (1e-10 relative on every
        statistic); ``config.engine`` is ``"dask"`` where the config has that
        field; ``matrix`` is None.

    Raises
    ------
    MissingExtraError
        Dask or distributed is not installed (``pip install 'gaussaudit[dask]'``).
    DaskEngineError
        The scheduler cannot be reached, or workers kept dying (a task was
        lost more often than ``distributed.scheduler.allowed-failures``).
    UsageError, InvalidEmbeddingsError
        As for :func:`.numpy_engine.audit_stream`.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from gaussaudit.stats.config import AuditConfig
    >>> path = os.path.join(tempfile.mkdtemp(), "x.npy")
    >>> np.save(path, np.random.default_rng(0).standard_normal((500, 4)).astype(np.float32))
    >>> cfg = AuditConfig(tests="anderson_darling,norms", projections=0, subspaces=0)
    >>> r = audit_stream(path, cfg, n_workers=1, chunk_rows=128)  # doctest: +SKIP
    >>> r.views["raw"].n  # doctest: +SKIP
    500
    """
    base = config or AuditConfig()
    cfg = replace(base, **overrides) if overrides else base
    chunk_rows = chunk_rows if chunk_rows is not None else block_rows
    n_workers = n_workers if n_workers is not None else workers
    if scheduler is None:  # a config that names the cluster (when it has that field)
        scheduler = getattr(cfg, "scheduler", None)
    if cfg.views != ("raw",):
        raise UsageError(
            f"the Dask engine audits the raw view only (views={cfg.views!r}); "
            "audit other views in memory with gaussaudit.stats.audit"
        )
    for kw, value in (("chunk_rows", chunk_rows), ("col_block", col_block),
                      ("tile_rows", tile_rows), ("n_workers", n_workers)):  # fmt: skip
        _positive(kw, value)
    if int(memory_limit) < 1:
        raise UsageError(f"memory_limit must be a positive number of bytes, got {memory_limit!r}")
    if "engine" in {f.name for f in fields(cfg)}:
        cfg = replace(cfg, engine="dask")
    _import_dask()
    spec = worker_source(source, key=key, columns=columns)
    with _client(scheduler, n_workers) as client:
        return _audit(
            client, spec, cfg, chunk_rows=chunk_rows, col_block=col_block, tile_rows=tile_rows,
            memory_limit=int(memory_limit), keep_norms=keep_norms, progress=progress,
        )  # fmt: skip


def _audit(
    client: Any, spec: WorkerSource, cfg: AuditConfig, *, chunk_rows: int | None,
    col_block: int | None, tile_rows: int | None, memory_limit: int, keep_norms: bool,
    progress: Callable[[str, int, int], None] | None,
) -> Any:  # fmt: skip
    from dask import delayed

    from ..stats._validation import validate
    from ..stats.battery import (
        AuditResult,
        ViewAudit,
        _full_multivariate,
        _view_steps,
    )
    from ..stats.verdict import Verdict, decide

    n, d = spec.n, spec.d
    nw = _worker_count(client)
    rows = chunk_rows or (None if spec.bounds else _auto_rows(d, memory_limit, 1))
    # an in-memory payload is one literal of the graph (sent to a worker once, resent if it dies)
    shared = _literal(spec) if spec.kind == "object" else spec
    xa = _array(spec, (_chunks(spec, rows), (d,)), spec.dtype)
    sc = _scan(client, xa, spec)
    check = sc.check
    steps = _view_steps(cfg)
    total = len(steps)

    def tick(step: str) -> None:
        if progress is not None:
            progress(f"raw: {step}", steps.index(step), total)

    global_notes = [c.replace("excluded from", "(raw values) excluded from") for c in check.notes]
    execution = {
        "engine": "dask",
        "streamed": True,
        "rows_audited": n if cfg.max_samples is None else min(n, cfg.max_samples),
        "block_rows": int(max(xa.chunks[0])),
        "workers": nw,
        "memory_limit": int(memory_limit),
    }
    if cfg.max_samples is not None and n > cfg.max_samples:  # a subsample fits in memory
        from ..stats.battery import audit

        sub = _DaskRows(client, xa)[seeded_rows(n, cfg.max_samples, cfg.seed)]
        result = audit(validate(sub), replace(cfg, max_samples=None), progress=progress)
        note = describe_subsample(cfg.max_samples, n, cfg.seed)
        return replace(
            result, config=cfg, check=check, n_input=n, matrix=None,
            notes=(f"audited {note}", *global_notes), execution={**execution, "streamed": False},
        )  # fmt: skip

    specs = list(coordinate_tests(cfg.tests))
    moment_specs = [s for s in specs if s.name in _MOMENT_TESTS and n >= s.min_rows]
    column_specs = [s for s in specs if s.name not in _MOMENT_TESTS and n >= s.min_rows]
    want_norms = "norms" in cfg.tests
    mv_specs = multivariate_tests(cfg.tests)
    mv_rows = min(n, cfg.multivariate_max_rows)
    full_allowed = bool(mv_specs) and full_view_allowed(cfg, d)
    fits = mv_rows * d * 8 * 4 <= memory_limit
    mv_stream = full_allowed and n <= cfg.multivariate_max_rows and not fits

    # pass 2: moments, co-moments, norms -- one task per chunk, tree-merged on the workers
    exps = sc.column_exponents
    sphere_on = cfg.sphere is not False  # the sphere reference reads every row's norm
    covariance, with_norms = want_norms or mv_stream, want_norms or sphere_on
    keep = with_norms and (keep_norms or sphere_on)
    pairs = [
        delayed(tasks.row_chunk, pure=True, nout=2)(
            b, exps, sc.norm_scale, True, covariance, with_norms, keep
        )
        for b in xa.to_delayed().ravel()
    ]
    merged = tasks.tree_reduce([p[0] for p in pairs])
    kept = [p[1] for p in pairs] if keep else []
    # pass 3 (the column groups) needs only the scan: computed with pass 2
    column_tasks = _column_tasks(
        client, shared, sc, column_specs, cfg, col_block=col_block, memory_limit=memory_limit,
        workers=nw,
    )  # fmt: skip
    # the row subsample of the multivariate tests (or all rows, when they fit)
    gather: Any = None
    sub_rows = None
    wants_sub = (
        bool(mv_specs)
        and cfg.subspaces
        and d > cfg.subspace_dim
        and any(s.subspaces for s in mv_specs)
    )
    if (full_allowed and not mv_stream) or wants_sub:
        if n > cfg.multivariate_max_rows:
            sub_rows = seeded_rows(n, cfg.multivariate_max_rows, cfg.seed)
            gather = xa[sub_rows]
        elif fits:
            gather = xa
    # the projections need only the merged means: computed in the same round
    directions, proj_tasks, proj_skipped = None, [], None
    if "random projections" in steps:
        mean = delayed(tasks.projection_mean, pure=True)(merged, exps)
        directions, proj_tasks, proj_skipped = _projection_tasks(
            client, shared, cfg, mean, n=n, d=d, chunk_rows=int(rows or 8192),
            memory_limit=memory_limit, workers=nw,
        )  # fmt: skip
    parts, groups, norm_blocks, gathered, proj_parts = _compute(
        client, merged, column_tasks, kept, gather, proj_tasks
    )
    row_norms = np.concatenate(norm_blocks) if norm_blocks else None
    notes: list[str] = []
    norms = None
    if want_norms:
        tick("norms")
        norms = norm_result(parts.norms, parts.comoments, norms=row_norms, scale=sc.norm_scale)
    coords: dict[str, Any] = {}
    if specs:
        tick("per-coordinate tests")
        found = _column_results(list(groups), column_specs, sc, cfg)
        if moment_specs:
            found.update(_moment_results(parts.moments, sc, [s.name for s in moment_specs]))
        for s in specs:
            coords[s.name] = found.get(s.name) or Skipped(
                s.name, f"needs at least {s.min_rows} rows, got {n}"
            )
    rows_in_memory: Any = _DaskRows(client, xa)
    if sub_rows is not None:
        rows_in_memory.prefetched(sub_rows, gathered)
    elif isinstance(gathered, np.ndarray):
        rows_in_memory = np.asarray(gathered, dtype=np.float64)
    mv: dict[str, Any] = {}
    if mv_specs:
        tick("full-view multivariate tests")
        if mv_stream:
            tiles = int(tile_rows) if tile_rows else min(int(rows or 65536), 2048)

            def gram(keep: np.ndarray, which: tuple[str, ...]) -> tuple[Any, Any]:
                return _gram_tests(client, spec, parts.comoments, keep, which,
                                   row_scale=sc.norm_scale, tile_rows=tiles)  # fmt: skip

            mv = stream_full_multivariate(gram, sc, cfg)
        else:  # a seeded subsample (gathered above), all rows in memory, or skipped
            mv = _full_multivariate(rows_in_memory, cfg)
    note_full_multivariate(mv, notes)
    subspaces = None
    if "subspace tests" in steps:
        tick("subspace tests")
        deferred = isinstance(rows_in_memory, _DaskRows)
        subspaces = subspaces_step(rows_in_memory, cfg, notes, n=n, d=d, deferred=deferred)
    projections = None
    if "random projections" in steps:
        tick("random projections")
        if proj_skipped is not None:
            projections = proj_skipped
        else:
            projections = _projection_result(list(proj_parts), directions, cfg, n, d)
    if cfg.projections == 0 and "projections" in cfg.tests:
        projections = Skipped("projections", "projections = 0: no random directions tested")
    partial = ViewAudit(
        view="raw", n=n, d=d, norms=norms, coordinates=coords, multivariate=mv,
        subspaces=subspaces, projections=projections, verdict=Verdict(None, None, None, ()),
        notes=tuple(notes),
    )  # fmt: skip
    view = finish_raw(partial, _DaskSource(_as_rows(rows_in_memory, client, xa), spec.dtype), cfg,
                   parts, sc, row_norms, want_norms)  # fmt: skip
    view = replace(view, verdict=decide(view, cfg))
    if progress is not None:
        progress("done", total, total)
    from ..stats.rows import rows_used

    execution["rows_used"] = rows_used(n, d, cfg, getattr(view, "calibration", None))
    return AuditResult(
        config=cfg, views={"raw": view}, check=check, n_input=n, notes=tuple(global_notes),
        matrix=None, execution=execution,
    )  # fmt: skip


def _as_rows(rows: Any, client: Any, xa: Any) -> _DaskRows:
    """Return the gathered rows (or all of them, when held) as a :class:`_DaskRows`."""
    if isinstance(rows, _DaskRows):
        return rows
    out = _DaskRows(client, xa)
    out.prefetched(np.arange(xa.shape[0]), rows)
    return out


#: The name the engine registry (:data:`gaussaudit.stats.engines.ENGINES`) imports.
audit_stream_dask = audit_stream
