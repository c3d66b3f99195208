"""HTML rendering of the report model: one self-contained file.

The page is rendered from the report model (the same dict as the terminal and
JSON reports) through Jinja2 templates with autoescaping, so names taken from
the input (file names, sidecar provenance) always show as text. Styles are
inline and plots are inline SVG from :mod:`gaussaudit.report.plots`: the file
fetches nothing (no scripts, fonts, style sheets or images from elsewhere) and
opens offline.

Formatting happens here, in Python (filters and prepared rows), not in the
templates, which only lay out what they are given.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ._format import DASH, band_range, num, pct, verdict_word
from ._headline import (
    diagnosis_sentences,
    effective_dimension_text,
    headline_summary,
    view_headline,
    view_headlines,
)
from ._labels import (
    HOLM_TESTS,
    MORE_COORDINATE_TESTS,
    MULTIVARIATE_TESTS,
    PROJECTION_TESTS,
    SUBSPACE_FAMILIES,
    label,
    short,
)
from ._notes import report_notes
from ._reasons import calibrated_details, threshold_notes
from .markdown import Cell, failing_coordinates, paper_table

__all__ = ["TEMPLATE_DIR", "render_html"]

#: Where the Jinja2 templates live (package data).
TEMPLATE_DIR = Path(__file__).parent / "templates"

_PROVENANCE_FIRST = (
    "encoder",
    "weights",
    "layer",
    "dataset",
    "split",
    "modality",
    "transform",
    "n",
    "d",
    "seed",
)


def _environment():
    try:
        import jinja2
    except ImportError as err:  # pragma: no cover - jinja2 is in the report extra
        from ..errors import MissingExtraError

        raise MissingExtraError("jinja2", "report", "the HTML report") from err
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["num"] = num
    env.filters["pct"] = pct
    return env


def _value_text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    if value is None:
        return DASH
    return str(value)


def _provenance(prov: dict | None) -> list[tuple[str, str]]:
    if not prov:
        return []
    keys = [k for k in _PROVENANCE_FIRST if k in prov]
    keys += [k for k in prov if k not in keys]
    return [(str(k), _value_text(prov[k])) for k in keys]


def _input_rows(report: dict) -> list[tuple[str, str]]:
    inp = report["input"]
    rows = [
        ("source", str(inp.get("source"))),
        ("format", _value_text(inp.get("format"))),
        ("n (rows)", _value_text(inp.get("n"))),
        ("d (columns)", _value_text(inp.get("d"))),
        ("rows audited", _value_text(inp.get("n_audited"))),
        ("dtype", _value_text(inp.get("dtype"))),
    ]
    if inp.get("shape"):
        rows.append(("shape in file", " × ".join(str(s) for s in inp["shape"])))
    if inp.get("constant_columns"):
        cols = inp["constant_columns"]
        text = ", ".join(str(c) for c in cols[:20]) + (" …" if len(cols) > 20 else "")
        rows.append(("constant columns", f"{len(cols)}: {text}"))
    if inp.get("dropped_rows"):
        rows.append(("dropped rows", str(inp["dropped_rows"])))
    return rows


def _sub_cell(entry: dict | None) -> Cell:
    if not entry:
        return Cell(DASH, status="na")
    frac, band = entry.get("rejection_fraction"), entry.get("null_band") or {}
    if frac is None:
        return Cell(DASH, status="na")
    high = band.get("high")
    status = "fail" if high is not None and frac > high else "pass"
    return Cell(pct(frac) + " rejected", "" if high is None else band_range(0.0, high), status)


def _frac_cell(entry: dict | None) -> Cell:
    if not entry:
        return Cell(DASH, status="na")
    if "skipped" in entry:
        return Cell("skipped", status="na")
    frac = entry.get("pass_fraction")
    band = entry.get("null_band") or {}
    if band.get("low") is None:
        return Cell(pct(frac))
    status = "fail" if frac is not None and frac < band["low"] else "pass"
    return Cell(pct(frac), band_range(band["low"], band["high"]), status)


def _more_rows(report: dict) -> list[tuple[str, list[Cell]]]:
    views = report["views"]
    alpha = report["config"]["alpha"]
    rows: list[tuple[str, list[Cell]]] = []
    for test in MORE_COORDINATE_TESTS:
        if any(test in (v.get("coordinates") or {}) for v in views.values()):
            rows.append(
                (
                    f"{label(test)} % normal",
                    [_frac_cell((v.get("coordinates") or {}).get(test)) for v in views.values()],
                )
            )

    def holm(v: dict) -> Cell:
        parts = []
        for test in HOLM_TESTS:
            e = (v.get("coordinates") or {}).get(test)
            if e and "rejections" in e:
                parts.append(f"{short(test)} {e['rejections']['holm']}/{e['n_tested']}")
        return Cell(", ".join(parts) or DASH)

    if any(v.get("coordinates") for v in views.values()):
        rows.append((f"coordinates rejected (Holm, {alpha})", [holm(v) for v in views.values()]))

    def mv(v: dict, test: str) -> Cell:
        e = (v.get("multivariate") or {}).get(test)
        if not e:
            return Cell(DASH, status="na")
        if "skipped" in e:
            return Cell("skipped", status="na")
        if test == "mardia":
            ps = (e["skewness"]["pvalue"], e["kurtosis"]["pvalue"])
            ok = all(p is not None and p > alpha for p in ps)
            return Cell(f"p = {num(ps[0])} / {num(ps[1])}", status="pass" if ok else "fail")
        p = e.get("pvalue")
        return Cell(f"p = {num(p)}", status="pass" if p is not None and p > alpha else "fail")

    if any(v.get("multivariate") for v in views.values()):
        rows.append(
            ("Mardia skewness / kurtosis (full view)", [mv(v, "mardia") for v in views.values()])
        )
        rows.append(
            (
                f"{label('henze_zirkler')} (full view)",
                [mv(v, "henze_zirkler") for v in views.values()],
            )
        )
        for test in MULTIVARIATE_TESTS:  # further registered tests, when the report has them
            if test not in ("mardia", "henze_zirkler") and any(
                test in (v.get("multivariate") or {}) for v in views.values()
            ):
                rows.append((f"{label(test)} (full view)", [mv(v, test) for v in views.values()]))

    def sub(v: dict, *path: str) -> Cell:
        s = (v.get("projections") or {}).get("subspaces")
        if not s:
            return Cell(DASH, status="na")
        if "skipped" in s:
            return Cell("skipped", status="na")
        e: Any = s
        for key in path:
            e = (e or {}).get(key)
        return _sub_cell(e)

    subs = [(v.get("projections") or {}).get("subspaces") for v in views.values()]
    first = next((s for s in subs if s and "skipped" not in s), None)
    if any(subs):
        tag = f"k={first['k']}, ×{first['n_subspaces']}" if first else ""
        for path, family in SUBSPACE_FAMILIES:
            ran = path[0] in (report.get("config") or {}).get("tests", ())
            if not ran and not any(_present(v, path) for v in views.values()):
                continue  # a test not run (energy, ... are opt-in)
            rows.append((f"subspaces ({tag}): {family}", [sub(v, *path) for v in views.values()]))

    if any((v.get("projections") or {}).get("n_projections") for v in views.values()):
        count = next(
            (v.get("projections") or {}).get("n_projections")
            for v in views.values()
            if (v.get("projections") or {}).get("n_projections")
        )
        for test in PROJECTION_TESTS:
            rows.append(
                (
                    f"random directions (×{count}): {label(test)} % normal",
                    [_frac_cell((v.get("projections") or {}).get(test)) for v in views.values()],
                )
            )
    return rows


_VERDICT_PREFIXES = (
    ("paper rule:", "paper_rule", "Paper rule"),
    ("practical:", "practically_gaussian", "Size of the departure (practical verdict)"),
)


def _why(view: dict, config: dict) -> list[dict]:
    """Every reason of a view, grouped by the verdict it belongs to.

    Each group has a ``title`` (the verdict, and whether it is the headline or
    the stricter one), its ``flag`` and its ``reasons``; the calibrated
    verdict's are also given collapsed (``summary``: one line for the floors,
    one per Holm family).
    """
    verdict = view["verdict"]
    reasons = list(verdict.get("reasons") or [])
    rule = config.get("verdict", "paper")
    groups: dict[str, dict] = {}

    def group(key: str, title: str) -> dict:
        flag = verdict.get(key)
        css = {True: "pass", False: "fail", None: "na"}[flag]
        mark = {True: "✓", False: "✗", None: "–"}[flag]
        return groups.setdefault(
            key, {"title": title, "flag": css, "mark": mark, "reasons": [], "summary": []}
        )

    for reason in reasons:
        for prefix, key, title in _VERDICT_PREFIXES:
            if reason.startswith(prefix):
                if key == "paper_rule" and rule == "paper":
                    title += " (the headline verdict)"
                group(key, title)["reasons"].append(reason)
                break
        else:
            if reason.startswith("verdicts differ:"):
                group("differ", "Why the verdicts differ")["reasons"].append(reason)
                continue
            title = "Calibrated verdict" + (
                " (the stricter verdict)" if rule == "paper" else " (the headline verdict)"
            )
            group("calibrated", title)["reasons"].append(reason)
    if "calibrated" in groups:
        groups["calibrated"]["summary"] = calibrated_details(view, config.get("alpha"))
    if "differ" in groups:
        groups["differ"].update(flag="na", mark="")
    order = ("paper_rule", "calibrated", "practically_gaussian", "differ")
    return [groups[k] for k in order if k in groups]


def _split_departure(text: str) -> tuple[str, str]:
    """``("0.081 [0.075, 0.088]", "> margin 0.02")`` from the headline's departure text."""
    text = text.removeprefix("departure ").removeprefix("W1 ")
    for op in (" > ", " ≤ ", " straddles ", " vs "):
        if op in text:
            value, _, rest = text.partition(op)
            return value, f"{op.strip()} {rest}"
    return text, ""


def _headline_rows(report: dict) -> list[dict]:
    rows = []
    for head in view_headlines(report):
        failed = list(head.failed[:2])
        more = len(head.failed) - len(failed)
        rows.append(
            {
                "view": head.view,
                "anchor": f"view-{head.view}",
                "phrase": head.phrase,
                "css": head.status,
                "failed": ", ".join(failed) + (f" (+{more} more failed checks)" if more else ""),
                "departure": _split_departure(head.departure),
                "diagnosis": ", ".join(head.diagnosis),
                "sphere": head.sphere,
                "effective_dimension": head.effective_dimension.removeprefix(
                    "effective dimension "
                ),
            }
        )
    return rows


def _with_effective_dimension(report: dict, rows: list) -> list:
    """Add the effective dimension to the paper table, after the CV of norms."""
    cells = []
    for view in report["views"].values():
        text = effective_dimension_text(view).removeprefix("effective dimension ")
        cells.append(Cell(text or DASH, status="" if text else "na"))
    out = []
    for name, row in rows:
        out.append((name, row))
        if name == "CV of norms":
            out.append(("effective dimension (participation ratio, of d)", cells))
    return out


# ----------------------------------------------------------------- positive pairs
def _pair_plots(name: str, view: dict) -> list:
    """Return the pair-cosine figure of a view with ``pairs`` (raw and whitened views only)."""
    from .plots.pairs import pairs_plot

    plot = pairs_plot(name, view, f"plot-{name}-pairs")
    return [] if plot is None else [plot]


def _view_context(name: str, view: dict, report: dict, *, plots: bool) -> dict:
    from .plot_data import view_plot_data
    from .plots import view_plots

    plot_data = view_plot_data(report, name) if plots else view.get("plot_data")
    if plot_data is not None and "plot_data" not in view:
        view = {**view, "plot_data": plot_data}  # the report itself stays as it was

    thr = report["config"].get("ad_threshold", 0.752)
    head = view_headline(name, view, report["config"])
    ad = (view.get("coordinates") or {}).get("anderson_darling") or {}
    n_fail = sum(1 for a2 in ad.get("statistics") or [] if a2 is not None and a2 >= thr)
    verdict = view["verdict"]
    return {
        "name": name,
        "anchor": f"view-{name}",
        "n": view.get("n"),
        "d": view.get("d"),
        "unit": "principal direction" if name == "whitened" else "coordinate",
        "verdict": verdict_word(verdict.get("gaussian")),
        "verdict_css": {True: "pass", False: "fail", None: "na"}[verdict.get("gaussian")],
        "reasons": list(verdict.get("reasons") or []),
        "why": _why(view, report["config"]),
        "phrase": head.phrase,
        "phrase_css": head.status,
        "effective_dimension": effective_dimension_text(view),
        "notes": list(view.get("notes") or []),
        "failing": failing_coordinates(view, thr, limit=10),
        "n_failing": n_fail,
        "n_tested": ad.get("n_tested"),
        "has_ad": bool(ad) and "skipped" not in ad,
        "plots": (view_plots(name, view, report["config"]) + _pair_plots(name, view))
        if plots
        else [],
        "has_plot_data": plot_data is not None,
    }


def render_html(
    report: dict, *, plots: bool = True, title: str | None = None, verbose: bool = True
) -> str:
    """Render the report model as one self-contained HTML page.

    The page opens with the verdict, once: one row per view (the verdict,
    what failed and by how much, the departure with its 95 % interval, the
    diagnosis, the effective dimension), the diagnosis sentences and every
    threshold in words. The details follow: the paper-style table, every
    test, and per view every reason (grouped by verdict), the worst
    coordinates and the plots.

    Parameters
    ----------
    report : dict
        The report model from :func:`gaussaudit.report.build_report`. Plots
        that need the view's data (null distribution, Q–Q, norms, Mahalanobis,
        cosines) use ``views.<view>.plot_data`` when present, else compute it
        from the audited matrix the model kept
        (:func:`gaussaudit.report.plot_data.view_plot_data`); a report read
        back from JSON has neither and gets the plots of its per-coordinate
        arrays only.
    plots : bool
        Draw the figures (False gives the tables only, without matplotlib).
    title : str, optional
        Page title; defaults to ``gaussaudit: <source>``.
    verbose : bool
        Accepted for symmetry with the text formats; the page always carries
        the details (folded per view).

    Returns
    -------
    str
        The page. Styles and figures (inline SVG) are embedded; nothing is
        fetched when it opens.
    """
    env = _environment()
    verdict = report["verdict"]["gaussian"]
    views, rows = paper_table(report)
    cfg = report["config"]
    context = {
        "title": title or f"gaussaudit: {report['input']['source']}",
        "report": report,
        "tool_version": report["tool"]["version"],
        "source": report["input"]["source"],
        "verdict": {
            "word": verdict_word(verdict),
            "css": {True: "pass", False: "fail", None: "na"}[verdict],
            "rule": cfg.get("verdict", "paper"),
            "summary": headline_summary(report, word=False),
            "rows": _headline_rows(report),
            "diagnosis": diagnosis_sentences(report),
            "thresholds": threshold_notes(report),
        },
        "view_names": views,
        "paper_rows": _with_effective_dimension(report, rows),
        "more_rows": _more_rows(report),
        "input_rows": _input_rows(report),
        "provenance": _provenance(report["input"].get("provenance")),
        "versions": sorted((report["tool"].get("versions") or {}).items()),
        "config": [(k, _value_text(v)) for k, v in cfg.items()],
        "views": [
            _view_context(name, v, report, plots=plots) for name, v in report["views"].items()
        ],
        "notes": report_notes(report),
        "alpha": cfg["alpha"],
        "threshold": cfg.get("ad_threshold", 0.752),
        "schema_version": report.get("schema_version"),
    }
    return env.get_template("report.html.j2").render(**context)


def _present(view: dict, path: tuple[str, ...]) -> bool:
    """Whether a view's subspace results hold the family at ``path``."""
    e: Any = (view.get("projections") or {}).get("subspaces")
    for key in path:
        e = e.get(key) if isinstance(e, dict) else None
    return isinstance(e, dict)
