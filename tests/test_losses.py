import math

import pytest

torch = pytest.importorskip("torch")

from gaussaudit.train.losses import contrastive_loss, info_nce, nt_xent  # noqa: E402

pytestmark = pytest.mark.torch


def naive_info_nce(u, v, tau):
    total = 0.0
    n = len(u)
    for i in range(n):
        ui = u[i] / u[i].norm()
        scores = [float(ui @ (v[j] / v[j].norm())) / tau for j in range(n)]
        total += -(scores[i] - math.log(sum(math.exp(s) for s in scores)))
    return total / n


def naive_nt_xent(z1, z2, tau):
    z = [x / x.norm() for x in list(z1) + list(z2)]
    n = len(z1)
    total = 0.0
    for a in range(2 * n):
        pos = a + n if a < n else a - n
        scores = {b: float(z[a] @ z[b]) / tau for b in range(2 * n) if b != a}
        total += -(scores[pos] - math.log(sum(math.exp(s) for s in scores.values())))
    return total / (2 * n)


@pytest.mark.parametrize("tau", [0.1, 0.5])
def test_info_nce_matches_naive_loop(tau):
    g = torch.Generator().manual_seed(0)
    u, v = (
        torch.randn(7, 5, generator=g, dtype=torch.float64),
        torch.randn(7, 5, generator=g, dtype=torch.float64),
    )
    assert float(info_nce(u, v, tau)) == pytest.approx(naive_info_nce(u, v, tau), rel=1e-10)


@pytest.mark.parametrize("tau", [0.1, 0.5])
def test_nt_xent_matches_naive_loop(tau):
    g = torch.Generator().manual_seed(1)
    z1, z2 = (
        torch.randn(6, 4, generator=g, dtype=torch.float64),
        torch.randn(6, 4, generator=g, dtype=torch.float64),
    )
    assert float(nt_xent(z1, z2, tau)) == pytest.approx(naive_nt_xent(z1, z2, tau), rel=1e-10)


def test_losses_reward_alignment_and_are_scale_invariant():
    g = torch.Generator().manual_seed(2)
    u = torch.randn(16, 8, generator=g)
    noise = torch.randn(16, 8, generator=g)
    assert info_nce(u, u + 0.01 * noise) < info_nce(u, noise)
    assert float(info_nce(3 * u, u)) == pytest.approx(float(info_nce(u, u)), rel=1e-5)
    assert float(nt_xent(u, 2 * u)) == pytest.approx(float(nt_xent(u, u)), rel=1e-5)


def test_module_forms_and_unknown_name():
    from gaussaudit.errors import UnknownNameError

    u, v = torch.randn(4, 3), torch.randn(4, 3)
    assert float(contrastive_loss("infonce", 0.2)(u, v)) == pytest.approx(
        float(info_nce(u, v, 0.2))
    )
    assert float(contrastive_loss("ntxent", 0.2)(u, v)) == pytest.approx(float(nt_xent(u, v, 0.2)))
    with pytest.raises(UnknownNameError):
        contrastive_loss("triplet", 0.1)


def test_gradients_flow():
    u = torch.randn(8, 4, requires_grad=True)
    v = torch.randn(8, 4, requires_grad=True)
    (info_nce(u, v) + nt_xent(u, v)).backward()
    assert u.grad is not None and torch.isfinite(u.grad).all()
