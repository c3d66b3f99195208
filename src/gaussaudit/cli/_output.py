"""What a command says besides its output: the format it picks, notes and confirmations.

Standard output carries only what was asked for (the report, a table, JSON),
so that it can be piped; everything else goes to standard error through a
:class:`Voice`:

- ``--quiet``/``-q``: only errors and the requested output (no progress bar,
  no "wrote" line, no notes);
- default: a progress bar on a terminal, one ``wrote PATH (SIZE)`` line per
  file written, one-line notes;
- ``--verbose``/``-v``: details as well (the renderers get ``verbose=True``).

:func:`report_format` picks the report format from ``--report`` or the
extension of the output file, and refuses to print a whole HTML page on a
terminal.
"""

from __future__ import annotations

import os
import sys
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

__all__ = ["Voice", "report_format"]


@dataclass(frozen=True)
class Voice:
    """How much a command prints on standard error.

    Examples
    --------
    >>> Voice(quiet=True).note("not shown")
    """

    quiet: bool = False
    verbose: bool = False

    @classmethod
    def of(cls, quiet: bool = False, verbose: bool = False) -> Voice:
        """Return the voice of ``--quiet`` / ``--verbose``; both at once is a usage error."""
        if quiet and verbose:
            from ..errors import UsageError

            raise UsageError("--quiet and --verbose cannot be combined; choose one")
        return cls(bool(quiet), bool(verbose))

    def note(self, message: str) -> None:
        """One line on stderr (``gaussaudit: message``) unless quiet."""
        if not self.quiet:
            print(f"gaussaudit: {message}", file=sys.stderr, flush=True)

    def detail(self, message: str) -> None:
        """One line on stderr only with ``--verbose``."""
        if self.verbose:
            print(f"gaussaudit: {message}", file=sys.stderr, flush=True)

    def wrote(self, path: str | os.PathLike | None, *, verb: str = "wrote") -> None:
        """Confirm a file written (``wrote report.html (142.3 KiB)``) unless quiet."""
        if path is not None and not self.quiet:
            from ..report.sink import written_message

            print(written_message(path, verb=verb), file=sys.stderr, flush=True)

    def progress(self) -> AbstractContextManager[Any]:
        """Return the audit's progress bar (None when quiet, or stderr is not a terminal)."""
        if self.quiet:
            return nullcontext(None)
        from ._progress import audit_progress

        return audit_progress()


def report_format(
    report: str | None,
    out: str | os.PathLike | None,
    voice: Voice,
    *,
    choices: tuple[str, ...] | None = None,
    out_flag: str = "--out",
) -> str:
    """Pick the report format: ``--report`` if given, else from ``out``'s extension.

    Parameters
    ----------
    report : str or None
        ``--report`` as given (None: not given).
    out : path-like or None
        The output file (``--out``); its extension names a format (``.json``,
        ``.html``/``.htm``, ``.md``, ``.txt``). Without either, ``terminal``.
    voice : Voice
        Where the note goes when an explicit ``--report`` contradicts the
        extension (the explicit format wins).
    choices : tuple of str, optional
        The formats this command has (default: every registered report format).
    out_flag : str
        The output option's name, for messages.

    Returns
    -------
    str

    Raises
    ------
    UnknownNameError
        ``report`` names no format.
    UsageError
        ``html`` would be printed on a terminal (no ``out`` and standard
        output is a TTY).
    """
    from ..report.formats import format_for_path

    implied = format_for_path(out)
    if choices is not None and implied not in choices:
        implied = None
    if report is None:
        chosen = implied or "terminal"
        if implied is not None:
            voice.detail(f"report format {chosen} (from the extension of {os.fspath(out)})")
    else:
        chosen = _known(report, choices)
        if implied is not None and implied != chosen:
            voice.note(
                f"writing a {chosen} report to {os.fspath(out)} as --report asks "
                f"(the extension suggests {implied})"
            )
    if chosen == "html" and out is None and _stdout_is_terminal():
        from ..errors import UsageError

        raise UsageError(
            f"--report html writes a whole web page; give {out_flag} report.html "
            "(or redirect standard output to a file)"
        )
    return chosen


def _known(name: str, choices: tuple[str, ...] | None) -> str:
    from ..errors import UnknownNameError

    if choices is not None:
        if name not in choices:
            raise UnknownNameError("report format", name, choices)
        return name
    from ..report.formats import get_format

    return get_format(name).name


def _stdout_is_terminal() -> bool:
    try:
        return bool(sys.stdout.isatty())
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False
