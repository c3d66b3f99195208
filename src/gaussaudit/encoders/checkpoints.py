"""Encoders from trainer checkpoints: ``resnet18-simclr`` and ``resnet18-supervised``.

The checkpoint format (``gaussaudit-checkpoint/1``, with its integrity record)
belongs to the trainer: :mod:`gaussaudit.train.checkpoint` writes and reads it
(``weights_only=True``, digests verified). This module only builds encoders from
such files; it imports the trainer lazily, and the trainer never imports it.
``save_checkpoint``, ``load_checkpoint``, ``FORMAT``, ``ToChannels`` and the
default normalisations are re-exported here for older code.

Resolution
----------
``--checkpoint PATH`` (or ``--weights PATH``) names the file. Otherwise the
newest file (by mtime) among ``RUNS/*/checkpoint*.pt``, ``RUNS/*/last.pt``
and ``RUNS/*/checkpoints/*.pt`` whose ``method`` and ``arch`` match is used
(``RUNS`` = ``runs_dir``, default ``runs``). ``weights="none"`` without a
checkpoint gives a randomly initialised model (for tests).

Layers
------
``penultimate`` / ``backbone`` (default)
    The 512-d average-pooled backbone features (post-ReLU, non-negative).
``head``
    The head output: the 128-d projection for SimCLR, the logits for the
    supervised model. PAPER.md §3.3 suggests auditing both.
any module name
    E.g. ``backbone.layer3``, via a forward hook.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import ResourceUnavailableError, UsageError
from .base import Encoder, EncoderSpec
from .layers import capture_layer, stack_tensors

# FORMAT, save_checkpoint, load_checkpoint, ToChannels and the normalisations
# are still importable from here (module __getattr__), but belong to the trainer.
__all__ = ["backbone_forward", "create", "find_latest_checkpoint", "head_forward"]

ARCH = "resnet18-cifar"
SPECIAL_LAYERS = ("penultimate", "backbone", "head")
DEFAULT_RUNS_DIR = "runs"
#: Names re-exported from the trainer (imported on first use).
_FROM_TRAIN = {
    "FORMAT": "gaussaudit.train.checkpoint",
    "load_checkpoint": "gaussaudit.train.checkpoint",
    "save_checkpoint": "gaussaudit.train.checkpoint",
    "ToChannels": "gaussaudit.train.augment",
    "CIFAR10_MEAN": "gaussaudit.train.augment",
    "CIFAR10_STD": "gaussaudit.train.augment",
    "FASHION_MNIST_MEAN": "gaussaudit.train.augment",
    "FASHION_MNIST_STD": "gaussaudit.train.augment",
}


def __getattr__(name: str) -> Any:
    if name in _FROM_TRAIN:
        import importlib

        return getattr(importlib.import_module(_FROM_TRAIN[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _candidates(runs_dir: Path) -> list[Path]:
    found: set[Path] = set()
    for pattern in ("*/checkpoint*.pt", "*/last.pt", "*/checkpoints/*.pt"):
        found.update(p for p in runs_dir.glob(pattern) if p.is_file())
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def find_latest_checkpoint(
    runs_dir: str | os.PathLike, method: str, arch: str = ARCH
) -> Path | None:
    """Find the newest checkpoint in ``runs_dir`` with this ``method`` and ``arch``.

    Parameters
    ----------
    runs_dir : str or PathLike
        Directory holding one subdirectory per run.
    method : str
    arch : str

    Returns
    -------
    Path or None
        None when no run matches.

    Raises
    ------
    CheckpointError
        When a candidate fails its integrity check (it is not skipped).
    """
    from ..train.checkpoint import CheckpointError, load_checkpoint

    runs = Path(runs_dir)
    if not runs.is_dir():
        return None
    for path in _candidates(runs):
        try:
            ckpt = load_checkpoint(path)
        except CheckpointError:
            raise  # a damaged or unverifiable run is reported, never silently passed over
        except UsageError:
            continue
        if ckpt.get("method") == method and ckpt.get("arch") == arch:
            return path
    return None


def backbone_forward(module: Any, batch: Any) -> Any:
    """Backbone features of a :class:`~gaussaudit.train.models.CheckpointModel`."""
    return module.backbone(batch)


def head_forward(module: Any, batch: Any) -> Any:
    """Head output (projection or logits) of a ``CheckpointModel``."""
    return module(batch)


def _model_from_state(method: str, in_channels: int, state: dict) -> Any:
    from ..train.models import build_model

    kwargs: dict[str, Any] = {}
    if method == "supervised" and "head.fc.weight" in state:
        kwargs["n_classes"] = int(state["head.fc.weight"].shape[0])
    if method == "simclr" and "head.net.3.weight" in state:
        kwargs["proj_hidden"] = int(state["head.net.0.weight"].shape[0])
        kwargs["proj_dim"] = int(state["head.net.3.weight"].shape[0])
    model = build_model(method, in_channels, **kwargs)
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise UsageError(f"checkpoint weights do not fit a {method} {ARCH} model: {err}") from err
    return model


def _checkpoint_path(name: str, method: str, checkpoint: str | None, runs_dir: str | None) -> Path:
    """Return the checkpoint named, or the newest matching one under ``runs_dir``."""
    if checkpoint is not None:
        return Path(checkpoint).expanduser()
    runs = Path(runs_dir or DEFAULT_RUNS_DIR)
    path = find_latest_checkpoint(runs, method)
    if path is None:
        raise ResourceUnavailableError(
            f"no trained {name} run in {runs}/; train one (offline: 'gaussaudit train {method} "
            f"fashion-mnist' with Debian's dataset-fashion-mnist) or pass checkpoint=PATH",
            option="checkpoint",
        )
    return path


def _trained_model(path: Path, method: str) -> tuple[Any, dict, dict]:
    """Load and verify a checkpoint; return the model, its config and what to record."""
    from ..train.checkpoint import load_checkpoint

    ckpt = load_checkpoint(path)
    if ckpt.get("method") != method:
        raise UsageError(
            f"{path} is a {ckpt.get('method')!r} checkpoint; "
            f"use the encoder 'resnet18-{ckpt.get('method')}'"
        )
    if ckpt.get("arch") != ARCH:
        raise UsageError(f"{path} holds a {ckpt.get('arch')!r} model, not {ARCH!r}")
    in_channels = int(ckpt.get("in_channels", 3))
    model = _model_from_state(method, in_channels, ckpt["model"])
    config = dict(ckpt.get("config") or {})
    found = {
        "checkpoint": str(path),
        "run": path.parent.name,
        "epoch": ckpt.get("epoch"),
        "dataset": config.get("dataset"),
        "in_channels": in_channels,
    }
    return model, config, found


def _transform(config: dict, in_channels: int, size: int) -> tuple[Any, str]:
    """Build the evaluation transform a checkpoint's config implies, and describe it."""
    from torchvision import transforms as T

    from ..train.augment import (
        CIFAR10_MEAN,
        CIFAR10_STD,
        FASHION_MNIST_MEAN,
        FASHION_MNIST_STD,
        ToChannels,
    )

    norm = config.get("normalize") if isinstance(config.get("normalize"), dict) else {}
    default_mean, default_std = (
        (FASHION_MNIST_MEAN, FASHION_MNIST_STD) if in_channels == 1 else (CIFAR10_MEAN, CIFAR10_STD)
    )
    mean = tuple(config.get("mean") or norm.get("mean") or default_mean)
    std = tuple(config.get("std") or norm.get("std") or default_std)
    transform = T.Compose(
        [ToChannels(in_channels), T.Resize((size, size)), T.ToTensor(), T.Normalize(mean, std)]
    )
    convert = "grayscale replicated to 3 channels" if in_channels == 3 else "colour to grayscale"
    description = (
        f"PIL images converted to {in_channels} channel(s) ({convert}; alpha dropped), "
        f"resized to {size}x{size} when not already; ToTensor; Normalize(mean={list(mean)}, "
        f"std={list(std)})"
    )
    return transform, description


def _layer_forward(
    model: Any, layer: str, method: str, in_channels: int, size: int
) -> tuple[Any, int, str | None]:
    """Return the forward function, output width and description of a layer."""
    if layer in ("penultimate", "backbone"):
        detail = "backbone: average-pooled ResNet-18 features (post-ReLU)"
        return backbone_forward, int(model.backbone.out_dim), detail
    if layer == "head":
        kind = "SimCLR projection head output" if method == "simclr" else "classifier logits"
        return head_forward, int(model.head.out_dim), f"head: {kind}"
    import torch

    forward = capture_layer(model, layer, special=SPECIAL_LAYERS)
    with torch.inference_mode():
        dim = int(forward(model, torch.zeros(2, in_channels, size, size)).shape[1])
    detail = f"output of '{layer}' global-average-pooled to (B, C)" if forward.pooled else None
    return forward, dim, detail


def create(
    spec: EncoderSpec,
    argument: str | None,
    *,
    weights: str = "default",
    layer: str | None = None,
    modality: str = "image",
    checkpoint: str | None = None,
    runs_dir: str | None = None,
    **options: Any,
) -> Encoder:
    """Build an encoder from a trainer checkpoint.

    Parameters
    ----------
    spec : EncoderSpec
        ``resnet18-simclr`` or ``resnet18-supervised``.
    argument : str or None
        Unused.
    weights : str
        ``default`` (latest run), ``none`` (random model when no checkpoint is
        given) or a checkpoint path.
    layer : str, optional
        ``penultimate``/``backbone`` (default, 512-d), ``head`` or a module name.
    modality : str
        Must be ``image``.
    checkpoint : str, optional
        Explicit checkpoint file.
    runs_dir : str, optional
        Where runs live (default ``runs``).
    **options
        ``in_channels`` and ``n_classes`` for a random model.

    Returns
    -------
    Encoder

    Raises
    ------
    ResourceUnavailableError
        When no checkpoint is given and no matching run exists.
    """
    method = spec.name.split("-", 1)[1]
    if modality != "image":
        raise UsageError(f"encoder {spec.name!r} takes image input, not {modality!r}")
    if checkpoint is None and weights not in ("default", "none"):
        checkpoint = weights
    info: dict[str, Any] = {"family": "checkpoint", "architecture": ARCH, "method": method}
    if checkpoint is None and weights == "none":
        from ..train.models import build_model

        in_channels = int(options.get("in_channels", 3))
        model = build_model(method, in_channels, int(options.get("n_classes", 10)))
        config: dict = {}
        info["checkpoint"] = None
        weights_label = "none"
    else:
        path = _checkpoint_path(spec.name, method, checkpoint, runs_dir)
        model, config, found = _trained_model(path, method)
        info.update(found)
        in_channels = int(found["in_channels"])
        del info["in_channels"]
        weights_label = str(path)
    model.eval()
    size = int(config.get("image_size", 32))
    transform, info["transform"] = _transform(config, in_channels, size)
    info["in_channels"] = in_channels
    layer = layer or "penultimate"
    forward, dim, detail = _layer_forward(model, layer, method, in_channels, size)
    if detail is not None:
        info["layer_detail"] = detail
    return Encoder(
        name=spec.name,
        module=model,
        modality="image",
        dim=dim,
        layer=layer,
        weights=weights_label,
        transform=transform,
        collate=stack_tensors,
        forward=forward,
        info=info,
    )
