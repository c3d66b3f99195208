"""Augmentations for the trainer: SimCLR views, the evaluation transform, two views.

:func:`simclr_transform` follows PAPER.md §3.1 (Appendix E.1): RandomResizedCrop
to ``image_size`` with scale (0.2, 1.0), horizontal flip, colour jitter with
strengths (0.8, 0.8, 0.8, 0.2) and random grayscale with p = 0.2. The paper
does not state how often the colour jitter is applied; SimCLR's 0.8 is the
default here (``jitter_p``). No blur (SimCLR omits it for CIFAR).

For one-channel data (Fashion-MNIST) saturation, hue and grayscale have no
meaning, so only brightness and contrast are jittered and there is no grayscale
op. :func:`eval_transform` is the deterministic pipeline the audit uses, the
same as the ``resnet18-simclr`` encoder's (so the per-epoch audit and a later
``gaussaudit embed`` see identical input). Everything here is a plain class or a
torchvision transform, hence picklable for DataLoader workers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "CHOICES",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "FASHION_MNIST_MEAN",
    "FASHION_MNIST_STD",
    "ToChannels",
    "TwoViews",
    "default_normalization",
    "eval_transform",
    "simclr_transform",
]

#: Settings of the augmentation the paper leaves unstated, as chosen here.
CHOICES: dict[str, Any] = {
    "colour_jitter_probability": 0.8,
    "blur": "none",
    "one_channel": "brightness/contrast jitter only, no grayscale op",
    "order": "crop, flip, jitter, grayscale, to-tensor, normalise (SimCLR's)",
}

#: Per-channel normalisation used when none is given (the checkpoint encoder's too).
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
FASHION_MNIST_MEAN = (0.2860,)
FASHION_MNIST_STD = (0.3530,)


class ToChannels:
    """Convert a PIL image to ``n`` channels (``L`` for 1, ``RGB`` for 3).

    Grayscale is replicated to three channels; colour is converted to
    luminance for one channel; alpha is dropped. Picklable.

    Parameters
    ----------
    channels : int
        1 or 3.

    Examples
    --------
    >>> from PIL import Image
    >>> ToChannels(3)(Image.new("L", (4, 4))).mode
    'RGB'
    """

    def __init__(self, channels: int) -> None:
        self.channels = channels

    def __call__(self, img: Any) -> Any:
        """Return ``img`` in mode ``L`` or ``RGB``."""
        mode = "L" if self.channels == 1 else "RGB"
        if getattr(img, "mode", mode) != mode:
            return img.convert(mode)
        return img

    def __repr__(self) -> str:
        return f"ToChannels({self.channels})"


def default_normalization(channels: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std used when none is given.

    Parameters
    ----------
    channels : int
        1 (Fashion-MNIST statistics) or 3 (CIFAR-10 statistics).

    Returns
    -------
    mean, std : tuple of float
        The same defaults the checkpoint encoder falls back to.
    """
    if channels == 1:
        return FASHION_MNIST_MEAN, FASHION_MNIST_STD
    return CIFAR10_MEAN, CIFAR10_STD


def _norm(channels: int, mean, std) -> tuple[Sequence[float], Sequence[float]]:
    default_mean, default_std = default_normalization(channels)
    mean = tuple(mean) if mean is not None else default_mean
    std = tuple(std) if std is not None else default_std
    if len(mean) != channels or len(std) != channels:
        from ..errors import UsageError

        raise UsageError(f"mean/std need {channels} value(s), got {list(mean)} and {list(std)}")
    return mean, std


def _check_channels(channels: int) -> None:
    if channels not in (1, 3):
        from ..errors import UsageError

        raise UsageError(f"images must have 1 or 3 channels, got {channels}")


def simclr_transform(
    image_size: int = 32,
    channels: int = 3,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    jitter_p: float = 0.8,
    *,
    scale: tuple[float, float] = (0.2, 1.0),
    jitter: tuple[float, float, float, float] = (0.8, 0.8, 0.8, 0.2),
    grayscale_p: float = 0.2,
):
    """SimCLR augmentation of one PIL image (PAPER.md §3.1).

    Parameters
    ----------
    image_size : int
        Output side length (RandomResizedCrop target).
    channels : int
        1 or 3; the input is converted to this many channels first.
    mean, std : sequence of float, optional
        Normalisation (default: CIFAR-10's for 3 channels, Fashion-MNIST's for 1).
    jitter_p : float
        Probability of applying the colour jitter (unstated in the paper;
        SimCLR's 0.8).
    scale : (float, float)
        RandomResizedCrop area range.
    jitter : (float, float, float, float)
        Brightness, contrast, saturation and hue strengths. With one channel
        only the first two are used.
    grayscale_p : float
        Probability of RandomGrayscale (3 channels only).

    Returns
    -------
    torchvision.transforms.Compose
        PIL image -> float tensor ``(channels, image_size, image_size)``.
    """
    from torchvision import transforms as T

    _check_channels(channels)
    mean, std = _norm(channels, mean, std)
    brightness, contrast, saturation, hue = jitter
    if channels == 3:
        colour = [
            T.RandomApply([T.ColorJitter(brightness, contrast, saturation, hue)], p=jitter_p),
            T.RandomGrayscale(p=grayscale_p),
        ]
    else:
        colour = [T.RandomApply([T.ColorJitter(brightness, contrast)], p=jitter_p)]
    return T.Compose(
        [
            ToChannels(channels),
            T.RandomResizedCrop(image_size, scale=scale),
            T.RandomHorizontalFlip(),
            *colour,
            T.ToTensor(),
            T.Normalize(mean, std),
        ]
    )


def eval_transform(
    image_size: int = 32,
    channels: int = 3,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
):
    """Deterministic evaluation transform (the checkpoint encoder's).

    Parameters
    ----------
    image_size : int
        Images are resized to ``image_size x image_size``.
    channels : int
        1 or 3.
    mean, std : sequence of float, optional
        Normalisation (defaults as in :func:`simclr_transform`).

    Returns
    -------
    torchvision.transforms.Compose
        PIL image -> float tensor ``(channels, image_size, image_size)``.
    """
    from torchvision import transforms as T

    _check_channels(channels)
    mean, std = _norm(channels, mean, std)
    return T.Compose(
        [
            ToChannels(channels),
            T.Resize((image_size, image_size)),
            T.ToTensor(),
            T.Normalize(mean, std),
        ]
    )


class TwoViews:
    """Apply a random transform twice: ``item -> (view1, view2)``.

    Parameters
    ----------
    transform : callable
        A random augmentation, e.g. :func:`simclr_transform`'s result.
    """

    def __init__(self, transform: Any) -> None:
        self.transform = transform

    def __call__(self, item: Any) -> tuple[Any, Any]:
        """Two independent draws of the augmentation of ``item``."""
        return self.transform(item), self.transform(item)

    def __repr__(self) -> str:
        return f"TwoViews({self.transform!r})"
