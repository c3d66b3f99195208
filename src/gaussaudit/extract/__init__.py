"""Batched embedding extraction: encoder x dataset -> ``EMB.npy`` + ``EMB.provenance.json``.

:func:`embed` runs an encoder over a dataset in deterministic order, without
gradients and in eval mode, streams the float32 rows into a memory-mapped
temporary ``.npy`` beside the target, and renames it into place only when every
row is written, so a crash or Ctrl-C leaves no partial file. The sidecar
records the encoder, weights, layer, dataset, split, transform, n, d, seed,
dtype, device, precision, package versions, items/s and wall time. An existing
output whose sidecar records the same request is reused unless ``force``.

The work is split by job: this module holds :func:`embed` (settings, device,
the order of the steps); :mod:`gaussaudit.extract.loop` opens the dataset and
encoder and runs the batch loop with its progress bar;
:mod:`gaussaudit.extract.output` names the output, decides reuse and writes
rows, labels and sidecar.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import numpy as np

from ..errors import MissingExtraError, UsageError
from .loop import _extract_rows, _loader, _open_inputs, _run_batches
from .output import (
    EmbedResult,
    _labels_path,
    _output_path,
    _previous_output,
    _provenance,
    _save,
    default_output_path,
)

__all__ = ["PRECISIONS", "EmbedResult", "default_output_path", "embed", "resolve_device"]

PRECISIONS = ("fp32", "fp16", "bf16")
DEVICES = ("auto", "cpu", "cuda", "mps")


def _torch():
    try:
        import torch
    except ImportError as err:
        raise MissingExtraError("torch", "vision", "embedding extraction") from err
    return torch


def resolve_device(device: str) -> str:
    """Turn ``auto`` into ``cuda``, ``mps`` or ``cpu``; check the others exist."""
    if device not in DEVICES:
        from ..errors import UnknownNameError

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


def _request(**kwargs: Any) -> dict:
    """Return the part of the provenance that decides whether an output is reused."""
    return dict(kwargs)


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

    from ..io.atomic import SignalGuard

    scratch = target.with_name(f".{target.name}.{os.getpid()}.rows.npy")
    # SIGTERM/SIGHUP during extraction unwind through the cleanup: no scratch file remains
    with SignalGuard(), contextlib.ExitStack() as cleanup:
        cleanup.callback(_remove_quietly, scratch)
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


def _remove_quietly(path: os.PathLike) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


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
        from ..errors import UnknownNameError

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
