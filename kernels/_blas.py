"""How the kernels set BLAS thread counts around their own loops: the mechanism, not the policy.

The policy (how many threads, when the machine is busy, the environment variables) lives in
``autograd/_runtime.py``; its docstring describes how the pieces interact. This module imports
nothing of tapegrad's (``kernels`` stays below ``autograd``) and only takes a number from it:

* :data:`cap` -- the BLAS thread count the runtime allows right now (``None``: no limit known).
  ``autograd._runtime`` writes it when it changes the count (``set_num_threads``, or its
  busy-machine governor); the kernels read it and never go above it.
* :func:`try_set_numpy_threads` -- how the runtime's busy-machine governor (another thread)
  changes NumPy's process-wide BLAS count: refused while a kernel runs NumPy's BLAS at a count
  of its own (:class:`StepBlas`), so the kernel's restore never undoes the governor's change
  nor the other way round.

Two BLAS libraries matter (PyPI wheels): NumPy's OpenBLAS (``numpy.libs``), behind every
``np.matmul``/``@`` outside Numba, and SciPy's OpenBLAS (``scipy.libs``), which Numba's
``np.dot`` calls through ``scipy.linalg.cython_blas`` inside compiled code. They are two separate
thread pools. In builds where NumPy and SciPy share one BLAS (conda), :func:`numpy_blas` and
:func:`scipy_blas` may name the same library; then the SciPy-side setting is left alone.
"""

import os
import threading

__all__ = ["cap", "numpy_blas", "scipy_blas", "StepBlas", "set_scipy_blas_threads",
           "try_set_numpy_threads", "set_threads", "SERIAL_BLAS_MAX"]

cap = None
_guard = threading.Lock()  # protects _depth and _saved
_depth = 0                 # StepBlas contexts open, in every thread together
_saved = None              # NumPy's BLAS counts before the outermost StepBlas

# per-step GEMMs with fewer multiply-adds than this run on ONE BLAS thread (see StepBlas)
SERIAL_BLAS_MAX = 1 << 25

_numpy = None  # threadpoolctl controllers, found on first use
_scipy = None


def _controllers(under):
    """threadpoolctl's BLAS controllers whose library file lies under a directory named
    ``under*`` (``numpy.libs``, ``scipy.libs``); ``[]`` without threadpoolctl."""
    try:
        from threadpoolctl import ThreadpoolController
        blas = [lc for lc in ThreadpoolController().lib_controllers if lc.user_api == "blas"]
    except Exception:  # noqa: BLE001  (no threadpoolctl, or an unknown layout: leave BLAS alone)
        return [], []
    mine = [lc for lc in blas
            if any(p.startswith(under) for p in os.path.normpath(lc.filepath or "").split(os.sep))]
    return mine, blas


def set_threads(lc, n):
    """Set threadpoolctl controller ``lc`` to ``n`` threads, whichever thread calls.

    threadpoolctl (3.8) lets only the first thread that sets a process-wide (pthreads) OpenBLAS
    count change it again and silently ignores every other thread (its ``OpenBLASController``
    docstring): once the runtime's governor thread had set NumPy's count, a later
    ``autograd.set_num_threads`` from the main thread did nothing. tapegrad sets counts from
    several threads and orders its own writers (the governor's lock, :data:`_guard`), so it
    calls the controller's own setter where threadpoolctl has one."""
    real = getattr(lc, "_real_set_num_threads", None)
    if real is not None:
        real(n)
    else:
        lc.set_num_threads(n)


def numpy_blas():
    """The controllers of NumPy's BLAS (all BLAS libraries if none is recognisably NumPy's)."""
    global _numpy
    if _numpy is None:
        mine, every = _controllers("numpy")
        _numpy = mine or every
    return _numpy


def scipy_blas():
    """The controllers of SciPy's own BLAS, the one Numba's ``np.dot`` calls (loaded here if it
    is not yet); ``[]`` where SciPy has none of its own."""
    global _scipy
    if _scipy is None:
        try:
            import scipy.linalg.cython_blas  # noqa: F401  (loads SciPy's BLAS)
        except ImportError:
            _scipy = []
            return _scipy
        mine, _ = _controllers("scipy")
        _scipy = mine
    return _scipy


def _allowed(n):
    """``n`` capped at :data:`cap`."""
    return n if cap is None else max(1, min(n, cap))


class StepBlas:
    """Context manager: NumPy's BLAS on one thread for the small per-step GEMMs of a time loop
    (restored when the last such loop in any thread ends), when a step has fewer than
    ``SERIAL_BLAS_MAX`` multiply-adds.

    Why: a ``(32, 128) x (128, 512)`` GEMM is ~40 us on one core; splitting it over two threads
    saves little when the machine is idle and, on a busy machine, each of the L calls waits
    for a descheduled BLAS worker. Measured on 2 shared cores, one training step of the
    ``lstm`` benchmark took 110-390 ms with 2 BLAS threads and 35-70 ms with 1. The large GEMMs
    (the input projection, the weight gradient) are outside the loop and keep every thread.
    Side effect: another Python thread's NumPy GEMMs during the loop also run on one thread.
    Loops in several threads at once share one saved count: the first to start saves it, the
    last to end restores it.

    Attributes:
        libs: the controllers it changes (empty for a large step, or without threadpoolctl).
    """

    __slots__ = ("libs", "entered")

    def __init__(self, macs):
        self.libs = numpy_blas() if macs < SERIAL_BLAS_MAX else ()
        self.entered = False

    def __enter__(self):
        global _depth, _saved
        if self.libs:
            with _guard:
                if _depth == 0:
                    _saved = [lc.num_threads for lc in self.libs]
                    for lc, n in zip(self.libs, _saved):
                        if n != 1:
                            set_threads(lc, 1)
                _depth += 1
                self.entered = True
        return self

    def __exit__(self, *exc):
        global _depth, _saved
        if self.entered:
            self.entered = False
            with _guard:
                _depth -= 1
                if _depth == 0:
                    for lc, n in zip(self.libs, _saved):
                        if n != 1:
                            set_threads(lc, n)
                    _saved = None
        return False


def try_set_numpy_threads(n):
    """Set NumPy's BLAS to ``n`` threads unless a :class:`StepBlas` loop is running (then
    nothing changes). Returns True if the count is ``n`` afterwards. For the runtime's governor,
    which calls it from its own thread and tries again later when refused."""
    if not _guard.acquire(blocking=False):
        return False
    try:
        if _depth:
            return False
        for lc in numpy_blas():
            if lc.num_threads != n:
                set_threads(lc, n)
        return True
    finally:
        _guard.release()


def set_scipy_blas_threads(n):
    """Set the threads of the BLAS that ``np.dot`` calls *inside* Numba to ``n`` (capped at
    :data:`cap`): 1 for kernels that call it from ``prange`` workers, Numba's thread count for
    serial kernels with large products.

    Called from ``prange`` workers, a multi-threaded BLAS oversubscribes the cores: measured on 2
    cores, the 128 small GEMMs of one attention forward took 7.9 ms median (0.33 ms best) with
    SciPy's BLAS at 2 threads, and 0.36 ms median at 1 thread. Only a BLAS that lives under a
    ``scipy`` directory is changed (a BLAS shared with NumPy, as in conda, is left alone). It is
    set at each call because settings made elsewhere (threadpoolctl, ``set_num_threads``) may
    have changed it. Side effect: SciPy's own BLAS calls in the process run with the last count
    set here. Without threadpoolctl nothing is done.
    """
    n = _allowed(n)
    for lc in scipy_blas():
        if lc.num_threads != n:
            set_threads(lc, n)
