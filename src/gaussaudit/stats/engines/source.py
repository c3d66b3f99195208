"""Row-chunked sources of an ``(n, d)`` embedding matrix, read one block at a time.

An engine never holds the whole matrix: it asks a :class:`BlockSource` for row
blocks (moments, covariance, norms, characteristic-function sums, Gram tiles)
and for column blocks (the sorted tests). Two implementations:

- :class:`ArraySource` wraps anything indexable as ``a[i:j]`` with a shape and
  a dtype: an ndarray, a read-only ``np.memmap`` (``np.load(path,
  mmap_mode="r")``), an HDF5/Zarr array. Slicing reads only that block.
- :class:`NpyFileSource` reads a ``.npy`` file with positioned reads
  (``os.pread``) into a block-sized buffer. Unlike a memory map, the file's
  pages never count in the process's resident memory, so peak RSS stays at the
  block sizes whatever the file size (see ``docs/performance.md``).

Blocks keep float32 and float64 as stored; any other numeric dtype (integers,
float16) is converted to float64 per block. Column blocks are always float64,
converted one block at a time, never the whole matrix.

Examples
--------
>>> import numpy as np
>>> from gaussaudit.stats.engines.source import ArraySource
>>> src = ArraySource(np.arange(12, dtype=np.float32).reshape(6, 2))
>>> [(start, block.shape) for start, block in src.iter_rows(4)]
[(0, (4, 2)), (4, (2, 2))]
>>> [(cols.tolist(), block.dtype.name) for cols, block in src.iter_columns(1)]
[([0], 'float64'), ([1], 'float64')]
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.lib import format as fmt

from ..._pread import read_exact
from ...errors import InvalidEmbeddingsError, UsageError

__all__ = ["ArraySource", "BlockSource", "NpyFileSource", "as_source", "open_npy"]

#: Bytes of native-dtype columns gathered per pass over the rows by default.
DEFAULT_COLUMN_BUFFER = 256 * 2**20
#: Rows per read when gathering column blocks.
_GATHER_ROWS = 8192
_HEADER_READERS = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0}


@runtime_checkable
class BlockSource(Protocol):
    """What an engine needs from a matrix it does not hold.

    Attributes
    ----------
    n, d : int
        Rows and columns.
    dtype : numpy.dtype
        Stored dtype (blocks are float32 or float64).
    """

    n: int
    d: int
    dtype: np.dtype

    def read_rows(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` as a float32 or float64 ``(stop - start, d)`` array."""
        ...

    def iter_rows(self, block_rows: int) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(start, block)`` row blocks in order (the last may be shorter)."""
        ...

    def iter_columns(
        self,
        col_block: int,
        *,
        columns: np.ndarray | None = None,
        buffer_bytes: int | None = None,
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(column indices, float64 (n, width) block)`` over ``columns``.

        ``buffer_bytes`` bounds what is gathered per pass over the rows.
        """
        ...

    def take(self, rows: np.ndarray) -> np.ndarray:
        """Rows at the sorted indices ``rows`` as one array (for small subsamples)."""
        ...


def _block_dtype(dtype: np.dtype) -> np.dtype:
    return dtype if dtype in (np.dtype(np.float32), np.dtype(np.float64)) else np.dtype(np.float64)


class _RowSource:
    """Shared logic: everything from ``read_rows``."""

    n: int
    d: int
    dtype: np.dtype
    column_buffer_bytes: int = DEFAULT_COLUMN_BUFFER

    def read_rows(self, start: int, stop: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def iter_rows(self, block_rows: int) -> Iterator[tuple[int, np.ndarray]]:
        step = _positive(block_rows, "block_rows")
        for start in range(0, self.n, step):
            yield start, self.read_rows(start, min(start + step, self.n))

    def iter_columns(
        self,
        col_block: int,
        *,
        columns: np.ndarray | None = None,
        buffer_bytes: int | None = None,
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield float64 column blocks, gathering several per pass over the rows.

        One pass over the rows fills a native-dtype buffer of up to
        ``buffer_bytes`` (default ``column_buffer_bytes``; at least ``col_block``
        columns); each block of ``col_block`` columns is then converted to
        float64 on its own.
        """
        width = _positive(col_block, "col_block")
        cols = np.arange(self.d) if columns is None else np.asarray(columns, dtype=np.intp)
        itemsize = _block_dtype(self.dtype).itemsize
        budget = self.column_buffer_bytes if buffer_bytes is None else int(buffer_bytes)
        per_pass = max(width, budget // max(self.n * itemsize, 1))
        per_pass = max(width, per_pass // width * width)
        for p0 in range(0, cols.size, per_pass):
            group = cols[p0 : p0 + per_pass]
            buf = self._gather(group)
            for b0 in range(0, group.size, width):
                yield group[b0 : b0 + width], np.array(buf[:, b0 : b0 + width], dtype=np.float64)
            del buf

    def _gather(self, group: np.ndarray) -> np.ndarray:
        contiguous = group.size and group[-1] - group[0] + 1 == group.size
        sel = slice(int(group[0]), int(group[-1]) + 1) if contiguous else group
        buf = np.empty((self.n, group.size), dtype=_block_dtype(self.dtype))
        for start in range(0, self.n, _GATHER_ROWS):
            stop = min(start + _GATHER_ROWS, self.n)
            buf[start:stop] = self.read_rows(start, stop)[:, sel]
        return buf

    def take(self, rows: np.ndarray) -> np.ndarray:
        idx = np.asarray(rows, dtype=np.intp)
        out = np.empty((idx.size, self.d), dtype=_block_dtype(self.dtype))
        if not idx.size:
            return out
        for start in range(0, self.n, _GATHER_ROWS):
            lo, hi = np.searchsorted(idx, [start, start + _GATHER_ROWS])
            if hi > lo:
                stop = min(int(idx[hi - 1]) + 1, self.n)
                out[lo:hi] = self.read_rows(start, stop)[idx[lo:hi] - start]
        return out


def _positive(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise UsageError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


class ArraySource(_RowSource):
    """A source over an in-memory array, a memory map, or a lazily read store.

    Parameters
    ----------
    array : array_like, shape (n, d)
        Anything with ``shape``, ``dtype`` and row slicing; only the sliced
        rows are read (``np.load(path, mmap_mode="r")`` reads only its blocks).
    column_buffer_bytes : int
        Native-dtype bytes gathered per pass by :meth:`iter_columns`.

    Examples
    --------
    >>> import numpy as np
    >>> ArraySource(np.zeros((5, 3), dtype=np.float32)).read_rows(1, 3).shape
    (2, 3)
    """

    def __init__(self, array: Any, *, column_buffer_bytes: int = DEFAULT_COLUMN_BUFFER) -> None:
        shape = tuple(getattr(array, "shape", ()))
        dtype = np.dtype(getattr(array, "dtype", np.float64))
        if len(shape) != 2:
            raise InvalidEmbeddingsError(
                f"embeddings must be 2-D (n_samples, n_dims), got shape {shape}"
            )
        if dtype.kind not in "biuf":
            raise InvalidEmbeddingsError(
                f"embeddings must be a numeric array, got dtype {dtype} "
                "(complex, string and object arrays are not embeddings)"
            )
        self.array = array
        self.n, self.d = int(shape[0]), int(shape[1])
        self.dtype = dtype
        self.column_buffer_bytes = int(column_buffer_bytes)

    def read_rows(self, start: int, stop: int) -> np.ndarray:
        """Return rows ``start:stop`` (float32/float64 as stored, else float64)."""
        block = np.asarray(self.array[start:stop])
        return block if block.dtype == _block_dtype(self.dtype) else block.astype(np.float64)


class NpyFileSource(_RowSource):
    """A ``.npy`` file read with positioned reads, never mapped.

    Parameters
    ----------
    path : str or path-like
        A C-ordered 2-D numeric ``.npy`` file (Fortran order is refused: its
        rows are not contiguous).
    column_buffer_bytes : int
        Native-dtype bytes gathered per pass by :meth:`iter_columns`.

    Notes
    -----
    Reads go through the page cache but not into this process's mappings, so
    resident memory is bounded by the block sizes. Reads are thread-safe.
    """

    def __init__(
        self, path: str | os.PathLike, *, column_buffer_bytes: int = DEFAULT_COLUMN_BUFFER
    ) -> None:
        self.path = Path(path)
        with open(self.path, "rb") as handle:
            try:
                version = fmt.read_magic(handle)
                if version not in _HEADER_READERS:
                    raise ValueError(f"unsupported .npy format version {version}")
                shape, fortran, dtype = _HEADER_READERS[version](handle)
            except ValueError as err:
                raise InvalidEmbeddingsError(f"{self.path}: not a .npy file ({err})") from None
            self._offset = handle.tell()
        if len(shape) != 2:
            raise InvalidEmbeddingsError(
                f"{self.path}: embeddings must be 2-D (n_samples, n_dims), got shape {shape}"
            )
        if fortran and shape[0] > 1 and shape[1] > 1:
            raise InvalidEmbeddingsError(
                f"{self.path}: Fortran-ordered arrays cannot be read by rows; "
                "open it with ArraySource(np.load(path, mmap_mode='r'))"
            )
        if dtype.kind not in "biuf" or dtype.hasobject:
            raise InvalidEmbeddingsError(f"{self.path}: dtype {dtype} is not numeric")
        self.n, self.d = int(shape[0]), int(shape[1])
        self.dtype = np.dtype(dtype)
        self._row_bytes = self.d * self.dtype.itemsize
        self.column_buffer_bytes = int(column_buffer_bytes)
        self._fd = os.open(self.path, os.O_RDONLY)

    def read_rows(self, start: int, stop: int) -> np.ndarray:
        """Return rows ``start:stop``, read with ``os.preadv`` into a fresh buffer."""
        count = max(0, stop - start)
        want = count * self._row_bytes
        buf = bytearray(want)
        read_exact(
            self._fd, memoryview(buf), self._offset + start * self._row_bytes, str(self.path)
        )
        block = np.frombuffer(buf, dtype=self.dtype).reshape(count, self.d)
        target = _block_dtype(self.dtype)
        if block.dtype != target:
            return block.astype(np.float64)
        return block if block.dtype.isnative else block.astype(target.newbyteorder("="))

    def close(self) -> None:
        """Close the file descriptor."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> NpyFileSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


def open_npy(path: str | os.PathLike, **options: Any) -> NpyFileSource:
    """Open a ``.npy`` file as a :class:`NpyFileSource`.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "x.npy")
    >>> np.save(path, np.ones((4, 3), dtype=np.float32))
    >>> with open_npy(path) as src:
    ...     src.n, src.d, src.dtype.name
    (4, 3, 'float32')
    """
    return NpyFileSource(path, **options)


def as_source(data: Any) -> BlockSource:
    """Return ``data`` if it is a :class:`BlockSource`; wrap arrays; open ``.npy`` paths."""
    if isinstance(data, (str, os.PathLike)):
        return open_npy(data)
    if isinstance(data, _RowSource) or isinstance(data, BlockSource):
        return data
    values = getattr(data, "values", None)  # a ValidatedMatrix
    if isinstance(values, np.ndarray) and hasattr(data, "check"):
        return ArraySource(values)
    return ArraySource(getattr(data, "matrix", data))
