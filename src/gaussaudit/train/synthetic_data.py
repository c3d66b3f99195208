"""Inputs and positive pairs of the synthetic experiments (Appendix E.1).

:func:`make_data` loads the train and test splits of ``synthetic:<kind>``
(:mod:`gaussaudit.datasets.synthetic`) and binds the view channel that draws
positive pairs (fresh training views every epoch, fixed test views).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import UsageError

__all__ = ["SyntheticData", "make_data"]

_DATA_OPTIONS = {
    "laplace": (),
    "gmm": ("n_components", "mean_scale", "noise_scale"),
    "binary": ("p_one",),
}
_VIEW_OPTIONS = {
    "laplace": ("a", "noise_std", "dropout", "scale_sigma"),
    "gmm": ("noise_scale",),
    "binary": ("flip",),
}


@dataclass
class SyntheticData:
    """Train/test inputs of one kind and the view channel."""

    x_train: np.ndarray
    x_test: np.ndarray
    views: Callable[[np.ndarray, np.random.Generator], tuple[np.ndarray, np.ndarray]]
    test_views: Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]]
    info: dict


def _split_options(kind: str, options: dict) -> tuple[dict, dict]:
    allowed = set(_DATA_OPTIONS[kind]) | set(_VIEW_OPTIONS[kind])
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise UsageError(
            f"unknown option(s) for {kind}: {', '.join(unknown)} "
            f"(allowed: {', '.join(sorted(allowed)) or 'none'})"
        )
    data = {k: v for k, v in options.items() if k in _DATA_OPTIONS[kind]}
    views = {k: v for k, v in options.items() if k in _VIEW_OPTIONS[kind]}
    return data, views


def make_data(
    kind: str, *, d_in: int, n_train: int, n_test: int, seed: int, options: dict
) -> SyntheticData:
    """Load both splits of ``synthetic:<kind>`` and bind its view channel.

    Parameters
    ----------
    kind : {"laplace", "gmm", "binary"}
    d_in, n_train, n_test : int
        Input dimension and split sizes.
    seed : int
        The experiment seed (both splits; GMM means).
    options : dict
        Data options and view options of ``kind`` (anything else is an error).

    Returns
    -------
    SyntheticData
    """
    from ..datasets import load_dataset
    from ..datasets import synthetic as syn

    data_opts, view_opts = _split_options(kind, options)
    name = f"synthetic:{kind}"
    train = load_dataset(name, split="train", seed=seed, n=n_train, d=d_in, **data_opts)
    test = load_dataset(name, split="test", seed=seed, n=n_test, d=d_in, **data_opts)
    x_train = np.asarray(train.items, dtype=np.float32)
    x_test = np.asarray(test.items, dtype=np.float32)
    info = {"train": train.info, "test": test.info}
    if kind == "laplace":
        opts = {"a": 0.6, "noise_std": 0.2, "dropout": 0.1, "scale_sigma": 0.1, **view_opts}

        def views(order, rng):
            return syn.laplace_views(x_train[order], rng=rng, **opts)

        def test_views(rng):
            return syn.laplace_views(x_test, rng=rng, **opts)

    elif kind == "gmm":
        k = int(data_opts.get("n_components", syn.CHOICES["gmm_n_components"]))
        mean_scale = float(data_opts.get("mean_scale", syn.CHOICES["gmm_mean_scale"]))
        noise = float(data_opts.get("noise_scale", syn.CHOICES["gmm_noise_scale"]))
        # create() draws the means from the experiment seed alone (both splits share them).
        means = syn.gmm_means(d_in, k, mean_scale=mean_scale, seed=int(seed))
        y_train, y_test = np.asarray(train.labels), np.asarray(test.labels)
        opts = {"noise_scale": noise}

        def views(order, rng):
            return syn.gmm_views(y_train[order], means, rng=rng, **opts)

        def test_views(rng):
            return syn.gmm_views(y_test, means, rng=rng, **opts)

    else:
        opts = {"flip": float(syn.CHOICES["binary_flip"]), **view_opts}

        def views(order, rng):
            return syn.binary_views(x_train[order], rng=rng, **opts)

        def test_views(rng):
            return syn.binary_views(x_test, rng=rng, **opts)

    info["views"] = {"function": f"gaussaudit.datasets.synthetic.{kind}_views", **opts}
    return SyntheticData(x_train, x_test, views, test_views, info)
