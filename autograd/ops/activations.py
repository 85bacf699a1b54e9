"""Activations: ``relu``, ``sigmoid``, ``tanh`` and the ``torch.nn.functional`` ones (leaky
ReLU, the ELU family, GELU, SiLU, Mish, softplus, hardtanh/relu6, logsigmoid, hardsigmoid,
hardswish).

Each has its own node (one node per call, as PyTorch) whose backward is written with Tensor
ops, so second derivatives work; ``tanh`` and ``sigmoid`` save their output and run their
backward as one node of its own (Chainer's ``TanhGrad``/``SigmoidGrad``). Formulas and gradient
conventions at the kinks follow PyTorch's (aten/src/ATen/native/Activation.cpp and its
derivatives.yaml). The one-input nodes without attributes are table entries
(:func:`._pointwise.unary_node`).
"""

import math

import numpy as np

from ..graph import Node
from ._out import with_out as _with_out
from ._pointwise import _float, unary_node
from .comparison import where
from .unary import _erf_array, erf, exp
from ..tensor import Tensor

__all__ = [
    "tanh", "sigmoid", "relu", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish",
    "softplus", "hardtanh", "relu6", "logsigmoid", "hardsigmoid", "hardswish",
]


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


def _expit(a):
    """SciPy's ``expit`` (loaded on first use: importing ``scipy.special`` takes a few tenths of
    a second, which ``import autograd`` should not pay)."""
    global _expit
    from scipy.special import expit
    _expit = expit
    return expit(a)


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


Tanh = unary_node("Tanh", np.tanh, saves="output", grad=lambda g, y: TanhBackward.apply(g, y),
                  doc="The node of :func:`tanh`; saves its output for backward.")
# SciPy's expit: one ufunc, numerically stable for large |x|, keeps float32/float64 (seven
# NumPy ops for the same stable formula cost about ten times as much); float16 comes back as
# float64, hence the cast.
Sigmoid = unary_node("Sigmoid", lambda a: _expit(a).astype(a.dtype, copy=False),
                     saves="output", grad=lambda g, y: SigmoidBackward.apply(g, y),
                     doc="The node of :func:`sigmoid`; saves its output for backward.")


def tanh(input, *, out=None):
    """Hyperbolic tangent (``torch.tanh``); backward uses the saved output: ``1 - y^2``."""
    if out is not None:
        return _with_out("tanh", tanh, out, input)
    return Tanh.apply(_float(input, "tanh"))


def sigmoid(input, *, out=None):
    """Logistic sigmoid ``1 / (1 + exp(-x))`` (``torch.sigmoid``), computed without overflow;
    backward uses the saved output: ``y (1 - y)``."""
    if out is not None:
        return _with_out("sigmoid", sigmoid, out, input)
    return Sigmoid.apply(_float(input, "sigmoid"))


class Relu(Node):
    """Saves the output for backward (written out, not a table entry: the commonest
    activation, and a ufunc call of its own is cheaper than a lambda's)."""

    @staticmethod
    def forward(ctx, a):
        out = np.maximum(a, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return ReluBackward.apply(grad, out)


class ReluBackward(Node):
    """``grad`` where ``out > 0``, else 0, as one node (PyTorch's ``threshold_backward``: it
    zeroes where ``out <= 0``, so a NaN output passes the gradient on): one pass over the
    activation instead of a comparison, a negation and a product. Saves the output; itself
    differentiable (double backward): d/d grad is the same mask, d/d out is 0."""

    @staticmethod
    def forward(ctx, g, out):
        ctx.save_for_backward(out)
        # not ``out > 0``: NaN must keep its gradient (and np.where(out <= 0, 0, g) is about
        # 6x slower on a random mask)
        return g * np.logical_not(out <= 0)

    @staticmethod
    def backward(ctx, gg):
        out, = ctx.saved_tensors
        return (ReluBackward.apply(gg, out) if ctx.needs_input_grad[0] else None), None


def relu(input):
    """``max(x, 0)`` (``torch.relu``); the gradient at 0 is 0 and at NaN 1, as PyTorch's.

    Raises:
        RuntimeError: for a bool input (as PyTorch).
    """
    if input._data.dtype.kind == "b":
        raise RuntimeError(f"relu: Boolean inputs not supported (input of shape "
                           f"{tuple(input.shape)})")
    return Relu.apply(input)


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
    """Saves the input (and keeps the slope) for backward."""

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
    """The ELU family's node (:func:`elu`, :func:`selu`, :func:`celu`); saves the input and
    the output (and keeps the constants) for backward. PyTorch's
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
        # NaN in, NaN gradient out. (PyTorch's is NaN in its vectorised loop, blocks of 16
        # float32, and `scale` in the scalar tail: position-dependent, so not followed.)
        return where(a > 0, grad * ctx.scale, neg), None, None, None


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


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class Gelu(Node):
    """Saves the input (and keeps the form) for backward: exact and tanh forms."""

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


Silu = unary_node("Silu", lambda a: a * _sigmoid_array(a), saves="input",
                  grad=lambda g, a: g * _silu_slope(a),
                  doc="The node of :func:`silu`; saves its input for backward.")


def _silu_slope(a):
    # d/da a sigmoid(a) = s (1 + a (1 - s)) with s = sigmoid(a)
    s = sigmoid(a)
    return s * (a * (1.0 - s) + 1.0)


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


Mish = unary_node("Mish", lambda a: a * np.tanh(_softplus_array(a)), saves="input",
                  grad=lambda g, a: g * _mish_slope(a),
                  doc="The node of :func:`mish`; saves its input for backward.")


def _mish_slope(a):
    # d/da a tanh(softplus(a)) = t + a (1 - t^2) sigmoid(a) with t = tanh(softplus(a))
    t = tanh(softplus(a))
    return t + a * (1.0 - t * t) * sigmoid(a)


def mish(input, inplace=False):
    """``x * tanh(softplus(x))`` (``F.mish``; Misra, 2019, https://arxiv.org/abs/1908.08681).
    Shape: any; dtype: floating.

    Raises:
        NotImplementedError: for a non-floating input (as PyTorch).
    """
    _act_input(input, "mish")
    return _maybe_inplace(input, inplace, "mish", Mish.apply)


class Softplus(Node):
    """Saves the input (and keeps beta and the threshold) for backward."""

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
    """Saves the input (and keeps the bounds) for backward."""

    @staticmethod
    def forward(ctx, a, lo, hi):
        ctx.lo, ctx.hi = lo, hi
        ctx.save_for_backward(a)
        return np.clip(a, a.dtype.type(lo), a.dtype.type(hi))

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        # PyTorch's hardtanh_backward: no gradient at or beyond the bounds (exclusive)
        # (a NaN input passes its gradient, as PyTorch: the mask is "not at or beyond a bound")
        return grad * ~((a <= ctx.lo) | (a >= ctx.hi)), None, None


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


# log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)): no overflow, no log(0); gradient sigmoid(-x)
LogSigmoid = unary_node(
    "LogSigmoid", lambda a: (np.minimum(a, 0) - np.log1p(np.exp(-np.abs(a)))).astype(
        a.dtype, copy=False),
    saves="input", grad=lambda g, a: g * sigmoid(-a),
    doc="The node of :func:`logsigmoid`; saves its input for backward.")


def logsigmoid(input):
    """``log(1 / (1 + exp(-x)))`` (``F.logsigmoid``), computed stably as
    ``min(x, 0) - log1p(exp(-|x|))``; gradient ``sigmoid(-x)``. Shape: any; dtype: floating.

    Raises:
        NotImplementedError: for a non-floating input (as PyTorch).
    """
    _act_input(input, "logsigmoid")
    return LogSigmoid.apply(input)


Hardsigmoid = unary_node(
    "Hardsigmoid", lambda a: (np.clip(a + 3, 0, 6) / 6).astype(a.dtype, copy=False),
    saves="input", grad=lambda g, a: g * ((a > -3) & (a < 3)) * (1.0 / 6.0),
    doc="The node of :func:`hardsigmoid`; saves its input for backward.")


def hardsigmoid(input, inplace=False):
    """``relu6(x + 3) / 6`` (``F.hardsigmoid``); gradient ``1/6`` on ``(-3, 3)``, 0 elsewhere
    (PyTorch's convention at the kinks). Shape: any; dtype: floating.

    Raises:
        NotImplementedError: for a non-floating input (as PyTorch).
    """
    _act_input(input, "hardsigmoid")
    return _maybe_inplace(input, inplace, "hardsigmoid", Hardsigmoid.apply)


Hardswish = unary_node(
    "Hardswish", lambda a: (a * np.clip(a + 3, 0, 6) / 6).astype(a.dtype, copy=False),
    saves="input", grad=lambda g, a: _hardswish_grad(g, a),
    doc="The node of :func:`hardswish`; saves its input for backward.")


def _hardswish_grad(grad, a):
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


