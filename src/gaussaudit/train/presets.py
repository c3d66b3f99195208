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

__all__ = ["PRESETS", "resolve_config"]

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
    preset : {"quick", "paper"}, optional
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
