"""Alignment and uniformity: the kernel against brute force, the report, and ``embed --pairs``."""

import itertools
import json
import math

import numpy as np
import pytest

from gaussaudit.errors import InvalidEmbeddingsError
from gaussaudit.stats import AuditConfig
from gaussaudit.stats.pairs import negative_pairs, pair_metrics, view_transform
from gaussaudit.stats.views import make_view
from gaussaudit.workflows import audit_file


def _pairs(rng, m=7, k=2, d=5, noise=0.3):
    base = rng.standard_normal((m, k, 1, d))
    return np.concatenate([base, base + noise * rng.standard_normal(base.shape)], axis=2)


def _brute(pairs):
    """Alignment, uniformity and mean cosines by plain loops over every pair."""
    m, k = pairs.shape[:2]
    unit = {}
    for i, j, s in itertools.product(range(m), range(k), range(2)):
        v = [float(a) for a in pairs[i, j, s]]
        norm = math.sqrt(sum(a * a for a in v))
        unit[i, j, s] = [a / norm for a in v]

    def sq(a, b):
        return sum((x - y) ** 2 for x, y in zip(a, b, strict=True))

    def dot(a, b):
        return sum(x * y for x, y in zip(a, b, strict=True))

    pos = [(unit[i, j, 0], unit[i, j, 1]) for i in range(m) for j in range(k)]
    align = sum(sq(a, b) for a, b in pos) / len(pos)
    keys = sorted(unit)
    neg = [(unit[a], unit[b]) for a, b in itertools.combinations(keys, 2) if a[0] != b[0]]
    uni = math.log(sum(math.exp(-2.0 * sq(a, b)) for a, b in neg) / len(neg))
    pos_cos = sum(dot(a, b) for a, b in pos) / len(pos)
    neg_cos = sum(dot(a, b) for a, b in neg) / len(neg)
    return align, uni, pos_cos, neg_cos, len(neg)


def test_kernel_matches_brute_force():
    pairs = _pairs(np.random.default_rng(1))
    got = pair_metrics(pairs)
    align, uni, pos_cos, neg_cos, n_neg = _brute(pairs)
    assert got.negatives_exhaustive and got.n_negative_pairs == n_neg == (28 * 27 - 7 * 4 * 3) // 2
    assert got.n_pairs == 14 and got.n_items == 7 and got.pairs_per_item == 2
    assert got.alignment == pytest.approx(align, rel=1e-12)
    assert got.uniformity == pytest.approx(uni, rel=1e-12)
    assert got.positive_cosine["mean"] == pytest.approx(pos_cos, rel=1e-12)
    assert got.negative_cosine["mean"] == pytest.approx(neg_cos, rel=1e-12, abs=1e-14)
    # alpha = 2 on unit vectors: alignment = 2 - 2 E cos
    assert got.alignment == pytest.approx(2 - 2 * pos_cos, rel=1e-12)
    assert sum(got.positive_cosine["counts"]) == 14
    assert sum(got.negative_cosine["counts"]) == n_neg
    assert got.positive_cosine["edges"] == got.negative_cosine["edges"]


def test_scale_free_and_bounds():
    rng = np.random.default_rng(2)
    pairs = _pairs(rng, m=30, d=8)
    a, b = pair_metrics(pairs), pair_metrics(pairs * 1e30)
    assert a.alignment == pytest.approx(b.alignment, rel=1e-12)
    assert a.uniformity == pytest.approx(b.uniformity, rel=1e-12)
    same = pair_metrics(np.repeat(pairs[:, :, :1], 2, axis=2))
    assert same.alignment == pytest.approx(0.0, abs=1e-12)
    assert -4.0 <= a.uniformity <= 0.0


def test_sampled_negatives_are_distinct_items_and_stated():
    a, b, every = negative_pairs(50, 4, count=1000, seed=3)
    assert not every and a.size == b.size == 1000
    assert np.all(a // 4 != b // 4)
    again = negative_pairs(50, 4, count=1000, seed=3)
    np.testing.assert_array_equal(a, again[0])
    np.testing.assert_array_equal(b, again[1])
    pairs = _pairs(np.random.default_rng(4), m=60, k=1, d=6)
    exact = pair_metrics(pairs)
    sampled = pair_metrics(pairs, negatives=3000, seed=5)
    assert sampled.n_negative_pairs == 3000 and not sampled.negatives_exhaustive
    assert "3000 seeded random" in sampled.to_dict()["negatives"]
    assert sampled.uniformity == pytest.approx(exact.uniformity, abs=0.05)
    assert sampled.alignment == exact.alignment


@pytest.mark.parametrize("n", [40, 6])  # d <= n (covariance) and d > n (Gram)
def test_view_transform_reproduces_the_views(n):
    x = np.random.default_rng(6).standard_normal((n, 10)) * np.arange(1, 11)
    for name in ("raw", "normalized", "whitened"):
        np.testing.assert_allclose(
            view_transform(x, name)(x), make_view(x, name).matrix, rtol=1e-8, atol=1e-10
        )


def test_bad_pairs_are_refused():
    with pytest.raises(InvalidEmbeddingsError, match="shape"):
        pair_metrics(np.zeros((5, 2, 3, 4)))
    with pytest.raises(InvalidEmbeddingsError, match="all zeros"):
        pair_metrics(np.zeros((5, 1, 2, 4)))


# --------------------------------------------------------------------------- the report


@pytest.fixture
def emb_with_pairs(tmp_path):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((400, 6)).astype(np.float32) * np.arange(1, 7, dtype=np.float32)
    path = tmp_path / "emb.npy"
    np.save(path, x)
    np.save(tmp_path / "emb.pairs.npy", _pairs(rng, m=40, k=2, d=6).astype(np.float32))
    return path


CONFIG = AuditConfig(
    views=("raw", "normalized", "whitened"),
    tests=("norms", "anderson_darling", "dagostino_pearson"),
    projections=0,
    subspaces=0,
)


def test_report_finds_the_pairs_and_applies_each_views_transform(emb_with_pairs):
    report = audit_file(emb_with_pairs, CONFIG)
    pairs = np.load(emb_with_pairs.with_name("emb.pairs.npy")).astype(np.float64)
    x = np.load(emb_with_pairs).astype(np.float64)
    for view in CONFIG.views:
        entry = report["views"][view]["pairs"]
        expected = pair_metrics(view_transform(x, view)(pairs), seed=CONFIG.seed)
        assert entry["alignment"] == pytest.approx(expected.alignment, rel=1e-10)
        assert entry["uniformity"] == pytest.approx(expected.uniformity, rel=1e-10)
        assert entry["n_pairs"] == 80 and entry["alignment_alpha"] == 2.0
        assert entry["uniformity_t"] == 2.0
    raw, norm = report["views"]["raw"]["pairs"], report["views"]["normalized"]["pairs"]
    assert raw["alignment"] == pytest.approx(norm["alignment"], rel=1e-12)  # cosines only
    assert report["views"]["whitened"]["pairs"]["alignment"] != pytest.approx(raw["alignment"])
    assert report["input"]["pairs"]["shape"] == [40, 2, 2, 6]
    json.dumps(report)
    assert "pairs" not in audit_file(emb_with_pairs, CONFIG, pairs=False)["views"]["raw"]


def test_html_draws_pair_histograms_for_raw_and_whitened(emb_with_pairs):
    pytest.importorskip("matplotlib")
    from gaussaudit.report.html import render_html

    config = AuditConfig(views=("raw", "whitened"), tests=("anderson_darling",), projections=0)
    page = render_html(audit_file(emb_with_pairs, config))
    assert 'id="plot-raw-pairs"' in page and 'id="plot-whitened-pairs"' in page
    assert 'id="plot-normalized-pairs"' not in page
    assert "positive pairs (80)" in page


def test_cli_test_takes_a_pairs_file(emb_with_pairs, tmp_path):
    from typer.testing import CliRunner

    from gaussaudit.cli import app

    other = tmp_path / "other.npy"
    np.save(other, np.load(emb_with_pairs.with_name("emb.pairs.npy"))[:10])
    plain = tmp_path / "plain.npy"
    np.save(plain, np.load(emb_with_pairs))
    out = tmp_path / "r.json"
    args = ["test", str(plain), "--report", "json", "--out", str(out), "--pairs", str(other)]
    res = CliRunner().invoke(app, [*args, "--tests", "anderson_darling"])
    assert res.exit_code == 0, res.output
    report = json.loads(out.read_text())
    assert report["views"]["raw"]["pairs"]["n_pairs"] == 20


def test_pairs_of_another_width_are_skipped(tmp_path):
    x = np.random.default_rng(8).standard_normal((200, 4))
    np.save(tmp_path / "e.npy", x)
    np.save(tmp_path / "e.pairs.npy", np.ones((3, 1, 2, 5)))
    entry = audit_file(tmp_path / "e.npy", CONFIG, pairs=tmp_path / "e.pairs.npy")
    entry = entry["views"]["raw"]["pairs"]
    assert "d = 4" in entry["skipped"]


# --------------------------------------------------------------------------- embed --pairs

torch_needed = pytest.mark.torch


def _images(spec, argument, *, max_samples=None, seed=0, **_):
    from PIL import Image

    from gaussaudit.datasets import LoadedDataset

    rng = np.random.default_rng(seed)
    items = [Image.fromarray(rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)) for _ in range(10)]
    return LoadedDataset(items[:max_samples], "image", None, {"name": "test-pair-images"})


def _texts(spec, argument, **_):
    from gaussaudit.datasets import LoadedDataset

    return LoadedDataset(["one", "two", "three", "four"], "text", None, {"name": "t"})


def _pool(module, batch):
    return module(batch.flatten(1))


def _tiny_image_encoder(spec, argument, *, weights="default", layer=None, **_):
    import torch

    from gaussaudit.encoders import Encoder
    from gaussaudit.encoders.layers import stack_tensors
    from gaussaudit.train.augment import eval_transform

    torch.manual_seed(0)
    return Encoder(
        name=spec.name,
        module=torch.nn.Linear(3 * 16 * 16, 6),
        modality="image",
        dim=6,
        layer="output",
        weights=weights,
        transform=eval_transform(16, 3),
        collate=stack_tensors,
        forward=_pool,
        info={"family": "test", "in_channels": 3},
    )


def _bag(module, batch):
    return module(batch)


class _CharCollate:
    def __call__(self, texts):
        import torch

        out = torch.zeros(len(texts), 26)
        for i, t in enumerate(texts):
            for ch in t.lower():
                if "a" <= ch <= "z":
                    out[i, ord(ch) - 97] += 1
        return out


def _tiny_text_encoder(spec, argument, *, weights="default", layer=None, **_):
    import torch

    from gaussaudit.encoders import Encoder
    from gaussaudit.encoders.layers import identity

    torch.manual_seed(0)
    return Encoder(
        name=spec.name,
        module=torch.nn.Linear(26, 5),
        modality="text",
        dim=5,
        layer="output",
        weights=weights,
        transform=identity,
        collate=_CharCollate(),
        forward=_bag,
        info={"family": "test"},
    )


@pytest.fixture(scope="module")
def registered():
    pytest.importorskip("torch")
    pytest.importorskip("torchvision")
    from gaussaudit import datasets, encoders
    from gaussaudit.datasets import DatasetSpec
    from gaussaudit.encoders import EncoderSpec

    encoders.registry.register(
        EncoderSpec("test-pair-image", "test", f"{__name__}:_tiny_image_encoder", ("image",), 6)
    )
    encoders.registry.register(
        EncoderSpec("test-pair-text", "test", f"{__name__}:_tiny_text_encoder", ("text",), 5)
    )
    datasets.registry.register(
        DatasetSpec("test-pair-images", "test", f"{__name__}:_images", "image", None)
    )
    datasets.registry.register(DatasetSpec("test-pair-texts", "test", f"{__name__}:_texts", "text"))


@torch_needed
def test_pair_views_are_the_training_transform(registered):
    """For an encoder whose transform is the trainer's eval transform, a view is
    exactly ``simclr_transform`` under the item's seed."""
    import torch

    from gaussaudit.encoders import create_encoder
    from gaussaudit.extract.pairs import PairViews, image_pair_augmentation, item_seed
    from gaussaudit.train.augment import simclr_transform

    encoder = create_encoder("test-pair-image")
    augment, info = image_pair_augmentation(encoder)
    assert "image_size=16, channels=3" in info["augmentation"]
    items = _images(None, None).items
    views = PairViews(items, augment, encoder.transform, 2, seed=3)[4]
    assert len(views) == 4
    torch.manual_seed(item_seed(3, 4))
    train = simclr_transform(16, 3)
    expected = [train(items[4]) for _ in range(4)]
    for got, want in zip(views, expected, strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=0)
    assert not torch.equal(views[0], views[1])  # two different augmentations


@torch_needed
def test_embed_pairs_writes_the_array_and_the_sidecar(registered, tmp_path):
    from gaussaudit.extract import embed

    kw = dict(device="cpu", progress=False, pairs=2)
    res = embed("test-pair-image", "test-pair-images", out=tmp_path / "a.npy", batch_size=4, **kw)
    pairs = np.load(tmp_path / "a.pairs.npy")
    assert pairs.shape == (10, 2, 2, 6) and pairs.dtype == np.float32
    side = json.loads(res.sidecar.read_text())
    assert side["pairs"]["file"] == "a.pairs.npy" and side["pairs"]["pairs_per_item"] == 2
    assert side["pairs"]["kind"] == "augmented images" and side["request"]["pairs"] == {"k": 2}
    assert embed("test-pair-image", "test-pair-images", out=tmp_path / "a.npy", **kw).reused
    # independent of the batch size: every item's draws are seeded by its index
    embed("test-pair-image", "test-pair-images", out=tmp_path / "b.npy", batch_size=3, **kw)
    np.testing.assert_allclose(np.load(tmp_path / "b.pairs.npy"), pairs, rtol=1e-6, atol=1e-6)
    # the pairs are what the encoder gives for the augmented views
    assert not np.allclose(pairs[:, :, 0], pairs[:, :, 1])
    # re-embedding without pairs removes the stale pairs file
    embed(
        "test-pair-image",
        "test-pair-images",
        out=tmp_path / "a.npy",
        device="cpu",
        progress=False,
        force=True,
    )
    assert not (tmp_path / "a.pairs.npy").exists()


@torch_needed
def test_embed_text_pairs_file(registered, tmp_path):
    from gaussaudit.errors import UsageError
    from gaussaudit.extract import embed

    csv_file = tmp_path / "pairs.csv"
    csv_file.write_text("query,positive\nabc,abd\nxyz,xzy\nhello,help\n")
    res = embed(
        "test-pair-text",
        "test-pair-texts",
        out=tmp_path / "t.npy",
        device="cpu",
        progress=False,
        pairs_file=csv_file,
    )
    pairs = np.load(tmp_path / "t.pairs.npy")
    assert pairs.shape == (3, 1, 2, 5)
    assert res.provenance["pairs"]["csv"] == "pairs.csv"
    assert res.provenance["pairs"]["header"] == ["query", "positive"]
    # "xyz" and "xzy" have the same letters: identical bag-of-letters embeddings
    np.testing.assert_allclose(pairs[1, 0, 0], pairs[1, 0, 1], rtol=1e-5, atol=1e-6)
    with pytest.raises(UsageError, match="pairs_file is for text"):
        embed(
            "test-pair-image",
            "test-pair-images",
            out=tmp_path / "x.npy",
            device="cpu",
            progress=False,
            pairs_file=csv_file,
        )
    with pytest.raises(UsageError, match="not both"):
        embed("test-pair-text", "test-pair-texts", pairs=1, pairs_file=csv_file)


@torch_needed
def test_cli_embed_pairs_then_test_picks_them_up(registered, tmp_path):
    from typer.testing import CliRunner

    from gaussaudit.cli import app

    out, report = tmp_path / "e.npy", tmp_path / "r.json"
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            *("embed", "test-pair-images", "--model", "test-pair-image", "--out", str(out)),
            *("--device", "cpu", "--pairs", "3"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert np.load(tmp_path / "e.pairs.npy").shape == (10, 3, 2, 6)
    res = runner.invoke(
        app,
        [
            *("test", str(out), "--report", "json", "--out", str(report), "--tests", "norms"),
            *("--view", "raw,whitened"),
        ],
    )
    assert res.exit_code == 0, res.output
    views = json.loads(report.read_text())["views"]
    assert views["raw"]["pairs"]["n_pairs"] == 30 and views["whitened"]["pairs"]["n_items"] == 10


def test_many_items_are_subsampled_and_say_so(tmp_path, monkeypatch):
    from gaussaudit.report import model

    monkeypatch.setattr(model, "MAX_PAIR_ITEMS", 25)
    rng = np.random.default_rng(9)
    np.save(tmp_path / "e.npy", rng.standard_normal((200, 4)))
    np.save(tmp_path / "e.pairs.npy", _pairs(rng, m=60, k=1, d=4))
    config = AuditConfig(tests=("norms",), projections=0, subspaces=0)
    entry = audit_file(tmp_path / "e.npy", config)["views"]["raw"]["pairs"]
    assert entry["n_items"] == 25 and entry["items_subsample"] == {"kept": 25, "of": 60, "seed": 0}
