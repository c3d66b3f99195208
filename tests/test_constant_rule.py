"""The one constant-column rule (docs/tests/README.md#constant-columns) everywhere."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from gaussaudit.stats import audit
from gaussaudit.stats._validation import constant_columns

ROOT = Path(__file__).resolve().parents[1]


def matrix(tiny_scale: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((500, 6))
    x[:, 3] = tiny_scale * rng.standard_normal(500)
    return x


def test_a_1e_150_column_beside_unit_columns_is_constant():
    assert constant_columns(matrix(1e-150)).tolist() == [3]
    assert constant_columns(matrix(1e-10)).tolist() == []  # small but varying: tested


def test_the_rule_is_scale_free_for_the_whole_matrix():
    x = matrix(1e-150)
    for factor in (1e-100, 1e100, 2.0**-500):
        assert constant_columns(x * factor).tolist() == [3]
    offset = np.random.default_rng(1).standard_normal((300, 3))
    offset[:, 1] = 5.0 + 1e-15 * offset[:, 1]  # rounding noise on an offset
    for factor in (1e-200, 1.0, 1e200):
        assert constant_columns(offset * factor).tolist() == [1]


def test_audit_and_every_consumer_apply_the_same_rule():
    res = audit(matrix(1e-150), views=("raw",), projections=8, subspaces=0)
    assert list(res.check.constant_columns) == [3]
    view = res.views["raw"]
    for r in view.coordinates.values():
        assert 3 not in list(r.columns)
    assert view.diagnosis == ()


def test_the_rule_is_stated_once_and_linked():
    docs = ROOT / "docs"
    statement = (docs / "tests" / "README.md").read_text(encoding="utf-8")
    assert 'id="constant-columns"' in statement and "1e-150" in statement
    pattern = re.compile(r"range[^.\n]{0,40}1e-12|1e-12[^.\n]{0,40}(range|magnitude)")
    for page in docs.rglob("*.md"):
        if page.name == "README.md" and page.parent.name == "tests":
            continue
        assert not pattern.search(page.read_text(encoding="utf-8")), f"{page} restates the rule"
    contract = (docs / "json-contract.md").read_text(encoding="utf-8")
    assert "tests/README.md#constant-columns" in contract
