"""Readers for tables: ``.csv`` and ``.parquet``.

By default every numeric column is used and the others are skipped (and
listed in ``selection["ignored_columns"]``). A CSV column that is numeric
except for a few cells is *not* skipped silently: it is an error naming the
column and the first bad row, since it is almost always an embedding column
with a typo. Messages quote at most a short, sanitised excerpt of the file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidEmbeddingsError, MissingExtraError, UnknownNameError, UsageError
from ._common import excerpt, first_line, require_regular_file, safe_names
from .readers import ReadRequest, ReadResult

__all__ = ["read_csv", "read_parquet"]


def _parse_columns(columns: str | Sequence[str]) -> list[str]:
    if isinstance(columns, str):
        items = [c.strip() for c in columns.split(",")]
    else:
        items = [str(c) for c in columns]
    items = [c for c in items if c != ""]
    if not items:
        raise UsageError("columns is empty; give column names or prefixes such as 'emb_*'")
    return items


def _resolve_columns(requested: list[str], available: list[str]) -> list[str]:
    """Expand exact names and ``prefix*`` patterns, in request then file order."""
    chosen: list[str] = []
    for item in requested:
        if item.endswith("*"):
            prefix = item[:-1]
            matched = [c for c in available if c.startswith(prefix)]
            if not matched:
                raise UnknownNameError("column", excerpt(item), safe_names(available))
        elif item in available:
            matched = [item]
        else:
            raise UnknownNameError("column", excerpt(item), safe_names(available))
        chosen.extend(c for c in matched if c not in chosen)
    return chosen


def _select_table(
    names: list[str],
    is_numeric: Callable[[str], bool],
    describe: Callable[[str], str],
    requested: list[str] | None,
    name: str,
) -> tuple[list[str], list[str]]:
    """Return (selected columns, ignored non-numeric columns).

    ``requested`` is the already-resolved column list, or None for "all numeric".
    """
    if requested is None:
        selected = [c for c in names if is_numeric(c)]
        ignored = [c for c in names if not is_numeric(c)]
        if not selected:
            listing = excerpt(", ".join(names)) if names else "none"
            raise InvalidEmbeddingsError(f"{name} has no numeric columns (columns: {listing})")
        return selected, ignored
    bad = [c for c in requested if not is_numeric(c)]
    if bad:
        shown = ", ".join(f"{excerpt(c, 40)!r} ({describe(c)})" for c in bad[:10])
        raise InvalidEmbeddingsError(f"selected column(s) of {name} are not numeric: {shown}")
    return list(requested), []


def _frame_to_numpy(frame: Any) -> np.ndarray:
    arr = frame.to_numpy()
    if arr.dtype.kind not in "biuf":  # nullable extension dtypes come back as object
        arr = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    return arr


def _pandas_numeric(series_dtype: Any) -> bool:
    from pandas.api import types as ptypes

    return bool(ptypes.is_numeric_dtype(series_dtype)) and not ptypes.is_bool_dtype(series_dtype)


def read_parquet(path: Path, request: ReadRequest) -> ReadResult:
    """Read numeric columns of a ``.parquet`` file."""
    name, columns = request.name, request.columns
    require_regular_file(path, request.source)
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingExtraError("pyarrow", "formats", "reading .parquet files") from None
    try:
        schema = pq.read_schema(path)
        types = {f.name: f.type for f in schema}
    except Exception as exc:  # Arrow raises several types for a corrupt footer
        raise InvalidEmbeddingsError(
            f"{name} is not a readable Parquet file: {first_line(exc)}"
        ) from None
    names = list(types)

    def is_numeric(c: str) -> bool:
        t = types[c]
        return bool(pa.types.is_integer(t) or pa.types.is_floating(t))

    requested = None if columns is None else _resolve_columns(_parse_columns(columns), names)
    selected, ignored = _select_table(
        names, is_numeric, lambda c: f"type {types[c]}", requested, name
    )
    try:
        table = pq.read_table(path, columns=selected)
        arr = _frame_to_numpy(table.to_pandas())
    except Exception as exc:  # Arrow errors, and KeyError/TypeError from corrupt pandas metadata
        raise InvalidEmbeddingsError(
            f"{name} is not a readable Parquet file: {first_line(exc)}"
        ) from None
    return ReadResult(arr, str(arr.dtype), columns=selected, ignored_columns=ignored)


def _mostly_numeric(series: Any) -> tuple[int, str] | None:
    """For a text column holding numbers and a few other cells: (first bad row, cell)."""
    import pandas as pd

    present = series.notna()
    if not present.any():
        return None
    parsed = pd.to_numeric(series.where(present), errors="coerce")
    numeric = parsed.notna()
    bad = present & ~numeric
    if not numeric.any() or not bad.any():
        return None
    row = int(np.flatnonzero(bad.to_numpy())[0])
    return row, str(series.iloc[row])


def read_csv(path: Path, request: ReadRequest) -> ReadResult:
    """Read numeric columns of a ``.csv`` file (a numeric column with a bad cell is an error)."""
    import pandas as pd
    from pandas.api import types as ptypes

    name, columns = request.name, request.columns
    require_regular_file(path, request.source)

    def read(**kwargs: Any) -> Any:
        try:
            return pd.read_csv(path, **kwargs)
        except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise InvalidEmbeddingsError(
                f"{name} is not a readable CSV file: {first_line(exc)}"
            ) from None

    requested = None
    if columns is None:
        frame = read()
    else:
        header = [str(c) for c in read(nrows=0).columns]
        requested = _resolve_columns(_parse_columns(columns), header)
        frame = read(usecols=requested)
    frame.columns = [str(c) for c in frame.columns]
    if requested is not None:
        frame = frame[requested]
    names = list(frame.columns)
    dtypes = dict(zip(names, frame.dtypes, strict=True))
    for column in names:
        if not _pandas_numeric(dtypes[column]) and not ptypes.is_bool_dtype(dtypes[column]):
            found = _mostly_numeric(frame[column])
            if found is not None:
                row, cell = found
                raise InvalidEmbeddingsError(
                    f"column {excerpt(column, 40)!r} of {name} is numeric except at data row "
                    f"{row + 1}, which holds {excerpt(cell, 30)!r}; fix that value (empty cells "
                    "are read as NaN) or choose the columns to read with columns="
                )
    selected, ignored = _select_table(
        names,
        lambda c: _pandas_numeric(dtypes[c]),
        lambda c: f"dtype {dtypes[c]}",
        requested,
        name,
    )
    arr = _frame_to_numpy(frame[selected])
    return ReadResult(arr, str(arr.dtype), columns=selected, ignored_columns=ignored)
