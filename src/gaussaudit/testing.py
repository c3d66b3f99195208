"""Gaussianity gates inside a test suite: :func:`assert_gaussian` and a pytest fixture.

``assert_gaussian(X, **gates)`` audits an embedding matrix and raises
:class:`AssertionError` listing every failed gate (measured value and threshold);
keyword arguments are :class:`~gaussaudit.gate.GateConfig` fields::

    from gaussaudit.testing import assert_gaussian

    def test_encoder_is_gaussian():
        z = my_encoder(batch)  # (n, d) array or tensor
        assert_gaussian(z, views=["whitened"], min_ad_pass_fraction=0.9, max_cv=0.1)

With gaussaudit installed, pytest also gets the fixture ``gaussian_audit``
(:mod:`gaussaudit.pytest_plugin`): the same call, starting from the project's
own gate config (``gaussaudit.toml`` or ``[tool.gaussaudit]`` in the rootdir's
``pyproject.toml``, or the ini option ``gaussaudit_config``), so the unit tests
and ``gaussaudit check`` in CI share one set of gates::

    def test_encoder(gaussian_audit):
        gaussian_audit(my_encoder(batch), max_cv=0.1)
"""

from __future__ import annotations

from typing import Any

__all__ = ["assert_gaussian", "format_failures"]


def format_failures(result: Any) -> str:
    """Return the message :func:`assert_gaussian` raises: one line per failed gate."""
    lines = [
        f"embeddings failed {len(result.failed)} of {len(result.outcomes)} Gaussianity gate(s):"
    ]
    for o in result.failed:
        op = "" if o.name == "require_verdict" else f" (threshold {o.op} {o.threshold})"
        lines.append(f"  - {o.name} [{o.view}]: {o.detail}{op}")
    return "\n".join(lines)


def assert_gaussian(data: Any, config: Any = None, **gates: Any):
    """Audit ``data`` and fail with the list of failed gates.

    Parameters
    ----------
    data : array_like or torch tensor
        ``(n, d)`` embeddings (at least 8 rows; 20 or more for the D'Agostino–Pearson test).
    config : GateConfig, optional
        Starting configuration (default ``GateConfig()``: the paper verdict on
        the raw view).
    **gates
        :class:`~gaussaudit.gate.GateConfig` fields overriding ``config``,
        e.g. ``min_ad_pass_fraction=0.9``, ``views=["whitened"]``,
        ``no_rejection=["subspaces.henze_zirkler"]``, ``projections=16``.

    Returns
    -------
    GateResult
        When every gate passed (for further checks).

    Raises
    ------
    AssertionError
        When a gate fails; the message lists each failed gate with its view,
        measured value and threshold.
    GateConfigError
        For an unknown or mistyped gate keyword.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussaudit.testing import assert_gaussian
    >>> x = np.random.default_rng(0).standard_normal((500, 8))
    >>> result = assert_gaussian(x, min_ad_pass_fraction=0.75, projections=8, subspaces=2)
    >>> result.passed
    True
    """
    __tracebackhide__ = True
    from .gate import GateConfig, check_array, gate_config_from_mapping

    base = config if config is not None else GateConfig()
    cfg = gate_config_from_mapping(gates, base=base, where="assert_gaussian") if gates else base
    _report, result = check_array(data, cfg)
    if not result.passed:
        raise AssertionError(format_failures(result))
    return result
