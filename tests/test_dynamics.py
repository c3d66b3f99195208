"""Training dynamics as evidence: linear probe, per-epoch records, Fig. 4 rerun, reading, demo.

Everything runs on tiny fake data on the CPU (one thread); the demo test needs
Debian's dataset-fashion-mnist and is skipped without it.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from gaussaudit.paper.reading import read_dynamics, series, trend
from gaussaudit.report.dynamics import markdown_table, sparkline, sparkline_block
from gaussaudit.train.audit import DYNAMICS_KEYS, audit_layers, dynamics_row
from gaussaudit.train.probe import linear_probe

FASHION = Path("/usr/share/datasets/fashion-mnist")


# ------------------------------------------------------------------ probe


def test_probe_high_on_separable_data_and_deterministic():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 1000)
    means = rng.standard_normal((5, 16)) * 4.0
    x = means[y] + rng.standard_normal((1000, 16))
    a, b = linear_probe(x, y, seed=3), linear_probe(x, y, seed=3)
    assert a == b
    assert a["accuracy"] > 0.95 and 0.0 <= a["chance"] <= 0.35
    assert a["n_train"] + a["n_test"] == 1000 and a["n_classes"] == 5


def test_probe_at_chance_on_noise():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2000, 32))
    y = rng.integers(0, 10, 2000)
    result = linear_probe(x, y)
    assert 0.0 <= result["accuracy"] <= 1.0
    assert abs(result["accuracy"] - 0.1) < 0.05


def test_probe_collapsed_features_at_chance():
    y = np.repeat(np.arange(4), 50)
    result = linear_probe(np.ones((200, 8)), y)
    assert result["accuracy"] <= result["chance"] + 1e-12


def test_probe_skips_and_refuses():
    x = np.zeros((20, 3))
    assert linear_probe(x, None) == {"skipped": "no labels"}
    assert (
        "one class"
        in linear_probe(np.random.default_rng(0).random((40, 3)), np.zeros(40))["skipped"]
    )
    assert "negative" in linear_probe(x, -np.ones(20))["skipped"]
    with pytest.raises(ValueError, match="train_fraction"):
        linear_probe(x, np.zeros(20), train_fraction=1.0)
    with pytest.raises(ValueError, match="labels has 3"):
        linear_probe(x, np.zeros(3))


# ------------------------------------------------------------------ records


def test_audit_layers_uses_contract_names():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 150)
    rec = audit_layers({"output": rng.standard_normal((300, 8)) + y[:, None]}, y)["output"]
    row = dynamics_row(rec)
    assert set(DYNAMICS_KEYS) | {"d"} == set(row)
    for key in DYNAMICS_KEYS:
        assert isinstance(row[key], float), key
    assert rec["coordinates"]["anderson_darling"]["threshold"] == 0.752
    assert rec["linear_probe"]["accuracy"] > 0.8
    assert 0.0 <= row["ad_pass_fraction"] <= 1.0 and row["d"] == 8


def _rec(epoch, ad, cv, dp=0.5, probe=0.8, method="simclr"):
    return {
        "epoch": epoch,
        "method": method,
        "layers": {
            "output": {
                "d": 8,
                "norms": {"cv": cv, "effective_dimension": 4.0},
                "coordinates": {
                    "anderson_darling": {"mean": ad, "pass_fraction": 0.9},
                    "dagostino_pearson": {"pass_fraction": dp},
                },
                "verdict": {"paper_rule": ad < 0.752},
                "linear_probe": {"accuracy": probe, "chance": 0.1},
            }
        },
    }


def _runs(c_ad, c_cv, s_ad, s_cv):
    return {
        "contrastive": [_rec(0, 2.0, 0.3), _rec(5, c_ad, c_cv)],
        "supervised": [_rec(0, 2.0, 0.3, method="supervised"), _rec(5, s_ad, s_cv)],
    }


def test_reading_follows_the_numbers_and_flips_with_them():
    good = read_dynamics(_runs(c_ad=0.6, c_cv=0.2, s_ad=3.0, s_cv=0.5))
    bad = read_dynamics(_runs(c_ad=4.0, c_cv=0.45, s_ad=1.0, s_cv=0.25))
    g, b = " ".join(good["shows"]), " ".join(bad["shows"])
    assert "mean A² fell from 2.00 to 0.60" in g and "mean A² rose from 2.00 to 4.00" in b
    assert "norm CV is smaller (0.200 vs 0.500)" in g
    assert "norm CV is larger (0.450 vs 0.250)" in b and "opposite of the thinner shell" in b
    assert "closer to Gaussian" in g and "further from Gaussian" in b
    assert "contrastive output is Gaussian" in g and "contrastive output is not Gaussian" in b
    gp, bp = " ".join(good["paper"]), " ".join(bad["paper"])
    assert "ends below the 0.752 line" in gp and "ends above the 0.752 line" in bp
    assert "(the same direction as the paper's curve)" in gp
    assert "(not the direction of the paper's curve)" in bp
    assert "neither encoder collapsed" in g


def test_reading_flags_a_collapsed_encoder_and_synthetic_data():
    runs = _runs(0.5, 0.1, 3.0, 0.5)
    runs["contrastive"][-1]["layers"]["output"]["linear_probe"]["accuracy"] = 0.12
    reading = read_dynamics(runs, synthetic=True, reductions=["5 epochs"])
    assert "contrastive encoder is within 10 points of chance" in " ".join(reading["shows"])
    assert reading["does_not_show"][0].startswith("The images are SYNTHETIC")
    assert "Reduced against the paper: 5 epochs." in reading["does_not_show"]


def test_trend_and_sparklines():
    assert trend("ad_mean", 1.0, None) == "was not measured"
    assert trend("dp_pass_fraction", 0.50, 0.51) == "stayed near 50%"
    assert sparkline([None, 0.0, 1.0], 0.0, 1.0) == " ▁█"
    rows = series(_runs(0.6, 0.2, 3.0, 0.5)["contrastive"])
    block = sparkline_block({"contrastive": rows, "supervised": rows})
    assert "mean A²" in block and "2.00 → 0.60" in block
    assert markdown_table({"contrastive": rows}).count("\n") == 3


# ------------------------------------------------------------------ torch runs

torch_only = pytest.mark.torch


@pytest.fixture
def one_thread():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@torch_only
def test_train_pair_records_every_epoch_from_one_init(one_thread):
    from gaussaudit.train.dynamics import DynamicsSettings, synthetic_image_arrays, train_pair

    data = synthetic_image_arrays(64, 60, size=8, n_classes=3)
    settings = DynamicsSettings(epochs=1, batch_size=32, hidden=16, dim=8, threads=None)
    kept, seen = {}, []
    runs = train_pair(data, settings, log=seen.append, embeddings=kept)
    assert set(runs) == {"contrastive", "supervised"} and len(seen) == 4
    for _name, records in runs.items():
        assert [r["epoch"] for r in records] == [0, 1]
        assert records[0]["train_loss"] is None and np.isfinite(records[1]["train_loss"])
        layer = records[1]["layers"]["output"]
        assert layer["d"] == 8 and layer["n"] == 60
        assert 0.0 <= layer["linear_probe"]["accuracy"] <= 1.0
    first = [runs[n][0]["layers"]["output"]["norms"]["cv"] for n in runs]
    assert first[0] == first[1]  # same initialisation
    assert kept["simclr"].shape == (60, 8)


@torch_only
def test_trainer_records_the_probe_per_layer(tmp_path, one_thread):
    pytest.importorskip("torchvision")
    from gaussaudit.train.config import TrainConfig
    from gaussaudit.train.loop import train

    config = TrainConfig(
        method="supervised",
        arch="mlp",
        dataset="fake",
        dataset_options={"n": 64, "size": 8},
        epochs=1,
        batch_size=16,
        device="cpu",
        knn_bank=0,
        out=str(tmp_path / "run"),
    )
    result = train(config, progress=False)
    for record in result.metrics:
        for layer in record["layers"].values():
            probe = layer["linear_probe"]
            assert 0.0 <= probe["accuracy"] <= 1.0 and probe["n_test"] == 32


def test_plot_pair_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    from gaussaudit.paper.reference import FIG4
    from gaussaudit.report.dynamics import plot_pair

    rows = series(_runs(0.6, 0.2, 3.0, 0.5)["contrastive"])
    path = plot_pair({"contrastive": rows}, out=tmp_path / "f.png", paper=FIG4, ad_threshold=0.752)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@torch_only
def test_cli_reproduce_fig4_tiny(tmp_path, capsys, one_thread):
    from gaussaudit.cli import main

    out = tmp_path / "fig4"
    args = ["reproduce", "fig4", "--out", str(out), "--epochs", "1", "--train-images", "64"]
    args += ["--eval-images", "80", "--batch-size", "32", "--dataset", "synthetic", "-q"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "SYNTHETIC" in captured.out and "reduction: 1 epochs (paper: 100" in captured.out
    payload = json.loads((out / "fig4.json").read_text())
    assert payload["data"]["synthetic"] is True
    assert [r["epoch"] for r in payload["runs"]["contrastive"]] == [0, 1]
    assert payload["paper"]["ad_mean"]["100"] == 0.57
    page = (out / "fig4.html").read_text()
    assert "Fig. 4, beside" in page and "What it does not show" in page
    assert (out / "supervised" / "metrics.jsonl").read_text().count("\n") == 2
    if (out / "fig4.png").exists():
        assert "data:image/png;base64," in page


# ------------------------------------------------------------------ demo


def test_demo_fallback_names_what_is_missing(tmp_path, monkeypatch, capsys):
    import gaussaudit.paper.demo as demo
    from gaussaudit.cli import main

    monkeypatch.setattr(demo, "trained_mode_missing", lambda: ["Fashion-MNIST"])
    assert main(["demo", "--out", str(tmp_path), "--n", "300", "--d", "8"]) == 0
    out = capsys.readouterr().out
    assert "Fashion-MNIST not found, so no training" in out and "torch not found" not in out
    assert "gaussaudit[torch]" in out and "dataset-fashion-mnist" in out
    assert (tmp_path / "post_relu.report.json").is_file()


def test_trained_mode_missing_checks_each_part(monkeypatch):
    import gaussaudit.train.dynamics as dynamics
    from gaussaudit.paper.demo import trained_mode_missing

    monkeypatch.setattr(dynamics, "fashion_mnist_root", lambda *a, **k: None)
    assert "Fashion-MNIST" in trained_mode_missing()
    monkeypatch.setattr(dynamics, "fashion_mnist_root", lambda *a, **k: Path("/x"))
    assert "Fashion-MNIST" not in trained_mode_missing()


def test_synthetic_note_names_only_what_is_missing(tmp_path):
    from gaussaudit.paper.demo import run_synthetic_demo

    result = run_synthetic_demo(tmp_path, n=200, d=4, missing=("torch",))
    assert result.missing == ("torch",)
    assert "torch not found" in result.note and "Fashion-MNIST" not in result.note


@torch_only
@pytest.mark.slow  # ~15 s of CPU: two tiny trainings, four audits and two full reports
@pytest.mark.skipif(not FASHION.is_dir(), reason="needs Debian dataset-fashion-mnist")
def test_trained_demo_explains_its_own_numbers(tmp_path, capsys, one_thread):
    from gaussaudit.cli import main

    args = ["demo", "--out", str(tmp_path), "--epochs", "1", "--train-images", "256"]
    assert main([*args, "--eval-images", "200", "-q"]) == 0
    out = capsys.readouterr().out
    data = json.loads((tmp_path / "demo.json").read_text())
    runs, reading = data["runs"], data["reading"]
    for name, label in (("contrastive", "contrastive (InfoNCE)"), ("supervised", "supervised")):
        first, last = runs[name][0], runs[name][-1]
        sentence = next(s for s in reading["shows"] if s.startswith(label))
        expected = trend("ad_mean", first["ad_mean"], last["ad_mean"])
        assert f"mean A² {expected}" in sentence
    c, s = runs["contrastive"][-1]["cv"], runs["supervised"][-1]["cv"]
    word = "smaller" if c < s else "larger" if c > s else "equal"
    assert f"norm CV is {word}" in " ".join(reading["shows"])
    assert "What this run shows" in out and "How it relates to the paper" in out
    assert f"wrote {tmp_path / 'demo.html'}" in out.replace("\n", "")
    assert (tmp_path / "contrastive.report.json").is_file()
