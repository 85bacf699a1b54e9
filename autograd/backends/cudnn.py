"""``autograd.backends.cudnn``: PyTorch's cuDNN flags, kept as settable module attributes
(``cudnn.benchmark = True`` works) with PyTorch's defaults; tapegrad has no cuDNN, so they change
nothing. ``is_available()`` is False, ``version()`` None; ``flags(...)`` is the context manager
that sets them temporarily."""

import contextlib

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True
benchmark_limit = 10


def is_available():
    """``False``: there is no cuDNN."""
    return False


def version():
    """``None``: there is no cuDNN."""
    return None


def is_acceptable(tensor):
    """``False``: no tensor is handed to cuDNN."""
    return False


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False,
          allow_tf32=True):
    """Set the flags for the duration of a ``with`` block (``torch.backends.cudnn.flags``)."""
    g = globals()
    names = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32")
    old = {k: g[k] for k in names}
    g.update(enabled=enabled, benchmark=benchmark, benchmark_limit=benchmark_limit,
             deterministic=deterministic, allow_tf32=allow_tf32)
    try:
        yield
    finally:
        g.update(old)
