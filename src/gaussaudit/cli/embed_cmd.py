"""``gaussaudit embed`` and ``gaussaudit run``: extract embeddings (then audit)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..stats.config import AuditConfig
from ._options import Quiet, Verbose, report_option, with_settings

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
Limit = Annotated[
    int | None,
    typer.Option(
        "--limit",
        help="Embed only the first N items (not an audit subsample: that is --max-samples).",
        show_default=False,
    ),
]
Seed = Annotated[int, typer.Option(help="Seed.")]
Pairs = Annotated[
    int | None,
    typer.Option(
        "--pairs",
        help="Also write K augmented positive pairs per image to EMB.pairs.npy "
        "(n, K, 2, d), for alignment and uniformity (the trainer's SimCLR augmentation).",
        show_default=False,
    ),
]
ShardSize = Annotated[
    int | None,
    typer.Option(
        "--shard-size",
        help="Write a resumable EMB.shards directory of N-row shards with completion markers "
        "(--out must end in .shards); rerun the same command to continue after an interruption.",
        show_default=False,
    ),
]
PairsFile = Annotated[
    Path | None,
    typer.Option(
        "--pairs-file",
        help="Text encoders: a CSV (header row, then one positive pair per row in its first "
        "two columns) embedded to EMB.pairs.npy.",
        show_default=False,
    ),
]
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
    limit: Limit = None,
    seed: Seed = 0,
    force: Force = False,
    data_option: DataOption = None,
    model_option: ModelOption = None,
    pairs: Pairs = None,
    pairs_file: PairsFile = None,
    shard_size: ShardSize = None,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Extract embeddings of DATASET with an encoder: writes EMB.npy + EMB.provenance.json."""
    from ..extract import embed as run_embed
    from ..report.sink import check_outputs
    from ._output import Voice

    voice = Voice.of(quiet, verbose)
    check_outputs([out] if shard_size is None else [], what="embeddings")  # shards: a folder
    result = run_embed(model, dataset, progress=not quiet, **_extraction_options(locals()))
    _summary(voice, result)


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
    "seed",
    "force",
    "pairs",
    "pairs_file",
    "shard_size",
)


def _extraction_options(arguments: dict) -> dict:
    """Keyword arguments for ``extract.embed`` from a command's parsed arguments."""
    options = {name: arguments[name] for name in _EXTRACTION_OPTIONS}
    options["limit"] = arguments["limit"]
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


def _summary(voice, result) -> None:
    """Print the confirmation line on stderr (none with --quiet; details with --verbose)."""
    if voice.quiet:
        return
    from rich.console import Console
    from rich.markup import escape

    prov = result.provenance
    how = "reused (same request; --force to recompute)" if result.reused else "wrote"
    rate = prov.get("items_per_second")
    speed = f", {rate:,.0f} items/s" if rate else ""
    Console(stderr=True).print(
        escape(f"{how} {result.path} ({prov['n']} x {prov['d']}{speed}) and {result.sidecar.name}")
    )
    if result.labels_path is not None:
        voice.detail(f"labels: {result.labels_path}")
    for key in ("encoder", "layer", "weights", "device", "precision", "wall_seconds"):
        if prov.get(key) is not None:
            voice.detail(f"{key}: {prov[key]}")


@with_settings(AuditConfig, exclude=("seed", "device"))
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
    limit: Limit = None,
    seed: Seed = 0,
    force: Force = False,
    data_option: DataOption = None,
    model_option: ModelOption = None,
    pairs: Pairs = None,
    pairs_file: PairsFile = None,
    shard_size: ShardSize = None,
    report: Annotated[str | None, report_option("terminal, json, html or markdown")] = None,
    report_out: Annotated[
        Path | None,
        typer.Option(
            help="Write the report here; its extension picks the format.", show_default=False
        ),
    ] = None,
    quiet: Quiet = False,
    verbose: Verbose = False,
    settings: dict | None = None,
) -> None:
    """Embed DATASET with an encoder, then audit the embeddings: one command, one report.

    Every audit option of `gaussaudit test` is accepted; --seed seeds both the
    extraction and the audit, --limit caps the items embedded and --max-samples
    subsamples the rows audited.
    """
    from ..report.sink import check_outputs, emit
    from ..stats.config import settings_from_mapping
    from ..workflows import embed_and_audit
    from ._output import Voice, report_format

    voice = Voice.of(quiet, verbose)
    check_outputs([report_out], inputs=[out] if out is not None else [], what="report")
    fmt = report_format(report, report_out, voice, out_flag="--report-out")
    # one --device: the encoder's, and the torch engine's when --engine torch
    audit_device = None if device == "auto" else device
    values = {**(settings or {}), "seed": seed, "device": audit_device}
    config = settings_from_mapping(AuditConfig, values, where="command line")
    options = _extraction_options(locals())
    with voice.progress() as progress:
        result, model_report = embed_and_audit(
            model, dataset, config, audit_progress=progress, progress=not quiet, **options
        )
    _summary(voice, result)
    emit(model_report, fmt, report_out, inputs=[result.path], verbose=voice.verbose)
    voice.wrote(report_out)
