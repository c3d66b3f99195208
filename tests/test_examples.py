import importlib.metadata
import re
import shlex
import sys
from pathlib import Path

import numpy as np
import pytest
import typer.main
import yaml

from gaussaudit.cli import app, main
from gaussaudit.gate import load_gate_config

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
WORKFLOW = EXAMPLES / "github-actions" / "gaussaudit.yml"
PLUGIN = EXAMPLES / "plugin-encoder"


# --------------------------------------------------------------------------- workflow


@pytest.fixture(scope="module")
def workflow():
    return yaml.safe_load(WORKFLOW.read_text())


def _steps(workflow):
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def _gaussaudit_commands(workflow) -> list[list[str]]:
    """Every `gaussaudit ...` command line in the run scripts, continuation lines joined."""
    commands = []
    for step in _steps(workflow):
        script = re.sub(r"\\\n\s*", " ", step.get("run", ""))
        for line in script.splitlines():
            line = line.strip().split("||")[0].strip()
            if line.startswith("gaussaudit "):
                commands.append(shlex.split(line, comments=True)[1:])
    return commands


def test_workflow_shape(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads `on` as true
    assert {"push", "pull_request", "schedule"} <= set(triggers)
    uses = [s.get("uses", "") for s in _steps(workflow)]
    assert any(u.startswith("actions/checkout@") for u in uses)
    assert any(u.startswith("actions/setup-python@") for u in uses)
    runs = "\n".join(s.get("run", "") for s in _steps(workflow))
    assert "pip install gaussaudit\n" not in runs + "\n"  # not on any index
    assert "pip install .\n" in runs  # the checkout: a path that installs
    assert (ROOT / "pyproject.toml").is_file()
    assert "pip install ./examples/plugin-encoder" in runs
    # the markdown report goes to the step summary only when it was written
    assert "if [ -f gaussaudit-report.md ]; then" in runs
    assert 'cat gaussaudit-report.md >> "$GITHUB_STEP_SUMMARY"' in runs
    assert "--report markdown" in runs


def test_workflow_commands_exist_in_the_cli(workflow, capsys):
    group = typer.main.get_command(app)
    commands = _gaussaudit_commands(workflow)
    names = [c[0] for c in commands]
    assert {"embed", "check", "test", "compare", "list"} <= set(names)
    for argv in commands:
        name = argv[0]
        assert name in group.commands, f"workflow runs unknown command gaussaudit {name}"
        options = {opt for p in group.commands[name].params for opt in p.opts}
        for token in argv[1:]:
            if token.startswith("-"):
                assert token in options, f"gaussaudit {name} has no option {token}"
        assert main([name, "--help"]) == 0
    capsys.readouterr()


def test_workflow_config_and_embed_step_are_valid(workflow):
    commands = {c[0]: c for c in _gaussaudit_commands(workflow)}
    check = commands["check"]
    config = ROOT / check[check.index("--config") + 1]
    cfg = load_gate_config(config)
    assert cfg.require_verdict == "paper" and cfg.max_cv is not None
    embed = commands["embed"]
    from gaussaudit.datasets import registry as datasets

    datasets.resolve(embed[1])  # a known dataset (raises UnknownNameError otherwise)
    model = embed[embed.index("--model") + 1]
    pyproject = tomllib.loads((PLUGIN / "pyproject.toml").read_text())
    assert model in pyproject["project"]["entry-points"]["gaussaudit.encoders"]


# --------------------------------------------------------------------------- plugin encoder


def _declared_entry_point():
    data = tomllib.loads((PLUGIN / "pyproject.toml").read_text())
    [(name, value)] = data["project"]["entry-points"]["gaussaudit.encoders"].items()
    return name, value


def test_plugin_pyproject_declares_the_entry_point():
    assert _declared_entry_point() == ("tiny-mlp", "gaussaudit_tiny_encoder:SPEC")
    data = tomllib.loads((PLUGIN / "pyproject.toml").read_text())
    assert "gaussaudit" in data["project"]["dependencies"]
    assert (PLUGIN / "README.md").read_text().count("pip install -e examples/plugin-encoder") == 1


@pytest.fixture
def plugin_registered(monkeypatch):
    """Expose the example plugin through a fake entry point, without installing it."""
    from gaussaudit.encoders import registry

    name, value = _declared_entry_point()
    fake = importlib.metadata.EntryPoint(name=name, value=value, group="gaussaudit.encoders")
    real = importlib.metadata.entry_points

    def entry_points(**params):
        if params.get("group") == "gaussaudit.encoders":
            return [fake]
        return real(**params)

    monkeypatch.syspath_prepend(str(PLUGIN))
    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    registry.reload()  # scan the (fake) entry points at the next lookup
    yield name
    registry.reload()  # and the real ones again once monkeypatch has restored them
    for mod in [m for m in sys.modules if m.startswith("gaussaudit_tiny_encoder")]:
        del sys.modules[mod]


def test_plugin_is_listed_without_importing_torch_code(plugin_registered, capsys):
    from gaussaudit.encoders import list_encoders

    spec = next(s for s in list_encoders() if s.name == plugin_registered)
    assert spec.family == "tiny-mlp" and spec.modalities == ("vector",) and spec.dim == 64
    assert "gaussaudit_tiny_encoder.model" not in sys.modules  # listing stays light
    assert main(["list", "encoders"]) == 0
    assert "tiny-mlp" in capsys.readouterr().out


def test_plugin_creates_an_encoder_and_embeds(plugin_registered):
    torch = pytest.importorskip("torch")
    from gaussaudit.encoders import Encoder, create_encoder

    enc = create_encoder(plugin_registered)
    assert isinstance(enc, Encoder) and enc.dim == 64 and enc.modality == "vector"
    vectors = np.random.default_rng(0).laplace(size=(5, 1024)).astype(np.float32)
    z = enc.encode(enc.collate([enc.transform(v) for v in vectors]))
    assert isinstance(z, torch.Tensor) and tuple(z.shape) == (5, 64)
    again = create_encoder(plugin_registered)  # seeded initialisation: same weights
    z2 = again.encode(again.collate([again.transform(v) for v in vectors]))
    assert torch.equal(z, z2)
    small = create_encoder(plugin_registered, in_dim=16, dim=8)
    assert tuple(small.encode(torch.zeros(3, 16)).shape) == (3, 8)
    assert enc.describe()["encoder"] == "tiny-mlp"


# --------------------------------------------------------------------------- docs/ci.md example


def test_assert_gaussian_example_in_ci_docs_passes_its_own_gates():
    pytest.importorskip("torch")
    text = (ROOT / "docs" / "ci.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    [block] = [b for b in blocks if "def test_encoder_embeddings_are_gaussian" in b]
    namespace: dict = {}
    exec(compile(block, "docs/ci.md", "exec"), namespace)
    namespace["test_encoder_embeddings_are_gaussian"]()  # raises AssertionError on a failed gate
