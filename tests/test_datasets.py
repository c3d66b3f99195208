"""Dataset sources: every factory, offline, on tiny data (or data installed on the machine)."""

import gzip
import json
import pickle
import subprocess
import sys
import textwrap
import types
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from gaussaudit.cli._errors import cli_message
from gaussaudit.datasets import list_datasets, load_dataset
from gaussaudit.datasets import synthetic as syn
from gaussaudit.datasets.idx import SYSTEM_ROOT, ArrayImages, read_idx
from gaussaudit.errors import (
    InvalidEmbeddingsError,
    MissingExtraError,
    ResourceUnavailableError,
    UnknownNameError,
    UsageError,
)

PIL = pytest.importorskip("PIL.Image")
FORTUNES = Path("/usr/share/games/fortunes")


@pytest.fixture(autouse=True)
def _no_data_env(monkeypatch):
    monkeypatch.delenv("GAUSSAUDIT_DATA", raising=False)


# --------------------------------------------------------------------------- IDX
def idx_bytes(array: np.ndarray, type_byte: int) -> bytes:
    header = bytes([0, 0, type_byte, array.ndim])
    header += b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_fashion(directory: Path, *, gz: bool, n: int = 3, prefix: str = "t10k") -> np.ndarray:
    directory.mkdir(parents=True, exist_ok=True)
    images = np.arange(n * 4 * 5, dtype=np.uint8).reshape(n, 4, 5)
    labels = np.arange(n, dtype=np.uint8) % 10
    for stem, payload in (
        (f"{prefix}-images-idx3-ubyte", idx_bytes(images, 0x08)),
        (f"{prefix}-labels-idx1-ubyte", idx_bytes(labels, 0x08)),
    ):
        if gz:
            (directory / (stem + ".gz")).write_bytes(gzip.compress(payload))
        else:
            (directory / stem).write_bytes(payload)
    return images


@pytest.mark.skipif(not Path(SYSTEM_ROOT).is_dir(), reason="dataset-fashion-mnist not installed")
def test_fashion_mnist_system_copy():
    ds = load_dataset("fashion-mnist")
    assert len(ds) == 10000
    img = ds.items[0]
    assert img.mode == "L" and img.size == (28, 28)
    assert ds.labels.dtype == np.int64
    assert set(np.unique(ds.labels)) == set(range(10))
    assert ds.info["root"] == SYSTEM_ROOT and ds.info["n"] == 10000
    assert ds.info["split"] == "test" and len(ds.info["classes"]) == 10
    small = load_dataset("fashion-mnist", max_samples=7)
    assert len(small) == 7 and np.array_equal(small.labels, ds.labels[:7])
    assert np.array_equal(np.asarray(small.items[6]), np.asarray(ds.items[6]))


@pytest.mark.parametrize("gz", [False, True])
def test_fashion_mnist_hand_written_idx(tmp_path, gz):
    images = write_fashion(tmp_path, gz=gz)
    ds = load_dataset("fashion-mnist", root=str(tmp_path))
    assert len(ds) == 3 and ds.labels.tolist() == [0, 1, 2]
    assert ds.items[1].mode == "L" and ds.items[1].size == (5, 4)
    assert np.array_equal(np.asarray(ds.items[-1]), images[2])
    restored = pickle.loads(pickle.dumps(ds.items))
    assert np.array_equal(np.asarray(restored[0]), images[0])
    with pytest.raises(IndexError):
        ds.items[3]


def test_fashion_mnist_torchvision_layout_and_train_split(tmp_path):
    write_fashion(tmp_path / "FashionMNIST" / "raw", gz=False, n=4, prefix="train")
    ds = load_dataset("fashion-mnist", root=str(tmp_path), split="train", max_samples=2)
    assert len(ds) == 2 and ds.info["n_available"] == 4
    with pytest.raises(ResourceUnavailableError) as err:  # no test files there
        load_dataset("fashion-mnist", root=str(tmp_path))
    assert err.value.exit_code == 3 and "download=True" in str(err.value)
    assert err.value.options == ("download", "root") and "--download" in cli_message(err.value)


def test_fashion_mnist_env_root_wins(tmp_path, monkeypatch):
    write_fashion(tmp_path, gz=True, n=2)
    monkeypatch.setenv("GAUSSAUDIT_DATA", str(tmp_path))
    assert len(load_dataset("fashion-mnist")) == 2


def test_read_idx_types_and_corruption(tmp_path):
    values = np.array([[1, -2, 3], [70000, 5, -6]], dtype=np.int32)
    (tmp_path / "ints").write_bytes(idx_bytes(values, 0x0C))
    got = read_idx(tmp_path / "ints")
    assert got.dtype == np.int32 and np.array_equal(got, values)

    good = idx_bytes(np.zeros((2, 3, 3), np.uint8), 0x08)
    cases = {
        "truncated": good[:-1],
        "magic": b"\x01\x02" + good[2:],
        "type": good[:2] + b"\x42" + good[3:],
        "empty": b"",
    }
    for name, payload in cases.items():
        (tmp_path / name).write_bytes(payload)
        with pytest.raises(InvalidEmbeddingsError) as err:
            read_idx(tmp_path / name)
        assert err.value.exit_code == 2 and name in str(err.value)
    (tmp_path / "badgz").write_bytes(gzip.compress(good)[:-10])
    with pytest.raises(InvalidEmbeddingsError, match="badgz"):
        read_idx(tmp_path / "badgz")


def test_fashion_mnist_mismatched_labels(tmp_path):
    write_fashion(tmp_path, gz=False, n=3)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(2, np.uint8), 0x08))
    with pytest.raises(InvalidEmbeddingsError, match="labels for 3 images"):
        load_dataset("fashion-mnist", root=str(tmp_path))


# --------------------------------------------------------------------------- CIFAR
def test_cifar10_missing_without_download(tmp_path):
    with pytest.raises(ResourceUnavailableError) as err:
        load_dataset("cifar10", root=str(tmp_path))
    msg = str(err.value)
    assert err.value.exit_code == 3
    assert "CIFAR-10 not found under" in msg and "download=True" in msg and "root=DIR" in msg
    shown = cli_message(err.value)  # the command line names its flags
    assert "--download" in shown and "--root DIR" in shown and "download=True" not in shown
    with pytest.raises(UsageError):
        load_dataset("cifar100", root=str(tmp_path), split="validation")


def _fake_torchvision(monkeypatch, cls):
    tv = types.ModuleType("torchvision")
    tv.datasets = types.SimpleNamespace(CIFAR10=cls, CIFAR100=cls)
    monkeypatch.setitem(sys.modules, "torchvision", tv)


def test_cifar_download_failure_names_cause(tmp_path, monkeypatch):
    def offline(root, train, download):
        raise urllib.error.URLError("Name or service not known")

    _fake_torchvision(monkeypatch, offline)
    with pytest.raises(ResourceUnavailableError) as err:
        load_dataset("cifar10", root=str(tmp_path), download=True)
    assert "URLError" in str(err.value) and "Name or service" in str(err.value)


def test_cifar_items_from_data_array(tmp_path, monkeypatch):
    class FakeCIFAR:
        def __init__(self, root, train, download):
            self.data = np.full((5, 32, 32, 3), 7, np.uint8)
            self.targets = [0, 1, 2, 3, 4]
            self.classes = [f"c{i}" for i in range(10)]

    _fake_torchvision(monkeypatch, FakeCIFAR)
    (tmp_path / "cifar-10-batches-py").mkdir()
    ds = load_dataset("cifar10", root=str(tmp_path), max_samples=4)
    assert len(ds) == 4 and ds.labels.tolist() == [0, 1, 2, 3]
    assert ds.items[0].mode == "RGB" and ds.items[0].size == (32, 32)
    assert ds.info["classes"][0] == "c0" and ds.info["root"] == str(tmp_path)
    pickle.dumps(ds.items)


# --------------------------------------------------------------------------- files
def _png(path: Path, value: int, mode: str = "RGB") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    PIL.new(mode, (6, 4), value if mode == "L" else (value, 0, 0)).save(path)


def test_imagefolder_with_classes(tmp_path):
    _png(tmp_path / "dog" / "b.png", 1)
    _png(tmp_path / "dog" / "a.PNG", 2)
    _png(tmp_path / "cat" / "deep" / "z.png", 3, mode="L")
    (tmp_path / "cat" / "x.jpg").parent.mkdir(exist_ok=True)
    PIL.new("RGB", (3, 3)).save(tmp_path / "cat" / "x.jpg")
    _png(tmp_path / ".hidden" / "skip.png", 9)
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    ds = load_dataset(f"imagefolder:{tmp_path}")
    assert ds.info["classes"] == ["cat", "dog"]
    assert ds.labels.tolist() == [0, 0, 1, 1]
    assert [Path(p).name for p in ds.items.paths] == ["z.png", "x.jpg", "a.PNG", "b.png"]
    assert ds.items[0].mode == "L" and ds.items[3].getpixel((0, 0)) == (1, 0, 0)
    assert len(pickle.loads(pickle.dumps(ds.items))) == 4
    assert len(load_dataset(f"imagefolder:{tmp_path}", max_samples=1)) == 1


def test_imagefolder_flat_has_no_labels(tmp_path):
    _png(tmp_path / "1.png", 1)
    _png(tmp_path / "0.png", 0)
    ds = load_dataset(f"imagefolder:{tmp_path}")
    assert ds.labels is None and len(ds) == 2 and ds.info["classes"] == []


def test_missing_user_path_is_bad_input(tmp_path):
    for name in ("imagefolder", "text"):
        with pytest.raises(InvalidEmbeddingsError) as err:
            load_dataset(f"{name}:{tmp_path / 'nope'}")
        assert err.value.exit_code == 2 and "no such file or directory" in str(err.value)
    with pytest.raises(InvalidEmbeddingsError, match="no such file"):
        load_dataset(f"csv:{tmp_path / 'nope.csv'}:text")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidEmbeddingsError, match="no images"):
        load_dataset(f"imagefolder:{tmp_path / 'empty'}")


def test_text_lines(tmp_path):
    f = tmp_path / "lines.txt"
    f.write_text("first line\n\n  second, with spaces  \n   \nthird\n", encoding="utf-8")
    ds = load_dataset(f"text:{f}")
    assert ds.items == ["first line", "  second, with spaces  ", "third"]
    assert ds.modality == "text" and ds.info["skipped_empty"] == 2
    assert load_dataset(f"text:{f}", max_samples=2).items == ds.items[:2]


def test_text_fortune_style(tmp_path):
    f = tmp_path / "quotes"
    f.write_text("one\n  -- A\n%\ntwo\n%\n%\nthree\n\n%\n", encoding="utf-8")
    ds = load_dataset(f"text:{f}")
    assert ds.items == ["one\n  -- A", "two", "three"]
    assert ds.info["skipped_empty"] == 1 and "blocks" in ds.info["mode"]
    g = tmp_path / "custom"
    g.write_text("a\nb\n----\nc\n", encoding="utf-8")
    assert load_dataset(f"text:{g}", separator="----").items == ["a\nb", "c"]
    assert load_dataset(f"text:{f}", separator="line").items[0] == "one"
    # A directory: regular files in sorted order; .dat and .u8 are skipped.
    (tmp_path / "quotes.dat").write_bytes(b"\x00\x01binary index")
    (tmp_path / "lines.u8").write_text("skip me\n")
    d = load_dataset(f"text:{tmp_path}")
    # (each file auto-detected: "custom" has no '%' line, so it is read line by line)
    assert d.items == ["a", "b", "----", "c", "one\n  -- A", "two", "three"]
    assert d.info["files"] == {"custom": 4, "quotes": 3}


def test_text_not_utf8(tmp_path):
    f = tmp_path / "latin.txt"
    f.write_bytes("caf\xe9\n".encode("latin-1"))
    with pytest.raises(InvalidEmbeddingsError, match="utf-8"):
        load_dataset(f"text:{f}")
    assert load_dataset(f"text:{f}", encoding="latin-1").items == ["café"]


@pytest.mark.skipif(not FORTUNES.is_dir(), reason="fortunes package not installed")
def test_text_fortunes_directory():
    ds = load_dataset(f"text:{FORTUNES}")
    assert len(ds) > 10_000
    assert all(isinstance(s, str) and s.strip() for s in ds.items[:100])
    assert not any(name.endswith((".dat", ".u8")) for name in ds.info["files"])


def test_csv_columns(tmp_path):
    f = tmp_path / "dir:with:colons.csv"
    f.write_text(
        "id,caption,kind\n1,a cat,animal\n2,,animal\n3,a car,vehicle\n4,42,vehicle\n",
        encoding="utf-8",
    )
    ds = load_dataset(f"csv:{f}:caption", label_column="kind")
    assert ds.items == ["a cat", "a car", "42"]
    assert ds.info["skipped_missing"] == 1 and ds.info["column"] == "caption"
    assert ds.labels.tolist() == [0, 1, 1] and ds.info["classes"] == ["animal", "vehicle"]
    ints = load_dataset(f"csv:{f}:kind", label_column="id")
    assert ints.labels.tolist() == [1, 2, 3, 4]
    with pytest.raises(UnknownNameError) as err:
        load_dataset(f"csv:{f}:captions")
    assert err.value.exit_code == 2 and "Did you mean 'caption'" in str(err.value)
    with pytest.raises(UsageError, match="csv:PATH:COLUMN"):
        load_dataset("csv:nocolumn")


# --------------------------------------------------------------------------- COCO
@pytest.fixture
def coco_root(tmp_path):
    for image_id in (42, 7):
        _png(tmp_path / "val2017" / f"{image_id:012d}.jpg", image_id)
    anns = [
        {"image_id": 42, "id": 3, "caption": "A dog on grass. "},
        {"image_id": 7, "id": 9, "caption": "Second caption of seven."},
        {"image_id": 7, "id": 1, "caption": "\nFirst caption of seven."},
        {"image_id": 42, "id": 2, "caption": "A brown dog."},
    ]
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "captions_val2017.json").write_text(
        json.dumps({"images": [], "annotations": anns})
    )
    return tmp_path


def test_coco_images_and_captions(coco_root):
    images = load_dataset("mscoco", root=str(coco_root))
    assert images.modality == "image" and len(images) == 2
    assert [Path(p).name for p in images.items.paths] == ["000000000007.jpg", "000000000042.jpg"]
    assert images.items[0].size == (6, 4)
    pickle.dumps(images.items)
    text = load_dataset("mscoco", root=str(coco_root), modality="text")
    assert text.items == [
        "First caption of seven.",
        "Second caption of seven.",
        "A brown dog.",
        "A dog on grass.",
    ]
    assert text.info["n_images"] == 2 and text.info["captions_per_image"] == {"2": 4 // 2}
    assert load_dataset("mscoco", root=str(coco_root), modality="text", max_samples=1).items == [
        "First caption of seven."
    ]


def test_coco_missing_explains_layout(tmp_path):
    with pytest.raises(ResourceUnavailableError) as err:
        load_dataset("mscoco", root=str(tmp_path))
    msg = str(err.value)
    assert err.value.exit_code == 3 and "val2017.zip" in msg and "cocodataset.org" in msg
    with pytest.raises(ResourceUnavailableError, match=r"annotations_trainval2017\.zip"):
        load_dataset("mscoco", root=str(tmp_path), modality="text")


# --------------------------------------------------------------------------- HF
def test_hf_missing_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(MissingExtraError) as err:
        load_dataset("hf:uoft-cs/cifar10")
    assert err.value.exit_code == 3 and "gaussaudit[hf]" in str(err.value)


class Image:  # names matter: features are recognised by class name
    pass


class Value:
    def __init__(self, dtype):
        self.dtype = dtype


class ClassLabel:
    def __init__(self, names):
        self.names = names


class FakeHFDataset:
    def __init__(self, rows, features):
        self.rows, self.features = rows, features

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, key):
        if isinstance(key, str):
            return [r[key] for r in self.rows]
        return self.rows[key]

    def select(self, indices):
        return FakeHFDataset([self.rows[i] for i in indices], self.features)


@pytest.fixture
def fake_hf(monkeypatch):
    calls = []
    rows = [
        {"idx": i, "img": PIL.new("RGB", (2, 2)), "text": f"t{i}", "label": i % 2} for i in range(5)
    ]
    features = {
        "idx": Value("int64"),
        "text": Value("string"),
        "img": Image(),
        "label": ClassLabel(["even", "odd"]),
    }

    config = types.ModuleType("datasets.config")
    config.HF_HUB_OFFLINE = config.HF_DATASETS_OFFLINE = False

    def load(name, *args, **kwargs):
        calls.append((name, args, kwargs, config.HF_HUB_OFFLINE))
        if name == "offline/none":
            raise ConnectionError("no network")
        if kwargs["split"] == "nope":
            raise ValueError('Unknown split "nope"')
        return FakeHFDataset(rows, features)

    module = types.ModuleType("datasets")
    module.load_dataset = load
    module.config = config
    monkeypatch.setitem(sys.modules, "datasets", module)
    monkeypatch.setitem(sys.modules, "datasets.config", config)
    return calls


def test_hf_column_selection(fake_hf):
    ds = load_dataset("hf:some/set:validation", max_samples=3)
    assert fake_hf[-1][2]["split"] == "validation"
    assert ds.modality == "image" and ds.info["column"] == "img" and len(ds) == 3
    assert ds.items[0].size == (2, 2) and ds.labels.tolist() == [0, 1, 0]
    assert ds.info["classes"] == ["even", "odd"] and ds.info["label_column"] == "label"
    text = load_dataset("hf:some/set", modality="text")
    assert fake_hf[-1][2]["split"] == "test"
    assert text.items == ["t0", "t1", "t2", "t3", "t4"] and text.info["column"] == "text"
    explicit = load_dataset("hf:some/set", column="text", config="cfg")
    assert explicit.modality == "text" and fake_hf[-1][1] == ("cfg",)
    with pytest.raises(UnknownNameError, match="Did you mean 'text'"):
        load_dataset("hf:some/set", column="txt")
    with pytest.raises(ResourceUnavailableError, match="not in the local datasets cache"):
        load_dataset("hf:offline/none")
    with pytest.raises(ResourceUnavailableError, match="no network"):
        load_dataset("hf:offline/none", download=True)
    with pytest.raises(UsageError, match="nope"):
        load_dataset("hf:some/set:nope")


def test_hf_loads_offline_unless_download(fake_hf):
    config = sys.modules["datasets.config"]
    load_dataset("hf:some/set")
    assert fake_hf[-1][3] is True  # offline during the call
    assert config.HF_HUB_OFFLINE is False and config.HF_DATASETS_OFFLINE is False  # restored
    load_dataset("hf:some/set", download=True)
    assert fake_hf[-1][3] is False


def test_hf_real_library_offline_without_download(tmp_path, monkeypatch):
    datasets = pytest.importorskip("datasets")
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    before = datasets.config.HF_HUB_OFFLINE
    folder = tmp_path / "reviews"
    folder.mkdir()
    (folder / "train.csv").write_text("text,label\ngood,1\nbad,0\nfine,1\n")
    cache = str(tmp_path / "cache")
    local = load_dataset(f"hf:{folder}:train", root=cache, modality="text")
    assert local.items == ["good", "bad", "fine"]
    with pytest.raises(ResourceUnavailableError, match="download=True") as err:
        load_dataset("hf:nobody-here/no-such-dataset", root=cache)
    assert "--download" in cli_message(err.value)
    assert datasets.config.HF_HUB_OFFLINE == before  # the switch is restored


# --------------------------------------------------------------------------- synthetic
def test_synthetic_generators_shapes_and_seeding():
    x = syn.laplace(300, 16, seed=1)
    assert x.shape == (300, 16) and x.dtype == np.float32
    assert np.array_equal(x, syn.laplace(300, 16, seed=1))
    assert not np.array_equal(x, syn.laplace(300, 16, seed=2))
    big = syn.laplace(2500, 8, seed=3)  # spans several blocks
    assert np.array_equal(big[:1100], syn.laplace(1100, 8, seed=3))
    assert abs(big.var() - 2.0) < 0.15  # Laplace(0, 1) has variance 2

    b = syn.sparse_binary(2000, 64, p_one=0.02, seed=0)
    assert set(np.unique(b)) <= {0.0, 1.0} and abs(b.mean() - 0.02) < 0.003
    assert np.array_equal(b[:1500], syn.sparse_binary(1500, 64, p_one=0.02, seed=0))

    g, lab = syn.gmm(1500, 32, n_components=5, mean_scale=2.0, noise_scale=0.5, seed=4)
    assert g.shape == (1500, 32) and lab.dtype == np.int64 and set(lab) == set(range(5))
    g2, lab2 = syn.gmm(1100, 32, n_components=5, mean_scale=2.0, noise_scale=0.5, seed=4)
    assert np.array_equal(g[:1100], g2) and np.array_equal(lab[:1100], lab2)
    means = syn.gmm_means(32, 5, mean_scale=2.0, seed=4)
    resid = g - means[lab]
    assert abs(resid.std() - 0.5) < 0.02
    # Same means_seed, different sample seed: same mixture, different samples.
    t, tl = syn.gmm(1500, 32, n_components=5, mean_scale=2.0, noise_scale=0.5, seed=9,
                    means_seed=4)  # fmt: skip
    assert not np.array_equal(t, g)
    assert abs((t - means[tl]).std() - 0.5) < 0.02


def test_synthetic_create_defaults_and_splits():
    lap = load_dataset("synthetic:laplace", max_samples=10)
    assert lap.items.shape == (10, 1024) and lap.items[0].ndim == 1 and lap.labels is None
    assert lap.info["n_requested"] == 5000 and lap.info["n"] == 10
    assert (
        load_dataset("synthetic:laplace", split="train", max_samples=1).info["n_requested"] == 20000
    )
    test = load_dataset("synthetic:gmm", n=50, d=8)
    train = load_dataset("synthetic:gmm", n=50, d=8, split="train")
    assert test.info["mean_scale"] == 1.0 and test.info["n_components"] == 25
    assert test.labels.shape == (50,) and not np.array_equal(test.items, train.items)
    assert test.info["means_seed"] == train.info["means_seed"] == 0
    again = load_dataset("synthetic:gmm", n=50, d=8)
    assert np.array_equal(test.items, again.items)
    other = load_dataset("synthetic:gmm", n=50, d=8, seed=1)
    assert not np.array_equal(test.items, other.items)
    binary = load_dataset("synthetic:binary", n=20, d=16, p_one=0.5)
    assert binary.info["p_one"] == 0.5 and binary.info["choices"]["binary_flip"] == 0.001
    pickle.dumps(binary.items)
    with pytest.raises(UnknownNameError, match="synthetic:gmm"):
        load_dataset("synthetic:gmn")


def test_laplace_views_correlation():
    x = syn.laplace(2000, 128, seed=0)
    rng = np.random.default_rng(0)
    v1, v2 = syn.laplace_views(x, a=0.6, noise_std=0, dropout=0, scale_sigma=0, rng=rng)
    assert v1.shape == x.shape and v1.dtype == np.float32
    corr = np.corrcoef(v1.ravel(), v2.ravel())[0, 1]
    assert abs(corr - 2 * 0.36 / 1.36) < 0.01  # 2A^2 / (1 + A^2)
    j1, j2 = syn.laplace_views(x, rng=rng)  # stated jitter: about 0.46 (PAPER.md §2.3)
    assert abs(np.corrcoef(j1.ravel(), j2.ravel())[0, 1] - 0.458) < 0.01
    assert abs((j1 == 0).mean() - 0.1) < 0.005  # dropout, not rescaled


def test_gmm_and_binary_views():
    rng = np.random.default_rng(1)
    means = syn.gmm_means(16, 4, seed=0)
    labels = rng.integers(0, 4, 3000)
    a, b = syn.gmm_views(labels, means, noise_scale=0.5, rng=rng)
    assert abs((a - means[labels]).std() - 0.5) < 0.01
    assert abs((a - b).std() - 0.5 * np.sqrt(2)) < 0.01
    x = syn.sparse_binary(2000, 256, p_one=0.01, seed=0)
    v1, v2 = syn.binary_views(x, rng=rng)
    assert np.all(v1[x == 1] == 1) and np.all(v2[x == 1] == 1)
    flipped = ((v1 == 1) & (x == 0)).sum() / (x == 0).sum()
    assert abs(flipped - 0.001) < 0.0003 and not np.array_equal(v1, v2)


def test_fake_images():
    ds = load_dataset("fake", seed=3)
    assert len(ds) == 64 and ds.labels.min() >= 0 and ds.labels.max() <= 9
    img = ds.items[5]
    assert img.mode == "RGB" and img.size == (32, 32)
    again = load_dataset("fake", seed=3, max_samples=6, size=(32, 32))
    assert np.array_equal(np.asarray(again.items[5]), np.asarray(img))
    assert np.array_equal(again.labels, ds.labels[:6])
    other = load_dataset("fake", seed=4, size=(8, 12), n=5)
    assert other.items[0].size == (12, 8) and len(other) == 5
    restored = pickle.loads(pickle.dumps(ds.items))
    assert np.array_equal(np.asarray(restored[5]), np.asarray(img))


def test_array_images_slicing():
    items = ArrayImages(np.zeros((4, 3, 3, 3), np.uint8), "RGB")
    assert len(items[1:3]) == 2 and items[-1].mode == "RGB"
    with pytest.raises(UsageError):
        load_dataset("fake", max_samples=0)


def test_list_datasets_does_not_import_torch():
    code = textwrap.dedent(
        """
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("torch", "torchvision"):
                    raise ImportError("torch blocked for this test")
                return None

        sys.meta_path.insert(0, Block())
        from gaussaudit.datasets import list_datasets, load_dataset
        names = {s.name for s in list_datasets()}
        assert {"cifar10", "fashion-mnist", "synthetic", "text", "csv"} <= names, names
        load_dataset("synthetic:binary", n=4, d=8)
        load_dataset("fake", n=2).items[0]
        assert "torch" not in sys.modules and "torchvision" not in sys.modules
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
    assert any(s.name == "mscoco" for s in list_datasets())
