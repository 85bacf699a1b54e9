"""optim.LBFGS against PyTorch's trajectories: Rosenbrock (both line-search modes, several
history/iteration budgets), a regularised regression in float32 and float64, an LSTM-cell
sine-wave workflow, and float32 runs that follow PyTorch bit for bit given the same gradients."""

import numpy as np
import pytest

import autograd
import nn
import optim


# ---- LBFGS ---------------------------------------------------------------------------------------
def _rosenbrock_run(lib, opt_cls, dtype, steps, **kw):
    x = lib.tensor(np.array([-1.5, 2.0]), dtype=getattr(lib, dtype), requires_grad=True)
    opt = opt_cls([x], **kw)

    def closure():
        opt.zero_grad()
        loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
        loss.backward()
        return loss

    traj, losses = [], []
    for _ in range(steps):
        losses.append(float(opt.step(closure).detach()))
        traj.append(x.detach().numpy().copy())
    return np.array(traj), np.array(losses), opt.state[x]


LBFGS_CFGS = [dict(lr=1, line_search_fn="strong_wolfe", history_size=5, max_iter=10),
              dict(lr=0.1, history_size=5, max_iter=10),
              dict(lr=1, line_search_fn="strong_wolfe"),        # PyTorch's defaults otherwise
              dict(lr=0.05, max_iter=3, max_eval=4, history_size=2),
              dict(lr=1, line_search_fn="strong_wolfe", max_iter=1)]  # search out of budget


@pytest.mark.parametrize("cfg", LBFGS_CFGS, ids=[str(c) for c in LBFGS_CFGS])
def test_lbfgs_rosenbrock_trajectory_matches_pytorch(torch, cfg):
    a, la, sa = _rosenbrock_run(torch, torch.optim.LBFGS, "float64", 30, **cfg)
    b, lb, sb = _rosenbrock_run(autograd, optim.LBFGS, "float64", 30, **cfg)
    np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(lb, la, rtol=1e-9, atol=1e-12)
    assert (sb["func_evals"], sb["n_iter"]) == (sa["func_evals"], sa["n_iter"])
    assert len(sb["old_dirs"]) == len(sa["old_dirs"])


def test_lbfgs_float32_follows_pytorch_bit_for_bit_given_the_same_gradients(torch):
    """With the loss and gradient computed outside both libraries, the optimizer's own float32
    arithmetic (dot products, fused updates, line search) is PyTorch's exactly."""
    def rosen(x):
        a, b = np.float32(1) - x[0], x[1] - x[0] * x[0]
        g = np.array([np.float32(-2) * a - np.float32(400) * x[0] * b, np.float32(200) * b],
                     dtype=np.float32)
        return a * a + np.float32(100) * b * b, g

    def run(lib, cls, **kw):
        x = lib.tensor(np.array([-1.5, 2.0], dtype=np.float32), requires_grad=True)
        opt = cls([x], **kw)

        def closure():
            f, g = rosen(x.detach().numpy())
            x.grad = lib.tensor(g)
            return lib.tensor(f)

        out = []
        for _ in range(25):
            opt.step(closure)
            out.append(x.detach().numpy().copy())
        return np.array(out)

    for kw in (dict(lr=1, line_search_fn="strong_wolfe", history_size=5, max_iter=10),
               dict(lr=0.1, history_size=5, max_iter=10)):
        np.testing.assert_array_equal(run(autograd, optim.LBFGS, **kw),
                                      run(torch, torch.optim.LBFGS, **kw))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_regression_matches_pytorch(torch, dtype, line_search_fn):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5))
    y = x @ rng.normal(size=(5, 1)) + 0.1 * rng.normal(size=(64, 1))

    def run(lib, nn_mod, cls):
        lib.manual_seed(0)
        model = nn_mod.Linear(5, 1).to(getattr(lib, dtype))
        with lib.no_grad():
            model.weight.copy_(lib.tensor(np.full((1, 5), 0.1)))
            model.bias.zero_()
        opt = cls(model.parameters(), lr=0.5 if line_search_fn is None else 1, max_iter=4,
                  history_size=3, line_search_fn=line_search_fn)
        xt, yt = lib.tensor(x, dtype=getattr(lib, dtype)), lib.tensor(y, dtype=getattr(lib, dtype))

        def closure():
            opt.zero_grad()
            loss = ((model(xt) - yt) ** 2).mean() + 0.01 * (model.weight ** 2).sum()
            loss.backward()
            return loss

        losses = [float(opt.step(closure).detach()) for _ in range(25)]
        return np.array(losses), model.weight.detach().numpy().copy()

    la, wa = run(torch, torch.nn, torch.optim.LBFGS)
    lb, wb = run(autograd, nn, optim.LBFGS)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(lb, la, **tol)
    # float32: the gradients' last bits differ between the libraries; near the minimum that
    # moves the weights by a few 1e-6
    np.testing.assert_allclose(wb, wa, **(dict(atol=3e-5) if dtype == "float32" else tol))
    assert lb[-1] < 0.5 * lb[0]


def test_lbfgs_without_torch_converges_and_checks_arguments():
    x = autograd.tensor([-1.5, 2.0], dtype=autograd.float64, requires_grad=True)
    opt = optim.LBFGS([x], line_search_fn="strong_wolfe", max_iter=50)

    def closure():
        opt.zero_grad()
        loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
        loss.backward()
        return loss

    first = opt.step(closure)
    assert isinstance(first, autograd.Tensor) and first.item() == pytest.approx(12.5)
    for _ in range(5):
        opt.step(closure)
    np.testing.assert_allclose(x.detach().numpy(), [1.0, 1.0], atol=1e-4)  # the minimum
    state = opt.state_dict()["state"][0]
    assert state["n_iter"] > 0 and len(state["old_dirs"]) <= 100
    with pytest.raises(ValueError, match="strong_wolfe"):
        optim.LBFGS([x], line_search_fn="armijo")
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [x]}, {"params": [autograd.zeros(1, requires_grad=True)]}])
    with pytest.raises(ValueError, match="learning rate"):
        optim.LBFGS([x], lr=0)
    with pytest.raises(TypeError, match="closure"):
        opt.step()
    done = autograd.zeros(2, requires_grad=True)  # a zero gradient: returns at once
    o2 = optim.LBFGS([done])

    def flat():
        o2.zero_grad()
        loss = (done * 0).sum()
        loss.backward()
        return loss

    o2.step(flat)
    assert o2.state[done]["n_iter"] == 0 and o2.state[done]["func_evals"] == 1


def test_lbfgs_sine_lstm_workflow_matches_pytorch(torch):
    """pytorch/examples' time_sequence_prediction in miniature, in our own words: two LSTM cells
    and a linear read-out in float64, trained by LBFGS(lr=0.8) with a closure; the same start
    weights in both libraries give the same losses."""
    rng = np.random.default_rng(2)
    t = np.arange(30) + rng.integers(-20, 20, 6).reshape(6, 1)
    data = np.sin(t / 5.0)

    def run(lib, nn_mod, optim_mod):
        class Seq(nn_mod.Module):
            def __init__(self):
                super().__init__()
                self.lstm1, self.lstm2 = nn_mod.LSTMCell(1, 8), nn_mod.LSTMCell(8, 8)
                self.linear = nn_mod.Linear(8, 1)

            def forward(self, x):
                h = c = h2 = c2 = lib.zeros(x.size(0), 8, dtype=lib.double)
                outs = []
                for xt in x.split(1, dim=1):
                    h, c = self.lstm1(xt, (h, c))
                    h2, c2 = self.lstm2(h, (h2, c2))
                    outs.append(self.linear(h2))
                return lib.cat(outs, dim=1)

        seq = Seq().double()
        with lib.no_grad():
            for k, (name, p) in enumerate(sorted(seq.named_parameters())):
                p.copy_(lib.tensor(np.random.default_rng(k).uniform(-0.3, 0.3, tuple(p.shape))))
        x, y = lib.from_numpy(data[:, :-1].copy()), lib.from_numpy(data[:, 1:].copy())
        opt = optim_mod.LBFGS(seq.parameters(), lr=0.8, max_iter=5)
        crit = nn_mod.MSELoss()
        losses = []

        def closure():
            opt.zero_grad()
            loss = crit(seq(x), y)
            losses.append(loss.item())
            loss.backward()
            return loss

        for _ in range(2):
            opt.step(closure)
        return np.array(losses)

    ours = run(autograd, nn, optim)
    theirs = run(torch, torch.nn, torch.optim)
    assert len(ours) == len(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-8)
    assert np.isfinite(ours).all()
