"""Winograd minimal-filtering convolution F(2x2, 3x3) for 3x3 kernels, stride 1, dilation 1.

Pure array-in / array-out functions on ``numpy.ndarray`` (float32 or float64; outputs keep
the input dtype), a drop-in alternative to :func:`kernels.conv2d_forward` /
:func:`kernels.conv2d_backward` for the common case ``kernel 3x3, stride 1, dilation 1,
groups 1`` with any (also asymmetric) zero padding.

Algorithm (Lavin & Gray, 2016, "Fast Algorithms for Convolutional Neural Networks",
arXiv:1509.09308). The output is cut into 2x2 tiles; output tile ``(th, tw)`` of image
``n`` needs the 4x4 input tile ``d`` whose top-left corner is ``(2*th - top, 2*tw - left)``
(zero outside the image). With

    B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    G   = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
    A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]

the 2x2 output tile of the cross-correlation of ``d`` with a 3x3 filter ``g`` is
``A^T [(G g G^T) * (B^T d B)] A`` (``*`` elementwise): 16 multiplications instead of 36.
Summed over input channels, the 16 elementwise products become 16 independent GEMMs:

* ``U[xi, o, c] = (G w[o, c] G^T)[xi]`` (filter transform, ``xi = 4*k + l``),
* ``V[xi, c, t] = (B^T d[n, c, tile] B)[xi]`` (input transform, ``t`` runs over tiles),
* ``M[xi] = U[xi] @ V[xi]``: ``(C_out, C_in) @ (C_in, T)``, one ``np.matmul`` on the stack,
* ``out[n, o, tile] = A^T M[:, o, t] A + bias[o]`` (output transform).

Backward (the adjoints of the same linear chain):

* input gradient: a full correlation of ``grad_out`` with the flipped, transposed filter
  ``w'[c, o, i, j] = w[o, c, 2 - i, 2 - j]`` and padding ``2 - top``/``2 - left`` (negative
  means cropping), computed by the same forward algorithm;
* weight gradient: ``dM[xi, o, t] = (A dY A^T)[xi]`` for each 2x2 tile ``dY`` of ``grad_out``
  (zero outside it), ``dU[xi] = dM[xi] @ V[xi]^T`` (16 GEMMs ``(C_out, T) @ (T, C_in)``) and
  ``grad_w[o, c] = G^T dU[:, o, c] G``;
* bias gradient: the sum of ``grad_out`` over ``N, H_out, W_out`` (float64 accumulator, taken
  in the same pass as ``dM``).

Work is done in chunks of images so that a chunk's ``V`` and ``M`` stacks (about
``CHUNK_BYTES_PER_THREAD``) stay in cache while their GEMMs run; the 16 slices of a stack are
``STACK_PAD`` elements further apart than their size, so the transforms' 16 streams do not
fall into the same L1 sets. The transforms are ``parallel=True, nogil=True`` Numba loops with
``prange`` over the chunk's ``(image, channel)`` planes; each iteration writes only its own
plane's elements (no shared ``+=``). Threads (see ``_run_chunks``): at 1 thread, or with a
single chunk, the chunks run one after another in the calling thread (``prange`` over planes,
NumPy's BLAS threads in the GEMMs); with ``n > 1`` Numba threads, the chunks are dealt to
``n`` Python worker threads, each running its chunks' transforms on 1 Numba thread and its
GEMMs on 1 BLAS thread (the BLAS limit is process-wide while the workers run, through
threadpoolctl). The weight gradient sums each worker's ``dU`` in a fixed order, so results do
not depend on scheduling.

Measured (Conv2d(16, 32, 3, padding=1) on (32, 16, 32, 32) float32, one forward + backward
per iteration, median of 20, on a 2-core AMD EPYC shared with other jobs): 1 thread 14.4 ms
against 20.3 ms for the im2col kernels and 13.7 ms for PyTorch 2.13; 2 threads 9.0 ms
against 16.0 ms (PyTorch 7.7 ms). After a multi-threaded OpenBLAS call elsewhere, OpenBLAS's
idle threads spin for about 0.1 s and slow the worker threads down (the forward 2.4 -> 4.4
ms); ``OPENBLAS_THREAD_TIMEOUT=4`` in the environment removes that.

Accuracy: F(2x2, 3x3) transforms have coefficients 0, +-1, +-1/2, so float32 results differ
from a direct convolution by a few ulps times the size of the sums (measured against float64
in the tests).

Non-finite values: the transforms are exact only where their sums cancel, and NaN or inf do
not cancel. ``G^T dU G`` mixes a filter's 16 transformed entries into all 9 taps, so one NaN
pixel at the border of an unpadded image made ``grad_weight[o, c]`` NaN at all 9 taps (144
entries for 16 output channels, where a direct convolution and PyTorch give the 16 of the one
tap that sees the pixel); an inf meets its own negative inside a transform (``inf - inf``)
and gives NaN where a direct convolution gives inf. So both entry points run the im2col kernels,
whose NaN/inf propagation is a direct convolution's (PyTorch's), whenever an array they
transform holds a NaN or an inf. The checks: ``np.isfinite(a).all()`` on ``x`` and the
filter (one vectorised pass, about 0.12 ms per million float32 values: 1-2% of the forward +
backward of the benchmark layer below), while ``grad_out`` is checked for free by the
float64 plane sums that the weight gradient's transform takes anyway (its Winograd result is
dropped and im2col recomputes it in the rare non-finite case). Summing ``v - v`` inside the
input transform instead cost 4-5% (a dependency chain in its copy loop). ``bias`` is only
added, so it is not checked.
"""

import numpy as np
from numba import get_num_threads, njit, prange, set_num_threads, threading_layer, uint64
from threadpoolctl import ThreadpoolController

from ._twin import twins
from .conv import (_backward_arrays, _bias_or_zeros, _check_conv_args, _copy_and_sum,
                   _forward_arrays, _image_and_channel, conv2d_backward, conv2d_forward)

__all__ = ["conv2d_winograd_forward", "conv2d_winograd_backward", "winograd_applicable"]

CHUNK_BYTES_PER_THREAD = 2 * 1024 * 1024


# ---------------------------------------------------------------------------
# Numba loops
# ---------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def _pad_plane(xf, x0, H, W, buf, top, left):
    """buf[r, q] = x[r - top, q - left] (plane starting at xf[x0]), 0 outside the image.
    ``top``/``left`` may be negative (cropping)."""
    Hb, Wb = buf.shape
    for r in range(Hb):
        h = r - top
        if h < 0 or h >= H:
            for q in range(Wb):
                buf[r, q] = 0
            continue
        s0 = x0 + h * W - left
        for q in range(Wb):
            w = q - left
            if w >= 0 and w < W:
                buf[r, q] = xf[uint64(s0 + q)]
            else:
                buf[r, q] = 0


def _input_transform_loop(x, Vf, plane, Tc, n0, nimg, top, left, tH, tW):
    """V[xi, c, (n - n0)*tH*tW + th*tW + tw] = (B^T d B)[xi] for the 4x4 tile d of
    x[n, c] at (2*th - top, 2*tw - left), where V[xi, c, t] is Vf[xi*plane + c*Tc + t].
    prange over the chunk's nimg*C planes."""
    C = x.shape[1]
    H = x.shape[2]
    W = x.shape[3]
    T = tH * tW
    Wb = 2 * tW + 2
    xf = x.reshape(x.size)
    for nc in prange(nimg * C):
        nl, c = _image_and_channel(nc, C)
        buf = np.empty((2 * tH + 2, Wb), dtype=x.dtype)
        _pad_plane(xf, ((n0 + nl) * C + c) * H * W, H, W, buf, top, left)
        base = c * Tc + nl * T
        for th in range(tH):
            r = 2 * th
            t0 = base + th * tW
            for tw in range(tW):
                q = 2 * tw
                t = uint64(t0 + tw)
                # B^T along the rows (k), then B along the columns (l)
                a0 = buf[r, q] - buf[r + 2, q]
                a1 = buf[r, q + 1] - buf[r + 2, q + 1]
                a2 = buf[r, q + 2] - buf[r + 2, q + 2]
                a3 = buf[r, q + 3] - buf[r + 2, q + 3]
                b0 = buf[r + 1, q] + buf[r + 2, q]
                b1 = buf[r + 1, q + 1] + buf[r + 2, q + 1]
                b2 = buf[r + 1, q + 2] + buf[r + 2, q + 2]
                b3 = buf[r + 1, q + 3] + buf[r + 2, q + 3]
                c0 = buf[r + 2, q] - buf[r + 1, q]
                c1 = buf[r + 2, q + 1] - buf[r + 1, q + 1]
                c2 = buf[r + 2, q + 2] - buf[r + 1, q + 2]
                c3 = buf[r + 2, q + 3] - buf[r + 1, q + 3]
                e0 = buf[r + 1, q] - buf[r + 3, q]
                e1 = buf[r + 1, q + 1] - buf[r + 3, q + 1]
                e2 = buf[r + 1, q + 2] - buf[r + 3, q + 2]
                e3 = buf[r + 1, q + 3] - buf[r + 3, q + 3]
                Vf[t] = a0 - a2
                Vf[t + uint64(plane)] = a1 + a2
                Vf[t + uint64(2 * plane)] = a2 - a1
                Vf[t + uint64(3 * plane)] = a1 - a3
                Vf[t + uint64(4 * plane)] = b0 - b2
                Vf[t + uint64(5 * plane)] = b1 + b2
                Vf[t + uint64(6 * plane)] = b2 - b1
                Vf[t + uint64(7 * plane)] = b1 - b3
                Vf[t + uint64(8 * plane)] = c0 - c2
                Vf[t + uint64(9 * plane)] = c1 + c2
                Vf[t + uint64(10 * plane)] = c2 - c1
                Vf[t + uint64(11 * plane)] = c1 - c3
                Vf[t + uint64(12 * plane)] = e0 - e2
                Vf[t + uint64(13 * plane)] = e1 + e2
                Vf[t + uint64(14 * plane)] = e2 - e1
                Vf[t + uint64(15 * plane)] = e1 - e3


_input_transform = twins(_input_transform_loop, nogil=True)


def _output_transform_loop(Mf, plane, Tc, bias, out, n0, nimg, tH, tW):
    """out[n, o, 2*th + a, 2*tw + b] = (A^T M[:, o, t] A)[a, b] + bias[o] for the chunk's
    images, where M[xi, o, t] is Mf[xi*plane + o*Tc + t] (rows/columns past the output edge
    are dropped). prange over nimg*C_out planes."""
    C_out = out.shape[1]
    Ho = out.shape[2]
    Wo = out.shape[3]
    T = tH * tW
    of = out.reshape(out.size)
    for no in prange(nimg * C_out):
        nl, o = _image_and_channel(no, C_out)
        b = bias[o]
        y = np.empty((2, 2 * tW), dtype=out.dtype)
        base = o * Tc + nl * T
        p0 = ((n0 + nl) * C_out + o) * Ho * Wo
        for th in range(tH):
            t0 = base + th * tW
            for tw in range(tW):
                t = uint64(t0 + tw)
                m00 = Mf[t]
                m01 = Mf[t + uint64(plane)]
                m02 = Mf[t + uint64(2 * plane)]
                m03 = Mf[t + uint64(3 * plane)]
                m10 = Mf[t + uint64(4 * plane)]
                m11 = Mf[t + uint64(5 * plane)]
                m12 = Mf[t + uint64(6 * plane)]
                m13 = Mf[t + uint64(7 * plane)]
                m20 = Mf[t + uint64(8 * plane)]
                m21 = Mf[t + uint64(9 * plane)]
                m22 = Mf[t + uint64(10 * plane)]
                m23 = Mf[t + uint64(11 * plane)]
                m30 = Mf[t + uint64(12 * plane)]
                m31 = Mf[t + uint64(13 * plane)]
                m32 = Mf[t + uint64(14 * plane)]
                m33 = Mf[t + uint64(15 * plane)]
                # A^T along k
                s00 = m00 + m10 + m20
                s01 = m01 + m11 + m21
                s02 = m02 + m12 + m22
                s03 = m03 + m13 + m23
                s10 = m10 - m20 - m30
                s11 = m11 - m21 - m31
                s12 = m12 - m22 - m32
                s13 = m13 - m23 - m33
                # A along l
                q = 2 * tw
                y[0, q] = s00 + s01 + s02 + b
                y[0, q + 1] = s01 - s02 - s03 + b
                y[1, q] = s10 + s11 + s12 + b
                y[1, q + 1] = s11 - s12 - s13 + b
            for a in range(2):
                h = 2 * th + a
                if h < Ho:
                    d0 = p0 + h * Wo
                    for w in range(Wo):
                        of[uint64(d0 + w)] = y[a, w]


_output_transform = twins(_output_transform_loop, nogil=True)


def _grad_output_transform_loop(g, Df, plane, Tc, psum, n0, nimg, tH, tW):
    """dM[xi, o, t] = (A dY A^T)[xi] for the 2x2 tile dY of g[n, o] at (2*th, 2*tw) (0 past
    the edge), where dM[xi, o, t] is Df[xi*plane + o*Tc + t]; psum[n - n0, o] = sum of the
    plane g[n, o] (float64). prange over planes."""
    C_out = g.shape[1]
    Ho = g.shape[2]
    Wo = g.shape[3]
    T = tH * tW
    gf = g.reshape(g.size)
    for no in prange(nimg * C_out):
        nl, o = _image_and_channel(no, C_out)
        buf = np.zeros((2 * tH, 2 * tW), dtype=g.dtype)
        p0 = ((n0 + nl) * C_out + o) * Ho * Wo
        bf = buf.reshape(buf.size)
        total = 0.0
        for h in range(Ho):
            total += _copy_and_sum(gf, p0 + h * Wo, bf, h * 2 * tW, Wo)
        psum[nl, o] = total
        base = o * Tc + nl * T
        for th in range(tH):
            t0 = base + th * tW
            for tw in range(tW):
                t = uint64(t0 + tw)
                y00 = buf[2 * th, 2 * tw]
                y01 = buf[2 * th, 2 * tw + 1]
                y10 = buf[2 * th + 1, 2 * tw]
                y11 = buf[2 * th + 1, 2 * tw + 1]
                # A along k: rows [y0, y0 + y1, y0 - y1, -y1]
                r0a = y00
                r0b = y01
                r1a = y00 + y10
                r1b = y01 + y11
                r2a = y00 - y10
                r2b = y01 - y11
                r3a = -y10
                r3b = -y11
                # A^T along l: columns [a, a + b, a - b, -b]
                Df[t] = r0a
                Df[t + uint64(plane)] = r0a + r0b
                Df[t + uint64(2 * plane)] = r0a - r0b
                Df[t + uint64(3 * plane)] = -r0b
                Df[t + uint64(4 * plane)] = r1a
                Df[t + uint64(5 * plane)] = r1a + r1b
                Df[t + uint64(6 * plane)] = r1a - r1b
                Df[t + uint64(7 * plane)] = -r1b
                Df[t + uint64(8 * plane)] = r2a
                Df[t + uint64(9 * plane)] = r2a + r2b
                Df[t + uint64(10 * plane)] = r2a - r2b
                Df[t + uint64(11 * plane)] = -r2b
                Df[t + uint64(12 * plane)] = r3a
                Df[t + uint64(13 * plane)] = r3a + r3b
                Df[t + uint64(14 * plane)] = r3a - r3b
                Df[t + uint64(15 * plane)] = -r3b


_grad_output_transform = twins(_grad_output_transform_loop, nogil=True)


# ---------------------------------------------------------------------------
# filter transforms (small: C_out*C_in*16 values, plain NumPy in float64)
# ---------------------------------------------------------------------------

_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])


def _filter_transform(w):
    """U of shape (16, C_out, C_in), C-contiguous, dtype of w: U[4k + l, o, c] =
    (G w[o, c] G^T)[k, l]. Computed in float64 and rounded once."""
    C_out, C_in = w.shape[:2]
    u = np.einsum("ki,ocij,lj->kloc", _G, w.astype(np.float64), _G)
    return np.ascontiguousarray(u.reshape(16, C_out, C_in).astype(w.dtype))


def _filter_transform_adjoint(dU, dtype):
    """grad_w of shape (C_out, C_in, 3, 3): grad_w[o, c] = G^T dU[:, o, c] G (dU float64)."""
    C_out, C_in = dU.shape[1:]
    d = dU.reshape(4, 4, C_out, C_in)
    return np.einsum("ki,kloc,lj->ocij", _G, d, _G).astype(dtype)


# ---------------------------------------------------------------------------
# driver
# ---------------------------------------------------------------------------

def _chunk_images(N, per_image_bytes):
    """Images per chunk: the chunk's transform stacks stay near ``CHUNK_BYTES_PER_THREAD``."""
    return max(1, min(N, CHUNK_BYTES_PER_THREAD // max(1, per_image_bytes)))


STACK_PAD = 48


def _stack(rows, cols, dtype):
    """A flat buffer and its ``(16, rows, cols)`` view whose 16 slices are each C-contiguous
    but ``rows*cols + STACK_PAD`` elements apart: with ``rows*cols`` a power of two (the usual
    case) the transforms' 16 streams would otherwise share L1 cache sets (measured 3x slower
    transforms). ``np.matmul`` on the view still calls BLAS per slice (measured: same speed
    as a contiguous stack)."""
    plane = rows * cols + STACK_PAD
    flat = np.empty(16 * plane, dtype=dtype)
    it = flat.itemsize
    view = np.lib.stride_tricks.as_strided(flat, (16, rows, cols), (plane * it, cols * it, it))
    return flat, view


_executors = {}
_blas = []  # the ThreadpoolController, made at the first threaded call (0.5 ms to build)


def _run_chunks(task, N, c):
    """Run ``task(starts)`` over the chunks ``range(0, N, c)``; return the list of its
    results (one per worker).

    With one Numba thread, a single chunk, or Numba's ``workqueue`` threading layer (which
    cannot run parallel loops from two threads at once), one call in this thread: the
    transforms split their planes over the Numba threads and BLAS uses its own threads.
    Otherwise the chunks are dealt round-robin to ``min(threads, chunks)`` Python worker
    threads; each sets its (thread-local) Numba thread count to 1 and runs its chunks'
    transforms (``nogil``) and GEMMs with BLAS limited to 1 thread. The per-chunk GEMMs are
    small, and OpenBLAS's threading of small GEMMs costs more than it gains (measured on 2
    cores: the 16 GEMMs (32, 16) @ (16, 512) took 4.3 ms with 2 BLAS threads, 2.5 ms as two
    1-thread halves; with another process busy, 2-thread BLAS calls sometimes took 100x
    longer).
    """
    starts = list(range(0, N, c))
    threads = get_num_threads()
    try:
        layer = threading_layer()
    except ValueError:  # no parallel region has run yet
        layer = None
    if threads == 1 or len(starts) <= 1 or layer in (None, "workqueue"):
        return [task(starts)]
    workers = min(threads, len(starts))
    ex = _executors.get(workers)
    if ex is None:
        from concurrent.futures import ThreadPoolExecutor
        ex = _executors[workers] = ThreadPoolExecutor(workers, "tapegrad-winograd")

    def work(k):
        set_num_threads(1)
        return task(starts[k::workers])

    if not _blas:
        _blas.append(ThreadpoolController())
    with _blas[0].limit(limits=1, user_api="blas"):
        return list(ex.map(work, range(workers)))


def _winograd_conv(x, U, bias, top, left, Ho, Wo):
    """out (N, C_out, Ho, Wo) = correlation of x with the filters whose transform is
    U (16, C_out, C_in), input offset (-top, -left), plus bias; chunked over images."""
    N, C_in = x.shape[:2]
    C_out = U.shape[1]
    dt = x.dtype
    tH = (Ho + 1) // 2
    tW = (Wo + 1) // 2
    T = tH * tW
    out = np.empty((N, C_out, Ho, Wo), dtype=dt)
    if N == 0:
        return out
    c = _chunk_images(N, 16 * (C_in + C_out) * T * x.itemsize)

    def task(starts):
        with np.errstate(invalid="ignore"):  # NaN of a non-finite input: the result is dropped
            return chunks(starts)

    def chunks(starts):
        nimg = 0
        for n0 in starts:
            if min(c, N - n0) != nimg:
                nimg = min(c, N - n0)
                Vf, V = _stack(C_in, nimg * T, dt)
                Mf, M = _stack(C_out, nimg * T, dt)
            Tc = nimg * T
            _input_transform(x, Vf, V.strides[0] // dt.itemsize, Tc, n0, nimg, top, left, tH, tW)
            np.matmul(U, V, out=M)
            _output_transform(Mf, M.strides[0] // dt.itemsize, Tc, bias, out, n0, nimg, tH, tW)

    _run_chunks(task, N, c)
    return out


def winograd_applicable(weight_shape, stride, dilation, groups=1):
    """True when :func:`conv2d_winograd_forward` handles the convolution: a ``(C_out, C_in,
    3, 3)`` weight, stride 1, dilation 1 and groups 1 (ints or pairs)."""
    def ones(v):
        return v == 1 or (isinstance(v, (tuple, list)) and len(v) == 2 and v[0] == v[1] == 1)
    return (len(weight_shape) == 4 and tuple(weight_shape[2:]) == (3, 3)
            and ones(stride) and ones(dilation) and groups == 1)


def _check_3x3(op, weight):
    assert weight.ndim == 4 and weight.shape[2:] == (3, 3), \
        f"{op}: expected a weight of shape (C_out, C_in, 3, 3), got shape {weight.shape}"


def _padding_lo(op, x_shape, weight, padding):
    """(top, left), (H_out, W_out) after the shared conv2d argument checks."""
    _, _, p, _, Ho, Wo = _check_conv_args(op, x_shape, weight, 1, padding, 1)
    return p, Ho, Wo


def _finite(a):
    """No NaN and no inf in ``a`` (one vectorised pass)."""
    return bool(np.isfinite(a).all())


def conv2d_winograd_forward(x, weight, bias, padding):
    """2-D cross-correlation with a 3x3 kernel, stride 1, dilation 1, groups 1 by Winograd
    F(2x2, 3x3); the same result as ``conv2d_forward(x, weight, bias, 1, padding, 1)``.

    Args:
        x: ``(N, C_in, H, W)`` float32 or float64.
        weight: ``(C_out, C_in, 3, 3)``, same dtype.
        bias: ``(C_out,)`` same dtype, or ``None``.
        padding: zero padding: an int, ``(pH, pW)`` or ``((top, bottom), (left, right))``.

    Returns:
        ``out`` of shape ``(N, C_out, H_out, W_out)``, ``H_out = H + top + bottom - 2``
        (same for W), dtype of ``x``. When ``x`` or ``weight`` holds a NaN or an inf, it is
        computed by the im2col kernel instead (see the module docstring).

    Raises:
        AssertionError: only for arguments that the ops layer (:mod:`autograd.ops.conv`) refuses
            first with a clear error (non-float or mismatched dtypes, a bad padding argument;
            ``x`` not 4-D, weight not ``(C_out, C_in, 3, 3)``, channel mismatch, bias not
            ``(C_out,)``, negative padding or a kernel larger than the padded input; its
            messages start with ``"conv2d_winograd: "``).

    Work, per chunk of images (see the module docstring): input transform (``prange`` over
    planes: pad the plane into a local buffer, ``B^T`` along rows for a whole tile row, then
    ``B`` per tile), one stacked ``np.matmul`` ``(16, C_out, C_in) @ (16, C_in, T)``, output
    transform with the bias (``prange`` over output planes).
    """
    op = "conv2d_winograd"
    x, weight = _forward_arrays(op, x, weight)
    _check_3x3(op, weight)
    (top, left), Ho, Wo = _padding_lo(op, x.shape, weight, padding)
    if not (_finite(x) and _finite(weight)):  # see "Non-finite values"
        return conv2d_forward(x, weight, bias, 1, padding, 1)
    bias = _bias_or_zeros(op, bias, weight.shape[0], x.dtype, weight.shape)
    return _winograd_conv(x, _filter_transform(weight), bias, top, left, Ho, Wo)


def conv2d_winograd_backward(grad_out, x, weight, padding, need_input_grad=True,
                             need_weight_grad=True, need_bias_grad=True):
    """Gradients of :func:`conv2d_winograd_forward` with respect to x, weight and bias.

    Args:
        grad_out: ``(N, C_out, H_out, W_out)``, same dtype as ``x`` and ``weight``.
        x: the forward input ``(N, C_in, H, W)`` (read only for the weight gradient).
        weight: ``(C_out, C_in, 3, 3)``.
        padding: as given to the forward.
        need_input_grad, need_weight_grad, need_bias_grad: skip unneeded work (``None``).

    Returns:
        ``(grad_x, grad_weight, grad_bias)``, shapes of x, weight and ``(C_out,)``, dtype of
        ``grad_out``, or ``None`` where not requested (as ``conv2d_backward``). When an array
        that a requested gradient transforms (``grad_out``, and ``weight`` for ``grad_x``,
        ``x`` for ``grad_weight``) holds a NaN or an inf, the im2col backward runs instead.

    Raises:
        AssertionError: only for arguments that the ops layer (:mod:`autograd.ops.conv`) refuses
            first with a clear error (as the forward, plus ``grad_out`` not of the forward
            output shape; its messages start with ``"conv2d_winograd_backward: "``).

    Work: input gradient = the forward algorithm on ``grad_out`` with the flipped transposed
    filter and padding ``(2 - top, 2 - left)``; weight gradient per chunk of images: input
    transform of ``x`` (``V``), ``dM = A dY A^T`` of ``grad_out`` (with the bias sums), 16
    GEMMs ``dU[xi] += dM[xi] @ V[xi]^T``, then ``G^T dU G``.
    """
    op = "conv2d_winograd_backward"
    grad_out, x, weight = _backward_arrays(op, grad_out, x, weight)
    _check_3x3(op, weight)
    (top, left), Ho, Wo = _padding_lo(op, x.shape, weight, padding)
    N, C_in, H, W = x.shape
    C_out = weight.shape[0]
    expected = (N, C_out, Ho, Wo)
    assert grad_out.shape == expected, (
        f"{op}: grad_out has shape {grad_out.shape}, expected {expected} for x shape "
        f"{x.shape} and weight shape {weight.shape}")
    dt = grad_out.dtype
    grad_x = grad_weight = grad_bias = None

    def im2col():
        """A NaN or an inf in an array that a transform reads: the direct convolution's
        answer (see "Non-finite values")."""
        return conv2d_backward(grad_out, x, weight, 1, padding, 1, need_input_grad=need_input_grad,
                               need_weight_grad=need_weight_grad, need_bias_grad=need_bias_grad)

    # grad_out is checked for free by the weight gradient's plane sums (below); without it,
    # here
    if not ((not need_input_grad or _finite(weight))
            and (not need_weight_grad or _finite(x))
            and (need_weight_grad or not need_input_grad or _finite(grad_out))):
        return im2col()
    if need_input_grad:
        wt = weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
        grad_x = _winograd_conv(grad_out, _filter_transform(wt), np.zeros(C_in, dtype=dt),
                                2 - top, 2 - left, H, W)
    if need_bias_grad and not need_weight_grad:
        grad_bias = grad_out.sum(axis=(0, 2, 3), dtype=np.float64).astype(dt)
    elif need_weight_grad:
        tH = (Ho + 1) // 2
        tW = (Wo + 1) // 2
        T = tH * tW
        c = _chunk_images(N, 16 * (C_in + C_out) * T * x.itemsize) if N else 1

        def task(starts):
            with np.errstate(invalid="ignore"):  # NaN of a non-finite input: result dropped
                return chunks(starts)

        def chunks(starts):
            psum = np.empty((c, C_out), dtype=np.float64)
            gb = np.zeros(C_out, dtype=np.float64)
            dU = np.zeros((16, C_out, C_in), dtype=np.float64)
            dU_part = np.empty((16, C_out, C_in), dtype=dt)
            nimg = 0
            for n0 in starts:
                if min(c, N - n0) != nimg:
                    nimg = min(c, N - n0)
                    Df, dM = _stack(C_out, nimg * T, dt)
                    Vf, V = _stack(C_in, nimg * T, dt)
                Tc = nimg * T
                _grad_output_transform(grad_out, Df, dM.strides[0] // dt.itemsize, Tc, psum, n0,
                                       nimg, tH, tW)
                gb += psum[:nimg].sum(axis=0)
                _input_transform(x, Vf, V.strides[0] // dt.itemsize, Tc, n0, nimg, top, left,
                                 tH, tW)
                np.matmul(dM, V.transpose(0, 2, 1), out=dU_part)
                dU += dU_part
            return dU, gb

        parts = _run_chunks(task, N, c)
        dU = sum(p[0] for p in parts)
        gb = sum(p[1] for p in parts)
        # the float64 plane sums of grad_out are finite iff grad_out is (for float32 data;
        # float64 data near its maximum may overflow them, and then im2col runs: still right)
        if not np.isfinite(gb).all():
            return im2col()
        grad_weight = _filter_transform_adjoint(dU, dt)
        if need_bias_grad:
            grad_bias = gb.astype(dt)
    return grad_x, grad_weight, grad_bias
