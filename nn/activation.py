"""Activation layers (``torch.nn``'s): ``ReLU``, ``ReLU6``, ``LeakyReLU``, ``PReLU``, ``ELU``,
``SELU``, ``CELU``, ``GELU``, ``SiLU``, ``Mish``, ``Hardtanh``, ``Softplus``, ``Hardsigmoid``,
``Hardswish``, ``LogSigmoid``, ``Sigmoid``, ``Tanh``, ``Softmax``, ``LogSoftmax``.

Each is a thin module over the function of the same name in :mod:`nn.functional`; all keep
the input's shape (``(*)`` -> ``(*)``). ``inplace=True`` rewrites the input (recorded in the
graph like every in-place op) where PyTorch offers it.
"""

import autograd

from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish",
           "Hardtanh", "Softplus", "Hardsigmoid", "Hardswish", "LogSigmoid", "Sigmoid", "Tanh",
           "Softmax", "LogSoftmax"]


_INPLACE_ARGS = ("inplace (bool): rewrite the input.",)
_ALPHA_ARGS = ("alpha (float): the saturation value for negative inputs (default 1).",
               *_INPLACE_ARGS)


def _doc(summary, args=_INPLACE_ARGS, example="", output="(2, 3)"):
    """An activation's docstring: ``summary``, ``Args`` (one ``"name (type): text"`` per entry;
    no section without any), the shape rule they all share, and the example (the code after
    ``>>>`` and its ``output``)."""
    sections = [summary]
    if args:
        sections.append("    Args:" + "".join(f"\n        {a}" for a in args))
    sections.append("    Shape: input ``(*)`` -> output ``(*)``, same shape.")
    sections.append(f"    Example::\n\n        >>> {example}\n        {output}\n    ")
    return "\n\n".join(sections)


class _Activation(Module):
    """An activation module over one function: ``forward(input)`` is the class's
    ``_function(input, *args)``, ``args`` the attributes named in ``_args`` in that order (the
    function's positional parameters after ``input``). The repr lists them as ``name=value``
    (strings quoted), except ``inplace``, shown last as ``inplace=True`` when set (and
    ``_show_inplace``): PyTorch's format. Subclasses keep PyTorch's constructor signature and
    pass its values on to this constructor, which stores them."""

    _function = None
    _args = ()
    _show_inplace = True

    def __init__(self, *values):
        """Store ``values`` as the attributes named in ``_args``, in that order (no values: the
        subclass sets them itself, as Hardtanh, whose ReLU6 shows fewer than it stores)."""
        super().__init__()
        if values:
            for name, value in zip(self._args, values, strict=True):
                setattr(self, name, value)

    def forward(self, input):
        if not self._args:   # Sigmoid, Tanh, ...: no generator and star-call on the hot path
            return type(self)._function(input)
        return type(self)._function(input, *[getattr(self, name) for name in self._args])

    def extra_repr(self):
        parts = []
        for name in self._args:
            value = getattr(self, name)
            if name != "inplace":
                parts.append(f"{name}={value!r}" if isinstance(value, str) else
                             f"{name}={value}")
        if "inplace" in self._args and self.inplace and self._show_inplace:
            parts.append("inplace=True")
        return ", ".join(parts)


class _InplaceActivation(_Activation):
    """An activation whose only argument is ``inplace``."""

    _args = ("inplace",)

    def __init__(self, inplace=False):
        super().__init__(inplace)


class _AlphaActivation(_Activation):
    """ELU and CELU: ``(alpha=1.0, inplace=False)``."""

    _args = ("alpha", "inplace")

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__(alpha, inplace)


class _DimActivation(_Activation):
    """Softmax and LogSoftmax: ``(dim=None)``."""

    _args = ("dim",)

    def __init__(self, dim=None):
        super().__init__(dim)


class ReLU(_InplaceActivation):
    """``max(x, 0)`` elementwise (``torch.nn.ReLU``). Shape: any, unchanged."""

    _function = F.relu


class Sigmoid(_Activation):
    """``1 / (1 + exp(-x))`` elementwise (``torch.nn.Sigmoid``). Shape: any, unchanged."""

    _function = autograd.sigmoid


class Tanh(_Activation):
    """Hyperbolic tangent elementwise (``torch.nn.Tanh``). Shape: any, unchanged."""

    _function = autograd.tanh


class Softmax(_DimActivation):
    """Softmax along ``dim`` (``torch.nn.Softmax``). Shape: any, unchanged."""

    _function = F.softmax


class LogSoftmax(_DimActivation):
    """Log-softmax along ``dim`` (``torch.nn.LogSoftmax``). Shape: any, unchanged."""

    _function = F.log_softmax


class Hardtanh(_Activation):
    """``clamp(x, min_val, max_val)`` elementwise (``torch.nn.Hardtanh``).

    Args:
        min_val (float): lower bound (default -1).
        max_val (float): upper bound (default 1).
        inplace (bool): rewrite the input.
        min_value, max_value: PyTorch's deprecated aliases of ``min_val``/``max_val``.

    Shape: input ``(*)`` -> output ``(*)``, same shape.

    Raises:
        ValueError: if ``max_val <= min_val`` (PyTorch raises AssertionError).

    Example::

        >>> nn.Hardtanh(-2, 2)(autograd.tensor([-3.0, 0.5, 3.0]))
        tensor([-2.0000, 0.5000, 2.0000])
    """

    _function = F.hardtanh
    _args = ("min_val", "max_val", "inplace")

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None,
                 max_value=None):
        super().__init__()
        if min_value is not None:
            import warnings
            warnings.warn("keyword argument `min_value` is deprecated and rename to `min_val`",
                          FutureWarning, stacklevel=2)
            min_val = min_value
        if max_value is not None:
            import warnings
            warnings.warn("keyword argument `max_value` is deprecated and rename to `max_val`",
                          FutureWarning, stacklevel=2)
            max_val = max_value
        if not max_val > min_val:
            raise ValueError(f"max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace


class ReLU6(Hardtanh):
    __doc__ = _doc(
        """``min(max(0, x), 6)`` elementwise (``torch.nn.ReLU6``; Krizhevsky, 2010).""",
        example="nn.ReLU6()(autograd.tensor([-1.0, 3.0, 8.0]))",
        output="tensor([0., 3., 6.])")

    _function = F.relu6
    _args = ("inplace",)

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)


class LeakyReLU(_Activation):
    __doc__ = _doc(
        """``max(0, x) + negative_slope * min(0, x)`` elementwise (``torch.nn.LeakyReLU``; Maas et
    al., 2013).""",
        args=("negative_slope (float): slope for ``x < 0`` (default 0.01).", *_INPLACE_ARGS),
        example="nn.LeakyReLU(0.1)(autograd.tensor([-2.0, 3.0]))",
        output="tensor([-0.2000, 3.0000])")

    _function = F.leaky_relu
    _args = ("negative_slope", "inplace")

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__(negative_slope, inplace)


class PReLU(Module):
    """``max(0, x) + a * min(0, x)`` with a learnable slope ``a`` (``torch.nn.PReLU``; He et
    al., 2015, https://arxiv.org/abs/1502.01852).

    Args:
        num_parameters (int): 1 (one slope shared by all channels) or ``C`` (one per channel,
            dim 1 of the input). Default 1.
        init (float): initial value of ``a`` (default 0.25).
        dtype: parameter dtype (default float32).

    Shape: input ``(*)`` -> output ``(*)``, same shape (with ``C`` slopes the input is
    ``(N, C, *)``).

    Attributes:
        weight (Parameter): ``(num_parameters,)``, filled with ``init``.

    Raises:
        RuntimeError: (in forward) if ``num_parameters`` is neither 1 nor the input's ``C``.

    Example::

        >>> m = nn.PReLU(3)
        >>> m(autograd.randn(2, 3, 4)).shape
        (2, 3, 4)
    """

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        if device is not None:
            autograd._require_cpu(device, "nn.PReLU")
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(autograd.empty(num_parameters, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self):
        """Fill ``weight`` with ``init``."""
        init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class ELU(_AlphaActivation):
    __doc__ = _doc(
        """``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)`` (``torch.nn.ELU``; Clevert et al.,
    2015, https://arxiv.org/abs/1511.07289).""",
        args=_ALPHA_ARGS,
        example="nn.ELU()(autograd.randn(2, 3)).shape")

    _function = F.elu


class SELU(_InplaceActivation):
    __doc__ = _doc(
        """``scale * (max(0, x) + min(0, alpha * (exp(x) - 1)))`` with ``alpha = 1.6732632...``,
    ``scale = 1.0507009...`` (``torch.nn.SELU``; Klambauer et al., 2017,
    https://arxiv.org/abs/1706.02515). Pair it with ``init.kaiming_normal_(w,
    nonlinearity='linear')`` or ``calculate_gain('selu')``.""",
        example="nn.SELU()(autograd.randn(2, 3)).shape")

    _function = F.selu


class CELU(_AlphaActivation):
    __doc__ = _doc(
        """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))`` (``torch.nn.CELU``; Barron, 2017,
    https://arxiv.org/abs/1704.07483).""",
        args=_ALPHA_ARGS,
        example="nn.CELU(2.0)(autograd.randn(2, 3)).shape")

    _function = F.celu


class GELU(_Activation):
    __doc__ = _doc(
        """``x * Phi(x)``, ``Phi`` the standard normal CDF (``torch.nn.GELU``; Hendrycks & Gimpel,
    2016, https://arxiv.org/abs/1606.08415); with ``approximate='tanh'``
    ``0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))``.""",
        args=("approximate (str): ``'none'`` (default, exact with erf) or ``'tanh'``.",),
        example="nn.GELU(approximate='tanh')(autograd.randn(2, 3)).shape")

    _function = F.gelu
    _args = ("approximate",)

    def __init__(self, approximate="none"):
        super().__init__(approximate)


class SiLU(_InplaceActivation):
    __doc__ = _doc(
        """``x * sigmoid(x)``, also called swish (``torch.nn.SiLU``; Elfwing et al., 2017,
    https://arxiv.org/abs/1702.03118; Ramachandran et al., 2017).""",
        example="nn.SiLU()(autograd.randn(2, 3)).shape")

    _function = F.silu


class Mish(_InplaceActivation):
    __doc__ = _doc(
        """``x * tanh(softplus(x))`` (``torch.nn.Mish``; Misra, 2019,
    https://arxiv.org/abs/1908.08681).""",
        example="nn.Mish()(autograd.randn(2, 3)).shape")

    _function = F.mish


class Softplus(_Activation):
    __doc__ = _doc(
        """``log(1 + exp(beta * x)) / beta``, and ``x`` where ``beta * x > threshold`` for
    numerical stability (``torch.nn.Softplus``).""",
        args=("beta (float): default 1.",
              "threshold (float): above it the function is linear (default 20)."),
        example="nn.Softplus(beta=2)(autograd.randn(2, 3)).shape")

    _function = F.softplus
    _args = ("beta", "threshold")

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__(beta, threshold)


class Hardsigmoid(_InplaceActivation):
    __doc__ = _doc(
        """``0`` if ``x <= -3``, ``1`` if ``x >= 3``, else ``x / 6 + 1 / 2`` (``torch.nn.
    Hardsigmoid``; Howard et al., 2019, https://arxiv.org/abs/1905.02244).""",
        example="nn.Hardsigmoid()(autograd.tensor([-4.0, 0.0, 4.0]))",
        output="tensor([0.0000, 0.5000, 1.0000])")

    _function = F.hardsigmoid
    _show_inplace = False  # PyTorch's repr omits it


class Hardswish(_InplaceActivation):
    __doc__ = _doc(
        """``x * hardsigmoid(x)``: ``0`` if ``x <= -3``, ``x`` if ``x >= 3``, else
    ``x (x + 3) / 6`` (``torch.nn.Hardswish``; Howard et al., 2019,
    https://arxiv.org/abs/1905.02244).""",
        example="nn.Hardswish()(autograd.randn(2, 3)).shape")

    _function = F.hardswish
    _show_inplace = False  # PyTorch's repr omits it


class LogSigmoid(_Activation):
    __doc__ = _doc(
        """``log(1 / (1 + exp(-x)))``, computed stably as ``-softplus(-x)``
    (``torch.nn.LogSigmoid``).""",
        args=(),
        example="nn.LogSigmoid()(autograd.randn(2, 3)).shape")

    _function = F.logsigmoid
