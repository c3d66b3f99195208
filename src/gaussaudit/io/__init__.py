"""Read embedding matrices from files, and write them back safely.

:func:`load_embeddings` turns a file (``.npy``, ``.npz``, ``.pt``/``.pth``,
``.safetensors``, ``.h5``/``.hdf5``, ``.zarr``, ``.parquet`` or ``.csv``, or a
format added by a plugin in the ``gaussaudit.readers`` entry-point group) into
an :class:`EmbeddingSet`: the validated float64 matrix together with where it
came from, what was selected from the file, and the JSON provenance sidecar
written beside it. Every matrix goes through :func:`gaussaudit.stats.validate`,
so the rules on shape, finiteness and row count are the same as everywhere else.
Reading is bounded: only regular files are read, headers are checked against
the file size before anything is allocated, sidecars are capped in size and
depth, and nothing is ever unpickled.

Heavy optional packages (torch, pyarrow, safetensors, h5py, zarr) are imported
only inside the reader that needs them; a missing one raises
:class:`~gaussaudit.errors.MissingExtraError` naming the extra to install.

Every output goes through :mod:`gaussaudit.io.atomic`:
:func:`prepare_output` checks a target before long work starts (no special
files, symlinks written through to regular files only, never an input), and
:func:`atomic_write_bytes`, :func:`atomic_write_text` and
:func:`save_embeddings` write through a temporary file in the target directory
followed by :func:`os.replace`, so an interrupted run never leaves a
half-written file (nor, on SIGTERM/SIGHUP, a temporary file).

Modules: ``embedding_set`` (the type), ``load`` (dispatch), ``readers`` (the
registry), ``arrays``, ``tables``, ``stores`` (the built-in readers),
``sidecar``, ``atomic`` and ``save``.
"""

from __future__ import annotations

from .atomic import atomic_write, atomic_write_bytes, atomic_write_text, prepare_output
from .embedding_set import EmbeddingSet, from_array
from .load import load_embeddings
from .readers import READERS, SUPPORTED_FORMATS, ReaderSpec, ReadRequest, ReadResult
from .save import save_embeddings
from .sidecar import (
    MAX_JSON_DEPTH,
    MAX_SIDECAR_BYTES,
    find_sidecar,
    legacy_sidecar_path,
    parse_json_bounded,
    read_sidecar,
    sidecar_path,
)

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_SIDECAR_BYTES",
    "READERS",
    "SUPPORTED_FORMATS",
    "EmbeddingSet",
    "ReadRequest",
    "ReadResult",
    "ReaderSpec",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "find_sidecar",
    "from_array",
    "legacy_sidecar_path",
    "load_embeddings",
    "parse_json_bounded",
    "prepare_output",
    "read_sidecar",
    "save_embeddings",
    "sidecar_path",
]
