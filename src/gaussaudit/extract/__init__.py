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

from ..devices import import_torch as _torch
from ..devices import resolve_device
from ..errors import UsageError
from ..io.pairs import pairs_path
from .loop import _extract_rows, _loader, _open_inputs, _run_batches
from .output import (
    EmbedResult,
    _labels_path,
    _output_path,
    _previous_output,
    _provenance,
    _save,
    _save_sharded,
    default_output_path,
)

__all__ = ["PRECISIONS", "EmbedResult", "default_output_path", "embed", "resolve_device"]

PRECISIONS = ("fp32", "fp16", "bf16")


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
    pairs: int | None = None,
    pairs_file: str | os.PathLike | None = None,
    shard_size: int | None = None,
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
    pairs : int, optional
        Also write ``K = pairs`` augmented positive pairs per image to
        ``EMB.pairs.npy`` (shape ``(n, K, 2, d)``; the trainer's SimCLR
        augmentation, seeded per item), recorded under ``pairs`` in the sidecar.
    pairs_file : path-like, optional
        Text encoders: a CSV (header row, then one positive pair per row in
        the first two columns) whose pairs are embedded to ``EMB.pairs.npy``
        (shape ``(rows, 1, 2, d)``).
    shard_size : int, optional
        Write the rows as a resumable ``.shards`` directory of shards of this
        many rows, each with a completion marker (``out`` must end in
        ``.shards``; layout in :mod:`gaussaudit.io.shards`). Rerunning the
        same request after an interruption embeds only the missing shards,
        with bytes-identical results.

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
    pair_request = _pair_request(pairs, pairs_file)
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
    if pair_request is not None:  # only then: other requests keep their earlier form
        request["pairs"] = pair_request
    if shard_size is not None:
        _check_shards(shard_size, pair_request)
        request["shards"] = int(shard_size)
    target = _output_path(out, request)
    if not force:
        previous = _previous_output(target, request)
        if previous is not None:
            return previous
    torch = _torch()
    dev = resolve_device(device)
    data, encoder = _open_inputs(request, download=download, runs_dir=runs_dir)
    if shard_size is not None:
        return _embed_sharded(
            torch,
            encoder,
            data,
            target,
            request,
            device=dev,
            batch_size=batch_size,
            num_workers=num_workers,
            progress=progress,
            force=force,
        )
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
        pair_info = None
        if pair_request is not None:
            from .pairs import extract_pairs

            pair_scratch = target.with_name(f".{target.name}.{os.getpid()}.pairs.npy")
            cleanup.callback(_remove_quietly, pair_scratch)
            pair_info = extract_pairs(
                torch,
                encoder,
                data,
                pair_scratch,
                k=pairs,
                pairs_file=pairs_file,
                device=dev,
                precision=precision,
                batch_size=batch_size,
                num_workers=num_workers,
                seed=seed,
                progress=progress,
            )
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
        if pair_info is not None:
            provenance["pairs"] = {"file": pairs_path(target).name, **pair_info}
        result = _save(target, scratch, data.labels, provenance)
        if pair_info is not None:
            os.replace(pair_scratch, pairs_path(target))
        return result


def _embed_sharded(torch, encoder, data, target, request, **kw) -> EmbedResult:
    """Run the sharded path of :func:`embed`: resumable shards, then labels and sidecar."""
    from ..io import sidecar_path
    from ..io.atomic import SignalGuard
    from .shards import run_sharded

    encoder.module.eval()
    encoder.to(kw["device"])
    torch.manual_seed(request["seed"])
    for stale in (sidecar_path(target), _labels_path(target)):  # the sidecar marks "finished"
        _remove_quietly(stale)
    with SignalGuard():
        info = run_sharded(
            torch,
            encoder,
            data,
            target,
            request,
            shard_size=request["shards"],
            precision=request["precision"],
            **kw,
        )
    provenance = _provenance(
        encoder,
        data,
        request,
        device=kw["device"],
        batch_size=kw["batch_size"],
        num_workers=kw["num_workers"],
        seconds=info["wall_seconds"],
        labels_file=_labels_path(target).name if data.labels is not None else None,
    )
    seconds = info["wall_seconds"]
    provenance["items_per_second"] = info["rows_embedded"] / seconds if seconds > 0 else None
    provenance["shards"] = info
    return _save_sharded(target, data.labels, provenance)


def _check_shards(shard_size: int, pair_request: dict | None) -> None:
    if isinstance(shard_size, bool) or int(shard_size) != shard_size or shard_size < 1:
        raise UsageError(
            f"shard_size must be an integer >= 1, got {shard_size!r}", option="shard_size"
        )
    if pair_request is not None:
        raise UsageError(
            "pairs are not written for a sharded output yet: drop shard_size, or embed the "
            "pairs in a separate run",
            option=("shard_size", "pairs"),
        )


def _remove_quietly(path: os.PathLike) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


# --------------------------------------------------------------------------- settings


def _pair_request(pairs: int | None, pairs_file: str | os.PathLike | None) -> dict | None:
    """Return the request's ``pairs`` entry (None without pairs); the CSV is named by its digest."""
    if pairs is None and pairs_file is None:
        return None
    if pairs is not None and pairs_file is not None:
        raise UsageError(
            "pass pairs=K (images) or pairs_file=CSV (texts), not both",
            option=("pairs", "pairs_file"),
        )
    if pairs is not None:
        if isinstance(pairs, bool) or int(pairs) != pairs or pairs < 1:
            raise UsageError(f"pairs must be an integer >= 1, got {pairs!r}", option="pairs")
        return {"k": int(pairs)}
    from .pairs import read_pairs_csv

    return {"file": read_pairs_csv(pairs_file)[1]["sha256"]}


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
