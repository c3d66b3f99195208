"""Alignment and uniformity in the trainer's per-epoch audit (PAPER.md Fig. 2).

Every audited epoch, ``TrainConfig.eval_pairs`` held-out images (a subset
drawn once from ``config.seed``, the same every epoch) are each augmented
twice with the training augmentation itself (the ``simclr_transform`` object
the run's training items are made with, :attr:`Session.augment
<gaussaudit.train.session.Session.augment>`), embedded in fp32 by the model in
eval mode, and measured per audited layer by the numpy kernel of
``gaussaudit test --pairs`` (:func:`gaussaudit.stats.pairs.pair_metrics`).

The random draws of held-out item ``i`` are seeded with
``item_seed(config.seed, i)`` in a forked torch RNG
(:class:`gaussaudit.train.pair_views.PairViews`, the class ``embed --pairs K``
uses), so the pairs are the same at every epoch, do not depend on the batch
size or DataLoader workers, and leave the training RNG untouched (a resumed
run records the same numbers).

Per-layer record (next to the audit of :mod:`gaussaudit.train.audit`)::

    pairs.{alignment, uniformity, n_pairs, n_items, pairs_per_item,
           n_negative_pairs, negatives, seed, alignment_alpha, uniformity_t,
           positive_cosine.{mean, std}, negative_cosine.{mean, std}}
    pairs_whitened.{...same keys}     the whitened view fitted on the layer's
                                      held-out embeddings of that epoch

The keys are those of the audit JSON's ``views.<view>.pairs``, without the
cosine histograms (``edges``, ``counts``). A measurement that cannot be made
is ``{"skipped": reason}``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._values import clean

__all__ = ["embed_pairs", "layer_pair_records", "pair_record", "pair_subset"]

#: Views measured per layer and the record key of each.
PAIR_VIEWS = {"raw": "pairs", "whitened": "pairs_whitened"}


def pair_subset(n: int, count: int, seed: int) -> np.ndarray:
    """Return the sorted held-out indices whose pairs are measured (seeded, no repeats).

    Parameters
    ----------
    n : int
        Held-out items.
    count : int
        Items wanted (capped at ``n``).
    seed : int

    Returns
    -------
    ndarray of int

    Examples
    --------
    >>> pair_subset(10, 3, 0).tolist() == pair_subset(10, 3, 0).tolist()
    True
    >>> pair_subset(5, 100, 0).tolist()
    [0, 1, 2, 3, 4]
    """
    count = min(int(count), int(n))
    if count >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=count, replace=False))


def _identity(x: Any) -> Any:
    """Return ``x``: the training augmentation already ends in ToTensor/Normalize."""
    return x


class _ViewBatch:
    """Collate a flat list of view tensors into ``(images, dummy labels)`` (picklable)."""

    def __call__(self, views: list) -> tuple[Any, Any]:
        """Stack the views; labels are zeros (unused)."""
        import torch

        return torch.stack(views), torch.zeros(len(views), dtype=torch.long)


def embed_pairs(
    torch: Any,
    model: Any,
    items: Any,
    indices: np.ndarray,
    augment: Any,
    *,
    device: str,
    with_head: bool,
    seed: int,
    embed_layers: Any,
    batch_size: int = 256,
    num_workers: int = 0,
) -> dict[str, np.ndarray]:
    """Embed one positive pair per chosen item: two draws of ``augment`` each.

    Parameters
    ----------
    torch : module
    model : CheckpointModel
    items : sequence
        The held-out PIL images.
    indices : ndarray of int
        Which items (:func:`pair_subset`).
    augment : callable
        The training augmentation (PIL image -> normalised tensor).
    device : str
    with_head : bool
        Also embed through the head.
    seed : int
        Item ``i``'s draws are seeded with ``item_seed(seed, i)``.
    batch_size : int
        Views per forward pass (about).
    embed_layers : callable
        ``embed_layers(torch, model, loader, device, with_head) -> (layers, labels)``,
        the trainer's own held-out embedding (:func:`gaussaudit.train.session.embed_layers`).
    num_workers : int

    Returns
    -------
    dict
        ``{"backbone": (m, 1, 2, d)[, "head": (m, 1, 2, k)]}``, float32.
    """
    from .pair_views import FlatCollate, PairViews

    views = PairViews(items, augment, _identity, 1, seed)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.Subset(views, [int(i) for i in indices]),
        batch_size=max(1, batch_size // 2),
        shuffle=False,
        num_workers=num_workers,
        collate_fn=FlatCollate(_ViewBatch()),
        pin_memory=device == "cuda",
    )
    layers, _ = embed_layers(torch, model, loader, device, with_head)
    m = len(indices)
    return {name: z.reshape(m, 1, 2, z.shape[-1]) for name, z in layers.items()}


def pair_record(pairs: np.ndarray, held_out: np.ndarray, view: str, *, seed: int) -> dict:
    """Alignment and uniformity of ``pairs`` in one view fitted on ``held_out``.

    Parameters
    ----------
    pairs : ndarray, shape (m, K, 2, d)
    held_out : ndarray, shape (n, d)
        The layer's held-out embeddings (the whitened view is fitted on them).
    view : {"raw", "whitened"}
    seed : int
        Seed of the negative-pair draw.

    Returns
    -------
    dict
        :meth:`gaussaudit.stats.pairs.PairMetrics.to_dict` without the cosine
        histograms, or ``{"skipped": reason}``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((50, 1, 1, 8))
    >>> pairs = np.concatenate([x, x + 0.1 * rng.standard_normal(x.shape)], axis=2)
    >>> rec = pair_record(pairs, rng.standard_normal((100, 8)), "raw", seed=0)
    >>> rec["n_pairs"], rec["alignment"] < 0.1, sorted(rec["positive_cosine"])
    (50, True, ['mean', 'std'])
    """
    from ..errors import InvalidEmbeddingsError
    from ..stats.pairs import pair_metrics, view_transform

    try:
        mapped = view_transform(held_out, view)(np.asarray(pairs, dtype=np.float64))
        metrics = pair_metrics(mapped, seed=seed).to_dict()
    except (InvalidEmbeddingsError, np.linalg.LinAlgError) as err:
        return {"skipped": str(err)}
    for key in ("positive_cosine", "negative_cosine"):
        metrics[key] = {k: metrics[key][k] for k in ("mean", "std")}
    return clean(metrics)


def layer_pair_records(
    pairs: dict[str, np.ndarray], held_out: dict[str, np.ndarray], *, seed: int
) -> dict[str, dict[str, dict]]:
    """Per-layer ``{"pairs": ..., "pairs_whitened": ...}`` of one epoch.

    Parameters
    ----------
    pairs : dict
        ``{layer: (m, K, 2, d)}`` (:func:`embed_pairs`, renamed as audited).
    held_out : dict
        ``{layer: (n, d)}`` held-out embeddings of the same layers.
    seed : int

    Returns
    -------
    dict
        ``{layer: {"pairs": raw record, "pairs_whitened": whitened record}}``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> z = rng.standard_normal((40, 1, 2, 4))
    >>> out = layer_pair_records({"output": z}, {"output": rng.standard_normal((60, 4))}, seed=0)
    >>> sorted(out["output"]), out["output"]["pairs"]["n_pairs"]
    (['pairs', 'pairs_whitened'], 40)
    """
    return {
        name: {
            key: pair_record(z, held_out[name], view, seed=seed) for view, key in PAIR_VIEWS.items()
        }
        for name, z in pairs.items()
    }
