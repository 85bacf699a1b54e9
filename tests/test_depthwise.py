"""Tests of grouped and depthwise convolution: the direct depthwise kernel
(kernels/depthwise.py) and the batched-GEMM grouped path of kernels.conv2d_forward/backward,
against a plain NumPy reference written here (loops over groups and kernel taps, float64),
then F.conv2d/conv1d with ``groups`` by float64 gradcheck, then values and gradients against
PyTorch (the ``torch`` fixture skips cleanly without it), and nn.Conv2d(groups=C) training
steps against torch.nn.Conv2d.
"""

import numpy as np
import pytest
from conftest import check_grad, leaf
from hypothesis import given
from hypothesis import strategies as st

import autograd
import kernels as K
import nn
import nn.functional as F
from kernels import depthwise as dw
from test_conv_pool import _t, check_kernel_asserts_op_raises
from test_winograd import _close as winograd_close

FLOATS = (np.float32, np.float64)


# ---- plain NumPy reference (float64) ------------------------------------------------------------
def _out_size(size, k, s, lo, hi, d):
    return (size + lo + hi - d * (k - 1) - 1) // s + 1


def ref_grouped(x, w, b, stride, pads, dilation, groups):
    """Forward and a backward closure of conv2d with ``groups``; pads = ((t, b), (l, r)).

    Returns ``(out, backward)``, ``backward(g) -> (gx, gw, gb)``; each tap ``(i, j)`` is a
    strided slice of the padded input, multiplied per group with ``w[:, :, i, j]``."""
    x = x.astype(np.float64)
    w = w.astype(np.float64)
    (t, bo), (le, r) = pads
    (sH, sW), (dH, dW) = stride, dilation
    N, C, H, W = x.shape
    O, Cg, kH, kW = w.shape
    Og = O // groups
    Ho, Wo = _out_size(H, kH, sH, t, bo, dH), _out_size(W, kW, sW, le, r, dW)
    xp = np.pad(x, ((0, 0), (0, 0), (t, bo), (le, r)))

    def tap(i, j):
        return (slice(None), slice(None), slice(i * dH, i * dH + sH * (Ho - 1) + 1, sH),
                slice(j * dW, j * dW + sW * (Wo - 1) + 1, sW))

    out = np.zeros((N, O, Ho, Wo))
    for gi in range(groups):
        xs = xp[:, gi * Cg:(gi + 1) * Cg]
        for i in range(kH):
            for j in range(kW):
                out[:, gi * Og:(gi + 1) * Og] += np.einsum(
                    "nchw,oc->nohw", xs[tap(i, j)], w[gi * Og:(gi + 1) * Og, :, i, j])
    if b is not None:
        out += b.astype(np.float64)[None, :, None, None]

    def backward(g):
        g = g.astype(np.float64)
        gxp = np.zeros_like(xp)
        gw = np.zeros_like(w)
        for gi in range(groups):
            go = g[:, gi * Og:(gi + 1) * Og]
            for i in range(kH):
                for j in range(kW):
                    sl = tap(i, j)
                    xs = xp[:, gi * Cg:(gi + 1) * Cg][sl]
                    gw[gi * Og:(gi + 1) * Og, :, i, j] = np.einsum("nohw,nchw->oc", go, xs)
                    view = gxp[:, gi * Cg:(gi + 1) * Cg]
                    view[sl] += np.einsum("nohw,oc->nchw", go,
                                          w[gi * Og:(gi + 1) * Og, :, i, j])
        return gxp[:, :, t:t + H, le:le + W], gw, g.sum(axis=(0, 2, 3))

    return out, backward


def _close(got, want, dtype, what):
    """float64: 1e-11 relative to the scale of ``want``; float32: 2e-5 of the scale."""
    winograd_close(got, want, dtype, what, tol64=1e-11, tol32=2e-5)


@st.composite
def geometry(draw):
    """(kernel, stride, ((t, b), (l, r)) padding, dilation, (H, W)) with an output of >= 1."""
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    pads = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(2))
    size = []
    for a in range(2):
        span = d[a] * (k[a] - 1) + 1 - sum(pads[a])
        size.append(draw(st.integers(max(1, span), max(1, span) + 6)))
    return k, s, pads, d, tuple(size)


def _arrays(rng, N, C, O, Cg, k, size, pads, s, d, dtype):
    x = rng.standard_normal((N, C) + size).astype(dtype)
    w = rng.standard_normal((O, Cg) + k).astype(dtype)
    b = rng.standard_normal(O).astype(dtype)
    Ho = _out_size(size[0], k[0], s[0], *pads[0], d[0])
    Wo = _out_size(size[1], k[1], s[1], *pads[1], d[1])
    g = rng.standard_normal((N, O, Ho, Wo)).astype(dtype)
    return x, w, b, g


# ---- the depthwise kernel -----------------------------------------------------------------------
@given(geo=geometry(), n=st.integers(1, 3), c=st.integers(1, 4), mult=st.integers(1, 3),
       dtype=st.sampled_from(FLOATS), use_bias=st.booleans(), seed=st.integers(0, 2**16))
def test_depthwise_kernel_matches_reference(geo, n, c, mult, dtype, use_bias, seed):
    k, s, pads, d, size = geo
    rng = np.random.default_rng(seed)
    x, w, b, g = _arrays(rng, n, c, c * mult, 1, k, size, pads, s, d, dtype)
    b = b if use_bias else None
    want, backward = ref_grouped(x, w, b, s, pads, d, c)
    got = K.depthwise_conv2d_forward(x, w, b, s, pads, d)
    _close(got, want, dtype, "forward")
    gx, gw, gb = K.depthwise_conv2d_backward(g, x, w, s, pads, d)
    rx, rw, rb = backward(g)
    _close(gx, rx, dtype, "grad_x")
    _close(gw, rw, dtype, "grad_weight")
    _close(gb, rb, dtype, "grad_bias")


@pytest.mark.parametrize("dtype", FLOATS)
def test_depthwise_kernel_need_flags_and_cifar_shape(dtype):
    """A ResNet-sized layer (all the prange iterations of a real batch), and the need_* flags:
    skipped gradients are None, the others unchanged."""
    rng = np.random.default_rng(1)
    x, w, b, g = _arrays(rng, 4, 16, 16, 1, (3, 3), (32, 32), ((1, 1), (1, 1)), (1, 1),
                         (1, 1), dtype)
    want, backward = ref_grouped(x, w, b, (1, 1), ((1, 1), (1, 1)), (1, 1), 16)
    _close(K.depthwise_conv2d_forward(x, w, b, 1, 1, 1), want, dtype, "forward")
    rx, rw, rb = backward(g)
    for flags in [(True, False, False), (False, True, False), (False, False, True),
                  (False, True, True)]:
        got = K.depthwise_conv2d_backward(g, x, w, 1, 1, 1, *flags)
        for on, a, ref, what in zip(flags, got, (rx, rw, rb), ("grad_x", "grad_w", "grad_b")):
            if on:
                _close(a, ref, dtype, what)
            else:
                assert a is None, what


_X = np.zeros((2, 3, 5, 5), np.float32)
_XG = np.zeros((1, 4, 5, 5))
CASES = [
    # the backend selection (kernels/select.py) runs the depthwise kernel only for
    # (C_out, 1, kH, kW) weights with groups == C_in
    ("weight shape", lambda: K.depthwise_conv2d_forward(_X, np.zeros((3, 2, 3, 3), np.float32),
                                                        None, 1, 0, 1), None, None, None),
    ("C_out not a multiple of C_in", lambda: K.depthwise_conv2d_forward(
        _X, np.zeros((4, 1, 3, 3), np.float32), None, 1, 0, 1),
     lambda: F.conv2d(_t(_X), _t(np.zeros((4, 1, 3, 3), np.float32)), groups=3), RuntimeError,
     r"conv2d: given groups=3, weight of size \[4, 1, 3, 3\], .*\(and C_out=4 must be "
     r"divisible by groups\)"),
    ("dtypes", lambda: K.depthwise_conv2d_forward(_X, np.zeros((3, 1, 3, 3)), None, 1, 0, 1),
     lambda: F.conv2d(_t(_X), _t(np.zeros((3, 1, 3, 3))), groups=3), RuntimeError,
     r"conv2d: input and weight must have the same floating dtype, got float32 and float64"),
    ("backward grad_out shape", lambda: K.depthwise_conv2d_backward(
        np.zeros((2, 3, 4, 4), np.float32), _X, np.zeros((3, 1, 3, 3), np.float32), 1, 0, 1),
     None, None, None),
    # the grouped GEMM path of conv2d_forward
    ("grouped channels", lambda: K.conv2d_forward(_XG, np.zeros((3, 2, 3, 3)), None, 1, 0, 1, 3),
     lambda: F.conv2d(_t(_XG), _t(np.zeros((3, 2, 3, 3))), groups=3), RuntimeError,
     r"conv2d: given groups=3, weight of size \[3, 2, 3, 3\], expected input\[1, 4, 5, 5\] to "
     r"have 6 channels"),
    ("grouped C_out", lambda: K.conv2d_forward(_XG, np.zeros((3, 2, 3, 3)), None, 1, 0, 1, 2),
     lambda: F.conv2d(_t(_XG), _t(np.zeros((3, 2, 3, 3))), groups=2), RuntimeError,
     r"\(and C_out=3 must be divisible by groups\)"),
    ("groups 0", lambda: K.conv2d_forward(_XG, np.zeros((3, 4, 3, 3)), None, 1, 0, 1, 0),
     lambda: F.conv2d(_t(_XG), _t(np.zeros((3, 4, 3, 3))), groups=0), RuntimeError,
     r"conv2d: groups must be a positive integer, got 0"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_kernels_assert_and_the_op_raises(case):
    check_kernel_asserts_op_raises(case)


def test_depthwise_applicable():
    assert dw.depthwise_applicable((2, 3, 5, 5), (6, 1, 3, 3), 3)
    assert not dw.depthwise_applicable((2, 4, 5, 5), (4, 2, 3, 3), 2)


# ---- the grouped GEMM path ----------------------------------------------------------------------
@given(geo=geometry(), n=st.integers(1, 2), groups=st.integers(2, 3), cg=st.integers(1, 3),
       og=st.integers(1, 3), dtype=st.sampled_from(FLOATS), seed=st.integers(0, 2**16))
def test_grouped_gemm_kernel_matches_reference(geo, n, groups, cg, og, dtype, seed):
    k, s, pads, d, size = geo
    rng = np.random.default_rng(seed)
    x, w, b, g = _arrays(rng, n, groups * cg, groups * og, cg, k, size, pads, s, d, dtype)
    want, backward = ref_grouped(x, w, b, s, pads, d, groups)
    _close(K.conv2d_forward(x, w, b, s, pads, d, groups), want, dtype, "forward")
    gx, gw, gb = K.conv2d_backward(g, x, w, s, pads, d, groups=groups)
    rx, rw, rb = backward(g)
    _close(gx, rx, dtype, "grad_x")
    _close(gw, rw, dtype, "grad_weight")
    _close(gb, rb, dtype, "grad_bias")


# ---- the op: gradcheck (float64) and PyTorch ----------------------------------------------------
@given(k=st.integers(1, 3), s=st.integers(1, 2), p=st.integers(0, 1), d=st.integers(1, 2),
       mult=st.integers(1, 2), groups=st.sampled_from(["depthwise", 2]),
       use_bias=st.booleans(), seed=st.integers(0, 2**16))
def test_grouped_conv2d_gradcheck(k, s, p, d, mult, groups, use_bias, seed):
    rng = np.random.default_rng(seed)
    C = 4
    G = C if groups == "depthwise" else groups
    H = d * (k - 1) + 1 + rng.integers(0, 3)
    x = leaf(rng, (2, C, H, H + 1))
    w = leaf(rng, (G * mult, C // G, k, k))
    args = (leaf(rng, (G * mult,)),) if use_bias else ()
    check_grad(lambda x, w, *b: F.conv2d(x, w, b[0] if b else None, s, p, d, G), x, w, *args)


def test_depthwise_conv2d_same_padding_and_conv1d_gradcheck():
    rng = np.random.default_rng(3)
    x, w = leaf(rng, (2, 3, 5, 6)), leaf(rng, (6, 1, 2, 3))
    check_grad(lambda x, w: F.conv2d(x, w, None, 1, "same", 1, 3), x, w)
    x1, w1, b1 = leaf(rng, (2, 3, 7)), leaf(rng, (3, 1, 3)), leaf(rng, (3,))
    check_grad(lambda x, w, b: F.conv1d(x, w, b, 2, 1, 1, 3), x1, w1, b1)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("conf", [
    # C_in, C_out, kernel, stride, padding, dilation, groups
    (8, 8, 3, 1, 1, 1, 8),         # MobileNet's depthwise 3x3
    (8, 16, 3, 2, 1, 1, 8),        # channel multiplier 2, stride 2
    (6, 6, (5, 3), 1, "same", (2, 1), 6),
    (8, 4, 3, 1, 1, 1, 4),         # grouped: 2 input channels per group
    (6, 9, 1, 1, 0, 1, 3),         # grouped 1x1 (ShuffleNet-style)
])
def test_grouped_conv2d_matches_torch(torch, conf, dtype):
    c_in, c_out, k, s, p, d, g = conf
    rng = np.random.default_rng(0)
    kk = k if isinstance(k, tuple) else (k, k)
    x = rng.standard_normal((3, c_in, 11, 10))
    w = rng.standard_normal((c_out, c_in // g) + kk)
    b = rng.standard_normal(c_out)
    ts = [autograd.tensor(a.astype(dtype), requires_grad=True) for a in (x, w, b)]
    tt = [torch.tensor(a.astype(dtype), requires_grad=True) for a in (x, w, b)]
    out = F.conv2d(*ts, stride=s, padding=p, dilation=d, groups=g)
    ref = torch.nn.functional.conv2d(*tt, stride=s, padding=p, dilation=d, groups=g)
    tol = dict(rtol=1e-10, atol=1e-10) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
    assert out.dtype == dtype and tuple(out.shape) == tuple(ref.shape)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), **tol)
    gout = rng.standard_normal(out.shape).astype(dtype)
    out.backward(autograd.tensor(gout))
    ref.backward(torch.tensor(gout))
    for a, t in zip(ts, tt):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), **tol)


def test_depthwise_float16_runs_in_float32(torch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 6, 6)).astype(np.float16)
    w = rng.standard_normal((4, 1, 3, 3)).astype(np.float16)
    out = F.conv2d(autograd.tensor(x), autograd.tensor(w), padding=1, groups=4)
    ref = torch.nn.functional.conv2d(torch.tensor(x).float(), torch.tensor(w).float(),
                                     padding=1, groups=4).half()
    assert out.dtype == np.float16
    np.testing.assert_allclose(out.numpy().astype(np.float32), ref.numpy().astype(np.float32),
                               rtol=2e-3, atol=2e-3)


def test_depthwise_separable_training_matches_torch(torch):
    """nn.Conv2d(groups=C) + pointwise 1x1, three SGD steps from the same weights: the losses
    and the final weights follow torch's."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6, 9, 9)).astype(np.float32)
    y = rng.standard_normal((4, 12, 5, 5)).astype(np.float32)

    def build(lib_nn):
        return lib_nn.Sequential(lib_nn.Conv2d(6, 6, 3, stride=2, padding=1, groups=6),
                                 lib_nn.ReLU(), lib_nn.Conv2d(6, 12, 1))

    ours, theirs = build(nn), build(torch.nn)
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            q.copy_(torch.tensor(p.detach().numpy()))
    import optim
    opt_a = optim.SGD(ours.parameters(), lr=0.05)
    opt_b = torch.optim.SGD(theirs.parameters(), lr=0.05)
    for _ in range(3):
        la = ((ours(autograd.tensor(x)) - autograd.tensor(y)) ** 2).mean()
        lb = ((theirs(torch.tensor(x)) - torch.tensor(y)) ** 2).mean()
        np.testing.assert_allclose(la.item(), lb.item(), rtol=1e-5)
        opt_a.zero_grad()
        opt_b.zero_grad()
        la.backward()
        lb.backward()
        opt_a.step()
        opt_b.step()
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_grouped_conv2d_is_one_graph_node():
    """All groups run in one Conv2d node (no per-group chunk/cat nodes in the graph)."""
    x = autograd.randn(2, 4, 5, 5, requires_grad=True)
    for w in (autograd.randn(4, 1, 3, 3), autograd.randn(4, 2, 3, 3)):
        out = F.conv2d(x, w, groups=4 if w.shape[1] == 1 else 2)
        assert type(out.grad_fn).__name__.startswith("Conv2d")
        assert out.grad_fn.next_functions[0][0].variable is x
