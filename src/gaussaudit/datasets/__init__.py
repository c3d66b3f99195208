"""Datasets: a lazy registry of sources and a loader.

Names: ``cifar10``, ``cifar100`` (torchvision; ``download=True`` to fetch),
``fashion-mnist`` (torchvision layout or raw IDX files), ``imagefolder:PATH``,
``text:PATH`` (one item per line), ``csv:PATH:COLUMN``, ``hf:NAME[:SPLIT]``,
``mscoco`` (val2017 images, or captions with ``modality="text"``), the paper's
synthetic inputs ``synthetic:laplace``, ``synthetic:gmm``, ``synthetic:binary``,
and ``fake`` (FakeData-style random images for tests). Plugins: entry points in
the group ``gaussaudit.datasets``; the built-ins come through the same door,
:func:`builtin_specs` (see :mod:`gaussaudit.registry` for the collision rule).
"""

from __future__ import annotations

from typing import Any

from ..registry import Registry, load_object
from .base import DatasetSpec, LoadedDataset

__all__ = [
    "DatasetSpec",
    "LoadedDataset",
    "builtin_specs",
    "list_datasets",
    "load_dataset",
    "registry",
]

registry: Registry[DatasetSpec] = Registry(
    "dataset", "gaussaudit.datasets", builtins="gaussaudit.datasets:builtin_specs"
)

_TVD = "gaussaudit.datasets.torchvision_sets:create"
_FILES = "gaussaudit.datasets.files:create"


def builtin_specs() -> list[DatasetSpec]:
    """Return gaussaudit's own datasets, loaded by :data:`registry` like a plugin's entry point.

    An in-tree source is one module plus one line here.

    Returns
    -------
    list of DatasetSpec

    Examples
    --------
    >>> [s.name for s in builtin_specs() if s.prefix]
    ['imagefolder', 'text', 'csv', 'hf', 'synthetic']
    """
    return [
        DatasetSpec(
            "cifar10",
            "torchvision",
            _TVD,
            "image",
            "vision",
            "CIFAR-10 (torchvision), 10k test / 50k train images",
        ),
        DatasetSpec("cifar100", "torchvision", _TVD, "image", "vision", "CIFAR-100 (torchvision)"),
        DatasetSpec(
            "fashion-mnist",
            "idx",
            "gaussaudit.datasets.idx:create",
            "image",
            None,
            "Fashion-MNIST from torchvision's layout or raw IDX files",
        ),
        DatasetSpec(
            "mscoco",
            "coco",
            "gaussaudit.datasets.coco:create",
            "image",
            None,
            "MS-COCO val2017 images (or captions with modality text)",
        ),
        DatasetSpec(
            "fake",
            "synthetic",
            "gaussaudit.datasets.synthetic:create_fake",
            "image",
            None,
            "FakeData-style random RGB images (tests)",
        ),
        DatasetSpec(
            "imagefolder",
            "files",
            _FILES,
            "image",
            None,
            "imagefolder:PATH, images under PATH (class sub-folders)",
            prefix=True,
        ),
        DatasetSpec(
            "text", "files", _FILES, "text", None, "text:PATH, one item per line", prefix=True
        ),
        DatasetSpec(
            "csv",
            "files",
            _FILES,
            "text",
            None,
            "csv:PATH:COLUMN, a text column of a CSV file",
            prefix=True,
        ),
        DatasetSpec(
            "hf",
            "hf",
            "gaussaudit.datasets.hf:create",
            "image",
            "hf",
            "hf:NAME[:SPLIT], a Hugging Face dataset",
            prefix=True,
        ),
        DatasetSpec(
            "synthetic",
            "synthetic",
            "gaussaudit.datasets.synthetic:create",
            "vector",
            None,
            "synthetic:laplace|gmm|binary, the paper's Appendix E.1 inputs",
            prefix=True,
        ),
    ]


def list_datasets() -> list[DatasetSpec]:
    """Every registered dataset spec; imports no torch.

    Examples
    --------
    >>> "cifar10" in {spec.name for spec in list_datasets()}
    True
    """
    return registry.specs()


def load_dataset(
    name: str,
    *,
    root: str | None = None,
    split: str = "test",
    download: bool = False,
    max_samples: int | None = None,
    seed: int = 0,
    modality: str | None = None,
    **options: Any,
) -> LoadedDataset:
    """Load the dataset ``name``.

    Parameters
    ----------
    name : str
        A registered name or ``prefix:argument``.
    root : str, optional
        Where the data lives (family default otherwise).
    split : str
        ``test`` (default) or ``train`` (or a family's own split names).
    download : bool
        Allow downloading; without it a missing dataset raises
        :class:`~gaussaudit.errors.ResourceUnavailableError` (exit 3).
    max_samples : int, optional
        Keep the first ``max_samples`` items (deterministic order).
    seed : int
        Seed for synthetic sources.
    modality : str, optional
        For sources with several (``mscoco``: image or text).
    **options
        Family-specific options.

    Returns
    -------
    LoadedDataset
    """
    spec, argument = registry.resolve(name)
    factory = load_object(spec.factory)
    return factory(
        spec,
        argument,
        root=root,
        split=split,
        download=download,
        max_samples=max_samples,
        seed=seed,
        modality=modality,
        **options,
    )
