"""Rendering of training runs: the per-epoch line, the final summary, the dynamics plot.

Everything here reads the trainer's per-epoch records (``RUN_DIR/metrics.jsonl``,
:mod:`gaussaudit.train.audit` for the schema: JSON-contract names such as
``layers.<layer>.coordinates.anderson_darling.mean``) and computes nothing.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from .._values import dig

__all__ = ["epoch_line", "plot_dynamics", "render_summary"]

_AD = ("coordinates", "anderson_darling")
_DP = ("coordinates", "dagostino_pearson")


def _fmt(value: Any, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def _pairs_part(layer: dict) -> str:
    """`` align A unif U`` of a layer's raw positive pairs, or nothing when not measured.

    Examples
    --------
    >>> _pairs_part({"pairs": {"alignment": 0.5, "uniformity": -3.21}})
    ' align 0.500 unif -3.21'
    >>> _pairs_part({})
    ''
    """
    align, unif = dig(layer, "pairs", "alignment"), dig(layer, "pairs", "uniformity")
    if align is None or unif is None:
        return ""
    return f" align {align:.3f} unif {unif:.2f}"


def epoch_line(record: dict) -> str:
    """One line describing an epoch record (shown while training).

    Parameters
    ----------
    record : dict
        A ``metrics.jsonl`` record.

    Returns
    -------
    str

    Examples
    --------
    >>> epoch_line({"epoch": 3, "train_loss": 1.25})
    'epoch 3 | loss 1.2500'
    """
    parts = [f"epoch {record['epoch']}"]
    if record.get("train_loss") is not None:
        parts.append(f"loss {record['train_loss']:.4f}")
    for name, a in (record.get("layers") or {}).items():
        parts.append(
            f"{name} ({a.get('d')}-d) CV {_fmt(dig(a, 'norms', 'cv'), '.3f')} "
            f"AD {_fmt(dig(a, *_AD, 'mean'), '.2f')} "
            f"({_fmt(dig(a, *_AD, 'pass_fraction'), '.0%')}) "
            f"DP {_fmt(dig(a, *_DP, 'mean_pvalue'), '.2f')} "
            f"({_fmt(dig(a, *_DP, 'pass_fraction'), '.0%')})"
            + (
                f" probe {dig(a, 'linear_probe', 'accuracy'):.0%}"
                if dig(a, "linear_probe", "accuracy") is not None
                else ""
            )
            + _pairs_part(a)
        )
    if record.get("knn_top1") is not None:
        parts.append(f"kNN {record['knn_top1']:.1%}")
    return " | ".join(parts)


def _rules(layers: dict) -> tuple[str, str]:
    """Return the AD threshold and the DP level as the audit recorded them."""
    from ..stats.univariate import AD_THRESHOLD

    threshold, alpha = str(AD_THRESHOLD), "0.05"
    for a in layers.values():
        if dig(a, *_AD, "threshold") is not None:
            threshold = f"{dig(a, *_AD, 'threshold'):g}"
        rule = dig(a, *_DP, "pass_rule")
        if isinstance(rule, str) and ">" in rule:
            alpha = rule.split(">")[-1].strip()
    return threshold, alpha


def render_summary(console: Any, result: Any, figure: Path | None = None) -> None:
    """Print the final audit (backbone and head) and where the run lives.

    Parameters
    ----------
    console : rich.console.Console
    result : gaussaudit.train.loop.RunResult
    figure : Path, optional
        The dynamics plot, when written.
    """
    from rich.table import Table

    record = result.final_audit
    cfg, res = result.config, result.resolved
    layers = record.get("layers") or {}
    threshold, alpha = _rules(layers)
    table = Table(
        title=f"{cfg.method} {res['arch']} on {cfg.dataset}: held-out audit at epoch "
        f"{record.get('epoch')} (n={res['n_eval']}, raw embeddings)",
        title_justify="left",
        caption=f"AD pass: A² < {threshold}; DP pass: p > {alpha}; Gaussian? = AD avg < "
        f"{threshold} and DP avg p > {alpha} (the paper's rule)",
        caption_justify="left",
    )
    for column in ("layer", "d", "CV", "AD avg", "AD pass", "DP avg p", "DP pass", "Gaussian?"):
        table.add_column(column, justify="left" if column == "layer" else "right")
    for name, a in layers.items():
        verdict = {True: "yes", False: "no"}.get(dig(a, "verdict", "paper_rule"), "–")
        table.add_row(
            name,
            str(a.get("d")),
            _fmt(dig(a, "norms", "cv"), ".3f"),
            _fmt(dig(a, *_AD, "mean"), ".3f"),
            _fmt(dig(a, *_AD, "pass_fraction"), ".1%"),
            _fmt(dig(a, *_DP, "mean_pvalue"), ".3f"),
            _fmt(dig(a, *_DP, "pass_fraction"), ".1%"),
            verdict,
        )
    console.print(table)
    _print_run_facts(console, result, record, figure)


def _print_run_facts(console: Any, result: Any, record: dict, figure: Path | None) -> None:
    cfg, res = result.config, result.resolved
    knn = record.get("knn_top1")
    if knn is not None:
        console.print(
            f"kNN top-1 (k={cfg.knn_k}, cosine, backbone, {res['n_knn_bank']} train images): "
            f"{knn:.1%}"
        )
    losses = [r["train_loss"] for r in result.metrics if r.get("train_loss") is not None]
    if losses:
        console.print(
            f"final train loss: {losses[-1]:.4f} ({res['loss']}, {res['precision_label']})"
        )
    console.print(f"run directory:  {result.run_dir}")
    console.print(f"checkpoint:     {result.checkpoint}")
    if result.final_checkpoint is not None:
        console.print(f"final weights:  {result.final_checkpoint}")
    console.print(f"metrics:        {result.metrics_path}")
    if figure is not None:
        console.print(f"dynamics plot:  {figure}")
    if cfg.arch != "resnet18":
        console.print(
            "MLP runs are not served by the resnet18-* encoders; load the weights with "
            "gaussaudit.train.checkpoint.load_checkpoint."
        )
        return
    model = f"resnet18-{cfg.method}"
    default_runs = Path("runs").resolve()
    if result.run_dir.resolve().parent == default_runs:
        console.print(
            f"'gaussaudit embed --model {model} {cfg.dataset}' now uses this run "
            "(the newest under runs/; add --layer head for the head output)."
        )
    else:
        console.print(
            f"embed with it: gaussaudit embed --model {model} {cfg.dataset} "
            f"--checkpoint {result.checkpoint}"
        )


def _reference(records: list[dict], *keys: str) -> float | None:
    """Return the first recorded value of a reference line (threshold, expected fraction)."""
    for r in records:
        for a in r["layers"].values():
            value = dig(a, *keys)
            if value is not None:
                return float(value)
    return None


def _panel(ax: Any, records: list[dict], layers: list[str], keys: tuple, title: str, ref) -> None:
    """Draw one metric against epoch, one line per layer, with its reference line."""
    from matplotlib.ticker import MaxNLocator

    for name in layers:
        pts = [
            (r["epoch"], dig(r["layers"][name], *keys))
            for r in records
            if name in r["layers"] and dig(r["layers"][name], *keys) is not None
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


def plot_dynamics(records: list[dict], *, out: str | os.PathLike) -> Path:
    """Plot the training dynamics of a run (PAPER.md Fig. 4).

    Six panels against epoch, one line per audited layer: CV of the norms,
    mean AD statistic (with the A² pass threshold), the AD and DP pass
    fractions (with the fraction expected under exact Gaussianity), the
    effective dimension and the linear-probe accuracy (so a collapsed encoder
    shows), as recorded; two more (alignment and uniformity of the positive
    pairs, raw view) when the records hold ``layers.<layer>.pairs``.

    Parameters
    ----------
    records : list of dict
        The run's per-epoch records (:func:`gaussaudit.train.runs.read_metrics`).
    out : str or PathLike
        Image path (the trainer writes ``RUN_DIR/dynamics.png``).

    Returns
    -------
    Path
        The PNG written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..io import atomic_write_bytes

    records = [r for r in records if r.get("layers")]
    layers: list[str] = []
    for r in records:
        layers += [name for name in r["layers"] if name not in layers]
    panels = (
        (("norms", "cv"), "CV of norms", None),
        ((*_AD, "mean"), "AD mean (A²)", _reference(records, *_AD, "threshold")),
        (
            (*_AD, "pass_fraction"),
            "AD pass fraction",
            _reference(records, *_AD, "null_band", "expected"),
        ),
        (
            (*_DP, "pass_fraction"),
            "DP pass fraction",
            _reference(records, *_DP, "null_band", "expected"),
        ),
        (("norms", "effective_dimension"), "effective dimension", None),
        (("linear_probe", "accuracy"), "linear-probe accuracy (held-out)", None),
    )
    if any(dig(a, "pairs", "alignment") is not None for r in records for a in r["layers"].values()):
        panels += (
            (("pairs", "alignment"), "alignment (positive pairs, lower = closer)", None),
            (("pairs", "uniformity"), "uniformity (lower = more uniform)", None),
        )
    cols = len(panels) // 2
    fig, grid = plt.subplots(2, cols, figsize=(4 * cols, 6.6))
    axes = grid.ravel()
    for ax, (keys, title, ref) in zip(axes, panels, strict=True):
        _panel(ax, records, layers, keys, title, ref)
    axes[0].legend(fontsize=8)
    if records:
        first = records[0]
        fig.suptitle(
            f"{first.get('method', '')} {first.get('arch', '')} on {first.get('dataset', '')}: "
            "held-out embeddings (raw)",
            fontsize=10,
        )
    fig.tight_layout()
    target = Path(out)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    plt.close(fig)
    atomic_write_bytes(target, buf.getvalue())
    return target
