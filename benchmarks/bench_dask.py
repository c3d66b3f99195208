"""Speed-up of the Dask engine from 1 to 2 workers, and its equality with the NumPy engine.

Run: ``python benchmarks/bench_dask.py [--n 200000 --d 256 --repeat 3]``
(``--quick`` for a smoke run). Writes a float32 ``.npy`` file to a temporary
directory, starts two ``LocalCluster``s (1 and 2 single-threaded worker
processes) once, warms both, then times the whole streamed audit on each,
interleaved (1, 2, 1, 2, ...), and reports the minimum of the repeats and the
ratio. The workers read the file themselves. Also prints the NumPy engine's
time on the same file (threads in this process) and the largest relative
difference between the two engines over every per-coordinate statistic.
Exit code 0 whatever the numbers: wall-clock figures belong in reports.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def make_file(path: Path, n: int, d: int, seed: int = 0) -> None:
    """Write an ``(n, d)`` float32 matrix with a few non-Gaussian columns, block by block."""
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    rng = np.random.default_rng(seed)
    for start in range(0, n, 65536):
        stop = min(start + 65536, n)
        block = rng.standard_normal((stop - start, d))
        block[:, 0] = rng.standard_t(4, stop - start)
        block[:, 1] = rng.exponential(size=stop - start)
        out[start:stop] = block
    out.flush()
    del out


def max_relative_difference(a, b) -> float:
    """Largest relative difference over the per-coordinate and projection statistics."""
    worst = 0.0
    va, vb = a.views["raw"], b.views["raw"]
    pairs = list(zip(va.coordinates.values(), vb.coordinates.values(), strict=True))
    if va.projections is not None:
        pairs += list(
            zip(va.projections.tests.values(), vb.projections.tests.values(), strict=True)
        )
    for ra, rb in pairs:
        if hasattr(ra, "statistics"):
            sa, sb = np.asarray(ra.statistics), np.asarray(rb.statistics)
            scale = np.maximum(np.abs(sb), 1e-300)
            worst = max(worst, float(np.max(np.abs(sa - sb) / scale, initial=0.0)))
    if va.norms is not None:
        worst = max(worst, abs(va.norms.cv / vb.norms.cv - 1.0))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--d", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chunk-rows", type=int, default=16_384)
    parser.add_argument(
        "--tests",
        default="anderson_darling,dagostino_pearson,jarque_bera,norms,projections",
        help="tests to run (default: the per-coordinate battery, norms and projections)",
    )
    parser.add_argument("--projections", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repeat")
    args = parser.parse_args()
    if args.quick:
        args.n, args.d, args.repeat, args.chunk_rows, args.projections = 4000, 16, 1, 1000, 4

    from distributed import Client, LocalCluster

    from gaussaudit.backends import dask_engine
    from gaussaudit.stats.config import AuditConfig
    from gaussaudit.stats.engines import numpy_engine

    cfg = AuditConfig(tests=args.tests, projections=args.projections, subspaces=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.npy"
        make_file(path, args.n, args.d)
        size = path.stat().st_size / 2**20
        print(f"input: {args.n} x {args.d} float32 ({size:.0f} MiB), tests={args.tests}, "
              f"projections={args.projections}, chunk_rows={args.chunk_rows}")  # fmt: skip
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
        clusters = {
            w: LocalCluster(
                n_workers=w, threads_per_worker=1, processes=True, dashboard_address=":0"
            )
            for w in (1, 2)
        }
        clients = {w: Client(c, set_as_default=False) for w, c in clusters.items()}
        try:

            def run(workers: int):
                return dask_engine.audit_stream(
                    path, cfg, scheduler=clients[workers], chunk_rows=args.chunk_rows,
                    keep_norms=False,
                )  # fmt: skip

            results = {w: run(w) for w in (1, 2)}  # warm-up: imports on the workers
            times: dict[int, list[float]] = {1: [], 2: []}
            for _ in range(args.repeat):
                for w in (1, 2):
                    start = time.perf_counter()
                    run(w)
                    times[w].append(time.perf_counter() - start)
            start = time.perf_counter()
            reference = numpy_engine.audit_stream(str(path), cfg, keep_norms=False)
            numpy_time = time.perf_counter() - start
        finally:
            for c in clients.values():
                c.close()
            for c in clusters.values():
                c.close()
    t1, t2 = min(times[1]), min(times[2])
    print(f"dask engine, 1 worker : {t1:8.2f} s (min of {args.repeat}: "
          f"{', '.join(f'{t:.2f}' for t in times[1])})")  # fmt: skip
    print(f"dask engine, 2 workers: {t2:8.2f} s (min of {args.repeat}: "
          f"{', '.join(f'{t:.2f}' for t in times[2])})")  # fmt: skip
    print(f"speed-up 1 -> 2 workers: {t1 / t2:.2f}x")
    print(f"numpy engine (threads, this process, one run): {numpy_time:.2f} s")
    diff = max(max_relative_difference(r, reference) for r in results.values())
    print(f"largest relative difference dask vs numpy engine: {diff:.2e} (tests hold 1e-10)")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
