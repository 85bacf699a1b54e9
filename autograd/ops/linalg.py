"""Linear algebra: ``matmul`` (with broadcast batch dimensions), ``mm``, ``bmm``, ``mv``,
``dot``, ``outer``, ``einsum``.

Gradients are the standard matrix-calculus results (e.g. Giles, "An extended collection of
matrix derivative results for forward and reverse mode AD", 2008): for ``C = A B``,
``dA = dC B^T`` and ``dB = A^T dC``; batch dimensions that were broadcast are summed back by
the engine.
"""

import re

import numpy as np

from ..function import Function
from ..tensor import Tensor
from .elementwise import _operands, promote_dtypes

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "outer", "einsum"]


class MatMul(Function):
    """Graph node of :func:`matmul`: its forward and backward."""

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


def matmul(input, other):
    """Matrix product with NumPy/PyTorch semantics (``torch.matmul``): 1-D operands are
    promoted and the added dimension removed; leading batch dimensions broadcast.

    Shapes: ``(..., n, k) @ (..., k, m) -> (..., n, m)``.

    Raises:
        RuntimeError: if the inner dimensions differ or an operand is 0-d, naming both shapes.
    """
    return _matmul(input, other, "matmul")


def _matmul(input, other, op):
    a, b = _operands(input, other)
    sa, sb = np.shape(a.data if isinstance(a, Tensor) else a), \
        np.shape(b.data if isinstance(b, Tensor) else b)
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


def mm(input, mat2):
    """Product of two matrices, ``(n, k) @ (k, m) -> (n, m)`` (``torch.mm``).

    Raises:
        RuntimeError: if an operand is not 2-D or the inner dimensions differ.
    """
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got shapes {tuple(input.shape)} and "
                           f"{tuple(mat2.shape)}")
    return _matmul(input, mat2, "mm")


def bmm(input, mat2):
    """Batched product, ``(b, n, k) @ (b, k, m) -> (b, n, m)`` (``torch.bmm``; no
    broadcasting).

    Raises:
        RuntimeError: if an operand is not 3-D or the batch/inner dimensions differ.
    """
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"bmm: expected 3-D tensors, got shapes {tuple(input.shape)} and "
                           f"{tuple(mat2.shape)}")
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: {tuple(input.shape)} and "
                           f"{tuple(mat2.shape)}")
    return _matmul(input, mat2, "bmm")


def mv(input, vec):
    """Matrix-vector product, ``(n, m) @ (m,) -> (n,)`` (``torch.mv``)."""
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"mv: expected a 2-D matrix and a 1-D vector, got shapes "
                           f"{tuple(input.shape)} and {tuple(vec.shape)}")
    return _matmul(input, vec, "mv")


def dot(input, other):
    """Inner product of two 1-D tensors of equal length (``torch.dot``); 0-d result."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"dot: 1D tensors expected, but got {input.ndim}D and "
                           f"{other.ndim}D tensors")
    return _matmul(input, other, "dot")


def outer(input, vec2):
    """Outer product, ``(n,) x (m,) -> (n, m)`` (``torch.outer``)."""
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


_EINSUM_OK = re.compile(r"^[a-zA-Z,\->. ]*$")


class Einsum(Function):
    """Graph node of :func:`einsum`: its forward and backward."""

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
    dtype = promote_dtypes([x.data.dtype for x in tensors])
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
