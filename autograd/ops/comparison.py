"""Comparisons, logic and selection: ``eq``/``lt``/..., ``logical_*``, ``bitwise_*``,
``isnan``/``isinf``/``isfinite``, ``isclose``/``allclose``/``equal`` (bool results, no
gradient), and the ops that pick each element from one operand by a comparison: ``where``,
``masked_fill``, ``clamp``, ``maximum``/``minimum`` (differentiable: the gradient goes to the
operand picked).

A comparison makes a constant tensor through :func:`_compare` (no graph node); the ONNX
exporter's tracer swaps that one function to record them.
"""

import builtins
import operator

import numpy as np

from .. import dtypes as _dt
from ..graph import Node
from ._out import with_out as _with_out
from ._pointwise import (_data, _operands, _result_dtype, _torch_type, binary_forward,
                         broadcast_error)
from ..tensor import Tensor, _to_array

__all__ = [
    "eq", "ne", "lt", "le", "gt", "ge", "logical_not", "logical_and", "logical_or",
    "logical_xor", "isnan", "isinf", "isfinite", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_not", "isclose", "allclose", "equal", "where", "masked_fill", "clamp", "clip",
    "maximum", "minimum",
]


# ---- comparisons and logic (bool results, not differentiable) -------------------------------
_TORCH_NAMES = {"equal": "eq", "not_equal": "ne", "less": "lt", "less_equal": "le",
                "greater": "gt", "greater_equal": "ge"}


def _compare(ufunc, a, b, op=None):
    """``ufunc`` on the arrays of ``a`` and ``b``, as a constant tensor (not differentiable)."""
    try:
        return Tensor._make(np.asarray(ufunc(_data(a), _data(b))), False, None)
    except ValueError as e:  # shapes that do not broadcast
        name = op or _TORCH_NAMES.get(ufunc.__name__, ufunc.__name__)
        raise broadcast_error(name, _data(a), _data(b)) or e from None


def _binary_fn(name, compute, doc):
    """The public ``name(input, other, *, out=None)`` of a constant-result op: ``compute(input,
    other)``, or written into ``out``."""
    def op(input, other, *, out=None):
        if out is not None:
            return _with_out(name, op, out, input, other)
        return compute(input, other)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _comparison(name, ufunc, doc):
    """A comparison or logical op: :func:`_compare` with ``ufunc`` (looked up when called: the
    ONNX tracer swaps it)."""
    return _binary_fn(name, lambda a, b: _compare(ufunc, a, b), doc)


eq = _comparison("eq", np.equal, "Elementwise ``==`` (``torch.eq``); a bool tensor.")
ne = _comparison("ne", np.not_equal, "Elementwise ``!=`` (``torch.ne``); a bool tensor.")
lt = _comparison("lt", np.less, "Elementwise ``<`` (``torch.lt``); a bool tensor.")
le = _comparison("le", np.less_equal, "Elementwise ``<=`` (``torch.le``); a bool tensor.")
gt = _comparison("gt", np.greater, "Elementwise ``>`` (``torch.gt``); a bool tensor.")
ge = _comparison("ge", np.greater_equal, "Elementwise ``>=`` (``torch.ge``); a bool tensor.")
logical_and = _comparison("logical_and", np.logical_and,
                          "Elementwise and (``torch.logical_and``; ``&`` on bool tensors).")
logical_or = _comparison("logical_or", np.logical_or,
                         "Elementwise or (``torch.logical_or``; ``|`` on bool tensors).")
logical_xor = _comparison("logical_xor", np.logical_xor,
                          "Elementwise xor (``torch.logical_xor``; ``^`` on bool tensors).")


def _predicate(name, ufunc, doc):
    """A one-input bool op without gradient (``isnan``...): ``ufunc`` on the array."""
    def op(input):
        return Tensor._make(np.asarray(ufunc(input._data)), False, None)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


logical_not = _predicate("logical_not", np.logical_not,
                         "Elementwise not (``torch.logical_not``; ``~`` on bool tensors).")
isnan = _predicate("isnan", np.isnan, "True where the element is NaN (``torch.isnan``).")
isinf = _predicate("isinf", np.isinf, "True where the element is +-inf (``torch.isinf``).")
isfinite = _predicate("isfinite", np.isfinite,
                      "True where the element is finite (``torch.isfinite``).")


def _bitwise(ufunc, input, other, op):
    for x in (input, other):
        if isinstance(x, Tensor) and x._data.dtype.kind not in "iub":
            raise NotImplementedError(f'"{op}_cpu" not implemented for '
                                      f"'{_torch_type(x._data.dtype)}' (bitwise ops take "
                                      "integer or bool tensors)")
        if isinstance(x, float):
            raise TypeError(f"{op}: expected an int or bool scalar, got float {x!r}")
    if not isinstance(input, Tensor):
        input = Tensor._make(_to_array(input, None), False, None)
    a, b = _operands(input, other)
    if all(x._data.dtype.kind == "b" if isinstance(x, Tensor) else isinstance(x, bool)
           for x in (a, b)):
        # bool operands: the same values as the logical op, recorded as it (so a bool mask
        # ``m1 & m2`` stays what the ONNX exporter and older code know)
        ufunc = _LOGICAL[ufunc]
    return _compare(ufunc, a, b, op)



_LOGICAL = {np.bitwise_and: np.logical_and, np.bitwise_or: np.logical_or,
            np.bitwise_xor: np.logical_xor}

bitwise_and = _binary_fn("bitwise_and", lambda a, b: _bitwise(np.bitwise_and, a, b,
                                                              "bitwise_and"), """\
Elementwise bitwise AND of integer or bool tensors (``torch.bitwise_and``; ``&``); logical
    AND for bool. ``other`` may be a Python int/bool.

    Raises:
        NotImplementedError: for a floating tensor (as PyTorch).
    """)
bitwise_or = _binary_fn("bitwise_or", lambda a, b: _bitwise(np.bitwise_or, a, b, "bitwise_or"),
                        "Elementwise bitwise OR (``torch.bitwise_or``; ``|``); see "
                        ":func:`bitwise_and`.")
bitwise_xor = _binary_fn("bitwise_xor",
                         lambda a, b: _bitwise(np.bitwise_xor, a, b, "bitwise_xor"),
                         "Elementwise bitwise XOR (``torch.bitwise_xor``; ``^``); see "
                         ":func:`bitwise_and`.")


def bitwise_not(input, *, out=None):
    """Elementwise bitwise NOT (``torch.bitwise_not``; ``~``): ``-x - 1`` for integers, logical
    not for bool.

    Raises:
        NotImplementedError: for a floating tensor (as PyTorch).
    """
    if out is not None:
        return _with_out("bitwise_not", bitwise_not, out, input)
    if input._data.dtype.kind not in "iub":
        raise NotImplementedError(f'"bitwise_not_cpu" not implemented for '
                                  f"'{_torch_type(input._data.dtype)}'")
    if input._data.dtype.kind == "b":
        return logical_not(input)
    return Tensor._make(np.asarray(np.invert(input._data)), False, None)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|input - other| <= atol + rtol * |other|`` as a bool tensor
    (``torch.isclose``); NaNs compare equal only with ``equal_nan=True``.

    Raises:
        RuntimeError: for tensors of different dtypes (as PyTorch), or a negative tolerance.
    """
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(f"isclose(): expected two Tensors, got {type(input).__name__} and "
                        f"{type(other).__name__}")
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"isclose(): {_torch_type(input._data.dtype)} did not match "
                           f"{_torch_type(other._data.dtype)}")
    if rtol < 0 or atol < 0:
        raise RuntimeError(f"isclose(): rtol and atol must be non-negative, got rtol={rtol}, "
                           f"atol={atol}")
    try:
        with np.errstate(invalid="ignore", over="ignore"):
            r = np.isclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan)
    except ValueError as e:
        raise broadcast_error("isclose", input._data, other._data) or e from None
    return Tensor._make(np.asarray(r), False, None)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """``True`` if every element of ``input`` is close to ``other`` (``torch.allclose``; a
    Python bool): ``isclose(...).all()``.

    Raises:
        RuntimeError: as :func:`isclose`.
    """
    return builtins.bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input, other):
    """``True`` if both tensors have the same shape and elements (``torch.equal``; a Python
    bool; NaN is not equal to itself). Tensors of different dtypes compare by value."""
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(f"equal(): argument 'other' must be Tensor, not "
                        f"{type(other).__name__}")
    a, b = input._data, other._data
    return a.shape == b.shape and builtins.bool(np.array_equal(a, b))




# ---- selection: where, masked_fill, clamp, maximum/minimum ----------------------------------
class Where(Node):
    """Saves the condition for backward."""

    @staticmethod
    def forward(ctx, cond, a, b):
        try:
            ctx.save_for_backward(cond)
            return np.where(cond, a, b)
        except ValueError as e:  # shapes that do not broadcast
            raise broadcast_error("where", cond, a, b) or e from None

    @staticmethod
    def backward(ctx, grad):
        cond, = ctx.saved_tensors
        _, na, nb = ctx.needs_input_grad
        zero = grad * 0 if (na or nb) else None
        ga = where(cond, grad, zero) if na else None
        gb = where(cond, zero, grad) if nb else None
        return None, ga, gb


def where(condition, input=None, other=None, *, out=None):
    """``input`` where ``condition`` else ``other``, broadcast together (``torch.where``).
    With only ``condition``, returns the indices of its non-zero elements (a tuple of int64
    Tensors, like ``torch.where(condition)``).

    Raises:
        TypeError: if ``condition`` is not a bool tensor.
    """
    if out is not None:
        return _with_out("where", where, out, condition, input=input, other=other)
    if input is None and other is None:
        return tuple(Tensor._make(i.astype(np.int64), False, None)
                     for i in np.nonzero(_data(condition)))
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got {cond.dtype}")
    ta, tb = isinstance(input, Tensor), isinstance(other, Tensor)
    if ta or tb:
        a, b = _operands(input, other)
        a = a if isinstance(a, Tensor) else np.asarray(a, dtype=_result_dtype(a, b))
        b = b if isinstance(b, Tensor) else np.asarray(b, dtype=_result_dtype(a, b))
    else:
        a, b = np.asarray(input), np.asarray(other)
        if a.dtype.kind == "f" or b.dtype.kind == "f":
            a = a.astype(_dt.get_default_dtype())
            b = b.astype(_dt.get_default_dtype())
    return Where.apply(cond, a, b)


def masked_fill(input, mask, value):
    """``value`` where ``mask`` (bool, broadcastable to ``input``) is True, else ``input``
    (``torch.Tensor.masked_fill``); the gradient flows to the unfilled elements and, if
    ``value`` is a 0-d Tensor, to it.

    Raises:
        TypeError: if ``mask`` is not bool.
        RuntimeError: if ``mask`` does not broadcast to ``input``'s shape.
    """
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got {m.dtype}")
    if np.broadcast_shapes(m.shape, input.shape) != input.shape:
        raise RuntimeError(f"masked_fill: mask of shape {m.shape} does not broadcast to the "
                           f"input's shape {tuple(input.shape)}")
    if isinstance(value, Tensor):
        return Where.apply(m, value.to(input.dtype) if value.dtype != input.dtype else value,
                           input)
    return Where.apply(m, np.asarray(value, dtype=input.dtype), input)



class Clamp(Node):
    """Saves the input and the Tensor bounds for backward."""

    @staticmethod
    def forward(ctx, a, lo, hi):
        ctx.has_lo, ctx.has_hi = lo is not None, hi is not None
        ctx.save_for_backward(a, *(b for b in (lo, hi) if b is not None))
        try:
            out = a
            if lo is not None:
                out = np.maximum(out, lo)
            if hi is not None:
                out = np.minimum(out, hi)
            return out
        except ValueError as e:  # shapes that do not broadcast
            raise broadcast_error("clamp", a, lo, hi) or e from None

    @staticmethod
    def backward(ctx, grad):
        a, *bounds = ctx.saved_tensors
        lo = bounds.pop(0) if ctx.has_lo else None
        hi = bounds.pop(0) if ctx.has_hi else None
        na, nlo, nhi = ctx.needs_input_grad
        ga = glo = ghi = None
        # PyTorch's clamp_backward_min_max: x where lo <= x <= hi; lo where x < lo < hi; hi
        # where x > hi or hi < lo (then the result is hi everywhere).
        if na:
            inside = a >= lo if lo is not None else None
            if hi is not None:
                inside = a <= hi if inside is None else inside & (a <= hi)
            ga = grad * inside
        if nlo:
            below = a < lo
            glo = grad * (below & (lo < hi) if hi is not None else below)
        if nhi:
            above = a > hi
            ghi = grad * (above | (hi < lo) if lo is not None else above)
        return ga, glo, ghi


def clamp(input, min=None, max=None, *, out=None):
    """Clamp every element into ``[min, max]`` (``torch.clamp``); bounds may be numbers or
    Tensors (broadcast). The gradient passes where ``min <= x <= max`` (inclusive, as PyTorch);
    a Tensor bound receives the gradient where it is the active bound (where ``min > max`` the
    result is ``max``, which gets the gradient).

    Raises:
        ValueError: if both ``min`` and ``max`` are ``None``.
    """
    if out is not None:
        return _with_out("clamp", clamp, out, input, min=min, max=max)
    if min is None and max is None:
        raise ValueError("clamp: at least one of 'min' or 'max' must not be None")
    lo = _bound(min, input)
    hi = _bound(max, input)
    return Clamp.apply(input, lo, hi)


clip = clamp


def _bound(b, t):
    if b is None:
        return None
    if isinstance(b, Tensor):
        return b.to(t.dtype) if b._data.dtype != t._data.dtype else b
    return np.asarray(b, dtype=t._data.dtype)




def _extremum(name, ufunc, wins):
    """``maximum``/``minimum`` and their nodes (named ``Maximum``/``Minimum``): the node saves
    both inputs and gives the gradient to the operand picked (``wins(a, b)`` true for ``a``);
    ties split it in half (PyTorch's convention)."""
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        wa = wins(a, b) + (a == b) * 0.5
        return grad * wa, grad * (1 - wa)

    node = type(name.capitalize(), (Node,), {
        "__doc__": f"The node of :func:`{name}`; saves both inputs for backward.",
        "__module__": __name__, "__qualname__": name.capitalize(),
        "forward": binary_forward(name, ufunc, saves="inputs"),
        "backward": staticmethod(backward)})

    def op(input, other, *, out=None):
        if out is not None:
            return _with_out(name, op, out, input, other)
        return node.apply(*_operands(input, other))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name} (``torch.{name}``); ties split the gradient in half."
    return node, op


Maximum, maximum = _extremum("maximum", np.maximum, operator.gt)
Minimum, minimum = _extremum("minimum", np.minimum, operator.lt)
