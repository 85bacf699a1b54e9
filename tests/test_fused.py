"""Fused ops (kernels/fused.py, autograd/ops/fused.py): cross-entropy with class indices,
layer norm, group norm, embedding, and the modules nn.LayerNorm, nn.GroupNorm, nn.Embedding.

Each kernel is checked against a plain NumPy reference written here, its parallel twin against
its serial twin, the ops by gradcheck (and double backward), and, where torch is installed,
values and gradients against PyTorch.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
import nn
import nn.functional as F
from autograd import Tensor
from conftest import check_grad, seeds
from kernels import fused as KF

FLOATS = (np.float32, np.float64)


def tol(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)


# ======================================================================================
# cross-entropy
# ======================================================================================
def ref_ce_rows(x, t, w, ignore_index, eps):
    """Per-row loss and dloss/dx for x (N, C, D), t (N, D) (float64, plain NumPy)."""
    x = x.astype(np.float64)
    N, C, D = x.shape
    w = np.ones(C) if w is None else w.astype(np.float64)
    loss = np.zeros((N, D))
    grad = np.zeros_like(x)
    for n in range(N):
        for d in range(D):
            if t[n, d] == ignore_index:
                continue
            z = x[n, :, d]
            logp = z - z.max() - np.log(np.exp(z - z.max()).sum())
            p = np.exp(logp)
            tt = t[n, d]
            loss[n, d] = -(1 - eps) * w[tt] * logp[tt] - eps / C * (w * logp).sum()
            onehot = np.eye(C)[tt]
            grad[n, :, d] = (1 - eps) * w[tt] * (p - onehot) + eps / C * (w.sum() * p - w)
    return loss, grad


@st.composite
def ce_case(draw):
    N, C, D = draw(st.integers(1, 5)), draw(st.integers(1, 6)), draw(st.integers(1, 3))
    return (N, C, D, draw(st.booleans()), draw(st.sampled_from([0.0, 0.1, 1.0])),
            draw(st.sampled_from(["mean", "sum", "none"])), draw(seeds))


def ce_arrays(N, C, D, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((N, C, D)) * 3).astype(dtype)
    t = rng.integers(0, C, (N, D))
    t[rng.random((N, D)) < 0.2] = -100
    w = rng.uniform(0.2, 2.0, C).astype(dtype)
    return x, t, w


@given(ce_case(), st.sampled_from(FLOATS))
def test_ce_kernel_matches_numpy_reference(case, dtype):
    N, C, D, use_w, eps, _, seed = case
    x, t, w = ce_arrays(N, C, D, seed, dtype)
    w = w if use_w else None
    loss, mx, ls = KF.cross_entropy_forward(x, t, w, -100, eps)
    ref_loss, ref_grad = ref_ce_rows(x, t, w, -100, eps)
    assert loss.dtype == dtype
    np.testing.assert_allclose(loss, ref_loss, **tol(dtype))
    coef = np.random.default_rng(seed).standard_normal((N, D)).astype(dtype)
    g = KF.cross_entropy_backward(coef, x, t, mx, ls, w, -100, eps)
    np.testing.assert_allclose(g, ref_grad * coef[:, None, :], **tol(dtype))
    for par in (True, False):
        l2, mx2, ls2 = KF.cross_entropy_forward(x, t, w, -100, eps, parallel=par)
        np.testing.assert_array_equal(l2, loss)
        np.testing.assert_array_equal(
            KF.cross_entropy_backward(coef, x, t, mx2, ls2, w, -100, eps, parallel=par), g)


@given(ce_case())
def test_ce_gradcheck(case):
    N, C, D, use_w, eps, reduction, seed = case
    x, t, w = ce_arrays(N, C, D, seed)
    if (t != -100).sum() == 0:
        t[0, 0] = 0  # 'mean' over no target is nan (as in PyTorch)
    xs = Tensor(x if D > 1 else x[..., 0], requires_grad=True)
    tt = Tensor(t if D > 1 else t[:, 0])
    kw = dict(weight=Tensor(w) if use_w else None, label_smoothing=eps, reduction=reduction)
    check_grad(lambda a: F.cross_entropy(a, tt, **kw), xs, gradgrad=seed % 4 == 0)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(6, 5), (4, 5, 3), (3, 4, 2, 3), (5,)])
@pytest.mark.parametrize("kw", [{}, {"label_smoothing": 0.2}, {"weight": True},
                                {"weight": True, "label_smoothing": 0.3, "reduction": "sum"},
                                {"reduction": "none", "label_smoothing": 0.1, "weight": True},
                                {"ignore_index": 1, "reduction": "none"}])
def test_ce_matches_torch(torch, dtype, shape, kw):
    rng = np.random.default_rng(len(shape))
    x = rng.standard_normal(shape).astype(dtype) * 2
    C = shape[0] if len(shape) == 1 else shape[1]
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    t = rng.integers(0, C, tshape)
    if len(shape) > 1:
        t.reshape(-1)[0] = kw.get("ignore_index", -100)
    w = rng.uniform(0.5, 2, C).astype(dtype)
    ours_kw = dict(kw, weight=Tensor(w)) if kw.get("weight") else dict(kw)
    theirs_kw = dict(kw, weight=torch.from_numpy(w)) if kw.get("weight") else dict(kw)
    a, b = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    loss = F.cross_entropy(a, Tensor(t), **ours_kw)
    ref = torch.nn.functional.cross_entropy(b, torch.from_numpy(t), **theirs_kw)
    assert loss.shape == tuple(ref.shape) and loss.dtype == dtype
    np.testing.assert_allclose(loss._data, ref.detach().numpy(), **tol(dtype))
    g = rng.standard_normal(loss.shape).astype(dtype)
    loss.backward(Tensor(g))
    ref.backward(torch.from_numpy(g))
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **tol(dtype))


def test_ce_is_one_node_and_probability_targets_still_work(torch):
    x = Tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    loss = F.cross_entropy(x, Tensor(np.array([0, 2, 1, 2])))
    assert loss.grad_fn.name() == "CrossEntropyIndicesBackward0"
    (acc, _), *rest = loss.grad_fn.next_functions
    assert acc.variable is x and all(n is None for n, _ in rest)
    p = np.random.default_rng(1).dirichlet(np.ones(3), 4)
    ours = F.cross_entropy(x, Tensor(p), label_smoothing=0.1)
    ref = torch.nn.functional.cross_entropy(torch.from_numpy(x._data), torch.from_numpy(p),
                                            label_smoothing=0.1)
    np.testing.assert_allclose(ours._data, ref.numpy(), rtol=1e-12)


def test_ce_stable_for_huge_logits_and_all_ignored_mean_is_nan():
    x = Tensor(np.array([[1e4, 0.0, -1e4]], np.float32), requires_grad=True)
    loss = F.cross_entropy(x, Tensor(np.array([1])))
    np.testing.assert_allclose(loss._data, 1e4, rtol=1e-6)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1, -1, 0]], atol=1e-6)
    out = F.cross_entropy(Tensor(np.zeros((2, 3))), Tensor(np.array([-100, -100])))
    assert np.isnan(out._data)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("big", [1e4, 1e30])
@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_ce_no_cancellation_at_large_logits(dtype, big, eps):
    """A row of logits near ``big`` is the same distribution as the same row near 0: the loss
    and gradient may not depend on the offset (``lse - x`` cancelled: loss 0, gradient
    ``[0, 1, 1, 1]`` for a uniform row of 1e30; 1e-4 relative error at 1e4 in float32)."""
    if big > np.finfo(dtype).max / 10:
        pytest.skip("offset not representable")
    small = np.array([[0.0, 0.0, 0.0, 0.0], [0.5, -1.0, 0.25, 2.0]])
    x = (small + big).astype(dtype)
    shift = (x - x.max(1, keepdims=True)).astype(np.float64)  # exact: the values are close
    t = np.array([0, 2])
    ref_loss, ref_grad = ref_ce_rows(shift[:, :, None], t[:, None], None, -100, eps)
    a = Tensor(x, requires_grad=True)
    loss = F.cross_entropy(a, Tensor(t), reduction="sum", label_smoothing=eps)
    loss.backward()
    np.testing.assert_allclose(loss._data, ref_loss.sum(), rtol=1e-6)
    np.testing.assert_allclose(a.grad.numpy(), ref_grad[:, :, 0], rtol=1e-6, atol=1e-7)
    if eps == 0:  # the uniform row (PyTorch: 1.386, [-.75, .25, .25, .25])
        np.testing.assert_allclose(ref_loss[0, 0], np.log(4))
        np.testing.assert_allclose(ref_grad[0, :, 0], [-0.75, 0.25, 0.25, 0.25])


def test_ce_large_logits_match_torch(torch):
    for dtype, big in ((np.float32, 1e4), (np.float32, 1e30), (np.float64, 1e300)):
        x = (np.array([[0.0, 0.0, 0.0, 0.0], [0.5, -1.0, 0.25, 2.0]]) + big).astype(dtype)
        t = np.array([1, 3])
        for eps in (0.0, 0.1):
            a, b = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            ours = F.cross_entropy(a, Tensor(t), label_smoothing=eps)
            ref = torch.nn.functional.cross_entropy(b, torch.from_numpy(t), label_smoothing=eps)
            ours.backward()
            ref.backward()
            np.testing.assert_allclose(ours._data, ref.detach().numpy(), rtol=1e-6)
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_ce_errors():
    x = Tensor(np.zeros((2, 3)))
    with pytest.raises(IndexError, match="target 3 is out of bounds for 3 classes"):
        F.cross_entropy(x, Tensor(np.array([0, 3])))
    with pytest.raises(IndexError, match="out of bounds"):
        F.cross_entropy(x, Tensor(np.array([-1, 0])))
    with pytest.raises(ValueError, match=r"expected target of shape \(2,\)"):
        F.cross_entropy(x, Tensor(np.array([0, 1, 2])))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, Tensor(np.array([0, 1])), reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, Tensor(np.array([0, 1])), label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        F.cross_entropy(x, Tensor(np.array([0, 1])), weight=Tensor(np.ones(2)))
    with pytest.raises(TypeError, match="integer"):
        F.cross_entropy(x, Tensor(np.array([True, False])))


# ======================================================================================
# layer norm / group norm
# ======================================================================================
def ref_layer_norm(x, w, b, eps):
    x = x.astype(np.float64)
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    y = (x - mu) / np.sqrt(var + eps)
    return y * (1 if w is None else w) + (0 if b is None else b), mu[..., 0], var[..., 0]


def ref_layer_norm_grads(x, w, eps, g):
    """Backward of layer norm by the chain rule, written out in NumPy (float64)."""
    x, g = x.astype(np.float64), g.astype(np.float64)
    D = x.shape[1]
    mu = x.mean(1, keepdims=True)
    xc = x - mu
    var = (xc ** 2).mean(1, keepdims=True)
    rs = 1 / np.sqrt(var + eps)
    xhat = xc * rs
    gh = g * (1 if w is None else w)
    dvar = (gh * xc).sum(1, keepdims=True) * -0.5 * rs ** 3
    dmu = -(gh * rs).sum(1, keepdims=True) + dvar * (-2 * xc).mean(1, keepdims=True)
    gx = gh * rs + dvar * 2 * xc / D + dmu / D
    return gx, (g * xhat).sum(0), g.sum(0)


@given(st.integers(1, 9), st.integers(1, 7), st.booleans(), st.sampled_from(FLOATS), seeds)
def test_layer_norm_kernel_matches_numpy_reference(M, D, affine, dtype, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((M, D)) * 2 + 1).astype(dtype)
    w = rng.standard_normal(D).astype(dtype) if affine else None
    b = rng.standard_normal(D).astype(dtype) if affine else None
    y, mean, rstd = KF.layer_norm_forward(x, w, b, 1e-5)
    # the reference runs in float64 on the same (rounded) inputs: a float32 reference's own
    # rounding, amplified by rstd on a near-constant row, is what made this test flaky
    f64 = (lambda a: None if a is None else a.astype(np.float64))
    ry, rmu, rvar = ref_layer_norm(f64(x), f64(w), f64(b), 1e-5)

    def close(a, r):
        if dtype == np.float32:  # float32 results: relative to the largest value of the output
            scale = max(1.0, float(np.abs(r).max())) if r.size else 1.0
            np.testing.assert_allclose(a, r, rtol=1e-4, atol=1e-4 * scale)
        else:
            np.testing.assert_allclose(a, r, **tol(dtype))

    close(y, ry)
    close(mean, rmu)
    close(rstd, 1 / np.sqrt(rvar + 1e-5))
    g = rng.standard_normal((M, D)).astype(dtype)
    want = ref_layer_norm_grads(f64(x), f64(w), 1e-5, f64(g))
    results = [KF.layer_norm_backward(g, x, w, mean, rstd, parallel=par, chunks=ch)
               for par, ch in [(None, None), (True, 3), (False, 2), (True, M)]]
    for got in results:
        for a, r in zip(got, want):
            assert a.dtype == dtype
            close(a, r)
    gx_only = KF.layer_norm_backward(g, x, w, mean, rstd, need_input_grad=False)
    assert gx_only[0] is None


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape, ns, affine", [((4, 6), (6,), True), ((2, 3, 4, 5), (4, 5), True),
                                               ((3, 7), 7, False), ((5,), (5,), True)])
def test_layer_norm_matches_torch(torch, dtype, shape, ns, affine):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    nsh = (ns,) if isinstance(ns, int) else ns
    arrays = [x] + ([rng.standard_normal(nsh).astype(dtype) for _ in range(2)] if affine else [])
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = F.layer_norm(ours[0], ns, *ours[1:], eps=1e-4)
    ty = torch.nn.functional.layer_norm(theirs[0], nsh, *theirs[1:], eps=1e-4)
    np.testing.assert_allclose(y._data, ty.detach().numpy(), **tol(dtype))
    g = rng.standard_normal(shape).astype(dtype)
    y.backward(Tensor(g))
    ty.backward(torch.from_numpy(g))
    for a, b in zip(ours, theirs):
        assert a.grad.dtype == dtype
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **tol(dtype))


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.booleans(), seeds)
def test_layer_norm_gradcheck(a, b, c, affine, seed):
    rng = np.random.default_rng(seed)
    x = Tensor(rng.standard_normal((a, b, c)), requires_grad=True)
    params = [Tensor(rng.standard_normal((b, c)), requires_grad=True) for _ in range(2)]
    if affine:
        check_grad(lambda x_, w_, b_: F.layer_norm(x_, (b, c), w_, b_), x, *params,
                   gradgrad=seed % 3 == 0)
    else:
        check_grad(lambda x_: F.layer_norm(x_, (c,)), x, gradgrad=seed % 3 == 0)


def test_layer_norm_errors():
    x = Tensor(np.zeros((2, 3, 4)))
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[3\]"):
        F.layer_norm(x, 3)
    with pytest.raises(RuntimeError, match="weight of shape"):
        F.layer_norm(x, (4,), Tensor(np.ones(3)))
    with pytest.raises(RuntimeError, match="dtype"):
        F.layer_norm(x, (4,), Tensor(np.ones(4, np.float32)))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape, groups", [((2, 6, 5), 3), ((3, 4, 2, 3), 2), ((2, 8), 4),
                                           ((2, 4, 3), 4)])
def test_group_norm_matches_torch_and_gradcheck(torch, dtype, shape, groups):
    rng = np.random.default_rng(1)
    C = shape[1]
    arrays = [rng.standard_normal(shape).astype(dtype)] + [
        rng.standard_normal(C).astype(dtype) for _ in range(2)]
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = F.group_norm(ours[0], groups, ours[1], ours[2])
    ty = torch.nn.functional.group_norm(theirs[0], groups, theirs[1], theirs[2])
    t = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else tol(dtype)
    np.testing.assert_allclose(y._data, ty.detach().numpy(), **t)
    y.backward(Tensor(np.cos(arrays[0])))
    ty.backward(torch.from_numpy(np.cos(arrays[0])))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **t)
    if dtype == np.float64:
        fresh = [Tensor(a, requires_grad=True) for a in arrays]
        check_grad(lambda x_, w_, b_: F.group_norm(x_, groups, w_, b_), *fresh)


def test_group_norm_errors():
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(Tensor(np.zeros((2, 6, 3))), 4)
    with pytest.raises(RuntimeError, match=r"weight of shape \(6,\)"):
        F.group_norm(Tensor(np.zeros((2, 6, 3))), 3, Tensor(np.ones(3)))


# ======================================================================================
# embedding
# ======================================================================================
def ref_embedding_grad(g, idx, num, padding_idx, by_freq):
    out = np.zeros((num, g.shape[-1]))
    flat = idx.reshape(-1)
    g2 = g.reshape(flat.size, -1).astype(np.float64)
    counts = np.bincount(flat, minlength=num)
    for i, r in enumerate(flat):
        if r == padding_idx:
            continue
        out[r] += g2[i] / (counts[r] if by_freq else 1)
    return out


@given(st.integers(1, 12), st.integers(1, 9), st.integers(1, 5),
       st.sampled_from([None, 0, 2]), st.booleans(), st.sampled_from(FLOATS), seeds)
def test_embedding_backward_kernel_matches_reference(n, num, D, pad, by_freq, dtype, seed):
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, num, n)  # repeated indices are likely
    g = rng.standard_normal((n, D)).astype(dtype)
    pad = None if pad is None or pad >= num else pad
    want = ref_embedding_grad(g, idx, num, pad, by_freq)
    for par, block in [(None, None), (True, 1), (True, 2), (False, None)]:
        got = KF.embedding_backward(g, idx, num, pad, by_freq, parallel=par, block=block)
        assert got.dtype == dtype and got.shape == (num, D)
        np.testing.assert_allclose(got, want, **tol(dtype))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("kw", [{}, {"padding_idx": 2}, {"padding_idx": -1,
                                                         "scale_grad_by_freq": True},
                                {"max_norm": 1.0}, {"max_norm": 1.5, "norm_type": 1.0}])
def test_embedding_matches_torch(torch, dtype, kw):
    rng = np.random.default_rng(0)
    W = rng.standard_normal((7, 4)).astype(dtype)
    idx = rng.integers(0, 7, (3, 5))
    a, b = Tensor(W.copy(), requires_grad=True), torch.tensor(W.copy(), requires_grad=True)
    y = F.embedding(Tensor(idx), a, **kw)
    ty = torch.nn.functional.embedding(torch.from_numpy(idx), b, **kw)
    assert y.shape == (3, 5, 4)
    np.testing.assert_allclose(y._data, ty.detach().numpy(), **tol(dtype))
    np.testing.assert_allclose(a._data, b.detach().numpy(), **tol(dtype))  # max_norm renorm
    g = rng.standard_normal(y.shape).astype(dtype)
    y.backward(Tensor(g))
    ty.backward(torch.from_numpy(g))
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **tol(dtype))


def test_embedding_gradcheck_and_double_backward():
    rng = np.random.default_rng(2)
    W = Tensor(rng.standard_normal((5, 3)), requires_grad=True)
    idx = Tensor(np.array([[1, 3, 1], [0, 4, 1]]))
    check_grad(lambda w: F.embedding(idx, w) ** 2, W, gradgrad=True)


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 1, "scale_grad_by_freq": True}])
def test_embedding_backward_op_is_differentiable(kw):
    """padding_idx and scale_grad_by_freq make the gradient differ from the derivative (by
    design), so check the backward op itself: grad_output -> grad_weight is linear, and its
    own backward (a gather) must be its transpose."""
    rng = np.random.default_rng(3)
    W = Tensor(rng.standard_normal((5, 3)), requires_grad=True)
    idx = Tensor(np.array([[1, 3, 1], [0, 4, 1]]))
    g = Tensor(rng.standard_normal((2, 3, 3)), requires_grad=True)

    def weight_grad(g_):
        with autograd.enable_grad():  # gradcheck's finite differences run under no_grad
            return autograd.grad(F.embedding(idx, W, **kw), W, g_, create_graph=True)[0]
    check_grad(weight_grad, g)
    want = ref_embedding_grad(g._data, idx._data, 5, kw.get("padding_idx"),
                              kw.get("scale_grad_by_freq", False))
    np.testing.assert_allclose(weight_grad(g)._data, want, rtol=1e-12)


def test_embedding_errors():
    W = Tensor(np.zeros((4, 2)))
    with pytest.raises(IndexError, match="index out of range.*index 4"):
        F.embedding(Tensor(np.array([0, 4])), W)
    with pytest.raises(IndexError, match="index out of range"):
        F.embedding(Tensor(np.array([-1])), W)
    for bad in (np.array([0.0]), np.array([0], np.uint8), np.array([True])):  # as PyTorch
        with pytest.raises(RuntimeError, match=f"embedding.*int64.*got {bad.dtype}"):
            F.embedding(Tensor(bad), W)
    np.testing.assert_array_equal(F.embedding(Tensor(np.array([1], np.int32)), W)._data,
                                  W._data[[1]])
    with pytest.raises(ValueError, match="padding_idx"):
        F.embedding(Tensor(np.array([0])), W, padding_idx=4)
    with pytest.raises(ValueError, match="2-D"):
        F.embedding(Tensor(np.array([0])), Tensor(np.zeros(4)))


def test_embedding_max_norm_bumps_the_version_counter():
    W = Tensor(np.full((3, 2), 5.0), requires_grad=True)
    y = W * W  # saves W for its backward
    F.embedding(Tensor(np.array([0])), W, max_norm=1.0)
    np.testing.assert_allclose(np.linalg.norm(W._data[0]), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(W._data[1:], 5.0)  # rows not looked up are untouched
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


# ======================================================================================
# modules
# ======================================================================================
def test_layer_norm_module_matches_torch(torch):
    ours, theirs = nn.LayerNorm((3, 4)), torch.nn.LayerNorm((3, 4))
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_array_equal(ours.weight._data, np.ones((3, 4), np.float32))
    np.testing.assert_array_equal(ours.bias._data, np.zeros((3, 4), np.float32))
    assert ours.weight.dtype == np.float32
    for kw in ({"elementwise_affine": False}, {"bias": False}, {"eps": 1e-3}):
        a, b = nn.LayerNorm(5, **kw), torch.nn.LayerNorm(5, **kw)
        assert repr(a) == repr(b)
        assert list(a.state_dict()) == list(b.state_dict())
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    theirs.weight.data.uniform_()
    ours.load_state_dict({k: Tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    np.testing.assert_allclose(ours(Tensor(x))._data, theirs(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_group_norm_module_matches_torch(torch):
    ours, theirs = nn.GroupNorm(2, 6), torch.nn.GroupNorm(2, 6)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for kw in ({"affine": False}, {"bias": False}, {"eps": 1e-3}):
        a, b = nn.GroupNorm(3, 6, **kw), torch.nn.GroupNorm(3, 6, **kw)
        assert repr(a) == repr(b)
        assert list(a.state_dict()) == list(b.state_dict())
    x = np.random.default_rng(0).standard_normal((2, 6, 3, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(Tensor(x))._data, theirs(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(4, 6)


def test_embedding_module_matches_torch(torch):
    for kw in ({}, {"padding_idx": 2}, {"padding_idx": -1, "max_norm": 1.0},
               {"norm_type": 1.0, "scale_grad_by_freq": True, "sparse": True}):
        a, b = nn.Embedding(10, 3, **kw), torch.nn.Embedding(10, 3, **kw)
        assert repr(a) == repr(b)
        assert list(a.state_dict()) == list(b.state_dict())
        assert a.weight.shape == (10, 3) and a.weight.dtype == np.float32
        assert a.padding_idx == b.padding_idx
        if b.padding_idx is not None:
            assert not a.weight._data[a.padding_idx].any()
    autograd.manual_seed(0)
    w = nn.Embedding(2000, 8).weight._data
    assert abs(w.mean()) < 0.05 and abs(w.std() - 1) < 0.05  # N(0, 1) initialisation
    emb = nn.Embedding(10, 3, padding_idx=0)
    out = emb(Tensor(np.array([[0, 2], [2, 9]])))
    out.sum().backward()
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(emb.weight.grad.numpy()[[0, 2, 9, 1]],
                                  [[0] * 3, [2] * 3, [1] * 3, [0] * 3])
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(3, 2, padding_idx=3)


def test_embedding_from_pretrained(torch):
    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    emb = nn.Embedding.from_pretrained(Tensor(table))
    ref = torch.nn.Embedding.from_pretrained(torch.from_numpy(table))
    assert repr(emb) == repr(ref)
    assert not emb.weight.requires_grad
    np.testing.assert_array_equal(emb(Tensor(np.array([3, 1])))._data, table[[3, 1]])
    trainable = nn.Embedding.from_pretrained(Tensor(table), freeze=False, padding_idx=1)
    assert trainable.weight.requires_grad and trainable.padding_idx == 1
    np.testing.assert_array_equal(trainable.weight._data[1], table[1])  # not zeroed, as PyTorch
    with pytest.raises(ValueError, match="2-dimensional"):
        nn.Embedding.from_pretrained(Tensor(np.zeros(3)))


# ======================================================================================
# dtypes: PyTorch's CPU rules (float16 in float32; the "mixed dtype" case; no integers)
# ======================================================================================
def _half(a):
    return Tensor(np.asarray(a, dtype=np.float16), requires_grad=True)


@pytest.mark.parametrize("param_dtype", [np.float16, np.float32])
def test_layer_and_group_norm_of_float16(param_dtype):
    """float16 inputs (with float16 or float32 parameters, PyTorch's mixed case) run the
    float32 kernel: the result and the input gradient are float16, each parameter's
    gradient has its own dtype."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 3))
    for fn, shape, pshape in ((lambda x, w, b: F.layer_norm(x, (3,), w, b), x.shape, (3,)),
                              (lambda x, w, b: F.group_norm(x, 2, w, b), x.shape, (4,))):
        w = Tensor(rng.uniform(0.5, 2, pshape).astype(param_dtype), requires_grad=True)
        b = Tensor(rng.standard_normal(pshape).astype(param_dtype), requires_grad=True)
        xh = _half(x)
        out = fn(xh, w, b)
        assert out.dtype == np.float16
        ref = fn(Tensor(xh._data.astype(np.float64)), Tensor(w._data.astype(np.float64)),
                 Tensor(b._data.astype(np.float64)))
        np.testing.assert_allclose(out._data, ref._data, rtol=1e-2, atol=1e-2)
        out.sum().backward()
        assert xh.grad.dtype == np.float16
        assert w.grad.dtype == param_dtype and b.grad.dtype == param_dtype


def test_norm_and_cross_entropy_dtype_errors():
    x = Tensor(np.ones((2, 4)))
    with pytest.raises(RuntimeError, match="layer_norm: mixed dtype.*float64.*float32"):
        F.layer_norm(x, (4,), Tensor(np.ones(4, np.float32)))
    with pytest.raises(RuntimeError, match="group_norm: mixed dtype"):
        F.group_norm(Tensor(np.ones((2, 4), np.float32)), 2, _half(np.ones(4)))
    for fn in (lambda t: F.layer_norm(t, (4,)), lambda t: F.group_norm(t, 2),
               lambda t: F.cross_entropy(t, Tensor(np.array([0, 1])))):
        for dt in (np.int64, np.bool_):
            with pytest.raises(NotImplementedError, match=np.dtype(dt).name):
                fn(Tensor(np.ones((2, 4), dt)))
    with pytest.raises(RuntimeError, match="cross_entropy.*float16"):
        F.cross_entropy(_half(np.ones((2, 4))), Tensor(np.array([0, 1])),
                        weight=Tensor(np.ones(4, np.float32)))


def test_cross_entropy_and_embedding_of_float16():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((3, 5))
    t = Tensor(np.array([0, 4, 2]))
    xh = _half(logits)
    loss = F.cross_entropy(xh, t, label_smoothing=0.1)
    assert loss.dtype == np.float16
    ref = F.cross_entropy(Tensor(xh._data.astype(np.float64)), t, label_smoothing=0.1)
    np.testing.assert_allclose(float(loss._data), float(ref._data), rtol=2e-3)
    loss.backward()
    assert xh.grad.dtype == np.float16
    emb = nn.Embedding(6, 3).to(autograd.float16)
    out = emb(Tensor(np.array([[1, 2], [2, 5]])))
    assert out.dtype == np.float16
    out.sum().backward()
    assert emb.weight.grad.dtype == np.float16
    np.testing.assert_array_equal(emb.weight.grad._data[:, 0], [0, 1, 2, 0, 0, 1])
