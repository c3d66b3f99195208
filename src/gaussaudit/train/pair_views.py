"""Positive-pair views of a dataset: item ``i`` -> ``2K`` augmented views, seeded per item.

Used by ``embed --pairs K`` (:mod:`gaussaudit.extract.pairs`) and by the trainer's
per-epoch alignment/uniformity (:mod:`.eval_pairs`), so both draw pairs the same way.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FlatCollate", "PairViews", "item_seed"]

#: Multiplier of the per-item seed (a prime, so items never share a seed for seeds < it).
_SEED_STRIDE = 1_000_003


def item_seed(seed: int, index: int) -> int:
    """Return the torch seed of item ``index``'s augmentations.

    Examples
    --------
    >>> item_seed(0, 5), item_seed(1, 0)
    (5, 1000003)
    """
    return int(seed) * _SEED_STRIDE + int(index)


class PairViews:
    """Dataset view: item ``i`` -> ``2K`` augmented, preprocessed views (picklable).

    Parameters
    ----------
    items : sequence
        The dataset's raw items (PIL images).
    augment : callable
        PIL image -> PIL image (random).
    transform : callable
        The encoder's per-item preprocessing.
    k : int
        Pairs per item.
    seed : int
    """

    def __init__(self, items: Any, augment: Any, transform: Any, k: int, seed: int) -> None:
        self.items, self.augment, self.transform = items, augment, transform
        self.k, self.seed = int(k), int(seed)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> list:
        import torch

        item = self.items[i]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(item_seed(self.seed, i))
            return [self.transform(self.augment(item)) for _ in range(2 * self.k)]


class FlatCollate:
    """Collate a batch of view lists into one batch of ``B * 2K`` views (picklable)."""

    def __init__(self, collate: Any) -> None:
        self.collate = collate

    def __call__(self, batch: list) -> Any:
        """Flatten item-major and hand the views to the encoder's collate."""
        return self.collate([view for views in batch for view in views])
