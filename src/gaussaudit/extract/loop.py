"""The inputs and the batch loop of :func:`gaussaudit.extract.embed`.

Opens the dataset and the encoder for its modality, puts them behind a
DataLoader in deterministic order, and streams the encoded rows into a
float32 memmap under autocast, with progress on stderr (a rich bar on a
terminal, plain lines with an ETA in a log, an estimate when the job is long;
third-party tqdm bars silenced).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UsageError
from ..progress import quiet_third_party_progress


class _TransformedItems:
    """Dataset view applying the encoder's per-item transform (runs in workers)."""

    def __init__(self, items: Any, transform: Any):
        self.items, self.transform = items, transform

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Any:
        return self.transform(self.items[i])


# --------------------------------------------------------------------------- inputs


def _open_inputs(request: dict, *, download: bool, runs_dir: str | None) -> tuple[Any, Any]:
    """Load the dataset, then build the encoder for its items' modality (no tqdm bars)."""
    with quiet_third_party_progress():
        return _open_inputs_quietly(request, download=download, runs_dir=runs_dir)


def _open_inputs_quietly(request: dict, *, download: bool, runs_dir: str | None) -> tuple[Any, Any]:
    from ..datasets import load_dataset
    from ..encoders import create_encoder

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
    scratch: Path, shape: tuple[int, ...], fill: Callable[[np.ndarray], None], *, batch_size: int
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
            from ..errors import ResourceUnavailableError

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
    with quiet_third_party_progress(), _progress_bar(label, n, enabled=progress) as advance:
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


#: How to embed fewer items, said when an estimate is long.
SHORTER_HINT = "for a shorter run embed fewer items (--limit N; limit=N in Python)"


@contextlib.contextmanager
def _progress_bar(label: str, total: int, *, enabled: bool) -> Iterator[Callable[[int], None]]:
    """Show progress on stderr and yield ``advance(done)``.

    A rich bar with items/s on a terminal; plain periodic lines (elapsed, rate,
    ETA) otherwise; and, after the first batches, one ``estimated ...`` line
    when the whole job looks longer than a minute.
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from ..progress import WorkEstimate, progress_display

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} items/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    console = Console(stderr=True, quiet=not enabled)
    estimate = WorkEstimate(console, total, f"embed {label}: {total:,} items", hint=SHORTER_HINT)
    start = time.perf_counter()
    with progress_display(console, columns, unit="items", enabled=enabled) as bar:
        task = bar.add_task(f"embed {label}", total=total, rate="–")

        def advance(done: int) -> None:
            rate = done / max(time.perf_counter() - start, 1e-9)
            bar.update(task, completed=done, rate=f"{rate:,.0f}")
            estimate.update(done)

        yield advance


def _to_device(batch: Any, device: str) -> Any:
    if hasattr(batch, "to"):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: _to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(v, device) for v in batch)
    return batch
