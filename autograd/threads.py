"""Thread count of tapegrad's kernels: Numba's parallel loops and the BLAS behind NumPy's GEMMs,
set together (``torch.set_num_threads`` / ``torch.get_num_threads``).

The two pools take turns on the same cores in every convolution (im2col in Numba, then a BLAS
GEMM, then col2im in Numba), so setting one without the other leaves either idle cores or
oversubscription. By default both use every core the process may run on (Numba's default,
``len(os.sched_getaffinity(0))``, and OpenBLAS's); nothing is changed until
:func:`set_num_threads` is called, and Numba is not imported before then.

The BLAS limit goes through threadpoolctl (``threadpool_limits(n, user_api="blas")``), which
reaches every BLAS library loaded in the process at the time of the call (NumPy's, and
PyTorch's if it is imported); call :func:`set_num_threads` again after loading another one.
Numba keeps its thread count per calling thread: a thread you start yourself runs Numba's
parallel loops with the default count unless it calls :func:`set_num_threads` itself.
"""

import numbers
import os
import sys
import warnings

__all__ = ["set_num_threads", "get_num_threads"]

_current = None  # the count last set (None: the libraries' defaults)


def _default_threads():
    """Numba's default: ``NUMBA_NUM_THREADS`` if set, else the cores this process may use."""
    env = os.environ.get("NUMBA_NUM_THREADS")
    if env and env.strip().isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def set_num_threads(n):
    """Use ``n`` threads for Numba's parallel loops and for BLAS (``torch.set_num_threads``).

    Args:
        n (int): a positive thread count. Numba cannot run more threads than its pool was
            started with (``NUMBA_NUM_THREADS``, by default the number of cores); a larger
            ``n`` is capped there, with a ``RuntimeWarning``, and the capped count is used
            for BLAS too, so both pools stay equal.

    Raises:
        TypeError: ``n`` is not an int.
        ValueError: ``n < 1``.

    Without threadpoolctl installed (it is a dependency of tapegrad) the BLAS count is left
    alone, with a ``RuntimeWarning``.
    """
    global _current
    if not isinstance(n, numbers.Integral) or isinstance(n, bool):
        raise TypeError(f"set_num_threads: expected an int, got {type(n).__name__} {n!r}")
    n = int(n)
    if n < 1:
        raise ValueError(f"set_num_threads: expected a positive number of threads, got {n}")
    import numba
    max_numba = numba.config.NUMBA_NUM_THREADS
    if n > max_numba:
        warnings.warn(f"set_num_threads({n}): Numba's thread pool has {max_numba} threads "
                      f"(NUMBA_NUM_THREADS); using {max_numba} for Numba and BLAS",
                      RuntimeWarning, stacklevel=2)
        n = max_numba
    numba.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        warnings.warn("set_num_threads: threadpoolctl is not installed, so the BLAS thread count "
                      "is not changed (pip install threadpoolctl, or set OPENBLAS_NUM_THREADS)",
                      RuntimeWarning, stacklevel=2)
    else:
        threadpool_limits(limits=n, user_api="blas")  # in force until changed again
    _current = n


def get_num_threads():
    """The thread count in use for Numba's parallel loops and BLAS (``torch.get_num_threads``):
    the last :func:`set_num_threads` value, else Numba's current count if Numba is loaded,
    else the default (``NUMBA_NUM_THREADS`` or the cores this process may use)."""
    if _current is not None:
        return _current
    numba = sys.modules.get("numba")
    if numba is not None:
        return numba.get_num_threads()
    return _default_threads()
