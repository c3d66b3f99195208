"""Terminal rendering of the report model with rich tables."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

__all__ = ["render_terminal"]


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _num(x: float | None, digits: int = 3) -> str:
    if x is None:
        return "–"
    if x != 0 and (abs(x) < 10 ** (-digits) or abs(x) >= 1e5):
        return f"{x:.2e}"
    return f"{x:.{digits}g}"


def _flag(value: bool | None) -> Text:
    if value is None:
        return Text("n/a", style="dim")
    return Text("✓ yes", style="bold green") if value else Text("× no", style="bold red")


def _band(entry: dict) -> str:
    band = entry.get("null_band") or {}
    if band.get("low") is None:
        return ""
    return f" [dim][{100 * band['low']:.0f}–{100 * band['high']:.0f}][/dim]"


def _frac_cell(entry: dict | None) -> str:
    if not entry:
        return "–"
    if "skipped" in entry:
        return "[dim]skipped[/dim]"
    frac = entry.get("pass_fraction")
    band = entry.get("null_band") or {}
    style = ""
    if frac is not None and band.get("low") is not None and frac < band["low"]:
        style = "red"
    text = _pct(frac) + _band(entry)
    return f"[{style}]{text}[/{style}]" if style else text


def _coord(v: dict, test: str) -> dict:
    return v.get("coordinates", {}).get(test) or {}


def _cv_references(v: dict) -> str:
    norms = v.get("norms")
    if not norms or "skipped" in norms:
        return "–"
    return _num(norms["cv_isotropic_gaussian"]) + " / " + _num(norms["cv_matched_gaussian"])


def paper_rows(
    views: list[dict], thr: float, alpha: float, *, norm_details: bool = True
) -> list[tuple[str, list]]:
    """Build the paper-style rows (label, one cell per view) every terminal table shows.

    Parameters
    ----------
    views : list of dict
        ``report["views"][name]`` entries, one per column.
    thr, alpha : float
        The AD threshold and level, for the row labels.
    norm_details : bool
        Include the Gaussian-reference CVs and the effective dimension.
    """
    rows: list[tuple[str, list]] = [
        ("n × d", [f"{v['n']} × {v['d']}" for v in views]),
        ("CV of norms", [_num((v.get("norms") or {}).get("cv")) for v in views]),
    ]
    if norm_details:
        rows.append(("  CV if Gaussian (iso / matched)", [_cv_references(v) for v in views]))
        rows.append(
            (
                "  effective dimension",
                [_num((v.get("norms") or {}).get("effective_dimension")) for v in views],
            )
        )
    rows += [
        (f"AD avg (< {thr})", [_num(_coord(v, "anderson_darling").get("mean")) for v in views]),
        ("AD % normal", [_frac_cell(_coord(v, "anderson_darling")) for v in views]),
        (
            f"DP avg p (> {alpha})",
            [_num(_coord(v, "dagostino_pearson").get("mean_pvalue")) for v in views],
        ),
        ("DP % normal", [_frac_cell(_coord(v, "dagostino_pearson")) for v in views]),
        ("Gaussian? (paper rule)", [_flag(v["verdict"]["paper_rule"]) for v in views]),
        ("Gaussian? (calibrated)", [_flag(v["verdict"]["calibrated"]) for v in views]),
    ]
    return rows


def _paper_table(report: dict) -> Table:
    views = report["views"]
    alpha = report["config"]["alpha"]
    thr = report["config"]["ad_threshold"]
    table = Table(
        title="Gaussianity audit (paper's Table 1 layout)",
        box=box.SIMPLE_HEAVY,
        title_style="bold",
        caption=f"pass fractions: [dim][99% null band][/dim]; level alpha = {alpha}",
    )
    table.add_column("metric", style="bold")
    for name in views:
        table.add_column(name, justify="right")

    for label, cells in paper_rows(list(views.values()), thr, alpha, norm_details=True):
        table.add_row(label, *cells)
    return table


def _more_table(report: dict) -> Table:
    views = report["views"]
    alpha = report["config"]["alpha"]
    table = Table(title="More tests", box=box.SIMPLE, title_style="bold")
    table.add_column("test", style="bold")
    for name in views:
        table.add_column(name, justify="right")
    for test, label in (
        ("shapiro_wilk", "Shapiro–Wilk % normal"),
        ("jarque_bera", "Jarque–Bera % normal"),
        ("lilliefors", "Lilliefors % normal"),
    ):
        if any(test in v.get("coordinates", {}) for v in views.values()):
            table.add_row(label, *[_frac_cell(v["coordinates"].get(test)) for v in views.values()])
    if any(v.get("coordinates") for v in views.values()):

        def holm(v: dict) -> str:
            parts = []
            for test, short in (("anderson_darling", "AD"), ("dagostino_pearson", "DP")):
                e = v.get("coordinates", {}).get(test)
                if e and "rejections" in e:
                    parts.append(f"{short} {e['rejections']['holm']}/{e['n_tested']}")
            return ", ".join(parts) or "–"

        table.add_row(f"coords rejected (Holm, {alpha})", *[holm(v) for v in views.values()])

    def mv(v: dict, test: str) -> str:
        e = v.get("multivariate", {}).get(test)
        if not e:
            return "–"
        if "skipped" in e:
            return "[dim]skipped[/dim]"
        if test == "mardia":
            return f"p={_num(e['skewness']['pvalue'])} / {_num(e['kurtosis']['pvalue'])}"
        return f"p={_num(e['pvalue'])}"

    if any(v.get("multivariate") for v in views.values()):
        table.add_row("Mardia skew/kurt (full view)", *[mv(v, "mardia") for v in views.values()])
        table.add_row(
            "Henze–Zirkler (full view)", *[mv(v, "henze_zirkler") for v in views.values()]
        )

    def sub(v: dict, path: tuple[str, ...]) -> str:
        s = (v.get("projections") or {}).get("subspaces")
        if not s:
            return "–"
        if "skipped" in s:
            return "[dim]skipped[/dim]"
        e: Any = s
        for key in path:
            e = e[key]
        frac, band = e["rejection_fraction"], e["null_band"]
        style = (
            "red" if frac is not None and band["high"] is not None and frac > band["high"] else ""
        )
        text = f"{_pct(frac)} [dim][0–{100 * band['high']:.0f}][/dim]"
        return f"[{style}]{text}[/{style}]" if style else text

    if any((v.get("projections") or {}).get("subspaces") for v in views.values()):
        first = next(v for v in views.values() if (v.get("projections") or {}).get("subspaces"))
        s = first["projections"]["subspaces"]
        k = s.get("k", "?")
        count = s.get("n_subspaces", "?")
        table.add_row(f"subspaces k={k} (×{count}) rejecting:", *["" for _ in views])
        table.add_row(
            "  Mardia skewness", *[sub(v, ("mardia", "skewness")) for v in views.values()]
        )
        table.add_row(
            "  Mardia kurtosis", *[sub(v, ("mardia", "kurtosis")) for v in views.values()]
        )
        table.add_row("  Henze–Zirkler", *[sub(v, ("henze_zirkler",)) for v in views.values()])

    if any((v.get("projections") or {}).get("n_projections") for v in views.values()):
        first = next(v for v in views.values() if (v.get("projections") or {}).get("n_projections"))
        table.add_row(
            f"random directions (×{first['projections']['n_projections']}) % normal:",
            *["" for _ in views],
        )
        for test, label in (
            ("anderson_darling", "  Anderson–Darling"),
            ("dagostino_pearson", "  D'Agostino–Pearson"),
            ("epps_pulley", "  Epps–Pulley"),
        ):
            table.add_row(
                label, *[_frac_cell((v.get("projections") or {}).get(test)) for v in views.values()]
            )
    return table


def _notes(report: dict) -> list[str]:
    """Global notes, per-view notes and skipped tests, identical reasons merged."""
    lines = list(report.get("notes", []))
    grouped: dict[str, list[str]] = {}
    for name, v in report["views"].items():
        for note in v.get("notes", []):
            grouped.setdefault(note, []).append(name)
        skipped: list[tuple[str, str]] = []
        for section in ("coordinates", "multivariate"):
            for test, e in (v.get(section) or {}).items():
                if isinstance(e, dict) and "skipped" in e:
                    skipped.append((test, e["skipped"]))
        proj = v.get("projections") or {}
        if "skipped" in proj:
            skipped.append(("projections", proj["skipped"]))
        sub = proj.get("subspaces") or {}
        if "skipped" in sub:
            skipped.append(("subspaces", sub["skipped"]))
        by_reason: dict[str, list[str]] = {}
        for test, reason in skipped:
            by_reason.setdefault(reason, []).append(test)
        for reason, tests in by_reason.items():
            grouped.setdefault(f"skipped {', '.join(tests)}: {reason}", []).append(name)
    for text, names in grouped.items():
        lines.append(f"{', '.join(names)}: {text}")
    return lines


def _header(report: dict) -> Text:
    inp = report["input"]
    text = Text()
    text.append("gaussaudit ", style="bold")
    text.append(f"{report['tool']['version']}  ")
    text.append(f"{inp['source']}", style="cyan")
    text.append(f"  n={inp['n']} d={inp['d']} dtype={inp['dtype']}")
    prov = inp.get("provenance") or {}
    if prov:
        bits = [f"{k}={prov[k]}" for k in ("encoder", "layer", "dataset", "split") if k in prov]
        if bits:
            text.append("\nprovenance: " + ", ".join(bits), style="dim")
    return text


def _verdict_panel(report: dict) -> Panel:
    verdict = report["verdict"]["gaussian"]
    which = report["config"]["verdict"]
    lines = Text()
    if verdict is None:
        lines.append("Verdict: undecided", style="bold yellow")
    elif verdict:
        lines.append("Verdict: Gaussian", style="bold green")
    else:
        lines.append("Verdict: not Gaussian", style="bold red")
    lines.append(f"  ({which} rule, all views)\n", style="dim")
    for name, v in report["views"].items():
        for reason in v["verdict"]["reasons"]:
            lines.append(f"{name}: {reason}\n", style="dim" if "calibrated:" in reason else "")
    style = "green" if verdict else ("yellow" if verdict is None else "red")
    return Panel(lines, border_style=style, expand=False)


def render_terminal(report: dict, console: Console | None = None) -> None:
    """Print the report model as rich tables.

    Parameters
    ----------
    report : dict
        The report model from :func:`gaussaudit.report.build_report`.
    console : rich.console.Console, optional
        Where to print (standard output by default).
    """
    console = console or Console()
    parts: list[Any] = [_header(report), _paper_table(report), _more_table(report)]
    notes = _notes(report)
    if notes:
        parts.append(Text("Notes", style="bold"))
        parts.extend(Text(f"• {line}", style="dim") for line in notes)
    parts.append(_verdict_panel(report))
    console.print(Group(*parts))
