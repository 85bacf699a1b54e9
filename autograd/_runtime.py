"""tapegrad's process-wide runtime policy: threads, BLAS, OpenMP and the allocator, in one place.

:func:`configure` runs first thing at ``import autograd`` (before anything of ours imports NumPy
or Numba); :func:`set_num_threads` / :func:`get_num_threads` are ``autograd.set_num_threads`` /
``autograd.get_num_threads`` (PyTorch's ``torch.set_num_threads``); :func:`configure_worker`
runs in every DataLoader worker process; :func:`info` says what is in force.

The pools and how they interact
-------------------------------
A training step runs on three thread pools that take turns on the same cores: Numba's (the
kernels' ``prange`` loops: im2col/col2im, pooling, Winograd, attention heads, RNN gates), NumPy's
OpenBLAS (every GEMM outside Numba: convolution, ``Linear``, ``matmul``) and SciPy's OpenBLAS
(``np.dot`` inside Numba: the attention kernels). One convolution is im2col (Numba) -> GEMM
(NumPy's BLAS) -> col2im (Numba), a few hundred such hand-overs per step. Four rules follow.

1. **Idle workers sleep at once.** GNU OpenMP (Numba's ``omp`` layer) keeps idle workers
   spinning after a parallel loop unless ``OMP_WAIT_POLICY=PASSIVE``; OpenBLAS keeps its
   workers spinning for 2**28 cycles (~0.1 s) after each GEMM unless
   ``OPENBLAS_THREAD_TIMEOUT`` says less. A spinning pool takes the cores the next pool needs:
   on 2 cores one MNIST step took 80 ms with spinning OpenMP workers instead of 27 ms, and
   ~27 ms instead of ~22 ms with spinning OpenBLAS workers (each GEMM left 30 ms of CPU burnt
   in the 0.3 s after it). So :func:`configure` sets ``OMP_WAIT_POLICY=PASSIVE`` and
   ``OPENBLAS_THREAD_TIMEOUT=4`` (16 cycles: sleep at once) unless you set them.
2. **The pools use the same count.** :func:`set_num_threads` sets Numba's count and every
   loaded BLAS library's (threadpoolctl) together, so neither leaves idle cores nor
   oversubscribes them.
3. **No more BLAS threads than free cores** (the *governor*). On a busy machine a
   multi-threaded GEMM hands half its work to a worker thread that must first be scheduled on
   a core another process is using, and the caller waits for it, GEMM after GEMM: measured
   with other work on the 2 cores, the ``mlp`` step took 129 ms with 2 BLAS threads and 6.7 ms
   with 1 (quiet: ~3 ms), ``lenet`` 344 ms vs 66 ms, while 2 Numba threads against 1 made no
   difference (PASSIVE workers wake quickly and a prange loop has no BLAS hand-over). So a
   background thread (``tapegrad-governor``) samples ``/proc/stat`` every 0.25 s, subtracts
   this process's own CPU time, and sets NumPy's BLAS to ``min(set_num_threads value, free
   cores)``: it drops a thread when other processes use more than half a core per thread it
   would give up, and takes it back when they use less than 0.3 of one. It writes the count only
   when its target changes, never while a kernel runs NumPy's BLAS at a count of its own (RNN
   time loops, ``kernels/_blas.py``), and it caps the SciPy-BLAS count the attention kernels
   ask for. Numba's count is left alone. Off with ``TAPEGRAD_BLAS_GOVERNOR=0``; it does not
   run on one core, with one thread, outside Linux, or in DataLoader workers.
4. **Several tapegrad processes divide the cores.** Under a launcher (torchrun's
   ``LOCAL_WORLD_SIZE``, Open MPI's ``OMPI_COMM_WORLD_LOCAL_SIZE``, MPICH/Hydra's
   ``MPI_LOCALNRANKS``) the default is ``cores // local ranks`` (at least 1): two ranks with 2
   threads each on 2 cores ran 7-9x slower than with 1 each. A DataLoader worker uses 1 thread
   (PyTorch's rule, :func:`configure_worker`). ``autograd.distributed`` calls
   :func:`set_num_threads` again when the process group starts.

Which thread count, in order: a :func:`set_num_threads` call; ``NUMBA_NUM_THREADS``;
``OMP_NUM_THREADS`` (its first entry); ``cores // local ranks`` under a launcher; the cores this
process may run on (``sched_getaffinity``). When that default is below the cores, it is put in
``NUMBA_NUM_THREADS`` and ``OPENBLAS_NUM_THREADS`` (those not set already) before Numba and
NumPy load, or applied through threadpoolctl to a BLAS already loaded. OpenBLAS reads
``OPENBLAS_NUM_THREADS``, then ``OMP_NUM_THREADS``, itself.

Import order and entry points
-----------------------------
What holds whatever was imported first, and what cannot:

* ``OMP_WAIT_POLICY`` is read once, when a GNU OpenMP runtime loads. Numba loads its ``omp``
  layer at its first parallel call or ``numba.set_num_threads`` -- after ``import autograd``
  in every tapegrad program, including one that calls ``autograd.set_num_threads`` before any
  kernel, so the setting holds. PyTorch ships its own copy of libgomp (measured: both copies are
  mapped in a process that imports both), so importing torch first does not decide Numba's
  policy; torch's own copy gets PASSIVE only if ``autograd`` is imported before torch. What
  cannot be fixed: a program that ran a Numba parallel function before importing ``autograd``
  keeps the spinning default (:func:`info` reports it: ``omp_wait_policy_in_time``).
* ``OPENBLAS_THREAD_TIMEOUT`` is read when OpenBLAS loads and used when its thread pool starts.
  NumPy's OpenBLAS loads with NumPy, so a program that imports NumPy before ``autograd`` (or
  torch, which imports NumPy) has it unset. After load it can still be applied: OpenBLAS
  exports ``openblas_read_env`` (read the environment again) and ``blas_thread_shutdown_``
  (stop the pool; the next multi-threaded call starts it again, reading the new timeout), so
  :func:`configure` does both for every loaded OpenBLAS whose timeout is unset. Measured:
  CPU burnt in the 0.3 s after a GEMM fell from 30 ms to 0, the same as exporting the variable.
  This must not run while another thread is inside a BLAS call (import ``autograd`` before
  starting threads that use NumPy); OpenBLAS builds without those symbols are left alone.
  SciPy's OpenBLAS loads later and reads the variable itself.
* The governor and the defaults work after load (threadpoolctl), whatever the order.
* Numba's threading layer: ``NUMBA_THREADING_LAYER_PRIORITY`` is set to ``omp tbb workqueue``
  (Numba's own default puts ``tbb`` first) unless you choose a layer. Measured on the ``lenet``
  step on 2 busy cores: omp 94-96 ms, tbb 108-115 ms, workqueue 111-116 ms; ``workqueue`` also
  aborts the process when two Python threads run parallel kernels at once, and ``omp`` is the
  layer that ``OMP_WAIT_POLICY`` governs.

Environment variables read here: ``OMP_WAIT_POLICY``, ``OPENBLAS_THREAD_TIMEOUT``
(``GOTO_THREAD_TIMEOUT``), ``OMP_NUM_THREADS``, ``NUMBA_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``
(``GOTO_NUM_THREADS``, ``MKL_NUM_THREADS``), ``NUMBA_THREADING_LAYER(_PRIORITY)``, the launcher
variables above, ``TAPEGRAD_BLAS_GOVERNOR``, ``TAPEGRAD_MALLOC_TUNING`` and ``MALLOC_*``. The
variables set here are inherited by child processes.

Allocator
---------
A training step allocates and frees the same large arrays (activations, im2col buffers,
gradients) over and over. glibc serves blocks above 128 KiB with a fresh ``mmap`` and returns
them with ``munmap``, so every step pays thousands of page faults (measured: 4,000 to 6,000 per
MNIST CNN step, ~15% of its time). Raising glibc's mmap threshold to 32 MiB and its trim
threshold to 256 MiB (``mallopt``, the same as exporting ``MALLOC_MMAP_THRESHOLD_`` and
``MALLOC_TRIM_THRESHOLD_``) lets freed blocks be reused from the heap instead; up to 256 MiB of
freed memory may stay mapped. ``TAPEGRAD_MALLOC_TUNING=0`` leaves the allocator alone; nothing
is changed either when the C library is not glibc or when the ``MALLOC_*`` variables are set.
"""

import ctypes
import ctypes.util
import numbers
import os
import sys
import threading
import time
import warnings

__all__ = ["set_num_threads", "get_num_threads"]

# ---- environment ---------------------------------------------------------------------------------
LAUNCHER_VARS = ("LOCAL_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS")
BLAS_COUNT_VARS = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "MKL_NUM_THREADS",
                   "OMP_NUM_THREADS")
THREADING_LAYER_PRIORITY = "omp tbb workqueue"
WORKER_NAME_PREFIX = "tapegrad-dataloader-worker"  # autograd/data/dataloader.py names them so

_M_TRIM_THRESHOLD = -1  # glibc's malloc.h
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024
TRIM_THRESHOLD = 256 * 1024 * 1024

allocator_tuned = False
_configured = False
_omp_in_time = None     # whether OMP_WAIT_POLICY was in place before Numba's OpenMP layer loaded
_timeout_fixed = []     # OpenBLAS libraries whose thread timeout was applied after load
_worker = False         # this process is a DataLoader worker
_current = None         # the count last set by set_num_threads (None: the default)
ENV_SET = {}            # the environment variables this module set, with their values


def _setenv(name, value, override=False):
    """Set environment variable ``name`` unless it is set (or always, with ``override``), and
    remember it in :data:`ENV_SET` (the benchmark's contention mode removes them for the fresh
    processes it starts, which must run as a user's script does)."""
    if override or name not in os.environ:
        os.environ[name] = value
        ENV_SET[name] = value


def _env_int(name):
    """The first positive integer of environment variable ``name`` (``OMP_NUM_THREADS`` may be
    a comma-separated list), or ``None``."""
    text = os.environ.get(name, "").split(",")[0].strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    return None


def cpu_count():
    """The cores this process may run on (``sched_getaffinity``; ``os.cpu_count()`` elsewhere)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def local_world_size():
    """The number of processes of this job on this machine, from the launcher's environment
    (``LOCAL_WORLD_SIZE``, ``OMPI_COMM_WORLD_LOCAL_SIZE``, ``MPI_LOCALNRANKS``, first found),
    else 1."""
    for name in LAUNCHER_VARS:
        n = _env_int(name)
        if n:
            return n
    return 1


def default_num_threads():
    """The thread count used until :func:`set_num_threads` is called: 1 in a DataLoader worker,
    else ``NUMBA_NUM_THREADS``, else ``OMP_NUM_THREADS``, else ``cores // local world size``
    under a launcher (at least 1), else the cores this process may run on."""
    if _worker:
        return 1
    for name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS"):
        n = _env_int(name)
        if n:
            return n
    ranks = local_world_size()
    if ranks > 1:
        return max(1, cpu_count() // ranks)
    return cpu_count()


# ---- OpenBLAS after load -----------------------------------------------------------------------
def _loaded_openblas():
    """Paths of the OpenBLAS libraries mapped into this process (from ``/proc/self/maps``)."""
    paths = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.rsplit(None, 1)[-1] if "/" in line else ""
                name = os.path.basename(path).lower()
                if "openblas" in name and ".so" in name and path not in paths:
                    paths.append(path)
    except OSError:
        pass
    return paths


def _openblas_timeouts():
    """``{library file name: thread timeout read from the environment at load (0: unset)}``
    for the loaded OpenBLAS libraries that export ``openblas_thread_timeout``."""
    out = {}
    for path in _loaded_openblas():
        try:
            fn = ctypes.CDLL(path).openblas_thread_timeout
        except (OSError, AttributeError):
            continue
        fn.restype = ctypes.c_int
        out[os.path.basename(path)] = fn()
    return out


def _apply_openblas_timeout():
    """Give every loaded OpenBLAS whose thread timeout was unset at its load the one now in the
    environment: re-read it (``openblas_read_env``) and restart the pool
    (``blas_thread_shutdown_``; the next multi-threaded call starts it with the new timeout)."""
    for path in _loaded_openblas():
        try:
            lib = ctypes.CDLL(path)
            timeout, read_env = lib.openblas_thread_timeout, lib.openblas_read_env
            shutdown = lib.blas_thread_shutdown_
        except (OSError, AttributeError):
            continue
        timeout.restype = ctypes.c_int
        if timeout() != 0:
            continue  # set when it loaded: the user's, or ours
        read_env()
        if timeout() != 0:
            shutdown()
            _timeout_fixed.append(os.path.basename(path))


# ---- BLAS thread counts --------------------------------------------------------------------------
_own_blas = None  # threadpoolctl controllers of the BLAS the governor sets when kernels are absent


def _numpy_blas_controllers():
    """NumPy's BLAS controllers: the kernels' list (``kernels/_blas.py``) when loaded, else our
    own lookup (threadpoolctl; every BLAS not under a ``scipy`` directory)."""
    mod = sys.modules.get("kernels._blas")
    if mod is not None:
        return mod.numpy_blas()
    global _own_blas
    if _own_blas is None:
        try:
            from threadpoolctl import ThreadpoolController
            blas = [lc for lc in ThreadpoolController().lib_controllers if lc.user_api == "blas"]
        except Exception:  # noqa: BLE001  (no threadpoolctl: leave the BLAS alone)
            blas = []
        _own_blas = [lc for lc in blas if not any(
            p.startswith("scipy") for p in os.path.normpath(lc.filepath or "").split(os.sep))]
    return _own_blas


def _set_numpy_blas(n):
    """NumPy's BLAS to ``n`` threads, unless a kernel holds it; returns True if done."""
    mod = sys.modules.get("kernels._blas")
    if mod is not None:
        return mod.try_set_numpy_threads(n)
    for lc in _numpy_blas_controllers():
        if lc.num_threads != n:
            _set_threads(lc, n)
    return True


def _publish_cap(n):
    """Tell the kernels the BLAS count they may use (``kernels/_blas.py``'s ``cap``)."""
    mod = sys.modules.get("kernels._blas")
    if mod is not None:
        mod.cap = n


def _set_threads(lc, n):
    """Controller ``lc`` to ``n`` threads from any thread (``kernels._blas.set_threads``, whose
    docstring says why threadpoolctl's own ``set_num_threads`` is not enough)."""
    real = getattr(lc, "_real_set_num_threads", None)
    if real is not None:
        real(n)
    else:
        lc.set_num_threads(n)


def _limit_all_blas(n):
    """Every loaded BLAS library (NumPy's, SciPy's, PyTorch's if threadpoolctl sees it) to ``n``
    threads, from whichever thread calls; False without threadpoolctl."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return False
    for lc in ThreadpoolController().lib_controllers:  # in force until changed again
        if lc.user_api == "blas":
            _set_threads(lc, n)
    return True


# ---- the busy-machine governor -------------------------------------------------------------------
class _Governor:
    """Keeps NumPy's BLAS threads at ``min(ceiling, free cores)`` (rule 3 of the module
    docstring), from a daemon thread that samples ``/proc/stat`` every :attr:`PERIOD` seconds.

    ``others`` is the number of cores that other processes kept busy in the last period
    (``user+nice+system+irq+softirq+steal`` of the CPUs this process may use, minus this
    process's own CPU time), smoothed over two periods."""

    PERIOD = 0.25
    DROP = 0.5    # others' cores per thread above which a thread is given up
    RAISE = 0.3   # ... below which it is taken back

    def __init__(self):
        self.ceiling = 1
        self.target = None      # the count the governor wants now (None: not measured yet)
        self.applied = None     # the count it last wrote
        self.others = 0.0
        self.samples = 0
        self._thread = None
        self._stop = threading.Event()
        # held while a decision is made and written, and by set_num_threads while it changes the
        # ceiling and the count: a decision made under the old ceiling is never written after
        self.lock = threading.RLock()
        self._cpus = None
        self._hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    # sampling
    def _read(self):
        """``(wall seconds, busy seconds of our CPUs, own CPU seconds)`` or ``None``."""
        if self._cpus is None:
            try:
                self._cpus = {f"cpu{c}" for c in os.sched_getaffinity(0)}
            except AttributeError:
                return None
        busy = 0
        try:
            with open("/proc/stat", "rb") as f:
                text = f.read().decode("ascii", "replace")
        except OSError:
            return None
        for line in text.splitlines():
            if not line.startswith("cpu") or line.startswith("cpu "):
                continue
            parts = line.split()
            if parts[0] in self._cpus and len(parts) >= 8:
                v = [int(x) for x in parts[1:9]] + [0] * (9 - len(parts))
                busy += v[0] + v[1] + v[2] + v[5] + v[6] + v[7]  # user nice system irq softirq steal
        t = os.times()
        return time.monotonic(), busy / self._hz, t.user + t.system

    def allowed(self, ceiling):
        """The BLAS count to use under ``ceiling`` given the last measurement."""
        if self.target is None:
            return ceiling
        return max(1, min(ceiling, self.target))

    def _decide(self, current):
        free = len(self._cpus) - self.others
        want = max(1, min(current, self.ceiling))
        # give a thread up while others keep more than DROP of a core per missing thread busy
        while want > 1 and free < want - self.DROP:
            want -= 1
        while want < self.ceiling and free > want + 1 - self.RAISE:
            want += 1
        return want

    def _loop(self):
        prev = self._read()
        if prev is None:
            return
        while not self._stop.wait(self.PERIOD):
            cur = self._read()
            if cur is None:
                return
            dt = cur[0] - prev[0]
            if dt <= 0:
                continue
            others = max(0.0, (cur[1] - prev[1]) - (cur[2] - prev[2])) / dt
            prev = cur
            self.samples += 1
            self.others = others if self.samples == 1 else 0.5 * (self.others + others)
            with self.lock:
                self.target = self._decide(self.target if self.target is not None
                                           else self.ceiling)
                if "numpy" not in sys.modules:
                    continue
                try:
                    if self.applied != self.target and _set_numpy_blas(self.target):
                        self.applied = self.target
                    kernels_blas = sys.modules.get("kernels._blas")  # loaded since? tell it too
                    if self.applied is not None and kernels_blas is not None \
                            and kernels_blas.cap != self.applied:
                        kernels_blas.cap = self.applied
                except Exception:  # noqa: BLE001  (a governor never takes the process down)
                    return

    # control
    def running(self):
        """Whether the governor thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, ceiling):
        """Run with BLAS count ``ceiling`` as the maximum (start the thread if it should run)."""
        with self.lock:
            self.ceiling = ceiling
            if self.target is not None:
                self.target = min(max(self.target, 1), ceiling)
        if not _governor_enabled() or ceiling <= 1 or len(self._cpus or os.sched_getaffinity(0)) <= 1:
            return
        if self.running():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="tapegrad-governor", daemon=True)
        self._thread.start()

    def stop(self):
        """Stop the thread (it exits within one period)."""
        self._stop.set()
        self._thread = None

    def reset_after_fork(self):
        """In a forked child the thread is gone: forget it and its measurements."""
        self._thread = None
        self._stop = threading.Event()
        self.lock = threading.RLock()  # the governor thread may have held it at the fork
        self.target = self.applied = None
        self.samples = 0


def _governor_enabled():
    return (os.environ.get("TAPEGRAD_BLAS_GOVERNOR", "1") != "0" and not _worker
            and sys.platform.startswith("linux") and os.path.exists("/proc/stat"))


governor = _Governor()


def _after_fork_in_child():
    """A forked child has only the forking thread: forget the governor's thread and its
    measurements (and the kernels' BLAS guard, which it may have held), then start it again."""
    governor.reset_after_fork()
    kernels_blas = sys.modules.get("kernels._blas")
    if kernels_blas is not None:
        kernels_blas._guard = threading.Lock()
    if not _worker:
        governor.start(governor.ceiling)


def _in_forkserver_server():
    """True while multiprocessing's fork server imports its preload modules (the main script):
    no governor thread there, since it forks every worker and fork copies no threads."""
    forkserver = sys.modules.get("multiprocessing.forkserver")
    if forkserver is None:
        return False
    frame = sys._getframe()
    while frame is not None:
        if frame.f_code is forkserver.main.__code__:
            return True
        frame = frame.f_back
    return False


# ---- import-time configuration -------------------------------------------------------------------
def _numba_omp_started():
    """True if Numba's threading layer was already launched (its OpenMP read its settings)."""
    parallel = sys.modules.get("numba.np.ufunc.parallel")
    return bool(getattr(parallel, "_is_initialized", False))


def configure():
    """Apply the import-time settings (idempotent); called by ``autograd/__init__.py`` first."""
    global _configured, _omp_in_time, _worker
    if _configured:
        return
    _configured = True
    # a DataLoader worker that imports autograd while unpickling its dataset: 1 thread from the
    # start (multiprocessing names the process before it unpickles the task)
    mp_process = sys.modules.get("multiprocessing.process")
    if mp_process is not None and mp_process.current_process().name.startswith(
            WORKER_NAME_PREFIX):
        _worker = True
    # rule 1: sleeping idle workers
    _omp_in_time = not _numba_omp_started()
    _setenv("OMP_WAIT_POLICY", "PASSIVE")
    if "GOTO_THREAD_TIMEOUT" not in os.environ:
        _setenv("OPENBLAS_THREAD_TIMEOUT", "4")
    if "numpy" in sys.modules:
        _apply_openblas_timeout()
    # the threading layer Numba picks
    if "NUMBA_THREADING_LAYER" not in os.environ:
        _setenv("NUMBA_THREADING_LAYER_PRIORITY", THREADING_LAYER_PRIORITY)
        numba_config = sys.modules.get("numba.core.config")
        if numba_config is not None and not _numba_omp_started() \
                and os.environ["NUMBA_THREADING_LAYER_PRIORITY"] == THREADING_LAYER_PRIORITY:
            numba_config.THREADING_LAYER_PRIORITY = THREADING_LAYER_PRIORITY.split()
    # rule 4: the default count
    n = default_num_threads()
    _apply_default(n)
    # rule 3
    if not _in_forkserver_server():
        governor.start(n)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)
    tune_allocator()


def _apply_default(n):
    """Make ``n`` the count of the pools not started yet (environment) and of those started
    (Numba's ``set_num_threads``, threadpoolctl), where it is below the cores."""
    if n >= cpu_count():
        return
    if "numba" not in sys.modules:
        _setenv("NUMBA_NUM_THREADS", str(n))
    if not any(v in os.environ for v in BLAS_COUNT_VARS):
        if "numpy" in sys.modules:
            _limit_all_blas(n)
        else:
            _setenv("OPENBLAS_NUM_THREADS", str(n))
    numba = sys.modules.get("numba")
    if numba is not None and hasattr(numba, "set_num_threads"):
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))


def configure_worker():
    """Settings of a DataLoader worker process (PyTorch's ``torch.set_num_threads(1)`` in its
    worker loop): one Numba thread and one BLAS thread, no governor. Called by the worker
    before it touches the dataset; cheap when Numba is not loaded (an environment variable)."""
    global _worker
    _worker = True
    governor.stop()
    _setenv("NUMBA_NUM_THREADS", "1", override=True)
    numba = sys.modules.get("numba")
    if numba is not None and hasattr(numba, "set_num_threads"):
        numba.set_num_threads(1)
    if "numpy" in sys.modules:
        _limit_all_blas(1)
    else:
        _setenv("OPENBLAS_NUM_THREADS", "1", override=True)
    _publish_cap(1)


# ---- the public API ------------------------------------------------------------------------------
def set_num_threads(n):
    """Use ``n`` threads for Numba's parallel loops and for BLAS (``torch.set_num_threads``).

    Args:
        n (int): a positive thread count. Numba cannot run more threads than its pool was
            started with (``NUMBA_NUM_THREADS``; by default the cores, or the reduced default
            under a launcher or in a DataLoader worker, see :mod:`autograd._runtime`); a larger
            ``n`` is capped there, with a ``RuntimeWarning``, and the capped count is used
            for BLAS too, so both pools stay equal.

    Raises:
        TypeError: ``n`` is not an int.
        ValueError: ``n < 1``.

    ``n`` is the most BLAS threads used: while other processes keep cores busy, the governor
    runs NumPy's BLAS on fewer (``TAPEGRAD_BLAS_GOVERNOR=0`` turns that off). The BLAS count goes
    through threadpoolctl (a dependency of tapegrad), which reaches every BLAS library loaded at
    the time of the call (NumPy's, SciPy's, PyTorch's if imported); call it again after loading
    another one. Without threadpoolctl the BLAS count is left alone, with a ``RuntimeWarning``.
    Numba keeps its thread count per calling thread: a thread you start yourself runs Numba's
    parallel loops with the pool's count unless it calls :func:`set_num_threads` itself.
    Difference from PyTorch: the count cannot exceed Numba's pool size.
    """
    global _current
    if not isinstance(n, numbers.Integral) or isinstance(n, bool):
        raise TypeError(f"set_num_threads: expected an int, got {type(n).__name__} {n!r}")
    n = int(n)
    if n < 1:
        raise ValueError(f"set_num_threads: expected a positive number of threads, got {n}")
    import numba  # after configure(): OMP_WAIT_POLICY is in place before its OpenMP layer loads
    max_numba = numba.config.NUMBA_NUM_THREADS
    if n > max_numba:
        warnings.warn(f"set_num_threads({n}): Numba's thread pool has {max_numba} threads "
                      f"(NUMBA_NUM_THREADS); using {max_numba} for Numba and BLAS",
                      RuntimeWarning, stacklevel=2)
        n = max_numba
    numba.set_num_threads(n)
    with governor.lock:  # no governor decision under the old count lands after this one
        governor.start(n)  # the new ceiling (starts the thread if it should run)
        blas_n = governor.allowed(n) if governor.running() else n
        limited = _limit_all_blas(blas_n)
        governor.applied = blas_n
        _publish_cap(blas_n)
        _current = n
    if not limited:
        warnings.warn("set_num_threads: threadpoolctl is not installed, so the BLAS thread count "
                      "is not changed (pip install threadpoolctl, or set OPENBLAS_NUM_THREADS)",
                      RuntimeWarning, stacklevel=2)


def get_num_threads():
    """The thread count in use for Numba's parallel loops and the most for BLAS
    (``torch.get_num_threads``): the last :func:`set_num_threads` value, else Numba's current
    count if Numba is loaded, else the default (:func:`default_num_threads`)."""
    if _current is not None:
        return _current
    numba = sys.modules.get("numba")
    if numba is not None and hasattr(numba, "get_num_threads"):
        return numba.get_num_threads()
    return default_num_threads()


def user_num_threads():
    """The thread count the user chose, or ``None``: the last :func:`set_num_threads` value,
    else ``NUMBA_NUM_THREADS``, else ``OMP_NUM_THREADS`` (its first entry) when the user set it
    (the values this module set itself, in :data:`ENV_SET`, are not a choice). A launcher's
    local world size is not a choice either: ``autograd.distributed`` refines that default when
    the process group starts, counting the ranks that share this one's cores."""
    if _current is not None:
        return _current
    for name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS"):
        n = _env_int(name)
        if n and ENV_SET.get(name) != os.environ.get(name):
            return n
    return None


def info():
    """What is in force, as a dict (for tests, bug reports and the benchmark's JSON):
    ``num_threads``, ``default_num_threads``, ``cpu_count``, ``local_world_size``,
    ``dataloader_worker``, ``omp_wait_policy`` and ``omp_wait_policy_in_time``,
    ``numba_threading_layer_priority``, ``openblas_thread_timeout`` (per loaded OpenBLAS: the
    value it uses, 0 = its 2**28-cycle default), ``openblas_timeout_applied_after_load``,
    ``blas_threads`` (per loaded BLAS, when threadpoolctl is there), ``governor`` (running,
    others' busy cores, the count it wants), ``allocator_tuned``."""
    blas = None
    if "numpy" in sys.modules:
        try:
            from threadpoolctl import threadpool_info
            blas = {os.path.basename(p["filepath"]): p["num_threads"] for p in threadpool_info()
                    if p.get("user_api") == "blas"}
        except ImportError:
            pass
    return {
        "num_threads": get_num_threads(),
        "default_num_threads": default_num_threads(),
        "cpu_count": cpu_count(),
        "local_world_size": local_world_size(),
        "dataloader_worker": _worker,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "omp_wait_policy_in_time": _omp_in_time,
        "numba_threading_layer_priority": os.environ.get("NUMBA_THREADING_LAYER_PRIORITY"),
        "openblas_thread_timeout": _openblas_timeouts(),
        "openblas_timeout_applied_after_load": list(_timeout_fixed),
        "blas_threads": blas,
        "governor": {"running": governor.running(), "others_cores": round(governor.others, 3),
                     "blas_threads": governor.target, "ceiling": governor.ceiling},
        "allocator_tuned": allocator_tuned,
    }


# ---- allocator -----------------------------------------------------------------------------------
def tune_allocator():
    """Apply the allocator thresholds of the module docstring; returns True if applied."""
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
