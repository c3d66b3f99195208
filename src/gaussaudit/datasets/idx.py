"""Fashion-MNIST from raw IDX files, with a small IDX parser of our own.

The files are looked for under a root directory, either directly
(``t10k-images-idx3-ubyte[.gz]``, ``t10k-labels-idx1-ubyte[.gz]``,
``train-...``; the layout of the Debian package ``dataset-fashion-mnist`` in
``/usr/share/datasets/fashion-mnist``) or in torchvision's layout
(``ROOT/FashionMNIST/raw/``). Gzip is detected from the file's first bytes, not
its name. Items are grayscale (mode ``"L"``) PIL images decoded on access from
one ``uint8`` array; encoders convert channels. Nothing here imports torch
unless ``download=True``.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import (
    InvalidEmbeddingsError,
    MissingExtraError,
    ResourceUnavailableError,
    UsageError,
)
from .base import DatasetSpec, LoadedDataset

__all__ = ["SYSTEM_ROOT", "ArrayImages", "create", "find_fashion_mnist", "read_idx"]

#: Where the Debian package ``dataset-fashion-mnist`` installs the raw files.
SYSTEM_ROOT = "/usr/share/datasets/fashion-mnist"

FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

# IDX type byte -> numpy big-endian dtype.
_IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_SPLIT_PREFIX = {"test": "t10k", "train": "train"}


class ArrayImages(Sequence):
    """PIL images decoded on access from a ``uint8`` array.

    Parameters
    ----------
    array : ndarray of uint8
        ``(n, H, W)`` for grayscale or ``(n, H, W, 3)`` for RGB.
    mode : str
        PIL mode of the images (``"L"`` or ``"RGB"``).

    Notes
    -----
    Picklable (the array travels with it), so DataLoader workers can use it.
    Slicing returns another :class:`ArrayImages` over a view of the array.
    """

    def __init__(self, array: np.ndarray, mode: str):
        expected = {"L": 3, "RGB": 4}.get(mode)
        if expected is None or array.ndim != expected or array.dtype != np.uint8:
            raise UsageError(f"ArrayImages needs uint8 (n, H, W[, 3]) for mode {mode!r}")
        if mode == "RGB" and array.shape[-1] != 3:
            raise UsageError(f"RGB images need 3 channels, got shape {array.shape}")
        self.array = array
        self.mode = mode

    def __len__(self) -> int:
        return int(self.array.shape[0])

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return ArrayImages(self.array[index], self.mode)
        try:
            from PIL import Image
        except ImportError as err:  # pragma: no cover - Pillow comes with torchvision
            raise MissingExtraError("PIL", "vision", "image datasets") from err
        i = int(index)
        if not -len(self) <= i < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} images")
        # The mode follows from the uint8 array's shape (L or RGB), checked above.
        return Image.fromarray(np.ascontiguousarray(self.array[i]))

    def __repr__(self) -> str:
        return f"ArrayImages(n={len(self)}, shape={self.array.shape[1:]}, mode={self.mode!r})"


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (plain or gzip-compressed) into a native-endian array.

    The format: two zero bytes, a type byte (``0x08`` uint8, ``0x09`` int8,
    ``0x0B`` int16, ``0x0C`` int32, ``0x0D`` float32, ``0x0E`` float64), a byte
    with the number of dimensions, one big-endian uint32 per dimension, then the
    big-endian data in C order.

    Parameters
    ----------
    path : path-like
        The file; gzip is recognised by its magic bytes, whatever the name.

    Returns
    -------
    ndarray
        Shaped as the header says.

    Raises
    ------
    InvalidEmbeddingsError
        When the file is not valid IDX (bad magic, unknown type, size that does
        not match the header, truncated gzip stream).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as err:  # BadGzipFile is an OSError
        if isinstance(err, FileNotFoundError):
            raise
        raise InvalidEmbeddingsError(f"cannot read IDX file {path}: {err}") from err
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise InvalidEmbeddingsError(
            f"{path} is not an IDX file (bad magic number {raw[:4].hex() or 'empty'})"
        )
    dtype = _IDX_TYPES.get(raw[2])
    if dtype is None:
        raise InvalidEmbeddingsError(f"{path}: unknown IDX data type byte 0x{raw[2]:02x}")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise InvalidEmbeddingsError(f"{path}: IDX header truncated ({ndim} dimensions)")
    dims = tuple(int(v) for v in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise InvalidEmbeddingsError(
            f"{path}: IDX header says {dims} of {dtype.name} ({expected} bytes) "
            f"but the file holds {len(raw)} bytes"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return data.astype(dtype.newbyteorder("="), copy=dtype.itemsize > 1)


def _default_roots() -> list[Path]:
    roots = []
    if os.environ.get("GAUSSAUDIT_DATA"):
        roots.append(Path(os.environ["GAUSSAUDIT_DATA"]).expanduser())
    roots.append(Path(SYSTEM_ROOT))
    roots.append(Path("~/.cache/gaussaudit/data").expanduser())
    return roots


def _find_file(directory: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):  # prefer the uncompressed copy
        if (directory / name).is_file():
            return directory / name
    return None


def find_fashion_mnist(root: Path, split: str) -> tuple[Path, Path] | None:
    """Image and label files of ``split`` under ``root``, or None.

    Parameters
    ----------
    root : Path
        A directory holding the raw files, or torchvision's root (with
        ``FashionMNIST/raw/`` inside).
    split : str
        ``test`` or ``train``.

    Returns
    -------
    (images, labels) : tuple of Path, or None when either is missing.
    """
    prefix = _SPLIT_PREFIX[split]
    for directory in (root, root / "FashionMNIST" / "raw"):
        images = _find_file(directory, f"{prefix}-images-idx3-ubyte")
        labels = _find_file(directory, f"{prefix}-labels-idx1-ubyte")
        if images is not None and labels is not None:
            return images, labels
    return None


def _download(root: Path, split: str) -> None:
    try:
        import torchvision
    except ImportError as err:
        raise MissingExtraError("torchvision", "vision", "downloading fashion-mnist") from err
    try:
        torchvision.datasets.FashionMNIST(str(root), train=split == "train", download=True)
    except Exception as err:  # any download failure is reported the same way
        raise ResourceUnavailableError(
            f"could not download Fashion-MNIST to {root}: {type(err).__name__}: {err}"
        ) from err


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
    """Load Fashion-MNIST (10k test / 60k train 28x28 grayscale images).

    Parameters
    ----------
    spec : DatasetSpec
    argument : str or None
        Unused (``fashion-mnist`` is not a prefix family).
    root : str, optional
        Only this directory is searched when given. Otherwise, in order:
        ``$GAUSSAUDIT_DATA``, ``/usr/share/datasets/fashion-mnist``,
        ``~/.cache/gaussaudit/data``.
    split : str
        ``test`` or ``train``.
    download : bool
        Fetch with ``torchvision.datasets.FashionMNIST`` when not found (into
        ``root``, else ``$GAUSSAUDIT_DATA``, else ``~/.cache/gaussaudit/data``).
    max_samples : int, optional
        Keep the first ``max_samples`` images in file order.
    seed : int
        Unused (recorded for provenance).
    modality : str, optional
        Must be ``image`` when given.
    **options
        None used.

    Returns
    -------
    LoadedDataset
        Mode ``"L"`` PIL images and int64 labels 0..9.

    Raises
    ------
    ResourceUnavailableError
        Not found and ``download`` is False, or the download failed.
    InvalidEmbeddingsError
        A file is not valid IDX, or images and labels disagree.
    """
    split = _check_split(split)
    _check_modality(modality)
    if root is not None:
        candidates = [Path(root).expanduser()]
    else:
        candidates = _default_roots()
    found = next(
        ((c, f) for c in candidates if (f := find_fashion_mnist(c, split)) is not None), None
    )
    downloaded = False
    if found is None:
        # Download into the user's root, else $GAUSSAUDIT_DATA, else the cache
        # (never into the system directory).
        target = candidates[0] if candidates[0] != Path(SYSTEM_ROOT) else candidates[-1]
        if not download:
            searched = ", ".join(str(c) for c in candidates)
            raise ResourceUnavailableError(
                f"Fashion-MNIST ({split}) not found under {searched}; pass download=True "
                "(about 30 MB), root=DIR holding the raw IDX files, or install the Debian "
                "package dataset-fashion-mnist",
                option=("download", "root"),
            )
        _download(target, split)
        files = find_fashion_mnist(target, split)
        if files is None:
            raise ResourceUnavailableError(
                f"Fashion-MNIST download to {target} did not leave the {split} IDX files"
            )
        found, downloaded = (target, files), True
    base, (images_path, labels_path) = found
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise InvalidEmbeddingsError(
            f"{images_path}: expected (n, H, W) uint8 images, got {images.shape} {images.dtype}"
        )
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise InvalidEmbeddingsError(
            f"{labels_path}: {labels.shape} labels for {images.shape[0]} images in {images_path}"
        )
    n_total = int(images.shape[0])
    n = _limit(n_total, max_samples)
    return LoadedDataset(
        # Copy a subset so that it does not keep the whole decoded file alive.
        items=ArrayImages(images[:n].copy() if n < n_total else images, "L"),
        modality="image",
        labels=labels[:n].astype(np.int64),
        info={
            "name": spec.name,
            "source": "idx",
            "split": split,
            "root": str(base),
            "files": [str(images_path), str(labels_path)],
            "n": n,
            "n_available": n_total,
            "image_size": [int(images.shape[1]), int(images.shape[2])],
            "classes": list(FASHION_CLASSES),
            "transform": "none; grayscale kept as 1 channel (mode L)",
            "downloaded": downloaded,
        },
    )


def _check_split(split: str) -> str:
    if split not in _SPLIT_PREFIX:
        raise UsageError(f"fashion-mnist has splits 'test' and 'train', not {split!r}")
    return split


def _check_modality(modality: str | None) -> None:
    if modality not in (None, "image"):
        raise UsageError(f"fashion-mnist holds images, not {modality!r}")


def _limit(n_total: int, max_samples: int | None) -> int:
    if max_samples is None:
        return n_total
    if int(max_samples) < 1:
        raise UsageError(f"max_samples must be at least 1, got {max_samples}")
    return min(n_total, int(max_samples))
