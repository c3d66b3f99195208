"""Diagnostics behind the report's plots, computed from the audited matrix.

What the plots need beyond the battery's own results (per-coordinate
statistics and p-values, projection and subspace results): a simulated null
distribution of A², quantile points of normal Q–Q plots of the worst, median
and best coordinates, a histogram of the row norms with its chi reference, a
chi-square Q–Q of squared Mahalanobis distances and a histogram of random-pair
cosines. Every array is a summary of fixed size (about 100 points), so the
result stays small whatever ``n`` and ``d`` are (a few kB per view for
``d = 4096``).

These are statistics, so they live here (numpy and scipy only, never torch);
the report model calls :func:`view_diagnostics` only when an output draws the
plots (the HTML report, or ``build_report(..., plot_data=True)``), never for a
JSON, terminal or Markdown report.

Every random choice (the A² null simulation, the row subsample of the
Mahalanobis plot, the random row pairs) is seeded with the audit's seed, which
is recorded next to it.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import special, stats

from ._sampling import describe_subsample, seeded_rows
from .battery import AuditConfig, ViewAudit
from .results import CoordinateTestResult, NormResult
from .univariate import anderson_darling
from .views import make_view, pca_whiten

__all__ = [
    "AD_NULL_MAX_N",
    "AD_NULL_REPLICATES",
    "COSINE_PAIRS",
    "MAHALANOBIS_MAX_ROWS",
    "QQ_POINTS",
    "ad_null",
    "cosine_pairs",
    "mahalanobis_qq",
    "norm_histogram",
    "normal_qq",
    "qq_coordinates",
    "view_diagnostics",
]

#: Points kept per Q–Q curve.
QQ_POINTS = 100
#: The A² null is simulated for Gaussian samples of the view's n, capped here
#: (the null law of A² barely moves beyond a few hundred rows).
AD_NULL_MAX_N = 2000
#: Simulated A² statistics behind the null quantiles.
AD_NULL_REPLICATES = 2000
#: Seeded row subsample for the Mahalanobis Q–Q plot (an O(n d min(n, d)) step).
MAHALANOBIS_MAX_ROWS = 2000
#: Random row pairs behind the negative-pair cosine histogram.
COSINE_PAIRS = 5000
_BINS = 40
_SIG = 5
#: Probabilities at which the A² null quantiles are kept.
_NULL_PROBS = np.union1d(np.linspace(0.0, 1.0, 101), [0.001, 0.005, 0.995, 0.999])


def _r(values: Any, sig: int = _SIG) -> Any:
    """Round to ``sig`` significant digits (lists stay lists; NaN stays NaN)."""
    if isinstance(values, (list, tuple, np.ndarray)):
        return [_r(v, sig) for v in np.asarray(values, dtype=float).ravel().tolist()]
    v = float(values)
    return float(f"{v:.{sig}g}") if math.isfinite(v) else v


def _histogram(values: np.ndarray, bins: int = _BINS) -> dict:
    lo, hi = float(np.min(values)), float(np.max(values))
    if hi - lo <= 1e-9 * max(abs(lo), abs(hi)) or hi <= lo:  # (nearly) one value
        half = max(abs(lo), abs(hi), 1.0) * 1e-3
        lo, hi = lo - half, hi + half
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    return {"edges": edges.tolist(), "counts": counts.tolist()}


@lru_cache(maxsize=8)
def _ad_null_quantiles(n: int, replicates: int, seed: int) -> tuple[tuple[float, ...], np.ndarray]:
    g = np.random.default_rng(seed).standard_normal((n, replicates))
    a2 = anderson_darling(g).statistics
    return tuple(np.quantile(a2, _NULL_PROBS).tolist()), np.sort(a2)


def ad_null(n: int, *, seed: int, threshold: float, replicates: int = AD_NULL_REPLICATES) -> dict:
    """Null distribution of the raw A² for Gaussian samples of ``n`` rows.

    Parameters
    ----------
    n : int
        Rows of the view; the simulation uses ``min(n, AD_NULL_MAX_N)``.
    seed : int
        Seed of the simulation.
    threshold : float
        The pass threshold (0.752); the simulated pass probability is returned.
    replicates : int
        Number of simulated Gaussian columns.

    Returns
    -------
    dict
        ``n`` (rows simulated), ``n_view``, ``replicates``, ``seed``, ``probs``
        and ``quantiles`` of the simulated A², and ``pass_probability`` (share
        of simulated A² below ``threshold``).
    """
    n_sim = int(min(max(n, 8), AD_NULL_MAX_N))
    quantiles, a2 = _ad_null_quantiles(n_sim, int(replicates), int(seed))
    return {
        "n": n_sim,
        "n_view": int(n),
        "replicates": int(replicates),
        "seed": int(seed),
        "probs": _r(_NULL_PROBS, 6),
        "quantiles": _r(quantiles),
        "pass_probability": _r(np.mean(a2 < threshold)),
        "method": "raw A^2 of standard normal columns (estimated mean and variance), "
        "vectorised; quantiles of the simulated statistics",
    }


def normal_qq(column: np.ndarray, points: int = QQ_POINTS) -> dict:
    """Compute normal Q–Q points of one column, standardised, at ``points`` quantiles.

    The theoretical quantiles are evenly spaced between the normal quantiles of
    the plotting positions ``0.5/n`` and ``1 - 0.5/n`` (so the tails, where
    departures show, are kept); the sample quantiles use the same positions
    (Hazen's rule, so the ends are the sample minimum and maximum).
    """
    col = np.asarray(column, dtype=float)
    n = col.size
    sd = col.std(ddof=1)
    z = (col - col.mean()) / (sd if sd > 0 else 1.0)
    zmax = float(stats.norm.ppf(1.0 - 0.5 / n))
    theo = np.linspace(-zmax, zmax, min(points, n))
    sample = np.quantile(z, stats.norm.cdf(theo), method="hazen")
    return {"theoretical": _r(theo), "sample": _r(sample)}


def qq_coordinates(m: np.ndarray, ad: CoordinateTestResult) -> dict:
    """Compute normal Q–Q points of the worst, median and best coordinates by A².

    Parameters
    ----------
    m : ndarray, shape (n, d)
        The view's matrix.
    ad : CoordinateTestResult
        Its Anderson–Darling result (which columns were tested, A² per column).

    Returns
    -------
    dict
        ``coordinates``: three entries (``label``, ``column``, ``statistic`` and
        the :func:`normal_qq` points), with ``points``, ``by`` and ``method``.
    """
    order = np.argsort(ad.statistics, kind="stable")
    picks = {"worst": order[-1], "median": order[(order.size - 1) // 2], "best": order[0]}
    out = []
    for label, k in picks.items():
        column = int(ad.columns[k])
        entry = {"label": label, "column": column, "statistic": _r(ad.statistics[k])}
        entry.update(normal_qq(m[:, column]))
        out.append(entry)
    return {
        "points": min(QQ_POINTS, m.shape[0]),
        "by": "anderson_darling",
        "coordinates": out,
        "method": "standardised sample quantiles vs N(0, 1) quantiles, Hazen plotting positions",
    }


def norm_histogram(norms: np.ndarray, d: int, cv_matched: float | None = None) -> dict:
    """Histogram of row norms with a scaled chi_d and a matched-Gaussian reference.

    Parameters
    ----------
    norms : ndarray
        Row norms of the view.
    d : int
        Dimension of the view.
    cv_matched : float, optional
        CV of the norm of a Gaussian with the data's mean and covariance.

    Returns
    -------
    dict
        ``edges``/``counts``; ``chi_scale`` ``s`` such that ``s * chi_d`` has the
        data's mean norm (the norm of ``N(0, s² I_d)``); ``reference.x`` with the
        densities ``isotropic_chi`` (of ``s * chi_d``) and ``matched_normal``
        (a normal with the data's mean norm and standard deviation
        ``cv_matched * mean``, the delta-method approximation for the matched
        Gaussian), or ``{"skipped": reason}`` when every norm is equal.
    """
    norms = np.asarray(norms, dtype=float)
    mean = float(norms.mean())
    spread = float(norms.max() - norms.min())
    if mean <= 0 or spread <= 1e-9 * mean:
        return {"skipped": "every row has the same norm (e.g. the L2-normalised view)"}
    hist = _histogram(norms)
    mu_chi = math.sqrt(2.0) * math.exp(special.gammaln((d + 1) / 2.0) - special.gammaln(d / 2.0))
    scale = mean / mu_chi
    chi_lo, chi_hi = (scale * q for q in stats.chi.ppf([0.0005, 0.9995], d))
    edges = hist["edges"]
    grid = np.union1d(
        np.linspace(min(edges[0], chi_lo), max(edges[-1], chi_hi), 160),
        np.linspace(chi_lo, chi_hi, 80),
    )
    grid = grid[grid > 0]
    iso = stats.chi.pdf(grid / scale, d) / scale
    ref: dict[str, Any] = {"x": _r(grid), "isotropic_chi": _r(iso)}
    if cv_matched is not None and math.isfinite(cv_matched) and cv_matched > 0:
        ref["matched_normal"] = _r(stats.norm.pdf(grid, loc=mean, scale=cv_matched * mean))
    else:
        ref["matched_normal"] = None
    return {
        **hist,
        "n": int(norms.size),
        "d": int(d),
        "mean": _r(mean),
        "std": _r(mean * (norms / mean).std()),
        "chi_scale": _r(scale),
        "cv_matched_gaussian": None if ref["matched_normal"] is None else _r(cv_matched),
        "reference": ref,
    }


def _mahalanobis_cholesky(x: np.ndarray) -> np.ndarray | None:
    """Squared Mahalanobis distances by a Cholesky factor; None if S is near singular."""
    from scipy import linalg

    c = x - x.mean(axis=0)
    scale = np.sqrt(np.mean(c * c, axis=0))
    if np.any(scale <= 0):
        return None
    c = c / scale  # a correlation-scaled covariance: same distances, better conditioned
    s = c.T @ c / (x.shape[0] - 1)
    try:
        factor = linalg.cholesky(s, lower=True, check_finite=False)
    except linalg.LinAlgError:
        return None
    if np.min(np.diag(factor)) ** 2 < 1e-10:
        return None
    w = linalg.solve_triangular(factor, c.T, lower=True, check_finite=False)
    return np.einsum("ij,ij->j", w, w)


def mahalanobis_qq(
    m: np.ndarray, *, seed: int, max_rows: int = MAHALANOBIS_MAX_ROWS, points: int = QQ_POINTS
) -> dict:
    """Chi-square Q–Q points of squared Mahalanobis distances (as R's MVN).

    Rows beyond ``max_rows`` are subsampled (seeded). The distances use the
    sample mean and covariance (ddof=1) of those rows, on the covariance's
    leading ``p = min(rank, rows // 2)`` principal directions (all of them when
    d is small next to the rows). ``sample`` holds ``points`` quantiles of the
    distances, ``chi2`` the chi2_p quantiles at the same probabilities, and
    ``beta`` the exact quantiles for Gaussian data with an estimated mean and
    covariance, ``(r-1)²/r * Beta(p/2, (r-p-1)/2)`` (Gnanadesikan & Kettenring
    1972), which bends away from chi2_p when p is not small next to the rows r.
    """
    n, d = m.shape
    notes = []
    if n > max_rows:
        sub = m[seeded_rows(n, max_rows, seed)]
        notes.append(describe_subsample(max_rows, n, seed))
    else:
        sub = m
    r = sub.shape[0]
    d2 = _mahalanobis_cholesky(sub) if d <= r // 2 else None
    if d2 is not None:
        p = d
    else:  # singular covariance or d large next to the rows: principal directions
        z, rank, _ = pca_whiten(sub)
        p = int(min(rank, r // 2))
        if p < 1 or r - p - 1 <= 0:
            return {"skipped": f"covariance rank {rank} too small for {r} rows"}
        if p < d:
            notes.append(
                f"on the leading {p} principal directions (covariance rank {rank}, d = {d}, "
                f"{r} rows)"
            )
        d2 = np.einsum("ij,ij->i", z[:, :p], z[:, :p])
    k = min(points, r)
    probs = np.linspace(0.5 / r, 1.0 - 0.5 / r, k)
    sample = np.quantile(d2, probs, method="hazen")
    chi2 = stats.chi2.ppf(probs, p)
    beta = (r - 1) ** 2 / r * stats.beta.ppf(probs, p / 2.0, (r - p - 1) / 2.0)
    return {
        "n": int(r),
        "df": p,
        "seed": int(seed),
        "probs": _r(probs, 6),
        "sample": _r(sample),
        "chi2": _r(chi2),
        "beta": _r(beta),
        "notes": notes,
        "method": "squared Mahalanobis distances to the sample mean, sample covariance "
        "(ddof=1); quantiles vs chi2_p and the exact finite-sample Beta law",
    }


def cosine_pairs(m: np.ndarray, *, seed: int, pairs: int = COSINE_PAIRS) -> dict:
    """Cosine similarities of random row pairs (negative pairs), with references.

    Returns the histogram, the mean and std of the cosines, the
    uniformity loss ``log E exp(-2 ||u - v||²)`` of the normalised rows
    (Wang & Isola 2020, t = 2) estimated on these pairs, and the density of the
    cosine between two independent uniform directions on the sphere
    ``S^(d-1)`` (what an isotropic, centred Gaussian gives). ``positive`` and
    ``alignment`` are None: they need paired views of the same items (two
    augmentations, an image and its caption), which a single embedding file
    does not provide. A caller with pairs fills ``positive`` with the same
    histogram shape.
    """
    n, d = m.shape
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(pairs, 2))
    idx = idx[idx[:, 0] != idx[:, 1]]
    step = max(1, 2**20 // max(d, 1))  # gather about 8 MB of rows at a time
    dots, sq_a, sq_b = np.empty(idx.shape[0]), np.empty(idx.shape[0]), np.empty(idx.shape[0])
    for i in range(0, idx.shape[0], step):
        a, b = m[idx[i : i + step, 0]], m[idx[i : i + step, 1]]
        dots[i : i + step] = np.einsum("ij,ij->i", a, b)
        sq_a[i : i + step] = np.einsum("ij,ij->i", a, a)
        sq_b[i : i + step] = np.einsum("ij,ij->i", b, b)
    ok = (sq_a > 0) & (sq_b > 0)
    if np.count_nonzero(ok) < 2:
        return {"negative": {"skipped": "fewer than 2 usable row pairs"}, "positive": None}
    cos = np.clip(dots[ok] / np.sqrt(sq_a[ok] * sq_b[ok]), -1.0, 1.0)
    hist = _histogram(cos)
    negative = {
        **hist,
        "n_pairs": int(cos.size),
        "seed": int(seed),
        "mean": _r(cos.mean()),
        "std": _r(cos.std()),
    }
    uniformity = float(special.logsumexp(-4.0 * (1.0 - cos)) - math.log(cos.size))
    reference = None
    if d >= 3:
        half = min(1.0 - 1e-9, 6.0 / math.sqrt(d))
        grid = np.union1d(
            np.linspace(-half, half, 121), np.linspace(hist["edges"][0], hist["edges"][-1], 41)
        )
        grid = grid[np.abs(grid) < 1.0]
        log_c = special.gammaln(d / 2.0) - 0.5 * math.log(math.pi) - special.gammaln((d - 1) / 2.0)
        density = np.exp(log_c + (d - 3) / 2.0 * np.log1p(-(grid**2)))
        reference = {"x": _r(grid), "density": _r(density), "what": "uniform on S^(d-1)"}
    return {
        "negative": negative,
        "positive": None,
        "uniformity": _r(uniformity),
        "alignment": None,
        "reference": reference,
        "note": "negative pairs are random row pairs; positive-pair cosines and alignment "
        "need paired views of the same items, which one embedding file does not carry",
    }


def _tame(m: np.ndarray) -> np.ndarray:
    """Rescale by an exact power of two when values are huge or tiny (no overflow in squares).

    Q–Q points are standardised and cosines and Mahalanobis distances are scale
    free, so this changes none of them.
    """
    big = float(np.max(np.abs(m))) if m.size else 0.0
    if big == 0.0 or 2.0**-300 < big < 2.0**300:
        return m
    return np.ldexp(m, -int(np.frexp(big)[1]))


def view_diagnostics(x: np.ndarray, view: ViewAudit, config: AuditConfig) -> dict:
    """Every plot diagnostic of one audited view (the report's ``plot_data``).

    Parameters
    ----------
    x : ndarray, shape (n, d)
        The audited matrix (``AuditResult.matrix``); the view is rebuilt from it.
    view : ViewAudit
        The view's results (which columns were tested, A² per column, norms).
    config : AuditConfig
        For the seed and the A² threshold.

    Returns
    -------
    dict
        ``anderson_darling_null``, ``qq``, ``norms``, ``mahalanobis`` and
        ``cosine``; an entry that cannot be drawn is ``{"skipped": reason}``.
    """
    m = _tame(make_view(x, view.view).matrix)
    seed = config.seed
    out: dict[str, Any] = {}
    ad = view.coordinates.get("anderson_darling")
    if isinstance(ad, CoordinateTestResult) and ad.n_tested:
        out["anderson_darling_null"] = ad_null(ad.n, seed=seed, threshold=config.threshold)
        out["qq"] = qq_coordinates(m, ad)
    else:
        reason = "Anderson-Darling did not run on this view"
        out["anderson_darling_null"] = {"skipped": reason}
        out["qq"] = {"skipped": reason}
    if isinstance(view.norms, NormResult):
        out["norms"] = norm_histogram(view.norms.norms, m.shape[1], view.norms.cv_matched_gaussian)
    else:
        out["norms"] = norm_histogram(np.linalg.norm(m, axis=1), m.shape[1])
    with np.errstate(all="ignore"):
        try:
            out["mahalanobis"] = mahalanobis_qq(m, seed=seed)
        except np.linalg.LinAlgError as err:  # pragma: no cover - eigh rarely fails
            out["mahalanobis"] = {"skipped": f"eigendecomposition failed: {err}"}
    out["cosine"] = cosine_pairs(m, seed=seed)
    return out
