"""The training loop: SimCLR or supervised, audited every epoch, resumable.

:func:`train` is a short plain loop (lightly / solo-learn habits):

1. choose the run directory (:mod:`~gaussaudit.train.runs`), remove temporary
   files a killed save left there, and when resuming load and verify
   ``last.pt`` (:mod:`~gaussaudit.train.checkpoint`);
2. build data, model and method (:func:`~gaussaudit.train.session.setup`; the
   model after ``torch.manual_seed(seed)``, so the SimCLR and the supervised
   model start from identical backbones);
3. audit epoch 0 (the untrained model: the paper's epoch-0 baseline);
4. for each epoch: reseed torch, numpy and ``random`` from ``(seed, epoch)``,
   shuffle with a generator seeded the same way, take the method's steps
   (:mod:`~gaussaudit.train.methods`), then audit the held-out embeddings of the
   backbone and of the head with the battery of ``gaussaudit test``
   (:mod:`~gaussaudit.train.audit`), append one JSON line to
   ``RUN_DIR/metrics.jsonl`` and save ``RUN_DIR/last.pt`` atomically.

Because every epoch starts from a seed that depends only on ``(seed, epoch)``,
stopping after epoch k and resuming from ``last.pt`` (weights, Adam state,
grad-scaler state, history, RNG states) gives bit-identical weights and metrics
to an uninterrupted run on the same device and worker count (tested on CPU).

In ``last.pt`` the optimizer, grad-scaler and RNG states travel in the
checkpoint's ``metrics`` dict under ``trainer_state`` (plain containers and
tensors only; loadable with ``weights_only=True``); the kept copies
``checkpoint-epochNNN.pt`` (every ``checkpoint_every`` epochs and the last)
hold weights, config and history only. ``gaussaudit embed --model
resnet18-simclr`` finds the newest run under ``runs/``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import MissingExtraError, UsageError
from ..versions import package_versions
from .config import CHOICES, TrainConfig
from .estimate import RunEstimate, audited_epochs, start_banner
from .methods import train_step
from .runs import (
    LAST,
    METRICS_FILE,
    append_metrics,
    check_resumable,
    clean_stale_temps,
    find_run_dir,
    load_run_config,
    new_run_dir,
    read_metrics,
    run_prefix,
    write_metrics,
    write_run_config,
)
from .seeding import epoch_seed
from .session import TIMING_KEY, Session, build_train_model, embed_layers, has_head, setup

__all__ = [
    "LAST",
    "RunResult",
    "build_train_model",
    "epoch_seed",
    "export_embeddings",
    "find_run_dir",
    "load_run_config",
    "read_metrics",
    "train",
    "train_step",
]


def _torch():
    try:
        import torch
    except ImportError as err:
        raise MissingExtraError("torch", "train", "training") from err
    return torch


@dataclass(frozen=True)
class RunResult:
    """What :func:`train` produced.

    Attributes
    ----------
    run_dir : Path
        The run directory.
    checkpoint : Path
        ``RUN_DIR/last.pt`` (the newest state).
    final_checkpoint : Path or None
        ``RUN_DIR/checkpoint-epochNNN.pt`` of the last epoch.
    metrics_path : Path
        ``RUN_DIR/metrics.jsonl``.
    metrics : list of dict
        One record per epoch, epoch 0 first (schema: :mod:`gaussaudit.train.audit`).
    config : TrainConfig
    resolved : dict
        What "auto" and the defaults became: device, precision, image size,
        channels, normalisation, sample counts, class count, architecture.
    resumed_from : int or None
        Epoch the run was resumed from.
    """

    run_dir: Path
    checkpoint: Path
    final_checkpoint: Path | None
    metrics_path: Path
    metrics: list[dict]
    config: TrainConfig
    resolved: dict
    resumed_from: int | None = None

    @property
    def final_audit(self) -> dict:
        """The last record holding an audit (``layers``)."""
        return next((r for r in reversed(self.metrics) if r.get("layers")), {})


def _progress_columns():
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return (
        TextColumn("[bold]{task.description}[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}"),
        TextColumn("{task.fields[rate]} items/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )


def _open(config: TrainConfig, resume: bool) -> tuple[TrainConfig, Path, dict | None]:
    """Choose the run directory, clean stale temp files; load and check ``last.pt`` to resume."""
    from .checkpoint import load_checkpoint

    if config.out is not None:
        run_dir = Path(config.out)
    elif resume:
        run_dir = find_run_dir(config)
        if run_dir is None:
            raise UsageError(
                f"nothing to resume: no {run_prefix(config)}* run with {LAST} in "
                f"{config.runs_dir}/ (pass out=RUN_DIR)",
                option="out",
            )
    else:
        run_dir = new_run_dir(config)
    config = config.replace(out=str(run_dir))
    clean_stale_temps(run_dir)
    last = run_dir / LAST
    if not resume:
        if last.exists():
            raise UsageError(
                f"{run_dir} already holds a run; pass resume=True or another out=DIR",
                option=("resume", "out"),
            )
        return config, run_dir, None
    if not last.is_file():
        raise UsageError(f"nothing to resume: {last} does not exist")
    ckpt = load_checkpoint(last)
    check_resumable(ckpt["metrics"]["train_config"], config, run_dir)
    return config, run_dir, ckpt


def _write_config(run: Session) -> None:
    write_run_config(
        run.run_dir,
        {
            "config": run.config.to_dict(),
            "resolved": run.resolved,
            "choices": CHOICES,
            "versions": package_versions("gaussaudit", "numpy", "scipy", "torch", "torchvision"),
            "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
    )


def _say(console: Any, text: str) -> None:
    """Print one unwrapped plain line (logs keep it whole)."""
    console.print(text, soft_wrap=True, highlight=False, markup=False)


def _start(run: Session, ckpt: dict | None, console: Any) -> tuple[int, list[dict]]:
    """Restore a resumed run, or audit and save the untrained baseline (epoch 0)."""
    from ..report.training import epoch_line

    if ckpt is not None:
        run.restore(ckpt)
        history = list(ckpt["metrics"]["history"])
        write_metrics(run.run_dir, history)  # drops lines written after last.pt
        _say(console, start_banner(run.config, run.resolved, int(ckpt["epoch"])))
        _say(console, f"resuming {run.run_dir} from epoch {int(ckpt['epoch'])}")
        return int(ckpt["epoch"]), history
    _say(console, start_banner(run.config, run.resolved))
    history = [run.audit(run.record(0, None))]
    write_metrics(run.run_dir, history)
    run.save(run.run_dir / LAST, 0, history)
    _say(console, epoch_line(history[0]))
    return 0, history


def _estimate(run: Session, start_epoch: int, history: list[dict], console: Any) -> RunEstimate:
    """Set up the estimate printed after the first steps of this process's first epoch."""
    config = run.config
    audit_seconds = next(
        (
            r[TIMING_KEY]["audit_seconds"]
            for r in reversed(history)
            if isinstance(r.get(TIMING_KEY), dict) and "audit_seconds" in r[TIMING_KEY]
        ),
        None,
    )
    audits = [e for e in audited_epochs(0, config.epochs, config.eval_every) if e > start_epoch]
    return RunEstimate(
        console,
        steps_left=(config.epochs - start_epoch) * int(run.resolved["steps_per_epoch"]),
        audits_left=len(audits),
        audit_seconds=audit_seconds,
    )


def _epochs(
    run: Session, start_epoch: int, history: list[dict], bar: Any, estimate: RunEstimate
) -> Path | None:
    """Train, audit, checkpoint and log every remaining epoch; return the last kept copy."""
    from ..report.training import epoch_line

    config, final = run.config, None
    for epoch in range(start_epoch + 1, config.epochs + 1):
        record = run.train_epoch(epoch, bar, on_step=estimate.step if estimate.pending else None)
        if epoch % config.eval_every == 0 or epoch == config.epochs:
            run.audit(record)
        history.append(record)
        run.save(run.run_dir / LAST, epoch, history)
        every = config.checkpoint_every
        if (every and epoch % every == 0) or epoch == config.epochs:
            kept = run.run_dir / f"checkpoint-epoch{epoch:03d}.pt"
            final = run.save(kept, epoch, history, state=False)
        append_metrics(run.run_dir, record)
        _say(bar.console, epoch_line(record))
    return final


def train(config: TrainConfig, *, resume: bool = False, progress: bool = True) -> RunResult:
    """Train, audit every epoch, checkpoint; or resume an interrupted run.

    Parameters
    ----------
    config : TrainConfig
        The run's settings (``config.out`` is the run directory; default
        ``<runs_dir>/<method>-[<arch>-]<dataset>-<timestamp>``).
    resume : bool
        Continue from ``RUN_DIR/last.pt`` up to ``config.epochs``. Without
        ``config.out`` the newest matching run under ``runs_dir`` is resumed.
        Settings other than epochs, device, root, download and the
        eval/checkpoint frequencies must equal the run's.
    progress : bool
        On standard error: a start banner, an ``estimated ...`` line after the
        first steps, progress per epoch (a rich bar on a terminal, plain
        periodic lines with elapsed time, rate and ETA otherwise) and one
        audit line per epoch.

    Returns
    -------
    RunResult

    Raises
    ------
    UsageError
        For a run directory that already holds a run (without ``resume``), no
        run to resume, changed settings on resume, too little data, or a loss
        that became NaN/inf.
    CheckpointError
        When ``last.pt`` fails its integrity check on resume.

    Notes
    -----
    Seeds: the model is built after ``torch.manual_seed(config.seed)``; epoch
    ``e`` reseeds torch, numpy and ``random`` (and the shuffling generator) with
    :func:`epoch_seed` ``(seed, e)``. Mutates the global RNG states.

    Examples
    --------
    >>> from gaussaudit.train.config import TrainConfig
    >>> cfg = TrainConfig(method="simclr", arch="mlp", dataset="fake", epochs=1,
    ...                   batch_size=16, dataset_options={"n": 64, "size": 8},
    ...                   device="cpu", knn_bank=0, out=tmp_run_dir)  # doctest: +SKIP
    >>> result = train(cfg, progress=False)  # doctest: +SKIP
    >>> [r["epoch"] for r in result.metrics]  # doctest: +SKIP
    [0, 1]
    """
    torch = _torch()
    from rich.console import Console

    from ..progress import progress_display

    console = Console(stderr=True, quiet=not progress)
    config, run_dir, ckpt = _open(config, resume)
    run = setup(torch, config, run_dir)
    _write_config(run)
    start_epoch, history = _start(run, ckpt, console)
    estimate = _estimate(run, start_epoch, history, console)
    display = progress_display(console, _progress_columns(), unit="steps", enabled=progress)
    with display as bar:
        final = _epochs(run, start_epoch, history, bar, estimate)
    if final is None:
        kept = run_dir / f"checkpoint-epoch{history[-1]['epoch']:03d}.pt"
        final = kept if kept.is_file() else None
    return RunResult(
        run_dir=run_dir,
        checkpoint=run_dir / LAST,
        final_checkpoint=final,
        metrics_path=run_dir / METRICS_FILE,
        metrics=history,
        config=config,
        resolved=run.resolved,
        resumed_from=start_epoch if ckpt is not None else None,
    )


def export_embeddings(run: RunResult | str | os.PathLike) -> dict[str, Path]:
    """Embed a finished run's held-out set and save each layer with provenance.

    Parameters
    ----------
    run : RunResult or path-like
        A :func:`train` result or its run directory (``last.pt`` is loaded with
        ``weights_only=True`` and verified).

    Returns
    -------
    dict
        ``{layer: RUN_DIR/embeddings-<layer>.npy}`` (``backbone``/``output`` and
        ``head``), each with a JSON sidecar, ready for ``gaussaudit test``.
    """
    from ..io import save_embeddings
    from .checkpoint import load_checkpoint

    torch = _torch()
    run_dir = Path(run.run_dir if isinstance(run, RunResult) else run)
    config = load_run_config(run_dir)
    session = setup(torch, config, run_dir)
    state = load_checkpoint(run_dir / LAST)
    session.model.load_state_dict(state["model"])
    with_head = has_head(session.model)
    layers, labels = embed_layers(
        torch, session.model, session.loaders["test"], session.device, with_head
    )
    out: dict[str, Path] = {}
    for layer, matrix in layers.items():
        name = layer if with_head else "output"
        path = run_dir / f"embeddings-{name}.npy"
        provenance = {
            "encoder": f"{config.arch}-{config.method}",
            "layer": name,
            "dataset": config.dataset,
            "split": "test",
            "run_dir": str(run_dir),
            "epoch": state.get("epoch"),
            "seed": config.seed,
            "trainer": config.to_dict(),
        }
        save_embeddings(
            path, matrix, provenance=provenance, labels=labels if (labels >= 0).all() else None
        )
        out[name] = path
    return out
