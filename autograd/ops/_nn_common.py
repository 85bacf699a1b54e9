"""What the nn op families share (:mod:`.conv`, :mod:`.pool`, :mod:`.layers`, :mod:`.fused`,
:mod:`.rnn`): the lazy import of :mod:`kernels`, the float16 -> float32 kernel input, the
gradient of a kernel's backward as a graph node (:class:`KernelGradient`), the argument tuples
and the dtype errors named as PyTorch names them. Private: nothing here is a public op.
"""

import numbers

import numpy as np

from .. import grad_mode
from ..graph import Node
from ..tensor import Tensor


class _LazyKernels:
    """``kernels`` (and so Numba) is imported on the first conv/pool call, not with
    ``autograd``: a model without them starts faster, and a process that never runs them (e.g.
    the example with ``--backend torch``) never gets the kernels' OpenMP setting."""

    def __getattr__(self, name):
        import kernels
        globals()["K"] = kernels
        return getattr(kernels, name)


K = _LazyKernels()

# PyTorch's names of the dtypes, for messages that a PyTorch user recognises
TORCH_DTYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int64": "Long",
                     "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                     "bool": "Bool"}


def _dtype_name(dtype):
    """``"int64 ('Long')"``: NumPy's name and PyTorch's."""
    name = np.dtype(dtype).name
    return f"{name} ('{TORCH_DTYPE_NAMES[name]}')" if name in TORCH_DTYPE_NAMES else name


def not_implemented_for(op, input, what="a floating point tensor"):
    """PyTorch's ``NotImplementedError`` for a dtype its kernel has no version of, naming the
    op, the dtype and the shape."""
    return NotImplementedError(f"{op}: not implemented for dtype {_dtype_name(input.dtype)} "
                               f"(input of shape {tuple(input.shape)}); expected {what}")


def _to_kernel(a):
    """The array the Numba kernels take (float32/float64): float16 runs in float32 (as
    PyTorch's CPU half kernels accumulate in float32) and is rounded back after."""
    return a.astype(np.float32) if a.dtype == np.float16 else a


class KernelGradient(Node):
    """Carries a kernel's gradient into a graph recorded with ``create_graph=True``.

    Its inputs are the tensors the gradient depends on, so the graph stays connected; its
    backward raises, because the kernel's own backward is not written.
    """

    @staticmethod
    def forward(ctx, *inputs, result, op):
        ctx.op = op
        return result

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError(
            f"{ctx.op}: double backward is not implemented (the op's backward is a Numba kernel); "
            "higher-order gradients through it are not supported")


def _kernel_grads(op, depends_on, arrays):
    """Wrap kernel gradient arrays as Tensors (connected, non-differentiable nodes under
    ``create_graph``)."""
    out = []
    for arr in arrays:
        if arr is None:
            out.append(None)
        elif grad_mode.grad_enabled():
            out.append(KernelGradient.apply(*depends_on, result=arr, op=op))
        else:
            out.append(Tensor._make(arr, False, None))
    return tuple(out)


def _ntuple(v, n, name, op):
    """``v`` as a tuple of ``n`` Python ints (an int is repeated)."""
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        return (int(v),) * n
    try:
        items = tuple(v)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}") from None
    if len(items) != n or not all(isinstance(i, numbers.Integral) and not isinstance(i, bool)
                                  for i in items):
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")
    return tuple(int(i) for i in items)


def _pair(v, name, op):
    return _ntuple(v, 2, name, op)


def _batched(op, input, nd, layout):
    """``(input with a batch dim, was_unbatched)``; RuntimeError for a wrong rank."""
    if input.ndim == nd + 1:
        return input.unsqueeze(0), True
    if input.ndim != nd + 2:
        raise RuntimeError(f"{op}: expected {nd + 1}-D ({layout[4:]} or {nd + 2}-D {layout} "
                           f"input, got shape {tuple(input.shape)}")
    return input, False


def _check_positive(op, **sizes):
    for name, v in sizes.items():
        if min(v) <= 0:
            raise RuntimeError(f"{op}: non-positive {name} is not supported, got {v}")
