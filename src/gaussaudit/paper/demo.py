"""The offline demo: the paper's comparison, end to end, with no download.

When torch and Fashion-MNIST (Debian's ``dataset-fashion-mnist``, or
torchvision's layout under ``GAUSSAUDIT_DATA``) are available, :func:`run_demo`
trains a small contrastive (SimCLR-style InfoNCE) and a small supervised
encoder (the two-layer MLP of the paper's Fig. 4, identical initialisation),
extracts their held-out embeddings, audits both and writes JSON and HTML
reports. Otherwise it falls back to two synthetic embedding sets that need
neither torch nor data:

- ``gaussian``: ``z = g A`` with ``g ~ N(0, I_d)`` and a random mixing ``A``
  whose singular values decay like ``k^(-1/4)`` (effective dimension ~180
  at d = 256): a full-rank anisotropic
  Gaussian, what the paper predicts for a contrastive encoder's
  (unnormalised) embeddings.
- ``post_relu``: ``relu(W h)`` for Gaussian ``h`` and random ``W``, a 256-d
  non-negative, skewed feature like a supervised network's pooled
  penultimate layer (PAPER.md §3.3).

:func:`run_demo` writes both as ``.npy`` with a provenance sidecar, audits them
and writes one JSON report per set. It returns data only;
:func:`gaussaudit.report.tables.print_side_by_side` prints the reports side by side.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "DemoResult",
    "make_demo_embeddings",
    "run_demo",
    "run_synthetic_demo",
    "run_trained_demo",
]


@dataclass(frozen=True)
class DemoResult:
    """What the demo wrote and found.

    Attributes
    ----------
    reports : dict
        Report model per embedding set.
    embedding_paths, report_paths : dict
        Files written per set (``report_paths`` are the JSON reports; the HTML
        reports sit beside them when the report extra is installed).
    seconds : float
    mode : str
        ``"trained"`` or ``"synthetic"``.
    note : str
        What was run, in words.
    """

    reports: dict[str, dict]
    embedding_paths: dict[str, Path]
    report_paths: dict[str, Path]
    seconds: float
    mode: str = "synthetic"
    note: str = ""


def make_demo_embeddings(n: int = 5000, d: int = 256, *, seed: int = 0) -> dict[str, np.ndarray]:
    """Make the demo's two embedding sets.

    Parameters
    ----------
    n, d : int
        Rows and columns of each set.
    seed : int

    Returns
    -------
    dict
        ``{"gaussian": (n, d) array, "post_relu": (n, d) array}``, float32.

    Examples
    --------
    >>> sets = make_demo_embeddings(100, 8)
    >>> sets["gaussian"].shape, bool((sets["post_relu"] >= 0).all())
    ((100, 8), True)
    """
    rng = np.random.default_rng(seed)
    rotation = np.linalg.qr(rng.standard_normal((d, d)))[0]
    mix = rotation * np.arange(1, d + 1)[:, None] ** -0.25
    gaussian = rng.standard_normal((n, d)) @ mix
    latent = max(d // 4, 2)
    weights = rng.standard_normal((latent, d)) / np.sqrt(latent)
    post_relu = np.maximum(rng.standard_normal((n, latent)) @ weights, 0.0)
    return {"gaussian": gaussian.astype(np.float32), "post_relu": post_relu.astype(np.float32)}


def _write_reports(out: Path, name: str, embeddings, seed: int) -> tuple[dict, Path]:
    from ..io import atomic_write_text
    from ..report.json import render_json
    from ..report.model import build_report
    from ..stats.battery import audit

    report = build_report(audit(embeddings, seed=seed), embeddings)
    report_path = out / f"{name}.report.json"
    atomic_write_text(report_path, render_json(report))
    try:
        from ..report.html import render_html

        atomic_write_text(out / f"{name}.report.html", render_html(report))
    except ImportError:  # jinja2/matplotlib (report extra) not installed
        pass
    return report, report_path


def _fashion_mnist_available() -> bool:
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        return False
    from ..datasets import load_dataset
    from ..errors import GaussAuditError

    try:
        load_dataset("fashion-mnist", split="test", max_samples=1)
    except GaussAuditError:
        return False
    return True


def run_trained_demo(
    out_dir: str | Path = "gaussaudit-demo",
    *,
    epochs: int = 5,
    seed: int = 0,
    progress: bool = True,
) -> DemoResult:
    """Train a contrastive and a supervised MLP on Fashion-MNIST, then audit both.

    Parameters
    ----------
    out_dir : path-like
        Runs, embeddings and reports go here.
    epochs : int
        Training epochs per encoder (4096 training images, batch 128).
    seed : int
        Same seed, hence identical initialisation, for both encoders.
    progress : bool
        Show the trainer's progress.

    Returns
    -------
    DemoResult
    """
    from ..io import load_embeddings
    from ..train.config import TrainConfig
    from ..train.loop import export_embeddings, train

    start = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    reports: dict[str, dict] = {}
    emb_paths: dict[str, Path] = {}
    rep_paths: dict[str, Path] = {}
    for label, method in (("contrastive", "simclr"), ("supervised", "supervised")):
        config = TrainConfig(
            method=method,
            dataset="fashion-mnist",
            arch="mlp",
            loss="infonce",
            epochs=epochs,
            batch_size=128,
            max_train_samples=4096,
            max_eval_samples=2000,
            knn_bank=1000,
            precision="fp32",
            device="cpu",
            seed=seed,
            out=str(out / "runs" / label),
        )
        run = train(config, progress=progress)
        layers = export_embeddings(run)
        path = layers.get("output") or layers["backbone"]
        embeddings = load_embeddings(path)
        reports[label], rep_paths[label] = _write_reports(out, label, embeddings, seed)
        emb_paths[label] = path
    note = (
        f"two-layer MLPs (784-512-256) trained {epochs} epochs on 4096 Fashion-MNIST images, "
        "InfoNCE (tau 0.1) vs cross-entropy, same initialisation; audited on 2000 test images"
    )
    return DemoResult(reports, emb_paths, rep_paths, time.perf_counter() - start, "trained", note)


def run_demo(
    out_dir: str | Path = "gaussaudit-demo",
    *,
    n: int = 5000,
    d: int = 256,
    seed: int = 0,
    mode: str = "auto",
    epochs: int = 5,
    progress: bool = True,
) -> DemoResult:
    """Run the demo: trained encoders when possible, synthetic sets otherwise.

    Parameters
    ----------
    out_dir : path-like
        Directory for embeddings and reports.
    n, d : int
        Size of the synthetic sets (synthetic mode).
    seed : int
    mode : {"auto", "trained", "synthetic"}
        ``auto`` trains when torch and Fashion-MNIST are available.
    epochs : int
        Training epochs (trained mode).
    progress : bool

    Returns
    -------
    DemoResult

    Examples
    --------
    >>> result = run_demo("demo-out", n=1500, d=64, mode="synthetic")  # doctest: +SKIP
    >>> result.reports["post_relu"]["views"]["raw"]["verdict"]["paper_rule"]  # doctest: +SKIP
    False
    """
    from ..errors import UnknownNameError

    if mode not in ("auto", "trained", "synthetic"):
        raise UnknownNameError("demo mode", mode, ("auto", "trained", "synthetic"))
    if mode == "trained" or (mode == "auto" and _fashion_mnist_available()):
        return run_trained_demo(out_dir, epochs=epochs, seed=seed, progress=progress)
    return run_synthetic_demo(out_dir, n=n, d=d, seed=seed)


def run_synthetic_demo(
    out_dir: str | Path = "gaussaudit-demo", *, n: int = 5000, d: int = 256, seed: int = 0
) -> DemoResult:
    """Write the synthetic demo sets, audit them and write a report for each.

    Parameters
    ----------
    out_dir : path-like
        Directory for ``<set>.npy``, ``<set>.json`` (provenance) and
        ``<set>.report.json``.
    n, d : int
    seed : int

    Returns
    -------
    DemoResult
    """
    from ..io import load_embeddings, save_embeddings

    start = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    reports: dict[str, dict] = {}
    emb_paths: dict[str, Path] = {}
    rep_paths: dict[str, Path] = {}
    for name, matrix in make_demo_embeddings(n, d, seed=seed).items():
        path = out / f"{name}.npy"
        save_embeddings(
            path,
            matrix,
            provenance={
                "encoder": f"synthetic:{name}",
                "dataset": "gaussaudit.demo",
                "seed": seed,
                "description": (make_demo_embeddings.__module__ + ": " + name),
            },
        )
        embeddings = load_embeddings(path)
        reports[name], rep_paths[name] = _write_reports(out, name, embeddings, seed)
        emb_paths[name] = path
    note = "synthetic sets (no torch or Fashion-MNIST found): anisotropic Gaussian vs post-ReLU"
    return DemoResult(reports, emb_paths, rep_paths, time.perf_counter() - start, "synthetic", note)
