import importlib.metadata
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from gaussaudit.gate import GateConfig, GateConfigError
from gaussaudit.pytest_plugin import project_gate_config
from gaussaudit.testing import assert_gaussian

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

FAST = {"projections": 8, "subspaces": 2, "subspace_dim": 3, "multivariate_max_rows": 300}
FAST_TOML = "projections = 8\nsubspaces = 2\nmultivariate_max_rows = 300\n"
ROOT = Path(__file__).resolve().parents[1]


def test_assert_gaussian_passes_and_returns_result():
    x = np.random.default_rng(0).standard_normal((400, 8))
    result = assert_gaussian(x, min_ad_pass_fraction=0.75, max_cv=0.5, **FAST)
    assert result.passed
    assert [o.name for o in result.outcomes] == [
        "require_verdict",
        "min_ad_pass_fraction",
        "max_cv",
    ]


def test_assert_gaussian_fails_with_every_failed_gate():
    x = np.random.default_rng(0).laplace(size=(400, 8))
    with pytest.raises(AssertionError) as info:
        assert_gaussian(x, max_cv=0.1, no_rejection=["mardia"], views=["raw", "whitened"], **FAST)
    message = str(info.value)
    assert message.startswith("embeddings failed")
    assert "- max_cv [raw]: CV of norms" in message and "(threshold <= 0.1)" in message
    assert "- require_verdict [raw]: paper verdict: not Gaussian" in message
    assert "no_rejection:mardia [whitened]" in message


def test_assert_gaussian_config_and_keyword_errors():
    x = np.random.default_rng(0).standard_normal((400, 8))
    base = GateConfig(max_cv=0.01, **FAST)
    with pytest.raises(AssertionError, match="max_cv"):
        assert_gaussian(x, config=base)
    assert assert_gaussian(x, config=base, max_cv=None).passed  # None switches a gate off
    with pytest.raises(GateConfigError, match="Did you mean 'max_cv'"):
        assert_gaussian(x, max_vc=0.1)
    with pytest.raises(GateConfigError, match="require_verdict must be one of"):
        assert_gaussian(x, require_verdict="yes")


def test_assert_gaussian_accepts_torch_tensors():
    torch = pytest.importorskip("torch")
    x = torch.from_numpy(np.random.default_rng(1).standard_normal((400, 8))).float()
    assert assert_gaussian(x.requires_grad_(), max_cv=0.5, **FAST).passed


def test_project_gate_config(tmp_path):
    def fake(ini=None):
        return SimpleNamespace(rootpath=tmp_path, getini=lambda name: ini)

    assert project_gate_config(fake()) == GateConfig()
    (tmp_path / "pyproject.toml").write_text("[tool.gaussaudit]\nmax_cv = 0.2\n")
    assert project_gate_config(fake()).max_cv == 0.2
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "gates.toml").write_text("max_cv = 0.4\n")
    assert project_gate_config(fake("ci/gates.toml")).max_cv == 0.4


def test_pyproject_registers_the_pytest_plugin():

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert data["project"]["entry-points"]["pytest11"] == {"gaussaudit": "gaussaudit.pytest_plugin"}


def test_fixture_in_a_project_test_suite(tmp_path):
    """Run pytest on a tiny project that gates with the fixture (one subprocess)."""
    (tmp_path / "gaussaudit.toml").write_text("max_cv = 0.5\n" + FAST_TOML)
    (tmp_path / "test_encoder.py").write_text(
        textwrap.dedent(
            """
            import numpy as np

            def test_gaussian(gaussian_audit):
                result = gaussian_audit(np.random.default_rng(0).standard_normal((400, 8)))
                assert [o.name for o in result.outcomes] == ["require_verdict", "max_cv"]

            def test_laplace(gaussian_audit):
                gaussian_audit(np.random.default_rng(0).laplace(size=(400, 8)))

            def test_override(gaussian_audit):
                gaussian_audit(np.random.default_rng(0).standard_normal((400, 8)), max_cv=0.01)

            def test_config(gaussaudit_config):
                assert gaussaudit_config.max_cv == 0.5 and gaussaudit_config.projections == 8
            """
        )
    )
    registered = any(
        ep.name == "gaussaudit" and ep.value == "gaussaudit.pytest_plugin"
        for ep in importlib.metadata.entry_points(group="pytest11")
    )
    # An editable install made before the entry point existed lacks it: load by name.
    plugin = [] if registered else ["-p", "gaussaudit.pytest_plugin"]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugin,
         "--rootdir", str(tmp_path), str(tmp_path / "test_encoder.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "2 failed, 2 passed" in out, out
    assert "test_laplace" in out and "test_override" in out
    assert "max_cv [raw]: CV of norms" in out and "require_verdict [raw]" in out
