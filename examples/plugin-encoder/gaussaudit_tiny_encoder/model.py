"""The torch side of the ``tiny-mlp`` plugin (imported only when the encoder is created)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from gaussaudit.encoders import Encoder, EncoderSpec
from gaussaudit.errors import UsageError

__all__ = ["TinyMLP", "collate", "create", "to_tensor"]


class TinyMLP(nn.Module):
    """Linear -> GELU -> Linear: ``in_dim`` inputs to ``dim`` features."""

    def __init__(self, in_dim: int = 1024, hidden: int = 128, dim: int = 64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed a ``(B, in_dim)`` batch."""
        return self.net(x)


def to_tensor(item: Any) -> torch.Tensor:
    """One dataset item (a 1-D array) -> float32 tensor. Top level, so workers can pickle it."""
    return torch.as_tensor(item, dtype=torch.float32).reshape(-1)


def collate(items: list) -> torch.Tensor:
    """Stack transformed items into a ``(B, in_dim)`` batch."""
    return torch.stack(items)


def _forward(module: nn.Module, batch: torch.Tensor) -> torch.Tensor:
    return module(batch)


def create(
    spec: EncoderSpec,
    argument: str | None,
    *,
    weights: str = "default",
    layer: str | None = None,
    modality: str = "vector",
    in_dim: int = 1024,
    hidden: int = 128,
    dim: int = 64,
    init_seed: int = 0,
    **_ignored: Any,
) -> Encoder:
    """Build the encoder (called by ``gaussaudit.encoders.create_encoder``).

    ``weights``: ``default``/``none`` is a seeded random initialisation
    (``init_seed``), anything else a state-dict path. Options (``--model-option
    KEY=VALUE``): ``in_dim``, ``hidden``, ``dim``, ``init_seed``.
    """
    if layer not in (None, "output"):
        raise UsageError(f"tiny-mlp has one layer, 'output'; got {layer!r}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(init_seed))
        module = TinyMLP(int(in_dim), int(hidden), int(dim))
    if weights not in ("default", "none"):
        module.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    module.eval()
    return Encoder(
        name=spec.name,
        module=module,
        modality=modality,
        dim=int(dim),
        layer="output",
        weights=weights,
        transform=to_tensor,
        collate=collate,
        forward=_forward,
        info={
            "family": spec.family,
            "in_dim": int(in_dim),
            "hidden": int(hidden),
            "init_seed": int(init_seed),
        },
    )
