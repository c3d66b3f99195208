"""``gaussaudit env`` and :func:`gaussaudit.environment.collect_environment`."""

import importlib.util
import json
import subprocess
import sys

import pytest

from gaussaudit import __version__
from gaussaudit.cli import main
from gaussaudit.environment import OPTIONAL_PACKAGES, collect_environment


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """A data root with Fashion-MNIST and CIFAR-10, a torch hub cache and two trainer runs."""
    data = tmp_path / "data"
    data.mkdir()
    for stem in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (data / stem).write_bytes(b"")  # only the names are looked at
    (data / "cifar-10-batches-py").mkdir()
    monkeypatch.setenv("GAUSSAUDIT_DATA", str(data))
    hub = tmp_path / "torch-home"
    (hub / "hub" / "checkpoints").mkdir(parents=True)
    (hub / "hub" / "checkpoints" / "resnet18-f37072fd.pth").write_bytes(b"x" * 2048)
    monkeypatch.setenv("TORCH_HOME", str(hub))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    runs = tmp_path / "runs"
    done = runs / "simclr-fashion-mnist-20260101-120000"
    done.mkdir(parents=True)
    (done / "config.json").write_text("{}")
    (done / "metrics.jsonl").write_text("{}\n{}\n{}\n")  # epochs 0, 1, 2
    (done / "last.pt").write_bytes(b"")
    started = runs / "supervised-fashion-mnist-20260101-130000"
    started.mkdir()
    (started / "config.json").write_text("{}")
    (runs / "not-a-run").mkdir()
    return tmp_path


def test_collect_environment_without_torch(machine):
    env = collect_environment(torch=False, runs_dir=machine / "runs")
    assert env["gaussaudit"]["version"] == __version__
    assert env["python"]["version"].count(".") == 2
    assert set(env["packages"]) == set(OPTIONAL_PACKAGES)
    for name, info in env["packages"].items():
        assert info["installed"] == (importlib.util.find_spec(name) is not None), name
    assert env["hardware"]["cpu_count"] >= 1 and env["hardware"]["cpus_usable"] >= 1
    fashion = env["datasets"]["fashion-mnist"]
    assert fashion == {"found": True, "root": str(machine / "data"), "splits": ["test"]}
    assert env["datasets"]["cifar10"]["found"] is True
    assert env["datasets"]["cifar100"]["found"] is False
    hub = env["weights"]["torch_hub_checkpoints"]
    assert hub["files"] == [{"file": "resnet18-f37072fd.pth", "bytes": 2048}]
    assert env["weights"]["huggingface_models"]["models"] == []
    runs = {r["name"]: r for r in env["runs"]["runs"]}
    assert runs == {
        "simclr-fashion-mnist-20260101-120000": {
            "name": "simclr-fashion-mnist-20260101-120000",
            "epochs_logged": 2,
            "resumable": True,
        },
        "supervised-fashion-mnist-20260101-130000": {
            "name": "supervised-fashion-mnist-20260101-130000",
            "epochs_logged": 0,
            "resumable": False,
        },
    }
    if env["torch"] is not None:
        assert "build" not in env["torch"]  # not imported
    json.dumps(env)  # JSON-ready


def test_torch_build_is_reported_when_installed():
    pytest.importorskip("torch")
    info = collect_environment()["torch"]
    assert info["build"] == "CPU" or info["build"].startswith("CUDA ")
    assert isinstance(info["cuda_available"], bool)
    if not info["cuda_available"]:
        assert info["devices"] == []
    else:
        assert all(isinstance(name, str) and name for name in info["devices"])


def test_env_json_and_table(machine, monkeypatch, capsys):
    monkeypatch.chdir(machine)  # runs/ is looked for in the working directory
    assert main(["env", "--json", "--no-torch"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["gaussaudit"]["version"] == __version__
    assert len(info["runs"]["runs"]) == 2
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["env", "--no-torch"]) == 0
    out = capsys.readouterr().out
    for section in ("optional packages", "torch", "hardware", "datasets", "weights", "runs"):
        assert section in out
    assert "simclr-fashion-mnist-20260101-120000" in out and "resumable" in out
    assert "resnet18-f37072fd.pth" in out


def test_env_no_torch_does_not_import_torch(tmp_path):
    code = (
        "import contextlib, io, sys\n"
        "from gaussaudit.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['env', '--no-torch'])\n"
        "print(sorted(m for m in ('torch', 'torchvision', 'timm', 'open_clip',\n"
        "    'sentence_transformers', 'matplotlib', 'pyarrow', 'h5py', 'zarr')\n"
        "    if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
