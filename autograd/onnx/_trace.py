"""Tracing one forward pass: every op call the model makes, in order, with its arguments.

While a trace records, ``Node.apply`` (every op of the library) is swapped for a version that
calls the original and appends ``(op class, args, attrs, output)`` to the trace; so are the two
helpers through which tensors are made without a graph node (comparisons, and casts of tensors
that need no gradient), so that masks computed from the input stay in the exported graph. The
originals are put back when the trace ends (nothing changes on the op path otherwise). This
module does not import ``onnx``: ``SummaryWriter.add_graph`` uses it too.

The model's floating inputs are handed in as tensors that require grad (non-leaf copies, so
in-place ops on them are allowed): then every op on the path from the inputs is a recorded
node, and the fast paths that ops take for tensors without grad (plain NumPy indexing, for
example) are not taken.
"""

import dataclasses
import inspect
import numbers

import numpy as np

from .. import grad_mode
from .. import graph as _graph
from ..ops import comparison as _comparison, unary as _unary
from ..tensor import Tensor

__all__ = ["Record", "Trace", "trace", "Compare", "Predicate"]


class Compare:
    """Stands for a comparison or logical op in a trace (they have no graph node):
    ``attrs['ufunc']`` is the NumPy ufunc."""

    __name__ = "Compare"


@dataclasses.dataclass(slots=True, eq=False)
class Record:
    """One op call: ``cls`` (a Node subclass, or :class:`Compare`), ``args`` (as passed to
    ``apply``: Tensors, arrays, numbers, tuples...), ``attrs`` (keyword arguments), ``out``
    (the result Tensor) and ``index`` (its place in the trace). Compared by identity."""

    cls: type
    args: tuple
    attrs: dict
    out: Tensor
    index: int

    @property
    def name(self):
        return self.cls.__name__

    def __repr__(self):
        return f"<Record {self.index}: {self.name} -> {tuple(self.out.shape)}>"


class Trace:
    """What :func:`trace` returns: ``records`` (list of :class:`Record`), ``inputs`` (the
    tensors the model was called with), ``outputs`` (the flattened output tensors),
    ``structure`` (the nesting of the outputs: a Tensor, or a tuple/list of structures) and
    ``names`` (id of a parameter or buffer array -> its ``state_dict`` name)."""

    def __init__(self):
        self.records = []
        self.inputs = []
        self.outputs = []
        self.structure = None
        self.names = {}


_active = []  # the traces being recorded (a stack; the innermost records)


def _apply_traced(cls, *args, **attrs):
    out = _ORIG_APPLY.__func__(cls, *args, **attrs)
    tr = _active[-1]
    tr.records.append(Record(cls, args, attrs, out, len(tr.records)))
    return out


def _compare_traced(ufunc, a, b, op=None):
    out = _ORIG["_compare"](ufunc, a, b, op)
    tr = _active[-1]
    tr.records.append(Record(Compare, (a, b), {"ufunc": ufunc}, out, len(tr.records)))
    return out


def _cast_traced(input, dtype):
    out = _ORIG["cast"](input, dtype)
    if out.grad_fn is None:  # no Cast node was made (and recorded): record the cast itself
        tr = _active[-1]
        tr.records.append(Record(_unary.Cast, (input, dtype), {}, out, len(tr.records)))
    return out


class Predicate:
    """Stands for ``isnan``/``isinf``/``isfinite``/``logical_not`` in a trace (no graph node):
    ``attrs['fn']`` is the function's name."""

    __name__ = "Predicate"


def _predicate(name):
    def traced(input):
        out = _ORIG[name](input)
        tr = _active[-1]
        tr.records.append(Record(Predicate, (input,), {"fn": name}, out, len(tr.records)))
        return out
    traced.__name__ = name
    return traced


_PREDICATES = ("isnan", "isinf", "isfinite", "logical_not")
_ORIG_APPLY = None
_ORIG = {}
_PATCHED = []  # (owner, attribute, original)


def _patch(owner, attr, value):
    _PATCHED.append((owner, attr, owner.__dict__[attr] if isinstance(owner, type)
                     else getattr(owner, attr)))
    setattr(owner, attr, value)


def _install():
    """Swap the recording versions in: ``Node.apply``, and the functions that make tensors
    without a node, wherever the library looks them up (the op module, the ``autograd.ops``
    namespace, ``Tensor`` methods)."""
    global _ORIG_APPLY
    from .. import ops as _ops
    _ORIG_APPLY = _graph.Node.__dict__["apply"]
    _patch(_graph.Node, "apply", classmethod(_apply_traced))
    _ORIG["_compare"] = _comparison._compare
    _patch(_comparison, "_compare", _compare_traced)
    _ORIG["cast"] = _unary.cast
    for owner in (_unary, _ops):
        _patch(owner, "cast", _cast_traced)
    for name in _PREDICATES:
        fn = getattr(_comparison, name)
        _ORIG[name] = fn
        traced = _predicate(name)
        for owner in (_comparison, _ops):
            if getattr(owner, name, None) is fn:
                _patch(owner, name, traced)
        if Tensor.__dict__.get(name) is fn:
            _patch(Tensor, name, traced)


def _uninstall():
    while _PATCHED:
        owner, attr, value = _PATCHED.pop()
        setattr(owner, attr, value)


def _flatten(obj, out):
    """Flatten a model's output (Tensors in nested tuples/lists; None kept out) into ``out``;
    returns its structure."""
    if isinstance(obj, Tensor):
        out.append(obj)
        return len(out) - 1
    if isinstance(obj, (tuple, list)):
        return type(obj)(_flatten(o, out) for o in obj)
    if obj is None:
        return None
    raise TypeError(f"onnx.export: the model returned a {type(obj).__name__}; only Tensors "
                    "and (nested) tuples or lists of Tensors can be exported")


def _stand_in(t):
    """The tensor the model sees for input ``t``: floating inputs require grad (a non-leaf
    copy over the same memory) so that every op on them is a recorded node."""
    if t._data.dtype.kind == "f":
        leaf = Tensor._make(t._data, True, None)
        with grad_mode.enable_grad():
            return _unary.Clone.apply(leaf)
    return Tensor._make(t._data, False, None)


def split_args(args):
    """``(positional Tensors, keyword Tensors)`` of PyTorch's ``args``: a Tensor, or a tuple
    whose last element may be a dict of keyword arguments."""
    if isinstance(args, Tensor):
        return [args], {}
    if not isinstance(args, (tuple, list)):
        raise TypeError(f"onnx.export: args must be a Tensor or a tuple of Tensors (optionally "
                        f"ending with a dict of keyword arguments), got {type(args).__name__}")
    args = list(args)
    kwargs = {}
    if args and isinstance(args[-1], dict):
        kwargs = dict(args.pop())
    for i, a in enumerate(args):
        if not isinstance(a, Tensor):
            raise TypeError(f"onnx.export: args[{i}] is a {type(a).__name__}; every model input "
                            "must be a Tensor")
    for k, a in kwargs.items():
        if not isinstance(a, Tensor):
            raise TypeError(f"onnx.export: keyword argument {k!r} is a {type(a).__name__}; "
                            "every model input must be a Tensor")
    return args, kwargs


def input_names_of(model, n_pos, kwargs):
    """Default input names: the forward's parameter names where they can be read."""
    fn = getattr(model, "forward", model)
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        names = [p.name for p in params[:n_pos]]
    except (TypeError, ValueError):
        names = []
    if len(names) < n_pos:
        names = [f"input_{i}" for i in range(n_pos)]
    return names + list(kwargs)


def state_names(model):
    """id of each parameter/buffer array -> its name (``named_parameters``/``named_buffers``
    of a Module; nothing for a plain function)."""
    names = {}
    for attr in ("named_parameters", "named_buffers"):
        fn = getattr(model, attr, None)
        if callable(fn):
            for name, t in fn():
                if isinstance(t, Tensor):
                    names.setdefault(id(t._data), name)
    return names


def trace(model, args, kwargs):
    """Call ``model(*args, **kwargs)`` under grad mode with every op recorded.

    Returns:
        Trace.
    """
    tr = Trace()
    tr.names = state_names(model)
    ins = [_stand_in(a) for a in args]
    kw = {k: _stand_in(v) for k, v in kwargs.items()}
    tr.inputs = ins + list(kw.values())
    if _active:
        raise RuntimeError("onnx.export: a trace is already being recorded in this process")
    _active.append(tr)
    _install()
    try:
        with grad_mode.enable_grad():
            out = model(*ins, **kw)
    finally:
        _uninstall()
        _active.pop()
    outputs = []
    tr.structure = _flatten(out, outputs)
    tr.outputs = outputs
    return tr


def is_number(x):
    return isinstance(x, numbers.Number) and not isinstance(x, bool) or isinstance(x, np.generic)
