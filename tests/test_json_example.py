"""The example report in docs/json-contract.md is what the code emits.

``scripts/gen_json_example.py`` writes the example from a run of the documented
command on the documented seeded input. This test runs it again and checks
that the doc's block has exactly the keys, key order and JSON types of the
code's output, the same strings, and the same numbers (to the 6 significant
digits the doc shows), so the contract's example cannot drift from the code.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location(
        "gen_json_example", ROOT / "scripts" / "gen_json_example.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _differences(doc, code, path="$"):
    if type(doc) is not type(code):
        return [f"{path}: the doc has {type(doc).__name__}, the code emits {type(code).__name__}"]
    if isinstance(doc, dict):
        if list(doc) != list(code):
            return [f"{path}: the doc has keys {list(doc)}, the code emits {list(code)}"]
        return [d for k in doc for d in _differences(doc[k], code[k], f"{path}.{k}")]
    if isinstance(doc, list):
        if len(doc) != len(code):
            return [f"{path}: length {len(doc)} in the doc, {len(code)} from the code"]
        return [
            d
            for i, (a, b) in enumerate(zip(doc, code, strict=True))
            for d in _differences(a, b, f"{path}[{i}]")
        ]
    if isinstance(doc, float):
        if not math.isclose(doc, code, rel_tol=1e-5, abs_tol=1e-12):
            return [f"{path}: {doc} in the doc, {code} from the code"]
        return []
    return [] if doc == code else [f"{path}: {doc!r} in the doc, {code!r} from the code"]


def test_doc_example_matches_the_code(tmp_path):
    gen = _generator()
    block = gen.doc_block(gen.DOC.read_text(encoding="utf-8"))
    assert block.startswith("```json\n") and block.endswith("\n```")
    doc = json.loads(block[len("```json\n") : -len("\n```")])
    code = gen.trim(gen.run(tmp_path))
    diffs = _differences(doc, code)
    assert not diffs, (
        "docs/json-contract.md's example is stale; run python scripts/gen_json_example.py:\n"
        + "\n".join(diffs[:20])
    )


def test_difference_finder_sees_keys_types_and_numbers():
    assert _differences({"a": 1, "b": [1.0]}, {"a": 1, "b": [1.0]}) == []
    assert _differences({"a": 1}, {"a": 1, "c": 2})  # a key the doc does not show
    assert _differences({"a": 1, "b": 2}, {"b": 2, "a": 1})  # key order
    assert _differences({"a": 1}, {"a": 1.0})  # int against float
    assert _differences({"a": 0.5}, {"a": 0.6})
    assert _differences({"a": None}, {"a": 0.0})
