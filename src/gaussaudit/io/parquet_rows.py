"""A Parquet file read by row groups, as a block source of the streaming engine.

Only the row groups a block touches are read (the last one is kept), so the
memory is one row group, not the table.

Examples
--------
>>> import numpy as np, tempfile, os
>>> import pyarrow as pa, pyarrow.parquet as pq
>>> path = os.path.join(tempfile.mkdtemp(), "x.parquet")
>>> table = pa.table({"a": np.arange(10.0), "b": np.ones(10), "label": ["x"] * 10})
>>> pq.write_table(table, path, row_group_size=4)
>>> src = ParquetRowGroups(path)
>>> src.n, src.d, src.columns, src.read_rows(3, 6)[:, 0].tolist()
(10, 2, ('a', 'b'), [3.0, 4.0, 5.0])
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import InvalidEmbeddingsError, MissingExtraError
from ..stats.engines.source import _RowSource
from ._common import first_line
from .tables import _parse_columns, _resolve_columns, _select_table

__all__ = ["ParquetRowGroups"]


class ParquetRowGroups(_RowSource):
    """Numeric columns of a Parquet file, read one row group at a time.

    Parameters
    ----------
    path : path-like
    columns : str or sequence of str, optional
        Columns to read (default: every numeric column, as :func:`load_embeddings`).
    name : str, optional
        What to call the file in messages.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        columns: str | Sequence[str] | None = None,
        name: str | None = None,
    ) -> None:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise MissingExtraError("pyarrow", "formats", "reading .parquet files") from None
        self.path = Path(path)
        name = name or self.path.name
        try:
            self._file = pq.ParquetFile(self.path)
        except Exception as exc:  # Arrow raises several types for a corrupt footer
            raise InvalidEmbeddingsError(
                f"{name} is not a readable Parquet file: {first_line(exc)}"
            ) from None
        types = {f.name: f.type for f in self._file.schema_arrow}
        names = list(types)

        def is_numeric(c: str) -> bool:
            t = types[c]
            return bool(pa.types.is_integer(t) or pa.types.is_floating(t))

        requested = None if columns is None else _resolve_columns(_parse_columns(columns), names)
        selected, ignored = _select_table(
            names, is_numeric, lambda c: f"type {types[c]}", requested, name
        )
        self.columns, self.ignored_columns = tuple(selected), tuple(ignored)
        meta = self._file.metadata
        sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
        self._starts = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
        self.n, self.d = int(self._starts[-1]), len(self.columns)
        floats = [types[c] for c in self.columns]
        self.dtype = np.dtype(
            np.float32 if all(pa.types.is_float32(t) for t in floats) else np.float64
        )
        self._lock = threading.Lock()
        self._cached: tuple[int, np.ndarray] | None = None

    def _group(self, i: int) -> np.ndarray:
        with self._lock:
            if self._cached is not None and self._cached[0] == i:
                return self._cached[1]
            table = self._file.read_row_group(i, columns=list(self.columns))
            block = np.empty((table.num_rows, self.d), dtype=self.dtype)
            for j, col in enumerate(table.columns):
                block[:, j] = col.to_numpy()
            self._cached = (i, block)
            return block

    def read_rows(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` (a fresh array), from the row groups they lie in."""
        stop = min(stop, self.n)
        out = np.empty((max(0, stop - start), self.d), dtype=self.dtype)
        if stop <= start:
            return out
        first = int(np.searchsorted(self._starts, start, side="right") - 1)
        i = first
        while i < len(self._starts) - 1 and self._starts[i] < stop:
            g0 = int(self._starts[i])
            block = self._group(i)
            lo, hi = max(start, g0), min(stop, g0 + block.shape[0])
            out[lo - start : hi - start] = block[lo - g0 : hi - g0]
            i += 1
        return out
