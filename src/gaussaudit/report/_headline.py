"""One headline per view: the three verdicts reconciled, what failed and by how much.

Every human-facing renderer (terminal, Markdown, HTML) leads with these lines,
built here from the report model alone, so the formats say the same thing in
the same words:

- the **headline verdict** (the rule named by ``config.verdict``, the paper's by
  default) and, when the verdicts differ, which one answers what
  ("significant but negligible": the calibrated tests detect a departure, the
  departure's size is within the margin);
- **what failed, by how much**: the paper rule's mean statistic against its
  threshold, the calibrated verdict's worst pass fraction against its floor,
  the Holm families' rejections;
- **the departure** with its 95 % interval against the margin (the practical
  verdict), and the **diagnosis** in words;
- **every threshold in words**: :mod:`gaussaudit.report._reasons`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ._format import num, verdict_word
from ._reasons import _coord, parse_reasons

__all__ = [
    "DIAGNOSIS_LABELS",
    "ViewHeadline",
    "departure_text",
    "diagnosis_sentences",
    "effective_dimension_text",
    "headline_summary",
    "humanise",
    "view_headline",
    "view_headlines",
]

#: Diagnosis codes (``views.<view>.diagnosis[].code``) in words.
DIAGNOSIS_LABELS = {
    "heavy_tails": "heavy tails",
    "skew": "skew",
    "post_relu": "mass at zero (post-ReLU)",
    "clusters": "clusters",
    "scale_mixture": "scale mixture",
    "quantised": "quantised values",
}

#: Findings that explain the others lead (sort is stable: the rest keep their order).
_LEAD = ("quantised", "post_relu", "clusters")

_DOTTED_KEY = re.compile(r"\s*\((?:[a-z_]+\.)+[a-z_]+\)|(?<![\w.])(?:[a-z_]+\.){2,}[a-z_]+")


def humanise(text: str) -> str:
    """Drop internal dotted keys (``(departure.value)``) from a sentence meant for people.

    Examples
    --------
    >>> humanise("judge it by its size (departure.value) rather than by p-values.")
    'judge it by its size rather than by p-values.'
    """
    return _DOTTED_KEY.sub("", text)


def _paper_failures(view: dict, config: dict) -> list[str]:
    thr = config.get("ad_threshold", 0.752)
    alpha = config.get("alpha", 0.05)
    out = []
    ad = _coord(view, "anderson_darling").get("mean")
    dp = _coord(view, "dagostino_pearson").get("mean_pvalue")
    if ad is not None and not ad < thr:
        out.append(f"mean A² {num(ad)} (needs < {thr})")
    if dp is not None and not dp > alpha:
        out.append(f"mean DP p {num(dp)} (needs > {alpha})")
    return out


def departure_text(view: dict) -> str:
    """Describe the departure and its 95 % interval against the margin (``""`` if unmeasured).

    Examples
    --------
    >>> departure_text({"departure": {"value": 0.0812, "ci_low": 0.075, "ci_high": 0.088,
    ...                               "margin": 0.02}})
    'departure W1 0.081 [0.075, 0.088] > margin 0.02'
    """
    dep = view.get("departure") or {}
    if "skipped" in dep or dep.get("value") is None:
        return ""
    lo, hi, margin = dep.get("ci_low"), dep.get("ci_high"), dep.get("margin")
    if margin is None or lo is None or hi is None:
        op = "vs"
    elif hi <= margin:
        op = "≤"
    elif lo > margin:
        op = ">"
    else:
        op = "straddles"
    return f"departure W1 {dep['value']:.3f} [{_ci(lo)}, {_ci(hi)}] {op} margin {num(margin)}"


def _ci(x: float | None) -> str:
    return "?" if x is None else f"{x:.3f}"


def effective_dimension_text(view: dict) -> str:
    """``"effective dimension 2.93 of 512"`` (participation ratio), or ``""``.

    Examples
    --------
    >>> effective_dimension_text({"d": 512, "norms": {"effective_dimension": 2.9312}})
    'effective dimension 2.93 of 512'
    """
    norms = view.get("norms") or {}
    value = norms.get("effective_dimension")
    if value is None or "skipped" in norms:
        return ""
    return f"effective dimension {num(value)} of {view.get('d')}"


def _sphere_text(view: dict) -> str:
    sphere = view.get("sphere") or {}
    if "skipped" in sphere or sphere.get("consistent") is None:
        return ""
    p = sphere.get("pvalue")
    p_text = "p ≈ 0" if p == 0 else f"p {num(p)}"
    if sphere["consistent"]:
        return f"consistent with a normalised Gaussian (sphere {p_text})"
    return f"unlike a normalised Gaussian (sphere {p_text})"


@dataclass(frozen=True)
class ViewHeadline:
    """The headline of one view.

    Attributes
    ----------
    view : str
        The view's name.
    verdict : bool or None
        The headline verdict (the rule ``config.verdict`` names).
    status : str
        ``pass``, ``fail``, ``na`` or ``negligible`` (a detected departure
        within the margin): the colour the renderers give the phrase.
    phrase : str
        The verdict in words, saying which verdict answers what when they
        differ (``"Gaussian by the paper rule — significant but negligible: departure
        below margin"``).
    failed : tuple of str
        What failed, by how much, most telling first.
    departure : str
        The departure with its 95 % interval against the margin.
    diagnosis : tuple of str
        The kinds of departure found, in words.
    sentence : str
        The first diagnosis sentence (what it is and what to do).
    sphere : str
        The sphere reference's answer, for normalised views.
    effective_dimension : str
        ``"effective dimension 2.93 of 512"``.
    flags : dict
        ``paper_rule``, ``calibrated`` and ``practically_gaussian``.
    """

    view: str
    verdict: bool | None
    status: str
    phrase: str
    failed: tuple[str, ...] = ()
    departure: str = ""
    diagnosis: tuple[str, ...] = ()
    sentence: str = ""
    sphere: str = ""
    effective_dimension: str = ""
    flags: dict[str, Any] = field(default_factory=dict)

    def details(self, *, failures: int = 1) -> str:
        """Return the rest of the headline line: what failed; departure: diagnosis.

        Parameters
        ----------
        failures : int
            How many failures to name; the others are counted.
        """
        parts = []
        if self.failed:
            shown = list(self.failed[:failures])
            more = len(self.failed) - len(shown)
            parts.append(", ".join(shown) + (f" (+{more} more)" if more else ""))
        dep = self.departure
        if dep and self.diagnosis:
            dep += ": " + ", ".join(self.diagnosis)
        elif self.diagnosis:
            dep = ", ".join(self.diagnosis)
        if dep:
            parts.append(dep)
        if self.sphere:
            parts.append(self.sphere)
        return "; ".join(parts)

    def line(self, *, failures: int = 1) -> str:
        """Return the whole headline as one line of plain text.

        Examples
        --------
        >>> ViewHeadline("raw", False, "fail", "not Gaussian", ("mean A² 2.1 (needs < 0.752)",)
        ...              ).line()
        'raw: not Gaussian; mean A² 2.1 (needs < 0.752)'
        """
        rest = self.details(failures=failures)
        return f"{self.view}: {self.phrase}" + (f"; {rest}" if rest else "")


def _qualifier(rule: str, paper: Any, calibrated: Any, practical: Any, measured: bool) -> str:
    """Why the verdicts differ, in words (``""`` when they agree)."""
    if calibrated is False and practical is True:
        return "significant but negligible: departure below margin"
    if calibrated is False and practical is None and measured:
        return "significant, size undecided: interval straddles margin"
    if calibrated is True and practical is False:
        return "not significant, but departure above margin"
    if paper is None or calibrated is None or paper == calibrated:
        return ""
    if rule == "paper":
        return "calibrated checks detect a departure" if paper else "no calibrated check rejects"
    return "the paper rule's means fail" if calibrated else "the paper rule's means pass"


def _phrase(rule: str, paper: Any, calibrated: Any, practical: Any, measured: bool) -> str:
    headline = paper if rule == "paper" else calibrated
    rule_name = "the paper rule" if rule == "paper" else "the calibrated verdict"
    word = verdict_word(headline)
    qualifier = _qualifier(rule, paper, calibrated, practical, measured)
    if headline is None:
        other = calibrated if rule == "paper" else paper
        if other is None:
            return "undecided"
        if not qualifier.startswith(("significant", "not significant")):
            other_name = "calibrated" if rule == "paper" else "paper rule"
            qualifier = f"{other_name}: {verdict_word(other)}"
        return f"undecided by {rule_name} — {qualifier}"
    return f"{word} by {rule_name} — {qualifier}" if qualifier else word


def view_headline(name: str, view: dict, config: dict) -> ViewHeadline:
    """Build the headline of one view of the report model.

    Parameters
    ----------
    name : str
        The view's name.
    view : dict
        ``report["views"][name]``.
    config : dict
        ``report["config"]``.

    Returns
    -------
    ViewHeadline

    Examples
    --------
    >>> view = {"d": 4, "verdict": {"gaussian": True, "paper_rule": True, "calibrated": False,
    ...         "practically_gaussian": True, "reasons": []},
    ...         "departure": {"value": 0.004, "ci_low": 0.002, "ci_high": 0.006, "margin": 0.02}}
    >>> view_headline("whitened", view, {"verdict": "paper"}).phrase
    'Gaussian by the paper rule — significant but negligible: departure below margin'
    """
    verdict = view.get("verdict") or {}
    rule = config.get("verdict", "paper")
    paper, calibrated = verdict.get("paper_rule"), verdict.get("calibrated")
    practical = verdict.get("practically_gaussian")
    headline = verdict.get("gaussian")
    departure = departure_text(view)
    phrase = _phrase(rule, paper, calibrated, practical, bool(departure))
    if calibrated is False and practical is True:
        status = "negligible"
    else:
        status = {True: "pass", False: "fail", None: "na"}[headline]

    floors, holms = parse_reasons(list(verdict.get("reasons") or []))
    paper_failed = _paper_failures(view, config) if paper is False else []
    floors.sort(key=lambda f: f.frac - f.floor)
    calibrated_failed = [f.text() for f in floors] + [h.text() for h in holms]
    if paper is not False and calibrated_failed:  # say whose failures these are, once
        calibrated_failed[0] = f"calibrated: {calibrated_failed[0]}"
    first, second = (
        (paper_failed, calibrated_failed) if rule == "paper" else (calibrated_failed, paper_failed)
    )
    failed = first[:1] + second[:1] + first[1:] + second[1:]
    findings = [f for f in view.get("diagnosis") or [] if isinstance(f, dict)]
    # the most specific explanation first (a post-ReLU mass at zero explains its tails)
    findings.sort(key=lambda f: _LEAD.index(f.get("code")) if f.get("code") in _LEAD else 99)
    labels = tuple(
        DIAGNOSIS_LABELS.get(f.get("code", ""), str(f.get("code", "")).replace("_", " "))
        for f in findings
    )
    sentence = humanise(findings[0]["message"]) if findings and findings[0].get("message") else ""
    return ViewHeadline(
        view=name,
        verdict=headline,
        status=status,
        phrase=phrase,
        failed=tuple(failed),
        departure=departure,
        diagnosis=labels,
        sentence=sentence,
        sphere=_sphere_text(view),
        effective_dimension=effective_dimension_text(view),
        flags={
            "paper_rule": paper,
            "calibrated": calibrated,
            "practically_gaussian": practical,
        },
    )


def _split_advice(sentence: str) -> tuple[str, str]:
    """Split a finding at its first ``"; "`` outside parentheses: (what was found, advice)."""
    depth = 0
    for i, ch in enumerate(sentence):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0 and sentence.startswith("; ", i):
            return sentence[:i], sentence[i + 2 :]
    return sentence, ""


def diagnosis_sentences(report: dict) -> list[tuple[str, str]]:
    """(view, first diagnosis sentence) per view, advice already given once left out.

    A finding's sentence is what was found, then (after ``"; "``) what to do;
    when several views have the same advice it is written only the first time.

    Examples
    --------
    >>> finding = {"code": "skew", "message": "Skew: median 0.2; check the activation."}
    >>> report = {"config": {}, "views": {"raw": {"diagnosis": [finding]},
    ...           "whitened": {"diagnosis": [finding]}}}
    >>> diagnosis_sentences(report)
    [('raw', 'Skew: median 0.2; check the activation.'), ('whitened', 'Skew: median 0.2.')]
    """
    out, given = [], set()
    for head in view_headlines(report):
        if not head.sentence:
            continue
        found, advice = _split_advice(head.sentence)
        if advice and advice in given:
            out.append((head.view, found.rstrip(".") + "."))
        else:
            given.add(advice)
            out.append((head.view, head.sentence))
    return out


def view_headlines(report: dict) -> list[ViewHeadline]:
    """Return the headline of every view of a report, in report order."""
    return [view_headline(n, v, report["config"]) for n, v in report["views"].items()]


def headline_summary(report: dict, *, word: bool = True) -> str:
    """Say the report's verdict in one sentence, naming the rule it comes from.

    Examples
    --------
    >>> report = {"config": {"verdict": "paper"}, "verdict": {"gaussian": False},
    ...           "views": {"raw": {"verdict": {"gaussian": False}},
    ...                     "whitened": {"verdict": {"gaussian": True}}}}
    >>> headline_summary(report)
    'not Gaussian: 1 of 2 views fail the paper rule (the headline verdict)'
    >>> headline_summary(report, word=False)
    '1 of 2 views fail the paper rule (the headline verdict)'
    """
    rule = report["config"].get("verdict", "paper")
    rule_name = "the paper rule" if rule == "paper" else "the calibrated verdict"
    flags = [(v.get("verdict") or {}).get("gaussian") for v in report["views"].values()]
    n = len(flags)
    failing = sum(1 for f in flags if f is False)
    undecided = sum(1 for f in flags if f is None)
    if failing:
        what = f"{failing} of {n} view{'s' if n != 1 else ''} fail{'s' if n == 1 else ''}"
    elif undecided:
        what = f"{undecided} of {n} view{'s' if n != 1 else ''} undecided by"
    else:
        what = "every view passes" if n > 1 else "the view passes"
    text = f"{what} {rule_name} (the headline verdict)"
    return f"{verdict_word(report['verdict']['gaussian'])}: {text}" if word else text
