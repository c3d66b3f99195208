"""The paper's "basic encoder" (Fig. 4): a two-layer MLP with a single ReLU.

``flatten -> Linear(in_dim, hidden) -> ReLU -> Linear(hidden, out_dim)``. The
widths are not stated in the paper (PAPER.md §3.1); 512 and 256 are the choices
made here (PAPER.md §7 suggests them). The contrastive loss acts directly on the
256-d output, which is also the layer audited.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["MLP_ARCH", "MLPEncoder"]

#: Architecture name written in checkpoints of MLP runs.
MLP_ARCH = "mlp"


class MLPEncoder(nn.Module):
    """Two-layer MLP on flattened images.

    Parameters
    ----------
    in_dim : int
        Flattened input size (3072 for CIFAR-10, 784 for Fashion-MNIST).
    hidden : int
        Hidden width (512, a choice).
    out_dim : int
        Output (embedding) dimension (256, a choice).
    in_channels : int
        Image channels, recorded for checkpoints.

    Examples
    --------
    >>> import torch
    >>> MLPEncoder(12, 8, 4)(torch.zeros(2, 3, 2, 2)).shape
    torch.Size([2, 4])
    """

    def __init__(
        self, in_dim: int, hidden: int = 512, out_dim: int = 256, *, in_channels: int = 3
    ) -> None:
        super().__init__()
        self.in_dim, self.hidden, self.out_dim = int(in_dim), int(hidden), int(out_dim)
        self.in_channels = int(in_channels)
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(self.in_dim, self.hidden),
            nn.ReLU(inplace=True),
            nn.Linear(self.hidden, self.out_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed a batch ``(B, C, H, W)`` (or ``(B, in_dim)``) -> ``(B, out_dim)``."""
        return self.net(x)
