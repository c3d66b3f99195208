"""Positioned reads that fail cleanly when a file shrinks underneath."""

from __future__ import annotations

import os

from .errors import InvalidEmbeddingsError

__all__ = ["CHUNK_BYTES", "read_exact"]

#: Largest single ``preadv`` call.
CHUNK_BYTES = 64 << 20


def read_exact(fd: int, view: memoryview, position: int, what: str) -> None:
    """Fill ``view`` with the bytes of ``fd`` from ``position`` on.

    Parameters
    ----------
    fd : int
        An open file descriptor.
    view : memoryview
        Writable bytes to fill, e.g. of a freshly allocated array.
    position : int
        Byte offset in the file.
    what : str
        How the message names the file.

    Raises
    ------
    InvalidEmbeddingsError
        When the file ends first (it is shorter than its header says, or was
        truncated while being read): a one-line error, never a SIGBUS as with
        a memory map.

    Examples
    --------
    >>> import tempfile
    >>> fd, name = tempfile.mkstemp(); _ = os.write(fd, b"abcdef")
    >>> buf = bytearray(3); read_exact(fd, memoryview(buf), 2, "f"); bytes(buf)
    b'cde'
    """
    done, total = 0, len(view)
    while done < total:
        got = os.preadv(fd, [view[done : done + CHUNK_BYTES]], position + done)
        if got <= 0:
            raise InvalidEmbeddingsError(
                f"{what} ends before the data its header declares (it is truncated, or "
                "changed while it was being read)"
            )
        done += got
