"""Write ``report_test.json``: the JSON of ``gaussaudit test`` on a fixed, seeded input.

Run from the repository root (``python tests/golden/make_report_golden.py``).
``tests/test_json_golden.py`` runs the same command on the same input and
compares its output with this file, so a refactoring of the report layer
cannot change the JSON contract unnoticed.

The input is made here with numpy only: ``np.random.default_rng(20261203)``,
n = 400 rows, d = 12 columns, float32, written as ``.npy``: eight standard
normal columns, then Laplace, Student t(3), exponential and a uniform column.
The command is ``gaussaudit test EMB.npy --view all --report json``; the
fields that depend on the machine or the version (``tool.version``,
``tool.versions``, ``input.source``) are replaced by placeholders, and the
JSON is written with the report's own settings (indent 2, a final newline).

The report carries no ``views.<view>.plot_data``: a JSON report no longer
computes plot data. The golden was made from the code before the report layer
was reorganised (which still wrote that key) with the key removed; every other
byte is what that code wrote.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "report_test.json"
ARGS = ["--view", "all", "--report", "json"]
PLACEHOLDERS = {
    ("tool", "version"): "<version>",
    ("tool", "versions"): "<versions>",
    ("input", "source"): "<source>",
}


def golden_input() -> np.ndarray:
    """The seeded (400, 12) float32 input."""
    rng = np.random.default_rng(20261203)
    x = rng.standard_normal((400, 12))
    x[:, 8] = rng.laplace(size=400)
    x[:, 9] = rng.standard_t(3, size=400)
    x[:, 10] = rng.exponential(size=400)
    x[:, 11] = rng.uniform(size=400)
    return x.astype(np.float32)


def normalise(text: str) -> str:
    """Replace the machine- and version-dependent fields; re-serialise like the report."""
    report = json.loads(text)
    for (section, key), value in PLACEHOLDERS.items():
        report[section][key] = value
    for view in report["views"].values():
        view.pop("plot_data", None)
    return json.dumps(report, indent=2, allow_nan=False) + "\n"


def run_cli(directory: Path) -> str:
    """Write the input under ``directory``, run the command, return the normalised JSON."""
    from gaussaudit.cli import main

    path = directory / "emb.npy"
    np.save(path, golden_input())
    out = directory / "emb.report.json"
    code = main(["test", str(path), *ARGS, "--out", str(out)])
    if code != 0:
        raise SystemExit(f"gaussaudit test exited {code}")
    return normalise(out.read_text(encoding="utf-8"))


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        GOLDEN.write_text(run_cli(Path(tmp)), encoding="utf-8")
    print(f"wrote {GOLDEN}", file=sys.stderr)
