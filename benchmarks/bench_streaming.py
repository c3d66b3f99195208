"""Peak RSS and time of the streaming audit against the in-memory command.

Run: ``python benchmarks/bench_streaming.py [--sizes 250000,500000,1000000 --d 768]``.

For each size it writes a seeded Gaussian float32 ``.npy`` file (in chunks, so
the generator itself stays small) under ``--tmp``, then times, each in a fresh
process under ``/usr/bin/time -f "%M KB %e s"``:

- ``stream``: :func:`gaussaudit.stats.engines.audit_stream` on
  :func:`~gaussaudit.stats.engines.open_npy` (positioned reads, never mapped);
- ``in-memory``: ``gaussaudit test FILE --report json`` with the same options,
  for sizes up to ``--in-memory-max`` rows (it needs the whole matrix in float64).

The file is deleted after each size. Prints one line per run and a table; it
never fails on a number (wall-clock time belongs in reports, not in tests).
``--quick`` shrinks everything for a smoke run.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"

STREAM = """
import sys
from gaussaudit.stats.config import AuditConfig
from gaussaudit.stats.engines import audit_stream, open_npy
cfg = AuditConfig(tests=sys.argv[2], projections=int(sys.argv[3]), subspaces=int(sys.argv[4]))
with open_npy(sys.argv[1]) as src:
    r = audit_stream(src, cfg, memory_limit=int(sys.argv[5]), keep_norms=False)
v = r.views["raw"]
print("cv", v.norms.cv if v.norms else None, "gaussian", v.verdict.gaussian)
"""


def write_npy(path: Path, n: int, d: int, seed: int = 0, chunk: int = 65536) -> None:
    """Write a seeded standard-normal float32 ``(n, d)`` file chunk by chunk."""
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    rng = np.random.default_rng(seed)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        out[start:stop] = rng.standard_normal((stop - start, d), dtype=np.float32)
        out.flush()
    del out


def timed(cmd: list[str]) -> tuple[float, float, int]:
    """Run ``cmd`` under /usr/bin/time; return (peak RSS MiB, seconds, exit code)."""
    env = dict(os.environ, PYTHONPATH=str(SRC))
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "%M KB %e s", *cmd], capture_output=True, text=True, env=env
    )
    found = re.findall(r"(\d+) KB ([\d.]+) s", proc.stderr)
    if not found:
        print(proc.stdout, proc.stderr, file=sys.stderr)
        return float("nan"), float("nan"), proc.returncode
    kb, sec = found[-1]
    return int(kb) / 1024.0, float(sec), proc.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="250000,500000,1000000")
    parser.add_argument("--d", type=int, default=768)
    parser.add_argument("--tests", default="anderson_darling,dagostino_pearson,norms")
    parser.add_argument("--projections", type=int, default=0)
    parser.add_argument("--subspaces", type=int, default=0)
    parser.add_argument("--memory-limit", type=int, default=512 * 2**20, help="bytes")
    parser.add_argument("--in-memory-max", type=int, default=250_000)
    parser.add_argument("--tmp", default=tempfile.gettempdir())
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.quick:
        sizes, args.d, args.in_memory_max = [5000, 10000], 64, 10000
    py = sys.executable
    rows = []
    for n in sizes:
        path = Path(args.tmp) / f"gaussaudit_bench_{n}x{args.d}.npy"
        try:
            write_npy(path, n, args.d)
            size_gib = path.stat().st_size / 2**30
            cmd = [py, "-c", STREAM, str(path), args.tests, str(args.projections),
                   str(args.subspaces), str(args.memory_limit)]  # fmt: skip
            rss, sec, rc = timed(cmd)
            rows.append((n, "stream", size_gib, rss, sec, rc))
            print(f"n={n} stream: {rss:.0f} MiB, {sec:.1f} s (rc {rc})", flush=True)
            if n <= args.in_memory_max:
                cmd = [py, "-m", "gaussaudit", "test", str(path), "--tests", args.tests,
                       "--projections", str(args.projections), "--subspaces",
                       str(args.subspaces), "--report", "json", "--out", os.devnull]  # fmt: skip
                rss, sec, rc = timed(cmd)
                rows.append((n, "in-memory", size_gib, rss, sec, rc))
                print(f"n={n} in-memory: {rss:.0f} MiB, {sec:.1f} s (rc {rc})", flush=True)
        finally:
            path.unlink(missing_ok=True)
    limit = args.memory_limit / 2**20
    print(f"\nd = {args.d}, tests = {args.tests}, projections = {args.projections},")
    print(f"subspaces = {args.subspaces}, memory_limit = {limit:.0f} MiB")
    head = ("rows", "engine", "file GiB", "peak RSS MiB", "time s", "rc")
    print("{:>9} {:>10} {:>9} {:>13} {:>8} {:>3}".format(*head))
    for n, engine, size, rss, sec, rc in rows:
        print(f"{n:>9} {engine:>10} {size:>9.2f} {rss:>13.0f} {sec:>8.1f} {rc:>3}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
