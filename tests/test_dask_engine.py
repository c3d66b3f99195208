"""The Dask engine equals the NumPy engine on a LocalCluster of 2 single-threaded workers."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")
cloudpickle = pytest.importorskip("cloudpickle")

from gaussaudit.backends import dask_engine  # noqa: E402
from gaussaudit.backends.dask_passes import DaskEngineError  # noqa: E402
from gaussaudit.errors import InvalidEmbeddingsError, MissingExtraError, UsageError  # noqa: E402
from gaussaudit.stats.config import AuditConfig  # noqa: E402
from gaussaudit.stats.engines import numpy_engine  # noqa: E402
from gaussaudit.stats.engines.source import ArraySource  # noqa: E402

from .test_streaming import _same_tree, mixed, same_audit  # noqa: E402

# the sources below are defined here, so the worker processes get them by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])

CFG = AuditConfig(projections=12, subspaces=3, multivariate_max_rows=300)


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes, one thread each; a task may be lost with its worker once."""
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        local = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
        client = distributed.Client(local)
        yield client
        client.close()
        local.close()


@pytest.fixture(scope="module")
def npy(tmp_path_factory):
    x = mixed(400, 6, dtype=np.float32)
    path = tmp_path_factory.mktemp("dask") / "x.npy"
    np.save(path, x)
    return x, path


def reference(x, cfg=CFG, **kw):
    return numpy_engine.audit_stream(ArraySource(x), cfg, block_rows=64, **kw)


def same_report(got, want) -> None:
    """The whole report models agree (calibration, departure, sphere, diagnosis included)."""
    from gaussaudit.report.model import build_report

    a, b = build_report(want, plot_data=False), build_report(got, plot_data=False)
    for model in (a, b):  # how it ran differs by design; every result is the same
        model.pop("execution", None)
        model["input"].pop("engine", None)
        model.get("config", {}).pop("engine", None)
    _same_tree(a, b)


# ----------------------------------------------------------------------------- equality
def test_equals_numpy_engine_on_every_statistic(cluster, npy):
    x, path = npy
    got = dask_engine.audit_stream(path, CFG, scheduler=cluster, chunk_rows=37, col_block=4)
    want = reference(x)
    same_audit(got, want)
    same_report(got, want)
    assert got.matrix is None and got.views["raw"].n == 400
    assert got.execution["engine"] == "dask" and got.execution["workers"] == 2
    if hasattr(got.config, "engine"):
        assert got.config.engine == "dask"


@pytest.mark.parametrize("chunk_rows", [1, 7, 40, 10_000])
def test_chunk_size_invariance(cluster, tmp_path, chunk_rows):
    """Chunks of one row, ragged, exact and larger than n give the same numbers."""
    x = mixed(40, 4, seed=2, dtype=np.float32)
    path = tmp_path / "small.npy"
    np.save(path, x)
    cfg = AuditConfig(
        tests="anderson_darling,dagostino_pearson,jarque_bera,norms,mardia,projections",
        projections=4, subspaces=0, full_multivariate="always",
    )  # fmt: skip
    got = dask_engine.audit_stream(path, cfg, scheduler=cluster, chunk_rows=chunk_rows)
    same_audit(got, reference(x, cfg))


def test_gram_tiles_over_all_rows_by_address(cluster):
    """Rows beyond memory_limit: Mardia/HZ from one task per Gram tile i <= j."""
    x = mixed(300, 5, seed=9)
    x[:, 0] = 1.0  # constant column: left out of the full view
    cfg = AuditConfig(tests="mardia,henze_zirkler,anderson_darling", subspaces=0, projections=0)
    got = dask_engine.audit_stream(
        x, cfg, scheduler=cluster.scheduler.address, memory_limit=10_000, chunk_rows=32,
        tile_rows=45,
    )  # fmt: skip
    same_audit(got, reference(x, cfg, memory_limit=10_000))
    mv = got.views["raw"].multivariate
    assert mv["mardia"].n == 300 and mv["henze_zirkler"].n == 300
    assert "constant column(s) left out" in got.views["raw"].notes[0]


def test_max_samples_subsample_gathered_by_workers(cluster, npy):
    x, path = npy
    cfg = AuditConfig(max_samples=250, projections=4, subspaces=2)
    # block_rows: the NumPy engine's name of chunk_rows is taken too
    got = dask_engine.audit_stream(path, cfg, scheduler=cluster, block_rows=50)
    same_audit(got, reference(x, cfg))


# ----------------------------------------------------------------------------- formats
def test_zarr_hdf5_and_parquet_directories(cluster, tmp_path):
    h5py = pytest.importorskip("h5py")
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    x = mixed(300, 5, seed=3, dtype=np.float32)
    cfg = AuditConfig(tests="anderson_darling,jarque_bera,norms", projections=0, subspaces=0)
    want = reference(x, cfg)
    with h5py.File(tmp_path / "x.h5", "w") as fh:
        fh.create_dataset("model/emb", data=x, chunks=(50, 5))
    same_audit(
        dask_engine.audit_stream(tmp_path / "x.h5", cfg, scheduler=cluster, chunk_rows=64), want
    )
    parquet = tmp_path / "parts"
    parquet.mkdir()
    frame = pd.DataFrame(x, columns=[f"e{i}" for i in range(5)]).assign(label="a")
    frame.iloc[:120].to_parquet(parquet / "a.parquet", row_group_size=50)
    frame.iloc[120:].to_parquet(parquet / "b.parquet", row_group_size=70)
    got = dask_engine.audit_stream(parquet, cfg, scheduler=cluster)  # chunks = row groups
    same_audit(got, want)
    zarr = pytest.importorskip("zarr")
    z = zarr.create_array(str(tmp_path / "x.zarr"), shape=x.shape, chunks=(64, 5), dtype="f4")
    z[:] = x
    same_audit(
        dask_engine.audit_stream(tmp_path / "x.zarr", cfg, scheduler=cluster, chunk_rows=64), want
    )


# ----------------------------------------------------------------------------- laziness
class WorkerOnlySource:
    """A source that refuses to be read anywhere but on a Dask worker of another process."""

    def __init__(self, path: Path, client_pid: int) -> None:
        self.path, self.client_pid = str(path), client_pid
        mm = np.load(self.path, mmap_mode="r")
        self.n, self.d = mm.shape
        self.dtype = mm.dtype

    def read_rows(self, start: int, stop: int) -> np.ndarray:
        distributed.get_worker()  # ValueError outside a worker
        assert os.getpid() != self.client_pid
        return np.array(np.load(self.path, mmap_mode="r")[start:stop])

    def iter_rows(self, block_rows):
        for start in range(0, self.n, block_rows):
            yield start, self.read_rows(start, min(start + block_rows, self.n))

    def iter_columns(self, col_block, *, columns=None, buffer_bytes=None):
        cols = np.arange(self.d) if columns is None else np.asarray(columns)
        whole = np.vstack([b for _, b in self.iter_rows(4096)])
        for b0 in range(0, cols.size, col_block):
            sel = cols[b0 : b0 + col_block]
            yield sel, whole[:, sel].astype(np.float64)

    def take(self, rows):
        raise AssertionError("the engine gathers rows through dask, not take()")


def test_nothing_is_read_on_the_client(cluster, npy, monkeypatch):
    x, path = npy
    cfg = AuditConfig(
        tests="anderson_darling,jarque_bera,norms,mardia,henze_zirkler,projections",
        projections=4, subspaces=2, multivariate_max_rows=300,
    )  # fmt: skip
    got = dask_engine.audit_stream(
        WorkerOnlySource(path, os.getpid()), cfg, scheduler=cluster, chunk_rows=50, col_block=4
    )
    same_audit(got, reference(x, cfg))

    # a path: the client opens the header only; every row is read by the workers' processes
    def refuse(*args, **kwargs):
        raise AssertionError("the client read rows")

    from gaussaudit.stats.engines import source as source_module

    monkeypatch.setattr(source_module.NpyFileSource, "read_rows", refuse)
    cfg = AuditConfig(tests="lilliefors,dagostino_pearson,norms", projections=0, subspaces=0)
    got = dask_engine.audit_stream(path, cfg, scheduler=cluster, chunk_rows=50)
    same_audit(got, reference(x, cfg))


def test_the_graph_reads_chunks_in_tasks(npy):
    """The row passes are lazy: one read task per chunk in the graph, nothing in memory."""
    from gaussaudit.backends.dask_passes import _array, _chunks
    from gaussaudit.backends.worker_sources import worker_source

    _, path = npy
    spec = worker_source(path)
    xa = _array(spec, (_chunks(spec, 64), (spec.d,)), spec.dtype)
    assert xa.numblocks == (7, 1) and len(xa.__dask_graph__()) == 8  # 7 reads + the source
    graph = dict(xa.__dask_graph__())
    assert not any(isinstance(v, np.ndarray) for v in graph.values())


# ----------------------------------------------------------------------------- errors
def test_errors(cluster, monkeypatch):
    x = mixed(60, 3)
    x[10, 2] = np.nan
    with pytest.raises(InvalidEmbeddingsError) as streamed:
        dask_engine.audit_stream(x, scheduler=cluster, chunk_rows=7)
    with pytest.raises(InvalidEmbeddingsError) as in_memory:
        numpy_engine.audit_stream(x)
    assert str(streamed.value) == str(in_memory.value)
    with pytest.raises(UsageError, match="raw view only"):
        dask_engine.audit_stream(mixed(), views="raw,whitened", scheduler=cluster)
    with pytest.raises(UsageError, match="chunk_rows"):
        dask_engine.audit_stream(mixed(), chunk_rows=0, scheduler=cluster)
    with pytest.raises(UsageError, match="tcp://HOST"):
        dask_engine.audit_stream(mixed(), scheduler="localhost:8786")
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(MissingExtraError, match=r"gaussaudit\[dask\]"):
        dask_engine.audit_stream(mixed())


# ----------------------------------------------------------------------------- lost workers
class KillingSource(WorkerOnlySource):
    """Kills the worker process reading row ``row``: once (a marker file), or every time."""

    def __init__(self, path: Path, marker: Path, *, row: int, always: bool) -> None:
        super().__init__(path, client_pid=-1)
        self.marker, self.row, self.always = str(marker), row, always

    def read_rows(self, start: int, stop: int) -> np.ndarray:
        if start <= self.row < stop and (self.always or not os.path.exists(self.marker)):
            Path(self.marker).touch()
            os._exit(1)  # the worker process dies mid-task
        return super().read_rows(start, stop)


def test_a_killed_worker_is_replaced_and_the_numbers_are_right(cluster, npy, tmp_path):
    x, path = npy
    marker = tmp_path / "killed"
    source = KillingSource(path, marker, row=200, always=False)
    got = dask_engine.audit_stream(source, CFG, scheduler=cluster, chunk_rows=50, col_block=4)
    assert marker.exists()  # a worker did die
    same_audit(got, reference(x))
    cluster.wait_for_workers(2, timeout=60)


class LostSource(WorkerOnlySource):
    """Reports its chunk lost as the scheduler does once a task killed its workers too often."""

    def read_rows(self, start: int, stop: int) -> np.ndarray:
        if start <= 200 < stop:
            gone = SimpleNamespace(address="tcp://127.0.0.1:1")
            raise distributed.KilledWorker("read-chunk", gone, allowed_failures=1)
        return super().read_rows(start, stop)


def test_a_lost_task_is_a_clear_error_never_a_number(cluster, npy):
    _, path = npy
    cfg = AuditConfig(tests="norms", projections=0, subspaces=0)
    with pytest.raises(DaskEngineError, match="lost the workers"):
        dask_engine.audit_stream(LostSource(path, -1), cfg, scheduler=cluster, chunk_rows=50)


@pytest.mark.slow
def test_workers_that_keep_dying_fail_with_a_clear_error(cluster, npy, tmp_path):
    _, path = npy
    source = KillingSource(path, tmp_path / "killed", row=200, always=True)
    cfg = AuditConfig(tests="norms", projections=0, subspaces=0)
    with pytest.raises(DaskEngineError, match="lost the workers"):
        dask_engine.audit_stream(source, cfg, scheduler=cluster, chunk_rows=50)
    cluster.wait_for_workers(2, timeout=60)
