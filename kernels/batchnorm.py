"""Batch normalisation with batch statistics (training mode), forward and backward, one pass
of Numba loops per channel each way.

Pure array-in / array-out functions on ``numpy.ndarray`` (float32 or float64; outputs keep the
input dtype). The input is read as ``(N, C, L)`` (``L`` the product of the dims after the
channel dim, 1 for ``(N, C)``); every statistic is per channel ``c`` over its ``M = N*L``
values (Ioffe & Szegedy, 2015, arXiv:1502.03167; PyTorch's ``batch_norm`` with
``training=True``: biased variance in the normalisation)::

    mu = mean(x_c),  var = mean((x_c - mu)^2),  rstd = 1 / sqrt(var + eps)
    xhat = (x - mu) * rstd,  y = xhat * w + b
    db = sum g,  dw = sum g * xhat,  dx = w * rstd * (g - db / M - xhat * dw / M)

The sums are accumulated in float64 (two passes for the variance: the mean first, then the
centred squares, so a large mean does not cancel the variance away). Each ``prange``
iteration owns one channel: it writes only that channel's outputs and statistics (no shared
writes). A channel of a CIFAR-sized activation (32 x 32 x 32 float32, 128 KiB) stays in L2
across its passes, so the forward reads ``x`` from memory about once and the backward reads
``g`` and ``x`` about once, against the composed version's dozen elementwise ops and
temporaries per layer.

Each loop has a ``prange`` twin and a serial twin; the entry points take the parallel one when
there are at least two channels and ``PARALLEL_MIN`` elements (``parallel=None``).
"""

import numpy as np
from numba import njit, prange

from ._twin import twins, use_parallel

__all__ = ["batch_norm_forward", "batch_norm_backward"]

PARALLEL_MIN = 1 << 15

# reassociation lets the float64 channel sums vectorise (no 'nnan'/'ninf': NaN and inf
# inputs propagate as in PyTorch)
_FM = {"reassoc", "contract", "arcp"}


def _use_parallel(parallel, x):
    """The prange twin for at least two channels and ``PARALLEL_MIN`` elements."""
    return use_parallel(parallel, x.size if x.shape[1] > 1 else 0, PARALLEL_MIN)


@njit(cache=True, fastmath=_FM)
def _bn_fwd_channel(x, c, w, b, has_w, has_b, eps, y, mean, var):
    N, _, L = x.shape
    s = 0.0
    for n in range(N):
        for t in range(L):
            s += x[n, c, t]
    M = N * L
    mu = s / M
    v = 0.0
    for n in range(N):
        for t in range(L):
            d = x[n, c, t] - mu
            v += d * d
    v = v / M
    rs = 1.0 / np.sqrt(v + eps)
    mean[c] = mu
    var[c] = v
    scale = rs * w[c] if has_w else rs
    shift = (b[c] if has_b else 0.0) - mu * scale
    sc = x.dtype.type(scale)
    sh = x.dtype.type(shift)
    for n in range(N):
        for t in range(L):
            y[n, c, t] = x[n, c, t] * sc + sh


def _bn_fwd_loop(x, w, b, has_w, has_b, eps, y, mean, var):
    for c in prange(x.shape[1]):
        _bn_fwd_channel(x, c, w, b, has_w, has_b, eps, y, mean, var)


_bn_fwd = twins(_bn_fwd_loop)


@njit(cache=True, fastmath=_FM)
def _bn_bwd_channel(g, x, c, w, has_w, mean, rstd, gx, gw, gb, need_x):
    N, _, L = x.shape
    mu = mean[c]
    rs = rstd[c]
    sg = 0.0
    sgx = 0.0
    for n in range(N):
        for t in range(L):
            gv = g[n, c, t]
            sg += gv
            sgx += gv * (x[n, c, t] - mu)
    sgxh = sgx * rs  # sum g * xhat
    gb[c] = sg
    gw[c] = sgxh
    if need_x:
        M = N * L
        k = rs * w[c] if has_w else rs
        # dx = k * (g - sg/M - (x - mu) * rs * sgxh / M) = a*g + bb*(x - mu) + cc
        af = x.dtype.type(k)
        bf = x.dtype.type(-k * rs * sgxh / M)
        cf = x.dtype.type(-k * sg / M)
        mf = x.dtype.type(mu)
        for n in range(N):
            for t in range(L):
                gx[n, c, t] = af * g[n, c, t] + bf * (x[n, c, t] - mf) + cf


def _bn_bwd_loop(g, x, w, has_w, mean, rstd, gx, gw, gb, need_x):
    for c in prange(x.shape[1]):
        _bn_bwd_channel(g, x, c, w, has_w, mean, rstd, gx, gw, gb, need_x)


_bn_bwd = twins(_bn_bwd_loop)


def _as3(op, name, a):
    """``a`` as ``(N, C, L)``; asserts what ``nn.functional.batch_norm`` checked (float32 or
    float64, at least 2 dims)."""
    a = np.asarray(a)
    assert a.dtype == np.float32 or a.dtype == np.float64, (op, name, a.dtype)
    assert a.ndim >= 2, (op, name, a.shape)
    N, C = a.shape[:2]
    return np.ascontiguousarray(a).reshape(N, C, int(np.prod(a.shape[2:], dtype=np.int64)))


def _affine(op, name, a, C, dtype):
    if a is None:
        return np.ones(1, dtype=np.float64), False
    a = np.ascontiguousarray(a, dtype=np.float64).reshape(-1)
    assert a.size == C, (op, name, a.size, C)
    return a, True


def batch_norm_forward(x, weight=None, bias=None, eps=1e-5, parallel=None):
    """Normalise each channel of ``x`` with its batch mean and biased variance, then scale by
    ``weight`` and shift by ``bias`` (either may be ``None``).

    Args:
        x: ``(N, C, *)`` float32 or float64 with ``N * prod(*) >= 1``.
        weight, bias: ``(C,)`` or ``None``.
        eps: added to the variance (> 0).
        parallel: ``None`` (by size), True or False: the ``prange`` or the serial twin.

    Returns:
        ``(y, mean, var)``: ``y`` like ``x``; the per-channel batch ``mean`` and biased
        ``var`` as float64 ``(C,)`` (the caller updates running statistics from them and
        saves ``mean`` and ``1/sqrt(var + eps)`` for the backward).

    Raises:
        AssertionError only: the caller (``nn.functional.batch_norm``) checks the dtype, the
        ``(N, C, *)`` shape, the values per channel and the weight/bias sizes.
    """
    op = "batch_norm"
    shape = np.shape(x)
    x3 = _as3(op, "input", x)
    N, C, L = x3.shape
    assert N * L > 0, (op, shape)  # nn.functional.batch_norm wants more than 1 per channel
    w, has_w = _affine(op, "weight", weight, C, x3.dtype)
    b, has_b = _affine(op, "bias", bias, C, x3.dtype)
    y = np.empty_like(x3)
    mean = np.empty(C, dtype=np.float64)
    var = np.empty(C, dtype=np.float64)
    fn = _bn_fwd.parallel if _use_parallel(parallel, x3) else _bn_fwd.serial
    fn(x3, w, b, has_w, has_b, float(eps), y, mean, var)
    return y.reshape(shape), mean, var


def batch_norm_backward(grad_out, x, weight, mean, rstd, need_input_grad=True, parallel=None):
    """Gradients of :func:`batch_norm_forward` (batch statistics: the mean and variance are
    functions of ``x`` too, which the ``- db/M - xhat*dw/M`` terms account for).

    Args:
        grad_out: like ``x``, same dtype.
        x: the forward input ``(N, C, *)``.
        weight: ``(C,)`` or ``None`` (then 1).
        mean, rstd: ``(C,)``: the forward's batch mean and ``1/sqrt(var + eps)``.
        need_input_grad: skip the pass that writes ``grad_x`` when False (``None`` returned).

    Returns:
        ``(grad_x, grad_weight, grad_bias)``: ``grad_x`` like ``x`` (or ``None``);
        ``grad_weight``, ``grad_bias`` ``(C,)`` in x's dtype (summed in float64).

    Raises:
        AssertionError only (the arguments come from the forward and its graph node).
    """
    op = "batch_norm_backward"
    shape = np.shape(x)
    x3 = _as3(op, "input", x)
    g3 = _as3(op, "grad_out", grad_out)
    assert g3.shape == x3.shape and g3.dtype == x3.dtype, (op, g3.shape, g3.dtype, shape)
    C = x3.shape[1]
    w, has_w = _affine(op, "weight", weight, C, x3.dtype)
    mean = np.ascontiguousarray(mean, dtype=np.float64).reshape(-1)
    rstd = np.ascontiguousarray(rstd, dtype=np.float64).reshape(-1)
    assert mean.size == C and rstd.size == C, (op, mean.size, rstd.size, C)
    gx = np.empty_like(x3) if need_input_grad else np.empty((0, 0, 0), dtype=x3.dtype)
    gw = np.empty(C, dtype=np.float64)
    gb = np.empty(C, dtype=np.float64)
    fn = _bn_bwd.parallel if _use_parallel(parallel, x3) else _bn_bwd.serial
    fn(g3, x3, w, has_w, mean, rstd, gx, gw, gb, bool(need_input_grad))
    return (gx.reshape(shape) if need_input_grad else None, gw.astype(x3.dtype),
            gb.astype(x3.dtype))
