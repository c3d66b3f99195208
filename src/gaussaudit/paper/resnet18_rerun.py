"""The ResNet-18 pair of Table 1 in one call: ``gaussaudit reproduce resnet18``.

:func:`reproduce_resnet18` trains the supervised and the contrastive
(SimCLR, NT-Xent, tau = 0.1) ResNet-18 from the same initialisation on real
images (CIFAR-10 when present, else Fashion-MNIST from Debian's
``dataset-fashion-mnist``) and audits the held-out embeddings of the 512-d
backbone of both and of the contrastive projection-head output (PAPER.md
§3.3), beside the paper's Table 1 values. It is
:func:`~gaussaudit.paper.table1_rerun.reproduce_table1` restricted to the
image columns, with a start banner (every reduction of the preset and its
sizing), the machine's load before and after (a shared machine runs slower),
and the extras the paper does not report (effective dimension, kNN accuracy).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import UnknownNameError
from ..progress import fmt_duration, load_average
from ._common import json_number, progress_console
from .presets import CNN_COLUMNS, resolve_preset

__all__ = ["RESNET18_PRESETS", "extras_lines", "reproduce_resnet18"]

#: Presets with a ResNet-18 image pair, and what each is sized for.
RESNET18_PRESETS = {
    "cpu": "about 10-16 minutes on 2 CPU cores (16 min measured at load 2-3; slower when loaded)",
    "paper": "the paper's protocol: 100 epochs on all images, a GPU job (hours on a CPU)",
}


def _banner(name: str, spec: dict, out_dir: Path) -> list[str]:
    cnn = spec["cnn"]
    lines = [
        f"ResNet-18 pair (supervised and SimCLR, same initialisation), preset {name}: "
        f"{RESNET18_PRESETS[name]}; runs and tables in {out_dir}/",
    ]
    reductions = (spec.get("reductions") or {}).get("cnn")
    if reductions:
        lines.append(f"reduced against the paper: {reductions}")
    threads = None
    try:
        import torch

        threads = torch.get_num_threads()
    except ImportError:
        pass
    lines.append(
        f"machine: {os.cpu_count()} CPU(s), torch threads {threads}, load average "
        f"{load_average() or '?'}; each run prints its own estimate after its first steps "
        f"(train {cnn['max_train_samples'] or 'all'} images x {cnn['epochs']} epochs per method)"
    )
    return lines


def extras_lines(result: dict) -> list[str]:
    """Describe what the table leaves out, one line per column: d_eff, kNN, loss.

    Parameters
    ----------
    result : dict
        What :func:`reproduce_resnet18` returned.

    Returns
    -------
    list of str

    Examples
    --------
    >>> extras_lines({"columns": {"contrastive": {"effective_dimension": 12.5, "d": 512,
    ...     "knn_top1": 0.7, "train_loss": 4.2, "layer": "ResNet-18 simclr: backbone"}}})
    ['contrastive: effective dimension 12.5 of 512, kNN top-1 70.0%, last train loss 4.2 (ResNet-18 simclr: backbone)']
    """  # noqa: E501
    lines = []
    for col, entry in result.get("columns", {}).items():
        if not entry or "skipped" in entry:
            continue
        d_eff, knn, loss = (entry.get(k) for k in ("effective_dimension", "knn_top1", "train_loss"))
        parts = [
            f"effective dimension {d_eff:.1f} of {entry.get('d')}"
            if d_eff is not None
            else "effective dimension –",
            f"kNN top-1 {knn:.1%}" if knn is not None else "kNN –",
            f"last train loss {loss:.3g}" if loss is not None else "no training",
        ]
        lines.append(f"{col}: {', '.join(parts)} ({entry.get('layer')})")
    return lines


def reproduce_resnet18(
    preset: str = "cpu",
    out_dir: str | os.PathLike = "reproduce-resnet18",
    *,
    seed: int = 0,
    root: str | None = None,
    device: str = "auto",
    progress: bool = True,
) -> dict:
    """Train and audit the ResNet-18 pair; write ``DIR/resnet18.json`` (and Table 1's files).

    Parameters
    ----------
    preset : {"cpu", "paper"}
        ``cpu``: reduced to finish on a small CPU (every reduction listed in
        the result and printed at the start); ``paper``: the full protocol.
    out_dir : path-like
        Output directory: ``resnet18.json``, ``table1.json``, ``table1.md`` and
        the two runs under ``runs/`` (an interrupted run there is continued).
    seed : int
        Seed of both runs (the same initialisation).
    root : str, optional
        Dataset root (CIFAR-10 or Fashion-MNIST).
    device : str
        ``auto``, ``cpu``, ``cuda`` or ``mps``.
    progress : bool
        Banner, estimates and progress on standard error.

    Returns
    -------
    dict
        What ``table1.json`` holds for the columns ``supervised``,
        ``contrastive`` (backbone) and ``contrastive_head``, plus ``machine``
        (CPU count, torch threads, load averages before and after) and
        ``wall_seconds``.

    Raises
    ------
    UnknownNameError
        For a preset without a ResNet-18 pair.

    Examples
    --------
    >>> result = reproduce_resnet18("cpu", "DIR")  # doctest: +SKIP
    >>> result["columns"]["contrastive_head"]["d"]  # doctest: +SKIP
    128
    """
    from ..io import atomic_write_text
    from .table1_rerun import reproduce_table1

    if preset not in RESNET18_PRESETS:
        raise UnknownNameError("preset", str(preset), tuple(RESNET18_PRESETS))
    name, spec = resolve_preset(preset)
    out_dir = Path(out_dir)
    console = progress_console(progress)
    for line in _banner(name, spec, out_dir):
        console.print(line, soft_wrap=True, highlight=False, markup=False)
    before = load_average()
    result = reproduce_table1(
        name,
        list(CNN_COLUMNS),
        out_dir,
        seed=seed,
        root=root,
        device=device,
        progress=progress,
    )
    threads = None
    try:
        import torch

        threads = torch.get_num_threads()
    except ImportError:
        pass
    result["machine"] = {
        "cpu_count": os.cpu_count(),
        "torch_threads": threads,
        "load_average_before": before,
        "load_average_after": load_average(),
    }
    result["wall_seconds"] = json_number(result.get("seconds"))
    atomic_write_text(out_dir / "resnet18.json", json.dumps(result, indent=2) + "\n")
    console.print(
        f"ResNet-18 pair done in {fmt_duration(result['seconds'])}",
        soft_wrap=True,
        highlight=False,
    )
    return result
