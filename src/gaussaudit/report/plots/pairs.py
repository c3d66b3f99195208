"""Positive- and negative-pair cosine histograms (alignment and uniformity, the paper's Fig. 2).

Reads ``views.<view>.pairs`` of the report model (written when the input has
positive pairs, :func:`gaussaudit.report.model.add_pairs`) and draws both
histograms on their shared bins, with Wang & Isola's alignment and uniformity
in the corner. Drawn for the raw and whitened views: the normalized view's
cosines are the raw view's (cosines do not see the row norms).
"""

from __future__ import annotations

import numpy as np

from ._draw import BLUE, GREEN, GREY, Plot, _figure, _fmt, _ok, _style, _svg

__all__ = ["PAIR_VIEWS", "pairs_plot"]

#: Views that get the figure.
PAIR_VIEWS = ("raw", "whitened")


def _density(entry: dict) -> tuple[np.ndarray, np.ndarray] | None:
    edges = np.asarray(entry.get("edges") or [], dtype=float)
    counts = np.asarray(entry.get("counts") or [], dtype=float)
    if edges.size < 2 or counts.size != edges.size - 1 or counts.sum() <= 0:
        return None
    if np.any(np.diff(edges) <= 0):
        return None
    return counts / (counts.sum() * np.diff(edges)), edges


def pairs_plot(name: str, view: dict, plot_id: str) -> Plot | None:
    """Draw the pair-cosine figure of one view, or None without pairs (or for other views).

    Parameters
    ----------
    name : str
        The view's name; only :data:`PAIR_VIEWS` get a figure.
    view : dict
        ``report["views"][name]``.
    plot_id : str
        HTML id of the figure.

    Returns
    -------
    Plot or None

    Examples
    --------
    >>> pairs_plot("raw", {}, "plot-raw-pairs") is None
    True
    """
    entry = view.get("pairs")
    if name not in PAIR_VIEWS or not _ok(entry):
        return None
    pos = _density(entry.get("positive_cosine") or {})
    neg = _density(entry.get("negative_cosine") or {})
    if pos is None or neg is None:
        return None
    with _style():
        fig, ax = _figure(height=3.4)
        ax.stairs(
            neg[0],
            neg[1],
            fill=True,
            color=BLUE,
            alpha=0.55,
            label=f"negative pairs ({entry['n_negative_pairs']})",
        )
        ax.stairs(
            pos[0],
            pos[1],
            fill=True,
            color=GREEN,
            alpha=0.55,
            label=f"positive pairs ({entry['n_pairs']})",
        )
        ax.axvline(0, color=GREY, linewidth=0.8, linestyle=":")
        ax.set_xlim(max(float(min(pos[1][0], neg[1][0])), -1.0), 1.0)
        ax.set_ylim(0, ax.get_ylim()[1] * 1.3)
        ax.set_xlabel("cosine similarity")
        ax.set_ylabel("density")
        fig.legend(loc="outside lower center", ncols=2, fontsize=7)
        text = (
            f"alignment (α=2) {_fmt(entry['alignment'])}, "
            f"uniformity (t=2) {_fmt(entry['uniformity'])}\n"
            f"mean cos: positive {_fmt(entry['positive_cosine']['mean'])}, "
            f"negative {_fmt(entry['negative_cosine']['mean'])}"
        )
        ax.text(0.02, 0.97, text, transform=ax.transAxes, ha="left", va="top", fontsize=7.5)
        ax.set_title(f"Positive and negative pairs ({name})")
        svg = _svg(fig, plot_id, "pairs")
    caption = (
        "Cosine similarity of positive pairs (two views of the same item: augmentations of "
        "one image, or the two texts of a pairs-file row; green) and of negative pairs "
        "(embeddings of different items; blue), the paper's Fig. 2. Alignment is Wang & "
        "Isola's mean squared distance of the L2-normalised positive pairs (0 is perfect); "
        "uniformity is log mean exp(-2 ||u - v||²) over the negative pairs (lower is more "
        "uniform). The whitened view applies the whitening fitted on the audited rows."
    )
    return Plot(plot_id, "pairs", "Positive and negative pairs", svg, caption)
