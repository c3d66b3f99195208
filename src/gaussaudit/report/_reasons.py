"""The verdict's reasons read back, and every threshold said in words.

The calibrated verdict's floors and Holm levels are read from its reasons
(the report keeps no other copy of them): :func:`parse_reasons`. The split of
alpha between the checks is the rule of :mod:`gaussaudit.stats.verdict`,
restated here in words only (:func:`threshold_notes`), and the calibrated
verdict's many near-identical reasons collapse to one line for the floors and
one per Holm family (:func:`calibrated_details`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from ._format import num
from ._labels import label, short

__all__ = ["calibrated_details", "parse_reasons", "threshold_notes"]

_FLOOR = re.compile(
    r"^(?P<family>[\w.\[\]]+): pass fraction (?P<frac>[\d.]+)% below (?P<floor>[\d.]+)%, "
    r"the lower (?P<tail>[\d.eE+-]+) (?:binomial )?quantile for (?P<n>\d+) tests"
)
_HOLM = re.compile(
    r"^(?P<group>coordinates|multivariate): (?P<k>\d+) of (?P<m>\d+) p-values rejected "
    r"after Holm at (?P<level>[\d.eE+-]+)(?: \((?P<which>.*)\))?"
)


@dataclass(frozen=True)
class _Floor:
    family: str
    frac: float
    floor: float
    tail: float
    n: int

    @property
    def label(self) -> str:
        if self.family.startswith("projections."):
            return f"{short(self.family.split('.', 1)[1])} on random directions"
        return short(self.family)

    @property
    def unit(self) -> str:
        return "directions" if self.family.startswith("projections.") else "coordinates"

    def text(self) -> str:
        return (
            f"{self.label} passes {self.frac:.1f}% of {self.n} {self.unit} "
            f"(needs ≥ {self.floor:.1f}%)"
        )


@dataclass(frozen=True)
class _Holm:
    group: str
    k: int
    m: int
    level: float
    which: str

    def text(self) -> str:
        if self.group == "coordinates":
            return f"AD rejects {self.k} of {self.m} coordinates after Holm"
        return f"{self.k} of {self.m} multivariate p-values rejected after Holm"


def parse_reasons(reasons: list[str]) -> tuple[list[_Floor], list[_Holm]]:
    """Read the calibrated verdict's failed floors and Holm families from its reasons.

    Examples
    --------
    >>> floors, holms = parse_reasons([
    ...     "jarque_bera: pass fraction 29.7% below 85.9%, the lower 0.0031 binomial "
    ...     "quantile for 64 tests at 95.0%",
    ...     "multivariate: 3 of 51 p-values rejected after Holm at 0.0125 (norm CV)"])
    >>> floors[0].text(), holms[0].level
    ('JB passes 29.7% of 64 coordinates (needs ≥ 85.9%)', 0.0125)
    """
    floors, holms = [], []
    for reason in reasons:
        m = _FLOOR.match(reason)
        if m:
            floors.append(
                _Floor(
                    m["family"], float(m["frac"]), float(m["floor"]), float(m["tail"]), int(m["n"])
                )
            )
            continue
        h = _HOLM.match(reason)
        if h:
            holms.append(
                _Holm(h["group"], int(h["k"]), int(h["m"]), float(h["level"]), h["which"] or "")
            )
    return floors, holms


def _coord(view: dict, test: str) -> dict:
    entry = (view.get("coordinates") or {}).get(test) or {}
    return {} if "skipped" in entry else entry


_SHARES = {
    Fraction(1): "all",
    Fraction(1, 2): "half",
    Fraction(1, 3): "a third",
    Fraction(2, 3): "two thirds",
    Fraction(1, 4): "a quarter",
    Fraction(3, 4): "three quarters",
}


def _share(part: int, total: int) -> str:
    frac = Fraction(part, total)
    return _SHARES.get(frac, f"{frac.numerator}/{frac.denominator}")


def _families(view: dict) -> int:
    count = 0
    for entry in (view.get("coordinates") or {}).values():
        if isinstance(entry, dict) and entry.get("n_tested"):
            count += 1
    for entry in (view.get("projections") or {}).values():
        if isinstance(entry, dict) and entry.get("n_tested") and "pass_fraction" in entry:
            count += 1
    return count


def _has_multivariate(view: dict) -> bool:
    for entry in (view.get("multivariate") or {}).values():
        if isinstance(entry, dict) and "skipped" not in entry:
            return True
    sub = (view.get("projections") or {}).get("subspaces") or {}
    if sub and "skipped" not in sub:
        return True
    norm_cv = (view.get("calibration") or {}).get("norm_cv") or {}
    return bool(norm_cv) and "skipped" not in norm_cv


def _alpha_split(view: dict, alpha: float) -> str:
    """How the calibrated verdict splits alpha between its checks, in words."""
    method = (view.get("calibration") or {}).get("method", "binomial")
    dependence = method != "binomial"
    m = _families(view)
    weights = {
        "floors": (2 if dependence else 1) if m else 0,
        "coordinates": 1 if dependence and _coord(view, "anderson_darling").get("n_tested") else 0,
        "multivariate": 1 if _has_multivariate(view) else 0,
    }
    total = sum(weights.values())
    if not total:
        return ""
    parts = []
    if weights["floors"]:
        level = alpha * weights["floors"] / total
        parts.append(
            f"{_share(weights['floors'], total)} ({num(level)}) among the {m} pass-fraction "
            f"floors (“needs ≥ x%”: the lower {level / m:.2g} quantile of a Gaussian's pass "
            "fraction)"
        )
    if weights["coordinates"]:
        level = alpha * weights["coordinates"] / total
        parts.append(
            f"{_share(weights['coordinates'], total)} ({num(level)}) for Holm over "
            "per-coordinate AD p-values"
        )
    if weights["multivariate"]:
        level = alpha * weights["multivariate"] / total
        parts.append(
            f"{_share(weights['multivariate'], total)} ({num(level)}) for Holm over "
            "multivariate p-values"
        )
    if len(parts) == 1:
        return "all of alpha " + parts[0].removeprefix("all ")
    return "alpha split " + ", ".join(parts)


def threshold_notes(report: dict) -> list[str]:
    """Explain every threshold the headline uses, in words (one sentence each).

    Parameters
    ----------
    report : dict
        The report model.

    Returns
    -------
    list of str
        The paper rule's thresholds, how the calibrated verdict splits alpha
        (``"Holm at 0.0125"`` is a quarter of alpha 0.05), what a floor is, and
        what the departure and its margin measure.

    Examples
    --------
    >>> report = {"config": {"alpha": 0.05, "ad_threshold": 0.752}, "views": {}}
    >>> threshold_notes(report)[0][:40]
    'paper rule: mean A² < 0.752 (the 5% crit'
    """
    cfg = report["config"]
    alpha = cfg.get("alpha", 0.05)
    thr = cfg.get("ad_threshold", 0.752)
    views = report["views"]
    notes = [
        f"paper rule: mean A² < {thr} (the 5% critical value of A² for one Gaussian "
        f"coordinate) and mean DP p > alpha = {alpha}."
    ]
    splits: dict[str, list[str]] = {}
    for name, view in views.items():
        text = _alpha_split(view, alpha)
        if text:
            splits.setdefault(text, []).append(name)
    for text, names in splits.items():
        where = "" if len(splits) == 1 else f" ({', '.join(names)})"
        notes.append(f"calibrated{where}: one level-{alpha} decision; {text}.")
    margins = {
        (v.get("departure") or {}).get("margin")
        for v in views.values()
        if (v.get("departure") or {}).get("value") is not None
    }
    margins.discard(None)
    if margins:
        margin = ", ".join(num(m) for m in sorted(margins))
        notes.append(
            "departure W1: mean Wasserstein-1 distance of a standardised coordinate to N(0, 1), "
            "in sd, net of its value for Gaussian data of this n, [95% interval]; negligible "
            f"when the upper end ≤ margin {margin} (margin= / --margin)."
        )
    return notes


_INDEXED = re.compile(r"\b([a-z_]+)\[(\d+)\]")
_KEY = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b|\bmardia\b")


def _readable_keys(text: str) -> str:
    """Write the test keys in a list of p-value names as labels.

    Examples
    --------
    >>> _readable_keys("anderson_darling[0], anderson_darling[10], ...")
    'coordinates 0, 10, ...'
    >>> _readable_keys("anderson_darling[6]")
    'coordinate 6'
    >>> _readable_keys("norm CV, subspace henze_zirkler, subspace mardia kurtosis")
    'norm CV, subspace Henze–Zirkler, subspace Mardia kurtosis'
    """
    indexed = _INDEXED.findall(text)
    if indexed and len({t for t, _ in indexed}) == 1:
        rest = "".join(_INDEXED.split(text)[3::3]).strip(", ")
        cols = ", ".join(c for _, c in indexed) + (", ..." if "..." in rest else "")
        return f"coordinate{'s' if len(indexed) > 1 or '...' in rest else ''} {cols}"
    return _KEY.sub(lambda m: label(m.group(0)), text)


def _share_of(level: float, alpha: float | None) -> Fraction | None:
    """``level / alpha`` as a simple fraction, when it is one (rounded levels allowed)."""
    if not alpha:
        return None
    share = Fraction(level / alpha).limit_denominator(12)
    return share if abs(float(share) - level / alpha) <= 0.02 * level / alpha else None


def _of_alpha(level: float, alpha: float | None) -> str:
    share = _share_of(level, alpha)
    if share is None:
        return ""
    return f" = {_SHARES.get(share, f'{share.numerator}/{share.denominator}')} of alpha {alpha}"


def calibrated_details(view: dict, alpha: float | None = None) -> list[str]:
    """Collapse the calibrated verdict's reasons: one line for the floors, one per Holm family.

    Examples
    --------
    >>> view = {"verdict": {"reasons": [
    ...     "anderson_darling: pass fraction 0.0% below 85.9%, the lower 0.0031 binomial "
    ...     "quantile for 64 tests at 95.0%",
    ...     "dagostino_pearson: pass fraction 1.0% below 85.9%, the lower 0.0031 binomial "
    ...     "quantile for 64 tests at 95.0%"]}}
    >>> calibrated_details(view)
    ['pass fractions below their floors (lower 0.0031 quantile): AD 0.0% < 85.9%, DP 1.0% < 85.9%']
    """
    reasons = list((view.get("verdict") or {}).get("reasons") or [])
    floors, holms = parse_reasons(reasons)
    out = []
    if floors:
        tails = sorted({f.tail for f in floors})
        m = _families(view)
        share = _share_of(tails[0] * m, alpha) if len(tails) == 1 and m and alpha else None
        tail_text = ", ".join(f"{t:g}" for t in tails)
        cells = [f"{f.label} {f.frac:.1f}% < {f.floor:.1f}%" for f in floors]
        shared = ""
        if share is not None and alpha:
            word = _SHARES.get(share, f"{share.numerator}/{share.denominator}")
            shared = f"; the {m} floors share {word} of alpha, {num(alpha * float(share))}"
        out.append(
            f"pass fractions below their floors (lower {tail_text} quantile{shared}): "
            + ", ".join(cells)
        )
    for h in holms:
        which = f" ({_readable_keys(h.which)})" if h.which else ""
        out.append(f"{h.text()} at level {num(h.level)}{_of_alpha(h.level, alpha)}{which}")
    handled = {r for r in reasons if _FLOOR.match(r) or _HOLM.match(r)}
    for r in reasons:
        if r in handled or r.startswith(("paper rule:", "practical:", "verdicts differ:")):
            continue
        out.append(r)
    return out
