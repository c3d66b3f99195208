"""Rows of a large ``.npy`` file read with ``pread``, never memory-mapped.

A memory-mapped file that another process truncates while it is being read
kills the reader with SIGBUS, which Python cannot turn into an error. Large
``.npy`` inputs are therefore read through :class:`NpyRows`: it answers
``shape``, ``dtype`` and indexing like an array but reads only the rows asked
for, with ``os.pread`` into a buffer. A file that shrinks underneath gives a
short read, reported as a one-line :class:`~gaussaudit.errors.InvalidEmbeddingsError`
(exit 2) instead of a crash.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .._pread import read_exact

__all__ = ["NpyRows"]


class NpyRows:
    """A C-ordered ``.npy`` array on disk, read by rows on demand.

    Parameters
    ----------
    path : Path
        The file.
    shape : tuple of int
        Shape from the header (at least one dimension).
    dtype : numpy.dtype
        Element type from the header.
    offset : int
        Byte offset of the data (the header's length).
    name : str
        How messages name the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.npy"
    >>> np.save(path, np.arange(12.0).reshape(4, 3))
    >>> rows = NpyRows(path, (4, 3), np.dtype("<f8"), 128, "x.npy")
    >>> rows[np.array([2, 0])].tolist()
    [[6.0, 7.0, 8.0], [0.0, 1.0, 2.0]]
    """

    def __init__(
        self, path: Path, shape: tuple[int, ...], dtype: np.dtype, offset: int, name: str
    ) -> None:
        self.path, self.name = Path(path), name
        self.shape, self.dtype, self.offset = tuple(shape), np.dtype(dtype), int(offset)
        self.row_bytes = self.dtype.itemsize * int(np.prod(self.shape[1:], dtype=np.int64))

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def _read(self, fd: int, start: int, count: int) -> np.ndarray:
        """Rows ``start .. start + count`` as an array (a copy, not a view of the file)."""
        out = np.empty((count, *self.shape[1:]), dtype=self.dtype)
        view = memoryview(out.reshape(-1).view(np.uint8))
        read_exact(fd, view, self.offset + start * self.row_bytes, self.name)
        return out

    def _rows(self, rows: np.ndarray) -> np.ndarray:
        order = np.argsort(rows, kind="stable")
        sorted_rows = rows[order]
        out = np.empty((rows.size, *self.shape[1:]), dtype=self.dtype)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            # read each run of consecutive rows with one call
            breaks = np.flatnonzero(np.diff(sorted_rows) != 1) + 1
            for run in np.split(np.arange(rows.size), breaks):
                if run.size:
                    first = int(sorted_rows[run[0]])
                    block = self._read(fd, first, int(sorted_rows[run[-1]]) - first + 1)
                    out[order[run]] = block[sorted_rows[run] - first]
        finally:
            os.close(fd)
        return out

    def __getitem__(self, index: Any) -> np.ndarray:
        n = self.shape[0]
        if isinstance(index, slice):
            start, stop, step = index.indices(n)
            if step != 1:
                return self._rows(np.arange(start, stop, step))
            fd = os.open(self.path, os.O_RDONLY)
            try:
                return self._read(fd, start, max(stop - start, 0))
            finally:
                os.close(fd)
        if isinstance(index, (int, np.integer)):
            i = int(index) + (n if index < 0 else 0)
            if not 0 <= i < n:
                raise IndexError(f"row {index} out of range for {n} rows")
            return self[i : i + 1][0]
        rows = np.asarray(index)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        rows = rows.astype(np.int64, copy=False)
        rows = np.where(rows < 0, rows + n, rows)
        if rows.size and (rows.min() < 0 or rows.max() >= n):
            raise IndexError(f"row index out of range for {n} rows")
        return self._rows(rows)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        values = self[:]
        return values if dtype is None else values.astype(dtype)
