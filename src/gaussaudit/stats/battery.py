"""The audit battery: which tests run on which views, and the verdict.

:func:`audit` is the one entry point the CLI, the trainer's per-epoch audits and
users' own code call. It validates the matrix once, optionally subsamples rows
(seeded, recorded), builds the requested views, runs the requested tests on
each view family by family, as the test registry (:mod:`gaussaudit.stats.tests`)
declares them, and reaches the verdicts of :mod:`gaussaudit.stats.verdict`.
Settings live in :class:`~gaussaudit.stats.config.AuditConfig`.

Tests that cannot run are recorded as :class:`~gaussaudit.stats.results.Skipped`
with the reason, never silently dropped.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import NotApplicableError
from ._sampling import describe_subsample, seeded_rows
from ._validation import MatrixCheck, ValidatedMatrix, constant_columns, validate
from .calibration import ViewCalibration, calibrate_view
from .config import FULL_MULTIVARIATE, VERDICTS, AuditConfig, parse_views
from .cost import DIRECTIONS_PER_DIM, PROJECTION_VALUES, check_budget, effective_projections
from .departure import Departure, departure
from .diagnosis import Finding, diagnose
from .norms import norm_concentration
from .results import (
    CoordinateTestResult,
    HenzeZirklerResult,
    MardiaResult,
    NormResult,
    ProjectionResult,
    Skipped,
    SubspaceResult,
)
from .rows import subspace_rows
from .sphere import SphereResult, near_constant_norm, sphere_reference
from .tests import TestSpec, coordinate_tests, multivariate_tests, parse_tests, test_names
from .univariate import anderson_darling_dagostino_pearson
from .verdict import Verdict, decide
from .views import make_view, pca_whiten

__all__ = [
    "COORDINATE_TESTS",
    "FULL_MULTIVARIATE",
    "TESTS",
    "VERDICTS",
    "AuditConfig",
    "AuditResult",
    "ProgressCallback",
    "Verdict",
    "ViewAudit",
    "audit",
    "parse_tests",
    "parse_views",
]

#: Names of the built-in tests, in battery order (see :mod:`gaussaudit.stats.tests`).
TESTS = test_names()
#: Names of the built-in per-coordinate tests.
COORDINATE_TESTS = tuple(s.name for s in coordinate_tests())


@dataclass(frozen=True, eq=False)
class ViewAudit:
    """Every result for one view."""

    view: str
    n: int
    d: int
    norms: NormResult | Skipped | None
    coordinates: dict[str, CoordinateTestResult | Skipped]
    multivariate: dict[str, MardiaResult | HenzeZirklerResult | Skipped]
    subspaces: SubspaceResult | Skipped | None
    projections: ProjectionResult | Skipped | None
    verdict: Verdict
    notes: tuple[str, ...] = ()
    #: Dependence corrections and the norm-CV test (:mod:`.calibration`).
    calibration: ViewCalibration | None = None
    #: How far from Gaussian (:mod:`.departure`), ``views.<view>.departure``.
    departure: Departure | None = None
    #: Sphere reference (:mod:`.sphere`), ``views.<view>.sphere``.
    sphere: SphereResult | Skipped | None = None
    #: What kind of departure (:mod:`.diagnosis`), ``views.<view>.diagnosis``.
    diagnosis: tuple[Finding, ...] = ()


@dataclass(frozen=True, eq=False)
class AuditResult:
    """The outcome of :func:`audit`.

    Attributes
    ----------
    config : AuditConfig
    views : dict
        ``ViewAudit`` per view name, in the order asked.
    check : MatrixCheck
        What validation found (dropped rows, constant columns).
    n_input : int
        Rows before any subsample.
    notes : tuple of str
        Subsampling and other global notes.
    matrix : ndarray or None
        The validated float64 ``(n, d)`` matrix that was audited (after any
        ``max_samples`` subsample), not a copy; renderers rebuild views from it
        for plots. None when the result was built without it.
    execution : dict or None
        How the audit ran: ``engine``, ``streamed`` (rows read block by block
        rather than held), ``rows_audited``, ``rows_used`` (rows each step read:
        per-coordinate, norms, projections, full_multivariate, subspaces,
        departure, sphere, diagnosis, calibration) and, when streamed,
        ``block_rows``, ``workers`` and ``memory_limit`` (bytes). None when not
        recorded.
    """

    config: AuditConfig
    views: dict[str, ViewAudit]
    check: MatrixCheck
    n_input: int
    notes: tuple[str, ...] = field(default_factory=tuple)
    matrix: np.ndarray | None = field(default=None, repr=False)
    execution: dict | None = None

    @property
    def gaussian(self) -> bool | None:
        """Headline over all audited views.

        False if any view is not Gaussian, else None if any view is undecided,
        else True.
        """
        flags = [v.verdict.gaussian for v in self.views.values()]
        if any(f is False for f in flags):
            return False
        if any(f is None for f in flags):
            return None
        return True


def _subsample(x: np.ndarray, max_rows: int | None, seed: int) -> tuple[np.ndarray, str | None]:
    n = x.shape[0]
    if max_rows is None or n <= max_rows:
        return x, None
    return x[seeded_rows(n, max_rows, seed)], describe_subsample(max_rows, n, seed)


def _run_coordinate(spec: TestSpec, x: ValidatedMatrix, config: AuditConfig):
    if x.shape[0] < spec.min_rows:
        return Skipped(spec.name, f"needs at least {spec.min_rows} rows, got {x.shape[0]}")
    try:
        return spec.load_kernel()(x, **spec.kernel_options(config))
    except NotApplicableError as err:
        return Skipped(spec.name, str(err))


#: Kernels that compute several per-coordinate tests in one pass when all of
#: them run (an optimisation only: the results equal the separate kernels').
_FUSED_COORDINATE = {("anderson_darling", "dagostino_pearson"): anderson_darling_dagostino_pearson}


def _run_coordinates(m: ValidatedMatrix, config: AuditConfig) -> dict:
    """Per-coordinate tests in battery order; fused kernels share one pass."""
    specs = coordinate_tests(config.tests)
    by_name = {s.name: s for s in specs}
    fused: dict = {}
    for names, kernel in _FUSED_COORDINATE.items():
        if set(names) <= set(by_name) and all(m.shape[0] >= by_name[t].min_rows for t in names):
            results = kernel(m, threshold=config.threshold)
            fused.update(zip(names, results, strict=True))
    return {s.name: fused[s.name] if s.name in fused else _run_coordinate(s, m, config)
            for s in specs}  # fmt: skip


def _gram_group(sub: np.ndarray, specs: list[TestSpec], note: str | None) -> dict:
    """Mardia and Henze–Zirkler from one pass over the Gram blocks."""
    wanted = [s.name for s in specs]
    which = tuple("hz" if t == "henze_zirkler" else t for t in wanted)
    from .multivariate import mardia_henze_zirkler

    out: dict = {}
    try:
        m, h = mardia_henze_zirkler(sub, which=which)
    except NotApplicableError as err:
        reason = str(err) + (f" ({note})" if note else "")
        if "Henze-Zirkler" in reason and "mardia" in wanted:
            out["henze_zirkler"] = Skipped("henze_zirkler", reason)
            try:
                out["mardia"] = mardia_henze_zirkler(sub, which=("mardia",))[0]
            except NotApplicableError as err2:
                out["mardia"] = Skipped("mardia", str(err2))
            return out
        return {t: Skipped(t, reason) for t in wanted}
    if m is not None:
        out["mardia"] = m
    if h is not None:
        out["henze_zirkler"] = h
    return out


def _full_multivariate(x: np.ndarray, config: AuditConfig) -> dict:
    specs = list(multivariate_tests(config.tests))
    if not specs:
        return {}
    wanted = [s.name for s in specs]
    _n, d = x.shape
    mode = config.full_multivariate
    if mode == "never" or (mode == "auto" and d > config.full_max_dim):
        why = (
            "full-view multivariate tests disabled"
            if mode == "never"
            else f"d = {d} > {config.full_max_dim}: run on the full view only with "
            "--full-multivariate always (see the subspace tests)"
        )
        return {t: Skipped(t, why) for t in wanted}
    sub, note = _subsample(x, config.multivariate_max_rows, config.seed)
    const = constant_columns(sub)
    if const.size and const.size < d:
        sub = np.delete(sub, const, axis=1)
        extra = f"{const.size} constant column(s) left out, {sub.shape[1]} tested"
        note = f"{note}; {extra}" if note else extra
    if config.pca:
        sub = pca_whiten(sub)[0]
        extra = f"on a PCA to rank {sub.shape[1]}"
        note = f"{note}; {extra}" if note else extra
    results: dict = {}
    # One small-n policy: every test below its declared min_rows is skipped.
    for spec in specs:
        if sub.shape[0] < spec.min_rows:
            results[spec.name] = Skipped(
                spec.name, f"needs at least {spec.min_rows} rows, got {sub.shape[0]}"
            )
    gram = [s for s in specs if s.joint == "gram" and s.name not in results]
    if gram:
        results.update(_gram_group(sub, gram, note))
    for spec in specs:
        if spec.joint == "gram" or spec.name in results:
            continue
        if sub.shape[0] < spec.min_rows:
            results[spec.name] = Skipped(
                spec.name, f"needs at least {spec.min_rows} rows, got {sub.shape[0]}"
            )
            continue
        try:
            results[spec.name] = spec.load_kernel()(sub, **spec.kernel_options(config))
        except NotApplicableError as err:
            reason = str(err) + (f" ({note})" if note else "")
            results[spec.name] = Skipped(spec.name, reason)
    out: dict = {"_note": note} if note else {}
    out.update({t: results[t] for t in wanted if t in results})
    return out


def _subspaces(
    m: np.ndarray,
    config: AuditConfig,
    notes: list[str],
    leading: np.ndarray | None = None,
) -> SubspaceResult | Skipped:
    if m.shape[1] <= config.subspace_dim:
        return Skipped(
            "subspaces",
            f"d = {m.shape[1]} <= k = {config.subspace_dim}: every k-dim subspace is the "
            "full view (see the full-view tests)",
        )
    sub, sub_note = _subsample(m, subspace_rows(m.shape[0], m.shape[1], config), config.seed)
    specs = [
        s for s in multivariate_tests(config.tests) if s.subspaces and sub.shape[0] >= s.min_rows
    ]
    which = tuple("hz" if s.name == "henze_zirkler" else s.name for s in specs if s.joint == "gram")
    others = {
        s.name: (
            functools.partial(s.load_kernel(), **s.kernel_options(config)),
            tuple(path for _label, path in s.pvalues),
        )
        for s in specs
        if s.joint != "gram"
    }
    if not specs:
        need = min((s.min_rows for s in multivariate_tests(config.tests)), default=0)
        return Skipped("subspaces", f"needs at least {need} rows, got {sub.shape[0]}")
    from .multivariate import subspace_tests

    try:
        result = subspace_tests(
            sub,
            k=config.subspace_dim,
            n_subspaces=config.subspaces,
            seed=config.seed,
            which=which,
            principal_frame=leading,
            others=others,
        )
    except NotApplicableError as err:
        return Skipped("subspaces", str(err))
    if sub_note:
        notes.append(f"subspace tests on {sub_note}")
    return result


def _audit_view(
    x: ValidatedMatrix, name: str, config: AuditConfig, tick: Callable[[str], None]
) -> ViewAudit:
    steps = _view_steps(config)
    view = make_view(x.values, name)
    m = view.matrix
    # Validated once per view; every test below takes it without scanning again.
    valid = x if name == "raw" else validate(m, name=f"the {name} view")
    notes = list(view.notes)
    if (
        m.shape[1]
        and valid.check.constant_columns is not None
        and (len(valid.check.constant_columns) == m.shape[1])
    ):
        return _constant_view(name, m, config, notes, steps, tick)
    norms = None
    if "norms" in steps:
        tick("norms")
        norms = norm_concentration(valid)
    if "per-coordinate tests" in steps:
        tick("per-coordinate tests")
    coords = _run_coordinates(valid, config)
    if "full-view multivariate tests" in steps:
        tick("full-view multivariate tests")
    mv = _full_multivariate(m, config)
    note = mv.pop("_note", None)
    if note:
        notes.append(f"full-view multivariate tests on {note}")
    subspaces: SubspaceResult | Skipped | None = None
    if "subspace tests" in steps:
        tick("subspace tests")
        subspaces = _subspaces(m, config, notes, view.leading)
    projections: ProjectionResult | Skipped | None = None
    if "random projections" in steps:
        tick("random projections")
        from .projections import projection_tests

        used = effective_projections(config.projections, n=m.shape[0], d=m.shape[1])
        if used < config.projections:
            notes.append(
                f"{used} random directions of the {config.projections} asked (at most "
                f"{DIRECTIONS_PER_DIM}·d, and {PROJECTION_VALUES:.0e} projected values)"
            )
        try:
            projections = projection_tests(
                valid,
                n_projections=used,
                seed=config.seed,
                threshold=config.threshold,
            )
        except NotApplicableError as err:
            projections = Skipped("projections", str(err))
    if config.projections == 0 and "projections" in config.tests:
        projections = Skipped("projections", "projections = 0: no random directions tested")
    partial = ViewAudit(
        view=name,
        n=int(m.shape[0]),
        d=int(m.shape[1]),
        norms=norms,
        coordinates=coords,
        multivariate=mv,
        subspaces=subspaces,
        projections=projections,
        verdict=Verdict(None, None, None, ()),
        notes=tuple(notes),
    )
    tested = _tested_columns(coords)
    cal = calibrate_view(m, name, partial, alpha=config.alpha, seed=config.seed,
                         mode=config.calibration)  # fmt: skip
    dep = departure(m, margin=config.margin, seed=config.seed, columns=tested)
    sphere = _sphere(m, name, norms, config)
    partial = replace(partial, calibration=cal, departure=dep, sphere=sphere)
    findings = diagnose(
        m, partial, seed=config.seed, raw=x.values if name == "raw" else None, leading=view.leading
    )
    if isinstance(sphere, SphereResult) and sphere.consistent:
        # The shape a normalised Gaussian has (Beta-like coordinates) is not a finding.
        findings = tuple(f for f in findings if f.code not in _SPHERE_SHAPES)
    partial = replace(partial, diagnosis=findings)
    return replace(partial, verdict=decide(partial, config))


#: Findings a normalised Gaussian shows by itself at small d.
_SPHERE_SHAPES = ("clusters", "heavy_tails", "skew")


def _tested_columns(coords: dict) -> np.ndarray | None:
    for r in coords.values():
        if isinstance(r, CoordinateTestResult):
            return r.columns
    return None


def _sphere(
    m: np.ndarray, name: str, norms: NormResult | Skipped | None, config: AuditConfig
) -> SphereResult | Skipped | None:
    if config.sphere is False:
        return None
    row_norms = norms.norms if isinstance(norms, NormResult) else np.linalg.norm(m, axis=1)
    if config.sphere is None and not near_constant_norm(row_norms):
        return None
    result = sphere_reference(m, alpha=config.alpha, seed=config.seed)
    if result is None:
        return Skipped("sphere", "needs d >= 2, at least 20 rows and no zero row")
    return result


def _constant_view(
    name: str,
    m: np.ndarray,
    config: AuditConfig,
    notes: list[str],
    steps: list[str],
    tick: Callable[[str], None],
) -> ViewAudit:
    """Every test skipped: the view is numerically constant (no spread to test)."""
    why = (
        f"the {name} view is numerically constant (every coordinate's range is at "
        "rounding level): nothing to test"
    )
    for step in steps:
        tick(step)
    coords = {s.name: Skipped(s.name, why) for s in coordinate_tests(config.tests)}
    mv = {s.name: Skipped(s.name, why) for s in multivariate_tests(config.tests)}
    has_sub = "subspace tests" in steps
    partial = ViewAudit(
        view=name,
        n=int(m.shape[0]),
        d=int(m.shape[1]),
        norms=Skipped("norms", why) if "norms" in config.tests else None,
        coordinates=coords,
        multivariate=mv,
        subspaces=Skipped("subspaces", why) if has_sub else None,
        projections=Skipped("projections", why) if "projections" in config.tests else None,
        verdict=Verdict(None, None, None, ()),
        notes=(*notes, why),
    )
    verdict = decide(partial, config)
    return replace(partial, verdict=replace(verdict, reasons=(why, *verdict.reasons)))


#: ``progress(label, done, total)``: called before each step of :func:`audit`
#: (``done`` steps finished so far) and once at the end with ``done == total``.
ProgressCallback = Callable[[str, int, int], None]


def _view_steps(config: AuditConfig) -> list[str]:
    """List the steps :func:`_audit_view` reports, in order, for one view."""
    steps = ["norms"] if "norms" in config.tests else []
    if coordinate_tests(config.tests):
        steps.append("per-coordinate tests")
    if multivariate_tests(config.tests):
        steps.append("full-view multivariate tests")
        if config.subspaces and any(s.subspaces for s in multivariate_tests(config.tests)):
            steps.append("subspace tests")
    if "projections" in config.tests and config.projections:
        steps.append("random projections")
    return steps


def audit(
    data: object,
    config: AuditConfig | None = None,
    *,
    progress: ProgressCallback | None = None,
    **overrides: object,
) -> AuditResult:
    """Run the Gaussianity battery on an embedding matrix.

    Parameters
    ----------
    data : array_like or EmbeddingSet
        ``(n, d)`` embeddings, or an :class:`~gaussaudit.io.EmbeddingSet`.
    config : AuditConfig, optional
        Settings; defaults to ``AuditConfig()``.
    progress : callable, optional
        ``progress(label, done, total)`` before each step (e.g.
        ``"raw: per-coordinate tests"``) and once when all are done; the
        command line draws a progress bar with it.
    **overrides
        Fields of :class:`AuditConfig` to override, e.g. ``views=("raw",)``.

    Returns
    -------
    AuditResult

    Examples
    --------
    >>> import numpy as np
    >>> from gaussaudit import audit
    >>> x = np.random.default_rng(0).standard_normal((1000, 16))
    >>> result = audit(x, views=("raw",), projections=16, subspaces=4)
    >>> result.views["raw"].verdict.paper_rule
    True
    """
    cfg = replace(config or AuditConfig(), **overrides) if overrides else (config or AuditConfig())
    valid = getattr(data, "validated", None)  # an EmbeddingSet is validated on loading
    if not isinstance(valid, ValidatedMatrix):
        valid = validate(getattr(data, "matrix", data))
    check = valid.check
    loaded = getattr(data, "check", None)
    if isinstance(loaded, MatrixCheck):  # keep what loading found (e.g. dropped rows)
        check = replace(loaded, constant_columns=check.constant_columns)
    n_input = valid.shape[0]
    x, note = _subsample(valid.values, cfg.max_samples, cfg.seed)
    if note:
        valid = validate(x)
    loaded_rows = (getattr(data, "selection", None) or {}).get("rows")
    if loaded_rows and not note:  # subsampled while loading (io.load_embeddings(max_rows=))
        n_input = loaded_rows["of"]
        note = describe_subsample(loaded_rows["kept"], loaded_rows["of"], loaded_rows["seed"])
    notes = [f"audited {note}"] if note else []
    notes += [n.replace("excluded from", "(raw values) excluded from") for n in check.notes]
    check_budget(x.shape[0], x.shape[1], cfg)  # refuse before committing the memory
    steps = _view_steps(cfg)
    total = len(steps) * len(cfg.views)
    views = {}
    for i, name in enumerate(cfg.views):

        def tick(step: str, offset: int = i * len(steps), view: str = name) -> None:
            if progress is not None:
                progress(f"{view}: {step}", offset + steps.index(step), total)

        views[name] = _audit_view(valid, name, cfg, tick)
    if progress is not None:
        progress("done", total, total)
    from .rows import rows_used

    first = next(iter(views.values()), None)
    execution = {
        "engine": "numpy",
        "streamed": False,
        "rows_audited": int(x.shape[0]),
        "rows_used": rows_used(
            int(x.shape[0]), int(x.shape[1]), cfg, getattr(first, "calibration", None)
        ),
    }
    return AuditResult(
        config=cfg, views=views, check=check, n_input=n_input, notes=tuple(notes), matrix=x,
        execution=execution,
    )  # fmt: skip
