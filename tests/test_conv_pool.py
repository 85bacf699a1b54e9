"""Tests of conv1d, conv_transpose2d, asymmetric ('same') padding, the poolings (max with
ceil_mode, max_pool1d, avg_pool1d/2d, adaptive avg/max), their nn modules, and
``autograd.set_num_threads``.

Kernels are checked against plain NumPy references written here (loops over windows,
scatter-adds over kernel taps), then the ops with float64 ``gradcheck`` over hypothesis-drawn
geometries, then values and gradients against PyTorch (the ``torch`` fixture skips cleanly
without it).
"""

import math
import warnings

import numpy as np
import pytest
from conftest import check_grad, leaf
from hypothesis import assume, given
from hypothesis import strategies as st

import autograd
import nn
import nn.functional as F
from kernels import conv as conv_module
from kernels import pool as pool_module

FLOATS = (np.float32, np.float64)


def _rng(seed):
    return np.random.default_rng(seed)


def assert_close(actual, expected, dtype, scale=1.0):
    if dtype == np.float64:
        np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-10 * scale)
    else:
        np.testing.assert_allclose(actual, expected, rtol=2e-5, atol=2e-5 * scale)


def check_kernel_asserts_op_raises(case):
    """One bad-argument case ``(name, kernel_call, op_call, error, match)``: the kernel entry
    point only asserts (``AssertionError``), and the public op given the same bad input
    raises ``error`` with a message matching ``match`` -- arguments are checked once, in the
    ops layer (kernels/__init__.py, "How to write a kernel"). ``op_call`` is ``None`` where no
    public op can pass such an argument (the internal contract of a backward, a helper no op
    calls); only the assert is checked then. Also used by the other kernel test files."""
    _, kernel_call, op_call, error, match = case
    with pytest.raises(AssertionError):
        kernel_call()
    if op_call is not None:
        with pytest.raises(error, match=match):
            op_call()


def _t(a):
    return autograd.tensor(np.asarray(a))


# ---------------------------------------------------------------------------
# NumPy references (float64)
# ---------------------------------------------------------------------------

def _tap_view(xp, i, j, H_out, W_out, stride, dilation):
    """xp[..., i*dH + oh*sH, j*dW + ow*sW] for all (oh, ow): the input seen by tap (i, j)
    (also the references of ``tests/test_kernels.py``)."""
    (sH, sW), (dH, dW) = stride, dilation
    return xp[:, :, i * dH: i * dH + sH * (H_out - 1) + 1: sH,
              j * dW: j * dW + sW * (W_out - 1) + 1: sW]


def ref_conv2d_padded(x, w, stride, pads, dilation):
    """Cross-correlation of x zero-padded by pads = ((top, bottom), (left, right)): a sum over
    the kernel taps of einsum products on strided views of the padded input (float64)."""
    x = np.pad(x.astype(np.float64), ((0, 0), (0, 0)) + tuple(pads))
    w = w.astype(np.float64)
    N, C, H, W = x.shape
    O, _, kH, kW = w.shape
    (sH, sW), (dH, dW) = stride, dilation
    H_out = (H - dH * (kH - 1) - 1) // sH + 1
    W_out = (W - dW * (kW - 1) - 1) // sW + 1
    out = np.zeros((N, O, H_out, W_out))
    for i in range(kH):
        for j in range(kW):
            patch = _tap_view(x, i, j, H_out, W_out, stride, dilation)
            out += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    return out


def ref_conv_transpose2d(x, w, b, stride, padding, output_padding, dilation):
    """Scatter every input pixel times the kernel onto a canvas, then crop ``padding``."""
    x = x.astype(np.float64)
    w = w.astype(np.float64)
    N, C_in, H, W = x.shape
    _, C_out, kH, kW = w.shape
    (sH, sW), (pH, pW), (oH, oW), (dH, dW) = stride, padding, output_padding, dilation
    canvas = np.zeros((N, C_out, (H - 1) * sH + dH * (kH - 1) + 1 + oH,
                       (W - 1) * sW + dW * (kW - 1) + 1 + oW))
    for i in range(kH):
        for j in range(kW):
            canvas[:, :, i * dH: i * dH + sH * (H - 1) + 1: sH,
                   j * dW: j * dW + sW * (W - 1) + 1: sW] += np.einsum(
                "nchw,co->nohw", x, w[:, :, i, j])
    H_out = (H - 1) * sH - 2 * pH + dH * (kH - 1) + oH + 1
    W_out = (W - 1) * sW - 2 * pW + dW * (kW - 1) + oW + 1
    out = canvas[:, :, pH: pH + H_out, pW: pW + W_out]
    if b is not None:
        out = out + b.astype(np.float64)[None, :, None, None]
    return out


def ref_conv_transpose2d_backward(g, x, w, stride, padding, dilation):
    """Gradients by the definition: grad_x and grad_w gather from g placed on the canvas."""
    g = g.astype(np.float64)
    x = x.astype(np.float64)
    w = w.astype(np.float64)
    N, C_in, H, W = x.shape
    _, C_out, kH, kW = w.shape
    (sH, sW), (pH, pW), (dH, dW) = stride, padding, dilation
    Hc = (H - 1) * sH + dH * (kH - 1) + 1
    Wc = (W - 1) * sW + dW * (kW - 1) + 1
    canvas = np.zeros((N, C_out, max(Hc, pH + g.shape[2]), max(Wc, pW + g.shape[3])))
    canvas[:, :, pH: pH + g.shape[2], pW: pW + g.shape[3]] = g
    gx = np.zeros(x.shape)
    gw = np.zeros(w.shape)
    for i in range(kH):
        for j in range(kW):
            tap = canvas[:, :, i * dH: i * dH + sH * (H - 1) + 1: sH,
                         j * dW: j * dW + sW * (W - 1) + 1: sW]
            gx += np.einsum("nohw,co->nchw", tap, w[:, :, i, j])
            gw[:, :, i, j] = np.einsum("nohw,nchw->co", tap, x)
    return gx, gw, g.sum(axis=(0, 2, 3))


def ref_pool_size(size, k, s, p, d, ceil_mode):
    num = size + 2 * p - d * (k - 1) - 1
    out = (math.ceil(num / s) if ceil_mode else num // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def ref_max_pool(x, k, s, p, d, ceil_mode):
    """PyTorch's rule: first maximum in row-major window order, a NaN wins; flat indices."""
    N, C, H, W = x.shape
    H_out = ref_pool_size(H, k[0], s[0], p[0], d[0], ceil_mode)
    W_out = ref_pool_size(W, k[1], s[1], p[1], d[1], ceil_mode)
    out = np.full((N, C, H_out, W_out), -np.inf, dtype=x.dtype)
    idx = np.full((N, C, H_out, W_out), -1, dtype=np.int64)
    for n in range(N):
        for c in range(C):
            for oh in range(H_out):
                for ow in range(W_out):
                    best = None
                    for i in range(k[0]):
                        for j in range(k[1]):
                            h = oh * s[0] - p[0] + i * d[0]
                            w = ow * s[1] - p[1] + j * d[1]
                            if 0 <= h < H and 0 <= w < W:
                                v = x[n, c, h, w]
                                if best is None or v > best or np.isnan(v):
                                    best = v
                                    idx[n, c, oh, ow] = h * W + w
                    if best is not None:
                        out[n, c, oh, ow] = best
    return out, idx


def _avg_windows(size, n_out, k, s, p, count_include_pad):
    """PyTorch's avg_pool2d bounds per output: (start, end, divisor share)."""
    out = []
    for o in range(n_out):
        start = o * s - p
        end = min(start + k, size + p)
        share = end - start
        start, end = max(start, 0), min(end, size)
        out.append((start, end, share if count_include_pad else end - start))
    return out


def ref_avg_pool(x, k, s, p, ceil_mode, count_include_pad, divisor_override):
    N, C, H, W = x.shape
    rows = _avg_windows(H, ref_pool_size(H, k[0], s[0], p[0], 1, ceil_mode), k[0], s[0], p[0],
                        count_include_pad)
    cols = _avg_windows(W, ref_pool_size(W, k[1], s[1], p[1], 1, ceil_mode), k[1], s[1], p[1],
                        count_include_pad)
    return _ref_window_mean(x.astype(np.float64), rows, cols, divisor_override)


def _ref_window_mean(x, rows, cols, divisor_override=None):
    out = np.zeros(x.shape[:2] + (len(rows), len(cols)))
    for oh, (h0, h1, ch) in enumerate(rows):
        for ow, (w0, w1, cw) in enumerate(cols):
            div = divisor_override or ch * cw
            out[:, :, oh, ow] = x[:, :, h0:h1, w0:w1].sum(axis=(2, 3)) / div
    return out


def _ref_window_mean_backward(g, x_shape, rows, cols, divisor_override=None):
    gx = np.zeros(x_shape)
    for oh, (h0, h1, ch) in enumerate(rows):
        for ow, (w0, w1, cw) in enumerate(cols):
            div = divisor_override or ch * cw
            gx[:, :, h0:h1, w0:w1] += g[:, :, oh, ow, None, None].astype(np.float64) / div
    return gx


def _adaptive_windows(size, n_out):
    out = []
    for o in range(n_out):
        start = math.floor(o * size / n_out)
        end = math.ceil((o + 1) * size / n_out)
        out.append((start, end, end - start))
    return out


def ref_adaptive_max(x, H_out, W_out):
    N, C, H, W = x.shape
    out = np.empty((N, C, H_out, W_out), x.dtype)
    idx = np.empty((N, C, H_out, W_out), np.int64)
    for oh, (h0, h1, _) in enumerate(_adaptive_windows(H, H_out)):
        for ow, (w0, w1, _) in enumerate(_adaptive_windows(W, W_out)):
            for n in range(N):
                for c in range(C):
                    best, at = None, -1
                    for h in range(h0, h1):
                        for w in range(w0, w1):
                            v = x[n, c, h, w]
                            if best is None or v > best or np.isnan(v):
                                best, at = v, h * W + w
                    out[n, c, oh, ow], idx[n, c, oh, ow] = best, at
    return out, idx


# ---------------------------------------------------------------------------
# strategies
# ---------------------------------------------------------------------------

@st.composite
def transpose_geometry(draw):
    """kernel, stride, padding, output_padding, dilation and an input (H, W) with a positive
    output size."""
    k, s, p, op, d, hw = [], [], [], [], [], []
    for _ in range(2):
        kk, ss, dd = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
        pp = draw(st.integers(0, 2))
        oo = draw(st.integers(0, max(ss, dd) - 1))
        size = draw(st.integers(1, 5))
        assume((size - 1) * ss - 2 * pp + dd * (kk - 1) + oo + 1 >= 1)
        k.append(kk), s.append(ss), p.append(pp), op.append(oo), d.append(dd), hw.append(size)
    return tuple(k), tuple(s), tuple(p), tuple(op), tuple(d), tuple(hw)


@st.composite
def pool_geometry(draw, dilation=True):
    """kernel, stride, padding (<= k/2), dilation and an input (H, W) the window fits."""
    k, s, p, d, hw = [], [], [], [], []
    for _ in range(2):
        kk = draw(st.integers(1, 3))
        ss = draw(st.integers(1, 3))
        dd = draw(st.integers(1, 2)) if dilation else 1
        pp = draw(st.integers(0, kk // 2))
        eff = dd * (kk - 1) + 1
        size = draw(st.integers(max(1, eff - 2 * pp), eff + 5))
        k.append(kk), s.append(ss), p.append(pp), d.append(dd), hw.append(size)
    return tuple(k), tuple(s), tuple(p), tuple(d), tuple(hw)


# ---------------------------------------------------------------------------
# kernels: transposed convolution and asymmetric padding
# ---------------------------------------------------------------------------

@given(geo=transpose_geometry(), n=st.integers(1, 2), c_in=st.integers(1, 3),
       c_out=st.integers(1, 3), dtype=st.sampled_from(FLOATS), use_bias=st.booleans(),
       seed=st.integers(0, 2**16))
def test_conv_transpose2d_kernel_matches_reference(geo, n, c_in, c_out, dtype, use_bias, seed):
    k, s, p, op, d, (H, W) = geo
    rng = _rng(seed)
    x = rng.standard_normal((n, c_in, H, W)).astype(dtype)
    w = rng.standard_normal((c_in, c_out) + k).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype) if use_bias else None
    out, x2 = conv_module.conv_transpose2d_forward(x, w, b, s, p, op, d)
    expected = ref_conv_transpose2d(x, w, b, s, p, op, d)
    assert out.shape == expected.shape and out.dtype == dtype
    assert out.shape[2:] == conv_module.conv_transpose2d_output_size(H, W, k, s, p, op, d)
    assert_close(out, expected, dtype, scale=c_in * k[0] * k[1])

    g = rng.standard_normal(out.shape).astype(dtype)
    gx, gw, gb = conv_module.conv_transpose2d_backward(g, x.shape, w, x2, s, p, op, d)
    rgx, rgw, rgb = ref_conv_transpose2d_backward(g, x, w, s, p, d)
    for got, ref in ((gx, rgx), (gw, rgw), (gb, rgb)):
        assert got.dtype == dtype and got.shape == ref.shape
    assert_close(gx, rgx, dtype, scale=c_out * k[0] * k[1])
    assert_close(gw, rgw, dtype, scale=g.size)
    assert_close(gb, rgb, dtype, scale=g.size)


def test_conv_transpose2d_is_adjoint_of_conv2d():
    # <conv2d(y, w), x> == <y, conv_transpose2d(x, w)> for the same weight and geometry
    rng = _rng(7)
    w = rng.standard_normal((3, 2, 3, 2))           # conv2d: 2 -> 3 channels
    y = rng.standard_normal((2, 2, 9, 8))
    conv = conv_module.conv2d_forward(y, w, None, (2, 3), (1, 0), (1, 2))
    x = rng.standard_normal(conv.shape)
    op = (9 - ((conv.shape[2] - 1) * 2 - 2 + 2 + 1), 8 - ((conv.shape[3] - 1) * 3 + 2 + 1))
    back, _ = conv_module.conv_transpose2d_forward(x, w, None, (2, 3), (1, 0), op, (1, 2))
    assert back.shape == y.shape
    assert abs(np.vdot(conv, x) - np.vdot(y, back)) < 1e-9 * abs(np.vdot(conv, x))


def test_conv_transpose2d_backward_need_flags():
    rng = _rng(1)
    x = rng.standard_normal((2, 3, 4, 4))
    w = rng.standard_normal((3, 2, 3, 3))
    out, x2 = conv_module.conv_transpose2d_forward(x, w, None, 2, 1, 1, 1)
    g = rng.standard_normal(out.shape)
    full = conv_module.conv_transpose2d_backward(g, x.shape, w, x2, 2, 1, 1, 1)
    only_x = conv_module.conv_transpose2d_backward(g, x.shape, w, None, 2, 1, 1, 1,
                                                   need_weight_grad=False, need_bias_grad=False)
    assert only_x[1] is None and only_x[2] is None
    np.testing.assert_array_equal(only_x[0], full[0])


_XT = np.zeros((2, 3, 4, 4))
_WT = np.zeros((3, 2, 3, 3))
_GT = np.zeros((2, 2, 8, 8))  # the output of _XT, _WT with stride 2, padding 1, output_padding 1
_X2T = np.zeros((3, 2 * 16))
TRANSPOSE_CASES = [
    ("channels", lambda: conv_module.conv_transpose2d_forward(_XT[:, :2], _WT, None, 1, 0, 0, 1),
     lambda: F.conv_transpose2d(_t(_XT[:, :2]), _t(_WT)), RuntimeError,
     r"conv_transpose2d: given groups=1, weight of size \[3, 2, 3, 3\], expected "
     r"input\[2, 2, 4, 4\] to have 3 channels"),
    ("output_padding", lambda: conv_module.conv_transpose2d_forward(_XT, _WT, None, 1, 0, 1, 1),
     lambda: F.conv_transpose2d(_t(_XT), _t(_WT), output_padding=1), RuntimeError,
     r"conv_transpose2d: output_padding must be non-negative and smaller than either stride "
     r"or dilation"),
    ("output size", lambda: conv_module.conv_transpose2d_forward(_XT[:, :, :1, :1], _WT, None,
                                                                 1, 2, 0, 1),
     lambda: F.conv_transpose2d(_t(_XT[:, :, :1, :1]), _t(_WT), padding=2), RuntimeError,
     r"conv_transpose2d: the output size \(-1, -1\) is not positive"),
    ("bias shape", lambda: conv_module.conv_transpose2d_forward(_XT, _WT, np.zeros(3), 1, 0, 0, 1),
     lambda: F.conv_transpose2d(_t(_XT), _t(_WT), _t(np.zeros(3))), RuntimeError,
     r"conv_transpose2d: bias must have shape \(2,\), got \(3,\)"),
    ("bias dtype", lambda: conv_module.conv_transpose2d_forward(
        _XT, _WT, np.zeros(2, np.float32), 1, 0, 0, 1),
     lambda: F.conv_transpose2d(_t(_XT), _t(_WT), _t(np.zeros(2, np.float32))), RuntimeError,
     r"conv_transpose2d: input type \(float64\) and bias type \(float32\) should be the same"),
    ("dtypes", lambda: conv_module.conv_transpose2d_forward(_XT.astype(np.float32), _WT, None, 1,
                                                            0, 0, 1),
     lambda: F.conv_transpose2d(_t(_XT.astype(np.float32)), _t(_WT)), RuntimeError,
     r"conv_transpose2d: input and weight must have the same floating dtype, got float32 and "
     r"float64"),
    ("backward grad_out shape", lambda: conv_module.conv_transpose2d_backward(
        _GT[:, :, 1:], _XT.shape, _WT, _X2T, 2, 1, 1, 1), None, None, None),
    ("backward x2 missing", lambda: conv_module.conv_transpose2d_backward(
        _GT, _XT.shape, _WT, None, 2, 1, 1, 1), None, None, None),
]


@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=[c[0] for c in TRANSPOSE_CASES])
def test_conv_transpose2d_kernel_asserts_and_the_op_raises(case):
    check_kernel_asserts_op_raises(case)


@given(kh=st.integers(1, 4), kw=st.integers(1, 4), pads=st.lists(st.integers(0, 2), min_size=4,
                                                                  max_size=4),
       stride=st.sampled_from([(1, 1), (2, 1), (1, 3)]), dtype=st.sampled_from(FLOATS),
       seed=st.integers(0, 2**16))
def test_conv2d_kernel_asymmetric_padding(kh, kw, pads, stride, dtype, seed):
    t, b, l, r = pads
    rng = _rng(seed)
    H, W = max(1, kh - t - b) + 2, max(1, kw - l - r) + 1
    x = rng.standard_normal((2, 2, H, W)).astype(dtype)
    w = rng.standard_normal((3, 2, kh, kw)).astype(dtype)
    out = conv_module.conv2d_forward(x, w, None, stride, ((t, b), (l, r)), 1)
    expected = ref_conv2d_padded(x, w, stride, ((t, b), (l, r)), (1, 1))
    assert out.shape == expected.shape
    assert_close(out, expected, dtype, scale=2 * kh * kw)
    # the gradient is the adjoint: <conv(x), g> == <x, grad_x(g)>, <conv(x), g> == <w, grad_w>
    g = rng.standard_normal(out.shape)
    gx, gw, _ = conv_module.conv2d_backward(g.astype(dtype), x, w, stride,
                                            ((t, b), (l, r)), 1)
    lhs = np.vdot(expected, g)
    tol = 1e-8 if dtype == np.float64 else 1e-3
    assert abs(lhs - np.vdot(x.astype(np.float64), gx)) <= tol * (1 + abs(lhs)) * g.size
    assert abs(lhs - np.vdot(w.astype(np.float64), gw)) <= tol * (1 + abs(lhs)) * g.size


_XP = np.zeros((1, 1, 4, 4))
_WP = np.zeros((1, 1, 3, 3))
PADDING_CASES = [
    ("negative", lambda: conv_module.conv2d_forward(_XP, _WP, None, 1, ((0, -1), (0, 0)), 1),
     lambda: F.conv2d(_t(_XP), _t(_WP), padding=(0, -1)), RuntimeError,
     r"conv2d: negative padding is not supported, got \(0, -1\)"),
    ("three ints", lambda: conv_module.conv2d_forward(_XP, _WP, None, 1, ((0, 1, 2), (0, 0)), 1),
     lambda: F.conv2d(_t(_XP), _t(_WP), padding=(0, 1, 2)), ValueError,
     r"conv2d: padding must be an int or a tuple of 2 ints, got \(0, 1, 2\)"),
    # 'same' with an even kernel pads one more at the right: ((0, 0), (0, 1)) here, and an
    # input of width 0 is still too narrow for the kernel
    ("asymmetric does not fit", lambda: conv_module.conv2d_forward(
        _XP[:, :, :2, :0], _WP[:, :, :1, :2], None, 1, ((0, 0), (0, 1)), 1),
     lambda: F.conv2d(_t(_XP[:, :, :2, :0]), _t(_WP[:, :, :1, :2]), padding="same"),
     RuntimeError, r"conv2d: kernel size \(1x2, dilation \(1, 1\)\) can't be greater than the "
     r"padded input size \(2x1\); input shape \(1, 1, 2, 0\), padding \(\(0, 0\), \(0, 1\)\)"),
]


@pytest.mark.parametrize("case", PADDING_CASES, ids=[c[0] for c in PADDING_CASES])
def test_conv2d_padding_kernel_asserts_and_the_op_raises(case):
    check_kernel_asserts_op_raises(case)


# ---------------------------------------------------------------------------
# kernels: pooling
# ---------------------------------------------------------------------------

@given(geo=pool_geometry(), n=st.integers(1, 2), c=st.integers(1, 2),
       dtype=st.sampled_from(FLOATS), seed=st.integers(0, 2**16), ties=st.booleans())
def test_max_pool_ceil_mode_matches_reference(geo, n, c, dtype, seed, ties):
    k, s, p, d, (H, W) = geo
    rng = _rng(seed)
    x = (rng.integers(-2, 3, size=(n, c, H, W)) if ties
         else rng.standard_normal((n, c, H, W))).astype(dtype)
    out, idx = pool_module.max_pool2d_forward(x, k, s, p, d, ceil_mode=True)
    rout, ridx = ref_max_pool(x, k, s, p, d, True)
    assert out.shape == rout.shape and out.dtype == dtype
    np.testing.assert_array_equal(out, rout)
    np.testing.assert_array_equal(idx, ridx)
    assert out.shape[2:] == pool_module.pool2d_output_size(H, W, k, s, p, d, True)


@given(geo=pool_geometry(dilation=False), n=st.integers(1, 2), c=st.integers(1, 2),
       ceil_mode=st.booleans(), count_include_pad=st.booleans(),
       divisor=st.sampled_from([None, 1, 3, -2]), dtype=st.sampled_from(FLOATS),
       seed=st.integers(0, 2**16))
def test_avg_pool_matches_reference(geo, n, c, ceil_mode, count_include_pad, divisor, dtype,
                                    seed):
    k, s, p, _, (H, W) = geo
    rng = _rng(seed)
    x = rng.standard_normal((n, c, H, W)).astype(dtype)
    out = pool_module.avg_pool2d_forward(x, k, s, p, ceil_mode, count_include_pad, divisor)
    expected = ref_avg_pool(x, k, s, p, ceil_mode, count_include_pad, divisor)
    assert out.shape == expected.shape and out.dtype == dtype
    assert_close(out, expected, dtype)
    g = rng.standard_normal(out.shape).astype(dtype)
    gx = pool_module.avg_pool2d_backward(g, x.shape, k, s, p, ceil_mode, count_include_pad,
                                         divisor)
    rows = _avg_windows(H, out.shape[2], k[0], s[0], p[0], count_include_pad)
    cols = _avg_windows(W, out.shape[3], k[1], s[1], p[1], count_include_pad)
    assert gx.dtype == dtype and gx.shape == x.shape
    assert_close(gx, _ref_window_mean_backward(g, x.shape, rows, cols, divisor), dtype, 4.0)


@given(H=st.integers(1, 9), W=st.integers(1, 9), h_out=st.integers(1, 6),
       w_out=st.one_of(st.none(), st.integers(1, 6)), dtype=st.sampled_from(FLOATS),
       seed=st.integers(0, 2**16), ties=st.booleans())
def test_adaptive_pools_match_reference(H, W, h_out, w_out, dtype, seed, ties):
    rng = _rng(seed)
    x = (rng.integers(-2, 3, size=(2, 3, H, W)) if ties
         else rng.standard_normal((2, 3, H, W))).astype(dtype)
    out = pool_module.adaptive_avg_pool2d_forward(x, (h_out, w_out))
    wo = W if w_out is None else w_out
    rows, cols = _adaptive_windows(H, h_out), _adaptive_windows(W, wo)
    assert out.shape == (2, 3, h_out, wo) and out.dtype == dtype
    assert_close(out, _ref_window_mean(x.astype(np.float64), rows, cols), dtype)
    g = rng.standard_normal(out.shape).astype(dtype)
    gx = pool_module.adaptive_avg_pool2d_backward(g, x.shape)
    assert_close(gx, _ref_window_mean_backward(g, x.shape, rows, cols), dtype, 4.0)

    m, idx = pool_module.adaptive_max_pool2d_forward(x, (h_out, w_out))
    rm, ridx = ref_adaptive_max(x, h_out, wo)
    np.testing.assert_array_equal(m, rm)
    np.testing.assert_array_equal(idx, ridx)


_XQ = np.zeros((2, 3, 5, 5))
POOL_CASES = [
    ("avg rank", lambda: pool_module.avg_pool2d_forward(_XQ[0], 2, 2, 0),
     lambda: F.avg_pool2d(_t(_XQ[0, 0]), 2), RuntimeError,
     r"avg_pool2d: expected 3-D \(C, H, W\) or 4-D \(N, C, H, W\) input, got shape \(5, 5\)"),
    ("avg padding", lambda: pool_module.avg_pool2d_forward(_XQ, 2, 2, 2),
     lambda: F.avg_pool2d(_t(_XQ), 2, 2, 2), RuntimeError,
     r"avg_pool2d: pad should be at most half of effective kernel size, but got pad=\(2, 2\)"),
    ("divisor 0", lambda: pool_module.avg_pool2d_forward(_XQ, 2, 2, 0, divisor_override=0),
     lambda: F.avg_pool2d(_t(_XQ), 2, divisor_override=0), RuntimeError,
     r"avg_pool2d: divisor must be a non-zero int, got 0"),
    ("divisor float", lambda: pool_module.avg_pool2d_forward(_XQ, 2, 2, 0, divisor_override=1.5),
     lambda: F.avg_pool2d(_t(_XQ), 2, divisor_override=1.5), RuntimeError,
     r"avg_pool2d: divisor must be a non-zero int, got 1.5"),
    ("avg backward grad_out shape", lambda: pool_module.avg_pool2d_backward(
        np.zeros((2, 3, 3, 3)), _XQ.shape, 2, 2, 0), None, None, None),
    ("adaptive size 0", lambda: pool_module.adaptive_avg_pool2d_forward(_XQ, (0, 2)),
     lambda: F.adaptive_avg_pool2d(_t(_XQ), (0, 2)), RuntimeError,
     r"adaptive_avg_pool2d: output_size must be positive, got \(0, 2\)"),
    ("adaptive size of 3", lambda: pool_module.adaptive_max_pool2d_forward(_XQ, (1, 2, 3)),
     lambda: F.adaptive_max_pool2d(_t(_XQ), (1, 2, 3)), TypeError,
     r"adaptive_max_pool2d: output_size must be an int or a tuple of 2 ints or None, got "
     r"\(1, 2, 3\)"),
    ("adaptive empty", lambda: pool_module.adaptive_avg_pool2d_forward(_XQ[:, :, :0], 2),
     lambda: F.adaptive_avg_pool2d(_t(_XQ[:, :, :0]), 2), RuntimeError,
     r"adaptive_avg_pool2d: expected non-empty spatial dims, got input of shape "
     r"\(2, 3, 0, 5\)"),
    ("adaptive int", lambda: pool_module.adaptive_avg_pool2d_forward(_XQ.astype(np.int32), 2),
     lambda: F.adaptive_avg_pool2d(_t(_XQ.astype(np.int32)), 2), NotImplementedError,
     r"adaptive_avg_pool2d: not implemented for dtype int32"),
]


@pytest.mark.parametrize("case", POOL_CASES, ids=[c[0] for c in POOL_CASES])
def test_pool_kernels_assert_and_the_ops_raise(case):
    check_kernel_asserts_op_raises(case)


def test_avg_pool_loop_takes_read_only_arrays():
    """One loop serves the average pooling and its adjoint and writes only its ``dst``: a
    read-only input (forward) and a read-only output gradient (backward) are accepted."""
    x = _rng(5).standard_normal((2, 3, 6, 6))
    x.setflags(write=False)
    for forward, backward, args in (
            (pool_module.avg_pool2d_forward, pool_module.avg_pool2d_backward, (2, 2, 0)),
            (pool_module.adaptive_avg_pool2d_forward, pool_module.adaptive_avg_pool2d_backward,
             ())):
        out = forward(x, *args) if args else forward(x, 3)
        np.testing.assert_allclose(out, x.reshape(2, 3, 3, 2, 3, 2).mean(axis=(3, 5)))
        g = np.ones(out.shape)
        g.setflags(write=False)
        gx = backward(g, x.shape, *args)
        np.testing.assert_allclose(gx, np.full(x.shape, 0.25))


@pytest.mark.parametrize("dtype", FLOATS)
def test_new_pool_loops_parallel_equals_serial(dtype):
    rng = _rng(11)
    x = rng.integers(-3, 4, size=(3, 5, 9, 11)).astype(dtype)  # ties for the max
    for rows, cols in ((pool_module._avg_table(5, 9, 3, 2, 1, True),
                        pool_module._avg_table(6, 11, 3, 2, 1, False)),
                       (pool_module.adaptive_pool_windows(9, 4),
                        pool_module.adaptive_pool_windows(11, 7))):
        shape = x.shape[:2] + (rows.shape[0], cols.shape[0])
        for div, use in ((1.0, False), (3.0, True)):
            a, b = np.full(shape, np.nan, dtype), np.full(shape, np.nan, dtype)
            pool_module._avg_parallel(x, a, rows, cols, div, use, False)
            pool_module._avg_serial(x, b, rows, cols, div, use, False)
            np.testing.assert_array_equal(a, b)
            g = rng.standard_normal(shape).astype(dtype)
            ga, gb = np.full(x.shape, np.nan, dtype), np.full(x.shape, np.nan, dtype)
            pool_module._avg_parallel(g, ga, rows, cols, div, use, True)  # the adjoint
            pool_module._avg_serial(g, gb, rows, cols, div, use, True)
            np.testing.assert_array_equal(ga, gb)
            # the overlapping windows really accumulate (windows overlap in both tables)
            ref = _ref_window_mean_backward(g, x.shape, [tuple(r) for r in rows],
                                            [tuple(c) for c in cols], div if use else None)
            np.testing.assert_allclose(ga, ref, rtol=1e-5, atol=1e-5)
        ma, mb = np.empty(shape, dtype), np.empty(shape, dtype)
        ia, ib = np.empty(shape, np.int64), np.empty(shape, np.int64)
        pool_module._window_max_parallel(x, ma, ia, rows, cols)
        pool_module._window_max_serial(x, mb, ib, rows, cols)
        np.testing.assert_array_equal(ma, mb)
        np.testing.assert_array_equal(ia, ib)


# ---------------------------------------------------------------------------
# ops: gradcheck (float64, hypothesis-drawn geometry)
# ---------------------------------------------------------------------------

@given(geo=transpose_geometry(), groups=st.sampled_from([1, 2]), use_bias=st.booleans(),
       seed=st.integers(0, 2**16))
def test_conv_transpose2d_gradcheck(geo, groups, use_bias, seed):
    k, s, p, op, d, (H, W) = geo
    rng = _rng(seed)
    x = leaf(rng, (1, 2, H, W))
    w = leaf(rng, (2, 2 // groups) + k)
    c_out = w.shape[1] * groups
    args = [x, w] + ([leaf(rng, (c_out,))] if use_bias else [])
    check_grad(lambda x, w, *b: F.conv_transpose2d(x, w, b[0] if b else None, s, p, op, groups,
                                                   d), *args)


@given(k=st.integers(1, 3), s=st.integers(1, 2), p=st.sampled_from([0, 1, "same", "valid"]),
       d=st.integers(1, 2), L=st.integers(3, 7), groups=st.sampled_from([1, 2]),
       seed=st.integers(0, 2**16))
def test_conv1d_gradcheck(k, s, p, d, L, groups, seed):
    if p == "same":
        s = 1
    rng = _rng(seed)
    assume(L + 2 * (p if isinstance(p, int) else 0) >= d * (k - 1) + 1 or p == "same")
    x, w, b = leaf(rng, (2, 2, L)), leaf(rng, (4, 2 // groups, k)), leaf(rng, (4,))
    check_grad(lambda x, w, b: F.conv1d(x, w, b, s, p, d, groups), x, w, b)


@given(kh=st.integers(1, 4), kw=st.integers(1, 4), d=st.integers(1, 2), seed=st.integers(0, 99))
def test_conv2d_same_padding_gradcheck_and_shape(kh, kw, d, seed):
    rng = _rng(seed)
    x, w = leaf(rng, (1, 2, 5, 4)), leaf(rng, (2, 2, kh, kw))
    out = F.conv2d(x, w, padding="same", dilation=d)
    assert out.shape == (1, 2, 5, 4)
    check_grad(lambda x, w: F.conv2d(x, w, padding="same", dilation=d), x, w)


@given(geo=pool_geometry(dilation=False), ceil_mode=st.booleans(),
       count_include_pad=st.booleans(), divisor=st.sampled_from([None, 2]),
       seed=st.integers(0, 2**16))
def test_avg_pool2d_gradcheck_and_gradgradcheck(geo, ceil_mode, count_include_pad, divisor,
                                                seed):
    k, s, p, _, (H, W) = geo
    x = leaf(_rng(seed), (1, 2, H, W))
    check_grad(lambda x: F.avg_pool2d(x, k, s, p, ceil_mode, count_include_pad, divisor), x,
               gradgrad=True)


@given(H=st.integers(1, 6), W=st.integers(1, 6), size=st.tuples(
    st.integers(1, 4), st.one_of(st.none(), st.integers(1, 4))), seed=st.integers(0, 2**16))
def test_adaptive_pools_gradcheck(H, W, size, seed):
    rng = _rng(seed)
    x = leaf(rng, (2, 2, H, W), "distinct")
    check_grad(lambda x: F.adaptive_avg_pool2d(x, size), x, gradgrad=True)
    check_grad(lambda x: F.adaptive_max_pool2d(x, size), x)


@given(k=st.integers(1, 3), s=st.integers(1, 3), d=st.integers(1, 2), L=st.integers(4, 8),
       ceil_mode=st.booleans(), seed=st.integers(0, 2**16))
def test_pool1d_and_ceil_mode_gradcheck(k, s, d, L, ceil_mode, seed):
    rng = _rng(seed)
    p = k // 2
    x = leaf(rng, (2, 2, L), "distinct")
    check_grad(lambda x: F.max_pool1d(x, k, s, p, d, ceil_mode), x)
    check_grad(lambda x: F.avg_pool1d(x, k, s, p, ceil_mode), x, gradgrad=True)
    x2 = leaf(rng, (1, 2, L, L - 1), "distinct")
    check_grad(lambda x: F.max_pool2d(x, k, s, p, d, ceil_mode), x2)


def test_kernel_ops_double_backward_raises_clearly():
    rng = _rng(5)
    x, w = leaf(rng, (1, 2, 3, 3)), leaf(rng, (2, 1, 2, 2))
    g, = autograd.grad(F.conv_transpose2d(x, w).sum(), w, create_graph=True)
    with pytest.raises(RuntimeError, match="conv_transpose2d: double backward is not "
                                           "implemented"):
        autograd.grad((g * g).sum(), x)
    x = leaf(rng, (1, 2, 4, 4), "distinct")
    g, = autograd.grad((F.adaptive_max_pool2d(x, 2) ** 2).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="adaptive_max_pool2d: double backward"):
        autograd.grad(g.sum(), x)


# ---------------------------------------------------------------------------
# ops against PyTorch (values, gradients, shapes, dtypes, indices)
# ---------------------------------------------------------------------------

def _compare_with_torch(torch, ours, theirs, arrays, dtype, seed, scale=1.0):
    """Run ``ours`` on tapegrad tensors and ``theirs`` on torch tensors made from the same
    arrays; compare outputs (and indices), then the gradients of a random projection."""
    ts = [autograd.Tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    tt = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    out, ref = ours(*ts), theirs(*tt)
    if isinstance(ref, tuple):
        (out, idx), (ref, ridx) = out, ref
        assert idx.dtype == np.int64
        np.testing.assert_array_equal(idx.numpy(), ridx.numpy())
    assert tuple(out.shape) == tuple(ref.shape) and out.dtype == dtype
    assert_close(out.detach().numpy(), ref.detach().numpy(), dtype, scale)
    g = _rng(seed).standard_normal(out.shape).astype(dtype)
    out.backward(autograd.Tensor(g))
    ref.backward(torch.tensor(g))
    for a, b in zip(ts, tt):
        assert a.grad.dtype == dtype
        assert_close(a.grad.numpy(), b.grad.numpy(), dtype, scale * max(1, g.size // 4))


@given(geo=transpose_geometry(), groups=st.sampled_from([1, 3]), dtype=st.sampled_from(FLOATS),
       seed=st.integers(0, 2**16))
def test_conv_transpose2d_matches_torch(torch, geo, groups, dtype, seed):
    k, s, p, op, d, (H, W) = geo
    rng = _rng(seed)
    x = rng.standard_normal((2, 3, H, W))
    w = rng.standard_normal((3, 2) + k)
    b = rng.standard_normal(2 * groups)
    _compare_with_torch(
        torch, lambda x, w, b: F.conv_transpose2d(x, w, b, s, p, op, groups, d),
        lambda x, w, b: torch.nn.functional.conv_transpose2d(x, w, b, s, p, op, groups, d),
        [x, w, b], dtype, seed, scale=9)


@given(k=st.integers(1, 4), s=st.integers(1, 2), p=st.sampled_from([0, 2, "same", "valid"]),
       d=st.integers(1, 2), L=st.integers(7, 10), groups=st.sampled_from([1, 2]),
       unbatched=st.booleans(), dtype=st.sampled_from(FLOATS), seed=st.integers(0, 2**16))
def test_conv1d_matches_torch(torch, k, s, p, d, L, groups, unbatched, dtype, seed):
    if p == "same":
        s = 1
    rng = _rng(seed)
    x = rng.standard_normal((4, L) if unbatched else (2, 4, L))
    w = rng.standard_normal((6, 4 // groups, k))
    b = rng.standard_normal(6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about 'same' with even kernels
        _compare_with_torch(torch, lambda x, w, b: F.conv1d(x, w, b, s, p, d, groups),
                            lambda x, w, b: torch.nn.functional.conv1d(x, w, b, s, p, d, groups),
                            [x, w, b], dtype, seed, scale=4 * k)


@pytest.mark.parametrize("kernel,dilation", [((2, 4), (1, 1)), ((3, 2), (2, 3)), ((4, 4), 2)])
@pytest.mark.parametrize("dtype", FLOATS)
def test_conv2d_same_even_kernel_matches_torch(torch, kernel, dilation, dtype):
    rng = _rng(3)
    x, w, b = (rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3) + kernel),
               rng.standard_normal(4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _compare_with_torch(
            torch, lambda x, w, b: F.conv2d(x, w, b, padding="same", dilation=dilation),
            lambda x, w, b: torch.nn.functional.conv2d(x, w, b, padding="same",
                                                       dilation=dilation),
            [x, w, b], dtype, 3, scale=48)


@given(geo=pool_geometry(), ceil_mode=st.booleans(), dtype=st.sampled_from(FLOATS),
       seed=st.integers(0, 2**16), ties=st.booleans())
def test_max_pools_match_torch(torch, geo, ceil_mode, dtype, seed, ties):
    k, s, p, d, (H, W) = geo
    rng = _rng(seed)
    x = (rng.integers(-2, 3, size=(2, 2, H, W)) if ties
         else rng.standard_normal((2, 2, H, W))).astype(np.float64)
    out, idx = pool_module.max_pool2d_forward(x, k, s, p, d, ceil_mode)
    assume(not np.any(idx < 0))  # a window entirely in the padding: torch's index differs
    TF = torch.nn.functional
    _compare_with_torch(
        torch, lambda x: F.max_pool2d(x, k, s, p, d, ceil_mode, return_indices=True),
        lambda x: TF.max_pool2d(x, k, s, p, d, ceil_mode, return_indices=True), [x], dtype, seed)
    row = x[:, :, 0]
    out1, idx1 = pool_module.max_pool2d_forward(row[:, :, None], (1, k[1]), (1, s[1]),
                                                (0, p[1]), (1, d[1]), ceil_mode)
    if not np.any(idx1 < 0):
        _compare_with_torch(
            torch, lambda x: F.max_pool1d(x, k[1], s[1], p[1], d[1], ceil_mode, True),
            lambda x: TF.max_pool1d(x, k[1], s[1], p[1], d[1], ceil_mode, True), [row], dtype,
            seed)


@given(geo=pool_geometry(dilation=False), ceil_mode=st.booleans(),
       count_include_pad=st.booleans(), divisor=st.sampled_from([None, 3]),
       unbatched=st.booleans(), dtype=st.sampled_from(FLOATS), seed=st.integers(0, 2**16))
def test_avg_pools_match_torch(torch, geo, ceil_mode, count_include_pad, divisor, unbatched,
                               dtype, seed):
    k, s, p, _, (H, W) = geo
    x = _rng(seed).standard_normal((2, H, W) if unbatched else (1, 2, H, W))
    TF = torch.nn.functional
    _compare_with_torch(
        torch, lambda x: F.avg_pool2d(x, k, s, p, ceil_mode, count_include_pad, divisor),
        lambda x: TF.avg_pool2d(x, k, s, p, ceil_mode, count_include_pad, divisor), [x], dtype,
        seed)
    row = x[..., 0, :]
    _compare_with_torch(
        torch, lambda x: F.avg_pool1d(x, k[1], s[1], p[1], ceil_mode, count_include_pad),
        lambda x: TF.avg_pool1d(x, k[1], s[1], p[1], ceil_mode, count_include_pad), [row], dtype,
        seed)


@given(H=st.integers(1, 9), W=st.integers(1, 9), size=st.one_of(
    st.integers(1, 5), st.tuples(st.one_of(st.none(), st.integers(1, 5)), st.integers(1, 5))),
       dtype=st.sampled_from(FLOATS), seed=st.integers(0, 2**16), ties=st.booleans())
def test_adaptive_pools_match_torch(torch, H, W, size, dtype, seed, ties):
    rng = _rng(seed)
    x = rng.integers(-2, 3, size=(2, 3, H, W)) if ties else rng.standard_normal((2, 3, H, W))
    TF = torch.nn.functional
    _compare_with_torch(torch, lambda x: F.adaptive_avg_pool2d(x, size),
                        lambda x: TF.adaptive_avg_pool2d(x, size), [x], dtype, seed)
    _compare_with_torch(torch, lambda x: F.adaptive_max_pool2d(x, size, True),
                        lambda x: TF.adaptive_max_pool2d(x, size, True), [x], dtype, seed)


# ---------------------------------------------------------------------------
# op-level errors
# ---------------------------------------------------------------------------

def test_op_errors_name_the_op_and_shapes():
    x = autograd.randn(2, 4, 6, 6)
    with pytest.raises(RuntimeError, match=r"conv_transpose2d: given groups=1, weight of size "
                                           r"\[3, 2, 3, 3\], expected input\[2, 4, 6, 6\] to "
                                           r"have 3 channels"):
        F.conv_transpose2d(x, autograd.randn(3, 2, 3, 3))
    with pytest.raises(RuntimeError, match=r"conv_transpose2d: output_padding must be"):
        F.conv_transpose2d(x, autograd.randn(4, 2, 3, 3), output_padding=1)
    with pytest.raises(RuntimeError, match=r"conv_transpose2d: non-positive stride"):
        F.conv_transpose2d(x, autograd.randn(4, 2, 3, 3), stride=0)
    with pytest.raises(ValueError, match=r"conv_transpose2d: padding must be an int"):
        F.conv_transpose2d(x, autograd.randn(4, 2, 3, 3), padding="same")
    with pytest.raises(RuntimeError, match=r"conv1d: expected 2-D \(C, L\) or 3-D \(N, C, L\) "
                                           r"input, got shape \(2, 4, 6, 6\)"):
        F.conv1d(x, autograd.randn(3, 4, 3))
    with pytest.raises(RuntimeError, match=r"conv1d: kernel size \(7, dilation \(1,\)\) can't "
                                           r"be greater than the padded input size \(6\)"):
        F.conv1d(x[:, :, 0], autograd.randn(3, 4, 7))
    with pytest.raises(RuntimeError, match=r"conv2d: padding='same' is not supported for "
                                           r"strided"):
        F.conv2d(x, autograd.randn(3, 4, 3, 3), stride=2, padding="same")
    with pytest.raises(RuntimeError, match=r"max_pool2d: pad should be at most half"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match=r"max_pool1d: output size is too small"):
        F.max_pool1d(x[:, :, 0, :2], 3)
    with pytest.raises(RuntimeError, match=r"avg_pool2d: divisor must be a non-zero int"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(RuntimeError, match=r"avg_pool2d: expected 3-D \(C, H, W\) or 4-D"):
        F.avg_pool2d(x[0, 0], 2)
    with pytest.raises(TypeError, match=r"adaptive_avg_pool2d: output_size must be"):
        F.adaptive_avg_pool2d(x, "big")
    with pytest.raises(RuntimeError, match=r"adaptive_max_pool2d: output_size must be positive"):
        F.adaptive_max_pool2d(x, (0, 1))


# ---------------------------------------------------------------------------
# nn modules
# ---------------------------------------------------------------------------

MODULE_CASES = [
    ("Conv1d", (16, 33, 3), {"stride": 2}),
    ("Conv1d", (4, 6, 3), {"padding": 1, "dilation": 2, "groups": 2, "bias": False}),
    ("Conv1d", (4, 6, 4), {"padding": "same"}),
    ("Conv2d", (4, 6, 2), {"padding": "same", "dilation": (1, 2)}),
    ("ConvTranspose2d", (16, 33, 3), {"stride": 2}),
    ("ConvTranspose2d", (4, 6, (3, 2)), {"stride": 2, "padding": 1, "output_padding": 1,
                                         "groups": 2, "bias": False}),
    ("MaxPool1d", (3,), {}),
    ("MaxPool1d", (3, 2, 1, 2, True, True), {}),
    ("AvgPool1d", (3,), {}),
    ("AvgPool1d", (3, 2, 1, True, False), {}),
    ("AvgPool2d", (3,), {}),
    ("AvgPool2d", ((3, 2), 1, 1, True, False, 3), {}),
    ("AdaptiveAvgPool2d", ((5, None),), {}),
    ("AdaptiveAvgPool2d", (5,), {}),
    ("AdaptiveMaxPool2d", ((5, 7), True), {}),
]


@pytest.mark.parametrize("name,args,kwargs", MODULE_CASES)
def test_module_repr_and_parameters_match_torch(torch, name, args, kwargs):
    ours = getattr(nn, name)(*args, **kwargs)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    ref = {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == ref


def test_conv_module_init_bounds_follow_fan_in():
    autograd.manual_seed(0)
    m = nn.ConvTranspose2d(64, 8, 3, groups=2)  # fan_in = weight.shape[1] * 9 = 36
    bound = 1 / math.sqrt(4 * 9)
    for t in (m.weight, m.bias):
        a = np.abs(t._data)
        assert a.max() <= bound and a.max() > 0.8 * bound
    m = nn.Conv1d(8, 4, 5)  # fan_in = 8 * 5
    assert np.abs(m.weight._data).max() <= 1 / math.sqrt(40)
    assert m.weight.dtype == np.float32


@pytest.mark.parametrize("dtype", FLOATS)
def test_modules_forward_match_torch(torch, dtype):
    rng = _rng(9)
    x1 = rng.standard_normal((2, 4, 11)).astype(dtype)
    x2 = rng.standard_normal((2, 4, 9, 10)).astype(dtype)
    pairs = [(nn.Conv1d(4, 6, 3, stride=2, padding=1), torch.nn.Conv1d(4, 6, 3, 2, 1), x1),
             (nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1),
              torch.nn.ConvTranspose2d(4, 3, 3, 2, 1, 1), x2),
             (nn.MaxPool1d(3, 2, ceil_mode=True), torch.nn.MaxPool1d(3, 2, ceil_mode=True), x1),
             (nn.AvgPool2d(3, 2, 1), torch.nn.AvgPool2d(3, 2, 1), x2),
             (nn.AdaptiveAvgPool2d((2, None)), torch.nn.AdaptiveAvgPool2d((2, None)), x2),
             (nn.AdaptiveMaxPool2d(3), torch.nn.AdaptiveMaxPool2d(3), x2)]
    for ours, theirs, x in pairs:
        if dtype == np.float64:
            ours, theirs = ours.double(), theirs.double()
        ours.load_state_dict({k: autograd.Tensor(v.detach().numpy().astype(dtype))
                              for k, v in theirs.state_dict().items()})
        out = ours(autograd.Tensor(x))
        ref = theirs(torch.tensor(x)).detach().numpy()
        assert out.dtype == dtype
        assert_close(out.detach().numpy(), ref, dtype, scale=36)


def test_conv_transpose2d_output_size_argument(torch):
    up = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    x = autograd.randn(1, 2, 5, 5)
    assert up(x).shape == (1, 3, 9, 9)
    assert up(x, output_size=(10, 9)).shape == (1, 3, 10, 9)
    assert up(x, output_size=[1, 3, 10, 10]).shape == (1, 3, 10, 10)
    with pytest.raises(ValueError, match=r"ConvTranspose2d: requested an output size of "
                                         r"\(11, 9\), but valid sizes range from \(9\) to \(10\)"):
        up(x, output_size=(11, 9))
    t = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    assert tuple(t(torch.randn(1, 2, 5, 5), output_size=(10, 9)).shape) == (1, 3, 10, 9)


def test_module_argument_errors():
    with pytest.raises(ValueError, match="ConvTranspose2d: invalid padding string 'same'"):
        nn.ConvTranspose2d(2, 2, 3, padding="same")
    with pytest.raises(ValueError, match="Conv1d: padding='same' is not supported for strided"):
        nn.Conv1d(2, 2, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="ConvTranspose2d: out_channels must be divisible"):
        nn.ConvTranspose2d(4, 3, 3, groups=2)


# ---------------------------------------------------------------------------
# threads
# ---------------------------------------------------------------------------

def test_set_num_threads_sets_numba_and_blas_together():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    import numba
    before = autograd.get_num_threads()
    assert before >= 1
    try:
        autograd.set_num_threads(1)
        assert autograd.get_num_threads() == 1
        assert numba.get_num_threads() == 1
        blas = [p["num_threads"] for p in threadpoolctl.threadpool_info()
                if p["user_api"] == "blas"]
        assert blas and all(n == 1 for n in blas)
        top = numba.config.NUMBA_NUM_THREADS
        with pytest.warns(RuntimeWarning, match="Numba's thread pool has"):
            autograd.set_num_threads(top + 1)
        assert autograd.get_num_threads() == numba.get_num_threads() == top
        with pytest.raises(ValueError, match="set_num_threads: expected a positive number"):
            autograd.set_num_threads(0)
        with pytest.raises(TypeError, match="set_num_threads: expected an int"):
            autograd.set_num_threads(2.0)
    finally:
        autograd.set_num_threads(before)
    assert autograd.get_num_threads() == before


def test_benchmark_threads_go_through_set_num_threads(monkeypatch):
    from benchmarks import runner
    calls = []
    monkeypatch.setattr(autograd, "set_num_threads", lambda n: calls.append(n))
    monkeypatch.setattr(autograd, "get_num_threads", lambda: 7)
    assert runner.configure_threads(1) == []
    runner.restore_threads()
    assert calls == [1, 7]


# ---- empty batch and dtypes ---------------------------------------------------------------------
def test_conv_transpose2d_backward_of_an_empty_batch():
    """N = 0: the bias-gradient reshape used -1, which NumPy cannot resolve for a size-0 array
    (a raw ``cannot reshape array of size 0``); PyTorch gives zero gradients."""
    w = np.random.default_rng(0).standard_normal((3, 2, 3, 3))
    x = np.zeros((0, 3, 4, 4))
    out, x2 = conv_module.conv_transpose2d_forward(x, w, np.zeros(2), 2, 0, 0, 1)
    assert out.shape == (0, 2, 9, 9)
    gx, gw, gb = conv_module.conv_transpose2d_backward(np.zeros(out.shape), x.shape, w, x2, 2,
                                                       0, 0, 1)
    assert gx.shape == x.shape and gw.shape == w.shape and gb.shape == (2,)
    assert not gw.any() and not gb.any()
    m = nn.ConvTranspose2d(3, 2, 3, stride=2)
    xt = autograd.zeros(0, 3, 4, 4, requires_grad=True)
    m(xt).sum().backward()
    assert xt.grad.shape == (0, 3, 4, 4)
    assert not m.weight.grad._data.any() and not m.bias.grad._data.any()


@pytest.mark.parametrize("layer", [nn.Conv2d(3, 4, 3), nn.Conv1d(3, 4, 3), nn.MaxPool2d(2),
                                   nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(2),
                                   nn.AdaptiveMaxPool2d(2), nn.MaxPool1d(2), nn.AvgPool1d(2),
                                   nn.ConvTranspose2d(3, 2, 2)])
def test_float16_runs_in_float32_and_rounds_back(layer):
    """PyTorch's CPU convolutions and pools take float16; here they run the float32 kernels
    and round the result (and the gradients) back to float16."""
    rng = np.random.default_rng(1)
    nd = 1 if "1d" in type(layer).__name__ else 2
    x = rng.standard_normal((2, 3) + (6,) * nd)
    ref = layer(autograd.tensor(x.astype(np.float32).astype(np.float16).astype(np.float32)))
    half = layer.to(autograd.float16)
    xt = autograd.tensor(x.astype(np.float16), requires_grad=True)
    out = half(xt)
    assert out.dtype == np.float16
    np.testing.assert_allclose(out._data.astype(np.float32), ref._data, rtol=2e-2, atol=2e-2)
    out.sum().backward()
    assert xt.grad.dtype == np.float16 and xt.grad.shape == xt.shape
    for p in half.parameters():
        assert p.grad.dtype == np.float16
    layer.to(autograd.float32)


def test_integer_pools_are_pytorchs():
    """max_pool2d takes integers (the maxima gathered from the input: exact), avg_pool2d
    int64 (truncated averages), max_pool1d, the adaptive pools and bool raise PyTorch's
    NotImplementedError naming the op and dtype."""
    x = np.array([[[[1, 2, -3, 7], [4, 4, -9, 2], [2 ** 40 + 1, 1, 1, 0], [2 ** 40, 5, 3, 3]]]],
                 dtype=np.int64)
    out = F.max_pool2d(autograd.tensor(x), 2)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out._data, [[[[4, 7], [2 ** 40 + 1, 3]]]])
    for dt in (np.int32, np.uint8):
        small = np.abs(x[..., :2, :]).astype(dt)
        np.testing.assert_array_equal(F.max_pool2d(autograd.tensor(small), 2)._data,
                                      [[[[4, 9]]]])
    avg = F.avg_pool2d(autograd.tensor(x[..., :2, :]), 2)
    np.testing.assert_array_equal(avg._data, [[[[2, -0]]]])   # 11 / 4 -> 2, -3 / 4 -> 0
    np.testing.assert_array_equal(F.avg_pool2d(autograd.tensor(-x[..., :2, :2]), 2)._data,
                                  [[[[-2]]]])                  # -2.75 -> -2, not -3
    for fn, arr in ((F.max_pool1d, x[0].astype(np.float64).astype(np.int64)),
                    (F.max_pool2d, x > 2), (F.avg_pool2d, x.astype(np.int32)),
                    (F.adaptive_avg_pool2d, x), (F.adaptive_max_pool2d, x)):
        with pytest.raises(NotImplementedError, match=fn.__name__ + r".*(int|bool)"):
            fn(autograd.tensor(arr), 2)
