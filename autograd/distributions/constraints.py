"""Constraints on parameters and supports (``torch.distributions.constraints``).

A constraint's ``check(value)`` returns a boolean :class:`autograd.Tensor` with the batch shape
of ``value`` (``event_dim`` rightmost dims are reduced with ``all``). The instances have
PyTorch's names (``real``, ``positive``, ``simplex``, ``unit_interval``, ``boolean``, ...), and
the parametrised ones are classes/functions with PyTorch's names (``interval(lo, hi)``,
``integer_interval(lo, hi)``, ``greater_than(lo)``, ``half_open_interval(lo, hi)``).
"""

import numpy as np

from ..tensor import Tensor

__all__ = ["Constraint", "real", "real_vector", "positive", "nonnegative", "unit_interval",
           "boolean", "simplex", "nonnegative_integer", "positive_integer", "interval",
           "half_open_interval", "integer_interval", "greater_than", "greater_than_eq",
           "one_hot", "positive_definite", "lower_cholesky", "dependent", "is_dependent"]


def _a(value):
    return value._data if isinstance(value, Tensor) else np.asarray(value)


class Constraint:
    """Base class: ``check(value)`` -> bool Tensor; ``is_discrete``; ``event_dim``."""

    is_discrete = False
    event_dim = 0

    def _check(self, a):
        raise NotImplementedError

    def check(self, value):
        """A boolean Tensor, ``True`` where ``value`` satisfies the constraint (shape: that of
        ``value`` less the ``event_dim`` rightmost dims)."""
        ok = np.asarray(self._check(_a(value)), dtype=bool)
        return Tensor._make(ok, False, None)

    def __repr__(self):
        return type(self).__name__.lstrip("_") + "()"


class _Dependent(Constraint):
    def _check(self, a):
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint):
    """True for the placeholder constraint ``dependent`` (a support that depends on params)."""
    return isinstance(constraint, _Dependent)


class _Real(Constraint):
    def _check(self, a):
        return a == a  # not NaN


class _RealVector(Constraint):
    event_dim = 1

    def _check(self, a):
        return np.all(a == a, axis=-1)


class _GreaterThan(Constraint):
    def __init__(self, lower_bound, eq=False):
        self.lower_bound, self.eq = lower_bound, eq

    def _check(self, a):
        lo = _a(self.lower_bound)
        return (lo <= a) if self.eq else (lo < a)

    def __repr__(self):
        return f"{'GreaterThanEq' if self.eq else 'GreaterThan'}(lower_bound={self.lower_bound})"


class _Interval(Constraint):
    def __init__(self, lower_bound, upper_bound, half_open=False):
        self.lower_bound, self.upper_bound, self.half_open = lower_bound, upper_bound, half_open

    def _check(self, a):
        lo, hi = _a(self.lower_bound), _a(self.upper_bound)
        return (lo <= a) & ((a < hi) if self.half_open else (a <= hi))

    def __repr__(self):
        name = "HalfOpenInterval" if self.half_open else "Interval"
        return f"{name}(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _IntegerInterval(Constraint):
    is_discrete = True

    def __init__(self, lower_bound, upper_bound=None):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def _check(self, a):
        ok = (a % 1 == 0) & (_a(self.lower_bound) <= a)
        if self.upper_bound is not None:
            ok = ok & (a <= _a(self.upper_bound))
        return ok

    def __repr__(self):
        return (f"IntegerInterval(lower_bound={self.lower_bound}, "
                f"upper_bound={self.upper_bound})")


class _Boolean(Constraint):
    is_discrete = True

    def _check(self, a):
        return (a == 0) | (a == 1)


class _OneHot(Constraint):
    is_discrete = True
    event_dim = 1

    def _check(self, a):
        return np.all((a == 0) | (a == 1), axis=-1) & (a.sum(-1) == 1)


class _Simplex(Constraint):
    event_dim = 1

    def _check(self, a):
        return np.all(a >= 0, axis=-1) & (np.abs(a.sum(-1) - 1) < 1e-6)


class _PositiveDefinite(Constraint):
    event_dim = 2

    def _check(self, a):
        sym = np.all(np.abs(a - np.swapaxes(a, -1, -2)) <= 1e-6 * (1 + np.abs(a)), axis=(-2, -1))
        ev = np.linalg.eigvalsh(np.asarray(a, dtype=np.float64))
        return sym & np.all(ev > 0, axis=-1)


class _LowerCholesky(Constraint):
    event_dim = 2

    def _check(self, a):
        lower = np.all(np.triu(a, 1) == 0, axis=(-2, -1))
        return lower & np.all(np.diagonal(a, axis1=-2, axis2=-1) > 0, axis=-1)


dependent = _Dependent()
real = _Real()
real_vector = _RealVector()
positive = _GreaterThan(0.0)
nonnegative = _GreaterThan(0.0, eq=True)
unit_interval = _Interval(0.0, 1.0)
boolean = _Boolean()
one_hot = _OneHot()
simplex = _Simplex()
nonnegative_integer = _IntegerInterval(0)
positive_integer = _IntegerInterval(1)
positive_definite = _PositiveDefinite()
lower_cholesky = _LowerCholesky()


def interval(lower_bound, upper_bound):
    """The closed interval ``[lower_bound, upper_bound]``."""
    return _Interval(lower_bound, upper_bound)


def half_open_interval(lower_bound, upper_bound):
    """The interval ``[lower_bound, upper_bound)``."""
    return _Interval(lower_bound, upper_bound, half_open=True)


def integer_interval(lower_bound, upper_bound):
    """Integers in ``[lower_bound, upper_bound]``."""
    return _IntegerInterval(lower_bound, upper_bound)


def greater_than(lower_bound):
    """Values ``> lower_bound``."""
    return _GreaterThan(lower_bound)


def greater_than_eq(lower_bound):
    """Values ``>= lower_bound``."""
    return _GreaterThan(lower_bound, eq=True)
