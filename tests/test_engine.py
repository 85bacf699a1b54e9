"""The engine and the Tensor API: accumulation, graph freeing, ``autograd.grad`` (incl.
Hessian-vector products), deep graphs without recursion, grad modes, hooks, in-place rules,
dtype rules, repr, factories and error messages."""

import re
import sys

import numpy as np
import pytest

import autograd
from autograd import Tensor
from conftest import leaf


def f64(*values, requires_grad=True):
    return Tensor(np.array(values, dtype=np.float64), requires_grad=requires_grad)


# ---- backward: accumulation, freeing, roots -----------------------------------------------------
def test_gradients_accumulate_across_backward_calls():
    x = f64(1.0, 2.0, 3.0)
    (x * x).sum().backward()
    first = x.grad
    np.testing.assert_array_equal(first._data, [2.0, 4.0, 6.0])
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [5.0, 7.0, 9.0])
    assert x.grad is first  # accumulated in place, as PyTorch's AccumulateGrad
    x.grad = None
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [3.0, 3.0, 3.0])


def test_gradients_of_two_leaves_do_not_alias():
    x, y = f64(1.0, 2.0), f64(3.0, 4.0)
    (x + y).sum().backward()  # add hands the same gradient to both inputs
    assert not np.shares_memory(x.grad._data, y.grad._data)
    (x + y).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [2.0, 2.0])
    np.testing.assert_array_equal(y.grad._data, [2.0, 2.0])


def test_accumulation_after_a_create_graph_backward():
    x, y = f64(1.0, 2.0), f64(3.0, 4.0)
    (x + y).sum().backward(create_graph=True)
    assert x.grad is not y.grad
    (x + y).sum().backward()  # the first .grad came from a read-only broadcast: must still add
    np.testing.assert_array_equal(x.grad._data, [2.0, 2.0])
    np.testing.assert_array_equal(y.grad._data, [2.0, 2.0])
    x.grad._data[0] = 100.0  # a writable array of its own
    assert y.grad._data[0] == 2.0


def test_backward_twice_without_retain_graph_raises():
    x = f64(1.0, 2.0)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError,
                       match="Trying to backward through the graph a second time"):
        y.backward()
    np.testing.assert_array_equal(x.grad._data, [2.0, 4.0])  # unchanged by the failed call


def test_backward_twice_with_retain_graph():
    x = f64(1.0, 2.0)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad._data, 3 * (np.exp([1.0, 2.0]) * (1 + np.array([1., 2.]))))
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_backward_on_a_non_scalar_needs_gradient():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    y = x * 2.0
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*\(2, 3\)"):
        y.backward()
    g = np.arange(6.0).reshape(2, 3)
    y.backward(gradient=Tensor(g))
    np.testing.assert_array_equal(x.grad._data, 2 * g)
    with pytest.raises(RuntimeError, match=r"\(3,\).*\(2, 3\)"):
        (x * 2.0).backward(gradient=Tensor(np.ones(3)))


def test_backward_on_a_tensor_that_does_not_require_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(np.ones(2)).sum().backward()


def test_backward_from_a_leaf_and_a_one_element_tensor():
    x = f64(2.0)
    x.backward(Tensor(np.array([5.0])))
    np.testing.assert_array_equal(x.grad._data, [5.0])
    z = f64(3.0)
    (z * z).backward()  # one element, shape (1,): implicit gradient 1
    np.testing.assert_array_equal(z.grad._data, [6.0])


def test_autograd_backward_with_several_roots():
    x = f64(1.0, 2.0)
    y1, y2 = (x * 2.0).sum(), (x * x).sum()
    autograd.backward([y1, y2], [Tensor(np.array(1.0)), Tensor(np.array(3.0))])
    np.testing.assert_array_equal(x.grad._data, 2.0 + 6.0 * x._data)


def test_backward_inputs_accumulates_only_into_them():
    x, y = f64(1.0, 2.0), f64(3.0, 4.0)
    h = x * y
    h.retain_grad()
    (h * h).sum().backward(inputs=[x])
    np.testing.assert_array_equal(x.grad._data, 2 * (x._data * y._data) * y._data)
    assert y.grad is None


def test_non_contiguous_leaves():
    rng = np.random.default_rng(3)
    x = leaf(rng, (3, 4), contiguous=False)  # a transposed NumPy array
    w = leaf(rng, (4, 2), contiguous=False)
    assert not x._data.flags.c_contiguous and not w._data.flags.c_contiguous
    ((x @ w).tanh().sum() + (x * x).sum()).backward()
    t = 1 - np.tanh(x._data @ w._data) ** 2
    np.testing.assert_allclose(x.grad._data, t @ w._data.T + 2 * x._data, rtol=1e-12)
    np.testing.assert_allclose(w.grad._data, x._data.T @ t, rtol=1e-12)
    x.grad._data += 1.0  # a plain writable array of the leaf's shape
    assert x.grad.shape == (3, 4) and x.grad.dtype == np.float64


def test_diamond_graph_sums_the_gradients():
    x = f64(0.5, -1.0, 2.0)
    a = x * 2.0
    b = x.exp()
    y = (a * b + x).sum()  # x reaches y along three paths
    y.backward()
    e = np.exp(x._data)
    np.testing.assert_allclose(x.grad._data, 2 * e + 2 * x._data * e + 1, rtol=1e-12)
    z = f64(3.0)
    (z * z * z).backward()
    np.testing.assert_allclose(z.grad._data, [27.0])


def test_branch_that_does_not_require_grad_is_ignored():
    x = f64(1.0, 2.0)
    c = Tensor(np.array([3.0, 4.0]))
    y = (x * c + c.exp()).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad._data, c._data)
    assert c.grad is None and c.grad_fn is None and not (c * 2).requires_grad


def test_long_chain_backward_is_iterative():
    x = f64(1.0)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    depth = len(_frames())
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + 100)  # a recursive walk would need ~10,000 frames
    try:
        y.backward()
    finally:
        sys.setrecursionlimit(old)
    np.testing.assert_allclose(x.grad._data, [1.0001 ** 10_000], rtol=1e-9)


def test_long_recurrent_graph_backward():
    w = f64(0.5)
    h = Tensor(np.array([1.0]))
    for _ in range(3000):  # h_{t+1} = tanh(w * h_t + 1): three nodes per step
        h = (w * h + 1.0).tanh()
    h.sum().backward()
    assert np.isfinite(w.grad._data).all()
    # the gradient agrees with a finite difference of the same recurrence
    def run(wv):
        hv = 1.0
        for _ in range(3000):
            hv = np.tanh(wv * hv + 1.0)
        return hv
    np.testing.assert_allclose(w.grad._data[0], (run(0.5 + 1e-6) - run(0.5 - 1e-6)) / 2e-6,
                               rtol=1e-5)


def _frames():
    f, out = sys._getframe(), []
    while f is not None:
        out.append(f)
        f = f.f_back
    return out


# ---- autograd.grad ------------------------------------------------------------------------------
def test_grad_returns_gradients_without_touching_dot_grad():
    x, y = f64(1.0, 2.0), f64(3.0, 4.0)
    out = (x * y).sum()
    gx, gy = autograd.grad(out, (x, y))
    np.testing.assert_array_equal(gx._data, y._data)
    np.testing.assert_array_equal(gy._data, x._data)
    assert x.grad is None and y.grad is None
    assert not gx.requires_grad
    gs, = autograd.grad(x.sum(), x)  # the gradient of sum is a broadcast of the output's
    np.testing.assert_array_equal(gs._data, [1.0, 1.0])
    gs._data[0] = 7.0  # ... handed out as a plain writable array
    gs.mul_(2.0)


def test_grad_with_grad_outputs_and_several_outputs():
    x = f64(1.0, 2.0, 3.0)
    a, b = x * x, x.sin()
    v = Tensor(np.array([1.0, 0.0, 2.0]))
    w = Tensor(np.array([0.5, 0.5, 0.5]))
    g, = autograd.grad([a, b], [x], grad_outputs=[v, w])
    np.testing.assert_allclose(g._data, 2 * x._data * v._data + np.cos(x._data) * w._data)
    g1, = autograd.grad(x * x, x, grad_outputs=v)
    np.testing.assert_allclose(g1._data, 2 * x._data * v._data)


def test_grad_allow_unused():
    x, y = f64(1.0, 2.0), f64(3.0, 4.0)
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        autograd.grad((x * 2).sum(), [x, y])
    gx, gy = autograd.grad((x * 2).sum(), [x, y], allow_unused=True)
    np.testing.assert_array_equal(gx._data, [2.0, 2.0])
    assert gy is None


def test_grad_with_respect_to_an_intermediate():
    x = f64(1.0, 2.0)
    h = x * 3.0
    gh, = autograd.grad((h * h).sum(), h)
    np.testing.assert_array_equal(gh._data, 2 * h._data)


def test_grad_of_grad_and_the_gradient_dtype():
    x = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    g, = autograd.grad((x ** 3).sum(), x, create_graph=True)
    assert g.requires_grad and g.dtype == np.float32
    np.testing.assert_allclose(g._data, 3 * x._data ** 2)
    gg, = autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg._data, 6 * x._data)
    assert gg.dtype == np.float32


def _mlp_loss(params, X, y):
    W1, b1, W2 = params
    h = autograd.tanh(X @ W1.T + b1)
    out = (h @ W2.T).squeeze(-1)
    return ((out - y) ** 2).mean()


def test_hessian_vector_product_of_a_tanh_mlp_matches_finite_differences():
    rng = np.random.default_rng(0)
    X = Tensor(rng.standard_normal((6, 3)))
    y = Tensor(rng.standard_normal(6))
    params = [leaf(rng, (4, 3)), leaf(rng, (4,)), leaf(rng, (1, 4))]
    vs = [Tensor(rng.standard_normal(p.shape)) for p in params]

    grads = autograd.grad(_mlp_loss(params, X, y), params, create_graph=True)
    assert all(g.requires_grad for g in grads)
    dot = sum((g * v).sum() for g, v in zip(grads, vs))
    hvp = autograd.grad(dot, params)

    def grad_at(shift):
        ps = [Tensor(p._data + shift * v._data, requires_grad=True) for p, v in zip(params, vs)]
        return [g._data for g in autograd.grad(_mlp_loss(ps, X, y), ps)]

    eps = 1e-5
    plus, minus = grad_at(eps), grad_at(-eps)
    for h, gp, gm in zip(hvp, plus, minus):
        np.testing.assert_allclose(h._data, (gp - gm) / (2 * eps), rtol=1e-5, atol=1e-8)


def test_gradient_penalty_style_double_backward_accumulates_into_grad():
    x = f64(0.3, -0.7)
    g, = autograd.grad((x.sin() * x).sum(), x, create_graph=True)
    (g * g).sum().backward()
    # d/dx (sin x + x cos x)^2 = 2 (sin x + x cos x)(2 cos x - x sin x)
    s, c = np.sin(x._data), np.cos(x._data)
    np.testing.assert_allclose(x.grad._data, 2 * (s + x._data * c) * (2 * c - x._data * s))


# ---- grad modes ---------------------------------------------------------------------------------
def test_no_grad_context_and_decorators():
    x = f64(1.0)
    with autograd.no_grad():
        y = x * 2
        assert not autograd.is_grad_enabled()
    assert autograd.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None

    @autograd.no_grad()
    def f(t):
        return t * 2, autograd.is_grad_enabled()

    @autograd.no_grad
    def g(t):
        return t * 2

    out, enabled = f(x)
    assert not enabled and not out.requires_grad and not g(x).requires_grad
    assert autograd.is_grad_enabled() and f.__name__ == "f"


def test_enable_grad_inside_no_grad():
    x = f64(1.0)
    with autograd.no_grad():
        with autograd.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad

        @autograd.enable_grad()
        def f():
            return x * 2

        assert f().requires_grad
        assert not autograd.is_grad_enabled()


def test_set_grad_enabled_call_context_and_decorator():
    x = f64(1.0)
    try:
        autograd.set_grad_enabled(False)  # plain call: stays off
        assert not autograd.is_grad_enabled() and not (x * 2).requires_grad
        autograd.set_grad_enabled(True)
        assert (x * 2).requires_grad
        with autograd.set_grad_enabled(False):
            assert not (x * 2).requires_grad
        assert autograd.is_grad_enabled()

        @autograd.set_grad_enabled(False)
        def f():
            return x * 2

        assert autograd.is_grad_enabled()  # decorating does not switch the mode
        assert not f().requires_grad
        assert autograd.is_grad_enabled()
    finally:
        autograd.set_grad_enabled(True)


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(ValueError):
        with autograd.no_grad():
            raise ValueError
    assert autograd.is_grad_enabled()

    @autograd.no_grad()
    def boom():
        raise KeyError

    with pytest.raises(KeyError):
        boom()
    assert autograd.is_grad_enabled()


def test_no_grad_parameter_update_keeps_the_leaf():
    w = f64(1.0, 2.0)
    (w * w).sum().backward()
    with autograd.no_grad():
        w -= 0.5 * w.grad
    assert w.is_leaf and w.requires_grad and w.grad_fn is None
    np.testing.assert_array_equal(w._data, [0.0, 0.0])


# ---- detach / requires_grad ---------------------------------------------------------------------
def test_detach():
    x = f64(1.0, 2.0)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    assert np.shares_memory(d._data, y._data)
    out = (d * x).sum()
    out.backward()
    np.testing.assert_array_equal(x.grad._data, d._data)  # no gradient through d
    d2 = x.detach()
    d2.add_(1.0)  # shares data and version counter with x
    np.testing.assert_array_equal(x._data, [2.0, 3.0])
    assert x._version == 1


def test_detach_then_in_place_invalidates_saved_tensor():
    x = f64(1.0, 2.0)
    h = x * 1.0
    y = (h * h).sum()
    h.detach().mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


@pytest.mark.parametrize("make", [
    lambda: Tensor(np.arange(3), requires_grad=True),
    lambda: autograd.tensor([1, 2], requires_grad=True),
    lambda: autograd.zeros(2, dtype=autograd.int64, requires_grad=True),
    lambda: autograd.arange(3).requires_grad_(),
    lambda: autograd.tensor([True]).requires_grad_(True),
])
def test_requires_grad_on_integer_tensors_raises(make):
    with pytest.raises(RuntimeError, match="floating point"):
        make()


def test_requires_grad_propagation_and_is_leaf():
    x = f64(1.0)
    c = Tensor(np.array([2.0]))
    y = x * c
    assert y.requires_grad and not y.is_leaf and x.is_leaf and c.is_leaf
    assert y.grad_fn.next_functions[0][0].variable is x
    assert y.grad_fn.next_functions[1] == (None, 0)
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert y.grad is None  # non-leaf .grad stays None without retain_grad
    with pytest.raises(RuntimeError):
        y.requires_grad_(False)


# ---- hooks and retain_grad ----------------------------------------------------------------------
def test_leaf_hook_replaces_the_gradient():
    x = f64(1.0, 2.0)
    seen = []
    x.register_hook(lambda g: seen.append(g._data.copy()))  # None: leaves the gradient alone
    handle = x.register_hook(lambda g: g * 10)
    (x * x + x).sum().backward()  # two uses: the hook sees the summed gradient once
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], [3.0, 5.0])
    np.testing.assert_array_equal(x.grad._data, [30.0, 50.0])
    handle.remove()
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [2.0, 4.0])


def test_non_leaf_hook_and_retain_grad():
    x = f64(1.0, 2.0)
    h = x * 2
    h.retain_grad()
    h.register_hook(lambda g: g + 1)
    (h * h).sum().backward()
    # dL/dh = 2h = [4, 8]; the hook adds 1; retain_grad stores the hooked gradient
    np.testing.assert_array_equal(h.grad._data, [5.0, 9.0])
    np.testing.assert_array_equal(x.grad._data, [10.0, 18.0])
    assert h.retains_grad


def test_retain_grad_accumulates_and_leaf_noop():
    x = f64(1.0, 2.0)
    h = x * 3
    h.retain_grad()
    x.retain_grad()  # no-op on a leaf
    y = (h * h).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(h.grad._data, 2 * 2 * h._data)
    with pytest.raises(RuntimeError):
        Tensor(np.ones(1)).register_hook(lambda g: g)


# ---- in-place -----------------------------------------------------------------------------------
@pytest.mark.parametrize("op", [
    lambda t: t.add_(1.0), lambda t: t.mul_(2.0), lambda t: t.sub_(1.0), lambda t: t.div_(2.0),
    lambda t: t.clamp_(0, 1), lambda t: t.zero_(), lambda t: t.fill_(3.0),
    lambda t: t.copy_(Tensor(np.ones(2))), lambda t: t.__setitem__(0, 5.0),
    lambda t: t.masked_fill_(Tensor(np.array([True, False])), 0.0),
])
def test_in_place_on_a_leaf_that_requires_grad_raises(op):
    x = f64(1.0, 2.0)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        op(x)
    np.testing.assert_array_equal(x._data, [1.0, 2.0])


def test_in_place_on_a_non_leaf_is_differentiable():
    x = f64(1.0, 2.0, 3.0)
    w = f64(0.5, 1.0, 2.0)
    y = x * 1.0
    y.mul_(w)        # mul_ saves its input's old value for w's gradient
    y.add_(x, alpha=2.0)
    y.clamp_(-10.0, 5.0)
    assert y.grad_fn is not None and y._version == 3
    y.sum().backward()
    inside = (x._data * w._data + 2 * x._data) <= 5.0
    np.testing.assert_array_equal(x.grad._data, (w._data + 2) * inside)
    np.testing.assert_array_equal(w.grad._data, x._data * inside)


@pytest.mark.parametrize("fill", [lambda t: t.zero_(), lambda t: t.fill_(2.0),
                                  lambda t: t.normal_(), lambda t: t.uniform_(-1, 1)])
def test_fill_on_a_non_leaf_stays_in_the_graph_with_zero_gradient(fill):
    x = f64(1.0, 2.0)
    y = x * 2.0
    fill(y)
    assert y.requires_grad and y.grad_fn is not None and y._version == 1
    (y * y + x).sum().backward()  # PyTorch: the filled values do not depend on x
    np.testing.assert_array_equal(x.grad._data, [1.0, 1.0])
    with autograd.no_grad():
        x.zero_()  # a parameter reset under no_grad is allowed
    assert x.is_leaf and x.requires_grad and x.tolist() == [0.0, 0.0]


def test_setitem_value_with_extra_leading_ones():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    v = Tensor(np.full((1, 3), 2.0), requires_grad=True)
    y = x * 1.0
    y[0] = v  # assignment drops the value's leading 1s, the gradient gets them back
    (y * Tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [[0, 0, 0], [3, 4, 5]])
    np.testing.assert_array_equal(v.grad._data, [[0, 1, 2]])


@pytest.mark.parametrize("name,ref", [
    ("relu_", lambda a: np.maximum(a, 0)), ("sigmoid_", lambda a: 1 / (1 + np.exp(-a))),
    ("tanh_", np.tanh), ("exp_", np.exp), ("neg_", np.negative),
])
def test_in_place_activations(name, ref):
    x = f64(-1.0, 0.5, 2.0)
    h = x * 1.0
    assert getattr(h, name)() is h
    np.testing.assert_allclose(h._data, ref(x._data))
    h.sum().backward()
    expected, = autograd.grad(getattr(autograd, name[:-1])(x * 1.0).sum(), x)
    np.testing.assert_allclose(x.grad._data, expected._data)


def test_in_place_into_an_expanded_tensor_raises_clearly():
    e = autograd.ones(3).expand(2, 3)
    with pytest.raises(RuntimeError, match="read-only"):
        e.add_(1.0)
    with pytest.raises(RuntimeError, match="read-only"):
        e.zero_()


def test_copy_into_a_buffer_is_differentiable():
    w = f64(1.0, 2.0, 3.0)
    buf = autograd.zeros(2, 3, dtype=autograd.float64)
    buf.copy_(w)
    assert buf.grad_fn is not None and not buf.is_leaf
    (buf * 2.0).sum().backward()
    np.testing.assert_array_equal(w.grad._data, [4.0, 4.0, 4.0])
    v = f64(1.0, 2.0, 3.0)
    buf2 = autograd.zeros(3, dtype=autograd.float64)
    buf2.copy_(v)  # same shape and dtype: still a node of its own
    (buf2 * 3.0).sum().backward()
    np.testing.assert_array_equal(v.grad._data, [3.0, 3.0, 3.0])
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert buf2.grad is None


@pytest.mark.parametrize("make,op_name", [
    (lambda x: x.exp(), "ExpBackward0"),          # saves its output
    (lambda x: x.sigmoid(), "SigmoidBackward0"),  # saves its output
])
def test_modifying_a_saved_output_in_place_raises_naming_the_op(make, op_name):
    x = f64(1.0, 2.0)
    y = make(x)
    z = y + 1.0  # add saves nothing: only the op that saved y can object
    y.add_(1.0)
    with pytest.raises(RuntimeError, match=re.escape(op_name) + ".*version 1; expected version 0"):
        z.sum().backward()


def test_modifying_a_saved_input_in_place_raises_naming_the_op():
    x = f64(1.0, 2.0)
    h = x * 1.0
    y = h.sin()        # SinBackward0 saves h
    h.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*SinBackward0"):
        y.sum().backward()
    h2 = x * 1.0
    y2 = h2 * h2       # MulBackward0 saves h2
    h2[0] = 3.0
    with pytest.raises(RuntimeError, match="MulBackward0"):
        y2.sum().backward()


# ---- dtypes -------------------------------------------------------------------------------------
def test_gradient_dtype_equals_the_input_dtype():
    a = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    b = Tensor(np.array([3.0, 4.0], dtype=np.float64), requires_grad=True)
    out = a * b
    assert out.dtype == np.float64
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad._data, [3.0, 4.0])
    a.grad = None
    (a @ b).backward()
    assert a.grad.dtype == np.float32


@pytest.mark.parametrize("expr,dtype", [
    (lambda: autograd.ones(2) * 2.5, np.float32),
    (lambda: 2.5 * autograd.ones(2), np.float32),
    (lambda: autograd.ones(2) / 3, np.float32),
    (lambda: autograd.ones(2) * np.float64(2.0), np.float32),
    (lambda: autograd.ones(2) ** 2.0, np.float32),
    (lambda: autograd.ones(2).log2(), np.float32),
    (lambda: autograd.arange(3) + 1.5, np.float32),
    (lambda: 1.5 * autograd.arange(3), np.float32),
    (lambda: autograd.arange(3, dtype=autograd.int32) - 0.5, np.float32),
    (lambda: autograd.arange(3) / autograd.arange(1, 4), np.float32),
    (lambda: autograd.arange(3) / 2, np.float32),
    (lambda: autograd.arange(3) * 2, np.int64),
    (lambda: autograd.arange(3) + autograd.ones(3), np.float32),
    (lambda: autograd.ones(2) + autograd.ones(2, dtype=autograd.float64), np.float64),
    (lambda: autograd.ones(2) > 0.5, np.bool_),
    (lambda: autograd.arange(3) == 1, np.bool_),
    (lambda: autograd.ones(2) != autograd.zeros(2), np.bool_),
])
def test_dtype_promotion(expr, dtype):
    assert expr().dtype == dtype


def test_float32_graph_stays_float32():
    x = Tensor(np.array([0.5, 1.5], dtype=np.float32), requires_grad=True)
    y = (x.exp() * 2.0 + x.log2() - 1.0 / x + x ** 0.5).sigmoid().sum()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32


# ---- Tensor API ---------------------------------------------------------------------------------
def test_tensor_attributes():
    x = autograd.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.shape == (2, 3) and x.dtype == autograd.float32 and x.ndim == 2
    assert x.device == "cpu" and str(x.device) == "cpu"
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-2) == 2
    assert x.dim() == 2 and x.numel() == 6 and len(x) == 2
    assert autograd.tensor([2.5]).item() == 2.5 and isinstance(autograd.tensor(3).item(), int)
    with pytest.raises(RuntimeError, match="2 elements"):
        autograd.tensor([1.0, 2.0]).item()
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert autograd.tensor(2.0).tolist() == 2.0
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.size(2)


def test_numpy_and_array_protocol():
    x = autograd.tensor([1.0, 2.0])
    a = x.numpy()
    a[0] = 9.0  # shares memory, like torch
    assert x[0].item() == 9.0
    assert np.asarray(x).dtype == np.float32
    assert np.array(x, dtype=np.float64).dtype == np.float64
    r = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        r.numpy()
    np.testing.assert_array_equal(r.detach().numpy(), [1.0, 1.0])


def test_requires_grad_and_conversions():
    x = autograd.zeros(2)
    assert x.requires_grad_() is x and x.requires_grad
    assert x.requires_grad_(False) is x and not x.requires_grad
    y = autograd.tensor([1.7, -1.7])
    assert y.long().dtype == np.int64 and y.long().tolist() == [1, -1]
    assert autograd.tensor([1, 2]).float().dtype == np.float32
    assert y.double().dtype == np.float64
    assert y.to(autograd.float64).dtype == np.float64
    assert y.to("cpu") is y and y.to(autograd.float32) is y
    assert y.to("cpu", autograd.float64).dtype == np.float64
    assert y.to(autograd.zeros(1, dtype=autograd.int32)).dtype == np.int32
    assert y.to(dtype=autograd.float64, copy=True).dtype == np.float64
    c = y.to(autograd.float32, copy=True)
    assert c is not y and not np.shares_memory(c._data, y._data)
    with pytest.raises(RuntimeError, match="CPU only"):
        y.to("cuda")


def test_repr_is_pytorch_style():
    assert repr(autograd.tensor([1.0, 2.0], requires_grad=True)) == \
        "tensor([1., 2.], requires_grad=True)"
    x = autograd.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward0>)"
    assert repr((x * 2).sum()) == "tensor(6., grad_fn=<SumBackward0>)"
    assert repr(autograd.tensor([1.5, 2.0])) == "tensor([1.5000, 2.0000])"
    assert repr(autograd.tensor([1, 2, 3])) == "tensor([1, 2, 3])"
    assert repr(autograd.tensor([1.0], dtype=autograd.float64)) == \
        "tensor([1.], dtype=autograd.float64)"
    assert repr(autograd.tensor([[1.0, 2.0], [3.0, 4.0]])) == \
        "tensor([[1., 2.],\n        [3., 4.]])"
    assert repr(autograd.tensor([True, False])) == "tensor([ True, False])"
    assert repr(autograd.tensor(3.5)) == "tensor(3.5000)"
    assert repr((x * 2).grad_fn) == "<MulBackward0>"


def test_operators_with_numpy_on_the_left_return_tensors():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, Tensor) and y.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [3.0, 4.0])


# ---- factories ----------------------------------------------------------------------------------
def test_tensor_copies_from_numpy_shares():
    a = np.arange(3.0)
    t = autograd.tensor(a)
    f = autograd.from_numpy(a)
    a[0] = 9.0
    assert t.tolist() == [0.0, 1.0, 2.0]
    assert f.tolist() == [9.0, 1.0, 2.0] and f.dtype == np.float64
    with pytest.raises(TypeError):
        autograd.from_numpy([1.0, 2.0])


def test_tensor_dtype_inference():
    assert autograd.tensor([1.0, 2.0]).dtype == np.float32
    assert autograd.tensor([1, 2]).dtype == np.int64
    assert autograd.tensor([True]).dtype == np.bool_
    assert autograd.tensor(np.array([1, 2], dtype=np.int32)).dtype == np.int32
    assert autograd.tensor([1, 2], dtype=autograd.float64).dtype == np.float64
    assert autograd.FloatTensor([1, 2]).dtype == np.float32
    assert autograd.FloatTensor(2, 3).shape == (2, 3)
    assert autograd.LongTensor([1.7, 2.0]).tolist() == [1, 2]
    with pytest.raises(TypeError):
        autograd.tensor(["a"])


def test_shape_factories():
    assert autograd.zeros(2, 3).shape == (2, 3) and autograd.zeros((2, 3)).dtype == np.float32
    assert autograd.ones(2, dtype=autograd.int64).tolist() == [1, 1]
    assert autograd.full((2, 2), 1.5).tolist() == [[1.5, 1.5], [1.5, 1.5]]
    assert autograd.full((2,), 7).dtype == np.int64
    assert autograd.full((2,), 7.0).dtype == np.float32
    assert autograd.empty(2, 3).shape == (2, 3)
    like = autograd.tensor([1, 2])
    assert autograd.zeros_like(like).dtype == np.int64
    assert autograd.ones_like(like, dtype=autograd.float64).tolist() == [1.0, 1.0]
    assert autograd.zeros(2, requires_grad=True).requires_grad
    np.testing.assert_array_equal(autograd.eye(2, 3)._data, np.eye(2, 3))
    assert autograd.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert autograd.arange(5).dtype == np.int64
    assert autograd.arange(1, 4).tolist() == [1, 2, 3]
    np.testing.assert_allclose(autograd.arange(0, 1, 0.25)._data, [0, 0.25, 0.5, 0.75])
    assert autograd.arange(0, 1, 0.25).dtype == np.float32
    np.testing.assert_allclose(autograd.linspace(0, 1, 5)._data, [0, 0.25, 0.5, 0.75, 1.0])
    with pytest.raises(RuntimeError, match="negative dimension"):
        autograd.zeros(-1)


def test_random_factories_and_manual_seed():
    autograd.manual_seed(42)
    a = autograd.randn(3, 4)
    r = autograd.rand(1000)
    i = autograd.randint(0, 5, (1000,))
    autograd.manual_seed(42)
    np.testing.assert_array_equal(autograd.randn(3, 4)._data, a._data)
    np.testing.assert_array_equal(autograd.rand(1000)._data, r._data)
    np.testing.assert_array_equal(autograd.randint(0, 5, (1000,))._data, i._data)
    assert a.dtype == np.float32 and a.shape == (3, 4)
    assert 0.0 <= r._data.min() and r._data.max() < 1.0 and 0.4 < r._data.mean() < 0.6
    assert i.dtype == np.int64 and set(np.unique(i._data)) == {0, 1, 2, 3, 4}
    assert set(np.unique(autograd.randint(3, (100,))._data)) <= {0, 1, 2}
    assert autograd.randn(2, dtype=autograd.float64).dtype == np.float64
    autograd.manual_seed(1)
    b = autograd.randn(3, 4)
    assert not np.array_equal(a._data, b._data)


# ---- error messages -----------------------------------------------------------------------------
@pytest.mark.parametrize("fn,shapes_in_message", [
    (lambda: autograd.ones(2, 3) @ autograd.ones(4, 5), ["(2, 3)", "(4, 5)"]),
    (lambda: autograd.matmul(autograd.ones(2, 2, 3), autograd.ones(3, 3, 4)),
     ["(2, 2, 3)", "(3, 3, 4)"]),
    (lambda: autograd.mm(autograd.ones(2, 3), autograd.ones(4, 5)), ["(2, 3)", "(4, 5)"]),
    (lambda: autograd.mm(autograd.ones(3), autograd.ones(3, 5)), ["(3,)", "(3, 5)"]),
    (lambda: autograd.bmm(autograd.ones(2, 2, 3), autograd.ones(2, 4, 2)),
     ["(2, 2, 3)", "(2, 4, 2)"]),
    (lambda: autograd.bmm(autograd.ones(2, 2, 3), autograd.ones(3, 3, 2)),
     ["(2, 2, 3)", "(3, 3, 2)"]),
    (lambda: autograd.linear(autograd.ones(2, 3), autograd.ones(4, 5)), ["(2, 3)", "(4, 5)"]),
    (lambda: autograd.ones(2, 3).reshape(4, 2), ["(2, 3)", "[4, 2]"]),
    (lambda: autograd.ones(2, 3).view(-1, 4), ["(2, 3)", "[-1, 4]"]),
    (lambda: autograd.cat([autograd.ones(2, 3), autograd.ones(2, 4)], 0), ["(2, 3)", "(2, 4)"]),
    (lambda: autograd.stack([autograd.ones(2), autograd.ones(3)]), ["(2,)", "(3,)"]),
    (lambda: autograd.ones(2, 3).expand(4, 3), ["[4, 3]", "[2, 3]"]),
])
def test_shape_errors_name_both_shapes(fn, shapes_in_message):
    with pytest.raises(RuntimeError) as e:
        fn()
    for s in shapes_in_message:
        assert s in str(e.value), (s, str(e.value))


@pytest.mark.parametrize("fn,op", [
    (lambda x: x.sum(2), "sum"), (lambda x: x.mean(-3), "mean"),
    (lambda x: x.softmax(2), "softmax"), (lambda x: x.transpose(0, 5), "transpose"),
    (lambda x: x.max(3), "max"), (lambda x: autograd.cat([x, x], 2), "cat"),
    (lambda x: x.unsqueeze(3), "unsqueeze"), (lambda x: x.flip(2), "flip"),
    (lambda x: x.amax((0, 2)), "amax"), (lambda x: x.var(4), "var"),
])
def test_out_of_range_dim_raises_index_error(fn, op):
    x = autograd.ones(2, 3)
    with pytest.raises(IndexError, match=re.escape(op) + r".*Dimension out of range"):
        fn(x)


def test_index_errors_name_the_shape():
    with pytest.raises(IndexError, match=r"\(3,\)"):
        autograd.ones(3)[5]
    with pytest.raises(IndexError):
        autograd.ones(3)[1.5]
