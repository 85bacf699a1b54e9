"""Arithmetic with NumPy broadcasting: ``add``/``sub``/``mul``/``div`` (with their
tensor-and-number fast nodes), ``floor_divide``, ``remainder``/``fmod``, ``neg``/``positive``,
``pow``, and the binary math ops ``atan2``, ``logaddexp``, ``hypot``, ``xlogy``, ``addcmul``,
``addcdiv``, ``lerp``.

Each op is a :class:`~autograd.graph.Node` (forward on arrays, backward with Tensor ops)
followed by the function users call. Backward formulas may return gradients in the broadcast
shape: the engine sums them back to each input's shape (:func:`autograd.graph.sum_to`). Dtype
promotion: :mod:`._pointwise`.
"""

import numpy as np

from ..graph import Node
from ._out import with_out as _with_out
from ._pointwise import (_constant_like, _data, _float, _float_pair, _is_number, _operands,
                         _result_dtype, binary_forward, broadcast_error)
from . import comparison as _comparison
from .comparison import where
from ..tensor import Tensor, _to_array

__all__ = [
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "neg",
    "negative", "positive", "pow", "floor_divide", "remainder", "fmod", "atan2", "arctan2",
    "logaddexp", "hypot", "xlogy", "addcmul", "addcdiv", "lerp",
]


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


class _ScalarNode(Node):
    """Base of the tensor-and-number nodes: each is named as its tensor-tensor op's node
    (``AddScalar`` is ``AddBackward0``, as PyTorch's ``add`` with a number)."""

    __slots__ = ()

    @classmethod
    def name(cls):
        return cls.__name__[:-len("Scalar")] + "Backward0"


class AddScalar(_ScalarNode):
    """``tensor + number`` (from :func:`add`); saves nothing."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, a, s):
        return a + _weak_scalar(s, a.dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class SubScalar(_ScalarNode):
    """``tensor - number`` (from :func:`sub`); saves nothing."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, a, s):
        return a - _weak_scalar(s, a.dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class MulScalar(_ScalarNode):
    """``tensor * number`` (from :func:`mul`); keeps the number (saves no array)."""

    __slots__ = ("scalar",)

    @staticmethod
    def forward(ctx, a, s):
        ctx.scalar = s
        return a * _weak_scalar(s, a.dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.scalar, None


class DivScalar(_ScalarNode):
    """``tensor / number`` (from :func:`div`); keeps the number (saves no array)."""

    __slots__ = ("scalar",)

    @staticmethod
    def forward(ctx, a, s):
        ctx.scalar = s
        return a / _weak_scalar(s, a.dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad / ctx.scalar, None


# ---- arithmetic -------------------------------------------------------------------------------
def _dispatch(node, scalar_node, a, b, commutes):
    """``scalar_node`` for a floating tensor with a Python number (either side where the op
    ``commutes``), else ``node``: the promoted operands ``a``, ``b`` of add/sub/mul/div."""
    if _is_number(b) and a._data.dtype.kind == "f":
        return scalar_node.apply(a, b)
    if commutes and _is_number(a) and b._data.dtype.kind == "f":
        return scalar_node.apply(b, a)
    return node.apply(a, b)


def _scaled(other, alpha):
    """``alpha * other`` for add/sub's ``alpha`` (``other`` itself when ``alpha == 1``)."""
    if alpha == 1:
        return other
    return mul(other, alpha) if isinstance(other, Tensor) else other * alpha


class Add(Node):
    """Saves nothing (the gradient passes to both inputs)."""

    forward = binary_forward("add", np.add)

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


def add(input, other, alpha=1, *, out=None):
    """``input + alpha * other`` with broadcasting (``torch.add``)."""
    if out is not None:
        return _with_out("add", add, out, input, other, alpha=alpha)
    a, b = _operands(input, _scaled(other, alpha))
    return _dispatch(Add, AddScalar, a, b, commutes=True)


class Sub(Node):
    """Saves nothing."""

    forward = binary_forward("sub", np.subtract)

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad


def sub(input, other, alpha=1, *, out=None):
    """``input - alpha * other`` with broadcasting (``torch.sub``)."""
    if out is not None:
        return _with_out("sub", sub, out, input, other, alpha=alpha)
    a, b = _operands(input, _scaled(other, alpha))
    return _dispatch(Sub, SubScalar, a, b, commutes=False)


subtract = sub


class Mul(Node):
    """Saves both inputs for backward."""

    forward = binary_forward("mul", np.multiply, saves="inputs")

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
    return _dispatch(Mul, MulScalar, a, b, commutes=True)


multiply = mul


class Div(Node):
    """Saves both inputs for backward."""

    forward = binary_forward("div", np.true_divide, saves="inputs")

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
    a, b = _float_pair(a, b)
    return _dispatch(Div, DivScalar, a, b, commutes=False)


divide = true_divide = div


def floor_divide(input, other):
    """Floor division (``torch.floor_divide``); not differentiable."""
    return div(input, other, rounding_mode="floor")


class Remainder(Node):
    """The node of :func:`remainder` and :func:`fmod` (floating operands); saves the operands
    (when the divisor is a Tensor) and which rounding for backward. The gradient is
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
    return _comparison._compare(np.remainder if floor else np.fmod, a, b, op)


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
    """Saves nothing."""

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
    """Saves both inputs and the output for backward."""

    forward = binary_forward("pow", np.power, saves="inputs, output")

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
            gb = where((a == 0) & (b >= 0), 0.0, grad * out * safe.log())
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
    return _comparison._compare(np.power, a, b, "pow")




def positive(input):
    """``input`` itself (``torch.positive``, unary ``+``).

    Raises:
        TypeError: for a bool tensor (as PyTorch).
    """
    if input._data.dtype.kind == "b":
        raise TypeError("The `+` operator, on a bool tensor is not supported.")
    return input


# ---- binary math ------------------------------------------------------------------------------
class Atan2(Node):
    """Saves both inputs for backward."""

    forward = binary_forward("atan2", np.arctan2, saves="inputs")

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
    a, b = _float_pair(*_operands(input, other))
    return Atan2.apply(a, b)


arctan2 = atan2


class LogAddExp(Node):
    """Saves both inputs and the output ``out = log(e^a + e^b)`` for backward; the gradients
    are ``e^(a - out)`` and ``e^(b - out)`` (the softmax weights of the pair)."""

    forward = binary_forward("logaddexp", np.logaddexp, saves="inputs, output")

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        return (grad * (a - out).exp() if na else None), (grad * (b - out).exp() if nb else None)


def logaddexp(input, other, *, out=None):
    """``log(exp(input) + exp(other))`` without overflow (``torch.logaddexp``), with
    broadcasting; differentiable in both."""
    if out is not None:
        return _with_out("logaddexp", logaddexp, out, input, other)
    a, b = _operands(_float(input, "logaddexp"), other)
    return LogAddExp.apply(a, _constant_like(b, a))


class Hypot(Node):
    """Saves both inputs and the output ``out = sqrt(a^2 + b^2)`` for backward; the gradients
    are ``a / out`` and ``b / out``."""

    forward = binary_forward("hypot", np.hypot, saves="inputs, output")

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
    return Hypot.apply(a, _constant_like(b, a))


class Xlogy(Node):
    """Saves both inputs for backward: ``out = x log(y)``, 0 where ``x == 0`` (unless ``y`` is
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
        return (grad * y.log() if nx else None), (grad * x / y if ny else None)


def xlogy(input, other, *, out=None):
    """``input * log(other)``, 0 where ``input == 0`` (``torch.xlogy``; NaN in ``other`` still
    gives NaN), with broadcasting. Differentiable: ``d/d input = log(other)``,
    ``d/d other = input / other`` (PyTorch's values)."""
    if out is not None:
        return _with_out("xlogy", xlogy, out, input, other)
    if not isinstance(input, Tensor):
        input = Tensor._make(_to_array(input, None), False, None)
    x, y = _operands(_float(input, "xlogy"), other)
    return Xlogy.apply(x, _constant_like(y, x))


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


