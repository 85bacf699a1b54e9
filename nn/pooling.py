"""Pooling layers: ``MaxPool2d``."""

from . import functional as F
from .module import Module

__all__ = ["MaxPool2d"]


class MaxPool2d(Module):
    """2-D max pooling (``torch.nn.MaxPool2d``), a Numba kernel that saves the argmax.

    Args:
        kernel_size (int or tuple): window size.
        stride (int or tuple, optional): default ``kernel_size``.
        padding (int or tuple): implicit ``-inf`` padding, at most half the kernel.
        dilation (int or tuple): spacing of the window's elements.
        return_indices (bool): also return the argmax indices (for ``MaxUnpool2d``).
        ceil_mode (bool): not supported yet (raises ``NotImplementedError``).

    Shape:
        ``(N, C, H, W)`` -> ``(N, C, H_out, W_out)``,
        ``H_out = floor((H + 2 padding - dilation (kernel_size - 1) - 1) / stride + 1)``.

    Example::

        >>> nn.MaxPool2d(2)(autograd.randn(64, 32, 26, 26)).shape
        (64, 32, 13, 13)
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")
