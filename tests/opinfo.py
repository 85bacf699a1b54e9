"""The op-test registry: one :class:`OpInfo` per public op of ``autograd.ops`` (PyTorch's
``OpInfo``, minitorch's ``MathTest``), read by ``tests/test_ops_registry.py``, which runs for
every entry:

- ``gradcheck`` in float64 (and ``gradgradcheck`` unless ``gradgrad=False``) over
  hypothesis-drawn shapes (broadcasting pairs for binary ops), also through non-contiguous
  inputs (``relayout``) unless ``layouts=False``;
- the forward against the plain NumPy reference ``ref`` (``tests/references.py`` or NumPy's
  own function) in every dtype of ``dtypes``, the output and gradient dtypes kept (float32 in,
  float32 out), and the ``Tensor`` method of the same name giving the same result;
- forward and a random vector-Jacobian product against PyTorch's ``torch`` (skipped without
  torch).

Adding an op is one line in ``OPS`` below, e.g.::

    OpInfo("exp", A.exp, unary(), np.exp, "exp"),

(name as in the module's ``__all__``; the tapegrad function; a sample generator; the NumPy
reference; PyTorch's name, a dotted path under ``torch`` such as ``"nn.functional.gelu"``, or a
callable ``torch -> function``). A sample generator is ``sample(draw, rng) -> Sample``:
``draw`` is hypothesis's, ``rng`` a seeded NumPy generator; ``Sample(*inputs, args=(),
kwargs={})`` holds the array inputs (float arrays become leaves that require grad, integer and
bool arrays constant tensors, :class:`Const` float arrays constants) and the op's other
arguments; the op is called ``op(*inputs, *args, **kwargs)``, or through ``call(f, *inputs,
*args, **kwargs)`` where the op takes its tensors otherwise (a list for ``cat``, an equation
first for ``einsum``): ``call`` is applied to ours, PyTorch's and the reference alike. The
helpers ``unary``, ``binary``, ``reduce`` build the common samples; for an op named alike in
tapegrad, PyTorch and the reference, as ``exp``, the shorthands :func:`named_op` and
:func:`unary_op` fill in the names (``unary_op("exp")`` is the entry above,
``unary_op("log", "positive")`` draws positive samples). Other fields:
``aliases`` (public names bound to the very same function), ``grad=False`` for ops without a
gradient (bool/integer results: forward checks only), ``torch_grad=False`` where PyTorch's
gradient differs by design (the docstring says so), ``tol``/``torch_tol`` (rtol, atol per dtype)
and ``gradcheck_kw``.

Every public op either has an entry here or is listed, with the reason, in
``COVERED_ELSEWHERE`` (tests/test_ops_registry.py's guard fails otherwise).
"""

import operator
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np
from hypothesis import strategies as st

import autograd as A
from autograd.ops import arithmetic as ops_arithmetic, shape as S, unary as ops_unary
from conftest import broadcastable_shapes, dims_for, shapes, values
import references as R

INF = float("inf")


# ---- the entry -------------------------------------------------------------------------------
class Const:
    """A floating input that does not require grad (class weights, ``like`` arguments)."""

    def __init__(self, array):
        self.array = np.asarray(array)


def sample_tensor(lib, a, dtype, requires_grad=True):
    """A sample's input as a tensor of ``lib`` (tapegrad's ``autograd`` or ``torch``): a float
    array becomes a leaf of ``dtype`` (requiring grad unless ``requires_grad=False``), a
    :class:`Const` a constant of ``dtype``, an integer or bool array a constant of its dtype."""
    if isinstance(a, Const):
        return lib.tensor(a.array.astype(dtype))
    a = np.asarray(a)
    if a.dtype.kind == "f":
        return lib.tensor(a.astype(dtype), requires_grad=requires_grad)
    return lib.tensor(a.copy())


class Sample:
    """The inputs of one call: arrays (or :class:`Const`), then the op's other arguments."""

    def __init__(self, *inputs, args=(), kwargs=None, gradcheck=True):
        self.gradcheck = gradcheck     # False: the gradient is not the finite differences'
        self.inputs = list(inputs)
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})

    def __repr__(self):
        shapes_ = [np.shape(a.array if isinstance(a, Const) else a) for a in self.inputs]
        return f"Sample(shapes={shapes_}, args={self.args}, kwargs={self.kwargs})"


def _default_call(f, *inputs, **kwargs):
    return f(*inputs, **kwargs)


F32 = dict(rtol=2e-4, atol=2e-5)
F64 = dict(rtol=1e-12, atol=1e-14)
TORCH_F64 = dict(rtol=1e-9, atol=1e-11)


@dataclass
class OpInfo:
    name: str
    op: Callable
    sample: Callable
    ref: Optional[Callable] = None
    torch: Any = None
    aliases: tuple = ()
    call: Callable = _default_call
    grad: bool = True
    gradgrad: bool = True
    torch_grad: bool = True
    layouts: bool = True
    method: Any = True          # True: the Tensor method `name` when there is one; a str; None
    dtypes: tuple = ("float32", "float64")
    keeps_dtype: bool = True
    tol: dict = field(default_factory=dict)        # {"float32": {...}, "float64": {...}}
    torch_tol: dict = field(default_factory=dict)
    gradcheck_kw: dict = field(default_factory=dict)

    def ref_tol(self, dtype):
        return self.tol.get(dtype, F32 if dtype == "float32" else F64)

    def torch_tolerance(self, dtype):
        return self.torch_tol.get(dtype, F32 if dtype == "float32" else TORCH_F64)

    def torch_fn(self, torch):
        if callable(self.torch):
            return self.torch(torch)
        f = torch
        for part in self.torch.split("."):
            f = getattr(f, part)
        return f


# ---- values ----------------------------------------------------------------------------------
def arr(rng, shape, kind="normal"):
    """float64 values: conftest's kinds, plus ``offgrid`` (k + U(0.2, 0.8), away from the
    integers and half-integers' neighbours), ``unit`` (U(-0.9, 0.9)), ``act`` (3 N(0, 1)
    pushed 0.05 away from the kinks of the activations), ``zeros`` (N(0, 1), a quarter 0)."""
    shape = tuple(shape)
    if kind == "offgrid":
        return rng.integers(-3, 3, shape) + rng.uniform(0.2, 0.8, shape)
    if kind == "unit":
        return rng.uniform(-0.9, 0.9, shape)
    if kind == "act":
        return push_away(3 * values(rng, shape), ACT_KINKS, 0.05)
    if kind == "zeros":
        x = values(rng, shape)
        return np.where(rng.random(shape) < 0.25, 0.0, x)
    return values(rng, shape, kind)


# the kinks of the activations at the arguments the registry draws (hardtanh's bounds, relu6's
# 6, hardsigmoid's +-3, softplus's threshold / beta)
ACT_KINKS = (-3, -2, -1, 0, 0.25, 0.5, 1, 2, 3, 6, 10)


def push_away(x, points, gap=0.1):
    """``x`` with elements within ``gap`` of a point moved to ``1.5 gap`` from it."""
    x = np.asarray(x, np.float64)
    for p in points:
        p = np.broadcast_to(p, x.shape)
        close = np.abs(x - p) < gap
        x = np.where(close, p + np.where(x >= p, 1.5 * gap, -1.5 * gap), x)
    return x


def _no_tie_pair(rng, sa, sb):
    """|a - b| >= 0.3 for every broadcast pair (maximum/minimum without ties)."""
    a = rng.integers(-3, 3, sa) + 0.25 + rng.uniform(-0.1, 0.1, sa)
    b = rng.integers(-3, 3, sb) + 0.75 + rng.uniform(-0.1, 0.1, sb)
    return np.asarray(a, np.float64), np.asarray(b, np.float64)


def _draw_kwargs(draw, kw):
    return {k: draw(v) if isinstance(v, st.SearchStrategy) else v for k, v in kw.items()}


# ---- common sample generators ----------------------------------------------------------------
def unary(kind="normal", min_dims=0, max_dims=3, min_side=1, **kw):
    """One tensor of a drawn shape; ``kw`` are the op's keyword arguments (strategies drawn)."""
    def sample(draw, rng):
        shape = draw(shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side))
        return Sample(arr(rng, shape, kind), kwargs=_draw_kwargs(draw, kw))
    return sample


def named_op(name, sample, ref=None, **fields):
    """The registry entry of an op whose tapegrad function (``autograd.<name>``) and PyTorch's
    (``torch.<name>``) carry the registry name: samples from ``sample``, the reference ``ref``
    (by default the function of that name in ``tests/references.py``, else NumPy's); ``fields``
    are the other :class:`OpInfo` fields (``aliases``, ``grad``, ...)."""
    if ref is None:
        ref = getattr(R, name, None) or getattr(np, name)
    return OpInfo(name, getattr(A, name), sample, ref, name, **fields)


def unary_op(name, kind="normal", ref=None, **fields):
    """:func:`named_op` for a one-tensor op, with samples from ``unary(kind)``."""
    return named_op(name, unary(kind), ref, **fields)


def binary(ka="normal", kb="normal", n=2, **kw):
    """``n`` tensors of mutually broadcastable shapes."""
    kinds = (ka, kb) + (kb,) * (n - 2)

    def sample(draw, rng):
        bs = draw(broadcastable_shapes(n))
        return Sample(*[arr(rng, s, k) for s, k in zip(bs.input_shapes, kinds)],
                      kwargs=_draw_kwargs(draw, kw))
    return sample


def reduce(kind="normal", min_dims=0, min_side=1, allow_none=True, allow_tuple=True,
           keepdim=True, **kw):
    """One tensor and a ``dim`` (None, an int or a tuple), ``keepdim`` drawn."""
    def sample(draw, rng):
        shape = draw(shapes(min_dims=min_dims, min_side=min_side))
        kwargs = {"dim": draw(dims_for(len(shape), allow_none, allow_tuple))}
        if keepdim:
            kwargs["keepdim"] = draw(st.booleans())
        kwargs.update(_draw_kwargs(draw, kw))
        return Sample(arr(rng, shape, kind), kwargs=kwargs)
    return sample


def _int_dim(draw, ndim):
    return draw(st.integers(-max(ndim, 1), max(ndim, 1) - 1))


# ---- samples of particular ops ---------------------------------------------------------------
def s_pow(draw, rng):
    bs = draw(broadcastable_shapes(2))
    if draw(st.booleans()):
        return Sample(arr(rng, bs.input_shapes[0], "positive"), arr(rng, bs.input_shapes[1]))
    e = draw(st.sampled_from([2, 3, 2.5, -1.5, 0.5]))
    return Sample(arr(rng, bs.input_shapes[0], "positive"), args=(e,))


def s_no_tie(draw, rng):
    bs = draw(broadcastable_shapes(2))
    return Sample(*_no_tie_pair(rng, *bs.input_shapes))


def s_clamp(draw, rng):
    if draw(st.booleans()):
        lo, hi = draw(st.sampled_from([(-0.5, 0.5), (-0.5, None), (None, 0.5)]))
        x = push_away(arr(rng, draw(shapes())), [b for b in (lo, hi) if b is not None])
        return Sample(x, kwargs={"min": lo, "max": hi})
    bs = draw(broadcastable_shapes(3))
    lo = rng.uniform(-1.2, -0.2, bs.input_shapes[1])
    hi = rng.uniform(0.2, 1.2, bs.input_shapes[2])
    full = np.broadcast_shapes(bs.result_shape)
    x = push_away(1.2 * rng.standard_normal(full), [lo, hi], 0.05)
    return Sample(x, lo, hi)


def s_where(draw, rng):
    bs = draw(broadcastable_shapes(3))
    cond = rng.random(bs.input_shapes[0]) < 0.5
    return Sample(cond, arr(rng, bs.input_shapes[1]), arr(rng, bs.input_shapes[2]))


def _broadcastable_to(draw, shape):
    shape = tuple(shape)
    drop = draw(st.integers(0, len(shape)))
    return tuple(1 if draw(st.booleans()) else n for n in shape[drop:])


def s_masked_fill(draw, rng):
    shape = draw(shapes(min_dims=1))
    mask = rng.random(_broadcastable_to(draw, shape)) < 0.5
    if draw(st.booleans()):
        return Sample(arr(rng, shape), mask, np.array(0.3))   # a 0-d tensor value: grad too
    return Sample(arr(rng, shape), mask, args=(-7.0,))


def s_compare(draw, rng):
    bs = draw(broadcastable_shapes(2))
    return Sample(*[np.round(arr(rng, s)) for s in bs.input_shapes])   # ties, both ways


def s_logical(n):
    def sample(draw, rng):
        bs = draw(broadcastable_shapes(n))
        return Sample(*[np.where(rng.random(s) < 0.4, 0.0, arr(rng, s)) for s in
                        bs.input_shapes])
    return sample


def s_special(draw, rng):
    shape = draw(shapes(min_dims=1))
    special = rng.choice([np.nan, np.inf, -np.inf, 1.0], shape, p=[0.2, 0.2, 0.2, 0.4])
    x = np.where(special == 1.0, arr(rng, shape), special)
    return Sample(x)


def s_nan_to_num(draw, rng):
    s = s_special(draw, rng)
    s.kwargs = draw(st.sampled_from([dict(posinf=3.0, neginf=-4.0),
                                     dict(nan=1.5, posinf=9.0, neginf=-9.0)]))
    return s


def s_lerp(draw, rng):
    bs = draw(broadcastable_shapes(3))
    a, b, w = [arr(rng, s) for s in bs.input_shapes]
    if draw(st.booleans()):
        return Sample(a, b, w)
    return Sample(a, b, args=(draw(st.sampled_from([0.0, 0.3, 1.7])),))


def s_cast(draw, rng):
    return Sample(arr(rng, draw(shapes())), args=(draw(st.sampled_from(
        [np.dtype(np.float64), np.dtype(np.float32)])),))


def s_expand_as_copy(draw, rng):
    shape = draw(shapes())
    return Sample(arr(rng, _broadcastable_to(draw, shape)), Const(np.zeros(shape)))


def s_max_min(draw, rng):
    form = draw(st.sampled_from(["all", "dim", "pair"]))
    if form == "pair":
        return s_no_tie(draw, rng)
    shape = draw(shapes(min_dims=0 if form == "all" else 1))
    x = arr(rng, shape, "distinct")
    if form == "all":
        return Sample(x)
    return Sample(x, kwargs=dict(dim=_int_dim(draw, len(shape)), keepdim=draw(st.booleans())))


def s_arg(draw, rng):
    shape = draw(shapes(min_dims=1))
    if draw(st.booleans()):
        return Sample(arr(rng, shape, "distinct"))
    return Sample(arr(rng, shape, "distinct"),
                  kwargs=dict(dim=_int_dim(draw, len(shape)), keepdim=draw(st.booleans())))


def s_var(draw, rng):
    shape = draw(shapes(min_dims=1, min_side=2))
    return Sample(arr(rng, shape), kwargs=dict(
        dim=draw(dims_for(len(shape))), keepdim=draw(st.booleans()),
        correction=draw(st.sampled_from([0, 1]))))


def s_cum(draw, rng):
    shape = draw(shapes())
    return Sample(arr(rng, shape, "zeros"), kwargs=dict(dim=_int_dim(draw, len(shape))))


def s_norm(draw, rng):
    shape = draw(shapes(min_dims=1))
    dim = draw(dims_for(len(shape)))
    if isinstance(dim, tuple) and len(dim) > 2:
        dim = dim[:2]
    x = arr(rng, shape, "distinct")
    x = np.where(np.abs(x) < 0.1, 0.5, x)       # no zeros for p < 1, no ties for inf-norms
    return Sample(x, kwargs=dict(p=draw(st.sampled_from([1, 2, 3, 0.5, 0, INF, -INF, "fro"])),
                                 dim=dim, keepdim=draw(st.booleans())))


def s_logsumexp(draw, rng):
    shape = draw(shapes(min_dims=1))
    scale = draw(st.sampled_from([1.0, 50.0]))
    return Sample(arr(rng, shape) * scale, kwargs=dict(
        dim=draw(dims_for(len(shape), allow_none=False)), keepdim=draw(st.booleans())))


def s_count_nonzero(draw, rng):
    shape = draw(shapes(min_dims=1))
    return Sample(arr(rng, shape, "zeros"),
                  kwargs=dict(dim=draw(dims_for(len(shape), allow_tuple=False))))


def s_reshape(draw, rng):
    shape = draw(shapes())
    n = int(np.prod(shape, dtype=np.int64))
    target = draw(st.sampled_from([(-1,), (n,), (1, n), tuple(reversed(shape)),
                                   (1,) + tuple(shape)]))
    if target and draw(st.booleans()):
        return Sample(arr(rng, shape), args=target)      # x.reshape(2, 3)
    return Sample(arr(rng, shape), args=(target,))       # x.reshape((2, 3))


def s_view_as(draw, rng):
    shape = draw(shapes())
    n = int(np.prod(shape, dtype=np.int64))
    return Sample(arr(rng, shape), Const(np.zeros(draw(st.sampled_from([(n,), (1, n)])))))


def s_flatten(draw, rng):
    shape = draw(shapes())
    nd = max(len(shape), 1)
    s = draw(st.integers(-nd, nd - 1))
    e = draw(st.integers(s % nd, nd - 1))
    return Sample(arr(rng, shape), kwargs=dict(start_dim=s, end_dim=e))


def s_unflatten(draw, rng):
    shape = draw(shapes(min_dims=1))
    d = _int_dim(draw, len(shape))
    n = shape[d]
    sizes = draw(st.sampled_from([(n,), (1, n), (n, 1), (-1, 1)]))
    return Sample(arr(rng, shape), args=(d, sizes))


def s_squeeze(draw, rng):
    shape = draw(shapes(max_side=2))
    form = draw(st.sampled_from(["none", "int", "tuple"]))
    if form == "none" or not shape:
        return Sample(arr(rng, shape))
    if form == "int":
        return Sample(arr(rng, shape), args=(_int_dim(draw, len(shape)),))
    return Sample(arr(rng, shape), args=(tuple(draw(st.lists(
        st.integers(0, len(shape) - 1), min_size=1, unique=True))),))


def s_unsqueeze(draw, rng):
    shape = draw(shapes())
    return Sample(arr(rng, shape), args=(draw(st.integers(-len(shape) - 1, len(shape))),))


def s_transpose(draw, rng):
    shape = draw(shapes(min_dims=1))
    return Sample(arr(rng, shape), args=(_int_dim(draw, len(shape)), _int_dim(draw, len(shape))))


def s_permute(draw, rng):
    shape = draw(shapes(min_dims=1))
    perm = tuple(draw(st.permutations(range(len(shape)))))
    if draw(st.booleans()):
        perm = tuple(p - len(shape) if i % 2 else p for i, p in enumerate(perm))
    return Sample(arr(rng, shape), args=perm if draw(st.booleans()) else (perm,))


def s_movedim(draw, rng):
    shape = draw(shapes(min_dims=1))
    return Sample(arr(rng, shape), args=(_int_dim(draw, len(shape)), _int_dim(draw, len(shape))))


def s_t(draw, rng):
    return Sample(arr(rng, draw(shapes(max_dims=2))))


def s_expand(draw, rng):
    shape = draw(shapes(max_side=3))
    sizes = (2,) + tuple(draw(st.sampled_from([3, -1])) if n == 1 else
                         draw(st.sampled_from([n, -1])) for n in shape)
    if draw(st.booleans()):
        return Sample(arr(rng, shape), args=sizes)
    return Sample(arr(rng, shape), args=(sizes,))


def s_expand_as(draw, rng):
    shape = draw(shapes(max_side=3))
    full = (2,) + tuple(3 if n == 1 else n for n in shape)
    return Sample(arr(rng, shape), Const(np.zeros(full)))


def s_broadcast_to(draw, rng):
    shape = draw(shapes(max_side=3))
    return Sample(arr(rng, shape), args=((2,) + tuple(3 if n == 1 else n for n in shape),))


def s_repeat(draw, rng):
    shape = draw(shapes(max_side=3))
    reps = tuple(draw(st.integers(1, 2)) for _ in range(len(shape) + draw(st.integers(0, 1))))
    reps = reps or (2,)
    return Sample(arr(rng, shape), args=reps)


def s_tile(draw, rng):
    shape = draw(shapes(max_side=3))
    return Sample(arr(rng, shape), args=(tuple(draw(st.lists(st.integers(1, 2), min_size=1,
                                                             max_size=4))),))


@st.composite
def basic_index(draw, shape):
    """ints, positive-step slices, None and Ellipsis (what NumPy and PyTorch share)."""
    out = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "none", "full", "ellipsis"]))
        if kind == "int":
            out.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            out.append(slice(draw(st.integers(0, n - 1)), draw(st.integers(1, n)),
                             draw(st.integers(1, 2))))
        elif kind == "none":
            out.extend([None, slice(None)])
        elif kind == "ellipsis":
            out.append(Ellipsis)
            break
        else:
            out.append(slice(None))
    return tuple(out)


def _build_index(form, *arrays):
    """An index from a form and its arrays (passed as op inputs, so each library gets its own
    tensors): ``"basic:<repr>"`` uses no array."""
    if form == "one":
        return arrays[0]
    if form == "pair":
        return tuple(arrays)
    if form == "slice+arr":
        return (slice(None), arrays[0])
    raise ValueError(form)


def s_getitem(draw, rng):
    shape = draw(shapes(min_dims=1, min_side=1))
    form = draw(st.sampled_from(["basic", "one", "mask", "pair", "slice+arr"]))
    x = arr(rng, shape)
    if form == "basic" or (form in ("pair", "slice+arr") and len(shape) < 2):
        return Sample(x, kwargs=dict(index=draw(basic_index(shape))))
    if form == "one":    # repeated indices accumulate
        return Sample(x, rng.integers(0, shape[0], 5), kwargs=dict(form="one"))
    if form == "mask":
        return Sample(x, rng.random(shape) < 0.5, kwargs=dict(form="one"))
    if form == "pair":
        return Sample(x, rng.integers(0, shape[0], 3), rng.integers(0, shape[1], 3),
                      kwargs=dict(form="pair"))
    return Sample(x, rng.integers(0, shape[1], (2, 2)), kwargs=dict(form="slice+arr"))


def call_getitem(f, x, *arrays, index=None, form=None):
    return f(x, index if form is None else _build_index(form, *arrays))


def s_setitem(draw, rng):
    shape = draw(shapes(min_dims=2, max_dims=3, min_side=2))
    form = draw(st.sampled_from(["slice", "int", "arr", "mask", "scalar"]))
    x = arr(rng, shape)
    if form == "slice":
        return Sample(x, arr(rng, (shape[0], 1) + shape[2:]),
                      kwargs=dict(index=(slice(None), slice(0, 1))))
    if form == "int":
        return Sample(x, arr(rng, shape[-1:]), kwargs=dict(index=1))
    if form == "scalar":
        return Sample(x, kwargs=dict(index=(0, Ellipsis), value=2.5))
    if form == "arr":
        return Sample(x, arr(rng, (1,) + shape[1:]), np.array([1, 0]), kwargs=dict(form="one"))
    return Sample(x, arr(rng, ()), rng.random(shape) < 0.5, kwargs=dict(form="one"))


def call_setitem(f, x, *rest, index=None, form=None, value=None):
    """``y = 2 x; f(y, index, value); y.sin()`` (``f`` is ``setitem`` or
    ``operator.setitem``): a write into a non-leaf, differentiable for both."""
    if value is None:
        value, rest = rest[0], rest[1:]
    y = x * 2.0
    f(y, index if form is None else _build_index(form, *rest), value)
    return y * y


def s_cat(draw, rng):
    shape = draw(shapes(min_dims=1))
    d = _int_dim(draw, len(shape))
    other = list(shape)
    other[d] = draw(st.integers(1, 3))
    return Sample(arr(rng, shape), arr(rng, other), arr(rng, shape), kwargs=dict(dim=d))


def s_stack(draw, rng):
    shape = draw(shapes())
    d = draw(st.integers(-len(shape) - 1, len(shape)))
    return Sample(*[arr(rng, shape) for _ in range(draw(st.integers(1, 3)))], kwargs=dict(dim=d))


def call_list(f, *tensors, **kwargs):
    return f(list(tensors), **kwargs)


def s_split(draw, rng):
    shape = draw(shapes(min_dims=1))
    d = _int_dim(draw, len(shape))
    n = shape[d]
    if draw(st.booleans()):
        return Sample(arr(rng, shape), args=(draw(st.integers(1, 4)),), kwargs=dict(dim=d))
    cut = draw(st.integers(0, n))
    return Sample(arr(rng, shape), args=([cut, n - cut],), kwargs=dict(dim=d))


def s_chunk(draw, rng):
    shape = draw(shapes(min_dims=1))
    return Sample(arr(rng, shape), args=(draw(st.integers(1, 4)),),
                  kwargs=dict(dim=_int_dim(draw, len(shape))))


def s_unbind(draw, rng):
    shape = draw(shapes(min_dims=1))
    return Sample(arr(rng, shape), kwargs=dict(dim=_int_dim(draw, len(shape))))


def s_narrow(draw, rng):
    shape = draw(shapes(min_dims=1))
    d = _int_dim(draw, len(shape))
    n = shape[d]
    start = draw(st.integers(0, n - 1))
    return Sample(arr(rng, shape), args=(d, start, draw(st.integers(0, n - start))))


def s_flip(draw, rng):
    shape = draw(shapes(min_dims=1))
    dims = tuple(draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True)))
    return Sample(arr(rng, shape), args=(dims,))


def s_roll(draw, rng):
    shape = draw(shapes(min_dims=1))
    nd = len(shape)
    if draw(st.booleans()):
        return Sample(arr(rng, shape), args=(draw(st.integers(-7, 7)),))
    dims = tuple(draw(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=nd,
                               unique_by=lambda d: d % nd)))
    return Sample(arr(rng, shape), args=(tuple(draw(st.integers(-5, 5)) for _ in dims), dims))


def _index_along(draw, rng, shape, d, distinct):
    """An index tensor for gather/scatter along ``d``: each size at most input's (along ``d``
    at most ``shape[d]``), distinct values along ``d`` when ``distinct``."""
    nd = len(shape)
    k = draw(st.integers(1, shape[d]))
    ishape = tuple(k if i == d % nd else draw(st.integers(1, n)) for i, n in enumerate(shape))
    if not distinct:
        return rng.integers(0, shape[d], ishape)
    full = tuple(shape[d] if i == d % nd else n for i, n in enumerate(ishape))
    idx = np.argsort(rng.random(full), axis=d)
    return np.take(idx, np.arange(k), axis=d)


def s_gather(draw, rng):
    shape = draw(shapes(min_dims=1))
    d = _int_dim(draw, len(shape))
    return Sample(arr(rng, shape), _index_along(draw, rng, shape, d, False), kwargs=dict(dim=d))


def call_dim_index(f, x, index, *rest, dim, **kw):
    """``f(x, dim, index, *rest)`` (gather, scatter, scatter_add, index_select, ...)."""
    return f(x, dim, index, *rest, **kw)


def s_scatter(draw, rng):
    shape = draw(shapes(min_dims=1))
    d = _int_dim(draw, len(shape))
    idx = _index_along(draw, rng, shape, d, True)   # no colliding writes
    if draw(st.booleans()):
        return Sample(arr(rng, shape), idx, kwargs=dict(dim=d, value=2.5))
    # src of index's shape: PyTorch's backward needs it (test_ops_grad checks a larger src)
    return Sample(arr(rng, shape), idx, arr(rng, idx.shape), kwargs=dict(dim=d))


def s_scatter_add(draw, rng):
    shape = draw(shapes(min_dims=1))
    d = _int_dim(draw, len(shape))
    idx = _index_along(draw, rng, shape, d, False)   # repeats accumulate
    return Sample(arr(rng, shape), idx, arr(rng, idx.shape), kwargs=dict(dim=d))


def s_index_select(draw, rng):
    shape = draw(shapes(min_dims=1))
    d = _int_dim(draw, len(shape))
    return Sample(arr(rng, shape), rng.integers(0, shape[d], draw(st.integers(0, 5))),
                  kwargs=dict(dim=d))


def s_masked_select(draw, rng):
    shape = draw(shapes(min_dims=1))
    return Sample(arr(rng, shape), rng.random(_broadcastable_to(draw, shape)) < 0.5)


def s_take_along_dim(draw, rng):
    shape = draw(shapes(min_dims=1))
    nd = len(shape)
    if draw(st.booleans()):
        return Sample(arr(rng, shape), rng.integers(0, int(np.prod(shape)), (3,)))
    d = _int_dim(draw, nd)
    tshape = tuple(draw(st.sampled_from([1, 3])) if i == d % nd else
                   draw(st.sampled_from([1, n])) for i, n in enumerate(shape))
    return Sample(arr(rng, shape), rng.integers(0, shape[d], tshape), kwargs=dict(dim=d))


def s_tri(draw, rng):
    return Sample(arr(rng, draw(shapes(min_dims=2))), args=(draw(st.integers(-3, 3)),))


def s_diag(draw, rng):
    shape = draw(st.sampled_from([(draw(st.integers(1, 4)),),
                                  (draw(st.integers(1, 4)), draw(st.integers(1, 4)))]))
    return Sample(arr(rng, shape), args=(draw(st.integers(-3, 3)),))


def s_diagonal(draw, rng):
    shape = draw(shapes(min_dims=2))
    nd = len(shape)
    d1 = draw(st.integers(-nd, nd - 1))
    d2 = draw(st.integers(-nd, nd - 1).filter(lambda v: v % nd != d1 % nd))
    return Sample(arr(rng, shape), args=(draw(st.integers(-3, 3)), d1, d2))


def s_pad(draw, rng):
    mode = draw(st.sampled_from(["constant", "constant", "reflect", "replicate", "circular"]))
    if mode == "constant":      # any number of dims, any number of padded dims
        nd = draw(st.integers(1, 4))
        shape = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    else:                       # PyTorch's layouts: 1-3 padded dims after 1 or 2 others
        nd = draw(st.integers(2, 4))
        k = draw(st.sampled_from([v for v in (nd - 2, nd - 1) if 1 <= v <= 3]))
        shape = tuple(draw(st.integers(1, 4)) for _ in range(nd - k)) + \
            tuple(draw(st.integers(2, 4)) for _ in range(k))
    if mode != "constant":
        widths = []
        for i in range(k):
            n = shape[nd - 1 - i]
            widths += [draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))]
        return Sample(arr(rng, shape), args=(widths,), kwargs=dict(mode=mode))
    # negative widths crop (at most one from each side of a dim of size >= 3)
    widths = [draw(st.integers(-1 if shape[nd - 1 - i // 2] >= 3 else 0, 3))
              for i in range(2 * draw(st.integers(1, nd)))]
    return Sample(arr(rng, shape), args=(widths,),
                  kwargs=dict(value=draw(st.sampled_from([None, 0.0, -1.5]))))


def s_index_add(draw, rng, distinct=False, fill=False):
    shape = draw(shapes(min_dims=1))
    nd = len(shape)
    d = _int_dim(draw, nd)
    k = draw(st.integers(1, shape[d]))
    idx = rng.permutation(shape[d])[:k] if distinct else rng.integers(0, shape[d], k)
    src_shape = tuple(k if i == d % nd else n for i, n in enumerate(shape))
    if fill:
        return Sample(arr(rng, shape), idx, kwargs=dict(dim=d, value=-1.5))
    kw = dict(dim=d)
    if not distinct and draw(st.booleans()):
        kw["alpha"] = 0.5
    return Sample(arr(rng, shape), idx, arr(rng, src_shape), kwargs=kw)


def call_index_fill(f, x, index, dim, value):
    return f(x, dim, index, value)


def s_index_put(draw, rng):
    shape = draw(shapes(min_dims=1, min_side=2))
    acc = draw(st.booleans())
    n = 4
    idx = rng.integers(0, shape[0], n) if acc else rng.permutation(shape[0])[:2]
    vals = arr(rng, (len(idx),) + shape[1:]) if draw(st.booleans()) or len(shape) == 1 \
        else arr(rng, shape[-1:])
    return Sample(arr(rng, shape), vals, idx, kwargs=dict(accumulate=acc))


def call_index_put(f, x, values_, *indices, accumulate):
    return f(x, tuple(indices), values_, accumulate)


def s_take(draw, rng):
    shape = draw(shapes())
    n = int(np.prod(shape, dtype=np.int64))
    return Sample(arr(rng, shape), rng.integers(-n, n, draw(shapes(max_dims=2))))


def s_put(draw, rng):
    shape = draw(shapes(min_side=2))
    n = int(np.prod(shape, dtype=np.int64))
    acc = draw(st.booleans())
    k = draw(st.integers(1, n))
    idx = rng.integers(0, n, k) if acc else rng.permutation(n)[:k]
    return Sample(arr(rng, shape), idx, arr(rng, (k,)), kwargs=dict(accumulate=acc))


def s_masked_scatter(draw, rng):
    shape = draw(shapes(min_dims=1))
    mask = rng.random(_broadcastable_to(draw, shape)) < 0.5
    n = int(np.prod(shape, dtype=np.int64))
    return Sample(arr(rng, shape), mask, arr(rng, (n + draw(st.integers(0, 2)),)))


def s_nonzero(draw, rng):
    return Sample(arr(rng, draw(shapes()), "zeros"))


def s_repeat_interleave(draw, rng):
    shape = draw(shapes(min_dims=1))
    if draw(st.booleans()):
        return Sample(arr(rng, shape), args=(draw(st.integers(1, 3)),))
    d = _int_dim(draw, len(shape))
    return Sample(arr(rng, shape), rng.integers(0, 3, shape[d]), kwargs=dict(dim=d))


# ---- linalg ------------------------------------------------------------------------------------
def s_matmul(draw, rng):
    bs = draw(broadcastable_shapes(2, max_dims=2, max_side=3))
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    form = draw(st.sampled_from(["batched", "vec-mat", "mat-vec", "vec-vec", "2d"]))
    sa = {"batched": bs.input_shapes[0] + (n, k), "vec-mat": (k,), "2d": (n, k),
          "mat-vec": bs.input_shapes[0] + (n, k), "vec-vec": (k,)}[form]
    sb = {"batched": bs.input_shapes[1] + (k, m), "vec-mat": bs.input_shapes[1] + (k, m),
          "mat-vec": (k,), "vec-vec": (k,), "2d": (k, m)}[form]
    return Sample(arr(rng, sa), arr(rng, sb))


def s_shapes(*dims_of):
    """Inputs of shapes built from drawn sizes: ``s_shapes("nk", "km")``."""
    def sample(draw, rng):
        size = {c: draw(st.integers(1, 4)) for c in sorted(set("".join(dims_of)))}
        return Sample(*[arr(rng, tuple(size[c] for c in d)) for d in dims_of])
    return sample


EINSUM = [("ij,jk->ik", "ij jk"), ("ij,jk", "ij jk"), ("bij,bjk->bik", "bij bjk"),
          ("i,j->ij", "i j"), ("ij->j", "ij"), ("ij->i", "ij"), ("ijk->ik", "ijk"),
          ("ij->", "ij"), ("ij->ji", "ij"), ("ij,ij->ij", "ij ij"), ("ij,ij->", "ij ij"),
          ("i,i->", "i i"), ("ijk,k->ij", "ijk k"), ("ij,jk,kl->il", "ij jk kl"),
          ("bhid,bhjd->bhij", "bhid bhjd"), ("...ij,...jk->...ik", "zij zjk"),
          ("ij,kl->ijkl", "ij kl"), ("ijk,ikl->jl", "ijk ikl")]


def s_einsum(draw, rng):
    eq, subs = draw(st.sampled_from(EINSUM))
    size = {c: draw(st.integers(1, 3)) for c in sorted(set(subs.replace(" ", "")))}
    broadcast = draw(st.booleans())  # some subscripts of size 1 in one operand
    return Sample(*[arr(rng, tuple(1 if broadcast and draw(st.booleans()) else size[c]
                                   for c in s)) for s in subs.split()],
                  kwargs=dict(eq=eq, as_list=draw(st.booleans())))


def call_einsum(f, *operands, eq, as_list=False):
    """``f(eq, *operands)``, or ``f(eq, [operands])`` (both forms are PyTorch's)."""
    return f(eq, list(operands)) if as_list else f(eq, *operands)


def s_tensordot(draw, rng):
    a = draw(shapes(min_dims=1, max_dims=3))
    if draw(st.booleans()):
        d = draw(st.integers(0, min(2, len(a))))
        b = a[len(a) - d:] + draw(shapes(max_dims=2))
        return Sample(arr(rng, a), arr(rng, b), kwargs=dict(dims=d))
    i = draw(st.integers(0, len(a) - 1))
    c = (a[i],) + draw(shapes(max_dims=2))
    return Sample(arr(rng, a), arr(rng, c), kwargs=dict(dims=([i], [0])))


def s_square_matrix(draw, rng):
    """Well-conditioned (batches of) square matrices; det's sign varies."""
    batch = draw(shapes(max_dims=1, max_side=2))
    n = draw(st.integers(1, 3))
    a = arr(rng, batch + (n, n)) * 0.3 + np.eye(n)
    if draw(st.booleans()):
        a = -a
    return Sample(a)


def s_spd(draw, rng):
    batch = draw(shapes(max_dims=1, max_side=2))
    n = draw(st.integers(1, 3))
    a = arr(rng, batch + (n, n)) * 0.3 + np.eye(n)
    return Sample(a)


# ---- nn ops ------------------------------------------------------------------------------------
def s_softmax(draw, rng):
    shape = draw(shapes(min_dims=1))
    return Sample(arr(rng, shape) * draw(st.sampled_from([1.0, 30.0])),
                  kwargs=dict(dim=_int_dim(draw, len(shape))))


def s_linear(draw, rng):
    lead = draw(shapes(max_dims=2))
    fin, fout = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    x, w = arr(rng, lead + (fin,)), arr(rng, (fout, fin))
    if draw(st.booleans()):
        return Sample(x, w, arr(rng, (fout,)))
    return Sample(x, w)


def s_conv(nd, transpose=False):
    def sample(draw, rng):
        n, groups = draw(st.integers(1, 2)), draw(st.sampled_from([1, 2]))
        cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
        k = draw(st.integers(1, 3))
        stride, dilation = draw(st.integers(1, 2)), draw(st.integers(1, 2))
        padding = draw(st.integers(0, 1))
        if transpose:   # a positive output size: 2 padding <= dilation (k - 1)
            padding = min(padding, dilation * (k - 1) // 2)
        size = (dilation * (k - 1) + 1) + draw(st.integers(0, 2))
        x = arr(rng, (n, cin) + (size,) * nd)
        wshape = ((cin, cout // groups) if transpose else (cout, cin // groups)) + (k,) * nd
        w = arr(rng, wshape)
        b = arr(rng, (cout,))
        kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        if transpose:
            kw["output_padding"] = draw(st.integers(0, max(stride, dilation) - 1))
        return Sample(x, w, b, kwargs=kw) if draw(st.booleans()) else Sample(x, w, kwargs=kw)
    return sample


def s_pool(nd, avg=False):
    def sample(draw, rng):
        k = draw(st.integers(1, 3))
        stride = draw(st.sampled_from([None, 1, 2]))
        padding = draw(st.integers(0, k // 2))
        size = k + draw(st.integers(0, 3))
        x = arr(rng, (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + (size,) * nd,
                "distinct")
        kw = dict(stride=stride, padding=padding, ceil_mode=draw(st.booleans()))
        if avg:
            kw["count_include_pad"] = draw(st.booleans())
        else:
            kw["dilation"] = 1
        return Sample(x, args=(k,), kwargs=kw)
    return sample


def s_adaptive(draw, rng):
    H, W = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    x = arr(rng, (draw(st.integers(1, 2)), 2, H, W), "distinct")
    return Sample(x, args=((draw(st.integers(1, H)), draw(st.integers(1, W))),))


def s_nll_loss(draw, rng):
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 4))
    spatial = draw(shapes(max_dims=1))
    target = rng.integers(0, c, (n,) + spatial)
    ignore = int(target.reshape(-1)[-1]) if draw(st.booleans()) else -100
    if ignore != -100 and np.all(target == ignore):
        ignore = -100
    kw = dict(ignore_index=ignore, reduction=draw(st.sampled_from(["mean", "sum", "none"])))
    logp = R.log_softmax(arr(rng, (n, c) + spatial), 1)
    if draw(st.booleans()):
        kw["weight"] = Const(rng.uniform(0.5, 2.0, c))
    return Sample(logp, target, kwargs=kw)


def s_sdpa(draw, rng):
    N, H = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    L, Sn, E_, Ev = (draw(st.integers(1, 3)) for _ in range(4))
    q, k, v = arr(rng, (N, H, L, E_)), arr(rng, (N, H, Sn, E_)), arr(rng, (N, H, Sn, Ev))
    kw = dict(is_causal=draw(st.booleans()) and L <= Sn)
    if draw(st.booleans()):
        kw["scale"] = 0.5
    return Sample(q, k, v, kwargs=kw)


def s_layer_norm(draw, rng):
    shape = draw(shapes(min_dims=1, max_dims=3, min_side=2))
    k = draw(st.integers(1, len(shape)))
    ns = shape[len(shape) - k:]
    if draw(st.booleans()):
        return Sample(arr(rng, shape), arr(rng, ns), arr(rng, ns), kwargs=dict(
            normalized_shape=ns))
    return Sample(arr(rng, shape), kwargs=dict(normalized_shape=ns))


def call_layer_norm(f, x, *wb, normalized_shape):
    return f(x, normalized_shape, *wb)


def s_group_norm(draw, rng):
    g = draw(st.integers(1, 2))
    C = g * draw(st.integers(1, 2))
    shape = (draw(st.integers(1, 2)), C) + draw(shapes(min_dims=1, max_dims=2, min_side=2))
    if draw(st.booleans()):
        return Sample(arr(rng, shape), arr(rng, (C,)), arr(rng, (C,)), kwargs=dict(num_groups=g))
    return Sample(arr(rng, shape), kwargs=dict(num_groups=g))


def call_group_norm(f, x, *wb, num_groups):
    return f(x, num_groups, *wb)


def s_embedding(draw, rng):
    num, D = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    idx = rng.integers(0, num, draw(shapes(max_dims=2)))
    if draw(st.booleans()):
        # padding_idx's row gets no gradient by definition: no finite-difference check
        return Sample(idx, arr(rng, (num, D)), kwargs=dict(padding_idx=int(rng.integers(0, num))),
                      gradcheck=False)
    return Sample(idx, arr(rng, (num, D)))


# ---- ops added to main after the registry -----------------------------------------------------
def s_addc(div):
    """addcmul / addcdiv: three broadcastable tensors (tensor2 away from 0 for addcdiv) and a
    drawn ``value``."""
    def sample(draw, rng):
        bs = draw(broadcastable_shapes(3))
        a, b, c = (arr(rng, s, k) for s, k in
                   zip(bs.input_shapes, ("normal", "normal", "away0" if div else "normal")))
        return Sample(a, b, c, kwargs=dict(value=draw(st.sampled_from([1, 0.5, -2.0]))))
    return sample


def s_fmod(draw, rng):
    """``input = q * other`` with ``q`` off the integers: ``trunc(input / other)`` (the
    gradient of ``other``) is constant within gradcheck's reach."""
    bs = draw(broadcastable_shapes(2))
    full = np.broadcast_shapes(*bs.input_shapes)
    b = arr(rng, bs.input_shapes[1], "away0")
    return Sample(arr(rng, full, "offgrid") * b, b)


def s_xlogy(draw, rng):
    bs = draw(broadcastable_shapes(2))
    return Sample(arr(rng, bs.input_shapes[0], "zeros"), arr(rng, bs.input_shapes[1],
                                                               "positive"))


def s_bitwise(n):
    """Integer (negative ones too) or bool tensors: no gradient."""
    def sample(draw, rng):
        bs = draw(broadcastable_shapes(n))
        if draw(st.booleans()):
            return Sample(*[rng.random(s) < 0.5 for s in bs.input_shapes])
        return Sample(*[rng.integers(-20, 20, s) for s in bs.input_shapes])
    return sample


def s_isclose(draw, rng):
    """Pairs differing by 0.3 or 3 times the tolerance (never at its edge), with NaN and
    infinities (equal ones too) and ``equal_nan`` drawn."""
    shape = draw(shapes())
    rtol, atol = draw(st.sampled_from([(1e-5, 1e-8), (1e-3, 1e-4), (0.0, 1e-2)]))
    b = arr(rng, shape)
    gap = rng.choice([0.3, 3.0], shape) * (atol + rtol * np.abs(b)) * rng.choice([-1, 1], shape)
    a = b + gap
    special = rng.choice([np.nan, np.inf, -np.inf, 0.0], shape, p=[0.1, 0.05, 0.05, 0.8])
    a = np.where(special != 0, special, a)
    b = np.where((special != 0) & (rng.random(shape) < 0.5), special, b)
    return Sample(a, b, kwargs=dict(rtol=rtol, atol=atol, equal_nan=draw(st.booleans())))


def s_equal(draw, rng):
    """Equal tensors, one element changed, or another shape (NaN is not equal to itself)."""
    shape = draw(shapes())
    a = np.round(arr(rng, shape), 1)
    form = draw(st.sampled_from(["same", "changed", "shape", "nan"]))
    if form == "shape":
        return Sample(a, np.zeros(shape + (1,)))
    b = a.copy()
    if form == "changed":
        b.reshape(-1)[rng.integers(b.size)] += 0.5
    if form == "nan":
        a = a.copy()
        a.reshape(-1)[0] = b.reshape(-1)[0] = np.nan
    return Sample(a, b)


def call_bool(f, *inputs, **kwargs):
    """allclose / equal return a Python bool: checked, then made a 0-d tensor of the caller's
    library (ours, PyTorch's or NumPy) so that the registry compares it."""
    out = f(*inputs, **kwargs)
    assert type(out) is bool, f"{f}: returned {type(out).__name__}, not bool"
    x = inputs[0]
    if isinstance(x, np.ndarray):
        return np.array(out)
    if isinstance(x, A.Tensor):
        return A.tensor(out)
    return x.new_tensor(out).bool()     # torch (new_tensor keeps x's float dtype)


def s_cross(draw, rng):
    shape = list(draw(shapes(min_dims=1, max_side=3)))
    d = _int_dim(draw, len(shape))
    shape[d] = 3
    other = [1 if draw(st.booleans()) and i != d % len(shape) else n
             for i, n in enumerate(shape)]    # broadcasting the other dimensions
    return Sample(arr(rng, shape), arr(rng, other), kwargs=dict(dim=d))


def s_diff(draw, rng):
    shape = draw(shapes(min_dims=1))
    d = _int_dim(draw, len(shape))
    n = draw(st.integers(0, 3))
    parts, kw = [arr(rng, shape)], dict(n=n, dim=d)
    for side in ("prepend", "append"):
        if draw(st.booleans()):
            s = list(shape)
            s[d] = draw(st.integers(1, 2))
            parts.append(arr(rng, s))
            kw[side] = True
    return Sample(*parts, kwargs=kw)


def call_diff(f, x, *rest, n, dim, prepend=False, append=False):
    rest = list(rest)
    pre = rest.pop(0) if prepend else None
    app = rest.pop(0) if append else None
    return f(x, n, dim, pre, app)


def s_select(draw, rng):
    shape = draw(shapes(min_dims=1))
    d = _int_dim(draw, len(shape))
    return Sample(arr(rng, shape), args=(d, draw(st.integers(-shape[d], shape[d] - 1))))


def s_trace(draw, rng):
    return Sample(arr(rng, draw(shapes(min_dims=2, max_dims=2))))


def _nan_where_no_zero_coord(rng, x, p=0.3):
    """``x`` with NaN at some elements none of whose coordinates is 0: every slice of a
    reduction over any dims keeps its element at 0 along those dims, so none is all NaN."""
    if x.ndim == 0:
        return x
    grid = np.ones(x.shape, bool)
    for ax in range(x.ndim):
        shape = [1] * x.ndim
        shape[ax] = x.shape[ax]
        grid &= (np.arange(x.shape[ax]) > 0).reshape(shape)
    return np.where(grid & (rng.random(x.shape) < p), np.nan, x)


def s_nanreduce(draw, rng):
    s = reduce()(draw, rng)
    s.inputs[0] = _nan_where_no_zero_coord(rng, s.inputs[0])
    return s


def s_sort(draw, rng):
    shape = draw(shapes(min_dims=1))
    return Sample(arr(rng, shape, "distinct"), kwargs=dict(        # no ties
        dim=_int_dim(draw, len(shape)), descending=draw(st.booleans())))


def s_topk(draw, rng):
    shape = draw(shapes(min_dims=1))
    d = _int_dim(draw, len(shape))
    return Sample(arr(rng, shape, "distinct"), args=(draw(st.integers(0, shape[d])),),
                  kwargs=dict(dim=d, largest=draw(st.booleans())))


def s_kthvalue(draw, rng):
    shape = draw(shapes(min_dims=1))
    d = _int_dim(draw, len(shape))
    return Sample(arr(rng, shape, "distinct"), args=(draw(st.integers(1, shape[d])),),
                  kwargs=dict(dim=d, keepdim=draw(st.booleans())))


def s_median(draw, rng):
    """No ties (the gradient at a tie is PyTorch's choice of one element); odd and even
    counts (the lower median)."""
    shape = draw(shapes(min_dims=0 if draw(st.booleans()) else 1))
    x = arr(rng, shape, "distinct")
    if not shape or draw(st.booleans()):
        return Sample(x)
    return Sample(x, kwargs=dict(dim=_int_dim(draw, len(shape)), keepdim=draw(st.booleans())))


def s_nanmedian(draw, rng):
    """:func:`s_median` with NaN, none of its slices all NaN: there PyTorch's index is its
    partial sort's pick of one NaN (and the gradient goes to it), not a defined value."""
    s = s_median(draw, rng)
    s.inputs[0] = _nan_where_no_zero_coord(rng, s.inputs[0])
    return s


def s_unique(draw, rng):
    shape = draw(shapes())
    x = np.round(arr(rng, shape))      # repeats
    kw = dict(return_inverse=draw(st.booleans()), return_counts=draw(st.booleans()))
    if shape and draw(st.booleans()):
        d = _int_dim(draw, len(shape))
        if draw(st.booleans()):        # repeated slices along d
            x = np.take(x, rng.integers(0, shape[d], shape[d]), axis=d)
        kw["dim"] = d
    return Sample(x, kwargs=kw)


def s_unique_consecutive(draw, rng):
    s = s_unique(draw, rng)
    x = s.inputs[0]
    if x.ndim:                          # runs: sorted along the first dim
        s.inputs[0] = np.sort(x, axis=0) if draw(st.booleans()) else x
    return s


def s_svd(draw, rng):
    """``Q1 diag(s) Q2^T`` with well separated singular values (0.7 apart, >= 0.5): SVD's
    gradient grows as 1 / (s_i - s_j)."""
    batch = draw(shapes(max_dims=1, max_side=2))
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    k = min(m, n)
    q1 = np.linalg.qr(rng.standard_normal(batch + (m, m)))[0][..., :k]
    q2 = np.linalg.qr(rng.standard_normal(batch + (n, n)))[0][..., :k]
    s = 0.5 + 0.7 * rng.permutation(k) + rng.uniform(0, 0.1, batch + (k,))
    x = (q1 * s[..., None, :]) @ np.swapaxes(q2, -1, -2)
    return Sample(x, kwargs=dict(compute_uv=draw(st.booleans())))


def call_svd(f, x, compute_uv=True):
    """``torch.svd``'s factors are unique up to a sign per singular pair (PyTorch's OpInfo
    checks such gauge-invariant functions): ``S`` and ``U V^T`` (``sum_i u_i v_i^T``); with
    ``compute_uv=False``, ``S`` (``U`` and ``V`` must be zero there)."""
    U, S, V = f(x, some=True, compute_uv=compute_uv)
    if not compute_uv:
        assert not np.any(np.asarray(U.detach() if hasattr(U, "detach") else U))
        return S
    return S, U @ V.mT


# ---- the registry ------------------------------------------------------------------------------
_nf = "nn.functional."
ACT = "act"
_slopes = st.sampled_from([0.01, 0.2, -0.5])
_alphas = st.sampled_from([1.0, 0.5, 2.0])

OPS = [
    # -- arithmetic
    OpInfo("add", A.add, binary(alpha=st.sampled_from([1, 0.5])), R.add, "add"),
    OpInfo("sub", A.sub, binary(alpha=st.sampled_from([1, 2.0])), R.sub, "sub",
           aliases=("subtract",)),
    named_op("mul", binary(), ref=np.multiply, aliases=("multiply",)),
    named_op("div", binary("normal", "away0"),
           aliases=("divide", "true_divide")),
    unary_op("neg", ref=np.negative, aliases=("negative",)),
    named_op("pow", s_pow, ref=np.power),
    OpInfo("floor_divide", A.floor_divide, binary("offgrid", "away0"),
           lambda a, b: np.floor(a / b), "floor_divide", grad=False),
    # PyTorch's remainder has a gradient; ours does not (its docstring says so)
    OpInfo("remainder", ops_arithmetic.remainder, binary("offgrid", "away0"), np.remainder, "remainder",
           grad=False, torch_grad=False),
    # -- unary math
    unary_op("exp"),
    unary_op("expm1"),
    unary_op("log", "positive"),
    unary_op("log1p", "positive"),
    unary_op("log2", "positive"),
    unary_op("log10", "positive"),
    unary_op("sqrt", "positive"),
    unary_op("rsqrt", "positive", ref=R.rsqrt),
    unary_op("square"),
    unary_op("reciprocal", "away0"),
    unary_op("abs", "away0"),
    unary_op("sin"),
    unary_op("cos"),
    unary_op("tan", "unit"),
    unary_op("asin", "unit", ref=np.arcsin, aliases=("arcsin",)),
    unary_op("acos", "unit", ref=np.arccos, aliases=("arccos",)),
    unary_op("atan", ref=np.arctan, aliases=("arctan",)),
    named_op("atan2", binary("away0", "away0"), ref=np.arctan2,
           aliases=("arctan2",)),
    unary_op("sinh"),
    unary_op("cosh"),
    unary_op("tanh"),
    unary_op("sigmoid", ref=R.sigmoid),
    unary_op("relu", "away0", ref=R.relu),
    unary_op("erf", ref=R.erf),
    unary_op("frac", "offgrid", ref=R.frac),
    unary_op("sign", "away0"),
    unary_op("floor", "offgrid"),
    unary_op("ceil", "offgrid"),
    unary_op("round", "offgrid", ref=R.round),
    unary_op("trunc", "offgrid"),
    named_op("lerp", s_lerp),
    named_op("clamp", s_clamp, aliases=("clip",)),
    named_op("maximum", s_no_tie),
    named_op("minimum", s_no_tie),
    named_op("where", s_where, method=None),
    OpInfo("masked_fill", A.masked_fill, s_masked_fill, R.masked_fill,
           lambda torch: torch.Tensor.masked_fill),
    named_op("nan_to_num", s_nan_to_num),
    unary_op("clone", ref=np.copy),
    # (gradgrad off: a float32 cast makes float32 grad_outputs, and its second derivative is 0)
    OpInfo("cast", ops_unary.cast, s_cast, lambda x, d: x.astype(d), None, keeps_dtype=False, gradgrad=False,
           method=None, gradcheck_kw=dict(eps=1e-2, atol=1e-4)),
    OpInfo("expand_as_copy", ops_unary.expand_as_copy, s_expand_as_copy,
           lambda s, like: np.broadcast_to(s, like.shape), None, method=None),
    # -- comparisons and logic (bool results)
    *[OpInfo(n, getattr(A, n), s_compare, getattr(np, f), n, grad=False) for n, f in [
        ("eq", "equal"), ("ne", "not_equal"), ("lt", "less"), ("le", "less_equal"),
        ("gt", "greater"), ("ge", "greater_equal")]],
    OpInfo("logical_not", A.logical_not, s_logical(1), np.logical_not, "logical_not",
           grad=False),
    *[OpInfo(n, getattr(A, n), s_logical(2), getattr(np, n), n, grad=False)
      for n in ("logical_and", "logical_or", "logical_xor")],
    *[OpInfo(n, getattr(A, n), s_special, getattr(np, n), n, grad=False)
      for n in ("isnan", "isinf", "isfinite")],
    # -- activations (inputs kept 0.05 away from every kink)
    OpInfo("leaky_relu", A.leaky_relu, unary(ACT, negative_slope=_slopes), R.leaky_relu,
           _nf + "leaky_relu"),
    OpInfo("elu", A.elu, unary(ACT, alpha=_alphas), R.elu, _nf + "elu"),
    OpInfo("selu", A.selu, unary(ACT), R.selu, "selu"),
    OpInfo("celu", A.celu, unary(ACT, alpha=_alphas), R.celu, "celu"),
    OpInfo("gelu", A.gelu, unary(ACT, approximate=st.sampled_from(["none", "tanh"])), R.gelu,
           _nf + "gelu"),
    OpInfo("silu", A.silu, unary(ACT), R.silu, _nf + "silu"),
    OpInfo("mish", A.mish, unary(ACT), R.mish, _nf + "mish"),
    OpInfo("softplus", A.softplus, unary(ACT, beta=st.sampled_from([1.0, 2.0, 0.5]),
                                         threshold=st.sampled_from([20.0, 1.0, 0.5])),
           R.softplus, _nf + "softplus"),
    OpInfo("hardtanh", A.hardtanh, unary(ACT, min_val=st.sampled_from([-1.0, -2.0]),
                                         max_val=st.sampled_from([1.0, 0.5])),
           R.hardtanh, _nf + "hardtanh"),
    OpInfo("relu6", A.relu6, unary(ACT), R.relu6, _nf + "relu6"),
    OpInfo("logsigmoid", A.logsigmoid, unary(ACT), R.logsigmoid, _nf + "logsigmoid"),
    # PyTorch's hardsigmoid backward multiplies by a float32 1/6 (~3e-8 off in float64)
    OpInfo("hardsigmoid", A.hardsigmoid, unary(ACT), R.hardsigmoid, _nf + "hardsigmoid",
           torch_tol={"float64": dict(rtol=1e-7, atol=1e-9)}),
    OpInfo("hardswish", A.hardswish, unary(ACT), R.hardswish, _nf + "hardswish"),
    # -- reductions
    named_op("sum", reduce()),
    named_op("mean", reduce()),
    OpInfo("prod", A.prod, reduce("zeros", allow_tuple=False), R.prod, lambda torch: (
        lambda x, dim=None, keepdim=False: torch.prod(x) if dim is None else
        torch.prod(x, dim, keepdim))),   # torch.prod takes no dim=None
    named_op("max", s_max_min),
    named_op("min", s_max_min),
    named_op("amax", reduce("distinct", min_dims=1, allow_none=False)),
    named_op("amin", reduce("distinct", min_dims=1, allow_none=False)),
    named_op("argmax", s_arg, grad=False),
    named_op("argmin", s_arg, grad=False),
    named_op("var", s_var),
    named_op("std", s_var),
    named_op("logsumexp", s_logsumexp),
    named_op("cumsum", s_cum),
    named_op("cumprod", s_cum),
    named_op("norm", s_norm),
    named_op("all", reduce("zeros", allow_tuple=False), grad=False),
    named_op("any", reduce("zeros", allow_tuple=False), grad=False),
    OpInfo("count_nonzero", A.count_nonzero, s_count_nonzero, R.count_nonzero,
           "count_nonzero", grad=False),
    # -- shape
    OpInfo("reshape", A.reshape, s_reshape, R.reshape, lambda torch: torch.Tensor.reshape),
    OpInfo("view", S.view, s_reshape, R.reshape, lambda torch: torch.Tensor.view),
    OpInfo("view_as", S.view_as, s_view_as, lambda x, o: x.reshape(o.shape),
           lambda torch: torch.Tensor.view_as),
    named_op("flatten", s_flatten),
    named_op("unflatten", s_unflatten),
    named_op("squeeze", s_squeeze),
    named_op("unsqueeze", s_unsqueeze),
    named_op("transpose", s_transpose,
           aliases=("swapaxes", "swapdims")),
    OpInfo("permute", A.permute, s_permute, R.permute, lambda torch: torch.Tensor.permute),
    named_op("movedim", s_movedim, aliases=("moveaxis",)),
    named_op("t", s_t),
    OpInfo("expand", S.expand, s_expand, R.expand, lambda torch: torch.Tensor.expand),
    OpInfo("expand_as", S.expand_as, s_expand_as, lambda x, o: np.broadcast_to(x, o.shape),
           lambda torch: torch.Tensor.expand_as),
    named_op("broadcast_to", s_broadcast_to),
    OpInfo("repeat", S.repeat, s_repeat, R.repeat, lambda torch: torch.Tensor.repeat),
    named_op("tile", s_tile),
    OpInfo("getitem", S.getitem, s_getitem, operator.getitem,
           lambda torch: operator.getitem, call=call_getitem, method=None),
    OpInfo("setitem", S.setitem, s_setitem, operator.setitem,
           lambda torch: operator.setitem, call=call_setitem, method=None),
    named_op("cat", s_cat, aliases=("concat", "concatenate"),
           call=call_list),
    named_op("stack", s_stack, call=call_list),
    named_op("split", s_split),
    named_op("chunk", s_chunk),
    named_op("unbind", s_unbind),
    named_op("narrow", s_narrow),
    named_op("flip", s_flip),
    named_op("roll", s_roll),
    named_op("gather", s_gather, call=call_dim_index),
    named_op("scatter", s_scatter, call=call_dim_index),
    named_op("scatter_add", s_scatter_add,
           call=call_dim_index),
    named_op("index_select", s_index_select,
           call=call_dim_index),
    OpInfo("masked_select", A.masked_select, s_masked_select, R.masked_select,
           "masked_select"),
    OpInfo("take_along_dim", A.take_along_dim, s_take_along_dim, R.take_along_dim,
           "take_along_dim"),
    named_op("tril", s_tri),
    named_op("triu", s_tri),
    named_op("diag", s_diag),
    named_op("diagonal", s_diagonal),
    OpInfo("pad", S.pad, s_pad, R.pad, _nf + "pad", method=None),
    named_op("index_add", s_index_add,
           call=call_dim_index),
    OpInfo("index_copy", A.index_copy, lambda d, r: s_index_add(d, r, distinct=True),
           R.index_copy, "index_copy", call=call_dim_index),
    OpInfo("index_fill", A.index_fill, lambda d, r: s_index_add(d, r, fill=True),
           R.index_fill, "index_fill", call=call_index_fill),
    named_op("index_put", s_index_put,
           call=call_index_put),
    named_op("take", s_take),
    named_op("put", s_put),
    OpInfo("masked_scatter", A.masked_scatter, s_masked_scatter, R.masked_scatter,
           "masked_scatter"),
    OpInfo("repeat_interleave", A.repeat_interleave, s_repeat_interleave, R.repeat_interleave,
           "repeat_interleave"),
    named_op("nonzero", s_nonzero, grad=False),
    named_op("argwhere", s_nonzero, grad=False),
    # -- linalg
    named_op("matmul", s_matmul),
    OpInfo("mm", A.mm, s_shapes("nk", "km"), np.matmul, "mm"),
    OpInfo("bmm", A.bmm, s_shapes("bnk", "bkm"), np.matmul, "bmm"),
    OpInfo("mv", A.mv, s_shapes("nk", "k"), np.matmul, "mv"),
    OpInfo("dot", A.dot, s_shapes("k", "k"), np.dot, "dot"),
    OpInfo("outer", A.outer, s_shapes("n", "m"), np.outer, "outer"),
    named_op("einsum", s_einsum, call=call_einsum),
    named_op("tensordot", s_tensordot),
    OpInfo("inverse", A.inverse, s_square_matrix, np.linalg.inv, "inverse",
           tol={"float64": dict(rtol=1e-9, atol=1e-11)}),
    OpInfo("det", A.det, s_square_matrix, np.linalg.det, "det",
           tol={"float64": dict(rtol=1e-9, atol=1e-11)}),
    named_op("slogdet", s_square_matrix,
           tol={"float64": dict(rtol=1e-9, atol=1e-11)}),
    named_op("logdet", s_spd,
           tol={"float64": dict(rtol=1e-9, atol=1e-11)}),
    # -- nn ops
    named_op("softmax", s_softmax),
    named_op("log_softmax", s_softmax),
    OpInfo("linear", A.linear, s_linear, R.linear, _nf + "linear"),
    OpInfo("nll_loss", A.nll_loss, s_nll_loss, R.nll_loss, _nf + "nll_loss"),
    # the kernel ops: the references of their kernels are in test_kernels.py/test_conv_pool.py
    OpInfo("conv1d", A.conv1d, s_conv(1), None, _nf + "conv1d", gradgrad=False),
    OpInfo("conv2d", A.conv2d, s_conv(2), None, _nf + "conv2d", gradgrad=False),
    OpInfo("conv_transpose2d", A.conv_transpose2d, s_conv(2, transpose=True), None,
           _nf + "conv_transpose2d", gradgrad=False),
    OpInfo("max_pool1d", A.max_pool1d, s_pool(1), None, _nf + "max_pool1d", gradgrad=False),
    OpInfo("max_pool2d", A.max_pool2d, s_pool(2), None, _nf + "max_pool2d", gradgrad=False),
    OpInfo("avg_pool1d", A.avg_pool1d, s_pool(1, avg=True), None, _nf + "avg_pool1d"),
    OpInfo("avg_pool2d", A.avg_pool2d, s_pool(2, avg=True), None, _nf + "avg_pool2d"),
    OpInfo("adaptive_avg_pool2d", A.adaptive_avg_pool2d, s_adaptive, None,
           _nf + "adaptive_avg_pool2d"),
    OpInfo("adaptive_max_pool2d", A.adaptive_max_pool2d, s_adaptive, None,
           _nf + "adaptive_max_pool2d", gradgrad=False),
    OpInfo("scaled_dot_product_attention", A.scaled_dot_product_attention, s_sdpa,
           R.scaled_dot_product_attention, _nf + "scaled_dot_product_attention"),
    OpInfo("layer_norm", A.layer_norm, s_layer_norm, R.layer_norm, _nf + "layer_norm",
           call=call_layer_norm, tol={"float64": dict(rtol=1e-9, atol=1e-11)}),
    OpInfo("group_norm", A.group_norm, s_group_norm, R.group_norm, _nf + "group_norm",
           call=call_group_norm, tol={"float64": dict(rtol=1e-9, atol=1e-11)}),
    OpInfo("embedding", A.embedding, s_embedding, R.embedding, _nf + "embedding"),
    # -- ops added to main after the registry
    OpInfo("addcmul", A.addcmul, s_addc(False), R.addcmul, "addcmul"),
    OpInfo("addcdiv", A.addcdiv, s_addc(True), R.addcdiv, "addcdiv"),
    named_op("fmod", s_fmod),
    named_op("hypot", binary("away0", "away0")),
    named_op("logaddexp", binary()),
    named_op("xlogy", s_xlogy),
    unary_op("deg2rad"),
    unary_op("rad2deg"),
    unary_op("positive"),
    *[OpInfo(n, getattr(A, n), s_bitwise(2), getattr(np, n), n, grad=False)
      for n in ("bitwise_and", "bitwise_or", "bitwise_xor")],
    OpInfo("bitwise_not", A.bitwise_not, s_bitwise(1), np.invert, "bitwise_not", grad=False),
    named_op("isclose", s_isclose, grad=False),
    named_op("allclose", s_isclose, grad=False,
           call=call_bool),
    OpInfo("equal", A.equal, s_equal, lambda a, b: a.shape == b.shape and
           bool(np.array_equal(a, b)), "equal", grad=False, call=call_bool),
    named_op("nansum", s_nanreduce),
    named_op("nanmean", s_nanreduce),
    named_op("trace", s_trace),
    named_op("cross", s_cross),
    named_op("diff", s_diff, call=call_diff),
    OpInfo("fliplr", A.fliplr, unary(min_dims=2), np.fliplr, "fliplr"),
    OpInfo("flipud", A.flipud, unary(min_dims=1), np.flipud, "flipud"),
    named_op("select", s_select),
    unary_op("ravel"),
    named_op("svd", s_svd, call=call_svd,
           tol={"float64": dict(rtol=1e-9, atol=1e-11)}),
    # -- sorting and selection (distinct values: no ties, whose gradient is an arbitrary pick)
    named_op("sort", s_sort),
    named_op("argsort", s_sort, grad=False),
    OpInfo("msort", A.msort, unary("distinct", min_dims=1), R.msort, "msort"),
    named_op("topk", s_topk),
    named_op("kthvalue", s_kthvalue),
    named_op("median", s_median),
    named_op("nanmedian", s_nanmedian),
    named_op("unique", s_unique, grad=False),
    OpInfo("unique_consecutive", A.unique_consecutive, s_unique_consecutive,
           R.unique_consecutive, "unique_consecutive", grad=False),
]

REGISTRY = {info.name: info for info in OPS}
assert len(REGISTRY) == len(OPS), "two registry entries with one name"

# Public ops with no entry, and why (the guard in test_ops_registry.py reads this).
COVERED_ELSEWHERE = {
    # random: the registry's checks need a deterministic function of the inputs
    "dropout": "tests/test_ops_grad.py (its mask, in place, about p dropped)",
    # sequence ops on pre-projected inputs, no PyTorch function of that signature
    "rnn_layer": "tests/test_rnn.py (gradcheck, double backward raising, vs torch layers)",
    "lstm_layer": "tests/test_rnn.py",
    "gru_layer": "tests/test_rnn.py",
}
