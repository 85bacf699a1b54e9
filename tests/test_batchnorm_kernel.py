"""Tests of the fused training-mode batch norm (kernels/batchnorm.py and its graph node): the
kernels against a plain NumPy reference (float64), parallel twin against serial twin, F.batch_norm
(training) by float64 gradcheck and gradgradcheck (the double backward's Tensor-op path), and
values, gradients and running statistics against PyTorch (the ``torch`` fixture skips without
it)."""

import numpy as np
import pytest
from conftest import check_grad, leaf
from hypothesis import given
from hypothesis import strategies as st

import autograd
import nn
import nn.functional as F
from kernels import batchnorm as KB

FLOATS = (np.float32, np.float64)


def ref_forward(x, w, b, eps):
    x = x.astype(np.float64)
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    mu = x.mean(axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axes, keepdims=True)
    xhat = (x - mu) / np.sqrt(var + eps)
    y = xhat * (1.0 if w is None else w.reshape(shape)) + (0.0 if b is None else b.reshape(shape))
    return y, mu.reshape(-1), var.reshape(-1)


def ref_backward(g, x, w, eps):
    """The input gradient by the chain rule through mean and variance, written out term by
    term (not the kernel's folded formula)."""
    g = g.astype(np.float64)
    x = x.astype(np.float64)
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    M = x.size // x.shape[1]
    mu = x.mean(axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axes, keepdims=True)
    rs = 1 / np.sqrt(var + eps)
    xhat = (x - mu) * rs
    gh = g * (1.0 if w is None else w.reshape(shape))
    dvar = (gh * (x - mu)).sum(axes, keepdims=True) * -0.5 * rs ** 3
    dmu = -(gh * rs).sum(axes, keepdims=True) + dvar * (-2 * (x - mu)).mean(axes, keepdims=True)
    gx = gh * rs + dvar * 2 * (x - mu) / M + dmu / M
    return gx, (g * xhat).sum(axes), g.sum(axes)


def _close(got, want, dtype, what):
    assert got.dtype == dtype, f"{what}: dtype {got.dtype}"
    scale = max(1.0, float(np.abs(want).max()))
    tol = 1e-11 if dtype == np.float64 else 3e-5
    err = float(np.abs(got.astype(np.float64) - want).max()) / scale
    assert err <= tol, f"{what}: relative error {err:.3g} > {tol}"


@given(shape=st.sampled_from([(5, 3), (2, 4, 7), (3, 2, 4, 5), (1, 3, 2, 2, 3), (2, 1, 6)]),
       dtype=st.sampled_from(FLOATS), affine=st.booleans(), parallel=st.booleans(),
       offset=st.sampled_from([0.0, 100.0]), seed=st.integers(0, 2**16))
def test_kernels_match_reference(shape, dtype, affine, parallel, offset, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 2 + offset).astype(dtype)
    C = shape[1]
    w = rng.standard_normal(C).astype(dtype) if affine else None
    b = rng.standard_normal(C).astype(dtype) if affine else None
    g = rng.standard_normal(shape).astype(dtype)
    y, mean, var = KB.batch_norm_forward(x, w, b, 1e-5, parallel=parallel)
    ry, rmu, rvar = ref_forward(x, w, b, 1e-5)
    _close(y, ry, dtype, "y")
    np.testing.assert_allclose(mean, rmu, rtol=1e-12, atol=1e-12 * (1 + offset))
    np.testing.assert_allclose(var, rvar, rtol=1e-9 if dtype == np.float64 else 1e-6)
    rstd = 1 / np.sqrt(var + 1e-5)
    gx, gw, gb = KB.batch_norm_backward(g, x, w, mean, rstd, parallel=parallel)
    rx, rw, rb = ref_backward(g, x, w, 1e-5)
    _close(gx, rx, dtype, "grad_x")
    _close(gw, rw, dtype, "grad_weight")
    _close(gb, rb, dtype, "grad_bias")
    gx2, gw2, _ = KB.batch_norm_backward(g, x, w, mean, rstd, need_input_grad=False)
    assert gx2 is None
    _close(gw2, rw, dtype, "grad_weight without grad_x")


@pytest.mark.parametrize("dtype", FLOATS)
def test_parallel_twin_equals_serial(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 16, 12, 12)).astype(dtype)
    w, b = rng.standard_normal(16).astype(dtype), rng.standard_normal(16).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    # Equal to a few rounding errors, not bit for bit: the twins are compiled separately and
    # LLVM may vectorise their per-channel sums differently (a float64 run differed by 4e-16
    # once on a busy machine).
    eps = np.finfo(dtype).eps

    def same(a, c):
        np.testing.assert_allclose(a, c, rtol=64 * eps, atol=64 * eps * np.abs(c).max())

    ya, ma, va = KB.batch_norm_forward(x, w, b, parallel=True)
    yb, mb, vb = KB.batch_norm_forward(x, w, b, parallel=False)
    same(ya, yb)
    same(ma, mb)
    same(va, vb)
    rs = 1 / np.sqrt(va + 1e-5)
    for a, c in zip(KB.batch_norm_backward(g, x, w, ma, rs, parallel=True),
                    KB.batch_norm_backward(g, x, w, ma, rs, parallel=False)):
        same(a, c)


def test_kernel_asserts_and_the_caller_raises():
    """The kernel only asserts on its arguments; nn.functional.batch_norm, its caller, raises
    the user-facing error for each of the same bad inputs (kernels/__init__.py's rule)."""
    cases = [((np.zeros((2, 3), np.int64),), NotImplementedError,
              r"batch_norm: not implemented for dtype int64"),
             ((np.zeros(3),), ValueError, r"batch_norm: expected an input of shape \(N, C, \*\)"),
             ((np.zeros((2, 3)), np.ones(2)), RuntimeError, "weight should contain 3 elements "
                                                             "not 2")]
    for args, error, message in cases:
        with pytest.raises(AssertionError):
            KB.batch_norm_forward(*args)
        x = autograd.tensor(args[0])
        w = autograd.tensor(args[1]) if len(args) > 1 else None
        with pytest.raises(error, match=message):
            F.batch_norm(x, None, None, w, None, training=True)
    # no values per channel: the kernel asserts; the caller never calls it for an empty input
    with pytest.raises(AssertionError):
        KB.batch_norm_forward(np.zeros((0, 3)))
    with pytest.raises(AssertionError):
        KB.batch_norm_backward(np.zeros((2, 4)), np.zeros((2, 3)), None, np.zeros(3),
                               np.ones(3))


@given(shape=st.sampled_from([(4, 3), (2, 3, 4), (2, 2, 3, 3)]), affine=st.booleans(),
       seed=st.integers(0, 2**16))
def test_training_batch_norm_gradcheck_and_gradgradcheck(shape, affine, seed):
    rng = np.random.default_rng(seed)
    x = leaf(rng, shape)
    params = (leaf(rng, (shape[1],)), leaf(rng, (shape[1],))) if affine else ()

    def fn(x, *wb):
        w, b = wb if wb else (None, None)
        return F.batch_norm(x, None, None, w, b, training=True)
    out = fn(x, *params)
    assert type(out.grad_fn).__name__.startswith("BatchNormTrain")
    check_grad(fn, x, *params, gradgrad=True)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(16, 5), (4, 6, 9), (4, 8, 7, 6)])
def test_batch_norm_module_matches_torch(torch, shape, dtype):
    """Two training steps of BatchNorm (values, gradients of input and affine parameters,
    running statistics), then evaluation mode."""
    rng = np.random.default_rng(0)
    C = shape[1]
    cls = {2: "BatchNorm1d", 3: "BatchNorm1d", 4: "BatchNorm2d"}[len(shape)]
    ours = getattr(nn, cls)(C).to(dtype)
    theirs = getattr(torch.nn, cls)(C).to(getattr(torch, np.dtype(dtype).name))
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            v = rng.standard_normal(p.shape).astype(dtype)
            p.data.copy_(autograd.tensor(v))
            q.copy_(torch.tensor(v))
    tol = dict(rtol=1e-10, atol=1e-10) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    for step in range(2):
        x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
        g = rng.standard_normal(shape).astype(dtype)
        xa = autograd.tensor(x, requires_grad=True)
        xb = torch.tensor(x, requires_grad=True)
        ya, yb = ours(xa), theirs(xb)
        np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), **tol)
        ya.backward(autograd.tensor(g))
        yb.backward(torch.tensor(g))
        np.testing.assert_allclose(xa.grad.numpy(), xb.grad.numpy(), **tol)
        for p, q in zip(ours.parameters(), theirs.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), **tol)
        np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(),
                                   **tol)
        np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), **tol)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal(shape).astype(dtype)
    np.testing.assert_allclose(ours(autograd.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), **tol)


def test_onnx_export_in_training_mode_composes_batch_statistics():
    onnx_reference = pytest.importorskip("onnx.reference")
    import io

    from autograd import onnx as tonnx
    m = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.BatchNorm2d(4, affine=False))
    x = autograd.randn(2, 3, 6, 6)
    proto = tonnx.export(m, (x,), io.BytesIO(), training=tonnx.TrainingMode.TRAINING)
    m.train()
    want = m(x).detach().numpy()
    sess = onnx_reference.ReferenceEvaluator(proto)
    got = sess.run(None, {sess.input_names[0]: x.numpy()})[0]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
