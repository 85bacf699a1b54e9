"""Convolutions: conv1d, conv2d, conv_transpose2d (``torch.nn.functional``'s convolution
functions), on the Numba kernels of :mod:`kernels.conv` (im2col + one GEMM; GEMM + col2im for
the transposed convolution), :mod:`kernels.winograd` and :mod:`kernels.depthwise`; which of
them runs a conv2d is :func:`kernels.select_conv_backend`'s choice. conv1d runs the 2-D
kernels with H = 1.

The arguments are checked here, once, with errors naming the op, the shapes and what was
expected; the kernels only assert. The backward of a convolution is a kernel too, so its
*double* backward is not written: differentiating its gradient raises a clear error (see
:class:`._nn_common.KernelGradient`).
"""

import numbers

import numpy as np

from ..graph import Node
from ._nn_common import (K, _batched, _check_positive, _kernel_grads, _ntuple, _pair,
                         _to_kernel, not_implemented_for)
from .shape import cat

__all__ = ["conv1d", "conv2d", "conv_transpose2d"]


def _conv_check(op, input, weight, bias, groups, nd, transposed):
    """Rank, dtype and channel checks of conv1d/conv2d/conv_transpose2d (input, weight and
    bias of one floating dtype).

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
    if bias is not None and bias.dtype != input.dtype:  # a RuntimeError, as PyTorch
        raise RuntimeError(f"{op}: input type ({input.dtype}) and bias type ({bias.dtype}) "
                           f"should be the same (input of shape {tuple(input.shape)}, bias "
                           f"of shape {tuple(bias.shape)})")
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
    xs = input.chunk(groups, 1)
    ws = weight.chunk(groups, 0)
    bs = bias.chunk(groups, 0) if bias is not None else [None] * groups
    return cat([fn.apply(x, w, b, *conf) for x, w, b in zip(xs, ws, bs)], 1)


class Conv2d(Node):
    """Saves the input and the weight for backward (the kernels recompute the rest), and
    the backend :func:`kernels.select_conv_backend` chose."""

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, dilation, groups=1):
        ctx.conf = (stride, padding, dilation)
        ctx.groups = groups
        ctx.backend = K.select_conv_backend(x.shape, w.shape, stride, padding, dilation, groups)
        ctx.save_for_backward(x, w)
        dt = x.dtype
        x, w = _to_kernel(x), _to_kernel(w)
        b = None if b is None else _to_kernel(b)
        if ctx.backend == "depthwise":
            out = K.depthwise_conv2d_forward(x, w, b, stride, padding, dilation)
        elif ctx.backend == "winograd":
            out = K.conv2d_winograd_forward(x, w, b, padding)
        else:
            out = K.conv2d_forward(x, w, b, stride, padding, dilation, groups)
        return out.astype(dt, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        nx, nw, nb = ctx.needs_input_grad[:3]
        g, xa, wa = _to_kernel(grad._data), _to_kernel(x._data), _to_kernel(w._data)
        if ctx.backend == "depthwise":
            gx, gw, gb = K.depthwise_conv2d_backward(g, xa, wa, *ctx.conf, need_input_grad=nx,
                                                     need_weight_grad=nw, need_bias_grad=nb)
        elif ctx.backend == "winograd":
            gx, gw, gb = K.conv2d_winograd_backward(
                g, xa, wa, ctx.conf[1], need_input_grad=nx, need_weight_grad=nw,
                need_bias_grad=nb)
        else:
            gx, gw, gb = K.conv2d_backward(g, xa, wa, *ctx.conf, need_input_grad=nx,
                                           need_weight_grad=nw, need_bias_grad=nb,
                                           groups=ctx.groups)
        grads = [None if a is None else a.astype(x.dtype, copy=False) for a in (gx, gw, gb)]
        return _kernel_grads("conv2d", (grad, x, w), grads) + (None, None, None)

    @property
    def winograd(self):
        """True when this convolution runs the Winograd kernels."""
        return self.backend == "winograd"


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
    _check_positive(op, kernel_size=kernel)
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
    _check_positive(op, kernel_size=kernel)
    lo, hi = _conv_padding(op, padding, kernel, stride, dilation)
    _check_fits(op, input, kernel, lo, hi, dilation)
    out = _grouped(Conv2d, input.unsqueeze(2), weight.unsqueeze(2), bias, groups,
                   ((1, stride[0]), _kernel_padding((0, lo[0]), (0, hi[0])), (1, dilation[0])))
    out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


class ConvTranspose2d(Node):
    """Saves the input, the weight and the kernel's input columns ``x2`` for backward."""

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


def _transpose_output_size(op, input, kernel, stride, padding, output_padding, dilation):
    """``(H_out, W_out)`` of a transposed convolution (PyTorch's formula), or RuntimeError
    for a non-positive kernel, negative padding, an output_padding not smaller than either the
    stride or the dilation (PyTorch's rule), or a non-positive output size."""
    if min(kernel) <= 0:
        raise RuntimeError(f"{op}: kernel_size must be positive, got {kernel}")
    if min(padding) < 0:
        raise RuntimeError(f"{op}: padding must be non-negative, got {padding}")
    if any(o < 0 or (o >= s and o >= d) for o, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(f"{op}: output_padding must be non-negative and smaller than either "
                           f"stride or dilation, got output_padding {output_padding}, stride "
                           f"{stride}, dilation {dilation}")
    H, W = input.shape[2:]
    out = tuple((n - 1) * s - 2 * p + d * (k - 1) + o + 1 for n, k, s, p, o, d
                in zip((H, W), kernel, stride, padding, output_padding, dilation))
    if min(out) <= 0:
        raise RuntimeError(f"{op}: the output size {out} is not positive for input {H}x{W}, "
                           f"kernel_size {kernel}, stride {stride}, padding {padding}, "
                           f"output_padding {output_padding}, dilation {dilation}")
    return out


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
    _transpose_output_size(op, input, tuple(weight.shape[2:]), stride, padding, output_padding,
                           dilation)
    out = _grouped(ConvTranspose2d, input, weight, bias, groups,
                   (stride, padding, output_padding, dilation))
    return out.squeeze(0) if unbatched else out

