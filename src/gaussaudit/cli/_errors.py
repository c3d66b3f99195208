"""Map exceptions to one-line messages and the documented exit codes.

Exit codes (``docs/cli.md``): 0 ran and passed (or no gate), 1 a gate failed,
2 usage error or bad input, 3 missing optional dependency or unavailable
resource, 4 internal error (a bug: please report it). With
``GAUSSAUDIT_DEBUG=1`` the full traceback is shown instead.

Library errors speak Python: they name keyword arguments as ``name=value``
(``nan_policy='omit'``, ``download=True``, ``weights=PATH``) and list the ones
they concern in ``err.options``. This module is the one place that turns them
into command-line phrasing (:func:`cli_message`): each such reference becomes
the flag (``--nan-policy omit``, ``--download``, ``--weights PATH``), and a
bare name from ``err.options`` containing an underscore (``dataset_options``)
becomes its flag too. Flags are ``--`` plus the name with dashes, except those
in :data:`FLAGS`.
"""

from __future__ import annotations

import os
import re
import sys
import traceback

__all__ = [
    "EXIT_GATE_FAILED",
    "EXIT_INTERNAL",
    "EXIT_MISSING",
    "EXIT_OK",
    "EXIT_USAGE",
    "FLAGS",
    "cli_message",
    "fail",
    "flag_for",
]

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_USAGE = 2
EXIT_MISSING = 3
EXIT_INTERNAL = 4

#: Keyword arguments whose flag is not ``--`` plus the name with dashes.
FLAGS = {
    "views": "--view",
    "dataset_options": "--data-option",
    "encoder_options": "--model-option",
}

#: Keyword arguments rewritten in every message, even from an error that does
#: not list them in ``options`` (messages shared by several raise sites).
KNOWN_OPTIONS = (
    "nan_policy",
    "reshape",
    "key",
    "columns",
    "download",
    "root",
    "weights",
    "checkpoint",
    "max_samples",
    "pca",
    "full_multivariate",
    "views",
    "batch_size",
    "precision",
    "device",
)

# A Python value in a message: a quoted string, True/False/None, a number,
# ``...`` or an UPPERCASE placeholder (PATH, DIR, N).
_VALUE = r"""('[^']*'|"[^"]*"|True\b|False\b|None\b|\.\.\.|-?\d[\w.]*|[A-Z][A-Z0-9_]*\b)"""


def flag_for(option: str) -> str:
    """Return the command-line flag of a keyword argument.

    Examples
    --------
    >>> flag_for("nan_policy"), flag_for("views")
    ('--nan-policy', '--view')
    """
    return FLAGS.get(option, "--" + option.replace("_", "-"))


def _flag_with_value(flag: str, value: str) -> str:
    if value in ("True", "..."):
        return flag
    if value == "False":
        return "--no-" + flag[2:]
    if value[:1] in "'\"":
        value = value[1:-1]
    return f"{flag} {value}"


def cli_message(exc: BaseException) -> str:
    """Return the message of ``exc`` in command-line terms.

    Parameters
    ----------
    exc : BaseException
        Usually a :class:`~gaussaudit.errors.GaussAuditError`; its ``options``
        and :data:`KNOWN_OPTIONS` are the keyword arguments rewritten.

    Returns
    -------
    str

    Examples
    --------
    >>> from gaussaudit.errors import InvalidEmbeddingsError
    >>> err = InvalidEmbeddingsError(
    ...     "x has 2 NaN/Inf value(s); pass nan_policy='omit' to drop those rows",
    ...     option="nan_policy",
    ... )
    >>> cli_message(err)
    'x has 2 NaN/Inf value(s); pass --nan-policy omit to drop those rows'
    """
    text = str(exc)
    own = tuple(getattr(exc, "options", ()))
    for option in dict.fromkeys((*own, *KNOWN_OPTIONS)):
        flag = flag_for(option)
        text = re.sub(
            rf"(?<![\w.'\"/-]){re.escape(option)}={_VALUE}",
            lambda m, flag=flag: _flag_with_value(flag, m.group(1)),
            text,
        )
        if option in own and "_" in option:  # a bare keyword name is not an English word
            text = re.sub(rf"(?<![\w.'\"/=-]){re.escape(option)}(?![\w'\"=])", flag, text)
    return text


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
    """Message (in command-line terms) and exit code for an exception raised by a command."""
    from ..errors import GaussAuditError

    if isinstance(exc, GaussAuditError):
        return cli_message(exc), exc.exit_code
    if isinstance(exc, MemoryError):
        return "out of memory: try --max-samples to audit a subsample", EXIT_MISSING
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), EXIT_USAGE
    return (
        f"internal error: {type(exc).__name__}: {exc} "
        "(set GAUSSAUDIT_DEBUG=1 for a traceback and please report it)",
        EXIT_INTERNAL,
    )
