"""Normalisation layers over features: ``LayerNorm``, ``GroupNorm`` (fused Numba kernels)."""

import numbers

from . import functional as F
from . import init
from .module import Module
from .parameter import _register_weight_bias

__all__ = ["LayerNorm", "GroupNorm"]


def _init_affine(module, affine, bias, shape, dtype):
    """Register the normalisation layers' per-feature ``weight`` and ``bias`` of ``shape``
    (``bias`` only when ``bias``), or both as ``None`` without ``affine``. Shared by LayerNorm,
    GroupNorm and the batch norms."""
    _register_weight_bias(module, shape if affine else None,
                          shape if affine and bias else None, dtype)


def _reset_affine(module):
    """Weight to ones, bias to zeros, where they exist (PyTorch's initialisation)."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class _AffineNorm(Module):
    """LayerNorm and GroupNorm: per-feature ``weight``/``bias`` (from :func:`_init_affine`)
    that start at ones and zeros, and a ``forward`` that is the class's fused ``_function``
    called as ``_function(input, layout, weight, bias, eps)``, ``layout`` the attribute named
    by ``_layout`` (``normalized_shape`` or ``num_groups``)."""

    _function = None    # F.layer_norm or F.group_norm (a staticmethod)
    _layout = None      # the name of the attribute passed after the input

    def _init_affine(self, affine, bias, shape, dtype):
        """Register ``weight``/``bias`` of ``shape`` (:func:`_init_affine`) and initialise
        them (:meth:`reset_parameters`)."""
        _init_affine(self, affine, bias, shape, dtype)
        self.reset_parameters()

    def forward(self, input):
        return self._function(input, getattr(self, self._layout), self.weight, self.bias,
                              self.eps)

    def reset_parameters(self):
        """Weight to ones, bias to zeros (PyTorch's initialisation)."""
        _reset_affine(self)


class LayerNorm(_AffineNorm):
    """Layer normalisation over the last ``len(normalized_shape)`` dims
    (``torch.nn.LayerNorm``; Ba et al., 2016)::

        y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias

    with the biased variance, computed by :func:`nn.functional.layer_norm` (one fused node).

    Args:
        normalized_shape (int or tuple): the trailing shape to normalise over.
        eps (float): added to the variance (default ``1e-5``).
        elementwise_affine (bool): learn ``weight`` (and ``bias``) (default ``True``).
        bias (bool): learn ``bias`` when ``elementwise_affine`` (default ``True``).
        dtype: parameter dtype (default float32).

    Shape:
        input ``(*, *normalized_shape)`` -> output of the same shape.

    Attributes:
        weight (Parameter): ``normalized_shape``, initialised to ones (or ``None``).
        bias (Parameter): ``normalized_shape``, initialised to zeros (or ``None``).

    Raises:
        TypeError: for a ``normalized_shape`` that is not an int or a tuple of ints.
        RuntimeError (at call): if the input's trailing dims are not ``normalized_shape``.

    Example::

        >>> ln = nn.LayerNorm(128)
        >>> ln(autograd.randn(16, 64, 128)).shape
        (16, 64, 128)
    """

    _function = staticmethod(F.layer_norm)
    _layout = "normalized_shape"

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        try:
            sizes = tuple(normalized_shape)
        except TypeError:
            sizes = None
        if sizes is None or not all(isinstance(n, numbers.Integral) for n in sizes):
            # int(4.5) made LayerNorm(4.5) a LayerNorm(4); PyTorch raises
            raise TypeError(f"LayerNorm: normalized_shape must be an int or a tuple of ints, "
                            f"got {normalized_shape!r}")
        self.normalized_shape = tuple(int(n) for n in sizes)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self._init_affine(elementwise_affine, bias, self.normalized_shape, dtype)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(_AffineNorm):
    """Group normalisation (``torch.nn.GroupNorm``; Wu & He, 2018): the channels are split
    into ``num_groups`` groups and each group of each sample is normalised over its channels
    and spatial positions (biased variance); then a per-channel affine.

    Args:
        num_groups (int): number of groups; must divide ``num_channels``.
        num_channels (int): ``C``.
        eps (float): added to the variance (default ``1e-5``).
        affine (bool): learn per-channel ``weight`` and ``bias`` (default ``True``).
        dtype: parameter dtype (default float32).
        bias (bool, keyword-only): learn ``bias`` when ``affine`` (default ``True``).

    Shape:
        input ``(N, C, *)`` -> output of the same shape.

    Attributes:
        weight (Parameter): ``(C,)``, ones; bias (Parameter): ``(C,)``, zeros (or ``None``).

    Raises:
        ValueError: if ``num_channels`` is not divisible by ``num_groups``.

    Example::

        >>> gn = nn.GroupNorm(4, 32)
        >>> gn(autograd.randn(8, 32, 7, 7)).shape
        (8, 32, 7, 7)
    """

    _function = staticmethod(F.group_norm)
    _layout = "num_groups"

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups != 0:
            raise ValueError(f"GroupNorm: num_channels must be divisible by num_groups (got "
                             f"num_channels={num_channels}, num_groups={num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        self._init_affine(affine, bias, (num_channels,), dtype)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")
