"""Adadelta (``torch.optim.Adadelta``; Zeiler, 2012)."""

import numpy as np

from .optimizer import Optimizer, _check_non_negative, _grad_with_decay

__all__ = ["Adadelta", "adadelta_update"]


def adadelta_update(param, grad, square_avg, acc_delta, *, lr, rho, eps, weight_decay,
                    maximize):
    """One Adadelta step on arrays, in place (the ``torch.optim.Adadelta`` pseudo-code)::

        g = -grad if maximize else grad
        g = g + weight_decay * param
        v = rho * v + (1 - rho) * g^2                         (square_avg)
        dx = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * dx^2                        (acc_delta)
        param -= lr * dx
    """
    g = _grad_with_decay(param, grad, weight_decay=weight_decay, maximize=maximize)
    square_avg *= rho
    square_avg += (1 - rho) * (g * g)
    std = np.sqrt(square_avg + eps)
    delta = np.sqrt(acc_delta + eps)
    delta /= std
    delta *= g
    acc_delta *= rho
    acc_delta += (1 - rho) * (delta * delta)
    param -= lr * delta


class Adadelta(Optimizer):
    """Adadelta (``torch.optim.Adadelta``; M. D. Zeiler, "ADADELTA: An Adaptive Learning Rate
    Method", 2012).

    Args:
        params: parameters or parameter groups.
        lr (float): coefficient that scales delta before it is applied (default 1.0).
        rho (float): coefficient of the running averages (default 0.9).
        eps (float): added inside the square roots (default 1e-6).
        weight_decay (float): L2 penalty (default 0).
        maximize (bool): maximise the objective (default False).

    State per parameter: ``step``, ``square_avg``, ``acc_delta``. Update rule:
    :func:`adadelta_update`.

    Raises:
        ValueError: for a negative lr, eps or weight_decay, or rho outside [0, 1].
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        _check_non_negative(lr=lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_non_negative(eps=eps, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def init_state(self, state, p, group):
        """``step``, ``square_avg``, ``acc_delta``."""
        self._start_state(state, p, "square_avg", "acc_delta")

    def update(self, p, state, group):
        """:func:`adadelta_update` on the parameter's arrays."""
        adadelta_update(p._data, p.grad._data, state["square_avg"]._data,
                        state["acc_delta"]._data, lr=group["lr"], rho=group["rho"],
                        eps=group["eps"], weight_decay=group["weight_decay"],
                        maximize=group["maximize"])
