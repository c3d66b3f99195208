"""The audit battery: which tests run on which views, and the verdict.

:func:`audit` is the one entry point the CLI, the trainer's per-epoch audits and
users' own code call. It validates the matrix once, optionally subsamples rows
(seeded, recorded), builds the requested views, runs the requested tests on
each view, and reaches two verdicts per view:

- the **paper rule**: mean A² < 0.752 and mean D'Agostino–Pearson p > alpha
  (the rule every ✓/× in the paper's tables satisfies; PAPER.md §7);
- the **calibrated** verdict, one decision at level alpha by a union bound:
  with m per-coordinate and projection families, each pass fraction must reach
  the lower alpha/(2m) quantile of its binomial null law, and no multivariate
  p-value (full view and subspaces) may be rejected by Holm at alpha/2 (the
  whole of alpha goes to whichever part exists alone). The binomial floors
  assume independent coordinates, exact for the whitened view; correlated raw
  coordinates make the pass fraction more variable than that.

Tests that cannot run are recorded as :class:`~gaussaudit.stats.results.Skipped`
with the reason, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import stats

from ..errors import NotApplicableError, UnknownNameError, UsageError
from ._sampling import describe_subsample, seeded_rows
from ._validation import MatrixCheck, ValidatedMatrix, constant_columns, validate
from .geometry import VIEWS, make_view, pca_whiten
from .multiplicity import reject
from .multivariate import mardia_henze_zirkler, subspace_tests
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
from .univariate import (
    AD_THRESHOLD,
    DP_MIN_ROWS,
    anderson_darling,
    anderson_darling_dagostino_pearson,
    dagostino_pearson,
    jarque_bera,
    lilliefors,
    shapiro_wilk,
)

__all__ = [
    "COORDINATE_TESTS",
    "TESTS",
    "VERDICTS",
    "AuditConfig",
    "AuditResult",
    "Verdict",
    "ViewAudit",
    "audit",
    "parse_tests",
    "parse_views",
]

COORDINATE_TESTS = (
    "anderson_darling",
    "dagostino_pearson",
    "shapiro_wilk",
    "jarque_bera",
    "lilliefors",
)
TESTS = ("norms", *COORDINATE_TESTS, "mardia", "henze_zirkler", "projections")
VERDICTS = ("paper", "calibrated")
FULL_MULTIVARIATE = ("auto", "always", "never")

_COORDINATE_FUNCS = {
    "anderson_darling": anderson_darling,
    "dagostino_pearson": dagostino_pearson,
    "shapiro_wilk": shapiro_wilk,
    "jarque_bera": jarque_bera,
    "lilliefors": lilliefors,
}


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
        Views to audit: ``raw``, ``normalized``, ``whitened``.
    tests : tuple of str
        Test names (JSON keys) to run; see :data:`TESTS`.
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
        The Anderson–Darling pass threshold on raw A² (0.752).
    verdict : {"paper", "calibrated"}
        Which verdict is the headline ``gaussian`` flag.
    """

    alpha: float = 0.05
    seed: int = 0
    views: tuple[str, ...] = ("raw",)
    tests: tuple[str, ...] = TESTS
    max_samples: int | None = None
    projections: int = 128
    subspace_dim: int = 8
    subspaces: int = 16
    multivariate_max_rows: int = 2500
    full_multivariate: str = "auto"
    full_max_dim: int = 10
    pca: bool = False
    threshold: float = AD_THRESHOLD
    verdict: str = "paper"

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha < 1.0:
            raise UsageError(f"alpha must be in (0, 1), got {self.alpha}")
        for view in self.views:
            if view not in VIEWS:
                raise UnknownNameError("view", view, VIEWS)
        if not self.views:
            raise UsageError("at least one view is needed")
        for test in self.tests:
            if test not in TESTS:
                raise UnknownNameError("test", test, TESTS)
        if self.verdict not in VERDICTS:
            raise UnknownNameError("verdict", self.verdict, VERDICTS)
        if self.full_multivariate not in FULL_MULTIVARIATE:
            raise UnknownNameError(
                "full-multivariate mode", self.full_multivariate, FULL_MULTIVARIATE
            )
        if self.max_samples is not None and self.max_samples < 8:
            raise UsageError(f"max_samples must be at least 8, got {self.max_samples}")
        if self.projections < 0 or self.subspaces < 0 or self.subspace_dim < 1:
            raise UsageError("projections and subspaces must be >= 0, subspace_dim >= 1")
        if self.multivariate_max_rows < 20:
            raise UsageError("multivariate_max_rows must be at least 20")


@dataclass(frozen=True)
class Verdict:
    """Per-view decision.

    Attributes
    ----------
    gaussian : bool or None
        The headline verdict (the one named by ``AuditConfig.verdict``).
    paper_rule : bool or None
        Mean A² < threshold and mean DP p > alpha; None if either test was skipped.
    calibrated : bool or None
        Pass fractions inside their null bands and no multivariate rejection.
    reasons : tuple of str
        Why, one sentence per criterion.
    """

    gaussian: bool | None
    paper_rule: bool | None
    calibrated: bool | None
    reasons: tuple[str, ...]


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
    """

    config: AuditConfig
    views: dict[str, ViewAudit]
    check: MatrixCheck
    n_input: int
    notes: tuple[str, ...] = field(default_factory=tuple)
    matrix: np.ndarray | None = field(default=None, repr=False)

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


def parse_views(text: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Parse ``"raw,whitened"`` or ``"all"`` into a tuple of view names."""
    items = [t.strip() for t in text.split(",")] if isinstance(text, str) else list(text)
    if items == ["all"]:
        return VIEWS
    for item in items:
        if item not in VIEWS:
            raise UnknownNameError("view", item, (*VIEWS, "all"))
    return tuple(dict.fromkeys(items))


def parse_tests(text: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Parse a comma-separated list of test names (JSON keys), or ``"all"``."""
    items = [t.strip() for t in text.split(",")] if isinstance(text, str) else list(text)
    if items == ["all"]:
        return TESTS
    for item in items:
        if item not in TESTS:
            raise UnknownNameError("test", item, (*TESTS, "all"))
    return tuple(dict.fromkeys(items))


def _subsample(x: np.ndarray, max_rows: int | None, seed: int) -> tuple[np.ndarray, str | None]:
    n = x.shape[0]
    if max_rows is None or n <= max_rows:
        return x, None
    return x[seeded_rows(n, max_rows, seed)], describe_subsample(max_rows, n, seed)


def _run_coordinate(name: str, x: ValidatedMatrix, config: AuditConfig):
    if name == "dagostino_pearson" and x.shape[0] < DP_MIN_ROWS:
        return Skipped(name, f"needs at least {DP_MIN_ROWS} rows, got {x.shape[0]}")
    try:
        if name == "anderson_darling":
            return anderson_darling(x, threshold=config.threshold)
        if name == "shapiro_wilk":
            return shapiro_wilk(x, seed=config.seed)
        return _COORDINATE_FUNCS[name](x)
    except NotApplicableError as err:
        return Skipped(name, str(err))


def _run_coordinates(m: ValidatedMatrix, config: AuditConfig) -> dict:
    """Per-coordinate tests in battery order; AD and DP share one pass when both run."""
    wanted = [t for t in COORDINATE_TESTS if t in config.tests]
    fused: dict = {}
    if {"anderson_darling", "dagostino_pearson"} <= set(wanted) and m.shape[0] >= DP_MIN_ROWS:
        ad, dp = anderson_darling_dagostino_pearson(m, threshold=config.threshold)
        fused = {"anderson_darling": ad, "dagostino_pearson": dp}
    return {t: fused[t] if t in fused else _run_coordinate(t, m, config) for t in wanted}


def _full_multivariate(x: np.ndarray, config: AuditConfig) -> dict:
    wanted = [t for t in ("mardia", "henze_zirkler") if t in config.tests]
    if not wanted:
        return {}
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
    which = tuple("hz" if t == "henze_zirkler" else t for t in wanted)
    out: dict = {"_note": note} if note else {}
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
        out.update({t: Skipped(t, reason) for t in wanted})
        return out
    if m is not None:
        out["mardia"] = m
    if h is not None:
        out["henze_zirkler"] = h
    return out


def _verdict(view: ViewAudit, config: AuditConfig) -> Verdict:
    alpha = config.alpha
    reasons: list[str] = []
    ad = view.coordinates.get("anderson_darling")
    dp = view.coordinates.get("dagostino_pearson")
    paper: bool | None = None
    if isinstance(ad, CoordinateTestResult) and isinstance(dp, CoordinateTestResult):
        if ad.n_tested and dp.n_tested:
            ad_mean = float(np.mean(ad.statistics))
            dp_mean = float(np.mean(dp.pvalues))
            ok_ad, ok_dp = ad_mean < config.threshold, dp_mean > alpha
            paper = ok_ad and ok_dp
            reasons.append(
                f"paper rule: mean A^2 {ad_mean:.3g} {'<' if ok_ad else '>='} "
                f"{config.threshold} and mean DP p {dp_mean:.3g} "
                f"{'>' if ok_dp else '<='} {alpha}"
            )
    if paper is None:
        reasons.append("paper rule: not decided (Anderson-Darling or D'Agostino-Pearson skipped)")

    # The calibrated verdict is one test at level alpha (union bound): half of
    # alpha is spread over the pass-fraction checks (lower binomial tail, one
    # sided) and half goes to a Holm family over every multivariate p-value.
    families: list[tuple[str, CoordinateTestResult]] = [
        (name, r)
        for name, r in view.coordinates.items()
        if isinstance(r, CoordinateTestResult) and r.n_tested
    ]
    if isinstance(view.projections, ProjectionResult):
        families += [
            (f"projections.{name}", r)
            for name, r in view.projections.tests.items()
            if isinstance(r, CoordinateTestResult) and r.n_tested
        ]
    pvals: list[tuple[str, float]] = []
    for r in view.multivariate.values():
        if isinstance(r, MardiaResult):
            pvals += [
                ("mardia skewness", r.skewness.pvalue),
                ("mardia kurtosis", r.kurtosis.pvalue),
            ]
        elif isinstance(r, HenzeZirklerResult):
            pvals.append(("henze_zirkler", r.pvalue))
    if isinstance(view.subspaces, SubspaceResult):
        s = view.subspaces
        for label, arr in (
            ("subspace mardia skewness", s.mardia_skewness_pvalues),
            ("subspace mardia kurtosis", s.mardia_kurtosis_pvalues),
            ("subspace henze_zirkler", s.henze_zirkler_pvalues),
        ):
            pvals += [(label, float(p)) for p in arr if np.isfinite(p)]
    calibrated = True
    parts = len(families) + (1 if pvals else 0)
    band_budget = alpha / 2.0 if pvals else alpha
    holm_alpha = alpha / 2.0 if families else alpha
    for name, r in families:
        frac = r.pass_fraction(alpha)
        expected = r.expected_pass_fraction(alpha)
        tail = band_budget / len(families)
        floor = float(stats.binom.ppf(tail, r.n_tested, expected) / r.n_tested)
        if frac < floor:
            calibrated = False
            reasons.append(
                f"{name}: pass fraction {frac:.1%} below {floor:.1%}, the lower "
                f"{tail:.2g} binomial quantile for {r.n_tested} tests at {expected:.1%}"
            )
    if pvals:
        labels = [lab for lab, _ in pvals]
        rejected = reject(np.array([p for _, p in pvals]), holm_alpha, method="holm")
        if rejected.any():
            calibrated = False
            hit = sorted({labels[i] for i in np.flatnonzero(rejected)})
            reasons.append(
                f"multivariate: {int(rejected.sum())} of {len(pvals)} p-values rejected "
                f"after Holm at {holm_alpha:.3g} ({', '.join(hit)})"
            )
    checked = parts
    calibrated_flag: bool | None = calibrated if checked else None
    if calibrated_flag:
        reasons.append(
            "calibrated: no pass fraction below its binomial floor and no multivariate "
            f"rejection after Holm (one level-{alpha} decision over {checked} checks)"
        )
    elif calibrated_flag is None:
        reasons.append("calibrated: not decided (no test ran)")
    headline = paper if config.verdict == "paper" else calibrated_flag
    return Verdict(headline, paper, calibrated_flag, tuple(reasons))


def _subspaces(m: np.ndarray, config: AuditConfig, notes: list[str]) -> SubspaceResult | Skipped:
    if m.shape[1] <= config.subspace_dim:
        return Skipped(
            "subspaces",
            f"d = {m.shape[1]} <= k = {config.subspace_dim}: every k-dim subspace is the "
            "full view (see the full-view tests)",
        )
    sub, sub_note = _subsample(m, config.multivariate_max_rows, config.seed)
    which = tuple(
        "hz" if t == "henze_zirkler" else t
        for t in ("mardia", "henze_zirkler")
        if t in config.tests
    )
    try:
        result = subspace_tests(
            sub,
            k=config.subspace_dim,
            n_subspaces=config.subspaces,
            seed=config.seed,
            which=which,
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
        subspaces = _subspaces(m, config, notes)
    projections: ProjectionResult | Skipped | None = None
    if "random projections" in steps:
        tick("random projections")
        from .projections import projection_tests

        try:
            projections = projection_tests(
                valid,
                n_projections=config.projections,
                seed=config.seed,
                threshold=config.threshold,
            )
        except NotApplicableError as err:
            projections = Skipped("projections", str(err))
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
    return replace(partial, verdict=_verdict(partial, config))


#: ``progress(label, done, total)``: called before each step of :func:`audit`
#: (``done`` steps finished so far) and once at the end with ``done == total``.
ProgressCallback = Callable[[str, int, int], None]


def _view_steps(config: AuditConfig) -> list[str]:
    """List the steps :func:`_audit_view` reports, in order, for one view."""
    steps = ["norms"] if "norms" in config.tests else []
    if any(t in config.tests for t in COORDINATE_TESTS):
        steps.append("per-coordinate tests")
    if {"mardia", "henze_zirkler"} & set(config.tests):
        steps.append("full-view multivariate tests")
        if config.subspaces:
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
    return AuditResult(
        config=cfg, views=views, check=check, n_input=n_input, notes=tuple(notes), matrix=x
    )
