"""RMSprop (``torch.optim.RMSprop``; Hinton, Lecture 6e of "Neural Networks for Machine
Learning", 2012; centered variant: Graves, 2013)."""

import numpy as np

from .optimizer import Optimizer, _check_non_negative, _grad_with_decay

__all__ = ["RMSprop", "rmsprop_update"]


def rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, *, lr, alpha, eps,
                   weight_decay, momentum, centered, maximize):
    """One RMSprop step on arrays, in place (the ``torch.optim.RMSprop`` pseudo-code)::

        g = -grad if maximize else grad
        g = g + weight_decay * param
        v = alpha * v + (1 - alpha) * g^2                     (square_avg)
        v~ = v - g_ave^2,  g_ave = g_ave + (1 - alpha) * (g - g_ave)   (centered)
        b = momentum * b + g / (sqrt(v~) + eps);  param -= lr * b      (momentum > 0)
        param -= lr * g / (sqrt(v~) + eps)                              (otherwise)

    ``grad_avg`` is used only when ``centered``, ``momentum_buffer`` only when ``momentum > 0``.
    """
    g = _grad_with_decay(param, grad, weight_decay=weight_decay, maximize=maximize)
    square_avg *= alpha
    square_avg += (1 - alpha) * (g * g)
    if centered:
        grad_avg += (1 - alpha) * (g - grad_avg)
        avg = np.sqrt(square_avg - grad_avg * grad_avg)
    else:
        avg = np.sqrt(square_avg)
    avg += eps
    if momentum > 0:
        momentum_buffer *= momentum
        momentum_buffer += g / avg
        param -= lr * momentum_buffer
    else:
        param -= lr * (g / avg)


class RMSprop(Optimizer):
    """RMSprop (``torch.optim.RMSprop``; G. Hinton, "Neural Networks for Machine Learning",
    Lecture 6e, 2012; the centered version: A. Graves, "Generating Sequences With Recurrent
    Neural Networks", 2013).

    Args:
        params: parameters or parameter groups.
        lr (float): learning rate (default 1e-2).
        alpha (float): smoothing constant of the squared-gradient average (default 0.99).
        eps (float): added to the denominator (default 1e-8).
        weight_decay (float): L2 penalty (default 0).
        momentum (float): momentum factor (default 0).
        centered (bool): normalise by an estimate of the gradient's variance (default False).
        maximize (bool): maximise the objective (default False; keyword-only here, PyTorch also
            accepts it positionally after its ``capturable`` and ``foreach`` flags).

    State per parameter: ``step``, ``square_avg``, ``momentum_buffer`` (momentum > 0) and
    ``grad_avg`` (centered). Update rule: :func:`rmsprop_update`.

    Raises:
        ValueError: for a negative lr, eps, momentum, weight_decay or alpha.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, *, maximize=False):
        _check_non_negative(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay,
                            alpha=alpha)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def init_state(self, state, p, group):
        """``step``, ``square_avg`` (and ``momentum_buffer``, ``grad_avg`` when used)."""
        self._start_state(state, p, "square_avg",
                          *(("momentum_buffer",) if group["momentum"] > 0 else ()),
                          *(("grad_avg",) if group["centered"] else ()))

    def update(self, p, state, group):
        """:func:`rmsprop_update` on the parameter's arrays."""
        buf = state.get("momentum_buffer")
        grad_avg = state.get("grad_avg")
        rmsprop_update(p._data, p.grad._data, state["square_avg"]._data,
                       None if grad_avg is None else grad_avg._data,
                       None if buf is None else buf._data, lr=group["lr"],
                       alpha=group["alpha"], eps=group["eps"],
                       weight_decay=group["weight_decay"], momentum=group["momentum"],
                       centered=group["centered"], maximize=group["maximize"])
