"""One run while it trains: model, optimizer, loaders, and the per-epoch steps.

:func:`setup` builds everything a run holds from its config (data, model,
optimizer, method, loaders, and the resolved settings recorded in
``config.json``); a :class:`Session` trains one epoch, audits the held-out
embeddings and saves checkpoints. The loop (:mod:`gaussaudit.train.loop`)
only sequences these steps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UsageError
from .audit import audit_layers, knn_accuracy
from .config import TrainConfig
from .data import Items, TrainData, load_train_data, make_loader
from .methods import Method, get_method
from .precision import autocast, precision_label, resolve_precision

__all__ = [
    "TIMING_KEY",
    "Session",
    "arch_name",
    "build_train_model",
    "embed_layers",
    "has_head",
    "setup",
]

TIMING_KEY = "time"


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
        ``backbone`` then the method's head: SimCLR projection head or linear
        classifier for ResNet-18; identity (SimCLR) or linear classifier for
        the MLP.
    """
    import torch

    from .backbones import ResNet18CIFAR
    from .mlp import MLPEncoder
    from .models import CheckpointModel

    torch.manual_seed(int(config.seed))
    if config.arch == "resnet18":
        backbone: Any = ResNet18CIFAR(in_channels=in_channels)
    else:
        backbone = MLPEncoder(
            in_channels * image_size * image_size,
            config.mlp_hidden,
            config.mlp_dim,
            in_channels=in_channels,
        )
    head = get_method(config).head(
        backbone.out_dim,
        arch=config.arch,
        n_classes=n_classes,
        proj_hidden=config.proj_hidden,
        proj_dim=config.proj_dim,
    )
    return CheckpointModel(backbone, head, config.method)


def arch_name(config: TrainConfig) -> str:
    """Return the architecture name written in checkpoints (``resnet18-cifar`` or ``mlp``)."""
    from .mlp import MLP_ARCH
    from .models import ARCH

    return ARCH if config.arch == "resnet18" else MLP_ARCH


def embed_layers(torch: Any, model: Any, loader: Any, device: str, with_head: bool):
    """Embed a loader's images in fp32: backbone features and (optionally) head outputs.

    Parameters
    ----------
    torch : module
    model : CheckpointModel
        Put in eval mode for the pass, back in train mode afterwards.
    loader : DataLoader
        In order, of ``(image, label)``.
    device : str
    with_head : bool

    Returns
    -------
    layers : dict
        ``{"backbone": (n, d) array[, "head": (n, k) array]}``, float32.
    labels : ndarray of int
    """
    feats, heads, labels = [], [], []
    model.eval()
    # Always fp32: bf16 rounds embeddings to 3 significant digits, and the ties
    # that makes would bias the per-coordinate tests (and differ from `embed`).
    with torch.inference_mode(), autocast(torch, device, "fp32"):
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


def has_head(model: Any) -> bool:
    """Whether the model has a head of its own (the SimCLR MLP has none)."""
    from torch import nn

    return not isinstance(model.head, nn.Identity)


@dataclass
class Session:
    """Everything one run holds while it trains (built by :func:`setup`)."""

    torch: Any
    config: TrainConfig
    run_dir: Path
    device: str
    precision: str
    data: TrainData
    model: Any
    optimizer: Any
    scaler: Any
    method: Method
    train_set: Items
    loaders: dict
    resolved: dict
    #: The training augmentation (PIL image -> tensor), also used for the per-epoch pairs.
    augment: Any = None

    def record(self, epoch: int, loss: float | None) -> dict:
        """Start an epoch's metrics record."""
        return {
            "epoch": epoch,
            "method": self.config.method,
            "arch": self.config.arch,
            "dataset": self.config.dataset,
            "step": epoch * self.resolved["steps_per_epoch"],
            "train_loss": loss,
        }

    def audit(self, record: dict) -> dict:
        """Audit the held-out embeddings of every layer into ``record``.

        Linear probe and kNN accuracy, and (``config.eval_pairs > 0``) the
        alignment and uniformity of positive pairs made with the training
        augmentation (:mod:`gaussaudit.train.eval_pairs`).
        """
        start = time.perf_counter()
        timing = record.setdefault(TIMING_KEY, {})
        with_head = has_head(self.model)
        layers, labels = embed_layers(
            self.torch, self.model, self.loaders["test"], self.device, with_head
        )
        # An MLP trained by SimCLR has no head: its audited layer is its output.
        names = {"backbone": "backbone" if with_head else "output", "head": "head"}
        probe_labels = labels if self.data.test.labels is not None else None
        record["layers"] = audit_layers(
            {names[name]: z for name, z in layers.items()}, probe_labels
        )
        if self.config.eval_pairs > 0 and self.augment is not None:
            pairs_start = time.perf_counter()
            for name, entry in self._pair_records(layers, with_head).items():
                record["layers"][names[name]].update(entry)
            timing["pairs_seconds"] = time.perf_counter() - pairs_start
        record["knn_top1"] = None
        if self.loaders.get("bank") is not None and self.data.test.labels is not None:
            bank, bank_labels = embed_layers(
                self.torch, self.model, self.loaders["bank"], self.device, False
            )
            record["knn_top1"] = knn_accuracy(
                bank["backbone"], bank_labels, layers["backbone"], labels, k=self.config.knn_k
            )
        timing["audit_seconds"] = time.perf_counter() - start
        return record

    def _pair_records(self, layers: dict, with_head: bool) -> dict:
        """Alignment/uniformity records of every layer (keys ``backbone``/``head``)."""
        from .eval_pairs import embed_pairs, layer_pair_records, pair_subset

        config = self.config
        test = self.data.test
        indices = pair_subset(len(test), config.eval_pairs, config.seed)
        pairs = embed_pairs(
            self.torch,
            self.model,
            test.items,
            indices,
            self.augment,
            device=self.device,
            with_head=with_head,
            seed=config.seed,
            embed_layers=embed_layers,
            batch_size=max(config.batch_size, 256),
            num_workers=config.num_workers,
        )
        return layer_pair_records(pairs, layers, seed=config.seed)

    def save(self, path: Path, epoch: int, history: list[dict], *, state: bool = True) -> Path:
        """Write a checkpoint; ``state=False`` leaves out the optimizer/RNG (kept copies)."""
        from .checkpoint import save_run_checkpoint

        return save_run_checkpoint(
            path,
            model=self.model,
            config=self.config,
            resolved=self.resolved,
            epoch=epoch,
            history=history,
            optimizer=self.optimizer if state else None,
            scaler=self.scaler,
        )

    def restore(self, ckpt: dict) -> None:
        """Load weights, optimizer, scaler and RNG states from ``last.pt``."""
        from .checkpoint import restore_trainer_state

        restore_trainer_state(ckpt, model=self.model, optimizer=self.optimizer, scaler=self.scaler)

    def train_epoch(self, epoch: int, bar: Any, on_step: Any = None) -> dict:
        """Train one epoch from its own seed; return the epoch's record (loss, timings).

        ``bar`` is a rich ``Progress`` or a :class:`gaussaudit.progress.LineProgress`;
        ``on_step(seconds)``, when given, is called after every step with its duration.
        """
        from .seeding import epoch_seed, seed_everything

        torch, config = self.torch, self.config
        seed = epoch_seed(config.seed, epoch)
        seed_everything(torch, seed)
        loader = make_loader(torch, self.train_set, config, self.device, shuffle=True, seed=seed)
        steps_per_epoch = self.resolved["steps_per_epoch"]
        task = bar.add_task(
            f"epoch {epoch}/{config.epochs}", total=steps_per_epoch, loss="–", rate="–"
        )
        self.model.train()
        total, steps, start = 0.0, 0, time.perf_counter()
        tick = start
        for batch in loader:
            loss = self.method.step(
                self.model,
                batch,
                self.optimizer,
                device=self.device,
                precision=self.precision,
                scaler=self.scaler,
            )
            if not np.isfinite(loss):
                raise UsageError(
                    f"the loss became {loss} at epoch {epoch}, step {steps + 1}; "
                    "lower the learning rate (lr=...) or use precision='fp32'",
                    option=("lr", "precision"),
                )
            total, steps = total + loss, steps + 1
            now = time.perf_counter()
            rate = steps * config.batch_size / max(now - start, 1e-9)
            bar.update(task, advance=1, loss=f"{total / steps:.4f}", rate=f"{rate:,.1f}")
            if on_step is not None:
                on_step(now - tick)
            tick = now
        bar.stop_task(task)
        seconds = time.perf_counter() - start
        record = self.record(epoch, total / max(steps, 1))
        record[TIMING_KEY] = {
            "train_seconds": seconds,
            "seconds_per_step": seconds / max(steps, 1),
            "items_per_second": steps * config.batch_size / seconds if seconds > 0 else None,
        }
        return record


def _loaders(torch: Any, config: TrainConfig, data: TrainData, device: str, evaluate: Any):
    """In-order loaders of the held-out set and of the kNN bank (when labels allow)."""
    test_set = Items(data.test.items, data.test.labels, evaluate)
    loaders: dict[str, Any] = {"test": make_loader(torch, test_set, config, device, shuffle=False)}
    n_train = len(data.train)
    bank_n = n_train if config.knn_bank is None else min(config.knn_bank, n_train)
    if data.train.labels is None or data.test.labels is None:
        bank_n = 0
    if bank_n > 0:
        bank = Items(data.train.items[:bank_n], np.asarray(data.train.labels)[:bank_n], evaluate)
        loaders["bank"] = make_loader(torch, bank, config, device, shuffle=False)
    return loaders, bank_n


def setup(torch: Any, config: TrainConfig, run_dir: Path) -> Session:
    """Build the data, model, optimizer, loaders and resolved settings of a run.

    Parameters
    ----------
    torch : module
    config : TrainConfig
    run_dir : Path

    Returns
    -------
    Session
    """
    from ..devices import resolve_device
    from .augment import eval_transform, simclr_transform

    method = get_method(config)
    device = resolve_device(config.device)
    precision = resolve_precision(torch, config.precision, device)
    data = load_train_data(config, needs_labels=method.needs_labels)
    model = build_train_model(
        config, in_channels=data.channels, n_classes=data.n_classes, image_size=data.image_size
    ).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    aug = simclr_transform(
        data.image_size, data.channels, data.mean, data.std, jitter_p=config.jitter_p
    )
    evaluate = eval_transform(data.image_size, data.channels, data.mean, data.std)
    loaders, bank_n = _loaders(torch, config, data, device, evaluate)
    n_train = len(data.train)
    resolved = {
        "device": device,
        "precision": precision,
        "precision_label": precision_label(precision, device),
        "arch": arch_name(config),
        "in_channels": data.channels,
        "image_size": data.image_size,
        "mean": list(data.mean),
        "std": list(data.std),
        "n_classes": data.n_classes,
        "n_train": n_train,
        "n_eval": len(data.test),
        "n_knn_bank": bank_n,
        "n_eval_pairs": min(config.eval_pairs, len(data.test)),
        "steps_per_epoch": n_train // config.batch_size,
        "loss": method.loss_name,
    }
    return Session(
        torch=torch,
        config=config,
        run_dir=run_dir,
        device=device,
        precision=precision,
        data=data,
        model=model,
        optimizer=optimizer,
        scaler=torch.amp.GradScaler("cuda") if precision == "fp16" else None,
        method=method,
        train_set=Items(data.train.items, data.train.labels, method.train_transform(aug)),
        loaders=loaders,
        resolved=resolved,
        augment=aug,
    )
