import copy
import json

import numpy as np
import pytest

from gaussaudit.cli import main
from gaussaudit.errors import UsageError
from gaussaudit.gate import (
    NO_REJECTION_FAMILIES,
    GateConfig,
    GateConfigError,
    check_array,
    check_file,
    evaluate_gates,
    find_config_file,
    gate_config_from_mapping,
    load_gate_config,
)

# Light battery settings: few directions and subspaces, small multivariate subsample.
FAST = {"projections": 8, "subspaces": 2, "subspace_dim": 3, "multivariate_max_rows": 300}
FAST_FLAGS = [
    "--projections",
    "8",
    "--subspaces",
    "2",
    "--subspace-dim",
    "3",
    "--multivariate-max-rows",
    "300",
]
FAST_TOML = "projections = 8\nsubspaces = 2\nsubspace_dim = 3\nmultivariate_max_rows = 300\n"
VIEWS = ("raw", "whitened")


@pytest.fixture(scope="module")
def reports():
    """Report models of a Gaussian and a Laplace matrix (audited once per module)."""
    rng = np.random.default_rng(7)
    cfg = GateConfig(views=VIEWS, **FAST)
    gauss, _ = check_array(rng.standard_normal((400, 8)), cfg)
    laplace, _ = check_array(rng.laplace(size=(400, 8)), cfg)
    return {"gauss": gauss, "laplace": laplace}


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(3)
    gauss, laplace = tmp_path / "gauss.npy", tmp_path / "laplace.npy"
    np.save(gauss, rng.standard_normal((400, 8)).astype(np.float32))
    np.save(laplace, rng.laplace(size=(400, 8)))
    return gauss, laplace


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- config object


def test_defaults_and_audit_config():
    cfg = GateConfig()
    assert cfg.views == ("raw",) and cfg.require_verdict == "paper" and cfg.max_cv is None
    assert cfg.audit_config().verdict == "paper"
    cal = GateConfig(require_verdict="calibrated", views="all", **FAST)
    audit_cfg = cal.audit_config()
    assert audit_cfg.verdict == "calibrated"
    assert audit_cfg.views == ("raw", "normalized", "whitened")
    assert audit_cfg.projections == 8 and audit_cfg.subspaces == 2
    d = cal.to_dict()
    assert d["views"] == ["raw", "normalized", "whitened"] and isinstance(d["tests"], list)
    with pytest.raises(AttributeError):
        cal.alpha = 0.1  # frozen


# --------------------------------------------------------------------------- gates


GATES = [
    ("require_verdict", {"require_verdict": "paper"}),
    ("require_verdict", {"require_verdict": "calibrated"}),
    ("min_ad_pass_fraction", {"min_ad_pass_fraction": 0.75}),
    ("min_dp_pass_fraction", {"min_dp_pass_fraction": 0.75}),
    ("max_ad_mean", {"max_ad_mean": 0.752}),
    ("min_dp_mean_pvalue", {"min_dp_mean_pvalue": 0.05}),
    ("max_cv", {"max_cv": 0.32}),
    *[
        (f"no_rejection:{fam}", {"no_rejection": [fam]})
        for fam in ("mardia", "henze_zirkler", "anderson_darling", "subspaces.henze_zirkler")
    ],
]


def _only(config_kwargs):
    base = {"require_verdict": "none", **FAST, "views": VIEWS}
    return GateConfig(**{**base, **config_kwargs})


@pytest.mark.parametrize(("name", "kwargs"), GATES, ids=[str(g[1]) for g in GATES])
def test_each_gate_passes_on_gaussian_and_fails_on_laplace(reports, name, kwargs):
    cfg = _only(kwargs)
    ok = evaluate_gates(reports["gauss"], cfg)
    assert [o.name for o in ok.outcomes] == [name, name]
    assert [o.view for o in ok.outcomes] == list(VIEWS)
    assert ok.passed, ok.summary()
    bad = evaluate_gates(reports["laplace"], cfg)
    raw = bad.outcomes[0]
    assert raw.view == "raw" and not raw.passed and not bad.passed
    assert raw.measured is not None and raw.detail
    if name != "require_verdict":
        assert raw.threshold == next(iter(kwargs.values())) or name.startswith("no_rejection")


def test_measured_values_and_thresholds(reports):
    cfg = _only({"min_ad_pass_fraction": 0.9, "max_cv": 0.1, "no_rejection": ["mardia"]})
    result = evaluate_gates(reports["laplace"], cfg)
    raw = {o.name: o for o in result.outcomes if o.view == "raw"}
    view = reports["laplace"]["views"]["raw"]
    ad = view["coordinates"]["anderson_darling"]["pass_fraction"]
    assert raw["min_ad_pass_fraction"].measured == ad
    assert raw["min_ad_pass_fraction"].threshold == 0.9 and raw["min_ad_pass_fraction"].op == ">="
    assert raw["max_cv"].measured == view["norms"]["cv"] and raw["max_cv"].op == "<="
    assert raw["no_rejection:mardia"].measured == 2 and raw["no_rejection:mardia"].threshold == 0
    assert "2 of 2 mardia p-values rejected after holm" in raw["no_rejection:mardia"].detail
    assert {o.name for o in result.failed} >= {"max_cv", "no_rejection:mardia"}
    assert "max_cv [raw]: CV of norms" in result.summary()


def test_all_no_rejection_families_evaluate(reports):
    # every family of the default battery (the fixtures' tests); opt-in tests of the
    # registry (e.g. cramer_von_mises) are gated only when run
    from gaussaudit.stats.tests import default_tests

    families = [f for f in NO_REJECTION_FAMILIES if f.split(".")[-1] in default_tests() or "." in f]
    families = [f for f in families if not f.startswith("subspaces.") or f[10:] in default_tests()]
    cfg = _only({"no_rejection": families})
    result = evaluate_gates(reports["gauss"], cfg)
    assert len(result.outcomes) == 2 * len(families)
    assert all(o.measured is not None for o in result.outcomes)
    bad = evaluate_gates(reports["laplace"], cfg)
    assert not bad.passed


def test_no_gate_set_passes(reports):
    result = evaluate_gates(reports["laplace"], _only({}))
    assert result.outcomes == () and result.passed and result.summary() == ""


def test_corrections():
    def report(pvalues):
        return {"views": {"raw": {"coordinates": {"anderson_darling": {"pvalues": pvalues}}}}}

    rep = report([0.02, 0.03, 0.5, None])
    counts = {}
    for correction in ("none", "holm", "fdr_bh"):
        cfg = GateConfig(
            require_verdict="none", no_rejection=["anderson_darling"], correction=correction
        )
        counts[correction] = evaluate_gates(rep, cfg).outcomes[0].measured
    assert counts == {"none": 2, "holm": 0, "fdr_bh": 2}


def test_skipped_measurement_fails_unless_on_skip_pass(reports):
    rep = copy.deepcopy(reports["gauss"])
    rep["views"]["raw"]["coordinates"]["anderson_darling"] = {"skipped": "too few rows"}
    rep["views"]["raw"]["verdict"]["paper_rule"] = None
    rep["views"]["raw"]["multivariate"]["mardia"] = {"skipped": "singular covariance"}
    kwargs = {"min_ad_pass_fraction": 0.5, "no_rejection": ["mardia"], "views": ["raw"]}
    strict = evaluate_gates(rep, GateConfig(**kwargs))
    assert [o.passed for o in strict.outcomes] == [False, False, False]
    assert all(o.measured is None for o in strict.outcomes)
    details = " | ".join(o.detail for o in strict.outcomes)
    assert "undecided" in details and "skipped: too few rows" in details
    assert "skipped: singular covariance" in details
    lenient = evaluate_gates(rep, GateConfig(on_skip="pass", **kwargs))
    assert lenient.passed


def test_missing_view_is_an_error(reports):
    rep = {k: v for k, v in reports["gauss"].items()}
    rep["views"] = {"raw": reports["gauss"]["views"]["raw"]}
    with pytest.raises(UsageError, match="no view whitened"):
        evaluate_gates(rep, GateConfig(views=VIEWS))


def test_gate_result_dict_is_json(reports):
    result = evaluate_gates(reports["laplace"], _only({"max_cv": 0.1}))
    d = json.loads(json.dumps(result.to_dict()))
    assert d["passed"] is False and d["n_failed"] == d["n_gates"] == 2
    assert d["outcomes"][0]["name"] == "max_cv" and d["config"]["max_cv"] == 0.1


def test_check_file_adds_gates_to_report(files):
    gauss, _ = files
    report, result = check_file(gauss, GateConfig(max_cv=0.5, **FAST))
    assert report["gates"]["passed"] is result.passed is True
    assert [o["name"] for o in report["gates"]["outcomes"]] == ["require_verdict", "max_cv"]
    assert report["schema_version"] == "1.0" and "raw" in report["views"]


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ({"max_vc": 0.1}, "unknown config key 'max_vc'. Did you mean 'max_cv'"),
        ({"min-ad-pass-fraction": 0.9}, "Did you mean 'min_ad_pass_fraction'"),
        ({"alpha": "0.05"}, "alpha must be a number, got str"),
        ({"max_cv": True}, "max_cv must be a number, got bool"),
        ({"views": 3}, "views must be a list of strings"),
        ({"views": ["raw", 1]}, "views must be a list of strings"),
        ({"seed": 1.5}, "seed must be an integer"),
        ({"pca": "yes"}, "pca must be true or false"),
        ({"require_verdict": "calibrate"}, "Did you mean 'calibrated'"),
        ({"require_verdict": "always"}, "require_verdict must be one of paper, calibrated, none"),
        ({"correction": "bonferroni"}, "correction must be one of holm, fdr_bh, none"),
        ({"on_skip": "ignore"}, "on_skip must be one of fail, pass"),
        ({"no_rejection": ["henze-zirkler"]}, "Did you mean 'henze_zirkler'"),
        ({"views": ["rwa"]}, "unknown view 'rwa'"),
        ({"tests": ["ad"]}, "unknown test 'ad'"),
        ({"alpha": 1.5}, r"alpha must be in \(0, 1\)"),
        ({"min_dp_pass_fraction": 1.2}, r"min_dp_pass_fraction must be in \[0, 1\]"),
        ({"max_cv": -0.1}, "max_cv must be a finite number >= 0"),
        ({"max_samples": 3}, "max_samples must be at least 8"),
        ({"full_multivariate": "sometimes"}, "full-multivariate mode"),
        ({"max_cv": 0.1, "tests": ["anderson_darling", "dagostino_pearson"]}, "max_cv needs"),
        ({"require_verdict": "paper", "tests": ["norms"]}, "require_verdict = 'paper' needs"),
        ({"no_rejection": ["projections.epps_pulley"], "projections": 0}, "needs projections > 0"),
        ({"no_rejection": ["subspaces.mardia"], "subspaces": 0}, "needs subspaces > 0"),
    ],
)
def test_invalid_config_values(values, match):
    with pytest.raises(GateConfigError, match=match) as info:
        gate_config_from_mapping(values, where="gaussaudit.toml")
    assert str(info.value).startswith("gaussaudit.toml: ")
    assert info.value.exit_code == 2


def test_mapping_accepts_ints_for_floats_and_strings_for_lists():
    cfg = gate_config_from_mapping(
        {"max_cv": 1, "views": "raw,whitened", "no_rejection": "mardia, henze_zirkler"}
    )
    assert cfg.max_cv == 1.0 and isinstance(cfg.max_cv, float)
    assert cfg.views == ("raw", "whitened") and cfg.no_rejection == ("mardia", "henze_zirkler")


# --------------------------------------------------------------------------- discovery


def test_discovery_order(tmp_path):
    assert find_config_file(tmp_path) is None
    assert load_gate_config(search_dir=tmp_path) == GateConfig()
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n')
    assert find_config_file(tmp_path) is None  # no [tool.gaussaudit] table: defaults
    pyproject.write_text('[project]\nname = "x"\n\n[tool.gaussaudit]\nmax_cv = 0.2\n')
    assert find_config_file(tmp_path) == pyproject
    assert load_gate_config(search_dir=tmp_path).max_cv == 0.2
    own = tmp_path / "gaussaudit.toml"
    own.write_text('max_cv = 0.3\nviews = ["whitened"]\n')
    assert find_config_file(tmp_path) == own  # gaussaudit.toml wins
    cfg = load_gate_config(search_dir=tmp_path)
    assert cfg.max_cv == 0.3 and cfg.views == ("whitened",)
    assert load_gate_config(pyproject).max_cv == 0.2  # an explicit path wins


def test_overrides_on_top_of_file(tmp_path):
    path = tmp_path / "gates.toml"
    path.write_text('max_cv = 0.3\nrequire_verdict = "calibrated"\nseed = 4\n')
    cfg = load_gate_config(path, {"max_cv": 0.1, "seed": None, "views": "all"})
    assert cfg.max_cv == 0.1 and cfg.seed == 4 and cfg.require_verdict == "calibrated"
    assert cfg.views == ("raw", "normalized", "whitened")
    with pytest.raises(GateConfigError, match="command line: alpha must be a number"):
        load_gate_config(path, {"alpha": "high"})


def test_file_errors(tmp_path):
    with pytest.raises(GateConfigError, match="not found"):
        load_gate_config(tmp_path / "missing.toml")
    bad = tmp_path / "gaussaudit.toml"
    bad.write_text("max_cv = = 0.1\n")
    with pytest.raises(GateConfigError, match="invalid TOML"):
        load_gate_config(bad)
    with pytest.raises(GateConfigError, match="invalid TOML"):
        load_gate_config(search_dir=tmp_path)  # discovered, then read
    pyproject = tmp_path / "sub" / "pyproject.toml"
    pyproject.parent.mkdir()
    pyproject.write_text('[project]\nname = "x"\n')
    with pytest.raises(GateConfigError, match=r"no \[tool.gaussaudit\] table"):
        load_gate_config(pyproject)
    pyproject.write_text('[tool.gaussaudit]\nmax_cv = "low"\n')
    with pytest.raises(GateConfigError, match=r"\[tool.gaussaudit\]: max_cv must be a number"):
        load_gate_config(pyproject)


# --------------------------------------------------------------------------- command line


def test_cli_check_passes(files, capsys):
    gauss, _ = files
    code, out, err = run(["check", gauss, *FAST_FLAGS, "--max-cv", "0.5"], capsys)
    assert code == 0, err
    assert "Gates: 2 of 2 passed" in out and "max_cv" in out and "require_verdict" in out
    assert "gate config: defaults" in out


def test_cli_check_fails_with_list_of_gates(files, capsys):
    _, laplace = files
    argv = ["check", laplace, *FAST_FLAGS, "--max-cv", "0.1", "--no-rejection", "mardia"]
    code, out, _err = run(argv, capsys)
    assert code == 1
    assert "FAIL" in out and "CV of norms" in out and "> 0.1" in out
    assert "no_rejection:mardia [raw]" in out


def test_cli_check_json_has_gates(files, tmp_path, capsys):
    _, laplace = files
    code, out, err = run(
        ["check", laplace, *FAST_FLAGS, "--max-cv", "0.1", "--report", "json"], capsys
    )
    assert code == 1
    report = json.loads(out)  # stdout holds only the JSON
    gates = report["gates"]
    assert gates["passed"] is False and gates["config_file"] is None
    failed = {o["name"]: o for o in gates["outcomes"] if not o["passed"]}
    assert failed["max_cv"]["threshold"] == 0.1 and failed["max_cv"]["measured"] > 0.1
    assert "gate failed: max_cv [raw]" in err
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    target = tmp_path / "report.json"
    code, out, _ = run(
        ["check", laplace, *FAST_FLAGS, "--max-cv", "0.1", "--report", "json", "--out", target,
         "--summary", summary],
        capsys,
    )  # fmt: skip
    assert code == 1 and "Gates:" in out  # the table still goes to stdout
    assert json.loads(target.read_text())["gates"]["n_failed"] >= 1
    text = summary.read_text()
    assert text.startswith("# earlier step\n") and "| `max_cv` | raw |" in text
    assert "gaussaudit check: failed" in text


def test_cli_config_discovery_and_flag_override(files, tmp_path, monkeypatch, capsys):
    gauss, _ = files
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "enc"\n\n[tool.gaussaudit]\nmax_cv = 0.01\n' + FAST_TOML
    )
    code, out, _ = run(["check", gauss, "--report", "json"], capsys)
    assert code == 1
    gates = json.loads(out)["gates"]
    assert gates["config_file"] == "pyproject.toml" and gates["config"]["max_cv"] == 0.01
    code, out, _ = run(["check", gauss, "--report", "json", "--max-cv", "0.5"], capsys)
    assert code == 0 and json.loads(out)["gates"]["config"]["max_cv"] == 0.5
    (project / "gaussaudit.toml").write_text('require_verdict = "none"\n' + FAST_TOML)
    code, out, _ = run(["check", gauss, "--report", "json"], capsys)
    gates = json.loads(out)["gates"]
    assert code == 0 and gates["config_file"] == "gaussaudit.toml" and gates["n_gates"] == 0


@pytest.mark.parametrize(
    ("content", "flags", "match"),
    [
        ("max_vc = 0.1\n", [], "unknown config key 'max_vc'. Did you mean 'max_cv'?"),
        ('max_cv = "0.1"\n', [], "max_cv must be a number, got str"),
        ('require_verdict = "strict"\n', [], "require_verdict must be one of"),
        ("max_cv = = 0.1\n", [], "invalid TOML"),
        ("", ["--require-verdict", "papr"], "Did you mean 'paper'"),
        ("", ["--no-rejection", "mardia,hz"], "no_rejection entry must be one of"),
    ],
)
def test_cli_config_errors_exit_2_with_one_line(files, tmp_path, capsys, content, flags, match):
    gauss, _ = files
    path = tmp_path / "gaussaudit.toml"
    path.write_text(content)
    code, out, err = run(["check", gauss, "--config", path, *flags], capsys)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gaussaudit: error: ")
    assert match in lines[0]


def test_cli_missing_config_file_and_bad_input(files, tmp_path, capsys):
    gauss, _ = files
    code, _, err = run(["check", gauss, "--config", tmp_path / "nope.toml"], capsys)
    assert code == 2 and "not found" in err
    code, _, err = run(["check", tmp_path / "missing.npy"], capsys)
    assert code == 2 and err.count("\n") == 1
    code, _, err = run(["check", gauss, "--report", "html5"], capsys)
    assert code == 2 and "report format" in err


def test_cli_check_markdown_report_ends_with_gates(files, capsys):
    _, laplace = files
    code, out, err = run(
        ["check", laplace, *FAST_FLAGS, "--max-cv", "0.1", "--report", "markdown"], capsys
    )
    assert code == 1
    assert out.index("### gaussaudit check: failed") > out.index("gaussaudit: not Gaussian")
    assert "| `max_cv` | raw |" in out and "gate failed: max_cv [raw]" in err


# ----------------------------------------------------------------- fail closed (issue 13)


@pytest.mark.parametrize(
    "value",
    ["0.99", [0.9], 10**5000, True, float("nan")],
    ids=["str", "list", "big", "bool", "nan"],
)
def test_bound_gate_on_garbage_fails_closed(value):
    rep = {"views": {"raw": {"coordinates": {"anderson_darling": {"pass_fraction": value}}}}}
    cfg = GateConfig(require_verdict="none", min_ad_pass_fraction=0.5, on_skip="pass")
    outcome = evaluate_gates(rep, cfg).outcomes[0]
    assert not outcome.passed and "not a finite number" in outcome.detail


def test_verdict_gate_on_garbage_fails_closed():
    rep = {"views": {"raw": {"verdict": {"paper_rule": "yes"}}}}
    outcome = evaluate_gates(rep, GateConfig(on_skip="pass")).outcomes[0]
    assert not outcome.passed and "not true/false" in outcome.detail


def test_no_rejection_on_garbage_fails_closed():
    rep = {"views": {"raw": {"coordinates": {"anderson_darling": {"pvalues": ["0.5", 0.2]}}}}}
    cfg = GateConfig(require_verdict="none", no_rejection=["anderson_darling"], on_skip="pass")
    assert not evaluate_gates(rep, cfg).passed
    rep = {"views": {"raw": {"coordinates": {"anderson_darling": {"pvalues": [1.5]}}}}}
    assert not evaluate_gates(rep, cfg).passed


def test_report_views_not_a_table_is_usage_error():
    with pytest.raises(UsageError, match="not a table of views"):
        evaluate_gates({"views": {"raw": "x"}}, GateConfig())


def test_config_file_bounds(tmp_path):
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 40 + "]" * 40 + "\n")
    with pytest.raises(GateConfigError, match="nested deeper"):
        load_gate_config(deep)
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * (2 << 20) + "\n")
    with pytest.raises(GateConfigError, match="larger than"):
        load_gate_config(big)
    huge = tmp_path / "huge.toml"
    huge.write_text("seed = " + "9" * 5000 + "\n")
    with pytest.raises(GateConfigError):
        load_gate_config(huge)
    import os

    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    with pytest.raises(GateConfigError, match="not a regular file"):
        load_gate_config(fifo)


def test_negative_seed_is_a_config_error():
    with pytest.raises(GateConfigError, match="seed must be >= 0"):
        gate_config_from_mapping({"seed": -1})


def test_gate_config_holds_an_audit_config():
    from gaussaudit.stats.config import AuditConfig

    cfg = GateConfig(views="all", max_cv=0.3, require_verdict="calibrated")
    assert isinstance(cfg.audit, AuditConfig)
    assert cfg.audit.views == ("raw", "normalized", "whitened") and cfg.views == cfg.audit.views
    assert cfg.audit.verdict == "calibrated" and cfg.audit_config() is cfg.audit
    # every audit setting is a config key, read from the one AuditConfig declaration
    from gaussaudit.gate import config_keys

    assert {"alpha", "seed", "multivariate_max_rows", "max_cv", "no_rejection"} <= set(
        config_keys()
    )
