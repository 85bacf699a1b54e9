"""Dropout layers: ``Dropout``."""

from . import functional as F
from .module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """During training, zero each element with probability ``p`` and scale the others by
    ``1 / (1 - p)``; identity in eval mode (``torch.nn.Dropout``; Srivastava et al., 2014).

    Args:
        p (float): drop probability in ``[0, 1]`` (default 0.5).
        inplace (bool): also write the result into the input.

    Shape: any, unchanged.

    Raises:
        ValueError: if ``p`` is outside ``[0, 1]``.
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
