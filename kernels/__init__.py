"""Numba kernels of tapegrad: pure NumPy-array-in, NumPy-array-out functions.

Nothing here knows about ``Tensor`` or the graph; ``autograd`` wraps these functions in
``Function`` objects. Every kernel accepts float32 and float64 and returns the input dtype.

Public functions:

* :func:`conv2d_forward`, :func:`conv2d_backward` -- im2col + BLAS GEMM convolution, run in
  cache-sized chunks of images (the backward recomputes the columns; nothing big is saved).
* :func:`conv2d_winograd_forward`, :func:`conv2d_winograd_backward` -- Winograd F(2x2, 3x3)
  for 3x3 kernels with stride 1 and dilation 1 (2.25x fewer multiplications than im2col;
  :func:`winograd_applicable` says when it applies).
* :func:`depthwise_conv2d_forward`, :func:`depthwise_conv2d_backward` -- depthwise
  convolution (``groups == C_in``) as direct loops, all channels in one call; other grouped
  convolutions run ``conv2d_forward``/``conv2d_backward`` with ``groups`` (one GEMM batched
  over the groups).
* :func:`im2col`, :func:`col2im` -- the unfold / fold pair (``col2im`` is the adjoint).
* :func:`conv2d_output_size` -- PyTorch's Conv2d output-size formula with argument checks.
* :func:`conv_transpose2d_forward`, :func:`conv_transpose2d_backward` -- transposed
  convolution (GEMM + col2im; the adjoint of conv2d), :func:`conv_transpose2d_output_size`.
  ``conv1d`` has no kernel of its own: ``autograd`` runs it as a conv2d with ``H = 1``.
* :func:`max_pool2d_forward` (``ceil_mode`` too), :func:`max_pool2d_backward` -- max pooling
  with saved argmax; :func:`adaptive_max_pool2d_forward` (same argmax format and backward).
* :func:`avg_pool2d_forward`/:func:`avg_pool2d_backward`,
  :func:`adaptive_avg_pool2d_forward`/:func:`adaptive_avg_pool2d_backward` -- average pooling.
* :func:`pool2d_output_size` -- PyTorch's pooling output-size formula (floor or ceil mode).
* modules :mod:`kernels.batchnorm` (training-mode batch norm), :mod:`kernels.fused`
  (cross-entropy, layer norm, embedding), :mod:`kernels.attention`, :mod:`kernels.rnn`.

Cold start: kernels compile on their first call unless Numba's cache holds them; the first
compilation prints one line to stderr (:mod:`kernels._notice`), and
``python -m kernels.precompile`` compiles them ahead of time (:mod:`kernels.precompile`).

Threads
-------
The Numba loops run in parallel (``prange``) and the GEMMs run on NumPy's BLAS threads, so two
thread pools take turns on the same cores. This package makes no process-wide setting of its
own: the thread policy (``OMP_WAIT_POLICY=PASSIVE`` before Numba's OpenMP layer loads, the BLAS
thread count and its busy-machine governor, the defaults under a launcher) is
``autograd/_runtime.py``, applied at ``import autograd``, whose docstring describes how the
pieces interact. ``kernels/_blas.py`` is the mechanism the kernels use to run BLAS on fewer
threads inside their own loops (RNN time steps, attention heads).
"""

from . import _notice

_notice.install()  # one stderr line when kernels compile on first use (cold Numba cache)

from .conv import (col2im, conv2d_backward, conv2d_forward, conv2d_output_size,  # noqa: E402
                   conv_transpose2d_backward, conv_transpose2d_forward,
                   conv_transpose2d_output_size, im2col)
from .depthwise import (depthwise_applicable, depthwise_conv2d_backward,  # noqa: E402
                        depthwise_conv2d_forward)
from .winograd import (conv2d_winograd_backward, conv2d_winograd_forward,  # noqa: E402
                       winograd_applicable)
from .pool import (adaptive_avg_pool2d_backward, adaptive_avg_pool2d_forward,  # noqa: E402
                   adaptive_max_pool2d_forward, avg_pool2d_backward, avg_pool2d_forward,
                   max_pool2d_backward, max_pool2d_forward, pool2d_output_size)
from .select import select_conv_backend  # noqa: E402

__all__ = [
    "conv2d_forward",
    "conv2d_backward",
    "conv2d_winograd_forward",
    "conv2d_winograd_backward",
    "winograd_applicable",
    "depthwise_conv2d_forward",
    "depthwise_conv2d_backward",
    "depthwise_applicable",
    "im2col",
    "col2im",
    "conv2d_output_size",
    "conv_transpose2d_forward",
    "conv_transpose2d_backward",
    "conv_transpose2d_output_size",
    "max_pool2d_forward",
    "max_pool2d_backward",
    "avg_pool2d_forward",
    "avg_pool2d_backward",
    "adaptive_avg_pool2d_forward",
    "adaptive_avg_pool2d_backward",
    "adaptive_max_pool2d_forward",
    "pool2d_output_size",
    "select_conv_backend",
]
