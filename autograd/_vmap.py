"""The batching machinery behind :func:`autograd.func.vmap` (functorch's design, on the tape).

``vmap(func)`` first tries to run ``func`` *once* on the whole batch: each mapped input becomes
a :class:`BatchedTensor`, a Tensor that wraps a *physical* Tensor carrying the mapped dim in
front (``(B,) + logical shape``) and shows the *logical* (per-sample) view: ``shape``, ``ndim``,
``dtype``, ``size()``, ``len()`` exclude the batch dim. Every library op ends in
:meth:`autograd.graph.Node.apply`; when one of its inputs is a BatchedTensor, the op's forward
(or the graph bookkeeping) touches the BatchedTensor's array, which raises the private
:class:`~autograd.graph._Unbatchable`, and ``Node.apply`` hands the call to :func:`dispatch`.
``dispatch`` looks up the op's *batching rule*: the rule moves/pads batch dims, rewrites the
op's array-level attributes (``axis -> axis + 1``, a target shape ``-> (B,) + shape``) and calls
the same node on the physical tensors, so the tape records the batched op as usual. Because
each rule maps sample ``i`` of its inputs to sample ``i`` of its output, the tape's backward of
the physical graph is the batched backward, and the transforms of :mod:`autograd.func`
(``grad``, ``vjp``, ``jacrev``, ...) called inside ``func`` differentiate the physical tensors
(see :func:`physical_grads`).

Safety: a BatchedTensor's array is a :class:`_Phantom` that exposes only the logical metadata
(shape, dtype, ndim, size; all the same for every sample) and raises ``_Unbatchable`` on any
access to values (NumPy ufuncs and functions, indexing, arithmetic, ``float()``, ``item()``,
``tolist()``, ``numpy()``, printing, in-place writes, Python control flow on values). Anything
without a rule therefore raises, and ``vmap`` discards the attempt and runs its per-sample loop
(exact, slower). A result computed from metadata only is the same for every sample, so an
unbatched Tensor represents it correctly.

Nested vmap: each vmap call gets a level; the physical tensor of a level-2 BatchedTensor may be
a level-1 BatchedTensor. ``dispatch`` handles the highest level among the op's inputs and calls
the node on that level's physical tensors, whose own ``Node.apply`` dispatches the next level.

Sources for the semantics: functorch's batching rules and BatchedTensor (PyTorch
``torch/_functorch``, ``aten/src/ATen/functorch``: "vmap batching rule", logical vs physical
dims, levels); the code here is tapegrad's own.
"""

import itertools
import operator
import threading

import numpy as np

from . import graph as _graph
from .graph import Node, _Unbatchable
from .tensor import Tensor

__all__ = ["BatchedTensor", "dispatch", "physical_grads", "stats"]

_tls = threading.local()

#: Counters for tests and diagnosis: batched runs that succeeded, and fallbacks to the loop.
stats = {"batched": 0, "fallback": 0}

#: Private switches (tests): ``enabled`` off forces the loop; ``strict`` re-raises what made a
#: batched attempt fail instead of falling back (to prove a path is batched).
config = {"enabled": True, "strict": False}


_ids = itertools.count(1)


def _levels():
    lv = getattr(_tls, "levels", None)
    if lv is None:
        lv = _tls.levels = {}
    return lv


def push_level(size):
    """Open a vmap level of batch size ``size``; returns its id. Ids grow with each call, so
    an inner (nested) vmap's level is higher than its outer ones', and a tensor that leaked
    out of a finished vmap is recognised by its id."""
    level = next(_ids)
    _levels()[level] = size
    return level


def pop_level(level):
    del _levels()[level]


def level_size(level):
    return _levels()[level]


def current_level():
    """The innermost open vmap level (0 when none)."""
    lv = _levels()
    return max(lv) if lv else 0


# ---- the phantom array of a BatchedTensor ----------------------------------------------------
def _refuse(self, *args, **kwargs):
    raise _Unbatchable(self._level)


class _Flags:
    """``ndarray.flags`` of a phantom: contiguity is a property of the physical layout that
    the logical view may claim; ``writeable`` refuses (in-place writes go to the loop)."""

    __slots__ = ("_level",)
    c_contiguous = True
    f_contiguous = False

    def __init__(self, level):
        self._level = level

    @property
    def writeable(self):
        raise _Unbatchable(self._level)

    def __getitem__(self, key):
        raise _Unbatchable(self._level)


class _Phantom:
    """Stands in for the NumPy array of a :class:`BatchedTensor`: the logical metadata
    (``shape``, ``dtype``, ``ndim``, ``size``, ``itemsize``, ``nbytes``, ``flags``, ``base``)
    and nothing else; every other use raises ``_Unbatchable``."""

    __slots__ = ("shape", "dtype", "ndim", "size", "itemsize", "nbytes", "flags", "_level",
                 "_phys")
    base = None

    def __init__(self, shape, dtype, level, phys):
        self._phys = phys
        self.shape = shape
        self.dtype = dtype
        self.ndim = len(shape)
        n = 1
        for s in shape:
            n *= s
        self.size = n
        self.itemsize = dtype.itemsize
        self.nbytes = n * dtype.itemsize
        self.flags = _Flags(level)
        self._level = level

    def __getattr__(self, name):
        raise _Unbatchable(self._level)

    def __array_ufunc__(self, *args, **kwargs):
        raise _Unbatchable(self._level)

    def __array_function__(self, func, types, args, kwargs):
        # metadata-only functions answer for the logical array; everything else refuses
        if func is np.shape:
            return self.shape
        if func is np.ndim:
            return self.ndim
        if func is np.size and len(args) == 1 and not kwargs:
            return self.size
        if func is np.result_type:
            return np.result_type(*[a.dtype if a.__class__ is _Phantom else a for a in args])
        raise _Unbatchable(self._level)

    def __array__(self, *args, **kwargs):
        raise _Unbatchable(self._level)

    def __repr__(self):
        return f"<batched array, logical shape {self.shape}, level {self._level}>"

    __hash__ = object.__hash__


for _name in ("add radd sub rsub mul rmul truediv rtruediv floordiv rfloordiv mod rmod pow "
              "rpow matmul rmatmul neg pos abs invert and rand or ror xor rxor lshift rshift "
              "eq ne lt le gt ge getitem setitem delitem len iter contains bool float int "
              "index complex iadd isub imul itruediv ipow imatmul copy deepcopy reduce "
              "reduce_ex buffer").split():
    setattr(_Phantom, f"__{_name}__", _refuse)
del _name


# ---- BatchedTensor ---------------------------------------------------------------------------
class BatchedTensor(Tensor):
    """A Tensor batched by a running :func:`autograd.func.vmap` (internal; functorch's
    ``BatchedTensor``).

    Holds ``_phys``, the physical Tensor of shape ``(B,) + shape`` (itself a BatchedTensor of a
    lower level under nested vmap), and ``_level``. Shows the logical view: ``shape``,
    ``ndim``, ``dtype``, ``size()``, ``numel()``, ``len()`` without the batch dim;
    ``requires_grad`` is the physical tensor's. Its values cannot be read (``item()``,
    ``numpy()``, ``tolist()``, printing, ``grad_fn``, ``.grad``, ``.data`` and in-place ops
    raise the private ``_Unbatchable``), which makes ``vmap`` fall back to its loop.
    """

    __slots__ = ("_phys", "_level", "_meta")

    @property
    def _data(self):
        return self._meta

    @_data.setter
    def _data(self, value):
        raise _Unbatchable(self._level)

    @property
    def grad_fn(self):
        raise _Unbatchable(self._level)

    @grad_fn.setter
    def grad_fn(self, value):
        raise _Unbatchable(self._level)

    @property
    def requires_grad(self):
        return self._phys.requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self._phys.requires_grad_(value)

    @property
    def data(self):
        raise _Unbatchable(self._level)

    @property
    def grad(self):
        raise _Unbatchable(self._level)

    def detach(self):
        """The same batched values cut from the graph."""
        return wrap(self._phys.detach(), self._level)

    def to(self, *args, **kwargs):
        """``Tensor.to`` on the physical tensor (a dtype conversion is elementwise; the
        library's cast reads the array when no gradient is needed)."""
        return wrap(self._phys.to(*args, **kwargs), self._level)

    def numpy(self, *args, **kwargs):
        raise _Unbatchable(self._level)

    def __array__(self, *args, **kwargs):
        raise _Unbatchable(self._level)

    def __getitem__(self, index):
        # basic indexing (ints, slices with a positive step, None, one Ellipsis) by the
        # GetItem rule; the library's getitem reads the array when no grad is needed
        from .ops.shape import GetItem
        items = index if index.__class__ is tuple else (index,)
        n_ell = 0
        for ix in items:
            c = ix.__class__
            if ix is Ellipsis:
                n_ell += 1
            elif not (c is int or ix is None or c is slice and (
                    ix.step is None or ix.step.__class__ is int and ix.step > 0)):
                raise _Unbatchable(self._level)
        if n_ell > 1:
            raise _Unbatchable(self._level)
        return GetItem.apply(self, items if n_ell else items + (Ellipsis,), False)

    def __eq__(self, other):
        return _binary_method(operator.eq, self, other)

    def __ne__(self, other):
        return _binary_method(operator.ne, self, other)

    def __lt__(self, other):
        return _binary_method(operator.lt, self, other)

    def __le__(self, other):
        return _binary_method(operator.le, self, other)

    def __gt__(self, other):
        return _binary_method(operator.gt, self, other)

    def __ge__(self, other):
        return _binary_method(operator.ge, self, other)

    def __and__(self, other):
        return _binary_method(operator.and_, self, other)

    def __rand__(self, other):
        return _binary_method(operator.and_, other, self)

    def __or__(self, other):
        return _binary_method(operator.or_, self, other)

    def __ror__(self, other):
        return _binary_method(operator.or_, other, self)

    def __xor__(self, other):
        return _binary_method(operator.xor, self, other)

    def __rxor__(self, other):
        return _binary_method(operator.xor, other, self)

    def __invert__(self):
        return wrap(~self._phys, self._level)

    __hash__ = Tensor.__hash__

    def __repr__(self):
        return (f"BatchedTensor(lvl={self._level}, bdim=0, logical shape={tuple(self.shape)}, "
                f"physical={self._phys!r})")

    def _bump_version(self):
        raise _Unbatchable(self._level)

    def __reduce_ex__(self, protocol):
        raise _Unbatchable(self._level)

    def __deepcopy__(self, memo):
        raise _Unbatchable(self._level)


def wrap(phys, level):
    """A :class:`BatchedTensor` of ``level`` over ``phys`` (batch dim in front)."""
    t = object.__new__(BatchedTensor)
    t._phys = phys
    t._level = level
    shape = tuple(phys.shape)
    t._meta = _Phantom(shape[1:], phys.dtype, level, phys)
    t._grad = None
    t._vc = None
    t._hooks = None
    return t


def _binary_method(op, a, b):
    """A broadcasting operator computed without a node (comparisons, bitwise logic): ``op``
    on the physical operands, the batched ones padded to the common logical rank."""
    level = _max_level((a, b))
    rank = max(_ndim(a), _ndim(b))
    pa, ba = unwrap(a, level)
    pb, bb = unwrap(b, level)
    if ba:
        pa = _pad_front(pa, a.ndim, rank)
    if bb:
        pb = _pad_front(pb, b.ndim, rank)
    return wrap(op(pa, pb), level)


def _max_level(values):
    lvl = 0
    for a in values:
        if a.__class__ is BatchedTensor:
            if a._level > lvl:
                lvl = a._level
        elif a.__class__ is _Phantom:
            raise _Unbatchable(a._level)   # a bare batched array (e.g. ``where``'s condition)
        elif isinstance(a, Tensor) and a._data.__class__ is _Phantom:
            raise _Unbatchable(a._data._level)  # a plain Tensor over a batched array
    return lvl


def unwrap(x, level):
    """``(physical, True)`` for a BatchedTensor of ``level``, else ``(x, False)``."""
    if x.__class__ is BatchedTensor and x._level == level:
        return x._phys, True
    return x, False


# ---- dispatch --------------------------------------------------------------------------------
_RULES = {}
_loaded = [False]


def dispatch(cls, args, attrs):
    """Run node ``cls`` on ``args`` (some BatchedTensors) by its batching rule; called by
    ``Node.apply`` when the plain path raised ``_Unbatchable``. Raises ``_Unbatchable`` when the
    op has no rule (``vmap`` then falls back to its loop)."""
    if any(a.__class__ is _Phantom for a in args):
        # a batched array passed where the node takes an array (``where``'s condition):
        # it is the BatchedTensor's values, so pass the BatchedTensor
        args = [wrap(a._phys, a._level) if a.__class__ is _Phantom else a for a in args]
    level = _max_level(list(args) + list(attrs.values()))
    if level == 0:
        raise _Unbatchable(None)
    if level not in _levels():
        raise RuntimeError(f"vmap: {cls.__name__} got a batched tensor of a vmap (level {level}) "
                           "that has already returned: a tensor leaked out of the vmapped "
                           "function (through a closure, a global or an attribute)")
    if not _loaded[0]:
        _load_rules()
    rule = _RULES.get(cls)
    if rule is None:
        raise _Unbatchable(level)
    return wrap(rule(cls, args, attrs, level), level)


_graph._vmap_dispatch = dispatch


def _ndim(x):
    return x.ndim if isinstance(x, (Tensor, np.ndarray)) else 0


def _pad_front(phys, n_logical, rank):
    """Reshape a physical ``(B,) + s`` to ``(B,) + (1,) * (rank - len(s)) + s`` (so that its
    batch dim lines up when broadcast against logical operands of rank ``rank``)."""
    from .ops.shape import Reshape
    if n_logical == rank:
        return phys
    shape = tuple(phys.shape)
    return Reshape.apply(phys, shape[:1] + (1,) * (rank - n_logical) + shape[1:])


def materialize(x, size):
    """An unbatched value as a physical ``(B,) + shape`` Tensor (expanded)."""
    from .ops.shape import Expand, Reshape
    if not isinstance(x, Tensor):
        x = Tensor._make(np.asarray(x), False, None)
    shape = tuple(x.shape)
    return Expand.apply(Reshape.apply(x, (1,) + shape), (size,) + shape)


def _elementwise(cls, args, attrs, level):
    """One rule for every elementwise node with NumPy broadcasting (unary math and
    activations, binary arithmetic, comparisons' where/clamp/maximum, the backward nodes of
    tanh/sigmoid): batched operands are padded after their batch dim to the output's logical
    rank; unbatched operands broadcast against the trailing dims as they are."""
    rank = 0
    for a in args:
        n = _ndim(a)
        if n > rank:
            rank = n
    new = []
    for a in args:
        p, b = unwrap(a, level)
        new.append(_pad_front(p, a.ndim, rank) if b else p)
    return cls.apply(*new, **attrs)


def _shift_dims(k):
    """Rule for a node whose positional argument ``k`` is a tuple of non-negative logical dims
    (sum, mean, prod, amax/amin, norms): each dim moves one to the right."""
    def rule(cls, args, attrs, level):
        p, b = unwrap(args[0], level)
        if not b:
            raise _Unbatchable(level)
        dims = tuple(d + 1 for d in args[k])
        return cls.apply(p, *args[1:k], dims, *args[k + 1:], **attrs)
    return rule


def _shift_dim(k):
    """Rule for a node whose positional argument ``k`` is one non-negative logical dim
    (softmax, log_softmax, cumsum, cumprod)."""
    def rule(cls, args, attrs, level):
        p, b = unwrap(args[0], level)
        if not b:
            raise _Unbatchable(level)
        d = args[k] % args[0].ndim if args[0].ndim else 0
        return cls.apply(p, *args[1:k], d + 1, *args[k + 1:], **attrs)
    return rule


def _reshape(cls, args, attrs, level):
    p, _ = unwrap(args[0], level)
    shape = args[1]
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    return cls.apply(p, (p.shape[0],) + tuple(shape), **attrs)


def _permute(cls, args, attrs, level):
    p, _ = unwrap(args[0], level)
    n = args[0].ndim
    dims = tuple(args[1])
    return cls.apply(p, (0,) + tuple(d % n + 1 for d in dims) if n else (0,), **attrs)


def _expand(cls, args, attrs, level):
    p, _ = unwrap(args[0], level)
    shape = tuple(args[1])
    p = _pad_front(p, args[0].ndim, len(shape))
    return cls.apply(p, (p.shape[0],) + shape, **attrs)


def _getitem(cls, args, attrs, level):
    p, _ = unwrap(args[0], level)
    index, advanced = args[1], args[2]
    if advanced or not isinstance(index, tuple):
        raise _Unbatchable(level)
    for ix in index:
        if not (ix is None or ix is Ellipsis or ix.__class__ in (int, slice)):
            raise _Unbatchable(level)
    return cls.apply(p, (slice(None),) + index, advanced, **attrs)


def _cat(cls, args, attrs, level):
    size = level_size(level)
    new = []
    for a in args:
        p, b = unwrap(a, level)
        new.append(p if b else materialize(p, size))
    return cls.apply(*new, dim=attrs["dim"] + 1)


def _linear(cls, args, attrs, level):
    x, w, b = args
    px, bx = unwrap(x, level)
    _, bw = unwrap(w, level)
    bb = b is not None and unwrap(b, level)[1]
    if bx and not bw and not bb:
        return cls.apply(px, w, b)  # one GEMM over all samples (what the tutorial needs)
    from .ops.linalg import matmul
    out = matmul(x, w.mT)
    if b is not None:
        out = out + b
    p, batched = unwrap(out, level)
    return p if batched else materialize(p, level_size(level))


def _matmul(cls, args, attrs, level):
    """``np.matmul`` semantics per sample: 1-D operands become matrices (``(1, k)`` /
    ``(k, 1)``), batched operands are padded to the common rank after their batch dim, and the
    added matrix dims are dropped from the result."""
    from .ops.shape import Reshape
    a, b = args
    pa, ba = unwrap(a, level)
    pb, bb = unwrap(b, level)
    na, nb = a.ndim, b.ndim
    if na == 0 or nb == 0:
        raise _Unbatchable(level)
    if ba:
        if na == 1:
            pa = Reshape.apply(pa, (pa.shape[0], 1, pa.shape[1]))
    elif na == 1:
        pa = Reshape.apply(pa, (1,) + tuple(pa.shape))
    if bb:
        if nb == 1:
            pb = Reshape.apply(pb, (pb.shape[0], pb.shape[1], 1))
    elif nb == 1:
        pb = Reshape.apply(pb, tuple(pb.shape) + (1,))
    ra, rb = max(na, 2), max(nb, 2)
    rank = max(ra, rb)
    if ba:
        pa = _pad_front(pa, ra, rank)
    if bb:
        pb = _pad_front(pb, rb, rank)
    out = cls.apply(pa, pb)
    shape = tuple(out.shape)
    if na == 1 or nb == 1:
        keep = shape[:-2] + (() if na == 1 else shape[-2:-1]) + (() if nb == 1 else shape[-1:])
        out = Reshape.apply(out, keep)
    return out


def _einsum(cls, args, attrs, level):
    """A fresh subscript letter for the batch dim, put in front of each batched operand's
    subscripts and of the output's."""
    inputs, output = attrs["inputs"], attrs["output"]
    used = set("".join(inputs) + output)
    letter = next(c for c in "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba"
                  if c not in used)
    new, subs = [], []
    for a, sub in zip(args, inputs):
        p, b = unwrap(a, level)
        new.append(p)
        subs.append(letter + sub if b else sub)
    return cls.apply(*new, inputs=tuple(subs) if isinstance(inputs, tuple) else subs,
                     output=letter + output)


def _load_rules():
    from .ops import activations, arithmetic, comparison, layers, linalg, reduction, shape, unary
    elementwise = []
    for mod in (arithmetic, comparison, unary, activations):
        for v in vars(mod).values():
            if (isinstance(v, type) and issubclass(v, Node) and v.__module__ == mod.__name__
                    and "unary_node" in getattr(v.forward, "__qualname__", "")):
                elementwise.append(v)
    elementwise += [
        arithmetic.AddScalar, arithmetic.SubScalar, arithmetic.MulScalar, arithmetic.DivScalar,
        arithmetic.Add, arithmetic.Sub, arithmetic.Mul, arithmetic.Div, arithmetic.Remainder,
        arithmetic.Neg, arithmetic.Pow, arithmetic.Atan2, arithmetic.LogAddExp,
        arithmetic.Hypot, arithmetic.Xlogy,
        comparison.Where, comparison.Clamp, comparison.Maximum, comparison.Minimum,
        unary._ZeroGrad, unary.NanToNum, unary.Cast, unary.Clone,
        activations.TanhBackward, activations.SigmoidBackward, activations.Relu,
        activations.LeakyRelu, activations.Elu, activations.Gelu, activations.Softplus,
        activations.Hardtanh,
    ]
    for name in ("ReluBackward",):  # relu's one-node backward (on main since 1e173e4)
        c = getattr(activations, name, None)
        if c is not None:
            elementwise.append(c)
    for c in elementwise:
        _RULES[c] = _elementwise
    for c in (reduction.Sum, reduction.Mean, reduction.Prod, reduction.AMax, reduction.PNorm,
              reduction.ZeroNorm):
        _RULES[c] = _shift_dims(1)
    for c in (reduction.Cumsum, reduction.Cumprod, layers.Softmax, layers.LogSoftmax):
        _RULES[c] = _shift_dim(1)
    _RULES[shape.Reshape] = _reshape
    _RULES[shape.Permute] = _permute
    _RULES[shape.Expand] = _expand
    _RULES[shape.GetItem] = _getitem
    _RULES[shape.Cat] = _cat
    _RULES[layers.Linear] = _linear
    _RULES[linalg.MatMul] = _matmul
    _RULES[linalg.Einsum] = _einsum
    _loaded[0] = True


def rules():
    """The node classes that have a batching rule (a dict ``{cls: rule}``)."""
    if not _loaded[0]:
        _load_rules()
    return dict(_RULES)


# ---- autograd.grad inside vmap -----------------------------------------------------------------
def grads_level(outputs, inputs, grad_outputs):
    """The highest vmap level among the arguments of a gradient call (0: none batched)."""
    return _max_level(list(outputs) + list(inputs) + list(grad_outputs))


def physical_grads(outputs, inputs, grad_outputs, level, grads_fn, create_graph):
    """``grads_fn`` (``autograd.func._grads``) on the physical tensors of ``level``: the tape's
    backward of the batched graph is the per-sample backward, because every batching rule maps
    sample ``i`` to sample ``i``. Each input must be batched at ``level`` (the gradient with
    respect to an unbatched input would be summed over samples; :func:`batched_leaf` makes the
    differentiated inputs batched), and each output too (an unbatched output cannot depend on a
    batched input); otherwise ``_Unbatchable`` (loop). Unbatched ``grad_outputs`` are expanded
    to the batch."""
    size = level_size(level)
    # Only the cotangents batched (``vmap(vjp_fn)(basis)``, the graph recorded outside vmap)
    # would need the engine to run the backward formulas on BatchedTensor gradients; it reads
    # their arrays, so that case goes to the loop (the per-sample check below refuses it).
    outs, ins, gouts = [], [], []
    for x in inputs:
        p, b = unwrap(x, level)
        if not b:
            raise _Unbatchable(level)
        ins.append(p)
    for o, g in zip(outputs, grad_outputs):
        po, bo = unwrap(o, level)
        if not bo:
            raise _Unbatchable(level)
        pg, bg = unwrap(g, level)
        if not bg:
            if (pg.__class__ is Tensor and not pg.requires_grad
                    and pg._data.__class__ is np.ndarray):
                arr = pg._data
                pg = Tensor._make(np.ascontiguousarray(np.broadcast_to(
                    arr, (size,) + arr.shape)), False, None)
            else:
                pg = materialize(pg, size)
        outs.append(po)
        gouts.append(pg)
    res = grads_fn(outs, ins, gouts, create_graph)
    return [wrap(r, level) for r in res]


def batched_leaf(t, connected, level):
    """The differentiable copy of an argument that ``grad``/``vjp``/``jacrev`` inside a
    batched vmap differentiate when it is not batched at ``level`` (a parameter shared by all
    samples): expanded to the batch, so that the one backward pass gives the per-sample
    gradients (functorch's result), and wrapped at ``level``. ``connected``: keep it in the
    graph of ``t`` (``create_graph`` with ``t`` requiring grad)."""
    size = level_size(level)
    if connected and t.requires_grad:
        base = materialize(t, size)
    else:
        base = materialize(t.detach(), size).requires_grad_()
    return wrap(base, level)
