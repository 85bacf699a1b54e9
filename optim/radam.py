"""RAdam: rectified Adam (``torch.optim.RAdam``; Liu et al., 2020)."""

import math

import numpy as np

from .adam import check_adam_args
from .optimizer import Optimizer, _grad_with_decay

__all__ = ["RAdam", "radam_update"]


def radam_update(param, grad, exp_avg, exp_avg_sq, step, *, lr, beta1, beta2, eps, weight_decay,
                 decoupled_weight_decay, maximize):
    """One RAdam step on arrays, in place (the ``torch.optim.RAdam`` pseudo-code)::

        g = -grad if maximize else grad
        g = g + weight_decay * param, or param *= 1 - lr * weight_decay   (decoupled)
        m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2
        m^ = m / (1 - beta1^t)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        if rho_t > 5:
            l = sqrt(1 - beta2^t) / (sqrt(v) + eps)
            r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
            param -= lr * m^ * l * r
        else:
            param -= lr * m^

    ``step`` is ``t``, the number of this step (1 for the first).
    """
    g = _grad_with_decay(param, grad, weight_decay=weight_decay, maximize=maximize, lr=lr,
                         decoupled=decoupled_weight_decay)
    exp_avg += (1 - beta1) * (g - exp_avg)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * (g * g)
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    update = exp_avg / bias_correction1 * lr
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
    if rho_t > 5.0:
        denom = np.sqrt(exp_avg_sq)
        denom += eps
        update *= math.sqrt(bias_correction2) / denom
        update *= math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                            / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
    param -= update


class RAdam(Optimizer):
    """RAdam, Adam with a rectified adaptive learning rate (``torch.optim.RAdam``; L. Liu et al.,
    "On the Variance of the Adaptive Learning Rate and Beyond", ICLR 2020; decoupled weight
    decay: Loshchilov & Hutter, 2019).

    Args:
        params, lr, betas, eps, weight_decay: as for :class:`~optim.Adam`, with its defaults.
        decoupled_weight_decay (bool): decay the parameter directly, as AdamW, instead of an
            L2 term in the gradient (default False).
        maximize (bool): maximise the objective (default False).

    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq``. Update rule:
    :func:`radam_update`.

    Raises:
        ValueError: for a negative lr, eps or weight_decay, or betas outside [0, 1).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, maximize=False):
        check_adam_args(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def init_state(self, state, p, group):
        """``step``, ``exp_avg``, ``exp_avg_sq``."""
        self._start_state(state, p, "exp_avg", "exp_avg_sq")

    def update(self, p, state, group):
        """:func:`radam_update` on the parameter's arrays."""
        beta1, beta2 = group["betas"]
        radam_update(p._data, p.grad._data, state["exp_avg"]._data, state["exp_avg_sq"]._data,
                     state["step"], lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
                     weight_decay=group["weight_decay"],
                     decoupled_weight_decay=group["decoupled_weight_decay"],
                     maximize=group["maximize"])
