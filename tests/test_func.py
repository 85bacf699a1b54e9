"""autograd.func (torch.func) against torch.func: grad, grad_and_value, vjp, jvp, jacrev,
jacfwd, hessian, vmap, functional_call; float64 gradchecks through the transforms;
autograd.utils.benchmark.Timer."""

import numpy as np
import pytest

import autograd
import nn
from autograd.func import (functional_call, grad, grad_and_value, hessian, jacfwd, jacrev, jvp,
                           vjp, vmap)

RNG = np.random.default_rng(0)
X = RNG.standard_normal(4)
W = RNG.standard_normal((3, 4))
B = RNG.standard_normal(3)


def _a(t):
    return t.detach().numpy()


def _ours(a, grad_=False):
    return autograd.tensor(np.array(a, dtype=np.float64), requires_grad=grad_)


def f_scalar(x):
    return (x.sin() ** 2).sum() + (x * x).prod()


def predict(weight, bias, x):
    return (x @ weight.T + bias).tanh()


def test_grad_and_value_match_torch(torch):
    x, tx = _ours(X), torch.tensor(X)
    np.testing.assert_allclose(_a(grad(f_scalar)(x)), torch.func.grad(f_scalar)(tx).numpy(),
                               rtol=1e-12)
    g, v = grad_and_value(f_scalar)(x)
    tg, tv = torch.func.grad_and_value(f_scalar)(tx)
    np.testing.assert_allclose(_a(g), tg.numpy(), rtol=1e-12)
    np.testing.assert_allclose(v.item(), tv.item(), rtol=1e-12)
    assert not g.requires_grad and not v.requires_grad

    def loss(w, b, x):
        return predict(w, b, x).sum(), {"out": predict(w, b, x)}
    args = (_ours(W), _ours(B), _ours(X))
    targs = tuple(torch.tensor(a) for a in (W, B, X))
    (gw, gb), aux = grad(loss, argnums=(0, 1), has_aux=True)(*args)
    (tgw, tgb), taux = torch.func.grad(loss, argnums=(0, 1), has_aux=True)(*targs)
    np.testing.assert_allclose(_a(gw), tgw.numpy(), rtol=1e-12)
    np.testing.assert_allclose(_a(gb), tgb.numpy(), rtol=1e-12)
    np.testing.assert_allclose(_a(aux["out"]), taux["out"].numpy(), rtol=1e-12)


def test_grad_nested_and_pytree_and_unused():
    x = _ours(X)
    d2 = grad(lambda x: grad(lambda y: (y ** 3).sum())(x).sum())(x)
    np.testing.assert_allclose(_a(d2), 6 * X, rtol=1e-12)
    params = {"a": _ours(X), "b": (_ours(B),)}
    g = grad(lambda p: (p["a"] ** 2).sum() + p["b"][0].sum())(params)
    np.testing.assert_allclose(_a(g["a"]), 2 * X)
    np.testing.assert_allclose(_a(g["b"][0]), np.ones(3))
    g0 = grad(lambda x, y: (y * 2).sum(), argnums=0)(_ours(X), _ours(B))
    np.testing.assert_array_equal(_a(g0), np.zeros(4))


def test_grad_composes_with_autograd_gradcheck():
    x = _ours(X, True)
    assert autograd.gradcheck(lambda x: grad(f_scalar)(x), (x,))
    w = _ours(W, True)
    assert autograd.gradcheck(lambda w: jacrev(predict, argnums=2)(w, _ours(B), _ours(X)), (w,))
    assert autograd.gradcheck(lambda x: vmap(lambda r: (r.sin() * r).sum())(x.reshape(2, 2)),
                              (x,))


def test_grad_errors():
    with pytest.raises(RuntimeError, match="scalar Tensor"):
        grad(lambda x: x * 2)(_ours(X))
    with pytest.raises(RuntimeError, match="argnums=2, but only 1 positional"):
        grad(f_scalar, argnums=2)(_ours(X))
    with pytest.raises(RuntimeError, match="floating point"):
        grad(lambda x: x.sum())(autograd.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="tuple: \\(output, aux\\)"):
        grad(f_scalar, has_aux=True)(_ours(X))


def test_vjp_jvp_match_torch(torch):
    args = (_ours(W), _ours(B), _ours(X))
    targs = tuple(torch.tensor(a) for a in (W, B, X))
    ct = RNG.standard_normal(3)
    out, fn = vjp(predict, *args)
    tout, tfn = torch.func.vjp(predict, *targs)
    np.testing.assert_allclose(_a(out), tout.numpy(), rtol=1e-12)
    for a, b in zip(fn(_ours(ct)), tfn(torch.tensor(ct))):
        np.testing.assert_allclose(_a(a), b.numpy(), rtol=1e-12)
    # vmap over vjp_fn gives the Jacobian (the tutorial's idiom)
    jac, = vmap(lambda v: fn(v)[2:])(autograd.eye(3, dtype=autograd.float64))
    np.testing.assert_allclose(_a(jac), torch.func.jacrev(predict, argnums=2)(*targs).numpy(),
                               rtol=1e-12)
    tang = tuple(RNG.standard_normal(a.shape) for a in (W, B, X))
    o, jv = jvp(predict, args, tuple(_ours(t) for t in tang))
    to, tjv = torch.func.jvp(predict, targs, tuple(torch.tensor(t) for t in tang))
    np.testing.assert_allclose(_a(o), to.numpy(), rtol=1e-12)
    np.testing.assert_allclose(_a(jv), tjv.numpy(), rtol=1e-10)
    with pytest.raises(RuntimeError, match="same shape"):
        jvp(predict, args, (_ours(W), _ours(B), _ours(B)))
    with pytest.raises(RuntimeError, match="shape"):
        fn(_ours(np.ones(4)))


def test_jacrev_jacfwd_hessian_match_torch(torch):
    args = (_ours(W), _ours(B), _ours(X))
    targs = tuple(torch.tensor(a) for a in (W, B, X))
    for ours, theirs in ((jacrev, torch.func.jacrev), (jacfwd, torch.func.jacfwd)):
        for argnums in (0, 2, (0, 1)):
            j = ours(predict, argnums=argnums)(*args)
            tj = theirs(predict, argnums=argnums)(*targs)
            for a, b in zip(j if isinstance(j, tuple) else (j,),
                            tj if isinstance(tj, tuple) else (tj,)):
                assert a.shape == tuple(b.shape)
                np.testing.assert_allclose(_a(a), b.numpy(), rtol=1e-10, atol=1e-14)
    h = hessian(predict, argnums=2)(*args)
    th = torch.func.hessian(predict, argnums=2)(*targs)
    assert h.shape == (3, 4, 4)
    np.testing.assert_allclose(_a(h), th.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(_a(hessian(f_scalar)(_ours(X))),
                               torch.func.hessian(f_scalar)(torch.tensor(X)).numpy(), rtol=1e-10)
    # jacfwd(jacrev) == jacrev(jacrev), and a batch of Jacobians/Hessians through vmap
    xs = RNG.standard_normal((5, 4))
    bj = vmap(jacrev(predict, argnums=2), in_dims=(None, None, 0))(args[0], args[1], _ours(xs))
    tbj = torch.func.vmap(torch.func.jacrev(predict, argnums=2), in_dims=(None, None, 0))(
        targs[0], targs[1], torch.tensor(xs))
    np.testing.assert_allclose(_a(bj), tbj.numpy(), rtol=1e-10)
    bh = vmap(hessian(predict, argnums=2), in_dims=(None, None, 0))(args[0], args[1], _ours(xs))
    assert bh.shape == (5, 3, 4, 4)
    np.testing.assert_allclose(_a(bh[1]), _a(hessian(predict, argnums=2)(args[0], args[1],
                                                                           _ours(xs[1]))))


def test_vmap_dims_and_nesting_match_torch(torch):
    a, b = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((4, 3))

    def f(x, y):
        return x * y.T, (x.sum(-1), y.sum())
    ours = vmap(f, in_dims=(0, None), out_dims=(1, (0, 0)))(_ours(a), _ours(b))
    theirs = torch.func.vmap(f, in_dims=(0, None), out_dims=(1, (0, 0)))(torch.tensor(a),
                                                                         torch.tensor(b))
    assert ours[0].shape == tuple(theirs[0].shape)
    np.testing.assert_allclose(_a(ours[0]), theirs[0].numpy())
    np.testing.assert_allclose(_a(ours[1][0]), theirs[1][0].numpy())
    np.testing.assert_allclose(_a(ours[1][1]), theirs[1][1].numpy())
    m = RNG.standard_normal((2, 3, 5))
    inner = vmap(vmap(lambda r: r.sum() * 2, in_dims=1), in_dims=0)(_ours(m))
    tinner = torch.func.vmap(torch.func.vmap(lambda r: r.sum() * 2, in_dims=1), in_dims=0)(
        torch.tensor(m))
    np.testing.assert_allclose(_a(inner), tinner.numpy())
    d = vmap(lambda p: p["w"] @ p["v"], in_dims=({"w": 0, "v": None},))(
        {"w": _ours(a), "v": _ours(b)})
    np.testing.assert_allclose(_a(d), a @ b)


def test_vmap_errors_and_randomness():
    with pytest.raises(ValueError, match="same size in the mapped dimension"):
        vmap(lambda x, y: x + y)(autograd.ones(2), autograd.ones(3))
    with pytest.raises(ValueError, match="in_dims is not compatible"):
        vmap(lambda x, y: x + y, in_dims=(0,))(autograd.ones(2), autograd.ones(2))
    with pytest.raises(ValueError, match="at least one input"):
        vmap(lambda x: x, in_dims=None)(autograd.ones(2))
    with pytest.raises(ValueError, match="dimensionality 1"):
        vmap(lambda x: x, in_dims=1)(autograd.ones(2))
    with pytest.raises(ValueError, match="only return Tensors"):
        vmap(lambda x: 1.0)(autograd.ones(2))
    with pytest.raises(RuntimeError, match="randomness"):
        vmap(lambda x: x + autograd.rand(()))(autograd.ones(3))
    same = vmap(lambda x: x + autograd.rand(()), randomness="same")(autograd.zeros(3))
    assert len(set(_a(same).tolist())) == 1
    diff = vmap(lambda x: x + autograd.rand(()), randomness="different")(autograd.zeros(3))
    assert len(set(_a(diff).tolist())) == 3
    assert autograd.vmap is vmap


def _model():
    autograd.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2)).double()


def test_functional_call_and_per_sample_grads(torch):
    model = _model()
    params = {k: v.detach() for k, v in model.named_parameters()}
    x = _ours(RNG.standard_normal((6, 4)))
    y = autograd.tensor(RNG.integers(0, 2, 6))
    new = {k: v * 2 for k, v in params.items()}
    out = functional_call(model, new, (x,))
    expected = ((x @ new["0.weight"].T + new["0.bias"]).tanh()) @ new["2.weight"].T \
        + new["2.bias"]
    np.testing.assert_allclose(_a(out), _a(expected), rtol=1e-12)
    assert not np.allclose(_a(out), _a(model(x)))      # the module's own weights are back
    assert model[0].weight is not None and np.allclose(_a(model[0].weight),
                                                       _a(params["0.weight"]))

    def loss(p, xb, yb):
        logits = functional_call(model, p, (xb[None],))
        return nn.functional.cross_entropy(logits, yb[None])
    ps = vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)
    tm = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2)).double()
    tm.load_state_dict({k: torch.tensor(_a(v)) for k, v in params.items()})
    tparams = {k: v.detach() for k, v in tm.named_parameters()}

    def tloss(p, xb, yb):
        return torch.nn.functional.cross_entropy(torch.func.functional_call(tm, p, (xb[None],)),
                                                 yb[None])
    tps = torch.func.vmap(torch.func.grad(tloss), in_dims=(None, 0, 0))(
        tparams, torch.tensor(_a(x)), torch.tensor(_a(y)))
    for k in params:
        assert ps[k].shape == (6,) + tuple(params[k].shape)
        np.testing.assert_allclose(_a(ps[k]), tps[k].numpy(), rtol=1e-10, atol=1e-14)
    with pytest.raises(RuntimeError, match="Missing key"):
        functional_call(model, {"0.weight": params["0.weight"]}, (x,), strict=True)
    with pytest.raises(ValueError, match="multiple dictionaries"):
        functional_call(model, ({"0.bias": params["0.bias"]}, {"0.bias": params["0.bias"]}), x)


def test_benchmark_timer():
    from autograd.utils.benchmark import Measurement, Timer
    calls = []
    t = Timer(stmt="f()", globals={"f": lambda: calls.append(1)}, label="noop")
    m = t.timeit(50)
    assert isinstance(m, Measurement) and m.number_per_run == 50 and len(m.times) == 1
    assert len(calls) == 51 and m.mean > 0 and m.median == m.times[0]
    m2 = t.blocked_autorange(min_run_time=0.02)
    assert m2.median > 0 and len(m2.raw_times) >= 1 and "noop" in repr(m2)
    with pytest.raises(ValueError, match="strings"):
        Timer(stmt=lambda: None)
