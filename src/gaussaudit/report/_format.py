"""Number and value formatting shared by every renderer (the only place it lives).

Each function turns one value of the report model into display text; none
reads the model itself. Missing values (``None``, the JSON ``null`` of a NaN)
become a dash or ``n/a`` rather than raising.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "DASH",
    "band_range",
    "num",
    "pct",
    "printable",
    "safe_text",
    "sig",
    "signed",
    "signed_points",
    "value_text",
    "verdict_word",
    "yes_no",
]

#: What a missing number shows as in tables.
DASH = "–"


def num(x: float | None, digits: int = 3, *, upper: float = 1e5) -> str:
    """Format a number compactly: ``digits`` significant digits, exponent when tiny or huge.

    Parameters
    ----------
    x : float or None
        The value; None gives :data:`DASH`.
    digits : int
        Significant digits; values below ``10**-digits`` (but not 0) use
        ``%.2e``.
    upper : float
        Values at or above this magnitude use ``%.2e``.

    Examples
    --------
    >>> num(0.123456), num(2.5e-5), num(123456.0), num(None)
    ('0.123', '2.50e-05', '1.23e+05', '–')
    >>> num(12345.0, upper=1e4)
    '1.23e+04'
    """
    if x is None:
        return DASH
    if x != 0 and (abs(x) < 10 ** (-digits) or abs(x) >= upper):
        return f"{x:.2e}"
    return f"{x:.{digits}g}"


def pct(x: float | None, *, missing: str = DASH) -> str:
    """Format a fraction as a percentage with one decimal.

    Examples
    --------
    >>> pct(0.9512), pct(None), pct(None, missing="n/a")
    ('95.1%', '–', 'n/a')
    """
    return missing if x is None else f"{100 * x:.1f}%"


def sig(x: float, digits: int = 4) -> str:
    """Format a number with ``digits`` significant digits (``%g``).

    Examples
    --------
    >>> sig(0.123456), sig(3), sig(1.5e-7)
    ('0.1235', '3', '1.5e-07')
    """
    return f"{x:.{digits}g}"


def signed(x: float, digits: int = 3) -> str:
    """Format a difference with its sign and ``digits`` significant digits.

    Examples
    --------
    >>> signed(0.0412), signed(-2.0)
    ('+0.0412', '-2')
    """
    return f"{x:+.{digits}g}"


def signed_points(x: float) -> str:
    """Format a difference of two fractions in percentage points.

    Examples
    --------
    >>> signed_points(-0.25)
    '-25.0 pt'
    """
    return f"{100 * x:+.1f} pt"


def band_range(low: float, high: float, *, percent: bool = True) -> str:
    """Format a null band of a fraction as whole percents, ``"low–high%"``.

    Examples
    --------
    >>> band_range(0.9, 0.99), band_range(0.9, 0.99, percent=False)
    ('90–99%', '90–99')
    """
    return f"{100 * low:.0f}–{100 * high:.0f}" + ("%" if percent else "")


def yes_no(value: bool | None, *, missing: str = "n/a") -> str:
    """``yes``, ``no`` or ``missing`` for None.

    Examples
    --------
    >>> yes_no(True), yes_no(None)
    ('yes', 'n/a')
    """
    return missing if value is None else ("yes" if value else "no")


def verdict_word(value: bool | None) -> str:
    """``Gaussian``, ``not Gaussian`` or ``undecided`` (None).

    Examples
    --------
    >>> verdict_word(False), verdict_word(None)
    ('not Gaussian', 'undecided')
    """
    return "undecided" if value is None else ("Gaussian" if value else "not Gaussian")


def value_text(
    value: Any,
    *,
    missing: str = "n/a",
    digits: int = 4,
    words: tuple[str, str] = ("yes", "no"),
) -> str:
    """Format any measured value: None, a bool, a float (``%.4g``) or text.

    Parameters
    ----------
    value : object
        The value.
    missing : str
        Text for None.
    digits : int
        Significant digits of a float.
    words : (str, str)
        Text for True and False (``("true", "false")`` in gate details,
        ``("Gaussian", "not Gaussian")`` for verdicts).

    Examples
    --------
    >>> value_text(None), value_text(True), value_text(0.123456), value_text(12)
    ('n/a', 'yes', '0.1235', '12')
    >>> value_text(False, words=("true", "false"))
    'false'
    """
    if value is None:
        return missing
    if isinstance(value, bool):
        return words[0] if value else words[1]
    if isinstance(value, float):
        return sig(value, digits)
    return str(value)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe_text(text: Any, *, limit: int | None = None) -> str:
    r"""Make text taken from a file safe to print: control characters become ``?``.

    Escape sequences (clear screen, window titles, cursor moves) in a sidecar
    field or a file name never reach the terminal; ``limit`` caps the length.

    Examples
    --------
    >>> safe_text("evil\x1b[2Jname\x07")
    'evil?[2Jname?'
    >>> safe_text("x" * 10, limit=6)
    'xxx...'
    """
    out = _CONTROL.sub("?", str(text))
    if limit is not None and len(out) > limit:
        out = out[: max(limit - 3, 0)] + "..."
    return out


def printable(value: Any, *, limit: int = 300) -> Any:
    r"""Return a copy of a report (or any JSON value) safe to print on a terminal.

    Every string is passed through :func:`safe_text` and capped at ``limit``
    characters, so provenance copied from a sidecar can neither send escape
    sequences nor flood a terminal or a CI step summary. Numbers and flags are
    kept as they are.

    Examples
    --------
    >>> printable({"input": {"source": "a\x1b[2J.npy", "n": 3}})
    {'input': {'source': 'a?[2J.npy', 'n': 3}}
    """

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            return safe_text(node, limit=limit)
        if isinstance(node, dict):
            return {safe_text(k, limit=limit) if isinstance(k, str) else k: walk(v)
                    for k, v in node.items()}  # fmt: skip
        if isinstance(node, (list, tuple)):
            return [walk(v) for v in node]
        return node

    return walk(value)
