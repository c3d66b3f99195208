"""Gate evaluation: a report model checked against a :class:`GateConfig`.

:func:`evaluate_gates` checks a report model (the dict of
``docs/json-contract.md``, from :func:`gaussaudit.workflows.audit_file` or a saved
JSON report) view by view and returns a :class:`GateResult`; :func:`check_file`
and :func:`check_array` audit and evaluate in one call.

Every gate is evaluated once per audited view. A gate that is not set (``None``,
an empty ``no_rejection``, ``require_verdict = "none"``) does not appear. Gates
fail closed: a measurement that is missing (the test was skipped, or a verdict
is undecided) fails unless ``on_skip = "pass"``; a measurement that is not a
finite number (or, for a verdict, not true/false) always fails. The outcome's
``detail`` says why.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .._values import finite_number, short_repr
from ..errors import UsageError
from ..stats.tests import test_spec
from .config import GateConfig

__all__ = ["GateOutcome", "GateResult", "check_array", "check_file", "evaluate_gates"]


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
        from .._values import clean

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


def _entry(view: Any, *path: str) -> tuple[dict | None, str | None]:
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
    raw = None if entry is None else entry.get(path[-1])
    if raw is None:
        why = why or f"{label} is null"
        return GateOutcome(
            name, view_name, None, limit, on_skip == "pass", f"{label} not measured ({why})", op
        )
    measured = finite_number(raw)
    if measured is None:  # present but not a finite number: never a pass
        shown = short_repr(raw)
        return GateOutcome(
            name, view_name, None, limit, False, f"{label} is not a finite number ({shown})", op
        )
    ok = measured >= limit if op == ">=" else measured <= limit
    rel = op if ok else ("<" if op == ">=" else ">")
    return GateOutcome(
        name, view_name, raw, limit, bool(ok), f"{label} {_fmt(raw)} {rel} {limit}", op
    )


def _plural(path: str) -> str:
    """JSON path of a subspace family's p-values (``skewness.pvalue`` -> ``skewness.pvalues``)."""
    return path + "s"


def _read_path(entry: dict, dotted: str) -> Any:
    node: Any = entry
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _family_pvalues(view: dict, family: str) -> tuple[list[Any] | None, str | None]:
    """Return the p-values of a ``no_rejection`` family, as the report holds them."""
    head, _, test = family.partition(".")
    if head == "projections":
        entry, why = _entry(view, "projections", test)
        return (None, why) if entry is None else (entry.get("pvalues"), None)
    if head == "subspaces":
        spec = test_spec(test)
        entry, why = _entry(view, "projections", "subspaces", test)
        if entry is None:
            return None, why
        values: list[Any] = []
        for _label, path in spec.pvalues:
            got = _read_path(entry, _plural(path))
            values += got if isinstance(got, list) else [got]
        return values, None
    spec = test_spec(family)
    if spec.family == "coordinates":
        entry, why = _entry(view, "coordinates", family)
        return (None, why) if entry is None else (entry.get("pvalues"), None)
    entry, why = _entry(view, "multivariate", family)
    if entry is None:
        return None, why
    return [_read_path(entry, path) for _label, path in spec.pvalues], None


def _no_rejection_gate(
    family: str, view_name: str, view: dict, alpha: float, correction: str, on_skip: str
) -> GateOutcome:
    import numpy as np

    name = f"no_rejection:{family}"
    pvalues, why = _family_pvalues(view, family)
    if pvalues is not None and not isinstance(pvalues, list):
        pvalues, why = None, "not a list of p-values"
    values = [finite_number(v) for v in (pvalues or [])]
    bad = [v for v, x in zip(pvalues or [], values, strict=True) if x is None and v is not None]
    if bad or any(x is not None and not 0.0 <= x <= 1.0 for x in values):
        return GateOutcome(
            name, view_name, None, 0, False, f"{family}: a p-value is not a number in [0, 1]", "=="
        )
    # A null inside a family is a coordinate or subspace the report says was not
    # tested (constant column, degenerate subspace); it is left out and counted.
    p = np.array([x for x in values if x is not None], dtype=float)
    missing = len(values) - p.size
    if p.size == 0:
        why = why or "no finite p-value"
        return GateOutcome(
            name, view_name, None, 0, on_skip == "pass", f"{family} not measured ({why})", "=="
        )
    if correction == "none":
        rejected = p <= alpha
    else:
        from ..stats.multiplicity import reject

        rejected = reject(p, alpha, method=correction)
    count = int(rejected.sum())
    how = "uncorrected" if correction == "none" else f"after {correction}"
    skipped = f"; {missing} untested (null) left out" if missing else ""
    detail = (
        f"{count} of {p.size} {family} p-values rejected {how} at {alpha} "
        f"(smallest p {_fmt(float(p.min()))}){skipped}"
    )
    return GateOutcome(name, view_name, count, 0, count == 0, detail, "==")


def evaluate_gates(report: Mapping[str, Any], config: GateConfig) -> GateResult:
    """Check a report model against the gates of ``config``.

    Parameters
    ----------
    report : dict
        A report model (from :func:`gaussaudit.workflows.audit_file`, or a JSON report
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
    views = report.get("views") if isinstance(report, Mapping) else None
    if views is None:
        views = {}
    if not isinstance(views, Mapping) or not all(isinstance(v, Mapping) for v in views.values()):
        raise UsageError("the report's 'views' is not a table of views")
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
            verdict = view.get("verdict")
            flag = verdict.get(key) if isinstance(verdict, Mapping) else None
            label = f"{config.require_verdict} verdict"
            if flag is not None and not isinstance(flag, bool):
                outcomes.append(
                    GateOutcome(
                        "require_verdict",
                        view_name,
                        None,
                        True,
                        False,
                        f"{label} is not true/false ({short_repr(flag)})",
                        "==",
                    )
                )
            elif flag is None:
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
                    for r in (verdict.get("reasons") or [])
                    if isinstance(r, str) and r.startswith("paper rule:") == (key == "paper_rule")
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
    from ..workflows import audit_file

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
    from ..report.model import build_report
    from ..stats.battery import audit

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
