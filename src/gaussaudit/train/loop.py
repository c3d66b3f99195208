"""The training loop: SimCLR or supervised, audited every epoch, resumable.

:func:`train` is a short plain loop (lightly / solo-learn habits):

1. load the ``train`` split (optionally its first N items) and the ``test``
   split (the audited, held-out set);
2. build the model after ``torch.manual_seed(seed)`` (so the SimCLR and the
   supervised model start from identical backbones);
3. audit epoch 0 (the untrained model: the paper's epoch-0 baseline);
4. for each epoch: reseed torch, numpy and ``random`` from ``(seed, epoch)``,
   shuffle with a generator seeded the same way, take Adam steps on the
   contrastive loss of two SimCLR views (or cross-entropy on one view), then
   audit the held-out embeddings of the backbone and of the head
   (:mod:`gaussaudit.train.audit`), append one JSON line to
   ``RUN_DIR/metrics.jsonl`` and save ``RUN_DIR/last.pt`` atomically.

Because every epoch starts from a seed that depends only on ``(seed, epoch)``,
stopping after epoch k and resuming from ``last.pt`` (weights, Adam state,
grad-scaler state, history, RNG states) gives bit-identical weights and metrics
to an uninterrupted run on the same device and worker count (tested on CPU).

Checkpoints use :func:`gaussaudit.encoders.checkpoints.save_checkpoint`, so
``gaussaudit embed --model resnet18-simclr`` finds the newest run under
``runs/``. In ``last.pt`` the optimizer, grad-scaler and RNG states travel in
the checkpoint's ``metrics`` dict under ``trainer_state`` (plain containers and
tensors only; loadable with ``weights_only=True``); the kept copies
``checkpoint-epochNNN.pt`` (every ``checkpoint_every`` epochs and the last)
hold weights, config and history only, a third of the size.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MissingExtraError, UsageError
from ..versions import package_versions
from .audit import METRICS_FILE, audit_matrix, knn_accuracy, plot_dynamics, read_metrics
from .config import CHOICES, RESUME_MUTABLE, TrainConfig

__all__ = [
    "LAST",
    "RunResult",
    "build_train_model",
    "epoch_seed",
    "export_embeddings",
    "find_run_dir",
    "load_run_config",
    "plot_dynamics",
    "read_metrics",
    "train",
    "train_step",
]

LAST = "last.pt"
CONFIG_FILE = "config.json"
_TIMING_KEY = "time"


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
        One record per epoch, epoch 0 first.
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


# ----------------------------------------------------------------------------- seeding


def epoch_seed(seed: int, epoch: int) -> int:
    """Return the seed of one epoch, a function of ``(seed, epoch)`` only.

    Parameters
    ----------
    seed : int
        The run's seed.
    epoch : int
        Epoch number (1-based for training epochs).

    Returns
    -------
    int
        A 32-bit seed.
    """
    return int(np.random.SeedSequence([int(seed), int(epoch)]).generate_state(1)[0])


def _seed_everything(torch, seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - the global state, for user transforms
    torch.manual_seed(seed)  # also seeds every CUDA device


def _rng_state(torch) -> dict:
    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),  # noqa: NPY002 - saved for resume
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _tuples(obj: Any) -> Any:
    if isinstance(obj, list):
        return tuple(_tuples(v) for v in obj)
    return obj


def _set_rng_state(torch, state: dict) -> None:
    with contextlib.suppress(KeyError, TypeError, ValueError):
        random.setstate(_tuples(state["python"]))
    with contextlib.suppress(KeyError, TypeError, ValueError):
        kind, keys, pos, has_gauss, cached = state["numpy"]
        keys = np.asarray(keys, dtype=np.uint32)
        np.random.set_state((kind, keys, pos, has_gauss, cached))  # noqa: NPY002
    with contextlib.suppress(KeyError, TypeError, RuntimeError):
        torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        with contextlib.suppress(TypeError, RuntimeError):
            torch.cuda.set_rng_state_all(state["cuda"])


# ------------------------------------------------------------------------------- model


def build_train_model(config: TrainConfig, *, in_channels: int, n_classes: int, image_size: int):
    """Build the model of ``config`` with its seeded initialisation.

    The backbone is built first, right after ``torch.manual_seed(config.seed)``,
    so a ``simclr`` and a ``supervised`` config with the same seed and
    architecture get identical backbones (the heads differ).

    Parameters
    ----------
    config : TrainConfig
        Uses ``method``, ``arch``, ``seed``, ``proj_hidden``/``proj_dim`` and
        ``mlp_hidden``/``mlp_dim``.
    in_channels : int
        Image channels.
    n_classes : int
        Classes (supervised head).
    image_size : int
        Image side (the MLP's input is ``in_channels * image_size**2``).

    Returns
    -------
    CheckpointModel
        ``backbone`` then ``head``: SimCLR projection head or linear classifier
        for ResNet-18; identity (SimCLR) or linear classifier for the MLP.
    """
    torch = _torch()
    from torch import nn

    from .heads import LinearClassifier
    from .models import CheckpointModel, build_model

    torch.manual_seed(int(config.seed))
    if config.arch == "resnet18":
        return build_model(
            config.method,
            in_channels,
            n_classes,
            proj_hidden=config.proj_hidden,
            proj_dim=config.proj_dim,
        )
    from .mlp import MLPEncoder

    backbone = MLPEncoder(
        in_channels * image_size * image_size,
        config.mlp_hidden,
        config.mlp_dim,
        in_channels=in_channels,
    )
    head: nn.Module = (
        nn.Identity() if config.method == "simclr" else LinearClassifier(config.mlp_dim, n_classes)
    )
    return CheckpointModel(backbone, head, config.method)


def _arch_name(config: TrainConfig) -> str:
    from .mlp import MLP_ARCH
    from .models import ARCH

    return ARCH if config.arch == "resnet18" else MLP_ARCH


def _autocast(torch, device: str, precision: str):
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device, dtype=dtype)


def _resolve_precision(torch, precision: str, device: str) -> str:
    if precision == "auto":
        if device == "cuda":
            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        return "fp32"
    if precision == "fp16" and device != "cuda":
        raise UsageError("--precision fp16 needs CUDA; use bf16 (CPU autocast) or fp32")
    if precision == "bf16" and device == "mps":
        raise UsageError("--precision bf16 is not supported on MPS here; use fp32")
    return precision


def _precision_label(precision: str, device: str) -> str:
    if precision == "fp32":
        return "fp32"
    where = "CUDA AMP" if device == "cuda" else f"{device.upper()} autocast"
    return f"{precision} ({where}; weights and optimizer in fp32)"


def train_step(
    model,
    batch: Any,
    optimizer,
    *,
    method: str,
    loss_fn=None,
    device: str = "cpu",
    precision: str = "fp32",
    scaler=None,
) -> float:
    """One optimisation step; returns the loss.

    Parameters
    ----------
    model : CheckpointModel
        In train mode.
    batch : tuple
        ``((view1, view2), labels)`` for ``simclr``, ``(images, labels)`` for
        ``supervised`` (a DataLoader batch).
    optimizer : torch.optim.Optimizer
    method : {"simclr", "supervised"}
    loss_fn : callable, optional
        Contrastive loss ``loss_fn(z1, z2)`` (simclr only).
    device : str
        Where the model lives.
    precision : {"fp32", "bf16", "fp16"}
        Autocast dtype of the forward pass (the loss is computed in fp32).
    scaler : torch.amp.GradScaler, optional
        For fp16.

    Returns
    -------
    float
        The batch loss.
    """
    torch = _torch()
    from .losses import cross_entropy

    x, y = batch
    nb = device == "cuda"
    with _autocast(torch, device, precision):
        if method == "simclr":
            v1, v2 = x
            both = torch.cat([v1, v2]).to(device, non_blocking=nb)
            z1, z2 = model(both).float().chunk(2)
            loss = loss_fn(z1, z2)
        else:
            logits = model(x.to(device, non_blocking=nb)).float()
            loss = cross_entropy(logits, y.to(device, non_blocking=nb))
    optimizer.zero_grad(set_to_none=True)
    if scaler is not None:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    else:
        loss.backward()
        optimizer.step()
    return float(loss.detach())


# -------------------------------------------------------------------------------- data


class _Items:
    """Dataset of ``(transform(item), label)`` (picklable, for workers)."""

    def __init__(self, items: Any, labels: Any, transform: Any) -> None:
        self.items, self.labels, self.transform = items, labels, transform

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[Any, int]:
        label = -1 if self.labels is None else int(self.labels[i])
        return self.transform(self.items[i]), label


@dataclass
class _Data:
    train: Any
    test: Any
    channels: int
    image_size: int
    mean: tuple
    std: tuple
    n_classes: int


def _load_data(config: TrainConfig) -> _Data:
    from ..datasets import load_dataset
    from .augment import default_normalization

    common = dict(root=config.root, download=config.download, seed=config.seed)
    opts = dict(config.dataset_options)
    train = load_dataset(
        config.dataset, split="train", max_samples=config.max_train_samples, **common, **opts
    )
    test = load_dataset(
        config.dataset, split="test", max_samples=config.max_eval_samples, **common, **opts
    )
    if train.modality != "image":
        raise UsageError(
            f"the trainer needs an image dataset; {config.dataset!r} holds {train.modality}"
        )
    if len(train) < config.batch_size:
        raise UsageError(
            f"{len(train)} training item(s) but batch size {config.batch_size}: "
            "lower --batch-size or use more data"
        )
    if len(test) < 20:
        raise UsageError(f"the audit needs at least 20 held-out items, got {len(test)}")
    if config.method == "supervised" and train.labels is None:
        raise UsageError(f"supervised training needs labels; {config.dataset!r} has none")
    first = train.items[0]
    channels = 1 if getattr(first, "mode", "RGB") in ("L", "I", "F", "1") else 3
    width, height = first.size
    size = int(config.image_size or (height if height == width else 32))
    dmean, dstd = default_normalization(channels)
    mean = tuple(config.mean) if config.mean is not None else tuple(dmean)
    std = tuple(config.std) if config.std is not None else tuple(dstd)
    labels = [a for a in (train.labels, test.labels) if a is not None]
    n_classes = int(
        train.info.get("num_classes") or (max(int(np.max(a)) for a in labels) + 1 if labels else 1)
    )
    return _Data(train, test, channels, size, mean, std, n_classes)


def _loader(torch, dataset, config: TrainConfig, device: str, *, shuffle: bool, seed: int = 0):
    gen = None
    if shuffle:
        gen = torch.Generator()
        gen.manual_seed(seed)
    return torch.utils.data.DataLoader(
        dataset,
        batch_size=config.batch_size if shuffle else max(config.batch_size, 256),
        shuffle=shuffle,
        drop_last=shuffle,
        generator=gen,
        num_workers=config.num_workers,
        pin_memory=device == "cuda",
    )


# ------------------------------------------------------------------------------- audit


def _embed(torch, model, loader, device: str, precision: str, with_head: bool):
    feats, heads, labels = [], [], []
    model.eval()
    with torch.inference_mode(), _autocast(torch, device, precision):
        for x, y in loader:
            f = model.backbone(x.to(device, non_blocking=device == "cuda"))
            feats.append(f.float().cpu().numpy())
            if with_head:
                heads.append(model.head(f).float().cpu().numpy())
            labels.append(y.numpy())
    model.train()
    out = {"backbone": np.concatenate(feats)}
    if with_head:
        out["head"] = np.concatenate(heads)
    return out, np.concatenate(labels)


def _audit(torch, model, config, data, loaders, device) -> dict:
    from torch import nn

    # Always fp32: bf16 rounds embeddings to 3 significant digits, and the ties
    # that makes would bias the per-coordinate tests (and differ from `embed`).
    precision = "fp32"
    start = time.perf_counter()
    with_head = not isinstance(model.head, nn.Identity)
    layers_out, labels = _embed(torch, model, loaders["test"], device, precision, with_head)
    # An MLP trained by SimCLR has no head: its audited layer is its output.
    names = {"backbone": "backbone" if with_head else "output", "head": "head"}
    record: dict[str, Any] = {
        "layers": {names[name]: audit_matrix(z) for name, z in layers_out.items()},
        "knn_top1": None,
    }
    if loaders.get("bank") is not None and data.test.labels is not None:
        bank, bank_labels = _embed(torch, model, loaders["bank"], device, precision, False)
        record["knn_top1"] = knn_accuracy(
            bank["backbone"], bank_labels, layers_out["backbone"], labels, k=config.knn_k
        )
    record["audit_seconds"] = time.perf_counter() - start
    return record


# ---------------------------------------------------------------------------- run dirs


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:60] or "data"


def _run_prefix(config: TrainConfig) -> str:
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
    prefix = _run_prefix(config)
    found = [p for p in runs.iterdir() if p.name.startswith(prefix) and (p / LAST).is_file()]
    return max(found, key=lambda p: (p / LAST).stat().st_mtime, default=None)


def _new_run_dir(config: TrainConfig) -> Path:
    base = Path(config.runs_dir) / (_run_prefix(config) + time.strftime("%Y%m%d-%H%M%S"))
    path, k = base, 1
    while path.exists():
        k += 1
        path = base.with_name(f"{base.name}-{k}")
    return path


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
        from ..encoders.checkpoints import load_checkpoint

        return TrainConfig.from_dict(load_checkpoint(run_dir / LAST)["metrics"]["train_config"])
    raise UsageError(f"{run_dir} holds no training run (no {CONFIG_FILE} or {LAST})")


def _write_json_lines(path: Path, records: list[dict]) -> None:
    from ..io import atomic_write_text

    atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in records))


def _append_json_line(path: Path, record: dict) -> None:
    with path.open("a") as fh:
        fh.write(json.dumps(record) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


# ------------------------------------------------------------------------ checkpoints


def _optimizer_state(state: dict) -> dict:
    """Undo what checkpoint serialisation did to an optimizer state dict."""
    groups = []
    for group in state["param_groups"]:
        groups.append(
            {
                k: (tuple(v) if isinstance(v, list) and k != "params" else v)
                for k, v in group.items()
            }
        )
    return {"state": {int(k): v for k, v in state["state"].items()}, "param_groups": groups}


def _save(
    path, model, config, resolved, epoch, history, optimizer, scaler, torch, *, state=True
) -> Path:
    """Write a checkpoint; ``state=False`` leaves out the optimizer/RNG (kept copies)."""
    from ..encoders.checkpoints import save_checkpoint

    payload_config = {
        **config.to_dict(),
        "image_size": resolved["image_size"],
        "mean": list(resolved["mean"]),
        "std": list(resolved["std"]),
        "in_channels": resolved["in_channels"],
        "n_classes": resolved["n_classes"],
        "resolved": resolved,
    }
    metrics = {
        "history": history,
        "last": history[-1] if history else {},
        "train_config": config.to_dict(),
    }
    if state:
        metrics["trainer_state"] = {
            "optimizer": optimizer.state_dict(),
            "scaler": scaler.state_dict() if scaler is not None else None,
            "rng": _rng_state(torch),
        }
    return save_checkpoint(
        path,
        model,
        method=config.method,
        config=payload_config,
        epoch=epoch,
        metrics=metrics,
        arch=_arch_name(config),
    )


def _check_resumable(saved: dict, config: TrainConfig, run_dir: Path) -> None:
    new = config.to_dict()
    diff = sorted(k for k in new if k not in RESUME_MUTABLE and saved.get(k) != new[k])
    if diff:
        shown = ", ".join(f"{k}: {saved.get(k)!r} -> {new[k]!r}" for k in diff)
        raise UsageError(
            f"cannot resume {run_dir}: settings differ from the run's ({shown}); "
            "resume with the run's own settings (only epochs, device, root, download, "
            "eval/checkpoint frequency may change)"
        )


# -------------------------------------------------------------------------------- train


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


def _describe(record: dict) -> str:
    parts = [f"epoch {record['epoch']}"]
    if record.get("train_loss") is not None:
        parts.append(f"loss {record['train_loss']:.4f}")
    for name, a in (record.get("layers") or {}).items():

        def fmt(v, spec):
            return "–" if v is None else format(v, spec)

        parts.append(
            f"{name} ({a.get('d')}-d) CV {fmt(a.get('cv'), '.3f')} "
            f"AD {fmt(a.get('ad_mean'), '.2f')} ({fmt(a.get('ad_pass'), '.0%')}) "
            f"DP {fmt(a.get('dp_mean_p'), '.2f')} ({fmt(a.get('dp_pass'), '.0%')})"
        )
    if record.get("knn_top1") is not None:
        parts.append(f"kNN {record['knn_top1']:.1%}")
    return " | ".join(parts)


@dataclass
class _Session:
    """Everything one run holds while it trains (built by :func:`_open`)."""

    torch: Any
    config: TrainConfig
    run_dir: Path
    device: str
    precision: str
    data: _Data
    model: Any
    optimizer: Any
    scaler: Any
    loss_fn: Any
    train_set: _Items
    loaders: dict
    resolved: dict

    def record(self, epoch: int, loss: float | None) -> dict:
        return {
            "epoch": epoch,
            "method": self.config.method,
            "arch": self.config.arch,
            "dataset": self.config.dataset,
            "step": epoch * self.resolved["steps_per_epoch"],
            "train_loss": loss,
        }

    def audit(self, record: dict) -> dict:
        audited = _audit(self.torch, self.model, self.config, self.data, self.loaders, self.device)
        record.setdefault(_TIMING_KEY, {})["audit_seconds"] = audited.pop("audit_seconds")
        record.update(audited)
        return record

    def save(self, path: Path, epoch: int, history: list[dict], *, state: bool = True) -> Path:
        return _save(
            path,
            self.model,
            self.config,
            self.resolved,
            epoch,
            history,
            self.optimizer,
            self.scaler,
            self.torch,
            state=state,
        )

    def restore(self, ckpt: dict) -> None:
        self.model.load_state_dict(ckpt["model"])
        state = ckpt["metrics"]["trainer_state"]
        self.optimizer.load_state_dict(_optimizer_state(state["optimizer"]))
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        _set_rng_state(self.torch, state["rng"])

    def train_epoch(self, epoch: int, bar) -> dict:
        torch, config = self.torch, self.config
        seed = epoch_seed(config.seed, epoch)
        _seed_everything(torch, seed)
        loader = _loader(torch, self.train_set, config, self.device, shuffle=True, seed=seed)
        task = bar.add_task(
            f"epoch {epoch}/{config.epochs}",
            total=self.resolved["steps_per_epoch"],
            loss="–",
            rate="–",
        )
        self.model.train()
        total, steps, start = 0.0, 0, time.perf_counter()
        for batch in loader:
            loss = train_step(
                self.model,
                batch,
                self.optimizer,
                method=config.method,
                loss_fn=self.loss_fn,
                device=self.device,
                precision=self.precision,
                scaler=self.scaler,
            )
            if not np.isfinite(loss):
                raise UsageError(
                    f"the loss became {loss} at epoch {epoch}, step {steps + 1}; "
                    "lower --lr or use --precision fp32"
                )
            total, steps = total + loss, steps + 1
            rate = steps * config.batch_size / max(time.perf_counter() - start, 1e-9)
            bar.update(task, advance=1, loss=f"{total / steps:.4f}", rate=f"{rate:,.0f}")
        bar.stop_task(task)
        seconds = time.perf_counter() - start
        record = self.record(epoch, total / max(steps, 1))
        record[_TIMING_KEY] = {
            "train_seconds": seconds,
            "seconds_per_step": seconds / max(steps, 1),
            "items_per_second": steps * config.batch_size / seconds if seconds > 0 else None,
        }
        return record


def _open(config: TrainConfig, resume: bool) -> tuple[TrainConfig, Path, dict | None]:
    """Choose the run directory; load and check ``last.pt`` when resuming."""
    from ..encoders.checkpoints import load_checkpoint

    if config.out is not None:
        run_dir = Path(config.out)
    elif resume:
        run_dir = find_run_dir(config)
        if run_dir is None:
            raise UsageError(
                f"nothing to resume: no {_run_prefix(config)}* run with {LAST} in "
                f"{config.runs_dir}/ (pass --out RUN_DIR)"
            )
    else:
        run_dir = _new_run_dir(config)
    config = config.replace(out=str(run_dir))
    last = run_dir / LAST
    if not resume:
        if last.exists():
            raise UsageError(f"{run_dir} already holds a run; pass --resume or another --out")
        return config, run_dir, None
    if not last.is_file():
        raise UsageError(f"nothing to resume: {last} does not exist")
    ckpt = load_checkpoint(last)
    _check_resumable(ckpt["metrics"]["train_config"], config, run_dir)
    return config, run_dir, ckpt


def _setup(torch, config: TrainConfig, run_dir: Path) -> _Session:
    """Build the data, model, optimizer, loaders and resolved settings of a run."""
    from ..extract import resolve_device
    from .augment import TwoViews, eval_transform, simclr_transform
    from .losses import contrastive_loss

    device = resolve_device(config.device)
    precision = _resolve_precision(torch, config.precision, device)
    data = _load_data(config)
    model = build_train_model(
        config, in_channels=data.channels, n_classes=data.n_classes, image_size=data.image_size
    ).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    simclr = config.method == "simclr"
    aug = simclr_transform(
        data.image_size, data.channels, data.mean, data.std, jitter_p=config.jitter_p
    )
    evaluate = eval_transform(data.image_size, data.channels, data.mean, data.std)
    test_set = _Items(data.test.items, data.test.labels, evaluate)
    loaders: dict[str, Any] = {"test": _loader(torch, test_set, config, device, shuffle=False)}
    n_train = len(data.train)
    bank_n = n_train if config.knn_bank is None else min(config.knn_bank, n_train)
    if data.train.labels is None or data.test.labels is None:
        bank_n = 0
    if bank_n > 0:
        bank = _Items(data.train.items[:bank_n], np.asarray(data.train.labels)[:bank_n], evaluate)
        loaders["bank"] = _loader(torch, bank, config, device, shuffle=False)
    resolved = {
        "device": device,
        "precision": precision,
        "precision_label": _precision_label(precision, device),
        "arch": _arch_name(config),
        "in_channels": data.channels,
        "image_size": data.image_size,
        "mean": list(data.mean),
        "std": list(data.std),
        "n_classes": data.n_classes,
        "n_train": n_train,
        "n_eval": len(data.test),
        "n_knn_bank": bank_n,
        "steps_per_epoch": n_train // config.batch_size,
        "loss": config.loss if simclr else "cross_entropy",
    }
    return _Session(
        torch=torch,
        config=config,
        run_dir=run_dir,
        device=device,
        precision=precision,
        data=data,
        model=model,
        optimizer=optimizer,
        scaler=torch.amp.GradScaler("cuda") if precision == "fp16" else None,
        loss_fn=contrastive_loss(config.loss, config.temperature) if simclr else None,
        train_set=_Items(data.train.items, data.train.labels, TwoViews(aug) if simclr else aug),
        loaders=loaders,
        resolved=resolved,
    )


def _write_config(run: _Session) -> None:
    from ..io import atomic_write_text

    info = {
        "config": run.config.to_dict(),
        "resolved": run.resolved,
        "choices": CHOICES,
        "versions": package_versions("gaussaudit", "numpy", "scipy", "torch", "torchvision"),
        "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    run.run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run.run_dir / CONFIG_FILE, json.dumps(info, indent=2) + "\n")


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
        Show a rich progress bar per epoch and one audit line per epoch (stderr).

    Returns
    -------
    RunResult

    Raises
    ------
    UsageError
        For a run directory that already holds a run (without ``resume``), no
        run to resume, changed settings on resume, too little data, or a loss
        that became NaN/inf.

    Notes
    -----
    Seeds: the model is built after ``torch.manual_seed(config.seed)``; epoch
    ``e`` reseeds torch, numpy and ``random`` (and the shuffling generator) with
    :func:`epoch_seed` ``(seed, e)``. Mutates the global RNG states.
    """
    torch = _torch()
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True, quiet=not progress)
    config, run_dir, ckpt = _open(config, resume)
    run = _setup(torch, config, run_dir)
    _write_config(run)
    last, metrics_path = run_dir / LAST, run_dir / METRICS_FILE
    if ckpt is not None:
        run.restore(ckpt)
        history = list(ckpt["metrics"]["history"])
        start_epoch = int(ckpt["epoch"])
        _write_json_lines(metrics_path, history)  # drops lines written after last.pt
        console.print(f"resuming {run_dir} from epoch {start_epoch}")
    else:
        start_epoch = 0
        history = [run.audit(run.record(0, None))]  # the untrained baseline
        _write_json_lines(metrics_path, history)
        run.save(last, 0, history)
        console.print(_describe(history[0]))

    final = None
    with Progress(*_progress_columns(), console=console, disable=not progress) as bar:
        for epoch in range(start_epoch + 1, config.epochs + 1):
            record = run.train_epoch(epoch, bar)
            if epoch % config.eval_every == 0 or epoch == config.epochs:
                run.audit(record)
            history.append(record)
            run.save(last, epoch, history)
            every = config.checkpoint_every
            if (every and epoch % every == 0) or epoch == config.epochs:
                final = run.save(
                    run_dir / f"checkpoint-epoch{epoch:03d}.pt", epoch, history, state=False
                )
            _append_json_line(metrics_path, record)
            bar.console.print(_describe(record))
    if final is None:
        kept = run_dir / f"checkpoint-epoch{history[-1]['epoch']:03d}.pt"
        final = kept if kept.is_file() else None
    return RunResult(
        run_dir=run_dir,
        checkpoint=last,
        final_checkpoint=final,
        metrics_path=metrics_path,
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
        ``weights_only=True``).

    Returns
    -------
    dict
        ``{layer: RUN_DIR/embeddings-<layer>.npy}`` (``backbone``/``output`` and
        ``head``), each with a JSON sidecar, ready for ``gaussaudit test``.
    """
    from torch import nn

    from ..encoders.checkpoints import load_checkpoint
    from ..io import save_embeddings

    torch = _torch()
    run_dir = Path(run.run_dir if isinstance(run, RunResult) else run)
    config = load_run_config(run_dir)
    session = _setup(torch, config, run_dir)
    state = load_checkpoint(run_dir / LAST)
    session.model.load_state_dict(state["model"])
    with_head = not isinstance(session.model.head, nn.Identity)
    layers, labels = _embed(
        torch, session.model, session.loaders["test"], session.device, "fp32", with_head
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
