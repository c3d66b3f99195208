"""Hostile and careless use of the commands (issue 13): one line, a documented exit
code, nothing of the user's replaced, no gate that fails open.

The reader-level cases (special files, forged headers, sidecars, signals, fuzzing of
the readers) live in ``test_io_safety.py`` and ``test_io_fuzz.py``; this file keeps
the command-level cases and fuzzes the config and report parsers.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaussaudit.cli import main
from gaussaudit.compare import compare_reports, load_report
from gaussaudit.errors import GaussAuditError
from gaussaudit.gate import GateConfig, evaluate_gates, gate_config_from_mapping, load_gate_config

FAST = ["--projections", "4", "--subspaces", "0", "--tests", "norms,anderson_darling"]


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> bool:
    lines = [line for line in err.splitlines() if line.strip()]
    return len(lines) == 1 and lines[0].startswith("gaussaudit: error:") and "Traceback" not in err


@pytest.fixture
def emb(tmp_path):
    path = tmp_path / "emb.npy"
    np.save(path, np.random.default_rng(0).standard_normal((60, 4)))
    return path


@pytest.fixture
def report_json(tmp_path, emb, capsys):
    out = tmp_path / "base.json"
    code, _, err = run(["test", emb, *FAST, "--report", "json", "--out", out], capsys)
    assert code == 0, err
    return out


# ------------------------------------------------------------------ outputs


@pytest.mark.parametrize("command", ["test", "check"])
def test_out_equal_to_input_is_refused_and_input_kept(command, emb, capsys):
    before = emb.read_bytes()
    code, _, err = run([command, emb, *FAST, "--out", emb], capsys)
    assert code == 2 and one_line_error(err) and "input" in err
    assert emb.read_bytes() == before


def test_check_summary_into_the_input_is_refused(emb, capsys):
    before = emb.read_bytes()
    code, _, err = run(["check", emb, *FAST, "--summary", emb], capsys)
    assert code == 2 and one_line_error(err)
    assert emb.read_bytes() == before


def test_compare_out_equal_to_baseline_is_refused(report_json, capsys):
    before = report_json.read_bytes()
    code, _, err = run(["compare", report_json, report_json, "--out", report_json], capsys)
    assert code == 2 and one_line_error(err)
    assert report_json.read_bytes() == before


@pytest.mark.skipif(os.name != "posix", reason="FIFOs are POSIX")
def test_out_fifo_is_refused_before_the_audit(tmp_path, emb, capsys):
    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)
    code, _, err = run(["test", emb, *FAST, "--out", fifo], capsys)
    assert code == 2 and one_line_error(err) and "FIFO" in err
    assert os.path.exists(fifo) and not os.path.isfile(fifo)


def test_out_in_missing_directory_names_the_users_path(tmp_path, emb, capsys):
    out = tmp_path / "nope" / "r.json"
    code, _, err = run(["test", emb, *FAST, "--out", out], capsys)
    assert code == 2 and one_line_error(err) and str(out) in err and ".tmp" not in err


# ------------------------------------------------------------------ compare fails closed


@pytest.mark.parametrize(
    "value",
    ["nan", "null", '"0.99"', "[0.9]", "9" * 5000],
    ids=["nan", "null", "str", "list", "big"],
)
def test_compare_garbage_metric_exits_1_not_0_or_4(tmp_path, report_json, value, capsys):
    text = report_json.read_text()
    data = json.loads(text)
    fraction = data["views"]["raw"]["coordinates"]["anderson_darling"]["pass_fraction"]
    marker = json.dumps(fraction)
    new = tmp_path / "new.json"
    new.write_text(text.replace(f'"pass_fraction": {marker}', f'"pass_fraction": {value}', 1))
    code, _, err = run(["compare", report_json, new], capsys)
    assert code in (1, 2), err
    assert "Traceback" not in err and "internal error" not in err


def test_compare_missing_section_fails_unless_allowed(tmp_path, report_json, capsys):
    data = json.loads(report_json.read_text())
    del data["views"]["raw"]["coordinates"]
    new = tmp_path / "new.json"
    new.write_text(json.dumps(data))
    assert run(["compare", report_json, new], capsys)[0] == 1
    assert run(["compare", report_json, new, "--allow-missing"], capsys)[0] == 0


def test_deeply_nested_report_is_exit_2(tmp_path, report_json, capsys):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    code, _, err = run(["compare", report_json, deep], capsys)
    assert code == 2 and one_line_error(err)


# ------------------------------------------------------------------ bad settings


@pytest.mark.parametrize(
    "flags",
    [["--seed", "-1"], ["--alpha", "2"], ["--projections", "-3"], ["--view", "rwa"]],
    ids=["seed", "alpha", "projections", "view"],
)
def test_bad_settings_are_exit_2(emb, flags, capsys):
    code, _, err = run(["test", emb, *flags], capsys)
    assert code == 2 and one_line_error(err)


def test_nested_config_is_exit_2(tmp_path, emb, capsys):
    cfg = tmp_path / "g.toml"
    cfg.write_text("a = " + "[" * 500 + "]" * 500 + "\n")
    code, _, err = run(["check", emb, *FAST, "--config", cfg], capsys)
    assert code == 2 and one_line_error(err)


@pytest.mark.parametrize("view", ["raw", "all"])
def test_extreme_values_are_not_an_internal_error(tmp_path, view, capsys):
    # values at +-1.797e308 (the float max): every kernel rescales by a power of two
    # first, so nothing overflows (RuntimeWarnings are errors under this suite)
    path = tmp_path / "big.npy"
    x = np.random.default_rng(0).standard_normal((50, 4))
    x[0, 0], x[1, 1] = 1.797e308, -1.797e308
    np.save(path, x)
    code, _, err = run(["test", path, "--view", view, "--subspaces", "0"], capsys)
    assert code in (0, 2), err
    assert "internal error" not in err and "Traceback" not in err


# ------------------------------------------------------------------ terminal hygiene


def test_control_characters_in_provenance_never_reach_the_terminal(tmp_path, emb, capsys):
    (tmp_path / "emb.json").write_text(
        json.dumps({"encoder": "evil\x1b]0;owned\x07\x1b[2J", "dataset": "d\x1b[31m"})
    )
    code, out, err = run(["test", emb, *FAST], capsys)
    assert code == 0, err
    assert "\x1b]0" not in out and "\x1b[2J" not in out and "\x07" not in out
    code, out, _ = run(["test", emb, *FAST, "--report", "markdown"], capsys)
    assert code == 0 and "\x1b" not in out and "\x07" not in out


# ------------------------------------------------------------------ parser fuzzing

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**6), max_value=10**6)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)
_keys = st.sampled_from(
    ["alpha", "seed", "views", "tests", "max_cv", "no_rejection", "require_verdict",
     "projections", "on_skip", "pca", "min_ad_pass_fraction", "bogus"]
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_keys, _json, max_size=5))
def test_fuzz_gate_config_mapping(values):
    try:
        cfg = gate_config_from_mapping(values)
    except GaussAuditError:
        return
    assert isinstance(cfg, GateConfig)


_view = st.fixed_dictionaries(
    {},
    optional={
        "norms": st.dictionaries(st.sampled_from(["cv", "mean"]), _json, max_size=2),
        "coordinates": st.dictionaries(
            st.sampled_from(["anderson_darling", "dagostino_pearson"]),
            st.dictionaries(
                st.sampled_from(["pass_fraction", "mean", "mean_pvalue", "pvalues", "skipped"]),
                _json,
                max_size=3,
            ),
            max_size=2,
        ),
        "verdict": st.dictionaries(
            st.sampled_from(["paper_rule", "calibrated", "gaussian", "reasons"]), _json, max_size=3
        ),
    },
)
_report = st.fixed_dictionaries(
    {"schema_version": st.just("1.0"), "views": st.fixed_dictionaries({"raw": _view})}
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_report, _report)
def test_fuzz_compare_and_gates_never_crash_or_pass_garbage(base, new):
    try:
        comparison = compare_reports(base, new)
    except GaussAuditError:
        comparison = None
    if comparison is not None:
        for d in comparison.deltas:
            value = d.new
            garbage = isinstance(value, (str, list, dict)) or (
                isinstance(value, float) and not math.isfinite(value)
            )
            if garbage and d.limit is not None and d.metric != "verdict.gaussian":
                assert d.regressed, d
    cfg = GateConfig(
        require_verdict="paper",
        min_ad_pass_fraction=0.5,
        max_cv=0.5,
        no_rejection=["anderson_darling"],
        on_skip="pass",
    )
    try:
        result = evaluate_gates(new, cfg)
    except GaussAuditError:
        return
    for o in result.outcomes:
        if o.passed and o.measured is not None:
            assert not isinstance(o.measured, (str, list, dict))


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_config_and_report_files(tmp_path_factory, raw):
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "g.toml"
    path.write_bytes(raw)
    try:
        load_gate_config(path)
    except GaussAuditError:
        pass
    path = folder / "r.json"
    path.write_bytes(raw)
    try:
        load_report(path)
    except GaussAuditError:
        pass


# ------------------------------------------------------------------ cost before commitment


def test_default_battery_scales_its_projections_with_d_and_n():
    from gaussaudit.stats import audit
    from gaussaudit.stats.cost import effective_projections

    assert effective_projections(128, n=2_000_000, d=2) == 25
    assert effective_projections(128, n=10_000, d=2) == 32
    assert effective_projections(128, n=10_000, d=768) == 128
    assert effective_projections(0, n=10, d=10) == 0
    x = np.random.default_rng(0).standard_normal((300, 2))
    view = audit(x, subspaces=0).views["raw"]
    assert view.projections.n_projections == 32
    assert any("32 random directions of the 128 asked" in note for note in view.notes)


def test_an_audit_past_the_memory_budget_is_refused_up_front(monkeypatch, emb, capsys):
    import gaussaudit.stats.cost as cost

    monkeypatch.setattr(cost, "available_memory", lambda: 10_000)
    code, _, err = run(["test", emb, *FAST], capsys)
    assert code == 2 and one_line_error(err) and "--max-samples" in err


# ------------------------------------------------------------------ pickled weights


class _Payload:
    def __reduce__(self):
        return (os.system, ("echo PWNED > /dev/null",))


@pytest.mark.torch
@pytest.mark.parametrize("family", ["resnet18", "timm:resnet18"])
def test_pickled_weights_are_refused_by_every_family(tmp_path, family, capsys):
    pytest.importorskip("torch")
    if family.startswith("timm"):
        pytest.importorskip("timm")
    import pickle

    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps({"w": _Payload()}))
    argv = ["embed", "fake", "-m", family, "--weights", evil, "--limit", "4"]
    code, _, err = run([*argv, "--out", tmp_path / "e.npy"], capsys)
    assert code == 2 and one_line_error(err), err
    assert "refusing to unpickle" in err and "weights_only=False" not in err


@pytest.mark.torch
def test_sentence_model_directory_with_pickled_files_is_refused(tmp_path):
    pytest.importorskip("torch")
    import pickle

    from gaussaudit.encoders.weights import check_weights_path
    from gaussaudit.errors import UsageError

    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps({"w": _Payload()}))
    with pytest.raises(UsageError, match="refusing to unpickle"):
        check_weights_path(folder)
