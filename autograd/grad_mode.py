"""Grad modes: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``is_grad_enabled``,
``inference_mode``, ``is_inference_mode_enabled``.

Follows ``torch.autograd.grad_mode``. The mode is thread-local, as in PyTorch: ``no_grad`` in one
thread (an evaluation loop, ``optimizer.step()``, the engine itself during backward) leaves graph
recording on in every other thread, and a new thread starts with grad mode on. The flag is an
attribute of one ``threading.local`` object, :data:`_state`, which
:meth:`autograd.graph.Node.apply` reads on every op (one attribute lookup: switching the mode
costs nothing per op). Each class works as a context manager and as a function decorator.
"""

import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
           "is_inference_mode_enabled"]


class _State(threading.local):
    """Per-thread grad mode: the class attributes are each new thread's starting values."""

    enabled = True      # ops record the graph
    inference = False   # inside inference_mode


_state = _State()


def is_grad_enabled():
    """Return ``True`` if ops currently record the graph for backward (in this thread)."""
    return _state.enabled


def is_inference_mode_enabled():
    """Return ``True`` inside :class:`inference_mode` (in this thread)."""
    return _state.inference


def _set(mode):
    """Set this thread's grad mode; returns the previous one."""
    st = _state
    prev = st.enabled
    st.enabled = bool(mode)
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


class inference_mode(_GradModeBase):
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
        st = _state
        self._prev = (st.enabled, st.inference)
        if self._on:
            st.enabled = False
            st.inference = True
        return self

    def __exit__(self, *exc):
        _state.enabled, _state.inference = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(self._on):
                return fn(*args, **kwargs)

        return wrapper
