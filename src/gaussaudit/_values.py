"""Typed reading of values that come from files (JSON reports, configs)."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["clean", "dig", "finite_number", "short_repr"]


def finite_number(value: Any) -> float | None:
    """Return ``value`` as a finite float, or None when it is not one.

    Booleans, strings, lists, NaN, infinities and integers too large for a
    float are not numbers here: a gate or comparison reading them fails closed.

    Examples
    --------
    >>> finite_number(3), finite_number(True), finite_number(float("nan")), finite_number(10**400)
    (3.0, None, None, None)
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        value = float(value)
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


def short_repr(value: Any, limit: int = 40) -> str:
    """Return a short, printable ``repr`` of a value read from a file.

    Integers too long to print are named by their size, control characters
    are escaped by ``repr``, and the text is cut at ``limit`` characters.

    Examples
    --------
    >>> short_repr(10**5000)
    'an integer of about 5001 digits'
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4000:
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    try:
        text = repr(value)
    except ValueError:  # a huge integer nested in a list or table
        return f"a {type(value).__name__} too large to print"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def dig(node: Any, *keys: str) -> Any:
    """Follow ``keys`` into nested mappings; None as soon as a level is missing.

    Examples
    --------
    >>> dig({"norms": {"cv": 0.1}}, "norms", "cv"), dig({"norms": None}, "norms", "cv")
    (0.1, None)
    """
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def clean(value: Any) -> Any:
    """Convert numpy types to Python ones and non-finite floats to None, recursively.

    The JSON form of every report, gate result and comparison (``NaN`` is
    written as ``null``).

    Examples
    --------
    >>> import numpy as np
    >>> clean({"a": np.float64("nan"), "b": np.arange(2)})
    {'a': None, 'b': [0, 1]}
    """
    import numpy as np  # lazy: the command line's help never needs numpy

    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return clean(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    return value
