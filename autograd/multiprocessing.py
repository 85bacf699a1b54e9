"""``autograd.multiprocessing`` (``torch.multiprocessing``): Python's :mod:`multiprocessing`
with tensors that travel through shared memory.

Everything of :mod:`multiprocessing` is here (``Process``, ``Queue``, ``Pipe``, ``Pool``,
``set_start_method``, ``get_context``, ...). A tensor moved to shared memory with
``Tensor.share_memory_()`` (or ``Module.share_memory()``) and passed to a child process
(``Process`` args, a ``Queue``) arrives as a view of the *same* memory, so in-place updates in
any process (an optimizer step) are seen by all — PyTorch's hogwild recipe::

    import autograd.multiprocessing as mp
    model.share_memory()
    ps = [mp.Process(target=train, args=(rank, model)) for rank in range(2)]
    for p in ps: p.start()
    for p in ps: p.join()          # model now holds both processes' updates

Tensors not in shared memory are copied, as with plain pickling. :func:`spawn` is
``torch.multiprocessing.spawn``.

Differences from PyTorch: one sharing strategy (memory-mapped files in ``/dev/shm``;
``get_all_sharing_strategies()`` is ``{'file_system'}``); the tensor memory is file-backed and
the creating process removes the files at exit.
"""

import multiprocessing as _mp
import traceback as _traceback
from multiprocessing import *  # noqa: F401,F403

from . import _shared
from .tensor import Tensor as _Tensor

__all__ = list(getattr(_mp, "__all__", [])) + [
    "spawn", "start_processes", "ProcessContext", "ProcessRaisedException",
    "ProcessExitedException", "get_sharing_strategy", "set_sharing_strategy",
    "get_all_sharing_strategies"]

_shared.register_type(_Tensor)
_strategy = "file_system"


def get_all_sharing_strategies():
    """The sharing strategies available: ``{'file_system'}``."""
    return {"file_system"}


def get_sharing_strategy():
    """The current sharing strategy (always ``'file_system'``)."""
    return _strategy


def set_sharing_strategy(new_strategy):
    """Set the sharing strategy; only ``'file_system'`` exists (``'file_descriptor'`` is
    accepted and means the same here).

    Raises:
        ValueError: for an unknown strategy."""
    if new_strategy not in ("file_system", "file_descriptor"):
        raise ValueError(f"set_sharing_strategy: unknown strategy {new_strategy!r}; expected "
                         "'file_system' or 'file_descriptor'")


class ProcessException(Exception):
    """Base of the errors :func:`spawn` raises for a failed child."""

    def __init__(self, msg, error_index, pid):
        super().__init__(msg)
        self.msg, self.error_index, self.pid = msg, error_index, pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """A child of :func:`spawn` raised; the message holds its traceback."""


class ProcessExitedException(ProcessException):
    """A child of :func:`spawn` exited with a non-zero code (or a signal)."""

    def __init__(self, msg, error_index, error_pid, exit_code, signal_name=None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code, self.signal_name = exit_code, signal_name

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid, self.exit_code,
                            self.signal_name)


def _wrap(fn, i, args, error_queue):
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass
    except Exception:
        error_queue.put(_traceback.format_exc())
        raise SystemExit(1)


class ProcessContext:
    """The processes started by :func:`start_processes` (``torch.multiprocessing
    .ProcessContext``): ``processes``, ``pids()`` and ``join(timeout=None)``."""

    def __init__(self, processes, error_queues):
        self.processes, self.error_queues = processes, error_queues

    def pids(self):
        return [p.pid for p in self.processes]

    def join(self, timeout=None):
        """Wait for the processes; ``True`` when all finished successfully, ``False`` if some
        are still running after ``timeout`` seconds.

        Raises:
            ProcessRaisedException: a child raised (its traceback in the message); the other
                children are terminated.
            ProcessExitedException: a child exited with a non-zero code.
        """
        import time
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            for i, p in enumerate(self.processes):
                if p.exitcode not in (None, 0):
                    for q in self.processes:
                        if q.is_alive():
                            q.terminate()
                    for q in self.processes:
                        q.join()
                    if not self.error_queues[i].empty():
                        tb = self.error_queues[i].get()
                        raise ProcessRaisedException(
                            f"\n\n-- Process {i} terminated with the following error:\n{tb}",
                            i, p.pid)
                    raise ProcessExitedException(f"process {i} terminated with exit code "
                                                 f"{p.exitcode}", i, p.pid, p.exitcode)
            if all(p.exitcode == 0 for p in self.processes):
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            for p in self.processes:
                if p.exitcode is None:
                    p.join(0.05)
                    break


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """Start ``nprocs`` processes running ``fn(i, *args)`` for ``i`` in ``range(nprocs)`` with
    the given start method; with ``join`` wait for them (raising if one fails), else return
    a :class:`ProcessContext`."""
    ctx = _mp.get_context(start_method)
    processes, queues = [], []
    for i in range(nprocs):
        q = ctx.SimpleQueue()
        p = ctx.Process(target=_wrap, args=(fn, i, tuple(args), q), daemon=daemon)
        p.start()
        processes.append(p)
        queues.append(q)
    context = ProcessContext(processes, queues)
    if not join:
        return context
    while not context.join():
        pass
    return None


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """``torch.multiprocessing.spawn``: run ``fn(i, *args)`` in ``nprocs`` new processes
    (``i`` is the process index).

    Args:
        fn (callable): a module-level function (it is pickled for the child).
        args (tuple): further arguments to ``fn``.
        nprocs (int): how many processes.
        join (bool): wait for all (raising if one fails); otherwise return a
            :class:`ProcessContext`.
        daemon (bool): start them as daemons.
        start_method (str): ``'spawn'`` (default), ``'fork'`` or ``'forkserver'``.

    Raises:
        ProcessRaisedException, ProcessExitedException: a child failed (with ``join``).
    """
    return start_processes(fn, args, nprocs, join, daemon, start_method)
