"""``gaussaudit check``: audit an embedding file and gate on it (exit 1 when a gate fails)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..gate.config import GateConfig
from ..stats.config import AuditConfig
from ._options import with_settings

__all__ = ["check", "gates_markdown", "gates_table"]


def _cell(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _threshold(outcome: Any) -> str:
    if outcome.name == "require_verdict":
        return "Gaussian"
    return f"{outcome.op} {_cell(outcome.threshold)}".strip()


def gates_table(result: Any, *, title: str | None = None):
    """Gate outcomes as rich renderables: a table (gate, view, measured, threshold, result).

    Below the table, one line per gate that failed or measured nothing, with its detail.
    """
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    n_failed = len(result.failed)
    table = Table(
        title=title
        or (
            f"Gates: {len(result.outcomes) - n_failed} of {len(result.outcomes)} passed"
            if result.outcomes
            else "Gates: none set"
        ),
        box=box.SIMPLE_HEAVY,
        title_style="bold",
    )
    table.add_column("gate", overflow="fold")
    table.add_column("view")
    table.add_column("measured", justify="right")
    table.add_column("threshold", justify="right")
    table.add_column("result", no_wrap=True)
    for o in result.outcomes:
        flag = Text("pass", style="bold green") if o.passed else Text("FAIL", style="bold red")
        measured = _verdict_cell(o.measured) if o.name == "require_verdict" else _cell(o.measured)
        table.add_row(o.name, o.view, measured, _threshold(o), flag)
    lines = [
        Text(f"• {o.name} [{o.view}]: {o.detail}", style="red" if not o.passed else "dim")
        for o in result.outcomes
        if not o.passed or o.measured is None
    ]
    return Group(table, *lines)


def _verdict_cell(flag: bool | None) -> str:
    return "undecided" if flag is None else ("Gaussian" if flag else "not Gaussian")


def gates_markdown(result: Any, *, source: str | None = None) -> str:
    """Render the gate outcomes as a GitHub-flavoured Markdown table (for a CI step summary)."""
    n_failed = len(result.failed)
    status = "passed" if result.passed else f"failed ({n_failed} of {len(result.outcomes)})"
    lines = [f"### gaussaudit check: {status}", ""]
    if source:
        lines += [f"Input: `{source}`", ""]
    if not result.outcomes:
        return "\n".join([*lines, "No gate is set.", ""])
    lines += [
        "| gate | view | measured | threshold | result |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    for o in result.outcomes:
        measured = _verdict_cell(o.measured) if o.name == "require_verdict" else _cell(o.measured)
        mark = "✅ pass" if o.passed else "❌ **fail**"
        lines.append(
            f"| `{o.name}` | {o.view} | {measured} | {_threshold(o).replace('|', '/')} | {mark} |"
        )
    failed = [f"- `{o.name}` ({o.view}): {o.detail}" for o in result.failed]
    return "\n".join([*lines, "", *failed, ""] if failed else [*lines, ""])


@with_settings(AuditConfig, GateConfig, optional=True, exclude=("verdict",))
def check(
    embeddings: Annotated[
        Path,
        typer.Argument(
            help="Embedding file: .npy .npz .pt .safetensors .h5 .zarr .parquet .csv",
            show_default=False,
        ),
    ],
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
        str,
        typer.Option(
            help="Output format: terminal, json (the report with a 'gates' key), html, or "
            "markdown (the summary followed by the gate table)."
        ),
    ] = "terminal",
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the report here (atomically); the gate table still goes to stdout.",
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
    key: Annotated[
        str | None,
        typer.Option(help="Array key in .npz/.pt/.safetensors/.h5/.zarr.", show_default=False),
    ] = None,
    columns: Annotated[
        str | None,
        typer.Option(help="CSV/Parquet columns: names or prefix* patterns.", show_default=False),
    ] = None,
    reshape: Annotated[
        str | None, typer.Option(help="'flatten' trailing dimensions to 2-D.", show_default=False)
    ] = None,
    nan_policy: Annotated[
        str, typer.Option(help="NaN/Inf rows: raise (error) or omit (drop, recorded).")
    ] = "raise",
    settings: dict | None = None,
) -> None:
    """Audit an embedding matrix and gate on it: exit 1 when a gate fails.

    Gates come from --config, ./gaussaudit.toml or ./pyproject.toml [tool.gaussaudit]
    (see docs/ci.md); flags override them. Exit codes: 0 all gates passed, 1 a gate
    failed, 2 bad input, usage or config, 3 missing optional dependency or resource.
    """
    import sys

    from ..gate import check_file, find_config_file, load_gate_config
    from ..io import sidecar_path
    from ._output import REPORT_FORMATS, audit_progress

    if report not in REPORT_FORMATS:
        from ..errors import UnknownNameError

        raise UnknownNameError("report format", report, REPORT_FORMATS)
    if out is not None and out.resolve() == sidecar_path(embeddings).resolve():
        from ..errors import UsageError

        raise UsageError(
            f"--out {out} would overwrite the provenance sidecar of {embeddings}; "
            "choose another name (e.g. EMB.report.json)"
        )
    overrides = dict(settings or {})
    source = config if config is not None else find_config_file()
    gate_config = load_gate_config(source, overrides)
    with audit_progress() as progress:
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
    _render(model, result, report, out)
    if summary is not None:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(gates_markdown(result, source=str(embeddings)) + "\n")
    if not result.passed:
        if report != "terminal" and out is None:  # stdout holds only the report: list on stderr
            for o in result.failed:
                print(f"gaussaudit: gate failed: {o.name} [{o.view}]: {o.detail}", file=sys.stderr)
        raise typer.Exit(code=1)


def _render(model: dict, result: Any, fmt: str, out: Path | None) -> None:
    from rich.console import Console

    from ._output import emit_report

    source = model["gates"].get("config_file") or "defaults (no config file)"
    caption = f"[dim]gate config: {source}[/dim]"
    if fmt == "terminal":
        from ..report.terminal import render_terminal

        if out is None:
            console = Console()
            render_terminal(model, console)
            console.print(gates_table(result))
            console.print(caption)
            return
        import io

        from ..io import atomic_write_text

        console = Console(record=True, width=120, file=io.StringIO())
        render_terminal(model, console)
        console.print(gates_table(result))
        console.print(caption)
        atomic_write_text(out, console.export_text())
    elif fmt == "markdown":  # the audit summary, then the gate table
        import sys

        from ..report.markdown import render_markdown

        text = render_markdown(model).rstrip("\n") + "\n\n" + gates_markdown(result)
        if out is None:
            sys.stdout.write(text)
            return
        from ..io import atomic_write_text

        atomic_write_text(out, text)
    else:
        emit_report(model, fmt, out)
        if out is None:
            return  # the report alone on stdout
    console = Console()
    console.print(gates_table(result))
    console.print(caption)
