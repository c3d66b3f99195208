"""Readers for hierarchical array stores: HDF5 (``.h5``, ``.hdf5``) and Zarr (``.zarr``).

Both hold named arrays in a tree of groups. The array to audit is chosen the
way :mod:`gaussaudit.io` chooses one in an ``.npz``: ``key`` (a path such as
``"model/embeddings"``), else the only array, else the first floating-point
one in the store's order. Neither format can carry pickled Python objects, and
only the chosen array is read. ``h5py`` and ``zarr`` come with the ``formats``
extra and are imported only here, only when such a file is loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InvalidEmbeddingsError, MissingExtraError

__all__ = ["load_hdf5", "load_zarr"]

ChooseKey = Callable[..., str]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _is_float(dtype: Any) -> bool:
    return np.dtype(dtype).kind == "f"


def load_hdf5(
    path: Path, name: str, key: str | None, choose_key: ChooseKey
) -> tuple[np.ndarray, str]:
    """Read one dataset of an HDF5 file.

    Parameters
    ----------
    path : Path
    name : str
        What to call the file in messages.
    key : str, optional
        Dataset path inside the file (leading ``/`` optional).
    choose_key : callable
        ``choose_key(keys, is_float, key, name=...)``, the package's rule.

    Returns
    -------
    array, key : (ndarray, str)

    Raises
    ------
    MissingExtraError
        ``h5py`` is not installed (exit 3).
    InvalidEmbeddingsError
        Not an HDF5 file, or the dataset cannot be read.
    """
    try:
        import h5py
    except ImportError:
        raise MissingExtraError("h5py", "formats", "reading HDF5 files") from None
    try:
        fh = h5py.File(path, "r")
    except OSError as exc:
        raise InvalidEmbeddingsError(
            f"{name} is not a readable HDF5 file: {_first_line(exc)}"
        ) from None
    with fh:
        datasets: dict[str, Any] = {}

        def collect(item_name: str, obj: Any) -> None:
            if isinstance(obj, h5py.Dataset):
                datasets[item_name] = obj

        fh.visititems(collect)
        wanted = key.lstrip("/") if key is not None else None
        chosen = choose_key(
            list(datasets), lambda k: _is_float(datasets[k].dtype), wanted, name=name
        )
        try:
            return np.asarray(datasets[chosen][()]), chosen
        except (OSError, ValueError, TypeError) as exc:
            raise InvalidEmbeddingsError(
                f"dataset {chosen!r} in {name} cannot be read: {_first_line(exc)}"
            ) from None


def load_zarr(
    path: Path, name: str, key: str | None, choose_key: ChooseKey
) -> tuple[np.ndarray, str | None]:
    """Read one array of a Zarr store (a ``.zarr`` directory, v2 or v3 layout; zarr >= 3).

    Parameters
    ----------
    path : Path
    name : str
        What to call the store in messages.
    key : str, optional
        Array path inside the store; a store that is itself one array has no key.
    choose_key : callable
        ``choose_key(keys, is_float, key, name=...)``, the package's rule.

    Returns
    -------
    array, key : (ndarray, str or None)

    Raises
    ------
    MissingExtraError
        ``zarr`` is not installed (exit 3).
    InvalidEmbeddingsError
        Not a Zarr store, or the array cannot be read.
    """
    try:
        import zarr
    except ImportError:
        raise MissingExtraError("zarr", "formats", "reading Zarr stores") from None
    try:
        root = zarr.open(store=str(path), mode="r")
    except Exception as exc:  # zarr raises several unrelated types for a bad store
        raise InvalidEmbeddingsError(
            f"{name} is not a readable Zarr store: {_first_line(exc)}"
        ) from None
    if isinstance(root, zarr.Array):
        if key is not None:
            raise InvalidEmbeddingsError(f"{name} is a single array; it has no key {key!r}")
        return _read_zarr(root, name, "the array"), None
    arrays = {
        member_name: node
        for member_name, node in root.members(max_depth=None)
        if isinstance(node, zarr.Array)
    }
    wanted = key.strip("/") if key is not None else None
    chosen = choose_key(list(arrays), lambda k: _is_float(arrays[k].dtype), wanted, name=name)
    return _read_zarr(arrays[chosen], name, f"array {chosen!r}"), chosen


def _read_zarr(array: Any, name: str, what: str) -> np.ndarray:
    try:
        return np.asarray(array[...])
    except Exception as exc:  # missing chunks, codec errors
        raise InvalidEmbeddingsError(
            f"{what} in {name} cannot be read: {_first_line(exc)}"
        ) from None
