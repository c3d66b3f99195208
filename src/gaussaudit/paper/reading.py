"""Plain-language reading of a contrastive-vs-supervised dynamics run, written from its numbers.

:func:`read_dynamics` turns the per-epoch records of the two runs of
:func:`gaussaudit.train.dynamics.train_pair` into three lists of sentences:
what the run shows, what it does not show, and how it relates to the paper's
numbers (:data:`gaussaudit.paper.reference.FIG4`, Table 1). Every direction
("fell", "rose", "smaller", "larger", "Gaussian", "not Gaussian") is decided
from the measured values here; nothing is a canned claim, so a run whose
contrastive CV ends larger than the supervised one's says so.
"""

from __future__ import annotations

from typing import Any

from ..train.audit import dynamics_row
from .reference import AD_THRESHOLD, DP_ALPHA, FIG4, TABLE1

__all__ = ["LABELS", "final_rows", "read_dynamics", "series", "trend"]

#: Display names of the two runs.
LABELS = {"contrastive": "contrastive (InfoNCE)", "supervised": "supervised (cross-entropy)"}

# Change below which a metric "stayed near" its start: (relative, absolute).
_TOLERANCE = {
    "ad_mean": (0.05, 0.02),
    "ad_pass_fraction": (0.0, 0.02),
    "dp_pass_fraction": (0.0, 0.02),
    "cv": (0.05, 0.005),
    "effective_dimension": (0.05, 0.2),
    "probe_accuracy": (0.0, 0.01),
}
_FORMAT = {
    "ad_mean": ".2f",
    "ad_pass_fraction": ".0%",
    "dp_pass_fraction": ".0%",
    "cv": ".3f",
    "effective_dimension": ".1f",
    "probe_accuracy": ".1%",
}
_NAMES = {
    "ad_mean": "mean A²",
    "ad_pass_fraction": "AD pass fraction",
    "dp_pass_fraction": "DP pass fraction",
    "cv": "norm CV",
    "effective_dimension": "effective dimension",
    "probe_accuracy": "probe accuracy",
}


def series(records: list[dict], layer: str = "output") -> list[dict[str, Any]]:
    """Return one flat row per audited epoch (``epoch`` plus the Fig. 4 quantities).

    Parameters
    ----------
    records : list of dict
        Per-epoch records (``layers.<layer>`` holds the audit).
    layer : str

    Returns
    -------
    list of dict

    Examples
    --------
    >>> series([{"epoch": 0, "layers": {"output": {"d": 4, "norms": {"cv": 0.2}}}}])[0]["cv"]
    0.2
    """
    rows = []
    for r in records:
        entry = (r.get("layers") or {}).get(layer)
        if entry:
            row = dynamics_row(entry)
            row["epoch"] = r["epoch"]
            row["chance"] = (entry.get("linear_probe") or {}).get("chance")
            row["paper_rule"] = (entry.get("verdict") or {}).get("paper_rule")
            rows.append(row)
    return rows


def trend(key: str, first: float | None, last: float | None) -> str:
    """Describe the change of one metric from its first to its last value.

    Parameters
    ----------
    key : str
        A key of :data:`gaussaudit.train.audit.DYNAMICS_KEYS`.
    first, last : float or None

    Returns
    -------
    str
        "fell from A to B", "rose from A to B", "stayed near A" or "was not measured".

    Examples
    --------
    >>> trend("cv", 0.30, 0.20), trend("cv", 0.20, 0.30), trend("cv", 0.200, 0.201)
    ('fell from 0.300 to 0.200', 'rose from 0.200 to 0.300', 'stayed near 0.200')
    """
    if first is None or last is None:
        return "was not measured"
    spec = _FORMAT.get(key, ".3g")
    rel, floor = _TOLERANCE.get(key, (0.05, 0.0))
    if abs(last - first) <= max(rel * abs(first), floor):
        return f"stayed near {format(first, spec)}"
    word = "fell" if last < first else "rose"
    return f"{word} from {format(first, spec)} to {format(last, spec)}"


def final_rows(runs: dict[str, list[dict]], layer: str = "output") -> dict[str, dict]:
    """Return the last audited row of each run."""
    return {name: series(records, layer)[-1] for name, records in runs.items()}


def _fmt(key: str, value: float | None) -> str:
    return "–" if value is None else format(value, _FORMAT.get(key, ".3g"))


def _trained(rows: list[dict]) -> dict | None:
    """Return the first trained epoch's row when at least two trained epochs follow it."""
    trained = [r for r in rows if r["epoch"] > 0]
    return trained[0] if len(trained) >= 3 else None


def _run_sentence(name: str, rows: list[dict]) -> str:
    first, last = rows[0], rows[-1]
    parts = [f"{_NAMES[k]} {trend(k, first[k], last[k])}" for k in _NAMES]
    text = (
        f"{LABELS.get(name, name)}, epoch {first['epoch']} to {last['epoch']}: "
        + "; ".join(parts)
        + "."
    )
    early = _trained(rows)
    if early is not None and first["epoch"] == 0:
        keys = ("ad_mean", "dp_pass_fraction", "cv")
        later = [f"{_NAMES[k]} {trend(k, early[k], last[k])}" for k in keys]
        text += f" After epoch {early['epoch']} (past the first jump): " + "; ".join(later) + "."
    return text


def _compare(c: dict, s: dict) -> list[str]:
    out = []
    if c["ad_mean"] is not None and s["ad_mean"] is not None:
        closer = c["ad_mean"] < s["ad_mean"]
        out.append(
            f"At the last epoch the contrastive encoder's coordinates are "
            f"{'closer to' if closer else 'further from'} Gaussian than the supervised one's "
            f"by the mean A² ({_fmt('ad_mean', c['ad_mean'])} vs "
            f"{_fmt('ad_mean', s['ad_mean'])}; lower is more Gaussian, a coordinate passes "
            f"below {AD_THRESHOLD}), with DP pass fractions "
            f"{_fmt('dp_pass_fraction', c['dp_pass_fraction'])} "
            f"vs {_fmt('dp_pass_fraction', s['dp_pass_fraction'])}."
        )
    if c["cv"] is not None and s["cv"] is not None:
        if c["cv"] < s["cv"]:
            tail = "a thinner shell, the direction the paper reports for contrastive encoders"
        elif c["cv"] > s["cv"]:
            tail = (
                "a wider norm spread, the opposite of the thinner shell the paper reports "
                "for contrastive encoders"
            )
        else:
            tail = "the same spread"
        out.append(
            f"The contrastive encoder's norm CV is "
            f"{'smaller' if c['cv'] < s['cv'] else 'larger' if c['cv'] > s['cv'] else 'equal'} "
            f"({_fmt('cv', c['cv'])} vs {_fmt('cv', s['cv'])}): {tail}."
        )
    verdicts = {True: "Gaussian", False: "not Gaussian", None: "not decided"}
    out.append(
        f"By the paper's rule (mean A² < {AD_THRESHOLD} and mean DP p > {DP_ALPHA}) the "
        f"contrastive output is {verdicts[c['paper_rule']]} at the last epoch and the "
        f"supervised output is {verdicts[s['paper_rule']]}."
    )
    return out


def _probe(rows: dict[str, dict]) -> str:
    weak = [
        n
        for n, r in rows.items()
        if r["probe_accuracy"] is not None
        and r["chance"] is not None
        and r["probe_accuracy"] < r["chance"] + 0.1
    ]
    accs = ", ".join(
        f"{LABELS.get(n, n)} {_fmt('probe_accuracy', r['probe_accuracy'])}" for n, r in rows.items()
    )
    chance = next((r["chance"] for r in rows.values() if r["chance"] is not None), None)
    if chance is None:
        return f"Linear-probe accuracy on held-out images: {accs} (no chance level recorded)."
    if weak:
        return (
            f"Linear-probe accuracy: {accs}, chance {_fmt('probe_accuracy', chance)}. "
            f"The {' and '.join(weak)} encoder is within 10 points of chance: it has lost "
            "its labels (collapsed), so its Gaussian statistics say nothing good about it."
        )
    return (
        f"Linear-probe accuracy: {accs}, chance {_fmt('probe_accuracy', chance)}: neither "
        "encoder collapsed, so the statistics above describe useful representations."
    )


def _paper(c_rows: list[dict], epochs: int) -> list[str]:
    ad, cv = FIG4["ad_mean"], FIG4["cv"]
    first, last = c_rows[0], c_rows[-1]
    out = [
        f"The paper's Fig. 4 (PAPER.md §3.4, read off the plots) follows a two-layer MLP "
        f"trained with InfoNCE on CIFAR-10 for {FIG4['epochs']} epochs: mean A² about "
        f"{ad[10]} at epoch 10 and {ad[100]} at epoch 100 (below {AD_THRESHOLD} from about "
        f"epoch 30), CV about {cv[10]} falling to {cv[100]}."
    ]
    early = _trained(c_rows)
    if early is not None and early["ad_mean"] is not None and early["cv"] is not None:
        out.append(
            f"The paper's curve starts at epoch 10, after the first jump away from the "
            f"initialisation, so compare from epoch {early['epoch']} on: the contrastive A² "
            f"{trend('ad_mean', early['ad_mean'], last['ad_mean'])} from there and its CV "
            f"{trend('cv', early['cv'], last['cv'])}."
        )
    if first["ad_mean"] is not None and last["ad_mean"] is not None:
        same = last["ad_mean"] < first["ad_mean"]
        side = "below" if last["ad_mean"] < AD_THRESHOLD else "above"
        out.append(
            f"From the initialisation, the contrastive A² "
            f"{trend('ad_mean', first['ad_mean'], last['ad_mean'])} over {epochs} epochs "
            f"({'the same direction as' if same else 'not the direction of'} "
            f"the paper's curve) and ends {side} the {AD_THRESHOLD} line, "
            f"{last['ad_mean'] / ad[100]:.1f} times the paper's epoch-100 value."
        )
    if first["cv"] is not None and last["cv"] is not None:
        same = last["cv"] < first["cv"]
        out.append(
            f"From the initialisation, the contrastive CV {trend('cv', first['cv'], last['cv'])} "
            f"({'the same direction as' if same else 'not the direction of'} the paper's "
            f"decline) and ends at {_fmt('cv', last['cv'])} against the paper's {cv[100]}."
        )
    sup, con = TABLE1["supervised"], TABLE1["contrastive"]
    out.append(
        f"For scale, the paper's Table 1 ResNet-18 pair ends at A² {con['ad_mean']} and CV "
        f"{con['cv']} (contrastive) against A² {sup['ad_mean']} and CV {sup['cv']} "
        "(supervised); it gives no supervised MLP curve and no accuracies."
    )
    return out


def read_dynamics(
    runs: dict[str, list[dict]],
    *,
    layer: str = "output",
    data_note: str = "",
    synthetic: bool = False,
    reductions: list[str] | tuple[str, ...] = (),
) -> dict[str, list[str]]:
    """Explain a contrastive-vs-supervised dynamics run in plain language.

    Parameters
    ----------
    runs : dict
        ``{"contrastive": records, "supervised": records}`` (per-epoch records
        with ``layers.<layer>``; :func:`gaussaudit.train.dynamics.train_pair`).
    layer : str
        The audited layer.
    data_note : str
        What was trained on, in words (used in "does not show").
    synthetic : bool
        True when the images were synthetic stand-ins.
    reductions : sequence of str
        Reductions against the paper, listed under "does not show".

    Returns
    -------
    dict
        ``shows``, ``does_not_show`` and ``paper``: lists of sentences, every
        direction in them decided from the records.

    Examples
    --------
    >>> def rec(e, ad, cv):
    ...     return {"epoch": e, "layers": {"output": {"d": 8, "norms": {"cv": cv},
    ...             "coordinates": {"anderson_darling": {"mean": ad}}}}}
    >>> runs = {"contrastive": [rec(0, 2.0, 0.3), rec(5, 1.0, 0.2)],
    ...         "supervised": [rec(0, 2.0, 0.3), rec(5, 3.0, 0.4)]}
    >>> read_dynamics(runs)["shows"][0].split(":")[1].split(";")[0]
    ' mean A² fell from 2.00 to 1.00'
    """
    rows = {name: series(records, layer) for name, records in runs.items()}
    shows = [_run_sentence(name, r) for name, r in rows.items() if r]
    last = {name: r[-1] for name, r in rows.items() if r}
    if "contrastive" in last and "supervised" in last:
        shows += _compare(last["contrastive"], last["supervised"])
    shows.append(_probe(last))
    epochs = max((r[-1]["epoch"] for r in rows.values() if r), default=0)
    expected = None
    for records in runs.values():
        for r in records:
            entry = (r.get("layers") or {}).get(layer) or {}
            band = ((entry.get("coordinates") or {}).get("anderson_darling") or {}).get("null_band")
            if isinstance(band, dict) and band.get("expected") is not None:
                expected = band["expected"]
    not_show = [
        f"A short run: {epochs} epochs{(' on ' + data_note) if data_note else ''}; the paper "
        f"trains {FIG4['epochs']} epochs on CIFAR-10 and its curve starts at epoch 10, so "
        "this shows the start of training only.",
        "Per-coordinate tests of the raw output describe marginals; they cannot establish "
        "that the joint distribution is Gaussian"
        + (
            f", and an exactly Gaussian sample of this size passes about {expected:.0%} of "
            "the AD tests, not all of them."
            if expected is not None
            else "."
        ),
        "One seed and one initialisation: epoch-to-epoch wiggles of a few hundredths are "
        "within run-to-run noise, which this run does not measure.",
    ]
    if synthetic:
        not_show.insert(
            0,
            "The images are SYNTHETIC stand-ins (Fashion-MNIST was not found): nothing here "
            "is evidence about real images.",
        )
    not_show += [f"Reduced against the paper: {r}." for r in reductions]
    paper = _paper(rows["contrastive"], epochs) if rows.get("contrastive") else []
    return {"shows": shows, "does_not_show": not_show, "paper": paper}
