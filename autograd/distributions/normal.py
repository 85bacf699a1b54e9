"""The normal (Gaussian) distribution (``torch.distributions.Normal``)."""

import math

from . import constraints
from .distribution import Distribution, _MeanIsLoc, broadcast_all

__all__ = ["Normal"]


class Normal(_MeanIsLoc, Distribution):
    r"""Normal distribution with mean ``loc`` and standard deviation ``scale``.

    Args:
        loc (Tensor or float): the mean.
        scale (Tensor or float): the standard deviation (``> 0``).
        validate_args (bool, optional): see :class:`Distribution`.

    ``batch_shape`` is the broadcast shape of ``loc`` and ``scale``; ``event_shape`` is ``()``.
    ``rsample`` is reparameterised: ``loc + scale * eps`` with ``eps ~ N(0, 1)``, differentiable
    in both parameters. Formulas (log density, entropy, cdf) are PyTorch's documented ones:
    ``log p(x) = -(x - loc)^2 / (2 scale^2) - log scale - log sqrt(2 pi)``,
    ``H = 0.5 + 0.5 log(2 pi) + log scale``.
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(tuple(self.loc.shape), validate_args=validate_args)

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale ** 2

    def rsample(self, sample_shape=()):
        return self.loc + self._standard_normal(sample_shape, self.loc.dtype) * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        var = self.scale ** 2
        return -((value - self.loc) ** 2) / (2 * var) - self.scale.log() \
            - math.log(math.sqrt(2 * math.pi))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + ((value - self.loc) / (self.scale * math.sqrt(2))).erf())

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()
