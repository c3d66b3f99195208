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
    (Pfister et al. 2013) or clearly platykurtic scores (a mixture of many
    well separated clusters);
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

from ._sampling import seeded_rows
from ._validation import power_of_two_scale

__all__ = ["Finding", "diagnose"]

_MAX_ROWS = 5000
_LEADING = 5


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


def diagnose(
    x: np.ndarray, view: Any = None, *, seed: int = 0, raw: np.ndarray | None = None
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
    ['skew', 'post_relu']
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
    low, high = y.min(axis=0), y.max(axis=0)
    live = high > low
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
                    "departure by its size (departure.value) rather than by p-values.",
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
        lead = _leading_directions(cl, min(_LEADING, cl.shape[1]), seed)
        scores = cl @ lead
        s1, s2 = _moments(scores - scores.mean(axis=0))
        bc = (s1**2 + 1.0) / (s2 + 3.0 * (m - 1) ** 2 / ((m - 2) * (m - 3)))
        flat = s2 < -max(0.5, 5.0 * se2)
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
                "float32 or judge by departure.value.",
                {"grid_bits": 8.0 if grid == "bfloat16" else 11.0},
            )
        )
    return tuple(findings)
