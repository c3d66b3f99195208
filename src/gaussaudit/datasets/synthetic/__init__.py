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

Modules: :mod:`~gaussaudit.datasets.synthetic.generators` (the row
generators and :data:`CHOICES`), :mod:`~gaussaudit.datasets.synthetic.views`
(the two-view channels) and :mod:`~gaussaudit.datasets.synthetic.loaders`
(the registry's ``synthetic:<kind>`` and ``fake`` factories).
"""

from __future__ import annotations

from .generators import CHOICES, gmm, gmm_means, laplace, sparse_binary
from .loaders import FakeImages, create, create_fake
from .views import binary_views, gmm_views, laplace_views

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
