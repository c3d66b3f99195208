"""Readers for hierarchical array stores: HDF5 (``.h5``, ``.hdf5``) and Zarr (``.zarr``).

Both hold named arrays in a tree of groups. The array to audit is chosen the
way the ``.npz`` reader chooses one: ``key`` (a path such as
``"model/embeddings"``), else the only array, else the first floating-point
one in the store's order. Neither format can carry pickled Python objects.

:func:`open_array` yields the chosen array *unread*, as a :class:`StoredArray`:
slicing it reads only those rows, so a seeded row subsample of a large store
reads only the sampled rows (``io.load_embeddings(max_rows=...)``). ``h5py``
and ``zarr`` come with the ``formats`` extra and are imported only here, only
when such a file is opened.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GaussAuditError, InvalidEmbeddingsError, MissingExtraError
from ._common import choose_key, first_line, require_regular_file
from .readers import ReadRequest, ReadResult

__all__ = ["StoredArray", "open_array", "read_hdf5", "read_zarr"]

ChooseKey = Callable[..., str]


def _is_float(dtype: Any) -> bool:
    return np.dtype(dtype).kind == "f"


class StoredArray:
    """An array in an open HDF5 file or Zarr store, read only where indexed.

    Parameters
    ----------
    array : h5py.Dataset or zarr.Array
    orthogonal : bool
        Index integer arrays through ``array.oindex`` (Zarr) rather than
        directly (h5py, which takes increasing indices).
    """

    def __init__(self, array: Any, *, orthogonal: bool):
        self.array = array
        self.orthogonal = orthogonal

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the stored array."""
        return tuple(int(s) for s in self.array.shape)

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.shape)

    @property
    def dtype(self) -> np.dtype:
        """NumPy dtype of the stored values."""
        return np.dtype(self.array.dtype)

    def __getitem__(self, index: Any) -> np.ndarray:
        if isinstance(index, np.ndarray) and self.orthogonal:
            return np.asarray(self.array.oindex[index])
        return np.asarray(self.array[index])

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        values = np.asarray(self.array[...])
        return values if dtype is None else values.astype(dtype)


@contextmanager
def open_array(
    fmt: str, path: Path, name: str, key: str | None, choose_key: ChooseKey
) -> Iterator[tuple[StoredArray, str | None]]:
    """Open an HDF5 file or Zarr store and yield the chosen array, unread.

    Parameters
    ----------
    fmt : {"hdf5", "zarr"}
    path : Path
    name : str
        What to call the file in messages.
    key : str, optional
        Array path inside the file (leading and trailing ``/`` ignored).
    choose_key : callable
        ``choose_key(keys, is_float, key, name=...)``, the package's rule.

    Yields
    ------
    array, key : (StoredArray, str or None)
        ``key`` is None for a Zarr store that is itself one array.

    Raises
    ------
    MissingExtraError
        ``h5py`` or ``zarr`` is not installed (exit 3).
    InvalidEmbeddingsError
        Not a readable file of that format, or the array cannot be read; read
        errors inside the ``with`` block are reported the same way.
    """
    opener = _open_hdf5 if fmt == "hdf5" else _open_zarr
    with opener(path, name, key, choose_key) as (array, chosen):
        try:
            yield array, chosen
        except GaussAuditError:
            raise
        except Exception as exc:  # h5py and zarr raise many types for bad chunks
            what = f"array {chosen!r}" if chosen else "the array"
            raise InvalidEmbeddingsError(
                f"{what} in {name} cannot be read: {first_line(exc)}"
            ) from None


@contextmanager
def _open_hdf5(
    path: Path, name: str, key: str | None, choose_key: ChooseKey
) -> Iterator[tuple[StoredArray, str]]:
    try:
        import h5py
    except ImportError:
        raise MissingExtraError("h5py", "formats", "reading HDF5 files") from None
    try:
        fh = h5py.File(path, "r")
    except Exception as exc:  # OSError mostly; corrupt superblocks raise others
        raise InvalidEmbeddingsError(
            f"{name} is not a readable HDF5 file: {first_line(exc)}"
        ) from None
    with fh:
        datasets: dict[str, Any] = {}

        def collect(item_name: str, obj: Any) -> None:
            if isinstance(obj, h5py.Dataset):
                datasets[item_name] = obj

        try:
            fh.visititems(collect)
            dtypes = {k: v.dtype for k, v in datasets.items()}
        except Exception as exc:  # a corrupt file fails while its tree is walked
            raise InvalidEmbeddingsError(
                f"{name} is not a readable HDF5 file: {first_line(exc)}"
            ) from None
        wanted = key.strip("/") if key is not None else None
        chosen = choose_key(list(datasets), lambda k: _is_float(dtypes[k]), wanted, name=name)
        yield StoredArray(datasets[chosen], orthogonal=False), chosen


@contextmanager
def _open_zarr(
    path: Path, name: str, key: str | None, choose_key: ChooseKey
) -> Iterator[tuple[StoredArray, str | None]]:
    try:
        import zarr
    except ImportError:
        raise MissingExtraError("zarr", "formats", "reading Zarr stores") from None
    try:
        root = zarr.open(store=str(path), mode="r")
    except Exception as exc:  # zarr raises several unrelated types for a bad store
        raise InvalidEmbeddingsError(
            f"{name} is not a readable Zarr store: {first_line(exc)}"
        ) from None
    if isinstance(root, zarr.Array):
        if key is not None:
            raise InvalidEmbeddingsError(f"{name} is a single array; it has no key {key!r}")
        yield StoredArray(root, orthogonal=True), None
        return
    try:
        arrays = {
            member_name: node
            for member_name, node in root.members(max_depth=None)
            if isinstance(node, zarr.Array)
        }
    except Exception as exc:  # a corrupt store fails while its tree is walked
        raise InvalidEmbeddingsError(
            f"{name} is not a readable Zarr store: {first_line(exc)}"
        ) from None
    wanted = key.strip("/") if key is not None else None
    chosen = choose_key(list(arrays), lambda k: _is_float(arrays[k].dtype), wanted, name=name)
    yield StoredArray(arrays[chosen], orthogonal=True), chosen


def _read_store(fmt: str, path: Path, request: ReadRequest) -> ReadResult:
    # Unread until indexed: with max_rows only the sampled rows are read. The
    # file stays open until the caller's ExitStack closes it.
    stored, chosen = request.stack.enter_context(
        open_array(fmt, path, request.name, request.key, choose_key)
    )
    return ReadResult(stored, str(stored.dtype), key=chosen)


def read_hdf5(path: Path, request: ReadRequest) -> ReadResult:
    """Open one array of an HDF5 file (``request.key``, else the first float one), unread."""
    require_regular_file(path, request.source)
    return _read_store("hdf5", path, request)


def read_zarr(path: Path, request: ReadRequest) -> ReadResult:
    """Open one array of a Zarr store (a ``.zarr`` directory), unread."""
    if not path.is_dir():
        raise InvalidEmbeddingsError(f"{request.source} is not a Zarr store (a .zarr directory)")
    return _read_store("zarr", path, request)
