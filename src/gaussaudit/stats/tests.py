"""The one declarative list of tests every layer reads.

Each test of the battery is declared once, as a :class:`TestSpec`: its JSON
key, its family, its labels, the rows it needs, its kernel (imported lazily),
its pass rule and the summary numbers a report, a gate and ``compare`` read.
The battery (:mod:`gaussaudit.stats.battery`), ``--tests`` parsing and help, the
gates, ``compare``, the report model and every renderer take their lists from
here, so adding a per-coordinate test is its kernel plus one entry below.

Families
--------
``norms``
    The thin-shell summary of the row norms (``views.<view>.norms``).
``coordinates``
    A univariate test applied to every coordinate; the kernel takes a
    :class:`~gaussaudit.stats.ValidatedMatrix` and returns a
    :class:`~gaussaudit.stats.results.CoordinateTestResult`
    (``views.<view>.coordinates.<key>``).
``multivariate``
    A test of joint normality on the full view and, when ``subspaces`` is
    set, on random k-dimensional subspaces (``views.<view>.multivariate.<key>``).
``projections``
    The per-coordinate battery on random unit directions; the entry lists the
    tests it applies (``views.<view>.projections.<test>``).

Third-party packages add tests through the entry-point group
``gaussaudit.tests`` (a spec, a list of specs, or a function returning either),
the same door the built-ins use.

Examples
--------
>>> from gaussaudit.stats.tests import REGISTRY, test_spec
>>> test_spec("anderson_darling").short
'AD'
>>> [s.name for s in REGISTRY.specs() if s.family == "coordinates"][:2]
['anderson_darling', 'dagostino_pearson']
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import UnknownNameError
from ..registry import Registry, load_object

__all__ = [
    "AD_THRESHOLD",
    "FAMILIES",
    "REGISTRY",
    "Metric",
    "TestSpec",
    "builtin_specs",
    "coordinate_tests",
    "default_tests",
    "label",
    "multivariate_tests",
    "parse_tests",
    "projection_tests",
    "test_names",
    "test_spec",
]

FAMILIES = ("norms", "coordinates", "multivariate", "projections")
#: The paper's Anderson–Darling pass threshold: 5 % critical value of the
#: modified A*² (D'Agostino & Stephens 1986, Table 4.7), compared with the raw
#: A² as in the paper (PAPER.md §1.3).
AD_THRESHOLD = 0.752
_KERNELS: dict[str, Callable[..., Any]] = {}


@dataclass(frozen=True)
class Metric:
    """One summary number of a test that reports, gates and ``compare`` read.

    Attributes
    ----------
    key : str
        Key in the test's JSON entry (``"pass_fraction"``, ``"mean"``, ...).
    kind : {"fraction", "info", "cv"}
        How ``compare`` treats a change: a pass fraction may not drop, a CV may
        not rise, an ``info`` metric is shown but not gated.
    label : str
        Short label for tables.
    """

    key: str
    kind: str
    label: str


@dataclass(frozen=True)
class TestSpec:
    """Declaration of one test.

    Attributes
    ----------
    name : str
        JSON key (``"anderson_darling"``), also the name ``--tests`` accepts.
    family : str
        One of :data:`FAMILIES`.
    label : str
        Human name (``"Anderson–Darling"``).
    short : str
        Abbreviation for table columns (``"AD"``).
    kernel : str
        ``"module:function"`` computing the test, imported when first used.
    min_rows : int
        Fewest rows the test gives a calibrated answer on; below it the battery
        records the test as skipped.
    pass_rule : {"statistic_below", "pvalue_above", None}
        How one coordinate passes: ``statistic < threshold`` or ``p > alpha``.
    threshold : float or None
        The default threshold of a ``statistic_below`` rule.
    options : tuple of (str, str)
        Keyword arguments of the kernel taken from :class:`AuditConfig`
        fields, as ``(kernel keyword, config field)``.
    fixed : tuple of (str, object)
        Keyword arguments the battery always passes to the kernel.
    metrics : tuple of Metric
        Summary numbers beside the per-coordinate arrays.
    pvalues : tuple of (str, str)
        For multivariate tests: ``(label, attribute path)`` of each p-value of
        the result, e.g. ``("mardia skewness", "skewness.pvalue")``; the JSON
        entry holds the same paths.
    joint : str or None
        Tests with the same ``joint`` name are computed by one shared kernel
        when they run together (``"gram"``: Mardia and Henze–Zirkler share the
        Gram blocks).
    subspaces : bool
        Multivariate tests that also run on random subspaces.
    projections : tuple of str
        For the ``projections`` entry: the per-direction tests it applies.
    default : bool
        Part of the default battery (``--tests all``).
    doc : str
        Page under ``docs/tests/``.
    override : bool
        A plugin entry that deliberately replaces a built-in of the same name.
    """

    __test__ = False  # not a pytest test class, despite the name

    name: str
    family: str
    label: str
    short: str
    kernel: str = ""
    min_rows: int = 3
    pass_rule: str | None = "pvalue_above"
    threshold: float | None = None
    options: tuple[tuple[str, str], ...] = ()
    fixed: tuple[tuple[str, Any], ...] = ()
    metrics: tuple[Metric, ...] = (Metric("pass_fraction", "fraction", "% normal"),)
    pvalues: tuple[tuple[str, str], ...] = ()
    joint: str | None = None
    subspaces: bool = False
    projections: tuple[str, ...] = ()
    default: bool = True
    doc: str = ""
    override: bool = False

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"test {self.name!r}: family must be one of {FAMILIES}")

    def load_kernel(self) -> Callable[..., Any]:
        """Import and return the kernel (cached)."""
        if self.kernel not in _KERNELS:
            _KERNELS[self.kernel] = load_object(self.kernel)
        return _KERNELS[self.kernel]

    def kernel_options(self, config: Any) -> dict[str, Any]:
        """Keyword arguments for the kernel, read from an ``AuditConfig``."""
        return {**dict(self.fixed), **{kw: getattr(config, attr) for kw, attr in self.options}}

    def result_pvalues(self, result: Any) -> list[tuple[str, float]]:
        """``(label, p-value)`` of a multivariate result, for the verdict."""
        return [(label, float(operator.attrgetter(path)(result))) for label, path in self.pvalues]


def _coordinate(name: str, label: str, short: str, kernel: str, **kw: Any) -> TestSpec:
    return TestSpec(name, "coordinates", label, short, f"gaussaudit.stats.{kernel}", **kw)


_PASS = Metric("pass_fraction", "fraction", "% normal")
_BUILTINS: tuple[TestSpec, ...] = (
    TestSpec(
        "norms",
        "norms",
        "Norm concentration",
        "CV",
        "gaussaudit.stats.norms:norm_concentration",
        min_rows=2,
        pass_rule=None,
        metrics=(Metric("cv", "cv", "CV of norms"),),
        doc="norms.md",
    ),
    _coordinate(
        "anderson_darling",
        "Anderson–Darling",
        "AD",
        "univariate:anderson_darling",
        min_rows=3,
        pass_rule="statistic_below",
        threshold=AD_THRESHOLD,
        options=(("threshold", "threshold"),),
        metrics=(Metric("mean", "info", "avg A²"), _PASS),
        doc="anderson-darling.md",
    ),
    _coordinate(
        "dagostino_pearson",
        "D'Agostino–Pearson",
        "DP",
        "univariate:dagostino_pearson",
        min_rows=20,
        metrics=(Metric("mean_pvalue", "info", "avg p"), _PASS),
        doc="dagostino-pearson.md",
    ),
    _coordinate(
        "shapiro_wilk",
        "Shapiro–Wilk",
        "SW",
        "shapiro_lilliefors:shapiro_wilk",
        options=(("seed", "seed"),),
        doc="shapiro-wilk.md",
    ),
    _coordinate(
        "jarque_bera",
        "Jarque–Bera",
        "JB",
        "univariate:jarque_bera",
        min_rows=20,  # the chi2(2) law is far off below (0.2 % rejections at n = 8)
        doc="jarque-bera.md",
    ),
    _coordinate(
        "lilliefors",
        "Lilliefors",
        "Lilliefors",
        "shapiro_lilliefors:lilliefors",
        doc="lilliefors.md",
    ),
    _coordinate(
        "cramer_von_mises",
        "Cramér–von Mises",
        "CvM",
        "cramer_von_mises:cramer_von_mises",
        min_rows=8,
        default=False,
        doc="cramer-von-mises.md",
    ),
    TestSpec(
        "mardia",
        "multivariate",
        "Mardia",
        "Mardia",
        "gaussaudit.stats.multivariate:mardia",
        min_rows=20,
        pvalues=(("mardia skewness", "skewness.pvalue"), ("mardia kurtosis", "kurtosis.pvalue")),
        metrics=(),
        joint="gram",
        subspaces=True,
        doc="mardia.md",
    ),
    TestSpec(
        "henze_zirkler",
        "multivariate",
        "Henze–Zirkler",
        "HZ",
        "gaussaudit.stats.multivariate:henze_zirkler",
        min_rows=20,
        pvalues=(("henze_zirkler", "pvalue"),),
        metrics=(),
        joint="gram",
        subspaces=True,
        doc="henze-zirkler.md",
    ),
    TestSpec(
        "energy",
        "multivariate",
        "Energy",
        "E",
        "gaussaudit.stats.energy:energy_test",
        min_rows=8,
        options=(("seed", "seed"),),
        pvalues=(("energy", "pvalue"),),
        metrics=(),
        subspaces=True,
        default=False,
        doc="energy.md",
    ),
    TestSpec(
        "doornik_hansen",
        "multivariate",
        "Doornik–Hansen",
        "DH",
        "gaussaudit.stats.doornik_hansen:doornik_hansen",
        min_rows=8,
        pvalues=(("doornik_hansen", "pvalue"),),
        metrics=(),
        subspaces=True,
        default=False,
        doc="doornik-hansen.md",
    ),
    TestSpec(
        "royston",
        "multivariate",
        "Royston",
        "Royston",
        "gaussaudit.stats.royston:royston",
        min_rows=8,
        options=(("seed", "seed"),),
        # Shapiro-Wilk W for every n: the MVN package's Shapiro-Francia switch
        # for leptokurtic columns rejects Gaussian data 6-7 % of the time at 5 %.
        fixed=(("francia", False),),
        pvalues=(("royston", "pvalue"),),
        metrics=(),
        subspaces=True,
        default=False,
        doc="royston.md",
    ),
    TestSpec(
        "projections",
        "projections",
        "Random projections",
        "proj",
        "gaussaudit.stats.projections:projection_tests",
        min_rows=3,
        pass_rule=None,
        projections=("anderson_darling", "dagostino_pearson", "epps_pulley"),
        metrics=(),
        doc="projections.md",
    ),
)


def builtin_specs() -> tuple[TestSpec, ...]:
    """Return the built-in tests (loaded through the same hook as plugins)."""
    return _BUILTINS


#: The registry of tests: the built-ins, then ``gaussaudit.tests`` entry points. A
#: plugin test with a built-in's name is an error unless its spec sets ``override``.
REGISTRY: Registry[TestSpec] = Registry(
    "test", "gaussaudit.tests", builtins="gaussaudit.stats.tests:builtin_specs"
)

#: Labels of tests that only run inside the projection battery.
_PROJECTION_ONLY = {"epps_pulley": ("Epps–Pulley", "EP")}


def test_spec(name: str) -> TestSpec:
    """Return the spec of test ``name`` (a JSON key).

    Raises
    ------
    UnknownNameError
        With the closest names suggested.
    """
    return REGISTRY.resolve(name)[0]


def test_names() -> tuple[str, ...]:
    """Return every test name in battery order (what ``--tests`` accepts besides ``all``)."""
    return tuple(s.name for s in REGISTRY.specs())


def default_tests() -> tuple[str, ...]:
    """Return the tests of the default battery (``--tests all``)."""
    return tuple(s.name for s in REGISTRY.specs() if s.default)


def _of_family(family: str, names: Iterable[str] | None) -> tuple[TestSpec, ...]:
    wanted = None if names is None else set(names)
    return tuple(
        s for s in REGISTRY.specs() if s.family == family and (wanted is None or s.name in wanted)
    )


def coordinate_tests(names: Iterable[str] | None = None) -> tuple[TestSpec, ...]:
    """Per-coordinate test specs in battery order (only ``names`` when given)."""
    return _of_family("coordinates", names)


def multivariate_tests(names: Iterable[str] | None = None) -> tuple[TestSpec, ...]:
    """Multivariate test specs in battery order (only ``names`` when given)."""
    return _of_family("multivariate", names)


def projection_tests() -> tuple[str, ...]:
    """Names of the tests applied to random projections."""
    return tuple(t for s in _of_family("projections", None) for t in s.projections)


def label(name: str, *, short: bool = False) -> str:
    """Human label of a test or projection test (``short``: the abbreviation)."""
    if name in _PROJECTION_ONLY:
        return _PROJECTION_ONLY[name][1 if short else 0]
    spec = test_spec(name)
    return spec.short if short else spec.label


def parse_tests(text: str | Iterable[str]) -> tuple[str, ...]:
    """Parse ``"anderson_darling,norms"`` (or a list, or ``"all"``) into test names.

    ``"all"`` is the default battery; tests that are not part of it are named
    explicitly. Duplicates are dropped, order kept.

    Raises
    ------
    UnknownNameError
        For a name that is not a test.
    """
    items = [t.strip() for t in text.split(",")] if isinstance(text, str) else list(text)
    items = [t for t in items if t]
    names = test_names()
    out: list[str] = []
    for item in items:
        if item == "all":
            out += default_tests()
        elif item in names:
            out.append(item)
        else:
            raise UnknownNameError("test", item, (*names, "all"))
    return tuple(dict.fromkeys(out))
