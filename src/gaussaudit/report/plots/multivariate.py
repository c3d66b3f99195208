"""Whole-row figures: norms, Mahalanobis distances, projections and subspaces, pair cosines."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._labels import PROJECTION_TESTS, SUBSPACE_FAMILIES
from .._labels import label as test_label
from ._draw import BLUE, GREEN, GREY, ORANGE, PURPLE, RED, Plot, _figure, _finite, _fmt, _ok, _svg


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
        # side-by-side bars per bin, so that no family hides another (with every
        # subspace rejected, all families pile into the first bin)
        width = 0.1 / (len(families) + 0.6)
        for i, ((label, p), color) in enumerate(
            zip(families, (BLUE, GREEN, PURPLE, GREY), strict=False)
        ):
            counts, _ = np.histogram(p, bins=edges)
            left = edges[:-1] + 0.3 * width + i * width
            ax.bar(left, counts, width=width, align="edge", color=color, label=label)
        count = max(p.size for _, p in families)
        ax.axhline(count / 10, color=ORANGE, linewidth=1.4, linestyle="--", label="uniform (H0)")
        ax.axvline(
            alpha, color=RED, linestyle=":", linewidth=1.2, label=f"alpha = {alpha:g}", zorder=4
        )  # over the bars, which pile up left of alpha when the subspaces reject
        ax.set_xlim(0, 1)
        ax.set_xlabel("p-value")
        ax.set_ylabel("subspaces")
        handles, labels = ax.get_legend_handles_labels()
        names = [name for name, _ in families]  # the tests first, then the references
        order = sorted(range(len(labels)), key=lambda i: (labels[i] not in names, i))
        fig.legend(
            [handles[i] for i in order],
            [labels[i] for i in order],
            loc="outside lower center",
            ncols=3,
            fontsize=7,
        )
        ax.set_title(f"{sub.get('n_subspaces', '?')} subspaces of dimension {sub.get('k', '?')}")
    caption = (
        "Left: share of seeded random unit directions whose 1-D projection passes each test "
        "(dot), with the 99% binomial band of that share under H0 (orange bar, tick at the "
        "expected share); a red dot is below its band. Right: how many subspaces have their "
        "p-value in each tenth of [0, 1], one bar per test side by side, for the multivariate "
        "tests on random k-dimensional subspaces (the last one is the principal subspace); "
        "under H0 the p-values are uniform (orange dashed line), and a pile-up left of alpha "
        "(red dotted) is a rejection."
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
        "wide histogram means the rows crowd into a cone. Alignment (how close two views "
        "of the same item land) needs positive pairs, which one embedding file does not "
        "carry, so it is not drawn here."
    )
    return Plot(plot_id, "cosine", "Pair cosines", _svg(fig, plot_id, "cosines"), caption)
