"""Tests of kernels/winograd.py (Winograd F(2x2, 3x3) conv2d) against a plain NumPy
reference, the im2col kernels (kernels.conv2d_forward/backward) and PyTorch."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import kernels as K
import kernels.winograd as KW
import nn.functional as F
from conftest import seeds
from test_conv_pool import _t, check_kernel_asserts_op_raises
from kernels.winograd import (conv2d_winograd_backward, conv2d_winograd_forward,
                              winograd_applicable)


# ---- plain NumPy reference (float64) ------------------------------------------------------------
def _pads(padding):
    """((top, bottom), (left, right)) from an int, (pH, pW) or ((t, b), (l, r))."""
    if isinstance(padding, int):
        return (padding, padding), (padding, padding)
    a, b = padding
    if isinstance(a, int):
        return (a, a), (b, b)
    return tuple(a), tuple(b)


def ref_forward(x, w, b, padding):
    (t, bo), (l, r) = _pads(padding)
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (t, bo), (l, r)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))
    out = np.einsum("nchwij,ocij->nohw", win, w.astype(np.float64))
    if b is not None:
        out += b.astype(np.float64)[None, :, None, None]
    return out


def ref_backward(g, x, w, padding):
    (t, bo), (l, r) = _pads(padding)
    g = g.astype(np.float64)
    w = w.astype(np.float64)
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (t, bo), (l, r)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))
    gw = np.einsum("nohw,nchwij->ocij", g, win)
    gxp = np.zeros_like(xp)
    Ho, Wo = g.shape[2:]
    for i in range(3):
        for j in range(3):
            gxp[:, :, i:i + Ho, j:j + Wo] += np.einsum("nohw,oc->nchw", g, w[:, :, i, j])
    H, W = x.shape[2:]
    gx = gxp[:, :, t:t + H, l:l + W]
    return gx, gw, g.sum(axis=(0, 2, 3))


def _data(rng, N, C_in, C_out, H, W, padding, dtype):
    x = rng.standard_normal((N, C_in, H, W)).astype(dtype)
    w = rng.standard_normal((C_out, C_in, 3, 3)).astype(dtype)
    b = rng.standard_normal(C_out).astype(dtype)
    (t, bo), (l, r) = _pads(padding)
    g = rng.standard_normal((N, C_out, H + t + bo - 2, W + l + r - 2)).astype(dtype)
    return x, w, b, g


def _close(got, want, dtype, what, tol64=1e-10, tol32=1e-5):
    """float64: ``tol64`` (1e-10) relative to the scale of ``want``; float32: ``tol32`` (1e-5)
    of the scale (a few ulps times the sum size). Also used by tests/test_depthwise.py."""
    assert got.dtype == dtype, f"{what}: dtype {got.dtype}, expected {dtype}"
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    scale = max(1.0, float(np.abs(want).max()))
    tol = tol64 if dtype == np.float64 else tol32
    err = float(np.abs(got.astype(np.float64) - want).max()) / scale
    assert err <= tol, f"{what}: relative error {err:.3g} > {tol}"


CASES = [
    # N, C_in, C_out, H, W, padding
    (1, 1, 1, 3, 3, 0),          # a single output pixel (partial tile both ways)
    (1, 1, 1, 5, 6, 1),
    (2, 3, 4, 7, 8, 1),          # odd H, even W
    (3, 2, 5, 6, 9, 2),
    (2, 4, 3, 8, 8, 0),
    (1, 3, 2, 9, 7, 2),
    (2, 2, 3, 4, 5, 3),          # padding > 2: the input gradient crops grad_out
    (2, 2, 3, 5, 4, (0, 1)),
    (2, 3, 2, 6, 5, ((0, 2), (1, 0))),   # asymmetric (PyTorch's padding='same' shape)
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES)
def test_forward_backward_match_reference_and_im2col(case, dtype):
    N, C_in, C_out, H, W, padding = case
    rng = np.random.default_rng(sum(case[:5]))
    x, w, b, g = _data(rng, N, C_in, C_out, H, W, padding, dtype)
    out = conv2d_winograd_forward(x, w, b, padding)
    _close(out, ref_forward(x, w, b, padding), dtype, "forward vs reference")
    _close(out, K.conv2d_forward(x, w, b, 1, padding, 1).astype(np.float64), dtype,
           "forward vs im2col")
    got = conv2d_winograd_backward(g, x, w, padding, True, True, True)
    want = ref_backward(g, x, w, padding)
    im2col = K.conv2d_backward(g, x, w, 1, padding, 1, True, True, True)
    for name, a, r, i in zip(("grad_x", "grad_w", "grad_b"), got, want, im2col):
        _close(a, r, dtype, f"{name} vs reference")
        _close(a, i.astype(np.float64), dtype, f"{name} vs im2col")


@given(seed=seeds, N=st.integers(1, 3), C_in=st.integers(1, 4), C_out=st.integers(1, 4),
       H=st.integers(1, 9), W=st.integers(1, 9), p=st.integers(0, 3))
def test_float64_matches_reference_drawn_shapes(seed, N, C_in, C_out, H, W, p):
    if H + 2 * p < 3 or W + 2 * p < 3:
        return
    rng = np.random.default_rng(seed)
    x, w, b, g = _data(rng, N, C_in, C_out, H, W, p, np.float64)
    _close(conv2d_winograd_forward(x, w, b, p), ref_forward(x, w, b, p), np.float64,
           "forward")
    got = conv2d_winograd_backward(g, x, w, p)
    for name, a, r in zip(("grad_x", "grad_w", "grad_b"), got, ref_backward(g, x, w, p)):
        _close(a, r, np.float64, name)


def test_chunking_does_not_change_results(monkeypatch):
    """Several chunks of images (the last one partial) give the one-chunk answer exactly."""
    rng = np.random.default_rng(1)
    x, w, b, g = _data(rng, 5, 3, 4, 7, 6, 1, np.float64)
    whole = (conv2d_winograd_forward(x, w, b, 1),) + conv2d_winograd_backward(g, x, w, 1)
    monkeypatch.setattr(KW, "CHUNK_BYTES_PER_THREAD", 1)      # one image per chunk
    per_image = (conv2d_winograd_forward(x, w, b, 1),) + conv2d_winograd_backward(g, x, w, 1)
    monkeypatch.setattr(KW, "CHUNK_BYTES_PER_THREAD", 16 * 7 * 12 * 8 * 2)  # 2 per chunk
    pairs = (conv2d_winograd_forward(x, w, b, 1),) + conv2d_winograd_backward(g, x, w, 1)
    for a, c, d in zip(whole, per_image, pairs):
        np.testing.assert_allclose(c, a, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(d, a, rtol=1e-13, atol=1e-13)


def test_float32_error_against_float64():
    """The benchmark layer's shape (smaller batch): float32 Winograd is within a few ulps
    times the sum size of the exact float64 answer, like the im2col kernel."""
    rng = np.random.default_rng(2)
    x, w, b, g = _data(rng, 4, 16, 32, 32, 32, 1, np.float32)
    want = ref_forward(x, w, b, 1)
    scale = np.abs(want).max()
    err_w = np.abs(conv2d_winograd_forward(x, w, b, 1) - want).max() / scale
    err_i = np.abs(K.conv2d_forward(x, w, b, 1, 1, 1) - want).max() / scale
    assert err_w < 1e-5 and err_w < 8 * max(err_i, 1e-7)
    gx, gw, gb = conv2d_winograd_backward(g, x, w, 1)
    rx, rw, rb = ref_backward(g, x, w, 1)
    assert np.abs(gx - rx).max() / np.abs(rx).max() < 1e-5
    assert np.abs(gw - rw).max() / np.abs(rw).max() < 1e-5
    assert np.abs(gb - rb).max() / np.abs(rb).max() < 1e-6


def test_need_flags_and_no_bias():
    rng = np.random.default_rng(3)
    x, w, b, g = _data(rng, 2, 2, 3, 5, 5, 1, np.float64)
    out = conv2d_winograd_forward(x, w, None, 1)
    _close(out, ref_forward(x, w, None, 1), np.float64, "forward without bias")
    rx, rw, rb = ref_backward(g, x, w, 1)
    gx, gw, gb = conv2d_winograd_backward(g, x, w, 1, True, False, False)
    assert gw is None and gb is None
    _close(gx, rx, np.float64, "grad_x alone")
    gx, gw, gb = conv2d_winograd_backward(g, x, w, 1, False, True, False)
    assert gx is None and gb is None
    _close(gw, rw, np.float64, "grad_w alone")
    gx, gw, gb = conv2d_winograd_backward(g, x, w, 1, False, False, True)
    assert gx is None and gw is None
    _close(gb, rb, np.float64, "grad_b alone")
    assert conv2d_winograd_backward(g, x, w, 1, False, False, False) == (None, None, None)


def test_non_contiguous_inputs():
    rng = np.random.default_rng(4)
    x, w, b, g = _data(rng, 2, 3, 2, 6, 7, 1, np.float64)
    xt = np.asfortranarray(x)
    wt = np.asfortranarray(w)
    _close(conv2d_winograd_forward(xt, wt, b, 1), ref_forward(x, w, b, 1), np.float64, "fwd")
    gx, gw, _ = conv2d_winograd_backward(np.asfortranarray(g), xt, wt, 1)
    rx, rw, _ = ref_backward(g, x, w, 1)
    _close(gx, rx, np.float64, "grad_x")
    _close(gw, rw, np.float64, "grad_w")


_X = np.zeros((1, 2, 5, 5), np.float32)
_W = np.zeros((3, 2, 3, 3), np.float32)
CASES = [
    # the backend selection (kernels/select.py) runs Winograd only for 3x3 kernels
    ("weight not 3x3", lambda: conv2d_winograd_forward(_X, np.zeros((3, 2, 5, 5), np.float32),
                                                       None, 1), None, None, None),
    ("dtypes", lambda: conv2d_winograd_forward(_X, _W.astype(np.float64), None, 1),
     lambda: F.conv2d(_t(_X), _t(_W.astype(np.float64)), padding=1), RuntimeError,
     r"conv2d: input and weight must have the same floating dtype, got float32 and float64"),
    ("integer x", lambda: conv2d_winograd_forward(_X.astype(np.int64), _W, None, 1),
     lambda: F.conv2d(_t(_X.astype(np.int64)), _t(_W), padding=1), RuntimeError,
     r"conv2d: input and weight must have the same floating dtype, got int64 and float32"),
    ("channels", lambda: conv2d_winograd_forward(_X, np.zeros((3, 4, 3, 3), np.float32), None, 1),
     lambda: F.conv2d(_t(_X), _t(np.zeros((3, 4, 3, 3), np.float32)), padding=1), RuntimeError,
     r"conv2d: given groups=1, weight of size \[3, 4, 3, 3\], expected input\[1, 2, 5, 5\] to "
     r"have 4 channels"),
    ("bias shape", lambda: conv2d_winograd_forward(_X, _W, np.zeros(2, np.float32), 1),
     lambda: F.conv2d(_t(_X), _t(_W), _t(np.zeros(2, np.float32)), padding=1), RuntimeError,
     r"conv2d: bias must have shape \(3,\), got \(2,\)"),
    ("kernel larger than the input", lambda: conv2d_winograd_forward(
        np.zeros((1, 2, 1, 1), np.float32), _W, None, 0),
     lambda: F.conv2d(_t(np.zeros((1, 2, 1, 1), np.float32)), _t(_W)), RuntimeError,
     r"conv2d: kernel size \(3x3, dilation \(1, 1\)\) can't be greater than the padded input "
     r"size \(1x1\)"),
    # the internal contract of the backward
    ("backward grad_out shape", lambda: conv2d_winograd_backward(
        np.zeros((1, 3, 4, 4), np.float32), _X, _W, 1), None, None, None),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_kernels_assert_and_the_op_raises(case):
    check_kernel_asserts_op_raises(case)


def test_winograd_applicable():
    assert winograd_applicable((4, 3, 3, 3), 1, 1)
    assert winograd_applicable((4, 3, 3, 3), (1, 1), (1, 1), 1)
    assert not winograd_applicable((4, 3, 5, 5), 1, 1)
    assert not winograd_applicable((4, 3, 3, 3), 2, 1)
    assert not winograd_applicable((4, 3, 3, 3), 1, (1, 2))
    assert not winograd_applicable((4, 3, 3, 3), 1, 1, groups=2)


@pytest.mark.parametrize("padding", [0, 1, 2])
def test_matches_torch(torch, padding):
    rng = np.random.default_rng(5 + padding)
    x, w, b, _ = _data(rng, 3, 4, 5, 9, 8, padding, np.float32)
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    tout = torch.nn.functional.conv2d(tx, tw, tb, padding=padding)
    g = rng.standard_normal(tuple(tout.shape)).astype(np.float32)
    tout.backward(torch.tensor(g))
    out = conv2d_winograd_forward(x, w, b, padding)
    gx, gw, gb = conv2d_winograd_backward(g, x, w, padding)
    for name, a, t in (("out", out, tout), ("grad_x", gx, tx.grad), ("grad_w", gw, tw.grad),
                       ("grad_b", gb, tb.grad)):
        t = t.detach().numpy()
        assert a.shape == t.shape and a.dtype == t.dtype, name
        np.testing.assert_allclose(a, t, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(t).max()),
                                   err_msg=name)


@pytest.mark.parametrize("threads", [1, 2])
def test_threaded_chunks_match_reference(monkeypatch, threads):
    """Many chunks run in this thread (1 thread: ``prange`` transforms) or dealt to worker
    threads (2 threads: serial transforms, 1-thread BLAS each) give the reference answer."""
    import autograd
    before = autograd.get_num_threads()
    monkeypatch.setattr(KW, "CHUNK_BYTES_PER_THREAD", 1)      # one image per chunk
    rng = np.random.default_rng(6)
    x, w, b, g = _data(rng, 5, 3, 4, 7, 6, 1, np.float64)
    conv2d_winograd_forward(x, w, b, 1)   # starts Numba's threading layer
    monkeypatch.setattr(KW, "_executors", {})
    try:
        autograd.set_num_threads(threads)
        out = conv2d_winograd_forward(x, w, b, 1)
        got = conv2d_winograd_backward(g, x, w, 1)
    finally:
        autograd.set_num_threads(before)
    if threads > 1 and KW.threading_layer() != "workqueue":
        assert KW._executors, "the worker-thread path did not run"
    _close(out, ref_forward(x, w, b, 1), np.float64, "forward")
    for name, a, r in zip(("grad_x", "grad_w", "grad_b"), got, ref_backward(g, x, w, 1)):
        _close(a, r, np.float64, name)


# ---- the choice in autograd.conv2d -----------------------------------------------------------------
def test_conv2d_op_uses_winograd_where_it_pays_and_matches_im2col():
    import autograd
    from kernels import select
    rng = np.random.default_rng(7)
    x = autograd.Tensor(rng.standard_normal((2, 8, 16, 16)), requires_grad=True)
    w = autograd.Tensor(rng.standard_normal((8, 8, 3, 3)) * 0.2, requires_grad=True)
    b = autograd.Tensor(rng.standard_normal(8), requires_grad=True)
    out = autograd.conv2d(x, w, b, padding=1)
    assert out.grad_fn.winograd  # 8 channels, 16 x 16 output: Winograd
    g = rng.standard_normal(out.shape)
    out.backward(autograd.Tensor(g))
    ref = K.conv2d_forward(x._data, w._data, b._data, 1, 1, 1)
    gx, gw, gb = K.conv2d_backward(g, x._data, w._data, 1, 1, 1)
    np.testing.assert_allclose(out._data, ref, rtol=1e-10, atol=1e-10)
    for got, want in ((x.grad, gx), (w.grad, gw), (b.grad, gb)):
        np.testing.assert_allclose(got._data, want, rtol=1e-10, atol=1e-10)
    small = autograd.conv2d(x[:, :, :8, :8], w, b, padding=1)  # 8 x 8 output: im2col
    assert not small.grad_fn.winograd
    first = autograd.conv2d(x[:, :1], w[:, :1], b, padding=1)  # 1 input channel: im2col
    assert not first.grad_fn.winograd
    assert select.WINOGRAD_MIN_CHANNELS == 8 and select.WINOGRAD_MIN_OUTPUT == 256


# ---- NaN and inf: the direct convolution's propagation ------------------------------------------
def _nonfinite_cases():
    """(x, w, g) with one NaN or inf placed in x, w or g: corners (seen by one tap only),
    the interior, and a signed inf."""
    rng = np.random.default_rng(8)
    base = [a.astype(np.float32) for a in (rng.standard_normal((2, 8, 9, 10)),
                                            rng.standard_normal((8, 8, 3, 3)) * 0.2)]
    for where, idx, val in (("x", (0, 3, 0, 0), np.nan), ("x", (1, 2, 8, 9), np.nan),
                            ("x", (0, 5, 4, 3), np.nan), ("x", (0, 1, 0, 4), np.inf),
                            ("x", (1, 0, 6, 6), -np.inf), ("w", (2, 3, 0, 2), np.inf),
                            ("w", (1, 1, 1, 1), np.nan), ("g", (0, 4, 0, 0), np.nan),
                            ("g", (1, 7, 3, 5), np.inf)):
        for padding in (0, 1):
            x, w = (a.copy() for a in base)
            Ho, Wo = 9 + 2 * padding - 2, 10 + 2 * padding - 2
            g = rng.standard_normal((2, 8, Ho, Wo)).astype(np.float32)
            arr = {"x": x, "w": w, "g": g}[where]
            arr[tuple(min(i, n - 1) for i, n in zip(idx, arr.shape))] = val
            yield f"{where}{idx}={val} pad {padding}", x, w, g, padding


def _same_nonfinite(a, b, name):
    assert a.shape == b.shape, name
    for test in (np.isnan, np.isposinf, np.isneginf):
        np.testing.assert_array_equal(test(a), test(b), err_msg=f"{name}: {test.__name__}")
    ok = np.isfinite(b)
    np.testing.assert_allclose(a[ok], b[ok], rtol=1e-4, atol=1e-4, err_msg=name)


@pytest.mark.parametrize("chunk_bytes", [None, 1])
def test_nonfinite_values_propagate_as_im2col(monkeypatch, chunk_bytes):
    """One NaN pixel spread into 9 weight-gradient taps per (o, c) pair (144 entries for 16
    output channels; im2col and PyTorch: the one tap that sees it), and an inf met its own
    negative inside a transform (NaN where a direct convolution gives inf). With one image
    per chunk, a non-finite value in the second chunk is seen too."""
    if chunk_bytes:
        monkeypatch.setattr(KW, "CHUNK_BYTES_PER_THREAD", chunk_bytes)
    for name, x, w, g, padding in _nonfinite_cases():
        b = np.linspace(-1, 1, 8).astype(np.float32)
        with np.errstate(invalid="ignore", over="ignore"):
            _same_nonfinite(conv2d_winograd_forward(x, w, b, padding),
                            K.conv2d_forward(x, w, b, 1, padding, 1), name + " forward")
            for part, a, r in zip(("grad_x", "grad_w", "grad_b"),
                                  conv2d_winograd_backward(g, x, w, padding),
                                  K.conv2d_backward(g, x, w, 1, padding, 1)):
                _same_nonfinite(a, r, f"{name} {part}")


def test_nonfinite_values_match_torch(torch):
    """As PyTorch, except where a non-finite weight or output gradient meets the zero padding:
    PyTorch's kernel skips the padding, the im2col GEMM multiplies it (0 * inf = NaN), and
    Winograd now follows im2col there."""
    for name, x, w, g, padding in _nonfinite_cases():
        if padding and not name.startswith("x"):
            continue
        tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
        tout = torch.nn.functional.conv2d(tx, tw, padding=padding)
        tout.backward(torch.from_numpy(g))
        with np.errstate(invalid="ignore", over="ignore"):
            out = conv2d_winograd_forward(x, w, None, padding)
            gx, gw, _ = conv2d_winograd_backward(g, x, w, padding)
        for part, a, t in (("out", out, tout), ("grad_x", gx, tx.grad), ("grad_w", gw, tw.grad)):
            _same_nonfinite(a, t.detach().numpy(), f"{name} {part}")


def test_finite_inputs_stay_on_winograd(monkeypatch):
    """The finiteness check routes only non-finite arrays to im2col."""
    calls = []
    monkeypatch.setattr(KW, "conv2d_forward", lambda *a, **k: calls.append("f"))
    monkeypatch.setattr(KW, "conv2d_backward", lambda *a, **k: calls.append("b"))
    rng = np.random.default_rng(9)
    x, w, b, g = _data(rng, 2, 3, 4, 6, 6, 1, np.float64)
    conv2d_winograd_forward(x, w, b, 1)
    conv2d_winograd_backward(g, x, w, 1)
    assert calls == []
    x[0, 0, 0, 0] = np.nan
    conv2d_winograd_forward(x, w, b, 1)
    conv2d_winograd_backward(g, x, w, 1, need_input_grad=True, need_weight_grad=False)
    assert calls == ["f"]   # grad_x reads grad_out and the weight, not x
    conv2d_winograd_backward(g, x, w, 1)
    assert calls == ["f", "b"]
    x[0, 0, 0, 0] = 0
    g[1, 2, 3, 4] = np.inf
    conv2d_winograd_backward(g, x, w, 1, need_input_grad=True, need_weight_grad=False)
    with np.errstate(invalid="ignore"):
        conv2d_winograd_backward(g, x, w, 1)   # seen by the weight gradient's plane sums
    assert calls == ["f", "b", "b", "b"]
    conv2d_winograd_backward(g, x, w, 1, need_input_grad=False, need_weight_grad=False)
    assert len(calls) == 4  # the bias gradient alone is a plain sum


def test_conv2d_op_one_nan_pixel_reaches_one_tap():
    """The issue's figure: a NaN in the corner of an unpadded image reaches only tap (0, 0)
    of the weight gradient, for each of the 16 output channels (16 entries, not 144)."""
    import autograd
    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, 16, 32, 32)).astype(np.float32)
    x[0, 3, 0, 0] = np.nan
    xt = autograd.Tensor(x, requires_grad=True)
    w = autograd.Tensor((rng.standard_normal((16, 16, 3, 3)) * 0.1).astype(np.float32),
                        requires_grad=True)
    out = autograd.conv2d(xt, w)
    assert out.grad_fn.winograd
    out.sum().backward()
    bad = np.argwhere(np.isnan(w.grad.numpy()))
    assert len(bad) == 16 and (bad[:, 1:] == [3, 0, 0]).all()
    assert np.isnan(out._data).sum() == 16   # output (0, o, 0, 0) for each o
