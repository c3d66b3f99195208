"""Which verdict catches which departure: the power table of docs/calibration.md.

Run: ``python benchmarks/power_table.py [--n 2000] [--reps 1] [--views raw,zca]``.

Each alternative is audited on the raw, normalized, whitened (PCA) and zca views with the
default battery at alpha = 0.05 and decided by the paper rule, the old
calibrated rule (``calibration="binomial"``), the new calibrated rule
(``calibration="dependence"``) and the practical verdict (margin 0.02); the
diagnosis codes are listed. Cells give the fraction of replicates rejected
("not Gaussian"; for the practical verdict: outside the margin).
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np

from gaussaudit.stats import AuditConfig, audit
from gaussaudit.stats.verdict import decide


def one_bad_coordinate(n: int, rng: np.random.Generator) -> np.ndarray:
    x = rng.standard_normal((n, 768))
    t = rng.standard_t(3, n)
    x[:, 0] = (t - t.mean()) / t.std()
    return x


def lognormal_factor(n: int, rng: np.random.Generator) -> np.ndarray:
    d = 64
    f = np.exp(rng.standard_normal(n))
    f = (f - f.mean()) / f.std()
    w = rng.standard_normal(d)
    return rng.standard_normal((n, d)) + np.outer(f, w / np.linalg.norm(w))


def clusters(n: int, rng: np.random.Generator) -> np.ndarray:
    d = 64
    centres = rng.standard_normal((10, d))
    centres *= 3.0 / np.sqrt(2.0) / np.linalg.norm(centres, axis=1, keepdims=True)
    return centres[rng.integers(0, 10, n)] + rng.standard_normal((n, d))


def post_relu(n: int, rng: np.random.Generator) -> np.ndarray:
    return np.maximum(rng.standard_normal((n, 64)), 0.0)


def t10(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_t(10, (n, 64))


ALTERNATIVES = {
    "one t(3) coordinate of 768": one_bad_coordinate,
    "lognormal factor (d=64)": lognormal_factor,
    "10 clusters, 3 sigma apart (d=64)": clusters,
    "post-ReLU (d=64)": post_relu,
    "t(10) (d=64)": t10,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--views", default="raw,normalized,whitened,zca")
    parser.add_argument("--only", default="", help="comma-separated alternative numbers (1-5)")
    args = parser.parse_args()
    cfg = AuditConfig(views=args.views, verdict="calibrated")
    chosen = {int(i) for i in args.only.split(",") if i}
    print(
        "| alternative | view | paper | old calibrated | new calibrated | practical | diagnosis |"
    )
    print("|---|---|---|---|---|---|---|")
    for number, (label, make) in enumerate(ALTERNATIVES.items(), start=1):
        if chosen and number not in chosen:
            continue
        rows: dict[str, list] = {}
        for rep in range(args.reps):
            x = make(args.n, np.random.default_rng(500 + rep))
            res = audit(x, replace(cfg, seed=rep))
            for v, view in res.views.items():
                old = decide(view, replace(cfg, calibration="binomial")).calibrated
                r = rows.setdefault(v, [0, 0, 0, 0, set()])
                r[0] += view.verdict.paper_rule is False
                r[1] += old is False
                r[2] += view.verdict.calibrated is False
                r[3] += view.verdict.practically_gaussian is False
                r[4].update(f.code for f in view.diagnosis)
        for v, r in rows.items():
            cells = " | ".join(f"{c}/{args.reps}" for c in r[:4])
            print(f"| {label} | {v} | {cells} | {', '.join(sorted(r[4])) or '-'} |", flush=True)


if __name__ == "__main__":
    main()
