"""Pooling layers: ``MaxPool1d``, ``MaxPool2d``, ``AvgPool1d``, ``AvgPool2d``,
``AdaptiveAvgPool2d``, ``AdaptiveMaxPool2d`` (``torch.nn``'s names, arguments and ``repr``).
"""

from . import functional as F
from .module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool2d",
           "AdaptiveMaxPool2d"]


class _PoolNd(Module):
    """The window every max and average pooling stores: ``kernel_size``, ``stride`` (None means
    ``kernel_size``, as PyTorch) and ``padding``, as given (ints or tuples)."""

    def __init__(self, kernel_size, stride, padding):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding


class _MaxPoolNd(_PoolNd):
    """Shared constructor and ``repr`` of the max poolings (PyTorch's ``_MaxPoolNd``)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__(kernel_size, stride, padding)
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return type(self)._function(input, self.kernel_size, self.stride, self.padding,
                                    self.dilation, ceil_mode=self.ceil_mode,
                                    return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class _AvgPoolNd(_PoolNd):
    """Shared constructor and ``repr`` of the average poolings (PyTorch's ``_AvgPoolNd``)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__(kernel_size, stride, padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptivePoolNd(Module):
    """Shared ``repr`` of the adaptive poolings."""

    def extra_repr(self):
        return f"output_size={self.output_size}"


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling (``torch.nn.MaxPool1d``); the 2-D Numba kernel with H = 1.

    Args:
        kernel_size, stride, padding, dilation, return_indices, ceil_mode: as for
            :class:`MaxPool2d`, each size an int or a 1-tuple; the indices are positions in
            ``L``.

    Shape:
        ``(N, C, L)`` or ``(C, L)`` -> ``(N, C, L_out)``,
        ``L_out = floor((L + 2 padding - dilation (kernel_size - 1) - 1) / stride + 1)``
        (``ceil`` with ``ceil_mode``; a last window starting in the padding is dropped).

    Raises:
        RuntimeError: (on call) wrong rank, padding above half the kernel, output below 1.

    Example::

        >>> nn.MaxPool1d(3, stride=2)(autograd.randn(20, 16, 50)).shape
        (20, 16, 24)
    """

    _function = F.max_pool1d


class MaxPool2d(_MaxPoolNd):
    """2-D max pooling (``torch.nn.MaxPool2d``), a Numba kernel that saves the argmax.

    Args:
        kernel_size (int or tuple): window size.
        stride (int or tuple, optional): default ``kernel_size``.
        padding (int or tuple): implicit ``-inf`` padding, at most half the kernel.
        dilation (int or tuple): spacing of the window's elements.
        return_indices (bool): also return the argmax indices (for ``MaxUnpool2d``).
        ceil_mode (bool): round the output size up instead of down.

    Shape:
        ``(N, C, H, W)`` -> ``(N, C, H_out, W_out)``,
        ``H_out = floor((H + 2 padding - dilation (kernel_size - 1) - 1) / stride + 1)``
        (``ceil`` with ``ceil_mode``; a last window starting in the padding is dropped).

    Raises:
        RuntimeError: (on call) wrong rank, padding above half the kernel, output below 1.

    Example::

        >>> nn.MaxPool2d(2)(autograd.randn(64, 32, 26, 26)).shape
        (64, 32, 13, 13)
    """

    _function = F.max_pool2d


class AvgPool1d(_AvgPoolNd):
    """1-D average pooling (``torch.nn.AvgPool1d``); the 2-D Numba kernel with H = 1.

    Args:
        kernel_size (int or tuple): window size.
        stride (int or tuple, optional): default ``kernel_size``.
        padding (int or tuple): zero padding, at most half the kernel.
        ceil_mode (bool): round the output length up.
        count_include_pad (bool): count the zero padding in the divisor (default).

    Shape:
        ``(N, C, L)`` or ``(C, L)`` -> ``(N, C, L_out)``,
        ``L_out = floor((L + 2 padding - kernel_size) / stride + 1)``.

    Attributes:
        kernel_size, stride, padding: 1-tuples (as PyTorch stores them).

    Example::

        >>> nn.AvgPool1d(3, stride=2)(autograd.randn(1, 1, 7)).shape
        (1, 1, 3)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)
        one = (lambda v: (v,) if isinstance(v, int) else tuple(v))
        self.kernel_size = one(self.kernel_size)
        self.stride = one(self.stride)
        self.padding = one(self.padding)

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """2-D average pooling (``torch.nn.AvgPool2d``), a Numba kernel.

    Args:
        kernel_size, stride, padding, ceil_mode, count_include_pad: as for
            :class:`AvgPool1d`, each size an int or an ``(h, w)`` pair.
        divisor_override (int, optional): divide every window sum by this instead.

    Shape:
        ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C, H_out, W_out)``,
        ``H_out = floor((H + 2 padding[0] - kernel_size[0]) / stride[0] + 1)``.

    Example::

        >>> nn.AvgPool2d(2)(autograd.randn(8, 3, 32, 32)).shape
        (8, 3, 16, 16)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class AdaptiveAvgPool2d(_AdaptivePoolNd):
    """2-D adaptive average pooling (``torch.nn.AdaptiveAvgPool2d``): a fixed output size
    whatever the input size.

    Args:
        output_size (int or tuple): ``(H_out, W_out)``; an entry ``None`` keeps that input size.

    Shape:
        ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C, H_out, W_out)``; output ``(oh, ow)``
        averages input rows ``[floor(oh H / H_out), ceil((oh + 1) H / H_out))`` and likewise
        columns.

    Example::

        >>> nn.AdaptiveAvgPool2d((5, 7))(autograd.randn(1, 64, 8, 9)).shape
        (1, 64, 5, 7)
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)


class AdaptiveMaxPool2d(_AdaptivePoolNd):
    """2-D adaptive max pooling (``torch.nn.AdaptiveMaxPool2d``) over
    :class:`AdaptiveAvgPool2d`'s windows.

    Args:
        output_size (int or tuple): ``(H_out, W_out)``; an entry ``None`` keeps that input size.
        return_indices (bool): also return the flat ``h W + w`` indices of the maxima.

    Shape:
        ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C, H_out, W_out)``.

    Example::

        >>> nn.AdaptiveMaxPool2d(1)(autograd.randn(2, 8, 5, 5)).shape
        (2, 8, 1, 1)
    """

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input):
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)
