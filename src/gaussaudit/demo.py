"""The offline demo: audit embeddings the project makes itself.

Two synthetic embedding sets stand in for the paper's comparison, with no
download and no torch:

- ``gaussian``: ``z = g A`` with ``g ~ N(0, I_d)`` and a random mixing ``A``
  whose singular values decay like ``k^(-1/4)`` (effective dimension ~180
  at d = 256): a full-rank anisotropic
  Gaussian, what the paper predicts for a contrastive encoder's
  (unnormalised) embeddings.
- ``post_relu``: ``relu(W h)`` for Gaussian ``h`` and random ``W``, a 256-d
  non-negative, skewed feature like a supervised network's pooled
  penultimate layer (PAPER.md §3.3).

:func:`run_demo` writes both as ``.npy`` with a provenance sidecar, audits them
and writes one JSON report per set.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["DemoResult", "make_demo_embeddings", "run_demo"]


@dataclass(frozen=True)
class DemoResult:
    """What the demo wrote and found.

    Attributes
    ----------
    reports : dict
        Report model per embedding set.
    embedding_paths, report_paths : dict
        Files written per set.
    seconds : float
    """

    reports: dict[str, dict]
    embedding_paths: dict[str, Path]
    report_paths: dict[str, Path]
    seconds: float


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
    """
    rng = np.random.default_rng(seed)
    rotation = np.linalg.qr(rng.standard_normal((d, d)))[0]
    mix = rotation * np.arange(1, d + 1)[:, None] ** -0.25
    gaussian = rng.standard_normal((n, d)) @ mix
    latent = max(d // 4, 2)
    weights = rng.standard_normal((latent, d)) / np.sqrt(latent)
    post_relu = np.maximum(rng.standard_normal((n, latent)) @ weights, 0.0)
    return {"gaussian": gaussian.astype(np.float32), "post_relu": post_relu.astype(np.float32)}


def run_demo(
    out_dir: str | Path = "gaussaudit-demo", *, n: int = 5000, d: int = 256, seed: int = 0
) -> DemoResult:
    """Write the demo embeddings, audit them and write a JSON report for each.

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
    from .io import atomic_write_text, load_embeddings, save_embeddings
    from .report.json import render_json
    from .report.model import build_report
    from .stats.battery import audit

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
        report = build_report(audit(embeddings, seed=seed), embeddings)
        report_path = out / f"{name}.report.json"
        atomic_write_text(report_path, render_json(report))
        reports[name], emb_paths[name], rep_paths[name] = report, path, report_path
    return DemoResult(reports, emb_paths, rep_paths, time.perf_counter() - start)
