"""Passes over a :class:`~.source.BlockSource`: scan, moments, column blocks, projections.

The building blocks of :mod:`.numpy_engine`: each pass reads the source in
row blocks (or gathered column blocks) on threads, computes a partial result
per block (:mod:`.partials`) and merges them in block order, so the result
does not depend on the number of threads.
"""

from __future__ import annotations

import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ...errors import InvalidEmbeddingsError, NotApplicableError, UsageError
from .._validation import (
    MIN_ROWS,
    MatrixCheck,
    ValidatedMatrix,
    _constant_from_range,
    nonfinite_message,
    power_of_two_scale,
)
from ..config import AuditConfig
from ..results import CoordinateTestResult, ProjectionResult, Skipped
from ..tests import TestSpec
from .partials import (
    ColumnMoments,
    CoMoments,
    NormSummary,
    PairwiseMerger,
)
from .source import BlockSource, as_source

__all__ = ["StreamScan", "column_moments", "scan"]

#: Working memory of the engine's buffers (the process adds its own ~0.2-0.3 GiB).
DEFAULT_MEMORY_LIMIT = 512 * 2**20
#: Per-coordinate tests finalised from the moment partials instead of column blocks.
_MOMENT_TESTS = ("dagostino_pearson", "jarque_bera")


# ----------------------------------------------------------------------------- helpers
def _workers(workers: int | None) -> int:
    return max(1, int(workers)) if workers else min(4, os.cpu_count() or 1)


def _ordered_map(func: Callable[[Any], Any], items: Iterable[Any], workers: int) -> Iterator[Any]:
    """``map(func, items)`` on threads, in order, with at most ``2 * workers`` in flight."""
    if workers <= 1:
        yield from map(func, items)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        window: deque = deque()
        for item in items:
            window.append(pool.submit(func, item))
            if len(window) >= 2 * workers:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


def _row_ranges(n: int, block_rows: int) -> list[tuple[int, int]]:
    return [(s, min(s + block_rows, n)) for s in range(0, n, block_rows)]


def _auto_rows(d: int, memory_limit: int, workers: int) -> int:
    per_row = d * 8 * 6 * 2 * workers  # float64 copies per block, blocks in flight
    return int(min(65536, max(256, memory_limit // max(per_row, 1))))


@dataclass(frozen=True, eq=False)
class StreamScan:
    """What the scan pass found: the streaming counterpart of a ValidatedMatrix.

    Attributes
    ----------
    check : MatrixCheck
    column_scale : ndarray
        Largest absolute value per column.
    columns : ndarray of int
        Non-constant columns (the ones per-coordinate tests run on).
    """

    check: MatrixCheck
    column_scale: np.ndarray
    columns: np.ndarray

    @property
    def column_exponents(self) -> np.ndarray | None:
        """Per-column power-of-two exponents when columns need rescaling, else None."""
        big = self.column_scale[self.columns]
        if big.size and (np.any(big > 2.0**400) or np.any(big < 2.0**-400)):
            exps = np.zeros(self.column_scale.size, dtype=int)
            exps[self.columns] = np.frexp(big)[1]
            return exps
        return None

    @property
    def norm_scale(self) -> float:
        """The power of two rows are divided by for norms and covariance (1 usually)."""
        top = float(np.max(self.column_scale))
        if top == 0.0 or 2.0**-200 < top < 2.0**200:
            return 1.0
        return power_of_two_scale(top)


def scan(
    source: BlockSource,
    *,
    name: str = "embeddings",
    block_rows: int = 65536,
    workers: int | None = None,
    min_rows: int = MIN_ROWS,
) -> StreamScan:
    """Validate a source in one pass, as :func:`~gaussaudit.stats.validate` would.

    Raises
    ------
    InvalidEmbeddingsError
        Too few rows, or NaN/Inf values (counted and located in a second pass).
    """
    if source.n < min_rows:
        raise InvalidEmbeddingsError(
            f"{name} has {source.n} row(s); at least {min_rows} are needed"
        )
    if source.d == 0:
        raise InvalidEmbeddingsError(f"{name} has no columns (shape {(source.n, source.d)})")

    def extremes(r: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        b = source.read_rows(*r)
        return np.max(b, axis=0).astype(np.float64), np.min(b, axis=0).astype(np.float64)

    high = np.full(source.d, -np.inf)
    low = np.full(source.d, np.inf)
    bad = False
    for hi, lo in _ordered_map(extremes, _row_ranges(source.n, block_rows), _workers(workers)):
        bad = bad or not (np.isfinite(hi).all() and np.isfinite(lo).all())
        np.maximum(high, hi, out=high)
        np.minimum(low, lo, out=low)
    if bad:
        count, first = 0, None
        for start, b in source.iter_rows(block_rows):
            nonfinite = ~np.isfinite(b)
            found = int(nonfinite.sum())
            if found and first is None:
                rows, cols = np.nonzero(nonfinite)
                first = (start + int(rows[0]), int(cols[0]))
            count += found
        raise InvalidEmbeddingsError(nonfinite_message(name, count, first))
    const_idx, scale = _constant_from_range(high, low)
    const = tuple(int(i) for i in const_idx)
    notes = []
    if const:
        shown = ", ".join(str(i) for i in const[:10]) + (" ..." if len(const) > 10 else "")
        notes.append(
            f"{len(const)} constant or numerically zero column(s) excluded from "
            f"per-coordinate tests: {shown}"
        )
    check = MatrixCheck(
        n=source.n, d=source.d, input_dtype=str(source.dtype), constant_columns=const,
        notes=tuple(notes),
    )  # fmt: skip
    columns = np.setdiff1d(np.arange(source.d), np.asarray(const, dtype=int))
    return StreamScan(check=check, column_scale=scale, columns=columns)


# ----------------------------------------------------------------------------- row pass
@dataclass(frozen=True, eq=False)
class _RowPartials:
    moments: ColumnMoments | None
    comoments: CoMoments | None
    norms: NormSummary | None

    def merge(self, other: _RowPartials) -> _RowPartials:
        def m(a: Any, b: Any) -> Any:
            return None if a is None else a.merge(b)

        return _RowPartials(
            m(self.moments, other.moments),
            m(self.comoments, other.comoments),
            m(self.norms, other.norms),
        )


def _row_pass(
    source: BlockSource,
    sc: StreamScan,
    *,
    moments: bool,
    covariance: bool,
    norms: bool,
    keep_norms: bool,
    block_rows: int,
    workers: int,
) -> tuple[_RowPartials, np.ndarray | None]:
    exps = sc.column_exponents
    nscale = sc.norm_scale
    row_norms = np.empty(source.n) if keep_norms and norms else None

    def work(r: tuple[int, int]) -> _RowPartials:
        b = np.asarray(source.read_rows(*r), dtype=np.float64)  # this block only
        mom = None
        if moments:
            mom = ColumnMoments.of(np.ldexp(b, -exps) if exps is not None else b)
        y = b / nscale if nscale != 1.0 else b
        cm = CoMoments.of(y) if covariance else None
        ns = None
        if norms:
            v = np.sqrt(np.einsum("ij,ij->i", y, y))
            if row_norms is not None:
                row_norms[r[0] : r[1]] = v
            ns = NormSummary.of(v)
        return _RowPartials(mom, cm, ns)

    merger = PairwiseMerger()
    for part in _ordered_map(work, _row_ranges(source.n, block_rows), workers):
        merger.push(part)
    return merger.result(), row_norms


def column_moments(
    source: Any, *, block_rows: int = 4096, workers: int | None = None
) -> ColumnMoments:
    """Return the merged per-column moments of a source (all columns, unscaled).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(1).standard_normal((300, 2))
    >>> m = column_moments(x, block_rows=7)
    >>> bool(np.allclose(m.mean, x.mean(axis=0)))
    True
    """
    src = as_source(source)
    merger = PairwiseMerger()
    for part in _ordered_map(
        lambda r: ColumnMoments.of(src.read_rows(*r)), _row_ranges(src.n, block_rows),
        _workers(workers),
    ):  # fmt: skip
        merger.push(part)
    return merger.result()


# ----------------------------------------------------------------------------- column pass
_SUBSAMPLE_FLAT = re.compile(r"^(\d+) column\(s\) constant on the subsample were not tested$")


def _join(results: list[CoordinateTestResult], d: int) -> CoordinateTestResult:
    """Concatenate per-column-block results (columns already global)."""
    first = results[0]
    notes: list[str] = []
    flat = 0
    for r in results:
        for note in r.notes:
            found = _SUBSAMPLE_FLAT.match(note)
            if found:
                flat += int(found.group(1))
            elif note not in notes:
                notes.append(note)
    if flat:
        notes.append(f"{flat} column(s) constant on the subsample were not tested")
    extra = {
        k: np.concatenate([r.extra[k] for r in results]) for k in first.extra
    }  # fmt: skip
    return replace(
        first,
        statistics=np.concatenate([r.statistics for r in results]),
        pvalues=np.concatenate([r.pvalues for r in results]),
        columns=np.concatenate([r.columns for r in results]).astype(first.columns.dtype),
        d=d,
        extra=extra,
        notes=tuple(notes),
    )


def _block_matrix(block: np.ndarray, sc: StreamScan, cols: np.ndarray) -> ValidatedMatrix:
    check = MatrixCheck(n=block.shape[0], d=block.shape[1], input_dtype=sc.check.input_dtype)
    return ValidatedMatrix(values=block, check=check, column_scale=sc.column_scale[cols])


def _column_tests(
    source: BlockSource,
    sc: StreamScan,
    specs: list[TestSpec],
    config: AuditConfig,
    *,
    col_block: int,
    workers: int,
    buffer_bytes: int | None = None,
) -> dict[str, CoordinateTestResult | Skipped]:
    """Run column-local kernels on float64 column blocks and join the results."""
    out: dict[str, Any] = {}
    if not specs:
        return out
    d = source.d
    if sc.columns.size == 0:  # every column constant: the kernels return empty results
        dummy = ValidatedMatrix(
            values=np.zeros((source.n, 1)),
            check=MatrixCheck(n=source.n, d=1, input_dtype="float64", constant_columns=(0,)),
            column_scale=np.zeros(1),
        )
        for spec in specs:
            try:
                res = spec.load_kernel()(dummy, **spec.kernel_options(config))
                out[spec.name] = replace(res, d=d)
            except NotApplicableError as err:
                out[spec.name] = Skipped(spec.name, str(err))
        return out
    parts: dict[str, list] = {s.name: [] for s in specs}
    failed: dict[str, Skipped] = {}

    def work(item: tuple[np.ndarray, np.ndarray]) -> dict[str, Any]:
        cols, block = item
        vm = _block_matrix(block, sc, cols)
        res: dict[str, Any] = {}
        for spec in specs:
            if spec.name in failed:
                continue
            try:
                r = spec.load_kernel()(vm, **spec.kernel_options(config))
                res[spec.name] = replace(r, columns=cols[r.columns])
            except NotApplicableError as err:
                res[spec.name] = Skipped(spec.name, str(err))
        return res

    blocks = source.iter_columns(col_block, columns=sc.columns, buffer_bytes=buffer_bytes)
    for res in _ordered_map(work, blocks, workers):
        for name, r in res.items():
            if isinstance(r, Skipped):
                failed.setdefault(name, r)
            else:
                parts[name].append(r)
    for spec in specs:
        out[spec.name] = failed[spec.name] if spec.name in failed else _join(parts[spec.name], d)
    return out


def _moment_results(
    mom: ColumnMoments, sc: StreamScan, names: list[str]
) -> dict[str, CoordinateTestResult]:
    from ..univariate import _dp_result

    sel = mom.select(sc.columns)
    g1, g2 = sel.skewness_kurtosis()
    n, d, cols = sc.check.n, sc.check.d, sc.columns
    out: dict[str, Any] = {}
    for name in names:
        if name == "dagostino_pearson":
            out[name] = _dp_result(g1, g2, cols, n, d)
        else:
            jb = n / 6.0 * (g1**2 + 0.25 * g2**2)
            out[name] = CoordinateTestResult(
                test="jarque_bera",
                statistics=jb,
                pvalues=np.exp(-0.5 * jb),
                columns=cols,
                n=n,
                n_input=n,
                d=d,
                method="Jarque-Bera, asymptotic chi2(2) p-value",
                extra={"skewness": g1, "excess_kurtosis": g2},
            )
    return out


# ----------------------------------------------------------------------------- projections
def _projections(
    source: BlockSource,
    config: AuditConfig,
    mean: np.ndarray,
    *,
    block_rows: int,
    memory_limit: int,
    workers: int,
) -> ProjectionResult | Skipped:
    """Run the projection battery on groups of directions, each projected block by block."""
    from ..epps_pulley import epps_pulley
    from ..projections import random_directions
    from ..univariate import DP_MIN_ROWS, anderson_darling, dagostino_pearson

    n, d = source.n, source.d
    try:
        directions = random_directions(d, config.projections, seed=config.seed)
    except UsageError as err:
        return Skipped("projections", str(err))
    # the projected group plus the kernels' float64 temporaries (about 5 copies)
    group = int(max(1, min(directions.shape[1], memory_limit // max(n * 8 * 6, 1))))
    parts: dict[str, list] = {"anderson_darling": [], "dagostino_pearson": [], "epps_pulley": []}
    for g0 in range(0, directions.shape[1], group):
        dirs = directions[:, g0 : g0 + group]
        projected = np.empty((n, dirs.shape[1]))

        def work(r: tuple[int, int], dirs: np.ndarray = dirs, out: np.ndarray = projected) -> None:
            b = np.asarray(source.read_rows(*r), dtype=np.float64)
            out[r[0] : r[1]] = (b - mean) @ dirs

        for _ in _ordered_map(work, _row_ranges(n, block_rows), workers):
            pass
        offset = np.arange(g0, g0 + dirs.shape[1])
        results = [anderson_darling(projected, threshold=config.threshold), epps_pulley(projected)]
        if n >= DP_MIN_ROWS:
            results.append(dagostino_pearson(projected))
        for r in results:
            parts[r.test].append(replace(r, columns=offset[r.columns]))
        del projected
    tests: dict[str, Any] = {"anderson_darling": _join(parts["anderson_darling"], d)}
    if n < DP_MIN_ROWS:
        tests["dagostino_pearson"] = Skipped(
            "dagostino_pearson", f"needs at least {DP_MIN_ROWS} rows, got {n}"
        )
    else:
        tests["dagostino_pearson"] = _join(parts["dagostino_pearson"], d)
    tests["epps_pulley"] = _join(parts["epps_pulley"], d)
    for key, res in tests.items():  # d of a projection result is the number of directions
        if isinstance(res, CoordinateTestResult):
            tests[key] = replace(res, d=directions.shape[1])
    return ProjectionResult(
        n_projections=int(config.projections),
        seed=int(config.seed),
        directions=directions,
        tests=tests,
    )
