"""A linear probe on frozen features: closed-form ridge classification, NumPy only.

The per-epoch audit says how Gaussian the held-out embeddings are; the probe
says whether they still carry the labels, so that a collapsed encoder (all
images on a few points: low A² is not the only way to look "regular") is not
read as a good one. :func:`linear_probe` splits the held-out rows once, with a
seeded permutation, into a probe-training part and a probe-test part, fits a
ridge regression of one-hot labels on standardised features (one linear solve,
no iterations, deterministic) and reports the test accuracy with the accuracy
of always guessing the most frequent class beside it.

Record (``layers.<layer>.linear_probe`` of a ``metrics.jsonl`` line)::

    accuracy      fraction of probe-test rows classified correctly
    chance        accuracy of the most frequent probe-test class
    n_train, n_test, n_classes
    ridge         the penalty, relative to the probe-training rows
    method        the probe in words

A probe that cannot run (no labels, one class, too few rows) is
``{"skipped": reason}``, as a skipped test is in the report.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["PROBE_METHOD", "PROBE_RIDGE", "PROBE_TRAIN_FRACTION", "linear_probe"]

#: Ridge penalty per probe-training row (lambda = PROBE_RIDGE * n_train).
PROBE_RIDGE = 1e-3
#: Share of the held-out rows the probe is fitted on (the rest score it).
PROBE_TRAIN_FRACTION = 0.5
#: The probe in words (recorded with every result).
PROBE_METHOD = (
    "ridge regression on one-hot labels, standardised features, closed form; "
    "fitted on a seeded half of the held-out rows, scored on the other half"
)
_MIN_ROWS = 10


def linear_probe(
    features: np.ndarray,
    labels: np.ndarray | None,
    *,
    train_fraction: float = PROBE_TRAIN_FRACTION,
    ridge: float = PROBE_RIDGE,
    seed: int = 0,
) -> dict[str, Any]:
    """Fit a linear classifier on frozen features and score it on held-out rows.

    Parameters
    ----------
    features : array_like, shape (n, d)
        Frozen embeddings (any float dtype; computed in float64).
    labels : array_like of int, shape (n,), or None
        Class of each row; None (or negative labels) skips the probe.
    train_fraction : float
        Share of rows the probe is fitted on, in (0, 1).
    ridge : float
        Penalty per probe-training row (``lambda = ridge * n_train``) on
        standardised features; it keeps the solve well posed when
        ``d >= n_train`` or features are collinear (a collapsed encoder).
    seed : int
        Seed of the split (same seed, same split: deterministic).

    Returns
    -------
    dict
        ``accuracy``, ``chance`` (most frequent test class), ``n_train``,
        ``n_test``, ``n_classes``, ``ridge`` and ``method``; or
        ``{"skipped": reason}``.

    Raises
    ------
    ValueError
        For ``train_fraction`` outside (0, 1) or a negative ``ridge``, or
        labels whose length differs from the rows of ``features``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 100)
    >>> x = rng.standard_normal((200, 4)) + 3.0 * y[:, None]
    >>> linear_probe(x, y)["accuracy"] > 0.95
    True
    >>> linear_probe(x, None)
    {'skipped': 'no labels'}
    """
    if not 0.0 < float(train_fraction) < 1.0:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    if float(ridge) < 0.0:
        raise ValueError(f"ridge must be >= 0, got {ridge}")
    if labels is None:
        return {"skipped": "no labels"}
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels).astype(np.int64, copy=False).ravel()
    if x.ndim != 2 or x.shape[0] != y.shape[0]:
        raise ValueError(f"labels has {y.shape[0]} entries but features has shape {x.shape} (n, d)")
    if (y < 0).any():
        return {"skipped": "some rows have no label (negative label)"}
    if not np.isfinite(x).all():
        return {"skipped": "features hold NaN or Inf"}
    n = x.shape[0]
    n_train = round(n * float(train_fraction))
    if n_train < _MIN_ROWS // 2 or n - n_train < _MIN_ROWS // 2:
        return {"skipped": f"too few rows for a probe ({n})"}
    order = np.random.default_rng(seed).permutation(n)
    tr, te = order[:n_train], order[n_train:]
    classes = np.unique(y[tr])
    if classes.size < 2:
        return {"skipped": "the probe-training rows hold one class"}
    mean = x[tr].mean(axis=0)
    scale = x[tr].std(axis=0)
    scale[scale <= 1e-12 * max(float(scale.max(initial=0.0)), 1e-300)] = 1.0
    xtr = np.hstack([(x[tr] - mean) / scale, np.ones((n_train, 1))])
    xte = np.hstack([(x[te] - mean) / scale, np.ones((te.size, 1))])
    onehot = (y[tr][:, None] == classes[None, :]).astype(np.float64)
    penalty = float(ridge) * n_train * np.eye(xtr.shape[1])
    penalty[-1, -1] = 0.0  # the intercept is not shrunk
    weights = np.linalg.lstsq(xtr.T @ xtr + penalty, xtr.T @ onehot, rcond=None)[0]
    predicted = classes[np.argmax(xte @ weights, axis=1)]
    counts = np.unique(y[te], return_counts=True)[1]
    return {
        "accuracy": float(np.mean(predicted == y[te])),
        "chance": float(counts.max() / te.size),
        "n_train": int(n_train),
        "n_test": int(te.size),
        "n_classes": int(np.unique(y).size),
        "ridge": float(ridge),
        "method": PROBE_METHOD,
    }
