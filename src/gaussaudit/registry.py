"""Lazy registries: names map to specs; nothing heavy is imported to list them.

Encoders and datasets are registered as small frozen specs whose ``factory`` is
a ``"module:attribute"`` string, imported only when the thing is created.
Built-ins and third-party plugins go through the same door: a package exposes
an entry point in the group ``gaussaudit.encoders`` (or ``gaussaudit.datasets``)
pointing at a spec, a list of specs, or a function returning either.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from .errors import UnknownNameError, UsageError

__all__ = ["NamedSpec", "Registry", "load_object"]


class NamedSpec(Protocol):
    """What a registry stores: anything with a ``name`` and a ``family``."""

    name: str
    family: str


S = TypeVar("S", bound=NamedSpec)


def load_object(path: str) -> Any:
    """Import ``"package.module:attr.sub"`` and return the attribute.

    Raises
    ------
    UsageError
        When the string is not of that form or the attribute does not exist.
    """
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"expected 'module.path:attribute', got {path!r}")
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name and module_name.startswith(err.name):
            raise UsageError(f"cannot import module {module_name!r} (from {path!r})") from err
        raise
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise UsageError(f"module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


@dataclass
class Registry(Generic[S]):
    """Specs by name, plus prefix families (``"timm:"``) and entry-point plugins.

    Parameters
    ----------
    kind : str
        What is registered, for messages (``"encoder"``).
    group : str
        Entry-point group scanned for plugins.
    """

    kind: str
    group: str

    def __post_init__(self) -> None:
        self._specs: dict[str, S] = {}
        self._prefixes: dict[str, S] = {}
        self._plugins_loaded = False

    def register(self, spec: S, *, prefix: bool = False) -> S:
        """Add ``spec``; with ``prefix`` it handles every name ``"<name>:<arg>"``."""
        table = self._prefixes if prefix else self._specs
        table[spec.name] = spec
        return spec

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        from importlib.metadata import entry_points

        for ep in entry_points(group=self.group):
            try:
                obj = ep.load()
            except Exception as err:
                import warnings

                warnings.warn(f"{self.kind} plugin {ep.name!r} failed to load: {err}", stacklevel=2)
                continue
            specs = obj() if callable(obj) and not hasattr(obj, "name") else obj
            if not isinstance(specs, Iterable) or hasattr(specs, "name"):
                specs = [specs]
            for spec in specs:
                self._specs.setdefault(spec.name, spec)

    def specs(self) -> list[S]:
        """Every registered spec (names, then prefix families)."""
        self._load_plugins()
        return [*self._specs.values(), *self._prefixes.values()]

    def is_prefix(self, spec: S) -> bool:
        """Whether ``spec`` is a prefix family (typed as ``"name:argument"``)."""
        return self._prefixes.get(spec.name) is spec

    def names(self) -> list[str]:
        """Names a user can type (prefix families shown as ``"name:..."``)."""
        self._load_plugins()
        return [*self._specs, *(f"{p}:..." for p in self._prefixes)]

    def resolve(self, name: str, *, callable_fallback: Callable[[str], S] | None = None):
        """Find the spec for ``name`` and the argument after a prefix.

        Returns
        -------
        spec, argument : (spec, str or None)

        Raises
        ------
        UnknownNameError
            With the closest names suggested.
        """
        self._load_plugins()
        if name in self._specs:
            return self._specs[name], None
        head, sep, rest = name.partition(":")
        if sep and head in self._prefixes:
            return self._prefixes[head], rest
        if sep and rest and callable_fallback is not None:
            return callable_fallback(name), name
        raise UnknownNameError(self.kind, name, self.names())
