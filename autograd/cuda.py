"""``autograd.cuda``: PyTorch's ``torch.cuda`` on a machine without a GPU backend.

tapegrad runs on the CPU only, so this module answers the questions programs ask before they
pick a device the way a CPU-only PyTorch build answers them: ``is_available()`` is False,
``device_count()`` is 0, ``is_initialized()`` is False. The calls that CPU programs make
unconditionally are accepted and do nothing (``manual_seed``, ``manual_seed_all``, ``seed``,
``seed_all``, ``synchronize``, ``empty_cache``, ``ipc_collect``, ``reset_peak_memory_stats``),
the memory counters read 0, and the calls that need a device (``current_device``,
``set_device``, ``get_device_name``, ``get_device_properties``) raise a ``RuntimeError``.
``autograd.cuda.amp`` holds the deprecated ``autocast`` and ``GradScaler`` aliases of
:mod:`autograd.amp`.

Differs from PyTorch: ``synchronize()`` is a no-op (a CPU-only PyTorch raises "Torch not
compiled with CUDA enabled"); the errors are ``RuntimeError`` (PyTorch: ``AssertionError``).
"""

import types

from . import amp as _amp

__all__ = ["is_available", "device_count", "is_initialized", "manual_seed", "manual_seed_all",
           "seed", "seed_all", "synchronize", "empty_cache", "ipc_collect",
           "memory_allocated", "max_memory_allocated", "memory_reserved",
           "max_memory_reserved", "reset_peak_memory_stats", "is_bf16_supported",
           "current_device", "set_device", "get_device_name", "get_device_properties", "amp"]


def _no_device(what):
    raise RuntimeError(f"autograd.cuda.{what}: tapegrad runs on the CPU only, there is no CUDA "
                       "device (autograd.cuda.is_available() is False)")


def is_available():
    """Always ``False``: tapegrad has no CUDA backend."""
    return False


def device_count():
    """Always 0."""
    return 0


def is_initialized():
    """Always ``False``."""
    return False


def is_bf16_supported(including_emulation=True):
    """Always ``False``."""
    return False


def manual_seed(seed):
    """Accepted and ignored (there are no CUDA generators); seed the CPU with
    ``autograd.manual_seed``, which ``torch.manual_seed`` code already calls."""
    return None


def manual_seed_all(seed):
    """Accepted and ignored, as :func:`manual_seed`."""
    return None


def seed():
    """Accepted and ignored."""
    return None


def seed_all():
    """Accepted and ignored."""
    return None


def synchronize(device=None):
    """A no-op: there is no asynchronous device to wait for."""
    return None


def empty_cache():
    """A no-op (PyTorch's CPU build does nothing here either)."""
    return None


def ipc_collect():
    """A no-op."""
    return None


def memory_allocated(device=None):
    """0 bytes."""
    return 0


def max_memory_allocated(device=None):
    """0 bytes."""
    return 0


def memory_reserved(device=None):
    """0 bytes."""
    return 0


def max_memory_reserved(device=None):
    """0 bytes."""
    return 0


def reset_peak_memory_stats(device=None):
    """A no-op."""
    return None


def current_device():
    """Raises: there is no CUDA device.

    Raises:
        RuntimeError: always.
    """
    _no_device("current_device")


def set_device(device):
    """Raises: there is no CUDA device.

    Raises:
        RuntimeError: always.
    """
    _no_device("set_device")


def get_device_name(device=None):
    """Raises: there is no CUDA device.

    Raises:
        RuntimeError: always.
    """
    _no_device("get_device_name")


def get_device_properties(device=None):
    """Raises: there is no CUDA device.

    Raises:
        RuntimeError: always.
    """
    _no_device("get_device_properties")


amp = types.ModuleType("autograd.cuda.amp", "``torch.cuda.amp``: deprecated aliases of "
                       ":mod:`autograd.amp` (``autocast``, ``GradScaler``), both no-ops here.")
amp.autocast = _amp.autocast
amp.GradScaler = _amp.GradScaler
