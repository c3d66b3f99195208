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

from .markdown import (
    Cell,
    failing_coordinates,
    fmt_num,
    fmt_pct,
    paper_table,
    verdict_word,
)

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
    env.filters["num"] = fmt_num
    env.filters["pct"] = fmt_pct
    return env


def _value_text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    if value is None:
        return "–"
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
        return Cell("–", status="na")
    frac, band = entry.get("rejection_fraction"), entry.get("null_band") or {}
    if frac is None:
        return Cell("–", status="na")
    high = band.get("high")
    status = "fail" if high is not None and frac > high else "pass"
    return Cell(fmt_pct(frac) + " rejected", "" if high is None else f"0–{100 * high:.0f}%", status)


def _frac_cell(entry: dict | None) -> Cell:
    if not entry:
        return Cell("–", status="na")
    if "skipped" in entry:
        return Cell("skipped", status="na")
    frac = entry.get("pass_fraction")
    band = entry.get("null_band") or {}
    if band.get("low") is None:
        return Cell(fmt_pct(frac))
    status = "fail" if frac is not None and frac < band["low"] else "pass"
    return Cell(fmt_pct(frac), f"{100 * band['low']:.0f}–{100 * band['high']:.0f}%", status)


def _more_rows(report: dict) -> list[tuple[str, list[Cell]]]:
    views = report["views"]
    alpha = report["config"]["alpha"]
    rows: list[tuple[str, list[Cell]]] = []
    for test, label in (
        ("shapiro_wilk", "Shapiro–Wilk % normal"),
        ("jarque_bera", "Jarque–Bera % normal"),
        ("lilliefors", "Lilliefors % normal"),
    ):
        if any(test in (v.get("coordinates") or {}) for v in views.values()):
            rows.append(
                (
                    label,
                    [_frac_cell((v.get("coordinates") or {}).get(test)) for v in views.values()],
                )
            )

    def holm(v: dict) -> Cell:
        parts = []
        for test, short in (("anderson_darling", "AD"), ("dagostino_pearson", "DP")):
            e = (v.get("coordinates") or {}).get(test)
            if e and "rejections" in e:
                parts.append(f"{short} {e['rejections']['holm']}/{e['n_tested']}")
        return Cell(", ".join(parts) or "–")

    if any(v.get("coordinates") for v in views.values()):
        rows.append((f"coordinates rejected (Holm, {alpha})", [holm(v) for v in views.values()]))

    def mv(v: dict, test: str) -> Cell:
        e = (v.get("multivariate") or {}).get(test)
        if not e:
            return Cell("–", status="na")
        if "skipped" in e:
            return Cell("skipped", status="na")
        if test == "mardia":
            ps = (e["skewness"]["pvalue"], e["kurtosis"]["pvalue"])
            ok = all(p is not None and p > alpha for p in ps)
            return Cell(f"p = {fmt_num(ps[0])} / {fmt_num(ps[1])}", status="pass" if ok else "fail")
        p = e.get("pvalue")
        return Cell(f"p = {fmt_num(p)}", status="pass" if p is not None and p > alpha else "fail")

    if any(v.get("multivariate") for v in views.values()):
        rows.append(
            ("Mardia skewness / kurtosis (full view)", [mv(v, "mardia") for v in views.values()])
        )
        rows.append(("Henze–Zirkler (full view)", [mv(v, "henze_zirkler") for v in views.values()]))

    def sub(v: dict, *path: str) -> Cell:
        s = (v.get("projections") or {}).get("subspaces")
        if not s:
            return Cell("–", status="na")
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
        rows.append(
            (
                f"subspaces ({tag}): Mardia skewness",
                [sub(v, "mardia", "skewness") for v in views.values()],
            )
        )
        rows.append(
            (
                f"subspaces ({tag}): Mardia kurtosis",
                [sub(v, "mardia", "kurtosis") for v in views.values()],
            )
        )
        rows.append(
            (f"subspaces ({tag}): Henze–Zirkler", [sub(v, "henze_zirkler") for v in views.values()])
        )

    if any((v.get("projections") or {}).get("n_projections") for v in views.values()):
        count = next(
            (v.get("projections") or {}).get("n_projections")
            for v in views.values()
            if (v.get("projections") or {}).get("n_projections")
        )
        for test, label in (
            ("anderson_darling", "Anderson–Darling"),
            ("dagostino_pearson", "D'Agostino–Pearson"),
            ("epps_pulley", "Epps–Pulley"),
        ):
            rows.append(
                (
                    f"random directions (×{count}): {label} % normal",
                    [_frac_cell((v.get("projections") or {}).get(test)) for v in views.values()],
                )
            )
    return rows


def _notes(report: dict) -> list[str]:
    lines = list(report.get("notes") or [])
    grouped: dict[str, list[str]] = {}
    for name, v in report["views"].items():
        for note in v.get("notes") or []:
            grouped.setdefault(note, []).append(name)
        skipped: list[tuple[str, str]] = []
        for section in ("coordinates", "multivariate"):
            for test, e in (v.get(section) or {}).items():
                if isinstance(e, dict) and "skipped" in e:
                    skipped.append((test, e["skipped"]))
        proj = v.get("projections") or {}
        if "skipped" in proj:
            skipped.append(("projections", proj["skipped"]))
        if "directions_skipped" in proj:
            skipped.append(("projections", proj["directions_skipped"]))
        s = proj.get("subspaces") or {}
        if "skipped" in s:
            skipped.append(("subspaces", s["skipped"]))
        for test, reason in skipped:
            grouped.setdefault(f"skipped {test}: {reason}", []).append(name)
    lines += [f"{', '.join(names)}: {text}" for text, names in grouped.items()]
    return lines


def _view_context(name: str, view: dict, report: dict, *, plots: bool) -> dict:
    from .plots import view_plots

    thr = report["config"].get("ad_threshold", 0.752)
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
        "notes": list(view.get("notes") or []),
        "failing": failing_coordinates(view, thr, limit=10),
        "n_failing": n_fail,
        "n_tested": ad.get("n_tested"),
        "has_ad": bool(ad) and "skipped" not in ad,
        "plots": view_plots(name, view, report["config"]) if plots else [],
        "has_plot_data": "plot_data" in view,
    }


def render_html(report: dict, *, plots: bool = True, title: str | None = None) -> str:
    """Render the report model as one self-contained HTML page.

    Parameters
    ----------
    report : dict
        The report model from :func:`gaussaudit.report.build_report`. Plots
        that need the view's data (null distribution, Q–Q, norms, Mahalanobis,
        cosines) use ``views.<view>.plot_data``, present when the report was
        built from an audit that kept its matrix; the others use the report's
        per-coordinate arrays.
    plots : bool
        Draw the figures (False gives the tables only, without matplotlib).
    title : str, optional
        Page title; defaults to ``gaussaudit: <source>``.

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
            "reasons": [
                (name, reason)
                for name, v in report["views"].items()
                for reason in v["verdict"]["reasons"]
            ],
        },
        "view_names": views,
        "paper_rows": rows,
        "more_rows": _more_rows(report),
        "input_rows": _input_rows(report),
        "provenance": _provenance(report["input"].get("provenance")),
        "versions": sorted((report["tool"].get("versions") or {}).items()),
        "config": [(k, _value_text(v)) for k, v in cfg.items()],
        "views": [
            _view_context(name, v, report, plots=plots) for name, v in report["views"].items()
        ],
        "notes": _notes(report),
        "alpha": cfg["alpha"],
        "threshold": cfg.get("ad_threshold", 0.752),
        "schema_version": report.get("schema_version"),
    }
    return env.get_template("report.html.j2").render(**context)
