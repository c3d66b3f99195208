"""Write the example report of docs/json-contract.md from the code.

Run: ``python scripts/gen_json_example.py`` (``--check`` only compares).
``tests/test_json_example.py`` checks that the example in the doc has exactly
the keys, key order and types the code emits, and the same numbers.

The input is the one the doc's command makes (``np.random.default_rng(7)``,
1000 x 6 float32, column 2 constant, column 5 twice column 0, and a
provenance sidecar); the command is :data:`ARGS`. The output is trimmed as
the doc says (:func:`trim`) and written between the markers
``<!-- json-example:start -->`` and ``<!-- json-example:end -->``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "json-contract.md"
START, END = "<!-- json-example:start -->", "<!-- json-example:end -->"
ARGS = [
    "--view", "raw,whitened", "--projections", "8", "--subspaces", "2",
    "--subspace-dim", "3", "--report", "json",
]  # fmt: skip
PROVENANCE = {
    "encoder": "toy-linear", "layer": "head", "dataset": "synthetic", "split": "test", "seed": 7,
}  # fmt: skip
#: Entries removed from the raw view (same shape as their siblings).
RAW_DROPPED = (
    ("coordinates", "shapiro_wilk"),
    ("coordinates", "jarque_bera"),
    ("coordinates", "lilliefors"),
    ("projections", "dagostino_pearson"),
    ("projections", "epps_pulley"),
)
#: The only keys kept in the whitened view.
WHITENED_KEPT = ("n", "d", "multivariate", "verdict", "notes")
WIDTH = 100


def example_input(directory: Path) -> Path:
    """Write ``emb.npy`` and ``emb.json`` as the doc's command does; return the ``.npy`` path."""
    r = np.random.default_rng(7)
    x = (r.standard_normal((1000, 6)) * [1, 2, 1, 0.5, 1, 3]).astype("float32")
    x[:, 2] = 0.25
    x[:, 5] = 2 * x[:, 0]
    path = directory / "emb.npy"
    np.save(path, x)
    (directory / "emb.json").write_text(json.dumps(PROVENANCE), encoding="utf-8")
    return path


def run(directory: Path) -> dict:
    """Run ``gaussaudit test`` on the example input; return the full JSON report."""
    from gaussaudit.cli import main

    path = example_input(directory)
    out = directory / "emb.report.json"
    code = main(["test", str(path), *ARGS, "--out", str(out)])
    if code != 0:
        raise SystemExit(f"gaussaudit test exited {code}")
    return json.loads(out.read_text(encoding="utf-8"))


def _round(value: Any) -> Any:
    """Cut numeric arrays to 3 entries and round numbers to 6 significant digits, recursively."""
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, list):
        numeric = all(v is None or isinstance(v, int | float) for v in value)
        return [_round(v) for v in (value[:3] if numeric else value)]
    if isinstance(value, float) and math.isfinite(value) and value != 0.0:
        return float(f"{value:.6g}")
    return value


def trim(report: dict) -> dict:
    """Apply the doc's trimming to a full report."""
    report = json.loads(json.dumps(report))
    report["tool"]["version"] = "<version>"
    report["tool"]["versions"] = {k: "<version>" for k in report["tool"]["versions"]}
    report["input"]["source"] = "emb.npy"
    raw = report["views"]["raw"]
    for section, key in RAW_DROPPED:
        raw.get(section, {}).pop(key, None)
    subspaces = raw.get("projections", {}).get("subspaces", {})
    subspaces.get("mardia", {}).pop("kurtosis", None)
    white = report["views"]["whitened"]
    report["views"]["whitened"] = {k: white[k] for k in WHITENED_KEPT if k in white}
    return _round(report)


def render(value: Any, indent: int = 0) -> str:
    """JSON with short objects and arrays on one line (at most :data:`WIDTH` columns)."""
    flat = json.dumps(value, ensure_ascii=False, allow_nan=False)
    if not isinstance(value, dict | list) or indent + len(flat) <= WIDTH - 12:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, list):
        items = [pad + render(v, indent + 2) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
    items = [f"{pad}{json.dumps(k)}: {render(v, indent + 2)}" for k, v in value.items()]
    return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"


def example_block() -> str:
    """The fenced JSON block the doc holds between its markers."""
    with tempfile.TemporaryDirectory() as tmp:
        report = trim(run(Path(tmp)))
    return "```json\n" + render(report) + "\n```"


def doc_block(text: str) -> str:
    """The text between the markers of ``text`` (stripped)."""
    if START not in text or END not in text:
        raise SystemExit(f"{DOC} has no {START} ... {END} markers")
    return text.split(START, 1)[1].split(END, 1)[0].strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 if stale")
    args = parser.parse_args()
    text = DOC.read_text(encoding="utf-8")
    block = example_block()
    if args.check:
        same = doc_block(text) == block
        print("up to date" if same else "stale: run python scripts/gen_json_example.py")
        return 0 if same else 1
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    DOC.write_text(f"{head}{START}\n{block}\n{END}{tail}", encoding="utf-8")
    print(f"wrote the example into {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
