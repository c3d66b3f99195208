"""Calibration and power of the subspace Mardia / Henze–Zirkler tests against (k, S).

Run: ``python benchmarks/study_subspaces.py [--reps 64 --null-reps 200 --jobs 2]``.
``--quick`` shrinks everything to a smoke run (about 15 s of CPU).

For every replicate data set and every subspace dimension k the study computes the
Mardia skewness, Mardia kurtosis and Henze–Zirkler p-values of ``max(S)`` seeded
Haar-random k-subspaces plus the top-k principal subspace, exactly as
:func:`gaussaudit.stats.multivariate.subspace_tests` does. Because the random
frames are drawn as one seeded tensor, the frames for S subspaces are the first S
of the frames for ``max(S)`` (checked below), so every smaller S is a prefix of the
same p-values and costs nothing extra. The decision of a data set at (k, S) is the
calibrated verdict's rule (``battery._verdict``): reject when a Holm correction at
alpha over all 3·(S+1) p-values rejects anything (3·S without the principal
subspace).

The p-values come from a faster re-implementation of ``subspace_tests`` (Mardia's
skewness sum via the third-moment tensor, ``sum_jk (y_j.y_k)^3 = n^2 ||T||^2``;
Henze–Zirkler's kernel sum by one augmented matrix product per row block,
optionally in PyTorch) with the library's own p-value formulas; the script checks
it against ``subspace_tests`` on a null and a t(8) data set at every k and prints
the largest p-value difference. It also times ``subspace_tests`` itself per (k, S, n) and the
whole battery on one view.

With ``--tail-draws`` it also simulates the exact null law of one subspace's three
p-values (N(0, I_k) samples: the tests are affine invariant) deep in the tail, where
Holm's threshold alpha/(3(S+1)) lies, and turns it into a Bonferroni bound on the
Holm-combined type-I error (``--skip-study`` runs only that part).

Prints markdown tables. Wall-clock numbers are reports, not pass/fail tests. Results and
the recommended defaults: ``docs/subspace-study.md``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy import stats

TESTS = ("skew", "kurt", "hz")
ALTERNATIVES = {
    "t8": "Student-t(8) i.i.d. coordinates, d = D",
    "scale_mix_0.25": "Gaussian scale mixture g·r, r ~ lognormal(0, 0.25) per row",
    "scale_mix_0.1": "Gaussian scale mixture g·r, r ~ lognormal(0, 0.1) per row (weaker)",
    "relu": "relu(g W), W random D x D with N(0, 1/D) entries",
    "sphere16": "uniform on the unit sphere in d = 16, times sqrt(16)",
    "sign_chain": "x_j = |g_j| sign(g_{j+1}) (cyclic), as specified: exactly N(0, I)",
    "sign_pairs": "pairs x_2i = |g_2i| sign(g_2i+1), x_2i+1 = g_2i+1: N(0,1) marginals",
    "sphere_D": "uniform on the unit sphere in d = D, times sqrt(D) (paper's normalised view)",
}


# --------------------------------------------------------------------------- data


def make_data(kind: str, n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """One replicate data set of ``n`` rows."""
    if kind == "null":
        q, r = np.linalg.qr(rng.standard_normal((d, d)))
        q *= np.sign(np.diag(r))
        scale = 1.0 / np.sqrt(np.arange(1, d + 1))
        return (rng.standard_normal((n, d)) * scale) @ q.T
    if kind == "t8":
        return rng.standard_t(8, size=(n, d))
    if kind.startswith("scale_mix_"):
        sigma = float(kind.rsplit("_", 1)[1])
        return rng.standard_normal((n, d)) * rng.lognormal(0.0, sigma, size=(n, 1))
    if kind == "relu":
        w = rng.standard_normal((d, d)) / np.sqrt(d)
        return np.maximum(rng.standard_normal((n, d)) @ w, 0.0)
    if kind in ("sphere16", "sphere_D"):
        dd = 16 if kind == "sphere16" else d
        g = rng.standard_normal((n, dd))
        return np.sqrt(dd) * g / np.linalg.norm(g, axis=1, keepdims=True)
    if kind == "sign_chain":
        g = rng.standard_normal((n, d))
        return np.abs(g) * np.sign(np.roll(g, -1, axis=1))
    if kind == "sign_pairs":
        g = rng.standard_normal((n, d))
        x = g.copy()
        x[:, 0::2] = np.abs(g[:, 0::2]) * np.sign(g[:, 1::2])
        return x
    raise ValueError(kind)


# ------------------------------------------------------------------ fast p-values


class _Kernel:
    """Henze–Zirkler kernel sums ``sum_jk exp(-beta^2/2 ||y_j - y_k||^2)``."""

    def __init__(self, engine: str, block: int = 512):
        self.block = block
        self.torch = None
        if engine == "torch":
            import torch

            torch.set_num_threads(1)
            self.torch = torch
        self._buf: dict = {}

    def _buffer(self, shape):
        if shape not in self._buf:
            if self.torch is not None:
                self._buf[shape] = self.torch.empty(shape, dtype=self.torch.float64)
            else:
                self._buf[shape] = np.empty(shape)
        return self._buf[shape]

    def exp_sum(self, y: np.ndarray, beta: float) -> float:
        n = y.shape[0]
        h = 0.5 * beta * beta * np.einsum("ij,ij->i", y, y)
        ones = np.ones((n, 1))
        # left_j . right_k = beta^2 y_j.y_k - h_j - h_k = -beta^2/2 ||y_j - y_k||^2
        left = np.hstack([beta * y, -h[:, None], ones])
        right = np.hstack([beta * y, ones, -h[:, None]])
        nb = -(-n // self.block)
        edges = np.linspace(0, n, nb + 1).astype(int)
        lefts = [left[edges[a] : edges[a + 1]] for a in range(nb)]
        rights = [np.ascontiguousarray(right[edges[a] : edges[a + 1]].T) for a in range(nb)]
        if self.torch is not None:
            lefts = [self.torch.from_numpy(v) for v in lefts]
            rights = [self.torch.from_numpy(v) for v in rights]
        total = 0.0
        for a in range(nb):
            li = lefts[a]
            for b in range(a, nb):
                rj = rights[b]
                e = self._buffer((li.shape[0], rj.shape[1]))
                if self.torch is not None:
                    self.torch.mm(li, rj, out=e)
                    e.exp_()
                    s = float(e.sum())
                else:
                    np.matmul(li, rj, out=e)
                    np.exp(e, out=e)
                    s = float(e.sum())
                total += s if a == b else 2.0 * s
        return total


def subspace_pvalues(
    x: np.ndarray, k: int, n_random: int, seed: int, kernel: _Kernel
) -> np.ndarray:
    """Array (3, n_random + 1): skew, kurt, HZ p-values; last column = principal."""
    from gaussaudit.stats.multivariate import _hz_from, _mardia_from, hz_beta
    from gaussaudit.stats.projections import random_orthonormal_frames

    n, d = x.shape
    c = x - x.mean(axis=0)
    c /= np.max(np.abs(c)) or 1.0
    _vals, vecs = np.linalg.eigh(c.T @ c / n)
    frames = np.concatenate(
        [random_orthonormal_frames(d, k, n_random, seed=seed), vecs[:, ::-1][None, :, :k]]
    )
    proj = c @ frames.transpose(1, 0, 2).reshape(d, -1)  # (n, (S+1) k)
    beta = hz_beta(n, k)
    out = np.empty((3, len(frames)))
    for s in range(len(frames)):
        p = proj[:, s * k : (s + 1) * k]
        p = p - p.mean(axis=0)
        w, v = np.linalg.eigh(p.T @ p / n)
        y = (p @ v) / np.sqrt(w)
        sq = np.einsum("ij,ij->i", y, y)
        third = ((y[:, :, None] * y[:, None, :]).reshape(n, k * k).T @ y) / n
        cube_sum = float(np.sum(third * third)) * n * n  # = sum_jk (y_j . y_k)^3
        m = _mardia_from(n, k, cube_sum, sq)
        h = _hz_from(n, k, kernel.exp_sum(y, beta), sq)
        out[:, s] = (m.skewness.pvalue, m.kurtosis.pvalue, h.pvalue)
    return out


# ------------------------------------------------------------------------ workers

_KERNEL: _Kernel | None = None


def _init(engine: str) -> None:
    global _KERNEL
    _KERNEL = _Kernel(engine)


def run_replicate(task: tuple) -> tuple[str, int, np.ndarray]:
    """P-values of one data set: array (len(ns), len(ks), 3, max(S) + 1)."""
    kind, rep, seed, ns, ks, s_max, d = task
    stream = 0 if kind == "null" else list(ALTERNATIVES).index(kind) + 1
    rng = np.random.default_rng([seed, stream, rep])
    x = make_data(kind, max(ns), d, rng)
    out = np.empty((len(ns), len(ks), 3, s_max + 1))
    for i, n in enumerate(ns):
        for j, k in enumerate(ks):
            out[i, j] = subspace_pvalues(x[:n], k, s_max, seed + rep, _KERNEL)
    return kind, rep, out


def _progress(done: int, total: int, since: float) -> None:
    if done % 25 == 0 or done == total:
        el = time.perf_counter() - since
        print(f"  {done}/{total} data sets, {el:.0f} s", file=sys.stderr, flush=True)


def pool_map(func, tasks: list, jobs: int, engine: str):
    """Yield ``func(task)`` in order, on ``jobs`` spawned worker processes."""
    if jobs > 1:
        # One BLAS/OpenMP thread per worker: the workers are the parallelism.
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = "1"
        ctx = multiprocessing.get_context("spawn")  # no fork after torch/BLAS threads started
        with ProcessPoolExecutor(
            jobs, mp_context=ctx, initializer=_init, initargs=(engine,)
        ) as pool:
            yield from pool.map(func, tasks, chunksize=1)
    else:
        _init(engine)
        yield from map(func, tasks)


def _whiten_batch(x: np.ndarray) -> np.ndarray:
    """Mahalanobis-whiten each (n, k) slice of a (B, n, k) array (covariance ddof 0)."""
    x = x - x.mean(axis=1, keepdims=True)
    w, v = np.linalg.eigh(np.matmul(x.transpose(0, 2, 1), x) / x.shape[1])
    return np.matmul(x, v) / np.sqrt(w)[:, None, :]


def tail_cell(task: tuple) -> tuple[int, int, np.ndarray, np.ndarray]:
    """Null p-values of one subspace test on exactly Gaussian N(0, I_k) samples.

    Under H0 the data in a fixed subspace are i.i.d. Gaussian and all three tests
    are affine invariant, so this is the exact null law of one subspace's p-values.
    Returns (n, k, mardia (draws, 3): skew p, kurt p, kurt z; hz p (hz_draws,)).
    """
    from gaussaudit.stats.multivariate import _hz_from, _mardia_from, hz_beta

    n, k, draws, hz_draws, seed = task
    rng = np.random.default_rng([seed, 99, n, k])
    mardia = np.empty((draws, 3))
    batch = max(1, int(2e7 // (n * k * k)))
    for b0 in range(0, draws, batch):
        y = _whiten_batch(rng.standard_normal((min(batch, draws - b0), n, k)))
        sq = np.einsum("bij,bij->bi", y, y)
        outer = (y[:, :, :, None] * y[:, :, None, :]).reshape(len(y), n, k * k)
        third = np.matmul(outer.transpose(0, 2, 1), y) / n
        cube = np.sum(third * third, axis=(1, 2)) * n * n
        for i in range(len(y)):
            m = _mardia_from(n, k, float(cube[i]), sq[i])
            mardia[b0 + i] = (m.skewness.pvalue, m.kurtosis.pvalue, m.kurtosis.statistic)
    beta = hz_beta(n, k)
    hz = np.empty(hz_draws)
    for i in range(hz_draws):
        y = _whiten_batch(rng.standard_normal((1, n, k)))[0]
        sq = np.einsum("ij,ij->i", y, y)
        hz[i] = _hz_from(n, k, _KERNEL.exp_sum(y, beta), sq).pvalue
    return n, k, mardia, hz


def holm_any(p: np.ndarray, alpha: float) -> np.ndarray:
    """Holm rejects anything  <=>  min p <= alpha / m (step-down's first step).

    ``p`` has the hypotheses on its last axis; returns a boolean per leading index.
    """
    m = np.sum(np.isfinite(p), axis=-1)
    return np.nanmin(p, axis=-1) <= alpha / m


# ---------------------------------------------------------------------- reporting


def md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def pct(v: float) -> str:
    return f"{100 * v:.1f}"


def run_study(args, ks, ss, ns, alts, null_reps, engine) -> None:
    """Sanity checks, timings, replicate data sets and their tables."""
    from gaussaudit import audit
    from gaussaudit.stats.multiplicity import reject
    from gaussaudit.stats.multivariate import subspace_tests
    from gaussaudit.stats.projections import random_orthonormal_frames

    s_max, alpha, d = ss[-1], args.alpha, args.d
    # ---- sanity: prefix property and agreement with subspace_tests
    big = random_orthonormal_frames(d, ks[0], s_max, seed=3)
    small = random_orthonormal_frames(d, ks[0], ss[0], seed=3)
    assert np.array_equal(big[: ss[0]], small), "frames are not prefixes"
    kernel = _Kernel(engine)
    worst = 0.0
    for kind in ("null", "t8"):
        x = make_data(kind, ns[-1], d, np.random.default_rng(99))
        for k in ks:
            fast = subspace_pvalues(x, k, ss[0], 7, kernel)
            ref = subspace_tests(x, k=k, n_subspaces=ss[0], seed=7)
            lib = np.vstack(
                [
                    ref.mardia_skewness_pvalues,
                    ref.mardia_kurtosis_pvalues,
                    ref.henze_zirkler_pvalues,
                ]
            )
            worst = max(worst, float(np.max(np.abs(fast - lib))))
    print(
        f"Agreement of the study's p-values with `subspace_tests` (null and t8 data, n = {ns[-1]}, "
        f"every k, S = {ss[0]} + principal): max |dp| = {worst:.1e}\n"
    )
    assert worst < 1e-8, worst

    # ---- timing of the library call
    if not args.no_timing:
        x = make_data("null", ns[-1], d, np.random.default_rng(5))
        subspace_tests(x[: ns[0]], k=ks[0], n_subspaces=ss[0])  # warm-up
        rows = []
        for n in ns:
            for k in ks:
                row = [str(n), str(k)]
                for s in ss:
                    t0 = time.perf_counter()
                    subspace_tests(x[:n], k=k, n_subspaces=s)
                    row.append(f"{time.perf_counter() - t0:.2f}")
                rows.append(row)
        print("## Time of one `subspace_tests` call (s, principal included, 1 run each)\n")
        print(md_table(["n", "k", *[f"S={s}" for s in ss]], rows))
        audit(x[: ns[0]], views=("raw",), subspaces=ss[0])  # warm-up
        rows = []
        for s in (0, *ss):
            t0 = time.perf_counter()
            audit(x, views=("raw",), subspace_dim=3, subspaces=s, seed=0)
            t3 = time.perf_counter() - t0
            t0 = time.perf_counter()
            audit(x, views=("raw",), subspace_dim=ks[-1], subspaces=s, seed=0)
            rows.append([str(s), f"{t3:.2f}", f"{time.perf_counter() - t0:.2f}"])
        print(f"\n## Whole battery on one view (`audit(x, views=('raw',))`), n = {ns[-1]}, s\n")
        print(md_table(["S", "k=3", f"k={ks[-1]}"], rows))
        print()

    # ---- replicates
    tasks = [("null", r, args.seed, ns, ks, s_max, d) for r in range(null_reps)]
    tasks += [(a, r, args.seed, ns, ks, s_max, d) for a in alts for r in range(args.reps)]
    results: dict[str, list] = {}
    t_rep = time.perf_counter()
    for i, (kind, _rep, out) in enumerate(pool_map(run_replicate, tasks, args.jobs, engine)):
        results.setdefault(kind, []).append(out)
        _progress(i + 1, len(tasks), t_rep)
    t_rep = time.perf_counter() - t_rep
    per_set = t_rep * args.jobs / len(tasks)
    print(
        f"Replicates: {len(tasks)} data sets in {t_rep:.0f} s with {args.jobs} worker(s) "
        f"({per_set:.2f} s of one core per data set for all n, k and {s_max} + 1 subspaces).\n"
    )
    P = {kind: np.stack(v) for kind, v in results.items()}  # (R, n, k, 3, S+1)
    if args.save:
        np.savez_compressed(args.save, ns=ns, ks=ks, s_max=s_max, **P)
    flat = P["null"][:, -1, 0].reshape(len(P["null"]), -1)
    flat = np.concatenate([flat, flat * (20 * alpha) ** np.linspace(0, 1, flat.shape[1])])
    assert np.array_equal(holm_any(flat, alpha), [reject(r, alpha).any() for r in flat])

    # ---- type I: per-subspace rates
    null = P["null"]
    rnull = null.shape[0]
    print("## Type I, per subspace: rejection rate (%) of each test at alpha\n")
    print(
        f"Anisotropic Gaussian (random rotation, eigenvalues 1/i), R = {rnull}. 'random' pools "
        f"{s_max} random subspaces x R data sets (binomial s.e. for independent tests "
        f"{pct(np.sqrt(alpha * (1 - alpha) / (rnull * s_max)))}); 'principal' is the top-k "
        f"principal subspace (s.e. {pct(np.sqrt(alpha * (1 - alpha) / rnull))}).\n"
    )
    rows = []
    for i, n in enumerate(ns):
        for j, k in enumerate(ks):
            rnd = null[:, i, j, :, :s_max] <= alpha
            pri = null[:, i, j, :, s_max] <= alpha
            rows.append(
                [str(n), str(k)]
                + [pct(rnd[:, t].mean()) for t in range(3)]
                + [pct(pri[:, t].mean()) for t in range(3)]
            )
    print(
        md_table(
            [
                "n",
                "k",
                "skew random",
                "kurt random",
                "HZ random",
                "skew principal",
                "kurt principal",
                "HZ principal",
            ],
            rows,
        )
    )

    # ---- type I: Holm FWER
    print("\n## Type I, Holm-combined decision: % of null data sets rejected\n")
    print(
        f"Holm at alpha = {alpha} over all 3·(S+1) p-values (principal = True, the battery's "
        f"setting) and over 3·S (principal = False); '0' = principal subspace alone. "
        f"Binomial s.e. at 5%: {pct(np.sqrt(alpha * (1 - alpha) / rnull))}.\n"
    )
    rows = []
    for i, n in enumerate(ns):
        for j, k in enumerate(ks):
            p = null[:, i, j]
            row = [str(n), str(k), pct(holm_any(p[:, :, s_max], alpha).mean())]
            for s in ss:
                with_p = np.concatenate([p[:, :, :s], p[:, :, s_max:]], axis=2)
                row.append(pct(holm_any(with_p.reshape(rnull, -1), alpha).mean()))
            for s in ss:
                row.append(pct(holm_any(p[:, :, :s].reshape(rnull, -1), alpha).mean()))
            rows.append(row)
    print(
        md_table(
            ["n", "k", "S=0 (PC)", *[f"S={s}" for s in ss], *[f"S={s} no PC" for s in ss]],
            rows,
        )
    )

    # ---- power
    def power(arr: np.ndarray, i: int, j: int, s: int, principal: bool = True) -> float:
        p = arr[:, i, j]
        if principal:
            p = np.concatenate([p[:, :, :s], p[:, :, s_max:]], axis=2)
        else:
            p = p[:, :, :s]
        return float(holm_any(p.reshape(p.shape[0], -1), alpha).mean())

    print(
        f"\n## Power: % of data sets where the Holm-combined decision rejects "
        f"(principal included; R = {args.reps})\n"
    )
    header = ["alternative", "n", "k", *[f"S={s}" for s in ss], f"S={s_max} no PC", "PC only"]
    rows = []
    for a in alts:
        arr = P[a]
        for i, n in enumerate(ns):
            for j, k in enumerate(ks):
                p_pc = arr[:, i, j, :, s_max]
                rows.append(
                    [a, str(n), str(k)]
                    + [pct(power(arr, i, j, s)) for s in ss]
                    + [
                        pct(power(arr, i, j, s_max, principal=False)),
                        pct(holm_any(p_pc, alpha).mean()),
                    ]
                )
    print(md_table(header, rows))

    print(
        f"\n## Which test carries the power: per-subspace rejection rate (%) at alpha, "
        f"random subspaces, n = {ns[-1]}\n"
    )
    rows = []
    for a in ["null", *alts]:
        arr = P[a]
        for j, k in enumerate(ks):
            rej = arr[:, -1, j, :, :s_max] <= alpha
            rows.append([a, str(k)] + [pct(rej[:, t].mean()) for t in range(3)])
    print(md_table(["data", "k", "skew", "kurt", "HZ"], rows))

    # ---- marginal check of the sign constructions
    rng = np.random.default_rng(args.seed)
    rows = []
    for a in ("sign_chain", "sign_pairs"):
        x = make_data(a, 20000, d, rng)
        ks_p = [stats.kstest(x[:, c], "norm").pvalue for c in range(d)]
        corr = np.corrcoef(x, rowvar=False)
        off = np.abs(corr - np.eye(d)).max()
        kurt = stats.kurtosis(x, axis=0)
        # a non-Gaussian joint feature: P(x_0 x_1 > 0) is 1/2 under N(0, I)
        same_sign = float(np.mean(x[:, 0] * x[:, 1] > 0))
        rows.append(
            [
                a,
                f"{np.mean(np.array(ks_p) > alpha):.2f}",
                f"{np.abs(x.mean(0)).max():.3f}",
                f"{np.abs(x.var(0) - 1).max():.3f}",
                f"{np.abs(kurt).max():.3f}",
                f"{off:.3f}",
                f"{same_sign:.3f}",
            ]
        )
    print("\n## Marginal check of the sign constructions (n = 20000 rows, every coordinate)\n")
    print(
        md_table(
            [
                "data",
                "KS vs N(0,1): pass fraction",
                "max abs mean",
                "max abs(var - 1)",
                "max abs excess kurtosis",
                "max abs off-diagonal corr",
                "P(x_0 x_1 > 0)",
            ],
            rows,
        )
    )


def run_tail(args, ks, ns, engine) -> None:
    """Exact-null tail calibration of one subspace's three p-values, and the Holm bound."""
    alpha, ss = args.alpha, sorted(int(v) for v in args.ss.split(","))
    hz_draws = {n: max(1, round(args.tail_hz_draws * ns[0] / n)) for n in ns}
    tasks = [(n, k, args.tail_draws, hz_draws[n], args.seed) for n in ns for k in ks]
    t0 = time.perf_counter()
    cells = {(n, k): (m, h) for n, k, m, h in pool_map(tail_cell, tasks, args.jobs, engine)}
    print(
        f"\n## Tail calibration of one subspace's p-values (exact null: N(0, I_k) samples)\n\n"
        f"Ratio P(p <= t) / t; 1 = exact, > 1 = liberal. Mardia from {args.tail_draws} draws "
        f"per cell, Henze-Zirkler from {', '.join(f'{hz_draws[n]} (n = {n})' for n in ns)}; "
        f"{time.perf_counter() - t0:.0f} s. Holm's first step compares the smallest of "
        f"3(S+1) p-values with alpha/(3(S+1)) = "
        f"{', '.join(f'{alpha / (3 * (s + 1)):.1e} (S={s})' for s in ss)}.\n"
    )
    ts = (0.05, 0.005, 0.002, 0.0005)
    rows = []
    for n in ns:
        for k in ks:
            m, h = cells[(n, k)]
            z = m[:, 2]
            row = [str(n), str(k), f"{np.mean(z):+.2f}", f"{stats.skew(z):.2f}"]
            for t in ts:
                up = np.mean((m[:, 1] <= t) & (z > 0)) / (t / 2)
                row.append(
                    f"{np.mean(m[:, 0] <= t) / t:.2f} / {np.mean(m[:, 1] <= t) / t:.2f} "
                    f"({up:.1f}) / {np.mean(h <= t) / t:.2f}"
                )
            rows.append(row)
    print("Cells: skew / kurt (upper tail alone) / HZ.\n")
    print(md_table(["n", "k", "mean z_kurt", "skewness z_kurt", *[f"t = {t}" for t in ts]], rows))
    rows = []
    for n in ns:
        for k in ks:
            m, h = cells[(n, k)]
            row = [str(n), str(k)]
            for s in ss:
                t = alpha / (3 * (s + 1))
                tails = np.mean(m[:, 0] <= t) + np.mean(m[:, 1] <= t) + np.mean(h <= t)
                row.append(pct((s + 1) * tails))
            rows.append(row)
    print(
        "\n### Bonferroni bound on the Holm-combined type-I error (%), exact-null tails\n\n"
        "FWER <= sum over the 3(S+1) p-values of P(p <= alpha/(3(S+1))), each taken from the "
        "simulated null of one subspace (the principal subspace counted like a random one). "
        "Valid under any dependence between subspaces; 5.0 if the p-values were exact.\n"
    )
    print(md_table(["n", "k", *[f"S={s}" for s in ss]], rows))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=64, help="data sets per alternative")
    ap.add_argument("--null-reps", type=int, default=200, help="null data sets")
    ap.add_argument("--ks", default="2,3,5,8")
    ap.add_argument("--ss", default="8,16,32,64")
    ap.add_argument("--ns", default="1000,2500")
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--alternatives", default=",".join(ALTERNATIVES))
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--engine", choices=("auto", "numpy", "torch"), default="auto")
    ap.add_argument("--no-timing", action="store_true", help="skip timing subspace_tests")
    ap.add_argument("--save", help="write every p-value to this .npz file")
    ap.add_argument("--skip-study", action="store_true", help="only the tail calibration")
    ap.add_argument(
        "--tail-draws", type=int, default=0, help="exact-null Mardia draws per (n, k); 0: skip"
    )
    ap.add_argument(
        "--tail-hz-draws",
        type=int,
        default=0,
        help="exact-null Henze-Zirkler draws per k at the smallest n (scaled by n_min/n)",
    )
    ap.add_argument("--quick", action="store_true", help="tiny smoke run")
    args = ap.parse_args(argv)
    if args.quick:
        args.reps, args.null_reps = 3, 6
        args.tail_draws, args.tail_hz_draws = min(args.tail_draws, 400) or 400, 40
        args.ks, args.ss, args.ns, args.d = "2,3", "4,8", "200,300", 32
    ks = [int(v) for v in args.ks.split(",")]
    ss = sorted(int(v) for v in args.ss.split(","))
    ns = sorted(int(v) for v in args.ns.split(","))
    alts = [a for a in args.alternatives.split(",") if a]
    null_reps = args.null_reps
    engine = args.engine
    if engine == "auto":
        try:
            import torch  # noqa: F401

            engine = "torch"
        except ImportError:
            engine = "numpy"

    start = time.perf_counter()
    print("# Subspace study: k and S for the subspace Mardia / Henze-Zirkler tests\n")
    cmd = " ".join(sys.argv[1:] if argv is None else argv)
    print(f"command: `python benchmarks/study_subspaces.py {cmd}`  ")
    print(
        f"d = {args.d}, n in {ns}, k in {ks}, S in {ss}, alpha = {args.alpha}, "
        f"null R = {null_reps}, "
        f"alternative R = {args.reps}, engine = {engine}, jobs = {args.jobs}, seed = {args.seed}\n"
    )

    if not args.skip_study:
        run_study(args, ks, ss, ns, alts, null_reps, engine)
    if args.tail_draws:
        run_tail(args, ks, ns, engine)
    print(f"\nTotal wall time: {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
