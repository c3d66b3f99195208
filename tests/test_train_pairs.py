"""Alignment and uniformity in the trainer's per-epoch audit (tiny CPU runs)."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")

from gaussaudit.report.training import epoch_line  # noqa: E402
from gaussaudit.train import session as session_mod  # noqa: E402
from gaussaudit.train.augment import TwoViews  # noqa: E402
from gaussaudit.train.config import RESUME_MUTABLE, TrainConfig  # noqa: E402
from gaussaudit.train.eval_pairs import layer_pair_records, pair_record, pair_subset  # noqa: E402
from gaussaudit.train.loop import train  # noqa: E402

FAKE = {"n": 48, "size": 8}
TINY = dict(
    dataset="fake", dataset_options=FAKE, batch_size=16, device="cpu", knn_bank=16, epochs=1
)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class _Spy:
    """Wrap a transform and count the calls (picklable enough for num_workers=0)."""

    def __init__(self, transform):
        self.transform, self.calls = transform, 0

    def __call__(self, img):
        self.calls += 1
        return self.transform(img)


def test_record_has_pairs_made_with_the_training_augmentation(tmp_path, monkeypatch):
    sessions = []
    real_setup = session_mod.setup

    def spying_setup(torch_, config, run_dir):
        s = real_setup(torch_, config, run_dir)
        # the pairs' augmentation is the very object the training items are made with
        assert isinstance(s.train_set.transform, TwoViews)
        assert s.train_set.transform.transform is s.augment
        s.augment = _Spy(s.augment)
        sessions.append(s)
        return s

    import gaussaudit.train.loop as loop_mod

    monkeypatch.setattr(loop_mod, "setup", spying_setup)
    config = TrainConfig(method="simclr", eval_pairs=12, out=str(tmp_path / "r"), **TINY)
    result = train(config, progress=False)
    assert sessions, "the trainer did not build its session through setup()"
    audited = [r for r in result.metrics if r.get("layers")]
    assert len(audited) == 2  # epochs 0 and 1
    # two draws per pair image per audited epoch, nothing else through the spy
    assert sessions[0].augment.calls == 2 * 12 * len(audited)
    for record in audited:
        assert set(record["layers"]) == {"backbone", "head"}
        for layer in record["layers"].values():
            for key in ("pairs", "pairs_whitened"):
                p = layer[key]
                assert p["n_pairs"] == 12 and p["n_items"] == 12 and p["pairs_per_item"] == 1
                assert math.isfinite(p["alignment"]) and 0.0 <= p["alignment"] <= 4.0
                assert math.isfinite(p["uniformity"]) and p["uniformity"] <= 0.0
                assert p["alignment_alpha"] == 2.0 and p["uniformity_t"] == 2.0
                assert "edges" not in p["positive_cosine"]
        assert "align " in epoch_line(record) and " unif " in epoch_line(record)
        assert record["time"]["pairs_seconds"] >= 0
    assert result.resolved["n_eval_pairs"] == 12
    from gaussaudit.report.training import plot_dynamics

    png = plot_dynamics(result.metrics, out=tmp_path / "dyn.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_eval_pairs_zero_disables(tmp_path):
    config = TrainConfig(method="simclr", arch="mlp", eval_pairs=0, out=str(tmp_path / "m"), **TINY)
    result = train(config, progress=False)
    for record in result.metrics:
        for layer in (record.get("layers") or {}).values():
            assert "pairs" not in layer and "pairs_whitened" not in layer
        assert "align " not in epoch_line(record)
        assert "pairs_seconds" not in record.get("time", {})


def test_pairs_are_the_same_draws_every_time(tmp_path):
    config = TrainConfig(method="simclr", arch="mlp", eval_pairs=8, out=str(tmp_path / "d"), **TINY)
    s = session_mod.setup(torch, config, tmp_path / "d")
    layers, _ = session_mod.embed_layers(torch, s.model, s.loaders["test"], "cpu", False)
    torch.manual_seed(123)
    a = s._pair_records(layers, False)
    torch.manual_seed(456)  # the global RNG does not decide the draws (per-item seeds)
    b = s._pair_records(layers, False)
    assert a == b
    assert a["backbone"]["pairs"]["n_pairs"] == 8


def test_eval_pairs_config():
    assert TrainConfig().eval_pairs == 256
    assert "eval_pairs" in RESUME_MUTABLE
    from gaussaudit.errors import UsageError

    with pytest.raises(UsageError, match="eval_pairs"):
        TrainConfig(eval_pairs=-1)


def test_pair_subset_and_records_numpy():
    idx = pair_subset(100, 10, 3)
    assert idx.tolist() == sorted(set(idx.tolist())) and len(idx) == 10
    assert idx.tolist() == pair_subset(100, 10, 3).tolist()
    assert idx.tolist() != pair_subset(100, 10, 4).tolist()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((30, 1, 1, 6))
    same = np.concatenate([x, x], axis=2)
    rec = pair_record(same, rng.standard_normal((50, 6)), "raw", seed=0)
    assert rec["alignment"] == pytest.approx(0.0, abs=1e-12)
    bad = pair_record(np.zeros((3, 1, 2, 4)), rng.standard_normal((20, 4)), "raw", seed=0)
    assert "skipped" in bad
    out = layer_pair_records({"head": same}, {"head": rng.standard_normal((50, 6))}, seed=0)
    assert out["head"]["pairs_whitened"]["alignment"] == pytest.approx(0.0, abs=1e-9)


def test_cli_eval_pairs_option_reaches_the_config(monkeypatch):
    """`gaussaudit train simclr ... --eval-pairs 0` sets TrainConfig.eval_pairs."""
    from gaussaudit.cli import main
    from gaussaudit.train import presets

    seen = {}
    real = presets.resolve_config

    def spy(method, dataset, **kw):
        config = real(method, dataset, **kw)
        seen["config"] = config
        raise SystemExit(0)  # stop before training

    monkeypatch.setattr(presets, "resolve_config", spy)
    try:
        main(["train", "simclr", "synthetic:laplace", "--eval-pairs", "0", "-q"])
    except SystemExit:
        pass
    assert seen["config"].eval_pairs == 0
