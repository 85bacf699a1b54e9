"""2-D convolution kernels: im2col + BLAS GEMM (conv2d), GEMM + col2im (conv_transpose2d).

Pure array-in / array-out functions on ``numpy.ndarray`` (no Tensor, no graph).
Every array argument must be float32 or float64; outputs keep the input dtype.

Layout of the im2col buffer ("cols")
------------------------------------
``cols`` has shape ``(C_in*kH*kW, N*H_out*W_out)`` and is C-contiguous:

* row ``k = (c*kH + i)*kW + j`` holds input channel ``c`` seen through kernel tap ``(i, j)``;
* column ``n*H_out*W_out + oh*W_out + ow`` is output pixel ``(oh, ow)`` of image ``n``.

With this layout each of the three products of a convolution is a single GEMM on
contiguous (or plainly transposed) 2-D matrices, which NumPy hands to BLAS:

* forward:          ``out2 = W2 @ cols``             ``(C_out, K) @ (K, N*L)``
* weight gradient:  ``gW2 = g2 @ cols.T``            ``(C_out, N*L) @ (N*L, K)``
* input gradient:   ``gcols = W2.T @ g2``, then ``col2im``

where ``W2 = weight.reshape(C_out, K)``, ``L = H_out*W_out`` and ``g2`` is ``grad_out`` in
``(C_out, N*L)`` order. The price is one transpose of the output between ``(C_out, N, L)`` and
NCHW in each direction; both transposes are Numba loops that also add the bias (forward) or
sum the bias gradient (backward), so they cost one pass over the output each. Measured on
the MNIST network this beat a per-image layout ``(N, K, L)`` (N small GEMMs, and a weight
gradient that needs N GEMMs plus a reduction) and a row layout ``(N*L, K)`` (im2col writes
with a stride of K, about 3x slower).

``conv2d_forward``/``conv2d_backward`` run this in chunks of images (the same layout with
the chunk's images in place of N): each chunk's column block (about
``CHUNK_BYTES_PER_THREAD`` per Numba thread) is used
by its GEMM while it is still in cache, and the full column matrix is never stored (the
backward recomputes the chunk's columns for the weight gradient, which costs one cheap
im2col pass). ``im2col``/``col2im`` keep the whole-batch layout.

Transposed convolution (``conv_transpose2d_forward``) is conv2d's input-gradient path:
``cols = W2.T @ x2`` then ``col2im``; its backward is a conv2d (im2col + GEMMs).

Threading: the Numba loops split over batch x channel with ``prange``; every iteration writes
a disjoint block, so there are no races and no atomics. Each is one body compiled twice
(:func:`kernels._twin.twins`: ``_unfold.parallel``, ``_unfold.serial``; the serial twin runs
only where :mod:`kernels._twin` says). The GEMMs use NumPy's BLAS threads.
"""

import operator

import numpy as np
from numba import get_num_threads, njit, prange, uint64

from ._twin import twins

__all__ = [
    "conv2d_forward",
    "conv2d_backward",
    "im2col",
    "col2im",
    "conv2d_output_size",
    "conv_transpose2d_forward",
    "conv_transpose2d_backward",
    "conv_transpose2d_output_size",
]


# ---------------------------------------------------------------------------
# argument handling (plain Python; never inside njit code)
# ---------------------------------------------------------------------------
# The ops layer (autograd/ops/conv.py, pool.py) checks every argument once and raises the
# user-facing error; the entry points here only normalise them and ``assert`` the contract
# (kernels/__init__.py, "How to write a kernel"). The assert messages name the entry point
# for whoever calls a kernel directly with arguments the ops layer would have refused.

def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _pair(op, name, value):
    """Return ``value`` (an int or a pair of ints) as a tuple of two Python ints."""
    if _is_int(value):
        return int(value), int(value)
    items = tuple(value)
    assert len(items) == 2 and all(_is_int(v) for v in items), \
        f"{op}: {name} must be an int or a tuple of 2 ints, got {value!r}"
    return int(items[0]), int(items[1])


def _geometry(op, kernel_size, stride, padding, dilation):
    """The four size arguments as (h, w) int tuples (positive, padding non-negative)."""
    k = _pair(op, "kernel_size", kernel_size)
    s = _pair(op, "stride", stride)
    p = _pair(op, "padding", padding)
    d = _pair(op, "dilation", dilation)
    assert min(k) > 0 and min(s) > 0 and min(p) >= 0 and min(d) > 0, \
        f"{op}: bad geometry kernel_size {k}, stride {s}, padding {p}, dilation {d}"
    return k, s, p, d


def _float_array(op, name, a):
    """Return ``a`` as a C-contiguous float32/float64 array (no dtype conversion)."""
    a = np.asarray(a)
    assert a.dtype == np.float32 or a.dtype == np.float64, \
        f"{op}: {name} must be float32 or float64, got dtype {a.dtype}"
    return np.ascontiguousarray(a)


def _output_size(op, H, W, k, s, p, d, context="", p_hi=None):
    """PyTorch's Conv2d/MaxPool2d size formula (the dilated kernel must fit the padded
    input: asserted).

    ``p`` is the (top, left) padding and ``p_hi`` the (bottom, right) one (default: ``p``).
    ``context`` (e.g. the shapes involved) is appended to the assert message.
    """
    if p_hi is None:
        p_hi = p
    eff_h = d[0] * (k[0] - 1) + 1
    eff_w = d[1] * (k[1] - 1) + 1
    ph, pw = H + p[0] + p_hi[0], W + p[1] + p_hi[1]
    assert eff_h <= ph and eff_w <= pw, (
        f"{op}: kernel size (dilated) ({eff_h}, {eff_w}) is larger than the padded input "
        f"size ({ph}, {pw}) (input {H}x{W}, padding {p}, {p_hi}{context})")
    return (ph - eff_h) // s[0] + 1, (pw - eff_w) // s[1] + 1


def _conv_padding(op, padding):
    """Padding of a convolution as ``((top, left), (bottom, right))``.

    Accepts an int, a pair ``(pH, pW)`` (symmetric) or a pair of pairs
    ``((top, bottom), (left, right))`` (asymmetric, e.g. PyTorch's ``padding='same'`` with
    an even kernel extent).
    """
    if not _is_int(padding) and all(not _is_int(v) for v in padding):
        (t, b), (l, r) = (_pair(op, "padding", v) for v in padding)
        lo, hi = (t, l), (b, r)
    else:
        lo = hi = _pair(op, "padding", padding)
    assert min(lo) >= 0 and min(hi) >= 0, f"{op}: padding must be non-negative, got {padding}"
    return lo, hi


def conv2d_output_size(H, W, kernel_size, stride, padding, dilation):
    """Output height and width of a 2-D convolution (PyTorch's ``Conv2d`` formula).

    ``H_out = (H + 2*pH - dH*(kH-1) - 1) // sH + 1`` and the same for W.

    Args:
        H, W: input height and width (ints >= 0).
        kernel_size, stride, padding, dilation: an int or a tuple of 2 ints.

    Returns:
        ``(H_out, W_out)``, both >= 1.

    Raises:
        AssertionError: for arguments outside its contract (no op calls it; the ops layer checks
            the same things for the ops): a size argument is not an int / pair of ints;
            non-positive kernel/stride/dilation, negative padding, or a dilated kernel larger
            than the padded input.
    """
    op = "conv2d_output_size"
    k, s, p, d = _geometry(op, kernel_size, stride, padding, dilation)
    return _output_size(op, int(H), int(W), k, s, p, d)


# ---------------------------------------------------------------------------
# Numba loops
# ---------------------------------------------------------------------------
# Indices are cast to uint64 at the point of use: Numba emits a negative-index wraparound
# branch for signed indices it cannot prove non-negative, which blocks LLVM's vectorizer
# (measured 3-7x slower copies). All indices here are non-negative by construction.

@njit(cache=True)
def _valid_range(off, s, size, n_out):
    """Range [lo, hi) of positions o with 0 <= o*s + off < size, clipped to [0, n_out): the
    output positions a kernel tap reaches (conv) or the taps inside the input (pooling)."""
    lo = 0
    if off < 0:
        lo = (-off + s - 1) // s
    hi = 0
    if size - 1 - off >= 0:
        hi = (size - 1 - off) // s + 1
    if hi > n_out:
        hi = n_out
    if lo > hi:
        lo = hi
    return lo, hi


@njit(cache=True, inline="always")
def _image_and_channel(p, C):
    """``(n, c)`` of plane ``p = n*C + c`` of an ``(N, C, ...)`` array: the prange index of
    the plane loops here and in :mod:`kernels.depthwise` and :mod:`kernels.winograd` (``c``
    as ``p - n*C``, which reuses the division)."""
    n = p // C
    return n, p - n * C


@njit(cache=True, inline="always")
def _tap_row(i, j, row0, col0, ld, kW, sW, pW, dW, W, W_out):
    """Where tap ``(i, j)`` of a plane lives in the flat cols buffer and what it reads, for
    :func:`_im2col_plane` and its adjoint :func:`_col2im_plane`: ``(rbase, off, lo, hi)``,
    the offset of the tap's row (output row ``oh`` starts at ``rbase + oh*W_out``), the
    input column of output column 0 (``ow*sW + off``), and the range ``[lo, hi)`` of output
    columns that read inside the image (the others read padding)."""
    rbase = (row0 + i * kW + j) * ld + col0
    off = j * dW - pW
    lo, hi = _valid_range(off, sW, W, W_out)
    return rbase, off, lo, hi


@njit(cache=True)
def _im2col_plane(xf, x0, H, W, cf, row0, col0, ld, kH, kW, sH, sW, pH, pW, dH, dW, H_out, W_out):
    """Write the kH*kW rows of one (image, channel) plane into the flat cols buffer.

    xf[x0 + h*W + w] is the plane; rows start at cf[(row0 + t)*ld + col0] for tap t.
    """
    for i in range(kH):
        for j in range(kW):
            rbase, off, lo, hi = _tap_row(i, j, row0, col0, ld, kW, sW, pW, dW, W, W_out)
            for oh in range(H_out):
                ih = oh * sH - pH + i * dH
                d0 = rbase + oh * W_out
                if ih < 0 or ih >= H:
                    for ow in range(W_out):
                        cf[uint64(d0 + ow)] = 0
                    continue
                s0 = x0 + ih * W + off
                for ow in range(lo):
                    cf[uint64(d0 + ow)] = 0
                if sW == 1:
                    for ow in range(lo, hi):
                        cf[uint64(d0 + ow)] = xf[uint64(s0 + ow)]
                else:
                    for ow in range(lo, hi):
                        cf[uint64(d0 + ow)] = xf[uint64(s0 + ow * sW)]
                for ow in range(hi, W_out):
                    cf[uint64(d0 + ow)] = 0


@njit(cache=True)
def _col2im_plane(cf, row0, col0, ld, gf, g0, H, W, kH, kW, sH, sW, pH, pW, dH, dW, H_out, W_out):
    """Zero one (image, channel) plane of the flat gradient gf, then add its kH*kW cols rows."""
    for t in range(H * W):
        gf[uint64(g0 + t)] = 0
    for i in range(kH):
        for j in range(kW):
            rbase, off, lo, hi = _tap_row(i, j, row0, col0, ld, kW, sW, pW, dW, W, W_out)
            for oh in range(H_out):
                ih = oh * sH - pH + i * dH
                if ih < 0 or ih >= H:
                    continue
                d0 = rbase + oh * W_out
                s0 = g0 + ih * W + off
                if sW == 1:
                    for ow in range(lo, hi):
                        gf[uint64(s0 + ow)] += cf[uint64(d0 + ow)]
                else:
                    for ow in range(lo, hi):
                        gf[uint64(s0 + ow * sW)] += cf[uint64(d0 + ow)]


def _unfold_loop(src, dst, N, C, H, W, kH, kW, sH, sW, pH, pW, dH, dW, H_out, W_out, adjoint):
    """The plane loop of im2col and of its adjoint col2im: prange over the N*C planes of the
    ``(N, C, H, W)`` image; each iteration handles one plane and its own kH*kW row segments of
    the cols buffer (every write, and every ``+=`` of col2im, stays in that block).

    * im2col (``adjoint`` False): ``src`` is the image, ``dst`` the cols;
    * col2im (``adjoint`` True): ``src`` is the cols, ``dst`` the image (a gradient).

    Only ``dst`` is written, so ``src`` may be a read-only array."""
    L = H_out * W_out
    ld = N * L
    sf = src.reshape(src.size)
    df = dst.reshape(dst.size)
    for nc in prange(N * C):
        n, c = _image_and_channel(nc, C)
        if adjoint:
            _col2im_plane(sf, c * kH * kW, n * L, ld, df, nc * H * W, H, W,
                          kH, kW, sH, sW, pH, pW, dH, dW, H_out, W_out)
        else:
            _im2col_plane(sf, nc * H * W, H, W, df, c * kH * kW, n * L, ld,
                          kH, kW, sH, sW, pH, pW, dH, dW, H_out, W_out)


_unfold = twins(_unfold_loop)


def _im2col(x, cols, k, s, p, d, H_out, W_out):
    """im2col of the whole ``x`` ``(N, C, H, W)`` into ``cols`` (the module docstring's
    layout); ``k, s, d`` are (h, w) pairs and ``p`` the (top, left) padding."""
    _unfold(x, cols, *x.shape, *k, *s, *p, *d, H_out, W_out, False)


def _col2im(cols, grad, k, s, p, d, H_out, W_out):
    """col2im of ``cols`` into the whole ``grad`` ``(N, C, H, W)``: :func:`_im2col`'s
    adjoint."""
    _unfold(cols, grad, *grad.shape, *k, *s, *p, *d, H_out, W_out, True)


def _gemm_out_to_nchw_loop(out2, bias, out):
    """out[n, o, l] = out2[o, n*L + l] + bias[o]; out is (N, C_out, L). prange over N*C_out."""
    N, C_out, L = out.shape
    of = out2.reshape(out2.size)
    df = out.reshape(out.size)
    ld = N * L
    for no in prange(N * C_out):
        n, o = _image_and_channel(no, C_out)
        b = bias[o]
        s0 = o * ld + n * L
        d0 = no * L
        for l in range(L):
            df[uint64(d0 + l)] = of[uint64(s0 + l)] + b


_gemm_out_to_nchw = twins(_gemm_out_to_nchw_loop)


@njit(cache=True, nogil=True, fastmath={"reassoc"})
def _copy_and_sum(src, s0, dst, d0, L):
    """Copy L values src[s0:s0+L] to dst[d0:d0+L] and return their sum (float64 accumulator;
    ``reassoc`` lets LLVM vectorize the sum: a serial float64 add chain cost 1.7 ms of the
    Winograd benchmark's backward). Also used by :mod:`kernels.winograd`."""
    total = 0.0
    for l in range(L):
        v = src[uint64(s0 + l)]
        dst[uint64(d0 + l)] = v
        total += v
    return total


def _nchw_to_gemm_loop(grad_out, g2, grad_bias):
    """g2[o, n*L + l] = grad_out[n, o, l]; grad_bias[o] = sum over n, l. prange over C_out."""
    N, C_out, L = grad_out.shape
    gf = grad_out.reshape(grad_out.size)
    g2f = g2.reshape(g2.size)
    ld = N * L
    for o in prange(C_out):
        total = 0.0
        for n in range(N):
            total += _copy_and_sum(gf, (n * C_out + o) * L, g2f, o * ld + n * L, L)
        grad_bias[o] = total


_nchw_to_gemm = twins(_nchw_to_gemm_loop)


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------

def im2col(x, kernel_size, stride, padding, dilation):
    """Unfold image patches into columns (zero padding).

    Args:
        x: ``(N, C, H, W)`` float32 or float64 array (copied to C order if it is not).
        kernel_size, stride, padding, dilation: an int or a tuple of 2 ints.

    Returns:
        ``cols`` of shape ``(C*kH*kW, N*H_out*W_out)``, dtype of ``x``, with
        ``cols[(c*kH + i)*kW + j, (n*H_out + oh)*W_out + ow] =
        x[n, c, oh*sH - pH + i*dH, ow*sW - pW + j*dW]`` (0 where that falls in the padding).

    Raises:
        AssertionError: for arguments outside its contract (no op calls it; the ops layer checks
            the same things for the ops): ``x`` is not float32/float64, or a size argument is
            not an int / pair; ``x`` is not 4-D, bad stride/padding/dilation/kernel_size, or the
            dilated kernel is larger than the padded input.

    Loop nest: ``prange(N*C)`` over planes -> kernel taps ``(i, j)`` -> output rows ``oh`` ->
    a contiguous run of ``ow`` (the in-bounds run is a straight copy, vectorized for stride 1;
    the padding ends are zero-filled without per-element bounds tests). Each plane writes its
    own kH*kW row segments, so the parallel loop has no shared writes.
    """
    op = "im2col"
    x = _float_array(op, "x", x)
    assert x.ndim == 4, f"{op}: expected x of shape (N, C, H, W), got shape {x.shape}"
    k, s, p, d = _geometry(op, kernel_size, stride, padding, dilation)
    N, C, H, W = x.shape
    H_out, W_out = _output_size(op, H, W, k, s, p, d, f", x shape {x.shape}")
    cols = np.empty((C * k[0] * k[1], N * H_out * W_out), dtype=x.dtype)
    _im2col(x, cols, k, s, p, d, H_out, W_out)
    return cols


def col2im(cols, x_shape, kernel_size, stride, padding, dilation):
    """Fold columns back into an image, summing overlapping patches (adjoint of ``im2col``).

    For every ``x`` and ``y`` of matching shapes, ``<im2col(x), y> == <x, col2im(y)>``.

    Args:
        cols: ``(C*kH*kW, N*H_out*W_out)`` float32 or float64 array, ``im2col``'s layout.
        x_shape: ``(N, C, H, W)`` of the image to produce.
        kernel_size, stride, padding, dilation: an int or a tuple of 2 ints.

    Returns:
        Array of shape ``x_shape``, dtype of ``cols``; entries that no patch covers are 0.

    Raises:
        AssertionError: for arguments outside its contract (no op calls it; the ops layer checks
            the same things for the ops): ``cols`` is not float32/float64, or a size argument is
            not an int / pair; ``x_shape`` is not 4 non-negative ints, ``cols`` has the wrong
            shape, bad geometry, or the dilated kernel is larger than the padded image.

    Loop nest: ``prange(N*C)`` over planes -> zero the plane -> taps ``(i, j)`` -> ``oh`` ->
    contiguous ``ow`` run accumulated into the plane. Every ``+=`` lands in the plane owned by
    the current ``prange`` iteration (never in memory shared between iterations).
    """
    op = "col2im"
    cols = _float_array(op, "cols", cols)
    x_shape = _shape4(op, x_shape)
    k, s, p, d = _geometry(op, kernel_size, stride, padding, dilation)
    N, C, H, W = x_shape
    H_out, W_out = _output_size(op, H, W, k, s, p, d, f", x_shape {x_shape}")
    expected = (C * k[0] * k[1], N * H_out * W_out)
    assert cols.shape == expected, (
        f"{op}: cols has shape {cols.shape}, expected {expected} for x_shape {x_shape}, "
        f"kernel_size {k}, stride {s}, padding {p}, dilation {d}"
    )
    grad = np.empty(x_shape, dtype=cols.dtype)
    _col2im(cols, grad, k, s, p, d, H_out, W_out)
    return grad


def _shape4(op, shape):
    """Return ``shape`` as a tuple of 4 non-negative Python ints."""
    shape = tuple(operator.index(v) for v in shape)
    assert len(shape) == 4 and min(shape) >= 0, \
        f"{op}: x_shape must be 4 non-negative ints (N, C, H, W), got {shape}"
    return shape


def _check_conv_args(op, x_shape, weight, stride, padding, dilation, groups=1):
    """Shared checks of conv2d_forward/backward; returns (k, s, p, d, H_out, W_out) where
    ``p`` is the (top, left) padding (the bottom/right one only enters ``H_out, W_out``)."""
    assert weight.ndim == 4, (
        f"{op}: expected weight of shape (C_out, C_in / groups, kH, kW), got shape "
        f"{weight.shape}"
    )
    N, C, H, W = x_shape
    C_out, C_in, kH, kW = weight.shape
    assert _is_int(groups) and groups >= 1, f"{op}: groups must be a positive int, got {groups!r}"
    assert C == C_in * groups and C_out % groups == 0, (
        f"{op}: input has {C} channels but weight expects {C_in * groups} "
        f"(groups {groups}, x shape {tuple(x_shape)}, weight shape {weight.shape})"
        + (f"; C_out = {C_out} is not divisible by groups" if C_out % groups else "")
    )
    assert kH > 0 and kW > 0, f"{op}: weight has an empty kernel, shape {weight.shape}"
    k, s, _, d = _geometry(op, (kH, kW), stride, 0, dilation)
    p, p_hi = _conv_padding(op, padding)
    H_out, W_out = _output_size(
        op, H, W, k, s, p, d, f", x shape {tuple(x_shape)}, weight shape {weight.shape}", p_hi)
    return k, s, p, d, H_out, W_out


CHUNK_BYTES_PER_THREAD = 4 * 1024 * 1024


def _chunk_images(N, K, L, itemsize, threads=None):
    """Images per chunk: the chunk's im2col block ``(K, c*L)`` stays near
    ``CHUNK_BYTES_PER_THREAD`` times the Numba thread count (cache-sized per core, and
    enough columns for every BLAS thread), at least 1 image.

    Measured for Conv2d(16, 32, 3) on (32, 16, 32, 32) (forward + backward, a quiet 16-core
    machine):
    1 thread 4 MiB ~ 2 MiB < whole batch (-8%); 2 threads 8 MiB 15.9 ms vs 2 MiB 19.6 and
    whole batch 19.7; 4 threads 16 MiB 11.0 vs whole batch 10.4 (best 4 MiB 9.7).
    """
    if threads is None:
        threads = get_num_threads()
    per_image = max(1, K * L * itemsize)
    return max(1, min(N, CHUNK_BYTES_PER_THREAD * threads // per_image))


def _bias_or_zeros(op, bias, C_out, dtype, weight_shape):
    if bias is None:
        return np.zeros(C_out, dtype=dtype)
    bias = _float_array(op, "bias", bias)
    assert bias.dtype == dtype, f"{op}: x has dtype {dtype} but bias has dtype {bias.dtype}"
    assert bias.shape == (C_out,), (
        f"{op}: bias must have shape ({C_out},) for weight shape {weight_shape}, "
        f"got {bias.shape}"
    )
    return bias


def conv2d_forward(x, weight, bias, stride, padding, dilation, groups=1):
    """2-D cross-correlation (PyTorch's ``conv2d``) by im2col + GEMM, in chunks of images.

    Args:
        x: ``(N, C_in, H, W)`` float32 or float64.
        weight: ``(C_out, C_in / groups, kH, kW)``, same dtype as ``x``.
        bias: ``(C_out,)`` same dtype, or ``None``.
        stride, dilation: an int or a tuple of 2 ints.
        padding: zero padding, an int, a tuple ``(pH, pW)``, or ``((top, bottom), (left,
            right))`` for asymmetric padding (what PyTorch's ``padding='same'`` needs when
            ``dilation*(k-1)`` is odd: the extra row/column goes to the bottom/right).
        groups: input and output channels split into this many independent convolutions
            (default 1). The im2col rows of group ``g`` are the contiguous block of its input
            channels, so all groups run as one batched GEMM ``(groups, C_out/groups, K/groups)
            @ (groups, K/groups, c*L)`` into the same ``(C_out, c*L)`` buffer; depthwise
            convolutions (one input channel per group) have a direct kernel of their own,
            :func:`kernels.depthwise_conv2d_forward`.

    Returns:
        ``out`` of shape ``(N, C_out, H_out, W_out)`` in the dtype of ``x`` with
        ``H_out = (H + top + bottom - dH*(kH-1) - 1)//sH + 1`` (same for W).

    Raises:
        AssertionError: only for arguments that the ops layer (:mod:`autograd.ops.conv`) refuses
            first with a clear error (a non-float dtype, or ``x``/``weight``/``bias`` dtypes
            differ; ``x`` or ``weight`` not 4-D, channel mismatch, bias shape not ``(C_out,)``,
            non-positive stride/dilation, negative padding, or the dilated kernel larger than
            the padded input; its messages start with ``"conv2d: "``).

    Work, per chunk of ``c`` images (``c`` chosen so the chunk's im2col block
    ``(K, c*L)``, ``K = C_in*kH*kW``, ``L = H_out*W_out``, is about 4 MiB per thread):
    ``im2col`` (parallel over the chunk's planes) into a reused buffer, one BLAS GEMM
    ``(C_out, K) @ (K, c*L)`` while that block is still in cache, then one parallel pass
    (``prange`` over the chunk's ``c*C_out`` rows) that moves the result to NCHW and adds the
    bias. Measured on the benchmark's Conv2d(16, 32, 3) on (32, 16, 32, 32) this is 8-40%
    faster at 1 thread and ~20% at 2 threads than one im2col of the whole batch followed by
    one GEMM (whose 19 MB column matrix makes a round trip through memory), and the column
    matrix is not kept: the backward recomputes it chunk by chunk.
    """
    op = "conv2d"
    x, weight = _forward_arrays(op, x, weight)
    k, s, p, d, H_out, W_out = _check_conv_args(op, x.shape, weight, stride, padding, dilation,
                                                groups)
    N, C_in, H, W = x.shape
    C_out = weight.shape[0]
    bias = _bias_or_zeros(op, bias, C_out, x.dtype, weight.shape)
    K = C_in * k[0] * k[1]
    L = H_out * W_out
    out = np.empty((N, C_out, L), dtype=x.dtype)
    G = groups
    W2 = weight.reshape(G, C_out // G, K // G)
    c = _chunk_images(N, K, L, x.itemsize)
    cols = np.empty((K, c * L), dtype=x.dtype)
    out2 = np.empty((C_out, c * L), dtype=x.dtype)
    for n0 in range(0, N, c):
        n1 = min(N, n0 + c)
        m = (n1 - n0) * L
        cv = cols if n1 - n0 == c else np.empty((K, m), dtype=x.dtype)
        ov = out2 if n1 - n0 == c else np.empty((C_out, m), dtype=x.dtype)
        _im2col(x[n0:n1], cv, k, s, p, d, H_out, W_out)
        if G == 1:
            np.matmul(W2[0], cv, out=ov)
        else:
            np.matmul(W2, cv.reshape(G, K // G, m), out=ov.reshape(G, C_out // G, m))
        _gemm_out_to_nchw(ov, bias, out[n0:n1])
    return out.reshape(N, C_out, H_out, W_out)


def _forward_arrays(op, x, weight):
    """The float arrays of a convolution forward's inputs, checked: ``x`` 4-D and one dtype
    for both (shared by the im2col, transposed, Winograd and depthwise forward passes)."""
    x = _float_array(op, "x", x)
    weight = _float_array(op, "weight", weight)
    assert x.ndim == 4, f"{op}: expected x of shape (N, C_in, H, W), got shape {x.shape}"
    assert weight.dtype == x.dtype, \
        f"{op}: x has dtype {x.dtype} but weight has dtype {weight.dtype}"
    return x, weight


def _backward_arrays(op, grad_out, x, weight):
    """The float arrays of a convolution backward's inputs, checked: ``x`` 4-D and one dtype
    for all three (shared by the im2col and Winograd backward passes)."""
    grad_out = _float_array(op, "grad_out", grad_out)
    weight = _float_array(op, "weight", weight)
    x = _float_array(op, "x", x)
    assert x.ndim == 4, f"{op}: expected x of shape (N, C_in, H, W), got shape {x.shape}"
    assert weight.dtype == grad_out.dtype and x.dtype == grad_out.dtype, (
        f"{op}: grad_out has dtype {grad_out.dtype}, x {x.dtype} and weight {weight.dtype}; "
        "expected one dtype")
    return grad_out, x, weight


# weight-gradient GEMMs with an output of at most this many elements run on one BLAS thread
SERIAL_WEIGHT_GRAD_MAX = 1 << 14


def _weight_grad_blas(out_elements):
    """Context manager for the weight-gradient GEMM ``(C_out, m) @ (m, K)``: one BLAS thread
    when its output is small (``<= SERIAL_WEIGHT_GRAD_MAX``), else no change.

    Why: that GEMM has a long reduction (``m`` = images x output pixels) and a small output,
    which OpenBLAS splits over its threads with a synchronisation per block of the
    reduction; on a busy machine each one waits for a descheduled worker. Measured for the
    1x1 Conv2d(64, 64) on (32, 64, 32, 32) (a (64, 32768) @ (32768, 64) GEMM, 2 shared cores,
    load ~9): 2 BLAS threads median 325 ms (min 23), 1 thread median 31 ms (min 26). Uses
    :class:`kernels._blas.StepBlas` (the RNN time steps' mechanism: restores the count after).
    """
    from ._blas import StepBlas
    return StepBlas(0 if out_elements <= SERIAL_WEIGHT_GRAD_MAX else float("inf"))


def conv2d_backward(grad_out, x, weight, stride, padding, dilation,
                    need_input_grad=True, need_weight_grad=True, need_bias_grad=True, groups=1):
    """Gradients of ``conv2d_forward`` with respect to x, weight and bias.

    Args:
        grad_out: ``(N, C_out, H_out, W_out)``, same dtype as ``weight``.
        x: the forward input ``(N, C_in, H, W)`` (its values are read only for the weight
            gradient: the im2col columns are recomputed chunk by chunk, not stored).
        weight: ``(C_out, C_in / groups, kH, kW)`` forward weight.
        stride, padding, dilation, groups: as given to the forward (with groups, the two
            GEMMs are batched over the groups as in the forward).
        need_input_grad, need_weight_grad, need_bias_grad: skip the work for gradients that
            are not needed (their slot in the result is ``None``).

    Returns:
        ``(grad_x, grad_weight, grad_bias)`` with the shapes of x, weight, ``(C_out,)`` and the
        dtype of ``grad_out``, or ``None`` where not requested.

    Raises:
        AssertionError: only for arguments that the ops layer (:mod:`autograd.ops.conv`) refuses
            first with a clear error (non-float or mismatched dtypes; shapes inconsistent with
            each other (``grad_out`` not the forward output shape, channel mismatch, ...); its
            messages start with ``"conv2d_backward: "``).

    Work, per chunk of images (as the forward): one parallel pass moves the chunk of
    ``grad_out`` to ``g2 = (C_out, c*L)`` and sums its bias gradient; ``im2col`` of the chunk
    and the GEMM ``grad_W += g2 @ cols.T``; the GEMM ``grad_cols = W2.T @ g2`` and ``col2im``
    into the chunk's images (parallel over their planes; every ``+=`` stays in its plane).
    """
    op = "conv2d_backward"
    grad_out, x, weight = _backward_arrays(op, grad_out, x, weight)
    k, s, p, d, H_out, W_out = _check_conv_args(op, x.shape, weight, stride, padding, dilation,
                                                groups)
    N, C_in, H, W = x.shape
    C_out = weight.shape[0]
    K = C_in * k[0] * k[1]
    L = H_out * W_out
    G = groups
    expected = (N, C_out, H_out, W_out)
    assert grad_out.shape == expected, (
        f"{op}: grad_out has shape {grad_out.shape}, expected {expected} for x shape "
        f"{x.shape} and weight shape {weight.shape}"
    )
    grad_x = grad_weight = grad_bias = None
    if not (need_input_grad or need_weight_grad or need_bias_grad):
        return grad_x, grad_weight, grad_bias

    dt = grad_out.dtype
    g = grad_out.reshape(N, C_out, L)
    W2 = weight.reshape(G, C_out // G, K // G)
    c = _chunk_images(N, K, L, x.itemsize)
    gb = np.zeros(C_out, dtype=dt)
    gb_part = np.empty(C_out, dtype=dt)
    if need_weight_grad:
        gw = np.zeros((G, C_out // G, K // G), dtype=dt)
        gw_part = np.empty((G, C_out // G, K // G), dtype=dt)
    if need_input_grad:
        grad_x = np.empty(x.shape, dtype=dt)
    for n0 in range(0, N, c):
        n1 = min(N, n0 + c)
        m = (n1 - n0) * L
        g2 = np.empty((C_out, m), dtype=dt)
        _nchw_to_gemm(g[n0:n1], g2, gb_part)
        gb += gb_part
        if need_weight_grad:
            cols = np.empty((K, m), dtype=dt)
            _im2col(x[n0:n1], cols, k, s, p, d, H_out, W_out)
            with _weight_grad_blas(C_out * K // G):
                if G == 1:
                    np.matmul(g2, cols.T, out=gw_part[0])
                else:
                    np.matmul(g2.reshape(G, C_out // G, m),
                              cols.reshape(G, K // G, m).transpose(0, 2, 1), out=gw_part)
            gw += gw_part
        if need_input_grad:
            if G == 1:
                gcols = np.matmul(W2[0].T, g2)
            else:
                gcols = np.matmul(W2.transpose(0, 2, 1), g2.reshape(G, C_out // G, m)
                                  ).reshape(K, m)
            _col2im(gcols, grad_x[n0:n1], k, s, p, d, H_out, W_out)
    if need_bias_grad:
        grad_bias = gb
    if need_weight_grad:
        grad_weight = gw.reshape(weight.shape)
    return grad_x, grad_weight, grad_bias


# ---------------------------------------------------------------------------
# transposed convolution (the adjoint of conv2d with respect to its input)
# ---------------------------------------------------------------------------

def conv_transpose2d_output_size(H, W, kernel_size, stride, padding, output_padding, dilation):
    """Output height and width of a transposed 2-D convolution (PyTorch's
    ``ConvTranspose2d`` formula): ``H_out = (H - 1)*sH - 2*pH + dH*(kH - 1) + opH + 1``.

    Raises:
        AssertionError: for arguments outside its contract (no op calls it; the ops layer checks
            the same things for the ops): a size argument is not an int / pair of ints;
            non-positive kernel/stride/dilation, negative padding or output_padding,
            ``output_padding`` not smaller than either stride or dilation (PyTorch's rule), or a
            non-positive output size.
    """
    return _check_transpose_geometry("conv_transpose2d_output_size", int(H), int(W),
                                     kernel_size, stride, padding, output_padding,
                                     dilation)[4:]


def _check_transpose_geometry(op, H, W, kernel_size, stride, padding, output_padding,
                              dilation, context=""):
    k, s, p, d = _geometry(op, kernel_size, stride, padding, dilation)
    op_ = _pair(op, "output_padding", output_padding)
    for a in range(2):
        assert 0 <= op_[a] and (op_[a] < s[a] or op_[a] < d[a]), (
            f"{op}: output_padding must be non-negative and smaller than either stride or "
            f"dilation, got output_padding {op_}, stride {s}, dilation {d}")
    H_out = (H - 1) * s[0] - 2 * p[0] + d[0] * (k[0] - 1) + op_[0] + 1
    W_out = (W - 1) * s[1] - 2 * p[1] + d[1] * (k[1] - 1) + op_[1] + 1
    assert H_out > 0 and W_out > 0, (
        f"{op}: the output size ({H_out}, {W_out}) is not positive for input {H}x{W}, "
        f"kernel_size {k}, stride {s}, padding {p}, output_padding {op_}, dilation {d}"
        f"{context}")
    return k, s, p, d, H_out, W_out


def _check_transpose_args(op, x_shape, weight, stride, padding, output_padding, dilation):
    assert weight.ndim == 4, (
        f"{op}: expected weight of shape (C_in, C_out, kH, kW), got shape {weight.shape}")
    N, C, H, W = x_shape
    C_in, C_out, kH, kW = weight.shape
    assert C == C_in, (
        f"{op}: input has {C} channels but weight expects {C_in} "
        f"(x shape {tuple(x_shape)}, weight shape {weight.shape})")
    assert kH > 0 and kW > 0, f"{op}: weight has an empty kernel, shape {weight.shape}"
    return _check_transpose_geometry(
        op, H, W, (kH, kW), stride, padding, output_padding, dilation,
        f" (x shape {tuple(x_shape)}, weight shape {weight.shape})")


def conv_transpose2d_forward(x, weight, bias, stride, padding, output_padding, dilation):
    """Transposed 2-D convolution (PyTorch's ``conv_transpose2d``, groups=1): GEMM + col2im.

    It is the adjoint of ``conv2d`` with respect to its input: for the conv2d that maps a
    ``(N, C_out, H_out, W_out)`` image to ``(N, C_in, H, W)`` with ``weight``, this maps
    ``x`` back, so the code is conv2d's input-gradient path.

    Args:
        x: ``(N, C_in, H, W)`` float32 or float64.
        weight: ``(C_in, C_out, kH, kW)`` (PyTorch's layout), same dtype.
        bias: ``(C_out,)`` same dtype, or ``None``.
        stride, padding, output_padding, dilation: an int or a tuple of 2 ints;
            ``output_padding`` adds rows/columns at the bottom/right of the output and must be
            smaller than either the stride or the dilation.

    Returns:
        ``(out, x2)``: ``out`` is ``(N, C_out, H_out, W_out)`` with
        ``H_out = (H - 1)*sH - 2*pH + dH*(kH - 1) + opH + 1``; ``x2`` is ``x`` in GEMM layout
        ``(C_in, N*H*W)``, which ``conv_transpose2d_backward`` needs for the weight gradient.

    Raises:
        AssertionError: only for arguments that the ops layer (:mod:`autograd.ops.conv`) refuses
            first with a clear error (non-float or mismatched dtypes, a size argument not an int
            / pair; ``x``/``weight`` not 4-D, channel mismatch, bias not ``(C_out,)``, bad
            geometry or a non-positive output size; its messages start with
            ``"conv_transpose2d: "``).

    Work: one parallel pass moves ``x`` to ``x2 = (C_in, N*L)`` (``L = H*W``), one GEMM
    ``cols = W2.T @ x2`` with ``W2 = weight.reshape(C_in, C_out*kH*kW)``, then ``col2im``
    (``prange`` over the ``N*C_out`` output planes, each summing only into itself) and the
    bias added in place.
    """
    op = "conv_transpose2d"
    x, weight = _forward_arrays(op, x, weight)
    k, s, p, d, H_out, W_out = _check_transpose_args(op, x.shape, weight, stride, padding,
                                                     output_padding, dilation)
    N, C_in, H, W = x.shape
    C_out = weight.shape[1]
    if bias is not None:
        bias = _float_array(op, "bias", bias)
        assert bias.dtype == x.dtype, \
            f"{op}: x has dtype {x.dtype} but bias has dtype {bias.dtype}"
        assert bias.shape == (C_out,), (
            f"{op}: bias must have shape ({C_out},) for weight shape {weight.shape}, got "
            f"{bias.shape}")
    L = H * W
    x2 = np.empty((C_in, N * L), dtype=x.dtype)
    scratch = np.empty(C_in, dtype=x.dtype)
    _nchw_to_gemm(x.reshape(N, C_in, L), x2, scratch)
    cols = np.matmul(weight.reshape(C_in, C_out * k[0] * k[1]).T, x2)
    out = np.empty((N, C_out, H_out, W_out), dtype=x.dtype)
    _col2im(cols, out, k, s, p, d, H, W)
    if bias is not None:
        out += bias.reshape(1, C_out, 1, 1)
    return out, x2


def conv_transpose2d_backward(grad_out, x_shape, weight, x2, stride, padding, output_padding,
                              dilation, need_input_grad=True, need_weight_grad=True,
                              need_bias_grad=True):
    """Gradients of ``conv_transpose2d_forward`` with respect to x, weight and bias.

    Args:
        grad_out: ``(N, C_out, H_out, W_out)``, same dtype as ``weight``.
        x_shape: ``(N, C_in, H, W)`` of the forward input.
        weight: ``(C_in, C_out, kH, kW)``.
        x2: the ``(C_in, N*H*W)`` buffer returned by the forward (read only when
            ``need_weight_grad``; may be ``None`` otherwise).
        stride, padding, output_padding, dilation: as given to the forward.
        need_input_grad, need_weight_grad, need_bias_grad: skip unneeded work (``None``).

    Returns:
        ``(grad_x, grad_weight, grad_bias)`` in the dtype of ``grad_out``.

    Raises:
        AssertionError: only for arguments that the ops layer (:mod:`autograd.ops.conv`) refuses
            first with a clear error (as the forward, plus ``grad_out``/``x2`` of the wrong
            shape; its messages start with ``"conv_transpose2d_backward: "``).

    Work: ``cols = im2col(grad_out)`` with the geometry of the forward's adjoint conv2d
    (``prange`` over planes), then ``grad_x2 = W2 @ cols`` (the conv2d of ``grad_out``,
    moved to NCHW by one parallel pass) and ``grad_W2 = x2 @ cols.T`` (BLAS GEMMs);
    ``grad_bias`` sums ``grad_out`` over N, H_out, W_out.
    """
    op = "conv_transpose2d_backward"
    grad_out = _float_array(op, "grad_out", grad_out)
    weight = _float_array(op, "weight", weight)
    x_shape = _shape4(op, x_shape)
    assert weight.dtype == grad_out.dtype, (
        f"{op}: grad_out has dtype {grad_out.dtype} but weight has dtype {weight.dtype}")
    k, s, p, d, H_out, W_out = _check_transpose_args(op, x_shape, weight, stride, padding,
                                                     output_padding, dilation)
    N, C_in, H, W = x_shape
    C_out = weight.shape[1]
    K = C_out * k[0] * k[1]
    L = H * W
    expected = (N, C_out, H_out, W_out)
    assert grad_out.shape == expected, (
        f"{op}: grad_out has shape {grad_out.shape}, expected {expected} for x shape "
        f"{x_shape} and weight shape {weight.shape}")
    if need_weight_grad:
        assert x2 is not None, f"{op}: x2 is needed for the weight gradient but is None"
        x2 = np.asarray(x2)
        assert x2.shape == (C_in, N * L) and x2.dtype == grad_out.dtype, (
            f"{op}: x2 has shape {x2.shape} and dtype {x2.dtype}, expected {(C_in, N * L)} "
            f"and {grad_out.dtype}")
    grad_x = grad_weight = grad_bias = None
    if need_bias_grad:
        # (N, C_out, H_out * W_out), not -1: a -1 is ambiguous for an empty batch (N = 0)
        grad_bias = grad_out.reshape(N, C_out, H_out * W_out).sum(axis=2).sum(axis=0)
    if need_input_grad or need_weight_grad:
        cols = np.empty((K, N * L), dtype=grad_out.dtype)
        _im2col(grad_out, cols, k, s, p, d, H, W)
        if need_weight_grad:
            grad_weight = np.matmul(x2, cols.T).reshape(weight.shape)
        if need_input_grad:
            gx2 = np.matmul(weight.reshape(C_in, K), cols)
            grad_x = np.empty((N, C_in, L), dtype=grad_out.dtype)
            _gemm_out_to_nchw(gx2, np.zeros(C_in, dtype=grad_out.dtype), grad_x)
            grad_x = grad_x.reshape(x_shape)
    return grad_x, grad_weight, grad_bias
