"""``autograd.backends``: PyTorch's ``torch.backends`` flags, and the global determinism and
matmul-precision settings, on a CPU-only NumPy engine.

Submodules, importable as PyTorch's are (``import autograd.backends.cudnn as cudnn``):
:mod:`.cudnn` (``enabled``, ``benchmark``, ``deterministic``, ``allow_tf32``: settable
attributes that tapegrad records and does not otherwise use), :mod:`.cuda` (``matmul.allow_tf32``
...), :mod:`.mps`, :mod:`.mkldnn`, :mod:`.openmp` (``is_available()``).

The functions below are re-exported at the top level as PyTorch's: ``autograd.
use_deterministic_algorithms``, ``are_deterministic_algorithms_enabled``,
``is_deterministic_algorithms_warn_only_enabled``, ``set_float32_matmul_precision``,
``get_float32_matmul_precision``. tapegrad's CPU kernels are deterministic (same inputs and
thread count give the same bits), so the determinism flag changes nothing; float32 matmuls
always run in full float32 (NumPy/OpenBLAS), whatever precision is set.
"""

import warnings

from . import cuda, cudnn, mkldnn, mps, openmp  # noqa: F401

__all__ = ["use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled", "set_float32_matmul_precision",
           "get_float32_matmul_precision", "cudnn", "cuda", "mps", "mkldnn", "openmp"]

_state = {"deterministic": False, "warn_only": False, "precision": "highest"}


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Record PyTorch's determinism setting (``torch.use_deterministic_algorithms``).

    tapegrad has no nondeterministic kernels to refuse, so nothing else changes.

    Raises:
        TypeError: if ``mode`` or ``warn_only`` is not a bool (as PyTorch).
    """
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'mode' (position 1) must be "
                        f"bool, not {type(mode).__name__}")
    if not isinstance(warn_only, bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'warn_only' must be bool, "
                        f"not {type(warn_only).__name__}")
    _state["deterministic"] = mode
    _state["warn_only"] = warn_only


def are_deterministic_algorithms_enabled():
    """The mode last given to :func:`use_deterministic_algorithms` (default ``False``)."""
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    """The ``warn_only`` last given to :func:`use_deterministic_algorithms`."""
    return _state["warn_only"]


def set_float32_matmul_precision(precision):
    """Record ``"highest"``, ``"high"`` or ``"medium"`` (``torch.set_float32_matmul_precision``).

    Matmuls here always use full float32; like PyTorch, any other string warns and changes
    nothing.
    """
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "set_float32_matmul_precision call has no effect.", UserWarning,
                      stacklevel=2)
        return
    _state["precision"] = precision


def get_float32_matmul_precision():
    """The precision last set (default ``"highest"``)."""
    return _state["precision"]
