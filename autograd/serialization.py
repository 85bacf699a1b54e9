"""Saving and loading: ``autograd.save`` / ``autograd.load`` (``torch.save`` / ``torch.load``)
in a documented safetensors format: tensors and state dicts are stored with no pickle at all;
whole objects (a ``Module``, anything picklable) add a pickle section that, as in PyTorch 2.6+,
``load`` refuses to run unless it holds only allowlisted classes (``weights_only=True``, the
default) or the caller says the file is trusted (``weights_only=False``).

What ``save`` stores without pickle (a "plain" file): ``Tensor`` and ``nn.Parameter`` (dtypes
bool, uint8/16/32/64, int8/16/32/64, float16/32/64, complex64), NumPy arrays and scalars of those
dtypes, ``None``, ``bool``, ``int``, ``float`` (including nan and +-inf), ``str``, ``bytes``,
NumPy dtypes, and ``list``, ``tuple``, ``dict`` and ``collections.OrderedDict`` nested up to 64
levels (dict keys: ``None``, bool, int, float, str or tuples of those). That covers
``Module.state_dict()``, ``Optimizer.state_dict()``, scheduler state dicts and checkpoints such
as ``{"model": ..., "optim": ..., "epoch": 3}``. Anything else (a ``Module``, an ``Optimizer``,
a set, a namedtuple, a subclass of those types, a reference cycle, an array of another dtype,
deeper nesting) makes the whole object go into a pickle section, its arrays still stored as
safetensors tensors (see below).

File format
-----------
A file written by :func:`save` is a standard safetensors file
(https://huggingface.co/docs/safetensors/): an unsigned 64-bit little-endian header length ``N``,
then ``N`` bytes of UTF-8 JSON header (padded with spaces so that the data starts at a multiple
of 8 bytes), then the raw little-endian bytes of the arrays, contiguous, largest item size first.
Any safetensors reader (``safetensors.numpy.load_file``, ``safetensors.torch.load_file``, the
Rust crate) reads the arrays; tapegrad adds the structure of the saved object as three string
entries of the header's ``__metadata__``:

``"tapegrad.format"``
    the format version: ``"1"`` for a plain file, ``"2"`` for a file with a pickle section
    (older tapegrad versions read format 1 and say that format 2 needs an upgrade).
``"tapegrad.structure"``
    JSON (ASCII) describing the saved object as a tree of nodes (below).
``"tapegrad.crc32"``
    JSON ``{"structure": C, "tensors": {NAME: C, ...}}`` with CRC-32 checksums (``zlib.crc32``):
    of the ``"tapegrad.structure"`` string (UTF-8), and for each array (the pickle section
    included) of ``f"{NAME}\\0{DTYPE}\\0{SHAPE}"`` (UTF-8; ``DTYPE`` the safetensors dtype such
    as ``F32``, ``SHAPE`` the dims joined by ``","``) continued over the array's raw bytes, i.e.
    ``zlib.crc32(data, zlib.crc32(prefix))``. :func:`load` checks them all and that the three
    entries are present together, so a damaged file (one flipped byte anywhere) is reported
    instead of silently loaded.

A node of ``"tapegrad.structure"`` is one of:

- JSON ``null``, ``true``, ``false``, a string, an integer (no fraction or exponent: a Python
  ``int``, any size) or a number with a fraction or exponent (a Python ``float``);
- a JSON array: a Python ``list`` of the nodes it holds;
- a JSON object with a ``"type"`` member:

  - ``{"type": "float", "value": "nan" | "inf" | "-inf"}``: a non-finite float;
  - ``{"type": "tuple", "items": [node, ...]}``;
  - ``{"type": "dict", "items": [[key node, value node], ...]}`` and the same with
    ``"type": "OrderedDict"``: a ``dict`` / ``OrderedDict``, in order (keys keep their types, so
    the integer parameter ids of an optimizer's ``state`` stay integers);
  - ``{"type": "tensor", "name": NAME, "requires_grad": bool}``: a ``Tensor`` whose data is the
    safetensors array ``NAME``; with ``"parameter": true`` it is an ``nn.Parameter``;
  - ``{"type": "ndarray", "name": NAME}``: a NumPy array;
  - ``{"type": "numpy_scalar", "name": NAME}``: a NumPy scalar, stored as a 0-d array;
  - ``{"type": "bytes", "base64": STRING}``;
  - ``{"type": "dtype", "name": STRING}``: a NumPy dtype of the list above (``"float32"``).

  Nesting is limited to 64 levels; :func:`load` refuses deeper structures, other node types and
  dtypes ``save`` never writes (``object``, ``datetime64`` ...).

In a plain file each array is named by its path from the saved object, dict keys and list
indices joined by ``"."`` (``"fc.weight"``, ``"state.0.exp_avg"``; a lone tensor, or a path that
is empty or not valid UTF-8, is ``"tensor"``; a clash, or a reserved name (``"__metadata__"``,
``"tapegrad.pickle"``), gets a ``"#2"``, ``"#3"`` ... suffix). So a module's state dict, a flat
dict of tensors, is stored under its own key names and ``safetensors.torch.load_file`` gives
PyTorch the same dict. Tensors and arrays that are the same memory (same data pointer, shape,
strides and dtype: tied weights, the same tensor in two places) are stored once, under the first
path, and load as one array shared by every place (as ``torch.load`` shares storages). Arrays
that only partly overlap are stored separately.

The pickle section (format 2)
-----------------------------
The structure is then the single root node::

    {"type": "pickle", "name": "tapegrad.pickle", "protocol": P,
     "refs": [[KIND, VALUE], ...]}

``"tapegrad.pickle"`` is a 1-D ``U8`` safetensors array holding a pickle stream (protocol ``P``,
``pickle_protocol`` of :func:`save`, default 2 as in PyTorch) of the object. Every NumPy array
(of a dtype above), NumPy scalar and dtype in the object, so every Tensor's data, is pickled as a
persistent id (``pickle``'s ``persistent_id``): the ASCII decimal index ``i`` of ``refs``, where
``refs[i]`` is ``["ndarray", NAME]`` or ``["numpy_scalar", NAME]`` (the safetensors array
``NAME``) or ``["dtype", DTYPE NAME]``. So tensor data is never inside the pickle, is stored once
however often it is referenced, and is readable by any safetensors reader; the arrays of a saved
``Module`` are named by its ``state_dict()`` keys, others ``"pickle.0"``, ``"pickle.1"`` ...
A ``Tensor`` pickles as ``copyreg.__newobj__(cls)`` plus the state ``(array, requires_grad,
instance dict or None)`` (``Tensor.__reduce_ex__``): ``.grad``, ``grad_fn`` and hooks are not
pickled, as in PyTorch.

Loading whole objects: ``weights_only``
---------------------------------------
``load(f)`` defaults to ``weights_only=True`` (PyTorch 2.6+). Plain files need no pickle and
always load. A pickle section is then run by a restricted unpickler (a subclass of Python's
pure-Python ``pickle._Unpickler``) that resolves only allowlisted globals, by default what
PyTorch's allows that can occur here: ``Tensor``, ``nn.Parameter``, ``autograd.device``,
``collections.OrderedDict``, ``set``, ``complex``, ``bytearray`` and ``_codecs.encode`` (only as
protocol 2 stores ``bytearray`` and ``bytes``: from a str and ``'latin-1'``), plus what
:func:`add_safe_globals` / :class:`safe_globals` add; it sets state (``BUILD``) only on
instances of allowlisted classes, never calls a Tensor class (tensors are rebuilt from their
saved arrays only) and checks that every tensor got its data. Anything else, a ``Module`` class,
a function, ``os.system``, raises a :class:`SerializationError` (also a
``pickle.UnpicklingError``, what PyTorch raises) naming the refused global and giving PyTorch's
guidance: ``weights_only=False`` will likely load it but can run arbitrary code, so only for
files from a trusted source; or allowlist the class with :func:`add_safe_globals`.
``weights_only=False`` unpickles with ``pickle_module`` (default ``pickle``): **unsafe**, exactly
as ``torch.load(weights_only=False)``: a hostile file runs code.

Files that other tools wrote
----------------------------
A safetensors file without ``"tapegrad."`` metadata (e.g. one written by
``safetensors.torch.save_file(model.state_dict(), path)``) loads as a flat ``dict`` name ->
``Tensor``, ready for ``model.load_state_dict``. bfloat16 arrays (``BF16``, which NumPy cannot
hold) are widened to float32 exactly; the float8 types raise :class:`SerializationError`.

Safety and errors
-----------------
:func:`save` to a path writes a temporary file ``.NAME.HOST.PID.RANDOM.tmp`` in the same
directory (``HOST`` 8 hex digits of the host name's CRC-32, ``PID`` the writer's process id,
``RANDOM`` 12 hex digits and an attempt digit) while holding an exclusive ``flock`` on it (taken
on the same name ending ``.new``, renamed to ``.tmp`` once locked, so a ``.tmp`` file is locked
from the moment it has its name), fsyncs it, then ``os.replace``-s it over the target (and fsyncs
the directory), so an exception, a full disk or a kill while saving leaves any previous file
intact. Each save first reclaims the temporary files of the same target that killed saves left:
those no live process holds locked and that either nobody modified for an hour or whose writer
process (same host) is gone (a zombie counts as gone); a temporary file another live process is
writing is never removed (a ``.new`` file removed in the instant before its writer locked it,
which only a writer in another pid namespace can suffer, is simply created again). Write errors,
a full disk included, raise ``OSError``.

:func:`load` reads the header and the data through one file descriptor (so a concurrent atomic
save cannot mix two files) into arrays it owns, after checking the header against the file size
(no allocation larger than the file), the tensors' offsets (contiguous, no overlap, no gap),
shapes (non-negative, matching their byte sizes), dtypes, duplicate JSON keys, UTF-8 and
nesting. An empty, truncated, corrupted or foreign file (a raw pickle, PyTorch's ``torch.save``
zip, a ``.npy``/``.npz``) raises :class:`SerializationError` (a ``ValueError``) naming the file
and what is wrong.

Differences from PyTorch: the format is safetensors + JSON (+ a pickle section for whole
objects), not a pickle in a zip archive, so ``torch.load`` cannot read these files
(``safetensors.torch.load_file`` reads their tensors) and this ``load`` cannot read ``torch.save``
files; a tensor's ``.grad`` is not saved (as in PyTorch); ``mmap`` is accepted and ignored (the
arrays are read into memory the result owns); every tensor loads on the CPU.
"""

import base64
import io
import json
import math
import os
import pickle
import re
import stat
import threading
import time
import warnings
import zlib
from collections import OrderedDict

import numpy as np

from .tensor import Tensor, device_

__all__ = ["save", "load", "SerializationError", "add_safe_globals", "safe_globals",
           "get_safe_globals", "clear_safe_globals"]

FORMAT_VERSION = 2        # the newest format this module reads (and writes with a pickle)
_PLAIN_FORMAT = 1         # the format of files without a pickle section
_KEY_FORMAT = "tapegrad.format"
_KEY_STRUCTURE = "tapegrad.structure"
_KEY_CRC = "tapegrad.crc32"
_PICKLE_NAME = "tapegrad.pickle"
_RESERVED_NAMES = ("__metadata__", _PICKLE_NAME)
_DEFAULT_PROTOCOL = 2     # torch.serialization.DEFAULT_PROTOCOL
_MAX_DEPTH = 64           # structure nesting; deeper objects are pickled
_MAX_HEADER = 100_000_000  # safetensors' own limit on the JSON header
_MAX_DIM = 2 ** 62
_CHUNK = 1 << 26          # bytes per read/write call
_STALE_AFTER_S = 3600.0   # a temporary file untouched this long is stale whoever wrote it

# NumPy dtype -> safetensors dtype name, for what we write; and what we read back.
_SAVE_DTYPES = {
    np.dtype(np.bool_): "BOOL", np.dtype(np.uint8): "U8", np.dtype(np.int8): "I8",
    np.dtype(np.int16): "I16", np.dtype(np.uint16): "U16", np.dtype(np.int32): "I32",
    np.dtype(np.uint32): "U32", np.dtype(np.int64): "I64", np.dtype(np.uint64): "U64",
    np.dtype(np.float16): "F16", np.dtype(np.float32): "F32", np.dtype(np.float64): "F64",
    np.dtype(np.complex64): "C64",
}
_LOAD_DTYPES = {name: dt for dt, name in _SAVE_DTYPES.items()}
_DTYPE_BY_NAME = {dt.name: dt for dt in _SAVE_DTYPES}
_PARAMETER = "nn.parameter.Parameter"


class SerializationError(ValueError):
    """A file given to :func:`autograd.load` is not a valid file: empty, truncated, corrupted,
    or of a foreign format (pickle, ``torch.save`` zip, ``.npy``); or, with
    ``weights_only=True``, its pickle section needs a global that is not allowlisted (that error
    is also a ``pickle.UnpicklingError``, as PyTorch's). The message names the file and what is
    wrong."""


class _WeightsOnlyError(SerializationError, pickle.UnpicklingError):
    """``weights_only=True`` refused a global or an operation of a pickle section."""


def _parameter_class():
    """``nn.Parameter``, imported by name on first need: ``autograd`` does not depend on
    ``nn``, but a file can hold Parameters. ``None`` if ``nn`` cannot be imported."""
    import importlib
    try:
        return importlib.import_module("nn.parameter").Parameter
    except (ImportError, AttributeError):
        return None


def _is_parameter(obj):
    t = type(obj)
    return t.__name__ == "Parameter" and t.__module__ == "nn.parameter"


# ---- the allowlist of weights_only=True ---------------------------------------------------------
def _latin1_encode(obj, encoding="utf-8", errors="strict"):
    """``_codecs.encode`` as pickle protocol 2 uses it for ``bytes``: str -> latin-1 bytes."""
    if type(obj) is not str or encoding not in ("latin1", "latin-1") or errors != "strict":
        raise pickle.UnpicklingError("_codecs.encode is allowed only as pickle uses it for "
                                     "bytes (a str and 'latin1')")
    return obj.encode("latin-1")


def _bytearray(*args):
    """``bytearray`` as pickle protocols 2-4 use it: from bytes, or a str and 'latin-1' (never
    from a size, which would allocate what the file asks)."""
    if not (args == () or (len(args) == 1 and type(args[0]) is bytes)
            or (len(args) == 2 and type(args[0]) is str and args[1] in ("latin1", "latin-1"))):
        raise pickle.UnpicklingError("bytearray is allowed only as pickle uses it (from bytes, "
                                     "or a str and 'latin-1')")
    return bytearray(*args)


# What weights_only=True allows by default: what PyTorch's weights-only unpickler allows that
# can occur here (tensors, OrderedDict, set, complex, bytes and bytearray as protocol 2 writes
# them), plus tapegrad's device.
_DEFAULT_SAFE_GLOBALS = {
    "autograd.tensor.Tensor": Tensor, "autograd.tensor.device_": device_,
    "collections.OrderedDict": OrderedDict, "builtins.set": set, "builtins.complex": complex,
    "builtins.bytearray": _bytearray, "_codecs.encode": _latin1_encode,
}
_user_safe_globals = {}   # full name -> object
_safe_lock = threading.Lock()


def _global_name(obj):
    return f"{obj.__module__}.{obj.__qualname__}"


def _normalise_safe_globals(entries, where):
    if not isinstance(entries, (list, tuple)):
        raise TypeError(f"{where}: expected a list of globals, got {type(entries).__name__}")
    out = {}
    for e in entries:
        if isinstance(e, tuple):
            if len(e) != 2 or not isinstance(e[1], str):
                raise TypeError(f"{where}: a tuple entry must be (global, 'module.name'), got "
                                f"{e!r}")
            out[e[1]] = e[0]
        else:
            if not (hasattr(e, "__module__") and hasattr(e, "__qualname__")):
                raise TypeError(f"{where}: {e!r} is not a class or function (give (obj, "
                                "'module.name') for other objects)")
            out[_global_name(e)] = e
    return out


def add_safe_globals(safe_globals):
    """Allowlist globals for ``load(..., weights_only=True)``
    (``torch.serialization.add_safe_globals``).

    Args:
        safe_globals (list): classes or functions, or ``(obj, "module.qualname")`` tuples for
            an object pickled under another name. A pickle names each global
            ``f"{obj.__module__}.{obj.__qualname__}"``.

    Allowlisted classes can be instantiated and have their state set while loading, and
    allowlisted functions can be called with arguments from the file: add only what you
    trust with any arguments.

    Raises:
        TypeError: for an entry that is neither a class/function nor such a tuple.

    Example::

        autograd.serialization.add_safe_globals([MyNet, nn.Linear, nn.ReLU])
        net = autograd.load("net.safetensors")   # weights_only=True
    """
    entries = _normalise_safe_globals(safe_globals, "add_safe_globals")
    with _safe_lock:
        _user_safe_globals.update(entries)


def get_safe_globals():
    """The globals added by :func:`add_safe_globals` (``torch.serialization.get_safe_globals``):
    a list of objects, or ``(obj, name)`` tuples where the name differs from the object's."""
    with _safe_lock:
        items = list(_user_safe_globals.items())
    return [obj if _safe_name(obj) == name else (obj, name) for name, obj in items]


def _safe_name(obj):
    try:
        return _global_name(obj)
    except AttributeError:
        return None


def clear_safe_globals():
    """Forget every global added by :func:`add_safe_globals`
    (``torch.serialization.clear_safe_globals``)."""
    with _safe_lock:
        _user_safe_globals.clear()


class safe_globals:
    """Context manager that allowlists globals for ``weights_only=True`` loads inside it
    (``torch.serialization.safe_globals``); on exit the ones it added are removed.

    Args:
        safe_globals (list): as for :func:`add_safe_globals`.

    Example::

        with autograd.serialization.safe_globals([MyNet, nn.Linear]):
            net = autograd.load("net.safetensors")
    """

    def __init__(self, safe_globals):
        self._entries = _normalise_safe_globals(safe_globals, "safe_globals")
        self._added = []

    def __enter__(self):
        with _safe_lock:
            self._added = [k for k in self._entries if k not in _user_safe_globals]
            _user_safe_globals.update(self._entries)
        return self

    def __exit__(self, *exc):
        with _safe_lock:
            for k in self._added:
                _user_safe_globals.pop(k, None)
        return False


_MISSING = object()


def _allowed_global(full):
    with _safe_lock:
        obj = _user_safe_globals.get(full, _MISSING)
    if obj is _MISSING:
        obj = _DEFAULT_SAFE_GLOBALS.get(full, _MISSING)
    if obj is _MISSING and full == _PARAMETER:
        obj = _parameter_class() or _MISSING
    return obj


def _allowed_instance(inst):
    """Whether ``BUILD`` (setting state) is allowed on ``inst``: an instance of an allowlisted
    class (not a class object, not a builtin container)."""
    t = type(inst)
    if t in (Tensor, device_, OrderedDict) or _is_parameter(inst):
        return True
    with _safe_lock:
        return any(obj is t for obj in _user_safe_globals.values())


def _weights_only_message(name, refused, what):
    return (
        f"autograd.load: Weights only load failed for {name}: {what}. Like torch.load since "
        "PyTorch 2.6, autograd.load defaults to weights_only=True, which loads tensors, "
        "containers and allowlisted classes only. This file can still be loaded, to do so you "
        "have two options; do those steps only if you trust the source of the file.\n"
        "\t(1) Re-running autograd.load with `weights_only` set to `False` will likely succeed, "
        "but it can result in arbitrary code execution (the file's pickle section runs). Do it "
        "only if you got the file from a trusted source.\n"
        "\t(2) Alternatively, to load with `weights_only=True`, allowlist what the file needs "
        "if you trust it: WeightsUnpickler error: Unsupported global: GLOBAL "
        f"{refused} was not an allowed global by default. Please use "
        f"`autograd.serialization.add_safe_globals([{refused}])` or the "
        f"`autograd.serialization.safe_globals([{refused}])` context manager to allowlist this "
        "global if you trust this class/function.")


class _WeightsUnpickler(pickle._Unpickler):
    """The restricted unpickler of ``weights_only=True`` (see the module docstring)."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, persistent_load, name):
        super().__init__(file)
        self._pload = persistent_load
        self._name = name
        self._tensors = []

    def persistent_load(self, pid):
        return self._pload(pid)

    def find_class(self, module, name):
        if self.proto < 3 and self.fix_imports:   # Python 2 names, as pickle.Unpickler maps
            import _compat_pickle
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        full = f"{module}.{name}"
        obj = _allowed_global(full)
        if obj is _MISSING:
            raise _WeightsOnlyError(_weights_only_message(
                self._name, full, f"its pickle section needs the global {full} (a class or "
                "function from code outside the file), which is not allowlisted"))
        return obj

    def _refuse(self, what, refused):
        raise _WeightsOnlyError(_weights_only_message(self._name, refused, what))

    def load_build(self):
        inst = self.stack[-2]
        if not _allowed_instance(inst):
            kind = inst if isinstance(inst, type) else type(inst)
            self._refuse(f"its pickle section sets the state of "
                         f"{'the class' if isinstance(inst, type) else 'an object of type'} "
                         f"{_safe_name(kind)}, which is not allowlisted", _safe_name(kind))
        pickle._Unpickler.load_build(self)
    dispatch[pickle.BUILD[0]] = load_build

    def load_reduce(self):
        func = self.stack[-2]
        if isinstance(func, type) and issubclass(func, Tensor):
            raise SerializationError(f"autograd.load: {self._name} is corrupted: its pickle "
                                     "section calls a Tensor class (tensors are rebuilt only "
                                     "from their saved arrays)")
        pickle._Unpickler.load_reduce(self)
    dispatch[pickle.REDUCE[0]] = load_reduce

    def _record(self):
        if isinstance(self.stack[-1], Tensor):
            self._tensors.append(self.stack[-1])

    def load_newobj(self):
        pickle._Unpickler.load_newobj(self)
        self._record()
    dispatch[pickle.NEWOBJ[0]] = load_newobj

    def load_newobj_ex(self):
        pickle._Unpickler.load_newobj_ex(self)
        self._record()
    dispatch[pickle.NEWOBJ_EX[0]] = load_newobj_ex

    def load(self):
        out = super().load()
        for t in self._tensors:
            if not hasattr(t, "_data"):
                raise SerializationError(f"autograd.load: {self._name} is corrupted: its pickle "
                                         "section creates a tensor without data")
        return out


# ---- save: the structure ------------------------------------------------------------------------
class _NeedsPickle(Exception):
    """The object holds something the plain structure cannot (it is pickled instead)."""


def _memory_ident(arr):
    return (arr.__array_interface__["data"][0], arr.shape, arr.strides, arr.dtype.str)


class _Encoder:
    """Turns a Python object into a JSON-able structure tree plus named contiguous arrays."""

    def __init__(self):
        self.arrays = {}     # name -> C-contiguous little-endian array
        self.by_memory = {}  # (data pointer, shape, strides, dtype) -> name
        self.active = set()  # ids of containers on the current path (cycle detection)
        self.keep = []       # the arrays named, kept alive so that data pointers stay unique

    def add_array(self, arr, base):
        """The safetensors name of ``arr`` (stored once per memory), or ``None`` for a dtype
        the format does not hold."""
        dt = arr.dtype
        native = dt.newbyteorder("=")
        if native not in _SAVE_DTYPES or dt.fields is not None:
            return None
        ident = _memory_ident(arr)
        name = self.by_memory.get(ident)
        if name is not None:
            return name
        self.keep.append(arr)
        if dt != native.newbyteorder("<"):   # the file is little-endian
            arr = arr.astype(native.newbyteorder("<"))
        try:
            base.encode("utf-8")
        except UnicodeEncodeError:  # e.g. a lone surrogate in a key: not valid in the header
            base = "tensor"
        name, k = base, 1
        while name in self.arrays or name in _RESERVED_NAMES:
            k += 1
            name = f"{base}#{k}"
        # not np.ascontiguousarray: it turns 0-d arrays into 1-d ones
        self.arrays[name] = arr if arr.flags.c_contiguous else arr.copy(order="C")
        self.by_memory[ident] = name
        return name

    def array_name(self, arr, path):
        name = self.add_array(arr, ".".join(str(p) for p in path) or "tensor")
        if name is None:
            raise _NeedsPickle
        return name

    def encode(self, obj, path=(), depth=0):
        t = type(obj)
        if obj is None or t is bool or t is str:
            return obj
        if t is int:
            return obj
        if t is float:
            if math.isfinite(obj):
                return obj
            return {"type": "float", "value": "nan" if obj != obj else ("inf" if obj > 0
                                                                           else "-inf")}
        if t is Tensor or _is_parameter(obj):
            node = {"type": "tensor", "name": self.array_name(obj._data, path),
                    "requires_grad": bool(obj.requires_grad)}
            if t is not Tensor:
                node["parameter"] = True
            return node
        if t is np.ndarray or t is np.memmap:
            return {"type": "ndarray", "name": self.array_name(obj, path)}
        if isinstance(obj, np.generic):
            return {"type": "numpy_scalar", "name": self.array_name(np.asarray(obj), path)}
        if t is bytes:
            return {"type": "bytes", "base64": base64.b64encode(obj).decode("ascii")}
        if t is np.dtype or isinstance(obj, np.dtype):
            if obj not in _SAVE_DTYPES or obj.byteorder == ">":
                raise _NeedsPickle
            return {"type": "dtype", "name": obj.name}
        if t in (list, tuple, dict, OrderedDict):
            if depth >= _MAX_DEPTH or id(obj) in self.active:
                raise _NeedsPickle   # too deep for the structure, or a reference cycle
            self.active.add(id(obj))
            try:
                return self._container(obj, path, depth + 1)
            finally:
                self.active.discard(id(obj))
        raise _NeedsPickle

    def _container(self, obj, path, depth):
        if type(obj) is list:
            return [self.encode(v, path + (i,), depth) for i, v in enumerate(obj)]
        if type(obj) is tuple:
            return {"type": "tuple", "items": [self.encode(v, path + (i,), depth)
                                               for i, v in enumerate(obj)]}
        items = [[self._key(k, depth), self.encode(v, path + (k,), depth)]
                 for k, v in obj.items()]
        return {"type": "OrderedDict" if type(obj) is OrderedDict else "dict", "items": items}

    def _key(self, k, depth):
        if k is None or type(k) in (bool, int, float, str):
            return self.encode(k)
        if type(k) is tuple and depth < _MAX_DEPTH:
            return {"type": "tuple", "items": [self._key(v, depth + 1) for v in k]}
        raise _NeedsPickle


# ---- save: the pickle section -------------------------------------------------------------------
def _module_tensor_names(obj):
    """memory ident -> state_dict key for a Module-like ``obj`` (names for its arrays)."""
    t = type(obj)
    if not (callable(getattr(t, "state_dict", None))
            and callable(getattr(t, "named_modules", None))):
        return {}
    try:
        sd = obj.state_dict()
        return {_memory_ident(v._data): str(k) for k, v in sd.items() if isinstance(v, Tensor)}
    except Exception:  # noqa: BLE001 - naming is cosmetic; never fail a save over it
        return {}


def _pickle_structure(obj, enc, pickle_module, protocol):
    """Pickle ``obj`` into ``enc.arrays[_PICKLE_NAME]``, its arrays as persistent ids; return
    the root structure node."""
    names = _module_tensor_names(obj)
    refs = []
    index = {}   # ("array", name) / ("scalar", id) / ("dtype", name) -> refs index
    keep = []    # persisted objects, alive until the pickle is done (ids stay unique)

    def persistent_id(o):
        if not isinstance(o, (np.ndarray, np.generic, np.dtype)):
            return None
        if isinstance(o, np.dtype):
            if o not in _SAVE_DTYPES or o.byteorder == ">":
                return None
            key, ref = ("dtype", o.name), ["dtype", o.name]
        elif isinstance(o, np.generic):
            key = ("scalar", id(o))
            if key in index:
                return str(index[key])
            name = enc.add_array(np.asarray(o), f"pickle.{len(refs)}")
            if name is None:
                return None
            keep.append(o)
            ref = ["numpy_scalar", name]
        else:
            if type(o) is not np.ndarray:
                return None     # subclasses (np.matrix, masked arrays) pickle themselves
            name = enc.add_array(o, names.get(_memory_ident(o), f"pickle.{len(refs)}"))
            if name is None:
                return None
            key, ref = ("array", name), ["ndarray", name]
        i = index.get(key)
        if i is None:
            i = index[key] = len(refs)
            refs.append(ref)
        return str(i)

    buf = io.BytesIO()
    pickler = pickle_module.Pickler(buf, protocol)
    pickler.persistent_id = persistent_id
    pickler.dump(obj)
    keep.clear()
    enc.arrays[_PICKLE_NAME] = np.frombuffer(buf.getvalue(), dtype=np.uint8)
    return {"type": "pickle", "name": _PICKLE_NAME, "protocol": int(protocol), "refs": refs}


def _tensor_crc(name, dtype, shape, data):
    """The checksum of one array: CRC-32 of ``name\\0dtype\\0shape`` then of its bytes."""
    prefix = f"{name}\0{dtype}\0{','.join(str(int(d)) for d in shape)}".encode("utf-8")
    return zlib.crc32(data, zlib.crc32(prefix))


def _encode(obj, pickle_module, protocol):
    """``(header bytes, arrays in file order)`` of the file that stores ``obj``."""
    enc = _Encoder()
    try:
        structure = enc.encode(obj)
        version = _PLAIN_FORMAT
    except _NeedsPickle:
        enc = _Encoder()
        structure = _pickle_structure(obj, enc, pickle_module, protocol)
        version = FORMAT_VERSION
    text = json.dumps(structure, allow_nan=False, separators=(",", ":"))
    crcs = {"structure": zlib.crc32(text.encode("utf-8")),
            "tensors": {name: _tensor_crc(name, _SAVE_DTYPES[arr.dtype.newbyteorder("=")],
                                          arr.shape, arr.reshape(-1).view(np.uint8))
                        for name, arr in enc.arrays.items()}}
    metadata = {_KEY_FORMAT: str(version), _KEY_STRUCTURE: text,
                _KEY_CRC: json.dumps(crcs, separators=(",", ":"))}
    names = sorted(enc.arrays, key=lambda n: -enc.arrays[n].dtype.itemsize)  # stable: aligned
    header = {"__metadata__": metadata}
    offset = 0
    for name in names:
        arr = enc.arrays[name]
        header[name] = {"dtype": _SAVE_DTYPES[arr.dtype.newbyteorder("=")],
                        "shape": [int(d) for d in arr.shape],
                        "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
    head = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    head += b" " * (-len(head) % 8)
    return len(head).to_bytes(8, "little") + head, [enc.arrays[n] for n in names]


# ---- save: writing ------------------------------------------------------------------------------
def _write_all(write, buf):
    """Write the whole buffer ``buf`` through ``write`` (which may write less than asked)."""
    mv = memoryview(buf).cast("B")
    pos, total = 0, len(mv)
    while pos < total:
        piece = mv[pos:pos + _CHUNK]
        n = write(piece)
        if n is None:          # file objects that return nothing wrote everything
            n = len(piece)
        if n <= 0:
            raise OSError("autograd.save: the file accepted no bytes")
        pos += n


def _write_parts(write, head, arrays):
    _write_all(write, head)
    for arr in arrays:
        if arr.nbytes:
            _write_all(write, arr.reshape(-1).view(np.uint8))


def _fsync_directory(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


try:
    import fcntl
except ImportError:   # Windows: no advisory locks; stale temporary files go by age only
    fcntl = None

_O_FLAGS = getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
_TEMP_RE = re.compile(r"(?P<host>[0-9a-f]{8})\.(?P<pid>[0-9]{1,10})\.[0-9a-f]{12}"
                      r"(?:\.[0-9])?\.(?:tmp|new)")
_LEGACY_TEMP_RE = re.compile(r"[0-9a-f]{12}\.tmp")   # tapegrad before the pid was in the name
_host = None


def _host_tag():
    global _host
    if _host is None:
        import socket
        _host = f"{zlib.crc32(socket.gethostname().encode('utf-8', 'replace')):08x}"
    return _host


def _pid_is_gone(pid):
    """Whether process ``pid`` of this host no longer runs (a zombie counts as gone)."""
    if os.name != "posix" or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:      # PermissionError: alive, another user's
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


def _remove_if_unlocked(path):
    """Remove the temporary file ``path`` unless a live writer holds its lock."""
    try:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | _O_FLAGS)
    except OSError:
        return
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return          # a live writer holds it
            except OSError:
                pass            # no locking on this file system: the pid / age decide
        if os.name != "nt":
            os.unlink(path)     # while holding the lock
    except OSError:
        pass
    finally:
        os.close(fd)
    if os.name == "nt":
        try:
            os.unlink(path)
        except OSError:
            pass


def _reclaim_stale_temps(directory, base):
    """Remove the temporary files of target ``base`` in ``directory`` that killed saves left
    (see the module docstring for the rule)."""
    prefix = f".{base}."
    try:
        with os.scandir(directory) as it:
            names = [e.name for e in it if e.name.startswith(prefix)
                 and e.name.endswith((".tmp", ".new"))]
    except OSError:
        return
    now = time.time()
    for name in names:
        rest = name[len(prefix):]
        m = _TEMP_RE.fullmatch(rest)
        if m is None and _LEGACY_TEMP_RE.fullmatch(rest) is None:
            continue
        path = os.path.join(directory, name)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        old = now - st.st_mtime > _STALE_AFTER_S
        gone = (m is not None and m["host"] == _host_tag() and _pid_is_gone(int(m["pid"])))
        if old or gone:
            _remove_if_unlocked(path)


def _create_locked(stem):
    """Create and return ``(fd, path)`` of a temporary file ``stem + ".tmp"`` that holds its
    exclusive lock from the moment it has that name: created as ``stem + ".new"``, locked, then
    renamed, so a ``.tmp`` file whose lock is free has no live writer. The lock is held until
    the file is renamed over the target. If a reclaiming save removed the ``.new`` file in the
    instant before it was locked (a writer it could not see as alive: another pid namespace),
    nothing was written yet and creation starts again under a new name."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | _O_FLAGS
    if fcntl is None:   # created with mode 0o666 & ~umask, like open(path, "wb")
        return os.open(stem + ".tmp", flags, 0o666), stem + ".tmp"
    for attempt in range(8):
        new, tmp = f"{stem}.{attempt}.new", f"{stem}.{attempt}.tmp"
        fd = os.open(new, flags, 0o666)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError:  # no locking on this file system: the pid / age rule decides
                pass
            os.rename(new, tmp)
            return fd, tmp
        except FileNotFoundError:
            os.close(fd)
        except BaseException:
            os.close(fd)
            try:
                os.unlink(new)
            except OSError:
                pass
            raise
    raise OSError(f"autograd.save: could not create a temporary file {stem}.*.tmp (removed by "
                  "another process each time)")


def _save_to_path(head, arrays, path):
    if os.path.islink(path):
        path = os.path.realpath(path)  # write through the link, as open(path, "wb") would
    target = os.path.abspath(path)
    directory, base = os.path.split(target)
    if os.path.isdir(target):
        raise IsADirectoryError(f"autograd.save: {path!r} is a directory")
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"autograd.save: the directory of {path!r} does not exist")
    _reclaim_stale_temps(directory, base)
    stem = os.path.join(directory,
                        f".{base}.{_host_tag()}.{os.getpid()}.{os.urandom(6).hex()}")
    fd, tmp = _create_locked(stem)
    try:
        if os.path.exists(target):
            os.chmod(tmp, os.stat(target).st_mode & 0o7777)   # keep the old file's mode
        with io.BufferedWriter(io.FileIO(fd, "w", closefd=False), 1 << 20) as fh:
            _write_parts(fh.write, head, arrays)
        os.fsync(fd)
        if os.name == "nt":   # Windows cannot rename an open file
            os.close(fd)
            fd = -1
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    finally:
        if fd >= 0:
            os.close(fd)
    _fsync_directory(directory)


def save(obj, f, pickle_module=pickle, pickle_protocol=_DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization=True, _disable_byteorder_record=False):
    """Save ``obj`` to the file ``f`` (``torch.save``).

    Args:
        obj: anything picklable. Tensors, state dicts (``module.state_dict()``,
            ``optimizer.state_dict()``) and nestings of dicts, lists and tuples of Tensors,
            NumPy arrays and scalars, ``None``, bools, ints, floats, strings and bytes are stored
            with no pickle (a plain file, which ``load`` always reads); anything else (a
            ``Module``, an ``Optimizer``, a set, your own class) is pickled, its arrays stored as
            tensors beside the pickle. See the module docstring for the exact format.
        f (str, os.PathLike or binary file object): where to write. A path is written
            atomically: a temporary file in the same directory, fsync-ed, then renamed over
            ``f``, so a failure mid-save (an exception, a full disk, a kill) leaves the previous
            file intact; temporary files that killed saves left are removed by the next save of
            the same path. A file object (``io.BytesIO``, ``open(path, "wb")``) receives the
            bytes from its current position (no atomicity).
        pickle_module: the module whose ``Pickler`` pickles whole objects (default ``pickle``).
        pickle_protocol (int): the pickle protocol (default 2, PyTorch's).
        _use_new_zipfile_serialization, _disable_byteorder_record: accepted for PyTorch
            compatibility and ignored.

    Raises:
        OSError: if the file cannot be written, a full disk included (the previous file, if
            any, is unchanged).
        TypeError: if ``f`` is a text-mode file object or not a path; what ``pickle`` raises
            for an object it cannot pickle (a lambda, a lock), before anything is written.

    Differences from PyTorch: the format is safetensors (see the module docstring), and a
    tensor's ``.grad`` is not saved, as in PyTorch.

    Example::

        autograd.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3},
                      "checkpoint.safetensors")
        autograd.save(model, "model.safetensors")   # the whole Module (pickled)
    """
    del _use_new_zipfile_serialization, _disable_byteorder_record
    if hasattr(f, "write"):
        if isinstance(f, io.TextIOBase):
            raise TypeError("autograd.save: the file object is in text mode; open the file in "
                            "binary mode ('wb')")
        head, arrays = _encode(obj, pickle_module, pickle_protocol)
        try:
            _write_parts(f.write, head, arrays)
        except TypeError as e:
            raise TypeError(f"autograd.save: cannot write bytes to the file object ({e}); open "
                            "the file in binary mode ('wb')") from e
        return
    if not isinstance(f, (str, bytes, os.PathLike)):
        raise TypeError(f"autograd.save: f must be a path or a binary file object, got "
                        f"{type(f).__name__}")
    path = os.fspath(f)
    head, arrays = _encode(obj, pickle_module, pickle_protocol)
    _save_to_path(head, arrays, os.fsdecode(path))


# ---- load: reading ------------------------------------------------------------------------------
def _read_bytes(fh, n):
    """Up to ``n`` bytes from ``fh`` (fewer only at the end of the file)."""
    chunks, got = [], 0
    while got < n:
        b = fh.read(min(n - got, _CHUNK))
        if not isinstance(b, (bytes, bytearray, memoryview)):
            raise TypeError("autograd.load: the file object is in text mode; open the file in "
                            "binary mode ('rb')")
        if not b:
            break
        chunks.append(bytes(b))
        got += len(b)
    return b"".join(chunks)


def _read_into(fh, mv):
    """Fill the byte memoryview ``mv`` from ``fh``; return how many bytes it got."""
    readinto = getattr(fh, "readinto", None)
    pos, total = 0, len(mv)
    while pos < total:
        piece = mv[pos:pos + _CHUNK]
        if readinto is not None:
            n = readinto(piece)
        else:
            b = fh.read(len(piece))
            n = len(b)
            piece[:n] = b
        if not n:
            break
        pos += n
    return pos


def _no_duplicate_keys(pairs):
    out = dict(pairs)
    if len(out) != len(pairs):
        seen = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"duplicate key {dup!r}")
    return out


def _parse_json(text, bad, what):
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except RecursionError:
        raise bad(f"is corrupted: {what} is nested too deeply") from None
    except ValueError as e:
        raise bad(f"is corrupted or not a safetensors file: {what} is not valid JSON "
                  f"({e})") from None


def _read_header(fh, size, name):
    """Parse and check the safetensors header read from ``fh`` (positioned at the file's
    start; ``size`` bytes from there); return ``(metadata, entries)`` with ``entries`` a list
    of ``(key, dtype, shape, begin, stop)`` in file order."""
    def bad(what):
        return SerializationError(f"autograd.load: {name} {what}")

    if size <= 0:
        raise bad("is empty")
    head = _read_bytes(fh, min(size, 8))
    n = int.from_bytes(head, "little") if len(head) == 8 else None
    fits = n is not None and n <= _MAX_HEADER and 8 + n <= size
    body = _read_bytes(fh, n) if fits else _read_bytes(fh, min(max(size - len(head), 0), 1))
    # a safetensors file: 8-byte length, then a JSON object; only otherwise look for the
    # signatures of foreign formats (a header length can start with a pickle's bytes)
    if not (n is not None and n <= _MAX_HEADER and body[:1] == b"{"):
        if head[:4] == b"PK\x03\x04":
            raise bad("is a zip archive (PyTorch's torch.save format, or NumPy's .npz), not a "
                      "safetensors file; autograd.load reads only safetensors files (it never "
                      "unpickles torch.save files). In PyTorch, save weights with "
                      "safetensors.torch.save_file(model.state_dict(), path) instead")
        if head[:6] == b"\x93NUMPY":
            raise bad("is a NumPy .npy file, not a safetensors file; load it with numpy.load "
                      "and wrap it in autograd.tensor")
        if head[:1] == b"\x80" and len(head) > 2 and 2 <= head[1] <= 5 and head[2] != 0:
            raise bad("is a pickle file, not a safetensors file; autograd.load never unpickles "
                      "files of other formats (nothing in them is executed)")
    if size < 8:
        raise bad(f"is truncated or not a safetensors file ({size} bytes, shorter than the "
                  "8-byte header length)")
    if n > _MAX_HEADER:
        raise bad(f"is not a safetensors file (its first 8 bytes give a header length of {n} "
                  "bytes)")
    if size > 8 and body[:1] != b"{":
        raise bad("is corrupted or not a safetensors file: its header does not start with '{'")
    if 8 + n > size:
        raise bad(f"is truncated: the header needs {n} bytes but the file has only "
                  f"{size - 8} after the length")
    if len(body) < n:
        raise bad(f"is truncated: the header needs {n} bytes but only {len(body)} could be read")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise bad(f"is corrupted: its header is not valid UTF-8 ({e})") from None
    header = _parse_json(text, bad, "its header")
    if not isinstance(header, dict):
        raise bad("is corrupted: its header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise bad("is corrupted: its __metadata__ is not a JSON object")
    entries = []
    for key, info in header.items():
        entries.append(_check_entry(key, info, bad))
    entries.sort(key=lambda e: (e[3], e[4]))
    have = size - 8 - n
    pos = 0
    for i, (key, dt, shape, begin, stop) in enumerate(entries):
        if begin != pos:
            other = entries[i - 1][0] if i else None
            if begin < pos:
                raise bad(f"is corrupted: the data of tensors {other!r} and {key!r} overlap")
            raise bad(f"is corrupted: {begin - pos} bytes of the data before tensor {key!r} "
                      "belong to no tensor")
        pos = stop
    if pos > have:
        raise bad(f"is truncated: the tensor data needs {pos} bytes but the file has only "
                  f"{have}")
    if pos < have:
        raise bad(f"is corrupted: {have - pos} unexpected bytes after the tensor data")
    return metadata, entries


def _check_entry(key, info, bad):
    """``(key, dtype, shape, begin, stop)`` of one header entry, checked."""
    try:
        key.encode("utf-8")
        dt, shape, (begin, stop) = info["dtype"], info["shape"], info["data_offsets"]
        ok = (type(dt) is str and type(shape) is list and type(begin) is int
              and type(stop) is int and 0 <= begin <= stop
              and all(type(s) is int and 0 <= s <= _MAX_DIM for s in shape))
    except (TypeError, KeyError, ValueError, UnicodeEncodeError):
        ok = False
    if not ok:
        raise bad(f"is corrupted: the header entry of tensor {key!r} is malformed (expected "
                  "dtype, shape of non-negative integers and two increasing data_offsets)")
    if dt not in _LOAD_DTYPES and dt != "BF16":
        raise bad(f"holds tensor {key!r} of dtype {dt}, which NumPy cannot hold (supported: "
                  + ", ".join(_LOAD_DTYPES) + ", BF16 (read as float32)); convert it before "
                  "saving")
    itemsize = 2 if dt == "BF16" else _LOAD_DTYPES[dt].itemsize
    nbytes = math.prod(shape) * itemsize
    if nbytes != stop - begin:
        raise bad(f"is corrupted: tensor {key!r} of dtype {dt} and shape {shape} needs {nbytes} "
                  f"bytes but its data_offsets [{begin}, {stop}] span {stop - begin}")
    return key, dt, tuple(shape), begin, stop


def _bf16_to_f32(raw, shape):
    bits = raw.astype(np.uint32) << 16
    return bits.view(np.float32).reshape(shape)


def _read_arrays(fh, entries, name, want_crc):
    """key -> owned writable NumPy array for every entry (read in file order from ``fh``,
    positioned at the data), and key -> CRC when ``want_crc``."""
    out, crcs = {}, {}
    for key, dt, shape, begin, stop in entries:
        if dt == "BF16":
            raw = np.empty((stop - begin) // 2, dtype="<u2")
        else:
            raw = np.empty(shape, dtype=_LOAD_DTYPES[dt].newbyteorder("<"))
        view = raw.reshape(-1).view(np.uint8)
        if _read_into(fh, memoryview(view)) != stop - begin:
            raise SerializationError(f"autograd.load: {name} is truncated: the data of tensor "
                                     f"{key!r} ends early (was the file changed while loading?)")
        if want_crc:
            crcs[key] = _tensor_crc(key, dt, shape, view)
        if dt == "BF16":
            arr = _bf16_to_f32(raw, shape)
        elif dt == "BOOL" and view.size and view.max() > 1:
            raise SerializationError(f"autograd.load: {name} is corrupted: bool tensor {key!r} "
                                     "holds bytes other than 0 and 1")
        else:
            arr = raw if raw.dtype.isnative else raw.astype(raw.dtype.newbyteorder("="))
        out[key] = arr
    return out, crcs


def _load_file(fh, size, name):
    """``(metadata, arrays, crcs)`` of the safetensors file ``fh`` (``size`` bytes from its
    current position)."""
    metadata, entries = _read_header(fh, size, name)
    want_crc = any(isinstance(k, str) and k.startswith("tapegrad.") for k in metadata)
    arrays, crcs = _read_arrays(fh, entries, name, want_crc)
    return metadata, entries, arrays, crcs


def _display_name(f):
    name = getattr(f, "name", None) or type(f).__name__
    return repr(name) if isinstance(name, str) else str(name)


def _load_stream(f, name):
    if isinstance(f, io.TextIOBase):
        raise TypeError(f"autograd.load: {name} is a text file object; open the file in binary "
                        "mode ('rb')")
    try:
        seekable = bool(f.seekable())
    except (AttributeError, OSError, ValueError):
        seekable = False
    if seekable:
        pos = f.tell()
        end = f.seek(0, io.SEEK_END)
        f.seek(pos)
        return _load_file(f, end - pos, name)
    data = _read_bytes(f, float("inf"))   # not seekable: read it all, then check its size
    return _load_file(io.BytesIO(data), len(data), name)


# ---- load: the structure ------------------------------------------------------------------------
def _check_tapegrad_metadata(metadata, ours, entries, crcs, name):
    """Check the format version and every checksum; return ``(structure, version)``."""
    def bad(what):
        return SerializationError(f"autograd.load: {name} is corrupted: {what}")

    version = metadata.get(_KEY_FORMAT)
    if (isinstance(version, str) and re.fullmatch("[0-9]{1,9}", version)
            and int(version) > FORMAT_VERSION):
        raise SerializationError(f"autograd.load: {name} was written in tapegrad format "
                                 f"{version}; this version reads formats up to "
                                 f"{FORMAT_VERSION}. Upgrade tapegrad")
    expected = {_KEY_FORMAT, _KEY_STRUCTURE, _KEY_CRC}
    if ours != expected or version not in ("1", "2"):
        raise bad(f"its tapegrad metadata entries are {sorted(ours)} with format "
                  f"{version!r}; expected {sorted(expected)} with format '1' or '2'")
    text, crc_text = metadata[_KEY_STRUCTURE], metadata[_KEY_CRC]
    if not isinstance(text, str) or not isinstance(crc_text, str):
        raise bad("its tapegrad metadata entries are not strings")
    try:
        crcs_saved = json.loads(crc_text)
        tensor_crcs = crcs_saved["tensors"]
        structure_crc = crcs_saved["structure"]
        if not isinstance(tensor_crcs, dict):
            raise TypeError("'tensors' is not an object")
    except (TypeError, ValueError, KeyError, RecursionError) as e:
        raise bad(f"its checksums cannot be read ({type(e).__name__}: {e})") from e
    try:
        text_crc = zlib.crc32(text.encode("utf-8"))
    except UnicodeEncodeError:
        text_crc = None
    if text_crc != structure_crc:
        raise bad("its structure description does not match its CRC-32 checksum")
    if set(tensor_crcs) != set(crcs):
        raise bad(f"it holds tensors {sorted(crcs)} but has checksums for "
                  f"{sorted(tensor_crcs)}")
    for key, crc in crcs.items():
        if crc != tensor_crcs[key]:
            raise bad(f"the data of tensor {key!r} does not match its CRC-32 checksum")
    structure = _parse_json(text, lambda what: SerializationError(f"autograd.load: {name} {what}"),
                            "its structure description")
    return structure, int(version)


class _Decoder:
    """Rebuilds the object of a plain structure (depth-limited, every node checked)."""

    def __init__(self, arrays, name):
        self.arrays = arrays
        self.name = name
        self.parameter = None

    def fail(self, what):
        return SerializationError(f"autograd.load: {self.name} is corrupted: its structure "
                                  f"description is invalid: {what}")

    def array(self, node):
        key = node.get("name")
        if type(key) is not str or key not in self.arrays or key == _PICKLE_NAME:
            raise SerializationError(f"autograd.load: {self.name} is corrupted: its structure "
                                     f"refers to a tensor {key!r} that the file does not hold")
        return self.arrays[key]

    def items(self, node, kind):
        items = node.get("items")
        if type(items) is not list:
            raise self.fail(f"a {kind} node without an 'items' list")
        return items

    def deeper(self, depth):
        if depth >= _MAX_DEPTH:
            raise self.fail(f"it is nested deeper than {_MAX_DEPTH} levels")

    def decode(self, node, depth=0):
        t = type(node)
        if node is None or t in (bool, int, float, str):
            return node
        if t is list:
            self.deeper(depth)
            return [self.decode(v, depth + 1) for v in node]
        if t is not dict:
            raise self.fail(f"a node of JSON type {t.__name__}")
        kind = node.get("type")
        if kind in ("tuple", "dict", "OrderedDict"):
            self.deeper(depth)
        if kind == "tuple":
            return tuple(self.decode(v, depth + 1) for v in self.items(node, kind))
        if kind in ("dict", "OrderedDict"):
            out = OrderedDict() if kind == "OrderedDict" else {}
            for pair in self.items(node, kind):
                if type(pair) is not list or len(pair) != 2:
                    raise self.fail(f"a {kind} item that is not a [key, value] pair")
                out[self.key(pair[0], depth + 1)] = self.decode(pair[1], depth + 1)
            return out
        return self.leaf(node, kind)

    def key(self, node, depth):
        if node is None or type(node) in (bool, int, float, str):
            return node
        if type(node) is dict and node.get("type") == "float":
            return self.leaf(node, "float")
        if type(node) is dict and node.get("type") == "tuple":
            self.deeper(depth)
            return tuple(self.key(v, depth + 1) for v in self.items(node, "tuple"))
        raise self.fail(f"a dict key node {json.dumps(node)[:80]} (keys are None, bool, int, "
                        "float, str or tuples of those)")

    def leaf(self, node, kind):
        if kind == "float":
            value = node.get("value")
            if value not in ("nan", "inf", "-inf"):
                raise self.fail(f"a float node of value {value!r}")
            return float(value)
        if kind == "tensor":
            rg, param = node.get("requires_grad"), node.get("parameter", False)
            if type(rg) is not bool or type(param) is not bool:
                raise self.fail("a tensor node whose requires_grad/parameter is not a bool")
            arr = self.array(node)
            if rg and arr.dtype.kind != "f":
                raise self.fail(f"a tensor of dtype {arr.dtype} that requires grad")
            cls = Tensor
            if param:
                cls = self.parameter = self.parameter or _parameter_class()
                if cls is None:
                    raise SerializationError(f"autograd.load: {self.name} holds nn.Parameter "
                                             "tensors but the nn package cannot be imported")
            t = cls.__new__(cls)
            t.__setstate__((arr, rg, None))
            return t
        if kind == "ndarray":
            return self.array(node)
        if kind == "numpy_scalar":
            arr = self.array(node)
            if arr.ndim:
                raise self.fail(f"a NumPy scalar of shape {arr.shape}")
            return arr[()]
        if kind == "bytes":
            text = node.get("base64")
            if type(text) is not str:
                raise self.fail("a bytes node without a base64 string")
            try:
                return base64.b64decode(text, validate=True)
            except ValueError as e:
                raise self.fail(f"a bytes node that is not base64 ({e})") from None
        if kind == "dtype":
            dt = _DTYPE_BY_NAME.get(node.get("name"))
            if dt is None:
                raise self.fail(f"a dtype node {node.get('name')!r}: autograd.save writes only "
                                + ", ".join(_DTYPE_BY_NAME))
            return dt
        raise self.fail(f"a node of unknown type {kind!r}")


def _load_pickle(node, arrays, entries, name, weights_only, pickle_module, pickle_load_args):
    """Run the pickle section described by the root node ``node``."""
    def bad(what):
        return SerializationError(f"autograd.load: {name} is corrupted: {what}")

    dtypes = {e[0]: e[1] for e in entries}
    refs = node.get("refs")
    if (set(node) != {"type", "name", "protocol", "refs"} or node.get("name") != _PICKLE_NAME
            or type(node.get("protocol")) is not int or type(refs) is not list):
        raise bad("its pickle node is malformed")
    if _PICKLE_NAME not in arrays or dtypes[_PICKLE_NAME] != "U8" or \
            arrays[_PICKLE_NAME].ndim != 1:
        raise bad(f"it has no 1-D U8 tensor {_PICKLE_NAME!r} for its pickle section")
    for ref in refs:
        ok = type(ref) is list and len(ref) == 2 and type(ref[1]) is str and (
            (ref[0] in ("ndarray", "numpy_scalar") and ref[1] in arrays
             and ref[1] != _PICKLE_NAME) or (ref[0] == "dtype" and ref[1] in _DTYPE_BY_NAME))
        if not ok:
            raise bad(f"its pickle section has an invalid reference {json.dumps(ref)[:80]}")
    loaded = {}
    pid_re = re.compile(r"[0-9]{1,9}")

    def persistent_load(pid):
        if type(pid) is not str or pid_re.fullmatch(pid) is None or int(pid) >= len(refs):
            raise pickle.UnpicklingError(f"invalid persistent id {pid!r}")
        i = int(pid)
        if i not in loaded:
            kind, value = refs[i]
            if kind == "dtype":
                loaded[i] = _DTYPE_BY_NAME[value]
            elif kind == "ndarray":
                loaded[i] = arrays[value]
            else:
                arr = arrays[value]
                if arr.ndim:
                    raise pickle.UnpicklingError(f"NumPy scalar {value!r} of shape {arr.shape}")
                loaded[i] = arr[()]
        return loaded[i]

    data = io.BytesIO(arrays[_PICKLE_NAME].tobytes())
    if weights_only:
        unpickler = _WeightsUnpickler(data, persistent_load, name)
        try:
            obj = unpickler.load()
        except SerializationError:
            raise
        except Exception as e:  # noqa: BLE001 - only the allowlisted code ran; any error here
            raise bad(f"its pickle section is invalid ({type(e).__name__}: {e})") from e
    else:
        unpickler = pickle_module.Unpickler(data, **pickle_load_args)
        unpickler.persistent_load = persistent_load
        try:
            obj = unpickler.load()
        except (pickle.UnpicklingError, EOFError) as e:
            raise bad(f"its pickle section is invalid ({type(e).__name__}: {e})") from e
    if data.tell() != len(data.getbuffer()):
        raise bad("its pickle section has bytes after the pickle's end")
    return obj


def _check_map_location(map_location):
    if map_location is None or callable(map_location):
        return
    places = map_location.values() if isinstance(map_location, dict) else [map_location]
    for place in places:
        try:
            if device_(place).type != "cpu":  # devices other than the CPU can be named
                raise RuntimeError(place)
        except (RuntimeError, TypeError, ValueError):
            raise RuntimeError(f"autograd.load: map_location={map_location!r} asks for device "
                               f"{place!r}: tapegrad runs on the CPU only, every tensor loads "
                               "onto the CPU (use map_location='cpu' or leave it out)") from None


def _apply_map_location(map_location, arrays):
    """Call a callable ``map_location(storage, 'cpu')`` on every array, as torch.load calls it
    on every storage: it may return the storage (a CPU Tensor of the same shape and dtype) or
    ``None``; asking for another device raises that device's error."""
    if map_location is None or not callable(map_location):
        return arrays
    out = {}
    for key, arr in arrays.items():
        if key == _PICKLE_NAME:
            out[key] = arr
            continue
        got = map_location(Tensor(arr), "cpu")
        if got is None:
            out[key] = arr
            continue
        got_arr = got._data if isinstance(got, Tensor) else got
        if not isinstance(got_arr, np.ndarray) or got_arr.shape != arr.shape \
                or got_arr.dtype != arr.dtype:
            raise TypeError(f"autograd.load: map_location(storage, 'cpu') must return the "
                            "storage it was given (a CPU Tensor of the same shape and dtype) or "
                            f"None; for tensor {key!r} it returned {type(got).__name__}")
        out[key] = got_arr
    return out


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Load an object saved with :func:`save`, or the tensors of any safetensors file
    (``torch.load``).

    Args:
        f (str, os.PathLike or binary file object): the file; a file object is read from its
            current position (``io.BytesIO``, ``open(path, "rb")``, or a non-seekable stream).
        map_location: ``None``, ``'cpu'``, ``autograd.device('cpu')``, a dict whose values are
            CPU devices (``{'cuda:0': 'cpu'}``), or a callable ``fn(storage, location)`` called
            on every tensor as PyTorch calls it (return the storage or ``None``). Every tensor
            loads onto the CPU; anything that asks for another device raises.
        pickle_module: with ``weights_only=False``, the module whose ``Unpickler`` runs a
            pickle section (default ``pickle``); giving it makes ``weights_only`` default to
            False, as in PyTorch.
        weights_only (bool): default True (``None`` means True unless ``pickle_module`` is
            given): a pickle section may use only allowlisted globals (see
            :func:`add_safe_globals`), so a file with a whole ``Module`` is refused with
            PyTorch's guidance. ``False`` unpickles anything: **unsafe**, only for files from a
            trusted source, since a hostile file can run arbitrary code (PyTorch's stance).
            Plain files (tensors, state dicts) never need it.
        mmap: accepted for PyTorch compatibility and ignored: the arrays are read into memory
            that the result owns.
        **pickle_load_args: passed to ``pickle_module.Unpickler`` (``weights_only=False``).

    Returns:
        The saved object, with the types it had (tuples stay tuples, integer dict keys stay
        integers, ``OrderedDict`` stays ``OrderedDict``, Parameters stay Parameters); tensors
        are ``Tensor`` with their ``requires_grad``; tensors saved once because they shared
        memory share one array again. For a safetensors file that tapegrad did not write (e.g.
        from ``safetensors.torch.save_file(model.state_dict(), path)``): a ``dict`` name ->
        ``Tensor``, so ``model.load_state_dict(autograd.load(path))`` loads PyTorch weights
        (bfloat16 arrays become float32).

    Raises:
        SerializationError (a ValueError): for an empty, truncated, corrupted or foreign file
            (pickle, ``torch.save`` zip, ``.npy``), a checksum mismatch, a file written by a
            newer format version, or (``weights_only=True``, then also a
            ``pickle.UnpicklingError``) a pickle section that needs a global that is not
            allowlisted; the message names the file and the problem.
        FileNotFoundError, OSError: if the path does not exist or cannot be read.
        RuntimeError: for a ``map_location`` that is not the CPU; for ``weights_only=True``
            with a ``pickle_module`` (PyTorch's error).
        TypeError: for a text-mode file object.
    """
    del mmap  # arrays always owned
    if weights_only is None:
        weights_only = pickle_module is None
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    if weights_only and pickle_load_args:
        warnings.warn("pickle_load_args only works if `weights_only=False`.", stacklevel=2)
    _check_map_location(map_location)
    if hasattr(f, "read"):
        name = _display_name(f)
        metadata, entries, arrays, crcs = _load_stream(f, name)
    else:
        if not isinstance(f, (str, bytes, os.PathLike)):
            raise TypeError(f"autograd.load: f must be a path or a binary file object, got "
                            f"{type(f).__name__}")
        path = os.fspath(f)
        name = repr(os.fsdecode(path))
        with open(path, "rb") as fh:   # one descriptor for the header and the data
            metadata, entries, arrays, crcs = _load_file(fh, os.fstat(fh.fileno()).st_size,
                                                         name)
    ours = {k for k in metadata if k.startswith("tapegrad.")}
    if not ours:
        arrays = _apply_map_location(map_location, arrays)
        return {key: Tensor(arr) for key, arr in arrays.items()}
    structure, version = _check_tapegrad_metadata(metadata, ours, entries, crcs, name)
    arrays = _apply_map_location(map_location, arrays)
    if type(structure) is dict and structure.get("type") == "pickle":
        if version < 2:
            raise SerializationError(f"autograd.load: {name} is corrupted: a pickle section "
                                     "in a format 1 file")
        return _load_pickle(structure, arrays, entries, name, weights_only,
                            pickle_module or pickle, pickle_load_args)
    return _Decoder(arrays, name).decode(structure)
