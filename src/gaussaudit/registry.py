"""Lazy registries: names map to specs; nothing heavy is imported to list them.

One door for every entry
------------------------
A registry (encoders, datasets, tests, report formats, readers) holds small
frozen specs whose heavy parts are ``"module:attribute"`` strings, imported
only when the thing is used. Entries arrive through one door, an *entry point*:
a ``"module:attribute"`` naming a spec, an iterable of specs, or a function
returning either.

- Third-party packages declare entry points in the registry's group
  (``gaussaudit.encoders``, ``gaussaudit.datasets``, ``gaussaudit.tests``,
  ``gaussaudit.formats``, ``gaussaudit.readers``) in their ``pyproject.toml``.
- gaussaudit's own entries come from the registry's ``builtins`` hook, for
  instance ``"gaussaudit.encoders:builtin_specs"``. It is loaded as an entry
  point of the same group (an :class:`importlib.metadata.EntryPoint` built
  here) and goes through exactly the code and the checks a plugin does. It is
  not declared in gaussaudit's own package metadata so that a source checkout,
  a stale editable install or a test that fakes the entry points never loses
  the built-ins.
- :meth:`Registry.register` adds an entry from running code (tests, notebooks).

A spec needs a ``name``. Two optional attributes are read from it: ``prefix``
(true for a family that handles every ``"<name>:<argument>"``, such as
``timm:``) and ``override`` (true to replace an entry of the same name from
another source).

Collisions
----------
Two sources registering one name (a plain name, or a prefix family) is an
error, :class:`~gaussaudit.errors.PluginConflictError`, naming both sources
(distribution and version, or ``gaussaudit (built-in)``), unless exactly one
of them sets ``override``: then it wins, whatever the order in which
distributions were found, and :meth:`Registry.replaced` records what it
replaced. Nothing is shadowed or dropped silently. A plugin that fails to
import, or returns something that is not a spec, is skipped with a
:class:`~gaussaudit.errors.PluginWarning` naming it.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from .errors import PluginConflictError, PluginWarning, UnknownNameError, UsageError

__all__ = ["BUILTIN_SOURCE", "NamedSpec", "Registry", "load_object"]

#: How built-in entries are named in messages.
BUILTIN_SOURCE = "gaussaudit (built-in)"


class NamedSpec(Protocol):
    """What a registry stores: anything with a ``name``."""

    name: str


S = TypeVar("S", bound=NamedSpec)


def load_object(path: str) -> Any:
    """Import ``"package.module:attr.sub"`` and return the attribute.

    Parameters
    ----------
    path : str
        ``"module.path:attribute"``; the attribute may be dotted.

    Returns
    -------
    object

    Raises
    ------
    UsageError
        When the string is not of that form or the attribute does not exist.

    Examples
    --------
    >>> load_object("math:pi")
    3.141592653589793
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


@dataclass(frozen=True)
class _Entry:
    """One registration: the spec, its table, and who made it."""

    spec: Any
    prefix: bool
    override: bool
    source: str
    distribution: str | None = None

    @property
    def key(self) -> tuple[bool, str]:
        return self.prefix, self.spec.name


def _entry(
    spec: Any,
    source: str,
    *,
    prefix: bool | None = None,
    override: bool | None = None,
    distribution: str | None = None,
) -> _Entry:
    return _Entry(
        spec,
        bool(getattr(spec, "prefix", False) if prefix is None else prefix),
        bool(getattr(spec, "override", False) if override is None else override),
        source,
        distribution,
    )


def _describe_entry_point(ep: Any) -> tuple[str, str | None]:
    """``"dist version (entry point name = value)"`` and the distribution name."""
    where = f"entry point {ep.name} = {ep.value}"
    dist = getattr(ep, "dist", None)
    if dist is None:
        return where, None
    name = getattr(dist, "name", None) or dist.metadata["Name"]
    return f"{name} {dist.version} ({where})", name


@dataclass
class Registry(Generic[S]):
    """Specs by name, plus prefix families (``"timm:"``), from built-ins and plugins.

    Parameters
    ----------
    kind : str
        What is registered, for messages (``"encoder"``).
    group : str
        Entry-point group scanned for plugins (``"gaussaudit.encoders"``).
    builtins : str, optional
        ``"module:attribute"`` of the package's own entries, loaded exactly
        like a plugin's entry point (a spec, specs, or a function returning
        either).

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Spec:
    ...     name: str
    ...     prefix: bool = False
    >>> reg = Registry("thing", "example.things")
    >>> _ = reg.register(Spec("plain"))
    >>> _ = reg.register(Spec("fam", prefix=True))
    >>> reg.names()
    ['plain', 'fam:...']
    >>> reg.resolve("fam:xyz")
    (Spec(name='fam', prefix=True), 'xyz')
    """

    kind: str
    group: str
    builtins: str | None = None

    def __post_init__(self) -> None:
        self._specs: dict[str, S] = {}
        self._prefixes: dict[str, S] = {}
        self._entries: dict[tuple[bool, str], _Entry] = {}
        self._replaced: dict[tuple[bool, str], tuple[str, ...]] = {}
        self._found: list[_Entry] = []  # built-ins and entry points, from the last scan
        self._runtime: list[_Entry] = []  # register() calls
        self._plugins_loaded = False
        self._loading = False

    # ----------------------------------------------------------------- adding

    def register(self, spec: S, *, prefix: bool | None = None, override: bool | None = None) -> S:
        """Add ``spec`` from running code.

        Parameters
        ----------
        spec
            Anything with a ``name``.
        prefix : bool, optional
            True: ``spec`` handles every name ``"<name>:<argument>"``. Default:
            the spec's own ``prefix`` attribute, else False.
        override : bool, optional
            True: replace an entry of the same name from another source.
            Default: the spec's own ``override`` attribute, else False.

        Returns
        -------
        spec

        Raises
        ------
        PluginConflictError
            When the name is taken by another source and neither overrides
            (raised here once the registry is loaded, else at its loading).
        """
        caller = sys._getframe(1).f_globals.get("__name__", "?")
        entry = _entry(spec, f"register() in {caller}", prefix=prefix, override=override)
        if self._plugins_loaded and not self._loading:
            self._install(self._merge([*self._found, *self._runtime, entry]))
        self._runtime.append(entry)
        return spec

    def reload(self) -> None:
        """Scan the built-ins and the entry points again at the next lookup."""
        self._plugins_loaded = False

    def _load_plugins(self) -> None:
        if self._plugins_loaded or self._loading:
            return
        self._loading = True
        try:
            entries: list[_Entry] = []
            if self.builtins is not None:
                hook = importlib.metadata.EntryPoint(
                    name="builtin", value=self.builtins, group=self.group
                )
                entries += self._from_hook(hook.load(), BUILTIN_SOURCE, None, strict=True)
            for ep in importlib.metadata.entry_points(group=self.group):
                source, dist = _describe_entry_point(ep)
                try:
                    obj = ep.load()
                except Exception as err:
                    self._warn(f"plugin {ep.name!r} from {source} failed to import", err)
                    continue
                entries += self._from_hook(obj, source, dist, strict=False, plugin=ep.name)
            # plugins may call register() while they are imported: those come last
            tables = self._merge([*entries, *self._runtime])
        finally:
            self._loading = False
        self._found = entries
        self._install(tables)
        self._plugins_loaded = True

    def _from_hook(
        self,
        obj: Any,
        source: str,
        distribution: str | None,
        *,
        strict: bool,
        plugin: str = "builtin",
    ) -> list[_Entry]:
        """Return the entries an entry point's object yields (a spec, specs, or a function)."""
        try:
            if callable(obj) and not hasattr(obj, "name"):
                obj = obj()
            items = [obj] if hasattr(obj, "name") else list(obj)
            bad = [item for item in items if not isinstance(getattr(item, "name", None), str)]
            if bad:
                raise TypeError(f"{bad[0]!r} is not a spec (it has no name)")
        except Exception as err:
            if strict:
                raise
            self._warn(f"plugin {plugin!r} from {source} gave no usable {self.kind} specs", err)
            return []
        return [_entry(item, source, distribution=distribution) for item in items]

    def _warn(self, what: str, err: BaseException) -> None:
        warnings.warn(
            f"{self.kind} {what} and is skipped: {type(err).__name__}: {err}",
            PluginWarning,
            stacklevel=4,
        )

    def _merge(self, entries: Iterable[_Entry]) -> dict[tuple[bool, str], tuple[_Entry, tuple]]:
        """Settle every name: one source, identical specs, or exactly one override."""
        groups: dict[tuple[bool, str], list[_Entry]] = {}
        for entry in entries:
            same = groups.setdefault(entry.key, [])
            if not any(other.spec == entry.spec for other in same):
                same.append(entry)
        settled: dict[tuple[bool, str], tuple[_Entry, tuple]] = {}
        for key, group in groups.items():
            winners = [e for e in group if e.override] if len(group) > 1 else group
            if len(winners) != 1:
                shown = f"{key[1]}:" if key[0] else key[1]
                raise PluginConflictError(self.kind, shown, [e.source for e in group])
            (winner,) = winners
            settled[key] = (winner, tuple(e.source for e in group if e is not winner))
        return settled

    def _install(self, tables: dict[tuple[bool, str], tuple[_Entry, tuple]]) -> None:
        self._entries = {key: winner for key, (winner, _) in tables.items()}
        self._replaced = {key: lost for key, (_, lost) in tables.items() if lost}
        self._specs = {name: e.spec for (prefix, name), e in self._entries.items() if not prefix}
        self._prefixes = {name: e.spec for (prefix, name), e in self._entries.items() if prefix}

    # ---------------------------------------------------------------- reading

    def specs(self) -> list[S]:
        """Every registered spec (names, then prefix families)."""
        self._load_plugins()
        return [*self._specs.values(), *self._prefixes.values()]

    def is_prefix(self, spec: S) -> bool:
        """Whether ``spec`` is a prefix family (typed as ``"name:argument"``)."""
        self._load_plugins()
        return self._prefixes.get(spec.name) is spec

    def display_name(self, spec: S) -> str:
        """Return what a user types: ``"resnet18"``, or ``"timm:..."`` for a prefix family."""
        return f"{spec.name}:..." if self.is_prefix(spec) else spec.name

    def names(self) -> list[str]:
        """Names a user can type (prefix families shown as ``"name:..."``)."""
        self._load_plugins()
        return [*self._specs, *(f"{p}:..." for p in self._prefixes)]

    def families(self) -> list[str]:
        """Return the distinct ``family`` values of the registered specs, in order."""
        return list(dict.fromkeys(getattr(s, "family", s.name) for s in self.specs()))

    def source(self, spec: S) -> str | None:
        """Who registered ``spec``: ``"gaussaudit (built-in)"``, a distribution, or a caller."""
        self._load_plugins()
        entry = self._entries.get((self.is_prefix(spec), spec.name))
        return entry.source if entry is not None and entry.spec is spec else None

    def distribution(self, spec: S) -> str | None:
        """Return the installed distribution a plugin spec came from (None for built-ins)."""
        self._load_plugins()
        entry = self._entries.get((self.is_prefix(spec), spec.name))
        return entry.distribution if entry is not None and entry.spec is spec else None

    def replaced(self) -> dict[str, tuple[str, ...]]:
        """Names an ``override`` took over, with the sources it replaced."""
        self._load_plugins()
        return {(f"{n}:" if p else n): lost for (p, n), lost in self._replaced.items()}

    def resolve(self, name: str, *, callable_fallback: Callable[[str], S] | None = None):
        """Find the spec for ``name`` and the argument after a prefix.

        Parameters
        ----------
        name : str
            A registered name, or ``"prefix:argument"``.
        callable_fallback : callable, optional
            Builds a spec for other ``"a:b"`` names (``module:callable`` encoders).

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
