"""Generate the seeded datasets used for the R golden reference values.

Run from the repository root:

    .venv/bin/python tests/golden/make_data.py

Only numpy is used.  All datasets are drawn from ONE generator,
``np.random.default_rng(20261123)``, in exactly this order (changing the
order, the sizes or the numpy Generator algorithm changes every file):

1. gauss_n50_d4.csv    rng.standard_normal((50, 4))
2. mixed_n200_d5.csv   five columns, each drawn as a whole column, in order:
                         x1 = rng.standard_normal(200)
                         x2 = rng.standard_t(5, 200)
                         x3 = rng.exponential(1.0, 200)
                         x4 = rng.uniform(0.0, 1.0, 200)
                         x5 = rng.lognormal(0.0, 0.5, 200)
3. gauss_n15_d3.csv    rng.standard_normal((15, 3))
                       (n < 20: exercises Mardia's small-sample correction)
4. heavy_n300_d3.csv   multivariate t, 4 df:
                         Z = rng.standard_normal((300, 3))
                         W = rng.chisquare(4, 300)
                         X = Z / sqrt(W / 4)[:, None]
5. gauss_n6000_d2.csv  rng.standard_normal((6000, 2))
                       (n > 5000: only for the per-column AD / Lilliefors
                       tests, Shapiro-Wilk is not defined there in R)

Files are written as CSV with a header ``x1,...,xd`` and every value with
``%.17g`` so that they round-trip exactly to IEEE doubles.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SEED = 20261123
DATA_DIR = Path(__file__).resolve().parent / "data"


def make_datasets() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(SEED)
    out: dict[str, np.ndarray] = {}

    # 1. standard normal, n=50, d=4
    out["gauss_n50_d4"] = rng.standard_normal((50, 4))

    # 2. mixed marginals, n=200, d=5 (same rng, continued)
    n = 200
    c1 = rng.standard_normal(n)
    c2 = rng.standard_t(5, n)
    c3 = rng.exponential(1.0, n)
    c4 = rng.uniform(0.0, 1.0, n)
    c5 = rng.lognormal(0.0, 0.5, n)
    out["mixed_n200_d5"] = np.column_stack([c1, c2, c3, c4, c5])

    # 3. small Gaussian sample, n=15, d=3
    out["gauss_n15_d3"] = rng.standard_normal((15, 3))

    # 4. multivariate t with 4 df, n=300, d=3
    z = rng.standard_normal((300, 3))
    w = rng.chisquare(4, 300)
    out["heavy_n300_d3"] = z / np.sqrt(w / 4.0)[:, None]

    # 5. large Gaussian sample, n=6000, d=2 (univariate tests only)
    out["gauss_n6000_d2"] = rng.standard_normal((6000, 2))

    return out


def write_csv(path: Path, x: np.ndarray) -> None:
    header = ",".join(f"x{j + 1}" for j in range(x.shape[1]))
    np.savetxt(path, x, fmt="%.17g", delimiter=",", header=header, comments="")


def main() -> None:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for name, x in make_datasets().items():
        path = DATA_DIR / f"{name}.csv"
        write_csv(path, x)
        # round-trip check: the CSV must reproduce the doubles exactly
        back = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
        assert back.shape == x.shape and np.array_equal(back, x), name
        print(f"wrote {path.relative_to(DATA_DIR.parent.parent.parent)} {x.shape}")


if __name__ == "__main__":
    main()
