import importlib.util
import json
import sys
import tracemalloc
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from gaussaudit.errors import InvalidEmbeddingsError, UsageError
from gaussaudit.stats.epps_pulley import (
    QUADRATURE_NODES,
    _null_table,
    _statistics,
    epps_pulley,
    epps_pulley_exact,
    epps_pulley_pvalue,
)

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "make_epps_pulley_table.py"

GENERATORS = {
    "normal": lambda rng, n: rng.standard_normal(n),
    "t3": lambda rng, n: rng.standard_t(3, n),
    "exponential": lambda rng, n: rng.exponential(size=n),
    "uniform": lambda rng, n: rng.random(n),
    "cauchy": lambda rng, n: rng.standard_cauchy(n),
    # 5 % spikes: standardised values just below the exact-tail cut of 4
    "sparse": lambda rng, n: (rng.random(n) < 0.06) + 0.01 * rng.standard_normal(n),
    "integers": lambda rng, n: rng.integers(0, 3, n).astype(float),
}


def _load_script():
    spec = importlib.util.spec_from_file_location("make_epps_pulley_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # worker processes unpickle functions by module name
    spec.loader.exec_module(module)
    return module


def _shipped_json() -> dict:
    source = resources.files("gaussaudit").joinpath("data", "epps_pulley_null.json")
    return json.loads(source.read_text(encoding="utf-8"))


def _max_rel_error(dist: str, n: int, cols: int = 3, seed: int = 0) -> float:
    rng = np.random.default_rng([seed, n, len(dist)])
    x = np.column_stack([GENERATORS[dist](rng, n) for _ in range(cols)])
    quad = _statistics(x)
    exact = np.array([epps_pulley_exact(x[:, j]) for j in range(cols)])
    return float(np.max(np.abs(quad - exact) / exact))


# --- statistic -----------------------------------------------------------------------


@pytest.mark.parametrize("dist", sorted(GENERATORS))
@pytest.mark.parametrize("n", [8, 9, 25, 300, 3000])
def test_quadrature_matches_closed_form(dist, n):
    assert _max_rel_error(dist, n) <= 1e-8


@pytest.mark.slow
@pytest.mark.parametrize("dist", ["normal", "t3", "exponential", "cauchy", "sparse"])
@pytest.mark.parametrize("n", [10_000, 20_000])
def test_quadrature_matches_closed_form_large_n(dist, n):
    assert _max_rel_error(dist, n, cols=2) <= 1e-8


def test_closed_form_known_values():
    # n = 2: standardised sample is (-1, 1).
    expected = (2 + 2 * np.exp(-2.0)) / 2 - np.sqrt(2) * 2 * np.exp(-0.25) + 2 / np.sqrt(3)
    assert epps_pulley_exact(np.array([3.0, 5.0])) == pytest.approx(expected, rel=1e-14)
    assert _statistics(np.array([[3.0], [5.0]]))[0] == pytest.approx(expected, rel=1e-12)


def test_affine_invariance():
    rng = np.random.default_rng(1)
    x = rng.standard_t(5, size=(400, 1))
    base = epps_pulley(x).statistics[0]
    for scale, shift in [(3.0, -7.0), (-0.01, 1e4), (1e6, 0.0), (-2.5, 0.5)]:
        assert epps_pulley(scale * x + shift).statistics[0] == pytest.approx(base, rel=1e-9)


def test_block_processing_is_invisible():
    import gaussaudit.stats.epps_pulley as ep

    rng = np.random.default_rng(2)
    x = np.column_stack([rng.standard_normal(300), rng.standard_cauchy(300), rng.random(300)])
    full = _statistics(x)
    old = ep._BLOCK_ELEMENTS
    try:
        ep._BLOCK_ELEMENTS = 1
        one_by_one = _statistics(x)
    finally:
        ep._BLOCK_ELEMENTS = old
    np.testing.assert_allclose(one_by_one, full, rtol=1e-13)


def test_result_fields_and_constant_column_excluded():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((200, 4))
    x[:, 2] = 5.0
    res = epps_pulley(x)
    assert res.test == "epps_pulley"
    np.testing.assert_array_equal(res.columns, [0, 1, 3])
    assert res.statistics.shape == res.pvalues.shape == (3,)
    assert (res.n, res.n_input, res.d) == (200, 200, 4)
    assert "Epps-Pulley" in res.method and str(QUADRATURE_NODES) in res.method
    stat, p = res
    np.testing.assert_allclose(stat, [epps_pulley_exact(x[:, j]) for j in (0, 1, 3)], rtol=1e-9)
    np.testing.assert_array_equal(p, epps_pulley_pvalue(stat, 200))
    assert res.expected_pass_fraction(0.05) == pytest.approx(0.95)


def test_all_constant_columns():
    res = epps_pulley(np.ones((30, 2)))
    assert res.n_tested == 0 and res.columns.size == 0


def test_input_validation():
    with pytest.raises(InvalidEmbeddingsError):
        epps_pulley(np.zeros((5, 2)))
    with pytest.raises(InvalidEmbeddingsError):
        epps_pulley(np.array([[np.nan, 1.0]] * 10))


def test_memory_is_bounded():
    x = np.random.default_rng(4).standard_normal((10_000, 128))
    tracemalloc.start()
    try:
        _statistics(x)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 120 * 2**20


# --- null table and p-values ---------------------------------------------------------


def test_shipped_table_format():
    raw = _shipped_json()
    path = resources.files("gaussaudit").joinpath("data", "epps_pulley_null.json")
    assert len(path.read_bytes()) < 300 * 1024
    for key in ("seed", "reps", "date", "generator", "n", "survival", "quantiles", "batch"):
        assert key in raw
    assert raw["generator"] == "scripts/make_epps_pulley_table.py"
    assert raw["reps"] >= 20_000
    assert raw["n"] == sorted(raw["n"]) and raw["n"][0] == 8 and raw["n"][-1] == 10_000
    surv = np.array(raw["survival"])
    assert surv[0] == 1.0 and surv[-1] == pytest.approx(1 / raw["reps"])
    assert np.all(np.diff(surv) < 0)
    q = np.array(raw["quantiles"])
    assert q.shape == (len(raw["n"]), surv.size)
    assert np.all(np.diff(q, axis=1) > 0) and np.all(q > 0)


def test_large_n_rows_have_converged():
    raw = _shipped_json()
    q = np.array(raw["quantiles"])
    surv = np.array(raw["survival"])
    i5, i10 = raw["n"].index(5000), raw["n"].index(10_000)
    for p in (0.5, 0.1, 0.05, 0.01):
        j = int(np.argmin(np.abs(surv - p)))
        assert q[i10, j] == pytest.approx(q[i5, j], rel=0.03)


def test_shipped_table_reproducible():
    script = _load_script()
    raw = _shipped_json()
    table = script.make_table([8, 10], raw["reps"], raw["seed"], batch=raw["batch"])
    np.testing.assert_allclose(table["survival"], raw["survival"], rtol=0)
    np.testing.assert_allclose(table["quantiles"], raw["quantiles"][:2], rtol=1e-7)


def test_tiny_table_format():
    script = _load_script()
    table = script.make_table([20, 8], reps=300, seed=7, batch=128)
    assert table["n"] == [8, 20] and table["reps"] == 300 and table["seed"] == 7
    assert table["survival"][0] == 1.0 and table["survival"][-1] == pytest.approx(1 / 300)
    assert np.all(np.diff(table["survival"]) < 0)
    q = np.array(table["quantiles"])
    assert q.shape == (2, len(table["survival"]))
    assert np.all(np.diff(q, axis=1) >= 0)
    again = script.make_table([8], reps=300, seed=7, batch=100)
    assert again["quantiles"][0] != table["quantiles"][0]  # batching is part of the seed
    same = script.make_table([8], reps=300, seed=7, batch=128, workers=2)
    assert same["quantiles"][0] == table["quantiles"][0]
    json.dumps(table)


@pytest.mark.parametrize("n", [8, 12, 100, 500, 777, 10_000, 50_000])
def test_pvalue_monotone_and_clipped(n):
    table = _null_table()
    t = np.linspace(0.0, 5.0 * table["quantiles"].max(), 4001)
    p = epps_pulley_pvalue(t, n)
    assert np.all(np.diff(p) <= 0)
    assert p[0] == 1.0
    assert p[-1] == pytest.approx(1.0 / table["reps"])
    assert p.min() >= 1.0 / table["reps"] and p.max() <= 1.0


def test_pvalue_edge_cases():
    assert np.isnan(epps_pulley_pvalue(np.nan, 100))
    assert epps_pulley_pvalue([0.1, 0.2], 100).shape == (2,)
    with pytest.raises(UsageError):
        epps_pulley_pvalue(0.1, 7)
    # Beyond the grid the largest row is used.
    np.testing.assert_array_equal(epps_pulley_pvalue(0.3, 10_000), epps_pulley_pvalue(0.3, 10**6))


def test_pvalue_interpolates_between_rows():
    table = _null_table()
    surv = np.exp(table["log_survival"])
    j = int(np.argmin(np.abs(surv - 0.05)))
    i = list(table["n"]).index(500)
    q500, q1000 = table["quantiles"][i, j], table["quantiles"][i + 1, j]
    assert epps_pulley_pvalue(q500, 500) == pytest.approx(surv[j], rel=1e-9)
    assert epps_pulley_pvalue(q1000, 1000) == pytest.approx(surv[j], rel=1e-9)
    mid = epps_pulley_pvalue(0.5 * (q500 + q1000), 707)
    assert 0.04 < mid < 0.06


def _null_pvalues(n: int, cols: int, seed: int) -> np.ndarray:
    return epps_pulley(np.random.default_rng(seed).standard_normal((n, cols))).pvalues


def _check_uniform(p: np.ndarray, alpha: float = 0.05) -> None:
    assert stats.kstest(p, "uniform").pvalue > 1e-3
    lo, hi = stats.binom.ppf([0.0005, 0.9995], p.size, alpha)
    assert lo <= np.sum(p <= alpha) <= hi


def test_pvalues_uniform_under_null():
    _check_uniform(_null_pvalues(500, 400, seed=11))


def test_pvalues_uniform_under_null_off_grid_n():
    _check_uniform(_null_pvalues(70, 400, seed=12))


@pytest.mark.slow
@pytest.mark.parametrize("n", [9, 25, 150, 3000, 20_000])
def test_pvalues_uniform_under_null_slow(n):
    _check_uniform(_null_pvalues(n, 1000, seed=n))


def test_power_against_t3():
    x = np.random.default_rng(13).standard_t(3, size=(2000, 100))
    assert np.mean(epps_pulley(x).pvalues <= 0.05) >= 0.95
