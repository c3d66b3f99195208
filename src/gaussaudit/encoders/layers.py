"""Layer selection and small picklable helpers shared by the encoder families.

Which layer is audited matters (PAPER.md §3.3, §4): "last-layer embeddings" of a
classifier are its penultimate pooled features, not its logits. This module
provides

- :func:`penultimate_module`, which turns a classifier into a feature extractor
  by replacing its final classifier with ``Identity``;
- :func:`capture_layer`, which returns a forward function that runs a model and
  returns the output of any named submodule (captured with a forward hook);
- :func:`infer_dim`, a dry run that measures the output dimension;
- top-level, picklable item transforms and collates (:class:`ToRGB`,
  :func:`identity`, :func:`to_float_tensor`, :func:`stack_tensors`) for
  DataLoader workers, which cannot pickle lambdas.

torch is imported inside functions only.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import UnknownNameError

__all__ = [
    "CLASSIFIER_ATTRIBUTES",
    "LayerCapture",
    "ToRGB",
    "call_module",
    "capture_layer",
    "identity",
    "infer_dim",
    "layer_choices",
    "penultimate_module",
    "short_choices",
    "stack_tensors",
    "to_float_tensor",
]

#: Final classifier attribute of each torchvision family (``fc`` for ResNets,
#: ``classifier`` for DenseNets, ``heads`` for torchvision ViTs).
CLASSIFIER_ATTRIBUTES = {"resnet": "fc", "densenet": "classifier", "vit": "heads"}

_MAX_LISTED = 40


# ---------------------------------------------------------------------------
# picklable item transforms and collates
# ---------------------------------------------------------------------------


class ToRGB:
    """Convert a PIL image of any mode (``L``, ``RGBA``, ``P``, ...) to ``RGB``.

    Grayscale images are replicated to three channels and alpha is dropped.
    Arrays and tensors are passed through unchanged. Picklable, so it can run
    in DataLoader workers.
    """

    def __call__(self, img: Any) -> Any:
        """Return ``img`` as an RGB image."""
        convert = getattr(img, "convert", None)
        if convert is not None and getattr(img, "mode", "RGB") != "RGB":
            return convert("RGB")
        return img

    def __repr__(self) -> str:
        return "ToRGB()"


def identity(item: Any) -> Any:
    """Return ``item`` unchanged (the transform of text encoders)."""
    return item


def to_float_tensor(item: Any) -> Any:
    """Convert a 1-D array-like to a float32 torch tensor."""
    import numpy as np
    import torch

    return torch.from_numpy(np.ascontiguousarray(item, dtype=np.float32))


def stack_tensors(items: list) -> Any:
    """Stack a list of equally shaped tensors into one batch tensor."""
    import torch

    return torch.stack(list(items))


# ---------------------------------------------------------------------------
# layers
# ---------------------------------------------------------------------------


def penultimate_module(model: Any, family: str) -> tuple[Any, str]:
    """Replace the final classifier of ``model`` by ``Identity``, in place.

    The model's own ``forward`` then returns its penultimate pooled features:
    the flattened ``avgpool`` output for ResNets, ``features`` + ReLU +
    adaptive average pool for DenseNets, and the class token after the final
    LayerNorm for torchvision ViTs.

    Parameters
    ----------
    model : torch.nn.Module
        A torchvision classifier.
    family : str
        ``resnet``, ``densenet`` or ``vit`` (a model name such as
        ``resnet50`` or ``vit_b_16`` also works); any other value falls back to
        the first of ``fc``, ``classifier``, ``heads``, ``head`` that exists.

    Returns
    -------
    model : torch.nn.Module
        The same object, modified.
    attribute : str
        The name of the replaced classifier attribute.
    """
    from torch import nn

    attribute = None
    for prefix, attr in CLASSIFIER_ATTRIBUTES.items():
        if family.startswith(prefix):
            attribute = attr
            break
    if attribute is None or not hasattr(model, attribute):
        for attr in ("fc", "classifier", "heads", "head"):
            if isinstance(getattr(model, attr, None), nn.Module):
                attribute = attr
                break
        else:
            raise ValueError(f"cannot find the classifier of a {type(model).__name__} model")
    setattr(model, attribute, nn.Identity())
    return model, attribute


def short_choices(
    name: str, names: Sequence[str], *, limit: int = _MAX_LISTED, first: Sequence[str] = ()
) -> list[str]:
    """Shorten a list of valid names for an error message.

    Puts ``first`` and the names closest to ``name`` up front, then the others
    up to ``limit``, then a ``"... and N more"`` entry.

    Parameters
    ----------
    name : str
        The name that was not found.
    names : sequence of str
        Every valid name.
    limit : int
        How many names to list at most.
    first : sequence of str
        Names always listed first (e.g. special layer names).

    Returns
    -------
    list of str
    """
    close = difflib.get_close_matches(name, list(names), n=5, cutoff=0.5)
    out: list[str] = []
    for n in (*first, *close, *names):
        if n not in out:
            out.append(n)
        if len(out) >= limit:
            break
    rest = len(set(names) - set(out))
    if rest > 0:
        out.append(f"... and {rest} more")
    return out


def layer_choices(module: Any, special: Sequence[str] = (), name: str = "") -> list[str]:
    """List the module names of ``module`` for an error message.

    Top-level children come first, then dotted names in depth order, truncated.

    Parameters
    ----------
    module : torch.nn.Module
    special : sequence of str
        Non-module layer names the family accepts (``penultimate``, ...).
    name : str
        The unknown name, used to list the closest matches first.

    Returns
    -------
    list of str
    """
    names = [n for n, _ in module.named_modules() if n]
    names.sort(key=lambda n: n.count("."))
    return short_choices(name, names, first=special)


def _resolve_submodule(module: Any, layer_name: str, special: Sequence[str] = ()) -> Any:
    modules = dict(module.named_modules())
    if not layer_name or layer_name not in modules:
        raise UnknownNameError("layer", layer_name, layer_choices(module, special, layer_name))
    return modules[layer_name]


def _first_tensor(out: Any) -> Any:
    import torch

    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, dict):
        out = list(out.values())
    if isinstance(out, (list, tuple)):
        for item in out:
            found = _first_tensor(item)
            if found is not None:
                return found
    return getattr(out, "last_hidden_state", None)


def call_module(module: Any, batch: Any) -> Any:
    """Run ``module(batch)`` (the default model call of :func:`capture_layer`)."""
    return module(batch)


class LayerCapture:
    """Forward function returning the output of one named submodule.

    Created by :func:`capture_layer`. On each call it registers a forward hook
    on ``module.get_submodule(layer_name)``, runs ``run(module, batch)``,
    removes the hook and returns the captured output as ``(B, features)``:
    4-D feature maps ``(B, C, H, W)`` are global-average-pooled to ``(B, C)``
    (and :attr:`pooled` becomes ``True``); anything else is flattened, so a
    token sequence ``(B, T, C)`` gives ``T * C`` features (its dimension then
    depends on ``T``: pick a pooled layer for variable-length text). Tuple or
    dict outputs contribute their first tensor.

    Attributes
    ----------
    layer_name : str
    run : callable
        ``run(module, batch)``; its return value is ignored.
    pooled : bool or None
        Whether the captured output was a feature map that was pooled;
        ``None`` until the first call.
    """

    def __init__(
        self, layer_name: str, run: Callable[[Any, Any], Any] = call_module, special=()
    ) -> None:
        self.layer_name = layer_name
        self.run = run
        self.special = tuple(special)
        self.pooled: bool | None = None

    def __call__(self, module: Any, batch: Any) -> Any:
        """Run the model on ``batch``; return the layer's output as ``(B, features)``."""
        target = _resolve_submodule(module, self.layer_name, self.special)
        captured: list[Any] = []

        def hook(_mod: Any, _inp: Any, out: Any) -> None:
            captured.append(out)

        handle = target.register_forward_hook(hook)
        try:
            self.run(module, batch)
        finally:
            handle.remove()
        if not captured:
            raise RuntimeError(f"layer {self.layer_name!r} was not called by the model's forward")
        out = _first_tensor(captured[-1])
        if out is None:
            raise RuntimeError(f"layer {self.layer_name!r} returned no tensor")
        if out.ndim == 4:
            self.pooled = True
            return out.float().mean(dim=(2, 3))
        self.pooled = False
        return out.float().flatten(1) if out.ndim > 1 else out.float().unsqueeze(1)

    def __repr__(self) -> str:
        return f"LayerCapture({self.layer_name!r})"


def capture_layer(
    module: Any,
    layer_name: str,
    *,
    run: Callable[[Any, Any], Any] = call_module,
    special: Sequence[str] = (),
) -> LayerCapture:
    """Forward function returning the output of submodule ``layer_name``.

    Parameters
    ----------
    module : torch.nn.Module
        The model; ``layer_name`` is a name from ``module.named_modules()``
        (top-level such as ``layer3`` or dotted such as ``layer3.1.conv2``).
    layer_name : str
    run : callable, optional
        ``run(module, batch)`` drives the model (default ``module(batch)``;
        e.g. ``encode_image`` for CLIP).
    special : sequence of str
        Family-specific layer names, listed first in the error message.

    Returns
    -------
    LayerCapture
        ``forward(module, batch) -> (B, features)``; 4-D outputs are
        global-average-pooled (see :attr:`LayerCapture.pooled`).

    Raises
    ------
    UnknownNameError
        When ``module`` has no submodule of that name; the message lists the
        available names (top-level first, truncated).
    """
    _resolve_submodule(module, layer_name, special)
    return LayerCapture(layer_name, run, special)


def infer_dim(encoder_forward: Callable[..., Any], example_batch: Any, module: Any = None) -> int:
    """Output dimension of ``encoder_forward`` from a dry run.

    Parameters
    ----------
    encoder_forward : callable
        ``forward(module, batch) -> (B, dim)`` tensor, or ``forward(batch)``
        when ``module`` is None.
    example_batch : Any
        A collated batch (one or two items suffice).
    module : torch.nn.Module, optional
        The module passed to ``encoder_forward`` (put in eval mode by the caller).

    Returns
    -------
    int
    """
    import torch

    with torch.inference_mode():
        if module is None:
            out = encoder_forward(example_batch)
        else:
            out = encoder_forward(module, example_batch)
    return int(out.flatten(1).shape[1]) if out.ndim != 2 else int(out.shape[1])
