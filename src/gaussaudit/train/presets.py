"""Named bundles of training settings, merged under explicit options.

Precedence, lowest first: :class:`~gaussaudit.train.config.TrainConfig`
defaults (the paper's protocol), the preset, then options given explicitly.
When resuming, the run's saved configuration replaces the defaults and the
preset, and explicit options still win (the loop refuses changes that would
alter the run's trajectory).

``quick``
    CPU-sized: the first 4096 training and 2000 test items, 3 epochs, batch 128,
    a 2000-image kNN bank, fp32 (bf16 autocast was slower than fp32 on the CPU
    it was sized on with two threads). Meant for Fashion-MNIST (offline) or a
    CIFAR-10 subset. Measured on 2 busy shared CPU cores: the MLP a few seconds
    per epoch; ResNet-18 roughly 8-17 s per 128-pair step, so 5-10 minutes per
    epoch plus about half a minute of audit.
``cpu``
    The ResNet-18 pair on a CPU (``gaussaudit reproduce resnet18``): the first
    1536 training and 1000 test images, 2 epochs, batch 64, a 1000-image kNN
    bank, audited at every epoch; precision ``auto`` (bf16 autocast only on a
    CPU with native bf16, where it is faster; fp32 elsewhere: emulated bf16 was
    many times slower here). Sized by timing one step of each at these
    settings on a 2-core AMD EPYC (AVX2, no native bf16), in CPU seconds:
    SimCLR 10.5 s and supervised 6.7 s per 64-image step, 5.4 s per 256 images
    embedded, so about 1140 CPU seconds for the pair: about 10 minutes on 2
    idle cores, under 20 with margin. Every reduction against ``paper`` is in
    :data:`REDUCTIONS`.
``paper``
    The full CIFAR protocol for a GPU (PAPER.md §3.1): all 50k/10k images,
    100 epochs, batch 256, Adam lr 1e-3, weight decay 1e-4, tau 0.1, AMP
    (``auto``: bf16 where supported), 8 loader workers, a 10k-image kNN bank,
    audit every epoch, a kept checkpoint every 10 epochs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import UnknownNameError, UsageError
from .config import TrainConfig

__all__ = ["PRESETS", "REDUCTIONS", "reductions", "resolve_config"]

PRESETS: dict[str, dict[str, Any]] = {
    "quick": {
        "epochs": 3,
        "batch_size": 128,
        "max_train_samples": 4096,
        "max_eval_samples": 2000,
        "knn_bank": 2000,
        "precision": "fp32",
        "eval_every": 1,
        "num_workers": 0,
    },
    "cpu": {
        "arch": "resnet18",
        "epochs": 2,
        "batch_size": 64,
        "max_train_samples": 1536,
        "max_eval_samples": 1000,
        "knn_bank": 1000,
        "precision": "auto",
        "eval_every": 1,
        "num_workers": 0,
    },
    "paper": {
        "epochs": 100,
        "batch_size": 256,
        "lr": 1e-3,
        "weight_decay": 1e-4,
        "temperature": 0.1,
        "precision": "auto",
        "num_workers": 8,
        "max_train_samples": None,
        "max_eval_samples": None,
        "knn_bank": 10000,
        "eval_every": 1,
        "checkpoint_every": 10,
    },
}


#: What each reduced preset changes against ``paper``, in words (shown in output and tables).
REDUCTIONS: dict[str, list[str]] = {
    "quick": [
        "the first 4096 training images instead of all",
        "the first 2000 test images audited instead of all",
        "3 epochs instead of 100",
        "batch 128 instead of 256",
        "a 2000-image kNN bank instead of 10000",
        "fp32 (the paper preset's AMP is for CUDA; the paper states no precision)",
    ],
    "cpu": [
        "the first 1536 training images instead of all (50000 CIFAR-10 / 60000 Fashion-MNIST)",
        "the first 1000 test images audited instead of all 10000",
        "2 epochs instead of 100",
        "batch 64 instead of 256 (more steps for the same compute; 127 negatives per "
        "SimCLR anchor instead of 511)",
        "a 1000-image kNN bank instead of the paper preset's 10000 (the paper reports no "
        "accuracy; the kNN accuracy is the tool's check that the encoder learned)",
        "bf16 autocast only where the CPU has native bf16, else fp32 (the paper's "
        "precision is not stated)",
    ],
    "paper": [],
}


def reductions(preset: str | None) -> list[str]:
    """Return what a preset reduces against the paper's protocol, in words.

    Parameters
    ----------
    preset : str or None
        A name in :data:`PRESETS` (None: no preset, nothing listed).

    Returns
    -------
    list of str

    Examples
    --------
    >>> reductions("cpu")[2]
    '2 epochs instead of 100'
    >>> reductions("paper")
    []
    """
    if preset is None:
        return []
    if preset not in PRESETS:
        raise UnknownNameError("preset", preset, tuple(PRESETS))
    return list(REDUCTIONS.get(preset, []))


def resolve_config(
    method: str,
    dataset: str,
    *,
    preset: str | None = None,
    resume: bool = False,
    **options: Any,
) -> TrainConfig:
    """Merge defaults, a preset (or a resumed run's settings) and explicit options.

    Parameters
    ----------
    method : {"simclr", "supervised"}
    dataset : str
    preset : {"quick", "cpu", "paper"}, optional
        Ignored when resuming an existing run (its saved settings are used).
    resume : bool
        Start from the saved configuration of the run in ``options["out"]`` (or
        the newest matching run under ``runs_dir``) when there is one.
    **options
        :class:`TrainConfig` fields; None means "not given".

    Returns
    -------
    TrainConfig

    Raises
    ------
    UnknownNameError
        For an unknown preset.
    UsageError
        When the resumed run was trained with another method or dataset.
    """
    if preset is not None and preset not in PRESETS:
        raise UnknownNameError("preset", preset, tuple(PRESETS))
    given = {k: v for k, v in options.items() if v is not None}
    values: dict[str, Any] = {"method": method, "dataset": dataset}
    values.update(PRESETS.get(preset, {}) if preset else {})
    values.update(given)
    config = TrainConfig.from_dict(values)
    if not resume:
        return config
    from .runs import CONFIG_FILE, LAST, find_run_dir, load_run_config

    run_dir = Path(config.out) if config.out is not None else find_run_dir(config)
    if run_dir is None or not ((run_dir / CONFIG_FILE).is_file() or (run_dir / LAST).is_file()):
        return config  # train() reports that there is nothing to resume
    saved = load_run_config(run_dir)
    if (saved.method, saved.dataset) != (method, dataset):
        raise UsageError(
            f"{run_dir} is a {saved.method} run on {saved.dataset!r}, not {method} on {dataset!r}"
        )
    return saved.replace(**{**given, "out": str(run_dir)})
