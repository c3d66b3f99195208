"""The notes every renderer lists under its tables: one function, one wording."""

from __future__ import annotations

__all__ = ["report_notes", "skipped_tests"]


def skipped_tests(view: dict) -> list[tuple[str, str]]:
    """(test, reason) for every test of one view that was skipped, in report order.

    Examples
    --------
    >>> skipped_tests({"coordinates": {"shapiro_wilk": {"skipped": "n > 5000"}},
    ...                "projections": {"n_projections": 0, "directions_skipped": "d = 1"}})
    [('shapiro_wilk', 'n > 5000'), ('projections', 'd = 1')]
    """
    out: list[tuple[str, str]] = []
    for section in ("coordinates", "multivariate"):
        for test, entry in (view.get(section) or {}).items():
            if isinstance(entry, dict) and "skipped" in entry:
                out.append((test, entry["skipped"]))
    proj = view.get("projections") or {}
    for key in ("skipped", "directions_skipped"):
        if key in proj:
            out.append(("projections", proj[key]))
    sub = proj.get("subspaces") or {}
    if "skipped" in sub:
        out.append(("subspaces", sub["skipped"]))
    return out


def report_notes(report: dict, *, skipped: bool = True) -> list[str]:
    """Global notes, then per-view notes and skipped tests, each with the views it concerns.

    ``skipped=False`` leaves out the skipped-test lines (the terminal's short
    report shows them only when verbose).

    A note shared by several views is written once (``"raw, whitened: ..."``);
    tests of one view skipped for the same reason are merged
    (``"skipped mardia, henze_zirkler: ..."``).

    Examples
    --------
    >>> report = {"notes": ["dropped 2 rows"], "views": {
    ...     "raw": {"notes": ["subsampled"], "multivariate": {
    ...         "mardia": {"skipped": "d > n"}, "henze_zirkler": {"skipped": "d > n"}}},
    ...     "whitened": {"notes": ["subsampled"]}}}
    >>> report_notes(report)
    ['dropped 2 rows', 'raw, whitened: subsampled', 'raw: skipped mardia, henze_zirkler: d > n']
    """
    lines = list(report.get("notes") or [])
    grouped: dict[str, list[str]] = {}
    for name, view in report["views"].items():
        for note in view.get("notes") or []:
            grouped.setdefault(note, []).append(name)
        by_reason: dict[str, list[str]] = {}
        for test, reason in skipped_tests(view) if skipped else ():
            by_reason.setdefault(reason, []).append(test)
        for reason, tests in by_reason.items():
            grouped.setdefault(f"skipped {', '.join(tests)}: {reason}", []).append(name)
    lines += [f"{', '.join(names)}: {text}" for text, names in grouped.items()]
    return lines
