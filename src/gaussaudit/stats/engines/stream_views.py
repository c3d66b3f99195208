"""The normalised and whitened views of a streamed matrix, as block sources.

A view of a matrix the engine never holds is another
:class:`~.source.BlockSource`: every block read from it is a block of the
underlying source, converted to float64 and transformed on its own.

- ``normalized``: each row divided by its L2 norm, exactly as
  :func:`gaussaudit.stats.views.normalize_rows` (a row-wise transform, so the
  blocks equal the in-memory view's rows).
- ``whitened``: one pass for the mean and the co-moments, the covariance's
  eigenvectors, then ``(x - mean) / scale @ V diag(l)^(-1/2)`` per block, as
  :func:`gaussaudit.stats.views.pca_whiten`.

Examples
--------
>>> import numpy as np
>>> from gaussaudit.stats.engines.source import ArraySource
>>> x = np.random.default_rng(0).standard_normal((50, 3))
>>> view, notes = view_source(ArraySource(x), "normalized")
>>> bool(np.allclose(np.linalg.norm(view.read_rows(0, 50), axis=1), 1.0))
True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...errors import InvalidEmbeddingsError, UnknownNameError
from .partials import CoMoments, PairwiseMerger
from .source import BlockSource, _RowSource

__all__ = ["MappedSource", "view_source"]


class MappedSource(_RowSource):
    """A source whose blocks are ``func(start, block)`` of another source's float64 blocks.

    Parameters
    ----------
    base : BlockSource
    func : callable
        ``func(start, block) -> block``: ``block`` is float64 rows
        ``start:start + len(block)``; the result has ``d`` columns.
    d : int
        Columns of the transformed rows.
    """

    def __init__(
        self, base: BlockSource, func: Callable[[int, np.ndarray], np.ndarray], d: int
    ) -> None:
        self.base, self.func = base, func
        self.n, self.d = base.n, int(d)
        self.dtype = np.dtype(np.float64)

    def read_rows(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` of the view (float64)."""
        block = np.asarray(self.base.read_rows(start, stop), dtype=np.float64)
        return self.func(start, block)


def _normalize(start: int, block: np.ndarray) -> np.ndarray:
    scale = np.max(np.abs(block), axis=1, keepdims=True)
    if np.any(scale == 0):
        row = start + int(np.flatnonzero(scale[:, 0] == 0)[0])
        raise InvalidEmbeddingsError(
            f"row {row} is all zeros and cannot be L2-normalised (normalized view)"
        )
    y = block / scale  # as normalize_rows: guard against overflow in the squares
    return y / np.linalg.norm(y, axis=1, keepdims=True)


def _comoments(source: BlockSource, block_rows: int, workers: int) -> CoMoments:
    from .passes import _ordered_map, _row_ranges

    merger = PairwiseMerger()
    for part in _ordered_map(
        lambda r: CoMoments.of(source.read_rows(*r)), _row_ranges(source.n, block_rows), workers
    ):
        merger.push(part)
    return merger.result()


def _whitened(
    source: BlockSource, top: float, block_rows: int, workers: int, rtol: float = 1e-10
) -> tuple[BlockSource, tuple[str, ...]]:
    n, d = source.n, source.d
    scale = top or 1.0
    if d > n:  # the Gram route of pca_whiten: the rows are few, take them
        from ..views import make_view

        whole = np.asarray(source.read_rows(0, n), dtype=np.float64)
        view = make_view(whole, "whitened")
        from .source import ArraySource

        return ArraySource(view.matrix), view.notes
    cm = _comoments(source, block_rows, workers)
    mean = cm.mean
    cov = cm.comoment / (scale * scale) / (n - 1)
    vals, vecs = np.linalg.eigh(cov)
    vals, vecs = vals[::-1], vecs[:, ::-1]
    keep = vals > rtol * max(vals[0], 0.0)
    basis = np.ascontiguousarray(vecs[:, keep])
    root = np.sqrt(vals[keep])

    def whiten(start: int, block: np.ndarray) -> np.ndarray:
        return ((block - mean) / scale @ basis) / root

    rank = int(keep.sum())
    notes = ["PCA-whitened (centred, W = V diag(l)^-1/2)"]
    if rank < d:
        notes.append(f"covariance rank {rank} < d = {d}: kept {rank} directions")
    return MappedSource(source, whiten, rank), tuple(notes)


def view_source(
    source: BlockSource,
    name: str,
    *,
    top: float | None = None,
    block_rows: int = 4096,
    workers: int = 1,
) -> tuple[BlockSource, tuple[str, ...]]:
    """Return the view ``name`` of ``source`` as a block source, and its notes.

    Parameters
    ----------
    source : BlockSource
    name : {"raw", "normalized", "whitened"}
    top : float, optional
        Largest absolute value of the source (from the scan); the whitened view
        divides by it, as :func:`~gaussaudit.stats.views.pca_whiten`. Found by a
        pass when not given.
    block_rows, workers : int
        Of the co-moment pass the whitened view needs.

    Returns
    -------
    source : BlockSource
    notes : tuple of str
        As :func:`gaussaudit.stats.views.make_view`'s.
    """
    if name == "raw":
        return source, ()
    if name == "normalized":
        return MappedSource(source, _normalize, source.d), ("rows divided by their L2 norm",)
    if name == "whitened":
        if top is None:
            top = 0.0
            for _start, block in source.iter_rows(block_rows):
                top = max(top, float(np.max(np.abs(block))) if block.size else 0.0)
        return _whitened(source, float(top), block_rows, workers)
    raise UnknownNameError("view", name, ("raw", "normalized", "whitened"))
