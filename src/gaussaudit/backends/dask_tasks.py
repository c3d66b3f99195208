"""The functions the Dask engine runs on its workers, and the tree reduction.

Every function here is a top-level function of plain arguments (blocks,
small arrays, a :class:`~.worker_sources.WorkerSource`), so it pickles by
reference to this module: workers need ``gaussaudit`` installed, nothing
else. Each returns a partial result of :mod:`.partials` /
:mod:`.partials_tiles` (or per-column results to concatenate); the client
merges them with the same exact merges the NumPy engine uses.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from ..errors import NotApplicableError
from ..stats.config import AuditConfig
from ..stats.engines.partials import ColumnMoments, CoMoments, NormSummary
from ..stats.engines.partials_tiles import GramSums
from ..stats.engines.passes import StreamScan, _block_matrix, _RowPartials
from ..stats.results import Skipped
from .worker_sources import WorkerSource

__all__ = ["merge", "tree_reduce"]


# ----------------------------------------------------------------------------- reduction
def merge(a: Any, b: Any) -> Any:
    """``a.merge(b)``: the exact merge of two partials (a task of the reduction tree)."""
    return a.merge(b)


def tree_reduce(parts: list[Any], combine: Any = merge) -> Any:
    """Merge delayed partials pairwise, level by level, keeping block order.

    Parameters
    ----------
    parts : list of dask.delayed.Delayed
        Partials in block order (at least one).
    combine : callable
        ``combine(left, right)``; :func:`merge` by default.

    Returns
    -------
    dask.delayed.Delayed
        The root of a balanced binary tree of ``combine`` tasks (depth
        ``ceil(log2(len(parts)))``), so merging runs on the workers.

    Examples
    --------
    >>> import numpy as np
    >>> from dask import delayed
    >>> from gaussaudit.stats.engines.partials import ColumnMoments
    >>> x = np.arange(10.0)[:, None]
    >>> parts = [delayed(ColumnMoments.of)(b) for b in np.array_split(x, 3)]
    >>> float(tree_reduce(parts).compute(scheduler="sync").mean[0])
    4.5
    """
    from dask import delayed

    level = list(parts)
    if not level:
        raise ValueError("nothing to reduce")
    task = delayed(combine, pure=True)
    while len(level) > 1:
        nxt = [task(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


# ----------------------------------------------------------------------------- scan
class ScanPartial:
    """Column maxima and minima of some rows, and where NaN/Inf values are."""

    def __init__(
        self, high: np.ndarray, low: np.ndarray, bad: int, first: tuple[int, int] | None
    ) -> None:
        self.high, self.low, self.bad, self.first = high, low, bad, first

    def merge(self, other: ScanPartial) -> ScanPartial:
        """Union of two row sets (``self`` comes first in row order)."""
        return ScanPartial(
            np.maximum(self.high, other.high),
            np.minimum(self.low, other.low),
            self.bad + other.bad,
            self.first if self.first is not None else other.first,
        )


def scan_chunk(block: np.ndarray, start: int) -> ScanPartial:
    """Extremes of one row block; counts and locates non-finite values when there are any."""
    high = np.max(block, axis=0).astype(np.float64)
    low = np.min(block, axis=0).astype(np.float64)
    if np.isfinite(high).all() and np.isfinite(low).all():
        return ScanPartial(high, low, 0, None)
    nonfinite = ~np.isfinite(block)
    rows, cols = np.nonzero(nonfinite)
    return ScanPartial(high, low, int(rows.size), (start + int(rows[0]), int(cols[0])))


# ----------------------------------------------------------------------------- row pass
def row_chunk(
    block: np.ndarray,
    exps: np.ndarray | None,
    nscale: float,
    moments: bool,
    covariance: bool,
    norms: bool,
    keep_norms: bool,
) -> tuple[_RowPartials, np.ndarray | None]:
    """Moments, co-moments and norm summary of one row block (as the NumPy engine's)."""
    b = np.asarray(block, dtype=np.float64)
    mom = ColumnMoments.of(np.ldexp(b, -exps) if exps is not None else b) if moments else None
    y = b / nscale if nscale != 1.0 else b
    cm = CoMoments.of(y) if covariance else None
    ns = None
    kept = None
    if norms:
        v = np.sqrt(np.einsum("ij,ij->i", y, y))
        kept = v if keep_norms else None
        ns = NormSummary.of(v)
    return _RowPartials(mom, cm, ns), kept


# ----------------------------------------------------------------------------- column blocks
def column_group(
    spec: WorkerSource,
    group: np.ndarray,
    width: int,
    sc: StreamScan,
    names: tuple[str, ...],
    config: AuditConfig,
) -> list[dict[str, Any]]:
    """Run the column-local kernels on the float64 column blocks of one group of columns.

    The worker reads the group's columns for all rows from ``spec`` itself
    (one pass over the rows), then runs each block of ``width`` columns.
    """
    from ..stats.tests import coordinate_tests

    specs = [s for s in coordinate_tests(config.tests) if s.name in names]
    out: list[dict[str, Any]] = []
    with spec.open() as src:
        budget = src.n * group.size * np.dtype(src.dtype).itemsize
        for cols, block in src.iter_columns(width, columns=group, buffer_bytes=budget):
            vm = _block_matrix(block, sc, cols)
            res: dict[str, Any] = {}
            for test in specs:
                try:
                    r = test.load_kernel()(vm, **test.kernel_options(config))
                    res[test.name] = replace(r, columns=cols[r.columns])
                except NotApplicableError as err:
                    res[test.name] = Skipped(test.name, str(err))
            out.append(res)
    return out


# ----------------------------------------------------------------------------- projections
def projection_mean(parts: _RowPartials, exps: np.ndarray | None) -> np.ndarray:
    """Column means from the merged row partials (undoing per-column rescaling)."""
    mean = parts.moments.mean
    return mean if exps is None else np.ldexp(mean, exps)


def projection_group(
    spec: WorkerSource,
    dirs: np.ndarray,
    mean: np.ndarray,
    offset: int,
    threshold: float,
    chunk_rows: int,
) -> list[Any]:
    """Project every row on some directions (read by this worker) and test them."""
    from ..stats.epps_pulley import epps_pulley
    from ..stats.univariate import DP_MIN_ROWS, anderson_darling, dagostino_pearson

    with spec.open() as src:
        projected = np.empty((src.n, dirs.shape[1]))
        for start, block in src.iter_rows(chunk_rows):
            b = np.asarray(block, dtype=np.float64)
            projected[start : start + b.shape[0]] = (b - mean) @ dirs
    results = [anderson_darling(projected, threshold=threshold), epps_pulley(projected)]
    if projected.shape[0] >= DP_MIN_ROWS:
        results.append(dagostino_pearson(projected))
    cols = np.arange(offset, offset + dirs.shape[1])
    return [replace(r, columns=cols[r.columns]) for r in results]


# ----------------------------------------------------------------------------- Gram tiles
def whiten_chunk(
    block: np.ndarray, keep: np.ndarray | None, row_scale: float, mean: np.ndarray, w: np.ndarray
) -> np.ndarray:
    """Whitened rows ``(x - m) W`` of one block (kept columns, rescaled like the NumPy engine)."""
    b = np.asarray(block, dtype=np.float64)
    if keep is not None:
        b = b[:, keep]
    if row_scale != 1.0:
        b = b / row_scale
    return (b - mean) @ w


def gram_diagonal(
    y: np.ndarray, scale: float, beta: float, tensor: bool, skew: bool, hz: bool, block_rows: int
) -> GramSums:
    """Per-row terms of a whitened block and its diagonal Gram tile."""
    from ..stats.multivariate import _block_sums

    part = GramSums.of_rows(y, scale=scale, beta=beta, tensor=tensor)
    if skew or hz:
        cube, exp_sum = _block_sums(y, block_rows=block_rows, skew=skew, hz=hz)
        part = part.merge(GramSums(cube_sum=cube, exp_sum=exp_sum))
    return part


def gram_tile(yi: np.ndarray, yj: np.ndarray, skew: bool, hz: bool) -> GramSums:
    """Return the sums of the off-diagonal Gram tile ``yi yj'`` (counted twice: ``i < j``)."""
    return GramSums.of_tile(yi, yj, weight=2.0, skew=skew, hz=hz)
