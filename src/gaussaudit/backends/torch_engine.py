"""The torch engine: the streamed audit with its heavy passes on a torch device.

:func:`audit_stream` runs the NumPy engine's passes (:mod:`.numpy_engine`)
with the arithmetic of the large ones on ``device`` (``"cuda"``, ``"cpu"``,
``"cuda:1"``, ...):

- moments, co-moments and row norms: one float64 block at a time on the
  device, merged with the exact merges of :mod:`.partials`;
- Anderson–Darling: column blocks sorted, standardised and summed on the
  device (:func:`.torch_ops.ad_statistics`); the other sorted tests
  (Shapiro–Wilk, Lilliefors, Cramér–von Mises, plug-ins) run on the CPU
  kernels, as in the NumPy engine;
- full-view Mardia / Henze–Zirkler over all rows: whitened blocks and Gram
  tiles on the device, float64 accumulation per tile.

Everything is float64 (float32 input is converted per block, on the device)
and TF32 is switched off for the run, so the numbers equal the NumPy engine's
to rounding (the tests hold them to 1e-6 relative; on the CPU they agree to
about 1e-12). ``torch`` is imported only when this engine runs (``pip install
'gaussaudit[torch]'``); the stats core never imports it.

Examples
--------
::

    from gaussaudit.stats.config import AuditConfig
    from gaussaudit.backends.torch_engine import audit_stream
    result = audit_stream("emb.npy", AuditConfig(), device="cuda")
"""

from __future__ import annotations

from collections.abc import Callable
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
from ..stats.engines.partials import NormSummary, PairwiseMerger, norm_result
from ..stats.engines.passes import (
    _MOMENT_TESTS,
    DEFAULT_MEMORY_LIMIT,
    StreamScan,
    _auto_rows,
    _column_tests,
    _moment_results,
    _projections,
    _row_ranges,
    _RowPartials,
    scan,
)
from ..stats.engines.source import BlockSource, as_source
from ..stats.results import Skipped
from ..stats.tests import coordinate_tests, multivariate_tests
from . import torch_ops as ops

__all__ = ["audit_stream", "resolve_device"]

_AD_KERNEL = "gaussaudit.stats.univariate:anderson_darling"


def _import_torch() -> Any:
    try:
        import torch
    except ImportError:
        raise MissingExtraError("torch", "torch", "the torch engine") from None
    return torch


def resolve_device(device: str | None) -> Any:
    """Return the ``torch.device`` for ``device`` (None: CUDA when available, else CPU).

    Raises
    ------
    UsageError
        ``device`` names CUDA but no CUDA device is available, or is not a device.

    Examples
    --------
    >>> str(resolve_device("cpu"))
    'cpu'
    """
    torch = _import_torch()
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise UsageError(
            f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r} ({err})"
        ) from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UsageError(
            f"device={device!r} but torch sees no CUDA device; use device='cpu' or the numpy engine"
        )
    return dev


# ----------------------------------------------------------------------------- passes
def _row_pass(
    torch: Any, dev: Any, source: BlockSource, sc: StreamScan, *, moments: bool,
    covariance: bool, norms: bool, keep_norms: bool, block_rows: int,
) -> tuple[_RowPartials, np.ndarray | None]:  # fmt: skip
    exps = sc.column_exponents
    scale = None
    if exps is not None:
        scale = torch.as_tensor(np.ldexp(1.0, -exps), dtype=torch.float64, device=dev)
    row_norms = np.empty(source.n) if keep_norms and norms else None
    merger = PairwiseMerger()
    for start, stop in _row_ranges(source.n, block_rows):
        b = torch.as_tensor(np.asarray(source.read_rows(start, stop)), device=dev)
        b = b.to(torch.float64)
        mom, cm, ns, v = ops.row_partials(
            b, exps=scale, nscale=sc.norm_scale, moments=moments, covariance=covariance,
            norms=norms,
        )  # fmt: skip
        if row_norms is not None and v is not None:
            row_norms[start:stop] = v.cpu().numpy()
        merger.push(_RowPartials(mom, cm, ns if norms else None))
    parts = merger.result()
    if norms and parts.norms is None:  # pragma: no cover - defensive
        parts = replace(parts, norms=NormSummary(0, 0.0, 0.0))
    return parts, row_norms


def _anderson_darling(
    torch: Any, dev: Any, source: BlockSource, sc: StreamScan, cfg: AuditConfig, *,
    col_block: int, buffer_bytes: int,
) -> Any:  # fmt: skip
    from ..stats.univariate import _ad_result

    exps = sc.column_exponents
    stats = []
    for cols, block in source.iter_columns(
        col_block, columns=sc.columns, buffer_bytes=buffer_bytes
    ):
        if exps is not None:
            block = np.ldexp(block, -exps[cols])
        stats.append(ops.ad_statistics(torch, torch.as_tensor(block, device=dev)))
    stat = np.concatenate(stats) if stats else np.empty(0)
    return _ad_result(stat, sc.columns, source.n, source.d, cfg.threshold)


def _gram_tests(
    torch: Any, dev: Any, source: BlockSource, comoments: Any, keep: np.ndarray,
    which: tuple[str, ...], *, row_scale: float, outer_rows: int, block_rows: int,
) -> tuple[Any, Any]:  # fmt: skip
    from ..errors import NotApplicableError
    from ..stats.engines.partials_tiles import henze_zirkler_result, hz_degenerate, mardia_result
    from ..stats.engines.streamed import _whitening
    from ..stats.multivariate import hz_beta

    n, p = source.n, keep.size
    want_m, want_h = "mardia" in which, "hz" in which
    if want_h and hz_degenerate(n, p):
        raise NotApplicableError(hz_degenerate(n, p))
    beta = hz_beta(n, p)
    scale = beta if want_h else 1.0
    mean, w = _whitening(comoments, keep, scale=scale)
    by_tensor = want_m and p * p < n
    skew, hz = want_m and not by_tensor, want_h
    mean_t = torch.as_tensor(mean, device=dev)
    w_t = torch.as_tensor(w, device=dev)
    keep_t = None if keep.size == source.d else torch.as_tensor(keep, device=dev)

    def whiten(start: int, stop: int) -> Any:
        b = torch.as_tensor(np.asarray(source.read_rows(start, stop)), device=dev)
        b = b.to(torch.float64)
        if keep_t is not None:
            b = b[:, keep_t]
        if row_scale != 1.0:
            b = b / row_scale
        return (b - mean_t) @ w_t

    merger = PairwiseMerger()
    for i0, i1 in _row_ranges(n, outer_rows):
        yi = whiten(i0, i1)
        merger.push(ops.gram_diagonal(torch, yi, scale=scale, beta=beta, tensor=by_tensor,
                                      skew=skew, hz=hz, block_rows=block_rows))  # fmt: skip
        if skew or hz:
            for j0 in range(i1, n, block_rows):
                yj = whiten(j0, min(j0 + block_rows, n))
                merger.push(ops.gram_tile(yi, yj, weight=2.0, skew=skew, hz=hz))
    sums = merger.result()
    m = mardia_result(sums, p=p, scale=scale) if want_m else None
    h = henze_zirkler_result(sums, p=p) if want_h else None
    return m, h


# ----------------------------------------------------------------------------- audit
class _RowsProxy:
    """Stands in for the matrix where the battery only indexes a row subsample."""

    def __init__(self, source: BlockSource) -> None:
        self.source = source
        self.shape = (source.n, source.d)

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.source.take(np.asarray(rows)), dtype=np.float64)


def audit_stream(
    source: Any,
    config: AuditConfig | None = None,
    *,
    device: str | None = None,
    block_rows: int | None = None,
    col_block: int | None = None,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
    workers: int | None = None,
    keep_norms: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
    **overrides: Any,
) -> Any:
    """Audit the raw view of a matrix read block by block, with the heavy passes on a device.

    Parameters
    ----------
    source : BlockSource, array_like or path
        As for :func:`.numpy_engine.audit_stream`.
    config : AuditConfig, optional
        ``views`` must be ``("raw",)``.
    device : str, optional
        ``"cuda"``, ``"cuda:N"`` or ``"cpu"`` (default: CUDA when available).
    block_rows, col_block, memory_limit, keep_norms, progress
        As for :func:`.numpy_engine.audit_stream` (``memory_limit`` bounds
        the host buffers and, per block, the device's).
    workers : int, optional
        Accepted for the NumPy engine's signature; blocks go to the device
        one at a time.
    **overrides
        Fields of :class:`AuditConfig` to override.

    Returns
    -------
    AuditResult
        The NumPy engine's result to rounding; ``config.engine`` is
        ``"torch"`` where the config has that field.

    Raises
    ------
    MissingExtraError
        torch is not installed.
    UsageError
        A view other than ``raw``; a CUDA device asked for but absent.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal((300, 4))
    >>> r = audit_stream(x, device="cpu", tests="anderson_darling,norms", projections=0)
    >>> r.views["raw"].coordinates["anderson_darling"].statistics.shape
    (4,)
    """
    base = config or AuditConfig()
    cfg = replace(base, **overrides) if overrides else base
    if cfg.views != ("raw",):
        raise UsageError(
            f"the torch engine audits the raw view only (views={cfg.views!r}); "
            "audit other views in memory with gaussaudit.stats.audit"
        )
    for kw, value in (("block_rows", block_rows), ("col_block", col_block)):
        if value is not None and (isinstance(value, bool) or int(value) < 1):
            raise UsageError(f"{kw} must be a positive integer, got {value!r}")
    if int(memory_limit) < 1:
        raise UsageError(f"memory_limit must be a positive number of bytes, got {memory_limit!r}")
    if "engine" in {f.name for f in fields(cfg)}:
        cfg = replace(cfg, engine="torch")
    torch = _import_torch()
    dev = resolve_device(device if device is not None else getattr(cfg, "device", None))
    with ops.no_tf32(torch), torch.no_grad():
        return _audit(torch, dev, as_source(source), cfg, block_rows=block_rows,
                      col_block=col_block, memory_limit=int(memory_limit),
                      keep_norms=keep_norms, progress=progress)  # fmt: skip


def _audit(
    torch: Any, dev: Any, src: BlockSource, cfg: AuditConfig, *, block_rows: int | None,
    col_block: int | None, memory_limit: int, keep_norms: bool,
    progress: Callable[[str, int, int], None] | None,
) -> Any:  # fmt: skip
    from ..stats._validation import validate
    from ..stats.battery import (
        AuditResult,
        ViewAudit,
        _full_multivariate,
        _view_steps,
    )
    from ..stats.verdict import Verdict, decide

    n, d = src.n, src.d
    brows = int(block_rows) if block_rows else _auto_rows(d, memory_limit, 1)
    sc = scan(src, block_rows=max(brows, 1024), workers=1)
    check = sc.check
    steps = _view_steps(cfg)
    total = len(steps)

    def tick(step: str) -> None:
        if progress is not None:
            progress(f"raw: {step}", steps.index(step), total)

    global_notes = [c.replace("excluded from", "(raw values) excluded from") for c in check.notes]
    execution = {
        "engine": "torch",
        "device": str(dev),
        "streamed": True,
        "rows_audited": n if cfg.max_samples is None else min(n, cfg.max_samples),
        "block_rows": brows,
        "workers": 1,
        "memory_limit": int(memory_limit),
    }
    if cfg.max_samples is not None and n > cfg.max_samples:
        from ..stats.battery import audit

        sub = np.asarray(src.take(seeded_rows(n, cfg.max_samples, cfg.seed)), dtype=np.float64)
        result = audit(validate(sub), replace(cfg, max_samples=None), progress=progress)
        note = describe_subsample(cfg.max_samples, n, cfg.seed)
        return replace(
            result, config=cfg, check=check, n_input=n, matrix=None,
            notes=(f"audited {note}", *global_notes), execution={**execution, "streamed": False},
        )  # fmt: skip

    specs = list(coordinate_tests(cfg.tests))
    moment_specs = [s for s in specs if s.name in _MOMENT_TESTS and n >= s.min_rows]
    column_specs = [s for s in specs if s.name not in _MOMENT_TESTS and n >= s.min_rows]
    on_device = [s for s in column_specs if s.kernel == _AD_KERNEL and sc.columns.size]
    on_cpu = [s for s in column_specs if s not in on_device]
    want_norms = "norms" in cfg.tests
    mv_specs = multivariate_tests(cfg.tests)
    mv_rows = min(n, cfg.multivariate_max_rows)
    full_allowed = bool(mv_specs) and full_view_allowed(cfg, d)
    fits = mv_rows * d * 8 * 4 <= memory_limit
    mv_stream = full_allowed and n <= cfg.multivariate_max_rows and not fits

    sphere_on = cfg.sphere is not False  # the sphere reference reads every row's norm
    parts, row_norms = _row_pass(
        torch, dev, src, sc, moments=True, covariance=want_norms or mv_stream,
        norms=want_norms or sphere_on, keep_norms=keep_norms or sphere_on, block_rows=brows,
    )  # fmt: skip
    notes: list[str] = []
    norms = None
    if want_norms:
        tick("norms")
        norms = norm_result(parts.norms, parts.comoments, norms=row_norms, scale=sc.norm_scale)
    coords: dict[str, Any] = {}
    if specs:
        tick("per-coordinate tests")
        width = col_block or int(max(1, min(128, memory_limit // 2 // max(n * 8 * 5, 1))))
        found = _column_tests(
            src, sc, on_cpu, cfg, col_block=width, workers=1, buffer_bytes=memory_limit // 4
        )
        for s in on_device:
            found[s.name] = _anderson_darling(
                torch, dev, src, sc, cfg, col_block=width, buffer_bytes=memory_limit // 4
            )
        if moment_specs:
            found.update(_moment_results(parts.moments, sc, [s.name for s in moment_specs]))
        for s in specs:
            coords[s.name] = found.get(s.name) or Skipped(
                s.name, f"needs at least {s.min_rows} rows, got {n}"
            )
    rows_in_memory: Any = _RowsProxy(src)
    need_rows = (full_allowed and not mv_stream) or (
        mv_specs and cfg.subspaces and any(s.subspaces for s in mv_specs)
    )
    if need_rows and n <= cfg.multivariate_max_rows and fits:
        rows_in_memory = np.asarray(src.take(np.arange(n)), dtype=np.float64)
    mv: dict[str, Any] = {}
    if mv_specs:
        tick("full-view multivariate tests")
        if mv_stream:

            def gram(keep: np.ndarray, which: tuple[str, ...]) -> tuple[Any, Any]:
                return _gram_tests(
                    torch, dev, src, parts.comoments, keep, which, row_scale=sc.norm_scale,
                    outer_rows=max(brows, 4 * min(brows, 1024)), block_rows=min(brows, 1024),
                )  # fmt: skip

            mv = stream_full_multivariate(gram, sc, cfg)
        else:
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
            src, cfg, mean, block_rows=brows, memory_limit=memory_limit, workers=1
        )
    if cfg.projections == 0 and "projections" in cfg.tests:
        projections = Skipped("projections", "projections = 0: no random directions tested")
    partial = ViewAudit(
        view="raw", n=n, d=d, norms=norms, coordinates=coords, multivariate=mv,
        subspaces=subspaces, projections=projections, verdict=Verdict(None, None, None, ()),
        notes=tuple(notes),
    )  # fmt: skip
    view = finish_raw(partial, src, cfg, parts, sc, row_norms, want_norms)
    view = replace(view, verdict=decide(view, cfg))
    if progress is not None:
        progress("done", total, total)
    from ..stats.rows import rows_used

    execution["rows_used"] = rows_used(n, d, cfg, getattr(view, "calibration", None))
    return AuditResult(
        config=cfg, views={"raw": view}, check=check, n_input=n, notes=tuple(global_notes),
        matrix=None, execution=execution,
    )  # fmt: skip


#: The name the engine registry (:data:`gaussaudit.stats.engines.ENGINES`) imports.
audit_stream_torch = audit_stream
