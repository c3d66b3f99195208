"""Models the trainer saves: a backbone plus a method-specific head.

``build_model("simclr", 3)`` is a :class:`~gaussaudit.train.backbones.ResNet18CIFAR`
with a :class:`~gaussaudit.train.heads.ProjectionHead`; ``build_model("supervised",
3, n_classes=10)`` the same backbone with a
:class:`~gaussaudit.train.heads.LinearClassifier`. The state dict of a
:class:`CheckpointModel` (keys ``backbone.*`` and ``head.*``) is what a
checkpoint stores (see :mod:`gaussaudit.train.checkpoint`).
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import UsageError
from .backbones import ResNet18CIFAR

__all__ = ["ARCH", "METHODS", "CheckpointModel", "build_model"]

#: The architecture name written in checkpoints.
ARCH = "resnet18-cifar"
#: Methods whose models :func:`build_model` builds.
METHODS = ("simclr", "supervised")  # the keys of gaussaudit.train.methods.METHODS


class CheckpointModel(nn.Module):
    """A backbone followed by a head.

    Parameters
    ----------
    backbone : nn.Module
        Maps images to ``(B, backbone.out_dim)`` features.
    head : nn.Module
        Maps features to the training output (projection or logits).
    method : str
        ``simclr`` or ``supervised`` (recorded, not used by ``forward``).
    """

    def __init__(self, backbone: nn.Module, head: nn.Module, method: str = "simclr") -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head
        self.method = method

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Backbone features (the 512-d "penultimate" layer)."""
        return self.backbone(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Head output: the projection (simclr) or the logits (supervised)."""
        return self.head(self.backbone(x))


def build_model(
    method: str,
    in_channels: int = 3,
    n_classes: int = 10,
    *,
    proj_hidden: int = 512,
    proj_dim: int = 128,
) -> CheckpointModel:
    """Build the model trained by ``method``.

    Parameters
    ----------
    method : str
        ``simclr`` (projection head) or ``supervised`` (linear classifier).
    in_channels : int
        Image channels.
    n_classes : int
        Classes of the supervised classifier.
    proj_hidden, proj_dim : int
        Hidden and output width of the SimCLR projection head.

    Returns
    -------
    CheckpointModel

    Raises
    ------
    UsageError
        For an unknown method.
    """
    from .methods import METHODS as TABLE

    if method not in TABLE:
        raise UsageError(f"unknown training method {method!r}; choose from {', '.join(METHODS)}")
    backbone = ResNet18CIFAR(in_channels=in_channels)
    head = TABLE[method]().head(
        backbone.out_dim,
        arch="resnet18",
        n_classes=n_classes,
        proj_hidden=proj_hidden,
        proj_dim=proj_dim,
    )
    return CheckpointModel(backbone, head, method)
