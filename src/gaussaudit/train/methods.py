"""Training methods as a table: what each method adds to the plain loop.

A method decides four things and nothing else: the head on top of the backbone
(:meth:`Method.head`), what the training transform yields (one view or two,
:meth:`Method.train_transform`), the loss of one batch (:meth:`Method.loss`) and
whether the data needs labels. :meth:`Method.step` (shared) wraps the loss in
autocast, backward and the optimizer step. The loop looks a method up by name in
:data:`METHODS` (:func:`get_method`) and never branches on the name.

Add a method by writing a subclass and one entry in :data:`METHODS` (and its
name in :data:`gaussaudit.train.config.METHODS`, which validates configs
without importing torch).
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..errors import UnknownNameError
from .precision import autocast

__all__ = ["METHODS", "Method", "SimCLR", "Supervised", "get_method", "train_step"]


class Method:
    """One training objective: head, training views and loss.

    Parameters
    ----------
    loss_fn : callable, optional
        The batch loss (contrastive methods: ``loss_fn(z1, z2)``).
    loss_name : str
        Recorded in the run (``resolved["loss"]``).
    """

    name: ClassVar[str] = ""
    #: Whether training needs class labels.
    needs_labels: ClassVar[bool] = False

    def __init__(self, loss_fn: Any = None, loss_name: str = "") -> None:
        self.loss_fn = loss_fn
        self.loss_name = loss_name

    @classmethod
    def from_config(cls, config: Any) -> Method:
        """Build the method of a :class:`~gaussaudit.train.config.TrainConfig`."""
        raise NotImplementedError

    def head(self, in_dim: int, *, arch: str, n_classes: int, proj_hidden: int, proj_dim: int):
        """Return the head module put on a backbone of width ``in_dim``."""
        raise NotImplementedError

    def train_transform(self, augment: Any) -> Any:
        """Wrap the per-image augmentation into what one training item yields."""
        return augment

    def loss(self, model: Any, batch: Any, device: str) -> Any:
        """Forward one DataLoader batch and return its loss (a fp32 scalar tensor)."""
        raise NotImplementedError

    def step(
        self,
        model: Any,
        batch: Any,
        optimizer: Any,
        *,
        device: str = "cpu",
        precision: str = "fp32",
        scaler: Any = None,
    ) -> float:
        """Take one optimisation step on ``batch``; return its loss.

        Parameters
        ----------
        model : CheckpointModel
            In train mode.
        batch : tuple
            A DataLoader batch of this method's training set.
        optimizer : torch.optim.Optimizer
        device : str
            Where the model lives.
        precision : {"fp32", "bf16", "fp16"}
            Autocast dtype of the forward pass (the loss is computed in fp32).
        scaler : torch.amp.GradScaler, optional
            For fp16.

        Returns
        -------
        float
        """
        import torch

        with autocast(torch, device, precision):
            loss = self.loss(model, batch, device)
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        return float(loss.detach())


class SimCLR(Method):
    """Contrastive learning on two augmented views (SimCLR; PAPER.md §3.1).

    Examples
    --------
    >>> from gaussaudit.train.config import TrainConfig
    >>> m = get_method(TrainConfig(method="simclr", loss="infonce"))
    >>> m.name, m.loss_name, m.needs_labels
    ('simclr', 'infonce', False)
    """

    name = "simclr"

    @classmethod
    def from_config(cls, config: Any) -> SimCLR:
        """Build SimCLR with the config's contrastive loss and temperature."""
        from .losses import contrastive_loss

        return cls(contrastive_loss(config.loss, config.temperature), config.loss)

    def head(self, in_dim: int, *, arch: str, n_classes: int, proj_hidden: int, proj_dim: int):
        """Return the projection head (ResNet-18) or an identity (the MLP of Fig. 4)."""
        from torch import nn

        from .heads import ProjectionHead

        # The MLP of Fig. 4 has no head: the loss acts on its output.
        if arch == "mlp":
            return nn.Identity()
        return ProjectionHead(in_dim, proj_hidden, proj_dim)

    def train_transform(self, augment: Any) -> Any:
        """Return two independent draws of the augmentation per item."""
        from .augment import TwoViews

        return TwoViews(augment)

    def loss(self, model: Any, batch: Any, device: str) -> Any:
        """Return the contrastive loss of ``((view1, view2), labels)``."""
        import torch

        (v1, v2), _labels = batch
        both = torch.cat([v1, v2]).to(device, non_blocking=device == "cuda")
        z1, z2 = model(both).float().chunk(2)  # one forward: BatchNorm sees 2N images
        return self.loss_fn(z1, z2)


class Supervised(Method):
    """Cross-entropy on a linear classifier, on one augmented view.

    Examples
    --------
    >>> m = Supervised()
    >>> m.name, m.loss_name, m.needs_labels
    ('supervised', 'cross_entropy', True)
    """

    name = "supervised"
    needs_labels = True

    def __init__(self, loss_fn: Any = None, loss_name: str = "cross_entropy") -> None:
        super().__init__(loss_fn, loss_name)

    @classmethod
    def from_config(cls, config: Any) -> Supervised:
        """Build the supervised method (nothing in the config changes it)."""
        return cls()

    def head(self, in_dim: int, *, arch: str, n_classes: int, proj_hidden: int, proj_dim: int):
        """Return a linear classifier over ``n_classes``."""
        from .heads import LinearClassifier

        return LinearClassifier(in_dim, n_classes)

    def loss(self, model: Any, batch: Any, device: str) -> Any:
        """Return the cross-entropy of ``(images, labels)``."""
        from .losses import cross_entropy

        x, y = batch
        nb = device == "cuda"
        logits = model(x.to(device, non_blocking=nb)).float()
        return cross_entropy(logits, y.to(device, non_blocking=nb))


#: The trainer's methods by name.
METHODS: dict[str, type[Method]] = {"simclr": SimCLR, "supervised": Supervised}


def get_method(config: Any) -> Method:
    """Look up and build the method of a config (or of a bare method name).

    Parameters
    ----------
    config : TrainConfig or str
        A config (``method``, ``loss``, ``temperature`` are read) or a name,
        which builds the method with its defaults.

    Returns
    -------
    Method

    Raises
    ------
    UnknownNameError
        For a name not in :data:`METHODS`.

    Examples
    --------
    >>> type(get_method("supervised")).__name__
    'Supervised'
    """
    if isinstance(config, str):
        from .config import TrainConfig

        if config not in METHODS:
            raise UnknownNameError("training method", config, tuple(METHODS))
        config = TrainConfig(method=config)
    if config.method not in METHODS:
        raise UnknownNameError("training method", str(config.method), tuple(METHODS))
    return METHODS[config.method].from_config(config)


def train_step(
    model: Any,
    batch: Any,
    optimizer: Any,
    *,
    method: str,
    loss_fn: Any = None,
    device: str = "cpu",
    precision: str = "fp32",
    scaler: Any = None,
) -> float:
    """One optimisation step of ``method``; returns the loss.

    Parameters
    ----------
    model : CheckpointModel
        In train mode.
    batch : tuple
        ``((view1, view2), labels)`` for ``simclr``, ``(images, labels)`` for
        ``supervised`` (a DataLoader batch).
    optimizer : torch.optim.Optimizer
    method : {"simclr", "supervised"}
    loss_fn : callable, optional
        Contrastive loss ``loss_fn(z1, z2)`` (simclr only).
    device : str
        Where the model lives.
    precision : {"fp32", "bf16", "fp16"}
        Autocast dtype of the forward pass (the loss is computed in fp32).
    scaler : torch.amp.GradScaler, optional
        For fp16.

    Returns
    -------
    float
        The batch loss.
    """
    if method not in METHODS:
        raise UnknownNameError("training method", str(method), tuple(METHODS))
    return METHODS[method](loss_fn).step(
        model, batch, optimizer, device=device, precision=precision, scaler=scaler
    )
