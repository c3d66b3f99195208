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

Only the ``raw`` view is streamed so far; ``normalized`` and ``whitened``
raise :class:`~gaussaudit.errors.UsageError`. ``nan_policy="omit"`` is not
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

import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ...errors import InvalidEmbeddingsError, NotApplicableError, UsageError
from .._sampling import describe_subsample, seeded_rows
from .._validation import (
    MIN_ROWS,
    MatrixCheck,
    ValidatedMatrix,
    _constant_from_range,
    nonfinite_message,
)
from ..config import AuditConfig
from ..results import CoordinateTestResult, ProjectionResult, Skipped
from ..tests import TestSpec, coordinate_tests, multivariate_tests
from .partials import (
    CharacteristicSums,
    ColumnMoments,
    CoMoments,
    GramSums,
    NormSummary,
    PairwiseMerger,
    add_dicts,
    epps_pulley_statistics,
    henze_zirkler_result,
    hz_degenerate,
    mardia_result,
    norm_result,
    tail_bulk_kernel,
)
from .source import BlockSource, as_source

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "StreamScan",
    "audit_stream",
    "column_moments",
    "epps_pulley_stream",
    "mardia_henze_zirkler_stream",
    "scan",
]

#: Working memory of the engine's buffers (the process adds its own ~0.2-0.3 GiB).
DEFAULT_MEMORY_LIMIT = 512 * 2**20
#: Per-coordinate tests finalised from the moment partials instead of column blocks.
_MOMENT_TESTS = ("dagostino_pearson", "jarque_bera")


# ----------------------------------------------------------------------------- helpers
def _workers(workers: int | None) -> int:
    return max(1, int(workers)) if workers else min(4, os.cpu_count() or 1)


def _ordered_map(func: Callable[[Any], Any], items: Iterable[Any], workers: int) -> Iterator[Any]:
    """``map(func, items)`` on threads, in order, with at most ``2 * workers`` in flight."""
    if workers <= 1:
        yield from map(func, items)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        window: deque = deque()
        for item in items:
            window.append(pool.submit(func, item))
            if len(window) >= 2 * workers:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


def _row_ranges(n: int, block_rows: int) -> list[tuple[int, int]]:
    return [(s, min(s + block_rows, n)) for s in range(0, n, block_rows)]


def _auto_rows(d: int, memory_limit: int, workers: int) -> int:
    per_row = d * 8 * 6 * 2 * workers  # float64 copies per block, blocks in flight
    return int(min(65536, max(256, memory_limit // max(per_row, 1))))


@dataclass(frozen=True, eq=False)
class StreamScan:
    """What the scan pass found: the streaming counterpart of a ValidatedMatrix.

    Attributes
    ----------
    check : MatrixCheck
    column_scale : ndarray
        Largest absolute value per column.
    columns : ndarray of int
        Non-constant columns (the ones per-coordinate tests run on).
    """

    check: MatrixCheck
    column_scale: np.ndarray
    columns: np.ndarray

    @property
    def column_exponents(self) -> np.ndarray | None:
        """Per-column power-of-two exponents when columns need rescaling, else None."""
        big = self.column_scale[self.columns]
        if big.size and (np.any(big > 2.0**400) or np.any(big < 2.0**-400)):
            exps = np.zeros(self.column_scale.size, dtype=int)
            exps[self.columns] = np.frexp(big)[1]
            return exps
        return None

    @property
    def norm_scale(self) -> float:
        """The power of two rows are divided by for norms and covariance (1 usually)."""
        top = float(np.max(self.column_scale))
        if top == 0.0 or 2.0**-200 < top < 2.0**200:
            return 1.0
        return float(np.ldexp(1.0, np.frexp(top)[1]))


def scan(
    source: BlockSource,
    *,
    name: str = "embeddings",
    block_rows: int = 65536,
    workers: int | None = None,
    min_rows: int = MIN_ROWS,
) -> StreamScan:
    """Validate a source in one pass, as :func:`~gaussaudit.stats.validate` would.

    Raises
    ------
    InvalidEmbeddingsError
        Too few rows, or NaN/Inf values (counted and located in a second pass).
    """
    if source.n < min_rows:
        raise InvalidEmbeddingsError(
            f"{name} has {source.n} row(s); at least {min_rows} are needed"
        )
    if source.d == 0:
        raise InvalidEmbeddingsError(f"{name} has no columns (shape {(source.n, source.d)})")

    def extremes(r: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        b = source.read_rows(*r)
        return np.max(b, axis=0).astype(np.float64), np.min(b, axis=0).astype(np.float64)

    high = np.full(source.d, -np.inf)
    low = np.full(source.d, np.inf)
    bad = False
    for hi, lo in _ordered_map(extremes, _row_ranges(source.n, block_rows), _workers(workers)):
        bad = bad or not (np.isfinite(hi).all() and np.isfinite(lo).all())
        np.maximum(high, hi, out=high)
        np.minimum(low, lo, out=low)
    if bad:
        count, first = 0, None
        for start, b in source.iter_rows(block_rows):
            nonfinite = ~np.isfinite(b)
            found = int(nonfinite.sum())
            if found and first is None:
                rows, cols = np.nonzero(nonfinite)
                first = (start + int(rows[0]), int(cols[0]))
            count += found
        raise InvalidEmbeddingsError(nonfinite_message(name, count, first))
    const_idx, scale = _constant_from_range(high, low)
    const = tuple(int(i) for i in const_idx)
    notes = []
    if const:
        shown = ", ".join(str(i) for i in const[:10]) + (" ..." if len(const) > 10 else "")
        notes.append(
            f"{len(const)} constant or numerically zero column(s) excluded from "
            f"per-coordinate tests: {shown}"
        )
    check = MatrixCheck(
        n=source.n, d=source.d, input_dtype=str(source.dtype), constant_columns=const,
        notes=tuple(notes),
    )  # fmt: skip
    columns = np.setdiff1d(np.arange(source.d), np.asarray(const, dtype=int))
    return StreamScan(check=check, column_scale=scale, columns=columns)


# ----------------------------------------------------------------------------- row pass
@dataclass(frozen=True, eq=False)
class _RowPartials:
    moments: ColumnMoments | None
    comoments: CoMoments | None
    norms: NormSummary | None

    def merge(self, other: _RowPartials) -> _RowPartials:
        def m(a: Any, b: Any) -> Any:
            return None if a is None else a.merge(b)

        return _RowPartials(
            m(self.moments, other.moments),
            m(self.comoments, other.comoments),
            m(self.norms, other.norms),
        )


def _row_pass(
    source: BlockSource,
    sc: StreamScan,
    *,
    moments: bool,
    covariance: bool,
    norms: bool,
    keep_norms: bool,
    block_rows: int,
    workers: int,
) -> tuple[_RowPartials, np.ndarray | None]:
    exps = sc.column_exponents
    nscale = sc.norm_scale
    row_norms = np.empty(source.n) if keep_norms and norms else None

    def work(r: tuple[int, int]) -> _RowPartials:
        b = np.asarray(source.read_rows(*r), dtype=np.float64)  # this block only
        mom = None
        if moments:
            mom = ColumnMoments.of(np.ldexp(b, -exps) if exps is not None else b)
        y = b / nscale if nscale != 1.0 else b
        cm = CoMoments.of(y) if covariance else None
        ns = None
        if norms:
            v = np.sqrt(np.einsum("ij,ij->i", y, y))
            if row_norms is not None:
                row_norms[r[0] : r[1]] = v
            ns = NormSummary.of(v)
        return _RowPartials(mom, cm, ns)

    merger = PairwiseMerger()
    for part in _ordered_map(work, _row_ranges(source.n, block_rows), workers):
        merger.push(part)
    return merger.result(), row_norms


def column_moments(
    source: Any, *, block_rows: int = 4096, workers: int | None = None
) -> ColumnMoments:
    """Return the merged per-column moments of a source (all columns, unscaled).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(1).standard_normal((300, 2))
    >>> m = column_moments(x, block_rows=7)
    >>> bool(np.allclose(m.mean, x.mean(axis=0)))
    True
    """
    src = as_source(source)
    merger = PairwiseMerger()
    for part in _ordered_map(
        lambda r: ColumnMoments.of(src.read_rows(*r)), _row_ranges(src.n, block_rows),
        _workers(workers),
    ):  # fmt: skip
        merger.push(part)
    return merger.result()


# ----------------------------------------------------------------------------- column pass
_SUBSAMPLE_FLAT = re.compile(r"^(\d+) column\(s\) constant on the subsample were not tested$")


def _join(results: list[CoordinateTestResult], d: int) -> CoordinateTestResult:
    """Concatenate per-column-block results (columns already global)."""
    first = results[0]
    notes: list[str] = []
    flat = 0
    for r in results:
        for note in r.notes:
            found = _SUBSAMPLE_FLAT.match(note)
            if found:
                flat += int(found.group(1))
            elif note not in notes:
                notes.append(note)
    if flat:
        notes.append(f"{flat} column(s) constant on the subsample were not tested")
    extra = {
        k: np.concatenate([r.extra[k] for r in results]) for k in first.extra
    }  # fmt: skip
    return replace(
        first,
        statistics=np.concatenate([r.statistics for r in results]),
        pvalues=np.concatenate([r.pvalues for r in results]),
        columns=np.concatenate([r.columns for r in results]).astype(first.columns.dtype),
        d=d,
        extra=extra,
        notes=tuple(notes),
    )


def _block_matrix(block: np.ndarray, sc: StreamScan, cols: np.ndarray) -> ValidatedMatrix:
    check = MatrixCheck(n=block.shape[0], d=block.shape[1], input_dtype=sc.check.input_dtype)
    return ValidatedMatrix(values=block, check=check, column_scale=sc.column_scale[cols])


def _column_tests(
    source: BlockSource,
    sc: StreamScan,
    specs: list[TestSpec],
    config: AuditConfig,
    *,
    col_block: int,
    workers: int,
    buffer_bytes: int | None = None,
) -> dict[str, CoordinateTestResult | Skipped]:
    """Run column-local kernels on float64 column blocks and join the results."""
    out: dict[str, Any] = {}
    if not specs:
        return out
    d = source.d
    if sc.columns.size == 0:  # every column constant: the kernels return empty results
        dummy = ValidatedMatrix(
            values=np.zeros((source.n, 1)),
            check=MatrixCheck(n=source.n, d=1, input_dtype="float64", constant_columns=(0,)),
            column_scale=np.zeros(1),
        )
        for spec in specs:
            try:
                res = spec.load_kernel()(dummy, **spec.kernel_options(config))
                out[spec.name] = replace(res, d=d)
            except NotApplicableError as err:
                out[spec.name] = Skipped(spec.name, str(err))
        return out
    parts: dict[str, list] = {s.name: [] for s in specs}
    failed: dict[str, Skipped] = {}

    def work(item: tuple[np.ndarray, np.ndarray]) -> dict[str, Any]:
        cols, block = item
        vm = _block_matrix(block, sc, cols)
        res: dict[str, Any] = {}
        for spec in specs:
            if spec.name in failed:
                continue
            try:
                r = spec.load_kernel()(vm, **spec.kernel_options(config))
                res[spec.name] = replace(r, columns=cols[r.columns])
            except NotApplicableError as err:
                res[spec.name] = Skipped(spec.name, str(err))
        return res

    blocks = source.iter_columns(col_block, columns=sc.columns, buffer_bytes=buffer_bytes)
    for res in _ordered_map(work, blocks, workers):
        for name, r in res.items():
            if isinstance(r, Skipped):
                failed.setdefault(name, r)
            else:
                parts[name].append(r)
    for spec in specs:
        out[spec.name] = failed[spec.name] if spec.name in failed else _join(parts[spec.name], d)
    return out


def _moment_results(
    mom: ColumnMoments, sc: StreamScan, names: list[str]
) -> dict[str, CoordinateTestResult]:
    from ..univariate import _dp_result

    sel = mom.select(sc.columns)
    g1, g2 = sel.skewness_kurtosis()
    n, d, cols = sc.check.n, sc.check.d, sc.columns
    out: dict[str, Any] = {}
    for name in names:
        if name == "dagostino_pearson":
            out[name] = _dp_result(g1, g2, cols, n, d)
        else:
            jb = n / 6.0 * (g1**2 + 0.25 * g2**2)
            out[name] = CoordinateTestResult(
                test="jarque_bera",
                statistics=jb,
                pvalues=np.exp(-0.5 * jb),
                columns=cols,
                n=n,
                n_input=n,
                d=d,
                method="Jarque-Bera, asymptotic chi2(2) p-value",
                extra={"skewness": g1, "excess_kurtosis": g2},
            )
    return out


# ----------------------------------------------------------------------------- projections
def _projections(
    source: BlockSource,
    config: AuditConfig,
    mean: np.ndarray,
    *,
    block_rows: int,
    memory_limit: int,
    workers: int,
) -> ProjectionResult | Skipped:
    """Run the projection battery on groups of directions, each projected block by block."""
    from ..epps_pulley import epps_pulley
    from ..projections import random_directions
    from ..univariate import DP_MIN_ROWS, anderson_darling, dagostino_pearson

    n, d = source.n, source.d
    try:
        directions = random_directions(d, config.projections, seed=config.seed)
    except UsageError as err:
        return Skipped("projections", str(err))
    group = int(max(1, min(directions.shape[1], memory_limit // max(n * 8 * 4, 1))))
    parts: dict[str, list] = {"anderson_darling": [], "dagostino_pearson": [], "epps_pulley": []}
    for g0 in range(0, directions.shape[1], group):
        dirs = directions[:, g0 : g0 + group]
        projected = np.empty((n, dirs.shape[1]))

        def work(r: tuple[int, int], dirs: np.ndarray = dirs, out: np.ndarray = projected) -> None:
            b = np.asarray(source.read_rows(*r), dtype=np.float64)
            out[r[0] : r[1]] = (b - mean) @ dirs

        for _ in _ordered_map(work, _row_ranges(n, block_rows), workers):
            pass
        offset = np.arange(g0, g0 + dirs.shape[1])
        results = [anderson_darling(projected, threshold=config.threshold), epps_pulley(projected)]
        if n >= DP_MIN_ROWS:
            results.append(dagostino_pearson(projected))
        for r in results:
            parts[r.test].append(replace(r, columns=offset[r.columns]))
        del projected
    tests: dict[str, Any] = {"anderson_darling": _join(parts["anderson_darling"], d)}
    if n < DP_MIN_ROWS:
        tests["dagostino_pearson"] = Skipped(
            "dagostino_pearson", f"needs at least {DP_MIN_ROWS} rows, got {n}"
        )
    else:
        tests["dagostino_pearson"] = _join(parts["dagostino_pearson"], d)
    tests["epps_pulley"] = _join(parts["epps_pulley"], d)
    for key, res in tests.items():  # d of a projection result is the number of directions
        if isinstance(res, CoordinateTestResult):
            tests[key] = replace(res, d=directions.shape[1])
    return ProjectionResult(
        n_projections=int(config.projections),
        seed=int(config.seed),
        directions=directions,
        tests=tests,
    )


# ----------------------------------------------------------------------------- Gram tiles
def _whitening(
    comoments: CoMoments, keep: np.ndarray, *, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and whitening matrix ``W`` with ``(x - m) W`` Mahalanobis-whitened times ``scale``."""
    from ..multivariate import MAX_CONDITION, _spectrum_problem

    n, p = comoments.n, keep.size
    cov = comoments.covariance()[np.ix_(keep, keep)]
    problem = _spectrum_problem(n, p, None, MAX_CONDITION) if p >= n else None
    if problem is None:
        vals, vecs = np.linalg.eigh(cov)
        problem = _spectrum_problem(n, p, vals, MAX_CONDITION)
    if problem:
        raise NotApplicableError(problem)
    return comoments.mean[keep], vecs * (scale / np.sqrt(vals))


def _gram_pass(
    source: BlockSource,
    keep: np.ndarray,
    mean: np.ndarray,
    w: np.ndarray,
    *,
    row_scale: float,
    beta: float,
    scale: float,
    skew: bool,
    hz: bool,
    tensor: bool,
    outer_rows: int,
    block_rows: int,
    workers: int,
) -> GramSums:
    """Second pass: sums over row-block pairs ``i <= j`` of whitened rows."""
    from ..multivariate import _block_sums

    n = source.n
    full = keep.size == source.d

    def whiten(r: tuple[int, int]) -> np.ndarray:
        b = np.asarray(source.read_rows(*r), dtype=np.float64)
        if not full:
            b = b[:, keep]
        if row_scale != 1.0:
            b = b / row_scale
        return (b - mean) @ w

    merger = PairwiseMerger()
    for i0, i1 in _row_ranges(n, outer_rows):
        yi = whiten((i0, i1))
        part = GramSums.of_rows(yi, scale=scale, beta=beta, tensor=tensor)
        if skew or hz:
            cube, exp_sum = _block_sums(yi, block_rows=block_rows, skew=skew, hz=hz)
            part = part.merge(GramSums(cube_sum=cube, exp_sum=exp_sum))
        merger.push(part)
        if skew or hz:

            def tile(r: tuple[int, int], yi: np.ndarray = yi) -> GramSums:
                return GramSums.of_tile(yi, whiten(r), weight=2.0, skew=skew, hz=hz)

            rest = [(j0, j1) for j0, j1 in _row_ranges(n - i1, block_rows)]
            for t in _ordered_map(tile, [(j0 + i1, j1 + i1) for j0, j1 in rest], workers):
                merger.push(t)
    return merger.result()


def _gram_tests(
    source: BlockSource,
    comoments: CoMoments,
    keep: np.ndarray,
    which: tuple[str, ...],
    *,
    row_scale: float,
    outer_rows: int,
    block_rows: int,
    workers: int,
) -> tuple[Any, Any]:
    from ..multivariate import hz_beta

    n, p = source.n, keep.size
    want_m, want_h = "mardia" in which, "hz" in which
    if want_h and hz_degenerate(n, p):
        raise NotApplicableError(hz_degenerate(n, p))
    beta = hz_beta(n, p)
    scale = beta if want_h else 1.0
    mean, w = _whitening(comoments, keep, scale=scale)
    by_tensor = want_m and p * p < n
    sums = _gram_pass(
        source, keep, mean, w, row_scale=row_scale, beta=beta, scale=scale,
        skew=want_m and not by_tensor, hz=want_h, tensor=by_tensor,
        outer_rows=outer_rows, block_rows=block_rows, workers=workers,
    )  # fmt: skip
    m = mardia_result(sums, p=p, scale=scale) if want_m else None
    h = henze_zirkler_result(sums, p=p) if want_h else None
    return m, h


def mardia_henze_zirkler_stream(
    source: Any,
    *,
    which: tuple[str, ...] = ("mardia", "hz"),
    block_rows: int = 1024,
    outer_rows: int = 4096,
    workers: int | None = None,
) -> tuple[Any, Any]:
    """Mardia and Henze–Zirkler on every row of a source, in bounded memory.

    Two passes: co-moments (mean, covariance, whitening), then sums over the
    Gram tiles of row-block pairs ``i <= j`` (an ``outer_rows`` block held
    against ``block_rows`` blocks streamed after it). Memory is
    ``O(outer_rows * (d + block_rows))``, never ``n x n`` nor ``n x d``.

    Parameters
    ----------
    source : BlockSource or array_like
    which : tuple of {"mardia", "hz"}
    block_rows, outer_rows : int
        Tile sizes.
    workers : int, optional
        Threads (default: up to 4).

    Returns
    -------
    mardia, henze_zirkler : result or None
        Equal to :func:`gaussaudit.stats.mardia_henze_zirkler` on the matrix.

    Raises
    ------
    NotApplicableError
        Singular covariance; degenerate Henze–Zirkler.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal((400, 3))
    >>> m, h = mardia_henze_zirkler_stream(x, block_rows=64, outer_rows=128)
    >>> from gaussaudit.stats import mardia_henze_zirkler
    >>> bool(np.isclose(m.b1, mardia_henze_zirkler(x)[0].b1, rtol=1e-10))
    True
    """
    src = as_source(source)
    nw = _workers(workers)
    sc = scan(src, workers=nw)
    parts, _ = _row_pass(
        src, sc, moments=False, covariance=True, norms=False, keep_norms=False,
        block_rows=max(block_rows, 256), workers=nw,
    )  # fmt: skip
    keep = np.arange(src.d)
    return _gram_tests(
        src, parts.comoments, keep, which, row_scale=sc.norm_scale,
        outer_rows=outer_rows, block_rows=block_rows, workers=nw,
    )  # fmt: skip


# ----------------------------------------------------------------------------- Epps-Pulley
def epps_pulley_stream(
    source: Any, *, block_rows: int = 4096, workers: int | None = None
) -> CoordinateTestResult:
    """Epps–Pulley per column from characteristic-function sums, streamed by rows.

    Passes: scan, moments (mean and std per column), the cos/sin sums at the
    quadrature nodes (plus the few ``|z| > 4`` tail points), and, when tails
    exist, their kernel sums with the bulk. Equal to
    :func:`gaussaudit.stats.epps_pulley.epps_pulley` on the matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussaudit.stats.epps_pulley import epps_pulley
    >>> x = np.random.default_rng(0).standard_t(4, size=(600, 3))
    >>> s = epps_pulley_stream(x, block_rows=50)
    >>> bool(np.allclose(s.statistics, epps_pulley(x).statistics, rtol=1e-10))
    True
    """
    from ..epps_pulley import QUADRATURE_NODES, _null_table, epps_pulley_pvalue

    src = as_source(source)
    nw = _workers(workers)
    sc = scan(src, workers=nw)
    exps = sc.column_exponents
    cols = sc.columns
    parts, _ = _row_pass(
        src, sc, moments=True, covariance=False, norms=False, keep_norms=False,
        block_rows=block_rows, workers=nw,
    )  # fmt: skip
    mom = parts.moments.select(cols)
    mean, std = mom.mean, np.sqrt(mom.variance())

    def standardised(r: tuple[int, int]) -> np.ndarray:
        b = np.asarray(src.read_rows(*r), dtype=np.float64)[:, cols]
        if exps is not None:
            b = np.ldexp(b, -exps[cols])
        return (b - mean) / std

    ranges = _row_ranges(src.n, block_rows)
    merger = PairwiseMerger()
    for part in _ordered_map(lambda r: CharacteristicSums.of(standardised(r)), ranges, nw):
        merger.push(part)
    sums = merger.result() if cols.size else None
    cross: dict[int, float] = {}
    if sums is not None and sums.tails:
        tails = sums.tails
        for part in _ordered_map(lambda r: tail_bulk_kernel(standardised(r), tails), ranges, nw):
            cross = add_dicts(cross, part)
    stat = epps_pulley_statistics(sums, cross) if sums is not None else np.empty(0)
    table = _null_table()
    return CoordinateTestResult(
        test="epps_pulley",
        statistics=stat,
        pvalues=epps_pulley_pvalue(stat, src.n),
        columns=cols,
        n=src.n,
        n_input=src.n,
        d=src.d,
        method=(
            f"Epps-Pulley (BHEP, beta=1), {QUADRATURE_NODES}-node Gauss-Hermite quadrature; "
            f"p-value from a simulated null table ({table['reps']} replicates per n, "
            f"seed {table['seed']})"
        ),
    )


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
    **overrides: Any,
) -> Any:
    """Audit the raw view of a matrix read block by block, in bounded memory.

    Parameters
    ----------
    source : BlockSource, array_like or path
        A :class:`~.source.BlockSource`; an array or memory map (wrapped in
        :class:`~.source.ArraySource`); a ``.npy`` path (opened with
        :func:`~.source.open_npy`).
    config : AuditConfig, optional
        As for :func:`gaussaudit.stats.audit`; ``views`` must be ``("raw",)``.
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
        A view other than ``raw`` was asked for.
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
    from ..battery import (
        AuditResult,
        ViewAudit,
        _audit_view,
        _full_multivariate,
        _subspaces,
        _view_steps,
    )
    from ..verdict import Verdict, decide

    base = config or AuditConfig()
    cfg = replace(base, **overrides) if overrides else base
    if cfg.views != ("raw",):
        raise UsageError(
            f"audit_stream audits the raw view only (views={cfg.views!r}); "
            "audit other views in memory with gaussaudit.stats.audit"
        )
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
    total = len(steps)

    def tick(step: str) -> None:
        if progress is not None:
            progress(f"raw: {step}", steps.index(step), total)

    global_notes = [c.replace("excluded from", "(raw values) excluded from") for c in check.notes]
    if cfg.max_samples is not None and n > cfg.max_samples:  # a subsample fits in memory
        sub = np.asarray(src.take(seeded_rows(n, cfg.max_samples, cfg.seed)), dtype=np.float64)
        view = _audit_view(validate(sub), "raw", cfg, tick)
        if progress is not None:
            progress("done", total, total)
        note = describe_subsample(cfg.max_samples, n, cfg.seed)
        return AuditResult(
            config=cfg, views={"raw": view}, check=check, n_input=n,
            notes=(f"audited {note}", *global_notes), matrix=None,
        )  # fmt: skip

    specs = list(coordinate_tests(cfg.tests))
    moment_specs = [s for s in specs if s.name in _MOMENT_TESTS and n >= s.min_rows]
    column_specs = [s for s in specs if s.name not in _MOMENT_TESTS and n >= s.min_rows]
    want_norms = "norms" in cfg.tests
    mv_specs = multivariate_tests(cfg.tests)
    want_proj = "projections" in cfg.tests and bool(cfg.projections)
    mv_rows = min(n, cfg.multivariate_max_rows)
    full_allowed = bool(mv_specs) and _full_view_allowed(cfg, d)
    fits = mv_rows * d * 8 * 4 <= memory_limit
    mv_stream = full_allowed and n <= cfg.multivariate_max_rows and not fits

    parts, row_norms = _row_pass(
        src, sc, moments=bool(moment_specs) or want_proj, covariance=want_norms or mv_stream,
        norms=want_norms, keep_norms=keep_norms, block_rows=brows, workers=nw,
    )  # fmt: skip
    notes: list[str] = []
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
        elif full_allowed and isinstance(rows_in_memory, _RowsProxy) and n <= mv_rows:
            why = "the rows do not fit memory_limit (raise it or lower multivariate_max_rows)"
            mv = {s.name: Skipped(s.name, why) for s in mv_specs}
        else:
            mv = _full_multivariate(rows_in_memory, cfg)
    mv_note = mv.pop("_note", None)
    if mv_note:
        notes.append(f"full-view multivariate tests on {mv_note}")
    subspaces = None
    if "subspace tests" in steps:
        tick("subspace tests")
        if (
            isinstance(rows_in_memory, _RowsProxy)
            and n <= cfg.multivariate_max_rows
            and (d > cfg.subspace_dim)
        ):
            subspaces = Skipped(
                "subspaces",
                "the rows do not fit memory_limit (raise it or lower multivariate_max_rows)",
            )
        else:
            subspaces = _subspaces(rows_in_memory, cfg, notes)
    projections = None
    if "random projections" in steps:
        tick("random projections")
        exps = sc.column_exponents
        mean = parts.moments.mean if exps is None else np.ldexp(parts.moments.mean, exps)
        projections = _projections(
            src, cfg, mean, block_rows=brows, memory_limit=memory_limit, workers=nw
        )
    partial = ViewAudit(
        view="raw", n=n, d=d, norms=norms, coordinates=coords, multivariate=mv,
        subspaces=subspaces, projections=projections, verdict=Verdict(None, None, None, ()),
        notes=tuple(notes),
    )  # fmt: skip
    view = replace(partial, verdict=decide(partial, cfg))
    if progress is not None:
        progress("done", total, total)
    return AuditResult(
        config=cfg, views={"raw": view}, check=check, n_input=n, notes=tuple(global_notes),
        matrix=None,
    )  # fmt: skip
