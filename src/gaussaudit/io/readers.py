"""The reader registry: which function reads which file extension.

Every input format, built-in or plugin, is a :class:`ReaderSpec` in
:data:`READERS`, a :class:`gaussaudit.registry.Registry` whose entry-point
group is ``gaussaudit.readers``. A plugin package adds a format by exposing an
entry point in that group that points at a spec (or a list of specs)::

    [project.entry-points."gaussaudit.readers"]
    feather = "my_pkg.readers:FEATHER"   # a ReaderSpec for ".feather"

A reader is ``read(path, request) -> ReadResult``. Built-ins are registered
here through the same door; a plugin cannot take over a built-in's name or
extension (it is ignored with a warning).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidEmbeddingsError
from ..registry import Registry, load_object

__all__ = [
    "READERS",
    "SUPPORTED_FORMATS",
    "ReadRequest",
    "ReadResult",
    "ReaderSpec",
    "find_reader",
    "reader_for",
    "supported_extensions",
]


@dataclass(frozen=True)
class ReadRequest:
    """What a reader is asked for.

    Attributes
    ----------
    source : str
        The path as the user gave it, sanitised for messages.
    name : str
        The file name (for messages).
    key : str or None
        The array wanted in a multi-array file.
    columns : str, sequence of str or None
        Table columns wanted (table formats only).
    mmap_threshold_bytes : int
        Files larger than this may be memory-mapped.
    stack : ExitStack
        Open files or stores that must stay open until the matrix is built.
    """

    source: str
    name: str
    key: str | None = None
    columns: str | Sequence[str] | None = None
    mmap_threshold_bytes: int = 256 * 2**20
    stack: ExitStack = field(default_factory=ExitStack)


@dataclass
class ReadResult:
    """What a reader returns.

    Attributes
    ----------
    array : array_like
        The data, (n, d) or (n, ...); an ndarray, a memory map, or any object
        with ``shape``, ``ndim``, ``dtype``, row indexing and ``__array__``.
    dtype : str
        The dtype in the file (e.g. ``"bfloat16"``).
    key : str or None
        The array chosen in a multi-array file.
    labels : ndarray or None
        Per-row labels found beside the file.
    columns, ignored_columns : list of str or None
        Table formats: the columns used and the non-numeric ones skipped.
    """

    array: Any
    dtype: str
    key: str | None = None
    labels: np.ndarray | None = None
    columns: list[str] | None = None
    ignored_columns: list[str] | None = None


@dataclass(frozen=True)
class ReaderSpec:
    """One input format.

    Attributes
    ----------
    name : str
        Format name recorded as ``EmbeddingSet.input_format`` (``"npy"``).
    extensions : tuple of str
        Lower-case file extensions, with the dot (``(".h5", ".hdf5")``).
    reader : str
        ``"module:function"`` of the reader, imported only when a file is read.
    keyed : bool
        Whether the format holds several named arrays (``key=`` applies).
    table : bool
        Whether the format is a table (``columns=`` applies).
    directory : bool
        Whether the input is a directory (a Zarr store) rather than a file.
    family : str
        Always ``"reader"`` (the registry's grouping field).
    """

    name: str
    extensions: tuple[str, ...]
    reader: str
    keyed: bool = False
    table: bool = False
    directory: bool = False
    family: str = "reader"

    def load(self) -> Any:
        """Import and return the reader function."""
        return load_object(self.reader)


_BUILTINS = (
    ReaderSpec("npy", (".npy",), "gaussaudit.io.arrays:read_npy"),
    ReaderSpec("npz", (".npz",), "gaussaudit.io.arrays:read_npz", keyed=True),
    ReaderSpec("pt", (".pt", ".pth"), "gaussaudit.io.arrays:read_pt", keyed=True),
    ReaderSpec(
        "safetensors", (".safetensors",), "gaussaudit.io.arrays:read_safetensors", keyed=True
    ),
    ReaderSpec("hdf5", (".h5", ".hdf5"), "gaussaudit.io.stores:read_hdf5", keyed=True),
    ReaderSpec("zarr", (".zarr",), "gaussaudit.io.stores:read_zarr", keyed=True, directory=True),
    ReaderSpec("parquet", (".parquet",), "gaussaudit.io.tables:read_parquet", table=True),
    ReaderSpec("csv", (".csv",), "gaussaudit.io.tables:read_csv", table=True),
    # ``gaussaudit embed --shard-size``: a directory of row shards (gaussaudit.io.shards)
    ReaderSpec("shards", (".shards",), "gaussaudit.io.shards:read_shards", directory=True),
)


def builtin_specs() -> tuple[ReaderSpec, ...]:
    """Return the built-in readers (loaded through the same hook as plugins)."""
    return _BUILTINS


#: Readers by name (entry-point group ``gaussaudit.readers``); built-ins come first.
READERS: Registry[ReaderSpec] = Registry(
    "input format", "gaussaudit.readers", builtins="gaussaudit.io.readers:builtin_specs"
)

#: Input formats read without plugins (``.pth`` is read as ``"pt"``).
SUPPORTED_FORMATS: tuple[str, ...] = tuple(s.name for s in _BUILTINS)


def _extension_table() -> dict[str, ReaderSpec]:
    table: dict[str, ReaderSpec] = {}
    for spec in [*_BUILTINS, *(s for s in READERS.specs() if s not in _BUILTINS)]:
        for ext in spec.extensions:
            ext = ext.lower()
            if ext in table and table[ext] is not spec:
                warnings.warn(
                    f"reader {spec.name!r} claims {ext}, already read by {table[ext].name!r}; "
                    "ignored",
                    stacklevel=3,
                )
                continue
            table[ext] = spec
    return table


def find_reader(path: str | os.PathLike) -> ReaderSpec | None:
    """Return the reader for a path's extension, or None.

    Examples
    --------
    >>> find_reader("emb.H5").name
    'hdf5'
    >>> find_reader("emb.txt") is None
    True
    """
    return _extension_table().get(Path(path).suffix.lower())


def supported_extensions() -> list[str]:
    """Every extension a reader handles, sorted."""
    return sorted(_extension_table())


def reader_for(path: str | os.PathLike) -> ReaderSpec:
    """Return the reader for a path, chosen by its extension.

    Raises
    ------
    InvalidEmbeddingsError
        No reader handles the extension.

    Examples
    --------
    >>> reader_for("run/emb.pth").name
    'pt'
    """
    p = Path(path)
    table = _extension_table()
    spec = table.get(p.suffix.lower())
    if spec is None:
        supported = ", ".join(sorted(table))
        raise InvalidEmbeddingsError(
            f"unsupported file type {p.suffix or '(no extension)'!r} for "
            f"{p.name or os.fspath(path)}; supported: {supported}"
        )
    return spec
