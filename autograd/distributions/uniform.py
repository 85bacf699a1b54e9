"""The continuous uniform distribution (``torch.distributions.Uniform``)."""

import numpy as np

from ..tensor import Tensor
from . import constraints
from .distribution import Distribution, broadcast_all

__all__ = ["Uniform"]


class Uniform(Distribution):
    """Uniform distribution on the half-open interval ``[low, high)``.

    Args:
        low (Tensor or float): lower bound (inclusive).
        high (Tensor or float): upper bound (exclusive); must exceed ``low``.
        validate_args (bool, optional): see :class:`Distribution`.

    ``rsample`` is ``low + (high - low) * u`` with ``u ~ U[0, 1)``, differentiable in both
    bounds. ``log_prob = log(1[low <= x < high]) - log(high - low)`` (``-inf`` outside, when
    validation is off), ``H = log(high - low)``, mean ``(low + high) / 2``, variance
    ``(high - low)^2 / 12`` (PyTorch's formulas).
    """

    arg_constraints = {"low": constraints.dependent, "high": constraints.dependent}
    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all(low, high)
        if validate_args is not False and (validate_args or self._validate_args):
            if not bool(np.all(self.low._data < self.high._data)):
                raise ValueError(f"Expected parameter low (Tensor of shape "
                                 f"{tuple(self.low.shape)}) of distribution Uniform to satisfy "
                                 f"low < high, but found invalid values:\nlow={self.low}\n"
                                 f"high={self.high}")
        super().__init__(tuple(self.low.shape), validate_args=validate_args)

    def _param_names(self):
        return ["low", "high"]

    @property
    def support(self):
        return constraints.half_open_interval(self.low._data, self.high._data)

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def mode(self):
        return self.low * float("nan")

    @property
    def stddev(self):
        return (self.high - self.low) / 12 ** 0.5

    @property
    def variance(self):
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        u = Tensor._make(np.asarray(self._rng().random(shape), dtype=self.low.dtype), False, None)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        inside = (self.low <= value) & (value < self.high)
        return inside.to(self.low.dtype).log() - (self.high - self.low).log()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    def icdf(self, value):
        return value * (self.high - self.low) + self.low

    def entropy(self):
        return (self.high - self.low).log()
