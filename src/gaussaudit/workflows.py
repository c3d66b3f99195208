"""One-call workflows behind the command line.

Each CLI command parses its options, calls one function here and renders the
returned report model; everything the CLI does is reachable from Python.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace

from .stats.battery import AuditConfig, ProgressCallback

__all__ = ["audit_file", "embed_and_audit", "fits_in_memory"]


def audit_file(
    path: str | os.PathLike,
    config: AuditConfig | None = None,
    *,
    key: str | None = None,
    columns: str | Sequence[str] | None = None,
    reshape: str | None = None,
    nan_policy: str = "raise",
    progress: ProgressCallback | None = None,
) -> dict:
    """Load an embedding file, audit it and return the report model.

    Parameters
    ----------
    path : path-like
        Any format :func:`gaussaudit.io.load_embeddings` reads (``.npy``, ``.npz``,
        ``.pt``, ``.safetensors``, ``.h5``, ``.zarr``, ``.parquet``, ``.csv``).
    config : AuditConfig, optional
        Battery settings.
    key, columns, reshape, nan_policy
        Passed to :func:`gaussaudit.io.load_embeddings`.
    progress : callable, optional
        ``progress(label, done, total)``, passed to :func:`gaussaudit.stats.audit`.

    Returns
    -------
    dict
        The report model (see ``docs/json-contract.md``).
    """
    from .io import load_embeddings
    from .report.model import build_report
    from .stats.battery import audit

    cfg = config or AuditConfig()
    if reshape is None and nan_policy == "raise":
        streamed = _audit_streamed(path, cfg, key=key, columns=columns, progress=progress)
        if streamed is not None:
            return streamed
    # The row subsample is taken while loading, so a large memory-mapped file is
    # never converted whole; the audit then sees exactly the rows it would pick.
    embeddings = load_embeddings(
        path,
        key=key,
        columns=columns,
        reshape=reshape,
        nan_policy=nan_policy,
        max_rows=cfg.max_samples,
        seed=cfg.seed,
    )
    result = audit(embeddings, cfg, progress=progress)
    return build_report(result, embeddings)


#: float64 copies of the audited matrix the in-memory battery holds at once
#: (the matrix, a view, a temporary).
_IN_MEMORY_COPIES = 3


def fits_in_memory(n: int, d: int, config: AuditConfig) -> bool:
    """Whether the in-memory battery's float64 copies of ``n x d`` rows fit the budget.

    Examples
    --------
    >>> fits_in_memory(10_000, 768, AuditConfig(memory_limit="1GiB"))
    True
    >>> fits_in_memory(1_000_000, 768, AuditConfig(memory_limit="1GiB"))
    False
    """
    rows = n if config.max_samples is None else min(n, config.max_samples)
    return rows * d * 8 * _IN_MEMORY_COPIES <= config.memory_limit_bytes()


def _audit_streamed(
    path: str | os.PathLike,
    cfg: AuditConfig,
    *,
    key: str | None,
    columns: str | Sequence[str] | None,
    progress: ProgressCallback | None,
) -> dict | None:
    """Audit a file block by block when it does not fit (or another engine is asked for).

    Returns None when the in-memory path should run: the format is not read by
    blocks, or the numpy engine's rows fit ``memory_limit``.
    """
    from contextlib import ExitStack
    from types import SimpleNamespace

    from .io.load import open_source
    from .report.model import build_report
    from .stats.engines import get_engine

    with ExitStack() as stack:
        opened = open_source(path, stack, key=key, columns=columns)
        if opened is None:
            if cfg.engine != "numpy":
                from .errors import UsageError

                raise UsageError(
                    f"engine={cfg.engine!r} reads .npy, HDF5, Zarr and Parquet files; "
                    f"load other formats with engine='numpy'"
                )
            return None
        source, info = opened
        if cfg.engine == "numpy" and fits_in_memory(source.n, source.d, cfg):
            return None
        engine = get_engine(cfg.engine)
        budget = cfg.memory_limit_bytes()
        # Bigger blocks than this buy no speed; the rest of the budget stays free.
        working = min(budget, 512 * 2**20)
        result = engine(source, cfg, memory_limit=working, progress=progress)
    execution = dict(result.execution or {})
    execution.setdefault("engine", cfg.engine)
    execution["memory_limit"] = budget
    execution["working_memory"] = working
    result = replace(result, execution=execution, notes=(*result.notes, _streamed_note(execution)))
    embeddings = SimpleNamespace(**info)
    return build_report(result, embeddings)


def _streamed_note(execution: dict) -> str:
    rows = execution.get("rows_audited")
    block = execution.get("block_rows")
    how = "streamed" if execution.get("streamed") else "held in memory"
    size = f" in blocks of {block:,} rows" if block and execution.get("streamed") else ""
    gib = execution.get("memory_limit", 0) / 2**30
    return (
        f"{how}: {rows:,} rows audited{size} by the {execution.get('engine')} engine "
        f"(memory limit {gib:.2f} GiB)"
    )


def embed_and_audit(
    model: str,
    dataset: str,
    config: AuditConfig | None = None,
    *,
    audit_progress: ProgressCallback | None = None,
    **embed_options: object,
):
    """Extract embeddings (:func:`gaussaudit.extract.embed`) and audit them.

    Parameters
    ----------
    model, dataset : str
        Encoder and dataset names.
    config : AuditConfig, optional
        Battery settings.
    audit_progress : callable, optional
        ``progress(label, done, total)`` for the audit (see :func:`audit_file`).
    **embed_options
        Passed to :func:`gaussaudit.extract.embed` (its ``progress`` is the
        extraction's progress bar).

    Returns
    -------
    result : EmbedResult
        What was written (or reused).
    report : dict
        The report model, with the sidecar's provenance in ``input.provenance``.
    """
    from .extract import embed

    result = embed(model, dataset, **embed_options)
    return result, audit_file(result.path, config, progress=audit_progress)
