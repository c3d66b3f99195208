"""``gaussaudit demo``: the offline end-to-end example."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["demo"]

_REDUCED = "Reduced against the paper: "


def _print_dynamics(console: Any, result: Any) -> None:
    """Sparklines per metric and run, then the reading written from the numbers."""
    from ..paper.reading import LABELS
    from ..report.dynamics import sparkline_block

    pair = result.dynamics
    epochs = max(r["epoch"] for rows in pair.runs.values() for r in rows)
    console.print(
        f"\n[bold]How the held-out statistics moved, epoch 0 → {epochs}[/bold] "
        "(one line per run; each metric on a scale shared by both runs):"
    )
    console.print(sparkline_block(pair.runs, LABELS), markup=False, highlight=False)
    reading = result.explanation
    reduced = [
        s[len(_REDUCED) :].rstrip(".") for s in reading["does_not_show"] if s.startswith(_REDUCED)
    ]
    for title, key in (
        ("What this run shows", "shows"),
        ("What it does not show", "does_not_show"),
        ("How it relates to the paper", "paper"),
    ):
        console.print(f"\n[bold]{title}[/bold]")
        for sentence in reading[key]:
            if not sentence.startswith(_REDUCED):
                console.print(f"  • {sentence}", markup=False, highlight=False)
        if key == "does_not_show" and reduced:
            console.print(
                "  • Reduced against the paper: " + "; ".join(reduced) + ".",
                markup=False,
                highlight=False,
            )
    console.print("\n[bold]Last epoch, full audit (gaussaudit test, raw view)[/bold]")


def demo(
    out: Annotated[Path, typer.Option(help="Directory for embeddings and reports.")] = Path(
        "gaussaudit-demo"
    ),
    n: Annotated[int, typer.Option(help="Rows per embedding set (synthetic mode).")] = 5000,
    d: Annotated[int, typer.Option(help="Embedding dimension (synthetic mode).")] = 256,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
    mode: Annotated[
        str,
        typer.Option(
            help="auto (train if torch and Fashion-MNIST are here), trained or synthetic."
        ),
    ] = "auto",
    epochs: Annotated[int, typer.Option(help="Training epochs per encoder (trained mode).")] = 5,
    train_images: Annotated[
        int, typer.Option(help="Fashion-MNIST training images (trained mode).")
    ] = 4096,
    eval_images: Annotated[
        int, typer.Option(help="Held-out images audited every epoch (trained mode).")
    ] = 2000,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No per-epoch lines.")] = False,
) -> None:
    """Contrastive vs supervised, trained and audited offline: how the statistics move.

    With torch and Fashion-MNIST (Debian dataset-fashion-mnist) it trains a small contrastive
    and a small supervised MLP from the same initialisation, audits the held-out output after
    every epoch and explains what the numbers show (OUT/demo.html has the figure). Without
    them it audits two synthetic sets and says which of the two is missing.
    """
    from rich.console import Console

    from ..paper import run_demo
    from ..paper.demo import TRAINED_MODE_HOW
    from ..report.tables import print_side_by_side

    console = Console()
    result = run_demo(
        out,
        n=n,
        d=d,
        seed=seed,
        mode=mode,
        epochs=epochs,
        n_train=train_images,
        n_eval=eval_images,
        progress=not quiet,
    )
    console.print(f"[bold]demo:[/bold] {result.note}", highlight=False)
    if result.mode == "trained":
        _print_dynamics(console, result)
    elif result.missing:
        console.print(TRAINED_MODE_HOW, style="yellow", markup=False, highlight=False)
    print_side_by_side(result.reports, console)
    for name in result.reports:
        console.print(
            f"[dim]{name}: embeddings {result.embedding_paths[name]}  "
            f"report {result.report_paths[name]}[/dim]"
        )
    if result.html is not None:
        console.print(
            f"wrote {result.html} (per-epoch figure, the reading above, table) and "
            f"{result.html.with_suffix('.json')}"
        )
    console.print(f"[dim]done in {result.seconds:.1f} s[/dim]")
