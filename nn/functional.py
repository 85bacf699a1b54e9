"""``nn.functional``: the stateless layer functions (``torch.nn.functional``).

The ops with their own backward (``linear``, ``conv2d``, ``max_pool2d``, ``softmax``,
``log_softmax``, ``nll_loss``, ``dropout``) live in :mod:`autograd.ops.nn_ops` and are
re-exported here; the losses and activations below are compositions of Tensor ops.
"""

import numpy as np

import autograd
from autograd import Tensor
from autograd.ops.nn_ops import (conv2d, dropout, linear, log_softmax, max_pool2d,  # noqa: F401
                                 nll_loss, softmax)

__all__ = ["linear", "conv2d", "max_pool2d", "dropout", "softmax", "log_softmax", "nll_loss",
           "relu", "sigmoid", "tanh", "cross_entropy", "mse_loss", "flatten"]


def relu(input, inplace=False):
    """``max(x, 0)`` elementwise (``F.relu``); ``inplace=True`` rewrites ``input`` (recorded in
    the graph like every in-place op) and returns it."""
    if inplace:
        return input.relu_()
    return autograd.relu(input)


def sigmoid(input):
    """``1 / (1 + exp(-x))`` elementwise (``F.sigmoid``)."""
    return autograd.sigmoid(input)


def tanh(input):
    """Hyperbolic tangent elementwise (``F.tanh``)."""
    return autograd.tanh(input)


def flatten(input, start_dim=0, end_dim=-1):
    """``autograd.flatten``."""
    return autograd.flatten(input, start_dim, end_dim)


def _reduce(loss, reduction, op):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction "
                     "(expected 'mean', 'sum' or 'none')")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits and targets (``F.cross_entropy``): ``nll_loss`` of
    ``log_softmax(input, 1)``.

    Shapes: input ``(N, C)`` or ``(N, C, d1, ...)`` (or ``(C,)``) of unnormalised logits;
    target either class indices ``(N)``/``(N, d1, ...)`` int64 in ``[0, C)``, or class
    probabilities with the input's shape (float).

    Args:
        weight (Tensor, optional): ``(C,)`` rescaling per class.
        ignore_index (int): targets with this value contribute nothing (index targets only).
        reduction (str): ``'mean'`` | ``'sum'`` | ``'none'``.
        label_smoothing (float): in ``[0, 1]``; the target becomes
            ``(1 - eps) * onehot + eps / C`` (Szegedy et al., 2016).

    Raises:
        ValueError: for a bad reduction, label_smoothing outside [0, 1], or mismatched shapes.
        IndexError: for a class index outside ``[0, C)``.
    """
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cross_entropy: {reduction!r} is not a valid value for reduction")
    if input.ndim == 0:
        raise ValueError("cross_entropy: input must have at least 1 dimension (C,)")
    class_dim = 0 if input.ndim == 1 else 1
    logp = log_softmax(input, class_dim)
    tgt = target.data if isinstance(target, Tensor) else np.asarray(target)
    c = input.shape[class_dim]
    w = None
    if weight is not None:
        w = weight if isinstance(weight, Tensor) else autograd.tensor(weight)
        w = w.to(input.dtype)
        if w.shape != (c,):
            raise ValueError(f"cross_entropy: weight must have shape ({c},), got "
                             f"{tuple(w.shape)}")
    wshape = [1] * input.ndim
    wshape[class_dim] = c
    if tgt.dtype.kind == "f":  # class probabilities
        if tgt.shape != input.shape:
            raise ValueError(f"cross_entropy: probability target of shape {tgt.shape} must "
                             f"match the input's shape {tuple(input.shape)}")
        t = target if isinstance(target, Tensor) else autograd.tensor(tgt)
        t = t.to(input.dtype)
        if label_smoothing:
            t = t * (1 - label_smoothing) + label_smoothing / c
        terms = logp * t
        if w is not None:
            terms = terms * w.reshape(wshape)
        loss = -terms.sum(class_dim)
        return _reduce(loss, reduction, "cross_entropy")
    nll = nll_loss(logp, target, weight=w, ignore_index=ignore_index, reduction=reduction)
    if not label_smoothing:
        return nll
    # smoothing term: -sum_c w_c log p_c / C per sample, averaged like nll (PyTorch)
    valid = tgt != ignore_index
    smooth = logp if w is None else logp * w.reshape(wshape)
    smooth = -smooth.sum(class_dim)
    mask = Tensor(valid.astype(input.dtype))
    smooth = smooth * mask
    if reduction == "mean":
        if w is None:
            denom = valid.sum()
        else:
            denom = (w.data[np.where(valid, tgt, 0)] * valid).sum()
        smooth = smooth.sum() / max(float(denom), 1e-38)
    elif reduction == "sum":
        smooth = smooth.sum()
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / c)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Mean squared error ``(x - y)^2`` (``F.mse_loss``), reduced by ``reduction``.

    Raises:
        ValueError: for an unknown reduction.
    """
    if isinstance(target, Tensor) and target.shape != input.shape:
        import warnings
        warnings.warn(f"Using a target size ({tuple(target.shape)}) that is different to the "
                      f"input size ({tuple(input.shape)}). This will likely lead to incorrect "
                      "results due to broadcasting. Please ensure they have the same size.",
                      stacklevel=2)
    diff = input - target
    return _reduce(diff * diff, reduction, "mse_loss")
