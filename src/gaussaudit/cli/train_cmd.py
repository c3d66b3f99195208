"""``gaussaudit train``: train an encoder and audit its embeddings every epoch.

``train_app`` is a typer sub-app; commands ``simclr`` and ``supervised`` are
registered here, and other trainers (e.g. ``synthetic``) can add theirs with
``train_app.command("name")(function)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["simclr", "supervised", "train_app"]

train_app = typer.Typer(
    name="train",
    help="Train an encoder (SimCLR or supervised) and audit held-out embeddings every epoch.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)

_NG = {"show_default": False}
Dataset = Annotated[
    str, typer.Argument(help="Dataset: cifar10 (needs --download once), fashion-mnist, fake.")
]
Preset = Annotated[
    str | None,
    typer.Option(
        help="cpu (ResNet-18 on 1536 images, 2 epochs: ~5-10 min on 2 cores), quick (4096 "
        "images, 3 epochs) or paper (full protocol, GPU). Reductions are printed.",
        **_NG,
    ),
]
Epochs = Annotated[int | None, typer.Option(help="Epochs (default 100).", **_NG)]
BatchSize = Annotated[int | None, typer.Option(help="Batch size (default 256).", **_NG)]
Lr = Annotated[float | None, typer.Option(help="Adam learning rate (default 1e-3).", **_NG)]
WeightDecay = Annotated[float | None, typer.Option(help="Adam weight decay (default 1e-4).", **_NG)]
Temperature = Annotated[
    float | None, typer.Option(help="Contrastive temperature tau (default 0.1).", **_NG)
]
Loss = Annotated[
    str | None,
    typer.Option(help="ntxent (SimCLR, default) or infonce (the paper's Eq. 2).", **_NG),
]
Arch = Annotated[
    str | None,
    typer.Option(help="resnet18 (CIFAR ResNet-18, default) or mlp (2-layer MLP, Fig. 4).", **_NG),
]
Device = Annotated[str | None, typer.Option(help="auto, cpu, cuda or mps (default auto).", **_NG)]
Precision = Annotated[
    str | None,
    typer.Option(
        help="auto (AMP on CUDA; bf16 on a CPU with native bf16, else fp32), fp32, bf16, fp16.",
        **_NG,
    ),
]
Out = Annotated[
    Path | None,
    typer.Option(help="Run directory (default RUNS_DIR/<method>-<dataset>-<time>).", **_NG),
]
RunsDir = Annotated[
    Path | None, typer.Option(help="Where default run directories go (default runs).", **_NG)
]
Resume = Annotated[
    bool, typer.Option("--resume", help="Continue the run in --out (or the newest matching run).")
]
Seed = Annotated[int | None, typer.Option(help="Seed (default 0).", **_NG)]
Root = Annotated[str | None, typer.Option(help="Dataset root directory.", **_NG)]
Download = Annotated[bool, typer.Option("--download", help="Allow downloading the dataset.")]
MaxTrain = Annotated[
    int | None, typer.Option(help="Train on the first N training items only.", **_NG)
]
MaxEval = Annotated[int | None, typer.Option(help="Audit the first N test items only.", **_NG)]
KnnBank = Annotated[
    int | None,
    typer.Option(help="Training items in the kNN bank (0: no kNN) (default 10000).", **_NG),
]
Workers = Annotated[int | None, typer.Option(help="DataLoader workers (default 0).", **_NG)]
EvalEvery = Annotated[int | None, typer.Option(help="Audit every K epochs (default 1).", **_NG)]
EvalPairs = Annotated[
    int | None,
    typer.Option(
        help="Held-out images with a positive pair for per-epoch alignment/uniformity "
        "(0: none) (default 256).",
        **_NG,
    ),
]
CheckpointEvery = Annotated[
    int | None,
    typer.Option(help="Keep checkpoint-epochNNN.pt every K epochs (0: last only).", **_NG),
]
ImageSize = Annotated[int | None, typer.Option(help="Image side (default the dataset's).", **_NG)]
DataOption = Annotated[
    list[str] | None,
    typer.Option("--data-option", help="Dataset option KEY=VALUE (repeatable), e.g. n=256.", **_NG),
]
Plot = Annotated[bool, typer.Option(help="Write RUN_DIR/dynamics.png at the end.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]


def simclr(
    dataset: Dataset,
    preset: Preset = None,
    epochs: Epochs = None,
    batch_size: BatchSize = None,
    lr: Lr = None,
    weight_decay: WeightDecay = None,
    temperature: Temperature = None,
    loss: Loss = None,
    arch: Arch = None,
    device: Device = None,
    precision: Precision = None,
    out: Out = None,
    runs_dir: RunsDir = None,
    resume: Resume = False,
    seed: Seed = None,
    root: Root = None,
    download: Download = False,
    max_train_samples: MaxTrain = None,
    max_eval_samples: MaxEval = None,
    knn_bank: KnnBank = None,
    num_workers: Workers = None,
    eval_every: EvalEvery = None,
    eval_pairs: EvalPairs = None,
    checkpoint_every: CheckpointEvery = None,
    image_size: ImageSize = None,
    data_option: DataOption = None,
    plot: Plot = True,
    quiet: Quiet = False,
) -> None:
    """Train SimCLR (two views, projection head, contrastive loss) on DATASET."""
    _run("simclr", **locals())


def supervised(
    dataset: Dataset,
    preset: Preset = None,
    epochs: Epochs = None,
    batch_size: BatchSize = None,
    lr: Lr = None,
    weight_decay: WeightDecay = None,
    arch: Arch = None,
    device: Device = None,
    precision: Precision = None,
    out: Out = None,
    runs_dir: RunsDir = None,
    resume: Resume = False,
    seed: Seed = None,
    root: Root = None,
    download: Download = False,
    max_train_samples: MaxTrain = None,
    max_eval_samples: MaxEval = None,
    knn_bank: KnnBank = None,
    num_workers: Workers = None,
    eval_every: EvalEvery = None,
    eval_pairs: EvalPairs = None,
    checkpoint_every: CheckpointEvery = None,
    image_size: ImageSize = None,
    data_option: DataOption = None,
    plot: Plot = True,
    quiet: Quiet = False,
) -> None:
    """Train the supervised baseline (cross-entropy, same backbone and init) on DATASET."""
    _run("supervised", **locals())


train_app.command("simclr")(simclr)
train_app.command("supervised")(supervised)


def _run(method: str, **opts) -> None:
    from rich.console import Console

    from ..report.training import plot_dynamics, render_summary
    from ..train.loop import train
    from ..train.presets import PRESETS, reductions, resolve_config
    from ..train.runs import read_metrics
    from .embed_cmd import parse_options

    dataset, preset, resume = opts.pop("dataset"), opts.pop("preset"), opts.pop("resume")
    plot, quiet = opts.pop("plot"), opts.pop("quiet")
    options = parse_options(opts.pop("data_option"))
    opts["dataset_options"] = options or None
    opts["download"] = True if opts["download"] else None
    for key in ("out", "runs_dir"):
        opts[key] = str(opts[key]) if opts[key] is not None else None
    config = resolve_config(method, dataset, preset=preset, resume=resume, **opts)
    stated = reductions(preset)
    if stated and not quiet:
        changed = [k for k in PRESETS[preset] if opts.get(k) is not None]
        note = f" (then changed by the options given: {', '.join(changed)})" if changed else ""
        Console(stderr=True).print(
            f"preset {preset} reduces the paper's protocol{note}: {'; '.join(stated)}",
            soft_wrap=True,
            highlight=False,
            markup=False,
        )
    result = train(config, resume=resume, progress=not quiet)
    figure = None
    if plot:
        try:
            records = read_metrics(result.run_dir)
            figure = plot_dynamics(records, out=Path(result.run_dir) / "dynamics.png")
        except ImportError:
            figure = None
    render_summary(Console(), result, figure)


from .reproduce_cmd import synthetic  # noqa: E402  (gaussaudit train synthetic)

train_app.command("synthetic")(synthetic)
