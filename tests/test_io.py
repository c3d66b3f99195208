from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

from gaussaudit.errors import (
    InvalidEmbeddingsError,
    MissingExtraError,
    UnknownNameError,
    UsageError,
)
from gaussaudit.io import (
    SUPPORTED_FORMATS,
    EmbeddingSet,
    atomic_write_bytes,
    atomic_write_text,
    from_array,
    legacy_sidecar_path,
    load_embeddings,
    read_sidecar,
    save_embeddings,
    sidecar_path,
)


@pytest.fixture
def x() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((20, 4)).astype(np.float32)


def _listing(directory) -> list[str]:
    return sorted(os.listdir(directory))


# --------------------------------------------------------------------------- npy


def test_npy_round_trip(tmp_path, x):
    path = tmp_path / "emb.npy"
    np.save(path, x)
    es = load_embeddings(path)
    assert isinstance(es, EmbeddingSet)
    assert es.matrix.dtype == np.float64
    np.testing.assert_array_equal(es.matrix, x.astype(np.float64))
    assert (es.n, es.d) == (20, 4)
    assert es.input_format == "npy"
    assert es.input_dtype == "float32"
    assert es.input_shape == (20, 4)
    assert es.source == str(path)
    assert es.provenance is None and es.labels is None
    assert es.selection == {"key": None, "columns": None, "reshape": None, "nan_policy": "raise"}
    assert es.check.n == 20 and es.check.d == 4


def test_supported_formats():
    assert set(SUPPORTED_FORMATS) == {
        "npy",
        "npz",
        "pt",
        "safetensors",
        "hdf5",
        "zarr",
        "parquet",
        "csv",
    }


def test_npy_read_by_rows_when_above_threshold(tmp_path, x, monkeypatch):
    # Above the threshold a .npy is not loaded whole by np.load (nor memory-mapped,
    # which would crash with SIGBUS if the file were truncated underneath): its rows
    # are read on demand with pread (io/npy_rows.py). The values are the same.
    from gaussaudit.io.npy_rows import NpyRows

    path = tmp_path / "emb.npy"
    np.save(path, x)
    seen = []
    real_load, real_getitem = np.load, NpyRows.__getitem__

    def spy(*args, **kwargs):
        out = real_load(*args, **kwargs)
        seen.append((kwargs.get("mmap_mode"), type(out)))
        return out

    def spy_rows(self, index):
        seen.append(("rows", type(self)))
        return real_getitem(self, index)

    monkeypatch.setattr(np, "load", spy)
    monkeypatch.setattr(NpyRows, "__getitem__", spy_rows)
    es = load_embeddings(path, mmap_threshold_bytes=16)
    assert ("rows", NpyRows) in seen and not any(m == "r" for m, _ in seen)
    assert not isinstance(es.matrix, (np.memmap, NpyRows))
    np.testing.assert_array_equal(es.matrix, x)

    seen.clear()
    load_embeddings(path)
    assert seen[0][0] is None and not issubclass(seen[0][1], np.memmap)


def test_npy_truncated_while_reading_is_a_clean_error(tmp_path, x):
    from gaussaudit.errors import InvalidEmbeddingsError
    from gaussaudit.io.npy_rows import NpyRows

    path = tmp_path / "emb.npy"
    np.save(path, x)
    offset = path.stat().st_size - x.nbytes  # the data ends the file
    rows = NpyRows(path, x.shape, x.dtype, offset, "emb.npy")
    np.testing.assert_array_equal(rows[5:9], x[5:9])
    np.testing.assert_array_equal(rows[np.array([9, 2, 3])], x[[9, 2, 3]])
    os.truncate(path, offset + 3 * rows.row_bytes)  # another process cuts the file short
    with pytest.raises(InvalidEmbeddingsError, match="changed while it was being read"):
        rows[np.array([1, 15])]


def test_pickled_object_npy_rejected(tmp_path):
    path = tmp_path / "obj.npy"
    np.save(path, np.array([{"a": 1}, 2], dtype=object), allow_pickle=True)
    with pytest.raises(InvalidEmbeddingsError, match="pickled") as info:
        load_embeddings(path)
    assert "\n" not in str(info.value)
    assert info.value.exit_code == 2


@pytest.mark.parametrize("keep", [20, 100, 1000])
@pytest.mark.parametrize("threshold", [0, 2**30])
def test_truncated_npy(tmp_path, keep, threshold):
    good = tmp_path / "good.npy"
    np.save(good, np.ones((100, 8)))
    path = tmp_path / "bad.npy"
    path.write_bytes(good.read_bytes()[:keep])
    with pytest.raises(InvalidEmbeddingsError, match="truncated or corrupt"):
        load_embeddings(path, mmap_threshold_bytes=threshold)


def test_not_an_npy_file(tmp_path):
    path = tmp_path / "junk.npy"
    path.write_bytes(b"hello world, not numpy")
    with pytest.raises(InvalidEmbeddingsError, match=r"not a NumPy \.npy file"):
        load_embeddings(path)


def test_missing_file(tmp_path):
    with pytest.raises(InvalidEmbeddingsError, match="no such file") as info:
        load_embeddings(tmp_path / "nope.npy")
    assert info.value.exit_code == 2


def test_directory_rejected(tmp_path):
    d = tmp_path / "dir.npy"
    d.mkdir()
    with pytest.raises(InvalidEmbeddingsError, match="directory"):
        load_embeddings(d)


def test_unknown_extension(tmp_path):
    path = tmp_path / "emb.txt"
    path.write_text("1 2 3")
    with pytest.raises(InvalidEmbeddingsError, match="unsupported") as info:
        load_embeddings(path)
    for ext in (".npy", ".npz", ".pt", ".safetensors", ".parquet", ".csv"):
        assert ext in str(info.value)


def test_columns_and_key_rejected_for_wrong_format(tmp_path, x):
    path = tmp_path / "emb.npy"
    np.save(path, x)
    with pytest.raises(UsageError, match="columns"):
        load_embeddings(path, columns="a")
    with pytest.raises(UsageError, match="key"):
        load_embeddings(path, key="a")
    with pytest.raises(UsageError, match="reshape"):
        load_embeddings(path, reshape="squeeze")
    with pytest.raises(UsageError, match="nan_policy"):
        load_embeddings(path, nan_policy="zero")


def test_nan_raise_message(tmp_path, x):
    x = x.copy()
    x[3, 2] = np.nan
    x[7, 0] = np.inf
    path = tmp_path / "emb.npy"
    np.save(path, x)
    with pytest.raises(InvalidEmbeddingsError) as info:
        load_embeddings(path)
    msg = str(info.value)
    assert "emb.npy" in msg and "2 NaN/Inf" in msg and "row 3, column 2" in msg


def test_nan_omit_drops_rows_and_labels(tmp_path, x):
    x = x.copy()
    x[3, 2] = np.nan
    x[7, 0] = np.inf
    labels = np.arange(20)
    path = save_embeddings(tmp_path / "emb.npy", x, labels=labels)
    es = load_embeddings(path, nan_policy="omit")
    assert es.n == 18 and es.check.dropped_rows == 2
    keep = np.ones(20, dtype=bool)
    keep[[3, 7]] = False
    np.testing.assert_array_equal(es.labels, labels[keep])
    np.testing.assert_array_equal(es.matrix, x[keep].astype(np.float64))
    assert es.selection["nan_policy"] == "omit"


def test_labels_loaded_and_bad_labels_ignored(tmp_path, x):
    path = tmp_path / "emb.npy"
    np.save(path, x)
    np.save(tmp_path / "emb.labels.npy", np.array(["cat", "dog"] * 10))
    es = load_embeddings(path)
    assert es.labels is not None and es.labels[1] == "dog"
    np.save(tmp_path / "emb.labels.npy", np.arange(5))  # wrong length
    assert load_embeddings(path).labels is None
    np.save(tmp_path / "emb.labels.npy", np.zeros((20, 2)))  # not 1-D
    assert load_embeddings(path).labels is None
    (tmp_path / "emb.labels.npy").write_bytes(b"garbage")
    assert load_embeddings(path).labels is None


@pytest.mark.parametrize("dtype", [np.float16, np.int32, np.int64, np.uint8, np.float64])
def test_dtypes_become_float64(tmp_path, dtype):
    data = np.arange(40).reshape(10, 4).astype(dtype)
    data[:, 1] = data[:, 1] % 7  # keep values modest for uint8/float16
    path = tmp_path / "emb.npy"
    np.save(path, data)
    es = load_embeddings(path)
    assert es.matrix.dtype == np.float64
    assert es.input_dtype == np.dtype(dtype).name
    assert es.check.input_dtype == np.dtype(dtype).name
    np.testing.assert_array_equal(es.matrix, data.astype(np.float64))


def test_3d_with_and_without_flatten(tmp_path):
    data = np.random.default_rng(1).standard_normal((10, 3, 5))
    path = tmp_path / "emb.npy"
    np.save(path, data)
    with pytest.raises(InvalidEmbeddingsError, match="reshape='flatten'"):
        load_embeddings(path)
    es = load_embeddings(path, reshape="flatten")
    assert es.matrix.shape == (10, 15)
    assert es.input_shape == (10, 3, 5)
    assert es.selection["reshape"] == "flatten"
    np.testing.assert_array_equal(es.matrix, data.reshape(10, 15))


def test_1d_rejected_clearly(tmp_path):
    path = tmp_path / "emb.npy"
    np.save(path, np.arange(20.0))
    for reshape in (None, "flatten"):
        with pytest.raises(InvalidEmbeddingsError, match="1-D"):
            load_embeddings(path, reshape=reshape)


def test_too_few_rows(tmp_path):
    path = tmp_path / "emb.npy"
    np.save(path, np.ones((3, 2)))
    with pytest.raises(InvalidEmbeddingsError, match="at least"):
        load_embeddings(path)


# --------------------------------------------------------------------------- npz


def test_npz_single_array(tmp_path, x):
    path = tmp_path / "emb.npz"
    np.savez(path, feats=x)
    es = load_embeddings(path)
    assert es.input_format == "npz" and es.selection["key"] == "feats"
    np.testing.assert_array_equal(es.matrix, x)


def test_npz_default_first_float_and_key(tmp_path, x):
    path = tmp_path / "emb.npz"
    y = x * 2
    np.savez(path, ids=np.arange(20), emb=x, other=y)
    es = load_embeddings(path)
    assert es.selection["key"] == "emb"
    np.testing.assert_array_equal(es.matrix, x)
    es = load_embeddings(path, key="other")
    assert es.selection["key"] == "other"
    np.testing.assert_array_equal(es.matrix, y)


def test_npz_unknown_key(tmp_path, x):
    path = tmp_path / "emb.npz"
    np.savez(path, emb=x, other=x)
    with pytest.raises(UnknownNameError) as info:
        load_embeddings(path, key="embs")
    msg = str(info.value)
    assert "array key" in msg and "'emb'" in msg and "other" in msg
    assert info.value.exit_code == 2


def test_npz_without_float_needs_key(tmp_path):
    path = tmp_path / "emb.npz"
    np.savez(path, a=np.arange(40).reshape(10, 4), b=np.arange(40).reshape(10, 4))
    with pytest.raises(InvalidEmbeddingsError, match="key=NAME") as info:
        load_embeddings(path)
    from gaussaudit.cli._errors import cli_message

    assert "--key NAME" in cli_message(info.value)  # the command line names its flag
    assert load_embeddings(path, key="b").selection["key"] == "b"


def test_npz_pickled_member(tmp_path, x):
    path = tmp_path / "emb.npz"
    np.savez(path, meta=np.array([{"a": 1}], dtype=object), emb=x)
    assert load_embeddings(path).selection["key"] == "emb"  # skipped by default
    with pytest.raises(InvalidEmbeddingsError, match="pickled"):
        load_embeddings(path, key="meta")


def test_npz_corrupt(tmp_path, x):
    good = tmp_path / "good.npz"
    np.savez(good, emb=x)
    path = tmp_path / "bad.npz"
    path.write_bytes(good.read_bytes()[:50])
    with pytest.raises(InvalidEmbeddingsError):
        load_embeddings(path)


# --------------------------------------------------------------------------- torch


def test_pt_tensor_and_dict(tmp_path, x):
    torch = pytest.importorskip("torch")
    t = torch.from_numpy(x)
    path = tmp_path / "emb.pt"
    torch.save(t, path)
    es = load_embeddings(path)
    assert es.input_format == "pt" and es.selection["key"] is None
    assert es.input_dtype == "float32"
    np.testing.assert_array_equal(es.matrix, x)

    path = tmp_path / "emb.pth"
    torch.save({"ids": torch.arange(20), "emb": t, "half": t.half(), "epoch": 3}, path)
    es = load_embeddings(path)
    assert es.selection["key"] == "emb"
    np.testing.assert_array_equal(es.matrix, x)
    es = load_embeddings(path, key="half")
    assert es.input_dtype == "float16"
    np.testing.assert_array_equal(es.matrix, t.half().float().numpy())
    with pytest.raises(UnknownNameError, match="array key"):
        load_embeddings(path, key="nope")
    with pytest.raises(InvalidEmbeddingsError, match="not a tensor"):
        load_embeddings(path, key="epoch")


def test_pt_bfloat16(tmp_path, x):
    torch = pytest.importorskip("torch")
    t = torch.from_numpy(x).to(torch.bfloat16)
    path = tmp_path / "emb.pt"
    torch.save({"emb": t}, path)
    es = load_embeddings(path)
    assert es.input_dtype == "bfloat16"
    np.testing.assert_array_equal(es.matrix, t.float().numpy())


def test_pt_nested_and_list_rejected(tmp_path, x):
    torch = pytest.importorskip("torch")
    path = tmp_path / "emb.pt"
    torch.save({"inner": {"emb": torch.from_numpy(x)}}, path)
    with pytest.raises(InvalidEmbeddingsError, match="not a tensor"):
        load_embeddings(path)
    torch.save([torch.from_numpy(x)], path)
    with pytest.raises(InvalidEmbeddingsError, match="expected a tensor or a dict"):
        load_embeddings(path)


class _NotATensor:
    def __init__(self) -> None:
        self.value = 1


def test_pt_pickled_class_rejected(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "emb.pt"
    torch.save({"emb": _NotATensor()}, path)
    with pytest.raises(InvalidEmbeddingsError, match="objects other than tensors") as info:
        load_embeddings(path)
    assert "\n" not in str(info.value)


def test_pt_corrupt(tmp_path):
    pytest.importorskip("torch")
    path = tmp_path / "emb.pt"
    path.write_bytes(b"definitely not a torch file")
    with pytest.raises(InvalidEmbeddingsError, match=r"emb\.pt"):
        load_embeddings(path)


def test_missing_torch_extra(tmp_path, monkeypatch):
    path = tmp_path / "emb.pt"
    path.write_bytes(b"anything")
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(MissingExtraError) as info:
        load_embeddings(path)
    assert info.value.exit_code == 3
    assert "gaussaudit[torch]" in str(info.value)


def test_missing_formats_extra(tmp_path, monkeypatch):
    pq = tmp_path / "emb.parquet"
    pq.write_bytes(b"x")
    st = tmp_path / "emb.safetensors"
    st.write_bytes(b"x")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    monkeypatch.setitem(sys.modules, "safetensors", None)
    for path, package in ((pq, "pyarrow"), (st, "safetensors")):
        with pytest.raises(MissingExtraError, match=r"gaussaudit\[formats\]") as info:
            load_embeddings(path)
        assert info.value.exit_code == 3 and info.value.package == package


def test_from_array_tensor(x):
    torch = pytest.importorskip("torch")
    es = from_array(torch.from_numpy(x).to(torch.bfloat16).requires_grad_())
    assert es.input_dtype == "bfloat16" and es.input_format == "array"
    assert es.matrix.shape == (20, 4)


# --------------------------------------------------------------------------- safetensors


def test_safetensors(tmp_path, x):
    st = pytest.importorskip("safetensors.numpy")
    path = tmp_path / "emb.safetensors"
    st.save_file({"ids": np.arange(40).reshape(20, 2), "emb": x}, path)
    es = load_embeddings(path)
    assert es.input_format == "safetensors" and es.selection["key"] == "emb"
    np.testing.assert_array_equal(es.matrix, x)
    es = load_embeddings(path, key="ids")
    assert es.input_dtype == "int64"
    with pytest.raises(UnknownNameError):
        load_embeddings(path, key="nope")


def test_safetensors_bfloat16_decoded_exactly(tmp_path, x):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    t = torch.from_numpy(x).to(torch.bfloat16)
    path = tmp_path / "emb.safetensors"
    st.save_file({"emb": t, "z": torch.zeros(3)}, path)
    es = load_embeddings(path, key="emb")
    assert es.input_dtype == "bfloat16"
    np.testing.assert_array_equal(es.matrix, t.float().numpy())


def test_safetensors_corrupt(tmp_path):
    pytest.importorskip("safetensors")
    path = tmp_path / "emb.safetensors"
    path.write_bytes(b"garbage12345")
    with pytest.raises(InvalidEmbeddingsError, match="safetensors"):
        load_embeddings(path)
    header = b'{"emb": 3}'
    path.write_bytes(len(header).to_bytes(8, "little") + header)
    with pytest.raises(InvalidEmbeddingsError, match="malformed"):
        load_embeddings(path)


# --------------------------------------------------------------------------- tables


@pytest.fixture
def frame(x):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(x, columns=[f"emb_{i}" for i in range(4)])
    df.insert(0, "id", [f"s{i}" for i in range(20)])
    df["score"] = np.arange(20)
    df["flag"] = np.arange(20) % 2 == 0
    return df


@pytest.mark.parametrize("ext", ["csv", "parquet"])
def test_table_default_numeric_columns(tmp_path, frame, ext):
    if ext == "parquet":
        pytest.importorskip("pyarrow")
    path = tmp_path / f"emb.{ext}"
    frame.to_csv(path, index=False) if ext == "csv" else frame.to_parquet(path, index=False)
    es = load_embeddings(path)
    assert es.input_format == ext
    assert es.selection["columns"] == ["emb_0", "emb_1", "emb_2", "emb_3", "score"]
    assert es.selection["ignored_columns"] == ["id", "flag"]
    assert es.d == 5


@pytest.mark.parametrize("ext", ["csv", "parquet"])
def test_table_column_selection(tmp_path, frame, x, ext):
    if ext == "parquet":
        pytest.importorskip("pyarrow")
    path = tmp_path / f"emb.{ext}"
    frame.to_csv(path, index=False) if ext == "csv" else frame.to_parquet(path, index=False)

    es = load_embeddings(path, columns="emb_*")
    assert es.selection["columns"] == ["emb_0", "emb_1", "emb_2", "emb_3"]
    np.testing.assert_allclose(es.matrix, x, rtol=1e-6)

    es = load_embeddings(path, columns="emb_2, score")
    assert es.selection["columns"] == ["emb_2", "score"]
    es = load_embeddings(path, columns=["score", "emb_*"])
    assert es.selection["columns"] == ["score", "emb_0", "emb_1", "emb_2", "emb_3"]

    with pytest.raises(InvalidEmbeddingsError, match="'id'"):
        load_embeddings(path, columns="id,emb_*")
    with pytest.raises(UnknownNameError, match="column") as info:
        load_embeddings(path, columns="emb_9")
    assert "emb_0" in str(info.value)
    with pytest.raises(UnknownNameError):
        load_embeddings(path, columns="zzz_*")
    with pytest.raises(UsageError):
        load_embeddings(path, columns=" , ")
    with pytest.raises(UsageError, match="key"):
        load_embeddings(path, key="emb")


def test_parquet_float32_round_trip(tmp_path, x):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    path = tmp_path / "emb.parquet"
    pd.DataFrame(x, columns=list("abcd")).to_parquet(path)
    es = load_embeddings(path)
    assert es.input_dtype == "float32"
    np.testing.assert_array_equal(es.matrix, x)


def test_csv_no_numeric_columns(tmp_path):
    path = tmp_path / "emb.csv"
    path.write_text("a,b\n" + "x,y\n" * 10)
    with pytest.raises(InvalidEmbeddingsError, match="no numeric columns"):
        load_embeddings(path)


def test_csv_missing_values_follow_nan_policy(tmp_path):
    rows = "\n".join(f"{i},{i * 2}" for i in range(12))
    path = tmp_path / "emb.csv"
    path.write_text("a,b\n" + rows + "\n12,\n")
    with pytest.raises(InvalidEmbeddingsError, match="NaN"):
        load_embeddings(path)
    es = load_embeddings(path, nan_policy="omit")
    assert es.n == 12 and es.check.dropped_rows == 1


def test_empty_csv(tmp_path):
    path = tmp_path / "emb.csv"
    path.write_text("")
    with pytest.raises(InvalidEmbeddingsError, match="CSV"):
        load_embeddings(path)


# --------------------------------------------------------------------------- sidecars


def test_sidecar_valid(tmp_path, x):
    path = tmp_path / "emb.npy"
    np.save(path, x)
    assert sidecar_path(path) == tmp_path / "emb.provenance.json"
    assert legacy_sidecar_path(path) == tmp_path / "emb.json"
    assert read_sidecar(path) is None
    (tmp_path / "emb.json").write_text(json.dumps({"encoder": "resnet18", "seed": 0}))
    assert read_sidecar(path) == {"encoder": "resnet18", "seed": 0}
    assert load_embeddings(path).provenance == {"encoder": "resnet18", "seed": 0}


def test_sidecar_invalid_json(tmp_path, x):
    path = tmp_path / "emb.npy"
    np.save(path, x)
    (tmp_path / "emb.json").write_text('{"encoder": ')
    with pytest.raises(InvalidEmbeddingsError, match="not valid JSON") as info:
        read_sidecar(path)
    assert "emb.json" in str(info.value)
    with pytest.raises(InvalidEmbeddingsError, match="not valid JSON"):
        load_embeddings(path)


def test_sidecar_not_object(tmp_path):
    path = tmp_path / "emb.npy"
    (tmp_path / "emb.json").write_text("[1, 2, 3]")
    with pytest.raises(InvalidEmbeddingsError, match="JSON object, got a JSON array"):
        read_sidecar(path)


# --------------------------------------------------------------------------- writing


def test_save_embeddings_round_trip(tmp_path):
    data = np.random.default_rng(2).standard_normal((12, 3))
    prov = {"encoder": "x", "seed": np.int64(3), "dims": (1, 2)}
    out = save_embeddings(
        tmp_path / "run" / "emb.npy", data, provenance=prov, labels=list("abcdefghijkl")
    )
    assert out == tmp_path / "run" / "emb.npy"
    assert _listing(tmp_path / "run") == ["emb.labels.npy", "emb.npy", "emb.provenance.json"]
    assert np.load(out).dtype == np.float32
    side = json.loads((tmp_path / "run" / "emb.provenance.json").read_text())
    assert side == {"encoder": "x", "seed": 3, "dims": [1, 2], "n": 12, "d": 3}
    es = load_embeddings(out)
    np.testing.assert_array_equal(es.matrix, data.astype(np.float32))
    assert es.provenance == side
    assert list(es.labels) == list("abcdefghijkl")

    # saving again without labels removes the stale labels file
    save_embeddings(out, data[:10])
    assert _listing(tmp_path / "run") == ["emb.npy", "emb.provenance.json"]


def test_save_embeddings_rejects_bad_input(tmp_path, x):
    with pytest.raises(UsageError, match=r"\.npy"):
        save_embeddings(tmp_path / "emb.csv", x)
    with pytest.raises(UsageError, match="2-D"):
        save_embeddings(tmp_path / "emb.npy", x[0])
    with pytest.raises(UsageError, match="labels"):
        save_embeddings(tmp_path / "emb.npy", x, labels=np.arange(3))
    with pytest.raises(UsageError, match="JSON"):
        save_embeddings(tmp_path / "emb.npy", x, provenance={"f": object()})
    assert _listing(tmp_path) == []


def test_save_failure_leaves_nothing(tmp_path, x, monkeypatch):
    def boom(src, dst):
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk on fire"):
        save_embeddings(tmp_path / "emb.npy", x, provenance={"a": 1})
    assert _listing(tmp_path) == []


def test_atomic_write_failure_keeps_old_file(tmp_path, monkeypatch):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "old")

    def failing_fsync(fd):
        raise OSError("fsync failed")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="fsync failed"):
        atomic_write_bytes(target, b"new")
    assert target.read_text() == "old"
    assert _listing(tmp_path) == ["out.txt"]


def test_atomic_write_text_and_bytes(tmp_path):
    target = tmp_path / "a.txt"
    atomic_write_text(target, "héllo\n")
    assert target.read_bytes() == "héllo\n".encode()
    atomic_write_bytes(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert _listing(tmp_path) == ["a.txt"]


def test_from_array(x):
    es = from_array(x, provenance={"k": 1})
    assert es.source == "<array>" and es.input_format == "array"
    assert es.provenance == {"k": 1} and es.labels is None
    np.testing.assert_array_equal(es.matrix, x)
    es = from_array(np.ones((10, 2, 2)) * np.arange(10)[:, None, None], reshape="flatten")
    assert es.matrix.shape == (10, 4)
    with pytest.raises(InvalidEmbeddingsError, match="mine"):
        from_array(np.ones((10, 2, 2)), source="mine")
    with pytest.raises(UsageError):
        from_array(x, provenance=[1, 2])


def test_module_does_not_import_heavy_packages():
    import subprocess

    code = (
        "import sys; import gaussaudit.io; "
        "bad = [m for m in ('torch', 'pyarrow', 'safetensors') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
