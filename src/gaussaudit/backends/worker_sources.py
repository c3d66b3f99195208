"""Picklable descriptions of an input that a remote worker opens for itself.

A distributed engine must not read the matrix on the client and ship it: the
workers read their own blocks from the path. A :class:`WorkerSource` is what
travels in the task graph: a few hundred bytes (kind, path, key, dtype,
shape) that each worker turns into a :class:`~.source.BlockSource` with
:meth:`WorkerSource.open`. It also answers ``shape``, ``dtype`` and
``__getitem__`` on row slices, so ``dask.array.from_array`` can build chunks
that the workers read.

Kinds (:func:`worker_source` picks one):

- ``npy``: a ``.npy`` file, read with positioned reads
  (:class:`~.source.NpyFileSource`); a ``np.memmap`` or an
  :class:`~.source.ArraySource` over one is described by its file.
- ``zarr`` / ``hdf5``: one array of a ``.zarr`` store or ``.h5`` file
  (``key`` as for :func:`gaussaudit.io.load_embeddings`).
- ``parquet``: a ``.parquet`` file or a directory of them, read by row group;
  numeric columns (or ``columns``).
- ``object``: any other picklable :class:`~.source.BlockSource` (an in-memory
  array is then shipped to the workers, once per worker).

Examples
--------
>>> import numpy as np, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "x.npy")
>>> np.save(path, np.arange(12, dtype=np.float32).reshape(4, 3))
>>> spec = worker_source(path)
>>> spec.kind, spec.shape, spec.dtype.name
('npy', (4, 3), 'float32')
>>> with spec.open() as src:
...     src.read_rows(1, 2).tolist()
[[3.0, 4.0, 5.0]]
"""

from __future__ import annotations

import itertools
import mmap
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidEmbeddingsError, MissingExtraError, UsageError
from ..stats.engines.source import ArraySource, BlockSource, NpyFileSource, _block_dtype, _RowSource

__all__ = ["ParquetSource", "WorkerSource", "worker_source"]


# ----------------------------------------------------------------------------- Parquet
def _parquet_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.parquet") if p.is_file())
        if not files:
            raise InvalidEmbeddingsError(f"{path} holds no .parquet files")
        return files
    return [path]


def _parquet_layout(
    path: Path, columns: tuple[str, ...] | None
) -> tuple[list[tuple[int, int, int]], tuple[str, ...], np.dtype, list[Path]]:
    """Row groups ``(file index, group index, rows)``, chosen columns, their dtype."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingExtraError("pyarrow", "formats", "reading .parquet files") from None
    files = _parquet_files(path)
    groups: list[tuple[int, int, int]] = []
    chosen: tuple[str, ...] | None = None
    dtypes: list[np.dtype] = []
    for i, file in enumerate(files):
        try:
            meta = pq.ParquetFile(file)
        except Exception as exc:  # Arrow raises several types for a corrupt footer
            raise InvalidEmbeddingsError(f"{file} is not a readable Parquet file: {exc}") from None
        schema = meta.schema_arrow
        numeric = [
            f.name for f in schema if pa.types.is_integer(f.type) or pa.types.is_floating(f.type)
        ]
        names = tuple(columns) if columns is not None else tuple(numeric)
        missing = [c for c in names if c not in numeric]
        if missing:
            raise InvalidEmbeddingsError(f"{file}: column(s) {missing} are missing or not numeric")
        if not names:
            raise InvalidEmbeddingsError(f"{file} has no numeric columns")
        if chosen is None:
            chosen = names
            dtypes = [np.dtype(schema.field(c).type.to_pandas_dtype()) for c in names]
        elif names != chosen:
            raise InvalidEmbeddingsError(f"{file}: its columns differ from those of {files[0]}")
        for g in range(meta.metadata.num_row_groups):
            groups.append((i, g, int(meta.metadata.row_group(g).num_rows)))
    assert chosen is not None
    return groups, chosen, np.result_type(*dtypes), files


class ParquetSource(_RowSource):
    """Rows of a ``.parquet`` file or directory, read by row group.

    Parameters
    ----------
    path : path-like
        A file, or a directory whose ``*.parquet`` files (sorted by path) are
        concatenated.
    columns : sequence of str, optional
        Columns to use (default: every integer or floating-point column).

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "x.parquet")
    >>> pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0]}).to_parquet(path)
    >>> ParquetSource(path).read_rows(1, 3).tolist()
    [[2.0, 5.0], [3.0, 6.0]]
    """

    def __init__(self, path: str | os.PathLike, columns: tuple[str, ...] | None = None) -> None:
        self.path = Path(path)
        groups, chosen, dtype, files = _parquet_layout(self.path, columns)
        self.files = files
        self.groups = groups
        self.columns = chosen
        self.dtype = np.dtype(dtype)
        self.n, self.d = sum(g[2] for g in groups), len(chosen)
        self.starts = np.concatenate([[0], np.cumsum([g[2] for g in groups])]).astype(np.int64)

    def group_bounds(self) -> list[tuple[int, int]]:
        """Row ranges of the row groups, in order."""
        return [(int(a), int(b)) for a, b in zip(self.starts[:-1], self.starts[1:], strict=True)]

    def _group(self, k: int) -> np.ndarray:
        import pyarrow.parquet as pq

        file_index, group, _ = self.groups[k]
        table = pq.ParquetFile(self.files[file_index]).read_row_group(group, columns=self.columns)
        out = np.empty((table.num_rows, self.d), dtype=_block_dtype(self.dtype))
        for j, name in enumerate(self.columns):
            out[:, j] = table.column(name).to_numpy()
        return out

    def read_rows(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop``, reading the row groups they overlap."""
        stop = min(stop, self.n)
        if stop <= start:
            return np.empty((0, self.d), dtype=_block_dtype(self.dtype))
        first = int(np.searchsorted(self.starts, start, side="right")) - 1
        last = int(np.searchsorted(self.starts, stop, side="left"))
        pieces = [self._group(k) for k in range(first, last)]
        block = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
        offset = int(self.starts[first])
        return block[start - offset : stop - offset]


# ----------------------------------------------------------------------------- specs
@dataclass(frozen=True, eq=False)
class WorkerSource:
    """A source description that workers open themselves.

    Attributes
    ----------
    kind : {"npy", "memmap", "zarr", "hdf5", "parquet", "object"}
    shape : tuple of int
    dtype : numpy.dtype
        Stored dtype.
    path : str or None
    key : str or None
        Array path inside a Zarr store or HDF5 file; for ``memmap``, unused.
    columns : tuple of str or None
        Parquet columns.
    offset : int
        Byte offset of a memory-mapped array's data.
    bounds : tuple of (int, int) or None
        Natural chunk boundaries (Parquet row groups).
    payload : BlockSource or None
        For ``object``: the source itself.
    """

    kind: str
    shape: tuple[int, int]
    dtype: np.dtype
    path: str | None = None
    key: str | None = None
    columns: tuple[str, ...] | None = None
    offset: int = 0
    bounds: tuple[tuple[int, int], ...] | None = None
    payload: Any = field(default=None, repr=False)

    @property
    def ndim(self) -> int:
        """Always 2."""
        return 2

    @property
    def n(self) -> int:
        """Rows."""
        return self.shape[0]

    @property
    def d(self) -> int:
        """Columns."""
        return self.shape[1]

    def __dask_tokenize__(self) -> Any:
        if self.kind == "object":
            return ("gaussaudit-worker-source", id(self.payload))
        return ("gaussaudit-worker-source", self.kind, self.path, self.key, self.columns,
                self.shape, str(self.dtype), self.offset)  # fmt: skip

    @contextmanager
    def open(self) -> Iterator[BlockSource]:
        """Open the source (on whatever machine this runs) and close it afterwards."""
        if self.kind == "npy":
            src = NpyFileSource(self.path)  # type: ignore[arg-type]
            try:
                yield src
            finally:
                src.close()
        elif self.kind == "memmap":
            mm = np.memmap(self.path, dtype=self.dtype, mode="r", offset=self.offset,  # type: ignore[arg-type]
                           shape=self.shape)  # fmt: skip
            yield ArraySource(mm)
        elif self.kind in ("zarr", "hdf5"):
            from ..io._common import choose_key
            from ..io.stores import open_array

            path = Path(self.path)  # type: ignore[arg-type]
            with open_array(self.kind, path, path.name, self.key, choose_key) as (array, _):
                yield ArraySource(array)
        elif self.kind == "parquet":
            yield ParquetSource(self.path, self.columns)  # type: ignore[arg-type]
        elif self.kind == "parquet-row-groups":
            from ..io.parquet_rows import ParquetRowGroups

            yield ParquetRowGroups(Path(self.path), columns=list(self.columns or ()))  # type: ignore[arg-type]
        else:
            yield self.payload

    def __getitem__(self, index: Any) -> np.ndarray:
        """Rows of a ``(rows, columns)`` slice tuple, as ``dask.array.from_array`` asks."""
        rows, cols = index if isinstance(index, tuple) else (index, slice(None))
        start, stop, step = rows.indices(self.n)
        if step != 1:
            raise UsageError("WorkerSource reads contiguous row slices only")
        with self.open() as src:
            return np.asarray(src.read_rows(start, stop))[:, cols]


def _from_path(path: Path, *, key: str | None, columns: tuple[str, ...] | None) -> WorkerSource:
    suffix = path.suffix.lower()
    if suffix == ".npy":
        with NpyFileSource(path) as src:
            return WorkerSource("npy", (src.n, src.d), src.dtype, str(path.resolve()))
    if suffix in (".zarr", ".h5", ".hdf5"):
        kind = "zarr" if suffix == ".zarr" else "hdf5"
        spec = WorkerSource(kind, (0, 0), np.dtype(np.float64), str(path.resolve()), key=key)
        with spec.open() as src:
            return WorkerSource(kind, (src.n, src.d), src.dtype, spec.path, key=key)
    if suffix == ".parquet" or (path.is_dir() and any(path.rglob("*.parquet"))):
        src = ParquetSource(path, columns)
        return WorkerSource(
            "parquet", (src.n, src.d), src.dtype, str(path.resolve()), columns=src.columns,
            bounds=tuple(src.group_bounds()),
        )  # fmt: skip
    raise UsageError(
        f"{path}: the distributed engines read .npy, .zarr, .h5/.hdf5 and .parquet inputs"
    )


def _stored_path(array: Any) -> tuple[str, str, str | None] | None:
    """``(kind, path, key)`` of an HDF5 dataset or a local Zarr array (or a StoredArray of one)."""
    inner = getattr(array, "array", array)  # io.stores.StoredArray wraps the dataset
    file = getattr(inner, "file", None)
    if file is not None and getattr(file, "filename", None) and getattr(inner, "name", None):
        return "hdf5", str(Path(file.filename).resolve()), str(inner.name)
    root = getattr(getattr(inner, "store", None), "root", None)
    if root is not None and type(inner).__module__.startswith("zarr"):
        key = getattr(inner, "path", "") or None
        return "zarr", str(Path(root).resolve()), key
    return None


def worker_source(
    data: Any, *, key: str | None = None, columns: tuple[str, ...] | None = None
) -> WorkerSource:
    """Describe ``data`` so that workers can open it.

    Parameters
    ----------
    data : path, BlockSource, numpy.memmap or array_like
    key : str, optional
        Array inside a Zarr store or HDF5 file.
    columns : sequence of str, optional
        Parquet columns (default: every numeric one).

    Returns
    -------
    WorkerSource
    """
    cols = tuple(columns) if columns is not None else None
    if isinstance(data, WorkerSource):
        return data
    if isinstance(data, (str, os.PathLike)):
        return _from_path(Path(data), key=key, columns=cols)
    if isinstance(data, NpyFileSource):
        return WorkerSource("npy", (data.n, data.d), data.dtype, str(data.path.resolve()))
    if isinstance(data, ParquetSource):
        return WorkerSource(
            "parquet", (data.n, data.d), data.dtype, str(data.path.resolve()),
            columns=data.columns, bounds=tuple(data.group_bounds()),
        )  # fmt: skip
    if type(data).__name__ == "ParquetRowGroups" and hasattr(data, "_starts"):
        starts = [int(v) for v in data._starts]
        return WorkerSource(
            "parquet-row-groups", (data.n, data.d), data.dtype, str(Path(data.path).resolve()),
            columns=tuple(data.columns), bounds=tuple(itertools.pairwise(starts)),
        )  # fmt: skip
    array = data.array if isinstance(data, ArraySource) else data
    stored = _stored_path(array)
    if stored is not None:
        kind, path, inner = stored
        return WorkerSource(kind, (data.n, data.d), np.dtype(data.dtype), path, key=inner)
    # a memory map as opened (not a view of one): described by its file
    if isinstance(array, np.memmap) and isinstance(array.base, mmap.mmap) and array.ndim == 2:
        if array.flags.c_contiguous and array.filename:
            return WorkerSource("memmap", tuple(array.shape), array.dtype, array.filename,
                                offset=int(array.offset))  # fmt: skip
    if isinstance(data, BlockSource):
        return WorkerSource("object", (data.n, data.d), np.dtype(data.dtype), payload=data)
    src = ArraySource(np.asarray(array) if not hasattr(array, "shape") else array)
    return WorkerSource("object", (src.n, src.d), src.dtype, payload=src)
