"""Matplotlib figures of one view of the report model, as inline SVG.

Every function reads the report dict only (a view's numbers and its
``plot_data``) and returns a :class:`Plot`, or None when the data it needs is
absent or skipped. Figures are built on :class:`matplotlib.figure.Figure`
directly (no pyplot, no global state), drawn with text as SVG ``<text>``
(small files, no embedded fonts), and their element ids are prefixed per plot
so several SVGs can live in one HTML page.

The number of figures per view is fixed (at most seven) whatever ``d`` is:
per-coordinate statistics are binned, and Q–Q plots show three coordinates.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._format import num
from ._labels import PROJECTION_TESTS, SUBSPACE_FAMILIES
from ._labels import label as test_label

__all__ = ["PLOT_KINDS", "Plot", "view_plots"]

#: Plot kinds, in page order; a plot's HTML id is ``plot-<view>-<kind>``.
PLOT_KINDS = ("ad", "dp", "qq", "norms", "mahalanobis", "projections", "cosine")

BLUE = "#3b6ea8"
ORANGE = "#d9822b"
RED = "#c0392b"
GREY = "#7f8c8d"
GREEN = "#2e8b57"

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
        from ..errors import MissingExtraError

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


# ---------------------------------------------------------------- AD vs null
def _ad_plot(view: dict, config: dict, plot_id: str) -> Plot | None:
    ad = view.get("coordinates", {}).get("anderson_darling")
    if not _ok(ad):
        return None
    obs = _finite(ad.get("statistics"))
    if obs.size == 0:
        return None
    thr = float(ad.get("threshold", config.get("ad_threshold", 0.752)))
    null = (view.get("plot_data") or {}).get("anderson_darling_null")
    has_null = _ok(null)
    lo = float(obs.min())
    hi = float(obs.max())
    if has_null:
        q = np.asarray(null["quantiles"], dtype=float)
        lo, hi = min(lo, float(q[0])), max(hi, float(q[-1]))
    lo, hi = max(min(lo, thr) * 0.8, 1e-3), max(hi, thr) * 1.25
    edges = np.geomspace(lo, hi, 41)
    fig, ax = _figure(height=3.4)
    counts = np.histogram(np.clip(obs, lo, hi), bins=edges)[0] / obs.size
    ax.stairs(
        counts,
        edges,
        fill=True,
        color=BLUE,
        alpha=0.7,
        label=f"observed ({obs.size} coordinates)",
    )
    if has_null:
        probs = np.asarray(null["probs"], dtype=float)
        cdf = np.interp(edges, q, probs, left=0.0, right=1.0)
        ax.stairs(
            np.diff(cdf),
            edges,
            color=ORANGE,
            linewidth=1.6,
            label=f"null: Gaussian, n={null['n']} ({null['replicates']} sims)",
        )
    ax.axvline(thr, color=RED, linestyle="--", linewidth=1.2, label=f"pass threshold {thr}")
    ax.set_xscale("log")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.25)  # room for the summary text
    ax.set_xlabel("A² per coordinate (log scale)")
    ax.set_ylabel("fraction of coordinates")
    frac = ad.get("pass_fraction")
    band = ad.get("null_band") or {}
    if frac is not None:
        text = f"{100 * frac:.1f}% below {thr}"
        if band.get("expected") is not None:
            text += f"\nexpected {100 * band['expected']:.1f}% under H0"
        ax.text(0.98, 0.97, text, transform=ax.transAxes, ha="right", va="top", fontsize=8)
    fig.legend(loc="outside lower center", ncols=2, fontsize=7)
    ax.set_title(f"{test_label('anderson_darling')} A² vs its null distribution")
    caption = (
        "Histogram of the raw A² of every tested coordinate (share of coordinates per "
        "log-spaced bin). The orange steps are the share expected per bin if every "
        "coordinate were Gaussian, from A² simulated on Gaussian samples of the view's n "
        "(capped at 2000 rows). A coordinate passes the paper's rule when A² < "
        f"{thr} (red line); mass to the right of the orange curve is non-Gaussianity."
    )
    with_null = "" if has_null else " (no null simulation in this report)"
    return Plot(plot_id, "ad", "A² per coordinate" + with_null, _svg(fig, plot_id, "A²"), caption)


# ------------------------------------------------------- DP p-value histogram
def _dp_plot(view: dict, config: dict, plot_id: str) -> Plot | None:
    dp = view.get("coordinates", {}).get("dagostino_pearson")
    if not _ok(dp):
        return None
    p = _finite(dp.get("pvalues"))
    if p.size == 0:
        return None
    from scipy import stats

    alpha = float(config.get("alpha", 0.05))
    bins = 20
    edges = np.linspace(0.0, 1.0, bins + 1)
    fig, ax = _figure()
    counts = np.histogram(p, bins=edges)[0]
    ax.stairs(counts, edges, fill=True, color=BLUE, alpha=0.7, label=f"observed ({p.size})")
    expected = p.size / bins
    low, high = stats.binom.ppf([0.005, 0.995], p.size, 1.0 / bins)
    ax.axhspan(low, high, color=ORANGE, alpha=0.15, linewidth=0, zorder=0, label="99% band per bin")
    ax.axhline(expected, color=ORANGE, linewidth=1.6, label="expected under H0 (uniform)")
    ax.axvline(alpha, color=RED, linestyle="--", linewidth=1.2, label=f"alpha = {alpha}")
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"{test_label('dagostino_pearson')} p-value")
    ax.set_ylabel("coordinates")
    ax.legend(loc="upper right")
    ax.set_title(f"{test_label('dagostino_pearson')} p-values")
    caption = (
        "Per-coordinate D'Agostino–Pearson p-values in 20 bins. Under H0 (every "
        "coordinate Gaussian) they are uniform: the orange line is the expected count per "
        "bin and the shaded band its 99% binomial range. A spike at 0 means coordinates "
        "whose skewness or kurtosis departs from the normal."
    )
    return Plot(plot_id, "dp", "DP p-values", _svg(fig, plot_id, "DP p-values"), caption)


# ----------------------------------------------------------------- Q-Q plots
def _qq_plot(view: dict, config: dict, plot_id: str) -> Plot | None:
    qq = (view.get("plot_data") or {}).get("qq")
    if not _ok(qq) or not qq.get("coordinates"):
        return None
    entries = qq["coordinates"]
    fig, axes = _figure(width=7.6, height=2.7, ncols=len(entries))
    axes = np.atleast_1d(axes)
    what = "direction" if view.get("name") == "whitened" else "coord"
    colors = {"worst": RED, "median": BLUE, "best": GREEN}
    for ax, e in zip(axes, entries, strict=False):
        x = np.asarray(e["theoretical"], dtype=float)
        y = np.asarray(e["sample"], dtype=float)
        lim = float(max(np.max(np.abs(x)), np.max(np.abs(y[np.isfinite(y)])) if y.size else 1))
        lim = min(lim, 12.0) * 1.05
        ax.plot([-lim, lim], [-lim, lim], color=GREY, linewidth=1, linestyle="--")
        ax.plot(x, np.clip(y, -lim, lim), "o", markersize=2.4, color=colors.get(e["label"], BLUE))
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_title(f"{e['label']}: {what} {e['column']}, A²={_fmt(e['statistic'])}")
        ax.set_xlabel("normal quantile")
    axes[0].set_ylabel("standardised sample quantile")
    caption = (
        "Normal Q–Q plots of the coordinates with the largest, median and smallest A² "
        f"(about {qq.get('points', 100)} quantiles each, standardised by the column's mean "
        "and standard deviation; the ends are the sample minimum and maximum). Points on the "
        "dashed line are Gaussian; an S shape means light or heavy tails, a bow means skew. "
        "Values beyond ±12 are drawn at the edge."
    )
    return Plot(
        plot_id, "qq", "Normal Q–Q: worst, median, best", _svg(fig, plot_id, "Q-Q"), caption
    )


# ------------------------------------------------------------ norm histogram
def _norms_plot(view: dict, config: dict, plot_id: str) -> Plot | None:
    nd = (view.get("plot_data") or {}).get("norms")
    if not _ok(nd):
        return None
    edges = np.asarray(nd["edges"], dtype=float)
    counts = np.asarray(nd["counts"], dtype=float)
    if counts.sum() <= 0 or np.any(np.diff(edges) <= 0):
        return None
    density = counts / (counts.sum() * np.diff(edges))
    ref = nd["reference"]
    x = np.asarray(ref["x"], dtype=float)
    iso = np.asarray(ref["isotropic_chi"], dtype=float)
    matched = None if ref.get("matched_normal") is None else np.asarray(ref["matched_normal"])
    fig, ax = _figure()
    ax.stairs(density, edges, fill=True, color=BLUE, alpha=0.6, label=f"row norms (n={nd['n']})")
    top = max(float(density.max()), float(matched.max()) if matched is not None else 0.0) * 1.15
    iso_peak = float(iso.max())
    label = f"isotropic: s·χ_d, d={nd['d']}, same mean"
    if iso_peak > top * 1.05:
        label += f" (peak {_fmt(iso_peak / top * 1.15)}× off scale)"
    ax.plot(x, iso, color=ORANGE, linewidth=1.6, label=label)
    if matched is not None:
        cv = nd.get("cv_matched_gaussian")
        ax.plot(
            x,
            matched,
            color=GREEN,
            linewidth=1.4,
            linestyle="--",
            label=f"matched Gaussian (CV {_fmt(cv)})",
        )
    ax.axvline(float(nd["mean"]), color=GREY, linewidth=1, linestyle=":")
    ax.set_ylim(0, top if top > 0 else 1.0)
    ax.set_xlim(float(min(edges[0], x[0])), float(max(edges[-1], x[-1])))
    ax.set_xlabel("‖z‖ (row norm)")
    ax.set_ylabel("density")
    ax.legend(loc="upper right")
    cv_obs = (view.get("norms") or {}).get("cv")
    title = "Row norms (thin shell)"
    if cv_obs is not None:
        title += f": CV {_fmt(cv_obs)}"
    ax.set_title(title)
    caption = (
        "Histogram of the row norms. Orange: the norm of an isotropic Gaussian N(0, s²I_d), "
        "a scaled chi distribution s·χ_d with s chosen so its mean equals the data's mean "
        "norm; it is a thin shell of CV about 1/√(2d). Green dashed: the matched Gaussian "
        "(same mean and covariance as the data), drawn as a normal with the data's mean "
        "norm and the delta-method CV, which accounts for an uneven spectrum. Norms much "
        "wider than both mean a scale mixture rather than a Gaussian."
    )
    return Plot(plot_id, "norms", "Norm distribution", _svg(fig, plot_id, "norms"), caption)


# --------------------------------------------------------- Mahalanobis Q-Q
def _mahalanobis_plot(view: dict, config: dict, plot_id: str) -> Plot | None:
    md = (view.get("plot_data") or {}).get("mahalanobis")
    if not _ok(md):
        return None
    x = np.asarray(md["chi2"], dtype=float)
    y = np.asarray(md["sample"], dtype=float)
    beta = np.asarray(md["beta"], dtype=float)
    fig, ax = _figure()
    lo = float(min(x.min(), y.min(), beta.min()))
    hi = float(max(x.max(), y.max(), beta.max()))
    ax.plot([lo, hi], [lo, hi], color=GREY, linestyle="--", linewidth=1, label="y = x (χ²)")
    ax.plot(x, beta, color=ORANGE, linewidth=1.5, label="Gaussian, finite n (Beta law)")
    ax.plot(x, y, "o", markersize=2.6, color=BLUE, label="data")
    ax.set_xlabel(f"χ² quantile, df = {md['df']}")
    ax.set_ylabel("squared Mahalanobis distance")
    ax.legend(loc="upper left")
    ax.set_title("χ² Q–Q of squared Mahalanobis distances")
    notes = "; ".join(md.get("notes") or [])
    caption = (
        "Quantiles of the squared Mahalanobis distances of the rows to their mean, under "
        "the sample covariance, against chi-square quantiles (the plot of R's MVN). With "
        "an estimated mean and covariance a Gaussian sample follows the orange curve, "
        "(r−1)²/r·Beta(p/2, (r−p−1)/2), which matches χ²_p only when p is small next to "
        "the rows r; points above it in the upper right are outlying rows or heavy tails."
        + (f" Computed on {notes}." if notes else "")
    )
    return Plot(
        plot_id, "mahalanobis", "Mahalanobis χ² Q–Q", _svg(fig, plot_id, "Mahalanobis"), caption
    )


# ------------------------------------------------------------- projections
def _projections_plot(view: dict, config: dict, plot_id: str) -> Plot | None:
    proj = view.get("projections") or {}
    tests = [
        (key, test_label(key))
        for key in PROJECTION_TESTS
        if _ok(proj.get(key)) and proj[key].get("pass_fraction") is not None
    ]
    sub = proj.get("subspaces")
    families = []
    if _ok(sub):
        for key, family in SUBSPACE_FAMILIES:
            e: Any = sub
            for k in key:
                e = e.get(k) if isinstance(e, dict) else None
            if isinstance(e, dict) and _finite(e.get("pvalues")).size:
                families.append((family, _finite(e["pvalues"])))
    if not tests and not families:
        return None
    ncols = int(bool(tests)) + int(bool(families))
    fig, axes = _figure(width=7.6, height=2.9, ncols=ncols)
    axes = list(np.atleast_1d(axes))
    alpha = float(config.get("alpha", 0.05))
    if tests:
        ax = axes.pop(0)
        ys = np.arange(len(tests))[::-1]
        for y, (key, _label) in zip(ys, tests, strict=True):
            e = proj[key]
            band = e.get("null_band") or {}
            if band.get("low") is not None:
                ax.plot([band["low"], band["high"]], [y, y], color=ORANGE, linewidth=7, alpha=0.3)
                ax.plot([band["expected"]], [y], "|", color=ORANGE, markersize=14, mew=2)
            frac = e["pass_fraction"]
            below = band.get("low") is not None and frac < band["low"]
            ax.plot([frac], [y], "o", color=RED if below else BLUE, markersize=7)
            ax.text(frac, y + 0.28, f"{100 * frac:.1f}%", ha="center", fontsize=7.5)
        ax.set_yticks(ys, [label for _, label in tests])
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.7, len(tests) - 0.3)
        ax.set_xlabel("share of random directions passing")
        ax.set_title(f"{proj.get('n_projections', '?')} random 1-D projections")
    if families:
        ax = axes.pop(0)
        edges = np.linspace(0, 1, 11)
        for (label, p), color in zip(families, (BLUE, GREEN, RED), strict=False):
            ax.hist(p, bins=edges, histtype="step", linewidth=1.5, color=color, label=label)
        count = max(p.size for _, p in families)
        ax.axhline(count / 10, color=ORANGE, linewidth=1.4, linestyle="--", label="uniform (H0)")
        ax.axvline(alpha, color=RED, linestyle=":", linewidth=1)
        ax.set_xlim(0, 1)
        ax.set_xlabel("p-value")
        ax.set_ylabel("subspaces")
        fig.legend(*ax.get_legend_handles_labels(), loc="outside right upper", fontsize=7)
        ax.set_title(f"{sub.get('n_subspaces', '?')} subspaces of dimension {sub.get('k', '?')}")
    caption = (
        "Left: share of seeded random unit directions whose 1-D projection passes each test "
        "(dot), with the 99% binomial band of that share under H0 (orange bar, tick at the "
        "expected share); a red dot is below its band. Right: p-values of the multivariate "
        "tests on random k-dimensional subspaces (the last one is the principal subspace), "
        "uniform under H0; a pile-up left of alpha (red dotted) is a rejection."
    )
    return Plot(
        plot_id,
        "projections",
        "Projections and subspaces",
        _svg(fig, plot_id, "projections"),
        caption,
    )


# ----------------------------------------------------------------- cosines
def _cosine_plot(view: dict, config: dict, plot_id: str) -> Plot | None:
    cd = (view.get("plot_data") or {}).get("cosine")
    if not isinstance(cd, dict) or not _ok(cd.get("negative")):
        return None
    neg = cd["negative"]
    edges = np.asarray(neg["edges"], dtype=float)
    counts = np.asarray(neg["counts"], dtype=float)
    if counts.sum() <= 0 or np.any(np.diff(edges) <= 0):
        return None
    density = counts / (counts.sum() * np.diff(edges))
    fig, ax = _figure(height=3.4)
    ax.stairs(
        density,
        edges,
        fill=True,
        color=BLUE,
        alpha=0.6,
        label=f"negative pairs ({neg['n_pairs']} random row pairs)",
    )
    pos = cd.get("positive")
    if _ok(pos):  # hook: paired views fill "positive" with the same histogram shape
        pe = np.asarray(pos["edges"], dtype=float)
        pc = np.asarray(pos["counts"], dtype=float)
        if pc.sum() > 0 and np.all(np.diff(pe) > 0):
            density_pos = pc / (pc.sum() * np.diff(pe))
            ax.stairs(density_pos, pe, color=GREEN, linewidth=1.6, label="positive pairs")
    ref = cd.get("reference")
    if ref:
        ax.plot(ref["x"], ref["density"], color=ORANGE, linewidth=1.5, label="uniform on sphere")
    lo = float(min(edges[0], -0.05))
    hi = float(max(edges[-1], 0.05))
    if ref:
        xr = np.asarray(ref["x"], dtype=float)
        dr = np.asarray(ref["density"], dtype=float)
        visible = xr[dr > 1e-3 * dr.max()]
        lo, hi = min(lo, float(visible.min())), max(hi, float(visible.max()))
    ax.set_xlim(max(lo, -1.0), min(hi, 1.0))
    ax.axvline(0, color=GREY, linewidth=0.8, linestyle=":")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.3)  # room for the summary text
    ax.set_xlabel("cosine similarity")
    ax.set_ylabel("density")
    fig.legend(loc="outside lower center", ncols=2, fontsize=7)
    text = f"mean {_fmt(neg['mean'])}, sd {_fmt(neg['std'])}"
    if cd.get("uniformity") is not None:
        text += f"\nuniformity (t=2) {_fmt(cd['uniformity'])}"
    if pos is None:
        text += "\npositive pairs: need paired views"
    ax.text(0.02, 0.97, text, transform=ax.transAxes, ha="left", va="top", fontsize=7.5)
    ax.set_title("Pair cosines (uniformity)")
    caption = (
        "Cosine similarity of random pairs of rows (negative pairs; the uniformity side of "
        "the paper's Fig. 2), against the cosine of two independent uniform directions in "
        "d dimensions, which an isotropic centred Gaussian gives (orange). A shifted or "
        "wide histogram means the rows crowd into a cone. Alignment (positive pairs) "
        "needs two views of the same items, which one embedding file does not carry: "
        "plot_data.cosine.positive is null here and is drawn when a caller fills it."
    )
    return Plot(plot_id, "cosine", "Pair cosines", _svg(fig, plot_id, "cosines"), caption)


_BUILDERS: dict[str, Callable[[dict, dict, str], Plot | None]] = {
    "ad": _ad_plot,
    "dp": _dp_plot,
    "qq": _qq_plot,
    "norms": _norms_plot,
    "mahalanobis": _mahalanobis_plot,
    "projections": _projections_plot,
    "cosine": _cosine_plot,
}


def _safe_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)


def view_plots(name: str, view: dict, config: dict) -> list[Plot]:
    """Every figure available for one view of the report model.

    Parameters
    ----------
    name : str
        The view's name (``raw``, ``normalized``, ``whitened``).
    view : dict
        ``report["views"][name]``.
    config : dict
        ``report["config"]`` (alpha and the A² threshold).

    Returns
    -------
    list of Plot
        In the order of :data:`PLOT_KINDS`; kinds without data are left out.
    """
    view = {**view, "name": name}
    out = []
    with _style():
        for kind, build in _BUILDERS.items():
            plot = build(view, config, f"plot-{_safe_id(name)}-{kind}")
            if plot is not None:
                out.append(plot)
    return out
