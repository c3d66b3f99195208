"""Rendering of a contrastive-vs-supervised dynamics run: sparklines, figure, HTML, Markdown.

Reads the flat per-epoch rows of :func:`gaussaudit.paper.reading.series`
(``epoch``, ``ad_mean``, ``ad_pass_fraction``, ``dp_pass_fraction``, ``cv``,
``effective_dimension``, ``probe_accuracy``) and computes nothing new. The
figure needs matplotlib (the ``report`` extra); everything else is plain text.
"""

from __future__ import annotations

import base64
import html
import io
import os
from pathlib import Path
from typing import Any

__all__ = [
    "PANELS",
    "markdown_table",
    "plot_pair",
    "render_dynamics_html",
    "sparkline",
    "sparkline_block",
]

#: The metrics drawn, in order: (row key, title, number format).
PANELS = (
    ("ad_mean", "mean A² (AD statistic)", ".2f"),
    ("ad_pass_fraction", "AD pass fraction", ".0%"),
    ("dp_pass_fraction", "DP pass fraction", ".0%"),
    ("cv", "norm CV", ".3f"),
    ("effective_dimension", "effective dimension", ".1f"),
    ("probe_accuracy", "linear-probe accuracy", ".1%"),
)
_BARS = "▁▂▃▄▅▆▇█"
_COLOURS = {"contrastive": "tab:blue", "supervised": "tab:orange"}


def sparkline(values: list[float | None], lo: float | None = None, hi: float | None = None) -> str:
    """Draw values as a one-line bar chart (``▁`` lowest to ``█`` highest).

    Parameters
    ----------
    values : list of float or None
        None draws a space.
    lo, hi : float, optional
        Scale limits (default the values' own), so two runs can share a scale.

    Returns
    -------
    str

    Examples
    --------
    >>> sparkline([0.0, 0.5, 1.0])
    '▁▅█'
    >>> sparkline([1.0, 1.0])
    '▄▄'
    """
    known = [v for v in values if v is not None]
    if not known:
        return " " * len(values)
    lo = min(known) if lo is None else lo
    hi = max(known) if hi is None else hi
    if hi - lo <= 1e-12 * max(abs(hi), 1.0):
        return "".join(" " if v is None else _BARS[3] for v in values)
    top = len(_BARS) - 1
    return "".join(
        " " if v is None else _BARS[min(max(round((v - lo) / (hi - lo) * top), 0), top)]
        for v in values
    )


def sparkline_block(runs: dict[str, list[dict]], labels: dict[str, str] | None = None) -> str:
    """One sparkline per metric and run, on a scale shared by the runs, with end values.

    Parameters
    ----------
    runs : dict
        ``{run name: rows}`` (:func:`gaussaudit.paper.reading.series`).
    labels : dict, optional
        Display name per run.

    Returns
    -------
    str
        Plain text, one line per (metric, run).

    Examples
    --------
    >>> rows = [{"epoch": 0, "cv": 0.3}, {"epoch": 1, "cv": 0.2}]
    >>> "cv" in sparkline_block({"contrastive": rows})
    True
    """
    labels = labels or {}
    width = max((len(labels.get(n, n)) for n in runs), default=0)
    lines = []
    for key, title, spec in PANELS:
        values = [r.get(key) for rows in runs.values() for r in rows if r.get(key) is not None]
        if not values:
            continue
        lo, hi = min(values), max(values)
        lines.append(f"{title} ({key}; shared scale {format(lo, spec)}–{format(hi, spec)})")
        for name, rows in runs.items():
            series = [r.get(key) for r in rows]
            known = [v for v in series if v is not None]
            ends = f"{format(known[0], spec)} → {format(known[-1], spec)}" if known else "–"
            lines.append(
                f"  {labels.get(name, name):<{width}}  {sparkline(series, lo, hi)}  {ends}"
            )
    return "\n".join(lines)


def plot_pair(
    runs: dict[str, list[dict]],
    *,
    out: str | os.PathLike,
    title: str = "",
    paper: dict | None = None,
    ad_threshold: float | None = None,
) -> Path:
    """Draw the dynamics of the runs, one panel per metric, runs overlaid (PAPER.md Fig. 4).

    Parameters
    ----------
    runs : dict
        ``{run name: rows}`` (:func:`gaussaudit.paper.reading.series`).
    out : path-like
        PNG path.
    title : str
    paper : dict, optional
        :data:`gaussaudit.paper.reference.FIG4`; its A² and CV values are drawn
        in grey against a top axis of the paper's epochs.
    ad_threshold : float, optional
        The A² pass line.

    Returns
    -------
    Path
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from ..io import atomic_write_bytes

    fig, axes = plt.subplots(2, 3, figsize=(13, 6.6))
    for ax, (key, name, _spec) in zip(axes.ravel(), PANELS, strict=True):
        for run, rows in runs.items():
            pts = [(r["epoch"], r[key]) for r in rows if r.get(key) is not None]
            if pts:
                ep, val = zip(*pts, strict=True)
                ax.plot(ep, val, marker="o", ms=3, color=_COLOURS.get(run), label=run)
        if key == "ad_mean":
            ax.set_yscale("log")  # A² spans 0.3 (Gaussian) to tens (far from it)
        if key == "ad_mean" and ad_threshold is not None:
            ax.axhline(ad_threshold, color="grey", ls="--", lw=1, label=f"pass line {ad_threshold}")
        if paper and isinstance(paper.get(key), dict):
            top = ax.twiny()
            ep, val = zip(*sorted(paper[key].items()), strict=True)
            top.plot(ep, val, color="grey", marker="x", ls=":", label="paper Fig. 4 (top axis)")
            top.set_xlim(0, paper.get("epochs", 100))
            top.tick_params(axis="x", labelsize=7, colors="grey")
            top.legend(fontsize=7, loc="upper right")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7, loc="lower left")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    target = Path(out)
    atomic_write_bytes(target, buf.getvalue())
    return target


def markdown_table(runs: dict[str, list[dict]]) -> str:
    """Per-epoch table of both runs in Markdown (one row per epoch and run).

    Examples
    --------
    >>> print(markdown_table({"contrastive": [{"epoch": 0, "cv": 0.25}]}).splitlines()[2])
    | contrastive | 0 | – | – | – | 0.250 | – | – |
    """
    head = "| run | epoch | " + " | ".join(title for _k, title, _s in PANELS) + " |"
    lines = [head, "|" + "---|" * (len(PANELS) + 2)]
    for name, rows in runs.items():
        for r in rows:
            cells = [
                "–" if r.get(key) is None else format(r[key], spec) for key, _t, spec in PANELS
            ]
            lines.append(f"| {name} | {r['epoch']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _table_html(runs: dict[str, list[dict]]) -> str:
    head = "".join(f"<th>{html.escape(t)}</th>" for _k, t, _s in PANELS)
    body = []
    for name, rows in runs.items():
        for r in rows:
            cells = "".join(
                f"<td>{'–' if r.get(k) is None else format(r[k], s)}</td>" for k, _t, s in PANELS
            )
            body.append(f"<tr><td>{html.escape(name)}</td><td>{r['epoch']}</td>{cells}</tr>")
    return (
        f"<table><thead><tr><th>run</th><th>epoch</th>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _paper_html(paper: dict | None) -> str:
    if not paper:
        return ""
    rows = []
    for key, name in (("ad_mean", "mean A²"), ("cv", "norm CV")):
        values = paper.get(key) or {}
        cells = ", ".join(f"{v} @ epoch {e}" for e, v in sorted(values.items()))
        rows.append(f"<tr><td>{name}</td><td>{html.escape(cells)}</td></tr>")
    rows.append("<tr><td>DP pass fraction</td><td>no readable values</td></tr>")
    return (
        f"<h2>The paper's Fig. 4, beside</h2><p>{html.escape(paper.get('source', ''))}; "
        f"{html.escape(paper.get('model', ''))}, {html.escape(paper.get('dataset', ''))}.</p>"
        f"<table><tbody>{''.join(rows)}</tbody></table>"
    )


def render_dynamics_html(
    *,
    title: str,
    runs: dict[str, list[dict]],
    reading: dict[str, list[str]],
    facts: list[str],
    figure: Path | None = None,
    paper: dict | None = None,
) -> str:
    """Write a self-contained HTML page: facts, figure (inline PNG), reading, paper values, table.

    Parameters
    ----------
    title : str
    runs : dict
        ``{run name: rows}``.
    reading : dict
        :func:`gaussaudit.paper.reading.read_dynamics` output.
    facts : list of str
        What was run (data, sizes, reductions, wall time).
    figure : Path, optional
        PNG to inline.
    paper : dict, optional
        :data:`gaussaudit.paper.reference.FIG4`.

    Returns
    -------
    str

    Examples
    --------
    >>> page = render_dynamics_html(title="t", runs={}, reading={}, facts=["x"])
    >>> page.startswith("<!DOCTYPE html>") and "<li>x</li>" in page
    True
    """

    def items(lines: Any) -> str:
        return "<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in lines) + "</ul>"

    img = ""
    if figure is not None and Path(figure).is_file():
        data = base64.b64encode(Path(figure).read_bytes()).decode("ascii")
        img = f'<img alt="per-epoch dynamics" src="data:image/png;base64,{data}">'
    sections = [
        f"<h1>{html.escape(title)}</h1>",
        items(facts),
        img,
        "<h2>What this run shows</h2>" + items(reading.get("shows", [])),
        "<h2>What it does not show</h2>" + items(reading.get("does_not_show", [])),
        "<h2>How it relates to the paper</h2>" + items(reading.get("paper", [])),
        _paper_html(paper),
        "<h2>Per-epoch values (held-out images, raw output)</h2>" + _table_html(runs),
    ]
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.45}"
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;"
        "padding:2px 6px;text-align:right}img{max-width:100%}"
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body>{''.join(sections)}</body></html>\n"
    )
