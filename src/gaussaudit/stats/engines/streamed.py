"""Streamed multivariate and characteristic-function statistics over all rows.

:func:`mardia_henze_zirkler_stream` computes Mardia and Henze–Zirkler in two
passes (co-moments, then Gram tiles of row-block pairs ``i <= j``) and
:func:`epps_pulley_stream` the Epps–Pulley statistic per column from
characteristic-function sums, each equal to its in-memory kernel to rounding.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import NotApplicableError
from ..results import CoordinateTestResult
from .partials import CoMoments, PairwiseMerger
from .partials_tiles import (
    CharacteristicSums,
    GramSums,
    add_dicts,
    epps_pulley_statistics,
    henze_zirkler_result,
    hz_degenerate,
    mardia_result,
    tail_bulk_kernel,
)
from .passes import _ordered_map, _row_pass, _row_ranges, _workers, scan
from .source import BlockSource, as_source

__all__ = ["epps_pulley_stream", "mardia_henze_zirkler_stream"]


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
