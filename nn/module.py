"""``nn.Module``: the base class of every layer and model.

Follows ``torch.nn.Module``: parameters, buffers and submodules are registered by attribute
assignment (``__setattr__``), kept in insertion order, and named with dotted paths, so
``state_dict()`` keys match PyTorch's for the same model (``features.0.weight``).
"""

from collections import OrderedDict, namedtuple

import numpy as np

import autograd
from autograd import Tensor

from .parameter import Parameter

__all__ = ["Module"]

_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class for all neural-network modules (``torch.nn.Module``).

    Subclasses call ``super().__init__()`` first, assign their parameters, buffers and
    submodules as attributes, and define ``forward``. Calling the module runs the forward
    pre-hooks, ``forward`` and the forward hooks.

    Attributes:
        training (bool): training or evaluation mode (changes Dropout, BatchNorm...).

    Example::

        class MLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(784, 128)
                self.fc2 = nn.Linear(128, 10)

            def forward(self, x):
                return self.fc2(autograd.relu(self.fc1(x)))
    """

    training: bool

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())

    def forward(self, *args, **kwargs):
        """Define the computation; called by ``__call__``.

        Raises:
            NotImplementedError: if the subclass did not define it.
        """
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  '"forward" function')

    def __call__(self, *args, **kwargs):
        if self._forward_pre_hooks:
            for hook in list(self._forward_pre_hooks.values()):
                r = hook(self, args)
                if r is not None:
                    args = r if isinstance(r, tuple) else (r,)
        out = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                r = hook(self, args, out)
                if r is not None:
                    out = r
        return out

    # --- registration ---------------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign module attributes before Module.__init__() call")
        params = self._parameters
        if isinstance(value, Parameter):
            self._remove_from(name, self._buffers, self._modules)
            self.register_parameter(name, value)
        elif name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            self._remove_from(name, self._parameters, self._buffers)
            self._modules[name] = value
            self.__dict__.pop(name, None)
        elif name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (nn.Module or None expected)")
            self._modules[name] = None
        elif name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _remove_from(self, name, *dicts):
        for d in dicts:
            d.pop(name, None)
        self.__dict__.pop(name, None)

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    def register_parameter(self, name, param):
        """Register ``param`` (a :class:`Parameter` or ``None``) under ``name``.

        Raises:
            TypeError: if ``param`` is not a Parameter or None.
            KeyError: for an empty name, a name with a dot, or one that is another attribute.
        """
        self._check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model "
                             "parameters must be created explicitly.")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Register a non-learnable tensor (e.g. running statistics) under ``name``; it is in
        ``state_dict()`` unless ``persistent=False``.

        Raises:
            TypeError: if ``tensor`` is not a Tensor or None.
            KeyError: for an invalid or already used name.
        """
        self._check_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name, module):
        """Register the child ``module`` under ``name``.

        Raises:
            TypeError: if ``module`` is not a Module or None.
        """
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module")
        self._modules[name] = module

    register_module = add_module

    def _check_name(self, name, kind):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain "."')
        stores = {"parameter": self._parameters, "buffer": self._buffers,
                  "module": self._modules}
        if name in self.__dict__ and name not in stores[kind]:
            raise KeyError(f"attribute '{name}' already exists")

    # --- traversal ------------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Yield ``(name, module)`` for this module and all descendants, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            yield from m.named_modules(memo, prefix + ("." if prefix else "") + name,
                                       remove_duplicate)

    def modules(self):
        """Yield this module and all descendants."""
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        """Yield ``(name, module)`` for the direct children."""
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        """Yield the direct child modules."""
        for _, m in self.named_children():
            yield m

    def _named_members(self, get, prefix, recurse, remove_duplicate=True):
        seen = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_prefix, m in mods:
            for name, v in get(m):
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield mod_prefix + ("." if mod_prefix else "") + name, v

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield ``(dotted_name, Parameter)``; shared parameters are listed once."""
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse,
                                       remove_duplicate)

    def parameters(self, recurse=True):
        """Yield the parameters (for an optimizer)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield ``(dotted_name, Tensor)`` for every buffer."""
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse,
                                       remove_duplicate)

    def buffers(self, recurse=True):
        """Yield the buffers."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # --- modes and utilities --------------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode on this module and its descendants; returns ``self``.

        Raises:
            ValueError: if ``mode`` is not a bool.
        """
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        """Set evaluation mode (``train(False)``); returns ``self``."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` of every parameter; returns ``self``."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters: to ``None`` (default, as PyTorch 2) or to
        zeros."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.data[...] = 0

    def apply(self, fn):
        """Call ``fn(module)`` on every descendant and then on this module (children first, as
        PyTorch); returns ``self``."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def to(self, *args, **kwargs):
        """Convert floating parameters and buffers to a dtype (``to(autograd.float64)``) or
        "move" to a device (only ``'cpu'``); in place, returns ``self``.

        Differs from PyTorch: integer buffers are left unchanged by a dtype conversion, as in
        PyTorch, and the device argument is only validated.
        """
        dtype = kwargs.get("dtype")
        for a in args:
            if isinstance(a, (str, autograd.device)):
                autograd.device(a)
            elif isinstance(a, Tensor):
                dtype = a.dtype
            else:
                dtype = a
        if "device" in kwargs and kwargs["device"] is not None:
            autograd.device(kwargs["device"])
        if dtype is None:
            return self
        dtype = autograd.dtypes.to_dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got {dtype}")

        def convert(m):
            for p in m._parameters.values():
                if p is not None and p.dtype.kind == "f" and p.dtype != dtype:
                    p.data = p.data.astype(dtype)
                    if p.grad is not None:
                        p.grad = Tensor(p.grad.data.astype(dtype))
            for k, b in m._buffers.items():
                if b is not None and b.dtype.kind == "f" and b.dtype != dtype:
                    b.data = b.data.astype(dtype)
        return self.apply(convert)

    def float(self):
        """Convert floating parameters and buffers to float32."""
        return self.to(autograd.float32)

    def double(self):
        """Convert floating parameters and buffers to float64."""
        return self.to(autograd.float64)

    def cpu(self):
        """Return ``self`` (modules always live on the CPU)."""
        return self

    def register_forward_hook(self, hook):
        """``hook(module, args, output) -> output or None``, run after ``forward``; returns a
        handle with ``remove()``."""
        return _Handle(self._forward_hooks, hook)

    def register_forward_pre_hook(self, hook):
        """``hook(module, args) -> args or None``, run before ``forward``; returns a handle."""
        return _Handle(self._forward_pre_hooks, hook)

    # --- state ----------------------------------------------------------------------------------
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """An ordered dict of every parameter and persistent buffer, by dotted name.

        Values are detached tensors sharing memory with the module's (``keep_vars=True``
        returns the Parameters themselves), as in PyTorch.
        """
        if destination is None:
            destination = OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy values from ``state_dict`` into the parameters and buffers (in place).

        Args:
            state_dict (dict): name -> Tensor or NumPy array.
            strict (bool): require the keys to match exactly.
            assign (bool): accepted for PyTorch compatibility; values are always copied.

        Returns:
            ``IncompatibleKeys(missing_keys, unexpected_keys)``.

        Raises:
            RuntimeError: listing missing and unexpected keys (``strict=True``) and every shape
                mismatch; nothing is modified when it raises.
        """
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        updates = []
        for k, target in own.items():
            if k not in state_dict:
                continue
            v = state_dict[k]
            arr = v.data if isinstance(v, Tensor) else np.asarray(v)
            if arr.shape != target.shape:
                errors.append(f"size mismatch for {k}: copying a param with shape "
                              f"{tuple(arr.shape)} from checkpoint, the shape in current model "
                              f"is {tuple(target.shape)}.")
                continue
            updates.append((target, arr))
        if strict and (missing or unexpected):
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ".")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ".")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        for target, arr in updates:
            target.data[...] = arr.astype(target.dtype, copy=False)
            target._bump_version()
        return _IncompatibleKeys(missing, unexpected)

    # --- printing -------------------------------------------------------------------------------
    def extra_repr(self):
        """The text inside this module's parentheses in ``repr`` (override in layers)."""
        return ""

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, m in self._modules.items():
            text = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {text}")
        main = type(self).__name__ + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"


class _Handle:
    _next_id = 0

    def __init__(self, store, hook):
        self.store = store
        self.id = _Handle._next_id
        _Handle._next_id += 1
        store[self.id] = hook

    def remove(self):
        """Unregister the hook."""
        self.store.pop(self.id, None)
