"""Dataset factories of the registry: ``synthetic:<kind>`` and ``fake`` (random images).

:func:`create` wraps the generators of
:mod:`gaussaudit.datasets.synthetic.generators` as a
:class:`~gaussaudit.datasets.base.LoadedDataset` with its provenance;
:func:`create_fake` serves reproducible uniform-noise RGB images
(:class:`FakeImages`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...errors import UnknownNameError, UsageError
from ..base import DatasetSpec, LoadedDataset
from ..idx import _limit
from .generators import CHOICES, _rng, gmm, laplace, sparse_binary

__all__ = ["FakeImages", "create", "create_fake"]

_SPLIT_CODE = {"test": 0, "train": 1}
_DEFAULT_N = {"laplace": {"test": 5000, "train": 20000}, "gmm": 10000, "binary": 10000}


def _split_code(split: str, what: str) -> int:
    if split not in _SPLIT_CODE:
        raise UsageError(f"{what} has splits 'test' and 'train', not {split!r}")
    return _SPLIT_CODE[split]


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
    """Load ``synthetic:laplace``, ``synthetic:gmm`` or ``synthetic:binary``.

    Parameters
    ----------
    spec : DatasetSpec
    argument : str
        ``laplace``, ``gmm`` or ``binary``.
    root, download : optional
        Unused.
    split : str
        ``test`` or ``train``: the samples come from the stream
        ``[seed, 0]`` (test) or ``[seed, 1]`` (train); GMM means from
        ``seed`` alone, so both splits share them.
    max_samples : int, optional
        Keep the first ``max_samples`` vectors (only those are generated; they
        equal the first rows of the full set).
    seed : int
        Experiment seed.
    modality : str, optional
        Must be ``vector`` when given.
    **options
        ``n`` (default 5000 test / 20000 train for laplace, 10000 for gmm and
        binary), ``d`` (1024); gmm: ``n_components`` (25), ``mean_scale``
        (1.0), ``noise_scale`` (1.0); binary: ``p_one`` (0.005).

    Returns
    -------
    LoadedDataset
        ``items`` is the ``(n, d)`` float32 array (``items[i]`` a 1-D row);
        labels are the component ids for gmm, else None.
    """
    kinds = ("laplace", "gmm", "binary")
    if argument not in kinds:
        raise UnknownNameError(
            "synthetic dataset", f"synthetic:{argument}", [f"synthetic:{k}" for k in kinds]
        )
    if modality not in (None, "vector"):
        raise UsageError(f"synthetic:{argument} holds vectors, not {modality!r}")
    code = _split_code(split, f"synthetic:{argument}")
    default_n = _DEFAULT_N[argument]
    n_full = int(options.get("n", default_n[split] if isinstance(default_n, dict) else default_n))
    d = int(options.get("d", 1024))
    n = _limit(n_full, max_samples)
    entropy = [int(seed), code]
    info: dict[str, Any] = {
        "name": f"synthetic:{argument}",
        "source": "synthetic (paper Appendix E.1)",
        "split": split,
        "n": n,
        "n_requested": n_full,
        "d": d,
        "seed": int(seed),
        "sample_entropy": entropy,
    }
    labels = None
    if argument == "laplace":
        x = laplace(n, d, seed=entropy)
        info["distribution"] = "iid Laplace(0, 1)"
    elif argument == "gmm":
        k = int(options.get("n_components", CHOICES["gmm_n_components"]))
        mean_scale = float(options.get("mean_scale", CHOICES["gmm_mean_scale"]))
        noise_scale = float(options.get("noise_scale", CHOICES["gmm_noise_scale"]))
        x, labels = gmm(
            n,
            d,
            n_components=k,
            mean_scale=mean_scale,
            noise_scale=noise_scale,
            seed=entropy,
            means_seed=int(seed),
        )
        info.update(
            distribution="equally weighted isotropic Gaussian mixture",
            n_components=k,
            mean_scale=mean_scale,
            noise_scale=noise_scale,
            means_seed=int(seed),
            membership=CHOICES["gmm_membership"],
        )
    else:
        p_one = float(options.get("p_one", CHOICES["binary_p_one"]))
        x = sparse_binary(n, d, p_one=p_one, seed=entropy)
        info.update(distribution="iid Bernoulli", p_one=p_one)
    info["choices"] = {k: v for k, v in CHOICES.items() if k.startswith(argument)}
    return LoadedDataset(items=x, modality="vector", labels=labels, info=info)


class FakeImages(Sequence):
    """Random RGB images generated on access (FakeData-style), reproducibly.

    Parameters
    ----------
    n : int
        Number of images.
    size : (int, int)
        Height and width.
    entropy : list of int
        Seed entropy; image ``i`` comes from its own child stream, so it does
        not depend on ``n`` or on access order.
    """

    def __init__(self, n: int, size: tuple[int, int], entropy: list[int]):
        self.n, self.size, self.entropy = int(n), (int(size[0]), int(size[1])), list(entropy)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.n))]
        i = int(index)
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(f"index {index} out of range for {self.n} images")
        from PIL import Image

        rng = _rng(self.entropy, 0, i)
        pixels = rng.integers(0, 256, (*self.size, 3), dtype=np.uint8)
        return Image.fromarray(pixels)  # (H, W, 3) uint8: RGB

    def __repr__(self) -> str:
        return f"FakeImages(n={self.n}, size={self.size})"


def create_fake(
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
    """Load ``fake``: uniform-noise RGB PIL images with random labels.

    Parameters
    ----------
    spec : DatasetSpec
    argument : None
        Unused.
    root, download : optional
        Unused.
    split : str
        ``test`` or ``train`` (different streams).
    max_samples : int, optional
        Keep the first ``max_samples`` images.
    seed : int
        Seed; same seed, same images.
    modality : str, optional
        Must be ``image`` when given.
    **options
        ``n`` (64), ``size`` (32, or ``(height, width)``), ``num_classes`` (10).

    Returns
    -------
    LoadedDataset
    """
    if modality not in (None, "image"):
        raise UsageError(f"fake holds images, not {modality!r}")
    code = _split_code(split, "fake")
    n_full = int(options.get("n", 64))
    size = options.get("size", 32)
    hw = (int(size), int(size)) if np.ndim(size) == 0 else (int(size[0]), int(size[1]))
    num_classes = int(options.get("num_classes", 10))
    if n_full < 0 or min(hw) < 1 or num_classes < 1:
        raise UsageError(f"fake needs n >= 0, size >= 1, num_classes >= 1; got {options}")
    entropy = [int(seed), code]
    labels = _rng(entropy, 1).integers(0, num_classes, n_full).astype(np.int64)
    n = _limit(n_full, max_samples)
    return LoadedDataset(
        items=FakeImages(n, hw, entropy),
        modality="image",
        labels=labels[:n],
        info={
            "name": "fake",
            "source": "synthetic uniform-noise RGB images",
            "split": split,
            "n": n,
            "image_size": list(hw),
            "num_classes": num_classes,
            "seed": int(seed),
        },
    )
