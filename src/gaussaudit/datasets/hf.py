"""Hugging Face datasets: ``hf:NAME[:SPLIT]`` through the optional ``datasets`` package.

The column is ``column=`` when given, else the first ``Image`` feature (or, with
``modality="text"`` or when there is no image column, the first string
feature). Labels come from ``label_column=`` or the first ``ClassLabel``
feature. ``root`` is passed as ``cache_dir``. Downloading is explicit, as for
every other dataset: without ``download=True`` (``--download``) the load runs
in the Hub libraries' offline mode, so a dataset already in the ``datasets``
cache (or a local path) loads and anything else raises
:class:`~gaussaudit.errors.ResourceUnavailableError` naming ``--download``
without touching the network. A failed fetch raises the same error. The
package is imported only when such a dataset is loaded.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..errors import MissingExtraError, ResourceUnavailableError, UnknownNameError, UsageError
from .base import DatasetSpec, LoadedDataset
from .idx import _limit

__all__ = ["HFColumn", "create", "select_columns"]

_STRING_DTYPES = ("string", "large_string")


class HFColumn(Sequence):
    """One column of a Hugging Face ``Dataset``, read row by row on access.

    Parameters
    ----------
    dataset : datasets.Dataset
        Memory-mapped Arrow data (picklable).
    column : str
        The column returned by ``__getitem__`` (images decode to PIL).
    """

    def __init__(self, dataset: Any, column: str):
        self.dataset = dataset
        self.column = column

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        i = int(index)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} rows")
        return self.dataset[i][self.column]

    def __repr__(self) -> str:
        return f"HFColumn(n={len(self)}, column={self.column!r})"


#: Where ``datasets`` and ``huggingface_hub`` read their offline switch at call time.
_OFFLINE_SWITCHES = (
    ("datasets.config", ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")),
    ("huggingface_hub.constants", ("HF_HUB_OFFLINE",)),
)


@contextmanager
def _hub_offline() -> Iterator[None]:
    """Switch the Hub libraries to offline mode for the duration, then restore them.

    ``HF_HUB_OFFLINE`` is read from the environment when the libraries are
    imported, but both consult the module attribute on every request, so
    setting the attribute is what makes one call offline.
    """
    saved: list[tuple[Any, str, Any]] = []
    for module_name, attributes in _OFFLINE_SWITCHES:
        module = sys.modules.get(module_name)
        for attribute in attributes:
            if module is not None and hasattr(module, attribute):
                saved.append((module, attribute, getattr(module, attribute)))
                setattr(module, attribute, True)
    try:
        yield
    finally:
        for module, attribute, value in reversed(saved):
            setattr(module, attribute, value)


def _kind(feature: Any) -> str | None:
    kind = type(feature).__name__
    if kind == "Image":
        return "image"
    if kind == "ClassLabel":
        return "label"
    if kind == "Value" and getattr(feature, "dtype", None) in _STRING_DTYPES:
        return "text"
    return None


def select_columns(
    features: dict[str, Any],
    *,
    column: str | None = None,
    label_column: str | None = None,
    modality: str | None = None,
) -> tuple[str, str, str | None]:
    """Choose the item column, its modality and the label column.

    Parameters
    ----------
    features : dict
        ``Dataset.features``: column name -> feature (``Image``, ``Value``,
        ``ClassLabel``, ...); features are recognised by class name.
    column : str, optional
        Use this column; its feature decides the modality (an ``Image`` is
        ``image``, anything else ``text``).
    label_column : str, optional
        Use this column for labels instead of the first ``ClassLabel``.
    modality : str, optional
        ``image`` or ``text``: take the first column of that kind.

    Returns
    -------
    column, modality, label_column : (str, str, str or None)

    Raises
    ------
    UnknownNameError
        ``column`` or ``label_column`` is not a column.
    UsageError
        No column of the wanted kind.
    """
    names = list(features)
    kinds = {name: _kind(feat) for name, feat in features.items()}
    if column is not None:
        if column not in features:
            raise UnknownNameError("column", column, names)
        chosen_modality = "image" if kinds[column] == "image" else "text"
        if modality not in (None, chosen_modality):
            raise UsageError(f"column {column!r} holds {chosen_modality} items, not {modality}")
    else:
        wanted = [modality] if modality else ["image", "text"]
        column = next((n for m in wanted for n in names if kinds[n] == m), None)
        if column is None:
            listing = ", ".join(f"{n} ({type(f).__name__})" for n, f in features.items())
            raise UsageError(f"no {' or '.join(wanted)} column among {listing}; pass column=NAME")
        chosen_modality = kinds[column] or "text"
    if label_column is not None:
        if label_column not in features:
            raise UnknownNameError("label column", label_column, names)
    else:
        label_column = next((n for n in names if kinds[n] == "label"), None)
    return column, chosen_modality, label_column


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
    """Load ``hf:NAME[:SPLIT]`` with ``datasets.load_dataset``.

    Parameters
    ----------
    spec : DatasetSpec
    argument : str
        ``NAME`` or ``NAME:SPLIT`` (a split here wins over ``split``).
    root : str, optional
        ``cache_dir`` for ``datasets``.
    split : str
        Split when the name carries none (default ``test``).
    download : bool
        Allow fetching from the Hub; without it only the local cache (or a
        local path) is used.
    max_samples : int, optional
        Keep the first ``max_samples`` rows.
    seed : int
        Unused.
    modality : str, optional
        ``image`` or ``text``, to pick the first column of that kind.
    **options
        ``column``, ``label_column``, ``config`` (the dataset configuration
        name), ``revision``.

    Returns
    -------
    LoadedDataset

    Raises
    ------
    MissingExtraError
        ``datasets`` is not installed (exit 3).
    ResourceUnavailableError
        The dataset could not be fetched or found.
    UsageError
        Unknown split, or no usable column.
    """
    if not argument:
        raise UsageError("hf needs a dataset name: hf:NAME[:SPLIT]")
    name, sep, arg_split = argument.partition(":")
    if sep and arg_split:
        split = arg_split
    try:
        import datasets
    except ImportError as err:
        raise MissingExtraError("datasets", "hf", "hf: datasets") from err
    kwargs: dict[str, Any] = {"split": split}
    if root is not None:
        kwargs["cache_dir"] = root
    if options.get("revision"):
        kwargs["revision"] = options["revision"]
    config = options.get("config")
    args = (name, config) if config else (name,)
    try:
        if download:
            ds = datasets.load_dataset(*args, **kwargs)
        else:
            with _hub_offline():
                ds = datasets.load_dataset(*args, **kwargs)
    except ValueError as err:  # unknown split or configuration
        raise UsageError(f"hf:{name}: {err}") from err
    except Exception as err:  # connection, hub and file errors alike
        if not download and isinstance(err, (ConnectionError, FileNotFoundError)):
            raise ResourceUnavailableError(
                f"Hugging Face dataset {name!r} is not in the local datasets cache"
                f"{f' ({root})' if root else ''}; pass download=True to fetch it from the Hub",
                option="download",
            ) from err
        raise ResourceUnavailableError(
            f"could not load Hugging Face dataset {name!r} (split {split!r}): "
            f"{type(err).__name__}: {err}"
        ) from err
    column, chosen, label_column = select_columns(
        dict(ds.features),
        column=options.get("column"),
        label_column=options.get("label_column"),
        modality=modality,
    )
    n_total = len(ds)
    n = _limit(n_total, max_samples)
    if n < n_total:
        ds = ds.select(range(n))
    labels = None
    if label_column is not None:
        labels = np.asarray(ds[label_column], dtype=np.int64)
    if chosen == "text":
        items: Sequence[Any] = [str(v) for v in ds[column]]
    else:
        # Keep only the item column so row access decodes nothing else.
        only = ds.select_columns([column]) if hasattr(ds, "select_columns") else ds
        items = HFColumn(only, column)
    label_feature = ds.features[label_column] if label_column is not None else None
    info: dict[str, Any] = {
        "name": f"hf:{name}",
        "source": "huggingface datasets",
        "dataset": name,
        "config": config,
        "split": split,
        "root": root,
        "column": column,
        "label_column": label_column,
        "n": n,
        "n_available": n_total,
        "download": bool(download),
    }
    if label_feature is not None and hasattr(label_feature, "names"):
        info["classes"] = list(label_feature.names)
    return LoadedDataset(items=items, modality=chosen, labels=labels, info=info)
