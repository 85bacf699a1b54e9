"""Fused ops, each one node in the graph: scaled dot-product attention, cross-entropy from
logits, layer norm (and group norm built on it), embedding.

Their forward and backward run Numba kernels (:mod:`kernels.attention`, :mod:`kernels.fused`).
Higher-order gradients still work: when a backward runs with ``create_graph=True`` (grad mode
on inside ``backward``), it is computed instead with differentiable Tensor ops (the same
formulas, recomputed from the saved inputs), so gradient penalties and Hessian-vector products
through these ops behave as through their composed versions. The embedding's backward is
itself an op (:class:`EmbeddingBackward`, a scatter-add) whose backward is the gather again.
"""

import math
import numbers
import threading

import numpy as np

from .. import grad_mode
from ..graph import Node
from ..tensor import Tensor
from ._nn_common import _to_kernel, not_implemented_for
from .layers import dropout, log_softmax, softmax

# cross_entropy_indices is not a torch name: nn.functional.cross_entropy imports it directly
__all__ = ["scaled_dot_product_attention", "layer_norm", "group_norm", "embedding"]


_KERNELS = {}


def _kernels(name):
    """``kernels.attention`` / ``kernels.fused``, imported on first use (Numba loads then, not
    with ``autograd``)."""
    mod = _KERNELS.get(name)
    if mod is None:
        import importlib
        mod = _KERNELS[name] = importlib.import_module("kernels." + name)
    return mod


def _const(arr):
    return Tensor._make(arr, False, None)


# ======================================================================================
# scaled dot-product attention
# ======================================================================================

_SDPA = "scaled_dot_product_attention"


def _additive_mask(attn_mask, is_causal, L, S, dtype):
    """The constant additive mask (NumPy, broadcastable to ``(..., L, S)``) from a boolean or
    float mask and/or the causal rule; ``None`` when there is none."""
    add = None
    if attn_mask is not None:
        m = attn_mask._data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
        if m.dtype == np.bool_:
            add = np.where(m, 0.0, -np.inf).astype(dtype)
        elif m.dtype.kind == "f":
            add = m.astype(dtype, copy=False)
        else:
            raise TypeError(f"{_SDPA}: attn_mask must be a bool or float tensor, got dtype "
                            f"{m.dtype}")
    if is_causal:
        add = np.where(np.tri(L, S, dtype=bool), 0.0, -np.inf).astype(dtype)
    return add


def _attention_probs(q, k, scale, mask_t, add):
    """``softmax(scale * q k^T + mask)`` with Tensor ops (differentiable); fully masked rows
    give zeros (PyTorch 2.x). ``mask_t`` is a Tensor added as is (may require grad), ``add`` a
    constant NumPy mask."""
    s = (q @ k.mT) * scale
    dead = None
    for m in (mask_t, add):
        if m is None:
            continue
        s = s + (m if isinstance(m, Tensor) else _const(m))
        arr = m._data if isinstance(m, Tensor) else m
        d = np.all(np.isneginf(arr), axis=-1, keepdims=True)
        dead = d if dead is None else dead | d
    if dead is not None and dead.any():
        dead = np.broadcast_to(dead, s.shape[:-1] + (1,))
        s = s.masked_fill(_const(dead), 0.0)   # no -inf - -inf: a harmless uniform row ...
        return softmax(s, -1).masked_fill(_const(dead), 0.0)   # ... then zeroed
    return softmax(s, -1)


class ScaledDotProductAttention(Node):
    """Saves q, k, v, the output and the row log-sum-exp for backward (the fused kernel
    path)."""

    @staticmethod
    def forward(ctx, q, k, v, add, is_causal, scale):
        KA = _kernels("attention")
        batch = q.shape[:-2]
        L, E = q.shape[-2:]
        S, Ev = v.shape[-2:]
        B = int(np.prod(batch, dtype=np.int64))
        mask3 = midx = None
        if add is not None:
            mb = add.shape[:-2]
            mask3 = np.ascontiguousarray(np.broadcast_to(add, mb + (L, S))).reshape(-1, L, S)
            midx = np.broadcast_to(np.arange(mask3.shape[0]).reshape(mb), batch).reshape(-1)
        out, lse = KA.sdpa_forward(q.reshape(B, L, E), k.reshape(B, S, E), v.reshape(B, S, Ev),
                                   mask3, midx, is_causal, scale)
        out = out.reshape(batch + (L, Ev))
        ctx.conf = (add, mask3, midx, is_causal, scale)
        ctx.save_for_backward(q, k, v, out, lse)
        return out

    @staticmethod
    def backward(ctx, grad):
        q, k, v, out, lse = ctx.saved_tensors
        add, mask3, midx, is_causal, scale = ctx.conf
        nq, nk, nv = ctx.needs_input_grad[:3]
        if grad_mode.grad_enabled():  # create_graph: differentiable recomputation
            causal = _additive_mask(None, True, q.shape[-2], k.shape[-2], q.dtype) \
                if is_causal else None
            p = _attention_probs(q, k, scale, None, add if add is not None else causal)
            gv = p.mT @ grad if nv else None
            dp = grad @ v.mT
            ds = p * (dp - (dp * p).sum(-1, keepdim=True)) * scale
            gq = ds @ k if nq else None
            gk = ds.mT @ q if nk else None
            return gq, gk, gv, None, None, None
        KA = _kernels("attention")
        L, E = q.shape[-2:]
        S, Ev = v.shape[-2:]
        B = lse.shape[0]
        gq, gk, gv = KA.sdpa_backward(grad._data.reshape(B, L, Ev), q._data.reshape(B, L, E),
                                      k._data.reshape(B, S, E), v._data.reshape(B, S, Ev),
                                      out._data.reshape(B, L, Ev), lse._data, mask3, midx,
                                      is_causal, scale)
        return (_const(gq.reshape(q.shape)) if nq else None,
                _const(gk.reshape(k.shape)) if nk else None,
                _const(gv.reshape(v.shape)) if nv else None, None, None, None)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """``softmax(Q K^T * scale + mask) V`` (``torch.nn.functional.scaled_dot_product_attention``;
    Vaswani et al., 2017), fused per (batch, head) in a Numba kernel.

    Shapes: query ``(..., L, E)``, key ``(..., S, E)``, value ``(..., S, Ev)`` -> ``(..., L, Ev)``;
    the leading (batch, head) dimensions broadcast together. float16, float32 or float64, one
    dtype (float16 runs the float32 kernel and is rounded back).

    Args:
        attn_mask: broadcastable to ``(..., L, S)``; boolean (``True``: the key takes part,
            PyTorch's convention) or float (added to the scores; ``-inf`` masks out).
        dropout_p: dropout on the attention weights (always applied when > 0, as in PyTorch's
            functional; use ``0.0`` at evaluation).
        is_causal: query ``i`` sees keys ``j <= i`` (top-left aligned, ``tril`` of an
            ``(L, S)`` matrix of ones); may not be combined with ``attn_mask``.
        scale: factor on ``Q K^T``; default ``1 / sqrt(E)``.
        enable_gqa: not supported (grouped-query attention); must be ``False``.

    Rows whose keys are all masked give an output row of 0 and no gradient (PyTorch 2.x).

    Memory: the kernel keeps the per-row log-sum-exp, not the ``(..., L, S)`` weights; its
    backward recomputes them one head at a time (see :mod:`kernels.attention`). Two cases
    run composed Tensor ops instead (materialising the weights, with the same results):
    ``dropout_p > 0`` (the dropout mask needs the weights; it is drawn from tapegrad's
    generator, so it differs from PyTorch's for the same seed) and a float ``attn_mask`` that
    requires grad (its gradient is the ``(..., L, S)`` score gradient). Double backward works
    (the backward under ``create_graph=True`` is composed of Tensor ops).

    Raises:
        RuntimeError: mismatched shapes or dtypes (naming them), ``attn_mask`` together with
            ``is_causal``, a mask that does not broadcast to ``(..., L, S)``.
        ValueError: ``dropout_p`` outside ``[0, 1]``.
        NotImplementedError: ``enable_gqa=True``.
    """
    if enable_gqa:
        raise NotImplementedError(f"{_SDPA}: enable_gqa=True is not supported")
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{_SDPA}: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim < 2:
            raise RuntimeError(f"{_SDPA}: {name} must have at least 2 dims (..., rows, "
                               f"features), got shape {tuple(t.shape)}")
    if query.dtype != key.dtype or query.dtype != value.dtype or query.dtype.kind != "f":
        raise RuntimeError(f"{_SDPA}: expected query, key and value of one floating dtype, got "
                           f"{query.dtype}, {key.dtype}, {value.dtype}")
    if query.dtype == np.float16:  # the float32 kernel, rounded back (gradients too)
        mask = attn_mask
        if isinstance(mask, Tensor) and mask.dtype == np.float16:
            mask = mask.to(np.float32)
        return scaled_dot_product_attention(
            query.to(np.float32), key.to(np.float32), value.to(np.float32), mask, dropout_p,
            is_causal, scale, enable_gqa).to(np.float16)
    L, E = query.shape[-2:]
    S, Ev = value.shape[-2:]
    if key.shape[-1] != E or key.shape[-2] != S:
        raise RuntimeError(f"{_SDPA}: expected query (..., L, E), key (..., S, E), value "
                           f"(..., S, Ev); got query {tuple(query.shape)}, key "
                           f"{tuple(key.shape)}, value {tuple(value.shape)}")
    try:
        batch = np.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except ValueError:
        raise RuntimeError(f"{_SDPA}: the batch dimensions of query {tuple(query.shape)}, key "
                           f"{tuple(key.shape)} and value {tuple(value.shape)} do not "
                           "broadcast") from None
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{_SDPA}: dropout_p must be in [0, 1], got {dropout_p}")
    if is_causal and attn_mask is not None:
        raise RuntimeError(f"{_SDPA}: Explicit attn_mask should not be set when is_causal=True")
    if scale is None:
        scale = 1.0 / math.sqrt(E) if E else 1.0
    scale = float(scale)
    mask_shape = None
    if attn_mask is not None:
        mask_shape = tuple(attn_mask.shape)
        try:
            ok = np.broadcast_shapes(mask_shape, batch + (L, S)) == batch + (L, S)
        except ValueError:
            ok = False
        if not ok:
            raise RuntimeError(f"{_SDPA}: attn_mask of shape {mask_shape} does not broadcast to "
                               f"the attention weights' shape {batch + (L, S)}")
    grad_mask = (isinstance(attn_mask, Tensor) and attn_mask.requires_grad
                 and grad_mode.grad_enabled())
    if dropout_p > 0.0 or grad_mask:
        add = None if grad_mask else _additive_mask(attn_mask, is_causal, L, S, query.dtype)
        mask_t = attn_mask.to(query.dtype) if grad_mask else None
        p = _attention_probs(query, key, scale, mask_t, add)
        if dropout_p > 0.0:
            p = dropout(p, dropout_p, training=True)
        return p @ value
    add = _additive_mask(attn_mask, False, L, S, query.dtype)
    if add is not None and add.ndim < 2:
        add = np.broadcast_to(add, (L, S))
    q = query if query.shape[:-2] == batch else query.expand(batch + (L, E))
    k = key if key.shape[:-2] == batch else key.expand(batch + (S, E))
    v = value if value.shape[:-2] == batch else value.expand(batch + (S, Ev))
    return ScaledDotProductAttention.apply(q, k, v, add, bool(is_causal), scale)


# ======================================================================================
# cross-entropy with class indices
# ======================================================================================

class CrossEntropyIndices(Node):
    """Saves the logits, the row max and the row sum of exponentials for backward
    (log-softmax + NLL in one kernel)."""

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, label_smoothing, reduction):
        KF = _kernels("fused")
        N, C = x.shape[0], x.shape[1]
        D = x.size // (N * C) if N * C else int(np.prod(x.shape[2:], dtype=np.int64))
        x3 = x.reshape(N, C, D)
        t2 = target.reshape(N, D)
        loss, mx, lsum = KF.cross_entropy_forward(x3, t2, weight, ignore_index,
                                                  label_smoothing)
        valid = t2 != ignore_index
        if reduction == "mean":
            if weight is None:
                denom = x.dtype.type(np.count_nonzero(valid))
            else:
                denom = (weight[np.where(valid, t2, 0)] * valid).sum(dtype=x.dtype)
            with np.errstate(invalid="ignore", divide="ignore"):
                out = np.asarray(loss.sum(dtype=x.dtype) / denom, dtype=x.dtype)
            ctx.denom = denom
        elif reduction == "sum":
            out = np.asarray(loss.sum(dtype=x.dtype), dtype=x.dtype)
        else:
            out = loss.reshape(target.shape)
        ctx.conf = (t2, weight, ignore_index, label_smoothing, reduction)
        ctx.save_for_backward(x, mx, lsum)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, mx, lsum = ctx.saved_tensors
        t2, weight, ignore_index, eps, reduction = ctx.conf
        N, C = x.shape[0], x.shape[1]
        D = t2.shape[1]
        if reduction == "mean":
            coef = grad / ctx.denom
        else:
            coef = grad.reshape(N, D) if reduction == "none" else grad
        if grad_mode.grad_enabled():  # create_graph: the same formula with Tensor ops
            valid = (t2 != ignore_index)
            t = np.where(valid, t2, 0)
            onehot = np.zeros((N, C, D), dtype=x.dtype)
            onehot[np.arange(N)[:, None], t, np.arange(D)[None, :]] = 1
            w = np.ones(C, dtype=x.dtype) if weight is None else weight
            wt = (w[t] * valid).astype(x.dtype)[:, None, :]
            p = log_softmax(x.reshape(N, C, D), 1).exp()
            c3 = coef.reshape(N, 1, D) if reduction == "none" else coef
            g = (p - _const(onehot)) * _const((1 - eps) * wt)
            if eps:
                g = g + (p * float(w.sum()) - _const(w[None, :, None])) * _const(
                    (eps / C) * valid.astype(x.dtype)[:, None, :])
            return (g * c3).reshape(x.shape), None, None, None, None, None
        KF = _kernels("fused")
        gx = KF.cross_entropy_backward(coef._data, x._data.reshape(N, C, D), t2, mx._data,
                                       lsum._data, weight, ignore_index, eps)
        return _const(gx.reshape(x.shape)), None, None, None, None, None


def cross_entropy_indices(input, target, weight=None, ignore_index=-100, reduction="mean",
                          label_smoothing=0.0):
    """Cross-entropy of logits against class indices, fused (one node, one kernel each way).

    ``nn.functional.cross_entropy`` calls this for integer targets; it computes
    ``(1 - eps) * nll_loss(log_softmax(input, 1), target) + eps * smoothing term`` exactly as
    PyTorch does (Szegedy et al., 2016 for the label smoothing), including the normalisation of
    ``'mean'`` by the summed weights of the non-ignored targets.

    Shapes: input ``(N, C)`` or ``(N, C, d1, ...)`` (or ``(C,)``), float16/32/64 (float16
    runs the float32 kernel and is rounded back); target ``(N)`` / ``(N, d1, ...)`` (or
    ``()``), integer, in ``[0, C)`` or ``ignore_index``; weight ``(C,)`` (float16 with
    float16 logits, as PyTorch). Output: a scalar, or the target's shape for
    ``reduction='none'``, in the input's dtype.

    Raises:
        ValueError: bad reduction, label_smoothing outside [0, 1], mismatched shapes.
        TypeError: non-integer target.
        NotImplementedError: integer or bool logits (as PyTorch).
        RuntimeError: float16 logits with a weight of another dtype (as PyTorch).
        IndexError: a target outside ``[0, C)`` (other than ``ignore_index``).
    """
    op = "cross_entropy"
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}")
    if input.dtype.kind != "f":  # PyTorch's log_softmax kernel has no integer version
        raise not_implemented_for(op, input, "floating point logits")
    tgt = target._data if isinstance(target, Tensor) else np.asarray(target)
    if tgt.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected target of an integer dtype (class indices), got "
                        f"{tgt.dtype}")
    squeeze = input.ndim == 1
    if squeeze:
        input = input.unsqueeze(0)
        tgt = tgt.reshape((1,) + tgt.shape)
    if input.ndim < 2 or tgt.shape != (input.shape[0],) + tuple(input.shape[2:]):
        raise ValueError(f"{op}: expected target of shape "
                         f"{(input.shape[0],) + tuple(input.shape[2:])} for input of shape "
                         f"{tuple(input.shape)}, got {tuple(tgt.shape)}")
    c = input.shape[1]
    w = None
    if weight is not None:
        w = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
        if w.shape != (c,):
            raise ValueError(f"{op}: weight must have shape ({c},), got {w.shape}")
        if input.dtype == np.float16 and w.dtype != np.float16:
            raise RuntimeError(f"{op}: expected weight of dtype float16 ('Half') for float16 "
                               f"logits, got {w.dtype}")
        w = np.ascontiguousarray(w, dtype=_to_kernel(np.empty(0, input.dtype)).dtype)
    half = input.dtype == np.float16
    if half:  # the float32 kernel, rounded back to float16 (gradients too)
        input = input.to(np.float32)
    out = CrossEntropyIndices.apply(input, tgt.astype(np.int64, copy=False), w,
                                    int(ignore_index), float(label_smoothing), reduction)
    if half:
        out = out.to(np.float16)
    if squeeze and reduction == "none":
        out = out.reshape(())
    return out


# ======================================================================================
# layer norm / group norm
# ======================================================================================

class LayerNorm(Node):
    """Saves the input, the weight, the mean and 1/std for backward (one kernel each way)."""

    @staticmethod
    def forward(ctx, x, weight, bias, nd, eps):
        KF = _kernels("fused")
        D = int(np.prod(x.shape[x.ndim - nd:], dtype=np.int64))
        M = x.size // D if D else int(np.prod(x.shape[:x.ndim - nd], dtype=np.int64))
        y, mean, rstd = KF.layer_norm_forward(x.reshape(M, D), weight, bias, eps)
        ctx.conf = (nd, eps)
        ctx.save_for_backward(x, weight, mean, rstd)
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        x, weight, mean, rstd = ctx.saved_tensors
        nd, eps = ctx.conf
        nx, nw, nb = ctx.needs_input_grad[:3]
        if grad_mode.grad_enabled():  # create_graph: recompute with Tensor ops
            dims = tuple(range(-nd, 0))
            xc = x - x.mean(dims, keepdim=True)
            rs = ((xc * xc).mean(dims, keepdim=True) + eps).rsqrt()
            xhat = xc * rs
            gh = grad * weight if weight is not None else grad
            gx = rs * (gh - gh.mean(dims, keepdim=True)
                       - xhat * (gh * xhat).mean(dims, keepdim=True)) if nx else None
            return gx, (grad * xhat if nw else None), (grad if nb else None), None, None
        KF = _kernels("fused")
        M = mean.shape[0]
        D = int(np.prod(x.shape[x.ndim - nd:], dtype=np.int64))
        gx, gw, gb = KF.layer_norm_backward(grad._data.reshape(M, D), x._data.reshape(M, D),
                                            None if weight is None else weight._data,
                                            mean._data, rstd._data, need_input_grad=nx)
        wshape = x.shape[x.ndim - nd:]
        return (_const(gx.reshape(x.shape)) if nx else None,
                _const(gw.reshape(wshape)) if nw else None,
                _const(gb.reshape(wshape)) if nb else None, None, None)


class BatchNormTrain(Node):
    """Saves the input, the weight, the batch mean and 1/std for backward: batch-statistics
    normalisation, one Numba kernel each way (:mod:`kernels.batchnorm`)."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        KB = _kernels("batchnorm")
        y, mean, var = KB.batch_norm_forward(x, weight, bias, eps)
        rstd = 1.0 / np.sqrt(var + eps)
        _BN_STATS.last = (mean, var)  # for batch_norm_training (not an argument: ONNX traces)
        ctx.eps = eps
        ctx.save_for_backward(x, weight, mean, rstd)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight, mean, rstd = ctx.saved_tensors
        nx, nw, nb = ctx.needs_input_grad[:3]
        if grad_mode.grad_enabled():  # create_graph: recompute with Tensor ops
            dims = (0,) + tuple(range(2, x.ndim))
            shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
            xc = x - x.mean(dims, keepdim=True)
            rs = ((xc * xc).mean(dims, keepdim=True) + ctx.eps).rsqrt()
            xhat = xc * rs
            gh = grad * weight.reshape(shape) if weight is not None else grad
            gx = rs * (gh - gh.mean(dims, keepdim=True)
                       - xhat * (gh * xhat).mean(dims, keepdim=True)) if nx else None
            return (gx, (grad * xhat).sum(dims) if nw else None,
                    grad.sum(dims) if nb else None, None)
        KB = _kernels("batchnorm")
        gx, gw, gb = KB.batch_norm_backward(grad._data, x._data,
                                            None if weight is None else weight._data,
                                            mean._data, rstd._data, need_input_grad=nx)
        return (_const(gx) if nx else None, _const(gw) if nw else None,
                _const(gb) if nb else None, None)


_BN_STATS = threading.local()  # the batch statistics of this thread's last BatchNormTrain


def batch_norm_training(input, weight, bias, eps):
    """Batch normalisation with the batch's statistics (``F.batch_norm`` with
    ``training=True``, without the running-statistics update): one fused node, Numba kernels
    forward and backward, double backward by Tensor ops.

    Shapes: input ``(N, C, *)`` float32/float64 (at least two values per channel), weight
    and bias ``(C,)`` of its dtype or ``None`` -> ``(out, mean, var)``: ``out`` like the
    input, the per-channel batch ``mean`` and biased ``var`` as float64 NumPy arrays ``(C,)``
    (for the caller's running statistics). Not a PyTorch name; ``nn.functional.batch_norm``
    calls it after its argument checks.
    """
    out = BatchNormTrain.apply(input, weight, bias, float(eps))
    mean, var = _BN_STATS.last
    _BN_STATS.last = None
    return out, mean, var


def _normalized_shape(normalized_shape):
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(int(n) for n in normalized_shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation over the last ``len(normalized_shape)`` dims
    (``torch.nn.functional.layer_norm``; Ba et al., 2016): ``(x - mean) / sqrt(var + eps) *
    weight + bias`` with the biased variance, one fused node (Numba kernel forward and
    backward; double backward recomputes with Tensor ops).

    Shapes: input ``(*, *normalized_shape)``; weight and bias ``normalized_shape`` (or
    ``None``) -> the input's shape and dtype.

    Dtypes: float32/float64 with parameters of the same dtype, or float16 with float16 or
    float32 parameters (PyTorch's CPU rule; computed in float32, rounded back to float16).

    Raises:
        RuntimeError: if the input's trailing dims are not ``normalized_shape``, or weight/bias
            have another shape or a dtype PyTorch refuses ("mixed dtype"), naming them.
        NotImplementedError: for an integer or bool input (as PyTorch).
    """
    op = "layer_norm"
    ns = _normalized_shape(normalized_shape)
    if not ns or tuple(input.shape[input.ndim - len(ns):]) != ns or input.ndim < len(ns):
        raise RuntimeError(f"{op}: Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*, {', '.join(map(str, ns))}], but got input of size "
                           f"{list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != ns:
            raise RuntimeError(f"{op}: expected {name} of shape {ns}, got {tuple(t.shape)}")
    return _half_as_float(op, input, weight, bias,
                          lambda x, w, b: LayerNorm.apply(x, w, b, len(ns), float(eps)))


def _half_as_float(op, input, weight, bias, fn):
    """PyTorch's dtype rules of its CPU norm kernels, then ``fn(input, weight, bias)``.

    The input is floating (integers and bool: ``NotImplementedError``); weight and bias
    have its dtype, except that a float16 input may have float32 parameters (the "mixed
    dtype" case, both alike): otherwise ``RuntimeError``. float16 runs in float32 (the
    kernels' dtype, and what PyTorch accumulates half in) and the result is rounded back to
    float16; the casts are ops, so the gradients come back in each tensor's own dtype.
    """
    if input.dtype.kind != "f":
        raise not_implemented_for(op, input)
    params = [t for t in (weight, bias) if t is not None]
    if any(t.dtype != input.dtype for t in params):
        mixed = input.dtype == np.float16 and all(t.dtype == np.float32 for t in params)
        if not mixed:
            got = ", ".join(f"{n} {t.dtype}" for n, t in (("weight", weight), ("bias", bias))
                            if t is not None)
            raise RuntimeError(f"{op}: mixed dtype (CPU): all inputs must share the same "
                               f"dtype (or be a float16 input with float32 parameters), got "
                               f"input {input.dtype}, {got}")
    if input.dtype != np.float16:
        return fn(input, weight, bias)
    f32 = [None if t is None else t.to(np.float32) for t in (input, weight, bias)]
    return fn(*f32).to(np.float16)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalisation (``torch.nn.functional.group_norm``; Wu & He, 2018): the channels
    are split into ``num_groups`` groups, each ``(C / G) * spatial`` block of a sample is
    normalised (biased variance), then ``weight``/``bias`` scale and shift per channel.

    Runs the layer-norm kernel on the input viewed as ``(N, G, C / G * prod(spatial))``,
    followed by the per-channel affine.

    Shapes: input ``(N, C, *)``; weight, bias ``(C,)`` -> the input's shape.

    Dtypes: as :func:`layer_norm` (float16 input with float32 parameters allowed).

    Raises:
        RuntimeError: fewer than 2 dims, ``C`` not divisible by ``num_groups``, a weight/bias
            that is not ``(C,)`` or of a dtype PyTorch refuses.
        NotImplementedError: for an integer or bool input (as PyTorch).
    """
    op = "group_norm"
    if input.ndim < 2:
        raise RuntimeError(f"{op}: expected an input of shape (N, C, *), got "
                           f"{tuple(input.shape)}")
    N, C = input.shape[:2]
    if num_groups <= 0 or C % num_groups:
        raise RuntimeError(f"{op}: Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (C,):
            raise RuntimeError(f"{op}: expected {name} of shape ({C},), got {tuple(t.shape)}")
    return _half_as_float(op, input, weight, bias,
                          lambda x, w, b: _group_norm(x, num_groups, w, b, eps))


def _group_norm(input, num_groups, weight, bias, eps):
    N, C = input.shape[:2]
    per = C // num_groups * int(np.prod(input.shape[2:], dtype=np.int64))
    y = LayerNorm.apply(input.reshape(N, num_groups, per), None, None, 1, float(eps))
    y = y.reshape(input.shape)
    cshape = (C,) + (1,) * (input.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(cshape)
    if bias is not None:
        y = y + bias.reshape(cshape)
    return y


# ======================================================================================
# embedding
# ======================================================================================

class Embedding(Node):
    """Saves the indices for backward: a gather of weight rows; backward is
    :class:`EmbeddingBackward` (a scatter-add), itself differentiable."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        ctx.conf = (weight.shape[0], padding_idx, scale_grad_by_freq)
        ctx.save_for_backward(indices)
        return np.take(weight, indices, axis=0)

    @staticmethod
    def backward(ctx, grad):
        idx, = ctx.saved_tensors
        num, padding_idx, by_freq = ctx.conf
        return EmbeddingBackward.apply(grad, idx._data, num, padding_idx, by_freq), None, None, \
            None


class EmbeddingBackward(Node):
    """The weight gradient of :func:`embedding` as an op: scatter-add of the gradient rows into
    the rows they were gathered from (kernel), with the padding row left at zero and the
    optional ``1 / count`` scaling. Its own backward gathers again."""

    @staticmethod
    def forward(ctx, grad, indices, num_weights, padding_idx, scale_grad_by_freq):
        ctx.conf = (padding_idx, scale_grad_by_freq)
        ctx.save_for_backward(indices)
        return _kernels("fused").embedding_backward(
            _to_kernel(grad), indices, num_weights, padding_idx,
            scale_grad_by_freq).astype(grad.dtype, copy=False)

    @staticmethod
    def backward(ctx, gg):
        idx, = ctx.saved_tensors
        padding_idx, by_freq = ctx.conf
        out = Embedding.apply(gg, idx._data, None, False)
        factor = np.ones(idx.shape, dtype=gg.dtype)
        if by_freq:
            flat = idx._data.reshape(-1)
            counts = np.bincount(flat, minlength=gg.shape[0])
            factor = (1.0 / counts[idx._data]).astype(gg.dtype)
        if padding_idx is not None:
            factor = factor * (idx._data != padding_idx)
        if by_freq or padding_idx is not None:
            out = out * _const(factor[..., None])
        return out, None, None, None, None


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Look up rows of ``weight`` (``torch.nn.functional.embedding``).

    Shapes: input ``(*)`` integer indices in ``[0, num_embeddings)``; weight
    ``(num_embeddings, embedding_dim)`` -> ``(*, embedding_dim)``.

    Args:
        padding_idx: this row receives no gradient (negative values count from the end).
        max_norm: if given, each row named in ``input`` whose ``norm_type``-norm exceeds it is
            rescaled *in place* to norm ``max_norm`` before the lookup (PyTorch's
            ``embedding_renorm_``, factor ``max_norm / (norm + 1e-7)``); this bumps the
            weight's version counter.
        scale_grad_by_freq: divide each row's gradient by the count of its index in ``input``.
        sparse: accepted for compatibility, but the gradient is always dense (tapegrad has
            no sparse tensors).

    The backward is a scatter-add of repeated indices in a Numba kernel, itself an op, so
    double backward works.

    Raises:
        RuntimeError: indices that are not int64 or int32 (as PyTorch).
        IndexError: an index out of range (naming it).
        ValueError: a weight that is not 2-D, or a padding_idx outside the table.
    """
    op = "embedding"
    if weight.ndim != 2:
        raise ValueError(f"{op}: weight must be 2-D (num_embeddings, embedding_dim), got shape "
                         f"{tuple(weight.shape)}")
    idx = input._data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype not in (np.int64, np.int32):  # PyTorch's check: Long or Int, nothing else
        raise RuntimeError(f"{op}: expected indices of dtype int64 ('Long') or int32 ('Int'), "
                           f"got {idx.dtype} (shape {idx.shape})")
    num = weight.shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(f"{op}: padding_idx {padding_idx} must be within num_embeddings "
                             f"({num})")
        padding_idx = int(padding_idx) % num
    idx = idx.astype(np.int64, copy=False)
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        bad = idx[(idx < 0) | (idx >= num)].reshape(-1)[0]
        raise IndexError(f"{op}: index out of range in self (index {int(bad)}, "
                         f"num_embeddings {num})")
    if max_norm is not None:
        _kernels("fused").embedding_renorm_(weight._data, idx, float(max_norm),
                                             float(norm_type))
        weight._bump_version()
    return Embedding.apply(weight, idx, padding_idx, bool(scale_grad_by_freq))
