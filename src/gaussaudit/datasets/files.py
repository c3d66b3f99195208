"""Datasets from the user's own files: ``imagefolder:``, ``text:`` and ``csv:``.

- ``imagefolder:PATH``: every image (``jpg jpeg png bmp webp gif``, any case)
  under ``PATH``, recursively, in sorted relative-path order; hidden files and
  folders (names starting with ``.``) are skipped and symlinked folders are not
  followed. When every image sits inside a first-level sub-folder, the sorted
  sub-folder names are the classes and give the labels; otherwise there are no
  labels. Images are opened on access and returned as stored (mode unchanged).
- ``text:PATH``: one item per line (UTF-8, trailing newline stripped, blank
  lines skipped and counted). A file containing lines equal to ``%`` is read
  fortune-style: items are the blocks between those lines (the layout of
  ``/usr/share/games/fortunes``); ``separator=`` forces another separator
  line, ``separator="line"`` forces one item per line. A directory reads every
  regular file in it (not recursive; hidden files, symlinks and ``.dat`` /
  ``.u8`` files skipped), in sorted name order.
- ``csv:PATH:COLUMN``: the text column ``COLUMN`` of a CSV file (split on the
  last ``:``); missing cells are skipped and counted; ``label_column=`` gives
  labels.

A path that does not exist is bad input (exit 2), not a missing resource.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidEmbeddingsError, MissingExtraError, UnknownNameError, UsageError
from .base import DatasetSpec, LoadedDataset
from .idx import _limit

__all__ = ["IMAGE_EXTENSIONS", "ImageFiles", "create", "read_text_items"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif")
_SKIP_TEXT_SUFFIXES = (".dat", ".u8")


class ImageFiles(Sequence):
    """PIL images opened from files on access.

    Parameters
    ----------
    paths : sequence of str
        Image files, in dataset order.

    Notes
    -----
    Each access opens the file, decodes it fully (so no file handle stays
    open) and returns the image in its stored mode; for animated GIFs, the
    first frame. Picklable. A file that cannot be decoded raises
    :class:`~gaussaudit.errors.InvalidEmbeddingsError` naming it.
    """

    def __init__(self, paths: Sequence[str]):
        self.paths = list(paths)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return ImageFiles(self.paths[index])
        try:
            from PIL import Image, UnidentifiedImageError
        except ImportError as err:  # pragma: no cover - Pillow comes with torchvision
            raise MissingExtraError("PIL", "vision", "image datasets") from err
        path = self.paths[index]
        try:
            with Image.open(path) as img:
                img.load()
                return img.copy() if getattr(img, "is_animated", False) else img
        except (UnidentifiedImageError, OSError, SyntaxError) as err:
            raise InvalidEmbeddingsError(f"cannot decode image {path}: {err}") from err

    def __repr__(self) -> str:
        return f"ImageFiles(n={len(self)})"


def _missing(path: Path) -> InvalidEmbeddingsError:
    return InvalidEmbeddingsError(f"no such file or directory: {path}")


def _walk_images(top: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if not name.startswith(".") and name.lower().endswith(IMAGE_EXTENSIONS):
                found.append(Path(dirpath) / name)
    return sorted(found, key=lambda p: p.relative_to(top).as_posix())


def _imagefolder(
    spec: DatasetSpec, path: Path, split: str, max_samples: int | None
) -> LoadedDataset:
    if not path.exists():
        raise _missing(path)
    if not path.is_dir():
        raise InvalidEmbeddingsError(f"imagefolder: {path} is not a directory")
    files = _walk_images(path)
    if not files:
        raise InvalidEmbeddingsError(
            f"no images ({', '.join(e[1:] for e in IMAGE_EXTENSIONS)}) under {path}"
        )
    rel = [f.relative_to(path).parts for f in files]
    in_subfolders = all(len(parts) > 1 for parts in rel)
    labels = None
    classes: list[str] = []
    note = None
    if in_subfolders:
        classes = sorted({parts[0] for parts in rel})
        index = {c: i for i, c in enumerate(classes)}
        labels = np.array([index[parts[0]] for parts in rel], dtype=np.int64)
    elif any(len(parts) > 1 for parts in rel):
        note = "images both at the top level and in sub-folders: no class labels"
    n = _limit(len(files), max_samples)
    info: dict[str, Any] = {
        "name": spec.name,
        "source": "imagefolder",
        "split": split,
        "path": str(path),
        "n": n,
        "n_available": len(files),
        "extensions": [e[1:] for e in IMAGE_EXTENSIONS],
        "order": "sorted relative paths",
        "classes": classes,
        "transform": "none (images returned in their stored mode)",
    }
    if note:
        info["labels_note"] = note
    return LoadedDataset(
        items=ImageFiles([str(f) for f in files[:n]]),
        modality="image",
        labels=None if labels is None else labels[:n],
        info=info,
    )


def read_text_items(text: str, separator: str | None = None) -> tuple[list[str], int, str]:
    """Split text into items: one per line, or blocks between separator lines.

    Parameters
    ----------
    text : str
        The file contents.
    separator : str, optional
        ``None`` to auto-detect (fortune-style when some line is exactly
        ``%``), ``"line"`` for one item per line, or the separator line itself.

    Returns
    -------
    items : list of str
        Lines without their newline, or blocks joined with newlines, with
        trailing blank lines and whitespace removed.
    skipped : int
        Blank items (empty or whitespace-only) left out.
    mode : str
        ``"lines"`` or ``"blocks separated by '<sep>'"``.
    """
    lines = text.splitlines()
    if separator is None:
        separator = "%" if "%" in lines else "line"
    if separator == "line":
        items = [line for line in lines if line.strip()]
        return items, len(lines) - len(items), "lines"
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line == separator:
            blocks.append([])
        else:
            blocks[-1].append(line)
    joined = ["\n".join(b).rstrip() for b in blocks]
    # A trailing separator leaves an empty last block that is not a skipped item.
    if joined and not joined[-1] and lines and lines[-1] == separator:
        joined.pop()
    items = [b for b in joined if b.strip()]
    return items, len(joined) - len(items), f"blocks separated by {separator!r}"


def _read_text_file(path: Path, separator: str | None, encoding: str) -> tuple[list[str], int, str]:
    try:
        text = path.read_text(encoding=encoding)
    except UnicodeDecodeError as err:
        raise InvalidEmbeddingsError(
            f"{path} is not valid {encoding} ({err}); pass encoding= to read it"
        ) from err
    return read_text_items(text, separator)


def _text(
    spec: DatasetSpec, path: Path, split: str, max_samples: int | None, options: dict
) -> LoadedDataset:
    if not path.exists():
        raise _missing(path)
    separator = options.get("separator")
    encoding = options.get("encoding", "utf-8")
    if path.is_dir():
        files = sorted(
            p
            for p in path.iterdir()
            if p.is_file()
            and not p.is_symlink()
            and not p.name.startswith(".")
            and p.suffix not in _SKIP_TEXT_SUFFIXES
        )
        if not files:
            raise InvalidEmbeddingsError(f"no text files in directory {path}")
    else:
        files = [path]
    items: list[str] = []
    skipped = 0
    per_file: dict[str, int] = {}
    modes = set()
    for f in files:
        got, skip, mode = _read_text_file(f, separator, encoding)
        items.extend(got)
        skipped += skip
        per_file[f.name] = len(got)
        modes.add(mode)
    n = _limit(len(items), max_samples)
    info: dict[str, Any] = {
        "name": spec.name,
        "source": "text",
        "split": split,
        "path": str(path),
        "n": n,
        "n_available": len(items),
        "skipped_empty": skipped,
        "encoding": encoding,
        "mode": sorted(modes)[0] if len(modes) == 1 else sorted(modes),
    }
    if path.is_dir():
        info["files"] = per_file
    return LoadedDataset(items=items[:n], modality="text", labels=None, info=info)


def _csv(
    spec: DatasetSpec, argument: str, split: str, max_samples: int | None, options: dict
) -> LoadedDataset:
    raw_path, sep, column = argument.rpartition(":")
    if not sep or not raw_path or not column:
        raise UsageError(f"csv needs csv:PATH:COLUMN, got 'csv:{argument}'")
    path = Path(raw_path).expanduser()
    if not path.exists():
        raise _missing(path)
    if not path.is_file():
        raise InvalidEmbeddingsError(f"csv: {path} is not a file")
    import pandas as pd

    delimiter = options.get("sep") or ("\t" if path.suffix.lower() == ".tsv" else ",")
    try:
        frame = pd.read_csv(path, sep=delimiter, encoding=options.get("encoding", "utf-8"))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise InvalidEmbeddingsError(f"cannot read CSV file {path}: {err}") from err
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    if column not in columns:
        raise UnknownNameError("column", column, columns)
    label_column = options.get("label_column")
    if label_column is not None and label_column not in columns:
        raise UnknownNameError("label column", label_column, columns)
    keep = frame[column].notna().to_numpy()
    texts = [str(v) for v in frame[column].to_numpy()[keep]]
    labels = None
    info: dict[str, Any] = {}
    if label_column is not None:
        values = frame[label_column][keep]
        if pd.api.types.is_integer_dtype(values.dtype):
            labels = values.to_numpy(dtype=np.int64)
        else:
            codes, uniques = pd.factorize(values, sort=True)
            labels = codes.astype(np.int64)
            info["classes"] = [str(u) for u in uniques]
            if (codes < 0).any():
                info["labels_note"] = "missing labels coded -1"
    n = _limit(len(texts), max_samples)
    info = {
        "name": spec.name,
        "source": "csv",
        "split": split,
        "path": str(path),
        "column": column,
        "label_column": label_column,
        "n": n,
        "n_available": len(texts),
        "rows": len(frame),
        "skipped_missing": int((~keep).sum()),
        **info,
    }
    return LoadedDataset(
        items=texts[:n],
        modality="text",
        labels=None if labels is None else labels[:n],
        info=info,
    )


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
    """Load ``imagefolder:PATH``, ``text:PATH`` or ``csv:PATH:COLUMN``.

    Parameters
    ----------
    spec : DatasetSpec
        Which prefix was used (``spec.name``).
    argument : str
        The text after the prefix.
    root : str, optional
        Unused (the path is in ``argument``).
    split : str
        Recorded only; the files are the dataset.
    download : bool
        Unused.
    max_samples : int, optional
        Keep the first ``max_samples`` items.
    seed : int
        Unused.
    modality : str, optional
        Must match the prefix (``image`` for imagefolder, ``text`` otherwise).
    **options
        ``separator``, ``encoding`` (text); ``label_column``, ``sep``,
        ``encoding`` (csv).

    Returns
    -------
    LoadedDataset

    Raises
    ------
    InvalidEmbeddingsError
        The path does not exist or holds nothing usable.
    UnknownNameError
        A CSV column that does not exist (closest names suggested).
    """
    if not argument:
        raise UsageError(f"{spec.name} needs a path: {spec.name}:PATH")
    if modality not in (None, spec.modality):
        raise UsageError(f"{spec.name}: holds {spec.modality} items, not {modality!r}")
    if spec.name == "imagefolder":
        return _imagefolder(spec, Path(argument).expanduser(), split, max_samples)
    if spec.name == "text":
        return _text(spec, Path(argument).expanduser(), split, max_samples, options)
    if spec.name == "csv":
        return _csv(spec, argument, split, max_samples, options)
    raise UsageError(f"files cannot load {spec.name!r}")
