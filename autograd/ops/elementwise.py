"""Elementwise ops: arithmetic with NumPy broadcasting, unary math, activations, comparisons.

Each op is a :class:`~autograd.function.Function` (forward on arrays, backward with Tensor ops)
followed by the function users call. Backward formulas may return gradients in the broadcast
shape: the engine sums them back to each input's shape (:func:`autograd.function.sum_to`).

Dtype promotion follows PyTorch's rules for the common cases: a Python number does not change
a floating tensor's dtype (``float32 * 2.5`` stays ``float32``); an integer or bool tensor
combined with a Python float or a floating tensor becomes that floating dtype (the default
float for Python floats); true division of integers gives the default float; float32 with
float64 gives float64.
"""

import math
import numbers

import numpy as np

from .. import dtypes as _dt
from ..function import Function
from ..tensor import Tensor, _to_array

__all__ = [
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "neg",
    "negative", "pow", "exp", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt",
    "square", "reciprocal", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "clamp", "clip",
    "where", "masked_fill", "maximum", "minimum", "sign", "floor", "ceil", "round", "trunc",
    "eq", "ne", "lt", "le", "gt", "ge", "logical_not", "logical_and", "logical_or",
    "logical_xor", "isnan", "isinf", "isfinite", "cast", "clone", "floor_divide", "remainder",
    "expand_as_copy",
]


# ---- operand handling -----------------------------------------------------------------------
def _operands(a, b):
    """Promote a binary op's operands: Tensors, Python numbers or array-likes -> (Tensor or
    number, Tensor or number) with PyTorch's result dtype."""
    # fast path, the commonest call in a model: float tensor op Python number
    if b.__class__ is float or b.__class__ is int:
        if a.__class__ is Tensor and a.data.dtype.kind == "f":
            return a, b
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb:
        da, db = a.data.dtype, b.data.dtype
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
            and t.data.dtype.kind != "f"):
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
    if arr.dtype.kind == "f" and t.data.dtype.kind == "f":
        arr = arr.astype(t.data.dtype, copy=False)
    return Tensor._make(arr, False, None)


# ---- arithmetic -------------------------------------------------------------------------------
class Add(Function):
    """Graph node of :func:`add`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


def add(input, other, alpha=1):
    """``input + alpha * other`` with broadcasting (``torch.add``)."""
    if alpha != 1:
        other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    return Add.apply(*_operands(input, other))


class Sub(Function):
    """Graph node of :func:`sub`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad


def sub(input, other, alpha=1):
    """``input - alpha * other`` with broadcasting (``torch.sub``)."""
    if alpha != 1:
        other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    return Sub.apply(*_operands(input, other))


subtract = sub


class Mul(Function):
    """Graph node of :func:`mul`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        return (grad * b if na else None), (grad * a if nb else None)


def mul(input, other):
    """``input * other`` with broadcasting (``torch.mul``)."""
    return Mul.apply(*_operands(input, other))


multiply = mul


class Div(Function):
    """Graph node of :func:`div`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = grad / b if na else None
        gb = -grad * a / (b * b) if nb else None
        return ga, gb


def div(input, other, rounding_mode=None):
    """``input / other`` (true division; integers give the default float dtype) with
    broadcasting (``torch.div``). ``rounding_mode='floor'``/``'trunc'`` round the quotient
    (not differentiable).

    Raises:
        ValueError: for an unknown ``rounding_mode``.
    """
    a, b = _operands(input, other)
    if rounding_mode is not None:
        if rounding_mode not in ("floor", "trunc"):
            raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', "
                             f"got {rounding_mode!r}")
        q = _data(a) / _data(b) if rounding_mode == "trunc" else None
        arr = np.trunc(q) if q is not None else np.floor_divide(_data(a), _data(b))
        dt = _result_dtype(a, b)
        return Tensor._make(np.asarray(arr).astype(dt, copy=False), False, None)
    if _data_kind(a) != "f" and _data_kind(b) != "f":
        a = a.to(_dt.get_default_dtype()) if isinstance(a, Tensor) else float(a)
        b = b.to(_dt.get_default_dtype()) if isinstance(b, Tensor) else float(b)
    return Div.apply(a, b)


divide = true_divide = div


def _data(x):
    return x.data if isinstance(x, Tensor) else x


def _data_kind(x):
    if isinstance(x, Tensor):
        return x.data.dtype.kind
    return np.asarray(x).dtype.kind


def _result_dtype(a, b):
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return np.result_type(a.data, b.data)
    return (a if isinstance(a, Tensor) else b).data.dtype


def floor_divide(input, other):
    """Floor division (``torch.floor_divide``); not differentiable."""
    return div(input, other, rounding_mode="floor")


def remainder(input, other):
    """Python-style remainder, sign of the divisor (``torch.remainder``); not differentiable."""
    a, b = _operands(input, other)
    return Tensor._make(np.asarray(np.remainder(_data(a), _data(b))), False, None)


class Neg(Function):
    """Graph node of :func:`neg`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, grad):
        return -grad


def neg(input):
    """``-input`` (``torch.neg``)."""
    return Neg.apply(input)


negative = neg


class Pow(Function):
    """Graph node of :func:`pow`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, b):
        out = np.power(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = gb = None
        if na:
            # d(a^b)/da = b * a^(b-1); written with pow so a**2 at a=0 gives 0, not nan.
            ga = grad * b * pow(a, b - 1)
        if nb:
            # d(a^b)/db = a^b * log(a); PyTorch masks a == 0 (with b >= 0) to 0.
            if not isinstance(a, Tensor):  # a Python number base: 2.0 ** x
                a = Tensor._make(np.asarray(a, dtype=out.dtype), False, None)
            safe = where(a == 0, 1.0, a)
            gb = where((a == 0) & (b >= 0), 0.0, grad * out * log(safe))
        return ga, gb


def pow(input, exponent):
    """``input ** exponent`` with broadcasting; either may be a Tensor (``torch.pow``).

    The gradient w.r.t. the exponent, ``a^b log a``, is 0 where ``a == 0`` and ``b >= 0``
    (PyTorch's convention); it is nan for negative bases, as in PyTorch.
    """
    a, b = _operands(input, exponent)
    if isinstance(b, Tensor) or isinstance(a, Tensor) and a.data.dtype.kind == "f":
        return Pow.apply(a, b)
    # integer tensor ** number: not differentiable
    return Tensor._make(np.asarray(np.power(_data(a), _data(b))), False, None)


# ---- unary math ---------------------------------------------------------------------------------
class Exp(Function):
    """Graph node of :func:`exp`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad * out


def exp(input):
    """``e ** input`` (``torch.exp``)."""
    return Exp.apply(_float(input, "exp"))


class Expm1(Function):
    """Graph node of :func:`expm1`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        out = np.expm1(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad * (out + 1)


def expm1(input):
    """``exp(input) - 1``, accurate near 0 (``torch.expm1``)."""
    return Expm1.apply(_float(input, "expm1"))


class Log(Function):
    """Graph node of :func:`log`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad / a


def log(input):
    """Natural logarithm (``torch.log``); ``-inf`` at 0 and ``nan`` below, as PyTorch."""
    return Log.apply(_float(input, "log"))


def log2(input):
    """Base-2 logarithm (``torch.log2``)."""
    return log(input) * (1.0 / math.log(2.0))


def log10(input):
    """Base-10 logarithm (``torch.log10``)."""
    return log(input) * (1.0 / math.log(10.0))


class Log1p(Function):
    """Graph node of :func:`log1p`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log1p(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad / (a + 1)


def log1p(input):
    """``log(1 + input)``, accurate near 0 (``torch.log1p``)."""
    return Log1p.apply(_float(input, "log1p"))


class Sqrt(Function):
    """Graph node of :func:`sqrt`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad / (out * 2)


def sqrt(input):
    """Square root (``torch.sqrt``); the gradient at 0 is ``inf``, as PyTorch's."""
    return Sqrt.apply(_float(input, "sqrt"))


def rsqrt(input):
    """``1 / sqrt(input)`` (``torch.rsqrt``)."""
    return pow(_float(input, "rsqrt"), -0.5)


def square(input):
    """``input * input`` (``torch.square``)."""
    return mul(input, input)


def reciprocal(input):
    """``1 / input`` (``torch.reciprocal``)."""
    return div(1.0, _float(input, "reciprocal"))


class Abs(Function):
    """Graph node of :func:`abs`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * sign(a)


def abs(input):
    """Absolute value (``torch.abs``); gradient ``sign(x)``, 0 at 0 (PyTorch's choice)."""
    if input.data.dtype.kind != "f":
        return Tensor._make(np.abs(input.data), False, None)
    return Abs.apply(input)


class Sin(Function):
    """Graph node of :func:`sin`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.sin(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * cos(a)


def sin(input):
    """Sine (``torch.sin``)."""
    return Sin.apply(_float(input, "sin"))


class Cos(Function):
    """Graph node of :func:`cos`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.cos(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return -grad * sin(a)


def cos(input):
    """Cosine (``torch.cos``)."""
    return Cos.apply(_float(input, "cos"))


class Tanh(Function):
    """Graph node of :func:`tanh`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        out = np.tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad * (1 - out * out)


def tanh(input):
    """Hyperbolic tangent (``torch.tanh``); backward uses the saved output: ``1 - y^2``."""
    return Tanh.apply(_float(input, "tanh"))


class Sigmoid(Function):
    """Graph node of :func:`sigmoid`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        # Numerically stable: exp of a non-positive number only.
        e = np.exp(-np.abs(a))
        out = np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad * out * (1 - out)


def sigmoid(input):
    """Logistic sigmoid ``1 / (1 + exp(-x))`` (``torch.sigmoid``), computed without overflow;
    backward uses the saved output: ``y (1 - y)``."""
    return Sigmoid.apply(_float(input, "sigmoid"))


class Relu(Function):
    """Graph node of :func:`relu`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        out = np.maximum(a, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad * (out > 0)


def relu(input):
    """``max(x, 0)`` (``torch.relu``); the gradient at 0 is 0, as PyTorch's."""
    return Relu.apply(input)


class Clamp(Function):
    """Graph node of :func:`clamp`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, lo, hi):
        ctx.has_lo, ctx.has_hi = lo is not None, hi is not None
        ctx.save_for_backward(a, *(b for b in (lo, hi) if b is not None))
        out = a
        if lo is not None:
            out = np.maximum(out, lo)
        if hi is not None:
            out = np.minimum(out, hi)
        return out

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


def clamp(input, min=None, max=None):
    """Clamp every element into ``[min, max]`` (``torch.clamp``); bounds may be numbers or
    Tensors (broadcast). The gradient passes where ``min <= x <= max`` (inclusive, as PyTorch);
    a Tensor bound receives the gradient where it is the active bound (where ``min > max`` the
    result is ``max``, which gets the gradient).

    Raises:
        ValueError: if both ``min`` and ``max`` are ``None``.
    """
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
        return b.to(t.dtype) if b.data.dtype != t.data.dtype else b
    return np.asarray(b, dtype=t.data.dtype)


class Maximum(Function):
    """Graph node of :func:`maximum`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        # ties split the gradient equally (PyTorch's convention)
        wa = (a > b) + (a == b) * 0.5
        return grad * wa, grad * (1 - wa)


def maximum(input, other):
    """Elementwise maximum (``torch.maximum``); ties split the gradient in half."""
    return Maximum.apply(*_operands(input, other))


class Minimum(Function):
    """Graph node of :func:`minimum`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        wa = (a < b) + (a == b) * 0.5
        return grad * wa, grad * (1 - wa)


def minimum(input, other):
    """Elementwise minimum (``torch.minimum``); ties split the gradient in half."""
    return Minimum.apply(*_operands(input, other))


class Where(Function):
    """Graph node of :func:`where`: its forward and backward."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, grad):
        cond, = ctx.saved_tensors
        _, na, nb = ctx.needs_input_grad
        zero = grad * 0 if (na or nb) else None
        ga = where(cond, grad, zero) if na else None
        gb = where(cond, zero, grad) if nb else None
        return None, ga, gb


def where(condition, input=None, other=None):
    """``input`` where ``condition`` else ``other``, broadcast together (``torch.where``).
    With only ``condition``, returns the indices of its non-zero elements (a tuple of int64
    Tensors, like ``torch.where(condition)``).

    Raises:
        TypeError: if ``condition`` is not a bool tensor.
    """
    if input is None and other is None:
        return tuple(Tensor._make(i.astype(np.int64), False, None)
                     for i in np.nonzero(_data(condition)))
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
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
    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got {m.dtype}")
    if np.broadcast_shapes(m.shape, input.shape) != input.shape:
        raise RuntimeError(f"masked_fill: mask of shape {m.shape} does not broadcast to the "
                           f"input's shape {tuple(input.shape)}")
    if isinstance(value, Tensor):
        return Where.apply(m, value.to(input.dtype) if value.dtype != input.dtype else value,
                           input)
    return Where.apply(m, np.asarray(value, dtype=input.dtype), input)


class _ZeroGrad(Function):
    """Piecewise-constant ops (floor, ceil, round, trunc, sign): zero gradient, as PyTorch."""

    @staticmethod
    def forward(ctx, a, fn):
        return fn(a)

    @staticmethod
    def backward(ctx, grad):
        return grad * 0, None


def _piecewise_constant(input, fn):
    if input.data.dtype.kind != "f":
        return Tensor._make(np.asarray(fn(input.data)), False, None)
    return _ZeroGrad.apply(input, fn)


def sign(input):
    """-1, 0 or 1 (``torch.sign``); zero gradient."""
    return _piecewise_constant(input, np.sign)


def floor(input):
    """Round down (``torch.floor``); zero gradient."""
    return _piecewise_constant(input, np.floor)


def ceil(input):
    """Round up (``torch.ceil``); zero gradient."""
    return _piecewise_constant(input, np.ceil)


def round(input, decimals=0):
    """Round half to even (``torch.round``); zero gradient."""
    return _piecewise_constant(input, lambda a: np.round(a, decimals))


def trunc(input):
    """Round toward zero (``torch.trunc``); zero gradient."""
    return _piecewise_constant(input, np.trunc)


# ---- dtype and copies -------------------------------------------------------------------------
class Cast(Function):
    """Graph node of :func:`cast`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, dtype):
        ctx.in_dtype = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.to(ctx.in_dtype), None


def cast(input, dtype):
    """Convert to ``dtype``; differentiable between floating dtypes (used by ``Tensor.to``)."""
    if input.requires_grad and dtype.kind == "f":
        return Cast.apply(input, dtype)
    return Tensor._make(input.data.astype(dtype), False, None)


class Clone(Function):
    """Graph node of :func:`clone`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


def clone(input):
    """A copy of the data that stays in the graph (``torch.clone``)."""
    return Clone.apply(input)


def expand_as_copy(src, like):
    """``src`` cast to ``like``'s dtype and broadcast to its shape (what ``copy_`` writes)."""
    if not isinstance(src, Tensor):
        src = Tensor._make(np.asarray(src, dtype=like.dtype), False, None)
    if src.dtype != like.dtype:
        src = src.to(like.dtype)
    if src.shape != like.shape:
        src = src.expand(like.shape)
    return src


# ---- comparisons and logic (bool results, not differentiable) -------------------------------------
def _compare(ufunc, a, b):
    return Tensor._make(np.asarray(ufunc(_data(a), _data(b))), False, None)


def eq(input, other):
    """Elementwise ``==`` (``torch.eq``); a bool tensor."""
    return _compare(np.equal, input, other)


def ne(input, other):
    """Elementwise ``!=`` (``torch.ne``); a bool tensor."""
    return _compare(np.not_equal, input, other)


def lt(input, other):
    """Elementwise ``<`` (``torch.lt``); a bool tensor."""
    return _compare(np.less, input, other)


def le(input, other):
    """Elementwise ``<=`` (``torch.le``); a bool tensor."""
    return _compare(np.less_equal, input, other)


def gt(input, other):
    """Elementwise ``>`` (``torch.gt``); a bool tensor."""
    return _compare(np.greater, input, other)


def ge(input, other):
    """Elementwise ``>=`` (``torch.ge``); a bool tensor."""
    return _compare(np.greater_equal, input, other)


def logical_not(input):
    """Elementwise not (``torch.logical_not``; ``~`` on bool tensors)."""
    return Tensor._make(np.asarray(np.logical_not(input.data)), False, None)


def logical_and(input, other):
    """Elementwise and (``&`` on bool tensors)."""
    return _compare(np.logical_and, input, other)


def logical_or(input, other):
    """Elementwise or (``|`` on bool tensors)."""
    return _compare(np.logical_or, input, other)


def logical_xor(input, other):
    """Elementwise xor (``^`` on bool tensors)."""
    return _compare(np.logical_xor, input, other)


def isnan(input):
    """True where the element is NaN."""
    return Tensor._make(np.isnan(input.data), False, None)


def isinf(input):
    """True where the element is +-inf."""
    return Tensor._make(np.isinf(input.data), False, None)


def isfinite(input):
    """True where the element is finite."""
    return Tensor._make(np.isfinite(input.data), False, None)


def _float(t, op):
    """Math ops on integer tensors compute in the default float dtype (PyTorch's rule)."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(t).__name__}")
    if t.data.dtype.kind != "f":
        return t.to(_dt.get_default_dtype())
    return t
