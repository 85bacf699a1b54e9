"""Stochastic gradient descent with momentum (``torch.optim.SGD``)."""

import numpy as np

from autograd import Tensor

from .optimizer import Optimizer, _grad_with_decay

__all__ = ["SGD", "sgd_update"]


def sgd_update(param, grad, buf, *, lr, momentum, dampening, weight_decay, nesterov, maximize):
    """One SGD step on arrays, in place; returns the momentum buffer (or ``None``).

    PyTorch's rule (``torch.optim.SGD`` docs; Sutskever et al., 2013 for Nesterov)::

        g = -grad if maximize else grad
        g = g + weight_decay * param
        buf = g                                  (first step)
        buf = momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
        param -= lr * g
    """
    g = _grad_with_decay(param, grad, weight_decay=weight_decay, maximize=maximize)
    if momentum:
        if buf is None:
            buf = np.array(g, copy=True)
        else:
            buf *= momentum
            buf += (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
    param -= lr * g
    return buf


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum (``torch.optim.SGD``).

    Args:
        params: parameters or parameter groups.
        lr (float): learning rate (default 1e-3, as PyTorch 2).
        momentum (float): momentum factor (default 0).
        dampening (float): dampening for momentum (default 0).
        weight_decay (float): L2 penalty (default 0).
        nesterov (bool): Nesterov momentum (needs momentum > 0 and dampening = 0).
        maximize (bool): maximise the objective instead.

    State per parameter: ``momentum_buffer``. Update rule: :func:`sgd_update`.

    Raises:
        ValueError: for a negative lr, momentum or weight_decay, or nesterov without momentum
            or with dampening.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def init_state(self, state, p, group):
        """Nothing: the momentum buffer is created by the first update (PyTorch's rule: it
        starts as a copy of the gradient)."""

    def update(self, p, state, group):
        """:func:`sgd_update` on the parameter's arrays."""
        buf = state.get("momentum_buffer")
        new = sgd_update(p._data, p.grad._data, None if buf is None else buf._data,
                         lr=group["lr"], momentum=group["momentum"],
                         dampening=group["dampening"], weight_decay=group["weight_decay"],
                         nesterov=group["nesterov"], maximize=group["maximize"])
        if new is not None and buf is None:
            state["momentum_buffer"] = Tensor(new)
