"""Positive pairs stored beside an embeddings file: ``EMB.pairs.npy``.

``gaussaudit embed --pairs K`` (or ``--pairs-file``) writes, next to
``EMB.npy``, a float32 array of shape ``(m, K, 2, d)``: ``m`` items, ``K``
positive pairs per item, the two members of each pair and the ``d``
embedding dimensions. For images the members are two augmentations of item
``i`` (the trainer's SimCLR pipeline, seeded per item); for texts ``m`` is the
number of rows of the pairs file and ``K = 1``. How they were made is
recorded under ``pairs`` in the sidecar ``EMB.provenance.json``.

``gaussaudit test EMB.npy`` finds the file by name (:func:`pairs_path`) and
reads it with :func:`load_pairs`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import InvalidEmbeddingsError

__all__ = ["PAIRS_SUFFIX", "find_pairs", "load_pairs", "pairs_path"]

#: What replaces the extension of ``EMB.npy``.
PAIRS_SUFFIX = ".pairs.npy"


def pairs_path(path: str | os.PathLike) -> Path:
    """``run/EMB.npy`` -> ``run/EMB.pairs.npy`` (also for ``run/EMB.shards``).

    Examples
    --------
    >>> pairs_path("run/emb.npy").as_posix()
    'run/emb.pairs.npy'
    """
    p = Path(path)
    stem = p.name[: -len(p.suffix)] if p.suffix else p.name
    return p.with_name(stem + PAIRS_SUFFIX)


def find_pairs(path: str | os.PathLike) -> Path | None:
    """Return the pairs file beside an embeddings file, or None when there is none."""
    candidate = pairs_path(path)
    return candidate if candidate.is_file() else None


def load_pairs(path: str | os.PathLike) -> np.ndarray:
    """Read a pairs array ``(m, K, 2, d)`` (never unpickled; memory-mapped).

    Parameters
    ----------
    path : path-like
        An ``.npy`` file.

    Returns
    -------
    ndarray, shape (m, K, 2, d)

    Raises
    ------
    InvalidEmbeddingsError
        The file is missing, not an ``.npy`` array of that shape, or not a
        floating-point array.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "emb.pairs.npy"
    >>> np.save(f, np.zeros((3, 2, 2, 4), dtype=np.float32))
    >>> load_pairs(f).shape
    (3, 2, 2, 4)
    """
    p = Path(path)
    if not p.is_file():
        raise InvalidEmbeddingsError(f"no pairs file {os.fspath(p)!r}")
    try:
        arr = np.load(p, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise InvalidEmbeddingsError(f"pairs file {p.name} is not a readable .npy: {exc}") from None
    if not isinstance(arr, np.ndarray) or arr.ndim != 4 or arr.shape[2] != 2:
        raise InvalidEmbeddingsError(
            f"pairs file {p.name} must hold an array of shape (items, pairs_per_item, 2, d), "
            f"got {getattr(arr, 'shape', None)}"
        )
    if not np.issubdtype(arr.dtype, np.floating):
        raise InvalidEmbeddingsError(f"pairs file {p.name} holds {arr.dtype}, not floats")
    return arr
