"""Contrastive and supervised losses as pure functions, with thin modules.

- :func:`info_nce`: the paper's empirical InfoNCE (Eq. 2), one-directional:
  each anchor ``u_i`` is scored against all N of the ``v_j`` (its own positive
  included), ``L = -(1/N) sum_i log softmax_j(<u_i, v_j> / tau)[i]``.
- :func:`nt_xent`: SimCLR's symmetric NT-Xent: each of the 2N views is scored
  against the other 2N - 1 (its positive and 2N - 2 negatives).
- :func:`cross_entropy`: the supervised baseline's loss.

Embeddings are L2-normalised inside the contrastive losses (the paper's
``u = f / ||f||``). Which form the authors' code used is unknown (PAPER.md §2.3),
so both are offered.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "LOSSES",
    "InfoNCE",
    "NTXent",
    "contrastive_loss",
    "cross_entropy",
    "info_nce",
    "nt_xent",
]

LOSSES = ("infonce", "ntxent")


def info_nce(u: torch.Tensor, v: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """One-directional InfoNCE of PAPER.md Eq. 2.

    Parameters
    ----------
    u, v : Tensor, shape (N, d)
        Embeddings of the two views; row i of ``u`` and of ``v`` are positives.
    temperature : float
        tau.

    Returns
    -------
    Tensor
        Scalar loss.
    """
    u = F.normalize(u, dim=1)
    v = F.normalize(v, dim=1)
    logits = u @ v.T / temperature
    targets = torch.arange(u.shape[0], device=u.device)
    return F.cross_entropy(logits, targets)


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """Symmetric NT-Xent (SimCLR): 2N anchors, 2N - 1 candidates each.

    Parameters
    ----------
    z1, z2 : Tensor, shape (N, d)
        Embeddings of the two views.
    temperature : float

    Returns
    -------
    Tensor
        Scalar loss averaged over the 2N anchors.
    """
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = z1.shape[0]
    sim = z @ z.T / temperature
    sim.fill_diagonal_(float("-inf"))  # an anchor is never its own candidate
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(sim, targets)


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy (the supervised baseline)."""
    return F.cross_entropy(logits, labels)


class InfoNCE(nn.Module):
    """Module form of :func:`info_nce`."""

    def __init__(self, temperature: float = 0.1):
        super().__init__()
        self.temperature = temperature

    def forward(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Loss of one batch of positive pairs."""
        return info_nce(u, v, self.temperature)


class NTXent(nn.Module):
    """Module form of :func:`nt_xent`."""

    def __init__(self, temperature: float = 0.1):
        super().__init__()
        self.temperature = temperature

    def forward(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        """Loss of one batch of positive pairs."""
        return nt_xent(z1, z2, self.temperature)


def contrastive_loss(name: str, temperature: float) -> nn.Module:
    """``"infonce"`` (Eq. 2, one-directional) or ``"ntxent"`` (SimCLR)."""
    from ..errors import UnknownNameError

    if name == "infonce":
        return InfoNCE(temperature)
    if name == "ntxent":
        return NTXent(temperature)
    raise UnknownNameError("loss", name, LOSSES)
