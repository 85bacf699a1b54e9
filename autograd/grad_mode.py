"""Grad modes: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``is_grad_enabled``.

Follows ``torch.autograd.grad_mode``. The flag lives in one module-level variable that
:meth:`autograd.function.Function.apply` reads on every op, so switching it costs nothing per op.
Each class works as a context manager and as a function decorator.
"""

import functools

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled"]

_enabled = True


def is_grad_enabled():
    """Return ``True`` if ops currently record the graph for backward."""
    return _enabled


def _set(mode):
    global _enabled
    prev = _enabled
    _enabled = bool(mode)
    return prev


class _GradModeBase:
    _mode = True

    def __enter__(self):
        self._prev = _set(self._mode)
        return self

    def __exit__(self, *exc):
        _set(self._prev)
        return False

    def __call__(self, fn):
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = _set(mode)
            try:
                return fn(*args, **kwargs)
            finally:
                _set(prev)

        return wrapper


class _NoParamDecorator(_GradModeBase):
    """Also usable as a bare decorator, ``@no_grad`` without parentheses (as PyTorch's)."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamDecorator):
    """Context manager / decorator that disables graph recording.

    Inside it, every op's result has ``requires_grad=False`` and no ``grad_fn``, even if its
    inputs require grad (``torch.no_grad``). Use it for evaluation and for parameter updates.

    Example::

        with autograd.no_grad():
            logits = model(x)
    """

    _mode = False


class enable_grad(_NoParamDecorator):
    """Context manager / decorator that enables graph recording inside a ``no_grad`` block
    (``torch.enable_grad``)."""

    _mode = True


class set_grad_enabled(_GradModeBase):
    """Set graph recording on or off (``torch.set_grad_enabled(mode)``).

    Works as a plain call (the mode stays set), as a context manager (restored on exit) and as
    a decorator.

    Args:
        mode (bool): ``True`` to record the graph, ``False`` not to.
    """

    def __init__(self, mode):
        self._mode = bool(mode)
        self._prev = _set(self._mode)

    def __enter__(self):
        return self

    def __call__(self, fn):
        _set(self._prev)  # used as a decorator: undo the eager switch made in __init__
        return super().__call__(fn)
