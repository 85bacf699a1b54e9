"""Shape and indexing ops: reshape/view, permute/transpose, expand, repeat, indexing
(``__getitem__``/``__setitem__``), cat/stack/split and friends.

Gradients of shape ops are shape ops themselves (reshape back, inverse permutation, ``sum_to``
for expand), so they support double backward. Indexing scatters the gradient back with
``np.add.at`` when the index has integer arrays (so repeated indices accumulate) and with a plain
slice assignment otherwise.
"""

import numbers

import numpy as np

from ..function import Function, sum_to
from ..tensor import Tensor, _wrap_dim
from .elementwise import promote_dtypes

__all__ = ["reshape", "view", "view_as", "flatten", "unflatten", "squeeze", "unsqueeze",
           "transpose", "swapaxes", "permute", "t", "expand", "expand_as", "broadcast_to",
           "repeat", "tile", "getitem", "setitem", "cat", "concat", "concatenate", "stack",
           "split", "chunk", "unbind", "narrow", "flip", "movedim"]


class Reshape(Function):
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
    shape = _infer_shape(_shape_args(shape), input.data.size, "reshape", input.shape)
    if shape == input.data.shape:
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
    nd = input.data.ndim
    if nd == 0:
        return reshape(input, 1)
    s = _wrap_dim(start_dim, nd, "flatten")
    e = _wrap_dim(end_dim, nd, "flatten")
    if s > e:
        raise RuntimeError(f"flatten: start_dim ({start_dim}) cannot come after end_dim "
                           f"({end_dim})")
    shape = input.shape
    return reshape(input, shape[:s] + (-1,) + shape[e + 1:]) if input.data.size else \
        reshape(input, shape[:s] + (int(np.prod(shape[s:e + 1])),) + shape[e + 1:])


def unflatten(input, dim, sizes):
    """Split dimension ``dim`` into ``sizes`` (``torch.unflatten``)."""
    d = _wrap_dim(dim, input.data.ndim, "unflatten")
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
        dims = {_wrap_dim(d, input.data.ndim, "squeeze") for d in dims}
        new = tuple(n for i, n in enumerate(shape) if not (i in dims and n == 1))
    return reshape(input, new)


def unsqueeze(input, dim):
    """Insert a dimension of size 1 at ``dim`` (``torch.unsqueeze``; ``dim`` in
    ``[-ndim-1, ndim]``)."""
    nd = input.data.ndim + 1
    d = _wrap_dim(dim, nd, "unsqueeze")
    shape = input.shape
    return Reshape.apply(input, shape[:d] + (1,) + shape[d:])


class Permute(Function):
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
    nd = input.data.ndim
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
    nd = input.data.ndim
    if nd == 0:
        return input
    d0, d1 = _wrap_dim(dim0, nd, "transpose"), _wrap_dim(dim1, nd, "transpose")
    dims = list(range(nd))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return permute(input, tuple(dims))


swapaxes = transpose


def movedim(input, source, destination):
    """Move dimension ``source`` to position ``destination`` (``torch.movedim``, ints only)."""
    nd = input.data.ndim
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
    if input.data.ndim > 2:
        raise RuntimeError(f"t: expects a tensor with <= 2 dimensions, but self is "
                           f"{input.data.ndim}D (shape {tuple(input.shape)})")
    return transpose(input, 0, 1) if input.data.ndim == 2 else input


class Expand(Function):
    """Graph node of :func:`expand`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
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
    if out == shape:
        return input
    return Expand.apply(input, out)


def expand_as(input, other):
    """``input.expand(other.shape)``."""
    return expand(input, other.shape)


def broadcast_to(input, shape):
    """``input.expand(shape)`` (``torch.broadcast_to``)."""
    return expand(input, tuple(shape))


class Repeat(Function):
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
    if len(reps) < input.data.ndim:
        raise RuntimeError(f"repeat: number of repeat dims ({len(reps)}) can not be smaller "
                           f"than number of tensor dims ({input.data.ndim})")
    return Repeat.apply(input, reps)


def tile(input, dims):
    """``torch.tile``: like ``repeat``, with missing leading repeats taken as 1."""
    dims = tuple(dims)
    if len(dims) < input.data.ndim:
        dims = (1,) * (input.data.ndim - len(dims)) + dims
    return repeat(input, dims)


# ---- indexing ---------------------------------------------------------------------------------------
def _normalize_index(index, shape, op="index"):
    """Turn Tensors in an index into arrays; report whether advanced indexing is involved."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    advanced = False
    for ix in index:
        if isinstance(ix, Tensor):
            ix = ix.data
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


class GetItem(Function):
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


class IndexAdd(Function):
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
        return Tensor._make(np.asarray(input.data[idx]), False, None)
    except IndexError as e:
        raise IndexError(f"index {index!r} is invalid for a tensor of shape "
                         f"{tuple(input.shape)}: {e}") from None


class IndexPut(Function):
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


# ---- joining and splitting ----------------------------------------------------------------------------
class Cat(Function):
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
    nd = tensors[0].data.ndim
    d = _wrap_dim(dim, nd, "cat")
    ref = tensors[0].shape
    for i, x in enumerate(tensors):
        s = x.shape
        if len(s) != nd or s[:d] != ref[:d] or s[d + 1:] != ref[d + 1:]:
            raise RuntimeError(f"cat: sizes of tensors must match except in dimension {d}: "
                               f"tensor 0 has shape {tuple(ref)}, tensor {i} has shape "
                               f"{tuple(s)}")
    dtype = promote_dtypes([x.data.dtype for x in tensors])
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
    d = _wrap_dim(dim, tensor.data.ndim, "split")
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
    d = _wrap_dim(dim, input.data.ndim, "chunk")
    n = input.shape[d]
    if chunks <= 0:
        raise RuntimeError(f"chunk: chunks must be positive, got {chunks}")
    step = max(-(-n // chunks), 1)
    return split(input, step, d)


def unbind(input, dim=0):
    """The slices along ``dim`` as a tuple, that dimension removed (``torch.unbind``)."""
    d = _wrap_dim(dim, input.data.ndim, "unbind")
    sl = [slice(None)] * input.data.ndim
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
    d = _wrap_dim(dim, input.data.ndim, "narrow")
    n = input.shape[d]
    if start < 0:
        start += n
    if start < 0 or length < 0 or start + length > n:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size "
                           f"({n}) of shape {tuple(input.shape)}")
    sl = [slice(None)] * input.data.ndim
    sl[d] = slice(start, start + length)
    return getitem(input, tuple(sl))


class Flip(Function):
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
    dims = tuple(_wrap_dim(d, input.data.ndim, "flip") for d in dims)
    if input.data.ndim == 0:
        dims = ()  # dim 0 / -1 of a 0-d tensor is accepted, nothing to reverse
    return Flip.apply(input, dims)
