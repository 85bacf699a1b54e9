"""Adagrad (``torch.optim.Adagrad``; Duchi, Hazan & Singer, 2011)."""

import numpy as np

from autograd import Tensor

from .optimizer import Optimizer, _check_non_negative, _grad_with_decay

__all__ = ["Adagrad", "adagrad_update"]


def adagrad_update(param, grad, state_sum, step, *, lr, lr_decay, weight_decay, eps, maximize):
    """One Adagrad step on arrays, in place (the ``torch.optim.Adagrad`` pseudo-code)::

        g = -grad if maximize else grad
        g = g + weight_decay * param
        clr = lr / (1 + (t - 1) * lr_decay)
        sum = sum + g^2
        param -= clr * g / (sqrt(sum) + eps)

    ``step`` is ``t``, the number of this step (1 for the first).
    """
    g = _grad_with_decay(param, grad, weight_decay=weight_decay, maximize=maximize)
    clr = lr / (1 + (step - 1) * lr_decay)
    state_sum += g * g
    std = np.sqrt(state_sum)
    std += eps
    param -= clr * (g / std)


class Adagrad(Optimizer):
    """Adagrad (``torch.optim.Adagrad``; Duchi, Hazan & Singer, "Adaptive Subgradient Methods
    for Online Learning and Stochastic Optimization", JMLR 2011).

    Args:
        params: parameters or parameter groups.
        lr (float): learning rate (default 1e-2).
        lr_decay (float): learning-rate decay per step (default 0).
        weight_decay (float): L2 penalty (default 0).
        initial_accumulator_value (float): starting value of the squared-gradient sums
            (default 0).
        eps (float): added to the denominator (default 1e-10).
        maximize (bool): maximise the objective (default False).

    State per parameter (created at construction, as PyTorch does): ``step`` and ``sum``.
    Sparse gradients are not supported (tapegrad has none). Update rule:
    :func:`adagrad_update`.

    Raises:
        ValueError: for a negative lr, lr_decay, weight_decay, initial_accumulator_value or eps.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, *, maximize=False):
        _check_non_negative(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                            initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      maximize=maximize))
        for group in self.param_groups:  # eagerly, as PyTorch (state_dict has it at once)
            for p in group["params"]:
                self.init_state(self.state[p], p, group)

    def init_state(self, state, p, group):
        """``step`` and ``sum`` (filled with ``initial_accumulator_value``)."""
        state["step"] = 0
        state["sum"] = Tensor(np.full_like(p._data, group["initial_accumulator_value"]))

    def update(self, p, state, group):
        """:func:`adagrad_update` on the parameter's arrays."""
        adagrad_update(p._data, p.grad._data, state["sum"]._data, state["step"],
                       lr=group["lr"], lr_decay=group["lr_decay"],
                       weight_decay=group["weight_decay"], eps=group["eps"],
                       maximize=group["maximize"])
