"""The statistics core: numpy, scipy and statsmodels only, never torch.

Names load lazily on first use (PEP 562), so importing a light submodule such
as :mod:`gaussaudit.stats.tests` (the test registry) or
:mod:`gaussaudit.stats.config` does not import scipy.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "MatrixCheck": "_validation",
    "ValidatedMatrix": "_validation",
    "validate": "_validation",
    "TESTS": "battery",
    "AuditResult": "battery",
    "ViewAudit": "battery",
    "audit": "battery",
    "AuditConfig": "config",
    "VIEWS": "views",
    "make_view": "views",
    "normalize_rows": "views",
    "pca_whiten": "views",
    "NullBand": "multiplicity",
    "binomial_null_band": "multiplicity",
    "reject": "multiplicity",
    "covariance_problem": "multivariate",
    "henze_zirkler": "multivariate",
    "mardia": "multivariate",
    "mardia_henze_zirkler": "multivariate",
    "subspace_tests": "multivariate",
    "cv_isotropic_gaussian": "norms",
    "effective_dimension": "norms",
    "effective_rank": "norms",
    "norm_concentration": "norms",
    "CoordinateTestResult": "results",
    "HenzeZirklerResult": "results",
    "MardiaResult": "results",
    "NormResult": "results",
    "ProjectionResult": "results",
    "Skipped": "results",
    "SubspaceResult": "results",
    "AD_THRESHOLD": "tests",
    "ad_pvalue": "univariate",
    "anderson_darling": "univariate",
    "dagostino_pearson": "univariate",
    "jarque_bera": "univariate",
    "lilliefors": "shapiro_lilliefors",
    "shapiro_wilk": "shapiro_lilliefors",
    "Verdict": "verdict",
}

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


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
