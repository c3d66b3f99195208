"""The command line's conventions: sidecar name, formats, confirmations, flags, speed.

Each test names the convention it holds the CLI to (docs/cli.md, "Conventions").
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from gaussaudit import __version__
from gaussaudit.cli import main
from gaussaudit.io import find_sidecar, read_sidecar, sidecar_path

FAST = [
    "--tests",
    "norms,anderson_darling,dagostino_pearson",
    "--projections",
    "0",
]


@pytest.fixture
def fast_html(monkeypatch):
    """The html renderer without its plots (slow): the choice of format is under test."""
    import gaussaudit.report.html as html

    real = html.render_html
    monkeypatch.setattr(html, "render_html", lambda report, **o: real(report, plots=False))


@pytest.fixture
def emb(tmp_path):
    path = tmp_path / "emb.npy"
    rng = np.random.default_rng(0)
    np.save(path, rng.standard_normal((200, 6)).astype(np.float32))
    return path


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- sidecar name


def test_a_report_named_like_the_legacy_sidecar_is_written_and_never_read_back(emb, capsys):
    report = emb.with_suffix(".json")
    code, out, err = run(["test", emb, "--out", report, *FAST], capsys)
    assert code == 0, err
    assert out == ""
    first = json.loads(report.read_text())  # the extension chose json
    assert first["input"]["provenance"] is None
    assert find_sidecar(emb) is None and read_sidecar(emb) is None
    code, out, err = run(["test", emb, "--out", report, *FAST], capsys)  # again: not provenance
    assert code == 0, err
    assert json.loads(report.read_text())["input"]["provenance"] is None


def test_the_new_sidecar_wins_over_a_legacy_one(emb, capsys):
    emb.with_suffix(".json").write_text(json.dumps({"encoder": "legacy"}))
    code, out, _ = run(["test", emb, "--report", "json", *FAST], capsys)
    assert code == 0 and json.loads(out)["input"]["provenance"] == {"encoder": "legacy"}
    sidecar_path(emb).write_text(json.dumps({"encoder": "new"}))
    assert find_sidecar(emb) == sidecar_path(emb)
    code, out, _ = run(["test", emb, "--report", "json", *FAST], capsys)
    assert code == 0 and json.loads(out)["input"]["provenance"] == {"encoder": "new"}


def test_the_sidecar_in_use_is_never_overwritten(emb, capsys):
    side = sidecar_path(emb)
    side.write_text('{"encoder": "x"}')
    code, _, err = run(["test", emb, "--out", side, *FAST], capsys)
    assert code == 2 and "sidecar" in err
    assert side.read_text() == '{"encoder": "x"}'


def test_a_comparison_written_as_the_legacy_name_is_not_provenance(emb, tmp_path):
    from gaussaudit.io.sidecar import is_gaussaudit_output

    comparison = {"base": "a", "new": "b", "regressed": False, "thresholds": {}, "views": {}}
    assert is_gaussaudit_output(comparison)
    emb.with_suffix(".json").write_text(json.dumps(comparison))
    assert read_sidecar(emb) is None


def test_save_embeddings_writes_only_the_new_name(tmp_path):
    from gaussaudit.io import save_embeddings

    out = save_embeddings(tmp_path / "e.npy", np.ones((10, 2)), provenance={"encoder": "x"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.npy", "e.provenance.json"]
    assert read_sidecar(out)["encoder"] == "x"


# --------------------------------------------------------------------------- format from --out


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("r.json", lambda text: json.loads(text)["input"]["d"] == 6),
        ("r.JSON", lambda text: json.loads(text)["input"]["d"] == 6),
        ("r.html", lambda text: text.lstrip().lower().startswith("<!doctype html")),
        ("r.htm", lambda text: text.lstrip().lower().startswith("<!doctype html")),
        ("r.md", lambda text: text.startswith("## ")),
        ("r.txt", lambda text: "AD avg" in text),
        ("r.out", lambda text: "AD avg" in text),  # no format named: terminal text
    ],
)
def test_the_out_extension_picks_the_format(emb, tmp_path, capsys, fast_html, name, check):
    target = tmp_path / name
    code, out, err = run(["test", emb, "--out", target, *FAST], capsys)
    assert code == 0, err
    assert out == ""
    assert check(target.read_text())


def test_an_explicit_report_wins_with_one_note(emb, tmp_path, capsys):
    target = tmp_path / "r.json"
    code, _, err = run(["test", emb, "--report", "markdown", "--out", target, *FAST], capsys)
    assert code == 0
    assert target.read_text().startswith("## ")
    notes = [line for line in err.splitlines() if line.startswith("gaussaudit:")]
    assert len(notes) == 1 and "--report" in notes[0] and "json" in notes[0]


def test_compare_picks_its_format_from_the_extension(emb, tmp_path, capsys):
    base = tmp_path / "base.json"
    assert run(["test", emb, "--out", base, *FAST], capsys)[0] == 0
    target = tmp_path / "cmp.json"
    code, out, err = run(["compare", base, base, "--out", target], capsys)
    assert code == 0 and out == "", err
    assert json.loads(target.read_text())["regressed"] is False
    assert f"wrote {target}" in err


# --------------------------------------------------------------------------- confirmations


def test_writing_a_file_is_confirmed_on_stderr_and_quiet_silences_it(emb, tmp_path, capsys):
    target = tmp_path / "r.md"
    code, out, err = run(["test", emb, "--out", target, *FAST], capsys)
    assert code == 0 and out == ""
    lines = err.strip().splitlines()
    assert lines[-1].startswith(f"wrote {target} (") and lines[-1].endswith("B)")
    code, out, err = run(["test", emb, "--out", target, "-q", *FAST], capsys)
    assert code == 0 and out == "" and err == ""


def test_quiet_keeps_the_requested_output(emb, capsys):
    code, out, err = run(["test", emb, "--quiet", "--report", "json", *FAST], capsys)
    assert code == 0 and err == ""
    assert json.loads(out)["input"]["n"] == 200


def test_quiet_and_verbose_together_are_a_usage_error(emb, capsys):
    code, _, err = run(["test", emb, "-q", "-v"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--quiet" in err


def test_verbose_says_where_the_format_came_from(emb, tmp_path, capsys):
    target = tmp_path / "r.md"
    code, _, err = run(["test", emb, "--out", target, "--verbose", *FAST], capsys)
    assert code == 0
    assert "report format markdown (from the extension" in err


def test_verbose_reaches_the_renderers_that_take_it(emb, monkeypatch, capsys):
    import gaussaudit.report.markdown as markdown

    seen = {}
    real = markdown.render_markdown

    def spy(report, **options):
        seen.update(options)
        return real(report, **options)

    monkeypatch.setattr(markdown, "render_markdown", spy)
    assert run(["test", emb, "--report", "markdown", "-v", *FAST], capsys)[0] == 0
    assert seen.get("verbose") is True
    # json takes no such keyword: --verbose must not break it
    code, out, _ = run(["test", emb, "--report", "json", "-v", *FAST], capsys)
    assert code == 0 and json.loads(out)


# --------------------------------------------------------------------------- html on a terminal


def test_html_is_not_printed_on_a_terminal(emb, monkeypatch, capsys):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, out, err = run(["test", emb, "--report", "html"], capsys)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "--out report.html" in lines[0]


def test_html_still_goes_to_a_pipe(emb, capsys, fast_html):
    code, out, _ = run(["test", emb, "--report", "html", *FAST], capsys)
    assert code == 0 and out.lstrip().lower().startswith("<!doctype html")


# --------------------------------------------------------------------------- flags, version, hints


def test_boolean_flags_are_shown_and_parsed_as_flags(emb, capsys):
    code, out, _ = run(["test", "--help"], capsys)
    assert code == 0 and "<bool>" not in out and "--no-pca" in out
    code, out, _ = run(["check", "--help"], capsys)
    assert code == 0 and "<bool>" not in out
    assert run(["test", emb, "--no-pca", "--report", "json", *FAST], capsys)[0] == 0
    code, _, err = run(["test", emb, "--pca", "true"], capsys)  # a flag takes no value
    assert code == 2 and "true" in err


def test_derived_bool_settings_are_flag_pairs():
    import typer.main

    from gaussaudit.cli import app

    group = typer.main.get_command(app)
    for command in ("test", "check", "run"):
        (pca,) = [p for p in group.commands[command].params if p.name == "pca"]
        assert pca.is_flag and pca.opts == ["--pca"] and pca.secondary_opts == ["--no-pca"]
    assert group.commands["test"].params[0].name == "embeddings"


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(flag, capsys):
    code, out, _ = run([flag], capsys)
    assert code == 0 and out.strip() == f"gaussaudit {__version__}"


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["tset"], "(see 'gaussaudit --help')"),
        (["--bogus"], "(see 'gaussaudit --help')"),
        (["test", "--bogus"], "(see 'gaussaudit test --help')"),
        (["train", "simclr", "--bogus"], "(see 'gaussaudit train simclr --help')"),
        (["reproduce", "table1", "--bogus"], "(see 'gaussaudit reproduce table1 --help')"),
    ],
)
def test_usage_error_hint_names_the_command_once(argv, hint, capsys):
    code, _, err = run(argv, capsys)
    assert code == 2
    assert hint in err and "gaussaudit gaussaudit" not in err
    assert len(err.strip().splitlines()) == 1


def test_shell_completion_is_offered_and_completes(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "gaussaudit", "--help"], capture_output=True, text=True
    ).stdout
    assert "--install-completion" in out and "--show-completion" in out
    env = {
        **os.environ,
        "_GAUSSAUDIT_COMPLETE": "complete_bash",
        "COMP_WORDS": "gaussaudit te",
        "COMP_CWORD": "1",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "gaussaudit"], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0 and proc.stdout.split() == ["test"]


# --------------------------------------------------------------------------- speed


@pytest.mark.parametrize(
    "argv", [["test", "--bogus"], ["tset"], ["--help"], ["test", "--help"], ["-V"]]
)
def test_usage_errors_and_help_import_nothing_heavy(argv):
    code = (
        "import contextlib, io, sys\n"
        "from gaussaudit.cli import main\n"
        "quiet = io.StringIO()\n"
        "with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):\n"
        f"    main({argv!r})\n"
        "heavy = ('numpy', 'scipy', 'pandas', 'torch', 'statsmodels', 'pydantic',\n"
        "         'gaussaudit.stats.battery')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]", proc.stdout


# --------------------------------------------------------------------------- list


_LIST_SCRIPT = """
import sys
from gaussaudit.cli import main
from gaussaudit.encoders import EncoderSpec, registry
name = "a-plugin-encoder-with-a-deliberately-long-name-" + "z" * 50
registry.register(EncoderSpec(name, "fake", "nowhere:create", ("vector",), 4,
                              description="a description long enough to need a wide terminal"))
sys.exit(main(["list", "encoders"]))
"""


@pytest.mark.parametrize("columns", ["60", "80"])
@pytest.mark.parametrize("terminal", [False, True])
def test_list_never_truncates_names(columns, terminal):
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
    env["COLUMNS"] = columns
    if terminal:
        env["FORCE_COLOR"] = "1"  # rich takes the pipe for a terminal of COLUMNS columns
    proc = subprocess.run(
        [sys.executable, "-c", _LIST_SCRIPT], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert "a-plugin-encoder-with-a-deliberately-long-name-" + "z" * 50 in proc.stdout
    assert "a description long enough to need a wide terminal" in proc.stdout
    assert "…" not in proc.stdout
