"""What the Table 1 rerun runs: its columns and presets.

:data:`SYNTHETIC_COLUMNS` are trained with
:func:`gaussaudit.train.synthetic_runs.train_synthetic`, :data:`CNN_COLUMNS` with the
image trainer; :data:`PRESETS` holds the protocols (``paper``: Appendix
E.1 in full; ``quick``: a reduced run for a small CPU with a two-layer MLP for
the image pair; ``cpu``: the ResNet-18 pair reduced to fit a small CPU; every
reduction stated).
"""

from __future__ import annotations

import copy
from typing import Any

from ..errors import UnknownNameError

__all__ = ["CNN_COLUMNS", "PRESETS", "SYNTHETIC_COLUMNS", "TABLE1_COLUMNS", "resolve_preset"]

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


def _cpu_preset() -> dict[str, Any]:
    """Build the ``cpu`` preset: quick's synthetic runs, the trainer's ``cpu`` ResNet-18 pair."""
    from ..train.presets import PRESETS as TRAIN_PRESETS
    from ..train.presets import REDUCTIONS as TRAIN_REDUCTIONS

    train = TRAIN_PRESETS["cpu"]
    quick = PRESETS["quick"]
    return {
        "description": "the ResNet-18 pair on a small CPU (about 10 minutes on 2 idle cores; "
        "the synthetic columns as in quick)",
        "threads": None,
        "synthetic": copy.deepcopy(quick["synthetic"]),
        "cnn": {
            "arch": "resnet18",
            "epochs": train["epochs"],
            "batch_size": train["batch_size"],
            "lr": 1e-3,
            "weight_decay": 1e-4,
            "temperature": 0.1,
            "loss": "ntxent",
            "max_train_samples": train["max_train_samples"],
            "max_eval_samples": train["max_eval_samples"],
            "knn_bank": train["knn_bank"],
            "precision": train["precision"],
            "eval_every": train["eval_every"],
        },
        "reductions": {
            "laplace": quick["reductions"]["laplace"],
            "cnn": "ResNet-18 pair: " + "; ".join(TRAIN_REDUCTIONS["cpu"]),
        },
    }


PRESETS["cpu"] = _cpu_preset()


def resolve_preset(preset: str | dict) -> tuple[str, dict]:
    """Return a preset's name and a deep copy of its spec.

    Parameters
    ----------
    preset : str or dict
        A name in :data:`PRESETS`, or a dict of the same shape (its ``name``
        key, when present, names it; otherwise ``"custom"``).

    Returns
    -------
    (str, dict)

    Raises
    ------
    UnknownNameError
        For a name not in :data:`PRESETS`.

    Examples
    --------
    >>> name, spec = resolve_preset("quick")
    >>> name, spec["cnn"]["arch"]
    ('quick', 'mlp')
    """
    if isinstance(preset, dict):
        return str(preset.get("name", "custom")), copy.deepcopy(preset)
    if preset not in PRESETS:
        raise UnknownNameError("preset", str(preset), tuple(PRESETS))
    return preset, copy.deepcopy(PRESETS[preset])
