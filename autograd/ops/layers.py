"""The nn ops with their own backward that are neither convolutions (:mod:`.conv`) nor
poolings (:mod:`.pool`): softmax/log_softmax, linear, dropout, nll_loss (the pieces of
``torch.nn.functional``'s "non-linear activations", "linear", "dropout" and "loss" sections
that are one node each). Their backward is written with Tensor ops, so higher-order gradients
work. The fused Numba nodes (attention, cross-entropy with class indices, layer/group norm,
embedding) are :mod:`.fused`.
"""

import warnings

import numpy as np

from .. import random as _random
from ..graph import Node
from ..tensor import Tensor, _wrap_dim
from ._nn_common import TORCH_DTYPE_NAMES, _dtype_name, not_implemented_for

__all__ = ["softmax", "log_softmax", "linear", "dropout", "nll_loss"]


def _softmax_args(input, dim, dtype, op):
    """Cast to ``dtype`` and resolve ``dim`` (PyTorch's deprecated implicit choice when None).

    Raises:
        NotImplementedError: for an integer or bool input without a floating ``dtype`` (as
            PyTorch: its kernel has no integer version).
    """
    if dtype is not None:
        input = input.to(dtype)
    if input.dtype.kind != "f":
        raise not_implemented_for(op, input, "a floating point tensor (or pass dtype=)")
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call "
                      "to include dim=X as an argument.", stacklevel=3)
        dim = 0 if input.ndim in (0, 1, 3) else 1
    return input, _wrap_dim(dim, input.ndim, op)


class _Normalise(Node):
    """Softmax or log-softmax along ``dim`` (the subclass's ``normalise`` of the max-shifted
    input); saves its output for backward."""

    @staticmethod
    def forward(ctx, a, dim):
        ctx.dim = dim
        out = ctx.normalise(a - np.max(a, axis=dim, keepdims=True), dim)
        ctx.save_for_backward(out)
        return out


class Softmax(_Normalise):
    """Saves its output ``y`` for backward."""

    @staticmethod
    def normalise(shifted, dim):
        e = np.exp(shifted)
        return e / np.sum(e, axis=dim, keepdims=True)

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return y * (grad - (grad * y).sum(ctx.dim, keepdim=True))


def softmax(input, dim=None, dtype=None):
    """``exp(x_i) / sum_j exp(x_j)`` along ``dim``, computed stably by subtracting the max
    (``torch.softmax``). Backward: ``y * (g - sum(g * y))``.

    Raises:
        IndexError: if ``dim`` is out of range.
        NotImplementedError: for an integer or bool input without a floating ``dtype``.
    """
    return Softmax.apply(*_softmax_args(input, dim, dtype, "softmax"))


class LogSoftmax(_Normalise):
    """Saves its output ``log softmax(x)`` for backward."""

    @staticmethod
    def normalise(shifted, dim):
        return shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad - y.exp() * grad.sum(ctx.dim, keepdim=True)


def log_softmax(input, dim=None, dtype=None):
    """``x_i - log(sum_j exp(x_j))`` along ``dim``, stable for large logits
    (``torch.log_softmax``). Backward: ``g - softmax(x) * sum(g)``.

    Raises:
        IndexError, NotImplementedError: as :func:`softmax`.
    """
    return LogSoftmax.apply(*_softmax_args(input, dim, dtype, "log_softmax"))


class Linear(Node):
    """Saves the input and the weight for backward."""

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        if x.ndim > 2:  # one GEMM over all rows (NumPy's matmul would run one per batch item)
            out = (x.reshape(-1, x.shape[-1]) @ w.T).reshape(x.shape[:-1] + (w.shape[0],))
        else:
            out = x @ w.T
        if b is not None:
            out += b
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        nx, nw, nb = ctx.needs_input_grad
        gx = None
        if nx:
            if grad.ndim > 2:
                gx = (grad.reshape(-1, grad.shape[-1]) @ w).reshape(x.shape)
            else:
                gx = grad @ w
        gw = None
        if nw:
            if grad.ndim == 2:
                gw = grad.mT @ x
            else:
                gw = grad.reshape(-1, grad.shape[-1]).mT @ x.reshape(-1, x.shape[-1])
        # bias: the gradient has the output's shape; the engine sums it to (out_features,)
        return gx, gw, (grad if nb else None)


def linear(input, weight, bias=None):
    """``y = x W^T + b`` (``torch.nn.functional.linear``), one fused node.

    Shapes: input ``(*, in_features)``, weight ``(out_features, in_features)``, bias
    ``(out_features,)`` -> ``(*, out_features)``.

    Raises:
        RuntimeError: if ``input.shape[-1] != in_features``, naming both shapes.
    """
    if weight.ndim != 2:
        raise RuntimeError(f"linear: weight must be 2-D (out_features, in_features), got shape "
                           f"{tuple(weight.shape)}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        rows = int(np.prod(input.shape[:-1])) if input.ndim else 1
        raise RuntimeError(
            f"linear: mat1 and mat2 shapes cannot be multiplied ({rows}x"
            f"{input.shape[-1] if input.ndim else 0} and {weight.shape[1]}x{weight.shape[0]}): "
            f"input of shape {tuple(input.shape)} has {input.shape[-1] if input.ndim else 0} "
            f"features, weight of shape {tuple(weight.shape)} expects "
            f"in_features={weight.shape[1]}")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise RuntimeError(f"linear: bias must have shape ({weight.shape[0]},), got "
                           f"{tuple(bias.shape)}")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"linear: expected input and weight to have the same dtype, got "
                           f"{input.dtype} and {weight.dtype}")
    return Linear.apply(input, weight, bias)


def _dropout_dtype(op, input):
    """A dropout that drops must scale by ``1 / (1 - p)``: PyTorch refuses integer and bool
    inputs (its float scale cannot be cast to them)."""
    if input.dtype.kind != "f":
        name = TORCH_DTYPE_NAMES.get(input.dtype.name, input.dtype.name)
        raise RuntimeError(f"{op}: expected a floating point input in training mode, got dtype "
                           f"{_dtype_name(input.dtype)} (shape {tuple(input.shape)}): result "
                           f"type Float can't be cast to the desired output type {name}")


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``
    (``torch.nn.functional.dropout``; Srivastava et al., 2014). Identity when not training.
    The mask is drawn from the default generator (``autograd.manual_seed``). With
    ``inplace=True`` the input is overwritten and returned (an error for a leaf that requires
    grad, as in PyTorch).

    Raises:
        ValueError: if ``p`` is not in ``[0, 1]``.
        RuntimeError: for an integer or bool input when it drops (training, ``p > 0``), as
            PyTorch.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    return _drop("dropout", input, p, input.shape, inplace)


def _drop(op, input, p, mask_shape, inplace):
    """``input`` times a mask of ``mask_shape`` (broadcast to the input: ``nn.functional``'s
    channel dropouts drop whole channels) whose entries are 0 with probability ``0 < p <= 1``
    and ``1 / (1 - p)`` otherwise, drawn from the default generator; written into ``input``
    when ``inplace``.

    Raises:
        RuntimeError: for an integer or bool input (:func:`_dropout_dtype`).
    """
    _dropout_dtype(op, input)
    if p == 1.0:
        scale = 0.0
    else:
        keep = _random.get_rng().random(mask_shape, dtype=np.float64) >= p
        scale = Tensor._make((keep * (1.0 / (1.0 - p))).astype(input.dtype), False, None)
    if inplace:
        # recorded like any in-place op: the input's history is rebased onto the product
        return input._inplace(op + "_", lambda t: t * scale)
    return input * scale


class NLLLoss(Node):
    """Saves the coefficient of each log-probability in the loss (``-w / sum(w)`` at the
    targets, 0 elsewhere) for backward."""

    @staticmethod
    def forward(ctx, logp, target, weight, ignore_index, reduction):
        m, c = logp.shape
        valid = target != ignore_index
        t = np.where(valid, target, 0)
        bad = valid & ((target < 0) | (target >= c))
        if bad.any():
            raise IndexError(f"nll_loss: target {int(target[bad][0])} is out of bounds for "
                             f"{c} classes")
        w = valid.astype(logp.dtype)
        if weight is not None:
            w = w * weight[t]
        rows = np.arange(m)
        losses = -w * logp[rows, t]
        ctx.reduction = reduction
        coef = np.zeros_like(logp)
        if reduction == "mean":
            denom = w.sum()
            coef[rows, t] = -w / denom if denom else 0.0
            out = losses.sum() / denom if denom else np.asarray(np.nan, dtype=logp.dtype)
        elif reduction == "sum":
            coef[rows, t] = -w
            out = losses.sum()
        else:
            coef[rows, t] = -w
            out = losses
        ctx.save_for_backward(coef)
        return np.asarray(out, dtype=logp.dtype)

    @staticmethod
    def backward(ctx, grad):
        coef, = ctx.saved_tensors
        if ctx.reduction == "none":
            grad = grad.unsqueeze(1)
        return grad * coef, None, None, None, None


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of class indices (``torch.nn.functional.nll_loss``).

    Shapes: input ``(N, C)`` or ``(N, C, d1, ...)`` of log-probabilities, target ``(N)`` or
    ``(N, d1, ...)`` int64 in ``[0, C)`` (or ``ignore_index``); ``weight`` ``(C,)``.
    ``reduction='mean'`` divides by the summed weights of the non-ignored targets.

    Raises:
        ValueError: for an unknown reduction or mismatched shapes.
        IndexError: for a target outside ``[0, C)``.
        TypeError: if target is not an integer tensor.
        NotImplementedError: for an integer or bool input (as PyTorch).
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"nll_loss: {reduction!r} is not a valid value for reduction")
    if input.dtype.kind != "f":  # PyTorch's kernel has no integer version (it was truncated)
        raise not_implemented_for("nll_loss", input, "floating point log-probabilities")
    tgt = target._data if isinstance(target, Tensor) else np.asarray(target)
    if tgt.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: expected target of an integer dtype (class indices), got "
                        f"{tgt.dtype}; for probabilities use cross_entropy with float targets")
    if input.ndim == 1:
        input, tgt = input.unsqueeze(0), tgt.reshape(1)
        squeeze = True
    else:
        squeeze = False
    if input.ndim < 2 or tgt.shape != (input.shape[0],) + tuple(input.shape[2:]):
        raise ValueError(f"nll_loss: expected target of shape "
                         f"{(input.shape[0],) + tuple(input.shape[2:])} for input of shape "
                         f"{tuple(input.shape)}, got {tuple(tgt.shape)}")
    spatial = input.shape[2:]
    c = input.shape[1]
    x = input
    if spatial:
        x = input.movedim(1, -1).reshape(-1, c)
    w = None
    if weight is not None:
        w = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
        if w.shape != (c,):
            raise ValueError(f"nll_loss: weight must have shape ({c},), got {w.shape}")
        w = w.astype(input.dtype, copy=False)
    out = NLLLoss.apply(x, tgt.reshape(-1).astype(np.int64, copy=False), w, ignore_index,
                        reduction)
    if reduction == "none":
        if spatial:
            out = out.reshape((input.shape[0],) + tuple(spatial))
        elif squeeze:
            out = out.reshape(())
    return out
