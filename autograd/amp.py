"""``autograd.amp``: PyTorch's automatic mixed precision API, as no-ops.

Programs written for PyTorch wrap their forward pass in ``autocast`` and their backward and
step in a ``GradScaler`` even on the CPU (pytorch/examples' minGPT does, with
``enabled=use_amp``). tapegrad computes in each tensor's own dtype and has no reduced-precision
kernels, so:

- :class:`autocast` is a context manager (and decorator) that changes nothing;
- :class:`GradScaler` behaves as PyTorch's does when it is disabled (as it is on a machine
  without CUDA): ``scale(loss)`` returns ``loss``, ``step(optimizer)`` calls
  ``optimizer.step()``, ``unscale_`` and ``update`` do nothing, ``get_scale()`` is 1.0.

Differs from PyTorch: on the CPU, PyTorch's ``autocast(device_type="cpu", dtype=bfloat16)``
does run matmuls and convolutions in bfloat16; here everything stays in float32, so losses match
a run without autocast.
"""

import functools

__all__ = ["autocast", "GradScaler", "is_autocast_available"]


def is_autocast_available(device_type):
    """``True`` for ``"cpu"`` (autocast is accepted there, as a no-op), else ``False``."""
    return str(device_type) == "cpu"


class autocast:  # noqa: N801 - PyTorch's name
    """``with autograd.amp.autocast(device_type, dtype=None, enabled=True,
    cache_enabled=None):`` — accepted and does nothing (see the module docstring); also usable
    as a decorator. ``autograd.autocast`` is the same class (``torch.autocast``)."""

    def __init__(self, device_type="cpu", dtype=None, enabled=True, cache_enabled=None):
        self.device_type = str(device_type)
        self.fast_dtype = dtype
        self.enabled = bool(enabled)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return wrapper


class GradScaler:
    """``autograd.amp.GradScaler(device="cpu", init_scale=65536.0, growth_factor=2.0,
    backoff_factor=0.5, growth_interval=2000, enabled=True)`` — PyTorch's gradient scaler as it
    behaves when disabled (always, here): gradients are never scaled.

    Methods: ``scale(outputs)`` returns ``outputs``; ``unscale_(optimizer)`` does nothing;
    ``step(optimizer, *args, **kwargs)`` returns ``optimizer.step(*args, **kwargs)``;
    ``update(new_scale=None)`` does nothing; ``get_scale()`` is 1.0; ``is_enabled()`` is
    False; ``state_dict()`` is ``{}`` and ``load_state_dict`` accepts any dict.
    """

    def __init__(self, device="cpu", init_scale=2.0 ** 16, growth_factor=2.0,
                 backoff_factor=0.5, growth_interval=2000, enabled=True):
        self._device = str(device)

    def scale(self, outputs):
        """``outputs`` unchanged (a disabled scaler does not scale)."""
        return outputs

    def unscale_(self, optimizer):
        """Nothing to undo."""
        return None

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step(*args, **kwargs)``."""
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None):
        """Nothing to update."""
        return None

    def get_scale(self):
        """1.0."""
        return 1.0

    def is_enabled(self):
        """``False``."""
        return False

    def state_dict(self):
        """``{}`` (PyTorch's disabled scaler's state)."""
        return {}

    def load_state_dict(self, state_dict):
        """Accepted and ignored.

        Raises:
            TypeError: if ``state_dict`` is not a dict.
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"GradScaler.load_state_dict: expected a dict, got "
                            f"{type(state_dict).__name__}")
