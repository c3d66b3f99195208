"""Run directories: where a run lives, what it keeps, and how to find it again.

A run directory holds ``config.json`` (settings, what "auto" became, versions),
``metrics.jsonl`` (one JSON record per epoch, epoch 0 first), ``last.pt`` (the
newest state, resumable) and kept copies ``checkpoint-epochNNN.pt``. Default run
directories are ``<runs_dir>/<method>-[<arch>-]<dataset>-<YYYYmmdd-HHMMSS>``;
the checkpoint encoders (``resnet18-simclr``, ``resnet18-supervised``) look for
the newest one there.

:func:`clean_stale_temps` removes what a killed write left behind: the hidden
``.NAME.<hex>.tmp`` files of the run's own files (``last.pt``,
``checkpoint-epochNNN.pt``, ``config.json``, ``metrics.jsonl``,
``dynamics.png``), and nothing else.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from .config import RESUME_MUTABLE, TrainConfig

__all__ = [
    "CONFIG_FILE",
    "LAST",
    "METRICS_FILE",
    "RunStatus",
    "append_metrics",
    "check_resumable",
    "clean_stale_temps",
    "final_checkpoint_name",
    "find_run_dir",
    "load_run_config",
    "new_run_dir",
    "read_metrics",
    "run_prefix",
    "run_status",
    "write_metrics",
    "write_run_config",
]

LAST = "last.pt"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"
#: Hidden temporary files of an interrupted atomic write of one of the run's files.
_STALE_TEMP = re.compile(
    r"^\.(last\.pt|checkpoint-epoch\d+\.pt|config\.json|metrics\.jsonl|dynamics\.png)"
    r"\.[0-9A-Za-z_]+\.tmp$"
)


@dataclass(frozen=True)
class RunStatus:
    """How far a run directory got, read from its small files (no checkpoint is loaded).

    Attributes
    ----------
    run_dir : Path
    method : str
    arch : str
        Checkpoint architecture name (``resnet18-cifar`` or ``mlp``).
    dataset : str
    epochs : int
        Epochs the run was (last) asked for.
    epoch : int or None
        Last epoch recorded in ``metrics.jsonl`` (None when unreadable).
    finished : bool
        Whether the kept copy of the last epoch, ``checkpoint-epoch<epochs>.pt``,
        exists: the run's completion marker (written only when the last epoch
        ends).
    checkpoint : Path or None
        The final checkpoint of a finished run, else ``last.pt`` (None when
        the run has saved nothing yet).
    """

    run_dir: Path
    method: str
    arch: str
    dataset: str
    epochs: int
    epoch: int | None
    finished: bool
    checkpoint: Path | None


def final_checkpoint_name(epoch: int) -> str:
    """Return the file name of the kept checkpoint of ``epoch``.

    Examples
    --------
    >>> final_checkpoint_name(3)
    'checkpoint-epoch003.pt'
    """
    return f"checkpoint-epoch{int(epoch):03d}.pt"


def run_status(run_dir: str | os.PathLike) -> RunStatus | None:
    """Read how far a run got from ``config.json`` and ``metrics.jsonl``.

    Parameters
    ----------
    run_dir : str or PathLike

    Returns
    -------
    RunStatus or None
        None when the directory holds no readable ``config.json`` (not a run of
        this trainer, or one from before it wrote one).

    Examples
    --------
    >>> import tempfile, pathlib, json
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> info = {"config": TrainConfig(epochs=3).to_dict(), "resolved": {"arch": "resnet18-cifar"}}
    >>> _ = (d / CONFIG_FILE).write_text(json.dumps(info))
    >>> _ = (d / LAST).write_bytes(b"")
    >>> status = run_status(d)
    >>> status.finished, status.checkpoint.name, status.epochs
    (False, 'last.pt', 3)
    """
    run_dir = Path(run_dir)
    try:
        info = json.loads((run_dir / CONFIG_FILE).read_text())
        config = info["config"]
        method, dataset, epochs = (
            str(config["method"]),
            str(config["dataset"]),
            int(config["epochs"]),
        )
        arch = str((info.get("resolved") or {}).get("arch") or "")
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not arch:
        arch = "resnet18-cifar" if config.get("arch", "resnet18") == "resnet18" else "mlp"
    epoch = None
    try:
        records = read_metrics(run_dir)
        epoch = int(records[-1]["epoch"]) if records else None
    except (OSError, ValueError, KeyError, TypeError):
        pass
    final = run_dir / final_checkpoint_name(epochs)
    finished = final.is_file()
    checkpoint = final if finished else (run_dir / LAST if (run_dir / LAST).is_file() else None)
    if finished:
        epoch = epochs
    return RunStatus(run_dir, method, arch, dataset, epochs, epoch, finished, checkpoint)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:60] or "data"


def run_prefix(config: TrainConfig) -> str:
    """Return the name prefix of default run directories for ``config``.

    Parameters
    ----------
    config : TrainConfig

    Returns
    -------
    str
        ``<method>-[<arch>-]<dataset>-``.

    Examples
    --------
    >>> run_prefix(TrainConfig(method="supervised", arch="mlp", dataset="fake"))
    'supervised-mlp-fake-'
    """
    arch = "" if config.arch == "resnet18" else f"{config.arch}-"
    return f"{config.method}-{arch}{_slug(config.dataset)}-"


def find_run_dir(config: TrainConfig) -> Path | None:
    """Find the newest run of this method, arch and dataset under ``config.runs_dir``.

    Parameters
    ----------
    config : TrainConfig

    Returns
    -------
    Path or None
        A directory holding ``last.pt``, or None.
    """
    runs = Path(config.runs_dir)
    if not runs.is_dir():
        return None
    prefix = run_prefix(config)
    found = [p for p in runs.iterdir() if p.name.startswith(prefix) and (p / LAST).is_file()]
    return max(found, key=lambda p: (p / LAST).stat().st_mtime, default=None)


def new_run_dir(config: TrainConfig) -> Path:
    """Return a fresh default run directory path (not created) under ``config.runs_dir``.

    Parameters
    ----------
    config : TrainConfig

    Returns
    -------
    Path
        ``<runs_dir>/<prefix><timestamp>``, with ``-2``, ``-3``, ... when taken.
    """
    base = Path(config.runs_dir) / (run_prefix(config) + time.strftime("%Y%m%d-%H%M%S"))
    path, k = base, 1
    while path.exists():
        k += 1
        path = base.with_name(f"{base.name}-{k}")
    return path


def clean_stale_temps(run_dir: str | os.PathLike) -> list[Path]:
    """Remove the temporary files a killed write of the run's files left behind.

    Parameters
    ----------
    run_dir : str or PathLike
        A run directory (missing is fine).

    Returns
    -------
    list of Path
        The files removed (regular files named ``.NAME.<hex>.tmp`` for one of the
        run's own file names; symlinks and anything else are left alone).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / ".last.pt.0a1b2c3d4e5f.tmp").write_bytes(b"")
    >>> [p.name for p in clean_stale_temps(d)]
    ['.last.pt.0a1b2c3d4e5f.tmp']
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return []
    removed = []
    for path in sorted(run_dir.iterdir()):
        if _STALE_TEMP.match(path.name) and path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def check_resumable(saved: dict, config: TrainConfig, run_dir: Path) -> None:
    """Refuse to resume ``run_dir`` with settings that change its trajectory.

    Parameters
    ----------
    saved : dict
        The run's own settings (``TrainConfig.to_dict()`` from its checkpoint).
    config : TrainConfig
        The settings asked for now.
    run_dir : Path

    Raises
    ------
    UsageError
        When a setting outside :data:`~gaussaudit.train.config.RESUME_MUTABLE`
        differs.
    """
    new = config.to_dict()
    diff = sorted(k for k in new if k not in RESUME_MUTABLE and saved.get(k) != new[k])
    if diff:
        shown = ", ".join(f"{k}: {saved.get(k)!r} -> {new[k]!r}" for k in diff)
        raise UsageError(
            f"cannot resume {run_dir}: settings differ from the run's ({shown}); "
            "resume with the run's own settings (only epochs, device, root, download, "
            "eval/checkpoint frequency may change)"
        )


def write_run_config(run_dir: Path, info: dict) -> None:
    """Write ``RUN_DIR/config.json`` atomically (creating the directory).

    Parameters
    ----------
    run_dir : Path
    info : dict
        ``config`` (``TrainConfig.to_dict()``), ``resolved``, ``choices``,
        ``versions``, ``written``.
    """
    from ..io import atomic_write_text

    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / CONFIG_FILE, json.dumps(info, indent=2) + "\n")


def load_run_config(run_dir: str | os.PathLike) -> TrainConfig:
    """Read the configuration a run was started (or last resumed) with.

    Parameters
    ----------
    run_dir : str or PathLike
        A run directory (reads ``config.json``, else ``last.pt``).

    Returns
    -------
    TrainConfig

    Raises
    ------
    UsageError
        When the directory holds no run.
    """
    run_dir = Path(run_dir)
    cfg = run_dir / CONFIG_FILE
    if cfg.is_file():
        return TrainConfig.from_dict(json.loads(cfg.read_text())["config"])
    if (run_dir / LAST).is_file():
        from .checkpoint import load_checkpoint

        return TrainConfig.from_dict(load_checkpoint(run_dir / LAST)["metrics"]["train_config"])
    raise UsageError(f"{run_dir} holds no training run (no {CONFIG_FILE} or {LAST})")


def read_metrics(run_dir: str | os.PathLike) -> list[dict]:
    """Read the per-epoch records of a run (``RUN_DIR/metrics.jsonl``).

    Parameters
    ----------
    run_dir : str or PathLike

    Returns
    -------
    list of dict
        One record per line, in file order (the schema is described in
        :mod:`gaussaudit.train.audit`).
    """
    path = Path(run_dir) / METRICS_FILE
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def write_metrics(run_dir: Path, records: list[dict]) -> None:
    """Rewrite ``RUN_DIR/metrics.jsonl`` atomically with ``records``.

    Parameters
    ----------
    run_dir : Path
    records : list of dict
    """
    from ..io import atomic_write_text

    text = "".join(json.dumps(r) + "\n" for r in records)
    atomic_write_text(run_dir / METRICS_FILE, text)


def append_metrics(run_dir: Path, record: dict) -> None:
    """Append one record to ``RUN_DIR/metrics.jsonl`` (flushed and fsynced).

    Parameters
    ----------
    run_dir : Path
    record : dict
    """
    with (run_dir / METRICS_FILE).open("a") as fh:
        fh.write(json.dumps(record) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
