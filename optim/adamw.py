"""AdamW: Adam with decoupled weight decay (``torch.optim.AdamW``; Loshchilov & Hutter, 2019)."""

from .adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    """Adam with decoupled weight decay (``torch.optim.AdamW``; Loshchilov & Hutter,
    "Decoupled Weight Decay Regularization", ICLR 2019; AMSGrad: Reddi et al., 2018).

    The parameter is shrunk by ``1 - lr * weight_decay`` before the Adam step instead of an L2
    term being added to the gradient (PyTorch's AdamW pseudo-code)::

        param = param * (1 - lr * weight_decay)
        m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2
        param -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    Args:
        params: parameters or parameter groups.
        lr (float): learning rate (default 1e-3).
        betas (tuple): running-average coefficients (default (0.9, 0.999)).
        eps (float): added to the denominator (default 1e-8).
        weight_decay (float): decoupled weight decay coefficient (default 1e-2).
        amsgrad (bool): use the maximum of past squared-gradient averages (default False).
        maximize (bool): maximise the objective (default False).

    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq`` (and ``max_exp_avg_sq``).
    Update rule: :func:`optim.adam.adam_update` with ``decoupled=True``; every group has
    ``decoupled_weight_decay=True``, also after :meth:`load_state_dict`.

    Raises:
        ValueError: for a negative lr, eps or weight_decay, or betas outside [0, 1).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        """Restore a state from :meth:`state_dict`; the groups stay decoupled (AdamW)."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
