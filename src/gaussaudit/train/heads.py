"""Heads put on a backbone by the trainer.

:class:`ProjectionHead` is SimCLR's MLP projection (Linear-BN-ReLU-Linear,
512 -> 512 -> 128 by default); :class:`LinearClassifier` is the supervised
model's single linear layer producing logits.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["LinearClassifier", "ProjectionHead"]


class ProjectionHead(nn.Module):
    """SimCLR projection head: Linear -> BatchNorm1d -> ReLU -> Linear.

    Parameters
    ----------
    in_dim : int
        Backbone feature dimension.
    hidden : int
        Hidden width.
    out : int
        Projection dimension (the contrastive loss acts here).
    """

    def __init__(self, in_dim: int = 512, hidden: int = 512, out: int = 128) -> None:
        super().__init__()
        self.in_dim, self.hidden, self.out_dim = in_dim, hidden, out
        self.net = nn.Sequential(
            nn.Linear(in_dim, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Project ``(B, in_dim)`` features to ``(B, out)``."""
        return self.net(x)


class LinearClassifier(nn.Module):
    """One linear layer from features to class logits.

    Parameters
    ----------
    in_dim : int
        Feature dimension.
    n_classes : int
        Number of classes.
    """

    def __init__(self, in_dim: int, n_classes: int) -> None:
        super().__init__()
        self.in_dim, self.out_dim = in_dim, n_classes
        self.fc = nn.Linear(in_dim, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, n_classes)``."""
        return self.fc(x)
