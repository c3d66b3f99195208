"""Full-view Mardia / Henze–Zirkler over all rows: the rules every streaming engine shares.

:func:`stream_full_multivariate` applies the NumPy engine's rules (constant
columns left out and noted, ``pca`` refused, Henze–Zirkler refused where it
degenerates while Mardia still runs) around an engine's own Gram-tile
computation, given as a callable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from ...errors import NotApplicableError
from ..config import AuditConfig
from ..results import Skipped
from ..tests import multivariate_tests
from .passes import StreamScan

__all__ = [
    "finish_raw",
    "full_view_allowed",
    "note_full_multivariate",
    "stream_full_multivariate",
    "subspaces_step",
]

Gram = Callable[[np.ndarray, tuple[str, ...]], tuple[Any, Any]]


def full_view_allowed(cfg: AuditConfig, d: int) -> bool:
    """Whether ``full_multivariate`` lets the full-view tests run at dimension ``d``."""
    mode = cfg.full_multivariate
    return not (mode == "never" or (mode == "auto" and d > cfg.full_max_dim))


def stream_full_multivariate(compute: Gram, sc: StreamScan, cfg: AuditConfig) -> dict[str, Any]:
    """Full-view Mardia/HZ on every row by Gram tiles (the NumPy engine's rules).

    Parameters
    ----------
    compute : callable
        ``compute(keep, which)`` returns ``(mardia, henze_zirkler)`` (None where
        not asked) on the columns ``keep``; ``which`` holds ``"mardia"`` and/or
        ``"hz"``. Raises NotApplicableError as the NumPy engine's does.
    sc : StreamScan
    cfg : AuditConfig

    Returns
    -------
    dict
        Test name -> result or Skipped, plus ``"_note"`` when columns were left out.
    """
    specs = list(multivariate_tests(cfg.tests))
    wanted = [s.name for s in specs]
    d = sc.check.d
    note = None
    keep = np.arange(d)
    const = np.asarray(sc.check.constant_columns, dtype=int)
    if const.size and const.size < d:
        keep = sc.columns
        note = f"{const.size} constant column(s) left out, {keep.size} tested"
    if cfg.pca:
        why = "pca=True is not supported by the streaming engine for rows beyond memory_limit"
        return {t: Skipped(t, why) for t in wanted}
    results: dict[str, Any] = {}
    gram = [s.name for s in specs if s.joint == "gram"]

    def run(which: tuple[str, ...]) -> tuple[Any, Any]:
        return compute(keep, which)

    if gram:
        try:
            m, h = run(tuple("hz" if t == "henze_zirkler" else t for t in gram))
            if m is not None:
                results["mardia"] = m
            if h is not None:
                results["henze_zirkler"] = h
        except NotApplicableError as err:
            reason = str(err) + (f" ({note})" if note else "")
            if "Henze-Zirkler" in reason and "mardia" in gram:
                results["henze_zirkler"] = Skipped("henze_zirkler", reason)
                try:
                    results["mardia"] = run(("mardia",))[0]
                except NotApplicableError as err2:
                    results["mardia"] = Skipped("mardia", str(err2))
            else:
                results.update({t: Skipped(t, reason) for t in gram})
    for s in specs:
        if s.joint != "gram":
            results[s.name] = Skipped(
                s.name, "not streamed: needs the rows in memory (lower multivariate_max_rows)"
            )
    out: dict[str, Any] = {"_note": note} if note else {}
    out.update({t: results[t] for t in wanted if t in results})
    return out


def finish_raw(
    partial: Any, source: Any, cfg: AuditConfig, parts: Any, sc: StreamScan,
    row_norms: np.ndarray | None, want_norms: bool,
) -> Any:  # fmt: skip
    """Add calibration, departure, sphere and diagnosis to the raw view (as the NumPy engine).

    ``source`` answers ``n``, ``d``, ``dtype`` and ``take(rows)`` (the steps
    read seeded row subsamples); ``row_norms`` are every row's norms (of the
    rows divided by ``sc.norm_scale``) when they were kept.
    """
    from ..results import NormResult
    from .finish import finish_view

    exps = sc.column_exponents
    mean = parts.moments.mean if exps is None else np.ldexp(parts.moments.mean, exps)
    sphere_norms = None
    if not want_norms and row_norms is not None:  # norms kept only to switch the sphere on
        partial = replace(partial, norms=None)
        nan = float("nan")
        sphere_norms = NormResult(
            norms=row_norms * sc.norm_scale, mean=nan, std=nan, cv=nan,
            cv_isotropic_gaussian=nan, cv_matched_gaussian=nan, effective_dimension=nan,
            effective_rank=nan, n=partial.n, d=partial.d,
        )  # fmt: skip
    partial, notes = finish_view(
        partial, source, source, cfg, mean=mean, name="raw", sphere_norms=sphere_norms
    )
    return replace(partial, notes=(*partial.notes, *notes))


def note_full_multivariate(mv: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """Move the full-view tests' row note (``_note``) into ``notes``; return ``mv``."""
    note = mv.pop("_note", None)
    if note:
        notes.append(f"full-view multivariate tests on {note}")
    return mv


def subspaces_step(
    rows: Any, cfg: AuditConfig, notes: list[str], *, n: int, d: int, deferred: bool
) -> Any:
    """Run the subspace tests on the in-memory rows, or skip them when none are held.

    ``deferred`` is true when the engine holds a stand-in for rows it never
    gathered (they did not fit ``memory_limit``): then a run that would need all
    of them is skipped with the reason instead of reading them.
    """
    from ..battery import _subspaces

    if deferred and n <= cfg.multivariate_max_rows and d > cfg.subspace_dim:
        return Skipped(
            "subspaces",
            "the rows do not fit memory_limit (raise it or lower multivariate_max_rows)",
        )
    return _subspaces(rows, cfg, notes)
