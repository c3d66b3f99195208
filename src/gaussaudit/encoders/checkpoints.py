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
latest **finished** run of the trainer under ``RUNS`` (``runs_dir``, default
``runs``) whose method and architecture match is used: a run is finished when
the kept checkpoint of its last epoch (``checkpoint-epoch<epochs>.pt``)
exists, and that file is taken. When only unfinished runs exist, the newest
one's ``last.pt`` is used and one line on standard error names the run and the
epoch taken ("UNFINISHED ... epoch 1 of 3"); the encoder's info records it
(``unfinished``, ``epochs``). Checkpoints outside trainer runs (files
``RUNS/*/checkpoint*.pt``, ``RUNS/*/last.pt``, ``RUNS/*/checkpoints/*.pt``
without a ``config.json`` beside them) count as finished unless their
recorded ``epochs`` exceed their ``epoch``. ``weights="none"`` without a
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
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ResourceUnavailableError, UsageError
from .base import Encoder, EncoderSpec
from .layers import capture_layer, stack_tensors

# FORMAT, save_checkpoint, load_checkpoint, ToChannels and the normalisations
# are still importable from here (module __getattr__), but belong to the trainer.
__all__ = [
    "CheckpointChoice",
    "backbone_forward",
    "create",
    "find_latest_checkpoint",
    "head_forward",
    "no_run_message",
    "select_checkpoint",
]

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


@dataclass(frozen=True)
class CheckpointChoice:
    """The checkpoint the encoders take from a runs directory, and how finished it is.

    Attributes
    ----------
    path : Path
    finished : bool
    epoch : int or None
        Epochs the checkpoint has trained (None when not known without loading it).
    epochs : int or None
        Epochs its run was asked for (None when not recorded).
    run_dir : Path
    dataset : str or None
        The run's dataset (None outside trainer runs).
    """

    path: Path
    finished: bool
    epoch: int | None
    epochs: int | None
    run_dir: Path
    dataset: str | None = None


def _legacy_candidates(runs_dir: Path, skip: set[Path]) -> list[Path]:
    """Checkpoint files in run directories without a trainer ``config.json``, newest first."""
    found: set[Path] = set()
    for pattern in ("*/checkpoint*.pt", "*/last.pt", "*/checkpoints/*.pt"):
        found.update(p for p in runs_dir.glob(pattern) if p.is_file() and p.parent not in skip)
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def _trainer_runs(runs: Path, method: str, arch: str) -> tuple[list[CheckpointChoice], set[Path]]:
    """Return the trainer runs (with ``config.json``) of this method and arch, and all run dirs."""
    from ..train.runs import run_status

    choices, seen = [], set()
    for run_dir in sorted(p for p in runs.iterdir() if p.is_dir()):
        status = run_status(run_dir)
        if status is None:
            continue
        seen.add(run_dir)
        if status.method != method or status.arch != arch or status.checkpoint is None:
            continue
        choices.append(
            CheckpointChoice(
                status.checkpoint,
                status.finished,
                status.epoch,
                status.epochs,
                run_dir,
                status.dataset,
            )
        )
    return choices, seen


def _legacy_choice(runs: Path, skip: set[Path], method: str, arch: str) -> CheckpointChoice | None:
    """Return the newest matching checkpoint outside trainer runs (loaded and verified)."""
    from ..train.checkpoint import CheckpointError, load_checkpoint

    for path in _legacy_candidates(runs, skip):
        try:
            ckpt = load_checkpoint(path)
        except CheckpointError:
            raise  # a damaged or unverifiable run is reported, never silently passed over
        except UsageError:
            continue
        if ckpt.get("method") == method and ckpt.get("arch") == arch:
            epoch = ckpt.get("epoch")
            epochs = (ckpt.get("config") or {}).get("epochs")
            unfinished = isinstance(epochs, int) and isinstance(epoch, int) and epoch < epochs
            return CheckpointChoice(path, not unfinished, epoch, epochs, path.parent)
    return None


def select_checkpoint(
    runs_dir: str | os.PathLike, method: str, arch: str = ARCH
) -> CheckpointChoice | None:
    """Choose the checkpoint of the latest finished run (else the newest unfinished one).

    Parameters
    ----------
    runs_dir : str or PathLike
        Directory holding one subdirectory per run.
    method : str
    arch : str

    Returns
    -------
    CheckpointChoice or None
        None when no run matches.

    Raises
    ------
    CheckpointError
        When a checkpoint outside trainer runs fails its integrity check (it is
        not skipped).
    """
    runs = Path(runs_dir)
    if not runs.is_dir():
        return None
    choices, seen = _trainer_runs(runs, method, arch)
    legacy = _legacy_choice(runs, seen, method, arch)
    if legacy is not None:
        choices.append(legacy)
    if not choices:
        return None
    newest_first = sorted(choices, key=lambda c: c.path.stat().st_mtime, reverse=True)
    return next((c for c in newest_first if c.finished), newest_first[0])


def find_latest_checkpoint(
    runs_dir: str | os.PathLike, method: str, arch: str = ARCH
) -> Path | None:
    """Find the checkpoint the encoders would take in ``runs_dir`` (see :func:`select_checkpoint`).

    Parameters
    ----------
    runs_dir : str or PathLike
        Directory holding one subdirectory per run.
    method : str
    arch : str

    Returns
    -------
    Path or None
        The latest finished run's final checkpoint, else the newest unfinished
        run's; None when no run matches.

    Raises
    ------
    CheckpointError
        When a candidate fails its integrity check (it is not skipped).
    """
    choice = select_checkpoint(runs_dir, method, arch)
    return None if choice is None else choice.path


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


def _fashion_mnist_found() -> bool:
    """Whether Fashion-MNIST loads offline here (without reading it)."""
    try:
        from ..datasets.idx import _default_roots, find_fashion_mnist

        return any(find_fashion_mnist(root, "train") is not None for root in _default_roots())
    except Exception:  # a layout this check does not know: suggest installing it
        return False


def no_run_message(name: str, method: str, runs: Path) -> str:
    """Say that no run exists, and suggest a command that can run offline here.

    Parameters
    ----------
    name : str
        Encoder name (``resnet18-simclr``).
    method : str
    runs : Path
        The runs directory searched.

    Returns
    -------
    str
    """
    runs_opt = "" if str(runs) == DEFAULT_RUNS_DIR else f" --runs-dir {runs}"
    train = f"gaussaudit train {method} fashion-mnist --preset cpu{runs_opt}"
    if _fashion_mnist_found():
        how = f"train one offline with '{train}' (a few minutes on 2 CPU cores)"
    else:
        how = (
            f"install Debian's dataset-fashion-mnist (or pass --root DIR with its IDX files), "
            f"then train one offline with '{train}'"
        )
    return f"no trained {name} run in {runs}/; {how}, or pass checkpoint=PATH"


def _checkpoint_path(
    name: str, method: str, checkpoint: str | None, runs_dir: str | None
) -> tuple[Path, CheckpointChoice | None]:
    """Return the checkpoint named, or the one chosen under ``runs_dir`` (with the choice)."""
    if checkpoint is not None:
        return Path(checkpoint).expanduser(), None
    runs = Path(runs_dir or DEFAULT_RUNS_DIR)
    choice = select_checkpoint(runs, method)
    if choice is None:
        raise ResourceUnavailableError(no_run_message(name, method, runs), option="checkpoint")
    if not choice.finished:
        done = f"epoch {choice.epoch} of {choice.epochs}" if choice.epochs else "an early epoch"
        print(
            f"gaussaudit: WARNING: no finished {name} run in {runs}/; using the UNFINISHED run "
            f"{choice.run_dir} at {done} ({choice.path.name}); finish it with 'gaussaudit "
            f"train {method} {choice.dataset or 'DATASET'} --resume --out {choice.run_dir}' "
            "or pass --checkpoint PATH",
            file=sys.stderr,
            flush=True,
        )
    return choice.path, choice


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
        path, choice = _checkpoint_path(spec.name, method, checkpoint, runs_dir)
        model, config, found = _trained_model(path, method)
        info.update(found)
        if choice is not None:
            info["unfinished"] = not choice.finished
            info["epochs"] = choice.epochs
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
