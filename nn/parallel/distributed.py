"""``nn.parallel.DistributedDataParallel``: data-parallel training across MPI ranks.

How a step runs (the scheme of PyTorch's DDP, Li et al., "PyTorch Distributed: Experiences on
Accelerating Data Parallel Training", VLDB 2020):

1. Construction checks that every rank has the same parameter and buffer names, shapes and
   dtypes (one ``all_gather_object``; a mismatch raises on every rank, listing it), then
   broadcasts parameters and buffers from rank 0, so all replicas start equal. The parameters
   that require grad are split into *buckets* in reverse registration order (gradients of the
   last layers are ready first): the first bucket holds up to 1 MiB, the others up to
   ``bucket_cap_mb`` MiB (25 by default), one dtype per bucket, a parameter never split.
2. ``forward`` broadcasts the buffers from rank 0 (``broadcast_buffers``), runs the module and
   arms the reduction for the coming backward (in grad mode, outside ``no_sync``).
3. During ``backward`` a post-accumulate-grad hook on each parameter
   (``Tensor.register_post_accumulate_grad_hook``) fires as soon as that parameter's ``.grad``
   is complete and copies it, divided by the world size, into its bucket's flat buffer. When a
   bucket's last gradient arrives the bucket's non-blocking all-reduce (MPI ``Iallreduce``, via
   ``autograd.distributed.all_reduce(async_op=True)``) is started — buckets strictly in index
   order, so every rank issues the same collectives in the same order — while the engine goes on
   computing the gradients of earlier layers.
4. A callback queued on the engine (``Variable._execution_engine.queue_callback``) runs at the
   end of ``backward``: it waits for every bucket (under the process group's timeout) and copies
   the averaged gradients back into ``.grad``. When ``backward()`` returns, ``.grad`` holds the
   average over the ranks, and the optimizer step is the same on every rank.
"""

import contextlib
import weakref

import numpy as np

import autograd
from autograd import Tensor
from autograd import distributed as dist
from autograd.engine import _leaf_edges

from ..module import Module

__all__ = ["DistributedDataParallel"]

_MIB = 1024 * 1024
_FIRST_BUCKET_BYTES = 1 * _MIB   # PyTorch's dist._DEFAULT_FIRST_BUCKET_BYTES

_UNFINISHED_MSG = (
    "Expected to have finished reduction in the prior iteration before starting a new one. This "
    "error indicates that your module has parameters that were not used in producing loss. You "
    "can enable unused parameter detection by passing the keyword argument "
    "`find_unused_parameters=True` to `nn.parallel.DistributedDataParallel`, and by \nmaking sure "
    "all `forward` function outputs participate in calculating loss. \nIf you already have done "
    "the above, then the distributed data parallel module wasn't able to locate the output "
    "tensors in the return value of your module's `forward` function. Please include the loss "
    "function and the structure of the return value of `forward` of your module when reporting "
    "this issue (e.g. list, dict, iterable).\n")


class _Bucket:
    """Parameters whose gradients are all-reduced together, through one flat buffer."""

    __slots__ = ("index", "members", "flat", "tensor", "pending", "size", "work")

    def __init__(self, index, members, params):
        self.index = index
        self.members = []              # (param index, start, stop) into ``flat``
        offset = 0
        for i in members:
            n = params[i]._data.size
            self.members.append((i, offset, offset + n))
            offset += n
        self.flat = np.zeros(offset, dtype=params[members[0]]._data.dtype)
        self.tensor = Tensor(self.flat)
        self.size = len(members)
        self.pending = self.size       # gradients still to arrive in this backward
        self.work = None               # the all-reduce in flight


def _assign_buckets(params, first_cap, cap):
    """Bucket the parameter indices in reverse order, per dtype, closing a bucket once it holds
    at least its cap (``first_cap`` for a dtype's first bucket, then ``cap``); buckets come out
    ordered by their first parameter in that reverse order (PyTorch's
    ``_compute_bucket_assignment_by_size``)."""
    open_ = {}   # dtype -> [first position, members, bytes]
    count = {}   # dtype -> buckets closed so far
    done = []
    for pos, i in enumerate(reversed(range(len(params)))):
        arr = params[i]._data
        key = arr.dtype.str
        entry = open_.get(key)
        if entry is None:
            entry = open_[key] = [pos, [], 0]
        entry[1].append(i)
        entry[2] += arr.nbytes
        limit = first_cap if count.get(key, 0) == 0 else cap
        if entry[2] >= limit:
            done.append((entry[0], entry[1]))
            count[key] = count.get(key, 0) + 1
            del open_[key]
    done.extend((e[0], e[1]) for e in open_.values())
    done.sort(key=lambda d: d[0])
    return [members for _, members in done]


def _output_tensors(obj, out):
    """Collect the Tensors in a module's output (nested tuples, lists, dicts)."""
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _output_tensors(o, out)
    elif isinstance(obj, dict):
        for o in obj.values():
            _output_tensors(o, out)
    return out


def _reachable_leaves(tensors):
    """ids of the leaf tensors (requiring grad) the graph of ``tensors`` leads to."""
    return {id(t) for t in _leaf_edges(tensors) if t.requires_grad}


def _queue_callback(fn):
    autograd.Variable._execution_engine.queue_callback(fn)


def _grad_ready_hook(ddp_ref, index):
    def hook(param):
        ddp = ddp_ref()
        if ddp is not None:
            ddp._ddp_grad_ready(index)
    return hook


def _remove_handles(handles):
    for h in handles:
        h.remove()


class DistributedDataParallel(Module):
    """Data parallelism across processes (``torch.nn.parallel.DistributedDataParallel``): every
    rank holds a replica of ``module``, runs forward and backward on its own share of the batch,
    and ``backward()`` leaves in ``.grad`` the gradient averaged over all ranks, so that the
    same optimizer step keeps the replicas identical. How it works is in this module's
    docstring; how to launch is in :mod:`autograd.distributed`. Typical use::

        dist.init_process_group("mpi")                     # "gloo" works too
        model = DistributedDataParallel(Net())
        sampler = DistributedSampler(train_set)            # a disjoint shard per rank
        loader = DataLoader(train_set, batch_size=B // dist.get_world_size(), sampler=sampler)
        for epoch in range(epochs):
            sampler.set_epoch(epoch)
            for x, y in loader:
                opt.zero_grad(); F.cross_entropy(model(x), y).backward(); opt.step()

    With per-rank batch ``B / world_size`` and a loss that averages over the batch, a step equals
    one step of a single process on the whole batch ``B`` (up to float rounding).

    Args:
        module (Module): the replica; every rank must build the same one (same parameter and
            buffer names, shapes, dtypes, order).
        device_ids, output_device: must be ``None`` (or empty), as PyTorch requires for a CPU
            module.
        dim (int): recorded, unused (there is no scatter).
        broadcast_buffers (bool): broadcast the buffers (BatchNorm's running statistics) from
            rank 0 at construction and at the start of every forward in grad mode. Default True.
        init_sync (bool): broadcast the parameters (and buffers) from rank 0 at construction.
        process_group (ProcessGroup, optional): default: the default group.
        bucket_cap_mb (float, optional): bucket size in MiB, default 25 (and then a first bucket
            of 1 MiB, as PyTorch; an explicit value applies to every bucket).
        find_unused_parameters (bool): allow parameters that get no gradient in a backward.
            Without it (the default), such a parameter keeps its bucket from being reduced and
            the next forward raises PyTorch's "Expected to have finished reduction in the prior
            iteration" error, naming the parameters. With it, forward walks the output's graph
            to find the parameters it does not reach; their share is reduced as zeros (or the
            gradient accumulated under ``no_sync``); a parameter unused on every rank keeps its
            ``.grad`` (``None``), one used on some ranks gets the average. Costs one graph walk
            and one small all-reduce per step.
        check_reduction: deprecated in PyTorch; accepted, unused.
        gradient_as_bucket_view (bool): accepted; gradients are always copied out of the
            buckets (a difference from PyTorch, where ``True`` saves that copy).
        static_graph (bool): accepted, unused (nothing is traced; buckets are fixed).

    Attributes:
        module (Module): the wrapped module (``state_dict`` keys start with ``module.``).
        process_group (ProcessGroup): the group the gradients are averaged over.
        require_backward_grad_sync (bool): False inside :meth:`no_sync`.

    Shape:
        Whatever ``module`` takes and returns.

    Differences from PyTorch: the buckets are fixed at construction in reverse parameter order
    (PyTorch re-buckets once, after the first iteration, in the order the gradients arrived;
    for a feed-forward model the two orders agree). Calling forward several times before one
    backward is allowed (PyTorch raises without ``static_graph``). There are no communication
    hooks and no ``join()``.

    Raises:
        TypeError: ``module`` is not an :class:`nn.Module`.
        ValueError: before :func:`autograd.distributed.init_process_group`; ``device_ids`` or
            ``output_device`` given; ``bucket_cap_mb`` not positive.
        RuntimeError: no parameter requires grad ("DistributedDataParallel is not needed..."),
            or the ranks' modules differ (the message lists each difference).
        DistBackendError: a rank did not join a collective within the group's timeout.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 init_sync=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be an nn.Module, got "
                            f"{type(module).__name__}")
        if process_group is None:
            if not dist.is_initialized():
                raise ValueError("DistributedDataParallel: Default process group has not been "
                                 "initialized, please make sure to call init_process_group.")
            process_group = dist.group.WORLD
        named = list(module.named_parameters())
        if not any(p.requires_grad for _, p in named):
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        if device_ids or output_device is not None:
            raise ValueError(
                "DistributedDataParallel device_ids and output_device arguments only work with "
                "single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                f"{device_ids}, output_device {output_device}, and module parameters "
                "{device(type='cpu')}.")
        if bucket_cap_mb is not None and not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got "
                             f"{bucket_cap_mb!r}")
        self.module = module
        self.process_group = process_group
        self.device_ids = None
        self.output_device = None
        self.dim = dim
        self.broadcast_buffers = bool(broadcast_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.gradient_as_bucket_view = bool(gradient_as_bucket_view)
        self.static_graph = bool(static_graph)
        cap_mb = 25 if bucket_cap_mb is None else bucket_cap_mb
        self.bucket_bytes_cap = int(cap_mb * _MIB)
        first_cap = _FIRST_BUCKET_BYTES if bucket_cap_mb is None else self.bucket_bytes_cap

        pg = process_group
        self._ddp_world = dist.get_world_size(pg)
        self._ddp_rank = dist.get_rank(pg)
        buffers = list(module.named_buffers())
        self._ddp_verify_same_model(named, buffers)
        if init_sync:
            states = [p for _, p in named] + ([b for _, b in buffers]
                                             if self.broadcast_buffers else [])
            self._ddp_broadcast_coalesced(states)
        self._ddp_buffers = [b for _, b in buffers]

        params = [(n, p) for n, p in named if p.requires_grad]
        self._ddp_params = [p for _, p in params]
        self._ddp_names = [n for n, _ in params]
        buckets = _assign_buckets(self._ddp_params, first_cap, self.bucket_bytes_cap)
        self._ddp_buckets = [_Bucket(k, m, self._ddp_params) for k, m in enumerate(buckets)]
        self._ddp_slot = [None] * len(self._ddp_params)   # param index -> (bucket, start, stop)
        for b in self._ddp_buckets:
            for i, start, stop in b.members:
                self._ddp_slot[i] = (b, start, stop)
        n = len(self._ddp_params)
        self._ddp_ready = [False] * n
        self._ddp_used = np.zeros(n, dtype=np.int32)     # got a gradient since the last sync
        self._ddp_next = 0                               # next bucket to launch
        self._ddp_expect = False                         # a synced backward is armed
        self._ddp_queued = False                         # finalize callback queued
        self._ddp_unused_early = ()                      # unreachable from the last output
        self._ddp_unfinished = None                      # params left unreduced last backward
        ref = weakref.ref(self)
        handles = [p.register_post_accumulate_grad_hook(_grad_ready_hook(ref, i))
                   for i, p in enumerate(self._ddp_params)]
        weakref.finalize(self, _remove_handles, handles)

    # --- construction helpers -------------------------------------------------------------------
    def _ddp_verify_same_model(self, named, buffers):
        """Raise on every rank unless all ranks have the same parameters and buffers."""
        desc = ([("parameter", n, tuple(p.shape), str(p.dtype), bool(p.requires_grad))
                 for n, p in named]
                + [("buffer", n, tuple(b.shape), str(b.dtype), False) for n, b in buffers])
        everyone = [None] * self._ddp_world
        dist.all_gather_object(everyone, desc, group=self.process_group)
        ref = everyone[0]
        problems = []
        for r, d in enumerate(everyone[1:], 1):
            if d == ref:
                continue
            ref_map = {(k, n): (s, t, g) for k, n, s, t, g in ref}
            d_map = {(k, n): (s, t, g) for k, n, s, t, g in d}
            found = len(problems)
            for key, (s, t, g) in ref_map.items():
                other = d_map.get(key)
                if other is None:
                    problems.append(f"rank {r} has no {key[0]} '{key[1]}' (rank 0's has shape "
                                    f"{s}, {t})")
                elif other[:2] != (s, t):
                    problems.append(f"{key[0]} '{key[1]}': rank 0 has shape {s}, {t}; rank {r} "
                                    f"has shape {other[0]}, {other[1]}")
                elif other[2] != g:
                    problems.append(f"parameter '{key[1]}': requires_grad is {g} on rank 0 "
                                    f"and {other[2]} on rank {r}")
            for key, (s, t, _) in d_map.items():
                if key not in ref_map:
                    problems.append(f"rank {r} has a {key[0]} '{key[1]}' (shape {s}, {t}) that "
                                    "rank 0 lacks")
            if len(problems) == found:
                problems.append(f"rank {r} registers the same parameters and buffers as rank 0 "
                                "but in a different order")
        if problems:
            more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
            raise RuntimeError(
                "DistributedDataParallel: DDP expects same model across all ranks, but the "
                "ranks' modules differ (every rank must build the same model):\n  "
                + "\n  ".join(problems[:20]) + more)

    def _ddp_broadcast_coalesced(self, tensors):
        """Broadcast ``tensors`` from the group's rank 0, one flat message per dtype."""
        by_dtype = {}
        for t in tensors:
            by_dtype.setdefault(t._data.dtype.str, []).append(t)
        for group in by_dtype.values():
            flat = np.concatenate([t._data.reshape(-1) for t in group])
            dist.broadcast(Tensor(flat), group=self.process_group, group_src=0)
            if self._ddp_rank == 0:
                continue
            offset = 0
            for t in group:
                n = t._data.size
                value = flat[offset:offset + n].reshape(t._data.shape)
                offset += n
                if t._data.flags.writeable:
                    np.copyto(t._data, value)
                else:
                    t._data = value.copy()

    # --- forward --------------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        """Run ``self.module(*inputs, **kwargs)``; in grad mode and outside :meth:`no_sync`,
        first broadcast the buffers (``broadcast_buffers``) and afterwards arm the gradient
        all-reduce of the next backward.

        Raises:
            RuntimeError: the previous backward left parameters without a gradient and
                ``find_unused_parameters`` is False (PyTorch's message, with their indices
                and names).
        """
        if self._ddp_unfinished is not None:
            missing, self._ddp_unfinished = self._ddp_unfinished, None
            raise RuntimeError(
                _UNFINISHED_MSG + f"Parameter indices which did not receive grad for rank "
                f"{self._ddp_rank}: {' '.join(str(i) for i in missing)}\n Their names: "
                + ", ".join(self._ddp_names[i] for i in missing))
        sync = autograd.is_grad_enabled() and self.require_backward_grad_sync
        self.require_forward_param_sync = sync
        if sync and self.broadcast_buffers and self._ddp_buffers and self._ddp_world > 1:
            self._ddp_broadcast_coalesced(self._ddp_buffers)
        out = self.module(*inputs, **kwargs)
        self._ddp_expect = sync
        if sync and self.find_unused_parameters:
            reached = _reachable_leaves(_output_tensors(out, []))
            self._ddp_unused_early = [i for i, p in enumerate(self._ddp_params)
                                      if id(p) not in reached]
        return out

    @contextlib.contextmanager
    def no_sync(self):
        """Context manager for gradient accumulation (``DDP.no_sync``): forwards run inside it
        are followed by backwards that only accumulate into ``.grad``, without communication;
        the first forward-backward after it all-reduces the accumulated gradients. The forward
        must be inside the context (PyTorch's rule: the choice is made at forward)."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    # --- backward: hooks, buckets, finalize ---------------------------------------------------
    def _ddp_grad_ready(self, i):
        """Post-accumulate-grad hook of parameter ``i``: its ``.grad`` is complete."""
        self._ddp_used[i] = 1
        if not self._ddp_expect:
            return
        if not self._ddp_queued:
            self._ddp_queued = True
            _queue_callback(self._ddp_finalize)
            for j in self._ddp_unused_early:
                if not self._ddp_ready[j]:
                    self._ddp_mark_ready(j)
        if self._ddp_ready[i]:
            # marked unused from the last forward's graph, but it did get a gradient
            b, start, stop = self._ddp_slot[i]
            if b.work is not None:
                raise RuntimeError(
                    f"DistributedDataParallel: parameter {i} ({self._ddp_names[i]}) received a "
                    "gradient after its bucket was reduced: it was not reachable from the output "
                    "of the last forward, yet this backward reached it. Expected to mark a "
                    "variable ready only once; run one forward per backward.")
            self._ddp_fill(i, b, start, stop)
            return
        self._ddp_mark_ready(i)
        # MPI progresses non-blocking collectives only inside MPI calls: test the oldest one
        for k in range(self._ddp_next):
            w = self._ddp_buckets[k].work
            if w is not None and not w._done:
                w.is_completed()
                break

    def _ddp_fill(self, i, b, start, stop):
        p = self._ddp_params[i]
        view = b.flat[start:stop].reshape(p._data.shape)
        g = p.grad
        if g is None:
            view.fill(0)
        else:
            np.divide(g._data, self._ddp_world, out=view)

    def _ddp_mark_ready(self, i):
        self._ddp_ready[i] = True
        b, start, stop = self._ddp_slot[i]
        self._ddp_fill(i, b, start, stop)
        b.pending -= 1
        if b.pending == 0:
            buckets = self._ddp_buckets
            while self._ddp_next < len(buckets) and buckets[self._ddp_next].pending == 0:
                nb = buckets[self._ddp_next]
                nb.work = dist.all_reduce(nb.tensor, group=self.process_group, async_op=True)
                self._ddp_next += 1

    def _ddp_finalize(self):
        """Queued at the first hook of a synced backward; runs when the backward ends."""
        try:
            if self.find_unused_parameters:
                for i, ready in enumerate(self._ddp_ready):
                    if not ready:
                        self._ddp_mark_ready(i)
            launched = self._ddp_buckets[:self._ddp_next]
            for b in launched:
                b.work.wait()
            used = None
            if self.find_unused_parameters:
                flags = Tensor(self._ddp_used.copy())
                dist.all_reduce(flags, op=dist.ReduceOp.MAX, group=self.process_group)
                used = flags._data
            for b in launched:
                for i, start, stop in b.members:
                    if used is not None and not used[i]:
                        continue   # no rank computed a gradient: leave .grad as it is
                    p = self._ddp_params[i]
                    value = b.flat[start:stop].reshape(p._data.shape)
                    g = p.grad
                    if (g is not None and not g.requires_grad and g._data.flags.writeable
                            and g._data.shape == value.shape):
                        np.copyto(g._data, value)
                    else:
                        p.grad = Tensor(value.copy())
            if self._ddp_next < len(self._ddp_buckets):
                self._ddp_unfinished = [i for i, r in enumerate(self._ddp_ready) if not r]
        finally:
            self._ddp_reset()

    def _ddp_reset(self):
        for b in self._ddp_buckets:
            b.pending = b.size
            b.work = None
        self._ddp_ready = [False] * len(self._ddp_params)
        self._ddp_used[:] = 0
        self._ddp_next = 0
        self._ddp_expect = False
        self._ddp_queued = False
        self._ddp_unused_early = ()
