"""Diagnosis: what kind of departure from Gaussian a view shows, in words.

Each rule looks for one kind of departure and, when it fires, returns a
:class:`Finding` with a code and one sentence a user can act on:

``heavy_tails``
    excess kurtosis beyond its Gaussian sampling range (median over
    coordinates, or single coordinates);
``skew``
    skewness beyond its Gaussian sampling range;
``post_relu``
    a coordinate with a mass of rows at exactly its minimum (or at 0);
``clusters``
    a leading principal component with a bimodality coefficient above 5/9
    (Pfister et al. 2013) or clearly platykurtic scores, or a leading
    principal subspace whose joint (Mardia) skewness is far beyond the
    Gaussian's, spread over several directions rather than one skewed factor,
    with joint kurtosis at or below the Gaussian's (a mixture of several
    clusters whose centres span the subspace; see :func:`subspace_shape`);
``scale_mixture``
    norm spread beyond the fitted Gaussian's (the norm-CV test);
``quantised``
    every sampled value exactly representable in bfloat16 or float16.

Thresholds are sampling-based: a Gaussian view at any n fires no rule
(tested at n = 200 to 10,000).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from ._sampling import seeded_rows
from ._validation import constant_columns, power_of_two_scale

__all__ = ["Finding", "SubspaceShape", "diagnose", "subspace_shape"]

_MAX_ROWS = 5000
_LEADING = 5
#: Dimension of the leading principal subspace of the joint-skewness rule.
_JOINT_K = 8
#: The joint skewness must have a chi-square p-value below this (the false
#: alarm rate on Gaussian data is at most about this per view).
_JOINT_P = 1e-6
#: ... and be at least this many times the largest one-direction skewness².
_SPREAD = 3.0


@dataclass(frozen=True)
class Finding:
    """One diagnosed departure.

    Attributes
    ----------
    code : str
        ``heavy_tails``, ``skew``, ``post_relu``, ``clusters``, ``scale_mixture``
        or ``quantised``.
    message : str
        One sentence saying what was found and what to do about it.
    evidence : dict
        The numbers the rule used.
    """

    code: str
    message: str
    evidence: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (an entry of ``views.<view>.diagnosis``)."""
        return {"code": self.code, "message": self.message, "evidence": dict(self.evidence)}


def _moments(c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    top = np.max(np.abs(c), axis=0) if c.size else np.ones(c.shape[1:])
    c = c / np.where(top > 0, top, 1.0)  # skewness and kurtosis are scale free
    c2 = c * c
    m2 = c2.mean(axis=0)
    ok = m2 > 0
    m2 = np.where(ok, m2, 1.0)
    g1 = np.where(ok, np.mean(c2 * c, axis=0) / m2**1.5, 0.0)
    c2 *= c2
    g2 = np.where(ok, c2.mean(axis=0) / m2**2 - 3.0, 0.0)
    return g1, g2


def _on_grid(values: np.ndarray) -> str | None:
    with np.errstate(over="ignore", under="ignore"):  # values past float32 are on no grid
        v = values[np.isfinite(values)].astype(np.float32)
    if not np.all(np.isfinite(v)):
        return None
    if v.size == 0:
        return None
    bits = v.view(np.uint32)
    if np.all((bits & 0xFFFF) == 0):
        return "bfloat16"
    with np.errstate(over="ignore"):
        if np.all(v.astype(np.float16).astype(np.float32) == v) and np.all(
            values[np.isfinite(values)] == v.astype(np.float64)
        ):
            return "float16"
    return None


def _leading_directions(c: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Top-k principal directions by seeded subspace iteration (no d x d eigensolve)."""
    rng = np.random.default_rng(seed)
    q = np.linalg.qr(rng.standard_normal((c.shape[1], k + 5)))[0]
    for _ in range(6):
        q = np.linalg.qr(c.T @ (c @ q))[0]
    small = (c @ q).T @ (c @ q)
    _, v = np.linalg.eigh(small)
    return q @ v[:, ::-1][:, :k]


@dataclass(frozen=True)
class SubspaceShape:
    """Joint skewness and kurtosis of scores on a k-dimensional subspace.

    Attributes
    ----------
    k, n : int
    b1 : float
        Mardia's multivariate skewness ``||κ3||²`` of the standardised scores
        (covariance with denominator n).
    b1_pvalue : float
        Upper tail of ``n b1 / 6`` under chi-square with ``k(k+1)(k+2)/6``
        degrees of freedom.
    max_direction_b1 : float
        The largest squared skewness of a one-dimensional projection,
        ``max_|u|=1 κ3(u, u, u)²`` (tensor power iteration from the k axes and
        k seeded random starts). Equal to ``b1`` when one skewed factor
        carries all the skewness; a fraction of it when the skewness is spread
        over several directions (the centres of a mixture).
    kurtosis_z : float
        Mardia's multivariate kurtosis as a z-score about its Gaussian mean
        ``k(k+2)(n-1)/(n+1)``: negative for a mixture of separated Gaussian
        clusters, positive for heavy tails or a mass at zero (post-ReLU).
    """

    k: int
    n: int
    b1: float
    b1_pvalue: float
    max_direction_b1: float
    kurtosis_z: float

    @property
    def spread(self) -> float:
        """``b1 / max_direction_b1``: about 1 for one skewed factor, larger when spread."""
        return self.b1 / self.max_direction_b1 if self.max_direction_b1 > 0 else float("inf")


def subspace_shape(scores: np.ndarray, *, seed: int = 0) -> SubspaceShape:
    """Joint skewness, its spread over directions, and joint kurtosis of ``scores``.

    Parameters
    ----------
    scores : ndarray, shape (n, k)
        Projections of the rows on k directions (e.g. the leading principal
        components); n > k + 1 and full column rank.
    seed : int
        Seed of the random starts of the power iteration.

    Returns
    -------
    SubspaceShape

    Notes
    -----
    Every number is affine invariant in the k-dimensional scores. On the
    leading principal components of a Gaussian sample the scores keep the
    law of a k-dimensional Gaussian sample (the affine-invariant
    configuration is independent of the sample covariance, see
    :func:`gaussaudit.stats.subspace_tests`), so ``b1_pvalue`` is a valid
    p-value there.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> shape = subspace_shape(rng.standard_normal((2000, 4)))
    >>> bool(shape.b1_pvalue > 1e-3), round(shape.spread) > 1
    (True, True)
    >>> f = np.exp(rng.standard_normal(2000))  # one skewed factor
    >>> shape = subspace_shape(np.column_stack([f, rng.standard_normal((2000, 3))]))
    >>> bool(shape.b1_pvalue < 1e-6), round(shape.spread, 1)
    (True, 1.0)
    """
    c = np.asarray(scores, dtype=float)
    n, k = c.shape
    c = c - c.mean(axis=0)
    chol = np.linalg.cholesky(c.T @ c / n)
    y = np.linalg.solve(chol, c.T).T
    t = np.einsum("na,nb,nc->abc", y, y, y, optimize=True) / n
    b1 = float(np.sum(t * t))
    rng = np.random.default_rng(seed)
    best = 0.0
    for u in np.vstack([np.eye(k), rng.standard_normal((k, k))]):
        u = u / np.linalg.norm(u)
        for _ in range(50):
            v = np.einsum("abc,b,c->a", t, u, u)
            size = np.linalg.norm(v)
            if size == 0.0:
                break
            if np.allclose(v / size, u, atol=1e-10):
                u = v / size
                break
            u = v / size
        best = max(best, float(np.einsum("abc,a,b,c->", t, u, u, u)) ** 2)
    df = k * (k + 1) * (k + 2) / 6.0
    p1 = float(special.chdtrc(df, n * b1 / 6.0))  # chi2 survival (scipy.stats.chi2.sf)
    b2 = float(np.mean(np.sum(y * y, axis=1) ** 2))
    z2 = (b2 - k * (k + 2) * (n - 1) / (n + 1)) / np.sqrt(8.0 * k * (k + 2) / n)
    return SubspaceShape(k, n, b1, p1, best, float(z2))


def _joint_shape(scores: np.ndarray, seed: int) -> SubspaceShape | None:
    """Return the subspace shape when the joint-skewness clusters rule fires, else None."""
    m, k = scores.shape
    if k < 2 or m < 10 * k:
        return None
    try:
        shape = subspace_shape(scores, seed=seed)
    except np.linalg.LinAlgError:  # rank-deficient scores
        return None
    fires = shape.b1_pvalue < _JOINT_P and shape.spread >= _SPREAD and shape.kurtosis_z <= 0.0
    return shape if fires else None


def diagnose(
    x: np.ndarray,
    view: Any = None,
    *,
    seed: int = 0,
    raw: np.ndarray | None = None,
    leading: np.ndarray | None = None,
) -> tuple[Finding, ...]:
    """Name the kinds of departure a view shows.

    Parameters
    ----------
    x : ndarray, shape (n, d)
        The view.
    view : ViewAudit, optional
        Its results; the norm-CV test (``view.calibration.norm_cv``) feeds the
        scale-mixture rule.
    seed : int
        Seed of the row subsample (above 5,000 rows).
    raw : ndarray, optional
        The stored values before any view transform, for the quantisation
        rule (default ``x``).
    leading : ndarray, shape (d, r), optional
        The view's leading principal directions (``View.leading``, set for the
        whitened views, whose own covariance is the identity); default: a PCA
        of ``x``.

    Returns
    -------
    tuple of Finding
        Empty when nothing was found.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> diagnose(rng.standard_normal((2000, 16)))
    ()
    >>> [f.code for f in diagnose(np.maximum(rng.standard_normal((2000, 16)), 0))]
    ['heavy_tails', 'skew', 'post_relu']
    """
    x = np.asarray(x, dtype=float)
    top = float(np.max(np.abs(x))) if x.size else 0.0
    if top > 2.0**200:  # only near the float max: the rules are scale free there
        x = x / power_of_two_scale(top)
    n, d = x.shape
    if n < 20:
        return ()
    y = x[seeded_rows(n, _MAX_ROWS, seed)] if n > _MAX_ROWS else x
    m = y.shape[0]
    low = y.min(axis=0)
    # The one constant-column rule (docs/tests/README.md#constant-columns).
    live = np.ones(d, dtype=bool)
    live[constant_columns(y)] = False
    if not live.all():
        y, low = y[:, live], low[live]
    c = y - y.mean(axis=0)
    c -= c.mean(axis=0)
    g1, g2 = _moments(c) if live.any() else (np.zeros(0), np.zeros(0))
    findings: list[Finding] = []
    se1, se2 = np.sqrt(6.0 / m), np.sqrt(24.0 / m)
    # Extreme-value allowance for the largest of d coordinates, plus a floor.
    k = np.sqrt(2.0 * np.log(max(d, 2))) + 3.0
    if g2.size:
        med2, max2 = float(np.median(g2)), float(np.max(g2))
        heavy = int(np.sum(g2 > max(0.5, k * se2)))
        if med2 > max(0.3, 4.0 * se2) or heavy:
            findings.append(
                Finding(
                    "heavy_tails",
                    f"Heavy tails: median excess kurtosis {med2:.2g} (max {max2:.2g}; "
                    f"{heavy} of {g2.size} coordinates beyond the Gaussian range); "
                    "look for outliers or a few large-magnitude dimensions, and judge the "
                    "departure by its size (the W1 departure and its interval) rather than "
                    "by p-values.",
                    {
                        "median_excess_kurtosis": med2,
                        "max_excess_kurtosis": max2,
                        "coordinates": heavy,
                    },
                )
            )
        med1, max1 = float(np.median(np.abs(g1))), float(np.max(np.abs(g1)))
        skewed = int(np.sum(np.abs(g1) > max(0.3, k * se1)))
        if float(np.median(np.abs(g1))) > max(0.2, 4.0 * se1) or skewed:
            findings.append(
                Finding(
                    "skew",
                    f"Skew: median |skewness| {med1:.2g} (max {max1:.2g}; {skewed} of "
                    f"{g1.size} coordinates beyond the Gaussian range); a one-sided "
                    "activation or a log-normal scale often causes this.",
                    {"median_abs_skewness": med1, "max_abs_skewness": max1, "coordinates": skewed},
                )
            )
    if live.any():
        at_min = np.count_nonzero(y == low, axis=0) / m
        sparse = int(np.sum(at_min >= max(0.01, 5.0 / m)))
        if sparse:
            zero = float(np.count_nonzero(y == 0.0) / y.size)
            findings.append(
                Finding(
                    "post_relu",
                    f"Sparsity: {sparse} of {int(live.sum())} coordinates have a mass of "
                    f"rows at exactly their minimum ({zero:.0%} of all values are 0), as "
                    "after a ReLU; audit the pre-activation features instead.",
                    {
                        "coordinates": sparse,
                        "zero_fraction": zero,
                        "max_mass_at_minimum": float(at_min.max()),
                    },
                )
            )
    if live.sum() >= 1 and m >= 50:
        cl = c
        if leading is not None and leading.shape[1] >= 1:
            lead = np.asarray(leading, dtype=float)[live]
        else:
            lead = _leading_directions(cl, min(max(_LEADING, _JOINT_K), cl.shape[1]), seed)
        scores = cl @ lead[:, : min(_LEADING, lead.shape[1])]
        s1, s2 = _moments(scores - scores.mean(axis=0))
        bc = (s1**2 + 1.0) / (s2 + 3.0 * (m - 1) ** 2 / ((m - 2) * (m - 3)))
        flat = s2 < -max(0.5, 5.0 * se2)
        joint = _joint_shape(cl @ lead[:, : min(_JOINT_K, lead.shape[1])], seed)
        if np.any(bc > 5.0 / 9.0) or np.any(flat):
            j = int(np.argmax(bc))
            findings.append(
                Finding(
                    "clusters",
                    f"Clusters: leading principal component {j + 1} has bimodality "
                    f"coefficient {bc[j]:.2f} (> 0.555 suggests several modes) and excess "
                    f"kurtosis {s2[j]:.2g}; the data look like a mixture, so audit each "
                    "cluster (e.g. per class) separately.",
                    {
                        "bimodality_coefficient": float(bc.max()),
                        "min_component_excess_kurtosis": float(s2.min()),
                    },
                )
            )
        elif joint is not None and not any(f.code == "post_relu" for f in findings):
            # A mass at zero in many coordinates also skews many directions at once.
            findings.append(
                Finding(
                    "clusters",
                    f"Clusters: the top {joint.k} principal components are jointly skewed "
                    f"(Mardia b1 {joint.b1:.3g}, p = {joint.b1_pvalue:.1e}) in many "
                    f"directions at once ({joint.spread:.1f} times the most skewed single "
                    f"direction) with light joint tails (kurtosis z = {joint.kurtosis_z:.1f}), "
                    "as a mixture of several clusters is; audit each cluster (e.g. per "
                    "class) separately.",
                    {
                        "joint_skewness": joint.b1,
                        "joint_skewness_pvalue": joint.b1_pvalue,
                        "skewness_spread": joint.spread,
                        "joint_kurtosis_z": joint.kurtosis_z,
                    },
                )
            )
    norm_cv = getattr(getattr(view, "calibration", None), "norm_cv", None)
    if getattr(norm_cv, "statistic", 0.0) > 4.0:
        findings.append(
            Finding(
                "scale_mixture",
                f"Scale mixture: the norms spread more than a Gaussian's (CV "
                f"{norm_cv.cv:.3g} against {norm_cv.cv_reference:.3g}, z = "
                f"{norm_cv.statistic:.1f}): rows have different overall scales (or "
                "many coordinates have heavy tails); normalise rows (normalized view) "
                "before judging directions.",
                {"cv": norm_cv.cv, "cv_reference": norm_cv.cv_reference, "z": norm_cv.statistic},
            )
        )
    src = raw if raw is not None else x
    sample = np.asarray(src[seeded_rows(src.shape[0], min(src.shape[0], 2000), seed)])
    grid = _on_grid(sample.ravel())
    if grid is not None:
        findings.append(
            Finding(
                "quantised",
                f"Quantised: every sampled value lies on the {grid} grid, whose rounding "
                "alone makes normality tests reject at large n; export embeddings in "
                "float32 or judge by the size of the departure (W1 and its interval).",
                {"grid_bits": 8.0 if grid == "bfloat16" else 11.0},
            )
        )
    return tuple(findings)
