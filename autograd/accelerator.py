"""``autograd.accelerator``: PyTorch's device-agnostic accelerator API, on a CPU-only engine.

Every current pytorch/examples program picks its device with::

    use_accel = not args.no_accel and torch.accelerator.is_available()
    device = torch.accelerator.current_accelerator() if use_accel else torch.device("cpu")

With tapegrad ``is_available()`` is False, ``current_accelerator()`` is ``None`` and
``device_count()`` is 0, so such programs choose the CPU by themselves. The calls that need an
accelerator raise PyTorch's ``RuntimeError`` ("Cannot access accelerator device when none is
available.").
"""

import contextlib

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index",
           "current_device_idx", "set_device_index", "set_device_idx", "synchronize",
           "device_index"]

_NONE = "Cannot access accelerator device when none is available."


def is_available():
    """Always ``False``: tapegrad has no accelerator backend."""
    return False


def current_accelerator(check_available=False):
    """``None``: there is no accelerator (PyTorch returns its device, e.g.
    ``device(type='cuda')``)."""
    return None


def device_count():
    """Always 0."""
    return 0


def current_device_index():
    """Raises, as PyTorch without an accelerator.

    Raises:
        RuntimeError: always.
    """
    raise RuntimeError(_NONE)


current_device_idx = current_device_index


def set_device_index(device):
    """Raises, as PyTorch without an accelerator.

    Raises:
        RuntimeError: always.
    """
    raise RuntimeError(_NONE)


set_device_idx = set_device_index


def synchronize(device=None):
    """Raises, as PyTorch without an accelerator.

    Raises:
        RuntimeError: always.
    """
    raise RuntimeError(_NONE)


@contextlib.contextmanager
def device_index(device):
    """``with autograd.accelerator.device_index(None):`` does nothing; any index raises.

    Raises:
        RuntimeError: for an index other than ``None``.
    """
    if device is not None:
        raise RuntimeError(_NONE)
    yield
