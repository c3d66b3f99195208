"""Positive pairs for :func:`gaussaudit.extract.embed`: ``EMB.pairs.npy`` (items, K, 2, d).

Images (``pairs=K``): each item is augmented ``2K`` times with the trainer's
SimCLR pipeline (:func:`gaussaudit.train.augment.simclr_transform`: random
resized crop, flip, colour jitter, grayscale), then passed through the
encoder's own deterministic preprocessing. The crop size is the side of the
encoder's input and the channels are the encoder's, so for a trainer
checkpoint (``resnet18-simclr``) the composition is exactly the training
transform; for a pretrained encoder the augmentation acts at its input
resolution before its resize/normalise. The random draws of item ``i`` are
seeded with ``seed * 1_000_003 + i`` (in a forked torch RNG), so the pairs do
not depend on the batch size, the number of DataLoader workers or where a
run stopped.

Texts (``pairs_file=CSV``): one positive pair per row, the first two columns
of a CSV whose first row is a header; ``K = 1`` and the number of items is the
number of rows.

The layout on disk is documented in :mod:`gaussaudit.io.pairs`.
"""

from __future__ import annotations

import csv
import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UsageError

# The pair-view machinery is the trainer's too (its per-epoch pairs); it lives there.
from ..train.pair_views import _SEED_STRIDE, FlatCollate, PairViews, item_seed

__all__ = ["PairViews", "extract_pairs", "image_pair_augmentation", "item_seed", "read_pairs_csv"]


def _input_shape(encoder: Any) -> tuple[int, int]:
    """Channels and side of the encoder's preprocessed input (probed on a blank image)."""
    from PIL import Image

    probe = encoder.transform(Image.new("RGB", (64, 64)))
    shape = tuple(getattr(probe, "shape", ()))
    if len(shape) != 3:
        raise UsageError(
            f"pairs=K needs an encoder whose transform returns an image tensor (C, H, W); "
            f"{encoder.name!r} gives {type(probe).__name__}",
            option="pairs",
        )
    return int(shape[0]), int(shape[-1])


def image_pair_augmentation(encoder: Any, *, jitter_p: float = 0.8) -> tuple[Any, dict]:
    """Return the PIL stages of the trainer's SimCLR transform, sized for ``encoder``.

    Parameters
    ----------
    encoder : Encoder
        An image encoder; its transform is probed for the input side and channels.
    jitter_p : float
        Colour-jitter probability (the trainer's default).

    Returns
    -------
    augment : torchvision.transforms.Compose
        PIL image -> PIL image; the views are ``encoder.transform(augment(item))``.
    info : dict
        What the sidecar records under ``pairs``.
    """
    from torchvision import transforms as T

    from ..train.augment import CHOICES, simclr_transform

    channels, side = _input_shape(encoder)
    channels = int(encoder.info.get("in_channels", channels))
    full = simclr_transform(side, channels if channels in (1, 3) else 3, jitter_p=jitter_p)
    stages = [t for t in full.transforms if not isinstance(t, (T.ToTensor, T.Normalize))]
    augment = T.Compose(stages)
    info = {
        "augmentation": f"gaussaudit.train.augment.simclr_transform(image_size={side}, "
        f"channels={channels}, jitter_p={jitter_p}) without ToTensor/Normalize, then the "
        "encoder's transform",
        "augmentation_stages": repr(augment),
        "augmentation_choices": dict(CHOICES),
        "per_item_seed": f"torch.manual_seed(seed * {_SEED_STRIDE} + item index)",
    }
    return augment, info


def read_pairs_csv(path: str | os.PathLike) -> tuple[list[str], dict]:
    r"""Read a pairs CSV: a header row, then one positive pair per row (first two columns).

    Parameters
    ----------
    path : path-like

    Returns
    -------
    texts : list of str
        ``[a_0, b_0, a_1, b_1, ...]``.
    info : dict
        File name, sha256, header and row count, for the sidecar.

    Raises
    ------
    UsageError
        Missing file, fewer than two columns or fewer than two pairs.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "p.csv"
    >>> _ = f.write_text("a,b\nhi,hello\nbye,farewell\n")
    >>> read_pairs_csv(f)[0]
    ['hi', 'hello', 'bye', 'farewell']
    """
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"pairs_file={os.fspath(p)!r} is not a file", option="pairs_file")
    raw = p.read_bytes()
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    texts: list[str] = []
    for number, row in enumerate(body, start=2):
        if not row:
            continue
        if len(row) < 2:
            raise UsageError(
                f"pairs_file={p.name!r} line {number} has {len(row)} column(s); "
                "each pair needs two",
                option="pairs_file",
            )
        texts += [row[0], row[1]]
    if len(texts) < 4:
        raise UsageError(
            f"pairs_file={p.name!r} holds {len(texts) // 2} pair(s); at least 2 are needed "
            "(a header row, then one pair per row)",
            option="pairs_file",
        )
    info = {
        "csv": p.name,
        "sha256": hashlib.sha256(raw).hexdigest(),
        "header": header[:2],
        "rows": len(texts) // 2,
    }
    return texts, info


class _Items:
    """The minimal dataset ``_loader`` needs: ``items`` (and a length)."""

    def __init__(self, items: Any) -> None:
        self.items = items

    def __len__(self) -> int:
        return len(self.items)


def extract_pairs(
    torch: Any,
    encoder: Any,
    data: Any,
    scratch: Path,
    *,
    k: int | None,
    pairs_file: str | os.PathLike | None,
    device: str,
    precision: str,
    batch_size: int,
    num_workers: int,
    seed: int,
    progress: bool,
) -> dict:
    """Write the pairs array to ``scratch`` (an ``.npy``); return the sidecar's ``pairs``.

    ``k`` pairs per image of ``data``, or the pairs of a text ``pairs_file``.
    """
    from .loop import _extract_rows, _loader, _run_batches

    d = int(encoder.dim)
    if pairs_file is not None:
        if encoder.modality != "text":
            raise UsageError(
                f"pairs_file is for text encoders; {encoder.name!r} takes {encoder.modality} "
                "input (use pairs=K for images)",
                option="pairs_file",
            )
        texts, info = read_pairs_csv(pairs_file)
        source, per_item, collate = _Items(texts), 1, None
        m = len(texts) // 2
        info = {"kind": "text pairs file", **info}
        batch = batch_size
    else:
        if encoder.modality != "image" or data.modality != "image":
            raise UsageError(
                f"pairs=K augments images; {encoder.name!r} on this dataset takes "
                f"{encoder.modality} input (texts: pass pairs_file=CSV)",
                option="pairs",
            )
        augment, info = image_pair_augmentation(encoder)
        views = PairViews(data.items, augment, encoder.transform, k, seed)
        source, per_item, collate = _Items(views), int(k), FlatCollate(encoder.collate)
        m = len(data)
        info = {"kind": "augmented images", **info}
        batch = max(1, batch_size // (2 * per_item))  # about batch_size views per forward
    if collate is None:  # texts: the encoder's own transform and collate
        loader = _loader(
            torch, source, encoder, device, batch_size=batch, num_workers=num_workers, seed=seed
        )
    else:  # images: items are lists of views, already preprocessed
        loader = torch.utils.data.DataLoader(
            source.items,
            batch_size=batch,
            shuffle=False,
            num_workers=num_workers,
            collate_fn=collate,
            pin_memory=device == "cuda",
        )

    def fill(rows: np.ndarray) -> None:
        _run_batches(
            torch,
            encoder,
            loader,
            rows.reshape(-1, d),
            device=device,
            precision=precision,
            label=f"{encoder.name} pairs",
            progress=progress,
        )

    seconds = _extract_rows(scratch, (m, per_item, 2, d), fill, batch_size=batch_size)
    return {
        **info,
        "items": m,
        "pairs_per_item": per_item,
        "shape": [m, per_item, 2, d],
        "seed": seed,
        "wall_seconds": seconds,
    }
