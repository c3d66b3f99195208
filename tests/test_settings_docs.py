"""docs/settings.md is generated from the settings' fields; it must be current."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location(
        "gen_settings_docs", ROOT / "scripts" / "gen_settings_docs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_settings_page_is_current():
    script = _script()
    assert script.PAGE.read_text() == script.render(), (
        "docs/settings.md is out of date: run python scripts/gen_settings_docs.py"
    )


def test_settings_page_lists_every_field_with_its_default():
    from dataclasses import fields

    from gaussaudit.gate import GateConfig
    from gaussaudit.stats.config import AuditConfig

    text = (ROOT / "docs" / "settings.md").read_text()
    for f in [*fields(AuditConfig), *fields(GateConfig)]:
        if "kind" in f.metadata:
            assert f"| `{f.name}` |" in text
    assert "| `subspaces` | integer | `16` |" in text  # read from the field, not typed in
    assert AuditConfig().subspaces == 16
