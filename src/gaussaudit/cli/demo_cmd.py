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
    mode: Annotated[
        str, typer.Option(help="auto (train if Fashion-MNIST is here), trained or synthetic.")
    ] = "auto",
    epochs: Annotated[int, typer.Option(help="Training epochs per encoder (trained mode).")] = 5,
) -> None:
    """Contrastive vs supervised, trained and audited offline, side by side.

    Trains a small contrastive and a small supervised encoder on Fashion-MNIST when it is
    available (Debian dataset-fashion-mnist), else audits two synthetic sets.
    """
    from rich.console import Console

    from ..paper import run_demo
    from ..report.tables import print_side_by_side

    console = Console()
    result = run_demo(out, n=n, d=d, seed=seed, mode=mode, epochs=epochs)
    console.print(f"[bold]demo:[/bold] {result.note}")
    print_side_by_side(result.reports, console)
    for name in result.reports:
        console.print(
            f"[dim]{name}: embeddings {result.embedding_paths[name]}  "
            f"report {result.report_paths[name]}[/dim]"
        )
    console.print(f"[dim]done in {result.seconds:.1f} s[/dim]")
