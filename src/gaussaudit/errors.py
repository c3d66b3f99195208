"""Exceptions raised by gaussaudit, each mapped to one documented exit code.

The command line turns these into a single line on stderr and the exit code in
:attr:`GaussAuditError.exit_code` (see ``docs/cli.md``): ``2`` for bad input or
usage, ``3`` for a missing optional dependency or unavailable resource.

Messages speak Python: they name keyword arguments, written ``name=value``
(``nan_policy='omit'``, ``download=True``, ``weights=PATH``), never command-line
flags. An error that concerns keyword arguments lists them in
:attr:`GaussAuditError.options` (the first is :attr:`GaussAuditError.option`);
the command line's one error module (``gaussaudit.cli._errors``) rewrites those
``name=value`` references into its flags (``--nan-policy omit``, ``--download``).
"""

from __future__ import annotations

__all__ = [
    "GaussAuditError",
    "InvalidEmbeddingsError",
    "MissingExtraError",
    "NotApplicableError",
    "PluginConflictError",
    "PluginWarning",
    "ResourceUnavailableError",
    "UnknownNameError",
    "UsageError",
]


class GaussAuditError(Exception):
    """Base class of every error gaussaudit reports to a user.

    Parameters
    ----------
    *args
        The message (in Python terms), as for :class:`Exception`.
    option : str or sequence of str, optional
        The keyword argument(s) the error concerns, e.g. ``"nan_policy"``.

    Attributes
    ----------
    option : str or None
        The first keyword argument concerned, or None.
    options : tuple of str
        Every keyword argument concerned (empty when none).

    Examples
    --------
    >>> err = UsageError("pass nan_policy='omit' to drop those rows", option="nan_policy")
    >>> err.option, err.options
    ('nan_policy', ('nan_policy',))
    """

    exit_code: int = 2

    def __init__(self, *args: object, option: str | tuple[str, ...] | list[str] | None = None):
        super().__init__(*args)
        self.options: tuple[str, ...] = (
            (option,) if isinstance(option, str) else tuple(option or ())
        )
        self.option: str | None = self.options[0] if self.options else None


class UsageError(GaussAuditError, ValueError):
    """An option or argument has a value that cannot be used."""

    exit_code = 2


class InvalidEmbeddingsError(GaussAuditError, ValueError):
    """The input cannot be read as, or is not a valid, embedding matrix."""

    exit_code = 2


class UnknownNameError(GaussAuditError, KeyError):
    """A registry lookup (test, view, encoder, dataset) failed.

    Parameters
    ----------
    kind
        What was looked up, e.g. ``"test"``.
    name
        The name that was not found.
    choices
        The names that exist; the closest ones are suggested in the message.
    """

    exit_code = 2

    def __init__(
        self,
        kind: str,
        name: str,
        choices: list[str] | tuple[str, ...],
        *,
        option: str | tuple[str, ...] | None = None,
    ):
        import difflib

        self.kind, self.name, self.choices = kind, name, tuple(choices)
        close = difflib.get_close_matches(name, self.choices, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        listing = ", ".join(self.choices)
        super().__init__(f"unknown {kind} {name!r}.{hint} Choose from: {listing}.", option=option)

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


class MissingExtraError(GaussAuditError, ImportError):
    """An optional dependency is not installed.

    Parameters
    ----------
    package
        The import name that failed.
    extra
        The gaussaudit extra that installs it.
    purpose
        What needed it, for the message.
    """

    exit_code = 3

    def __init__(self, package: str, extra: str, purpose: str):
        self.package, self.extra = package, extra
        super().__init__(
            f"{purpose} needs the optional package {package!r}: pip install 'gaussaudit[{extra}]'"
        )


class ResourceUnavailableError(GaussAuditError, OSError):
    """A dataset, weight file or other resource is missing and was not downloaded."""

    exit_code = 3


class NotApplicableError(InvalidEmbeddingsError):
    """A test cannot give a trustworthy answer on this input.

    Raised, for example, for Mardia or Henze–Zirkler on a singular covariance or
    when the Henze–Zirkler statistic degenerates in high dimension. The battery
    records these as skipped, with the message as the reason.
    """


class PluginConflictError(UsageError):
    """Two sources register the same name in one registry.

    Raised when a plugin's name collides with a built-in or with another
    plugin's, and not exactly one of them asks to replace the others (a spec
    attribute ``override = True``).

    Parameters
    ----------
    kind
        What is registered, e.g. ``"encoder"``.
    name
        The contested name (``"timm:"`` for a prefix family).
    sources
        Who registers it: distribution names and versions, or ``"gaussaudit
        (built-in)"``.
    """

    def __init__(self, kind: str, name: str, sources: list[str] | tuple[str, ...]):
        self.kind, self.name, self.sources = kind, name, tuple(sources)
        listed = " and ".join(self.sources)
        super().__init__(
            f"{kind} {name!r} is registered by {listed}; uninstall all but one, or set "
            "override = True on the spec that should replace the others"
        )


class PluginWarning(UserWarning):
    """A plugin could not be loaded (it is skipped; the message names it)."""
