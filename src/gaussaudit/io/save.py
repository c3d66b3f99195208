"""Write an embedding matrix as float32 ``.npy`` with its sidecar and labels."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UsageError
from ._common import format_bytes, labels_path, to_numpy
from .atomic import atomic_write, prepare_output
from .sidecar import MAX_SIDECAR_BYTES, sidecar_path

__all__ = ["save_embeddings"]


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def save_embeddings(
    path: str | os.PathLike,
    matrix: object,
    *,
    provenance: Mapping[str, Any] | None = None,
    labels: object = None,
    inputs: Iterable[str | os.PathLike] = (),
) -> Path:
    """Save an embedding matrix as float32 ``.npy`` with its JSON sidecar.

    Writes ``EMB.npy`` (float32), ``EMB.json`` (the provenance, with ``"n"``
    and ``"d"`` set from the matrix) and, when ``labels`` are given,
    ``EMB.labels.npy``; each file is written atomically. A stale
    ``EMB.labels.npy`` from an earlier save is removed when ``labels`` is None,
    so it cannot be paired with the new matrix. Missing parent directories are
    created.

    Parameters
    ----------
    path : str or path-like
        Destination; must end in ``.npy``.
    matrix : array_like, shape (n, d)
        Numeric embeddings (a NumPy array, or a CPU/GPU torch tensor). NaN and
        infinite values are written as they are; loading decides what to do.
    provenance : mapping, optional
        JSON-serialisable metadata (encoder, weights, dataset, seed, ...).
        NumPy scalars and arrays, paths, tuples and sets are converted.
    labels : array_like, shape (n,), optional
        One numeric or string label per row.
    inputs : iterable of str or path-like
        Files this save must not overwrite (the command's inputs and their
        sidecars); see :func:`gaussaudit.io.prepare_output`.

    Returns
    -------
    Path
        The path of the ``.npy`` file written.

    Raises
    ------
    UsageError
        Bad path suffix, a matrix that is not 2-D numeric, labels of the wrong
        length or type, provenance that cannot be written as JSON or is larger
        than the sidecar limit, or an output path refused by
        :func:`gaussaudit.io.prepare_output` (checked for all three files
        before any is written).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> save_embeddings(d / "emb.npy", np.eye(3), provenance={"encoder": "demo"}).name
    'emb.npy'
    >>> sorted(p.name for p in d.iterdir())
    ['emb.json', 'emb.npy']
    """
    target = Path(path)
    if target.suffix.lower() != ".npy":
        raise UsageError(f"embeddings are saved as .npy; got path {os.fspath(path)!r}")
    arr = to_numpy(matrix)
    if arr.ndim != 2 or arr.dtype.kind not in "biuf":
        raise UsageError(
            f"save_embeddings needs a 2-D numeric matrix, got dtype {arr.dtype}, shape {arr.shape}"
        )
    n, d = (int(s) for s in arr.shape)
    label_arr = None
    if labels is not None:
        label_arr = np.asarray(to_numpy(labels))
        if label_arr.ndim != 1 or label_arr.shape[0] != n:
            raise UsageError(
                f"labels must be 1-D with one entry per row ({n}), got shape {label_arr.shape}"
            )
        if label_arr.dtype.kind not in "biufUS":
            raise UsageError(
                f"labels must be numbers or strings, got dtype {label_arr.dtype} "
                "(object arrays cannot be saved without pickle)"
            )
    if provenance is not None and not isinstance(provenance, Mapping):
        raise UsageError(f"provenance must be a mapping, got {type(provenance).__name__}")
    sidecar = {**dict(provenance or {}), "n": n, "d": d}
    try:
        sidecar_text = json.dumps(sidecar, indent=2, default=_json_default) + "\n"
    except (TypeError, ValueError) as exc:
        raise UsageError(f"provenance cannot be written as JSON: {exc}") from None
    sidecar_bytes = sidecar_text.encode("utf-8")
    if len(sidecar_bytes) > MAX_SIDECAR_BYTES:
        raise UsageError(
            f"provenance is {format_bytes(len(sidecar_bytes))} as JSON; sidecars are limited "
            f"to {format_bytes(MAX_SIDECAR_BYTES)} (they are copied into reports)"
        )

    target.parent.mkdir(parents=True, exist_ok=True)
    labels_file = labels_path(target)
    side = sidecar_path(target)
    inputs = tuple(inputs)
    for out, what in ((target, "embeddings"), (labels_file, "labels"), (side, "sidecar")):
        prepare_output(out, inputs=inputs, what=what)
    x32 = np.ascontiguousarray(arr, dtype=np.float32)
    atomic_write(
        target,
        lambda fh: np.lib.format.write_array(fh, x32, allow_pickle=False),
        inputs=inputs,
        what="embeddings",
    )
    if label_arr is not None:
        atomic_write(
            labels_file,
            lambda fh: np.lib.format.write_array(fh, label_arr, allow_pickle=False),
            inputs=inputs,
            what="labels",
        )
    elif os.path.lexists(labels_file):
        labels_file.unlink()  # a stale file, or a link (the link itself is removed)
    atomic_write(side, lambda fh: fh.write(sidecar_bytes), inputs=inputs, what="sidecar")
    return target
