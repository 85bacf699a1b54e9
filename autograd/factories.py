"""Tensor factories with PyTorch's names and arguments: ``tensor``, ``as_tensor``,
``from_numpy``, ``zeros``, ``ones``, ``full``, ``empty``, the ``*_like`` variants, ``randn``,
``rand``, ``randint``, ``randperm``, ``arange``, ``linspace``, ``eye``, and the legacy
``FloatTensor``/``LongTensor`` constructors.

Floating results default to :func:`autograd.get_default_dtype` (float32). Every factory takes
``dtype=``, ``requires_grad=`` and ``device=`` (only ``'cpu'``). Random factories draw from the
default generator (``autograd.manual_seed``) or the ``generator=`` given.
"""

import numpy as np

from . import dtypes as _dt
from .random import get_rng
from .tensor import Tensor, _to_array, device_

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty",
           "zeros_like", "ones_like", "full_like", "empty_like", "rand_like", "randn_like",
           "randn", "rand", "randint", "randperm", "arange", "linspace", "eye",
           "FloatTensor", "DoubleTensor", "LongTensor", "BoolTensor"]


def _finish(arr, dtype, requires_grad, device, op):
    if device is not None:
        device_(device)
    if dtype is not None:
        arr = arr.astype(_dt.to_dtype(dtype), copy=False)
    t = Tensor._make(arr, False, None)
    if requires_grad:
        if arr.dtype.kind != "f":
            raise RuntimeError(f"{op}: only Tensors of floating point dtype can require "
                               f"gradients, got {_dt.dtype_name(arr.dtype)}")
        t.requires_grad = True
    return t


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    try:
        size = tuple(int(s) for s in size)
    except TypeError:
        raise TypeError(f"expected a sequence of ints as size, got {size!r}") from None
    if any(s < 0 for s in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(size)}")
    return size


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a *copy* of ``data`` (``torch.tensor``).

    Args:
        data: a number, nested lists, a NumPy array or a Tensor.
        dtype: the result dtype; inferred otherwise (Python floats -> default float, ints ->
            int64, bools -> bool, arrays keep theirs).
        requires_grad (bool): make it a leaf that records ops.

    Raises:
        RuntimeError: ``requires_grad=True`` with a non-floating dtype.
        TypeError: for data that is not numeric.
    """
    arr = np.array(_to_array(data, _dt.to_dtype(dtype)), copy=True)
    return _finish(arr, None, requires_grad, device, "tensor")


def as_tensor(data, dtype=None, device=None):
    """Like :func:`tensor` but without copying when ``data`` is already an array or Tensor of
    the right dtype (``torch.as_tensor``)."""
    if isinstance(data, Tensor) and (dtype is None or _dt.to_dtype(dtype) == data.dtype):
        return data
    return _finish(_to_array(data, _dt.to_dtype(dtype)), None, False, device, "as_tensor")


def from_numpy(ndarray):
    """Wrap a NumPy array without copying; the tensor shares its memory and dtype
    (``torch.from_numpy``).

    Raises:
        TypeError: if ``ndarray`` is not a ``numpy.ndarray``.
    """
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(ndarray).__name__})")
    return Tensor._make(ndarray, False, None)


def _float_dtype(dtype):
    return _dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype()


def zeros(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of zeros of shape ``size`` (``torch.zeros``)."""
    return _finish(np.zeros(_size(size), _float_dtype(dtype)), None, requires_grad, device,
                   "zeros")


def ones(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of ones of shape ``size`` (``torch.ones``)."""
    return _finish(np.ones(_size(size), _float_dtype(dtype)), None, requires_grad, device,
                   "ones")


def empty(*size, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor of shape ``size`` (``torch.empty``)."""
    return _finish(np.empty(_size(size), _float_dtype(dtype)), None, requires_grad, device,
                   "empty")


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor of shape ``size`` filled with ``fill_value`` (``torch.full``); the dtype is
    inferred from ``fill_value`` (bool, int64 or the default float) unless given."""
    if dtype is None:
        dtype = _to_array(fill_value, None).dtype
    return _finish(np.full(_size((size,)), fill_value, _dt.to_dtype(dtype)), None,
                   requires_grad, device, "full")


def _like(input, dtype):
    return input.dtype if dtype is None else _dt.to_dtype(dtype)


def zeros_like(input, dtype=None, device=None, requires_grad=False):
    """Zeros with ``input``'s shape and dtype."""
    return _finish(np.zeros(input.shape, _like(input, dtype)), None, requires_grad, device,
                   "zeros_like")


def ones_like(input, dtype=None, device=None, requires_grad=False):
    """Ones with ``input``'s shape and dtype."""
    return _finish(np.ones(input.shape, _like(input, dtype)), None, requires_grad, device,
                   "ones_like")


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    """``fill_value`` with ``input``'s shape and dtype."""
    return _finish(np.full(input.shape, fill_value, _like(input, dtype)), None, requires_grad,
                   device, "full_like")


def empty_like(input, dtype=None, device=None, requires_grad=False):
    """Uninitialised, with ``input``'s shape and dtype."""
    return _finish(np.empty(input.shape, _like(input, dtype)), None, requires_grad, device,
                   "empty_like")


def rand_like(input, dtype=None, device=None, requires_grad=False, generator=None):
    """U[0, 1) samples with ``input``'s shape and dtype."""
    return rand(input.shape, dtype=_like(input, dtype), device=device,
                requires_grad=requires_grad, generator=generator)


def randn_like(input, dtype=None, device=None, requires_grad=False, generator=None):
    """N(0, 1) samples with ``input``'s shape and dtype."""
    return randn(input.shape, dtype=_like(input, dtype), device=device,
                 requires_grad=requires_grad, generator=generator)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Samples of the standard normal N(0, 1) (``torch.randn``)."""
    dt = _float_dtype(dtype)
    arr = get_rng(generator).standard_normal(_size(size), dtype=np.float64).astype(dt)
    return _finish(arr, None, requires_grad, device, "randn")


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Samples of U[0, 1) (``torch.rand``)."""
    dt = _float_dtype(dtype)
    arr = get_rng(generator).random(_size(size), dtype=np.float64).astype(dt)
    return _finish(arr, None, requires_grad, device, "rand")


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False):
    """Integers uniform in ``[low, high)`` of shape ``size`` (``torch.randint(low, high,
    size)`` or ``torch.randint(high, size)``), int64 by default.

    Raises:
        ValueError: if ``low >= high`` or no size is given.
    """
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise ValueError("randint: size must be given, e.g. randint(0, 10, (3,))")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if low >= high:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    arr = get_rng(generator).integers(low, high, _size((size,)), dtype=np.int64)
    return _finish(arr, dtype, requires_grad, device, "randint")


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of ``0 .. n-1`` (``torch.randperm``), int64."""
    arr = get_rng(generator).permutation(int(n)).astype(np.int64)
    return _finish(arr, dtype, requires_grad, device, "randperm")


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive) by ``step`` (``torch.arange``); int64 if
    all arguments are ints, else the default float.

    Raises:
        ValueError: if ``step`` is 0 or has the wrong sign.
    """
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise ValueError(f"arange: upper bound and larger bound inconsistent with step sign "
                         f"(start={start}, end={end}, step={step})")
    ints = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
               for v in (start, end, step))
    dt = _dt.to_dtype(dtype) if dtype is not None else (
        _dt.int64 if ints else _dt.get_default_dtype())
    arr = np.arange(start, end, step, dtype=np.float64 if dt.kind == "f" else None).astype(dt)
    return _finish(arr, None, requires_grad, device, "arange")


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (``torch.linspace``).

    Raises:
        RuntimeError: if ``steps`` is negative.
    """
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    arr = np.linspace(start, end, int(steps)).astype(_float_dtype(dtype))
    return _finish(arr, None, requires_grad, device, "linspace")


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    """The ``(n, m)`` identity matrix (``torch.eye``)."""
    return _finish(np.eye(int(n), None if m is None else int(m), dtype=_float_dtype(dtype)),
                   None, requires_grad, device, "eye")


def _legacy(dtype, name):
    def make(*args):
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            return tensor(args[0], dtype=dtype)
        return zeros(*args, dtype=dtype)
    make.__name__ = name
    make.__doc__ = (f"Legacy constructor ``torch.{name}``: ``{name}(data)`` copies data as "
                    f"{_dt.dtype_name(dtype)}; ``{name}(*sizes)`` gives zeros of that shape "
                    f"(PyTorch leaves them uninitialised).")
    return make


FloatTensor = _legacy(_dt.float32, "FloatTensor")
DoubleTensor = _legacy(_dt.float64, "DoubleTensor")
LongTensor = _legacy(_dt.int64, "LongTensor")
BoolTensor = _legacy(_dt.bool, "BoolTensor")
