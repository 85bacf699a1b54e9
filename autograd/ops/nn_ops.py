"""Neural-network ops: softmax/log_softmax, linear, conv2d, max_pool2d, dropout, nll_loss.

``conv2d`` and ``max_pool2d`` run the Numba kernels of :mod:`kernels` (im2col + one GEMM; max
pooling with saved argmax). Their backward is a kernel too, so their *double* backward is not
written: differentiating their gradient raises a clear error (see
:class:`KernelGradient`). Everything else here has a backward written with Tensor ops and
supports higher-order gradients.
"""

import numbers
import warnings

import numpy as np

from .. import grad_mode
from .. import random as _random
from ..function import Function
from ..tensor import Tensor, _wrap_dim

__all__ = ["softmax", "log_softmax", "linear", "conv2d", "max_pool2d", "dropout", "nll_loss"]


class _LazyKernels:
    """``kernels`` (and so Numba) is imported on the first conv/pool call, not with
    ``autograd``: a model without them starts faster, and a process that never runs them (e.g.
    the example with ``--backend torch``) never gets the kernels' OpenMP setting."""

    def __getattr__(self, name):
        import kernels
        globals()["K"] = kernels
        return getattr(kernels, name)


K = _LazyKernels()


def _softmax_args(input, dim, dtype, op):
    """Cast to ``dtype`` and resolve ``dim`` (PyTorch's deprecated implicit choice when None)."""
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call "
                      "to include dim=X as an argument.", stacklevel=3)
        dim = 0 if input.ndim in (0, 1, 3) else 1
    return input, _wrap_dim(dim, input.ndim, op)


class Softmax(Function):
    """Graph node of :func:`softmax`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, dim):
        ctx.dim = dim
        e = np.exp(a - np.max(a, axis=dim, keepdims=True))
        out = e / np.sum(e, axis=dim, keepdims=True)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return y * (grad - (grad * y).sum(ctx.dim, keepdim=True))


def softmax(input, dim=None, dtype=None):
    """``exp(x_i) / sum_j exp(x_j)`` along ``dim``, computed stably by subtracting the max
    (``torch.softmax``). Backward: ``y * (g - sum(g * y))``.

    Raises:
        IndexError: if ``dim`` is out of range.
    """
    return Softmax.apply(*_softmax_args(input, dim, dtype, "softmax"))


class LogSoftmax(Function):
    """Graph node of :func:`log_softmax`: its forward and backward."""

    @staticmethod
    def forward(ctx, a, dim):
        ctx.dim = dim
        shifted = a - np.max(a, axis=dim, keepdims=True)
        out = shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad - y.exp() * grad.sum(ctx.dim, keepdim=True)


def log_softmax(input, dim=None, dtype=None):
    """``x_i - log(sum_j exp(x_j))`` along ``dim``, stable for large logits
    (``torch.log_softmax``). Backward: ``g - softmax(x) * sum(g)``."""
    return LogSoftmax.apply(*_softmax_args(input, dim, dtype, "log_softmax"))


class Linear(Function):
    """Graph node of :func:`linear`: its forward and backward."""

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        out = x @ w.T
        if b is not None:
            out += b
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        nx, nw, nb = ctx.needs_input_grad
        gx = grad @ w if nx else None
        gw = None
        if nw:
            g2 = grad.reshape(-1, grad.shape[-1])
            gw = g2.mT @ x.reshape(-1, x.shape[-1])
        # bias: the gradient has the output's shape; the engine sums it to (out_features,)
        return gx, gw, (grad if nb else None)


def linear(input, weight, bias=None):
    """``y = x W^T + b`` (``torch.nn.functional.linear``), one fused node.

    Shapes: input ``(*, in_features)``, weight ``(out_features, in_features)``, bias
    ``(out_features,)`` -> ``(*, out_features)``.

    Raises:
        RuntimeError: if ``input.shape[-1] != in_features``, naming both shapes.
    """
    if weight.ndim != 2:
        raise RuntimeError(f"linear: weight must be 2-D (out_features, in_features), got shape "
                           f"{tuple(weight.shape)}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        rows = int(np.prod(input.shape[:-1])) if input.ndim else 1
        raise RuntimeError(
            f"linear: mat1 and mat2 shapes cannot be multiplied ({rows}x"
            f"{input.shape[-1] if input.ndim else 0} and {weight.shape[1]}x{weight.shape[0]}): "
            f"input of shape {tuple(input.shape)} has {input.shape[-1] if input.ndim else 0} "
            f"features, weight of shape {tuple(weight.shape)} expects "
            f"in_features={weight.shape[1]}")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise RuntimeError(f"linear: bias must have shape ({weight.shape[0]},), got "
                           f"{tuple(bias.shape)}")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"linear: expected input and weight to have the same dtype, got "
                           f"{input.dtype} and {weight.dtype}")
    return Linear.apply(input, weight, bias)


class KernelGradient(Function):
    """Carries a kernel's gradient into a graph recorded with ``create_graph=True``.

    Its inputs are the tensors the gradient depends on, so the graph stays connected; its
    backward raises, because the kernel's own backward is not written.
    """

    @staticmethod
    def forward(ctx, *inputs, result, op):
        ctx.op = op
        return result

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError(
            f"{ctx.op}: double backward is not implemented (the op's backward is a Numba kernel); "
            "higher-order gradients through it are not supported")


def _kernel_grads(op, depends_on, arrays):
    """Wrap kernel gradient arrays as Tensors (connected, non-differentiable nodes under
    ``create_graph``)."""
    out = []
    for arr in arrays:
        if arr is None:
            out.append(None)
        elif grad_mode._enabled:
            out.append(KernelGradient.apply(*depends_on, result=arr, op=op))
        else:
            out.append(Tensor._make(arr, False, None))
    return tuple(out)


def _pair(v, name, op):
    if isinstance(v, numbers.Integral):
        return (int(v), int(v))
    v = tuple(int(x) for x in v)
    if len(v) != 2:
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {v}")
    return v


class Conv2d(Function):
    """Graph node of :func:`conv2d`: its forward and backward."""

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, dilation):
        out, cols = K.conv2d_forward(x, w, b, stride, padding, dilation)
        ctx.conf = (stride, padding, dilation)
        ctx.x_shape = x.shape
        ctx.save_for_backward(x, w, cols)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w, cols = ctx.saved_tensors
        nx, nw, nb = ctx.needs_input_grad[:3]
        gx, gw, gb = K.conv2d_backward(grad.data, ctx.x_shape, w.data, cols.data, *ctx.conf,
                                       need_input_grad=nx, need_weight_grad=nw,
                                       need_bias_grad=nb)
        return _kernel_grads("conv2d", (grad, x, w), (gx, gw, gb)) + (None, None, None)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation (``torch.nn.functional.conv2d``) by im2col + one GEMM (Numba).

    Shapes: input ``(N, C_in, H, W)`` (or unbatched ``(C_in, H, W)``), weight
    ``(C_out, C_in / groups, kH, kW)``, bias ``(C_out,)`` -> ``(N, C_out, H_out, W_out)`` with
    ``H_out = floor((H + 2 pH - dH (kH - 1) - 1) / sH) + 1``.

    Args:
        stride, padding, dilation: ints or pairs; ``padding`` may also be ``'valid'`` (0) or
            ``'same'`` (stride 1; kernels whose padded extent ``dilation * (k - 1)`` is even).
        groups (int): split input and output channels into this many independent convolutions
            (run as one kernel call per group).

    Raises:
        RuntimeError: for wrong ranks, channel counts, dtypes, or a kernel larger than the
            padded input, naming the shapes.
        NotImplementedError: for ``padding='same'`` needing asymmetric padding.
    """
    op = "conv2d"
    unbatched = input.ndim == 3
    if unbatched:
        input = input.unsqueeze(0)
    if input.ndim != 4:
        raise RuntimeError(f"{op}: expected 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape "
                           f"{tuple(input.shape)}")
    if weight.ndim != 4:
        raise RuntimeError(f"{op}: weight must be 4-D (C_out, C_in/groups, kH, kW), got shape "
                           f"{tuple(weight.shape)}")
    if input.dtype != weight.dtype or input.dtype.kind != "f":
        raise RuntimeError(f"{op}: input and weight must have the same floating dtype, got "
                           f"{input.dtype} and {weight.dtype}")
    c_out, c_in_g, kh, kw = weight.shape
    if groups < 1 or input.shape[1] != c_in_g * groups or c_out % groups:
        raise RuntimeError(
            f"{op}: given groups={groups}, weight of size {list(weight.shape)}, expected input"
            f"{list(input.shape)} to have {c_in_g * groups} channels, but got {input.shape[1]} "
            f"channels instead" + (f" (and C_out={c_out} must be divisible by groups)"
                                   if groups >= 1 and c_out % groups else ""))
    if bias is not None and bias.shape != (c_out,):
        raise RuntimeError(f"{op}: bias must have shape ({c_out},), got {tuple(bias.shape)}")
    stride = _pair(stride, "stride", op)
    dilation = _pair(dilation, "dilation", op)
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise ValueError(f"{op}: padding='same' is not supported for strided "
                                 f"convolutions (stride={stride})")
            ext = (dilation[0] * (kh - 1), dilation[1] * (kw - 1))
            if ext[0] % 2 or ext[1] % 2:
                raise NotImplementedError(f"{op}: padding='same' with an even kernel extent "
                                          f"{ext} needs asymmetric padding, not supported yet")
            padding = (ext[0] // 2, ext[1] // 2)
        else:
            raise ValueError(f"{op}: padding must be an int, a pair, 'valid' or 'same', "
                             f"got {padding!r}")
    else:
        padding = _pair(padding, "padding", op)
    h, w = input.shape[2] + 2 * padding[0], input.shape[3] + 2 * padding[1]
    if h < dilation[0] * (kh - 1) + 1 or w < dilation[1] * (kw - 1) + 1:
        raise RuntimeError(f"{op}: kernel size ({kh}x{kw}, dilation {dilation}) can't be greater "
                           f"than the padded input size ({h}x{w}); input shape "
                           f"{tuple(input.shape)}, padding {padding}")
    if groups == 1:
        out = Conv2d.apply(input, weight, bias, stride, padding, dilation)
    else:
        xs = input.chunk(groups, 1)
        ws = weight.chunk(groups, 0)
        bs = bias.chunk(groups, 0) if bias is not None else [None] * groups
        from .shape import cat
        out = cat([Conv2d.apply(x, w_, b_, stride, padding, dilation)
                   for x, w_, b_ in zip(xs, ws, bs)], 1)
    return out.squeeze(0) if unbatched else out


class MaxPool2d(Function):
    """Graph node of :func:`max_pool2d`: its forward and backward."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, dilation, indices_out=None):
        out, argmax = K.max_pool2d_forward(x, kernel_size, stride, padding, dilation)
        ctx.x_shape = x.shape
        ctx.save_for_backward(x, argmax)
        if indices_out is not None:  # return_indices: hand the argmax to the caller too
            indices_out.append(argmax)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, argmax = ctx.saved_tensors
        gx = K.max_pool2d_backward(grad.data, argmax.data, ctx.x_shape)
        return _kernel_grads("max_pool2d", (grad, x), (gx,)) + (None,) * 4


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling (``torch.nn.functional.max_pool2d``), a Numba kernel that saves the
    argmax for backward.

    Shapes: ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C, H_out, W_out)``,
    ``H_out = floor((H + 2 pH - dH (kH - 1) - 1) / sH) + 1``; ``stride`` defaults to
    ``kernel_size``; padding is implicit ``-inf`` and at most half the kernel.

    Returns:
        the pooled tensor, and with ``return_indices=True`` also the int64 indices of each
        maximum in its flattened ``(H, W)`` plane (PyTorch's convention).

    Raises:
        RuntimeError: for a wrong rank, padding larger than half the kernel, or an output size
            below 1, naming the shapes.
        NotImplementedError: for ``ceil_mode=True`` (not supported yet).
    """
    op = "max_pool2d"
    if ceil_mode:
        raise NotImplementedError(f"{op}: ceil_mode=True is not supported yet")
    unbatched = input.ndim == 3
    if unbatched:
        input = input.unsqueeze(0)
    if input.ndim != 4:
        raise RuntimeError(f"{op}: expected 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape "
                           f"{tuple(input.shape)}")
    k = _pair(kernel_size, "kernel_size", op)
    s = k if stride is None or stride == () else _pair(stride, "stride", op)
    p = _pair(padding, "padding", op)
    d = _pair(dilation, "dilation", op)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise RuntimeError(f"{op}: pad should be at most half of effective kernel size, but got "
                           f"pad={p} and kernel_size={k}")
    ho = (input.shape[2] + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    wo = (input.shape[3] + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    if ho < 1 or wo < 1:
        raise RuntimeError(f"{op}: output size is too small ({ho}x{wo}) for input of shape "
                           f"{tuple(input.shape)} with kernel_size={k}, stride={s}, "
                           f"padding={p}, dilation={d}")
    if return_indices:
        argmax = []
        out = MaxPool2d.apply(input, k, s, p, d, indices_out=argmax)
        indices = Tensor._make(argmax[0], False, None)
        if unbatched:
            return out.squeeze(0), indices.squeeze(0)
        return out, indices
    out = MaxPool2d.apply(input, k, s, p, d)
    return out.squeeze(0) if unbatched else out


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``
    (``torch.nn.functional.dropout``; Srivastava et al., 2014). Identity when not training.
    The mask is drawn from the default generator (``autograd.manual_seed``). With
    ``inplace=True`` the input is overwritten and returned (an error for a leaf that requires
    grad, as in PyTorch).

    Raises:
        ValueError: if ``p`` is not in ``[0, 1]``.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        scale = 0.0
    else:
        keep = _random.get_rng().random(input.shape, dtype=np.float64) >= p
        scale = Tensor._make((keep * (1.0 / (1.0 - p))).astype(input.dtype), False, None)
    if inplace:
        # recorded like any in-place op: the input's history is rebased onto the product
        return input._inplace("dropout_", lambda t: t * scale)
    return input * scale


class NLLLoss(Function):
    """Graph node of :func:`nll_loss`: its forward and backward."""

    @staticmethod
    def forward(ctx, logp, target, weight, ignore_index, reduction):
        m, c = logp.shape
        valid = target != ignore_index
        t = np.where(valid, target, 0)
        bad = valid & ((target < 0) | (target >= c))
        if bad.any():
            raise IndexError(f"nll_loss: target {int(target[bad][0])} is out of bounds for "
                             f"{c} classes")
        w = valid.astype(logp.dtype)
        if weight is not None:
            w = w * weight[t]
        rows = np.arange(m)
        losses = -w * logp[rows, t]
        ctx.reduction = reduction
        coef = np.zeros_like(logp)
        if reduction == "mean":
            denom = w.sum()
            coef[rows, t] = -w / denom if denom else 0.0
            out = losses.sum() / denom if denom else np.asarray(np.nan, dtype=logp.dtype)
        elif reduction == "sum":
            coef[rows, t] = -w
            out = losses.sum()
        else:
            coef[rows, t] = -w
            out = losses
        ctx.save_for_backward(coef)
        return np.asarray(out, dtype=logp.dtype)

    @staticmethod
    def backward(ctx, grad):
        coef, = ctx.saved_tensors
        if ctx.reduction == "none":
            grad = grad.unsqueeze(1)
        return grad * coef, None, None, None, None


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of class indices (``torch.nn.functional.nll_loss``).

    Shapes: input ``(N, C)`` or ``(N, C, d1, ...)`` of log-probabilities, target ``(N)`` or
    ``(N, d1, ...)`` int64 in ``[0, C)`` (or ``ignore_index``); ``weight`` ``(C,)``.
    ``reduction='mean'`` divides by the summed weights of the non-ignored targets.

    Raises:
        ValueError: for an unknown reduction or mismatched shapes.
        IndexError: for a target outside ``[0, C)``.
        TypeError: if target is not an integer tensor.
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"nll_loss: {reduction!r} is not a valid value for reduction")
    tgt = target.data if isinstance(target, Tensor) else np.asarray(target)
    if tgt.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: expected target of an integer dtype (class indices), got "
                        f"{tgt.dtype}; for probabilities use cross_entropy with float targets")
    if input.ndim == 1:
        input, tgt = input.unsqueeze(0), tgt.reshape(1)
        squeeze = True
    else:
        squeeze = False
    if input.ndim < 2 or tgt.shape != (input.shape[0],) + tuple(input.shape[2:]):
        raise ValueError(f"nll_loss: expected target of shape "
                         f"{(input.shape[0],) + tuple(input.shape[2:])} for input of shape "
                         f"{tuple(input.shape)}, got {tuple(tgt.shape)}")
    spatial = input.shape[2:]
    c = input.shape[1]
    x = input
    if spatial:
        x = input.movedim(1, -1).reshape(-1, c)
    w = None
    if weight is not None:
        w = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
        if w.shape != (c,):
            raise ValueError(f"nll_loss: weight must have shape ({c},), got {w.shape}")
        w = w.astype(input.dtype, copy=False)
    out = NLLLoss.apply(x, tgt.reshape(-1).astype(np.int64, copy=False), w, ignore_index,
                        reduction)
    if reduction == "none":
        if spatial:
            out = out.reshape((input.shape[0],) + tuple(spatial))
        elif squeeze:
            out = out.reshape(())
    return out
