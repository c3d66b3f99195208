"""Reproduce the paper's Tables 1 and 2 and set them beside the paper's numbers.

:func:`reproduce_table1` runs

- the synthetic columns with :func:`gaussaudit.train.synthetic.train_synthetic`
  (``laplace``, ``gmm``, ``binary_e0``, ``binary_e50``, ``binary_e100``) plus the
  random-initialisation baselines ``laplace_e0`` and ``gmm_e0`` the paper does
  not report (PAPER.md §2.3: the Laplace/GMM Gaussianity is largely the
  classical CLT of a random linear map);
- the supervised / contrastive pair with the image trainer
  (:func:`gaussaudit.train.loop.train`): CIFAR-10 when it is available,
  otherwise Fashion-MNIST (the table says which). ``contrastive`` is the
  backbone (the layer ``supervised`` is read at); ``contrastive_head`` the
  projection-head output, when the architecture has one.

Two presets: ``paper`` (Appendix E.1 in full: 150/100 synthetic epochs, ResNet-18
for 100 epochs: a GPU job) and ``quick`` (finishes in about 20 minutes on a
2-core CPU: fewer Laplace epochs and a small MLP on a subset for the image pair;
every reduction is listed in the output). The result, with every setting used
and the paper's numbers in the same shape, goes to ``DIR/table1.json`` and
``DIR/table1.md``.

:func:`reproduce_table2` runs the paper's pretrained rows whose weights and data
can be loaded (:func:`gaussaudit.extract.embed`, then the same audit on the raw
and the L2-normalised embeddings) and records the others as skipped, with the
reason (a missing dataset or weights: exit-code-3 errors).
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import paper
from .errors import GaussAuditError, ResourceUnavailableError, UnknownNameError, UsageError

__all__ = [
    "CNN_COLUMNS",
    "PRESETS",
    "SYNTHETIC_COLUMNS",
    "TABLE1_COLUMNS",
    "TABLE2_ROWS",
    "parse_columns",
    "render_table1",
    "render_table2",
    "reproduce_table1",
    "reproduce_table2",
    "table1_markdown",
]

#: Synthetic columns: (run kind, epoch) with epoch an int, "mid" or "end".
SYNTHETIC_COLUMNS: dict[str, tuple[str, int | str]] = {
    "laplace_e0": ("laplace", 0),
    "laplace": ("laplace", "end"),
    "gmm_e0": ("gmm", 0),
    "gmm": ("gmm", "end"),
    "binary_e0": ("binary", 0),
    "binary_e50": ("binary", "mid"),
    "binary_e100": ("binary", "end"),
}
#: Image-trainer columns: (method, audited layer).
CNN_COLUMNS: dict[str, tuple[str, str]] = {
    "supervised": ("supervised", "backbone"),
    "contrastive": ("simclr", "backbone"),
    "contrastive_head": ("simclr", "head"),
}
TABLE1_COLUMNS = (*SYNTHETIC_COLUMNS, *CNN_COLUMNS)
TABLE2_ROWS = tuple(row["key"] for row in paper.TABLE2)

_SYN_COMMON: dict[str, Any] = {
    "d_in": 1024,
    "d_out": 256,
    "batch_size": 128,
    "lr": 1e-3,
    "temperature": 0.1,
    "loss": "infonce",
    "weight_decay": 0.0,
    "bias": True,
    "eval_epochs": 10,
}

#: Presets of :func:`reproduce_table1`; a dict of the same shape may be passed.
PRESETS: dict[str, dict[str, Any]] = {
    "paper": {
        "description": "the paper's protocol (Appendix E.1) in full; the image pair is a GPU job",
        "threads": None,
        "synthetic": {
            "laplace": {**_SYN_COMMON, "epochs": 150, "n_train": 20000, "n_test": 5000},
            "gmm": {**_SYN_COMMON, "epochs": 100, "n_train": 10000, "n_test": 10000},
            "binary": {**_SYN_COMMON, "epochs": 100, "n_train": 10000, "n_test": 10000},
        },
        "cnn": {
            "arch": "resnet18",
            "epochs": 100,
            "batch_size": 256,
            "lr": 1e-3,
            "weight_decay": 1e-4,
            "temperature": 0.1,
            "loss": "ntxent",
            "max_train_samples": None,
            "max_eval_samples": None,
            "knn_bank": 10000,
        },
        "reductions": {},
    },
    "quick": {
        "description": "a reduced run for a small CPU (about 20 minutes on 2 cores)",
        "threads": 1,
        "synthetic": {
            "laplace": {**_SYN_COMMON, "epochs": 30, "n_train": 20000, "n_test": 5000},
            "gmm": {**_SYN_COMMON, "epochs": 100, "n_train": 10000, "n_test": 10000},
            "binary": {**_SYN_COMMON, "epochs": 100, "n_train": 10000, "n_test": 10000},
        },
        "cnn": {
            "arch": "mlp",
            "epochs": 5,
            "batch_size": 256,
            "lr": 1e-3,
            "weight_decay": 1e-4,
            "temperature": 0.1,
            "loss": "ntxent",
            "max_train_samples": 30000,
            "max_eval_samples": None,
            "knn_bank": 5000,
        },
        "reductions": {
            "laplace": "laplace: 30 epochs instead of 150 (data sizes as in the paper)",
            "cnn": "supervised/contrastive: the two-layer MLP (flatten -> 512 -> ReLU -> 256) "
            "instead of ResNet-18, 5 epochs instead of 100, the first 30000 training images "
            "(the whole test set is audited)",
            "all": "torch uses one thread (a busy 2-core CPU runs the small matmuls faster so)",
        },
    },
}

_ROW_LABELS = (
    ("cv", "CV"),
    ("ad_mean", "AD avg (< 0.752)"),
    ("ad_pass_fraction", "AD % normal"),
    ("dp_mean_pvalue", "DP avg p (> 0.05)"),
    ("dp_pass_fraction", "DP % normal"),
    ("gaussian", "Gaussian?"),
)
_EXTRA_ROWS = (
    ("alignment", "alignment (pos. cos)"),
    ("uniformity_std", "neg. cos std"),
    ("epochs", "epochs"),
    ("n", "n audited"),
    ("d", "d"),
)


# ----------------------------------------------------------------------------- helpers


def parse_columns(only: str | Sequence[str] | None, choices: Sequence[str]) -> list[str]:
    """Parse ``"laplace,gmm"`` (or a list) into known names, in canonical order.

    Parameters
    ----------
    only : str, sequence of str or None
        Names to keep; None or ``"all"`` keeps every choice.
    choices : sequence of str

    Returns
    -------
    list of str
    """
    if only is None:
        return list(choices)
    items = [t.strip() for t in only.split(",")] if isinstance(only, str) else list(only)
    items = [t for t in items if t]
    if items == ["all"]:
        return list(choices)
    for item in items:
        if item not in choices:
            raise UnknownNameError("column", item, (*choices, "all"))
    if not items:
        raise UsageError("no column selected")
    return [c for c in choices if c in items]


def _num(value: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    try:
        f = float(value)
    except (TypeError, ValueError):
        return value
    return f if math.isfinite(f) else None


def _resolve_preset(preset: str | dict) -> tuple[str, dict]:
    if isinstance(preset, dict):
        return str(preset.get("name", "custom")), copy.deepcopy(preset)
    if preset not in PRESETS:
        raise UnknownNameError("preset", str(preset), tuple(PRESETS))
    return preset, copy.deepcopy(PRESETS[preset])


def _console(progress: bool):
    from rich.console import Console

    return Console(stderr=True, quiet=not progress)


def _paper_entry(name: str) -> dict | None:
    if name in paper.TABLE1:
        return copy.deepcopy(paper.TABLE1[name])
    if name == "contrastive_head":
        entry = copy.deepcopy(paper.TABLE1["contrastive"])
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
    kind, which = SYNTHETIC_COLUMNS[col]
    epochs = int(settings["epochs"])
    epoch = 0 if which == 0 else epochs // 2 if which == "mid" else epochs
    m = run.at(epoch)
    data = run.settings["data"]["test"]
    extra = ""
    if kind == "gmm":
        extra = f", {data.get('n_components')} components, mean scale {data.get('mean_scale')}"
    elif kind == "binary":
        extra = f", p_one {data.get('p_one')}"
    return {
        "cv": _num(m.cv),
        "ad_mean": _num(m.ad_mean),
        "ad_pass_fraction": _num(m.ad_pass_fraction),
        "dp_mean_pvalue": _num(m.dp_mean_pvalue),
        "dp_pass_fraction": _num(m.dp_pass_fraction),
        "gaussian": m.gaussian,
        "dataset": f"synthetic:{kind} test split (n={m.n}, {settings['d_in']}-d{extra})",
        "epochs": int(epoch),
        "layer": f"linear encoder output, unnormalised ({settings['d_in']} -> {m.d})",
        "run": kind,
        "n": m.n,
        "d": m.d,
        "mean_norm": _num(m.mean_norm),
        "effective_dimension": _num(m.effective_dimension),
        "alignment": _num(m.alignment),
        "uniformity_mean": _num(m.uniformity_mean),
        "uniformity_std": _num(m.uniformity_std),
        "train_loss": _num(m.train_loss),
    }


def _run_synthetic(plan, spec, out_dir: Path, seed: int, device: str, progress: bool, console):
    from .train.synthetic import train_synthetic

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
        f = run.final
        console.print(
            f"  done in {run.seconds:.0f} s; epoch {f.epoch}: CV {_fmt(f.cv)}, "
            f"AD {_fmt(f.ad_mean)} ({_pct(f.ad_pass_fraction)}), DP {_fmt(f.dp_mean_pvalue)} "
            f"({_pct(f.dp_pass_fraction)})"
        )
    return columns, settings_out


# --------------------------------------------------------------------------------- cnn


def _pick_image_dataset(root: str | None) -> tuple[str, str]:
    from .datasets import load_dataset

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


def _cnn_column(col: str, record: dict, dataset: str, cnn: dict, result) -> dict:
    method, layer = CNN_COLUMNS[col]
    layers = record.get("layers") or {}
    # The trainer names a head-less model's only audited layer "output".
    a = layers.get(layer) or (layers.get("output") if layer == "backbone" else None)
    if a is None:
        return {"skipped": f"the {cnn['arch']} {method} model has no {layer!r} output to audit"}
    arch = "ResNet-18" if cnn["arch"] == "resnet18" else "two-layer MLP"
    where = {
        ("resnet18", "backbone"): "512-d pooled backbone features (post-ReLU)",
        ("resnet18", "head"): "projection-head output",
        ("mlp", "backbone"): "256-d MLP output (linear last layer"
        + (", before the classifier)" if method == "supervised" else ", where the loss acts)"),
        ("mlp", "head"): "classifier logits",
    }[(cnn["arch"], layer)]
    return {
        "cv": _num(a.get("cv")),
        "ad_mean": _num(a.get("ad_mean")),
        "ad_pass_fraction": _num(a.get("ad_pass")),
        "dp_mean_pvalue": _num(a.get("dp_mean_p")),
        "dp_pass_fraction": _num(a.get("dp_pass")),
        "gaussian": a.get("gaussian"),
        "dataset": f"{dataset} test split (n={a.get('n')})",
        "epochs": int(record.get("epoch", 0)),
        "layer": f"{arch} {method}: {where}, unnormalised ({a.get('d')}-d)",
        "run": str(result.run_dir),
        "n": a.get("n"),
        "d": a.get("d"),
        "mean_norm": _num(a.get("mean_norm")),
        "effective_dimension": _num(a.get("effective_dimension")),
        "knn_top1": _num(record.get("knn_top1")),
        "train_loss": _num(record.get("train_loss")),
    }


def _run_cnn(columns, spec, out_dir, seed, root, device, progress, console):
    try:
        from .train.config import TrainConfig
        from .train.loop import train
    except ImportError as err:
        reason = f"image trainer not available ({err})"
        return {c: {"skipped": reason} for c in columns}, {"skipped": reason}
    cnn = dict(spec["cnn"])
    dataset, why = _pick_image_dataset(root)
    console.print(f"[bold]image pair[/bold]: {cnn['arch']} on {why}")
    methods = sorted({CNN_COLUMNS[c][0] for c in columns}, reverse=True)  # supervised first
    out: dict[str, dict] = {}
    settings: dict[str, Any] = {"dataset": dataset, "dataset_why": why, "runs": {}}
    threads = spec.get("threads")
    import torch

    old_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        for method in methods:
            config = TrainConfig(
                method=method,
                dataset=dataset,
                root=root,
                arch=cnn["arch"],
                epochs=int(cnn["epochs"]),
                batch_size=int(cnn["batch_size"]),
                lr=float(cnn["lr"]),
                weight_decay=float(cnn["weight_decay"]),
                temperature=float(cnn["temperature"]),
                loss=str(cnn.get("loss", "ntxent")),
                device=device,
                seed=seed,
                out=str(out_dir / "runs" / f"{method}-{cnn['arch']}-{dataset}"),
                max_train_samples=cnn.get("max_train_samples"),
                max_eval_samples=cnn.get("max_eval_samples"),
                knn_bank=cnn.get("knn_bank"),
                eval_every=int(cnn["epochs"]),
            )
            resume = (Path(config.out) / "last.pt").is_file()
            console.print(
                f"  {method}: {config.epochs} epochs"
                + (" (continuing the run in DIR)" if resume else "")
            )
            start = time.perf_counter()
            result = train(config, resume=resume, progress=progress)
            record = result.final_audit
            for col in columns:
                if CNN_COLUMNS[col][0] == method:
                    out[col] = _cnn_column(col, record, dataset, cnn, result)
            settings["runs"][method] = {
                "config": result.config.to_dict(),
                "resolved": result.resolved,
                "seconds": round(time.perf_counter() - start, 1),
                "run_dir": str(result.run_dir),
            }
    finally:
        torch.set_num_threads(old_threads)
    try:
        from .train.config import CHOICES as TRAIN_CHOICES

        settings["choices"] = dict(TRAIN_CHOICES)
    except ImportError:  # pragma: no cover
        pass
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
        A name in :data:`PRESETS`, or a dict of the same shape (``synthetic``,
        ``cnn``, ``threads``, ``reductions``, optional ``name``).
    only : str or sequence of str, optional
        Columns to run (comma-separated or a list; default all of
        :data:`TABLE1_COLUMNS`).
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
        preset, every setting used (``settings``) and notes.
    """
    from .io import atomic_write_text

    name, spec = _resolve_preset(preset)
    columns = parse_columns(only, TABLE1_COLUMNS)
    if only is None and spec.get("cnn", {}).get("arch") != "resnet18":
        columns.remove("contrastive_head")  # only ResNet-18 has a projection head here
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    console = _console(progress)
    start = time.perf_counter()
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
    from . import __version__
    from .datasets.synthetic import CHOICES as DATA_CHOICES
    from .train.synthetic import CHOICES as SYN_CHOICES

    result = {
        "table": "Table 1 (unnormalised embeddings)",
        "source": paper.CITATION,
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
        "inferred_reference": copy.deepcopy(paper.INFERRED),
        "null_expectations": dict(paper.NULL_EXPECTATIONS),
        "settings": settings,
        "choices": {"synthetic_data": DATA_CHOICES, "synthetic_training": SYN_CHOICES},
        "notes": list(paper.TABLE1_NOTES),
        "seconds": round(time.perf_counter() - start, 1),
    }
    result = json.loads(json.dumps(result, default=_num))
    atomic_write_text(out_dir / "table1.json", json.dumps(result, indent=2) + "\n")
    atomic_write_text(out_dir / "table1.md", table1_markdown(result))
    return result


# ------------------------------------------------------------------------------ render


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "✓" if value else "×"
    v = float(value)
    if v != 0 and abs(v) < 10 ** -(digits - 1):
        return f"{v:.1e}"
    return f"{v:.{digits}g}" if abs(v) >= 1 else f"{v:.{digits}f}".rstrip("0").rstrip(".")


def _pct(value: Any) -> str:
    return "–" if value is None else f"{100 * float(value):.1f}%"


def _cell_text(key: str, value: Any) -> str:
    if key.endswith("pass_fraction"):
        return _pct(value)
    if key in ("epochs", "n", "d"):
        return "–" if value is None else str(int(value))
    return _fmt(value)


def _table1_rows(result: dict) -> tuple[list[str], list[tuple[str, list[str], list[str] | None]]]:
    """Columns, and per metric (label, reproduced cells, paper cells or None)."""
    cols = list(result["columns_requested"])
    compared = {k for k, _ in _ROW_LABELS} | {"epochs"}
    rows = []
    for key, label in _ROW_LABELS + _EXTRA_ROWS:
        mine, theirs = [], []
        for c in cols:
            ours = result["columns"].get(c, {"skipped": "not run"})
            ref = result["paper"].get(c)
            mine.append("skipped" if "skipped" in ours else _cell_text(key, ours.get(key)))
            theirs.append(_cell_text(key, ref.get(key)) if ref and key in ref else "–")
        rows.append((label, mine, theirs if key in compared else None))
    return cols, rows


def table1_markdown(result: dict) -> str:
    """Table 1 as Markdown: reproduced value with the paper's in parentheses.

    Parameters
    ----------
    result : dict
        What :func:`reproduce_table1` returned (or ``table1.json``).

    Returns
    -------
    str
    """
    cols, rows = _table1_rows(result)
    lines = [
        f"# Table 1 reproduced (preset {result['preset']['name']})",
        "",
        "Each cell: reproduced value (paper's value); `–` where the paper gives none. "
        "Unnormalised embeddings.",
        "",
        "| metric | " + " | ".join(cols) + " |",
        "|---|" + "---|" * len(cols),
    ]
    for label, mine, theirs in rows:
        cells = (
            mine if theirs is None else [f"{a} ({b})" for a, b in zip(mine, theirs, strict=True)]
        )
        lines.append("| " + " | ".join([label, *cells]) + " |")
    lines.append("")
    for c in cols:
        ours = result["columns"].get(c, {})
        if "skipped" in ours:
            lines.append(f"- **{c}**: skipped: {ours['skipped']}")
        elif ours:
            lines.append(f"- **{c}**: {ours.get('dataset')}; {ours.get('layer')}")
    if result["preset"]["reductions"]:
        lines += ["", "Reductions of this preset:", ""]
        lines += [f"- {r}" for r in result["preset"]["reductions"]]
    lines += ["", f"Wall time: {result['seconds']:.0f} s.", ""]
    return "\n".join(lines)


def render_table1(result: dict, console=None) -> None:
    """Print Table 1 beside the paper's numbers (rich).

    Parameters
    ----------
    result : dict
        What :func:`reproduce_table1` returned.
    console : rich.console.Console, optional
    """
    from rich.console import Console
    from rich.table import Table

    cols, rows = _table1_rows(result)
    if console is None:  # wide enough for every column header, even when piped
        needed = 26 + sum(max(len(c), 7) + 3 for c in cols)
        console = Console(width=max(Console().width, needed))
    table = Table(
        title=f"Table 1, reproduced (preset {result['preset']['name']}); "
        "dim rows: the paper's values",
    )
    table.add_column("metric", style="bold", no_wrap=True)
    for c in cols:
        table.add_column(c, justify="right", min_width=len(c))
    for label, mine, theirs in rows:
        table.add_row(label, *mine)
        if theirs is not None:
            table.add_row("  paper", *theirs, style="dim", end_section=True)
    console.print(table)
    for c in cols:
        ours = result["columns"].get(c, {})
        if "skipped" in ours:
            console.print(f"[yellow]{c}[/yellow]: skipped: {ours['skipped']}")
    cnn = result["settings"].get("cnn") or {}
    if cnn.get("dataset_why"):
        console.print(f"image pair dataset: {cnn['dataset_why']}")
    for r in result["preset"]["reductions"]:
        console.print(f"[dim]reduced: {r}[/dim]")
    console.print(f"wall time {result['seconds']:.0f} s")


# ------------------------------------------------------------------------------- table 2


def reproduce_table2(
    out_dir: str | Path = "reproduce-table2",
    *,
    root: str | None = None,
    only: str | Sequence[str] | None = None,
    imagenet_r_sketch: str | None = None,
    imagenet_r_painting: str | None = None,
    device: str = "auto",
    batch_size: int = 64,
    max_samples: int | None = None,
    progress: bool = True,
) -> dict:
    """Run the paper's Table 2 rows that can run here; record the rest as skipped.

    Parameters
    ----------
    out_dir : path-like
        Embeddings go to ``DIR/embeddings/<row>.npy`` (reused when the request
        is unchanged), the result to ``DIR/table2.json``.
    root : str, optional
        MS-COCO root (``ROOT/val2017``, ``ROOT/annotations/captions_val2017.json``).
    only : str or sequence of str, optional
        Row keys (:data:`TABLE2_ROWS`).
    imagenet_r_sketch, imagenet_r_painting : str, optional
        Image folders holding only that ImageNet-R domain (run as
        ``imagefolder:PATH``); without one, the row is skipped.
    device : str
    batch_size : int
    max_samples : int, optional
        Embed only the first N items of each dataset (a labelled reduction).
    progress : bool

    Returns
    -------
    dict
        ``rows.<key>`` with ``unnormalized`` and ``normalized`` cells (``cv``,
        ``ad_mean``, ``ad_pass_fraction``, ``dp_mean_pvalue``,
        ``dp_pass_fraction``, ``gaussian``) or ``{"skipped": reason,
        "exit_code": code}``; ``paper.<key>`` the paper's row; ``ran`` and
        ``skipped`` lists.
    """
    from .extract import embed
    from .io import atomic_write_text
    from .stats import normalize_rows
    from .train.audit import audit_matrix

    keys = parse_columns(only, TABLE2_ROWS)
    out_dir = Path(out_dir)
    (out_dir / "embeddings").mkdir(parents=True, exist_ok=True)
    console = _console(progress)
    start = time.perf_counter()
    folders = {
        "clip_image_imagenet_r_sketch": imagenet_r_sketch,
        "clip_image_imagenet_r_painting": imagenet_r_painting,
    }
    rows: dict[str, dict] = {}
    for row in paper.TABLE2:
        key = row["key"]
        if key not in keys:
            continue
        dataset, data_root = row["dataset"], root
        if key in folders:
            if not folders[key]:
                option = key.replace("clip_image_", "").replace("_", "-")
                rows[key] = {
                    "skipped": f"no ImageNet-R {row['data'].split(', ')[1]} folder given "
                    f"(pass --{option} PATH: a folder of that domain's images only)",
                    "exit_code": 3,
                }
                console.print(f"[yellow]{key}[/yellow]: skipped: {rows[key]['skipped']}")
                continue
            dataset, data_root = f"imagefolder:{folders[key]}", None
        console.print(f"[bold]{key}[/bold]: {row['encoder']} on {dataset} ({row['modality']})")
        try:
            emb = embed(
                row["encoder"],
                dataset,
                out=out_dir / "embeddings" / f"{key}.npy",
                split="test",
                modality=row["modality"],
                root=data_root,
                device=device,
                batch_size=batch_size,
                max_samples=max_samples,
                progress=progress,
            )
        except GaussAuditError as err:
            rows[key] = {"skipped": str(err), "exit_code": err.exit_code}
            console.print(f"[yellow]{key}[/yellow]: skipped (exit {err.exit_code}): {err}")
            continue
        z = np.load(emb.path)
        cells = {}
        for view, matrix in (("unnormalized", z), ("normalized", normalize_rows(z))):
            a = audit_matrix(matrix)
            cells[view] = {
                "cv": _num(a.get("cv")) if view == "unnormalized" else None,
                "ad_mean": _num(a.get("ad_mean")),
                "ad_pass_fraction": _num(a.get("ad_pass")),
                "dp_mean_pvalue": _num(a.get("dp_mean_p")),
                "dp_pass_fraction": _num(a.get("dp_pass")),
                "gaussian": a.get("gaussian"),
            }
        rows[key] = {
            **cells,
            "n": int(z.shape[0]),
            "d": int(z.shape[1]),
            "encoder": row["encoder"],
            "dataset": dataset,
            "embeddings": str(emb.path),
        }
    result = {
        "table": "Table 2 (pretrained models; unnormalized / normalized)",
        "source": paper.CITATION,
        "rows": rows,
        "paper": {r["key"]: copy.deepcopy(r) for r in paper.TABLE2 if r["key"] in keys},
        "ran": [k for k in keys if k in rows and "skipped" not in rows[k]],
        "skipped": {k: rows[k]["skipped"] for k in keys if "skipped" in rows.get(k, {})},
        "settings": {
            "root": root,
            "device": device,
            "batch_size": batch_size,
            "max_samples": max_samples,
            "audit": "per-coordinate AD (< 0.752) and DP (p > 0.05) on raw and L2-normalised "
            "embeddings; CV of the raw norms",
        },
        "notes": list(paper.TABLE2_NOTES),
        "seconds": round(time.perf_counter() - start, 1),
    }
    result = json.loads(json.dumps(result, default=_num))
    atomic_write_text(out_dir / "table2.json", json.dumps(result, indent=2) + "\n")
    return result


def render_table2(result: dict, console=None) -> None:
    """Print what ran of Table 2 beside the paper's numbers, and what was skipped.

    Parameters
    ----------
    result : dict
        What :func:`reproduce_table2` returned.
    console : rich.console.Console, optional
    """
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title="Table 2, reproduced: ours (paper); unnormalized / normalized")
    for name in ("row", "AD avg", "AD % normal", "DP avg p", "DP % normal", "Gaussian?"):
        table.add_column(name, justify="left" if name == "row" else "right")
    keys = ("ad_mean", "ad_pass_fraction", "dp_mean_pvalue", "dp_pass_fraction", "gaussian")
    for key in result["ran"]:
        ours, ref = result["rows"][key], result["paper"][key]
        cells = []
        for k in keys:
            mine = " / ".join(_cell_text(k, ours[v][k]) for v in ("unnormalized", "normalized"))
            theirs = " / ".join(_cell_text(k, ref[v][k]) for v in ("unnormalized", "normalized"))
            cells.append(f"{mine} ({theirs})")
        table.add_row(key, *cells)
    if result["ran"]:
        console.print(table)
    else:
        console.print("Table 2: no row could run here.")
    for key, why in result["skipped"].items():
        console.print(f"[yellow]{key}[/yellow]: skipped: {why}")
