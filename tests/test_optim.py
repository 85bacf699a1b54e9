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


def _run(lib, opt_factory, steps=6):
    """``steps`` steps of ``opt_factory([w])`` on the least-squares problem in ``lib``
    (tapegrad's ``autograd`` or ``torch``); the final ``w`` as an array."""
    a, target, w0 = _quadratic_problem()
    w = lib.tensor(w0, requires_grad=True)
    opt = opt_factory([w])
    for _ in range(steps):
        loss = ((lib.tensor(a) @ w - lib.tensor(target)) ** 2).sum()
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
def test_sgd_matches_pytorch(torch, cfg):
    np.testing.assert_allclose(_run(autograd, lambda p: optim.SGD(p, **cfg)),
                               _run(torch, lambda p: torch.optim.SGD(p, **cfg)),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cfg", ADAM_CONFIGS)
def test_adam_matches_pytorch(torch, cfg):
    np.testing.assert_allclose(_run(autograd, lambda p: optim.Adam(p, **cfg)),
                               _run(torch, lambda p: torch.optim.Adam(p, **cfg)),
                               rtol=1e-9, atol=1e-12)


def test_sgd_momentum_by_hand():
    w = autograd.tensor([1.0, -2.0], dtype=autograd.float64, requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.5)
    g = np.array([2.0, -4.0])          # d/dw of sum(w^2) at w0
    (w * w).sum().backward()
    opt.step()
    w1 = np.array([1.0, -2.0]) - 0.1 * g
    np.testing.assert_allclose(w._data, w1)
    np.testing.assert_allclose(opt.state[w]["momentum_buffer"]._data, g)
    opt.zero_grad()
    (w * w).sum().backward()
    opt.step()
    buf = 0.5 * g + 2 * w1
    np.testing.assert_allclose(w._data, w1 - 0.1 * buf)


def test_adam_first_step_is_lr_times_sign():
    w = autograd.tensor([0.5, -3.0, 2.0], dtype=autograd.float64, requires_grad=True)
    opt = optim.Adam([w], lr=0.01)
    (w * autograd.tensor([1.0, 2.0, -5.0], dtype=autograd.float64)).sum().backward()
    opt.step()
    # bias-corrected m / sqrt(v) = sign(g) on the first step
    np.testing.assert_allclose(w._data, [0.49, -3.01, 2.01], rtol=1e-6)
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
    before = b.weight._data.copy()
    grad = b.weight.grad._data.copy()
    opt.step()
    np.testing.assert_allclose(b.weight._data, before - 0.5 * grad, rtol=1e-6)
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
    np.testing.assert_array_equal(opt2.state[model.weight]["exp_avg"]._data,
                                  opt.state[model.weight]["exp_avg"]._data)


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
    np.testing.assert_array_equal((model(x)._data > 0.5).astype(float), y._data)


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
    assert np.abs(w._data).sum() < 3.0


# ---- every optimizer against PyTorch on a small float64 MLP -------------------------------------
def _mlp_problem():
    """A 3-4-2 tanh MLP regression problem in float64: inputs, targets and initial weights."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, 3))
    y = rng.standard_normal((8, 2))
    weights = {"w1": rng.standard_normal((3, 4)) * 0.5, "b1": rng.standard_normal(4) * 0.1,
               "w2": rng.standard_normal((4, 2)) * 0.5, "b2": rng.standard_normal(2) * 0.1}
    return x, y, weights


def _mlp_loss(lib, params, x, y, sign=1.0):
    """The mean squared error (times ``sign``: -1 gives an objective to maximize)."""
    h = (lib.tensor(x) @ params["w1"] + params["b1"]).tanh()
    return ((h @ params["w2"] + params["b2"] - lib.tensor(y)) ** 2).mean() * sign


def _groups(params, split):
    """All parameters in one list, or (split given) weights and biases in two groups, the
    biases with ``split``'s overrides."""
    if split is None:
        return list(params.values())
    return [{"params": [params["w1"], params["w2"]]},
            dict(split, params=[params["b1"], params["b2"]])]


def _mlp_trajectory(lib, opt_cls, cfg, split=None, steps=50):
    """The parameters after each of ``steps`` updates, and the optimizer."""
    x, y, weights = _mlp_problem()
    params = {k: lib.tensor(v.copy(), requires_grad=True) for k, v in weights.items()}
    opt = opt_cls(_groups(params, split), **cfg)
    sign = -1.0 if cfg.get("maximize") else 1.0
    history = []
    for _ in range(steps):
        opt.zero_grad()
        _mlp_loss(lib, params, x, y, sign).backward()
        opt.step()
        history.append(np.concatenate([p.detach().numpy().ravel() for p in params.values()]))
    return np.array(history), opt, params


OPTIMIZER_CONFIGS = [
    ("SGD", dict(lr=0.1), None),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01), None),
    ("SGD", dict(lr=0.1, momentum=0.5, dampening=0.2, maximize=True), {"lr": 0.01}),
    ("Adam", dict(lr=0.02, amsgrad=True, weight_decay=0.05), None),
    ("Adam", dict(lr=0.02, maximize=True), {"betas": (0.5, 0.9)}),
    ("Adam", dict(lr=0.02, weight_decay=0.1, decoupled_weight_decay=True), None),
    ("AdamW", dict(), None),
    ("AdamW", dict(lr=0.02, weight_decay=0.1, amsgrad=True), None),
    ("AdamW", dict(lr=0.02, maximize=True), {"weight_decay": 0.0, "lr": 0.05}),
    ("RMSprop", dict(), None),
    ("RMSprop", dict(lr=0.005, momentum=0.9), None),
    ("RMSprop", dict(lr=0.005, centered=True), None),
    ("RMSprop", dict(lr=0.005, alpha=0.9, eps=1e-6, centered=True, momentum=0.5,
                     weight_decay=0.1), None),
    ("RMSprop", dict(lr=0.005, maximize=True), {"alpha": 0.5}),
    ("Adagrad", dict(), None),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.1, weight_decay=0.1),
     None),
    ("Adagrad", dict(lr=0.1, eps=1e-6, maximize=True), {"lr_decay": 0.5}),
    ("Adadelta", dict(), None),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1), None),
    ("Adadelta", dict(maximize=True), {"rho": 0.5}),
    ("Adamax", dict(), None),
    ("Adamax", dict(lr=0.02, betas=(0.8, 0.95), weight_decay=0.1), None),
    ("Adamax", dict(lr=0.02, maximize=True), {"eps": 1e-3}),
    ("NAdam", dict(), None),
    ("NAdam", dict(lr=0.02, momentum_decay=0.01, weight_decay=0.1), None),
    ("NAdam", dict(lr=0.02, weight_decay=0.1, decoupled_weight_decay=True), None),
    ("NAdam", dict(lr=0.02, maximize=True), {"betas": (0.8, 0.99)}),
    ("RAdam", dict(), None),
    ("RAdam", dict(lr=0.02, weight_decay=0.1), None),
    ("RAdam", dict(lr=0.02, betas=(0.8, 0.9), weight_decay=0.1, decoupled_weight_decay=True),
     None),
    ("RAdam", dict(lr=0.02, maximize=True), {"lr": 0.05}),
]


@pytest.mark.parametrize("name,cfg,split", OPTIMIZER_CONFIGS,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(OPTIMIZER_CONFIGS)])
def test_optimizer_trajectory_matches_pytorch(torch, name, cfg, split):
    ours, opt, params = _mlp_trajectory(autograd, getattr(optim, name), cfg, split)
    # PyTorch keeps scalar state (step, NAdam's mu_product) in the default dtype: float64 here,
    # like ours (with float32, NAdam's trajectories differ by ~1e-9)
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        theirs, topt, tparams = _mlp_trajectory(torch, getattr(torch.optim, name), cfg, split)
    finally:
        torch.set_default_dtype(default)
    assert np.abs(ours[-1] - ours[0]).max() > 1e-3  # the problem really moves the parameters
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-8)
    # same state entries under PyTorch's names, with the same values
    for p, tp in zip(params.values(), tparams.values()):
        assert set(opt.state[p]) == set(topt.state[tp])
        for key, value in opt.state[p].items():
            expected = topt.state[tp][key]
            got = value.detach().numpy() if isinstance(value, autograd.Tensor) else value
            np.testing.assert_allclose(got, expected.detach().numpy(), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta",
                                  "Adamax", "NAdam", "RAdam"])
def test_defaults_match_pytorch(torch, name):
    w = autograd.tensor([1.0], requires_grad=True)
    ours = getattr(optim, name)([w], lr=0.5) if name == "SGD" else getattr(optim, name)([w])
    tw = torch.tensor([1.0], requires_grad=True)
    theirs = (getattr(torch.optim, name)([tw], lr=0.5) if name == "SGD"
              else getattr(torch.optim, name)([tw]))
    for key, value in ours.defaults.items():
        assert theirs.defaults[key] == value, key


def test_add_param_group_matches_pytorch(torch):
    def run(lib, opt_cls):
        x, y, weights = _mlp_problem()
        params = {k: lib.tensor(v.copy(), requires_grad=True) for k, v in weights.items()}
        opt = opt_cls([params["w1"], params["w2"]], lr=0.01, momentum=0.9)
        for i in range(20):
            if i == 5:
                opt.add_param_group({"params": [params["b1"], params["b2"]], "lr": 0.1,
                                     "nesterov": True})
            opt.zero_grad()
            _mlp_loss(lib, params, x, y).backward()
            opt.step()
        return opt, [p.detach().numpy() for p in params.values()]

    opt, ours = run(autograd, optim.SGD)
    _, theirs = run(torch, torch.optim.SGD)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["nesterov"]


def test_zero_grad_set_to_none_false_keeps_zeroed_arrays():
    w = autograd.tensor([1.0, 2.0], dtype=autograd.float64, requires_grad=True)
    opt = optim.RMSprop([w])
    (w * w).sum().backward()
    grad = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is grad
    np.testing.assert_array_equal(w.grad._data, [0.0, 0.0])
    opt.zero_grad()
    assert w.grad is None


def test_optimizer_skips_parameters_without_grad():
    a = autograd.tensor([1.0], dtype=autograd.float64, requires_grad=True)
    b = autograd.tensor([1.0], dtype=autograd.float64, requires_grad=True)
    for cls in (optim.AdamW, optim.RMSprop, optim.Adadelta, optim.Adamax, optim.NAdam,
                optim.RAdam):
        opt = cls([a, b])
        (a * 3).sum().backward()
        opt.step()
        opt.zero_grad()
        assert b._data[0] == 1.0 and b not in opt.state and a in opt.state


BAD_HYPERPARAMETERS = [
    ("AdamW", dict(lr=-1e-3)),
    ("AdamW", dict(weight_decay=-1.0)),
    ("Adam", dict(eps=-1.0)),
    ("Adam", dict(betas=(1.0, 0.9))),
    ("RMSprop", dict(lr=-1.0)),
    ("RMSprop", dict(alpha=-0.5)),
    ("RMSprop", dict(momentum=-0.5)),
    ("RMSprop", dict(eps=-1e-8)),
    ("RMSprop", dict(weight_decay=-1.0)),
    ("Adagrad", dict(lr_decay=-1.0)),
    ("Adagrad", dict(initial_accumulator_value=-1.0)),
    ("Adagrad", dict(eps=-1.0)),
    ("Adadelta", dict(rho=1.5)),
    ("Adadelta", dict(lr=-1.0)),
    ("Adamax", dict(betas=(0.9, 1.0))),
    ("NAdam", dict(momentum_decay=-1.0)),
    ("NAdam", dict(weight_decay=-1.0)),
    ("RAdam", dict(betas=(-0.1, 0.9))),
    ("RAdam", dict(eps=-1.0)),
    ("SGD", dict(lr=0.1, momentum=-1.0)),
]


@pytest.mark.parametrize("name,cfg", BAD_HYPERPARAMETERS,
                         ids=[f"{n}-{next(iter(c))}" for n, c in BAD_HYPERPARAMETERS])
def test_bad_hyperparameters_raise_like_pytorch(torch, name, cfg):
    with pytest.raises(ValueError) as ours:
        getattr(optim, name)([autograd.tensor([1.0], requires_grad=True)], **cfg)
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)([torch.tensor([1.0], requires_grad=True)], **cfg)
    assert str(ours.value) == str(theirs.value)


def test_add_param_group_rejects_sets_and_duplicates():
    a = autograd.tensor([1.0], requires_grad=True)
    b = autograd.tensor([1.0], requires_grad=True)
    opt = optim.NAdam([a])
    with pytest.raises(TypeError, match="ordered collections"):
        opt.add_param_group({"params": {b}})
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    opt.add_param_group({"params": [b], "lr": 0.1})
    assert opt.param_groups[1]["lr"] == 0.1
    assert opt.param_groups[1]["momentum_decay"] == 4e-3


def _train_steps(params, opt, sched, x, y, steps):
    for _ in range(steps):
        opt.zero_grad()
        _mlp_loss(autograd, params, x, y).backward()
        opt.step()
        sched.step()


RESUME_OPTIMIZERS = [
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    lambda p: optim.Adam(p, lr=0.01, amsgrad=True),
    lambda p: optim.AdamW(p, lr=0.01),
    lambda p: optim.RMSprop(p, centered=True, momentum=0.5),
    lambda p: optim.Adagrad(p, lr_decay=0.01),
    lambda p: optim.Adadelta(p),
    lambda p: optim.Adamax(p),
    lambda p: optim.NAdam(p),
    lambda p: optim.RAdam(p, lr=0.01),
]


@pytest.mark.parametrize("make", RESUME_OPTIMIZERS,
                         ids=["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta",
                              "Adamax", "NAdam", "RAdam"])
def test_state_dict_resumes_training_exactly(make):
    import copy

    from optim.lr_scheduler import CosineAnnealingLR

    x, y, weights = _mlp_problem()
    params = {k: autograd.tensor(v.copy(), requires_grad=True) for k, v in weights.items()}
    opt = make(list(params.values()))
    sched = CosineAnnealingLR(opt, T_max=15)
    _train_steps(params, opt, sched, x, y, 10)
    saved = copy.deepcopy({"params": {k: p._data for k, p in params.items()},
                           "opt": opt.state_dict(), "sched": sched.state_dict()})
    _train_steps(params, opt, sched, x, y, 10)

    fresh = {k: autograd.tensor(v, requires_grad=True) for k, v in saved["params"].items()}
    opt2 = make(list(fresh.values()))
    sched2 = CosineAnnealingLR(opt2, T_max=15)
    opt2.load_state_dict(saved["opt"])
    sched2.load_state_dict(saved["sched"])
    _train_steps(fresh, opt2, sched2, x, y, 10)
    for k in params:
        np.testing.assert_array_equal(fresh[k]._data, params[k]._data)
    assert sched2.get_last_lr() == sched.get_last_lr()
    assert opt2.state_dict()["param_groups"] == opt.state_dict()["param_groups"]


def test_adamw_load_state_dict_keeps_decoupled_decay():
    w = autograd.tensor([1.0], requires_grad=True)
    sd = optim.Adam([w]).state_dict()
    opt = optim.AdamW([w])
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta",
                                  "Adamax", "NAdam", "RAdam"])
def test_float32_parameters_stay_float32(name):
    extra = {"momentum": 0.9} if name in ("SGD", "RMSprop") else {}
    w = autograd.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=autograd.float32, requires_grad=True)
    opt = getattr(optim, name)([w], lr=0.01, weight_decay=0.1, **extra)
    for _ in range(3):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
    assert w.dtype == np.float32
    for key, value in opt.state[w].items():
        if isinstance(value, autograd.Tensor):
            assert value.dtype == np.float32, key


# ---- load_state_dict validation -----------------------------------------------------------------
def _stepped(cls, **kw):
    w = autograd.tensor([1.0, -2.0, 0.5], requires_grad=True)
    b = autograd.tensor([0.25], requires_grad=True)
    opt = cls([w, b], **kw)
    ((w * w).sum() + b.sum()).backward()
    opt.step()
    return opt, [w, b]


def test_load_state_dict_of_another_optimizer_raises():
    """An Adam state loaded into SGD was accepted and SGD went on with its own momentum and
    Adam's lr (PyTorch: KeyError 'momentum' at the next step; here at load, naming it)."""
    adam, params = _stepped(optim.Adam)
    sgd = optim.SGD(params, lr=0.1, momentum=0.9)
    with pytest.raises(KeyError, match="SGD.load_state_dict.*'momentum'.*'dampening'"):
        sgd.load_state_dict(adam.state_dict())
    assert sgd.param_groups[0]["lr"] == 0.1 and not sgd.state   # unchanged
    sgd_state = _stepped(optim.SGD, lr=0.1, momentum=0.9)[0].state_dict()
    with pytest.raises(KeyError, match="Adam.load_state_dict.*'betas'"):
        optim.Adam(params).load_state_dict(sgd_state)
    with pytest.raises(KeyError, match="RMSprop.load_state_dict.*'alpha'"):
        optim.RMSprop(params).load_state_dict(adam.state_dict())


def test_load_state_dict_checks_counts_shapes_and_fills_flags():
    adam, params = _stepped(optim.Adam)
    sd = adam.state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.Adam([{"params": params[:1]}, {"params": params[1:]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.Adam(params[:1]).load_state_dict(sd)
    other = [autograd.tensor([1.0, 2.0], requires_grad=True), params[1]]
    with pytest.raises(ValueError, match=r"state 'exp_avg' of parameter 0 has shape \(3,\)"):
        optim.Adam(other).load_state_dict(sd)
    with pytest.raises(KeyError, match="param_groups"):
        optim.Adam(params).load_state_dict({"state": {}})
    old = {"state": sd["state"], "param_groups": [
        {k: v for k, v in sd["param_groups"][0].items() if k not in ("maximize", "foreach")}]}
    fresh = optim.Adam(params, lr=0.5)
    fresh.load_state_dict(old)          # a state dict without newer flags: filled in
    assert fresh.param_groups[0]["maximize"] is False
    assert fresh.param_groups[0]["lr"] == sd["param_groups"][0]["lr"]
    np.testing.assert_array_equal(fresh.state[params[0]]["exp_avg"]._data,
                                  adam.state[params[0]]["exp_avg"]._data)


def test_load_state_dict_matches_torch_on_valid_and_cross_class_dicts(torch):
    """The same checks fire as in PyTorch (or earlier, for the cross-class case, where PyTorch
    raises KeyError at the first step)."""
    tp = [torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(1))]
    tadam = torch.optim.Adam(tp)
    sum(p.sum() for p in tp).backward()
    tadam.step()
    tsgd = torch.optim.SGD(tp, lr=0.1, momentum=0.9)
    tsgd.load_state_dict(tadam.state_dict())
    with pytest.raises(KeyError):
        tsgd.step()
    for bad in ({"state": {}, "param_groups": [{"params": [0]}]},
                {"state": {}, "param_groups": [{"params": [0]}, {"params": [1]}]}):
        with pytest.raises(ValueError) as theirs:
            torch.optim.Adam(tp).load_state_dict(bad)
        with pytest.raises(ValueError) as ours:
            optim.Adam(_stepped(optim.Adam)[1]).load_state_dict(bad)
        assert str(ours.value) == str(theirs.value)
