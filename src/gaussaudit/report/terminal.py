"""Terminal rendering of the report model with rich tables."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from ._format import DASH, band_range, num, pct, printable
from ._headline import (
    diagnosis_sentences,
    effective_dimension_text,
    headline_summary,
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

__all__ = [
    "paper_rows",
    "render_terminal",
    "render_terminal_text",
    "renderables_text",
    "terminal_renderables",
]


def _flag(value: bool | None) -> Text:
    if value is None:
        return Text("n/a", style="dim")
    return Text("✓ yes", style="bold green") if value else Text("× no", style="bold red")


def _band(entry: dict) -> str:
    band = entry.get("null_band") or {}
    if band.get("low") is None:
        return ""
    return f" [dim][{band_range(band['low'], band['high'], percent=False)}][/dim]"


def _frac_cell(entry: dict | None) -> str:
    if not entry:
        return DASH
    if "skipped" in entry:
        return "[dim]skipped[/dim]"
    frac = entry.get("pass_fraction")
    band = entry.get("null_band") or {}
    style = ""
    if frac is not None and band.get("low") is not None and frac < band["low"]:
        style = "red"
    text = pct(frac) + _band(entry)
    return f"[{style}]{text}[/{style}]" if style else text


def _coord(v: dict, test: str) -> dict:
    return v.get("coordinates", {}).get(test) or {}


def _cv_references(v: dict) -> str:
    norms = v.get("norms")
    if not norms or "skipped" in norms:
        return DASH
    return num(norms["cv_isotropic_gaussian"]) + " / " + num(norms["cv_matched_gaussian"])


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
        ("CV of norms", [num((v.get("norms") or {}).get("cv")) for v in views]),
    ]
    if norm_details:
        rows.append(("  CV if Gaussian (iso / matched)", [_cv_references(v) for v in views]))
        rows.append(
            (
                "  effective dimension",
                [num((v.get("norms") or {}).get("effective_dimension")) for v in views],
            )
        )
    rows += [
        (f"AD avg (< {thr})", [num(_coord(v, "anderson_darling").get("mean")) for v in views]),
        ("AD % normal", [_frac_cell(_coord(v, "anderson_darling")) for v in views]),
        (
            f"DP avg p (> {alpha})",
            [num(_coord(v, "dagostino_pearson").get("mean_pvalue")) for v in views],
        ),
        ("DP % normal", [_frac_cell(_coord(v, "dagostino_pearson")) for v in views]),
        ("Gaussian? (paper rule)", [_flag(v["verdict"]["paper_rule"]) for v in views]),
        ("Gaussian? (calibrated)", [_flag(v["verdict"]["calibrated"]) for v in views]),
    ]
    return rows


def _paper_table(report: dict, *, norm_details: bool = True) -> Table:
    views = report["views"]
    alpha = report["config"]["alpha"]
    thr = report["config"]["ad_threshold"]
    table = Table(
        title="Gaussianity audit (paper's Table 1 layout)",
        box=box.SIMPLE_HEAVY,
        title_style="bold",
        caption=f"[dim]\\[a–b][/dim]: the 99% range for Gaussian data (a guide); alpha = {alpha}",
    )
    table.add_column("metric", style="bold")
    for name in views:
        table.add_column(name, justify="right")

    for row, cells in paper_rows(list(views.values()), thr, alpha, norm_details=norm_details):
        table.add_row(row, *cells)
    return table


def _more_table(report: dict) -> Table:
    views = report["views"]
    alpha = report["config"]["alpha"]
    table = Table(title="More tests", box=box.SIMPLE, title_style="bold")
    table.add_column("test", style="bold")
    for name in views:
        table.add_column(name, justify="right")
    for test in MORE_COORDINATE_TESTS:
        if any(test in v.get("coordinates", {}) for v in views.values()):
            table.add_row(
                f"{label(test)} % normal",
                *[_frac_cell(v["coordinates"].get(test)) for v in views.values()],
            )
    if any(v.get("coordinates") for v in views.values()):

        def holm(v: dict) -> str:
            parts = []
            for test in HOLM_TESTS:
                e = v.get("coordinates", {}).get(test)
                if e and "rejections" in e:
                    parts.append(f"{short(test)} {e['rejections']['holm']}/{e['n_tested']}")
            return ", ".join(parts) or DASH

        table.add_row(
            f"coords rejected (Holm at {alpha}, per test)", *[holm(v) for v in views.values()]
        )

    def mv(v: dict, test: str) -> str:
        e = v.get("multivariate", {}).get(test)
        if not e:
            return DASH
        if "skipped" in e:
            return "[dim]skipped[/dim]"
        if test == "mardia":
            return f"p={num(e['skewness']['pvalue'])} / {num(e['kurtosis']['pvalue'])}"
        return f"p={num(e['pvalue'])}"

    if any(v.get("multivariate") for v in views.values()):
        table.add_row("Mardia skew/kurt (full view)", *[mv(v, "mardia") for v in views.values()])
        table.add_row(
            f"{label('henze_zirkler')} (full view)",
            *[mv(v, "henze_zirkler") for v in views.values()],
        )
        for test in MULTIVARIATE_TESTS:  # further registered tests, when the report has them
            if test not in ("mardia", "henze_zirkler") and any(
                test in (v.get("multivariate") or {}) for v in views.values()
            ):
                table.add_row(f"{label(test)} (full view)", *[mv(v, test) for v in views.values()])

    def sub(v: dict, path: tuple[str, ...]) -> str:
        s = (v.get("projections") or {}).get("subspaces")
        if not s:
            return DASH
        if "skipped" in s:
            return "[dim]skipped[/dim]"
        e: Any = s
        for key in path:
            e = e.get(key) if isinstance(e, dict) else None
        if not isinstance(e, dict):
            return DASH
        frac, band = e["rejection_fraction"], e["null_band"]
        style = (
            "red" if frac is not None and band["high"] is not None and frac > band["high"] else ""
        )
        text = f"{pct(frac)} [dim][{band_range(0.0, band['high'], percent=False)}][/dim]"
        return f"[{style}]{text}[/{style}]" if style else text

    if any((v.get("projections") or {}).get("subspaces") for v in views.values()):
        first = next(v for v in views.values() if (v.get("projections") or {}).get("subspaces"))
        s = first["projections"]["subspaces"]
        k = s.get("k", "?")
        count = s.get("n_subspaces", "?")
        table.add_row(f"subspaces k={k} (×{count}) rejecting:", *["" for _ in views])
        for path, family in SUBSPACE_FAMILIES:
            ran = path[0] in (report.get("config") or {}).get("tests", ())
            if not ran and not any(_has_subspace_family(v, path) for v in views.values()):
                continue  # a test not run (energy, ... are opt-in)
            table.add_row(f"  {family}", *[sub(v, path) for v in views.values()])

    if any((v.get("projections") or {}).get("n_projections") for v in views.values()):
        first = next(v for v in views.values() if (v.get("projections") or {}).get("n_projections"))
        table.add_row(
            f"random directions (×{first['projections']['n_projections']}) % normal:",
            *["" for _ in views],
        )
        for test in PROJECTION_TESTS:
            table.add_row(
                f"  {label(test)}",
                *[_frac_cell((v.get("projections") or {}).get(test)) for v in views.values()],
            )
    return table


def _header(report: dict) -> Text:
    inp = report["input"]
    text = Text()
    text.append("gaussaudit ", style="bold")
    text.append(f"{report['tool']['version']}  ")
    text.append(f"{inp['source']}", style="cyan")
    text.append(f"  n={inp['n']} d={inp['d']} dtype={inp['dtype']}")
    first = next(iter(report["views"].values()), None)
    eff = effective_dimension_text(first) if first else ""
    if eff:  # the first (raw) view's: how many directions carry the variance
        text.append(f"\n{eff}", style="bold")
        text.append(" (participation ratio of the covariance spectrum)", style="dim")
    prov = inp.get("provenance") or {}
    if prov:
        bits = [f"{k}={prov[k]}" for k in ("encoder", "layer", "dataset", "split") if k in prov]
        if bits:
            text.append("\nprovenance: " + ", ".join(bits), style="dim")
    return text


_STATUS_STYLE = {
    "pass": "bold green",
    "fail": "bold red",
    "na": "bold yellow",
    "negligible": "bold yellow",
}


def _headline_block(report: dict) -> Group:
    """Build the verdict, then one line per view: verdict, what failed and by how much."""
    verdict = report["verdict"]["gaussian"]
    style = {None: "bold yellow", True: "bold green", False: "bold red"}[verdict]
    title = Text("Verdict: ", style=style)
    title.append(headline_summary(report), style=style)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for head in view_headlines(report):
        line = Text(head.phrase, style=_STATUS_STYLE[head.status])
        details = head.details(failures=1)
        if details:
            line.append("; " + details)
        grid.add_row(head.view, line)
    return Group(title, grid)


def _diagnosis_block(report: dict) -> Group | None:
    rows = diagnosis_sentences(report)
    if not rows:
        return None
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for view, sentence in rows:
        grid.add_row(view, sentence)
    return Group(Text("Diagnosis (the first finding per view)", style="bold"), grid)


def _thresholds_block(report: dict) -> Group:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(style="dim")
    for line in threshold_notes(report):
        grid.add_row("•", line)
    return Group(Text("Thresholds", style="bold"), grid)


def _reasons_block(report: dict) -> Group:
    """Every reason of every view, the calibrated verdict's collapsed per view (verbose)."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_column()
    for name, view in report["views"].items():
        verdict = view["verdict"]
        reasons = list(verdict.get("reasons") or [])
        rows: list[tuple[str, str]] = []
        for reason in reasons:
            if reason.startswith("paper rule:"):
                rows.append((f"paper rule {_mark(verdict.get('paper_rule'))}", _after(reason)))
        details = calibrated_details(view, report["config"].get("alpha"))
        for i, line in enumerate(
            details or ([""] if verdict.get("calibrated") is not None else [])
        ):
            label = f"calibrated {_mark(verdict.get('calibrated'))}" if i == 0 else ""
            rows.append((label, line))
        for reason in reasons:
            if reason.startswith("practical:"):
                rows.append((f"size {_mark(verdict.get('practically_gaussian'))}", _after(reason)))
        for i, (label, text) in enumerate(rows):
            grid.add_row(name if i == 0 else "", label, text)
    return Group(Text("Why, per view (every reason)", style="bold"), grid)


def _after(reason: str) -> str:
    return reason.split(":", 1)[1].strip()


def _mark(value: bool | None) -> str:
    return "–" if value is None else ("✓" if value else "×")


def terminal_renderables(report: dict, *, verbose: bool = False) -> list[Any]:
    """Return the rich renderables of a report, in print order.

    The audit opens with its verdict: one line per view (the verdict, what
    failed and by how much, the departure with its 95 % interval against the
    margin, the diagnosis), the diagnosis sentences and every threshold in
    words, then the paper-style table. ``verbose`` adds the per-test table,
    every reason (the calibrated verdict's collapsed to one line per view) and
    every note. A report with a ``gates`` key (``gaussaudit check``) is
    followed by the gate table and the gate config it came from
    (:mod:`gaussaudit.report.gates`).

    Parameters
    ----------
    report : dict
        The report model from :func:`gaussaudit.report.build_report`.
    verbose : bool
        Add the details.

    Returns
    -------
    list
        Each item is printed with ``console.print``.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussaudit import audit, build_report
    >>> report = build_report(audit(np.random.default_rng(0).standard_normal((200, 4))))
    >>> len(terminal_renderables(report))
    1
    """
    report = printable(report)  # fields from files never carry escape sequences
    parts: list[Any] = [_header(report), _headline_block(report)]
    diagnosis = _diagnosis_block(report)
    if diagnosis is not None:
        parts.append(diagnosis)
    parts.append(_thresholds_block(report))
    parts.append(_paper_table(report, norm_details=verbose))
    if verbose:
        parts.append(_more_table(report))
        parts.append(_reasons_block(report))
    notes = report_notes(report, skipped=verbose)
    if notes:
        parts.append(Text("Notes", style="bold"))
        parts.extend(Text(f"• {line}", style="dim") for line in notes)
    if not verbose:
        parts.append(
            Text(
                "More: every test, reason and note with --verbose (verbose=True in Python).",
                style="dim",
            )
        )
    out: list[Any] = [Group(*parts)]
    if "gates" in report:
        from .gates import gates_renderables

        out += gates_renderables(report["gates"])
    return out


def render_terminal(report: dict, console: Console | None = None, *, verbose: bool = False) -> None:
    """Print the report model: the verdict per view first, then the paper-style table.

    Parameters
    ----------
    report : dict
        The report model from :func:`gaussaudit.report.build_report`.
    console : rich.console.Console, optional
        Where to print (standard output by default).
    verbose : bool
        Also print every test, every reason and every note.

    Examples
    --------
    >>> import io, numpy as np
    >>> from rich.console import Console
    >>> from gaussaudit import audit, build_report
    >>> report = build_report(audit(np.random.default_rng(0).standard_normal((200, 4))))
    >>> console = Console(file=io.StringIO(), width=100)
    >>> render_terminal(report, console)
    >>> "Verdict" in console.file.getvalue()
    True
    """
    console = console or Console()
    for part in terminal_renderables(report, verbose=verbose):
        console.print(part)


def renderables_text(parts: list[Any], *, width: int = 120) -> str:
    r"""Plain text of rich renderables, as a terminal of ``width`` columns shows them.

    Examples
    --------
    >>> from rich.text import Text
    >>> renderables_text([Text("a"), Text("b")])
    'a\nb\n'
    """
    import io

    console = Console(record=True, width=width, file=io.StringIO())
    for part in parts:
        console.print(part)
    return console.export_text()


def render_terminal_text(report: dict, *, width: int = 120, verbose: bool = False) -> str:
    """Render the terminal report as plain text (no colour), e.g. for a file.

    Parameters
    ----------
    report : dict
        The report model.
    width : int
        Columns of the virtual terminal.
    verbose : bool
        Also write every test, every reason and every note.

    Returns
    -------
    str
    """
    return renderables_text(terminal_renderables(report, verbose=verbose), width=width)


def _has_subspace_family(view: dict, path: tuple[str, ...]) -> bool:
    """Whether a view's subspace results hold the family at ``path``."""
    e: Any = (view.get("projections") or {}).get("subspaces")
    for key in path:
        e = e.get(key) if isinstance(e, dict) else None
    return isinstance(e, dict)
