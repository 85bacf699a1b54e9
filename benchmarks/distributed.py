"""``python -m benchmarks --distributed``: data-parallel scaling and all-reduce bandwidth.

Launch it with the MPI launcher (``pip install tapegrad[dist]``)::

    mpiexec -n 2 python -m benchmarks --distributed
    mpiexec -n 2 python -m benchmarks --distributed --only lenet --repeat 40 --json ddp.json

Rank 0 prints two tables (it reports; it enforces nothing).

**Scaling.** For each workload (``lenet``, ``mlp``: the models, data and optimizers of
``benchmarks/workloads.py``, same global batch throughout) it times one training step in
these configurations, in interleaved blocks (every configuration in turn, ``--repeat`` steps
each in all, after ``--warmup`` steps), medians of the per-step times on rank 0:

- ``1 rank x 1 thread`` and ``1 rank x N threads``: rank 0 alone, the plain model, the whole
  batch (the other ranks wait, sleeping, at a barrier);
- ``N ranks x 1 thread, no communication``: every rank steps its own ``1/N`` of the batch with
  no DDP (how far the machine itself scales: shared caches and memory bandwidth);
- ``N ranks x 1 thread, DDP``: every rank steps ``1/N`` of the batch through
  ``DistributedDataParallel``, gradients averaged during backward.

``speed-up`` is the 1 x 1 median over the configuration's; ``efficiency`` is the speed-up over
the number of cores it uses (``N`` for N threads or N ranks). ``images/s`` counts the global
batch.

**All-reduce bandwidth.** On the same buffers (the DDP buckets of both models, and 1, 10 and
25 MiB of float32), interleaved, after a barrier each time: ``mpi4py`` is a raw blocking
``comm.Allreduce(MPI.IN_PLACE, buf, MPI.SUM)``; ``DDP`` is what DDP issues per bucket,
``autograd.distributed.all_reduce(t, async_op=True).wait()`` (``Iallreduce`` polled with its
timeout). ``algbw`` is bytes / time; ``busbw`` = algbw x 2(N-1)/N (the bytes each rank moves in
a ring all-reduce, NCCL-tests' convention). The target for DDP is within 10% of mpi4py.

On a machine shared with other jobs, look at the spread (min-max) before trusting a number.
"""

import json
import statistics
import sys
import time

import numpy as np

from .workloads import WORKLOADS, _train_step, tapegrad_namespace

__all__ = ["main", "DISTRIBUTED_WORKLOADS"]

# The optimizers of the workloads in benchmarks/workloads.py (a DDP step needs its own, over the
# wrapped model's parameters).
DISTRIBUTED_WORKLOADS = {
    "lenet": lambda optim, params: optim.Adam(params, lr=1e-3),
    "mlp": lambda optim, params: optim.SGD(params, lr=0.1, momentum=0.9),
}
_MIB = 1024 * 1024
_SYNTHETIC_MIB = (1, 10, 25)


def _idle_barrier(comm):
    """A barrier that sleeps while it waits, so a waiting rank leaves the cores to rank 0."""
    req = comm.Ibarrier()
    while not req.Test():
        time.sleep(0.0005)


def _median_row(label, times_s, batch, cores, base_ms=None):
    ms = sorted(t * 1e3 for t in times_s)
    med = statistics.median(ms)
    row = {"config": label, "cores": cores, "median_ms": med, "min_ms": ms[0],
           "max_ms": ms[-1], "steps": len(ms), "images_per_s": batch / (med * 1e-3)}
    if base_ms is not None:
        row["speedup"] = base_ms / med
        row["efficiency"] = row["speedup"] / cores
    return row


def _scaling(name, dist, comm, rank, world, repeat, warmup, seed, progress):
    """Time the configurations of one workload; returns the rows (rank 0) or None."""
    import autograd
    ns = tapegrad_namespace()
    w = WORKLOADS[name]
    data = w.make_data(np.random.default_rng(seed))
    x, y = data["x"], data["y"]
    batch = len(x)
    if batch % world:
        raise SystemExit(f"--distributed: {name}'s batch {batch} does not split over {world} "
                         "ranks")
    share = slice(rank * batch // world, (rank + 1) * batch // world)
    loss = ns.nn.CrossEntropyLoss()
    make_opt = DISTRIBUTED_WORKLOADS[name]

    def model():
        ns.manual_seed(seed)
        return w.setup(ns, data).model

    steps = {}   # label -> (step function or None on ranks that sit out, threads, cores)
    m = model() if rank == 0 else None
    single = (_train_step(m, loss, make_opt(ns.optim, m.parameters()), ns.tensor(x),
                          ns.tensor(y)) if rank == 0 else None)
    steps["1 rank x 1 thread"] = (single, 1, 1)
    if world > 1:
        steps[f"1 rank x {world} threads"] = (single, world, world)
        local = model()
        steps[f"{world} ranks x 1 thread, no communication"] = (
            _train_step(local, loss, make_opt(ns.optim, local.parameters()),
                        ns.tensor(x[share]), ns.tensor(y[share])), 1, world)
        ddp = ns.nn.parallel.DistributedDataParallel(model())
        steps[f"{world} ranks x 1 thread, DDP"] = (
            _train_step(ddp, loss, make_opt(ns.optim, ddp.parameters()),
                        ns.tensor(x[share]), ns.tensor(y[share])), 1, world)
    else:
        ddp = None
    times = {label: [] for label in steps}
    blocks = max(1, min(5, repeat // 2))
    per_block = [repeat // blocks + (1 if b < repeat % blocks else 0) for b in range(blocks)]
    for b, count in enumerate(per_block):
        for label, (step, threads, _) in steps.items():
            if step is not None:
                autograd.set_num_threads(threads)
                for _ in range(warmup if b == 0 else 0):
                    step()
                for _ in range(count):
                    start = time.perf_counter()
                    step()
                    times[label].append(time.perf_counter() - start)
            _idle_barrier(comm)
        if progress and rank == 0:
            print(f"  {name}: block {b + 1}/{blocks}", file=sys.stderr, flush=True)
    buckets = [b.flat for b in ddp._ddp_buckets] if ddp is not None else []
    if rank != 0:
        return None, buckets
    base = statistics.median(times["1 rank x 1 thread"]) * 1e3
    rows = [_median_row(label, times[label], batch, cores,
                        None if label == "1 rank x 1 thread" else base)
            for label, (_, _, cores) in steps.items()]
    return rows, buckets


def _bandwidth(buffers, dist, comm, MPI, world, repeat):
    """Raw mpi4py Allreduce vs DDP's all_reduce on the same buffers; rows on every rank."""
    import autograd
    rows = []
    for label, arr in buffers:
        arr[...] = 0   # sums of zeros stay zeros, however many times they are reduced
        tensor = autograd.from_numpy(arr)
        raw, ddp = [], []
        for i in range(repeat + 3):
            comm.Barrier()
            start = time.perf_counter()
            comm.Allreduce(MPI.IN_PLACE, arr, MPI.SUM)
            t_raw = time.perf_counter() - start
            comm.Barrier()
            start = time.perf_counter()
            dist.all_reduce(tensor, async_op=True).wait()
            t_ddp = time.perf_counter() - start
            if i >= 3:
                raw.append(t_raw)
                ddp.append(t_ddp)
        raw_ms = statistics.median(raw) * 1e3
        ddp_ms = statistics.median(ddp) * 1e3
        factor = 2 * (world - 1) / world
        rows.append({"buffer": label, "bytes": arr.nbytes, "mpi4py_ms": raw_ms,
                     "mpi4py_min_max_ms": [min(raw) * 1e3, max(raw) * 1e3], "ddp_ms": ddp_ms,
                     "ddp_min_max_ms": [min(ddp) * 1e3, max(ddp) * 1e3],
                     "ratio": ddp_ms / raw_ms,
                     "mpi4py_algbw_GBs": arr.nbytes / (raw_ms * 1e-3) / 1e9,
                     "ddp_algbw_GBs": arr.nbytes / (ddp_ms * 1e-3) / 1e9,
                     "mpi4py_busbw_GBs": factor * arr.nbytes / (raw_ms * 1e-3) / 1e9,
                     "ddp_busbw_GBs": factor * arr.nbytes / (ddp_ms * 1e-3) / 1e9})
    return rows


def format_scaling(name, rows):
    """One workload's scaling table (plain text)."""
    lines = [f"{name}: ms per training step, median (min-max)",
             f"  {'configuration':<40} {'ms':>22} {'images/s':>9} {'speed-up':>9} "
             f"{'efficiency':>10}"]
    for r in rows:
        spread = f"{r['median_ms']:.2f} ({r['min_ms']:.2f}-{r['max_ms']:.2f})"
        up = f"{r['speedup']:.2f}x" if "speedup" in r else ""
        eff = f"{100 * r['efficiency']:.0f}%" if "efficiency" in r else ""
        lines.append(f"  {r['config']:<40} {spread:>22} {r['images_per_s']:>9.0f} {up:>9} "
                     f"{eff:>10}")
    return "\n".join(lines)


def format_bandwidth(rows, world):
    """The all-reduce table (plain text)."""
    lines = [f"all-reduce across {world} ranks, ms median (min-max); GB/s algbw / busbw",
             f"  {'buffer':<22} {'MiB':>7} {'mpi4py Allreduce':>24} {'DDP all_reduce':>24} "
             f"{'DDP/mpi4py':>10} {'GB/s mpi4py':>13} {'GB/s DDP':>13}"]
    for r in rows:
        raw = f"{r['mpi4py_ms']:.3f} ({r['mpi4py_min_max_ms'][0]:.3f}-" \
              f"{r['mpi4py_min_max_ms'][1]:.3f})"
        ddp = f"{r['ddp_ms']:.3f} ({r['ddp_min_max_ms'][0]:.3f}-{r['ddp_min_max_ms'][1]:.3f})"
        lines.append(f"  {r['buffer']:<22} {r['bytes'] / _MIB:>7.2f} {raw:>24} {ddp:>24} "
                     f"{r['ratio']:>10.2f} "
                     f"{r['mpi4py_algbw_GBs']:>6.2f}/{r['mpi4py_busbw_GBs']:<6.2f} "
                     f"{r['ddp_algbw_GBs']:>6.2f}/{r['ddp_busbw_GBs']:<6.2f}")
    return "\n".join(lines)


def main(args):
    """Run the distributed benchmark with the parsed CLI ``args`` (``--only``, ``--repeat``,
    ``--warmup``, ``--seed``, ``--json``, ``--no-progress`` apply); returns the exit status."""
    import autograd.distributed as dist
    names = args.only or list(DISTRIBUTED_WORKLOADS)
    unknown = [n for n in names if n not in DISTRIBUTED_WORKLOADS]
    if unknown:
        print(f"--distributed: workloads {', '.join(unknown)} are not part of it; choose from "
              f"{', '.join(DISTRIBUTED_WORKLOADS)}", file=sys.stderr)
        return 2
    dist.init_process_group("mpi")
    from mpi4py import MPI
    rank, world = dist.get_rank(), dist.get_world_size()
    comm = dist.group.WORLD._comm
    progress = not args.no_progress
    if rank == 0 and world == 1:
        print("note: 1 rank; launch with mpiexec -n 2 python -m benchmarks --distributed for "
              "the multi-rank configurations and the all-reduce table", file=sys.stderr)
    scaling, buffers = {}, []
    for name in names:
        if progress and rank == 0:
            print(f"{name}: timing {args.repeat} steps per configuration", file=sys.stderr,
                  flush=True)
        rows, bucket_arrays = _scaling(name, dist, comm, rank, world, args.repeat, args.warmup,
                                       args.seed, progress)
        scaling[name] = rows
        buffers += [(f"{name} DDP bucket {i}", a) for i, a in enumerate(bucket_arrays)]
    bandwidth = []
    if world > 1:
        buffers += [(f"{mib} MiB float32", np.zeros(mib * _MIB // 4, dtype=np.float32))
                    for mib in _SYNTHETIC_MIB]
        if progress and rank == 0:
            print("all-reduce bandwidth", file=sys.stderr, flush=True)
        bandwidth = _bandwidth(buffers, dist, comm, MPI, world, max(args.repeat, 10))
    if rank == 0:
        import autograd
        import numba
        print(f"tapegrad {getattr(autograd, '__version__', '?')} | MPI: "
              f"{MPI.Get_library_version().splitlines()[0].strip()} | {world} rank(s) | "
              f"numba {numba.__version__}")
        for name, rows in scaling.items():
            print()
            print(format_scaling(name, rows))
        if bandwidth:
            print()
            print(format_bandwidth(bandwidth, world))
        sys.stdout.flush()
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"world_size": world, "scaling": scaling, "allreduce": bandwidth,
                           "settings": {"repeat": args.repeat, "warmup": args.warmup,
                                        "seed": args.seed}}, f, indent=2)
            print(f"wrote {args.json}", file=sys.stderr)
    dist.destroy_process_group()
    return 0
