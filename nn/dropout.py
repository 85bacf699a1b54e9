"""Dropout layers: ``Dropout``, ``Dropout2d``."""

from . import functional as F
from .module import Module

__all__ = ["Dropout", "Dropout2d"]


class _DropoutNd(Module):
    """Shared constructor and ``extra_repr`` of the dropout layers."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """During training, zero each element with probability ``p`` and scale the others by
    ``1 / (1 - p)``; identity in eval mode (``torch.nn.Dropout``; Srivastava et al., 2014).

    Args:
        p (float): drop probability in ``[0, 1]`` (default 0.5).
        inplace (bool): also write the result into the input.

    Shape: any, unchanged.

    Raises:
        ValueError: if ``p`` is outside ``[0, 1]``.
    """

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """During training, zero each whole channel ``input[n, c]`` with probability ``p`` and
    scale the kept channels by ``1 / (1 - p)``; identity in eval mode
    (``torch.nn.Dropout2d``; Tompson et al., 2015, https://arxiv.org/abs/1411.4280). Useful
    after convolutions, whose neighbouring activations are strongly correlated.

    Args:
        p (float): probability of zeroing a channel, in ``[0, 1]`` (default 0.5).
        inplace (bool): also write the result into the input.

    Shape:
        input ``(N, C, H, W)`` -> output ``(N, C, H, W)``. A 3-D input is treated as
        ``(N, C, L)`` with a warning, as PyTorch currently does.

    Raises:
        ValueError: if ``p`` is outside ``[0, 1]``.
        RuntimeError: for an input of fewer than 2 dims.

    Example::

        >>> m = nn.Dropout2d(p=0.2)
        >>> m(autograd.randn(20, 16, 32, 32)).shape
        (20, 16, 32, 32)
    """

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)
