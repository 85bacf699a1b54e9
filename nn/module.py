"""``nn.Module``: the base class of every layer and model.

Follows ``torch.nn.Module``: parameters, buffers and submodules are registered by attribute
assignment (``__setattr__``), kept in insertion order, and named with dotted paths, so
``state_dict()`` keys match PyTorch's for the same model (``features.0.weight``).
"""

from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy as np

import autograd
from autograd import Tensor
from autograd.utils.hooks import add_hook

from .parameter import Parameter

from autograd.tensor import _require_cpu, _to_dtype_arg  # noqa: E402 - CPU-only checks

__all__ = ["Module", "ModelSummary"]

class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What :meth:`Module.load_state_dict` returns: ``(missing_keys, unexpected_keys)``, lists
    of dotted names (PyTorch's ``_IncompatibleKeys``)."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"_IncompatibleKeys(missing_keys={self.missing_keys}, "
                f"unexpected_keys={self.unexpected_keys})")

    __str__ = __repr__


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
        object.__setattr__(self, "_hook_options", {})  # hook id -> (with_kwargs, always_call)

    def forward(self, *args, **kwargs):
        """Define the computation; called by ``__call__``.

        Raises:
            NotImplementedError: if the subclass did not define it.
        """
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  '"forward" function')

    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks):
            return self.forward(*args, **kwargs)
        options = self._hook_options
        for hid, hook in list(self._forward_pre_hooks.items()):
            if options.get(hid, (False, False))[0]:
                r = hook(self, args, kwargs)
                if r is not None:
                    if not (isinstance(r, tuple) and len(r) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {r}.")
                    args, kwargs = r
                    args = args if isinstance(args, tuple) else (args,)
            else:
                r = hook(self, args)
                if r is not None:
                    args = r if isinstance(r, tuple) else (r,)
        try:
            out = self.forward(*args, **kwargs)
        except BaseException:
            for hid, hook in list(self._forward_hooks.items()):
                with_kwargs, always = options.get(hid, (False, False))
                if always:
                    try:
                        hook(self, args, kwargs, None) if with_kwargs else hook(self, args, None)
                    except Exception:
                        pass
            raise
        for hid, hook in list(self._forward_hooks.items()):
            if options.get(hid, (False, False))[0]:
                r = hook(self, args, kwargs, out)
            else:
                r = hook(self, args, out)
            if r is not None:
                out = r
        return out

    # --- registration ---------------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            # as PyTorch: plain attributes may be set before super().__init__(), parameters and
            # submodules may not (there is nowhere to register them yet)
            if isinstance(value, Parameter):
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            if isinstance(value, Module):
                raise AttributeError("cannot assign module before Module.__init__() call")
            object.__setattr__(self, name, value)
            return
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
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
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
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
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
        if "_modules" not in self.__dict__:
            raise AttributeError("cannot assign module before Module.__init__() call")
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
        if name not in stores[kind] and hasattr(self, name):
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
            p._clear_grad(set_to_none)

    def apply(self, fn):
        """Call ``fn(module)`` on every descendant and then on this module (children first, as
        PyTorch); returns ``self``."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def to(self, *args, **kwargs):
        """Convert floating parameters and buffers to a dtype (``to(autograd.float64)``) and/or
        "move" them to a device (``to(device)``, ``to(device, dtype)``, ``to(tensor)``, the
        keywords ``device``, ``dtype``, ``non_blocking``); in place, returns ``self``.

        The CPU is the only device, so ``to("cpu")`` or ``to(device)`` with a CPU device
        changes nothing. Integer buffers are left unchanged by a dtype conversion, as in
        PyTorch.

        Raises:
            RuntimeError: for any other device ("tapegrad runs on the CPU only ...").
            TypeError: for a non-floating dtype (PyTorch's message).
        """
        dtype = _to_dtype_arg(args, kwargs, f"{type(self).__name__}.to",
                              "Module.to() got unexpected keyword arguments")
        if dtype is None:
            return self
        dtype = autograd.dtypes.to_dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got {dtype}")

        def convert(m):
            for p in m._parameters.values():
                if p is not None and p.dtype.kind == "f" and p.dtype != dtype:
                    p._data = p._data.astype(dtype)
                    if p.grad is not None:
                        p.grad = Tensor(p.grad._data.astype(dtype))
            for k, b in m._buffers.items():
                if b is not None and b.dtype.kind == "f" and b.dtype != dtype:
                    b._data = b._data.astype(dtype)
        return self.apply(convert)

    def float(self):
        """Convert floating parameters and buffers to float32."""
        return self.to(autograd.float32)

    def double(self):
        """Convert floating parameters and buffers to float64."""
        return self.to(autograd.float64)

    def share_memory(self):
        """Move every parameter and buffer (and existing gradients) into shared memory
        (``torch.nn.Module.share_memory``; see :meth:`autograd.Tensor.share_memory_`), so
        processes started with ``autograd.multiprocessing`` that receive this module train
        the same weights (hogwild). Returns ``self``."""
        for p in self.parameters():
            p.share_memory_()
        for b in self.buffers():
            if b is not None:
                b.share_memory_()
        return self

    def cpu(self):
        """Return ``self`` (modules always live on the CPU)."""
        return self

    def cuda(self, device=None):
        """Raises: tapegrad has no GPU backend (``torch.nn.Module.cuda``).

        Raises:
            RuntimeError: always, saying tapegrad runs on the CPU only.
        """
        _require_cpu("cuda", f"{type(self).__name__}.cuda")

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False,
                              always_call=False):
        """Register ``hook(module, args, output) -> output or None``, run after ``forward``
        (``torch.nn.Module.register_forward_hook``); a non-None result replaces the output.

        Args:
            prepend (bool): run this hook before the already registered ones.
            with_kwargs (bool): call ``hook(module, args, kwargs, output)`` instead.
            always_call (bool): also call it (with ``output=None``) when ``forward`` raises.

        Returns:
            a handle whose ``remove()`` unregisters the hook (also a context manager).
        """
        handle = add_hook(self._forward_hooks, hook, prepend, extra_dict=self._hook_options)
        self._hook_options[handle.id] = (with_kwargs, always_call)
        return handle

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Register ``hook(module, args) -> args or None``, run before ``forward``
        (``torch.nn.Module.register_forward_pre_hook``); a non-None result replaces the
        positional arguments (a single value is wrapped in a tuple).

        Args:
            prepend (bool): run this hook before the already registered ones.
            with_kwargs (bool): call ``hook(module, args, kwargs)``, which returns None or a
                new ``(args, kwargs)`` pair.

        Returns:
            a handle whose ``remove()`` unregisters the hook (also a context manager).
        """
        handle = add_hook(self._forward_pre_hooks, hook, prepend, extra_dict=self._hook_options)
        self._hook_options[handle.id] = (with_kwargs, False)
        return handle

    def get_submodule(self, target):
        """The submodule at the dotted path ``target`` (``""`` is ``self``).

        Raises:
            AttributeError: naming the missing part of the path.
        """
        mod = self
        for item in target.split(".") if target else []:
            if item not in mod._modules or mod._modules[item] is None:
                raise AttributeError(f"{type(mod).__name__} has no attribute `{item}`")
            mod = mod._modules[item]
        return mod

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

    def _state_dict_optional_keys(self):
        """Names of this module's own state entries that a loaded state dict may lack (filled
        with their current value, e.g. BatchNorm's ``num_batches_tracked``, as PyTorch does for
        state dicts without version metadata)."""
        return ()

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy values from ``state_dict`` into the parameters and persistent buffers, in place
        (``torch.nn.Module.load_state_dict``).

        Values may be Tensors, NumPy arrays or anything ``numpy.asarray`` accepts (a CPU
        ``torch.Tensor`` too); they are cast to each target's dtype.

        Args:
            state_dict (dict): dotted name -> value, e.g. from :meth:`state_dict` or a
                ``.safetensors`` file written by PyTorch.
            strict (bool): require the keys to match exactly (default True).
            assign (bool): if True, the parameters and buffers take the loaded arrays (cast to
                their dtype) instead of copying into their existing arrays.

        Returns:
            ``_IncompatibleKeys(missing_keys, unexpected_keys)`` (a namedtuple; its repr is
            ``<All keys matched successfully>`` when both are empty).

        Raises:
            RuntimeError: ``Error(s) in loading state_dict for <Class>:`` followed by the
                missing and unexpected keys (``strict=True``) and every shape mismatch (always),
                in PyTorch's wording. Differs from PyTorch: nothing is modified when it raises
                (PyTorch may have copied some entries already).
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        own = self.state_dict(keep_vars=True)
        optional = set()
        for prefix, m in self.named_modules():
            for name in m._state_dict_optional_keys():
                optional.add((prefix + "." if prefix else "") + name)
        missing = [k for k in own if k not in state_dict and k not in optional]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        updates = []
        for k, target in own.items():
            if k not in state_dict:
                continue
            v = state_dict[k]
            if isinstance(v, Tensor):
                arr = v._data
            else:
                try:
                    arr = np.asarray(v)
                except Exception:
                    arr = None
                if arr is None or arr.dtype.kind not in "biuf":
                    errors.append(f'While copying the parameter named "{k}", expected Tensor or '
                                  f"Tensor-like object from checkpoint but received "
                                  f"{type(v)}")
                    continue
            if arr.shape != target.shape:
                errors.append(f"size mismatch for {k}: copying a param with shape "
                              f"{tuple(arr.shape)} from checkpoint, the shape in current model "
                              f"is {tuple(target.shape)}.")
                continue
            updates.append((target, arr))
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        for target, arr in updates:
            if assign:
                target._data = np.array(arr, dtype=target.dtype, copy=True)
            else:
                target._data[...] = arr.astype(target.dtype, copy=False)
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

    # --- summary (tapegrad extension) -----------------------------------------------------------
    def summary(self, input_size, dtype=None, print_fn=print):
        """Print and return a table of the model's layers: name and class, output shape,
        multiply-adds and parameter count, with totals and memory sizes (what Keras'
        ``model.summary()`` and ``torchinfo.summary`` show).

        **tapegrad extension**: ``torch.nn.Module`` has no ``summary`` (the ``torchinfo``
        package offers a similar one).

        It runs one forward pass on a random input of ``input_size`` under ``no_grad`` and in
        eval mode (so BatchNorm statistics and the random generator of Dropout are left alone;
        each module's training flag is restored afterwards), recording every submodule's output
        shape with forward hooks (removed afterwards, even when the forward raises).

        Args:
            input_size (tuple of int, or a list of them): the full input shape including the
                batch dimension, e.g. ``(1, 1, 28, 28)``; a list of shapes for a model that
                takes several inputs.
            dtype: the input dtype (one, or one per input); default the dtype of the first
                floating parameter, else float32. Integer dtypes give zero inputs (e.g. token
                indices for an Embedding).
            print_fn (callable or None): called with the table text (default ``print``);
                ``None`` prints nothing.

        Returns:
            ModelSummary: ``rows`` (``(name, class_name, output_shape, num_params)``, one per
            submodule in registration order, plus a first ``"(model)"`` row when the model
            itself holds parameters or has no children; ``output_shape`` is None for a module
            the forward did not call, ``num_params`` counts the parameters registered directly
            on the module, each shared parameter once, and is None for a container without
            parameters of its own), ``total_params``, ``trainable_params``,
            ``non_trainable_params``; ``mult_adds`` (one per row: the multiply-adds of the
            matrix products, convolutions, attention and recurrent layers the module ran
            itself, without its children's, counted by :mod:`autograd.profiler`, or None when
            another profiler was recording), ``total_mult_adds``, and the sizes in bytes that
            torchinfo reports: ``input_size_bytes``, ``params_size_bytes`` (parameters and
            buffers), ``forward_backward_pass_size_bytes`` (twice the outputs of the modules
            without children: the activations and their gradients) and
            ``estimated_total_size_bytes``; ``str()`` gives the table.

        Raises:
            TypeError: if ``input_size`` is not a shape or a list of shapes.

        Example::

            >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
            >>> s = model.summary((32, 4))
            >>> s.total_params
            58
        """
        return _summary(self, input_size, dtype, print_fn)


def _is_shape(x):
    return isinstance(x, (tuple, list)) and all(
        isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in x)


def _output_shape(out):
    if isinstance(out, Tensor):
        return tuple(out.shape)
    if isinstance(out, (tuple, list)):
        return [_output_shape(o) for o in out]
    if isinstance(out, dict):
        return {k: _output_shape(v) for k, v in out.items()}
    return type(out).__name__


def _output_bytes(out):
    if isinstance(out, Tensor):
        return out._data.nbytes
    if isinstance(out, (tuple, list)):
        return sum(_output_bytes(o) for o in out)
    if isinstance(out, dict):
        return sum(_output_bytes(o) for o in out.values())
    return 0


class ModelSummary:
    """The result of :meth:`Module.summary` (tapegrad extension): ``rows``, ``mult_adds``,
    ``total_params``, ``trainable_params``, ``non_trainable_params``, ``total_mult_adds``, the
    ``*_bytes`` sizes, ``model_name``; ``str()`` is the table."""

    def __init__(self, model_name, rows, total, trainable, mult_adds=None, total_mult_adds=None,
                 sizes=None):
        self.model_name = model_name
        self.rows = rows
        self.total_params = total
        self.trainable_params = trainable
        self.non_trainable_params = total - trainable
        self.mult_adds = list(mult_adds) if mult_adds is not None else [None] * len(rows)
        self.total_mult_adds = total_mult_adds
        sizes = sizes or {}
        self.input_size_bytes = sizes.get("input", 0)
        self.params_size_bytes = sizes.get("params", 0)
        self.forward_backward_pass_size_bytes = sizes.get("forward_backward", 0)
        self.estimated_total_size_bytes = (self.input_size_bytes + self.params_size_bytes
                                           + self.forward_backward_pass_size_bytes)

    def __str__(self):
        head = ("Layer (type)", "Output Shape", "Mult-Adds", "Param #")
        body = []
        for (name, cls, shape, n), macs in zip(self.rows, self.mult_adds):
            body.append((f"{name} ({cls})", "--" if shape is None else str(shape),
                         f"{macs:,}" if macs else "--",
                         f"{n:,}" if n else "--" if n is None else "0"))
        widths = [max([len(head[i])] + [len(r[i]) for r in body]) for i in range(4)]
        width = sum(widths) + 9

        def line(r):
            return (f"{r[0]:<{widths[0]}}   {r[1]:<{widths[1]}}   {r[2]:>{widths[2]}}   "
                    f"{r[3]:>{widths[3]}}")

        def mb(n):
            return f"{n / 1e6:.2f}"
        out = [f'Model: "{self.model_name}"', "=" * width, line(head), "=" * width]
        out += [line(r) for r in body]
        out += ["=" * width, f"Total params: {self.total_params:,}",
                f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.non_trainable_params:,}"]
        if self.total_mult_adds is not None:
            out.append(f"Total mult-adds (M): {self.total_mult_adds / 1e6:.2f}")
        out += ["=" * width, f"Input size (MB): {mb(self.input_size_bytes)}",
                f"Forward/backward pass size (MB): {mb(self.forward_backward_pass_size_bytes)}",
                f"Params size (MB): {mb(self.params_size_bytes)}",
                f"Estimated Total Size (MB): {mb(self.estimated_total_size_bytes)}",
                "=" * width]
        return "\n".join(out)

    def __repr__(self):
        return (f"ModelSummary(model={self.model_name!r}, total_params={self.total_params}, "
                f"trainable_params={self.trainable_params}, "
                f"non_trainable_params={self.non_trainable_params})")


def _summary(model, input_size, dtype, print_fn):
    if _is_shape(input_size):
        sizes = [tuple(int(n) for n in input_size)]
    elif isinstance(input_size, (tuple, list)) and input_size and all(
            _is_shape(x) for x in input_size):
        sizes = [tuple(int(n) for n in x) for x in input_size]
    else:
        raise TypeError("summary: input_size must be a shape such as (1, 3, 32, 32) or a list "
                        f"of shapes, got {input_size!r}")
    if dtype is None:
        dtype = next((p.dtype for p in model.parameters() if p.dtype.kind == "f"),
                     autograd.float32)
    dtypes = list(dtype) if isinstance(dtype, (tuple, list)) else [dtype] * len(sizes)
    if len(dtypes) != len(sizes):
        raise TypeError(f"summary: got {len(dtypes)} dtypes for {len(sizes)} inputs")
    inputs = []
    for size, dt in zip(sizes, dtypes):
        dt = autograd.dtypes.to_dtype(dt)
        if dt.kind == "f":
            inputs.append(autograd.randn(*size, dtype=dt))
        else:
            inputs.append(autograd.zeros(*size, dtype=dt))
    from autograd.profiler import _FlopCounter
    modules = [(name, m) for name, m in model.named_modules() if name]
    shapes = {}
    flops = {}        # name -> FLOPs of the ops run inside the module's forward (first call)
    out_bytes = [0]   # outputs of the modules without children (torchinfo's pass size)
    handles = []
    counter = _FlopCounter()
    for name, m in [("", model)] + modules:
        leaf = not any(c is not None for c in m._modules.values())

        def pre_hook(mod, args, name=name):
            mod.__dict__.setdefault("_summary_marks", []).append(counter.mark())

        def hook(mod, args, out, name=name, leaf=leaf):
            start = mod.__dict__["_summary_marks"].pop()
            if name not in shapes:
                shapes[name] = _output_shape(out)
                flops[name] = counter.flops_since(start)
                if leaf:
                    out_bytes[0] += _output_bytes(out)
        handles.append(m.register_forward_pre_hook(pre_hook))
        handles.append(m.register_forward_hook(hook))
    flags = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        with autograd.no_grad(), counter:
            model(*inputs)
    finally:
        for _, m in [("", model)] + modules:
            m.__dict__.pop("_summary_marks", None)
        for h in handles:
            h.remove()
        for m, flag in flags:
            object.__setattr__(m, "training", flag)
    seen = set()
    rows = []
    for name, m in [("", model)] + modules:
        n = 0
        for p in m._parameters.values():
            if p is not None and id(p) not in seen:
                seen.add(id(p))
                n += p.numel()
        has_children = any(c is not None for c in m._modules.values())
        if not name:  # the model itself: a row only when it holds parameters or is a leaf
            if n or not has_children:
                rows.append(("(model)", type(m).__name__, shapes.get(name), n))
            continue
        rows.append((name, type(m).__name__, shapes.get(name),
                     None if (n == 0 and has_children) else n))
    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    mult_adds = total_macs = None
    if counter.available:
        # a module's own multiply-adds: its ops' minus its direct children's (each counted once)
        children = {name: [f"{name}.{c}" if name else c for c, sub in m._modules.items()
                           if sub is not None] for name, m in [("", model)] + modules}
        own = {name: flops[name] - sum(flops.get(c, 0) for c in children[name])
               for name in flops}
        names = ([""] if rows and rows[0][0] == "(model)" else []) + [n for n, _ in modules]
        mult_adds = [own[name] // 2 if name in own else None for name in names]
        total_macs = sum(own.values()) // 2  # the model's own ops count even without a row
    sizes = {"input": sum(t._data.nbytes for t in inputs),
             "params": sum(p._data.nbytes for p in params)
             + sum(b._data.nbytes for b in model.buffers()),
             "forward_backward": 2 * out_bytes[0]}
    result = ModelSummary(type(model).__name__, rows, total, trainable, mult_adds, total_macs,
                          sizes)
    if print_fn is not None:
        print_fn(str(result))
    return result
