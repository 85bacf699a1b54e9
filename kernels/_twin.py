"""One kernel body, two compiled twins: the ``prange`` one and the serial one.

A kernel loop is written once, as a plain Python function whose outer loop is ``prange``;
:func:`twins` compiles it twice with ``numba.njit(cache=True)``: with ``parallel=True`` (the
``prange`` loop is split over Numba's threads) and without (``prange`` runs as ``range``)::

    def _scale_loop(x, out, a):
        for i in prange(x.shape[0]):
            out[i] = a * x[i]

    _scale = twins(_scale_loop)        # _scale.parallel, _scale.serial
    _scale(x, out, 2.0)                # runs the parallel twin (the serial one when
                                       # serial_only(), e.g. in a forked worker)

Numba's on-disk cache keys a function by its module, qualified name and first line (the file
``<module>.<qualname>-<line>.nbi``) and, inside that index, by signature, target and bytecode;
the compile options are not part of the key (``numba/core/caching.py``, Numba 0.68). Two
dispatchers made from the same function with different options would share one index, and the
second to compile would overwrite -- or worse, load -- the other's machine code. So the serial
twin is compiled from a copy of the function (same code object and globals) whose qualified
name ends in ``_serial``: it gets a cache file of its own, and a second cold process loads both
twins from the cache (``tests/test_kernels.py`` checks this).

Which twin runs: :func:`use_parallel` decides for the entry points -- the caller's
``parallel=True/False`` when given, else the parallel twin when the work is at least the
kernel family's threshold. The serial twin always runs in a process forked from one whose
Numba parallel layer had started (a DataLoader worker of a script without a ``__main__``
guard): GNU OpenMP is not fork-safe, and Numba terminates a forked child that enters a parallel
region, while the serial twin never enters one. :func:`set_serial` sets that switch by hand.
"""

import os
import sys
import types
from collections import namedtuple

from numba import njit

__all__ = ["Twin", "twins", "use_parallel", "set_serial", "serial_only"]

_state = {"serial": os.environ.get("TAPEGRAD_SERIAL_KERNELS", "0").strip()
          not in ("", "0", "no", "false", "off")}


class Twin(namedtuple("Twin", "parallel serial")):
    """The two dispatchers of one kernel body. Calling the pair runs ``parallel``, or
    ``serial`` when :func:`serial_only` (entry points with a size threshold pick one
    themselves with :func:`use_parallel`)."""

    __slots__ = ()

    def __call__(self, *args):
        return (self.serial if _state["serial"] else self.parallel)(*args)


def twins(fn, **options):
    """A :class:`Twin` ``(parallel, serial)``: ``fn`` compiled by ``numba.njit(cache=True,
    parallel=True, **options)`` and by ``numba.njit(cache=True, **options)`` (``prange`` runs
    as ``range``), each with its own cache entry (see the module docstring). Both compile
    lazily, on their first call with a new signature."""
    parallel = njit(cache=True, parallel=True, **options)(fn)
    copy = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_serial",
                              fn.__defaults__, fn.__closure__)
    copy.__qualname__ = fn.__qualname__ + "_serial"
    copy.__doc__ = fn.__doc__
    copy.__kwdefaults__ = fn.__kwdefaults__
    serial = njit(cache=True, **options)(copy)
    return Twin(parallel, serial)


def set_serial(flag=True):
    """Run only the serial twins in this process (``flag=True``) or let :func:`use_parallel`
    choose again (``False``). Also set by ``TAPEGRAD_SERIAL_KERNELS=1`` and, automatically, in
    a process forked after Numba's parallel layer started."""
    _state["serial"] = bool(flag)


def serial_only():
    """True when only the serial twins may run in this process (see :func:`set_serial`)."""
    return _state["serial"]


def use_parallel(parallel=None, work=1, min_work=0):
    """Whether an entry point runs the parallel twin: never when :func:`serial_only`; else
    ``parallel`` when it is not ``None``; else ``work >= min_work`` (the family's size
    threshold, below which starting the threads costs more than they save)."""
    if _state["serial"]:
        return False
    if parallel is not None:
        return bool(parallel)
    return work >= min_work


def _after_fork_in_child():
    layer = sys.modules.get("numba.np.ufunc.parallel")
    if getattr(layer, "_is_initialized", False):
        _state["serial"] = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
