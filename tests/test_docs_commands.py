"""Every ``gaussaudit ...`` command line in README.md and docs/ is run here.

Commands are collected from fenced code blocks labelled as shell or YAML (continuation
lines joined, comments and ``|| true`` dropped) and run in-process, in document order, in
one scratch folder per page, so that a page's later commands see the files its earlier ones
wrote. The scratch folder is seeded with the small input files the pages name (``emb.npy``,
``feats.parquet``, ...).

A command that cannot run offline here (a download, weights or a dataset that is not
installed, a CUDA device) is skipped with the reason; one that runs for minutes is marked
``slow``. Anything else must exit 0, or 1 where the page says a gate fails, and never print a
traceback. A new command in the docs is picked up without touching this file.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from gaussaudit.cli import main

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

FENCE = re.compile(r"^\s*(```|~~~)\s*(\w*)")
#: Fences whose lines are commands; unlabelled fences hold synopses and program output.
SHELL = {"bash", "sh", "shell", "console", "yaml", "yml"}

# (pattern on the command line, reason): cannot run on an offline machine without the data.
OFFLINE_BLOCKERS = [
    (r"--download\b", "downloads data"),
    (r"--device cuda\b", "needs a CUDA device"),
    (r"(^| )(cifar10|cifar100|mscoco)( |$)", "needs a dataset that is not installed here"),
    (r"(^| )hf:", "needs the Hugging Face datasets cache"),
    (r"imagefolder:~|--root ~|/data/", "needs the user's own data folder"),
    (r"(^| )text:captions\.txt|csv:reviews\.csv", "needs the user's own text file"),
    (r"-m (timm:|openclip:|resnet34|resnet50|densenet121)", "needs pretrained weights"),
    (r"-m resnet18( |$)(?!.*--weights none)", "needs torchvision's pretrained weights"),
    (r"-m my-vit|--model tiny-mlp", "needs the example plugin package installed"),
    (r"--preset paper", "the paper preset: hours, meant for a GPU"),
    (r"(-m|--model) resnet18-(simclr|supervised)", "needs a run of the bundled trainer"),
    (r"--scheduler tcp://", "needs the user's Dask cluster"),
]

# (pattern, reason): runs offline but takes minutes on 2 cores.
LONG = [
    (r"(^| )(train|reproduce) ", "trains models"),
    (r"(^| )(embed|run) ", "runs an encoder over a dataset"),
    (r"(^| )demo( |$)", "trains two encoders when torch is present (tests/test_demo.py runs it)"),
]

for_gate = re.compile(r"\bcheck\b|\bcompare\b")


@dataclass(frozen=True)
class DocCommand:
    page: Path
    line: int
    text: str

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def _is_synopsis(text: str) -> bool:
    """`gaussaudit test [OPTIONS] EMBEDDINGS` and the like: grammar, not a command."""
    words = shlex.split(text, comments=True)[1:]
    return any(w.startswith("[") or (w.isupper() and len(w) > 1 and w != "EMB") for w in words)


def collect(page: Path) -> list[DocCommand]:
    commands: list[DocCommand] = []
    in_fence = runs = False
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(page.read_text().splitlines(), 1):
        fence = FENCE.match(raw)
        if fence:
            in_fence = not in_fence
            runs = in_fence and fence.group(2) in SHELL
            pending = []
            continue
        if not (in_fence and runs):
            continue
        line = raw.strip()
        if line.startswith("$ "):
            line = line[2:]
        if pending:
            pending.append(line)
        elif line.startswith("gaussaudit "):
            pending = [line]
            start = number
        else:
            continue
        if line.endswith("\\"):
            pending[-1] = line[:-1]
            continue
        text = " ".join(pending).split("||")[0].strip()
        pending = []
        commands.append(DocCommand(page, start, text))
    return commands


ALL = [command for page in PAGES for command in collect(page)]


def _marks(command: DocCommand):
    if _is_synopsis(command.text):
        return [pytest.mark.skip(reason="a synopsis, not a command")]
    for pattern, reason in OFFLINE_BLOCKERS:
        if re.search(pattern, command.text):
            return [pytest.mark.skip(reason=f"cannot run offline here: {reason}")]
    for pattern, _reason in LONG:
        if re.search(pattern, command.text):
            return [pytest.mark.slow]
    return []


def _seed_inputs(folder: Path) -> dict[str, str]:
    """The small inputs the pages name, and the environment variables they use."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1200, 12)).astype(np.float32)
    for name in ("emb.npy", "embeddings.npy"):
        np.save(folder / name, x)
    np.save(folder / "tokens.npy", rng.standard_normal((400, 4, 6)).astype(np.float32))
    csv = rng.standard_normal((400, 6))
    csv[3, 2] = np.nan
    np.savetxt(folder / "emb.csv", csv, delimiter=",")
    try:
        import pandas as pd

        frame = pd.DataFrame(x, columns=[f"emb_{i}" for i in range(x.shape[1])])
        frame["id"] = np.arange(len(frame))
        frame.to_parquet(folder / "feats.parquet")
    except ImportError:  # pragma: no cover - the dev install has pyarrow
        pass
    try:
        import torch

        tensor = torch.from_numpy(x)
        torch.save({"features": tensor}, folder / "model_out.pt")
        torch.save({"features": tensor}, folder / "out.pt")
        torch.save({"image_embeds": tensor, "text_embeds": tensor}, folder / "feats.pt")
    except ImportError:  # pragma: no cover
        pass
    (folder / "ci").mkdir()
    (folder / "ci" / "gates.toml").write_text('require_verdict = "none"\nmax_cv = 0.5\n')
    (folder / "pyproject.toml").write_text(
        '[tool.gaussaudit]\nrequire_verdict = "none"\nmin_ad_pass_fraction = 0.5\n'
    )
    summary = folder / "summary.md"
    summary.write_text("")
    return {"EMB": "emb.npy", "GITHUB_STEP_SUMMARY": str(summary), "T": "all"}


def _seed_reports(folder: Path, env: dict[str, str]) -> None:
    """Reports for `compare`: yesterday/today, BASE/NEW, baseline/today."""
    out = folder / "_report.json"
    assert main(["test", "emb.npy", "--report", "json", "--out", str(out)]) == 0
    text = out.read_text()
    json.loads(text)
    (folder / "baseline").mkdir()
    for name in ("yesterday.json", "today.json", "BASE.json", "NEW.json", "baseline/today.json"):
        (folder / name).write_text(text)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    folders: dict[Path, tuple[Path, dict[str, str]]] = {}

    def folder_for(page: Path) -> tuple[Path, dict[str, str]]:
        if page not in folders:
            folder = tmp_path_factory.mktemp(page.stem)
            old = Path.cwd()
            os.chdir(folder)
            try:
                env = _seed_inputs(folder)
                _seed_reports(folder, env)
            finally:
                os.chdir(old)
            folders[page] = (folder, env)
        return folders[page]

    return folder_for


def test_docs_have_commands():
    assert len(ALL) > 40
    assert any(c.page.name == "README.md" for c in ALL)


@pytest.mark.parametrize("command", [pytest.param(c, id=c.id, marks=_marks(c)) for c in ALL])
def test_doc_command_runs(command, scratch, monkeypatch, capsys):
    folder, env = scratch(command.page)
    monkeypatch.chdir(folder)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("COLUMNS", "120")
    argv = shlex.split(os.path.expandvars(command.text), comments=True)[1:]
    argv = [os.path.expanduser(a) for a in argv]
    if argv[0] in ("test", "check") and not Path(argv[1]).exists():
        pytest.skip(f"{argv[1]} is written by an earlier command that cannot run here")
    code = main(argv)
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert "Traceback" not in output, output[-2000:]
    allowed = {0, 1} if for_gate.search(command.text) else {0}
    assert code in allowed, f"{command.text!r} exited {code}:\n{output[-2000:]}"
