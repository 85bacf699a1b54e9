"""``optim.Optimizer``: the base class with PyTorch's shape (``param_groups``, ``defaults``,
``state``, ``zero_grad``, ``step``, ``state_dict``/``load_state_dict``, ``add_param_group``)."""

import copy
from collections import defaultdict

import numpy as np

from autograd import Tensor, enable_grad

__all__ = ["Optimizer"]


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
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad._data[...] = 0

    def step(self, closure=None):
        """Update the parameters once. ``closure`` (optional) re-evaluates the loss and returns
        it; the loss is returned."""
        raise NotImplementedError

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

    def _params_with_grad(self, group):
        for p in group["params"]:
            if p.grad is not None:
                yield p

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
