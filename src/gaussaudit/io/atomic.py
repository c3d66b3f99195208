"""The one safe output path: check the target first, then write atomically.

Rules (also in ``docs/embedding.md``):

* The target is a new path or a regular file. A directory, FIFO, socket or
  device is refused, never replaced (``--out /dev/null`` is an error, not a
  new regular file where the device node was).
* A symbolic link to a regular file is written *through*: the file it points
  to is replaced atomically and the link is kept. A link to anything else, or
  to a missing file, is refused.
* An output that is one of the command's inputs (the same file, through any
  path, hard link or symbolic link), or an input's provenance sidecar or
  labels file, is refused.
* The directory must exist and be writable; :func:`prepare_output` checks
  this, so a command can call it before its long work starts.
* Data goes to a hidden temporary file beside the target, is flushed and
  fsynced, then renamed over the target with :func:`os.replace`. The
  temporary file is removed on any exception, and on SIGTERM or SIGHUP when
  those would otherwise kill the process (it then exits with status
  128 + signal number). Errors name the user's path, never the temporary file.
"""

from __future__ import annotations

import os
import signal
import stat
import threading
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType
from typing import IO

from ..errors import GaussAuditError, UsageError
from ._common import PATH_CHARS, excerpt, labels_path, special_kind
from .sidecar import find_sidecar, sidecar_path

__all__ = [
    "OutputError",
    "SignalGuard",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "prepare_output",
]

PathLike = str | os.PathLike

_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


def _real_target(p: Path, given: str, what: str) -> Path:
    """Return the file that will be replaced: ``p`` itself, or a symlink's regular target."""
    try:
        st = os.lstat(p)
    except FileNotFoundError:
        return p
    except OSError as exc:
        raise UsageError(f"cannot write {what} {given}: {exc.strerror or exc}") from None
    if stat.S_ISLNK(st.st_mode):
        real = Path(os.path.realpath(p))
        try:
            st = os.stat(real)
        except OSError:
            raise UsageError(
                f"cannot write {what} {given}: it is a symbolic link to a missing file "
                f"({excerpt(os.readlink(p), PATH_CHARS)})"
            ) from None
        if not stat.S_ISREG(st.st_mode):
            raise UsageError(
                f"refusing to write {what} {given}: it is a symbolic link to "
                f"{special_kind(st.st_mode)}, which is never replaced"
            )
        return real
    if stat.S_ISREG(st.st_mode):
        return p
    if stat.S_ISDIR(st.st_mode):
        raise UsageError(f"cannot write {what} {given}: it is a directory")
    raise UsageError(
        f"refusing to write {what} {given}: it is {special_kind(st.st_mode)}, which is never "
        "replaced; give a regular file path"
    )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist
        return os.path.realpath(a) == os.path.realpath(b)


def _input_files(inp: PathLike) -> list[tuple[Path, str]]:
    p = Path(inp)
    files = [(p, f"the input {os.fspath(inp)}")]
    for side in dict.fromkeys((sidecar_path(p), find_sidecar(p) or sidecar_path(p))):
        files.append((side, f"the provenance sidecar of input {os.fspath(inp)}"))
    if p.suffix.lower() == ".npy":
        files.append((labels_path(p), f"the labels file of input {os.fspath(inp)}"))
    return files


def prepare_output(
    path: PathLike, *, inputs: Iterable[PathLike] = (), what: str = "output"
) -> Path:
    """Check that ``path`` can be written safely, before any long work starts.

    Parameters
    ----------
    path : str or path-like
        Where the output will go.
    inputs : iterable of str or path-like
        The command's input files; the output may not be one of them, nor an
        input's sidecar (``EMB.provenance.json``, or a legacy ``EMB.json`` in
        use) or labels file (``EMB.labels.npy``).
    what : str
        What the output is, for messages (``"report"``, ``"summary"``).

    Returns
    -------
    Path
        The file that a write will replace: ``path`` itself, or for a symbolic
        link to a regular file, the file it points to (written through).

    Raises
    ------
    UsageError
        ``path`` is a directory, FIFO, socket, device, a symbolic link to one
        of those or to a missing file, one of ``inputs`` (or their sidecars),
        or its directory is missing or not writable. The message names ``path``
        as given.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> prepare_output(d / "report.json") == d / "report.json"
    True
    >>> prepare_output("/dev/null")
    Traceback (most recent call last):
    ...
    gaussaudit.errors.UsageError: refusing to write output /dev/null: it is a character device, ...
    """
    given = excerpt(os.fspath(path), PATH_CHARS)
    if not given:
        raise UsageError(f"{what} path is empty")
    target = _real_target(Path(path), given, what)
    parent = target.parent
    if not parent.is_dir():
        raise UsageError(f"cannot write {what} {given}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write {what} {given}: directory {parent} is not writable")
    for inp in inputs:
        for candidate, label in _input_files(inp):
            if _same_file(target, candidate):
                shown = excerpt(label, PATH_CHARS)
                raise UsageError(
                    f"refusing to write {what} {given}: it is {shown}, which would be lost"
                )
    return target


def _signal_cleanup(signum: int, frame: FrameType | None) -> None:
    # Raised inside the write, so the temporary file is removed on the way out;
    # the process then exits with the status the signal would have given.
    raise SystemExit(128 + signum)


class SignalGuard:
    """Turn SIGTERM/SIGHUP into SystemExit while a write is in progress.

    Used as ``with SignalGuard(): ...`` around any work that leaves a
    temporary file behind if killed (atomic writes, embedding's scratch rows),
    so ``finally`` blocks run and remove it.

    Only signals whose handler is the default (which would kill the process
    and leave the temporary file) are taken over; an application's own handler
    or an ignored signal is left alone. Previous handlers are restored on exit.
    """

    def __enter__(self) -> SignalGuard:
        self.previous: dict[int, object] = {}
        if threading.current_thread() is not threading.main_thread():
            return self
        for sig in _SIGNALS:
            if signal.getsignal(sig) is signal.SIG_DFL:
                self.previous[sig] = signal.signal(sig, _signal_cleanup)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]


class OutputError(OSError):
    """Writing an output failed; ``filename`` is the path the user gave.

    ``str()`` reads ``cannot write PATH: REASON``; ``errno`` and ``strerror``
    are those of the underlying error.
    """

    def __str__(self) -> str:
        return f"cannot write {excerpt(self.filename, PATH_CHARS)}: {self.strerror}"


def _named_error(exc: OSError, given: str) -> OSError:
    """Return the same error, naming the user's path rather than the temporary file."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return OutputError(exc.errno or 0, reason, given)


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def atomic_write(
    path: PathLike,
    write: Callable[[IO[bytes]], object],
    *,
    inputs: Iterable[PathLike] = (),
    what: str = "output",
) -> Path:
    """Write ``path`` atomically through ``write(fh)``, after :func:`prepare_output`.

    Parameters
    ----------
    path : str or path-like
        Destination (see :func:`prepare_output` for what is refused).
    write : callable
        Called once with a binary file object open on the temporary file.
    inputs, what
        As for :func:`prepare_output`.

    Returns
    -------
    Path
        The file written (a symbolic link's target when written through).

    Raises
    ------
    UsageError
        The target is refused by :func:`prepare_output`.
    OSError
        Writing failed (disk full, permissions); ``filename`` is ``path`` as
        given. The old file, if any, is left as it was.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write(d / "a.bin", lambda fh: fh.write(b"xyz")).read_bytes()
    b'xyz'
    """
    given = os.fspath(path)
    target = prepare_output(path, inputs=inputs, what=what)
    directory = target.parent
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    with SignalGuard():
        while True:
            tmp = directory / f".{target.name[:200]}.{uuid.uuid4().hex[:12]}.tmp"
            try:
                # 0o666 lets the process umask decide the final permissions, as for
                # a file opened normally (mkstemp would force 0o600).
                fd = os.open(tmp, flags, 0o666)
            except FileExistsError:
                continue
            except OSError as exc:
                raise _named_error(exc, given) from None
            break
        try:
            with os.fdopen(fd, "wb") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException as exc:
            _unlink_quietly(tmp)
            if isinstance(exc, OSError) and not isinstance(exc, GaussAuditError):
                raise _named_error(exc, given) from None
            raise
    _fsync_directory(directory)
    return target


def _fsync_directory(directory: Path) -> None:
    """Flush a directory entry to disk after a rename (POSIX only, best effort)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(
    path: PathLike, data: bytes, *, inputs: Iterable[PathLike] = (), what: str = "output"
) -> None:
    r"""Write bytes to ``path`` atomically.

    The data goes to a temporary file in the same directory, which is flushed,
    fsynced and then renamed over ``path`` with :func:`os.replace`. On any
    failure (or SIGTERM/SIGHUP) the temporary file is removed and ``path`` is
    left untouched. The target is checked first with :func:`prepare_output`.

    Parameters
    ----------
    path : str or path-like
        Destination file; its directory must exist.
    data : bytes
        The complete file contents.
    inputs, what
        As for :func:`prepare_output`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write_bytes(d / "a.bin", b"\x00\x01")
    >>> (d / "a.bin").read_bytes()
    b'\x00\x01'
    """
    atomic_write(path, lambda fh: fh.write(data), inputs=inputs, what=what)


def atomic_write_text(
    path: PathLike, text: str, *, inputs: Iterable[PathLike] = (), what: str = "output"
) -> None:
    """Write UTF-8 text to ``path`` atomically (see :func:`atomic_write_bytes`).

    Parameters
    ----------
    path : str or path-like
        Destination file; its directory must exist.
    text : str
        The complete file contents; newlines are written as given.
    inputs, what
        As for :func:`prepare_output`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write_text(d / "a.txt", "héllo")
    >>> (d / "a.txt").read_text(encoding="utf-8")
    'héllo'
    """
    atomic_write_bytes(path, text.encode("utf-8"), inputs=inputs, what=what)
