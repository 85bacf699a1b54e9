"""Depthwise 2-D convolution (``groups == C_in``) as direct Numba loops, forward and backward.

Pure array-in / array-out functions on ``numpy.ndarray`` (float32 or float64; outputs keep the
input dtype). A depthwise convolution (MobileNet's separable convolutions, Howard et al. 2017,
arXiv:1704.04861; PyTorch's ``conv2d`` with ``groups = C_in``) gives every input channel
``c`` its own ``m = C_out / C_in`` filters of size ``kH x kW``: output channel ``o`` reads
input channel ``c = o // m`` only,

    out[n, o, oh, ow] = bias[o] + sum_{i, j} w[o, 0, i, j] * x[n, o // m, oh*sH - top + i*dH,
                                                               ow*sW - left + j*dW]

(zero outside the image). Each output value needs only ``kH*kW`` multiply-adds, so im2col +
GEMM (one ``(m, kH*kW) @ (kH*kW, N*L)`` product per channel) spends its time moving columns,
and one kernel call per group (what tapegrad did before) paid the Python and dispatch cost
``C_in`` times per layer. Here one call covers all channels.

All three loops run ``prange`` over the ``N*C_in`` input planes (every iteration writes only
its own planes or its own slots: no shared writes, no atomics) and never test bounds in the
inner loop: the input plane is first copied into a zero-padded local buffer of the extent the
taps reach (``(H_out-1)*s + (k-1)*d + 1`` per side), so every tap reads a full run of
``W_out`` values (contiguous for ``sW == 1``, which LLVM vectorises).

* forward: for each of the channel's ``m`` output planes and each output row, a ``W_out``
  accumulator starts at the bias and gets ``w[o, i, j] * run(i, j)`` for every tap.
* input gradient: the adjoint. The ``m`` output-gradient planes of the channel scatter
  ``w[o, i, j] * grad_out row`` into a zeroed padded buffer through the same runs; its
  interior is the input gradient of the plane.
* weight and bias gradients: per output row and tap an elementwise multiply-add
  ``acc[i, j, :] += grad_out row * run(i, j)`` into a ``(kH*kW + 1, W_out)`` accumulator
  (row ``kH*kW`` sums ``grad_out`` for the bias), a vector multiply-add rather than a dot
  product, so it vectorises without reassociation. Each accumulator row is summed in float64
  at the end of the plane into ``part[n, o, :]``; the per-image partials are summed over ``n``
  by NumPy (a fixed order: the result does not depend on the thread count).

Padding is ``(top, left)`` for the kernels; the bottom/right padding only enters the output
size, which the caller passes (PyTorch's asymmetric ``padding='same'`` case included).
"""

import numpy as np
from numba import njit, prange, uint64

from ._twin import twins
from .conv import (_backward_arrays, _bias_or_zeros, _check_conv_args, _forward_arrays,
                   _image_and_channel)

__all__ = ["depthwise_conv2d_forward", "depthwise_conv2d_backward", "depthwise_applicable"]


# ---------------------------------------------------------------------------
# Numba loops. Flat buffers indexed with uint64 (as in kernels/conv.py): no negative-index
# wraparound test in the inner loops, so LLVM vectorises the contiguous runs.
# ---------------------------------------------------------------------------

@njit(cache=True)
def _plane_geometry(in_shape, out_shape, kH, kW, sH, sW, dH, dW):
    """``(N, C, H, W, C_out, Ho, Wo, Hp, Wp)`` of a depthwise loop: the input planes' and the
    output planes' shapes and the extent ``(Hp, Wp)`` of the input rows and columns that the
    taps of an ``Ho x Wo`` output reach, ``(Ho - 1)*s + (k - 1)*d + 1`` per side (the size
    of the padded plane buffers)."""
    N, C, H, W = in_shape
    C_out, Ho, Wo = out_shape[1], out_shape[2], out_shape[3]
    Hp = (Ho - 1) * sH + (kH - 1) * dH + 1
    Wp = (Wo - 1) * sW + (kW - 1) * dW + 1
    return N, C, H, W, C_out, Ho, Wo, Hp, Wp


@njit(cache=True)
def _pad_plane(xf, x0, H, W, xp, Hp, Wp, pt, pl):
    """xp[r*Wp + q] = x plane (at flat offset x0) at (r - pt, q - pl), 0 outside the image."""
    q0 = min(max(pl, 0), Wp)
    q1 = min(max(W + pl, q0), Wp)
    for r in range(Hp):
        d0 = r * Wp
        ih = r - pt
        if ih < 0 or ih >= H:
            for q in range(Wp):
                xp[uint64(d0 + q)] = 0
            continue
        s0 = x0 + ih * W - pl
        for q in range(q0):
            xp[uint64(d0 + q)] = 0
        for q in range(q0, q1):
            xp[uint64(d0 + q)] = xf[uint64(s0 + q)]
        for q in range(q1, Wp):
            xp[uint64(d0 + q)] = 0


def _dw_forward_loop(x, w, bias, out, m, kH, kW, sH, sW, pt, pl, dH, dW):
    """prange over the N*C input planes; each is padded once into a local buffer, then its m
    output planes are built row by row: acc = bias + sum over taps of w * (padded row run)."""
    N, C, H, W, C_out, Ho, Wo, Hp, Wp = _plane_geometry(x.shape, out.shape, kH, kW, sH, sW,
                                                       dH, dW)
    xf = x.reshape(x.size)
    wf = w.reshape(w.size)
    of = out.reshape(out.size)
    for nc in prange(N * C):
        n, c = _image_and_channel(nc, C)
        xp = np.empty(Hp * Wp, dtype=x.dtype)
        acc = np.empty(Wo, dtype=x.dtype)
        _pad_plane(xf, nc * H * W, H, W, xp, Hp, Wp, pt, pl)
        for k in range(m):
            o = c * m + k
            b = bias[o]
            w0 = o * kH * kW
            o0 = (n * C_out + o) * Ho * Wo
            for oh in range(Ho):
                for ow in range(Wo):
                    acc[ow] = b
                for i in range(kH):
                    r0 = (oh * sH + i * dH) * Wp
                    for j in range(kW):
                        wv = wf[uint64(w0 + i * kW + j)]
                        s0 = r0 + j * dW
                        if sW == 1:
                            for ow in range(Wo):
                                acc[ow] += wv * xp[uint64(s0 + ow)]
                        else:
                            for ow in range(Wo):
                                acc[ow] += wv * xp[uint64(s0 + ow * sW)]
                d0 = o0 + oh * Wo
                for ow in range(Wo):
                    of[uint64(d0 + ow)] = acc[ow]


_dw_forward = twins(_dw_forward_loop)


def _dw_grad_input_loop(g, w, gx, m, kH, kW, sH, sW, pt, pl, dH, dW):
    """prange over the N*C input planes; the adjoint of the forward: the m output-gradient
    planes of the channel scatter w * grad_out into a zeroed padded buffer (every += stays in
    this iteration's own buffer), whose interior is then the input gradient."""
    N, C, H, W, C_out, Ho, Wo, Hp, Wp = _plane_geometry(gx.shape, g.shape, kH, kW, sH, sW,
                                                       dH, dW)
    gf = g.reshape(g.size)
    wf = w.reshape(w.size)
    xf = gx.reshape(gx.size)
    for nc in prange(N * C):
        n, c = _image_and_channel(nc, C)
        gp = np.zeros(Hp * Wp, dtype=gx.dtype)
        for k in range(m):
            o = c * m + k
            w0 = o * kH * kW
            g0 = (n * C_out + o) * Ho * Wo
            for oh in range(Ho):
                d0 = g0 + oh * Wo
                for i in range(kH):
                    r0 = (oh * sH + i * dH) * Wp
                    for j in range(kW):
                        wv = wf[uint64(w0 + i * kW + j)]
                        s0 = r0 + j * dW
                        if sW == 1:
                            for ow in range(Wo):
                                gp[uint64(s0 + ow)] += wv * gf[uint64(d0 + ow)]
                        else:
                            for ow in range(Wo):
                                gp[uint64(s0 + ow * sW)] += wv * gf[uint64(d0 + ow)]
        x0 = nc * H * W
        for ih in range(H):
            r = ih + pt
            for iw in range(W):
                q = iw + pl
                v = 0.0
                if r >= 0 and r < Hp and q >= 0 and q < Wp:
                    v = gp[uint64(r * Wp + q)]
                xf[uint64(x0 + ih * W + iw)] = v


_dw_grad_input = twins(_dw_grad_input_loop)


def _dw_grad_weight_loop(g, x, part, m, kH, kW, sH, sW, pt, pl, dH, dW):
    """part[n, o, :kH*kW] = the weight gradient of output channel o from image n,
    part[n, o, kH*kW] = its bias gradient (float64). prange over the N*C input planes: the
    padded input plane, then per output row and tap an elementwise multiply-add into a
    (kH*kW + 1, W_out) row accumulator (vectorised, no reduction in the inner loop), summed
    in float64 at the end of the plane."""
    N, C, H, W, C_out, Ho, Wo, Hp, Wp = _plane_geometry(x.shape, g.shape, kH, kW, sH, sW,
                                                       dH, dW)
    kk = kH * kW
    gf = g.reshape(g.size)
    xf = x.reshape(x.size)
    for nc in prange(N * C):
        n, c = _image_and_channel(nc, C)
        xp = np.empty(Hp * Wp, dtype=x.dtype)
        acc = np.empty((kk + 1) * Wo, dtype=x.dtype)
        _pad_plane(xf, nc * H * W, H, W, xp, Hp, Wp, pt, pl)
        for k in range(m):
            o = c * m + k
            g0 = (n * C_out + o) * Ho * Wo
            acc[:] = 0
            for oh in range(Ho):
                d0 = g0 + oh * Wo
                a0 = kk * Wo
                for ow in range(Wo):
                    acc[uint64(a0 + ow)] += gf[uint64(d0 + ow)]
                for i in range(kH):
                    r0 = (oh * sH + i * dH) * Wp
                    for j in range(kW):
                        a0 = (i * kW + j) * Wo
                        s0 = r0 + j * dW
                        if sW == 1:
                            for ow in range(Wo):
                                acc[uint64(a0 + ow)] += gf[uint64(d0 + ow)] * xp[uint64(s0 + ow)]
                        else:
                            for ow in range(Wo):
                                acc[uint64(a0 + ow)] += (gf[uint64(d0 + ow)]
                                                         * xp[uint64(s0 + ow * sW)])
            for t in range(kk + 1):
                s = 0.0
                for ow in range(Wo):
                    s += acc[uint64(t * Wo + ow)]
                part[n, o, t] = s


_dw_grad_weight = twins(_dw_grad_weight_loop)


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------

def depthwise_applicable(x_shape, weight_shape, groups):
    """True when :func:`depthwise_conv2d_forward` computes ``conv2d(x, w, groups=groups)``:
    ``groups == C_in`` (one input channel per group) and ``C_out`` a multiple of it."""
    return (len(weight_shape) == 4 and groups > 1 and x_shape[1] == groups
            and weight_shape[1] == 1 and weight_shape[0] % groups == 0)


def _check(op, x_shape, weight, stride, padding, dilation):
    assert weight.ndim == 4 and weight.shape[1] == 1, \
        f"{op}: expected weight of shape (C_out, 1, kH, kW), got shape {weight.shape}"
    C = x_shape[1]
    assert C > 0 and weight.shape[0] % C == 0, (
        f"{op}: C_out = {weight.shape[0]} must be a positive multiple of C_in = {C} (x shape "
        f"{tuple(x_shape)}, weight shape {weight.shape})")
    # the shared checks with the channels of a groups=1 convolution of one channel
    shape1 = (x_shape[0], 1) + tuple(x_shape[2:])
    return _check_conv_args(op, shape1, weight, stride, padding, dilation)


def depthwise_conv2d_forward(x, weight, bias, stride, padding, dilation):
    """Depthwise 2-D cross-correlation (PyTorch's ``conv2d`` with ``groups = C_in``).

    Args:
        x: ``(N, C_in, H, W)`` float32 or float64.
        weight: ``(C_out, 1, kH, kW)``, ``C_out = m * C_in`` (channel multiplier ``m``); same
            dtype. Output channel ``o`` reads input channel ``o // m``.
        bias: ``(C_out,)`` same dtype, or ``None``.
        stride, dilation: an int or a tuple of 2 ints.
        padding: an int, ``(pH, pW)`` or ``((top, bottom), (left, right))``.

    Returns:
        ``(N, C_out, H_out, W_out)`` in the dtype of ``x``, ``H_out`` by PyTorch's formula.

    Raises:
        AssertionError: only for arguments that the ops layer (:mod:`autograd.ops.conv`) refuses
            first with a clear error (non-float or mismatched dtypes; ``x``/``weight`` not 4-D,
            ``weight.shape[1] != 1``, ``C_out`` not a multiple of ``C_in``, bias not
            ``(C_out,)``, bad geometry; its messages start with ``"depthwise_conv2d: "``).

    Loop nest: ``prange(N*C_in)`` padded input planes -> the channel's ``m`` output planes ->
    output rows -> taps -> a run of ``W_out`` (see the module docstring).
    """
    op = "depthwise_conv2d"
    x, weight = _forward_arrays(op, x, weight)
    k, s, p, d, Ho, Wo = _check(op, x.shape, weight, stride, padding, dilation)
    N, C = x.shape[:2]
    C_out = weight.shape[0]
    bias = _bias_or_zeros(op, bias, C_out, x.dtype, weight.shape)
    out = np.empty((N, C_out, Ho, Wo), dtype=x.dtype)
    _dw_forward(x, weight, bias, out, C_out // C, k[0], k[1], s[0], s[1], p[0], p[1], d[0],
                d[1])
    return out


def depthwise_conv2d_backward(grad_out, x, weight, stride, padding, dilation,
                              need_input_grad=True, need_weight_grad=True, need_bias_grad=True):
    """Gradients of :func:`depthwise_conv2d_forward` with respect to x, weight and bias.

    Args:
        grad_out: ``(N, C_out, H_out, W_out)``, same dtype as ``x`` and ``weight``.
        x: the forward input (read only for the weight gradient).
        weight: ``(C_out, 1, kH, kW)``.
        stride, padding, dilation: as given to the forward.
        need_input_grad, need_weight_grad, need_bias_grad: skip unneeded work (``None``).

    Returns:
        ``(grad_x, grad_weight, grad_bias)`` with the shapes of x, weight and ``(C_out,)``,
        dtype of ``grad_out``; the weight and bias sums are per-lane in the input dtype
        over one plane's rows, then float64 across lanes and images.

    Raises:
        AssertionError: only for arguments that the ops layer (:mod:`autograd.ops.conv`) refuses
            first with a clear error (as the forward, plus ``grad_out`` not of the forward
            output shape; its messages start with ``"depthwise_conv2d_backward: "``).
    """
    op = "depthwise_conv2d_backward"
    grad_out, x, weight = _backward_arrays(op, grad_out, x, weight)
    k, s, p, d, Ho, Wo = _check(op, x.shape, weight, stride, padding, dilation)
    N, C = x.shape[:2]
    C_out = weight.shape[0]
    expected = (N, C_out, Ho, Wo)
    assert grad_out.shape == expected, (
        f"{op}: grad_out has shape {grad_out.shape}, expected {expected} for x shape "
        f"{x.shape} and weight shape {weight.shape}")
    m = C_out // C
    dt = grad_out.dtype
    geo = (k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1])
    grad_x = grad_weight = grad_bias = None
    if need_input_grad:
        grad_x = np.empty(x.shape, dtype=dt)
        _dw_grad_input(grad_out, weight, grad_x, m, *geo)
    if need_weight_grad:
        part = np.empty((N, C_out, k[0] * k[1] + 1), dtype=np.float64)
        _dw_grad_weight(grad_out, x, part, m, *geo)
        total = part.sum(axis=0)
        grad_weight = total[:, :-1].astype(dt).reshape(weight.shape)
        if need_bias_grad:
            grad_bias = total[:, -1].astype(dt)
    elif need_bias_grad:
        grad_bias = grad_out.sum(axis=(0, 2, 3), dtype=np.float64).astype(dt)
    return grad_x, grad_weight, grad_bias
