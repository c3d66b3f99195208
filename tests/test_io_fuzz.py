"""Property-based fuzz of the readers: random and mutated files.

The only acceptable outcomes of ``load_embeddings`` on any bytes are a loaded
matrix or a :class:`gaussaudit.errors.GaussAuditError` (one clear line, exit 2
or 3): never another exception, a hang or a crash. Example counts are kept
small; set ``GAUSSAUDIT_FUZZ_EXAMPLES`` for a longer run.
"""

from __future__ import annotations

import io
import json
import os
import struct
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from gaussaudit.errors import GaussAuditError  # noqa: E402
from gaussaudit.io import load_embeddings  # noqa: E402

EXAMPLES = int(os.environ.get("GAUSSAUDIT_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=EXAMPLES <= 40,
)
TRIED: dict[str, int] = {}


def _valid_npy() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.random.default_rng(0).standard_normal((12, 3)).astype(np.float32))
    return buf.getvalue()


def _valid_npz() -> bytes:
    buf = io.BytesIO()
    x = np.random.default_rng(0).standard_normal((12, 3))
    np.savez(buf, emb=x, ids=np.arange(12))
    return buf.getvalue()


def _valid_npz_compressed() -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, emb=np.random.default_rng(0).standard_normal((12, 3)))
    return buf.getvalue()


def _valid_parquet() -> bytes | None:
    try:
        import pandas as pd
        import pyarrow  # noqa: F401
    except ImportError:
        return None
    buf = io.BytesIO()
    pd.DataFrame(np.random.default_rng(0).standard_normal((12, 3)), columns=list("abc")).to_parquet(
        buf
    )
    return buf.getvalue()


def _valid_h5() -> bytes | None:
    try:
        import h5py
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "e.h5"
        with h5py.File(path, "w") as fh:
            fh["emb"] = np.random.default_rng(0).standard_normal((12, 3))
        return path.read_bytes()


def _valid_safetensors() -> bytes:
    x = np.random.default_rng(0).standard_normal((12, 3)).astype(np.float32)
    bf16 = (x.view(np.uint32) >> 16).astype("<u2")
    header = {
        "emb": {"dtype": "F32", "shape": [12, 3], "data_offsets": [0, 144]},
        "half": {"dtype": "BF16", "shape": [12, 3], "data_offsets": [144, 216]},
        "__metadata__": {"k": "v"},
    }
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + x.tobytes() + bf16.tobytes()


def _valid_csv() -> bytes:
    x = np.random.default_rng(0).standard_normal((12, 3))
    lines = ["id,a,b,c"] + [f"s{i}," + ",".join(f"{v:.5f}" for v in row) for i, row in enumerate(x)]
    return ("\n".join(lines) + "\n").encode()


def _valid_sidecar() -> bytes:
    return json.dumps({"encoder": "resnet18", "layer": [1, {"a": None}], "seed": 3}).encode()


VALID = {
    ".npy": _valid_npy(),
    ".npz": _valid_npz(),
    ".safetensors": _valid_safetensors(),
    ".csv": _valid_csv(),
    ".json": _valid_sidecar(),
    ".npz-deflate": _valid_npz_compressed(),
    ".parquet": _valid_parquet(),
    ".h5": _valid_h5(),
}


@st.composite
def mutated(draw, original: bytes) -> bytes:
    """The file with a few bytes flipped, a slice cut or inserted, or a tail dropped."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "truncate", "digit"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[pos : pos + draw(st.integers(1, 16))]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "truncate":
            del data[pos:]
        else:  # a digit changed: sizes, shapes and offsets are where forgeries live
            digits = [i for i, b in enumerate(data) if 48 <= b <= 57]
            if digits:
                i = digits[pos % len(digits)]
                data[i : i + 1] = str(draw(st.integers(0, 10**12))).encode()
    return bytes(data)


def _load(ext: str, payload: bytes) -> None:
    TRIED[ext] = TRIED.get(ext, 0) + 1
    with tempfile.TemporaryDirectory() as tmp:
        if ext == ".json":  # a fuzzed sidecar beside a valid matrix
            target = Path(tmp) / "emb.npy"
            target.write_bytes(VALID[".npy"])
            Path(tmp, "emb.json").write_bytes(payload)
        else:
            target = Path(tmp) / f"emb{ext.split('-')[0]}"
            target.write_bytes(payload)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                es = load_embeddings(target, nan_policy="omit")
        except GaussAuditError as exc:
            assert "\n" not in str(exc).strip(), str(exc)
            assert len(str(exc)) < 1000
            return
        assert es.matrix.ndim == 2 and es.matrix.dtype == np.float64


def teardown_module() -> None:
    if os.environ.get("GAUSSAUDIT_FUZZ_EXAMPLES"):  # a long run reports what it tried
        print(f"\nfuzz inputs tried: {TRIED} (total {sum(TRIED.values())})")


def _needs(ext: str) -> None:
    if VALID[ext] is None:
        pytest.skip(f"no package to write {ext}")
    if ext == ".safetensors":
        pytest.importorskip("safetensors")
    if ext == ".csv":
        pytest.importorskip("pandas")


@pytest.mark.parametrize("ext", sorted(VALID))
def test_valid_seed_files_load(ext):
    _needs(ext)
    _load(ext, VALID[ext])


@pytest.mark.parametrize("ext", sorted(VALID))
def test_random_bytes(ext):
    _needs(ext)

    @FUZZ
    @given(st.binary(max_size=512))
    def run(payload: bytes) -> None:
        _load(ext, payload)

    run()


@pytest.mark.parametrize("ext", sorted(VALID))
def test_mutated_valid_files(ext):
    _needs(ext)

    @FUZZ
    @given(mutated(VALID[ext]))
    def run(payload: bytes) -> None:
        _load(ext, payload)

    run()


@pytest.mark.parametrize("ext", [".npy", ".safetensors"])
def test_random_header_prefix(ext):
    """A valid magic/length prefix followed by random bytes reaches the header parsers."""
    _needs(ext)
    prefix = VALID[ext][:10] if ext == ".npy" else VALID[ext][:8]

    @FUZZ
    @given(st.binary(max_size=256))
    def run(tail: bytes) -> None:
        _load(ext, prefix + tail)

    run()
