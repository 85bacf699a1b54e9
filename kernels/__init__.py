"""Numba kernels of tapegrad: pure NumPy-array-in, NumPy-array-out functions.

Nothing here knows about ``Tensor`` or the graph; ``autograd`` wraps these functions in
``Function`` objects. Every kernel accepts float32 and float64 and returns the input dtype.

Public functions:

* :func:`conv2d_forward`, :func:`conv2d_backward` -- im2col + one BLAS GEMM convolution.
* :func:`im2col`, :func:`col2im` -- the unfold / fold pair (``col2im`` is the adjoint).
* :func:`conv2d_output_size` -- PyTorch's Conv2d output-size formula with argument checks.
* :func:`max_pool2d_forward`, :func:`max_pool2d_backward` -- max pooling with saved argmax.

Threading note
--------------
The Numba loops run in parallel (``prange``) and the GEMMs run on NumPy's BLAS threads, so
two thread pools take turns on the same cores. GNU OpenMP's default is to keep its idle
workers spinning after each parallel loop, which starves the BLAS call that follows: on a
2-core machine one MNIST training step took 80 ms instead of 27 ms. Importing this package
therefore sets ``OMP_WAIT_POLICY=PASSIVE`` (idle OpenMP workers sleep) unless the variable
is already set; it only affects OpenMP runtimes loaded after this import (Numba loads its
OpenMP layer at the first parallel call). Export ``OMP_WAIT_POLICY`` yourself to override.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .conv import col2im, conv2d_backward, conv2d_forward, conv2d_output_size, im2col  # noqa: E402
from .pool import max_pool2d_backward, max_pool2d_forward  # noqa: E402

__all__ = [
    "conv2d_forward",
    "conv2d_backward",
    "im2col",
    "col2im",
    "conv2d_output_size",
    "max_pool2d_forward",
    "max_pool2d_backward",
]
