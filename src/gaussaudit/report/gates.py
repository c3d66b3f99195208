"""Rendering of gate outcomes (``gaussaudit check``): rich table and Markdown.

Both read the ``gates`` key of the report model (what
:meth:`gaussaudit.gate.GateResult.to_dict` returns); a ``GateResult`` is
accepted too and converted.
"""

from __future__ import annotations

from typing import Any

from ._format import value_text, verdict_word

__all__ = ["gates_caption", "gates_markdown", "gates_renderables", "gates_table"]


def _as_dict(gates: Any) -> dict:
    return gates.to_dict() if hasattr(gates, "to_dict") else gates


def _measured(outcome: dict) -> str:
    if outcome["name"] == "require_verdict":
        return verdict_word(outcome["measured"])
    return value_text(outcome["measured"])


def _threshold(outcome: dict) -> str:
    if outcome["name"] == "require_verdict":
        return "Gaussian"
    return f"{outcome.get('op', '')} {value_text(outcome['threshold'])}".strip()


def _failed(gates: dict) -> list[dict]:
    return [o for o in gates["outcomes"] if not o["passed"]]


def gates_table(gates: Any, *, title: str | None = None):
    """Gate outcomes as one rich renderable: a table (gate, view, measured, threshold, result).

    Below the table, one line per gate that failed or measured nothing, with its detail.

    Parameters
    ----------
    gates : dict or GateResult
        The report's ``gates`` key.
    title : str, optional
        Defaults to ``"Gates: k of m passed"``.

    Examples
    --------
    >>> gates = {"passed": True, "outcomes": [{"name": "max_cv", "view": "raw",
    ...     "measured": 0.21, "threshold": 0.3, "passed": True, "detail": "", "op": "<="}]}
    >>> from gaussaudit.report.terminal import renderables_text
    >>> "Gates: 1 of 1 passed" in renderables_text([gates_table(gates)])
    True
    """
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    gates = _as_dict(gates)
    outcomes = gates["outcomes"]
    n_failed = len(_failed(gates))
    table = Table(
        title=title
        or (
            f"Gates: {len(outcomes) - n_failed} of {len(outcomes)} passed"
            if outcomes
            else "Gates: none set"
        ),
        box=box.SIMPLE_HEAVY,
        title_style="bold",
    )
    table.add_column("gate", overflow="fold")
    table.add_column("view")
    table.add_column("measured", justify="right")
    table.add_column("threshold", justify="right")
    table.add_column("result", no_wrap=True)
    for o in outcomes:
        flag = Text("pass", style="bold green") if o["passed"] else Text("FAIL", style="bold red")
        table.add_row(o["name"], o["view"], _measured(o), _threshold(o), flag)
    lines = [
        Text(
            f"• {o['name']} [{o['view']}]: {o['detail']}", style="red" if not o["passed"] else "dim"
        )
        for o in outcomes
        if not o["passed"] or o["measured"] is None
    ]
    return Group(table, *lines)


def gates_caption(gates: Any) -> str:
    """Rich markup naming the gate config file (or the defaults)."""
    source = _as_dict(gates).get("config_file") or "defaults (no config file)"
    return f"[dim]gate config: {source}[/dim]"


def gates_renderables(gates: Any) -> list[Any]:
    """Return the gate table and the config caption, in print order."""
    return [gates_table(gates), gates_caption(gates)]


def gates_markdown(gates: Any, *, source: str | None = None) -> str:
    """Render the gate outcomes as a GitHub-flavoured Markdown table (for a CI step summary).

    Parameters
    ----------
    gates : dict or GateResult
        The report's ``gates`` key.
    source : str, optional
        The audited input, named under the heading.

    Returns
    -------
    str
        Ends with a newline.

    Examples
    --------
    >>> print(gates_markdown({"passed": True, "outcomes": []}))
    ### gaussaudit check: passed
    <BLANKLINE>
    No gate is set.
    <BLANKLINE>
    """
    gates = _as_dict(gates)
    outcomes = gates["outcomes"]
    failed = _failed(gates)
    passed = not failed
    status = "passed" if passed else f"failed ({len(failed)} of {len(outcomes)})"
    lines = [f"### gaussaudit check: {status}", ""]
    if source:
        lines += [f"Input: `{source}`", ""]
    if not outcomes:
        return "\n".join([*lines, "No gate is set.", ""])
    lines += [
        "| gate | view | measured | threshold | result |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    for o in outcomes:
        mark = "✅ pass" if o["passed"] else "❌ **fail**"
        lines.append(
            f"| `{o['name']}` | {o['view']} | {_measured(o)} | "
            f"{_threshold(o).replace('|', '/')} | {mark} |"
        )
    details = [f"- `{o['name']}` ({o['view']}): {o['detail']}" for o in failed]
    return "\n".join([*lines, "", *details, ""] if details else [*lines, ""])
