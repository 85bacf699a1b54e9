"""The multivariate normal distribution (``torch.distributions.MultivariateNormal``)."""

import math

import numpy as np

from ..linalg import inv
from ..tensor import Tensor
from . import constraints
from ._linalg import cholesky, solve_triangular
from .distribution import Distribution, _MeanIsLoc

__all__ = ["MultivariateNormal"]


def _batch_mahalanobis(L, x):
    """``|| L^{-1} x ||^2`` over the last dim; ``L`` ``(*, k, k)``, ``x`` ``(*, k)``."""
    shape = np.broadcast_shapes(tuple(L.shape[:-2]), tuple(x.shape[:-1]))
    Lb = L if tuple(L.shape[:-2]) == shape else L.expand(shape + tuple(L.shape[-2:]))
    xb = x if tuple(x.shape[:-1]) == shape else x.expand(shape + tuple(x.shape[-1:]))
    y = solve_triangular(Lb, xb.unsqueeze(-1))
    return (y.squeeze(-1) ** 2).sum(-1)


class MultivariateNormal(_MeanIsLoc, Distribution):
    """Multivariate normal with mean ``loc`` and one of ``covariance_matrix``,
    ``precision_matrix`` or ``scale_tril`` (exactly one).

    Args:
        loc (Tensor): ``(*batch, k)`` mean.
        covariance_matrix (Tensor, optional): ``(*batch, k, k)`` symmetric positive-definite.
        precision_matrix (Tensor, optional): ``(*batch, k, k)`` its inverse.
        scale_tril (Tensor, optional): ``(*batch, k, k)`` lower-triangular factor with a
            positive diagonal (``Sigma = L L^T``).
        validate_args (bool, optional): see :class:`Distribution`.

    ``event_shape`` is ``(k,)``; ``batch_shape`` the broadcast of ``loc.shape[:-1]`` and the
    matrix's batch dims. ``rsample = loc + L eps`` (reparameterised). ``log_prob(x) =
    -(k log 2 pi + |L^{-1}(x - loc)|^2) / 2 - sum log diag L``; entropy
    ``k (1 + log 2 pi) / 2 + sum log diag L`` (PyTorch's formulas). The Cholesky factor and the
    triangular solves are differentiable (first and second order).

    Raises:
        ValueError: none or several of the matrix arguments; ``loc`` 0-d; a matrix not square
            or not matching ``loc``; with validation, a matrix outside its constraint.
    """

    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        given = [m for m in (covariance_matrix, precision_matrix, scale_tril) if m is not None]
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        if not isinstance(loc, Tensor) or loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        m = given[0]
        if m.ndim < 2 or m.shape[-1] != m.shape[-2] or m.shape[-1] != loc.shape[-1]:
            raise ValueError(f"MultivariateNormal: the matrix must be (*batch, k, k) with "
                             f"k = loc.shape[-1] = {loc.shape[-1]}, got {tuple(m.shape)}")
        batch_shape = np.broadcast_shapes(tuple(m.shape[:-2]), tuple(loc.shape[:-1]))
        k = loc.shape[-1]
        if scale_tril is not None:
            self.scale_tril = scale_tril.expand(batch_shape + (k, k))
            self._L = scale_tril
        elif covariance_matrix is not None:
            self.covariance_matrix = covariance_matrix.expand(batch_shape + (k, k))
            self._L = None
        else:
            self.precision_matrix = precision_matrix.expand(batch_shape + (k, k))
            self._L = None
        self.loc = loc.expand(batch_shape + (k,))
        super().__init__(batch_shape, (k,), validate_args=validate_args)
        if self._L is None:
            cov = covariance_matrix if covariance_matrix is not None else inv(precision_matrix)
            self._L = cholesky(cov)

    def expand(self, batch_shape, _instance=None):
        batch_shape = tuple(batch_shape)
        k = self._event_shape[0]
        new = type(self).__new__(type(self))
        new.loc = self.loc.expand(batch_shape + (k,))
        new._L = self._L
        for name in ("covariance_matrix", "precision_matrix", "scale_tril"):
            if name in self.__dict__:
                new.__dict__[name] = self.__dict__[name].expand(batch_shape + (k, k))
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _param_names(self):
        return []

    @property
    def _scale(self):
        k = self._event_shape[0]
        return self._L.expand(self._batch_shape + (k, k))

    def __getattr__(self, name):
        # the matrix parameters not given are computed on first use (PyTorch's lazy_property)
        if name == "scale_tril":
            return self._scale
        if name == "covariance_matrix":
            return self._scale @ self._scale.mT
        if name == "precision_matrix":
            return inv(self._scale @ self._scale.mT)
        raise AttributeError(f"'MultivariateNormal' object has no attribute '{name}'")

    @property
    def variance(self):
        return (self._scale ** 2).sum(-1)

    def rsample(self, sample_shape=()):
        eps = self._standard_normal(sample_shape, self.loc.dtype)
        return self.loc + (self._L @ eps.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self):
        return self._L.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        k = self._event_shape[0]
        M = _batch_mahalanobis(self._L, value - self.loc)
        return -0.5 * (k * math.log(2 * math.pi) + M) - self._half_log_det()

    def entropy(self):
        k = self._event_shape[0]
        H = 0.5 * k * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return H if tuple(H.shape) == self._batch_shape else H.expand(self._batch_shape)

    def __repr__(self):
        return f"MultivariateNormal(loc: {tuple(self.loc.shape)})"
