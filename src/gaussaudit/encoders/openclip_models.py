"""open_clip models: ``openclip:ARCH:TAG``, image tower or (``modality="text"``) text tower.

``ARCH`` is a name from ``open_clip.list_models()`` (``ViT-L-14``, ``ViT-B-32``,
``RN50``, ...) or ``hf-hub:ORG/REPO``; ``TAG`` a pretrained tag from
``open_clip.list_pretrained_tags_by_model(ARCH)`` (``openai``, ``laion2b_s32b_b82k``,
...). The paper's CLIP is ``openclip:ViT-L-14:openai``.

Weights
    ``default``
        The tag's weights (downloaded once by open_clip; an empty tag is an
        error). Download failures raise
        :class:`~gaussaudit.errors.ResourceUnavailableError` (exit 3).
    ``none``
        Random initialisation, no download (the tag may be empty).
    a path
        A checkpoint file passed to open_clip as ``pretrained``.

Outputs are the unnormalised ``encode_image`` / ``encode_text`` embeddings
(``normalize=False``): the paper audits raw embeddings and the L2-normalised
view is computed downstream. Images use the model's own validation
preprocessing (which converts every PIL image to RGB); text is tokenised in
``collate`` with ``open_clip.get_tokenizer(ARCH)`` (the default CLIP BPE
tokenizer ships its vocabulary, so it works offline). ``layer`` may name a
submodule of the whole CLIP model (e.g. ``visual.transformer.resblocks.11``),
captured with a forward hook.
"""

from __future__ import annotations

from http.client import HTTPException
from pathlib import Path
from typing import Any

from ..errors import MissingExtraError, ResourceUnavailableError, UnknownNameError, UsageError
from .base import Encoder, EncoderSpec
from .layers import capture_layer, identity, infer_dim, short_choices, stack_tensors

__all__ = ["create", "encode_image", "encode_text"]

SPECIAL_LAYERS = ("embedding", "penultimate")


def encode_image(module: Any, batch: Any) -> Any:
    """Unnormalised image embeddings of a CLIP model."""
    return module.encode_image(batch, normalize=False).float()


def encode_text(module: Any, batch: Any) -> Any:
    """Unnormalised text embeddings of a CLIP model."""
    return module.encode_text(batch, normalize=False).float()


class TokenizeCollate:
    """Collate a list of strings into a token-id tensor with an open_clip tokenizer.

    Parameters
    ----------
    tokenizer : callable
        ``tokenizer(list_of_str) -> LongTensor (B, context_length)``.
    """

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer

    def __call__(self, texts: list) -> Any:
        return self.tokenizer([str(t) for t in texts])

    def __repr__(self) -> str:
        return f"TokenizeCollate({type(self.tokenizer).__name__})"


def _parse(argument: str | None) -> tuple[str, str]:
    argument = argument or ""
    if argument.startswith("hf-hub:"):
        return argument, ""
    arch, _, tag = argument.partition(":")
    if not arch:
        raise UsageError(
            "open_clip encoders are named openclip:ARCH:TAG, e.g. openclip:ViT-L-14:openai"
        )
    return arch, tag


def create(
    spec: EncoderSpec,
    argument: str | None,
    *,
    weights: str = "default",
    layer: str | None = None,
    modality: str = "image",
    **options: Any,
) -> Encoder:
    """Build an open_clip image or text encoder.

    Parameters
    ----------
    spec : EncoderSpec
    argument : str
        ``ARCH:TAG`` (``TAG`` may be empty with ``weights="none"``).
    weights : str
        ``default`` (the tag's weights), ``none`` (random) or a checkpoint path.
    layer : str, optional
        ``embedding`` (default; alias ``penultimate``: the tower's projected,
        unnormalised embedding) or a submodule name.
    modality : str
        ``image`` or ``text``.
    **options
        ``cache_dir`` is passed to open_clip; others are ignored.

    Returns
    -------
    Encoder

    Raises
    ------
    MissingExtraError
        Without open_clip installed.
    UnknownNameError
        For an unknown architecture or tag.
    ResourceUnavailableError
        When the weights cannot be downloaded.
    """
    try:
        import open_clip
    except ImportError as err:
        raise MissingExtraError("open_clip", "clip", "openclip encoders") from err
    from PIL import Image

    arch, tag = _parse(argument)
    name = f"openclip:{arch}:{tag}"
    if modality not in ("image", "text"):
        raise UsageError(f"open_clip encoders take image or text input, not {modality!r}")
    if not arch.startswith("hf-hub:") and arch not in open_clip.list_models():
        raise UnknownNameError(
            "open_clip architecture", arch, short_choices(arch, open_clip.list_models())
        )

    if weights == "none":
        pretrained = None
    elif weights == "default":
        if not tag and not arch.startswith("hf-hub:"):
            tags = open_clip.list_pretrained_tags_by_model(arch)
            raise UsageError(
                f"openclip:{arch} needs a pretrained tag (openclip:{arch}:TAG) for its weights; "
                f"tags: {', '.join(tags) or 'none'}; or pass weights='none' for random weights",
                option="weights",
            )
        if tag and not arch.startswith("hf-hub:"):
            tags = open_clip.list_pretrained_tags_by_model(arch)
            if tag not in tags:
                raise UnknownNameError(f"open_clip tag for {arch}", tag, tags)
        pretrained = tag or None
    else:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise UsageError(
                f"weights must be 'default', 'none' or a checkpoint path; {weights!r} is not a file"
            )
        from .weights import check_weights_file

        pretrained = str(check_weights_file(path))

    kwargs = {"cache_dir": options["cache_dir"]} if options.get("cache_dir") else {}
    try:
        model, _, preprocess = open_clip.create_model_and_transforms(
            arch, pretrained=pretrained, **kwargs
        )
    except (OSError, HTTPException, EOFError) as err:
        raise ResourceUnavailableError(
            f"cannot load the open_clip weights {arch}:{tag or pretrained} "
            f"({type(err).__name__}: {err}). Connect to the internet once to download them "
            "(they are cached by open_clip / huggingface_hub), pass weights=PATH, "
            "or weights='none' for random weights.",
            option="weights",
        ) from err
    except RuntimeError as err:
        if "not found" in str(err).lower():
            raise UsageError(str(err)) from err
        raise
    model.eval()

    info: dict[str, Any] = {
        "family": "openclip",
        "architecture": arch,
        "pretrained": pretrained,
        "normalized": False,
    }
    if modality == "image":
        transform = preprocess
        collate = stack_tensors
        run = encode_image
        example = collate([transform(Image.new("RGB", (32, 32)))])
        info["transform"] = "open_clip preprocessing (PIL images converted to RGB): " + repr(
            preprocess
        )
    else:
        tokenizer = open_clip.get_tokenizer(arch)
        transform = identity
        collate = TokenizeCollate(tokenizer)
        run = encode_text
        example = collate(["a photo"])
        info["transform"] = f"open_clip tokenizer {type(tokenizer).__name__} in collate"
        info["context_length"] = int(getattr(tokenizer, "context_length", example.shape[1]))

    layer = layer or "embedding"
    if layer in SPECIAL_LAYERS:
        layer = "embedding"
        forward = run
    else:
        forward = capture_layer(model, layer, run=run, special=SPECIAL_LAYERS)
    dim = infer_dim(forward, example, model)
    if getattr(forward, "pooled", False):
        info["layer_detail"] = f"output of '{layer}' global-average-pooled to (B, C)"
    return Encoder(
        name=name,
        module=model,
        modality=modality,
        dim=int(dim),
        layer=layer,
        weights=weights if weights != "default" else tag,
        transform=transform,
        collate=collate,
        forward=forward,
        info=info,
    )
