"""The trainer's configuration: one frozen, JSON-serialisable dataclass.

Defaults are the paper's CIFAR protocol (PAPER.md §3.1): Adam, lr 1e-3, weight
decay 1e-4, batch 256, 100 epochs, tau = 0.1. Settings the paper leaves unstated
are choices recorded in :data:`CHOICES` (and in every run's ``config.json``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import UnknownNameError, UsageError

__all__ = [
    "ARCHS",
    "CHOICES",
    "LOSSES",
    "METHODS",
    "PRECISIONS",
    "RESUME_MUTABLE",
    "TrainConfig",
]

METHODS = ("simclr", "supervised")
ARCHS = ("resnet18", "mlp")
LOSSES = ("ntxent", "infonce")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
from ..devices import DEVICES  # noqa: E402  (one list of devices)

#: Choices made for settings the paper does not state (PAPER.md §3.1).
CHOICES: dict[str, str] = {
    "loss": "ntxent (SimCLR's symmetric 2N-1 form) by default for the SimCLR protocol; "
    "infonce = the paper's one-directional Eq. 2",
    "projection_head": "Linear(512,512)-BN-ReLU-Linear(512,128) (SimCLR's)",
    "audited_layers": "backbone (512-d pooled, post-ReLU) and head output (128-d projection "
    "or logits); the MLP's 256-d output (recorded as 'output' when it has no head)",
    "mlp": "flatten -> Linear(in, 512) -> ReLU -> Linear(512, 256); loss on the output, no head",
    "initialisation": "from scratch (no ImageNet weights); both methods build the model "
    "after torch.manual_seed(seed), so their backbones start identical",
    "optimizer": "torch.optim.Adam with coupled L2 weight decay (not AdamW), no LR schedule",
    "colour_jitter_probability": "0.8 (SimCLR's)",
    "supervised_augmentation": "the same SimCLR augmentation (one view): the models differ "
    "only in the objective",
    "simclr_forward": "both views in one forward pass (BatchNorm statistics over 2N images)",
    "batches": "shuffled, last incomplete batch dropped",
    "knn": "k=20 cosine neighbours of backbone features in a bank of training images "
    "(eval transform), votes weighted by exp(cos/0.07) (Wu et al. 2018)",
    "audit_precision": "the audit's forward pass runs in fp32 whatever the training "
    "precision (as gaussaudit embed does by default)",
    "image_size": "the dataset's own (32 CIFAR, 28 Fashion-MNIST) unless set",
    "normalisation": "CIFAR-10 mean/std for 3 channels, Fashion-MNIST's for 1",
    "eval_pairs": "alignment/uniformity every audited epoch on one positive pair (two draws "
    "of the training augmentation) of each of eval_pairs held-out images, a subset seeded "
    "by the run's seed (the same images and draws every epoch)",
}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run.

    Attributes
    ----------
    method : {"simclr", "supervised"}
        Contrastive (two views, projection head, contrastive loss) or
        cross-entropy on a linear classifier.
    dataset : str
        A :func:`gaussaudit.datasets.load_dataset` name (``cifar10``,
        ``fashion-mnist``, ``fake``, ...); the ``train`` split is trained on and
        the ``test`` split audited.
    root : str, optional
        Dataset root.
    download : bool
        Allow downloading the dataset.
    dataset_options : dict
        Family options passed to ``load_dataset`` (e.g. ``{"n": 64}`` for ``fake``).
    arch : {"resnet18", "mlp"}
        CIFAR ResNet-18 or the two-layer MLP of Fig. 4.
    epochs, batch_size : int
    lr, weight_decay : float
        Adam's learning rate and (L2) weight decay.
    temperature : float
        tau of the contrastive loss.
    loss : {"ntxent", "infonce"}
        Contrastive loss (``ntxent`` default; ``infonce`` is Eq. 2).
    device : {"auto", "cpu", "cuda", "mps"}
    precision : {"auto", "fp32", "bf16", "fp16"}
        ``auto``: bf16 autocast on CUDA (fp16 with a grad scaler where bf16 is
        unsupported), bf16 CPU autocast on a CPU with native bf16 (AVX512-BF16
        or AMX), fp32 elsewhere. ``bf16`` on CPU is autocast on the CPU
        (labelled as such in the run); ``fp16`` needs CUDA.
    seed : int
        Seeds model init, data order and augmentation (reseeded every epoch).
    num_workers : int
        DataLoader workers.
    out : str, optional
        Run directory (default ``<runs_dir>/<method>-<dataset>-<timestamp>``).
    runs_dir : str
        Parent of default run directories (the encoders look here).
    max_train_samples, max_eval_samples : int, optional
        Use only the first N training / test items.
    knn_bank : int, optional
        Training items (first N) in the kNN bank; None for all, 0 for no kNN.
    knn_k : int
        Neighbours of the kNN accuracy.
    eval_pairs : int
        Held-out images (a seeded subset, the same every epoch) given one
        positive pair each (two draws of the training augmentation) for the
        per-epoch alignment and uniformity (``layers.<layer>.pairs``); 0 turns
        them off.
    eval_every : int
        Audit every k epochs (epoch 0 and the last are always audited).
    checkpoint_every : int
        Also keep ``checkpoint-epochNNN.pt`` every k epochs (0: only at the end).
    proj_hidden, proj_dim : int
        Projection head widths (ResNet-18 SimCLR).
    mlp_hidden, mlp_dim : int
        MLP widths.
    image_size : int, optional
        Training and audit image side (default: the dataset's).
    jitter_p : float
        Probability of the colour jitter.
    mean, std : tuple of float, optional
        Normalisation (default by channel count).
    """

    method: str = "simclr"
    dataset: str = "cifar10"
    root: str | None = None
    download: bool = False
    dataset_options: dict = field(default_factory=dict)
    arch: str = "resnet18"
    epochs: int = 100
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    temperature: float = 0.1
    loss: str = "ntxent"
    device: str = "auto"
    precision: str = "auto"
    seed: int = 0
    num_workers: int = 0
    out: str | None = None
    runs_dir: str = "runs"
    max_train_samples: int | None = None
    max_eval_samples: int | None = None
    knn_bank: int | None = 10000
    knn_k: int = 20
    eval_pairs: int = 256
    eval_every: int = 1
    checkpoint_every: int = 0
    proj_hidden: int = 512
    proj_dim: int = 128
    mlp_hidden: int = 512
    mlp_dim: int = 256
    image_size: int | None = None
    jitter_p: float = 0.8
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        for name, choices in (
            ("method", METHODS),
            ("arch", ARCHS),
            ("loss", LOSSES),
            ("precision", PRECISIONS),
            ("device", DEVICES),
        ):
            if getattr(self, name) not in choices:
                raise UnknownNameError(name, str(getattr(self, name)), choices)
        for name in ("epochs", "batch_size", "knn_k", "eval_every"):
            if int(getattr(self, name)) < 1:
                raise UsageError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.batch_size < 2:
            raise UsageError("batch_size must be >= 2 (BatchNorm and contrastive negatives)")
        for name in ("num_workers", "checkpoint_every", "eval_pairs"):
            if int(getattr(self, name)) < 0:
                raise UsageError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("max_train_samples", "max_eval_samples", "image_size"):
            value = getattr(self, name)
            if value is not None and int(value) < 1:
                raise UsageError(f"{name} must be >= 1, got {value}")
        if self.knn_bank is not None and self.knn_bank < 0:
            raise UsageError(f"knn_bank must be >= 0, got {self.knn_bank}")
        if not (self.lr > 0 and self.weight_decay >= 0 and self.temperature > 0):
            raise UsageError("need lr > 0, weight_decay >= 0 and temperature > 0")
        if not 0.0 <= self.jitter_p <= 1.0:
            raise UsageError(f"jitter_p must be in [0, 1], got {self.jitter_p}")
        # JSON round trips give lists; keep tuples so equality and hashing behave.
        for name in ("mean", "std"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(float(v) for v in value))
        object.__setattr__(self, "dataset_options", dict(self.dataset_options or {}))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict of every field.

        Returns
        -------
        dict
        """
        out = dataclasses.asdict(self)
        for name in ("mean", "std"):
            if out[name] is not None:
                out[name] = list(out[name])
        return out

    def to_json(self) -> str:
        """Return the config as indented JSON.

        Returns
        -------
        str
        """
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build a config from :meth:`to_dict` output.

        Parameters
        ----------
        data : dict
            Field values; unknown keys are an error.

        Returns
        -------
        TrainConfig

        Raises
        ------
        UsageError
            For a key that is not a field.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise UsageError(f"unknown training setting(s): {', '.join(unknown)}")
        return cls(**data)

    def replace(self, **changes: Any) -> TrainConfig:
        """Return a copy with some fields changed (validated again).

        Parameters
        ----------
        **changes
            Field values.

        Returns
        -------
        TrainConfig
        """
        return self.from_dict({**self.to_dict(), **changes})


#: Fields that may differ between a run and its resumption. None of them changes
#: the trajectory of the weights, except ``device`` (different kernels) and
#: ``epochs`` (how far it goes). ``eval_pairs`` only changes what is measured (its
#: augmentations draw from a forked RNG). ``num_workers`` is not here: each worker draws its
#: own augmentation stream, so the worker count changes the augmentations.
RESUME_MUTABLE = frozenset(
    {
        "epochs",
        "root",
        "download",
        "device",
        "out",
        "runs_dir",
        "eval_every",
        "eval_pairs",
        "checkpoint_every",
    }
)
