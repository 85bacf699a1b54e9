"""Grad modes: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``is_grad_enabled``,
``inference_mode``, ``is_inference_mode_enabled``.

Follows ``torch.autograd.grad_mode``. The mode is per thread, as in PyTorch: ``no_grad`` in one
thread (an evaluation loop, ``optimizer.step()``, the engine itself during backward) leaves graph
recording on in every other thread, and a new thread starts with grad mode on. The flag lives in
a :class:`contextvars.ContextVar`; :meth:`autograd.graph.Node.apply` reads it on every op through
the bound method :data:`grad_enabled` (about 20 ns, against about 70-85 ns for an attribute of a
``threading.local``; the per-op cost is a benchmark). Each thread has its own context, so this is
thread-local; in addition an ``asyncio`` task runs in a copy of its creator's context, so a
``no_grad`` block inside one task does not switch recording off for the other tasks of the same
thread (in PyTorch, whose flag is a C++ ``thread_local``, it does). Each class works as a context
manager and as a function decorator.
"""

import contextvars
import functools

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
           "is_inference_mode_enabled"]


_enabled = contextvars.ContextVar("tapegrad_grad_enabled", default=True)
_inference = contextvars.ContextVar("tapegrad_inference_mode", default=False)

#: ``grad_enabled()``: this thread's grad mode; the per-op read (a bound ``ContextVar.get``).
grad_enabled = _enabled.get


def is_grad_enabled():
    """Return ``True`` if ops currently record the graph for backward (in this thread)."""
    return _enabled.get()


def is_inference_mode_enabled():
    """Return ``True`` inside :class:`inference_mode` (in this thread)."""
    return _inference.get()


def _set(mode):
    """Set this thread's grad mode; returns the previous one."""
    prev = _enabled.get()
    _enabled.set(bool(mode))
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


class _FreshContextDecorator:
    """Used as a decorator, enter a fresh copy of this context manager (:meth:`_copy`) around
    each call, so that nested, recursive and concurrent calls never share the saved state."""

    def _copy(self):
        raise NotImplementedError

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self._copy():
                return fn(*args, **kwargs)

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


class inference_mode(_FreshContextDecorator, _GradModeBase):
    """Context manager / decorator for inference (``torch.inference_mode(mode=True)``).

    Inside it ops record no graph, as under :class:`no_grad`, and
    :func:`is_inference_mode_enabled` is ``True``. ``inference_mode(False)`` is a no-op context,
    as in PyTorch. Also usable as a bare decorator (``@inference_mode``).

    Differs from PyTorch: tensors created inside are ordinary tensors (PyTorch marks them as
    "inference tensors" that later refuse to be saved for backward); tapegrad has no such
    marking, and its speed gain over ``no_grad`` is nil because ``no_grad`` already skips all
    graph bookkeeping.

    Args:
        mode (bool): ``True`` to enable inference mode, ``False`` for a no-op.
    """

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):   # bare @inference_mode
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self._on = bool(mode)

    def __enter__(self):
        self._prev = (_enabled.get(), _inference.get())
        if self._on:
            _enabled.set(False)
            _inference.set(True)
        return self

    def __exit__(self, *exc):
        _enabled.set(self._prev[0])
        _inference.set(self._prev[1])
        return False

    def _copy(self):
        return inference_mode(self._on)
