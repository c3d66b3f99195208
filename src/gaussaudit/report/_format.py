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
    "fmt_count",
    "fmt_flag",
    "fmt_number",
    "fmt_paper_number",
    "fmt_percent",
    "fmt_verdict",
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


def num(x: Any, digits: int = 3, *, upper: float = 1e5) -> str:
    """Format a number compactly: ``digits`` significant digits, exponent when tiny or huge.

    Also importable as ``fmt_number`` (the name the paper-style tables use).

    Parameters
    ----------
    x : float, str or None
        The value; None gives :data:`DASH`; a string (``"skipped"``) is
        returned unchanged.
    digits : int
        Significant digits; values below ``10**-digits`` (but not 0) use
        ``%.2e``.
    upper : float
        Values at or above this magnitude use ``%.2e``.

    Examples
    --------
    >>> num(0.123456), num(2.5e-5), num(123456.0), num(None)
    ('0.123', '2.50e-05', '1.23e+05', '–')
    >>> num(12345.0, upper=1e4), num(5.8e-35), num("skipped")
    ('1.23e+04', '5.80e-35', 'skipped')
    """
    if x is None or isinstance(x, str):
        return DASH if x is None else x
    x = float(x)
    if x != 0 and (abs(x) < 10 ** (-digits) or abs(x) >= upper):
        return f"{x:.2e}"
    return f"{x:.{digits}g}"


def pct(x: Any, *, missing: str = DASH) -> str:
    """Format a fraction as a percentage with one decimal.

    Also importable as ``fmt_percent``. None gives ``missing``; a string
    (``"skipped"``) is returned unchanged.

    Examples
    --------
    >>> pct(0.9512), pct(None), pct(None, missing="n/a"), pct(1), pct("skipped")
    ('95.1%', '–', 'n/a', '100.0%', 'skipped')
    """
    if x is None or isinstance(x, str):
        return missing if x is None else x
    return f"{100 * float(x):.1f}%"


#: The paper-style tables' names of :func:`num` and :func:`pct` (the same functions).
fmt_number = num
fmt_percent = pct


def fmt_paper_number(value: Any, digits: int = 3) -> str:
    """Format a number as the paper's tables print it.

    At most ``digits`` decimals below 1 (trailing zeros dropped), ``digits``
    significant digits from 1 on, one-digit scientific below ``10**-(digits-1)``.
    None prints as :data:`DASH`, a string unchanged, a bool as :func:`fmt_flag`.

    Examples
    --------
    >>> fmt_paper_number(0.0701), fmt_paper_number(0.004), fmt_paper_number(80.12)
    ('0.07', '4.0e-03', '80.1')
    """
    if value is None or isinstance(value, str):
        return DASH if value is None else value
    if isinstance(value, bool):
        return fmt_flag(value)
    x = float(value)
    if x != 0 and abs(x) < 10 ** -(digits - 1):
        return f"{x:.1e}"
    return f"{x:.{digits}g}" if abs(x) >= 1 else f"{x:.{digits}f}".rstrip("0").rstrip(".")


def fmt_count(value: Any) -> str:
    """Format a whole number (epochs, n, d); None prints as :data:`DASH`, a string unchanged.

    Examples
    --------
    >>> fmt_count(5000.0), fmt_count(None)
    ('5000', '–')
    """
    if value is None or isinstance(value, str):
        return DASH if value is None else value
    return str(int(value))


def fmt_flag(value: Any) -> str:
    """``✓``, ``×`` or ``–`` (undecided) for a yes/no verdict; a string unchanged.

    Examples
    --------
    >>> fmt_flag(True), fmt_flag(False), fmt_flag(None)
    ('✓', '×', '–')
    """
    if value is None or isinstance(value, str):
        return DASH if value is None else value
    return "✓" if value else "×"


def fmt_verdict(value: Any) -> str:
    """``✓ yes``, ``× no`` or ``n/a``: a verdict in words; a string unchanged.

    Examples
    --------
    >>> fmt_verdict(True), fmt_verdict(None)
    ('✓ yes', 'n/a')
    """
    if isinstance(value, str):
        return value
    return "n/a" if value is None else ("✓ yes" if value else "× no")


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
