"""docs/cli-reference.md must mention every command and option of the CLI."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load_generator():
    spec = importlib.util.spec_from_file_location("gen_cli_docs", ROOT / "scripts/gen_cli_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reference_mentions_every_command_and_option():
    import typer.main

    from gaussaudit.cli import app

    gen = _load_generator()
    doc = (ROOT / "docs" / "cli-reference.md").read_text()
    group = typer.main.get_command(app)
    for path in gen.commands():
        assert f"## gaussaudit {' '.join(path)}" in doc, f"regenerate: {path} missing"
        cmd = group
        for name in path:
            cmd = cmd.commands[name]
        for param in cmd.params:
            for opt in param.opts:
                if opt.startswith("--"):
                    assert opt in doc, f"regenerate docs: {' '.join(path)} {opt} missing"
