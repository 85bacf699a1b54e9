"""Sorting and selection: ``sort``, ``argsort``, ``msort``, ``topk``, ``kthvalue``, ``median``,
``nanmedian``, ``unique``, ``unique_consecutive``.

The orders are computed on the array (NumPy's stable sort); the values are then picked from the
input with :func:`gather` along the dimension, so they are differentiable: the gradient goes to
the chosen elements (scattered back, as PyTorch's ``sort``/``topk``/``kthvalue`` backward).
Results with indices are named pairs ``(values, indices)`` like ``torch.return_types.sort``;
indices are int64. NaN sorts as the largest value, as in PyTorch.
"""

import collections

import numpy as np

from ._out import with_out as _with_out
from ..tensor import Tensor, _wrap_dim
from .shape import gather

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "unique",
           "unique_consecutive"]

# PyTorch's torch.return_types.sort / topk / kthvalue / median / nanmedian
sort_result = collections.namedtuple("sort", ["values", "indices"])
topk_result = collections.namedtuple("topk", ["values", "indices"])
kthvalue_result = collections.namedtuple("kthvalue", ["values", "indices"])
median_result = collections.namedtuple("median", ["values", "indices"])
nanmedian_result = collections.namedtuple("nanmedian", ["values", "indices"])


def _check(input, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")


def _order(a, d, descending):
    """Stable argsort of array ``a`` along axis ``d``; descending keeps equal elements in their
    original order (as PyTorch's ``stable=True``) and puts NaN first."""
    if not descending:
        return np.argsort(a, axis=d, kind="stable")
    n = a.shape[d]
    rev = np.flip(np.argsort(np.flip(a, d), axis=d, kind="stable"), d)
    return (n - 1) - rev


def _long(arr):
    return Tensor._make(np.array(arr, dtype=np.int64), False, None)


def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    """Sort along ``dim`` (``torch.sort``): a named pair ``(values, indices)`` with
    ``values == input.gather(dim, indices)``.

    The sort is always stable (``stable`` is accepted; PyTorch's unstable sort may order equal
    elements differently). ``descending=True`` sorts largest first. The gradient of ``values``
    goes back to the positions in ``indices``.

    Args:
        input (Tensor): any shape (a 0-d tensor sorts to itself).
        dim (int): the dimension to sort (default the last).
        descending (bool): largest first.
        out (tuple, optional): ``(values, indices)`` tensors to write into.

    Raises:
        IndexError: if ``dim`` is out of range.
    """
    _check(input, "sort")
    if out is not None:
        return _out_pair("sort", sort, out, input, dim=dim, descending=descending)
    a = input._data
    d = _wrap_dim(dim, a.ndim, "sort")
    if a.ndim == 0:
        return sort_result(input.clone(), _long(np.zeros((), np.int64)))
    idx = _order(a, d, descending)
    return sort_result(gather(input, d, idx), _long(idx))


def argsort(input, dim=-1, descending=False, stable=False):
    """The indices that sort ``input`` along ``dim`` (``torch.argsort``; int64, not
    differentiable): ``sort(input, dim, descending).indices``."""
    _check(input, "argsort")
    a = input._data
    d = _wrap_dim(dim, a.ndim, "argsort")
    if a.ndim == 0:
        return _long(np.zeros((), np.int64))
    return _long(_order(a, d, descending))


def msort(input):
    """Sort along the first dimension (``torch.msort``): ``sort(input, dim=0).values``."""
    return sort(input, dim=0).values


def _out_pair(op, fn, out, *args, **kwargs):
    """``out=(values, indices)`` for the ops that return a pair."""
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise TypeError(f"{op}(): argument 'out' must be a tuple of 2 Tensors (values, indices)")
    res = fn(*args, **kwargs)
    from .unary import clone
    _with_out(op, lambda: res.values.detach(), out[0])
    _with_out(op, lambda: clone(res.indices), out[1])
    return type(res)(out[0], out[1])


def _along(input, dim, op):
    """``(array, wrapped dim, size along it)`` of ``input`` for the k-th-element ops (a 0-d
    input counts as size 1)."""
    a = input._data
    d = _wrap_dim(dim, a.ndim, op)
    return a, d, (a.shape[d] if a.ndim else 1)


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """The ``k`` largest (or smallest, ``largest=False``) elements along ``dim``
    (``torch.topk``): a named pair ``(values, indices)``, in sorted order (``sorted`` is
    accepted; the result is always sorted). Equal elements are taken in index order.
    Differentiable: the gradient goes to the selected positions.

    Raises:
        RuntimeError: ``selected index k out of range`` if ``k`` exceeds the size of ``dim``
            (or is negative).
        IndexError: if ``dim`` is out of range.
    """
    _check(input, "topk")
    if out is not None:
        return _out_pair("topk", topk, out, input, k, dim=dim, largest=largest)
    a, d, n = _along(input, dim, "topk")
    k = int(k)
    if k < 0 or k > n:
        raise RuntimeError(f"selected index k out of range (topk: k={k}, size of dim {d} is "
                           f"{n}, input shape {tuple(a.shape)})")
    if a.ndim == 0:
        if k == 0:
            return topk_result(input.reshape(1)[:0], _long(np.zeros((0,), np.int64)))
        return topk_result(input.clone(), _long(np.zeros((), np.int64)))
    idx = np.take(_order(a, d, largest), np.arange(k), axis=d)
    return topk_result(gather(input, d, idx), _long(idx))


def _select(input, k, d, keepdim, result, op, nan_first):
    """The ``k``-th smallest (0-based) along ``d``; with ``nan_first``, a slice holding NaN
    gives its first NaN (``median``'s propagation)."""
    a = input._data
    idx = np.take(_order(a, d, False), [k], axis=d)
    if nan_first and a.dtype.kind == "f":
        nans = np.isnan(a)
        has = nans.any(axis=d, keepdims=True)
        if has.any():
            idx = np.where(has, np.argmax(nans, axis=d, keepdims=True), idx)
    values = gather(input, d, idx)
    if not keepdim:
        values = values.squeeze(d)
        idx = np.squeeze(idx, d)
    return result(values, _long(idx))


def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """The ``k``-th smallest element (``k`` from 1) along ``dim`` (``torch.kthvalue``): a named
    pair ``(values, indices)``; differentiable (the gradient goes to that element).

    Raises:
        RuntimeError: if ``k`` is not in ``[1, size of dim]``.
        IndexError: if ``dim`` is out of range.
    """
    _check(input, "kthvalue")
    if out is not None:
        return _out_pair("kthvalue", kthvalue, out, input, k, dim=dim, keepdim=keepdim)
    a, d, n = _along(input, dim, "kthvalue")
    if not 1 <= int(k) <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d} "
                           f"(k={k}, size {n})")
    if a.ndim == 0:
        return kthvalue_result(input.clone(), _long(np.zeros((), np.int64)))
    return _select(input, int(k) - 1, d, keepdim, kthvalue_result, "kthvalue", False)


def _median(input, dim, keepdim, op, ignore_nan):
    _check(input, op)
    a = input._data
    result = median_result if op == "median" else nanmedian_result
    if dim is None:
        if a.size == 0:
            return input.new_full((), float("nan")) if a.dtype.kind == "f" else input.sum()
        flat = input.reshape(-1)
        if ignore_nan and a.dtype.kind == "f":
            n = int((~np.isnan(a)).sum())
            if n == 0:
                return flat[0]
            return _select(flat, (n - 1) // 2, 0, False, result, op, False).values
        return _select(flat, (a.size - 1) // 2, 0, False, result, op, True).values
    d = _wrap_dim(dim, a.ndim, op)
    if a.ndim == 0:
        return result(input.clone(), _long(np.zeros((), np.int64)))
    n = a.shape[d]
    if n == 0:
        raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size (input "
                         f"shape {tuple(a.shape)})")
    if not (ignore_nan and a.dtype.kind == "f"):
        return _select(input, (n - 1) // 2, d, keepdim, result, op, True)
    # nanmedian: the lower median of the non-NaN values of each slice (NaN sorts last)
    counts = (~np.isnan(a)).sum(axis=d, keepdims=True)
    pos = np.maximum((counts - 1) // 2, 0)
    idx = np.take_along_axis(_order(a, d, False), pos, axis=d)
    values = gather(input, d, idx)
    if not keepdim:
        values = values.squeeze(d)
        idx = np.squeeze(idx, d)
    return result(values, _long(idx))


def median(input, dim=None, keepdim=False, *, out=None):
    """The median (``torch.median``): the *lower* of the two middle values for an even count
    (not their mean), as PyTorch.

    - ``median(input)``: of all elements, a 0-d tensor;
    - ``median(input, dim, keepdim=False)``: a named pair ``(values, indices)`` along ``dim``.

    A slice holding NaN has median NaN (its index is that of its first NaN), as PyTorch.
    Differentiable: the gradient goes to the median element.

    Raises:
        IndexError: if ``dim`` is out of range or has size 0.
    """
    if out is not None:
        if dim is None:
            return _with_out("median", median, out, input)
        return _out_pair("median", median, out, input, dim=dim, keepdim=keepdim)
    return _median(input, dim, keepdim, "median", False)


def nanmedian(input, dim=None, keepdim=False, *, out=None):
    """The median ignoring NaN (``torch.nanmedian``): like :func:`median` over the non-NaN
    values (NaN only where a slice is all NaN)."""
    if out is not None:
        if dim is None:
            return _with_out("nanmedian", nanmedian, out, input)
        return _out_pair("nanmedian", nanmedian, out, input, dim=dim, keepdim=keepdim)
    return _median(input, dim, keepdim, "nanmedian", True)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct elements of ``input`` (``torch.unique``), sorted ascending; with ``dim``,
    the distinct slices along ``dim``.

    Returns the unique tensor, or a tuple ``(output, inverse_indices, counts)`` with the ones
    asked for: ``inverse_indices`` (int64) has ``input``'s shape (``dim=None``) or length
    ``input.size(dim)``, with ``output[inverse] == input``; ``counts`` (int64) how often each
    appears. Not differentiable. ``sorted=False`` also gives sorted output (allowed by PyTorch's
    documentation, which leaves the order unspecified).

    Raises:
        IndexError: if ``dim`` is out of range.
    """
    _check(input, "unique")
    a = input._data
    if dim is not None:
        d = _wrap_dim(dim, a.ndim, "unique")
        vals, inv, cnt = np.unique(a, return_inverse=True, return_counts=True, axis=d)
        inv = inv.reshape(-1)
    else:
        vals, inv, cnt = np.unique(a.reshape(-1), return_inverse=True, return_counts=True)
        inv = inv.reshape(a.shape)
    out = Tensor._make(np.ascontiguousarray(vals), False, None)
    extra = []
    if return_inverse:
        extra.append(_long(inv))
    if return_counts:
        extra.append(_long(cnt))
    return (out, *extra) if extra else out


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive elements (``torch.unique_consecutive``); with
    ``dim``, runs of equal slices along ``dim``. Returns like :func:`unique` (the output keeps
    the input's order). Not differentiable.

    Raises:
        IndexError: if ``dim`` is out of range.
    """
    _check(input, "unique_consecutive")
    a = input._data
    if dim is None:
        a = a.reshape(-1)
        d = 0
    else:
        d = _wrap_dim(dim, a.ndim, "unique_consecutive")
    n = a.shape[d] if a.ndim else 1
    if a.ndim == 0 or n == 0:
        starts = np.zeros(min(n, 1), dtype=np.int64)
    else:
        moved = np.moveaxis(a, d, 0).reshape(n, -1)
        change = np.any(moved[1:] != moved[:-1], axis=1)
        starts = np.concatenate([[0], np.nonzero(change)[0] + 1]).astype(np.int64)
    vals = np.take(a, starts, axis=d) if a.ndim else a
    out = Tensor._make(np.ascontiguousarray(vals), False, None)
    extra = []
    if return_inverse:
        inv = np.cumsum(np.isin(np.arange(n), starts)) - 1
        extra.append(_long(inv.reshape(input._data.shape) if dim is None else inv))
    if return_counts:
        extra.append(_long(np.diff(np.append(starts, n))))
    return (out, *extra) if extra else out
