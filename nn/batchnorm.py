"""Batch normalisation layers: ``BatchNorm1d``, ``BatchNorm2d`` (``torch.nn.BatchNorm*``).

Parameters and buffers carry PyTorch's names (``weight``, ``bias``, ``running_mean``,
``running_var``, ``num_batches_tracked``), so ``state_dict`` keys match PyTorch's.
"""

import autograd

from . import functional as F
from .module import Module
from .normalization import _init_affine, _reset_affine

__all__ = ["BatchNorm1d", "BatchNorm2d"]


class _BatchNorm(Module):
    """Shared code of the batch-norm layers (PyTorch's ``_NormBase`` + ``_BatchNorm``)."""

    _expected_dims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        if device is not None:
            autograd._require_cpu(device, "nn.BatchNorm")
        if not isinstance(num_features, int) or isinstance(num_features, bool) \
                or num_features <= 0:
            raise ValueError(f"{type(self).__name__}: num_features must be a positive int, got "
                             f"{num_features!r}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{type(self).__name__}: momentum must be in [0, 1] or None, got "
                             f"{momentum}")
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _init_affine(self, affine, bias, (num_features,), dtype)
        if track_running_stats:
            self.register_buffer("running_mean", autograd.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", autograd.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", autograd.tensor(0, dtype=autograd.long))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        """Running mean 0, running variance 1, ``num_batches_tracked`` 0."""
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0
            for b in (self.running_mean, self.running_var, self.num_batches_tracked):
                b._bump_version()

    def reset_parameters(self):
        """Reset the running statistics, weight to 1 and bias to 0 (PyTorch's default)."""
        self.reset_running_stats()
        _reset_affine(self)

    def _check_input_dim(self, input):
        raise NotImplementedError

    def _state_dict_optional_keys(self):
        # a state dict without num_batches_tracked (older PyTorch) still loads, as in PyTorch
        return ("num_batches_tracked",) if self.track_running_stats else ()

    def forward(self, input):
        self._check_input_dim(input)
        if input.shape[1] != self.num_features:
            raise RuntimeError(f"{type(self).__name__}: expected input with "
                               f"{self.num_features} channels (dim 1), got input of shape "
                               f"{tuple(input.shape)}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked._data[...] += 1
            self.num_batches_tracked._bump_version()
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked._data)
        use_batch_stats = self.training or (self.running_mean is None
                                            and self.running_var is None)
        track = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if track else None,
                            self.running_var if track else None, self.weight, self.bias,
                            use_batch_stats, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


_DOC = """{summary}

    ``y = (x - E[x]) / sqrt(Var[x] + eps) * gamma + beta`` per channel (Ioffe & Szegedy, 2015,
    https://arxiv.org/abs/1502.03167). In training mode the mean and the biased variance are
    the batch's, over {over}; the running estimates are updated as
    ``running = (1 - momentum) * running + momentum * batch_stat`` with the *unbiased* batch
    variance (PyTorch's rule). In eval mode the running estimates are used (unless
    ``track_running_stats=False``, then batch statistics are used in both modes).

    Args:
        num_features (int): ``C``, the number of channels.
        eps (float): added to the variance for stability (default 1e-5).
        momentum (float or None): weight of the new batch statistic in the running estimates
            (default 0.1); ``None`` gives the cumulative average ``1 / num_batches_tracked``.
        affine (bool): learn ``gamma`` (``weight``) and ``beta`` (``bias``) (default True).
        track_running_stats (bool): keep running estimates (default True); if False the
            buffers are ``None`` and batch statistics are always used.
        dtype: dtype of the parameters and float buffers (default float32).
        bias (bool, keyword-only): learn ``beta`` when ``affine`` (default True, as PyTorch).

    Shape:
        {shape}

    Attributes:
        weight (Parameter): ``(C,)``, initialised to 1 (``None`` unless ``affine``).
        bias (Parameter): ``(C,)``, initialised to 0.
        running_mean (Tensor): buffer ``(C,)``, starts at 0.
        running_var (Tensor): buffer ``(C,)``, starts at 1.
        num_batches_tracked (Tensor): int64 0-d buffer, the number of training batches seen.

    Differs from PyTorch: a ``num_features`` that is not a positive int, or a ``momentum``
    outside ``[0, 1]``, raises ``ValueError`` (PyTorch accepts them); an input whose dim 1 is
    not ``num_features`` always raises, also without affine parameters and running stats.

    Raises:
        ValueError: for an input of the wrong rank, a bad ``num_features``/``momentum``, or a
            training batch with one value per channel.
        RuntimeError: if the input's dim 1 is not ``num_features``.

    Example::

        >>> m = nn.{name}(16)
        >>> m(autograd.randn({example})).shape
        {example_out}
    """


class BatchNorm1d(_BatchNorm):

    def _check_input_dim(self, input):
        if input.ndim not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.ndim}D input)")


class BatchNorm2d(_BatchNorm):

    def _check_input_dim(self, input):
        if input.ndim != 4:
            raise ValueError(f"expected 4D input (got {input.ndim}D input)")


BatchNorm1d.__doc__ = _DOC.format(
    summary="Batch normalisation over a 2-D or 3-D input (``torch.nn.BatchNorm1d``).",
    over="``N`` (and ``L``)", name="BatchNorm1d",
    shape="input ``(N, C)`` or ``(N, C, L)`` -> output of the same shape.",
    example="8, 16, 10", example_out="(8, 16, 10)")
BatchNorm2d.__doc__ = _DOC.format(
    summary="Batch normalisation over a 4-D input (``torch.nn.BatchNorm2d``).",
    over="``(N, H, W)``", name="BatchNorm2d",
    shape="input ``(N, C, H, W)`` -> output ``(N, C, H, W)``.",
    example="8, 16, 5, 5", example_out="(8, 16, 5, 5)")
