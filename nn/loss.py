"""Loss modules (``torch.nn``'s losses): each holds its options and calls the function of the
same name in :mod:`nn.functional`, where the formulas, shapes and errors are documented.

Every loss takes ``reduction`` (``'mean'`` | ``'sum'`` | ``'none'``; ``KLDivLoss`` also
``'batchmean'``) and, where PyTorch does, the deprecated ``size_average``/``reduce`` pair, which
overrides ``reduction`` when either is given (with PyTorch's deprecation warning). Per-class or
per-element weights are registered as buffers named as PyTorch's (``weight``, ``pos_weight``),
so ``state_dict`` keys match.
"""

from . import functional as F
from .functional import _legacy_reduction
from .module import Module

__all__ = ["L1Loss", "MSELoss", "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss",
           "CrossEntropyLoss", "NLLLoss", "KLDivLoss", "CosineEmbeddingLoss",
           "MarginRankingLoss", "TripletMarginLoss", "HingeEmbeddingLoss", "SoftMarginLoss",
           "MultiLabelSoftMarginLoss", "PoissonNLLLoss", "GaussianNLLLoss", "PairwiseDistance",
           "CosineSimilarity"]


class _Loss(Module):
    """Base of the losses: resolves and checks ``reduction`` (PyTorch's ``_Loss``).

    Raises:
        ValueError: for a reduction not in ``_reductions`` (PyTorch checks it at the first call).
    """

    _reductions = ("mean", "sum", "none")

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = _legacy_reduction(size_average, reduce, reduction, stacklevel=4)
        if reduction not in self._reductions:
            raise ValueError(f"{type(self).__name__}: {reduction!r} is not a valid value for "
                             "reduction (expected " + ", ".join(map(repr, self._reductions))
                             + ")")
        self.reduction = reduction


class _WeightedLoss(_Loss):
    """A loss with an optional ``weight`` buffer (PyTorch's ``_WeightedLoss``)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class L1Loss(_Loss):
    """Mean absolute error ``|x - y|`` (``torch.nn.L1Loss``); see :func:`nn.functional.l1_loss`.

    Args:
        reduction (str): ``'mean'`` | ``'sum'`` | ``'none'``.

    Shape: input ``(*)``, target the same shape -> scalar (``(*)`` for ``'none'``).
    """

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error ``(x - y)^2`` (``torch.nn.MSELoss``); see
    :func:`nn.functional.mse_loss`.

    Shape: input ``(*)``, target the same shape -> scalar (``(*)`` for ``'none'``).
    """

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Smooth L1 loss (``torch.nn.SmoothL1Loss``): ``0.5 d^2 / beta`` if ``|d| < beta`` else
    ``|d| - 0.5 beta``; see :func:`nn.functional.smooth_l1_loss`.

    Args:
        beta (float): where the loss turns from quadratic to linear, ``>= 0`` (default 1.0).

    Shape: input ``(*)``, target the same shape -> scalar (``(*)`` for ``'none'``).
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Huber loss (``torch.nn.HuberLoss``): ``0.5 d^2`` if ``|d| < delta`` else
    ``delta (|d| - 0.5 delta)``; see :func:`nn.functional.huber_loss`.

    Args:
        reduction (str): ``'mean'`` | ``'sum'`` | ``'none'``.
        delta (float): where the loss turns from quadratic to linear, ``> 0`` (default 1.0).

    Shape: input ``(*)``, target the same shape -> scalar (``(*)`` for ``'none'``).
    """

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities (``torch.nn.BCELoss``):
    ``-w (y log x + (1 - y) log(1 - x))`` with the logs clamped at ``-100``; see
    :func:`nn.functional.binary_cross_entropy`. Prefer :class:`BCEWithLogitsLoss` on logits.

    Args:
        weight (Tensor, optional): rescaling weight broadcastable to the input (a buffer).
        reduction (str): ``'mean'`` | ``'sum'`` | ``'none'``.

    Shape: input ``(*)`` in ``[0, 1]``, target the same shape -> scalar (``(*)`` for
    ``'none'``).
    """

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one numerically stable expression
    (``torch.nn.BCEWithLogitsLoss``): ``w ((1 - y) x - (1 + (p - 1) y) logsigmoid(x))``; see
    :func:`nn.functional.binary_cross_entropy_with_logits`.

    Args:
        weight (Tensor, optional): rescaling weight broadcastable to the input (a buffer).
        reduction (str): ``'mean'`` | ``'sum'`` | ``'none'``.
        pos_weight (Tensor, optional): weight of the positive examples, broadcastable to the
            input, usually ``(C,)`` (a buffer).

    Shape: input ``(*)`` logits, target the same shape -> scalar (``(*)`` for ``'none'``).
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean",
                 pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                  pos_weight=self.pos_weight,
                                                  reduction=self.reduction)


class _ClassIndexLoss(_WeightedLoss):
    """A weighted loss over class indices that skips the targets equal to ``ignore_index``
    (the constructor NLLLoss and CrossEntropyLoss share; PyTorch writes it in each)."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index


class CrossEntropyLoss(_ClassIndexLoss):
    """Cross-entropy of logits against class indices or probabilities
    (``torch.nn.CrossEntropyLoss``); see :func:`nn.functional.cross_entropy`.

    Args:
        weight (Tensor, optional): ``(C,)`` per-class weights (a buffer).
        ignore_index (int): target value to ignore (default -100).
        reduction (str): ``'mean'`` | ``'sum'`` | ``'none'``.
        label_smoothing (float): in ``[0, 1]``.

    Shape:
        input ``(N, C)`` logits, target ``(N)`` int64 -> scalar (or ``(N)`` for 'none').
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean", label_smoothing=0.0):
        super().__init__(weight, size_average, ignore_index, reduce, reduction)
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_ClassIndexLoss):
    """Negative log-likelihood of log-probabilities at class indices
    (``torch.nn.NLLLoss``); see :func:`nn.functional.nll_loss`.

    Args:
        weight, ignore_index, reduction: as for :class:`CrossEntropyLoss`.

    Shape: input ``(N, C)`` log-probabilities, target ``(N)`` int64 -> scalar (``(N)`` for
    ``'none'``).
    """

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence of ``target`` from ``exp(input)`` (``torch.nn.KLDivLoss``):
    ``y (log y - x)``, or ``exp(y) (y - x)`` with ``log_target=True``; see
    :func:`nn.functional.kl_div`.

    Args:
        reduction (str): ``'batchmean'`` (the divergence's definition) | ``'mean'`` |
            ``'sum'`` | ``'none'`` (default ``'mean'``, as PyTorch, which warns when used).
        log_target (bool): whether ``target`` holds log-probabilities (default False).

    Shape: input ``(*)`` log-probabilities, target the same shape -> scalar (``(*)`` for
    ``'none'``).
    """

    _reductions = ("mean", "sum", "none", "batchmean")

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class _PairMarginLoss(_Loss):
    """CosineEmbeddingLoss and MarginRankingLoss: ``(margin=0.0, ...)``, and a forward
    ``(input1, input2, target)`` through the class's ``_function``."""

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return type(self)._function(input1, input2, target, margin=self.margin,
                                    reduction=self.reduction)


class CosineEmbeddingLoss(_PairMarginLoss):
    """Cosine embedding loss (``torch.nn.CosineEmbeddingLoss``): ``1 - cos(x1, x2)`` for
    ``y = 1``, ``max(0, cos(x1, x2) - margin)`` for ``y = -1``; see
    :func:`nn.functional.cosine_embedding_loss`.

    Args:
        margin (float): in ``[-1, 1]``, ``[0, 0.5]`` suggested (default 0).

    Shape: input1, input2 ``(N, D)`` or ``(D)``; target ``(N)`` or ``()`` -> scalar (``(N)``
    for ``'none'``).
    """

    _function = F.cosine_embedding_loss


class MarginRankingLoss(_PairMarginLoss):
    """Margin ranking loss (``torch.nn.MarginRankingLoss``): ``max(0, -y (x1 - x2) + margin)``;
    see :func:`nn.functional.margin_ranking_loss`.

    Args:
        margin (float): default 0.

    Shape: input1, input2, target ``(N)`` or ``()`` -> scalar (``(N)`` for ``'none'``).
    """

    _function = F.margin_ranking_loss


class TripletMarginLoss(_Loss):
    """Triplet margin loss (``torch.nn.TripletMarginLoss``; Balntas et al., 2016):
    ``max(d(a, p) - d(a, n) + margin, 0)`` with the p-norm distance; see
    :func:`nn.functional.triplet_margin_loss`.

    Args:
        margin (float): ``> 0`` (default 1.0).
        p (float): the norm degree of the pairwise distance (default 2).
        eps (float): added to the difference before the norm (default 1e-6).
        swap (bool): use the distance swap (default False).

    Shape: anchor, positive, negative ``(N, D)`` or ``(D)`` -> scalar (``(N)`` for
    ``'none'``).
    """

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None,
                 reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: margin must be greater than 0, got {margin}")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p,
                                     eps=self.eps, swap=self.swap, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """Hinge embedding loss (``torch.nn.HingeEmbeddingLoss``): ``x`` for ``y = 1``,
    ``max(0, margin - x)`` for ``y = -1``; see :func:`nn.functional.hinge_embedding_loss`.

    Args:
        margin (float): default 1.0.

    Shape: input ``(*)``, target the same shape -> scalar (``(*)`` for ``'none'``).
    """

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, margin=self.margin,
                                      reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """Two-class logistic loss (``torch.nn.SoftMarginLoss``): ``log(1 + exp(-y x))``,
    computed stably; see :func:`nn.functional.soft_margin_loss`.

    Shape: input ``(*)``, target the same shape -> scalar (``(*)`` for ``'none'``).
    """

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Multi-label one-versus-all logistic loss (``torch.nn.MultiLabelSoftMarginLoss``); see
    :func:`nn.functional.multilabel_soft_margin_loss`.

    Args:
        weight (Tensor, optional): ``(C,)`` per-class weights (a buffer).

    Shape: input ``(N, C)``, target ``(N, C)`` of 0/1 -> scalar (``(N)`` for ``'none'``).
    """

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight,
                                             reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood (``torch.nn.PoissonNLLLoss``): ``exp(x) - y x``
    (``log_input=True``) or ``x - y log(x + eps)``; see :func:`nn.functional.poisson_nll_loss`.

    Args:
        log_input (bool): whether the input is the log-rate (default True).
        full (bool): add the Stirling approximation term (default False).
        eps (float): added inside the log when ``log_input=False`` (default 1e-8).

    Shape: input ``(*)``, target the same shape -> scalar (``(*)`` for ``'none'``).
    """

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full,
                                  eps=self.eps, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood (``torch.nn.GaussianNLLLoss``):
    ``0.5 (log(max(var, eps)) + (x - y)^2 / max(var, eps))``; see
    :func:`nn.functional.gaussian_nll_loss`.

    Args:
        full (bool): add the constant ``0.5 log(2 pi)`` (default False).
        eps (float): lower clamp of the variance (default 1e-6).

    Shape: input ``(N, *)``, target the same shape, var the same shape or with the last
    dimension 1 (or one fewer), or a float -> scalar (``(N, *)`` for ``'none'``).
    """

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps,
                                   reduction=self.reduction)


class PairwiseDistance(Module):
    """p-norm distance ``||x1 - x2 + eps||_p`` along the last dimension
    (``torch.nn.PairwiseDistance``); see :func:`nn.functional.pairwise_distance`.

    Args:
        p (float): the norm degree (default 2).
        eps (float): added to the difference (default 1e-6).
        keepdim (bool): keep the reduced dimension (default False).

    Shape: x1 ``(N, D)`` or ``(D)``, x2 broadcastable to it -> ``(N)`` or ``()``.
    """

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    """Cosine similarity along ``dim`` (``torch.nn.CosineSimilarity``); see
    :func:`nn.functional.cosine_similarity`.

    Args:
        dim (int): the dimension of the vectors (default 1).
        eps (float): lower clamp of each norm (default 1e-8).

    Shape: x1, x2 broadcastable, e.g. ``(N, D)`` -> ``(N)``.
    """

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
