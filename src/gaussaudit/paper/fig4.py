"""``reproduce fig4``: the paper's Fig. 4 training dynamics, contrastive against supervised.

:func:`reproduce_fig4` trains the two-layer MLP of PAPER.md §3.4 with InfoNCE
and its supervised twin from the same initialisation
(:func:`gaussaudit.train.dynamics.train_pair`), audits the held-out output after
every epoch (A², AD and DP pass fractions, norm CV, effective dimension,
linear-probe accuracy) and writes, under ``out_dir``:

- ``fig4.json``: settings, reductions against the paper, data source, the
  per-epoch rows of both runs, the paper's Fig. 4 values
  (:data:`gaussaudit.paper.reference.FIG4`) and the plain-language reading;
- ``contrastive/metrics.jsonl`` and ``supervised/metrics.jsonl``: the full
  per-epoch records (the trainer's schema, :mod:`gaussaudit.train.audit`);
- ``fig4.png`` (with the ``report`` extra), ``fig4.html`` and ``fig4.md``.

:func:`run_pair_report` does the same for any size; the demo calls it too.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .reference import AD_THRESHOLD, FIG4

__all__ = [
    "FIG4_DEFAULTS",
    "PairReport",
    "data_for",
    "reductions",
    "reproduce_fig4",
    "run_pair_report",
]

#: Default size of ``reproduce fig4`` (a few minutes on 2 CPU cores).
FIG4_DEFAULTS = {"epochs": 20, "n_train": 10000, "n_eval": 2000}
_PAPER = {"epochs": 100, "n_train": 50000, "n_eval": 10000, "batch_size": 256}


@dataclass(frozen=True)
class PairReport:
    """What :func:`run_pair_report` wrote and found.

    Attributes
    ----------
    runs : dict
        ``{"contrastive": rows, "supervised": rows}``, flat per-epoch rows
        (:func:`gaussaudit.paper.reading.series`).
    records : dict
        The full per-epoch records of each run.
    reading : dict
        :func:`gaussaudit.paper.reading.read_dynamics` output.
    facts : list of str
        What was run, including every reduction against the paper.
    paths : dict
        Files written (``json``, ``html``, ``markdown``, ``figure`` when drawn,
        ``metrics.<run>``).
    seconds : float
        Wall time of training and auditing.
    synthetic : bool
        True when the images were synthetic stand-ins.
    embeddings : dict
        Last-epoch held-out outputs when asked for (``keep_embeddings``).
    """

    runs: dict[str, list[dict]]
    records: dict[str, list[dict]]
    reading: dict[str, list[str]]
    facts: list[str]
    paths: dict[str, Path]
    seconds: float
    synthetic: bool
    embeddings: dict = field(default_factory=dict)


def reductions(settings: Any, data: Any) -> list[str]:
    """List every way a run is smaller or different than the paper's Fig. 4 setup.

    Parameters
    ----------
    settings : gaussaudit.train.dynamics.DynamicsSettings
    data : gaussaudit.train.dynamics.ImageArrays

    Returns
    -------
    list of str

    Examples
    --------
    >>> from gaussaudit.train.dynamics import DynamicsSettings, synthetic_image_arrays
    >>> r = reductions(DynamicsSettings(epochs=3), synthetic_image_arrays(4, 4, size=8))
    >>> r[0].startswith("data:"), any("3 epochs" in s for s in r)
    (True, True)
    """
    side = data.train_x.shape[1]
    out = [
        f"data: {data.source}, {side}x{side} one channel, instead of CIFAR-10 (32x32 colour)",
        f"training images: {len(data.train_x)} (paper: all {_PAPER['n_train']} of CIFAR-10)",
        f"held-out images audited: {len(data.test_x)} (paper: the {_PAPER['n_eval']} test images)",
        f"{settings.epochs} epochs (paper: {_PAPER['epochs']}; its plot starts at epoch 10)",
        f"MLP widths {side * side} -> {settings.hidden} -> ReLU -> {settings.dim} "
        "(the paper does not state them)",
        "augmentation: the SimCLR recipe applied to whole batches as tensors; one channel, "
        "so no saturation, hue or grayscale",
        "the supervised twin (same initialisation, cross-entropy through a linear classifier) "
        "is not in the paper's Fig. 4",
    ]
    if settings.batch_size != _PAPER["batch_size"]:
        out.append(f"batch size {settings.batch_size} (paper: {_PAPER['batch_size']})")
    if settings.threads:
        out.append(f"torch threads: {settings.threads}")
    return out


def data_for(
    settings: Any, *, dataset: str = "auto", root: str | None = None, warn: Callable = print
) -> Any:
    """Load Fashion-MNIST, or synthetic stand-in images with a loud warning.

    Parameters
    ----------
    settings : DynamicsSettings
        Uses ``n_train``, ``n_eval`` and ``seed``.
    dataset : {"auto", "fashion-mnist", "synthetic"}
        ``auto`` falls back to synthetic images when Fashion-MNIST is absent;
        ``fashion-mnist`` refuses to.
    root : str, optional
        Fashion-MNIST directory.
    warn : callable
        Receives the warning text.

    Returns
    -------
    ImageArrays

    Raises
    ------
    ResourceUnavailableError
        ``dataset="fashion-mnist"`` and the files are not found.
    UnknownNameError
        Another ``dataset``.
    """
    from ..errors import ResourceUnavailableError, UnknownNameError
    from ..train.dynamics import load_image_arrays, synthetic_image_arrays

    if dataset not in ("auto", "fashion-mnist", "synthetic"):
        raise UnknownNameError("dataset", dataset, ("auto", "fashion-mnist", "synthetic"))
    n, m = settings.n_train, settings.n_eval
    if dataset != "synthetic":
        data = load_image_arrays(n, m, root=root)
        if data is not None:
            return data
        if dataset == "fashion-mnist":
            raise ResourceUnavailableError(
                "Fashion-MNIST not found (install Debian's dataset-fashion-mnist, or pass "
                "root= a directory holding its raw IDX files)"
            )
        warn(
            "WARNING: Fashion-MNIST was not found (Debian package dataset-fashion-mnist, "
            "$GAUSSAUDIT_DATA or ~/.cache/gaussaudit/data); training on SYNTHETIC stand-in "
            "images instead. These numbers say nothing about real images."
        )
    return synthetic_image_arrays(n, m, seed=settings.seed)


def _epoch_printer(total: int, stream: Any) -> Callable[[dict], None]:
    from ..train.audit import dynamics_row
    from .reading import LABELS

    def log(record: dict) -> None:
        row = dynamics_row(record["layers"]["output"])
        name = "contrastive" if record["method"] == "simclr" else "supervised"

        def f(key: str, spec: str) -> str:
            return "–" if row[key] is None else format(row[key], spec)

        seconds = sum(v for v in record.get("time", {}).values() if v)
        print(
            f"{LABELS[name]:<27} epoch {record['epoch']:>3}/{total}: A² {f('ad_mean', '.2f')}  "
            f"AD pass {f('ad_pass_fraction', '.0%')}  DP pass {f('dp_pass_fraction', '.0%')}  "
            f"CV {f('cv', '.3f')}  eff.dim {f('effective_dimension', '.1f')}  "
            f"probe {f('probe_accuracy', '.1%')}  ({seconds:.1f} s)",
            file=stream,
            flush=True,
        )

    return log


def run_pair_report(
    out_dir: str | Path,
    settings: Any,
    data: Any,
    *,
    name: str = "fig4",
    title: str = "",
    progress: bool = True,
    keep_embeddings: bool = False,
) -> PairReport:
    """Train the pair, audit every epoch, and write JSON, Markdown, figure and HTML.

    Parameters
    ----------
    out_dir : path-like
    settings : DynamicsSettings
    data : ImageArrays
    name : str
        Stem of the files written (``<name>.json``, ``.html``, ``.md``, ``.png``).
    title : str
        Title of the figure and the HTML page.
    progress : bool
        Print one line per audited epoch on stderr.
    keep_embeddings : bool
        Keep the last epoch's held-out output of each run in
        :attr:`PairReport.embeddings` (``{"simclr": array, "supervised": array}``).

    Returns
    -------
    PairReport
    """
    from ..io import atomic_write_text
    from ..report.dynamics import markdown_table, plot_pair, render_dynamics_html
    from ..train.dynamics import AUGMENTATION, train_pair
    from .reading import read_dynamics, series

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    log = _epoch_printer(settings.epochs, sys.stderr) if progress else None
    start = time.perf_counter()
    kept: dict = {}
    records = train_pair(data, settings, log=log, embeddings=kept if keep_embeddings else None)
    seconds = time.perf_counter() - start
    runs = {run: series(recs) for run, recs in records.items()}
    paths: dict[str, Path] = {}
    for run, recs in records.items():
        path = out / run / "metrics.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in recs))
        paths[f"metrics.{run}"] = path
    reduced = reductions(settings, data)
    reading = read_dynamics(
        records,
        data_note=f"{len(data.train_x)} {data.name} images",
        synthetic=data.synthetic,
        reductions=reduced,
    )
    facts = [
        f"data: {data.source}" + (" (SYNTHETIC stand-ins)" if data.synthetic else ""),
        f"two-layer MLP {data.train_x.shape[1] ** 2} -> {settings.hidden} -> ReLU -> "
        f"{settings.dim}, same initialisation (seed {settings.seed}); InfoNCE (tau "
        f"{settings.temperature}) vs cross-entropy; Adam lr {settings.lr}, weight decay "
        f"{settings.weight_decay}, batch {settings.batch_size}, {settings.epochs} epochs",
        f"audited after every epoch on {len(data.test_x)} held-out images (raw "
        f"{settings.dim}-d output): the battery of gaussaudit test plus a linear probe",
        f"augmentation: {AUGMENTATION}",
        f"wall time {seconds:.0f} s (training and auditing both runs)",
        *[f"reduction: {r}" for r in reduced],
    ]
    title = title or "Fig. 4: training dynamics, contrastive vs supervised (two-layer MLP)"
    figure = None
    try:
        figure = plot_pair(
            runs, out=out / f"{name}.png", title=title, paper=FIG4, ad_threshold=AD_THRESHOLD
        )
        paths["figure"] = figure
    except ImportError:
        facts.append("no figure: matplotlib (the report extra) is not installed")
    page = render_dynamics_html(
        title=title, runs=runs, reading=reading, facts=facts, figure=figure, paper=FIG4
    )
    paths["html"] = out / f"{name}.html"
    atomic_write_text(paths["html"], page)
    paths["markdown"] = out / f"{name}.md"
    atomic_write_text(paths["markdown"], markdown_table(runs) + "\n")
    payload = {
        "settings": settings.to_dict(),
        "data": {"name": data.name, "source": data.source, "synthetic": data.synthetic},
        "reductions": reduced,
        "augmentation": AUGMENTATION,
        "seconds": seconds,
        "runs": runs,
        "paper": {k: v for k, v in FIG4.items()},
        "reading": reading,
    }
    paths["json"] = out / f"{name}.json"
    atomic_write_text(paths["json"], json.dumps(payload, indent=2, default=str) + "\n")
    return PairReport(runs, records, reading, facts, paths, seconds, data.synthetic, kept)


def reproduce_fig4(
    out_dir: str | Path = "reproduce-fig4",
    *,
    epochs: int = FIG4_DEFAULTS["epochs"],
    n_train: int = FIG4_DEFAULTS["n_train"],
    n_eval: int = FIG4_DEFAULTS["n_eval"],
    batch_size: int = 256,
    seed: int = 0,
    threads: int | None = 1,
    dataset: str = "auto",
    root: str | None = None,
    progress: bool = True,
) -> PairReport:
    """Rerun the paper's Fig. 4 (two-layer MLP, InfoNCE) with a supervised twin.

    Parameters
    ----------
    out_dir : path-like
        Where ``fig4.json``, ``fig4.html``, ``fig4.md``, ``fig4.png`` and the
        per-run ``metrics.jsonl`` go.
    epochs, n_train, n_eval, batch_size : int
        Size of the run (defaults: :data:`FIG4_DEFAULTS`, batch 256 as in the paper).
    seed : int
        Same initialisation for both encoders.
    threads : int or None
        torch threads (1 by default; None: torch's default).
    dataset : {"auto", "fashion-mnist", "synthetic"}
        ``auto``: Fashion-MNIST when found, else synthetic images (loudly).
    root : str, optional
        Fashion-MNIST directory.
    progress : bool
        One line per audited epoch on stderr.

    Returns
    -------
    PairReport

    Examples
    --------
    >>> result = reproduce_fig4("out", epochs=1, n_train=64, n_eval=40,
    ...                         batch_size=32, dataset="synthetic")  # doctest: +SKIP
    >>> sorted(result.runs)  # doctest: +SKIP
    ['contrastive', 'supervised']
    """
    from ..train.dynamics import DynamicsSettings

    settings = DynamicsSettings(
        epochs=epochs,
        n_train=n_train,
        n_eval=n_eval,
        batch_size=batch_size,
        seed=seed,
        threads=threads,
    )
    data = data_for(settings, dataset=dataset, root=root, warn=lambda s: print(s, file=sys.stderr))
    return run_pair_report(out_dir, settings, data, name="fig4", progress=progress)
