"""The norm CV tested against its law under the fitted Gaussian.

The coefficient of variation of the row norms is the paper's thin-shell
number; under H0 (rows i.i.d. N(m, S)) its sampling law depends on the
spectrum of S. :func:`norm_cv_test` simulates ``||z||`` draws from the fitted
covariance (:class:`~gaussaudit.stats.fitted_covariance.ViewCovariance`, shrunk for
the estimation error of a sample covariance) and compares the observed CV with
that law, giving one p-value the calibrated verdict uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from ._validation import power_of_two_scale
from .fitted_covariance import ViewCovariance

__all__ = ["NormCVTest", "norm_cv_test"]


@dataclass(frozen=True)
class NormCVTest:
    """The CV of the row norms against its law under the fitted Gaussian.

    Attributes
    ----------
    cv : float
        Observed CV of the norms.
    cv_reference : float
        CV of ``||z||`` for ``z ~ N(mean, S)`` with the fitted covariance
        (spectrum corrected for its small-sample spread).
    sd : float
        Standard deviation of ``cv - cv_reference`` under H0 (a conservative
        bound that accounts for the reference being estimated).
    statistic : float
        ``(cv - cv_reference) / sd``.
    pvalue : float
        Two-sided normal p-value.
    """

    cv: float
    cv_reference: float
    sd: float
    statistic: float
    pvalue: float

    def to_dict(self) -> dict[str, float]:
        """JSON-ready dict."""
        return {
            "cv": self.cv,
            "cv_reference": self.cv_reference,
            "sd": self.sd,
            "statistic": self.statistic,
            "pvalue": self.pvalue,
        }


def _corrected_spectrum(ev: np.ndarray, rows: int) -> np.ndarray:
    """Shrink sample eigenvalues so that sum l^2 matches the unbiased tr S^2."""
    n = rows
    t1, t2 = float(ev.sum()), float(np.sum(ev**2))
    factor = _shrink_factor(t1, t2, ev.size, n)
    mean = t1 / ev.size
    return mean + factor * (ev - mean)


def _norm_sq_draws(cov: ViewCovariance, draws: int, seed: int) -> tuple[np.ndarray, float, float]:
    """Seeded draws of ``||z||^2``, z ~ N(mean, S_adj), with exact mean and variance.

    ``S_adj`` keeps the eigenvectors of the sample covariance S and shrinks the
    eigenvalues' spread so that ``tr S_adj^2`` is the unbiased estimate of
    ``tr Sigma^2`` (the sample spectrum is too spread by about ``(tr S)^2 / n``).
    When d <= rows the draws are exact (Cholesky of S_adj); otherwise the
    linear term ``2 m' S^(1/2) g`` is drawn independently of the quadratic
    one (same first two cumulants).
    """
    c = cov.centred
    k = max(c.shape[0] - 1, 1)
    rng = np.random.default_rng(seed)
    mu = cov.mean / cov.scale
    mean_sq = float(mu @ mu)
    if c.shape[1] <= c.shape[0]:
        s = c.T @ c / k
        d = s.shape[0]
        t1, t2 = float(np.trace(s)), float(np.sum(s * s))
        factor = _shrink_factor(t1, t2, d, cov.rows)
        level = t1 / d
        s_adj = factor * s + (1.0 - factor) * level * np.eye(d)
        mean_quad = float(mu @ s_adj @ mu)
        ridge = 1e-12 * max(level, 1e-300)
        try:
            chol = np.linalg.cholesky(s_adj + ridge * np.eye(d))
        except np.linalg.LinAlgError:
            w, v = np.linalg.eigh(s_adj)
            chol = v * np.sqrt(np.clip(w, 0.0, None))
        z = rng.standard_normal((draws, d)) @ chol.T + mu
        q = np.einsum("ij,ij->i", z, z)
        t2_adj = float(np.sum(s_adj * s_adj))
        return q, t1 + mean_sq, 2.0 * t2_adj + 4.0 * mean_quad
    ev, mean_sq, mean_quad = cov.spectrum()
    ev = _corrected_spectrum(ev, cov.rows)
    g = rng.standard_normal((draws, ev.size + 1))
    q = (g[:, :-1] ** 2) @ ev + mean_sq + 2.0 * np.sqrt(mean_quad) * g[:, -1]
    return q, float(ev.sum() + mean_sq), float(2.0 * np.sum(ev**2) + 4.0 * mean_quad)


def _shrink_factor(t1: float, t2: float, d: int, n: int) -> float:
    """Factor on the eigenvalues' deviations from their mean giving the unbiased tr S^2."""
    if n < 4 or t1 <= 0:
        return 1.0
    unbiased = (n - 1) ** 2 / ((n - 2) * (n + 1)) * (t2 - t1 * t1 / (n - 1))
    spread, target = t2 - t1 * t1 / d, unbiased - t1 * t1 / d
    return float(np.sqrt(max(target, 0.0) / spread)) if spread > 0 else 1.0


def norm_cv_test(
    norms: np.ndarray, cov: ViewCovariance, *, draws: int | None = None, seed: int = 0
) -> NormCVTest | None:
    """Test the CV of the row norms against the fitted Gaussian's.

    Parameters
    ----------
    norms : ndarray, shape (n,)
        Row norms of the view (``NormResult.norms``).
    cov : ViewCovariance
        The view's covariance and mean.
    draws : int, optional
        Seeded draws of ``||z||^2`` used for the higher moments; default
        ``min(200000, max(2000, 2e6 / d))`` (cost ``draws * d^2``; about 0.2 s
        at d = 768; many draws at small d, where the CV is large and the
        reference needs them).
    seed : int

    Returns
    -------
    NormCVTest or None
        None when the norms have no spread to compare (n < 20, zero mean).

    Notes
    -----
    ``Q = ||z||^2`` is drawn under ``N(mean, S_adj)`` (see :func:`_norm_sq_draws`:
    exact draws when d <= rows, else with an independent linear term; the
    sample spectrum's small-sample spread removed). ``E sqrt(Q)`` is estimated from the
    draws with the Taylor polynomial of ``sqrt(1+u)`` as a control variate
    (its expectation is exact), so the reference CV is accurate to far below
    its sampling error. The sd of ``cv - cv_reference`` is the sample CV's
    influence-function sd (estimated on the draws) times
    ``sqrt(max(1/rows - 1/n, 1/n))``, a bound valid because the Gaussian
    plug-in reference is efficient under H0.

    Examples
    --------
    >>> x = np.random.default_rng(1).standard_normal((3000, 16))
    >>> from gaussaudit.stats.fitted_covariance import view_covariance
    >>> t = norm_cv_test(np.linalg.norm(x, axis=1), view_covariance(x))
    >>> t.pvalue > 0.01
    True
    """
    n = int(norms.size)
    if n:  # the CV is scale free: rescale exactly so the sums cannot overflow
        norms = norms / power_of_two_scale(float(np.max(norms)))
    mean_r = float(norms.mean()) if n else 0.0
    if n < 20 or not mean_r > 0:
        return None
    cv = float(norms.std() / mean_r)
    d = cov.centred.shape[1]
    if draws is None:
        draws = min(200_000, max(2000, 2_000_000 // max(d, 1)))
    q, m1, k2 = _norm_sq_draws(cov, draws, seed)
    if not m1 > 0:
        return None
    u = q / m1 - 1.0
    resid = np.sqrt(np.clip(1.0 + u, 0.0, None)) - (1.0 + u / 2.0 - u * u / 8.0)
    e_r = np.sqrt(m1) * (1.0 + float(resid.mean()) - k2 / (8.0 * m1 * m1))
    var_r = m1 - e_r * e_r
    if not var_r > 0:
        return None
    ref = float(np.sqrt(var_r) / e_r)
    r = np.sqrt(np.clip(q, 0.0, None))
    sd_r = np.sqrt(var_r)
    influence = (r * r - m1 - 2.0 * e_r * (r - e_r)) / (2.0 * sd_r * e_r) - sd_r * (
        r - e_r
    ) / e_r**2
    # The reference is estimated too (from cov.rows of the n rows). Under H0 the
    # plug-in Gaussian CV is efficient, so its influence variance V_e <= V_c, the
    # sample CV's, and Cov(sample CV, plug-in) = V_e / n (Hausman); hence
    # Var(cv - ref) = V_c/n + V_e (1/rows - 2/n) <= V_c max(1/rows - 1/n, 1/n).
    rows = min(max(cov.rows, 1), n)
    sd = float(influence.std() * np.sqrt(max(1.0 / rows - 1.0 / n, 1.0 / n)))
    z = (cv - ref) / sd
    return NormCVTest(cv, ref, sd, float(z), float(2.0 * special.ndtr(-abs(z))))
