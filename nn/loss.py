"""Loss modules: ``CrossEntropyLoss``, ``NLLLoss``, ``MSELoss``."""

from . import functional as F
from .module import Module

__all__ = ["CrossEntropyLoss", "NLLLoss", "MSELoss"]


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"{type(self).__name__}: {reduction!r} is not a valid value for "
                             "reduction (expected 'mean', 'sum' or 'none')")
        self.reduction = reduction


class CrossEntropyLoss(_Loss):
    """Cross-entropy of logits against class indices or probabilities
    (``torch.nn.CrossEntropyLoss``); see :func:`nn.functional.cross_entropy`.

    Args:
        weight (Tensor, optional): ``(C,)`` per-class weights.
        ignore_index (int): target value to ignore (default -100).
        reduction (str): ``'mean'`` | ``'sum'`` | ``'none'``.
        label_smoothing (float): in ``[0, 1]``.

    Shape:
        input ``(N, C)`` logits, target ``(N)`` int64 -> scalar (or ``(N)`` for 'none').
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean", label_smoothing=0.0):
        super().__init__(reduction)
        if weight is not None:
            self.register_buffer("weight", weight)
        else:
            self.weight = None
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities at class indices
    (``torch.nn.NLLLoss``); see :func:`nn.functional.nll_loss`."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        super().__init__(reduction)
        if weight is not None:
            self.register_buffer("weight", weight)
        else:
            self.weight = None
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error (``torch.nn.MSELoss``): ``mean((x - y)^2)`` with the default
    ``reduction='mean'``.

    Shape: input and target of the same shape -> scalar (or that shape for 'none').
    """

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)
