"""Report model and renderers: one model, many formats."""

from .model import SCHEMA_VERSION, build_report

__all__ = ["SCHEMA_VERSION", "build_report"]
