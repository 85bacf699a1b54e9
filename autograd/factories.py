"""Tensor factories with PyTorch's names and arguments: ``tensor``, ``as_tensor``,
``from_numpy``, ``zeros``, ``ones``, ``full``, ``empty``, the ``*_like`` variants, ``randn``,
``rand``, ``randint``, ``randperm``, ``arange``, ``linspace``, ``eye``, the legacy
``FloatTensor``/``LongTensor`` constructors; the ``Tensor.new_*`` methods (``new_zeros``,
``new_ones``, ``new_full``, ``new_empty``, ``new_tensor``, legacy ``new``); the samplers
``bernoulli``, ``multinomial``, ``normal``, ``poisson``; ``Size``; ``set_default_device`` /
``get_default_device``.

Floating results default to :func:`autograd.get_default_dtype` (float32). Every factory takes
``dtype=``, ``requires_grad=`` and ``device=`` (only the CPU: another device raises), and the
array factories ``out=`` (the values are written into that tensor, which is returned). Random
factories draw from the default generator (``autograd.manual_seed``) or the ``generator=``
given: NumPy's PCG64, so the numbers differ from PyTorch's for the same seed, the
distributions do not.
"""

import numpy as np

import numbers

from . import dtypes as _dt
from . import grad_mode
from .random import get_rng
from .tensor import Tensor, _register_methods, _require_cpu, _to_array, device_

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty",
           "zeros_like", "ones_like", "full_like", "empty_like", "rand_like", "randn_like",
           "randint_like", "randn", "rand", "randint", "randperm", "arange", "linspace", "eye",
           "FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor",
           "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor", "bernoulli",
           "multinomial", "normal", "poisson", "Size", "set_default_device",
           "get_default_device"]


def _finish(arr, dtype, requires_grad, device, op, out=None):
    """Wrap a new array as the factory's result: device check, dtype cast, requires_grad, or
    the write into ``out=``."""
    _require_cpu(device, op)
    if dtype is not None:
        arr = arr.astype(_dt.to_dtype(dtype), copy=False)
    if out is not None:
        return _write_out(arr, out, requires_grad, op)
    t = Tensor._make(arr, False, None)
    if requires_grad:
        if arr.dtype.kind != "f":
            raise RuntimeError(f"{op}: only Tensors of floating point dtype can require "
                               f"gradients, got {_dt.dtype_name(arr.dtype)}")
        t.requires_grad = True
    return t


def _write_out(arr, out, requires_grad, op):
    """``out=``: write ``arr`` into ``out`` (resized if its shape differs, as PyTorch resizes)
    and return ``out``.

    Raises:
        TypeError: if ``out`` is not a Tensor.
        RuntimeError: for a dtype other than ``out``'s, or an ``out`` that requires grad while
            grad mode is on (PyTorch: out= does not support automatic differentiation).
    """
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if arr.dtype != out.dtype:
        raise RuntimeError(f"{op}(): dtype {_dt.dtype_name(arr.dtype)} does not match the dtype "
                           f"of out= ({_dt.dtype_name(out.dtype)})")
    if requires_grad or (out.requires_grad and grad_mode.grad_enabled()):
        raise RuntimeError(f"{op}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    if out._data.shape == arr.shape and out._data.flags.writeable:
        np.copyto(out._data, arr, casting="unsafe")
    else:
        out._data = arr.astype(out.dtype)
    out._bump_version()
    return out


_IGNORED = {"layout", "pin_memory", "memory_format"}


def _check_ignored(op, kwargs):
    """PyTorch's layout/memory keywords are accepted and ignored (NumPy arrays are strided and
    row-major); anything else is a mistake.

    Raises:
        TypeError: for an unexpected keyword argument.
    """
    for k in kwargs:
        if k not in _IGNORED:
            raise TypeError(f"{op}() got an unexpected keyword argument '{k}'")


def _size_kw(op, size, kwargs):
    """The sizes of a ``*size`` factory, also accepted as PyTorch's keyword ``size=``
    (``torch.empty(size=(3, 4))``); then the other keywords are checked (:func:`_check_ignored`).

    Raises:
        TypeError: for sizes given both ways, or an unexpected keyword argument.
    """
    if "size" in kwargs:
        if size:
            raise TypeError(f"{op}() got multiple values for argument 'size'")
        size = (kwargs.pop("size"),)
    _check_ignored(op, kwargs)
    return size


def _dtype_for(dtype, out):
    """The dtype a factory makes: the one asked for, else ``out``'s, else ``None``."""
    if dtype is None and out is not None and isinstance(out, Tensor):
        return out.dtype
    return dtype


def _floating(dtype, op):
    """``dtype`` (or the default float) for a sampler that needs a floating dtype.

    Raises:
        NotImplementedError: for an integer or bool dtype, as PyTorch.
    """
    d = _float_dtype(dtype)
    if d.kind != "f":
        raise NotImplementedError(f'"{op}" not implemented for {_dt.dtype_name(d)} tensors (it '
                                  "samples a continuous distribution: use a floating dtype)")
    return d


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


def zeros(*size, out=None, dtype=None, device=None, requires_grad=False, **ignored):
    """A tensor of zeros of shape ``size`` (``torch.zeros``; ``layout``/``pin_memory``
    keywords are accepted and ignored)."""
    size = _size_kw("zeros", size, ignored)
    dtype = _dtype_for(dtype, out)
    return _finish(np.zeros(_size(size), _float_dtype(dtype)), None, requires_grad, device,
                   "zeros", out)


def ones(*size, out=None, dtype=None, device=None, requires_grad=False, **ignored):
    """A tensor of ones of shape ``size`` (``torch.ones``)."""
    size = _size_kw("ones", size, ignored)
    dtype = _dtype_for(dtype, out)
    return _finish(np.ones(_size(size), _float_dtype(dtype)), None, requires_grad, device,
                   "ones", out)


def empty(*size, out=None, dtype=None, device=None, requires_grad=False, **ignored):
    """An uninitialised tensor of shape ``size`` (``torch.empty``; ``memory_format``,
    ``layout``, ``pin_memory`` are accepted and ignored)."""
    size = _size_kw("empty", size, ignored)
    dtype = _dtype_for(dtype, out)
    return _finish(np.empty(_size(size), _float_dtype(dtype)), None, requires_grad, device,
                   "empty", out)


def full(size, fill_value, *, out=None, dtype=None, device=None, requires_grad=False,
         **ignored):
    """A tensor of shape ``size`` filled with ``fill_value`` (``torch.full``); the dtype is
    inferred from ``fill_value`` (bool, int64 or the default float) unless given."""
    _check_ignored("full", ignored)
    dtype = _dtype_for(dtype, out)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        dtype = _to_array(fill_value, None).dtype
    return _finish(np.full(_size((size,)), fill_value, _dt.to_dtype(dtype)), None,
                   requires_grad, device, "full", out)


def _like(input, dtype):
    return input.dtype if dtype is None else _dt.to_dtype(dtype)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False, **ignored):
    """Zeros with ``input``'s shape, and its dtype unless ``dtype`` is given
    (``torch.zeros_like``; ``layout``/``memory_format`` are accepted and ignored)."""
    _check_ignored("zeros_like", ignored)
    return _finish(np.zeros(input.shape, _like(input, dtype)), None, requires_grad, device,
                   "zeros_like")


def ones_like(input, *, dtype=None, device=None, requires_grad=False, **ignored):
    """Ones with ``input``'s shape, and its dtype unless ``dtype`` is given."""
    _check_ignored("ones_like", ignored)
    return _finish(np.ones(input.shape, _like(input, dtype)), None, requires_grad, device,
                   "ones_like")


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, **ignored):
    """``fill_value`` with ``input``'s shape, and its dtype unless ``dtype`` is given."""
    _check_ignored("full_like", ignored)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _finish(np.full(input.shape, fill_value, _like(input, dtype)), None, requires_grad,
                   device, "full_like")


def empty_like(input, *, dtype=None, device=None, requires_grad=False, **ignored):
    """Uninitialised, with ``input``'s shape, and its dtype unless ``dtype`` is given."""
    _check_ignored("empty_like", ignored)
    return _finish(np.empty(input.shape, _like(input, dtype)), None, requires_grad, device,
                   "empty_like")


def _random_like(sampler, name, what):
    """``rand_like``/``randn_like``: ``sampler`` (``rand`` or ``randn``) at ``input``'s shape."""
    def like(input, *, dtype=None, device=None, requires_grad=False, generator=None, **ignored):
        _check_ignored(name, ignored)
        return sampler(input.shape, dtype=_like(input, dtype), device=device,
                       requires_grad=requires_grad, generator=generator)
    like.__name__ = like.__qualname__ = name
    like.__doc__ = (f"""{what} samples with ``input``'s shape, and its dtype unless ``dtype`` is
    given (``torch.{name}``).

    Raises:
        NotImplementedError: for a non-floating dtype (as PyTorch).
    """)
    return like


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False,
                 generator=None, **ignored):
    """Integers uniform in ``[low, high)`` with ``input``'s shape, and its dtype unless
    ``dtype`` is given (``torch.randint_like(input, high)`` or ``(input, low, high)``).

    Raises:
        RuntimeError: if ``low >= high``.
    """
    _check_ignored("randint_like", ignored)
    if high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"randint_like: random_ expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={high}")
    arr = get_rng(generator).integers(low, high, input.shape, dtype=np.int64)
    return _finish(arr, _like(input, dtype), requires_grad, device, "randint_like")


def _float_samples(op, method, size, ignored, dtype, out, generator):
    """The array of :func:`randn` and :func:`rand`: the size and keywords checked as every
    factory does, then ``method`` (``"standard_normal"`` or ``"random"``) of ``generator``'s
    NumPy ``Generator`` drawn in float64 (so that a seed gives the same values in every dtype)
    and cast to the floating dtype asked for (``dtype``, else ``out``'s, else the default).

    Raises:
        NotImplementedError: for a non-floating dtype (as PyTorch).
    """
    size = _size_kw(op, size, ignored)
    dt = _floating(_dtype_for(dtype, out), op)
    draw = getattr(get_rng(generator), method)
    return draw(_size(size), dtype=np.float64).astype(dt)


def randn(*size, generator=None, out=None, dtype=None, device=None, requires_grad=False,
          **ignored):
    """Samples of the standard normal N(0, 1) (``torch.randn``).

    Raises:
        NotImplementedError: for a non-floating dtype (as PyTorch).
    """
    arr = _float_samples("randn", "standard_normal", size, ignored, dtype, out, generator)
    return _finish(arr, None, requires_grad, device, "randn", out)


def rand(*size, generator=None, out=None, dtype=None, device=None, requires_grad=False,
         **ignored):
    """Samples of U[0, 1) (``torch.rand``).

    Raises:
        NotImplementedError: for a non-floating dtype (as PyTorch).
    """
    arr = _float_samples("rand", "random", size, ignored, dtype, out, generator)
    if arr.dtype != np.float64:  # the cast may round up to 1: keep [0, 1)
        np.minimum(arr, np.nextafter(arr.dtype.type(1), arr.dtype.type(0)), out=arr)
    return _finish(arr, None, requires_grad, device, "rand", out)


rand_like = _random_like(rand, "rand_like", "U[0, 1)")
randn_like = _random_like(randn, "randn_like", "N(0, 1)")


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, device=None,
            requires_grad=False, **ignored):
    """Integers uniform in ``[low, high)`` of shape ``size`` (``torch.randint(low, high,
    size)`` or ``torch.randint(high, size)``), int64 by default.

    Raises:
        ValueError: if ``low >= high`` or no size is given.
    """
    _check_ignored("randint", ignored)
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise ValueError("randint: size must be given, e.g. randint(0, 10, (3,))")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if low >= high:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    arr = get_rng(generator).integers(low, high, _size((size,)), dtype=np.int64)
    return _finish(arr, _dtype_for(dtype, out), requires_grad, device, "randint", out)


def randperm(n, *, generator=None, out=None, dtype=None, device=None, requires_grad=False,
             **ignored):
    """A random permutation of ``0 .. n-1`` (``torch.randperm``), int64."""
    _check_ignored("randperm", ignored)
    arr = get_rng(generator).permutation(int(n)).astype(np.int64)
    return _finish(arr, _dtype_for(dtype, out), requires_grad, device, "randperm", out)


def arange(start, end=None, step=1, *, out=None, dtype=None, device=None, requires_grad=False,
           **ignored):
    """Values from ``start`` to ``end`` (exclusive) by ``step`` (``torch.arange``); int64 if
    all arguments are ints, else the default float.

    Raises:
        ValueError: if ``step`` is 0 or has the wrong sign.
    """
    _check_ignored("arange", ignored)
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise ValueError(f"arange: upper bound and larger bound inconsistent with step sign "
                         f"(start={start}, end={end}, step={step})")
    ints = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
               for v in (start, end, step))
    dtype = _dtype_for(dtype, out)
    dt = _dt.to_dtype(dtype) if dtype is not None else (
        _dt.int64 if ints else _dt.get_default_dtype())
    arr = np.arange(start, end, step, dtype=np.float64 if dt.kind == "f" else None).astype(dt)
    return _finish(arr, None, requires_grad, device, "arange", out)


def linspace(start, end, steps, *, out=None, dtype=None, device=None, requires_grad=False,
             **ignored):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (``torch.linspace``).

    Raises:
        RuntimeError: if ``steps`` is negative.
    """
    _check_ignored("linspace", ignored)
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    arr = np.linspace(start, end, int(steps)).astype(_float_dtype(_dtype_for(dtype, out)))
    return _finish(arr, None, requires_grad, device, "linspace", out)


def eye(n, m=None, *, out=None, dtype=None, device=None, requires_grad=False, **ignored):
    """The ``(n, m)`` identity matrix (``torch.eye``)."""
    _check_ignored("eye", ignored)
    dt = _float_dtype(_dtype_for(dtype, out))
    return _finish(np.eye(int(n), None if m is None else int(m), dtype=dt),
                   None, requires_grad, device, "eye", out)


class _LegacyTensorType(type):
    """Metaclass of the legacy typed constructors: ``isinstance(t, autograd.FloatTensor)`` is
    true for every float32 Tensor, as PyTorch's ``isinstance(t, torch.FloatTensor)``."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj._data.dtype == cls._legacy_dtype


def _legacy(dtype, name):
    def __new__(cls, *args, device=None):
        _require_cpu(device, name)
        if not args:
            return empty(0, dtype=dtype)
        if len(args) == 1 and isinstance(args[0], Tensor):
            return args[0].to(dtype)
        if len(args) == 1 and not (isinstance(args[0], numbers.Integral)
                                   or type(args[0]) is Size):
            return tensor(args[0], dtype=dtype)
        return empty(*args, dtype=dtype)

    doc = (f"Legacy constructor ``torch.{name}``: ``{name}(data)`` copies ``data`` as "
           f"{_dt.dtype_name(dtype)}; ``{name}(*sizes)`` is an uninitialised tensor of that "
           f"shape; ``{name}(tensor)`` converts. ``isinstance(t, {name})`` is true for every "
           f"{_dt.dtype_name(dtype)} Tensor, and ``t.type({name})`` converts to it.")
    return _LegacyTensorType(name, (), {"__new__": __new__, "__doc__": doc,
                                        "_legacy_dtype": dtype, "__module__": __name__})


FloatTensor = _legacy(_dt.float32, "FloatTensor")
DoubleTensor = _legacy(_dt.float64, "DoubleTensor")
HalfTensor = _legacy(_dt.float16, "HalfTensor")
LongTensor = _legacy(_dt.int64, "LongTensor")
IntTensor = _legacy(_dt.int32, "IntTensor")
ShortTensor = _legacy(_dt.int16, "ShortTensor")
CharTensor = _legacy(_dt.int8, "CharTensor")
ByteTensor = _legacy(_dt.uint8, "ByteTensor")
BoolTensor = _legacy(_dt.bool, "BoolTensor")


# ---- Tensor.new_*: factories that take the dtype of an existing tensor --------------------------
def _new_dtype(self, dtype):
    return self._data.dtype if dtype is None else _dt.to_dtype(dtype)


def new_zeros(self, *size, dtype=None, device=None, requires_grad=False, **ignored):
    """``t.new_zeros(size)``: zeros of shape ``size`` (ints or one sequence) with ``t``'s dtype
    unless ``dtype`` is given (``torch.Tensor.new_zeros``)."""
    size = _size_kw("new_zeros", size, ignored)
    return zeros(*size, dtype=_new_dtype(self, dtype), device=device,
                 requires_grad=requires_grad)


def new_ones(self, *size, dtype=None, device=None, requires_grad=False, **ignored):
    """``t.new_ones(size)``: ones with ``t``'s dtype unless ``dtype`` is given."""
    size = _size_kw("new_ones", size, ignored)
    return ones(*size, dtype=_new_dtype(self, dtype), device=device, requires_grad=requires_grad)


def new_empty(self, *size, dtype=None, device=None, requires_grad=False, **ignored):
    """``t.new_empty(size)``: uninitialised, with ``t``'s dtype unless ``dtype`` is given."""
    size = _size_kw("new_empty", size, ignored)
    return empty(*size, dtype=_new_dtype(self, dtype), device=device,
                 requires_grad=requires_grad)


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False,
             **ignored):
    """``t.new_full(size, fill_value)``: ``fill_value`` everywhere, with ``t``'s dtype unless
    ``dtype`` is given.

    Raises:
        TypeError: if ``size`` is not a sequence of ints (as PyTorch).
    """
    _check_ignored("new_full", ignored)
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"new_full(): argument 'size' (position 1) must be tuple of ints, not "
                        f"{type(size).__name__}")
    return full(size, fill_value, dtype=_new_dtype(self, dtype), device=device,
                requires_grad=requires_grad)


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, **ignored):
    """``t.new_tensor(data)``: a copy of ``data`` with ``t``'s dtype unless ``dtype`` is given
    (not inferred from ``data``, as PyTorch); a Tensor ``data`` is copied and detached."""
    _check_ignored("new_tensor", ignored)
    return tensor(data, dtype=_new_dtype(self, dtype), device=device,
                  requires_grad=requires_grad)


def new(self, *args, **kwargs):
    """Legacy ``t.new(...)`` (``torch.Tensor.new``), with ``t``'s dtype: ``new()`` is an empty
    1-D tensor, ``new(2, 3)`` or ``new(shape_tuple)`` an uninitialised one of that shape,
    ``new(list_or_array)`` a copy of that data.

    Differs from PyTorch: a tuple of ints is read as a shape (tapegrad's shapes are plain
    tuples; PyTorch reads a tuple as data and a ``torch.Size`` as a shape): pass a list for
    data.

    Raises:
        TypeError: for a Tensor argument (PyTorch refuses it too: use ``t.new_tensor(x)`` or
            ``x.clone()``).
    """
    device = kwargs.pop("device", None)
    if kwargs:
        raise TypeError(f"new() got unexpected keyword arguments {sorted(kwargs)}")
    dt = self._data.dtype
    if not args:
        return empty(0, dtype=dt, device=device)
    if len(args) == 1 and isinstance(args[0], Tensor):
        raise TypeError("new(): pass a Tensor's values with t.new_tensor(x) or x.clone(), not "
                        "t.new(x)")
    if all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args):
        return empty(*args, dtype=dt, device=device)
    if len(args) == 1 and isinstance(args[0], tuple) and all(
            isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args[0]):
        return empty(args[0], dtype=dt, device=device)
    if len(args) == 1:
        return tensor(args[0], dtype=dt, device=device)
    raise TypeError(f"new(): expected sizes (ints) or one sequence of data, got {args!r}")


# ---- samplers ------------------------------------------------------------------------------------
def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 draws, 1 with probability ``input`` elementwise (or the number ``p`` for every
    element), with ``input``'s shape and dtype (``torch.bernoulli``). Not differentiable.

    Raises:
        RuntimeError: if a probability is outside [0, 1].
    """
    probs = input._data if p is None else float(p)
    if p is None and probs.size and not (probs.min() >= 0 and probs.max() <= 1):
        raise RuntimeError(f"bernoulli: expected all probabilities in [0, 1], got values in "
                           f"[{probs.min()}, {probs.max()}]")
    if p is not None and not 0 <= probs <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    arr = (get_rng(generator).random(input.shape) < probs).astype(input.dtype)
    return _finish(arr, None, False, None, "bernoulli", out)


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Category indices drawn from the rows of ``input`` (non-negative weights, not necessarily
    normalised) (``torch.multinomial``).

    Shapes: ``input`` ``(C,)`` or ``(N, C)``; output ``(num_samples,)`` or
    ``(N, num_samples)``, int64. Without replacement each row's draws are distinct (a category
    of weight 0 is never drawn).

    Raises:
        RuntimeError: for a 0-d or >2-d input, negative/inf/nan weights, a row summing to 0,
            ``num_samples <= 0``, or more samples than categories with non-zero weight when
            sampling without replacement (PyTorch's checks).
    """
    w = input._data.astype(np.float64)
    if w.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape "
                           f"{tuple(input.shape)}")
    n = int(num_samples)
    if n <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples, got {n}")
    rows = w.reshape(-1, w.shape[-1])
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or "
                           "element < 0")
    if not replacement and n > rows.shape[1]:
        raise RuntimeError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples "
                           f"without replacement ({n} > {rows.shape[1]})")
    rng = get_rng(generator)
    res = np.empty((rows.shape[0], n), dtype=np.int64)
    for i, r in enumerate(rows):
        total = r.sum()
        if not total > 0:
            raise RuntimeError("multinomial: invalid multinomial distribution (sum of "
                               "probabilities <= 0)")
        if not replacement and np.count_nonzero(r) < n:
            raise RuntimeError("multinomial: invalid multinomial distribution (with "
                               "replacement=False, not enough non-negative category to sample)")
        res[i] = rng.choice(r.shape[0], size=n, replace=replacement, p=r / total)
    return _finish(res.reshape(w.shape[:-1] + (n,)), None, False, None, "multinomial", out)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None,
           device=None, requires_grad=False):
    """Samples of N(mean, std^2) (``torch.normal``): ``normal(mean_tensor, std_tensor)`` (shapes
    broadcast), ``normal(mean_tensor, std=1.0)``, ``normal(mean, std_tensor)``, or
    ``normal(mean, std, size)`` for two numbers. The result has the tensors' dtype (or the
    default float / ``dtype``). Not differentiable (PyTorch's gradients w.r.t. mean and std are
    zero too).

    Raises:
        RuntimeError: for a negative std, or two numbers without ``size``.
    """
    tensors = [a for a in (mean, std) if isinstance(a, Tensor)]
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    if np.any(np.asarray(s) < 0):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    if tensors:
        shape = np.broadcast_shapes(*(np.shape(a) for a in (m, s)))
        dt = _dt.to_dtype(dtype) if dtype is not None else tensors[0].dtype
    else:
        if size is None:
            raise RuntimeError("normal(mean, std): with two numbers, give size=")
        shape = _size((size,))
        dt = _float_dtype(dtype)
    arr = get_rng(generator).normal(m, s, shape).astype(dt)
    return _finish(arr, None, requires_grad, device, "normal", out)


def poisson(input, generator=None):
    """Samples of Poisson(rate) for the rates ``input`` (``torch.poisson``), its shape and
    dtype.

    Raises:
        RuntimeError: for a negative rate.
    """
    lam = input._data
    if lam.size and lam.min() < 0:
        raise RuntimeError("poisson: invalid Poisson rate, expected rate to be non-negative")
    return _finish(get_rng(generator).poisson(lam).astype(input.dtype), None, False, None,
                   "poisson")


# ---- Size and the default device -----------------------------------------------------------------
class _SizeMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, tuple) and all(
            isinstance(d, numbers.Integral) and not isinstance(d, bool) for d in obj)


class Size(tuple, metaclass=_SizeMeta):
    """A shape (``torch.Size``): a tuple of ints with :meth:`numel`.

    ``autograd.Size([2, 3]) == (2, 3)``, and ``isinstance(x.shape, autograd.Size)`` holds for
    every shape. ``x.size()`` returns a ``Size``. Differs from PyTorch: ``x.shape`` is a plain
    tuple (no per-access cost), so it prints as ``(2, 3)`` and has no ``numel()``; use
    ``x.size()`` or ``x.numel()``.

    Raises:
        TypeError: for entries that are not ints.
    """

    def __new__(cls, sizes=()):
        sizes = tuple(sizes)
        for d in sizes:
            if not isinstance(d, numbers.Integral) or isinstance(d, bool):
                raise TypeError(f"Size: expected a sequence of ints, got an element of type "
                                f"{type(d).__name__}")
        return super().__new__(cls, (int(d) for d in sizes))

    def numel(self):
        """The number of elements of a tensor of this shape."""
        n = 1
        for d in self:
            n *= d
        return n

    def __getitem__(self, key):
        out = super().__getitem__(key)
        return Size(out) if isinstance(key, slice) else out

    def __repr__(self):
        return f"autograd.Size({list(self)})"


def set_default_device(device):
    """``torch.set_default_device``: only the CPU (or ``None``) can be the default.

    Raises:
        RuntimeError: for any other device.
    """
    _require_cpu(device, "set_default_device")


def get_default_device():
    """``device(type='cpu')``: the only device."""
    return device_("cpu")


_register_methods({
    "new": new, "new_zeros": new_zeros, "new_ones": new_ones, "new_empty": new_empty,
    "new_full": new_full, "new_tensor": new_tensor, "bernoulli": bernoulli,
    "multinomial": multinomial,
})
