"""The image trainer: augmentations, one step, identical init, runs, resume, CLI.

Everything runs on CPU on fake 8x8 images (64 per split, batch 16) so the file
stays well under a minute; torch is limited to one thread here (much faster
than two on a shared, busy machine).
"""

import ast
import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")

from PIL import Image  # noqa: E402

from gaussaudit.cli import main  # noqa: E402
from gaussaudit.errors import UnknownNameError, UsageError  # noqa: E402
from gaussaudit.report.training import plot_dynamics  # noqa: E402
from gaussaudit.train.audit import audit_matrix, knn_accuracy  # noqa: E402
from gaussaudit.train.augment import (  # noqa: E402
    TwoViews,
    eval_transform,
    simclr_transform,
)
from gaussaudit.train.config import TrainConfig  # noqa: E402
from gaussaudit.train.loop import (  # noqa: E402
    build_train_model,
    epoch_seed,
    read_metrics,
    train,
    train_step,
)
from gaussaudit.train.losses import contrastive_loss  # noqa: E402
from gaussaudit.train.presets import PRESETS, resolve_config  # noqa: E402

FAKE = {"n": 64, "size": 8}
TINY = dict(
    dataset="fake",
    dataset_options=FAKE,
    batch_size=16,
    device="cpu",
    knn_bank=32,
)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def run_a(tmp_path_factory):
    """An uninterrupted 2-epoch SimCLR run under a runs directory."""
    runs = tmp_path_factory.mktemp("runs")
    config = TrainConfig(method="simclr", epochs=2, out=str(runs / "simclr-fake-a"), **TINY)
    return train(config, progress=False)


def _strip_time(records):
    return [{k: v for k, v in r.items() if k != "time"} for r in records]


# ------------------------------------------------------------------ augmentations


@pytest.mark.parametrize(("mode", "channels", "size"), [("RGB", 3, (40, 30)), ("L", 1, (28, 28))])
def test_augmentations_shapes_and_pickle(mode, channels, size):
    rng = np.random.default_rng(0)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    img = Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8))
    assert img.mode == mode
    aug = simclr_transform(32, channels)
    ev = eval_transform(32, channels)
    two = TwoViews(aug)
    for t in (aug, ev, two):
        restored = pickle.loads(pickle.dumps(t))
        out = restored(img)
        views = out if isinstance(out, tuple) else (out,)
        for v in views:
            assert v.shape == (channels, 32, 32) and v.dtype == torch.float32
    v1, v2 = two(img)
    assert not torch.equal(v1, v2)  # independent draws
    assert torch.equal(ev(img), ev(img))  # deterministic
    if channels == 1:
        assert "Grayscale" not in repr(aug) and "saturation=None, hue=None" in repr(aug)
    else:
        assert "RandomGrayscale(p=0.2)" in repr(aug) and "p=0.8" in repr(aug)
    # a 3-channel pipeline also takes grayscale input and vice versa
    other = img.convert("L" if mode == "RGB" else "RGB")
    assert aug(other).shape == (channels, 32, 32)


# ------------------------------------------------------------------ model and step


@pytest.mark.parametrize("arch", ["resnet18", "mlp"])
def test_simclr_and_supervised_start_identical(arch):
    models = [
        build_train_model(
            TrainConfig(method=m, arch=arch, dataset="fake", seed=3),
            in_channels=3,
            n_classes=10,
            image_size=8,
        )
        for m in ("simclr", "supervised")
    ]
    a, b = (m.backbone.state_dict() for m in models)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    other = build_train_model(
        TrainConfig(method="simclr", arch=arch, dataset="fake", seed=4),
        in_channels=3,
        n_classes=10,
        image_size=8,
    )
    c = other.backbone.state_dict()
    assert not all(torch.equal(a[k], c[k]) for k in a)


@pytest.mark.parametrize("method", ["simclr", "supervised"])
def test_one_training_step(method):
    config = TrainConfig(method=method, dataset="fake", seed=0)
    model = build_train_model(config, in_channels=3, n_classes=10, image_size=8)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(8, 3, 8, 8, generator=gen)
    y = torch.randint(0, 10, (8,), generator=gen)
    batch = ((x, x + 0.1 * torch.randn_like(x)), y) if method == "simclr" else (x, y)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    loss = train_step(
        model, batch, opt, method=method, loss_fn=contrastive_loss("ntxent", 0.1), device="cpu"
    )
    assert np.isfinite(loss)
    after = model.state_dict()
    assert not torch.equal(before["backbone.conv1.weight"], after["backbone.conv1.weight"])
    head_key = next(k for k in after if k.startswith("head.") and k.endswith("weight"))
    assert not torch.equal(before[head_key], after[head_key])


def test_bf16_autocast_step_on_cpu():
    config = TrainConfig(method="simclr", arch="mlp", dataset="fake")
    model = build_train_model(config, in_channels=3, n_classes=10, image_size=8)
    opt = torch.optim.Adam(model.parameters())
    x = torch.randn(8, 3, 8, 8)
    loss = train_step(
        model,
        ((x, x.flip(0)), torch.zeros(8, dtype=torch.long)),
        opt,
        method="simclr",
        loss_fn=contrastive_loss("infonce", 0.1),
        precision="bf16",
    )
    assert np.isfinite(loss)
    assert next(model.parameters()).dtype == torch.float32  # weights stay fp32


# ------------------------------------------------------------------ runs


def test_two_epoch_run_writes_metrics_and_checkpoints(run_a):
    records = read_metrics(run_a.run_dir)
    assert [r["epoch"] for r in records] == [0, 1, 2]
    assert records[0]["train_loss"] is None and np.isfinite(records[2]["train_loss"])
    for r in records:
        assert set(r["layers"]) == {"backbone", "head"}
        bb, head = r["layers"]["backbone"], r["layers"]["head"]
        assert (bb["d"], head["d"], bb["n"]) == (512, 128, 64)
        for keys in (
            ("norms", "cv"),
            ("coordinates", "anderson_darling", "mean"),
            ("coordinates", "anderson_darling", "pass_fraction"),
            ("coordinates", "dagostino_pearson", "mean_pvalue"),
            ("coordinates", "dagostino_pearson", "pass_fraction"),
        ):
            value = head
            for key in keys:
                value = value[key]
            assert isinstance(value, float), keys
        assert 0.0 <= r["knn_top1"] <= 1.0
    assert records == run_a.metrics or _strip_time(records) == _strip_time(run_a.metrics)

    ckpt = torch.load(run_a.checkpoint, map_location="cpu", weights_only=True)
    assert ckpt["format"] == "gaussaudit-checkpoint/1" and ckpt["epoch"] == 2
    assert ckpt["method"] == "simclr" and ckpt["arch"] == "resnet18-cifar"
    assert ckpt["config"]["image_size"] == 8 and len(ckpt["config"]["mean"]) == 3
    state = ckpt["metrics"]["trainer_state"]
    assert state["optimizer"]["state"] and "rng" in state
    assert [r["epoch"] for r in ckpt["metrics"]["history"]] == [0, 1, 2]
    kept = run_a.run_dir / "checkpoint-epoch002.pt"
    assert run_a.final_checkpoint == kept
    light = torch.load(kept, map_location="cpu", weights_only=True)
    assert "trainer_state" not in light["metrics"]
    assert all(torch.equal(light["model"][k], ckpt["model"][k]) for k in ckpt["model"])
    saved = json.loads((run_a.run_dir / "config.json").read_text())
    assert TrainConfig.from_dict(saved["config"]) == run_a.config
    assert saved["resolved"]["precision"] == "fp32" and saved["resolved"]["n_train"] == 64


def test_resume_reproduces_uninterrupted_run(run_a, tmp_path):
    out = str(tmp_path / "b")
    first = train(TrainConfig(method="simclr", epochs=1, out=out, **TINY), progress=False)
    assert [r["epoch"] for r in first.metrics] == [0, 1]
    with pytest.raises(UsageError, match="already holds a run"):
        train(TrainConfig(method="simclr", epochs=2, out=out, **TINY), progress=False)
    with pytest.raises(UsageError, match="lr"):
        train(TrainConfig(method="simclr", epochs=2, lr=0.01, out=out, **TINY), resume=True)
    resumed = train(
        TrainConfig(method="simclr", epochs=2, out=out, **TINY), resume=True, progress=False
    )
    assert resumed.resumed_from == 1
    a = torch.load(run_a.checkpoint, weights_only=True)["model"]
    b = torch.load(resumed.checkpoint, weights_only=True)["model"]
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert _strip_time(read_metrics(out)) == _strip_time(read_metrics(run_a.run_dir))


def test_mlp_simclr_audits_its_output(tmp_path):
    config = TrainConfig(
        method="simclr", arch="mlp", loss="infonce", epochs=1, out=str(tmp_path / "m"), **TINY
    )
    result = train(config, progress=False)
    assert set(result.final_audit["layers"]) == {"output"}
    assert result.final_audit["layers"]["output"]["d"] == 256
    assert result.resolved["arch"] == "mlp" and result.resolved["loss"] == "infonce"
    ckpt = torch.load(result.checkpoint, weights_only=True)
    assert ckpt["model"]["backbone.net.1.weight"].shape == (512, 3 * 8 * 8)


def test_epoch_seed_depends_on_seed_and_epoch_only():
    assert epoch_seed(0, 1) == epoch_seed(0, 1)
    assert len({epoch_seed(0, 1), epoch_seed(0, 2), epoch_seed(1, 1)}) == 3


def test_embed_resolves_latest_run(run_a, tmp_path):
    from gaussaudit.encoders import create_encoder
    from gaussaudit.extract import embed

    runs = run_a.run_dir.parent
    enc = create_encoder("resnet18-simclr", runs_dir=str(runs))
    assert enc.info["checkpoint"] in (str(run_a.checkpoint), str(run_a.final_checkpoint))
    assert enc.info["epoch"] == 2
    with pytest.raises(Exception, match="no trained resnet18-supervised run"):
        create_encoder("resnet18-supervised", runs_dir=str(runs))
    res = embed(
        "resnet18-simclr",
        "fake",
        runs_dir=str(runs),
        out=tmp_path / "emb.npy",
        device="cpu",
        progress=False,
        dataset_options=FAKE,
    )
    z = np.load(res.path)
    assert z.shape == (64, 512)
    # the embed pipeline sees exactly what the per-epoch audit saw
    final = run_a.metrics[-1]["layers"]["backbone"]
    assert audit_matrix(z)["norms"]["cv"] == pytest.approx(final["norms"]["cv"], rel=1e-5)


def test_plot_dynamics(run_a, tmp_path):
    path = plot_dynamics(read_metrics(run_a.run_dir), out=tmp_path / "dyn.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------ audit helpers


def test_audit_matrix_and_knn():
    rng = np.random.default_rng(0)
    gauss = audit_matrix(rng.standard_normal((400, 16)))
    assert gauss["verdict"]["paper_rule"] is True
    assert gauss["coordinates"]["anderson_darling"]["pass_fraction"] > 0.7
    relu = audit_matrix(np.maximum(rng.standard_normal((400, 16)), 0))
    assert relu["verdict"]["paper_rule"] is False
    bad = audit_matrix(np.full((30, 4), np.nan))
    assert "error" in bad
    centres = 10 * rng.standard_normal((3, 8))
    labels = np.repeat(np.arange(3), 50)
    x = centres[labels] + rng.standard_normal((150, 8))
    assert knn_accuracy(x[::2], labels[::2], x[1::2], labels[1::2], k=5) == 1.0


def test_per_epoch_audit_is_the_battery_of_gaussaudit_test():
    from gaussaudit.stats import anderson_darling, audit, dagostino_pearson, norm_concentration

    rng = np.random.default_rng(1)
    gauss = rng.standard_normal((300, 12)).astype(np.float32)
    relu = np.maximum(rng.standard_normal((300, 12)), 0)
    for x in (gauss, relu):
        x[:, 3] = 1.0  # one constant coordinate: not tested, as by `gaussaudit test`
        record = audit_matrix(x)
        view = audit(
            x,
            views=("raw",),
            tests=("norms", "anderson_darling", "dagostino_pearson"),
            projections=0,
            subspaces=0,
        ).views["raw"]
        ad, dp = view.coordinates["anderson_darling"], view.coordinates["dagostino_pearson"]
        c = record["coordinates"]
        assert set(record) == {"n", "d", "norms", "coordinates", "verdict", "notes"}
        assert set(c) == {"anderson_darling", "dagostino_pearson"}
        # exactly the numbers of stats.audit (the function `gaussaudit test` calls)
        assert c["anderson_darling"]["mean"] == float(np.mean(ad.statistics))
        assert c["anderson_darling"]["pass_fraction"] == ad.pass_fraction(0.05)
        assert c["anderson_darling"]["n_tested"] == ad.n_tested == 11
        assert c["dagostino_pearson"]["mean_pvalue"] == float(np.mean(dp.pvalues))
        assert c["dagostino_pearson"]["pass_fraction"] == dp.pass_fraction(0.05)
        assert record["norms"]["cv"] == view.norms.cv
        assert record["norms"]["effective_dimension"] == view.norms.effective_dimension
        assert record["verdict"]["paper_rule"] is view.verdict.paper_rule
        # the same statistics as the stand-alone kernels the old per-epoch audit called
        assert c["anderson_darling"]["mean"] == pytest.approx(
            float(np.mean(anderson_darling(x).statistics)), rel=1e-12
        )
        assert c["dagostino_pearson"]["mean_pvalue"] == pytest.approx(
            float(np.mean(dagostino_pearson(x).pvalues)), rel=1e-12
        )
        assert record["norms"]["cv"] == pytest.approx(norm_concentration(x).cv, rel=1e-15)
        rule = (
            c["anderson_darling"]["mean"] < c["anderson_darling"]["threshold"]
            and c["dagostino_pearson"]["mean_pvalue"] > 0.05
        )
        assert record["verdict"]["paper_rule"] is rule
        for entry in c.values():  # per-coordinate arrays are left out
            assert not [
                k for k, v in entry.items() if isinstance(v, list) and k != "excluded_columns"
            ]
    assert audit_matrix(gauss)["verdict"]["paper_rule"] is True
    assert audit_matrix(relu)["verdict"]["paper_rule"] is False


def test_paper_reruns_read_the_per_epoch_record():
    """The paper package's reader of per-epoch records follows the JSON-contract names."""
    common = pytest.importorskip("gaussaudit.paper._common")
    from gaussaudit.train.audit import paper_cells

    record = audit_matrix(np.random.default_rng(2).standard_normal((300, 8)))
    cells = common.audit_metrics(record)
    for key, value in paper_cells(record).items():
        assert value is not None and cells[key] == value, key
    assert cells["mean_norm"] == record["norms"]["mean"]


def test_methods_are_a_table():
    from gaussaudit.train import config as train_config
    from gaussaudit.train.methods import METHODS, SimCLR, Supervised, get_method

    assert tuple(METHODS) == train_config.METHODS
    sim = get_method(TrainConfig(method="simclr", loss="infonce", temperature=0.2))
    assert isinstance(sim, SimCLR) and sim.loss_name == "infonce" and not sim.needs_labels
    assert sim.loss_fn.temperature == 0.2
    assert isinstance(sim.train_transform(lambda im: im), TwoViews)
    sup = get_method("supervised")
    assert isinstance(sup, Supervised) and sup.needs_labels and sup.loss_name == "cross_entropy"
    with pytest.raises(UnknownNameError):
        get_method("byol")


def test_trainer_source_has_no_encoders_import_and_no_paper_threshold():
    import gaussaudit.train as package

    for path in sorted(Path(package.__file__).parent.glob("*.py")):
        text = path.read_text()
        assert "0.752" not in text, path.name
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom):
                assert "encoders" not in (node.module or ""), path.name
            elif isinstance(node, ast.Import):
                assert not any("encoders" in alias.name for alias in node.names), path.name


# ------------------------------------------------------------------ checkpoint integrity


def test_checkpoint_integrity_round_trip_and_refusals(tmp_path):
    from gaussaudit.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

    config = TrainConfig(method="simclr", arch="mlp", dataset="fake")
    model = build_train_model(config, in_channels=3, n_classes=10, image_size=8)
    path = save_checkpoint(
        tmp_path / "last.pt",
        model,
        method="simclr",
        config={"lr": 1e-3},
        epoch=1,
        metrics={"history": [{"epoch": 1, "x": 0.5}], "state": {"t": torch.ones(3)}},
        arch="mlp",
    )
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]
    ckpt = load_checkpoint(path)
    assert ckpt["integrity"]["algorithm"] == "sha256" and len(ckpt["integrity"]["tensors"]) == 64

    def tampered(change, name):
        raw = torch.load(path, weights_only=True)
        change(raw)
        torch.save(raw, tmp_path / name)
        return tmp_path / name

    cases = {
        "weights.pt": (
            lambda c: c["model"]["backbone.net.1.weight"].view(-1)[:100].zero_(),
            "its tensors",
        ),
        "state.pt": (lambda c: c["metrics"]["state"]["t"].mul_(2), "its tensors"),
        "config.pt": (lambda c: c["config"].update(lr=0.5), "its settings"),
        "history.pt": (lambda c: c["metrics"]["history"][0].update(x=0.25), "its settings"),
        "epoch.pt": (lambda c: c.update(epoch=7), "its settings"),
        "stripped.pt": (lambda c: c.pop("integrity"), "no sha256 integrity record"),
    }
    for name, (change, what) in cases.items():
        bad = tampered(change, name)
        with pytest.raises(CheckpointError, match=what) as err:
            load_checkpoint(bad)
        message = str(err.value)
        assert "\n" not in message and str(bad) in message and err.value.exit_code == 2
        assert isinstance(err.value, UsageError)
    assert load_checkpoint(tmp_path / "config.pt", verify=False)["config"]["lr"] == 0.5

    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        load_checkpoint(truncated)

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'executed'}",))

    torch.save({"format": "gaussaudit-checkpoint/1", "x": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(tmp_path / "evil.pt")
    assert "weights_only=False" not in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "executed").exists()


def test_resume_cleans_stale_temps_and_refuses_modified_weights(tmp_path, capsys):
    out = tmp_path / "mlp"
    tiny = {**TINY, "dataset_options": {"n": 64, "size": 16}, "knn_bank": 0}
    config = TrainConfig(method="simclr", arch="mlp", epochs=1, out=str(out), **tiny)
    train(config, progress=False)
    # what a save killed half-way leaves behind, and a file that is not ours
    stale = [out / ".last.pt.0123456789ab.tmp", out / ".metrics.jsonl.abcdef012345.tmp"]
    for p in stale:
        p.write_bytes(b"")
    mine = out / "notes.tmp"
    mine.write_text("kept")
    resumed = train(config.replace(epochs=2), resume=True, progress=False)
    assert resumed.resumed_from == 1
    assert not any(p.exists() for p in stale) and mine.read_text() == "kept"

    ckpt = torch.load(out / "last.pt", weights_only=True)
    weight = ckpt["model"]["backbone.net.1.weight"]  # the first layer, 512 x 768
    assert weight.numel() >= 100_000
    weight.view(-1)[:100_000] = 0
    torch.save(ckpt, out / "last.pt")
    argv = ["train", "simclr", "fake", "--arch", "mlp", "--out", str(out), "--resume"]
    code = main([*argv, "--epochs", "3", "-q", "--no-plot"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert "failed its integrity check" in err and "its tensors" in err and "last.pt" in err
    assert [r["epoch"] for r in read_metrics(out)] == [0, 1, 2]  # nothing trained


# ------------------------------------------------------------------ config and presets


def test_config_roundtrip_and_presets():
    cfg = TrainConfig(method="supervised", dataset="fake", mean=[0.5] * 3, std=(0.2,) * 3)
    again = TrainConfig.from_dict(json.loads(cfg.to_json()))
    assert again == cfg and again.mean == (0.5, 0.5, 0.5)
    assert (cfg.epochs, cfg.batch_size, cfg.lr, cfg.weight_decay, cfg.temperature) == (
        100,
        256,
        1e-3,
        1e-4,
        0.1,
    )
    assert cfg.loss == "ntxent"
    with pytest.raises(UnknownNameError):
        TrainConfig(loss="triplet")
    with pytest.raises(UsageError):
        TrainConfig.from_dict({"epochz": 3})
    quick = resolve_config("simclr", "fashion-mnist", preset="quick", epochs=7, lr=None)
    assert quick.epochs == 7 and quick.batch_size == PRESETS["quick"]["batch_size"]
    assert quick.precision == "fp32" and quick.lr == 1e-3
    paper = resolve_config("supervised", "cifar10", preset="paper")
    assert (paper.epochs, paper.batch_size, paper.precision) == (100, 256, "auto")
    with pytest.raises(UnknownNameError):
        resolve_config("simclr", "fake", preset="slow")


def test_fp16_needs_cuda(tmp_path):
    cfg = TrainConfig(method="simclr", epochs=1, precision="fp16", out=str(tmp_path / "r"), **TINY)
    with pytest.raises(UsageError, match="fp16 needs CUDA"):
        train(cfg, progress=False)


# ------------------------------------------------------------------ CLI


def test_cli_train(tmp_path, capsys):
    out = tmp_path / "cli-run"
    argv = ["train", "supervised", "fake", "--arch", "mlp", "--epochs", "1"]
    argv += ["--batch-size", "16", "--data-option", "size=8", "--out", str(out)]
    argv += ["--knn-bank", "16", "--device", "cpu", "--no-plot", "-q"]
    code = main(argv)
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    assert "backbone" in stdout and "head" in stdout and "last.pt" in stdout
    assert [r["epoch"] for r in read_metrics(out)] == [0, 1]
    ckpt = torch.load(out / "last.pt", weights_only=True)
    assert ckpt["arch"] == "mlp" and ckpt["method"] == "supervised"
    # resuming picks the run's saved settings; only --epochs changes
    code = main(["train", "supervised", "fake", "--out", str(out), "--resume", "--epochs", "2"])
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    assert [r["epoch"] for r in read_metrics(out)] == [0, 1, 2]
    code = main(["train", "simclr", "fake", "--out", str(out), "--resume", "-q", "--no-plot"])
    assert code == 2 and "supervised run" in capsys.readouterr().err


def test_cli_train_simclr_resnet(tmp_path, capsys):
    out = tmp_path / "runs" / "one"
    argv = ["train", "simclr", "fake", "--epochs", "1", "--batch-size", "16"]
    argv += ["--data-option", "size=8", "--out", str(out), "--knn-bank", "0", "-q"]
    argv += ["--loss", "infonce", "--device", "cpu"]
    code = main(argv)
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    assert "embed --model resnet18-simclr fake --checkpoint" in stdout.replace("\n", " ")
    assert (out / "dynamics.png").is_file()
    rec = read_metrics(out)[-1]
    assert rec["knn_top1"] is None and rec["layers"]["head"]["d"] == 128
