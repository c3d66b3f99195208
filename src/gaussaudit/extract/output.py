"""The outputs of :func:`gaussaudit.extract.embed`: where they go, reuse, and writing them.

:func:`default_output_path` names the ``.npy``; an earlier output whose
sidecar records the same request is reused; otherwise rows, labels and the
provenance sidecar are written through :func:`gaussaudit.io.save_embeddings`.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UsageError
from ..versions import package_versions

__all__ = ["EmbedResult", "default_output_path"]


@dataclass(frozen=True)
class EmbedResult:
    """What :func:`embed` wrote.

    Attributes
    ----------
    path : Path
        The ``.npy`` file (float32, shape (n, d)).
    sidecar : Path
        The provenance JSON beside it.
    labels_path : Path or None
        ``EMB.labels.npy`` when the dataset has labels.
    provenance : dict
        The sidecar's content.
    reused : bool
        True when a matching earlier output was reused.
    """

    path: Path
    sidecar: Path
    labels_path: Path | None
    provenance: dict
    reused: bool


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:80] or "x"


def default_output_path(
    model: str, dataset: str, split: str, layer: str | None, request: dict | None = None
) -> Path:
    """``embeddings/<model>[-<layer>]-<dataset>-<split>[-<hash>].npy``.

    The 8-character hash of the request is added whenever any setting beyond
    model, dataset, split and layer differs from its default, so that, e.g.,
    image and text embeddings of one dataset never share a file.
    """
    import hashlib
    import json

    parts = [_slug(model)] + ([_slug(layer)] if layer else []) + [_slug(dataset), _slug(split)]
    defaults = {
        "weights": "default",
        "modality": None,
        "checkpoint": None,
        "root": None,
        "max_samples": None,
        "seed": 0,
        "precision": "fp32",
        "options": {},
    }
    extra = {k: v for k, v in (request or {}).items() if k in defaults and v != defaults[k]}
    if extra:
        digest = hashlib.sha256(json.dumps(extra, sort_keys=True, default=str).encode())
        parts.append(digest.hexdigest()[:8])
    return Path("embeddings") / ("-".join(parts) + ".npy")


def _read_sidecar(path: Path) -> dict | None:
    import json

    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _output_path(out: str | os.PathLike | None, request: dict) -> Path:
    """Where the rows go: ``out``, or the default name derived from the request."""
    if out is None:
        target = default_output_path(
            request["model"], request["dataset"], request["split"], request["layer"], request
        )
    else:
        target = Path(out)
    if target.suffix != ".npy":
        raise UsageError(f"out={os.fspath(target)!r} must end in .npy", option="out")
    return target


def _previous_output(target: Path, request: dict) -> EmbedResult | None:
    """Return an earlier output of the same request, when it may be reused.

    Outputs made with an encoder's default weights are not reused when the
    spec says those weights change over time (``reuse_default=False``: the
    latest trainer run); pinned weights or a checkpoint are always reusable.
    """
    from ..io import sidecar_path
    from ..io.sidecar import find_sidecar

    sidecar = find_sidecar(target) or sidecar_path(target)  # a legacy EMB.json too
    if not target.exists():
        return None
    previous = _read_sidecar(sidecar)
    if previous is None or previous.get("request") != request:
        return None
    if request["checkpoint"] is None and request["weights"] == "default":
        from ..encoders import resolve_encoder

        if not resolve_encoder(request["model"])[0].reuse_default:
            return None
    labels = _labels_path(target)
    return EmbedResult(target, sidecar, labels if labels.exists() else None, previous, True)


def _labels_path(target: Path) -> Path:
    return target.with_name(target.stem + ".labels.npy")


# --------------------------------------------------------------------------- writing

#: Distributions whose versions every sidecar records (the built-in families' packages).
_VERSIONED = (
    "gaussaudit",
    "numpy",
    "torch",
    "torchvision",
    "open_clip_torch",
    "timm",
    "sentence-transformers",
)


def _provenance(
    encoder: Any,
    data: Any,
    request: dict,
    *,
    device: str,
    batch_size: int,
    num_workers: int,
    seconds: float,
    labels_file: str | None,
) -> dict:
    """Return the sidecar: the encoder's and dataset's provenance, the run and the request."""
    from ..encoders import registry, resolve_encoder

    spec = resolve_encoder(request["model"])[0]
    plugin = registry.distribution(spec)  # a plugin's own distribution, None for built-ins
    described = encoder.describe()
    if "dataset" in described:  # e.g. a checkpoint's training set
        described["trained_on"] = described.pop("dataset")
    n = len(data)
    return {
        **described,
        "dataset": request["dataset"],
        "dataset_info": data.info,
        "split": request["split"],
        "n": n,
        "d": int(encoder.dim),
        "seed": request["seed"],
        "dtype": "float32",
        "device": device,
        "precision": request["precision"],
        "batch_size": batch_size,
        "num_workers": num_workers,
        "items_per_second": n / seconds if seconds > 0 else None,
        "wall_seconds": seconds,
        "labels": labels_file,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "versions": package_versions(
            *dict.fromkeys((*_VERSIONED, *spec.packages, *([plugin] if plugin else [])))
        ),
        "request": request,
    }


def _save(target: Path, scratch: Path, labels: Any, provenance: dict) -> EmbedResult:
    """Write rows, labels and sidecar through :func:`gaussaudit.io.save_embeddings`."""
    import json

    from ..io import save_embeddings, sidecar_path
    from ..io.sidecar import find_sidecar

    sidecar = sidecar_path(target)
    # stale companions must never be paired with the new rows, even if we die next
    for stale in {sidecar, find_sidecar(target) or sidecar, _labels_path(target)}:
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
    # values JSON cannot hold are written as their str(), as they always were
    provenance = json.loads(json.dumps(provenance, default=str))
    rows = np.load(scratch, mmap_mode="r")
    try:
        save_embeddings(
            target,
            rows,
            provenance=provenance,
            labels=None if labels is None else np.asarray(labels),
        )
    finally:
        del rows
    labels_path = _labels_path(target) if labels is not None else None
    return EmbedResult(target, sidecar, labels_path, provenance, False)
