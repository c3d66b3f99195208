import json
import pickle
import subprocess
import sys

import numpy as np
import pytest

from gaussaudit.cli import main

FAST = [
    "--projections",
    "8",
    "--subspaces",
    "2",
    "--subspace-dim",
    "3",
    "--multivariate-max-rows",
    "300",
]


@pytest.fixture
def emb(tmp_path, rng):
    path = tmp_path / "emb.npy"
    np.save(path, rng.standard_normal((400, 12)).astype(np.float32))
    return path


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_terminal_report(emb, capsys):
    code, out, err = run(["test", emb, *FAST], capsys)
    assert code == 0, err
    assert "AD avg" in out and "DP % normal" in out and "Verdict" in out


def test_json_report_to_stdout_and_file(emb, tmp_path, capsys):
    code, out, _ = run(["test", emb, "--report", "json", "--view", "all", *FAST], capsys)
    assert code == 0
    rep = json.loads(out)
    assert set(rep["views"]) == {"raw", "normalized", "whitened"}
    target = tmp_path / "out" / "audit.json"
    target.parent.mkdir()
    code, out, _ = run(["test", emb, "--report", "json", "--out", target, *FAST], capsys)
    assert code == 0 and out == ""
    assert json.loads(target.read_text())["input"]["n"] == 400


def test_terminal_report_to_file(emb, tmp_path, capsys):
    target = tmp_path / "audit.txt"
    code, _, _ = run(["test", emb, "--out", target, *FAST], capsys)
    assert code == 0 and "AD avg" in target.read_text()


def test_sidecar_provenance_in_report(emb, capsys):
    emb.with_suffix(".json").write_text(json.dumps({"encoder": "resnet18", "layer": "avgpool"}))
    _code, out, _ = run(["test", emb, "--report", "json", *FAST], capsys)
    assert json.loads(out)["input"]["provenance"]["encoder"] == "resnet18"


def _bad_inputs(tmp_path, rng):
    cases = {}
    cases["missing file"] = (tmp_path / "nope.npy", "no such file")
    p = tmp_path / "obj.npy"
    np.save(p, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    cases["pickled"] = (p, "")
    p = tmp_path / "trunc.npy"
    np.save(p, rng.standard_normal((100, 5)))
    p.write_bytes(p.read_bytes()[:300])
    cases["truncated"] = (p, "")
    p = tmp_path / "nan.npy"
    x = rng.standard_normal((50, 4))
    x[9, 2] = np.nan
    np.save(p, x)
    cases["nan"] = (p, "row 9, column 2")
    p = tmp_path / "one_d.npy"
    np.save(p, rng.standard_normal(50))
    cases["1-D"] = (p, "")
    p = tmp_path / "few.npy"
    np.save(p, rng.standard_normal((5, 4)))
    cases["few rows"] = (p, "at least 8")
    p = tmp_path / "text.csv"
    p.write_text("a,b\nx,y\nz,w\n")
    cases["non-numeric"] = (p, "numeric")
    p = tmp_path / "pickle.pt"
    p.write_bytes(pickle.dumps({"x": 1}))
    cases["pickle as pt"] = (p, "")
    return cases


def test_bad_inputs_give_one_line_and_exit_2(tmp_path, rng, capsys):
    for label, (path, needle) in _bad_inputs(tmp_path, rng).items():
        out_file = tmp_path / f"{label}.report.json"
        code, _out, err = run(["test", path, "--report", "json", "--out", out_file], capsys)
        assert code == 2, (label, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("gaussaudit: error:"), (label, err)
        assert "Traceback" not in err
        assert needle in err, (label, err)
        assert not out_file.exists(), label


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--view", "whitend"], "Did you mean 'whitened'"),
        (["--tests", "anderson"], "unknown test"),
        (["--report", "pdf"], "unknown report format"),
        (["--alpha", "2"], "alpha"),
        (["--nan-policy", "drop"], "nan_policy"),
        (["--no-such-flag"], "No such option"),
        (["--alpha", "abc"], "--alpha"),
        (["--full-multivariate", "sometimes"], "full-multivariate"),
    ],
)
def test_usage_errors_exit_2(emb, capsys, args, needle):
    code, _, err = run(["test", emb, *args], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and needle in err


def test_out_refuses_to_overwrite_the_sidecar(emb, capsys):
    sidecar = emb.with_suffix(".json")
    sidecar.write_text('{"encoder": "x"}')
    code, _, err = run(["test", emb, "--report", "json", "--out", sidecar], capsys)
    assert code == 2 and "sidecar" in err
    assert sidecar.read_text() == '{"encoder": "x"}'


def test_no_arguments_prints_help(capsys):
    code, out, err = run([], capsys)
    assert code == 0 and "Usage" in out and err == ""


def test_missing_extra_exit_3(tmp_path, rng, capsys, monkeypatch):
    import torch

    path = tmp_path / "x.pt"
    torch.save(torch.randn(50, 4), path)
    monkeypatch.setitem(sys.modules, "torch", None)
    code, _, err = run(["test", path], capsys)
    assert code == 3 and "gaussaudit[torch]" in err


def test_debug_flag_shows_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GAUSSAUDIT_DEBUG", "1")
    code, _, err = run(["test", tmp_path / "nope.npy"], capsys)
    assert code == 2 and "Traceback" in err


def test_help_and_version(capsys):
    assert run(["--help"], capsys)[0] == 0
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and out.startswith("gaussaudit ")
    code, out, _ = run(["test", "--help"], capsys)
    assert code == 0 and "--max-samples" in out


def test_python_dash_m(emb):
    proc = subprocess.run(
        [sys.executable, "-m", "gaussaudit", "test", str(emb), "--report", "json", *FAST],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["input"]["d"] == 12


def test_help_does_not_import_the_stats_core():
    code = (
        "import sys; from gaussaudit.cli import main; "
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['--help'])\n"
        "print('scipy' in sys.modules, 'numpy' in sys.modules,"
        " 'gaussaudit.stats.battery' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    # The help reads the test registry and AuditConfig (light modules of the lazy
    # gaussaudit.stats namespace), never the numerical core.
    assert proc.stdout.strip() == "False False False", proc.stderr
