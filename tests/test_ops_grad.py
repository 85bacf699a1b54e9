"""Gradient checks (float64 central finite differences, ``autograd.gradcheck``) for every
differentiable op, over hypothesis-drawn shapes, broadcasting and memory layouts; second
derivatives (``autograd.gradgradcheck``) for a representative set.

Inputs are kept away from the points where an op is not differentiable (0 for abs/relu, the
bounds of clamp, ties for max/min/maximum), so the finite differences are meaningful.
"""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd
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
    "add_alpha": (lambda a, b: autograd.add(a, b, alpha=0.5), "normal", "normal"),
    "sub": (lambda a, b: a - b, "normal", "normal"),
    "sub_alpha": (lambda a, b: autograd.sub(a, b, alpha=2.0), "normal", "normal"),
    "mul": (lambda a, b: a * b, "normal", "normal"),
    "div": (lambda a, b: a / b, "normal", "away0"),
    "pow": (lambda a, b: a ** b, "positive", "normal"),
    "method_pow": (lambda a, b: a.pow(b), "positive", "normal"),
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
    "neg_fn": (lambda x: autograd.neg(x), "normal"),
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
UNARY = {
    "exp": (autograd.exp, "normal", np.exp),
    "expm1": (autograd.expm1, "normal", np.expm1),
    "log": (autograd.log, "positive", np.log),
    "log1p": (autograd.log1p, "positive", np.log1p),
    "log2": (autograd.log2, "positive", np.log2),
    "log10": (autograd.log10, "positive", np.log10),
    "sqrt": (autograd.sqrt, "positive", np.sqrt),
    "rsqrt": (autograd.rsqrt, "positive", lambda a: 1 / np.sqrt(a)),
    "abs": (autograd.abs, "away0", np.abs),
    "sin": (autograd.sin, "normal", np.sin),
    "cos": (autograd.cos, "normal", np.cos),
    "tanh": (autograd.tanh, "normal", np.tanh),
    "sigmoid": (autograd.sigmoid, "normal", lambda a: 1 / (1 + np.exp(-a))),
    "relu": (autograd.relu, "away0", lambda a: np.maximum(a, 0)),
    "square": (autograd.square, "normal", np.square),
    "reciprocal": (autograd.reciprocal, "away0", np.reciprocal),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(shape=shapes(), seed=seeds, layout=layouts)
def test_unary(name, shape, seed, layout):
    fn, kind, ref = UNARY[name]
    x = leaf(_rng(seed), shape, kind)
    out = fn(x)
    assert out.shape == x.shape and out.dtype == F64
    np.testing.assert_allclose(out._data, ref(x._data), rtol=1e-12, atol=1e-12)
    method = getattr(x, name)()  # the Tensor method is the same op
    np.testing.assert_array_equal(method._data, out._data)
    check_grad(lambda x: fn(relayout(x, layout)), x)


def test_abs_and_relu_gradient_at_zero_is_zero():
    x = Tensor(np.array([0.0, -1.0, 2.0]), requires_grad=True)
    (x.abs() + x.relu()).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [0.0, -1.0, 2.0])


# ---- clamp --------------------------------------------------------------------------------------
@pytest.mark.parametrize("bounds", [(-0.5, 0.5), (-0.5, None), (None, 0.5)])
@given(shape=shapes(), seed=seeds, layout=layouts)
def test_clamp_scalar_bounds(bounds, shape, seed, layout):
    lo, hi = bounds
    data = push_away(values(_rng(seed), shape), [b for b in bounds if b is not None])
    x = Tensor(data, requires_grad=True)
    out = autograd.clamp(x, lo, hi)
    np.testing.assert_array_equal(out._data, np.clip(data, lo, hi))
    check_grad(lambda x: relayout(x, layout).clamp(min=lo, max=hi), x)


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
def _no_tie_pair(rng, sa, sb):
    """Values on two interleaved grids: |a - b| >= 0.3 for every broadcast pair."""
    a = rng.integers(-3, 3, sa) + 0.25 + rng.uniform(-0.1, 0.1, sa)
    b = rng.integers(-3, 3, sb) + 0.75 + rng.uniform(-0.1, 0.1, sb)
    return np.asarray(a, F64), np.asarray(b, F64)


@pytest.mark.parametrize("name", ["maximum", "minimum", "max2", "min2"])
@given(bs=broadcastable_shapes(2), seed=seeds)
def test_maximum_minimum(name, bs, seed):
    a, b = _no_tie_pair(_rng(seed), *bs.input_shapes)
    a, b = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    fn = {"maximum": autograd.maximum, "minimum": autograd.minimum,
          "max2": lambda a, b: autograd.max(a, b), "min2": lambda a, b: autograd.min(a, b)}[name]
    ref = np.maximum if name in ("maximum", "max2") else np.minimum
    np.testing.assert_array_equal(fn(a, b)._data, ref(a._data, b._data))
    check_grad(fn, a, b)


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


@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds)
def test_masked_fill(data, shape, seed):
    rng = _rng(seed)
    mshape = data.draw(broadcastable_to(shape))
    mask = Tensor(rng.random(mshape) < 0.5)
    x = leaf(rng, shape)
    out = x.masked_fill(mask, -7.0)
    np.testing.assert_array_equal(out._data, np.where(mask._data, -7.0, x._data))
    check_grad(lambda x: x.masked_fill(mask, -7.0), x)
    value = Tensor(np.array(0.3), requires_grad=True)  # a 0-d tensor value gets a gradient too
    check_grad(lambda x, v: autograd.masked_fill(x, mask, v), x, value)


# ---- reductions ---------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["sum", "mean"])
@given(data=st.data(), shape=shapes(), seed=seeds, keepdim=st.booleans(), layout=layouts)
def test_sum_mean(op, data, shape, seed, keepdim, layout):
    dim = data.draw(dims_for(len(shape)))
    x = leaf(_rng(seed), shape)
    out = getattr(x, op)(dim=dim, keepdim=keepdim)
    axis = dim if (dim is None or len(shape)) else None
    ref = getattr(np, op)(x._data, axis=axis, keepdims=keepdim)
    assert out.shape == ref.shape
    np.testing.assert_allclose(out._data, ref, rtol=1e-12, atol=1e-12)
    check_grad(lambda x: getattr(relayout(x, layout), op)(dim=dim, keepdim=keepdim), x)


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


@pytest.mark.parametrize("op", ["max", "min"])
@given(shape=shapes(), seed=seeds)
def test_max_min_all(op, shape, seed):
    x = leaf(_rng(seed), shape, "distinct")
    out = getattr(x, op)()
    assert out.shape == ()
    assert out.item() == getattr(np, op)(x._data)
    check_grad(lambda x: getattr(x, op)(), x)


@pytest.mark.parametrize("op", ["amax", "amin"])
@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds, keepdim=st.booleans(),
       layout=layouts)
def test_amax_amin(op, data, shape, seed, keepdim, layout):
    dim = data.draw(dims_for(len(shape), allow_none=False))
    x = leaf(_rng(seed), shape, "distinct")
    out = getattr(x, op)(dim, keepdim=keepdim)
    ref = getattr(np, op[1:])(x._data, axis=dim, keepdims=keepdim)
    assert out.shape == ref.shape
    np.testing.assert_array_equal(out._data, ref)
    check_grad(lambda x: getattr(relayout(x, layout), op)(dim, keepdim=keepdim), x)


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


@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds, keepdim=st.booleans(),
       scale=st.sampled_from([1.0, 50.0]))
def test_logsumexp(data, shape, seed, keepdim, scale):
    dim = data.draw(dims_for(len(shape), allow_none=False))
    x = Tensor(values(_rng(seed), shape) * scale, requires_grad=True)
    out = x.logsumexp(dim, keepdim=keepdim)
    axis = dim
    m = np.max(x._data, axis=axis, keepdims=True)
    ref = np.log(np.sum(np.exp(x._data - m), axis=axis, keepdims=True)) + m
    if not keepdim:
        ref = np.squeeze(ref, axis=axis)
    np.testing.assert_allclose(out._data, ref, rtol=1e-12)
    check_grad(lambda x: x.logsumexp(dim, keepdim=keepdim), x)


# ---- shape ops ----------------------------------------------------------------------------------
@st.composite
def reshape_targets(draw, shape):
    n = int(np.prod(shape, dtype=np.int64))
    options = [(-1,), (n,), (1, n), tuple(reversed(shape)), (1,) + tuple(shape)]
    if len(shape) >= 1:
        i = draw(st.integers(0, len(shape) - 1))
        options.append(tuple(-1 if j == i else s for j, s in enumerate(shape)))
    if n % 2 == 0:
        options.append((2, -1))
    return draw(st.sampled_from(options))


@given(data=st.data(), shape=shapes(), seed=seeds, layout=layouts)
def test_reshape_view(data, shape, seed, layout):
    target = data.draw(reshape_targets(shape))
    x = leaf(_rng(seed), shape)
    out = x.reshape(target)
    np.testing.assert_array_equal(out._data, x._data.reshape(target))
    assert x.view(*target).shape == out.shape
    check_grad(lambda x: relayout(x, layout).reshape(target), x)
    check_grad(lambda x: relayout(x, layout).view(*target), x)
    other = Tensor(np.zeros(out.shape))
    check_grad(lambda x: relayout(x, layout).view_as(other), x)


@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds, layout=layouts)
def test_flatten_unflatten(data, shape, seed, layout):
    nd = len(shape)
    s = data.draw(st.integers(0, nd - 1))
    e = data.draw(st.integers(s, nd - 1))
    x = leaf(_rng(seed), shape)
    out = x.flatten(s, e)
    assert out.shape == shape[:s] + (int(np.prod(shape[s:e + 1])),) + shape[e + 1:]
    check_grad(lambda x: relayout(x, layout).flatten(s, e - nd), x)
    d = data.draw(st.integers(-nd, nd - 1))
    sizes = data.draw(st.sampled_from([(1, -1), (shape[d], 1), (-1,)]))
    u = x.unflatten(d, sizes)
    assert u.numel() == x.numel() and u.ndim == nd + len(sizes) - 1
    check_grad(lambda x: relayout(x, layout).unflatten(d, sizes), x)


@given(data=st.data(), shape=shapes(max_side=2), seed=seeds, layout=layouts)
def test_squeeze_unsqueeze(data, shape, seed, layout):
    nd = len(shape)
    x = leaf(_rng(seed), shape)
    assert x.squeeze().shape == tuple(n for n in shape if n != 1)
    check_grad(lambda x: relayout(x, layout).squeeze(), x)
    if nd:
        d = data.draw(st.integers(-nd, nd - 1))
        expect = tuple(n for i, n in enumerate(shape) if not (i == d % nd and n == 1))
        assert x.squeeze(d).shape == expect
        check_grad(lambda x: relayout(x, layout).squeeze(d), x)
    u = data.draw(st.integers(-nd - 1, nd))
    assert x.unsqueeze(u).shape == np.expand_dims(x._data, u).shape
    check_grad(lambda x: relayout(x, layout).unsqueeze(u), x)


@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds, layout=layouts)
def test_transpose_permute_movedim(data, shape, seed, layout):
    nd = len(shape)
    x = leaf(_rng(seed), shape)
    d0, d1 = data.draw(st.integers(-nd, nd - 1)), data.draw(st.integers(-nd, nd - 1))
    np.testing.assert_array_equal(x.transpose(d0, d1)._data, np.swapaxes(x._data, d0, d1))
    check_grad(lambda x: relayout(x, layout).transpose(d0, d1), x)
    perm = tuple(data.draw(st.permutations(range(nd))))
    np.testing.assert_array_equal(x.permute(*perm)._data, x._data.transpose(perm))
    check_grad(lambda x: relayout(x, layout).permute(perm), x)
    src, dst = data.draw(st.integers(-nd, nd - 1)), data.draw(st.integers(-nd, nd - 1))
    np.testing.assert_array_equal(x.movedim(src, dst)._data, np.moveaxis(x._data, src, dst))
    check_grad(lambda x: relayout(x, layout).movedim(src, dst), x)


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


@given(data=st.data(), shape=shapes(max_side=3), seed=seeds, layout=layouts)
def test_expand(data, shape, seed, layout):
    lead = data.draw(st.lists(st.integers(1, 3), max_size=2))
    tail = [data.draw(st.integers(1, 3)) if n == 1 else data.draw(st.sampled_from([n, -1]))
            for n in shape]
    sizes = tuple(lead + tail)
    x = leaf(_rng(seed), shape)
    out = x.expand(*sizes)
    full = tuple(lead) + tuple(n if s == -1 else s for n, s in zip(shape, tail))
    np.testing.assert_array_equal(out._data, np.broadcast_to(x._data, full))
    check_grad(lambda x: relayout(x, layout).expand(sizes), x)
    other = Tensor(np.zeros(full))
    check_grad(lambda x: relayout(x, layout).expand_as(other), x)
    check_grad(lambda x: autograd.broadcast_to(x, full), x)


@given(data=st.data(), shape=shapes(max_side=3), seed=seeds, layout=layouts)
def test_repeat_tile(data, shape, seed, layout):
    extra = data.draw(st.integers(0, 2))
    reps = tuple(data.draw(st.lists(st.integers(1, 3), min_size=len(shape) + extra,
                                    max_size=len(shape) + extra)))
    x = leaf(_rng(seed), shape)
    np.testing.assert_array_equal(x.repeat(*reps)._data, np.tile(x._data, reps))
    check_grad(lambda x: relayout(x, layout).repeat(reps), x)
    tiles = tuple(data.draw(st.lists(st.integers(1, 3), max_size=4)))
    np.testing.assert_array_equal(x.tile(tiles)._data, np.tile(x._data, tiles))
    check_grad(lambda x: relayout(x, layout).tile(tiles), x)


@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds, layout=layouts)
def test_flip_narrow(data, shape, seed, layout):
    nd = len(shape)
    dims = tuple(data.draw(st.lists(st.integers(0, nd - 1), min_size=1, unique=True)))
    x = leaf(_rng(seed), shape)
    np.testing.assert_array_equal(x.flip(dims)._data, np.flip(x._data, dims))
    check_grad(lambda x: relayout(x, layout).flip(dims), x)
    d = data.draw(st.integers(-nd, nd - 1))
    start = data.draw(st.integers(0, shape[d] - 1))
    length = data.draw(st.integers(0, shape[d] - start))
    out = x.narrow(d, start, length)
    np.testing.assert_array_equal(out._data, np.take(x._data, range(start, start + length), d))
    check_grad(lambda x: relayout(x, layout).narrow(d, start, length), x)


@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds, layout=layouts)
def test_chunk_split_unbind(data, shape, seed, layout):
    nd = len(shape)
    d = data.draw(st.integers(-nd, nd - 1))
    n = shape[d]
    x = leaf(_rng(seed), shape)
    chunks = data.draw(st.integers(1, 4))
    parts = x.chunk(chunks, d)
    step = -(-n // chunks)
    assert [p.shape[d] for p in parts] == [min(step, n - i) for i in range(0, n, step)]
    check_grad(lambda x: relayout(x, layout).chunk(chunks, d), x)
    size = data.draw(st.integers(1, 4))
    parts = x.split(size, d)
    np.testing.assert_array_equal(autograd.cat(parts, d)._data, x._data)
    check_grad(lambda x: relayout(x, layout).split(size, d), x)
    sections = []
    left = n
    while left:
        sections.append(data.draw(st.integers(1, left)))
        left -= sections[-1]
    check_grad(lambda x: autograd.split(relayout(x, layout), sections, dim=d), x)
    un = x.unbind(d)
    assert len(un) == n and all(u.shape == shape[:d % nd] + shape[d % nd + 1:] for u in un)
    check_grad(lambda x: relayout(x, layout).unbind(d), x)


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


# ---- joining ------------------------------------------------------------------------------------
@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds, layout=layouts)
def test_cat(data, shape, seed, layout):
    nd = len(shape)
    d = data.draw(st.integers(-nd, nd - 1))
    k = data.draw(st.integers(1, 3))
    rng = _rng(seed)
    xs = []
    for _ in range(k):
        s = list(shape)
        s[d] = data.draw(st.integers(1, 3))
        xs.append(leaf(rng, s))
    out = autograd.cat(xs, d)
    np.testing.assert_array_equal(out._data, np.concatenate([x._data for x in xs], d))
    check_grad(lambda *xs: autograd.cat([relayout(x, layout) for x in xs], dim=d), *xs)


@given(data=st.data(), shape=shapes(), seed=seeds)
def test_stack(data, shape, seed):
    nd = len(shape)
    d = data.draw(st.integers(-nd - 1, nd))
    k = data.draw(st.integers(1, 3))
    rng = _rng(seed)
    xs = [leaf(rng, shape) for _ in range(k)]
    out = autograd.stack(xs, d)
    np.testing.assert_array_equal(out._data, np.stack([x._data for x in xs], d))
    check_grad(lambda *xs: autograd.stack(xs, dim=d), *xs)


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
        check_grad(lambda p, q: autograd.matmul(p, q), p, q)


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


@given(b=sizes, n=sizes, k=sizes, m=sizes, seed=seeds)
def test_mm_bmm_mv_dot_outer(b, n, k, m, seed):
    rng = _rng(seed)
    check_grad(autograd.mm, leaf(rng, (n, k)), leaf(rng, (k, m)))
    check_grad(lambda x, y: x.mm(y), leaf(rng, (n, k)), leaf(rng, (k, m)))
    check_grad(autograd.bmm, leaf(rng, (b, n, k)), leaf(rng, (b, k, m)))
    check_grad(autograd.mv, leaf(rng, (n, k)), leaf(rng, (k,)))
    x, y = leaf(rng, (k,)), leaf(rng, (k,))
    assert autograd.dot(x, y).shape == ()
    np.testing.assert_allclose(autograd.dot(x, y).item(), x._data @ y._data)
    check_grad(autograd.dot, x, y)
    x, y = leaf(rng, (n,)), leaf(rng, (m,))
    np.testing.assert_allclose(autograd.outer(x, y)._data, np.outer(x._data, y._data))
    check_grad(autograd.outer, x, y)


EINSUM = [
    ("ij,jk->ik", "ij jk"),
    ("ij,jk", "ij jk"),                 # implicit output
    ("bij,bjk->bik", "bij bjk"),
    ("i,j->ij", "i j"),
    ("ij->j", "ij"),
    ("ij->i", "ij"),
    ("ijk->ik", "ijk"),
    ("ij->", "ij"),
    ("ij->ji", "ij"),
    ("ij,ij->ij", "ij ij"),
    ("ij,ij->", "ij ij"),
    ("i,i->", "i i"),
    ("ijk,k->ij", "ijk k"),
    ("ij,jk,kl->il", "ij jk kl"),
    ("bhid,bhjd->bhij", "bhid bhjd"),
    ("...ij,...jk->...ik", "zij zjk"),
    ("ij,kl->ijkl", "ij kl"),
    ("ijk,ikl->jl", "ijk ikl"),
]


@pytest.mark.parametrize("eq,subs", EINSUM, ids=[e[0] for e in EINSUM])
@given(data=st.data(), seed=seeds)
def test_einsum(eq, subs, data, seed):
    letters = sorted(set(subs.replace(" ", "")))
    size = {c: data.draw(st.integers(1, 3), label=c) for c in letters}
    rng = _rng(seed)
    # sometimes a subscript has size 1 in one operand: broadcast against the others (PyTorch)
    broadcast = data.draw(st.booleans(), label="broadcast")
    ops = [leaf(rng, tuple(1 if broadcast and data.draw(st.booleans()) else size[c]
                           for c in s)) for s in subs.split()]
    out = autograd.einsum(eq, *ops)
    np_eq = eq.replace("z", "")
    np.testing.assert_allclose(out._data, np.einsum(np_eq, *[o._data for o in ops]),
                               rtol=1e-12, atol=1e-12)
    check_grad(lambda *ops: autograd.einsum(eq, *ops), *ops)
    check_grad(lambda *ops: autograd.einsum(eq, list(ops)), *ops)


def test_einsum_rejects_diagonals_clearly():
    x = Tensor(np.ones((2, 2)))
    with pytest.raises(ValueError, match="repeated subscript"):
        autograd.einsum("ii->i", x)


# ---- nn ops -------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds, scale=st.sampled_from([1.0, 30.0]),
       layout=layouts)
def test_softmax_log_softmax(op, data, shape, seed, scale, layout):
    d = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = Tensor(values(_rng(seed), shape) * scale, requires_grad=True)
    out = getattr(autograd, op)(x, d)
    e = np.exp(x._data - x._data.max(axis=d, keepdims=True))
    ref = e / e.sum(axis=d, keepdims=True)
    ref = ref if op == "softmax" else np.log(ref)
    np.testing.assert_allclose(out._data, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(getattr(x, op)(d)._data, out._data)
    check_grad(lambda x: getattr(autograd, op)(relayout(x, layout), dim=d), x)


@given(lead=shapes(max_dims=2), fin=sizes, fout=sizes, bias=st.booleans(), seed=seeds,
       layout=layouts)
def test_linear(lead, fin, fout, bias, seed, layout):
    rng = _rng(seed)
    x = leaf(rng, lead + (fin,))
    w = leaf(rng, (fout, fin))
    b = leaf(rng, (fout,)) if bias else None
    out = autograd.linear(x, w, b)
    ref = x._data @ w._data.T + (b._data if bias else 0)
    assert out.shape == lead + (fout,)
    np.testing.assert_allclose(out._data, ref, rtol=1e-12, atol=1e-12)
    if bias:
        check_grad(lambda x, w, b: autograd.linear(relayout(x, layout), relayout(w, layout), b),
                   x, w, b, gradgrad=True)
    else:
        check_grad(lambda x, w: autograd.linear(relayout(x, layout), relayout(w, layout)), x, w,
                   gradgrad=True)


def _nll_ref(logp, target, weight, ignore_index, reduction):
    n, c = logp.shape[:2]
    lp = np.moveaxis(logp, 1, -1).reshape(-1, c)
    t = target.reshape(-1)
    w = np.ones(c) if weight is None else weight
    valid = t != ignore_index
    tt = np.where(valid, t, 0)
    wi = w[tt] * valid
    losses = -wi * lp[np.arange(len(t)), tt]
    if reduction == "none":
        return losses.reshape(target.shape)
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / wi.sum()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(n=sizes, c=st.integers(2, 4), spatial=shapes(max_dims=1), use_weight=st.booleans(),
       ignore=st.booleans(), seed=seeds)
def test_nll_loss(reduction, n, c, spatial, use_weight, ignore, seed):
    rng = _rng(seed)
    x = leaf(rng, (n, c) + spatial)
    target = rng.integers(0, c, (n,) + spatial)
    ignore_index = -100
    if ignore:
        ignore_index = int(rng.integers(0, c))
        assume((target != ignore_index).any())
    weight = Tensor(rng.uniform(0.5, 2.0, c)) if use_weight else None
    tgt = Tensor(target)

    def fn(x):
        logp = autograd.log_softmax(x, dim=1)
        return autograd.nll_loss(logp, tgt, weight=weight, ignore_index=ignore_index,
                                 reduction=reduction)

    out = fn(x)
    ref = _nll_ref(autograd.log_softmax(x, 1)._data, target,
                   None if weight is None else weight._data, ignore_index, reduction)
    assert out.shape == np.shape(ref)
    np.testing.assert_allclose(out._data, ref, rtol=1e-12, atol=1e-12)
    check_grad(fn, x)
    # nll_loss directly on a leaf (its input is the log-probabilities)
    check_grad(lambda lp: autograd.nll_loss(lp, tgt, weight=weight, ignore_index=ignore_index,
                                            reduction=reduction), x)


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


def test_max_pool2d_gradcheck():
    _kernel("max_pool2d_forward")
    x = leaf(_rng(4), (2, 2, 4, 5), "distinct")
    check_grad(lambda x: autograd.max_pool2d(x, 2, stride=1, padding=1), x)


# ---- second derivatives -------------------------------------------------------------------------
GRADGRAD = {
    "mul": (lambda a, b: a * b, [((2, 3), "normal"), ((3,), "normal")]),
    "div": (lambda a, b: a / b, [((2, 3), "normal"), ((2, 1), "away0")]),
    "pow": (lambda a, b: a ** b, [((2, 3), "positive"), ((3,), "normal")]),
    "pow_scalar": (lambda a: a ** 3, [((2, 3), "normal")]),
    "exp": (autograd.exp, [((2, 3), "normal")]),
    "log": (autograd.log, [((2, 3), "positive")]),
    "tanh": (autograd.tanh, [((2, 3), "normal")]),
    "sigmoid": (autograd.sigmoid, [((2, 3), "normal")]),
    "matmul": (lambda a, b: a @ b, [((2, 2, 3), "normal"), ((3, 2), "normal")]),
    "matvec": (lambda a, b: a @ b, [((2, 3), "normal"), ((3,), "normal")]),
    "sum": (lambda a: (a * a).sum(1), [((2, 3), "normal")]),
    "mean": (lambda a: (a * a).mean((0, 1), keepdim=True), [((2, 3), "normal")]),
    "softmax": (lambda a: autograd.softmax(a, -1), [((2, 3), "normal")]),
    "log_softmax": (lambda a: autograd.log_softmax(a, 0), [((2, 3), "normal")]),
    "linear": (autograd.linear, [((2, 3), "normal"), ((2, 3), "normal"), ((2,), "normal")]),
    "getitem": (lambda a: (a * a)[np.array([0, 0, 1]), 1:], [((2, 3), "normal")]),
    "cat": (lambda a, b: autograd.cat([a * b, b], 0), [((2, 3), "normal"), ((2, 3), "normal")]),
    "expand": (lambda a: (a * a).expand(2, 2, 3), [((2, 1), "normal")]),
    "reshape": (lambda a: (a * a).reshape(3, 2), [((2, 3), "normal")]),
    "einsum": (lambda a, b: autograd.einsum("ij,jk->ik", a, b),
               [((2, 3), "normal"), ((3, 2), "normal")]),
    "logsumexp": (lambda a: a.logsumexp(1), [((2, 3), "normal")]),
    "var": (lambda a: a.var(1), [((2, 3), "normal")]),
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
def _np_softplus(a, beta=1.0, threshold=20.0):
    z = a * beta
    return np.where(z > threshold, a, np.logaddexp(0.0, z) / beta)


def _np_erf(a):
    from scipy.special import erf
    return erf(a)


_SELU = (1.6732632423543772848170429916717, 1.0507009873554804934193349852946)
ACTIVATIONS = {
    "leaky_relu": (autograd.leaky_relu, [0.0], lambda a: np.where(a > 0, a, 0.01 * a)),
    "leaky_relu_0.3": (lambda x: autograd.leaky_relu(x, negative_slope=0.3), [0.0],
                       lambda a: np.where(a > 0, a, 0.3 * a)),
    "elu": (autograd.elu, [0.0], lambda a: np.where(a > 0, a, np.expm1(a))),
    "elu_2": (lambda x: autograd.elu(x, alpha=2.0), [0.0],
              lambda a: np.where(a > 0, a, 2.0 * np.expm1(a))),
    "selu": (autograd.selu, [0.0],
             lambda a: _SELU[1] * np.where(a > 0, a, _SELU[0] * np.expm1(a))),
    "celu": (lambda x: autograd.celu(x, alpha=0.5), [0.0],
             lambda a: np.where(a > 0, a, 0.5 * np.expm1(a / 0.5))),
    "gelu": (autograd.gelu, [], lambda a: 0.5 * a * (1 + _np_erf(a / np.sqrt(2)))),
    "gelu_tanh": (lambda x: autograd.gelu(x, approximate="tanh"), [],
                  lambda a: 0.5 * a * (1 + np.tanh(np.sqrt(2 / np.pi) * (a + 0.044715 * a ** 3)))),
    "silu": (autograd.silu, [], lambda a: a / (1 + np.exp(-a))),
    "mish": (autograd.mish, [], lambda a: a * np.tanh(np.logaddexp(0.0, a))),
    "softplus": (autograd.softplus, [], _np_softplus),
    "softplus_beta": (lambda x: autograd.softplus(x, beta=2.0, threshold=3.0), [1.5],
                      lambda a: _np_softplus(a, 2.0, 3.0)),
    "hardtanh": (autograd.hardtanh, [-1.0, 1.0], lambda a: np.clip(a, -1, 1)),
    "hardtanh_args": (lambda x: autograd.hardtanh(x, min_val=-0.5, max_val=2.0), [-0.5, 2.0],
                      lambda a: np.clip(a, -0.5, 2.0)),
    "relu6": (autograd.relu6, [0.0, 6.0], lambda a: np.clip(a, 0, 6)),
    "logsigmoid": (autograd.logsigmoid, [], lambda a: -np.logaddexp(0.0, -a)),
    "hardsigmoid": (autograd.hardsigmoid, [-3.0, 3.0], lambda a: np.clip(a + 3, 0, 6) / 6),
    "hardswish": (autograd.hardswish, [-3.0, 3.0], lambda a: a * np.clip(a + 3, 0, 6) / 6),
    "erf": (autograd.erf, [], _np_erf),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@given(shape=shapes(), seed=seeds, layout=layouts)
def test_activation(name, shape, seed, layout):
    fn, kinks, ref = ACTIVATIONS[name]
    x = Tensor(np.asarray(push_away(values(_rng(seed), shape) * 3.0, kinks), F64),
               requires_grad=True)
    out = fn(x)
    assert out.shape == x.shape and out.dtype == F64
    np.testing.assert_allclose(out._data, ref(x._data), rtol=1e-12, atol=1e-14)
    check_grad(lambda x: fn(relayout(x, layout)), x, gradgrad=True)


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
MATH2 = {
    "tan": (autograd.tan, lambda r, s: r.uniform(-1.2, 1.2, s), np.tan),
    "asin": (autograd.asin, lambda r, s: r.uniform(-0.9, 0.9, s), np.arcsin),
    "acos": (autograd.acos, lambda r, s: r.uniform(-0.9, 0.9, s), np.arccos),
    "atan": (autograd.atan, lambda r, s: 2 * r.standard_normal(s), np.arctan),
    "sinh": (autograd.sinh, lambda r, s: r.standard_normal(s), np.sinh),
    "cosh": (autograd.cosh, lambda r, s: r.standard_normal(s), np.cosh),
    "frac": (autograd.frac, lambda r, s: 3 * r.standard_normal(s), lambda a: a - np.trunc(a)),
    "nan_to_num": (autograd.nan_to_num, lambda r, s: r.standard_normal(s), lambda a: a),
}


@pytest.mark.parametrize("name", sorted(MATH2))
@given(shape=shapes(), seed=seeds, layout=layouts)
def test_more_unary(name, shape, seed, layout):
    fn, draw_values, ref = MATH2[name]
    x = Tensor(np.asarray(draw_values(_rng(seed), shape), F64), requires_grad=True)
    if name == "frac":  # keep away from the integers, where frac jumps
        x = Tensor(np.asarray(push_away(x._data, [np.round(x._data)]), F64), requires_grad=True)
    out = fn(x)
    assert out.shape == x.shape and out.dtype == F64
    np.testing.assert_allclose(out._data, ref(x._data), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(getattr(x, name)()._data, out._data)  # the Tensor method
    check_grad(lambda x: fn(relayout(x, layout)), x, gradgrad=True)


@given(bs=broadcastable_shapes(2), seed=seeds, layout=layouts)
def test_atan2(bs, seed, layout):
    rng = _rng(seed)
    y, x = leaf(rng, bs.input_shapes[0], "away0"), leaf(rng, bs.input_shapes[1], "away0")
    np.testing.assert_allclose(autograd.atan2(y, x)._data, np.arctan2(y._data, x._data))
    check_grad(lambda y, x: autograd.atan2(relayout(y, layout), relayout(x, layout)), y, x,
               gradgrad=True)


@given(bs=broadcastable_shapes(3), seed=seeds, w=st.floats(-0.5, 1.5), layout=layouts)
def test_lerp(bs, seed, w, layout):
    rng = _rng(seed)
    a, b, wt = (leaf(rng, s) for s in bs.input_shapes)
    np.testing.assert_allclose(autograd.lerp(a, b, wt)._data,
                               a._data + wt._data * (b._data - a._data), rtol=1e-12, atol=1e-14)
    check_grad(lambda a, b, wt: relayout(a, layout).lerp(b, relayout(wt, layout)), a, b, wt,
               gradgrad=True)
    check_grad(lambda a, b: autograd.lerp(a, relayout(b, layout), w), a, b, gradgrad=True)


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
def _zeros_in(rng, shape, p=0.3):
    x = values(rng, shape)
    return Tensor(np.asarray(np.where(rng.random(shape) < p, 0.0, x), F64), requires_grad=True)


@given(data=st.data(), shape=shapes(), seed=seeds, keepdim=st.booleans(), layout=layouts)
def test_prod(data, shape, seed, keepdim, layout):
    x = _zeros_in(_rng(seed), shape)  # zeros (one or several per slice) are the hard case
    dim = data.draw(st.none() | st.integers(-max(len(shape), 1), max(len(shape), 1) - 1))
    out = autograd.prod(x, dim, keepdim=keepdim)
    ref = np.prod(x._data, axis=dim if shape else None, keepdims=keepdim and dim is not None)
    np.testing.assert_allclose(out._data, ref, rtol=1e-12)
    check_grad(lambda x: relayout(x, layout).prod(dim, keepdim=keepdim), x, gradgrad=True)


def test_prod_gradient_with_zeros_is_the_product_of_the_others():
    x = Tensor(np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.0, 2.0, 4.0]]), requires_grad=True)
    x.prod(1).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [[0, 6, 0], [0, 0, 0], [8, 4, 2]])


@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
@given(data=st.data(), shape=shapes(), seed=seeds, layout=layouts)
def test_cumsum_cumprod(op, data, shape, seed, layout):
    x = _zeros_in(_rng(seed), shape)
    dim = data.draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1))
    out = getattr(autograd, op)(x, dim)
    ref = getattr(np, op)(x._data.reshape(-1) if not shape else x._data, axis=0 if not shape
                          else dim).reshape(shape)
    np.testing.assert_allclose(out._data, ref, rtol=1e-12)
    check_grad(lambda x: getattr(relayout(x, layout), op)(dim), x, gradgrad=True)


def test_cumprod_integer_input_accumulates_in_int64():
    x = autograd.tensor([1, 2, 3], dtype=autograd.int32)
    assert x.cumprod(0).dtype == np.int64 and x.cumsum(0).tolist() == [1, 3, 6]


NORM_P = [1, 2, 3, 0.5, float("inf"), float("-inf"), "fro"]


@pytest.mark.parametrize("p", NORM_P, ids=[str(p) for p in NORM_P])
@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds, keepdim=st.booleans(),
       layout=layouts)
def test_norm(p, data, shape, seed, keepdim, layout):
    dim = data.draw(dims_for(len(shape)))
    if isinstance(dim, tuple) and len(dim) > 2:
        dim = dim[:2]
    x = leaf(_rng(seed), shape, "distinct")  # no ties (inf norms), no zeros (p < 1)
    x = Tensor(np.asarray(push_away(x._data, [0.0]), F64), requires_grad=True)
    out = autograd.norm(x, p, dim, keepdim)
    axis = dim if dim is None or isinstance(dim, tuple) else (dim,)
    q = 2.0 if p == "fro" else float(p)
    a = np.abs(x._data)
    if np.isinf(q):
        ref = (np.max if q > 0 else np.min)(a, axis=axis, keepdims=keepdim)
    else:
        ref = np.sum(a ** q, axis=axis, keepdims=keepdim) ** (1 / q)
    if dim is None and keepdim:  # dim=None reduces everything, keepdim keeps all dims
        ref = np.reshape(ref, (1,) * len(shape))
    assert out.shape == np.shape(ref)
    np.testing.assert_allclose(out._data, ref, rtol=1e-12)
    check_grad(lambda x: relayout(x, layout).norm(p, axis, keepdim), x, gradgrad=True)


def test_norm_gradient_at_zero_is_zero():
    x = Tensor(np.zeros((2, 3)), requires_grad=True)
    for p in [2, 3, "fro"]:
        x.grad = None
        autograd.norm(x, p).backward()
        np.testing.assert_array_equal(x.grad._data, np.zeros((2, 3)))


# ---- shape and indexing --------------------------------------------------------------------------
@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds, layout=layouts)
def test_roll(data, shape, seed, layout):
    nd = len(shape)
    dims = tuple(data.draw(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=nd,
                                    unique_by=lambda d: d % nd)))
    shifts = tuple(data.draw(st.integers(-5, 5)) for _ in dims)
    x = leaf(_rng(seed), shape)
    np.testing.assert_array_equal(x.roll(shifts, dims)._data, np.roll(x._data, shifts, dims))
    np.testing.assert_array_equal(x.roll(3)._data, np.roll(x._data, 3))
    check_grad(lambda x: relayout(x, layout).roll(shifts, dims), x, gradgrad=True)
    check_grad(lambda x: relayout(x, layout).roll(-2), x)


@st.composite
def gather_args(draw, shape):
    """(dim, index shape) with index no larger than ``shape`` outside ``dim``."""
    nd = len(shape)
    d = draw(st.integers(-nd, nd - 1))
    ishape = tuple(draw(st.integers(1, 4)) if i == d % nd else draw(st.integers(1, n))
                   for i, n in enumerate(shape))
    return d, ishape


def _np_gather(x, d, idx):
    """Loop reference: ``out[pos] = x[pos with pos[d] replaced by idx[pos]]``."""
    out = np.empty(idx.shape, x.dtype)
    for pos in np.ndindex(*idx.shape):
        at = list(pos)
        at[d] = idx[pos]
        out[pos] = x[tuple(at)]
    return out


def _np_scatter(x, d, idx, src, add):
    """Loop reference of scatter (``add=False``) and scatter_add."""
    out = x.copy()
    for pos in np.ndindex(*idx.shape):
        at = list(pos)
        at[d] = idx[pos]
        out[tuple(at)] = out[tuple(at)] + src[pos] if add else src[pos]
    return out


@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds, layout=layouts)
def test_gather_scatter_add(data, shape, seed, layout):
    rng = _rng(seed)
    d, ishape = data.draw(gather_args(shape))
    dd = d % len(shape)
    idx = Tensor(rng.integers(0, shape[d], ishape))  # repeats accumulate
    x = leaf(rng, shape)
    src = leaf(rng, tuple(n + data.draw(st.integers(0, 1)) for n in ishape))  # larger src ok
    np.testing.assert_array_equal(x.gather(d, idx)._data, _np_gather(x._data, dd, idx._data))
    check_grad(lambda x: relayout(x, layout).gather(d, idx), x, gradgrad=True)
    np.testing.assert_allclose(autograd.scatter_add(x, d, idx, src)._data,
                               _np_scatter(x._data, dd, idx._data, src._data, True), rtol=1e-12)
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
                                  _np_scatter(x._data, dd, idx._data, src._data, False))
    check_grad(lambda x, s: relayout(x, layout).scatter(d, idx, relayout(s, layout)), x, src,
               gradgrad=True)
    np.testing.assert_array_equal(x.scatter(d, idx, -1.0)._data,
                                  _np_scatter(x._data, dd, idx._data, np.full(ishape, -1.0), False))
    check_grad(lambda x: x.scatter(d, idx, -1.0), x, gradgrad=True)


@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds, layout=layouts)
def test_index_select_masked_select_take_along_dim(data, shape, seed, layout):
    rng = _rng(seed)
    nd = len(shape)
    d = data.draw(st.integers(-nd, nd - 1))
    x = leaf(rng, shape)
    sel = Tensor(rng.integers(0, shape[d], data.draw(st.integers(0, 5))))
    np.testing.assert_array_equal(x.index_select(d, sel)._data, np.take(x._data, sel._data, d))
    check_grad(lambda x: relayout(x, layout).index_select(d, sel), x, gradgrad=True)

    mask = Tensor(rng.random(data.draw(broadcastable_to(shape))) < 0.5)
    np.testing.assert_array_equal(x.masked_select(mask)._data,
                                  x._data[np.broadcast_to(mask._data, shape)])
    check_grad(lambda x: relayout(x, layout).masked_select(mask), x, gradgrad=True)

    tshape = data.draw(broadcastable_to(shape))
    tshape = (1,) * (nd - len(tshape)) + tshape
    tshape = tshape[:d % nd] + (data.draw(st.integers(1, 4)),) + tshape[d % nd + 1:]
    take = Tensor(rng.integers(0, shape[d], tshape))
    full = tuple(max(a, b) for a, b in zip(shape, tshape))
    xb = np.broadcast_to(x._data, tuple(shape[i] if i == d % nd else n
                                       for i, n in enumerate(full)))
    ib = np.broadcast_to(take._data, tuple(tshape[i] if i == d % nd else n
                                          for i, n in enumerate(full)))
    np.testing.assert_array_equal(autograd.take_along_dim(x, take, d)._data,
                                  np.take_along_axis(xb, ib, d))
    check_grad(lambda x: autograd.take_along_dim(relayout(x, layout), take, d), x, gradgrad=True)
    flat = Tensor(rng.integers(0, x.numel(), (3,)))
    np.testing.assert_array_equal(x.take_along_dim(flat)._data, x._data.reshape(-1)[flat._data])
    check_grad(lambda x: relayout(x, layout).take_along_dim(flat), x)


@given(data=st.data(), shape=shapes(min_dims=2), seed=seeds, layout=layouts)
def test_tril_triu_diagonal(data, shape, seed, layout):
    nd = len(shape)
    k = data.draw(st.integers(-3, 3))
    d1 = data.draw(st.integers(-nd, nd - 1))
    d2 = data.draw(st.integers(-nd, nd - 1).filter(lambda v: v % nd != d1 % nd))
    x = leaf(_rng(seed), shape)
    np.testing.assert_array_equal(x.tril(k)._data, np.tril(x._data, k))
    np.testing.assert_array_equal(autograd.triu(x, k)._data, np.triu(x._data, k))
    np.testing.assert_array_equal(x.diagonal(k, d1, d2)._data, np.diagonal(x._data, k, d1, d2))
    check_grad(lambda x: relayout(x, layout).tril(k), x, gradgrad=True)
    check_grad(lambda x: relayout(x, layout).triu(k), x, gradgrad=True)
    check_grad(lambda x: relayout(x, layout).diagonal(k, d1, d2), x, gradgrad=True)


@given(n=st.integers(1, 4), m=st.integers(1, 4), k=st.integers(-3, 3), seed=seeds,
       layout=layouts)
def test_diag(n, m, k, seed, layout):
    rng = _rng(seed)
    v, a = leaf(rng, (n,)), leaf(rng, (n, m))
    np.testing.assert_array_equal(v.diag(k)._data, np.diag(v._data, k))
    np.testing.assert_array_equal(autograd.diag(a, k)._data, np.diag(a._data, k))
    check_grad(lambda v: autograd.diag(v, k), v, gradgrad=True)
    check_grad(lambda a: relayout(a, layout).diag(k), a, gradgrad=True)


_NP_PAD = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@given(data=st.data(), seed=seeds, layout=layouts)
def test_pad(mode, data, seed, layout):
    import nn.functional as F
    nd = data.draw(st.integers(1 if mode == "constant" else 2, 4))
    k = data.draw(st.integers(1, nd) if mode == "constant" else
                  st.sampled_from([v for v in (nd - 2, nd - 1) if 1 <= v <= 3]))
    shape = tuple(data.draw(st.integers(2, 3)) for _ in range(nd))  # small: gradgradcheck
    lo = -1 if mode == "constant" else 0
    widths = [data.draw(st.integers(lo, shape[nd - 1 - i // 2] - 1)) for i in range(2 * k)]
    x = leaf(_rng(seed), shape)
    out = F.pad(x, widths, mode=mode, value=0.5 if mode == "constant" else None)
    # NumPy reference: crop the negative widths, then np.pad (pairs from the first dim on)
    pairs = [(0, 0)] * (nd - k) + [(widths[2 * i], widths[2 * i + 1])
                                   for i in range(k - 1, -1, -1)]
    crop = tuple(slice(max(-a, 0), n - max(-b, 0)) for (a, b), n in zip(pairs, shape))
    pos = [(max(a, 0), max(b, 0)) for a, b in pairs]
    ref = (np.pad(x._data[crop], pos, mode="constant", constant_values=0.5) if mode == "constant"
           else np.pad(x._data, pos, mode=_NP_PAD[mode]))
    np.testing.assert_array_equal(out._data, ref)
    check_grad(lambda x: F.pad(relayout(x, layout), widths, mode=mode), x, gradgrad=True)


@given(data=st.data(), seed=seeds, layout=layouts)
def test_tensordot(data, seed, layout):
    rng = _rng(seed)
    sa = data.draw(shapes(min_dims=1, max_dims=3, max_side=3))
    d = data.draw(st.integers(0, min(2, len(sa))))
    sb = sa[len(sa) - d:] + data.draw(shapes(max_dims=1, max_side=3))
    a, b = leaf(rng, sa), leaf(rng, sb)
    np.testing.assert_allclose(autograd.tensordot(a, b, d)._data, np.tensordot(a._data, b._data, d),
                               rtol=1e-12, atol=1e-14)
    check_grad(lambda a, b: autograd.tensordot(relayout(a, layout), b, d), a, b, gradgrad=True)
    i = data.draw(st.integers(0, len(sa) - 1))
    c = leaf(rng, (2, sa[i]))
    np.testing.assert_allclose(autograd.tensordot(a, c, dims=([i], [1]))._data,
                               np.tensordot(a._data, c._data, ([i], [1])), rtol=1e-12, atol=1e-14)
    check_grad(lambda a, c: autograd.tensordot(a, relayout(c, layout), ([i], [1])), a, c,
               gradgrad=True)


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
