"""``autograd.backends.mkldnn``: there is no oneDNN backend (tapegrad's kernels are NumPy,
OpenBLAS and Numba); ``enabled`` is a settable flag that changes nothing."""

enabled = True


def is_available():
    """``False``."""
    return False
