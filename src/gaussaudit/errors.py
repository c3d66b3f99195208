"""Exceptions raised by gaussaudit, each mapped to one documented exit code.

The command line turns these into a single line on stderr and the exit code in
:attr:`GaussAuditError.exit_code` (see ``docs/cli.md``): ``2`` for bad input or
usage, ``3`` for a missing optional dependency or unavailable resource.
"""

from __future__ import annotations

__all__ = [
    "GaussAuditError",
    "InvalidEmbeddingsError",
    "MissingExtraError",
    "NotApplicableError",
    "ResourceUnavailableError",
    "UnknownNameError",
    "UsageError",
]


class GaussAuditError(Exception):
    """Base class of every error gaussaudit reports to a user."""

    exit_code: int = 2


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

    def __init__(self, kind: str, name: str, choices: list[str] | tuple[str, ...]):
        import difflib

        self.kind, self.name, self.choices = kind, name, tuple(choices)
        close = difflib.get_close_matches(name, self.choices, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        listing = ", ".join(self.choices)
        super().__init__(f"unknown {kind} {name!r}.{hint} Choose from: {listing}.")

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
