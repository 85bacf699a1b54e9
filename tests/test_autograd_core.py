"""The engine's semantics beyond single ops: the non-leaf ``.grad`` warning, ``detect_anomaly``,
``autograd.functional``, higher-order gradients on whole models (Hessian-vector products, a
WGAN-style gradient penalty), memory release, and the scalar-operand nodes.
"""

import gc
import tracemalloc
import warnings
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
import autograd.functional as AF
import nn
import optim
from autograd import Tensor
from conftest import check_grad, leaf, seeds, shapes


def f64(*vals, requires_grad=True):
    return Tensor(np.array(vals, dtype=np.float64), requires_grad=requires_grad)


# ---- .grad of a non-leaf, and assigning .grad ----------------------------------------------------
def test_reading_grad_of_a_non_leaf_warns_like_pytorch():
    x = f64(1.0, 2.0)
    y = x * 2.0
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert y.grad is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is None  # a leaf: no warning
        z = x * 3.0
        z.retain_grad()
        z.sum().backward()
        np.testing.assert_array_equal(z.grad._data, [1.0, 1.0])  # retained: no warning
        np.testing.assert_array_equal(x.grad._data, [3.0, 3.0])


def test_assigning_grad_checks_shape_type_and_dtype():
    x = f64(1.0, 2.0)
    x.grad = Tensor(np.ones(2))
    x.grad = None
    with pytest.raises(RuntimeError, match=r"different size: \(3,\) vs the tensor's \(2,\)"):
        x.grad = Tensor(np.ones(3))
    with pytest.raises(RuntimeError, match="different type"):
        x.grad = Tensor(np.ones(2, dtype=np.float32))
    with pytest.raises(TypeError, match="expected to be a Tensor"):
        x.grad = np.ones(2)


def test_integer_and_bool_tensors_cannot_require_grad():
    for arr in (np.arange(3), np.array([True, False])):
        with pytest.raises(RuntimeError, match="floating"):
            Tensor(arr, requires_grad=True)
        with pytest.raises(RuntimeError, match="floating"):
            Tensor(arr).requires_grad_()


# ---- detect_anomaly ---------------------------------------------------------------------------
def _sqrt_at_zero():
    x = f64(0.0, 4.0)
    y = x.sqrt()  # backward: 0.5 / sqrt(0) = inf for the first element
    return x, y.sum()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy: divide by zero
def test_detect_anomaly_names_the_op_and_where_it_was_created():
    with autograd.detect_anomaly():
        assert autograd.is_anomaly_enabled()
        x, loss = _sqrt_at_zero()
        with pytest.raises(RuntimeError) as info:
            loss.backward()
    msg = str(info.value)
    assert "SqrtBackward0" in msg and "inf" in msg
    assert "_sqrt_at_zero" in msg and "x.sqrt()" in msg  # the user's line, not the engine's
    assert not autograd.is_anomaly_enabled()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy: divide by zero
def test_detect_anomaly_reports_nan_and_passes_finite_graphs():
    with autograd.detect_anomaly():
        x = f64(0.0, 1.0)
        y = (x * x.log())  # 0 * log(0): the gradient of log at 0 times 0 -> nan
        with pytest.raises(RuntimeError, match="nan"):
            y.sum().backward()
        z = f64(1.0, 2.0)
        (z * z).sum().backward()  # finite: no error
        np.testing.assert_array_equal(z.grad._data, [2.0, 4.0])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy: divide by zero
def test_without_anomaly_mode_inf_gradients_pass_silently_like_pytorch():
    x, loss = _sqrt_at_zero()
    loss.backward()
    assert np.isinf(x.grad._data[0]) and x.grad._data[1] == 0.25


def test_set_detect_anomaly_as_call_and_context_manager():
    autograd.set_detect_anomaly(True)
    try:
        assert autograd.is_anomaly_enabled()
        with autograd.set_detect_anomaly(False):
            assert not autograd.is_anomaly_enabled()
        assert autograd.is_anomaly_enabled()
    finally:
        autograd.set_detect_anomaly(False)
    assert not autograd.is_anomaly_enabled()

    @autograd.detect_anomaly()
    def inside():
        return autograd.is_anomaly_enabled()
    assert inside() and not autograd.is_anomaly_enabled()


# ---- autograd.functional ------------------------------------------------------------------------
def _numeric_jacobian(fn, x, eps=1e-6):
    """Central differences: d fn(x) / d x as an array of shape out.shape + x.shape."""
    base = fn(x)
    jac = np.zeros(base.shape + x.shape)
    for idx in np.ndindex(*x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += eps
        xm[idx] -= eps
        jac[(...,) + idx] = (fn(xp) - fn(xm)) / (2 * eps)
    return jac


@given(shape=shapes(min_dims=1, max_dims=2), seed=seeds)
def test_jacobian_matches_finite_differences(shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    w = rng.standard_normal(shape)

    def f(t):
        return t.tanh() * Tensor(w) + t * t.sum()

    def f_np(a):
        return np.tanh(a) * w + a * a.sum()

    jac = AF.jacobian(f, Tensor(x))
    assert jac.shape == shape + shape
    np.testing.assert_allclose(jac._data, _numeric_jacobian(f_np, x), rtol=1e-6, atol=1e-8)
    assert not jac.requires_grad


def test_hessian_matches_finite_differences_of_the_gradient():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 3))

    def f(t):
        return (t.tanh() @ Tensor(a) @ t).sum() + (t ** 3).sum()

    def grad_np(v):
        t = Tensor(v, requires_grad=True)
        f(t).backward()
        return t.grad._data

    x = rng.standard_normal(3)
    hess = AF.hessian(f, Tensor(x))
    assert hess.shape == (3, 3)
    np.testing.assert_allclose(hess._data, _numeric_jacobian(grad_np, x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(hess._data, hess._data.T, rtol=1e-10)


def test_functional_against_torch(torch):
    import torch.autograd.functional as TF
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal(3), rng.standard_normal((2, 3))
    v_in = (rng.standard_normal(3), rng.standard_normal((2, 3)))
    v_out = rng.standard_normal(2)

    def two_outputs(lib):
        return lambda a, b: ((lib.tanh(b @ a) * a[:2]).sum(), a * a)

    def scalar(lib):
        return lambda a, b: (lib.tanh(b @ a) ** 2).sum() + (a ** 3).sum()

    def vector(lib):
        return lambda a, b: lib.tanh(b @ a)

    ours = (autograd.tensor(x), autograd.tensor(y))
    theirs = (torch.tensor(x), torch.tensor(y))
    vi_o = tuple(autograd.tensor(v) for v in v_in)
    vi_t = tuple(torch.tensor(v) for v in v_in)

    def same(a, b):
        if isinstance(a, tuple):
            assert isinstance(b, tuple) and len(a) == len(b)
            for p, q in zip(a, b):
                same(p, q)
        else:
            assert a.shape == tuple(b.shape)
            np.testing.assert_allclose(a._data, b.detach().numpy(), rtol=1e-10, atol=1e-12)

    same(AF.jacobian(two_outputs(autograd), ours), TF.jacobian(two_outputs(torch), theirs))
    same(AF.jacobian(lambda a: vector(autograd)(a, ours[1]), ours[0]),
         TF.jacobian(lambda a: vector(torch)(a, theirs[1]), theirs[0]))
    same(AF.hessian(scalar(autograd), ours), TF.hessian(scalar(torch), theirs))
    same(AF.hessian(lambda a: scalar(autograd)(a, ours[1]), ours[0]),
         TF.hessian(lambda a: scalar(torch)(a, theirs[1]), theirs[0]))
    same(AF.vjp(vector(autograd), ours, autograd.tensor(v_out)),
         TF.vjp(vector(torch), theirs, torch.tensor(v_out)))
    same(AF.jvp(vector(autograd), ours, vi_o), TF.jvp(vector(torch), theirs, vi_t))
    same(AF.hvp(scalar(autograd), ours, vi_o), TF.hvp(scalar(torch), theirs, vi_t))
    same(AF.vhp(scalar(autograd), ours, vi_o), TF.vhp(scalar(torch), theirs, vi_t))


def test_functional_create_graph_gives_differentiable_results():
    x = f64(0.3, -0.7)
    _, g = AF.vjp(lambda t: (t ** 3).sum(), x, create_graph=True)  # 3 x^2
    assert g.requires_grad
    g.sum().backward()  # d/dx sum(3 x^2) = 6 x
    np.testing.assert_allclose(x.grad._data, 6 * x._data)


def test_functional_errors_and_strict():
    x = f64(1.0, 2.0)
    with pytest.raises(RuntimeError, match="single element"):
        AF.vjp(lambda t: t * 2.0, x)
    with pytest.raises(RuntimeError, match=r"shape \(3,\)"):
        AF.vjp(lambda t: t * 2.0, x, Tensor(np.ones(3)))
    with pytest.raises(TypeError, match="inputs must be a Tensor"):
        AF.jacobian(lambda t: t, [1.0, 2.0])
    with pytest.raises(RuntimeError, match="single element"):
        AF.hessian(lambda t: t * 2.0, x)
    const = lambda t: Tensor(np.ones(2))  # noqa: E731
    np.testing.assert_array_equal(AF.jacobian(const, x)._data, np.zeros((2, 2)))
    with pytest.raises(RuntimeError, match="strict"):
        AF.jacobian(const, x, strict=True)
    y = f64(3.0)
    _, (gx, gy) = AF.vjp(lambda a, b: (a * 2.0).sum(), (x, y))
    np.testing.assert_array_equal(gy._data, [0.0])
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.vjp(lambda a, b: (a * 2.0).sum(), (x, y), strict=True)
    assert x.grad is None and y.grad is None  # inputs are never touched


# ---- higher order on whole models -----------------------------------------------------------------
def _tanh_mlp_params(rng):
    return [Tensor(rng.standard_normal(s) * 0.7, requires_grad=True)
            for s in [(4, 6), (6,), (6, 3), (3,)]]


def _mlp_loss(params, x, y):
    w1, b1, w2, b2 = params
    h = (x @ w1 + b1).tanh()
    out = (h @ w2 + b2).tanh()
    return ((out - y) ** 2).mean()


def test_hessian_vector_product_of_a_tanh_mlp_matches_finite_differences():
    rng = np.random.default_rng(3)
    params = _tanh_mlp_params(rng)
    x, y = Tensor(rng.standard_normal((5, 4))), Tensor(rng.standard_normal((5, 3)))
    v = [rng.standard_normal(p.shape) for p in params]

    grads = autograd.grad(_mlp_loss(params, x, y), params, create_graph=True)
    dot = sum((g * Tensor(vi)).sum() for g, vi in zip(grads, v))
    hvp = autograd.grad(dot, params)

    def flat_grad(shift):
        ps = [Tensor(p._data + shift * vi, requires_grad=True) for p, vi in zip(params, v)]
        return autograd.grad(_mlp_loss(ps, x, y), ps)

    eps = 1e-5
    plus, minus = flat_grad(eps), flat_grad(-eps)
    for h, gp, gm in zip(hvp, plus, minus):
        np.testing.assert_allclose(h._data, (gp._data - gm._data) / (2 * eps), rtol=1e-5,
                                   atol=1e-8)


def _critic():
    autograd.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 1))


def _gradient_penalty(critic, real, fake, alpha):
    x_hat = (real * alpha + fake * (1.0 - alpha)).detach().requires_grad_()
    (g,) = autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((g.pow(2).sum(1) + 1e-12).sqrt() - 1.0).pow(2).mean()


def _train_critic(penalty, steps=150):
    rng = np.random.default_rng(0)
    real = Tensor(rng.normal(2.0, 0.5, (64, 2)).astype(np.float32))
    fake = Tensor(rng.normal(-2.0, 0.5, (64, 2)).astype(np.float32))
    alpha = Tensor(rng.uniform(size=(64, 1)).astype(np.float32))
    critic = _critic()
    opt = optim.Adam(critic.parameters(), lr=1e-2, betas=(0.5, 0.9))
    for _ in range(steps):
        gap = critic(real).mean() - critic(fake).mean()
        loss = -gap + penalty * _gradient_penalty(critic, real, fake, alpha)
        opt.zero_grad()
        loss.backward()
        opt.step()
    x_hat = (real * alpha + fake * (1.0 - alpha)).detach().requires_grad_()
    (g,) = autograd.grad(critic(x_hat).sum(), x_hat)
    return gap.item(), np.linalg.norm(g._data, axis=1).mean()


def test_wgan_gradient_penalty_trains():
    """Gulrajani et al., 2017, "Improved Training of Wasserstein GANs": the critic maximises
    D(real) - D(fake) while a penalty (weight 10) pulls its gradient norm towards 1 on
    interpolates. Without the penalty the unconstrained critic's gap and gradients grow without
    bound; with it both settle (the optimum trades a norm a little above 1 for a larger gap)."""
    gap, norm = _train_critic(10.0)
    free_gap, free_norm = _train_critic(0.0)
    assert 4.0 < gap < 12.0 and 0.8 < norm < 1.6, (gap, norm)
    assert free_gap > 50.0 and free_norm > 10.0, (free_gap, free_norm)


def test_gradient_penalty_gradients_match_torch(torch):
    rng = np.random.default_rng(1)
    real, fake = rng.standard_normal((8, 2)), rng.standard_normal((8, 2))
    alpha = rng.uniform(size=(8, 1))
    critic = _critic().double()
    t_critic = torch.nn.Sequential(torch.nn.Linear(2, 32), torch.nn.Tanh(),
                                   torch.nn.Linear(32, 1)).double()
    with torch.no_grad():
        for p, q in zip(critic.parameters(), t_critic.parameters()):
            q.copy_(torch.tensor(p._data))
    _gradient_penalty(critic, Tensor(real), Tensor(fake), Tensor(alpha)).backward()
    x_hat = (torch.tensor(real) * torch.tensor(alpha)
             + torch.tensor(fake) * (1 - torch.tensor(alpha))).requires_grad_()
    (g,) = torch.autograd.grad(t_critic(x_hat).sum(), x_hat, create_graph=True)
    ((g.pow(2).sum(1) + 1e-12).sqrt() - 1).pow(2).mean().backward()
    for p, q in zip(critic.parameters(), t_critic.parameters()):
        if q.grad is None:  # the last bias: the penalty does not depend on it
            assert p.grad is None
        else:
            np.testing.assert_allclose(p.grad._data, q.grad.numpy(), rtol=1e-9, atol=1e-12)


# ---- memory ---------------------------------------------------------------------------------------
def test_saved_arrays_are_released_by_backward():
    x = Tensor(np.ones(1000), requires_grad=True)
    h = (x * 2.0).exp()  # exp saves its output
    ref = weakref.ref(h._data)
    loss = h.sum()
    del h
    assert ref() is not None  # kept alive by the graph for backward
    loss.backward()
    assert ref() is None  # freed as soon as backward used it, while `loss` is still alive
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()


def test_retain_graph_keeps_saved_arrays():
    x = Tensor(np.ones(10), requires_grad=True)
    h = x.exp()
    ref = weakref.ref(h._data)
    loss = h.sum()
    del h
    loss.backward(retain_graph=True)
    assert ref() is not None
    loss.backward()
    np.testing.assert_allclose(x.grad._data, 2 * np.e)


def test_freed_graphs_are_collected_without_the_cycle_collector():
    gc.disable()
    try:
        x = Tensor(np.ones(5), requires_grad=True)
        y = (x * 2.0).tanh().exp().sum()
        node = weakref.ref(y.grad_fn)
        first = weakref.ref(y.grad_fn.next[0])
        y.backward()
        del y
        assert node() is None and first() is None  # plain reference counting frees the graph
    finally:
        gc.enable()


def test_training_loop_memory_stays_flat_over_1000_steps():
    rng = np.random.default_rng(0)
    autograd.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 4))
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = Tensor(rng.standard_normal((16, 8)).astype(np.float32))
    y = Tensor(rng.integers(0, 4, 16))
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(20):  # warm up: optimizer state, caches
        step()
    tracemalloc.start()
    try:
        for _ in range(100):
            step()
        gc.collect()
        after_100 = tracemalloc.get_traced_memory()[0]
        for _ in range(900):
            step()
        gc.collect()
        after_1000 = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # A leak of even one small array per step (16x16 float32 = 1 KiB) would add ~900 KiB.
    assert after_1000 - after_100 < 64 * 1024, (after_100, after_1000)


# ---- nodes for a tensor and a Python number ---------------------------------------------------------
@given(shape=shapes(), seed=seeds, s=st.floats(-3, 3).filter(lambda v: abs(v) > 0.1))
def test_scalar_operand_nodes_gradcheck(shape, seed, s):
    rng = np.random.default_rng(seed)
    x = leaf(rng, shape)
    check_grad(lambda t: t * s + s - t / s + (s - t) * 2 + s / (t * t + 1.0), x,
               gradgrad=True)


def test_scalar_operand_nodes_keep_dtype_names_and_signed_zero():
    x = Tensor(np.array([1.0, -2.0], dtype=np.float32), requires_grad=True)
    for y, name in [(x * 2.5, "MulBackward0"), (x + 1e-3, "AddBackward0"),
                    (x - 1, "SubBackward0"), (x / 3.0, "DivBackward0"),
                    (0.5 * x, "MulBackward0"), (2 + x, "AddBackward0")]:
        assert y.dtype == np.float32 and y.grad_fn.name() == name
    np.testing.assert_array_equal((x / 3.0)._data, x._data / np.float32(3.0))
    np.testing.assert_array_equal((x * 0.1)._data, x._data * 0.1)  # NumPy's weak-scalar result
    z = Tensor(np.array([1.0, 2.0]))
    assert np.signbit((z * -0.0)._data).all() and not np.signbit((z * 0.0)._data).any()
    i = Tensor(np.array([1, 2]))
    assert (i * 2).dtype == np.int64 and (i * 2.5).dtype == autograd.get_default_dtype()
    assert autograd.mul(3.0, x).grad_fn.name() == "MulBackward0"


def test_needs_input_grad_is_a_tuple_per_input():
    seen = []

    class Probe(autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            seen.append(ctx.needs_input_grad)
            return a + b

        @staticmethod
        def backward(ctx, grad):
            seen.append(ctx.needs_input_grad)
            return grad, grad

    a, b = f64(1.0), f64(2.0, requires_grad=False)
    Probe.apply(a, b).sum().backward()
    with autograd.no_grad():
        Probe.apply(a, b)
    assert seen == [(True, False), (True, False), (False, False)]


# ---- views share their base's version counter ----------------------------------------------------
def test_views_share_the_version_counter_of_their_base():
    x = f64(1.0, 2.0, 3.0, 4.0)
    y = x * 1.0
    views = [y[1:3], y.reshape(2, 2), y.unsqueeze(0), y.detach(), y.expand(2, 4), y.flip(0)]
    y.add_(1.0)
    assert all(v._version == y._version == 1 for v in views)
    with autograd.no_grad():
        x[:2].mul_(3.0)  # a no-grad view of a leaf: allowed, bumps the leaf's counter
    assert x._version == 1
    np.testing.assert_array_equal(x._data, [3.0, 6.0, 3.0, 4.0])
    c = y * 2.0  # a new array, not a view: its own counter
    y.add_(1.0)
    assert c._version == 0


def test_in_place_change_through_a_view_of_a_saved_tensor_is_caught():
    x = f64(1.0, 2.0, 3.0, 4.0)
    y = x * 1.0
    w = y * y  # saves y
    y.detach()[0:2].zero_()  # changes y's memory through a view of a detached alias
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        w.sum().backward()
    out = x.exp()  # saves its output
    out.detach().zero_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_a_view_whose_base_changed_in_place_refuses_to_be_used():
    x = f64(1.0, 2.0, 3.0)
    y = x * 1.0
    v = y[0:2]
    y.mul_(2.0)  # v's values doubled, but its history says v = (x * 1)[0:2]
    with pytest.raises(RuntimeError, match="view .*GetItemBackward0.* whose base was modified"):
        v.sum()
    v2 = y[0:2]  # taken after the change: fine
    v2.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [2.0, 2.0, 0.0])


def test_in_place_on_a_recorded_view_raises_instead_of_a_wrong_gradient():
    x = f64(1.0, 2.0, 3.0)
    y = x * 1.0
    with pytest.raises(RuntimeError, match="in-place modification of a view"):
        y[0:2].mul_(2.0)
    with pytest.raises(RuntimeError, match="in-place modification of a view"):
        y.reshape(3, 1)[0] = 5.0
    y[0:2] = y[0:2] * 2.0  # the supported spelling: write into the base
    y.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [2.0, 2.0, 1.0])
