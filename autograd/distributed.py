"""Collective communication across processes on MPI (``torch.distributed`` for tapegrad).

``import autograd.distributed as dist`` gives PyTorch's names, arguments and semantics:
:func:`init_process_group`, :func:`get_rank`, :func:`get_world_size`, :func:`all_reduce`,
:func:`broadcast`, :func:`all_gather`, :func:`all_gather_object`, :func:`broadcast_object_list`,
:func:`reduce`, :func:`barrier`, :class:`ReduceOp`, :class:`Work` (``async_op=True``),
:func:`new_group` and ``group.WORLD``. :class:`nn.parallel.DistributedDataParallel` is built on
them. The transport is MPI through mpi4py (``pip install tapegrad[dist]`` installs mpi4py and the
MPICH wheel, which puts ``mpiexec`` next to ``python``), so a job is started by the MPI launcher::

    mpiexec -n 2 python train.py                    # 2 ranks on this machine
    mpiexec -n 8 -f hosts python train.py           # MPICH, across the machines in ``hosts``
    mpiexec -n 8 --hostfile hosts python train.py   # Open MPI

and the launcher does the rendezvous: there is no ``MASTER_ADDR``/``MASTER_PORT`` and no store.
Ranks and sizes come from MPI. So that torchrun-style code reading the environment works,
importing this module sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and ``LOCAL_WORLD_SIZE``
(unless already set) from the launcher's variables (MPICH/Hydra: ``PMI_RANK``, ``PMI_SIZE``,
``MPI_LOCALRANKID``, ``MPI_LOCALNRANKS``; Open MPI: ``OMPI_COMM_WORLD_RANK``, ``..._SIZE``,
``..._LOCAL_RANK``, ``..._LOCAL_SIZE``), and :func:`init_process_group` sets them again from MPI
itself. mpi4py is imported on first use (``init_process_group``), never at import.

Failure handling, which an MPI program otherwise lacks:

- **A rank that raises brings the job down.** By default a Python exception in one rank prints
  its traceback and the interpreter's exit runs mpi4py's ``MPI_Finalize``, which waits for the
  other ranks, which wait forever in their next collective for the dead one: the job hangs
  (mpi4py's finalize deadlock). So a ``sys.excepthook`` prints the traceback as usual and
  then calls ``MPI_Abort`` on ``COMM_WORLD``: the launcher kills every rank and exits non-zero
  within a second or so. It is installed when this module is imported under a launcher that
  started several ranks, and by :func:`init_process_group`: a rank that fails before
  ``init_process_group`` (a missing file, a bad argument) starts MPI in the hook to abort, as
  the launcher would otherwise leave the other ranks waiting in their first collective.
  (:func:`destroy_process_group` puts the previous hook back; ``python -m mpi4py script.py``
  does the same abort by itself.) ``sys.exit(n)`` is not an exception here: a rank that exits
  while the others wait in a collective is caught by their timeout, below.
- **Collectives honour the timeout.** Every collective is issued non-blocking (``Iallreduce``,
  ``Ibcast``...) and waited for by polling ``Test()`` against a deadline (the process group's
  ``timeout``, 30 minutes by default as in PyTorch). A collective that another rank never joins
  raises :class:`DistBackendError` naming the collective, the rank and the timeout; uncaught,
  it aborts the job as above. After a timeout the process group cannot be used again (MPI
  cannot cancel a collective).
- **Threads.** Ranks on one machine share its cores: unless the user chose a thread count
  (``OMP_NUM_THREADS`` or ``NUMBA_NUM_THREADS`` set, or :func:`autograd.set_num_threads`
  called), :func:`init_process_group` gives each rank ``cores // ranks on this machine``
  threads (at least 1), counting only the ranks whose CPU affinity overlaps this one's (a
  launcher that binds ranks to disjoint cores keeps each rank's own cores). Measured on a
  2-core machine: 2 ranks x 2 threads ran 7-9x slower than 2 ranks x 1 thread.

Differences from PyTorch: the only backend is MPI; ``backend="gloo"`` (what CPU programs pass)
is served by MPI too, ``"nccl"`` raises (no GPU). ``init_method`` is accepted and ignored (the
launcher does the rendezvous); ``store`` is refused; ``world_size``/``rank``, when given, must
match what the launcher started. ``ReduceOp.AVG`` works on floating-point tensors (Gloo lacks
it). Object collectives pickle, as PyTorch's do: only exchange objects between ranks you trust.
:meth:`Work.get_future` is not provided.
"""

import datetime
import enum
import importlib.util
import numbers
import os
import pickle
import sys
import time

import numpy as np

from .tensor import Tensor

__all__ = [
    "init_process_group", "destroy_process_group", "is_initialized", "is_available",
    "is_mpi_available", "is_gloo_available", "is_nccl_available", "get_rank", "get_world_size",
    "get_backend", "new_group", "group", "GroupMember", "ProcessGroup", "Backend", "ReduceOp",
    "Work", "DistError", "DistBackendError", "all_reduce", "broadcast", "reduce", "all_gather",
    "all_gather_into_tensor", "gather", "scatter", "barrier", "all_gather_object",
    "broadcast_object_list", "default_pg_timeout",
]

default_pg_timeout = datetime.timedelta(minutes=30)  # PyTorch's default_pg_timeout

_INSTALL_HINT = ("pip install tapegrad[dist]  (installs mpi4py and the MPICH wheel, whose "
                 "mpiexec lands next to python), or pip install mpi4py with an MPI library of "
                 "your own")

# ---- launcher environment -----------------------------------------------------------------------
# torchrun's variable -> the launchers' variables for the same value (MPICH/Hydra, Open MPI).
_LAUNCHER_VARS = {
    "RANK": ("PMI_RANK", "OMPI_COMM_WORLD_RANK"),
    "WORLD_SIZE": ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE"),
    "LOCAL_RANK": ("MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK"),
    "LOCAL_WORLD_SIZE": ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE"),
}


def _export_launcher_env():
    """Set ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``/``LOCAL_WORLD_SIZE`` from the MPI launcher's
    variables when those are present and the torchrun-style ones are not."""
    for name, sources in _LAUNCHER_VARS.items():
        if name in os.environ:
            continue
        for src in sources:
            value = os.environ.get(src)
            if value is not None and value.strip().isdigit():
                os.environ[name] = value.strip()
                break


_export_launcher_env()


def _launcher_world():
    """(rank, size) from the MPI launcher's variables, or None outside a launcher."""
    for rank_var, size_var in (("PMI_RANK", "PMI_SIZE"),
                               ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE")):
        rank, size = os.environ.get(rank_var, ""), os.environ.get(size_var, "")
        if rank.isdigit() and size.isdigit():
            return int(rank), int(size)
    return None

# ---- errors, ops, backends ----------------------------------------------------------------------


class DistError(RuntimeError):
    """Base of the errors raised by the collectives (``torch.distributed.DistError``)."""


class DistBackendError(DistError):
    """A collective failed in the transport: it timed out, or MPI reported an error
    (``torch.distributed.DistBackendError``)."""


class ReduceOp(enum.Enum):
    """How :func:`all_reduce` and :func:`reduce` combine the ranks' tensors
    (``torch.distributed.ReduceOp``): ``SUM``, ``AVG`` (the sum divided by the group size; floating
    point only), ``PRODUCT``, ``MIN``, ``MAX``, and the bitwise ``BAND``, ``BOR``, ``BXOR``
    (integer and bool tensors). On bool tensors ``SUM``/``MAX``/``BOR`` are logical or and
    ``PRODUCT``/``MIN``/``BAND`` logical and."""

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7


class Backend:
    """Backend names (``torch.distributed.Backend``). ``GLOO`` is served by MPI (see
    :func:`init_process_group`); ``NCCL`` is refused (tapegrad has no GPU)."""

    UNDEFINED = "undefined"
    MPI = "mpi"
    GLOO = "gloo"
    NCCL = "nccl"


def is_available():
    """True if the distributed package can be used: mpi4py is installed
    (``torch.distributed.is_available``). Checked without importing it (which would start MPI)."""
    return importlib.util.find_spec("mpi4py") is not None


def is_mpi_available():
    """True if mpi4py is installed (``torch.distributed.is_mpi_available``)."""
    return is_available()


def is_gloo_available():
    """Same as :func:`is_mpi_available`: ``backend="gloo"`` is served by MPI here."""
    return is_available()


def is_nccl_available():
    """Always False: tapegrad has no GPU backend."""
    return False


_MPI = None


def _mpi():
    """The ``mpi4py.MPI`` module (imported, and MPI initialised, on first call)."""
    global _MPI
    if _MPI is None:
        try:
            from mpi4py import MPI
        except (ImportError, OSError) as e:  # mpi4py absent, or no MPI library to load
            raise ImportError(f"autograd.distributed needs mpi4py and an MPI library ({e}): "
                              f"{_INSTALL_HINT}") from e
        _MPI = MPI
    return _MPI


# ---- process groups -----------------------------------------------------------------------------


class ProcessGroup:
    """A set of ranks that run collectives together (``torch.distributed.ProcessGroup``): an MPI
    communicator of its own (a duplicate, so user mpi4py traffic never mixes with it) and a
    timeout. Made by :func:`init_process_group` (the default group, ``group.WORLD``) and
    :func:`new_group`.

    Methods ``rank()`` and ``size()`` give this process's rank in the group and the group's size.
    """

    def __init__(self, comm, ranks, timeout_s, backend="mpi"):
        self._comm = comm
        self._ranks = list(ranks)          # global rank of each group rank
        self._rank = comm.Get_rank()
        self._size = comm.Get_size()
        self._timeout_s = float(timeout_s)
        self._backend = backend
        self._broken = None                # why the group cannot be used any more

    def rank(self):
        """This process's rank in the group."""
        return self._rank

    def size(self):
        """The number of ranks in the group."""
        return self._size

    def name(self):
        """The backend's name: ``"mpi"``."""
        return self._backend

    @property
    def timeout(self):
        """The timeout of this group's collectives (a ``datetime.timedelta``)."""
        return datetime.timedelta(seconds=self._timeout_s)

    def _group_rank(self, global_rank, what, op):
        try:
            return self._ranks.index(int(global_rank))
        except ValueError:
            raise ValueError(f"{op}: {what} {global_rank} is not a rank of this process group "
                             f"(global ranks {self._ranks})") from None

    def __repr__(self):
        return f"ProcessGroup(backend='mpi', rank={self._rank}, size={self._size})"


class _NonGroupMember:
    """``GroupMember.NON_GROUP_MEMBER``: what :func:`new_group` returns on a rank that is not in
    the new group. Collectives given it do nothing and return ``None`` (PyTorch's behaviour)."""

    def __repr__(self):
        return "GroupMember.NON_GROUP_MEMBER"


_default_pg = None
_groups = []             # every group made, kept so their communicators are never collected
_prev_excepthook = None


class GroupMember:
    """``torch.distributed.GroupMember``: ``WORLD`` (the default group, ``None`` before
    :func:`init_process_group`) and ``NON_GROUP_MEMBER``."""

    NON_GROUP_MEMBER = _NonGroupMember()

    class _World:
        def __get__(self, obj, owner):
            return _default_pg

    WORLD = _World()


class _GroupNamespace:
    """``torch.distributed.group``: ``group.WORLD`` is the default process group."""

    @property
    def WORLD(self):
        """The default process group (``None`` before :func:`init_process_group`)."""
        return _default_pg


group = _GroupNamespace()


def _not_initialized(op):
    return ValueError(f"{op}: Default process group has not been initialized, please make sure "
                      "to call init_process_group.")


def _get_group(group, op):
    """The ProcessGroup to use (``None`` -> the default one), or NON_GROUP_MEMBER."""
    if group is None or group is GroupMember.WORLD:
        if _default_pg is None:
            raise _not_initialized(op)
        g = _default_pg
    elif group is GroupMember.NON_GROUP_MEMBER:
        return group
    elif isinstance(group, ProcessGroup):
        g = group
    else:
        raise TypeError(f"{op}: group must be a ProcessGroup from init_process_group or "
                        f"new_group (or None for the default group), got {type(group).__name__}")
    if g._broken is not None:
        raise DistBackendError(f"{op}: this process group can no longer be used: {g._broken}")
    return g


def _timeout_seconds(timeout, op):
    if timeout is None:
        return default_pg_timeout.total_seconds()
    if isinstance(timeout, datetime.timedelta):
        seconds = timeout.total_seconds()
    elif isinstance(timeout, numbers.Real) and not isinstance(timeout, bool):
        seconds = float(timeout)
    else:
        raise TypeError(f"{op}: timeout must be a datetime.timedelta (or a number of seconds), "
                        f"got {type(timeout).__name__}")
    if not seconds > 0:
        raise ValueError(f"{op}: timeout must be positive, got {timeout!r}")
    return seconds


def _check_backend(backend):
    if backend is None:
        return "mpi"
    if not isinstance(backend, str):
        raise TypeError(f"init_process_group: backend must be a string, got "
                        f"{type(backend).__name__}")
    name = backend.strip().lower()
    if ":" in name:  # "cpu:gloo,cuda:nccl": the CPU entry is the one that applies
        parts = dict(p.split(":", 1) for p in name.split(",") if ":" in p)
        if "cpu" not in parts:
            raise ValueError(f"init_process_group: backend {backend!r} names no CPU backend; "
                             "use backend='mpi'")
        name = parts["cpu"].strip()
    if name in ("mpi", "gloo"):
        return "mpi"
    if name == "nccl":
        raise RuntimeError("init_process_group: backend 'nccl' needs GPUs, and tapegrad runs on "
                           "the CPU: use backend='mpi' (or 'gloo', which tapegrad serves with "
                           "MPI)")
    raise ValueError(f"init_process_group: unknown backend {backend!r}; tapegrad's backend is "
                     "'mpi' ('gloo' is accepted and also served by MPI)")


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Join the job's default process group (``torch.distributed.init_process_group``).

    Every rank of the job must call it. The processes are the ones the MPI launcher started
    (``mpiexec -n N python script.py``); a script started without a launcher is a job of one.

    Args:
        backend (str, optional): ``"mpi"`` (the default). ``"gloo"``, what PyTorch programs pass
            on the CPU, is accepted and served by MPI as well, so such a program runs unchanged;
            ``"cpu:gloo,cuda:nccl"`` uses its CPU entry. ``"nccl"`` raises (no GPU).
        init_method (str, optional): ``"env://"``, ``"tcp://..."`` or ``"file://..."``:
            accepted and ignored, as the MPI launcher does the rendezvous.
        timeout (datetime.timedelta, optional): how long a collective waits for the other
            ranks before it raises :class:`DistBackendError` (default 30 minutes, PyTorch's).
            A number of seconds is accepted too.
        world_size (int): if given (not -1), must equal the number of processes MPI started.
        rank (int): if given (not -1), must equal this process's MPI rank.
        store: must be ``None`` (there is no store; the launcher does the rendezvous).
        group_name, pg_options, device_id: accepted for compatibility and unused.

    Side effects (see the module docstring): sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and
    ``LOCAL_WORLD_SIZE`` in ``os.environ``; with more than one rank, installs the
    ``sys.excepthook`` that aborts the whole job when a rank raises; gives each rank
    ``cores // local ranks`` threads unless the user chose a thread count.

    Raises:
        RuntimeError: if the default group is already initialised ("trying to initialize the
            default process group twice!", PyTorch's message), or for ``backend="nccl"``.
        ValueError: unknown backend or ``init_method`` scheme; ``world_size``/``rank`` that
            differ from MPI's; a ``store``.
        ImportError: mpi4py (or an MPI library) is not installed; the message says
            ``pip install tapegrad[dist]``.
        DistBackendError: another rank did not join within ``timeout``.
    """
    global _default_pg
    if _default_pg is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    _check_backend(backend)
    if init_method is not None:
        if not isinstance(init_method, str) or init_method.split("://", 1)[0] not in (
                "env", "tcp", "file"):
            raise ValueError(f"init_process_group: init_method {init_method!r} is not one of "
                             "'env://', 'tcp://...', 'file://...'")
    if store is not None:
        raise ValueError("init_process_group: a store is not supported: tapegrad's ranks are "
                         "started and connected by the MPI launcher (mpiexec -n N python ...)")
    seconds = _timeout_seconds(timeout, "init_process_group")
    MPI = _mpi()
    world = MPI.COMM_WORLD
    size, me = world.Get_size(), world.Get_rank()
    if world_size not in (-1, None) and int(world_size) != size:
        raise ValueError(f"init_process_group: world_size={world_size}, but the MPI launcher "
                         f"started {size} process(es): launch with mpiexec -n {world_size}")
    if rank not in (-1, None) and int(rank) != me:
        raise ValueError(f"init_process_group: rank={rank}, but this process is MPI rank {me} "
                         f"of {size}: ranks are assigned by the MPI launcher")
    deadline = time.monotonic() + seconds
    comm, req = world.Idup()
    _wait_requests([req], "init_process_group", me, size, seconds, deadline)
    local = world.Split_type(MPI.COMM_TYPE_SHARED)  # the ranks on this machine
    pg = ProcessGroup(comm, range(size), seconds)
    local_pg = ProcessGroup(local, (), seconds)
    _groups.extend([pg, local_pg])
    os.environ["RANK"] = str(me)
    os.environ["WORLD_SIZE"] = str(size)
    os.environ["LOCAL_RANK"] = str(local.Get_rank())
    os.environ["LOCAL_WORLD_SIZE"] = str(local.Get_size())
    _default_pg = pg
    _default_threads(local_pg)
    if size > 1:
        _install_excepthook(me, size)


def _default_threads(local_pg):
    """Give this rank ``cores // ranks sharing them`` threads unless the user chose a count
    (``autograd._runtime.user_num_threads``); returns the count set, or ``None``."""
    from . import _runtime
    if _runtime.user_num_threads() is not None:
        return None
    try:
        mine = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        mine = list(range(os.cpu_count() or 1))
    everyone = [None] * local_pg.size()
    all_gather_object(everyone, mine, group=local_pg)
    mine_set = set(mine)
    sharing = sum(1 for cpus in everyone if mine_set.intersection(cpus))
    n = max(1, len(mine) // max(1, sharing))
    import numba  # its pool may be smaller (the runtime's launcher default): stay within it
    n = min(n, numba.config.NUMBA_NUM_THREADS)
    _runtime.set_num_threads(n)
    return n


def _install_excepthook(rank, size):
    """Make an uncaught exception print its traceback, then MPI_Abort the job."""
    global _prev_excepthook
    if _prev_excepthook is not None:
        return
    _prev_excepthook = previous = sys.excepthook

    def abort_on_exception(tp, value, tb):
        try:
            previous(tp, value, tb)
        finally:
            sys.stdout.flush()
            print(f"[rank {rank}] uncaught {tp.__name__}: aborting all {size} ranks "
                  "(MPI_Abort)", file=sys.stderr, flush=True)
            try:
                MPI = _mpi()  # a rank failing before init_process_group starts MPI to abort
            except ImportError:
                return
            MPI.COMM_WORLD.Abort(1)

    abort_on_exception.__doc__ = ("tapegrad's distributed excepthook: print the traceback, then "
                                  "MPI_Abort the job (see autograd.distributed).")
    sys.excepthook = abort_on_exception


def destroy_process_group(group=None):
    """Leave the default process group (``group=None``) or forget ``group``
    (``torch.distributed.destroy_process_group``). Afterwards :func:`is_initialized` is False
    and :func:`init_process_group` may be called again; the excepthook installed by
    :func:`init_process_group` is removed. MPI itself stays initialised until the process
    exits (mpi4py finalizes it then)."""
    global _default_pg, _prev_excepthook
    if group is None or group is GroupMember.WORLD:
        if _default_pg is None:
            raise _not_initialized("destroy_process_group")
        for g in _groups:
            g._broken = "it was destroyed (destroy_process_group)"
        _default_pg = None
        if _prev_excepthook is not None:
            if getattr(sys.excepthook, "__name__", "") == "abort_on_exception":
                sys.excepthook = _prev_excepthook
            _prev_excepthook = None
    elif isinstance(group, ProcessGroup):
        group._broken = "it was destroyed (destroy_process_group)"
    elif group is not GroupMember.NON_GROUP_MEMBER:
        raise TypeError(f"destroy_process_group: expected a ProcessGroup, got "
                        f"{type(group).__name__}")


def is_initialized():
    """True once :func:`init_process_group` has run (and until
    :func:`destroy_process_group`)."""
    return _default_pg is not None


def get_rank(group=None):
    """This process's rank: in the default group (``group=None``), or in ``group`` (-1 if this
    process is not a member), as ``torch.distributed.get_rank``.

    Raises:
        ValueError: before :func:`init_process_group`.
    """
    g = _get_group(group, "get_rank")
    return -1 if g is GroupMember.NON_GROUP_MEMBER else g._rank


def get_world_size(group=None):
    """The number of ranks of the default group or of ``group`` (-1 if this process is not a
    member), as ``torch.distributed.get_world_size``.

    Raises:
        ValueError: before :func:`init_process_group`.
    """
    g = _get_group(group, "get_world_size")
    return -1 if g is GroupMember.NON_GROUP_MEMBER else g._size


def get_backend(group=None):
    """The backend's name, ``"mpi"`` (``torch.distributed.get_backend``)."""
    _get_group(group, "get_backend")
    return Backend.MPI


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization=False, group_desc=None):
    """A process group of the given global ``ranks`` (``torch.distributed.new_group``).

    Every rank of the default group must call it, with the same ``ranks`` (PyTorch's rule;
    MPI's ``Comm_Split`` underneath, which waits without a timeout). Group ranks follow the
    sorted global ranks. Collectives take global ranks for ``src``/``dst``, as in PyTorch.

    Returns:
        ProcessGroup, or ``GroupMember.NON_GROUP_MEMBER`` on a rank not in ``ranks``.

    Raises:
        ValueError: a rank out of range, or before :func:`init_process_group`.
    """
    d = _get_group(None, "new_group")
    if backend is not None:
        _check_backend(backend)
    if ranks is None:
        members = list(range(d._size))
    else:
        members = sorted({int(r) for r in ranks})
        bad = [r for r in members if not 0 <= r < d._size]
        if bad:
            raise ValueError(f"new_group: ranks {bad} are outside the world of size {d._size}")
    seconds = d._timeout_s if timeout is None else _timeout_seconds(timeout, "new_group")
    MPI = _mpi()
    me = d._ranks[d._rank]
    color = 0 if me in members else MPI.UNDEFINED
    comm = d._comm.Split(color, members.index(me) if me in members else 0)
    if me not in members:
        return GroupMember.NON_GROUP_MEMBER
    pg = ProcessGroup(comm, members, seconds)
    _groups.append(pg)
    return pg


# ---- waiting with a deadline --------------------------------------------------------------------

# How a wait polls: MPI moves a non-blocking collective forward only inside MPI calls, so a large
# all-reduce needs Test() called continuously to run at full speed (measured: a 10 MiB all-reduce
# polled with sleeps of up to 1 ms took 13 ms instead of 8). A wait therefore polls flat out, as
# MPI's own Wait does, for up to a second; only a wait that has lasted that long already (a stuck
# or absent rank, ranks waiting at a barrier while another evaluates) sleeps between polls.
# (Yielding the core between polls was tried: on a loaded machine each yield gave the core away
# for a scheduler tick, and a 1 MiB all-reduce took 4.4 ms instead of 0.3.)
_SPIN_S = 1.0
_NAP_S = 1e-4


def _wait_requests(requests, op, rank, size, timeout_s, deadline, group=None):
    """Poll the MPI requests until all complete; raise DistBackendError at ``deadline``."""
    testall = _MPI.Request.Testall
    if testall(requests):
        return
    spin_until = time.monotonic() + _SPIN_S
    while True:
        if testall(requests):
            return
        now = time.monotonic()
        if now >= deadline:
            why = (f"{op} did not complete within the process group's timeout of "
                   f"{timeout_s:g} s (rank {rank} of {size}): another rank has not joined this "
                   "collective. It may be stuck or much slower, have exited, or be issuing "
                   "collectives in a different order. The process group cannot be used again "
                   "(an uncaught error aborts the whole job).")
            if group is not None:
                group._broken = f"a collective timed out ({op})"
            raise DistBackendError(why)
        if now > spin_until:
            time.sleep(_NAP_S)


class Work:
    """A collective in flight (``torch.distributed.Work``), returned with ``async_op=True``.

    ``wait()`` blocks until it is done (or raises :class:`DistBackendError` once the group's
    timeout, counted from when the collective was issued, has passed) and returns True;
    ``is_completed()`` tests without blocking; ``result()`` is the list of output tensors.
    The tensors must not be read or written before ``wait()`` returns.
    """

    def __init__(self, op, group, requests, finish=None, outputs=()):
        self._op = op
        self._group = group
        self._requests = requests
        self._finish = finish
        self._outputs = list(outputs)
        self._deadline = time.monotonic() + group._timeout_s
        self._done = False
        self._exception = None

    def _complete(self):
        self._done = True
        self._requests = None
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()

    def is_completed(self):
        """True once the collective has finished (tests it; never blocks)."""
        if not self._done and _MPI.Request.Testall(self._requests):
            self._complete()
        return self._done

    def is_success(self):
        """True if the collective finished without an error."""
        return self.is_completed() and self._exception is None

    def exception(self):
        """The error the collective ended with, or ``None``."""
        return self._exception

    def wait(self, timeout=None):
        """Block until the collective is done; returns True.

        Args:
            timeout (datetime.timedelta or float seconds, optional): wait at most this long
                from now instead of until the group's timeout.

        Raises:
            DistBackendError: the deadline passed (the other ranks did not join).
        """
        if self._done:
            if self._exception is not None:
                raise self._exception
            return True
        g = self._group
        deadline = self._deadline
        timeout_s = g._timeout_s
        if timeout is not None:
            timeout_s = _timeout_seconds(timeout, "Work.wait")
            deadline = time.monotonic() + timeout_s
        try:
            try:
                _wait_requests(self._requests, self._op, g._rank, g._size, timeout_s, deadline,
                               g)
            except _MPI.Exception as e:
                raise DistBackendError(f"{self._op} failed in MPI (rank {g._rank} of {g._size}; "
                                       f"do all ranks pass the same shapes and dtypes?): "
                                       f"{e}") from None
        except DistBackendError as e:
            self._exception = e
            self._done = True
            raise
        self._complete()
        return True

    synchronize = wait

    def result(self):
        """The output tensors of the collective (after :meth:`wait`)."""
        return list(self._outputs)

    def __repr__(self):
        return f"Work({self._op}, completed={self._done})"


def _issue(op, g, start, finish, outputs, async_op):
    """Start a non-blocking collective (``start()`` returns its request(s)), then return a
    :class:`Work` (``async_op``) or wait for it and return ``None``."""
    try:
        reqs = start()
    except _MPI.Exception as e:
        raise DistBackendError(f"{op}: MPI refused the collective: {e}") from None
    except (TypeError, ValueError, KeyError, BufferError) as e:
        raise TypeError(f"{op}: MPI cannot use this buffer: {e}") from None
    work = Work(op, g, reqs if isinstance(reqs, list) else [reqs], finish, outputs)
    if async_op:
        return work
    work.wait()
    return None


# ---- tensor helpers -----------------------------------------------------------------------------


def _check_tensor(t, op, what="tensor"):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {what} must be an autograd.Tensor, got {type(t).__name__}")
    return t._data


def _work_buffer(arr):
    """A C-contiguous writable array MPI can use for ``arr``: ``arr`` itself when possible."""
    if arr.flags.c_contiguous and arr.flags.writeable:
        return arr
    return np.ascontiguousarray(arr)


def _store(t, buf):
    """Put the collective's result ``buf`` into tensor ``t`` (in place) and bump its version."""
    arr = t._data
    if buf is not arr:
        if arr.flags.writeable:
            np.copyto(arr, buf.reshape(arr.shape))
        else:
            t._data = buf.reshape(arr.shape).copy()
    t._bump_version()


_BOOL_OPS = {ReduceOp.SUM: "LOR", ReduceOp.MAX: "LOR", ReduceOp.BOR: "LOR",
             ReduceOp.PRODUCT: "LAND", ReduceOp.MIN: "LAND", ReduceOp.BAND: "LAND",
             ReduceOp.BXOR: "LXOR"}
_MPI_OPS = {ReduceOp.SUM: "SUM", ReduceOp.AVG: "SUM", ReduceOp.PRODUCT: "PROD",
            ReduceOp.MIN: "MIN", ReduceOp.MAX: "MAX", ReduceOp.BAND: "BAND", ReduceOp.BOR: "BOR",
            ReduceOp.BXOR: "BXOR"}


def _mpi_op(op, dtype, name):
    """The MPI reduction for ``op`` on ``dtype``, and whether to divide by the size after."""
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{name}: op must be a ReduceOp (ReduceOp.SUM, AVG, PRODUCT, MIN, MAX, "
                        f"BAND, BOR, BXOR), got {op!r}")
    kind = dtype.kind
    if kind == "b":
        if op is ReduceOp.AVG:
            raise TypeError(f"{name}: ReduceOp.AVG needs a floating-point tensor, got bool")
        return getattr(_MPI, _BOOL_OPS[op]), False
    if op is ReduceOp.AVG and kind not in "fc":
        raise TypeError(f"{name}: ReduceOp.AVG needs a floating-point tensor, got {dtype}")
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and kind not in "iu":
        raise TypeError(f"{name}: {op.name} needs an integer or bool tensor, got {dtype}")
    return getattr(_MPI, _MPI_OPS[op]), op is ReduceOp.AVG


def _non_member(op):
    import warnings
    warnings.warn(f"Running {op} on a rank which does not belong to the given group.",
                  RuntimeWarning, stacklevel=3)


def _root(g, src, group_src, what, op):
    """The group rank of a root given as a global rank ``src`` or a group rank ``group_src``."""
    if group_src is not None:
        if src is not None:
            raise ValueError(f"{op}: give {what} or group_{what}, not both")
        gr = int(group_src)
        if not 0 <= gr < g._size:
            raise ValueError(f"{op}: group_{what}={gr} is outside the group of size {g._size}")
        return gr
    return g._group_rank(0 if src is None else src, what, op)


# ---- tensor collectives -------------------------------------------------------------------------


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine ``tensor`` across all ranks of the group, in place, so every rank holds the
    result (``torch.distributed.all_reduce``; MPI ``Iallreduce``).

    Args:
        tensor (Tensor): any shape and dtype, the same on every rank; overwritten by the result.
        op (ReduceOp): default ``ReduceOp.SUM``.
        group (ProcessGroup, optional): default: the default group.
        async_op (bool): return a :class:`Work` instead of waiting.

    Returns:
        :class:`Work` if ``async_op``, else ``None``.

    Raises:
        TypeError: ``tensor`` is not a Tensor, or ``op`` does not apply to its dtype.
        ValueError: before :func:`init_process_group`.
        DistBackendError: timed out, or MPI refused the buffers (e.g. different sizes).
    """
    arr = _check_tensor(tensor, "all_reduce")
    g = _get_group(group, "all_reduce")
    if g is GroupMember.NON_GROUP_MEMBER:
        return _non_member("all_reduce")
    mop, avg = _mpi_op(op, arr.dtype, "all_reduce")
    buf = _work_buffer(arr)
    in_place = _MPI.IN_PLACE

    def finish():
        if avg:
            np.divide(buf, g._size, out=buf, casting="unsafe")
        _store(tensor, buf)

    return _issue("all_reduce", g, lambda: g._comm.Iallreduce(in_place, buf, mop), finish,
                  [tensor], async_op)


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copy ``tensor`` of rank ``src`` into ``tensor`` on every other rank
    (``torch.distributed.broadcast``; MPI ``Ibcast``).

    Args:
        tensor (Tensor): the data on ``src``, overwritten elsewhere; same shape and dtype
            everywhere.
        src (int): the source's global rank (default 0).
        group, async_op: as :func:`all_reduce`.
        group_src (int, optional): the source's rank within ``group`` instead of ``src``.

    Raises:
        TypeError, ValueError, DistBackendError: as :func:`all_reduce`; ``src`` not in the group.
    """
    arr = _check_tensor(tensor, "broadcast")
    g = _get_group(group, "broadcast")
    if g is GroupMember.NON_GROUP_MEMBER:
        return _non_member("broadcast")
    root = _root(g, src, group_src, "src", "broadcast")
    buf = _work_buffer(arr)

    def finish():
        if g._rank != root:
            _store(tensor, buf)

    return _issue("broadcast", g, lambda: g._comm.Ibcast(buf, root), finish, [tensor], async_op)


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Combine ``tensor`` across ranks into ``tensor`` on rank ``dst`` only
    (``torch.distributed.reduce``; MPI ``Ireduce``). Other ranks' tensors are unchanged.

    Args:
        tensor (Tensor): same shape and dtype everywhere.
        dst (int): the destination's global rank (default 0).
        op, group, async_op: as :func:`all_reduce`.
        group_dst (int, optional): the destination's rank within ``group``.
    """
    arr = _check_tensor(tensor, "reduce")
    g = _get_group(group, "reduce")
    if g is GroupMember.NON_GROUP_MEMBER:
        return _non_member("reduce")
    root = _root(g, dst, group_dst, "dst", "reduce")
    mop, avg = _mpi_op(op, arr.dtype, "reduce")
    buf = _work_buffer(arr)
    is_root = g._rank == root

    def start():
        if is_root:
            return g._comm.Ireduce(_MPI.IN_PLACE, buf, mop, root)
        return g._comm.Ireduce(buf, None, mop, root)

    def finish():
        if is_root:
            if avg:
                np.divide(buf, g._size, out=buf, casting="unsafe")
            _store(tensor, buf)

    return _issue("reduce", g, start, finish, [tensor], async_op)


def _check_same(op, tensors, arr, what):
    for i, t in enumerate(tensors):
        d = _check_tensor(t, op, f"{what}[{i}]")
        if d.shape != arr.shape or d.dtype != arr.dtype:
            raise ValueError(f"{op}: {what}[{i}] has shape {tuple(d.shape)} and dtype {d.dtype}; "
                             f"expected the tensor's shape {tuple(arr.shape)} and dtype "
                             f"{arr.dtype}")


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Gather ``tensor`` from every rank into ``tensor_list`` on every rank
    (``torch.distributed.all_gather``; MPI ``Iallgather``).

    Args:
        tensor_list (list of Tensor): ``world_size`` tensors of ``tensor``'s shape and dtype;
            ``tensor_list[i]`` receives rank i's tensor.
        tensor (Tensor): this rank's contribution; the same shape and dtype on every rank.
        group, async_op: as :func:`all_reduce`.

    Raises:
        ValueError: a list of the wrong length, or elements of another shape or dtype.
    """
    arr = _check_tensor(tensor, "all_gather")
    g = _get_group(group, "all_gather")
    if g is GroupMember.NON_GROUP_MEMBER:
        return _non_member("all_gather")
    if not isinstance(tensor_list, (list, tuple)) or len(tensor_list) != g._size:
        n = len(tensor_list) if isinstance(tensor_list, (list, tuple)) else type(tensor_list)
        raise ValueError(f"all_gather: tensor_list must be a list of {g._size} tensors (the group "
                         f"size), got {n}")
    _check_same("all_gather", tensor_list, arr, "tensor_list")
    send = np.ascontiguousarray(arr)
    recv = np.empty((g._size,) + arr.shape, dtype=arr.dtype)

    def finish():
        for i, t in enumerate(tensor_list):
            _store(t, recv[i])

    return _issue("all_gather", g, lambda: g._comm.Iallgather(send, recv), finish,
                  list(tensor_list), async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Gather every rank's ``input_tensor`` into ``output_tensor``, concatenated along dim 0 or
    stacked (``torch.distributed.all_gather_into_tensor``).

    Shapes: ``input_tensor`` ``(N, *)``; ``output_tensor`` ``(world_size * N, *)`` or
    ``(world_size, N, *)``, same dtype.
    """
    arr = _check_tensor(input_tensor, "all_gather_into_tensor", "input_tensor")
    out = _check_tensor(output_tensor, "all_gather_into_tensor", "output_tensor")
    g = _get_group(group, "all_gather_into_tensor")
    if g is GroupMember.NON_GROUP_MEMBER:
        return _non_member("all_gather_into_tensor")
    if out.size != g._size * arr.size or out.dtype != arr.dtype:
        raise ValueError(f"all_gather_into_tensor: output_tensor has shape {tuple(out.shape)} "
                         f"and dtype {out.dtype}; expected {g._size} x the input's "
                         f"{tuple(arr.shape)} elements and dtype {arr.dtype}")
    send = np.ascontiguousarray(arr)
    recv = _work_buffer(out)
    return _issue("all_gather_into_tensor", g, lambda: g._comm.Iallgather(send, recv),
                  lambda: _store(output_tensor, recv), [output_tensor], async_op)


def _root_list(op, g, root, tensors, arr, name, role):
    """``gather``/``scatter``'s list argument: on the root (the ``role`` rank) ``world_size``
    tensors like ``arr`` (returns True), elsewhere None or empty (returns False); else
    ValueError naming ``op`` and ``name``."""
    if g._rank == root:
        if not isinstance(tensors, (list, tuple)) or len(tensors) != g._size:
            raise ValueError(f"{op}: the {role} rank needs {name}, a list of {g._size} tensors")
        _check_same(op, tensors, arr, name)
        return True
    if tensors:
        raise ValueError(f"{op}: {name} must be None (or empty) on non-{role} ranks")
    return False


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """Gather ``tensor`` from every rank into ``gather_list`` on rank ``dst``
    (``torch.distributed.gather``; MPI ``Igather``). ``gather_list`` (``world_size`` tensors of
    ``tensor``'s shape and dtype) is required on ``dst`` and must be ``None`` elsewhere."""
    arr = _check_tensor(tensor, "gather")
    g = _get_group(group, "gather")
    if g is GroupMember.NON_GROUP_MEMBER:
        return _non_member("gather")
    root = _root(g, dst, group_dst, "dst", "gather")
    send = np.ascontiguousarray(arr)
    recv = None
    if _root_list("gather", g, root, gather_list, arr, "gather_list", "destination"):
        recv = np.empty((g._size,) + arr.shape, dtype=arr.dtype)

    def finish():
        if recv is not None:
            for i, t in enumerate(gather_list):
                _store(t, recv[i])

    return _issue("gather", g, lambda: g._comm.Igather(send, recv, root), finish,
                  list(gather_list or ()), async_op)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """Send ``scatter_list[i]`` of rank ``src`` into ``tensor`` on rank i
    (``torch.distributed.scatter``; MPI ``Iscatter``). ``scatter_list`` (``world_size`` tensors
    of ``tensor``'s shape and dtype) is required on ``src`` and must be ``None`` elsewhere."""
    arr = _check_tensor(tensor, "scatter")
    g = _get_group(group, "scatter")
    if g is GroupMember.NON_GROUP_MEMBER:
        return _non_member("scatter")
    root = _root(g, src, group_src, "src", "scatter")
    send = None
    if _root_list("scatter", g, root, scatter_list, arr, "scatter_list", "source"):
        send = np.stack([t._data for t in scatter_list])
    recv = _work_buffer(arr)
    return _issue("scatter", g, lambda: g._comm.Iscatter(send, recv, root),
                  lambda: _store(tensor, recv), [tensor], async_op)


def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    """Wait until every rank of the group has reached this call (``torch.distributed.barrier``;
    MPI ``Ibarrier``). ``timeout`` overrides the group's for this call; ``device_ids`` is
    accepted and unused."""
    g = _get_group(group, "barrier")
    if g is GroupMember.NON_GROUP_MEMBER:
        return _non_member("barrier")
    work = Work("barrier", g, None)
    try:
        work._requests = [g._comm.Ibarrier()]
    except _MPI.Exception as e:
        raise DistBackendError(f"barrier: MPI refused the collective: {e}") from None
    if async_op:
        return work
    work.wait(timeout)
    return None


# ---- object collectives -------------------------------------------------------------------------


def _wait_one(g, op, start):
    _issue(op, g, start, None, (), False)


def all_gather_object(object_list, obj, group=None):
    """Gather the picklable ``obj`` from every rank into ``object_list`` on every rank
    (``torch.distributed.all_gather_object``): ``object_list[i]`` becomes rank i's object.

    Args:
        object_list (list): of length ``world_size``; filled in place.
        obj: any picklable object (pickled, as in PyTorch: trust your ranks).
        group (ProcessGroup, optional).

    Raises:
        ValueError: ``object_list`` is not a list of the group's size.
    """
    g = _get_group(group, "all_gather_object")
    if g is GroupMember.NON_GROUP_MEMBER:
        return _non_member("all_gather_object")
    if not isinstance(object_list, list) or len(object_list) != g._size:
        n = len(object_list) if isinstance(object_list, list) else type(object_list).__name__
        raise ValueError(f"all_gather_object: object_list must be a list of {g._size} elements "
                         f"(the group size), got {n}")
    payload = np.frombuffer(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), dtype=np.uint8)
    sizes = np.empty(g._size, dtype=np.int64)
    _wait_one(g, "all_gather_object", lambda: g._comm.Iallgather(
        np.array([payload.size], dtype=np.int64), sizes))
    displs = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    recv = np.empty(int(sizes.sum()), dtype=np.uint8)
    _wait_one(g, "all_gather_object", lambda: g._comm.Iallgatherv(
        payload, [recv, sizes.tolist(), displs.tolist(), _MPI.BYTE]))
    for i in range(g._size):
        object_list[i] = pickle.loads(recv[displs[i]:displs[i] + sizes[i]].tobytes())
    return None


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Copy the picklable objects of ``object_list`` on rank ``src`` into ``object_list`` on
    every rank, in place (``torch.distributed.broadcast_object_list``).

    Args:
        object_list (list): on ``src`` the objects; elsewhere a list of the same length, whose
            elements are replaced.
        src (int): the source's global rank (default 0).
        group (ProcessGroup, optional); device: unused.
        group_src (int, optional): the source's rank within ``group``.

    Raises:
        ValueError: ``object_list`` is not a list, or (after the collective, so that no rank is
            left waiting) its length differs from the source's.
    """
    g = _get_group(group, "broadcast_object_list")
    if g is GroupMember.NON_GROUP_MEMBER:
        return _non_member("broadcast_object_list")
    if not isinstance(object_list, list):
        raise ValueError(f"broadcast_object_list: object_list must be a list, got "
                         f"{type(object_list).__name__}")
    root = _root(g, src, group_src, "src", "broadcast_object_list")
    if g._rank == root:
        payload = pickle.dumps(list(object_list), protocol=pickle.HIGHEST_PROTOCOL)
        size = np.array([len(payload)], dtype=np.int64)
    else:
        size = np.empty(1, dtype=np.int64)
    _wait_one(g, "broadcast_object_list", lambda: g._comm.Ibcast(size, root))
    buf = (np.frombuffer(payload, dtype=np.uint8).copy() if g._rank == root
           else np.empty(int(size[0]), dtype=np.uint8))
    _wait_one(g, "broadcast_object_list", lambda: g._comm.Ibcast(buf, root))
    if g._rank != root:
        objects = pickle.loads(buf.tobytes())
        if len(objects) != len(object_list):
            raise ValueError(f"broadcast_object_list: object_list has {len(object_list)} "
                             f"elements on rank {g._ranks[g._rank]} but {len(objects)} on the "
                             f"source rank {g._ranks[root]}; it must have the same length "
                             "everywhere")
        object_list[:] = objects
    return None


# A rank that fails before init_process_group (a missing file, a bad argument) must end the job
# too: the launcher does not kill the other ranks, which wait in MPI_Init or their first
# collective. So under a launcher with several ranks the hook is installed at import.
if _launcher_world() is not None and _launcher_world()[1] > 1:
    _install_excepthook(*_launcher_world())
