"""``DistributedSampler``: each rank's shard of a dataset (``torch.utils.data.distributed``)."""

import math

import numpy as np

from ..random import Generator
from . import Sampler, _is_int

__all__ = ["DistributedSampler"]


def _default(value, getter, what):
    if value is not None:
        return value
    from .. import distributed as dist
    if not dist.is_available():
        raise RuntimeError("Requires distributed package to be available (pip install "
                           "tapegrad[dist]), or pass num_replicas and rank")
    if not dist.is_initialized():
        raise ValueError(f"DistributedSampler: {what}=None reads it from the default process "
                         "group, which has not been initialized: call "
                         "autograd.distributed.init_process_group() first, or pass "
                         "num_replicas and rank")
    return getter()


class DistributedSampler(Sampler):
    """The indices of rank ``rank``'s shard of ``dataset`` out of ``num_replicas``
    (``torch.utils.data.distributed.DistributedSampler``), for a :class:`DataLoader`'s
    ``sampler`` in data-parallel training.

    Each pass: a permutation of ``range(len(dataset))`` drawn from a generator seeded with
    ``seed + epoch`` (the same on every rank, so the shards never overlap) or the identity
    without ``shuffle``; padded by repeating its head up to ``total_size = num_samples *
    num_replicas`` (or, with ``drop_last``, cut down to it); rank ``r`` takes
    ``indices[r:total_size:num_replicas]``. Call :meth:`set_epoch` at the start of each epoch,
    or every epoch repeats the same order (PyTorch's rule).

    Args:
        dataset (Dataset): sized.
        num_replicas (int, optional): the number of ranks; default
            ``autograd.distributed.get_world_size()``.
        rank (int, optional): this rank; default ``autograd.distributed.get_rank()``.
        shuffle (bool): default True.
        seed (int): the shuffling seed; must be the same on every rank. Default 0.
        drop_last (bool): drop the tail so every rank gets ``floor(len / num_replicas)``
            samples, instead of padding to ``ceil(len / num_replicas)``. Default False.

    Attributes:
        num_samples (int): the length of each shard: ``ceil(len(dataset) / num_replicas)``, or
            with ``drop_last`` (when the length is not a multiple)
            ``ceil((len(dataset) - num_replicas) / num_replicas)``.
        total_size (int): ``num_samples * num_replicas``.
        epoch (int): set by :meth:`set_epoch`.

    The permutation comes from NumPy's PCG64 (:class:`autograd.Generator`), so for the same seed
    the order differs from PyTorch's; the padding and the sharding are PyTorch's exactly.

    Raises:
        ValueError: ``rank`` outside ``[0, num_replicas - 1]`` (PyTorch's message), a
            non-positive ``num_replicas``, or defaults needed before ``init_process_group``.
        RuntimeError: defaults needed and mpi4py is not installed.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        from .. import distributed as dist
        num_replicas = _default(num_replicas, dist.get_world_size, "num_replicas")
        rank = _default(rank, dist.get_rank, "rank")
        for name, v in (("num_replicas", num_replicas), ("rank", rank), ("seed", seed)):
            if not _is_int(v):
                raise TypeError(f"DistributedSampler: {name} must be an int, got {v!r}")
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be positive, got "
                             f"{num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = int(seed)

    def _index_array(self):
        """This rank's indices for the current epoch, as an int64 array."""
        n = len(self.dataset)
        if self.shuffle:
            indices = Generator().manual_seed(self.seed + self.epoch).np.permutation(n)
        else:
            indices = np.arange(n)
        if not self.drop_last:
            pad = self.total_size - n
            if pad > 0:
                indices = np.concatenate([indices, np.resize(indices, pad)])
        else:
            indices = indices[:self.total_size]
        return indices[self.rank:self.total_size:self.num_replicas]

    def __iter__(self):
        return iter(self._index_array().tolist())

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Set the epoch: with ``shuffle``, the next pass uses the permutation of
        ``seed + epoch``, the same on every rank and different from other epochs'."""
        self.epoch = epoch
