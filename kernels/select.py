"""Which kernel runs a 2-D convolution (as ATen's ``select_conv_backend`` and cuDNN/oneDNN
choose an algorithm per shape): :func:`select_conv_backend`.

The backends:

* ``"depthwise"`` -- :func:`kernels.depthwise_conv2d_forward` / ``_backward``: direct loops,
  all channels in one call, for ``groups == C_in`` (one input channel per group);
* ``"winograd"`` -- :func:`kernels.conv2d_winograd_forward` / ``_backward``: Winograd
  F(2x2, 3x3), for 3x3 kernels with stride 1, dilation 1 and groups 1, where it is faster
  (the thresholds below);
* ``"im2col"`` -- :func:`kernels.conv2d_forward` / ``_backward``: im2col + one GEMM (batched
  over the groups), every other convolution.

The arguments are the ones the kernels take, already checked by the ops layer
(:mod:`autograd.ops.conv`); this module only chooses.
"""

from .depthwise import depthwise_applicable
from .winograd import winograd_applicable

__all__ = ["select_conv_backend", "WINOGRAD_MIN_CHANNELS", "WINOGRAD_MIN_OUTPUT"]

# Winograd F(2x2, 3x3) does 2.25x fewer multiplications than im2col but pays for its tile
# transforms, so it is used only where the GEMMs dominate. Measured forward + backward on the
# 2-core machine (Winograd / im2col time, 1 and 2 threads): (32,16,32,32)->32 ch 0.74/0.94,
# (32,32,28,28) 0.64/0.66, (32,64,16,16)->64 0.62/0.79, (32,8,32,32)->8 0.61/0.77; but
# (64,1,28,28)->32 (LeNet's first layer) 4.0/5.2, (64,32,13,13)->64 unpadded (LeNet's second)
# 1.03-1.07/1.06-1.33, (32,32,13,13) padded 0.84/1.43 and (64,32,12,12) 1.02/1.29.
WINOGRAD_MIN_CHANNELS = 8      # both C_in and C_out at least this
WINOGRAD_MIN_OUTPUT = 256      # H_out * W_out at least this (e.g. 16 x 16)


def select_conv_backend(x_shape, weight_shape, stride, padding, dilation, groups=1):
    """The kernel that computes ``conv2d(x, weight, stride, padding, dilation, groups)``.

    Args:
        x_shape: ``(N, C_in, H, W)``.
        weight_shape: ``(C_out, C_in / groups, kH, kW)``.
        stride, dilation: pairs of ints (or ints).
        padding: ``(pH, pW)``, or ``((top, bottom), (left, right))`` (the kernels' format).
        groups: the number of channel groups.

    Returns:
        ``"depthwise"``, ``"winograd"`` or ``"im2col"`` (see the module docstring).
    """
    if depthwise_applicable(x_shape, weight_shape, groups):
        return "depthwise"
    if (winograd_applicable(weight_shape, stride, dilation, groups)
            and min(weight_shape[0], weight_shape[1]) >= WINOGRAD_MIN_CHANNELS):
        (top, bottom), (left, right) = (padding if isinstance(padding[0], tuple)
                                        else ((padding[0],) * 2, (padding[1],) * 2))
        h_out = x_shape[2] + top + bottom - 2
        w_out = x_shape[3] + left + right - 2
        if h_out * w_out >= WINOGRAD_MIN_OUTPUT:
            return "winograd"
    return "im2col"
