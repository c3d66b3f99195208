"""Per-view verdicts: the paper's rule and the calibrated decision.

- The **paper rule**: mean A² < 0.752 and mean D'Agostino–Pearson p > alpha
  (the rule every ✓/× in the paper's tables satisfies; PAPER.md §7). It is
  coded here once; the trainer, ``reproduce`` and the gates read it from the
  audit's verdict.
- The **calibrated** verdict, one decision at level alpha by a union bound
  over three groups of checks (weights 2 : 1 : 1 of alpha; a group that is
  absent gives its share to the others):

  1. with m per-coordinate and projection families, each pass fraction must
     reach the lower alpha/(2m) quantile of its null law, the binomial
     corrected for the correlation of the tested columns
     (:mod:`gaussaudit.stats.calibration`);
  2. no coordinate may be rejected by Holm over the per-coordinate
     Anderson–Darling p-values (one bad coordinate among 768 is caught here);
  3. no multivariate p-value (full view, subspaces) nor the norm-CV test may
     be rejected by Holm.

  ``AuditConfig.calibration = "binomial"`` gives the previous rule: binomial
  floors at alpha/2, multivariate Holm at alpha/2, nothing else (liberal on
  correlated columns: 16 % false rejections at 2,000 x 8; docs/calibration.md).
- The **practical** verdict (``practically_gaussian``): the departure measure's
  upper 95 % bound is within ``AuditConfig.margin``
  (:mod:`gaussaudit.stats.departure`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .multiplicity import reject
from .results import CoordinateTestResult, ProjectionResult, SubspaceResult
from .tests import multivariate_tests

__all__ = ["HOLM_COORDINATE_TESTS", "Verdict", "decide", "paper_rule"]


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
    practically_gaussian : bool or None
        The departure from N(0, 1) is within the margin (upper 95 % bound of
        the measure <= ``AuditConfig.margin``); None when not measured.
    """

    gaussian: bool | None
    paper_rule: bool | None
    calibrated: bool | None
    reasons: tuple[str, ...]
    practically_gaussian: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``views.<view>.verdict``)."""
        return {
            "gaussian": self.gaussian,
            "paper_rule": self.paper_rule,
            "calibrated": self.calibrated,
            "practically_gaussian": self.practically_gaussian,
            "reasons": list(self.reasons),
        }


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
        for spec in multivariate_tests(s.other_pvalues):
            for label, path in spec.pvalues:
                arr = s.other_pvalues[spec.name].get(path, np.zeros(0))
                pvals += [(f"subspace {label}", float(p)) for p in arr if np.isfinite(p)]
    return pvals


#: Per-coordinate tests whose p-values enter the Holm family. Holm's thresholds
#: reach 1e-5 and below, so only a test whose far tail is accurate qualifies.
#: Measured (Gaussian columns, rate of p < t divided by t): Anderson-Darling
#: 1.1-1.5 at n = 200 and <= 1 at n = 2,000 for t = 1e-3..3e-5; D'Agostino-
#: Pearson 3.3-15 at n = 200 and 1.4-3.3 at n = 2,000 (its chi2(2) law is
#: liberal in the far tail); Jarque-Bera's is worse.
HOLM_COORDINATE_TESTS = ("anderson_darling",)


def _coordinate_pvalues(view: Any) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    for name in HOLM_COORDINATE_TESTS:
        r = view.coordinates.get(name)
        if isinstance(r, CoordinateTestResult) and r.n_tested:
            out += [
                (f"{name}[{int(c)}]", float(p)) for c, p in zip(r.columns, r.pvalues, strict=True)
            ]
    return out


def _budgets(weights: dict[str, int], alpha: float) -> dict[str, float]:
    total = sum(weights.values())
    return {k: alpha * w / total for k, w in weights.items() if w}


def _holm(pvals: list[tuple[str, float]], level: float, what: str, reasons: list[str]) -> bool:
    labels = [lab for lab, _ in pvals]
    rejected = reject(np.array([p for _, p in pvals]), level, method="holm")
    if not rejected.any():
        return True
    hit = [labels[i] for i in np.flatnonzero(rejected)]
    shown = ", ".join(sorted(set(hit))[:6]) + (", ..." if len(set(hit)) > 6 else "")
    reasons.append(
        f"{what}: {int(rejected.sum())} of {len(pvals)} p-values rejected "
        f"after Holm at {level:.3g} ({shown})"
    )
    return False


def _calibrated(
    view: Any, alpha: float, reasons: list[str], calibration: str = "binomial"
) -> bool | None:
    from .calibration import pass_floor
    from .norm_cv import NormCVTest

    families = _families(view)
    pvals = _multivariate_pvalues(view)
    dependence = calibration != "binomial"
    cal = getattr(view, "calibration", None) if dependence else None
    coord = _coordinate_pvalues(view) if dependence else []
    norm_cv = getattr(cal, "norm_cv", None)
    if isinstance(norm_cv, NormCVTest):
        pvals = [*pvals, ("norm CV", norm_cv.pvalue)]
    weights = {
        "floors": (2 if dependence else 1) if families else 0,
        "coordinates": 1 if coord else 0,
        "multivariate": 1 if pvals else 0,
    }
    budget = _budgets(weights, alpha)
    checks: list[Any] = []
    calibrated = True
    for name, r in families:
        frac = r.pass_fraction(alpha)
        expected = r.expected_pass_fraction(alpha)
        tail = budget["floors"] / len(families)
        inflation = float(getattr(cal, "inflation", {}).get(name, 1.0)) if cal else 1.0
        floor = pass_floor(r.n_tested, expected, tail, inflation)
        checks.append((name, frac, floor, inflation))
        if frac < floor:
            calibrated = False
            widened = (
                ""
                if inflation < 1.005
                else f", widened for correlated tests (variance {inflation:.3g} times "
                "the binomial's)"
            )
            reasons.append(
                f"{name}: pass fraction {frac:.1%} below {floor:.1%}, the lower "
                f"{tail:.2g} binomial quantile for {r.n_tested} tests at {expected:.1%}"
                f"{widened}"
            )
    if coord and not _holm(coord, budget["coordinates"], "coordinates", reasons):
        calibrated = False
    if pvals and not _holm(pvals, budget["multivariate"], "multivariate", reasons):
        calibrated = False
    n_checks = len(families) + (1 if coord else 0) + (1 if pvals else 0)
    if not n_checks:
        reasons.append("calibrated: not decided (no test ran)")
        return None
    if calibrated:
        if dependence:
            reasons.append(
                "calibrated: no pass fraction below its floor (corrected for correlated "
                "columns), no coordinate and no multivariate rejection after Holm "
                f"(one level-{alpha} decision over {n_checks} checks)"
            )
        else:
            reasons.append(
                "calibrated: no pass fraction below its binomial floor and no multivariate "
                f"rejection after Holm (one level-{alpha} decision over {n_checks} checks)"
            )
    return calibrated


def _practical(view: Any, reasons: list[str]) -> bool | None:
    departure = getattr(view, "departure", None)
    if departure is None or not hasattr(departure, "within_margin"):
        return None
    ok = departure.within_margin
    reasons.append(departure.reason())
    return ok


def _headline_note(
    paper: bool | None, calibrated: bool | None, practical: bool | None
) -> str | None:
    """One sentence when the verdicts disagree, saying why both can be true."""
    if paper is None or calibrated is None or paper == calibrated:
        return None
    if practical is True:
        return (
            "verdicts differ: the tests detect a departure (significant), but it is "
            "within the margin (negligible in size)"
        )
    if paper and not calibrated:
        return (
            "verdicts differ: the paper rule looks at mean statistics only; the calibrated "
            "verdict found a departure its checks can attribute (see above)"
        )
    return (
        "verdicts differ: the paper rule's mean statistics fail, but no calibrated check "
        "rejects at the audit's level"
    )


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
    calibrated = _calibrated(
        view, config.alpha, reasons, getattr(config, "calibration", "binomial")
    )
    practical = _practical(view, reasons)
    note = _headline_note(paper, calibrated, practical)
    if note:
        reasons.append(note)
    headline = paper if config.verdict == "paper" else calibrated
    return Verdict(headline, paper, calibrated, tuple(reasons), practical)
