"""The whole-process path: engine/memory settings, streamed files, fast multiplicity."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from gaussaudit.errors import MissingExtraError, UnknownNameError, UsageError
from gaussaudit.stats.config import AuditConfig, parse_bytes
from gaussaudit.stats.engines import get_engine
from gaussaudit.stats.multiplicity import (
    beta_binomial_ppf,
    binomial_ppf,
    fdr_bh,
    holm,
    reject,
)
from gaussaudit.workflows import audit_file, fits_in_memory


def _pvalues(seed: int, m: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(size=m // 2), rng.uniform(0, 0.01, m - m // 2)])
    p[: m // 10] = np.round(p[: m // 10], 2)  # ties
    return rng.permutation(p)


@pytest.mark.parametrize("method", ["holm", "fdr_bh"])
@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.2])
def test_holm_and_bh_equal_statsmodels(method, alpha):
    from statsmodels.stats.multitest import multipletests

    ours = {"holm": holm, "fdr_bh": fdr_bh}[method]
    for seed in range(20):
        p = _pvalues(seed, 1 + seed * 37)
        want = multipletests(p, alpha=alpha, method=method)[0]
        np.testing.assert_array_equal(ours(p, alpha), want)
        np.testing.assert_array_equal(reject(p, alpha, method=method), want)


def test_reject_skips_nan_and_sends_other_methods_to_statsmodels():
    p = np.array([0.001, np.nan, 0.02, 0.9])
    assert reject(p, 0.05).tolist() == [True, False, True, False]  # 0.02 <= 0.05 / 2
    assert reject(p, 0.05, method="bonferroni").tolist() == [True, False, False, False]


def test_quantiles_equal_scipy():
    from scipy import stats

    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(1, 600))
        q = float(rng.choice([0.005, 0.995, rng.uniform()]))
        p = float(rng.uniform(0.01, 0.99))
        a = p * float(rng.uniform(1, 300))
        b = (1 - p) * a / p
        assert binomial_ppf(q, n, p) == stats.binom.ppf(q, n, p)
        assert beta_binomial_ppf(q, n, a, b) == stats.betabinom.ppf(q, n, a, b)


def test_the_audit_path_imports_neither_scipy_stats_nor_statsmodels():
    code = (
        "import sys, numpy as np\n"
        "import gaussaudit.cli.audit_cmd, gaussaudit.workflows, gaussaudit.report.formats\n"
        "from gaussaudit.stats import audit\n"
        "from gaussaudit.report.model import build_report\n"
        "x = np.random.default_rng(0).standard_normal((300, 6))\n"
        "build_report(audit(x, tests='anderson_darling,dagostino_pearson,norms'))\n"
        "print(sorted(m for m in ('scipy.stats', 'statsmodels', 'pandas') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_engine_and_memory_limit_settings():
    assert AuditConfig().engine == "numpy"
    assert AuditConfig(memory_limit="2GiB").memory_limit_bytes() == 2 * 2**30
    assert AuditConfig().memory_limit_bytes() >= 256 * 2**20
    assert parse_bytes("500MB") == 500_000_000 and parse_bytes("1.5k") == 1536
    with pytest.raises(UsageError, match="memory_limit"):
        AuditConfig(memory_limit="a lot")
    with pytest.raises(UnknownNameError, match="engine"):
        AuditConfig(engine="spark")
    assert get_engine("numpy").__name__ == "audit_stream"
    with pytest.raises(UnknownNameError):
        get_engine("nope")
    assert fits_in_memory(1000, 10, AuditConfig(memory_limit="1MiB"))
    assert not fits_in_memory(10_000, 10, AuditConfig(memory_limit="1MiB"))


def test_a_missing_engine_names_its_extra(monkeypatch):
    from gaussaudit.stats import engines

    monkeypatch.setitem(engines.ENGINES, "dask", "gaussaudit.stats.engines.no_such_mod:f")
    with pytest.raises(MissingExtraError, match=r"gaussaudit\[dask\]"):
        get_engine("dask")


def _same_tree(a, b, path="") -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for key in a:
            _same_tree(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), path
        for i, (u, v) in enumerate(zip(a, b, strict=True)):
            _same_tree(u, v, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-300, err_msg=path)
    else:
        assert a == b, path


def _write(tmp_path, fmt, x):
    if fmt == "npy":
        path = tmp_path / "x.npy"
        np.save(path, x)
    elif fmt == "parquet":
        pa = pytest.importorskip("pyarrow")
        pq = pytest.importorskip("pyarrow.parquet")
        path = tmp_path / "x.parquet"
        table = pa.table({f"e{j}": x[:, j] for j in range(x.shape[1])} | {"id": ["r"] * len(x)})
        pq.write_table(table, path, row_group_size=97)
    else:
        h5py = pytest.importorskip("h5py")
        path = tmp_path / "x.h5"
        with h5py.File(path, "w") as fh:
            fh.create_dataset("emb", data=x, chunks=(50, x.shape[1]))
    return path


@pytest.mark.parametrize("fmt", ["npy", "parquet", "hdf5"])
def test_a_file_over_the_memory_limit_is_streamed_with_the_same_numbers(tmp_path, fmt):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((900, 6)).astype(np.float32)
    x[:, 1] = rng.standard_t(4, 900)
    path = _write(tmp_path, fmt, x)
    cfg = dict(views="raw,normalized", projections=8, subspaces=2, multivariate_max_rows=300)
    held = audit_file(path, AuditConfig(**cfg))
    streamed = audit_file(path, AuditConfig(**cfg, memory_limit="64KiB"))
    assert held["input"]["streamed"] is False and streamed["input"]["streamed"] is True
    assert streamed["input"]["engine"] == "numpy"
    ex = streamed["execution"]
    assert ex["rows_audited"] == 900 and ex["block_rows"] >= 1 and ex["memory_limit"] == 65536
    assert ex["rows_used"]["departure"] == 900 and ex["rows_used"]["subspaces"] == 300
    assert any(n.startswith("streamed: 900 rows audited in blocks of") for n in streamed["notes"])
    for model in (held, streamed):
        model.pop("execution")
        model["input"].pop("streamed")
        model["notes"] = [n for n in model["notes"] if not n.startswith("streamed:")]
        model["config"].pop("memory_limit", None)
    _same_tree(held, streamed)


def test_bench_process_quick_prints_the_ratios():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "bench_process.py"), "--quick"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    out = proc.stdout
    assert "loop/ad_dp_norms" in out and "loop/default" in out, out
    assert "time to first work" in out and "load average" in out, out


def test_subspace_rows_scale_with_n_within_the_budget():
    from gaussaudit.stats import audit
    from gaussaudit.stats.battery import subspace_rows

    cfg = AuditConfig()
    assert subspace_rows(1_000, 768, cfg) == 1_000
    assert subspace_rows(125_000, 768, cfg) == 2_500  # unchanged up to 50 x 2,500 rows
    assert subspace_rows(500_000, 768, cfg) == 10_000
    assert subspace_rows(10**8, 768, cfg) == 20_000
    assert subspace_rows(10**6, 768, AuditConfig(memory_limit="100MB")) == 4_069
    assert subspace_rows(10**6, 768, AuditConfig(multivariate_max_rows=30_000)) == 30_000
    x = np.random.default_rng(2).standard_normal((130_000, 9)).astype(np.float32)
    result = audit(x, tests="henze_zirkler", subspaces=2, projections=0)
    assert result.views["raw"].subspaces.n == 2_600
    assert result.execution["rows_used"]["subspaces"] == 2_600
    assert any("subspace tests on 2600 of 130000 rows" in n for n in result.views["raw"].notes)
