"""GateConfig: the gates of ``gaussaudit check`` and the audit settings they run with.

A :class:`GateConfig` holds an :class:`~gaussaudit.stats.config.AuditConfig`
(``config.audit``) plus the gates. It is read from ``gaussaudit.toml``
(top-level keys) or from the ``[tool.gaussaudit]`` table of ``pyproject.toml``
by :func:`load_gate_config`, with overrides (the command line's flags) on top.
The keys a file may hold are the gate settings below plus every audit setting
of ``AuditConfig`` (both declared once, with their types, as dataclass fields),
so a new audit setting is a new config key without any change here.

Config files are read with bounds: at most :data:`MAX_CONFIG_BYTES` bytes and
:data:`MAX_DEPTH` levels of nesting; anything else is a one-line error.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ..errors import GaussAuditError
from ..stats.config import AuditConfig, SettingError, coerce_settings, setting, setting_fields
from ..stats.tests import coordinate_tests, multivariate_tests, projection_tests

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
    "config_keys",
    "find_config_file",
    "gate_config_from_mapping",
    "load_gate_config",
    "no_rejection_families",
]

CONFIG_FILE = "gaussaudit.toml"
REQUIRE_VERDICTS = ("paper", "calibrated", "none")
CORRECTIONS = ("holm", "fdr_bh", "none")
ON_SKIP = ("fail", "pass")
#: Largest config file read (a config is a few hundred bytes).
MAX_CONFIG_BYTES = 1 << 20
#: Deepest nesting of tables and arrays accepted in a config file.
MAX_DEPTH = 16


class GateConfigError(SettingError):
    """A gate configuration (file, flag or keyword) is unknown, mistyped or out of range."""


class _MissingTomlError(GaussAuditError):
    exit_code = 3


def no_rejection_families() -> tuple[str, ...]:
    """Names allowed in ``no_rejection``, read from the test registry.

    Per-coordinate tests, full-view multivariate tests, the random-direction
    tests (``projections.<test>``) and the subspace tests (``subspaces.<test>``).
    """
    return (
        *(s.name for s in coordinate_tests()),
        *(s.name for s in multivariate_tests()),
        *(f"projections.{t}" for t in projection_tests()),
        *(f"subspaces.{s.name}" for s in multivariate_tests() if s.subspaces),
    )


#: The built-in ``no_rejection`` families (see :func:`no_rejection_families`).
NO_REJECTION_FAMILIES = no_rejection_families()
_AUDIT_NAMES = frozenset(f.name for f in fields(AuditConfig))
#: Audit settings a gate config does not set directly (the headline verdict
#: follows ``require_verdict``).
_DERIVED = frozenset({"verdict"})


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value in choices:
        return
    close = difflib.get_close_matches(str(value), choices, n=2, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise GateConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}.{hint}")


@dataclass(frozen=True, init=False)
class GateConfig:
    """Gates and the audit settings they run with.

    ``GateConfig(views=("raw",), max_cv=0.3)`` takes audit settings and gates
    as keywords alike (or ``audit=AuditConfig(...)``); audit settings are also
    readable as attributes (``config.alpha`` is ``config.audit.alpha``).

    Attributes
    ----------
    audit : AuditConfig
        The battery's settings (views, alpha, seed, tests, ...).
    require_verdict : {"paper", "calibrated", "none"}
        The per-view verdict that must be true (``none``: no verdict gate). It
        is also the audit's headline verdict (``"paper"`` when ``none``).
    min_ad_pass_fraction, min_dp_pass_fraction : float or None
        Lowest share of coordinates passing Anderson–Darling (A² < 0.752) and
        D'Agostino–Pearson (p > alpha). Under H0 about 0.95 is expected.
    max_ad_mean : float or None
        Highest mean A² over coordinates (the paper's "AD Avg.").
    min_dp_mean_pvalue : float or None
        Lowest mean D'Agostino–Pearson p-value (the paper's "DP Avg.").
    max_cv : float or None
        Highest coefficient of variation of the row norms (thin shell).
    no_rejection : tuple of str
        p-value families (see :func:`no_rejection_families`) in which no
        hypothesis may be rejected after ``correction`` at ``alpha``.
    correction : {"holm", "fdr_bh", "none"}
        Multiplicity correction within each ``no_rejection`` family.
    on_skip : {"fail", "pass"}
        What a gate does when its measurement is missing (test skipped,
        verdict undecided). A measurement of the wrong type always fails.

    Examples
    --------
    >>> cfg = GateConfig(views="all", max_cv=0.3)
    >>> cfg.audit.views, cfg.max_cv
    (('raw', 'normalized', 'whitened'), 0.3)
    """

    audit: AuditConfig = field(default_factory=AuditConfig)
    require_verdict: str = setting(
        "paper",
        help="Per-view verdict that must hold: paper, calibrated or none.",
        kind="str",
        choices=REQUIRE_VERDICTS,
    )
    min_ad_pass_fraction: float | None = setting(
        None, help="Lowest share of coordinates with A^2 < 0.752.", kind="float"
    )
    min_dp_pass_fraction: float | None = setting(
        None, help="Lowest share of coordinates with DP p > alpha.", kind="float"
    )
    max_ad_mean: float | None = setting(None, help="Highest mean A^2.", kind="float")
    min_dp_mean_pvalue: float | None = setting(
        None, help="Lowest mean D'Agostino-Pearson p-value.", kind="float"
    )
    max_cv: float | None = setting(None, help="Highest CV of the row norms.", kind="float")
    no_rejection: tuple[str, ...] = setting(
        (), help="p-value families with no rejection after correction.", kind="strs"
    )
    correction: str = setting(
        "holm", help="Correction within no_rejection families.", kind="str", choices=CORRECTIONS
    )
    on_skip: str = setting(
        "fail", help="A gate whose test was skipped: fail or pass.", kind="str", choices=ON_SKIP
    )

    def __init__(self, audit: AuditConfig | None = None, **values: Any) -> None:
        set_ = object.__setattr__
        gate_fields = {f.name: f for f in fields(self) if f.name != "audit"}
        unknown = [k for k in values if k not in gate_fields and k not in _AUDIT_NAMES]
        if unknown:
            raise GateConfigError(f"unknown GateConfig setting(s): {', '.join(unknown)}")
        for name, f in gate_fields.items():
            if name in values:
                value = values[name]
            elif f.default is not MISSING:
                value = f.default
            else:
                value = f.default_factory()  # type: ignore[misc]
            set_(self, name, value)
        if isinstance(self.no_rejection, str):
            set_(self, "no_rejection", [v.strip() for v in self.no_rejection.split(",")])
        set_(self, "no_rejection", tuple(dict.fromkeys(v for v in self.no_rejection if v)))
        for name in ("require_verdict", "correction", "on_skip"):
            _check_choice(name, getattr(self, name), gate_fields[name].metadata["choices"])
        audit_values = {k: v for k, v in values.items() if k in _AUDIT_NAMES}
        audit_values["verdict"] = "calibrated" if self.require_verdict == "calibrated" else "paper"
        try:
            set_(self, "audit", replace(audit or AuditConfig(), **audit_values))
        except GaussAuditError as err:
            raise GateConfigError(str(err)) from None
        self._check_values()
        self._check_tests_present()

    def __getattr__(self, name: str) -> Any:
        if name in _AUDIT_NAMES:
            return getattr(self.audit, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _check_values(self) -> None:
        families = no_rejection_families()
        for item in self.no_rejection:
            _check_choice("no_rejection entry", item, families)
        for name in ("min_ad_pass_fraction", "min_dp_pass_fraction", "min_dp_mean_pvalue"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise GateConfigError(f"{name} must be in [0, 1], got {value}")
        for name in ("max_cv", "max_ad_mean"):
            value = getattr(self, name)
            if value is not None and not (value >= 0.0 and math.isfinite(value)):
                raise GateConfigError(f"{name} must be a finite number >= 0, got {value}")

    def _check_tests_present(self) -> None:
        """Refuse a gate on a test that is not run (it could never pass)."""
        tests = self.audit.tests
        needs: list[tuple[str, tuple[str, ...]]] = []
        if self.require_verdict == "paper":
            needs.append(("require_verdict = 'paper'", ("anderson_darling", "dagostino_pearson")))
        if self.min_ad_pass_fraction is not None or self.max_ad_mean is not None:
            needs.append(("the Anderson-Darling gates", ("anderson_darling",)))
        if self.min_dp_pass_fraction is not None or self.min_dp_mean_pvalue is not None:
            needs.append(("the D'Agostino-Pearson gates", ("dagostino_pearson",)))
        if self.max_cv is not None:
            needs.append(("max_cv", ("norms",)))
        for item in self.no_rejection:
            head, _, test = item.partition(".")
            if head == "projections":
                needs.append((f"no_rejection {item!r}", ("projections",)))
                if self.audit.projections == 0:
                    raise GateConfigError(f"no_rejection {item!r} needs projections > 0")
            elif head == "subspaces":
                needs.append((f"no_rejection {item!r}", (test,)))
                if self.audit.subspaces == 0:
                    raise GateConfigError(f"no_rejection {item!r} needs subspaces > 0")
            else:
                needs.append((f"no_rejection {item!r}", (item,)))
        for what, wanted in needs:
            missing = [t for t in wanted if t not in tests]
            if missing:
                raise GateConfigError(
                    f"{what} needs the test(s) {', '.join(missing)}, which 'tests' leaves out"
                )

    def audit_config(self) -> AuditConfig:
        """Return the :class:`~gaussaudit.stats.config.AuditConfig` these gates audit with."""
        return self.audit

    def to_dict(self) -> dict:
        """Return the settings as TOML/JSON-compatible values, audit settings flattened in."""
        out: dict[str, Any] = {}
        for f in setting_fields(AuditConfig):
            if f.name not in _DERIVED:
                out[f.name] = getattr(self.audit, f.name)
        for f in setting_fields(GateConfig):
            out[f.name] = getattr(self, f.name)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


def config_keys() -> tuple[str, ...]:
    """Every key a gate config file or mapping may hold."""
    audit = [f.name for f in setting_fields(AuditConfig) if f.name not in _DERIVED]
    return (*audit, *(f.name for f in setting_fields(GateConfig)))


def gate_config_from_mapping(
    values: Mapping[str, Any], *, base: GateConfig | None = None, where: str = "config"
) -> GateConfig:
    """Validate ``values`` (keys and types) and apply them on top of ``base``.

    Parameters
    ----------
    values : mapping
        Config keys: gate settings and audit settings (see :class:`GateConfig`
        and :class:`~gaussaudit.stats.config.AuditConfig`). ``None`` values are
        ignored for keys that cannot be ``None``; for optional gates ``None``
        switches the gate off.
    base : GateConfig, optional
        Defaults (``GateConfig()`` when not given).
    where : str
        Where the values come from, for messages (a file name, ``"--flags"``).

    Returns
    -------
    GateConfig

    Raises
    ------
    GateConfigError
        On an unknown key (the closest key is suggested), a wrong type or a
        value out of range (exit code 2 on the command line).

    Examples
    --------
    >>> gate_config_from_mapping({"max_cv": 0.3, "alpha": 0.01}).audit.alpha
    0.01
    """
    if not isinstance(values, Mapping):
        raise GateConfigError(f"{where}: expected a table of settings, got {type(values).__name__}")
    base = base or GateConfig()
    audit_keys = {f.name for f in setting_fields(AuditConfig)} - _DERIVED
    audit_values = {k: v for k, v in values.items() if k in audit_keys}
    gate_values = {k: v for k, v in values.items() if k not in audit_keys}
    gate_keys = {f.name for f in setting_fields(GateConfig)}
    unknown = [k for k in gate_values if k not in gate_keys]
    if unknown:
        key = str(unknown[0])
        close = difflib.get_close_matches(key.replace("-", "_"), config_keys(), n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise GateConfigError(
            f"{where}: unknown config key {key[:60]!r}.{hint} "
            f"Known keys: {', '.join(config_keys())}."
        )
    audit_changes = coerce_settings(AuditConfig, audit_values, where=where, error=GateConfigError)
    gate_changes = coerce_settings(GateConfig, gate_values, where=where, error=GateConfigError)
    gates = {name: getattr(base, name) for name in gate_keys}
    gates.update(gate_changes)
    try:
        audit = replace(base.audit, **audit_changes)
    except GaussAuditError as err:
        raise GateConfigError(f"{where}: {err}") from None
    try:
        return GateConfig(audit=audit, **gates)
    except GateConfigError as err:
        message = str(err)
        raise GateConfigError(
            message if message.startswith(where) else f"{where}: {message}"
        ) from None


def _toml_module():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError:
            raise _MissingTomlError(
                "reading TOML config files on Python 3.10 needs the package 'tomli': "
                "pip install tomli (or pass the gates as flags)"
            ) from None
    return tomllib


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of tables and arrays, stopping past ``limit`` (no recursion)."""
    stack, deepest = [(value, 1)], 0
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        if isinstance(node, dict):
            stack += [(v, level + 1) for v in node.values()]
        elif isinstance(node, list):
            stack += [(v, level + 1) for v in node]
    return deepest


def _read_toml(path: Path) -> dict:
    import stat

    tomllib = _toml_module()
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(info.st_mode):
            raise GateConfigError(f"config file {path} is not a regular file")
        with open(path, "rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
        if len(raw) > MAX_CONFIG_BYTES:
            raise GateConfigError(
                f"config file {path} is larger than {MAX_CONFIG_BYTES // 1024} KiB"
            )
        data = tomllib.loads(raw.decode("utf-8"))
    except GateConfigError:
        raise
    except FileNotFoundError:
        raise GateConfigError(f"config file {path} not found") from None
    except IsADirectoryError:
        raise GateConfigError(f"config file {path} is a directory") from None
    except tomllib.TOMLDecodeError as err:
        raise GateConfigError(f"{path}: invalid TOML: {err}") from None
    except UnicodeDecodeError as err:
        raise GateConfigError(f"{path}: invalid TOML: not UTF-8 ({err.reason})") from None
    except RecursionError:
        raise GateConfigError(f"{path}: nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as err:  # e.g. an integer over Python's digit limit
        raise GateConfigError(f"{path}: invalid TOML: {str(err)[:100]}") from None
    except OSError as err:
        raise GateConfigError(f"cannot read config file {path}: {err.strerror or err}") from None
    if _depth(data, MAX_DEPTH) > MAX_DEPTH:
        raise GateConfigError(f"{path}: nested deeper than {MAX_DEPTH} levels")
    return data


def find_config_file(search_dir: str | os.PathLike | None = None) -> Path | None:
    """Return the config file discovery would use in ``search_dir`` (default: the cwd).

    ``gaussaudit.toml`` if it exists, else ``pyproject.toml`` if it has a
    ``[tool.gaussaudit]`` table, else None (defaults).
    """
    folder = Path(search_dir) if search_dir is not None else Path()
    own = folder / CONFIG_FILE
    if own.is_file():
        return own
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file() and "gaussaudit" in _read_toml(pyproject).get("tool", {}):
        return pyproject
    return None


def _section(path: Path) -> tuple[dict, str]:
    data = _read_toml(path)
    if path.name == "pyproject.toml":
        section = data.get("tool", {}).get("gaussaudit")
        if section is None:
            raise GateConfigError(f"{path} has no [tool.gaussaudit] table")
        if not isinstance(section, dict):
            raise GateConfigError(f"{path}: [tool.gaussaudit] must be a table")
        return section, f"{path} [tool.gaussaudit]"
    return data, str(path)


def load_gate_config(
    path: str | os.PathLike | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    search_dir: str | os.PathLike | None = None,
) -> GateConfig:
    """Read the gate configuration and apply overrides.

    Parameters
    ----------
    path : path-like, optional
        A ``gaussaudit.toml`` (top-level keys) or a ``pyproject.toml`` (the
        ``[tool.gaussaudit]`` table; any other name is read as top-level keys).
        When None, :func:`find_config_file` looks in ``search_dir``; without a
        file the defaults apply.
    overrides : mapping, optional
        Keys applied on top of the file, e.g. the command line's flags. Keys
        whose value is None are ignored (a flag that was not given).
    search_dir : path-like, optional
        Where to discover the file (default: the current directory).

    Returns
    -------
    GateConfig

    Raises
    ------
    GateConfigError
        Unknown key, wrong type, bad value, unreadable or invalid TOML.
    """
    file = Path(path) if path is not None else find_config_file(search_dir)
    config = GateConfig()
    if file is not None:
        values, where = _section(file)
        config = gate_config_from_mapping(values, where=where)
    if overrides:
        given = {k: v for k, v in overrides.items() if v is not None}
        config = gate_config_from_mapping(given, base=config, where="command line")
    return config
