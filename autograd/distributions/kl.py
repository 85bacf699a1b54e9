"""Kullback-Leibler divergence between distributions (``torch.distributions.kl``).

``kl_divergence(p, q)`` looks up the function registered for the pair of classes with
:func:`register_kl` (the most specific match along both classes' MROs) and returns
``KL(p || q)`` of shape ``batch_shape``. Registered pairs: Normal/Normal,
Categorical/Categorical, OneHotCategorical/OneHotCategorical, Bernoulli/Bernoulli,
Uniform/Uniform, Gamma/Gamma, Beta/Beta,
MultivariateNormal/MultivariateNormal (closed forms from PyTorch's ``kl.py`` documentation
and the standard exponential-family identities).
"""

import numpy as np

from ..ops import where
from ..tensor import Tensor
from ._special import digamma, lgamma
from .bernoulli import Bernoulli
from .categorical import Categorical, OneHotCategorical
from .gamma import Beta, Gamma
from .multivariate_normal import MultivariateNormal, _batch_mahalanobis
from ._linalg import solve_triangular
from .normal import Normal
from .uniform import Uniform

__all__ = ["kl_divergence", "register_kl"]

_KL_REGISTRY = {}


def register_kl(type_p, type_q):
    """Decorator registering ``fn(p, q) -> Tensor`` as the KL divergence for the pair
    ``(type_p, type_q)`` (``torch.distributions.kl.register_kl``).

    Raises:
        TypeError: if either argument is not a class."""
    if not isinstance(type_p, type) or not isinstance(type_q, type):
        raise TypeError(f"register_kl: expected two Distribution classes, got {type_p!r}, "
                        f"{type_q!r}")

    def decorator(fn):
        _KL_REGISTRY[type_p, type_q] = fn
        return fn
    return decorator


def _lookup(tp, tq):
    best, best_rank = None, None
    for (a, b), fn in _KL_REGISTRY.items():
        if issubclass(tp, a) and issubclass(tq, b):
            rank = (tp.__mro__.index(a), tq.__mro__.index(b))
            if best_rank is None or rank < best_rank:
                best, best_rank = fn, rank
    return best


def kl_divergence(p, q):
    """``KL(p || q) = E_p[log p(x) - log q(x)]`` for two distributions, shape ``batch_shape``.

    Raises:
        NotImplementedError: when no closed form is registered for the pair (as PyTorch).
    """
    fn = _lookup(type(p), type(q))
    if fn is None:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type "
                                  f"{type(p).__name__} and q type {type(q).__name__}")
    return fn(p, q)


def _fill(t, mask, value):
    """``t`` with ``value`` where the boolean array ``mask`` holds (differentiable elsewhere)."""
    mask = np.broadcast_to(mask, t.shape)
    if not mask.any():
        return t
    return where(Tensor._make(np.ascontiguousarray(mask), False, None),
                 Tensor._make(np.full(t.shape, value, dtype=t.dtype), False, None), t)


def _softplus(x):
    return x.clamp(min=0) + (-x.abs()).exp().log1p()


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    var_ratio = (p.scale / q.scale) ** 2
    t1 = ((p.loc - q.loc) / q.scale) ** 2
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    t = p.probs * (p.logits - q.logits)
    t = _fill(t, q.probs._data == 0, np.inf)
    t = _fill(t, np.broadcast_to(p.probs._data == 0, t.shape), 0.0)
    return t.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehot_onehot(p, q):
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    t1 = p.probs * (_softplus(-q.logits) - _softplus(-p.logits))
    t1 = _fill(t1, q.probs._data == 0, np.inf)
    t1 = _fill(t1, p.probs._data == 0, 0.0)
    t2 = (1 - p.probs) * (_softplus(q.logits) - _softplus(p.logits))
    t2 = _fill(t2, q.probs._data == 1, np.inf)
    t2 = _fill(t2, p.probs._data == 1, 0.0)
    return t1 + t2


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    result = ((q.high - q.low) / (p.high - p.low)).log()
    return _fill(result, (q.low._data > p.low._data) | (q.high._data < p.high._data), np.inf)


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p, q):
    t1 = q.concentration * (p.rate / q.rate).log()
    t2 = lgamma(q.concentration) - lgamma(p.concentration)
    t3 = (p.concentration - q.concentration) * digamma(p.concentration)
    t4 = (q.rate - p.rate) * (p.concentration / p.rate)
    return t1 + t2 + t3 + t4


@register_kl(Beta, Beta)
def _kl_beta_beta(p, q):
    a1, b1, a2, b2 = p.concentration1, p.concentration0, q.concentration1, q.concentration0
    lbeta1 = lgamma(a1) + lgamma(b1) - lgamma(a1 + b1)
    lbeta2 = lgamma(a2) + lgamma(b2) - lgamma(a2 + b2)
    return lbeta2 - lbeta1 + (a1 - a2) * digamma(a1) + (b1 - b2) * digamma(b1) \
        + (a2 - a1 + b2 - b1) * digamma(a1 + b1)


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p, q):
    k = p.event_shape[0]
    shape = np.broadcast_shapes(p.batch_shape, q.batch_shape)
    Lp = p._L.expand(shape + (k, k))
    Lq = q._L.expand(shape + (k, k))
    term_tr = (solve_triangular(Lq, Lp) ** 2).sum((-2, -1))        # tr(Sq^-1 Sp)
    M = _batch_mahalanobis(Lq, q.loc - p.loc)
    return q._half_log_det() - p._half_log_det() + 0.5 * (term_tr + M - k)
