"""Sparse COO tensors (``torch.sparse``, ``torch.sparse_coo_tensor``), **dense-backed**.

A sparse tensor here is a :class:`SparseCOOTensor`: a :class:`autograd.Tensor` subclass whose
array holds every element (zeros included). It answers PyTorch's sparse API — ``is_sparse``,
``layout`` (``autograd.sparse_coo``), ``indices()``, ``values()``, ``_nnz()``,
``coalesce()``, ``to_dense()``, ``sparse_dim()``, ``dense_dim()`` — and every op accepts it,
so programs written for sparse adjacency matrices (graph convolutions) run and give the same
numbers. Memory and time are those of the dense tensor.

Differences from PyTorch:

- ops other than :func:`mm`/:func:`spmm`/:func:`sum`/:func:`addmm` of this module return
  dense tensors (PyTorch keeps some results sparse, e.g. ``sparse + sparse``); ``sparse @
  dense`` and ``dense + sparse`` are dense in both;
- the indices and values are derived from the dense array (its nonzeros, row-major), so
  explicitly stored zeros are not kept, duplicates are summed at construction and every
  tensor is coalesced;
- gradients with respect to a sparse tensor are dense.
"""

import weakref

import numpy as np

from . import dtypes
from .tensor import Tensor, _constant_property

__all__ = ["SparseCOOTensor", "layout", "strided", "sparse_coo", "sparse_coo_tensor", "mm",
           "spmm", "sum", "addmm", "to_sparse"]

_builtin_sum = sum


class layout:
    """A memory layout (``torch.layout``): ``autograd.strided`` or ``autograd.sparse_coo``."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"autograd.{self.name}"

    def __reduce__(self):
        return _layout_by_name, (self.name,)


strided = layout("strided")
sparse_coo = layout("sparse_coo")


def _layout_by_name(name):
    return {"strided": strided, "sparse_coo": sparse_coo}[name]


_SPARSE_DIM = {}      # id(tensor) -> sparse_dim, for tensors with dense dims


def _set_sparse_dim(t, k):
    if k != t.ndim:
        _SPARSE_DIM[id(t)] = k
        weakref.finalize(t, _SPARSE_DIM.pop, id(t), None)


def _as_sparse(t, sparse_dim=None):
    """Re-class the (fresh) dense Tensor ``t`` as a SparseCOOTensor (same object, so its
    graph history is kept)."""
    if type(t) is not Tensor:
        t = t.view_as(t)
    t.__class__ = SparseCOOTensor
    if sparse_dim is not None:
        _set_sparse_dim(t, sparse_dim)
    return t


class SparseCOOTensor(Tensor):
    """A dense-backed sparse COO tensor (see the module docstring). Build one with
    :func:`sparse_coo_tensor` or ``Tensor.to_sparse()``."""

    __slots__ = ()

    is_sparse = _constant_property(True, "Always ``True``.")
    layout = _constant_property(sparse_coo, "Always ``autograd.sparse_coo``.")

    def sparse_dim(self):
        """Number of sparse (indexed) dims (the leading ones)."""
        return _SPARSE_DIM.get(id(self), self.ndim)

    def dense_dim(self):
        """Number of dense dims (trailing dims of ``values()``)."""
        return self.ndim - self.sparse_dim()

    def _nz(self):
        k = self.sparse_dim()
        a = self._data
        mask = a != 0 if k == a.ndim else np.any(a != 0, axis=tuple(range(k, a.ndim)))
        return np.nonzero(mask)

    def _nnz(self):
        """Number of specified elements (nonzeros of the sparse dims)."""
        return int(self._nz()[0].size) if self.ndim else int(self._data != 0)

    def indices(self):
        """int64 ``(sparse_dim, nnz)`` coordinates of the nonzeros, row-major order."""
        return Tensor._make(np.stack(self._nz()).astype(np.int64).reshape(
            self.sparse_dim(), -1), False, None)

    _indices = indices

    def values(self):
        """``(nnz, *dense_dims)`` values at :meth:`indices` (differentiable)."""
        idx = self._nz()
        return self.to_dense()[tuple(Tensor._make(i.astype(np.int64), False, None)
                                     for i in idx)]

    _values = values

    def coalesce(self):
        """``self`` (a dense-backed tensor is always coalesced)."""
        return self

    def is_coalesced(self):
        """Always ``True``: the nonzeros are stored once each, in row-major order."""
        return True

    def to_dense(self, dtype=None, *, masked_grad=True):
        """The dense Tensor (a differentiable copy; ``dtype`` converts)."""
        out = self.clone()
        if type(out) is not Tensor:
            out = out.view_as(out)
            out.__class__ = Tensor
        return out if dtype is None else out.to(dtype)

    def to_sparse(self, sparse_dim=None):
        """This tensor itself (already sparse COO), as PyTorch."""
        return self

    def __repr__(self):
        ind, vals = self.indices(), self.values().detach()
        pad = " " * len("tensor(indices=")
        ind_r = Tensor.__repr__(ind).replace("\n", "\n" + pad)
        val_r = Tensor.__repr__(vals).replace("\n", "\n" + " " * len("       values="))
        grad = ", requires_grad=True" if self.requires_grad else ""
        return (f"tensor(indices={ind_r},\n       values={val_r},\n       "
                f"size={tuple(self.shape)}, nnz={ind.shape[1]}, "
                f"layout=autograd.sparse_coo{grad})")


def to_sparse(input, sparse_dim=None):
    """``Tensor.to_sparse(sparse_dim=None)``: a sparse COO copy of ``input`` (differentiable).

    Raises:
        RuntimeError: ``sparse_dim`` outside ``[0, input.ndim]``."""
    if sparse_dim is not None and not 0 <= sparse_dim <= input.ndim:
        raise RuntimeError(f"to_sparse: sparse_dim argument must be in [0, {input.ndim}] "
                           f"range, but got {sparse_dim}")
    return _as_sparse(input.clone(), sparse_dim)


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None,
                      pin_memory=False, requires_grad=False, check_invariants=None,
                      is_coalesced=None):
    """A sparse COO tensor from coordinates and values (``torch.sparse_coo_tensor``).

    Args:
        indices (array-like or Tensor): integer ``(sparse_dim, nnz)`` coordinates.
        values (array-like or Tensor): ``(nnz, *dense_dims)``; duplicates are summed.
        size (tuple, optional): the full shape ``(*sparse_sizes, *dense_dims)``; default the
            smallest that holds every index.
        dtype: the result's dtype (default: that of ``values``).
        requires_grad (bool): make the result a leaf that requires grad.

    Differentiable with respect to ``values`` (an ``index_add`` into zeros).

    Raises:
        ValueError: indices not 2-D integers; counts of indices and values that differ; an
            index out of range for ``size`` or negative (PyTorch's wording); a ``size`` whose
            dense part does not match ``values``.
    """
    if device is not None:
        from .tensor import _require_cpu
        _require_cpu(device, "sparse_coo_tensor")
    idx = np.asarray(indices._data if isinstance(indices, Tensor) else indices)
    if idx.ndim != 2 or (idx.size and idx.dtype.kind not in "iu"):
        raise ValueError(f"sparse_coo_tensor: indices must be an int64 tensor of shape "
                         f"(sparse_dim, nnz), got shape {idx.shape} and dtype {idx.dtype}")
    idx = idx.astype(np.int64)
    if not isinstance(values, Tensor):
        values = Tensor._make(np.asarray(values), False, None)
        if values.dtype == np.float64 and dtype is None:
            values = values.to(dtypes.get_default_dtype())
    k, nnz = idx.shape
    if values.ndim == 0 or values.shape[0] != nnz:
        raise ValueError(f"sparse_coo_tensor: number of dimensions of indices ({nnz} "
                         f"elements) must match the first dim of values "
                         f"{tuple(values.shape)}")
    if nnz and idx.min() < 0:
        raise ValueError("sparse_coo_tensor: found negative index in indices")
    dense_dims = tuple(values.shape[1:])
    if size is None:
        sparse_sizes = tuple(int(m) + 1 for m in idx.max(1)) if nnz else (0,) * k
        size = sparse_sizes + dense_dims
    size = tuple(int(s) for s in size)
    if len(size) != k + len(dense_dims) or size[k:] != dense_dims:
        raise ValueError(f"sparse_coo_tensor: number of dimensions must be sparse_dim ({k}) + "
                         f"dense_dim ({len(dense_dims)}), and the dense sizes must match "
                         f"values, but got size {size} and values {tuple(values.shape)}")
    for d in range(k):
        if nnz and idx[d].max() >= size[d]:
            raise ValueError(f"sparse_coo_tensor: size is inconsistent with indices: for dim "
                             f"{d}, size is {size[d]} but found index {int(idx[d].max())}")
    if dtype is not None:
        values = values.to(dtype)
    lin = np.ravel_multi_index(tuple(idx), size[:k]) if nnz else np.zeros(0, np.int64)
    flat_rows = int(np.prod(size[:k]))
    zeros = Tensor._make(np.zeros((flat_rows,) + dense_dims, dtype=values.dtype), False, None)
    if values.requires_grad:
        dense = zeros.index_add(0, Tensor._make(lin.astype(np.int64), False, None), values)
    else:
        arr = zeros._data
        np.add.at(arr, lin, values._data)
        dense = zeros
    out = _as_sparse(dense.reshape(size), k)
    if requires_grad:
        out = out.detach()
        out.__class__ = SparseCOOTensor
        _set_sparse_dim(out, k)
        out.requires_grad_(True)
    return out


def _dense(t):
    return t.to_dense() if isinstance(t, SparseCOOTensor) else t


def mm(mat1, mat2, reduce="sum"):
    """``torch.sparse.mm``: ``mat1 @ mat2`` for a sparse ``mat1`` ``(n, m)`` and a dense or
    sparse ``mat2`` ``(m, p)``; dense ``(n, p)`` result for a dense ``mat2``, sparse for a
    sparse one (differentiable in both).

    Raises:
        RuntimeError: operands that are not 2-D or whose inner sizes differ."""
    if reduce != "sum":
        raise NotImplementedError(f"sparse.mm: reduce={reduce!r} is not implemented (only "
                                  "'sum')")
    for name, m in (("mat1", mat1), ("mat2", mat2)):
        if not isinstance(m, Tensor) or m.ndim != 2:
            raise RuntimeError(f"sparse.mm: {name} must be a 2-D Tensor, got "
                               f"{getattr(m, 'shape', type(m).__name__)}")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x"
                           f"{mat1.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]})")
    out = _dense(mat1) @ _dense(mat2)
    both = isinstance(mat1, SparseCOOTensor) and isinstance(mat2, SparseCOOTensor)
    return _as_sparse(out) if both else out


spmm = mm


def addmm(mat, mat1, mat2, *, beta=1.0, alpha=1.0):
    """``torch.sparse.addmm``: ``beta * mat + alpha * (mat1 @ mat2)`` (dense result)."""
    return _dense(mat) * beta + mm(mat1, _dense(mat2)) * alpha


def sum(input, dim=None, dtype=None):
    """``torch.sparse.sum``: the sum of all elements (0-d dense) or over ``dim`` (sparse, as in
    PyTorch, unless every dim is summed)."""
    x = _dense(input)
    if dtype is not None:
        x = x.to(dtype)
    if dim is None:
        return x.sum()
    out = x.sum(dim)
    return _as_sparse(out) if out.ndim else out
