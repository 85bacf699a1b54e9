"""Poolings: max and average, 1-D and 2-D, adaptive average and max 2-D
(``torch.nn.functional``'s pooling functions), on the Numba kernels of :mod:`kernels.pool`
(pooling over planes; the 1-D ops run the 2-D kernels with H = 1).

The arguments are checked here, once, with errors naming the op, the shapes and what was
expected; the kernels only assert. The backward of a max pooling is a kernel, so its *double*
backward is not written (a clear error, see :class:`._nn_common.KernelGradient`). Average
poolings are linear and their backward is their adjoint op, so they support higher-order
gradients.
"""

import numbers

import numpy as np

from ..graph import Node
from ..tensor import Tensor
from ._nn_common import (K, _batched, _check_positive, _kernel_grads, _ntuple, _to_kernel,
                         not_implemented_for)

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool2d",
           "adaptive_max_pool2d"]


class MaxPool2d(Node):
    """Saves the input and the argmax of each window for backward."""

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
    """Saves the input and the argmax of each window; the backward is max pooling's."""

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
    sizes = (input.shape[2] if n == 2 else 1, input.shape[-1])
    if any(h + 2 * pp - dd * (kk - 1) - 1 < 0 for h, kk, pp, dd in zip(sizes, k2, p2, d2)):
        raise RuntimeError(f"{op}: output size is too small for input of shape "
                           f"{tuple(input.shape)} with kernel_size={k}, stride={s}, padding={p}, "
                           f"dilation={d}, ceil_mode={ceil_mode}")
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
    return _max_outputs(MaxPool2d, (x, k, s, p, d, bool(ceil_mode)), return_indices,
                        (2,) * (n == 1) + (0,) * unbatched)


def _max_outputs(node, args, return_indices, squeeze):
    """``node.apply(*args)`` (a max pooling), with the argmax as an int64 Tensor too when
    ``return_indices``; each output squeezed on the dims ``squeeze`` (in this order)."""
    argmax = [] if return_indices else None
    outs = [node.apply(*args, indices_out=argmax)]
    if return_indices:
        outs.append(Tensor._make(argmax[0], False, None))
    for dim in squeeze:
        outs = [t.squeeze(dim) for t in outs]
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
    """Saves only the geometry: average pooling is linear, its backward is its adjoint
    :class:`AvgPool2dBackward` (whose backward is this op again)."""

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
    """Saves only the input shape: its backward is its adjoint
    :class:`AdaptiveAvgPool2dBackward`."""

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


def _adaptive_args(op, input, output_size):
    """``(input with a batch dim, was_unbatched, output size)`` of an adaptive pooling:
    ``output_size`` (int or pair, ``None`` keeps the input size) as a pair of ints."""
    if input.dtype.kind != "f":
        raise not_implemented_for(op, input)
    input, unbatched = _batched(op, input, 2, "(N, C, H, W)")
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
    return input, unbatched, sizes


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
    input, unbatched, sizes = _adaptive_args("adaptive_avg_pool2d", input, output_size)
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
    input, unbatched, sizes = _adaptive_args("adaptive_max_pool2d", input, output_size)
    return _max_outputs(AdaptiveMaxPool2d, (input, sizes), return_indices, (0,) * unbatched)

