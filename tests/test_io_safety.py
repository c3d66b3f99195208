"""Hostile and careless inputs and outputs: bounded reads, safe writes (issue 13)."""

from __future__ import annotations

import json
import os
import signal
import stat
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from gaussaudit.errors import InvalidEmbeddingsError, UsageError
from gaussaudit.io import (
    MAX_JSON_DEPTH,
    MAX_SIDECAR_BYTES,
    READERS,
    ReaderSpec,
    ReadResult,
    atomic_write_bytes,
    atomic_write_text,
    load_embeddings,
    parse_json_bounded,
    prepare_output,
    read_sidecar,
    save_embeddings,
)

posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs, signals and links are POSIX")


@pytest.fixture
def x() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((30, 4)).astype(np.float32)


@pytest.fixture
def emb(tmp_path, x) -> Path:
    path = tmp_path / "emb.npy"
    np.save(path, x)
    return path


def _listing(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


# --------------------------------------------------------------------------- outputs


@posix_only
def test_output_fifo_is_refused_not_replaced(tmp_path):
    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)
    with pytest.raises(UsageError, match="FIFO") as info:
        prepare_output(fifo)
    assert str(fifo) in str(info.value) and info.value.exit_code == 2
    with pytest.raises(UsageError, match="never replaced"):
        atomic_write_text(fifo, "report")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert _listing(tmp_path) == ["out.json"]


@posix_only
def test_output_device_node_is_refused(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("creating a device node needs root")
    node = tmp_path / "null"
    os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    with pytest.raises(UsageError, match="character device"):
        atomic_write_bytes(node, b"x")
    assert stat.S_ISCHR(os.lstat(node).st_mode)


@posix_only
def test_output_symlink_to_device_is_refused(tmp_path):
    if not stat.S_ISCHR(os.stat("/dev/null").st_mode):
        pytest.skip("/dev/null is not a device on this machine (replaced by an older tool)")
    link = tmp_path / "out.json"
    os.symlink("/dev/null", link)
    with pytest.raises(UsageError, match="symbolic link to a character device"):
        atomic_write_text(link, "x")
    assert os.path.islink(link) and os.readlink(link) == "/dev/null"


def test_output_directory_is_refused(tmp_path):
    with pytest.raises(UsageError, match="is a directory") as info:
        atomic_write_text(tmp_path, "x")
    assert ".tmp" not in str(info.value)


@posix_only
def test_output_symlink_to_regular_file_is_written_through(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    os.symlink("real.json", link)
    assert prepare_output(link) == real.resolve()
    atomic_write_text(link, "new")
    assert os.path.islink(link) and os.readlink(link) == "real.json"
    assert real.read_text() == "new"
    assert _listing(tmp_path) == ["link.json", "real.json"]


@posix_only
def test_output_dangling_symlink_is_refused(tmp_path):
    link = tmp_path / "out.json"
    os.symlink("missing.json", link)
    with pytest.raises(UsageError, match="missing file"):
        atomic_write_text(link, "x")
    assert not (tmp_path / "missing.json").exists()


def test_output_missing_directory_names_the_users_path(tmp_path):
    target = tmp_path / "nope" / "out.json"
    with pytest.raises(UsageError, match="does not exist") as info:
        prepare_output(target, what="report")
    message = str(info.value)
    assert str(target) in message and "report" in message and ".tmp" not in message


@posix_only
def test_output_unwritable_directory(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root can write anywhere")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(UsageError, match="not writable"):
            prepare_output(locked / "out.json")
    finally:
        locked.chmod(0o700)


@posix_only
def test_output_that_is_an_input_is_refused(tmp_path, emb):
    (tmp_path / "emb.json").write_text("{}")
    np.save(tmp_path / "emb.labels.npy", np.arange(30))
    os.link(emb, tmp_path / "hard.npy")
    os.symlink("emb.npy", tmp_path / "soft.npy")
    for out, label in [
        (emb, "the input"),
        (tmp_path / "." / "emb.npy", "the input"),
        (tmp_path / "hard.npy", "the input"),
        (tmp_path / "soft.npy", "the input"),
        (tmp_path / "emb.json", "provenance sidecar"),
        (tmp_path / "emb.labels.npy", "labels file"),
    ]:
        with pytest.raises(UsageError, match=label):
            atomic_write_text(out, "report", inputs=[emb])
    assert np.load(emb).shape == (30, 4)
    assert prepare_output(tmp_path / "report.json", inputs=[emb]) == tmp_path / "report.json"


def test_save_embeddings_checks_every_output_first(tmp_path, emb, x):
    with pytest.raises(UsageError, match="the input"):
        save_embeddings(emb, x, inputs=[emb])
    (tmp_path / "new.provenance.json").mkdir()  # the sidecar path is a directory: no write
    with pytest.raises(UsageError, match="directory"):
        save_embeddings(tmp_path / "new.npy", x)
    assert not (tmp_path / "new.npy").exists()


def test_save_embeddings_caps_provenance(tmp_path, x):
    with pytest.raises(UsageError, match="limited"):
        save_embeddings(tmp_path / "e.npy", x, provenance={"a": "x" * MAX_SIDECAR_BYTES})
    assert _listing(tmp_path) == []


def test_write_error_names_the_users_path_not_the_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "out.json"

    def full(src, dst):
        raise OSError(28, "No space left on device", os.fspath(src))

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(OSError, match="No space left") as info:
        atomic_write_text(target, "x")
    assert info.value.filename == os.fspath(target)
    assert ".tmp" not in str(info.value)
    assert _listing(tmp_path) == []


def test_signal_handlers_are_restored(tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    atomic_write_text(tmp_path / "a.txt", "x")
    assert signal.getsignal(signal.SIGTERM) is before


_SLOW_WRITER = textwrap.dedent(
    """
    import sys, time
    from gaussaudit.io import atomic_write

    def slow(fh):
        fh.write(b"x" * 4096)
        fh.flush()
        print("writing", flush=True)
        for _ in range(2000):
            fh.write(b"y" * 4096)
            time.sleep(0.01)

    atomic_write(sys.argv[1], slow)
    """
)


@posix_only
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_signal_mid_write_removes_the_temp_file(tmp_path, signum):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_WRITER, os.fspath(target)],
        stdout=subprocess.PIPE,
        env=env,
    )
    try:
        assert proc.stdout.readline().strip() == b"writing"
        assert len(_listing(tmp_path)) == 2  # the temp file exists now
        proc.send_signal(signum)
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 128 + signum
    assert _listing(tmp_path) == ["out.bin"]
    assert target.read_bytes() == b"old"


# --------------------------------------------------------------------------- special inputs


@posix_only
@pytest.mark.parametrize(
    "name", ["in.npy", "in.npz", "in.pt", "in.safetensors", "in.h5", "in.parquet", "in.csv"]
)
def test_fifo_input_is_refused_at_once(tmp_path, name):
    fifo = tmp_path / name
    os.mkfifo(fifo)
    with pytest.raises(InvalidEmbeddingsError, match="FIFO") as info:
        load_embeddings(fifo)
    assert info.value.exit_code == 2


@posix_only
def test_fifo_zarr_is_refused(tmp_path):
    fifo = tmp_path / "in.zarr"
    os.mkfifo(fifo)
    with pytest.raises(InvalidEmbeddingsError, match="Zarr store"):
        load_embeddings(fifo)


@posix_only
def test_device_input_is_refused(tmp_path):
    link = tmp_path / "zero.csv"
    os.symlink("/dev/zero", link)
    with pytest.raises(InvalidEmbeddingsError, match="character device"):
        load_embeddings(link)


@posix_only
def test_fifo_labels_file_is_ignored(tmp_path, emb):
    os.mkfifo(tmp_path / "emb.labels.npy")
    assert load_embeddings(emb).labels is None


# --------------------------------------------------------------------------- sidecars


@posix_only
def test_symlinked_sidecar_is_refused_and_not_quoted(tmp_path, emb):
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "token.json").write_text('{"token": "SECRET-123"}')
    os.symlink(secret / "token.json", tmp_path / "emb.json")
    with pytest.raises(InvalidEmbeddingsError, match="symbolic link") as info:
        load_embeddings(emb)
    assert "SECRET" not in str(info.value)


@posix_only
def test_fifo_sidecar_is_refused(tmp_path, emb):
    os.mkfifo(tmp_path / "emb.json")
    with pytest.raises(InvalidEmbeddingsError, match="FIFO"):
        read_sidecar(emb)


def test_sidecar_size_cap(tmp_path, emb):
    (tmp_path / "emb.json").write_text(json.dumps({"a": "x" * MAX_SIDECAR_BYTES}))
    with pytest.raises(InvalidEmbeddingsError, match="limit"):
        load_embeddings(emb)


def test_sidecar_depth_cap_without_recursion_error(tmp_path, emb):
    (tmp_path / "emb.json").write_text('{"a": ' + "[" * 200_000 + "]" * 200_000 + "}")
    with pytest.raises(InvalidEmbeddingsError, match="nested") as info:
        read_sidecar(emb)
    assert not isinstance(info.value.__context__, RecursionError)


def test_json_depth_limit_is_exact_and_ignores_strings():
    ok = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert parse_json_bounded(ok.encode(), what="x") is not None
    deep = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    with pytest.raises(InvalidEmbeddingsError, match="nested"):
        parse_json_bounded(deep.encode(), what="x")
    text = json.dumps({"s": "[[[[" * 100 + '\\"{{{{' * 100})
    assert parse_json_bounded(text.encode(), what="x")["s"].startswith("[[[[")


def test_sidecar_huge_integer(tmp_path, emb):
    (tmp_path / "emb.json").write_text('{"n": ' + "9" * 5000 + "}")
    with pytest.raises(InvalidEmbeddingsError, match="too long"):
        read_sidecar(emb)


# --------------------------------------------------------------------------- forged headers


def _npy_with_header(path: Path, shape: tuple[int, ...], payload: int = 65_000) -> None:
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}"
    header += " " * (118 - len(header)) + "\n"
    path.write_bytes(
        b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + b"\0" * payload
    )


def test_forged_npy_header_is_corrupt_not_out_of_memory(tmp_path, monkeypatch):
    path = tmp_path / "big.npy"
    _npy_with_header(path, (10**6, 10**6))

    def no_load(*args, **kwargs):
        raise AssertionError("np.load reached for a forged header")

    monkeypatch.setattr(np, "load", no_load)
    for threshold in (0, 2**40):  # memory-mapped and read paths
        with pytest.raises(InvalidEmbeddingsError, match="truncated or corrupt") as info:
            load_embeddings(path, mmap_threshold_bytes=threshold)
        assert "(1000000, 1000000)" in str(info.value) and info.value.exit_code == 2


def test_forged_npz_member_is_corrupt(tmp_path):
    import zipfile

    member = tmp_path / "emb.npy"
    _npy_with_header(member, (10**6, 10**6), payload=1000)
    path = tmp_path / "emb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.write(member, "emb.npy")
    with pytest.raises(InvalidEmbeddingsError, match="truncated or corrupt"):
        load_embeddings(path)


def _safetensors(path: Path, entry: dict, data: bytes = b"\1" * 256) -> Path:
    header = json.dumps({"emb": entry}).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)
    return path


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        ({"dtype": "BF16", "shape": [-2, 16], "data_offsets": [64, 0]}, "impossible shape"),
        ({"dtype": "BF16", "shape": [4, 16], "data_offsets": [128, 0]}, "data_offsets"),
        ({"dtype": "BF16", "shape": [2**32, 2**32], "data_offsets": [0, 256]}, "corrupt"),
        ({"dtype": "BF16", "shape": [1000, 16], "data_offsets": [0, 32000]}, "256 B"),
        ({"dtype": "F32", "shape": [1000, 16], "data_offsets": [0, 64000]}, "256 B"),
        ({"dtype": "F32", "shape": [True, 16], "data_offsets": [0, 64]}, "integers"),
        ({"dtype": "F32", "shape": [8, 8], "data_offsets": [0]}, "data_offsets"),
    ],
)
def test_forged_safetensors_entries_are_corrupt(tmp_path, entry, match):
    pytest.importorskip("safetensors")
    path = _safetensors(tmp_path / "e.safetensors", entry)
    with pytest.raises(InvalidEmbeddingsError, match=match) as info:
        load_embeddings(path)
    assert info.value.exit_code == 2


def test_safetensors_bf16_still_reads(tmp_path):
    pytest.importorskip("safetensors")
    values = np.random.default_rng(1).standard_normal((16, 4)).astype(np.float32)
    bf16 = (values.view(np.uint32) >> 16).astype("<u2")
    path = _safetensors(
        tmp_path / "e.safetensors",
        {"dtype": "BF16", "shape": [16, 4], "data_offsets": [0, 128]},
        bf16.tobytes(),
    )
    es = load_embeddings(path)
    assert es.input_dtype == "bfloat16"
    np.testing.assert_array_equal(es.matrix, (bf16.astype(np.uint32) << 16).view(np.float32))


# --------------------------------------------------------------------------- tables


def test_csv_non_numeric_cell_is_an_error_naming_column_and_row(tmp_path):
    rng = np.random.default_rng(0)
    lines = ["e0,e1,e2"] + [",".join(f"{v:.4f}" for v in row) for row in rng.normal(size=(20, 3))]
    cells = lines[8].split(",")
    lines[8] = ",".join([cells[0], "n/a?", cells[2]])
    path = tmp_path / "e.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InvalidEmbeddingsError, match=r"'e1'.*row 8.*'n/a\?'"):
        load_embeddings(path)


def test_csv_text_column_is_still_skipped(tmp_path):
    rows = "\n".join(f"s{i},{i * 0.5},{(i * 7) % 5}" for i in range(20))
    path = tmp_path / "e.csv"
    path.write_text("id,a,b\n" + rows + "\n")
    es = load_embeddings(path)
    assert es.selection["ignored_columns"] == ["id"] and es.d == 2


def test_csv_messages_quote_a_short_sanitised_excerpt(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("\x1b]0;title\x07\x1b[2J" + "T" * 500 + "\nx\n")
    with pytest.raises(InvalidEmbeddingsError, match="no numeric columns") as info:
        load_embeddings(path)
    message = str(info.value)
    assert "\x1b" not in message and "\x07" not in message
    assert "T" * 61 not in message


# --------------------------------------------------------------------------- pickle refusals


def test_object_npy_refusal_is_the_tools_own_message(tmp_path):
    path = tmp_path / "o.npy"
    np.save(path, np.array([{"a": 1}, 2], dtype=object), allow_pickle=True)
    with pytest.raises(InvalidEmbeddingsError, match="refusing to unpickle") as info:
        load_embeddings(path)
    assert "allow_pickle" not in str(info.value) and "safetensors" in str(info.value)
    assert info.value.__suppress_context__ or info.value.__context__ is None


class _Payload:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_pickled_pt_refusal_is_the_tools_own_message(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "o.pt"
    torch.save({"emb": _Payload()}, path)
    with pytest.raises(InvalidEmbeddingsError, match="refusing to unpickle") as info:
        load_embeddings(path)
    message = str(info.value)
    assert "weights_only" not in message and "GLOBAL" in message and "\n" not in message
    assert info.value.__suppress_context__


# --------------------------------------------------------------------------- reader registry


def test_reader_plugin_adds_a_format(tmp_path, monkeypatch):
    monkeypatch.setattr(READERS, "_specs", dict(READERS._specs))
    READERS.register(ReaderSpec("tsv", (".tsv",), f"{__name__}:_read_tsv"))
    path = tmp_path / "e.tsv"
    path.write_text("\n".join(f"{i}\t{i * i % 7}" for i in range(12)))
    es = load_embeddings(path)
    assert es.input_format == "tsv" and es.matrix.shape == (12, 2)


def test_reader_plugin_cannot_take_a_builtin_extension(tmp_path, monkeypatch, emb):
    monkeypatch.setattr(READERS, "_specs", dict(READERS._specs))
    READERS.register(ReaderSpec("evil", (".npy",), f"{__name__}:_read_tsv"))
    with pytest.warns(UserWarning, match="already read by 'npy'"):
        es = load_embeddings(emb)
    assert es.input_format == "npy"


def _read_tsv(path, request):
    arr = np.loadtxt(path, delimiter="\t", ndmin=2)
    return ReadResult(arr, str(arr.dtype))


@posix_only
def test_symlinked_input_file_is_read(tmp_path, emb, x):
    os.symlink(emb, tmp_path / "link.npy")
    np.testing.assert_array_equal(load_embeddings(tmp_path / "link.npy").matrix, x)


@posix_only
def test_hostile_names_are_sanitised_in_messages(tmp_path):
    evil = tmp_path / "\x1b]0;title\x07\x1b[2Jemb.npy"
    with pytest.raises(InvalidEmbeddingsError, match="no such file") as info:
        load_embeddings(evil)
    os.mkfifo(evil)
    with pytest.raises(InvalidEmbeddingsError, match="FIFO") as fifo_info:
        load_embeddings(evil)
    with pytest.raises(UsageError, match="FIFO") as out_info:
        prepare_output(evil)
    for message in (str(info.value), str(fifo_info.value), str(out_info.value)):
        assert "\x1b" not in message and "\x07" not in message
