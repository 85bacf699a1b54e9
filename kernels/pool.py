"""2-D pooling kernels: max (forward saves the argmax, backward scatters through it),
average, adaptive average and adaptive max.

Pure array-in / array-out functions on ``numpy.ndarray``; float32 and float64, outputs keep
the input dtype. Max pooling follows PyTorch's ``max_pool2d(..., return_indices=True)``:
implicit ``-inf`` padding, the first maximum of a window in row-major order wins ties, a NaN
in a window propagates (the last NaN's index is kept, as in PyTorch's CPU kernel), and indices
are flat positions ``h*W + w`` inside each ``(H, W)`` plane (``adaptive_max_pool2d`` uses the
same rule and format, so both share one backward). Average pooling follows ``avg_pool2d``
(``ceil_mode``, ``count_include_pad``, ``divisor_override``) and ``adaptive_avg_pool2d``.

Every kernel runs ``prange`` over the ``N*C`` planes: a plane's outputs and its gradient are
written only by the iteration that owns the plane, so there are no races and no atomics.
The 1-D poolings have no kernels of their own: ``autograd`` runs them with ``H = 1``.
"""

import numpy as np
from numba import njit, prange, uint64

from ._twin import twins
from .conv import _float_array, _geometry, _is_int, _output_size, _shape4
from .conv import _valid_range as valid_range

__all__ = ["max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward",
           "avg_pool2d_backward", "adaptive_avg_pool2d_forward", "adaptive_avg_pool2d_backward",
           "adaptive_max_pool2d_forward", "pool2d_output_size", "adaptive_pool_windows"]


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


@njit(cache=True, inline="always")
def _max_step(best, best_idx, v, idx):
    """One step of a window's running max with its index: PyTorch's rule "take v if v > best
    or v is NaN", written without branches: on random data the branch mispredicts about half
    the time (measured 3x slower than this select/multiply form)."""
    take = np.int64((v > best) | (v != v))
    return (max(best, v) if v == v else v), best_idx + take * (idx - best_idx)


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
                    best, best_idx = _max_step(best, best_idx, xf[uint64(x0 + idx)], idx)
            of[o] = best
            af[o] = best_idx


def _max_pool_loop(x, out, argmax, kH, kW, sH, sW, pH, pW, dH, dW):
    """Max pooling of every plane of x (prange over the N*C planes)."""
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


_max_pool = twins(_max_pool_loop)


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


def _max_pool_backward_loop(grad_out, argmax, grad_x):
    """Scatter of grad_out through argmax into every plane of grad_x (prange over the N*C
    planes); returns the count of out-of-range indices."""
    N, C, H, W = grad_x.shape
    n_out = grad_out.shape[2] * grad_out.shape[3]
    gf = grad_out.reshape(grad_out.size)
    af = argmax.reshape(argmax.size)
    gx = grad_x.reshape(grad_x.size)
    bad = 0
    for p in prange(N * C):
        bad += _scatter_plane(gf, af, p * n_out, n_out, gx, p * H * W, H * W)
    return bad


_max_pool_backward = twins(_max_pool_backward_loop)


def _ceil_size(n_floor, size, k, s, p, d):
    """PyTorch's ceil_mode output size from the floor one: one more window when a partial
    window remains, unless that window would start in the right padding."""
    num = size + 2 * p - d * (k - 1) - 1
    n = -(-num // s) + 1
    if (n - 1) * s >= size + p:
        n -= 1
    return max(n, n_floor)


def _check_pool_args(op, x_shape, kernel_size, stride, padding, dilation, ceil_mode=False):
    k, s, p, d = _geometry(op, kernel_size, stride, padding, dilation)
    assert 2 * p[0] <= k[0] and 2 * p[1] <= k[1], (
        f"{op}: padding should be at most half of kernel_size, got padding {p} "
        f"and kernel_size {k}"
    )
    H_out, W_out = _output_size(op, x_shape[2], x_shape[3], k, s, p, d,
                                f", x shape {tuple(x_shape)}")
    if ceil_mode:
        H_out = _ceil_size(H_out, x_shape[2], k[0], s[0], p[0], d[0])
        W_out = _ceil_size(W_out, x_shape[3], k[1], s[1], p[1], d[1])
    return k, s, p, d, H_out, W_out


def pool2d_output_size(H, W, kernel_size, stride, padding, dilation=1, ceil_mode=False):
    """Output height and width of a 2-D max/avg pooling (PyTorch's formula).

    ``H_out = floor_or_ceil((H + 2*pH - dH*(kH-1) - 1) / sH) + 1``; with ``ceil_mode`` the
    last window is dropped if it would start in the bottom/right padding.

    Raises:
        AssertionError: for arguments outside its contract (no op calls it; the ops layer checks
            the same things for the ops): a size argument is not an int / pair of ints; bad
            geometry, padding above half the kernel, or a window larger than the padded input.
    """
    return _check_pool_args("pool2d_output_size", (1, 1, int(H), int(W)), kernel_size, stride,
                            padding, dilation, ceil_mode)[4:]


def max_pool2d_forward(x, kernel_size, stride, padding, dilation, ceil_mode=False):
    """2-D max pooling that also returns the argmax (PyTorch's ``return_indices`` layout).

    Args:
        x: ``(N, C, H, W)`` float32 or float64 (copied to C order if it is not).
        kernel_size, stride, padding, dilation: an int or a tuple of 2 ints; padding is
            implicit ``-inf`` and at most ``kernel_size/2`` (PyTorch's rule).
        ceil_mode: round the output size up instead of down (PyTorch's ``ceil_mode``).

    Returns:
        ``(out, argmax)``: ``out`` is ``(N, C, H_out, W_out)`` in the dtype of ``x`` with
        ``H_out = (H + 2*pH - dH*(kH-1) - 1)//sH + 1`` (rounded up with ``ceil_mode``, see
        :func:`pool2d_output_size`; windows running past the input are clipped to it);
        ``argmax`` is int64 of
        the same shape holding the flat index ``h*W + w`` of each maximum inside its
        ``(H, W)`` plane. Ties go to the first element in row-major window order; a window
        containing NaN yields NaN and the index of its last NaN. A window that holds no input
        element at all (only possible with dilation and padding) yields ``-inf`` and index -1.

    Raises:
        AssertionError: only for arguments that the ops layer (:mod:`autograd.ops.pool`) refuses
            first with a clear error (``x`` is not float32/float64, or a size argument is not an
            int / pair; ``x`` not 4-D, non-positive kernel_size/stride/dilation, negative
            padding, padding above half the kernel, or a window larger than the padded input;
            its messages start with ``"max_pool2d: "``).

    Loop nest: ``prange(N*C)`` over planes -> ``oh`` -> ``ow`` -> the in-bounds taps of the
    window (tap ranges are computed once per row/column, so the inner loops carry no
    padding tests). One pass over the input, one write per output.
    """
    op = "max_pool2d"
    x = _float_array(op, "x", x)
    assert x.ndim == 4, f"{op}: expected x of shape (N, C, H, W), got shape {x.shape}"
    k, s, p, d, H_out, W_out = _check_pool_args(op, x.shape, kernel_size, stride, padding,
                                                 dilation, ceil_mode)
    N, C = x.shape[0], x.shape[1]
    out = np.empty((N, C, H_out, W_out), dtype=x.dtype)
    argmax = np.empty((N, C, H_out, W_out), dtype=np.int64)
    _max_pool(x, out, argmax, k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1])
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
        AssertionError: only for arguments that the ops layer (:mod:`autograd.ops.pool`) refuses
            first with a clear error (``grad_out`` not float32/float64 or ``argmax`` not an
            integer array; ``grad_out``/``argmax`` shapes differ or do not match ``x_shape``'s
            (N, C), or an index lies outside ``[-1, H*W)``; its messages start with
            ``"max_pool2d_backward: "``).

    Loop nest: ``prange(N*C)`` over planes -> zero the plane -> one pass over the plane's
    outputs adding into the plane. All ``+=`` targets belong to the iteration's own plane, so
    no two threads ever write the same element (numba issue #3681 does not apply).
    """
    op = "max_pool2d_backward"
    grad_out = _float_array(op, "grad_out", grad_out)
    argmax = np.asarray(argmax)
    assert np.issubdtype(argmax.dtype, np.integer), \
        f"{op}: argmax must be an integer array, got dtype {argmax.dtype}"
    argmax = np.ascontiguousarray(argmax, dtype=np.int64)
    x_shape = _shape4(op, x_shape)
    assert grad_out.ndim == 4 and argmax.shape == grad_out.shape, (
        f"{op}: grad_out shape {grad_out.shape} and argmax shape {argmax.shape} must be "
        f"the same 4-D (N, C, H_out, W_out) shape"
    )
    assert grad_out.shape[:2] == x_shape[:2], (
        f"{op}: grad_out shape {grad_out.shape} does not match x_shape {x_shape} in (N, C)"
    )
    grad_x = np.empty(x_shape, dtype=grad_out.dtype)
    bad = _max_pool_backward(grad_out, argmax, grad_x)
    assert bad == 0, (
        f"{op}: {bad} argmax entries lie outside [-1, {x_shape[2] * x_shape[3]}) for "
        f"x_shape {x_shape}"
    )
    return grad_x


# ---------------------------------------------------------------------------
# window tables: average pooling and the adaptive poolings
# ---------------------------------------------------------------------------
# Average and adaptive pooling windows are contiguous, so each output row (column) is described
# by a table row ``[start, end, count]``: the input rows [start, end) it reads (already clipped
# to the input) and its share of the divisor. The divisor of output (oh, ow) is
# ``rows[oh, 2] * cols[ow, 2]`` (or ``divisor_override``). Tables are built in NumPy (tiny
# arrays), so the kernels below compile once per dtype whatever the geometry.

def _avg_table(n_out, size, k, s, p, count_include_pad):
    """PyTorch's avg_pool2d window bounds: ``start = o*s - p``, ``end = min(start + k,
    size + p)``; the divisor counts the padding inside [start, end) when
    ``count_include_pad``, else only the input elements."""
    start = np.arange(n_out, dtype=np.int64) * s - p
    end = np.minimum(start + k, size + p)
    c_start = np.maximum(start, 0)
    c_end = np.minimum(end, size)
    count = end - start if count_include_pad else np.maximum(c_end - c_start, 0)
    return np.ascontiguousarray(np.stack([c_start, c_end, count], axis=1))


def adaptive_pool_windows(size, n_out):
    """PyTorch's adaptive pooling windows: output ``o`` reads input
    ``[floor(o*size/n_out), ceil((o+1)*size/n_out))``.

    Returns an ``(n_out, 3)`` int64 table ``[start, end, end - start]``.
    """
    o = np.arange(n_out, dtype=np.int64)
    start = (o * size) // n_out
    end = ((o + 1) * size + n_out - 1) // n_out
    return np.ascontiguousarray(np.stack([start, end, end - start], axis=1))


def _avg_loop(src, dst, rows, cols, divisor, use_divisor, adjoint):
    """Average pooling of every plane (``adjoint`` False: ``src`` the input, ``dst`` the
    output) or its adjoint (``adjoint`` True: ``src`` the output gradient, ``dst`` the input
    gradient), one window walk for both; prange over the N*C planes.

    Window ``(oh, ow)`` covers rows ``[rows[oh, 0], rows[oh, 1])`` and columns
    ``[cols[ow, 0], cols[ow, 1])``; its divisor is ``divisor`` when ``use_divisor``
    (PyTorch's ``divisor_override``), else ``rows[oh, 2] * cols[ow, 2]``.

    * forward: each output = window sum (float64) / divisor, 0 for an empty window;
    * adjoint: the input-gradient plane is zeroed, then each output gradient / divisor is
      added over its window. Every ``+=`` lands in the iteration's own plane.

    Only ``dst`` is written (``src`` may be a read-only array)."""
    N, C = src.shape[0], src.shape[1]
    H = dst.shape[2] if adjoint else src.shape[2]
    W = dst.shape[3] if adjoint else src.shape[3]
    H_out, W_out = rows.shape[0], cols.shape[0]
    sf = src.reshape(src.size)
    df = dst.reshape(dst.size)
    for p in prange(N * C):
        x0 = p * H * W
        o0 = p * H_out * W_out
        if adjoint:
            for t in range(H * W):
                df[uint64(x0 + t)] = 0
        for oh in range(H_out):
            h0, h1, ch = rows[oh, 0], rows[oh, 1], rows[oh, 2]
            for ow in range(W_out):
                w0, w1, cw = cols[ow, 0], cols[ow, 1], cols[ow, 2]
                div = divisor if use_divisor else float(ch * cw)
                o = uint64(o0 + oh * W_out + ow)
                if adjoint:
                    if div == 0:
                        continue
                    v = sf[o] / div
                    for h in range(h0, h1):
                        base = x0 + h * W
                        for w in range(w0, w1):
                            df[uint64(base + w)] += v
                else:
                    acc = 0.0
                    for h in range(h0, h1):
                        base = x0 + h * W
                        for w in range(w0, w1):
                            acc += sf[uint64(base + w)]
                    df[o] = acc / div if div != 0 else 0.0


def _window_max_loop(x, out, argmax, rows, cols):
    """prange over planes: max of each contiguous window with its flat index (PyTorch's
    "v > best or v is NaN" rule, branch-free: ``_max_step``)."""
    N, C, H, W = x.shape
    H_out, W_out = rows.shape[0], cols.shape[0]
    xf = x.reshape(x.size)
    of = out.reshape(out.size)
    af = argmax.reshape(argmax.size)
    for p in prange(N * C):
        x0 = p * H * W
        o0 = p * H_out * W_out
        for oh in range(H_out):
            h0, h1 = rows[oh, 0], rows[oh, 1]
            for ow in range(W_out):
                w0, w1 = cols[ow, 0], cols[ow, 1]
                o = uint64(o0 + oh * W_out + ow)
                if h0 >= h1 or w0 >= w1:
                    of[o] = -np.inf
                    af[o] = -1
                    continue
                best_idx = h0 * W + w0
                best = xf[uint64(x0 + best_idx)]
                for h in range(h0, h1):
                    for w in range(w0, w1):
                        idx = h * W + w
                        best, best_idx = _max_step(best, best_idx, xf[uint64(x0 + idx)], idx)
                of[o] = best
                af[o] = best_idx


_avg = twins(_avg_loop)
_window_max = twins(_window_max_loop)
# the names tests/test_conv_pool.py checks parallel == serial with
_avg_parallel, _avg_serial = _avg
_window_max_parallel, _window_max_serial = _window_max


def _divisor(op, divisor_override):
    if divisor_override is None:
        return 1.0, False
    assert _is_int(divisor_override) and divisor_override != 0, \
        f"{op}: divisor_override must be a non-zero int or None, got {divisor_override!r}"
    return float(divisor_override), True


def _avg_tables(op, x_shape, kernel_size, stride, padding, ceil_mode, count_include_pad):
    k, s, p, _, H_out, W_out = _check_pool_args(op, x_shape, kernel_size, stride, padding, 1,
                                                ceil_mode)
    rows = _avg_table(H_out, x_shape[2], k[0], s[0], p[0], count_include_pad)
    cols = _avg_table(W_out, x_shape[3], k[1], s[1], p[1], count_include_pad)
    return rows, cols


def _input4(op, x):
    x = _float_array(op, "x", x)
    assert x.ndim == 4, f"{op}: expected x of shape (N, C, H, W), got shape {x.shape}"
    return x


def _grad4(op, grad_out, x_shape, out_hw):
    grad_out = _float_array(op, "grad_out", grad_out)
    expected = tuple(x_shape[:2]) + tuple(out_hw)
    assert grad_out.shape == expected, (
        f"{op}: grad_out has shape {grad_out.shape}, expected {expected} for x_shape "
        f"{tuple(x_shape)}")
    return grad_out


def avg_pool2d_forward(x, kernel_size, stride, padding, ceil_mode=False, count_include_pad=True,
                       divisor_override=None):
    """2-D average pooling (PyTorch's ``avg_pool2d``).

    Args:
        x: ``(N, C, H, W)`` float32 or float64.
        kernel_size, stride, padding: an int or a tuple of 2 ints (zero padding, at most half
            the kernel).
        ceil_mode: round the output size up (a last partial window).
        count_include_pad: divide by the window size including the zero padding inside it
            (PyTorch's default); otherwise by the number of input elements in the window.
        divisor_override: a non-zero int used as the divisor of every window.

    Returns:
        ``(N, C, H_out, W_out)`` in the dtype of ``x``, ``H_out`` as :func:`pool2d_output_size`.
        PyTorch's window rule: ``start = o*s - p``, ``end = min(start + k, H + p)``; a ceil-mode
        window running past ``H + p`` is clipped there, and so is its padding count.

    Raises:
        AssertionError: only for arguments that the ops layer (:mod:`autograd.ops.pool`) refuses
            first with a clear error (non-float ``x``, a bad size argument, or a non-int
            divisor_override; ``x`` not 4-D, bad geometry, divisor_override 0; its messages
            start with ``"avg_pool2d: "``).

    Loop nest: ``prange(N*C)`` planes -> ``oh`` -> ``ow`` -> window rows -> contiguous window
    columns, summed in float64; window bounds and divisors come from per-row/column tables.
    """
    op = "avg_pool2d"
    x = _input4(op, x)
    div, use_div = _divisor(op, divisor_override)
    rows, cols = _avg_tables(op, x.shape, kernel_size, stride, padding, ceil_mode,
                             count_include_pad)
    out = np.empty(x.shape[:2] + (rows.shape[0], cols.shape[0]), dtype=x.dtype)
    _avg(x, out, rows, cols, div, use_div, False)
    return out


def avg_pool2d_backward(grad_out, x_shape, kernel_size, stride, padding, ceil_mode=False,
                        count_include_pad=True, divisor_override=None):
    """Gradient of :func:`avg_pool2d_forward` (its adjoint): each output gradient divided by
    its window's divisor and added to every input element of the window.

    Args:
        grad_out: ``(N, C, H_out, W_out)`` float32 or float64.
        x_shape: ``(N, C, H, W)`` of the forward input; the other arguments as the forward.

    Returns:
        ``grad_x`` of shape ``x_shape`` in the dtype of ``grad_out``.

    Raises:
        AssertionError: only for arguments that the ops layer (:mod:`autograd.ops.pool`) refuses
            first with a clear error (as the forward, and for ``grad_out`` of the wrong shape;
            its messages start with ``"avg_pool2d_backward: "``).

    Loop nest: ``prange(N*C)`` planes -> zero the plane -> outputs -> window; overlapping
    windows add into the plane owned by the iteration only (no shared writes).
    """
    op = "avg_pool2d_backward"
    x_shape = _shape4(op, x_shape)
    div, use_div = _divisor(op, divisor_override)
    rows, cols = _avg_tables(op, x_shape, kernel_size, stride, padding, ceil_mode,
                             count_include_pad)
    grad_out = _grad4(op, grad_out, x_shape, (rows.shape[0], cols.shape[0]))
    grad_x = np.empty(x_shape, dtype=grad_out.dtype)
    _avg(grad_out, grad_x, rows, cols, div, use_div, True)
    return grad_x


def _adaptive_size(op, x_shape, output_size):
    """``output_size`` (int, or pair of int/None) -> (H_out, W_out); None keeps the input's."""
    if _is_int(output_size):
        sizes = (int(output_size), int(output_size))
    else:
        sizes = tuple(output_size)
        assert len(sizes) == 2 and all(v is None or _is_int(v) for v in sizes), \
            f"{op}: output_size must be an int or a tuple of 2 ints (or None), got {output_size!r}"
        sizes = tuple(int(x_shape[2 + a]) if v is None else int(v) for a, v in enumerate(sizes))
    assert min(sizes) >= 1, f"{op}: output_size must be positive, got {sizes}"
    assert x_shape[2] >= 1 and x_shape[3] >= 1, \
        f"{op}: expected an input with non-empty H and W, got x shape {tuple(x_shape)}"
    return sizes


def _adaptive_tables(op, x_shape, output_size):
    """The row and column window tables of an adaptive pooling of ``x_shape`` to
    ``output_size`` (checked by :func:`_adaptive_size`)."""
    H_out, W_out = _adaptive_size(op, x_shape, output_size)
    return adaptive_pool_windows(x_shape[2], H_out), adaptive_pool_windows(x_shape[3], W_out)


def adaptive_avg_pool2d_forward(x, output_size):
    """2-D adaptive average pooling (PyTorch's ``adaptive_avg_pool2d``).

    Args:
        x: ``(N, C, H, W)`` float32 or float64 with ``H, W >= 1``.
        output_size: an int or a tuple ``(H_out, W_out)``; ``None`` keeps that input size.

    Returns:
        ``(N, C, H_out, W_out)``: output ``(oh, ow)`` is the mean of input rows
        ``[floor(oh*H/H_out), ceil((oh+1)*H/H_out))`` and the same columns for ``ow``.

    Raises:
        AssertionError: only for arguments that the ops layer (:mod:`autograd.ops.pool`) refuses
            first with a clear error (non-float ``x`` or a bad ``output_size``; ``x`` not 4-D or
            empty in H/W, a non-positive output size; its messages start with
            ``"adaptive_avg_pool2d: "``).

    Loop nest: as :func:`avg_pool2d_forward` (the same compiled kernel, other tables).
    """
    op = "adaptive_avg_pool2d"
    x = _input4(op, x)
    rows, cols = _adaptive_tables(op, x.shape, output_size)
    out = np.empty(x.shape[:2] + (rows.shape[0], cols.shape[0]), dtype=x.dtype)
    _avg(x, out, rows, cols, 1.0, False, False)
    return out


def adaptive_avg_pool2d_backward(grad_out, x_shape):
    """Gradient of :func:`adaptive_avg_pool2d_forward`; the output size is ``grad_out``'s.

    Returns ``grad_x`` of shape ``x_shape`` in the dtype of ``grad_out``.

    Raises:
        AssertionError: only for arguments that the ops layer (:mod:`autograd.ops.pool`) refuses
            first with a clear error (non-float or non-4-D ``grad_out``, (N, C) not matching
            ``x_shape``; its messages start with ``"adaptive_avg_pool2d_backward: "``).
    """
    op = "adaptive_avg_pool2d_backward"
    x_shape = _shape4(op, x_shape)
    grad_out = _float_array(op, "grad_out", grad_out)
    assert grad_out.ndim == 4, \
        f"{op}: expected grad_out of shape (N, C, H_out, W_out), got shape {grad_out.shape}"
    rows, cols = _adaptive_tables(op, x_shape, grad_out.shape[2:])
    grad_out = _grad4(op, grad_out, x_shape, (rows.shape[0], cols.shape[0]))
    grad_x = np.empty(x_shape, dtype=grad_out.dtype)
    _avg(grad_out, grad_x, rows, cols, 1.0, False, True)
    return grad_x


def adaptive_max_pool2d_forward(x, output_size):
    """2-D adaptive max pooling (PyTorch's ``adaptive_max_pool2d``) with the argmax.

    Args:
        x: ``(N, C, H, W)`` float32 or float64 with ``H, W >= 1``.
        output_size: an int or a tuple ``(H_out, W_out)``; ``None`` keeps that input size.

    Returns:
        ``(out, argmax)``: the max over each adaptive window (see
        :func:`adaptive_avg_pool2d_forward`) and the int64 flat index ``h*W + w`` of that
        maximum in its plane (first maximum wins ties, NaN propagates: PyTorch's rule). The
        gradient is :func:`max_pool2d_backward` with this argmax.

    Raises:
        AssertionError: only for arguments that the ops layer (:mod:`autograd.ops.pool`) refuses
            first with a clear error (as :func:`adaptive_avg_pool2d_forward`, its messages
            starting with ``"adaptive_max_pool2d: "``).

    Loop nest: ``prange(N*C)`` planes -> ``oh`` -> ``ow`` -> window, branch-free max.
    """
    op = "adaptive_max_pool2d"
    x = _input4(op, x)
    rows, cols = _adaptive_tables(op, x.shape, output_size)
    out = np.empty(x.shape[:2] + (rows.shape[0], cols.shape[0]), dtype=x.dtype)
    argmax = np.empty(out.shape, dtype=np.int64)
    _window_max(x, out, argmax, rows, cols)
    return out, argmax
