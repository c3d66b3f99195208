"""The trainer's per-epoch audit: Gaussianity of held-out embeddings, kNN accuracy, plot.

Numbers come from the statistics core (:mod:`gaussaudit.stats`), the same
functions ``gaussaudit test`` uses, on the raw (unnormalised) view:

- CV of the row norms (:func:`~gaussaudit.stats.norm_concentration`);
- mean Anderson–Darling A² over coordinates and the fraction below 0.752
  (:func:`~gaussaudit.stats.anderson_darling`);
- mean D'Agostino–Pearson p-value and the fraction above 0.05
  (:func:`~gaussaudit.stats.dagostino_pearson`);
- the paper's "Gaussian?" rule: AD mean < 0.752 and DP mean p > 0.05.

Nothing here imports torch. :func:`plot_dynamics` draws Fig. 4 (CV, AD mean and
DP pass fraction against epoch) from a run's ``metrics.jsonl``.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "KNN_TEMPERATURE",
    "METRICS_FILE",
    "audit_matrix",
    "knn_accuracy",
    "plot_dynamics",
    "read_metrics",
]

METRICS_FILE = "metrics.jsonl"
#: Temperature of the similarity-weighted kNN vote (Wu et al. 2018; solo-learn).
KNN_TEMPERATURE = 0.07


def _num(value: Any) -> float | None:
    """Return a finite float, or None (JSON null) for NaN/inf."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def audit_matrix(x: np.ndarray, *, alpha: float = 0.05) -> dict[str, Any]:
    """Thin-shell and per-coordinate normality summary of one embedding matrix.

    Parameters
    ----------
    x : array_like, shape (n, d)
        Raw embeddings (float32 is fine; the tests work in float64).
    alpha : float
        Level of the D'Agostino–Pearson pass rule.

    Returns
    -------
    dict
        ``n``, ``d``, ``cv``, ``mean_norm``, ``cv_isotropic_gaussian``,
        ``effective_dimension``, ``ad_mean``, ``ad_pass``, ``ad_expected_pass``,
        ``dp_mean_p``, ``dp_pass``, ``n_tested`` (non-constant coordinates),
        ``gaussian`` (the paper's rule) and ``notes``. Values that cannot be
        computed are None (with the reason in ``notes``); a matrix holding
        NaN/Inf gives ``error`` instead.

    Examples
    --------
    >>> import numpy as np
    >>> a = audit_matrix(np.random.default_rng(0).standard_normal((500, 8)))
    >>> a["d"], a["gaussian"]
    (8, True)
    """
    from ..errors import InvalidEmbeddingsError, NotApplicableError
    from ..stats import anderson_darling, dagostino_pearson, norm_concentration

    arr = np.asarray(x)
    out: dict[str, Any] = {"n": int(arr.shape[0]), "d": int(arr.shape[1]), "notes": []}
    try:
        norms = norm_concentration(arr)
    except InvalidEmbeddingsError as err:
        out["error"] = str(err)
        return out
    out.update(
        cv=_num(norms.cv),
        mean_norm=_num(norms.mean),
        cv_isotropic_gaussian=_num(norms.cv_isotropic_gaussian),
        effective_dimension=_num(norms.effective_dimension),
    )
    ad = anderson_darling(arr)
    out["n_tested"] = ad.n_tested
    if ad.n_tested < out["d"]:
        out["notes"].append(f"{out['d'] - ad.n_tested} constant coordinate(s) not tested")
    if ad.n_tested:
        out.update(
            ad_mean=_num(np.mean(ad.statistics)),
            ad_pass=_num(ad.pass_fraction()),
            ad_expected_pass=_num(ad.expected_pass_fraction()),
        )
    else:
        out.update(ad_mean=None, ad_pass=None, ad_expected_pass=None)
    try:
        dp = dagostino_pearson(arr)
        ok = dp.n_tested > 0
        out.update(
            dp_mean_p=_num(np.mean(dp.pvalues)) if ok else None,
            dp_pass=_num(dp.pass_fraction(alpha)) if ok else None,
        )
    except NotApplicableError as err:
        out.update(dp_mean_p=None, dp_pass=None)
        out["notes"].append(str(err))
    ad_mean, dp_mean = out["ad_mean"], out["dp_mean_p"]
    out["gaussian"] = (
        None if ad_mean is None or dp_mean is None else bool(ad_mean < 0.752 and dp_mean > alpha)
    )
    return out


def knn_accuracy(
    bank: np.ndarray,
    bank_labels: np.ndarray,
    query: np.ndarray,
    query_labels: np.ndarray,
    *,
    k: int = 20,
    temperature: float = KNN_TEMPERATURE,
    block: int = 1024,
) -> float:
    """Top-1 accuracy of a cosine kNN classifier (weighted vote).

    Parameters
    ----------
    bank : ndarray, shape (m, d)
        Reference embeddings (training images).
    bank_labels : ndarray of int, shape (m,)
    query : ndarray, shape (n, d)
        Embeddings to classify (held-out images).
    query_labels : ndarray of int, shape (n,)
    k : int
        Neighbours (capped at ``m``).
    temperature : float
        Each neighbour votes ``exp(cos / temperature)`` for its class.
    block : int
        Query rows per block (memory is ``block x m``, never ``n x m``).

    Returns
    -------
    float
        Fraction of queries whose predicted class equals their label.
    """

    def unit(a: np.ndarray) -> np.ndarray:
        a = np.asarray(a, dtype=np.float32)
        return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)

    bank_u, query_u = unit(bank), unit(query)
    bank_labels = np.asarray(bank_labels, dtype=np.int64)
    query_labels = np.asarray(query_labels, dtype=np.int64)
    n_classes = int(max(bank_labels.max(), query_labels.max())) + 1
    k = min(int(k), bank_u.shape[0])
    correct = 0
    for start in range(0, query_u.shape[0], block):
        sim = query_u[start : start + block] @ bank_u.T
        idx = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        top = np.take_along_axis(sim, idx, axis=1)
        weights = np.exp((top - 1.0) / temperature)  # shifted: same argmax, no overflow
        votes = np.zeros((sim.shape[0], n_classes))
        np.add.at(votes, (np.arange(sim.shape[0])[:, None], bank_labels[idx]), weights)
        correct += int(np.sum(votes.argmax(axis=1) == query_labels[start : start + block]))
    return correct / max(query_u.shape[0], 1)


def read_metrics(run_dir: str | os.PathLike) -> list[dict]:
    """Read the per-epoch records of a run (``RUN_DIR/metrics.jsonl``).

    Parameters
    ----------
    run_dir : str or PathLike

    Returns
    -------
    list of dict
        One record per line, in file order.
    """
    path = Path(run_dir) / METRICS_FILE
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def plot_dynamics(run_dir: str | os.PathLike, *, out: str | os.PathLike | None = None) -> Path:
    """Plot the training dynamics of a run (PAPER.md Fig. 4).

    Three panels against epoch, one line per audited layer: CV of the norms,
    mean AD statistic (with the 0.752 threshold) and the DP pass fraction (with
    the 0.95 expected under exact Gaussianity).

    Parameters
    ----------
    run_dir : str or PathLike
        A run directory holding ``metrics.jsonl``.
    out : str or PathLike, optional
        Image path (default ``RUN_DIR/dynamics.png``).

    Returns
    -------
    Path
        The PNG written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from ..io import atomic_write_bytes

    records = [r for r in read_metrics(run_dir) if r.get("layers")]
    layers: list[str] = []
    for r in records:
        layers += [name for name in r["layers"] if name not in layers]
    panels = (
        ("cv", "CV of norms", None),
        ("ad_mean", "AD mean (A²)", 0.752),
        ("dp_pass", "DP pass fraction", 0.95),
    )
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    for ax, (key, title, ref) in zip(axes, panels, strict=True):
        for name in layers:
            pts = [
                (r["epoch"], r["layers"][name].get(key))
                for r in records
                if name in r["layers"] and r["layers"][name].get(key) is not None
            ]
            if pts:
                ep, val = zip(*pts, strict=True)
                d = next(r["layers"][name]["d"] for r in records if name in r["layers"])
                ax.plot(ep, val, marker="o", ms=3, label=f"{name} ({d}-d)")
        if ref is not None:
            ax.axhline(ref, color="grey", ls="--", lw=1)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    if records:
        first = records[0]
        fig.suptitle(
            f"{first.get('method', '')} {first.get('arch', '')} on {first.get('dataset', '')}: "
            "held-out embeddings (raw)",
            fontsize=10,
        )
    fig.tight_layout()
    target = Path(out) if out is not None else Path(run_dir) / "dynamics.png"
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    plt.close(fig)
    atomic_write_bytes(target, buf.getvalue())
    return target
