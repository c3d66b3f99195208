"""The dataset contract shared by every dataset source.

A :class:`LoadedDataset` is an indexable sequence of raw items (PIL images,
strings or 1-D float arrays) with optional integer labels and the provenance
of where they came from. Encoders turn items into model input; datasets never
apply model-specific preprocessing. Nothing here imports torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["DatasetSpec", "LoadedDataset"]


@dataclass(frozen=True)
class DatasetSpec:
    """A registry entry for a dataset source.

    Attributes
    ----------
    name : str
        What the user types (``"cifar10"``) or a prefix family (``"text"``,
        which handles ``"text:PATH"``).
    family : str
        ``torchvision``, ``idx``, ``files``, ``hf``, ``coco``, ``synthetic``, ...
    factory : str
        ``"module:function"`` called as ``factory(spec, argument, **options)``
        returning a :class:`LoadedDataset`.
    modality : str
        ``image``, ``text`` or ``vector``.
    extra : str or None
        Extra needed to load it.
    description : str
    prefix : bool
        True for a family handling every ``"<name>:<argument>"`` (``text:``).
    override : bool
        True when a plugin spec deliberately replaces an entry of the same
        name from another source; without it a name collision is an error.

    Examples
    --------
    >>> DatasetSpec("lines", "files", "my_pkg.data:create", "text", None, prefix=True).prefix
    True
    """

    name: str
    family: str
    factory: str
    modality: str = "image"
    extra: str | None = "vision"
    description: str = ""
    prefix: bool = False
    override: bool = False


@dataclass
class LoadedDataset:
    """Items ready to be embedded.

    Attributes
    ----------
    items : Sequence
        ``items[i]`` is a PIL image, a string, or a 1-D float array.
    modality : str
    labels : ndarray of int or None
    info : dict
        Provenance: dataset name, split, root, files, n, transform applied to
        raw data (e.g. "grayscale kept as 1 channel").
    """

    items: Sequence[Any]
    modality: str
    labels: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.items)
