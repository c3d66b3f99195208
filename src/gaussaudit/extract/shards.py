"""Sharded, resumable extraction for :func:`gaussaudit.extract.embed` (``shard_size=S``).

The output is a ``.shards`` directory (layout in :mod:`gaussaudit.io.shards`).
The plan (``manifest.json``, with the request) is written first. Each shard's
rows are streamed into a hidden temporary ``.npy``, flushed, fsynced and
renamed into place; only then is its completion marker written (atomically,
with the shard's sha256). The sidecar beside the directory is written last.

A run killed at any point (between shards, inside a shard, before the
sidecar) leaves complete shards with markers, perhaps a stray temporary file,
and no sidecar. Rerunning the same request finds the manifest, keeps every
shard whose marker and checksum agree, deletes the rest and embeds only the
missing shards. Each shard is cut into batches from its own first row, the
same way whether the run was resumed or not, so the result is bytes-identical
to an uninterrupted run. A different request (or ``force``) starts over.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UsageError
from ..io.shards import FORMAT, MANIFEST, done_path, read_manifest, shard_name

__all__ = ["plan_shards", "run_sharded"]


def plan_shards(n: int, shard_size: int) -> list[dict]:
    """Cut ``n`` rows into shards of ``shard_size`` (the last one shorter).

    Examples
    --------
    >>> [(s["start"], s["rows"]) for s in plan_shards(5, 2)]
    [(0, 2), (2, 2), (4, 1)]
    """
    return [
        {"file": shard_name(i), "start": start, "rows": min(shard_size, n - start)}
        for i, start in enumerate(range(0, n, shard_size))
    ]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _our_files(directory: Path) -> list[Path]:
    """Files this module writes in a shard directory (nothing else is ever deleted)."""
    return [
        p
        for p in directory.iterdir()
        if p.name == MANIFEST
        or (p.name.startswith("shard-") and p.suffix in (".npy", ".done"))
        or (p.name.startswith(".shard-") and p.name.endswith(".tmp.npy"))
    ]


def _prepare(target: Path, manifest: dict, *, force: bool) -> set[int]:
    """Create or resume the directory; return the indices of shards already done."""
    from ..io.atomic import atomic_write_text

    if target.exists() and not target.is_dir():
        raise UsageError(f"out={os.fspath(target)!r} exists and is not a directory", option="out")
    target.mkdir(parents=False, exist_ok=True)
    previous = read_manifest(target)
    keep = (
        not force
        and previous is not None
        and all(previous.get(k) == manifest[k] for k in ("request", "n", "d", "shards"))
    )
    done: set[int] = set()
    if keep:
        for i, entry in enumerate(manifest["shards"]):
            marker, file = done_path(target, i), target / entry["file"]
            try:
                record = json.loads(marker.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if file.is_file() and record.get("sha256") == _sha256(file):
                done.add(i)
    for p in _our_files(target):  # anything not verified done goes
        index = int(p.name[6:11]) if p.name.startswith("shard-") else None
        if p.name == MANIFEST or index is None or index not in done:
            p.unlink()
    atomic_write_text(target / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return done


def _finish_shard(target: Path, index: int, entry: dict, tmp: Path) -> None:
    """Rename a written shard into place, then write its completion marker."""
    from ..io.atomic import atomic_write_text

    _fsync(tmp)
    final = target / entry["file"]
    os.replace(tmp, final)
    record = {**entry, "sha256": _sha256(final)}
    atomic_write_text(done_path(target, index), json.dumps(record, sort_keys=True) + "\n")
    shard_written(index)


def shard_written(index: int) -> None:
    """Do nothing: called after each shard's marker is written (a hook for tests)."""


def run_sharded(
    torch: Any,
    encoder: Any,
    data: Any,
    target: Path,
    request: dict,
    *,
    shard_size: int,
    device: str,
    precision: str,
    batch_size: int,
    num_workers: int,
    progress: bool,
    force: bool,
) -> dict:
    """Embed the shards not yet done; return the sidecar's ``shards`` record.

    Parameters
    ----------
    torch : module
    encoder : Encoder
        In eval mode, on ``device``.
    data : LoadedDataset
    target : Path
        The ``.shards`` directory.
    request : dict
        Recorded in the manifest; a resumed run must ask the same.
    shard_size, device, precision, batch_size, num_workers, progress, force
        As for :func:`gaussaudit.extract.embed`.

    Returns
    -------
    dict
        ``shard_size``, ``n_shards``, ``resumed`` (shards kept from an
        earlier run), ``embedded`` (shards written now), ``rows_embedded``,
        ``wall_seconds``.
    """
    from .loop import _progress_bar, _to_device, _TransformedItems

    n, d = len(data), int(encoder.dim)
    shards = plan_shards(n, shard_size)
    manifest = {
        "format": FORMAT,
        "version": 1,
        "n": n,
        "d": d,
        "dtype": "float32",
        "shard_size": shard_size,
        "shards": shards,
        "request": json.loads(json.dumps(request, default=str)),
    }
    done = _prepare(target, manifest, force=force)
    todo = [i for i in range(len(shards)) if i not in done]
    # every batch lies inside one shard and starts at the shard's first row or a
    # multiple of batch_size after it: the same batches whether resumed or not
    batches = [
        list(range(b, min(b + batch_size, s["start"] + s["rows"])))
        for i in todo
        for s in [shards[i]]
        for b in range(s["start"], s["start"] + s["rows"], batch_size)
    ]
    loader = torch.utils.data.DataLoader(
        _TransformedItems(data.items, encoder.transform),
        batch_sampler=batches,
        num_workers=num_workers,
        collate_fn=encoder.collate,
        pin_memory=device == "cuda",
    )
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(precision)
    autocast = (
        torch.autocast(device_type=device, dtype=dtype)
        if dtype is not None
        else contextlib.nullcontext()
    )
    total = sum(shards[i]["rows"] for i in todo)
    start_time = time.perf_counter()
    queue = iter(todo)
    current: dict[str, Any] = {}

    def open_next() -> None:
        index = next(queue)
        entry = shards[index]
        tmp = target / f".shard-{index:05d}.{os.getpid()}.tmp.npy"
        rows = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(entry["rows"], d))
        current.update(index=index, entry=entry, tmp=tmp, rows=rows, filled=0)

    written = 0
    try:
        with _progress_bar(f"{encoder.name} shards", total, enabled=progress) as advance:
            for batch in loader:
                if not current:
                    open_next()
                batch = _to_device(batch, device)
                with autocast:
                    out = encoder.encode(batch)
                out = out.float().cpu().numpy()
                if out.shape[1] != d:
                    raise UsageError(f"encoder produced {out.shape[1]}-d rows but declared {d}")
                filled = current["filled"]
                current["rows"][filled : filled + len(out)] = out
                current["filled"] = filled + len(out)
                written += len(out)
                advance(written)
                if current["filled"] == current["entry"]["rows"]:
                    current.pop("rows").flush()  # the last reference: the map closes
                    _finish_shard(target, current["index"], current["entry"], current["tmp"])
                    current.clear()
    finally:
        if current:  # an unfinished shard: its temporary file goes, earlier shards stay
            current.pop("rows", None)
            with contextlib.suppress(OSError):
                os.unlink(current["tmp"])
    if written != total:
        raise UsageError(f"extraction produced {written} rows, expected {total}")
    return {
        "layout": "gaussaudit.io.shards",
        "shard_size": shard_size,
        "n_shards": len(shards),
        "resumed": len(done),
        "embedded": len(todo),
        "rows_embedded": total,
        "wall_seconds": time.perf_counter() - start_time,
    }
