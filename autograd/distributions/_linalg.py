"""Differentiable Cholesky factorisation and triangular solve for the multivariate normal
(private; written as :class:`autograd.Function` s whose backward uses Tensor ops, so they are
differentiable again).

Formulas: triangular solve ``X = A^{-1} B``: ``dB = A^{-T} dX``, ``dA = -tril(dB X^T)``
(``triu`` for upper); Cholesky ``A = L L^T``: ``dA = sym(L^{-T} Phi(L^T dL) L^{-1})`` with
``Phi`` the lower triangle with the diagonal halved (I. Murray, 2016, "Differentiation of the
Cholesky decomposition", arXiv:1602.07527).
"""

import numpy as np

from ..function import Function
from ..tensor import Tensor


def _sum_to(g, shape):
    """Sum the broadcast leading dims of ``g`` back to ``shape``."""
    shape = tuple(shape)
    while g.ndim > len(shape):
        g = g.sum(0)
    for i, (a, b) in enumerate(zip(g.shape, shape)):
        if a != b:
            g = g.sum(i, keepdim=True)
    return g


def _mask(n, lower, dtype):
    m = np.tril(np.ones((n, n), dtype=dtype)) if lower else np.triu(np.ones((n, n), dtype=dtype))
    return Tensor._make(m, False, None)


class _TriSolve(Function):
    @staticmethod
    def forward(ctx, A, B, lower):
        a, b = A._data, B._data
        shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        a2 = np.broadcast_to(a, shape + a.shape[-2:])
        b2 = np.broadcast_to(b, shape + b.shape[-2:])
        x = np.linalg.solve(a2, b2)
        out = Tensor._make(np.ascontiguousarray(x, dtype=b.dtype), False, None)
        ctx.lower = lower
        ctx.save_for_backward(A, out)
        ctx.shapes = (tuple(A.shape), tuple(B.shape))
        return out

    @staticmethod
    def backward(ctx, gX):
        A, X = ctx.saved_tensors
        gB = _TriSolve.apply(A.mT, gX, not ctx.lower)
        gA = -(gB @ X.mT) * _mask(A.shape[-1], ctx.lower, A.dtype)
        return _sum_to(gA, ctx.shapes[0]), _sum_to(gB, ctx.shapes[1]), None


def solve_triangular(A, B, upper=False):
    """``X`` with ``A X = B`` for triangular ``A`` ``(*, n, n)`` and ``B`` ``(*, n, k)``
    (batch dims broadcast; ``torch.linalg.solve_triangular(A, B, upper=...)``)."""
    return _TriSolve.apply(A, B, not upper)


class _Cholesky(Function):
    @staticmethod
    def forward(ctx, A):
        try:
            L = np.linalg.cholesky(A._data)
        except np.linalg.LinAlgError:
            raise ValueError("cholesky: the input is not positive-definite (the leading minor "
                             "of some order is not positive)") from None
        out = Tensor._make(L.astype(A.dtype), False, None)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, gL):
        L, = ctx.saved_tensors
        n = L.shape[-1]
        eye = Tensor._make(np.eye(n, dtype=L.dtype), False, None)
        P = (L.mT @ gL) * _mask(n, True, L.dtype)
        P = P - P * eye * 0.5                               # Phi: halve the diagonal
        Linv = solve_triangular(L, eye.expand(L.shape))    # L^{-1}
        S = Linv.mT @ P @ Linv
        return (S + S.mT) * 0.5


def cholesky(A):
    """The lower Cholesky factor of symmetric positive-definite ``A`` ``(*, n, n)``.

    Raises:
        ValueError: ``A`` is not positive-definite."""
    return _Cholesky.apply(A)
