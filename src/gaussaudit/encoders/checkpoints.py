"""Encoders from trainer checkpoints: ``resnet18-simclr`` and ``resnet18-supervised``.

Checkpoint format ``gaussaudit-checkpoint/1``
---------------------------------------------
A checkpoint is one file written by ``torch.save`` (use :func:`save_checkpoint`)
holding a dict of plain Python values and tensors only, so it loads with
``torch.load(path, weights_only=True)``:

``format`` : str
    ``"gaussaudit-checkpoint/1"``.
``method`` : str
    ``"simclr"`` or ``"supervised"``.
``arch`` : str
    ``"resnet18-cifar"`` (:class:`~gaussaudit.train.backbones.ResNet18CIFAR`).
``in_channels`` : int
    Image channels the model takes (3, or 1 for Fashion-MNIST).
``model`` : dict
    ``state_dict()`` of the whole :class:`~gaussaudit.train.models.CheckpointModel`
    (keys ``backbone.*`` and ``head.*``), tensors on CPU.
``config`` : dict
    The training configuration. Keys read here: ``mean`` and ``std`` (per
    channel normalisation; default CIFAR-10's, or Fashion-MNIST's for one
    channel), ``image_size`` (default 32), ``dataset``.
``epoch`` : int
    Epochs completed.
``metrics`` : dict
    Anything the trainer measured (losses, audit summaries).

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
import tempfile
from pathlib import Path
from typing import Any

from ..errors import ResourceUnavailableError, UsageError
from .base import Encoder, EncoderSpec
from .layers import capture_layer, stack_tensors

__all__ = [
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "FORMAT",
    "ToChannels",
    "backbone_forward",
    "create",
    "find_latest_checkpoint",
    "head_forward",
    "load_checkpoint",
    "save_checkpoint",
]

FORMAT = "gaussaudit-checkpoint/1"
ARCH = "resnet18-cifar"
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
FASHION_MNIST_MEAN = (0.2860,)
FASHION_MNIST_STD = (0.3530,)
SPECIAL_LAYERS = ("penultimate", "backbone", "head")
DEFAULT_RUNS_DIR = "runs"


def _plain(obj: Any) -> Any:
    """Convert numpy values, paths and tuples to what ``weights_only`` loading accepts."""
    import torch

    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if hasattr(obj, "tolist"):  # numpy scalars and arrays
        return obj.tolist()
    return obj


def save_checkpoint(
    path: str | os.PathLike,
    model: Any,
    *,
    method: str,
    config: dict | None = None,
    epoch: int = 0,
    metrics: dict | None = None,
    arch: str = ARCH,
) -> Path:
    """Write a ``gaussaudit-checkpoint/1`` file atomically.

    The file is written to a temporary file in the same directory and then
    renamed over ``path``, so an interrupted save never leaves a half file.

    Parameters
    ----------
    path : str or PathLike
        Destination (parent directories are created).
    model : torch.nn.Module
        The whole model (a :class:`~gaussaudit.train.models.CheckpointModel`).
    method : str
        ``simclr`` or ``supervised``.
    config : dict, optional
        Training configuration (plain values; numpy scalars and paths are
        converted).
    epoch : int
        Epochs completed.
    metrics : dict, optional
        Measured values.
    arch : str
        Architecture name.

    Returns
    -------
    Path
        ``path``.
    """
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    backbone = getattr(model, "backbone", model)
    in_channels = getattr(backbone, "in_channels", None)
    if in_channels is None:
        first = next((m for m in model.modules() if isinstance(m, torch.nn.Conv2d)), None)
        in_channels = first.in_channels if first is not None else 3
    payload = {
        "format": FORMAT,
        "method": str(method),
        "arch": str(arch),
        "in_channels": int(in_channels),
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "config": _plain(dict(config or {})),
        "epoch": int(epoch),
        "metrics": _plain(dict(metrics or {})),
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a checkpoint written by :func:`save_checkpoint` (``weights_only=True``).

    Parameters
    ----------
    path : str or PathLike

    Returns
    -------
    dict
        The keys described in the module docstring.

    Raises
    ------
    UsageError
        When the file is missing, unreadable, or not a gaussaudit checkpoint.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise UsageError(f"checkpoint {str(path)!r} does not exist")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise UsageError(f"cannot read checkpoint {str(path)!r}: {err}") from err
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise UsageError(f"{str(path)!r} is not a {FORMAT} checkpoint")
    return ckpt


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
    """
    runs = Path(runs_dir)
    if not runs.is_dir():
        return None
    for path in _candidates(runs):
        try:
            ckpt = load_checkpoint(path)
        except UsageError:
            continue
        if ckpt.get("method") == method and ckpt.get("arch") == arch:
            return path
    return None


class ToChannels:
    """Convert a PIL image to ``n`` channels (``L`` for 1, ``RGB`` for 3).

    Grayscale is replicated to three channels; colour is converted to
    luminance for one channel; alpha is dropped. Picklable.
    """

    def __init__(self, channels: int) -> None:
        self.channels = channels

    def __call__(self, img: Any) -> Any:
        """Return ``img`` in mode ``L`` or ``RGB``."""
        mode = "L" if self.channels == 1 else "RGB"
        if getattr(img, "mode", mode) != mode:
            return img.convert(mode)
        return img

    def __repr__(self) -> str:
        return f"ToChannels({self.channels})"


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
    from torchvision import transforms as T

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
        if checkpoint is None:
            runs = Path(runs_dir or DEFAULT_RUNS_DIR)
            path = find_latest_checkpoint(runs, method)
            if path is None:
                raise ResourceUnavailableError(
                    f"no trained {spec.name} run in {runs}/; run 'gaussaudit train {method} "
                    f"cifar10' or pass --checkpoint PATH"
                )
        else:
            path = Path(checkpoint).expanduser()
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
        info.update(
            checkpoint=str(path),
            run=path.parent.name,
            epoch=ckpt.get("epoch"),
            dataset=config.get("dataset"),
        )
        weights_label = str(path)
    model.eval()

    norm = config.get("normalize") if isinstance(config.get("normalize"), dict) else {}
    default_mean, default_std = (
        (FASHION_MNIST_MEAN, FASHION_MNIST_STD) if in_channels == 1 else (CIFAR10_MEAN, CIFAR10_STD)
    )
    mean = tuple(config.get("mean") or norm.get("mean") or default_mean)
    std = tuple(config.get("std") or norm.get("std") or default_std)
    size = int(config.get("image_size", 32))
    transform = T.Compose(
        [ToChannels(in_channels), T.Resize((size, size)), T.ToTensor(), T.Normalize(mean, std)]
    )
    convert = "grayscale replicated to 3 channels" if in_channels == 3 else "colour to grayscale"
    info["transform"] = (
        f"PIL images converted to {in_channels} channel(s) ({convert}; alpha dropped), "
        f"resized to {size}x{size} when not already; ToTensor; Normalize(mean={list(mean)}, "
        f"std={list(std)})"
    )
    info["in_channels"] = in_channels

    layer = layer or "penultimate"
    if layer in ("penultimate", "backbone"):
        forward: Any = backbone_forward
        dim = int(model.backbone.out_dim)
        info["layer_detail"] = "backbone: average-pooled ResNet-18 features (post-ReLU)"
    elif layer == "head":
        forward = head_forward
        dim = int(model.head.out_dim)
        info["layer_detail"] = (
            "head: SimCLR projection head output"
            if method == "simclr"
            else "head: classifier logits"
        )
    else:
        import torch

        forward = capture_layer(model, layer, special=SPECIAL_LAYERS)
        with torch.inference_mode():
            dim = int(forward(model, torch.zeros(2, in_channels, size, size)).shape[1])
        if forward.pooled:
            info["layer_detail"] = f"output of '{layer}' global-average-pooled to (B, C)"
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
