"""Anomaly detection for the backward pass (``torch.autograd.detect_anomaly``).

Inside ``with autograd.detect_anomaly():`` (or after ``set_detect_anomaly(True)``) every op
recorded in the graph keeps the stack of the user code that created it, and the engine checks
each gradient a node's backward returns: a NaN or inf raises ``RuntimeError`` naming the op
(``'DivBackward0'``), which of its inputs got the bad gradient, and where the op was created.
Both cost time (a traceback per op, a finiteness check per gradient), so they are off by default,
as in PyTorch.

Differences from PyTorch: PyTorch also warns with the forward traceback when *any* error is
raised in backward; here only NaN/inf gradients are reported, and the traceback is part of the
error message.
"""

import traceback

from . import graph as function
from .grad_mode import _FreshContextDecorator

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled"]

_INTERNAL = ("/autograd/", "\\autograd\\", "/nn/", "\\nn\\", "/optim/", "\\optim\\")


def creation_trace(limit=12):
    """The formatted stack of the caller, without tapegrad's own frames at its end (so the last
    line is the user's line that created the op)."""
    frames = traceback.extract_stack()[:-1]
    while len(frames) > 1 and any(part in frames[-1].filename for part in _INTERNAL):
        frames.pop()
    return "".join(traceback.format_list(frames[-limit:]))


def is_anomaly_enabled():
    """True inside :class:`detect_anomaly` or after ``set_detect_anomaly(True)``."""
    return function._anomaly_mode[0]


class set_detect_anomaly:
    """Turn anomaly detection on or off (``torch.autograd.set_detect_anomaly``); works as a
    plain call and as a context manager that restores the previous setting.

    Args:
        mode (bool): on or off.
    """

    def __init__(self, mode):
        self.prev = function._anomaly_mode[0]
        function._anomaly_mode[0] = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        function._anomaly_mode[0] = self.prev
        return False


class detect_anomaly(_FreshContextDecorator):
    """Context manager (and decorator) that turns on anomaly detection
    (``torch.autograd.detect_anomaly``).

    Example::

        with autograd.detect_anomaly():
            x = autograd.tensor([0.0], requires_grad=True)
            y = x.sqrt()          # backward: 0.5 / sqrt(0) = inf
            y.backward()          # RuntimeError: Function 'SqrtBackward0' returned inf ...

    Raises (from backward):
        RuntimeError: when an op's backward produces NaN or inf, naming the op and the user code
            line that created it.
    """

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        self.prev = False

    def __enter__(self):
        self.prev = function._anomaly_mode[0]
        function._anomaly_mode[0] = bool(self.check_nan)
        return self

    def __exit__(self, *exc):
        function._anomaly_mode[0] = self.prev
        return False

    def _copy(self):
        return detect_anomaly(self.check_nan)
