import json
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from gaussaudit.errors import UnknownNameError, UsageError  # noqa: E402
from gaussaudit.train import synthetic_runs as syn  # noqa: E402
from gaussaudit.train.synthetic_data import make_data  # noqa: E402
from gaussaudit.train.synthetic_runs import eval_schedule, train_synthetic  # noqa: E402

pytestmark = pytest.mark.torch

TINY = dict(d_in=64, d_out=16, n_train=256, n_test=256, batch_size=32, progress=False, threads=1)
METRICS = (
    "cv",
    "mean_norm",
    "ad_mean",
    "ad_pass_fraction",
    "dp_mean_pvalue",
    "dp_pass_fraction",
    "alignment",
    "alignment_std",
    "uniformity_mean",
    "uniformity_std",
)


def _history(run):
    out = []
    for m in run.history:
        d = m.to_dict()
        d.pop("seconds")
        out.append(d)
    return out


@pytest.mark.parametrize("kind", ["laplace", "gmm", "binary"])
def test_one_epoch_each_kind_gives_finite_metrics(kind, tmp_path):
    log = tmp_path / "log.jsonl"
    run = train_synthetic(kind, epochs=1, log_path=log, **TINY)
    assert run.epochs_evaluated == (0, 1)
    assert run.history[0].train_loss is None
    assert math.isfinite(run.final.train_loss)
    for m in run.history:
        assert (m.n, m.d) == (256, 16)
        for key in METRICS:
            assert math.isfinite(getattr(m, key)), (kind, m.epoch, key)
        assert m.gaussian in (True, False)
        assert 0.0 <= m.ad_pass_fraction <= 1.0 and 0.0 <= m.dp_pass_fraction <= 1.0
    s = run.settings
    assert s["kind"] == kind and s["batch_size"] == 32 and s["bias"] is True
    assert s["loss"] == "infonce" and s["lr"] == 1e-3 and s["temperature"] == 0.1
    assert s["threads"] == 1 and s["data"]["test"]["n"] == 256
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines[0]["type"] == "settings" and [r["epoch"] for r in lines[1:]] == [0, 1]
    # the log speaks the JSON report's names; the paper cells are read from them
    last = lines[-1]
    assert last["coordinates"]["anderson_darling"]["mean"] == run.final.ad_mean
    assert last["coordinates"]["dagostino_pearson"]["mean_pvalue"] == run.final.dp_mean_pvalue
    assert last["norms"]["cv"] == run.final.cv
    assert last["verdict"]["paper_rule"] is run.final.gaussian
    assert not {"ad_mean", "ad_pass", "dp_mean_p", "dp_pass", "gaussian"} & set(last)
    json.dumps(run.to_dict())  # JSON-ready
    assert isinstance(run.encoder, torch.nn.Linear) and run.encoder.out_features == 16


def test_same_seed_same_run_other_seed_differs():
    a = train_synthetic("laplace", epochs=2, eval_epochs=1, seed=3, **TINY)
    b = train_synthetic("laplace", epochs=2, eval_epochs=1, seed=3, **TINY)
    c = train_synthetic("laplace", epochs=2, eval_epochs=1, seed=4, **TINY)
    assert _history(a) == _history(b)
    assert _history(a) != _history(c)
    assert torch.equal(a.encoder.weight, b.encoder.weight)


def test_training_does_not_touch_global_torch_rng():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train_synthetic("gmm", epochs=1, **TINY)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize(
    ("kind", "options"),
    [("laplace", {}), ("gmm", {}), ("binary", {"p_one": 0.05})],
)
def test_views_are_positive_pairs(kind, options):
    data = make_data(kind, d_in=256, n_train=64, n_test=64, seed=0, options=options)
    rng = np.random.default_rng(0)
    v1, v2 = data.views(np.arange(64), rng)
    assert v1.shape == v2.shape == (64, 256) and v1.dtype == np.float32
    pos = syn._cosines(v1, v2)
    neg = syn._cosines(v1, np.roll(v2, 1, axis=0))
    assert pos.mean() > neg.mean() + 0.2
    t1, t2 = data.test_views(rng)
    assert syn._cosines(t1, t2).mean() > syn._cosines(t1, np.roll(t2, 1, axis=0)).mean() + 0.2


def test_trained_alignment_exceeds_negative_cosines():
    run = train_synthetic("laplace", epochs=2, **TINY)
    assert run.final.alignment > run.final.uniformity_mean + 0.2


def test_epoch_zero_only_and_schedule():
    run = train_synthetic("binary", epochs=0, **TINY)
    assert run.epochs_evaluated == (0,)
    assert eval_schedule(25, 10) == [0, 10, 20, 25]
    assert eval_schedule(4, [2]) == [0, 2, 4]
    assert eval_schedule(3, None) == [0, 3]
    with pytest.raises(UsageError):
        eval_schedule(3, [5])


def test_ntxent_option_and_no_bias():
    run = train_synthetic("gmm", epochs=1, loss="ntxent", bias=False, **TINY)
    assert run.encoder.bias is None and run.settings["loss"] == "ntxent"


def test_bad_arguments():
    with pytest.raises(UnknownNameError):
        train_synthetic("cauchy", **TINY)
    with pytest.raises(UsageError, match="unknown option"):
        train_synthetic("laplace", epochs=1, p_one=0.1, **TINY)
    with pytest.raises(UsageError):
        train_synthetic("laplace", epochs=1, **{**TINY, "batch_size": 512})
    run = train_synthetic("binary", epochs=0, p_one=0.2, **TINY)
    with pytest.raises(UsageError, match="not evaluated"):
        run.at(5)
