"""tapegrad against PyTorch beyond the op registry (``tests/test_ops_registry.py`` compares
every op of ``tests/opinfo.py`` with PyTorch): the Python operators with scalars, ``Tensor.to``,
in-place activations, ``Tensor.T``/``mT``, ``linalg``'s functions, non-contiguous inputs,
dtype promotion. The same random float32 and float64 inputs go through both libraries; forward
values, output shapes and dtypes, and the input gradients of a random vector-Jacobian product
must agree. A few bad inputs must raise the same exception type.

Every test takes the session fixture ``torch`` (``pytest.importorskip``), so the module skips
cleanly where PyTorch is not installed.
"""

import types

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
from autograd import Tensor
from conftest import (assert_matches_torch, broadcastable_shapes, seeds, shapes,
                      torch_dtype_name, values)
from opinfo import sample_tensor

TOL = {"float32": dict(rtol=2e-4, atol=2e-5), "float64": dict(rtol=1e-9, atol=1e-11)}


# ---- the two namespaces the cases are written against -------------------------------------------
def _ours():
    import nn.functional
    return types.SimpleNamespace(
        lib=autograd, linear=autograd.linear, nll_loss=autograd.nll_loss,
        softmax=autograd.softmax, log_softmax=autograd.log_softmax, F=nn.functional,
        linalg=autograd.linalg)


def _theirs(torch):
    F = torch.nn.functional
    return types.SimpleNamespace(
        lib=torch, linear=F.linear, nll_loss=F.nll_loss,
        softmax=torch.softmax, log_softmax=torch.log_softmax, F=F, linalg=torch.linalg)


class Idx:
    """An index built from NumPy arrays; ``for_(M)`` converts arrays to M's tensors."""

    def __init__(self, index):
        self.index = index

    def for_(self, M):
        def conv(ix):
            if isinstance(ix, np.ndarray):
                return M.lib.tensor(ix)
            return ix
        if isinstance(self.index, tuple):
            return tuple(conv(i) for i in self.index)
        return conv(self.index)


# ---- cases: each draws its inputs (NumPy arrays) and returns (arrays, fn(M, *tensors)) ----------
CASES = {}


def case(name):
    def deco(f):
        CASES[name] = f
        return f
    return deco


def _pair(draw, rng, ka="normal", kb="normal"):
    bs = draw(broadcastable_shapes(2))
    return [values(rng, bs.input_shapes[0], ka), values(rng, bs.input_shapes[1], kb)]


for _name, _fn, _ka, _kb in [
        ("pow", lambda M, a, b: a ** b, "positive", "normal"),
]:
    def _make(draw, rng, _fn=_fn, _ka=_ka, _kb=_kb):
        return _pair(draw, rng, _ka, _kb), _fn
    case(_name)(_make)


for _name, _fn, _kind in [
        ("x+s", lambda M, x: x + 2.5, "normal"), ("s-x", lambda M, x: 1.5 - x, "normal"),
        ("x*s", lambda M, x: x * -3.0, "normal"), ("s/x", lambda M, x: 2.0 / x, "away0"),
        ("x**2", lambda M, x: x ** 2, "normal"), ("x**-1.5", lambda M, x: x ** -1.5, "positive"),
        ("s**x", lambda M, x: 2.0 ** x, "normal"), ("neg", lambda M, x: -x, "normal"),
        ("to_f64", lambda M, x: x.to(M.lib.float64) * 2.0, "normal"),
        ("to_f32", lambda M, x: x.to(M.lib.float32) * 2.0, "normal"),
]:
    def _make(draw, rng, _fn=_fn, _kind=_kind):
        return [values(rng, draw(shapes()), _kind)], _fn
    case(_name)(_make)


@case("activations_inplace")
def _(draw, rng):
    shape = draw(shapes())

    def fn(M, x):
        F = M.F
        outs = []
        for f in (lambda t: F.leaky_relu(t, 0.1, inplace=True), lambda t: F.elu(t, inplace=True),
                  lambda t: F.selu(t, inplace=True), lambda t: F.celu(t, 2.0, inplace=True),
                  lambda t: F.silu(t, inplace=True), lambda t: F.mish(t, inplace=True),
                  lambda t: F.hardtanh(t, inplace=True), lambda t: F.relu6(t, inplace=True),
                  lambda t: F.hardswish(t, inplace=True)):
            y = x * 1.0
            r = f(y)
            assert r is y
            outs.append(y)
        return tuple(outs)
    return [np.asarray(values(rng, shape) * 3.0)], fn


def _with_zeros(rng, shape, p=0.25):
    x = values(rng, shape)
    return np.asarray(np.where(rng.random(shape) < p, 0.0, x))


@case("linalg_norms")
def _(draw, rng):
    lead = draw(shapes(max_dims=1))
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    keep = draw(st.booleans())
    ordm = draw(st.sampled_from(["fro", 1, -1, float("inf"), float("-inf")]))
    ordv = draw(st.sampled_from([1, 2, 3, float("inf"), float("-inf")]))
    x = values(rng, lead + (m, n), "distinct")

    def fn(M, x):
        L = M.linalg
        return (L.norm(x), L.norm(x, dim=-1), L.norm(x, ordm, dim=(-2, -1), keepdim=keep),
                L.vector_norm(x, ordv, dim=(-2, -1), keepdim=keep), L.vector_norm(x, ordv),
                L.matrix_norm(x, ordm), L.matrix_norm(x, keepdim=keep))
    return [x], fn


def _well_conditioned(rng, shape):
    n = shape[-1]
    return values(rng, shape) * 0.3 + np.eye(n)


@case("inv_det_solve")
def _(draw, rng):
    bs = draw(broadcastable_shapes(2, max_dims=2, max_side=3))
    n, k = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    A = _well_conditioned(rng, bs.input_shapes[0] + (n, n))
    B = values(rng, bs.input_shapes[1] + (n, k))
    v = values(rng, (n,))
    C = values(rng, bs.input_shapes[1] + (k, n))
    # left=False refuses B that reads as a batch of vectors (B.shape == A.shape[:-1])
    right = not (C.ndim == A.ndim - 1 and C.shape == A.shape[:-1])

    def fn(M, A, B, v, C):
        L = M.linalg
        sign, logabs = L.slogdet(A)
        return (L.inv(A), A.inverse(), L.det(A), M.lib.det(A), sign, logabs,
                M.lib.logdet(A @ A.mT), L.solve(A, B), L.solve(A, v),
                L.solve(A, C, left=False) if right else L.solve(A, v))
    return [A, B, v, C], fn


@case("T")
def _(draw, rng):  # torch deprecates .T on other than 2-D tensors
    return [values(rng, draw(shapes(min_dims=2, max_dims=2)))], lambda M, x: x.T * 1.0


@case("mT")
def _(draw, rng):  # permute, transpose and movedim: the registry compares them with PyTorch
    return [values(rng, draw(shapes(min_dims=2)))], lambda M, x: x.mT


# ---- the comparison -----------------------------------------------------------------------------
def _as_list(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _compare(torch, name, arrays, fn, dtype, rng):
    ours = [sample_tensor(autograd, a, dtype) for a in arrays]
    theirs = [sample_tensor(torch, a, dtype) for a in arrays]
    outs = _as_list(fn(_ours(), *ours))
    touts = _as_list(fn(_theirs(torch), *theirs))
    assert_matches_torch(torch, name, ours, theirs, outs, touts, rng, TOL[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data(), seed=seeds)
def test_matches_torch(torch, name, dtype, data, seed):
    rng = np.random.default_rng(seed)
    arrays, fn = CASES[name](data.draw, rng)
    _compare(torch, name, arrays, fn, dtype, rng)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@given(shape=shapes(), seed=seeds)
def test_hardsigmoid_matches_torch(torch, dtype, shape, seed):
    """PyTorch's hardsigmoid backward multiplies by ``1.0f / 6`` (a float32 constant, ~3e-8
    off in float64); ours uses the exact 1/6, hence rtol 1e-7 here."""
    rng = np.random.default_rng(seed)
    arr = np.asarray(values(rng, shape) * 3.0).astype(dtype)
    import nn.functional as F
    x = Tensor(arr, requires_grad=True)
    t = torch.tensor(arr, requires_grad=True)
    outs = [F.hardsigmoid(x), F.hardsigmoid(x * 1.0, inplace=True)]
    touts = [torch.nn.functional.hardsigmoid(t), torch.nn.functional.hardsigmoid(t * 1.0, True)]
    g = rng.standard_normal(shape).astype(dtype)
    for o, ot in zip(outs, touts):
        assert str(o.dtype) == torch_dtype_name(ot) and o.shape == tuple(ot.shape)
        np.testing.assert_allclose(o._data, ot.detach().numpy(), **TOL[dtype])
    sum((o * Tensor(g)).sum() for o in outs).backward()
    sum((o * torch.tensor(g)).sum() for o in touts).backward()
    np.testing.assert_allclose(x.grad._data, t.grad.numpy(), rtol=1e-7, atol=1e-9)


@given(data=st.data(), seed=seeds)
def test_non_contiguous_inputs_match_torch(torch, data, seed):
    """Inputs whose arrays are transposed views (not C-contiguous) give the same results."""
    rng = np.random.default_rng(seed)
    shape = data.draw(shapes(min_dims=2, min_side=2))
    arr = np.ascontiguousarray(values(rng, shape[::-1])).T  # Fortran-ordered, shape `shape`
    assert not arr.flags.c_contiguous
    x = Tensor(arr, requires_grad=True)
    t = torch.tensor(np.ascontiguousarray(arr), requires_grad=True)
    w = values(rng, shape[-1:] + (3,))

    def fn(M, x, w):
        return ((x.exp() * x).sum(0) + (x @ w).sum(-1).unsqueeze(-1).mean()).sin()
    o, ot = fn(None, x, Tensor(w)), fn(None, t, torch.tensor(w))
    np.testing.assert_allclose(o._data, ot.detach().numpy(), rtol=1e-9, atol=1e-12)
    o.sum().backward()
    ot.sum().backward()
    np.testing.assert_allclose(x.grad._data, t.grad.numpy(), rtol=1e-9, atol=1e-12)


# ---- dtype rules --------------------------------------------------------------------------------
DTYPE_CASES = [
    ("f32 * float", lambda M: M.ones(2) * 2.5),
    ("float * f32", lambda M: 2.5 * M.ones(2)),
    ("f32 * int", lambda M: M.ones(2) * 3),
    ("f32 + f64", lambda M: M.ones(2) + M.ones(2, dtype=M.float64)),
    ("int + float", lambda M: M.arange(3) + 1.5),
    ("int * int", lambda M: M.arange(3) * 2),
    ("int / int", lambda M: M.arange(3) / M.arange(1, 4)),
    ("int / python int", lambda M: M.arange(3) / 2),
    ("int32 + int64", lambda M: M.arange(3, dtype=M.int32) + M.arange(3)),
    ("int32 + python int", lambda M: M.arange(3, dtype=M.int32) + 1),
    ("int + f32", lambda M: M.arange(3) + M.ones(3)),
    ("bool + int", lambda M: M.tensor([True, False]) + 1),
    ("int ** float", lambda M: M.arange(3) ** 0.5),
    ("f32 > f32", lambda M: M.ones(2) > 0.5),
    ("int == int", lambda M: M.arange(3) == 1),
    ("exp(int)", lambda M: M.exp(M.arange(3))),
    ("sum(int)", lambda M: M.arange(3, dtype=M.int32).sum()),
    ("sum(bool)", lambda M: M.tensor([True, True]).sum()),
    ("log2(f32)", lambda M: M.log2(M.ones(2))),
    ("where f32/float", lambda M: M.where(M.ones(2) > 0, M.ones(2), 0.0)),
    ("tensor(floats)", lambda M: M.tensor([1.0, 2.0])),
    ("tensor(ints)", lambda M: M.tensor([1, 2])),
    ("arange float", lambda M: M.arange(0, 1, 0.25)),
    ("full int", lambda M: M.full((2,), 3)),
    ("full float", lambda M: M.full((2,), 3.0)),
    ("f32 * np.float64 scalar", lambda M: M.ones(2) * np.float64(2.0)),
    ("cat int + f32", lambda M: M.cat([M.arange(2), M.ones(1)])),
    ("stack int + f32", lambda M: M.stack([M.arange(2), M.ones(2)])),
    ("cat f32 + f64", lambda M: M.cat([M.ones(2), M.ones(1, dtype=M.float64)])),
    ("erf(int)", lambda M: M.erf(M.arange(3))),
    ("tan(int)", lambda M: M.arange(3).tan()),
    ("atan2 int, int", lambda M: M.atan2(M.arange(3), M.arange(1, 4))),
    ("atan2 f32, f64", lambda M: M.atan2(M.ones(2), M.ones(2, dtype=M.float64))),
    ("cumsum(int32)", lambda M: M.arange(3, dtype=M.int32).cumsum(0)),
    ("cumprod(bool)", lambda M: M.tensor([True, False]).cumprod(0)),
    ("prod(int32)", lambda M: M.arange(1, 4, dtype=M.int32).prod()),
    ("prod(f32, dtype=f64)", lambda M: M.ones(3).prod(dtype=M.float64)),
    ("norm(f64)", lambda M: M.ones(3, dtype=M.float64).norm()),
    ("lerp f32, float weight", lambda M: M.lerp(M.zeros(2), M.ones(2), 0.25)),
    ("relu6(int)", lambda M: M.nn.functional.relu6(M.arange(-2, 9)) if M is not autograd
     else __import__("nn.functional").functional.relu6(M.arange(-2, 9))),
    ("gather f64", lambda M: M.gather(M.ones(2, dtype=M.float64), 0, M.tensor([1]))),
    ("diag(int)", lambda M: M.diag(M.arange(3))),
    ("tril(bool)", lambda M: M.ones(2, 2, dtype=M.bool).tril()),
    ("masked_select int", lambda M: M.arange(4).masked_select(M.arange(4) > 1)),
    ("det f64", lambda M: M.det(M.eye(2, dtype=M.float64))),
]


@pytest.mark.parametrize("name,fn", DTYPE_CASES, ids=[c[0] for c in DTYPE_CASES])
def test_dtype_promotion_matches_torch(torch, name, fn):
    ours, theirs = fn(autograd), fn(torch)
    assert str(ours.dtype) == torch_dtype_name(theirs), name
    np.testing.assert_allclose(np.asarray(ours._data, dtype=np.float64),
                               theirs.double().numpy(), rtol=1e-6)


# ---- exceptions ---------------------------------------------------------------------------------
BAD = [
    ("matmul inner", lambda M: M.ones(2, 3) @ M.ones(4, 5)),
    ("matmul batch", lambda M: M.matmul(M.ones(2, 2, 3), M.ones(3, 3, 4))),
    ("matmul 0-d", lambda M: M.matmul(M.ones(()), M.ones(3))),
    ("mm 1-d", lambda M: M.mm(M.ones(3), M.ones(3, 2))),
    ("bmm batch", lambda M: M.bmm(M.ones(2, 2, 3), M.ones(3, 3, 2))),
    ("mv shape", lambda M: M.mv(M.ones(2, 3), M.ones(4))),
    ("dot 2-d", lambda M: M.dot(M.ones(2, 2), M.ones(2, 2))),
    ("linear features", lambda M: (M.linear if M is autograd else M.nn.functional.linear)(
        M.ones(2, 3), M.ones(4, 5))),
    ("reshape numel", lambda M: M.ones(2, 3).reshape(4)),
    ("reshape two -1", lambda M: M.ones(2, 3).reshape(-1, -1)),
    ("view numel", lambda M: M.ones(6).view(4, 2)),
    ("cat shapes", lambda M: M.cat([M.ones(2, 3), M.ones(2, 4)], 0)),
    ("stack shapes", lambda M: M.stack([M.ones(2), M.ones(3)])),
    ("expand", lambda M: M.ones(2, 3).expand(4, 3)),
    ("permute", lambda M: M.ones(2, 3).permute(0)),
    ("sum dim", lambda M: M.ones(2, 3).sum(dim=2)),
    ("sum dim negative", lambda M: M.ones(2, 3).sum(dim=-3)),
    ("softmax dim", lambda M: M.softmax(M.ones(2, 3), 5)),
    ("transpose dim", lambda M: M.ones(2, 3).transpose(0, 2)),
    ("unsqueeze dim", lambda M: M.ones(2, 3).unsqueeze(4)),
    ("size dim", lambda M: M.ones(2, 3).size(2)),
    ("index out of range", lambda M: M.ones(3)[5]),
    ("too many indices", lambda M: M.ones(3)[0, 0]),
    ("int requires_grad", lambda M: M.tensor([1, 2], requires_grad=True)),
    ("int requires_grad_", lambda M: M.arange(3).requires_grad_()),
    ("mean of ints", lambda M: M.arange(3).mean()),
    ("item of many", lambda M: M.ones(2).item()),
    ("backward no grad", lambda M: M.ones(2).sum().backward()),
    ("backward non-scalar", lambda M: (M.ones(2, requires_grad=True) * 2).backward()),
    ("leaf in-place", lambda M: M.ones(2, requires_grad=True).add_(1)),
    ("t on 3-d", lambda M: M.ones(2, 2, 2).t()),
    ("narrow past end", lambda M: M.ones(3).narrow(0, 2, 2)),
    ("split sizes", lambda M: M.ones(5).split([2, 2])),
    ("repeat too few", lambda M: M.ones(2, 3).repeat(2)),
    ("nll target", lambda M: (M.nn.functional.nll_loss if M is not autograd else M.nll_loss)(
        M.zeros(2, 3), M.tensor([0, 3]))),
    ("dropout p", lambda M: (M.nn.functional.dropout if M is not autograd else M.dropout)(
        M.ones(2), 1.5)),
    ("randint low>=high", lambda M: M.randint(5, 3, (2,))),
]


@pytest.mark.parametrize("name,fn", BAD, ids=[b[0] for b in BAD])
def test_bad_input_raises_like_torch(torch, name, fn):
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(Exception) as ours:
        fn(autograd)
    expected = theirs.type
    if name == "randint low>=high":  # torch raises RuntimeError; ValueError is documented here
        expected = (RuntimeError, ValueError)
    assert issubclass(ours.type, expected), (
        f"{name}: tapegrad raised {ours.type.__name__}: {ours.value}; torch raised "
        f"{theirs.type.__name__}: {theirs.value}")
