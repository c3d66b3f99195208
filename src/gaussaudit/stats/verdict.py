"""Per-view verdicts: the paper's rule and the calibrated decision.

- The **paper rule**: mean A² < 0.752 and mean D'Agostino–Pearson p > alpha
  (the rule every ✓/× in the paper's tables satisfies; PAPER.md §7). It is
  coded here once; the trainer, ``reproduce`` and the gates read it from the
  audit's verdict.
- The **calibrated** verdict, one decision at level alpha by a union bound:
  with m per-coordinate and projection families, each pass fraction must reach
  the lower alpha/(2m) quantile of its binomial null law, and no multivariate
  p-value (full view and subspaces) may be rejected by Holm at alpha/2 (the
  whole of alpha goes to whichever part exists alone). The binomial floors
  assume independent coordinates, exact for the whitened view; correlated raw
  coordinates make the pass fraction more variable than that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .multiplicity import reject
from .results import CoordinateTestResult, ProjectionResult, SubspaceResult
from .tests import multivariate_tests

__all__ = ["Verdict", "decide", "paper_rule"]


@dataclass(frozen=True)
class Verdict:
    """Per-view decision.

    Attributes
    ----------
    gaussian : bool or None
        The headline verdict (the one named by ``AuditConfig.verdict``).
    paper_rule : bool or None
        Mean A² < threshold and mean DP p > alpha; None if either test was skipped.
    calibrated : bool or None
        Pass fractions inside their null bands and no multivariate rejection.
    reasons : tuple of str
        Why, one sentence per criterion.
    """

    gaussian: bool | None
    paper_rule: bool | None
    calibrated: bool | None
    reasons: tuple[str, ...]


def paper_rule(
    ad_mean: float | None, dp_mean_pvalue: float | None, *, alpha: float, threshold: float
) -> tuple[bool | None, str]:
    """Apply the paper's rule to the two means, with its reason in words.

    Parameters
    ----------
    ad_mean : float or None
        Mean raw A² over the tested coordinates.
    dp_mean_pvalue : float or None
        Mean D'Agostino–Pearson p-value over the tested coordinates.
    alpha, threshold : float
        Level of the DP rule and the AD threshold (the paper's 0.752).

    Returns
    -------
    decision : bool or None
        None when either mean is missing.
    reason : str

    Examples
    --------
    >>> paper_rule(0.31, 0.5, alpha=0.05, threshold=0.752)[0]
    True
    """
    if ad_mean is None or dp_mean_pvalue is None:
        return None, "paper rule: not decided (Anderson-Darling or D'Agostino-Pearson skipped)"
    ok_ad, ok_dp = ad_mean < threshold, dp_mean_pvalue > alpha
    reason = (
        f"paper rule: mean A^2 {ad_mean:.3g} {'<' if ok_ad else '>='} "
        f"{threshold} and mean DP p {dp_mean_pvalue:.3g} "
        f"{'>' if ok_dp else '<='} {alpha}"
    )
    return ok_ad and ok_dp, reason


def _means(view: Any) -> tuple[float | None, float | None]:
    ad = view.coordinates.get("anderson_darling")
    dp = view.coordinates.get("dagostino_pearson")
    if not (isinstance(ad, CoordinateTestResult) and isinstance(dp, CoordinateTestResult)):
        return None, None
    if not (ad.n_tested and dp.n_tested):
        return None, None
    return float(np.mean(ad.statistics)), float(np.mean(dp.pvalues))


def _families(view: Any) -> list[tuple[str, CoordinateTestResult]]:
    out = [
        (name, r)
        for name, r in view.coordinates.items()
        if isinstance(r, CoordinateTestResult) and r.n_tested
    ]
    if isinstance(view.projections, ProjectionResult):
        out += [
            (f"projections.{name}", r)
            for name, r in view.projections.tests.items()
            if isinstance(r, CoordinateTestResult) and r.n_tested
        ]
    return out


def _multivariate_pvalues(view: Any) -> list[tuple[str, float]]:
    pvals: list[tuple[str, float]] = []
    for spec in multivariate_tests(view.multivariate):
        result = view.multivariate[spec.name]
        if hasattr(result, "reason"):  # Skipped
            continue
        pvals += spec.result_pvalues(result)
    if isinstance(view.subspaces, SubspaceResult):
        s = view.subspaces
        for label, arr in (
            ("subspace mardia skewness", s.mardia_skewness_pvalues),
            ("subspace mardia kurtosis", s.mardia_kurtosis_pvalues),
            ("subspace henze_zirkler", s.henze_zirkler_pvalues),
        ):
            pvals += [(label, float(p)) for p in arr if np.isfinite(p)]
    return pvals


def _calibrated(view: Any, alpha: float, reasons: list[str]) -> bool | None:
    from scipy import stats

    families = _families(view)
    pvals = _multivariate_pvalues(view)
    band_budget = alpha / 2.0 if pvals else alpha
    holm_alpha = alpha / 2.0 if families else alpha
    calibrated = True
    for name, r in families:
        frac = r.pass_fraction(alpha)
        expected = r.expected_pass_fraction(alpha)
        tail = band_budget / len(families)
        floor = float(stats.binom.ppf(tail, r.n_tested, expected) / r.n_tested)
        if frac < floor:
            calibrated = False
            reasons.append(
                f"{name}: pass fraction {frac:.1%} below {floor:.1%}, the lower "
                f"{tail:.2g} binomial quantile for {r.n_tested} tests at {expected:.1%}"
            )
    if pvals:
        labels = [lab for lab, _ in pvals]
        rejected = reject(np.array([p for _, p in pvals]), holm_alpha, method="holm")
        if rejected.any():
            calibrated = False
            hit = sorted({labels[i] for i in np.flatnonzero(rejected)})
            reasons.append(
                f"multivariate: {int(rejected.sum())} of {len(pvals)} p-values rejected "
                f"after Holm at {holm_alpha:.3g} ({', '.join(hit)})"
            )
    checks = len(families) + (1 if pvals else 0)
    if not checks:
        reasons.append("calibrated: not decided (no test ran)")
        return None
    if calibrated:
        reasons.append(
            "calibrated: no pass fraction below its binomial floor and no multivariate "
            f"rejection after Holm (one level-{alpha} decision over {checks} checks)"
        )
    return calibrated


def decide(view: Any, config: Any) -> Verdict:
    """Reach both verdicts for one audited view.

    Parameters
    ----------
    view : ViewAudit
        The view's results (its ``verdict`` is ignored).
    config : AuditConfig
        ``alpha``, ``threshold`` and which verdict is the headline.

    Returns
    -------
    Verdict
    """
    reasons: list[str] = []
    ad_mean, dp_mean = _means(view)
    paper, reason = paper_rule(ad_mean, dp_mean, alpha=config.alpha, threshold=config.threshold)
    reasons.append(reason)
    calibrated = _calibrated(view, config.alpha, reasons)
    headline = paper if config.verdict == "paper" else calibrated
    return Verdict(headline, paper, calibrated, tuple(reasons))
