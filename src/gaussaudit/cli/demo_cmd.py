"""``gaussaudit demo``: the offline end-to-end example."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["demo"]


def demo(
    out: Annotated[Path, typer.Option(help="Directory for embeddings and reports.")] = Path(
        "gaussaudit-demo"
    ),
    n: Annotated[int, typer.Option(help="Rows per embedding set.")] = 5000,
    d: Annotated[int, typer.Option(help="Embedding dimension.")] = 256,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
) -> None:
    """Audit a Gaussian and a post-ReLU embedding set made offline, side by side."""
    from rich.console import Console

    from ..demo import run_demo
    from ..report.compare import render_side_by_side

    console = Console()
    with console.status("auditing the demo embeddings..."):
        result = run_demo(out, n=n, d=d, seed=seed)
    render_side_by_side(result.reports, console)
    for name in result.reports:
        console.print(
            f"[dim]{name}: embeddings {result.embedding_paths[name]}  "
            f"report {result.report_paths[name]}[/dim]"
        )
    console.print(f"[dim]done in {result.seconds:.1f} s[/dim]")
