"""Exact full-view Mardia (streamed Gram tiles) against the Gram products it needs; peak RSS.

Run each half in its own process (so each peak RSS is its own), interleaved, e.g.::

    for w in gram mardia gram mardia; do python benchmarks/bench_mardia_gram.py 100000 768 $w; done

``gram`` times the ``i <= j`` tiles (4,096 x 1,024 rows) of ``z z'`` in float64 and nothing
else: the n^2 d / 2 multiply-adds Mardia cannot avoid. ``mardia`` times
:func:`gaussaudit.stats.engines.mardia_henze_zirkler_stream` (co-moment pass, whitening, the
same tiles, the cubed and squared Gram sums) on a seeded float32 matrix held in memory. Prints
one line each; the ratio is mardia / gram. It never fails on a number.
"""

import resource
import sys
import time

import numpy as np

n, d, what = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
outer, inner = 4096, 1024
if what == "gram":  # the i <= j tiles of z z' in float64, nothing else
    z = np.random.default_rng(1).standard_normal((n, d))
    t0 = time.perf_counter()
    for i in range(0, n, outer):
        a = z[i : i + outer]
        for j in range(i, n, inner):
            g = a @ z[j : j + inner].T
    out = f"gram {time.perf_counter() - t0:.1f} s"
else:
    from gaussaudit.stats.engines import mardia_henze_zirkler_stream
    from gaussaudit.stats.engines.source import ArraySource

    x = np.random.default_rng(0).standard_normal((n, d)).astype(np.float32)
    t0 = time.perf_counter()
    m, _ = mardia_henze_zirkler_stream(
        ArraySource(x), which=("mardia",), outer_rows=outer, block_rows=inner
    )
    out = f"mardia {time.perf_counter() - t0:.1f} s b1 {m.b1:.6g}"
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
print(f"n={n} d={d} {out} peak RSS {rss:.2f} GiB (input float32 {n * d * 4 / 2**30:.2f} GiB)")
