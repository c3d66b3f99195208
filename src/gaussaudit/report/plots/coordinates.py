"""Per-coordinate figures: A² against its null, DP p-values, and normal Q–Q plots."""

from __future__ import annotations

import numpy as np

from .._labels import label as test_label
from ._draw import BLUE, GREEN, GREY, ORANGE, RED, Plot, _figure, _finite, _fmt, _ok, _svg


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
