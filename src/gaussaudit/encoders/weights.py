"""One safe door for weight files: tensors only, never unpickled objects.

Every encoder family that takes a user's weights file (``--weights PATH``)
checks it here before a third-party loader (timm, open_clip,
sentence-transformers) sees it: a ``.safetensors`` file holds tensors by
construction; any other file must load with ``torch.load(weights_only=True)``.
A file that would need arbitrary pickled objects is refused with the tool's
own one-line message (exit 2), never torch's advice to retry unsafely.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import UsageError

__all__ = ["check_weights_file", "check_weights_path", "load_tensors"]

#: Files in a model directory that a loader may unpickle.
_PICKLED = (".bin", ".pt", ".pth", ".ckpt", ".pkl")


def _refusal(path: Path, exc: BaseException) -> UsageError:
    from ..io.arrays import torch_load_error

    message = str(torch_load_error(f"weights file {os.fspath(path)!r}", exc))
    return UsageError(message, option="weights")


def load_tensors(path: str | os.PathLike) -> object:
    """Load a weights file as tensors (a tensor, or nested dicts/lists of tensors).

    Parameters
    ----------
    path : path-like
        A ``.safetensors`` file, or a file saved with ``torch.save``.

    Raises
    ------
    UsageError
        The file is not a regular file, or needs pickled objects (refused,
        never executed), or is not readable as either format.
    """
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"weights file {os.fspath(p)!r} is not a regular file", option="weights")
    if p.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(p))
        except Exception as exc:  # the library's own errors for a corrupt header
            raise UsageError(
                f"weights file {os.fspath(p)!r} is not a readable .safetensors file",
                option="weights",
            ) from exc
    import torch

    try:
        return torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError, RuntimeError, EOFError, ...
        raise _refusal(p, exc) from None


def check_weights_file(path: str | os.PathLike) -> Path:
    """Check that a weights file holds tensors only; return its path.

    Examples
    --------
    >>> import tempfile, torch  # doctest: +SKIP
    >>> path = tempfile.mktemp(suffix=".pt")  # doctest: +SKIP
    >>> torch.save({"w": torch.ones(2)}, path)  # doctest: +SKIP
    >>> check_weights_file(path).suffix  # doctest: +SKIP
    '.pt'
    """
    load_tensors(path)
    return Path(path)


def check_weights_path(path: str | os.PathLike) -> Path:
    """Check a weights file, or every pickle-format file in a model directory."""
    p = Path(path)
    if p.is_dir():
        for child in sorted(p.rglob("*")):
            if child.is_file() and child.suffix in _PICKLED:
                load_tensors(child)
        return p
    return check_weights_file(p)
