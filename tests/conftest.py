import json
from pathlib import Path

import numpy as np
import pytest

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="session")
def r_golden() -> dict:
    """Reference values computed in R by tests/golden/make_golden.R."""
    return json.loads((GOLDEN / "r_golden.json").read_text())


def load_golden_data(entry: dict) -> np.ndarray:
    return np.loadtxt(GOLDEN / entry["file"], delimiter=",", skiprows=1, ndmin=2)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
