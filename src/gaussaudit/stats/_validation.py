"""Input validation for embedding matrices, written once and used everywhere.

Every public statistic and loader funnels its input through :func:`as_matrix`,
so the rules (2-D, finite, minimum rows, float64 working precision) and their
error messages are the same wherever a matrix enters the package.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidEmbeddingsError, UsageError

__all__ = [
    "MIN_ROWS",
    "NAN_POLICIES",
    "MatrixCheck",
    "as_matrix",
    "constant_columns",
]

#: Smallest number of rows any gaussaudit test accepts (skewness test needs 8).
MIN_ROWS = 8
NAN_POLICIES = ("raise", "omit")


@dataclass(frozen=True)
class MatrixCheck:
    """What validation found and changed, recorded for the report.

    Attributes
    ----------
    n, d
        Shape after validation.
    input_dtype
        The dtype the data arrived in (statistics always run in float64).
    dropped_rows
        Number of rows removed by ``nan_policy="omit"``.
    constant_columns
        Indices of columns with zero variance (excluded from per-coordinate tests).
    notes
        Human-readable notes on what was done.
    """

    n: int
    d: int
    input_dtype: str
    dropped_rows: int = 0
    constant_columns: tuple[int, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


def _first_nonfinite(bad: np.ndarray) -> tuple[int, int]:
    rows, cols = np.nonzero(bad)
    return int(rows[0]), int(cols[0])


def constant_columns(x: np.ndarray, *, rtol: float = 1e-12) -> np.ndarray:
    """Return the indices of columns whose values are all (numerically) equal.

    Parameters
    ----------
    x : ndarray, shape (n, d)
        Finite float matrix.
    rtol : float
        A column is constant when its range is at most ``rtol`` times its
        largest absolute value (exactly equal values for ``rtol=0``).

    Returns
    -------
    ndarray of int
        Sorted column indices.
    """
    high = np.max(x, axis=0)
    low = np.min(x, axis=0)
    scale = np.maximum(np.abs(high), np.abs(low))
    return np.flatnonzero(high - low <= rtol * scale)


def as_matrix(
    data: object,
    *,
    name: str = "embeddings",
    nan_policy: str = "raise",
    min_rows: int = MIN_ROWS,
) -> tuple[np.ndarray, MatrixCheck]:
    """Validate an embedding matrix and return it as C-contiguous float64.

    Parameters
    ----------
    data : array_like, shape (n, d)
        Embeddings, one row per sample. Integer, float16/32/64 and memory-mapped
        arrays are accepted; the result is always a float64 copy or view.
    name : str
        What to call the data in error messages.
    nan_policy : {"raise", "omit"}
        ``"raise"``: NaN or infinite values are an error naming their count and
        first location. ``"omit"``: rows holding any such value are dropped and
        the count is recorded.
    min_rows : int
        Fewest rows accepted after dropping.

    Returns
    -------
    x : ndarray of float64, shape (n, d)
    check : MatrixCheck
        What was found (constant columns, dropped rows) for the report.

    Raises
    ------
    InvalidEmbeddingsError
        Not numeric, not 2-D, non-finite values under ``"raise"``, or too few rows.
    """
    if nan_policy not in NAN_POLICIES:
        raise UsageError(f"nan_policy must be one of {NAN_POLICIES}, got {nan_policy!r}")
    arr = np.asarray(data)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise InvalidEmbeddingsError(
            f"{name} must be a numeric array, got dtype {arr.dtype} "
            "(complex, string and object arrays are not embeddings)"
        )
    input_dtype = str(arr.dtype)
    if arr.ndim != 2:
        raise InvalidEmbeddingsError(
            f"{name} must be 2-D (n_samples, n_dims), got shape {arr.shape}; "
            "use --reshape flatten to flatten trailing dimensions"
        )
    if arr.shape[1] == 0:
        raise InvalidEmbeddingsError(f"{name} has no columns (shape {arr.shape})")
    # No copy when the input is already C-contiguous float64; nothing downstream
    # writes into the validated matrix.
    x = np.ascontiguousarray(arr, dtype=np.float64)
    notes: list[str] = []
    dropped = 0
    bad = ~np.isfinite(x)
    if bad.any():
        count = int(bad.sum())
        row, col = _first_nonfinite(bad)
        if nan_policy == "raise":
            raise InvalidEmbeddingsError(
                f"{name} has {count} NaN/Inf value(s), first at row {row}, column {col}; "
                "pass --nan-policy omit to drop those rows"
            )
        keep = ~bad.any(axis=1)
        dropped = int((~keep).sum())
        x = np.ascontiguousarray(x[keep])
        notes.append(f"dropped {dropped} row(s) holding {count} NaN/Inf value(s)")
    if x.shape[0] < min_rows:
        raise InvalidEmbeddingsError(
            f"{name} has {x.shape[0]} row(s); at least {min_rows} are needed"
        )
    const = tuple(int(i) for i in constant_columns(x))
    if const:
        shown = ", ".join(str(i) for i in const[:10]) + (" ..." if len(const) > 10 else "")
        notes.append(f"{len(const)} constant column(s) excluded from per-coordinate tests: {shown}")
    check = MatrixCheck(
        n=int(x.shape[0]),
        d=int(x.shape[1]),
        input_dtype=input_dtype,
        dropped_rows=dropped,
        constant_columns=const,
        notes=tuple(notes),
    )
    return x, check
