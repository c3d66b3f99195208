"""What every figure of the HTML report shares: colours, style, the figure and its SVG.

Figures are built on :class:`matplotlib.figure.Figure` directly (no pyplot,
no global state), drawn with text as SVG ``<text>`` (small files, no embedded
fonts), and their element ids are prefixed per plot so several SVGs can live
in one HTML page.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._format import num

__all__ = ["Plot"]

BLUE = "#3b6ea8"
ORANGE = "#d9822b"
RED = "#c0392b"
GREY = "#7f8c8d"
GREEN = "#2e8b57"
PURPLE = "#7d4ea8"

_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "gaussaudit",
    "font.size": 8.5,
    "axes.titlesize": 9.5,
    "axes.labelsize": 8.5,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.family": "DejaVu Sans",
}


@dataclass(frozen=True)
class Plot:
    """One rendered figure.

    Attributes
    ----------
    id : str
        HTML id, ``plot-<view>-<kind>``.
    kind : str
        One of :data:`PLOT_KINDS`.
    title : str
        Short heading.
    svg : str
        The ``<svg>`` element (no XML prolog), ids prefixed with ``id``.
    caption : str
        What is drawn and how to read it (plain text).
    """

    id: str
    kind: str
    title: str
    svg: str
    caption: str


@contextmanager
def _style() -> Iterator[None]:
    try:
        import matplotlib
    except ImportError as err:  # pragma: no cover - matplotlib is in the report extra
        from ...errors import MissingExtraError

        raise MissingExtraError("matplotlib", "report", "the HTML report's plots") from err

    with matplotlib.rc_context(_RC):
        yield


def _figure(width: float = 5.0, height: float = 3.1, ncols: int = 1):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, ncols)
    return fig, axes


_ID = re.compile(r'\bid="([^"]+)"')
_URL = re.compile(r"url\(#([^)]+)\)")
_HREF = re.compile(r'href="#([^"]+)"')


_GEOMETRY = re.compile(r'\b(d|x|y|x1|x2|y1|y2|transform|points)="([^"]*)"')
_DECIMALS = re.compile(r"(-?\d+\.\d\d)\d+")


def _compact(match: re.Match) -> str:
    value = _DECIMALS.sub(r"\1", match.group(2))
    value = re.sub(r"\s+", " ", value).strip()
    return f'{match.group(1)}="{value}"'


def _svg(fig, plot_id: str, label: str) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.find("<svg") :]
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    # coordinates to 0.01 px (the viewBox is in pt: invisible), whitespace squeezed
    text = _GEOMETRY.sub(_compact, text)
    # keep only the ids something refers to, prefixed so several SVGs share a page
    used = set(_URL.findall(text)) | set(_HREF.findall(text))
    text = _ID.sub(lambda m: m.group(0) if m.group(1) in used else "", text)
    text = re.sub(r"<g\s*>", "<g>", text)
    text = re.sub(r">\s+<", "><", text)
    prefix = f"{plot_id}-"
    text = _ID.sub(lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = _URL.sub(lambda m: f"url(#{prefix}{m.group(1)})", text)
    text = _HREF.sub(lambda m: f'href="#{prefix}{m.group(1)}"', text)
    # responsive: drop the fixed width/height of the root element, keep its viewBox
    head_end = text.find(">")
    head = re.sub(r'\s(width|height)="[^"]*"', "", text[:head_end])
    safe_label = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    head += f' id="svg-{plot_id}" class="plot" role="img" aria-label="{safe_label}"'
    return head + text[head_end:]


def _finite(values: Any) -> np.ndarray:
    arr = np.array([np.nan if v is None else v for v in (values or [])], dtype=float)
    return arr[np.isfinite(arr)]


def _ok(entry: Any) -> bool:
    return isinstance(entry, dict) and "skipped" not in entry


def _fmt(x: float) -> str:
    return num(x, upper=1e4)
