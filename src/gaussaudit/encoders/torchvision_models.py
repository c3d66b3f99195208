"""torchvision ImageNet classifiers: ``resnet18/34/50``, ``densenet121``, ``vit_b_16``.

Weights
    ``default``
        torchvision's ``DEFAULT`` weights enum, with its own preprocessing
        (``weights.transforms()``). Downloaded once into
        ``torch.hub.get_dir()/checkpoints``; when that fails (offline) a
        :class:`~gaussaudit.errors.ResourceUnavailableError` (exit 3) names
        the cache and the fixes.
    ``none``
        Random initialisation (no download) with the standard ImageNet
        preprocessing: Resize 256, CenterCrop 224, ToTensor, Normalize.
    a path
        A state dict (``torch.load(path, weights_only=True)``; a raw state dict
        or a dict with a ``state_dict`` or ``model`` key) for the full
        classifier, with the standard ImageNet preprocessing.

Layers
    ``penultimate`` (default)
        The paper's "last-layer embeddings": the classifier is replaced by
        ``Identity``, so ResNets give the flattened ``avgpool`` output (512 or
        2048), DenseNet-121 ``features`` + ReLU + adaptive average pool (1024)
        and ViT-B/16 the class token before ``heads`` (768).
    ``logits``
        The full classifier output (1000).
    any module name
        Its output via a forward hook (feature maps are global-average-pooled),
        e.g. ``layer3`` of a ResNet (256 for resnet18).

Every image goes through :class:`~gaussaudit.encoders.layers.ToRGB` first, so
grayscale and RGBA images are accepted.
"""

from __future__ import annotations

from http.client import HTTPException
from pathlib import Path
from typing import Any

from ..errors import ResourceUnavailableError, UsageError
from .base import Encoder, EncoderSpec
from .layers import (
    ToRGB,
    call_module,
    capture_layer,
    infer_dim,
    penultimate_module,
    stack_tensors,
)

__all__ = [
    "ARCHITECTURES",
    "create",
    "load_state_dict_file",
    "standard_imagenet_transform",
    "weights_file",
]

#: Architecture name -> (family, input size).
ARCHITECTURES = {
    "resnet18": ("resnet", 224),
    "resnet34": ("resnet", 224),
    "resnet50": ("resnet", 224),
    "densenet121": ("densenet", 224),
    "vit_b_16": ("vit", 224),
}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
SPECIAL_LAYERS = ("penultimate", "logits")


def standard_imagenet_transform(size: int = 224) -> Any:
    """Resize ``size*256/224``, CenterCrop ``size``, ToTensor, ImageNet Normalize.

    Parameters
    ----------
    size : int
        The crop size the model takes.

    Returns
    -------
    torchvision.transforms.Compose
    """
    from torchvision import transforms as T

    return T.Compose(
        [
            T.Resize(round(size * 256 / 224)),
            T.CenterCrop(size),
            T.ToTensor(),
            T.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
    )


def load_state_dict_file(path: str | Path) -> dict:
    """Read a state dict saved with ``torch.save``, safely (``weights_only=True``).

    Accepts a raw state dict or a dict with a ``state_dict`` or ``model`` key;
    a ``module.`` prefix (from ``DataParallel``) is stripped.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict
        Parameter name -> tensor.

    Raises
    ------
    UsageError
        When the file cannot be read as a state dict.
    """
    import torch

    from .weights import load_tensors

    obj = load_tensors(path)
    if isinstance(obj, dict):
        for key in ("state_dict", "model"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise UsageError(f"weights file {str(path)!r} does not hold a state dict")
    if obj and all(k.startswith("module.") for k in obj):
        obj = {k[len("module.") :]: v for k, v in obj.items()}
    return obj


def weights_file(weights: str) -> Path:
    """Check that ``weights`` (not ``default``/``none``) names an existing file.

    Parameters
    ----------
    weights : str

    Returns
    -------
    Path

    Raises
    ------
    UsageError
        When it is not a file.
    """
    path = Path(weights).expanduser()
    if not path.is_file():
        raise UsageError(
            "weights must be 'default', 'none' or a path to a state dict; "
            f"{weights!r} is not a file"
        )
    return path


def _download_error(what: str, url: str | None, err: Exception) -> ResourceUnavailableError:
    import torch

    cache = Path(torch.hub.get_dir()) / "checkpoints"
    source = f" from {url}" if url else ""
    return ResourceUnavailableError(
        f"cannot download the {what} weights{source} ({type(err).__name__}: {err}); "
        f"once downloaded they are cached in {cache}. Connect to the internet once to fetch "
        "them, or pass weights=PATH (a saved state dict) or weights='none' (random init).",
        option="weights",
    )


def create(
    spec: EncoderSpec,
    argument: str | None,
    *,
    weights: str = "default",
    layer: str | None = None,
    modality: str = "image",
    **_: Any,
) -> Encoder:
    """Build a torchvision classifier encoder.

    Parameters
    ----------
    spec : EncoderSpec
        The registry entry (its name is the architecture).
    argument : str or None
        Unused.
    weights : str
        ``default``, ``none`` or a path to a state dict.
    layer : str, optional
        ``penultimate`` (default), ``logits`` or a module name.
    modality : str
        Must be ``image``.
    **_
        Ignored options.

    Returns
    -------
    Encoder

    Raises
    ------
    ResourceUnavailableError
        When the default weights are not cached and cannot be downloaded.
    UnknownNameError
        For an unknown layer name.
    """
    from PIL import Image
    from torchvision import models
    from torchvision import transforms as T

    arch = spec.name
    if arch not in ARCHITECTURES:
        raise UsageError(f"unknown torchvision architecture {arch!r}")
    if modality != "image":
        raise UsageError(f"encoder {arch!r} takes image input, not {modality!r}")
    family, size = ARCHITECTURES[arch]
    builder = getattr(models, arch)
    info: dict[str, Any] = {"family": "torchvision", "architecture": arch}

    if weights == "default":
        enum = models.get_model_weights(arch).DEFAULT
        try:
            model = builder(weights=enum)
        except (OSError, HTTPException, EOFError) as err:
            raise _download_error(f"torchvision {arch} {enum}", enum.url, err) from err
        preprocess = enum.transforms()
        info["pretrained"] = str(enum)
        info["weights_url"] = enum.url
    elif weights == "none":
        model = builder(weights=None)
        preprocess = standard_imagenet_transform(size)
        info["pretrained"] = None
    else:
        path = weights_file(weights)
        model = builder(weights=None)
        state = load_state_dict_file(path)
        try:
            model.load_state_dict(state)
        except RuntimeError as err:
            raise UsageError(f"{path} is not a state dict of torchvision {arch}: {err}") from err
        preprocess = standard_imagenet_transform(size)
        info["pretrained"] = str(path)
    model.eval()

    layer = layer or "penultimate"
    if layer == "penultimate":
        _, replaced = penultimate_module(model, family)
        forward = call_module
        dim = spec.dim
        info["layer_detail"] = f"classifier '{replaced}' replaced by Identity"
    elif layer == "logits":
        forward = call_module
        dim = None
    else:
        forward = capture_layer(model, layer, special=SPECIAL_LAYERS)
        dim = None

    transform = T.Compose([ToRGB(), preprocess])
    if dim is None:
        example = stack_tensors([transform(Image.new("RGB", (size, size)))])
        dim = infer_dim(forward, example, model)
        if getattr(forward, "pooled", False):
            info["layer_detail"] = f"output of '{layer}' global-average-pooled to (B, C)"
    info["transform"] = (
        "PIL images converted to RGB (grayscale replicated, alpha dropped); " + repr(preprocess)
    )
    return Encoder(
        name=arch,
        module=model,
        modality="image",
        dim=int(dim),
        layer=layer,
        weights=weights,
        transform=transform,
        collate=stack_tensors,
        forward=forward,
        info=info,
    )
