"""Convolution layers: ``Conv1d``, ``Conv2d``, ``ConvTranspose2d``.

Parameter shapes, initialisation, argument names and ``repr`` follow ``torch.nn``; the work is
done by the Numba kernels behind :func:`nn.functional.conv1d`, ``conv2d`` and
``conv_transpose2d``.
"""

import math
import numbers

from . import functional as F
from . import init
from .module import Module
from .parameter import _register_weight_bias

__all__ = ["Conv1d", "Conv2d", "ConvTranspose2d"]


def _ntuple(v, n, layer="conv", name="size"):
    """``v`` as a tuple of ``n`` ints (an int is repeated); ``TypeError`` naming the layer and
    argument for floats and other non-integers (PyTorch refuses them too)."""
    if isinstance(v, numbers.Integral):
        return (int(v),) * n
    try:
        items = tuple(v)
    except TypeError:
        items = None
    if items is None or not all(isinstance(i, numbers.Integral) for i in items):
        raise TypeError(f"{layer}: {name} must be an int or a tuple of {n} ints, got {v!r}")
    return tuple(int(i) for i in items)


class _ConvNd(Module):
    """Shared constructor, initialisation and ``repr`` of the convolution layers (PyTorch's
    ``_ConvNd``)."""

    _n = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 groups, bias, padding_mode, output_padding=0, dtype=None):
        super().__init__()
        name = type(self).__name__
        if not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels must be divisible by groups")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: padding_mode {padding_mode!r} is not supported (only "
                             "'zeros')")
        n = self._n
        if isinstance(padding, str):
            if self._transposed or padding not in ("valid", "same"):
                raise ValueError(f"{name}: invalid padding string {padding!r}" + (
                    ", should be one of {'valid', 'same'}" if not self._transposed else
                    " (transposed convolutions take int/tuple padding only)"))
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _ntuple(kernel_size, n, name, "kernel_size")
        self.stride = _ntuple(stride, n, name, "stride")
        self.padding = (padding if isinstance(padding, str)
                        else _ntuple(padding, n, name, "padding"))
        self.dilation = _ntuple(dilation, n, name, "dilation")
        self.transposed = self._transposed
        self.output_padding = _ntuple(output_padding, n, name, "output_padding")
        self.groups = groups
        self.padding_mode = padding_mode
        if min(self.kernel_size) <= 0 or min(self.stride) <= 0:
            raise ValueError(f"{name}: kernel_size and stride must be positive, got "
                             f"{self.kernel_size} and {self.stride}")
        if padding == "same" and any(s != 1 for s in self.stride):
            raise ValueError(f"{name}: padding='same' is not supported for strided "
                             "convolutions")
        if self._transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        _register_weight_bias(self, shape, (out_channels,) if bias else None, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-draw the parameters with PyTorch's default initialisation: weight
        ``kaiming_uniform_(a=sqrt(5))``, i.e. U(-k, k) with ``k = 1/sqrt(fan_in)``, and the bias
        U(-k, k) too; ``fan_in = weight.shape[1] * prod(kernel_size)``."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        n = self._n
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    """Conv1d and Conv2d: PyTorch's constructor signature, and a forward through the class's
    ``_function`` (``F.conv1d`` or ``F.conv2d``)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype=dtype)

    def forward(self, input):
        return type(self)._function(input, self.weight, self.bias, self.stride, self.padding,
                                    self.dilation, self.groups)


class Conv1d(_Conv):
    # docstring: _CONV_DOC below
    _n = 1
    _function = F.conv1d


class Conv2d(_Conv):
    # docstring: _CONV_DOC below
    _function = F.conv2d

_CONV_DOC = """{summary}

    Args:
        in_channels (int), out_channels (int): channel counts.
        kernel_size (int or tuple): ``{kernel}``.
        stride (int or tuple): default 1.
        padding (int, tuple, 'valid' or 'same'): zero padding, default 0.
        dilation (int or tuple): default 1.
        groups (int): default 1; ``in_channels`` and ``out_channels`` must be divisible by it.
        bias (bool): default ``True``.
        padding_mode (str): only ``'zeros'``.

    Shape:
        {shape}

    Attributes:
        weight (Parameter): ``(C_out, C_in / groups, {kernel_dims})``, U(-k, k) with
            ``k = 1 / sqrt(C_in / groups * {kernel_prod})`` (PyTorch's default).
        bias (Parameter): ``(C_out,)``, U(-k, k).

    Raises:
        ValueError: for channel counts not divisible by ``groups``, non-positive sizes, a bad
            padding string, ``'same'`` with a stride, or a padding mode other than ``'zeros'``.

    Example::

        {example}
    """

Conv1d.__doc__ = _CONV_DOC.format(
    summary="""1-D convolution (cross-correlation) over ``(N, C_in, L)`` (``torch.nn.Conv1d``); runs
    the 2-D im2col + GEMM kernel with H = 1.""",
    kernel="(kL,)", kernel_dims="kL", kernel_prod="kL",
    shape="""input ``(N, C_in, L)`` or ``(C_in, L)`` -> output ``(N, C_out, L_out)`` with
        ``L_out = floor((L + 2 padding - dilation (kL - 1) - 1) / stride + 1)``.""",
    example=""">>> conv = nn.Conv1d(16, 33, 3, stride=2)
        >>> conv(autograd.randn(20, 16, 50)).shape
        (20, 33, 24)""")
Conv2d.__doc__ = _CONV_DOC.format(
    summary="""2-D convolution (cross-correlation) over ``(N, C_in, H, W)`` (``torch.nn.Conv2d``),
    computed by im2col + one GEMM in a Numba kernel.""",
    kernel="(kH, kW)", kernel_dims="kH, kW", kernel_prod="kH * kW",
    shape="""input ``(N, C_in, H, W)`` -> output ``(N, C_out, H_out, W_out)`` with
        ``H_out = floor((H + 2 padding[0] - dilation[0] (kH - 1) - 1) / stride[0] + 1)``
        (likewise ``W_out``).""",
    example=""">>> conv = nn.Conv2d(1, 32, 3)
        >>> conv(autograd.randn(64, 1, 28, 28)).shape
        (64, 32, 26, 26)""")


class ConvTranspose2d(_ConvNd):
    """2-D transposed convolution (``torch.nn.ConvTranspose2d``; "deconvolution", the gradient
    of Conv2d with respect to its input), computed by one GEMM + col2im in a Numba kernel.

    Args:
        in_channels (int), out_channels (int): channel counts.
        kernel_size (int or tuple): ``(kH, kW)``.
        stride (int or tuple): default 1.
        padding (int or tuple): ``dilation * (k - 1) - padding`` zero padding is added to the
            input, i.e. the output is cropped by ``padding`` on each side; default 0.
        output_padding (int or tuple): extra size added to the bottom/right of the output,
            smaller than either stride or dilation; default 0.
        groups (int): default 1.
        bias (bool): default ``True``.
        dilation (int or tuple): default 1.
        padding_mode (str): only ``'zeros'``.

    Shape:
        input ``(N, C_in, H, W)`` -> output ``(N, C_out, H_out, W_out)`` with
        ``H_out = (H - 1) stride[0] - 2 padding[0] + dilation[0] (kH - 1)
        + output_padding[0] + 1`` (likewise ``W_out``). ``forward(input, output_size)`` picks
        ``output_padding`` so that the output has ``output_size`` (PyTorch's rule).

    Attributes:
        weight (Parameter): ``(C_in, C_out / groups, kH, kW)``, U(-k, k) with
            ``k = 1 / sqrt(C_out / groups * kH * kW)`` (PyTorch's default: ``fan_in`` is
            computed from ``weight.shape[1]``).
        bias (Parameter): ``(C_out,)``, U(-k, k).

    Raises:
        ValueError: for channel counts not divisible by ``groups``, non-positive sizes, a
            string padding, a padding mode other than ``'zeros'``, or an ``output_size`` that
            no output_padding reaches.

    Example::

        >>> up = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1)
        >>> up(autograd.randn(4, 16, 12, 12)).shape
        (4, 8, 24, 24)
    """

    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, dtype=dtype)

    def _output_padding(self, input, output_size):
        """PyTorch's ``_output_padding``: the output_padding giving ``output_size``."""
        if output_size is None:
            return self.output_padding
        output_size = tuple(output_size)[-2:]
        spatial = input.shape[-2:]
        pads = []
        for d in range(2):
            min_size = ((spatial[d] - 1) * self.stride[d] - 2 * self.padding[d]
                        + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            max_size = min_size + self.stride[d] - 1
            if not min_size <= output_size[d] <= max_size:
                raise ValueError(
                    f"ConvTranspose2d: requested an output size of {output_size}, but valid "
                    f"sizes range from ({min_size}) to ({max_size}) in dim {d} (for an input "
                    f"of {tuple(spatial)})")
            pads.append(output_size[d] - min_size)
        return tuple(pads)

    def forward(self, input, output_size=None):
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(input, output_size), self.groups,
                                  self.dilation)
