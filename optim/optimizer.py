"""``optim.Optimizer``: the base class with PyTorch's shape (``param_groups``, ``defaults``,
``state``, ``zero_grad``, ``step``, ``state_dict``/``load_state_dict``, ``add_param_group``,
step hooks).

Writing an optimizer means writing two methods (Chainer's ``UpdateRule.init_state`` /
``update_core``); :meth:`Optimizer.step` owns everything else — the closure, the loop over groups
and parameters with a gradient, no-grad, creating the state on a parameter's first step, the
version bump that tells autograd the parameter changed, and the step hooks::

    class Momentum(Optimizer):
        def __init__(self, params, lr=1e-2, beta=0.9):
            super().__init__(params, dict(lr=lr, beta=beta))

        def init_state(self, state, p, group):     # first step of parameter p
            state["momentum_buffer"] = self._zeros_like(p)

        def update(self, p, state, group):         # every step; arrays via ._data
            buf = state["momentum_buffer"]._data
            buf *= group["beta"]
            buf += p.grad._data
            p._data -= group["lr"] * buf

The update math itself lives in one array-level function per optimizer (``sgd_update``,
``adam_update``, ...), which ``update`` calls. An optimizer whose step is not per parameter
(L-BFGS) overrides :meth:`Optimizer.step` instead.
"""

import copy
from collections import defaultdict

import numpy as np

from autograd import Tensor, enable_grad, no_grad
from autograd.utils.hooks import add_hook

__all__ = ["Optimizer"]

_ARG_WORDS = {"lr": "learning rate", "eps": "epsilon value"}


def _check_non_negative(**values):
    """PyTorch's ``ValueError`` for the first hyper-parameter (in the given order) that is not
    ``>= 0`` (NaN included): ``Invalid learning rate: -1``, ``Invalid epsilon value: ...``,
    ``Invalid <name> value: ...``."""
    for name, value in values.items():
        if not 0.0 <= value:
            raise ValueError(f"Invalid {_ARG_WORDS.get(name, name + ' value')}: {value}")


def _grad_with_decay(param, grad, *, weight_decay, maximize, lr=None, decoupled=False):
    """The gradient an update rule uses, PyTorch's first lines of every optimizer::

        g = -grad if maximize else grad
        g = g + weight_decay * param              (L2 penalty), or
        param *= 1 - lr * weight_decay            (decoupled, AdamW's; param changed in place)

    Returns ``g`` (``grad`` itself when nothing applies; never written to).
    """
    g = -grad if maximize else grad
    if weight_decay:
        if decoupled:
            param *= 1 - lr * weight_decay
        else:
            g = g + weight_decay * param
    return g


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


def _copy_state_value(value, param):
    """A copy of one saved state entry; floating tensors take the parameter's dtype."""
    if not isinstance(value, Tensor):
        return copy.deepcopy(value)
    dtype = param.dtype if value.dtype.kind == "f" else value.dtype
    return Tensor(np.array(value._data, dtype=dtype))


class Optimizer:
    """Base class of optimizers (``torch.optim.Optimizer``).

    Args:
        params: an iterable of Tensors, or of dicts defining parameter groups (each dict has
            ``'params'`` and may override any default, e.g. its own ``'lr'``).
        defaults (dict): the default hyper-parameters of every group.

    Attributes:
        param_groups (list of dict): the groups; change ``group['lr']`` to change the rate.
        state (dict): per-parameter state (created on the first ``step``), keyed by parameter,
            under PyTorch's names (``momentum_buffer``, ``exp_avg``, ...).

    Raises:
        TypeError: if ``params`` is a single Tensor, or a parameter is not a Tensor.
        ValueError: for an empty parameter list or a parameter in two groups.
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        self._step_pre_hooks = {}
        self._step_post_hooks = {}
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {type(params).__name__}")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, param_group):
        """Add a group of parameters (a dict with ``'params'`` and optional overrides).

        Raises:
            TypeError: if ``params`` is a set (unordered) or holds something other than Tensors.
            ValueError: if a parameter already belongs to another group, is not a leaf, or a
                required hyper-parameter is missing.
        """
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for k, v in self.defaults.items():
            if v is required and k not in group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {k}")
            group.setdefault(k, v)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all optimized parameters to ``None`` (default) or zero."""
        for group in self.param_groups:
            for p in group["params"]:
                p._clear_grad(set_to_none)

    def step(self, closure=None):
        """Update every parameter that has a gradient once; returns ``closure()``'s loss.

        Args:
            closure (callable, optional): re-evaluates the model and returns the loss; run
                with grad enabled before the update.

        Runs the step pre-hooks, then per group and parameter with a ``.grad``:
        :meth:`init_state` on the parameter's first step, ``state["step"] += 1`` when the state
        counts steps, :meth:`update`, and a bump of the parameter's version; then the step
        post-hooks. Runs under ``no_grad``.
        """
        for hook in tuple(self._step_pre_hooks.values()):
            r = hook(self, (closure,), {})
            if r is not None:
                (closure,), _ = r
        loss = self._evaluate(closure)
        with no_grad():
            state_of = self.state
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = state_of[p]
                    if not state:
                        self.init_state(state, p, group)
                    if "step" in state:
                        state["step"] += 1
                    self.update(p, state, group)
                    p._bump_version()
        for hook in tuple(self._step_post_hooks.values()):
            hook(self, (closure,), {})
        return loss

    def init_state(self, state, p, group):
        """Fill ``state`` (an empty dict) for parameter ``p`` of ``group`` before its first
        update, under PyTorch's key names; a ``"step"`` entry (start it at 0) is incremented by
        :meth:`step` before each :meth:`update`. Subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__}.init_state")

    def update(self, p, state, group):
        """Update ``p`` in place (``p._data``) from ``p.grad`` and ``state`` with ``group``'s
        hyper-parameters. Subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__}.update")

    def register_step_pre_hook(self, hook):
        """Register ``hook(optimizer, args, kwargs) -> None or (args, kwargs)``, run before each
        :meth:`step` (``torch.optim.Optimizer.register_step_pre_hook``); returns a handle with
        ``remove()``."""
        return add_hook(self._step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """Register ``hook(optimizer, args, kwargs) -> None``, run after each :meth:`step`;
        returns a handle with ``remove()``."""
        return add_hook(self._step_post_hooks, hook)

    @staticmethod
    def _evaluate(closure):
        """Run ``closure`` (re-evaluates the loss) with grad enabled; ``None`` without one."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    @staticmethod
    def _zeros_like(p):
        """A new state Tensor of zeros with ``p``'s shape and dtype."""
        return Tensor(np.zeros_like(p._data))

    def _start_state(self, state, p, *zeros, **values):
        """Fill a new parameter's ``state`` in PyTorch's key order: ``step = 0``, then
        ``values`` (e.g. ``mu_product=1.0``), then a zero tensor like ``p`` under each name of
        ``zeros`` (``"exp_avg"``, ...). The usual body of :meth:`init_state`."""
        state["step"] = 0
        state.update(values)
        for name in zeros:
            state[name] = self._zeros_like(p)

    def state_dict(self):
        """The optimizer's state as a dict: ``state`` (by parameter index) and
        ``param_groups`` (hyper-parameters, ``params`` as indices), as PyTorch's."""
        index = {}
        groups = []
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            packed["params"] = []
            for p in g["params"]:
                index.setdefault(id(p), len(index))
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {}
        for g in self.param_groups:
            for p in g["params"]:
                if p in self.state:
                    state[index[id(p)]] = {k: (v.detach() if isinstance(v, Tensor) else v)
                                           for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore a state from :meth:`state_dict` (values are copied).

        As PyTorch's: the loaded ``param_groups`` replace the groups' hyper-parameters
        (``params`` stay this optimizer's), the saved per-parameter state is matched to the
        parameters by position, and the numbers of groups and of parameters per group must
        agree (PyTorch's ``ValueError`` messages). PyTorch then fails with a raw ``KeyError``
        at the first ``step`` (``'momentum'`` for an SGD given an Adam state) or while loading
        (``'step'`` for an Adam given an SGD state); here that case is refused while loading,
        with a ``KeyError`` naming the missing hyper-parameters: a group must hold every
        default of this optimizer except the flags (bool/``None`` defaults such as
        ``maximize`` or ``foreach``), which are filled in from the defaults as PyTorch's
        ``__setstate__`` does for state dicts of older versions. Differs from PyTorch (which
        fails later, inside ``step``): a state tensor whose shape is not its parameter's
        raises ``ValueError``.

        Raises:
            KeyError: ``'state'`` or ``'param_groups'`` missing, or a group without this
                optimizer's hyper-parameters (a state dict of another optimizer class).
            ValueError: if the number of groups or of parameters per group differs, or a
                state tensor does not have its parameter's shape.
        """
        op = f"{type(self).__name__}.load_state_dict"
        for key in ("state", "param_groups"):
            if not isinstance(state_dict, dict) or key not in state_dict:
                raise KeyError(f"{op}: the state dict has no {key!r} entry (expected the dict "
                               "returned by Optimizer.state_dict())")
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for mine, theirs in zip(self.param_groups, groups):
            if len(mine["params"]) != len(theirs["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't "
                                 "match the size of optimizer's group")
        flags = {k for k, v in self.defaults.items() if v is None or isinstance(v, bool)}
        for i, theirs in enumerate(groups):
            missing = [k for k in self.defaults if k not in theirs and k not in flags]
            if missing:
                held = sorted(k for k in theirs if k != "params")
                raise KeyError(f"{op}: loaded parameter group {i} has no "
                               f"{', '.join(map(repr, missing))}, which "
                               f"{type(self).__name__} needs (is it the state of another "
                               f"optimizer? its group holds {held})")
        saved = state_dict["state"]
        for mine, theirs in zip(self.param_groups, groups):
            for p, idx in zip(mine["params"], theirs["params"]):
                for k, v in saved.get(idx, {}).items():
                    if isinstance(v, Tensor) and v.numel() != 1 and v.shape != p.shape:
                        raise ValueError(f"{op}: state {k!r} of parameter {idx} has shape "
                                         f"{tuple(v.shape)}, but the parameter has shape "
                                         f"{tuple(p.shape)}")
        new_state = defaultdict(dict)
        for mine, theirs in zip(self.param_groups, groups):
            for p, idx in zip(mine["params"], theirs["params"]):
                if idx in saved:
                    new_state[p] = {k: _copy_state_value(v, p) for k, v in saved[idx].items()}
            params = mine["params"]
            mine.clear()   # the same dict objects: schedulers keep theirs
            mine.update({k: v for k, v in theirs.items() if k != "params"})
            mine["params"] = params
            for k in flags:
                mine.setdefault(k, self.defaults[k])
        self.state = new_state

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        lines.append(")")
        return "\n".join(lines)
