"""``Tensor``: one NumPy array plus what reverse-mode autograd needs.

A tensor holds one ``numpy.ndarray`` (the private slot ``_data``, which the ops and the engine
read directly), ``requires_grad``, ``grad`` (a Tensor or ``None``) and ``grad_fn`` (the :class:`~autograd.graph.Node` node that produced it, ``None`` for
leaves). Every method that computes something calls an op from :mod:`autograd.ops`; this class
only holds state, converts, and forwards. ``t.data`` is PyTorch's: a detached Tensor over the same
memory; ``t.numpy()`` is the array.

Differences from PyTorch (each also noted where it applies):

- the only device is ``"cpu"``; dtypes are NumPy dtypes (:mod:`autograd.dtypes`);
- views: ops that NumPy computes as views (``reshape``, ``transpose``, basic indexing ...) share
  memory as PyTorch's views do, but a write into a view does not bump the base's version counter;
"""

import builtins
import numbers
import operator
import warnings
import weakref

import numpy as np

from . import dtypes as _dt
from . import grad_mode

__all__ = ["Tensor"]


def _tensor_method(method, name, doc):
    """``method`` (a function built by a helper of this module) named ``Tensor.<name>``, with
    the docstring ``doc``."""
    method.__name__ = name
    method.__qualname__ = f"Tensor.{name}"
    method.__doc__ = doc
    return method


def _conversion(name, dtype, doc):
    """The Tensor method ``name`` that returns ``self.to(dtype)``, with the docstring ``doc``
    (``Tensor.float``, ``Tensor.long``, ...)."""
    def method(self):
        return self.to(dtype)
    return _tensor_method(method, name, doc)


def _array_attribute(name, doc):
    """A read-only property that is the attribute ``name`` of the tensor's array, with the
    docstring ``doc`` (``Tensor.shape``, ``Tensor.dtype``, ...; ``operator.attrgetter`` is a
    little faster than a Python getter on these hot paths)."""
    return property(operator.attrgetter("_data." + name), doc=doc)


def _constant_property(value, doc):
    """A read-only property whose value is always ``value``, with the docstring ``doc``: the
    ``is_*`` attributes whose answer is fixed on a CPU-only, dense engine (``is_cuda``,
    ``is_quantized``, ... and ``SparseCOOTensor.is_sparse``)."""
    return property(lambda self: value, doc=doc)


class Tensor:
    """A multi-dimensional array that records the ops applied to it for reverse-mode autograd.

    Called as PyTorch's legacy constructor ``torch.Tensor(...)``:

    - ``Tensor(*sizes)`` / ``Tensor(size)`` (ints, or an :class:`autograd.Size`): an
      *uninitialised* tensor of that shape with the default dtype (float32), as
      ``torch.Tensor(2, 3)``; ``Tensor()`` is an empty 1-D one;
    - ``Tensor(sequence)`` (a list or tuple of numbers or tensors): a copy as the default
      floating dtype, as ``torch.Tensor([1, 2])`` (float32, not int64);
    - ``Tensor(tensor)``: a tensor over the same memory.

    Args:
        *args: sizes, or one ``data`` argument (above).
        requires_grad (bool, keyword): record ops on this tensor so that ``backward`` fills
            ``.grad``. Only floating tensors can require grad.
        device: only the CPU (or ``None``).

    Differs from PyTorch: a NumPy array ``data`` is wrapped without copy and keeps its dtype
    (like ``torch.from_numpy``; PyTorch copies it as float32): library code relies on this. A
    Python scalar becomes a 0-d tensor (ints ``int64`` ... ) where PyTorch raises: a Python
    *int* alone is a size, as in PyTorch (``Tensor(5)`` has shape ``(5,)``).

    Raises:
        RuntimeError: if ``requires_grad=True`` for a non-floating dtype, or a negative size.
        TypeError: for several arguments that are not all ints.

    Users usually create tensors with :func:`autograd.tensor` (which copies, like
    ``torch.tensor``) or the factories (``zeros``, ``randn`` ...).
    """

    __slots__ = ("_data", "_grad", "grad_fn", "requires_grad", "_vc", "_hooks", "__weakref__")
    __array_priority__ = 1000  # ndarray (op) Tensor defers to Tensor's reflected operator

    def __init__(self, *args, requires_grad=False, device=None):
        if len(args) == 1:
            data = args[0]
            if isinstance(data, np.ndarray):
                pass
            elif isinstance(data, Tensor):
                data = data._data
            elif _is_size_type(data):
                data = _legacy_empty(tuple(data))
            elif isinstance(data, (list, tuple)):
                data = _to_array(data, _dt.get_default_dtype())
            elif isinstance(data, numbers.Integral) and not isinstance(data, (bool, np.bool_)):
                data = _legacy_empty(args)
            else:
                data = _to_array(data, None)
        elif args:
            data = _legacy_empty(args)
        else:
            data = np.empty((0,), _dt.get_default_dtype())
        if device is not None:
            _require_cpu(device, "Tensor")
        self._data = data
        self._grad = None
        self.grad_fn = None
        self.requires_grad = False
        self._vc = None
        self._hooks = None
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(data, requires_grad, grad_fn):
        """Fast internal constructor (no checks): used by every op."""
        t = object.__new__(Tensor)
        t._data = data
        t._grad = None
        t.grad_fn = grad_fn
        t.requires_grad = requires_grad
        t._vc = None
        t._hooks = None
        return t

    @property
    def data(self):
        """This tensor's values as a new Tensor over the same memory, detached from the graph
        (``requires_grad=False``, no ``grad_fn``), as PyTorch's ``Tensor.data``.

        Unlike :meth:`detach`, the result does not share this tensor's version counter, so an
        in-place change made through it (``p.data.add_(p.grad, alpha=-lr)``,
        ``m.weight.data.normal_(0, 0.02)``) is not seen by autograd's in-place check: like
        PyTorch, this is the way to change a tensor behind autograd's back. Use
        :meth:`numpy` (or ``np.asarray(t)``) for the NumPy array itself.

        Assigning ``t.data = other`` (a Tensor of any shape and dtype) makes ``t`` hold
        ``other``'s memory, as in PyTorch.

        Raises:
            TypeError: when the assigned value is not a Tensor.
        """
        return Tensor._make(self._data, False, None)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data: assigned value must be a Tensor, got "
                            f"{type(value).__name__} (wrap an array with autograd.from_numpy)")
        self._data = value._data

    def _version_counter(self):
        vc = self._vc
        if vc is None:
            vc = self._vc = [0]
        return vc

    def _bump_version(self):
        if self._vc is None:
            self._vc = [1]
        else:
            self._vc[0] += 1

    # --- attributes ---------------------------------------------------------------------------
    @property
    def grad(self):
        """The gradient accumulated by ``backward`` (a Tensor of this shape and dtype), or
        ``None``.

        Reading it on a non-leaf tensor that does not ``retain_grad()`` warns, as in PyTorch:
        backward does not fill it there.
        """
        fn = self.grad_fn
        if fn is not None and fn._retain is None:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                ".grad attribute won't be populated during autograd.backward(). If you indeed "
                "want the .grad field to be populated for a non-leaf Tensor, use .retain_grad() "
                "on the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure "
                "you access the leaf Tensor instead.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"assigned grad has data of a different size: "
                                   f"{tuple(value._data.shape)} vs the tensor's "
                                   f"{tuple(self._data.shape)}")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(f"assigned grad has data of a different type: "
                                   f"{value._data.dtype} vs the tensor's {self._data.dtype}")
        self._grad = value

    shape = _array_attribute("shape", "The shape, a tuple of ints (PyTorch returns "
                             "``torch.Size``, a tuple subclass).")
    dtype = _array_attribute("dtype", "The dtype (a ``numpy.dtype``, e.g. ``autograd.float32``).")
    ndim = _array_attribute("ndim", "Number of dimensions.")

    @property
    def device(self):
        """Always ``device(type='cpu')``."""
        return _CPU

    @property
    def is_leaf(self):
        """True for tensors not produced by a recorded op (user-created, or ``requires_grad``
        False)."""
        return self.grad_fn is None

    is_cuda = _constant_property(False, "Always ``False`` (CPU only).")

    @property
    def _version(self):
        """How many in-place ops have modified this tensor (PyTorch's ``_version``)."""
        return 0 if self._vc is None else self._vc[0]

    @property
    def retains_grad(self):
        """True if ``retain_grad()`` was called on this non-leaf tensor."""
        return self.grad_fn is not None and self.grad_fn._retain is not None

    def size(self, dim=None):
        """The shape as an :class:`autograd.Size` (PyTorch's ``torch.Size``, a tuple subclass
        that prints as ``autograd.Size([2, 3])``), or the size of dimension ``dim`` (an int;
        negative counts from the end). (``x.shape`` is a plain tuple: no per-access cost.)"""
        if dim is None:
            return tuple.__new__(_Size, self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim, "size")]

    def dim(self):
        """Number of dimensions (``ndim``)."""
        return self._data.ndim

    def ndimension(self):
        """Number of dimensions (``torch.Tensor.ndimension``, an alias of :meth:`dim`)."""
        return self._data.ndim

    nbytes = _array_attribute("nbytes", "Bytes taken by the elements, ``numel() * itemsize``.")
    itemsize = _array_attribute("itemsize", "Bytes per element (``element_size()``).")

    def is_same_size(self, other):
        """True if ``other`` has this tensor's shape."""
        return self._data.shape == other._data.shape

    def is_nonzero(self):
        """The truth value of a one-element tensor (``torch.Tensor.is_nonzero``).

        Raises:
            RuntimeError: for a tensor with no or several elements (as PyTorch).
        """
        if self._data.size == 0:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
        if self._data.size > 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return builtins.bool(self._data.reshape(-1)[0])

    def reshape_as(self, other):
        """``self.reshape(other.shape)`` (``torch.Tensor.reshape_as``)."""
        return _ops.reshape(self, other._data.shape)

    def numel(self):
        """Number of elements."""
        return self._data.size

    nelement = numel

    def element_size(self):
        """Bytes per element."""
        return self._data.itemsize

    def item(self):
        """The value of a one-element tensor as a Python number.

        Raises:
            RuntimeError: if the tensor has more than one element.
        """
        if self._data.size != 1:
            raise RuntimeError(
                f"item: a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        """The values as (nested) Python lists, or a number for a 0-d tensor."""
        return self._data.tolist()

    def numpy(self):
        """The underlying array (shared memory, like ``torch.Tensor.numpy``).

        Raises:
            RuntimeError: if the tensor requires grad (call ``detach()`` first), as PyTorch does.
        """
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        """NumPy's array protocol (``np.asarray(t)``, ``np.array(t)``, ``np.copy(t)``).

        ``copy=None`` (``np.asarray``) shares this tensor's memory when no dtype conversion is
        needed; ``copy=True`` (``np.array``, ``np.copy``) always returns a new array;
        ``copy=False`` shares or raises ``ValueError`` when a copy is needed (NumPy 2's rule).

        Raises:
            RuntimeError: if the tensor requires grad, as PyTorch does ("use
                tensor.detach().numpy()").
            ValueError: ``copy=False`` with a dtype that needs a conversion.
        """
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        a = self._data
        if dtype is not None and np.dtype(dtype) != a.dtype:
            if copy is False:
                raise ValueError(f"Unable to avoid copy while creating an array as requested: "
                                 f"the tensor is {a.dtype}, {np.dtype(dtype)} was asked for")
            return a.astype(dtype)
        return a.copy() if copy else a

    def __dlpack__(self, *args, **kwargs):
        """DLPack export (``np.from_dlpack(t)``, ``torch.from_dlpack(t)``): shares memory.

        Raises:
            RuntimeError: if the tensor requires grad (PyTorch's rule: detach it first).
        """
        if self.requires_grad:
            raise RuntimeError("Can't export tensors that require gradient, use "
                               "tensor.detach()")
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        """``(1, 0)``: DLPack's CPU device."""
        return self._data.__dlpack_device__()

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self._data.size} elements is "
                               "ambiguous")
        return bool(self._data.reshape(()))

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    __hash__ = object.__hash__

    def __repr__(self):
        return _format(self)

    def __format__(self, format_spec):
        """``format(t, spec)``: a 0-d tensor formats as its Python number
        (``'{:+.2f}'.format(t)``), as PyTorch; any other tensor only with an empty spec (its
        ``str``).

        Raises:
            TypeError: for a non-empty spec on a tensor that is not 0-d (as PyTorch).
        """
        if self._data.ndim == 0:
            return self.item().__format__(format_spec)
        return object.__format__(self, format_spec)

    # --- autograd -----------------------------------------------------------------------------
    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place; returns ``self``.

        Raises:
            RuntimeError: for a non-floating tensor, or for a non-leaf when turning it off.
        """
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients, got "
                f"{_dt.dtype_name(self._data.dtype)}")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. "
                               "Use detach() to get a tensor that does not require grad.")
        self.requires_grad = bool(requires_grad)
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor w.r.t. the graph leaves into their ``.grad``.

        Args:
            gradient (Tensor, optional): d(something)/d(self), the same shape; required unless
                this tensor has one element (then it is 1).
            retain_graph (bool, optional): keep the graph's saved arrays for another backward;
                defaults to ``create_graph``.
            create_graph (bool): record the backward pass for higher-order gradients.
            inputs (sequence of Tensor, optional): accumulate only into these.

        Raises:
            RuntimeError: if this tensor does not require grad; if it is not a scalar and no
                ``gradient`` is given; if the graph was already freed; if a tensor saved for
                backward was modified in place.
        """
        _engine.backward(self, gradient, retain_graph, create_graph, inputs)

    def detach(self):
        """A tensor sharing this one's data, cut from the graph (``requires_grad=False``)."""
        t = Tensor._make(self._data, False, None)
        t._vc = self._version_counter()
        return t

    def detach_(self):
        """Cut this tensor from the graph in place; returns ``self``."""
        self.grad_fn = None
        self.requires_grad = False
        return self

    def register_hook(self, hook):
        """Register ``hook(grad) -> Tensor or None``, called with this tensor's gradient during
        backward; a returned tensor replaces the gradient. Returns a handle with ``remove()``.

        Raises:
            RuntimeError: if the tensor does not require grad.
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn._add_tensor_hook(hook)
        if self._hooks is None:
            self._hooks = {}
        return _add_hook(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Register ``hook(tensor) -> None`` on a leaf, called during backward as soon as this
        leaf's ``.grad`` holds its gradient for that backward (PyTorch >= 2.1): before the walk
        reaches the rest of the graph, so an optimizer step or a gradient all-reduce can start
        there. Returns a handle with ``remove()``. ``autograd.grad`` does not call it (it
        does not touch ``.grad``).

        Raises:
            RuntimeError: if the tensor does not require grad or is not a leaf.
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        ex = _graph.leaf_extras(self)
        _graph.mark_hooked(self)
        return _add_hook(ex.post_accumulate, hook)

    def _clear_grad(self, set_to_none=True):
        """One tensor's share of ``Module.zero_grad`` / ``Optimizer.zero_grad``: drop ``.grad``
        (``set_to_none=True``, PyTorch 2's default) or zero it in place."""
        if self._grad is None:
            return
        if set_to_none:
            self.grad = None
        else:
            self._grad._data[...] = 0

    def retain_grad(self):
        """Make backward fill ``.grad`` of this non-leaf tensor (a no-op on leaves)."""
        if self.grad_fn is None:
            if not self.requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        self.grad_fn._retain = weakref.ref(self)  # the node keeps .grad of this tensor

    # --- conversion ---------------------------------------------------------------------------
    def to(self, *args, **kwargs):
        """Convert the dtype and/or "move" to a device (``torch.Tensor.to``).

        Accepts ``to(dtype)``, ``to(device)`` (a device, a string such as ``"cpu"``, an int
        accelerator index), ``to(device, dtype)``, ``to(other_tensor)`` (its dtype and device)
        and the keywords ``device``, ``dtype``, ``non_blocking`` (ignored), ``copy``,
        ``memory_format`` (ignored). Returns ``self`` when nothing changes (as PyTorch), a copy
        with ``copy=True``. A float to float cast is differentiable.

        Raises:
            RuntimeError: for any device but the CPU (tapegrad runs on the CPU only).
        """
        copy = kwargs.pop("copy", False)
        dtype = _to_dtype_arg(args, kwargs, "Tensor.to", "to: unexpected keyword arguments")
        if dtype is None:
            return self.clone() if copy else self
        dtype = _dt.to_dtype(dtype)
        if dtype == self._data.dtype:
            return self.clone() if copy else self
        return _ops.cast(self, dtype)

    def type(self, dtype=None):
        """Return the dtype's name when called without argument; else convert (``to``)."""
        if dtype is None:
            return _dt.dtype_name(self._data.dtype)
        return self.to(dtype)

    def type_as(self, other):
        """Convert to ``other``'s dtype."""
        return self.to(other.dtype)

    float = _conversion("float", _dt.float32, "Convert to float32 (differentiable from float64; "
                        "bool and int give 0./1. values).")
    double = _conversion("double", _dt.float64, "Convert to float64.")
    half = _conversion("half", _dt.float16, "Convert to float16 (storage only: ops compute in "
                       "NumPy's float16).")
    long = _conversion("long", _dt.int64, "Convert to int64 (truncates toward zero; not "
                       "differentiable).")
    int = _conversion("int", _dt.int32, "Convert to int32.")
    bool = _conversion("bool", _dt.bool, "Convert to bool (non-zero is True).")

    def cpu(self):
        """Return ``self`` (tensors always live on the CPU)."""
        return self

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        """Raises: tapegrad has no GPU backend (``torch.Tensor.cuda``).

        Raises:
            RuntimeError: always, saying tapegrad runs on the CPU only.
        """
        _require_cpu("cuda", "Tensor.cuda")

    is_cpu = _constant_property(True, "Always ``True``.")
    is_meta = _constant_property(False, "Always ``False``.")
    is_mps = _constant_property(False, "Always ``False`` (CPU only).")
    is_xpu = _constant_property(False, "Always ``False`` (CPU only).")
    is_mkldnn = _constant_property(False, "Always ``False`` (CPU only, plain strided arrays).")
    is_sparse_csr = _constant_property(False, "Always ``False``: tensors are dense.")
    is_quantized = _constant_property(False, "Always ``False``: no quantized dtypes.")
    is_nested = _constant_property(False, "Always ``False``: no nested tensors.")

    def is_complex(self):
        """True for a complex dtype (tapegrad's ops are real-valued)."""
        return self._data.dtype.kind == "c"

    def is_signed(self):
        """True unless the dtype is unsigned or bool (``torch.Tensor.is_signed``)."""
        return self._data.dtype.kind not in "ub"

    def is_inference(self):
        """Always ``False``: tensors made under ``inference_mode`` are ordinary tensors here."""
        return False

    def get_device(self):
        """-1, PyTorch's answer for a CPU tensor."""
        return -1

    def is_pinned(self, device=None):
        """Always ``False``: there is no accelerator to pin memory for."""
        return False

    def pin_memory(self, device=None):
        """Raises, as a CPU-only PyTorch does (pinned memory serves accelerator transfers).

        Raises:
            RuntimeError: always (PyTorch's message).
        """
        raise RuntimeError("Cannot access accelerator device when none is available.")

    def clone(self):
        """A copy of the data that stays in the graph (gradient flows back unchanged)."""
        return _ops.clone(self)

    def contiguous(self):
        """Return ``self`` if its array is C-contiguous, else a contiguous copy (in the graph)."""
        if self._data.flags.c_contiguous:
            return self
        return _ops.clone(self)

    def is_contiguous(self):
        """True if the array is C-contiguous."""
        return self._data.flags.c_contiguous

    def is_floating_point(self):
        """True for float16/32/64 tensors."""
        return self._data.dtype.kind == "f"

    # --- operators ----------------------------------------------------------------------------
    # ``+ - * / ** @ // %``, the comparisons, ``& | ^ ~``, unary ``-`` and ``abs`` (and their
    # reflected forms) call the op functions of ``autograd.ops``; they are installed from the
    # table at the end of this module (:func:`_binary_operator`), once the ops are imported.
    def __pos__(self):
        return self

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    def __setitem__(self, index, value):
        _ops.setitem(self, index, value)

    # --- in-place -----------------------------------------------------------------------------
    def _inplace(self, name, fn, *args):
        """Apply ``fn`` (an out-of-place op) and write the result into this tensor's array.

        Under grad mode with grad involved, the result's node becomes this tensor's ``grad_fn``
        (PyTorch's rebase of history); the version counter is bumped so that any node that saved
        the old value refuses to backward.
        """
        if not self._data.flags.writeable:
            raise RuntimeError(
                f"{name}: unsupported operation: the tensor's memory is read-only (an expanded "
                "tensor shares one element between several positions); call clone() first")
        recording = grad_mode.grad_enabled() and (
            self.requires_grad or any(isinstance(a, Tensor) and a.requires_grad for a in args))
        if recording and self.requires_grad and self.grad_fn is None:
            raise RuntimeError(
                f"{name}: a leaf Variable that requires grad is being used in an in-place "
                "operation.")
        if recording and self.grad_fn is not None and self.grad_fn._view is not None:
            raise RuntimeError(
                f"{name}: in-place modification of a view ({self.grad_fn.name()}, shape "
                f"{tuple(self.shape)}) of a tensor that requires grad is not supported: "
                "tapegrad cannot rebase the base tensor's history onto the view's change (PyTorch "
                "does, with CopySlices). Modify the base tensor itself (e.g. base[index] = "
                "value), or clone() the view first.")
        if recording:
            # ``old`` stands for this tensor's value before the write. It gets its own version
            # counter (created lazily), so that the op can save it for backward; if the op did
            # save it (the counter now exists), it keeps a copy of the old values, which the
            # write below would otherwise overwrite (PyTorch saves ``original_self`` likewise).
            old = Tensor._make(self._data, self.requires_grad, self.grad_fn)
            result = fn(old, *args)
            if result is old or any(result is a for a in args):
                # an identity (copy_ of a same-shaped source): this tensor needs a node of its
                # own, or it would share the source's grad_fn (or become a leaf)
                result = _ops.clone(result)
            if old._vc is not None:
                old._data = old._data.copy()
        else:
            with grad_mode.no_grad():
                result = fn(self, *args)
        if result._data.shape != self._data.shape:
            raise RuntimeError(
                f"{name}: output with shape {tuple(self._data.shape)} doesn't match the broadcast "
                f"shape {tuple(result._data.shape)}")
        np.copyto(self._data, result._data, casting="unsafe")
        self._bump_version()
        if recording:
            fn = self.grad_fn = result.grad_fn
            if fn._view is not None:
                fn._view = None  # the node may view its input, but this tensor holds a copy
            self.requires_grad = True
        return self

    def add_(self, other, alpha=1):
        """In place ``self += alpha * other``."""
        if alpha != 1:
            other = other * alpha
        return self._inplace("add_", _ops.add, other)

    def sub_(self, other, alpha=1):
        """In place ``self -= alpha * other``."""
        if alpha != 1:
            other = other * alpha
        return self._inplace("sub_", _ops.sub, other)

    def mul_(self, other):
        """In place ``self *= other``."""
        return self._inplace("mul_", _ops.mul, other)

    def div_(self, other):
        """In place ``self /= other``."""
        return self._inplace("div_", _ops.div, other)

    def pow_(self, exponent):
        """In place ``self **= exponent``."""
        return self._inplace("pow_", _ops.pow, exponent)

    def clamp_(self, min=None, max=None):
        """In place ``clamp``."""
        return self._inplace("clamp_", lambda t: _ops.clamp(t, min, max))

    clip_ = clamp_

    def relu_(self):
        """In place ``relu``."""
        return self._inplace("relu_", _ops.relu)

    def sigmoid_(self):
        """In place ``sigmoid``."""
        return self._inplace("sigmoid_", _ops.sigmoid)

    def tanh_(self):
        """In place ``tanh``."""
        return self._inplace("tanh_", _ops.tanh)

    def exp_(self):
        """In place ``exp``."""
        return self._inplace("exp_", _ops.exp)

    def neg_(self):
        """In place ``-self``."""
        return self._inplace("neg_", _ops.neg)

    def masked_fill_(self, mask, value):
        """In place ``masked_fill``."""
        return self._inplace("masked_fill_", lambda t: _ops.masked_fill(t, mask, value))

    def copy_(self, src, non_blocking=False):
        """Copy ``src`` (broadcast to this shape, cast to this dtype) into this tensor; returns
        ``self``. Differentiable w.r.t. ``src`` (``non_blocking`` is accepted and ignored)."""
        return self._inplace("copy_", lambda t, s: _ops.expand_as_copy(s, t), src)

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def _fill_nograd(self, name, values):
        """Write ``values`` (an array or number broadcasting to this shape) into this tensor.

        Used by the fills and the random initialisers. A non-leaf that requires grad stays in
        the graph (as in PyTorch) with a zero gradient to its past; a leaf that requires grad
        refuses under grad mode (write through ``t.data`` or under ``no_grad()``).
        """
        if grad_mode.grad_enabled() and self.requires_grad:
            if self.grad_fn is None:
                raise RuntimeError(
                    f"{name}: a leaf Variable that requires grad is being used in an in-place "
                    "operation.")
            # the fill is recorded as a ``masked_fill`` with an all-true mask
            return self._inplace(name, lambda t: _ops.masked_fill(
                t, np.ones((), dtype=np.bool_), values))
        if not self._data.flags.writeable:
            raise RuntimeError(f"{name}: unsupported operation: the tensor's memory is read-only "
                               "(an expanded tensor); call clone() first")
        self._data[...] = values
        self._bump_version()
        return self

    def zero_(self):
        """Fill with zeros in place; returns ``self``."""
        return self._fill_nograd("zero_", 0)

    def fill_(self, value):
        """Fill with ``value`` (a number or a 0-d Tensor) in place; returns ``self``. A 0-d
        Tensor value that requires grad receives the sum of the gradient (as in PyTorch).

        Raises:
            RuntimeError: for a Tensor value with dimensions (PyTorch's message).
        """
        if isinstance(value, Tensor):
            if value._data.ndim:
                raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                                   f"with {value._data.ndim} dimensions.")
            if grad_mode.grad_enabled() and value.requires_grad:
                return self._inplace("fill_", lambda t, v: _ops.masked_fill(
                    t, np.ones((), dtype=np.bool_), v), value)
            value = value._data
        return self._fill_nograd("fill_", value)

    # Random initialisers: NumPy's PCG64 stream of the default generator (autograd.manual_seed)
    # or of ``generator=``; samples are drawn in float64 and cast to this tensor's dtype. The
    # distributions are PyTorch's (same parameters, supports and errors), not its bit streams.
    def _random_kind(self, name, kinds, continuous=None):
        kind = self._data.dtype.kind
        if kind not in kinds and continuous:  # PyTorch's wording (and type) for these two
            raise RuntimeError(f"{continuous} distribution is a continuous probability "
                               f"distribution. dtype must be a floating point but you specified "
                               f"{_dt.dtype_name(self._data.dtype)}")
        if kind not in kinds:
            raise NotImplementedError(
                f'"{name}" not implemented for {_dt.dtype_name(self._data.dtype)} tensors (as in '
                f"PyTorch: it needs a {'floating point' if kinds == 'f' else 'numeric'} tensor)")

    def _random_fill(self, name, values):
        return self._fill_nograd(name, values.astype(self._data.dtype, copy=False))

    def uniform_(self, *args, generator=None, **kwargs):
        """``uniform_(from=0, to=1, *, generator=None)``: fill in place with samples of the
        continuous uniform distribution on ``[from, to)``; returns ``self``. (``from`` is a
        Python keyword: pass it positionally or as ``**{"from": a}``.)

        Raises:
            RuntimeError: if ``from > to``.
            NotImplementedError: for a non-floating tensor (as PyTorch).
        """
        lo, hi = _two_args("uniform_", args, kwargs, ("from", "to"), (0.0, 1.0))
        self._random_kind("uniform_", "f")
        if lo > hi:
            raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                               f"from={lo} > to={hi}")
        dt = self._data.dtype
        v = (lo + (hi - lo) * _random.get_rng(generator).random(self._data.shape)).astype(dt)
        if hi > lo:  # the cast may round a value up to ``to``: keep the interval half-open
            np.minimum(v, np.nextafter(dt.type(hi), dt.type(lo)), out=v)
        return self._fill_nograd("uniform_", v)

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """Fill in place with samples of the normal distribution N(mean, std^2); returns
        ``self`` (``torch.Tensor.normal_``).

        Raises:
            RuntimeError: if ``std < 0``.
            NotImplementedError: for a non-floating tensor.
        """
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        self._random_kind("normal_", "f")
        return self._random_fill("normal_", _random.get_rng(generator).normal(
            mean, std, self._data.shape))

    def bernoulli_(self, p=0.5, *, generator=None):
        """Fill in place with 0/1 draws that are 1 with probability ``p`` (a number, or a
        Tensor of probabilities that broadcasts to this shape); works for floating, integer
        and bool tensors; returns ``self``.

        Raises:
            RuntimeError: if a probability is outside [0, 1].
        """
        if isinstance(p, Tensor):
            prob = p._data
            if prob.size and not (prob.min() >= 0 and prob.max() <= 1):
                raise RuntimeError("bernoulli_ expects all probabilities p to be in [0, 1], but "
                                   f"got values in [{prob.min()}, {prob.max()}]")
            try:
                prob = np.broadcast_to(prob, self._data.shape)
            except ValueError:
                raise RuntimeError(f"bernoulli_: the probability tensor of shape "
                                   f"{tuple(prob.shape)} does not broadcast to the tensor's "
                                   f"shape {tuple(self._data.shape)}") from None
        else:
            prob = float(p)
            if not 0 <= prob <= 1:
                raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        draw = _random.get_rng(generator).random(self._data.shape) < prob
        return self._random_fill("bernoulli_", draw)

    def random_(self, *args, generator=None, **kwargs):
        """``random_(from=0, to=None, *, generator=None)``: fill in place with integers drawn
        uniformly from ``[from, to - 1]`` (``random_(to)`` draws from ``[0, to - 1]``);
        returns ``self``. Without ``to`` the upper bound is the dtype's largest value, and for
        floating tensors ``2**mantissa`` (2**24 for float32, 2**53 for float64, 2**11 for
        float16) so that every value is exact, as PyTorch's documentation states; bool tensors
        get 0/1.

        Raises:
            RuntimeError: if ``from >= to``, or the range does not fit the dtype.
        """
        if len(args) == 1 and not kwargs:
            lo, hi = 0, args[0]
        else:
            lo, hi = _two_args("random_", args, kwargs, ("from", "to"), (0, None))
        dt = self._data.dtype
        if dt.kind == "f":
            top = 2 ** {2: 11, 4: 24, 8: 53}[dt.itemsize]
            dlo, dhi = -top, top
        elif dt.kind == "b":
            dlo, dhi = 0, 1
        else:
            info = np.iinfo(dt)
            dlo, dhi = int(info.min), int(info.max)
        lo = int(lo)
        if hi is None:
            hi = (top if dt.kind == "f" else dhi) + 1
        hi = int(hi)
        if lo >= hi:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                               f"from={lo} >= to={hi}")
        if lo < dlo or hi - 1 > dhi:
            raise RuntimeError(f"random_ expects 'from' and 'to' - 1 to be in [{dlo}, {dhi}] for "
                               f"a {_dt.dtype_name(dt)} tensor, but got from={lo}, to={hi}")
        rng = _random.get_rng(generator)
        draw = rng.integers(lo, hi - 1, self._data.shape, dtype=np.int64, endpoint=True) \
            if hi - 1 <= 2 ** 63 - 1 else rng.integers(lo, hi - 1, self._data.shape,
                                                        dtype=np.uint64, endpoint=True)
        return self._random_fill("random_", draw)

    def exponential_(self, lambd=1.0, *, generator=None):
        """Fill in place with samples of the exponential distribution with rate ``lambd``
        (density ``lambd * exp(-lambd * x)``, mean ``1 / lambd``); returns ``self``.

        Raises:
            RuntimeError: if ``lambd <= 0``, or for a non-floating tensor (as PyTorch).
        """
        self._random_kind("exponential_", "f", "Exponential")
        if not lambd > 0:
            raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
        return self._random_fill("exponential_", _random.get_rng(generator).exponential(
            1.0 / lambd, self._data.shape))

    def geometric_(self, p, *, generator=None):
        """Fill in place with samples of the geometric distribution: the number of Bernoulli
        trials up to and including the first success, ``P(X = k) = (1 - p)^(k - 1) p`` for
        ``k = 1, 2, ...``; works for floating and integer tensors; returns ``self``.

        Raises:
            RuntimeError: unless ``0 < p < 1`` (PyTorch's bound).
            NotImplementedError: for a bool tensor.
        """
        if not 0 < p < 1:
            raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
        self._random_kind("geometric_", "fiu")
        return self._random_fill("geometric_", _random.get_rng(generator).geometric(
            p, self._data.shape))

    def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
        """Fill in place with ``exp(N(mean, std^2))`` samples (the log-normal distribution whose
        logarithm has that mean and std); returns ``self``.

        Raises:
            RuntimeError: if ``std <= 0``.
            NotImplementedError: for a non-floating tensor.
        """
        if not std > 0:
            raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
        self._random_kind("log_normal_", "f")
        return self._random_fill("log_normal_", _random.get_rng(generator).lognormal(
            mean, std, self._data.shape))

    def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
        """Fill in place with samples of the Cauchy distribution, density
        ``1 / (pi * sigma * (1 + ((x - median) / sigma)^2))``; returns ``self``.

        Raises:
            RuntimeError: if ``sigma <= 0``, or for a non-floating tensor (as PyTorch).
        """
        self._random_kind("cauchy_", "f", "Cauchy")
        if not sigma > 0:
            raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
        return self._random_fill("cauchy_", median + sigma * _random.get_rng(
            generator).standard_cauchy(self._data.shape))

    # In-place shape changes (``x.unsqueeze_(0)``): they rebind this tensor to a view of its
    # own memory. Only for tensors that record nothing (no grad, or grad mode off).
    def _reshape_inplace(self, name, fn, *args):
        if grad_mode.grad_enabled() and self.requires_grad:
            raise RuntimeError(f"{name}: in-place shape changes of a tensor that requires grad "
                               f"are not supported by tapegrad; use the out-of-place form "
                               f"({name[:-1]}) instead")
        with grad_mode.no_grad():
            self._data = fn(self, *args)._data
        return self

    def unsqueeze_(self, dim):
        """In place :meth:`unsqueeze` (this tensor gets the new shape); returns ``self``.

        Raises:
            RuntimeError: for a tensor that requires grad under grad mode.
        """
        return self._reshape_inplace("unsqueeze_", _ops.unsqueeze, dim)

    def squeeze_(self, dim=None):
        """In place :meth:`squeeze`; returns ``self``.

        Raises:
            RuntimeError: for a tensor that requires grad under grad mode.
        """
        return self._reshape_inplace("squeeze_", _ops.squeeze, dim)

    def transpose_(self, dim0, dim1):
        """In place :meth:`transpose`; returns ``self``.

        Raises:
            RuntimeError: for a tensor that requires grad under grad mode.
        """
        return self._reshape_inplace("transpose_", _ops.transpose, dim0, dim1)

    def t_(self):
        """In place :meth:`t`; returns ``self``.

        Raises:
            RuntimeError: for a tensor that requires grad under grad mode.
        """
        return self._reshape_inplace("t_", _ops.t)

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        """In place :func:`autograd.scatter` (``x.scatter_(1, idx, 1)`` builds one-hot rows);
        returns ``self``."""
        return self._inplace("scatter_", lambda t: _ops.scatter(t, dim, index, src, value=value,
                                                               reduce=reduce))

    def index_add_(self, dim, index, source, *, alpha=1):
        """In place :func:`autograd.index_add` (repeated indices accumulate); returns
        ``self``."""
        return self._inplace("index_add_", lambda t, s: _ops.index_add(t, dim, index, s,
                                                                       alpha=alpha), source)

    def index_copy_(self, dim, index, source):
        """In place :func:`autograd.index_copy`; returns ``self``."""
        return self._inplace("index_copy_", lambda t, s: _ops.index_copy(t, dim, index, s),
                             source)

    def index_fill_(self, dim, index, value):
        """In place :func:`autograd.index_fill`; returns ``self``."""
        if isinstance(value, Tensor):
            return self._inplace("index_fill_", lambda t, v: _ops.index_fill(t, dim, index, v),
                                 value)
        return self._inplace("index_fill_", lambda t: _ops.index_fill(t, dim, index, value))

    def index_put_(self, indices, values, accumulate=False):
        """In place :func:`autograd.index_put`; returns ``self``."""
        if isinstance(values, Tensor):
            return self._inplace("index_put_", lambda t, v: _ops.index_put(
                t, indices, v, accumulate), values)
        return self._inplace("index_put_", lambda t: _ops.index_put(t, indices, values,
                                                                    accumulate))

    def masked_scatter_(self, mask, source):
        """In place :func:`autograd.masked_scatter`; returns ``self``."""
        return self._inplace("masked_scatter_", lambda t, s: _ops.masked_scatter(t, mask, s),
                             source)

    def put_(self, index, source, accumulate=False):
        """In place :func:`autograd.put` (flat positions); returns ``self``."""
        return self._inplace("put_", lambda t, s: _ops.put(t, index, s, accumulate), source)

    def scatter_add_(self, dim, index, src):
        """In place :func:`autograd.scatter_add`; returns ``self``."""
        return self._inplace("scatter_add_", lambda t, s: _ops.scatter_add(t, dim, index, s), src)

    # Everything else (x.sum(), x.reshape(...), ...) is an op function of autograd.ops installed
    # as a method by _register_methods below.

    @property
    def T(self):
        """The tensor with all dimensions reversed (a 2-D transpose)."""
        return _ops.permute(self, tuple(range(self._data.ndim - 1, -1, -1)))

    @property
    def mT(self):
        """Transpose of the last two dimensions (batched matrix transpose)."""
        return _ops.transpose(self, -2, -1)

    # --- shared memory (hogwild training across processes; see autograd._shared) ---
    def share_memory_(self):
        """Move the data into shared memory (``torch.Tensor.share_memory_``); returns ``self``.

        Afterwards a process that receives this tensor through :mod:`multiprocessing`
        (``autograd.multiprocessing``'s ``Process`` args, ``Queue``) maps the same memory, so
        in-place updates (optimizer steps) in any process are seen by all. A no-op if already
        shared. Difference from PyTorch: other tensors that were views of the old array keep
        the old memory (PyTorch moves the storage under them).
        """
        from . import _shared
        _shared.register_type(type(self))
        if not _shared.is_shared(self._data):
            self._data = _shared.share(self._data)
        if self._grad is not None:
            self._grad.share_memory_()
        return self

    def is_shared(self):
        """True if the data is in shared memory (after :meth:`share_memory_`)."""
        from . import _shared
        return _shared.is_shared(self._data)

    # --- sparse layout (dense-backed; see autograd.sparse) ---
    is_sparse = _constant_property(
        False, "False for a dense tensor (``autograd.sparse.SparseCOOTensor`` says True).")

    @property
    def layout(self):
        """``autograd.strided`` (``autograd.sparse_coo`` for a sparse tensor)."""
        from .sparse import strided
        return strided

    def to_sparse(self, sparse_dim=None):
        """A sparse COO copy (``torch.Tensor.to_sparse``; dense-backed, see
        :mod:`autograd.sparse`)."""
        from .sparse import to_sparse
        return to_sparse(self, sparse_dim)

    def to_dense(self, dtype=None, *, masked_grad=True):
        """``self`` for a dense tensor (converted to ``dtype`` if given)."""
        return self if dtype is None else self.to(dtype)

    # --- pickling and copying (pickle, copy, multiprocessing, autograd.save of whole objects) ---
    def __reduce_ex__(self, protocol):
        """Pickle as PyTorch pickles a tensor: its class (a subclass such as ``nn.Parameter``
        keeps its type), its array (dtype, shape and layout) and ``requires_grad``, plus the
        instance ``__dict__`` of a subclass that has one. As in PyTorch, ``.grad``,
        ``grad_fn`` and hooks are not pickled, so a non-leaf loads as a leaf. ``copy.copy``
        goes through here too and shares the array (PyTorch shares the storage)."""
        import copyreg
        extra = getattr(self, "__dict__", None) or None
        return copyreg.__newobj__, (type(self),), (self._data, self.requires_grad, extra)

    def __setstate__(self, state):
        """Restore what :meth:`__reduce_ex__` returned: ``(ndarray, requires_grad, dict or
        None)``.

        Raises:
            TypeError: for a state of any other form (a damaged or hostile pickle).
            RuntimeError: ``requires_grad=True`` for a non-floating array.
        """
        if not (type(state) is tuple and len(state) == 3 and isinstance(state[0], np.ndarray)
                and type(state[1]) is bool and (state[2] is None or type(state[2]) is dict)):
            raise TypeError(f"Tensor.__setstate__: expected (ndarray, bool, dict or None), got "
                            f"a {type(state).__name__}")
        data, requires_grad, extra = state
        self._data, self._grad, self.grad_fn = data, None, None
        self.requires_grad, self._vc, self._hooks = False, None, None
        if requires_grad:
            self.requires_grad_(True)
        if extra:
            if not hasattr(self, "__dict__"):
                raise TypeError(f"Tensor.__setstate__: {type(self).__name__} has no __dict__ "
                                "for the attributes in the pickle")
            self.__dict__.update(extra)

    def __deepcopy__(self, memo):
        """``copy.deepcopy``: a leaf with a copy of the array, the same ``requires_grad`` and
        type, and a deep copy of ``.grad`` (as ``torch.Tensor.__deepcopy__``).

        Raises:
            RuntimeError: for a non-leaf (PyTorch's message).
        """
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the "
                "deepcopy protocol at the moment.  If you were attempting to deepcopy a module, "
                "this may be because of a torch.nn.utils.weight_norm usage, see "
                "https://github.com/pytorch/pytorch/pull/103001")
        import copy
        new = memo.get(id(self))
        if new is None:
            new = memo[id(self)] = type(self).__new__(type(self))
            extra = getattr(self, "__dict__", None) or None
            new.__setstate__((copy.deepcopy(self._data, memo), self.requires_grad,
                              copy.deepcopy(extra, memo)))
            if self._grad is not None:
                new._grad = copy.deepcopy(self._grad, memo)
        return new


_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
                 "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                 "privateuseone")


class device_:
    """A device (``torch.device``): ``device("cuda")``, ``device("cuda:0")``,
    ``device("cpu", 0)``, ``device(type="mps")``, ``device(other_device)``.

    Any of PyTorch's device types can be named, so programs that pick a device build theirs,
    print it and compare it as in PyTorch (``device(type='cuda', index=0)``, ``str`` gives
    ``"cuda:0"``; equal when type and index are, so ``cuda != cuda:0``). Only the CPU holds
    tensors: placing a tensor or module anywhere else (``.to(d)``, ``.cuda()``,
    ``zeros(..., device=d)``, ``with d:``) raises a ``RuntimeError`` saying tapegrad runs on the
    CPU only.

    Attributes:
        type (str): ``"cpu"``, ``"cuda"``, ``"mps"`` ...
        index (int or None): the device index, if one was given.

    Differs from PyTorch: comparing with a string parses it (``device("cpu") == "cpu"`` is
    True; PyTorch compares only device objects and says False), and another library's device
    object (anything with a string ``type`` and an ``index``, e.g. a ``torch.device``) is
    accepted, so ``map_location=torch.device("cpu")`` works.

    Raises:
        RuntimeError: PyTorch's messages for an unknown type ("Expected one of cpu, cuda, ...
            device type at start of device string: gpu"), a malformed string, a negative
            index, an index given twice; for a bare int (an accelerator index: none exists).
        TypeError: for an argument that is neither a string nor a device.
    """

    __slots__ = ("type", "index")

    def __init__(self, type=None, index=None):  # noqa: A002 - PyTorch's argument name
        if isinstance(type, device_):
            if index is not None:
                raise RuntimeError("device: an index cannot be given with a device object")
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, numbers.Integral) and not isinstance(type, bool):
            if type < 0:
                raise RuntimeError("Device index must not be negative")
            raise RuntimeError("Cannot access accelerator device when none is available.")
        if (index is None and not isinstance(type, str) and isinstance(
                getattr(type, "type", None), str)):  # another library's device (torch.device)
            type, index = type.type, getattr(type, "index", None)
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments - got "
                            f"({builtins.type(type).__name__}), but expected one of: "
                            "(torch.device device), (str type, int index = -1)")
        if not type:
            raise RuntimeError("Device string must not be empty")
        name, sep, idx = type.partition(":")
        if name not in _DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start "
                               f"of device string: {type}")
        if sep:
            if not (idx.isdigit() and idx.isascii()) or (len(idx) > 1 and idx[0] == "0"):
                raise RuntimeError(f"Invalid device string: '{type}'")
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was "
                                   f"passed explicitly: {type}")
            index = int(idx)
        if index is not None:
            if not isinstance(index, numbers.Integral) or isinstance(index, bool):
                raise TypeError(f"device(): argument 'index' (position 2) must be int, not "
                                f"{builtins.type(index).__name__}")
            if index < 0:
                raise RuntimeError("Device index must not be negative")
            index = int(index)
        self.type = name
        self.index = index

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device_(other)
            except RuntimeError:
                return False
        if not isinstance(other, device_):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __reduce__(self):
        return (device_, (self.type, self.index))

    def __enter__(self):
        """``with autograd.device("cpu"):`` is accepted (a no-op: tensors are created on the
        CPU anyway); any other device raises, as nothing can be created there."""
        _require_cpu(self, "with device(...)")
        return self

    def __exit__(self, *exc):
        return False


_CPU = device_("cpu")


def _is_device(a):
    """True for what ``to(...)`` reads as a device: a device, a string, an int accelerator
    index, or another library's device object (a string ``type`` attribute)."""
    return (isinstance(a, (str, device_)) or isinstance(getattr(a, "type", None), str)
            or (isinstance(a, numbers.Integral) and not isinstance(a, builtins.bool)))


def _to_dtype_arg(args, kwargs, what, unexpected):
    """The dtype that a ``to(*args, **kwargs)`` call asks for (``None`` for none), shared by
    ``Tensor.to`` and ``nn.Module.to``: a positional argument is a device (:func:`_is_device`),
    a Tensor (its dtype) or a dtype; the keywords ``dtype``, ``device``, ``non_blocking`` and
    ``memory_format`` (the last two ignored). The device must be the CPU.

    Raises:
        TypeError: for any other keyword, as ``unexpected`` followed by their sorted names.
        RuntimeError: for a device other than the CPU (:func:`_require_cpu`, naming ``what``).
    """
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"{unexpected} {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif _is_device(a):
            device = a
        elif a is not None:
            dtype = a
    _require_cpu(device, what)
    return dtype


def _require_cpu(device, what):
    """Check that ``device`` (a device, a string, an int index or ``None``) is the CPU.

    Raises:
        RuntimeError: for any other device, naming ``what`` and saying tapegrad runs on the
            CPU only.
    """
    if device is None or device is _CPU:
        return
    if isinstance(device, numbers.Integral) and not isinstance(device, bool):
        name = f"accelerator index {int(device)}"
    else:
        d = device if isinstance(device, device_) else device_(device)
        if d.type == "cpu":
            return
        name = f"'{d}'"
    raise RuntimeError(
        f"{what}: tapegrad runs on the CPU only, so nothing can be placed on {name}: there is "
        "no GPU or other accelerator backend (autograd.cuda.is_available() and "
        "autograd.accelerator.is_available() are False). Use the CPU, e.g. device = "
        "autograd.accelerator.current_accelerator() if autograd.accelerator.is_available() "
        "else autograd.device('cpu').")


def _two_args(op, args, kwargs, names, defaults):
    """Two optional parameters given positionally or by name (``from``/``to`` are Python
    keywords, so ``uniform_``/``random_`` take ``*args, **kwargs``).

    Raises:
        TypeError: for unexpected or repeated arguments.
    """
    if len(args) > 2:
        raise TypeError(f"{op}() takes at most 2 positional arguments ({len(args)} given)")
    vals = list(args) + list(defaults[len(args):])
    for k, v in kwargs.items():
        if k not in names:
            raise TypeError(f"{op}() got an unexpected keyword argument '{k}'")
        i = names.index(k)
        if i < len(args):
            raise TypeError(f"{op}() got multiple values for argument '{k}'")
        vals[i] = v
    return vals[0], vals[1]


def _is_size(args):
    return all(isinstance(a, numbers.Integral) and not isinstance(a, (bool, np.bool_))
               for a in args)


def _is_size_type(obj):
    return type(obj).__name__ == "Size" and type(obj).__module__ == "autograd.factories"


def _legacy_empty(sizes):
    """``torch.Tensor(*sizes)``: an uninitialised default-dtype array of that shape."""
    if not _is_size(sizes):
        raise TypeError(f"Tensor(): expected sizes (ints) or one sequence of data, got "
                        f"{sizes!r}")
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"Tensor(): Trying to create tensor with negative dimension: "
                           f"{list(sizes)}")
    return np.empty(tuple(int(s) for s in sizes), _dt.get_default_dtype())


def _wrap_dim(dim, ndim, op):
    """Normalise a possibly negative ``dim`` for a tensor of ``ndim`` dimensions.

    Raises:
        IndexError: PyTorch's "Dimension out of range" message, naming the op.
    """
    n = max(ndim, 1)
    if dim.__class__ is int and -n <= dim < n:  # the common case, without the ABC check
        return dim + n if dim < 0 else dim
    if not isinstance(dim, (numbers.Integral,)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    if dim < -n or dim >= n:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {dim})")
    return dim + n if dim < 0 else dim


def _to_array(data, dtype):
    """Convert Python data (numbers, nested lists, arrays, tensors) to an ndarray following
    PyTorch's inference: floats -> default dtype, ints -> int64, bools -> bool."""
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        arr = np.array([_to_array(x, None) for x in data])
    else:
        arr = np.asarray(data)
    if dtype is not None:
        return arr.astype(dtype, copy=False)
    kind = arr.dtype.kind
    if kind == "f" and not isinstance(data, np.ndarray) and arr.dtype != _dt.get_default_dtype():
        arr = arr.astype(_dt.get_default_dtype())
    elif kind in "iu" and not isinstance(data, np.ndarray) and arr.dtype != np.int64:
        arr = arr.astype(np.int64)
    elif kind == "O" or kind in "US":
        raise TypeError(f"tensor: can't convert {type(data).__name__} of {arr.dtype} to a tensor")
    return arr


def _flat(data):
    for x in data:
        if isinstance(x, (list, tuple)):
            yield from _flat(x)
        else:
            yield x


def _format(t):
    """PyTorch-style repr: ``tensor([1., 2.], requires_grad=True)``."""
    a = t._data
    extras = []
    kind = a.dtype.kind
    if kind == "f":
        finite = a[np.isfinite(a)].astype(np.float64)  # float16 cannot hold 1e8
        if finite.size and np.all(finite == np.round(finite)) and np.abs(finite).max() < 1e8:
            opts = dict(floatmode="unique", precision=0)
            formatter = {"float_kind": _padded(_int_float, finite)}
        else:
            large = finite.size and (np.abs(finite).max() >= 1e8 or
                                     (np.abs(finite[finite != 0]).min(initial=1) < 1e-4))
            opts = dict(floatmode="fixed", precision=4)
            formatter = ({"float_kind": _padded(lambda v: f"{v:.4e}", finite)} if large
                         else None)
        body = np.array2string(a, separator=", ", prefix="tensor(", formatter=formatter,
                               threshold=1000, edgeitems=3, **opts)
        if a.dtype != _dt.get_default_dtype():
            extras.append(f"dtype=autograd.{_dt.dtype_name(a.dtype)}")
    else:
        body = np.array2string(a, separator=", ", prefix="tensor(", threshold=1000, edgeitems=3)
        if a.dtype != np.int64 and kind != "b":
            extras.append(f"dtype=autograd.{_dt.dtype_name(a.dtype)}")
        if kind == "b" and a.size == 0:
            extras.append("dtype=autograd.bool")
    if a.size == 0:
        body = "[]" if a.ndim <= 1 else body
        if a.ndim > 1:
            extras.insert(0, f"size={tuple(a.shape)}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"


def _padded(fmt, finite):
    """``fmt`` right-aligned to the widest finite value, as PyTorch pads its columns
    (``tensor([ 1., 23.])``); non-finite values are padded to that width, never widen it."""
    width = 0
    if finite.size:
        width = max(len(fmt(finite.max())), len(fmt(finite.min())))
    return lambda v: fmt(v).rjust(width)


def _int_float(v):
    if not np.isfinite(v):
        return str(v)
    return f"{int(v)}."


def _register_methods(methods):
    """Install op functions as Tensor methods (``x.sum()`` calls ``autograd.sum(x)``)."""
    for name, fn in methods.items():
        setattr(Tensor, name, fn)


from . import engine as _engine  # noqa: E402
from . import graph as _graph  # noqa: E402
from .utils.hooks import add_hook as _add_hook  # noqa: E402
from . import ops as _ops  # noqa: E402
from .ops.arithmetic import AddScalar as _AddScalar, MulScalar as _MulScalar, SubScalar as _SubScalar, DivScalar as _DivScalar  # noqa: E402,E501
from . import random as _random  # noqa: E402
from .factories import Size as _Size  # noqa: E402


# ---- the operators ---------------------------------------------------------------------------
def _binary_operator(name, op, scalar_node=None, reflected=False):
    """The Tensor method ``name`` (``"__add__"``): ``op(self, other)``, or ``op(other, self)``
    when ``reflected`` (``__radd__``: ``2 + x``). With ``scalar_node``, a Python float or int
    with a floating tensor skips straight to that node: the commonest op in a model
    (``x * scale``, ``h + 1e-5``) and the subject of the per-op overhead benchmark
    (``tiny_ops``); anything else goes through ``op``, which promotes dtypes
    (``autograd.ops._pointwise._operands``). ``scalar_node.apply`` is looked up at each call, so
    that a trace that swaps ``Node.apply`` (``autograd.onnx``) sees these ops too."""
    if scalar_node is None and not reflected:
        def method(self, other):
            return op(self, other)
    elif scalar_node is None:
        def method(self, other):
            return op(other, self)
    elif not reflected:
        def method(self, other):
            if (other.__class__ is float or other.__class__ is int) and \
                    self._data.dtype.kind == "f":
                return scalar_node.apply(self, other)
            return op(self, other)
    else:  # only for the commuting add and mul: number + tensor is tensor + number
        def method(self, other):
            if (other.__class__ is float or other.__class__ is int) and \
                    self._data.dtype.kind == "f":
                return scalar_node.apply(self, other)
            return op(other, self)
    args = "other, self" if reflected else "self, other"
    return _tensor_method(method, name, f"``autograd.{op.__name__}({args})``.")


def _unary_operator(name, op):
    """The Tensor method ``name`` (``"__neg__"``): ``op(self)``."""
    def method(self):
        return op(self)
    return _tensor_method(method, name, f"``autograd.{op.__name__}(self)``.")


for _name, _op, _node in (
        ("__add__", _ops.add, _AddScalar), ("__sub__", _ops.sub, _SubScalar),
        ("__mul__", _ops.mul, _MulScalar), ("__truediv__", _ops.div, _DivScalar),
        ("__pow__", _ops.pow, None), ("__matmul__", _ops.matmul, None),
        ("__floordiv__", _ops.floor_divide, None), ("__mod__", _ops.remainder, None),
        ("__eq__", _ops.eq, None), ("__ne__", _ops.ne, None), ("__lt__", _ops.lt, None),
        ("__le__", _ops.le, None), ("__gt__", _ops.gt, None), ("__ge__", _ops.ge, None),
        ("__and__", _ops.bitwise_and, None), ("__or__", _ops.bitwise_or, None),
        ("__xor__", _ops.bitwise_xor, None)):
    setattr(Tensor, _name, _binary_operator(_name, _op, _node))
# the reflected operators (``2 * x``); only the commuting add and mul have a fast path
for _name, _op, _node in (
        ("__radd__", _ops.add, _AddScalar), ("__rsub__", _ops.sub, None),
        ("__rmul__", _ops.mul, _MulScalar), ("__rtruediv__", _ops.div, None),
        ("__rpow__", _ops.pow, None), ("__rmatmul__", _ops.matmul, None),
        ("__rand__", _ops.bitwise_and, None), ("__ror__", _ops.bitwise_or, None),
        ("__rxor__", _ops.bitwise_xor, None)):
    setattr(Tensor, _name, _binary_operator(_name, _op, _node, reflected=True))
for _name, _op in (("__neg__", _ops.neg), ("__abs__", _ops.abs),
                   ("__invert__", _ops.bitwise_not)):
    setattr(Tensor, _name, _unary_operator(_name, _op))
del _name, _op, _node
