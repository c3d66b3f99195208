"""Read embedding matrices from files, and write them back atomically.

:func:`load_embeddings` turns a file (``.npy``, ``.npz``, ``.pt``/``.pth``,
``.safetensors``, ``.h5``/``.hdf5``, ``.zarr``, ``.parquet`` or ``.csv``) into
an :class:`EmbeddingSet`: the validated float64 matrix together with where it
came from, what was selected from the file, and the JSON provenance sidecar
written beside it. Every matrix goes through :func:`gaussaudit.stats.validate`,
so the rules on shape, finiteness and row count are the same as everywhere else.

Heavy optional packages (torch, pyarrow, safetensors, h5py, zarr) are imported
only inside the loader that needs them; a missing one raises
:class:`~gaussaudit.errors.MissingExtraError` naming the extra to install.

:func:`save_embeddings`, :func:`atomic_write_bytes` and :func:`atomic_write_text`
write through a temporary file in the target directory followed by
:func:`os.replace`, so an interrupted run never leaves a half-written file.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import numpy as np

from .errors import InvalidEmbeddingsError, MissingExtraError, UnknownNameError, UsageError
from .stats._sampling import seeded_rows
from .stats._validation import (
    NAN_POLICIES,
    MatrixCheck,
    ValidatedMatrix,
    nonfinite_message,
    nonfinite_summary,
    validate,
)

__all__ = [
    "SUPPORTED_FORMATS",
    "EmbeddingSet",
    "atomic_write_bytes",
    "atomic_write_text",
    "from_array",
    "load_embeddings",
    "read_sidecar",
    "save_embeddings",
    "sidecar_path",
]

#: Input formats :func:`load_embeddings` reads (``.pth`` is read as ``"pt"``).
SUPPORTED_FORMATS: tuple[str, ...] = (
    "npy",
    "npz",
    "pt",
    "safetensors",
    "hdf5",
    "zarr",
    "parquet",
    "csv",
)

_EXTENSIONS: dict[str, str] = {
    ".npy": "npy",
    ".npz": "npz",
    ".pt": "pt",
    ".pth": "pt",
    ".safetensors": "safetensors",
    ".h5": "hdf5",
    ".hdf5": "hdf5",
    ".zarr": "zarr",
    ".parquet": "parquet",
    ".csv": "csv",
}
_TABLE_FORMATS = ("parquet", "csv")
_KEYED_FORMATS = ("npz", "pt", "safetensors", "hdf5", "zarr")
_RESHAPES = ("flatten",)
_LABELS_SUFFIX = ".labels.npy"
_NPY_MAGIC = b"\x93NUMPY"


@dataclass(frozen=True, eq=False)
class EmbeddingSet:
    """A validated embedding matrix and a record of where it came from.

    Attributes
    ----------
    matrix : ndarray of float64, shape (n, d)
        The validated matrix (C-contiguous, finite), from ``validate``.
    source : str
        The path as given, or ``"<array>"`` for in-memory data.
    input_format : str
        One of :data:`SUPPORTED_FORMATS`, or ``"array"``.
    input_dtype : str
        The dtype the data had in the file, before conversion to float64
        (e.g. ``"float16"``, ``"bfloat16"``).
    input_shape : tuple of int
        The shape in the file, before any reshape or row dropping.
    provenance : dict or None
        The JSON sidecar (see :func:`read_sidecar`), if there was one.
    labels : ndarray or None
        Per-row labels from ``EMB.labels.npy`` beside an ``EMB.npy`` input,
        aligned with ``matrix`` (rows dropped by ``nan_policy="omit"`` are
        dropped here too).
    check : MatrixCheck
        What validation found (dropped rows, constant columns, notes).
    selection : dict
        What was taken from the file: ``"key"`` (the array chosen in an
        ``.npz``/``.pt``/``.safetensors``/HDF5/Zarr file, else None),
        ``"columns"`` (the table columns used, else None), ``"reshape"`` and
        ``"nan_policy"``; table formats also record ``"ignored_columns"``, and
        a subsample drawn while loading records ``"rows"``
        (``{"kept", "of", "seed"}``).
    validated : ValidatedMatrix or None
        ``matrix`` with what validation found, so that
        :func:`gaussaudit.stats.audit` does not validate it again.
    """

    matrix: np.ndarray = field(repr=False)
    source: str
    input_format: str
    input_dtype: str
    input_shape: tuple[int, ...]
    provenance: dict | None = field(repr=False)
    labels: np.ndarray | None = field(repr=False)
    check: MatrixCheck = field(repr=False)
    selection: dict
    validated: ValidatedMatrix | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        """Number of rows (samples) after validation."""
        return int(self.matrix.shape[0])

    @property
    def d(self) -> int:
        """Number of columns (dimensions)."""
        return int(self.matrix.shape[1])


# --------------------------------------------------------------------------- sidecars


def sidecar_path(path: str | os.PathLike) -> Path:
    """Return the provenance sidecar path for an embeddings file.

    Parameters
    ----------
    path : str or path-like
        The embeddings file, e.g. ``run/EMB.npy``.

    Returns
    -------
    Path
        The same directory and stem with a ``.json`` suffix, e.g. ``run/EMB.json``.
    """
    return Path(path).with_suffix(".json")


def read_sidecar(path: str | os.PathLike) -> dict | None:
    """Read the JSON provenance sidecar of an embeddings file, if there is one.

    Parameters
    ----------
    path : str or path-like
        The embeddings file (``EMB.npy``); its sidecar is ``EMB.json``.

    Returns
    -------
    dict or None
        The sidecar's object, or None when no sidecar exists.

    Raises
    ------
    InvalidEmbeddingsError
        The sidecar exists but is not valid UTF-8 JSON, or is not a JSON object.
    """
    side = sidecar_path(path)
    if not side.is_file():
        return None
    try:
        text = side.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidEmbeddingsError(
            f"provenance sidecar {side} is not UTF-8 text ({exc.reason})"
        ) from None
    except OSError as exc:
        raise InvalidEmbeddingsError(
            f"cannot read provenance sidecar {side}: {exc.strerror or exc}"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidEmbeddingsError(
            f"provenance sidecar {side} is not valid JSON: {exc.msg} "
            f"(line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(data, dict):
        raise InvalidEmbeddingsError(
            f"provenance sidecar {side} must hold a JSON object, got a JSON {_json_kind(data)}"
        )
    return data


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


# --------------------------------------------------------------------------- atomic writes


def _atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` through a temporary file in its directory, then rename it."""
    target = Path(path)
    directory = target.parent
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = directory / f".{target.name}.{uuid.uuid4().hex[:12]}.tmp"
        try:
            # 0o666 lets the process umask decide the final permissions, as for
            # a file opened normally (mkstemp would force 0o600).
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        break
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    """Flush a directory entry to disk after a rename (POSIX only, best effort)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write bytes to ``path`` atomically.

    The data goes to a temporary file in the same directory, which is flushed,
    fsynced and then renamed over ``path`` with :func:`os.replace`. On any
    failure the temporary file is removed and ``path`` is left untouched.

    Parameters
    ----------
    path : str or path-like
        Destination file; its directory must exist.
    data : bytes
        The complete file contents.
    """
    _atomic_write(path, lambda fh: fh.write(data))


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write UTF-8 text to ``path`` atomically (see :func:`atomic_write_bytes`).

    Parameters
    ----------
    path : str or path-like
        Destination file; its directory must exist.
    text : str
        The complete file contents; newlines are written as given.
    """
    atomic_write_bytes(path, text.encode("utf-8"))


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def save_embeddings(
    path: str | os.PathLike,
    matrix: object,
    *,
    provenance: Mapping[str, Any] | None = None,
    labels: object = None,
) -> Path:
    """Save an embedding matrix as float32 ``.npy`` with its JSON sidecar.

    Writes ``EMB.npy`` (float32), ``EMB.json`` (the provenance, with ``"n"``
    and ``"d"`` set from the matrix) and, when ``labels`` are given,
    ``EMB.labels.npy``; each file is written atomically. A stale
    ``EMB.labels.npy`` from an earlier save is removed when ``labels`` is None,
    so it cannot be paired with the new matrix. Missing parent directories are
    created.

    Parameters
    ----------
    path : str or path-like
        Destination; must end in ``.npy``.
    matrix : array_like, shape (n, d)
        Numeric embeddings (a NumPy array, or a CPU/GPU torch tensor). NaN and
        infinite values are written as they are; loading decides what to do.
    provenance : mapping, optional
        JSON-serialisable metadata (encoder, weights, dataset, seed, ...).
        NumPy scalars and arrays, paths, tuples and sets are converted.
    labels : array_like, shape (n,), optional
        One numeric or string label per row.

    Returns
    -------
    Path
        The path of the ``.npy`` file written.

    Raises
    ------
    UsageError
        Bad path suffix, a matrix that is not 2-D numeric, labels of the wrong
        length or type, or provenance that cannot be written as JSON.
    """
    target = Path(path)
    if target.suffix.lower() != ".npy":
        raise UsageError(f"embeddings are saved as .npy; got path {os.fspath(path)!r}")
    arr = _to_numpy(matrix)
    if arr.ndim != 2 or arr.dtype.kind not in "biuf":
        raise UsageError(
            f"save_embeddings needs a 2-D numeric matrix, got dtype {arr.dtype}, shape {arr.shape}"
        )
    n, d = (int(s) for s in arr.shape)
    label_arr = None
    if labels is not None:
        label_arr = np.asarray(_to_numpy(labels))
        if label_arr.ndim != 1 or label_arr.shape[0] != n:
            raise UsageError(
                f"labels must be 1-D with one entry per row ({n}), got shape {label_arr.shape}"
            )
        if label_arr.dtype.kind not in "biufUS":
            raise UsageError(
                f"labels must be numbers or strings, got dtype {label_arr.dtype} "
                "(object arrays cannot be saved without pickle)"
            )
    if provenance is not None and not isinstance(provenance, Mapping):
        raise UsageError(f"provenance must be a mapping, got {type(provenance).__name__}")
    sidecar = {**dict(provenance or {}), "n": n, "d": d}
    try:
        sidecar_text = json.dumps(sidecar, indent=2, default=_json_default) + "\n"
    except (TypeError, ValueError) as exc:
        raise UsageError(f"provenance cannot be written as JSON: {exc}") from None

    target.parent.mkdir(parents=True, exist_ok=True)
    x32 = np.ascontiguousarray(arr, dtype=np.float32)
    _atomic_write(target, lambda fh: np.lib.format.write_array(fh, x32, allow_pickle=False))
    labels_file = _labels_path(target)
    if label_arr is not None:
        _atomic_write(
            labels_file,
            lambda fh: np.lib.format.write_array(fh, label_arr, allow_pickle=False),
        )
    else:
        labels_file.unlink(missing_ok=True)
    atomic_write_text(sidecar_path(target), sidecar_text)
    return target


# --------------------------------------------------------------------------- helpers


def _labels_path(path: Path) -> Path:
    return path.with_name(path.name[: -len(path.suffix)] + _LABELS_SUFFIX)


def _is_torch_tensor(obj: object) -> bool:
    module = type(obj).__module__ or ""
    return (module == "torch" or module.startswith("torch.")) and hasattr(obj, "detach")


def _torch_dtype_name(tensor: Any) -> str:
    return str(tensor.dtype).removeprefix("torch.")


def _tensor_to_numpy(tensor: Any) -> np.ndarray:
    """Convert a torch tensor to NumPy without importing torch here."""
    t = tensor.detach()
    if str(t.layout) != "torch.strided":  # sparse tensors
        t = t.to_dense()
    t = t.cpu()
    if _torch_dtype_name(t) == "bfloat16":
        return t.float().numpy()
    try:
        return t.numpy()
    except TypeError:
        if t.is_floating_point():  # float8 and other types NumPy lacks
            return t.float().numpy()
        raise InvalidEmbeddingsError(
            f"tensor dtype {_torch_dtype_name(t)} cannot be read as numbers"
        ) from None


def _to_numpy(data: object) -> np.ndarray:
    if _is_torch_tensor(data):
        return _tensor_to_numpy(data)
    return np.asarray(data)


def _choose_key(
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
            raise UnknownNameError("array key", key, list(keys))
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
        f"choose one with --key (available: {', '.join(keys)})"
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --------------------------------------------------------------------------- loaders
# Each returns (array, key) where key is the array chosen in a multi-array file.


def _load_npy(path: Path, name: str, mmap_threshold_bytes: int) -> np.ndarray:
    try:
        with open(path, "rb") as fh:
            magic = fh.read(len(_NPY_MAGIC))
    except OSError as exc:
        raise InvalidEmbeddingsError(f"cannot read {name}: {exc.strerror or exc}") from None
    if magic != _NPY_MAGIC:
        raise InvalidEmbeddingsError(
            f"{name} is not a NumPy .npy file (it does not start with the .npy header)"
        )
    mmap_mode = "r" if path.stat().st_size > mmap_threshold_bytes else None
    try:
        return np.load(path, allow_pickle=False, mmap_mode=mmap_mode)
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "pickled" in str(exc):
            raise InvalidEmbeddingsError(
                f"{name} holds a pickled object array, which is not loaded for safety; "
                "save embeddings as a numeric array"
            ) from None
        raise InvalidEmbeddingsError(
            f"{name} is truncated or corrupt: {_first_line(exc)}"
        ) from None
    except (OSError, EOFError) as exc:
        raise InvalidEmbeddingsError(
            f"{name} is truncated or corrupt: {_first_line(exc)}"
        ) from None


def _load_npz(path: Path, name: str, key: str | None) -> tuple[np.ndarray, str]:
    import zipfile

    try:
        npz = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise InvalidEmbeddingsError(
            f"{name} is not a readable .npz archive: {_first_line(exc)}"
        ) from None
    if not isinstance(npz, np.lib.npyio.NpzFile):  # a .npy saved under a .npz name
        raise InvalidEmbeddingsError(f"{name} is not an .npz archive")
    with npz:
        loaded: dict[str, np.ndarray] = {}

        def get(k: str) -> np.ndarray:
            if k not in loaded:
                loaded.clear()  # keep at most one candidate in memory
                try:
                    loaded[k] = npz[k]
                except ValueError as exc:
                    if "allow_pickle" in str(exc) or "pickled" in str(exc):
                        raise InvalidEmbeddingsError(
                            f"array {k!r} in {name} is a pickled object array, "
                            "which is not loaded for safety"
                        ) from None
                    raise InvalidEmbeddingsError(
                        f"array {k!r} in {name} is truncated or corrupt: {_first_line(exc)}"
                    ) from None
                except (OSError, EOFError, zipfile.BadZipFile) as exc:
                    raise InvalidEmbeddingsError(
                        f"array {k!r} in {name} is truncated or corrupt: {_first_line(exc)}"
                    ) from None
            return loaded[k]

        def is_float(k: str) -> bool:
            try:
                return get(k).dtype.kind == "f"
            except InvalidEmbeddingsError:
                return False

        chosen = _choose_key(list(npz.files), is_float, key, name=name)
        return get(chosen), chosen


def _load_pt(path: Path, name: str, key: str | None) -> tuple[np.ndarray, str | None, str]:
    try:
        import torch
    except ImportError:
        raise MissingExtraError("torch", "torch", "reading .pt/.pth files") from None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for unsafe or corrupt files
        text = str(exc)
        found = re.search(r"WeightsUnpickler error:\s*(.+)", text)
        if found and "GLOBAL" in found.group(1):
            detail = found.group(1).split(". ")[0].strip()
            raise InvalidEmbeddingsError(
                f"{name} holds objects other than tensors, which are not loaded for "
                f"safety ({detail}); save a tensor or a dict of tensors"
            ) from None
        detail = found.group(1).strip() if found else _first_line(exc)
        raise InvalidEmbeddingsError(f"{name} is not a readable PyTorch file: {detail}") from None

    if isinstance(obj, torch.Tensor):
        if key is not None:
            raise UsageError(f"{name} holds a single tensor; --key does not apply")
        return _tensor_to_numpy(obj), None, _torch_dtype_name(obj)
    if not isinstance(obj, Mapping):
        raise InvalidEmbeddingsError(
            f"{name} holds a {type(obj).__name__}; expected a tensor or a dict of tensors"
        )
    entries = {str(k): v for k, v in obj.items()}

    def is_float(k: str) -> bool:
        v = entries[k]
        return isinstance(v, torch.Tensor) and v.is_floating_point()

    chosen = _choose_key(list(entries), is_float, key, name=name)
    value = entries[chosen]
    if not isinstance(value, torch.Tensor):
        raise InvalidEmbeddingsError(
            f"entry {chosen!r} in {name} is a {type(value).__name__}, not a tensor"
        )
    return _tensor_to_numpy(value), chosen, _torch_dtype_name(value)


def _read_safetensors_header(path: Path, name: str) -> tuple[dict[str, dict], int]:
    """Return the tensor table of a .safetensors file and where its data starts.

    The format is an 8-byte little-endian header length, a JSON header, then
    the raw tensor bytes; dtypes are read here without loading any tensor.
    """
    try:
        with open(path, "rb") as fh:
            raw = fh.read(8)
            if len(raw) < 8:
                raise ValueError("file too short")
            size = int.from_bytes(raw, "little")
            if size > path.stat().st_size - 8:
                raise ValueError("header length exceeds file size")
            header = json.loads(fh.read(size).decode("utf-8"))
        if not isinstance(header, dict):
            raise ValueError("header is not a JSON object")
    except (OSError, ValueError) as exc:
        raise InvalidEmbeddingsError(
            f"{name} is not a readable .safetensors file: {_first_line(exc)}"
        ) from None
    header.pop("__metadata__", None)
    if not all(isinstance(v, dict) for v in header.values()):
        raise InvalidEmbeddingsError(
            f"{name} is not a readable .safetensors file: malformed tensor table"
        )
    return header, 8 + size


def _load_safetensors(path: Path, name: str, key: str | None) -> tuple[np.ndarray, str, str]:
    try:
        from safetensors import safe_open
    except ImportError:
        raise MissingExtraError("safetensors", "formats", "reading .safetensors files") from None
    header, data_start = _read_safetensors_header(path, name)

    def is_float(k: str) -> bool:
        return str(header[k].get("dtype", "")).startswith(("F", "BF"))

    chosen = _choose_key(list(header), is_float, key, name=name)
    st_dtype = str(header[chosen].get("dtype"))
    if st_dtype == "BF16":
        arr = _read_bf16(path, name, chosen, header[chosen], data_start=data_start)
        return arr, chosen, "bfloat16"
    try:
        with safe_open(os.fspath(path), framework="numpy") as fh:
            arr = fh.get_tensor(chosen)
    except TypeError:
        raise InvalidEmbeddingsError(
            f"tensor {chosen!r} in {name} has dtype {st_dtype}, which NumPy cannot read; "
            "convert it to float32 or float16 (e.g. with torch) and save again"
        ) from None
    except Exception as exc:  # SafetensorError is not importable from a stable place
        raise InvalidEmbeddingsError(
            f"{name} is not a readable .safetensors file: {_first_line(exc)}"
        ) from None
    return arr, chosen, str(arr.dtype)


def _read_bf16(path: Path, name: str, key: str, info: dict, *, data_start: int) -> np.ndarray:
    """Decode a bfloat16 tensor exactly: bfloat16 is the top half of a float32."""
    try:
        start, end = (int(v) for v in info["data_offsets"])
        shape = tuple(int(s) for s in info["shape"])
        count = int(np.prod(shape, dtype=np.int64))
        if end - start != 2 * count or data_start + end > path.stat().st_size:
            raise ValueError("data offsets do not match the shape or the file size")
        raw = np.fromfile(path, dtype="<u2", count=count, offset=data_start + start)
    except (KeyError, TypeError, ValueError, OSError) as exc:
        raise InvalidEmbeddingsError(
            f"tensor {key!r} in {name} is truncated or corrupt: {_first_line(exc)}"
        ) from None
    return (raw.astype(np.uint32) << 16).view(np.float32).reshape(shape)


def _parse_columns(columns: str | Sequence[str]) -> list[str]:
    if isinstance(columns, str):
        items = [c.strip() for c in columns.split(",")]
    else:
        items = [str(c) for c in columns]
    items = [c for c in items if c != ""]
    if not items:
        raise UsageError("columns is empty; give column names or prefixes such as 'emb_*'")
    return items


def _resolve_columns(requested: list[str], available: list[str]) -> list[str]:
    """Expand exact names and ``prefix*`` patterns, in request then file order."""
    chosen: list[str] = []
    for item in requested:
        if item.endswith("*"):
            prefix = item[:-1]
            matched = [c for c in available if c.startswith(prefix)]
            if not matched:
                raise UnknownNameError("column", item, available)
        elif item in available:
            matched = [item]
        else:
            raise UnknownNameError("column", item, available)
        chosen.extend(c for c in matched if c not in chosen)
    return chosen


def _select_table(
    names: list[str],
    is_numeric: Callable[[str], bool],
    describe: Callable[[str], str],
    requested: list[str] | None,
    name: str,
) -> tuple[list[str], list[str]]:
    """Return (selected columns, ignored non-numeric columns).

    ``requested`` is the already-resolved column list, or None for "all numeric".
    """
    if requested is None:
        selected = [c for c in names if is_numeric(c)]
        ignored = [c for c in names if not is_numeric(c)]
        if not selected:
            raise InvalidEmbeddingsError(
                f"{name} has no numeric columns (columns: {', '.join(names) or 'none'})"
            )
        return selected, ignored
    bad = [c for c in requested if not is_numeric(c)]
    if bad:
        shown = ", ".join(f"{c!r} ({describe(c)})" for c in bad)
        raise InvalidEmbeddingsError(f"selected column(s) of {name} are not numeric: {shown}")
    return list(requested), []


def _frame_to_numpy(frame: Any) -> np.ndarray:
    arr = frame.to_numpy()
    if arr.dtype.kind not in "biuf":  # nullable extension dtypes come back as object
        arr = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    return arr


def _pandas_numeric(series_dtype: Any) -> bool:
    from pandas.api import types as ptypes

    return bool(ptypes.is_numeric_dtype(series_dtype)) and not ptypes.is_bool_dtype(series_dtype)


def _load_parquet(
    path: Path, name: str, columns: str | Sequence[str] | None
) -> tuple[np.ndarray, list[str], list[str]]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingExtraError("pyarrow", "formats", "reading .parquet files") from None
    try:
        schema = pq.read_schema(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise InvalidEmbeddingsError(
            f"{name} is not a readable Parquet file: {_first_line(exc)}"
        ) from None
    types = {f.name: f.type for f in schema}
    names = list(types)

    def is_numeric(c: str) -> bool:
        t = types[c]
        return bool(pa.types.is_integer(t) or pa.types.is_floating(t))

    requested = None if columns is None else _resolve_columns(_parse_columns(columns), names)
    selected, ignored = _select_table(
        names, is_numeric, lambda c: f"type {types[c]}", requested, name
    )
    try:
        table = pq.read_table(path, columns=selected)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise InvalidEmbeddingsError(
            f"{name} is not a readable Parquet file: {_first_line(exc)}"
        ) from None
    return _frame_to_numpy(table.to_pandas()), selected, ignored


def _load_csv(
    path: Path, name: str, columns: str | Sequence[str] | None
) -> tuple[np.ndarray, list[str], list[str]]:
    import pandas as pd

    def read(**kwargs: Any) -> Any:
        try:
            return pd.read_csv(path, **kwargs)
        except (ValueError, OSError, UnicodeDecodeError) as exc:
            raise InvalidEmbeddingsError(
                f"{name} is not a readable CSV file: {_first_line(exc)}"
            ) from None

    requested = None
    if columns is None:
        frame = read()
    else:
        header = [str(c) for c in read(nrows=0).columns]
        requested = _resolve_columns(_parse_columns(columns), header)
        frame = read(usecols=requested)
    frame.columns = [str(c) for c in frame.columns]
    if requested is not None:
        frame = frame[requested]
    names = list(frame.columns)
    dtypes = dict(zip(names, frame.dtypes, strict=True))
    selected, ignored = _select_table(
        names,
        lambda c: _pandas_numeric(dtypes[c]),
        lambda c: f"dtype {dtypes[c]}",
        requested,
        name,
    )
    return _frame_to_numpy(frame[selected]), selected, ignored


# --------------------------------------------------------------------------- public loaders


def _check_options(reshape: str | None, nan_policy: str) -> None:
    if reshape is not None and reshape not in _RESHAPES:
        raise UsageError(f"reshape must be None or one of {_RESHAPES}, got {reshape!r}")
    if nan_policy not in NAN_POLICIES:
        raise UsageError(f"nan_policy must be one of {NAN_POLICIES}, got {nan_policy!r}")


def _apply_reshape(arr: np.ndarray, reshape: str | None, name: str) -> np.ndarray:
    if arr.ndim == 1:
        raise InvalidEmbeddingsError(
            f"{name} is 1-D (shape {arr.shape}); embeddings need one row per sample and "
            "at least one column, shape (n_samples, n_dims)"
        )
    if arr.ndim == 0:
        raise InvalidEmbeddingsError(f"{name} is a scalar, not an embedding matrix")
    if reshape == "flatten" and arr.ndim > 2:
        return np.asarray(arr).reshape(arr.shape[0], -1)
    return arr


def _finish(
    arr: np.ndarray,
    *,
    name: str,
    source: str,
    input_format: str,
    input_dtype: str,
    provenance: dict | None,
    labels: np.ndarray | None,
    selection: dict,
    max_rows: int | None = None,
    seed: int = 0,
) -> EmbeddingSet:
    input_shape = tuple(int(s) for s in arr.shape)
    arr = _apply_reshape(arr, selection["reshape"], name)
    if labels is not None and (labels.ndim != 1 or labels.shape[0] != arr.shape[0]):
        labels = None
    arr, labels, dropped = _subsample_before_conversion(
        arr, labels, selection, name=name, max_rows=max_rows, seed=seed
    )
    valid = validate(arr, name=name, nan_policy=selection["nan_policy"])
    matrix, check = valid.values, valid.check
    if labels is not None and valid.kept_rows is not None:
        labels = labels[valid.kept_rows]
    if dropped is not None:  # rows were dropped before subsampling: report the file's count
        rows, values = dropped
        check = replace(
            check,
            dropped_rows=rows,
            notes=(f"dropped {rows} row(s) holding {values} NaN/Inf value(s)", *check.notes),
        )
    return EmbeddingSet(
        matrix=matrix,
        source=source,
        input_format=input_format,
        input_dtype=input_dtype,
        input_shape=input_shape,
        provenance=provenance,
        labels=labels,
        check=check,
        selection=selection,
        validated=valid,
    )


def _subsample_before_conversion(
    arr: np.ndarray,
    labels: np.ndarray | None,
    selection: dict,
    *,
    name: str,
    max_rows: int | None,
    seed: int,
) -> tuple[np.ndarray, np.ndarray | None, tuple[int, int] | None]:
    """Keep a seeded subsample of rows before the float64 copy is made.

    The rows are the ones :func:`gaussaudit.stats.audit` would pick with
    ``max_samples=max_rows`` after validating the whole matrix, so the audit is
    unchanged; only the selected rows are read from a memory-mapped file and
    converted. The whole file is still checked for NaN/Inf, in row chunks.
    Returns the rows, their labels and, when ``nan_policy="omit"`` dropped
    rows first, ``(rows dropped, values)``.
    """
    n_file = arr.shape[0]
    if max_rows is None or arr.ndim != 2 or arr.dtype.kind not in "biuf" or n_file <= max_rows:
        return arr, labels, None
    count, first, finite_rows = nonfinite_summary(arr)
    candidates = None
    if count:
        if selection["nan_policy"] == "raise":
            raise InvalidEmbeddingsError(nonfinite_message(name, count, first))
        candidates = np.flatnonzero(finite_rows)
        if candidates.size <= max_rows:  # nothing to subsample: the usual path drops rows
            return arr, labels, None
    n_valid = n_file if candidates is None else candidates.size
    chosen = seeded_rows(n_valid, max_rows, seed)  # the rows audit(max_samples=) would keep
    rows = chosen if candidates is None else candidates[chosen]
    selection["rows"] = {"kept": int(max_rows), "of": int(n_valid), "seed": int(seed)}
    dropped = None if candidates is None else (n_file - n_valid, count)
    return np.asarray(arr[rows]), (labels[rows] if labels is not None else None), dropped


def _read_labels(path: Path) -> np.ndarray | None:
    """Load ``EMB.labels.npy`` beside ``EMB.npy``; anything unusable is ignored."""
    lp = _labels_path(path)
    if not lp.is_file():
        return None
    try:
        labels = np.load(lp, allow_pickle=False)
    except (ValueError, OSError, EOFError):
        return None
    if not isinstance(labels, np.ndarray) or labels.ndim != 1:
        return None
    return labels


def load_embeddings(
    path: str | os.PathLike,
    *,
    key: str | None = None,
    columns: str | Sequence[str] | None = None,
    reshape: str | None = None,
    nan_policy: str = "raise",
    mmap_threshold_bytes: int = 256 * 2**20,
    max_rows: int | None = None,
    seed: int = 0,
) -> EmbeddingSet:
    """Load an embedding matrix from a file and validate it.

    Parameters
    ----------
    path : str or path-like
        An ``.npy``, ``.npz``, ``.pt``/``.pth``, ``.safetensors``,
        ``.h5``/``.hdf5``, ``.parquet`` or ``.csv`` file, or a ``.zarr``
        directory; the format is chosen by extension.
    key : str, optional
        The array to use in an ``.npz``, ``.pt`` (dict of tensors),
        ``.safetensors``, HDF5 or Zarr file (a path such as ``"group/emb"`` in
        the last two). By default the only array, else the first
        floating-point one; the choice is recorded in ``selection["key"]``.
    columns : str or sequence of str, optional
        Table formats only: column names or ``prefix*`` patterns, as a list or
        a comma-separated string (``"emb_*"``). By default all numeric columns;
        non-numeric ones are skipped and listed in
        ``selection["ignored_columns"]``.
    reshape : {None, "flatten"}
        ``"flatten"`` turns an (n, ...) array into (n, prod(...)).
    nan_policy : {"raise", "omit"}
        What to do with NaN/Inf values (see ``gaussaudit.stats.validate``); with ``"omit"``
        the matching labels are dropped too.
    mmap_threshold_bytes : int
        ``.npy`` files larger than this are memory-mapped rather than read.
    max_rows : int, optional
        Keep a seeded subsample of this many rows, chosen before the float64
        copy is made (only those rows are read from a memory-mapped file).
        They are the rows ``audit(..., max_samples=max_rows, seed=seed)``
        would choose from the whole matrix, so the audit is the same; the
        whole file is still checked for NaN/Inf (in chunks). Recorded in
        ``selection["rows"]`` as ``{"kept", "of", "seed"}``.
    seed : int
        Seed of that subsample.

    Returns
    -------
    EmbeddingSet

    Raises
    ------
    InvalidEmbeddingsError
        Missing, unreadable, unsafe (pickled) or invalid input, or a bad sidecar.
    UnknownNameError
        ``key`` or a column that the file does not hold.
    UsageError
        Options that do not apply to the format, or bad option values.
    MissingExtraError
        The optional package for the format is not installed.
    """
    _check_options(reshape, nan_policy)
    p = Path(path)
    source = os.fspath(path)
    name = p.name or source
    if not p.exists():
        raise InvalidEmbeddingsError(f"no such file: {source}")
    fmt = _EXTENSIONS.get(p.suffix.lower())
    if p.is_dir() and fmt != "zarr":
        raise InvalidEmbeddingsError(f"{source} is a directory, not an embeddings file")
    if fmt == "zarr" and not p.is_dir():
        raise InvalidEmbeddingsError(f"{source} is not a Zarr store (a .zarr directory)")
    if fmt is None:
        supported = ", ".join(sorted(_EXTENSIONS))
        raise InvalidEmbeddingsError(
            f"unsupported file type {p.suffix or '(no extension)'!r} for {name}; "
            f"supported: {supported}"
        )
    if columns is not None and fmt not in _TABLE_FORMATS:
        raise UsageError(f"columns only applies to table files (.parquet, .csv), not .{fmt}")
    if key is not None and fmt not in _KEYED_FORMATS:
        raise UsageError(
            f"key only applies to .npz, .pt, .safetensors, HDF5 and Zarr files, not .{fmt}"
        )

    provenance = read_sidecar(p)
    selection: dict[str, Any] = {
        "key": None,
        "columns": None,
        "reshape": reshape,
        "nan_policy": nan_policy,
    }
    with ExitStack() as stack:  # an HDF5 file or Zarr store stays open until _finish is done
        arr, labels, input_dtype = _read_array(
            fmt,
            p,
            name,
            key=key,
            columns=columns,
            selection=selection,
            mmap_threshold_bytes=mmap_threshold_bytes,
            stack=stack,
        )
        return _finish(
            arr,
            name=name,
            source=source,
            input_format=fmt,
            input_dtype=input_dtype,
            provenance=provenance,
            labels=labels,
            selection=selection,
            max_rows=max_rows,
            seed=seed,
        )


def _read_array(
    fmt: str,
    p: Path,
    name: str,
    *,
    key: str | None,
    columns: str | Sequence[str] | None,
    selection: dict[str, Any],
    mmap_threshold_bytes: int,
    stack: ExitStack,
) -> tuple[Any, np.ndarray | None, str]:
    """Read (or open, for HDF5/Zarr) the chosen array; record choices in ``selection``.

    Returns the array, the labels beside an ``.npy`` (else None) and the dtype
    in the file.
    """
    if fmt == "npy":
        arr = _load_npy(p, name, mmap_threshold_bytes)
        return arr, _read_labels(p), str(arr.dtype)
    if fmt == "npz":
        arr, selection["key"] = _load_npz(p, name, key)
        return arr, None, str(arr.dtype)
    if fmt == "pt":
        arr, selection["key"], input_dtype = _load_pt(p, name, key)
        return arr, None, input_dtype
    if fmt == "safetensors":
        arr, selection["key"], input_dtype = _load_safetensors(p, name, key)
        return arr, None, input_dtype
    if fmt in ("hdf5", "zarr"):
        from ._array_stores import open_array

        # Unread until indexed: with max_rows only the sampled rows are read.
        stored, selection["key"] = stack.enter_context(open_array(fmt, p, name, key, _choose_key))
        return stored, None, str(stored.dtype)
    loader = _load_parquet if fmt == "parquet" else _load_csv
    arr, selected, ignored = loader(p, name, columns)
    selection["columns"] = selected
    selection["ignored_columns"] = ignored
    return arr, None, str(arr.dtype)


def from_array(
    array: object,
    *,
    source: str = "<array>",
    provenance: Mapping[str, Any] | None = None,
    reshape: str | None = None,
    nan_policy: str = "raise",
) -> EmbeddingSet:
    """Wrap an in-memory matrix (NumPy array or torch tensor) as an EmbeddingSet.

    Parameters
    ----------
    array : array_like or torch.Tensor, shape (n, d) or (n, ...)
        The embeddings. Tensors (including bfloat16 and GPU tensors) are
        converted without importing torch here.
    source : str
        What to call the data in reports and error messages.
    provenance : mapping, optional
        Metadata to carry with the matrix.
    reshape : {None, "flatten"}
        ``"flatten"`` turns an (n, ...) array into (n, prod(...)).
    nan_policy : {"raise", "omit"}
        What to do with NaN/Inf values (see ``gaussaudit.stats.validate``).

    Returns
    -------
    EmbeddingSet
    """
    _check_options(reshape, nan_policy)
    if provenance is not None and not isinstance(provenance, Mapping):
        raise UsageError(f"provenance must be a mapping, got {type(provenance).__name__}")
    if _is_torch_tensor(array):
        input_dtype = _torch_dtype_name(array)
        arr = _tensor_to_numpy(array)
    else:
        arr = np.asarray(array)
        input_dtype = str(arr.dtype)
    return _finish(
        arr,
        name=source,
        source=source,
        input_format="array",
        input_dtype=input_dtype,
        provenance=dict(provenance) if provenance is not None else None,
        labels=None,
        selection={"key": None, "columns": None, "reshape": reshape, "nan_policy": nan_policy},
    )
