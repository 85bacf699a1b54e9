"""Convolution layers: ``Conv2d``."""

import math

import autograd

from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Conv2d"]


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


class Conv2d(Module):
    """2-D convolution (cross-correlation) over ``(N, C_in, H, W)`` (``torch.nn.Conv2d``),
    computed by im2col + one GEMM in a Numba kernel.

    Args:
        in_channels (int), out_channels (int): channel counts.
        kernel_size (int or tuple): ``(kH, kW)``.
        stride (int or tuple): default 1.
        padding (int, tuple, 'valid' or 'same'): zero padding, default 0.
        dilation (int or tuple): default 1.
        groups (int): default 1; ``in_channels`` and ``out_channels`` must be divisible by it.
        bias (bool): default ``True``.
        padding_mode (str): only ``'zeros'``.

    Shape:
        input ``(N, C_in, H, W)`` -> output ``(N, C_out, H_out, W_out)`` with
        ``H_out = floor((H + 2 padding[0] - dilation[0] (kH - 1) - 1) / stride[0] + 1)``
        (likewise ``W_out``).

    Attributes:
        weight (Parameter): ``(C_out, C_in / groups, kH, kW)``, U(-k, k) with
            ``k = 1 / sqrt(C_in / groups * kH * kW)`` (PyTorch's default).
        bias (Parameter): ``(C_out,)``, U(-k, k).

    Raises:
        ValueError: for channel counts not divisible by ``groups``, non-positive sizes, or a
            padding mode other than ``'zeros'``.

    Example::

        >>> conv = nn.Conv2d(1, 32, 3)
        >>> conv(autograd.randn(64, 1, 28, 28)).shape
        (64, 32, 26, 26)
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        if groups <= 0:
            raise ValueError("Conv2d: groups must be a positive integer")
        if in_channels % groups:
            raise ValueError("Conv2d: in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError("Conv2d: out_channels must be divisible by groups")
        if padding_mode != "zeros":
            raise ValueError(f"Conv2d: padding_mode {padding_mode!r} is not supported (only "
                             "'zeros')")
        if isinstance(padding, str) and padding not in ("valid", "same"):
            raise ValueError(f"Conv2d: invalid padding string {padding!r}, should be one of "
                             "{'valid', 'same'}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(stride)
        self.padding = padding if isinstance(padding, str) else _pair(padding)
        self.dilation = _pair(dilation)
        self.groups = groups
        self.padding_mode = padding_mode
        if min(self.kernel_size) <= 0 or min(self.stride) <= 0:
            raise ValueError(f"Conv2d: kernel_size and stride must be positive, got "
                             f"{self.kernel_size} and {self.stride}")
        self.weight = Parameter(autograd.empty(out_channels, in_channels // groups,
                                               *self.kernel_size, dtype=dtype))
        if bias:
            self.bias = Parameter(autograd.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-draw the parameters with PyTorch's default initialisation."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * self.kernel_size[0] * self.kernel_size[1]
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding not in ((0, 0), "valid"):
            s += f", padding={self.padding!r}" if isinstance(self.padding, str) else \
                f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s
