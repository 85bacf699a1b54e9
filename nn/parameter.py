"""``nn.Parameter``: a leaf Tensor that a Module registers as a learnable parameter."""

import numpy as np

import autograd
from autograd import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A Tensor that is a module parameter (``torch.nn.Parameter``).

    Assigning a ``Parameter`` to a :class:`nn.Module` attribute registers it, so it appears in
    ``parameters()`` and ``state_dict()``. It shares the data of the tensor it wraps and
    requires grad by default.

    Args:
        data (Tensor or array_like, optional): the initial value; an empty float tensor if
            omitted.
        requires_grad (bool): default ``True``.

    Raises:
        RuntimeError: ``requires_grad=True`` for a non-floating tensor.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty((0,), dtype=np.float32)
        if isinstance(data, Tensor):
            data = data._data
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


def _register_weight_bias(module, weight_shape, bias_shape, dtype=None):
    """Give a layer its ``weight`` and ``bias`` Parameters of these shapes (uninitialised, of
    ``dtype``), in that order so that ``state_dict`` keys come as PyTorch's; a shape of
    ``None`` registers that name as ``None`` (``bias=False``, ``affine=False``). Shared by the
    linear, convolution and normalisation layers; each then runs its ``reset_parameters``."""
    for name, shape in (("weight", weight_shape), ("bias", bias_shape)):
        param = None if shape is None else Parameter(autograd.empty(*shape, dtype=dtype))
        module.register_parameter(name, param)
