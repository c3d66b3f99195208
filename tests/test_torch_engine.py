"""The torch engine equals the NumPy engine to 1e-6 relative (CPU here; CUDA when present)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from gaussaudit.backends import torch_engine  # noqa: E402
from gaussaudit.errors import UsageError  # noqa: E402
from gaussaudit.stats.config import AuditConfig  # noqa: E402
from gaussaudit.stats.engines import numpy_engine  # noqa: E402
from gaussaudit.stats.engines.source import ArraySource  # noqa: E402

from .test_streaming import _same_tree, mixed, same_audit  # noqa: E402

pytestmark = pytest.mark.torch
RTOL = 1e-6
DEVICES = [
    "cpu",
    pytest.param(
        "cuda",
        marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
    ),
]


def reference(x, cfg, **kw):
    return numpy_engine.audit_stream(ArraySource(x), cfg, block_rows=64, **kw)


def same_report(got, want) -> None:
    """The whole report models agree (calibration, departure, sphere, diagnosis included)."""
    from gaussaudit.report.model import build_report

    a, b = build_report(want, plot_data=False), build_report(got, plot_data=False)
    for model in (a, b):  # how it ran differs by design; every result is the same
        model.pop("execution", None)
        model["input"].pop("engine", None)
        model.get("config", {}).pop("engine", None)
    _same_tree(a, b)


@pytest.mark.parametrize("device", DEVICES)
def test_equals_numpy_engine(device):
    x = mixed(400, 6, dtype=np.float32)
    cfg = AuditConfig(projections=12, subspaces=3, multivariate_max_rows=300)
    got = torch_engine.audit_stream(x, cfg, device=device, block_rows=37, col_block=4)
    want = reference(x, cfg)
    same_audit(got, want, rtol=RTOL)
    same_report(got, want)
    assert got.execution["engine"] == "torch" and got.execution["device"] == device
    if hasattr(got.config, "engine"):
        assert got.config.engine == "torch"


@pytest.mark.parametrize("device", DEVICES)
def test_gram_tiles_on_the_device(device):
    """Rows beyond memory_limit: Mardia (Gram-tile cube path, p^2 >= n) and HZ on the device."""
    x = mixed(150, 13, seed=4)
    x[:, 0] = 1.0  # constant column: left out of the full view
    cfg = AuditConfig(tests="mardia,henze_zirkler", subspaces=0, projections=0,
                      full_multivariate="always")  # fmt: skip
    got = torch_engine.audit_stream(x, cfg, device=device, memory_limit=10_000, block_rows=16)
    want = reference(x, cfg, memory_limit=10_000)
    same_audit(got, want, rtol=RTOL)
    gm, wm = got.views["raw"].multivariate["mardia"], want.views["raw"].multivariate["mardia"]
    np.testing.assert_allclose([gm.b1, gm.b2], [wm.b1, wm.b2], rtol=RTOL)
    assert "constant column(s) left out" in got.views["raw"].notes[0]


@pytest.mark.parametrize("block_rows", [1, 50, 10_000])
def test_moments_norms_and_anderson_darling_any_block_size(block_rows):
    x = mixed(200, 5, seed=7, dtype=np.float32)
    cfg = AuditConfig(tests="anderson_darling,dagostino_pearson,jarque_bera,norms,mardia",
                      projections=0, subspaces=0)  # fmt: skip
    got = torch_engine.audit_stream(x, cfg, device="cpu", block_rows=block_rows)
    same_audit(got, reference(x, cfg), rtol=RTOL)


def test_extreme_values_are_rescaled_like_the_numpy_engine():
    x = mixed(200, 4) * 1e250
    cfg = AuditConfig(tests="anderson_darling,dagostino_pearson,norms", projections=0)
    got = torch_engine.audit_stream(x, cfg, device="cpu", block_rows=9)
    same_audit(got, reference(x, cfg), rtol=RTOL)


def test_tf32_is_off_during_the_run_and_restored():
    seen = []
    before = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = True
    try:
        torch_engine.audit_stream(
            mixed(100, 3), device="cpu", tests="norms", projections=0, subspaces=0,
            progress=lambda *a: seen.append(torch.backends.cuda.matmul.allow_tf32),
        )  # fmt: skip
        assert seen and not any(seen)
        assert torch.backends.cuda.matmul.allow_tf32 is True
    finally:
        torch.backends.cuda.matmul.allow_tf32 = before


def test_errors():
    with pytest.raises(UsageError, match="raw view only"):
        torch_engine.audit_stream(mixed(), device="cpu", views="raw,whitened")
    with pytest.raises(UsageError, match="device"):
        torch_engine.audit_stream(mixed(), device="not-a-device")
    if not torch.cuda.is_available():
        with pytest.raises(UsageError, match="no CUDA device"):
            torch_engine.audit_stream(mixed(), device="cuda")


def test_the_stats_core_does_not_import_torch():
    code = textwrap.dedent(
        """
        import sys
        import gaussaudit.backends.torch_engine
        import gaussaudit.backends.dask_engine
        assert "torch" not in sys.modules, "imported at module import"
        assert "dask" not in sys.modules and "distributed" not in sys.modules
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_cli_engine_torch_device_cpu_matches_numpy(tmp_path, capsys):
    """`gaussaudit test --engine torch --device cpu`: the device reaches the engine."""
    import json

    from gaussaudit.cli import main

    x = np.random.default_rng(3).standard_normal((600, 5)).astype(np.float32)
    np.save(tmp_path / "e.npy", x)
    outs = {}
    for engine in ("numpy", "torch"):
        out = tmp_path / f"{engine}.json"
        argv = ["test", str(tmp_path / "e.npy"), "--tests", "anderson_darling,norms",
                "--engine", engine, "--out", str(out)]  # fmt: skip
        if engine == "torch":
            argv += ["--device", "cpu"]
        assert main(argv) == 0
        outs[engine] = json.loads(out.read_text())
    capsys.readouterr()
    assert outs["torch"]["execution"]["device"] == "cpu"
    assert outs["torch"]["input"]["engine"] == "torch"
    a = outs["numpy"]["views"]["raw"]["coordinates"]["anderson_darling"]["mean"]
    b = outs["torch"]["views"]["raw"]["coordinates"]["anderson_darling"]["mean"]
    assert b == pytest.approx(a, rel=1e-6)
