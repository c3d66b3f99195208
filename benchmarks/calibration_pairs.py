"""Tabulate how strongly two correlated Gaussian columns' pass indicators agree.

Run: ``python benchmarks/calibration_pairs.py [--n 500] [--pairs 3000]``.

For each test whose pass fraction enters the calibrated verdict, and each
correlation rho on a grid, draws ``pairs`` independent pairs of N(0, 1)
columns of ``n`` rows with correlation rho, runs the test on both columns and
prints the correlation of the two pass indicators at alpha in {0.01, 0.05,
0.10}. ``gaussaudit.stats.calibration`` fits ``r(rho) = sum_k c_k |rho|^k``
(non-negative c_k, r(1) = 1) to these numbers; the fitted coefficients are
printed last, in the form pasted into ``_PAIR_COEFFICIENTS``.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from scipy.optimize import nnls

from gaussaudit.stats.epps_pulley import epps_pulley
from gaussaudit.stats.univariate import (
    anderson_darling,
    dagostino_pearson,
    jarque_bera,
    lilliefors,
    shapiro_wilk,
)

RHOS = (0.2, 0.4, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99, 0.995)
ALPHAS = (0.01, 0.05, 0.10)
POWERS = (4, 6, 8, 12, 16, 24, 32, 64)
KERNELS = {
    "anderson_darling": anderson_darling,
    "dagostino_pearson": dagostino_pearson,
    "epps_pulley": epps_pulley,
    "jarque_bera": jarque_bera,
    "lilliefors": lilliefors,
    "shapiro_wilk": shapiro_wilk,
}


def _indicator_corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(float), b.astype(float)
    sa, sb = a.std(), b.std()
    return float(np.mean((a - a.mean()) * (b - b.mean())) / (sa * sb)) if sa and sb else 0.0


def fit(rhos: np.ndarray, r: np.ndarray) -> list[float]:
    """Non-negative power-series fit through r(1) = 1 (heavily weighted point)."""
    basis = np.abs(rhos)[:, None] ** np.array(POWERS)[None, :]
    rows = np.vstack([basis, 100.0 * np.ones(len(POWERS))])
    coef, _ = nnls(rows, np.append(np.clip(r, 0, 1), 100.0))
    return [round(float(c), 5) for c in coef / coef.sum()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--pairs", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--tests", default=",".join(KERNELS))
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    base = rng.standard_normal((args.n, args.pairs))
    cols = [base]
    for rho in RHOS:
        other = rng.standard_normal((args.n, args.pairs))
        cols.append(rho * base + np.sqrt(1 - rho * rho) * other)
    x = np.hstack(cols)
    table: dict = {}
    for name in args.tests.split(","):
        res = KERNELS[name](x)
        k = args.pairs
        out = {}
        for alpha in ALPHAS if res.threshold is None else (None,):
            passed = res.passed(alpha if alpha is not None else 0.05)
            r = np.array(
                [_indicator_corr(passed[:k], passed[(i + 1) * k : (i + 2) * k])
                 for i in range(len(RHOS))]
            )  # fmt: skip
            out[str(alpha)] = {"r": [round(float(v), 4) for v in r], "fit": fit(np.array(RHOS), r)}
            print(name, alpha, out[str(alpha)]["r"], flush=True)
        table[name] = out
    print(json.dumps({"n": args.n, "pairs": args.pairs, "rhos": RHOS, "powers": POWERS,
                      "tests": table}))  # fmt: skip


if __name__ == "__main__":
    main()
