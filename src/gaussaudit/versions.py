"""Package versions recorded in reports, sidecars and run configs (one helper for all)."""

from __future__ import annotations

import contextlib
import importlib.metadata
import platform

__all__ = ["package_versions"]


def package_versions(*packages: str) -> dict[str, str]:
    """Python's version and the installed version of each named distribution.

    Parameters
    ----------
    *packages : str
        Distribution names (``"numpy"``, ``"sentence-transformers"``, ...); those
        not installed are left out.

    Returns
    -------
    dict
        ``{"python": ..., package: version, ...}``.
    """
    out = {"python": platform.python_version()}
    for name in packages:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            out[name] = importlib.metadata.version(name)
    return out
