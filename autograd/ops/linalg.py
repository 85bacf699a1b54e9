"""Linear algebra: ``matmul`` (with broadcast batch dimensions), ``mm``, ``bmm``, ``mv``,
``dot``, ``outer``, ``einsum``.

Gradients are the standard matrix-calculus results (e.g. Giles, "An extended collection of
matrix derivative results for forward and reverse mode AD", 2008): for ``C = A B``,
``dA = dC B^T`` and ``dB = A^T dC``; batch dimensions that were broadcast are summed back by
the engine.
"""

import collections
import re

import numpy as np

from ..graph import Node
from ._out import with_out as _with_out
from ..tensor import Tensor
from ._pointwise import _operands, promote_dtypes

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "outer", "cross", "svd", "einsum", "tensordot", "inverse", "det",
           "slogdet", "logdet"]

SlogDetResult = collections.namedtuple("SlogDetResult", ["sign", "logabsdet"])


class MatMul(Node):
    """Saves both inputs for backward."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = gb = None
        if a.ndim == 1 and b.ndim == 1:          # dot product: grad is 0-d
            ga = grad * b if na else None
            gb = grad * a if nb else None
        elif a.ndim == 1:                        # (k) @ (..., k, n) -> (..., n)
            if na:
                ga = (grad.unsqueeze(-2) @ b.mT).squeeze(-2)
            if nb:
                gb = a.unsqueeze(-1) @ grad.unsqueeze(-2)
        elif b.ndim == 1:                        # (..., m, k) @ (k) -> (..., m)
            if na:
                ga = grad.unsqueeze(-1) @ b.unsqueeze(-2)
            if nb:
                gb = (a.mT @ grad.unsqueeze(-1)).squeeze(-1)
        else:
            if na:
                ga = grad @ b.mT
            if nb:
                gb = a.mT @ grad
        return ga, gb


def matmul(input, other, *, out=None):
    """Matrix product with NumPy/PyTorch semantics (``torch.matmul``): 1-D operands are
    promoted and the added dimension removed; leading batch dimensions broadcast.

    Shapes: ``(..., n, k) @ (..., k, m) -> (..., n, m)``.

    Raises:
        RuntimeError: if the inner dimensions differ or an operand is 0-d, naming both shapes.
    """
    if out is not None:
        return _with_out("matmul", matmul, out, input, other)
    return _matmul(input, other, "matmul")


def _matmul(input, other, op):
    a, b = _operands(input, other)
    sa, sb = np.shape(a._data if isinstance(a, Tensor) else a), \
        np.shape(b._data if isinstance(b, Tensor) else b)
    if len(sa) == 0 or len(sb) == 0:
        raise RuntimeError(f"{op}: both arguments need to be at least 1D, but they are "
                           f"{len(sa)}D and {len(sb)}D")
    ka = sa[-1]
    kb = sb[-2] if len(sb) >= 2 else sb[0]
    if ka != kb:
        raise RuntimeError(f"{op}: mat1 and mat2 shapes cannot be multiplied: {tuple(sa)} @ "
                           f"{tuple(sb)} (inner dimensions {ka} and {kb} differ)")
    try:
        return MatMul.apply(a, b)
    except ValueError as e:
        raise RuntimeError(f"{op}: batch dimensions of {tuple(sa)} and {tuple(sb)} do not "
                           f"broadcast") from e


def _fixed_rank_product(op, public, input, other, out, ranks, expected, same_batch=False):
    """The body shared by :func:`mm`, :func:`bmm`, :func:`mv` and :func:`dot`: ``out=``, then
    the check that the operands have the ``ranks`` (a pair of ndims) the op takes (and, with
    ``same_batch``, equal leading dimensions: ``bmm`` does not broadcast), then
    :func:`_matmul`.

    ``expected`` is the error message for other ranks, formatted with ``op``, the shapes
    ``a``, ``b`` and the ranks ``da``, ``db`` of the operands.

    Raises:
        RuntimeError: for other ranks (``expected``) or different batch sizes.
    """
    if out is not None:
        return _with_out(op, public, out, input, other)
    if (input.ndim, other.ndim) != ranks:
        raise RuntimeError(expected.format(op=op, a=tuple(input.shape), b=tuple(other.shape),
                                           da=input.ndim, db=other.ndim))
    if same_batch and input.shape[0] != other.shape[0]:
        raise RuntimeError(f"{op}: batch sizes differ: {tuple(input.shape)} and "
                           f"{tuple(other.shape)}")
    return _matmul(input, other, op)


def mm(input, mat2, *, out=None):
    """Product of two matrices, ``(n, k) @ (k, m) -> (n, m)`` (``torch.mm``).

    Raises:
        RuntimeError: if an operand is not 2-D or the inner dimensions differ.
    """
    return _fixed_rank_product("mm", mm, input, mat2, out, (2, 2),
                               "{op}: expected 2-D tensors, got shapes {a} and {b}")


def bmm(input, mat2, *, out=None):
    """Batched product, ``(b, n, k) @ (b, k, m) -> (b, n, m)`` (``torch.bmm``; no
    broadcasting).

    Raises:
        RuntimeError: if an operand is not 3-D or the batch/inner dimensions differ.
    """
    return _fixed_rank_product("bmm", bmm, input, mat2, out, (3, 3),
                               "{op}: expected 3-D tensors, got shapes {a} and {b}",
                               same_batch=True)


def mv(input, vec, *, out=None):
    """Matrix-vector product, ``(n, m) @ (m,) -> (n,)`` (``torch.mv``)."""
    return _fixed_rank_product("mv", mv, input, vec, out, (2, 1),
                               "{op}: expected a 2-D matrix and a 1-D vector, got shapes {a} "
                               "and {b}")


def dot(input, other, *, out=None):
    """Inner product of two 1-D tensors of equal length (``torch.dot``); 0-d result."""
    return _fixed_rank_product("dot", dot, input, other, out, (1, 1),
                               "{op}: 1D tensors expected, but got {da}D and {db}D tensors")


def _cross_dim(input, other, dim, op):
    if input._data.ndim != other._data.ndim:
        raise RuntimeError(f"{op}: inputs must have the same number of dimensions (got shapes "
                           f"{tuple(input.shape)} and {tuple(other.shape)})")
    if dim is None:  # torch.cross's deprecated default: the first dimension of size 3
        import warnings
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease "
                      "either pass the dim explicitly or simply use torch.linalg.cross.\nThe "
                      "default value of dim will change to agree with that of linalg.cross in "
                      "a future release.", UserWarning, stacklevel=3)
        for k, (m, n) in enumerate(zip(input.shape, other.shape)):
            if m == 3 and n == 3:
                return k
        raise RuntimeError(f"no dimension of size 3 in input (cross of shapes "
                           f"{tuple(input.shape)} and {tuple(other.shape)})")
    from ..tensor import _wrap_dim
    d = _wrap_dim(dim, input._data.ndim, op)
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"{op}: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[d]} and {other.shape[d]}")
    return d


def _cross(input, other, d):
    from .shape import roll
    a, b = _operands(input, other)
    # (a1 b2 - a2 b1, a2 b0 - a0 b2, a0 b1 - a1 b0) with rolls along d
    a1, a2 = roll(a, -1, d), roll(a, -2, d)
    b1, b2 = roll(b, -1, d), roll(b, -2, d)
    return a1 * b2 - a2 * b1


def cross(input, other, dim=None, *, out=None):
    """Cross product of 3-vectors along ``dim`` (``torch.cross``), broadcasting the other
    dimensions; differentiable in both inputs. Formula: ``(a1 b2 - a2 b1, a2 b0 - a0 b2,
    a0 b1 - a1 b0)``.

    ``dim=None`` (deprecated in PyTorch, with its warning) uses the first dimension of size 3;
    prefer :func:`autograd.linalg.cross` (``dim=-1``).

    Raises:
        RuntimeError: for different numbers of dimensions, a ``dim`` whose size is not 3, or no
            dimension of size 3.
    """
    if out is not None:
        return _with_out("cross", cross, out, input, other, dim=dim)
    return _cross(input, other, _cross_dim(input, other, dim, "cross"))


def linalg_cross(input, other, *, dim=-1, out=None):
    """``torch.linalg.cross``: :func:`cross` along ``dim`` (default the last)."""
    if out is not None:
        return _with_out("linalg.cross", linalg_cross, out, input, other, dim=dim)
    return _cross(input, other, _cross_dim(input, other, dim, "linalg.cross"))


def outer(input, vec2, *, out=None):
    """Outer product, ``(n,) x (m,) -> (n, m)`` (``torch.outer``)."""
    if out is not None:
        return _with_out("outer", outer, out, input, vec2)
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


_EINSUM_OK = re.compile(r"^[a-zA-Z,\->. ]*$")


class Einsum(Node):
    """Saves the operands (and keeps the subscripts) for backward."""

    @staticmethod
    def forward(ctx, *arrays, inputs, output):
        ctx.inputs = inputs
        ctx.output = output
        ctx.shapes = [a.shape for a in arrays]
        ctx.save_for_backward(*arrays)
        return np.einsum(",".join(inputs) + "->" + output, *arrays, optimize=len(arrays) > 2)

    @staticmethod
    def backward(ctx, grad):
        ops = ctx.saved_tensors
        grads = []
        for i, need in enumerate(ctx.needs_input_grad):
            if not need:
                grads.append(None)
                continue
            # d out / d op_i: contract grad with every other operand onto op_i's subscripts;
            # letters of op_i that appear nowhere else were summed in forward -> broadcast back.
            target = ctx.inputs[i]
            others = [s for j, s in enumerate(ctx.inputs) if j != i]
            present = set(ctx.output).union(*others) if others else set(ctx.output)
            kept = "".join(c for c in target if c in present)
            g = einsum(",".join([ctx.output] + others) + "->" + kept,
                       grad, *[op for j, op in enumerate(ops) if j != i])
            if kept != target:
                g = g.reshape([g.shape[kept.index(c)] if c in kept else 1 for c in target])
            # A subscript of size 1 here may have been broadcast against a larger size
            # elsewhere (or the reverse): expand to the common shape; the engine sums back.
            full = np.broadcast_shapes(g.shape, ctx.shapes[i])
            if full != g.shape:
                g = g.expand(full)
            grads.append(g)
        return tuple(grads)


def einsum(equation, *operands):
    """Einstein summation (``torch.einsum``), e.g. ``einsum('bij,bjk->bik', a, b)``.

    Supports explicit (``->``) and implicit output, and ``...`` for broadcast dimensions. The
    gradient for operand ``i`` is the einsum of the output gradient with the other operands
    onto operand ``i``'s subscripts (indices summed only inside one operand are broadcast back).

    Raises:
        ValueError: for a malformed equation, a wrong operand count, or a subscript repeated
            within one operand (a diagonal; not supported, unlike PyTorch).
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not _EINSUM_OK.match(equation):
        raise ValueError(f"einsum: invalid equation {equation!r}")
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
    else:
        lhs = eq
        letters = lhs.replace(",", "").replace(".", "")
        out = ("..." if "..." in lhs else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1))
    ins = lhs.split(",")
    if len(ins) != len(operands):
        raise ValueError(f"einsum: equation {equation!r} has {len(ins)} operands but "
                         f"{len(operands)} tensors were given")
    tensors = [x if isinstance(x, Tensor) else Tensor(np.asarray(x)) for x in operands]
    if "..." in eq:
        ins, out = _expand_ellipsis(ins, out, tensors, equation)
    for s, x in zip(ins, tensors):
        if len(s) != x.ndim:
            raise ValueError(f"einsum: subscripts {s!r} don't match an operand of shape "
                             f"{tuple(x.shape)}")
        if len(set(s)) != len(s):
            raise ValueError(f"einsum: repeated subscript in {s!r} (diagonals) is not supported")
    sizes = {}
    for s, x in zip(ins, tensors):
        for c, n in zip(s, x.shape):
            prev = sizes.get(c)
            if prev is None or prev == 1:
                sizes[c] = n
            elif n != 1 and n != prev:
                raise ValueError(f"einsum: subscript {c!r} has size {n} in one operand and "
                                 f"{prev} in another ({equation!r})")
    dtype = promote_dtypes([x._data.dtype for x in tensors])
    tensors = [x.to(dtype) if x.dtype != dtype else x for x in tensors]
    return Einsum.apply(*tensors, inputs=tuple(ins), output=out)


def _expand_ellipsis(ins, out, tensors, equation):
    used = set("".join(ins) + out)
    free = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in used]
    nb = max(x.ndim - len(s.replace("...", "")) for s, x in zip(ins, tensors) if "..." in s)
    batch = "".join(free[:nb])
    new_ins = []
    for s, x in zip(ins, tensors):
        if "..." in s:
            k = x.ndim - len(s.replace("...", ""))
            s = s.replace("...", batch[nb - k:])
        new_ins.append(s)
    if "..." in out:
        out = out.replace("...", batch)
    return new_ins, out


# ---- tensordot -----------------------------------------------------------------------------------
def tensordot(a, b, dims=2):
    """Contract dimensions of ``a`` with dimensions of ``b`` (``torch.tensordot``).

    ``dims`` is an int ``d`` (the last ``d`` dims of ``a`` with the first ``d`` of ``b``) or a
    pair of sequences ``(dims_a, dims_b)``. The result has ``a``'s free dims then ``b``'s.
    Computed as permute + reshape + one matrix product, so the gradient is the matmul
    gradient routed back through the reshapes.

    Raises:
        RuntimeError: if contracted sizes differ or ``dims`` is invalid, naming the shapes.
    """
    from ..tensor import _wrap_dim
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        d = int(dims)
        if d < 0 or d > a.ndim or d > b.ndim:
            raise RuntimeError(f"tensordot: dims={d} is invalid for shapes {tuple(a.shape)} and "
                               f"{tuple(b.shape)}")
        da, db = list(range(a.ndim - d, a.ndim)), list(range(d))
    else:
        if len(dims) != 2:
            raise RuntimeError(f"tensordot: dims must be an int or a pair of dim lists, got "
                               f"{dims!r}")
        da, db = dims
        da = [da] if isinstance(da, (int, np.integer)) else list(da)
        db = [db] if isinstance(db, (int, np.integer)) else list(db)
        if len(da) != len(db):
            raise RuntimeError(f"tensordot: both dimension lists should have same length, got "
                               f"{da} and {db}")
        da = [_wrap_dim(d, a.ndim, "tensordot") for d in da]
        db = [_wrap_dim(d, b.ndim, "tensordot") for d in db]
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(f"tensordot: contracted dimensions need to match, but first has "
                               f"size {a.shape[i]} in dim {i} and second has size {b.shape[j]} "
                               f"in dim {j} (shapes {tuple(a.shape)} and {tuple(b.shape)})")
    fa = [i for i in range(a.ndim) if i not in da]
    fb = [j for j in range(b.ndim) if j not in db]
    k = int(np.prod([a.shape[i] for i in da], dtype=np.int64))
    out_shape = tuple(a.shape[i] for i in fa) + tuple(b.shape[j] for j in fb)
    am = a.permute(fa + da).reshape(-1, k)
    bm = b.permute(db + fb).reshape(k, -1)
    return matmul(am, bm).reshape(out_shape)


# ---- inverse, determinant, solve -----------------------------------------------------------------
class LinAlgError(RuntimeError):
    """A linear-algebra failure such as a singular matrix (``torch.linalg.LinAlgError``, also
    a ``RuntimeError``)."""


def _square_float(A, op):
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(A).__name__}")
    if A._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: Expected a floating point tensor as input. Got "
                           f"{A.dtype} (shape {tuple(A.shape)})")
    if A.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions, got "
                           f"shape {tuple(A.shape)}")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices (shape {tuple(A.shape)})")
    return A


def _lapack(fn, op, *arrays):
    try:
        return fn(*arrays)
    except np.linalg.LinAlgError as e:
        raise LinAlgError(f"{op}: the input matrix is singular ({e}); shape "
                          f"{tuple(arrays[0].shape)}") from None


class Inverse(Node):
    """Saves the output for backward. With ``Y = A^{-1}``: ``dA = -Y^T dY Y^T`` (Giles 2008,
    sec. 2.2.3)."""

    @staticmethod
    def forward(ctx, a):
        out = _lapack(np.linalg.inv, "linalg.inv", a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        yt = y.mT
        return -(yt @ grad @ yt)


def inverse(input):
    """Inverse of each square matrix in ``input`` of shape ``(*, n, n)`` (``torch.inverse``,
    ``torch.linalg.inv``). Gradient ``-A^{-T} G A^{-T}`` (Giles, "An extended collection of
    matrix derivative results for forward and reverse mode AD", 2008).

    Raises:
        RuntimeError: for a non-floating or non-square input.
        LinAlgError: (a RuntimeError) for a singular matrix.
    """
    return Inverse.apply(_square_float(input, "linalg.inv"))


class _SingularDetGrad(Node):
    """The gradient of det at a singular matrix, ``G * adj(A)^T``, from an SVD: a first-order
    result whose own derivative is not implemented (it raises). ``A`` is an input so that,
    under ``create_graph``, the result stays connected to it (and a second derivative raises
    instead of silently missing this term)."""

    @staticmethod
    def forward(ctx, grad_kd, adj_t, a):
        return grad_kd * adj_t

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("det: double backward at a singular matrix is not "
                                  "implemented")


def _adjugate_t(a):
    """``adj(A)^T`` for each matrix of ``a`` (any rank), via the SVD ``A = U S V^T``:
    ``adj(A) = det(U) det(V) V diag(prod_{j != i} s_j) U^T``."""
    u, s, vt = np.linalg.svd(a)
    n = s.shape[-1]
    others = np.empty_like(s)
    for i in range(n):
        others[..., i] = np.prod(np.delete(s, i, axis=-1), axis=-1)
    sign = np.linalg.det(u) * np.linalg.det(vt)
    adj = np.einsum("...ji,...j,...kj->...ik", vt, others, u) * sign[..., None, None]
    return np.swapaxes(adj, -1, -2)


class Det(Node):
    """Saves the input and the output for backward. ``d(det A) = det(A) A^{-T}`` (Giles 2008, sec.
    2.2.4), i.e. the transposed adjugate."""

    @staticmethod
    def forward(ctx, a):
        out = np.asarray(np.linalg.det(a))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        g = grad.unsqueeze(-1).unsqueeze(-1)
        if np.all(out._data != 0):
            return g * out.unsqueeze(-1).unsqueeze(-1) * inverse(a).mT
        # singular somewhere: the adjugate is still defined (PyTorch uses an SVD too)
        adj_t = Tensor._make(_adjugate_t(a._data).astype(a._data.dtype), False, None)
        return _SingularDetGrad.apply(g, adj_t, a)


def det(input):
    """Determinant of each square matrix in ``input`` of shape ``(*, n, n)``, result ``(*)``
    (``torch.det``, ``torch.linalg.det``). Gradient ``G det(A) A^{-T}`` (Giles 2008); at a
    singular matrix the transposed adjugate from an SVD (first order only).

    Raises:
        RuntimeError: for a non-floating or non-square input.
    """
    return Det.apply(_square_float(input, "linalg.det"))


class SlogDet(Node):
    """The ``logabsdet`` output of :func:`slogdet`; saves the input for backward: ``d log|det A| =
    A^{-T}`` (Giles 2008, sec. 2.2.4)."""

    @staticmethod
    def forward(ctx, a):
        sign, logabs = np.linalg.slogdet(a)
        ctx.sign = sign
        ctx.save_for_backward(a)
        return np.asarray(logabs)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad.unsqueeze(-1).unsqueeze(-1) * inverse(a).mT


def slogdet(input):
    """Sign and log absolute value of the determinant (``torch.slogdet``,
    ``torch.linalg.slogdet``): a named pair ``(sign, logabsdet)``, each of shape ``(*)``.
    ``sign`` carries no gradient; ``logabsdet``'s is ``A^{-T}`` (Giles 2008). A singular matrix
    gives ``(0, -inf)``; its gradient raises :class:`LinAlgError`.

    Raises:
        RuntimeError: for a non-floating or non-square input.
    """
    A = _square_float(input, "linalg.slogdet")
    return SlogDetResult(SlogDetSign.apply(A), SlogDet.apply(A))


class SlogDetSign(Node):
    """The ``sign`` output of :func:`slogdet`: piecewise constant, so a zero gradient (it is
    part of the graph, as in PyTorch, where it requires grad too)."""

    @staticmethod
    def forward(ctx, a):
        ctx.in_shape = a.shape
        return np.asarray(np.linalg.slogdet(a)[0], dtype=a.dtype)

    @staticmethod
    def backward(ctx, grad):
        return (grad * 0).unsqueeze(-1).unsqueeze(-1).expand(ctx.in_shape)


def logdet(input):
    """``log(det(A))`` (``torch.logdet``): ``nan`` for a negative determinant, ``-inf`` for a
    singular matrix. Gradient ``A^{-T}``.

    Raises:
        RuntimeError: for a non-floating or non-square input.
    """
    sign, logabs = slogdet(input)
    fix = np.where(sign._data < 0, np.nan, 0.0).astype(sign._data.dtype)
    return logabs + Tensor._make(fix, False, None)


class Solve(Node):
    """Saves ``A`` and the output for backward (``B`` as matrices). With ``X = A^{-1} B``:
    ``dB = A^{-T} dX`` and ``dA = -dB X^T`` (Giles 2008, sec. 2.3.1)."""

    @staticmethod
    def forward(ctx, a, b):
        out = _lapack(np.linalg.solve, "linalg.solve", a, b)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        gb = Solve.apply(a.mT, grad)
        ga = -(gb @ x.mT) if ctx.needs_input_grad[0] else None
        return ga, gb


def solve(A, B, *, left=True):
    """Solve ``A X = B`` (or ``X A = B`` with ``left=False``) for square ``A`` of shape
    ``(*, n, n)`` and ``B`` of shape ``(*, n, k)`` or ``(*, n)`` (a batch of vectors when ``B``
    is 1-D or ``B.shape == A.shape[:-1]``, as ``torch.linalg.solve``); batch dims broadcast.
    Gradients ``dB = A^{-T} dX``, ``dA = -dB X^T`` (Giles 2008).

    Raises:
        RuntimeError: for non-floating/non-square ``A``, or shapes that don't fit, naming both.
        LinAlgError: (a RuntimeError) for a singular ``A``.
    """
    A = _square_float(A, "linalg.solve")
    if not isinstance(B, Tensor):
        raise TypeError(f"linalg.solve: expected B to be a Tensor, got {type(B).__name__}")
    if B.dtype != A.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found "
                           f"A of type {A.dtype} and B of type {B.dtype} instead")
    if not left:
        if B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1])):
            raise RuntimeError("linalg.solve: Vector broadcasting of the left hand side is not "
                               "supported for left=False. In this case linalg.solve is "
                               f"equivalent to B / A.squeeze(-1) (A {tuple(A.shape)}, B "
                               f"{tuple(B.shape)})")
        return solve(A.mT, B.mT).mT
    n = A.shape[-1]
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    Bm = B.unsqueeze(-1) if vector else B
    if Bm.ndim < 2 or Bm.shape[-2] != n:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"AX = B ({A.shape[-2]}x{A.shape[-1]} and "
                           f"{'x'.join(str(s) for s in tuple(B.shape)[-2:])}); A has shape "
                           f"{tuple(A.shape)}, B has shape {tuple(B.shape)}")
    try:
        np.broadcast_shapes(tuple(A.shape[:-2]), tuple(Bm.shape[:-2]))
    except ValueError:
        raise RuntimeError(f"linalg.solve: batch dimensions of A {tuple(A.shape)} and B "
                           f"{tuple(B.shape)} do not broadcast") from None
    X = Solve.apply(A, Bm)
    return X.squeeze(-1) if vector else X


# ---- singular value decomposition ---------------------------------------------------------------
SvdResult = collections.namedtuple("svd", ["U", "S", "Vh"])
SvdLegacyResult = collections.namedtuple("svd", ["U", "S", "V"])


class SvdPacked(Node):
    """The SVD ``A = U diag(S) Vh``; saves the packed output for backward. A node has one output, so
    the three factors travel packed along the last axis (``[U.ravel(), S, Vh.ravel()]`` per
    matrix) and :func:`_svd` slices them out; the packed gradient is split back here.

    Backward (thin SVD, distinct non-zero singular values; J. Townsend, "Differentiating the
    Singular Value Decomposition", 2016), with ``F_ij = 1 / (s_j^2 - s_i^2)`` (0 on the
    diagonal)::

        dA = U [ (F o (U^T dU - dU^T U)) S + diag(dS) + S (F o (V^T dV - dV^T V)) ] V^T
             + (I - U U^T) dU S^-1 V^T + U S^-1 dV^T (I - V V^T)

    Repeated singular values give inf/nan gradients, as in PyTorch.
    """

    @staticmethod
    def forward(ctx, a, full):
        u, s, vh = np.linalg.svd(a, full_matrices=full)
        m, n = a.shape[-2:]
        ctx.full_rect = full and m != n
        ctx.parts = (u.shape, s.shape, vh.shape)
        batch = a.shape[:-2]
        out = np.concatenate([u.reshape(batch + (-1,)), s, vh.reshape(batch + (-1,))],
                             axis=-1).astype(a.dtype, copy=False)
        # the factors are read back from the output in backward: under create_graph they are
        # then functions of ``a`` (constants made the second derivative silently 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        if ctx.full_rect:
            raise NotImplementedError(
                "linalg.svd: the derivative with full_matrices=True of a non-square matrix is "
                "not implemented (the extra singular vectors are not unique); use "
                "full_matrices=False")
        ush, ssh, vsh = ctx.parts
        nu, ns = int(np.prod(ush[-2:])), ssh[-1]
        gu = grad[..., :nu].reshape(ush)
        gs = grad[..., nu:nu + ns]
        gvh = grad[..., nu + ns:].reshape(vsh)
        (packed,) = ctx.saved_tensors
        U = packed[..., :nu].reshape(ush)
        S = packed[..., nu:nu + ns]
        V = packed[..., nu + ns:].reshape(vsh).mT
        k = ns
        eye = Tensor._make(np.eye(k, dtype=packed.dtype), False, None)
        s2 = S * S
        # F_ij = 1 / (s_j^2 - s_i^2) off the diagonal, 0 on it (1 added there: no 1/0 whose
        # derivative would make NaN under double backward)
        F = (1.0 - eye) / (s2.unsqueeze(-2) - s2.unsqueeze(-1) + eye)
        gv = gvh.mT
        J = F * (U.mT @ gu - gu.mT @ U)
        K = F * (V.mT @ gv - gv.mT @ V)
        inner = J * S.unsqueeze(-2) + eye * gs.unsqueeze(-2) + S.unsqueeze(-1) * K
        ga = U @ inner @ V.mT
        m, n = ush[-2], vsh[-1]
        inv_s = 1.0 / S
        if m > k:
            ga = ga + (gu - U @ (U.mT @ gu)) @ (inv_s.unsqueeze(-1) * V.mT)
        if n > k:
            ga = ga + (U * inv_s.unsqueeze(-2)) @ (gv.mT - (gv.mT @ V) @ V.mT)
        return ga, None


def _svd(input, full_matrices, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    if input._data.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions (got "
                           f"shape {tuple(input.shape)})")
    a = input if input._data.dtype.kind == "f" else input.to(np.float32)
    m, n = a.shape[-2:]
    k = min(m, n)
    mu, nv = (m, n) if full_matrices else (k, k)
    packed = SvdPacked.apply(a, full_matrices)
    batch = tuple(a.shape[:-2])
    U = packed[..., :m * mu].reshape(batch + (m, mu))
    S = packed[..., m * mu:m * mu + k]
    Vh = packed[..., m * mu + k:].reshape(batch + (nv, n))
    return U, S, Vh


def linalg_svd(A, full_matrices=True, *, driver=None, out=None):
    """``torch.linalg.svd``: ``A = U diag(S) Vh`` for ``A`` of shape ``(*, m, n)``; a named
    triple ``(U, S, Vh)`` with ``U`` ``(*, m, m)`` / ``(*, m, k)``, ``S`` ``(*, k)`` descending,
    ``Vh`` ``(*, n, n)`` / ``(*, k, n)`` (``k = min(m, n)``; the second shapes with
    ``full_matrices=False``). Computed by LAPACK through ``numpy.linalg.svd``; the signs of the
    singular vectors may differ from PyTorch's (both are valid).

    Differentiable (see :class:`SvdPacked`): loss functions should not depend on the sign of
    the singular vectors, as in PyTorch. ``driver`` is accepted and ignored (CPU).

    Raises:
        RuntimeError: for fewer than 2 dimensions.
        NotImplementedError: at backward, for ``full_matrices=True`` with ``m != n``.
    """
    if out is not None:
        raise TypeError("linalg.svd: out= is not supported")
    return SvdResult(*_svd(A, full_matrices, "linalg.svd"))


def linalg_svdvals(A, *, driver=None, out=None):
    """``torch.linalg.svdvals``: the singular values ``(*, min(m, n))``, descending;
    differentiable."""
    if out is not None:
        return _with_out("linalg.svdvals", linalg_svdvals, out, A)
    return _svd(A, False, "linalg.svdvals")[1]


def svd(input, some=True, compute_uv=True, *, out=None):
    """``torch.svd`` (deprecated in PyTorch for :func:`autograd.linalg.svd`): a named triple
    ``(U, S, V)`` with ``input = U diag(S) V^T`` -- ``V``, not ``Vh``. ``some=True`` gives the
    reduced factors, ``some=False`` the full ones. With ``compute_uv=False``, ``U`` and ``V``
    are zero-filled ``(*, m, m)`` and ``(*, n, n)`` (as PyTorch) and only ``S`` is
    differentiable.

    Raises:
        RuntimeError: for fewer than 2 dimensions.
    """
    if out is not None:
        raise TypeError("svd: out= is not supported")
    if not compute_uv:  # PyTorch: zero-filled full-size U (*, m, m) and V (*, n, n)
        S = _svd(input, False, "svd")[1]
        *batch, m, n = input.shape
        return SvdLegacyResult(Tensor._make(np.zeros((*batch, m, m), S.dtype), False, None), S,
                               Tensor._make(np.zeros((*batch, n, n), S.dtype), False, None))
    U, S, Vh = _svd(input, not some, "svd")
    return SvdLegacyResult(U, S, Vh.mT)
