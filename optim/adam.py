"""Adam (``torch.optim.Adam``; Kingma & Ba, 2015)."""

import math

import numpy as np

from autograd._fused_optim import adam_step, adam_step_applicable

from .optimizer import Optimizer, _check_non_negative, _grad_with_decay

__all__ = ["Adam", "adam_update", "adam_update_numpy"]


def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, *, lr, beta1, beta2,
                eps, weight_decay, amsgrad, maximize, decoupled=False):
    """One Adam step on arrays, in place (PyTorch's ``torch.optim.Adam`` algorithm; with
    ``decoupled=True`` the ``torch.optim.AdamW`` algorithm)::

        g = -grad if maximize else grad
        g = g + weight_decay * param              (Adam's L2 penalty), or
        param = param * (1 - lr * weight_decay)   (decoupled, AdamW)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        v_max = max(v_max, v)                     (amsgrad)
        param -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    Float32/float64 arrays of one dtype with contiguous state run as one fused Numba pass
    (:mod:`kernels.optim`, the same numbers bit for bit, about 5x faster on large parameters);
    anything else runs the NumPy formulation below.
    """
    if adam_step_applicable(param, grad, exp_avg, exp_avg_sq,
                            max_exp_avg_sq if amsgrad else None):
        adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr=lr, beta1=beta1,
                  beta2=beta2, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                  maximize=maximize, decoupled=decoupled)
    else:
        adam_update_numpy(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr=lr,
                          beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                          amsgrad=amsgrad, maximize=maximize, decoupled=decoupled)


def adam_update_numpy(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, *, lr, beta1,
                      beta2, eps, weight_decay, amsgrad, maximize, decoupled=False):
    """:func:`adam_update` in NumPy operations (any dtype and layout NumPy takes): the reference
    the fused kernel is tested against, and the path for arrays the kernel does not take."""
    g = _grad_with_decay(param, grad, weight_decay=weight_decay, maximize=maximize, lr=lr,
                         decoupled=decoupled)
    exp_avg *= beta1
    exp_avg += (1 - beta1) * g
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * (g * g)
    bias1 = 1 - beta1 ** step
    bias2_sqrt = math.sqrt(1 - beta2 ** step)
    if amsgrad:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        denom = np.sqrt(max_exp_avg_sq)
    else:
        denom = np.sqrt(exp_avg_sq)
    denom /= bias2_sqrt
    denom += eps
    param -= (lr / bias1) * (exp_avg / denom)


def check_adam_args(lr, betas, eps, weight_decay):
    """Validate the hyper-parameters shared by the Adam family (Adam, AdamW, Adamax, NAdam,
    RAdam) with PyTorch's messages.

    Raises:
        ValueError: for a negative lr, eps or weight_decay, or a beta outside [0, 1).
    """
    _check_non_negative(lr=lr, eps=eps)
    for i in (0, 1):
        if not 0.0 <= betas[i] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")
    _check_non_negative(weight_decay=weight_decay)


class Adam(Optimizer):
    """Adam (``torch.optim.Adam``; Kingma & Ba, "Adam: A Method for Stochastic Optimization",
    2015; AMSGrad: Reddi et al., 2018).

    Args:
        params: parameters or parameter groups.
        lr (float): learning rate (default 1e-3).
        betas (tuple): coefficients of the running averages of the gradient and its square
            (default (0.9, 0.999)).
        eps (float): added to the denominator (default 1e-8).
        weight_decay (float): L2 penalty added to the gradient (default 0).
        amsgrad (bool): use the maximum of past squared-gradient averages.
        maximize (bool): maximise the objective.
        decoupled_weight_decay (bool): decay the parameter directly (AdamW) instead of adding
            an L2 term to the gradient (default False).

    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq`` (and ``max_exp_avg_sq``).
    Update rule: :func:`adam_update`.

    Raises:
        ValueError: for a negative lr, eps or weight_decay, or betas outside [0, 1).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False):
        check_adam_args(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def init_state(self, state, p, group):
        """``step``, ``exp_avg``, ``exp_avg_sq`` (and ``max_exp_avg_sq`` with amsgrad)."""
        self._start_state(state, p, "exp_avg", "exp_avg_sq",
                          *(("max_exp_avg_sq",) if group["amsgrad"] else ()))

    def update(self, p, state, group):
        """:func:`adam_update` on the parameter's arrays."""
        beta1, beta2 = group["betas"]
        mx = state.get("max_exp_avg_sq")
        adam_update(p._data, p.grad._data, state["exp_avg"]._data, state["exp_avg_sq"]._data,
                    None if mx is None else mx._data, state["step"], lr=group["lr"],
                    beta1=beta1, beta2=beta2, eps=group["eps"],
                    weight_decay=group["weight_decay"], amsgrad=group["amsgrad"],
                    maximize=group["maximize"],
                    decoupled=group.get("decoupled_weight_decay", False))
