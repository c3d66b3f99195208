"""``gaussaudit reproduce``: rerun the paper's tables and print them beside its numbers.

Also defines :func:`synthetic`, the ``gaussaudit train synthetic`` command
(registered on the trainer's sub-app), over
:func:`gaussaudit.train.synthetic_runs.train_synthetic`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["fig4", "reproduce_app", "resnet18", "synthetic", "table1", "table2"]

reproduce_app = typer.Typer(
    name="reproduce",
    help="Rerun the paper's tables (Table 1: synthetic + image pair; Table 2: pretrained) "
    "and its Fig. 4 training dynamics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)

Seed = Annotated[int, typer.Option(help="Seed of every run.")]
Device = Annotated[str, typer.Option(help="auto, cpu, cuda or mps.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output on stderr.")]


@reproduce_app.command("table1")
def table1(
    preset: Annotated[
        str, typer.Option(help="quick (about 20 min on a 2-core CPU) or paper (full protocol).")
    ] = "quick",
    only: Annotated[
        str | None,
        typer.Option(
            help="Columns, comma-separated: laplace, laplace_e0, gmm, gmm_e0, binary_e0, "
            "binary_e50, binary_e100, supervised, contrastive, contrastive_head (default all).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option(help="Output directory (table1.json, table1.md, logs, runs).")
    ] = Path("reproduce-table1"),
    seed: Seed = 0,
    root: Annotated[
        str | None,
        typer.Option(
            help="Dataset root for the image pair (CIFAR-10 or Fashion-MNIST).", show_default=False
        ),
    ] = None,
    device: Device = "auto",
    quiet: Quiet = False,
) -> None:
    """Rerun Table 1 and print it beside the paper's numbers; writes DIR/table1.json."""
    from ..paper import reproduce_table1
    from ..report.tables import print_table1

    result = reproduce_table1(
        preset, only, out, seed=seed, root=root, device=device, progress=not quiet
    )
    print_table1(result)
    typer.echo(f"wrote {out / 'table1.json'} and {out / 'table1.md'}", err=True)


@reproduce_app.command("resnet18")
def resnet18(
    preset: Annotated[
        str, typer.Option(help="cpu (~10 min on 2 idle cores, reductions printed) or paper (GPU).")
    ] = "cpu",
    out: Annotated[
        Path, typer.Option(help="Output directory (resnet18.json, table1.md, runs).")
    ] = Path("reproduce-resnet18"),
    seed: Seed = 0,
    root: Annotated[
        str | None,
        typer.Option(help="Dataset root (CIFAR-10 or Fashion-MNIST).", show_default=False),
    ] = None,
    device: Device = "auto",
    quiet: Quiet = False,
) -> None:
    """Train the ResNet-18 supervised/SimCLR pair (same init); audit backbone and head."""
    from ..paper.resnet18_rerun import extras_lines, reproduce_resnet18
    from ..report.tables import print_table1

    result = reproduce_resnet18(
        preset, out, seed=seed, root=root, device=device, progress=not quiet
    )
    print_table1(result)
    for line in extras_lines(result):
        typer.echo(line)
    typer.echo(f"wrote {out / 'resnet18.json'} and {out / 'table1.md'}", err=True)


@reproduce_app.command("table2")
def table2(
    root: Annotated[
        str | None,
        typer.Option(help="MS-COCO root (val2017/, annotations/).", show_default=False),
    ] = None,
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("reproduce-table2"),
    only: Annotated[
        str | None,
        typer.Option(help="Row keys, comma-separated (default all).", show_default=False),
    ] = None,
    imagenet_r_sketch: Annotated[
        str | None,
        typer.Option(help="Folder of ImageNet-R Sketch images only.", show_default=False),
    ] = None,
    imagenet_r_painting: Annotated[
        str | None,
        typer.Option(help="Folder of ImageNet-R Painting images only.", show_default=False),
    ] = None,
    device: Device = "auto",
    batch_size: Annotated[int, typer.Option(help="Batch size.")] = 64,
    max_samples: Annotated[
        int | None, typer.Option(help="Embed only the first N items.", show_default=False)
    ] = None,
    substitutes: Annotated[
        bool,
        typer.Option(
            "--substitutes",
            help="Also run the rows that are not in the paper: encoders that load offline on "
            "offline stand-in data (all-MiniLM-L6-v2 on Debian's fortunes).",
        ),
    ] = False,
    quiet: Quiet = False,
) -> None:
    """Run Table 2's pretrained rows that can run here; say which were skipped and why.

    Exits 3 when no row could run (missing data or weights), after writing DIR/table2.json.
    """
    from ..paper import reproduce_table2
    from ..report.tables import print_table2

    result = reproduce_table2(
        out,
        root=root,
        only=only,
        imagenet_r_sketch=imagenet_r_sketch,
        imagenet_r_painting=imagenet_r_painting,
        device=device,
        batch_size=batch_size,
        max_samples=max_samples,
        progress=not quiet,
        substitutes=substitutes,
    )
    print_table2(result)
    typer.echo(f"wrote {out / 'table2.json'}", err=True)
    if not result["ran"]:
        raise typer.Exit(3)  # nothing could run: missing data or weights (docs/cli.md)


@reproduce_app.command("fig4")
def fig4(
    out: Annotated[
        Path, typer.Option(help="Output directory (fig4.json, .html, .md, .png, metrics).")
    ] = Path("reproduce-fig4"),
    epochs: Annotated[int, typer.Option(help="Epochs per encoder (paper: 100).")] = 20,
    train_images: Annotated[
        int, typer.Option(help="Training images, first in file order.")
    ] = 10000,
    eval_images: Annotated[
        int, typer.Option(help="Held-out images audited after every epoch.")
    ] = 2000,
    batch_size: Annotated[int, typer.Option(help="Batch size (paper: 256).")] = 256,
    dataset: Annotated[
        str,
        typer.Option(
            help="auto (Fashion-MNIST, else synthetic images with a warning), fashion-mnist "
            "or synthetic."
        ),
    ] = "auto",
    root: Annotated[
        str | None, typer.Option(help="Fashion-MNIST directory.", show_default=False)
    ] = None,
    threads: Annotated[int, typer.Option(help="torch threads (0: torch's default).")] = 1,
    seed: Seed = 0,
    quiet: Quiet = False,
) -> None:
    """Rerun Fig. 4: the two-layer MLP with InfoNCE and its supervised twin, per epoch.

    Same initialisation for both; after every epoch the held-out output is audited (A², AD and
    DP pass fractions, norm CV, effective dimension, linear-probe accuracy). Prints every
    reduction against the paper, the per-epoch sparklines and a reading written from the
    numbers; DIR/fig4.html has the figure with the paper's Fig. 4 values beside.
    """
    from rich.console import Console

    from ..paper.fig4 import reproduce_fig4
    from ..paper.reading import LABELS
    from ..report.dynamics import markdown_table, sparkline_block

    result = reproduce_fig4(
        out,
        epochs=epochs,
        n_train=train_images,
        n_eval=eval_images,
        batch_size=batch_size,
        seed=seed,
        threads=threads or None,
        dataset=dataset,
        root=root,
        progress=not quiet,
    )
    console = Console()
    plain = {"markup": False, "highlight": False}
    if result.synthetic:
        console.print("WARNING: SYNTHETIC stand-in images, not Fashion-MNIST.", style="bold red")
    console.print("Fig. 4 rerun: what was run", style="bold")
    for fact in result.facts:
        console.print(f"  • {fact}", **plain)
    console.print(markdown_table(result.runs), **plain)
    console.print(sparkline_block(result.runs, LABELS), **plain)
    for title, key in (
        ("What this run shows", "shows"),
        ("What it does not show (the reductions are listed above)", "does_not_show"),
        ("How it relates to the paper", "paper"),
    ):
        console.print(title, style="bold")
        for sentence in result.reading[key]:
            if not sentence.startswith("Reduced against the paper: "):
                console.print(f"  • {sentence}", **plain)
    written = ", ".join(str(p) for k, p in result.paths.items() if not k.startswith("metrics"))
    typer.echo(f"wrote {written}", err=True)


def synthetic(
    kind: Annotated[str, typer.Argument(help="laplace, gmm or binary.")],
    epochs: Annotated[
        int | None,
        typer.Option(
            help="Epochs (default the paper's: 150 laplace, 100 gmm/binary).", show_default=False
        ),
    ] = None,
    d_out: Annotated[int, typer.Option(help="Embedding dimension.")] = 256,
    d_in: Annotated[int, typer.Option(help="Input dimension.")] = 1024,
    batch_size: Annotated[int, typer.Option(help="Pairs per batch (N).")] = 128,
    lr: Annotated[float, typer.Option(help="Adam learning rate.")] = 1e-3,
    temperature: Annotated[float, typer.Option(help="InfoNCE temperature tau.")] = 0.1,
    loss: Annotated[str, typer.Option(help="infonce (Eq. 2) or ntxent (SimCLR).")] = "infonce",
    n_train: Annotated[
        int | None, typer.Option(help="Training vectors.", show_default=False)
    ] = None,
    n_test: Annotated[int | None, typer.Option(help="Test vectors.", show_default=False)] = None,
    eval_every: Annotated[int, typer.Option(help="Audit every k epochs.")] = 10,
    bias: Annotated[bool, typer.Option("--bias/--no-bias", help="Encoder bias.")] = True,
    threads: Annotated[
        int | None, typer.Option(help="torch threads for the run.", show_default=False)
    ] = None,
    data_option: Annotated[
        list[str] | None,
        typer.Option(
            "--data-option",
            help="KEY=VALUE (repeatable): a, noise_std, dropout, scale_sigma (laplace); "
            "n_components, mean_scale, noise_scale (gmm); p_one, flip (binary).",
            show_default=False,
        ),
    ] = None,
    log: Annotated[
        Path | None, typer.Option(help="Write a JSONL log here.", show_default=False)
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the run (JSON) here.", show_default=False)
    ] = None,
    seed: Seed = 0,
    device: Device = "cpu",
    quiet: Quiet = False,
) -> None:
    """Train the paper's linear encoder on a synthetic input with InfoNCE, audited per epoch."""
    import json

    from ..io import atomic_write_text
    from ..paper import epoch_metrics
    from ..report.tables import print_history
    from ..train.synthetic_runs import train_synthetic
    from .embed_cmd import parse_options

    run = train_synthetic(
        kind,
        epochs=epochs,
        d_out=d_out,
        d_in=d_in,
        batch_size=batch_size,
        lr=lr,
        temperature=temperature,
        loss=loss,
        n_train=n_train,
        n_test=n_test,
        eval_epochs=eval_every,
        bias=bias,
        threads=threads,
        seed=seed,
        device=device,
        log_path=log,
        progress=not quiet,
        **parse_options(data_option),
    )
    epochs_audited = {str(m.epoch): epoch_metrics(m) for m in run.history}
    print_history(epochs_audited, kind=kind, seconds=run.seconds)
    if out is not None:
        atomic_write_text(out, json.dumps(run.to_dict(), indent=2) + "\n")
