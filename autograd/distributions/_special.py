"""Differentiable special functions the distributions need: ``lgamma``, ``digamma``,
``polygamma`` (values from :mod:`scipy.special`; derivatives from the identities
``d/dx lgamma(x) = digamma(x)``, ``d/dx polygamma(n, x) = polygamma(n + 1, x)``, DLMF 5.15).

They are private :class:`autograd.Function` s so the distributions do not depend on the op
library growing them; every order of derivative is available (each backward calls the next
polygamma, itself differentiable).
"""

import numpy as np
from scipy import special as _sp

from ..function import Function
from ..tensor import Tensor


def _arr(x):
    return x._data


class _Polygamma(Function):
    @staticmethod
    def forward(ctx, x, n):
        ctx.n = n
        ctx.save_for_backward(x)
        a = _arr(x)
        out = _sp.gammaln(a) if n == -1 else _sp.polygamma(n, a)
        return Tensor._make(np.asarray(out, dtype=a.dtype), False, None)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * _Polygamma.apply(x, ctx.n + 1), None


def lgamma(x):
    """``log|Gamma(x)|`` elementwise (``torch.lgamma``); gradient ``digamma(x)``.

    Shape and dtype: those of ``x`` (floating)."""
    return _Polygamma.apply(x, -1)


def digamma(x):
    """``d/dx log Gamma(x)`` elementwise (``torch.digamma``); gradient ``polygamma(1, x)``."""
    return _Polygamma.apply(x, 0)


def polygamma(n, x):
    """The ``n``-th derivative of ``digamma`` (``torch.polygamma``)."""
    return _Polygamma.apply(x, int(n))
