"""Readers for array files: ``.npy``, ``.npz``, ``.pt``/``.pth`` and ``.safetensors``.

Each header is checked against the file before anything is allocated: a
header that claims more data than the file holds is reported as truncated or
corrupt (exit 2), not as an out-of-memory error. Nothing is ever unpickled:
an object array or a PyTorch file that needs arbitrary classes is refused with
the tool's own advice (re-save as plain arrays or ``.safetensors``).
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..errors import InvalidEmbeddingsError, MissingExtraError, UsageError
from ._common import (
    choose_key,
    excerpt,
    first_line,
    format_bytes,
    labels_path,
    require_regular_file,
    tensor_to_numpy,
    torch_dtype_name,
)
from .readers import ReadRequest, ReadResult
from .sidecar import parse_json_bounded

__all__ = ["read_labels", "read_npy", "read_npz", "read_pt", "read_safetensors"]

_NPY_MAGIC = b"\x93NUMPY"
#: Largest .npy header read (NumPy's own default limit).
_MAX_NPY_HEADER = 10_000
#: Largest .safetensors JSON header read (the safetensors library's own limit).
MAX_SAFETENSORS_HEADER = 100 * 2**20
#: Deflate cannot expand data by more than about 1032:1.
_MAX_DEFLATE_RATIO = 1032

_PICKLE_ADVICE = "re-save it as a plain numeric array (np.save) or as .safetensors"


def _pickle_refusal(what: str) -> InvalidEmbeddingsError:
    return InvalidEmbeddingsError(
        f"{what} is a pickled object array; refusing to unpickle it for safety: {_PICKLE_ADVICE}"
    )


def _npy_header(fh: IO[bytes], what: str) -> tuple[tuple[int, ...], np.dtype, int]:
    """Read a .npy header: (shape, dtype, data size in bytes); the pickle check is here."""
    shape, dtype, nbytes, _ = _npy_header_order(fh, what)
    return shape, dtype, nbytes


def _npy_header_order(fh: IO[bytes], what: str) -> tuple[tuple[int, ...], np.dtype, int, bool]:
    """Read a .npy header: (shape, dtype, data size in bytes, Fortran order)."""
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(
                fh, max_header_size=_MAX_NPY_HEADER
            )
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(
                fh, max_header_size=_MAX_NPY_HEADER
            )
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except Exception as exc:  # numpy's header parser raises ValueError, TokenError, ...
        raise InvalidEmbeddingsError(f"{what} is truncated or corrupt: {first_line(exc)}") from None
    if dtype.hasobject:
        raise _pickle_refusal(what)
    count = 1
    for s in shape:
        count *= int(s)
    return tuple(int(s) for s in shape), dtype, count * dtype.itemsize, bool(fortran)


def _too_short(what: str, shape: tuple[int, ...], dtype: np.dtype, need: int, have: int) -> str:
    return (
        f"{what} is truncated or corrupt: its header declares shape {shape} {dtype} "
        f"({format_bytes(need)} of data) but only {format_bytes(max(have, 0))} follow the header"
    )


def read_npy(path: Path, request: ReadRequest) -> ReadResult:
    """Read an ``.npy`` file (read by rows on demand above ``request.mmap_threshold_bytes``)."""
    name = request.name
    st = require_regular_file(path, request.source)
    try:
        with open(path, "rb") as fh:
            if fh.read(len(_NPY_MAGIC)) != _NPY_MAGIC:
                raise InvalidEmbeddingsError(
                    f"{name} is not a NumPy .npy file (it does not start with the .npy header)"
                )
            fh.seek(0)
            shape, dtype, nbytes, fortran = _npy_header_order(fh, name)
            offset = fh.tell()
    except OSError as exc:
        raise InvalidEmbeddingsError(f"cannot read {name}: {exc.strerror or exc}") from None
    if st.st_size - offset < nbytes:
        raise InvalidEmbeddingsError(_too_short(name, shape, dtype, nbytes, st.st_size - offset))
    if st.st_size > request.mmap_threshold_bytes and shape and not fortran:
        # large files are read by rows with pread, never memory-mapped: a file
        # truncated underneath is then an error, not a SIGBUS (io/npy_rows.py)
        from .npy_rows import NpyRows

        rows = NpyRows(path, shape, dtype, offset, name)
        return ReadResult(rows, str(dtype), labels=read_labels(path))
    try:
        arr = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "pickled" in str(exc):
            raise _pickle_refusal(name) from None
        raise InvalidEmbeddingsError(f"{name} is truncated or corrupt: {first_line(exc)}") from None
    except (OSError, EOFError) as exc:
        raise InvalidEmbeddingsError(f"{name} is truncated or corrupt: {first_line(exc)}") from None
    return ReadResult(arr, str(arr.dtype), labels=read_labels(path))


def read_labels(path: Path) -> np.ndarray | None:
    """Load ``EMB.labels.npy`` beside ``EMB.npy``; anything unusable is ignored.

    Only a regular file whose header matches its size is read.
    """
    lp = labels_path(path)
    try:
        require_regular_file(lp, os.fspath(lp))
        with open(lp, "rb") as fh:
            _, _, nbytes = _npy_header(fh, lp.name)
            if os.fstat(fh.fileno()).st_size - fh.tell() < nbytes:
                return None
        labels = np.load(lp, allow_pickle=False)
    except (InvalidEmbeddingsError, ValueError, OSError, EOFError):
        return None
    if not isinstance(labels, np.ndarray) or labels.ndim != 1:
        return None
    return labels


def _check_npz_member(zf: zipfile.ZipFile, member: str, what: str) -> None:
    """Refuse a member whose header claims more data than the archive can hold."""
    try:
        info = zf.getinfo(member)
        with zf.open(info) as fh:
            shape, dtype, nbytes = _npy_header(fh, what)
            header_len = fh.tell()
    except InvalidEmbeddingsError:
        raise
    except Exception as exc:  # BadZipFile, zlib.error, NotImplementedError (compression), ...
        raise InvalidEmbeddingsError(f"{what} is truncated or corrupt: {first_line(exc)}") from None
    need = header_len + nbytes
    limit = info.compress_size * (
        1 if info.compress_type == zipfile.ZIP_STORED else _MAX_DEFLATE_RATIO
    )
    have = min(info.file_size, limit + 1024)
    if have < need:
        raise InvalidEmbeddingsError(_too_short(what, shape, dtype, nbytes, have - header_len))


def read_npz(path: Path, request: ReadRequest) -> ReadResult:
    """Read one array of an ``.npz`` archive (``request.key``, else the first float one)."""
    name = request.name
    require_regular_file(path, request.source)
    try:
        npz = np.load(path, allow_pickle=False)
    except Exception as exc:  # zipfile, zlib and struct all raise their own types
        raise InvalidEmbeddingsError(
            f"{name} is not a readable .npz archive: {first_line(exc)}"
        ) from None
    if not isinstance(npz, np.lib.npyio.NpzFile):  # a .npy saved under a .npz name
        raise InvalidEmbeddingsError(f"{name} is not an .npz archive")
    with npz:
        loaded: dict[str, np.ndarray] = {}

        def get(k: str) -> np.ndarray:
            if k not in loaded:
                loaded.clear()  # keep at most one candidate in memory
                what = f"array {excerpt(k)!r} in {name}"
                member = k if k in npz.zip.namelist() else f"{k}.npy"
                _check_npz_member(npz.zip, member, what)
                try:
                    loaded[k] = npz[k]
                except ValueError as exc:
                    if "allow_pickle" in str(exc) or "pickled" in str(exc):
                        raise _pickle_refusal(what) from None
                    raise InvalidEmbeddingsError(
                        f"{what} is truncated or corrupt: {first_line(exc)}"
                    ) from None
                except Exception as exc:  # BadZipFile, zlib.error, EOFError, ...
                    raise InvalidEmbeddingsError(
                        f"{what} is truncated or corrupt: {first_line(exc)}"
                    ) from None
            return loaded[k]

        def is_float(k: str) -> bool:
            try:
                return get(k).dtype.kind == "f"
            except InvalidEmbeddingsError:
                return False

        chosen = choose_key(list(npz.files), is_float, request.key, name=name)
        arr = get(chosen)
        return ReadResult(arr, str(arr.dtype), key=chosen)


def torch_load_error(name: str, exc: BaseException) -> InvalidEmbeddingsError:
    """Return the one-line error for a ``torch.load(weights_only=True)`` failure."""
    text = str(exc)
    if "weights_only" in text or "WeightsUnpickler" in text or "Unpickl" in type(exc).__name__:
        found = re.search(r"WeightsUnpickler error:\s*([^\n]+)", text) or re.search(
            r"([^\n]*GLOBAL[^\n]*)", text
        )
        detail = found.group(1).split(". ")[0].strip() if found else "unsupported pickle content"
        return InvalidEmbeddingsError(
            f"{name} holds objects other than tensors; refusing to unpickle them for safety "
            f"({excerpt(detail, 120)}): re-save a tensor or a dict of tensors, or use .safetensors"
        )
    return InvalidEmbeddingsError(f"{name} is not a readable PyTorch file: {first_line(exc)}")


def read_pt(path: Path, request: ReadRequest) -> ReadResult:
    """Read a tensor, or one tensor of a dict, from a ``.pt``/``.pth`` file (no pickle)."""
    name, key = request.name, request.key
    require_regular_file(path, request.source)
    try:
        import torch
    except ImportError:
        raise MissingExtraError("torch", "torch", "reading .pt/.pth files") from None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for unsafe or corrupt files
        raise torch_load_error(name, exc) from None

    if isinstance(obj, torch.Tensor):
        if key is not None:
            raise UsageError(f"{name} holds a single tensor; key=... does not apply", option="key")
        return ReadResult(tensor_to_numpy(obj), torch_dtype_name(obj))
    if not isinstance(obj, Mapping):
        raise InvalidEmbeddingsError(
            f"{name} holds a {type(obj).__name__}; expected a tensor or a dict of tensors"
        )
    entries = {str(k): v for k, v in obj.items()}

    def is_float(k: str) -> bool:
        v = entries[k]
        return isinstance(v, torch.Tensor) and v.is_floating_point()

    chosen = choose_key(list(entries), is_float, key, name=name)
    value = entries[chosen]
    if not isinstance(value, torch.Tensor):
        raise InvalidEmbeddingsError(
            f"entry {excerpt(chosen)!r} in {name} is a {type(value).__name__}, not a tensor"
        )
    return ReadResult(tensor_to_numpy(value), torch_dtype_name(value), key=chosen)


# --------------------------------------------------------------------------- safetensors

_ST_ITEMSIZE = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E5M2": 1,
    "F8_E4M3": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
}
_MAX_DIM = 2**48


def read_safetensors_header(path: Path, name: str, file_size: int) -> tuple[dict[str, dict], int]:
    """Return the tensor table of a .safetensors file and where its data starts.

    The format is an 8-byte little-endian header length, a JSON header, then
    the raw tensor bytes; dtypes are read here without loading any tensor.
    """
    what = f"{name} is not a readable .safetensors file"
    try:
        with open(path, "rb") as fh:
            raw = fh.read(8)
            if len(raw) < 8:
                raise ValueError("file too short")
            size = int.from_bytes(raw, "little")
            if size > file_size - 8:
                raise ValueError("header length exceeds file size")
            if size > MAX_SAFETENSORS_HEADER:
                raise ValueError(f"header larger than {format_bytes(MAX_SAFETENSORS_HEADER)}")
            text = fh.read(size)
    except (OSError, ValueError) as exc:
        raise InvalidEmbeddingsError(f"{what}: {first_line(exc)}") from None
    header = parse_json_bounded(
        text, what=f"the header of {name}", max_bytes=MAX_SAFETENSORS_HEADER
    )
    if not isinstance(header, dict):
        raise InvalidEmbeddingsError(f"{what}: header is not a JSON object")
    header.pop("__metadata__", None)
    if not all(isinstance(v, dict) for v in header.values()):
        raise InvalidEmbeddingsError(f"{what}: malformed tensor table")
    return header, 8 + size


def _tensor_layout(info: dict, what: str, data_size: int) -> tuple[tuple[int, ...], int, int]:
    """Check a tensor entry before anything is read: (shape, start, end) in the data section."""

    def ints(value: Any, field: str) -> list[int]:
        if not isinstance(value, list) or not all(
            type(v) is int
            for v in value  # bool is not a dimension
        ):
            raise InvalidEmbeddingsError(f"{what} is corrupt: {field} is not a list of integers")
        return value

    shape = ints(info.get("shape"), "shape")
    offsets = ints(info.get("data_offsets"), "data_offsets")
    itemsize = _ST_ITEMSIZE.get(str(info.get("dtype")))
    if itemsize is None:
        raise InvalidEmbeddingsError(
            f"{what} has dtype {excerpt(info.get('dtype'), 20)!r}, which cannot be read as numbers"
        )
    if any(s < 0 or s > _MAX_DIM for s in shape):
        raise InvalidEmbeddingsError(f"{what} is corrupt: impossible shape {shape}")
    if len(offsets) != 2 or not 0 <= offsets[0] <= offsets[1]:
        raise InvalidEmbeddingsError(f"{what} is corrupt: bad data_offsets {offsets[:4]}")
    count = 1
    for s in shape:
        count *= s
    start, end = offsets
    if end - start != count * itemsize or end > data_size:
        raise InvalidEmbeddingsError(
            f"{what} is truncated or corrupt: shape {shape} needs {format_bytes(count * itemsize)} "
            f"but its data_offsets [{start}, {end}] span {format_bytes(end - start)} of a "
            f"{format_bytes(data_size)} data section"
        )
    return tuple(shape), start, end


def read_safetensors(path: Path, request: ReadRequest) -> ReadResult:
    """Read one tensor of a ``.safetensors`` file (bfloat16 decoded exactly)."""
    name = request.name
    st = require_regular_file(path, request.source)
    try:
        from safetensors import safe_open
    except ImportError:
        raise MissingExtraError("safetensors", "formats", "reading .safetensors files") from None
    header, data_start = read_safetensors_header(path, name, st.st_size)

    def is_float(k: str) -> bool:
        return str(header[k].get("dtype", "")).startswith(("F", "BF"))

    chosen = choose_key(list(header), is_float, request.key, name=name)
    what = f"tensor {excerpt(chosen)!r} in {name}"
    shape, start, end = _tensor_layout(header[chosen], what, st.st_size - data_start)
    st_dtype = str(header[chosen].get("dtype"))
    if st_dtype == "BF16":
        try:
            raw = np.fromfile(
                path, dtype="<u2", count=(end - start) // 2, offset=data_start + start
            )
        except (OSError, ValueError) as exc:
            raise InvalidEmbeddingsError(f"{what} cannot be read: {first_line(exc)}") from None
        if raw.size * 2 != end - start:
            raise InvalidEmbeddingsError(f"{what} is truncated")
        # bfloat16 is the top half of a float32: decoded exactly.
        arr = (raw.astype(np.uint32) << 16).view(np.float32).reshape(shape)
        return ReadResult(arr, "bfloat16", key=chosen)
    try:
        with safe_open(os.fspath(path), framework="numpy") as fh:
            arr = fh.get_tensor(chosen)
    except TypeError:
        raise InvalidEmbeddingsError(
            f"{what} has dtype {st_dtype}, which NumPy cannot read; "
            "convert it to float32 or float16 (e.g. with torch) and save again"
        ) from None
    except Exception as exc:  # SafetensorError is not importable from a stable place
        raise InvalidEmbeddingsError(
            f"{name} is not a readable .safetensors file: {first_line(exc)}"
        ) from None
    return ReadResult(arr, str(arr.dtype), key=chosen)
