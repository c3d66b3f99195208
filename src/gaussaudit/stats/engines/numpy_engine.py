"""The NumPy engine: the audit of a matrix it never holds, block by block, on threads.

:func:`audit_stream` runs the battery on a :class:`~.source.BlockSource` (a
``.npy`` file, a memory map, an array) and returns the same
:class:`~gaussaudit.stats.battery.AuditResult` as :func:`gaussaudit.stats.audit`
on the same matrix, to rounding (about 1e-12 relative; the tests hold every
statistic to 1e-10). Memory is bounded by ``memory_limit`` and the block sizes,
not by the number of rows.

Passes over the rows
--------------------
1. *Scan*: column maxima and minima (finiteness, constant columns, scales),
   exactly what :func:`~gaussaudit.stats.validate` finds.
2. *Moments*: per-column centred moments (D'Agostino–Pearson, Jarque–Bera),
   row norms, co-moments (covariance spectrum, whitening), merged pairwise.
3. *Column blocks* for the sorted tests (Anderson–Darling, Shapiro–Wilk,
   Lilliefors and any third-party per-coordinate kernel): a block of columns
   for all rows is gathered, converted to float64 and given to the in-memory
   kernel; per-column results are concatenated.
4. *Projections*: groups of random directions, projected block by block.
5. *Full-view Mardia / Henze–Zirkler*: on the same seeded row subsample as the
   in-memory battery (``multivariate_max_rows``); when those rows do not fit
   the budget, the two-pass Gram-tile algorithm (whitening from pass 2, then
   row-block pairs ``i <= j``).

Every view is streamed: ``normalized`` and ``whitened`` are block sources over
the raw one (:mod:`.stream_views`; the whitened view adds one co-moment pass).
The calibration, departure, sphere reference and diagnosis read the same seeded
row subsamples as in memory (:mod:`.finish`). ``nan_policy="omit"`` is not
supported (non-finite values raise, as by default in memory).

Examples
--------
>>> import numpy as np
>>> from gaussaudit.stats.config import AuditConfig
>>> from gaussaudit.stats.engines import ArraySource, audit_stream
>>> x = np.random.default_rng(0).standard_normal((500, 6)).astype(np.float32)
>>> cfg = AuditConfig(projections=8, subspaces=0)
>>> result = audit_stream(ArraySource(x), cfg, block_rows=128)
>>> sorted(result.views["raw"].coordinates)[:2]
['anderson_darling', 'dagostino_pearson']

A ``.npy`` file too large for memory::

    from gaussaudit.stats.engines import audit_stream, open_npy
    with open_npy("big.npy") as src:
        result = audit_stream(src, AuditConfig(), memory_limit=512 * 2**20)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from ...errors import NotApplicableError, UsageError
from .._sampling import describe_subsample, seeded_rows
from ..config import AuditConfig
from ..results import Skipped
from ..tests import coordinate_tests, multivariate_tests
from .partials import CoMoments, norm_result
from .passes import (
    _MOMENT_TESTS,
    DEFAULT_MEMORY_LIMIT,
    StreamScan,
    _auto_rows,
    _column_tests,
    _moment_results,
    _projections,
    _row_pass,
    _workers,
    column_moments,
    scan,
)
from .source import BlockSource, as_source
from .streamed import _gram_tests, epps_pulley_stream, mardia_henze_zirkler_stream

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "StreamScan",
    "audit_stream",
    "column_moments",
    "epps_pulley_stream",
    "mardia_henze_zirkler_stream",
    "scan",
]


# ----------------------------------------------------------------------------- audit
class _RowsProxy:
    """Stands in for the matrix where the battery only indexes a row subsample."""

    def __init__(self, source: BlockSource) -> None:
        self.source = source
        self.shape = (source.n, source.d)

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.source.take(np.asarray(rows)), dtype=np.float64)


def _materialise(source: BlockSource) -> np.ndarray:
    out = np.empty((source.n, source.d))
    for start, block in source.iter_rows(8192):
        out[start : start + block.shape[0]] = block
    return out


def _full_view_allowed(cfg: AuditConfig, d: int) -> bool:
    mode = cfg.full_multivariate
    return not (mode == "never" or (mode == "auto" and d > cfg.full_max_dim))


def _stream_full_multivariate(
    source: BlockSource,
    sc: StreamScan,
    comoments: CoMoments,
    cfg: AuditConfig,
    *,
    block_rows: int,
    workers: int,
) -> dict[str, Any]:
    """Full-view Mardia/HZ on every row by Gram tiles (``_full_multivariate``'s rules)."""
    specs = list(multivariate_tests(cfg.tests))
    wanted = [s.name for s in specs]
    d = source.d
    note = None
    keep = np.arange(d)
    const = np.asarray(sc.check.constant_columns, dtype=int)
    if const.size and const.size < d:
        keep = sc.columns
        note = f"{const.size} constant column(s) left out, {keep.size} tested"
    if cfg.pca:
        why = "pca=True is not supported by the streaming engine for rows beyond memory_limit"
        return {t: Skipped(t, why) for t in wanted}
    results: dict[str, Any] = {}
    gram = [s.name for s in specs if s.joint == "gram"]
    which = tuple("hz" if t == "henze_zirkler" else t for t in gram)

    def run(which: tuple[str, ...]) -> tuple[Any, Any]:
        return _gram_tests(
            source, comoments, keep, which, row_scale=sc.norm_scale,
            outer_rows=max(block_rows, 4 * min(block_rows, 1024)), block_rows=min(block_rows, 1024),
            workers=workers,
        )  # fmt: skip

    if gram:
        try:
            m, h = run(which)
            if m is not None:
                results["mardia"] = m
            if h is not None:
                results["henze_zirkler"] = h
        except NotApplicableError as err:
            reason = str(err) + (f" ({note})" if note else "")
            if "Henze-Zirkler" in reason and "mardia" in gram:
                results["henze_zirkler"] = Skipped("henze_zirkler", reason)
                try:
                    results["mardia"] = run(("mardia",))[0]
                except NotApplicableError as err2:
                    results["mardia"] = Skipped("mardia", str(err2))
            else:
                results.update({t: Skipped(t, reason) for t in gram})
    for spec in specs:
        if spec.joint != "gram":
            results[spec.name] = Skipped(
                spec.name, "not streamed: needs the rows in memory (lower multivariate_max_rows)"
            )
    out: dict[str, Any] = {"_note": note} if note else {}
    out.update({t: results[t] for t in wanted if t in results})
    return out


def audit_stream(
    source: Any,
    config: AuditConfig | None = None,
    *,
    block_rows: int | None = None,
    col_block: int | None = None,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
    workers: int | None = None,
    keep_norms: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
    subsample_steps: bool = True,
    **overrides: Any,
) -> Any:
    """Audit the views of a matrix read block by block, in bounded memory.

    Parameters
    ----------
    source : BlockSource, array_like or path
        A :class:`~.source.BlockSource`; an array or memory map (wrapped in
        :class:`~.source.ArraySource`); a ``.npy`` path (opened with
        :func:`~.source.open_npy`).
    config : AuditConfig, optional
        As for :func:`gaussaudit.stats.audit`.
    block_rows : int, optional
        Rows per block of the row passes (default: from ``memory_limit``).
    col_block : int, optional
        Columns per float64 block of the sorted tests (default: from
        ``memory_limit``, at most 128).
    memory_limit : int
        Bytes the engine's buffers may use (the process itself adds the
        interpreter and libraries, about 0.2-0.3 GiB).
    workers : int, optional
        Threads computing blocks (default: up to 4). Results do not depend on it.
    keep_norms : bool
        Keep the row norms (8 bytes per row) in ``NormResult.norms`` for plots;
        False leaves it empty.
    progress : callable, optional
        ``progress(label, done, total)`` as for :func:`~gaussaudit.stats.audit`.
    subsample_steps : bool
        Run the steps that read seeded row subsamples (calibration, departure,
        sphere reference, diagnosis; :mod:`.finish`), whose memory is fixed
        (tens of MB) whatever the rows. False leaves them out (None in the
        result), as the row passes alone.
    **overrides
        Fields of :class:`AuditConfig` to override.

    Returns
    -------
    AuditResult
        The same results as ``gaussaudit.stats.audit`` on the matrix, to
        rounding; ``matrix`` is None (nothing was held).

    Raises
    ------
    UsageError
        A block size or memory limit is not positive.
    InvalidEmbeddingsError
        Too few rows, NaN/Inf values.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussaudit.stats import audit
    >>> x = np.random.default_rng(0).standard_normal((300, 4))
    >>> streamed = audit_stream(x, projections=4, subspaces=0, block_rows=64)
    >>> in_memory = audit(x, projections=4, subspaces=0)
    >>> a = streamed.views["raw"].coordinates["anderson_darling"].statistics
    >>> bool(np.allclose(a, in_memory.views["raw"].coordinates["anderson_darling"].statistics))
    True
    """
    from .._validation import validate
    from ..battery import AuditResult, _view_steps

    base = config or AuditConfig()
    cfg = replace(base, **overrides) if overrides else base
    for kw, value in (("block_rows", block_rows), ("col_block", col_block)):
        if value is not None and (isinstance(value, bool) or int(value) < 1):
            raise UsageError(f"{kw} must be a positive integer, got {value!r}")
    if int(memory_limit) < 1:
        raise UsageError(f"memory_limit must be a positive number of bytes, got {memory_limit!r}")
    src = as_source(source)
    nw = _workers(workers)
    n, d = src.n, src.d
    brows = int(block_rows) if block_rows else _auto_rows(d, memory_limit, nw)
    sc = scan(src, block_rows=max(brows, 1024), workers=nw)
    check = sc.check
    steps = _view_steps(cfg)
    total = len(steps) * len(cfg.views)
    global_notes = [c.replace("excluded from", "(raw values) excluded from") for c in check.notes]
    execution = {
        "engine": "numpy",
        "streamed": True,
        "rows_audited": n if cfg.max_samples is None else min(n, cfg.max_samples),
        "block_rows": brows,
        "workers": nw,
        "memory_limit": int(memory_limit),
    }
    if cfg.max_samples is not None and n > cfg.max_samples:  # a subsample fits in memory
        from ..battery import audit

        sub = np.asarray(src.take(seeded_rows(n, cfg.max_samples, cfg.seed)), dtype=np.float64)
        result = audit(validate(sub), replace(cfg, max_samples=None), progress=progress)
        note = describe_subsample(cfg.max_samples, n, cfg.seed)
        return replace(
            result, config=cfg, check=check, n_input=n, matrix=None,
            notes=(f"audited {note}", *global_notes), execution={**execution, "streamed": False},
        )  # fmt: skip
    views = {}
    for i, name in enumerate(cfg.views):

        def tick(step: str, offset: int = i * len(steps), view: str = name) -> None:
            if progress is not None:
                progress(f"{view}: {step}", offset + steps.index(step), total)

        views[name] = _stream_view(
            src, sc, name, cfg, tick, brows=brows, col_block=col_block,
            memory_limit=memory_limit, nw=nw, keep_norms=keep_norms, finish=subsample_steps,
        )  # fmt: skip
    if progress is not None:
        progress("done", total, total)
    from ..rows import rows_used

    first = next(iter(views.values()), None)
    execution["rows_used"] = rows_used(n, d, cfg, getattr(first, "calibration", None))
    return AuditResult(
        config=cfg, views=views, check=check, n_input=n, notes=tuple(global_notes),
        matrix=None, execution=execution,
    )  # fmt: skip


def _stream_view(
    raw: BlockSource,
    raw_scan: StreamScan,
    name: str,
    cfg: AuditConfig,
    tick: Callable[[str], None],
    *,
    brows: int,
    col_block: int | None,
    memory_limit: int,
    nw: int,
    keep_norms: bool,
    finish: bool = True,
) -> Any:
    """One view of a streamed audit (``_audit_view``'s counterpart)."""
    from ..battery import ViewAudit, _constant_view, _full_multivariate, _view_steps
    from ..verdict import Verdict, decide
    from .finish import finish_view
    from .full_view import note_full_multivariate, subspaces_step
    from .stream_views import view_source

    top = float(np.max(raw_scan.column_scale)) if raw_scan.column_scale.size else 0.0
    src, view_notes = view_source(raw, name, top=top, block_rows=brows, workers=nw)
    sc = (
        raw_scan
        if name == "raw"
        else scan(src, name=f"the {name} view", block_rows=max(brows, 1024), workers=nw)
    )
    n, d = src.n, src.d
    steps = _view_steps(cfg)
    notes: list[str] = list(view_notes)
    if d and len(sc.check.constant_columns) == d:
        return _constant_view(name, _RowsProxy(src), cfg, notes, steps, tick)
    specs = list(coordinate_tests(cfg.tests))
    moment_specs = [s for s in specs if s.name in _MOMENT_TESTS and n >= s.min_rows]
    column_specs = [s for s in specs if s.name not in _MOMENT_TESTS and n >= s.min_rows]
    want_norms = "norms" in cfg.tests
    mv_specs = multivariate_tests(cfg.tests)
    mv_rows = min(n, cfg.multivariate_max_rows)
    full_allowed = bool(mv_specs) and _full_view_allowed(cfg, d)
    fits = mv_rows * d * 8 * 4 <= memory_limit
    mv_stream = full_allowed and n <= cfg.multivariate_max_rows and not fits

    sphere_on = finish and cfg.sphere is not False
    parts, row_norms = _row_pass(
        src, sc, moments=True, covariance=want_norms or mv_stream,
        norms=want_norms or sphere_on, keep_norms=keep_norms or sphere_on,
        block_rows=brows, workers=nw,
    )  # fmt: skip
    norms = None
    if want_norms:
        tick("norms")
        norms = norm_result(parts.norms, parts.comoments, norms=row_norms, scale=sc.norm_scale)
    coords: dict[str, Any] = {}
    if specs:
        tick("per-coordinate tests")
        # float64 blocks in flight (2 per worker) plus the kernels' temporaries (~3 per worker)
        width = col_block or int(max(1, min(128, memory_limit // 2 // max(n * 8 * 5 * nw, 1))))
        found = _column_tests(
            src, sc, column_specs, cfg, col_block=width, workers=nw, buffer_bytes=memory_limit // 4
        )
        if moment_specs:
            found.update(_moment_results(parts.moments, sc, [s.name for s in moment_specs]))
        for s in specs:
            coords[s.name] = found.get(s.name) or Skipped(
                s.name, f"needs at least {s.min_rows} rows, got {n}"
            )
    rows_in_memory: np.ndarray | _RowsProxy = _RowsProxy(src)
    need_rows = (full_allowed and not mv_stream) or (
        mv_specs and cfg.subspaces and any(s.subspaces for s in mv_specs)
    )
    if need_rows and n <= cfg.multivariate_max_rows and fits:
        rows_in_memory = _materialise(src)
    mv: dict[str, Any] = {}
    if mv_specs:
        tick("full-view multivariate tests")
        if mv_stream:
            mv = _stream_full_multivariate(
                src, sc, parts.comoments, cfg, block_rows=brows, workers=nw
            )
        else:  # a seeded subsample (gathered by the proxy), all rows in memory, or skipped
            mv = _full_multivariate(rows_in_memory, cfg)
    note_full_multivariate(mv, notes)
    subspaces = None
    if "subspace tests" in steps:
        tick("subspace tests")
        deferred = isinstance(rows_in_memory, _RowsProxy)
        subspaces = subspaces_step(rows_in_memory, cfg, notes, n=n, d=d, deferred=deferred)
    projections = None
    if "random projections" in steps:
        tick("random projections")
        exps = sc.column_exponents
        mean = parts.moments.mean if exps is None else np.ldexp(parts.moments.mean, exps)
        projections = _projections(
            src, cfg, mean, block_rows=brows, memory_limit=memory_limit, workers=nw
        )
    if cfg.projections == 0 and "projections" in cfg.tests:
        projections = Skipped("projections", "projections = 0: no random directions tested")
    partial = ViewAudit(
        view=name, n=n, d=d, norms=norms, coordinates=coords, multivariate=mv,
        subspaces=subspaces, projections=projections, verdict=Verdict(None, None, None, ()),
        notes=tuple(notes),
    )  # fmt: skip
    if not finish:
        return replace(partial, verdict=decide(partial, cfg))
    exps = sc.column_exponents
    mean = parts.moments.mean if exps is None else np.ldexp(parts.moments.mean, exps)
    if not want_norms and row_norms is not None:  # norms kept only to switch the sphere on
        from ..results import NormResult

        partial = replace(partial, norms=None)
        sphere_norms = NormResult(norms=row_norms * sc.norm_scale, mean=float("nan"),
                                  std=float("nan"), cv=float("nan"),
                                  cv_isotropic_gaussian=float("nan"),
                                  cv_matched_gaussian=float("nan"),
                                  effective_dimension=float("nan"), effective_rank=float("nan"),
                                  n=n, d=d)  # fmt: skip
    else:
        sphere_norms = None
    partial, finish_notes = finish_view(
        partial, src, raw, cfg, mean=mean, name=name, sphere_norms=sphere_norms
    )
    partial = replace(partial, notes=(*partial.notes, *finish_notes))
    return replace(partial, verdict=decide(partial, cfg))
