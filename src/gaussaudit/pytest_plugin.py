"""pytest plugin (entry point ``pytest11``): the ``gaussian_audit`` fixture.

Loaded automatically when gaussaudit is installed. It imports nothing heavy
until a test uses the fixture.

Fixtures
--------
gaussaudit_config
    The project's :class:`~gaussaudit.gate.GateConfig`: the file named by the
    ini option ``gaussaudit_config``, else ``gaussaudit.toml`` or
    ``pyproject.toml`` ``[tool.gaussaudit]`` in pytest's rootdir, else defaults.
gaussian_audit
    A function ``gaussian_audit(X, **gates) -> GateResult`` that audits ``X``
    with the project's gates (keywords override them) and fails the test with
    the list of failed gates.
"""

from __future__ import annotations

from typing import Any

import pytest

__all__ = ["gaussaudit_config", "gaussian_audit", "project_gate_config", "pytest_addoption"]


def pytest_addoption(parser: Any) -> None:
    """Register the ini option ``gaussaudit_config``."""
    parser.addini(
        "gaussaudit_config",
        "gate config for the gaussian_audit fixture (a gaussaudit.toml or pyproject.toml); "
        "default: discovered in the rootdir",
        default=None,
    )


def project_gate_config(config: Any):
    """Return the gate config for a pytest ``Config``: ini option, else rootdir discovery."""
    from .gate import load_gate_config

    root = config.rootpath
    named = config.getini("gaussaudit_config")
    path = (root / named) if named else None
    return load_gate_config(path, search_dir=root)


@pytest.fixture
def gaussaudit_config(pytestconfig: Any):
    """Provide the project's gate configuration (see the module docstring)."""
    return project_gate_config(pytestconfig)


@pytest.fixture
def gaussian_audit(gaussaudit_config: Any):
    """``gaussian_audit(X, **gates)``: assert that ``X`` passes the project's gates."""
    from .testing import assert_gaussian

    def audit(data: Any, **gates: Any):
        __tracebackhide__ = True
        return assert_gaussian(data, config=gaussaudit_config, **gates)

    return audit
