"""Seeds of a training run: one seed per epoch, and the RNG states a checkpoint keeps.

Every epoch starts from :func:`epoch_seed` ``(seed, epoch)``, a function of the
run's seed and the epoch number only, so a run stopped after epoch k and resumed
from its checkpoint follows the same trajectory as an uninterrupted one.
:func:`rng_state` and :func:`set_rng_state` save and restore the global states
of ``random``, numpy and torch (CUDA too) as plain containers and tensors, which
``torch.load(weights_only=True)`` reads back.
"""

from __future__ import annotations

import contextlib
import random
from typing import Any

import numpy as np

__all__ = ["epoch_seed", "rng_state", "seed_everything", "set_rng_state"]


def epoch_seed(seed: int, epoch: int) -> int:
    """Return the seed of one epoch, a function of ``(seed, epoch)`` only.

    Parameters
    ----------
    seed : int
        The run's seed.
    epoch : int
        Epoch number (1-based for training epochs).

    Returns
    -------
    int
        A 32-bit seed.

    Examples
    --------
    >>> epoch_seed(0, 1) == epoch_seed(0, 1) != epoch_seed(0, 2)
    True
    """
    return int(np.random.SeedSequence([int(seed), int(epoch)]).generate_state(1)[0])


def seed_everything(torch: Any, seed: int) -> None:
    """Seed ``random``, numpy's global state and torch (every device) with ``seed``.

    Parameters
    ----------
    torch : module
        The imported ``torch`` module.
    seed : int
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - the global state, for user transforms
    torch.manual_seed(seed)  # also seeds every CUDA device


def rng_state(torch: Any) -> dict:
    """Return the global RNG states (``python``, ``numpy``, ``torch`` and ``cuda``).

    Parameters
    ----------
    torch : module

    Returns
    -------
    dict
        Plain containers and tensors only.
    """
    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),  # noqa: NPY002 - saved for resume
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _tuples(obj: Any) -> Any:
    if isinstance(obj, list):
        return tuple(_tuples(v) for v in obj)
    return obj


def set_rng_state(torch: Any, state: dict) -> None:
    """Restore what :func:`rng_state` returned (after a checkpoint round trip).

    Parameters
    ----------
    torch : module
    state : dict
        Lists may stand for the tuples ``random.getstate`` gave; a missing or
        unusable entry leaves that generator as it is.
    """
    with contextlib.suppress(KeyError, TypeError, ValueError):
        random.setstate(_tuples(state["python"]))
    with contextlib.suppress(KeyError, TypeError, ValueError):
        kind, keys, pos, has_gauss, cached = state["numpy"]
        keys = np.asarray(keys, dtype=np.uint32)
        np.random.set_state((kind, keys, pos, has_gauss, cached))  # noqa: NPY002
    with contextlib.suppress(KeyError, TypeError, RuntimeError):
        torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        with contextlib.suppress(TypeError, RuntimeError):
            torch.cuda.set_rng_state_all(state["cuda"])
