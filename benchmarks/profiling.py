"""``python -m benchmarks --profile NAME``: the profiler's table for one workload, and what
profiling cost it.

The workload (any of ``--list``) is set up on tapegrad, run ``--warmup`` times untimed (Numba
compiles then), then run :data:`STEPS` steps under :class:`autograd.profiler.profile` with
``record_shapes=True`` and a ``record_function("step")`` range around each step. The table is
PyTorch's (``prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=...)``).

Below it the cost of the profiler on the same workload: the median step time without a profiler
and with one, measured in interleaved runs (off, on, off, on, ...) in this process, and their
ratio. Off, the profiler leaves the library's code exactly as it is (see
:mod:`autograd.profiler`), so the 'off' time is the benchmark's ordinary time.
"""

import statistics
import sys
import time

import numpy as np

from .runner import build
from .workloads import WORKLOADS, tapegrad_namespace

__all__ = ["STEPS", "profile_workload", "overhead", "main"]

STEPS = 5        # profiled steps
ROW_LIMIT = 15   # rows of the table
PAIRS = 7        # interleaved (off, on) pairs for the overhead


def _setup(name, seed):
    ns = tapegrad_namespace()
    workload = WORKLOADS[name]
    reason = workload.unavailable_reason(ns)
    if reason:
        raise RuntimeError(f"--profile {name}: the workload cannot run on tapegrad ({reason})")
    return build(workload, [ns], seed)["tapegrad"]


def profile_workload(name, steps=STEPS, warmup=2, seed=0, **options):
    """Run ``steps`` steps of workload ``name`` under the profiler (after ``warmup`` untimed
    ones) and return the :class:`autograd.profiler.profile`. ``options`` go to ``profile``
    (default ``record_shapes=True``)."""
    from autograd.profiler import profile, record_function
    setup = _setup(name, seed)
    for _ in range(warmup):
        setup.step()
    options.setdefault("record_shapes", True)
    with profile(**options) as prof:
        for _ in range(steps):
            with record_function("step"):
                setup.step()
    return prof


def overhead(name, pairs=PAIRS, warmup=2, seed=0, **options):
    """Median step time (ms) of workload ``name`` without and with a recording profiler,
    measured as ``pairs`` interleaved (off, on) steps. Returns ``(off_ms, on_ms, on / off)``."""
    from autograd.profiler import profile
    setup = _setup(name, seed)
    for _ in range(warmup):
        setup.step()
    off, on = [], []
    for _ in range(pairs):
        t = time.perf_counter()
        setup.step()
        off.append(time.perf_counter() - t)
        with profile(**options):
            t = time.perf_counter()
            setup.step()
            on.append(time.perf_counter() - t)
    m_off, m_on = statistics.median(off) * 1e3, statistics.median(on) * 1e3
    return m_off, m_on, m_on / m_off


def main(args, out=sys.stdout):
    """The ``--profile`` entry point of the CLI (``args`` from :func:`benchmarks.cli.parse_args`);
    returns the exit status (2 for an unknown workload)."""
    name = args.profile
    if name not in WORKLOADS:
        print(f"--profile: unknown workload {name!r}; choose from {', '.join(WORKLOADS)}",
              file=sys.stderr)
        return 2
    np.random.seed(args.seed)
    prof = profile_workload(name, warmup=args.warmup, seed=args.seed)
    print(f"tapegrad profile of '{name}': {STEPS} steps after {args.warmup} warm-up steps "
          f"(record_shapes=True)", file=out)
    print(WORKLOADS[name].description, file=out)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=ROW_LIMIT),
          file=out)
    for label, opts in (("profile()", {}), ("profile(record_shapes=True)",
                                            {"record_shapes": True})):
        m_off, m_on, ratio = overhead(name, warmup=1, seed=args.seed, **opts)
        print(f"profiler cost, {label}: {m_off:.3f} ms/step off, {m_on:.3f} ms/step on "
              f"(median of {PAIRS} interleaved pairs): x{ratio:.2f}", file=out)
    return 0
