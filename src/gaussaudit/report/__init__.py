"""Report model and renderers: one model, many formats, one output sink.

- :func:`build_report` reshapes an audit into the report model (a dict);
- :func:`render` renders it in a registered format (:mod:`.formats`);
- :func:`emit` writes it to standard output or a file (:mod:`.sink`).
"""

from .formats import FORMATS, FormatSpec, format_names, render
from .model import SCHEMA_VERSION, ReportModel, build_report
from .sink import append_summary, emit, write_text

__all__ = [
    "FORMATS",
    "SCHEMA_VERSION",
    "FormatSpec",
    "ReportModel",
    "append_summary",
    "build_report",
    "emit",
    "format_names",
    "render",
    "write_text",
]
