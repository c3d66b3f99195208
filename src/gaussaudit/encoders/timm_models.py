"""timm models: ``timm:NAME`` (any name ``timm.list_models()`` knows, with an optional tag).

The paper's DINO is ``timm:vit_base_patch16_224.dino`` (official DINO ViT-B/16,
768-d). The paper writes "ViT-B/32", but the official DINO release has no
B/32 checkpoint (only ViT-S/16, S/8, B/16, B/8; PAPER.md §4.1), so B/16 is
the closest official model; ``timm:vit_base_patch8_224.dino`` is the B/8.

The model is created with ``num_classes=0``, so its output is the pooled
pre-logits features (the class token for DINO ViTs, the global average pool
for CNNs). Preprocessing is the model's own: ``timm.data.resolve_data_config``
plus ``timm.data.create_transform``, preceded by a conversion of every PIL
image to RGB.

Weights
    ``default``
        ``pretrained=True`` (downloaded once from the Hugging Face hub; a
        failure raises :class:`~gaussaudit.errors.ResourceUnavailableError`,
        exit 3). Note that huggingface_hub retries for about a minute before
        giving up when offline; set ``HF_HUB_OFFLINE=1`` to fail at once.
    ``none``
        Random initialisation, no download.
    a path
        A checkpoint file loaded by timm (``pretrained_cfg_overlay={"file": PATH}``).

Layers
    ``penultimate`` (default): pooled pre-logits features; ``logits``: the
    classifier output (model created with its default ``num_classes``); any
    module name: its output via a forward hook.
"""

from __future__ import annotations

from http.client import HTTPException
from pathlib import Path
from typing import Any

from ..errors import MissingExtraError, ResourceUnavailableError, UnknownNameError, UsageError
from .base import Encoder, EncoderSpec
from .layers import ToRGB, call_module, capture_layer, infer_dim, short_choices, stack_tensors

__all__ = ["PAPER_DINO", "create"]

#: The timm name of the paper's DINO model (see the module docstring).
PAPER_DINO = "vit_base_patch16_224.dino"
SPECIAL_LAYERS = ("penultimate", "logits")


def create(
    spec: EncoderSpec,
    argument: str | None,
    *,
    weights: str = "default",
    layer: str | None = None,
    modality: str = "image",
    **_: Any,
) -> Encoder:
    """Build a timm image encoder.

    Parameters
    ----------
    spec : EncoderSpec
    argument : str
        The timm model name, e.g. ``vit_base_patch16_224.dino``.
    weights : str
        ``default`` (pretrained), ``none`` (random) or a checkpoint path.
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
    MissingExtraError
        Without timm installed.
    UnknownNameError
        For a name timm does not know.
    ResourceUnavailableError
        When the pretrained weights cannot be downloaded.
    """
    try:
        import timm
        import timm.data
    except ImportError as err:
        raise MissingExtraError("timm", "vision", "timm encoders") from err
    from PIL import Image
    from torchvision import transforms as T

    name = argument or ""
    if not name:
        raise UsageError("timm encoders are named timm:NAME, e.g. timm:" + PAPER_DINO)
    if modality != "image":
        raise UsageError(f"timm encoders take image input, not {modality!r}")
    if not timm.is_model(name):
        base = name.split(".")[0]
        raise UnknownNameError("timm model", name, short_choices(base, timm.list_models()))
    if "." in name and name not in timm.list_pretrained(name):
        base = name.split(".")[0]
        raise UnknownNameError(
            "timm model", name, short_choices(name, timm.list_pretrained(base + ".*"))
        )

    layer = layer or "penultimate"
    kwargs: dict[str, Any] = {} if layer == "logits" else {"num_classes": 0}
    if weights == "none":
        kwargs["pretrained"] = False
    elif weights == "default":
        kwargs["pretrained"] = True
    else:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise UsageError(
                f"weights must be 'default', 'none' or a checkpoint path; {weights!r} is not a file"
            )
        from .weights import check_weights_file

        kwargs["pretrained"] = True
        kwargs["pretrained_cfg_overlay"] = {"file": str(check_weights_file(path))}
    try:
        model = timm.create_model(name, **kwargs)
    except (OSError, HTTPException, EOFError) as err:
        raise ResourceUnavailableError(
            f"cannot download the pretrained weights of timm:{name} ({type(err).__name__}: {err}). "
            "Connect to the internet once (they are cached by huggingface_hub), "
            "or pass weights=PATH or weights='none' for random weights.",
            option="weights",
        ) from err
    model.eval()

    cfg = timm.data.resolve_data_config({}, model=model)
    preprocess = timm.data.create_transform(**cfg)
    transform = T.Compose([ToRGB(), preprocess])
    info: dict[str, Any] = {
        "family": "timm",
        "architecture": name,
        "pretrained": (
            getattr(model, "pretrained_cfg", {}).get("hf_hub_id") or name
            if kwargs["pretrained"]
            else None
        ),
        "data_config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.items()},
        "transform": "PIL images converted to RGB; " + repr(preprocess),
    }
    if weights not in ("default", "none"):
        info["pretrained"] = weights

    if layer in SPECIAL_LAYERS:
        forward = call_module
    else:
        forward = capture_layer(model, layer, special=SPECIAL_LAYERS)
    size = cfg["input_size"][-1]
    example = stack_tensors([transform(Image.new("RGB", (size, size)))])
    dim = infer_dim(forward, example, model)  # a dry run: head_hidden_size varies by model
    if getattr(forward, "pooled", False):
        info["layer_detail"] = f"output of '{layer}' global-average-pooled to (B, C)"
    return Encoder(
        name=f"timm:{name}",
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
