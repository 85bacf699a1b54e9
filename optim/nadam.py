"""NAdam: Adam with Nesterov momentum (``torch.optim.NAdam``; Dozat, 2016)."""

import numpy as np

from .adam import check_adam_args
from .optimizer import Optimizer, _check_non_negative, _grad_with_decay

__all__ = ["NAdam", "nadam_update"]


def nadam_update(param, grad, exp_avg, exp_avg_sq, mu_product, step, *, lr, beta1, beta2, eps,
                 weight_decay, momentum_decay, decoupled_weight_decay, maximize):
    """One NAdam step on arrays, in place; returns the new ``mu_product`` (a float).

    The ``torch.optim.NAdam`` pseudo-code::

        g = -grad if maximize else grad
        g = g + weight_decay * param, or param *= 1 - lr * weight_decay   (decoupled)
        mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))
        mu_{t+1} = beta1 * (1 - 0.5 * 0.96^((t + 1) * momentum_decay))
        mu_product = mu_product * mu_t
        m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2
        denom = sqrt(v / (1 - beta2^t)) + eps
        param -= lr * (1 - mu_t) / (1 - mu_product) * g / denom
        param -= lr * mu_{t+1} / (1 - mu_product * mu_{t+1}) * m / denom

    ``step`` is ``t`` (1 for the first step); ``mu_product`` is the product of the previous
    ``mu`` (1.0 before the first step).
    """
    g = _grad_with_decay(param, grad, weight_decay=weight_decay, maximize=maximize, lr=lr,
                         decoupled=decoupled_weight_decay)
    bias_correction2 = 1 - beta2 ** step
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
    mu_product = mu_product * mu
    exp_avg += (1 - beta1) * (g - exp_avg)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * (g * g)
    denom = np.sqrt(exp_avg_sq / bias_correction2)
    denom += eps
    param += (-lr * (1.0 - mu) / (1.0 - mu_product)) * (g / denom)
    param += (-lr * mu_next / (1.0 - mu_product * mu_next)) * (exp_avg / denom)
    return mu_product


class NAdam(Optimizer):
    """NAdam, Adam with Nesterov momentum (``torch.optim.NAdam``; T. Dozat, "Incorporating
    Nesterov Momentum into Adam", ICLR 2016 workshop; decoupled weight decay: Loshchilov &
    Hutter, 2019).

    Args:
        params, betas, eps, weight_decay: as for :class:`~optim.Adam`, with its defaults.
        lr (float): learning rate (default 2e-3).
        momentum_decay (float): the momentum schedule's decay ``psi`` (default 4e-3).
        decoupled_weight_decay (bool): decay the parameter directly, as AdamW (NAdamW), instead
            of an L2 term in the gradient (default False).
        maximize (bool): maximise the objective (default False).

    State per parameter: ``step``, ``mu_product`` (a Python float here; PyTorch keeps a scalar
    tensor, float32 unless the default dtype is float64), ``exp_avg``, ``exp_avg_sq``. Update
    rule: :func:`nadam_update`.

    Raises:
        ValueError: for a negative lr, eps, weight_decay or momentum_decay, or betas outside
            [0, 1).
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, maximize=False):
        check_adam_args(lr, betas, eps, weight_decay)
        _check_non_negative(momentum_decay=momentum_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def init_state(self, state, p, group):
        """``step``, ``mu_product``, ``exp_avg``, ``exp_avg_sq``."""
        self._start_state(state, p, "exp_avg", "exp_avg_sq", mu_product=1.0)

    def update(self, p, state, group):
        """:func:`nadam_update` on the parameter's arrays."""
        beta1, beta2 = group["betas"]
        state["mu_product"] = nadam_update(
            p._data, p.grad._data, state["exp_avg"]._data, state["exp_avg_sq"]._data,
            state["mu_product"], state["step"], lr=group["lr"], beta1=beta1, beta2=beta2,
            eps=group["eps"], weight_decay=group["weight_decay"],
            momentum_decay=group["momentum_decay"],
            decoupled_weight_decay=group["decoupled_weight_decay"], maximize=group["maximize"])
