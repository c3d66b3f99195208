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
from collections.abc import Callable, Iterator
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

        raise UnknownNameError("device", device, DEVICES, option="device")
    torch = _torch()
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise UsageError(
            "device='cuda': no CUDA device is available (use device='auto' or device='cpu')",
            option="device",
        )
    if device == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise UsageError(
                "device='mps': MPS is not available (use device='auto' or device='cpu')",
                option="device",
            )
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
    limit: int | None = None,
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
    split, root, download, seed
        Passed to :func:`gaussaudit.datasets.load_dataset`.
    limit : int, optional
        Embed only the first ``limit`` items (the dataset's ``max_samples``;
        recorded as ``max_samples`` in the sidecar). Not an audit subsample.
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

    Examples
    --------
    >>> result = embed("resnet18", "fake", weights="none", limit=8,
    ...                out="emb.npy", progress=False)  # doctest: +SKIP
    >>> result.provenance["n"], result.provenance["d"]  # doctest: +SKIP
    (8, 512)
    """
    _check_settings(precision, batch_size, num_workers, dataset_options, encoder_options)
    request = _request(
        model=model,
        dataset=dataset,
        split=split,
        layer=layer,
        weights=weights,
        modality=modality,
        checkpoint=checkpoint,
        root=root,
        max_samples=limit,
        seed=seed,
        precision=precision,
        options={
            k: v for k, v in (("dataset", dataset_options), ("encoder", encoder_options)) if v
        },
    )
    target = _output_path(out, request)
    if not force:
        previous = _previous_output(target, request)
        if previous is not None:
            return previous
    torch = _torch()
    dev = resolve_device(device)
    data, encoder = _open_inputs(request, download=download, runs_dir=runs_dir)
    loader = _loader(
        torch, data, encoder, dev, batch_size=batch_size, num_workers=num_workers, seed=seed
    )

    def fill(rows: np.ndarray) -> None:
        label = f"{model} on {dataset}"
        _run_batches(
            torch,
            encoder,
            loader,
            rows,
            device=dev,
            precision=precision,
            label=label,
            progress=progress,
        )

    scratch = target.with_name(f".{target.name}.{os.getpid()}.rows.npy")
    try:
        seconds = _extract_rows(scratch, (len(data), int(encoder.dim)), fill, batch_size=batch_size)
        provenance = _provenance(
            encoder,
            data,
            request,
            device=dev,
            batch_size=batch_size,
            num_workers=num_workers,
            seconds=seconds,
            labels_file=_labels_path(target).name if data.labels is not None else None,
        )
        return _save(target, scratch, data.labels, provenance)
    finally:
        with contextlib.suppress(OSError):
            scratch.unlink()


# --------------------------------------------------------------------------- settings


#: Dataset keywords that embed() takes under another name.
_API_NAMES = {"max_samples": "limit"}

_RESERVED = {
    "dataset": ("root", "split", "download", "max_samples", "seed", "modality"),
    "encoder": ("weights", "layer", "modality", "checkpoint", "runs_dir"),
}


def _check_settings(
    precision: str,
    batch_size: int,
    num_workers: int,
    dataset_options: dict | None,
    encoder_options: dict | None,
) -> None:
    """Reject settings :func:`embed` cannot use, before any work is done."""
    if precision not in PRECISIONS:
        from .errors import UnknownNameError

        raise UnknownNameError("precision", precision, PRECISIONS, option="precision")
    if batch_size < 1 or num_workers < 0:
        raise UsageError(
            f"batch_size must be >= 1 and num_workers >= 0, got {batch_size} and {num_workers}",
            option=("batch_size", "num_workers"),
        )
    for kind, options in (("dataset", dataset_options), ("encoder", encoder_options)):
        clash = sorted(set(options or {}) & set(_RESERVED[kind]))
        if clash:
            held = ", ".join(repr(c) for c in clash)
            names = [_API_NAMES.get(c, c) for c in clash]  # embed()'s own keyword
            instead = ", ".join(f"{c}=..." for c in names)
            raise UsageError(
                f"{kind}_options may not hold {held}: pass {instead} instead",
                option=(f"{kind}_options", *names),
            )


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
    from .io import sidecar_path

    sidecar = sidecar_path(target)
    if not target.exists():
        return None
    previous = _read_sidecar(sidecar)
    if previous is None or previous.get("request") != request:
        return None
    if request["checkpoint"] is None and request["weights"] == "default":
        from .encoders import resolve_encoder

        if not resolve_encoder(request["model"])[0].reuse_default:
            return None
    labels = _labels_path(target)
    return EmbedResult(target, sidecar, labels if labels.exists() else None, previous, True)


def _labels_path(target: Path) -> Path:
    return target.with_name(target.stem + ".labels.npy")


# --------------------------------------------------------------------------- inputs


def _open_inputs(request: dict, *, download: bool, runs_dir: str | None) -> tuple[Any, Any]:
    """Load the dataset, then build the encoder for its items' modality."""
    from .datasets import load_dataset
    from .encoders import create_encoder

    model, dataset, modality = request["model"], request["dataset"], request["modality"]
    options = request["options"]
    data = load_dataset(
        dataset,
        **{k: request[k] for k in ("root", "split", "max_samples", "seed", "modality")},
        download=download,
        **options.get("dataset", {}),
    )
    encoder = create_encoder(
        model,
        **{k: request[k] for k in ("weights", "layer", "checkpoint")},
        modality=modality or data.modality,
        runs_dir=runs_dir,
        **options.get("encoder", {}),
    )
    if encoder.modality != data.modality:
        raise UsageError(
            f"encoder {model!r} takes {encoder.modality} input but dataset {dataset!r} "
            f"holds {data.modality} items"
        )
    if len(data) == 0:
        raise UsageError(f"dataset {dataset!r} ({request['split']}) has no items")
    return data, encoder


def _loader(
    torch: Any,
    data: Any,
    encoder: Any,
    device: str,
    *,
    batch_size: int,
    num_workers: int,
    seed: int,
):
    """Put the encoder in eval mode on ``device``, seed torch; return a DataLoader in order.

    The encoder's per-item transform runs in the DataLoader workers.
    """
    encoder.module.eval()
    encoder.to(device)
    torch.manual_seed(seed)
    return torch.utils.data.DataLoader(
        _TransformedItems(data.items, encoder.transform),
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
        collate_fn=encoder.collate,
        pin_memory=device == "cuda",
    )


# --------------------------------------------------------------------------- the batch loop


def _extract_rows(
    scratch: Path, shape: tuple[int, int], fill: Callable[[np.ndarray], None], *, batch_size: int
) -> float:
    """Stream the rows into a float32 memmap at ``scratch``; return the seconds taken."""
    scratch.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        rows = np.lib.format.open_memmap(scratch, mode="w+", dtype=np.float32, shape=shape)
        fill(rows)
        rows.flush()
        del rows
    except BaseException as err:
        if type(err).__name__ == "OutOfMemoryError":
            from .errors import ResourceUnavailableError

            raise ResourceUnavailableError(
                f"out of device memory at batch_size={batch_size}: pass a smaller batch_size=N",
                option="batch_size",
            ) from err
        raise
    return time.perf_counter() - start


def _run_batches(
    torch: Any,
    encoder: Any,
    loader: Any,
    rows: np.ndarray,
    *,
    device: str,
    precision: str,
    label: str,
    progress: bool,
) -> None:
    """Encode every batch of ``loader`` into ``rows``, in order, under autocast."""
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(precision)
    autocast = (
        torch.autocast(device_type=device, dtype=dtype)
        if dtype is not None
        else contextlib.nullcontext()
    )
    n = rows.shape[0]
    done = 0
    with _progress_bar(label, n, enabled=progress) as advance:
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
            advance(done)
    if done != n:
        raise UsageError(f"extraction produced {done} rows, expected {n}")


@contextlib.contextmanager
def _progress_bar(label: str, total: int, *, enabled: bool) -> Iterator[Callable[[int], None]]:
    """Show a rich progress bar with items/s; yield ``advance(done)``."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
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
    with Progress(*columns, disable=not enabled, transient=False) as bar:
        task = bar.add_task(label, total=total, rate="–")

        def advance(done: int) -> None:
            rate = done / max(time.perf_counter() - start, 1e-9)
            bar.update(task, completed=done, rate=f"{rate:,.0f}")

        yield advance


def _to_device(batch: Any, device: str) -> Any:
    if hasattr(batch, "to"):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: _to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(v, device) for v in batch)
    return batch


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
    from .encoders import registry, resolve_encoder

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

    from .io import save_embeddings, sidecar_path

    sidecar = sidecar_path(target)
    # stale companions must never be paired with the new rows, even if we die next
    for stale in (sidecar, _labels_path(target)):
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
