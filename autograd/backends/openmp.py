"""``autograd.backends.openmp``: whether a parallel runtime is there. tapegrad's parallel
kernels use Numba's threading layer (see :func:`autograd.set_num_threads`)."""


def is_available():
    """``True``: Numba's parallel loops and OpenBLAS run threads."""
    return True
