"""Rerun the paper's Table 1 and set it beside the paper's numbers.

:func:`reproduce_table1` runs

- the synthetic columns with :func:`gaussaudit.train.synthetic_runs.train_synthetic`
  (``laplace``, ``gmm``, ``binary_e0``, ``binary_e50``, ``binary_e100``) plus the
  random-initialisation baselines ``laplace_e0`` and ``gmm_e0`` the paper does
  not report (PAPER.md §2.3: the Laplace/GMM Gaussianity is largely the
  classical CLT of a random linear map);
- the supervised / contrastive pair with the image trainer
  (:func:`gaussaudit.train.loop.train`): CIFAR-10 when it is available,
  otherwise Fashion-MNIST (the table says which). ``contrastive`` is the
  backbone (the layer ``supervised`` is read at); ``contrastive_head`` the
  projection-head output, when the architecture has one.

Two presets (:data:`gaussaudit.paper.presets.PRESETS`): ``paper`` (Appendix
E.1 in full: 150/100 synthetic epochs, ResNet-18 for 100 epochs: a GPU job)
and ``quick`` (finishes in about 20 minutes on a 2-core CPU: fewer Laplace
epochs and a small MLP on a subset for the image pair; every reduction is
listed in the output). The result, with every setting used and the paper's
numbers in the same shape, goes to ``DIR/table1.json`` and ``DIR/table1.md``;
:func:`gaussaudit.report.tables.print_table1` prints it.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import GaussAuditError, ResourceUnavailableError
from ..report.tables import fmt_paper_number, fmt_percent, table1_markdown
from ._common import (
    PAPER_METRICS,
    audit_metrics,
    epoch_metrics,
    json_number,
    parse_columns,
    progress_console,
)
from .presets import CNN_COLUMNS, SYNTHETIC_COLUMNS, TABLE1_COLUMNS, resolve_preset
from .reference import CITATION, INFERRED, NULL_EXPECTATIONS, TABLE1, TABLE1_NOTES

__all__ = ["reproduce_table1"]


def _paper_entry(name: str) -> dict | None:
    """Return the paper's column beside ours (None for the baselines it does not report)."""
    if name in TABLE1:
        return copy.deepcopy(TABLE1[name])
    if name == "contrastive_head":
        entry = copy.deepcopy(TABLE1["contrastive"])
        entry["notes"] = [
            *entry["notes"],
            "the paper's single contrastive column, shown beside both layers",
        ]
        return entry
    return None  # laplace_e0, gmm_e0: not reported by the paper


# --------------------------------------------------------------------------- synthetic


def _synthetic_plan(columns: list[str], spec: dict) -> dict[str, dict]:
    """Which synthetic runs are needed, with which epochs."""
    plan: dict[str, dict] = {}
    for col in columns:
        if col not in SYNTHETIC_COLUMNS:
            continue
        kind, _ = SYNTHETIC_COLUMNS[col]
        plan.setdefault(kind, {"columns": []})["columns"].append(col)
    for kind, entry in plan.items():
        settings = dict(spec["synthetic"][kind])
        only_init = all(SYNTHETIC_COLUMNS[c][1] == 0 for c in entry["columns"])
        if only_init:
            settings["epochs"] = 0
        epochs = int(settings["epochs"])
        extra = (
            [epochs // 2] if any(SYNTHETIC_COLUMNS[c][1] == "mid" for c in entry["columns"]) else []
        )
        every = settings.pop("eval_epochs", None)
        if isinstance(every, int) and every > 0:
            schedule = sorted({*range(0, epochs + 1, every), *extra, 0, epochs})
        else:
            schedule = sorted({*(every or []), *extra, 0, epochs})
        settings["eval_epochs"] = schedule
        entry["settings"] = settings
        entry["only_init"] = only_init
    return plan


def _synthetic_column(col: str, run, settings: dict) -> dict:
    """One synthetic column: the paper's metrics at its epoch, and what was audited."""
    kind, which = SYNTHETIC_COLUMNS[col]
    epochs = int(settings["epochs"])
    epoch = 0 if which == 0 else epochs // 2 if which == "mid" else epochs
    m = epoch_metrics(run.at(epoch))
    data = run.settings["data"]["test"]
    extra = ""
    if kind == "gmm":
        extra = f", {data.get('n_components')} components, mean scale {data.get('mean_scale')}"
    elif kind == "binary":
        extra = f", p_one {data.get('p_one')}"
    return {
        **{k: m[k] for k in PAPER_METRICS},
        "dataset": f"synthetic:{kind} test split (n={m['n']}, {settings['d_in']}-d{extra})",
        "epochs": int(epoch),
        "layer": f"linear encoder output, unnormalised ({settings['d_in']} -> {m['d']})",
        "run": kind,
        **{k: m[k] for k in _SYNTHETIC_EXTRAS},
    }


_SYNTHETIC_EXTRAS = (
    "n",
    "d",
    "mean_norm",
    "effective_dimension",
    "alignment",
    "uniformity_mean",
    "uniformity_std",
    "train_loss",
)


def _done_line(run) -> str:
    """One progress line: the final epoch's metrics."""
    m = epoch_metrics(run.final)
    return (
        f"  done in {run.seconds:.0f} s; epoch {m['epoch']}: CV {fmt_paper_number(m['cv'])}, "
        f"AD {fmt_paper_number(m['ad_mean'])} ({fmt_percent(m['ad_pass_fraction'])}), "
        f"DP {fmt_paper_number(m['dp_mean_pvalue'])} ({fmt_percent(m['dp_pass_fraction'])})"
    )


def _run_synthetic(plan, spec, out_dir: Path, seed: int, device: str, progress: bool, console):
    """Train each planned synthetic run; return its columns and settings."""
    from ..train.synthetic_runs import train_synthetic

    columns, settings_out = {}, {}
    for kind, entry in plan.items():
        settings = dict(entry["settings"])
        what = (
            "random initialisation only" if entry["only_init"] else f"{settings['epochs']} epochs"
        )
        console.print(f"[bold]synthetic {kind}[/bold]: {what}")
        run = train_synthetic(
            kind,
            seed=seed,
            device=device,
            threads=spec.get("threads"),
            log_path=out_dir / "logs" / f"synthetic-{kind}.jsonl",
            progress=progress,
            **settings,
        )
        for col in entry["columns"]:
            columns[col] = _synthetic_column(col, run, settings)
        settings_out[kind] = {**run.settings, "seconds": round(run.seconds, 1)}
        console.print(_done_line(run))
    return columns, settings_out


# ------------------------------------------------------------------------ image pair


def _pick_image_dataset(root: str | None) -> tuple[str, str]:
    """CIFAR-10 when it loads, else Fashion-MNIST; with the reason in words."""
    from ..datasets import load_dataset

    try:
        load_dataset("cifar10", root=root, split="test", max_samples=1)
        return "cifar10", "CIFAR-10 (the paper's dataset)"
    except GaussAuditError as err:
        why = str(err)
    try:
        load_dataset("fashion-mnist", root=root, split="test", max_samples=1)
    except GaussAuditError as err2:
        raise ResourceUnavailableError(
            f"neither CIFAR-10 ({why}) nor Fashion-MNIST ({err2}) is available"
        ) from err2
    return "fashion-mnist", f"Fashion-MNIST, because CIFAR-10 is not available ({why})"


_WHERE = {
    ("resnet18", "backbone"): "512-d pooled backbone features (post-ReLU)",
    ("resnet18", "head"): "projection-head output",
    ("mlp", "head"): "classifier logits",
}


def _layer_text(arch: str, method: str, layer: str) -> str:
    """Where an image column is read, in words."""
    if (arch, layer) == ("mlp", "backbone"):
        last = ", before the classifier)" if method == "supervised" else ", where the loss acts)"
        return "256-d MLP output (linear last layer" + last
    return _WHERE[(arch, layer)]


def _cnn_column(col: str, record: dict, dataset: str, cnn: dict, result) -> dict:
    """One image column from the trainer's final audit record."""
    method, layer = CNN_COLUMNS[col]
    layers = record.get("layers") or {}
    # The trainer names a head-less model's only audited layer "output".
    audited = layers.get(layer) or (layers.get("output") if layer == "backbone" else None)
    if audited is None:
        return {"skipped": f"the {cnn['arch']} {method} model has no {layer!r} output to audit"}
    m = audit_metrics(audited)
    arch = "ResNet-18" if cnn["arch"] == "resnet18" else "two-layer MLP"
    where = _layer_text(cnn["arch"], method, layer)
    return {
        **{k: m[k] for k in PAPER_METRICS},
        "dataset": f"{dataset} test split (n={m['n']})",
        "epochs": int(record.get("epoch", 0)),
        "layer": f"{arch} {method}: {where}, unnormalised ({m['d']}-d)",
        "run": str(result.run_dir),
        **{k: m[k] for k in ("n", "d", "mean_norm", "effective_dimension")},
        "knn_top1": json_number(record.get("knn_top1")),
        "train_loss": json_number(record.get("train_loss")),
    }


def _train_config(method: str, dataset: str, cnn: dict, out_dir: Path, **common):
    """Return the image trainer's config of one method of the pair."""
    from ..train.config import TrainConfig

    return TrainConfig(
        method=method,
        dataset=dataset,
        arch=cnn["arch"],
        epochs=int(cnn["epochs"]),
        batch_size=int(cnn["batch_size"]),
        lr=float(cnn["lr"]),
        weight_decay=float(cnn["weight_decay"]),
        temperature=float(cnn["temperature"]),
        loss=str(cnn.get("loss", "ntxent")),
        out=str(out_dir / "runs" / f"{method}-{cnn['arch']}-{dataset}"),
        max_train_samples=cnn.get("max_train_samples"),
        max_eval_samples=cnn.get("max_eval_samples"),
        knn_bank=cnn.get("knn_bank"),
        eval_every=int(cnn.get("eval_every") or cnn["epochs"]),
        precision=str(cnn.get("precision", "auto")),
        **common,
    )


def _train_method(config, progress: bool, console) -> tuple[Any, dict]:
    """Train (or continue) one run; return the result and its settings entry."""
    from ..train.loop import train

    resume = (Path(config.out) / "last.pt").is_file()
    console.print(
        f"  {config.method}: {config.epochs} epochs"
        + (" (continuing the run in DIR)" if resume else "")
    )
    start = time.perf_counter()
    result = train(config, resume=resume, progress=progress)
    return result, {
        "config": result.config.to_dict(),
        "resolved": result.resolved,
        "seconds": round(time.perf_counter() - start, 1),
        "run_dir": str(result.run_dir),
    }


def _run_cnn(columns, spec, out_dir, seed, root, device, progress, console):
    """Train the supervised / contrastive pair; return its columns and settings."""
    try:
        from ..train.config import CHOICES as TRAIN_CHOICES
        from ..train.loop import train  # noqa: F401  (the trainer's extra is installed)
    except ImportError as err:
        reason = f"image trainer not available ({err})"
        return {c: {"skipped": reason} for c in columns}, {"skipped": reason}
    import torch

    cnn = dict(spec["cnn"])
    dataset, why = _pick_image_dataset(root)
    console.print(f"[bold]image pair[/bold]: {cnn['arch']} on {why}")
    methods = sorted({CNN_COLUMNS[c][0] for c in columns}, reverse=True)  # supervised first
    out: dict[str, dict] = {}
    settings: dict[str, Any] = {"dataset": dataset, "dataset_why": why, "runs": {}}
    common = {"root": root, "device": device, "seed": seed}
    old_threads = torch.get_num_threads()
    if spec.get("threads"):
        torch.set_num_threads(int(spec["threads"]))
    try:
        for method in methods:
            config = _train_config(method, dataset, cnn, out_dir, **common)
            result, settings["runs"][method] = _train_method(config, progress, console)
            for col in (c for c in columns if CNN_COLUMNS[c][0] == method):
                out[col] = _cnn_column(col, result.final_audit, dataset, cnn, result)
    finally:
        torch.set_num_threads(old_threads)
    settings["choices"] = dict(TRAIN_CHOICES)
    return out, settings


# ------------------------------------------------------------------------------- table 1


def _reductions(spec: dict, plan: dict, cnn_cols: list[str]) -> list[str]:
    """Return the preset's stated reductions that apply to what ran."""
    trained = {kind for kind, entry in plan.items() if not entry["only_init"]}
    ran = {*trained, "all"} | ({"cnn"} if cnn_cols else set())
    given = spec.get("reductions") or {}
    if isinstance(given, dict):
        return [text for part, text in given.items() if part in ran]
    return list(given)


def _run_columns(columns, spec, out_dir, seed, root, device, progress) -> tuple[dict, dict, dict]:
    """Run the requested columns; return them, the settings used and the synthetic plan."""
    console = progress_console(progress)
    result_columns: dict[str, dict] = {}
    settings: dict[str, Any] = {"seed": int(seed), "device": device}
    plan = _synthetic_plan(columns, spec)
    if plan:
        cols, settings["synthetic"] = _run_synthetic(
            plan, spec, out_dir, seed, device, progress, console
        )
        result_columns.update(cols)
    cnn_cols = [c for c in columns if c in CNN_COLUMNS]
    if cnn_cols:
        cols, settings["cnn"] = _run_cnn(
            cnn_cols, spec, out_dir, seed, root, device, progress, console
        )
        result_columns.update(cols)
    return result_columns, settings, plan


def _result(name, spec, columns, result_columns, settings, plan, seconds) -> dict:
    """Assemble what ``table1.json`` holds (JSON-ready)."""
    from .._version import __version__
    from ..datasets.synthetic import CHOICES as DATA_CHOICES
    from ..train.synthetic_runs import CHOICES as SYN_CHOICES

    cnn_cols = [c for c in columns if c in CNN_COLUMNS]
    result = {
        "table": "Table 1 (unnormalised embeddings)",
        "source": CITATION,
        "tool": {"name": "gaussaudit", "version": __version__},
        "preset": {
            "name": name,
            "description": spec.get("description", ""),
            "reductions": _reductions(spec, plan, cnn_cols),
            "spec": spec,
        },
        "columns_requested": columns,
        "columns": {c: result_columns[c] for c in columns if c in result_columns},
        "paper": {c: _paper_entry(c) for c in columns},
        "inferred_reference": copy.deepcopy(INFERRED),
        "null_expectations": dict(NULL_EXPECTATIONS),
        "settings": settings,
        "choices": {"synthetic_data": DATA_CHOICES, "synthetic_training": SYN_CHOICES},
        "notes": list(TABLE1_NOTES),
        "seconds": seconds,
    }
    return json.loads(json.dumps(result, default=json_number))


def reproduce_table1(
    preset: str | dict = "quick",
    only: str | Sequence[str] | None = None,
    out_dir: str | Path = "reproduce-table1",
    *,
    seed: int = 0,
    root: str | None = None,
    device: str = "auto",
    progress: bool = True,
) -> dict:
    """Run Table 1's columns and write ``DIR/table1.json`` and ``DIR/table1.md``.

    Parameters
    ----------
    preset : {"quick", "paper"} or dict
        A name in :data:`gaussaudit.paper.PRESETS`, or a dict of the same shape
        (``synthetic``, ``cnn``, ``threads``, ``reductions``, optional ``name``).
    only : str or sequence of str, optional
        Columns to run (comma-separated or a list; default all of
        :data:`gaussaudit.paper.TABLE1_COLUMNS`).
    out_dir : path-like
        Where ``table1.json``, ``table1.md``, the synthetic JSONL logs
        (``logs/``) and the image-trainer runs (``runs/``) go. An interrupted
        image run there is continued.
    seed : int
        Seed of every run.
    root : str, optional
        Dataset root for the image pair (CIFAR-10 or Fashion-MNIST).
    device : str
        ``auto``, ``cpu``, ``cuda`` or ``mps``.
    progress : bool
        Progress bars and one line per finished run on stderr.

    Returns
    -------
    dict
        What ``table1.json`` holds: ``columns.<name>`` and ``paper.<name>``
        with ``cv``, ``ad_mean``, ``ad_pass_fraction``, ``dp_mean_pvalue``,
        ``dp_pass_fraction``, ``gaussian``, ``dataset``, ``epochs``, ``layer``
        (a column that could not run holds ``{"skipped": reason}``), the
        preset, every setting used (``settings``) and notes. Print it with
        :func:`gaussaudit.report.tables.print_table1`.

    Examples
    --------
    >>> result = reproduce_table1("quick", only="laplace_e0", out_dir="DIR")  # doctest: +SKIP
    >>> result["columns"]["laplace_e0"]["gaussian"]  # doctest: +SKIP
    True
    """
    from ..io import atomic_write_text

    name, spec = resolve_preset(preset)
    columns = parse_columns(only, TABLE1_COLUMNS)
    if only is None and spec.get("cnn", {}).get("arch") != "resnet18":
        columns.remove("contrastive_head")  # only ResNet-18 has a projection head here
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    ran, settings, plan = _run_columns(columns, spec, out_dir, seed, root, device, progress)
    seconds = round(time.perf_counter() - start, 1)
    result = _result(name, spec, columns, ran, settings, plan, seconds)
    atomic_write_text(out_dir / "table1.json", json.dumps(result, indent=2) + "\n")
    atomic_write_text(out_dir / "table1.md", table1_markdown(result))
    return result
