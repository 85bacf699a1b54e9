"""The :class:`Distribution` base class (``torch.distributions.Distribution``) and helpers.

Shapes follow PyTorch: a distribution has a ``batch_shape`` (independent, differently
parametrised copies) and an ``event_shape`` (the shape of one draw); ``sample(sample_shape)``
returns ``sample_shape + batch_shape + event_shape`` and ``log_prob(value)`` returns
``sample_shape + batch_shape``.

Random draws come from :mod:`autograd.random`'s default generator, so
``autograd.manual_seed(s)`` makes them repeatable (the streams are NumPy's, so the numbers
differ from PyTorch's for the same seed).
"""

import numpy as np

from .. import dtypes, grad_mode
from ..random import get_rng
from ..tensor import Tensor
from . import constraints

__all__ = ["Distribution", "broadcast_all"]


def _tensor(value, dtype=None):
    if isinstance(value, Tensor):
        return value
    arr = np.asarray(value, dtype=dtype if dtype is not None else dtypes.get_default_dtype())
    return Tensor._make(arr, False, None)


def broadcast_all(*values):
    """Broadcast Tensors and numbers to one shape (``torch.distributions.utils.broadcast_all``).

    Numbers become Tensors of the first Tensor argument's dtype (the default dtype when there is
    none). Returns a tuple of Tensors (``expand`` views, so gradients flow to the originals).

    Raises:
        ValueError: if an argument is neither a Tensor nor a number, or the shapes do not
            broadcast.
    """
    dtype = next((v.dtype for v in values if isinstance(v, Tensor)), None)
    ts = []
    for v in values:
        if not isinstance(v, (Tensor, int, float, np.number, np.ndarray)):
            raise ValueError("Input arguments must all be instances of numbers.Number or "
                             f"Tensor, got {type(v).__name__}")
        ts.append(_tensor(v, dtype))
    try:
        shape = np.broadcast_shapes(*[t.shape for t in ts])
    except ValueError:
        raise ValueError("broadcast_all: shapes " + ", ".join(str(tuple(t.shape)) for t in ts)
                         + " do not broadcast") from None
    return tuple(t if tuple(t.shape) == shape else t.expand(shape) for t in ts)


class lazy_property:
    """A property computed on first access and then stored on the instance (PyTorch's
    ``torch.distributions.utils.lazy_property``), used for ``probs``/``logits`` pairs."""

    def __init__(self, fn):
        self.fn = fn
        self.__doc__ = fn.__doc__
        self.__name__ = fn.__name__

    def __get__(self, obj, cls=None):
        if obj is None:
            return self
        value = self.fn(obj)
        obj.__dict__[self.__name__] = value
        return value


def probs_to_logits(probs, is_binary=False):
    """``log p`` (``log(p / (1 - p))`` when ``is_binary``), with ``p`` clamped to
    ``[eps, 1 - eps]`` (``torch.distributions.utils.probs_to_logits``)."""
    eps = float(np.finfo(probs.dtype).eps)
    p = probs.clamp(min=eps, max=1 - eps)
    return (p.log() - (-p).log1p()) if is_binary else p.log()


def logits_to_probs(logits, is_binary=False):
    """``sigmoid(logits)`` when ``is_binary`` else ``softmax(logits, -1)``."""
    return logits.sigmoid() if is_binary else logits.softmax(-1)


class Distribution:
    """Base class of probability distributions (``torch.distributions.Distribution``).

    Args:
        batch_shape (tuple): the shape over which parameters are batched.
        event_shape (tuple): the shape of a single sample.
        validate_args (bool or None): check parameters (at construction) and values (in
            ``log_prob``, ``cdf``) against their constraints; ``None`` uses the class default,
            ``True`` unless :meth:`set_default_validate_args` changed it (PyTorch's default is
            ``__debug__``, i.e. ``True`` too).

    Raises:
        ValueError: with ``validate_args``, for a parameter outside its constraint (PyTorch's
            message: ``Expected parameter loc (Tensor of shape ...) ... to satisfy the
            constraint ...``).

    Subclasses define ``arg_constraints``, ``support``, ``has_rsample`` and the methods they
    can compute; the rest raise ``NotImplementedError`` as in PyTorch.
    """

    has_rsample = False
    has_enumerate_support = False
    _validate_args = True
    arg_constraints = {}
    support = None

    @staticmethod
    def set_default_validate_args(value):
        """Set whether validation is on by default (``Distribution.set_default_validate_args``).

        Raises:
            ValueError: if ``value`` is not a bool."""
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args: expected a bool, got {value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape = tuple(batch_shape)
        self._event_shape = tuple(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            for param, constraint in self.arg_constraints.items():
                if constraints.is_dependent(constraint):
                    continue
                if param not in self.__dict__:
                    continue  # the other member of a probs/logits pair, or a derived matrix
                value = getattr(self, param)
                if not bool(constraint.check(value)._data.all()):
                    raise ValueError(
                        f"Expected parameter {param} (Tensor of shape {tuple(value.shape)}) of "
                        f"distribution {self!r} to satisfy the constraint {constraint!r}, but "
                        f"found invalid values:\n{value}")

    @property
    def batch_shape(self):
        """The shape over which parameters are batched (a tuple)."""
        return self._batch_shape

    @property
    def event_shape(self):
        """The shape of a single sample, without batching (a tuple)."""
        return self._event_shape

    def expand(self, batch_shape, _instance=None):
        """A new distribution of the same family with parameters expanded to ``batch_shape``
        (no data is copied: the parameters are ``expand`` views).

        Raises:
            RuntimeError: if the current batch shape does not broadcast to ``batch_shape``.
        """
        batch_shape = tuple(batch_shape)
        try:
            np.broadcast_shapes(self._batch_shape, batch_shape)
            if np.broadcast_shapes(self._batch_shape, batch_shape) != batch_shape:
                raise ValueError
        except ValueError:
            raise RuntimeError(f"expand: batch shape {self._batch_shape} cannot be expanded to "
                               f"{batch_shape}") from None
        new = type(self).__new__(type(self))
        for name in self._param_names():
            value = self.__dict__[name]
            extra = tuple(value.shape[len(value.shape) - self._param_event_dims(name):]) \
                if self._param_event_dims(name) else ()
            new.__dict__[name] = value.expand(batch_shape + extra)
        new.__dict__.update({k: v for k, v in self.__dict__.items()
                             if k not in self._param_names() and not isinstance(v, Tensor)})
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _param_names(self):
        return [k for k in self.arg_constraints if k in self.__dict__]

    def _param_event_dims(self, name):
        return self.arg_constraints[name].event_dim

    # ---- the interface ------------------------------------------------------------------------
    @property
    def mean(self):
        """The mean (shape ``batch_shape + event_shape``)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement mean")

    @property
    def mode(self):
        """The mode (shape ``batch_shape + event_shape``)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement mode")

    @property
    def variance(self):
        """The variance (shape ``batch_shape + event_shape``)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement variance")

    @property
    def stddev(self):
        """The standard deviation, ``variance.sqrt()``."""
        return self.variance.sqrt()

    def sample(self, sample_shape=()):
        """A draw of shape ``sample_shape + batch_shape + event_shape``, not differentiable."""
        with grad_mode.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()):
        """A reparameterised draw (differentiable with respect to the parameters)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement rsample "
                                  "(it has no reparameterised sampler)")

    def sample_n(self, n):
        """``sample((n,))`` (deprecated in PyTorch)."""
        return self.sample((n,))

    def log_prob(self, value):
        """Log of the density / mass at ``value`` (shape ``sample_shape + batch_shape``)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement log_prob")

    def cdf(self, value):
        """The cumulative distribution function at ``value``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement cdf")

    def icdf(self, value):
        """The inverse cumulative distribution function at ``value``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement icdf")

    def entropy(self):
        """The entropy (shape ``batch_shape``)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement entropy")

    def enumerate_support(self, expand=True):
        """All values of a discrete distribution's support along a new leading dim."""
        raise NotImplementedError(f"{type(self).__name__} does not implement enumerate_support")

    def perplexity(self):
        """``exp(entropy())``."""
        return self.entropy().exp()

    # ---- helpers ------------------------------------------------------------------------------
    def _extended_shape(self, sample_shape=()):
        if isinstance(sample_shape, int):
            sample_shape = (sample_shape,)
        return tuple(sample_shape) + self._batch_shape + self._event_shape

    def _rng(self):
        return get_rng()

    def _standard_normal(self, sample_shape, dtype):
        """Standard normal noise of shape ``sample_shape + batch_shape + event_shape`` (a
        constant Tensor of ``dtype``), for the reparameterised samplers."""
        eps = self._rng().standard_normal(self._extended_shape(sample_shape))
        return Tensor._make(np.asarray(eps, dtype=dtype), False, None)

    def _validate_sample(self, value):
        """Check ``value`` against the support and the event shape (PyTorch's wording).

        Raises:
            ValueError: ``value`` is not a Tensor, its trailing dims do not match the event
                shape, it does not broadcast with the batch shape, or is outside the support.
        """
        if not isinstance(value, Tensor):
            raise ValueError(f"The value argument to log_prob must be a Tensor, got "
                             f"{type(value).__name__}")
        ev = len(self._event_shape)
        if ev and tuple(value.shape[-ev:]) != self._event_shape:
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{tuple(value.shape)} vs {self._event_shape}.")
        try:
            np.broadcast_shapes(tuple(value.shape), self._batch_shape + self._event_shape)
        except ValueError:
            raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: "
                             f"{tuple(value.shape)} vs "
                             f"{self._batch_shape + self._event_shape}.") from None
        if self.support is not None and not constraints.is_dependent(self.support):
            if not bool(self.support.check(value)._data.all()):
                raise ValueError(f"Expected value argument (Tensor of shape "
                                 f"{tuple(value.shape)}) to be within the support "
                                 f"({self.support!r}) of the distribution {self!r}, but found "
                                 f"invalid values:\n{value}")

    def __repr__(self):
        params = [k for k in self.arg_constraints if k in self.__dict__]
        def show(v):
            return v if v.numel() == 1 else tuple(v.shape)
        body = ", ".join(f"{p}: {show(self.__dict__[p])}" for p in params)
        return f"{type(self).__name__}({body})"


class _MeanIsLoc:
    """Mixin of the families whose mean and mode are both the ``loc`` parameter (Normal,
    MultivariateNormal)."""

    mean = mode = property(lambda self: self.loc, doc="``loc``.")
