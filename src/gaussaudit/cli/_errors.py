"""Map exceptions to one-line messages and the documented exit codes.

Exit codes (``docs/cli.md``): 0 ran and passed (or no gate), 1 a gate failed,
2 usage error or bad input, 3 missing optional dependency or unavailable
resource, 4 internal error (a bug: please report it). With
``GAUSSAUDIT_DEBUG=1`` the full traceback is shown instead.
"""

from __future__ import annotations

import os
import sys
import traceback

__all__ = ["EXIT_GATE_FAILED", "EXIT_INTERNAL", "EXIT_MISSING", "EXIT_OK", "EXIT_USAGE", "fail"]

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_USAGE = 2
EXIT_MISSING = 3
EXIT_INTERNAL = 4


def debug_enabled() -> bool:
    """Whether ``GAUSSAUDIT_DEBUG`` asks for tracebacks."""
    return os.environ.get("GAUSSAUDIT_DEBUG", "").lower() not in ("", "0", "false", "no")


def fail(message: str, code: int) -> int:
    """Print ``gaussaudit: error: message`` on stderr (one line) and return ``code``."""
    if debug_enabled():
        traceback.print_exc()
    one_line = " ".join(str(message).split())
    print(f"gaussaudit: error: {one_line}", file=sys.stderr)
    return code


def exit_code_for(exc: BaseException) -> tuple[str, int]:
    """Message and exit code for an exception raised while running a command."""
    from ..errors import GaussAuditError

    if isinstance(exc, GaussAuditError):
        return str(exc), exc.exit_code
    if isinstance(exc, MemoryError):
        return "out of memory: try --max-samples to audit a subsample", EXIT_MISSING
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), EXIT_USAGE
    return (
        f"internal error: {type(exc).__name__}: {exc} "
        "(set GAUSSAUDIT_DEBUG=1 for a traceback and please report it)",
        EXIT_INTERNAL,
    )
