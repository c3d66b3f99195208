"""Whole-process time of ``gaussaudit test`` against a plain SciPy loop per column.

Run: ``python benchmarks/bench_process.py [--sizes 50000,200000 --d 768 --repeats 3]``.

For each size it writes a seeded Gaussian float32 ``.npy`` file, then times, each
in a fresh process and interleaved over ``--repeats`` rounds (minimum kept):

- ``loop``: a Python loop over the columns calling ``scipy.stats.anderson``
  and ``scipy.stats.normaltest`` on each (float64 column), imports included;
- ``ad_dp_norms``: ``gaussaudit test FILE --tests anderson_darling,dagostino_pearson,norms
  --report json``;
- ``default``: ``gaussaudit test FILE --report json`` (the default battery);
- ``first_work``: seconds from process start to the first progress callback of
  the audit (imports and file opening), from the ``ad_dp_norms`` command.

It prints one line per run and the ratios loop / command (above 1: the command is
faster). The machine may be shared: the load average is printed with them. It
never fails on a number. ``--quick`` shrinks everything for a smoke run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"

LOOP = """
import sys, numpy as np
from scipy import stats
x = np.load(sys.argv[1], mmap_mode="r")
for j in range(x.shape[1]):
    col = np.asarray(x[:, j], dtype=np.float64)
    stats.anderson(col, "norm", method="interpolate")
    stats.normaltest(col)
"""

FIRST_WORK = """
import sys, time
t0 = float(sys.argv[2])
from gaussaudit.stats.config import AuditConfig
from gaussaudit.workflows import audit_file
seen = []
def progress(label, done, total):
    if not seen:
        seen.append(time.time() - t0)
        print(f"FIRST {seen[0]:.3f}", flush=True)
audit_file(sys.argv[1], AuditConfig(tests=sys.argv[3]), progress=progress)
"""


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = f"{SRC}{os.pathsep}{env.get('PYTHONPATH', '')}"
    return env


def _timed(cmd: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=_env(), check=True)
    return time.perf_counter() - t0, out.stdout


def _write(path: Path, n: int, d: int) -> None:
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    rng = np.random.default_rng(0)
    for s in range(0, n, 50_000):
        out[s : s + 50_000] = rng.standard_normal((min(50_000, n - s), d), dtype=np.float32)
    out.flush()
    del out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="50000,200000")
    ap.add_argument("--d", type=int, default=768)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--tmp", default=tempfile.gettempdir())
    ap.add_argument("--no-default", action="store_true", help="skip the default battery")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, one repeat (smoke run)")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    d, repeats = args.d, args.repeats
    if args.quick:
        sizes, d, repeats = [400], 8, 1
    py = sys.executable
    quick_tests = "anderson_darling,dagostino_pearson,norms"
    print(f"cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.2f} at start")
    for n in sizes:
        path = Path(args.tmp) / f"bench_process_{n}x{d}.npy"
        _write(path, n, d)
        try:
            runs: dict[str, list[float]] = {}
            cmds = {
                "loop": [py, "-c", LOOP, str(path)],
                "ad_dp_norms": [
                    py,
                    "-m",
                    "gaussaudit",
                    "test",
                    str(path),
                    "--tests",
                    quick_tests,
                    "--report",
                    "json",
                ],
            }
            if not args.no_default:
                cmds["default"] = [py, "-m", "gaussaudit", "test", str(path), "--report", "json"]
            first: list[float] = []
            for r in range(repeats):
                for name, cmd in cmds.items():
                    seconds, _ = _timed(cmd)
                    runs.setdefault(name, []).append(seconds)
                    print(f"n={n} d={d} round {r} {name}: {seconds:.2f} s", flush=True)
                _, out = _timed([py, "-c", FIRST_WORK, str(path), repr(time.time()), quick_tests])
                first += [
                    float(line.split()[1]) for line in out.splitlines() if line.startswith("FIRST")
                ]
            best = {k: min(v) for k, v in runs.items()}
            loop = best["loop"]
            ratios = "  ".join(f"loop/{k} {loop / v:.2f}x" for k, v in best.items() if k != "loop")
            print(
                f"n={n} d={d} min of {repeats}: "
                + "  ".join(f"{k} {v:.2f} s" for k, v in best.items())
                + f"  | {ratios}  | time to first work {min(first):.3f} s"
                + f"  | load {os.getloadavg()[0]:.2f}",
                flush=True,
            )
        finally:
            path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
