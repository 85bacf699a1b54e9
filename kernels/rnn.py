"""Recurrent kernels: one layer/direction of an Elman RNN (tanh/relu), LSTM or GRU over a whole
sequence, forward and backward through time.

Pure array-in / array-out functions on ``numpy.ndarray`` (no Tensor, no graph); float32 and
float64, outputs keep the input dtype. The input projection ``xp = x W_ih^T + b_ih`` of every
time step is computed by the caller *before* the recurrence (one big GEMM), so these functions
only run the part that is sequential in time.

Loop nest of the forward (``G`` gates of size ``H``: RNN 1, LSTM 4, GRU 3)::

    for t in time order (L-1 .. 0 when reverse):
        hh = h_{t-1} @ W_hh^T                      one BLAS GEMM (N, H) x (H, G*H)
        for n in rows (prange when large):         one fused Numba pass over (N, H):
            for j in hidden units:                 gates, cell update, new h (and what the
                ...                                backward needs is stored once)

and of the backward (backpropagation through time, Werbos 1990)::

    for t in reverse time order:
        fused Numba pass: dh = gout_t + dh_next -> pre-activation gate gradients dG_t
        dh_next = dG_t @ W_hh                      one BLAS GEMM
    dW_hh = dG^T @ H_prev                          ONE GEMM over all L*N rows
    db_hh = sum of dG over time and batch

What makes them fast: the per-step work is one BLAS call plus one compiled loop that reads each
gate once (no temporaries, no per-gate NumPy passes); the weight gradient is one large GEMM
instead of L small ones; the nonlinearities use ``exp`` only, and in float32 a polynomial
``exp`` (:func:`_exp_f32`) that LLVM vectorises, so the LSTM gate loops (one contiguous loop of
length H per gate) run 8 lanes wide: measured on 2 busy cores for (N, H) = (32, 256), the
float32 LSTM forward step kernel takes ~90 us instead of ~270 us (NumPy's ``exp`` between three
compiled passes) or ~600 us (scalar ``expf``), and the backward ~40 us instead of ~200 us; the
small per-step GEMMs run on one BLAS thread (:class:`_StepBlas`), which on a busy 2-core
machine is several times faster than two. Memory is linear in L: the gate activations
``(L, N, G*H)``, the cell states (LSTM) and the outputs are kept, nothing else.

Cell equations (PyTorch's ``nn.RNN``/``nn.LSTM``/``nn.GRU`` documentation, gate order as there)::

    RNN:   h_t = act(xp_t + h_{t-1} W_hh^T + b_hh),  act = tanh or relu
    LSTM:  [i, f, g, o] = xp_t + h_{t-1} W_hh^T + b_hh     (Hochreiter & Schmidhuber, 1997)
           i, f, o = sigmoid(.), g = tanh(.)
           c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)
    GRU:   [r, z] = sigmoid(xp_rz + h_{t-1} W_hrz^T + b_hrz)          (Cho et al., 2014)
           hn = h_{t-1} W_hn^T + b_hn
           n = tanh(xp_n + r * hn),   h_t = (1 - z) * n + z * h_{t-1}

Saved per step: LSTM ``[i, f, g, o]`` (post-activation) and ``c_t``; GRU ``[r, z, n, hn]``;
RNN nothing but ``h_t``.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic, overload

from . import _blas
from ._twin import twins, use_parallel

__all__ = ["rnn_forward", "rnn_backward", "lstm_forward", "lstm_backward", "gru_forward",
           "gru_backward", "lstm_step_forward", "lstm_step_backward", "gru_step_forward",
           "gru_step_backward", "rnn_step_forward", "rnn_step_backward"]

# below this many hidden elements (N * H) per step the serial twin is used: starting the
# threads each step costs more than the split saves
PARALLEL_MIN = 1 << 15


def _pick(pair, parallel, size):
    """The serial or the parallel twin of a step kernel (:func:`kernels._twin.use_parallel`:
    the caller's choice, else by size; always serial in a forked worker)."""
    return pair.parallel if use_parallel(parallel, size, PARALLEL_MIN) else pair.serial


def _run_step(pair, parallel, size, *arrays):
    """Run one step kernel of the public per-step functions below: the twin that
    :func:`_pick` chooses for ``size`` hidden elements, called with ``arrays`` (inputs, then
    the preallocated outputs) and the constant 1 in the outputs' dtype (the kernels' ``one``,
    which keeps float32 arithmetic in float32); the last array is an output."""
    _pick(pair, parallel, size)(*arrays, arrays[-1].dtype.type(1))


# per-step GEMMs with fewer multiply-adds than this run on ONE BLAS thread: the thread policy of
# the time loops is kernels/_blas.py's StepBlas (its docstring has the measurement)
SERIAL_BLAS_MAX = _blas.SERIAL_BLAS_MAX
_StepBlas = _blas.StepBlas


# ---------------------------------------------------------------------------
# the nonlinearities: exp only, and for float32 an exp LLVM can vectorise
# ---------------------------------------------------------------------------
# ``tanh(x) = 2 / (1 + exp(-2x)) - 1`` and ``sigmoid(x) = 1 / (1 + exp(-x))`` are exact at +-inf
# and have an absolute error of a few ulp of 1 near 0; ``one`` is 1 of the array dtype, so
# float32 stays float32. The scalar ``expf``/``tanhf`` of glibc are calls LLVM cannot vectorise
# (there is no SVML here), so for float32 :func:`_exp` is the branch-free polynomial
# :func:`_exp_f32` and the gate loops run 8 lanes wide; float64 keeps ``np.exp`` (full precision
# for the float64 gradient checks). The kernels use ``error_model="numpy"``: with Python's model
# every division checks its divisor for zero, which stops the vectoriser (the divisors here are
# ``1 + exp(.) >= 1``).
@intrinsic
def _f32_from_bits(typingctx, bits):
    """The float32 whose bit pattern is the int32 ``bits`` (an LLVM bitcast)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float32))
    return types.float32(types.int32), codegen


@njit(cache=True, inline="always", error_model="numpy")
def _exp_f32(x):
    """``exp(x)`` in float32, max relative error 2.6e-7 (~2 ulp) for ``-87 <= x <= 88`` (clamped
    outside: 1.6e-38 and 1.7e38, which the gates treat as 0 and inf; exactly 0 and inf at
    ``-inf`` and ``inf``). Cody & Waite's range
    reduction ``x = n ln2 + r``, ``|r| <= ln2 / 2``, the degree-6 Taylor polynomial of ``e^r``
    (truncation error ``r^7 / 7! < 1.3e-7``) and ``2^n`` built in the exponent bits."""
    xc = min(max(x, np.float32(-87.0)), np.float32(88.0))
    n = (xc * np.float32(1.44269504) + np.float32(12582912.0)) - np.float32(12582912.0)  # round
    r = xc - n * np.float32(0.693359375) - n * np.float32(-2.12194440e-4)  # ln2 = hi + lo
    p = np.float32(1.0 / 720) * r + np.float32(1.0 / 120)
    p = p * r + np.float32(1.0 / 24)
    p = p * r + np.float32(1.0 / 6)
    p = p * r + np.float32(0.5)
    p = p * r + np.float32(1)
    p = p * r + np.float32(1)
    r = p * _f32_from_bits(np.int32((np.int32(n) + np.int32(127)) << np.int32(23)))
    # exact at the infinities (selects, so the loop still vectorises): a gate of an infinite
    # pre-activation must be exactly 0 or 1, so that its derivative is exactly 0, as PyTorch's
    r = np.float32(np.inf) if x == np.float32(np.inf) else r
    return np.float32(0.0) if x == np.float32(-np.inf) else r


def _exp(x):
    """``exp`` of a float32 (:func:`_exp_f32`) or float64 (``np.exp``) scalar inside a kernel."""
    return np.exp(x)


@overload(_exp, inline="always")
def _exp_typed(x):
    if x == types.float32:
        return lambda x: _exp_f32(x)
    return lambda x: np.exp(x)


@njit(cache=True, inline="always", error_model="numpy")
def _sigmoid(x, one):
    return one / (one + _exp(-x))


@njit(cache=True, inline="always", error_model="numpy")
def _tanh(x, one):
    return (one + one) / (one + _exp(-(x + x))) - one


# ---------------------------------------------------------------------------
# one time step; each is ONE loop over rows with ``prange``, compiled twice (kernels._twin)
# ---------------------------------------------------------------------------
def _twins(py_func):
    """The step kernels' :func:`kernels._twin.twins`, with NumPy's error model (no zero-division
    checks, which would keep the gate loops from vectorising: every divisor is at least 1) and
    without the GIL (the weight-gradient thread runs beside the time loop)."""
    return twins(py_func, error_model="numpy", nogil=True)


def _lstm_fwd_step(xp, hh, b, c_prev, gates, c, h, one):
    """Per row: the four gates, each a contiguous loop of length H (so LLVM vectorises it and
    the float32 exp runs 8 wide), then the cell update and the new ``h``."""
    N, H = h.shape
    for n in prange(N):
        for k in range(4):
            pre, rec, bias, act = (xp[n, k * H:(k + 1) * H], hh[n, k * H:(k + 1) * H],
                                   b[k * H:(k + 1) * H], gates[n, k * H:(k + 1) * H])
            if k == 2:
                for j in range(H):
                    act[j] = _tanh(pre[j] + rec[j] + bias[j], one)
            else:
                for j in range(H):
                    act[j] = _sigmoid(pre[j] + rec[j] + bias[j], one)
        i, f, g, o = gates[n, :H], gates[n, H:2 * H], gates[n, 2 * H:3 * H], gates[n, 3 * H:]
        cp, cn, hn = c_prev[n], c[n], h[n]
        for j in range(H):
            cc = f[j] * cp[j] + i[j] * g[j]
            cn[j] = cc
            hn[j] = o[j] * _tanh(cc, one)


def _lstm_bwd_step(gout, dh_next, dc, gates, c, c_prev, dG, one):
    """Per row: dL/dh -> the four pre-activation gradients, and ``dc`` updated in place to
    dL/dc_{t-1}; one contiguous loop of length H."""
    N, H = c.shape
    for n in prange(N):
        i, f, g, o = gates[n, :H], gates[n, H:2 * H], gates[n, 2 * H:3 * H], gates[n, 3 * H:]
        di, df, dg, do = dG[n, :H], dG[n, H:2 * H], dG[n, 2 * H:3 * H], dG[n, 3 * H:]
        go, dn, dcn, cn, cp = gout[n], dh_next[n], dc[n], c[n], c_prev[n]
        for j in range(H):
            dh = go[j] + dn[j]
            tc = _tanh(cn[j], one)
            dcc = dcn[j] + dh * o[j] * (one - tc * tc)
            di[j] = dcc * g[j] * i[j] * (one - i[j])
            df[j] = dcc * cp[j] * f[j] * (one - f[j])
            dg[j] = dcc * i[j] * (one - g[j] * g[j])
            do[j] = dh * tc * o[j] * (one - o[j])
            dcn[j] = dcc * f[j]


def _gru_fwd_step(xp, hh, b, h_prev, gates, h, one):
    N, H = h.shape
    for n in prange(N):
        for j in range(H):
            r = _sigmoid(xp[n, j] + hh[n, j] + b[j], one)
            z = _sigmoid(xp[n, H + j] + hh[n, H + j] + b[H + j], one)
            hn = hh[n, 2 * H + j] + b[2 * H + j]
            nn_ = _tanh(xp[n, 2 * H + j] + r * hn, one)
            gates[n, j] = r
            gates[n, H + j] = z
            gates[n, 2 * H + j] = nn_
            gates[n, 3 * H + j] = hn
            h[n, j] = (one - z) * nn_ + z * h_prev[n, j]


def _gru_bwd_step(gout, dh_next, gates, h_prev, dxp, dhh, dh_direct, one):
    N, H = h_prev.shape
    for n in prange(N):
        for j in range(H):
            r = gates[n, j]
            z = gates[n, H + j]
            nn_ = gates[n, 2 * H + j]
            hn = gates[n, 3 * H + j]
            dh = gout[n, j] + dh_next[n, j]
            dn = dh * (one - z) * (one - nn_ * nn_)
            dz = dh * (h_prev[n, j] - nn_) * z * (one - z)
            dr = dn * hn * r * (one - r)
            dxp[n, j] = dr
            dxp[n, H + j] = dz
            dxp[n, 2 * H + j] = dn
            dhh[n, j] = dr
            dhh[n, H + j] = dz
            dhh[n, 2 * H + j] = dn * r
            dh_direct[n, j] = dh * z


def _rnn_fwd_step(xp, hh, b, relu, h, one):
    N, H = h.shape
    for n in prange(N):
        for j in range(H):
            a = xp[n, j] + hh[n, j] + b[j]
            if relu:
                h[n, j] = a if a > 0 else one - one
            else:
                h[n, j] = _tanh(a, one)


def _rnn_bwd_step(gout, dh_next, h, relu, dG, one):
    N, H = h.shape
    for n in prange(N):
        for j in range(H):
            dh = gout[n, j] + dh_next[n, j]
            y = h[n, j]
            if relu:
                dG[n, j] = dh if y > 0 else one - one
            else:
                dG[n, j] = dh * (one - y * y)


_LSTM_FWD = _twins(_lstm_fwd_step)
_LSTM_BWD = _twins(_lstm_bwd_step)
_GRU_FWD = _twins(_gru_fwd_step)
_GRU_BWD = _twins(_gru_bwd_step)
_RNN_FWD = _twins(_rnn_fwd_step)
_RNN_BWD = _twins(_rnn_bwd_step)

# ---------------------------------------------------------------------------
# public per-step kernels (allocate their outputs; used by the tests and by anyone stepping
# by hand); the sequence drivers below call the twins directly into preallocated buffers
# ---------------------------------------------------------------------------
def lstm_step_forward(xp, hh, b, c_prev, parallel=None):
    """One LSTM step from the pre-activations: ``xp`` ``(N, 4H)`` (input projection incl.
    ``b_ih``), ``hh = h_prev W_hh^T`` ``(N, 4H)``, ``b`` ``(4H,)`` (``b_hh``), ``c_prev``
    ``(N, H)``. Returns ``(gates (N, 4H) = [i, f, g, o], c (N, H), h (N, H))``."""
    N, H = c_prev.shape
    gates = np.empty((N, 4 * H), xp.dtype)
    c = np.empty((N, H), xp.dtype)
    h = np.empty((N, H), xp.dtype)
    _run_step(_LSTM_FWD, parallel, N * H, xp, hh, b, c_prev, gates, c, h)
    return gates, c, h


def lstm_step_backward(gout, dh_next, dc, gates, c, c_prev, parallel=None):
    """Gradient of one LSTM step: ``gout + dh_next`` is dL/dh_t, ``dc`` dL/dc_t from the
    future. Returns ``(dG (N, 4H), dc_prev (N, H))``, ``dG`` the gradient of the four gate
    pre-activations (= of ``xp``, ``hh`` and ``b``)."""
    dc = dc.copy()
    dG = np.empty_like(gates)
    _run_step(_LSTM_BWD, parallel, dc.size, gout, dh_next, dc, gates, c, c_prev, dG)
    return dG, dc


def gru_step_forward(xp, hh, b, h_prev, parallel=None):
    """One GRU step: ``xp`` ``(N, 3H)`` (incl. ``b_ih``), ``hh = h_prev W_hh^T`` ``(N, 3H)``
    (no bias), ``b`` ``(3H,)`` (``b_hh``). Returns ``(gates (N, 4H) = [r, z, n, hn], h)``."""
    N, H = h_prev.shape
    gates = np.empty((N, 4 * H), xp.dtype)
    h = np.empty((N, H), xp.dtype)
    _run_step(_GRU_FWD, parallel, N * H, xp, hh, b, h_prev, gates, h)
    return gates, h


def gru_step_backward(gout, dh_next, gates, h_prev, parallel=None):
    """Gradient of one GRU step. Returns ``(dxp (N, 3H), dhh (N, 3H), dh_direct (N, H))``:
    the gradients of ``xp``, of ``hh + b`` and the part of dL/dh_prev that does not go
    through ``W_hh`` (the full one is ``dh_direct + dhh @ W_hh``)."""
    N, H = h_prev.shape
    dxp = np.empty((N, 3 * H), gates.dtype)
    dhh = np.empty((N, 3 * H), gates.dtype)
    dd = np.empty((N, H), gates.dtype)
    _run_step(_GRU_BWD, parallel, N * H, gout, dh_next, gates, h_prev, dxp, dhh, dd)
    return dxp, dhh, dd


def rnn_step_forward(xp, hh, b, relu=False, parallel=None):
    """One Elman RNN step: ``h = act(xp + hh + b)``, ``act`` relu or tanh; ``(N, H)``."""
    h = np.empty_like(xp)
    _run_step(_RNN_FWD, parallel, h.size, xp, hh, b, bool(relu), h)
    return h


def rnn_step_backward(gout, dh_next, h, relu=False, parallel=None):
    """Gradient of one Elman step w.r.t. its pre-activation, from ``h`` (the step's output)."""
    dG = np.empty_like(h)
    _run_step(_RNN_BWD, parallel, h.size, gout, dh_next, h, bool(relu), dG)
    return dG


# ---------------------------------------------------------------------------
# whole-sequence drivers
# ---------------------------------------------------------------------------
_GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}


def _check(mode, xp, w_hh, b_hh, h0, c0):
    """Validate and normalise the arguments of a sequence forward; returns them contiguous."""
    op = mode + "_forward"
    if xp.dtype != np.float32 and xp.dtype != np.float64:
        raise TypeError(f"{op}: xp must be float32 or float64, got dtype {xp.dtype}")
    if xp.ndim != 3:
        raise ValueError(f"{op}: xp must be (L, N, G*H), got shape {xp.shape}")
    L, N, GH = xp.shape
    G = _GATES[mode]
    H = w_hh.shape[1] if w_hh.ndim == 2 else -1
    if w_hh.shape != (G * H, H) or GH != G * H:
        raise ValueError(f"{op}: expected w_hh of shape ({G}*H, H) and xp (L, N, {G}*H), got "
                         f"w_hh {w_hh.shape} and xp {xp.shape}")
    for name, a, shape in (("b_hh", b_hh, (G * H,)), ("h0", h0, (N, H)), ("c0", c0, (N, H))):
        if a is not None and a.shape != shape:
            raise ValueError(f"{op}: expected {name} of shape {shape}, got {a.shape}")
        if a is not None and a.dtype != xp.dtype:
            raise TypeError(f"{op}: {name} has dtype {a.dtype}, expected {xp.dtype} (xp's)")
    if w_hh.dtype != xp.dtype:
        raise TypeError(f"{op}: w_hh has dtype {w_hh.dtype}, expected {xp.dtype} (xp's)")
    dt = xp.dtype
    b_hh = np.zeros(G * H, dt) if b_hh is None else np.ascontiguousarray(b_hh)
    h0 = np.zeros((N, H), dt) if h0 is None else np.ascontiguousarray(h0)
    if mode == "lstm":
        c0 = np.zeros((N, H), dt) if c0 is None else np.ascontiguousarray(c0)
    return np.ascontiguousarray(xp), np.ascontiguousarray(w_hh), b_hh, h0, c0, L, N, H


def _order(L, reverse):
    return range(L - 1, -1, -1) if reverse else range(L)


def _h_prev(out, h0, reverse):
    """``(L, N, H)``: the hidden state each step started from."""
    if reverse:
        return np.concatenate([out[1:], h0[None]], axis=0)
    return np.concatenate([h0[None], out[:-1]], axis=0)


_pool = None
_pool_lock = threading.Lock()


def _background():
    """The one worker thread that accumulates weight gradients next to the time loops."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(1, thread_name_prefix="tapegrad-rnn-dW")
    return _pool


def _accumulate(acc, dG, hp):
    """``acc = (dW, db)``: ``dW += dG^T hp`` and ``db += sum(dG)`` over the rows of a chunk of
    steps, ``dG`` ``(K, N, GH)`` and ``hp`` ``(K, N, H)``."""
    dW, db = acc
    K, N, GH = dG.shape
    d2 = dG.reshape(K * N, GH)
    dW += d2.T @ hp.reshape(K * N, hp.shape[2])
    db += d2.sum(0)


class _WeightGrad:
    """``dW_hh = sum_t dG_t^T h_{t-1}`` and ``db_hh = sum_t dG_t`` of a backward time loop,
    computed in chunks of steps by a background thread WHILE the loop runs, once the loop has
    written a chunk's ``dG`` (the loop calls :meth:`done` after each step, :meth:`result` at the
    end).

    Why: the loop's per-step GEMMs run on one BLAS thread (:class:`_StepBlas`), so the second
    core would idle through it; the weight gradient, which needs only finished steps, fills it
    instead of running as one GEMM after the loop. Each chunk's GEMM runs on one thread too
    (the BLAS count is process-wide). With one thread allowed (``_blas.cap == 1``) or
    ``enabled=False`` the chunks are summed in the calling thread after the loop (one GEMM).

    Args:
        dG: ``(L, N, G*H)`` the pre-activation gradients the loop writes; hp: ``(L, N, H)``
            the state each step started from; enabled: False when no weight gradient is needed
            (then :meth:`result` returns ``(None, None)``).
    """

    __slots__ = ("dG", "hp", "acc", "chunk", "lo", "hi", "jobs", "background")

    def __init__(self, dG, hp, enabled=True):
        L, _, GH = dG.shape
        self.dG, self.hp = dG, hp
        self.acc = ((np.zeros((GH, hp.shape[2]), dG.dtype), np.zeros(GH, dG.dtype))
                    if enabled else None)
        self.background = enabled and L >= 4 and (_blas.cap is None or _blas.cap >= 2)
        self.chunk = -(-L // 8)  # 8 chunks: the last one runs after the loop
        self.lo, self.hi, self.jobs = L, 0, []

    def done(self, t):
        """Step ``t``'s ``dG`` is written (the steps of a chunk are consecutive)."""
        if not self.background:
            return
        self.lo, self.hi = min(self.lo, t), max(self.hi, t + 1)
        if self.hi - self.lo == self.chunk:
            self._submit()

    def _submit(self):
        lo, hi = self.lo, self.hi
        self.jobs.append(_background().submit(_accumulate, self.acc, self.dG[lo:hi],
                                              self.hp[lo:hi]))
        self.lo, self.hi = self.dG.shape[0], 0

    def result(self):
        """``(dW (G*H, H), db (G*H,))``, or ``(None, None)`` when not enabled."""
        if self.acc is None:
            return None, None
        if not self.background:
            _accumulate(self.acc, self.dG, self.hp)
        elif self.hi > self.lo:
            self._submit()
        for job in self.jobs:
            job.result()
        return self.acc


def lstm_forward(xp, w_hh, b_hh=None, h0=None, c0=None, reverse=False, save=True,
                 parallel=None, out=None):
    """One LSTM layer/direction over a sequence.

    Args:
        xp: ``(L, N, 4H)`` input projections ``x_t W_ih^T + b_ih`` (gate order i, f, g, o).
        w_hh: ``(4H, H)``; b_hh: ``(4H,)`` or None; h0, c0: ``(N, H)`` or None (zeros).
        reverse: run from ``t = L-1`` down to 0 (the backward direction of a bidirectional
            layer); ``out[t]`` is still the state at position ``t``.
        save: keep the gate activations for :func:`lstm_backward` (else one buffer is reused).
        out: optional C-contiguous ``(L, N, H)`` array of xp's dtype to write the outputs into.

    Returns:
        ``(out (L, N, H), cs (L, N, H), gates (L, N, 4H) or None)``; ``h_n`` is ``out[-1]``
        (``out[0]`` when reverse), ``c_n`` likewise from ``cs``.

    Raises:
        TypeError, ValueError: for dtypes other than float32/float64 or mismatched shapes.
    """
    xp, w_hh, b_hh, h0, c0, L, N, H = _check("lstm", xp, w_hh, b_hh, h0, c0)
    dt = xp.dtype
    one = dt.type(1)
    if out is None:
        out = np.empty((L, N, H), dt)
    elif out.shape != (L, N, H) or out.dtype != dt or not out.flags.c_contiguous:
        raise ValueError(f"lstm_forward: out must be a C-contiguous {(L, N, H)} array of dtype "
                         f"{dt}, got {out.shape} {out.dtype}")
    cs = np.empty((L, N, H), dt)
    gates = np.empty((L if save else 1, N, 4 * H), dt)
    hh = np.empty((N, 4 * H), dt)
    wT = w_hh.T
    h, c = h0, c0
    step = _pick(_LSTM_FWD, parallel, N * H)
    with _StepBlas(N * H * 4 * H):
        for t in _order(L, reverse):
            np.matmul(h, wT, out=hh)
            step(xp[t], hh, b_hh, c, gates[t if save else 0], cs[t], out[t], one)
            h, c = out[t], cs[t]
    return out, cs, (gates if save else None)


def lstm_backward(gout, gc_n, w_hh, h0, c0, out, cs, gates, reverse=False, need_w=True,
                  parallel=None):
    """Backpropagation through time of :func:`lstm_forward`.

    Args:
        gout: ``(L, N, H)`` dL/d out (the gradient of ``h_n`` already added at its step).
        gc_n: ``(N, H)`` dL/d c_n or None.
        w_hh, h0, c0: as in the forward (h0/c0 arrays, zeros if there were none).
        out, cs, gates: what :func:`lstm_forward` returned.
        need_w: compute ``dW_hh`` and ``db_hh`` (one GEMM and one sum over all steps).

    Returns:
        ``(dxp (L, N, 4H), dW_hh (4H, H) or None, db_hh (4H,) or None, dh0 (N, H),
        dc0 (N, H))``; ``dxp`` is also the gradient of the gate pre-activations.
    """
    L, N, H = out.shape
    dt = out.dtype
    one = dt.type(1)
    gout = np.ascontiguousarray(gout, dtype=dt)
    dG = np.empty((L, N, 4 * H), dt)
    dh_next = np.zeros((N, H), dt)
    dc = np.zeros((N, H), dt) if gc_n is None else np.array(gc_n, dtype=dt, order="C")
    step = _pick(_LSTM_BWD, parallel, N * H)
    wg = _WeightGrad(dG, _h_prev(out, h0, reverse) if need_w else None, need_w)
    with _StepBlas(N * H * 4 * H):
        for t in reversed(_order(L, reverse)):
            if reverse:
                c_prev = cs[t + 1] if t < L - 1 else c0
            else:
                c_prev = cs[t - 1] if t > 0 else c0
            step(gout[t], dh_next, dc, gates[t], cs[t], c_prev, dG[t], one)
            wg.done(t)
            np.matmul(dG[t], w_hh, out=dh_next)
    dW, db = wg.result()
    return dG, dW, db, dh_next, dc


def gru_forward(xp, w_hh, b_hh=None, h0=None, reverse=False, save=True, parallel=None):
    """One GRU layer/direction over a sequence (PyTorch's GRU: ``n = tanh(xp_n + r * (h W_hn^T
    + b_hn))``).

    Args:
        xp: ``(L, N, 3H)`` input projections incl. ``b_ih`` (gate order r, z, n).
        w_hh: ``(3H, H)``; b_hh: ``(3H,)`` or None; h0: ``(N, H)`` or None.
        reverse, save: as in :func:`lstm_forward`.

    Returns:
        ``(out (L, N, H), gates (L, N, 4H) = [r, z, n, hn] or None)``.
    """
    xp, w_hh, b_hh, h0, _, L, N, H = _check("gru", xp, w_hh, b_hh, h0, None)
    dt = xp.dtype
    one = dt.type(1)
    out = np.empty((L, N, H), dt)
    gates = np.empty((L if save else 1, N, 4 * H), dt)
    hh = np.empty((N, 3 * H), dt)
    wT = w_hh.T
    step = _pick(_GRU_FWD, parallel, N * H)
    h = h0
    with _StepBlas(N * H * 3 * H):
        for t in _order(L, reverse):
            np.matmul(h, wT, out=hh)
            step(xp[t], hh, b_hh, h, gates[t if save else 0], out[t], one)
            h = out[t]
    return out, (gates if save else None)


def gru_backward(gout, w_hh, h0, out, gates, reverse=False, need_w=True, parallel=None):
    """Backpropagation through time of :func:`gru_forward`.

    Returns:
        ``(dxp (L, N, 3H), dW_hh (3H, H) or None, db_hh (3H,) or None, dh0 (N, H))``.
    """
    L, N, H = out.shape
    dt = out.dtype
    one = dt.type(1)
    gout = np.ascontiguousarray(gout, dtype=dt)
    dxp = np.empty((L, N, 3 * H), dt)
    dhh = np.empty((L, N, 3 * H), dt)
    dh_next = np.zeros((N, H), dt)
    dd = np.empty((N, H), dt)
    hp = _h_prev(out, h0, reverse)
    step = _pick(_GRU_BWD, parallel, N * H)
    wg = _WeightGrad(dhh, hp, need_w)
    with _StepBlas(N * H * 3 * H):
        for t in reversed(_order(L, reverse)):
            step(gout[t], dh_next, gates[t], hp[t], dxp[t], dhh[t], dd, one)
            wg.done(t)
            np.matmul(dhh[t], w_hh, out=dh_next)
            dh_next += dd
    dW, db = wg.result()
    return dxp, dW, db, dh_next


def rnn_forward(xp, w_hh, b_hh=None, h0=None, relu=False, reverse=False, parallel=None):
    """One Elman RNN layer/direction: ``h_t = act(xp_t + h_{t-1} W_hh^T + b_hh)``.

    Returns:
        ``out (L, N, H)`` (all the backward needs).
    """
    xp, w_hh, b_hh, h0, _, L, N, H = _check("rnn_relu" if relu else "rnn_tanh", xp, w_hh,
                                            b_hh, h0, None)
    one = xp.dtype.type(1)
    out = np.empty((L, N, H), xp.dtype)
    hh = np.empty((N, H), xp.dtype)
    wT = w_hh.T
    step = _pick(_RNN_FWD, parallel, N * H)
    h = h0
    with _StepBlas(N * H * H):
        for t in _order(L, reverse):
            np.matmul(h, wT, out=hh)
            step(xp[t], hh, b_hh, bool(relu), out[t], one)
            h = out[t]
    return out


def rnn_backward(gout, w_hh, h0, out, relu=False, reverse=False, need_w=True, parallel=None):
    """Backpropagation through time of :func:`rnn_forward`.

    Returns:
        ``(dxp (L, N, H), dW_hh (H, H) or None, db_hh (H,) or None, dh0 (N, H))``.
    """
    L, N, H = out.shape
    dt = out.dtype
    one = dt.type(1)
    gout = np.ascontiguousarray(gout, dtype=dt)
    dG = np.empty((L, N, H), dt)
    dh_next = np.zeros((N, H), dt)
    step = _pick(_RNN_BWD, parallel, N * H)
    wg = _WeightGrad(dG, _h_prev(out, h0, reverse) if need_w else None, need_w)
    with _StepBlas(N * H * H):
        for t in reversed(_order(L, reverse)):
            step(gout[t], dh_next, out[t], bool(relu), dG[t], one)
            wg.done(t)
            np.matmul(dG[t], w_hh, out=dh_next)
    dW, db = wg.result()
    return dG, dW, db, dh_next
