"""Shape and indexing ops: reshape/view, permute/transpose, expand, repeat, indexing
(``__getitem__``/``__setitem__``), cat/stack/split and friends.

Gradients of shape ops are shape ops themselves (reshape back, inverse permutation, ``sum_to``
for expand), so they support double backward. Indexing scatters the gradient back with
``np.add.at`` when the index has integer arrays (so repeated indices accumulate) and with a plain
slice assignment otherwise.
"""

import numbers
import operator
import os
import sys
import warnings

import numpy as np

from .. import grad_mode
from ..graph import Node, sum_to
from ._out import with_out as _with_out
from ..tensor import Tensor, _register_methods, _wrap_dim
from ._pointwise import promote_dtypes

__all__ = ["diff", "fliplr", "flipud", "select", "ravel", "moveaxis", "swapdims", "reshape", "view", "view_as", "flatten", "unflatten", "squeeze", "unsqueeze",
           "transpose", "swapaxes", "permute", "t", "expand", "expand_as", "broadcast_to",
           "repeat", "tile", "getitem", "setitem", "cat", "concat", "concatenate", "stack",
           "split", "chunk", "unbind", "narrow", "flip", "movedim", "roll", "gather",
           "scatter", "scatter_add", "index_select", "masked_select", "take_along_dim", "tril",
           "triu", "diag", "diagonal", "pad", "index_add", "index_copy", "index_fill",
           "index_put", "take", "put", "nonzero", "argwhere", "masked_scatter",
           "repeat_interleave"]


class Reshape(Node):
    """Keeps the input's shape (saves no array) for backward."""

    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape)


def _infer_shape(shape, numel, op, in_shape):
    shape = tuple(int(s) for s in shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred, got shape {shape}")
    if any(s < -1 for s in shape):
        raise RuntimeError(f"{op}: invalid shape dimension in {shape}")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"{op}: shape {list(shape)} is invalid for input of size {numel} "
                               f"(input shape {tuple(in_shape)})")
        shape = shape[:neg[0]] + (numel // known,) + shape[neg[0] + 1:]
    elif known != numel:
        raise RuntimeError(f"{op}: shape {list(shape)} is invalid for input of size {numel} "
                           f"(input shape {tuple(in_shape)})")
    return shape


def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return shape


def reshape(input, *shape):
    """The same elements in a new shape; one dimension may be -1 (``torch.reshape``).

    Like PyTorch, the result shares memory with the input when NumPy can make a view.

    Raises:
        RuntimeError: if the number of elements does not match, naming both shapes.
    """
    shape = _infer_shape(_shape_args(shape), input._data.size, "reshape", input.shape)
    if shape == input._data.shape:
        return input
    return Reshape.apply(input, shape)


def view(input, *shape):
    """Same as :func:`reshape` (``torch.Tensor.view``). Differs from PyTorch: a
    non-contiguous input is copied instead of raising. ``view(dtype)`` is not supported."""
    return reshape(input, *shape)


def view_as(input, other):
    """``input.view(other.shape)``."""
    return reshape(input, other.shape)


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dimensions ``start_dim..end_dim`` into one (``torch.flatten``)."""
    nd = input._data.ndim
    if nd == 0:
        return reshape(input, 1)
    s = _wrap_dim(start_dim, nd, "flatten")
    e = _wrap_dim(end_dim, nd, "flatten")
    if s > e:
        raise RuntimeError(f"flatten: start_dim ({start_dim}) cannot come after end_dim "
                           f"({end_dim})")
    shape = input.shape
    return reshape(input, shape[:s] + (-1,) + shape[e + 1:]) if input._data.size else \
        reshape(input, shape[:s] + (int(np.prod(shape[s:e + 1])),) + shape[e + 1:])


def unflatten(input, dim, sizes):
    """Split dimension ``dim`` into ``sizes`` (``torch.unflatten``)."""
    d = _wrap_dim(dim, input._data.ndim, "unflatten")
    shape = input.shape
    return reshape(input, shape[:d] + tuple(sizes) + shape[d + 1:])


def squeeze(input, dim=None):
    """Remove dimensions of size 1 (all, or those in ``dim``; others are left alone, as in
    PyTorch)."""
    shape = input.shape
    if dim is None:
        new = tuple(n for n in shape if n != 1)
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        dims = {_wrap_dim(d, input._data.ndim, "squeeze") for d in dims}
        new = tuple(n for i, n in enumerate(shape) if not (i in dims and n == 1))
    return reshape(input, new)


def unsqueeze(input, dim):
    """Insert a dimension of size 1 at ``dim`` (``torch.unsqueeze``; ``dim`` in
    ``[-ndim-1, ndim]``)."""
    nd = input._data.ndim + 1
    d = _wrap_dim(dim, nd, "unsqueeze")
    shape = input.shape
    return Reshape.apply(input, shape[:d] + (1,) + shape[d:])


class Permute(Node):
    """Keeps the permutation (saves no array) for backward."""

    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return Permute.apply(grad, tuple(inverse))


def permute(input, *dims):
    """Reorder dimensions (``torch.permute``); a view.

    Raises:
        RuntimeError: if ``dims`` is not a permutation of the input's dimensions.
    """
    dims = _shape_args(dims)
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute: number of dims don't match: input has {nd} dims "
                           f"(shape {tuple(input.shape)}), got dims {tuple(dims)}")
    dims = tuple(_wrap_dim(d, nd, "permute") for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError(f"permute: repeated dim in {dims}")
    if dims == tuple(range(nd)):
        return input
    return Permute.apply(input, dims)


def transpose(input, dim0, dim1):
    """Swap two dimensions (``torch.transpose``); a view."""
    nd = input._data.ndim
    if nd == 0:
        return input
    d0, d1 = _wrap_dim(dim0, nd, "transpose"), _wrap_dim(dim1, nd, "transpose")
    if d0 == d1:
        return input
    dims = list(range(nd))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(input, tuple(dims))  # a valid permutation: permute's checks not needed


swapaxes = transpose


def movedim(input, source, destination):
    """Move dimension ``source`` to position ``destination`` (``torch.movedim``, ints only)."""
    nd = input._data.ndim
    s, d = _wrap_dim(source, nd, "movedim"), _wrap_dim(destination, nd, "movedim")
    if nd == 0:
        return input
    order = [i for i in range(nd) if i != s]
    order.insert(d, s)
    return permute(input, tuple(order))


def t(input):
    """Transpose a tensor of at most 2 dimensions (``torch.t``).

    Raises:
        RuntimeError: for more than 2 dimensions.
    """
    if input._data.ndim > 2:
        raise RuntimeError(f"t: expects a tensor with <= 2 dimensions, but self is "
                           f"{input._data.ndim}D (shape {tuple(input.shape)})")
    return transpose(input, 0, 1) if input._data.ndim == 2 else input


class Expand(Node):
    """Keeps the input's shape (saves no array) for backward."""

    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        if a.shape == shape:
            return a.view()  # a same-shape expand is a plain (writable) view, as in PyTorch
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return sum_to(grad, ctx.in_shape)


def expand(input, *sizes):
    """Broadcast to ``sizes`` without copying (``torch.Tensor.expand``); ``-1`` keeps a
    dimension. The result is read-only (PyTorch's expanded tensors share elements too).

    Raises:
        RuntimeError: if a non-singleton dimension would change, naming both shapes.
    """
    sizes = tuple(int(s) for s in _shape_args(sizes))
    shape = input.shape
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater "
                           f"or equal to the number of dimensions in the tensor ({len(shape)})")
    out = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"expand: -1 is not allowed in a leading, non-existing "
                                   f"dimension (sizes {sizes})")
            out.append(s)
            continue
        n = shape[i - lead]
        if s == -1:
            out.append(n)
        elif n == 1 or n == s:
            out.append(s)
        else:
            raise RuntimeError(
                f"expand: the expanded size of the tensor ({s}) must match the existing size "
                f"({n}) at non-singleton dimension {i}. Target sizes: {list(sizes)}. Tensor "
                f"sizes: {list(shape)}")
    out = tuple(out)
    if out == shape and not input.requires_grad:
        return input
    # A tensor that requires grad always gets an ExpandBackward0 node, as in PyTorch: Horovod-style
    # code reaches a parameter's AccumulateGrad as p.expand_as(p).grad_fn.next_functions[0][0].
    return Expand.apply(input, out)


def expand_as(input, other):
    """``input.expand(other.shape)``."""
    return expand(input, other.shape)


def broadcast_to(input, shape):
    """``input.expand(shape)`` (``torch.broadcast_to``)."""
    return expand(input, tuple(shape))


class Repeat(Node):
    """Keeps the input's shape and the repeats (saves no array) for backward."""

    @staticmethod
    def forward(ctx, a, reps):
        ctx.in_shape = a.shape
        ctx.reps = reps
        return np.tile(a, reps)

    @staticmethod
    def backward(ctx, grad):
        # Output dim i is reps[i] blocks of the input dim: view as (reps[i], n_i) and sum reps.
        reps = ctx.reps
        shape = (1,) * (len(reps) - len(ctx.in_shape)) + tuple(ctx.in_shape)
        split = []
        for r, n in zip(reps, shape):
            split += [r, n]
        g = grad.reshape(split)
        g = g.sum(tuple(range(0, 2 * len(reps), 2)))
        return g.reshape(ctx.in_shape)


def repeat(input, *repeats):
    """Tile the tensor ``repeats[i]`` times along each dimension (``torch.Tensor.repeat``).

    Raises:
        RuntimeError: if fewer repeats than dimensions are given.
    """
    reps = tuple(int(r) for r in _shape_args(repeats))
    if len(reps) < input._data.ndim:
        raise RuntimeError(f"repeat: number of repeat dims ({len(reps)}) can not be smaller "
                           f"than number of tensor dims ({input._data.ndim})")
    return Repeat.apply(input, reps)


def tile(input, dims):
    """``torch.tile``: like ``repeat``, with missing leading repeats taken as 1."""
    dims = tuple(dims)
    if len(dims) < input._data.ndim:
        dims = (1,) * (input._data.ndim - len(dims)) + dims
    return repeat(input, dims)


# ---- indexing ------------------------------------------------------------------------------------
# PyTorch's indexing, step by step (torch/csrc/autograd/python_variable_indexing.cpp and
# ATen's TensorIndexing, as documented in "Tensor Indexing API" and observed on torch 2.x):
#
# 1. A non-tuple index is one item, except a list of fewer than 32 entries holding a sequence, a
#    Tensor, a slice, None or Ellipsis, which is read as a tuple (NumPy's old heuristic, which
#    PyTorch still applies and warns about).
# 2. Items are applied left to right. Python ints and 0-d integer tensors *select* (the dimension
#    disappears) at once; slices and None are basic indexing; True/False add a dimension of
#    size 1 that is indexed by ``[0]`` / ``[]``; Ellipsis stands for the dims no item names.
# 3. The remaining items (integer sequences and tensors, bool masks) index the result of step 2
#    together, as NumPy's advanced indexing does: their broadcast shape replaces the indexed
#    dimensions in place when they are adjacent, and goes first when they are separated.
#
# Step 2 differs from NumPy, which treats an int next to an array as one more advanced index
# (``x[1, :, [0, 1]]`` is ``(4, 2)`` in PyTorch, ``(2, 4)`` in NumPy for a (3, 4, 5) input), so
# the op keeps the two steps apart: an index here is a pair ``(basic, adv)``: ``basic`` a NumPy
# basic index (ints, slices, None) or ``None``, ``adv`` a NumPy advanced index of the basic
# result (int64 arrays and bool masks at their dims, ``slice(None)`` between) or ``None``.

_SEQ_AS_TUPLE_WARNING = (
    "Using a non-tuple sequence for multidimensional indexing is deprecated (PyTorch warns "
    "the same and will read it as one tensor index); use x[tuple(seq)] instead of x[seq]")

_INT, _SLICE, _NONE, _ELLIPSIS, _BOOL, _ARR, _MASK = range(7)


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _warn_user(message):
    """A UserWarning attributed to the first caller outside the ``autograd`` package."""
    frame, level = sys._getframe(0), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, UserWarning, stacklevel=level)


def _is_plain_basic(index):
    """True for the common, cheap case: an int, a slice with a positive (or no) step, None, or
    a tuple of those (no Ellipsis, no bool), whose PyTorch meaning is NumPy's."""
    items = index if index.__class__ is tuple else (index,)
    for ix in items:
        c = ix.__class__
        if c is int or ix is None:
            continue
        if c is slice:
            step = ix.step
            if step is None or (step.__class__ is int and step > 0):
                continue
        return False
    return True


def _index_items(index):
    """Step 1: the index as a tuple of items."""
    if index.__class__ is tuple:
        return index
    if index.__class__ is list and len(index) < 32:
        for e in index:
            if e is None or e is Ellipsis or isinstance(
                    e, (Tensor, np.ndarray, list, tuple, range, slice)):
                _warn_user(_SEQ_AS_TUPLE_WARNING)
                return tuple(index)
    return (index,)


def _sequence_array(seq):
    """A Python sequence used as an index, as PyTorch converts it: bools stay a mask, anything
    else becomes int64 (floats are truncated, as ``torch.tensor(seq).long()``)."""
    def conv(e):
        if isinstance(e, Tensor):
            return e._data
        if isinstance(e, (list, tuple, range)):
            return [conv(x) for x in e]
        return e
    try:
        arr = np.asarray(conv(seq) if not isinstance(seq, range) else seq)
    except (ValueError, TypeError):
        raise IndexError(f"index: could not convert the sequence {seq!r} to an index tensor "
                         "(ragged or non-numeric)") from None
    if arr.dtype.kind not in "biuf":
        raise IndexError(f"index: could not convert the sequence {seq!r} to an index tensor "
                         f"(got elements of {arr.dtype})")
    return arr


def _classify(ix):
    """One item as ``(kind, value)``.

    Raises:
        IndexError: for a float or complex tensor, or an object that is no index.
        ValueError: for a slice with a step that is not positive (PyTorch's message).
    """
    c = ix.__class__
    if c is int:
        return _INT, ix
    if c is slice:
        if ix.step is not None and operator.index(ix.step) <= 0:
            raise ValueError("step must be greater than zero")
        return _SLICE, ix
    if ix is None:
        return _NONE, None
    if ix is Ellipsis:
        return _ELLIPSIS, None
    if c is bool or c is np.bool_:
        return _BOOL, bool(ix)
    from_tensor = isinstance(ix, Tensor)
    if from_tensor:
        arr = ix._data
    elif isinstance(ix, np.ndarray):
        arr = ix
    elif isinstance(ix, numbers.Integral):
        return _INT, int(ix)
    elif isinstance(ix, (list, tuple, range)):
        arr = _sequence_array(ix)
    else:
        raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                         f"Variables are valid indices (got {type(ix).__name__})")
    kind = arr.dtype.kind
    if arr.dtype == np.uint8:
        _warn_user("indexing with dtype uint8 is deprecated, please use a dtype bool instead "
                   "(PyTorch reads a uint8 index as a mask, and so does tapegrad)")
        arr, kind = arr.astype(np.bool_), "b"
    if kind == "b":
        return (_BOOL, bool(arr)) if arr.ndim == 0 else (_MASK, arr)
    if kind == "f" and not from_tensor:  # non-tensor data is converted to long, as PyTorch
        arr, kind = arr.astype(np.int64), "i"
    if kind not in "iu":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if arr.ndim == 0:
        return _INT, int(arr)
    return _ARR, arr.astype(np.int64, copy=False)


def _dt_name(dtype):
    from ..dtypes import dtype_name
    return dtype_name(dtype)


def _shape_list(shape):
    return "[" + ", ".join(str(int(s)) for s in shape) + "]"


def _parse_index(index, shape, check=False):
    """PyTorch's index ``index`` of a tensor of ``shape`` as ``(basic, adv)`` (see above).

    The entries of index tensors are range-checked only with ``check=True``: reductions over
    them cost more than the indexing itself, so the ops index first and, when NumPy raises,
    parse again with ``check=True`` for PyTorch's message.

    Raises:
        IndexError: PyTorch's messages (too many indices, an int or tensor entry out of range,
            a mask whose shape does not match, index tensors that do not broadcast, an invalid
            index type), followed by the indexed tensor's shape.
        ValueError: a slice step that is not positive.
    """
    try:
        return _parse(index, shape, check)
    except IndexError as e:
        raise IndexError(f"{e} (indexing a tensor of shape {tuple(shape)})") from None


def _parse(index, shape, check):
    items = []
    for ix in _index_items(index):
        items.append(_classify(ix))
    ndim = len(shape)
    specified = 0
    for kind, v in items:
        if kind == _INT or kind == _SLICE or kind == _ARR:
            specified += 1
        elif kind == _MASK:
            specified += v.ndim
    if specified > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    basic = []          # the NumPy basic index of step 2
    rshape = []         # the shape of its result, built as we go
    adv = []            # (position in the basic result, array) of step 3
    src = 0             # dims of the input consumed so far
    real = 0            # PyTorch's dim counter for its messages (None counts, ints count)
    nontrivial = False  # basic does something (not only slice(None))
    for kind, v in items:
        if src + (v.ndim if kind == _MASK else kind in (_INT, _SLICE, _ARR)) > ndim:
            # only reachable with several Ellipsis, which PyTorch accepts (each one standing
            # for the same number of dims): nothing is left for this entry
            raise IndexError(f"too many indices for tensor of dimension {ndim} (an index with "
                             f"several Ellipsis leaves no dimension for entry {real})")
        if kind == _INT:
            n = shape[src]
            if v < -n or v >= n:
                raise IndexError(f"index {v} is out of bounds for dimension {real} with size {n}")
            basic.append(v)
            src += 1
            real += 1
            nontrivial = True
        elif kind == _SLICE:
            basic.append(v)
            rshape.append(len(range(*v.indices(shape[src]))))
            src += 1
            real += 1
            nontrivial = nontrivial or v != _ALL
        elif kind == _NONE:
            basic.append(None)
            rshape.append(1)
            real += 1
            nontrivial = True
        elif kind == _BOOL:
            basic.append(None)
            adv.append((len(rshape), np.zeros(1 if v else 0, dtype=np.int64)))
            rshape.append(1)
            real += 1
            nontrivial = True
        elif kind == _ELLIPSIS:
            for _ in range(ndim - specified):
                if src >= ndim:  # a second Ellipsis finds nothing left (PyTorch allows it)
                    break
                basic.append(_ALL)
                rshape.append(shape[src])
                src += 1
                real += 1
        elif kind == _ARR:
            adv.append((len(rshape), v))
            basic.append(_ALL)
            rshape.append(shape[src])
            src += 1
            real += 1
        else:  # a mask over v.ndim dims
            adv.append((len(rshape), v))
            for _ in range(v.ndim):
                basic.append(_ALL)
                rshape.append(shape[src])
                src += 1
                real += 1
    rshape += shape[src:]
    basic = tuple(basic) + (Ellipsis,) if nontrivial else None  # (Ellipsis: a 0-d view, not
    if not adv:                                                  # a NumPy scalar)
        return basic, None
    # step 3: checks in PyTorch's order, then the NumPy advanced index of the basic result
    shapes = []
    for p, a in adv:
        if a.dtype.kind == "b":
            for j in range(a.ndim):
                if a.shape[j] != rshape[p + j]:
                    raise IndexError(f"The shape of the mask {_shape_list(a.shape)} at index {j} "
                                     f"does not match the shape of the indexed tensor "
                                     f"{_shape_list(rshape)} at index {p + j}")
            shapes += [(int(np.count_nonzero(a)),)] * a.ndim  # PyTorch lists each dim
        else:
            shapes.append(a.shape)
    try:
        if len(shapes) > 1:
            np.broadcast_shapes(*shapes)
    except ValueError:
        raise IndexError("shape mismatch: indexing tensors could not be broadcast together with "
                         "shapes " + ", ".join(_shape_list(s) for s in shapes)) from None
    out = []
    k = 0  # PyTorch counts the index tensors for its out-of-range message
    for p, a in adv:
        out += [_ALL] * (p - len(out))
        if a.dtype.kind != "b":
            n = rshape[p]
            if check and a.size and (a.min() < -n or a.max() >= n):
                bad = a[(a < -n) | (a >= n)].flat[0]
                raise IndexError(f"index {bad} is out of bounds for dimension {k} with size {n}")
            k += 1
            out.append(a)
        else:
            out.append(a)
            out += [None] * (a.ndim - 1)  # placeholders: the mask covers a.ndim dims
            k += a.ndim
    return basic, tuple(x for x in out if x is not None)


_ALL = slice(None)


def _adv_shape(shape, adv):
    """The shape of ``array_of_shape[adv]`` for a NumPy advanced index ``adv`` (int arrays and
    masks at their dims, ``slice(None)`` elsewhere), computed without indexing: the broadcast
    shape of the arrays in place of their dims when they are adjacent in ``adv``, first when a
    slice separates them."""
    arrays = [i for i, a in enumerate(adv) if a.__class__ is not slice]
    before, after, bshapes = [], [], []
    d = 0
    for i, a in enumerate(adv):
        if a.__class__ is slice:
            (before if i < arrays[0] else after).append(shape[d])
            d += 1
        elif a.dtype.kind == "b":
            bshapes.append((int(np.count_nonzero(a)),))
            d += a.ndim
        else:
            bshapes.append(a.shape)
            d += 1
    after += shape[d:]
    b = list(np.broadcast_shapes(*bshapes))
    if arrays[-1] - arrays[0] + 1 == len(arrays):
        return tuple(before + b + after)
    return tuple(b + before + after)


def _index_array(a, basic, adv):
    """``a`` indexed by the pair ``(basic, adv)`` (a view when ``adv`` is ``None``)."""
    if basic is not None:
        a = a[basic]
    return a if adv is None else a[adv]


def _only_masks(adv):
    """True when ``adv`` holds no integer array (masks select each element once)."""
    return not any(isinstance(x, np.ndarray) and x.dtype.kind != "b" for x in adv)


class GetItem(Node):
    """One NumPy index, ``a[index]``; keeps the input's shape and the index for backward. A basic
    index (ints, slices, None, Ellipsis; ``advanced=False``, the result a view) or an advanced
    one (``advanced=True``). :func:`getitem`'s two steps are two of these nodes when both are
    present (see :func:`_get`), so that each node is one NumPy index, as the graph's consumers
    (the ONNX exporter) read it."""

    @staticmethod
    def forward(ctx, a, index, advanced):
        ctx.in_shape = a.shape
        ctx.index = index
        ctx.advanced = advanced
        return a[index]

    @staticmethod
    def backward(ctx, grad):
        basic, adv = (None, ctx.index) if ctx.advanced else (ctx.index, None)
        return IndexAdd.apply(grad, ctx.in_shape, basic, adv), None, None


def _get(t, basic, adv):
    """``t[basic][adv]`` through GetItem nodes (one per step that is present)."""
    if basic is not None:
        t = GetItem.apply(t, basic, False)
    if adv is not None:
        t = GetItem.apply(t, adv, True)
    return t


class IndexAdd(Node):
    """Scatter-add ``src`` into zeros of ``shape`` at ``[basic][adv]``: GetItem's gradient
    (repeated integer indices accumulate, with ``np.add.at``)."""

    @staticmethod
    def forward(ctx, src, shape, basic, adv):
        ctx.basic = basic
        ctx.adv = adv
        out = np.zeros(shape, dtype=src.dtype)
        view = out if basic is None else out[basic]
        if adv is None:
            view[...] = src
        elif _only_masks(adv):
            view[adv] = src  # a mask selects each element once
        else:
            np.add.at(view, adv, src)
        return out

    @staticmethod
    def backward(ctx, grad):
        return _get(grad, ctx.basic, ctx.adv), None, None, None


def getitem(input, index):
    """``input[index]`` with PyTorch's indexing (``torch.Tensor.__getitem__``).

    Index items: Python ints and 0-d integer tensors (select a position; the dimension goes),
    slices with a positive step, ``None`` (a new dimension of size 1), ``Ellipsis``, ``True``/
    ``False``, and advanced items: integer sequences (lists, tuples, ``range``, NumPy arrays,
    integer Tensors, nested to any depth; float lists and arrays are truncated to int64 as
    PyTorch does) and bool masks (bool lists, arrays and tensors covering as many dims as the
    mask has). A list of fewer than 32 entries that holds a sequence, a Tensor, a slice, None
    or Ellipsis is read as a tuple (``x[[[0, 1], [1, 2]]]`` is ``x[[0, 1], [1, 2]]``), with
    PyTorch's deprecation warning.

    Placement (PyTorch's and NumPy's rule, applied after the ints have selected): the advanced
    items' broadcast shape replaces the dims they index when they are adjacent
    (``x[:, [0, 2], [1, 3]]`` of a (3, 4, 5) tensor is (3, 2)), and goes first when a slice
    separates them (``x[[0, 2], :, [1, 3]]`` is (2, 4)). Ints are not advanced indices here,
    unlike NumPy: ``x[1, :, [0, 1]]`` is (4, 2).

    Basic indexing (no advanced item) returns a view that shares memory (and the version
    counter) with ``input``; advanced indexing copies. Gradient: the output's gradient
    scattered back into zeros of the input's shape, repeated indices accumulating.

    Raises:
        IndexError: PyTorch's messages for an index out of range ("index 5 is out of bounds
            for dimension 0 with size 3"), too many indices, a mask of the wrong shape, index
            tensors that do not broadcast, and float/complex index tensors, each followed by
            "(indexing a tensor of shape ...)".
        ValueError: for a slice step that is not positive ("step must be greater than zero";
            use :func:`flip`).
    """
    if _is_plain_basic(index):
        basic = index if index.__class__ is tuple else (index,)
        basic = basic + (Ellipsis,)
        adv = None
        try:
            if input.requires_grad:
                return GetItem.apply(input, basic, False)
            out = input._data[basic]
        except IndexError:
            _parse_index(index, input.shape)  # raises PyTorch's message
            raise
    else:
        basic, adv = _parse_index(index, input.shape)
        try:
            if input.requires_grad:
                return _get(input, basic, adv)
            out = _index_array(input._data, basic, adv)
        except IndexError:
            _parse_index(index, input.shape, check=True)  # raises PyTorch's message
            raise
    t = Tensor._make(out, False, None)
    if adv is None:  # a view: share the version counter
        t._vc = input._version_counter()
    return t


class IndexPut(Node):
    """``out = a.copy(); out[basic][adv] = v``: differentiable ``__setitem__`` (``v`` already
    has the indexed shape or broadcasts to it)."""

    @staticmethod
    def forward(ctx, a, v, basic, adv):
        ctx.basic = basic
        ctx.adv = adv
        out = a.copy()
        view = out if basic is None else out[basic]
        if adv is None:
            view[...] = v
        else:
            view[adv] = np.broadcast_to(v, _adv_shape(view.shape, adv))
        return out

    @staticmethod
    def backward(ctx, grad):
        na, nv = ctx.needs_input_grad[:2]
        ga = gv = None
        if na:
            mask = np.ones(grad.shape, dtype=bool)
            view = mask if ctx.basic is None else mask[ctx.basic]
            if ctx.adv is None:
                view[...] = False
            else:
                view[ctx.adv] = False
            ga = grad * Tensor._make(mask, False, None)
        if nv:  # the engine sums a broadcast value's gradient back to its shape
            gv = _get(grad, ctx.basic, ctx.adv)
        return ga, gv, None, None


_TORCH_DTYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                      "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                      "bool": "Bool"}


def _value_for(input, value, target, advanced, op="setitem"):
    """``value`` as what IndexPut writes: a Tensor (cast to ``input``'s dtype, differentiably
    between floats) or an array, with leading size-1 dims beyond ``target``'s rank dropped
    (PyTorch's rule), checked to broadcast to ``target``.

    Raises:
        TypeError: for a value that is not a number, a Tensor or a NumPy array.
        RuntimeError: PyTorch's message when it does not broadcast.
    """
    if isinstance(value, Tensor):
        if value._data.dtype != input._data.dtype:
            if advanced:  # PyTorch's index_put_ does not cast (copy_, for basic indexing, does)
                names = [_TORCH_DTYPE_NAMES.get(_dt_name(t._data.dtype), _dt_name(t._data.dtype))
                         for t in (input, value)]
                raise RuntimeError(f"Index put requires the source and destination dtypes "
                                   f"match, got {names[0]} for the destination and {names[1]} "
                                   f"for the source.")
            value = value.to(input._data.dtype)
        vshape = value._data.shape
    elif isinstance(value, (numbers.Number, np.ndarray, np.generic)) and not isinstance(
            value, complex):
        value = np.asarray(value).astype(input._data.dtype, copy=False)
        vshape = value.shape
    else:
        raise TypeError(f"can't assign a {type(value).__name__} to a "
                        f"{_dt_name(input._data.dtype)} tensor (assign a number or a Tensor)")
    strip = 0
    while len(vshape) - strip > len(target) and vshape[strip] == 1:
        strip += 1
    core = vshape[strip:]
    if len(core) > len(target) or any(v != 1 and v != t for v, t in
                                      zip(core[::-1], target[::-1])):
        raise RuntimeError(f"{op}: shape mismatch: value tensor of shape {_shape_list(vshape)} "
                           f"cannot be broadcast to indexing result of shape "
                           f"{_shape_list(target)}")
    if strip:
        value = reshape(value, core) if isinstance(value, Tensor) else value.reshape(core)
    return value


def setitem(input, index, value):
    """``input[index] = value`` in place (``torch.Tensor.__setitem__``), with the indexing of
    :func:`getitem`. ``value`` is a number or a Tensor (a NumPy array is also accepted) that
    broadcasts to ``input[index]``'s shape, leading size-1 dims beyond it allowed, and is cast
    to ``input``'s dtype. With repeated indices, which write wins is unspecified (as PyTorch).

    Under grad mode, when ``input`` (a non-leaf) or ``value`` requires grad, the write is
    recorded: ``input``'s history gets the gradient everywhere but at the written positions,
    and ``value`` gets the gradient at them (summed over broadcasting; each repeated index
    passes its position's gradient). Otherwise the values are written in place directly. The
    version counter is bumped either way.

    Raises:
        RuntimeError: for a leaf that requires grad under grad mode (as PyTorch; use
            ``with no_grad():``), for read-only memory, when ``value`` does not broadcast, or
            for a Tensor value of another dtype under advanced indexing.
        IndexError, ValueError: as :func:`getitem`.
        TypeError: for a value that is neither a number nor a Tensor.
    """
    if _is_plain_basic(index):
        basic = (index if index.__class__ is tuple else (index,)) + (Ellipsis,)
        adv = None
        try:
            view = input._data[basic]
        except IndexError:
            _parse_index(index, input.shape)
            raise
    else:
        basic, adv = _parse_index(index, input.shape)
        view = input._data if basic is None else input._data[basic]
    target = view.shape if adv is None else _adv_shape(view.shape, adv)
    value = _value_for(input, value, target, adv is not None)
    try:
        if grad_mode.grad_enabled() and (input.requires_grad or (
                isinstance(value, Tensor) and value.requires_grad)):
            input._inplace("setitem", lambda t, v: IndexPut.apply(t, v, basic, adv), value)
            return
        if not input._data.flags.writeable:
            raise RuntimeError("setitem: unsupported operation: the tensor's memory is read-only "
                               "(an expanded tensor shares one element between several "
                               "positions); call clone() first")
        v = value._data if isinstance(value, Tensor) else value
        if adv is None:
            view[...] = v
        else:
            view[adv] = np.broadcast_to(v, target)
    except IndexError:
        _parse_index(index, input.shape, check=True)  # raises PyTorch's message
        raise
    input._bump_version()


# ---- joining and splitting -----------------------------------------------------------------------
class Cat(Node):
    """Keeps the dim and the inputs' sizes along it (saves no array) for backward."""

    @staticmethod
    def forward(ctx, *arrays, dim):
        ctx.dim = dim
        ctx.sizes = [a.shape[dim] for a in arrays]
        return np.concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        out = []
        start = 0
        sl = [slice(None)] * grad.ndim
        for n, need in zip(ctx.sizes, ctx.needs_input_grad):
            if need:
                sl[ctx.dim] = slice(start, start + n)
                out.append(grad[tuple(sl)])
            else:
                out.append(None)
            start += n
        return tuple(out)


def cat(tensors, dim=0, *, out=None):
    """Concatenate tensors along an existing dimension (``torch.cat``).

    Raises:
        ValueError: for an empty sequence.
        RuntimeError: if the shapes differ outside ``dim``, naming them.
    """
    if out is not None:
        return _with_out("cat", cat, out, tensors, dim=dim)
    tensors = [x if isinstance(x, Tensor) else Tensor(x) for x in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    for i, x in enumerate(tensors):
        if x._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be "
                               "concatenated (use stack, or reshape it to (1,) first)")
    nd = tensors[0]._data.ndim
    d = _wrap_dim(dim, nd, "cat")
    ref = tensors[0].shape
    for i, x in enumerate(tensors):
        s = x.shape
        if len(s) != nd or s[:d] != ref[:d] or s[d + 1:] != ref[d + 1:]:
            raise RuntimeError(f"cat: sizes of tensors must match except in dimension {d}: "
                               f"tensor 0 has shape {tuple(ref)}, tensor {i} has shape "
                               f"{tuple(s)}")
    dtype = promote_dtypes([x._data.dtype for x in tensors])
    tensors = [x.to(dtype) if x.dtype != dtype else x for x in tensors]
    return Cat.apply(*tensors, dim=d)


concat = concatenate = cat


def stack(tensors, dim=0, *, out=None):
    """Stack same-shaped tensors along a new dimension (``torch.stack``).

    Raises:
        RuntimeError: if the shapes differ, naming them.
    """
    if out is not None:
        return _with_out("stack", stack, out, tensors, dim=dim)
    tensors = [x if isinstance(x, Tensor) else Tensor(x) for x in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    ref = tensors[0].shape
    for i, x in enumerate(tensors):
        if x.shape != ref:
            raise RuntimeError(f"stack: expects each tensor to be equal size, but got "
                               f"{tuple(ref)} at entry 0 and {tuple(x.shape)} at entry {i}")
    d = _wrap_dim(dim, len(ref) + 1, "stack")
    return cat([unsqueeze(x, d) for x in tensors], d)


def split(tensor, split_size_or_sections, dim=0):
    """Split into chunks of ``split_size`` (the last may be smaller) or of the given list of
    sizes along ``dim`` (``torch.split``).

    Raises:
        RuntimeError: if the sizes in a list don't add up to the dimension's size.
    """
    d = _wrap_dim(dim, tensor._data.ndim, "split")
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, numbers.Integral):
        step = int(split_size_or_sections)
        if step <= 0:
            raise RuntimeError(f"split: split_size must be positive, got {step}")
        sizes = [min(step, n - i) for i in range(0, n, step)] or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise RuntimeError(f"split: split_with_sizes expects split_sizes to sum exactly to "
                               f"{n} (input tensor's size at dimension {d}), but got "
                               f"split_sizes={sizes}")
    out, start = [], 0
    for s in sizes:
        out.append(narrow(tensor, d, start, s))
        start += s
    return tuple(out)


def chunk(input, chunks, dim=0):
    """Split into ``chunks`` pieces of size ``ceil(n / chunks)`` (``torch.chunk``)."""
    d = _wrap_dim(dim, input._data.ndim, "chunk")
    n = input.shape[d]
    if chunks <= 0:
        raise RuntimeError(f"chunk: chunks must be positive, got {chunks}")
    step = max(-(-n // chunks), 1)
    return split(input, step, d)


def unbind(input, dim=0):
    """The slices along ``dim`` as a tuple, that dimension removed (``torch.unbind``)."""
    d = _wrap_dim(dim, input._data.ndim, "unbind")
    sl = [slice(None)] * input._data.ndim
    out = []
    for i in range(input.shape[d]):
        sl[d] = i
        out.append(getitem(input, tuple(sl)))
    return tuple(out)


def narrow(input, dim, start, length):
    """Elements ``start .. start+length-1`` along ``dim`` (``torch.narrow``).

    Raises:
        IndexError/RuntimeError: if the range leaves the dimension.
    """
    d = _wrap_dim(dim, input._data.ndim, "narrow")
    n = input.shape[d]
    if start < 0:
        start += n
    if start < 0 or length < 0 or start + length > n:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size "
                           f"({n}) of shape {tuple(input.shape)}")
    sl = [slice(None)] * input._data.ndim
    sl[d] = slice(start, start + length)
    return getitem(input, tuple(sl))


class Flip(Node):
    """Keeps the dims (saves no array) for backward."""

    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return np.flip(a, dims)

    @staticmethod
    def backward(ctx, grad):
        return grad.flip(ctx.dims)


def flip(input, dims):
    """Reverse the order of elements along ``dims`` (``torch.flip``)."""
    if isinstance(dims, numbers.Integral):
        dims = (dims,)
    dims = tuple(_wrap_dim(d, input._data.ndim, "flip") for d in dims)
    if input._data.ndim == 0:
        dims = ()  # dim 0 / -1 of a 0-d tensor is accepted, nothing to reverse
    return Flip.apply(input, dims)


# ---- rolling, gathering and scattering -----------------------------------------------------------
# gather/scatter/index_select/take_along_dim/masked_select/diag/diagonal and the non-constant
# pads are all integer-array indexing: they reuse GetItem (forward) and IndexAdd/IndexPut
# (its scatter-add transpose), whose backwards are each other, so second derivatives work and
# repeated indices accumulate their gradients.

class Roll(Node):
    """Keeps the shifts and dims (saves no array) for backward."""

    @staticmethod
    def forward(ctx, a, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return np.roll(a, shifts, axis=dims)

    @staticmethod
    def backward(ctx, grad):
        return Roll.apply(grad, tuple(-s for s in ctx.shifts), ctx.dims), None, None


def roll(input, shifts, dims=None):
    """Roll elements along ``dims`` by ``shifts`` (wrapping around; ``torch.roll``). With
    ``dims=None`` the tensor is flattened, rolled and reshaped back. Gradient: the opposite
    roll.

    Raises:
        RuntimeError: if ``shifts`` and ``dims`` have different lengths.
        IndexError: if a dim is out of range.
    """
    shifts_t = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    if dims is None:
        if len(shifts_t) != 1:
            raise RuntimeError(f"roll: with dims=None, shifts must be a single int, got "
                               f"{shifts!r}")
        return Roll.apply(reshape(input, -1), (int(shifts_t[0]),), (0,)).reshape(input.shape)
    dims_t = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if len(shifts_t) != len(dims_t):
        raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts_t)}, "
                           f"dims: {len(dims_t)}")
    nd = input._data.ndim
    dims_t = tuple(_wrap_dim(d, nd, "roll") for d in dims_t)
    if nd == 0:
        return input.clone()
    return Roll.apply(input, tuple(int(s) for s in shifts_t), dims_t)


def _int_index(index, op, name="index"):
    """An integer index argument as an int64 array.

    Raises:
        RuntimeError: if it is not an integer tensor/array (PyTorch's wording).
    """
    arr = index._data if isinstance(index, Tensor) else np.asarray(index)
    if arr.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for {name}, got {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _check_index_range(idx, n, dim, op, shape, exc=RuntimeError):
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise exc(f"{op}(): index {bad} is out of bounds for dimension {dim} with size {n} "
                  f"(input shape {tuple(shape)})")


def _gather_index(idx, dim):
    """The advanced index selecting ``input[i][j]...[idx[i, j, ...]]...`` along ``dim``."""
    nd = idx.ndim
    out = []
    for d in range(nd):
        if d == dim:
            out.append(idx)
        else:
            shp = [1] * nd
            shp[d] = idx.shape[d]
            out.append(np.arange(idx.shape[d]).reshape(shp))
    return tuple(out)


def _take(input, index):
    """``input[index]`` for an already normalised advanced index (GetItem, no copy of checks)."""
    if input.requires_grad:
        return GetItem.apply(input, index, True)
    return Tensor._make(np.asarray(input._data[index]), False, None)


def _as_1d(input):
    return reshape(input, 1) if input._data.ndim == 0 else input


def gather(input, dim, index, *, sparse_grad=False, out=None):
    """``out[i][j][k] = input[i][index[i][j][k]][k]`` for ``dim=1`` (``torch.gather``).

    Shapes: ``index`` has as many dims as ``input`` and ``index.size(d) <= input.size(d)`` for
    ``d != dim``; the output has ``index``'s shape and ``input``'s dtype. Gradient: scatter-add
    into zeros (repeated indices accumulate). ``sparse_grad`` is accepted and ignored.

    Raises:
        RuntimeError: for a non-integer index, mismatched dims/sizes or an index out of range.
        IndexError: if ``dim`` is out of range.
    """
    if out is not None:
        return _with_out("gather", gather, out, input, dim, index, sparse_grad=sparse_grad)
    idx = _int_index(index, "gather")
    nd = input._data.ndim
    d = _wrap_dim(dim, nd, "gather")
    if (nd > 0 and idx.ndim != nd) or (nd == 0 and idx.ndim > 1):
        raise RuntimeError(f"gather(): Index tensor must have the same number of dimensions as "
                           f"input tensor: index shape {idx.shape}, input shape "
                           f"{tuple(input.shape)}")
    if nd == 0:
        out = gather(reshape(input, 1), 0, idx.reshape(-1))
        return out.reshape(idx.shape)
    for k in range(nd):
        if k != d and idx.shape[k] > input.shape[k]:
            raise RuntimeError(f"gather(): Size does not match at dimension {k}: expected index "
                               f"{idx.shape} to be no larger than self {tuple(input.shape)} "
                               f"apart from dimension {d}")
    _check_index_range(idx, input.shape[d], d, "gather", input.shape)
    return _take(input, _gather_index(idx, d))


def take_along_dim(input, indices, dim=None):
    """Pick values along ``dim`` at ``indices`` (``torch.take_along_dim``): with ``dim=None``,
    from the flattened input at the flattened indices (a 1-D result); otherwise ``input`` and
    ``indices`` are broadcast in every dimension but ``dim`` and :func:`gather` is applied.

    Raises:
        RuntimeError: for non-int64 indices, a dims mismatch or shapes that don't broadcast.
        IndexError: if ``dim`` is out of range.
    """
    idx = _int_index(indices, "take_along_dim", "indices")
    if dim is None:
        return gather(reshape(input, -1), 0, idx.reshape(-1))
    nd = input._data.ndim
    d = _wrap_dim(dim, nd, "take_along_dim")
    if idx.ndim != nd:
        raise RuntimeError(f"take_along_dim(): input and indices should have the same number "
                           f"of dimensions, but got {nd} dimensions for input (shape "
                           f"{tuple(input.shape)}) and {idx.ndim} for indices (shape "
                           f"{idx.shape})")
    if nd == 0:
        return gather(input, 0, idx)
    try:
        other = np.broadcast_shapes(tuple(1 if k == d else n for k, n in enumerate(input.shape)),
                                    tuple(1 if k == d else n for k, n in enumerate(idx.shape)))
    except ValueError:
        raise RuntimeError(f"take_along_dim(): input of shape {tuple(input.shape)} and indices "
                           f"of shape {idx.shape} are not broadcastable outside dim {d}") from None
    in_shape = tuple(input.shape[k] if k == d else n for k, n in enumerate(other))
    ix_shape = tuple(idx.shape[k] if k == d else n for k, n in enumerate(other))
    return gather(expand(input, in_shape), d, np.broadcast_to(idx, ix_shape))


def _scatter_checks(input, d, idx, src_shape, op):
    nd = input._data.ndim
    if idx.ndim != nd or (src_shape is not None and len(src_shape) != nd):
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as "
                           f"self and src: index {idx.shape}, self {tuple(input.shape)}"
                           + (f", src {tuple(src_shape)}" if src_shape is not None else ""))
    for k in range(nd):
        if (k != d and idx.shape[k] > input.shape[k]) or (
                src_shape is not None and idx.shape[k] > src_shape[k]):
            raise RuntimeError(f"{op}(): Expected index {list(idx.shape)} to be no larger than "
                               f"self {list(input.shape)} apart from dimension {d} and to be "
                               f"no larger size than src "
                               f"{list(src_shape) if src_shape is not None else '(a value)'}")
    _check_index_range(idx, input.shape[d], d, op, input.shape)


def _src_part(src, idx_shape):
    """``src`` cut to ``index``'s shape (PyTorch reads only that corner of ``src``)."""
    if tuple(src.shape) == tuple(idx_shape):
        return src
    return getitem(src, tuple(slice(0, n) for n in idx_shape))


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """Out-of-place scatter (``torch.scatter``): a copy of ``input`` with
    ``out[i][index[i][j]] = src[i][j]`` for ``dim=1``. ``src`` is a Tensor (of ``input``'s
    dtype; only its ``index.shape`` corner is read) or a number (``value``). ``reduce='add'``
    is :func:`scatter_add`.

    Gradients (PyTorch's): ``input`` gets the gradient except at the written positions;
    ``src`` gets ``gather(grad, dim, index)``. Where ``index`` repeats a position, which write
    wins is unspecified (as in PyTorch).

    Raises:
        RuntimeError: for mismatched dims/sizes/dtypes or an index out of range.
        NotImplementedError: for ``reduce='multiply'``.
    """
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter(): expected a src Tensor or a value")
    if reduce is not None:
        if reduce == "add":
            if not isinstance(src, Tensor):
                src = Tensor._make(np.full(np.shape(_int_index(index, "scatter")), src,
                                           dtype=input._data.dtype), False, None)
            return scatter_add(input, dim, index, src)
        raise NotImplementedError(f"scatter(): reduce={reduce!r} is not implemented (only "
                                  "'add'; use scatter_reduce-free formulations)")
    idx = _int_index(index, "scatter")
    nd = input._data.ndim
    d = _wrap_dim(dim, nd, "scatter")
    if nd == 0:
        s = reshape(src, 1) if isinstance(src, Tensor) else src
        return scatter(reshape(input, 1), 0, idx.reshape(-1), s).reshape(())
    if isinstance(src, Tensor):
        if src.dtype != input.dtype:
            raise RuntimeError(f"scatter(): Expected self.dtype to be equal to src.dtype, got "
                               f"{input.dtype} and {src.dtype}")
        _scatter_checks(input, d, idx, src.shape, "scatter")
        v = _src_part(src, idx.shape)
    else:
        _scatter_checks(input, d, idx, None, "scatter")
        v = np.asarray(src, dtype=input._data.dtype)
    return IndexPut.apply(input, v, None, _gather_index(idx, d))


def scatter_add(input, dim, index, src):
    """``out = input.clone(); out[i][index[i][j]] += src[i][j]`` for ``dim=1``
    (``torch.scatter_add``); repeated indices accumulate. Gradients: ``grad`` for ``input``,
    ``gather(grad, dim, index)`` for ``src``.

    Raises:
        RuntimeError: for mismatched dims/sizes/dtypes or an index out of range.
    """
    idx = _int_index(index, "scatter_add")
    nd = input._data.ndim
    d = _wrap_dim(dim, nd, "scatter_add")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): src must be a Tensor, got {type(src).__name__}")
    if src.dtype != input.dtype:
        raise RuntimeError(f"scatter_add(): Expected self.dtype to be equal to src.dtype, got "
                           f"{input.dtype} and {src.dtype}")
    if nd == 0:
        return scatter_add(reshape(input, 1), 0, idx.reshape(-1), reshape(src, 1)).reshape(())
    _scatter_checks(input, d, idx, src.shape, "scatter_add")
    v = _src_part(src, idx.shape)
    return input + IndexAdd.apply(v, input.shape, None, _gather_index(idx, d))


def index_select(input, dim, index, *, out=None):
    """The entries of ``input`` along ``dim`` at ``index`` (a 1-D or 0-d integer tensor;
    ``torch.index_select``); the result has ``len(index)`` in place of that dimension.

    Raises:
        IndexError: if ``index`` has more than one dimension, an entry is out of range, or
            ``dim`` is out of range.
        RuntimeError: for a non-integer index.
    """
    if out is not None:
        return _with_out("index_select", index_select, out, input, dim, index)
    idx = _int_index(index, "index_select")
    if idx.ndim > 1:
        raise IndexError(f"index_select(): Index is supposed to be a vector, got shape "
                         f"{idx.shape}")
    idx = idx.reshape(-1)
    nd = input._data.ndim
    d = _wrap_dim(dim, nd, "index_select")
    x = _as_1d(input)
    _check_index_range(idx, x.shape[d], d, "index_select", input.shape, IndexError)
    out = _take(x, (slice(None),) * d + (idx,))
    return out


def masked_select(input, mask, *, out=None):
    """The elements of ``input`` where the bool ``mask`` is True, as a 1-D tensor
    (``torch.masked_select``); ``input`` and ``mask`` broadcast together.

    Raises:
        RuntimeError: if ``mask`` is not bool or the shapes don't broadcast.
    """
    if out is not None:
        return _with_out("masked_select", masked_select, out, input, mask)
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {m.dtype}")
    try:
        shape = np.broadcast_shapes(tuple(input.shape), m.shape)
    except ValueError:
        raise RuntimeError(f"masked_select: the shape of the mask {m.shape} must be "
                           f"broadcastable with the input's {tuple(input.shape)}") from None
    x = expand(input, shape) if tuple(input.shape) != shape else input
    return _take(x, (np.broadcast_to(m, shape),))


# ---- triangles and diagonals ---------------------------------------------------------------------
class Tri(Node):
    """The node of :func:`tril` / :func:`triu`; keeps the diagonal and which triangle (saves no
    array)."""

    @staticmethod
    def forward(ctx, a, k, lower):
        ctx.k, ctx.lower = k, lower
        return np.tril(a, k) if lower else np.triu(a, k)

    @staticmethod
    def backward(ctx, grad):
        return Tri.apply(grad, ctx.k, ctx.lower), None, None


def _tri(input, diagonal, lower, op):
    if input._data.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got shape "
                           f"{tuple(input.shape)}")
    return Tri.apply(input, int(diagonal), lower)


def tril(input, diagonal=0, *, out=None):
    """The lower triangle of the last two dims: elements with ``j - i <= diagonal`` kept, the
    rest zeroed (``torch.tril``). Gradient: ``tril`` of the gradient.

    Raises:
        RuntimeError: for fewer than 2 dimensions.
    """
    if out is not None:
        return _with_out("tril", tril, out, input, diagonal=diagonal)
    return _tri(input, diagonal, True, "tril")


def triu(input, diagonal=0, *, out=None):
    """The upper triangle of the last two dims: elements with ``j - i >= diagonal`` kept
    (``torch.triu``).

    Raises:
        RuntimeError: for fewer than 2 dimensions.
    """
    if out is not None:
        return _with_out("triu", triu, out, input, diagonal=diagonal)
    return _tri(input, diagonal, False, "triu")


def _diag_index(n, m, k):
    """Row and column indices of the ``k``-th diagonal of an ``n x m`` matrix."""
    if k >= 0:
        length = max(0, min(n, m - k))
        r = np.arange(length)
        return r, r + k
    length = max(0, min(n + k, m))
    r = np.arange(length)
    return r - k, r


def diag(input, diagonal=0):
    """``torch.diag``: for a 1-D input of length ``n``, the square matrix of size
    ``n + |diagonal|`` with the input on the ``diagonal``-th diagonal; for a 2-D input, its
    ``diagonal``-th diagonal as a 1-D tensor (a copy here; a view in PyTorch).

    Raises:
        RuntimeError: for other than 1 or 2 dimensions.
    """
    nd = input._data.ndim
    k = int(diagonal)
    if nd == 1:
        n = input.shape[0] + abs(k)
        r, c = _diag_index(n, n, k)
        return IndexAdd.apply(input, (n, n), None, (r, c))
    if nd == 2:
        return _take(input, _diag_index(input.shape[0], input.shape[1], k))
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D (shape "
                       f"{tuple(input.shape)})")


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal (``offset`` above the main one if positive, below if negative) of the
    matrices spanned by ``dim1`` and ``dim2`` (``torch.diagonal``): those two dims are removed
    and the diagonal is appended as the last dim. A copy here (a view in PyTorch).

    Raises:
        RuntimeError: if ``dim1 == dim2`` or the input has fewer than 2 dims.
        IndexError: if a dim is out of range.
    """
    nd = input._data.ndim
    if nd < 2:
        raise RuntimeError(f"diagonal(): input must have at least 2 dimensions, got shape "
                           f"{tuple(input.shape)}")
    d1, d2 = _wrap_dim(dim1, nd, "diagonal"), _wrap_dim(dim2, nd, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal(): dimensions cannot be identical {dim1}, {dim2}")
    rest = [i for i in range(nd) if i not in (d1, d2)]
    x = permute(input, tuple(rest + [d1, d2]))
    r, c = _diag_index(input.shape[d1], input.shape[d2], int(offset))
    return _take(x, (Ellipsis, r, c))


# ---- padding -------------------------------------------------------------------------------------
class ConstantPad(Node):
    """Constant :func:`pad` (non-negative widths); keeps the input's slices (saves no array)."""

    @staticmethod
    def forward(ctx, a, widths, value):
        ctx.slices = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, a.shape))
        return np.pad(a, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        return getitem(grad, ctx.slices), None, None


_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input, pad, mode="constant", value=None):
    """Pad ``input`` (``F.pad``). ``pad`` lists ``(left, right)`` widths starting from the
    *last* dimension: ``(l_W, r_W, l_H, r_H, ...)``, PyTorch's order.

    Modes: ``'constant'`` (fill with ``value``, default 0; negative widths crop), and for
    ``'reflect'`` (mirror without repeating the edge), ``'replicate'`` (repeat the edge) and
    ``'circular'`` (wrap around), PyTorch's supported layouts: 2 widths for a 2-D/3-D input,
    4 for 3-D/4-D, 6 for 4-D/5-D. Gradients: the sliced gradient (constant) or the gradient
    scattered back and summed over the copies (the other modes).

    Raises:
        RuntimeError: for an odd-length ``pad``, more widths than dims, widths too large for
            the mode (reflect: ``< size``; circular: ``<= size``).
        NotImplementedError: for an unknown mode or an unsupported layout (as PyTorch).
    """
    widths = [int(p) for p in pad]
    nd = input._data.ndim
    if len(widths) % 2:
        raise RuntimeError(f"pad: Padding length must be divisible by 2, got {len(widths)} "
                           f"({tuple(widths)})")
    k = len(widths) // 2
    if k > nd:
        raise RuntimeError(f"pad: Padding length should be less than or equal to two times "
                           f"the input dimension but got padding length {len(widths)} and "
                           f"input of dimension {nd} (shape {tuple(input.shape)})")
    if mode != "constant" and mode not in _PAD_MODES:
        raise NotImplementedError(f"pad: Unrecognised padding mode {mode!r} (expected "
                                  "'constant', 'reflect', 'replicate' or 'circular')")
    if mode != "constant" and value is not None:
        raise RuntimeError(f"pad: Padding mode {mode!r} doesn't take in value argument")
    # per-dimension (lo, hi) from the first dim on
    pairs = [(0, 0)] * (nd - k) + [(widths[2 * i], widths[2 * i + 1])
                                   for i in range(k - 1, -1, -1)]
    if mode != "constant" and not (nd - 1 <= k + 1 <= nd and 1 <= k <= 3):
        raise NotImplementedError(
            f"pad: Padding size {len(widths)} is not supported for {nd}D input tensor (shape "
            f"{tuple(input.shape)}); for non-constant padding: 2D or 3D input with padding "
            "size 2, 3D or 4D input with size 4, 4D or 5D input with size 6")
    # negative widths crop first
    if any(lo < 0 or hi < 0 for lo, hi in pairs):
        sl = []
        for (lo, hi), n in zip(pairs, input.shape):
            start, stop = max(-lo, 0), n - max(-hi, 0)
            if stop < start:
                raise RuntimeError(f"pad: negative padding {tuple(widths)} removes more than "
                                   f"the whole input of shape {tuple(input.shape)}")
            sl.append(slice(start, stop))
        input = getitem(input, tuple(sl))
        pairs = [(max(lo, 0), max(hi, 0)) for lo, hi in pairs]
    if mode == "constant":
        if all(lo == 0 and hi == 0 for lo, hi in pairs):
            return input if input._data.size == 0 else input.clone()
        fill = 0 if value is None else value
        return ConstantPad.apply(input, tuple(pairs), input._data.dtype.type(fill))
    index = []
    padded = range(nd - k, nd)
    for j, d in enumerate(padded):
        lo, hi = pairs[d]
        n = input.shape[d]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"pad: Padding size should be less than the corresponding input "
                               f"dimension, but got: padding ({lo}, {hi}) at dimension {d} of "
                               f"input {tuple(input.shape)}")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError(f"pad: Padding value causes wrapping around more than once: "
                               f"padding ({lo}, {hi}) at dimension {d} of input "
                               f"{tuple(input.shape)}")
        if n == 0:
            raise RuntimeError(f"pad: cannot pad an empty dimension {d} (input shape "
                               f"{tuple(input.shape)}) in mode {mode!r}")
        idx = np.pad(np.arange(n), (lo, hi), mode=_PAD_MODES[mode])
        shp = [1] * k
        shp[j] = idx.size
        index.append(idx.reshape(shp))
    return _take(input, (Ellipsis, *index))


# ---- index_* families, take/put, nonzero, masked_scatter, repeat_interleave -----------------
# All are GetItem / IndexAdd / IndexPut on an advanced index ``(:, ..., idx)`` at ``dim``, so
# their gradients (and second derivatives) come from those three nodes.
def _dim_index(input, dim, index, op):
    """``(normalised dim, int64 1-D index, NumPy advanced index selecting it at dim)``.

    Raises:
        IndexError: for a dim out of range or an index with more than one dimension.
        RuntimeError: for a non-integer index, or an entry out of range (PyTorch's message).
    """
    idx = _int_index(index, op)
    if idx.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector, got shape {idx.shape}")
    idx = idx.reshape(-1)
    nd = max(input._data.ndim, 1)
    d = _wrap_dim(dim, nd, op)
    n = input.shape[d] if input._data.ndim else 1
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx[(idx < -n) | (idx >= n)][0]
        raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size {n}")
    return d, idx, (slice(None),) * d + (idx,)


def _source_for(input, d, idx, source, op):
    if not isinstance(source, Tensor):
        raise TypeError(f"{op}(): source must be a Tensor, got {type(source).__name__}")
    if source.dtype != input.dtype:
        raise RuntimeError(f"{op}(): self ({_dt_name(input.dtype)}) and source "
                           f"({_dt_name(source.dtype)}) must have the same scalar type")
    want = tuple(input.shape[:d]) + (idx.size,) + tuple(input.shape[d + 1:])
    if tuple(source.shape) != want:
        if source._data.ndim == len(want) and source.shape[d] != idx.size:
            raise RuntimeError(f"{op}_(): Number of indices ({idx.size}) should be equal to "
                               f"source.size(dim): ({source.shape[d]}), for dim: {d}")
        raise RuntimeError(f"{op}(): source of shape {tuple(source.shape)} does not match the "
                           f"indexed shape {want} (input {tuple(input.shape)}, dim {d})")
    return source


def index_add(input, dim, index, source, *, alpha=1):
    """``input`` with ``alpha * source`` added at ``index`` along ``dim``
    (``torch.index_add``): ``out[:, index[j]] += alpha * source[:, j]`` for ``dim=1``; repeated
    indices accumulate. ``source`` has ``input``'s shape with ``len(index)`` at ``dim``.
    Gradients: ``grad`` for ``input``, ``alpha * grad.index_select(dim, index)`` for ``source``.

    Raises:
        RuntimeError: for a source of the wrong shape or dtype, or an index out of range.
    """
    d, idx, adv = _dim_index(input, dim, index, "index_add")
    src = _source_for(input, d, idx, source, "index_add")
    if alpha != 1:
        src = src * alpha
    return input + IndexAdd.apply(src, input.shape, None, adv)


def index_copy(input, dim, index, source):
    """``input`` with ``source``'s slices written at ``index`` along ``dim``
    (``torch.index_copy``); with repeated indices which write wins is unspecified.

    Raises:
        RuntimeError: for a source of the wrong shape or dtype, or an index out of range.
    """
    d, idx, adv = _dim_index(input, dim, index, "index_copy")
    src = _source_for(input, d, idx, source, "index_copy")
    return IndexPut.apply(input, src, None, adv)


def index_fill(input, dim, index, value):
    """``input`` with ``value`` (a number or a 0-d Tensor, which gets the gradient's sum over
    the filled positions) at ``index`` along ``dim`` (``torch.index_fill``).

    Raises:
        RuntimeError: for an index out of range, or a Tensor value with dimensions.
    """
    _, _, adv = _dim_index(input, dim, index, "index_fill")
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {value._data.ndim} dimension(s).")
        v = value.to(input.dtype)
    else:
        v = np.asarray(value, dtype=input._data.dtype)
    return IndexPut.apply(input, v, None, adv)


def index_put(input, indices, values, accumulate=False):
    """``input`` with ``values`` written at ``input[indices]`` (``torch.index_put``;
    ``indices`` a tuple of integer or bool tensors, one per leading dimension), or added there
    with ``accumulate=True`` (repeated indices then accumulate). ``values`` broadcasts to the
    indexed shape. Gradients as :func:`setitem` (and for ``accumulate``, ``grad`` for
    ``input``).

    Raises:
        IndexError: as :func:`getitem`.
        RuntimeError: when ``values`` does not broadcast, or has another dtype.
    """
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): indices must be a tuple of Tensors, got "
                        f"{type(indices).__name__}")
    index = tuple(indices)
    basic, adv = _parse_index(index, input.shape, check=True)
    view_shape = np.empty(input.shape, dtype=np.bool_)[basic].shape if basic is not None \
        else input.shape
    target = view_shape if adv is None else _adv_shape(view_shape, adv)
    value = _value_for(input, values, target, adv is not None, "index_put")
    if not accumulate:
        return IndexPut.apply(input, value, basic, adv)
    if not isinstance(value, Tensor):
        value = Tensor._make(np.asarray(value), False, None)
    return input + IndexAdd.apply(expand(value, target) if tuple(value.shape) != target
                                  else value, input.shape, basic, adv)


def _flat_index(index, input, op):
    """``index`` as an integer array of flat positions into ``input`` (take/put).

    Raises:
        IndexError: for an entry out of range (PyTorch's message).
    """
    idx = _int_index(index, op)
    n = input._data.size
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx[(idx < -n) | (idx >= n)].flat[0]
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} "
                         f"elements.")
    return idx


def take(input, index):
    """The elements of ``input`` read as a 1-D tensor at ``index`` (any shape; negative
    entries count from the end): the result has ``index``'s shape (``torch.take``).

    Raises:
        IndexError: for an entry out of range (PyTorch's message).
        RuntimeError: for a non-integer index.
    """
    idx = _flat_index(index, input, "take")
    return _take(reshape(input, -1), (idx,))


def put(input, index, source, accumulate=False):
    """``input`` with ``source``'s elements written at the flat positions ``index``
    (``torch.put``; ``source`` has as many elements as ``index``), or added there with
    ``accumulate=True``.

    Raises:
        IndexError: for an entry out of range.
        RuntimeError: when ``source`` and ``index`` differ in size.
    """
    idx = _flat_index(index, input, "put")
    if not isinstance(source, Tensor) or source._data.size != idx.size:
        raise RuntimeError(f"put_(): Expected source and index to have the same number of "
                           f"elements, but got source of {getattr(source, 'shape', '?')} and "
                           f"index of {idx.size}")
    flat = reshape(input, -1)
    src = reshape(source.to(input.dtype), -1)
    if accumulate:
        out = flat + IndexAdd.apply(src, flat.shape, None, (idx.reshape(-1),))
    else:
        out = IndexPut.apply(flat, src, None, (idx.reshape(-1),))
    return reshape(out, input.shape)


def nonzero(input, *, as_tuple=False):
    """The indices of the non-zero elements (``torch.nonzero``): an int64 tensor of shape
    ``(count, ndim)`` (a 0-d input counts as 1-D), or with ``as_tuple=True`` one 1-D tensor per
    dimension. Not differentiable.
    """
    a = input._data if input._data.ndim else input._data.reshape(1)
    nz = np.nonzero(a)
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64), False, None) for i in nz)
    out = np.stack(nz, axis=1).astype(np.int64) if input._data.ndim else \
        np.zeros((len(nz[0]), 0), dtype=np.int64)
    return Tensor._make(out, False, None)


def argwhere(input):
    """``nonzero(input)`` (``torch.argwhere``)."""
    return nonzero(input)


def masked_scatter(input, mask, source):
    """``input`` with the positions where ``mask`` (bool, broadcastable to ``input``) is True
    filled, in row-major order, with the leading elements of ``source``
    (``torch.masked_scatter``). Gradients: ``input`` gets the gradient off the mask; ``source``
    gets it at its leading elements (zero elsewhere).

    Raises:
        RuntimeError: for a non-bool mask, shapes that do not broadcast, or a source with
            fewer elements than the mask has ones (PyTorch's message).
    """
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with "
                           f"dtype {m.dtype}")
    try:
        m = np.broadcast_to(m, input.shape)
    except ValueError:
        raise RuntimeError(f"masked_scatter: the mask of shape {m.shape} does not broadcast "
                           f"to the input's shape {tuple(input.shape)}") from None
    k = int(np.count_nonzero(m))
    if not isinstance(source, Tensor):
        raise TypeError(f"masked_scatter(): source must be a Tensor, got "
                        f"{type(source).__name__}")
    if source._data.size < k:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    src = reshape(source.to(input.dtype), -1)
    if src._data.size != k:
        src = getitem(src, slice(0, k))
    return IndexPut.apply(input, src, None, (m,))


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element (``dim=None``: of the flattened input) or each slice along ``dim``
    ``repeats`` times (an int, or a 1-D integer tensor with one count per slice)
    (``torch.repeat_interleave``). ``repeat_interleave(repeats_tensor)`` alone gives
    ``arange(len(repeats))`` repeated by ``repeats``. Gradient: the sum over the copies.

    Raises:
        RuntimeError: for negative repeats, or a repeats tensor of the wrong length.
    """
    if repeats is None:
        counts = _int_index(input, "repeat_interleave", "repeats").reshape(-1)
        if counts.size and counts.min() < 0:
            raise RuntimeError("repeats can not be negative")
        return Tensor._make(np.repeat(np.arange(counts.size, dtype=np.int64), counts), False,
                            None)
    if dim is None:
        input, d = reshape(input, -1), 0
    else:
        d = _wrap_dim(dim, max(input._data.ndim, 1), "repeat_interleave")
        input = _as_1d(input)
    n = input.shape[d]
    if isinstance(repeats, Tensor) or isinstance(repeats, (list, tuple, np.ndarray)):
        counts = _int_index(repeats, "repeat_interleave", "repeats").reshape(-1)
        if counts.size == 1:
            counts = np.full(n, counts[0])
        if counts.size != n:
            raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {counts.size} and input.size({d}) = {n}")
    else:
        counts = np.full(n, int(repeats))
    if counts.size and counts.min() < 0:
        raise RuntimeError("Repeats must be non-negative")
    idx = np.repeat(np.arange(n, dtype=np.int64), counts)
    if output_size is not None and int(output_size) != idx.size:
        raise RuntimeError(f"repeat_interleave: output_size {output_size} does not match the "
                           f"total of repeats {idx.size}")
    return _take(input, (slice(None),) * d + (idx,))


def _tensor_nonzero(self, *, as_tuple=False):
    """``Tensor.nonzero(*, as_tuple=False)``: see :func:`nonzero` (indices of the nonzero
    elements, ``(n, ndim)`` int64, or a tuple of ``ndim`` 1-d index tensors)."""
    return nonzero(self, as_tuple=as_tuple)


# The methods of this block (x.index_add(...), x.take(...) ...), installed with the module:
# autograd/ops/__init__.py's table lists the older ones.
_register_methods({
    "index_add": index_add, "index_copy": index_copy, "index_fill": index_fill,
    "index_put": index_put, "take": take, "put": put, "nonzero": _tensor_nonzero,
    "argwhere": argwhere, "masked_scatter": masked_scatter,
    "repeat_interleave": repeat_interleave,
})


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim`` (``torch.diff``): ``out[i] = x[i + 1] -
    x[i]`` applied ``n`` times, after concatenating ``prepend``/``append`` along ``dim``.
    Differentiable; bool tensors give ``x[i + 1] != x[i]``. ``n=0`` gives a copy of ``input``,
    ignoring ``prepend``/``append`` (as PyTorch and NumPy).

    Raises:
        RuntimeError: for a 0-d input or a negative ``n``.
    """
    if input._data.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = _wrap_dim(dim, input._data.ndim, "diff")
    if n == 0:
        return input.clone()
    parts = [t for t in (prepend, input, append) if t is not None]
    x = cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        m = x.shape[d]
        if m == 0:
            break
        hi, lo = narrow(x, d, 1, m - 1), narrow(x, d, 0, m - 1)
        if x._data.dtype.kind == "b":
            x = Tensor._make(hi._data != lo._data, False, None)
        else:
            x = hi - lo
    return x


def fliplr(input):
    """Reverse the columns, ``flip(input, [1])`` (``torch.fliplr``).

    Raises:
        RuntimeError: for fewer than 2 dimensions."""
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, [1])


def flipud(input):
    """Reverse the rows, ``flip(input, [0])`` (``torch.flipud``).

    Raises:
        RuntimeError: for a 0-d input."""
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, [0])


def select(input, dim, index):
    """The slice at ``index`` along ``dim``, with that dimension removed (``torch.select``;
    ``x.select(1, 2) == x[:, 2]``); a view, differentiable.

    Raises:
        IndexError: for ``dim`` or ``index`` out of range.
    """
    d = _wrap_dim(dim, input._data.ndim, "select")
    n = input._data.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {d}")
    return getitem(input, (slice(None),) * d + (int(index),))


def ravel(input):
    """``input`` flattened to 1-D (``torch.ravel``), a view where possible."""
    return reshape(input, -1)


moveaxis = movedim
swapdims = transpose
