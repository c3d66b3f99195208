"""The trainer's data: the train and held-out splits, their sizes, and the loaders.

The ``train`` split (optionally its first N items) is trained on and the
``test`` split (the audited, held-out set) is embedded every audited epoch.
Everything here is picklable for DataLoader workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import UsageError
from .config import TrainConfig

__all__ = ["Items", "TrainData", "load_train_data", "make_loader"]


class Items:
    """Dataset of ``(transform(item), label)``; label -1 when there are none.

    Parameters
    ----------
    items : sequence
        PIL images.
    labels : sequence of int or None
    transform : callable
    """

    def __init__(self, items: Any, labels: Any, transform: Any) -> None:
        self.items, self.labels, self.transform = items, labels, transform

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[Any, int]:
        label = -1 if self.labels is None else int(self.labels[i])
        return self.transform(self.items[i]), label


@dataclass
class TrainData:
    """The two splits of a run and what was read off them."""

    train: Any
    test: Any
    channels: int
    image_size: int
    mean: tuple
    std: tuple
    n_classes: int


def load_train_data(config: TrainConfig, *, needs_labels: bool = False) -> TrainData:
    """Load the ``train`` and ``test`` splits of ``config.dataset`` and check them.

    Parameters
    ----------
    config : TrainConfig
    needs_labels : bool
        Whether the method trains on labels (refuse a dataset without).

    Returns
    -------
    TrainData

    Raises
    ------
    UsageError
        A non-image dataset, fewer training items than a batch, fewer than 20
        held-out items, or no labels where they are needed.
    """
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
            "lower batch_size or use more data",
            option="batch_size",
        )
    if len(test) < 20:
        raise UsageError(f"the audit needs at least 20 held-out items, got {len(test)}")
    if needs_labels and train.labels is None:
        raise UsageError(f"{config.method} training needs labels; {config.dataset!r} has none")
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
    return TrainData(train, test, channels, size, mean, std, n_classes)


def make_loader(
    torch: Any, dataset: Any, config: TrainConfig, device: str, *, shuffle: bool, seed: int = 0
) -> Any:
    """Build a DataLoader: shuffled by a seeded generator (training) or in order (audit).

    Parameters
    ----------
    torch : module
    dataset : Items
    config : TrainConfig
        ``batch_size`` (at least 256 for the in-order loaders) and ``num_workers``.
    device : str
        Memory is pinned for CUDA.
    shuffle : bool
        Shuffle (and drop the last incomplete batch).
    seed : int
        Seed of the shuffling generator.

    Returns
    -------
    torch.utils.data.DataLoader
    """
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
