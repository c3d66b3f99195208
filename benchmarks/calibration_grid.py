"""False-rejection rate of the calibrated verdict, old rule against new, on Gaussian data.

Run: ``python benchmarks/calibration_grid.py [--scale 1.0] [--rows 200,2000]
[--dims 2,8] [--reps R] [--first F]``.

Each replicate is an anisotropic Gaussian set (eigenvalues 1/k, k = 1..d, in a
Haar-random rotation), audited with the default battery on the raw and
whitened views at alpha = 0.05 with its own seed. The same audit is decided
twice: ``calibration="binomial"`` (the previous rule) and
``calibration="dependence"`` (the new default). Replicates per cell fall with
the cost of a cell (``REPS`` times ``--scale``); the printed band is the
central 95 % binomial interval of the rejection count at the nominal 5 %.
``--reps`` fixes the replicates of every cell and ``--first`` starts at
replicate F (seeds F, F+1, ...), so that a later run adds replicates to an
earlier one without repeating its data sets.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace

import numpy as np
from scipy import stats

from gaussaudit.stats import AuditConfig, audit
from gaussaudit.stats.verdict import decide

DIMS = (2, 8, 64, 768)
ROWS = (200, 2000, 10000)
REPS = {200: 60, 2000: 30, 10000: 8}
BIG_REPS = {2000: 12, 10000: 3}  # d = 768


def sample(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    q *= np.sign(np.diag(r))
    scales = 1.0 / np.sqrt(np.arange(1, d + 1))
    return (rng.standard_normal((n, d)) * scales) @ q.T


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--dims", default=",".join(map(str, DIMS)))
    parser.add_argument("--rows", default=",".join(map(str, ROWS)))
    parser.add_argument("--reps", type=int, default=None, help="replicates per cell")
    parser.add_argument("--first", type=int, default=0, help="first replicate index")
    args = parser.parse_args()
    cfg = AuditConfig(views=("raw", "whitened"), verdict="calibrated")
    old_cfg = replace(cfg, calibration="binomial")
    print("| d | n | view | reps | old rule | new (dependence) | 95% band of count |")
    print("|---|---|---|---|---|---|---|")
    total = time.perf_counter()
    for n in map(int, args.rows.split(",")):
        for d in map(int, args.dims.split(",")):
            base = BIG_REPS.get(n, REPS[n]) if d >= 512 else REPS[n]
            reps = args.reps if args.reps else max(2, round(base * args.scale))
            counts = {v: [0, 0] for v in cfg.views}
            start = time.perf_counter()
            for rep in range(args.first, args.first + reps):
                x = sample(n, d, np.random.default_rng(10_000 * d + n + rep))
                res = audit(x, replace(cfg, seed=rep))
                for v, view in res.views.items():
                    counts[v][0] += decide(view, replace(old_cfg, seed=rep)).calibrated is False
                    counts[v][1] += view.verdict.calibrated is False
            lo, hi = stats.binom.ppf([0.025, 0.975], reps, 0.05)
            for v, (old, new) in counts.items():
                print(
                    f"| {d} | {n} | {v} | {reps} | {old}/{reps} ({old / reps:.0%}) | "
                    f"{new}/{reps} ({new / reps:.0%}) | {int(lo)}-{int(hi)} |",
                    flush=True,
                )
            print(f"<!-- d={d} n={n}: {time.perf_counter() - start:.0f} s -->", file=sys.stderr)
    print(f"<!-- total {time.perf_counter() - total:.0f} s -->", file=sys.stderr)


if __name__ == "__main__":
    main()
