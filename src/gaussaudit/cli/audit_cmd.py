"""``gaussaudit test``: audit an embedding file with the battery."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..stats.config import AuditConfig
from ._options import (
    Columns,
    Embeddings,
    Key,
    NanPolicy,
    Quiet,
    Reshape,
    Verbose,
    report_option,
    with_settings,
)

__all__ = ["test"]


@with_settings(AuditConfig)
def test(
    embeddings: Embeddings,
    report: Annotated[
        str | None,
        report_option(
            "terminal, json, html (one self-contained page with plots) "
            "or markdown (a compact summary for PR comments and CI)"
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the report here (atomically); its extension picks the format.",
            show_default=False,
        ),
    ] = None,
    key: Key = None,
    columns: Columns = None,
    reshape: Reshape = None,
    nan_policy: NanPolicy = "raise",
    quiet: Quiet = False,
    verbose: Verbose = False,
    settings: dict | None = None,
) -> None:
    """Run the Gaussianity battery on an embedding matrix and report the verdict.

    Exit codes: 0 ran, 2 bad input or usage, 3 missing optional dependency
    or resource, 4 internal error. `gaussaudit check` (not `test`) gates with 1.
    """
    from ..report.sink import check_outputs, emit
    from ..stats.config import settings_from_mapping
    from ..workflows import audit_file
    from ._output import Voice, report_format

    voice = Voice.of(quiet, verbose)
    check_outputs([out], inputs=[embeddings], what="report")
    fmt = report_format(report, out, voice)  # an unknown format fails before the audit runs
    config = settings_from_mapping(AuditConfig, settings or {}, where="command line")
    with voice.progress() as progress:
        model = audit_file(
            embeddings,
            config,
            key=key,
            columns=columns,
            reshape=reshape,
            nan_policy=nan_policy,
            progress=progress,
        )
    emit(model, fmt, out, inputs=[embeddings], verbose=voice.verbose)
    voice.wrote(out)
