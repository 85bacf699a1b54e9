"""Linear layers: ``Identity``, ``Linear``, ``Bilinear``, ``Flatten``, ``Unflatten``."""

import math
import numbers

import autograd

from . import functional as F
from . import init
from .module import Module
from .parameter import _register_weight_bias

__all__ = ["Identity", "Linear", "NonDynamicallyQuantizableLinear", "Bilinear", "Flatten",
           "Unflatten"]


def _int_arg(layer, name, value):
    """A size argument of a layer's constructor as an int; ``TypeError`` naming the layer and
    the argument for anything that is not an integer (PyTorch's ``empty()`` refuses a float
    size: ``Linear(4.5, 3)`` raises)."""
    if not isinstance(value, numbers.Integral):
        raise TypeError(f"{layer}: {name} must be an int, got {value!r} of type "
                        f"{type(value).__name__}")
    return int(value)


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
        TypeError: for a feature count that is not an int (as PyTorch).
        ValueError: for negative feature counts.

    Example::

        >>> m = nn.Linear(20, 30)
        >>> m(autograd.randn(128, 20)).shape
        (128, 30)
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        in_features = _int_arg("Linear", "in_features", in_features)
        out_features = _int_arg("Linear", "out_features", out_features)
        if in_features < 0 or out_features < 0:
            raise ValueError(f"Linear: in_features and out_features must be non-negative, got "
                             f"{in_features} and {out_features}")
        self.in_features = in_features
        self.out_features = out_features
        _register_weight_bias(self, (out_features, in_features),
                              (out_features,) if bias else None, dtype)
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


class NonDynamicallyQuantizableLinear(Linear):
    """A :class:`Linear` under PyTorch's name for ``MultiheadAttention.out_proj``
    (``torch.nn.modules.linear.NonDynamicallyQuantizableLinear``; PyTorch uses the subclass only to
    keep dynamic quantisation away from it). Same arguments, shapes and behaviour as ``Linear``;
    it exists so that repr, pickles and ``safe_globals`` lists naming it port by renaming."""


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
        TypeError: for a feature count that is not an int (as PyTorch).
        ValueError: for non-positive feature counts.
        RuntimeError: (in forward) for inputs whose sizes or dtypes do not match.

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
        in1_features = _int_arg("Bilinear", "in1_features", in1_features)
        in2_features = _int_arg("Bilinear", "in2_features", in2_features)
        out_features = _int_arg("Bilinear", "out_features", out_features)
        if min(in1_features, in2_features, out_features) <= 0:
            raise ValueError(f"Bilinear: in1_features, in2_features and out_features must be "
                             f"positive, got {in1_features}, {in2_features} and {out_features}")
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        _register_weight_bias(self, (out_features, in1_features, in2_features),
                              (out_features,) if bias else None, dtype)
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
    """Split dimension ``dim`` into ``unflattened_size`` (``torch.nn.Unflatten``).

    Shape: ``(*, S, *)`` with ``S = prod(unflattened_size)`` at ``dim`` ->
    ``(*, *unflattened_size, *)`` (one entry may be -1, inferred).

    Raises:
        TypeError: (in ``__init__``) for sizes that are not ints.
        RuntimeError: (in forward) when the sizes do not multiply up to the size of ``dim``
            (PyTorch's message), or ``dim`` is out of range.
    """

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim = _int_arg("Unflatten", "dim", dim)
        self.unflattened_size = tuple(_int_arg("Unflatten", "unflattened_size", n)
                                      for n in unflattened_size)

    def forward(self, input):
        sizes = self.unflattened_size
        nd = input.ndim
        if not -max(nd, 1) <= self.dim < max(nd, 1):
            raise RuntimeError(f"unflatten: Dimension out of range (expected to be in range of "
                               f"[{-max(nd, 1)}, {max(nd, 1) - 1}], but got {self.dim}) for "
                               f"input of shape {tuple(input.shape)}")
        size = input.shape[self.dim % nd] if nd else 1
        known = math.prod(n for n in sizes if n != -1)
        ok = (sizes.count(-1) == 0 and known == size) or (
            sizes.count(-1) == 1 and known > 0 and size % known == 0)
        if not ok:
            raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to "
                               f"the size of dim {self.dim} ({size}) in the input tensor of "
                               f"shape {tuple(input.shape)}")
        return input.unflatten(self.dim, sizes)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
