"""The audit reports its steps; the command line draws them only on a terminal."""

import io

import numpy as np
import pytest
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


# ------------------------------------------------------- long work in a log


PLAIN_LINE = (
    r"^(?P<label>.+): (?P<done>[\d,]+)/(?P<total>[\d,]+) (?P<unit>\w+) \((?P<pct>\d+)%\), "
    r"elapsed (?P<elapsed>[^,]+), (?P<rate>[\d.,]+ (?:\w+/s|s/\w+)), ETA (?P<eta>[^,]+)"
    r"(?:, .*)?$"
)


def _clock(times):
    it = iter(times)
    return lambda: next(it)


def test_plain_lines_parse_with_elapsed_rate_and_eta():
    import re

    from gaussaudit.progress import LineProgress

    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=40)  # narrow: lines must not wrap
    # start, then 10 updates 40 s apart (every one is due: 30 s passed), then stop
    clock = _clock([0.0] + [40.0 * k for k in range(1, 11)])
    with LineProgress(console, unit="steps", clock=clock) as bar:
        task = bar.add_task("epoch 1/2 of a long description", total=10, loss="–", rate="3")
        for _ in range(10):
            bar.update(task, advance=1, loss="1.2345")
    lines = out.getvalue().splitlines()
    assert len(lines) == 10
    parsed = [re.match(PLAIN_LINE, line) for line in lines]
    assert all(parsed), lines
    first, last = parsed[0], parsed[-1]
    assert first["label"] == "epoch 1/2 of a long description" and first["unit"] == "steps"
    assert (first["done"], first["total"], first["pct"]) == ("1", "10", "10")
    assert first["rate"] == "40.0 s/step" and first["eta"] == "6 min 00 s"
    assert last["done"] == "10" and last["eta"] == "0 s" and last["elapsed"] == "6 min 40 s"
    assert lines[0].endswith(", loss 1.2345") and "rate" not in lines[0]


def test_plain_lines_every_tenth_not_every_update():
    from gaussaudit.progress import LineProgress

    out = io.StringIO()
    # 100 fast updates, 1 s apart: a line per 10 % (min 5 s apart) and the last
    clock = _clock([float(k) for k in range(0, 102)])
    with LineProgress(Console(file=out), unit="items", clock=clock) as bar:
        task = bar.add_task("embed", total=100)
        for k in range(1, 101):
            bar.update(task, completed=k)
    lines = out.getvalue().splitlines()
    assert 9 <= len(lines) <= 11
    assert lines[-1].startswith("embed: 100/100 items (100%)")


def test_progress_display_bar_on_a_terminal_lines_in_a_log():
    from rich.progress import Progress

    from gaussaudit.progress import LineProgress, progress_display

    log = Console(file=io.StringIO(), force_terminal=False)
    tty = Console(file=io.StringIO(), force_terminal=True)
    assert isinstance(progress_display(log, ()), LineProgress)
    assert isinstance(progress_display(tty, ()), Progress)
    assert isinstance(progress_display(log, (), enabled=False), Progress)  # disabled: silent


def test_work_estimate_printed_once_and_only_for_long_jobs():
    from gaussaudit.progress import WorkEstimate

    out = io.StringIO()
    est = WorkEstimate(
        Console(file=out),
        10_000,
        "embed texts: 10,000 items",
        hint="--limit N",
        clock=_clock([0.0, 5.0, 12.0, 20.0]),
    )
    for done in (32, 64, 96):
        est.update(done)
    text = out.getvalue()
    assert text.count("estimated") == 1
    assert text.startswith("embed texts: 10,000 items: estimated 31 min 15 s in all")
    assert "(timed on the first 64)" in text and text.strip().endswith("--limit N")
    quiet = io.StringIO()
    short = WorkEstimate(Console(file=quiet), 100, "x", clock=_clock([0.0, 1.0, 2.0]))
    short.update(50)
    short.update(100)
    assert quiet.getvalue() == "" and short.seconds == pytest.approx(2.0)


def test_third_party_bars_switched_off_inside_and_restored():
    hub = pytest.importorskip("huggingface_hub.utils")
    from gaussaudit.progress import quiet_third_party_progress

    hub.enable_progress_bars()
    with quiet_third_party_progress():
        assert hub.are_progress_bars_disabled()
    assert not hub.are_progress_bars_disabled()
