"""tapegrad's benchmark CLI: ``python -m benchmarks``.

Each workload (``--list``) is one training step (forward, loss, backward, optimizer step,
zero_grad) or one kernel's forward + backward, in float32. It is written once against PyTorch's
names, so the same code runs on tapegrad and, with ``--compare torch``, on PyTorch::

    python -m benchmarks                                   # tapegrad only
    python -m benchmarks --compare torch --threads 2       # against PyTorch, 2 threads each
    python -m benchmarks --compare torch --only conv,mlp --json bench.json --plot bench.png
    python -m benchmarks --compare torch --markdown        # the table for the README

How to read the numbers
-----------------------
* Times are milliseconds per step: the **median** of the timed steps, with the minimum and
  maximum in parentheses. Warm-up steps (``--warmup``, which include Numba's JIT compilation
  and PyTorch's first-call set-up) are not timed; the JSON keeps the first step's time apart.
* With ``--compare torch`` both libraries run **in the same process, interleaved** (one
  tapegrad step, one PyTorch step, and so on), on the same NumPy-made inputs and the same
  initial weights, so slow drift of the machine (other jobs, clock changes) hits both alike.
* **ratio = tapegrad median / PyTorch median: lower is better for tapegrad**; 1.0 is parity,
  2.0 means tapegrad takes twice as long, 0.5 that it takes half as long.
* GFLOP/s counts only the convolution and matrix-product FLOPs a step needs (forward, weight
  gradients, and input gradients where the input needs one), so it is a lower bound on the
  work done; it is left blank where such products do not dominate (pooling, tiny ops, XOR).
* ``tiny_ops`` also reports the time per recorded op (1,000 multiplies + 1,000 adds): the
  engine's per-op overhead in the forward and backward passes together.
* On a shared or busy machine look at the spread (min-max) before trusting a ratio; the
  minimum is the least disturbed run. Use ``--threads`` so both libraries use the same number
  of cores. ``import autograd`` (first, in this package) sets ``OMP_WAIT_POLICY=PASSIVE`` for
  the whole process (unless it is already set) before either library loads: interleaved
  A B A B steps otherwise let one library's idle OpenMP workers spin on the cores the other
  needs next (measured on 2 cores: tapegrad's ``conv`` 24.8 ms -> 13.5 ms, PyTorch's 9.2 ->
  8.6 ms, ``lenet`` 28.6 -> 20.3 vs 21.7 -> 22.3 ms). The JSON records the setting.

Busy machines
-------------
``python -m benchmarks --contention N`` (:mod:`benchmarks.contention`) measures something
else: each library's slowdown when ``N`` other busy processes share the machine, in fresh
processes started as a user's script is (no settings from this CLI), on the main example and
the workloads.
"""

import autograd  # noqa: F401  (first: tapegrad's thread policy, autograd/_runtime.py)

from .workloads import WORKLOADS, Namespace, Workload, tapegrad_namespace, torch_namespace

__all__ = ["WORKLOADS", "Workload", "Namespace", "tapegrad_namespace", "torch_namespace", "main"]


def main(argv=None):
    """Run the benchmark CLI with ``argv`` (see ``python -m benchmarks --help``); returns the
    exit status."""
    from .cli import main as _main
    return _main(argv)
