"""The encoder contract shared by every encoder family.

An :class:`Encoder` wraps a torch module with everything extraction needs:
how to turn one dataset item into model input (``transform``, run in
DataLoader workers), how to batch items (``collate``), and how to map a batch
to an ``(B, dim)`` float tensor (``encode``). ``describe()`` is the provenance
written to the sidecar. This module imports torch only inside methods.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MODALITIES", "Encoder", "EncoderSpec"]

MODALITIES = ("image", "text", "vector")


@dataclass(frozen=True)
class EncoderSpec:
    """A registry entry: enough to list an encoder without importing torch.

    Attributes
    ----------
    name : str
        What the user types (``"resnet18"``), or a family prefix (``"timm"``,
        which handles ``"timm:<model>"``).
    family : str
        ``torchvision``, ``openclip``, ``timm``, ``sentence-transformers``,
        ``checkpoint``, ``callable`` or a plugin's own name.
    factory : str
        ``"module:function"`` called as ``factory(spec, argument, **options)``
        returning an :class:`Encoder`; ``argument`` is the text after the prefix.
    modalities : tuple of str
        Inputs it accepts; the first is the default.
    dim : int or None
        Output dimension of the default layer, when known without loading.
    extra : str
        The gaussaudit extra that installs its dependencies.
    description : str
    prefix : bool
        True for a family handling every ``"<name>:<argument>"`` (``timm:``).
    override : bool
        True when a plugin spec deliberately replaces an entry of the same
        name from another source (a built-in or another plugin); without it a
        name collision is an error.
    reuse_default : bool
        Whether an ``embed`` output made with the default weights may be
        reused. False when the default weights change over time (the latest
        trainer run); outputs with pinned weights or a checkpoint are always
        reusable.
    packages : tuple of str
        Distributions whose versions the sidecar records, beyond gaussaudit,
        numpy, torch and the built-in families' packages.

    Examples
    --------
    >>> spec = EncoderSpec("mine", "mine", "my_pkg.model:create", ("vector",), 64, "torch")
    >>> spec.prefix, spec.override
    (False, False)
    """

    name: str
    family: str
    factory: str
    modalities: tuple[str, ...] = ("image",)
    dim: int | None = None
    extra: str = "vision"
    description: str = ""
    prefix: bool = False
    override: bool = False
    reuse_default: bool = True
    packages: tuple[str, ...] = ()


@dataclass
class Encoder:
    """A loaded encoder, ready to embed batches.

    Attributes
    ----------
    name : str
        The registry name it was created from.
    module : torch.nn.Module
        The network (in eval mode).
    modality : str
        ``image``, ``text`` or ``vector``.
    dim : int
        Output dimension of ``encode``.
    layer : str
        Which layer's output ``encode`` returns (``penultimate``, ``head``, a
        module name, ...).
    weights : str
        ``default``, ``none``, a tag or a path.
    transform : callable
        One dataset item -> model input (a tensor, or a string for text).
    collate : callable
        List of transformed items -> batch (tensor or dict of tensors).
    forward : callable
        ``forward(module, batch) -> (B, dim)`` tensor; called under
        ``torch.inference_mode()`` by :meth:`encode`.
    info : dict
        Family-specific provenance (architecture, pretrained tag, transform repr).
    """

    name: str
    module: Any
    modality: str
    dim: int
    layer: str
    weights: str
    transform: Callable[[Any], Any]
    collate: Callable[[list], Any]
    forward: Callable[[Any, Any], Any]
    info: dict = field(default_factory=dict)

    def to(self, device: Any) -> Encoder:
        """Move the module to ``device`` (returns self)."""
        self.module.to(device)
        return self

    def encode(self, batch: Any) -> Any:
        """Embed one collated batch; returns a float tensor of shape (B, dim)."""
        import torch

        with torch.inference_mode():
            out = self.forward(self.module, batch)
        if out.ndim != 2:
            out = out.flatten(1)
        return out

    def describe(self) -> dict:
        """Provenance for the sidecar."""
        return {
            "encoder": self.name,
            "modality": self.modality,
            "dim": self.dim,
            "layer": self.layer,
            "weights": self.weights,
            **self.info,
        }
