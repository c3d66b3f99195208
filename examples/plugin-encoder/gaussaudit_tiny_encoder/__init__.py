"""An example gaussaudit encoder plugin: ``tiny-mlp``.

The entry point (``pyproject.toml``, group ``gaussaudit.encoders``) points at
:data:`SPEC`. Listing encoders imports only this module, which does not import
torch; :func:`gaussaudit_tiny_encoder.model.create` builds the encoder when
``gaussaudit embed --model tiny-mlp`` (or ``create_encoder("tiny-mlp")``) asks
for it.
"""

from gaussaudit.encoders import EncoderSpec

__all__ = ["SPEC"]

SPEC = EncoderSpec(
    name="tiny-mlp",
    family="tiny-mlp",
    factory="gaussaudit_tiny_encoder.model:create",
    modalities=("vector",),
    dim=64,
    extra="torch",
    description="example plugin: seeded 2-layer MLP, 1024-d vectors -> 64-d",
)
