"""The paper's synthetic inputs (Appendix E.1) and their two-view augmentations.

Generators (usable by the trainer as well as through :func:`create`):

- :func:`laplace`: i.i.d. Laplace(0, 1) vectors, ``d = 1024``.
- :func:`gmm`: 25 equally weighted Gaussian components in ``d = 1024`` with
  means drawn once, from a stream separate from the samples' (see
  :func:`gmm_means`), and a shared isotropic covariance.
- :func:`sparse_binary`: i.i.d. Bernoulli(``p_one``) vectors, ``d = 1024``.

Two-view channels producing positive pairs: :func:`laplace_views`,
:func:`gmm_views`, :func:`binary_views`.

Settings the paper does not state are choices made here, recorded in
:data:`CHOICES` and in every ``info`` (PAPER.md §2.3 shows the results are
sensitive to them, so vary them rather than trust one value):

- GMM component means ``~ N(0, mean_scale^2 I)`` with ``mean_scale = 1.0``
  and noise ``N(0, noise_scale^2 I)`` with ``noise_scale = 1.0``: along any
  direction the 25 projected means are spread as widely as the noise, so
  components are well separated in 1024-d (mean distance ~45 noise sd) while
  each coordinate is a mildly non-Gaussian mixture. ``mean_scale = 3`` makes
  every coordinate clearly multimodal; ``0.1`` makes the input Gaussian
  already.
- Component membership drawn i.i.d. uniform over the 25 components (not
  exactly balanced).
- Sparse binary ``p_one = 0.005`` (0.5 % ones, about 5 per vector): of the
  values PAPER.md §2.3 tried, the closest to the paper's epoch-0 AD mean
  (1.6). About 0.6 % of such vectors are all zero and are kept.
- Binary views flip each zero entry to one independently with probability
  ``flip = 0.001`` (so 0.1 % of the zeros on average, not exactly).
- Laplace views: feature dropout is **not** rescaled by ``1/(1-p)`` (the
  paper does not say; kept literal); the jitter is applied in the order the
  paper lists it: additive noise, dropout, then one multiplicative
  ``exp(N(0, 0.1^2))`` factor per sample (the paper's "exp(N(0,0.12))" read
  as sigma 0.1).
- Sizes through :func:`create`: Laplace 5000 test / 20000 train vectors
  (Appendix E.1), GMM and binary 10000 per split (the main text's 10k).

Determinism: rows are generated in blocks of 1024, each block from its own
:class:`numpy.random.SeedSequence` child, so the first ``k`` rows of
``f(n, seed=s)`` equal ``f(k, seed=s)`` for every generator here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import UnknownNameError, UsageError
from .base import DatasetSpec, LoadedDataset
from .idx import _limit

__all__ = [
    "CHOICES",
    "FakeImages",
    "binary_views",
    "create",
    "create_fake",
    "gmm",
    "gmm_means",
    "gmm_views",
    "laplace",
    "laplace_views",
    "sparse_binary",
]

Seed = int | Sequence[int]

#: The defaults chosen for settings the paper leaves unstated.
CHOICES: dict[str, Any] = {
    "gmm_mean_scale": 1.0,
    "gmm_noise_scale": 1.0,
    "gmm_n_components": 25,
    "gmm_membership": "iid uniform over components",
    "binary_p_one": 0.005,
    "binary_flip": 0.001,
    "laplace_dropout_rescaled": False,
    "laplace_jitter_order": "additive noise, dropout, per-sample scale",
}

_BLOCK = 1024
_KEY_MEANS, _KEY_SAMPLES = 0, 1
_SPLIT_CODE = {"test": 0, "train": 1}
_DEFAULT_N = {"laplace": {"test": 5000, "train": 20000}, "gmm": 10000, "binary": 10000}


def _entropy(seed: Seed) -> int | list[int]:
    if isinstance(seed, np.random.Generator | np.random.SeedSequence):
        raise UsageError("pass an int (or a list of ints) as seed, not a generator")
    return int(seed) if np.ndim(seed) == 0 else [int(s) for s in seed]


def _rng(seed: Seed, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(_entropy(seed), spawn_key=keys))


def _blocks(n: int):
    for b, start in enumerate(range(0, n, _BLOCK)):
        yield b, start, min(_BLOCK, n - start)


def _check_nd(n: int, d: int) -> None:
    if int(n) < 0 or int(d) < 1:
        raise UsageError(f"need n >= 0 and d >= 1, got n={n}, d={d}")


def laplace(n: int, d: int = 1024, *, seed: Seed) -> np.ndarray:
    """I.i.d. Laplace(0, 1) vectors (variance 2 per coordinate).

    Parameters
    ----------
    n : int
        Number of vectors.
    d : int
        Dimension (the paper: 1024).
    seed : int or sequence of int
        Entropy of the stream; the first ``k`` rows do not depend on ``n``.

    Returns
    -------
    ndarray of float32, shape (n, d)
    """
    _check_nd(n, d)
    out = np.empty((n, d), dtype=np.float32)
    for b, start, m in _blocks(n):
        out[start : start + m] = _rng(seed, _KEY_SAMPLES, b).laplace(0.0, 1.0, (m, d))
    return out


def gmm_means(
    d: int = 1024, n_components: int = 25, *, mean_scale: float = 1.0, seed: Seed
) -> np.ndarray:
    """Component means ``~ N(0, mean_scale^2 I)``, from their own stream.

    Parameters
    ----------
    d : int
        Dimension.
    n_components : int
        Number of components.
    mean_scale : float
        Standard deviation of each mean coordinate (unstated in the paper;
        1.0 chosen, see the module notes).
    seed : int or sequence of int
        The means depend on this only, so a train and a test set drawn with
        the same ``seed`` (or ``means_seed``) share them.

    Returns
    -------
    ndarray of float32, shape (n_components, d)
    """
    _check_nd(n_components, d)
    rng = _rng(seed, _KEY_MEANS)
    return (float(mean_scale) * rng.standard_normal((n_components, d))).astype(np.float32)


def gmm(
    n: int,
    d: int = 1024,
    *,
    n_components: int = 25,
    mean_scale: float = 1.0,
    noise_scale: float = 1.0,
    seed: Seed,
    means_seed: Seed | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw samples from an equally weighted isotropic Gaussian mixture.

    Parameters
    ----------
    n : int
        Number of samples.
    d : int
        Dimension (the paper: 1024).
    n_components : int
        Components (the paper: 25).
    mean_scale : float
        Means ``~ N(0, mean_scale^2 I)``; unstated in the paper, 1.0 chosen.
    noise_scale : float
        Shared isotropic standard deviation; unstated, 1.0 chosen.
    seed : int or sequence of int
        Entropy of the samples (membership and noise).
    means_seed : int or sequence of int, optional
        Entropy of the means (default ``seed``; a separate stream either way).
        Give a train and a test set the same ``means_seed`` and different
        ``seed`` so they share the mixture.

    Returns
    -------
    x : ndarray of float32, shape (n, d)
    labels : ndarray of int64, shape (n,)
        Component of each sample, drawn i.i.d. uniform.

    See Also
    --------
    gmm_means : the means used (same arguments give the same means).
    """
    _check_nd(n, d)
    means = gmm_means(
        d, n_components, mean_scale=mean_scale, seed=seed if means_seed is None else means_seed
    )
    x = np.empty((n, d), dtype=np.float32)
    labels = np.empty(n, dtype=np.int64)
    for b, start, m in _blocks(n):
        rng = _rng(seed, _KEY_SAMPLES, b)
        lab = rng.integers(0, n_components, _BLOCK)[:m]  # full block: prefix-stable
        noise = rng.standard_normal((m, d), dtype=np.float32)
        labels[start : start + m] = lab
        x[start : start + m] = means[lab] + np.float32(noise_scale) * noise
    return x, labels


def sparse_binary(n: int, d: int = 1024, *, p_one: float = 0.005, seed: Seed) -> np.ndarray:
    """I.i.d. Bernoulli(``p_one``) vectors of 0.0 and 1.0.

    Parameters
    ----------
    n : int
        Number of vectors.
    d : int
        Dimension (the paper: 1024).
    p_one : float
        Probability of a one; the paper does not state the sparsity, 0.005
        chosen (see the module notes and PAPER.md §2.3).
    seed : int or sequence of int
        Entropy of the stream.

    Returns
    -------
    ndarray of float32, shape (n, d)
    """
    _check_nd(n, d)
    if not 0.0 <= p_one <= 1.0:
        raise UsageError(f"p_one must be in [0, 1], got {p_one}")
    out = np.empty((n, d), dtype=np.float32)
    for b, start, m in _blocks(n):
        u = _rng(seed, _KEY_SAMPLES, b).random((m, d), dtype=np.float32)
        out[start : start + m] = u < np.float32(p_one)
    return out


def _one_laplace_view(
    x: np.ndarray,
    a: float,
    noise_std: float,
    dropout: float,
    scale_sigma: float,
    rng: np.random.Generator,
) -> np.ndarray:
    v = a * x + np.sqrt(1.0 - a * a) * rng.standard_normal(x.shape)
    if noise_std:
        v = v + noise_std * rng.standard_normal(x.shape)
    if dropout:
        v = v * (rng.random(x.shape) >= dropout)
    if scale_sigma:
        v = v * np.exp(scale_sigma * rng.standard_normal((*x.shape[:-1], 1)))
    return v.astype(np.float32)


def laplace_views(
    x: np.ndarray,
    *,
    a: float = 0.6,
    noise_std: float = 0.2,
    dropout: float = 0.1,
    scale_sigma: float = 0.1,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Two positive views of Laplace inputs (Appendix E.1, Eq. 53 plus jitter).

    Each view is ``A x + sqrt(1 - A^2) eps`` with ``eps ~ N(0, I)``, then,
    independently per view: additive ``N(0, noise_std^2)`` noise, feature
    dropout (each coordinate zeroed with probability ``dropout``, **not**
    rescaled by ``1/(1-p)``: the paper does not say, so it is kept literal),
    and one multiplicative factor ``exp(N(0, scale_sigma^2))`` per sample.
    Set ``noise_std = dropout = scale_sigma = 0`` for the bare channel, whose
    per-coordinate correlation between views is ``2A^2 / (1 + A^2)`` for
    Laplace(0, 1) input (0.53 at A = 0.6).

    Parameters
    ----------
    x : ndarray, shape (..., d)
        Inputs (one row per sample).
    a : float
        Mixing weight ``A`` in [0, 1] (the paper: 0.6; 0.2, 0.5, 0.8 in Fig. 11).
    noise_std : float
        Additive jitter standard deviation (0.2).
    dropout : float
        Feature dropout probability (0.1).
    scale_sigma : float
        Log-scale standard deviation of the per-sample factor (0.1).
    rng : numpy.random.Generator
        Source of randomness (the caller owns it, e.g. one per epoch).

    Returns
    -------
    x1, x2 : ndarray of float32, each shaped like ``x``
    """
    if not 0.0 <= a <= 1.0 or not 0.0 <= dropout < 1.0:
        raise UsageError(f"need 0 <= a <= 1 and 0 <= dropout < 1, got a={a}, dropout={dropout}")
    x = np.asarray(x, dtype=np.float64)
    return tuple(  # type: ignore[return-value]
        _one_laplace_view(x, a, noise_std, dropout, scale_sigma, rng) for _ in range(2)
    )


def gmm_views(
    labels: np.ndarray,
    means: np.ndarray,
    *,
    noise_scale: float = 1.0,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Two independent draws from each sample's own mixture component.

    Parameters
    ----------
    labels : ndarray of int, shape (n,)
        Component of each anchor (from :func:`gmm`).
    means : ndarray, shape (n_components, d)
        From :func:`gmm_means`, with the arguments used for the data.
    noise_scale : float
        The mixture's isotropic standard deviation (same as the data's).
    rng : numpy.random.Generator

    Returns
    -------
    x1, x2 : ndarray of float32, shape (n, d)
    """
    centre = np.asarray(means, dtype=np.float32)[np.asarray(labels)]
    s = np.float32(noise_scale)
    return (
        centre + s * rng.standard_normal(centre.shape, dtype=np.float32),
        centre + s * rng.standard_normal(centre.shape, dtype=np.float32),
    )


def binary_views(
    x: np.ndarray, *, flip: float = 0.001, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Two views that each turn a small random fraction of zeros into ones.

    Every zero entry becomes one independently with probability ``flip`` in
    each view (0.1 % of zeros on average, the paper's figure); ones stay ones.

    Parameters
    ----------
    x : ndarray of 0/1, shape (..., d)
    flip : float
        Per-zero flip probability.
    rng : numpy.random.Generator

    Returns
    -------
    x1, x2 : ndarray of float32, each shaped like ``x``
    """
    x = np.asarray(x, dtype=np.float32)
    zero = x == 0
    views = []
    for _ in range(2):
        v = x.copy()
        v[zero & (rng.random(x.shape) < flip)] = 1.0
        views.append(v)
    return views[0], views[1]


def _split_code(split: str, what: str) -> int:
    if split not in _SPLIT_CODE:
        raise UsageError(f"{what} has splits 'test' and 'train', not {split!r}")
    return _SPLIT_CODE[split]


def create(
    spec: DatasetSpec,
    argument: str | None,
    *,
    root: str | None = None,
    split: str = "test",
    download: bool = False,
    max_samples: int | None = None,
    seed: int = 0,
    modality: str | None = None,
    **options: Any,
) -> LoadedDataset:
    """Load ``synthetic:laplace``, ``synthetic:gmm`` or ``synthetic:binary``.

    Parameters
    ----------
    spec : DatasetSpec
    argument : str
        ``laplace``, ``gmm`` or ``binary``.
    root, download : optional
        Unused.
    split : str
        ``test`` or ``train``: the samples come from the stream
        ``[seed, 0]`` (test) or ``[seed, 1]`` (train); GMM means from
        ``seed`` alone, so both splits share them.
    max_samples : int, optional
        Keep the first ``max_samples`` vectors (only those are generated; they
        equal the first rows of the full set).
    seed : int
        Experiment seed.
    modality : str, optional
        Must be ``vector`` when given.
    **options
        ``n`` (default 5000 test / 20000 train for laplace, 10000 for gmm and
        binary), ``d`` (1024); gmm: ``n_components`` (25), ``mean_scale``
        (1.0), ``noise_scale`` (1.0); binary: ``p_one`` (0.005).

    Returns
    -------
    LoadedDataset
        ``items`` is the ``(n, d)`` float32 array (``items[i]`` a 1-D row);
        labels are the component ids for gmm, else None.
    """
    kinds = ("laplace", "gmm", "binary")
    if argument not in kinds:
        raise UnknownNameError(
            "synthetic dataset", f"synthetic:{argument}", [f"synthetic:{k}" for k in kinds]
        )
    if modality not in (None, "vector"):
        raise UsageError(f"synthetic:{argument} holds vectors, not {modality!r}")
    code = _split_code(split, f"synthetic:{argument}")
    default_n = _DEFAULT_N[argument]
    n_full = int(options.get("n", default_n[split] if isinstance(default_n, dict) else default_n))
    d = int(options.get("d", 1024))
    n = _limit(n_full, max_samples)
    entropy = [int(seed), code]
    info: dict[str, Any] = {
        "name": f"synthetic:{argument}",
        "source": "synthetic (paper Appendix E.1)",
        "split": split,
        "n": n,
        "n_requested": n_full,
        "d": d,
        "seed": int(seed),
        "sample_entropy": entropy,
    }
    labels = None
    if argument == "laplace":
        x = laplace(n, d, seed=entropy)
        info["distribution"] = "iid Laplace(0, 1)"
    elif argument == "gmm":
        k = int(options.get("n_components", CHOICES["gmm_n_components"]))
        mean_scale = float(options.get("mean_scale", CHOICES["gmm_mean_scale"]))
        noise_scale = float(options.get("noise_scale", CHOICES["gmm_noise_scale"]))
        x, labels = gmm(
            n,
            d,
            n_components=k,
            mean_scale=mean_scale,
            noise_scale=noise_scale,
            seed=entropy,
            means_seed=int(seed),
        )
        info.update(
            distribution="equally weighted isotropic Gaussian mixture",
            n_components=k,
            mean_scale=mean_scale,
            noise_scale=noise_scale,
            means_seed=int(seed),
            membership=CHOICES["gmm_membership"],
        )
    else:
        p_one = float(options.get("p_one", CHOICES["binary_p_one"]))
        x = sparse_binary(n, d, p_one=p_one, seed=entropy)
        info.update(distribution="iid Bernoulli", p_one=p_one)
    info["choices"] = {k: v for k, v in CHOICES.items() if k.startswith(argument)}
    return LoadedDataset(items=x, modality="vector", labels=labels, info=info)


class FakeImages(Sequence):
    """Random RGB images generated on access (FakeData-style), reproducibly.

    Parameters
    ----------
    n : int
        Number of images.
    size : (int, int)
        Height and width.
    entropy : list of int
        Seed entropy; image ``i`` comes from its own child stream, so it does
        not depend on ``n`` or on access order.
    """

    def __init__(self, n: int, size: tuple[int, int], entropy: list[int]):
        self.n, self.size, self.entropy = int(n), (int(size[0]), int(size[1])), list(entropy)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.n))]
        i = int(index)
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(f"index {index} out of range for {self.n} images")
        from PIL import Image

        rng = _rng(self.entropy, 0, i)
        pixels = rng.integers(0, 256, (*self.size, 3), dtype=np.uint8)
        return Image.fromarray(pixels)  # (H, W, 3) uint8: RGB

    def __repr__(self) -> str:
        return f"FakeImages(n={self.n}, size={self.size})"


def create_fake(
    spec: DatasetSpec,
    argument: str | None,
    *,
    root: str | None = None,
    split: str = "test",
    download: bool = False,
    max_samples: int | None = None,
    seed: int = 0,
    modality: str | None = None,
    **options: Any,
) -> LoadedDataset:
    """Load ``fake``: uniform-noise RGB PIL images with random labels.

    Parameters
    ----------
    spec : DatasetSpec
    argument : None
        Unused.
    root, download : optional
        Unused.
    split : str
        ``test`` or ``train`` (different streams).
    max_samples : int, optional
        Keep the first ``max_samples`` images.
    seed : int
        Seed; same seed, same images.
    modality : str, optional
        Must be ``image`` when given.
    **options
        ``n`` (64), ``size`` (32, or ``(height, width)``), ``num_classes`` (10).

    Returns
    -------
    LoadedDataset
    """
    if modality not in (None, "image"):
        raise UsageError(f"fake holds images, not {modality!r}")
    code = _split_code(split, "fake")
    n_full = int(options.get("n", 64))
    size = options.get("size", 32)
    hw = (int(size), int(size)) if np.ndim(size) == 0 else (int(size[0]), int(size[1]))
    num_classes = int(options.get("num_classes", 10))
    if n_full < 0 or min(hw) < 1 or num_classes < 1:
        raise UsageError(f"fake needs n >= 0, size >= 1, num_classes >= 1; got {options}")
    entropy = [int(seed), code]
    labels = _rng(entropy, 1).integers(0, num_classes, n_full).astype(np.int64)
    n = _limit(n_full, max_samples)
    return LoadedDataset(
        items=FakeImages(n, hw, entropy),
        modality="image",
        labels=labels[:n],
        info={
            "name": "fake",
            "source": "synthetic uniform-noise RGB images",
            "split": split,
            "n": n,
            "image_size": list(hw),
            "num_classes": num_classes,
            "seed": int(seed),
        },
    )
