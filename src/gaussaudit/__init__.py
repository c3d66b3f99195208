"""Is this representation Gaussian, and how far from it.

The top-level namespace is light: heavy modules load on first use, so
``import gaussaudit`` and ``gaussaudit --help`` stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

__all__ = ["AuditConfig", "__version__", "audit", "build_report", "load_embeddings", "render"]

_LAZY = {
    "audit": ("gaussaudit.stats.battery", "audit"),
    "AuditConfig": ("gaussaudit.stats.config", "AuditConfig"),
    "render": ("gaussaudit.report.formats", "render"),
    "load_embeddings": ("gaussaudit.io", "load_embeddings"),
    "build_report": ("gaussaudit.report.model", "build_report"),
}

if TYPE_CHECKING:  # pragma: no cover
    from .io import load_embeddings
    from .report.formats import render
    from .report.model import build_report
    from .stats.battery import audit
    from .stats.config import AuditConfig


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'gaussaudit' has no attribute {name!r}")
