"""Markdown rendering of the report model: a compact summary for PR comments and CI.

The summary has the verdict with its reasons, the paper-style table (one column
per view) and the coordinates that fail the A² rule worst. It is GitHub
Flavoured Markdown and fits a pull-request comment or ``$GITHUB_STEP_SUMMARY``
(``gaussaudit test EMB --report markdown >> "$GITHUB_STEP_SUMMARY"``).

The table and the failing-coordinate list are built here as plain data
(:func:`paper_table`, :func:`failing_coordinates`) and reused by the HTML
renderer, so the two formats show the same rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ._format import DASH, band_range, num, pct, printable, verdict_word

__all__ = [
    "Cell",
    "failing_coordinates",
    "md_escape",
    "paper_table",
    "render_markdown",
]


@dataclass(frozen=True)
class Cell:
    """One table cell.

    Attributes
    ----------
    text : str
        The value.
    band : str
        The 99 % null band of a pass fraction (``"90–99%"``) or ``""``.
    status : str
        ``"pass"``, ``"fail"``, ``"na"`` or ``""`` (neutral).
    """

    text: str
    band: str = ""
    status: str = ""


def _flag(value: bool | None) -> Cell:
    if value is None:
        return Cell("n/a", status="na")
    return Cell("yes", status="pass") if value else Cell("no", status="fail")


def _coord(view: dict, test: str) -> dict:
    return (view.get("coordinates") or {}).get(test) or {}


def _frac(entry: dict) -> Cell:
    if not entry:
        return Cell(DASH, status="na")
    if "skipped" in entry:
        return Cell("skipped", status="na")
    frac = entry.get("pass_fraction")
    band = entry.get("null_band") or {}
    text = pct(frac)
    if band.get("low") is None:
        return Cell(text)
    band_text = band_range(band["low"], band["high"])
    status = "fail" if frac is not None and frac < band["low"] else "pass"
    return Cell(text, band_text, status)


def _value(entry: dict, key: str, ok) -> Cell:
    if not entry:
        return Cell(DASH, status="na")
    if "skipped" in entry:
        return Cell("skipped", status="na")
    x = entry.get(key)
    if x is None:
        return Cell(DASH, status="na")
    return Cell(num(x), status="pass" if ok(x) else "fail")


def paper_table(report: dict) -> tuple[list[str], list[tuple[str, list[Cell]]]]:
    """Build the paper-style table (PAPER.md Table 1 layout), one column per view.

    Returns
    -------
    views : list of str
        Column headings.
    rows : list of (label, cells)
        ``CV``, ``AD avg (< threshold)``, ``AD % normal`` with its null band,
        ``DP avg (> alpha)``, ``DP % normal``, ``Gaussian? (paper rule)`` and
        ``Gaussian? (calibrated)``, preceded by ``n × d``.
    """
    views = report["views"]
    alpha = report["config"]["alpha"]
    thr = report["config"].get("ad_threshold", 0.752)

    def norms_cell(v: dict) -> Cell:
        norms = v.get("norms")
        if not norms:
            return Cell(DASH, status="na")
        if "skipped" in norms:
            return Cell("skipped", status="na")
        ref = norms.get("cv_matched_gaussian")
        band = "" if ref is None else f"Gaussian {num(ref)}"
        return Cell(num(norms.get("cv")), band)

    rows: list[tuple[str, list[Cell]]] = [
        ("n × d", [Cell(f"{v['n']} × {v['d']}") for v in views.values()]),
        ("CV of norms", [norms_cell(v) for v in views.values()]),
        (
            f"AD avg (< {thr})",
            [
                _value(_coord(v, "anderson_darling"), "mean", lambda x: x < thr)
                for v in views.values()
            ],
        ),
        ("AD % normal", [_frac(_coord(v, "anderson_darling")) for v in views.values()]),
        (
            f"DP avg (> {alpha})",
            [
                _value(_coord(v, "dagostino_pearson"), "mean_pvalue", lambda x: x > alpha)
                for v in views.values()
            ],
        ),
        ("DP % normal", [_frac(_coord(v, "dagostino_pearson")) for v in views.values()]),
        ("Gaussian? (paper rule)", [_flag(v["verdict"]["paper_rule"]) for v in views.values()]),
        ("Gaussian? (calibrated)", [_flag(v["verdict"]["calibrated"]) for v in views.values()]),
    ]
    return list(views), rows


def failing_coordinates(view: dict, threshold: float, limit: int = 10) -> list[dict[str, Any]]:
    """List the coordinates of a view that fail the A² rule, worst first.

    Returns
    -------
    list of dict
        At most ``limit`` entries with ``column``, ``a2``, ``ad_pvalue`` and
        ``dp_pvalue`` (None where DP did not run), sorted by A² descending.
    """
    ad = _coord(view, "anderson_darling")
    if not ad or "skipped" in ad:
        return []
    stats = ad.get("statistics") or []
    ad_p = ad.get("pvalues") or []
    dp = _coord(view, "dagostino_pearson")
    dp_p = dp.get("pvalues") if dp and "skipped" not in dp else None
    failing = [(a2, j) for j, a2 in enumerate(stats) if a2 is not None and a2 >= threshold]
    failing.sort(key=lambda t: (-t[0], t[1]))
    return [
        {
            "column": j,
            "a2": a2,
            "ad_pvalue": ad_p[j] if j < len(ad_p) else None,
            "dp_pvalue": dp_p[j] if dp_p is not None and j < len(dp_p) else None,
        }
        for a2, j in failing[:limit]
    ]


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def md_escape(text: object) -> str:
    """Escape text for GitHub Markdown: specials backslashed, ``<>&`` as entities."""
    s = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = s.replace("\r", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", s)


def _md_cell(cell: Cell) -> str:
    mark = {"pass": "✅ ", "fail": "❌ "}.get(cell.status, "") if cell.text in ("yes", "no") else ""
    text = f"{mark}{cell.text}"
    if cell.status == "fail" and not mark:
        text = f"**{text}**"
    if cell.band:
        text += f" ({cell.band})"
    return text


def render_markdown(report: dict, *, top: int = 10, verbose: bool = False) -> str:
    """Render the report model as a compact Markdown summary.

    Parameters
    ----------
    report : dict
        The report model.
    top : int
        Failing coordinates listed per view.

    Returns
    -------
    str
        GitHub Flavoured Markdown, ending with a newline. A report with a
        ``gates`` key (``gaussaudit check``) ends with the gate table.
    """
    report = printable(report)  # fields from files never carry escape sequences
    inp = report["input"]
    cfg = report["config"]
    thr = cfg.get("ad_threshold", 0.752)
    verdict = report["verdict"]["gaussian"]
    icon = {True: "✅", False: "❌", None: "⚠️"}[verdict]
    lines = [f"## {icon} gaussaudit: {verdict_word(verdict)}", ""]
    meta = [
        f"**input** {md_escape(inp['source'])}",
        f"n = {inp['n']}",
        f"d = {inp['d']}",
        f"dtype {md_escape(inp.get('dtype'))}",
    ]
    if inp.get("n_audited") not in (None, inp["n"]):
        meta.append(f"{inp['n_audited']} rows audited")
    prov = inp.get("provenance") or {}
    for key in ("encoder", "layer", "dataset", "split"):
        if key in prov and prov[key] is not None:
            meta.append(f"{key} {md_escape(prov[key])}")
    lines.append(" · ".join(meta))
    lines.append("")
    lines.append(
        f"Headline: the {md_escape(cfg.get('verdict', 'paper'))} rule over all views "
        f"(alpha = {cfg['alpha']}, A² threshold {thr})."
    )
    lines.append("")
    for name, v in report["views"].items():
        for reason in v["verdict"]["reasons"]:
            lines.append(f"- **{md_escape(name)}**: {md_escape(reason)}")
    lines.append("")
    views, rows = paper_table(report)
    lines.append("| metric | " + " | ".join(md_escape(v) for v in views) + " |")
    lines.append("| --- | " + " | ".join("---:" for _ in views) + " |")
    for label, cells in rows:
        lines.append(f"| {md_escape(label)} | " + " | ".join(_md_cell(c) for c in cells) + " |")
    lines.append("")
    lines.append(
        "In parentheses: the 99% band of a pass fraction if every coordinate were Gaussian, "
        "and the CV of a Gaussian with the data's covariance."
    )
    lines.append("")
    for name, v in report["views"].items():
        failing = failing_coordinates(v, thr, limit=top)
        ad = _coord(v, "anderson_darling")
        if not ad or "skipped" in ad:
            continue
        unit = "principal direction" if name == "whitened" else "coordinate"
        n_fail = sum(1 for a2 in ad.get("statistics") or [] if a2 is not None and a2 >= thr)
        heading = f"**{md_escape(name)}**: "
        if not failing:
            lines.append(heading + f"no {unit} fails A² < {thr}.")
            lines.append("")
            continue
        shown = "" if n_fail <= len(failing) else f" (worst {len(failing)} shown)"
        lines.append(heading + f"{n_fail} of {ad.get('n_tested')} {unit}s fail A² < {thr}{shown}")
        lines.append("")
        lines.append(f"| {unit} | A² | AD p | DP p |")
        lines.append("| ---: | ---: | ---: | ---: |")
        for f in failing:
            lines.append(
                f"| {f['column']} | {num(f['a2'])} | {num(f['ad_pvalue'])} | "
                f"{num(f['dp_pvalue'])} |"
            )
        lines.append("")
    notes = list(report.get("notes") or [])
    if notes:
        lines.append("Notes: " + "; ".join(md_escape(n) for n in notes))
        lines.append("")
    lines.append(
        f"<sub>gaussaudit {md_escape(report['tool']['version'])} · seed {cfg['seed']} · "
        f"views {md_escape(', '.join(cfg['views']))}</sub>"
    )
    text = "\n".join(lines) + "\n"
    if "gates" in report:  # gaussaudit check: the summary, then the gate table
        from .gates import gates_markdown

        text = text.rstrip("\n") + "\n\n" + gates_markdown(report["gates"])
    return text
