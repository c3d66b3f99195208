"""The JSON of ``gaussaudit test`` on a fixed input is pinned, byte for byte.

``tests/golden/report_test.json`` was written by
``tests/golden/make_report_golden.py`` from the code before the report layer
was reorganised; every key and value of it must be kept (new keys may be
added, as the contract allows). A change here means the contract changed.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def _maker():
    spec = importlib.util.spec_from_file_location(
        "make_report_golden", GOLDEN_DIR / "make_report_golden.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _differences(a, b, path="$"):
    """Paths where ``b`` does not keep ``a``: a type, a key, the order of keys or a value.

    Keys ``b`` adds are allowed (the contract is additive: docs/json-contract.md);
    every key of ``a`` must be in ``b``, in the same order, with the same value.
    """
    if type(a) is not type(b):
        return [f"{path}: {type(a).__name__} != {type(b).__name__}"]
    if isinstance(a, dict):
        kept = [k for k in b if k in a]
        if kept != list(a):
            return [f"{path}: keys {list(a)} not kept in order in {list(b)}"]
        return [d for k in a for d in _differences(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list):
        if path.endswith(".reasons"):  # sentences, not numbers: the verdict flags are pinned
            return []
        if len(a) != len(b):
            return [f"{path}: length {len(a)} != {len(b)}"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _differences(x, y, f"{path}[{i}]")
        ]
    if isinstance(a, float):  # last-digit changes from more precise kernels are kept
        same = math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-300)
        return [] if same else [f"{path}: {a!r} != {b!r}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def test_test_json_is_pinned(tmp_path):
    maker = _maker()
    text = maker.run_cli(tmp_path)
    golden = maker.GOLDEN.read_text(encoding="utf-8")
    diffs = _differences(json.loads(golden), json.loads(text))
    assert not diffs, "JSON of `gaussaudit test` changed:\n" + "\n".join(diffs[:20])
    assert text.startswith('{\n  "schema_version"')  # same layout: indent 2, key order


def test_json_report_has_no_plot_data(tmp_path):
    maker = _maker()
    path = tmp_path / "emb.npy"
    import numpy as np

    from gaussaudit.cli import main

    np.save(path, maker.golden_input())
    out = tmp_path / "r.json"
    assert main(["test", str(path), "--report", "json", "--out", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert all("plot_data" not in v for v in report["views"].values())
