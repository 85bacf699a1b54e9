"""Shape and indexing ops: reshape/view, permute/transpose, expand, repeat, indexing
(``__getitem__``/``__setitem__``), cat/stack/split and friends.

Gradients of shape ops are shape ops themselves (reshape back, inverse permutation, ``sum_to``
for expand), so they support double backward. Indexing scatters the gradient back with
``np.add.at`` when the index has integer arrays (so repeated indices accumulate) and with a plain
slice assignment otherwise.
"""

import numbers

import numpy as np

from ..graph import Node, _view_source, sum_to
from ..tensor import Tensor, _wrap_dim
from .elementwise import promote_dtypes

__all__ = ["reshape", "view", "view_as", "flatten", "unflatten", "squeeze", "unsqueeze",
           "transpose", "swapaxes", "permute", "t", "expand", "expand_as", "broadcast_to",
           "repeat", "tile", "getitem", "setitem", "cat", "concat", "concatenate", "stack",
           "split", "chunk", "unbind", "narrow", "flip", "movedim", "roll", "gather",
           "scatter", "scatter_add", "index_select", "masked_select", "take_along_dim", "tril",
           "triu", "diag", "diagonal", "pad"]


class Reshape(Node):
    """Graph node of :func:`reshape`: its forward and backward."""

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
    """Graph node of :func:`permute`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        return grad.permute(tuple(np.argsort(ctx.dims)))


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
    dims = list(range(nd))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return permute(input, tuple(dims))


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
    """Graph node of :func:`expand`: its forward and backward."""

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
    """Graph node of :func:`repeat`: its forward and backward."""

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
def _normalize_index(index, shape, op="index"):
    """Turn Tensors in an index into arrays; report whether advanced indexing is involved."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    advanced = False
    for ix in index:
        if isinstance(ix, Tensor):
            ix = ix._data
        if isinstance(ix, (list, np.ndarray)):
            ix = np.asarray(ix)
            if ix.dtype.kind not in "biu":
                raise IndexError(f"{op}: tensors used as indices must be long, int or bool, got "
                                 f"{ix.dtype}")
            advanced = True
        elif isinstance(ix, bool):
            advanced = True
        elif not (ix is None or ix is Ellipsis or isinstance(ix, (slice, numbers.Integral))):
            raise IndexError(f"{op}: only integers, slices, None, Ellipsis, and integer or bool "
                             f"tensors are valid indices, got {type(ix).__name__}")
        out.append(ix)
    return tuple(out), advanced


class GetItem(Node):
    """Graph node of :func:`getitem`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, index, advanced):
        ctx.in_shape = a.shape
        ctx.index = index
        ctx.advanced = advanced
        return a[index]

    @staticmethod
    def backward(ctx, grad):
        return IndexAdd.apply(grad, ctx.in_shape, ctx.index, ctx.advanced)


class IndexAdd(Node):
    """Scatter-add ``src`` into zeros of ``shape`` at ``index``: GetItem's gradient."""

    @staticmethod
    def forward(ctx, src, shape, index, advanced):
        ctx.index = index
        ctx.advanced = advanced
        out = np.zeros(shape, dtype=src.dtype)
        if advanced:
            np.add.at(out, index, src)  # repeated indices accumulate
        else:
            out[index] = src
        return out

    @staticmethod
    def backward(ctx, grad):
        return GetItem.apply(grad, ctx.index, ctx.advanced), None, None, None


def getitem(input, index):
    """``input[index]`` with NumPy/PyTorch indexing: ints, slices (positive steps), ``None``,
    ``Ellipsis``, bool masks and integer arrays/tensors. The gradient is scattered back;
    repeated integer indices accumulate.

    Raises:
        IndexError: for an out-of-range index or an unsupported index type, naming the shape.
    """
    idx, advanced = _normalize_index(index, input.shape, "getitem")
    try:
        if input.requires_grad:
            return GetItem.apply(input, idx, advanced)
        out = Tensor._make(np.asarray(input._data[idx]), False, None)
        if _view_source((input,), out._data) is not None:  # a view: share the version counter
            out._vc = input._version_counter()
        return out
    except IndexError as e:
        raise IndexError(f"index {index!r} is invalid for a tensor of shape "
                         f"{tuple(input.shape)}: {e}") from None


class IndexPut(Node):
    """``out = a.copy(); out[index] = v``: differentiable ``__setitem__``."""

    @staticmethod
    def forward(ctx, a, v, index, advanced):
        ctx.index = index
        ctx.advanced = advanced
        ctx.v_shape = np.shape(v)
        out = a.copy()
        out[index] = v
        return out

    @staticmethod
    def backward(ctx, grad):
        na, nv = ctx.needs_input_grad[:2]
        ga = gv = None
        if na:
            mask = np.ones(grad.shape, dtype=bool)
            mask[ctx.index] = False
            ga = grad * Tensor._make(mask, False, None)
        if nv:
            gv = GetItem.apply(grad, ctx.index, ctx.advanced)
            extra = len(ctx.v_shape) - gv.ndim
            if extra > 0:  # the value may carry leading 1s that the assignment dropped
                gv = gv.reshape((1,) * extra + tuple(gv.shape))
        return ga, gv, None, None


def setitem(input, index, value):
    """``input[index] = value`` in place (``torch.Tensor.__setitem__``): differentiable w.r.t.
    both ``input`` (non-leaf) and ``value``; bumps the version counter.

    Raises:
        RuntimeError: for a leaf that requires grad (as PyTorch).
    """
    idx, advanced = _normalize_index(index, input.shape, "setitem")
    if not isinstance(value, Tensor):
        value = np.asarray(value, dtype=input.dtype)
    elif value.dtype != input.dtype:
        value = value.to(input.dtype)
    input._inplace("setitem", lambda t, v: IndexPut.apply(t, v, idx, advanced), value)


# ---- joining and splitting -----------------------------------------------------------------------
class Cat(Node):
    """Graph node of :func:`cat`: its forward and backward."""

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


def cat(tensors, dim=0):
    """Concatenate tensors along an existing dimension (``torch.cat``).

    Raises:
        ValueError: for an empty sequence.
        RuntimeError: if the shapes differ outside ``dim``, naming them.
    """
    tensors = [x if isinstance(x, Tensor) else Tensor(x) for x in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
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


def stack(tensors, dim=0):
    """Stack same-shaped tensors along a new dimension (``torch.stack``).

    Raises:
        RuntimeError: if the shapes differ, naming them.
    """
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
    """Graph node of :func:`flip`: its forward and backward."""

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
    """Graph node of :func:`roll`: its forward and backward."""

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


def gather(input, dim, index, *, sparse_grad=False):
    """``out[i][j][k] = input[i][index[i][j][k]][k]`` for ``dim=1`` (``torch.gather``).

    Shapes: ``index`` has as many dims as ``input`` and ``index.size(d) <= input.size(d)`` for
    ``d != dim``; the output has ``index``'s shape and ``input``'s dtype. Gradient: scatter-add
    into zeros (repeated indices accumulate). ``sparse_grad`` is accepted and ignored.

    Raises:
        RuntimeError: for a non-integer index, mismatched dims/sizes or an index out of range.
        IndexError: if ``dim`` is out of range.
    """
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
    return IndexPut.apply(input, v, _gather_index(idx, d), True)


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
    return input + IndexAdd.apply(v, input.shape, _gather_index(idx, d), True)


def index_select(input, dim, index):
    """The entries of ``input`` along ``dim`` at ``index`` (a 1-D or 0-d integer tensor;
    ``torch.index_select``); the result has ``len(index)`` in place of that dimension.

    Raises:
        IndexError: if ``index`` has more than one dimension, an entry is out of range, or
            ``dim`` is out of range.
        RuntimeError: for a non-integer index.
    """
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


def masked_select(input, mask):
    """The elements of ``input`` where the bool ``mask`` is True, as a 1-D tensor
    (``torch.masked_select``); ``input`` and ``mask`` broadcast together.

    Raises:
        RuntimeError: if ``mask`` is not bool or the shapes don't broadcast.
    """
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
    """Graph node of :func:`tril` / :func:`triu`: its forward and backward."""

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


def tril(input, diagonal=0):
    """The lower triangle of the last two dims: elements with ``j - i <= diagonal`` kept, the
    rest zeroed (``torch.tril``). Gradient: ``tril`` of the gradient.

    Raises:
        RuntimeError: for fewer than 2 dimensions.
    """
    return _tri(input, diagonal, True, "tril")


def triu(input, diagonal=0):
    """The upper triangle of the last two dims: elements with ``j - i >= diagonal`` kept
    (``torch.triu``).

    Raises:
        RuntimeError: for fewer than 2 dimensions.
    """
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
        return IndexAdd.apply(input, (n, n), (r, c), True)
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
    """Graph node of constant :func:`pad` (non-negative widths): its forward and backward."""

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
