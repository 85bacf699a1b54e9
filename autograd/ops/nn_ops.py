"""Neural-network ops: softmax/log_softmax, linear, convolutions (conv1d, conv2d,
conv_transpose2d), poolings (max/avg 1-D and 2-D, adaptive avg/max 2-D), dropout, nll_loss.

The convolutions and poolings run the Numba kernels of :mod:`kernels` (im2col + one GEMM;
GEMM + col2im for the transposed convolution; pooling over planes; the 1-D ops run the 2-D
kernels with H = 1). The backward of the convolutions and max poolings is a kernel too, so
their *double* backward is not written: differentiating their gradient raises a clear error
(see :class:`KernelGradient`). Average poolings are linear and their backward is their adjoint
op, so they support higher-order gradients, as does everything else here (backward written
with Tensor ops).
"""

import numbers
import warnings

import numpy as np

from .. import grad_mode
from .. import random as _random
from ..graph import Node
from ..tensor import Tensor, _wrap_dim

__all__ = ["softmax", "log_softmax", "linear", "conv1d", "conv2d", "conv_transpose2d",
           "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool2d",
           "adaptive_max_pool2d", "dropout", "nll_loss"]


class _LazyKernels:
    """``kernels`` (and so Numba) is imported on the first conv/pool call, not with
    ``autograd``: a model without them starts faster, and a process that never runs them (e.g.
    the example with ``--backend torch``) never gets the kernels' OpenMP setting."""

    def __getattr__(self, name):
        import kernels
        globals()["K"] = kernels
        return getattr(kernels, name)


K = _LazyKernels()

# PyTorch's names of the dtypes, for messages that a PyTorch user recognises
TORCH_DTYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int64": "Long",
                     "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                     "bool": "Bool"}


def _dtype_name(dtype):
    """``"int64 ('Long')"``: NumPy's name and PyTorch's."""
    name = np.dtype(dtype).name
    return f"{name} ('{TORCH_DTYPE_NAMES[name]}')" if name in TORCH_DTYPE_NAMES else name


def not_implemented_for(op, input, what="a floating point tensor"):
    """PyTorch's ``NotImplementedError`` for a dtype its kernel has no version of, naming the
    op, the dtype and the shape."""
    return NotImplementedError(f"{op}: not implemented for dtype {_dtype_name(input.dtype)} "
                               f"(input of shape {tuple(input.shape)}); expected {what}")


def _to_kernel(a):
    """The array the Numba kernels take (float32/float64): float16 runs in float32 (as
    PyTorch's CPU half kernels accumulate in float32) and is rounded back after."""
    return a.astype(np.float32) if a.dtype == np.float16 else a


def _softmax_args(input, dim, dtype, op):
    """Cast to ``dtype`` and resolve ``dim`` (PyTorch's deprecated implicit choice when None).

    Raises:
        NotImplementedError: for an integer or bool input without a floating ``dtype`` (as
            PyTorch: its kernel has no integer version).
    """
    if dtype is not None:
        input = input.to(dtype)
    if input.dtype.kind != "f":
        raise not_implemented_for(op, input, "a floating point tensor (or pass dtype=)")
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call "
                      "to include dim=X as an argument.", stacklevel=3)
        dim = 0 if input.ndim in (0, 1, 3) else 1
    return input, _wrap_dim(dim, input.ndim, op)


class Softmax(Node):
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
        NotImplementedError: for an integer or bool input without a floating ``dtype``.
    """
    return Softmax.apply(*_softmax_args(input, dim, dtype, "softmax"))


class LogSoftmax(Node):
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
    (``torch.log_softmax``). Backward: ``g - softmax(x) * sum(g)``.

    Raises:
        IndexError: if ``dim`` is out of range.
        NotImplementedError: for an integer or bool input without a floating ``dtype``.
    """
    return LogSoftmax.apply(*_softmax_args(input, dim, dtype, "log_softmax"))


class Linear(Node):
    """Graph node of :func:`linear`: its forward and backward."""

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        if x.ndim > 2:  # one GEMM over all rows (NumPy's matmul would run one per batch item)
            out = (x.reshape(-1, x.shape[-1]) @ w.T).reshape(x.shape[:-1] + (w.shape[0],))
        else:
            out = x @ w.T
        if b is not None:
            out += b
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        nx, nw, nb = ctx.needs_input_grad
        gx = None
        if nx:
            if grad.ndim > 2:
                gx = (grad.reshape(-1, grad.shape[-1]) @ w).reshape(x.shape)
            else:
                gx = grad @ w
        gw = None
        if nw:
            if grad.ndim == 2:
                gw = grad.mT @ x
            else:
                gw = grad.reshape(-1, grad.shape[-1]).mT @ x.reshape(-1, x.shape[-1])
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


class KernelGradient(Node):
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
        elif grad_mode._state.enabled:
            out.append(KernelGradient.apply(*depends_on, result=arr, op=op))
        else:
            out.append(Tensor._make(arr, False, None))
    return tuple(out)


def _ntuple(v, n, name, op):
    """``v`` as a tuple of ``n`` Python ints (an int is repeated)."""
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        return (int(v),) * n
    try:
        items = tuple(v)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}") from None
    if len(items) != n or not all(isinstance(i, numbers.Integral) and not isinstance(i, bool)
                                  for i in items):
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")
    return tuple(int(i) for i in items)


def _pair(v, name, op):
    return _ntuple(v, 2, name, op)


def _kernel_error(op, err):
    """A kernel's ValueError re-raised as PyTorch's RuntimeError, named after the public op."""
    return RuntimeError(f"{op}: {str(err).split(': ', 1)[-1]}")


def _batched(op, input, nd, layout):
    """``(input with a batch dim, was_unbatched)``; RuntimeError for a wrong rank."""
    if input.ndim == nd + 1:
        return input.unsqueeze(0), True
    if input.ndim != nd + 2:
        raise RuntimeError(f"{op}: expected {nd + 1}-D ({layout[4:]} or {nd + 2}-D {layout} "
                           f"input, got shape {tuple(input.shape)}")
    return input, False


def _check_positive(op, **sizes):
    for name, v in sizes.items():
        if min(v) <= 0:
            raise RuntimeError(f"{op}: non-positive {name} is not supported, got {v}")


# ---- convolutions -------------------------------------------------------------------------------
def _conv_check(op, input, weight, bias, groups, nd, transposed):
    """Rank, dtype and channel checks of conv1d/conv2d/conv_transpose2d.

    Returns ``(input with a batch dim, unbatched, C_out)``."""
    layout = "(N, C, L)" if nd == 1 else "(N, C, H, W)"
    input, unbatched = _batched(op, input, nd, layout)
    wl = ("(C_in, C_out/groups, " if transposed else "(C_out, C_in/groups, ") + \
        ("kL)" if nd == 1 else "kH, kW)")
    if weight.ndim != nd + 2:
        raise RuntimeError(f"{op}: weight must be {nd + 2}-D {wl}, got shape "
                           f"{tuple(weight.shape)}")
    if input.dtype != weight.dtype or input.dtype.kind != "f":
        raise RuntimeError(f"{op}: input and weight must have the same floating dtype, got "
                           f"{input.dtype} and {weight.dtype}")
    if not isinstance(groups, numbers.Integral) or groups < 1:
        raise RuntimeError(f"{op}: groups must be a positive integer, got {groups!r}")
    if transposed:
        c_in, c_out = weight.shape[0], weight.shape[1] * groups
        if input.shape[1] != c_in or c_in % groups:
            raise RuntimeError(
                f"{op}: given groups={groups}, weight of size {list(weight.shape)}, expected "
                f"input{list(input.shape)} to have {c_in} channels, but got {input.shape[1]} "
                f"channels instead" + (f" (and C_in={c_in} must be divisible by groups)"
                                       if c_in % groups else ""))
    else:
        c_out, c_in_g = weight.shape[0], weight.shape[1]
        if input.shape[1] != c_in_g * groups or c_out % groups:
            raise RuntimeError(
                f"{op}: given groups={groups}, weight of size {list(weight.shape)}, expected "
                f"input{list(input.shape)} to have {c_in_g * groups} channels, but got "
                f"{input.shape[1]} channels instead" + (
                    f" (and C_out={c_out} must be divisible by groups)" if c_out % groups else ""))
    if bias is not None and bias.shape != (c_out,):
        raise RuntimeError(f"{op}: bias must have shape ({c_out},), got {tuple(bias.shape)}")
    return input, unbatched, c_out


def _conv_padding(op, padding, kernel, stride, dilation):
    """``(lo, hi)`` padding per spatial dim: ints/tuples are symmetric; ``'valid'`` is 0;
    ``'same'`` is PyTorch's: total ``d*(k-1)``, ``total // 2`` before and the rest (one more
    when the total is odd) after."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * n, (0,) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError(f"{op}: padding='same' is not supported for strided "
                                   f"convolutions (stride={stride})")
            total = [d * (k - 1) for k, d in zip(kernel, dilation)]
            lo = tuple(t // 2 for t in total)
            return lo, tuple(t - l for t, l in zip(total, lo))
        raise ValueError(f"{op}: padding must be an int, a tuple, 'valid' or 'same', got "
                         f"{padding!r}")
    p = _ntuple(padding, n, "padding", op)
    if min(p) < 0:
        raise RuntimeError(f"{op}: negative padding is not supported, got {p}")
    return p, p


def _check_fits(op, input, kernel, lo, hi, dilation):
    sizes = input.shape[2:]
    padded = tuple(s + a + b for s, a, b in zip(sizes, lo, hi))
    if any(p < d * (k - 1) + 1 for p, k, d in zip(padded, kernel, dilation)):
        raise RuntimeError(f"{op}: kernel size ({'x'.join(map(str, kernel))}, dilation "
                           f"{dilation}) can't be greater than the padded input size "
                           f"({'x'.join(map(str, padded))}); input shape {tuple(input.shape)}, "
                           f"padding {lo if lo == hi else tuple(zip(lo, hi))}")


def _grouped(fn, input, weight, bias, groups, conf):
    """``fn.apply(x, w, b, *conf)``, once per group (input split on dim 1, weight and bias on
    dim 0) and concatenated on dim 1. A convolution (:class:`Conv2d`) runs all its groups in
    one node instead: a depthwise one (one input channel per group) in the direct kernel
    :func:`kernels.depthwise_conv2d_forward`, others as one batched GEMM over the groups."""
    if groups == 1:
        return fn.apply(input, weight, bias, *conf)
    if fn is Conv2d:
        return Conv2d.apply(input, weight, bias, *conf, groups=groups)
    from .shape import cat
    xs = input.chunk(groups, 1)
    ws = weight.chunk(groups, 0)
    bs = bias.chunk(groups, 0) if bias is not None else [None] * groups
    return cat([fn.apply(x, w, b, *conf) for x, w, b in zip(xs, ws, bs)], 1)


class Conv2d(Node):
    """Graph node of :func:`conv2d` (and :func:`conv1d`): its forward and backward."""

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, dilation, groups=1):
        ctx.conf = (stride, padding, dilation)
        ctx.groups = groups
        ctx.depthwise = groups > 1 and w.shape[1] == 1  # one input channel per group
        ctx.winograd = groups == 1 and _use_winograd(x.shape, w.shape, stride, padding,
                                                     dilation)
        ctx.save_for_backward(x, w)
        dt = x.dtype
        x, w = _to_kernel(x), _to_kernel(w)
        b = None if b is None else _to_kernel(b)
        if ctx.depthwise:
            out = K.depthwise_conv2d_forward(x, w, b, stride, padding, dilation)
        elif ctx.winograd:
            out = K.conv2d_winograd_forward(x, w, b, padding)
        else:
            out = K.conv2d_forward(x, w, b, stride, padding, dilation, groups)
        return out.astype(dt, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        nx, nw, nb = ctx.needs_input_grad[:3]
        g, xa, wa = _to_kernel(grad._data), _to_kernel(x._data), _to_kernel(w._data)
        if ctx.depthwise:
            gx, gw, gb = K.depthwise_conv2d_backward(g, xa, wa, *ctx.conf, need_input_grad=nx,
                                                     need_weight_grad=nw, need_bias_grad=nb)
        elif ctx.winograd:
            gx, gw, gb = K.conv2d_winograd_backward(
                g, xa, wa, ctx.conf[1], need_input_grad=nx, need_weight_grad=nw,
                need_bias_grad=nb)
        else:
            gx, gw, gb = K.conv2d_backward(g, xa, wa, *ctx.conf, need_input_grad=nx,
                                           need_weight_grad=nw, need_bias_grad=nb,
                                           groups=ctx.groups)
        grads = [None if a is None else a.astype(x.dtype, copy=False) for a in (gx, gw, gb)]
        return _kernel_grads("conv2d", (grad, x, w), grads) + (None, None, None)


# Algorithm choice for 3x3, stride-1, dilation-1 convolutions (as cuDNN/oneDNN choose per
# shape): Winograd F(2x2, 3x3) does 2.25x fewer multiplications but pays for its tile
# transforms, so it is used only where the GEMMs dominate. Measured forward + backward on the
# 2-core machine (Winograd / im2col time, 1 and 2 threads): (32,16,32,32)->32 ch 0.74/0.94,
# (32,32,28,28) 0.64/0.66, (32,64,16,16)->64 0.62/0.79, (32,8,32,32)->8 0.61/0.77; but
# (64,1,28,28)->32 (LeNet's first layer) 4.0/5.2, (64,32,13,13)->64 unpadded (LeNet's second)
# 1.03-1.07/1.06-1.33, (32,32,13,13) padded 0.84/1.43 and (64,32,12,12) 1.02/1.29.
WINOGRAD_MIN_CHANNELS = 8      # both C_in and C_out at least this
WINOGRAD_MIN_OUTPUT = 256      # H_out * W_out at least this (e.g. 16 x 16)


def _use_winograd(x_shape, w_shape, stride, padding, dilation):
    """True when Winograd is the faster kernel for this convolution (see above)."""
    if not (K.winograd_applicable(w_shape, stride, dilation)
            and min(w_shape[0], w_shape[1]) >= WINOGRAD_MIN_CHANNELS):
        return False
    (top, bottom), (left, right) = (padding if isinstance(padding[0], tuple)
                                    else ((padding[0],) * 2, (padding[1],) * 2))
    h_out = x_shape[2] + top + bottom - 2
    w_out = x_shape[3] + left + right - 2
    return h_out * w_out >= WINOGRAD_MIN_OUTPUT


def _kernel_padding(lo, hi):
    """The kernels' padding argument: ``(pH, pW)``, or ``((top, bottom), (left, right))``."""
    return lo if lo == hi else ((lo[0], hi[0]), (lo[1], hi[1]))


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation (``torch.nn.functional.conv2d``) by im2col + one GEMM (Numba).

    Shapes: input ``(N, C_in, H, W)`` (or unbatched ``(C_in, H, W)``), weight
    ``(C_out, C_in / groups, kH, kW)``, bias ``(C_out,)`` -> ``(N, C_out, H_out, W_out)`` with
    ``H_out = floor((H + 2 pH - dH (kH - 1) - 1) / sH) + 1``.

    Args:
        stride, padding, dilation: ints or pairs; ``padding`` may also be ``'valid'`` (0) or
            ``'same'`` (stride 1 only; when ``dilation * (k - 1)`` is odd the extra row/column
            goes to the bottom/right, as in PyTorch).
        groups (int): split input and output channels into this many independent convolutions,
            all run by one kernel call: a direct depthwise kernel when each group has one
            input channel (``groups == C_in``), else im2col + one GEMM batched over the
            groups.

    Dtypes: input, weight and bias of one floating dtype; float16 is computed in float32 and
    rounded back (as PyTorch's CPU half convolution accumulates in float32).

    Raises:
        RuntimeError: for wrong ranks, channel counts, dtypes, non-positive stride/dilation,
            negative padding, ``'same'`` with a stride, or a kernel larger than the padded
            input, naming the shapes.
        ValueError: for an unknown padding string.
    """
    op = "conv2d"
    input, unbatched, _ = _conv_check(op, input, weight, bias, groups, 2, False)
    stride = _pair(stride, "stride", op)
    dilation = _pair(dilation, "dilation", op)
    _check_positive(op, stride=stride, dilation=dilation)
    kernel = tuple(weight.shape[2:])
    lo, hi = _conv_padding(op, padding, kernel, stride, dilation)
    _check_fits(op, input, kernel, lo, hi, dilation)
    out = _grouped(Conv2d, input, weight, bias, groups,
                   (stride, _kernel_padding(lo, hi), dilation))
    return out.squeeze(0) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation (``torch.nn.functional.conv1d``).

    Runs the 2-D im2col + GEMM kernel on ``(N, C_in, 1, L)`` with a ``(1, k)`` kernel (no
    kernel of its own: with H = 1 the im2col copies are contiguous runs, so it is as fast as a
    dedicated 1-D im2col would be).

    Shapes: input ``(N, C_in, L)`` (or unbatched ``(C_in, L)``), weight
    ``(C_out, C_in / groups, kL)``, bias ``(C_out,)`` -> ``(N, C_out, L_out)`` with
    ``L_out = floor((L + 2 p - d (kL - 1) - 1) / s) + 1``.

    Args:
        stride, padding, dilation: ints or 1-tuples; ``padding`` may also be ``'valid'`` or
            ``'same'`` (stride 1; PyTorch's asymmetric split when ``d * (kL - 1)`` is odd).
        groups (int): as :func:`conv2d`.

    Raises:
        RuntimeError, ValueError: as :func:`conv2d`, with 1-D shapes in the messages.
    """
    op = "conv1d"
    input, unbatched, _ = _conv_check(op, input, weight, bias, groups, 1, False)
    stride = _ntuple(stride, 1, "stride", op)
    dilation = _ntuple(dilation, 1, "dilation", op)
    _check_positive(op, stride=stride, dilation=dilation)
    kernel = tuple(weight.shape[2:])
    lo, hi = _conv_padding(op, padding, kernel, stride, dilation)
    _check_fits(op, input, kernel, lo, hi, dilation)
    out = _grouped(Conv2d, input.unsqueeze(2), weight.unsqueeze(2), bias, groups,
                   ((1, stride[0]), _kernel_padding((0, lo[0]), (0, hi[0])), (1, dilation[0])))
    out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


class ConvTranspose2d(Node):
    """Graph node of :func:`conv_transpose2d`: its forward and backward."""

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, output_padding, dilation):
        dt = x.dtype
        out, x2 = K.conv_transpose2d_forward(_to_kernel(x), _to_kernel(w),
                                             None if b is None else _to_kernel(b), stride,
                                             padding, output_padding, dilation)
        ctx.conf = (stride, padding, output_padding, dilation)
        ctx.x_shape = x.shape
        ctx.save_for_backward(x, w, x2)
        return out.astype(dt, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, w, x2 = ctx.saved_tensors
        nx, nw, nb = ctx.needs_input_grad[:3]
        gx, gw, gb = K.conv_transpose2d_backward(_to_kernel(grad._data), ctx.x_shape,
                                                 _to_kernel(w._data), x2._data, *ctx.conf,
                                                 need_input_grad=nx, need_weight_grad=nw,
                                                 need_bias_grad=nb)
        grads = [None if a is None else a.astype(x.dtype, copy=False) for a in (gx, gw, gb)]
        return _kernel_grads("conv_transpose2d", (grad, x, w), grads) + (None,) * 4


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-D transposed convolution (``torch.nn.functional.conv_transpose2d``), the adjoint of
    :func:`conv2d` with respect to its input: one GEMM + col2im (Numba).

    Shapes: input ``(N, C_in, H, W)`` (or unbatched ``(C_in, H, W)``), weight
    ``(C_in, C_out / groups, kH, kW)`` (PyTorch's layout), bias ``(C_out,)`` ->
    ``(N, C_out, H_out, W_out)`` with
    ``H_out = (H - 1) sH - 2 pH + dH (kH - 1) + output_padding_H + 1``.

    Args:
        stride, padding, output_padding, dilation: ints or pairs. The output is cropped by
            ``padding`` on each side (it is the padding of the conv2d this op is the adjoint
            of); ``output_padding`` (smaller than either stride or dilation) adds
            rows/columns at the bottom/right, to pick one of the input sizes a strided conv2d
            maps to the same output size.
        groups (int): ``C_in`` and ``C_out`` split into this many independent convolutions.

    Dtypes: input, weight and bias of one floating dtype (float16 computed in float32).

    Raises:
        RuntimeError: for wrong ranks, channel counts, dtypes, non-positive stride/dilation,
            negative padding, a bad output_padding or a non-positive output size.
        ValueError: for a string padding (PyTorch has none for transposed convolutions).
        NotImplementedError: for an int32/int16/int8/uint8/bool input (PyTorch's kernel
            check; int64 gets the dtype RuntimeError).
    """
    op = "conv_transpose2d"
    if input.dtype.kind in "biu" and input.dtype != np.int64:  # PyTorch's kernel check
        raise not_implemented_for(op, input)
    input, unbatched, _ = _conv_check(op, input, weight, bias, groups, 2, True)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a tuple of 2 ints, got {padding!r}")
    stride = _pair(stride, "stride", op)
    dilation = _pair(dilation, "dilation", op)
    padding = _pair(padding, "padding", op)
    output_padding = _pair(output_padding, "output_padding", op)
    _check_positive(op, stride=stride, dilation=dilation)
    try:
        K.conv_transpose2d_output_size(input.shape[2], input.shape[3], weight.shape[2:], stride,
                                       padding, output_padding, dilation)
    except ValueError as e:
        raise _kernel_error(op, e) from None
    out = _grouped(ConvTranspose2d, input, weight, bias, groups,
                   (stride, padding, output_padding, dilation))
    return out.squeeze(0) if unbatched else out


# ---- pooling ------------------------------------------------------------------------------------
class MaxPool2d(Node):
    """Graph node of :func:`max_pool2d` (and :func:`max_pool1d`): its forward and backward."""

    op = "max_pool2d"

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, dilation, ceil_mode=False,
                indices_out=None):
        out, argmax = K.max_pool2d_forward(_pool_input(x), kernel_size, stride, padding,
                                           dilation, ceil_mode)
        return _max_pool_result(ctx, x, out, argmax, indices_out)

    @staticmethod
    def backward(ctx, grad):
        x, argmax = ctx.saved_tensors
        gx = K.max_pool2d_backward(_to_kernel(grad._data), argmax._data, ctx.x_shape)
        return _kernel_grads(ctx.op, (grad, x), (gx.astype(x.dtype, copy=False),)) + \
            (None,) * (len(ctx.needs_input_grad) - 1)


class AdaptiveMaxPool2d(MaxPool2d):
    """Graph node of :func:`adaptive_max_pool2d`; the backward is max pooling's (same argmax
    format)."""

    op = "adaptive_max_pool2d"

    @staticmethod
    def forward(ctx, x, output_size, indices_out=None):
        out, argmax = K.adaptive_max_pool2d_forward(_pool_input(x), output_size)
        return _max_pool_result(ctx, x, out, argmax, indices_out)


def _pool_input(x):
    """The kernels' float32/float64 array for a pooling input: float16 in float32, integers
    in float64 (their maxima are then gathered from the input itself, so exactly)."""
    if x.dtype.kind in "iu":
        return x.astype(np.float64)
    return _to_kernel(x)


def _max_pool_result(ctx, x, out, argmax, indices_out):
    """Save for backward, hand out the argmax (``return_indices``) and return the pooled
    values in x's dtype (integers gathered at the argmax: exact)."""
    ctx.x_shape = x.shape
    ctx.save_for_backward(x, argmax)
    if indices_out is not None:  # return_indices: hand the argmax to the caller too
        indices_out.append(argmax)
    if x.dtype.kind in "iu":
        N, C = x.shape[:2]
        flat = np.take_along_axis(x.reshape(N, C, -1), argmax.reshape(N, C, -1), axis=2)
        return flat.reshape(out.shape)
    return out.astype(x.dtype, copy=False)


def _pool_geometry(op, input, kernel_size, stride, padding, dilation, ceil_mode, n):
    """Checked ``(k, s, p, d)`` n-tuples of a max/avg pooling; ``stride`` None -> kernel."""
    k = _ntuple(kernel_size, n, "kernel_size", op)
    s = k if stride is None or stride == () else _ntuple(stride, n, "stride", op)
    p = _ntuple(padding, n, "padding", op)
    d = _ntuple(dilation, n, "dilation", op)
    _check_positive(op, kernel_size=k, stride=s, dilation=d)
    if min(p) < 0 or any(pp > kk // 2 for pp, kk in zip(p, k)):
        raise RuntimeError(f"{op}: pad should be at most half of effective kernel size, but got "
                           f"pad={p} and kernel_size={k}")
    if n == 1:  # the 2-D kernels with H = 1: kernel 1, stride 1, padding 0, dilation 1
        k2, s2, p2, d2 = (1,) + k, (1,) + s, (0,) + p, (1,) + d
    else:
        k2, s2, p2, d2 = k, s, p, d
    try:
        K.pool2d_output_size(input.shape[2] if n == 2 else 1, input.shape[-1], k2, s2, p2, d2,
                             ceil_mode)
    except ValueError:
        raise RuntimeError(f"{op}: output size is too small for input of shape "
                           f"{tuple(input.shape)} with kernel_size={k}, stride={s}, padding={p}, "
                           f"dilation={d}, ceil_mode={ceil_mode}") from None
    return k2, s2, p2, d2


def _max_pool(op, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, n):
    layout = "(N, C, L)" if n == 1 else "(N, C, H, W)"
    # PyTorch: max_pool2d takes floats and integers, max_pool1d floats only, neither bool
    if input.dtype.kind == "b" or (n == 1 and input.dtype.kind != "f"):
        raise not_implemented_for(op, input, "a floating point tensor" if n == 1 else
                                  "a floating point or integer tensor")
    input, unbatched = _batched(op, input, n, layout)
    k, s, p, d = _pool_geometry(op, input, kernel_size, stride, padding, dilation, ceil_mode, n)
    x = input.unsqueeze(2) if n == 1 else input
    argmax = [] if return_indices else None
    out = MaxPool2d.apply(x, k, s, p, d, bool(ceil_mode), indices_out=argmax)
    outs = [out, Tensor._make(argmax[0], False, None)] if return_indices else [out]
    if n == 1:
        outs = [t.squeeze(2) for t in outs]
    if unbatched:
        outs = [t.squeeze(0) for t in outs]
    return tuple(outs) if return_indices else outs[0]


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling (``torch.nn.functional.max_pool2d``), a Numba kernel that saves the
    argmax for backward.

    Shapes: ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C, H_out, W_out)``,
    ``H_out = floor((H + 2 pH - dH (kH - 1) - 1) / sH) + 1`` (``ceil`` with ``ceil_mode``,
    dropping a last window that would start in the padding); ``stride`` defaults to
    ``kernel_size``; padding is implicit ``-inf`` and at most half the kernel.

    Dtypes: float16/32/64 (float16 computed in float32 and rounded back) and integers (the
    maxima are found in float64 and gathered from the input: exact values, and the right
    positions while ``|x| < 2**53``), as PyTorch; bool raises.

    Returns:
        the pooled tensor, and with ``return_indices=True`` also the int64 indices of each
        maximum in its flattened ``(H, W)`` plane (PyTorch's convention).

    Raises:
        RuntimeError: for a wrong rank, non-positive sizes, padding larger than half the
            kernel, or an output size below 1, naming the shapes.
        NotImplementedError: for a bool input (as PyTorch).
    """
    return _max_pool("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, 2)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling (``torch.nn.functional.max_pool1d``): the 2-D kernel on
    ``(N, C, 1, L)``.

    Shapes: ``(N, C, L)`` or ``(C, L)`` -> ``(N, C, L_out)``,
    ``L_out = floor((L + 2 p - d (k - 1) - 1) / s) + 1`` (``ceil`` with ``ceil_mode``).
    Indices (``return_indices=True``) are positions in ``L``. Dtypes: float16/32/64.

    Raises:
        RuntimeError: as :func:`max_pool2d`.
        NotImplementedError: for an integer or bool input (as PyTorch).
    """
    return _max_pool("max_pool1d", input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, 1)


class AvgPool2d(Node):
    """Graph node of :func:`avg_pool2d`. Average pooling is linear, so its backward is its
    adjoint (:class:`AvgPool2dBackward`), whose own backward is this op again: higher-order
    gradients work."""

    @staticmethod
    def forward(ctx, x, conf):
        ctx.conf = conf
        ctx.x_shape = x.shape
        out = K.avg_pool2d_forward(_pool_input(x), *conf)
        if x.dtype.kind in "iu":  # PyTorch's integer average: the sum / divisor, truncated
            return np.trunc(out).astype(x.dtype)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return AvgPool2dBackward.apply(grad, ctx.x_shape, ctx.conf), None


class AvgPool2dBackward(Node):
    """The gradient of :class:`AvgPool2d` as an op (the adjoint of average pooling)."""

    @staticmethod
    def forward(ctx, grad, x_shape, conf):
        ctx.conf = conf
        return K.avg_pool2d_backward(_to_kernel(grad), x_shape, *conf).astype(grad.dtype,
                                                                               copy=False)

    @staticmethod
    def backward(ctx, gg):
        return AvgPool2d.apply(gg, ctx.conf), None, None


def _avg_pool(op, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, n):
    layout = "(N, C, L)" if n == 1 else "(N, C, H, W)"
    if input.dtype.kind != "f" and input.dtype != np.int64:  # PyTorch: floats and int64
        raise not_implemented_for(op, input, "a floating point or int64 tensor")
    input, unbatched = _batched(op, input, n, layout)
    if divisor_override is not None and (not isinstance(divisor_override, numbers.Integral)
                                         or divisor_override == 0):
        raise RuntimeError(f"{op}: divisor must be a non-zero int, got {divisor_override!r}")
    k, s, p, _ = _pool_geometry(op, input, kernel_size, stride, padding, 1, ceil_mode, n)
    x = input.unsqueeze(2) if n == 1 else input
    div = None if divisor_override is None else int(divisor_override)
    out = AvgPool2d.apply(x, (k, s, p, bool(ceil_mode), bool(count_include_pad), div))
    if n == 1:
        out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling (``torch.nn.functional.avg_pool2d``), a Numba kernel.

    Shapes: ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C, H_out, W_out)``,
    ``H_out = floor((H + 2 pH - kH) / sH) + 1`` (``ceil`` with ``ceil_mode``).

    Args:
        stride: defaults to ``kernel_size``. padding: zero padding, at most half the kernel.
        count_include_pad (bool): divide by the window size including the zero padding
            (default), else by the number of input elements in the window.
        divisor_override (int, optional): divide every window sum by this instead.

    Dtypes: float16/32/64 (float16 computed in float32) and int64, whose averages are
    truncated towards zero as PyTorch's (exact while the window sums stay below ~1e15).

    Raises:
        RuntimeError: wrong rank, bad sizes, padding above half the kernel, an output size
            below 1, a zero divisor_override.
        NotImplementedError: for another integer dtype or bool (as PyTorch).
    """
    return _avg_pool("avg_pool2d", input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override, 2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling (``torch.nn.functional.avg_pool1d``): the 2-D kernel on
    ``(N, C, 1, L)``. Shapes ``(N, C, L)`` or ``(C, L)`` -> ``(N, C, L_out)``.

    Raises:
        RuntimeError, NotImplementedError: as :func:`avg_pool2d`.
    """
    return _avg_pool("avg_pool1d", input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None, 1)


class AdaptiveAvgPool2d(Node):
    """Graph node of :func:`adaptive_avg_pool2d`; like :class:`AvgPool2d`, its backward is its
    adjoint op, so higher-order gradients work."""

    @staticmethod
    def forward(ctx, x, output_size):
        ctx.x_shape = x.shape
        ctx.output_size = output_size
        return K.adaptive_avg_pool2d_forward(_to_kernel(x), output_size).astype(x.dtype,
                                                                                 copy=False)

    @staticmethod
    def backward(ctx, grad):
        return AdaptiveAvgPool2dBackward.apply(grad, ctx.x_shape), None


class AdaptiveAvgPool2dBackward(Node):
    """The gradient of :class:`AdaptiveAvgPool2d` as an op."""

    @staticmethod
    def forward(ctx, grad, x_shape):
        ctx.output_size = grad.shape[2:]
        return K.adaptive_avg_pool2d_backward(_to_kernel(grad), x_shape).astype(grad.dtype,
                                                                                 copy=False)

    @staticmethod
    def backward(ctx, gg):
        return AdaptiveAvgPool2d.apply(gg, ctx.output_size), None


def _adaptive_size(op, input, output_size):
    """``output_size`` (int or pair, ``None`` keeps the input size) -> a pair of ints."""
    if isinstance(output_size, numbers.Integral) and not isinstance(output_size, bool):
        sizes = (int(output_size),) * 2
    else:
        try:
            sizes = tuple(output_size)
        except TypeError:
            sizes = ()
        if len(sizes) != 2 or not all(v is None or (isinstance(v, numbers.Integral)
                                                    and not isinstance(v, bool)) for v in sizes):
            raise TypeError(f"{op}: output_size must be an int or a tuple of 2 ints or None, "
                            f"got {output_size!r}")
        sizes = tuple(input.shape[2 + i] if v is None else int(v) for i, v in enumerate(sizes))
    if min(sizes) < 1:
        raise RuntimeError(f"{op}: output_size must be positive, got {sizes}")
    if min(input.shape[2:]) < 1:
        raise RuntimeError(f"{op}: expected non-empty spatial dims, got input of shape "
                           f"{tuple(input.shape)}")
    return sizes


def adaptive_avg_pool2d(input, output_size):
    """2-D adaptive average pooling (``torch.nn.functional.adaptive_avg_pool2d``).

    Output ``(oh, ow)`` averages input rows ``[floor(oh H / H_out), ceil((oh + 1) H / H_out))``
    and likewise columns (PyTorch's windows).

    Shapes: ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C, H_out, W_out)``; ``output_size`` is
    an int or a pair whose entries may be ``None`` (keep that input size).

    Dtypes: float16/32/64 (float16 computed in float32).

    Raises:
        TypeError: for a malformed output_size.
        RuntimeError: wrong rank, empty spatial dims, non-positive size.
        NotImplementedError: for an integer or bool input (as PyTorch).
    """
    op = "adaptive_avg_pool2d"
    if input.dtype.kind != "f":
        raise not_implemented_for(op, input)
    input, unbatched = _batched(op, input, 2, "(N, C, H, W)")
    sizes = _adaptive_size(op, input, output_size)
    out = AdaptiveAvgPool2d.apply(input, sizes)
    return out.squeeze(0) if unbatched else out


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """2-D adaptive max pooling (``torch.nn.functional.adaptive_max_pool2d``): the max over
    :func:`adaptive_avg_pool2d`'s windows, with the argmax saved for backward.

    Returns:
        the pooled tensor ``(N, C, H_out, W_out)``, and with ``return_indices=True`` the int64
        flat indices ``h W + w`` of the maxima in their planes.

    Raises:
        TypeError, RuntimeError, NotImplementedError: as :func:`adaptive_avg_pool2d`.
    """
    op = "adaptive_max_pool2d"
    if input.dtype.kind != "f":
        raise not_implemented_for(op, input)
    input, unbatched = _batched(op, input, 2, "(N, C, H, W)")
    sizes = _adaptive_size(op, input, output_size)
    argmax = [] if return_indices else None
    out = AdaptiveMaxPool2d.apply(input, sizes, indices_out=argmax)
    outs = [out, Tensor._make(argmax[0], False, None)] if return_indices else [out]
    if unbatched:
        outs = [t.squeeze(0) for t in outs]
    return tuple(outs) if return_indices else outs[0]


def _dropout_dtype(op, input):
    """A dropout that drops must scale by ``1 / (1 - p)``: PyTorch refuses integer and bool
    inputs (its float scale cannot be cast to them)."""
    if input.dtype.kind != "f":
        name = TORCH_DTYPE_NAMES.get(input.dtype.name, input.dtype.name)
        raise RuntimeError(f"{op}: expected a floating point input in training mode, got dtype "
                           f"{_dtype_name(input.dtype)} (shape {tuple(input.shape)}): result "
                           f"type Float can't be cast to the desired output type {name}")


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``
    (``torch.nn.functional.dropout``; Srivastava et al., 2014). Identity when not training.
    The mask is drawn from the default generator (``autograd.manual_seed``). With
    ``inplace=True`` the input is overwritten and returned (an error for a leaf that requires
    grad, as in PyTorch).

    Raises:
        ValueError: if ``p`` is not in ``[0, 1]``.
        RuntimeError: for an integer or bool input when it drops (training, ``p > 0``), as
            PyTorch.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    _dropout_dtype("dropout", input)
    if p == 1.0:
        scale = 0.0
    else:
        keep = _random.get_rng().random(input.shape, dtype=np.float64) >= p
        scale = Tensor._make((keep * (1.0 / (1.0 - p))).astype(input.dtype), False, None)
    if inplace:
        # recorded like any in-place op: the input's history is rebased onto the product
        return input._inplace("dropout_", lambda t: t * scale)
    return input * scale


class NLLLoss(Node):
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
        NotImplementedError: for an integer or bool input (as PyTorch).
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"nll_loss: {reduction!r} is not a valid value for reduction")
    if input.dtype.kind != "f":  # PyTorch's kernel has no integer version (it was truncated)
        raise not_implemented_for("nll_loss", input, "floating point log-probabilities")
    tgt = target._data if isinstance(target, Tensor) else np.asarray(target)
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
        w = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
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
