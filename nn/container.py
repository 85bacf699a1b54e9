"""Containers: ``Sequential``, ``ModuleList``, ``ModuleDict``, ``ParameterList``,
``ParameterDict`` (``torch.nn``'s containers; registered names, hence ``state_dict`` keys, as
PyTorch's: list items are named ``0, 1, ...``, dict items by their keys)."""

from collections import OrderedDict
from collections.abc import Mapping

from autograd import Tensor
from autograd.dtypes import dtype_name

from .module import Module
from .parameter import Parameter

__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]


def _addindent(text, spaces):
    """Indent every line of ``text`` but the first by ``spaces`` spaces (PyTorch's repr)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class _ModuleSequence(Module):
    """Shared by Sequential and ModuleList: children named ``0, 1, ...`` (or by key), ``len``,
    iteration over the modules, ``append`` and the index check with PyTorch-style wording."""

    _kind = ""  # the class named in the index error

    def _index(self, idx):
        n = len(self._modules)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for a {self._kind} of length {n}")
        return idx % n

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Add ``module`` at the end; returns ``self``."""
        self.add_module(str(len(self)), module)
        return self


class Sequential(_ModuleSequence):
    """Modules applied in order (``torch.nn.Sequential``); children are named ``0, 1, ...``
    or by the keys of an ``OrderedDict``.

    Supports indexing (an int gives the module, a slice a new Sequential), item assignment and
    deletion, ``len``, iteration and ``append``.

    Example::

        model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
        model[0]        # Linear(in_features=784, out_features=128, bias=True)
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, m in args[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    _kind = "Sequential"

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[self._index(idx)]

    def __setitem__(self, idx, module):
        key = list(self._modules.keys())[self._index(idx)]
        self.add_module(key, module)

    def __delitem__(self, idx):
        if isinstance(idx, slice):
            keys = list(self._modules.keys())[idx]
        else:
            keys = [list(self._modules.keys())[self._index(idx)]]
        for k in keys:
            del self._modules[k]
        # renumber like PyTorch
        items = list(self._modules.items())
        self._modules.clear()
        for i, (k, m) in enumerate(items):
            self._modules[str(i) if k.isdigit() else k] = m

    def forward(self, input):
        for m in self._modules.values():
            input = m(input)
        return input


class ModuleList(_ModuleSequence):
    """A list of modules, registered so their parameters are found (``torch.nn.ModuleList``).

    Supports indexing, assignment, ``len``, iteration, ``append``, ``extend`` and ``insert``.
    """

    _kind = "ModuleList"

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return self._modules[str(self._index(idx))]

    def __setitem__(self, idx, module):
        self.add_module(str(self._index(idx)), module)

    def extend(self, modules):
        """Append every module of an iterable; returns ``self``."""
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        """Insert ``module`` before ``index``."""
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)

    def __delitem__(self, idx):
        items = list(self._modules.values())
        del items[idx if isinstance(idx, slice) else self._index(idx)]
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)

    def pop(self, key):
        """Remove and return the module at index ``key``."""
        m = self[key]
        del self[key]
        return m

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList(list(self) + list(other))

    def __repr__(self):
        """PyTorch's compact form: consecutive identical children print once as
        ``(0-2): 3 x Linear(...)``."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return type(self).__name__ + "()"
        blocks = []  # [start, end, text]
        for i, r in enumerate(reprs):
            if blocks and blocks[-1][2] == r:
                blocks[-1][1] = i
            else:
                blocks.append([i, i, r])
        lines = []
        for start, end, text in blocks:
            head = f"({start}): " if start == end else f"({start}-{end}): {end - start + 1} x "
            lines.append(_addindent(head + text, 2))
        return type(self).__name__ + "(\n  " + "\n  ".join(lines) + "\n)"


class _KeyedContainer(Module):
    """ModuleDict and ParameterDict: ``len``, iteration over the keys, ``in``, ``keys`` and
    ``pop``, over the ordered dict ``_key_order()`` whose keys are the container's."""

    def _key_order(self):
        raise NotImplementedError

    def __len__(self):
        return len(self._key_order())

    def __iter__(self):
        return iter(self._key_order())

    def __contains__(self, key):
        return key in self._key_order()

    def keys(self):
        """The keys, in insertion order."""
        return self._key_order().keys()

    def pop(self, key):
        """Remove ``key`` and return its value."""
        value = self[key]
        del self[key]
        return value


def _set_pairs(container, pairs, method, element, pair):
    """``container[key] = value`` for each ``(key, value)`` of the iterable ``pairs`` (the
    ``update`` of ModuleDict and ParameterDict), with PyTorch's ``TypeError`` messages:
    ``method`` is named when ``pairs`` is not iterable, ``element`` and ``pair`` (the words
    inside the parentheses) for an element that is not a pair."""
    try:
        items = list(pairs)
    except TypeError:
        raise TypeError(f"{method} should be called with an iterable of key/value pairs, but "
                        f"got {type(pairs).__name__}") from None
    for j, kv in enumerate(items):
        if not isinstance(kv, (tuple, list)) or len(kv) != 2:
            raise TypeError(f"{element} update sequence element #{j} should be a ({pair}) pair "
                            "of length 2")
        container[kv[0]] = kv[1]


class ModuleDict(_KeyedContainer):
    """An ordered dict of modules, registered under their keys (``torch.nn.ModuleDict``).

    Args:
        modules (mapping or iterable of (str, Module) pairs, optional): initial items.

    Supports ``d[key]``, assignment, ``del``, ``len``, iteration over keys, ``in``, ``keys``,
    ``values``, ``items``, ``update``, ``pop`` and ``clear``. ``state_dict`` keys are
    ``<key>.<param>``.

    Raises:
        KeyError: for a key with a dot, an empty key, or one that names another attribute.
        TypeError: for a value that is not a Module.

    Example::

        >>> d = nn.ModuleDict({"conv": nn.Conv2d(1, 8, 3), "act": nn.ReLU()})
        >>> list(d.keys())
        ['conv', 'act']
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def _key_order(self):
        return self._modules

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]


    def clear(self):
        """Remove every item."""
        self._modules.clear()

    def items(self):
        """``(key, module)`` pairs."""
        return self._modules.items()

    def values(self):
        """The modules."""
        return self._modules.values()

    def update(self, modules):
        """Add or replace items from a mapping or an iterable of ``(key, module)`` pairs.

        Raises:
            TypeError: if ``modules`` is neither, or an element is not a pair.
        """
        if isinstance(modules, (Mapping, ModuleDict)):
            for k, m in modules.items():
                self[k] = m
            return
        _set_pairs(self, modules, "ModuleDict.update", "ModuleDict", "key, module")


def _param_line(key, value):
    if isinstance(value, Tensor):
        size = "x".join(str(n) for n in value.shape)
        kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
        return f"  ({key}): {kind} containing: [autograd.{dtype_name(value.dtype)} of size {size}]"
    return f"  ({key}): Object of type: {type(value).__name__}"


class ParameterList(Module):
    """A list of parameters, registered as ``0, 1, ...`` (``torch.nn.ParameterList``).

    A plain Tensor that is added is wrapped in a :class:`Parameter` (as PyTorch); other
    objects are kept as they are, unregistered.

    Args:
        values (iterable, optional): initial items.

    Supports indexing (a slice gives a new ParameterList), assignment, ``len``, iteration,
    ``append`` and ``extend``.

    Raises:
        IndexError: for an index out of range.

    Example::

        >>> ps = nn.ParameterList([nn.Parameter(autograd.randn(10, 10)) for _ in range(3)])
        >>> list(ps.state_dict())
        ['0', '1', '2']
    """

    def __init__(self, values=None):
        super().__init__()
        object.__setattr__(self, "_size", 0)
        if values is not None:
            self += values

    def _index(self, idx):
        n = self._size
        idx = int(idx)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for a ParameterList of length {n}")
        return idx % n

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList([self[i] for i in range(self._size)[idx]])
        return getattr(self, str(self._index(idx)))

    def __setitem__(self, idx, param):
        idx = self._index(idx)
        if isinstance(param, Tensor) and not isinstance(param, Parameter):
            param = Parameter(param)
        key = str(idx)
        if isinstance(param, Parameter) or key in self._parameters:
            if key in self.__dict__:
                del self.__dict__[key]
            setattr(self, key, param)
        else:
            self._parameters.pop(key, None)
            object.__setattr__(self, key, param)

    def __len__(self):
        return self._size

    def __iter__(self):
        return iter(self[i] for i in range(self._size))

    def __iadd__(self, parameters):
        return self.extend(parameters)

    def append(self, value):
        """Add ``value`` at the end; returns ``self``."""
        n = self._size
        object.__setattr__(self, "_size", n + 1)
        self[n] = value
        return self

    def extend(self, values):
        """Append every element of an iterable; returns ``self``.

        Raises:
            TypeError: if ``values`` is not iterable (or is a single Tensor).
        """
        if isinstance(values, Tensor) or not hasattr(values, "__iter__"):
            raise TypeError("ParameterList.extend should be called with an iterable, but got "
                            + type(values).__name__)
        for v in values:
            self.append(v)
        return self

    def extra_repr(self):
        return "\n".join(_param_line(i, p) for i, p in enumerate(self))

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(_KeyedContainer):
    """An ordered dict of parameters, registered under their keys
    (``torch.nn.ParameterDict``).

    A plain Tensor that is added is wrapped in a :class:`Parameter` (as PyTorch); other
    objects are kept unregistered. ``state_dict`` keys are the dict keys.

    Args:
        parameters (mapping or iterable of (str, value) pairs, optional): initial items.

    Supports ``d[key]``, assignment, ``del``, ``len``, iteration over keys, ``in``, ``keys``,
    ``values``, ``items``, ``get``, ``update``, ``pop``, ``setdefault``, ``copy`` and
    ``clear``.

    Raises:
        KeyError: for a missing key, a key with a dot, or one that names another attribute.

    Example::

        >>> pd = nn.ParameterDict({"scale": nn.Parameter(autograd.ones(3))})
        >>> list(pd.state_dict())
        ['scale']
    """

    def __init__(self, parameters=None):
        super().__init__()
        object.__setattr__(self, "_keys", {})
        if parameters is not None:
            self.update(parameters)

    def _key_order(self):
        return self._keys

    def __getitem__(self, key):
        if key not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key, value):
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict keys must be strings, got {type(key).__name__}")
        if isinstance(value, Tensor) and not isinstance(value, Parameter):
            value = Parameter(value)
        if key in self._keys:  # replacing an item: forget the old value first
            self.__dict__.pop(key, None)
            self._parameters.pop(key, None)
        if isinstance(value, Parameter) or value is None:
            self.register_parameter(key, value)
        else:
            self._check_name(key, "parameter")
            self._parameters.pop(key, None)
            object.__setattr__(self, key, value)
        self._keys[key] = None

    def __delitem__(self, key):
        del self._keys[key]
        delattr(self, key)

    def values(self):
        """The values, in key order."""
        return [self[k] for k in self._keys]

    def items(self):
        """``(key, value)`` pairs."""
        return [(k, self[k]) for k in self._keys]

    def get(self, key, default=None):
        """``self[key]`` if present, else ``default``."""
        return self[key] if key in self else default

    def setdefault(self, key, default=None):
        """``self[key]``, first setting it to ``default`` if absent."""
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self):
        """Remove every item."""
        for k in list(self._keys):
            del self[k]

    def copy(self):
        """A shallow copy (the same Parameter objects)."""
        return ParameterDict(OrderedDict(self.items()))

    def update(self, parameters):
        """Add or replace items from a mapping or an iterable of ``(key, value)`` pairs. A plain
        (unordered) mapping is added in sorted key order, as PyTorch.

        Raises:
            TypeError: if ``parameters`` is neither, or an element is not a pair.
        """
        if isinstance(parameters, (Mapping, ParameterDict)):
            items = parameters.items()
            if not isinstance(parameters, (OrderedDict, ParameterDict)):
                items = sorted(items)  # as PyTorch: a plain mapping is added in key order
            for k, v in items:
                self[k] = v
            return
        _set_pairs(self, parameters, "ParametersDict.update", "ParameterDict", "key, value")

    def extra_repr(self):
        return "\n".join(_param_line(k, v) for k, v in self.items())

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterDict should not be called.")
