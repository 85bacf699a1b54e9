"""Categorical and one-hot categorical distributions (``torch.distributions.Categorical``,
``torch.distributions.OneHotCategorical``)."""

import numpy as np

from ..tensor import Tensor
from . import constraints
from .distribution import Distribution, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Categorical", "OneHotCategorical"]


def _check_one(probs, logits, name):
    if (probs is None) == (logits is None):
        raise ValueError(f"{name}: either `probs` or `logits` must be specified, but not both.")
    t = probs if probs is not None else logits
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}: probs/logits must be a Tensor, got {type(t).__name__}")
    if t.ndim < 1:
        raise ValueError(f"{name}: `probs`/`logits` parameter must be at least one-dimensional, "
                         f"got shape {tuple(t.shape)}")
    if t.dtype.kind != "f":
        raise TypeError(f"{name}: probs/logits must be floating point, got {t.dtype}")


class Categorical(Distribution):
    """A categorical distribution over ``{0, ..., K-1}`` parametrised by ``probs`` or
    ``logits`` (exactly one), over the last dim (size ``K``).

    Args:
        probs (Tensor, optional): ``(*batch, K)`` non-negative weights, normalised to sum to 1
            over the last dim.
        logits (Tensor, optional): ``(*batch, K)`` unnormalised log-probabilities (normalised
            with ``logsumexp``).
        validate_args (bool, optional): see :class:`Distribution`.

    ``batch_shape`` is ``probs.shape[:-1]``; ``event_shape`` is ``()``. ``sample`` returns int64
    indices of shape ``sample_shape + batch_shape`` (inverse-CDF sampling with the default
    generator); ``log_prob(value)`` gathers ``logits`` at ``value``;
    ``entropy = -sum p log p``; ``mean``/``variance`` are NaN (PyTorch's definitions).

    Raises:
        ValueError: neither or both of probs/logits; a 0-d parameter; with validation, probs
            negative or not summing to a positive number; values outside ``[0, K)``.
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        _check_one(probs, logits, type(self).__name__)
        if probs is not None:
            if validate_args is not False and (validate_args or self._validate_args) \
                    and not bool(np.all(probs._data >= 0)):
                raise ValueError(f"Expected parameter probs (Tensor of shape "
                                 f"{tuple(probs.shape)}) of distribution "
                                 f"{type(self).__name__} to satisfy the constraint Simplex(), "
                                 f"but found invalid values:\n{probs}")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            self.logits = logits - logits.logsumexp(-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.shape[-1]
        super().__init__(tuple(self._param.shape[:-1]), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        batch_shape = tuple(batch_shape)
        new = type(self).__new__(type(self))
        for name in ("probs", "logits"):
            if name in self.__dict__:
                new.__dict__[name] = self.__dict__[name].expand(batch_shape + (self._num_events,))
        new._param = new.probs if "probs" in self.__dict__ else new.logits
        new._num_events = self._num_events
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self):
        """Normalised log-probabilities ``(*batch, K)``."""
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        """Normalised probabilities ``(*batch, K)``."""
        return logits_to_probs(self.logits)

    @property
    def param_shape(self):
        return tuple(self._param.shape)

    @property
    def mean(self):
        return Tensor._make(np.full(self._batch_shape, np.nan, dtype=self._param.dtype),
                            False, None)

    @property
    def mode(self):
        return self.probs.argmax(-1)

    @property
    def variance(self):
        return self.mean

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        p = np.asarray(self.probs._data, dtype=np.float64)
        cdf = np.cumsum(p, axis=-1)
        cdf = cdf / cdf[..., -1:]
        u = self._rng().random(shape)
        idx = (u[..., None] >= np.broadcast_to(cdf, shape + (self._num_events,))).sum(-1)
        # never draw a zero-probability last category by rounding
        idx = np.minimum(idx, self._num_events - 1).astype(np.int64)
        return Tensor._make(idx, False, None)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        idx = value.long().unsqueeze(-1)
        shape = np.broadcast_shapes(tuple(idx.shape), tuple(self.logits.shape))
        logits = self.logits if tuple(self.logits.shape) == shape else self.logits.expand(shape)
        idx = idx.expand(shape[:-1] + (1,)) if tuple(idx.shape) != shape[:-1] + (1,) else idx
        return logits.gather(-1, idx).squeeze(-1)

    def entropy(self):
        fmin = float(np.finfo(self.logits.dtype).min)
        logits = self.logits.clamp(min=fmin)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        n = self._num_events
        values = Tensor._make(np.arange(n, dtype=np.int64).reshape((n,) + (1,) * len(
            self._batch_shape)), False, None)
        if expand:
            values = values.expand((n,) + self._batch_shape)
        return values


def _of_categorical(name):
    """A read-only property of :class:`OneHotCategorical`: its inner Categorical's ``name``."""
    return property(lambda self: getattr(self._categorical, name),
                    doc=f"The ``{name}`` of the underlying :class:`Categorical`.")


class OneHotCategorical(Distribution):
    """A categorical distribution whose samples are one-hot vectors of size ``K``
    (``torch.distributions.OneHotCategorical``).

    Args:
        probs (Tensor, optional), logits (Tensor, optional), validate_args: as
            :class:`Categorical`.

    ``event_shape`` is ``(K,)``; ``sample`` returns float one-hot vectors (the parameter's
    dtype) of shape ``sample_shape + batch_shape + (K,)``; ``log_prob(v)`` is the categorical
    log-probability of ``v.argmax(-1)``; mean is ``probs``, variance ``probs (1 - probs)``.
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits, validate_args=validate_args)
        super().__init__(self._categorical.batch_shape, (self._categorical._num_events,),
                         validate_args=validate_args)

    def _param_names(self):
        return []

    def expand(self, batch_shape, _instance=None):
        new = type(self).__new__(type(self))
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, tuple(batch_shape), self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    probs = _of_categorical("probs")
    logits = _of_categorical("logits")
    param_shape = _of_categorical("param_shape")
    mean = _of_categorical("probs")  # the mean of a one-hot vector is the probabilities

    @property
    def mode(self):
        p = self._categorical.probs
        k = p.shape[-1]
        return Tensor._make(np.eye(k, dtype=p.dtype)[p._data.argmax(-1)], False, None)

    @property
    def variance(self):
        p = self._categorical.probs
        return p * (1 - p)

    def sample(self, sample_shape=()):
        idx = self._categorical.sample(sample_shape)._data
        k = self._event_shape[0]
        return Tensor._make(np.eye(k, dtype=self._categorical._param.dtype)[idx], False, None)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self):
        return self._categorical.entropy()

    def enumerate_support(self, expand=True):
        n = self._event_shape[0]
        values = Tensor._make(np.eye(n, dtype=self._categorical._param.dtype).reshape(
            (n,) + (1,) * len(self._batch_shape) + (n,)), False, None)
        if expand:
            values = values.expand((n,) + self._batch_shape + (n,))
        return values

    def __repr__(self):
        return "OneHot" + repr(self._categorical)
