"""The DataLoader's worker processes: what runs inside them, and how batches and errors travel.

A worker is started by :class:`autograd.data.DataLoader` with ``num_workers > 0`` (see
``dataloader.py`` for the start method and the protocol). It runs :func:`worker_loop`: one
thread per BLAS/Numba pool (``autograd._runtime.configure_worker``), seeds, ``worker_init_fn``,
then it answers tasks from its pipe until told to stop or until the pipe closes (the main
process is gone): a task is a list of indices (a batch), one index (``batch_size=None``), or
"the next batch of your stream" (an :class:`IterableDataset`).

Transport: a result is pickled with protocol 5 and its array buffers are sent out of band,
straight from the arrays' memory to the pipe (``pickle.PickleBuffer``); the main process
receives each buffer into a fresh ``bytearray`` that the unpickled arrays then use, so a batch
is copied twice (into the pipe, out of it), not four times as through ``multiprocessing.Queue``.
"""

import pickle
import random
import signal
import traceback

__all__ = ["WorkerInfo", "get_worker_info", "worker_loop", "ExceptionWrapper", "send", "recv"]

_worker_info = None


class WorkerInfo:
    """What :func:`get_worker_info` returns inside a worker process
    (``torch.utils.data.get_worker_info()``'s object).

    Attributes:
        id (int): this worker, ``0 .. num_workers - 1``.
        num_workers (int): the loader's ``num_workers``.
        seed (int): this worker's seed, ``base_seed + id`` (``base_seed`` is drawn from the
            loader's ``generator``, or the default generator, once per set of workers).
        dataset: this process's copy of the dataset.

    Setting an attribute raises ``RuntimeError`` (as in PyTorch).
    """

    __initialized = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs.keys())
        self.__initialized = True

    def __setattr__(self, key, val):
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {self.__class__.__name__} objects")
        return super().__setattr__(key, val)

    def __repr__(self):
        items = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__keys if k != "dataset")
        return f"{self.__class__.__name__}({items}, dataset={type(self.dataset).__name__})"


def get_worker_info():
    """Inside a DataLoader worker process, its :class:`WorkerInfo` (``id``, ``num_workers``,
    ``seed``, ``dataset``); ``None`` in the main process (``torch.utils.data.get_worker_info``).

    Use it in an :class:`IterableDataset`'s ``__iter__`` to give each worker its own share of the
    stream, or in ``worker_init_fn`` to configure each worker's copy of the dataset.
    """
    return _worker_info


class ExceptionWrapper:
    """An exception raised in a worker, with its formatted traceback, sent to the main process
    and raised there by :meth:`reraise` with PyTorch's message: ``"Caught ValueError in
    DataLoader worker process 0.\\nOriginal Traceback (most recent call last): ..."``."""

    def __init__(self, exc, where):
        self.exc_type = type(exc)
        self.where = where
        self.exc_msg = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        try:  # a class the main process cannot import is sent as its name only
            pickle.loads(pickle.dumps(self.exc_type))
        except Exception:  # noqa: BLE001
            self.exc_type = RuntimeError

    def reraise(self):
        """Raise the worker's exception type with the worker's traceback in its message."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        try:
            exc = self.exc_type(msg)
        except Exception:  # noqa: BLE001  (its constructor wants other arguments)
            raise RuntimeError(msg) from None
        raise exc


class _KeyErrorMessage(str):
    """KeyError shows ``repr`` of its argument; this keeps the traceback's newlines."""

    def __repr__(self):
        return str(self)


class Exhausted:
    """A worker's answer when its :class:`IterableDataset` stream has no more batches."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


# ---- transport -----------------------------------------------------------------------------------
def send(conn, message):
    """Send ``message`` (picklable) on ``conn``: the pickle, then each out-of-band buffer."""
    buffers = []
    head = pickle.dumps(message, protocol=5, buffer_callback=buffers.append)
    raws = [b.raw() for b in buffers]
    conn.send((len(head), [r.nbytes for r in raws]))
    conn.send_bytes(head)
    for r in raws:
        conn.send_bytes(r)


def recv(conn):
    """Receive one :func:`send` message from ``conn`` (``EOFError`` when it is closed)."""
    size, sizes = conn.recv()
    head = conn.recv_bytes(size)
    buffers = []
    for n in sizes:
        buf = bytearray(n)
        if n:
            conn.recv_bytes_into(buf)
        else:
            conn.recv_bytes()
        buffers.append(buf)
    return pickle.loads(head, buffers=buffers)


# ---- the worker ----------------------------------------------------------------------------------
def _seed_everything(seed, base_seed, worker_id):
    """PyTorch's worker seeding: Python's ``random`` and the library's default generator get
    ``base_seed + worker_id``; NumPy's legacy global generator gets a state derived from both
    (``SeedSequence([worker_id, base_seed])``; PyTorch uses its own hash of the two)."""
    random.seed(seed)
    import autograd
    autograd.manual_seed(seed)
    import numpy as np
    state = np.random.SeedSequence([worker_id, base_seed % (2 ** 64)]).generate_state(4)
    np.random.seed(state)


class _Fetcher:
    """Turns a task into a batch, as the main process would (same collation rules)."""

    def __init__(self, spec, dataset):
        self.spec, self.dataset = spec, dataset
        self.stream = None

    def reset(self):
        self.stream = iter(self.dataset) if self.spec["iterable"] else None

    def fetch(self, task, worker_id):
        spec, dataset, collate = self.spec, self.dataset, self.spec["collate_fn"]
        if spec["iterable"]:
            if self.stream is None:
                return Exhausted(worker_id)
            if spec["batch_size"] is None:
                try:
                    return collate(next(self.stream))
                except StopIteration:
                    self.stream = None
                    return Exhausted(worker_id)
            batch = []
            for sample in self.stream:
                batch.append(sample)
                if len(batch) == spec["batch_size"]:
                    return collate(batch)
            self.stream = None
            if batch and not spec["drop_last"]:
                return collate(batch)
            return Exhausted(worker_id)
        if not spec["auto_collation"]:
            return collate(dataset[task])
        if spec["getitems"]:
            return dataset.__getitems__(task)
        return collate([dataset[i] for i in task])


def worker_loop(conn, dataset, spec, worker_id, num_workers, base_seed, worker_init_fn):
    """The body of worker process ``worker_id``: answer ``(epoch, idx, task)`` messages on
    ``conn`` with ``(epoch, idx, batch | Exhausted | ExceptionWrapper)`` until ``None`` comes
    or the pipe closes. ``("reset", epoch)`` restarts an :class:`IterableDataset` stream (a
    new epoch with persistent workers)."""
    global _worker_info
    # Ctrl-C goes to the whole process group: the main process handles it and stops us
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from autograd import _runtime
    _runtime.configure_worker()
    seed = base_seed + worker_id
    init_error = None
    try:
        _seed_everything(seed, base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
        if worker_init_fn is not None:
            worker_init_fn(worker_id)
        fetcher = _Fetcher(spec, dataset)
        fetcher.reset()
    except Exception as e:  # noqa: BLE001  (reported for every task, as PyTorch does)
        init_error = ExceptionWrapper(e, f"in DataLoader worker process {worker_id}")
    where = f"in DataLoader worker process {worker_id}"
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the main process is gone
            break
        if message is None:
            break
        epoch, idx, task = message
        if idx == "reset":
            if init_error is None:
                try:
                    fetcher.reset()
                except Exception as e:  # noqa: BLE001
                    init_error = ExceptionWrapper(e, where)
            continue
        if init_error is not None:
            result = init_error
        else:
            try:
                result = fetcher.fetch(task, worker_id)
            except Exception as e:  # noqa: BLE001
                result = ExceptionWrapper(e, where)
        try:
            send(conn, (epoch, idx, result))
        except (BrokenPipeError, EOFError, OSError):
            break
        except Exception as e:  # noqa: BLE001  (the batch does not pickle)
            try:
                send(conn, (epoch, idx, ExceptionWrapper(e, where)))
            except Exception:  # noqa: BLE001
                break
        del result
    try:
        conn.close()
    except OSError:
        pass
