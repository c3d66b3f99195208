"""JSON rendering of the report model."""

from __future__ import annotations

import json

__all__ = ["render_json"]


def render_json(report: dict, *, indent: int | None = 2) -> str:
    """Serialise the report model; strict JSON (NaN already became ``null``)."""
    return json.dumps(report, indent=indent, allow_nan=False) + "\n"
