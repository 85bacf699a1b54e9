"""``nn.utils``: gradient clipping and parameter/vector conversion; ``nn.utils.rnn`` packs and
pads variable-length sequences."""

import math

import numpy as np

import autograd
from autograd import Tensor

from . import rnn  # noqa: F401  (nn.utils.rnn, as torch.nn.utils.rnn)

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_",
           "parameters_to_vector", "vector_to_parameters"]


def _params(parameters):
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def _vector_norm(arr, p):
    """The ``p``-norm of a flattened array, in float64 (``torch.linalg.vector_norm``'s
    definitions for p = inf, -inf, 0 and the rest)."""
    a = np.abs(np.asarray(arr, dtype=np.float64)).ravel()
    if math.isinf(p):
        if a.size == 0:
            return 0.0
        return float(a.max() if p > 0 else a.min())
    if p == 0:
        return float(np.count_nonzero(a))
    return float(np.sum(a ** p) ** (1.0 / p))


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of the norms of ``tensors`` (as if they were concatenated into
    one vector; ``torch.nn.utils.get_total_norm``). ``foreach`` is accepted and ignored.

    Returns:
        Tensor: 0-d, of the first tensor's dtype (``0.`` float32 when there are none).

    Raises:
        RuntimeError: if the norm is nan or inf and ``error_if_nonfinite`` is true.
    """
    tensors = _params(tensors)
    if not tensors:
        return autograd.tensor(0.0)
    norm_type = float(norm_type)
    total = _vector_norm([_vector_norm(t._data, norm_type) for t in tensors], norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable this "
                           "error and scale the gradients by the non-finite norm anyway, set "
                           "`error_if_nonfinite=False`")
    return autograd.tensor(total, dtype=tensors[0].dtype)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients of ``parameters`` by ``min(max_norm / (total_norm + 1e-6), 1)``, in
    place (``torch.nn.utils.clip_grads_with_norm_``). A nan ``total_norm`` makes every
    gradient nan, as in PyTorch. ``foreach`` is accepted and ignored."""
    total = float(total_norm.item() if isinstance(total_norm, Tensor) else total_norm)
    coef = max_norm / (total + 1e-6)
    if not coef < 1.0 and not math.isnan(coef):
        return
    for p in _params(parameters):
        if p.grad is not None:
            g = p.grad._data
            g *= g.dtype.type(coef)
            p.grad._bump_version()


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale all gradients together so their joint ``norm_type``-norm is at most ``max_norm``
    (``torch.nn.utils.clip_grad_norm_``): ``g *= min(max_norm / (total_norm + 1e-6), 1)``, in
    place.

    Args:
        parameters (Tensor or iterable of Tensors): those whose ``.grad`` is clipped (ones
            without a gradient are skipped).
        max_norm (float): the largest allowed norm.
        norm_type (float): ``p`` of the p-norm; ``float('inf')`` for the max-norm.
        error_if_nonfinite (bool): raise if the total norm is nan or inf (default False: the
            gradients are then scaled by the non-finite coefficient, as PyTorch).
        foreach (bool, optional): accepted for PyTorch compatibility; ignored.

    Returns:
        Tensor: the total norm of the gradients before clipping (0-d, the gradients' dtype).

    Raises:
        RuntimeError: if the total norm is nan or inf and ``error_if_nonfinite`` is true.
    """
    params = [p for p in _params(parameters) if p.grad is not None]
    if not params:
        return autograd.tensor(0.0)
    total = get_total_norm([p.grad for p in params], norm_type, error_if_nonfinite)
    clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into ``[-clip_value, clip_value]`` in place
    (``torch.nn.utils.clip_grad_value_``). ``foreach`` is accepted and ignored."""
    clip_value = float(clip_value)
    for p in _params(parameters):
        if p.grad is not None:
            np.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)
            p.grad._bump_version()


def parameters_to_vector(parameters):
    """Concatenate the parameters, flattened, into one 1-D tensor
    (``torch.nn.utils.parameters_to_vector``): a new tensor, differentiable with respect to
    the parameters."""
    return autograd.cat([p.reshape(-1) for p in _params(parameters)])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D ``vec`` into the parameters, in place, in order
    (``torch.nn.utils.vector_to_parameters``).

    Raises:
        TypeError: if ``vec`` is not a Tensor.
        ValueError: if ``vec``'s length differs from the total number of parameter elements.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected Tensor, but got: {type(vec).__name__}")
    params = _params(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise ValueError(f"vector_to_parameters: expected a 1-D vector of {total} elements, "
                         f"got shape {tuple(vec.shape)}")
    start = 0
    for p in params:
        n = p.numel()
        p._data[...] = vec._data[start:start + n].reshape(p.shape)
        p._bump_version()
        start += n
