"""The Bernoulli distribution (``torch.distributions.Bernoulli``)."""

import numpy as np

from ..tensor import Tensor
from . import constraints
from .distribution import (Distribution, broadcast_all, lazy_property, logits_to_probs,
                           probs_to_logits)

__all__ = ["Bernoulli"]


class Bernoulli(Distribution):
    """Bernoulli distribution on ``{0, 1}`` parametrised by ``probs`` or ``logits`` (exactly
    one; ``probs = sigmoid(logits)``).

    Args:
        probs (Tensor or float, optional): probability of 1, in ``[0, 1]``.
        logits (Tensor or float, optional): log-odds of 1.
        validate_args (bool, optional): see :class:`Distribution`.

    ``sample`` returns floats 0./1. (the parameter's dtype) of shape
    ``sample_shape + batch_shape``. ``log_prob(v) = v * logits - softplus(logits)`` (the
    negative binary cross-entropy with logits, as PyTorch computes it), ``entropy`` is the
    binary cross-entropy of ``probs`` with itself, mean ``p``, variance ``p (1 - p)``.

    Raises:
        ValueError: neither or both parameters; with validation, probs outside ``[0, 1]`` or a
            value not in ``{0, 1}``.
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Bernoulli: either `probs` or `logits` must be specified, but not "
                             "both.")
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
            param = self.probs
        else:
            (self.logits,) = broadcast_all(logits)
            param = self.logits
        self._param = param
        super().__init__(tuple(param.shape), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = type(self).__new__(type(self))
        for name in ("probs", "logits"):
            if name in self.__dict__:
                new.__dict__[name] = self.__dict__[name].expand(tuple(batch_shape))
        new._param = new.probs if "probs" in self.__dict__ else new.logits
        Distribution.__init__(new, tuple(batch_shape), validate_args=False)
        new._validate_args = self._validate_args
        return new

    @lazy_property
    def logits(self):
        """Log-odds ``log(p / (1 - p))`` (p clamped away from 0 and 1)."""
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        """Probability of 1, ``sigmoid(logits)``."""
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return tuple(self._param.shape)

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        p = self.probs._data
        m = (p >= 0.5).astype(p.dtype)
        m[p == 0.5] = np.nan
        return Tensor._make(m, False, None)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        p = np.broadcast_to(self.probs._data, shape)
        u = self._rng().random(shape)
        return Tensor._make((u < p).astype(self._param.dtype), False, None)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits = self.logits
        # v * l - softplus(l), softplus written stably: max(l, 0) + log1p(exp(-|l|))
        softplus = logits.clamp(min=0) + (-logits.abs()).exp().log1p()
        return value * logits - softplus

    def entropy(self):
        logits, p = self.logits, self.probs
        softplus = logits.clamp(min=0) + (-logits.abs()).exp().log1p()
        return softplus - p * logits

    def enumerate_support(self, expand=True):
        values = Tensor._make(np.arange(2, dtype=self._param.dtype).reshape(
            (2,) + (1,) * len(self._batch_shape)), False, None)
        if expand:
            values = values.expand((2,) + self._batch_shape)
        return values
