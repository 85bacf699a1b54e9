"""``nn.utils``: gradient clipping and parameter/vector conversion."""

import math

import numpy as np

import autograd
from autograd import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters"]


def _params(parameters):
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients together so their joint ``norm_type``-norm is at most ``max_norm``
    (``torch.nn.utils.clip_grad_norm_``); in place.

    Returns:
        Tensor: the total norm of the gradients before clipping (0-d).

    Raises:
        RuntimeError: if the total norm is nan or inf and ``error_if_nonfinite`` is true.
    """
    grads = [p.grad for p in _params(parameters) if p.grad is not None]
    if not grads:
        return autograd.tensor(0.0)
    norm_type = float(norm_type)
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(g.data))) if g.data.size else 0.0 for g in grads)
    else:
        total = sum(float(np.sum(np.abs(g.data.astype(np.float64)) ** norm_type))
                    for g in grads) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable this "
                           "error and scale the gradients by the non-finite norm anyway, set "
                           "`error_if_nonfinite=False`")
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for g in grads:
            g.data *= g.data.dtype.type(coef)
    return autograd.tensor(total, dtype=grads[0].dtype)


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element into ``[-clip_value, clip_value]`` in place."""
    for p in _params(parameters):
        if p.grad is not None:
            np.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)


def parameters_to_vector(parameters):
    """Concatenate the parameters' values into one 1-D tensor (a copy)."""
    return autograd.cat([p.reshape(-1) for p in _params(parameters)])


def vector_to_parameters(vec, parameters):
    """Copy the slices of the 1-D ``vec`` into the parameters (in place).

    Raises:
        ValueError: if ``vec``'s length differs from the total number of parameter elements.
    """
    params = _params(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise ValueError(f"vector_to_parameters: expected a 1-D vector of {total} elements, "
                         f"got shape {tuple(vec.shape)}")
    start = 0
    for p in params:
        n = p.numel()
        p.data[...] = vec.data[start:start + n].reshape(p.shape)
        p._bump_version()
        start += n
