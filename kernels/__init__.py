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

How to write a kernel
---------------------
Every kernel family follows one pattern (copy a neighbour: ``kernels/pool.py`` for a plane
loop, ``kernels/fused.py`` for one with a size threshold):

1. The inner work is a small ``@njit(cache=True)`` function on one unit of work (a plane, a
   row, a channel), written with flat ``uint64`` indices where the inner loop must
   vectorise (see ``kernels/conv.py``).
2. The outer loop is a plain Python function named ``_name_loop`` whose loop over the units is
   ``prange``; every iteration writes only its own unit (never ``+=`` into an element that
   another iteration writes: numba #3681). It is written once and compiled twice by
   :func:`kernels._twin.twins`: ``_name = twins(_name_loop)`` gives the pair
   ``_name.parallel`` (``parallel=True``) and ``_name.serial`` (``prange`` as ``range``),
   both ``cache=True`` with cache entries of their own (:mod:`kernels._twin` explains why the
   serial one is compiled from a renamed copy). Options go through: ``twins(f, nogil=True)``.
   A kernel and its adjoint that walk the same units (im2col / col2im, average pooling and
   its backward) share one loop, ``_name_loop(src, dst, ..., adjoint)``: the flag picks the
   direction, and only ``dst`` is written, so a read-only ``src`` still compiles
   (``kernels/conv.py``'s ``_unfold``, ``kernels/pool.py``'s ``_avg``).
3. The public entry point is plain Python: it normalises its arguments (``assert`` on what the
   ops layer already checked; user-facing errors are raised once, in ``autograd/ops``, and
   its tests check both sides: ``check_kernel_asserts_op_raises`` in
   ``tests/test_conv_pool.py``),
   allocates the outputs and calls the pair: ``_name(...)`` runs the parallel twin, and an
   entry point with a size threshold takes ``parallel=None`` and picks
   ``_name.parallel if use_parallel(parallel, work, PARALLEL_MIN) else _name.serial``.
4. Tests: a plain NumPy reference in ``tests/`` (float32 and float64), ``parallel == serial``
   for the pair, and a recipe in :mod:`kernels.precompile` so the cache can be filled ahead.

When which twin runs: the parallel one by default (the plane loops of conv, pooling,
depthwise and Winograd always; batch norm, layer norm, cross-entropy and embedding from
``PARALLEL_MIN`` elements, below which starting the threads costs more than it saves); the
serial one when the caller passes ``parallel=False``, and always -- whatever was asked -- in a
process forked after Numba's parallel layer started (a DataLoader worker of a script without a
``__main__`` guard: GNU OpenMP is not fork-safe and Numba terminates such a child when it
enters a parallel region), or after :func:`kernels._twin.set_serial` /
``TAPEGRAD_SERIAL_KERNELS=1``. The serial twins compile on their first use only.

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

# The public functions are each family module's own ``__all__`` (the one list to keep, next
# to the functions), star-imported as in ``autograd/ops/__init__.py``; a new family module
# is added to the imports and to ``__all__`` below.
from .conv import *  # noqa: E402,F401,F403
from .depthwise import *  # noqa: E402,F401,F403
from .winograd import *  # noqa: E402,F401,F403
from .pool import *  # noqa: E402,F401,F403
from .select import select_conv_backend  # noqa: E402
from . import conv, depthwise, pool, winograd  # noqa: E402

__all__ = [*conv.__all__, *depthwise.__all__, *winograd.__all__, *pool.__all__,
           "select_conv_backend"]
