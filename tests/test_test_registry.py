"""The one list of tests: every layer reads stats/tests.py."""

import subprocess
import sys

import numpy as np
import pytest

from gaussaudit.errors import UnknownNameError
from gaussaudit.gate import no_rejection_families
from gaussaudit.stats import audit
from gaussaudit.stats import tests as registry
from gaussaudit.stats.config import AuditConfig, settings_from_mapping
from gaussaudit.stats.tests import REGISTRY, coordinate_tests, default_tests, label, parse_tests

Spec = registry.TestSpec


def test_registry_lists_the_battery_in_order():
    assert registry.test_names()[:3] == ("norms", "anderson_darling", "dagostino_pearson")
    assert set(default_tests()) <= set(registry.test_names())
    assert registry.test_spec("anderson_darling").threshold == 0.752
    assert label("dagostino_pearson", short=True) == "DP" and label("epps_pulley") == "Epps–Pulley"


def test_parse_tests_all_and_errors():
    assert parse_tests("all") == default_tests()
    assert parse_tests("norms, anderson_darling,norms") == ("norms", "anderson_darling")
    with pytest.raises(UnknownNameError, match="Did you mean 'anderson_darling'"):
        parse_tests("anderson_darlin")


def test_gate_families_come_from_the_registry():
    families = no_rejection_families()
    for spec in coordinate_tests():
        assert spec.name in families
    assert "subspaces.henze_zirkler" in families and "projections.epps_pulley" in families


def test_audit_config_parses_strings_and_rejects_bad_values():
    cfg = AuditConfig(views="all", tests="anderson_darling,norms")
    assert cfg.views == ("raw", "normalized", "whitened")
    assert cfg.tests == ("anderson_darling", "norms")
    with pytest.raises(Exception, match="seed must be >= 0"):
        AuditConfig(seed=-1)
    with pytest.raises(Exception, match="projections must be a"):
        settings_from_mapping(AuditConfig, {"projections": "many"})


def test_a_registered_coordinate_test_runs_everywhere(monkeypatch):
    """A new per-coordinate test is a kernel plus one registry entry (no other edit)."""
    spec = Spec(
        "sign_balance",
        "coordinates",
        "Sign balance",
        "SB",
        "tests.test_test_registry:_sign_balance",
        min_rows=8,
        default=False,
    )
    monkeypatch.setitem(REGISTRY._specs, spec.name, spec)
    x = np.random.default_rng(0).standard_normal((200, 6))
    result = audit(x, tests=("anderson_darling", "sign_balance"), projections=0, subspaces=0)
    got = result.views["raw"].coordinates["sign_balance"]
    assert got.n_tested == 6 and got.pass_fraction(0.05) > 0.5
    from gaussaudit.compare import compare_reports
    from gaussaudit.gate import GateConfig, evaluate_gates
    from gaussaudit.report.model import build_report

    report = build_report(result)
    assert "sign_balance" in report["views"]["raw"]["coordinates"]
    gates = GateConfig(
        require_verdict="none", tests=("sign_balance",), no_rejection=["sign_balance"]
    )
    assert evaluate_gates(report, gates).outcomes[0].name == "no_rejection:sign_balance"
    deltas = {d.metric for d in compare_reports(report, report).deltas}
    assert "sign_balance.pass_fraction" in deltas


def _sign_balance(x, **_):
    from scipy import stats

    from gaussaudit.stats.results import CoordinateTestResult

    values = np.asarray(getattr(x, "values", x))
    pos = (values > values.mean(axis=0)).sum(axis=0)
    n = values.shape[0]
    p = np.array([stats.binomtest(int(k), n).pvalue for k in pos])
    return CoordinateTestResult(
        "sign_balance", pos / n, p, np.arange(values.shape[1]), n, n, values.shape[1], "binomial"
    )


def test_registry_import_is_light():
    code = (
        "import sys, gaussaudit.stats.tests, gaussaudit.stats.config;print('scipy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_list_tests_reads_the_registry(capsys):
    from gaussaudit.cli import main

    assert main(["list", "tests"]) == 0
    out = capsys.readouterr().out
    assert "cramer_von_mises" in out and "Cramér–von Mises" in out and "coordinates" in out
    for name in registry.test_names():
        assert name in out
