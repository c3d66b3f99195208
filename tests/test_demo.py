import json
from pathlib import Path

import pytest

from gaussaudit.paper import run_demo

FASHION = Path("/usr/share/datasets/fashion-mnist")


def test_synthetic_demo_shows_both_verdicts(tmp_path):
    result = run_demo(tmp_path, n=1500, d=64, mode="synthetic")
    assert result.mode == "synthetic"
    raw = {k: r["views"]["raw"]["verdict"]["paper_rule"] for k, r in result.reports.items()}
    assert raw == {"gaussian": True, "post_relu": False}
    for path in result.report_paths.values():
        assert json.loads(path.read_text())["schema_version"]
        assert path.with_suffix("").with_suffix(".report.html").exists()


@pytest.mark.torch
@pytest.mark.skipif(not FASHION.is_dir(), reason="needs Debian dataset-fashion-mnist")
def test_trained_demo_runs_end_to_end(tmp_path):
    pytest.importorskip("torch")
    result = run_demo(tmp_path, mode="trained", epochs=1, progress=False)
    assert result.mode == "trained" and set(result.reports) == {"contrastive", "supervised"}
    for name, report in result.reports.items():
        assert report["input"]["n"] == 2000
        assert report["input"]["provenance"]["trainer"]["method"] in ("simclr", "supervised")
        assert result.embedding_paths[name].exists()


def test_unknown_mode(tmp_path):
    from gaussaudit.errors import UnknownNameError

    with pytest.raises(UnknownNameError):
        run_demo(tmp_path, mode="fast")


def test_cli_demo_prints_the_side_by_side_table(tmp_path, capsys):
    from gaussaudit.cli import main

    code = main(["demo", "--out", str(tmp_path), "--n", "600", "--d", "16", "--mode", "synthetic"])
    assert code == 0
    out = capsys.readouterr().out
    assert "Gaussianity audit (raw view)" in out
    assert "Gaussian? (paper rule)" in out and "✓ yes" in out and "× no" in out
    assert "600 × 16" in out and (tmp_path / "post_relu.report.json").is_file()
