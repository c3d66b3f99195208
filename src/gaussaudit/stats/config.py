"""AuditConfig: the one home of audit settings and their defaults.

Every setting is a dataclass field carrying its help text and its type kind in
the field's metadata. The gate configuration (TOML keys), the options of
``gaussaudit test``, ``check`` and ``run``, and the report's ``config`` section
are all derived from these fields (see :func:`setting_fields` and
:func:`settings_from_mapping`), so a new setting is declared once, here.

Examples
--------
>>> from gaussaudit.stats.config import AuditConfig
>>> cfg = AuditConfig(views="raw,whitened", tests="anderson_darling,norms")
>>> cfg.views, cfg.tests
(('raw', 'whitened'), ('anderson_darling', 'norms'))
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import MISSING, Field, dataclass, field, fields, replace
from typing import Any, TypeVar

from ..errors import UnknownNameError, UsageError
from .memory import default_memory_limit, parse_bytes
from .tests import AD_THRESHOLD, default_tests, parse_tests

__all__ = [
    "ALL_VIEWS",
    "CALIBRATIONS",
    "ENGINES",
    "FULL_MULTIVARIATE",
    "VERDICTS",
    "VIEWS",
    "AuditConfig",
    "SettingError",
    "coerce_settings",
    "default_memory_limit",
    "parse_bytes",
    "parse_views",
    "setting",
    "setting_fields",
    "settings_from_mapping",
]

#: The views of an embedding matrix the battery can audit (see :mod:`.views`).
VIEWS = ("raw", "normalized", "whitened", "zca")
#: The views ``"all"`` stands for: the paper's three (``zca`` is opt-in).
ALL_VIEWS = ("raw", "normalized", "whitened")
VERDICTS = ("paper", "calibrated")
#: Floors of the calibrated verdict: corrected for correlated columns, or the
#: old independent-binomial rule (see :mod:`gaussaudit.stats.calibration`).
CALIBRATIONS = ("dependence", "binomial")
FULL_MULTIVARIATE = ("auto", "always", "never")
#: Engines that compute the blocks of an audit (see :mod:`gaussaudit.stats.engines`);
#: ``dask`` and ``torch`` are extras, imported only when asked for.
ENGINES = ("numpy", "dask", "torch")


#: Words for the type kinds used in messages.
_KIND_WORDS = {
    "float": "a number",
    "int": "an integer",
    "str": "a string",
    "bool": "true or false",
    "strs": "a list of strings",
}


class SettingError(UsageError):
    """A setting (config key, keyword or flag) is unknown, mistyped or out of range."""


def setting(
    default: Any = MISSING,
    *,
    help: str,
    kind: str,
    choices: tuple[str, ...] = (),
    default_factory: Any = MISSING,
    cli: bool = True,
) -> Any:
    """Declare a setting: a dataclass field with help text and type kind.

    Parameters
    ----------
    default, default_factory
        As for :func:`dataclasses.field`.
    help : str
        One line for ``--help`` and the docs.
    kind : {"float", "int", "str", "bool", "strs"}
        The value's type in TOML and on the command line; ``strs`` is a
        comma-separated list.
    choices : tuple of str
        Allowed values of a ``str`` setting.
    cli : bool
        Whether the command line exposes it as an option.
    """
    meta = {"help": help, "kind": kind, "choices": choices, "cli": cli}
    if default_factory is not MISSING:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)


def parse_views(text: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Parse ``"raw,whitened"`` or ``"all"`` into a tuple of view names.

    Examples
    --------
    >>> parse_views("all")
    ('raw', 'normalized', 'whitened')
    """
    items = [t.strip() for t in text.split(",")] if isinstance(text, str) else list(text)
    items = [t for t in items if t]
    if items == ["all"]:
        return ALL_VIEWS
    for item in items:
        if item not in VIEWS:
            raise UnknownNameError("view", item, (*VIEWS, "all"))
    return tuple(dict.fromkeys(items))


@dataclass(frozen=True)
class AuditConfig:
    """Settings of one audit. Every field is recorded in the report.

    Attributes
    ----------
    alpha : float
        Level of every test (and of the Holm correction in the verdict).
    seed : int
        Seed of every random choice (row subsamples, projections, subspaces).
    views : tuple of str
        Views to audit: ``raw``, ``normalized``, ``whitened`` (PCA) or ``zca``
        (a string such as ``"raw,whitened"`` or ``"all"``, the first three, is
        parsed).
    tests : tuple of str
        Test names (JSON keys) to run; see :mod:`gaussaudit.stats.tests`
        (a comma-separated string or ``"all"`` is parsed).
    max_samples : int or None
        Audit a seeded subsample of this many rows (None: all rows).
    projections : int
        Random unit directions for the projection battery (0 disables it).
    subspace_dim, subspaces : int
        Dimension and number of random subspaces for Mardia/Henze–Zirkler.
    multivariate_max_rows : int
        Seeded row subsample for the O(n^2) multivariate tests.
    full_multivariate : {"auto", "always", "never"}
        Run Mardia/Henze–Zirkler on the full view: ``auto`` only when
        d <= ``full_max_dim`` (where they have power and valid asymptotics).
    full_max_dim : int
    pca : bool
        Run full-view multivariate tests on a PCA to the covariance rank
        instead of skipping a singular covariance.
    threshold : float
        The Anderson–Darling pass threshold on raw A² (the paper's 0.752).
    verdict : {"paper", "calibrated"}
        Which verdict is the headline ``gaussian`` flag.
    calibration : {"dependence", "binomial"}
        Floors of the calibrated verdict: ``dependence`` corrects the pass-fraction
        floors for correlated columns and adds the per-coordinate Holm family and
        the norm-CV test; ``binomial`` is the previous rule (liberal at small d).
    margin : float
        Mean Wasserstein-1 distance (in standard deviations) between the
        standardised coordinates and N(0, 1) regarded as negligible; the
        practical verdict compares the departure's 95 % interval with it.
    sphere : bool or None
        Compare rows with a normalised Gaussian (the sphere reference): None
        (auto) when the row norms are constant to a CV of 1e-3, True always,
        False never.
    engine : {"numpy", "dask", "torch"}
        Where the blocks of the audit are computed (:mod:`gaussaudit.stats.engines`);
        ``dask`` and ``torch`` need their extras.
    memory_limit : str or None
        Memory budget of the audit, e.g. ``"2GiB"`` or ``"500MB"`` (None: a
        quarter of the available memory). A file whose rows do not fit it is
        streamed block by block instead of loaded (:meth:`memory_limit_bytes`).
    scheduler : str or None
        Address of an existing Dask scheduler (``engine="dask"``); None starts a
        local cluster for the run.
    device : str or None
        torch device of ``engine="torch"``; None picks CUDA when available.
    """

    alpha: float = setting(0.05, help="Level of every test.", kind="float")
    seed: int = setting(0, help="Seed of every random choice.", kind="int")
    views: tuple[str, ...] = setting(
        ("raw",),
        help="Views, comma-separated: raw, normalized, whitened, zca, or all (the first three).",
        kind="strs",
    )
    tests: tuple[str, ...] = setting(
        help="Tests to run, comma-separated, or all.", kind="strs", default_factory=default_tests
    )
    max_samples: int | None = setting(None, help="Audit a seeded subsample of N rows.", kind="int")
    projections: int = setting(128, help="Random unit directions to test (0: none).", kind="int")
    subspaces: int = setting(
        16, help="Random k-dim subspaces for Mardia/Henze-Zirkler (0: none).", kind="int"
    )
    subspace_dim: int = setting(8, help="Dimension k of each subspace.", kind="int")
    multivariate_max_rows: int = setting(
        2500, help="Seeded row subsample for the O(n^2) multivariate tests.", kind="int"
    )
    full_multivariate: str = setting(
        "auto",
        help="Mardia/HZ on the full view: auto (d <= 10), always, never.",
        kind="str",
        choices=FULL_MULTIVARIATE,
    )
    full_max_dim: int = setting(
        10, help="Largest d for the full-view multivariate tests in auto mode.", kind="int",
        cli=False,
    )  # fmt: skip
    pca: bool = setting(False, help="Full-view multivariate tests on a PCA to rank.", kind="bool")
    threshold: float = setting(
        AD_THRESHOLD, help="Anderson-Darling pass threshold on raw A^2.", kind="float", cli=False
    )
    verdict: str = setting(
        "paper",
        help="Headline verdict: paper (mean AD/DP rule) or calibrated.",
        kind="str",
        choices=VERDICTS,
    )

    calibration: str = setting(
        "dependence",
        help="Calibrated verdict floors: dependence (corrected for correlated columns) "
        "or binomial (previous rule).",
        kind="str",
        choices=CALIBRATIONS,
    )
    margin: float = setting(
        0.02,
        help="Negligible mean W1 distance to N(0,1), in standard deviations.",
        kind="float",
    )
    sphere: bool | None = setting(
        None,
        help="Sphere reference: on for constant-norm rows (unset), always, or never.",
        kind="bool",
        cli=False,
    )
    engine: str = setting(
        "numpy",
        help="Engine computing the blocks: numpy, dask or torch (extras).",
        kind="str",
        choices=ENGINES,
    )
    memory_limit: str | None = setting(
        None,
        help="Memory budget, e.g. 2GiB or 500MB (unset: a quarter of available RAM); "
        "larger inputs are streamed.",
        kind="str",
    )
    scheduler: str | None = setting(
        None,
        help="Dask scheduler address tcp://HOST:PORT for engine=dask "
        "(unset: a local cluster for the run).",
        kind="str",
    )
    device: str | None = setting(
        None,
        help="Device for engine=torch: cuda, cuda:1, cpu (unset: CUDA when available).",
        kind="str",
    )

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "views", parse_views(self.views))
        set_(self, "tests", parse_tests(self.tests))
        if not 0.0 < self.alpha < 1.0:
            raise UsageError(f"alpha must be in (0, 1), got {self.alpha}")
        if not self.views:
            raise UsageError("at least one view is needed")
        for f in fields(self):
            choices = f.metadata.get("choices")
            value = getattr(self, f.name)
            if choices and value not in choices:
                what = {
                    "verdict": "verdict",
                    "full_multivariate": "full-multivariate mode",
                    "calibration": "calibration",
                    "engine": "engine",
                }
                raise UnknownNameError(what.get(f.name, f.name), value, choices)
        if self.seed < 0:
            raise UsageError(f"seed must be >= 0, got {self.seed}")
        if self.max_samples is not None and self.max_samples < 8:
            raise UsageError(f"max_samples must be at least 8, got {self.max_samples}")
        if self.projections < 0 or self.subspaces < 0 or self.subspace_dim < 1:
            raise UsageError("projections and subspaces must be >= 0, subspace_dim >= 1")
        if not self.margin >= 0.0:
            raise UsageError(f"margin must be >= 0, got {self.margin}")
        if self.multivariate_max_rows < 20:
            raise UsageError("multivariate_max_rows must be at least 20")
        if self.memory_limit is not None:
            parse_bytes(self.memory_limit)

    def memory_limit_bytes(self) -> int:
        """Return the memory budget in bytes (:func:`default_memory_limit` when unset).

        Examples
        --------
        >>> AuditConfig(memory_limit="1GiB").memory_limit_bytes()
        1073741824
        """
        if self.memory_limit is None:
            return default_memory_limit()
        return parse_bytes(self.memory_limit)


def setting_fields(cls: type, *, cli_only: bool = False) -> tuple[Field, ...]:
    """Return the declared settings of a config dataclass (those made by :func:`setting`)."""
    return tuple(
        f
        for f in fields(cls)
        if "kind" in f.metadata and (f.metadata.get("cli", True) or not cli_only)
    )


def _optional(f: Field) -> bool:
    return "None" in str(f.type)


def _coerce(f: Field, value: Any, where: str) -> Any:
    kind = f.metadata["kind"]
    if value is None and _optional(f):
        return None
    ok = False
    if kind == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok:
            try:
                value = float(value)
            except OverflowError:
                ok = False
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
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise SettingError(
            f"{where}: {f.name} must be {_KIND_WORDS[kind]}, got {type(value).__name__} {shown}"
        )
    return value


C = TypeVar("C")


def coerce_settings(
    cls: type,
    values: Mapping[str, Any],
    *,
    where: str = "config",
    error: type[SettingError] = SettingError,
) -> dict[str, Any]:
    """Check keys and types of ``values`` against ``cls``'s settings.

    Returns the changes to apply (``None`` dropped for settings that cannot
    be ``None``). Raises ``error`` on an unknown key, with the closest one
    suggested, or on a wrong type.
    """
    known = {f.name: f for f in setting_fields(cls)}
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if not isinstance(key, str) or key not in known:
            alt = str(key).replace("-", "_")
            close = difflib.get_close_matches(alt, tuple(known), n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise error(
                f"{where}: unknown config key {str(key)[:60]!r}.{hint} "
                f"Known keys: {', '.join(known)}."
            )
        f = known[key]
        if value is None and not _optional(f):
            continue
        try:
            changes[key] = _coerce(f, value, where)
        except SettingError as err:
            raise error(str(err)) from None
    return changes


def settings_from_mapping(
    cls: type[C],
    values: Mapping[str, Any],
    *,
    base: C | None = None,
    where: str = "config",
    error: type[SettingError] = SettingError,
) -> C:
    """Validate ``values`` (keys and types) against ``cls``'s settings and apply them.

    Parameters
    ----------
    cls : type
        A dataclass whose fields were declared with :func:`setting`
        (:class:`AuditConfig`, :class:`~gaussaudit.gate.GateConfig`).
    values : mapping
        Keys and values. ``None`` values are ignored for settings that cannot
        be ``None``; for optional settings ``None`` switches them off.
    base : instance of cls, optional
        What the values are applied on (default ``cls()``).
    where : str
        Where the values come from, for messages.
    error : type
        The exception raised (a :class:`SettingError` subclass).

    Returns
    -------
    instance of cls

    Raises
    ------
    SettingError
        Unknown key (the closest is suggested), wrong type, or a value out of range.

    Examples
    --------
    >>> settings_from_mapping(AuditConfig, {"alpha": 0.01}).alpha
    0.01
    """
    changes = coerce_settings(cls, values, where=where, error=error)
    try:
        return replace(base, **changes) if base is not None else cls(**changes)
    except (UsageError, UnknownNameError) as err:
        message = str(err)
        raise error(message if message.startswith(where) else f"{where}: {message}") from None
