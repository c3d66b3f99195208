"""CI gates: thresholds on an audit that decide pass (exit 0) or fail (exit 1).

:mod:`gaussaudit.gate.config` holds :class:`GateConfig` (an ``AuditConfig``
plus the gates) and reads it from ``gaussaudit.toml`` or ``pyproject.toml``;
:mod:`gaussaudit.gate.evaluate` checks a report against it. ``gaussaudit
check`` is a thin wrapper around :func:`check_file`.
"""

from .config import (
    CONFIG_FILE,
    CORRECTIONS,
    MAX_CONFIG_BYTES,
    MAX_DEPTH,
    NO_REJECTION_FAMILIES,
    ON_SKIP,
    REQUIRE_VERDICTS,
    GateConfig,
    GateConfigError,
    config_keys,
    find_config_file,
    gate_config_from_mapping,
    load_gate_config,
    no_rejection_families,
)
from .evaluate import GateOutcome, GateResult, check_array, check_file, evaluate_gates

__all__ = [
    "CONFIG_FILE",
    "CORRECTIONS",
    "MAX_CONFIG_BYTES",
    "MAX_DEPTH",
    "NO_REJECTION_FAMILIES",
    "ON_SKIP",
    "REQUIRE_VERDICTS",
    "GateConfig",
    "GateConfigError",
    "GateOutcome",
    "GateResult",
    "check_array",
    "check_file",
    "config_keys",
    "evaluate_gates",
    "find_config_file",
    "gate_config_from_mapping",
    "load_gate_config",
    "no_rejection_families",
]
