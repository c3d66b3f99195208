"""Encoders from your own code: ``package.module:callable``.

The callable is imported and called with no arguments. It returns

- a ``torch.nn.Module`` (called as ``module(batch)``),
- a tuple ``(module, transform)`` where ``transform`` maps one raw dataset
  item (a PIL image of any mode, a string or an array) to model input; it is
  used as is, so it must handle grayscale/RGBA images itself, and it should
  be picklable for DataLoader workers (a torchvision transform or a top-level
  function, not a lambda), or
- a ready :class:`~gaussaudit.encoders.base.Encoder`, used as is.

Default per-item transforms by ``modality``:

``image`` (default)
    PIL image -> RGB -> ``ToTensor`` (no resizing: the module must accept the
    dataset's image size); batches are stacked.
``text``
    Items pass through; a batch is the list of strings.
``vector``
    1-D arrays -> float32 tensors; batches are stacked into ``(B, n)``.

The output dimension is measured by a dry run on one dummy item (a 32x32
image, the string ``"a"``, or a zero vector as long as the first
``nn.Linear``'s ``in_features``) unless the option ``dim`` is given; pass
``example=ITEM`` when the dummy does not fit the module. ``weights=PATH``
loads a state dict into the returned module; ``default`` and ``none`` use it
as returned. ``layer`` may name a submodule (forward hook).
"""

from __future__ import annotations

from typing import Any

from ..errors import UsageError
from ..registry import load_object
from .base import Encoder, EncoderSpec
from .layers import (
    ToRGB,
    call_module,
    capture_layer,
    identity,
    infer_dim,
    stack_tensors,
    to_float_tensor,
)

__all__ = ["create", "default_transform"]

SPECIAL_LAYERS = ("output",)


def default_transform(modality: str) -> Any:
    """Return the per-item transform used when the callable gives none.

    Parameters
    ----------
    modality : str
        ``image``, ``text`` or ``vector``.

    Returns
    -------
    callable
        Picklable.
    """
    if modality == "image":
        from torchvision import transforms as T

        return T.Compose([ToRGB(), T.ToTensor()])
    if modality == "text":
        return identity
    if modality == "vector":
        return to_float_tensor
    raise UsageError(f"unknown modality {modality!r}; choose image, text or vector")


def _dummy_item(module: Any, modality: str) -> Any:
    if modality == "image":
        from PIL import Image

        return Image.new("RGB", (32, 32))
    if modality == "text":
        return "a"
    import numpy as np
    from torch import nn

    linear = next((m for m in module.modules() if isinstance(m, nn.Linear)), None)
    if linear is None:
        raise UsageError(
            "cannot guess the input length of this vector encoder: pass the option "
            "dim=OUTPUT_DIM or example=AN_ITEM"
        )
    return np.zeros(linear.in_features, dtype=np.float32)


def create(
    spec: EncoderSpec,
    argument: str | None,
    *,
    weights: str = "default",
    layer: str | None = None,
    modality: str = "image",
    **options: Any,
) -> Encoder:
    """Build an encoder from ``package.module:callable``.

    Parameters
    ----------
    spec : EncoderSpec
    argument : str
        ``package.module:callable``.
    weights : str
        ``default``/``none`` (the module as returned) or a state-dict path.
    layer : str, optional
        ``output`` (default: the module's output) or a submodule name.
    modality : str
        ``image``, ``text`` or ``vector``.
    **options
        ``dim`` (skip the dry run), ``example`` (an item for the dry run).

    Returns
    -------
    Encoder

    Raises
    ------
    UsageError
        When the callable cannot be imported or returns something unusable.
    """
    from torch import nn

    target = argument or spec.name
    obj = load_object(target)
    if not callable(obj):
        raise UsageError(f"{target!r} is not callable")
    result = obj()
    if isinstance(result, Encoder):
        return result
    transform = None
    if isinstance(result, tuple):
        if len(result) != 2:
            raise UsageError(
                f"{target!r} returned a tuple of {len(result)}; expected (module, transform)"
            )
        result, transform = result
    if not isinstance(result, nn.Module):
        raise UsageError(
            f"{target!r} returned {type(result).__name__}; expected a torch.nn.Module, "
            "a (module, transform) tuple or an Encoder"
        )
    module = result
    info: dict[str, Any] = {"family": "callable", "callable": target}
    if weights not in ("default", "none"):
        from .torchvision_models import load_state_dict_file, weights_file

        path = weights_file(weights)
        try:
            module.load_state_dict(load_state_dict_file(path))
        except RuntimeError as err:
            raise UsageError(f"{path} does not fit the module of {target!r}: {err}") from err
        info["pretrained"] = str(path)
    module.eval()

    if transform is None:
        transform = default_transform(modality)
        info["transform"] = {
            "image": "PIL images converted to RGB (grayscale replicated, alpha dropped); ToTensor",
            "text": "none (a batch is the list of strings)",
            "vector": "1-D arrays as float32 tensors",
        }[modality]
    else:
        info["transform"] = repr(transform)
    collate = identity if modality == "text" else stack_tensors

    layer = layer or "output"
    if layer in SPECIAL_LAYERS:
        layer = "output"
        forward: Any = call_module
    else:
        forward = capture_layer(module, layer, special=SPECIAL_LAYERS)

    dim = options.get("dim")
    if dim is None or layer != "output":
        example = options.get("example")
        if example is None:
            example = _dummy_item(module, modality)
        dim = infer_dim(forward, collate([transform(example)]), module)
        if getattr(forward, "pooled", False):
            info["layer_detail"] = f"output of '{layer}' global-average-pooled to (B, C)"
    return Encoder(
        name=target,
        module=module,
        modality=modality,
        dim=int(dim),
        layer=layer,
        weights=weights,
        transform=transform,
        collate=collate,
        forward=forward,
        info=info,
    )
