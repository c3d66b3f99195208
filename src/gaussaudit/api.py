"""One-call workflows behind the command line.

Each CLI command parses its options, calls one function here and renders the
returned report model; everything the CLI does is reachable from Python.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from .stats.battery import AuditConfig

__all__ = ["audit_file"]


def audit_file(
    path: str | os.PathLike,
    config: AuditConfig | None = None,
    *,
    key: str | None = None,
    columns: str | Sequence[str] | None = None,
    reshape: str | None = None,
    nan_policy: str = "raise",
) -> dict:
    """Load an embedding file, audit it and return the report model.

    Parameters
    ----------
    path : path-like
        ``.npy``, ``.npz``, ``.pt``, ``.safetensors``, ``.parquet`` or ``.csv``.
    config : AuditConfig, optional
        Battery settings.
    key, columns, reshape, nan_policy
        Passed to :func:`gaussaudit.io.load_embeddings`.

    Returns
    -------
    dict
        The report model (see ``docs/json-contract.md``).
    """
    from .io import load_embeddings
    from .report.model import build_report
    from .stats.battery import audit

    embeddings = load_embeddings(
        path, key=key, columns=columns, reshape=reshape, nan_policy=nan_policy
    )
    result = audit(embeddings, config)
    return build_report(result, embeddings)
