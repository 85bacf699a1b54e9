"""Probability distributions (``torch.distributions``).

PyTorch's names, arguments and shapes: a :class:`Distribution` has ``batch_shape`` and
``event_shape``; ``sample``/``rsample(sample_shape)``, ``log_prob``, ``entropy``, ``mean``,
``variance``, ``stddev``, ``expand``; ``validate_args`` checks parameters and values.

::

    from autograd.distributions import Categorical
    m = Categorical(probs)           # probs: (N, K)
    action = m.sample()              # (N,) int64
    loss = -m.log_prob(action) * reward

Families: :class:`Normal`, :class:`Uniform`, :class:`Bernoulli`, :class:`Categorical`,
:class:`OneHotCategorical`, :class:`Gamma`, :class:`Beta`, :class:`MultivariateNormal`;
:func:`kl_divergence` for pairs of the same family. ``rsample`` (Normal, Uniform, Gamma, Beta,
MultivariateNormal) is reparameterised and
differentiable; draws come from :mod:`autograd.random`'s default generator, so
``autograd.manual_seed`` makes them repeatable.

Differences from PyTorch: the random streams are NumPy's (same seed, different numbers);
Dirichlet, Poisson, transforms and the other families are not provided;
Gamma/Beta ``rsample``'s gradient in the concentration uses a finite-difference
``dF/dalpha`` (first order only).
"""

from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical, OneHotCategorical
from .distribution import Distribution
from .gamma import Beta, Gamma
from .kl import kl_divergence, register_kl
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .uniform import Uniform

__all__ = ["Distribution", "Bernoulli", "Beta", "Categorical", "Gamma", "MultivariateNormal",
           "Normal", "OneHotCategorical", "Uniform", "constraints", "kl_divergence", "register_kl"]
