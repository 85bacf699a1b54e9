"""Running the workloads: thread configuration, warm-up, interleaved timing, statistics and the
environment record.

Timing protocol (per workload):

1. the inputs are made once in NumPy (``numpy.random.default_rng(seed)``) and copied into each
   library with ``from_numpy``;
2. each library is seeded (``manual_seed(seed)``) and builds the model; the first library's
   initial weights are copied into the others, so every library trains the same network on
   the same data;
3. ``warmup`` untimed steps per library (Numba's JIT compilation and PyTorch's first-call
   allocations happen here; the first step's time is kept separately as ``first_step_ms``);
4. ``repeat`` rounds, each timing one step of every library in turn (A B A B ...) with
   ``time.perf_counter``; after at least ``MIN_REPEATS`` rounds the loop stops early once the
   workload has used ``max_time`` seconds, so slow workloads do not dominate the run.

Statistics are the median, minimum and maximum of the per-step times; the ratio is
tapegrad's median divided by PyTorch's.
"""

import datetime
import gc
import importlib.metadata
import os
import platform
import statistics
import sys
import time

import numpy as np

from .workloads import WORKLOADS, export_state, load_state, tapegrad_namespace, torch_namespace

__all__ = ["MIN_REPEATS", "configure_threads", "restore_threads", "limit_blas", "thread_info",
           "summarize", "ratio", "gflops", "build", "run_workload", "run_all", "environment",
           "cpu_model", "load_namespaces"]

MIN_REPEATS = 3
_LIMITERS = []  # threadpoolctl limiters stay alive (and in force) for the whole run
_PREVIOUS = []  # (library, thread count) before configure_threads, for restore_threads


# ---- threads ------------------------------------------------------------------------------------
def configure_threads(n, torch_ns=None):
    """Use ``n`` threads everywhere: ``numba.set_num_threads`` (capped at Numba's maximum,
    ``NUMBA_NUM_THREADS``), threadpoolctl's ``threadpool_limits`` for the BLAS libraries
    loaded so far (NumPy's, and PyTorch's if imported), and ``torch.set_num_threads``.

    Returns a list of warnings (strings) for what could not be applied.
    """
    warnings = []
    import numba
    _PREVIOUS.append(("numba", numba.get_num_threads()))
    if torch_ns is not None:
        _PREVIOUS.append(("torch", torch_ns.lib.get_num_threads()))
    max_numba = numba.config.NUMBA_NUM_THREADS
    if n > max_numba:
        warnings.append(f"--threads {n}: Numba allows at most {max_numba} threads "
                        f"(NUMBA_NUM_THREADS); using {max_numba} for Numba")
    numba.set_num_threads(min(n, max_numba))
    if not limit_blas(n):
        warnings.append("threadpoolctl is not installed: the BLAS thread count is not limited "
                        "(pip install threadpoolctl, or set OPENBLAS_NUM_THREADS)")
    if torch_ns is not None:
        torch_ns.lib.set_num_threads(n)
    return warnings


def restore_threads(torch_ns=None):
    """Undo :func:`configure_threads` and :func:`limit_blas` (the CLI calls this at the end, so
    running it in-process leaves the thread settings as they were)."""
    import numba
    while _LIMITERS:
        _LIMITERS.pop().restore_original_limits()
    while _PREVIOUS:
        what, n = _PREVIOUS.pop()
        if what == "numba":
            numba.set_num_threads(n)
        elif torch_ns is not None:
            torch_ns.lib.set_num_threads(n)


def limit_blas(n):
    """Limit every BLAS library loaded so far to ``n`` threads with threadpoolctl (called again
    before each workload, so libraries loaded late are limited too). ``False`` without
    threadpoolctl."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return False
    _LIMITERS.append(threadpool_limits(limits=n, user_api="blas"))
    return True


def thread_info(torch_ns=None):
    """The thread counts in force: Numba's (and its threading layer once started), PyTorch's,
    and every BLAS/OpenMP pool threadpoolctl sees."""
    import numba
    info = {"numba": numba.get_num_threads(), "numba_max": numba.config.NUMBA_NUM_THREADS}
    try:
        info["numba_threading_layer"] = numba.threading_layer()
    except ValueError:  # no parallel region has run yet
        info["numba_threading_layer"] = None
    info["torch"] = torch_ns.lib.get_num_threads() if torch_ns is not None else None
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        info["threadpools"] = None
    else:
        info["threadpools"] = [
            {"user_api": p.get("user_api"), "internal_api": p.get("internal_api"),
             "num_threads": p.get("num_threads"), "version": p.get("version"),
             "library": os.path.basename(p.get("filepath", ""))}
            for p in threadpool_info()]
    return info


# ---- statistics ---------------------------------------------------------------------------------
def summarize(times_s):
    """Per-step times in seconds -> ``{"times_ms", "median_ms", "min_ms", "max_ms",
    "repeats"}`` (all in milliseconds)."""
    ms = [t * 1e3 for t in times_s]
    if not ms:
        return {"times_ms": [], "median_ms": None, "min_ms": None, "max_ms": None,
                "repeats": 0}
    return {"times_ms": ms, "median_ms": statistics.median(ms), "min_ms": min(ms),
            "max_ms": max(ms), "repeats": len(ms)}


def ratio(tapegrad_ms, torch_ms):
    """tapegrad's median over PyTorch's (below 1: tapegrad is faster); ``None`` when either is
    missing or PyTorch's is not positive."""
    if tapegrad_ms is None or torch_ms is None or torch_ms <= 0:
        return None
    return tapegrad_ms / torch_ms


def gflops(flop, median_ms):
    """``flop`` FLOPs done in ``median_ms`` milliseconds, in GFLOP/s (``None`` if undefined)."""
    if flop is None or median_ms is None or median_ms <= 0:
        return None
    return flop / (median_ms * 1e-3) / 1e9


def _scalar(value):
    try:
        return float(value.detach().numpy().reshape(-1)[0])
    except Exception:  # noqa: BLE001 - a diagnostic only
        return None


# ---- running ------------------------------------------------------------------------------------
def build(workload, namespaces, seed):
    """Set the workload up on every namespace with the same data and the same initial weights
    (made by the first namespace). Returns ``{name: Setup}``."""
    data = workload.make_data(np.random.default_rng(seed))
    setups, weights = {}, None
    for ns in namespaces:
        ns.manual_seed(seed)
        setup = workload.setup(ns, data)
        if setup.model is not None:
            if weights is None:
                weights = export_state(setup.model)
            else:
                load_state(ns, setup.model, weights)
        setups[ns.name] = setup
    return setups


def run_workload(workload, namespaces, repeat=20, warmup=2, max_time=10.0, seed=0,
                 on_phase=None):
    """Benchmark one workload on ``namespaces`` (tapegrad first, then PyTorch if compared).

    Returns the workload's result dict (see :func:`benchmarks.report.to_json`): ``status`` is
    ``"ok"``, ``"skipped"`` (tapegrad lacks a layer; ``reason`` says which) or ``"error"``
    (``reason`` holds the exception; a PyTorch failure alone keeps tapegrad's numbers).
    """
    on_phase = on_phase or (lambda phase: None)
    result = {"name": workload.name, "description": workload.description, "status": "ok",
              "reason": None, "flop_per_step": workload.flop,
              "ops_per_step": workload.ops_per_step, "ratio": None}
    for ns in namespaces:
        result[ns.name] = None
    reason = workload.unavailable_reason(namespaces[0])
    if reason:
        result.update(status="skipped", reason=reason)
        return result

    gc.collect()
    on_phase("setup")
    active, first = {}, {}
    try:
        setups = build(workload, namespaces, seed)
    except Exception as e:  # noqa: BLE001 - reported, the run goes on
        result.update(status="error", reason=f"setup failed: {type(e).__name__}: {e}")
        return result
    losses = {}
    on_phase("warm-up")
    for ns in namespaces:
        try:
            for i in range(warmup):
                t0 = time.perf_counter()
                out = setups[ns.name].step()
                if i == 0:
                    first[ns.name] = (time.perf_counter() - t0) * 1e3
                    losses[ns.name] = _scalar(out)
            active[ns.name] = setups[ns.name].step
        except Exception as e:  # noqa: BLE001
            if ns is namespaces[0]:
                result.update(status="error", reason=f"{ns.name}: {type(e).__name__}: {e}")
                return result
            result["reason"] = f"{ns.name} failed: {type(e).__name__}: {e}"

    on_phase("timing")
    times = {name: [] for name in active}
    start = time.perf_counter()
    for i in range(repeat):
        for name, step in list(active.items()):
            try:
                t0 = time.perf_counter()
                step()
                times[name].append(time.perf_counter() - t0)
            except Exception as e:  # noqa: BLE001
                if name == namespaces[0].name:
                    result.update(status="error", reason=f"{name}: {type(e).__name__}: {e}")
                    return result
                result["reason"] = f"{name} failed: {type(e).__name__}: {e}"
                del active[name]
                times.pop(name)
        if i + 1 >= MIN_REPEATS and time.perf_counter() - start > max_time:
            break

    for name, ts in times.items():
        stats = summarize(ts)
        stats["first_step_ms"] = first.get(name)
        stats["first_loss"] = losses.get(name)
        stats["gflops"] = gflops(workload.flop, stats["median_ms"])
        stats["per_op_us"] = (stats["median_ms"] * 1e3 / workload.ops_per_step
                              if workload.ops_per_step else None)
        result[name] = stats
    tg, th = result.get("tapegrad"), result.get("torch")
    if tg and th:
        result["ratio"] = ratio(tg["median_ms"], th["median_ms"])
    return result


def run_all(names, namespaces, repeat=20, warmup=2, max_time=10.0, seed=0, progress=True,
            threads=None):
    """Run the named workloads in order with a tqdm progress bar on stderr; returns the list
    of result dicts. With ``threads``, the BLAS limit is re-applied before each workload."""
    bar = None
    if progress:
        try:
            from tqdm import tqdm
            bar = tqdm(total=len(names), unit="workload", file=sys.stderr, leave=False,
                       dynamic_ncols=True)
        except ImportError:
            bar = None
    results = []
    for name in names:
        def on_phase(phase, name=name):
            if bar is not None:
                bar.set_description(f"{name}: {phase}")
        on_phase("start")
        if threads is not None:
            limit_blas(threads)
        results.append(run_workload(WORKLOADS[name], namespaces, repeat=repeat, warmup=warmup,
                                    max_time=max_time, seed=seed, on_phase=on_phase))
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return results


# ---- environment --------------------------------------------------------------------------------
def cpu_model():
    """The CPU model name from ``/proc/cpuinfo`` (Linux), else :func:`platform.processor`."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _version(dist, module=None):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return getattr(module, "__version__", None) if module is not None else None


def environment(namespaces, requested_threads=None):
    """Versions (python, numpy, numba, torch, tapegrad, threadpoolctl), CPU model and count,
    thread counts, the OpenMP/Numba environment variables and the date (UTC, ISO 8601)."""
    import numba
    torch_ns = next((ns for ns in namespaces if ns.name == "torch"), None)
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = None
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "torch": torch_ns.lib.__version__ if torch_ns is not None else None,
        "tapegrad": _version("tapegrad", namespaces[0].lib),
        "threadpoolctl": _version("threadpoolctl"),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": affinity,
        "threads_requested": requested_threads,
        "threads": thread_info(torch_ns),
        "env": {k: os.environ.get(k) for k in (
            "OMP_WAIT_POLICY", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
            "NUMBA_NUM_THREADS", "NUMBA_THREADING_LAYER", "NUMBA_CACHE_DIR")},
    }


def load_namespaces(compare):
    """``(namespaces, message)``: tapegrad, plus PyTorch when ``compare == "torch"`` and it
    imports; otherwise ``message`` says why the comparison is off."""
    namespaces = [tapegrad_namespace()]  # OMP_WAIT_POLICY was set in benchmarks/__init__.py
    message = None
    if compare == "torch":
        try:
            namespaces.append(torch_namespace())
        except ImportError as e:
            message = (f"--compare torch: PyTorch is not importable ({e}); reporting "
                       "tapegrad-only results. Install it with: pip install 'tapegrad[bench]'")
    return namespaces, message
