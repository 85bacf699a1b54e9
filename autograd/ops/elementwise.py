"""Elementwise ops: arithmetic with NumPy broadcasting, unary math, activations, comparisons.

Each op is a :class:`~autograd.graph.Node` (forward on arrays, backward with Tensor ops)
followed by the function users call. Backward formulas may return gradients in the broadcast
shape: the engine sums them back to each input's shape (:func:`autograd.graph.sum_to`).

Dtype promotion follows PyTorch's rules for the common cases: a Python number does not change
a floating tensor's dtype (``float32 * 2.5`` stays ``float32``); an integer or bool tensor
combined with a Python float or a floating tensor becomes that floating dtype (the default
float for Python floats); true division of integers gives the default float; float32 with
float64 gives float64.
"""

import builtins
import math
import numbers

import numpy as np

from .. import dtypes as _dt
from ..graph import Node
from ._out import with_out as _with_out
from ..tensor import Tensor, _to_array

__all__ = [
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "neg",
    "negative", "pow", "exp", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt",
    "square", "reciprocal", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "clamp", "clip",
    "where", "masked_fill", "maximum", "minimum", "sign", "floor", "ceil", "round", "trunc",
    "eq", "ne", "lt", "le", "gt", "ge", "logical_not", "logical_and", "logical_or",
    "logical_xor", "isnan", "isinf", "isfinite", "cast", "clone", "floor_divide", "remainder",
    "fmod", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "isclose", "allclose", "equal",
    "addcmul", "addcdiv", "logaddexp", "hypot", "xlogy", "deg2rad", "rad2deg", "positive",
    "expand_as_copy",
    # activations
    "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "softplus", "hardtanh",
    "relu6", "logsigmoid", "hardsigmoid", "hardswish", "erf",
    # more unary/binary math
    "tan", "asin", "acos", "atan", "atan2", "arcsin", "arccos", "arctan", "arctan2", "sinh",
    "cosh", "frac", "lerp", "nan_to_num",
]


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


# ---- a floating tensor with a Python number ------------------------------------------------
# The commonest ops in a model (``x * scale``, ``h + 1e-5``, ``loss / n``) and the subject of
# the per-op overhead benchmark. These nodes keep the number as an attribute (nothing to save or
# version-check) and multiply by a cached 0-d array of the tensor's dtype, which NumPy computes
# about twice as fast as with a Python float, with the same result (NumPy treats a Python
# number as "weak": it is cast to the array's dtype first, which the cached array already is).
_SCALARS = {}


def _weak_scalar(s, dtype):
    """``s`` as a cached 0-d array of ``dtype`` (zeros are not cached: -0.0 == 0.0)."""
    key = (s, dtype)
    z = _SCALARS.get(key)
    if z is None:
        z = np.array(s, dtype=dtype)
        if s:
            if len(_SCALARS) >= 1024:
                _SCALARS.clear()
            _SCALARS[key] = z
    return z


class AddScalar(Node):
    """Graph node of ``tensor + number`` (from :func:`add`); named ``AddBackward0``."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, a, s):
        return a + _weak_scalar(s, a.dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad, None

    @classmethod
    def name(cls):
        return "AddBackward0"


class SubScalar(Node):
    """Graph node of ``tensor - number`` (from :func:`sub`); named ``SubBackward0``."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, a, s):
        return a - _weak_scalar(s, a.dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad, None

    @classmethod
    def name(cls):
        return "SubBackward0"


class MulScalar(Node):
    """Graph node of ``tensor * number`` (from :func:`mul`); named ``MulBackward0``."""

    __slots__ = ("scalar",)

    @staticmethod
    def forward(ctx, a, s):
        ctx.scalar = s
        return a * _weak_scalar(s, a.dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.scalar, None

    @classmethod
    def name(cls):
        return "MulBackward0"


class DivScalar(Node):
    """Graph node of ``tensor / number`` (from :func:`div`); named ``DivBackward0``."""

    __slots__ = ("scalar",)

    @staticmethod
    def forward(ctx, a, s):
        ctx.scalar = s
        return a / _weak_scalar(s, a.dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad / ctx.scalar, None

    @classmethod
    def name(cls):
        return "DivBackward0"


def _is_number(x):
    return x.__class__ is float or x.__class__ is int


# ---- arithmetic -------------------------------------------------------------------------------
class Add(Node):
    """Graph node of :func:`add`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, b):
        try:
            return a + b
        except ValueError as e:  # shapes that do not broadcast
            raise broadcast_error("add", a, b) or e from None

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


def add(input, other, alpha=1, *, out=None):
    """``input + alpha * other`` with broadcasting (``torch.add``)."""
    if out is not None:
        return _with_out("add", add, out, input, other, alpha=alpha)
    if alpha != 1:
        other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    a, b = _operands(input, other)
    if _is_number(b) and a._data.dtype.kind == "f":
        return AddScalar.apply(a, b)
    if _is_number(a) and b._data.dtype.kind == "f":
        return AddScalar.apply(b, a)
    return Add.apply(a, b)


class Sub(Node):
    """Graph node of :func:`sub`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, b):
        try:
            return a - b
        except ValueError as e:  # shapes that do not broadcast
            raise broadcast_error("sub", a, b) or e from None

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad


def sub(input, other, alpha=1, *, out=None):
    """``input - alpha * other`` with broadcasting (``torch.sub``)."""
    if out is not None:
        return _with_out("sub", sub, out, input, other, alpha=alpha)
    if alpha != 1:
        other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    a, b = _operands(input, other)
    if _is_number(b) and a._data.dtype.kind == "f":
        return SubScalar.apply(a, b)
    return Sub.apply(a, b)


subtract = sub


class Mul(Node):
    """Graph node of :func:`mul`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, b):
        try:
            ctx.save_for_backward(a, b)
            return a * b
        except ValueError as e:  # shapes that do not broadcast
            raise broadcast_error("mul", a, b) or e from None

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        return (grad * b if na else None), (grad * a if nb else None)


def mul(input, other, *, out=None):
    """``input * other`` with broadcasting (``torch.mul``)."""
    if out is not None:
        return _with_out("mul", mul, out, input, other)
    a, b = _operands(input, other)
    if _is_number(b) and a._data.dtype.kind == "f":
        return MulScalar.apply(a, b)
    if _is_number(a) and b._data.dtype.kind == "f":
        return MulScalar.apply(b, a)
    return Mul.apply(a, b)


multiply = mul


class Div(Node):
    """Graph node of :func:`div`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, b):
        try:
            ctx.save_for_backward(a, b)
            return a / b
        except ValueError as e:  # shapes that do not broadcast
            raise broadcast_error("div", a, b) or e from None

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = grad / b if na else None
        # PyTorch's order: b * b overflows for |b| > 1.8e19 in float32 (a zero gradient)
        gb = -grad * ((a / b) / b) if nb else None
        return ga, gb


def div(input, other, rounding_mode=None, *, out=None):
    """``input / other`` (true division; integers give the default float dtype) with
    broadcasting (``torch.div``). ``rounding_mode='floor'``/``'trunc'`` round the quotient
    (not differentiable).

    Raises:
        ValueError: for an unknown ``rounding_mode``.
    """
    if out is not None:
        return _with_out("div", div, out, input, other, rounding_mode=rounding_mode)
    a, b = _operands(input, other)
    if rounding_mode is not None:
        if rounding_mode not in ("floor", "trunc"):
            raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', "
                             f"got {rounding_mode!r}")
        try:
            q = _data(a) / _data(b) if rounding_mode == "trunc" else None
            arr = np.trunc(q) if q is not None else np.floor_divide(_data(a), _data(b))
        except ValueError as e:  # shapes that do not broadcast
            raise broadcast_error("div", _data(a), _data(b)) or e from None
        dt = _result_dtype(a, b)
        return Tensor._make(np.asarray(arr).astype(dt, copy=False), False, None)
    if _data_kind(a) != "f" and _data_kind(b) != "f":
        a = a.to(_dt.get_default_dtype()) if isinstance(a, Tensor) else float(a)
        b = b.to(_dt.get_default_dtype()) if isinstance(b, Tensor) else float(b)
    if _is_number(b) and a._data.dtype.kind == "f":
        return DivScalar.apply(a, b)
    return Div.apply(a, b)


divide = true_divide = div


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


def floor_divide(input, other):
    """Floor division (``torch.floor_divide``); not differentiable."""
    return div(input, other, rounding_mode="floor")


class Remainder(Node):
    """Graph node of :func:`remainder` and :func:`fmod` (floating operands): the gradient is
    ``grad`` for the dividend and ``-grad * q`` for the divisor, with ``q = floor(a / b)``
    (``remainder``) or ``trunc(a / b)`` (``fmod``), as PyTorch's derivatives.yaml."""

    @staticmethod
    def forward(ctx, a, b, floor):
        try:
            out = np.remainder(a, b) if floor else np.fmod(a, b)
        except ValueError as e:  # shapes that do not broadcast
            raise broadcast_error("remainder" if floor else "fmod", a, b) or e from None
        ctx.floor = floor
        ctx.ab = (a, b) if not isinstance(b, (int, float)) else None
        return out

    @staticmethod
    def backward(ctx, grad):
        if ctx.ab is None or not ctx.needs_input_grad[1]:
            return grad, None
        a, b = ctx.ab
        q = np.floor(a / b) if ctx.floor else np.trunc(a / b)
        return grad, -grad * Tensor._make(q.astype(grad.dtype, copy=False), False, None)


def _mod(input, other, floor, op):
    a, b = _operands(input, other)
    ta = isinstance(a, Tensor)
    t = a if ta else b
    if t._data.dtype.kind == "f":
        if not ta:
            a = Tensor._make(np.asarray(a, dtype=b._data.dtype), False, None)
        if isinstance(b, Tensor) or _is_number(b):
            with np.errstate(divide="ignore", invalid="ignore"):
                return Remainder.apply(a, b, floor)
    divisor = b._data if isinstance(b, Tensor) else np.asarray(b)
    if divisor.dtype.kind in "iub" and t._data.dtype.kind in "iub" and (divisor == 0).any():
        raise RuntimeError("ZeroDivisionError")  # PyTorch's message for an integer % 0
    return _compare(np.remainder if floor else np.fmod, a, b, op)


def remainder(input, other, *, out=None):
    """Python-style modulus ``input - floor(input / other) * other``: the result has the sign
    of the divisor (``torch.remainder``; ``%``). Either operand may be a number.

    Differentiable for floating tensors: ``d/d input = 1``, ``d/d other = -floor(input /
    other)``. Integer operands give an integer result (no gradient).

    Raises:
        RuntimeError: ``ZeroDivisionError`` for an integer division by zero (as PyTorch); shapes
            that do not broadcast.
    """
    if out is not None:
        return _with_out("remainder", remainder, out, input, other)
    return _mod(input, other, True, "remainder")


def fmod(input, other, *, out=None):
    """C-style remainder ``input - trunc(input / other) * other``: the result has the sign of
    the dividend (``torch.fmod``). Differentiable like :func:`remainder`, with ``trunc``.

    Raises:
        RuntimeError: ``ZeroDivisionError`` for an integer division by zero; shapes that do not
            broadcast.
    """
    if out is not None:
        return _with_out("fmod", fmod, out, input, other)
    return _mod(input, other, False, "fmod")


class Neg(Node):
    """Graph node of :func:`neg`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, grad):
        return -grad


def neg(input, *, out=None):
    """``-input`` (``torch.neg``)."""
    if out is not None:
        return _with_out("neg", neg, out, input)
    return Neg.apply(input)


negative = neg


class Pow(Node):
    """Graph node of :func:`pow`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, b):
        try:
            out = np.power(a, b)
            ctx.save_for_backward(a, b, out)
            return out
        except ValueError as e:  # shapes that do not broadcast
            raise broadcast_error("pow", a, b) or e from None

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


def pow(input, exponent, *, out=None):
    """``input ** exponent`` with broadcasting; either may be a Tensor (``torch.pow``).

    The gradient w.r.t. the exponent, ``a^b log a``, is 0 where ``a == 0`` and ``b >= 0``
    (PyTorch's convention); it is nan for negative bases, as in PyTorch.
    """
    if out is not None:
        return _with_out("pow", pow, out, input, exponent)
    a, b = _operands(input, exponent)
    if isinstance(b, Tensor) or isinstance(a, Tensor) and a._data.dtype.kind == "f":
        return Pow.apply(a, b)
    # integer tensor ** number: not differentiable
    return _compare(np.power, a, b, "pow")


# ---- unary math ---------------------------------------------------------------------------------
class Exp(Node):
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


def exp(input, *, out=None):
    """``e ** input`` (``torch.exp``)."""
    if out is not None:
        return _with_out("exp", exp, out, input)
    return Exp.apply(_float(input, "exp"))


class Expm1(Node):
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


def expm1(input, *, out=None):
    """``exp(input) - 1``, accurate near 0 (``torch.expm1``)."""
    if out is not None:
        return _with_out("expm1", expm1, out, input)
    return Expm1.apply(_float(input, "expm1"))


class Log(Node):
    """Graph node of :func:`log`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad / a


def log(input, *, out=None):
    """Natural logarithm (``torch.log``); ``-inf`` at 0 and ``nan`` below, as PyTorch."""
    if out is not None:
        return _with_out("log", log, out, input)
    return Log.apply(_float(input, "log"))


def log2(input):
    """Base-2 logarithm (``torch.log2``)."""
    return log(input) * (1.0 / math.log(2.0))


def log10(input):
    """Base-10 logarithm (``torch.log10``)."""
    return log(input) * (1.0 / math.log(10.0))


class Log1p(Node):
    """Graph node of :func:`log1p`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log1p(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad / (a + 1)


def log1p(input, *, out=None):
    """``log(1 + input)``, accurate near 0 (``torch.log1p``)."""
    if out is not None:
        return _with_out("log1p", log1p, out, input)
    return Log1p.apply(_float(input, "log1p"))


class Sqrt(Node):
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


def sqrt(input, *, out=None):
    """Square root (``torch.sqrt``); the gradient at 0 is ``inf``, as PyTorch's."""
    if out is not None:
        return _with_out("sqrt", sqrt, out, input)
    return Sqrt.apply(_float(input, "sqrt"))


def rsqrt(input):
    """``1 / sqrt(input)`` (``torch.rsqrt``)."""
    return pow(_float(input, "rsqrt"), -0.5)


def square(input, *, out=None):
    """``input * input`` (``torch.square``)."""
    if out is not None:
        return _with_out("square", square, out, input)
    return mul(input, input)


def reciprocal(input, *, out=None):
    """``1 / input`` (``torch.reciprocal``)."""
    if out is not None:
        return _with_out("reciprocal", reciprocal, out, input)
    return div(1.0, _float(input, "reciprocal"))


class Abs(Node):
    """Graph node of :func:`abs`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * sign(a)


def abs(input, *, out=None):
    """Absolute value (``torch.abs``); gradient ``sign(x)``, 0 at 0 and at NaN (PyTorch's
    choice)."""
    if out is not None:
        return _with_out("abs", abs, out, input)
    if input._data.dtype.kind != "f":
        return Tensor._make(np.abs(input._data), False, None)
    return Abs.apply(input)


class Sin(Node):
    """Graph node of :func:`sin`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.sin(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * cos(a)


def sin(input, *, out=None):
    """Sine (``torch.sin``)."""
    if out is not None:
        return _with_out("sin", sin, out, input)
    return Sin.apply(_float(input, "sin"))


class Cos(Node):
    """Graph node of :func:`cos`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.cos(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return -grad * sin(a)


def cos(input, *, out=None):
    """Cosine (``torch.cos``)."""
    if out is not None:
        return _with_out("cos", cos, out, input)
    return Cos.apply(_float(input, "cos"))


class Tanh(Node):
    """Graph node of :func:`tanh`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        out = np.tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return TanhBackward.apply(grad, out)


class TanhBackward(Node):
    """``grad * (1 - y^2)`` as one node (Chainer's ``TanhGrad``): the backward of :func:`tanh`
    in one graph node instead of three, itself differentiable (for double backward):
    d/d grad = 1 - y^2, d/d y = -2 grad y."""

    @staticmethod
    def forward(ctx, g, y):
        ctx.save_for_backward(g, y)
        return g * (1 - y * y)

    @staticmethod
    def backward(ctx, gg):
        g, y = ctx.saved_tensors
        ng, ny = ctx.needs_input_grad
        return (gg * (1 - y * y) if ng else None), (gg * g * y * -2.0 if ny else None)


def tanh(input, *, out=None):
    """Hyperbolic tangent (``torch.tanh``); backward uses the saved output: ``1 - y^2``."""
    if out is not None:
        return _with_out("tanh", tanh, out, input)
    return Tanh.apply(_float(input, "tanh"))


def _expit(a):
    """SciPy's ``expit`` (loaded on first use: importing ``scipy.special`` takes a few tenths of
    a second, which ``import autograd`` should not pay)."""
    global _expit
    from scipy.special import expit
    _expit = expit
    return expit(a)


class Sigmoid(Node):
    """Graph node of :func:`sigmoid`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        # SciPy's expit: one ufunc, numerically stable for large |x|, keeps float32/float64
        # (seven NumPy ops for the same stable formula cost about ten times as much).
        out = _expit(a).astype(a.dtype, copy=False)  # float16 comes back as float64
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return SigmoidBackward.apply(grad, out)


class SigmoidBackward(Node):
    """``grad * y * (1 - y)`` as one node (Chainer's ``SigmoidGrad``): the backward of
    :func:`sigmoid`, itself differentiable (for double backward): d/d grad = y (1 - y),
    d/d y = grad (1 - 2 y)."""

    @staticmethod
    def forward(ctx, g, y):
        ctx.save_for_backward(g, y)
        return g * y * (1 - y)

    @staticmethod
    def backward(ctx, gg):
        g, y = ctx.saved_tensors
        ng, ny = ctx.needs_input_grad
        return (gg * y * (1 - y) if ng else None), (gg * g * (1 - 2.0 * y) if ny else None)


def sigmoid(input, *, out=None):
    """Logistic sigmoid ``1 / (1 + exp(-x))`` (``torch.sigmoid``), computed without overflow;
    backward uses the saved output: ``y (1 - y)``."""
    if out is not None:
        return _with_out("sigmoid", sigmoid, out, input)
    return Sigmoid.apply(_float(input, "sigmoid"))


class Relu(Node):
    """Graph node of :func:`relu`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        out = np.maximum(a, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        # PyTorch's threshold_backward zeroes where out <= 0: NaN passes the gradient on
        return grad * (out <= 0).logical_not()


def relu(input):
    """``max(x, 0)`` (``torch.relu``); the gradient at 0 is 0 and at NaN 1, as PyTorch's.

    Raises:
        RuntimeError: for a bool input (as PyTorch).
    """
    if input._data.dtype.kind == "b":
        raise RuntimeError(f"relu: Boolean inputs not supported (input of shape "
                           f"{tuple(input.shape)})")
    return Relu.apply(input)


class Clamp(Node):
    """Graph node of :func:`clamp`: its forward and backward."""

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


class Maximum(Node):
    """Graph node of :func:`maximum`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, b):
        try:
            ctx.save_for_backward(a, b)
            return np.maximum(a, b)
        except ValueError as e:  # shapes that do not broadcast
            raise broadcast_error("maximum", a, b) or e from None

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        # ties split the gradient equally (PyTorch's convention)
        wa = (a > b) + (a == b) * 0.5
        return grad * wa, grad * (1 - wa)


def maximum(input, other, *, out=None):
    """Elementwise maximum (``torch.maximum``); ties split the gradient in half."""
    if out is not None:
        return _with_out("maximum", maximum, out, input, other)
    return Maximum.apply(*_operands(input, other))


class Minimum(Node):
    """Graph node of :func:`minimum`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, b):
        try:
            ctx.save_for_backward(a, b)
            return np.minimum(a, b)
        except ValueError as e:  # shapes that do not broadcast
            raise broadcast_error("minimum", a, b) or e from None

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        wa = (a < b) + (a == b) * 0.5
        return grad * wa, grad * (1 - wa)


def minimum(input, other, *, out=None):
    """Elementwise minimum (``torch.minimum``); ties split the gradient in half."""
    if out is not None:
        return _with_out("minimum", minimum, out, input, other)
    return Minimum.apply(*_operands(input, other))


class Where(Node):
    """Graph node of :func:`where`: its forward and backward."""

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


class _ZeroGrad(Node):
    """Piecewise-constant ops (floor, ceil, round, trunc, sign): zero gradient, as PyTorch."""

    @staticmethod
    def forward(ctx, a, fn):
        return fn(a)

    @staticmethod
    def backward(ctx, grad):
        return grad * 0, None


def _piecewise_constant(input, fn):
    if input._data.dtype.kind != "f":
        return Tensor._make(np.asarray(fn(input._data)), False, None)
    return _ZeroGrad.apply(input, fn)


def _sign(a):
    """PyTorch's ``sign``: ``(0 < a) - (a < 0)``, so NaN gives 0 (NumPy's ``sign`` gives NaN;
    PyTorch's 0 is also why ``abs`` and ``l1_loss`` have a zero gradient at NaN)."""
    if a.dtype == np.bool_:
        return a.copy()
    return np.subtract(a > 0, a < 0, dtype=a.dtype)


def sign(input, *, out=None):
    """-1, 0 or 1 (``torch.sign``), and 0 for NaN as in PyTorch; zero gradient."""
    if out is not None:
        return _with_out("sign", sign, out, input)
    return _piecewise_constant(input, _sign)


def floor(input, *, out=None):
    """Round down (``torch.floor``); zero gradient."""
    if out is not None:
        return _with_out("floor", floor, out, input)
    return _piecewise_constant(input, np.floor)


def ceil(input, *, out=None):
    """Round up (``torch.ceil``); zero gradient."""
    if out is not None:
        return _with_out("ceil", ceil, out, input)
    return _piecewise_constant(input, np.ceil)


def round(input, decimals=0, *, out=None):
    """Round half to even (``torch.round``); zero gradient."""
    if out is not None:
        return _with_out("round", round, out, input, decimals=decimals)
    return _piecewise_constant(input, lambda a: np.round(a, decimals))


def trunc(input, *, out=None):
    """Round toward zero (``torch.trunc``); zero gradient."""
    if out is not None:
        return _with_out("trunc", trunc, out, input)
    return _piecewise_constant(input, np.trunc)


# ---- dtype and copies -------------------------------------------------------------------------
class Cast(Node):
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
    return Tensor._make(input._data.astype(dtype), False, None)


class Clone(Node):
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
_TORCH_NAMES = {"equal": "eq", "not_equal": "ne", "less": "lt", "less_equal": "le",
                "greater": "gt", "greater_equal": "ge"}


def _compare(ufunc, a, b, op=None):
    """``ufunc`` on the arrays of ``a`` and ``b``, as a constant tensor (not differentiable)."""
    try:
        return Tensor._make(np.asarray(ufunc(_data(a), _data(b))), False, None)
    except ValueError as e:  # shapes that do not broadcast
        name = op or _TORCH_NAMES.get(ufunc.__name__, ufunc.__name__)
        raise broadcast_error(name, _data(a), _data(b)) or e from None


def eq(input, other, *, out=None):
    """Elementwise ``==`` (``torch.eq``); a bool tensor."""
    if out is not None:
        return _with_out("eq", eq, out, input, other)
    return _compare(np.equal, input, other)


def ne(input, other, *, out=None):
    """Elementwise ``!=`` (``torch.ne``); a bool tensor."""
    if out is not None:
        return _with_out("ne", ne, out, input, other)
    return _compare(np.not_equal, input, other)


def lt(input, other, *, out=None):
    """Elementwise ``<`` (``torch.lt``); a bool tensor."""
    if out is not None:
        return _with_out("lt", lt, out, input, other)
    return _compare(np.less, input, other)


def le(input, other, *, out=None):
    """Elementwise ``<=`` (``torch.le``); a bool tensor."""
    if out is not None:
        return _with_out("le", le, out, input, other)
    return _compare(np.less_equal, input, other)


def gt(input, other, *, out=None):
    """Elementwise ``>`` (``torch.gt``); a bool tensor."""
    if out is not None:
        return _with_out("gt", gt, out, input, other)
    return _compare(np.greater, input, other)


def ge(input, other, *, out=None):
    """Elementwise ``>=`` (``torch.ge``); a bool tensor."""
    if out is not None:
        return _with_out("ge", ge, out, input, other)
    return _compare(np.greater_equal, input, other)


def logical_not(input):
    """Elementwise not (``torch.logical_not``; ``~`` on bool tensors)."""
    return Tensor._make(np.asarray(np.logical_not(input._data)), False, None)


def logical_and(input, other):
    """Elementwise and (``&`` on bool tensors)."""
    return _compare(np.logical_and, input, other)


def logical_or(input, other):
    """Elementwise or (``|`` on bool tensors)."""
    return _compare(np.logical_or, input, other)


def logical_xor(input, other):
    """Elementwise xor (``^`` on bool tensors)."""
    return _compare(np.logical_xor, input, other)


_TORCH_TYPES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _torch_type(dtype):
    """PyTorch's scalar-type name of ``dtype`` (``Float`` for float32), as its messages say."""
    return _TORCH_TYPES.get(str(dtype), str(dtype))


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


def bitwise_and(input, other, *, out=None):
    """Elementwise bitwise AND of integer or bool tensors (``torch.bitwise_and``; ``&``); logical
    AND for bool. ``other`` may be a Python int/bool.

    Raises:
        NotImplementedError: for a floating tensor (as PyTorch).
    """
    if out is not None:
        return _with_out("bitwise_and", bitwise_and, out, input, other)
    return _bitwise(np.bitwise_and, input, other, "bitwise_and")


def bitwise_or(input, other, *, out=None):
    """Elementwise bitwise OR (``torch.bitwise_or``; ``|``); see :func:`bitwise_and`."""
    if out is not None:
        return _with_out("bitwise_or", bitwise_or, out, input, other)
    return _bitwise(np.bitwise_or, input, other, "bitwise_or")


def bitwise_xor(input, other, *, out=None):
    """Elementwise bitwise XOR (``torch.bitwise_xor``; ``^``); see :func:`bitwise_and`."""
    if out is not None:
        return _with_out("bitwise_xor", bitwise_xor, out, input, other)
    return _bitwise(np.bitwise_xor, input, other, "bitwise_xor")


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


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """``input + value * tensor1 * tensor2`` with broadcasting (``torch.addcmul``);
    differentiable in all three tensors."""
    if out is not None:
        return _with_out("addcmul", addcmul, out, input, tensor1, tensor2, value=value)
    prod = mul(tensor1, tensor2)
    return add(input, prod if value == 1 else mul(prod, value))


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """``input + value * tensor1 / tensor2`` with broadcasting (``torch.addcdiv``);
    differentiable in all three tensors.

    Raises:
        RuntimeError: for two integer ``tensor1``/``tensor2`` (PyTorch refuses integer
            division here).
    """
    if out is not None:
        return _with_out("addcdiv", addcdiv, out, input, tensor1, tensor2, value=value)
    if all(isinstance(t, Tensor) and t._data.dtype.kind in "iub" for t in (tensor1, tensor2)):
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a "
                           "future release addcdiv will perform a true division of tensor1 and "
                           "tensor2. The historic addcdiv behavior can be implemented as "
                           "(input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
                           "integer inputs and as (input + value * tensor1 / tensor2) for float "
                           "inputs. The future addcdiv behavior is just the latter "
                           "implementation: (input + value * tensor1 / tensor2), for all dtypes.")
    q = div(tensor1, tensor2)
    return add(input, q if value == 1 else mul(q, value))


def isnan(input):
    """True where the element is NaN."""
    return Tensor._make(np.isnan(input._data), False, None)


def isinf(input):
    """True where the element is +-inf."""
    return Tensor._make(np.isinf(input._data), False, None)


def isfinite(input):
    """True where the element is finite."""
    return Tensor._make(np.isfinite(input._data), False, None)


def _float(t, op):
    """Math ops on integer tensors compute in the default float dtype (PyTorch's rule)."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(t).__name__}")
    if t._data.dtype.kind != "f":
        return t.to(_dt.get_default_dtype())
    return t


# ---- more unary math ----------------------------------------------------------------------------
class Tan(Node):
    """Graph node of :func:`tan`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        out = np.tan(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad * (out * out + 1.0)


def tan(input):
    """Tangent (``torch.tan``); gradient ``1 + tan(x)^2`` from the saved output."""
    return Tan.apply(_float(input, "tan"))


class Asin(Node):
    """Graph node of :func:`asin`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.arcsin(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * rsqrt(1.0 - a * a)


def asin(input):
    """Inverse sine (``torch.asin``); nan outside ``[-1, 1]``; gradient
    ``1 / sqrt(1 - x^2)``."""
    return Asin.apply(_float(input, "asin"))


class Acos(Node):
    """Graph node of :func:`acos`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.arccos(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return -grad * rsqrt(1.0 - a * a)


def acos(input):
    """Inverse cosine (``torch.acos``); nan outside ``[-1, 1]``; gradient
    ``-1 / sqrt(1 - x^2)``."""
    return Acos.apply(_float(input, "acos"))


class Atan(Node):
    """Graph node of :func:`atan`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.arctan(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad / (a * a + 1.0)


def atan(input):
    """Inverse tangent (``torch.atan``); gradient ``1 / (1 + x^2)``."""
    return Atan.apply(_float(input, "atan"))


class Atan2(Node):
    """Graph node of :func:`atan2`: its forward and backward."""

    @staticmethod
    def forward(ctx, y, x):
        ctx.save_for_backward(y, x)
        try:
            return np.arctan2(y, x)
        except ValueError as e:  # shapes that do not broadcast
            raise broadcast_error("atan2", y, x) or e from None

    @staticmethod
    def backward(ctx, grad):
        y, x = ctx.saved_tensors
        ny, nx = ctx.needs_input_grad
        g = grad / (x * x + y * y)
        return (g * x if ny else None), (-g * y if nx else None)


def atan2(input, other, *, out=None):
    """Quadrant-aware ``atan(input / other)`` with broadcasting (``torch.atan2``); integer
    inputs compute in the default float dtype. Gradients ``x / (x^2 + y^2)`` w.r.t.
    ``input = y`` and ``-y / (x^2 + y^2)`` w.r.t. ``other = x``."""
    if out is not None:
        return _with_out("atan2", atan2, out, input, other)
    a, b = _operands(input, other)
    if _data_kind(a) != "f" and _data_kind(b) != "f":
        a = a.to(_dt.get_default_dtype()) if isinstance(a, Tensor) else float(a)
        b = b.to(_dt.get_default_dtype()) if isinstance(b, Tensor) else float(b)
    return Atan2.apply(a, b)


class Sinh(Node):
    """Graph node of :func:`sinh`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.sinh(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * cosh(a)


def sinh(input):
    """Hyperbolic sine (``torch.sinh``)."""
    return Sinh.apply(_float(input, "sinh"))


class Cosh(Node):
    """Graph node of :func:`cosh`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.cosh(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * sinh(a)


def cosh(input):
    """Hyperbolic cosine (``torch.cosh``)."""
    return Cosh.apply(_float(input, "cosh"))


arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2


def frac(input):
    """Fractional part ``x - trunc(x)``, sign of ``x`` (``torch.frac``); gradient 1.

    Raises:
        TypeError: if ``input`` is not a Tensor.
        NotImplementedError: for an integer/bool tensor (as PyTorch: "frac_cpu" not
            implemented for integers).
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"frac: expected a Tensor, got {type(input).__name__}")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"frac: not implemented for dtype {input.dtype} (shape "
                                  f"{tuple(input.shape)}); expected a floating point tensor")
    return sub(input, trunc(input))


def lerp(input, end, weight, *, out=None):
    """Linear interpolation ``input + weight * (end - input)`` with broadcasting
    (``torch.lerp``); ``weight`` is a number or a Tensor. Gradients ``1 - weight``,
    ``weight`` and ``end - input``.

    Raises:
        TypeError: if ``input`` or ``end`` is not a Tensor.
        RuntimeError: if ``input`` and ``end`` (or a Tensor ``weight``) differ in dtype, as
            PyTorch.
    """
    if out is not None:
        return _with_out("lerp", lerp, out, input, end, weight)
    if not isinstance(input, Tensor) or not isinstance(end, Tensor):
        raise TypeError(f"lerp: expected Tensors for input and end, got "
                        f"{type(input).__name__} and {type(end).__name__}")
    if input.dtype != end.dtype or (isinstance(weight, Tensor) and weight.dtype != input.dtype):
        wd = weight.dtype if isinstance(weight, Tensor) else type(weight).__name__
        raise RuntimeError(f"lerp: expected input, end and weight of the same dtype, got "
                        f"{input.dtype}, {end.dtype} and {wd}")
    return add(input, mul(weight, sub(end, input)) if isinstance(weight, Tensor)
               else mul(sub(end, input), weight))


class NanToNum(Node):
    """Graph node of :func:`nan_to_num`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, nan, posinf, neginf):
        ctx.save_for_backward(a)
        return np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        # PyTorch: grad * isfinite(x): no gradient into the replaced elements
        return grad * isfinite(a), None, None, None


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """Replace NaN by ``nan``, +inf by ``posinf`` and -inf by ``neginf`` (defaults: the dtype's
    largest and lowest finite values) (``torch.nan_to_num``). Integer tensors are returned
    unchanged (as a copy)."""
    if input._data.dtype.kind != "f":
        return Tensor._make(input._data.copy(), False, None)
    return NanToNum.apply(input, nan, posinf, neginf)


# ---- activations -------------------------------------------------------------------------------
# Each has its own Function (one node per call, as PyTorch) whose backward is written with Tensor
# ops, so second derivatives work. Formulas and gradient conventions at the kinks follow
# PyTorch's (aten/src/ATen/native/Activation.cpp and its derivatives.yaml).

def _act_input(input, op, allow_int=False):
    """Activations take a floating Tensor; integer tensors are rejected as PyTorch does
    (``NotImplementedError``), except by the clamps (``hardtanh``, ``relu6``)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor as input, got {type(input).__name__}")
    if input._data.dtype.kind != "f" and not (allow_int and input._data.dtype.kind in "iu"):
        raise NotImplementedError(f"{op}: not implemented for dtype {input.dtype} (shape "
                                  f"{tuple(input.shape)}); expected a floating point tensor, "
                                  "convert it with .float() first")
    return input


def _maybe_inplace(input, inplace, name, fn):
    if inplace:
        return input._inplace(name + "_", fn)
    return fn(input)


class LeakyRelu(Node):
    """Graph node of :func:`leaky_relu`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, slope):
        ctx.slope = slope
        ctx.save_for_backward(a)
        return np.where(a > 0, a, a * a.dtype.type(slope))

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return where(a > 0, grad, grad * ctx.slope), None


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``x`` where ``x > 0`` else ``negative_slope * x`` (``F.leaky_relu``).

    The gradient at 0 is ``negative_slope`` (PyTorch's convention). Shape: any; dtype: floating.

    Raises:
        NotImplementedError: for a non-floating input (as PyTorch).
    """
    _act_input(input, "leaky_relu")
    return _maybe_inplace(input, inplace, "leaky_relu",
                          lambda t: LeakyRelu.apply(t, float(negative_slope)))


class Elu(Node):
    """Graph node of the ELU family (:func:`elu`, :func:`selu`, :func:`celu`): PyTorch's
    ``elu(x; alpha, scale, input_scale) = scale * x`` for ``x > 0``, else
    ``scale * alpha * (exp(input_scale * x) - 1)``."""

    @staticmethod
    def forward(ctx, a, alpha, scale, input_scale):
        ctx.alpha, ctx.scale, ctx.input_scale = alpha, scale, input_scale
        neg = np.expm1(np.minimum(a, 0) * input_scale) * (scale * alpha)
        out = np.where(a > 0, a * scale, neg).astype(a.dtype, copy=False)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        # d/dx for x <= 0: scale * alpha * input_scale * exp(input_scale * x)
        #                = input_scale * (out + scale * alpha)
        neg = grad * ((out + ctx.scale * ctx.alpha) * ctx.input_scale)
        # PyTorch's test is x <= 0, so NaN takes the positive branch (gradient scale, not NaN)
        return where(a <= 0, neg, grad * ctx.scale), None, None, None


def elu(input, alpha=1.0, inplace=False):
    """Exponential linear unit (``F.elu``): ``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``
    (Clevert et al., 2015, https://arxiv.org/abs/1511.07289). Shape: any; dtype: floating.

    Raises:
        NotImplementedError: for a non-floating input (as PyTorch).
    """
    _act_input(input, "elu")
    return _maybe_inplace(input, inplace, "elu",
                          lambda t: Elu.apply(t, float(alpha), 1.0, 1.0))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """Scaled ELU (``F.selu``): ``scale * (max(0, x) + min(0, alpha * (exp(x) - 1)))`` with
    ``alpha = 1.6732632423543772848170429916717`` and
    ``scale = 1.0507009873554804934193349852946`` (Klambauer et al., 2017,
    https://arxiv.org/abs/1706.02515). Shape: any; dtype: floating.

    Raises:
        NotImplementedError: for a non-floating input (as PyTorch).
    """
    _act_input(input, "selu")
    return _maybe_inplace(input, inplace, "selu",
                          lambda t: Elu.apply(t, _SELU_ALPHA, _SELU_SCALE, 1.0))


def celu(input, alpha=1.0, inplace=False):
    """Continuously differentiable ELU (``F.celu``):
    ``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))`` (Barron, 2017,
    https://arxiv.org/abs/1704.07483). Shape: any; dtype: floating.

    Raises:
        NotImplementedError: for a non-floating input (as PyTorch).
        RuntimeError: if ``alpha == 0`` (as PyTorch: ZeroDivisionError in ``exp(x / alpha)``).
    """
    _act_input(input, "celu")
    if alpha == 0:
        raise RuntimeError("celu: ZeroDivisionError: alpha cannot be 0 for CELU "
                           "(exp(x / alpha))")
    return _maybe_inplace(input, inplace, "celu",
                          lambda t: Elu.apply(t, float(alpha), 1.0, 1.0 / float(alpha)))


def _erf_array(a):
    from scipy.special import erf as _erf  # imported on first use (scipy is a runtime dep)
    return _erf(a).astype(a.dtype, copy=False)


class Erf(Node):
    """Graph node of :func:`erf`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _erf_array(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * (exp(-(a * a)) * (2.0 / math.sqrt(math.pi)))


def erf(input, *, out=None):
    """Gauss error function ``2/sqrt(pi) * int_0^x exp(-t^2) dt`` (``torch.erf``); integer
    inputs compute in the default float dtype. Gradient ``2/sqrt(pi) * exp(-x^2)``."""
    if out is not None:
        return _with_out("erf", erf, out, input)
    return Erf.apply(_float(input, "erf"))


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class Gelu(Node):
    """Graph node of :func:`gelu`: its forward and backward (exact and tanh forms)."""

    @staticmethod
    def forward(ctx, a, approximate):
        ctx.approximate = approximate
        ctx.save_for_backward(a)
        if approximate == "tanh":
            inner = (a + 0.044715 * a * a * a) * _SQRT_2_OVER_PI
            return (0.5 * a * (1.0 + np.tanh(inner))).astype(a.dtype, copy=False)
        return (0.5 * a * (1.0 + _erf_array(a * _INV_SQRT_2))).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        if ctx.approximate == "tanh":
            t = tanh((a + a * a * a * 0.044715) * _SQRT_2_OVER_PI)
            dinner = (a * a * (3 * 0.044715) + 1.0) * _SQRT_2_OVER_PI
            return grad * ((t + 1.0) * 0.5 + a * 0.5 * (1.0 - t * t) * dinner), None
        cdf = (erf(a * _INV_SQRT_2) + 1.0) * 0.5
        pdf = exp(a * a * -0.5) * _INV_SQRT_2PI
        return grad * (cdf + a * pdf), None


def gelu(input, approximate="none"):
    """Gaussian error linear unit (``F.gelu``, Hendrycks & Gimpel, 2016,
    https://arxiv.org/abs/1606.08415): ``x * Phi(x)`` with ``Phi`` the standard normal CDF
    (``approximate='none'``), or ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``
    (``approximate='tanh'``). Shape: any; dtype: floating.

    Raises:
        NotImplementedError: for a non-floating input (as PyTorch).
        RuntimeError: for an ``approximate`` other than ``'none'`` or ``'tanh'`` (as PyTorch).
    """
    _act_input(input, "gelu")
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(input, approximate)


def _sigmoid_array(a):
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)


class Silu(Node):
    """Graph node of :func:`silu`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * _sigmoid_array(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        s = sigmoid(a)
        return grad * (s * (a * (1.0 - s) + 1.0))


def silu(input, inplace=False):
    """Sigmoid linear unit / swish ``x * sigmoid(x)`` (``F.silu``; Elfwing et al., 2017,
    https://arxiv.org/abs/1702.03118). Shape: any; dtype: floating.

    Raises:
        NotImplementedError: for a non-floating input (as PyTorch).
    """
    _act_input(input, "silu")
    return _maybe_inplace(input, inplace, "silu", Silu.apply)


def _softplus_array(a):
    # log(1 + exp(a)) without overflow
    return (np.maximum(a, 0) + np.log1p(np.exp(-np.abs(a)))).astype(a.dtype, copy=False)


class Mish(Node):
    """Graph node of :func:`mish`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * np.tanh(_softplus_array(a))

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        t = tanh(softplus(a))
        return grad * (t + a * (1.0 - t * t) * sigmoid(a))


def mish(input, inplace=False):
    """``x * tanh(softplus(x))`` (``F.mish``; Misra, 2019, https://arxiv.org/abs/1908.08681).
    Shape: any; dtype: floating.

    Raises:
        NotImplementedError: for a non-floating input (as PyTorch).
    """
    _act_input(input, "mish")
    return _maybe_inplace(input, inplace, "mish", Mish.apply)


class Softplus(Node):
    """Graph node of :func:`softplus`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, beta, threshold):
        ctx.beta, ctx.threshold = beta, threshold
        ctx.save_for_backward(a)
        z = a * a.dtype.type(beta)
        return np.where(z > threshold, a, _softplus_array(z) / a.dtype.type(beta))

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        z = a * ctx.beta
        return where(z > ctx.threshold, grad, grad * sigmoid(z)), None, None


def softplus(input, beta=1.0, threshold=20.0):
    """``1/beta * log(1 + exp(beta * x))`` (``F.softplus``), computed without overflow; where
    ``beta * x > threshold`` it is ``x`` (PyTorch's linear cut-off). Shape: any; dtype: floating.

    Raises:
        NotImplementedError: for a non-floating input (as PyTorch).
    """
    _act_input(input, "softplus")
    return Softplus.apply(input, float(beta), float(threshold))


class Hardtanh(Node):
    """Graph node of :func:`hardtanh`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, lo, hi):
        ctx.lo, ctx.hi = lo, hi
        ctx.save_for_backward(a)
        return np.clip(a, a.dtype.type(lo), a.dtype.type(hi))

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        # PyTorch's hardtanh_backward: no gradient at or beyond the bounds (exclusive)
        return grad * ((a > ctx.lo) & (a < ctx.hi)), None, None


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """``clamp(x, min_val, max_val)`` (``F.hardtanh``). Unlike :func:`clamp`, the gradient is 0
    *at* the bounds too (PyTorch's ``hardtanh_backward``). Shape: any; dtype: floating, or
    integer (then not differentiable), as PyTorch.

    Raises:
        TypeError: if ``input`` is not a Tensor.
        ValueError: if ``min_val > max_val``.
        RuntimeError: for an unsigned input with a negative limit (as PyTorch).
    """
    _act_input(input, "hardtanh", allow_int=True)
    if input._data.dtype.kind == "u" and min(min_val, max_val) < 0:
        raise RuntimeError(f"hardtanh: cannot do hardtanh on an unsigned type "
                           f"({input.dtype}) with negative limits ({min_val}, {max_val})")
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val "
                         f"({max_val})")
    return _maybe_inplace(input, inplace, "hardtanh",
                          lambda t: Hardtanh.apply(t, float(min_val), float(max_val)))


def relu6(input, inplace=False):
    """``min(max(0, x), 6)`` (``F.relu6``), i.e. ``hardtanh(x, 0, 6)``; zero gradient at 0
    and 6. Shape: any; dtype: floating, or integer (then not differentiable), as PyTorch.

    Raises:
        TypeError: if ``input`` is not a Tensor.
    """
    _act_input(input, "relu6", allow_int=True)
    return _maybe_inplace(input, inplace, "relu6", lambda t: Hardtanh.apply(t, 0.0, 6.0))


class LogSigmoid(Node):
    """Graph node of :func:`logsigmoid`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        # log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)): no overflow, no log(0)
        return (np.minimum(a, 0) - np.log1p(np.exp(-np.abs(a)))).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * sigmoid(-a)


def logsigmoid(input):
    """``log(1 / (1 + exp(-x)))`` (``F.logsigmoid``), computed stably as
    ``min(x, 0) - log1p(exp(-|x|))``; gradient ``sigmoid(-x)``. Shape: any; dtype: floating.

    Raises:
        NotImplementedError: for a non-floating input (as PyTorch).
    """
    _act_input(input, "logsigmoid")
    return LogSigmoid.apply(input)


class Hardsigmoid(Node):
    """Graph node of :func:`hardsigmoid`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return (np.clip(a + 3, 0, 6) / 6).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * ((a > -3) & (a < 3)) * (1.0 / 6.0)


def hardsigmoid(input, inplace=False):
    """``relu6(x + 3) / 6`` (``F.hardsigmoid``); gradient ``1/6`` on ``(-3, 3)``, 0 elsewhere
    (PyTorch's convention at the kinks). Shape: any; dtype: floating.

    Raises:
        NotImplementedError: for a non-floating input (as PyTorch).
    """
    _act_input(input, "hardsigmoid")
    return _maybe_inplace(input, inplace, "hardsigmoid", Hardsigmoid.apply)


class Hardswish(Node):
    """Graph node of :func:`hardswish`: its forward and backward."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return (a * np.clip(a + 3, 0, 6) / 6).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        # PyTorch: 0 for x < -3, x/3 + 1/2 for -3 <= x <= 3, 1 for x > 3
        mid = where(a > 3, grad, grad * (a * (1.0 / 3.0) + 0.5))
        return where(a < -3, grad * 0, mid)


def hardswish(input, inplace=False):
    """``x * relu6(x + 3) / 6`` (``F.hardswish``; Howard et al., 2019, "Searching for
    MobileNetV3", https://arxiv.org/abs/1905.02244). Shape: any; dtype: floating.

    Raises:
        NotImplementedError: for a non-floating input (as PyTorch).
    """
    _act_input(input, "hardswish")
    return _maybe_inplace(input, inplace, "hardswish", Hardswish.apply)


# ---- logaddexp, hypot, xlogy, angle conversions ----------------------------------------------
class LogAddExp(Node):
    """Graph node of :func:`logaddexp`: ``out = log(e^a + e^b)``; gradients ``e^(a - out)``
    and ``e^(b - out)`` (the softmax weights of the pair)."""

    @staticmethod
    def forward(ctx, a, b):
        try:
            out = np.logaddexp(a, b)
        except ValueError as e:  # shapes that do not broadcast
            raise broadcast_error("logaddexp", a, b) or e from None
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        return (grad * exp(a - out) if na else None), (grad * exp(b - out) if nb else None)


def logaddexp(input, other, *, out=None):
    """``log(exp(input) + exp(other))`` without overflow (``torch.logaddexp``), with
    broadcasting; differentiable in both."""
    if out is not None:
        return _with_out("logaddexp", logaddexp, out, input, other)
    a, b = _operands(_float(input, "logaddexp"), other)
    if not isinstance(b, Tensor):
        b = Tensor._make(np.asarray(b, dtype=a._data.dtype), False, None)
    return LogAddExp.apply(a, b)


class Hypot(Node):
    """Graph node of :func:`hypot`: ``out = sqrt(a^2 + b^2)``; gradients ``a / out`` and
    ``b / out``."""

    @staticmethod
    def forward(ctx, a, b):
        try:
            out = np.hypot(a, b)
        except ValueError as e:  # shapes that do not broadcast
            raise broadcast_error("hypot", a, b) or e from None
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        g = grad / out
        return (g * a if na else None), (g * b if nb else None)


def hypot(input, other, *, out=None):
    """``sqrt(input^2 + other^2)`` elementwise (``torch.hypot``), with broadcasting;
    differentiable in both (the gradient is nan where both are 0, as PyTorch's)."""
    if out is not None:
        return _with_out("hypot", hypot, out, input, other)
    a, b = _operands(_float(input, "hypot"), other)
    if not isinstance(b, Tensor):
        b = Tensor._make(np.asarray(b, dtype=a._data.dtype), False, None)
    return Hypot.apply(a, b)


class Xlogy(Node):
    """Graph node of :func:`xlogy`: ``out = x log(y)``, 0 where ``x == 0`` (unless ``y`` is
    NaN); gradients ``log(y)`` and ``x / y``, as PyTorch computes them."""

    @staticmethod
    def forward(ctx, x, y):
        try:
            with np.errstate(divide="ignore", invalid="ignore"):  # log(0) * 0 where x == 0
                out = np.where((x == 0) & ~np.isnan(y), 0, x * np.log(y)).astype(x.dtype,
                                                                                copy=False)
        except ValueError as e:  # shapes that do not broadcast
            raise broadcast_error("xlogy", x, y) or e from None
        ctx.save_for_backward(x, y)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        nx, ny = ctx.needs_input_grad
        return (grad * log(y) if nx else None), (grad * x / y if ny else None)


def xlogy(input, other, *, out=None):
    """``input * log(other)``, 0 where ``input == 0`` (``torch.xlogy``; NaN in ``other`` still
    gives NaN), with broadcasting. Differentiable: ``d/d input = log(other)``,
    ``d/d other = input / other`` (PyTorch's values)."""
    if out is not None:
        return _with_out("xlogy", xlogy, out, input, other)
    if not isinstance(input, Tensor):
        input = Tensor._make(_to_array(input, None), False, None)
    x, y = _operands(_float(input, "xlogy"), other)
    if not isinstance(y, Tensor):
        y = Tensor._make(np.asarray(y, dtype=x._data.dtype), False, None)
    return Xlogy.apply(x, y)


def deg2rad(input, *, out=None):
    """Degrees to radians, ``input * pi / 180`` (``torch.deg2rad``)."""
    if out is not None:
        return _with_out("deg2rad", deg2rad, out, input)
    return mul(_float(input, "deg2rad"), math.pi / 180.0)


def rad2deg(input, *, out=None):
    """Radians to degrees, ``input * 180 / pi`` (``torch.rad2deg``)."""
    if out is not None:
        return _with_out("rad2deg", rad2deg, out, input)
    return mul(_float(input, "rad2deg"), 180.0 / math.pi)


def positive(input):
    """``input`` itself (``torch.positive``, unary ``+``).

    Raises:
        TypeError: for a bool tensor (as PyTorch).
    """
    if input._data.dtype.kind == "b":
        raise TypeError("The `+` operator, on a bool tensor is not supported.")
    return input
