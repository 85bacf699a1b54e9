"""optim: update rules against hand-computed steps and PyTorch's trajectories."""

import numpy as np
import pytest

import autograd
import nn
import optim


def _quadratic_problem(dtype=np.float64):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 3)).astype(dtype)
    target = rng.standard_normal((5, 2)).astype(dtype)
    w0 = rng.standard_normal((3, 2)).astype(dtype)
    return a, target, w0


def _run_ours(opt_factory, steps=6):
    a, target, w0 = _quadratic_problem()
    w = autograd.tensor(w0, requires_grad=True)
    opt = opt_factory([w])
    for _ in range(steps):
        loss = ((autograd.tensor(a) @ w - autograd.tensor(target)) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return w.data


def _run_torch(torch, opt_factory, steps=6):
    a, target, w0 = _quadratic_problem()
    w = torch.tensor(w0, requires_grad=True)
    opt = opt_factory([w])
    for _ in range(steps):
        loss = ((torch.tensor(a) @ w - torch.tensor(target)) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return w.detach().numpy()


SGD_CONFIGS = [
    dict(lr=0.01),
    dict(lr=0.01, momentum=0.9),
    dict(lr=0.01, momentum=0.9, nesterov=True),
    dict(lr=0.01, momentum=0.8, dampening=0.3, weight_decay=0.1),
    dict(lr=0.01, weight_decay=0.05, maximize=True),
]
ADAM_CONFIGS = [
    dict(lr=0.05),
    dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=0.05, weight_decay=0.1),
    dict(lr=0.05, amsgrad=True),
    dict(lr=0.05, maximize=True),
]


@pytest.mark.parametrize("cfg", SGD_CONFIGS)
def test_sgd_matches_pytorch(cfg):
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(_run_ours(lambda p: optim.SGD(p, **cfg)),
                               _run_torch(torch, lambda p: torch.optim.SGD(p, **cfg)),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cfg", ADAM_CONFIGS)
def test_adam_matches_pytorch(cfg):
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(_run_ours(lambda p: optim.Adam(p, **cfg)),
                               _run_torch(torch, lambda p: torch.optim.Adam(p, **cfg)),
                               rtol=1e-9, atol=1e-12)


def test_sgd_momentum_by_hand():
    w = autograd.tensor([1.0, -2.0], dtype=autograd.float64, requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.5)
    g = np.array([2.0, -4.0])          # d/dw of sum(w^2) at w0
    (w * w).sum().backward()
    opt.step()
    w1 = np.array([1.0, -2.0]) - 0.1 * g
    np.testing.assert_allclose(w.data, w1)
    np.testing.assert_allclose(opt.state[w]["momentum_buffer"].data, g)
    opt.zero_grad()
    (w * w).sum().backward()
    opt.step()
    buf = 0.5 * g + 2 * w1
    np.testing.assert_allclose(w.data, w1 - 0.1 * buf)


def test_adam_first_step_is_lr_times_sign():
    w = autograd.tensor([0.5, -3.0, 2.0], dtype=autograd.float64, requires_grad=True)
    opt = optim.Adam([w], lr=0.01)
    (w * autograd.tensor([1.0, 2.0, -5.0], dtype=autograd.float64)).sum().backward()
    opt.step()
    # bias-corrected m / sqrt(v) = sign(g) on the first step
    np.testing.assert_allclose(w.data, [0.49, -3.01, 2.01], rtol=1e-6)
    assert opt.state[w]["step"] == 1
    assert set(opt.state[w]) == {"step", "exp_avg", "exp_avg_sq"}


def test_param_groups_zero_grad_and_errors():
    a = nn.Linear(2, 2)
    b = nn.Linear(2, 1)
    opt = optim.SGD([{"params": a.parameters()}, {"params": b.parameters(), "lr": 0.5}],
                    lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["momentum"] == 0.9
    b(a(autograd.randn(3, 2))).sum().backward()
    before = b.weight.data.copy()
    grad = b.weight.grad.data.copy()
    opt.step()
    np.testing.assert_allclose(b.weight.data, before - 0.5 * grad, rtol=1e-6)
    opt.zero_grad()
    assert all(p.grad is None for g in opt.param_groups for p in g["params"])
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.SGD(a.parameters(), lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD(a.parameters(), lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta parameter at index 1"):
        optim.Adam(a.parameters(), betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError):
        optim.Adam(a.weight)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [a.weight]}, {"params": [a.weight]}], lr=0.1)


def test_optimizer_state_dict_roundtrip():
    model = nn.Linear(3, 2)
    opt = optim.Adam(model.parameters(), lr=0.01)
    model(autograd.randn(4, 3)).sum().backward()
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0, 1]
    assert sd["state"][0]["step"] == 1
    opt2 = optim.Adam(model.parameters(), lr=0.5)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == 0.01
    np.testing.assert_array_equal(opt2.state[model.weight]["exp_avg"].data,
                                  opt.state[model.weight]["exp_avg"].data)


def test_xor_trains_with_sgd():
    autograd.manual_seed(0)
    x = autograd.tensor([[0., 0.], [0., 1.], [1., 0.], [1., 1.]])
    y = autograd.tensor([[0.], [1.], [1.], [0.]])
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid())
    opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    loss_fn = nn.MSELoss()
    for _ in range(500):
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.01
    np.testing.assert_array_equal((model(x).data > 0.5).astype(float), y.data)


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1), lambda p: optim.Adam(p)])
def test_step_with_closure_returns_loss_and_records_graph(make):
    w = autograd.tensor([2.0, -1.0], requires_grad=True)
    opt = make([w])

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with autograd.no_grad():          # step must re-enable grad for the closure
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(5.0)
    assert np.abs(w.data).sum() < 3.0
