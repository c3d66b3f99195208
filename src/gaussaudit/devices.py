"""Compute devices: resolve ``auto`` to the best available one, and check the others.

Shared by embedding extraction (:mod:`gaussaudit.extract`) and the trainer
(:mod:`gaussaudit.train`). torch is imported only when a device is resolved.
"""

from __future__ import annotations

from typing import Any

from .errors import MissingExtraError, UsageError

__all__ = ["DEVICES", "import_torch", "resolve_device"]

DEVICES = ("auto", "cpu", "cuda", "mps")


def import_torch() -> Any:
    """Import torch, or say which extra installs it."""
    try:
        import torch
    except ImportError as err:
        raise MissingExtraError("torch", "vision", "embedding extraction") from err
    return torch


def resolve_device(device: str) -> str:
    """Turn ``auto`` into ``cuda``, ``mps`` or ``cpu``; check the others exist."""
    if device not in DEVICES:
        from .errors import UnknownNameError

        raise UnknownNameError("device", device, DEVICES, option="device")
    torch = import_torch()
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise UsageError(
            "device='cuda': no CUDA device is available (use device='auto' or device='cpu')",
            option="device",
        )
    if device == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise UsageError(
                "device='mps': MPS is not available (use device='auto' or device='cpu')",
                option="device",
            )
    return device
