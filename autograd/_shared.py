"""Tensors in shared memory, for several processes updating one model (hogwild training).

``Tensor.share_memory_()`` moves a tensor's array into a memory-mapped file under
``/dev/shm`` (the system temporary directory where there is none): a file of exactly the
array's bytes, mapped with ``mmap`` ``MAP_SHARED``, so every process that maps it reads and
writes the same memory. The tensor's ``_data`` becomes an array over that mapping (in-place
updates, such as an optimizer step, land in the shared memory).

Sending such a tensor to another process through :mod:`multiprocessing` (``Process`` args,
``Queue``, ``Pipe`` — everything that pickles with ``multiprocessing.reduction.ForkingPickler``)
sends the file's name, offset, shape, strides and dtype; the receiver maps the same file,
never copying the data. Ordinary ``pickle``/``copy`` are not affected (they copy the values).
The process that created a file removes it at exit; a process killed before that leaves the
file behind in ``/dev/shm`` (named ``tapegrad_shm_*``).
"""

import atexit
import itertools
import mmap
import os
import tempfile
import threading

import numpy as np

_REGISTRY = {}           # id(mmap) -> (mmap, path); keeps the mappings alive
_OWNED = []              # paths this process created (removed at exit)
_LOCK = threading.Lock()
_COUNTER = itertools.count()
_REGISTERED_TYPES = set()


def _shm_dir():
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) \
        else tempfile.gettempdir()


def _cleanup():
    for path in _OWNED:
        try:
            os.unlink(path)
        except OSError:
            pass


atexit.register(_cleanup)


def _map(path, size):
    with open(path, "r+b") as f:
        mm = mmap.mmap(f.fileno(), max(size, 1), mmap.MAP_SHARED,
                       mmap.PROT_READ | mmap.PROT_WRITE)
    with _LOCK:
        _REGISTRY[id(mm)] = (mm, path)
    return mm


def _root(arr):
    """The shared mmap an array's memory belongs to, or ``None``."""
    base = arr
    while base is not None:
        if isinstance(base, mmap.mmap):
            entry = _REGISTRY.get(id(base))
            return entry if entry is not None and entry[0] is base else None
        base = getattr(base, "base", None)
    return None


def is_shared(arr):
    """True if ``arr``'s memory lives in a shared mapping made by :func:`share`."""
    return _root(arr) is not None


def share(arr):
    """A copy of ``arr`` in a new shared mapping (same shape, dtype; C-contiguous)."""
    nbytes = arr.nbytes
    path = os.path.join(_shm_dir(), f"tapegrad_shm_{os.getpid()}_{next(_COUNTER)}_"
                                    f"{os.urandom(4).hex()}")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.ftruncate(fd, max(nbytes, 1))
    finally:
        os.close(fd)
    _OWNED.append(path)
    mm = _map(path, nbytes)
    out = np.ndarray(arr.shape, dtype=arr.dtype, buffer=mm)
    out[...] = arr
    return out


def _describe(arr):
    mm, path = _root(arr)
    start = np.ndarray((len(mm),), np.uint8, buffer=mm).__array_interface__["data"][0]
    offset = arr.__array_interface__["data"][0] - start
    return path, len(mm), offset, arr.shape, arr.strides, arr.dtype.str


def _attach(path, size, offset, shape, strides, dtype):
    mm = _map(path, size)
    return np.ndarray(shape, dtype=np.dtype(dtype), buffer=mm, offset=offset, strides=strides)


def _rebuild_tensor(cls, shared, requires_grad, extra, data=None):
    """Rebuild a tensor in the receiving process: map the shared file (``shared``) or take
    the pickled array (``data``)."""
    arr = _attach(*shared) if shared is not None else data
    t = cls.__new__(cls)
    t.__setstate__((arr, requires_grad, extra))
    return t


def _reduce_tensor(t):
    """``ForkingPickler`` reducer: shared tensors travel as a reference to their mapping."""
    extra = getattr(t, "__dict__", None) or None
    if is_shared(t._data):
        return _rebuild_tensor, (type(t), _describe(t._data), t.requires_grad, extra)
    return _rebuild_tensor, (type(t), None, t.requires_grad, extra, t._data)


def register_type(cls):
    """Make ``multiprocessing`` pickle tensors of class ``cls`` with :func:`_reduce_tensor`
    (``ForkingPickler`` dispatches on the exact class, so each subclass registers)."""
    if cls in _REGISTERED_TYPES:
        return
    from multiprocessing.reduction import ForkingPickler
    ForkingPickler.register(cls, _reduce_tensor)
    _REGISTERED_TYPES.add(cls)
