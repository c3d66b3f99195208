"""The loaded embedding set, and how a raw array becomes one.

:class:`EmbeddingSet` holds the validated float64 matrix with where it came
from; :func:`build_embedding_set` is the one path from a raw array (read from
a file or given in memory) to an :class:`EmbeddingSet`: reshape, an optional
seeded row subsample taken before the float64 copy, then validation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..errors import InvalidEmbeddingsError, UsageError
from ..stats._sampling import seeded_rows
from ..stats._validation import (
    NAN_POLICIES,
    MatrixCheck,
    ValidatedMatrix,
    nonfinite_message,
    nonfinite_summary,
    validate,
)
from ._common import is_torch_tensor, tensor_to_numpy, torch_dtype_name

__all__ = ["EmbeddingSet", "build_embedding_set", "check_options", "from_array"]

_RESHAPES = ("flatten",)


@dataclass(frozen=True, eq=False)
class EmbeddingSet:
    """A validated embedding matrix and a record of where it came from.

    Attributes
    ----------
    matrix : ndarray of float64, shape (n, d)
        The validated matrix (C-contiguous, finite), from ``validate``.
    source : str
        The path as given, or ``"<array>"`` for in-memory data.
    input_format : str
        One of :data:`gaussaudit.io.SUPPORTED_FORMATS` (or a plugin reader's name), or ``"array"``.
    input_dtype : str
        The dtype the data had in the file, before conversion to float64
        (e.g. ``"float16"``, ``"bfloat16"``).
    input_shape : tuple of int
        The shape in the file, before any reshape or row dropping.
    provenance : dict or None
        The JSON sidecar (see :func:`read_sidecar`), if there was one.
    labels : ndarray or None
        Per-row labels from ``EMB.labels.npy`` beside an ``EMB.npy`` input,
        aligned with ``matrix`` (rows dropped by ``nan_policy="omit"`` are
        dropped here too).
    check : MatrixCheck
        What validation found (dropped rows, constant columns, notes).
    selection : dict
        What was taken from the file: ``"key"`` (the array chosen in an
        ``.npz``/``.pt``/``.safetensors``/HDF5/Zarr file, else None),
        ``"columns"`` (the table columns used, else None), ``"reshape"`` and
        ``"nan_policy"``; table formats also record ``"ignored_columns"``, and
        a subsample drawn while loading records ``"rows"``
        (``{"kept", "of", "seed"}``).
    validated : ValidatedMatrix or None
        ``matrix`` with what validation found, so that
        :func:`gaussaudit.stats.audit` does not validate it again.
    """

    matrix: np.ndarray = field(repr=False)
    source: str
    input_format: str
    input_dtype: str
    input_shape: tuple[int, ...]
    provenance: dict | None = field(repr=False)
    labels: np.ndarray | None = field(repr=False)
    check: MatrixCheck = field(repr=False)
    selection: dict
    validated: ValidatedMatrix | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        """Number of rows (samples) after validation."""
        return int(self.matrix.shape[0])

    @property
    def d(self) -> int:
        """Number of columns (dimensions)."""
        return int(self.matrix.shape[1])


def check_options(reshape: str | None, nan_policy: str) -> None:
    """Validate the ``reshape`` and ``nan_policy`` keyword arguments (UsageError)."""
    if reshape is not None and reshape not in _RESHAPES:
        raise UsageError(f"reshape must be None or one of {_RESHAPES}, got {reshape!r}")
    if nan_policy not in NAN_POLICIES:
        raise UsageError(f"nan_policy must be one of {NAN_POLICIES}, got {nan_policy!r}")


def _apply_reshape(arr: np.ndarray, reshape: str | None, name: str) -> np.ndarray:
    if arr.ndim == 1:
        raise InvalidEmbeddingsError(
            f"{name} is 1-D (shape {arr.shape}); embeddings need one row per sample and "
            "at least one column, shape (n_samples, n_dims)"
        )
    if arr.ndim == 0:
        raise InvalidEmbeddingsError(f"{name} is a scalar, not an embedding matrix")
    if reshape == "flatten" and arr.ndim > 2:
        return np.asarray(arr).reshape(arr.shape[0], -1)
    return arr


def build_embedding_set(
    arr: np.ndarray,
    *,
    name: str,
    source: str,
    input_format: str,
    input_dtype: str,
    provenance: dict | None,
    labels: np.ndarray | None,
    selection: dict,
    max_rows: int | None = None,
    seed: int = 0,
) -> EmbeddingSet:
    """Reshape, optionally subsample, validate and wrap a raw array.

    ``selection`` is recorded as given (``"rows"`` is added when a subsample
    of ``max_rows`` rows is drawn); ``labels`` that do not match the rows are
    dropped.
    """
    input_shape = tuple(int(s) for s in arr.shape)
    arr = _apply_reshape(arr, selection["reshape"], name)
    if labels is not None and (labels.ndim != 1 or labels.shape[0] != arr.shape[0]):
        labels = None
    arr, labels, dropped = _subsample_before_conversion(
        arr, labels, selection, name=name, max_rows=max_rows, seed=seed
    )
    valid = validate(arr, name=name, nan_policy=selection["nan_policy"])
    matrix, check = valid.values, valid.check
    if labels is not None and valid.kept_rows is not None:
        labels = labels[valid.kept_rows]
    if dropped is not None:  # rows were dropped before subsampling: report the file's count
        rows, values = dropped
        check = replace(
            check,
            dropped_rows=rows,
            notes=(f"dropped {rows} row(s) holding {values} NaN/Inf value(s)", *check.notes),
        )
    return EmbeddingSet(
        matrix=matrix,
        source=source,
        input_format=input_format,
        input_dtype=input_dtype,
        input_shape=input_shape,
        provenance=provenance,
        labels=labels,
        check=check,
        selection=selection,
        validated=valid,
    )


def _subsample_before_conversion(
    arr: np.ndarray,
    labels: np.ndarray | None,
    selection: dict,
    *,
    name: str,
    max_rows: int | None,
    seed: int,
) -> tuple[np.ndarray, np.ndarray | None, tuple[int, int] | None]:
    """Keep a seeded subsample of rows before the float64 copy is made.

    The rows are the ones :func:`gaussaudit.stats.audit` would pick with
    ``max_samples=max_rows`` after validating the whole matrix, so the audit is
    unchanged; only the selected rows are read from a memory-mapped file and
    converted. The whole file is still checked for NaN/Inf, in row chunks.
    Returns the rows, their labels and, when ``nan_policy="omit"`` dropped
    rows first, ``(rows dropped, values)``.
    """
    n_file = arr.shape[0]
    if max_rows is None or arr.ndim != 2 or arr.dtype.kind not in "biuf" or n_file <= max_rows:
        return arr, labels, None
    count, first, finite_rows = nonfinite_summary(arr)
    candidates = None
    if count:
        if selection["nan_policy"] == "raise":
            raise InvalidEmbeddingsError(nonfinite_message(name, count, first))
        candidates = np.flatnonzero(finite_rows)
        if candidates.size <= max_rows:  # nothing to subsample: the usual path drops rows
            return arr, labels, None
    n_valid = n_file if candidates is None else candidates.size
    chosen = seeded_rows(n_valid, max_rows, seed)  # the rows audit(max_samples=) would keep
    rows = chosen if candidates is None else candidates[chosen]
    selection["rows"] = {"kept": int(max_rows), "of": int(n_valid), "seed": int(seed)}
    dropped = None if candidates is None else (n_file - n_valid, count)
    return np.asarray(arr[rows]), (labels[rows] if labels is not None else None), dropped


def from_array(
    array: object,
    *,
    source: str = "<array>",
    provenance: Mapping[str, Any] | None = None,
    reshape: str | None = None,
    nan_policy: str = "raise",
) -> EmbeddingSet:
    """Wrap an in-memory matrix (NumPy array or torch tensor) as an EmbeddingSet.

    Parameters
    ----------
    array : array_like or torch.Tensor, shape (n, d) or (n, ...)
        The embeddings. Tensors (including bfloat16 and GPU tensors) are
        converted without importing torch here.
    source : str
        What to call the data in reports and error messages.
    provenance : mapping, optional
        Metadata to carry with the matrix.
    reshape : {None, "flatten"}
        ``"flatten"`` turns an (n, ...) array into (n, prod(...)).
    nan_policy : {"raise", "omit"}
        What to do with NaN/Inf values (see ``gaussaudit.stats.validate``).

    Returns
    -------
    EmbeddingSet
    """
    check_options(reshape, nan_policy)
    if provenance is not None and not isinstance(provenance, Mapping):
        raise UsageError(f"provenance must be a mapping, got {type(provenance).__name__}")
    if is_torch_tensor(array):
        input_dtype = torch_dtype_name(array)
        arr = tensor_to_numpy(array)
    else:
        arr = np.asarray(array)
        input_dtype = str(arr.dtype)
    return build_embedding_set(
        arr,
        name=source,
        source=source,
        input_format="array",
        input_dtype=input_dtype,
        provenance=dict(provenance) if provenance is not None else None,
        labels=None,
        selection={"key": None, "columns": None, "reshape": reshape, "nan_policy": nan_policy},
    )
