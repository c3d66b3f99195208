"""``gaussaudit check``: audit an embedding file and gate on it (exit 1 when a gate fails)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..gate.config import GateConfig
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

__all__ = ["check"]


@with_settings(AuditConfig, GateConfig, optional=True, exclude=("verdict",))
def check(
    embeddings: Embeddings,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Gate config: a gaussaudit.toml or a pyproject.toml [tool.gaussaudit]. "
            "Default: ./gaussaudit.toml, else ./pyproject.toml [tool.gaussaudit], else defaults.",
            show_default=False,
        ),
    ] = None,
    report: Annotated[
        str | None,
        report_option(
            "terminal, json (the report with a 'gates' key), html, or "
            "markdown (the summary followed by the gate table)"
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the report here (atomically; its extension picks the format); the "
            "gate table still goes to stdout.",
            show_default=False,
        ),
    ] = None,
    summary: Annotated[
        Path | None,
        typer.Option(
            help="Append a Markdown table of the gates to this file (e.g. $GITHUB_STEP_SUMMARY).",
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
    """Audit an embedding matrix and gate on it: exit 1 when a gate fails.

    Gates come from --config, ./gaussaudit.toml or ./pyproject.toml [tool.gaussaudit]
    (see docs/ci.md); flags override them. Exit codes: 0 all gates passed, 1 a gate
    failed, 2 bad input, usage or config, 3 missing optional dependency or resource.
    """
    import sys

    from ..gate import check_file, find_config_file, load_gate_config
    from ..report.gates import gates_markdown, gates_renderables
    from ..report.sink import append_summary, check_outputs, emit, print_renderables
    from ._output import Voice, report_format

    voice = Voice.of(quiet, verbose)
    report = report_format(report, out, voice)  # an unknown format fails before the audit
    check_outputs([out], inputs=[embeddings], what="report")
    check_outputs([summary], inputs=[embeddings], what="step summary")
    overrides = dict(settings or {})
    source = config if config is not None else find_config_file()
    gate_config = load_gate_config(source, overrides)
    with voice.progress() as progress:
        model, result = check_file(
            embeddings,
            gate_config,
            key=key,
            columns=columns,
            reshape=reshape,
            nan_policy=nan_policy,
            progress=progress,
        )
    model["gates"]["config_file"] = None if source is None else str(source)
    # terminal and markdown end with the gate table
    emit(model, report, out, inputs=[embeddings], verbose=voice.verbose)
    voice.wrote(out)
    if out is not None and report != "terminal":  # the gate table still goes to stdout
        print_renderables(gates_renderables(model["gates"]))
    if summary is not None:
        append_summary(
            gates_markdown(model["gates"], source=str(embeddings)), summary, inputs=[embeddings]
        )
        voice.wrote(summary, verb="appended the gate table to")
    if not result.passed:
        if report != "terminal" and out is None:  # stdout holds only the report: list on stderr
            for o in result.failed:
                print(f"gaussaudit: gate failed: {o.name} [{o.view}]: {o.detail}", file=sys.stderr)
        raise typer.Exit(code=1)
