"""Tests of the Numba kernels (kernels/conv.py, kernels/pool.py).

Every kernel is checked against a plain NumPy reference written here, independently of the
kernel code: convolution as a sum over kernel taps of einsum products on strided views of the
zero-padded input, max pooling as explicit Python loops over windows. Where torch is
importable, the kernels are also compared with torch.nn.functional.
"""

import numpy as np
import pytest
from conftest import import_torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nn.functional as F
from kernels import (
    col2im,
    conv2d_backward,
    conv2d_forward,
    conv2d_output_size,
    im2col,
    max_pool2d_backward,
    max_pool2d_forward,
)
from kernels import conv as conv_module
from kernels import pool as pool_module
from test_conv_pool import _t, _tap_view, check_kernel_asserts_op_raises, ref_conv2d_padded
from test_conv_pool import ref_max_pool as ref_max_pool_modes

FLOATS = (np.float32, np.float64)
HYP = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------
# NumPy references (float64 internally)
# ---------------------------------------------------------------------------

def ref_out_size(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def ref_conv2d(x, w, b, stride, padding, dilation):
    """conv2d with the symmetric padding (pH, pW): test_conv_pool's padded reference plus
    the bias."""
    (pH, pW) = padding
    out = ref_conv2d_padded(x, w, stride, ((pH, pH), (pW, pW)), dilation)
    if b is not None:
        out += b.astype(np.float64)[None, :, None, None]
    return out


def ref_conv2d_backward(g, x, w, stride, padding, dilation):
    """Gradients of :func:`ref_conv2d` by the definition: per tap (i, j), grad_w is the
    einsum of g with the tap's view of the padded input, and g times w[:, :, i, j] is added
    into the same view of a padded zero gradient (float64)."""
    g = g.astype(np.float64)
    x = x.astype(np.float64)
    w = w.astype(np.float64)
    N, C, H, W = x.shape
    _, _, kH, kW = w.shape
    (pH, pW) = padding
    H_out, W_out = g.shape[2], g.shape[3]
    xp = np.pad(x, ((0, 0), (0, 0), (pH, pH), (pW, pW)))
    gxp = np.zeros_like(xp)
    gw = np.zeros(w.shape)
    for i in range(kH):
        for j in range(kW):
            patch = _tap_view(xp, i, j, H_out, W_out, stride, dilation)
            gw[:, :, i, j] = np.einsum("nohw,nchw->oc", g, patch)
            _tap_view(gxp, i, j, H_out, W_out, stride, dilation)[...] += np.einsum(
                "nohw,oc->nchw", g, w[:, :, i, j])
    gx = gxp[:, :, pH:pH + H, pW:pW + W]
    return gx, gw, g.sum(axis=(0, 2, 3))


def ref_im2col(x, k, s, p, d):
    N, C, H, W = x.shape
    H_out = ref_out_size(H, k[0], s[0], p[0], d[0])
    W_out = ref_out_size(W, k[1], s[1], p[1], d[1])
    cols = np.zeros((C * k[0] * k[1], N * H_out * W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(k[0]):
                for j in range(k[1]):
                    for oh in range(H_out):
                        for ow in range(W_out):
                            h = oh * s[0] - p[0] + i * d[0]
                            w = ow * s[1] - p[1] + j * d[1]
                            if 0 <= h < H and 0 <= w < W:
                                cols[(c * k[0] + i) * k[1] + j,
                                     (n * H_out + oh) * W_out + ow] = x[n, c, h, w]
    return cols


def ref_max_pool(x, k, s, p, d):
    """The plain-NumPy max pool of ``test_conv_pool`` (floor mode): (out, flat argmax)."""
    return ref_max_pool_modes(x, k, s, p, d, ceil_mode=False)


def ref_max_pool_backward(g, idx, x_shape):
    N, C, H, W = x_shape
    gx = np.zeros((N, C, H * W), dtype=np.float64)
    for n in range(N):
        for c in range(C):
            for t, i in zip(idx[n, c].ravel(), g[n, c].ravel()):
                if t >= 0:
                    gx[n, c, t] += i
    return gx.reshape(x_shape)


def assert_close(actual, expected, dtype, scale=1.0):
    if dtype == np.float64:
        np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-10 * scale)
    else:
        np.testing.assert_allclose(actual, expected, rtol=2e-5, atol=2e-5 * scale)


# ---------------------------------------------------------------------------
# hypothesis strategies
# ---------------------------------------------------------------------------

@st.composite
def geometry(draw, max_kernel=3, pool=False):
    """kernel, stride, padding, dilation and an input (H, W) that the dilated kernel fits."""
    k, s, p, d, hw = [], [], [], [], []
    for _ in range(2):
        kk = draw(st.integers(1, max_kernel))
        ss = draw(st.integers(1, 3))
        dd = draw(st.integers(1, 2))
        pp = draw(st.integers(0, kk // 2 if pool else 2))
        eff = dd * (kk - 1) + 1
        size = draw(st.integers(max(1, eff - 2 * pp), eff + 6))
        k.append(kk)
        s.append(ss)
        p.append(pp)
        d.append(dd)
        hw.append(size)
    return tuple(k), tuple(s), tuple(p), tuple(d), tuple(hw)


def _rng(seed):
    return np.random.default_rng(seed)


# ---------------------------------------------------------------------------
# convolution
# ---------------------------------------------------------------------------

@HYP
@given(geo=geometry(), n=st.integers(1, 3), c_in=st.integers(1, 3), c_out=st.integers(1, 4),
       dtype=st.sampled_from(FLOATS), use_bias=st.booleans(), seed=st.integers(0, 2**16))
def test_conv2d_matches_reference(geo, n, c_in, c_out, dtype, use_bias, seed):
    k, s, p, d, (H, W) = geo
    rng = _rng(seed)
    x = rng.standard_normal((n, c_in, H, W)).astype(dtype)
    w = rng.standard_normal((c_out, c_in) + k).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype) if use_bias else None

    out = conv2d_forward(x, w, b, s, p, d)
    expected = ref_conv2d(x, w, b, s, p, d)
    assert out.shape == expected.shape
    assert out.dtype == dtype
    assert_close(out, expected, dtype, scale=c_in * k[0] * k[1])

    g = rng.standard_normal(out.shape).astype(dtype)
    gx, gw, gb = conv2d_backward(g, x, w, s, p, d)
    rgx, rgw, rgb = ref_conv2d_backward(g, x, w, s, p, d)
    for got, ref in ((gx, rgx), (gw, rgw), (gb, rgb)):
        assert got.dtype == dtype
        assert got.shape == ref.shape
    assert_close(gx, rgx, dtype, scale=c_out * k[0] * k[1])
    assert_close(gw, rgw, dtype, scale=g.size)
    assert_close(gb, rgb, dtype, scale=g.size)


def test_conv2d_backward_need_flags():
    rng = _rng(0)
    x = rng.standard_normal((2, 3, 7, 6))
    w = rng.standard_normal((4, 3, 3, 2))
    out = conv2d_forward(x, w, None, (1, 2), (1, 0), (1, 1))
    g = rng.standard_normal(out.shape)
    full = conv2d_backward(g, x, w, (1, 2), (1, 0), (1, 1))
    only_x = conv2d_backward(g, x, w, (1, 2), (1, 0), (1, 1),
                             need_weight_grad=False, need_bias_grad=False)
    assert only_x[1] is None and only_x[2] is None
    np.testing.assert_array_equal(only_x[0], full[0])
    only_w = conv2d_backward(g, x, w, (1, 2), (1, 0), (1, 1),
                             need_input_grad=False, need_bias_grad=False)
    assert only_w[0] is None and only_w[2] is None
    np.testing.assert_array_equal(only_w[1], full[1])
    only_b = conv2d_backward(g, x, w, (1, 2), (1, 0), (1, 1),
                             need_input_grad=False, need_weight_grad=False)
    assert only_b[0] is None and only_b[1] is None
    np.testing.assert_allclose(only_b[2], g.sum(axis=(0, 2, 3)), rtol=1e-12)
    assert conv2d_backward(g, x, w, (1, 2), (1, 0), 1, False, False, False) == (
        None, None, None)


def test_conv2d_int_arguments_and_empty_batch():
    rng = _rng(1)
    x = rng.standard_normal((2, 2, 5, 5)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    a = conv2d_forward(x, w, None, 2, 1, 1)
    b = conv2d_forward(x, w, None, (2, 2), (1, 1), (1, 1))
    np.testing.assert_array_equal(a, b)
    out = conv2d_forward(x[:0], w, None, 1, 0, 1)
    assert out.shape == (0, 3, 3, 3)
    gx, gw, gb = conv2d_backward(out, x[:0], w, 1, 0, 1)
    assert gx.shape == (0, 2, 5, 5)
    np.testing.assert_array_equal(gw, 0)
    np.testing.assert_array_equal(gb, 0)


def test_conv2d_non_contiguous_inputs():
    rng = _rng(2)
    base = rng.standard_normal((3, 2, 9, 8))
    x = base.transpose(0, 1, 3, 2)[:, :, ::-1, :]  # (3, 2, 8, 9), not contiguous
    w = rng.standard_normal((2, 3, 3, 3)).transpose(1, 0, 2, 3)  # (3, 2, 3, 3)
    b = rng.standard_normal(6)[::2]
    out = conv2d_forward(x, w, b, 1, 1, 1)
    np.testing.assert_allclose(out, ref_conv2d(x, w, b, (1, 1), (1, 1), (1, 1)), rtol=1e-10,
                               atol=1e-10)
    g = rng.standard_normal(out.shape[::-1]).T  # non-contiguous gradient
    gx, gw, gb = conv2d_backward(g, x, w, 1, 1, 1)
    rgx, rgw, rgb = ref_conv2d_backward(g, x, w, (1, 1), (1, 1), (1, 1))
    np.testing.assert_allclose(gx, rgx, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gw, rgw, rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize("images_per_chunk", [1, 2, 3, 7])
def test_conv2d_chunks_give_the_whole_batch_result(monkeypatch, images_per_chunk):
    # 7 images in chunks of 1, 2, 3 (a ragged last chunk) and 7: same values and gradients
    rng = _rng(4)
    x = rng.standard_normal((7, 3, 6, 5))
    w = rng.standard_normal((4, 3, 3, 2))
    b = rng.standard_normal(4)
    per_image = (3 * 3 * 2) * (4 * 6) * 8  # K * L * itemsize: out is 4x6 with padding (0, 1)
    monkeypatch.setattr(conv_module, "CHUNK_BYTES_PER_THREAD", images_per_chunk * per_image)
    monkeypatch.setattr(conv_module, "get_num_threads", lambda: 1)
    assert conv_module._chunk_images(7, 18, 24, 8) == images_per_chunk
    out = conv2d_forward(x, w, b, 1, (0, 1), 1)
    np.testing.assert_allclose(out, ref_conv2d(x, w, b, (1, 1), (0, 1), (1, 1)), rtol=1e-10,
                               atol=1e-10)
    g = rng.standard_normal(out.shape)
    got = conv2d_backward(g, x, w, 1, (0, 1), 1)
    for a, r in zip(got, ref_conv2d_backward(g, x, w, (1, 1), (0, 1), (1, 1))):
        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(geo=geometry(), n=st.integers(1, 2), c=st.integers(1, 3), dtype=st.sampled_from(FLOATS),
       seed=st.integers(0, 2**16))
def test_im2col_matches_definition(geo, n, c, dtype, seed):
    k, s, p, d, (H, W) = geo
    x = _rng(seed).standard_normal((n, c, H, W)).astype(dtype)
    cols = im2col(x, k, s, p, d)
    assert cols.dtype == dtype
    np.testing.assert_array_equal(cols, ref_im2col(x, k, s, p, d))


@HYP
@given(geo=geometry(), n=st.integers(1, 3), c=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_col2im_is_adjoint_of_im2col(geo, n, c, seed):
    k, s, p, d, (H, W) = geo
    rng = _rng(seed)
    x = rng.standard_normal((n, c, H, W))
    cols = im2col(x, k, s, p, d)
    y = rng.standard_normal(cols.shape)
    back = col2im(y, x.shape, k, s, p, d)
    assert back.shape == x.shape and back.dtype == np.float64
    lhs = np.vdot(cols, y)
    rhs = np.vdot(x, back)
    assert abs(lhs - rhs) <= 1e-9 * (1.0 + abs(lhs))
    # float32 keeps its dtype on the way back
    back32 = col2im(y.astype(np.float32), x.shape, k, s, p, d)
    assert back32.dtype == np.float32
    np.testing.assert_allclose(back32, back, rtol=1e-4, atol=1e-4)


def test_col2im_sums_overlaps():
    # 3x3 kernel, stride 1, on a 4x4 image: each pixel is covered by as many windows as
    # there are valid (tap, output) pairs; folding all-ones columns counts them.
    cols = np.ones((9, 4), dtype=np.float32)
    counts = col2im(cols, (1, 1, 4, 4), 3, 1, 0, 1)[0, 0]
    expected = np.array([[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]], np.float32)
    np.testing.assert_array_equal(counts, expected)


def test_conv2d_output_size():
    assert conv2d_output_size(28, 28, 3, 1, 0, 1) == (26, 26)
    assert conv2d_output_size(13, 12, (3, 2), (2, 1), (1, 0), (2, 3)) == (
        (13 + 2 - 4 - 1) // 2 + 1, (12 - 3 - 1) // 1 + 1)
    assert conv2d_output_size(5, 5, 5, 1, 0, 1) == (1, 1)


# ---------------------------------------------------------------------------
# max pooling
# ---------------------------------------------------------------------------

@HYP
@given(geo=geometry(pool=True), n=st.integers(1, 2), c=st.integers(1, 3),
       dtype=st.sampled_from(FLOATS), seed=st.integers(0, 2**16), ties=st.booleans())
def test_max_pool_matches_reference(geo, n, c, dtype, seed, ties):
    k, s, p, d, (H, W) = geo
    rng = _rng(seed)
    if ties:  # few distinct values: many tied maxima inside windows
        x = rng.integers(-2, 3, size=(n, c, H, W)).astype(dtype)
    else:
        x = rng.standard_normal((n, c, H, W)).astype(dtype)
    out, idx = max_pool2d_forward(x, k, s, p, d)
    rout, ridx = ref_max_pool(x, k, s, p, d)
    assert out.dtype == dtype and idx.dtype == np.int64
    np.testing.assert_array_equal(out, rout)
    np.testing.assert_array_equal(idx, ridx)

    g = rng.standard_normal(out.shape).astype(dtype)
    gx = max_pool2d_backward(g, idx, x.shape)
    assert gx.dtype == dtype and gx.shape == x.shape
    assert_close(gx, ref_max_pool_backward(g, ridx, x.shape), dtype, scale=4.0)


def test_max_pool_backward_overlapping_windows_accumulate():
    # kernel 3, stride 1 on a constant 4x4 plane: every window ties everywhere, so each picks
    # its first element (top-left); the four windows pick (0,0), (0,1), (1,0), (1,1).
    x = np.zeros((1, 1, 4, 4), dtype=np.float32)
    out, idx = max_pool2d_forward(x, 3, 1, 0, 1)
    np.testing.assert_array_equal(idx[0, 0], [[0, 1], [4, 5]])
    gx = max_pool2d_backward(np.ones_like(out), idx, x.shape)
    expected = np.zeros((4, 4), np.float32)
    expected[:2, :2] = 1
    np.testing.assert_array_equal(gx[0, 0], expected)
    # a single peak is picked by every window that contains it: gradients add up
    x[0, 0, 1, 2] = 5.0
    out, idx = max_pool2d_forward(x, 3, 1, 0, 1)
    np.testing.assert_array_equal(idx[0, 0], [[6, 6], [6, 6]])
    gx = max_pool2d_backward(np.full_like(out, 0.5), idx, x.shape)
    assert gx[0, 0, 1, 2] == 2.0 and gx.sum() == 2.0


def test_max_pool_nan_and_padding_semantics():
    x = np.array([[[[1.0, np.nan, 3.0, np.nan, 0.0, 9.0]]]], dtype=np.float32)
    out, idx = max_pool2d_forward(x, (1, 6), 1, 0, 1)
    assert np.isnan(out[0, 0, 0, 0]) and idx[0, 0, 0, 0] == 3  # the last NaN, like PyTorch
    # -inf padding: a negative input is still the max at the border
    x = -np.ones((1, 1, 2, 2))
    out, idx = max_pool2d_forward(x, 2, 2, 1, 1)
    np.testing.assert_array_equal(out, -1.0)
    np.testing.assert_array_equal(idx[0, 0], [[0, 1], [2, 3]])
    # a window holding no input element at all (dilation 2 over padding) -> -inf, index -1
    x = np.array([[[[1.0, 2.0, 3.0]]]])
    out, idx = max_pool2d_forward(x, (2, 1), 1, (1, 0), (2, 1))
    np.testing.assert_array_equal(out, -np.inf)
    np.testing.assert_array_equal(idx, -1)
    np.testing.assert_array_equal(max_pool2d_backward(np.ones_like(out), idx, x.shape), 0.0)


# ---------------------------------------------------------------------------
# parallel loops == serial loops
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
def test_parallel_equals_serial(dtype):
    rng = _rng(3)
    N, C, H, W = 5, 7, 11, 10
    geo = (3, 2, 2, 1, 1, 1, 2, 1)  # kH, kW, sH, sW, pH, pW, dH, dW (overlapping windows)
    kH, kW, sH, sW, pH, pW, dH, dW = geo
    H_out = ref_out_size(H, kH, sH, pH, dH)
    W_out = ref_out_size(W, kW, sW, pW, dW)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)

    c_par = np.full((C * kH * kW, N * H_out * W_out), np.nan, dtype)
    c_ser = c_par.copy()
    conv_module._unfold.parallel(x, c_par, *x.shape, *geo, H_out, W_out, False)  # im2col
    conv_module._unfold.serial(x, c_ser, *x.shape, *geo, H_out, W_out, False)
    np.testing.assert_array_equal(c_par, c_ser)

    y = rng.standard_normal(c_par.shape).astype(dtype)
    g_par = np.full(x.shape, np.nan, dtype)
    g_ser = g_par.copy()
    conv_module._unfold.parallel(y, g_par, *x.shape, *geo, H_out, W_out, True)  # col2im
    conv_module._unfold.serial(y, g_ser, *x.shape, *geo, H_out, W_out, True)
    np.testing.assert_array_equal(g_par, g_ser)

    xi = rng.integers(0, 3, size=x.shape).astype(dtype)  # ties
    P_out = ref_out_size(H, 3, 1, 1, 1), ref_out_size(W, 2, 1, 1, 1)
    o_par = np.empty((N, C) + P_out, dtype)
    a_par = np.empty((N, C) + P_out, np.int64)
    o_ser, a_ser = o_par.copy(), a_par.copy()
    pool_module._max_pool.parallel(xi, o_par, a_par, 3, 2, 1, 1, 1, 1, 1, 1)
    pool_module._max_pool.serial(xi, o_ser, a_ser, 3, 2, 1, 1, 1, 1, 1, 1)
    np.testing.assert_array_equal(o_par, o_ser)
    np.testing.assert_array_equal(a_par, a_ser)

    g = rng.standard_normal(o_par.shape).astype(dtype)
    b_par = np.full(x.shape, np.nan, dtype)
    b_ser = b_par.copy()
    assert pool_module._max_pool_backward.parallel(g, a_par, b_par) == 0
    assert pool_module._max_pool_backward.serial(g, a_par, b_ser) == 0
    np.testing.assert_array_equal(b_par, b_ser)
    # and the parallel scatter really accumulates (stride 1 < kernel: overlaps)
    np.testing.assert_allclose(b_par, ref_max_pool_backward(g, a_par, x.shape), rtol=1e-5,
                               atol=1e-5)


# the twins' cache entries (kernels/_twin.py) and the serial switch of forked children
_ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]

_CALL_TWINS = (
    "import numpy as np\n"
    "from kernels import _notice, pool\n"
    "x = np.arange(32.0).reshape(1, 2, 4, 4)\n"
    "rows = pool.adaptive_pool_windows(4, 2)\n"
    "outs = []\n"
    "for twin in (pool._avg.serial, pool._avg.parallel):\n"
    "    out = np.empty((1, 2, 2, 2))\n"
    "    twin(x, out, rows, rows, 1.0, False, False)\n"
    "    outs.append(out)\n"
    "assert np.array_equal(outs[0], outs[1])\n"
    "print('compiled', _notice.compiled_seconds()[0])\n"
    "print('hits', sum(pool._avg.serial.stats.cache_hits.values()),\n"
    "      sum(pool._avg.parallel.stats.cache_hits.values()))\n")


def _python(code, cache):
    import os
    import subprocess
    import sys
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), TAPEGRAD_COMPILE_NOTICE="0")
    env["PYTHONPATH"] = str(_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", code], cwd=_ROOT, env=env, capture_output=True,
                          text=True, timeout=600)


def test_twins_have_their_own_cache_entries(tmp_path):
    """Numba keys its cache by qualified name and line, not by compile options: the serial
    twin must not share (and overwrite, or load) the parallel twin's entry. A first cold
    process compiles both; a second loads both from the cache and compiles nothing."""
    from kernels import _twin

    par, ser = pool_module._avg
    assert par.targetoptions.get("parallel") is True and not ser.targetoptions.get("parallel")
    assert par.py_func.__code__ is ser.py_func.__code__
    assert ser.py_func.__qualname__ == par.py_func.__qualname__ + "_serial"
    assert isinstance(pool_module._avg, _twin.Twin)
    cold = _python(_CALL_TWINS, tmp_path)
    assert cold.returncode == 0, cold.stderr
    assert "compiled 2" in cold.stdout and "hits 0 0" in cold.stdout, cold.stdout
    index = sorted(p.name for p in tmp_path.rglob("*.nbi") if "_avg_loop" in p.name)
    assert len(index) == 2 and any("_avg_loop_serial-" in n for n in index), index
    warm = _python(_CALL_TWINS, tmp_path)
    assert warm.returncode == 0, warm.stderr
    assert "compiled 0" in warm.stdout and "hits 1 1" in warm.stdout, warm.stdout


def test_use_parallel_and_the_serial_switch(monkeypatch):
    from kernels import _twin

    monkeypatch.setitem(_twin._state, "serial", False)
    assert _twin.use_parallel(None, 10, 5) and not _twin.use_parallel(None, 4, 5)
    assert not _twin.use_parallel(False, 10, 5) and _twin.use_parallel(True, 0, 5)
    _twin.set_serial(True)
    assert _twin.serial_only()
    assert not _twin.use_parallel(True, 10, 5)
    calls = []
    twin = _twin.Twin(lambda: calls.append("parallel"), lambda: calls.append("serial"))
    twin()
    _twin.set_serial(False)
    twin()
    assert calls == ["serial", "parallel"]


def test_a_forked_child_runs_the_serial_twins(tmp_path):
    """After Numba's parallel layer started, a forked child (a DataLoader worker of a script
    without a main guard) must still run the kernels: it switches to the serial twins."""
    import os
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    code = (
        "import os, numpy as np, kernels\n"
        "from kernels import _twin\n"
        "x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)\n"
        "w = np.ones((4, 3, 3, 3), np.float32)\n"
        "ref = kernels.conv2d_forward(x, w, None, 1, 1, 1)\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    ok = _twin.serial_only() and np.allclose(\n"
        "        kernels.conv2d_forward(x, w, None, 1, 1, 1), ref, rtol=1e-5, atol=1e-5)\n"
        "    kernels.max_pool2d_forward(x, 2, 2, 0, 1)\n"
        "    os._exit(0 if ok else 3)\n"
        "_, status = os.waitpid(pid, 0)\n"
        "print('child', os.waitstatus_to_exitcode(status), 'parent serial', _twin.serial_only())\n")
    out = _python(code, tmp_path)
    assert out.returncode == 0, out.stderr
    assert "child 0 parent serial False" in out.stdout, (out.stdout, out.stderr[-2000:])


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------

_X = np.zeros((2, 3, 5, 5), np.float32)
_W = np.zeros((4, 3, 3, 3), np.float32)
_OUT = np.zeros((2, 4, 3, 3), np.float32)  # conv2d of _X, _W (stride 1, padding 0)
CONV_CASES = [
    ("x rank", lambda: conv2d_forward(_X[0], _W, None, 1, 0, 1),
     lambda: F.conv2d(_t(_X[0, 0]), _t(_W)), RuntimeError,
     r"conv2d: expected 3-D \(C, H, W\) or 4-D \(N, C, H, W\) input, got shape \(5, 5\)"),
    ("weight rank", lambda: conv2d_forward(_X, _W[0], None, 1, 0, 1),
     lambda: F.conv2d(_t(_X), _t(_W[0])), RuntimeError,
     r"conv2d: weight must be 4-D \(C_out, C_in/groups, kH, kW\), got shape \(3, 3, 3\)"),
    ("channels", lambda: conv2d_forward(_X[:, :2], _W, None, 1, 0, 1),
     lambda: F.conv2d(_t(_X[:, :2]), _t(_W)), RuntimeError,
     r"conv2d: given groups=1, weight of size \[4, 3, 3, 3\], expected input\[2, 2, 5, 5\] to "
     r"have 3 channels, but got 2 channels instead"),
    ("dilated kernel too large", lambda: conv2d_forward(_X, _W, None, 1, 0, 3),
     lambda: F.conv2d(_t(_X), _t(_W), dilation=3), RuntimeError,
     r"conv2d: kernel size \(3x3, dilation \(3, 3\)\) can't be greater than the padded input "
     r"size \(5x5\); input shape \(2, 3, 5, 5\)"),
    ("input too small", lambda: conv2d_forward(_X[:, :, :2, :2], _W, None, 1, 0, 1),
     lambda: F.conv2d(_t(_X[:, :, :2, :2]), _t(_W)), RuntimeError,
     r"conv2d: kernel size \(3x3, .*padded input size \(2x2\)"),
    ("stride (1, 0)", lambda: conv2d_forward(_X, _W, None, (1, 0), 0, 1),
     lambda: F.conv2d(_t(_X), _t(_W), stride=(1, 0)), RuntimeError,
     r"conv2d: non-positive stride is not supported, got \(1, 0\)"),
    ("stride -1", lambda: conv2d_forward(_X, _W, None, -1, 0, 1),
     lambda: F.conv2d(_t(_X), _t(_W), stride=-1), RuntimeError,
     r"conv2d: non-positive stride is not supported, got \(-1, -1\)"),
    ("padding -1", lambda: conv2d_forward(_X, _W, None, 1, -1, 1),
     lambda: F.conv2d(_t(_X), _t(_W), padding=-1), RuntimeError,
     r"conv2d: negative padding is not supported, got \(-1, -1\)"),
    ("dilation 0", lambda: conv2d_forward(_X, _W, None, 1, 0, 0),
     lambda: F.conv2d(_t(_X), _t(_W), dilation=0), RuntimeError,
     r"conv2d: non-positive dilation is not supported, got \(0, 0\)"),
    ("bias shape", lambda: conv2d_forward(_X, _W, np.zeros(3, np.float32), 1, 0, 1),
     lambda: F.conv2d(_t(_X), _t(_W), _t(np.zeros(3, np.float32))), RuntimeError,
     r"conv2d: bias must have shape \(4,\), got \(3,\)"),
    ("bias dtype", lambda: conv2d_forward(_X, _W, np.zeros(4), 1, 0, 1),
     lambda: F.conv2d(_t(_X), _t(_W), _t(np.zeros(4))), RuntimeError,
     r"conv2d: input type \(float32\) and bias type \(float64\) should be the same"),
    ("integer x", lambda: conv2d_forward(_X.astype(np.int64), _W, None, 1, 0, 1),
     lambda: F.conv2d(_t(_X.astype(np.int64)), _t(_W)), RuntimeError,
     r"conv2d: input and weight must have the same floating dtype, got int64 and float32"),
    ("dtypes", lambda: conv2d_forward(_X, _W.astype(np.float64), None, 1, 0, 1),
     lambda: F.conv2d(_t(_X), _t(_W.astype(np.float64))), RuntimeError,
     r"conv2d: input and weight must have the same floating dtype, got float32 and float64"),
    ("stride of 3 ints", lambda: conv2d_forward(_X, _W, None, (1, 1, 1), 0, 1),
     lambda: F.conv2d(_t(_X), _t(_W), stride=(1, 1, 1)), ValueError,
     r"conv2d: stride must be an int or a tuple of 2 ints, got \(1, 1, 1\)"),
    ("output_size kernel too large", lambda: conv2d_output_size(4, 4, 3, 1, 0, 2),
     lambda: F.conv2d(_t(_X[:1, :1, :4, :4]), _t(_W[:1, :1]), dilation=2), RuntimeError,
     r"conv2d: kernel size \(3x3, dilation \(2, 2\)\) can't be greater than the padded input "
     r"size \(4x4\)"),
    ("output_size stride 0", lambda: conv2d_output_size(4, 4, 3, 0, 0, 1),
     lambda: F.conv2d(_t(_X[:1, :1, :4, :4]), _t(_W[:1, :1]), stride=0), RuntimeError,
     r"conv2d: non-positive stride is not supported, got \(0, 0\)"),
    # the internal contract of the backward (its arguments come from the forward's node)
    ("backward grad_out shape", lambda: conv2d_backward(_OUT[:, :, :2], _X, _W, 1, 0, 1),
     None, None, None),
    ("backward channels", lambda: conv2d_backward(_OUT, _X[:, :2], _W, 1, 0, 1),
     None, None, None),
    ("backward dtypes", lambda: conv2d_backward(_OUT, _X.astype(np.float64), _W, 1, 0, 1),
     None, None, None),
    # the unfold / fold pair (no op calls them)
    ("col2im cols shape", lambda: col2im(np.zeros((27, 5), np.float32), _X.shape, 3, 1, 0, 1),
     None, None, None),
    ("im2col x rank", lambda: im2col(_X[0], 3, 1, 0, 1), None, None, None),
]


@pytest.mark.parametrize("case", CONV_CASES, ids=[c[0] for c in CONV_CASES])
def test_conv2d_kernels_assert_and_the_op_raises(case):
    check_kernel_asserts_op_raises(case)


def test_conv2d_padding_makes_a_small_input_fit():
    assert conv2d_forward(_X[:, :, :2, :2], _W, None, 1, (1, 1), 1).shape == (2, 4, 2, 2)
    assert F.conv2d(_t(_X[:, :, :2, :2]), _t(_W), padding=1).shape == (2, 4, 2, 2)


_XM = np.zeros((2, 3, 5, 5), np.float64)
_OUTM = np.zeros((2, 3, 2, 2))  # max_pool2d of _XM, kernel 2, stride 2
_IDXM = np.zeros((2, 3, 2, 2), np.int64)
_BADM = _IDXM.copy()
_BADM[0, 0, 0, 0] = 25  # outside the 5 x 5 plane
MAX_POOL_CASES = [
    ("x rank", lambda: max_pool2d_forward(_XM[0], 2, 2, 0, 1),
     lambda: F.max_pool2d(_t(_XM[0, 0]), 2), RuntimeError,
     r"max_pool2d: expected 3-D \(C, H, W\) or 4-D \(N, C, H, W\) input, got shape \(5, 5\)"),
    ("window larger than the input", lambda: max_pool2d_forward(_XM, 6, 1, 0, 1),
     lambda: F.max_pool2d(_t(_XM), 6, 1), RuntimeError,
     r"max_pool2d: output size is too small for input of shape \(2, 3, 5, 5\) with "
     r"kernel_size=\(6, 6\)"),
    ("stride 0", lambda: max_pool2d_forward(_XM, 2, 0, 0, 1),
     lambda: F.max_pool2d(_t(_XM), 2, 0), RuntimeError,
     r"max_pool2d: non-positive stride is not supported, got \(0, 0\)"),
    ("padding above half", lambda: max_pool2d_forward(_XM, 2, 2, (0, 2), 1),
     lambda: F.max_pool2d(_t(_XM), 2, 2, (0, 2)), RuntimeError,
     r"max_pool2d: pad should be at most half of effective kernel size, but got pad=\(0, 2\)"),
    ("kernel_size 0", lambda: max_pool2d_forward(_XM, 0, 1, 0, 1),
     lambda: F.max_pool2d(_t(_XM), 0, 1), RuntimeError,
     r"max_pool2d: non-positive kernel_size is not supported, got \(0, 0\)"),
    # the kernel has float32/float64 only; the op runs float16 in float32 and refuses bool
    ("dtype", lambda: max_pool2d_forward(_XM.astype(np.float16), 2, 2, 0, 1),
     lambda: F.max_pool2d(_t(_XM.astype(bool)), 2), NotImplementedError,
     r"max_pool2d: not implemented for dtype bool"),
    # the internal contract of the backward (the argmax comes from the forward's node)
    ("backward argmax shape", lambda: max_pool2d_backward(_OUTM, _IDXM[:, :, :1], _XM.shape),
     None, None, None),
    ("backward x_shape", lambda: max_pool2d_backward(_OUTM, _IDXM, (2, 4, 5, 5)),
     None, None, None),
    ("backward argmax outside the plane", lambda: max_pool2d_backward(_OUTM, _BADM, _XM.shape),
     None, None, None),
    ("backward argmax dtype", lambda: max_pool2d_backward(_OUTM, _IDXM.astype(np.float64),
                                                          _XM.shape), None, None, None),
]


@pytest.mark.parametrize("case", MAX_POOL_CASES, ids=[c[0] for c in MAX_POOL_CASES])
def test_max_pool_kernels_assert_and_the_op_raises(case):
    check_kernel_asserts_op_raises(case)


# ---------------------------------------------------------------------------
# against PyTorch (skipped when torch is not installed)
# ---------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(geo=geometry(), n=st.integers(1, 3), c_in=st.integers(1, 3), c_out=st.integers(1, 4),
       dtype=st.sampled_from(FLOATS), seed=st.integers(0, 2**16))
def test_conv2d_matches_torch(geo, n, c_in, c_out, dtype, seed):
    torch = import_torch()
    F = torch.nn.functional
    k, s, p, d, (H, W) = geo
    rng = _rng(seed)
    x = rng.standard_normal((n, c_in, H, W)).astype(dtype)
    w = rng.standard_normal((c_out, c_in) + k).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    t_out = F.conv2d(tx, tw, tb, s, p, d)
    out = conv2d_forward(x, w, b, s, p, d)
    g = rng.standard_normal(out.shape).astype(dtype)
    t_out.backward(torch.tensor(g))
    gx, gw, gb = conv2d_backward(g, x, w, s, p, d)
    assert_close(out, t_out.detach().numpy(), dtype, scale=c_in * k[0] * k[1])
    assert_close(gx, tx.grad.numpy(), dtype, scale=c_out * k[0] * k[1])
    assert_close(gw, tw.grad.numpy(), dtype, scale=g.size)
    assert_close(gb, tb.grad.numpy(), dtype, scale=g.size)


@settings(max_examples=25, deadline=None)
@given(geo=geometry(pool=True), n=st.integers(1, 2), c=st.integers(1, 3),
       dtype=st.sampled_from(FLOATS), seed=st.integers(0, 2**16), ties=st.booleans())
def test_max_pool_matches_torch(geo, n, c, dtype, seed, ties):
    torch = import_torch()
    k, s, p, d, (H, W) = geo
    rng = _rng(seed)
    x = (rng.integers(-2, 3, size=(n, c, H, W)) if ties
         else rng.standard_normal((n, c, H, W))).astype(dtype)
    out, idx = max_pool2d_forward(x, k, s, p, d)
    if np.any(idx < 0):
        return  # window entirely in padding: torch reports an out-of-plane index there
    tx = torch.tensor(x, requires_grad=True)
    t_out, t_idx = torch.nn.functional.max_pool2d(tx, k, s, p, d, return_indices=True)
    np.testing.assert_array_equal(out, t_out.detach().numpy())
    np.testing.assert_array_equal(idx, t_idx.numpy())
    g = rng.standard_normal(out.shape).astype(dtype)
    t_out.backward(torch.tensor(g))
    assert_close(max_pool2d_backward(g, idx, x.shape), tx.grad.numpy(), dtype, scale=4.0)


def test_mnist_shapes_match_torch():
    torch = import_torch()
    F = torch.nn.functional
    rng = _rng(5)
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    w1 = (rng.standard_normal((32, 1, 3, 3)) * 0.3).astype(np.float32)
    b1 = rng.standard_normal(32).astype(np.float32)
    w2 = (rng.standard_normal((64, 32, 3, 3)) * 0.1).astype(np.float32)
    tx, tw1, tb1, tw2 = (torch.tensor(a, requires_grad=True) for a in (x, w1, b1, w2))

    c1 = conv2d_forward(x, w1, b1, 1, 0, 1)
    p1, a1 = max_pool2d_forward(c1, 2, 2, 0, 1)
    c2 = conv2d_forward(p1, w2, None, 1, 0, 1)
    t_c1 = F.conv2d(tx, tw1, tb1)
    t_p1 = F.max_pool2d(t_c1, 2)
    t_c2 = F.conv2d(t_p1, tw2)
    np.testing.assert_allclose(c2, t_c2.detach().numpy(), rtol=1e-4, atol=1e-4)
    assert c2.dtype == np.float32

    g = rng.standard_normal(c2.shape).astype(np.float32)
    t_c2.backward(torch.tensor(g))
    gp1, gw2, _ = conv2d_backward(g, p1, w2, 1, 0, 1, need_bias_grad=False)
    gc1 = max_pool2d_backward(gp1, a1, c1.shape)
    gx, gw1, gb1 = conv2d_backward(gc1, x, w1, 1, 0, 1)
    for got, ref in ((gw2, tw2.grad), (gw1, tw1.grad), (gb1, tb1.grad), (gx, tx.grad)):
        assert got.dtype == np.float32
        ref = ref.numpy()
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
