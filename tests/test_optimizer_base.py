"""The optimizer base class: an optimizer is its ``init_state`` and ``update``; ``step`` owns the
closure, the loop, lazy state, the version bump and the step hooks (PyTorch's public shape)."""

import numpy as np
import pytest

import autograd
import optim
from autograd import Tensor


class Momentum(optim.Optimizer):
    """Heavy-ball momentum written as a newcomer would: only the state and the update."""

    def __init__(self, params, lr=0.1, beta=0.9):
        super().__init__(params, dict(lr=lr, beta=beta))

    def init_state(self, state, p, group):
        state["step"] = 0
        state["momentum_buffer"] = self._zeros_like(p)

    def update(self, p, state, group):
        buf = state["momentum_buffer"]._data
        buf *= group["beta"]
        buf += p.grad._data
        p._data -= group["lr"] * buf


def test_an_optimizer_is_its_init_state_and_update(torch):
    w0 = np.array([1.0, -2.0, 3.0])
    p = Tensor(w0.copy(), requires_grad=True)
    q = torch.tensor(w0.copy(), requires_grad=True)
    ours, theirs = Momentum([p], lr=0.1, beta=0.9), torch.optim.SGD([q], lr=0.1, momentum=0.9)
    for _ in range(5):
        for param, opt in ((p, ours), (q, theirs)):
            opt.zero_grad()
            (param ** 2).sum().backward()
            opt.step()
    np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-12)
    assert ours.state[p]["step"] == 5


def test_step_skips_params_without_grad_bumps_versions_and_runs_the_closure():
    a = Tensor(np.ones(2), requires_grad=True)
    b = Tensor(np.ones(2), requires_grad=True)
    opt = Momentum([a, b])
    calls = []

    def closure():
        calls.append(autograd.is_grad_enabled())
        opt.zero_grad()
        loss = (a * 3).sum()
        loss.backward()
        return loss

    va, vb = a._version, b._version
    loss = opt.step(closure)
    assert calls == [True] and loss.item() == 6.0
    assert a._version > va and b._version == vb and b not in opt.state
    np.testing.assert_allclose(a.detach().numpy(), 1 - 0.1 * 3)


def test_step_hooks():
    p = Tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([p], lr=0.5)
    events = []
    h1 = opt.register_step_pre_hook(lambda o, args, kw: events.append(("pre", o is opt)))
    h2 = opt.register_step_post_hook(lambda o, args, kw: events.append(("post", p[0].item())))
    p.sum().backward()
    opt.step()
    assert events == [("pre", True), ("post", 0.5)]
    h1.remove()
    h2.remove()
    opt.step()
    assert len(events) == 2


def test_missing_update_says_what_to_define():
    class Half(optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {})

    p = Tensor(np.ones(1), requires_grad=True)
    p.sum().backward()
    with pytest.raises(NotImplementedError, match="Half.init_state"):
        Half([p]).step()
