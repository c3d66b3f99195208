"""CIFAR-10 and CIFAR-100 through torchvision.

The root defaults to ``$GAUSSAUDIT_DATA``, else ``~/.cache/gaussaudit/data``.
Whether the data is there is checked before torchvision is imported, so a
missing dataset gives a clear :class:`~gaussaudit.errors.ResourceUnavailableError`
(exit 3) without the import cost. Items are RGB PIL images decoded on access
from the torchvision dataset's ``.data`` array; labels come from ``.targets``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MissingExtraError, ResourceUnavailableError, UsageError
from .base import DatasetSpec, LoadedDataset
from .idx import ArrayImages, _limit

__all__ = ["create", "default_root"]

# name -> (torchvision class, folder torchvision extracts to, display name)
_SETS = {
    "cifar10": ("CIFAR10", "cifar-10-batches-py", "CIFAR-10"),
    "cifar100": ("CIFAR100", "cifar-100-python", "CIFAR-100"),
}


def default_root() -> Path:
    """``$GAUSSAUDIT_DATA`` when set, else ``~/.cache/gaussaudit/data``.

    Returns
    -------
    Path
    """
    env = os.environ.get("GAUSSAUDIT_DATA")
    return Path(env or "~/.cache/gaussaudit/data").expanduser()


def create(
    spec: DatasetSpec,
    argument: str | None,
    *,
    root: str | None = None,
    split: str = "test",
    download: bool = False,
    max_samples: int | None = None,
    seed: int = 0,
    modality: str | None = None,
    **options: Any,
) -> LoadedDataset:
    """Load CIFAR-10 or CIFAR-100 (``spec.name``) with torchvision.

    Parameters
    ----------
    spec : DatasetSpec
        ``cifar10`` or ``cifar100``.
    argument : str or None
        Unused.
    root : str, optional
        Directory holding ``cifar-10-batches-py/`` (or ``cifar-100-python/``);
        default :func:`default_root`.
    split : str
        ``test`` (10k images) or ``train`` (50k).
    download : bool
        Let torchvision download (about 170 MB) when missing.
    max_samples : int, optional
        Keep the first ``max_samples`` images in torchvision's order.
    seed : int
        Unused.
    modality : str, optional
        Must be ``image`` when given.
    **options
        None used.

    Returns
    -------
    LoadedDataset
        32x32 RGB PIL images, int64 labels, class names in ``info["classes"]``.

    Raises
    ------
    ResourceUnavailableError
        Missing and ``download`` is False, incomplete on disk, or the download
        failed (the cause is named).
    MissingExtraError
        torchvision is not installed.
    """
    if spec.name not in _SETS:
        raise UsageError(f"torchvision_sets cannot load {spec.name!r}")
    if split not in ("test", "train"):
        raise UsageError(f"{spec.name} has splits 'test' and 'train', not {split!r}")
    if modality not in (None, "image"):
        raise UsageError(f"{spec.name} holds images, not {modality!r}")
    class_name, folder, title = _SETS[spec.name]
    base = Path(root).expanduser() if root is not None else default_root()
    if not download and not (base / folder).is_dir():
        raise ResourceUnavailableError(
            f"{title} not found under {base}; pass download=True (about 170 MB) or root=DIR",
            option=("download", "root"),
        )
    try:
        import torchvision
    except ImportError as err:
        raise MissingExtraError("torchvision", "vision", spec.name) from err
    cls = getattr(torchvision.datasets, class_name)
    try:
        ds = cls(str(base), train=split == "train", download=download)
    except Exception as err:  # network, checksum and I/O failures alike
        if download:
            raise ResourceUnavailableError(
                f"could not download {title} to {base}: {type(err).__name__}: {err}"
            ) from err
        raise ResourceUnavailableError(
            f"{title} under {base} is incomplete or corrupted ({err}); pass download=True "
            "to fetch it again (about 170 MB) or root=DIR",
            option=("download", "root"),
        ) from err
    data = np.asarray(ds.data)
    targets = np.asarray(ds.targets, dtype=np.int64)
    n_total = int(data.shape[0])
    n = _limit(n_total, max_samples)
    return LoadedDataset(
        items=ArrayImages(data[:n], "RGB"),
        modality="image",
        labels=targets[:n],
        info={
            "name": spec.name,
            "source": f"torchvision.datasets.{class_name}",
            "split": split,
            "root": str(base),
            "n": n,
            "n_available": n_total,
            "image_size": [int(data.shape[1]), int(data.shape[2])],
            "classes": list(ds.classes),
            "transform": "none (raw 32x32 RGB)",
            "download": bool(download),
        },
    )
