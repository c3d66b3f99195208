"""CI gates: thresholds on an audit that decide pass (exit 0) or fail (exit 1).

A :class:`GateConfig` holds the gates and the battery settings they need. It is
read from ``gaussaudit.toml`` (top-level keys) or from the ``[tool.gaussaudit]``
table of ``pyproject.toml`` by :func:`load_gate_config`, with overrides (the
command line's flags) on top. :func:`evaluate_gates` checks a report model (the
dict of ``docs/json-contract.md``, from :func:`gaussaudit.api.audit_file` or a
saved JSON report) against it, view by view, and returns a :class:`GateResult`;
:func:`check_file` does both for an embedding file. ``gaussaudit check`` is a thin
wrapper around these.

Every gate is evaluated once per audited view. A gate that is not set (``None``,
an empty ``no_rejection``, ``require_verdict = "none"``) does not appear. A gate
whose measurement is missing (the test was skipped, e.g. too few rows, or a
verdict is undecided) fails unless ``on_skip = "pass"``; the outcome's
``detail`` says why.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import GaussAuditError, UsageError

__all__ = [
    "CONFIG_FILE",
    "CORRECTIONS",
    "NO_REJECTION_FAMILIES",
    "ON_SKIP",
    "REQUIRE_VERDICTS",
    "GateConfig",
    "GateConfigError",
    "GateOutcome",
    "GateResult",
    "check_array",
    "check_file",
    "evaluate_gates",
    "find_config_file",
    "gate_config_from_mapping",
    "load_gate_config",
]

CONFIG_FILE = "gaussaudit.toml"
REQUIRE_VERDICTS = ("paper", "calibrated", "none")
CORRECTIONS = ("holm", "fdr_bh", "none")
ON_SKIP = ("fail", "pass")

_COORDINATE = ("anderson_darling", "dagostino_pearson", "shapiro_wilk", "jarque_bera", "lilliefors")
#: Names allowed in ``no_rejection``: per-coordinate tests, full-view multivariate
#: tests, random-direction tests and subspace tests (p-value families).
NO_REJECTION_FAMILIES = (
    *_COORDINATE,
    "mardia",
    "henze_zirkler",
    "projections.anderson_darling",
    "projections.dagostino_pearson",
    "projections.epps_pulley",
    "subspaces.mardia",
    "subspaces.henze_zirkler",
)


class GateConfigError(UsageError):
    """A gate configuration (file, flag or keyword) is unknown, mistyped or out of range."""


class _MissingTomlError(GaussAuditError):
    exit_code = 3


# --------------------------------------------------------------------------- config


def _all_tests() -> tuple[str, ...]:
    from .stats.battery import TESTS

    return TESTS


@dataclass(frozen=True)
class GateConfig:
    """Gates and the battery settings they run with.

    Gates (evaluated for every view in ``views``; ``None`` switches a gate off):

    Attributes
    ----------
    views : tuple of str
        Views to audit and gate: ``raw``, ``normalized``, ``whitened`` (or ``("all",)``).
    alpha : float
        Level of every test, and of the ``no_rejection`` corrections.
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
        p-value families (see :data:`NO_REJECTION_FAMILIES`) in which no
        hypothesis may be rejected after ``correction`` at ``alpha``.
    correction : {"holm", "fdr_bh", "none"}
        Multiplicity correction within each ``no_rejection`` family.
    on_skip : {"fail", "pass"}
        What a gate does when its measurement is missing (test skipped,
        verdict undecided).
    seed, max_samples, projections, subspaces, subspace_dim, tests, multivariate_max_rows,
    full_multivariate, pca
        Battery settings, passed to :class:`~gaussaudit.stats.battery.AuditConfig`.
    """

    views: tuple[str, ...] = ("raw",)
    alpha: float = 0.05
    require_verdict: str = "paper"
    min_ad_pass_fraction: float | None = None
    min_dp_pass_fraction: float | None = None
    max_ad_mean: float | None = None
    min_dp_mean_pvalue: float | None = None
    max_cv: float | None = None
    no_rejection: tuple[str, ...] = ()
    correction: str = "holm"
    on_skip: str = "fail"
    seed: int = 0
    max_samples: int | None = None
    projections: int = 128
    subspaces: int = 16
    subspace_dim: int = 8
    tests: tuple[str, ...] = field(default_factory=_all_tests)
    multivariate_max_rows: int = 2500
    full_multivariate: str = "auto"
    pca: bool = False

    def __post_init__(self) -> None:
        from .errors import UnknownNameError
        from .stats.battery import parse_tests, parse_views

        def setf(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        for name in ("views", "tests", "no_rejection"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            setf(name, tuple(value))
        try:
            setf("views", parse_views(self.views))
            setf("tests", parse_tests(self.tests))
        except UnknownNameError as err:
            raise GateConfigError(str(err)) from None
        for name, choices in (
            ("require_verdict", REQUIRE_VERDICTS),
            ("correction", CORRECTIONS),
            ("on_skip", ON_SKIP),
        ):
            _check_choice(name, getattr(self, name), choices)
        for item in self.no_rejection:
            _check_choice("no_rejection entry", item, NO_REJECTION_FAMILIES)
        setf("no_rejection", tuple(dict.fromkeys(self.no_rejection)))
        if not 0.0 < self.alpha < 1.0:
            raise GateConfigError(f"alpha must be in (0, 1), got {self.alpha}")
        for name in ("min_ad_pass_fraction", "min_dp_pass_fraction", "min_dp_mean_pvalue"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise GateConfigError(f"{name} must be in [0, 1], got {value}")
        for name in ("max_cv", "max_ad_mean"):
            value = getattr(self, name)
            if value is not None and not (value >= 0.0 and math.isfinite(value)):
                raise GateConfigError(f"{name} must be a finite number >= 0, got {value}")
        self._check_tests_present()
        try:
            self.audit_config()
        except GaussAuditError as err:
            raise GateConfigError(str(err)) from None

    def _check_tests_present(self) -> None:
        """Refuse a gate on a test that is not run (it could never pass)."""
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
                if self.projections == 0:
                    raise GateConfigError(f"no_rejection {item!r} needs projections > 0")
            elif head == "subspaces":
                needs.append((f"no_rejection {item!r}", (test,)))
                if self.subspaces == 0:
                    raise GateConfigError(f"no_rejection {item!r} needs subspaces > 0")
            else:
                needs.append((f"no_rejection {item!r}", (item,)))
        for what, wanted in needs:
            missing = [t for t in wanted if t not in self.tests]
            if missing:
                raise GateConfigError(
                    f"{what} needs the test(s) {', '.join(missing)}, which 'tests' leaves out"
                )

    def audit_config(self):
        """Return the :class:`~gaussaudit.stats.battery.AuditConfig` these gates audit with."""
        from .stats.battery import AuditConfig

        return AuditConfig(
            alpha=self.alpha,
            seed=self.seed,
            views=self.views,
            tests=self.tests,
            max_samples=self.max_samples,
            projections=self.projections,
            subspace_dim=self.subspace_dim,
            subspaces=self.subspaces,
            multivariate_max_rows=self.multivariate_max_rows,
            full_multivariate=self.full_multivariate,
            pca=self.pca,
            verdict="calibrated" if self.require_verdict == "calibrated" else "paper",
        )

    def to_dict(self) -> dict:
        """Return the settings as TOML/JSON-compatible values (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value in choices:
        return
    close = difflib.get_close_matches(str(value), choices, n=2, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise GateConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}.{hint}")


# Expected TOML types per key: "float" accepts int and float (not bool),
# "int" int only, "strs" a list of strings or one comma-separated string.
_KEY_TYPES = {
    "views": "strs",
    "alpha": "float",
    "require_verdict": "str",
    "min_ad_pass_fraction": "float",
    "min_dp_pass_fraction": "float",
    "max_ad_mean": "float",
    "min_dp_mean_pvalue": "float",
    "max_cv": "float",
    "no_rejection": "strs",
    "correction": "str",
    "on_skip": "str",
    "seed": "int",
    "max_samples": "int",
    "projections": "int",
    "subspaces": "int",
    "subspace_dim": "int",
    "tests": "strs",
    "multivariate_max_rows": "int",
    "full_multivariate": "str",
    "pca": "bool",
}
_TYPE_WORDS = {
    "float": "a number",
    "int": "an integer",
    "str": "a string",
    "bool": "true or false",
    "strs": "a list of strings",
}
_OPTIONAL = {f.name for f in fields(GateConfig) if "None" in str(f.type)}


def _coerce(key: str, value: Any, where: str) -> Any:
    kind = _KEY_TYPES[key]
    if value is None and key in _OPTIONAL:
        return None
    ok = False
    if kind == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "str":
        ok = isinstance(value, str)
    elif kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "strs":
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        ok = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
        value = tuple(value) if ok else value
    if not ok:
        raise GateConfigError(
            f"{where}: {key} must be {_TYPE_WORDS[kind]}, got {type(value).__name__} {value!r}"
        )
    return value


def gate_config_from_mapping(
    values: Mapping[str, Any], *, base: GateConfig | None = None, where: str = "config"
) -> GateConfig:
    """Validate ``values`` (keys and types) and apply them on top of ``base``.

    Parameters
    ----------
    values : mapping
        Config keys (see :class:`GateConfig`). ``None`` values are ignored only
        for keys that cannot be ``None``; for optional gates ``None`` switches
        the gate off.
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
    """
    known = tuple(_KEY_TYPES)
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key not in _KEY_TYPES:
            alt = key.replace("-", "_")
            close = difflib.get_close_matches(alt, known, n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise GateConfigError(
                f"{where}: unknown config key {key!r}.{hint} Known keys: {', '.join(known)}."
            )
        if value is None and key not in _OPTIONAL:
            continue
        changes[key] = _coerce(key, value, where)
    try:
        return replace(base or GateConfig(), **changes)
    except GateConfigError as err:
        raise GateConfigError(f"{where}: {err}") from None


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


def _read_toml(path: Path) -> dict:
    tomllib = _toml_module()
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise GateConfigError(f"config file {path} not found") from None
    except IsADirectoryError:
        raise GateConfigError(f"config file {path} is a directory") from None
    except tomllib.TOMLDecodeError as err:
        raise GateConfigError(f"{path}: invalid TOML: {err}") from None
    except UnicodeDecodeError as err:
        raise GateConfigError(f"{path}: invalid TOML: not UTF-8 ({err.reason})") from None
    except OSError as err:
        raise GateConfigError(f"cannot read config file {path}: {err.strerror or err}") from None


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


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class GateOutcome:
    """One gate on one view.

    Attributes
    ----------
    name : str
        The config key (``max_cv``), or ``no_rejection:<family>``.
    view : str
    measured : float, int, bool or None
        The value read from the report (None: not measured, e.g. skipped).
    threshold : float, int or bool
        The configured limit.
    passed : bool
    detail : str
        One sentence: what was compared, or why nothing was measured.
    op : str
        How ``measured`` must relate to ``threshold``: ``>=``, ``<=`` or ``==``.
    """

    name: str
    view: str
    measured: Any
    threshold: Any
    passed: bool
    detail: str
    op: str = ""

    def to_dict(self) -> dict:
        """JSON-compatible form."""
        return asdict(self)


@dataclass(frozen=True)
class GateResult:
    """Every gate outcome of one evaluation.

    Attributes
    ----------
    outcomes : tuple of GateOutcome
        In config order, view by view.
    config : GateConfig
    """

    outcomes: tuple[GateOutcome, ...]
    config: GateConfig

    @property
    def passed(self) -> bool:
        """True when every gate passed (also when no gate is set)."""
        return all(o.passed for o in self.outcomes)

    @property
    def failed(self) -> list[GateOutcome]:
        """The gates that failed."""
        return [o for o in self.outcomes if not o.passed]

    def to_dict(self) -> dict:
        """Return the additive ``gates`` key of the JSON report."""
        from .report.model import clean

        return clean(
            {
                "passed": self.passed,
                "n_gates": len(self.outcomes),
                "n_failed": len(self.failed),
                "outcomes": [o.to_dict() for o in self.outcomes],
                "config": self.config.to_dict(),
            }
        )

    def summary(self) -> str:
        """Failed gates, one per line (empty when all passed)."""
        return "\n".join(f"{o.name} [{o.view}]: {o.detail}" for o in self.failed)


def _fmt(x: Any) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)


def _entry(view: dict, *path: str) -> tuple[dict | None, str | None]:
    """Follow ``path`` into a view; (entry, None) or (None, why it is missing)."""
    node: Any = view
    for key in path:
        if not isinstance(node, dict):
            return None, "not in the report"
        if "skipped" in node and key not in node:
            return None, f"skipped: {node['skipped']}"
        if key not in node or node[key] is None:
            return None, "not in the report"
        node = node[key]
    if isinstance(node, dict) and "skipped" in node:
        return None, f"skipped: {node['skipped']}"
    return node, None


def _bound_gate(
    name: str,
    view_name: str,
    view: dict,
    path: tuple[str, ...],
    limit: float,
    op: str,
    label: str,
    on_skip: str,
) -> GateOutcome:
    entry, why = _entry(view, *path[:-1])
    measured = None if entry is None else entry.get(path[-1])
    if measured is None:
        why = why or f"{label} is null"
        return GateOutcome(
            name, view_name, None, limit, on_skip == "pass", f"{label} not measured ({why})", op
        )
    ok = measured >= limit if op == ">=" else measured <= limit
    rel = op if ok else ("<" if op == ">=" else ">")
    return GateOutcome(
        name, view_name, measured, limit, bool(ok), f"{label} {_fmt(measured)} {rel} {limit}", op
    )


def _family_pvalues(view: dict, family: str) -> tuple[list[float] | None, str | None]:
    head, _, test = family.partition(".")
    if family in _COORDINATE:
        entry, why = _entry(view, "coordinates", family)
        return (None, why) if entry is None else (entry.get("pvalues"), None)
    if family == "mardia":
        entry, why = _entry(view, "multivariate", "mardia")
        if entry is None:
            return None, why
        return [entry["skewness"]["pvalue"], entry["kurtosis"]["pvalue"]], None
    if family == "henze_zirkler":
        entry, why = _entry(view, "multivariate", "henze_zirkler")
        return (None, why) if entry is None else ([entry.get("pvalue")], None)
    if head == "projections":
        entry, why = _entry(view, "projections", test)
        return (None, why) if entry is None else (entry.get("pvalues"), None)
    entry, why = _entry(view, "projections", "subspaces", test)
    if entry is None:
        return None, why
    if test == "mardia":
        return [*entry["skewness"]["pvalues"], *entry["kurtosis"]["pvalues"]], None
    return entry.get("pvalues"), None


def _no_rejection_gate(
    family: str, view_name: str, view: dict, alpha: float, correction: str, on_skip: str
) -> GateOutcome:
    import numpy as np

    name = f"no_rejection:{family}"
    pvalues, why = _family_pvalues(view, family)
    p = np.array([np.nan if v is None else v for v in (pvalues or [])], dtype=float)
    p = p[np.isfinite(p)]
    if p.size == 0:
        why = why or "no finite p-value"
        return GateOutcome(
            name, view_name, None, 0, on_skip == "pass", f"{family} not measured ({why})", "=="
        )
    if correction == "none":
        rejected = p <= alpha
    else:
        from .stats.multiplicity import reject

        rejected = reject(p, alpha, method=correction)
    count = int(rejected.sum())
    how = "uncorrected" if correction == "none" else f"after {correction}"
    detail = (
        f"{count} of {p.size} {family} p-values rejected {how} at {alpha} "
        f"(smallest p {_fmt(float(p.min()))})"
    )
    return GateOutcome(name, view_name, count, 0, count == 0, detail, "==")


def evaluate_gates(report: Mapping[str, Any], config: GateConfig) -> GateResult:
    """Check a report model against the gates of ``config``.

    Parameters
    ----------
    report : dict
        A report model (from :func:`gaussaudit.api.audit_file`, or a JSON report
        read back with ``json.load``).
    config : GateConfig

    Returns
    -------
    GateResult
        One :class:`GateOutcome` per gate and view; ``passed`` is True when
        every gate passed (also when none is set).

    Raises
    ------
    UsageError
        When the report lacks a view the config gates.

    Notes
    -----
    Pass fractions and means are read as the report states them (at the
    report's alpha); ``no_rejection`` families are corrected at
    ``config.alpha``.
    """
    views = report.get("views") or {}
    missing = [v for v in config.views if v not in views]
    if missing:
        raise UsageError(
            f"the report has no view {', '.join(missing)} (it has {', '.join(views) or 'none'})"
        )
    outcomes: list[GateOutcome] = []
    skip = config.on_skip
    for view_name in config.views:
        view = views[view_name]
        if config.require_verdict != "none":
            key = "paper_rule" if config.require_verdict == "paper" else "calibrated"
            flag = (view.get("verdict") or {}).get(key)
            label = f"{config.require_verdict} verdict"
            if flag is None:
                outcomes.append(
                    GateOutcome(
                        "require_verdict",
                        view_name,
                        None,
                        True,
                        skip == "pass",
                        f"{label} undecided",
                        "==",
                    )
                )
            else:
                reasons = [
                    r
                    for r in (view.get("verdict") or {}).get("reasons", [])
                    if r.startswith("paper rule:") == (key == "paper_rule")
                ]
                text = f"{label}: {'Gaussian' if flag else 'not Gaussian'}"
                if not flag and reasons:
                    text += f" ({'; '.join(reasons)})"
                outcomes.append(
                    GateOutcome(
                        "require_verdict", view_name, bool(flag), True, bool(flag), text, "=="
                    )
                )
        bounds = (
            ("min_ad_pass_fraction", ("coordinates", "anderson_darling", "pass_fraction"), ">=",
             "AD pass fraction"),
            ("min_dp_pass_fraction", ("coordinates", "dagostino_pearson", "pass_fraction"), ">=",
             "DP pass fraction"),
            ("max_ad_mean", ("coordinates", "anderson_darling", "mean"), "<=", "mean A^2"),
            ("min_dp_mean_pvalue", ("coordinates", "dagostino_pearson", "mean_pvalue"), ">=",
             "mean DP p-value"),
            ("max_cv", ("norms", "cv"), "<=", "CV of norms"),
        )  # fmt: skip
        for name, path, op, label in bounds:
            limit = getattr(config, name)
            if limit is not None:
                outcomes.append(_bound_gate(name, view_name, view, path, limit, op, label, skip))
        for family in config.no_rejection:
            outcomes.append(
                _no_rejection_gate(family, view_name, view, config.alpha, config.correction, skip)
            )
    return GateResult(tuple(outcomes), config)


def check_file(
    path: str | os.PathLike,
    gate_config: GateConfig | None = None,
    *,
    key: str | None = None,
    columns: str | Sequence[str] | None = None,
    reshape: str | None = None,
    nan_policy: str = "raise",
    progress: Any = None,
) -> tuple[dict, GateResult]:
    """Audit an embedding file with the gates' settings and evaluate the gates.

    Parameters
    ----------
    path : path-like
        Embedding file (any format :func:`gaussaudit.io.load_embeddings` reads).
    gate_config : GateConfig, optional
        Gates and battery settings (default ``GateConfig()``).
    key, columns, reshape, nan_policy
        Passed to :func:`gaussaudit.io.load_embeddings`.
    progress : callable, optional
        ``progress(label, done, total)``, passed to :func:`gaussaudit.stats.audit`.

    Returns
    -------
    report : dict
        The report model with the additive key ``"gates"`` (:meth:`GateResult.to_dict`).
    result : GateResult
    """
    from .api import audit_file

    config = gate_config or GateConfig()
    report = audit_file(
        path,
        config.audit_config(),
        key=key,
        columns=columns,
        reshape=reshape,
        nan_policy=nan_policy,
        progress=progress,
    )
    result = evaluate_gates(report, config)
    report["gates"] = result.to_dict()
    return report, result


def check_array(data: Any, gate_config: GateConfig | None = None) -> tuple[dict, GateResult]:
    """Audit an in-memory matrix with the gates' settings and evaluate the gates.

    Parameters
    ----------
    data : array_like, torch tensor or EmbeddingSet
        ``(n, d)`` embeddings. A torch tensor is detached and copied to the CPU.
    gate_config : GateConfig, optional

    Returns
    -------
    report : dict
        The report model with the additive key ``"gates"``.
    result : GateResult
    """
    from .report.model import build_report
    from .stats.battery import audit

    config = gate_config or GateConfig()
    embeddings = None
    if hasattr(data, "detach") and hasattr(data, "cpu"):  # a torch tensor, without importing torch
        data = data.detach().cpu().float().numpy()
    elif hasattr(data, "matrix"):
        embeddings = data
    result = audit(data, config.audit_config())
    report = build_report(result, embeddings)
    gates = evaluate_gates(report, config)
    report["gates"] = gates.to_dict()
    return report, gates
