"""``autograd.linalg``: linear algebra with PyTorch's names (``torch.linalg``).

The differentiable ops live in :mod:`autograd.ops.linalg` (``inverse``, ``det``, ``slogdet``,
``solve``, ``matmul``) and :mod:`autograd.ops.reduction` (the norms); this module gives them
``torch.linalg``'s names and argument conventions. Gradients are the standard matrix-calculus
results, see M. Giles, "An extended collection of matrix derivative results for forward and
reverse mode algorithmic differentiation" (2008):

- ``inv``: ``dA = -A^{-T} dY A^{-T}``;
- ``det``: ``dA = dy det(A) A^{-T}`` (the transposed adjugate at singular matrices);
- ``slogdet``: ``dA = dy A^{-T}`` for ``logabsdet``;
- ``solve``: ``dB = A^{-T} dX``, ``dA = -dB X^T``;
- norms: ``x / ||x||`` for the 2-norm (0 where the norm is 0), ``sign(x) |x|^{p-1} /
  ||x||^{p-1}`` for a p-norm, an even split between the maximal entries for ``inf``.

Not implemented: the spectral and nuclear norms (``ord=2, -2, 'nuc'`` for matrices), which
need singular values; they raise ``NotImplementedError``.
"""

import numbers

from .ops.linalg import LinAlgError, det, inverse, matmul, slogdet
from .ops.linalg import linalg_cross as cross
from .ops.linalg import linalg_svd as svd
from .ops.linalg import linalg_svdvals as svdvals
from .ops.linalg import solve as _solve
from .ops.reduction import _matrix_norm, _vector_norm

__all__ = ["norm", "vector_norm", "matrix_norm", "solve", "inv", "det", "slogdet", "matmul",
           "cross", "svd", "svdvals", "LinAlgError"]


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The vector ``ord``-norm of ``x`` over ``dim`` (all elements when ``None``)
    (``torch.linalg.vector_norm``): ``ord`` is any real number or ``inf``/``-inf``
    (``max|x|``/``min|x|``); ``0`` counts the non-zero elements.

    Shapes: ``x`` of any shape; the result drops ``dim`` (keeps it with size 1 if
    ``keepdim``). Dtype: floating (``dtype`` casts first).

    Raises:
        TypeError: for a non-numeric ``ord`` (as PyTorch).
        RuntimeError: for a non-floating input.
        IndexError: if a dim is out of range.
    """
    return _vector_norm(x, ord, dim, keepdim, dtype, op="linalg.vector_norm")


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The matrix norm of the matrices spanned by the two dims ``dim`` of ``A``
    (``torch.linalg.matrix_norm``): ``'fro'`` (Frobenius), ``1``/``-1`` (max/min absolute
    column sum), ``inf``/``-inf`` (max/min absolute row sum).

    Shapes: ``A`` is ``(*, m, n)``; the result is ``(*)``.

    Raises:
        TypeError: if ``dim`` is not a tuple (as PyTorch).
        RuntimeError: for fewer than 2 dims, a bad ``dim`` or ``ord``, or a non-floating input.
        NotImplementedError: for ``ord`` in ``(2, -2, 'nuc')`` (singular values).
    """
    return _matrix_norm(A, ord, dim, keepdim, dtype, op="linalg.matrix_norm")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """Vector or matrix norm (``torch.linalg.norm``):

    - ``dim`` an int: the vector norm over it; a 2-tuple: the matrix norm over it;
    - ``dim=None, ord=None``: the 2-norm of all elements;
    - ``dim=None`` with ``ord`` given: ``A`` must be 1-D (vector norm) or 2-D (matrix norm).

    Raises:
        RuntimeError: for ``dim=None`` with ``ord`` given and ``A`` not 1-D or 2-D, a ``dim``
            of more than 2 dims, or a non-floating input.
    """
    if isinstance(dim, numbers.Integral):
        dim = (int(dim),)
    if dim is not None:
        dim = tuple(dim)
        if len(dim) not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. "
                               f"Got {list(dim)}")
    if ord is None:
        if dim is not None and len(dim) == 2:
            return _matrix_norm(A, "fro", dim, keepdim, dtype, op="linalg.norm")
        return _vector_norm(A, 2, dim, keepdim, dtype, op="linalg.norm")
    if dim is None:
        if A.ndim == 1:
            return _vector_norm(A, ord, None, keepdim, dtype, op="linalg.norm")
        if A.ndim == 2:
            return _matrix_norm(A, ord, (0, 1), keepdim, dtype, op="linalg.norm")
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be "
                           f"1D or 2D. Got {A.ndim}D (shape {tuple(A.shape)}).")
    if len(dim) == 1:
        return _vector_norm(A, ord, dim, keepdim, dtype, op="linalg.norm")
    return _matrix_norm(A, ord, dim, keepdim, dtype, op="linalg.norm")


def solve(A, B, *, left=True):
    """Solve ``A X = B`` (``torch.linalg.solve``); see :func:`autograd.ops.linalg.solve`.

    Shapes: ``A`` ``(*, n, n)``; ``B`` ``(*, n, k)`` or ``(*, n)``/``(n,)`` (vectors); batch
    dims broadcast. Gradients ``dB = A^{-T} dX``, ``dA = -dB X^T`` (Giles 2008).

    Raises:
        RuntimeError: for non-square ``A``, mismatched shapes or dtypes, naming the shapes.
        LinAlgError: for a singular ``A``.
    """
    return _solve(A, B, left=left)


def inv(A):
    """Inverse of each matrix of ``A`` ``(*, n, n)`` (``torch.linalg.inv``); gradient
    ``-A^{-T} G A^{-T}`` (Giles 2008).

    Raises:
        RuntimeError: for a non-square or non-floating input.
        LinAlgError: for a singular matrix.
    """
    return inverse(A)
