"""The steps of a streamed view that read seeded row subsamples, not all rows.

The calibrated verdict's covariance, the departure, the sphere reference and
the diagnosis each look at a seeded subsample of rows in memory (2,000 or
5,000 rows above those sizes). The streaming engine gathers exactly those rows
from its source, so these results equal the in-memory battery's: the
departure, the sphere and the diagnosis are given the same 5,000 seeded rows
the in-memory functions pick, the calibration a proxy that gathers its own
subsample, and only the mean they subtract comes from the merged moments.

Examples
--------
>>> import numpy as np
>>> from gaussaudit.stats.engines.source import ArraySource
>>> rows = RowsProxy(ArraySource(np.arange(12.0).reshape(6, 2)), mean=np.array([5.0, 6.0]))
>>> rows[np.array([0, 5])].tolist(), rows.shape
([[0.0, 1.0], [10.0, 11.0]], (6, 2))
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from .._sampling import seeded_rows
from ..rows import FINISH_ROWS, rows_used
from .source import BlockSource

__all__ = ["FINISH_ROWS", "RowsProxy", "finish_view", "rows_used"]  # rows_used: from ..rows


class RowsProxy:
    """Stands in for a view's matrix where only seeded rows and the mean are read.

    Supports ``shape``, ``x[rows]`` (an increasing index array or a slice) and
    ``x.mean(axis=0)`` (the merged mean given at construction).
    """

    def __init__(self, source: BlockSource, mean: np.ndarray | None = None) -> None:
        self.source = source
        self.shape = (source.n, source.d)
        self.ndim = 2
        self._mean = mean

    def __getitem__(self, rows: Any) -> np.ndarray:
        if isinstance(rows, slice):
            rows = np.arange(self.source.n)[rows]
        return np.asarray(self.source.take(np.asarray(rows)), dtype=np.float64)

    def mean(self, axis: int | None = None) -> np.ndarray:
        """Return the view's column means (``axis=0`` only)."""
        if axis != 0 or self._mean is None:
            raise NotImplementedError("only the column means (axis=0) are known")
        return self._mean


def _subsample(source: BlockSource, seed: int) -> np.ndarray:
    n = source.n
    rows = seeded_rows(n, FINISH_ROWS, seed) if n > FINISH_ROWS else np.arange(n)
    return np.asarray(source.take(rows), dtype=np.float64)


def finish_view(
    partial: Any,
    view_source: BlockSource,
    raw_source: BlockSource,
    config: Any,
    *,
    mean: np.ndarray,
    name: str,
    sphere_norms: Any = None,
) -> tuple[Any, list[str]]:
    """Add calibration, departure, sphere and diagnosis to a streamed ViewAudit.

    Parameters
    ----------
    partial : ViewAudit
        The view's results so far (norms, coordinates, projections...).
    view_source, raw_source : BlockSource
        The view's rows and the stored values (for the quantisation rule).
    config : AuditConfig
    mean : ndarray
        The view's column means (merged over all rows).
    name : str
        The view's name.
    sphere_norms : NormResult, optional
        All rows' norms where the norms test did not run (they switch the
        sphere reference on, as in memory).

    Returns
    -------
    view : ViewAudit
        With ``calibration``, ``departure``, ``sphere`` and ``diagnosis`` set.
    notes : list of str
        Notes for the view (none so far; :func:`rows_used` says the rows read).
    """
    from ..battery import _SPHERE_SHAPES, _sphere, _tested_columns
    from ..calibration import calibrate_view
    from ..departure import departure
    from ..diagnosis import diagnose
    from ..sphere import SphereResult

    n, d = view_source.n, view_source.d
    proxy: Any = RowsProxy(view_source, mean)
    if n <= max(2000, int(5e7 // max(d * d, 1))):  # view_covariance reads every row
        proxy = proxy[np.arange(n)]
    cal = calibrate_view(proxy, name, partial, alpha=config.alpha, seed=config.seed,
                         mode=config.calibration)  # fmt: skip
    sub = _subsample(view_source, config.seed)
    dep = departure(sub, margin=config.margin, seed=config.seed,
                    columns=_tested_columns(partial.coordinates))  # fmt: skip
    norms = sphere_norms if sphere_norms is not None else partial.norms
    sphere = _sphere_streamed(sub, name, norms, config, _sphere)
    partial = replace(partial, calibration=cal, departure=dep, sphere=sphere)
    raw = RowsProxy(raw_source) if name == "raw" else None
    findings = diagnose(sub, partial, seed=config.seed, raw=raw)
    if isinstance(sphere, SphereResult) and sphere.consistent:
        findings = tuple(f for f in findings if f.code not in _SPHERE_SHAPES)
    return replace(partial, diagnosis=findings), []


def _sphere_streamed(sub: np.ndarray, name: str, norms: Any, config: Any, sphere: Any) -> Any:
    """Run the sphere reference on the subsample, switched on by all rows' norms."""
    from ..results import NormResult
    from ..sphere import near_constant_norm

    if config.sphere is False:
        return None
    if config.sphere is None:
        if not (isinstance(norms, NormResult) and norms.norms.size):
            row_norms = np.linalg.norm(sub, axis=1)
        else:
            row_norms = norms.norms
        if not near_constant_norm(row_norms):
            return None
    if isinstance(norms, NormResult) and norms.norms.size and np.any(norms.norms == 0):
        from ..results import Skipped

        return Skipped("sphere", "needs d >= 2, at least 20 rows and no zero row")
    return sphere(sub, name, None, replace(config, sphere=True))
