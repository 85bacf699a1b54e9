"""``python -m kernels.precompile``: compile tapegrad's Numba kernels ahead of time.

Numba compiles each kernel on its first call and keeps the machine code in its on-disk cache
(``cache=True``: ``NUMBA_CACHE_DIR``, or ``__pycache__`` beside the sources), so only a
process that meets a cold cache pays for it. This command fills the cache in advance (in CI,
a Docker build, or after installing), by calling every kernel of the chosen *families* once
on tiny arrays of each chosen dtype: the parallel twins, and for the families whose entry
points choose by size (norm, loss, attention, rnn) the serial twins too (the serial twins of
conv and pool run only in a forked child, see :mod:`kernels._twin`, and compile there):

============  ====================================================================
family        kernels (what a model with these layers needs)
============  ====================================================================
conv          conv2d (im2col + GEMM, grouped), Winograd 3x3, depthwise, transposed
pool          max / average / adaptive pooling, forward and backward
norm          batch norm (training), layer norm / group norm
loss          cross-entropy with class indices, embedding backward
attention     scaled dot-product attention (transformers)
rnn           LSTM, GRU, RNN sequence kernels
optim         the fused Adam / AdamW update
============  ====================================================================

Usage::

    python -m kernels.precompile                      # every family, float32
    python -m kernels.precompile conv pool loss       # what a CNN classifier needs
    python -m kernels.precompile --dtype float32 float64 --jobs 2

Families run in ``--jobs`` worker processes at once (default: the CPU count; Numba's cache is
safe to fill from several processes); each prints its time. Exit status 0, or 1 if a family
failed (its error is printed).
"""

import argparse
import os
import sys
import time

import numpy as np

__all__ = ["FAMILIES", "compile_family", "main"]


def _conv(dt):
    from . import conv, depthwise, winograd
    r = np.random.default_rng(0)
    x = r.standard_normal((2, 4, 6, 6)).astype(dt)
    w = r.standard_normal((4, 4, 3, 3)).astype(dt)
    b = np.zeros(4, dt)
    y = conv.conv2d_forward(x, w, b, 1, 1, 1)
    conv.conv2d_backward(np.ones_like(y), x, w, 1, 1, 1)
    wg = r.standard_normal((4, 2, 3, 3)).astype(dt)
    y = conv.conv2d_forward(x, wg, b, 1, 1, 1, 2)
    conv.conv2d_backward(np.ones_like(y), x, wg, 1, 1, 1, groups=2)
    y = winograd.conv2d_winograd_forward(x, w, b, 1)
    winograd.conv2d_winograd_backward(np.ones_like(y), x, w, 1)
    wd = r.standard_normal((4, 1, 3, 3)).astype(dt)
    y = depthwise.depthwise_conv2d_forward(x, wd, b, 1, 1, 1)
    depthwise.depthwise_conv2d_backward(np.ones_like(y), x, wd, 1, 1, 1)
    y, x2 = conv.conv_transpose2d_forward(x, w, b, 2, 1, 1, 1)
    conv.conv_transpose2d_backward(np.ones_like(y), x.shape, w, x2, 2, 1, 1, 1)


def _pool(dt):
    from . import pool
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(dt)
    y, am = pool.max_pool2d_forward(x, 2, 2, 0, 1)
    pool.max_pool2d_backward(np.ones_like(y), am, x.shape)
    y = pool.avg_pool2d_forward(x, 2, 2, 0)
    pool.avg_pool2d_backward(np.ones_like(y), x.shape, 2, 2, 0)
    y = pool.adaptive_avg_pool2d_forward(x, (1, 1))
    pool.adaptive_avg_pool2d_backward(np.ones_like(y), x.shape)
    y, am = pool.adaptive_max_pool2d_forward(x, (2, 2))
    pool.max_pool2d_backward(np.ones_like(y), am, x.shape)


def _norm(dt):
    from . import batchnorm, fused
    x = np.random.default_rng(0).standard_normal((4, 3, 5)).astype(dt)
    w, b = np.ones(3, dt), np.zeros(3, dt)
    for par in (True, False):
        y, mean, var = batchnorm.batch_norm_forward(x, w, b, parallel=par)
        batchnorm.batch_norm_backward(np.ones_like(y), x, w, mean, 1 / np.sqrt(var + 1e-5),
                                      parallel=par)
        x2 = x.reshape(12, 5)
        y, mean, rstd = fused.layer_norm_forward(x2, np.ones(5, dt), np.zeros(5, dt),
                                                 parallel=par)
        fused.layer_norm_backward(np.ones_like(y), x2, np.ones(5, dt), mean, rstd,
                                  parallel=par)


def _loss(dt):
    from . import fused
    r = np.random.default_rng(0)
    x = r.standard_normal((6, 5, 1)).astype(dt)
    t = r.integers(0, 5, (6, 1)).astype(np.int64)
    for par in (True, False):
        loss, mx, ls = fused.cross_entropy_forward(x, t, parallel=par)
        fused.cross_entropy_backward(np.ones((6, 1), dt), x, t, mx, ls, parallel=par)
        fused.embedding_backward(r.standard_normal((6, 4)).astype(dt), t.reshape(6), 5,
                                 parallel=par)


def _attention(dt):
    from . import attention
    r = np.random.default_rng(0)
    q = r.standard_normal((2, 4, 8)).astype(dt)
    for par in (True, False):
        out, lse = attention.sdpa_forward(q, q, q, parallel=par)
        attention.sdpa_backward(np.ones_like(out), q, q, q, out, lse, parallel=par)


def _rnn(dt):
    from . import rnn
    r = np.random.default_rng(0)
    L, N, H = 3, 2, 4
    w = r.standard_normal((4 * H, H)).astype(dt)
    h0 = np.zeros((N, H), dt)
    for par in (True, False):
        xp = r.standard_normal((L, N, 4 * H)).astype(dt)
        out, cs, gates = rnn.lstm_forward(xp, w, None, parallel=par)
        rnn.lstm_backward(np.ones_like(out), None, w, h0, h0, out, cs, gates, parallel=par)
        wg = r.standard_normal((3 * H, H)).astype(dt)
        xg = r.standard_normal((L, N, 3 * H)).astype(dt)
        out, gates = rnn.gru_forward(xg, wg, None, parallel=par)
        rnn.gru_backward(np.ones_like(out), wg, h0, out, gates, parallel=par)
        wr = r.standard_normal((H, H)).astype(dt)
        out = rnn.rnn_forward(r.standard_normal((L, N, H)).astype(dt), wr, None, parallel=par)
        rnn.rnn_backward(np.ones_like(out), wr, h0, out, parallel=par)


def _optim(dt):
    from . import optim
    a = [np.ones(4, dt) for _ in range(5)]
    for par in (True, False):
        optim.adam_step(*a, 1, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                        amsgrad=False, maximize=False, parallel=par)


FAMILIES = {"conv": _conv, "pool": _pool, "norm": _norm, "loss": _loss,
            "attention": _attention, "rnn": _rnn, "optim": _optim}


def compile_family(name, dtypes=("float32",)):
    """Run family ``name``'s kernels once per dtype (compiling what the cache lacks); returns
    the seconds it took."""
    t0 = time.perf_counter()
    for dt in dtypes:
        FAMILIES[name](np.dtype(dt).type)
    return time.perf_counter() - t0


def _worker(name, dtypes):
    try:
        return name, compile_family(name, dtypes), None
    except Exception as e:  # reported by the parent, with the family's name
        return name, None, f"{type(e).__name__}: {e}"


def main(argv=None):
    """Command line of ``python -m kernels.precompile [families] [--dtype ...] [--jobs N]``:
    compile the named kernel families (all by default) into Numba's on-disk cache. Returns the
    exit status: 0, or 1 if a family failed to compile.

    Raises:
        SystemExit: status 2 for a usage error (an unknown family; argparse's)."""
    p = argparse.ArgumentParser(prog="python -m kernels.precompile",
                                description="Compile tapegrad's Numba kernels into Numba's "
                                            "on-disk cache ahead of their first use.")
    p.add_argument("families", nargs="*", metavar="FAMILY",
                   help=f"kernel families to compile (default: all of {', '.join(FAMILIES)})")
    p.add_argument("--dtype", nargs="+", default=["float32"], choices=["float32", "float64"],
                   help="dtypes to compile for (default: float32)")
    p.add_argument("--jobs", type=int, default=None,
                   help="worker processes (default: the CPU count; 1: in this process)")
    args = p.parse_args(argv)
    names = args.families or list(FAMILIES)
    unknown = [n for n in names if n not in FAMILIES]
    if unknown:
        p.error(f"unknown kernel family {', '.join(unknown)}; choose from {', '.join(FAMILIES)}")
    from ._notice import cache_dir
    jobs = max(1, min(args.jobs or os.cpu_count() or 1, len(names)))
    print(f"compiling kernel families {', '.join(names)} for {', '.join(args.dtype)} into "
          f"{cache_dir()} ({jobs} process{'es' if jobs > 1 else ''})", flush=True)
    t0 = time.perf_counter()
    if jobs == 1:
        results = [_worker(n, args.dtype) for n in names]
    else:
        import importlib
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        ctx = multiprocessing.get_context("spawn")  # no fork of Numba's thread pools
        # the worker by its module name (under ``-m`` this module is ``__main__``, which the
        # spawned workers cannot import from)
        worker = importlib.import_module(f"{__package__}.precompile")._worker
        with ProcessPoolExecutor(jobs, mp_context=ctx) as ex:
            results = list(ex.map(worker, names, [args.dtype] * len(names)))
    failed = 0
    for name, seconds, error in results:
        if error:
            failed += 1
            print(f"  {name:<10} FAILED: {error}", file=sys.stderr)
        else:
            print(f"  {name:<10} {seconds:6.1f} s")
    print(f"done in {time.perf_counter() - t0:.1f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
