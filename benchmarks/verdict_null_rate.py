"""Type-I rate of the verdicts on Gaussian data with the default battery.

Run: ``python benchmarks/verdict_null_rate.py [--reps 300]``. Each replicate is
an anisotropic Gaussian set of 2500 x 64 (coordinate scales 0.5 to 2), audited
on the raw view at alpha = 0.05 with its own seed. Prints how often the
calibrated verdict and the paper rule are false, and which checks caused it.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import numpy as np

from gaussaudit.stats import audit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--n", type=int, default=2500)
    parser.add_argument("--d", type=int, default=64)
    args = parser.parse_args()
    scales = np.diag(np.linspace(0.5, 2.0, args.d))
    calibrated_false = paper_false = 0
    causes: Counter[str] = Counter()
    start = time.perf_counter()
    for rep in range(args.reps):
        x = np.random.default_rng(1000 + rep).standard_normal((args.n, args.d)) @ scales
        verdict = audit(x, views=("raw",), seed=rep).views["raw"].verdict
        paper_false += verdict.paper_rule is False
        if verdict.calibrated is False:
            calibrated_false += 1
            causes.update(
                line.split(":")[0]
                for line in verdict.reasons
                if not line.startswith(("paper", "calibrated"))
            )
    elapsed = time.perf_counter() - start
    print(
        f"R = {args.reps}: calibrated verdict false {calibrated_false} "
        f"({calibrated_false / args.reps:.1%}), paper rule false {paper_false} "
        f"({paper_false / args.reps:.1%}); causes {dict(causes)}; {elapsed:.0f} s"
    )


if __name__ == "__main__":
    main()
