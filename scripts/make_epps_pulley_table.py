"""Simulate the null distribution of the Epps–Pulley statistic and save a table.

For every sample size n in the grid, ``reps`` standard normal samples of size n
are drawn and their Epps–Pulley statistics computed with
``gaussaudit.stats.epps_pulley``. Replicates are drawn in batches of
``batch`` samples, batch ``b`` of size ``n`` from
``numpy.random.default_rng([seed, n, b])``, so every row is reproducible on its
own and independent of the number of worker processes.

For each n the table stores the statistic at a grid of survival probabilities
``k / reps`` (the k-th largest simulated value), from 1 (the smallest value)
down to ``1 / reps`` (the largest): steps of 0.005 down to 0.1, then 40 points
per decade, log-spaced, in the upper tail.

Usage::

    python scripts/make_epps_pulley_table.py --reps 40000 --workers 2
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from gaussaudit.stats.epps_pulley import QUADRATURE_NODES, _statistics

DEFAULT_N = (8, 10, 15, 20, 30, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
DEFAULT_REPS = 40_000
DEFAULT_SEED = 20_250_101
DEFAULT_BATCH = 5_000
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "src/gaussaudit/data/epps_pulley_null.json"


def survival_grid(reps: int) -> np.ndarray:
    """Survival probabilities k/reps, from 1 down to 1/reps (strictly decreasing)."""
    bulk = np.linspace(1.0, 0.1, 181)
    decades = np.log10(reps) - 1.0
    tail = np.logspace(-1.0, -np.log10(reps), max(2, int(np.ceil(40 * decades)) + 1))
    k = np.unique(np.rint(np.concatenate([bulk, tail]) * reps).astype(np.int64))
    k = k[(k >= 1) & (k <= reps)]
    return k[::-1] / reps


def simulate_batch(n: int, size: int, seed: int, batch: int) -> np.ndarray:
    """Epps–Pulley statistics of ``size`` standard normal samples of size n."""
    rng = np.random.default_rng([seed, n, batch])
    z = rng.standard_normal((size, n))
    return _statistics(np.ascontiguousarray(z.T))


def _batches(n: int, reps: int, seed: int, batch: int) -> list[tuple[int, int, int, int]]:
    return [(n, min(batch, reps - start), seed, b) for b, start in enumerate(range(0, reps, batch))]


def _run(task: tuple[int, int, int, int]) -> np.ndarray:
    return simulate_batch(*task)


def simulate_null(
    n: int, reps: int, seed: int = DEFAULT_SEED, batch: int = DEFAULT_BATCH
) -> np.ndarray:
    """All ``reps`` simulated statistics for sample size n (sequential)."""
    return np.concatenate([_run(task) for task in _batches(n, reps, seed, batch)])


def quantile_row(stats: np.ndarray, survival: np.ndarray) -> list[float]:
    """Statistic at each survival probability: the k-th largest for k = p * reps."""
    reps = stats.size
    ordered = np.sort(stats)
    k = np.rint(survival * reps).astype(np.int64)
    return [float(f"{v:.9g}") for v in ordered[reps - k]]


def make_table(
    ns: tuple[int, ...] | list[int] = DEFAULT_N,
    reps: int = DEFAULT_REPS,
    seed: int = DEFAULT_SEED,
    *,
    batch: int = DEFAULT_BATCH,
    workers: int = 1,
) -> dict:
    """Simulate the null law for every n and return the JSON-ready table."""
    ns = sorted(int(n) for n in ns)
    survival = survival_grid(reps)
    tasks = [task for n in ns for task in _batches(n, reps, seed, batch)]
    if workers > 1:
        # Largest tasks first for load balance; results are reassembled in order.
        order = sorted(range(len(tasks)), key=lambda i: -tasks[i][0] * tasks[i][1])
        with ProcessPoolExecutor(max_workers=workers) as pool:
            done = dict(zip(order, pool.map(_run, [tasks[i] for i in order]), strict=True))
        results = [done[i] for i in range(len(tasks))]
    else:
        results = [_run(task) for task in tasks]
    by_n: dict[int, list[np.ndarray]] = {n: [] for n in ns}
    for task, res in zip(tasks, results, strict=True):
        by_n[task[0]].append(res)
    rows, means, sds = [], [], []
    for n in ns:
        stats = np.concatenate(by_n[n])
        rows.append(quantile_row(stats, survival))
        means.append(float(f"{stats.mean():.6g}"))
        sds.append(float(f"{stats.std(ddof=1):.6g}"))
    return {
        "statistic": "Epps-Pulley (BHEP, beta=1) on the sample standardised with ddof=0",
        "description": (
            "quantiles[i][j] is the statistic whose simulated upper-tail probability "
            "under H0 (i.i.d. normal, n[i] rows) is survival[j]; p-values interpolate "
            "log(survival) linearly in the statistic and in log(n)"
        ),
        "generator": "scripts/make_epps_pulley_table.py",
        "date": datetime.date.today().isoformat(),
        "numpy_version": np.__version__,
        "seed": seed,
        "reps": reps,
        "batch": batch,
        "rng": "numpy.random.default_rng([seed, n, batch_index]).standard_normal((batch, n))",
        "quadrature_nodes": QUADRATURE_NODES,
        "n": ns,
        "null_mean": means,
        "null_sd": sds,
        "survival": [float(f"{p:.9g}") for p in survival],
        "quantiles": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=DEFAULT_REPS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--n", type=int, nargs="+", default=list(DEFAULT_N))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    table = make_table(args.n, args.reps, args.seed, batch=args.batch, workers=args.workers)
    table["runtime_seconds"] = round(time.perf_counter() - start, 1)
    table["workers"] = args.workers
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(table, separators=(",", ":"))
    args.out.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(text) / 1024:.0f} KiB) in {table['runtime_seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
