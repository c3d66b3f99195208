"""The report model: one JSON-compatible dict built from an :class:`AuditResult`.

Every renderer (terminal, JSON, HTML and Markdown) reads this dict and
nothing else, so the formats cannot disagree. The model only reshapes the
audit's results; the diagnostics the plots need are computed by
:mod:`gaussaudit.stats.diagnostics` when a renderer asks for them
(:mod:`gaussaudit.report.plot_data`). Its keys are the public JSON
contract of ``docs/json-contract.md`` (DESIGN.md §3): keys may be added, never
renamed; a breaking change bumps :data:`SCHEMA_VERSION`. NaN and infinities
become ``None`` (JSON ``null``); a skipped test is ``{"skipped": reason}``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._values import clean
from ..stats.battery import AuditResult, ViewAudit
from ..stats.multiplicity import NullBand
from ..stats.results import (
    CoordinateTestResult,
    HenzeZirklerResult,
    MardiaResult,
    NormResult,
    ProjectionResult,
    Skipped,
    SubspaceResult,
)
from ..versions import package_versions
from .plot_data import LazyPlotData

__all__ = ["SCHEMA_VERSION", "ReportModel", "add_pairs", "build_report", "clean"]

SCHEMA_VERSION = "1.0"


class ReportModel(dict):
    """The report model: a JSON-compatible dict that can also compute its plot data.

    It is a plain ``dict`` for every reader (``json.dumps``, ``report["views"]``);
    ``plot_source`` (a :class:`LazyPlotData` or None) is not one of its keys.
    Set it to None to let the audited matrix go.
    """

    plot_source: LazyPlotData | None = None


def _band(band: NullBand) -> dict:
    return {
        "expected": band.expected,
        "low": band.low,
        "high": band.high,
        "coverage": band.coverage,
        "n_tests": band.n_tests,
    }


def _full_length(values: np.ndarray, columns: np.ndarray, d: int) -> np.ndarray:
    out = np.full(d, np.nan)
    out[columns] = values
    return out


def _coordinate(result: CoordinateTestResult | Skipped, alpha: float) -> dict:
    if isinstance(result, Skipped):
        return {"skipped": result.reason}
    d = result.d
    excluded = sorted(set(range(d)) - set(result.columns.tolist()))
    out: dict[str, Any] = {
        "statistics": _full_length(result.statistics, result.columns, d),
        "pvalues": _full_length(result.pvalues, result.columns, d),
        "n": result.n,
        "n_input": result.n_input,
        "n_tested": result.n_tested,
        "excluded_columns": excluded,
        "mean": float(np.mean(result.statistics)) if result.n_tested else None,
        "median": float(np.median(result.statistics)) if result.n_tested else None,
        "mean_pvalue": float(np.mean(result.pvalues)) if result.n_tested else None,
        "pass_fraction": result.pass_fraction(alpha),
        "pass_rule": (
            f"statistic < {result.threshold}"
            if result.threshold is not None
            else f"pvalue > {alpha}"
        ),
        "null_band": _band(result.null_band(alpha)),
        "rejections": {
            "unadjusted": int(np.sum(result.pvalues <= alpha)),
            "holm": int(np.sum(result.rejections(alpha, method="holm"))),
            "fdr_bh": int(np.sum(result.rejections(alpha, method="fdr_bh"))),
        },
        "method": result.method,
    }
    if result.threshold is not None:
        out["threshold"] = result.threshold
    if result.seed is not None:
        out["seed"] = result.seed
    for key, arr in result.extra.items():
        out[key] = _full_length(arr, result.columns, d)
    if result.notes:
        out["notes"] = list(result.notes)
    return out


def _norms(result: NormResult | Skipped | None) -> dict | None:
    if result is None:
        return None
    if isinstance(result, Skipped):
        return {"skipped": result.reason}
    return {
        "mean": result.mean,
        "std": result.std,
        "cv": result.cv,
        "cv_isotropic_gaussian": result.cv_isotropic_gaussian,
        "cv_matched_gaussian": result.cv_matched_gaussian,
        "effective_dimension": result.effective_dimension,
        "effective_rank": result.effective_rank,
        "quantiles": dict(
            zip(
                ("min", "q01", "q25", "median", "q75", "q99", "max"),
                np.quantile(result.norms, [0, 0.01, 0.25, 0.5, 0.75, 0.99, 1]).tolist(),
                strict=False,
            )
        ),
    }


def _multivariate(results: dict) -> dict:
    out: dict[str, Any] = {}
    for name, r in results.items():
        if isinstance(r, Skipped):
            out[name] = {"skipped": r.reason}
        elif isinstance(r, MardiaResult):
            out[name] = {
                "skewness": {
                    "statistic": r.skewness.statistic,
                    "pvalue": r.skewness.pvalue,
                    "b1": r.b1,
                },
                "kurtosis": {
                    "statistic": r.kurtosis.statistic,
                    "pvalue": r.kurtosis.pvalue,
                    "b2": r.b2,
                },
                "n": r.n,
                "p": r.p,
                "small_sample_correction": r.small_sample_correction,
            }
        elif isinstance(r, HenzeZirklerResult):
            out[name] = {
                "statistic": r.statistic,
                "pvalue": r.pvalue,
                "beta": r.beta,
                "null_mean": r.null_mean,
                "null_variance": r.null_variance,
                "n": r.n,
                "p": r.p,
            }
        else:  # any other registered multivariate test: its scalar fields
            out[name] = _scalar_fields(r)
    return out


def _scalar_fields(result: Any) -> dict:
    """JSON form of a result dataclass: its numbers, strings and flags (arrays left out)."""
    from dataclasses import fields, is_dataclass

    if not is_dataclass(result):
        return {"statistic": getattr(result, "statistic", None), "pvalue": result.pvalue}
    out: dict[str, Any] = {}
    for f in fields(result):
        value = getattr(result, f.name)
        if isinstance(value, (bool, int, float, str, np.integer, np.floating)) or value is None:
            out[f.name] = value.item() if isinstance(value, np.generic) else value
        elif isinstance(value, tuple) and all(isinstance(v, str) for v in value):
            out[f.name] = list(value)
    return out


def _pvalue_family(s: SubspaceResult, pvalues: np.ndarray, alpha: float) -> dict:
    return {
        "pvalues": pvalues,
        "rejection_fraction": s.rejection_fraction(pvalues, alpha),
        "null_band": _band(s.null_band(alpha)),
    }


def _subspaces(s: SubspaceResult | Skipped | None, alpha: float) -> dict | None:
    if s is None:
        return None
    if isinstance(s, Skipped):
        return {"skipped": s.reason}
    out = {
        "k": s.k,
        "n_subspaces": s.n_subspaces,
        "n_random": s.n_subspaces - int(s.includes_principal),
        "seed": s.seed,
        "includes_principal": s.includes_principal,
        "n": s.n,
        "mardia": {
            "skewness": _pvalue_family(s, s.mardia_skewness_pvalues, alpha),
            "kurtosis": _pvalue_family(s, s.mardia_kurtosis_pvalues, alpha),
        },
        "henze_zirkler": {
            "statistics": s.henze_zirkler_statistics,
            **_pvalue_family(s, s.henze_zirkler_pvalues, alpha),
        },
    }
    for name, by_path in s.other_pvalues.items():
        entry: dict = out.setdefault(name, {})
        for path, pvalues in by_path.items():
            *parents, leaf = path.split(".")
            node = entry
            for key in parents:
                node = node.setdefault(key, {})
            node.update(_pvalue_family(s, pvalues, alpha) if leaf == "pvalue" else {leaf: pvalues})
    if s.notes:
        out["notes"] = list(s.notes)
    return out


def _projections(p: ProjectionResult | Skipped | None, alpha: float) -> dict | None:
    if p is None:
        return None
    if isinstance(p, Skipped):
        return {"skipped": p.reason}
    out: dict[str, Any] = {"n_projections": p.n_projections, "seed": p.seed}
    for name, r in p.tests.items():
        out[name] = _coordinate(r, alpha)
    return out


def _view(v: ViewAudit, alpha: float) -> dict:
    projections = _projections(v.projections, alpha)
    subspaces = _subspaces(v.subspaces, alpha)
    if subspaces is not None:
        if projections is None:
            projections = {"n_projections": 0}
        elif "skipped" in projections:
            # the contract's ``skipped`` key, and the older name kept beside it
            reason = projections["skipped"]
            projections = {"n_projections": 0, "skipped": reason, "directions_skipped": reason}
        projections["subspaces"] = subspaces
    out: dict[str, Any] = {
        "n": v.n,
        "d": v.d,
        "norms": _norms(v.norms),
        "coordinates": {name: _coordinate(r, alpha) for name, r in v.coordinates.items()},
        "multivariate": _multivariate(v.multivariate),
        "projections": projections,
        "verdict": {
            "gaussian": v.verdict.gaussian,
            "paper_rule": v.verdict.paper_rule,
            "calibrated": v.verdict.calibrated,
            "practically_gaussian": getattr(v.verdict, "practically_gaussian", None),
            "reasons": list(v.verdict.reasons),
        },
        "departure": _to_dict(getattr(v, "departure", None)),
        "sphere": _to_dict(getattr(v, "sphere", None)),
        "diagnosis": [_to_dict(f) for f in getattr(v, "diagnosis", ()) or ()],
        "calibration": _to_dict(getattr(v, "calibration", None)),
        "notes": list(v.notes),
    }
    return {k: val for k, val in out.items() if val is not None}


def _to_dict(result: Any) -> Any:
    """JSON form of a result with a ``to_dict()`` (departure, sphere, findings)."""
    if result is None:
        return None
    if isinstance(result, Skipped):
        return {"skipped": result.reason}
    return result.to_dict() if hasattr(result, "to_dict") else result


def _execution(execution: dict | None) -> dict | None:
    """How the audit ran (engine, streamed, rows audited, block size, rows per step)."""
    if not execution:
        return None
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in execution.items()}


def build_report(
    result: AuditResult, embeddings: object | None = None, *, plot_data: bool = False
) -> ReportModel:
    """Build the report model (a JSON-compatible dict) of an audit.

    Parameters
    ----------
    result : AuditResult
        What :func:`gaussaudit.audit` returned.
    embeddings : EmbeddingSet, optional
        The loaded input, for the ``input`` section (source, dtype, provenance).
    plot_data : bool
        Compute the plot diagnostics now and add them as ``views.<view>.plot_data``
        (when ``result.matrix`` is kept). By default they are not in the dict:
        the model computes them only when a renderer draws plots (HTML), through
        :func:`gaussaudit.report.plot_data.view_plot_data`, so a JSON report
        carries and computes none.

    Returns
    -------
    ReportModel
        A ``dict`` following the contract in ``docs/json-contract.md``.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussaudit import audit
    >>> x = np.random.default_rng(0).standard_normal((300, 5))
    >>> report = build_report(audit(x))
    >>> report["schema_version"], "plot_data" in report["views"]["raw"]
    ('1.0', False)
    """
    from .._version import __version__

    cfg = result.config
    alpha = cfg.alpha
    source = getattr(embeddings, "source", "<array>")
    report = {
        "schema_version": SCHEMA_VERSION,
        "tool": {
            "name": "gaussaudit",
            "version": __version__,
            "versions": package_versions("gaussaudit", "numpy", "scipy", "statsmodels"),
        },
        "input": {
            "source": str(source),
            "format": getattr(embeddings, "input_format", "array"),
            "n": result.n_input,
            "d": result.check.d,
            "n_audited": next(iter(result.views.values())).n if result.views else None,
            "dtype": getattr(embeddings, "input_dtype", result.check.input_dtype),
            "shape": list(getattr(embeddings, "input_shape", (result.n_input, result.check.d))),
            "selection": getattr(embeddings, "selection", None),
            "dropped_rows": result.check.dropped_rows,
            "constant_columns": list(result.check.constant_columns),
            "provenance": getattr(embeddings, "provenance", None),
            "engine": (result.execution or {}).get("engine", cfg.engine),
            "streamed": bool((result.execution or {}).get("streamed", False)),
        },
        "config": {
            "alpha": alpha,
            "seed": cfg.seed,
            "views": list(cfg.views),
            "tests": list(cfg.tests),
            "max_samples": cfg.max_samples,
            "projections": cfg.projections,
            "subspace_dim": cfg.subspace_dim,
            "subspaces": cfg.subspaces,
            "multivariate_max_rows": cfg.multivariate_max_rows,
            "full_multivariate": cfg.full_multivariate,
            "full_max_dim": cfg.full_max_dim,
            "pca": cfg.pca,
            "ad_threshold": cfg.threshold,
            "verdict": cfg.verdict,
        },
        "execution": _execution(result.execution),
        "views": {name: _view(v, alpha) for name, v in result.views.items()},
        "verdict": {"gaussian": result.gaussian},
        "notes": list(result.notes),
    }
    model = ReportModel(clean(report))
    matrix = getattr(result, "matrix", None)
    if matrix is not None:  # the plots' diagnostics, computed when asked for
        source = LazyPlotData(matrix, result.views, cfg)
        if plot_data:
            for name in result.views:
                model["views"][name]["plot_data"] = source.get(name)
        else:
            model.plot_source = source
    return model


# --------------------------------------------------------------------------- positive pairs

#: Items of a pairs file measured at most (a seeded subsample of whole items beyond it).
MAX_PAIR_ITEMS = 20_000


def add_pairs(
    report: dict, result: AuditResult, pairs: np.ndarray, *, source: str | None = None
) -> dict:
    """Add ``views.<view>.pairs`` (alignment, uniformity, pair cosines) to a report model.

    Each view's transform is fitted on the audited matrix (the whitened view's
    mean and whitening matrix) and applied to the pairs
    (:func:`gaussaudit.stats.pairs.view_transform`), then
    :func:`gaussaudit.stats.pairs.pair_metrics` measures them, seeded with the
    audit's seed.

    Parameters
    ----------
    report : dict
        The model :func:`build_report` returned for ``result`` (changed in place).
    result : AuditResult
        The audit; its ``matrix`` must be kept.
    pairs : ndarray, shape (m, K, 2, d)
        Positive pairs in the input's ``d`` dimensions (``EMB.pairs.npy``).
        Beyond :data:`MAX_PAIR_ITEMS` items, a seeded subsample of whole items
        is measured (recorded as ``items_subsample``).
    source : str, optional
        Where the pairs came from, recorded as ``input.pairs``.

    Returns
    -------
    dict
        ``report``.
    """
    from ..errors import InvalidEmbeddingsError
    from ..stats.pairs import pair_metrics, view_transform

    matrix = getattr(result, "matrix", None)
    d = result.check.d
    seed = result.config.seed
    m = pairs.shape[0] if pairs.ndim == 4 else 0
    subsample = None
    if m > MAX_PAIR_ITEMS:  # bounded memory: a seeded subsample of whole items
        keep = np.sort(np.random.default_rng(seed).choice(m, MAX_PAIR_ITEMS, replace=False))
        pairs = pairs[keep]
        subsample = {"kept": MAX_PAIR_ITEMS, "of": m, "seed": seed}
    for name in result.views:
        entry = report["views"].get(name)
        if entry is None:
            continue
        if matrix is None:
            entry["pairs"] = {"skipped": "the audit did not keep its matrix"}
        elif pairs.ndim != 4 or pairs.shape[-1] != d:
            entry["pairs"] = {
                "skipped": f"pairs of shape {tuple(pairs.shape)} do not match d = {d}"
            }
        else:
            try:
                mapped = view_transform(matrix, name)(np.asarray(pairs, dtype=np.float64))
                metrics = pair_metrics(mapped, seed=seed)
            except InvalidEmbeddingsError as err:
                entry["pairs"] = {"skipped": str(err)}
            else:
                entry["pairs"] = clean(
                    {**metrics.to_dict(), **({"items_subsample": subsample} if subsample else {})}
                )
    report["input"]["pairs"] = clean({"source": source, "shape": list(pairs.shape)})
    return report
