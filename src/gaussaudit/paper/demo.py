"""The offline demo: the paper's comparison, end to end, with no download.

When torch and Fashion-MNIST (Debian's ``dataset-fashion-mnist``, or
torchvision's layout under ``GAUSSAUDIT_DATA``) are available, :func:`run_demo`
trains a small contrastive (SimCLR-style InfoNCE) and a small supervised
encoder (the two-layer MLP of the paper's Fig. 4, identical initialisation) and
follows both through training: after every epoch the held-out output is
audited (A², AD and DP pass fractions, norm CV, effective dimension, linear
probe). The dynamics go to ``OUT/demo.html`` (figure, plain-language reading
written from the measured numbers, per-epoch table) and ``OUT/demo.json``; the
last epoch's embeddings get a full report each. Otherwise (and it says which
of torch and Fashion-MNIST is missing) it falls back to two synthetic
embedding sets that need neither torch nor data:

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "DEMO_DEFAULTS",
    "TRAINED_MODE_HOW",
    "DemoResult",
    "make_demo_embeddings",
    "run_demo",
    "run_synthetic_demo",
    "run_trained_demo",
    "trained_mode_missing",
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
    dynamics : PairReport or None
        Trained mode: the per-epoch runs (:func:`gaussaudit.paper.fig4.run_pair_report`).
    explanation : dict
        Trained mode: ``shows``, ``does_not_show``, ``paper`` (sentences written
        from the measured numbers; :func:`gaussaudit.paper.reading.read_dynamics`).
    html : Path or None
        Trained mode: the dynamics report (``OUT/demo.html``).
    missing : tuple of str
        Synthetic mode: what the trained mode lacked (``"torch"``, ``"Fashion-MNIST"``).
    """

    reports: dict[str, dict]
    embedding_paths: dict[str, Path]
    report_paths: dict[str, Path]
    seconds: float
    mode: str = "synthetic"
    note: str = ""
    dynamics: Any = None
    explanation: dict = field(default_factory=dict)
    html: Path | None = None
    missing: tuple[str, ...] = ()


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


#: How the trained demo is turned on (said when it falls back).
TRAINED_MODE_HOW = (
    "the trained demo needs torch (pip install 'gaussaudit[torch]', CPU build: add "
    "--index-url https://download.pytorch.org/whl/cpu) and Fashion-MNIST (Debian package "
    "dataset-fashion-mnist, or its raw IDX files under $GAUSSAUDIT_DATA); the figure needs "
    "matplotlib (pip install 'gaussaudit[report]')"
)

#: Size of the trained demo (about a minute on 2 CPU cores).
DEMO_DEFAULTS = {"epochs": 5, "n_train": 4096, "n_eval": 2000, "batch_size": 128}


def trained_mode_missing() -> list[str]:
    """Say what the trained demo lacks here (empty when it can run).

    Returns
    -------
    list of str
        ``"torch"`` when torch is not importable, ``"Fashion-MNIST"`` when its
        raw files are not found (each checked separately; nothing is imported
        from torch and nothing is downloaded).

    Examples
    --------
    >>> set(trained_mode_missing()) <= {"torch", "Fashion-MNIST"}
    True
    """
    import importlib.util

    from ..train.dynamics import fashion_mnist_root

    missing = []
    try:
        has_torch = importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):  # a blocked or broken torch install
        has_torch = False
    if not has_torch:
        missing.append("torch")
    if fashion_mnist_root() is None:
        missing.append("Fashion-MNIST")
    return missing


def _fashion_mnist_available() -> bool:
    return not trained_mode_missing()


def run_trained_demo(
    out_dir: str | Path = "gaussaudit-demo",
    *,
    epochs: int = DEMO_DEFAULTS["epochs"],
    n_train: int = DEMO_DEFAULTS["n_train"],
    n_eval: int = DEMO_DEFAULTS["n_eval"],
    batch_size: int = DEMO_DEFAULTS["batch_size"],
    seed: int = 0,
    progress: bool = True,
) -> DemoResult:
    """Train a contrastive and a supervised MLP on Fashion-MNIST, following both per epoch.

    Both two-layer MLPs (784-512-256) start from the same initialisation; one is
    trained with InfoNCE on two augmented views, the other with cross-entropy.
    After every epoch the held-out output is audited (A², AD and DP pass
    fractions, norm CV, effective dimension, linear probe); the dynamics go to
    ``demo.html`` (figure, reading, table) and ``demo.json``, the last epoch's
    embeddings to ``<run>.npy`` with a full ``gaussaudit test`` report each.

    Parameters
    ----------
    out_dir : path-like
        Everything is written here.
    epochs, n_train, n_eval, batch_size : int
        Size of the run (defaults: :data:`DEMO_DEFAULTS`).
    seed : int
        Same seed, hence identical initialisation, for both encoders.
    progress : bool
        One line per audited epoch on stderr.

    Returns
    -------
    DemoResult
        With ``dynamics`` (:class:`gaussaudit.paper.fig4.PairReport`) and
        ``explanation`` (:func:`gaussaudit.paper.reading.read_dynamics`).
    """
    from ..errors import ResourceUnavailableError
    from ..io import load_embeddings, save_embeddings
    from ..train.dynamics import DynamicsSettings, load_image_arrays
    from .fig4 import run_pair_report

    start = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    settings = DynamicsSettings(
        epochs=epochs, n_train=n_train, n_eval=n_eval, batch_size=batch_size, seed=seed
    )
    data = load_image_arrays(n_train, n_eval)
    if data is None:
        raise ResourceUnavailableError(f"Fashion-MNIST not found; {TRAINED_MODE_HOW}")
    title = "gaussaudit demo: contrastive vs supervised MLP on Fashion-MNIST, per epoch"
    pair = run_pair_report(
        out, settings, data, name="demo", title=title, progress=progress, keep_embeddings=True
    )
    reports: dict[str, dict] = {}
    emb_paths: dict[str, Path] = {}
    rep_paths: dict[str, Path] = {}
    for label, method in (("contrastive", "simclr"), ("supervised", "supervised")):
        path = out / f"{label}.npy"
        save_embeddings(
            path,
            pair.embeddings[method],
            provenance={
                "encoder": f"mlp-{method}",
                "layer": "output",
                "dataset": data.name,
                "split": "test",
                "epoch": epochs,
                "seed": seed,
                "trainer": {"method": method, "arch": "mlp", **settings.to_dict()},
            },
            labels=data.test_y,
        )
        embeddings = load_embeddings(path)
        reports[label], rep_paths[label] = _write_reports(out, label, embeddings, seed)
        emb_paths[label] = path
    note = (
        f"two-layer MLPs (784-512-256) trained {epochs} epochs on {len(data.train_x)} "
        f"Fashion-MNIST images, InfoNCE (tau 0.1) vs cross-entropy, same initialisation; "
        f"audited after every epoch on {len(data.test_x)} test images"
    )
    return DemoResult(
        reports,
        emb_paths,
        rep_paths,
        time.perf_counter() - start,
        "trained",
        note,
        dynamics=pair,
        explanation=pair.reading,
        html=pair.paths["html"],
    )


def run_demo(
    out_dir: str | Path = "gaussaudit-demo",
    *,
    n: int = 5000,
    d: int = 256,
    seed: int = 0,
    mode: str = "auto",
    epochs: int = DEMO_DEFAULTS["epochs"],
    n_train: int = DEMO_DEFAULTS["n_train"],
    n_eval: int = DEMO_DEFAULTS["n_eval"],
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
    epochs, n_train, n_eval : int
        Training epochs, training images and held-out images (trained mode).
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
    missing = tuple(trained_mode_missing()) if mode != "synthetic" else ()
    if mode == "trained" or (mode == "auto" and not missing):
        return run_trained_demo(
            out_dir,
            epochs=epochs,
            n_train=n_train,
            n_eval=n_eval,
            seed=seed,
            progress=progress,
        )
    return run_synthetic_demo(out_dir, n=n, d=d, seed=seed, missing=missing)


def run_synthetic_demo(
    out_dir: str | Path = "gaussaudit-demo",
    *,
    n: int = 5000,
    d: int = 256,
    seed: int = 0,
    missing: tuple[str, ...] | list[str] = (),
) -> DemoResult:
    """Write the synthetic demo sets, audit them and write a report for each.

    Parameters
    ----------
    out_dir : path-like
        Directory for ``<set>.npy``, ``<set>.json`` (provenance) and
        ``<set>.report.json``.
    n, d : int
    seed : int
    missing : sequence of str
        What the trained mode lacked (said in the note); empty when the
        synthetic mode was asked for.

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
    why = f"{' and '.join(missing)} not found, so no training; " if missing else "as asked; "
    note = f"synthetic sets ({why}anisotropic Gaussian vs post-ReLU)"
    return DemoResult(
        reports,
        emb_paths,
        rep_paths,
        time.perf_counter() - start,
        "synthetic",
        note,
        missing=tuple(missing),
    )
