"""Sharded embeddings: a ``.shards`` directory read as one matrix.

``gaussaudit embed --shard-size S`` writes a large output as a directory of
row shards, each made final by a completion marker, so that a run killed at
any point continues where it stopped (:mod:`gaussaudit.extract.shards`)::

    EMB.shards/
      manifest.json        {"format": "gaussaudit.shards", "version": 1, "n", "d",
                            "dtype": "float32", "shard_size", "shards": [{"file",
                            "start", "rows"}, ...], "request"}: the plan, written first
      shard-00000.npy      float32 (rows, d): rows start .. start + rows - 1
      shard-00000.done     {"file", "start", "rows", "sha256"}: written (atomically)
                           only after the shard file is complete and renamed into place
      ...
    EMB.provenance.json    the provenance sidecar, written last: the run is complete
    EMB.labels.npy         labels, when the dataset has them

:func:`read_shards` (the ``shards`` reader of :data:`gaussaudit.io.READERS`)
reads a complete directory as one ``(n, d)`` matrix, row shard by row shard on
demand (:class:`ShardRows`), and refuses an incomplete one with the command
that finishes it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidEmbeddingsError

__all__ = [
    "FORMAT",
    "MANIFEST",
    "ShardRows",
    "done_path",
    "read_manifest",
    "read_shards",
    "shard_name",
]

#: ``manifest.json``'s ``format`` value.
FORMAT = "gaussaudit.shards"
#: The manifest's file name inside the directory.
MANIFEST = "manifest.json"


def shard_name(index: int) -> str:
    """File name of shard ``index``.

    Examples
    --------
    >>> shard_name(3)
    'shard-00003.npy'
    """
    return f"shard-{index:05d}.npy"


def done_path(directory: Path, index: int) -> Path:
    """Completion marker of shard ``index``."""
    return Path(directory) / f"shard-{index:05d}.done"


def read_manifest(directory: str | os.PathLike) -> dict | None:
    """Return the manifest of a shard directory, or None when it has none (or a bad one)."""
    path = Path(directory) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return None
    return manifest


class ShardRows:
    """The rows of every shard as one ``(n, d)`` array, read on demand.

    Each shard is an :class:`~gaussaudit.io.npy_rows.NpyRows` (``pread``, no
    memory map); indexing maps rows to shards.

    Parameters
    ----------
    parts : list of NpyRows
        The shards, in row order.
    """

    def __init__(self, parts: list[Any]) -> None:
        self.parts = parts
        sizes = [p.shape[0] for p in parts]
        self.starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        d = parts[0].shape[1] if parts else 0
        self.shape = (int(self.starts[-1]), int(d))
        self.dtype = parts[0].dtype if parts else np.dtype(np.float32)

    @property
    def ndim(self) -> int:
        """Number of dimensions (2)."""
        return 2

    def __len__(self) -> int:
        return self.shape[0]

    def _rows(self, rows: np.ndarray) -> np.ndarray:
        out = np.empty((rows.size, self.shape[1]), dtype=self.dtype)
        which = np.searchsorted(self.starts, rows, side="right") - 1
        for k in np.unique(which):
            sel = np.flatnonzero(which == k)
            out[sel] = self.parts[int(k)][rows[sel] - self.starts[k]]
        return out

    def __getitem__(self, index: Any) -> np.ndarray:
        n = self.shape[0]
        if isinstance(index, slice):
            return self._rows(np.arange(*index.indices(n), dtype=np.int64))
        if isinstance(index, (int, np.integer)):
            i = int(index) + (n if index < 0 else 0)
            if not 0 <= i < n:
                raise IndexError(f"row {index} out of range for {n} rows")
            return self._rows(np.array([i]))[0]
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


def read_shards(path: Path, request: Any) -> Any:
    """Read a complete ``.shards`` directory as one matrix (the ``shards`` reader).

    Parameters
    ----------
    path : Path
        The directory.
    request : ReadRequest

    Returns
    -------
    ReadResult

    Raises
    ------
    InvalidEmbeddingsError
        No manifest, a shard without its completion marker (an unfinished
        run), or a shard whose shape disagrees with the manifest.
    """
    from .arrays import _npy_header_order, read_labels
    from .npy_rows import NpyRows
    from .readers import ReadResult

    name = request.name
    manifest = read_manifest(path)
    if manifest is None:
        raise InvalidEmbeddingsError(f"{name} has no valid {MANIFEST}: not a sharded output")
    shards = manifest.get("shards") or []
    missing = [i for i in range(len(shards)) if not done_path(path, i).is_file()]
    if missing:
        raise InvalidEmbeddingsError(
            f"{name} is incomplete: {len(shards) - len(missing)} of {len(shards)} shards are "
            "done; rerun the same `gaussaudit embed` command to finish it"
        )
    if not shards:
        raise InvalidEmbeddingsError(f"{name} holds no shards")
    parts = []
    d = int(manifest["d"])
    for entry in shards:
        file = path / Path(entry["file"]).name
        try:
            with open(file, "rb") as fh:
                shape, dtype, _nbytes, fortran = _npy_header_order(fh, file.name)
                offset = fh.tell()
        except OSError as exc:
            raise InvalidEmbeddingsError(f"cannot read {name}/{file.name}: {exc}") from None
        if fortran or shape != (int(entry["rows"]), d):
            raise InvalidEmbeddingsError(
                f"{name}/{file.name} has shape {shape}, the manifest says ({entry['rows']}, {d})"
            )
        parts.append(NpyRows(file, shape, dtype, offset, f"{name}/{file.name}"))
    rows = ShardRows(parts)
    return ReadResult(rows, str(rows.dtype), labels=read_labels(path))
