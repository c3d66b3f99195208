"""The statistics core: numpy, scipy and statsmodels only, never torch."""

from ._validation import MatrixCheck, ValidatedMatrix, validate
from .battery import TESTS, AuditConfig, AuditResult, Verdict, ViewAudit, audit
from .geometry import VIEWS, make_view, normalize_rows, pca_whiten
from .multiplicity import NullBand, binomial_null_band, reject
from .multivariate import (
    covariance_problem,
    henze_zirkler,
    mardia,
    mardia_henze_zirkler,
    subspace_tests,
)
from .norms import cv_isotropic_gaussian, effective_dimension, effective_rank, norm_concentration
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
    ad_pvalue,
    anderson_darling,
    dagostino_pearson,
    jarque_bera,
    lilliefors,
    shapiro_wilk,
)

__all__ = [
    "AD_THRESHOLD",
    "TESTS",
    "VIEWS",
    "AuditConfig",
    "AuditResult",
    "CoordinateTestResult",
    "HenzeZirklerResult",
    "MardiaResult",
    "MatrixCheck",
    "NormResult",
    "NullBand",
    "ProjectionResult",
    "Skipped",
    "SubspaceResult",
    "ValidatedMatrix",
    "Verdict",
    "ViewAudit",
    "ad_pvalue",
    "anderson_darling",
    "audit",
    "binomial_null_band",
    "covariance_problem",
    "cv_isotropic_gaussian",
    "dagostino_pearson",
    "effective_dimension",
    "effective_rank",
    "henze_zirkler",
    "jarque_bera",
    "lilliefors",
    "make_view",
    "mardia",
    "mardia_henze_zirkler",
    "norm_concentration",
    "normalize_rows",
    "pca_whiten",
    "reject",
    "shapiro_wilk",
    "subspace_tests",
    "validate",
]
