"""Device kernels of the torch engine: moments, Anderson–Darling from sorted columns, Gram tiles.

Every function takes float64 tensors on the engine's device and returns the
CPU partial results of :mod:`.partials` / :mod:`.partials_tiles`, so they
merge with the same exact merges as the NumPy engine's. Accumulation is in
float64 on the device, per block or tile; only d-sized vectors (or one float
per tile) come back. ``torch`` is imported by the caller
(:mod:`.torch_engine`); this module never imports it at module level.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import numpy as np

from ..stats.engines.partials import ColumnMoments, CoMoments, NormSummary
from ..stats.engines.partials_tiles import GramSums

__all__ = ["ad_statistics", "gram_diagonal", "gram_tile", "no_tf32", "row_partials"]


@contextmanager
def no_tf32(torch: Any) -> Any:
    """Turn TF32 matrix products off for the run (restored afterwards)."""
    matmul, cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
    saved = (matmul.allow_tf32, cudnn.allow_tf32)
    matmul.allow_tf32 = False
    cudnn.allow_tf32 = False
    try:
        yield
    finally:
        matmul.allow_tf32, cudnn.allow_tf32 = saved


def _np(t: Any) -> np.ndarray:
    return t.detach().cpu().numpy()


def row_partials(
    b: Any, *, exps: Any | None, nscale: float, moments: bool, covariance: bool, norms: bool
) -> tuple[ColumnMoments | None, CoMoments | None, NormSummary | None, Any]:
    """Moments, co-moments and norm summary of one float64 block on the device.

    Returns the three partials (None where not asked) and the row norms
    tensor (or None).
    """
    n = b.shape[0]
    mom = None
    if moments:
        y = b if exps is None else b * exps
        mean = y.mean(dim=0)
        c = y - mean
        c2 = c * c
        mom = ColumnMoments(
            n, _np(mean), _np(c2.sum(dim=0)), _np((c2 * c).sum(dim=0)), _np((c2 * c2).sum(dim=0))
        )
    y = b / nscale if nscale != 1.0 else b
    cm = None
    if covariance:
        mean = y.mean(dim=0)
        c = y - mean
        cm = CoMoments(n, _np(mean), _np(c.T @ c))
    ns = None
    v = None
    if norms:
        v = (y * y).sum(dim=1).sqrt()
        vm = v.mean()
        cv = v - vm
        ns = NormSummary(n, float(vm), float((cv * cv).sum()))
    return mom, cm, ns, v


def ad_statistics(torch: Any, block: Any) -> np.ndarray:
    """Raw A² of every column of a float64 ``(n, w)`` block: sort, standardise, log-CDF sums.

    ``A² = -n - (1/n) sum_j [(2j-1) log Phi(w_j) + (2n+1-2j) log Phi(-w_j)]``
    over the sorted standardised values (``ddof = 1``), with ``log_ndtr`` for
    both tails (finite for heavy tails).
    """
    n = block.shape[0]
    w = torch.sort(block.T.contiguous(), dim=1).values
    w = w - w.mean(dim=1, keepdim=True)
    w = w / torch.sqrt((w * w).sum(dim=1, keepdim=True) / (n - 1))
    j = torch.arange(1, n + 1, dtype=torch.float64, device=block.device)
    lower = torch.special.log_ndtr(w)
    upper = torch.special.log_ndtr(-w)
    total = ((2.0 * j - 1.0) * lower + (2.0 * n + 1.0 - 2.0 * j) * upper).sum(dim=1)
    return _np(-n - total / n)


def gram_diagonal(
    torch: Any, y: Any, *, scale: float, beta: float, tensor: bool, skew: bool, hz: bool,
    block_rows: int,
) -> GramSums:  # fmt: skip
    """Per-row terms of a whitened block and its diagonal Gram tiles, on the device."""
    sq = (y * y).sum(dim=1) / scale**2
    b2 = beta * beta
    t = None
    if tensor:
        p = y.shape[1]
        acc = torch.zeros((p * p, p), dtype=torch.float64, device=y.device)
        step = max(1, 2**21 // max(p * p, 1))
        for i0 in range(0, y.shape[0], step):
            rows = y[i0 : i0 + step]
            acc += (rows[:, :, None] * rows[:, None, :]).reshape(rows.shape[0], p * p).T @ rows
        t = _np(acc)
    part = GramSums(
        n=int(y.shape[0]),
        sq_sq=float((sq * sq).sum()),
        diag=float(torch.exp(-b2 / (2.0 * (1.0 + b2)) * sq).sum()),
        tensor=t,
    )
    if skew or hz:
        for i0 in range(0, y.shape[0], block_rows):
            yi = y[i0 : i0 + block_rows]
            part = part.merge(gram_tile(yi, yi, weight=1.0, skew=skew, hz=hz))
            for j0 in range(i0 + block_rows, y.shape[0], block_rows):
                part = part.merge(
                    gram_tile(yi, y[j0 : j0 + block_rows], weight=2.0, skew=skew, hz=hz)
                )
    return part


def gram_tile(yi: Any, yj: Any, *, weight: float, skew: bool, hz: bool) -> GramSums:
    """Return the sums of the Gram tile ``yi yj'`` (float64 on the device, one float back)."""
    g = yi @ yj.T
    cube = weight * float((g * g * g).sum()) if skew else 0.0
    exp_sum = 0.0
    if hz:
        g = g - 0.5 * (yi * yi).sum(dim=1)[:, None] - 0.5 * (yj * yj).sum(dim=1)[None, :]
        exp_sum = weight * float(g.exp_().sum())
    return GramSums(cube_sum=cube, exp_sum=exp_sum)
