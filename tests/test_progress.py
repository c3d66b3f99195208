"""The audit reports its steps; the command line draws them only on a terminal."""

import io

import numpy as np
from rich.console import Console

from gaussaudit.cli._progress import audit_progress
from gaussaudit.stats import audit

FAST = {"projections": 8, "subspaces": 2, "subspace_dim": 3, "multivariate_max_rows": 300}


def test_audit_reports_every_step_then_done(rng):
    calls = []
    x = rng.standard_normal((300, 12))
    audit(x, views=("raw", "normalized"), progress=lambda *a: calls.append(a), **FAST)
    labels = [label for label, _, _ in calls]
    steps = [
        "norms",
        "per-coordinate tests",
        "full-view multivariate tests",
        "subspace tests",
        "random projections",
    ]
    assert labels == [f"raw: {s}" for s in steps] + [f"normalized: {s}" for s in steps] + ["done"]
    assert [done for _, done, _ in calls] == list(range(11))
    assert {total for _, _, total in calls} == {10}


def test_steps_follow_the_tests_asked_for(rng):
    calls = []
    audit(
        rng.standard_normal((300, 12)),
        views=("raw",),
        tests=("anderson_darling",),
        progress=lambda *a: calls.append(a),
    )
    assert calls == [("raw: per-coordinate tests", 0, 1), ("done", 1, 1)]


def test_bar_drawn_on_a_terminal_and_removed_after():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with audit_progress(console) as progress:
        assert progress is not None
        progress("raw: norms", 0, 2)
        progress("done", 2, 2)
    assert "auditing" in out.getvalue()


def test_no_bar_when_not_a_terminal():
    console = Console(file=io.StringIO(), force_terminal=False)
    with audit_progress(console) as progress:
        assert progress is None
    assert console.file.getvalue() == ""


def test_cli_keeps_stderr_clean_in_pipes(tmp_path, rng, capsys):
    from gaussaudit.cli import main

    path = tmp_path / "emb.npy"
    np.save(path, rng.standard_normal((200, 6)))
    code = main(["test", str(path), "--tests", "norms", "--report", "json"])
    captured = capsys.readouterr()
    assert code == 0 and captured.err == "" and captured.out.startswith("{")
