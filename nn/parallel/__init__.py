"""``nn.parallel`` (``torch.nn.parallel``): :class:`DistributedDataParallel`, data-parallel
training across processes on MPI (see :mod:`autograd.distributed`), and :class:`DataParallel`,
which on tapegrad's CPU-only device is a pass-through, as PyTorch's is on a machine without GPUs.
"""

from .data_parallel import DataParallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel"]
