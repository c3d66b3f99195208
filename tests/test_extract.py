import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from gaussaudit import datasets, encoders  # noqa: E402
from gaussaudit.cli import main  # noqa: E402
from gaussaudit.datasets import DatasetSpec, LoadedDataset  # noqa: E402
from gaussaudit.encoders import Encoder, EncoderSpec  # noqa: E402
from gaussaudit.errors import UsageError  # noqa: E402
from gaussaudit.extract import embed  # noqa: E402
from gaussaudit.io import sidecar_path  # noqa: E402

pytestmark = pytest.mark.torch

D_IN, D_OUT, N = 16, 8, 70


def make_vectors(spec, argument, *, max_samples=None, seed=0, **_):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, D_IN)).astype(np.float32)
    items = list(x[:max_samples] if max_samples else x)
    labels = np.arange(len(items)) % 3
    return LoadedDataset(items, "vector", labels, {"name": "test-vectors", "n": len(items)})


def make_texts(spec, argument, **_):
    return LoadedDataset(["a", "b", "c"] * 5, "text", None, {"name": "test-texts"})


def _to_tensor(item):
    return torch.from_numpy(np.asarray(item, dtype=np.float32))


def _forward(module, batch):
    return module(batch)


class Exploding(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner, self.calls = inner, 0

    def forward(self, x):
        self.calls += 1
        if self.calls == 2:
            raise KeyboardInterrupt  # a user pressing Ctrl-C mid-extraction
        return self.inner(x)


def make_linear(spec, argument, *, weights="default", layer=None, modality="vector", **_):
    torch.manual_seed(0)
    module = torch.nn.Linear(D_IN, D_OUT)
    if argument == "explode":
        module = Exploding(module)
    return Encoder(
        name=spec.name,
        module=module,
        modality="vector",
        dim=D_OUT,
        layer=layer or "output",
        weights=weights,
        transform=_to_tensor,
        collate=torch.stack,
        forward=_forward,
        info={"family": "test"},
    )


encoders.registry.register(
    EncoderSpec("test-linear", "test", f"{__name__}:make_linear", ("vector",), D_OUT, "torch")
)
encoders.registry.register(
    EncoderSpec("test", "test", f"{__name__}:make_linear", ("vector",), D_OUT, "torch"),
    prefix=True,
)
datasets.registry.register(
    DatasetSpec("test-vectors", "test", f"{__name__}:make_vectors", "vector", None)
)
datasets.registry.register(DatasetSpec("test-texts", "test", f"{__name__}:make_texts", "text"))


def test_embed_writes_npy_sidecar_and_labels(tmp_path):
    out = tmp_path / "emb.npy"
    res = embed("test-linear", "test-vectors", out=out, device="cpu", batch_size=32, progress=False)
    x = np.load(out)
    assert x.shape == (N, D_OUT) and x.dtype == np.float32
    torch.manual_seed(0)
    ref = torch.nn.Linear(D_IN, D_OUT)
    data = make_vectors(None, None)
    expected = ref(torch.from_numpy(np.stack(data.items))).detach().numpy()
    np.testing.assert_allclose(x, expected, rtol=1e-5, atol=1e-6)
    side = json.loads(res.sidecar.read_text())
    for key in (
        "encoder",
        "layer",
        "weights",
        "dataset",
        "split",
        "n",
        "d",
        "seed",
        "dtype",
        "device",
        "versions",
        "items_per_second",
        "wall_seconds",
    ):
        assert key in side, key
    assert side["n"] == N and side["d"] == D_OUT and side["dataset_info"]["name"] == "test-vectors"
    np.testing.assert_array_equal(np.load(res.labels_path), np.arange(N) % 3)
    assert not res.reused


def test_reuse_and_force(tmp_path):
    out = tmp_path / "emb.npy"
    embed("test-linear", "test-vectors", out=out, device="cpu", progress=False)
    again = embed("test-linear", "test-vectors", out=out, device="cpu", progress=False)
    assert again.reused
    changed = embed("test-linear", "test-vectors", out=out, device="cpu", progress=False, limit=10)
    assert not changed.reused and np.load(out).shape == (10, D_OUT)
    forced = embed(
        "test-linear",
        "test-vectors",
        out=out,
        device="cpu",
        progress=False,
        limit=10,
        force=True,
    )
    assert not forced.reused


def test_deterministic_across_batch_sizes_and_workers(tmp_path):
    a = embed(
        "test-linear",
        "test-vectors",
        out=tmp_path / "a.npy",
        device="cpu",
        batch_size=7,
        progress=False,
    )
    b = embed(
        "test-linear",
        "test-vectors",
        out=tmp_path / "b.npy",
        device="cpu",
        batch_size=64,
        num_workers=2,
        progress=False,
    )
    np.testing.assert_allclose(np.load(a.path), np.load(b.path), rtol=1e-6)


def test_interrupted_extraction_leaves_no_partial_file(tmp_path):
    out = tmp_path / "emb.npy"
    with pytest.raises(KeyboardInterrupt):
        embed("test:explode", "test-vectors", out=out, device="cpu", batch_size=16, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_modality_mismatch_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="vector input"):
        embed("test-linear", "test-texts", out=tmp_path / "e.npy", device="cpu", progress=False)


def test_bf16_precision_labelled(tmp_path):
    res = embed(
        "test-linear",
        "test-vectors",
        out=tmp_path / "e.npy",
        device="cpu",
        precision="bf16",
        progress=False,
    )
    assert res.provenance["precision"] == "bf16"
    assert np.load(res.path).dtype == np.float32


def test_cli_embed_and_run(tmp_path, capsys):
    out = tmp_path / "emb.npy"
    code = main(
        ["embed", "test-vectors", "--model", "test-linear", "--out", str(out), "--device", "cpu"]
    )
    _, err = capsys.readouterr()
    assert code == 0 and out.exists() and "wrote" in err
    report = tmp_path / "r.json"
    code = main(
        [
            "run",
            "test-vectors",
            "-m",
            "test-linear",
            "--out",
            str(out),
            "--device",
            "cpu",
            "--report",
            "json",
            "--report-out",
            str(report),
        ]
    )
    assert code == 0
    rep = json.loads(report.read_text())
    assert rep["input"]["provenance"]["encoder"] == "test-linear"
    assert rep["input"]["d"] == D_OUT


@pytest.mark.parametrize(
    ("argv", "needle", "code"),
    [
        (["embed", "test-vectors", "-m", "no-such-model"], "unknown encoder", 2),
        (["embed", "no-such-data", "-m", "test-linear"], "unknown dataset", 2),
        (["embed", "test-texts", "-m", "test-linear"], "vector input", 2),
        (["embed", "test-vectors", "-m", "test-linear", "--precision", "fp8"], "precision", 2),
        (["embed", "test-vectors", "-m", "test-linear", "--device", "tpu"], "device", 2),
    ],
)
def test_cli_errors(tmp_path, capsys, argv, needle, code):
    got = main([*argv, "--out", str(tmp_path / "e.npy")])
    _, err = capsys.readouterr()
    assert got == code and needle in err and len(err.strip().splitlines()) == 1


def test_unknown_encoder_suggests(capsys):
    code = main(["embed", "test-vectors", "-m", "resnet81"])
    _, err = capsys.readouterr()
    assert code == 2 and "Did you mean 'resnet18'" in err


def test_list_commands_do_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys, io, contextlib\n"
        "from gaussaudit.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['list', 'encoders']); main(['list', 'datasets'])\n"
        "print('torch' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "False", proc.stderr


def test_default_output_path_separates_requests():
    from gaussaudit.extract import default_output_path

    base = default_output_path("resnet18", "cifar10", "test", None, {"weights": "default"})
    assert base.name == "resnet18-cifar10-test.npy"
    text = default_output_path(
        "openclip:ViT-L-14:openai", "mscoco", "test", None, {"modality": "text"}
    )
    image = default_output_path(
        "openclip:ViT-L-14:openai", "mscoco", "test", None, {"modality": "image"}
    )
    assert text != image and text.name.startswith("openclip_ViT-L-14_openai-mscoco-test-")


def test_cli_data_options_are_parsed_and_recorded(tmp_path, capsys):
    from gaussaudit.cli.embed_cmd import parse_options

    assert parse_options(["n=20", "scale=0.5", "flag=true", "name=x"]) == {
        "n": 20,
        "scale": 0.5,
        "flag": True,
        "name": "x",
    }
    out = tmp_path / "e.npy"
    code = main(
        [
            "embed",
            "test-vectors",
            "-m",
            "test-linear",
            "--out",
            str(out),
            "--device",
            "cpu",
            "--data-option",
            "tag=7",
        ]
    )
    assert code == 0
    assert json.loads(sidecar_path(out).read_text())["request"]["options"] == {
        "dataset": {"tag": 7}
    }
    code = main(
        [
            "embed",
            "test-vectors",
            "-m",
            "test-linear",
            "--out",
            str(out),
            "--data-option",
            "max_samples=3",
        ]
    )
    assert code == 2 and "--limit" in capsys.readouterr().err
    code = main(
        ["embed", "test-vectors", "-m", "test-linear", "--out", str(out), "--data-option", "oops"]
    )
    assert code == 2 and "KEY=VALUE" in capsys.readouterr().err


def test_rerun_without_labels_removes_stale_labels(tmp_path):
    out = tmp_path / "e.npy"
    embed("test-linear", "test-vectors", out=out, device="cpu", progress=False)
    labels = out.with_name("e.labels.npy")
    assert labels.exists()
    datasets.registry.register(
        DatasetSpec("test-vectors-nolabels", "test", f"{__name__}:make_unlabelled", "vector")
    )
    res = embed("test-linear", "test-vectors-nolabels", out=out, device="cpu", progress=False)
    assert res.labels_path is None and not labels.exists()


def make_unlabelled(spec, argument, **kw):
    data = make_vectors(spec, argument, **kw)
    return LoadedDataset(data.items, "vector", None, {"name": "nolabels"})


# --------------------------------------------------------------------------- spec-driven behaviour

encoders.registry.register(
    EncoderSpec(
        "test-latest",
        "test",
        f"{__name__}:make_linear",
        ("vector",),
        D_OUT,
        "torch",
        reuse_default=False,  # like the trainer's "latest run" encoders
        packages=("pytest",),
    )
)


def test_spec_decides_reuse_of_default_weights(tmp_path):
    out = tmp_path / "e.npy"
    first = embed("test-latest", "test-vectors", out=out, device="cpu", progress=False)
    again = embed("test-latest", "test-vectors", out=out, device="cpu", progress=False)
    assert not first.reused and not again.reused  # default weights may have moved
    pinned = embed("test-latest", "test-vectors", out=out, weights="w1", progress=False)
    assert not pinned.reused
    assert embed("test-latest", "test-vectors", out=out, weights="w1", progress=False).reused
    # an ordinary spec reuses default-weight outputs
    embed("test-linear", "test-vectors", out=out, device="cpu", progress=False)
    assert embed("test-linear", "test-vectors", out=out, device="cpu", progress=False).reused


def test_spec_packages_are_recorded_in_the_sidecar(tmp_path):
    import importlib.metadata

    res = embed("test-latest", "test-vectors", out=tmp_path / "e.npy", progress=False)
    side = json.loads(res.sidecar.read_text())
    assert side["versions"]["pytest"] == importlib.metadata.version("pytest")
    assert {"gaussaudit", "numpy", "torch"} <= set(side["versions"])
    assert side["n"] == N and side["d"] == D_OUT and side["labels"] == "e.labels.npy"
    assert res.provenance == side  # what is returned is what was written


def test_library_errors_name_keyword_arguments(tmp_path):
    with pytest.raises(UsageError) as err:
        embed(
            "test-linear",
            "test-vectors",
            out=tmp_path / "e.npy",
            dataset_options={"max_samples": 3, "seed": 1},
        )
    assert err.value.options == ("dataset_options", "limit", "seed")
    assert "limit=..., seed=..." in str(err.value) and "--" not in str(err.value)
    with pytest.raises(UsageError, match=r"out='.*e\.txt' must end in \.npy") as err:
        embed("test-linear", "test-vectors", out=tmp_path / "e.txt")
    assert err.value.option == "out"
    with pytest.raises(UsageError, match="batch_size must be >= 1") as err:
        embed("test-linear", "test-vectors", out=tmp_path / "e.npy", batch_size=0)
    assert err.value.options == ("batch_size", "num_workers")


def test_cli_names_the_flags(tmp_path, capsys):
    base = ["embed", "test-vectors", "-m", "test-linear", "--device", "cpu"]
    assert main([*base, "--out", str(tmp_path / "e.txt")]) == 2
    assert "--out " in capsys.readouterr().err
    assert main([*base, "--out", str(tmp_path / "e.npy"), "--batch-size", "0"]) == 2
    err = capsys.readouterr().err
    assert "--batch-size must be >= 1" in err and "--num-workers" in err
    assert main([*base, "--out", str(tmp_path / "e.npy"), "--model-option", "layer=x"]) == 2
    err = capsys.readouterr().err
    assert "--model-option may not hold 'layer': pass --layer instead" in err
