"""Gradient checks (float64 central finite differences, ``autograd.gradcheck``) beyond the op
registry's: ``tests/test_ops_registry.py`` gradchecks every op of ``tests/opinfo.py`` over
hypothesis-drawn shapes, broadcasting and memory layouts. Here: gradcheck itself, the Python
operators with tensors and scalars, the gradients at kinks and ties (PyTorch's conventions),
index and assignment forms, ``Tensor.T``/``mT``, larger ``src`` for scatter, ``linalg``'s
functions, dropout, casts, and second derivatives of composed functions.

Inputs are kept away from the points where an op is not differentiable (0 for abs/relu, the
bounds of clamp, ties for max/min/maximum), so the finite differences are meaningful.
"""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd
import references as R
from autograd import Tensor
from autograd.graph import Node as Function
from conftest import (broadcastable_shapes, check_grad, dims_for, layouts, leaf, relayout,
                      seeds, shapes, values)

F64 = np.float64


def _rng(seed):
    return np.random.default_rng(seed)


@st.composite
def broadcastable_to(draw, shape, lead_ones=False):
    """A shape that broadcasts to ``shape`` (some dims set to 1, some leading dims dropped);
    with ``lead_ones`` it may also carry extra leading 1s (which assignment accepts)."""
    shape = tuple(shape)
    drop = draw(st.integers(0, len(shape)))
    out = [1 if draw(st.booleans()) else n for n in shape[drop:]]
    if lead_ones:
        out = [1] * draw(st.integers(0, 2)) + out
    return tuple(out)


def push_away(x, points, gap=0.1):
    """Move elements of ``x`` that lie within ``gap`` of one of ``points`` (arrays broadcast
    with ``x``) to ``1.5 * gap`` from it."""
    for p in points:
        p = np.broadcast_to(p, x.shape)
        close = np.abs(x - p) < gap
        x = np.where(close, p + np.where(x >= p, 1.5 * gap, -1.5 * gap), x)
    return x


# ---- gradcheck itself ---------------------------------------------------------------------------
class _WrongSquare(Function):
    """x^2 with the gradient 2x scaled by 1.01: gradcheck must catch it."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * a * 2.02


class _CubeConstGrad(Function):
    """x^3 whose backward is built from a constant array: first derivative right, second
    derivative (through the gradient) missing: gradgradcheck must catch it."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a ** 3

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * Tensor(3 * a._data ** 2)


def test_gradcheck_detects_a_wrong_gradient():
    x = leaf(_rng(0), (3,), "positive")
    with pytest.raises(autograd.GradcheckError, match="Jacobian mismatch"):
        autograd.gradcheck(_WrongSquare.apply, (x,))
    assert autograd.gradcheck(_WrongSquare.apply, (x,), raise_exception=False) is False
    assert autograd.gradcheck(lambda t: t * t, (x,))


def test_gradgradcheck_detects_a_wrong_second_derivative():
    x = leaf(_rng(1), (3,), "positive")
    assert autograd.gradcheck(_CubeConstGrad.apply, (x,))
    with pytest.raises(autograd.GradcheckError):
        autograd.gradgradcheck(_CubeConstGrad.apply, (x,))
    assert autograd.gradgradcheck(lambda t: t ** 3, (x,))


def test_gradcheck_requires_an_input_that_requires_grad():
    with pytest.raises(ValueError):
        autograd.gradcheck(lambda t: t * 2, (Tensor(np.ones(2)),))


# ---- arithmetic ---------------------------------------------------------------------------------
BINARY = {
    "add": (lambda a, b: a + b, "normal", "normal"),
    "sub": (lambda a, b: a - b, "normal", "normal"),
    "mul": (lambda a, b: a * b, "normal", "normal"),
    "div": (lambda a, b: a / b, "normal", "away0"),
    "pow": (lambda a, b: a ** b, "positive", "normal"),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(bs=broadcastable_shapes(2), seed=seeds, layout=layouts)
def test_binary_broadcast(name, bs, seed, layout):
    fn, ka, kb = BINARY[name]
    rng = _rng(seed)
    a = leaf(rng, bs.input_shapes[0], ka)
    b = leaf(rng, bs.input_shapes[1], kb)
    out = fn(a, b)
    assert out.shape == bs.result_shape and out.dtype == F64
    check_grad(lambda a, b: fn(relayout(a, layout), relayout(b, layout)), a, b)


SCALAR = {
    "x+s": (lambda x: x + 2.5, "normal"),
    "s+x": (lambda x: 2.5 + x, "normal"),
    "x-s": (lambda x: x - 1.5, "normal"),
    "s-x": (lambda x: 1.5 - x, "normal"),
    "x*s": (lambda x: x * 3.0, "normal"),
    "s*x": (lambda x: -3.0 * x, "normal"),
    "x/s": (lambda x: x / 4.0, "normal"),
    "s/x": (lambda x: 2.0 / x, "away0"),
    "x**2": (lambda x: x ** 2, "normal"),
    "x**3": (lambda x: x ** 3, "normal"),
    "x**2.5": (lambda x: x ** 2.5, "positive"),
    "x**-1.5": (lambda x: x ** -1.5, "positive"),
    "s**x": (lambda x: 2.0 ** x, "normal"),
    "neg": (lambda x: -x, "normal"),
}


@pytest.mark.parametrize("name", sorted(SCALAR))
@given(shape=shapes(), seed=seeds, layout=layouts)
def test_scalar_operand(name, shape, seed, layout):
    fn, kind = SCALAR[name]
    x = leaf(_rng(seed), shape, kind)
    out = fn(x)
    assert out.shape == x.shape and out.dtype == F64
    check_grad(lambda x: fn(relayout(x, layout)), x)


# ---- unary math ---------------------------------------------------------------------------------
def test_abs_and_relu_gradient_at_zero_is_zero():
    x = Tensor(np.array([0.0, -1.0, 2.0]), requires_grad=True)
    (x.abs() + x.relu()).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [0.0, -1.0, 2.0])


# ---- clamp --------------------------------------------------------------------------------------
@given(bs=broadcastable_shapes(2), seed=seeds)
def test_clamp_tensor_bounds(bs, seed):
    rng = _rng(seed)
    lo = Tensor(rng.uniform(-1.2, -0.2, bs.input_shapes[0]), requires_grad=True)
    hi = Tensor(rng.uniform(0.2, 1.2, bs.input_shapes[1]), requires_grad=True)
    full = np.broadcast_shapes(bs.result_shape, lo.shape, hi.shape)
    x = Tensor(push_away(1.2 * rng.standard_normal(full), [lo._data, hi._data], 0.05),
               requires_grad=True)
    out = autograd.clamp(x, lo, hi)
    np.testing.assert_array_equal(out._data, np.minimum(np.maximum(x._data, lo._data), hi._data))
    check_grad(lambda x, lo, hi: autograd.clamp(x, lo, hi), x, lo, hi)
    check_grad(lambda x, lo: x.clamp(min=lo), x, lo)
    check_grad(lambda x, hi: x.clamp(max=hi), x, hi)


def test_clamp_gradient_at_the_bounds_passes_through():
    # PyTorch: the gradient passes where min <= x <= max (inclusive)
    x = Tensor(np.array([-1.0, 0.0, 1.0, 2.0]), requires_grad=True)
    x.clamp(0.0, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [0.0, 1.0, 1.0, 0.0])


def test_clamp_tensor_bounds_min_above_max_gives_grad_to_max():
    x = Tensor(np.array([0.0, 5.0]), requires_grad=True)
    lo = Tensor(np.array([2.0, 2.0]), requires_grad=True)
    hi = Tensor(np.array([1.0, 1.0]), requires_grad=True)
    out = autograd.clamp(x, lo, hi)
    np.testing.assert_array_equal(out._data, [1.0, 1.0])  # torch.clamp: min > max gives max
    out.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [0.0, 0.0])
    np.testing.assert_array_equal(lo.grad._data, [0.0, 0.0])
    np.testing.assert_array_equal(hi.grad._data, [1.0, 1.0])


# ---- maximum / minimum / where / masked_fill ----------------------------------------------------
def test_maximum_ties_split_the_gradient():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = Tensor(np.array([1.0, 3.0]), requires_grad=True)
    autograd.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad._data, [0.5, 0.0])
    np.testing.assert_array_equal(b.grad._data, [0.5, 1.0])


@given(bs=broadcastable_shapes(3), seed=seeds)
def test_where(bs, seed):
    rng = _rng(seed)
    cond = Tensor(rng.random(bs.input_shapes[0]) < 0.5)
    a = leaf(rng, bs.input_shapes[1])
    b = leaf(rng, bs.input_shapes[2])
    out = autograd.where(cond, a, b)
    np.testing.assert_array_equal(out._data, np.where(cond._data, a._data, b._data))
    check_grad(lambda a, b: autograd.where(cond, a, b), a, b)
    check_grad(lambda a, b: a.where(cond, b), a, b)
    check_grad(lambda a: autograd.where(cond, a, 0.5), a)


# ---- reductions ---------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["max", "min"])
@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds, keepdim=st.booleans(),
       layout=layouts)
def test_max_min_dim(op, data, shape, seed, keepdim, layout):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = leaf(_rng(seed), shape, "distinct")
    values_, indices = getattr(autograd, op)(x, dim, keepdim=keepdim)
    ref = getattr(np, op)(x._data, axis=dim, keepdims=keepdim)
    argref = getattr(np, "arg" + op)(x._data, axis=dim, keepdims=keepdim)
    np.testing.assert_array_equal(values_._data, ref)
    np.testing.assert_array_equal(indices._data, argref)
    assert indices.dtype == np.int64
    res = getattr(x, op)(dim=dim, keepdim=keepdim)
    np.testing.assert_array_equal(res.values._data, ref)
    check_grad(lambda x: getattr(relayout(x, layout), op)(dim, keepdim=keepdim).values, x)


ZERO_DIM = [  # (fn, expected value) for x = tensor(1.5): PyTorch accepts dim 0 / -1 on 0-d
    (lambda x: x.sum(0), 1.5), (lambda x: x.sum(-1, keepdim=True), 1.5),
    (lambda x: x.mean((0,)), 1.5), (lambda x: x.amax(0), 1.5), (lambda x: x.amin(-1), 1.5),
    (lambda x: x.max(0).values, 1.5), (lambda x: x.logsumexp(0), 1.5),
    (lambda x: x.softmax(0), 1.0), (lambda x: x.log_softmax(-1), 0.0),
    (lambda x: x.flip(0), 1.5), (lambda x: x.movedim(0, -1), 1.5),
    (lambda x: x.unsqueeze(0).squeeze(0), 1.5), (lambda x: x.var(0, correction=0) + x, 1.5),
]


@pytest.mark.parametrize("fn,expected", ZERO_DIM)
def test_zero_dim_tensors_accept_dim_0(fn, expected):
    x = Tensor(np.array(1.5), requires_grad=True)
    out = fn(x)
    assert out.shape == () and out.item() == pytest.approx(expected)
    check_grad(fn, x)
    flat = x.flatten()
    assert flat.shape == (1,)
    check_grad(lambda x: x.flatten(), x)


def test_amax_and_max_ties_share_the_gradient_evenly():
    x = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]), requires_grad=True)
    x.amax(dim=1).sum().backward()
    np.testing.assert_allclose(x.grad._data, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    y = Tensor(np.array([1.0, 3.0, 3.0]), requires_grad=True)
    y.max().backward()
    np.testing.assert_allclose(y.grad._data, [0, 0.5, 0.5])


@pytest.mark.parametrize("op", ["var", "std"])
@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds, keepdim=st.booleans(),
       correction=st.sampled_from([0, 1]), layout=layouts)
def test_var_std(op, data, shape, seed, keepdim, correction, layout):
    dim = data.draw(dims_for(len(shape)))
    axis = dim
    n = int(np.prod([shape[d] for d in ((dim,) if isinstance(dim, int) else
                                        dim if dim is not None else range(len(shape)))]))
    assume(n - correction > 0 and (op == "var" or n > 1))
    x = leaf(_rng(seed), shape)
    out = getattr(x, op)(dim, correction=correction, keepdim=keepdim)
    ref = getattr(np, op)(x._data, axis=axis, ddof=correction, keepdims=keepdim)
    assert out.shape == ref.shape
    np.testing.assert_allclose(out._data, ref, rtol=1e-10, atol=1e-12)
    unbiased = getattr(x, op)(dim, unbiased=correction == 1, keepdim=keepdim)
    np.testing.assert_allclose(unbiased._data, ref, rtol=1e-10, atol=1e-12)
    check_grad(lambda x: getattr(relayout(x, layout), op)(dim, correction=correction,
                                                           keepdim=keepdim), x)


# ---- shape ops ----------------------------------------------------------------------------------
@given(shape=shapes(), seed=seeds, layout=layouts)
def test_t_T_mT(shape, seed, layout):
    x = leaf(_rng(seed), shape)
    np.testing.assert_array_equal(x.T._data, x._data.transpose())
    check_grad(lambda x: relayout(x, layout).T, x)
    if len(shape) <= 2:
        np.testing.assert_array_equal(x.t()._data, x._data.T)
        check_grad(lambda x: relayout(x, layout).t(), x)
    if len(shape) >= 2:
        np.testing.assert_array_equal(x.mT._data, np.swapaxes(x._data, -1, -2))
        check_grad(lambda x: relayout(x, layout).mT, x)


# ---- indexing -----------------------------------------------------------------------------------
def _positive_steps(index):
    items = index if isinstance(index, tuple) else (index,)
    return all(not isinstance(i, slice) or i.step is None or i.step > 0 for i in items)


@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds, layout=layouts)
def test_getitem_basic(data, shape, seed, layout):
    index = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True).filter(
        _positive_steps))  # PyTorch refuses negative steps (ValueError), so does tapegrad
    x = leaf(_rng(seed), shape)
    np.testing.assert_array_equal(x[index]._data, x._data[index])
    check_grad(lambda x: relayout(x, layout)[index], x)


ADVANCED = [
    ("repeated ints", lambda s: np.array([0, s[0] - 1, 0, 0])),
    ("int list", lambda s: [s[0] - 1, 0]),
    ("int tensor", lambda s: autograd.tensor([0, 0, s[0] - 1])),
    ("2-d int array", lambda s: np.array([[0, 0], [s[0] - 1, 0]])),
    ("ints + slice", lambda s: (np.array([1, 1, 0]) % s[0], slice(None, None, 2))),
    ("slice + repeated ints", lambda s: (slice(None), np.array([0, 0, s[1] - 1]))),
    ("two int arrays", lambda s: (np.array([0, s[0] - 1, 0]), np.array([1, 0, 1]) % s[1])),
    ("ellipsis + ints", lambda s: (Ellipsis, np.array([s[-1] - 1, 0, s[-1] - 1]))),
    ("None + ints", lambda s: (None, np.array([0, 0]))),
    ("int + ints", lambda s: (0, np.array([0, s[1] - 1, 0]))),
    ("bool mask full", lambda s: "mask"),
    ("bool mask rows", lambda s: "rowmask"),
    ("negative ints", lambda s: np.array([-1, -1, 0])),
]


@pytest.mark.parametrize("name,make", ADVANCED, ids=[a[0] for a in ADVANCED])
@given(shape=shapes(min_dims=2, max_dims=3, min_side=2), seed=seeds, layout=layouts)
def test_getitem_advanced(name, make, shape, seed, layout):
    rng = _rng(seed)
    x = leaf(rng, shape)
    index = make(shape)
    if isinstance(index, str):
        mshape = shape if index == "mask" else shape[:1]
        index = Tensor(rng.random(mshape) < 0.5)
    np_index = index._data if isinstance(index, Tensor) else index
    np.testing.assert_array_equal(x[index]._data, x._data[np_index])
    check_grad(lambda x: relayout(x, layout)[index], x)


def test_getitem_repeated_indices_accumulate():
    x = Tensor(np.arange(4.0), requires_grad=True)
    x[np.array([1, 1, 1, 3])].sum().backward()
    np.testing.assert_array_equal(x.grad._data, [0.0, 3.0, 0.0, 1.0])


SETITEM = [
    ("int", lambda s: 1),
    ("slice", lambda s: slice(0, None, 2)),
    ("tuple", lambda s: (slice(None), 0)),
    ("ellipsis", lambda s: (Ellipsis, slice(1, None))),
    ("int array", lambda s: np.array([0, s[0] - 1]) if s[0] > 1 else np.array([0])),
    ("bool mask", lambda s: "mask"),
    ("all", lambda s: Ellipsis),
]


@pytest.mark.parametrize("name,make", SETITEM, ids=[s[0] for s in SETITEM])
@given(data=st.data(), shape=shapes(min_dims=2, max_dims=3, min_side=2), seed=seeds)
def test_setitem(name, make, data, shape, seed):
    rng = _rng(seed)
    x = leaf(rng, shape)
    index = make(shape)
    mask = isinstance(index, str)
    if mask:
        index = Tensor(rng.random(shape) < 0.5)
    np_index = index._data if isinstance(index, Tensor) else index
    target = x._data[np_index].shape
    # NumPy's mask assignment takes 0-d/1-d values only: no extra leading 1s there
    vshape = data.draw(broadcastable_to(target, lead_ones=not mask))
    v = leaf(rng, vshape)

    def fn(x, v):
        y = x * 1.0  # a non-leaf, so the in-place write is allowed
        y[index] = v
        return y * 2.0

    ref = x._data.copy()
    ref[np_index] = v._data
    np.testing.assert_array_equal(fn(x, v)._data, ref * 2.0)
    check_grad(fn, x, v)

    def fn_const(x):
        y = x.sin()  # sin saves its input, not its output: writing into y is allowed
        y[index] = 0.5
        return y

    check_grad(fn_const, x)


def test_setitem_on_a_leaf_that_requires_grad_raises():
    x = Tensor(np.zeros(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x[0] = 1.0


def test_setitem_into_a_constant_buffer_makes_it_differentiable():
    v = Tensor(np.array([2.0, 3.0]), requires_grad=True)
    buf = Tensor(np.zeros(4))
    buf[1:3] = v
    assert buf.requires_grad and buf.grad_fn is not None
    (buf * Tensor(np.array([1.0, 10.0, 100.0, 1000.0]))).sum().backward()
    np.testing.assert_array_equal(v.grad._data, [10.0, 100.0])


# ---- linalg -------------------------------------------------------------------------------------
sizes = st.integers(1, 4)


@given(n=sizes, k=sizes, m=sizes, seed=seeds, layout=layouts)
def test_matmul_1d_2d(n, k, m, seed, layout):
    rng = _rng(seed)
    v, w = leaf(rng, (k,)), leaf(rng, (k,))
    a, b = leaf(rng, (n, k)), leaf(rng, (k, m))
    cases = [(v, w), (v, b), (a, v), (a, b)]
    for p, q in cases:
        out = p @ q
        np.testing.assert_allclose(out._data, p._data @ q._data, rtol=1e-12)
        check_grad(lambda p, q: relayout(p, layout) @ relayout(q, layout), p, q)


@given(bs=broadcastable_shapes(2, max_dims=2, max_side=3), n=sizes, k=sizes, m=sizes,
       seed=seeds, layout=layouts)
def test_matmul_batched_broadcast(bs, n, k, m, seed, layout):
    rng = _rng(seed)
    a = leaf(rng, bs.input_shapes[0] + (n, k))
    b = leaf(rng, bs.input_shapes[1] + (k, m))
    out = a @ b
    assert out.shape == bs.result_shape + (n, m)
    np.testing.assert_allclose(out._data, np.matmul(a._data, b._data), rtol=1e-12)
    check_grad(lambda a, b: relayout(a, layout) @ relayout(b, layout), a, b)
    # a vector on either side of a batch
    v = leaf(rng, (k,))
    check_grad(lambda v, b: v @ b, v, b)
    check_grad(lambda a, v: a @ v, a, v)


def test_einsum_rejects_diagonals_clearly():
    x = Tensor(np.ones((2, 2)))
    with pytest.raises(ValueError, match="repeated subscript"):
        autograd.einsum("ii->i", x)


# ---- nn ops -------------------------------------------------------------------------------------
@given(shape=shapes(min_dims=1), p=st.sampled_from([0.2, 0.5, 0.8]), seed=seeds)
def test_dropout_matches_its_mask(shape, p, seed):
    rng = _rng(seed)
    x = leaf(rng, shape, "away0")
    autograd.manual_seed(seed)
    y = autograd.dropout(x, p, training=True)
    mask = (y._data != 0)
    np.testing.assert_allclose(y._data, x._data * mask / (1 - p), rtol=1e-12)
    y.backward(Tensor(np.ones(shape)))
    np.testing.assert_allclose(x.grad._data, mask / (1 - p), rtol=1e-12)
    autograd.manual_seed(seed)  # the same seed gives the same mask
    np.testing.assert_array_equal(autograd.dropout(x, p)._data, y._data)

    def fn(x):
        autograd.manual_seed(seed)  # a fixed mask for every evaluation
        return autograd.dropout(x, p, training=True)

    check_grad(fn, x)
    assert autograd.dropout(x, p, training=False) is x
    assert np.all(autograd.dropout(x, 1.0)._data == 0)


def test_dropout_in_place():
    x = leaf(_rng(2), (3, 4), "away0")
    h = x * 1.0
    autograd.manual_seed(5)
    out = autograd.dropout(h, 0.4, inplace=True)
    assert out is h and h._version == 1
    mask = h._data != 0
    np.testing.assert_allclose(h._data, x._data * mask / 0.6, rtol=1e-12)
    (h * h).sum().backward()
    np.testing.assert_allclose(x.grad._data, 2 * x._data * mask / 0.36, rtol=1e-12)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        autograd.dropout(x, 0.4, inplace=True)


def test_dropout_drops_about_p():
    autograd.manual_seed(0)
    x = Tensor(np.ones(20000))
    kept = (autograd.dropout(x, 0.3)._data != 0).mean()
    assert abs(kept - 0.7) < 0.02


@given(shape=shapes(), seed=seeds)
def test_cast_and_clone(shape, seed):
    rng = _rng(seed)
    x = leaf(rng, shape)
    y = x.to(autograd.float32)
    assert y.dtype == np.float32 and y.requires_grad
    check_grad(lambda x: x.to(autograd.float32) * 2.0, x, eps=1e-3, atol=1e-4, rtol=1e-3)
    check_grad(lambda x: x.float().double(), x, eps=1e-3, atol=1e-4, rtol=1e-3)
    x32 = leaf(rng, shape, dtype=np.float32)
    z = x32.to(autograd.float64)
    assert z.dtype == np.float64
    (z * Tensor(np.full(shape, 3.0))).sum().backward()
    assert x32.grad.dtype == np.float32
    np.testing.assert_array_equal(x32.grad._data, np.full(shape, 3.0, np.float32))
    c = x.clone()
    assert c._data is not x._data and not np.shares_memory(c._data, x._data)
    check_grad(lambda x: x.clone() * x, x)


# ---- kernels ops (tested here when the kernels exist) -------------------------------------------
def _kernel(name):
    import kernels
    if not hasattr(kernels, name):
        pytest.skip(f"kernels.{name} is not implemented yet (kernels/ is in progress; the "
                    "kernel itself is tested in tests/test_kernels.py)")


@pytest.mark.parametrize("stride,padding,dilation,groups", [(1, 0, 1, 1), (2, 1, 1, 1),
                                                            (1, 1, 2, 2)])
def test_conv2d_gradcheck(stride, padding, dilation, groups):
    _kernel("conv2d_forward")
    rng = _rng(3)
    x = leaf(rng, (2, 2, 5, 4))
    w = leaf(rng, (4, 2 // groups, 3, 2))
    b = leaf(rng, (4,))
    check_grad(lambda x, w, b: autograd.conv2d(x, w, b, stride=stride, padding=padding,
                                               dilation=dilation, groups=groups), x, w, b)


def test_conv2d_double_backward_raises_clearly():
    _kernel("conv2d_forward")
    rng = _rng(5)
    x, w = leaf(rng, (1, 1, 4, 4)), leaf(rng, (2, 1, 3, 3))
    g, = autograd.grad(autograd.conv2d(x, w).sum(), w, create_graph=True)
    assert g.requires_grad
    with pytest.raises(RuntimeError, match="conv2d: double backward is not implemented"):
        autograd.grad((g * g).sum(), x)


# ---- second derivatives -------------------------------------------------------------------------
GRADGRAD = {
    "mul": (lambda a, b: a * b, [((2, 3), "normal"), ((3,), "normal")]),
    "div": (lambda a, b: a / b, [((2, 3), "normal"), ((2, 1), "away0")]),
    "pow": (lambda a, b: a ** b, [((2, 3), "positive"), ((3,), "normal")]),
    "pow_scalar": (lambda a: a ** 3, [((2, 3), "normal")]),
    "matmul": (lambda a, b: a @ b, [((2, 2, 3), "normal"), ((3, 2), "normal")]),
    "matvec": (lambda a, b: a @ b, [((2, 3), "normal"), ((3,), "normal")]),
    "sum": (lambda a: (a * a).sum(1), [((2, 3), "normal")]),
    "mean": (lambda a: (a * a).mean((0, 1), keepdim=True), [((2, 3), "normal")]),
    "getitem": (lambda a: (a * a)[np.array([0, 0, 1]), 1:], [((2, 3), "normal")]),
    "cat": (lambda a, b: autograd.cat([a * b, b], 0), [((2, 3), "normal"), ((2, 3), "normal")]),
    "expand": (lambda a: (a * a).expand(2, 2, 3), [((2, 1), "normal")]),
    "reshape": (lambda a: (a * a).reshape(3, 2), [((2, 3), "normal")]),
    "nll_loss": (lambda a: autograd.nll_loss(autograd.log_softmax(a, 1),
                                             Tensor(np.array([0, 2]))),
                 [((2, 3), "normal")]),
}


@pytest.mark.parametrize("name", sorted(GRADGRAD))
def test_gradgradcheck(name):
    fn, specs = GRADGRAD[name]
    rng = _rng(7)
    inputs = [leaf(rng, s, kind) for s, kind in specs]
    assert autograd.gradgradcheck(fn, tuple(inputs))


# ---- activations --------------------------------------------------------------------------------
# name -> (fn, kinks to keep away from, NumPy reference); inputs are N(0, 1) * 3.
@pytest.mark.parametrize("name", ["leaky_relu", "elu", "selu", "celu", "silu", "mish",
                                  "hardtanh", "relu6", "hardsigmoid", "hardswish"])
def test_activation_inplace_records_the_op(name):
    import nn.functional as F
    x = Tensor(np.linspace(-5.0, 5.0, 7) + 0.05, requires_grad=True)
    y = x * 1.0
    out = getattr(F, name)(y, inplace=True)
    assert out is y and y.grad_fn is not None
    np.testing.assert_allclose(y._data, getattr(F, name)(x)._data, rtol=1e-15)
    check_grad(lambda x: getattr(F, name)(x * 1.0, inplace=True), x)


def test_activation_kink_gradients_follow_pytorch():
    x = Tensor(np.array([-6.0, -3.0, -1.0, 0.0, 1.0, 3.0, 6.0]), requires_grad=True)
    grads = {}
    for name in ["leaky_relu", "hardtanh", "relu6", "hardsigmoid", "hardswish"]:
        x.grad = None
        getattr(autograd, name)(x).sum().backward()
        grads[name] = x.grad._data
    np.testing.assert_array_equal(grads["leaky_relu"], [0.01] * 4 + [1.0] * 3)
    np.testing.assert_array_equal(grads["hardtanh"], [0, 0, 0, 1, 0, 0, 0])  # exclusive
    np.testing.assert_array_equal(grads["relu6"], [0, 0, 0, 0, 1, 1, 0])
    np.testing.assert_allclose(grads["hardsigmoid"], [0, 0, 1 / 6, 1 / 6, 1 / 6, 0, 0])
    np.testing.assert_allclose(grads["hardswish"], [0, -0.5, 1 / 6, 0.5, 5 / 6, 1.5, 1])


def test_activations_are_stable_for_large_inputs():
    x = Tensor(np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0]), requires_grad=True)
    for name in ["logsigmoid", "softplus", "silu", "mish", "elu", "selu", "gelu"]:
        x.grad = None
        out = getattr(autograd, name)(x)
        out.sum().backward()
        assert np.all(np.isfinite(out._data)), name
        assert np.all(np.isfinite(x.grad._data)), name
    np.testing.assert_allclose(autograd.logsigmoid(x)._data, [-1000.0, -50.0, -np.log(2), 0, 0],
                               atol=1e-15)


# ---- more unary/binary math ---------------------------------------------------------------------
def test_nan_to_num_gradient_is_zero_at_replaced_elements():
    x = Tensor(np.array([np.nan, np.inf, -np.inf, 2.0]), requires_grad=True)
    out = x.nan_to_num(nan=1.0, posinf=5.0, neginf=-5.0)
    np.testing.assert_array_equal(out._data, [1.0, 5.0, -5.0, 2.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [0.0, 0.0, 0.0, 1.0])
    for dtype in (np.float32, np.float64):  # defaults: 0 and the dtype's extreme finite values
        info = np.finfo(dtype)
        out = Tensor(x._data.astype(dtype)).nan_to_num()
        assert out.dtype == dtype
        np.testing.assert_array_equal(out._data, np.array([0.0, info.max, info.min, 2.0], dtype))


@given(bs=broadcastable_shapes(2), seed=seeds)
def test_pow_tensor_exponent_second_order(bs, seed):
    rng = _rng(seed)
    a, b = leaf(rng, bs.input_shapes[0], "positive"), leaf(rng, bs.input_shapes[1])
    check_grad(lambda a, b: a ** b, a, b, gradgrad=True)
    check_grad(lambda b: 2.0 ** b, b, gradgrad=True)


def test_pow_exponent_gradient_at_zero_base_is_zero():
    a = Tensor(np.array([0.0, 2.0]), requires_grad=True)
    b = Tensor(np.array([2.0, 3.0]), requires_grad=True)
    (a ** b).sum().backward()
    np.testing.assert_allclose(b.grad._data, [0.0, 8.0 * np.log(2.0)])
    np.testing.assert_allclose(a.grad._data, [0.0, 12.0])


# ---- prod, cumsum, cumprod, norm -----------------------------------------------------------------
def test_prod_gradient_with_zeros_is_the_product_of_the_others():
    x = Tensor(np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.0, 2.0, 4.0]]), requires_grad=True)
    x.prod(1).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [[0, 6, 0], [0, 0, 0], [8, 4, 2]])


def test_cumprod_integer_input_accumulates_in_int64():
    x = autograd.tensor([1, 2, 3], dtype=autograd.int32)
    assert x.cumprod(0).dtype == np.int64 and x.cumsum(0).tolist() == [1, 3, 6]


def test_norm_gradient_at_zero_is_zero():
    x = Tensor(np.zeros((2, 3)), requires_grad=True)
    for p in [2, 3, "fro"]:
        x.grad = None
        autograd.norm(x, p).backward()
        np.testing.assert_array_equal(x.grad._data, np.zeros((2, 3)))


# ---- shape and indexing --------------------------------------------------------------------------
@st.composite
def gather_args(draw, shape):
    """(dim, index shape) with index no larger than ``shape`` outside ``dim``."""
    nd = len(shape)
    d = draw(st.integers(-nd, nd - 1))
    ishape = tuple(draw(st.integers(1, 4)) if i == d % nd else draw(st.integers(1, n))
                   for i, n in enumerate(shape))
    return d, ishape


@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds, layout=layouts)
def test_gather_scatter_add(data, shape, seed, layout):
    rng = _rng(seed)
    d, ishape = data.draw(gather_args(shape))
    dd = d % len(shape)
    idx = Tensor(rng.integers(0, shape[d], ishape))  # repeats accumulate
    x = leaf(rng, shape)
    src = leaf(rng, tuple(n + data.draw(st.integers(0, 1)) for n in ishape))  # larger src ok
    np.testing.assert_array_equal(x.gather(d, idx)._data, R.gather(x._data, dd, idx._data))
    check_grad(lambda x: relayout(x, layout).gather(d, idx), x, gradgrad=True)
    np.testing.assert_allclose(autograd.scatter_add(x, d, idx, src)._data,
                               R.scatter_add(x._data, dd, idx._data, src._data), rtol=1e-12)
    check_grad(lambda x, s: relayout(x, layout).scatter_add(d, idx, relayout(s, layout)), x, src,
               gradgrad=True)


@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds, layout=layouts)
def test_scatter(data, shape, seed, layout):
    rng = _rng(seed)
    d, ishape = data.draw(gather_args(shape))
    dd = d % len(shape)
    k = min(ishape[dd], shape[dd])
    ishape = tuple(k if i == dd else n for i, n in enumerate(ishape))
    # distinct indices along d, so no two writes collide (which one wins is unspecified)
    perm = np.argsort(rng.random(tuple(shape[dd] if i == dd else n
                                       for i, n in enumerate(ishape))), axis=dd)
    idx = Tensor(np.take(perm, np.arange(k), axis=dd))
    x, src = leaf(rng, shape), leaf(rng, tuple(n + 1 for n in ishape))
    np.testing.assert_array_equal(autograd.scatter(x, d, idx, src)._data,
                                  R.scatter(x._data, dd, idx._data, src._data))
    check_grad(lambda x, s: relayout(x, layout).scatter(d, idx, relayout(s, layout)), x, src,
               gradgrad=True)
    np.testing.assert_array_equal(x.scatter(d, idx, -1.0)._data,
                                  R.scatter(x._data, dd, idx._data, value=-1.0))
    check_grad(lambda x: x.scatter(d, idx, -1.0), x, gradgrad=True)


# ---- linalg --------------------------------------------------------------------------------------
def _well_conditioned(rng, shape):
    return Tensor(values(rng, shape) * 0.3 + np.eye(shape[-1]), requires_grad=True)


@given(batch=shapes(max_dims=1, max_side=2), n=st.integers(1, 3), seed=seeds, layout=layouts)
def test_inv_det_slogdet(batch, n, seed, layout):
    from autograd import linalg as L
    a = _well_conditioned(_rng(seed), batch + (n, n))
    np.testing.assert_allclose(L.inv(a)._data, np.linalg.inv(a._data), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(L.det(a)._data, np.linalg.det(a._data), rtol=1e-10)
    sign, logabs = L.slogdet(a)
    np.testing.assert_allclose(sign._data * np.exp(logabs._data), np.linalg.det(a._data),
                               rtol=1e-10)
    check_grad(lambda a: L.inv(relayout(a, layout)), a, gradgrad=True)
    check_grad(lambda a: L.det(relayout(a, layout)), a, gradgrad=True)
    check_grad(lambda a: L.slogdet(relayout(a, layout)).logabsdet, a, gradgrad=True)
    check_grad(lambda a: autograd.logdet(a @ a.mT), a, gradgrad=True)


def test_det_gradient_at_a_singular_matrix_is_the_cofactor_matrix():
    # rank 2: row 2 = 2 * row 1. d det / dA = cofactor matrix (PyTorch 2.13 returns 0 here).
    a = Tensor(np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]]), requires_grad=True)
    autograd.det(a).backward()
    np.testing.assert_allclose(a.grad._data, [[-2, -2, 2], [1, 1, -1], [0, 0, 0]], atol=1e-12)
    check_grad(autograd.det, a)
    a.grad = None
    g, = autograd.grad(autograd.det(a), a, create_graph=True)
    with pytest.raises(NotImplementedError, match="det: double backward at a singular"):
        g.sum().backward()


@given(bs=broadcastable_shapes(2, max_dims=2, max_side=2), n=st.integers(1, 3),
       k=st.integers(1, 2), seed=seeds, layout=layouts)
def test_solve(bs, n, k, seed, layout):
    from autograd import linalg as L
    rng = _rng(seed)
    a = _well_conditioned(rng, bs.input_shapes[0] + (n, n))
    b = leaf(rng, bs.input_shapes[1] + (n, k))
    v = leaf(rng, (n,))
    x = L.solve(a, b)
    if b.ndim == a.ndim - 1 and b.shape == a.shape[:-1]:  # read as a batch of vectors (torch)
        ref = np.linalg.solve(a._data, b._data[..., None])[..., 0]
    else:
        ref = np.linalg.solve(a._data, b._data)
    assert x.shape == ref.shape
    np.testing.assert_allclose(x._data, ref, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(L.solve(a, v)._data, np.linalg.solve(a._data, v._data[:, None])[..., 0],
                               rtol=1e-10, atol=1e-12)
    check_grad(lambda a, b: L.solve(relayout(a, layout), relayout(b, layout)), a, b,
               gradgrad=True)
    check_grad(lambda a, v: L.solve(a, v), a, v, gradgrad=True)
    c = leaf(rng, (k, n))
    if not (c.ndim == a.ndim - 1 and c.shape == a.shape[:-1]):
        check_grad(lambda a, c: L.solve(a, c, left=False), a, c, gradgrad=True)


LINALG_NORMS = {
    "norm": lambda L, x: L.norm(x),
    "norm_dim": lambda L, x: L.norm(x, dim=-1, keepdim=True),
    "norm_ord1_matrix": lambda L, x: L.norm(x, 1, dim=(-2, -1)),
    "norm_inf_matrix": lambda L, x: L.norm(x, float("inf"), dim=(-1, -2)),
    "vector_norm_3": lambda L, x: L.vector_norm(x, 3, dim=(0, -1)),
    "vector_norm_-inf": lambda L, x: L.vector_norm(x, float("-inf")),
    "matrix_norm_fro": lambda L, x: L.matrix_norm(x, keepdim=True),
    "matrix_norm_-1": lambda L, x: L.matrix_norm(x, -1),
}


@pytest.mark.parametrize("name", sorted(LINALG_NORMS))
@given(shape=shapes(min_dims=2), seed=seeds, layout=layouts)
def test_linalg_norms(name, shape, seed, layout):
    from autograd import linalg as L
    fn = LINALG_NORMS[name]
    # |x| continuous in [0.3, 2]: no ties between |x| or between row/column sums (max-type
    # norms), and away from 0, where |x| has its kink
    x = leaf(_rng(seed), shape, "away0")
    check_grad(lambda x: fn(L, relayout(x, layout)), x, gradgrad=True)


def test_linalg_is_a_public_module_not_the_ops_family():
    from autograd import linalg as L
    import autograd.ops.linalg
    assert autograd.linalg is L and L is not autograd.ops.linalg
    for name in ["norm", "vector_norm", "matrix_norm", "solve", "inv", "det", "slogdet"]:
        assert callable(getattr(L, name)) and getattr(L, name).__doc__, name
    assert not hasattr(autograd, "elementwise")  # ops' submodules are not re-exported
