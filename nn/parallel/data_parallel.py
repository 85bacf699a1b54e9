"""``nn.DataParallel`` on a CPU-only device: the wrapped module, called as is."""

from ..module import Module

__all__ = ["DataParallel"]


class DataParallel(Module):
    """Single-process data parallelism (``torch.nn.DataParallel``), as PyTorch runs it on a
    machine without GPUs: ``forward`` calls the wrapped module unchanged (one device, no
    scatter or gather), so code written for ``DataParallel`` runs, and ``state_dict`` keys carry
    the ``module.`` prefix PyTorch's have. For several processes use
    :class:`nn.parallel.DistributedDataParallel`.

    Args:
        module (Module): the module to wrap.
        device_ids, output_device: accepted and unused (there is one device); ``device_ids`` is
            ``[]`` afterwards, as in PyTorch without GPUs.
        dim (int): the scatter dimension; recorded, unused.

    Attributes:
        module (Module): the wrapped module.

    Shape:
        Whatever ``module`` takes and returns.

    Raises:
        TypeError: ``module`` is not an :class:`nn.Module`.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: module must be an nn.Module, got "
                            f"{type(module).__name__}")
        self.module = module
        self.device_ids = []
        self.output_device = None
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        """``self.module(*inputs, **kwargs)``."""
        return self.module(*inputs, **kwargs)
