"""HDF5 and Zarr inputs: key choice, nested groups, errors, the CLI path."""

import json
import sys

import numpy as np
import pytest

from gaussaudit.cli import main
from gaussaudit.errors import InvalidEmbeddingsError, MissingExtraError, UnknownNameError
from gaussaudit.io import load_embeddings


@pytest.fixture(scope="module")
def h5py():
    return pytest.importorskip("h5py")


@pytest.fixture(scope="module")
def zarr():
    return pytest.importorskip("zarr")


@pytest.fixture
def x(rng):
    return rng.standard_normal((60, 5)).astype(np.float32)


@pytest.fixture
def h5_file(tmp_path, x, h5py):
    path = tmp_path / "emb.h5"
    with h5py.File(path, "w") as fh:
        fh["ids"] = np.arange(60)
        fh.create_group("model")["embeddings"] = x
        fh["model"]["logits"] = np.ones((60, 3))
    return path


@pytest.fixture
def zarr_store(tmp_path, x, zarr):
    path = tmp_path / "emb.zarr"
    root = zarr.open_group(str(path), mode="w")
    root.create_array("ids", data=np.arange(120).reshape(60, 2))
    root.create_group("model").create_array("embeddings", data=x)
    return path


def test_hdf5_first_float_dataset_and_key(h5_file, x):
    es = load_embeddings(h5_file)
    assert es.input_format == "hdf5" and es.selection["key"] == "model/embeddings"
    assert es.input_dtype == "float32"
    np.testing.assert_array_equal(es.matrix, x.astype(np.float64))
    es = load_embeddings(h5_file, key="/model/logits")  # leading slash accepted
    assert es.selection["key"] == "model/logits" and es.d == 3
    with pytest.raises(UnknownNameError, match="model/embeddings"):
        load_embeddings(h5_file, key="nope")


def test_hdf5_extension_hdf5_and_not_hdf5(tmp_path, x, h5py):
    path = tmp_path / "emb.hdf5"
    with h5py.File(path, "w") as fh:
        fh["only"] = x
    assert load_embeddings(path).selection["key"] == "only"
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not hdf5 at all")
    with pytest.raises(InvalidEmbeddingsError, match="not a readable HDF5 file"):
        load_embeddings(bad)


def test_hdf5_string_dataset_rejected_clearly(tmp_path, h5py):
    path = tmp_path / "text.h5"
    with h5py.File(path, "w") as fh:
        fh["names"] = np.array([[b"a", b"b"]] * 10)
    with pytest.raises(InvalidEmbeddingsError, match="numeric"):
        load_embeddings(path)


def test_zarr_group_and_single_array(zarr_store, tmp_path, x, zarr):
    es = load_embeddings(zarr_store)
    assert es.input_format == "zarr" and es.selection["key"] == "model/embeddings"
    np.testing.assert_array_equal(es.matrix, x.astype(np.float64))
    assert load_embeddings(zarr_store, key="ids").input_dtype == "int64"
    single = tmp_path / "single.zarr"
    arr = zarr.create_array(str(single), shape=x.shape, dtype="float32", chunks=(16, 5))
    arr[...] = x
    es = load_embeddings(single)
    assert es.selection["key"] is None
    np.testing.assert_array_equal(es.matrix, x.astype(np.float64))
    with pytest.raises(InvalidEmbeddingsError, match="single array"):
        load_embeddings(single, key="emb")


def test_zarr_must_be_a_store_directory(tmp_path, zarr):
    not_dir = tmp_path / "emb.zarr"
    not_dir.write_bytes(b"x")
    with pytest.raises(InvalidEmbeddingsError, match="not a Zarr store"):
        load_embeddings(not_dir)
    empty = tmp_path / "empty.zarr"
    empty.mkdir()
    with pytest.raises(InvalidEmbeddingsError, match="Zarr"):
        load_embeddings(empty)


def test_missing_packages_name_the_extra(h5_file, zarr_store, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    monkeypatch.setitem(sys.modules, "zarr", None)
    for path, package in ((h5_file, "h5py"), (zarr_store, "zarr")):
        with pytest.raises(MissingExtraError, match=r"gaussaudit\[formats\]") as info:
            load_embeddings(path)
        assert info.value.exit_code == 3 and info.value.package == package


def test_cli_reads_hdf5_with_key(h5_file, tmp_path, capsys):
    out = tmp_path / "report.json"
    argv = ["test", h5_file, "--key", "model/embeddings", "--tests", "norms"]
    code = main([str(a) for a in [*argv, "--report", "json", "--out", out]])
    assert code == 0, capsys.readouterr().err
    report = json.loads(out.read_text())
    assert report["input"]["format"] == "hdf5"
    assert report["input"]["selection"]["key"] == "model/embeddings"
    code = main([str(a) for a in ["test", h5_file, "--key", "missing"]])
    assert code == 2 and "missing" in capsys.readouterr().err


def test_zarr_v2_layout_is_read(tmp_path, x, zarr):
    path = tmp_path / "v2.zarr"
    root = zarr.open_group(str(path), mode="w", zarr_format=2)
    root.create_array("emb", data=x)
    es = load_embeddings(path)
    assert es.selection["key"] == "emb"
    np.testing.assert_array_equal(es.matrix, x.astype(np.float64))


@pytest.mark.parametrize("store", ["h5_file", "zarr_store"])
def test_row_subsample_reads_the_same_rows(store, request, x):
    path = request.getfixturevalue(store)
    es = load_embeddings(path, key="model/embeddings", max_rows=25, seed=4)
    rows = np.sort(np.random.default_rng(4).choice(60, 25, replace=False))
    np.testing.assert_array_equal(es.matrix, x[rows].astype(np.float64))
    assert es.selection["rows"] == {"kept": 25, "of": 60, "seed": 4}


def test_row_subsample_reads_only_those_rows(h5_file, monkeypatch):
    from gaussaudit.io.stores import StoredArray

    reads = []
    original = StoredArray.__getitem__

    def spy(self, index):
        out = original(self, index)
        reads.append(out.shape[0])
        return out

    monkeypatch.setattr(StoredArray, "__getitem__", spy)
    monkeypatch.setattr(StoredArray, "__array__", lambda *a, **k: pytest.fail("read whole"))
    load_embeddings(h5_file, key="model/embeddings", max_rows=25, seed=4)
    assert reads[-1] == 25  # the sample; the rows before it are the chunked NaN check


def test_corrupt_zarr_chunk_is_a_clear_error(tmp_path, x, zarr):
    path = tmp_path / "bad.zarr"
    arr = zarr.create_array(str(path), shape=x.shape, dtype="float32", chunks=(16, 5))
    arr[...] = x
    chunks = [p for p in path.rglob("*") if p.is_file() and p.name != "zarr.json"]
    chunks[0].write_bytes(b"garbage")
    with pytest.raises(InvalidEmbeddingsError, match="cannot be read"):
        load_embeddings(path)
