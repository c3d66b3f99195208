"""``gaussaudit embed`` and ``gaussaudit run``: extract embeddings (then audit)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["embed", "run"]

Model = Annotated[str, typer.Option("--model", "-m", help="Encoder (gaussaudit list encoders).")]
Dataset = Annotated[str, typer.Argument(help="Dataset (gaussaudit list datasets).")]
Out = Annotated[
    Path | None, typer.Option(help="Output .npy (default embeddings/...).", show_default=False)
]
Split = Annotated[str, typer.Option(help="Dataset split: test or train.")]
Layer = Annotated[
    str | None,
    typer.Option(
        help="Layer to embed: the family default (penultimate pooled features), head "
        "(trainer checkpoints), logits, normalized (st:), or any module name.",
        show_default=False,
    ),
]
Weights = Annotated[str, typer.Option(help="default (pretrained), none (random), or a PATH.")]
Modality = Annotated[
    str | None,
    typer.Option(
        help="image, text or vector (default: the dataset's items; text for CLIP's text tower).",
        show_default=False,
    ),
]
DataOption = Annotated[
    list[str] | None,
    typer.Option(
        "--data-option",
        help="Dataset option KEY=VALUE (repeatable), e.g. n=2000.",
        show_default=False,
    ),
]
ModelOption = Annotated[
    list[str] | None,
    typer.Option(
        "--model-option", help="Encoder option KEY=VALUE (repeatable).", show_default=False
    ),
]
Checkpoint = Annotated[
    str | None, typer.Option(help="Trainer checkpoint file.", show_default=False)
]
Root = Annotated[str | None, typer.Option(help="Dataset root directory.", show_default=False)]
Download = Annotated[bool, typer.Option("--download", help="Allow downloading the dataset.")]
Device = Annotated[str, typer.Option(help="auto, cpu, cuda or mps.")]
BatchSize = Annotated[int, typer.Option(help="Batch size.")]
Workers = Annotated[int, typer.Option(help="DataLoader worker processes.")]
Precision = Annotated[str, typer.Option(help="fp32, fp16 or bf16 (autocast).")]
MaxSamples = Annotated[
    int | None, typer.Option(help="Embed only the first N items.", show_default=False)
]
Seed = Annotated[int, typer.Option(help="Seed.")]
Force = Annotated[bool, typer.Option("--force", help="Recompute even if a match exists.")]


def embed(
    dataset: Dataset,
    model: Model,
    out: Out = None,
    split: Split = "test",
    layer: Layer = None,
    weights: Weights = "default",
    modality: Modality = None,
    checkpoint: Checkpoint = None,
    root: Root = None,
    download: Download = False,
    device: Device = "auto",
    batch_size: BatchSize = 256,
    num_workers: Workers = 0,
    precision: Precision = "fp32",
    max_samples: MaxSamples = None,
    seed: Seed = 0,
    force: Force = False,
    data_option: DataOption = None,
    model_option: ModelOption = None,
) -> None:
    """Extract embeddings of DATASET with an encoder: writes EMB.npy + EMB.json (provenance)."""
    from rich.console import Console

    from ..extract import embed as run_embed

    result = run_embed(model, dataset, **_extraction_options(locals()))
    _summary(Console(stderr=True), result)


#: The options ``embed`` and ``run`` share, passed on to :func:`gaussaudit.extract.embed`.
_EXTRACTION_OPTIONS = (
    "out",
    "split",
    "layer",
    "weights",
    "modality",
    "checkpoint",
    "root",
    "download",
    "device",
    "batch_size",
    "num_workers",
    "precision",
    "max_samples",
    "seed",
    "force",
)


def _extraction_options(arguments: dict) -> dict:
    """Keyword arguments for ``extract.embed`` from a command's parsed arguments."""
    options = {name: arguments[name] for name in _EXTRACTION_OPTIONS}
    options["dataset_options"] = parse_options(arguments["data_option"])
    options["encoder_options"] = parse_options(arguments["model_option"])
    return options


def parse_options(pairs: list[str] | None) -> dict:
    """Parse ``KEY=VALUE`` strings; values become int, float, bool or None when they look so."""
    from ..errors import UsageError

    out: dict = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"expected KEY=VALUE, got {pair!r}")
        out[key.strip()] = _literal(value.strip())
    return out


def _literal(text: str):
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _summary(console, result) -> None:
    prov = result.provenance
    how = "reused (same request; --force to recompute)" if result.reused else "wrote"
    rate = prov.get("items_per_second")
    speed = f", {rate:,.0f} items/s" if rate else ""
    console.print(
        f"{how} {result.path} ({prov['n']} x {prov['d']}{speed}) and {result.sidecar.name}"
    )


def run(
    dataset: Dataset,
    model: Model,
    out: Out = None,
    split: Split = "test",
    layer: Layer = None,
    weights: Weights = "default",
    modality: Modality = None,
    checkpoint: Checkpoint = None,
    root: Root = None,
    download: Download = False,
    device: Device = "auto",
    batch_size: BatchSize = 256,
    num_workers: Workers = 0,
    precision: Precision = "fp32",
    max_samples: MaxSamples = None,
    seed: Seed = 0,
    force: Force = False,
    data_option: DataOption = None,
    model_option: ModelOption = None,
    view: Annotated[str, typer.Option(help="Views: raw, normalized, whitened, or all.")] = "raw",
    tests: Annotated[str, typer.Option(help="Tests to run (comma-separated) or all.")] = "all",
    alpha: Annotated[float, typer.Option(help="Level of every test.")] = 0.05,
    verdict: Annotated[str, typer.Option(help="Headline verdict: paper or calibrated.")] = "paper",
    report: Annotated[
        str, typer.Option(help="Output format: terminal, json, html or markdown.")
    ] = "terminal",
    report_out: Annotated[
        Path | None, typer.Option(help="Write the report here.", show_default=False)
    ] = None,
) -> None:
    """Embed DATASET with an encoder, then audit the embeddings: one command, one report."""
    from rich.console import Console

    from ..api import embed_and_audit
    from ..report.sink import emit
    from ..stats.battery import AuditConfig, parse_tests, parse_views
    from ._progress import audit_progress

    config = AuditConfig(
        alpha=alpha, seed=seed, views=parse_views(view), tests=parse_tests(tests), verdict=verdict
    )
    options = _extraction_options(locals())
    with audit_progress() as progress:
        result, model_report = embed_and_audit(
            model, dataset, config, audit_progress=progress, **options
        )
    _summary(Console(stderr=True), result)
    emit(model_report, report, report_out)
