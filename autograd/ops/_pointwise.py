"""What the pointwise families share (:mod:`.arithmetic`, :mod:`.unary`, :mod:`.activations`,
:mod:`.comparison`): operand promotion, PyTorch's broadcasting error, and the two builders that
make a one-input op from a table entry (:func:`unary_node`, :func:`unary_op`).

Dtype promotion follows PyTorch's rules for the common cases: a Python number does not change
a floating tensor's dtype (``float32 * 2.5`` stays ``float32``); an integer or bool tensor
combined with a Python float or a floating tensor becomes that floating dtype (the default
float for Python floats); true division of integers gives the default float; float32 with
float64 gives float64.
"""

import numbers
import sys

import numpy as np

from .. import dtypes as _dt
from ..graph import Node
from ._out import with_out as _with_out
from ..tensor import Tensor, _to_array


# ---- broadcasting errors --------------------------------------------------------------------
def broadcast_error(op, *operands):
    """PyTorch's error for operands whose shapes do not broadcast, naming the op: "The size of
    tensor a (4) must match the size of tensor b (3) at non-singleton dimension 1" (the shapes
    are combined left to right, each pair compared from the last dim, as PyTorch's
    ``infer_size``). ``None`` when the shapes do broadcast (the caller re-raises what it
    caught). Called only after NumPy has raised, so the success path costs nothing (a ``try``
    is free in Python 3.11)."""
    shapes = [tuple(np.shape(a)) for a in operands if a is not None]
    cur = shapes[0]
    for nxt in shapes[1:]:
        nd = max(len(cur), len(nxt))
        pa = (1,) * (nd - len(cur)) + cur
        pb = (1,) * (nd - len(nxt)) + nxt
        for i in range(nd - 1, -1, -1):
            if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
                listed = " and ".join(str(sh) for sh in shapes)
                return RuntimeError(f"{op}: The size of tensor a ({pa[i]}) must match the size "
                                    f"of tensor b ({pb[i]}) at non-singleton dimension {i} "
                                    f"(operand shapes {listed})")
        cur = tuple(y if x == 1 else x for x, y in zip(pa, pb))
    return None


def binary_forward(op, ufunc, saves=""):
    """The ``forward`` of a two-input node that is one broadcasting NumPy call
    ``ufunc(a, b)``: shapes that do not broadcast raise :func:`broadcast_error` naming ``op``.
    ``saves``: ``""`` (nothing), ``"inputs"`` (``a, b``) or ``"inputs, output"``."""
    if saves not in ("", "inputs", "inputs, output"):
        raise ValueError(f"binary_forward: saves must be '', 'inputs' or 'inputs, output', "
                         f"got {saves!r}")
    keep_inputs, keep_output = bool(saves), saves.endswith("output")

    def forward(ctx, a, b):
        try:
            out = ufunc(a, b)
        except ValueError as e:  # shapes that do not broadcast
            raise broadcast_error(op, a, b) or e from None
        if keep_output:
            ctx.save_for_backward(a, b, out)
        elif keep_inputs:
            ctx.save_for_backward(a, b)
        return out
    return staticmethod(forward)


# ---- operand handling -----------------------------------------------------------------------
def _operands(a, b):
    """Promote a binary op's operands: Tensors, Python numbers or array-likes -> (Tensor or
    number, Tensor or number) with PyTorch's result dtype."""
    # fast path, the commonest call in a model: float tensor op Python number
    if b.__class__ is float or b.__class__ is int:
        if a.__class__ is Tensor and a._data.dtype.kind == "f":
            return a, b
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb:
        da, db = a._data.dtype, b._data.dtype
        if da is db or da == db:
            return a, b
        fa, fb = da.kind == "f", db.kind == "f"
        # NumPy already gives float op bool -> float (no copy needed); int needs the cast
        # (NumPy's int64 op float32 is float64, PyTorch's is float32).
        if fa and not fb:
            return a, (b if db.kind == "b" else b.to(da))
        if fb and not fa:
            return (a if da.kind == "b" else a.to(db)), b
        return a, b  # both float (NumPy gives the wider) or both int/bool
    if ta:
        return _promote_for_scalar(a, b), _scalar_for(b, a)
    if tb:
        return _scalar_for(a, b), _promote_for_scalar(b, a)
    raise TypeError(f"expected at least one Tensor operand, got {type(a).__name__} and "
                    f"{type(b).__name__}")


def _promote_for_scalar(t, x):
    """An integer/bool tensor combined with a Python float computes in the default float dtype
    (PyTorch: ``int_tensor + 1.5`` is float32); otherwise ``t`` is unchanged."""
    if (isinstance(x, (float, np.floating)) and not isinstance(x, np.ndarray)
            and t._data.dtype.kind != "f"):
        return t.to(_dt.get_default_dtype())
    return t


def promote_dtypes(dtypes):
    """The result dtype of combining tensors of ``dtypes`` (PyTorch's rule for the common
    cases): floating dtypes win over integer/bool ones (``int64`` with ``float32`` gives
    ``float32``, where NumPy would give ``float64``); otherwise NumPy's promotion."""
    floats = [d for d in dtypes if d.kind == "f"]
    return np.result_type(*(floats or dtypes))


def _scalar_for(x, t):
    """Make a non-Tensor operand compatible with tensor ``t``. Numbers (NumPy scalars included)
    become Python numbers, which NumPy treats as "weak": ``float32 * 2.5`` stays float32, as in
    PyTorch (a NumPy ``float64`` scalar would otherwise promote the result to float64)."""
    if isinstance(x, numbers.Number) and not isinstance(x, (complex, np.ndarray)):
        if isinstance(x, np.generic):
            x = x.item()
        return x
    arr = _to_array(x, None)
    if arr.dtype.kind == "f" and t._data.dtype.kind == "f":
        arr = arr.astype(t._data.dtype, copy=False)
    return Tensor._make(arr, False, None)


def _is_number(x):
    return x.__class__ is float or x.__class__ is int


def _data(x):
    return x._data if isinstance(x, Tensor) else x


def _data_kind(x):
    if isinstance(x, Tensor):
        return x._data.dtype.kind
    return np.asarray(x).dtype.kind


def _result_dtype(a, b):
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return np.result_type(a._data, b._data)
    return (a if isinstance(a, Tensor) else b)._data.dtype


def _constant_like(x, t):
    """``x`` (a Tensor, or a number/array made a constant Tensor of ``t``'s dtype): the second
    operand of the binary math ops whose node wants two Tensors (logaddexp, hypot, xlogy)."""
    if isinstance(x, Tensor):
        return x
    return Tensor._make(np.asarray(x, dtype=t._data.dtype), False, None)


def _float(t, op):
    """Math ops on integer tensors compute in the default float dtype (PyTorch's rule)."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(t).__name__}")
    if t._data.dtype.kind != "f":
        return t.to(_dt.get_default_dtype())
    return t


def _float_pair(a, b):
    """Two operands of which neither is floating, in the default float dtype (true division
    and ``atan2`` of integers); otherwise unchanged."""
    if _data_kind(a) != "f" and _data_kind(b) != "f":
        a = a.to(_dt.get_default_dtype()) if isinstance(a, Tensor) else float(a)
        b = b.to(_dt.get_default_dtype()) if isinstance(b, Tensor) else float(b)
    return a, b


_TORCH_TYPES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _torch_type(dtype):
    """PyTorch's scalar-type name of ``dtype`` (``Float`` for float32), as its messages say."""
    return _TORCH_TYPES.get(str(dtype), str(dtype))


# ---- one-input ops from a table entry -----------------------------------------------------
def unary_node(name, fn, *, saves, grad, doc, module=None):
    """A :class:`~autograd.graph.Node` subclass called ``name`` for ``y = fn(x)``: ``forward``
    saves the input ``x`` (``saves="input"``) or the output ``y`` (``saves="output"``, cheaper
    where the derivative is written in ``y``: exp, tanh, sigmoid), and ``backward`` returns
    ``grad(g, saved)``, the gradient from the incoming ``g`` and the saved Tensor, written with
    Tensor ops (so double backward works). ``module`` defaults to the caller's (the class's
    ``__module__``, as a ``class`` statement there would give)."""
    if saves == "input":
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return fn(a)
    elif saves == "output":
        def forward(ctx, a):
            out = fn(a)
            ctx.save_for_backward(out)
            return out
    else:
        raise ValueError(f"unary_node: saves must be 'input' or 'output', got {saves!r}")

    def backward(ctx, g):
        saved, = ctx.saved_tensors
        return grad(g, saved)

    module = module or sys._getframe(1).f_globals["__name__"]
    return type(name, (Node,), {"__doc__": doc, "__module__": module, "__qualname__": name,
                                "forward": staticmethod(forward),
                                "backward": staticmethod(backward)})


def unary_op(name, fn, *, saves, grad, doc, node=None):
    """A one-input math op ``name(input, *, out=None)`` (PyTorch's signature) and its node:
    integer inputs compute in the default float dtype (:func:`_float`), ``out=`` is written
    through :func:`autograd.ops._out.with_out`, and the node is :func:`unary_node` ``(node,
    fn, saves=saves, grad=grad)`` (``node`` defaults to ``name`` capitalised). ``doc`` is the
    function's docstring (the formula, the gradient, the PyTorch function). Returns
    ``(NodeClass, function)``, both belonging to the caller's module."""
    module = sys._getframe(1).f_globals["__name__"]
    cls = unary_node(node or name.capitalize(), fn, saves=saves, grad=grad, module=module,
                     doc=f"The node of :func:`{name}`; saves its {saves} for backward.")

    def op(input, *, out=None):
        if out is not None:
            return _with_out(name, op, out, input)
        return cls.apply(_float(input, name))

    op.__name__ = op.__qualname__ = name
    op.__module__ = module
    op.__doc__ = doc
    return cls, op
