"""Parameter initialisation (``torch.nn.init``), in place under ``no_grad``.

Fans follow PyTorch's ``_calculate_fan_in_and_fan_out``: for a weight of shape
``(out, in, *kernel)``, ``fan_in = in * prod(kernel)`` and ``fan_out = out * prod(kernel)``.
Random numbers come from the default generator (``autograd.manual_seed``) unless
``generator=`` is given.
"""

import math
import warnings

import numpy as np

from autograd.random import get_rng

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "zeros_",
           "ones_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_", "sparse_"]


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (``torch.nn.init.calculate_gain``): 1 for
    linear/conv/sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + a^2)) for leaky_relu
    (a = ``param``, default 0.01), 3/4 for selu.

    Raises:
        ValueError: for an unknown nonlinearity or a non-numeric ``param``.
    """
    linear = {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid"}
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _fans(tensor):
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         f"dimensions (shape {tuple(shape)})")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _fill(tensor, values):
    tensor._data[...] = values
    tensor._bump_version()
    return tensor


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b) samples."""
    return _fill(tensor, get_rng(generator).uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with N(mean, std^2) samples."""
    return _fill(tensor, get_rng(generator).normal(mean, std, tensor.shape))


def constant_(tensor, val):
    """Fill with ``val``."""
    return _fill(tensor, val)


def zeros_(tensor):
    """Fill with 0."""
    return _fill(tensor, 0)


def ones_(tensor):
    """Fill with 1."""
    return _fill(tensor, 1)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))`` (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _fans(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2) with ``std = gain * sqrt(2 / (fan_in + fan_out))`` (Glorot & Bengio)."""
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _fans(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-b, b) with ``b = gain * sqrt(3 / fan)`` (He et al., 2015). With the defaults and
    ``a = sqrt(5)`` this is PyTorch's default init of Linear and Conv weights. A tensor with
    no elements is left as it is (with PyTorch's warning)."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std^2) with ``std = gain / sqrt(fan)`` (He et al., 2015). A tensor with no
    elements is left as it is (with PyTorch's warning)."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def _calculate_fan_in_and_fan_out(tensor):
    """``(fan_in, fan_out)`` of a weight tensor (PyTorch's private helper of the same name)."""
    return _fans(tensor)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with samples of N(mean, std^2) truncated to ``[a, b]`` (``torch.nn.init.
    trunc_normal_``), by inverse-CDF sampling: ``u ~ U(Phi(alpha), Phi(beta))``,
    ``x = mean + std * sqrt(2) * erfinv(2u - 1)``, clamped to ``[a, b]``, where
    ``alpha = (a - mean) / std`` (the method PyTorch uses). ``a``, ``b`` are absolute bounds.

    Raises:
        ValueError: if ``a >= b`` or ``std <= 0``.
    """
    from scipy.special import erfinv
    if not a < b:
        raise ValueError(f"trunc_normal_: expected a < b, got a={a}, b={b}")
    if std <= 0:
        raise ValueError(f"trunc_normal_: std must be positive, got {std}")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)

    def cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    lo, hi = cdf((a - mean) / std), cdf((b - mean) / std)
    u = get_rng(generator).uniform(2 * lo - 1, 2 * hi - 1, tensor.shape)
    x = erfinv(u) * (std * math.sqrt(2.0)) + mean
    return _fill(tensor, np.clip(x, a, b))


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix (ones on the main diagonal, as
    ``torch.eye``; ``torch.nn.init.eye_``). Keeps the identity of the inputs in Linear layers.

    Raises:
        ValueError: if the tensor is not 2-D.
    """
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, np.eye(*tensor.shape))


def dirac_(tensor, groups=1):
    """Fill a 3-, 4- or 5-D conv weight ``(out, in, *kernel)`` with the Dirac delta
    (``torch.nn.init.dirac_``): ``w[g * out_g + d, d, centre] = 1`` for each group ``g`` and
    ``d < min(out / groups, in)``, zeros elsewhere, so the convolution keeps the identity of
    its input channels.

    Raises:
        ValueError: for another rank or ``out`` not divisible by ``groups``.
    """
    if tensor.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = sizes[0] // groups
    min_dim = min(out_per_group, sizes[1])
    w = np.zeros(sizes)
    centre = tuple(k // 2 for k in sizes[2:])
    for g in range(groups):
        for d in range(min_dim):
            w[(g * out_per_group + d, d) + centre] = 1
    return _fill(tensor, w)


def orthogonal_(tensor, gain=1, generator=None):
    """Fill with a (semi-)orthogonal matrix (Saxe et al., 2013; ``torch.nn.init.orthogonal_``):
    the tensor viewed as ``(rows, numel / rows)`` gets ``Q`` of the QR decomposition of a
    standard normal matrix, signs fixed by ``diag(R)`` so the result is uniformly distributed,
    times ``gain``. Rows (or columns, whichever are fewer) are orthonormal.

    Raises:
        ValueError: for a tensor of fewer than 2 dims.
    """
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = get_rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    d = np.sign(np.diag(r))
    d[d == 0] = 1
    q = q * d
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tensor.shape))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """Fill a 2-D tensor as a sparse matrix (Martens, 2010; ``torch.nn.init.sparse_``): values
    from N(0, std^2), then in each column ``ceil(sparsity * rows)`` randomly chosen rows set
    to zero.

    Raises:
        ValueError: if the tensor is not 2-D or ``sparsity`` is outside ``[0, 1]``.
    """
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(f"sparse_: sparsity must be in [0, 1], got {sparsity}")
    rng = get_rng(generator)
    rows, cols = tensor.shape
    num_zeros = math.ceil(sparsity * rows)
    w = rng.normal(0.0, std, (rows, cols))
    for c in range(cols):
        w[rng.permutation(rows)[:num_zeros], c] = 0
    return _fill(tensor, w)
