"""Sharded, resumable extraction: kill it anywhere, rerun, get the same bytes."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from gaussaudit import datasets, encoders  # noqa: E402
from gaussaudit.datasets import DatasetSpec, LoadedDataset  # noqa: E402
from gaussaudit.encoders import Encoder, EncoderSpec  # noqa: E402
from gaussaudit.errors import InvalidEmbeddingsError, UsageError  # noqa: E402
from gaussaudit.extract import embed  # noqa: E402
from gaussaudit.extract import shards as shards_module  # noqa: E402
from gaussaudit.io import load_embeddings  # noqa: E402

pytestmark = pytest.mark.torch

D_IN, D_OUT, N = 12, 6, 70


def make_rows(spec, argument, *, max_samples=None, seed=0, **_):
    x = np.random.default_rng(seed).standard_normal((N, D_IN)).astype(np.float32)
    items = list(x[:max_samples] if max_samples else x)
    return LoadedDataset(items, "vector", np.arange(len(items)) % 4, {"name": "shard-rows"})


def _to_tensor(item):
    return torch.from_numpy(np.asarray(item, dtype=np.float32))


def _forward(module, batch):
    return module(batch)


def make_mlp(spec, argument, *, weights="default", layer=None, **_):
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(D_IN, 32), torch.nn.Tanh(), torch.nn.Linear(32, 6))
    return Encoder(spec.name, module, "vector", D_OUT, "output", weights, _to_tensor,
                   torch.stack, _forward, {"family": "test"})  # fmt: skip


encoders.registry.register(
    EncoderSpec("shard-mlp", "test", f"{__name__}:make_mlp", ("vector",), D_OUT, "torch")
)
datasets.registry.register(DatasetSpec("shard-rows", "test", f"{__name__}:make_rows", "vector"))

KW = dict(device="cpu", progress=False, batch_size=5, shard_size=16)


def _run(out, **kw):
    return embed("shard-mlp", "shard-rows", out=out, **{**KW, **kw})


def _files(directory):
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


class Killed(RuntimeError):
    pass


def test_sharded_output_reads_as_one_matrix(tmp_path):
    res = _run(tmp_path / "emb.shards")
    target = tmp_path / "emb.shards"
    assert res.path == target and target.is_dir()
    names = sorted(p.name for p in target.iterdir())
    assert names == ["manifest.json"] + [
        f"shard-{i:05d}.{ext}" for i in range(5) for ext in ("done", "npy")
    ]
    manifest = json.loads((target / "manifest.json").read_text())
    assert [s["rows"] for s in manifest["shards"]] == [16, 16, 16, 16, 6]
    side = json.loads(res.sidecar.read_text())
    assert res.sidecar.name == "emb.provenance.json" and side["shards"]["n_shards"] == 5
    assert side["request"]["shards"] == 16 and side["precision"] == "fp32"
    es = load_embeddings(target)
    assert es.input_format == "shards" and (es.n, es.d) == (N, D_OUT)
    whole = np.concatenate([np.load(target / f"shard-{i:05d}.npy") for i in range(5)])
    np.testing.assert_array_equal(es.matrix, whole.astype(np.float64))
    np.testing.assert_array_equal(es.labels, np.arange(N) % 4)
    # the same numbers as the one-file output
    flat = embed("shard-mlp", "shard-rows", out=tmp_path / "flat.npy", device="cpu",
                 progress=False, batch_size=5)  # fmt: skip
    np.testing.assert_allclose(whole, np.load(flat.path), rtol=1e-6, atol=1e-7)
    assert _run(target).reused


def test_killed_after_a_shard_resumes_to_identical_bytes(tmp_path, monkeypatch):
    clean = tmp_path / "clean.shards"
    _run(clean)

    def die_after_2(index):
        if index == 2:
            raise Killed("killed after shard 2")

    target = tmp_path / "emb.shards"
    monkeypatch.setattr(shards_module, "shard_written", die_after_2)
    with pytest.raises(Killed):
        _run(target)
    monkeypatch.undo()
    assert sorted(p.name for p in target.glob("*.done")) == [
        f"shard-{i:05d}.done" for i in range(3)
    ]
    assert not (tmp_path / "emb.provenance.json").exists()  # no sidecar: not finished
    with pytest.raises(InvalidEmbeddingsError, match="3 of 5 shards are done"):
        load_embeddings(target)
    res = _run(target)
    assert not res.reused and res.provenance["shards"]["resumed"] == 3
    assert res.provenance["shards"]["embedded"] == 2
    assert _files(target) == _files(clean)


def test_killed_inside_a_shard_resumes_to_identical_bytes(tmp_path, monkeypatch):
    from gaussaudit.extract import loop

    clean = tmp_path / "clean.shards"
    _run(clean)
    calls = {"n": 0}
    real = loop._to_device

    def die_at_batch_10(batch, device):
        calls["n"] += 1
        if calls["n"] == 10:  # shards of 16 rows are batches of 5, 5, 5, 1: inside shard 2
            raise KeyboardInterrupt
        return real(batch, device)

    target = tmp_path / "emb.shards"
    monkeypatch.setattr(loop, "_to_device", die_at_batch_10)
    with pytest.raises(KeyboardInterrupt):
        _run(target)
    monkeypatch.undo()
    assert sorted(p.name for p in target.glob("*.done")) == ["shard-00000.done", "shard-00001.done"]
    assert not list(target.glob(".shard-*"))  # the unfinished shard's temporary file is gone
    res = _run(target, batch_size=5)
    assert res.provenance["shards"]["resumed"] == 2
    assert _files(target) == _files(clean)


def test_a_damaged_shard_is_recomputed_and_another_request_starts_over(tmp_path):
    clean = tmp_path / "clean.shards"
    _run(clean)
    target = tmp_path / "emb.shards"
    _run(target)
    (tmp_path / "emb.provenance.json").unlink()  # as if killed before the sidecar
    shard = target / "shard-00001.npy"
    raw = bytearray(shard.read_bytes())
    raw[-1] ^= 0xFF
    shard.write_bytes(bytes(raw))
    res = _run(target)
    assert res.provenance["shards"]["resumed"] == 4 and res.provenance["shards"]["embedded"] == 1
    assert _files(target) == _files(clean)
    other = _run(target, limit=40)  # another request: nothing is kept
    assert other.provenance["shards"]["resumed"] == 0 and load_embeddings(target).n == 40
    assert other.provenance["shards"]["n_shards"] == 3


def test_settings_are_checked(tmp_path):
    with pytest.raises(UsageError, match=r"must end in \.shards"):
        _run(tmp_path / "emb.npy")
    with pytest.raises(UsageError, match="shard_size must be"):
        _run(tmp_path / "emb.shards", shard_size=0)


def test_cli_embed_shards_then_test(tmp_path):
    from gaussaudit.cli import main

    out = tmp_path / "cli.shards"
    args = ["embed", "shard-rows", "--model", "shard-mlp", "--out", str(out), "--device", "cpu"]
    assert main([*args, "--shard-size", "20", "--batch-size", "7"]) == 0
    assert main([*args, "--shard-size", "20", "--batch-size", "7"]) == 0  # reused
    report = tmp_path / "r.json"
    code = main(["test", str(out), "--report", "json", "--out", str(report), "--tests", "norms"])
    assert code == 0
    data = json.loads(report.read_text())
    assert data["input"]["format"] == "shards" and data["input"]["n"] == N
    assert data["input"]["provenance"]["shards"]["n_shards"] == 4


def test_a_large_sharded_output_is_streamed_with_the_same_numbers(tmp_path):
    from gaussaudit.stats import AuditConfig
    from gaussaudit.workflows import audit_file

    target = tmp_path / "emb.shards"
    _run(target)
    config = dict(tests=("norms", "anderson_darling"), projections=0, subspaces=0)
    whole = audit_file(target, AuditConfig(**config))
    streamed = audit_file(target, AuditConfig(**config, memory_limit="4KiB"))
    assert streamed["input"]["format"] == "shards" and streamed["input"].get("streamed")
    a, b = whole["views"]["raw"], streamed["views"]["raw"]
    assert b["norms"]["cv"] == pytest.approx(a["norms"]["cv"], rel=1e-10)
    np.testing.assert_allclose(
        b["coordinates"]["anderson_darling"]["statistics"],
        a["coordinates"]["anderson_darling"]["statistics"],
        rtol=1e-10,
    )
