"""The one output sink of the commands: standard output, an atomic file, the CI step summary.

Every command writes what it rendered through these functions, so a report
written to a file is never half written (:func:`gaussaudit.io.atomic_write_text`),
a terminal report is coloured only on standard output, and a Markdown summary
is appended to ``$GITHUB_STEP_SUMMARY`` the same way everywhere.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .formats import get_format, render, renderer_accepts

__all__ = [
    "STEP_SUMMARY_ENV",
    "append_summary",
    "emit",
    "print_renderables",
    "write_text",
    "written_message",
]

#: Environment variable GitHub Actions sets to the step summary file.
STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def check_outputs(
    outputs: Iterable[str | os.PathLike | None],
    *,
    inputs: Iterable[str | os.PathLike] = (),
    what: str = "output",
) -> None:
    """Check every output path before the work starts (the one safe output rule).

    Each path that is given must be a new path or a regular file (a symbolic
    link to a regular file is written through) in an existing, writable
    directory, and none may be one of ``inputs`` or their sidecars; see
    :func:`gaussaudit.io.atomic.prepare_output`. ``None`` entries are skipped.

    Raises
    ------
    UsageError
        Naming the path as given, before any long work runs.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> check_outputs([folder / "report.json", None], inputs=[folder / "emb.npy"])
    """
    from ..io.atomic import prepare_output

    inputs = tuple(inputs)
    for out in outputs:
        if out is not None:
            prepare_output(out, inputs=inputs, what=what)


def write_text(
    text: str, out: str | os.PathLike | None = None, *, inputs: Iterable[str | os.PathLike] = ()
) -> None:
    r"""Write ``text`` to ``out`` atomically, or to standard output when ``out`` is None.

    Parameters
    ----------
    text : str
        The complete contents.
    out : path-like, optional
        Destination file (its directory must exist); the previous file stays
        whole if writing fails.
    inputs : iterable of path-like
        The command's inputs: ``out`` may not be one of them (or their sidecars).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "r.md"
    >>> write_text("# ok\n", path)
    >>> path.read_text()
    '# ok\n'
    """
    if out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from ..io import atomic_write_text

    atomic_write_text(out, text, inputs=tuple(inputs))


def print_renderables(parts: Iterable[Any], console: Any = None) -> None:
    """Print rich renderables (tables, markup strings) to ``console`` (standard output)."""
    if console is None:
        from rich.console import Console

        console = Console()
    for part in parts:
        console.print(part)


def append_summary(
    text: str,
    path: str | os.PathLike | None = None,
    *,
    inputs: Iterable[str | os.PathLike] = (),
) -> Path | None:
    r"""Append Markdown to a step summary file.

    Parameters
    ----------
    text : str
        Markdown; a newline is added after it.
    path : path-like, optional
        The file; by default ``$GITHUB_STEP_SUMMARY`` when it is set.
    inputs : iterable of path-like
        The command's inputs, which the summary may not be.

    Returns
    -------
    Path or None
        Where the text went; None when no path was given and the variable is unset.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "summary.md"
    >>> _ = append_summary("### one", path); _ = append_summary("### two", path)
    >>> path.read_text()
    '### one\n### two\n'
    """
    if path is None:
        path = os.environ.get(STEP_SUMMARY_ENV) or None
        if path is None:
            return None
    from ..io.atomic import prepare_output

    # The summary is appended to, never replaced: only a regular file (or a new
    # one) is accepted, so a FIFO, device or an input is refused, not written.
    path = Path(path)
    prepare_output(path, inputs=tuple(inputs), what="step summary")
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text + "\n")
    return path


def emit(
    report: dict,
    format: str = "terminal",
    out: str | os.PathLike | None = None,
    *,
    console: Any = None,
    inputs: Iterable[str | os.PathLike] = (),
    verbose: bool = False,
    **options: object,
) -> None:
    """Render ``report`` in ``format`` and write it to ``out`` or standard output.

    Parameters
    ----------
    report : dict
        The report model.
    format : str
        A registered format (:func:`gaussaudit.report.formats.format_names`).
    out : path-like, optional
        Destination file, written atomically. Without it the report goes to
        standard output; a format with rich renderables (``terminal``) is then
        printed through rich, in colour on a terminal.
    console : rich.console.Console, optional
        Where rich renderables go (default: standard output).
    inputs : iterable of path-like
        The command's inputs: ``out`` may not be one of them (or their sidecars).
    verbose : bool
        Ask for the details (``--verbose``): passed as ``verbose=True`` to the
        renderer (text or rich) when it takes that keyword, else ignored.
    **options
        Passed to the text renderer (e.g. ``plots=False`` for html, ``width``
        for terminal text); rich output on standard output takes none.

    Raises
    ------
    UnknownNameError
        When no format has that name.
    """
    spec = get_format(format)
    rich = out is None and spec.rich is not None
    extra = {"verbose": True} if verbose and renderer_accepts(format, "verbose", rich=rich) else {}
    if rich:
        from ..registry import load_object

        print_renderables(load_object(spec.rich)(report, **extra), console)
        return
    write_text(render(report, format, **options, **extra), out, inputs=inputs)


def written_message(path: str | os.PathLike, *, verb: str = "wrote") -> str:
    """Return the confirmation line for a file written: ``wrote report.html (142.3 KiB)``.

    Parameters
    ----------
    path : str or path-like
        The file, shown as given.
    verb : str
        ``"wrote"``, or e.g. ``"appended to"`` for a step summary.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "r.md"
    >>> _ = path.write_text("x" * 2048)
    >>> written_message(path).endswith("r.md (2.0 KiB)")
    True
    """
    from ..io._common import format_bytes

    try:
        size = f" ({format_bytes(os.stat(path).st_size)})"
    except OSError:
        size = ""
    return f"{verb} {os.fspath(path)}{size}"
