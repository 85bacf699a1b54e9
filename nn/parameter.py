"""``nn.Parameter``: a leaf Tensor that a Module registers as a learnable parameter."""

import numpy as np

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
