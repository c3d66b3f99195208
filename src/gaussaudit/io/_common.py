"""Small helpers shared by the readers: safe excerpts, regular-file checks, key choice."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidEmbeddingsError, UnknownNameError

__all__ = [
    "LABELS_SUFFIX",
    "PATH_CHARS",
    "choose_key",
    "excerpt",
    "first_line",
    "format_bytes",
    "is_torch_tensor",
    "labels_path",
    "require_regular_file",
    "safe_names",
    "tensor_to_numpy",
    "to_numpy",
    "torch_dtype_name",
]

LABELS_SUFFIX = ".labels.npy"
#: Longest excerpt of a file (or of a library message about a file) quoted in an error.
EXCERPT_CHARS = 60
#: Longest path quoted in an error.
PATH_CHARS = 300
#: Longest library message quoted in an error.
MESSAGE_CHARS = 200

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]+")


def excerpt(text: object, limit: int = EXCERPT_CHARS) -> str:
    r"""Return ``text`` with control characters replaced and cut to ``limit`` characters.

    Used for anything taken from a file that goes into an error message, so a
    message never carries terminal escape sequences or a whole line of a file.

    Examples
    --------
    >>> excerpt("a\x1b[2Jb" + "x" * 100, limit=10)
    'a?[2Jbxxxx...'
    """
    cleaned = _CONTROL.sub("?", str(text))
    if len(cleaned) > limit:
        return cleaned[:limit] + "..."
    return cleaned


def first_line(exc: BaseException, limit: int = MESSAGE_CHARS) -> str:
    """Return the first line of an exception's message, sanitised and capped."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return excerpt(line, limit)


def safe_names(names: Sequence[str], *, limit: int = 30) -> list[str]:
    """Sanitised names (e.g. table columns read from a file) for an error message."""
    shown = [excerpt(n, 40) for n in names[:limit]]
    if len(names) > limit:
        shown.append(f"... ({len(names) - limit} more)")
    return shown


def format_bytes(count: int) -> str:
    """``1536`` -> ``'1.5 KiB'``."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} EiB"  # pragma: no cover


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def require_regular_file(path: Path, source: str, *, what: str = "input") -> os.stat_result:
    """Return ``os.stat(path)``; refuse anything that is not a regular file.

    FIFOs, devices and sockets are refused at once (reading one could block
    forever or never end); the path is not opened.

    Raises
    ------
    InvalidEmbeddingsError
        The path is missing or is not a regular file.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InvalidEmbeddingsError(f"no such file: {source}") from None
    except OSError as exc:
        raise InvalidEmbeddingsError(f"cannot read {source}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise InvalidEmbeddingsError(
            f"{what} {source} is {_kind(st.st_mode)}; only regular files are read"
        )
    return st


def special_kind(mode: int) -> str:
    """Describe a non-regular file for messages (``"a FIFO (named pipe)"``)."""
    return _kind(mode)


def labels_path(path: Path) -> Path:
    """``run/EMB.npy`` -> ``run/EMB.labels.npy``."""
    return path.with_name(path.name[: -len(path.suffix)] + LABELS_SUFFIX)


def is_torch_tensor(obj: object) -> bool:
    """Whether ``obj`` is a torch tensor, without importing torch."""
    module = type(obj).__module__ or ""
    return (module == "torch" or module.startswith("torch.")) and hasattr(obj, "detach")


def torch_dtype_name(tensor: Any) -> str:
    """``torch.float32`` -> ``'float32'``."""
    return str(tensor.dtype).removeprefix("torch.")


def tensor_to_numpy(tensor: Any) -> np.ndarray:
    """Convert a torch tensor to NumPy without importing torch here."""
    t = tensor.detach()
    if str(t.layout) != "torch.strided":  # sparse tensors
        t = t.to_dense()
    t = t.cpu()
    if torch_dtype_name(t) == "bfloat16":
        return t.float().numpy()
    try:
        return t.numpy()
    except TypeError:
        if t.is_floating_point():  # float8 and other types NumPy lacks
            return t.float().numpy()
        raise InvalidEmbeddingsError(
            f"tensor dtype {torch_dtype_name(t)} cannot be read as numbers"
        ) from None


def to_numpy(data: object) -> np.ndarray:
    """Return a NumPy array from an array-like or a torch tensor."""
    if is_torch_tensor(data):
        return tensor_to_numpy(data)
    return np.asarray(data)


def choose_key(
    keys: Sequence[str],
    is_float: Callable[[str], bool],
    key: str | None,
    *,
    name: str,
) -> str:
    """Pick the array to audit from a multi-array file.

    With ``key`` that key (it must exist); otherwise the only array, or the
    first floating-point one in file order.
    """
    if key is not None:
        if key not in keys:
            raise UnknownNameError("array key", key, safe_names(list(keys)))
        return key
    if not keys:
        raise InvalidEmbeddingsError(f"{name} holds no arrays")
    if len(keys) == 1:
        return keys[0]
    for k in keys:
        if is_float(k):
            return k
    raise InvalidEmbeddingsError(
        f"{name} holds {len(keys)} arrays and none is floating point; "
        f"choose one with key=NAME (available: {', '.join(safe_names(list(keys)))})",
        option="key",
    )
