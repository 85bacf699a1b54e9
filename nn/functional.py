"""``nn.functional``: the stateless layer functions (``torch.nn.functional``).

The ops with their own backward are re-exported here from the op library: convolutions from
:mod:`autograd.ops.conv`, poolings from :mod:`autograd.ops.pool`, ``linear``, ``softmax``,
``log_softmax``, ``dropout`` and ``nll_loss`` from :mod:`autograd.ops.layers`, the activations
from :mod:`autograd.ops.activations`, and the fused Numba ops (``scaled_dot_product_attention``,
``layer_norm``, ``group_norm``, ``embedding``, batch norm in training and the class-index path
of ``cross_entropy``) from :mod:`autograd.ops.fused`. The layers (batch_norm, dropout2d,
bilinear, prelu, interpolate) and the losses below are compositions of Tensor ops.
"""

import math
import warnings

import numpy as np

import autograd
from autograd import Tensor
from autograd import linalg as _linalg
from autograd.graph import Node as _Node
from autograd.ops._nn_common import TORCH_DTYPE_NAMES, not_implemented_for
from autograd.ops.conv import conv1d, conv2d, conv_transpose2d
from autograd.ops.activations import (celu, elu, gelu, hardsigmoid, hardswish, hardtanh,
                                      leaky_relu, logsigmoid, mish, relu6, selu, silu,
                                      softplus)
from autograd.ops.fused import (batch_norm_training, cross_entropy_indices, embedding,
                                group_norm, layer_norm, scaled_dot_product_attention)
from autograd.ops.layers import _drop, dropout, linear, log_softmax, softmax
from autograd.ops.layers import nll_loss as _nll_loss
from autograd.ops.pool import (adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool1d,
                               avg_pool2d, max_pool1d, max_pool2d)
from autograd.ops.shape import pad

from ._grid_sample import affine_grid, grid_sample
from .pixelshuffle import pixel_shuffle, pixel_unshuffle

__all__ = [
    # convolutions, poolings, linear layers, dropout, normalisation, embedding, attention
    "conv1d", "conv2d", "conv_transpose2d", "max_pool1d", "max_pool2d", "avg_pool1d",
    "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "linear", "bilinear",
    "dropout", "dropout2d", "batch_norm", "layer_norm", "group_norm", "embedding",
    "scaled_dot_product_attention",
    # activations
    "relu", "sigmoid", "tanh", "softmax", "log_softmax", "leaky_relu", "elu", "selu", "celu",
    "gelu", "silu", "mish", "softplus", "hardtanh", "relu6", "logsigmoid", "hardsigmoid",
    "hardswish", "prelu",
    # shape and resampling
    "flatten", "pad", "pixel_shuffle", "pixel_unshuffle", "interpolate", "affine_grid",
    "grid_sample",
    # losses and distances
    "nll_loss", "cross_entropy", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
    "cosine_embedding_loss", "margin_ranking_loss", "triplet_margin_loss", "pairwise_distance",
    "cosine_similarity", "hinge_embedding_loss", "soft_margin_loss",
    "multilabel_soft_margin_loss", "poisson_nll_loss", "gaussian_nll_loss",
    "LossArgumentError",
]


def relu(input, inplace=False):
    """``max(x, 0)`` elementwise (``F.relu``); ``inplace=True`` rewrites ``input`` (recorded in
    the graph like every in-place op) and returns it."""
    if inplace:
        return input.relu_()
    return autograd.relu(input)


def sigmoid(input):
    """``1 / (1 + exp(-x))`` elementwise (``F.sigmoid``)."""
    return autograd.sigmoid(input)


def tanh(input):
    """Hyperbolic tangent elementwise (``F.tanh``)."""
    return autograd.tanh(input)


def flatten(input, start_dim=0, end_dim=-1):
    """``autograd.flatten``."""
    return autograd.flatten(input, start_dim, end_dim)


# ---- layers: batch_norm, dropout2d, bilinear, prelu, interpolate --------------------------------
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalisation over every dim but the channel dim 1 (``F.batch_norm``; Ioffe &
    Szegedy, 2015): ``y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias``.

    With ``training=True`` the statistics are the batch's (biased variance), and
    ``running_mean``/``running_var`` (when given) are updated in place, without gradient:
    ``running = (1 - momentum) * running + momentum * batch_stat``, the variance term using the
    *unbiased* batch variance (``n / (n - 1)``), as PyTorch. With ``training=False`` the running
    statistics are used. Training mode is one fused node (Numba kernels forward and backward,
    :mod:`kernels.batchnorm`; double backward recomputes with Tensor ops); evaluation mode is
    composed of Tensor ops.

    Shapes: input ``(N, C)`` or ``(N, C, d1, ...)``; ``running_mean``, ``running_var``,
    ``weight``, ``bias`` ``(C,)``; output like the input.

    Dtypes: PyTorch's CPU rule: the statistics and affine tensors have the input's dtype, or
    the input is float16 and they are float32 (computed in float32, the result rounded back to
    float16).

    Raises:
        ValueError: for an input of fewer than 2 dims, a batch with one value per channel when
            training, or a bad ``eps``.
        RuntimeError: if a statistic or affine tensor does not have ``C`` elements, has a
            dtype PyTorch refuses ("mixed dtype"), or the running statistics are missing in
            evaluation mode.
        NotImplementedError: for an integer or bool input (as PyTorch).
    """
    if input.dtype.kind != "f":
        raise not_implemented_for("batch_norm", input)
    named = [(n, t) for n, t in (("running_mean", running_mean), ("running_var", running_var),
                                 ("weight", weight), ("bias", bias)) if t is not None]
    if any(t.dtype != input.dtype for _, t in named):
        if not (input.dtype == np.float16 and all(t.dtype == np.float32 for _, t in named)):
            raise RuntimeError("batch_norm: mixed dtype (CPU): all inputs must share the same "
                               "dtype (or be a float16 input with float32 parameters), got "
                               f"input {input.dtype}, "
                               + ", ".join(f"{n} {t.dtype}" for n, t in named))
    if input.dtype == np.float16:  # in float32 (the running statistics are updated in place)
        w = None if weight is None else weight.to(autograd.float32)
        b = None if bias is None else bias.to(autograd.float32)
        return _batch_norm(input.to(autograd.float32), running_mean, running_var, w, b,
                           training, momentum, eps).to(autograd.float16)
    return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps):
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, *), got "
                         f"{tuple(input.shape)}")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")
    if training:
        n = input.numel() // c if c else 0
        if n == 1:
            raise ValueError("Expected more than 1 value per channel when training, got input "
                             f"size {tuple(input.shape)}")
        if eps <= 0.0:
            raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    elif eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    axes = (0,) + tuple(range(2, input.ndim))
    shape = (1, c) + (1,) * (input.ndim - 2)
    if training and input.dtype in (np.float32, np.float64) and input.numel():
        # one fused node (kernels/batchnorm.py): the statistics, normalisation and affine
        # in one pass each way, instead of about a dozen elementwise ops and temporaries
        out, mean, var = batch_norm_training(input, weight, bias, eps)
        if running_mean is not None:
            rm = running_mean._data
            rm[...] = (1 - momentum) * rm + momentum * mean.astype(rm.dtype)
            running_mean._bump_version()
        if running_var is not None:
            rv = running_var._data
            rv[...] = (1 - momentum) * rv + momentum * (var * (n / max(n - 1, 1))).astype(
                rv.dtype)
            running_var._bump_version()
        return out
    if training:
        mean = input.mean(axes, keepdim=True)
        centered = input - mean
        var = (centered * centered).mean(axes, keepdim=True)
        if running_mean is not None:
            rm = running_mean._data
            rm[...] = (1 - momentum) * rm + momentum * mean._data.reshape(c).astype(rm.dtype)
            running_mean._bump_version()
        if running_var is not None:
            rv = running_var._data
            unbiased = var._data.reshape(c).astype(np.float64) * (n / max(n - 1, 1))
            rv[...] = (1 - momentum) * rv + momentum * unbiased.astype(rv.dtype)
            running_var._bump_version()
        out = centered * (var + eps).rsqrt()
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean must be defined in evaluation mode"
                               if running_mean is None else
                               "running_var must be defined in evaluation mode")
        rm = running_mean.detach().reshape(shape).to(input.dtype)
        rv = running_var.detach().reshape(shape).to(input.dtype)
        out = (input - rm) * (rv + eps).rsqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Channel-wise dropout (``F.dropout2d``; Tompson et al., 2015): during training each
    channel ``input[n, c]`` is zeroed as a whole with probability ``p``, the others scaled by
    ``1 / (1 - p)``. Identity when not training.

    Shapes: ``(N, C, H, W)``; a 3-D input is taken as ``(N, C, L)`` (PyTorch's current
    behaviour, with its warning). Masks come from the default generator.

    Raises:
        ValueError: if ``p`` is not in ``[0, 1]``.
        RuntimeError: for an input of fewer than 2 dims, or an integer/bool input when it
            drops (as PyTorch).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    nd = input.ndim
    if nd not in (3, 4):
        warnings.warn(f"dropout2d: Received a {nd}-D input to dropout2d, which is deprecated "
                      "and will result in an error in a future release. To retain the behavior "
                      "and silence this warning, please use dropout instead. Note that dropout2d "
                      "exists to provide channel-wise dropout on inputs with 2 spatial "
                      "dimensions, a channel dimension, and an optional batch dimension (i.e. "
                      "3D or 4D inputs).", stacklevel=2)
    if nd == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim. This behavior will change in "
                      "a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout "
                      "behavior, please switch to using dropout1d instead.", stacklevel=2)
    if nd < 2:
        raise RuntimeError(f"dropout2d: Feature dropout requires at least 2 dimensions in the "
                           f"input, got shape {tuple(input.shape)}")
    if not training or p == 0.0:
        return input
    return _drop("dropout2d", input, p, tuple(input.shape[:2]) + (1,) * (nd - 2), inplace)


def bilinear(input1, input2, weight, bias=None):
    """``y = x1^T A x2 + b`` for each output feature (``F.bilinear``).

    Shapes: input1 ``(*, H_in1)``, input2 ``(*, H_in2)`` (same leading dims), weight
    ``(H_out, H_in1, H_in2)``, bias ``(H_out,)``; output ``(*, H_out)``. Computed as one
    matmul ``x1 @ A`` (viewed as ``(H_in1, H_out * H_in2)``) and a product-sum with ``x2``.

    Raises:
        RuntimeError: for mismatched leading dims, feature sizes or dtypes (PyTorch's rule:
            all four tensors of one dtype).
    """
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-D (H_out, H_in1, H_in2), got shape "
                           f"{tuple(weight.shape)}")
    o, i, j = weight.shape
    if input1.ndim < 1 or input1.ndim != input2.ndim:
        raise RuntimeError(f"bilinear(): input1 and input2 must have the same number of dims "
                           f"(at least 1), got shapes {tuple(input1.shape)} and "
                           f"{tuple(input2.shape)}")
    for d, (a, b) in enumerate(zip(input1.shape[:-1], input2.shape[:-1])):
        if a != b:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {d}: "
                               f"got {a} and {b}")
    if input1.shape[-1] != i:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got "
                           f"{input1.shape[-1]} but expected {i}")
    if input2.shape[-1] != j:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got "
                           f"{input2.shape[-1]} but expected {j}")
    tensors = (("input1", input1), ("input2", input2), ("weight", weight), ("bias", bias))
    if len({t.dtype for _, t in tensors if t is not None}) > 1:
        raise RuntimeError("bilinear(): All tensors must have the same dtype, got "
                           + ", ".join(f"{n}: {t.dtype}" for n, t in tensors if t is not None))
    batch = tuple(input1.shape[:-1])
    b = int(np.prod(batch, dtype=np.int64))
    x1 = input1.reshape(b, i)
    x2 = input2.reshape(b, j)
    t = x1 @ weight.permute(1, 0, 2).reshape(i, o * j)           # (B, H_out * H_in2)
    out = (t.reshape(b, o, j) * x2.unsqueeze(1)).sum(-1)          # (B, H_out)
    if bias is not None:
        out = out + bias
    return out.reshape(batch + (o,))


def prelu(input, weight):
    """``max(0, x) + weight * min(0, x)`` with a learnable slope (``F.prelu``; He et al., 2015).

    ``weight`` has 1 element (shared) or ``C`` elements, one per channel of dim 1 (inputs of
    fewer than 2 dims have one channel).

    Raises:
        RuntimeError: if ``weight`` has neither 1 nor ``C`` elements, or another dtype than
            the input (PyTorch: "Type promoting not supported").
    """
    if input.dtype != weight.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported: got input of dtype "
                           f"{input.dtype} and weight of dtype {weight.dtype}")
    n = weight.numel()
    if n != 1:
        c = input.shape[1] if input.ndim >= 2 else 1
        if n != c:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {n} and channel size = {c}.")
        weight = weight.reshape((1, c) + (1,) * (input.ndim - 2))
    elif input.ndim < weight.ndim:
        weight = weight.reshape(())
    # the slope multiplies only the non-positive part (where(x > 0, 0, x)): weight * input
    # would give the weight a 0 * inf = NaN gradient at x = +inf (PyTorch: 0)
    pos = input > 0
    return autograd.where(pos, input, weight * autograd.where(pos, 0.0, input))


_INTERP_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear")
_LINEAR_RANK = {"linear": 3, "bilinear": 4, "trilinear": 5}


def _interp_output_size(input, size, scale_factor, op):
    spatial = tuple(input.shape[2:])
    nd = len(spatial)
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if size is not None:
        out = tuple(int(s) for s in size) if isinstance(size, (tuple, list)) else (int(size),) * nd
        if len(out) != nd:
            raise ValueError(f"Input and output must have the same number of spatial dimensions, "
                             f"but got input with spatial dimensions of {list(spatial)} and "
                             f"output size of {tuple(size)}. Please provide input tensor in (N, "
                             "C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) "
                             "format.")
        return out, (None,) * nd
    scales = (tuple(float(s) for s in scale_factor) if isinstance(scale_factor, (tuple, list))
              else (float(scale_factor),) * nd)
    if len(scales) != nd:
        raise ValueError(f"Input and scale_factor must have the same number of spatial "
                         f"dimensions, but got input with spatial dimensions of {list(spatial)} "
                         f"and scale_factor of shape {tuple(scale_factor)}. Please provide "
                         "input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in "
                         "(s1, s2, ...,sK) format.")
    return tuple(int(np.floor(n * s)) for n, s in zip(spatial, scales)), scales


def _nearest_index(n_in, n_out, scale, exact):
    """Source indices of PyTorch's nearest (``floor(dst * s)``) and nearest-exact
    (``floor((dst + 0.5) * s)``) modes, ``s = 1 / scale_factor`` or ``in / out``, computed in
    float32 as PyTorch's CPU kernel does."""
    s = np.float32(1.0 / scale) if scale is not None and scale > 0 else (
        np.float32(n_in) / np.float32(n_out))
    dst = np.arange(n_out, dtype=np.float32)
    if exact:
        src = np.floor((dst + np.float32(0.5)) * s)
    else:
        if n_out == n_in:
            return np.arange(n_out)
        if n_out == 2 * n_in:
            return np.arange(n_out) >> 1
        src = np.floor(dst * s)
    return np.minimum(src.astype(np.int64), n_in - 1)


def _linear_weights(n_in, n_out, scale, align_corners, dtype):
    """``(i0, i1, w0, w1)``: the two source indices and weights of each output position, by
    PyTorch's ``area_pixel_compute_source_index``: ``src = s * dst`` (align_corners) or
    ``max(s * (dst + 0.5) - 0.5, 0)``, with ``s = (in - 1) / (out - 1)`` (align_corners) or
    ``1 / scale_factor`` or ``in / out``."""
    if align_corners:
        s = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    else:
        s = 1.0 / scale if scale is not None and scale > 0 else n_in / n_out
    dst = np.arange(n_out, dtype=np.float64)
    src = s * dst if align_corners else np.maximum(s * (dst + 0.5) - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    w1 = (src - i0).astype(dtype)
    w0 = (1 - w1).astype(dtype)
    return i0, i1, w0, w1


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of ``input`` (``F.interpolate``).

    Modes: ``'nearest'`` (source index ``floor(dst * in / out)``, PyTorch's legacy rule),
    ``'nearest-exact'`` (``floor((dst + 0.5) * in / out)``), ``'linear'`` (3-D input),
    ``'bilinear'`` (4-D) and ``'trilinear'`` (5-D), with ``align_corners`` False (half-pixel
    centres, the default) or True (corner pixels aligned). When ``scale_factor`` is given (and
    ``recompute_scale_factor`` is not True) the kernel uses ``1 / scale_factor`` as PyTorch does.
    Differentiable: it is built from integer indexing (gather) and weighted sums, one spatial
    axis at a time (the linear modes are separable).

    Shapes: input ``(N, C, L_in)``, ``(N, C, H_in, W_in)`` or ``(N, C, D_in, H_in, W_in)``;
    output ``(N, C, *size)`` or ``floor(in * scale_factor)`` per spatial dim.

    Dtypes: floating inputs; uint8 too for the nearest modes and bilinear (as PyTorch:
    nearest gathers exactly; bilinear is computed in float32 and rounded to the nearest
    integer, where PyTorch's fixed-point uint8 kernel may differ by 1). Other integer dtypes
    and bool (and uint8 for linear/trilinear) raise PyTorch's ``NotImplementedError``.

    Non-finite inputs: the linear modes weigh the two neighbours of each axis separately, so
    an ``inf`` spreads NaN (``0 * inf``) exactly where some neighbour weight is 0; PyTorch's
    kernel turns a slightly different set of positions into NaN (for example the ``inf``
    itself when an axis keeps its size in 'trilinear').

    Differs from PyTorch: no ``'bicubic'``/``'area'``/``'lanczos'`` modes and no
    ``antialias`` (these raise ``NotImplementedError``).

    Raises:
        ValueError: for both or neither of size/scale_factor, align_corners with a nearest
            mode, or a size of the wrong length.
        NotImplementedError: for an unsupported mode, input rank or dtype.
        RuntimeError: for an empty input or output size.
    """
    if mode in ("nearest", "nearest-exact", "area") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported by tapegrad")
    if mode not in _INTERP_MODES:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported by tapegrad "
                                  f"({input.ndim}D input, got {mode}); supported: "
                                  + " | ".join(_INTERP_MODES))
    if input.ndim not in (3, 4, 5):
        raise NotImplementedError(f"interpolate: Input Error: Only 3D, 4D and 5D input Tensors "
                                  f"supported (got {input.ndim}D, shape {tuple(input.shape)}) "
                                  f"for the modes: " + " | ".join(_INTERP_MODES) +
                                  f" (got {mode})")
    want = _LINEAR_RANK.get(mode)
    if want is not None and input.ndim != want:
        raise NotImplementedError(f"interpolate: Got {input.ndim}D input, but {mode} mode needs "
                                  f"{want}D input")
    # PyTorch's kernels' dtypes: floats; uint8 for the nearest modes and bilinear
    if input.dtype.kind != "f" and (input.dtype != np.uint8 or mode in ("linear", "trilinear")):
        raise not_implemented_for("interpolate", input, "a floating point tensor" + (
            "" if mode in ("linear", "trilinear") else " or uint8"))
    if input.dtype == np.uint8 and want is not None:
        out = interpolate(input.to(autograd.float32), size, scale_factor, mode, align_corners,
                          recompute_scale_factor)
        return Tensor(np.clip(np.rint(out._data), 0, 255).astype(np.uint8))
    out_size, scales = _interp_output_size(input, size, scale_factor, "interpolate")
    if recompute_scale_factor:
        scales = (None,) * len(scales)
    spatial = tuple(input.shape[2:])
    if any(n <= 0 for n in spatial) or any(n <= 0 for n in out_size):
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"{spatial} output {out_size}")
    # One spatial axis at a time. Fast paths: an integer nearest upscale is an expand (its
    # backward a sum); otherwise, for finite inputs and moderate sizes, a product with the
    # (n_out, n_in) interpolation matrix (BLAS, backward M^T @ grad). The general path gathers
    # with integer indexing (exact for inf/nan inputs, whose zeros in M would give 0 * inf).
    finite = bool(np.isfinite(input._data).all())
    out = input
    for k, (n_in, n_out, sc) in enumerate(zip(spatial, out_size, scales)):
        axis = 2 + k
        last = axis == input.ndim - 1
        lead = (slice(None),) * axis
        if mode in ("nearest", "nearest-exact"):
            idx = _nearest_index(n_in, n_out, sc, mode == "nearest-exact")
            rep = n_out // n_in
            if n_out % n_in == 0 and np.array_equal(idx, np.arange(n_out) // rep):
                shape = tuple(out.shape)
                wide = shape[:axis + 1] + (1,) + shape[axis + 1:]
                big = shape[:axis + 1] + (rep,) + shape[axis + 1:]
                out = out.reshape(wide).expand(*big).reshape(
                    shape[:axis] + (n_out,) + shape[axis + 1:])
                continue
            rows, cols, vals = np.arange(n_out), [idx], [np.ones(n_out)]
        elif n_in != n_out:  # PyTorch copies a dim whose size does not change
            i0, i1, w0, w1 = _linear_weights(n_in, n_out, sc, bool(align_corners),
                                             input.dtype)
            rows, cols, vals = np.arange(n_out), [i0, i1], [w0, w1]
        else:
            continue
        if finite and n_in <= 256 and (last or axis == input.ndim - 2):
            m = np.zeros((n_out, n_in), dtype=input.dtype)
            for c, v in zip(cols, vals):
                np.add.at(m, (rows, c), v)
            out = out @ Tensor(m.T.copy()) if last else Tensor(m) @ out
        else:
            wshape = (n_out,) + (1,) * (input.ndim - 1 - axis)
            with np.errstate(invalid="ignore"):  # inf * 0 weight gives nan, as PyTorch
                terms = [out[lead + (c,)] * Tensor(np.asarray(v, input.dtype).reshape(wshape))
                         for c, v in zip(cols, vals)]
            out = terms[0] if len(terms) == 1 else terms[0] + terms[1]
    return out


# ==== losses ====================================================================================
# Classification, regression, binary, divergence and embedding losses (``torch.nn.functional``'s
# loss functions). ``nll_loss`` and the class-index ``cross_entropy`` run their ops' nodes
# (:mod:`autograd.ops.layers`, :mod:`autograd.ops.fused`); the others are composed of Tensor
# ops, so every gradient (and double backward) comes from the op library;
# ``binary_cross_entropy`` is one node because PyTorch's gradient clamps its denominator (its
# backward is itself written with Tensor ops). Formulas: the PyTorch documentation of each
# loss (https://pytorch.org/docs/stable/nn.html#loss-functions) and ATen's ``Loss.cpp``.
#
# Errors: where PyTorch raises a RuntimeError for bad shapes or arguments (mostly from
# broadcasting, deep in ATen), these raise :class:`LossArgumentError`, a ``ValueError`` that is
# also a ``RuntimeError``, naming the loss and the shapes; code that catches either keeps
# working. Where PyTorch raises ``ValueError`` (bad ``reduction``, BCE target shapes), so do we.


class LossArgumentError(ValueError, RuntimeError):
    """Bad shapes or arguments given to a loss: a ``ValueError`` (our convention) that is also a
    ``RuntimeError`` (what PyTorch raises in these cases)."""


_REDUCTIONS = ("mean", "sum", "none")


def _legacy_reduction(size_average, reduce, reduction, stacklevel=3):
    """PyTorch's ``_Reduction.legacy_get_string``: the deprecated ``size_average``/``reduce``
    pair, when either is given, overrides ``reduction`` (with PyTorch's warning)."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else ("sum" if reduce else "none")
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                   f"reduction='{ret}' instead.", stacklevel=stacklevel)
    return ret


def _check_reduction(reduction, op, allowed=_REDUCTIONS):
    if reduction not in allowed:
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction (expected "
                         + ", ".join(repr(r) for r in allowed) + ")")


def _loss_reduction(op, size_average, reduce, reduction, stacklevel=4):
    """The checked reduction of a loss: ``reduction``, or what the deprecated
    ``size_average``/``reduce`` pair says when either is given (PyTorch's warning, shown at the
    loss's caller: ``stacklevel`` counts from :func:`_legacy_reduction`)."""
    reduction = _legacy_reduction(size_average, reduce, reduction, stacklevel)
    _check_reduction(reduction, op)
    return reduction


# What each loss does with an integer or bool input (PyTorch's behaviour, probed op by op):
# "any": integers and bool are promoted (with the other operand) to a floating dtype;
# "ints": integers are, bool raises PyTorch's RuntimeError (its subtraction refuses bool);
# "cast" / "integral" / "mean" / "same": PyTorch's RuntimeError of that op;
# "kernel": PyTorch's NotImplementedError (the op's kernel has no integer version).
_INPUT_DTYPES = {
    "l1_loss": "ints", "mse_loss": "any", "smooth_l1_loss": "any", "huber_loss": "cast",
    "soft_margin_loss": "cast", "kl_div": "integral", "hinge_embedding_loss": "mean",
    "poisson_nll_loss": "any", "gaussian_nll_loss": "ints", "binary_cross_entropy": "same",
    "binary_cross_entropy_with_logits": "kernel", "multilabel_soft_margin_loss": "kernel",
    "cosine_embedding_loss": "any", "margin_ranking_loss": "ints",
    "triplet_margin_loss": "ints", "pairwise_distance": "ints", "cosine_similarity": "any",
}


def _loss_input(x, name, op):
    """``x`` must be a Tensor; an integer or bool ``x`` is accepted or refused as PyTorch's
    op does (``_INPUT_DTYPES``), with PyTorch's exception type and a message naming the op
    and the dtype. An accepted one is promoted later by :func:`_promote`."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(x).__name__}")
    if x.dtype.kind == "f":
        return x
    rule = _INPUT_DTYPES.get(op, "cast")
    is_bool = x.dtype.kind == "b"
    where = f"{name} has dtype {x.dtype}, shape {tuple(x.shape)}"
    if rule == "any" or (rule == "ints" and not is_bool):
        return x
    if rule == "kernel":
        raise not_implemented_for(op, x)
    if is_bool and rule in ("ints", "mean"):
        raise RuntimeError(f"{op}: subtraction with a bool tensor is not supported ({where}); "
                           "convert it with .float() first")
    if is_bool and op == "soft_margin_loss":
        raise RuntimeError(f"{op}: negation of a bool tensor is not supported ({where})")
    torch_name = TORCH_DTYPE_NAMES.get(x.dtype.name, x.dtype.name)
    why = {"integral": "Integral inputs not supported",
           "mean": "could not infer the output dtype: the input must be floating point",
           "same": f"expected {name} and target of one floating dtype (Found dtype Float but "
                   f"expected {torch_name})"}.get(
        rule, f"result type Float can't be cast to the desired output type {torch_name}")
    raise RuntimeError(f"{op}: {why} ({where})")


def _promote(x, other):
    """An integer/bool loss input that PyTorch accepts, in the floating dtype it computes in:
    ``other``'s when floating, else the default dtype."""
    if x.dtype.kind == "f":
        return x
    return x.to(other.dtype if other.dtype.kind == "f" else autograd.get_default_dtype())


def _loss_target(t, like, name, op):
    """A Tensor target as given (dtype promotion as in any op); array-likes and numbers become
    constant tensors, in ``like``'s dtype when it is floating."""
    if isinstance(t, Tensor):
        return t
    if t is None:
        raise TypeError(f"{op}: {name} must be a Tensor, got None")
    arr = np.asarray(t)
    if like.dtype.kind == "f" and arr.dtype.kind in "fbiu":
        arr = arr.astype(like.dtype)
    return Tensor(arr)


def _fmt(shape):
    return str(tuple(shape))


def _broadcast_or_raise(op, **named):
    """The broadcast shape of the named tensors' shapes, or a :class:`LossArgumentError`
    listing them all."""
    try:
        return np.broadcast_shapes(*(tuple(t.shape) for t in named.values()))
    except ValueError:
        shapes = ", ".join(f"{k} {_fmt(t.shape)}" for k, t in named.items())
        raise LossArgumentError(f"{op}: shapes do not broadcast together: {shapes}") from None


def _loss_operands(op, a, b, names=("input", "target")):
    """``(a, b)`` of a loss: ``a`` a Tensor whose dtype the loss accepts (:func:`_loss_input`),
    ``b`` a Tensor like it (:func:`_loss_target`), an accepted integer/bool ``a`` promoted to
    the floating dtype it computes in (:func:`_promote`)."""
    _loss_input(a, names[0], op)
    b = _loss_target(b, a, names[1], op)
    return _promote(a, b), b


def _pointwise_operands(op, input, target, warn=True, stacklevel=3):
    """Check an elementwise loss's (input, target): broadcastable shapes (PyTorch's warning
    when they differ) or a :class:`LossArgumentError` naming both."""
    input, target = _loss_operands(op, input, target)
    if target.shape != input.shape:
        _broadcast_or_raise(op, input=input, target=target)
        if warn:
            warnings.warn(f"Using a target size ({_fmt(target.shape)}) that is different to "
                           f"the input size ({_fmt(input.shape)}). This will likely lead to "
                           "incorrect results due to broadcasting. Please ensure they have the "
                           "same size.", stacklevel=stacklevel)
    return input, target


def _same_dtype(op, input, target):
    """PyTorch's huber_loss and binary_cross_entropy kernels take input and target of one
    dtype (no promotion): RuntimeError otherwise."""
    if target.dtype != input.dtype:
        raise RuntimeError(f"{op}: expected target of the input's dtype {input.dtype}, got "
                           f"{target.dtype} (PyTorch: Found dtype "
                           f"{TORCH_DTYPE_NAMES.get(target.dtype.name, target.dtype.name)} but "
                           f"expected {TORCH_DTYPE_NAMES.get(input.dtype.name)})")


def _weight_like(weight, input, op, name="weight", exact=False):
    """``weight`` as a Tensor of ``input``'s dtype that broadcasts to ``input``'s shape (or has
    exactly that shape when ``exact``)."""
    if weight is None:
        return None
    w = weight if isinstance(weight, Tensor) else Tensor(np.asarray(weight))
    if w.dtype != input.dtype:
        w = w.to(input.dtype)
    ok = tuple(w.shape) == tuple(input.shape)
    if not ok and not exact:
        try:
            ok = np.broadcast_shapes(tuple(w.shape), tuple(input.shape)) == tuple(input.shape)
        except ValueError:
            ok = False
    if not ok:
        want = "have the input's shape" if exact else "broadcast to the input's shape"
        raise LossArgumentError(f"{op}: {name} of shape {_fmt(w.shape)} must {want} "
                                f"{_fmt(input.shape)}")
    return w


def _weighted_reduce(loss, weight, reduction, op, mean_by_weight=True):
    """PyTorch's elementwise ``weight`` of l1/mse/huber: ``'mean'`` is ``sum(w * l) / sum(w)``
    (l1, mse) or ``mean(w * l)`` (huber, ``mean_by_weight=False``)."""
    if weight is None:
        return _reduce(loss, reduction, op)
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.expand(loss.shape).sum()
    return _reduce(loss, reduction, op)


def _elementwise_loss_args(op, input, target, size_average, reduce, reduction, weight=None,
                           warn=True):
    """``(input, target, reduction, weight)`` of a pointwise loss, checked: the reduction
    (:func:`_loss_reduction`), the operands (:func:`_pointwise_operands`, with its
    broadcasting warning when ``warn``) and a weight of the input's shape."""
    reduction = _loss_reduction(op, size_average, reduce, reduction, stacklevel=5)
    input, target = _pointwise_operands(op, input, target, warn, stacklevel=4)
    weight = _weight_like(weight, input, op, exact=True)
    return input, target, reduction, weight


def _reduce(loss, reduction, op):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction "
                     "(expected 'mean', 'sum' or 'none')")


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of class indices (``F.nll_loss``):
    :func:`autograd.ops.layers.nll_loss` with PyTorch's full signature.

    Shapes: input ``(N, C)`` or ``(N, C, d1, ...)`` (or ``(C,)``) of log-probabilities, target
    ``(N)`` / ``(N, d1, ...)`` int64 in ``[0, C)`` (or ``ignore_index``); ``weight`` ``(C,)``.
    Output: a scalar, or the target's shape for ``reduction='none'``.

    The deprecated ``size_average``/``reduce`` pair, when either is given, overrides
    ``reduction`` (``size_average=False`` is ``'sum'``), with PyTorch's deprecation warning.

    Raises:
        ValueError: for an unknown reduction or mismatched shapes.
        IndexError: for a target outside ``[0, C)``.
        TypeError: if target is not an integer tensor.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _nll_loss(input, target, weight=weight, ignore_index=ignore_index,
                     reduction=reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits and targets (``F.cross_entropy``).

    Class-index targets run one fused node (:func:`autograd.ops.fused.cross_entropy_indices`:
    log-softmax + NLL + label smoothing in one Numba kernel each way); probability targets
    are composed of ``log_softmax(input, 1)`` and Tensor ops.

    Shapes: input ``(N, C)`` or ``(N, C, d1, ...)`` (or ``(C,)``) of unnormalised logits;
    target either class indices ``(N)``/``(N, d1, ...)`` int64 in ``[0, C)``, or class
    probabilities with the input's shape (float). Output: a scalar, or ``(N, d1, ...)`` for
    ``reduction='none'``.

    Args:
        weight (Tensor, optional): ``(C,)`` rescaling per class (a constant: no gradient
            flows into it).
        ignore_index (int): targets with this value contribute nothing (index targets only).
        reduction (str): ``'mean'`` | ``'sum'`` | ``'none'``; ``'mean'`` of index targets
            divides by the summed weights of the non-ignored targets (PyTorch).
        label_smoothing (float): in ``[0, 1]``; the target becomes
            ``(1 - eps) * onehot + eps / C`` (Szegedy et al., 2016).

    Raises:
        ValueError: for a bad reduction, label_smoothing outside [0, 1], or mismatched shapes.
        IndexError: for a class index outside ``[0, C)``.
        TypeError: for a target that is neither integer nor floating.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cross_entropy: {reduction!r} is not a valid value for reduction")
    if input.ndim == 0:
        raise ValueError("cross_entropy: input must have at least 1 dimension (C,)")
    tgt = target._data if isinstance(target, Tensor) else np.asarray(target)
    if tgt.dtype.kind != "f":  # class indices: the fused op (it checks the dtype)
        return cross_entropy_indices(input, tgt, weight=weight, ignore_index=ignore_index,
                                     reduction=reduction, label_smoothing=label_smoothing)
    class_dim = 0 if input.ndim == 1 else 1
    c = input.shape[class_dim]
    if tgt.shape != input.shape:
        raise ValueError(f"cross_entropy: probability target of shape {tgt.shape} must "
                         f"match the input's shape {tuple(input.shape)}")
    logp = log_softmax(input, class_dim)
    t = target if isinstance(target, Tensor) else autograd.tensor(tgt)
    t = t.to(input.dtype)
    if label_smoothing:
        t = t * (1 - label_smoothing) + label_smoothing / c
    terms = logp * t
    if weight is not None:
        w = weight if isinstance(weight, Tensor) else autograd.tensor(weight)
        w = w.to(input.dtype)
        if w.shape != (c,):
            raise ValueError(f"cross_entropy: weight must have shape ({c},), got "
                             f"{tuple(w.shape)}")
        wshape = [1] * input.ndim
        wshape[class_dim] = c
        terms = terms * w.reshape(wshape)
    loss = -terms.sum(class_dim)
    return _reduce(loss, reduction, "cross_entropy")


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error ``l_i = (x_i - y_i)^2`` (``F.mse_loss``; formula from the PyTorch doc
    of ``torch.nn.MSELoss``), reduced by ``reduction``.

    Shapes: input ``(*)`` floating, target broadcastable to it (PyTorch's warning when the shapes
    differ); ``weight`` (optional) the input's shape, then ``'mean'`` is ``sum(w l) / sum(w)``.

    Raises:
        ValueError: for an unknown reduction.
        LossArgumentError: for shapes that do not broadcast, or a weight of another shape.
        TypeError: for a non-Tensor input. (Integer and bool inputs are promoted to the target's
            floating dtype, as PyTorch.)
    """
    op = "mse_loss"
    input, target, reduction, weight = _elementwise_loss_args(op, input, target, size_average,
                                                              reduce, reduction, weight)
    diff = input - target
    return _weighted_reduce(diff * diff, weight, reduction, op)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error ``l_i = |x_i - y_i|`` (``F.l1_loss``; formula from the PyTorch doc of
    ``torch.nn.L1Loss``), reduced by ``reduction``.

    Shapes: input ``(*)`` floating, target broadcastable to it (PyTorch's warning when the shapes
    differ); ``weight`` (optional) the input's shape, then ``'mean'`` is ``sum(w l) / sum(w)``.
    The gradient at ``x == y`` is 0 (``sign``), as PyTorch's.

    Raises:
        ValueError: for an unknown reduction.
        LossArgumentError: for shapes that do not broadcast, or a weight of another shape
            (PyTorch raises RuntimeError / ValueError).
        TypeError: for a non-Tensor input.
        RuntimeError: for a bool input (PyTorch's subtraction refuses bool; integer inputs are
            promoted, as PyTorch).
    """
    op = "l1_loss"
    input, target, reduction, weight = _elementwise_loss_args(op, input, target, size_average,
                                                              reduce, reduction, weight)
    return _weighted_reduce((input - target).abs(), weight, reduction, op)


class SmoothL1(_Node):
    """Saves ``d = input - target`` for backward (elementwise, unreduced; ``huber`` scales
    by ``beta``)."""

    @staticmethod
    def forward(ctx, d, beta, huber):
        ctx.beta, ctx.huber = beta, huber
        ctx.save_for_backward(d)
        ad = np.abs(d)
        with np.errstate(invalid="ignore", over="ignore"):
            if huber:
                out = np.where(ad < beta, 0.5 * d * d, beta * (ad - 0.5 * beta))
            else:
                out = np.where(ad < beta, 0.5 * d * d / beta, ad - 0.5 * beta)
        return out.astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        d, = ctx.saved_tensors
        beta = ctx.beta
        # ATen's smooth_l1_backward / huber_backward: a clamp, so d = +-inf gives +-g (a where
        # of the two branches would differentiate the unused quadratic there: 0 * inf = NaN)
        if ctx.huber:
            return grad * d.clamp(-beta, beta), None, None
        return grad * (d / beta).clamp(-1.0, 1.0), None, None


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Smooth L1 loss (``F.smooth_l1_loss``; Girshick, 2015, "Fast R-CNN"; formula from the
    PyTorch doc of ``torch.nn.SmoothL1Loss``): with ``d = x - y``,
    ``l = 0.5 d^2 / beta`` if ``|d| < beta``, else ``|d| - 0.5 beta``. ``beta = 0`` is the L1
    loss. The gradient is PyTorch's ``clamp(d / beta, -1, 1)``: ``+-1`` at ``d = +-inf``, NaN
    at NaN.

    Shapes: input ``(*)``, target broadcastable to it (PyTorch's warning when they differ).

    Raises:
        ValueError: for an unknown reduction.
        LossArgumentError: for ``beta < 0`` or shapes that do not broadcast.
        TypeError: for a non-Tensor input. (Integer and bool inputs are promoted to the target's
            floating dtype, as PyTorch.)
    """
    op = "smooth_l1_loss"
    if beta < 0:
        raise LossArgumentError(f"{op} does not support negative values for beta, got {beta}")
    input, target, reduction, _ = _elementwise_loss_args(op, input, target, size_average,
                                                         reduce, reduction)
    d = input - target
    if beta == 0:
        return _reduce(d.abs(), reduction, op)
    return _reduce(SmoothL1.apply(d, float(beta), False), reduction, op)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Huber loss (``F.huber_loss``; Huber, 1964; formula from the PyTorch doc of
    ``torch.nn.HuberLoss``): with ``d = x - y``, ``l = 0.5 d^2`` if ``|d| < delta``, else
    ``delta (|d| - 0.5 delta)``; i.e. ``delta * smooth_l1_loss(beta=delta)``. The gradient is
    PyTorch's ``clamp(d, -delta, delta)``: ``+-delta`` at ``d = +-inf``, NaN at NaN.

    Shapes: input ``(*)``, target broadcastable to it (PyTorch's warning when they differ);
    ``weight`` (optional) the input's shape, then ``'mean'`` is ``mean(w l)`` (as PyTorch's,
    unlike l1/mse, which divide by ``sum(w)``).

    Raises:
        ValueError: for an unknown reduction.
        LossArgumentError: for ``delta <= 0``, shapes that do not broadcast, or a weight of
            another shape.
        TypeError: for a non-Tensor input.
        RuntimeError: for an integer or bool input or a target of another dtype than the input (as
            PyTorch).
    """
    op = "huber_loss"
    if not delta > 0:
        raise LossArgumentError(f"{op} does not support non-positive values for delta, got "
                                f"{delta}")
    input, target, reduction, weight = _elementwise_loss_args(op, input, target, None, None,
                                                              reduction, weight)
    _same_dtype(op, input, target)
    loss = SmoothL1.apply(input - target, float(delta), True)
    return _weighted_reduce(loss, weight, reduction, op, mean_by_weight=False)


class BinaryCrossEntropy(_Node):
    """Saves the input and the target for backward (unweighted, unreduced)."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        with np.errstate(divide="ignore"):
            logx = np.maximum(np.log(x), -100)
            log1mx = np.maximum(np.log1p(-x), -100)
        return (-(y * logx + (1 - y) * log1mx)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        nx, ny = ctx.needs_input_grad
        gx = gy = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if nx:  # PyTorch's: the denominator clamped at 1e-12
                gx = grad * (x - y) / (x * (1 - x)).clamp(min=1e-12)
            if ny:  # PyTorch's binary_cross_entropy_target_backward: -logit(x), unclamped
                gy = -grad * (x / (1 - x)).log()
        return gx, gy


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """Binary cross-entropy of probabilities (``F.binary_cross_entropy``; formula from the
    PyTorch doc of ``torch.nn.BCELoss``):
    ``l = -w (y log x + (1 - y) log(1 - x))``, each log clamped at ``-100`` (so ``x = 0`` or
    ``1`` gives a finite loss) and the gradient's denominator ``x (1 - x)`` clamped at ``1e-12``,
    as PyTorch. For logits use :func:`binary_cross_entropy_with_logits` (stable).

    Shapes: input ``(*)`` with values in ``[0, 1]``; target the same shape, also in
    ``[0, 1]`` (a non-floating target is cast to the input's dtype, where PyTorch raises);
    ``weight`` broadcastable to the input's shape.

    Raises:
        ValueError: for an unknown reduction, or a target of another shape (PyTorch's
            ValueError).
        LossArgumentError: for input or target values outside ``[0, 1]`` (or NaN), as
            PyTorch, or a weight that does not broadcast to the input.
        TypeError: for a non-Tensor input.
        RuntimeError: for an integer or bool input, or a target of another dtype than the input (as
            PyTorch).
    """
    op = "binary_cross_entropy"
    reduction = _loss_reduction(op, size_average, reduce, reduction)
    input, target = _loss_operands(op, input, target)
    if target.shape != input.shape:
        raise ValueError(f"{op}: Using a target size {_fmt(target.shape)} that is different "
                         f"to the input size {_fmt(input.shape)} is deprecated. Please ensure "
                         "they have the same size.")
    for name, t in (("input", input), ("target", target)):
        v = t._data
        bad = ~((v >= 0) & (v <= 1))
        if bad.any():
            raise LossArgumentError(
                f"{op}: all elements of {name} should be between 0 and 1, got "
                f"{v[bad].ravel()[0]} ({int(bad.sum())} of {v.size} outside; {name} shape "
                f"{_fmt(t.shape)})" + ("; for logits use binary_cross_entropy_with_logits"
                                       if name == "input" else ""))
    _same_dtype(op, input, target)
    w = _weight_like(weight, input, op)
    loss = BinaryCrossEntropy.apply(input, target)
    if w is not None:
        loss = loss * w
    return _reduce(loss, reduction, op)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """Binary cross-entropy of logits (``F.binary_cross_entropy_with_logits``; formula from the
    PyTorch doc of ``torch.nn.BCEWithLogitsLoss``):
    ``l = -w (p y log sigmoid(x) + (1 - y) log(1 - sigmoid(x)))`` with ``p = pos_weight``,
    computed stably as ``w ((1 - y) x - (1 + (p - 1) y) logsigmoid(x))``, where
    ``logsigmoid(x) = min(x, 0) - log1p(exp(-|x|))`` never overflows: logits of any magnitude
    give finite values and gradients.

    Shapes: input ``(*)`` logits; target the same shape (probabilities, floating);
    ``weight`` broadcastable to the input; ``pos_weight`` broadcastable to the input, usually
    ``(C,)`` for the last dimension of classes.

    Raises:
        ValueError: for an unknown reduction or a target of another shape (as PyTorch).
        LossArgumentError: for a weight or pos_weight that does not broadcast to the input.
        TypeError: for a non-Tensor input.
        NotImplementedError: for an integer or bool input (as PyTorch).
    """
    op = "binary_cross_entropy_with_logits"
    reduction = _loss_reduction(op, size_average, reduce, reduction)
    input, target = _loss_operands(op, input, target)
    if target.shape != input.shape:
        raise ValueError(f"{op}: Target size {_fmt(target.shape)} must be the same as input "
                         f"size {_fmt(input.shape)}")
    w = _weight_like(weight, input, op)
    pw = _weight_like(pos_weight, input, op, name="pos_weight")
    ls = logsigmoid(input)
    if pw is not None:
        ls = ls * ((pw - 1) * target + 1)
    loss = (1 - target) * input - ls
    if w is not None:
        loss = loss * w
    if target.dtype.kind == "f" and loss.dtype != target.dtype:
        loss = loss.to(target.dtype)   # PyTorch's in-place ops on (1 - target) keep its dtype
    return _reduce(loss, reduction, op)


class _XLogX(_Node):
    """``torch.xlogy(t, t)``: ``t log t`` with ``0 log 0 = 0`` (NaN stays NaN), and PyTorch's
    gradient, the sum of ``xlogy``'s two partial derivatives: ``xlogy(t != 0, t) + t / t``.
    That is ``log t + 1``, but NaN at ``t = 0`` (``0 / 0``), at ``t = inf`` and for ``t < 0``,
    as in PyTorch (so ``kl_div``'s target gradient matches PyTorch's there)."""

    @staticmethod
    def forward(ctx, t):
        ctx.save_for_backward(t)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(t == 0, 0, t * np.log(t)).astype(t.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        t, = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return grad * (autograd.where(t != 0, t.log(), 0.0) + t / t)


def _xlogx(t):
    """``t log t`` with ``0 log 0 = 0`` (``torch.xlogy(t, t)``, its gradient too)."""
    return _XLogX.apply(t)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence ``KL(target || exp(input))`` pointwise (``F.kl_div``; formula
    from the PyTorch doc of ``torch.nn.KLDivLoss``): ``input`` holds log-probabilities;
    ``l = y (log y - x)`` with ``0 log 0 = 0`` (``log_target=False``), or
    ``l = exp(y) (y - x)`` when ``target`` holds log-probabilities too (``log_target=True``,
    stable for very negative log-probabilities).

    ``reduction``: ``'batchmean'`` (the KL divergence's definition: ``sum / input.shape[0]``),
    ``'sum'``, ``'none'``, or ``'mean'`` (divides by the number of elements; PyTorch's warning).

    Shapes: input ``(*)``; target broadcastable to it. Differs from PyTorch: a target of another
    shape gets the broadcasting warning of the other pointwise losses (PyTorch broadcasts
    silently). The target's gradient is PyTorch's (``xlogy``'s): NaN where the target is 0.

    Raises:
        ValueError: for an unknown reduction.
        LossArgumentError: for shapes that do not broadcast.
        TypeError: for a non-Tensor input.
        RuntimeError: for an integer or bool input (as PyTorch).
    """
    op = "kl_div"
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, reduction)
    else:
        _check_reduction(reduction, op, _REDUCTIONS + ("batchmean",))
        if reduction == "mean":
            warnings.warn("reduction: 'mean' divides the total loss by both the batch size and "
                           "the support size.'batchmean' divides only by the batch size, and "
                           "aligns with the KL div math definition.'mean' will be changed to "
                           "behave the same as 'batchmean' in the next major release.",
                           stacklevel=2)
    input, target = _pointwise_operands(op, input, target)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = _xlogx(target) - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction, op)


def _clamp_value(t, lo):
    """``t`` with the values of ``max(t, lo)`` and the gradient of ``t`` (PyTorch clamps in
    place under ``no_grad``): ``t`` plus the constant ``lo - t`` where ``t < lo``. Adding
    ``max(t, lo) - t`` everywhere instead made ``t = inf`` NaN (``inf - inf``)."""
    a = t._data
    low = a < lo
    if not low.any():
        return t
    return t + Tensor(np.where(low, lo - a, 0).astype(a.dtype, copy=False))


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """p-norm distance along the last dimension (``F.pairwise_distance``; PyTorch doc of
    ``torch.nn.PairwiseDistance``): ``||x1 - x2 + eps||_p``.

    Shapes: ``x1`` ``(N, D)`` or ``(D)`` (any rank), ``x2`` broadcastable to it ->
    ``(N)`` (``(N, 1)`` with ``keepdim``). ``p`` may be ``inf``, ``-inf`` or ``0``.

    Raises:
        LossArgumentError: for shapes that do not broadcast.
        TypeError: for a non-Tensor input.
        RuntimeError: for a bool input (PyTorch's subtraction refuses bool; integer inputs are
            promoted, as PyTorch).
    """
    op = "pairwise_distance"
    x1, x2 = _loss_operands(op, x1, x2, ("x1", "x2"))
    _broadcast_or_raise(op, x1=x1, x2=x2)
    d = x1 - x2 + eps
    if d.ndim == 0:
        out = _linalg.vector_norm(d.reshape(1), p, -1, keepdim)
        return out if keepdim else out.reshape(())
    return _linalg.vector_norm(d, p, -1, keepdim)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine similarity along ``dim`` (``F.cosine_similarity``; PyTorch doc of
    ``torch.nn.CosineSimilarity``): ``sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps))``.
    As in PyTorch the norms are clamped at ``eps`` without changing their gradient, and a zero
    vector gets a finite gradient.

    Shapes: ``x1`` and ``x2`` broadcastable to a common shape; the result drops ``dim``.

    Raises:
        LossArgumentError: for shapes that do not broadcast.
        IndexError: for a ``dim`` out of range.
        TypeError: for a non-Tensor input. (Integer and bool inputs are promoted to the target's
            floating dtype, as PyTorch.)
    """
    op = "cosine_similarity"
    x1, x2 = _loss_operands(op, x1, x2, ("x1", "x2"))
    x2 = _promote(x2, x1)
    shape = _broadcast_or_raise(op, x1=x1, x2=x2)
    nd = max(len(shape), 1)
    if not -nd <= dim < nd:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of "
                         f"[{-nd}, {nd - 1}], but got {dim})")
    if tuple(x1.shape) != shape:
        x1 = x1.broadcast_to(shape)
    if tuple(x2.shape) != shape:
        x2 = x2.broadcast_to(shape)
    if not shape:
        x1, x2 = x1.reshape(1), x2.reshape(1)
        dim = 0

    def clamped_norm(x):
        n = _linalg.vector_norm(x, 2, dim, keepdim=True)
        # the value max(n, eps) with n's gradient (PyTorch clamps under no_grad)
        return _clamp_value(n, eps)

    return ((x1 / clamped_norm(x1)) * (x2 / clamped_norm(x2))).sum(dim)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """Cosine embedding loss (``F.cosine_embedding_loss``; formula from the PyTorch doc of
    ``torch.nn.CosineEmbeddingLoss``): with ``cos = x1.x2 / sqrt((|x1|^2 + 1e-12)
    (|x2|^2 + 1e-12))`` along the feature dimension, ``l = 1 - cos`` where ``y == 1``,
    ``max(0, cos - margin)`` where ``y == -1`` (and 0 for other target values).

    Shapes: input1, input2 ``(N, D)`` with target ``(N)``, or ``(D)`` with a 0-d target
    (broadcastable as in PyTorch).

    Raises:
        ValueError: for an unknown reduction.
        LossArgumentError: for a target that is not 0-d or 1-d, inputs of the wrong rank for it,
            or shapes that do not broadcast, naming them (PyTorch raises RuntimeError).
        TypeError: for a non-Tensor input. (Integer and bool inputs are promoted to the target's
            floating dtype, as PyTorch.)
    """
    op = "cosine_embedding_loss"
    reduction = _loss_reduction(op, size_average, reduce, reduction)
    _loss_input(input1, "input1", op)
    input2 = _loss_target(input2, input1, "input2", op)
    # no promotion here: PyTorch squares integer inputs in their own dtype (uint8 wraps)
    target = _loss_target(target, input1, "target", op)
    if target.ndim not in (0, 1):
        raise LossArgumentError(f"{op}: 0D or 1D target tensor expected, multi-target not "
                                f"supported (target shape {_fmt(target.shape)})")
    want = target.ndim + 1
    if input1.ndim != want or input2.ndim != want:
        raise LossArgumentError(f"{op}: {target.ndim}D target tensor expects {want}D input "
                                f"tensors, but found inputs with sizes {_fmt(input1.shape)} "
                                f"and {_fmt(input2.shape)}")
    _broadcast_or_raise(op, input1=input1, input2=input2)
    d = want - 1
    prod = (input1 * input2).sum(d)
    mag1 = (input1 * input1).sum(d) + 1e-12
    mag2 = (input2 * input2).sum(d) + 1e-12
    cos = prod / (mag1 * mag2).sqrt()
    _broadcast_or_raise(op, target=target, cosine=cos)
    pos = autograd.where(target == 1, 1 - cos, 0.0)
    neg = autograd.where(target == -1, (cos - margin).clamp(min=0), 0.0)
    return _reduce(pos + neg, reduction, op)


def _margin_operands(op, a, b, c, names, rank_mismatch):
    """The three operands of margin_ranking_loss and triplet_margin_loss, checked: ``a`` and
    ``b`` as :func:`_loss_operands`, ``c`` a Tensor like ``a`` (:func:`_loss_target`); all
    three of one number of dimensions and broadcastable together (``names`` name them in the
    messages). Returns ``(a, b, c)``.

    Raises:
        LossArgumentError: for different numbers of dimensions (the message is
            ``rank_mismatch(a, b, c)``, PyTorch's wording for the loss ``op``) or shapes that do
            not broadcast.
    """
    a, b = _loss_operands(op, a, b, names[:2])
    c = _loss_target(c, a, names[2], op)
    if not a.ndim == b.ndim == c.ndim:
        raise LossArgumentError(f"{op}: {rank_mismatch(a, b, c)}")
    _broadcast_or_raise(op, **dict(zip(names, (a, b, c))))
    return a, b, c


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """Margin ranking loss (``F.margin_ranking_loss``; formula from the PyTorch doc of
    ``torch.nn.MarginRankingLoss``): ``l = max(0, -y (x1 - x2) + margin)``, ``y`` in
    ``{1, -1}`` saying which input should rank higher.

    Shapes: input1, input2, target ``(N)`` or ``()``: the same number of dimensions,
    broadcastable together.

    Raises:
        ValueError: for an unknown reduction.
        LossArgumentError: for different numbers of dimensions or shapes that do not
            broadcast (PyTorch raises RuntimeError).
        TypeError: for a non-Tensor input1.
        RuntimeError: for a bool input1 (PyTorch's subtraction refuses bool; integer inputs
            are promoted, as PyTorch).
    """
    op = "margin_ranking_loss"
    reduction = _loss_reduction(op, size_average, reduce, reduction)
    input1, input2, target = _margin_operands(
        op, input1, input2, target, ("input1", "input2", "target"),
        lambda x1, x2, y: f"All input tensors should have same dimension but got sizes: "
                          f"input1: {_fmt(x1.shape)}, input2: {_fmt(x2.shape)}, target: "
                          f"{_fmt(y.shape)}")
    loss = (-target * (input1 - input2) + margin).clamp(min=0)
    return _reduce(loss, reduction, op)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """Triplet margin loss (``F.triplet_margin_loss``; Balntas et al., 2016, "Learning local
    feature descriptors with triplets and shallow convolutional neural networks"; formula from
    the PyTorch doc of ``torch.nn.TripletMarginLoss``):
    ``l = max(d(a, p) - d(a, n) + margin, 0)`` with ``d(x, y) = ||x - y + eps||_p``
    (:func:`pairwise_distance`); with ``swap=True`` ``d(a, n)`` becomes
    ``min(d(a, n), d(p, n))`` (the distance swap).

    Shapes: anchor, positive, negative ``(N, D)`` or ``(D)``, the same number of dimensions and
    broadcastable -> ``(N)`` for ``'none'``.

    Raises:
        ValueError: for ``margin <= 0`` (as PyTorch).
        LossArgumentError, TypeError, RuntimeError, ValueError: as :func:`margin_ranking_loss`,
            ``anchor`` in the place of ``input1``.
    """
    op = "triplet_margin_loss"
    reduction = _loss_reduction(op, size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    anchor, positive, negative = _margin_operands(
        op, anchor, positive, negative, ("anchor", "positive", "negative"),
        lambda a, p, n: f"The anchor, positive, and negative tensors are expected to have the "
                        f"same number of dimensions, but got: anchor {a.ndim}D {_fmt(a.shape)}, "
                        f"positive {p.ndim}D {_fmt(p.shape)}, and negative {n.ndim}D "
                        f"{_fmt(n.shape)} inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = d_neg.minimum(pairwise_distance(positive, negative, p, eps))
    loss = (margin + d_pos - d_neg).clamp(min=0)  # PyTorch's order (it rounds differently)
    return _reduce(loss, reduction, op)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """Hinge embedding loss (``F.hinge_embedding_loss``; formula from the PyTorch doc of
    ``torch.nn.HingeEmbeddingLoss``): ``l = x`` where ``y == 1``, ``max(0, margin - x)`` where
    ``y == -1`` (PyTorch's ATen: a target neither 1 nor -1 gets both terms).

    Shapes: input ``(*)``, target broadcastable to it.

    Raises:
        ValueError: for an unknown reduction.
        LossArgumentError: for shapes that do not broadcast.
        TypeError: for a non-Tensor input.
        RuntimeError: for an integer or bool input (as PyTorch).
    """
    op = "hinge_embedding_loss"
    input, target, reduction, _ = _elementwise_loss_args(op, input, target, size_average,
                                                         reduce, reduction, warn=False)
    margin_term = autograd.where(target != 1, (margin - input).clamp(min=0), 0.0)
    self_term = autograd.where(target != -1, input, 0.0)
    return _reduce(margin_term + self_term, reduction, op)


class SoftMargin(_Node):
    """Saves the input and the target for backward (unreduced)."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        with np.errstate(over="ignore", invalid="ignore"):
            return np.log1p(np.exp(-y * x)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        nx, ny = ctx.needs_input_grad
        # ATen's soft_margin_loss_backward, z = exp(-y x): dl/dx = -y z / (1 + z); and
        # dl/dy = -x z / (1 + z) (PyTorch has no target gradient)
        with np.errstate(over="ignore", invalid="ignore"):
            z = (-y * x).exp()
            s = grad * z / (1 + z)
            return (-y * s if nx else None), (-x * s if ny else None)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Two-class logistic loss (``F.soft_margin_loss``; formula from the PyTorch doc of
    ``torch.nn.SoftMarginLoss``): ``l = log(1 + exp(-y x))``, ``y`` in ``{1, -1}``.

    Computed as PyTorch computes it, ``log1p(exp(-y x))``, so it behaves as PyTorch's at
    every value: where ``exp(-y x)`` overflows (``-y x`` above about 88.7 in float32, 709.8
    in float64) the loss is ``inf`` and the gradient NaN (``inf / inf``). For logits of any
    size use :func:`binary_cross_entropy_with_logits` (``y = (t + 1) / 2``), which is stable.

    Shapes: input ``(*)``, target broadcastable to it (PyTorch's warning when they differ).

    Raises:
        ValueError: for an unknown reduction.
        LossArgumentError: for shapes that do not broadcast.
        TypeError: for a non-Tensor input.
        RuntimeError: for an integer or bool input (as PyTorch).
    """
    op = "soft_margin_loss"
    input, target, reduction, _ = _elementwise_loss_args(op, input, target, size_average,
                                                         reduce, reduction)
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    shape = np.broadcast_shapes(tuple(input.shape), tuple(target.shape))
    if tuple(input.shape) != shape:
        input = input.broadcast_to(shape)
    if tuple(target.shape) != shape:
        target = target.broadcast_to(shape)
    return _reduce(SoftMargin.apply(input, target), reduction, op)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """Multi-label one-versus-all logistic loss (``F.multilabel_soft_margin_loss``; formula
    from the PyTorch doc of ``torch.nn.MultiLabelSoftMarginLoss``):
    ``l_n = -(1/C) sum_c w_c (y_nc logsigmoid(x_nc) + (1 - y_nc) logsigmoid(-x_nc))``, stable
    for logits of any magnitude.

    Shapes: input ``(N, C)`` (or ``(C)``, or ``(N, *, C)``: the last dim holds the classes,
    as PyTorch), target broadcastable to it with 0/1 entries, ``weight`` broadcastable to the
    input (usually ``(C,)``) -> the input's shape without the last dim for ``'none'``.

    Raises:
        ValueError: for an unknown reduction.
        LossArgumentError: for a 0-d input, a target that does not broadcast, or a bad weight.
        TypeError: for a non-Tensor input.
        NotImplementedError: for an integer or bool input (as PyTorch).
    """
    op = "multilabel_soft_margin_loss"
    reduction = _loss_reduction(op, size_average, reduce, reduction)
    input, target = _loss_operands(op, input, target)
    if input.ndim < 1:
        raise LossArgumentError(f"{op}: expected an input with a class dim (the last), got "
                                f"shape {_fmt(input.shape)}")
    _broadcast_or_raise(op, input=input, target=target)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    w = _weight_like(weight, input, op)
    if w is not None:
        loss = loss * w
    loss = loss.sum(loss.ndim - 1) / input.shape[-1]   # PyTorch: the class dim is the last
    return _reduce(loss, reduction, op)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """Poisson negative log-likelihood (``F.poisson_nll_loss``; formula from the PyTorch doc of
    ``torch.nn.PoissonNLLLoss``): ``l = exp(x) - y x`` (``log_input=True``, ``x`` the log-rate)
    or ``x - y log(x + eps)``; with ``full=True`` the Stirling term
    ``y log y - y + 0.5 log(2 pi y)`` is added where ``y > 1``.

    Shapes: input ``(*)``, target broadcastable to it.

    Raises:
        ValueError: for an unknown reduction.
        LossArgumentError: for shapes that do not broadcast.
        TypeError: for a non-Tensor input. (Integer and bool inputs are promoted to the target's
            floating dtype, as PyTorch.)
    """
    op = "poisson_nll_loss"
    input, target, reduction, _ = _elementwise_loss_args(op, input, target, size_average,
                                                         reduce, reduction, warn=False)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:  # PyTorch's composition, so also its gradients (NaN target gradient at y <= 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            stirling = target * target.log() - target + (target * (2 * math.pi)).log() * 0.5
            loss = loss + stirling.masked_fill(target <= 1, 0.0)
    return _reduce(loss, reduction, op)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Gaussian negative log-likelihood (``F.gaussian_nll_loss``; Nix & Weigend, 1994; formula
    from the PyTorch doc of ``torch.nn.GaussianNLLLoss``):
    ``l = 0.5 (log(max(var, eps)) + (x - y)^2 / max(var, eps))`` (``+ 0.5 log(2 pi)`` with
    ``full=True``). As in PyTorch the clamp of ``var`` does not change its gradient.

    Shapes: input ``(N, *)``; target the input's shape (or broadcastable); ``var`` the input's
    shape, or with its last dimension 1 (one variance per sample, heteroscedastic), or one
    dimension fewer, or a float (homoscedastic). ``var`` must be non-negative.

    Raises:
        ValueError: for an unknown reduction, negative ``var``, or a ``var`` shape that fits
            none of the cases (as PyTorch).
        TypeError: for a non-Tensor input.
        RuntimeError: for a bool input (PyTorch's subtraction refuses bool; integer inputs are
            promoted, as PyTorch).
    """
    op = "gaussian_nll_loss"
    input, target, reduction, _ = _elementwise_loss_args(op, input, target, None, None,
                                                         reduction, warn=False)
    if not isinstance(var, Tensor):
        var = Tensor(np.full(input.shape, float(var), dtype=input.dtype))
    elif var.dtype != input.dtype:
        var = var.to(input.dtype)
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):  # one dimension fewer
            var = var.unsqueeze(-1)
        elif not (tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1):
            raise ValueError(f"{op}: var of shape {_fmt(var.shape)} is of incorrect size for "
                             f"input {_fmt(input.shape)} (expected the input's shape, its "
                             "last dimension 1, one dimension fewer, or a scalar)")
    if (var._data < 0).any():
        raise ValueError(f"{op}: var has negative entry/entries")
    # the value max(var, eps), with var's gradient (PyTorch clamps under no_grad)
    var = _clamp_value(var, eps)
    d = input - target
    loss = (var.log() + d * d / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, op)
