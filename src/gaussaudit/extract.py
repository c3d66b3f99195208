"""Batched embedding extraction: encoder x dataset -> ``EMB.npy`` + ``EMB.json``.

:func:`embed` runs an encoder over a dataset in deterministic order, without
gradients and in eval mode, streams the float32 rows into a memory-mapped
temporary ``.npy`` beside the target, and renames it into place only when every
row is written, so a crash or Ctrl-C leaves no partial file. The sidecar
records the encoder, weights, layer, dataset, split, transform, n, d, seed,
dtype, device, precision, package versions, items/s and wall time. An existing
output whose sidecar records the same request is reused unless ``force``.
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

from .errors import MissingExtraError, UsageError
from .versions import package_versions

__all__ = ["PRECISIONS", "EmbedResult", "default_output_path", "embed", "resolve_device"]

PRECISIONS = ("fp32", "fp16", "bf16")
DEVICES = ("auto", "cpu", "cuda", "mps")


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


def _torch():
    try:
        import torch
    except ImportError as err:
        raise MissingExtraError("torch", "vision", "embedding extraction") from err
    return torch


def resolve_device(device: str) -> str:
    """Turn ``auto`` into ``cuda``, ``mps`` or ``cpu``; check the others exist."""
    if device not in DEVICES:
        from .errors import UnknownNameError

        raise UnknownNameError("device", device, DEVICES)
    torch = _torch()
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: no CUDA device is available (use auto or cpu)")
    if device == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise UsageError("--device mps: MPS is not available (use auto or cpu)")
    return device


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


class _TransformedItems:
    """Dataset view applying the encoder's per-item transform (runs in workers)."""

    def __init__(self, items: Any, transform: Any):
        self.items, self.transform = items, transform

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Any:
        return self.transform(self.items[i])


def _request(**kwargs: Any) -> dict:
    """Return the part of the provenance that decides whether an output is reused."""
    return dict(kwargs)


def _read_sidecar(path: Path) -> dict | None:
    import json

    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def embed(
    model: str,
    dataset: str,
    *,
    out: str | os.PathLike | None = None,
    split: str = "test",
    layer: str | None = None,
    weights: str = "default",
    modality: str | None = None,
    checkpoint: str | None = None,
    runs_dir: str | None = None,
    root: str | None = None,
    download: bool = False,
    device: str = "auto",
    batch_size: int = 256,
    num_workers: int = 0,
    precision: str = "fp32",
    max_samples: int | None = None,
    seed: int = 0,
    force: bool = False,
    progress: bool = True,
    dataset_options: dict | None = None,
    encoder_options: dict | None = None,
) -> EmbedResult:
    """Extract embeddings of ``dataset`` with encoder ``model`` and write them with provenance.

    Parameters
    ----------
    model : str
        Encoder name (see ``gaussaudit list encoders``).
    dataset : str
        Dataset name (see ``gaussaudit list datasets``).
    out : path-like, optional
        Output ``.npy``; default ``embeddings/<model>-<dataset>-<split>.npy``.
    split, root, download, max_samples, seed
        Passed to :func:`gaussaudit.datasets.load_dataset`.
    layer, weights, modality, checkpoint, runs_dir
        Passed to :func:`gaussaudit.encoders.create_encoder`.
    device : {"auto", "cpu", "cuda", "mps"}
    batch_size, num_workers : int
        DataLoader settings; order is deterministic whatever the workers.
    precision : {"fp32", "fp16", "bf16"}
        Autocast precision of the forward pass; outputs are stored as float32.
    force : bool
        Recompute even if a matching output exists.
    progress : bool
        Show a rich progress bar.
    dataset_options, encoder_options : dict, optional
        Family-specific options (e.g. ``{"n": 2000}`` for ``synthetic:gmm``,
        ``{"label_column": "y"}`` for ``csv:``), recorded in the sidecar.

    Returns
    -------
    EmbedResult
    """
    from .datasets import load_dataset
    from .encoders import create_encoder
    from .io import atomic_write_bytes, atomic_write_text, sidecar_path

    if precision not in PRECISIONS:
        from .errors import UnknownNameError

        raise UnknownNameError("precision", precision, PRECISIONS)
    if batch_size < 1 or num_workers < 0:
        raise UsageError("batch size must be >= 1 and workers >= 0")
    for kind, options, reserved in (
        (
            "dataset",
            dataset_options,
            ("root", "split", "download", "max_samples", "seed", "modality"),
        ),
        ("encoder", encoder_options, ("weights", "layer", "modality", "checkpoint", "runs_dir")),
    ):
        clash = sorted(set(options or {}) & set(reserved))
        if clash:
            flags = ", ".join("--" + c.replace("_", "-") for c in clash)
            raise UsageError(f"{kind} option(s) {', '.join(clash)} have their own flags: {flags}")
    request = _request(
        model=model,
        dataset=dataset,
        split=split,
        layer=layer,
        weights=weights,
        modality=modality,
        checkpoint=checkpoint,
        root=root,
        max_samples=max_samples,
        seed=seed,
        precision=precision,
        options={
            k: v for k, v in (("dataset", dataset_options), ("encoder", encoder_options)) if v
        },
    )
    target = (
        Path(out) if out is not None else default_output_path(model, dataset, split, layer, request)
    )
    if target.suffix != ".npy":
        raise UsageError(f"--out must end in .npy, got {target}")
    sidecar = sidecar_path(target)
    # "latest run" encoders change when a new run lands: reuse only pinned weights
    reusable = (
        checkpoint is not None
        or weights != "default"
        or model not in ("resnet18-simclr", "resnet18-supervised")
    )
    if not force and reusable and target.exists():
        previous = _read_sidecar(sidecar)
        if previous is not None and previous.get("request") == request:
            labels = target.with_name(target.stem + ".labels.npy")
            return EmbedResult(target, sidecar, labels if labels.exists() else None, previous, True)
    torch = _torch()
    dev = resolve_device(device)
    data = load_dataset(
        dataset,
        root=root,
        split=split,
        download=download,
        max_samples=max_samples,
        seed=seed,
        modality=modality,
        **(dataset_options or {}),
    )
    encoder = create_encoder(
        model,
        weights=weights,
        layer=layer,
        modality=modality or data.modality,
        checkpoint=checkpoint,
        runs_dir=runs_dir,
        **(encoder_options or {}),
    )
    if encoder.modality != data.modality:
        raise UsageError(
            f"encoder {model!r} takes {encoder.modality} input but dataset {dataset!r} "
            f"holds {data.modality} items"
        )
    n, d = len(data), int(encoder.dim)
    if n == 0:
        raise UsageError(f"dataset {dataset!r} ({split}) has no items")
    encoder.module.eval()
    encoder.to(dev)
    torch.manual_seed(seed)
    loader = torch.utils.data.DataLoader(
        _TransformedItems(data.items, encoder.transform),
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
        collate_fn=encoder.collate,
        pin_memory=dev == "cuda",
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp.npy")
    start = time.perf_counter()
    labels_path = target.with_name(target.stem + ".labels.npy")
    try:
        rows = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n, d))
        _run_batches(torch, encoder, loader, rows, dev, precision, n, progress, model, dataset)
        rows.flush()
        del rows
        seconds = time.perf_counter() - start
        # stale companions must never be paired with the new rows, even if we die next
        for stale in (sidecar, labels_path):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
        os.replace(tmp, target)
    except BaseException as err:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if type(err).__name__ == "OutOfMemoryError":
            from .errors import ResourceUnavailableError

            raise ResourceUnavailableError(
                f"out of device memory at batch size {batch_size}: lower --batch-size"
            ) from err
        raise
    if data.labels is None:
        labels_path = None
    else:
        import io as _io

        buf = _io.BytesIO()
        np.save(buf, np.asarray(data.labels), allow_pickle=False)
        atomic_write_bytes(labels_path, buf.getvalue())
    described = encoder.describe()
    if "dataset" in described:  # e.g. a checkpoint's training set
        described["trained_on"] = described.pop("dataset")
    provenance = {
        **described,
        "dataset": dataset,
        "dataset_info": data.info,
        "split": split,
        "n": n,
        "d": d,
        "seed": seed,
        "dtype": "float32",
        "device": dev,
        "precision": precision,
        "batch_size": batch_size,
        "num_workers": num_workers,
        "items_per_second": n / seconds if seconds > 0 else None,
        "wall_seconds": seconds,
        "labels": labels_path.name if labels_path else None,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "versions": package_versions(
            "gaussaudit",
            "numpy",
            "torch",
            "torchvision",
            "open_clip_torch",
            "timm",
            "sentence-transformers",
        ),
        "request": request,
    }
    import json

    atomic_write_text(sidecar, json.dumps(provenance, indent=2, default=str) + "\n")
    return EmbedResult(target, sidecar, labels_path, provenance, False)


def _run_batches(torch, encoder, loader, rows, device, precision, n, progress, model, dataset):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(precision)
    autocast = (
        torch.autocast(device_type=device, dtype=dtype)
        if dtype is not None
        else contextlib.nullcontext()
    )
    columns = (
        TextColumn("[bold]embed[/bold] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} items/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    start = time.perf_counter()
    with Progress(*columns, disable=not progress, transient=False) as bar:
        task = bar.add_task(f"{model} on {dataset}", total=n, rate="–")
        done = 0
        for batch in loader:
            batch = _to_device(batch, device)
            with autocast:
                out = encoder.encode(batch)
            out = out.float().cpu().numpy()
            if out.shape[1] != rows.shape[1]:
                raise UsageError(
                    f"encoder produced {out.shape[1]}-d rows but declared {rows.shape[1]}"
                )
            rows[done : done + len(out)] = out
            done += len(out)
            rate = done / max(time.perf_counter() - start, 1e-9)
            bar.update(task, completed=done, rate=f"{rate:,.0f}")
    if done != n:
        raise UsageError(f"extraction produced {done} rows, expected {n}")


def _to_device(batch: Any, device: str) -> Any:
    if hasattr(batch, "to"):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: _to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(v, device) for v in batch)
    return batch
