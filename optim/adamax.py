"""Adamax (``torch.optim.Adamax``; Kingma & Ba, 2015, section 7)."""

import numpy as np

from .adam import check_adam_args
from .optimizer import Optimizer, _grad_with_decay

__all__ = ["Adamax", "adamax_update"]


def adamax_update(param, grad, exp_avg, exp_inf, step, *, lr, beta1, beta2, eps, weight_decay,
                  maximize):
    """One Adamax step on arrays, in place (the ``torch.optim.Adamax`` pseudo-code)::

        g = -grad if maximize else grad
        g = g + weight_decay * param
        m = beta1 * m + (1 - beta1) * g                        (exp_avg)
        u = max(beta2 * u, |g| + eps)                          (exp_inf)
        param -= lr / (1 - beta1^t) * m / u

    ``step`` is ``t``, the number of this step (1 for the first).
    """
    g = _grad_with_decay(param, grad, weight_decay=weight_decay, maximize=maximize)
    exp_avg += (1 - beta1) * (g - exp_avg)
    exp_inf *= beta2
    np.maximum(exp_inf, np.abs(g) + eps, out=exp_inf)
    clr = lr / (1 - beta1 ** step)
    param -= clr * (exp_avg / exp_inf)


class Adamax(Optimizer):
    """Adamax, Adam under the infinity norm (``torch.optim.Adamax``; Kingma & Ba, "Adam: A
    Method for Stochastic Optimization", ICLR 2015, section 7.1).

    Args:
        params: parameters or parameter groups.
        lr (float): learning rate (default 2e-3).
        betas (tuple): coefficients of the running average and of the infinity norm
            (default (0.9, 0.999)).
        eps (float): added to ``|g|`` (default 1e-8).
        weight_decay (float): L2 penalty (default 0).
        maximize (bool): maximise the objective (default False).

    State per parameter: ``step``, ``exp_avg``, ``exp_inf``. Update rule:
    :func:`adamax_update`.

    Raises:
        ValueError: for a negative lr, eps or weight_decay, or betas outside [0, 1).
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, *,
                 maximize=False):
        check_adam_args(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, maximize=maximize))

    def init_state(self, state, p, group):
        """``step``, ``exp_avg``, ``exp_inf``."""
        self._start_state(state, p, "exp_avg", "exp_inf")

    def update(self, p, state, group):
        """:func:`adamax_update` on the parameter's arrays."""
        beta1, beta2 = group["betas"]
        adamax_update(p._data, p.grad._data, state["exp_avg"]._data, state["exp_inf"]._data,
                      state["step"], lr=group["lr"], beta1=beta1, beta2=beta2,
                      eps=group["eps"], weight_decay=group["weight_decay"],
                      maximize=group["maximize"])
