"""One-call workflows behind the command line.

Each CLI command parses its options, calls one function here and renders the
returned report model; everything the CLI does is reachable from Python.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from .stats.battery import AuditConfig, ProgressCallback

__all__ = ["audit_file", "embed_and_audit"]


def audit_file(
    path: str | os.PathLike,
    config: AuditConfig | None = None,
    *,
    key: str | None = None,
    columns: str | Sequence[str] | None = None,
    reshape: str | None = None,
    nan_policy: str = "raise",
    progress: ProgressCallback | None = None,
    pairs: str | os.PathLike | bool | None = None,
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
    pairs : path-like or bool, optional
        Positive pairs ``(m, K, 2, d)`` for ``views.<view>.pairs`` (alignment
        and uniformity): a file, ``None`` (default) to use ``EMB.pairs.npy``
        beside ``path`` when it exists, or ``False`` for none.

    Returns
    -------
    dict
        The report model (see ``docs/json-contract.md``).
    """
    from .io import load_embeddings
    from .report.model import build_report
    from .stats.battery import audit

    cfg = config or AuditConfig()
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
    report = build_report(result, embeddings)
    if pairs is not False:
        from .io.pairs import find_pairs, load_pairs
        from .report.model import add_pairs

        found = find_pairs(path) if pairs is None or pairs is True else pairs
        if found is not None:
            add_pairs(report, result, load_pairs(found), source=os.fspath(found))
    return report


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
