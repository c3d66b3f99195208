"""The trainer's checkpoint format ``gaussaudit-checkpoint/1``, with an integrity record.

A checkpoint is one file written by ``torch.save`` (use :func:`save_checkpoint`)
holding a dict of plain Python values and tensors only, so it loads with
``torch.load(path, weights_only=True)``; nothing else is ever unpickled.

``format`` : str
    ``"gaussaudit-checkpoint/1"``.
``method`` : str
    ``"simclr"`` or ``"supervised"``.
``arch`` : str
    ``"resnet18-cifar"`` (:class:`~gaussaudit.train.backbones.ResNet18CIFAR`) or
    ``"mlp"``.
``in_channels`` : int
    Image channels the model takes (3, or 1 for Fashion-MNIST).
``model`` : dict
    ``state_dict()`` of the whole :class:`~gaussaudit.train.models.CheckpointModel`
    (keys ``backbone.*`` and ``head.*``), tensors on CPU.
``config`` : dict
    The training configuration. Keys the encoders read: ``mean`` and ``std``
    (per channel normalisation), ``image_size`` (default 32), ``dataset``.
``epoch`` : int
    Epochs completed.
``metrics`` : dict
    Anything the trainer measured. Runs store ``history`` (the per-epoch
    records), ``last``, ``train_config`` and, in ``last.pt`` only,
    ``trainer_state`` (optimizer, grad-scaler and RNG states).
``integrity`` : dict
    ``{"algorithm": "sha256", "tensors": HEX, "metadata": HEX}``: digests of
    every tensor in the file (name, dtype, shape and bytes, in sorted key order)
    and of every other value (the configuration, epoch, history, ...).
    :func:`load_checkpoint` recomputes both and refuses a file whose digests
    differ or that has none (:class:`CheckpointError`, exit code 2).

Saves are atomic: the file is written to a hidden temporary file beside the
target (``.NAME.<hex>.tmp``), flushed, fsynced and renamed over it. A save
killed half-way leaves only such a temporary file, which the trainer removes at
its next start (:func:`gaussaudit.train.runs.clean_stale_temps`).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path
from typing import Any

from ..errors import UsageError

__all__ = [
    "FORMAT",
    "CheckpointError",
    "checkpoint_digests",
    "load_checkpoint",
    "restore_trainer_state",
    "save_checkpoint",
    "save_run_checkpoint",
]

FORMAT = "gaussaudit-checkpoint/1"
INTEGRITY = "integrity"
ALGORITHM = "sha256"


class CheckpointError(UsageError):
    """A checkpoint file that fails its integrity check or cannot be verified (exit code 2)."""


def _plain(obj: Any) -> Any:
    """Convert numpy values, paths and tuples to what ``weights_only`` loading accepts."""
    import torch

    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if hasattr(obj, "tolist"):  # numpy scalars and arrays
        return obj.tolist()
    return obj


def checkpoint_digests(payload: dict) -> dict[str, str]:
    """Digest the tensors and the other values of a checkpoint payload.

    Parameters
    ----------
    payload : dict
        A checkpoint dict (its ``integrity`` entry, if any, is ignored). Keys
        are visited in sorted order, so the digests do not depend on insertion
        order.

    Returns
    -------
    dict
        ``{"algorithm": "sha256", "tensors": HEX, "metadata": HEX}``.

    Examples
    --------
    >>> import torch
    >>> a = checkpoint_digests({"model": {"w": torch.zeros(2)}, "epoch": 1})
    >>> b = checkpoint_digests({"model": {"w": torch.tensor([0.0, 1.0])}, "epoch": 1})
    >>> a["tensors"] != b["tensors"] and a["metadata"] == b["metadata"]
    True
    """
    import torch

    tensors, metadata = hashlib.sha256(), hashlib.sha256()

    def walk(obj: Any, path: str) -> None:
        if isinstance(obj, dict):
            keys = sorted((k for k in obj if path or k != INTEGRITY), key=str)
            metadata.update(f"{path}:dict:{len(keys)}\n".encode())
            for key in keys:
                walk(obj[key], f"{path}/{json.dumps(str(key))}")
        elif isinstance(obj, (list, tuple)):
            metadata.update(f"{path}:list:{len(obj)}\n".encode())
            for i, value in enumerate(obj):
                walk(value, f"{path}/{i}")
        elif isinstance(obj, torch.Tensor):
            t = obj.detach().cpu().contiguous()
            tensors.update(f"{path}:{t.dtype}:{list(t.shape)}\n".encode())
            tensors.update(memoryview(t.reshape(-1).view(torch.uint8).numpy()))
        else:
            try:
                text = json.dumps(obj, allow_nan=True)
            except TypeError:
                text = repr(obj)
            metadata.update(f"{path}={text}\n".encode())

    walk(payload, "")
    return {
        "algorithm": ALGORITHM,
        "tensors": tensors.hexdigest(),
        "metadata": metadata.hexdigest(),
    }


def _in_channels(model: Any) -> int:
    import torch

    backbone = getattr(model, "backbone", model)
    in_channels = getattr(backbone, "in_channels", None)
    if in_channels is None:
        first = next((m for m in model.modules() if isinstance(m, torch.nn.Conv2d)), None)
        in_channels = first.in_channels if first is not None else 3
    return int(in_channels)


def _write_atomically(path: Path, payload: dict) -> None:
    """Save through the one safe output path (:func:`gaussaudit.io.atomic.atomic_write`).

    A temporary ``.NAME.<hex>.tmp`` beside the target is written, fsynced and
    renamed over it; special files and symbolic links to them are refused, and
    SIGTERM/SIGHUP during the save remove the temporary file.
    """
    import torch

    from ..io.atomic import atomic_write

    atomic_write(path, lambda fh: torch.save(payload, fh), what="checkpoint")


def save_checkpoint(
    path: str | os.PathLike,
    model: Any,
    *,
    method: str,
    config: dict | None = None,
    epoch: int = 0,
    metrics: dict | None = None,
    arch: str | None = None,
) -> Path:
    """Write a ``gaussaudit-checkpoint/1`` file atomically, with its integrity record.

    Parameters
    ----------
    path : str or PathLike
        Destination (parent directories are created).
    model : torch.nn.Module
        The whole model (a :class:`~gaussaudit.train.models.CheckpointModel`).
    method : str
        ``simclr`` or ``supervised``.
    config : dict, optional
        Training configuration (plain values; numpy scalars and paths are
        converted).
    epoch : int
        Epochs completed.
    metrics : dict, optional
        Measured values (tensors allowed, e.g. optimizer states).
    arch : str, optional
        Architecture name (default ``resnet18-cifar``).

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile, torch
    >>> from gaussaudit.train.models import build_model
    >>> d = tempfile.mkdtemp()
    >>> p = save_checkpoint(f"{d}/last.pt", build_model("simclr"), method="simclr", epoch=1)
    >>> load_checkpoint(p)["epoch"]
    1
    """
    if arch is None:
        from .models import ARCH as arch
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "method": str(method),
        "arch": str(arch),
        "in_channels": _in_channels(model),
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "config": _plain(dict(config or {})),
        "epoch": int(epoch),
        "metrics": _plain(dict(metrics or {})),
    }
    payload[INTEGRITY] = checkpoint_digests(payload)
    _write_atomically(path, payload)
    return path


def _unreadable(path: Path, err: Exception) -> CheckpointError:
    if isinstance(err, pickle.UnpicklingError):
        why = (
            "it holds objects other than tensors and plain values, which are never "
            "unpickled (only files written by save_checkpoint load)"
        )
    else:
        lines = str(err).strip().splitlines()
        why = (lines[0] if lines else type(err).__name__)[:200]
    return CheckpointError(f"cannot read checkpoint {str(path)!r}: {why}")


def _verify(path: Path, ckpt: dict) -> None:
    recorded = ckpt.get(INTEGRITY)
    if not isinstance(recorded, dict) or recorded.get("algorithm") != ALGORITHM:
        raise CheckpointError(
            f"checkpoint {str(path)!r} has no {ALGORITHM} integrity record (saved by an "
            "older gaussaudit?), so it cannot be verified; re-create it with save_checkpoint"
        )
    actual = checkpoint_digests(ckpt)
    bad = [
        what
        for key, what in (("tensors", "its tensors"), ("metadata", "its settings and history"))
        if recorded.get(key) != actual[key]
    ]
    if bad:
        raise CheckpointError(
            f"checkpoint {str(path)!r} failed its integrity check: {' and '.join(bad)} differ "
            f"from the {ALGORITHM} recorded when it was saved (the file was modified or "
            "corrupted); restore it from a copy or start a new run"
        )


def load_checkpoint(path: str | os.PathLike, *, verify: bool = True) -> dict:
    """Read a checkpoint written by :func:`save_checkpoint` (``weights_only=True``).

    Parameters
    ----------
    path : str or PathLike
    verify : bool
        Recompute the digests and refuse a file that does not match its
        integrity record (default). Turn off only to inspect a damaged file.

    Returns
    -------
    dict
        The keys described in the module docstring.

    Raises
    ------
    UsageError
        When the file is missing or not a gaussaudit checkpoint.
    CheckpointError
        When it cannot be read, holds anything but tensors and plain values, has
        no integrity record, or its tensors or other values do not match it.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise UsageError(f"checkpoint {str(path)!r} does not exist")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise _unreadable(path, err) from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise UsageError(f"{str(path)!r} is not a {FORMAT} checkpoint")
    if verify:
        _verify(path, ckpt)
    return ckpt


# ---------------------------------------------------------------- trainer state


def _optimizer_state(state: dict) -> dict:
    """Undo what checkpoint serialisation did to an optimizer state dict."""
    groups = []
    for group in state["param_groups"]:
        groups.append(
            {
                k: (tuple(v) if isinstance(v, list) and k != "params" else v)
                for k, v in group.items()
            }
        )
    return {"state": {int(k): v for k, v in state["state"].items()}, "param_groups": groups}


def save_run_checkpoint(
    path: str | os.PathLike,
    *,
    model: Any,
    config: Any,
    resolved: dict,
    epoch: int,
    history: list[dict],
    optimizer: Any = None,
    scaler: Any = None,
) -> Path:
    """Write a run's checkpoint; with an ``optimizer`` also the state to resume from.

    Parameters
    ----------
    path : str or PathLike
        ``RUN_DIR/last.pt`` (with trainer state) or a kept copy
        ``checkpoint-epochNNN.pt`` (weights, config and history only).
    model : CheckpointModel
    config : TrainConfig
    resolved : dict
        What "auto" and the defaults became (``image_size``, ``mean``, ``std``,
        ``in_channels``, ``n_classes``, ``arch``, ...).
    epoch : int
        Epochs completed.
    history : list of dict
        The per-epoch records so far.
    optimizer : torch.optim.Optimizer, optional
        When given, its state, the grad scaler's and the global RNG states are
        stored under ``metrics["trainer_state"]``.
    scaler : torch.amp.GradScaler, optional

    Returns
    -------
    Path
    """
    import torch

    from .seeding import rng_state

    payload_config = {
        **config.to_dict(),
        "image_size": resolved["image_size"],
        "mean": list(resolved["mean"]),
        "std": list(resolved["std"]),
        "in_channels": resolved["in_channels"],
        "n_classes": resolved["n_classes"],
        "resolved": resolved,
    }
    metrics: dict[str, Any] = {
        "history": history,
        "last": history[-1] if history else {},
        "train_config": config.to_dict(),
    }
    if optimizer is not None:
        metrics["trainer_state"] = {
            "optimizer": optimizer.state_dict(),
            "scaler": scaler.state_dict() if scaler is not None else None,
            "rng": rng_state(torch),
        }
    return save_checkpoint(
        path,
        model,
        method=config.method,
        config=payload_config,
        epoch=epoch,
        metrics=metrics,
        arch=resolved["arch"],
    )


def restore_trainer_state(ckpt: dict, *, model: Any, optimizer: Any, scaler: Any = None) -> None:
    """Load weights, optimizer, grad-scaler and RNG states from a run's ``last.pt``.

    Parameters
    ----------
    ckpt : dict
        What :func:`load_checkpoint` returned.
    model : CheckpointModel
    optimizer : torch.optim.Optimizer
    scaler : torch.amp.GradScaler, optional
    """
    import torch

    from .seeding import set_rng_state

    model.load_state_dict(ckpt["model"])
    state = ckpt["metrics"]["trainer_state"]
    optimizer.load_state_dict(_optimizer_state(state["optimizer"]))
    if scaler is not None and state.get("scaler"):
        scaler.load_state_dict(state["scaler"])
    set_rng_state(torch, state["rng"])
