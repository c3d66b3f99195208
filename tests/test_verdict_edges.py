"""Honest edges: constant views, one small-n policy, precision, skipped families."""

import mpmath
import numpy as np

from gaussaudit import audit
from gaussaudit.stats import Skipped
from gaussaudit.stats.univariate import jarque_bera


def test_numerically_constant_view_is_skipped_not_rejected():
    rng = np.random.default_rng(0)
    v = rng.standard_normal(16)
    x = np.outer(rng.uniform(0.5, 2.0, 300), v)  # parallel rows
    res = audit(x, views=("raw", "normalized"), projections=16, subspaces=4)
    norm = res.views["normalized"]
    assert norm.verdict.gaussian is None and norm.verdict.calibrated is None
    assert norm.verdict.paper_rule is None
    assert isinstance(norm.projections, Skipped) and "constant" in norm.projections.reason
    assert all(isinstance(r, Skipped) for r in norm.coordinates.values())
    assert "numerically constant" in norm.verdict.reasons[0]


def test_one_small_n_policy_for_every_test():
    x = np.random.default_rng(1).standard_normal((12, 3))
    res = audit(x, views=("raw",), projections=8, subspaces=0)
    view = res.views["raw"]
    for name in ("dagostino_pearson", "jarque_bera"):
        assert isinstance(view.coordinates[name], Skipped), name
        assert "at least 20 rows" in view.coordinates[name].reason
    for name in ("mardia", "henze_zirkler"):
        assert isinstance(view.multivariate[name], Skipped), name
        assert "at least 20 rows" in view.multivariate[name].reason


def test_jarque_bera_full_precision_on_offset_column():
    x = 1.0 + 1e-9 * np.random.default_rng(2).standard_normal((400, 1))
    mpmath.mp.dps = 50
    v = [mpmath.mpf(float(t)) for t in x[:, 0]]
    n = len(v)
    mean = sum(v) / n
    c = [t - mean for t in v]
    m2, m3, m4 = (sum(t**k for t in c) / n for k in (2, 3, 4))
    g1, g2 = m3 / m2**1.5, m4 / m2**2 - 3
    ref = float(n / 6 * (g1**2 + g2**2 / 4))
    assert abs(jarque_bera(x).statistics[0] / ref - 1) < 1e-12


def test_projections_zero_writes_skipped():
    x = np.random.default_rng(3).standard_normal((200, 4))
    view = audit(x, views=("raw",), projections=0, subspaces=0).views["raw"]
    assert isinstance(view.projections, Skipped)
    assert "projections = 0" in view.projections.reason
