"""Alignment and uniformity of positive pairs (Wang & Isola 2020; the paper's Fig. 2).

A *positive pair* is two embeddings of the same item: two augmentations of
one image (``gaussaudit embed --pairs K``) or two texts a pairs file declares
equivalent. The input is one array of shape ``(m, K, 2, d)``: ``m`` items,
``K`` pairs per item, the two members of each pair, ``d`` dimensions. Every
embedding is L2-normalised before anything is measured.

- **Alignment** ``E ||f(x) - f(y)||^alpha`` over the positive pairs, with
  ``alpha = 2`` (so ``2 - 2 cos``): 0 when both members coincide.
- **Uniformity** ``log E exp(-t ||u - v||^2)`` over *negative* pairs, ``t = 2``:
  two embeddings of different items. Lower is more uniform; its minimum on
  ``S^(d-1)`` as ``d`` grows tends to ``-2t = -4``.

Negative pairs are every unordered pair of embeddings of different items
when there are at most ``negatives`` of them, else ``negatives`` pairs drawn
with replacement by a seeded generator (the count and seed are recorded).

The positive- and negative-pair cosine histograms (the paper's own reading of
alignment and uniformity, PAPER.md §1.1) share one set of bin edges.
:func:`view_transform` re-fits the audit's view transforms (raw, normalized,
whitened) on the audited matrix so the same fitted map can be applied to the
pairs. numpy and scipy only (no torch).

References
----------
T. Wang and P. Isola, "Understanding Contrastive Representation Learning
through Alignment and Uniformity on the Hypersphere", ICML 2020, §4.1
(``L_align`` with alpha = 2, ``L_uniform`` with t = 2).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from ..errors import InvalidEmbeddingsError, UnknownNameError

__all__ = [
    "ALIGNMENT_ALPHA",
    "NEGATIVE_PAIRS",
    "UNIFORMITY_T",
    "PairMetrics",
    "alignment",
    "negative_pairs",
    "pair_metrics",
    "uniformity",
    "unit_rows",
    "view_transform",
]

#: Exponent of the alignment loss (Wang & Isola's alpha).
ALIGNMENT_ALPHA = 2.0
#: Temperature of the uniformity loss (Wang & Isola's t).
UNIFORMITY_T = 2.0
#: Negative pairs drawn when there are more distinct-item pairs than this.
NEGATIVE_PAIRS = 100_000
#: Bins of the cosine histograms.
_BINS = 60


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Return ``x`` (..., d) with every vector divided by its L2 norm.

    Raises
    ------
    InvalidEmbeddingsError
        If a vector is all zeros or not finite.

    Examples
    --------
    >>> unit_rows(np.array([[3.0, 4.0]])).tolist()
    [[0.6, 0.8]]
    """
    x = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise InvalidEmbeddingsError("the pairs hold NaN or infinite values")
    scale = np.max(np.abs(x), axis=-1, keepdims=True)
    if np.any(scale == 0):
        raise InvalidEmbeddingsError("a pair member is all zeros and has no direction")
    y = x / scale  # no overflow in the squares
    return y / np.linalg.norm(y, axis=-1, keepdims=True)


def alignment(u: np.ndarray, v: np.ndarray, *, alpha: float = ALIGNMENT_ALPHA) -> float:
    """Wang & Isola's alignment ``mean ||u_i - v_i||^alpha`` of unit rows ``u``, ``v``.

    Parameters
    ----------
    u, v : ndarray, shape (p, d)
        L2-normalised members of ``p`` positive pairs.
    alpha : float
        Exponent (2 by default).

    Returns
    -------
    float

    Examples
    --------
    >>> u = np.array([[1.0, 0.0]]); v = np.array([[0.0, 1.0]])
    >>> round(alignment(u, v), 12)
    2.0
    """
    return float(np.mean(np.linalg.norm(u - v, axis=-1) ** alpha))


def uniformity(u: np.ndarray, v: np.ndarray, *, t: float = UNIFORMITY_T) -> float:
    """Wang & Isola's uniformity ``log mean exp(-t ||u_i - v_i||^2)`` over given pairs.

    Parameters
    ----------
    u, v : ndarray, shape (p, d)
        L2-normalised members of ``p`` negative pairs.
    t : float
        Temperature (2 by default).

    Returns
    -------
    float
        Computed with ``logsumexp`` (no underflow for large ``t``).

    Examples
    --------
    >>> u = np.array([[1.0, 0.0]]); v = -u
    >>> round(uniformity(u, v), 12)
    -8.0
    """
    sq = np.sum((u - v) ** 2, axis=-1)
    return float(special.logsumexp(-t * sq) - math.log(sq.size))


def negative_pairs(
    items: int, per_item: int, *, count: int = NEGATIVE_PAIRS, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Return the indices of negative pairs among ``items * per_item`` embeddings.

    Embedding ``i`` belongs to item ``i // per_item``; a negative pair joins
    two embeddings of different items.

    Parameters
    ----------
    items : int
        Number of items (at least 2).
    per_item : int
        Embeddings per item.
    count : int
        Use every pair when there are at most this many, else draw this many.
    seed : int
        Seed of the draw.

    Returns
    -------
    a, b : ndarray of int
        Flat embedding indices of each pair.
    exhaustive : bool
        True when every distinct-item pair is used.

    Examples
    --------
    >>> a, b, every = negative_pairs(3, 1)
    >>> sorted(zip(a.tolist(), b.tolist())), every
    ([(0, 1), (0, 2), (1, 2)], True)
    """
    total = items * per_item
    possible = (total * (total - 1) - items * per_item * (per_item - 1)) // 2
    if possible <= count:
        a, b = np.triu_indices(total, k=1)
        keep = a // per_item != b // per_item
        return a[keep], b[keep], True
    rng = np.random.default_rng(seed)
    a = rng.integers(0, total, size=count)
    # b from the other items: an offset in [1, items) of whole items, then a member
    shift = rng.integers(1, items, size=count)
    member = rng.integers(0, per_item, size=count)
    b = ((a // per_item + shift) % items) * per_item + member
    return a, b, False


def _cosine_summary(cos: np.ndarray, edges: np.ndarray) -> dict:
    counts, _ = np.histogram(cos, bins=edges)
    return {
        "mean": float(np.mean(cos)),
        "std": float(np.std(cos)),
        "edges": edges.tolist(),
        "counts": counts.tolist(),
    }


def _edges(values: np.ndarray) -> np.ndarray:
    lo, hi = float(np.min(values)), float(np.max(values))
    pad = max(hi - lo, 1e-3) * 0.02
    return np.linspace(max(lo - pad, -1.0), min(hi + pad, 1.0), _BINS + 1)


@dataclass(frozen=True)
class PairMetrics:
    """Alignment, uniformity and the pair cosines of one view.

    Attributes
    ----------
    alignment : float
        ``mean ||u - v||^alpha`` over the positive pairs (unit vectors).
    uniformity : float
        ``log mean exp(-t ||u - v||^2)`` over the negative pairs.
    n_pairs : int
        Positive pairs (``n_items * pairs_per_item``).
    n_items, pairs_per_item : int
    n_negative_pairs : int
    negatives_exhaustive : bool
        True when every distinct-item pair was used (else a seeded draw).
    seed : int
    alpha, t : float
    positive_cosine, negative_cosine : dict
        ``mean``, ``std`` and a histogram (``edges``, ``counts``; shared edges).
    """

    alignment: float
    uniformity: float
    n_pairs: int
    n_items: int
    pairs_per_item: int
    n_negative_pairs: int
    negatives_exhaustive: bool
    seed: int
    alpha: float
    t: float
    positive_cosine: dict
    negative_cosine: dict

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``views.<view>.pairs``)."""
        return {
            "alignment": self.alignment,
            "uniformity": self.uniformity,
            "n_pairs": self.n_pairs,
            "n_items": self.n_items,
            "pairs_per_item": self.pairs_per_item,
            "n_negative_pairs": self.n_negative_pairs,
            "negatives": "every distinct-item pair"
            if self.negatives_exhaustive
            else f"{self.n_negative_pairs} seeded random distinct-item pairs",
            "seed": self.seed,
            "alignment_alpha": self.alpha,
            "uniformity_t": self.t,
            "positive_cosine": self.positive_cosine,
            "negative_cosine": self.negative_cosine,
        }


def _check_pairs(pairs: np.ndarray) -> np.ndarray:
    pairs = np.asarray(pairs)
    if pairs.ndim != 4 or pairs.shape[2] != 2:
        raise InvalidEmbeddingsError(
            f"pairs must have shape (items, pairs_per_item, 2, d), got {pairs.shape}"
        )
    if pairs.shape[0] < 2 or pairs.shape[1] < 1 or pairs.shape[3] < 1:
        raise InvalidEmbeddingsError(
            f"pairs need at least 2 items, 1 pair per item and d >= 1, got {pairs.shape}"
        )
    return pairs


def pair_metrics(
    pairs: np.ndarray,
    *,
    negatives: int = NEGATIVE_PAIRS,
    seed: int = 0,
    alpha: float = ALIGNMENT_ALPHA,
    t: float = UNIFORMITY_T,
) -> PairMetrics:
    """Alignment, uniformity and cosine histograms of positive pairs.

    Parameters
    ----------
    pairs : ndarray, shape (m, K, 2, d)
        ``K`` positive pairs for each of ``m`` items (already in the view to
        measure; L2-normalised here).
    negatives : int
        Most negative pairs used (all distinct-item pairs when fewer).
    seed : int
        Seed of the negative-pair draw.
    alpha, t : float
        Alignment exponent and uniformity temperature.

    Returns
    -------
    PairMetrics

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((200, 1, 1, 16))
    >>> pairs = np.concatenate([x, x + 0.1 * rng.standard_normal(x.shape)], axis=2)
    >>> m = pair_metrics(pairs)
    >>> m.n_pairs, m.alignment < 0.05, -4.0 < m.uniformity < -3.0
    (200, True, True)
    """
    pairs = _check_pairs(pairs)
    m, k, _, d = pairs.shape
    unit = unit_rows(pairs)
    align = alignment(unit[:, :, 0].reshape(-1, d), unit[:, :, 1].reshape(-1, d), alpha=alpha)
    pos_cos = np.clip(np.einsum("ijk,ijk->ij", unit[:, :, 0], unit[:, :, 1]).ravel(), -1, 1)
    flat = unit.reshape(m * k * 2, d)
    a, b, exhaustive = negative_pairs(m, 2 * k, count=negatives, seed=seed)
    neg_cos = np.empty(a.size)
    sq = np.empty(a.size)
    step = max(1, 2**20 // d)  # about 8 MB of rows at a time
    for i in range(0, a.size, step):
        u, v = flat[a[i : i + step]], flat[b[i : i + step]]
        neg_cos[i : i + step] = np.einsum("ij,ij->i", u, v)
        sq[i : i + step] = np.sum((u - v) ** 2, axis=1)
    uni = float(special.logsumexp(-t * sq) - math.log(sq.size))
    neg_cos = np.clip(neg_cos, -1.0, 1.0)
    edges = _edges(np.concatenate([pos_cos, neg_cos]))
    return PairMetrics(
        alignment=align,
        uniformity=uni,
        n_pairs=int(m * k),
        n_items=int(m),
        pairs_per_item=int(k),
        n_negative_pairs=int(a.size),
        negatives_exhaustive=exhaustive,
        seed=int(seed),
        alpha=float(alpha),
        t=float(t),
        positive_cosine=_cosine_summary(pos_cos, edges),
        negative_cosine=_cosine_summary(neg_cos, edges),
    )


def view_transform(x: np.ndarray, name: str) -> Callable[[np.ndarray], np.ndarray]:
    """Return the map of view ``name`` fitted on ``x``, to apply to other embeddings (pairs).

    ``make_view(x, name).matrix`` equals ``view_transform(x, name)(x)`` (to
    rounding): ``raw`` is the identity, ``normalized`` divides each row by its
    norm (nothing is fitted), ``whitened`` applies the PCA whitening fitted on
    ``x`` (its mean and ``W = V diag(l)^(-1/2)`` over the kept directions).

    Parameters
    ----------
    x : ndarray, shape (n, d)
        The audited float64 matrix.
    name : {"raw", "normalized", "whitened"}

    Returns
    -------
    callable
        ``(..., d) -> (..., d_view)``.

    Examples
    --------
    >>> from gaussaudit.stats.views import make_view
    >>> x = np.random.default_rng(0).standard_normal((100, 4))
    >>> f = view_transform(x, "whitened")
    >>> bool(np.allclose(np.abs(f(x)), np.abs(make_view(x, "whitened").matrix)))
    True
    """
    if name == "raw":
        return lambda y: np.asarray(y, dtype=np.float64)
    if name == "normalized":
        return unit_rows
    if name != "whitened":
        from .config import VIEWS

        raise UnknownNameError("view", name, VIEWS)
    w, mean, scale = _whitening(np.asarray(x, dtype=np.float64))

    def whiten(y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        return ((y - mean) / scale) @ w

    return whiten


def _whitening(x: np.ndarray, rtol: float = 1e-10) -> tuple[np.ndarray, np.ndarray, float]:
    """``W``, mean and scale of :func:`gaussaudit.stats.views.pca_whiten` on ``x``.

    Follows the same two branches (covariance for d <= n, Gram matrix for
    d > n) and the same rank cut, so ``((x - mean) / scale) @ W`` is the
    whitened view itself, signs included.
    """
    n, d = x.shape
    scale = float(np.max(np.abs(x)) or 1.0)
    mean = x.mean(axis=0)
    c = (x - mean) / scale
    if d <= n:
        vals, vecs = np.linalg.eigh(c.T @ c / (n - 1))
        vals, vecs = vals[::-1], vecs[:, ::-1]
        keep = vals > rtol * max(vals[0], 0.0)
        return vecs[:, keep] / np.sqrt(vals[keep]), mean, scale
    vals, u = np.linalg.eigh(c @ c.T / (n - 1))
    vals, u = vals[::-1], u[:, ::-1]
    keep = vals > rtol * max(vals[0], 0.0)
    # z = U sqrt(n-1) = c V / sqrt(l) with V = c' U / sqrt(l (n-1))
    return (c.T @ u[:, keep]) / (vals[keep] * math.sqrt(n - 1)), mean, scale
