"""load_embeddings: choose a reader by extension, read, validate."""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidEmbeddingsError, UsageError
from ._common import PATH_CHARS, excerpt, require_regular_file
from .embedding_set import EmbeddingSet, build_embedding_set, check_options
from .readers import READERS, ReadRequest, find_reader, supported_extensions
from .sidecar import read_sidecar

__all__ = ["STREAMED_FORMATS", "load_embeddings", "open_source"]


def _extensions_where(flag: str) -> str:
    exts = sorted({e for s in READERS.specs() if getattr(s, flag) for e in s.extensions})
    return ", ".join(exts)


def load_embeddings(
    path: str | os.PathLike,
    *,
    key: str | None = None,
    columns: str | Sequence[str] | None = None,
    reshape: str | None = None,
    nan_policy: str = "raise",
    mmap_threshold_bytes: int = 256 * 2**20,
    max_rows: int | None = None,
    seed: int = 0,
) -> EmbeddingSet:
    """Load an embedding matrix from a file and validate it.

    Parameters
    ----------
    path : str or path-like
        An ``.npy``, ``.npz``, ``.pt``/``.pth``, ``.safetensors``,
        ``.h5``/``.hdf5``, ``.parquet`` or ``.csv`` file, or a ``.zarr``
        directory (or a format added by a reader plugin); the format is chosen
        by extension. Only regular files are read: a FIFO or a device is
        refused at once.
    key : str, optional
        The array to use in an ``.npz``, ``.pt`` (dict of tensors),
        ``.safetensors``, HDF5 or Zarr file (a path such as ``"group/emb"`` in
        the last two). By default the only array, else the first
        floating-point one; the choice is recorded in ``selection["key"]``.
    columns : str or sequence of str, optional
        Table formats only: column names or ``prefix*`` patterns, as a list or
        a comma-separated string (``"emb_*"``). By default all numeric columns;
        non-numeric ones are skipped and listed in
        ``selection["ignored_columns"]`` (a CSV column that is numeric except
        for some cells is an error, not skipped).
    reshape : {None, "flatten"}
        ``"flatten"`` turns an (n, ...) array into (n, prod(...)).
    nan_policy : {"raise", "omit"}
        What to do with NaN/Inf values (see ``gaussaudit.stats.validate``); with ``"omit"``
        the matching labels are dropped too.
    mmap_threshold_bytes : int
        ``.npy`` files larger than this are memory-mapped rather than read.
    max_rows : int, optional
        Keep a seeded subsample of this many rows, chosen before the float64
        copy is made (only those rows are read from a memory-mapped file).
        They are the rows ``audit(..., max_samples=max_rows, seed=seed)``
        would choose from the whole matrix, so the audit is the same; the
        whole file is still checked for NaN/Inf (in chunks). Recorded in
        ``selection["rows"]`` as ``{"kept", "of", "seed"}``.
    seed : int
        Seed of that subsample.

    Returns
    -------
    EmbeddingSet

    Raises
    ------
    InvalidEmbeddingsError
        Missing, unreadable, special (FIFO, device), unsafe (pickled),
        truncated or forged input, or a bad sidecar.
    UnknownNameError
        ``key`` or a column that the file does not hold.
    UsageError
        Options that do not apply to the format, or bad option values.
    MissingExtraError
        The optional package for the format is not installed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> np.save(d / "emb.npy", np.random.default_rng(0).standard_normal((50, 3)))
    >>> es = load_embeddings(d / "emb.npy")
    >>> (es.n, es.d, es.input_format)
    (50, 3, 'npy')
    """
    check_options(reshape, nan_policy)
    p = Path(path)
    source = os.fspath(path)
    name = excerpt(p.name or source, 120)
    shown = excerpt(source, PATH_CHARS)  # what messages print: no control characters
    if not p.exists():
        raise InvalidEmbeddingsError(f"no such file: {shown}")
    spec = find_reader(p)
    is_dir = p.is_dir()
    if is_dir and (spec is None or not spec.directory):
        raise InvalidEmbeddingsError(f"{shown} is a directory, not an embeddings file")
    if spec is not None and spec.directory and not is_dir:
        raise InvalidEmbeddingsError(
            f"{shown} is not a {spec.name.capitalize()} store (a {spec.extensions[0]} directory)"
        )
    if spec is None:
        raise InvalidEmbeddingsError(
            f"unsupported file type {p.suffix or '(no extension)'!r} for {name}; "
            f"supported: {', '.join(supported_extensions())}"
        )
    if not spec.directory:
        require_regular_file(p, shown)  # a FIFO or device is refused before it is opened
    fmt = spec.name
    if columns is not None and not spec.table:
        raise UsageError(
            f"columns only applies to table files ({_extensions_where('table')}), not .{fmt}"
        )
    if key is not None and not spec.keyed:
        raise UsageError(
            "key only applies to .npz, .pt, .safetensors, HDF5 and Zarr files, not ." + fmt
        )

    provenance = read_sidecar(p)
    selection: dict[str, Any] = {
        "key": None,
        "columns": None,
        "reshape": reshape,
        "nan_policy": nan_policy,
    }
    with ExitStack() as stack:  # an HDF5 file or Zarr store stays open until the set is built
        request = ReadRequest(
            source=shown,
            name=name,
            key=key,
            columns=columns,
            mmap_threshold_bytes=mmap_threshold_bytes,
            stack=stack,
        )
        result = spec.load()(p, request)
        if spec.keyed:
            selection["key"] = result.key
        if spec.table:
            selection["columns"] = result.columns
            selection["ignored_columns"] = result.ignored_columns
        return build_embedding_set(
            result.array,
            name=name,
            source=source,
            input_format=fmt,
            input_dtype=result.dtype,
            provenance=provenance,
            labels=result.labels,
            selection=selection,
            max_rows=max_rows,
            seed=seed,
        )


#: Formats :func:`open_source` reads block by block.
STREAMED_FORMATS = ("npy", "hdf5", "zarr", "parquet", "shards")


def open_source(
    path: str | os.PathLike,
    stack: Any,
    *,
    key: str | None = None,
    columns: str | Sequence[str] | None = None,
) -> tuple[Any, dict[str, Any]] | None:
    """Open an embeddings file as a block source, reading nothing yet.

    ``.npy`` files are read with positioned reads
    (:class:`~gaussaudit.stats.engines.source.NpyFileSource`), HDF5 and Zarr
    arrays by row slices, Parquet files by row groups
    (:class:`~gaussaudit.io.parquet_rows.ParquetRowGroups`).

    Parameters
    ----------
    path : path-like
    stack : contextlib.ExitStack
        Keeps the file open; closing it closes the source.
    key, columns
        As for :func:`load_embeddings`.

    Returns
    -------
    (source, info) or None
        ``info`` holds what the report's ``input`` section needs (``source``,
        ``input_format``, ``input_dtype``, ``input_shape``, ``selection``,
        ``provenance``); None when the format is not read by blocks, or the
        file cannot be (the caller then loads it whole, with its messages).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from contextlib import ExitStack
    >>> path = os.path.join(tempfile.mkdtemp(), "x.npy")
    >>> np.save(path, np.ones((40, 3), dtype=np.float32))
    >>> with ExitStack() as stack:
    ...     src, info = open_source(path, stack)
    ...     src.n, src.d, info["input_format"]
    (40, 3, 'npy')
    """
    from ..stats.engines.source import ArraySource, NpyFileSource

    p = Path(path)
    spec = find_reader(p)
    if spec is None or spec.name not in STREAMED_FORMATS or not p.exists():
        return None
    shown = excerpt(os.fspath(path), PATH_CHARS)
    selection: dict[str, Any] = {"key": None, "columns": None, "reshape": None,
                                 "nan_policy": "raise"}  # fmt: skip
    try:
        if spec.name == "npy":
            if key is not None or columns is not None:
                return None
            source: Any = stack.enter_context(NpyFileSource(p))
            dtype = str(source.dtype)
        elif spec.name == "parquet":
            from .parquet_rows import ParquetRowGroups

            source = ParquetRowGroups(p, columns=columns, name=excerpt(p.name, 120))
            selection["columns"] = list(source.columns)
            selection["ignored_columns"] = list(source.ignored_columns)
            dtype = str(source.dtype)
        else:
            if columns is not None:
                return None
            request = ReadRequest(source=shown, name=excerpt(p.name, 120), key=key,
                                  columns=None, mmap_threshold_bytes=0, stack=stack)  # fmt: skip
            result = spec.load()(p, request)
            array = result.array
            if getattr(array, "ndim", 0) != 2 or np.dtype(array.dtype).kind not in "biuf":
                return None
            source = ArraySource(array)
            selection["key"] = result.key
            dtype = result.dtype
    except (OSError, ValueError, ImportError):
        return None
    info = {
        "source": os.fspath(path),
        "input_format": spec.name,
        "input_dtype": dtype,
        "input_shape": (source.n, source.d),
        "selection": selection,
        "provenance": read_sidecar(p),
    }
    return source, info
