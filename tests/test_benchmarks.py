"""The benchmark scripts keep working (smoke runs; no timing is asserted)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_battery_quick_prints_every_measurement():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_battery.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    out = proc.stdout
    for row in (
        "battery AD+DP+CV vs scipy per-column loop",
        "battery AD+DP+CV vs sort+CDF bound",
        "battery AD+DP+CV vs the bound on the same threads",
        "Mardia+HZ full view n=2000 d=64 vs Gram products",
        "gaussaudit --help vs bare python start",
        "Mardia+HZ peak RSS",
    ):
        assert row in out, out


def test_bench_dask_quick_prints_the_speedup_and_the_difference():
    import pytest

    pytest.importorskip("distributed")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_dask.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    out = proc.stdout
    assert "speed-up 1 -> 2 workers:" in out, out
    line = next(r for r in out.splitlines() if r.startswith("largest relative difference"))
    assert float(line.split(":")[1].split()[0]) < 1e-10
