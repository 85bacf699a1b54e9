"""Scaled dot-product attention kernels, fused per (batch, head).

Pure array-in / array-out functions on ``numpy.ndarray`` (no Tensor, no graph); float32 and
float64, outputs keep the input dtype. The formula is that of ``torch.nn.functional.
scaled_dot_product_attention`` (Vaswani et al., 2017, "Attention is all you need")::

    S = scale * Q K^T + M          (M: additive mask, -inf where a key does not take part)
    P = softmax(S, dim=-1)         (numerically stable: the row maximum is subtracted)
    O = P V

Layout: ``q (B, L, E)``, ``k (B, S, E)``, ``v (B, S, Ev)`` -> ``out (B, L, Ev)``, where ``B``
is every batch and head dimension flattened into one. The mask is ``(Bm, L, S)`` with an
int64 map ``mask_index (B,)`` from each head to its mask plane, so a mask broadcast over
heads or batches is stored once, never expanded to ``(B, L, S)``.

Memory
------
The forward keeps the per-row log-sum-exp ``lse = m + log(sum_j exp(S_ij - m))`` ``(B, L)``
for the backward, never the ``(B, L, S)`` probabilities. Each ``prange`` iteration owns one
(batch, head) and allocates its own scratch:

* forward: one ``(L, S)`` block holding the scores, then (in place) ``exp(S - max)``; the
  row normalisation ``1 / sum`` is applied to the ``(L, Ev)`` product instead;
* backward: two blocks of ``R = ceil(L / 2)`` query rows each (``P`` and ``dP`` of those rows,
  together at most one ``(L + 1, S)`` block), plus ``(S, E)`` and ``(S, Ev)`` accumulators.
  ``P`` is recomputed from ``Q``, ``K`` and the saved ``lse``.

So the extra memory of both passes is ``O(threads * L * S)``, independent of the number of
heads, instead of the ``O(B * L * S)`` of the composed ``softmax(Q K^T) V``.

Backward formulas (``D_i = sum_e dO_ie O_ie``)::

    dV = P^T dO,   dP = dO V^T,   dS = P * (dP - D),   dQ = scale * dS K,   dK = scale * dS^T Q

Fully masked rows (every key masked, or ``S == 0``) follow PyTorch 2.x: their output row is 0,
their ``lse`` is ``-inf`` and they pass no gradient.

Loop nest (both passes): ``prange(B)`` over heads -> one BLAS GEMM for ``Q K^T`` (``np.dot``
inside Numba calls BLAS directly) -> a loop over rows for the mask, the stable softmax (or its
recomputation) -> BLAS GEMMs for the products with ``V``, ``K``, ``Q``. Every iteration
writes only its own head's outputs, so there are no races. The row loops are compiled with
``fastmath`` reassociation (vectorised sums) but without the no-inf/no-nan flags, since masked
scores are ``-inf``. ``prange`` runs when there are at least as many heads as threads, and the
BLAS called inside it is then kept single-threaded (see :func:`_inner_blas_threads`); with
fewer heads the serial twin runs and the BLAS may use the threads.

Measured on the benchmark's shape (64 heads of 64 x 64, head dim 32, float32), one thread:
forward 2.5 ms and backward 3.3 ms with Numba's scalar ``exp`` (about a third of the time),
1.35 ms and 3.0 ms with the vectorised float32 :func:`_exp_shifted`; two threads roughly halve
both on an idle machine. Processing the backward in one block of ``L`` rows instead of two
would save about 15% of it, at the price of two ``(L, S)`` blocks per head.
"""

import numpy as np
from numba import njit, prange

from . import _blas
from ._twin import twins, use_parallel

__all__ = ["sdpa_forward", "sdpa_backward", "sdpa_check_mask"]


def _inner_blas_threads(n):
    """Set the threads of the BLAS that ``np.dot`` calls *inside* Numba (SciPy's own OpenBLAS in
    the PyPI wheels) to ``n``: 1 for the ``prange`` kernels, Numba's thread count for the serial
    ones (few, large heads), never above the runtime's cap. The mechanism and its measurement:
    :func:`kernels._blas.set_scipy_blas_threads`."""
    _blas.set_scipy_blas_threads(n)


def _pick(parallel, B, pair):
    """The kernel twin to run and the inner BLAS thread count it wants: ``prange`` over heads
    when there are at least as many heads as threads (``parallel=None``), else the serial twin
    with a multi-threaded BLAS (always the serial twin in a forked worker:
    :func:`kernels._twin.use_parallel`)."""
    import numba
    threads = numba.get_num_threads()
    parallel = use_parallel(parallel, B, threads)
    _inner_blas_threads(1 if parallel else threads)
    return pair.parallel if parallel else pair.serial


# ---------------------------------------------------------------------------
# one head
# ---------------------------------------------------------------------------

# fastmath without 'nnan'/'ninf' (masked scores are -inf): reassociation lets LLVM vectorise
# the row sums, 'arcp' turns divisions into multiplications.
_FM = {"reassoc", "contract", "arcp"}


@njit(cache=True, fastmath=_FM)
def _exp_shifted(row, shift, fast, ib):
    """``row[j] = exp(row[j] - shift)`` in place (every ``row[j] - shift <= 0`` here).

    ``fast`` (float32): Cephes' ``expf`` reduction and degree-6 polynomial, with ``2**n`` built
    from its IEEE bits in the int32 scratch ``ib`` (at least ``len(row)`` long) and multiplied
    in a second pass; both passes vectorise (Numba's scalar ``np.exp`` does not), about 5x
    faster, error below 1 ulp of float32; arguments below -87 give 0 (the float32 result
    underflows there anyway), NaN stays NaN. Otherwise (float64): ``np.exp``.
    """
    n_ = row.shape[0]
    if fast:
        fb = ib.view(np.float32)
        lo = np.float32(-87.0)
        for j in range(n_):
            x0 = row[j] - shift
            x = x0 if x0 > lo else lo
            n = np.floor(x * np.float32(1.4426950408889634) + np.float32(0.5))
            r = x - n * np.float32(0.693359375) - n * np.float32(-2.12194440e-4)
            y = (((((np.float32(1.9875691500e-4) * r + np.float32(1.3981999507e-3)) * r
                    + np.float32(8.3334519073e-3)) * r + np.float32(4.1665795894e-2)) * r
                  + np.float32(1.6666665459e-1)) * r + np.float32(5.0000001201e-1)) * (r * r) \
                + r + np.float32(1.0)
            row[j] = np.float32(0.0) if x0 < lo else y + (x0 - x0)  # x0 - x0: NaN stays NaN
            ib[j] = (np.int32(n) + 127) << 23
        for j in range(n_):
            row[j] *= fb[j]
    else:
        for j in range(n_):
            row[j] = np.exp(row[j] - shift)


@njit(cache=True, fastmath=_FM)
def _scores_row(srow, i, mrow, has_mask, causal, scale):
    """Scale one row of raw scores in place, add the mask, apply the causal rule; return
    the row maximum (``-inf`` when every key is masked)."""
    S = srow.shape[0]
    m = -np.inf
    for j in range(S):
        x = srow[j] * scale
        if has_mask:
            x += mrow[j]
        if causal and j > i:
            x = -np.inf
        srow[j] = x
        m = max(m, x)
    return m


@njit(cache=True, fastmath=_FM)
def _attn_fwd_head(q, k, v, mask, has_mask, causal, scale, out, lse, s, inv, fast, ib):
    """One (batch, head): out (L, Ev) and lse (L,) from q (L, E), k (S, E), v (S, Ev).

    ``s`` is an (L, S) scratch block: scores, then unnormalised ``exp(s - max)`` in place;
    ``inv`` (L,) scratch for the row normalisers, applied to the (L, Ev) product instead of
    the (L, S) block.
    """
    L = q.shape[0]
    S = k.shape[0]
    Ev = v.shape[1]
    np.dot(q, k.T, s)
    for i in range(L):
        srow = s[i]
        m = _scores_row(srow, i, mask[i], has_mask, causal, scale)
        if m == -np.inf:  # every key masked: PyTorch's output is 0
            for j in range(S):
                srow[j] = 0
            lse[i] = -np.inf
            inv[i] = 0
            continue
        _exp_shifted(srow, m, fast, ib)
        tot = m * 0  # m is finite here; a typed zero
        for j in range(S):
            tot += srow[j]
        inv[i] = (tot * 0 + 1) / tot
        lse[i] = m + np.log(tot)
    np.dot(s, v, out)
    for i in range(L):
        c = inv[i]
        for e in range(Ev):
            out[i, e] *= c


@njit(cache=True, fastmath=_FM)
def _attn_bwd_head(q, k, v, mask, has_mask, causal, scale, out, lse, gout, gq, gk, gv,
                   p, dp, tk, tv, fast, ib):
    """Gradients of one (batch, head), R query rows at a time (R = p.shape[0]).

    ``p``, ``dp``: (R, S) scratch for the probabilities and dP/dS of the current rows;
    ``tk`` (S, E), ``tv`` (S, Ev): scratch for the contributions of row blocks after the first.
    """
    L = q.shape[0]
    S = k.shape[0]
    Ev = v.shape[1]
    R = p.shape[0]
    for r0 in range(0, L, R):
        r1 = min(r0 + R, L)
        n = r1 - r0
        pb = p[:n]
        db = dp[:n]
        qb = q[r0:r1]
        gob = gout[r0:r1]
        np.dot(qb, k.T, pb)
        for ii in range(n):
            i = r0 + ii
            prow = pb[ii]
            li = lse[i]
            mrow = mask[i]
            if li == -np.inf:  # fully masked row: no gradient
                for j in range(S):
                    prow[j] = 0
                continue
            # P = exp(scale * s + mask - lse), recomputed in one pass
            for j in range(S):
                x = prow[j] * scale
                if has_mask:
                    x += mrow[j]
                prow[j] = x
            _exp_shifted(prow, li, fast, ib)
            if causal:
                for j in range(i + 1, S):
                    prow[j] = 0
        np.dot(gob, v.T, db)                      # dP = dO V^T
        for ii in range(n):
            i = r0 + ii
            d = scale * 0  # a zero of the array dtype
            for e in range(Ev):
                d += gout[i, e] * out[i, e]
            prow = pb[ii]
            drow = db[ii]
            for j in range(S):
                drow[j] = prow[j] * (drow[j] - d) * scale   # scale * dS
        np.dot(db, k, gq[r0:r1])                  # dQ = scale * dS K
        if r0 == 0:
            np.dot(pb.T, gob, gv)                 # dV = P^T dO
            np.dot(db.T, qb, gk)                  # dK = scale * dS^T Q
        else:
            np.dot(pb.T, gob, tv)
            np.dot(db.T, qb, tk)
            gv += tv
            gk += tk


# ---------------------------------------------------------------------------
# all heads: parallel and serial twins
# ---------------------------------------------------------------------------

def _attn_fwd_loop(q, k, v, mask, midx, has_mask, causal, scale, out, lse, fast):
    B, L = q.shape[0], q.shape[1]
    S = k.shape[1]
    for b in prange(B):
        s = np.empty((L, S), dtype=q.dtype)   # scratch of this head (the serial twin too)
        inv = np.empty(L, dtype=q.dtype)
        ib = np.empty(S, dtype=np.int32)
        _attn_fwd_head(q[b], k[b], v[b], mask[midx[b]], has_mask, causal, scale, out[b],
                       lse[b], s, inv, fast, ib)


def _attn_bwd_loop(q, k, v, mask, midx, has_mask, causal, scale, out, lse, gout, R,
                   gq, gk, gv, fast):
    B = q.shape[0]
    S, E, Ev = k.shape[1], k.shape[2], v.shape[2]
    for b in prange(B):
        p = np.empty((R, S), dtype=q.dtype)
        dp = np.empty((R, S), dtype=q.dtype)
        tk = np.empty((S, E), dtype=q.dtype)
        tv = np.empty((S, Ev), dtype=q.dtype)
        ib = np.empty(S, dtype=np.int32)
        _attn_bwd_head(q[b], k[b], v[b], mask[midx[b]], has_mask, causal, scale, out[b],
                       lse[b], gout[b], gq[b], gk[b], gv[b], p, dp, tk, tv, fast, ib)


_ATTN_FWD = twins(_attn_fwd_loop)
_ATTN_BWD = twins(_attn_bwd_loop)


# ---------------------------------------------------------------------------
# Python entry points (argument checks, degenerate sizes)
# ---------------------------------------------------------------------------

_OP = "scaled_dot_product_attention"


def _as3(name, a, dtype=None):
    a = np.asarray(a)
    if a.dtype != np.float32 and a.dtype != np.float64:
        raise TypeError(f"{_OP}: {name} must be float32 or float64, got dtype {a.dtype}")
    if dtype is not None and a.dtype != dtype:
        raise TypeError(f"{_OP}: {name} has dtype {a.dtype}, expected {dtype} (the dtype of q)")
    if a.ndim != 3:
        raise ValueError(f"{_OP}: {name} must be 3-D (B, rows, features), got shape {a.shape}")
    return np.ascontiguousarray(a)


def sdpa_check_mask(mask, mask_index, B, L, S, dtype):
    """Validate an additive mask ``(Bm, L, S)`` and its head map ``(B,)``; return both as
    C-contiguous arrays (a ``(1, L, 1)`` dummy, never read, and zeros when ``mask`` is
    ``None``) and whether there is a mask."""
    if mask is None:
        return np.zeros((1, L, 1), dtype=dtype), np.zeros(B, dtype=np.int64), False
    mask = np.ascontiguousarray(mask, dtype=dtype)
    if mask.ndim != 3 or mask.shape[1:] != (L, S):
        raise ValueError(f"{_OP}: additive mask must have shape (Bm, {L}, {S}), got "
                         f"{mask.shape}")
    if mask_index is None:
        if mask.shape[0] not in (1, B):
            raise ValueError(f"{_OP}: mask with {mask.shape[0]} planes for {B} heads needs a "
                             "mask_index")
        mask_index = np.zeros(B, np.int64) if mask.shape[0] == 1 else np.arange(B)
    mask_index = np.ascontiguousarray(mask_index, dtype=np.int64)
    if mask_index.shape != (B,) or (B and (mask_index.min() < 0
                                           or mask_index.max() >= mask.shape[0])):
        raise ValueError(f"{_OP}: mask_index must be {B} ints in [0, {mask.shape[0]}), got "
                         f"shape {mask_index.shape}")
    return mask, mask_index, True


def _pad_empty_features(q, k):
    """E == 0: every score is 0; one zero feature column gives the same scores to BLAS."""
    if q.shape[2] == 0:
        q = np.zeros(q.shape[:2] + (1,), q.dtype)
        k = np.zeros(k.shape[:2] + (1,), k.dtype)
    return q, k


def sdpa_forward(q, k, v, mask=None, mask_index=None, is_causal=False, scale=None,
                 parallel=None):
    """Fused scaled dot-product attention, forward.

    Args:
        q: ``(B, L, E)``; k: ``(B, S, E)``; v: ``(B, S, Ev)``; one float dtype for all three.
        mask: optional additive float mask ``(Bm, L, S)`` (``-inf`` masks a key out).
        mask_index: optional int64 ``(B,)``: the mask plane of each head (default: plane 0
            if ``Bm == 1``, else head ``b`` uses plane ``b``).
        is_causal: mask key ``j > i`` for query ``i`` (top-left aligned, PyTorch's rule).
        scale: multiplies ``Q K^T``; default ``1 / sqrt(E)``.
        parallel: ``True``: ``prange`` over heads (SciPy's BLAS inside set to 1 thread);
            ``False``: the serial twin (the BLAS may use Numba's thread count); ``None``
            (default): parallel when there are at least as many heads as threads.

    Returns:
        ``(out, lse)``: ``out (B, L, Ev)`` in q's dtype, ``lse (B, L)`` the log-sum-exp of each
        row's masked scores (``-inf`` for a fully masked row, whose output row is 0).

    Raises:
        TypeError: non-float or mixed dtypes. ValueError: mismatched shapes, naming them.
    """
    q = _as3("q", q)
    k = _as3("k", k, q.dtype)
    v = _as3("v", v, q.dtype)
    B, L, E = q.shape
    S = k.shape[1]
    if k.shape[0] != B or v.shape[0] != B or k.shape[2] != E or v.shape[1] != S:
        raise ValueError(f"{_OP}: expected q (B, L, E), k (B, S, E), v (B, S, Ev); got "
                         f"q {q.shape}, k {k.shape}, v {v.shape}")
    if scale is None:
        scale = 1.0 / np.sqrt(E) if E else 1.0
    mask, mask_index, has_mask = sdpa_check_mask(mask, mask_index, B, L, S, q.dtype)
    Ev = v.shape[2]
    if B == 0 or L == 0 or S == 0 or Ev == 0:  # nothing to attend to: zeros, like PyTorch
        return np.zeros((B, L, Ev), dtype=q.dtype), np.full((B, L), -np.inf, dtype=q.dtype)
    out = np.empty((B, L, Ev), dtype=q.dtype)   # every row is written by the kernel
    lse = np.empty((B, L), dtype=q.dtype)
    q, k = _pad_empty_features(q, k)
    fn = _pick(parallel, B, _ATTN_FWD)
    fn(q, k, v, mask, mask_index, has_mask, bool(is_causal), q.dtype.type(scale), out, lse,
       q.dtype == np.float32)
    return out, lse


def sdpa_backward(grad_out, q, k, v, out, lse, mask=None, mask_index=None, is_causal=False,
                  scale=None, parallel=None, block_rows=None):
    """Gradients of :func:`sdpa_forward` with respect to ``q``, ``k`` and ``v``.

    Args:
        grad_out: ``(B, L, Ev)``, the gradient of ``out``.
        q, k, v, mask, mask_index, is_causal, scale: as given to the forward.
        out, lse: the forward's results.
        parallel: as for the forward.
        block_rows: query rows per recomputed block (default ``ceil(L / 2)``, so the two
            scratch blocks of a head hold at most ``(L + 1) * S`` elements together).

    Returns:
        ``(grad_q, grad_k, grad_v)`` with the shapes and dtype of ``q``, ``k``, ``v``.
    """
    q = _as3("q", q)
    k = _as3("k", k, q.dtype)
    v = _as3("v", v, q.dtype)
    out = _as3("out", out, q.dtype)
    grad_out = _as3("grad_out", grad_out, q.dtype)
    lse = np.ascontiguousarray(lse, dtype=q.dtype)
    B, L, E = q.shape
    S, Ev = k.shape[1], v.shape[2]
    if grad_out.shape != (B, L, Ev) or out.shape != (B, L, Ev) or lse.shape != (B, L):
        raise ValueError(f"{_OP}: backward expected grad_out and out of shape {(B, L, Ev)} "
                         f"and lse {(B, L)}, got {grad_out.shape}, {out.shape}, {lse.shape}")
    if scale is None:
        scale = 1.0 / np.sqrt(E) if E else 1.0
    mask, mask_index, has_mask = sdpa_check_mask(mask, mask_index, B, L, S, q.dtype)
    if B == 0 or L == 0 or S == 0 or Ev == 0:
        return np.zeros_like(q), np.zeros_like(k), np.zeros_like(v)
    gq = np.empty_like(q)   # the kernel writes every element of the three gradients
    gk = np.empty_like(k)
    gv = np.empty_like(v)
    R = block_rows if block_rows is not None else (L + 1) // 2
    R = int(min(max(R, 1), L))
    qp, kp = _pad_empty_features(q, k)
    if qp is not q:  # E == 0: the gradients of q and k are empty; compute dV only
        gqp, gkp = np.empty_like(qp), np.empty_like(kp)
    else:
        gqp, gkp = gq, gk
    fn = _pick(parallel, B, _ATTN_BWD)
    fn(qp, kp, v, mask, mask_index, has_mask, bool(is_causal), q.dtype.type(scale), out, lse,
       grad_out, R, gqp, gkp, gv, q.dtype == np.float32)
    return gq, gk, gv
