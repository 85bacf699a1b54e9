"""One-input math: exp/log family, sqrt/rsqrt, powers, abs, trigonometric and hyperbolic
functions, erf, the rounding family (zero gradient), ``nan_to_num``, angle conversions, and
casts and copies.

Most ops here are one table entry (:func:`._pointwise.unary_op`): the NumPy function, what the
node saves (the input ``x``, or the output ``y`` where the derivative is cheaper in it), the
gradient from the incoming ``g`` and the saved Tensor, and the docstring. An op with a
signature or a dtype rule of its own is written out as a function below the table.
"""

import math

import numpy as np

from ..graph import Node
from ._out import with_out as _with_out
from ._pointwise import _float, unary_node, unary_op
from .arithmetic import div, mul, pow, sub
from .comparison import isfinite
from ..tensor import Tensor

__all__ = [
    "exp", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "square", "reciprocal",
    "abs", "sin", "cos", "tan", "asin", "acos", "atan", "arcsin", "arccos", "arctan", "sinh",
    "cosh", "erf", "sign", "floor", "ceil", "round", "trunc", "frac", "nan_to_num",
    "deg2rad", "rad2deg", "cast", "clone", "expand_as_copy",
]


def _erf_array(a):
    from scipy.special import erf as _erf  # imported on first use (scipy is a runtime dep)
    return _erf(a).astype(a.dtype, copy=False)


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

# ---- the table: name, NumPy function, what the node saves, gradient, docstring ---------------
Exp, exp = unary_op("exp", np.exp, saves="output", grad=lambda g, y: g * y,
                    doc="``e ** input`` (``torch.exp``); gradient ``y``, the saved output.")
Expm1, expm1 = unary_op("expm1", np.expm1, saves="output", grad=lambda g, y: g * (y + 1),
                        doc="``exp(input) - 1``, accurate near 0 (``torch.expm1``); gradient "
                            "``y + 1``.")
Log, log = unary_op("log", np.log, saves="input", grad=lambda g, x: g / x,
                    doc="Natural logarithm (``torch.log``); ``-inf`` at 0 and ``nan`` below, "
                        "as PyTorch. Gradient ``1 / x``.")
Log1p, log1p = unary_op("log1p", np.log1p, saves="input", grad=lambda g, x: g / (x + 1),
                        doc="``log(1 + input)``, accurate near 0 (``torch.log1p``); gradient "
                            "``1 / (1 + x)``.")
Sqrt, sqrt = unary_op("sqrt", np.sqrt, saves="output", grad=lambda g, y: g / (y * 2),
                      doc="Square root (``torch.sqrt``); gradient ``1 / (2 y)``, ``inf`` at 0 "
                          "as PyTorch's.")
Sin, sin = unary_op("sin", np.sin, saves="input", grad=lambda g, x: g * cos(x),
                    doc="Sine (``torch.sin``); gradient ``cos(x)``.")
Cos, cos = unary_op("cos", np.cos, saves="input", grad=lambda g, x: -g * sin(x),
                    doc="Cosine (``torch.cos``); gradient ``-sin(x)``.")
Tan, tan = unary_op("tan", np.tan, saves="output", grad=lambda g, y: g * (y * y + 1.0),
                    doc="Tangent (``torch.tan``); gradient ``1 + tan(x)^2`` from the saved "
                        "output.")
Asin, asin = unary_op("asin", np.arcsin, saves="input",
                      grad=lambda g, x: g * rsqrt(1.0 - x * x),
                      doc="Inverse sine (``torch.asin``); nan outside ``[-1, 1]``; gradient "
                          "``1 / sqrt(1 - x^2)``.")
Acos, acos = unary_op("acos", np.arccos, saves="input",
                      grad=lambda g, x: -g * rsqrt(1.0 - x * x),
                      doc="Inverse cosine (``torch.acos``); nan outside ``[-1, 1]``; gradient "
                          "``-1 / sqrt(1 - x^2)``.")
Atan, atan = unary_op("atan", np.arctan, saves="input", grad=lambda g, x: g / (x * x + 1.0),
                      doc="Inverse tangent (``torch.atan``); gradient ``1 / (1 + x^2)``.")
Sinh, sinh = unary_op("sinh", np.sinh, saves="input", grad=lambda g, x: g * cosh(x),
                      doc="Hyperbolic sine (``torch.sinh``); gradient ``cosh(x)``.")
Cosh, cosh = unary_op("cosh", np.cosh, saves="input", grad=lambda g, x: g * sinh(x),
                      doc="Hyperbolic cosine (``torch.cosh``); gradient ``sinh(x)``.")
Erf, erf = unary_op("erf", _erf_array, saves="input",
                    grad=lambda g, x: g * (exp(-(x * x)) * _TWO_OVER_SQRT_PI),
                    doc="Gauss error function ``2/sqrt(pi) * int_0^x exp(-t^2) dt`` "
                        "(``torch.erf``); integer inputs compute in the default float dtype. "
                        "Gradient ``2/sqrt(pi) * exp(-x^2)``.")
arcsin, arccos, arctan = asin, acos, atan


# ---- written out: own signatures or dtype rules ----------------------------------------------
def log2(input):
    """Base-2 logarithm (``torch.log2``)."""
    return log(input) * (1.0 / math.log(2.0))


def log10(input):
    """Base-10 logarithm (``torch.log10``)."""
    return log(input) * (1.0 / math.log(10.0))


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


Abs = unary_node("Abs", np.abs, saves="input", grad=lambda g, x: g * sign(x),
                 doc="The node of :func:`abs`; saves its input for backward.")


def abs(input, *, out=None):
    """Absolute value (``torch.abs``); gradient ``sign(x)``, 0 at 0 and at NaN (PyTorch's
    choice)."""
    if out is not None:
        return _with_out("abs", abs, out, input)
    if input._data.dtype.kind != "f":
        return Tensor._make(np.abs(input._data), False, None)
    return Abs.apply(input)


# ---- piecewise constant: zero gradient ---------------------------------------------------------
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


def _piecewise_op(name, fn, doc):
    """``name(input, *, out=None)``: the piecewise-constant ``fn`` (zero gradient)."""
    def op(input, *, out=None):
        if out is not None:
            return _with_out(name, op, out, input)
        return _piecewise_constant(input, fn)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


sign = _piecewise_op("sign", _sign, "-1, 0 or 1 (``torch.sign``), and 0 for NaN as in "
                                    "PyTorch; zero gradient.")
floor = _piecewise_op("floor", np.floor, "Round down (``torch.floor``); zero gradient.")
ceil = _piecewise_op("ceil", np.ceil, "Round up (``torch.ceil``); zero gradient.")
trunc = _piecewise_op("trunc", np.trunc, "Round toward zero (``torch.trunc``); zero gradient.")


def round(input, decimals=0, *, out=None):
    """Round half to even (``torch.round``); zero gradient."""
    if out is not None:
        return _with_out("round", round, out, input, decimals=decimals)
    return _piecewise_constant(input, lambda a: np.round(a, decimals))


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


class NanToNum(Node):
    """Saves the input for backward."""

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


# ---- dtype and copies -------------------------------------------------------------------------
class Cast(Node):
    """Keeps the input's dtype (saves no array)."""

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
    """Saves nothing."""

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


