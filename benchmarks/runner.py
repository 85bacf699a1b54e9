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
import warnings

import numpy as np

from .workloads import WORKLOADS, export_state, load_state, tapegrad_namespace, torch_namespace

__all__ = ["MIN_REPEATS", "configure_threads", "restore_threads", "thread_info",
           "summarize", "ratio", "gflops", "build", "run_workload", "run_all", "environment",
           "cpu_model", "load_namespaces", "cold_start"]

MIN_REPEATS = 3
_PREVIOUS = []  # (library, thread count) before configure_threads, for restore_threads


# ---- threads ------------------------------------------------------------------------------------
def _set_tapegrad_threads(n):
    """``autograd.set_num_threads(n)`` (Numba and BLAS together, the function users call);
    returns its warnings as strings instead of printing them."""
    import autograd
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        autograd.set_num_threads(n)
    return [str(w.message) for w in caught]


def configure_threads(n, torch_ns=None):
    """Use ``n`` threads everywhere: tapegrad's :func:`autograd.set_num_threads` (Numba's
    loops and, through threadpoolctl, every BLAS library loaded so far: NumPy's, and PyTorch's
    if imported) and ``torch.set_num_threads``.

    Returns a list of warnings (strings) for what could not be applied (e.g. ``n`` above
    Numba's pool size, ``NUMBA_NUM_THREADS``).
    """
    import autograd
    _PREVIOUS.append(("tapegrad", autograd.get_num_threads()))
    if torch_ns is not None:
        _PREVIOUS.append(("torch", torch_ns.lib.get_num_threads()))
    messages = _set_tapegrad_threads(n)
    if torch_ns is not None:
        torch_ns.lib.set_num_threads(n)
    return messages


def restore_threads(torch_ns=None):
    """Undo :func:`configure_threads` (the CLI calls this at the end, so running it in-process
    leaves the thread counts as they were)."""
    while _PREVIOUS:
        what, n = _PREVIOUS.pop()
        if what == "tapegrad":
            _set_tapegrad_threads(n)
        elif torch_ns is not None:
            torch_ns.lib.set_num_threads(n)


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
    for name in ["tapegrad", "torch"] + [ns.name for ns in namespaces]:
        result[name] = None  # every library key is there, null when not run (to_json's schema)
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
    of result dicts. With ``threads``, the thread count is re-applied before each workload."""
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
        if threads is not None:  # again: BLAS libraries loaded since (PyTorch's) are limited too
            _set_tapegrad_threads(threads)
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


# What a benchmark's fresh interpreter runs first, given ``lib`` ("tapegrad" or "torch") and
# ``threads`` (a count, or "-" for the library's default): the library, as a user's script imports
# it, as ``mods = (library, nn, optim, F)``, and its thread count. contention.py's script uses it too.
_IMPORT_LIBRARY = r"""
if lib == "tapegrad":
    import autograd, nn, optim
    import nn.functional as F
    mods = (autograd, nn, optim, F)
else:
    import torch, torch.nn as nn, torch.optim as optim, torch.nn.functional as F
    mods = (torch, nn, optim, F)
if threads != "-":
    mods[0].set_num_threads(int(threads))
"""

# ---- cold start ---------------------------------------------------------------------------------
# Run in a fresh interpreter: ``argv = [library, path of workloads.py, threads or "-"]``. The
# library is imported first (tapegrad's import must precede NumPy's, see autograd/_runtime.py),
# then the LeNet workload of workloads.py (loaded from its file, without the ``benchmarks``
# package, which would import tapegrad) is built and stepped once. Prints one JSON line.
_COLD_START_SCRIPT = r"""
import sys, time
t0 = time.perf_counter()
lib, path, threads = sys.argv[1], sys.argv[2], sys.argv[3]
""" + _IMPORT_LIBRARY + r"""t_import = time.perf_counter()
import importlib.util, json
import numpy as np
spec = importlib.util.spec_from_file_location("_cold_start_workloads", path)
W = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = W
spec.loader.exec_module(W)
ns = W.Namespace(lib, *mods)
ns.manual_seed(0)
work = W.WORKLOADS["lenet"]
setup = work.setup(ns, work.make_data(np.random.default_rng(0)))
t_setup = time.perf_counter()
loss = setup.step()
t_step = time.perf_counter()
print(json.dumps({"import_s": t_import - t0, "setup_s": t_setup - t_import,
                  "first_step_s": t_step - t_setup, "in_process_s": t_step - t0,
                  "loss": float(loss.detach().numpy())}))
"""


def _cold_start_once(library, cache_dir=None, threads=None, timeout=900):
    """One fresh ``python`` process: import ``library``, build LeNet, one training step.

    Returns the script's timings plus ``wall_s``, the parent's wall-clock time from starting
    the process to its exit (interpreter start-up and shut-down included). ``cache_dir`` is
    the ``NUMBA_CACHE_DIR`` of the child (tapegrad only)."""
    import json
    import subprocess
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "workloads.py")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    cmd = [sys.executable, "-c", _COLD_START_SCRIPT, library, path,
           "-" if threads is None else str(threads)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=root,
                          timeout=timeout)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["(no output)"]
        raise RuntimeError(f"cold-start run of {library} failed with status "
                           f"{proc.returncode}: {tail[0]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_s"] = wall
    return result


def cold_start(runs=3, threads=None, compare_torch=True, progress=True):
    """Time ``import autograd, nn`` -> end of the first LeNet training step in fresh
    processes: tapegrad with a cold Numba cache (a new empty ``NUMBA_CACHE_DIR`` per run, so
    every kernel is compiled), tapegrad with a warm cache (a directory filled by one untimed
    run first), and PyTorch (if ``compare_torch`` and importable).

    Returns ``{config: {"runs": [...], "median": {...}, "min": {...}, "max": {...}}}`` with
    configs ``"tapegrad (cold cache)"``, ``"tapegrad (warm cache)"`` and ``"torch"``; each run
    holds ``wall_s``, ``import_s``, ``setup_s``, ``first_step_s`` and ``in_process_s``.
    """
    import shutil
    import tempfile
    plan = [("tapegrad (cold cache)", "tapegrad", "cold"),
            ("tapegrad (warm cache)", "tapegrad", "warm")]
    if compare_torch:
        try:
            import importlib.util as _util
            if _util.find_spec("torch") is not None:
                plan.append(("torch", "torch", None))
        except (ImportError, ValueError):
            pass
    bar = None
    if progress:
        try:
            from tqdm import tqdm
            bar = tqdm(total=len(plan) * runs + 1, unit="process", file=sys.stderr, leave=False,
                       dynamic_ncols=True, desc="cold start")
        except ImportError:
            bar = None
    results = {}
    warm_dir = tempfile.mkdtemp(prefix="tapegrad-numba-warm-")
    try:
        _cold_start_once("tapegrad", warm_dir, threads)  # fills the warm cache (untimed)
        if bar is not None:
            bar.update(1)
        for name, library, cache in plan:
            records = []
            for _ in range(runs):
                if cache == "cold":
                    cold_dir = tempfile.mkdtemp(prefix="tapegrad-numba-cold-")
                    try:
                        records.append(_cold_start_once(library, cold_dir, threads))
                    finally:
                        shutil.rmtree(cold_dir, ignore_errors=True)
                else:
                    records.append(_cold_start_once(library, warm_dir if cache else None,
                                                    threads))
                if bar is not None:
                    bar.update(1)
            keys = ("wall_s", "import_s", "setup_s", "first_step_s", "in_process_s")
            results[name] = {
                "runs": records,
                "median": {k: statistics.median(r[k] for r in records) for k in keys},
                "min": {k: min(r[k] for r in records) for k in keys},
                "max": {k: max(r[k] for r in records) for k in keys},
            }
    finally:
        shutil.rmtree(warm_dir, ignore_errors=True)
        if bar is not None:
            bar.close()
    return results
