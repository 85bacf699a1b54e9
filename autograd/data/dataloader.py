"""The :class:`DataLoader` (``torch.utils.data.DataLoader``): batches from the main process, or
from worker processes (``num_workers > 0``; the worker side is ``_worker.py``).

Multi-process protocol: each worker has one duplex pipe. The main process sends
``(epoch, idx, task)`` (a task is a list of indices, one index, or ``None`` = "the next batch of
your stream"), ``(epoch, "reset", None)`` at a new epoch of persistent workers over an
:class:`IterableDataset`, and ``None`` to stop; a worker answers ``(epoch, idx, result)``.
The main process waits on every busy worker's pipe and process sentinel at once
(``multiprocessing.connection.wait``), so a dead worker or a timeout is noticed without polling,
buffers out-of-order results and yields them by ``idx``. Results of an abandoned epoch
(persistent workers after a ``break``) are recognised by their epoch and dropped.
"""

import itertools
import multiprocessing
import multiprocessing.connection
import numbers
import os
import re
import sys
import warnings
import weakref

from . import BatchSampler, IterableDataset, RandomSampler, SequentialSampler  # noqa: F401
from . import _check_positive_int, _is_int, default_collate, default_convert
from . import _worker
from .. import _runtime
from ..random import get_rng

__all__ = ["DataLoader", "DEFAULT_START_METHOD"]

DEFAULT_START_METHOD = ("forkserver" if "forkserver" in multiprocessing.get_all_start_methods()
                        else "spawn")  # once Numba's OpenMP pool runs, where the script allows
SHUTDOWN_TIMEOUT = 5.0  # seconds a worker gets to exit before it is terminated


_GUARD = re.compile(r"""^\s*if\s+__name__\s*==\s*['"]__main__['"]\s*:""", re.M)


def _main_is_guarded():
    """Whether the main script can be imported again without running its program: it has an
    ``if __name__ == "__main__":`` block (what ``forkserver`` and ``spawn`` need), or there is
    no script file (an interactive session, ``python -c``, a notebook)."""
    path = getattr(sys.modules.get("__main__"), "__file__", None)
    if not path:
        return True
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return _GUARD.search(f.read()) is not None
    except OSError:
        return True


def _default_context():
    """PyTorch forks its workers on Linux, so scripts without a ``__main__`` guard work. tapegrad
    forks too while that is safe: until Numba's GNU OpenMP thread pool has started in this
    process (a forked child of a process that ran an OpenMP parallel region is terminated by
    Numba if it runs one). After that, ``forkserver`` (``spawn`` where there is none), which
    re-imports the main script in a fresh process; a script without the guard would run its
    whole program again there, so for such a script tapegrad still forks; its workers then run
    every tapegrad kernel's serial twin (:mod:`kernels._twin` switches a process forked after
    OpenMP started to serial), so tapegrad ops in a dataset work there too."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and (not _runtime._numba_omp_started() or not _main_is_guarded()):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context(DEFAULT_START_METHOD)


def _context(mc):
    """The ``multiprocessing`` context for ``multiprocessing_context`` (PyTorch's checks)."""
    if mc is None:
        return _default_context()
    if isinstance(mc, str):
        methods = multiprocessing.get_all_start_methods()
        if mc not in methods:
            raise ValueError("DataLoader: multiprocessing_context option should specify a valid "
                             f"start method in {methods!r}, but got "
                             f"multiprocessing_context={mc!r}")
        return multiprocessing.get_context(mc)
    if isinstance(mc, multiprocessing.context.BaseContext):
        return mc
    raise TypeError("DataLoader: multiprocessing_context option should be a valid context "
                    "object or a string specifying the start method, but got "
                    f"multiprocessing_context={mc!r}")


class DataLoader:
    """Iterate over a dataset in batches (``torch.utils.data.DataLoader``).

    Args:
        dataset (Dataset): map-style (``__getitem__`` + ``__len__``) or an
            :class:`IterableDataset`.
        batch_size (int or None): samples per batch (default 1). ``None`` turns batching off:
            each sample is yielded alone, through ``collate_fn`` or :func:`default_convert`.
        shuffle (bool): reshuffle the indices at every epoch (every ``iter(loader)``), drawing
            from ``generator``.
        sampler (Sampler or iterable, optional): the indices to use; excludes ``shuffle``.
        batch_sampler (Sampler or iterable, optional): yields lists of indices; excludes
            ``batch_size``, ``shuffle``, ``sampler`` and ``drop_last``.
        num_workers (int): how many worker processes load batches (default 0: the main process
            loads them). See "Worker processes" below.
        collate_fn (callable, optional): list of samples -> batch (default
            :func:`default_collate`).
        pin_memory (bool): accepted and does nothing (CPU only: there is no device memory to
            copy to faster); ``pin_memory_device`` likewise.
        drop_last (bool): drop the last batch if smaller than ``batch_size``.
        timeout (float): seconds to wait for a batch from the workers before raising
            ``RuntimeError("DataLoader timed out after ... seconds")``; 0 waits for ever.
        worker_init_fn (callable, optional): called as ``worker_init_fn(worker_id)`` in each
            worker after seeding, before it loads anything.
        multiprocessing_context (str or context, optional): how workers start: ``"fork"``,
            ``"forkserver"``, ``"spawn"`` or a ``multiprocessing`` context; default: chosen as
            below.
        generator (Generator, optional): the random stream of the shuffling and of the workers'
            base seed (default: the default generator, so ``autograd.manual_seed`` makes the
            order repeatable).
        prefetch_factor (int, optional): batches loaded in advance per worker (default 2 with
            workers; must be ``None`` without).
        persistent_workers (bool): keep the workers (and their copy of the dataset) alive
            between epochs instead of starting new ones at every ``iter(loader)``.
        in_order (bool): yield batches in sampler order (default); ``False`` yields each batch as
            soon as a worker has it.

    Batches: with the default ``collate_fn``, a dataset that has ``__getitems__`` gives each
    batch from one ``dataset.__getitems__(indices)`` call (the fast path; :class:`TensorDataset`
    and the MNIST datasets have one); otherwise ``collate_fn([dataset[i] for i in indices])``.

    ``len(loader)`` is the number of batches: ``ceil(N / batch_size)``, ``floor`` with
    ``drop_last`` (for an :class:`IterableDataset`, computed from its ``__len__`` if it has one).

    Worker processes (``num_workers > 0``), as in PyTorch:

    * Each worker gets a pickled copy of ``dataset``, ``collate_fn`` and ``worker_init_fn``
      (so they must be picklable: defined at a module's top level, not lambdas), and loads whole
      batches: the main process iterates the sampler and sends each worker index lists, keeping
      ``prefetch_factor`` batches in flight per worker, and yields the batches in order.
    * Seeds: a ``base_seed`` is drawn from ``generator`` for each set of workers; worker ``i``
      seeds Python's ``random`` and tapegrad's default generator with ``base_seed + i`` and
      NumPy's global generator with a state derived from both, so random transforms differ
      between workers and are repeatable under ``autograd.manual_seed``.
      :func:`get_worker_info` returns ``(id, num_workers, seed, dataset)`` inside a worker
      (``None`` in the main process); an :class:`IterableDataset` uses it to split its stream
      (otherwise every worker yields the whole stream, as in PyTorch).
    * An exception in a worker is raised in the main process, same type, with the worker's
      traceback in the message: ``Caught ValueError in DataLoader worker process 0.
      Original Traceback (most recent call last): ...``. A worker that dies raises
      ``RuntimeError: DataLoader worker (pid(s) ...) exited unexpectedly``.
    * Workers run 1 thread each (Numba and BLAS, PyTorch's rule). They ignore Ctrl-C; the main
      process stops them when the epoch ends, when the iterator is garbage collected (a
      ``break``, an exception, Ctrl-C), when the loader is (persistent workers), and at exit;
      a worker whose main process died exits when its pipe closes. None are left behind.
    * Start method, by default: ``fork`` (as PyTorch on Linux) until Numba's parallel loops have
      run in this process, then ``forkserver`` (``spawn`` where there is none), because GNU
      OpenMP, which runs Numba's parallel loops, is not fork-safe once a parallel region has
      run (Numba terminates a forked child that runs one). ``forkserver`` imports the main
      script again, so it needs ``if __name__ == "__main__":``; a script without that guard
      keeps ``fork``, and its workers run tapegrad's kernels serially (each kernel's serial
      twin, chosen automatically in a forked child; other OpenMP code in a worker, e.g. the
      user's own Numba ``parallel=True`` functions, is still unsafe). ``persistent_workers=True`` starts workers once
      per run instead of once per epoch, so they are forked before the first training step.
    * Batches come back pickled, their arrays out of band (two copies of a batch in all, see
      ``autograd/data/_worker.py``).

    Raises:
        ValueError: incompatible options (as PyTorch: ``sampler`` with ``shuffle``,
            ``batch_sampler`` with the batching options, ``drop_last`` with
            ``batch_size=None``, ``shuffle`` or ``sampler`` with an :class:`IterableDataset`,
            negative ``num_workers``, ``prefetch_factor`` or ``persistent_workers`` or
            ``multiprocessing_context`` without workers, an unknown start method).
        TypeError: ``multiprocessing_context`` neither a string nor a context.

    Differences from PyTorch: no pinned memory; once Numba's parallel loops have run, workers of
    a guarded script start with ``forkserver``, not ``fork``; a shuffled order, and the numbers drawn in workers, differ from PyTorch's for the
    same seed (NumPy's streams).

    Example::

        loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
        for xb, yb in loader:
            ...
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if not _is_int(num_workers) or num_workers < 0:
            raise ValueError("DataLoader: num_workers option should be a non-negative integer; "
                             f"got num_workers={num_workers!r}")
        if not isinstance(timeout, numbers.Real) or timeout < 0:
            raise ValueError("DataLoader: timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("DataLoader: prefetch_factor option could only be specified in "
                             "multiprocessing. let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and (not _is_int(prefetch_factor) or prefetch_factor < 1):
            raise ValueError("DataLoader: prefetch_factor option should be a positive integer, "
                             f"got prefetch_factor={prefetch_factor!r}")
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        if multiprocessing_context is not None:
            if num_workers == 0:
                raise ValueError("DataLoader: multiprocessing_context can only be used with "
                                 "multi-process loading (num_workers > 0), but got "
                                 f"num_workers={num_workers}")
            _context(multiprocessing_context)  # checked now, not at the first iter()
        shuffle = bool(shuffle) if shuffle is not None else False
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler!r}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None:
            if drop_last:
                raise ValueError("DataLoader: batch_size=None option disables auto-batching and "
                                 "is mutually exclusive with drop_last")
        else:
            _check_positive_int("DataLoader", "batch_size", batch_size)

        if sampler is None and not self._iterable:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, bool(drop_last))

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = bool(drop_last)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = int(num_workers)
        self.generator = generator
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = bool(persistent_workers)
        self._pool = None  # the persistent workers, once started
        self.pin_memory_device = pin_memory_device
        self.in_order = in_order
        self._auto_collation = batch_sampler is not None or (self._iterable and
                                                             batch_size is not None)
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    def _uses_getitems(self):
        """Whether batches come from one ``dataset.__getitems__`` call (the fast path)."""
        return (self._auto_collation and not self._iterable
                and self.collate_fn is default_collate
                and hasattr(self.dataset, "__getitems__"))

    def _worker_spec(self):
        """What a worker needs besides the dataset to build batches as this loader does."""
        return {"iterable": self._iterable, "batch_size": self.batch_size,
                "drop_last": self.drop_last, "auto_collation": self._auto_collation,
                "collate_fn": self.collate_fn, "getitems": self._uses_getitems()}

    def __iter__(self):
        if self.num_workers == 0:
            return _LoaderIter(self)
        return _MultiProcessIter(self)

    def _workers(self):
        """``(pool, owned)``: the persistent workers (started if needed), or a new set owned by
        one epoch."""
        if not self.persistent_workers:
            return _WorkerPool(self), True
        if self._pool is None or not self._pool.alive():
            if self._pool is not None:
                self._pool.shutdown()
            self._pool = _WorkerPool(self)
        return self._pool, False

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_pool"] = None  # worker processes do not travel
        return state

    def __len__(self):
        if self._iterable:
            n = len(self.dataset)  # TypeError if the stream has no length, as PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __repr__(self):
        return (f"DataLoader(dataset={type(self.dataset).__name__}, batch_size="
                f"{self.batch_size}, sampler={type(self.sampler).__name__}, "
                f"drop_last={self.drop_last})")


class _LoaderIter:
    """One epoch of a :class:`DataLoader` (what ``iter(loader)`` returns); has ``len``."""

    def __init__(self, loader):
        self._loader = loader
        self._gen = self._batches(loader)

    @staticmethod
    def _batches(loader):
        """Generate the batches of one epoch."""
        dataset = loader.dataset
        collate = loader.collate_fn
        if loader._iterable:
            if loader.batch_size is None:
                for sample in dataset:
                    yield collate(sample)
                return
            batch = []
            for sample in dataset:
                batch.append(sample)
                if len(batch) == loader.batch_size:
                    yield collate(batch)
                    batch = []
            if batch and not loader.drop_last:
                yield collate(batch)
            return
        if loader.batch_sampler is None:
            for i in loader.sampler:
                yield collate(dataset[i])
            return
        if loader._uses_getitems():
            getitems = dataset.__getitems__
            for indices in loader.batch_sampler:
                yield getitems(indices)
            return
        for indices in loader.batch_sampler:
            yield collate([dataset[i] for i in indices])

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._gen)

    def __len__(self):
        return len(self._loader)


# --- worker processes -------------------------------------------------------------------------

def _shutdown_workers(procs, conns):
    """Stop workers: ask (``None``), close the pipes (a worker blocked writing a batch gets
    EPIPE), wait, then terminate and kill what is left. Safe to call twice."""
    for c in conns:
        try:
            c.send(None)
        except (OSError, ValueError, EOFError):
            pass
    for c in conns:
        try:
            c.close()
        except OSError:
            pass
    for p in procs:
        try:
            p.join(SHUTDOWN_TIMEOUT)
            if p.is_alive():
                p.terminate()
                p.join(1.0)
            if p.is_alive():
                p.kill()
                p.join()
        except (AssertionError, ValueError):  # never started / already closed
            pass
    procs.clear()
    conns.clear()


class _WorkerPool:
    """``num_workers`` started worker processes with their pipes (one set per epoch, or one for
    the loader's life with ``persistent_workers``)."""

    def __init__(self, loader):
        ctx = _context(loader.multiprocessing_context)
        self.num_workers = n = loader.num_workers
        self.base_seed = int(get_rng(loader.generator).integers(0, 2 ** 63 - 1))
        self.epoch = 0
        self.procs, self.conns = [], []
        self._finalizer = weakref.finalize(self, _shutdown_workers, self.procs, self.conns)
        if ctx.get_start_method() == "fork" and loader.multiprocessing_context is not None:
            _warn_if_fork_unsafe()
        cores = _cores()
        if n > cores:
            warnings.warn(f"This DataLoader will create {n} worker processes in total. Our "
                          f"suggested max number of worker in current system is {cores}, which "
                          "is smaller than what this DataLoader is going to create. Please be "
                          "aware that excessive worker creation might get DataLoader running "
                          "slow or even freeze, lower the worker number to avoid potential "
                          "slowness/freeze if necessary.", UserWarning, stacklevel=4)
        spec = loader._worker_spec()
        try:
            for wid in range(n):
                parent, child = ctx.Pipe(duplex=True)
                p = ctx.Process(target=_worker.worker_loop,
                                args=(child, loader.dataset, spec, wid, n, self.base_seed,
                                      loader.worker_init_fn),
                                name=f"{_runtime.WORKER_NAME_PREFIX}-{wid}", daemon=True)
                self.conns.append(parent)
                try:
                    p.start()
                except Exception as e:
                    raise _start_error(e, ctx) from e
                finally:
                    child.close()
                self.procs.append(p)
        except BaseException:
            self.shutdown()
            raise

    def alive(self):
        """Whether every worker still runs."""
        return bool(self.procs) and all(p.is_alive() for p in self.procs)

    def shutdown(self):
        """Stop the workers now (also done when the pool is garbage collected, and at exit)."""
        self._finalizer()


def _start_error(e, ctx):
    """A clearer error for a worker that cannot start because something does not pickle."""
    import pickle
    if isinstance(e, (pickle.PicklingError, AttributeError, TypeError)) and \
            ctx.get_start_method() != "fork":
        return type(e)(f"DataLoader: cannot start a worker process with the "
                       f"{ctx.get_start_method()!r} start method: {e}. The dataset, collate_fn "
                       f"and worker_init_fn are pickled to each worker, so they must be "
                       f"defined at the top level of a module (not lambdas or local "
                       f"functions)")
    return e


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _warn_if_fork_unsafe():
    if _runtime._numba_omp_started():
        warnings.warn("DataLoader: multiprocessing_context='fork' after Numba's OpenMP thread "
                      "pool has started: GNU OpenMP is not fork-safe; tapegrad's kernels run "
                      "serially in the workers, but other OpenMP code there (your own Numba "
                      "parallel functions) may hang; use 'forkserver' (the default) or 'spawn'",
                      RuntimeWarning, stacklevel=5)


_SKIP = object()  # a task that produced nothing (an exhausted stream)


class _MultiProcessIter:
    """One epoch over a :class:`_WorkerPool` (what ``iter(loader)`` returns with workers)."""

    def __init__(self, loader):
        self._loader = loader
        self._done = True  # until the workers run
        # the sampler draws its order before the workers' base seed is drawn from the same
        # generator, so the first epoch's order equals the one of num_workers=0
        self._pending = []
        if loader._iterable:
            self._tasks = None
        else:
            self._tasks = iter(loader.batch_sampler if loader._auto_collation
                               else loader.sampler)
            self._pending = [t for t in itertools.islice(self._tasks, 1)]
        pool, self._owns = loader._workers()
        self._pool = pool
        pool.epoch += 1
        self._epoch = pool.epoch
        n = pool.num_workers
        if loader._iterable and self._epoch > 1:  # persistent workers: restart every stream
            for c in pool.conns:
                c.send((self._epoch, "reset", None))
        self._active = [True] * n
        self._cycle = itertools.cycle(range(n))
        self._send_idx = self._rcvd_idx = 0
        self._outstanding = {}   # idx -> worker id
        self._buffer = {}        # idx -> result
        self._tasks_done = False
        self._done = False
        self._timeout = loader.timeout
        for _ in range(loader.prefetch_factor * n):
            self._put()

    def _put(self):
        """Send the next task to the next active worker (round-robin)."""
        if self._tasks_done:
            return
        for _ in range(len(self._active)):
            wid = next(self._cycle)
            if self._active[wid]:
                break
        else:
            self._tasks_done = True
            return
        if self._tasks is None:
            task = None
        elif self._pending:
            task = self._pending.pop()
        else:
            try:
                task = next(self._tasks)
            except StopIteration:
                self._tasks_done = True
                return
            if isinstance(task, (list, tuple)):
                task = [int(i) for i in task]
        try:
            self._pool.conns[wid].send((self._epoch, self._send_idx, task))
        except OSError:   # a broken pipe: the worker died between two tasks
            proc = self._pool.procs[wid]
            proc.join(5)
            if proc.is_alive():
                raise
            self._raise_dead([wid])
        self._outstanding[self._send_idx] = wid
        self._send_idx += 1

    def _receive(self):
        """Wait for at least one result (or a dead worker, or the timeout)."""
        busy = sorted(set(self._outstanding.values()))
        conns = {self._pool.conns[w]: w for w in busy}
        sentinels = {self._pool.procs[w].sentinel: w for w in busy}
        ready = multiprocessing.connection.wait(list(conns) + list(sentinels),
                                                timeout=self._timeout or None)
        if not ready:
            self._finish()
            raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
        got = set()
        for r in ready:
            if r not in conns:
                continue
            w = conns[r]
            try:
                epoch, idx, result = _worker.recv(r)
            except (EOFError, OSError):
                continue  # the sentinel says why
            got.add(w)
            if epoch != self._epoch:
                continue  # left over from an abandoned epoch
            self._outstanding.pop(idx, None)
            if isinstance(result, _worker.Exhausted):
                self._active[w] = False
                result = _SKIP
            self._buffer[idx] = result
        dead = [sentinels[r] for r in ready if r in sentinels and sentinels[r] not in got]
        dead = [w for w in dead if not self._pool.procs[w].is_alive()]
        if dead:
            self._raise_dead(dead)

    def _raise_dead(self, dead):
        """Stop the pool and raise PyTorch's error for the workers ``dead`` (indices)."""
        pids = ", ".join(str(self._pool.procs[w].pid) for w in dead)
        codes = ", ".join(str(self._pool.procs[w].exitcode) for w in dead)
        self._finish()
        raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly "
                           f"(exit code(s) {codes})")

    def __next__(self):
        if self._done:
            raise StopIteration
        while True:
            if self._loader.in_order:
                key = self._rcvd_idx if self._rcvd_idx in self._buffer else None
            else:
                key = min(self._buffer) if self._buffer else None
            if key is not None:
                result = self._buffer.pop(key)
                if self._loader.in_order:
                    self._rcvd_idx += 1
                self._put()
                if result is _SKIP:
                    continue
                if isinstance(result, _worker.ExceptionWrapper):
                    self._finish()
                    result.reraise()
                return result
            if not self._outstanding:
                self._put()
                if not self._outstanding:
                    self._finish()
                    raise StopIteration
                continue
            self._receive()

    def _finish(self):
        if not self._done:
            self._done = True
            if self._owns:
                self._pool.shutdown()

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def __del__(self):
        try:
            self._finish()
        except Exception:  # noqa: BLE001  (interpreter shutdown)
            pass
