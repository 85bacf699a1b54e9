"""Fused kernels: cross-entropy from logits, layer normalisation, embedding backward.

Pure array-in / array-out functions on ``numpy.ndarray`` (no Tensor, no graph); float32 and
float64, outputs keep the input dtype. Each kernel has a ``prange`` twin and a serial twin;
the Python entry points take the parallel one when the work is large enough to pay for the
thread start (``parallel=None``), and tests check both against each other.

Cross-entropy (PyTorch's ``cross_entropy`` with class indices, ``label_smoothing`` eps,
per-class weights ``w``, ``W = sum_c w_c``; Szegedy et al., 2016 for the smoothing)::

    m_r    = max_c x_rc,   s_r = log sum_c exp(x_rc - m_r)     (so lse_r = m_r + s_r)
    loss_r = (1 - eps) * w_t (s_r - z_rt) + eps / C * sum_c w_c (s_r - z_rc),   z_rc = x_rc - m_r
    dloss_r / dx_rc = (1 - eps) * w_t (p_rc - [c == t]) + eps / C * (W p_rc - w_c),
    p_rc = exp(z_rc - s_r)

Nothing is ever computed as ``lse_r - x_rc``: once ``|m_r|`` dwarfs ``s_r`` (logits 1e30, or
1e4 in float32) ``m_r + s_r`` rounds to ``m_r`` and that difference cancels (a loss of 0 and
probabilities of 1). The shifted logits ``z`` and ``s`` are what PyTorch's ``log_softmax``
works with too, so the results agree at any magnitude; the forward hands ``m`` and ``s`` (not
their rounded sum) to the backward.

Rows whose target is ``ignore_index`` give loss 0 and gradient 0. The logits are read in the
``(N, C, D)`` layout of ``(N, C, d1, ...)`` inputs (``D = d1 * ...``; ``D = 1`` for ``(N, C)``),
so no transposed copy is made.

Layer norm over the last ``D`` elements of each of ``M`` rows (Ba et al., 2016; PyTorch's
``layer_norm``: biased variance)::

    mu = mean(x),  rstd = 1 / sqrt(var(x) + eps),  xhat = (x - mu) * rstd,  y = xhat * w + b
    dx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)),  gh = g * w
    dw = sum_rows g * xhat,  db = sum_rows g

The backward splits the rows into chunks; each chunk writes its own partial ``dw``/``db`` row
(no shared ``+=`` inside ``prange``) and the partials are summed afterwards.

Embedding backward: a scatter-add of the output gradient rows into the rows of the weight they
were gathered from. The parallel twin splits the embedding *columns* into blocks, so repeated
indices never race.
"""

import numpy as np
from numba import njit, prange

from ._twin import twins, use_parallel

__all__ = ["cross_entropy_forward", "cross_entropy_backward", "layer_norm_forward",
           "layer_norm_backward", "embedding_backward", "embedding_renorm_"]

# below this many elements the serial twin is used (thread start-up costs more than it saves)
PARALLEL_MIN = 1 << 15

# fastmath without 'nnan'/'ninf' (logits may be -inf): reassociation vectorises the row sums
_FM = {"reassoc", "contract", "arcp"}


def _use_parallel(parallel, size):
    return use_parallel(parallel, size, PARALLEL_MIN)


def _float(op, name, a):
    """``a`` C-contiguous; asserts float32/float64 (the ops layer checked the dtype)."""
    a = np.asarray(a)
    assert a.dtype == np.float32 or a.dtype == np.float64, (op, name, a.dtype)
    return np.ascontiguousarray(a)


# ---------------------------------------------------------------------------
# cross-entropy
# ---------------------------------------------------------------------------

@njit(cache=True, fastmath=_FM)
def _ce_row(x, n, d, t, w, has_w, eps, loss, mx, lsum):
    """Loss, row maximum and shifted log-sum-exp of row (n, d) of x (N, C, D), target t."""
    C = x.shape[1]
    zero = eps * 0  # typed constants (eps is finite and has the array dtype)
    one = zero + 1
    m = x[n, 0, d]  # shift by the row maximum; inf/nan logits give nan, as in PyTorch
    for c in range(1, C):
        v = x[n, c, d]
        if v > m:
            m = v
    tot = zero
    for c in range(C):
        tot += np.exp(x[n, c, d] - m)
    ls = np.log(tot)
    mx[n, d] = m
    lsum[n, d] = ls
    wt = w[t] if has_w else one
    out = (one - eps) * wt * (ls - (x[n, t, d] - m))
    if eps != 0:
        sm = zero
        for c in range(C):
            wc = w[c] if has_w else one
            sm += wc * (ls - (x[n, c, d] - m))
        out += eps / C * sm
    loss[n, d] = out


def _ce_fwd_loop(x, target, w, has_w, ignore_index, eps, loss, mx, lsum):
    N, D = target.shape
    for r in prange(N * D):
        n = r // D
        d = r - n * D
        t = target[n, d]
        if t == ignore_index:
            loss[n, d] = 0
            mx[n, d] = 0
            lsum[n, d] = 0
        else:
            _ce_row(x, n, d, t, w, has_w, eps, loss, mx, lsum)


_ce_fwd = twins(_ce_fwd_loop)


@njit(cache=True, fastmath=_FM)
def _ce_grad_row(x, n, d, t, w, has_w, wsum, eps, coef, mx, lsum, gx):
    C = x.shape[1]
    one = eps * 0 + 1
    m = mx[n, d]
    ls = lsum[n, d]
    k = coef[n, d]
    wt = w[t] if has_w else one
    a = k * (one - eps) * wt
    b = k * eps / C
    for c in range(C):
        p = np.exp((x[n, c, d] - m) - ls)
        wc = w[c] if has_w else one
        gx[n, c, d] = a * p + b * (wsum * p - wc)
    gx[n, t, d] -= a


def _ce_bwd_loop(x, target, w, has_w, wsum, ignore_index, eps, coef, mx, lsum, gx):
    N, D = target.shape
    C = x.shape[1]
    for r in prange(N * D):
        n = r // D
        d = r - n * D
        t = target[n, d]
        if t == ignore_index:
            for c in range(C):
                gx[n, c, d] = 0
        else:
            _ce_grad_row(x, n, d, t, w, has_w, wsum, eps, coef, mx, lsum, gx)


_ce_bwd = twins(_ce_bwd_loop)


def _ce_args(op, x, target, weight):
    x = _float(op, "input", x)
    assert x.ndim == 3, (op, x.shape)  # (N, C, D): the ops layer checked and reshaped
    target = np.ascontiguousarray(target, dtype=np.int64)
    N, C, D = x.shape
    assert target.shape == (N, D), (op, x.shape, target.shape)
    if weight is None:
        w, has_w = np.ones(1, dtype=x.dtype), False
    else:
        w = np.ascontiguousarray(weight, dtype=x.dtype)
        assert w.shape == (C,), (op, w.shape, C)
        has_w = True
    return x, target, w, has_w


def cross_entropy_forward(x, target, weight=None, ignore_index=-100, label_smoothing=0.0,
                          parallel=None):
    """Per-row cross-entropy of logits with class-index targets, fused log-softmax + NLL.

    Args:
        x: logits ``(N, C, D)`` (``D = 1`` for ``(N, C)`` inputs), float32/float64.
        target: int64 ``(N, D)`` in ``[0, C)`` or ``ignore_index`` (checked).
        weight: optional ``(C,)`` per-class weights.
        label_smoothing: eps in ``[0, 1]``.

    Returns:
        ``(loss, rowmax, logsum)``, each ``(N, D)`` in x's dtype: the unreduced loss (0 where
        ignored), and the row maximum ``m`` and shifted log-sum-exp ``s`` (``lse = m + s``,
        kept apart: see the module docstring) that the backward needs.

    Raises:
        IndexError: a target outside ``[0, C)`` (other than ``ignore_index``); dtypes and
        shapes are asserted (``nn.functional.cross_entropy`` checks them).
    """
    op = "cross_entropy"
    x, target, w, has_w = _ce_args(op, x, target, weight)
    C = x.shape[1]
    valid = target != ignore_index
    bad = valid & ((target < 0) | (target >= C))
    if bad.any():
        raise IndexError(f"{op}: target {int(target[bad][0])} is out of bounds for {C} classes "
                         f"(ignore_index={ignore_index})")
    loss = np.empty(target.shape, dtype=x.dtype)
    mx = np.empty(target.shape, dtype=x.dtype)
    lsum = np.empty(target.shape, dtype=x.dtype)
    if C == 0 or target.size == 0:
        loss[...] = 0
        mx[...] = -np.inf
        lsum[...] = 0
        return loss, mx, lsum
    fn = _ce_fwd.parallel if _use_parallel(parallel, x.size) else _ce_fwd.serial
    fn(x, target, w, has_w, ignore_index, x.dtype.type(label_smoothing), loss, mx, lsum)
    return loss, mx, lsum


def cross_entropy_backward(coef, x, target, rowmax, logsum, weight=None, ignore_index=-100,
                           label_smoothing=0.0, parallel=None):
    """Gradient of ``sum_r coef_r * loss_r`` with respect to the logits.

    Args:
        coef: ``(N, D)`` per-row factor (the incoming gradient, already divided by the
            reduction's denominator for ``'mean'``).
        x, target, weight, ignore_index, label_smoothing: as for the forward.
        rowmax, logsum: the forward's row maximum and shifted log-sum-exp ``(N, D)``.

    Returns:
        ``grad_x`` ``(N, C, D)`` in x's dtype (zero rows where the target is ignored).
    """
    op = "cross_entropy"
    x, target, w, has_w = _ce_args(op, x, target, weight)
    coef = np.ascontiguousarray(np.broadcast_to(coef, target.shape), dtype=x.dtype)
    mx = np.ascontiguousarray(rowmax, dtype=x.dtype)
    lsum = np.ascontiguousarray(logsum, dtype=x.dtype)
    gx = np.empty_like(x)
    if x.size == 0:
        return gx
    fn = _ce_bwd.parallel if _use_parallel(parallel, x.size) else _ce_bwd.serial
    wsum = x.dtype.type(w.sum() if has_w else x.shape[1])
    fn(x, target, w, has_w, wsum, ignore_index, x.dtype.type(label_smoothing), coef, mx, lsum,
       gx)
    return gx


# ---------------------------------------------------------------------------
# layer norm
# ---------------------------------------------------------------------------

@njit(cache=True, fastmath=_FM)
def _ln_row(x, r, w, b, has_w, has_b, eps, y, mean, rstd):
    D = x.shape[1]
    s = eps * 0
    for j in range(D):
        s += x[r, j]
    mu = s / D
    v = s * 0
    for j in range(D):
        t = x[r, j] - mu
        v += t * t
    rs = (eps * 0 + 1) / np.sqrt(v / D + eps)
    mean[r] = mu
    rstd[r] = rs
    for j in range(D):
        h = (x[r, j] - mu) * rs
        if has_w:
            h = h * w[j]
        if has_b:
            h = h + b[j]
        y[r, j] = h


def _ln_fwd_loop(x, w, b, has_w, has_b, eps, y, mean, rstd):
    for r in prange(x.shape[0]):
        _ln_row(x, r, w, b, has_w, has_b, eps, y, mean, rstd)


_ln_fwd = twins(_ln_fwd_loop)


@njit(cache=True, fastmath=_FM)
def _ln_bwd_chunk(g, x, w, has_w, mean, rstd, r0, r1, gx, gw_row, gb_row, need_x):
    """Rows [r0, r1): input gradient rows, and this chunk's partial dw/db."""
    D = x.shape[1]
    for j in range(D):
        gw_row[j] = 0
        gb_row[j] = 0
    zero = gb_row[0]  # 0 in the array dtype
    for r in range(r0, r1):
        mu = mean[r]
        rs = rstd[r]
        s1 = zero
        s2 = zero
        for j in range(D):
            h = (x[r, j] - mu) * rs
            gr = g[r, j]
            gw_row[j] += gr * h
            gb_row[j] += gr
            gh = gr * w[j] if has_w else gr
            s1 += gh
            s2 += gh * h
        if need_x:
            s1 = s1 / D
            s2 = s2 / D
            for j in range(D):
                h = (x[r, j] - mu) * rs
                gh = g[r, j] * w[j] if has_w else g[r, j]
                gx[r, j] = rs * (gh - s1 - h * s2)


def _ln_bwd_loop(g, x, w, has_w, mean, rstd, gx, gw_part, gb_part, need_x):
    M = x.shape[0]
    n = gw_part.shape[0]
    per = (M + n - 1) // n
    for c in prange(n):
        r0 = c * per
        r1 = min(M, r0 + per)
        _ln_bwd_chunk(g, x, w, has_w, mean, rstd, r0, r1, gx, gw_part[c], gb_part[c], need_x)


_ln_bwd = twins(_ln_bwd_loop)


def _ln_affine(op, x, name, a, D):
    if a is None:
        return np.ones(1, dtype=x.dtype), False
    a = np.ascontiguousarray(a, dtype=x.dtype).reshape(-1)
    assert a.shape == (D,), (op, name, a.size, D)  # the ops layer checked normalized_shape
    return a, True


def layer_norm_forward(x, weight=None, bias=None, eps=1e-5, parallel=None):
    """Normalise each row of ``x (M, D)`` to zero mean and unit (biased) variance, then scale
    by ``weight (D,)`` and shift by ``bias (D,)`` (either may be ``None``).

    Returns:
        ``(y, mean, rstd)``: ``y (M, D)`` in x's dtype and the per-row ``mean``, ``rstd``
        ``(M,)`` that the backward needs.

    Raises:
        AssertionError only: ``nn.functional.layer_norm`` checks the dtype and the shapes.
    """
    op = "layer_norm"
    x = _float(op, "input", x)
    assert x.ndim == 2, (op, x.shape)  # (M, D): the ops layer reshaped
    M, D = x.shape
    w, has_w = _ln_affine(op, x, "weight", weight, D)
    b, has_b = _ln_affine(op, x, "bias", bias, D)
    y = np.empty_like(x)
    mean = np.zeros(M, dtype=x.dtype)
    rstd = np.zeros(M, dtype=x.dtype)
    if D == 0:  # an empty normalised shape: mean 0 and rstd 1/sqrt(eps) are never used
        return y, mean, rstd
    fn = _ln_fwd.parallel if _use_parallel(parallel, x.size) else _ln_fwd.serial
    fn(x, w, b, has_w, has_b, x.dtype.type(eps), y, mean, rstd)
    return y, mean, rstd


def layer_norm_backward(grad_out, x, weight, mean, rstd, need_input_grad=True, parallel=None,
                        chunks=None):
    """Gradients of :func:`layer_norm_forward`.

    Args:
        grad_out, x: ``(M, D)``; weight: ``(D,)`` or ``None``; mean, rstd: the forward's.
        need_input_grad: compute ``grad_x`` (else ``None`` is returned for it).
        chunks: row chunks of the backward (default: about 4 per thread, at most ``M``).

    Returns:
        ``(grad_x, grad_weight, grad_bias)``: ``(M, D)``, ``(D,)``, ``(D,)`` in x's dtype
        (``grad_weight`` and ``grad_bias`` are always computed; the caller drops unneeded
        ones).
    """
    op = "layer_norm"
    x = _float(op, "input", x)
    g = np.ascontiguousarray(grad_out, dtype=x.dtype)
    M, D = x.shape
    assert g.shape == x.shape, (op, g.shape, x.shape)
    w, has_w = _ln_affine(op, x, "weight", weight, D)
    mean = np.ascontiguousarray(mean, dtype=x.dtype)
    rstd = np.ascontiguousarray(rstd, dtype=x.dtype)
    use_par = _use_parallel(parallel, x.size)
    if chunks is None:
        import numba
        chunks = 4 * numba.get_num_threads() if use_par else 1
    chunks = max(1, min(int(chunks), M))
    gx = np.zeros_like(x) if need_input_grad else np.empty((0, D), dtype=x.dtype)
    gw_part = np.zeros((chunks, D), dtype=x.dtype)
    gb_part = np.zeros((chunks, D), dtype=x.dtype)
    if M and D:
        fn = _ln_bwd.parallel if use_par else _ln_bwd.serial
        fn(g, x, w, has_w, mean, rstd, gx, gw_part, gb_part, bool(need_input_grad))
    return (gx if need_input_grad else None), gw_part.sum(0), gb_part.sum(0)


# ---------------------------------------------------------------------------
# embedding
# ---------------------------------------------------------------------------

@njit(cache=True, fastmath=_FM)
def _emb_scatter_cols(grad, idx, scale, has_scale, padding_idx, out, c0, c1):
    for i in range(idx.shape[0]):
        r = idx[i]
        if r == padding_idx:
            continue
        if has_scale:
            s = scale[i]
            for c in range(c0, c1):
                out[r, c] += grad[i, c] * s
        else:
            for c in range(c0, c1):
                out[r, c] += grad[i, c]


def _emb_bwd_loop(grad, idx, scale, has_scale, padding_idx, out, block):
    D = out.shape[1]
    nb = (D + block - 1) // block
    for bi in prange(nb):
        c0 = bi * block
        _emb_scatter_cols(grad, idx, scale, has_scale, padding_idx, out, c0, min(D, c0 + block))


_emb_bwd = twins(_emb_bwd_loop)


def embedding_backward(grad_out, indices, num_weights, padding_idx=None,
                       scale_grad_by_freq=False, parallel=None, block=None):
    """Gradient of ``weight[indices]`` with respect to ``weight``: a scatter-add.

    Args:
        grad_out: ``(*, D)``, the gradient of the gathered rows.
        indices: int ``(*)`` rows of the weight (in ``[0, num_weights)``, not checked here:
            the forward checked them).
        num_weights: rows of the weight.
        padding_idx: this row gets no gradient (``None``: every row does).
        scale_grad_by_freq: divide each contribution by the count of its index in
            ``indices`` (PyTorch's option).
        block: columns per parallel task (default: ``D`` split over the threads).

    Returns:
        ``grad_weight`` ``(num_weights, D)`` in grad_out's dtype.
    """
    op = "embedding"
    g = _float(op, "grad_out", grad_out)
    idx = np.ascontiguousarray(indices, dtype=np.int64).reshape(-1)
    D = g.shape[-1] if g.ndim else 0
    g = g.reshape(idx.size, D)
    out = np.zeros((num_weights, D), dtype=g.dtype)
    if idx.size == 0 or D == 0:
        return out
    pad = -1 if padding_idx is None else int(padding_idx)
    if scale_grad_by_freq:
        counts = np.bincount(idx, minlength=num_weights)
        scale = (1.0 / counts[idx]).astype(g.dtype)
    else:
        scale = np.ones(1, dtype=g.dtype)
    use_par = _use_parallel(parallel, g.size)
    if block is None:
        import numba
        block = max(8, -(-D // numba.get_num_threads())) if use_par else D
    fn = _emb_bwd.parallel if use_par else _emb_bwd.serial
    fn(g, idx, scale, bool(scale_grad_by_freq), pad, out, int(max(1, block)))
    return out


def embedding_renorm_(weight, indices, max_norm, norm_type=2.0):
    """Rescale, in place, each row of ``weight`` named in ``indices`` whose ``norm_type``-norm
    exceeds ``max_norm`` to norm ``max_norm`` (PyTorch's ``embedding_renorm_``: the factor is
    ``max_norm / (norm + 1e-7)``). Returns ``weight``."""
    rows = np.unique(np.asarray(indices, dtype=np.int64).reshape(-1))
    if rows.size == 0:
        return weight
    sub = weight[rows]
    norms = np.linalg.norm(sub.astype(np.float64), ord=norm_type, axis=1)
    big = norms > max_norm
    if big.any():
        factor = (max_norm / (norms[big] + 1e-7)).astype(weight.dtype)
        weight[rows[big]] = sub[big] * factor[:, None]
    return weight
