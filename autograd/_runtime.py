"""Process-wide runtime settings applied when ``autograd`` is imported.

Allocator: a training step allocates and frees the same large arrays (activations, im2col
buffers, gradients) over and over. glibc serves blocks above 128 KiB with a fresh ``mmap`` and
returns them with ``munmap``, so every step pays thousands of page faults (measured: 4,000 to
6,000 per MNIST CNN step, ~15% of its time). Raising glibc's mmap threshold to 32 MiB and its
trim threshold to 256 MiB (``mallopt``, the same as exporting ``MALLOC_MMAP_THRESHOLD_`` and
``MALLOC_TRIM_THRESHOLD_``) lets freed blocks be reused from the heap instead. The cost is that
up to 256 MiB of freed memory may stay mapped in the process.

BLAS threads: OpenBLAS keeps its idle worker threads spinning for a while after each GEMM,
which takes a core away from the Numba loops (im2col, pooling) that run right after it on a
2-core machine. ``OPENBLAS_THREAD_TIMEOUT=4`` makes them sleep almost at once (measured: CNN
step ~27 ms -> ~22 ms). OpenBLAS reads it when NumPy loads, so it is set here (unless already
set) only if NumPy has not been imported yet; import ``autograd`` before NumPy, or export it.

Set ``TAPEGRAD_MALLOC_TUNING=0`` in the environment to leave the allocator alone; nothing is
changed either when the C library is not glibc or when the user has set the ``MALLOC_*``
variables themselves.
"""

import ctypes
import ctypes.util
import os
import sys

_M_TRIM_THRESHOLD = -1  # glibc's malloc.h
_M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 32 * 1024 * 1024
TRIM_THRESHOLD = 256 * 1024 * 1024

allocator_tuned = False


def tune_blas_threads():
    """Set ``OPENBLAS_THREAD_TIMEOUT=4`` if NumPy is not loaded yet and the user has not set it;
    returns True if it is in effect for this process."""
    if "numpy" in sys.modules:
        return os.environ.get("OPENBLAS_THREAD_TIMEOUT") is not None
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
    return True


def tune_allocator():
    """Apply the allocator thresholds above; returns True if they were applied."""
    global allocator_tuned
    if allocator_tuned:
        return True
    if os.environ.get("TAPEGRAD_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS...)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    ok = mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
    allocator_tuned = ok
    return ok
