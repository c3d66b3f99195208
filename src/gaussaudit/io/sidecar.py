"""The JSON provenance sidecar beside an embeddings file, read with bounds.

``run/EMB.npy`` has its provenance in ``run/EMB.provenance.json``, a name no
report takes by accident. Files written before that name was chosen kept it in
``run/EMB.json`` (the *legacy* name): it is still read when no
``EMB.provenance.json`` exists, unless it holds a gaussaudit report or
comparison (``gaussaudit test EMB.npy --out EMB.json``), which is never
provenance. Only the new name is ever written. A sidecar is read
only when it is a regular file beside the input: a sidecar that is a symbolic
link, a FIFO or a device is refused (so a link to some other JSON file, or to
``/proc/self/environ``, is never copied into a report). Its size is capped at
:data:`MAX_SIDECAR_BYTES` and its nesting depth at :data:`MAX_JSON_DEPTH`;
integers longer than Python's 4,300-digit limit are an error, not a crash.

:func:`parse_json_bounded` is the same bounded parser, for any JSON text.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidEmbeddingsError
from ._common import PATH_CHARS, excerpt, first_line, format_bytes, special_kind

__all__ = [
    "LEGACY_SIDECAR_SUFFIX",
    "MAX_JSON_DEPTH",
    "MAX_SIDECAR_BYTES",
    "SIDECAR_SUFFIX",
    "find_sidecar",
    "is_gaussaudit_output",
    "legacy_sidecar_path",
    "parse_json_bounded",
    "read_sidecar",
    "sidecar_path",
]

#: Largest provenance sidecar read (bytes); provenance is copied into reports.
MAX_SIDECAR_BYTES = 1 << 20
#: Deepest nesting of arrays and objects accepted in a JSON input.
MAX_JSON_DEPTH = 64
#: Suffix of the provenance sidecar: ``EMB.npy`` -> ``EMB.provenance.json``.
SIDECAR_SUFFIX = ".provenance.json"
#: Suffix of the sidecar as earlier versions wrote it (``EMB.json``), still read.
LEGACY_SIDECAR_SUFFIX = ".json"

_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def sidecar_path(path: str | os.PathLike) -> Path:
    """Return the provenance sidecar path for an embeddings file (the name written).

    Parameters
    ----------
    path : str or path-like
        The embeddings file, e.g. ``run/EMB.npy``.

    Returns
    -------
    Path
        The same directory and stem with the suffix :data:`SIDECAR_SUFFIX`,
        e.g. ``run/EMB.provenance.json``.

    Examples
    --------
    >>> sidecar_path("run/EMB.npy").as_posix()
    'run/EMB.provenance.json'
    """
    return Path(path).with_suffix(SIDECAR_SUFFIX)


def legacy_sidecar_path(path: str | os.PathLike) -> Path:
    """Return the sidecar name used before ``EMB.provenance.json`` (read, never written).

    Examples
    --------
    >>> legacy_sidecar_path("run/EMB.npy").as_posix()
    'run/EMB.json'
    """
    return Path(path).with_suffix(LEGACY_SIDECAR_SUFFIX)


def is_gaussaudit_output(data: object) -> bool:
    """Whether parsed JSON is a gaussaudit report or comparison (never provenance).

    An audit report has ``schema_version`` and ``views``; the output of
    ``gaussaudit compare --report json`` has ``base``, ``new``, ``regressed``
    and ``thresholds``. Provenance sidecars have neither set of keys.

    Examples
    --------
    >>> is_gaussaudit_output({"schema_version": "1.0", "views": {}})
    True
    >>> is_gaussaudit_output({"encoder": "resnet18", "n": 10, "d": 4})
    False
    """
    if not isinstance(data, dict):
        return False
    if "schema_version" in data and "views" in data:
        return True
    return {"base", "new", "regressed", "thresholds"} <= data.keys()


def find_sidecar(path: str | os.PathLike) -> Path | None:
    """Return the sidecar file :func:`read_sidecar` reads for ``path``, if any.

    ``EMB.provenance.json`` when it exists (whatever it is: a link or a bad
    file is then refused by :func:`read_sidecar`); else the legacy
    ``EMB.json`` when it exists and is not a gaussaudit report or comparison;
    else None.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> find_sidecar(d / "emb.npy") is None
    True
    >>> _ = (d / "emb.json").write_text('{"schema_version": "1.0", "views": {}}')
    >>> find_sidecar(d / "emb.npy") is None  # a report, not provenance
    True
    >>> _ = (d / "emb.json").write_text('{"encoder": "resnet18"}')
    >>> find_sidecar(d / "emb.npy").name
    'emb.json'
    """
    new = sidecar_path(path)
    if os.path.lexists(new):
        return new
    legacy = legacy_sidecar_path(path)
    if not os.path.lexists(legacy):
        return None
    try:
        data = _read_json_file(legacy)
    except InvalidEmbeddingsError:
        return legacy  # not a readable report: read_sidecar reports the problem
    return None if data is None or is_gaussaudit_output(data) else legacy


def json_depth(raw: bytes) -> int:
    """Deepest bracket nesting in JSON text, ignoring brackets inside strings."""
    stripped = _STRINGS.sub(b"", raw)
    codes = np.frombuffer(stripped, dtype=np.uint8)
    steps = (np.isin(codes, (ord("["), ord("{")))).astype(np.int64) - np.isin(
        codes, (ord("]"), ord("}"))
    )
    return int(np.cumsum(steps).max(initial=0))


def parse_json_bounded(
    raw: bytes, *, what: str, max_bytes: int = MAX_SIDECAR_BYTES, max_depth: int = MAX_JSON_DEPTH
) -> Any:
    """Parse UTF-8 JSON with caps on size, nesting depth and integer length.

    Parameters
    ----------
    raw : bytes
        The JSON text.
    what : str
        What to call it in messages (``"provenance sidecar run/EMB.json"``).
    max_bytes, max_depth : int
        Caps; larger or deeper input is refused.

    Returns
    -------
    object
        The parsed value.

    Raises
    ------
    InvalidEmbeddingsError
        Too large, too deep, not UTF-8, not JSON, or a number too long to read.

    Examples
    --------
    >>> parse_json_bounded(b'{"a": [1, 2]}', what="example")
    {'a': [1, 2]}
    """
    if len(raw) > max_bytes:
        raise InvalidEmbeddingsError(f"{what} is larger than the {format_bytes(max_bytes)} limit")
    depth = json_depth(raw)
    if depth > max_depth:
        raise InvalidEmbeddingsError(
            f"{what} is nested {depth} levels deep; at most {max_depth} are read"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidEmbeddingsError(f"{what} is not UTF-8 text ({exc.reason})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidEmbeddingsError(
            f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except (ValueError, RecursionError) as exc:
        if "digits" in str(exc):  # Python refuses to parse integers over 4,300 digits
            raise InvalidEmbeddingsError(
                f"{what} holds an integer too long to read (over 4,300 digits)"
            ) from None
        raise InvalidEmbeddingsError(f"{what} cannot be read: {first_line(exc, 80)}") from None


def read_sidecar(path: str | os.PathLike) -> dict | None:
    """Read the JSON provenance sidecar of an embeddings file, if there is one.

    Parameters
    ----------
    path : str or path-like
        The embeddings file (``EMB.npy``); its sidecar is
        ``EMB.provenance.json``, or the legacy ``EMB.json`` when that is not a
        gaussaudit report (see :func:`find_sidecar`).

    Returns
    -------
    dict or None
        The sidecar's object, or None when no sidecar exists.

    Raises
    ------
    InvalidEmbeddingsError
        The sidecar is a symbolic link or not a regular file, is larger than
        :data:`MAX_SIDECAR_BYTES` or nested deeper than :data:`MAX_JSON_DEPTH`,
        is not valid UTF-8 JSON, or is not a JSON object.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "emb.provenance.json").write_text('{"encoder": "resnet18"}')
    >>> read_sidecar(d / "emb.npy")
    {'encoder': 'resnet18'}
    """
    side = sidecar_path(path)
    if not os.path.lexists(side):
        side = legacy_sidecar_path(path)
    data = _read_json_file(side)
    if data is None or (side != sidecar_path(path) and is_gaussaudit_output(data)):
        return None  # none, or a report written as the legacy EMB.json: not provenance
    if not isinstance(data, dict):
        shown = excerpt(os.fspath(side), PATH_CHARS)
        raise InvalidEmbeddingsError(
            f"provenance sidecar {shown} must hold a JSON object, got a JSON {_json_kind(data)}"
        )
    return data


def _read_json_file(side: Path) -> Any:
    """Parse one sidecar file with every check; None when it does not exist."""
    shown = excerpt(os.fspath(side), PATH_CHARS)
    try:
        st = os.lstat(side)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InvalidEmbeddingsError(
            f"cannot read provenance sidecar {shown}: {exc.strerror or exc}"
        ) from None
    if stat.S_ISLNK(st.st_mode):
        raise InvalidEmbeddingsError(
            f"provenance sidecar {shown} is a symbolic link; sidecars are read only when "
            "they are regular files beside the input (copy the file instead of linking it)"
        )
    if not stat.S_ISREG(st.st_mode):
        raise InvalidEmbeddingsError(
            f"provenance sidecar {shown} is {special_kind(st.st_mode)}; only regular files are read"
        )
    what = f"provenance sidecar {shown}"
    try:
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(side, flags | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):  # swapped since lstat
                raise InvalidEmbeddingsError(f"{what} is not a regular file")
            raw = fh.read(MAX_SIDECAR_BYTES + 1)
    except OSError as exc:
        raise InvalidEmbeddingsError(f"cannot read {what}: {exc.strerror or exc}") from None
    return parse_json_bounded(raw, what=what)


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"
