"""PyTorch's ``out=`` keyword for the op library (``torch.add(x, y, out=z)``).

An op called with ``out=`` computes its result as usual (without recording it), writes it into
``out`` and returns ``out`` itself. As in PyTorch:

- ``out`` is resized when its shape differs from the result's (with PyTorch's deprecation
  warning when it was not empty);
- the result is cast to ``out``'s dtype where PyTorch allows it (same kind or safer: float64
  into float32, int into float), else ``RuntimeError`` ("result type Float can't be cast to the
  desired output type Long");
- ``out=`` does not support autograd: while grad mode is on, an ``out`` or an input that
  requires grad raises ``RuntimeError``.
"""

import warnings

import numpy as np

from .. import dtypes as _dt
from .. import grad_mode
from ..tensor import Tensor

_KIND = {"f": "Float", "i": "Long", "u": "Byte", "b": "Bool", "c": "ComplexFloat"}


def _requires_grad(args):
    for a in args:
        if isinstance(a, Tensor):
            if a.requires_grad:
                return True
        elif isinstance(a, (list, tuple)) and _requires_grad(a):
            return True
    return False


def with_out(op, fn, out, *args, **kwargs):
    """Run ``fn(*args, **kwargs)`` and write its result into ``out`` (see the module docstring);
    returns ``out``.

    Raises:
        TypeError: if ``out`` is not a Tensor.
        RuntimeError: for autograd involvement, a dtype the result cannot be cast to, or a
            read-only ``out``.
    """
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if grad_mode.grad_enabled() and (out.requires_grad or _requires_grad(args)
                                     or _requires_grad(kwargs.values())):
        raise RuntimeError(f"{op}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    with grad_mode.no_grad():
        result = fn(*args, **kwargs)
    arr = result._data
    dst = out._data
    if arr.dtype != dst.dtype and not np.can_cast(arr.dtype, dst.dtype, "same_kind"):
        raise RuntimeError(f"{op}(): result type {_KIND.get(arr.dtype.kind, arr.dtype)} can't be "
                           f"cast to the desired output type "
                           f"{_KIND.get(dst.dtype.kind, dst.dtype)} (result "
                           f"{_dt.dtype_name(arr.dtype)}, out {_dt.dtype_name(dst.dtype)})")
    if dst.shape != arr.shape:
        if dst.size:
            warnings.warn(
                f"An output with one or more elements was resized since it had shape "
                f"{list(dst.shape)}, which does not match the required output shape "
                f"{list(arr.shape)}. This behavior is deprecated, and in a future PyTorch release "
                "outputs will not be resized unless they have zero elements. You can explicitly "
                "reuse an out tensor t by resizing it, inplace, to zero elements with "
                "t.resize_(0).", UserWarning, stacklevel=3)
        out._data = np.empty(arr.shape, dst.dtype)
    elif not dst.flags.writeable:
        raise RuntimeError(f"{op}(): out= is read-only (an expanded tensor shares one element "
                           "between several positions); pass a tensor of its own memory")
    np.copyto(out._data, arr, casting="unsafe")
    out._bump_version()
    return out
