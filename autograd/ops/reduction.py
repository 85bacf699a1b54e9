"""Reductions: sum, mean, max/min (with indices), amax/amin, argmax/argmin, var/std,
logsumexp, all/any.

``dim`` is an int, a tuple of ints or ``None`` (all dimensions); ``keepdim`` keeps reduced
dimensions with size 1, as in PyTorch. Backward formulas re-insert the reduced dimensions and
broadcast the gradient back with ``expand``.
"""

import builtins
import collections

import numpy as np

from .. import dtypes as _dt
from ..function import Function
from ..tensor import Tensor, _wrap_dim

__all__ = ["sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std",
           "logsumexp", "all", "any", "count_nonzero"]

# PyTorch's torch.return_types.max / min: a named pair (values, indices).
MaxMin = collections.namedtuple("MaxMin", ["values", "indices"])


def _dims(dim, ndim, op):
    """Normalise ``dim`` to a sorted tuple of non-negative ints (``None``: all dims)."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        dims = tuple(sorted(_wrap_dim(d, ndim, op) for d in dim))
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"{op}: dim {tuple(dim)} appears multiple times in the list of dims")
    else:
        dims = (_wrap_dim(dim, ndim, op),)
    # A 0-d tensor accepts dim 0 / -1 (as PyTorch) but has no axis to reduce.
    return dims if ndim else ()


def _keepdim_shape(shape, dims):
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


class Sum(Function):
    """Graph node of :func:`sum`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, dims, keepdim):
        ctx.in_shape = a.shape
        ctx.kd_shape = _keepdim_shape(a.shape, dims)
        return np.sum(a, axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        if grad.shape != ctx.kd_shape:
            grad = grad.reshape(ctx.kd_shape)
        return grad.expand(ctx.in_shape)


def sum(input, dim=None, keepdim=False, dtype=None):
    """Sum over ``dim`` (``torch.sum``). Bool and integer tensors sum to int64.

    Args:
        input (Tensor): any shape.
        dim (int or tuple of int, optional): dimensions to reduce; all when ``None``.
        keepdim (bool): keep the reduced dimensions with size 1.
        dtype (optional): cast the input to this dtype first.

    Raises:
        IndexError: if a dim is out of range.
    """
    if dtype is not None:
        input = input.to(dtype)
    elif input.data.dtype.kind in "biu":
        input = input.to(_dt.int64)
    dims = _dims(dim, input.data.ndim, "sum")
    return Sum.apply(input, dims, keepdim)


class Mean(Function):
    """Graph node of :func:`mean`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, dims, keepdim):
        ctx.in_shape = a.shape
        ctx.kd_shape = _keepdim_shape(a.shape, dims)
        n = 1
        for d in dims:
            n *= a.shape[d]
        ctx.n = n
        return np.mean(a, axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        if grad.shape != ctx.kd_shape:
            grad = grad.reshape(ctx.kd_shape)
        return (grad / ctx.n).expand(ctx.in_shape)


def mean(input, dim=None, keepdim=False, dtype=None):
    """Arithmetic mean over ``dim`` (``torch.mean``).

    Raises:
        RuntimeError: for integer or bool input without ``dtype`` (as PyTorch).
    """
    if dtype is not None:
        input = input.to(dtype)
    elif input.data.dtype.kind != "f":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {_dt.dtype_name(input.dtype)}")
    dims = _dims(dim, input.data.ndim, "mean")
    return Mean.apply(input, dims, keepdim)


class MaxDim(Function):
    """max/min along one dim: the gradient goes to the returned index only (PyTorch)."""

    @staticmethod
    def forward(ctx, a, dim, keepdim, indices):
        ctx.in_shape = a.shape
        ctx.dim = dim
        ctx.keepdim = keepdim
        ctx.save_for_backward(indices)
        return np.take_along_axis(a, indices, axis=dim) if keepdim else \
            np.take_along_axis(a, indices, axis=dim).squeeze(dim)

    @staticmethod
    def backward(ctx, grad):
        idx, = ctx.saved_tensors
        if not ctx.keepdim:
            grad = grad.unsqueeze(ctx.dim)
        onehot = np.zeros(ctx.in_shape, dtype=bool)
        np.put_along_axis(onehot, idx.data, True, axis=ctx.dim)
        return grad * Tensor._make(onehot, False, None)


class AMax(Function):
    """amax/amin over dims: ties share the gradient evenly (PyTorch's amax rule)."""

    @staticmethod
    def forward(ctx, a, dims, keepdim, is_max):
        ctx.kd_shape = _keepdim_shape(a.shape, dims)
        out = np.max(a, axis=dims, keepdims=True) if is_max else np.min(a, axis=dims,
                                                                             keepdims=True)
        ctx.dims = dims
        ctx.save_for_backward(a, out)
        return out if keepdim else out.reshape([n for i, n in enumerate(a.shape)
                                                if i not in dims])

    @staticmethod
    def backward(ctx, grad):
        a, out_kd = ctx.saved_tensors
        mask = (a == out_kd).data
        count = mask.sum(axis=ctx.dims, keepdims=True)
        weight = Tensor._make((mask / count).astype(a.dtype), False, None)
        return grad.reshape(ctx.kd_shape) * weight


def _check_nonempty(input, dims, op):
    for d in dims:
        if input.data.shape[d] == 0:
            raise IndexError(f"{op}: expected reduction dim {d} to have non-zero size, got "
                             f"shape {tuple(input.shape)}")
    if input.data.size == 0:
        raise RuntimeError(f"{op}: cannot reduce an empty tensor of shape {tuple(input.shape)}")


def _max_min(input, dim, keepdim, is_max, op):
    if isinstance(dim, Tensor):  # torch.max(a, b): elementwise
        from .elementwise import maximum, minimum
        return maximum(input, dim) if is_max else minimum(input, dim)
    if dim is None:
        _check_nonempty(input, (), op)
        return AMax.apply(input, tuple(range(input.data.ndim)), False, is_max)
    d = _wrap_dim(dim, input.data.ndim, op)
    if input.data.ndim == 0:
        return MaxMin(input.clone(), Tensor._make(np.zeros((), np.int64), False, None))
    _check_nonempty(input, (d,), op)
    arg = np.argmax(input.data, axis=d) if is_max else np.argmin(input.data, axis=d)
    idx_kd = np.expand_dims(arg, d)
    values = MaxDim.apply(input, d, keepdim, idx_kd)
    indices = idx_kd if keepdim else arg
    return MaxMin(values, Tensor._make(np.asarray(indices, dtype=np.int64), False, None))


def max(input, dim=None, keepdim=False):
    """Maximum (``torch.max``).

    - ``max(input)``: the maximum of all elements; ties share the gradient evenly.
    - ``max(input, dim, keepdim=False)``: a named pair ``(values, indices)`` along ``dim``; the
      gradient goes to the element at ``indices``.
    - ``max(input, other)`` with a Tensor: elementwise ``maximum``.

    Raises:
        RuntimeError/IndexError: for an empty input or an out-of-range dim.
    """
    return _max_min(input, dim, keepdim, True, "max")


def min(input, dim=None, keepdim=False):
    """Minimum (``torch.min``); see :func:`max`."""
    return _max_min(input, dim, keepdim, False, "min")


def amax(input, dim=(), keepdim=False):
    """Maximum over ``dim`` (int or tuple; ``()``/``None`` means all), ties sharing the
    gradient evenly (``torch.amax``)."""
    dims = _dims(dim if dim != () else None, input.data.ndim, "amax")
    _check_nonempty(input, dims, "amax")
    return AMax.apply(input, dims, keepdim, True)


def amin(input, dim=(), keepdim=False):
    """Minimum over ``dim`` (``torch.amin``)."""
    dims = _dims(dim if dim != () else None, input.data.ndim, "amin")
    _check_nonempty(input, dims, "amin")
    return AMax.apply(input, dims, keepdim, False)


def argmax(input, dim=None, keepdim=False):
    """Index of the maximum (int64; of the flattened tensor when ``dim`` is None)
    (``torch.argmax``)."""
    return _arg(input, dim, keepdim, np.argmax, "argmax")


def argmin(input, dim=None, keepdim=False):
    """Index of the minimum (``torch.argmin``)."""
    return _arg(input, dim, keepdim, np.argmin, "argmin")


def _arg(input, dim, keepdim, fn, op):
    a = input.data
    if a.size == 0:
        raise RuntimeError(f"{op}: cannot be computed on an empty tensor of shape {a.shape}")
    if dim is None:
        r = fn(a.reshape(-1))
        if keepdim:
            r = np.reshape(r, (1,) * a.ndim)
    else:
        d = _wrap_dim(dim, a.ndim, op)
        r = fn(a, axis=d, keepdims=keepdim) if a.ndim else fn(a)
    return Tensor._make(np.asarray(r, dtype=np.int64), False, None)


def var(input, dim=None, *, correction=1, keepdim=False, unbiased=None):
    """Variance over ``dim`` with Bessel's ``correction`` (``torch.var``): sum of squared
    deviations divided by ``N - correction``. ``unbiased=False`` means ``correction=0``."""
    if unbiased is not None:
        correction = 1 if unbiased else 0
    dims = _dims(dim, input.data.ndim, "var")
    n = 1
    for d in dims:
        n *= input.data.shape[d]
    mu = mean(input, dims, keepdim=True)
    dev = input - mu
    return sum(dev * dev, dims, keepdim=keepdim) / builtins.max(n - correction, 0)


def std(input, dim=None, *, correction=1, keepdim=False, unbiased=None):
    """Standard deviation, ``sqrt(var)`` (``torch.std``)."""
    return var(input, dim, correction=correction, keepdim=keepdim, unbiased=unbiased).sqrt()


def logsumexp(input, dim, keepdim=False):
    """``log(sum(exp(x), dim))`` computed stably by subtracting the maximum
    (``torch.logsumexp``); the gradient is ``softmax(x)``."""
    dims = _dims(dim, input.data.ndim, "logsumexp")
    m = Tensor._make(np.max(input.data, axis=dims, keepdims=True), False, None)
    m = m.masked_fill(~m.isfinite(), 0.0)
    out = ((input - m).exp().sum(dims, keepdim=True)).log() + m
    if not keepdim:
        out = out.reshape([n for i, n in enumerate(input.shape) if i not in dims])
    return out


def all(input, dim=None, keepdim=False):
    """True if every element (along ``dim``) is non-zero (``torch.all``); bool result."""
    axis = None if dim is None else _dims(dim, input.data.ndim, "all")
    return Tensor._make(np.asarray(np.all(input.data, axis=axis, keepdims=keepdim)), False, None)


def any(input, dim=None, keepdim=False):
    """True if any element (along ``dim``) is non-zero (``torch.any``); bool result."""
    axis = None if dim is None else _dims(dim, input.data.ndim, "any")
    return Tensor._make(np.asarray(np.any(input.data, axis=axis, keepdims=keepdim)), False, None)


def count_nonzero(input, dim=None):
    """Number of non-zero elements (along ``dim``), int64."""
    axis = None if dim is None else _dims(dim, input.data.ndim, "count_nonzero")
    return Tensor._make(np.asarray(np.count_nonzero(input.data, axis=axis), dtype=np.int64),
                        False, None)
