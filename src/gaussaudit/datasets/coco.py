"""MS-COCO 2017 images or captions (the paper's Table 2 data: the 5k val2017 set).

Expected layout under the root::

    ROOT/val2017/000000000139.jpg ...             (val2017.zip)
    ROOT/annotations/captions_val2017.json        (annotations_trainval2017.zip)

both from https://cocodataset.org/#download. The root is ``root`` when given,
else ``$GAUSSAUDIT_DATA/coco``, else ``~/.cache/gaussaudit/data/coco``. Split
``test`` (default) and ``val`` mean val2017, ``train`` means train2017. There
is no automatic download (about 1 GB for val2017 images plus 250 MB of
annotations).

``modality="image"`` (default): the images sorted by image id (the number in
the file name), opened on access in their stored mode (COCO holds some
grayscale images; encoders convert). ``modality="text"``: every caption,
sorted by image id then caption id, whitespace stripped; ``info`` records how
many captions each image has.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from ..errors import InvalidEmbeddingsError, ResourceUnavailableError, UsageError
from .base import DatasetSpec, LoadedDataset
from .files import ImageFiles
from .idx import _limit

__all__ = ["create", "default_roots"]

_SPLITS = {"test": "val2017", "val": "val2017", "val2017": "val2017", "train": "train2017"}
_SPLITS["train2017"] = "train2017"


def default_roots() -> list[Path]:
    """Roots searched when none is given.

    Returns
    -------
    list of Path
        ``$GAUSSAUDIT_DATA/coco`` (when set), then ``~/.cache/gaussaudit/data/coco``.
    """
    roots = []
    if os.environ.get("GAUSSAUDIT_DATA"):
        roots.append(Path(os.environ["GAUSSAUDIT_DATA"]).expanduser() / "coco")
    roots.append(Path("~/.cache/gaussaudit/data/coco").expanduser())
    return roots


def _missing(what: str, roots: list[Path], tag: str) -> ResourceUnavailableError:
    where = " or ".join(str(r) for r in roots)
    zips = f"{tag}.zip" if what == "images" else "annotations_trainval2017.zip"
    return ResourceUnavailableError(
        f"MS-COCO {tag} {what} not found under {where}; expected ROOT/{tag}/*.jpg for images "
        f"and ROOT/annotations/captions_{tag}.json for captions. Download {zips} from "
        "https://cocodataset.org/#download, unzip it into ROOT and pass root=ROOT",
        option="root",
    )


def _image_id(path: Path) -> int:
    try:
        return int(path.stem)
    except ValueError as err:
        raise InvalidEmbeddingsError(
            f"{path}: COCO image names are numeric ids (000000000139.jpg)"
        ) from err


def _images(spec, base: Path, tag: str, split: str, max_samples) -> LoadedDataset:
    folder = base / tag
    files = sorted(
        (p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")),
        key=_image_id,
    )
    if not files:
        raise InvalidEmbeddingsError(f"no images in {folder}")
    n = _limit(len(files), max_samples)
    return LoadedDataset(
        items=ImageFiles([str(p) for p in files[:n]]),
        modality="image",
        labels=None,
        info={
            "name": spec.name,
            "source": "coco",
            "split": split,
            "subset": tag,
            "root": str(base),
            "path": str(folder),
            "n": n,
            "n_available": len(files),
            "order": "image id",
            "first_ids": [_image_id(p) for p in files[: min(n, 3)]],
            "transform": "none (images in stored mode; some COCO images are grayscale)",
        },
    )


def _captions(spec, base: Path, tag: str, split: str, max_samples) -> LoadedDataset:
    path = base / "annotations" / f"captions_{tag}.json"
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        rows = sorted(
            (int(a["image_id"]), int(a["id"]), str(a["caption"]).strip())
            for a in payload["annotations"]
        )
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
        raise InvalidEmbeddingsError(f"{path} is not a COCO captions file: {err}") from err
    if not rows:
        raise InvalidEmbeddingsError(f"{path} holds no captions")
    per_image = Counter(image_id for image_id, _, _ in rows)
    histogram = Counter(per_image.values())
    n = _limit(len(rows), max_samples)
    return LoadedDataset(
        items=[caption for _, _, caption in rows[:n]],
        modality="text",
        labels=None,
        info={
            "name": spec.name,
            "source": "coco",
            "split": split,
            "subset": tag,
            "root": str(base),
            "path": str(path),
            "n": n,
            "n_available": len(rows),
            "n_images": len(per_image),
            "captions_per_image": {str(k): histogram[k] for k in sorted(histogram)},
            "order": "image id, then caption id",
            "transform": "surrounding whitespace stripped",
        },
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
    """Load MS-COCO images (default) or captions (``modality="text"``).

    Parameters
    ----------
    spec : DatasetSpec
    argument : str or None
        Unused.
    root : str, optional
        The COCO root (see module notes for the layout and default roots).
    split : str
        ``test``/``val`` (val2017, default) or ``train`` (train2017).
    download : bool
        Not supported: a missing dataset raises with download instructions.
    max_samples : int, optional
        Keep the first ``max_samples`` items (by image id).
    seed : int
        Unused.
    modality : str, optional
        ``image`` (default) or ``text``.
    **options
        None used.

    Returns
    -------
    LoadedDataset

    Raises
    ------
    ResourceUnavailableError
        The images folder or captions file is missing (the message explains
        the layout and where to get it).
    """
    modality = modality or "image"
    if modality not in ("image", "text"):
        raise UsageError(f"mscoco has image and text modalities, not {modality!r}")
    if split not in _SPLITS:
        raise UsageError(f"mscoco split must be test, val or train, not {split!r}")
    tag = _SPLITS[split]
    roots = [Path(root).expanduser()] if root is not None else default_roots()
    what = "images" if modality == "image" else "captions"
    for base in roots:
        if modality == "image" and (base / tag).is_dir():
            return _images(spec, base, tag, split, max_samples)
        if modality == "text" and (base / "annotations" / f"captions_{tag}.json").is_file():
            return _captions(spec, base, tag, split, max_samples)
    raise _missing(what, roots, tag)
