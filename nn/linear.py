"""Linear layers: ``Identity``, ``Linear``, ``Bilinear``, ``Flatten``, ``Unflatten``."""

import math

import autograd

from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Identity", "Linear", "Bilinear", "Flatten", "Unflatten"]


class Identity(Module):
    """Returns its input unchanged (``torch.nn.Identity``); arguments are ignored."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """``y = x W^T + b`` (``torch.nn.Linear``).

    Args:
        in_features (int): size of each input sample.
        out_features (int): size of each output sample.
        bias (bool): learn an additive bias (default ``True``).
        dtype: parameter dtype (default float32).

    Shape:
        input ``(*, in_features)`` -> output ``(*, out_features)``.

    Attributes:
        weight (Parameter): ``(out_features, in_features)``, initialised U(-k, k) with
            ``k = 1 / sqrt(in_features)`` (PyTorch's ``kaiming_uniform_(a=sqrt(5))``).
        bias (Parameter): ``(out_features,)``, U(-k, k).

    Raises:
        ValueError: for non-positive feature counts.

    Example::

        >>> m = nn.Linear(20, 30)
        >>> m(autograd.randn(128, 20)).shape
        (128, 30)
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        if in_features < 0 or out_features < 0:
            raise ValueError(f"Linear: in_features and out_features must be non-negative, got "
                             f"{in_features} and {out_features}")
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(autograd.empty(out_features, in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(autograd.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-draw the parameters with PyTorch's default initialisation."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """``y = x1^T A x2 + b``: for each output feature ``k``,
    ``y_k = sum_ij x1_i A_kij x2_j + b_k`` (``torch.nn.Bilinear``).

    Args:
        in1_features (int): size of each first input sample.
        in2_features (int): size of each second input sample.
        out_features (int): size of each output sample.
        bias (bool): learn an additive bias (default ``True``).
        dtype: parameter dtype (default float32).

    Shape:
        input1 ``(*, in1_features)`` and input2 ``(*, in2_features)`` with the same leading
        dims -> output ``(*, out_features)``.

    Attributes:
        weight (Parameter): ``(out_features, in1_features, in2_features)``, initialised
            U(-k, k) with ``k = 1 / sqrt(in1_features)`` (as PyTorch).
        bias (Parameter): ``(out_features,)``, U(-k, k).

    Raises:
        ValueError: for non-positive feature counts.
        RuntimeError: (in forward) for inputs whose sizes do not match.

    Example::

        >>> m = nn.Bilinear(20, 30, 40)
        >>> m(autograd.randn(128, 20), autograd.randn(128, 30)).shape
        (128, 40)
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None):
        super().__init__()
        if device is not None:
            autograd._require_cpu(device, "nn.Bilinear")
        if min(in1_features, in2_features, out_features) <= 0:
            raise ValueError(f"Bilinear: in1_features, in2_features and out_features must be "
                             f"positive, got {in1_features}, {in2_features} and {out_features}")
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(autograd.empty(out_features, in1_features, in2_features,
                                               dtype=dtype))
        if bias:
            self.bias = Parameter(autograd.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-draw weight and bias from U(-k, k), ``k = 1 / sqrt(in1_features)``."""
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class Flatten(Module):
    """Flatten dimensions ``start_dim..end_dim`` (``torch.nn.Flatten``; note the default
    ``start_dim=1`` keeps the batch dimension).

    Shape:
        ``(N, *dims)`` -> ``(N, prod(dims))`` with the defaults.
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size`` (``torch.nn.Unflatten``)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input):
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
