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
from ..graph import Node
from ._out import with_out as _with_out
from ..tensor import Tensor, _wrap_dim

__all__ = ["sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std",
           "prod", "cumsum", "cumprod", "norm",
           "logsumexp", "all", "any", "count_nonzero", "nansum", "nanmean", "trace"]

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


class Sum(Node):
    """Keeps the input's shape (saves no array) for backward."""

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


def _accumulation_input(input, dtype):
    """``input`` cast to ``dtype`` when one is given, else bool and integer inputs cast to
    int64: the dtype in which ``sum``, ``prod``, ``cumsum`` and ``cumprod`` accumulate, as in
    PyTorch."""
    if dtype is not None:
        return input.to(dtype)
    if input._data.dtype.kind in "biu":
        return input.to(_dt.int64)
    return input


def sum(input, dim=None, keepdim=False, dtype=None, *, out=None):
    """Sum over ``dim`` (``torch.sum``). Bool and integer tensors sum to int64.

    Args:
        input (Tensor): any shape.
        dim (int or tuple of int, optional): dimensions to reduce; all when ``None``.
        keepdim (bool): keep the reduced dimensions with size 1.
        dtype (optional): cast the input to this dtype first.

    Raises:
        IndexError: if a dim is out of range.
    """
    if out is not None:
        return _with_out("sum", sum, out, input, dim=dim, keepdim=keepdim, dtype=dtype)
    input = _accumulation_input(input, dtype)
    dims = _dims(dim, input._data.ndim, "sum")
    return Sum.apply(input, dims, keepdim)


class Mean(Node):
    """Keeps the input's shape and the count (saves no array) for backward."""

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


def mean(input, dim=None, keepdim=False, dtype=None, *, out=None):
    """Arithmetic mean over ``dim`` (``torch.mean``).

    Raises:
        RuntimeError: for integer or bool input without ``dtype`` (as PyTorch).
    """
    if out is not None:
        return _with_out("mean", mean, out, input, dim=dim, keepdim=keepdim, dtype=dtype)
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind != "f":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {_dt.dtype_name(input.dtype)}")
    dims = _dims(dim, input._data.ndim, "mean")
    return Mean.apply(input, dims, keepdim)


class MaxDim(Node):
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
        np.put_along_axis(onehot, idx._data, True, axis=ctx.dim)
        return grad * Tensor._make(onehot, False, None)


class AMax(Node):
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
        mask = (a == out_kd)._data
        count = mask.sum(axis=ctx.dims, keepdims=True)
        weight = Tensor._make((mask / count).astype(a.dtype), False, None)
        return grad.reshape(ctx.kd_shape) * weight


def _check_nonempty(input, dims, op):
    for d in dims:
        if input._data.shape[d] == 0:
            raise IndexError(f"{op}: expected reduction dim {d} to have non-zero size, got "
                             f"shape {tuple(input.shape)}")
    if input._data.size == 0:
        raise RuntimeError(f"{op}: cannot reduce an empty tensor of shape {tuple(input.shape)}")


def _max_min(input, dim, keepdim, is_max, op):
    if isinstance(dim, Tensor):  # torch.max(a, b): elementwise
        from .comparison import maximum, minimum
        return maximum(input, dim) if is_max else minimum(input, dim)
    if dim is None:
        _check_nonempty(input, (), op)
        return AMax.apply(input, tuple(range(input._data.ndim)), False, is_max)
    d = _wrap_dim(dim, input._data.ndim, op)
    if input._data.ndim == 0:
        return MaxMin(input.clone(), Tensor._make(np.zeros((), np.int64), False, None))
    _check_nonempty(input, (d,), op)
    arg = np.argmax(input._data, axis=d) if is_max else np.argmin(input._data, axis=d)
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


def amax(input, dim=(), keepdim=False, *, out=None):
    """Maximum over ``dim`` (int or tuple; ``()``/``None`` means all), ties sharing the
    gradient evenly (``torch.amax``)."""
    if out is not None:
        return _with_out("amax", amax, out, input, dim=dim, keepdim=keepdim)
    dims = _dims(dim if dim != () else None, input._data.ndim, "amax")
    _check_nonempty(input, dims, "amax")
    return AMax.apply(input, dims, keepdim, True)


def amin(input, dim=(), keepdim=False, *, out=None):
    """Minimum over ``dim`` (``torch.amin``)."""
    if out is not None:
        return _with_out("amin", amin, out, input, dim=dim, keepdim=keepdim)
    dims = _dims(dim if dim != () else None, input._data.ndim, "amin")
    _check_nonempty(input, dims, "amin")
    return AMax.apply(input, dims, keepdim, False)


def argmax(input, dim=None, keepdim=False, *, out=None):
    """Index of the maximum (int64; of the flattened tensor when ``dim`` is None)
    (``torch.argmax``)."""
    if out is not None:
        return _with_out("argmax", argmax, out, input, dim=dim, keepdim=keepdim)
    return _arg(input, dim, keepdim, np.argmax, "argmax")


def argmin(input, dim=None, keepdim=False, *, out=None):
    """Index of the minimum (``torch.argmin``)."""
    if out is not None:
        return _with_out("argmin", argmin, out, input, dim=dim, keepdim=keepdim)
    return _arg(input, dim, keepdim, np.argmin, "argmin")


def _arg(input, dim, keepdim, fn, op):
    a = input._data
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


def var(input, dim=None, *, correction=1, keepdim=False, unbiased=None, out=None):
    """Variance over ``dim`` with Bessel's ``correction`` (``torch.var``): sum of squared
    deviations divided by ``N - correction``. ``unbiased=False`` means ``correction=0``."""
    if out is not None:
        return _with_out("var", var, out,
                         input, dim=dim, correction=correction, keepdim=keepdim, unbiased=unbiased)
    if unbiased is not None:
        correction = 1 if unbiased else 0
    dims = _dims(dim, input._data.ndim, "var")
    n = 1
    for d in dims:
        n *= input._data.shape[d]
    mu = mean(input, dims, keepdim=True)
    dev = input - mu
    return sum(dev * dev, dims, keepdim=keepdim) / builtins.max(n - correction, 0)


def std(input, dim=None, *, correction=1, keepdim=False, unbiased=None, out=None):
    """Standard deviation, ``sqrt(var)`` (``torch.std``)."""
    if out is not None:
        return _with_out("std", std, out,
                         input, dim=dim, correction=correction, keepdim=keepdim, unbiased=unbiased)
    return var(input, dim, correction=correction, keepdim=keepdim, unbiased=unbiased).sqrt()


def logsumexp(input, dim, keepdim=False, *, out=None):
    """``log(sum(exp(x), dim))`` computed stably by subtracting the maximum
    (``torch.logsumexp``); the gradient is ``softmax(x)``."""
    if out is not None:
        return _with_out("logsumexp", logsumexp, out, input, dim, keepdim=keepdim)
    dims = _dims(dim, input._data.ndim, "logsumexp")
    m = AMax.apply(input.detach(), dims, True, True)  # an op (no grad): traceable for ONNX
    m = m.masked_fill(~m.isfinite(), 0.0)
    out = ((input - m).exp().sum(dims, keepdim=True)).log() + m
    if not keepdim:
        out = out.reshape([n for i, n in enumerate(input.shape) if i not in dims])
    return out


def all(input, dim=None, keepdim=False):
    """True if every element (along ``dim``) is non-zero (``torch.all``); bool result."""
    axis = None if dim is None else _dims(dim, input._data.ndim, "all")
    return Tensor._make(np.asarray(np.all(input._data, axis=axis, keepdims=keepdim)), False, None)


def any(input, dim=None, keepdim=False):
    """True if any element (along ``dim``) is non-zero (``torch.any``); bool result."""
    axis = None if dim is None else _dims(dim, input._data.ndim, "any")
    return Tensor._make(np.asarray(np.any(input._data, axis=axis, keepdims=keepdim)), False, None)


def count_nonzero(input, dim=None):
    """Number of non-zero elements (along ``dim``), int64."""
    axis = None if dim is None else _dims(dim, input._data.ndim, "count_nonzero")
    return Tensor._make(np.asarray(np.count_nonzero(input._data, axis=axis), dtype=np.int64),
                        False, None)


# ---- products and cumulative ops -----------------------------------------------------------------
def _flip_cumsum_flip(x, dim):
    """Reverse cumulative sum along ``dim`` (``out[i] = sum_{j >= i} x[j]``), in Tensor ops."""
    return cumsum(x.flip((dim,)), dim).flip((dim,))


class Cumsum(Node):
    """Keeps the dim (saves no array) for backward."""

    @staticmethod
    def forward(ctx, a, dim):
        ctx.dim = dim
        return np.cumsum(a, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return _flip_cumsum_flip(grad, ctx.dim), None


def _cumulative(node, public, input, dim, dtype, out, op):
    """The body of :func:`cumsum` and :func:`cumprod` (``public``, named ``op``): ``out=``
    handled, else ``node`` (Cumsum/Cumprod) along ``dim`` of ``input`` as :func:`_cum_args`
    prepares it, a 0-d input's result reshaped back to 0-d."""
    if out is not None:
        return _with_out(op, public, out, input, dim, dtype=dtype)
    x, d = _cum_args(input, dim, dtype, op)
    out = node.apply(x, d)
    return out.reshape(()) if input._data.ndim == 0 else out


def _cum_args(input, dim, dtype, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    input = _accumulation_input(input, dtype)
    d = _wrap_dim(dim, input._data.ndim, op)
    if input._data.ndim == 0:
        input, d = input.reshape(1), 0  # 0-d: as a 1-element vector, reshaped back below
    return input, d


def cumsum(input, dim, *, dtype=None, out=None):
    """Cumulative sum along ``dim`` (``torch.cumsum``); integer and bool inputs accumulate in
    int64 (as PyTorch). Gradient: the reversed cumulative sum of the incoming gradient.

    Raises:
        IndexError: if ``dim`` is out of range.
    """
    return _cumulative(Cumsum, cumsum, input, dim, dtype, out, "cumsum")


class Cumprod(Node):
    """Saves the input and the output for backward."""

    @staticmethod
    def forward(ctx, a, dim):
        ctx.dim = dim
        out = np.cumprod(a, axis=dim)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        d = ctx.dim
        if not np.any(a._data == 0):
            # dL/dx_i = sum_{j >= i} g_j y_j / x_i  (no zeros: the division is exact)
            return _flip_cumsum_flip(grad * out, d) / a, None
        # With zeros: dL/dx_i = L_i * S_i, where L_i = prod_{k < i} x_k (exclusive cumprod) and
        # S_i = sum_{j >= i} g_j prod_{i < k <= j} x_k satisfies S_i = g_i + x_{i+1} S_{i+1};
        # one reverse scan in Tensor ops (n steps), so it stays differentiable.
        n = a.shape[d]
        g = grad.unbind(d)
        xs = a.unbind(d)
        s = [None] * n
        s[n - 1] = g[n - 1]
        for i in range(n - 2, -1, -1):
            s[i] = g[i] + xs[i + 1] * s[i + 1]
        from .shape import stack
        return _exclusive_cumprod(a, d) * stack(s, d), None


def _exclusive_cumprod(a, d):
    """``out[i] = prod_{k < i} a[k]`` along ``d`` (1 at i = 0), in Tensor ops."""
    from .shape import cat, narrow
    n = a.shape[d]
    one_shape = list(a.shape)
    one_shape[d] = 1
    ones = Tensor._make(np.ones(one_shape, dtype=a._data.dtype), False, None)
    if n == 1:
        return ones
    return cat([ones, cumprod(narrow(a, d, 0, n - 1), d)], d)


def cumprod(input, dim, *, dtype=None, out=None):
    """Cumulative product along ``dim`` (``torch.cumprod``); integer and bool inputs accumulate
    in int64. The gradient is exact with zeros in the input (a reverse scan instead of a
    division by the input, as in PyTorch's ``cumprod_backward``).

    Raises:
        IndexError: if ``dim`` is out of range.
    """
    return _cumulative(Cumprod, cumprod, input, dim, dtype, out, "cumprod")


class Prod(Node):
    """Saves the input for backward."""

    @staticmethod
    def forward(ctx, a, dims, keepdim):
        ctx.dims = dims
        ctx.kd_shape = _keepdim_shape(a.shape, dims)
        ctx.save_for_backward(a)
        return np.prod(a, axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        if grad.shape != ctx.kd_shape:
            grad = grad.reshape(ctx.kd_shape)
        return grad * _prod_of_others(a, ctx.dims), None, None


def _prod_of_others(a, dims):
    """``out[i] = prod over the reduced dims of a, leaving out element i``: exact with zeros
    (exclusive cumulative products from both ends, no division), in Tensor ops."""
    if not dims:
        return a * 0 + 1
    nd = a.ndim
    keep = [i for i in range(nd) if i not in dims]
    perm = keep + list(dims)
    x = a.permute(perm) if perm != list(range(nd)) else a
    moved = x.shape
    x = x.reshape(tuple(moved[:len(keep)]) + (-1,))
    last = x.ndim - 1
    left = _exclusive_cumprod(x, last)
    right = _exclusive_cumprod(x.flip((last,)), last).flip((last,))
    out = (left * right).reshape(moved)
    inv = [0] * nd
    for i, p in enumerate(perm):
        inv[p] = i
    return out.permute(inv) if perm != list(range(nd)) else out


def prod(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Product of the elements, of all (``dim=None``) or along ``dim`` (``torch.prod``);
    integer and bool inputs give int64 (not differentiable). The gradient is exact when the
    input has zeros: each element gets the product of the others (computed without division),
    as PyTorch's ``prod_backward``.

    Args:
        dim (int, optional): the dimension to reduce (PyTorch takes one int; a tuple is also
            accepted here).

    Raises:
        IndexError: if ``dim`` is out of range.
    """
    if out is not None:
        return _with_out("prod", prod, out, input, dim=dim, keepdim=keepdim, dtype=dtype)
    input = _accumulation_input(input, dtype)
    dims = _dims(dim, input._data.ndim, "prod")
    if dim is None:
        keepdim = False
    return Prod.apply(input, dims, keepdim)


# ---- norms ---------------------------------------------------------------------------------------
class PNorm(Node):
    """``(sum |x|^p)^(1/p)`` over ``dims`` for a finite ``p`` other than 0 and 1."""

    @staticmethod
    def forward(ctx, a, dims, keepdim, p):
        ctx.dims, ctx.p = dims, p
        ctx.kd_shape = _keepdim_shape(a.shape, dims)
        if p == 2:
            out = np.sqrt(np.sum(a * a, axis=dims, keepdims=True))
        else:
            with np.errstate(divide="ignore"):  # p < 0 with zeros: |0|^p = inf, norm 0
                out = np.sum(np.abs(a) ** p, axis=dims, keepdims=True) ** (1.0 / p)
        out = out.astype(a.dtype, copy=False)
        if not keepdim:
            out = out.reshape([n for i, n in enumerate(a.shape) if i not in dims])
        ctx.save_for_backward(a, out)  # the output itself, so double backward sees it
        return out

    @staticmethod
    def backward(ctx, grad):
        # d||x||_p / dx = sign(x) |x|^(p-1) / ||x||^(p-1); 0 where the norm is 0 (PyTorch's
        # norm_backward masks it the same way).
        from .comparison import where
        a, out = ctx.saved_tensors
        p = ctx.p
        if grad.shape != ctx.kd_shape:
            grad = grad.reshape(ctx.kd_shape)
            out = out.reshape(ctx.kd_shape)
        zero = out == 0
        safe = where(zero, 1.0, out)
        if p == 2:
            scale = where(zero, 0.0, grad / safe)
            return a * scale, None, None, None
        scale = where(zero, 0.0, grad / safe ** (p - 1))
        return a.sign() * a.abs() ** (p - 1) * scale, None, None, None


class ZeroNorm(Node):
    """The "0-norm" (number of non-zero elements) over ``dims``: piecewise constant, so a zero
    gradient (as PyTorch)."""

    @staticmethod
    def forward(ctx, a, dims, keepdim):
        ctx.in_shape = a.shape
        ctx.kd_shape = _keepdim_shape(a.shape, dims)
        return np.asarray(np.count_nonzero(a, axis=dims, keepdims=keepdim), dtype=a.dtype)

    @staticmethod
    def backward(ctx, grad):
        return (grad * 0).reshape(ctx.kd_shape).expand(ctx.in_shape), None, None


def _float_input(input, op, dtype=None):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point input, got dtype {input.dtype} "
                           f"(shape {tuple(input.shape)})")
    return input


def _vector_norm(input, ord=2, dim=None, keepdim=False, dtype=None, op="linalg.vector_norm"):
    """The vector norm of ``input`` over ``dim`` (None: all elements); see
    :func:`autograd.linalg.vector_norm`."""
    import numbers
    input = _float_input(input, op, dtype)
    if isinstance(ord, str) or not isinstance(ord, numbers.Real):
        raise TypeError(f"{op}: ord must be a number (2, 1, inf, -inf, 0, ...), got {ord!r}")
    dims = _dims(dim, input._data.ndim, op)
    if dim is None and keepdim:
        dims = tuple(range(input._data.ndim))
    ord = float(ord)
    if ord == np.inf or ord == -np.inf:
        if input._data.size == 0:
            raise RuntimeError(f"{op}: cannot compute the {ord} norm of an empty tensor of "
                               f"shape {tuple(input.shape)}")
        return AMax.apply(input.abs(), dims, keepdim, ord > 0)
    if ord == 0:
        return ZeroNorm.apply(input, dims, keepdim)
    if ord == 1:
        return sum(input.abs(), dims, keepdim)
    return PNorm.apply(input, dims, keepdim, ord)


def _matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, dtype=None,
                 op="linalg.matrix_norm"):
    """The matrix norm of ``A`` over the two dims ``dim``; see
    :func:`autograd.linalg.matrix_norm`."""
    A = _float_input(A, op, dtype)
    if A._data.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions, got "
                           f"shape {tuple(A.shape)}")
    if not isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}: dim must be a 2-tuple of ints, got {dim!r}")
    if len(dim) != 2:
        raise RuntimeError(f"{op}: dim must be a 2-tuple, got {tuple(dim)}")
    d0, d1 = (_wrap_dim(d, A._data.ndim, op) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"{op}: dims must be different, got ({dim[0]}, {dim[1]})")
    if ord == "fro":
        return _vector_norm(A, 2, (d0, d1), keepdim, op=op)
    if ord == "nuc" or ord in (2, -2):
        raise NotImplementedError(f"{op}: ord={ord!r} (singular values) is not implemented; "
                                  "supported: 'fro', 1, -1, inf, -inf")
    if ord in (1, -1, np.inf, -np.inf):
        # 1: max column sum (sum over rows d0, then max over d1); inf: max row sum
        rows, cols = (d0, d1) if ord in (1, -1) else (d1, d0)
        s = sum(A.abs(), rows, keepdim=True)
        out = AMax.apply(s, (cols,), True, ord > 0)
        if not keepdim:
            out = out.reshape([n for i, n in enumerate(out.shape) if i not in (d0, d1)])
        return out
    raise RuntimeError(f"{op}: Order {ord!r} not supported (expected 'fro', 'nuc', 1, -1, 2, "
                       "-2, inf or -inf)")


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """The norm of ``input`` (``torch.norm``): ``p='fro'`` or a number gives the vector
    ``p``-norm over ``dim`` (all elements when ``None``; ``'fro'`` is the 2-norm, also over a
    2-tuple ``dim``); ``p`` may be ``1, 2, inf, -inf, 0`` or any other real.

    Gradients follow PyTorch: 0 where the norm is 0; for ``inf``/``-inf`` the maximal elements
    share the gradient evenly. ``p='nuc'`` is not implemented (``NotImplementedError``).

    Raises:
        RuntimeError: for a non-floating input or a bad ``p``.
        IndexError: if a dim is out of range.
    """
    if isinstance(dim, int) and not isinstance(dim, bool):
        dim = (dim,)
    if p == "fro":
        if dim is not None and len(dim) > 2:
            raise RuntimeError(f"norm: 'fro' norm takes at most 2 dims, got dim={dim}")
        return _vector_norm(input, 2, dim, keepdim, dtype, op="norm")
    if p == "nuc":
        return _matrix_norm(input, "nuc", dim if dim is not None else (-2, -1), keepdim,
                            dtype, op="norm")
    if isinstance(p, str):
        raise RuntimeError(f"norm: p must be 'fro', 'nuc' or a number, got {p!r}")
    return _vector_norm(input, p, dim, keepdim, dtype, op="norm")


def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """:func:`sum` treating NaN as 0 (``torch.nansum``); no gradient flows to the NaNs."""
    if out is not None:
        return _with_out("nansum", nansum, out, input, dim=dim, keepdim=keepdim, dtype=dtype)
    if input._data.dtype.kind != "f":
        return sum(input, dim, keepdim, dtype)
    from .comparison import where
    mask = Tensor._make(np.isnan(input._data), False, None)
    zero = Tensor._make(np.zeros((), input._data.dtype), False, None)
    return sum(where(mask, zero, input), dim, keepdim, dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """:func:`mean` of the non-NaN elements (``torch.nanmean``): NaN where a slice is all NaN.

    Raises:
        RuntimeError: for a non-floating input (as PyTorch).
    """
    if out is not None:
        return _with_out("nanmean", nanmean, out, input, dim=dim, keepdim=keepdim, dtype=dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point dtype but got "
                           f"{_dt.dtype_name(input._data.dtype)}")
    dims = _dims(dim, input._data.ndim, "nanmean")
    count = (~np.isnan(input._data)).sum(axis=dims, keepdims=keepdim).astype(input._data.dtype)
    return nansum(input, dim, keepdim, dtype=dtype) / Tensor._make(count, False, None)


def trace(input):
    """Sum of the main diagonal of a 2-D tensor (``torch.trace``); differentiable.

    Raises:
        RuntimeError: for an input that is not 2-D (as PyTorch).
    """
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim "
                           f"{input._data.ndim} (shape {tuple(input.shape)})")
    from .shape import diagonal
    return sum(diagonal(input))
