"""Training dynamics of the paper's two-layer MLP: InfoNCE against cross-entropy, per epoch.

The paper's Fig. 4 (PAPER.md §3.4) follows a "basic encoder", a two-layer MLP
with one ReLU, through training with InfoNCE. :func:`train_pair` trains that
MLP twice from one initialisation (``torch.manual_seed(seed)`` before the
encoder is built): once with InfoNCE on two augmented views (PAPER.md Eq. 2,
``tau``), once with cross-entropy through a linear classifier (the supervised
twin). After every epoch it embeds the held-out images (no augmentation) and
records, with :func:`gaussaudit.train.audit.audit_layers`, the battery of
``gaussaudit test`` on the raw 256-d output (A², AD and DP pass fractions,
norm CV, effective dimension) and a linear probe.

It is a small in-memory loop, not :func:`gaussaudit.train.loop.train`: the
images live in one tensor and the SimCLR augmentation is applied to a whole
batch at once (:func:`augment_batch`), which makes an MLP epoch take seconds on
a CPU instead of minutes. Records have the trainer's schema
(:mod:`gaussaudit.train.audit`), so :mod:`gaussaudit.report.training` reads
both.

Data: :func:`load_image_arrays` reads Fashion-MNIST's raw files (Debian
``dataset-fashion-mnist``, ``$GAUSSAUDIT_DATA`` or torchvision's layout) with
no torch; :func:`synthetic_image_arrays` makes labelled stand-in images when
they are absent (the caller says so, loudly).
"""

from __future__ import annotations

import gc
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MissingExtraError, UsageError
from .audit import audit_layers

__all__ = [
    "AUGMENTATION",
    "DynamicsSettings",
    "ImageArrays",
    "augment_batch",
    "fashion_mnist_root",
    "load_image_arrays",
    "synthetic_image_arrays",
    "train_pair",
]

#: The batched augmentation in words (recorded with every run).
AUGMENTATION = (
    "per image: random resized crop (area 0.2-1, aspect 3/4-4/3, bilinear), horizontal flip "
    "p=0.5, brightness and contrast jitter 0.8 with p=0.8 (one channel: no saturation, hue or "
    "grayscale), then normalisation; applied to whole batches as tensors"
)
#: Pixel mean and std of Fashion-MNIST (the trainer's normalisation too).
_MEAN, _STD = 0.2860, 0.3530
#: Layer name of the audited 256-d output in the records.
LAYER = "output"


@dataclass(frozen=True)
class ImageArrays:
    """Images and labels of a training and a held-out split, in memory.

    Attributes
    ----------
    train_x, test_x : ndarray of uint8, shape (n, H, W)
    train_y, test_y : ndarray of int64, shape (n,)
    name : str
        Dataset name recorded in the runs (``fashion-mnist`` or ``synthetic-images``).
    source : str
        Where the images came from, in words.
    synthetic : bool
        True for the stand-in images of :func:`synthetic_image_arrays`.
    """

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    name: str
    source: str
    synthetic: bool = False


def _roots(root: str | os.PathLike | None) -> list[Path]:
    from ..datasets.idx import SYSTEM_ROOT

    if root is not None:
        return [Path(root).expanduser()]
    roots = []
    if os.environ.get("GAUSSAUDIT_DATA"):
        roots.append(Path(os.environ["GAUSSAUDIT_DATA"]).expanduser())
    return [*roots, Path(SYSTEM_ROOT), Path("~/.cache/gaussaudit/data").expanduser()]


def fashion_mnist_root(root: str | os.PathLike | None = None) -> Path | None:
    """Return the first directory holding both Fashion-MNIST splits (no file is read).

    Parameters
    ----------
    root : path-like, optional
        Only this directory is searched; else the order of :func:`load_image_arrays`.

    Returns
    -------
    Path or None

    Examples
    --------
    >>> fashion_mnist_root("/nonexistent") is None
    True
    """
    from ..datasets.idx import find_fashion_mnist

    for base in _roots(root):
        if find_fashion_mnist(base, "train") and find_fashion_mnist(base, "test"):
            return base
    return None


def load_image_arrays(
    n_train: int, n_eval: int, *, root: str | os.PathLike | None = None
) -> ImageArrays | None:
    """Read the first ``n_train`` training and ``n_eval`` test images of Fashion-MNIST.

    Parameters
    ----------
    n_train, n_eval : int
        Images kept from each split, in file order.
    root : path-like, optional
        Only this directory is searched; else ``$GAUSSAUDIT_DATA``,
        ``/usr/share/datasets/fashion-mnist`` and ``~/.cache/gaussaudit/data``.

    Returns
    -------
    ImageArrays or None
        None when the raw files are not found (nothing is downloaded).

    Examples
    --------
    >>> data = load_image_arrays(10, 10, root="/nonexistent")
    >>> data is None
    True
    """
    from ..datasets.idx import find_fashion_mnist, read_idx

    base = fashion_mnist_root(root)
    if base is not None:
        train, test = find_fashion_mnist(base, "train"), find_fashion_mnist(base, "test")
        return ImageArrays(
            train_x=np.ascontiguousarray(read_idx(train[0])[:n_train], dtype=np.uint8),
            train_y=np.asarray(read_idx(train[1])[:n_train], dtype=np.int64),
            test_x=np.ascontiguousarray(read_idx(test[0])[:n_eval], dtype=np.uint8),
            test_y=np.asarray(read_idx(test[1])[:n_eval], dtype=np.int64),
            name="fashion-mnist",
            source=f"Fashion-MNIST raw files in {train[0].parent}",
        )
    return None


def synthetic_image_arrays(
    n_train: int, n_eval: int, *, n_classes: int = 10, size: int = 28, seed: int = 0
) -> ImageArrays:
    """Make labelled stand-in images: a smooth random template per class, jittered.

    Parameters
    ----------
    n_train, n_eval : int
    n_classes : int
    size : int
        Image side.
    seed : int

    Returns
    -------
    ImageArrays
        ``synthetic=True``; each image is its class template, shifted by up to
        two pixels, scaled in brightness and with pixel noise.

    Examples
    --------
    >>> data = synthetic_image_arrays(20, 10, size=8)
    >>> data.train_x.shape, data.train_x.dtype, data.synthetic
    ((20, 8, 8), dtype('uint8'), True)
    """
    rng = np.random.default_rng(seed)
    coarse = rng.random((n_classes, 4, 4))
    templates = np.kron(coarse, np.ones((math.ceil(size / 4), math.ceil(size / 4))))
    templates = templates[:, :size, :size]

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, n_classes, n)
        shifts = rng.integers(-2, 3, (n, 2))
        x = np.stack(
            [np.roll(templates[c], tuple(s), axis=(0, 1)) for c, s in zip(y, shifts, strict=True)]
        )
        x = x * rng.uniform(0.6, 1.0, (n, 1, 1)) + rng.normal(0.0, 0.1, x.shape)
        return (np.clip(x, 0.0, 1.0) * 255).astype(np.uint8), y.astype(np.int64)

    train_x, train_y = draw(n_train)
    test_x, test_y = draw(n_eval)
    source = f"synthetic stand-in images ({n_classes} classes, {size}x{size}; NOT Fashion-MNIST)"
    return ImageArrays(train_x, train_y, test_x, test_y, "synthetic-images", source, True)


@dataclass(frozen=True)
class DynamicsSettings:
    """What :func:`train_pair` runs (defaults: the ``reproduce fig4`` size).

    Attributes
    ----------
    epochs, n_train, n_eval, batch_size : int
    lr, weight_decay, temperature : float
        Adam and InfoNCE settings (the paper's: 1e-3, 1e-4, 0.1).
    hidden, dim : int
        MLP widths (``flatten -> hidden -> ReLU -> dim``; unstated in the paper).
    seed : int
        Same seed, same initialisation for both runs.
    threads : int or None
        torch threads during the runs (default 1: on a busy 2-core CPU two
        threads made an MLP epoch ten times slower; None: torch's default).
    """

    epochs: int = 20
    n_train: int = 8192
    n_eval: int = 2000
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    temperature: float = 0.1
    hidden: int = 512
    dim: int = 256
    seed: int = 0
    threads: int | None = 1

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-ready dict."""
        from dataclasses import asdict

        return asdict(self)


def augment_batch(torch: Any, x: Any, generator: Any) -> Any:
    """Apply the SimCLR-style augmentation to a batch of one-channel images.

    Parameters
    ----------
    torch : module
    x : Tensor, shape (B, 1, H, W)
        Pixels in [0, 1].
    generator : torch.Generator
        Source of every random draw (deterministic given its seed).

    Returns
    -------
    Tensor
        Augmented and normalised images, same shape (see :data:`AUGMENTATION`).
    """
    import torch.nn.functional as F

    b = x.shape[0]

    def uniform(lo: float, hi: float) -> Any:
        return lo + (hi - lo) * torch.rand(b, generator=generator)

    area = uniform(0.2, 1.0)
    ratio = torch.exp(uniform(math.log(3 / 4), math.log(4 / 3)))
    sw = torch.sqrt(area * ratio).clamp(max=1.0)
    sh = torch.sqrt(area / ratio).clamp(max=1.0)
    tx, ty = (1 - sw) * uniform(-1.0, 1.0), (1 - sh) * uniform(-1.0, 1.0)
    flip = torch.where(torch.rand(b, generator=generator) < 0.5, -1.0, 1.0)
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0], theta[:, 0, 2] = sw * flip, tx
    theta[:, 1, 1], theta[:, 1, 2] = sh, ty
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    jitter = (torch.rand(b, generator=generator) < 0.8).view(b, 1, 1, 1)
    bright = uniform(0.2, 1.8).view(b, 1, 1, 1)
    contrast = uniform(0.2, 1.8).view(b, 1, 1, 1)
    shifted = (out * bright).clamp(0.0, 1.0)
    mean = shifted.mean(dim=(1, 2, 3), keepdim=True)
    shifted = ((shifted - mean) * contrast + mean).clamp(0.0, 1.0)
    out = torch.where(jitter, shifted, out)
    return (out - _MEAN) / _STD


def _torch() -> Any:
    try:
        import torch
    except ImportError as err:
        raise MissingExtraError("torch", "train", "training the Fig. 4 MLPs") from err
    return torch


def _embed(torch: Any, encoder: Any, test_x: Any) -> np.ndarray:
    encoder.eval()
    with torch.inference_mode():
        z = torch.cat([encoder(test_x[i : i + 1024]) for i in range(0, len(test_x), 1024)])
    encoder.train()
    return z.float().numpy()


def _run(
    torch: Any,
    method: str,
    data: ImageArrays,
    settings: DynamicsSettings,
    log: Callable[[dict], None],
    keep: dict | None,
) -> list[dict]:
    from torch import nn

    from .losses import cross_entropy, info_nce
    from .mlp import MLPEncoder

    side = data.train_x.shape[1]
    torch.manual_seed(int(settings.seed))
    encoder = MLPEncoder(side * side, settings.hidden, settings.dim, in_channels=1)
    n_classes = int(max(data.train_y.max(), data.test_y.max())) + 1
    classifier = nn.Linear(settings.dim, n_classes) if method == "supervised" else None
    params = list(encoder.parameters()) + (list(classifier.parameters()) if classifier else [])
    optimizer = torch.optim.Adam(params, lr=settings.lr, weight_decay=settings.weight_decay)
    train_x = torch.from_numpy(np.array(data.train_x)).float().div_(255.0).unsqueeze(1)
    train_y = torch.from_numpy(np.array(data.train_y))
    test_x = (
        torch.from_numpy(np.array(data.test_x)).float().div_(255.0).unsqueeze(1) - _MEAN
    ) / _STD
    n, bs = train_x.shape[0], settings.batch_size

    def record(epoch: int, loss: float | None, seconds: float) -> dict:
        start = time.perf_counter()
        z = _embed(torch, encoder, test_x)
        if keep is not None:
            keep[method] = z
        rec = {
            "epoch": epoch,
            "method": method,
            "arch": "mlp",
            "dataset": data.name,
            "step": epoch * (n // bs),
            "train_loss": loss,
            "layers": audit_layers({LAYER: z}, data.test_y),
        }
        rec["time"] = {"train_seconds": seconds, "audit_seconds": time.perf_counter() - start}
        log(rec)
        return rec

    records = [record(0, None, 0.0)]
    for epoch in range(1, settings.epochs + 1):
        start = time.perf_counter()
        gen = torch.Generator().manual_seed(int(settings.seed) * 100_003 + epoch)
        order = torch.randperm(n, generator=gen)
        total, steps = 0.0, 0
        for first in range(0, n - bs + 1, bs):
            idx = order[first : first + bs]
            xb = train_x[idx]
            if classifier is None:
                views = torch.cat([augment_batch(torch, xb, gen), augment_batch(torch, xb, gen)])
                z1, z2 = encoder(views).chunk(2)
                loss = info_nce(z1, z2, settings.temperature)
            else:
                logits = classifier(encoder(augment_batch(torch, xb, gen)))
                loss = cross_entropy(logits, train_y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total, steps = total + float(loss.detach()), steps + 1
        if not math.isfinite(total):
            raise UsageError(f"the {method} loss became {total} at epoch {epoch}; lower lr")
        records.append(record(epoch, total / max(steps, 1), time.perf_counter() - start))
    return records


def train_pair(
    data: ImageArrays,
    settings: DynamicsSettings | None = None,
    *,
    log: Callable[[dict], None] | None = None,
    embeddings: dict | None = None,
) -> dict[str, list[dict]]:
    """Train the contrastive MLP and its supervised twin; audit both after every epoch.

    Parameters
    ----------
    data : ImageArrays
        Training and held-out images (:func:`load_image_arrays`).
    settings : DynamicsSettings, optional
    log : callable, optional
        Called with each epoch record as it is made (progress).
    embeddings : dict, optional
        When given, filled with the last epoch's held-out output of each run
        (``{"simclr": (n_eval, dim) array, "supervised": ...}``).

    Returns
    -------
    dict
        ``{"contrastive": records, "supervised": records}``, one record per
        epoch, epoch 0 (the shared initialisation) first; each record has the
        trainer's schema with one layer, ``output`` (the MLP's ``dim``-d output;
        for the supervised twin, the features under its linear classifier).

    Raises
    ------
    MissingExtraError
        Without torch.
    UsageError
        Fewer training images than a batch, or a loss that became NaN/inf.

    Examples
    --------
    >>> data = synthetic_image_arrays(64, 40, size=8)
    >>> runs = train_pair(data, DynamicsSettings(epochs=1, n_train=64, n_eval=40,
    ...                   batch_size=32, hidden=16, dim=8))  # doctest: +SKIP
    >>> [r["epoch"] for r in runs["contrastive"]]  # doctest: +SKIP
    [0, 1]
    """
    torch = _torch()
    settings = settings or DynamicsSettings()
    if len(data.train_x) < settings.batch_size:
        raise UsageError(
            f"{len(data.train_x)} training images but batch size {settings.batch_size}",
            option="batch_size",
        )
    log = log or (lambda record: None)
    threads = torch.get_num_threads()
    if settings.threads:
        torch.set_num_threads(int(settings.threads))
    # The audit's Holm step (statsmodels) calls gc.collect(); with torch loaded a full
    # collection costs ~0.1 s CPU each time, about half of a small audit. Objects alive
    # now (torch, the data) are exempted from collection while the pair trains.
    gc.freeze()
    try:
        return {
            "contrastive": _run(torch, "simclr", data, settings, log, embeddings),
            "supervised": _run(torch, "supervised", data, settings, log, embeddings),
        }
    finally:
        gc.unfreeze()
        torch.set_num_threads(threads)
