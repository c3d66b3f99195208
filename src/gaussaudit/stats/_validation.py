"""Input validation for embedding matrices, written once and used everywhere.

Every public statistic and loader funnels its input through :func:`validate`
(or its tuple form :func:`as_matrix`), so the rules (2-D, finite, minimum rows,
float64 working precision) and their error messages are the same wherever a
matrix enters the package. Validation returns a :class:`ValidatedMatrix`, which
every statistic accepts as its input and passes through without scanning the
data again: a battery validates each view once, however many tests it runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidEmbeddingsError, UsageError

__all__ = [
    "MIN_ROWS",
    "NAN_POLICIES",
    "MatrixCheck",
    "ValidatedMatrix",
    "as_matrix",
    "constant_columns",
    "nonfinite_summary",
    "validate",
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


@dataclass(frozen=True, eq=False)
class ValidatedMatrix:
    """A matrix that has passed validation, with what validation found.

    Every function of :mod:`gaussaudit.stats` that takes an embedding matrix
    also takes this object and then skips its own validation pass. Build it
    with :func:`validate`; it converts to an ndarray with ``np.asarray``.

    Attributes
    ----------
    values : ndarray of float64, shape (n, d)
        C-contiguous and finite. Treat it as read-only.
    check : MatrixCheck
        Shape, dropped rows and constant columns.
    column_scale : ndarray of float64, shape (d,)
        Largest absolute value of each column (for overflow-safe rescaling).
    kept_rows : ndarray of bool or None
        With ``nan_policy="omit"`` and rows dropped: which input rows were kept
        (to align labels with :attr:`values`); otherwise None.
    """

    values: np.ndarray
    check: MatrixCheck
    column_scale: np.ndarray
    kept_rows: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """``(n, d)`` of :attr:`values`."""
        return self.values.shape

    def __array__(self, dtype: object = None, copy: object = None) -> np.ndarray:
        return self.values if dtype is None else self.values.astype(dtype)


def nonfinite_summary(
    x: np.ndarray, *, chunk_elements: int = 2**22
) -> tuple[int, tuple[int, int] | None, np.ndarray]:
    """Count NaN/Inf values, find the first and mark finite rows, reading ``x`` in row chunks.

    Parameters
    ----------
    x : ndarray, shape (n, d)
        Any numeric array, e.g. a memory-mapped file; it is neither copied
        whole nor converted.
    chunk_elements : int
        Elements per chunk (bounds the memory used).

    Returns
    -------
    count : int
    first : (row, column) or None
    finite_rows : ndarray of bool, shape (n,)
        Rows without any NaN/Inf value.
    """
    finite_rows = np.ones(x.shape[0], dtype=bool)
    if x.dtype.kind not in "fc":
        return 0, None, finite_rows
    step = max(1, chunk_elements // max(int(np.prod(x.shape[1:])), 1))
    count, first = 0, None
    for start in range(0, x.shape[0], step):
        bad = ~np.isfinite(x[start : start + step]).reshape(-1, int(np.prod(x.shape[1:])))
        found = int(bad.sum())
        if found:
            finite_rows[start : start + bad.shape[0]] = ~bad.any(axis=1)
            if first is None:
                rows, cols = np.nonzero(bad)
                first = (start + int(rows[0]), int(cols[0]))
        count += found
    return count, first, finite_rows


def nonfinite_message(name: str, count: int, first: tuple[int, int]) -> str:
    """Return the one-line error for NaN/Inf values under ``nan_policy="raise"``."""
    return (
        f"{name} has {count} NaN/Inf value(s), first at row {first[0]}, column {first[1]}; "
        "pass nan_policy='omit' to drop those rows"
    )


def constant_columns(x: np.ndarray, *, rtol: float = 1e-12) -> np.ndarray:
    """Return the indices of columns whose values are all (numerically) equal.

    Parameters
    ----------
    x : ndarray, shape (n, d)
        Finite float matrix.
    rtol : float
        A column is constant when its range is at most ``rtol`` times its own
        largest absolute value, or at most ``rtol`` times the median over
        columns of that value (a "dead" dimension whose values are rounding
        residue: two coordinates of all-MiniLM-L6-v2 stay below 1e-31 while
        the others are near 0.1). The median, not the maximum, so that one
        column of huge outliers does not make every other column look dead.
        ``rtol=0`` asks for exactly equal values.

    Returns
    -------
    ndarray of int
        Sorted column indices.
    """
    return _constant_from_range(np.max(x, axis=0), np.min(x, axis=0), rtol)[0]


def _constant_from_range(
    high: np.ndarray, low: np.ndarray, rtol: float = 1e-12
) -> tuple[np.ndarray, np.ndarray]:
    """Constant-column indices and per-column max-abs from column maxima and minima."""
    scale = np.maximum(np.abs(high), np.abs(low))
    # halved first: the median averages two values, which may overflow near the float max
    typical = 2.0 * float(np.median(scale * 0.5)) if scale.size else 0.0
    limit = rtol * np.maximum(scale, typical)
    with np.errstate(over="ignore"):  # a range past the float max is not constant anyway
        spread = high - low
    return np.flatnonzero(spread <= limit), scale


def as_matrix(
    data: object,
    *,
    name: str = "embeddings",
    nan_policy: str = "raise",
    min_rows: int = MIN_ROWS,
) -> tuple[np.ndarray, MatrixCheck]:
    """Validate an embedding matrix and return it as C-contiguous float64.

    The tuple form of :func:`validate`; parameters are the same.

    Returns
    -------
    x : ndarray of float64, shape (n, d)
    check : MatrixCheck
        What was found (constant columns, dropped rows) for the report.
    """
    valid = validate(data, name=name, nan_policy=nan_policy, min_rows=min_rows)
    return valid.values, valid.check


def validate(
    data: object,
    *,
    name: str = "embeddings",
    nan_policy: str = "raise",
    min_rows: int = MIN_ROWS,
) -> ValidatedMatrix:
    """Validate an embedding matrix once, for any number of statistics.

    Parameters
    ----------
    data : array_like or ValidatedMatrix, shape (n, d)
        Embeddings, one row per sample. Integer, float16/32/64 and memory-mapped
        arrays are accepted; the values are always a float64 copy or view. A
        :class:`ValidatedMatrix` is returned as it is (only ``min_rows`` is
        checked again).
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
    ValidatedMatrix

    Raises
    ------
    InvalidEmbeddingsError
        Not numeric, not 2-D, non-finite values under ``"raise"``, or too few rows.

    Notes
    -----
    The clean path reads the data twice after the float64 conversion (column
    maxima and minima): a NaN or infinity shows in those, so the element-wise
    finiteness scan runs only when one is present.
    """
    if nan_policy not in NAN_POLICIES:
        raise UsageError(
            f"nan_policy must be one of {NAN_POLICIES}, got {nan_policy!r}", option="nan_policy"
        )
    if isinstance(data, ValidatedMatrix):
        _require_rows(data.check.n, name, min_rows)
        return data
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
            "pass reshape='flatten' to flatten trailing dimensions",
            option="reshape",
        )
    if arr.shape[1] == 0:
        raise InvalidEmbeddingsError(f"{name} has no columns (shape {arr.shape})")
    # No copy when the input is already C-contiguous float64; nothing downstream
    # writes into the validated matrix.
    x = np.ascontiguousarray(arr, dtype=np.float64)
    notes: list[str] = []
    dropped = 0
    keep = None
    _require_rows(x.shape[0], name, min_rows)
    high, low = np.max(x, axis=0), np.min(x, axis=0)
    if not (np.isfinite(high).all() and np.isfinite(low).all()):
        count, first, keep = nonfinite_summary(x)
        if nan_policy == "raise":
            raise InvalidEmbeddingsError(nonfinite_message(name, count, first), option="nan_policy")
        dropped = int((~keep).sum())
        x = np.ascontiguousarray(x[keep])
        notes.append(f"dropped {dropped} row(s) holding {count} NaN/Inf value(s)")
        _require_rows(x.shape[0], name, min_rows)
        high, low = np.max(x, axis=0), np.min(x, axis=0)
    const_idx, scale = _constant_from_range(high, low)
    const = tuple(int(i) for i in const_idx)
    if const:
        shown = ", ".join(str(i) for i in const[:10]) + (" ..." if len(const) > 10 else "")
        notes.append(
            f"{len(const)} constant or numerically zero column(s) excluded from "
            f"per-coordinate tests: {shown}"
        )
    check = MatrixCheck(
        n=int(x.shape[0]),
        d=int(x.shape[1]),
        input_dtype=input_dtype,
        dropped_rows=dropped,
        constant_columns=const,
        notes=tuple(notes),
    )
    return ValidatedMatrix(values=x, check=check, column_scale=scale, kept_rows=keep)


def _require_rows(n: int, name: str, min_rows: int) -> None:
    if n < min_rows:
        raise InvalidEmbeddingsError(f"{name} has {n} row(s); at least {min_rows} are needed")


def power_of_two_scale(top: float) -> float:
    """Return a power of two near ``top`` (``2**(e-1) <= top < 2**e``), finite up to the float max.

    Dividing by it rescales exactly (no rounding) so that squares neither
    overflow nor underflow; 1.0 for ``top == 0``.

    Examples
    --------
    >>> power_of_two_scale(3.0), power_of_two_scale(1.797e308) > 1e307
    (2.0, True)
    """
    if not top > 0.0:
        return 1.0
    return float(np.ldexp(1.0, int(np.frexp(top)[1]) - 1))
