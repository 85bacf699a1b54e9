"""PyTorch's custom ``autograd.Function`` (``torch.autograd.Function``): forward and backward
written by the user, on Tensors.

::

    class Exp(autograd.Function):
        @staticmethod
        def forward(ctx, x):             # Tensors in (run under no_grad) ...
            y = x.exp()
            ctx.save_for_backward(y)
            return y                     # ... a Tensor or a tuple of Tensors out
        @staticmethod
        def backward(ctx, grad_y):       # one gradient per output ...
            y, = ctx.saved_tensors
            return grad_y * y            # ... one gradient (or None) per forward input

    z = Exp.apply(x)

The ``setup_context`` form (PyTorch >= 2.0) is supported too: ``forward(*args)`` without ``ctx``
and ``setup_context(ctx, inputs, output)`` that saves what backward needs.

``ctx`` is the graph node itself (``z.grad_fn``, named ``ExpBackward``), so attributes set on it
in ``forward`` are there in ``backward``. It offers PyTorch's ``save_for_backward``,
``saved_tensors`` (checked against in-place changes, and connected to the graph so a backward
written with Tensor ops is itself differentiable), ``needs_input_grad``, ``mark_dirty``,
``mark_non_differentiable`` and ``set_materialize_grads``. Non-tensor arguments are passed
through unchanged and get ``None`` as their gradient. :func:`once_differentiable` marks a
backward that is not itself differentiable.

Each ``Function`` subclass gets a graph-node class of its own (``<Name>Backward``), built on the
library's array-level :class:`autograd.graph.Node`, so the engine runs user functions exactly
like the library's ops. A function with several outputs gives each output a small node of its
own that hands its gradient to the shared one.
"""

import functools

import numpy as np

from . import grad_mode
from .graph import Node, _seq

__all__ = ["Function", "FunctionCtx", "once_differentiable", "InplaceFunction",
           "NestedIOFunction"]

_grad_enabled = grad_mode.grad_enabled


class FunctionCtx:
    """What ``ctx`` offers inside a custom :class:`Function` (PyTorch's
    ``torch.autograd.function.FunctionCtx``). The ctx a Function receives is its graph node,
    which has these methods; this class exists for ``isinstance`` checks and type hints."""

    def save_for_backward(self, *tensors):
        """Keep ``tensors`` (inputs, outputs, or Tensors computed in forward; ``None`` allowed)
        for ``backward``, where ``ctx.saved_tensors`` returns them.

        Raises:
            TypeError: for an argument that is neither a Tensor nor ``None``.
        """
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} "
                                f"is of type {type(t).__name__}")
        self._to_save = tensors

    def mark_dirty(self, *tensors):
        """Declare inputs that ``forward`` modified in place (they must be returned as outputs).
        Their history is replaced by this node and their version bumped."""
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        """Declare outputs that have no gradient (indices, masks): they get
        ``requires_grad=False`` and ``backward`` receives zeros (or ``None``) for them."""
        self._non_differentiable = tensors

    def set_materialize_grads(self, value):
        """With ``True`` (the default) ``backward`` receives zero tensors for outputs that got no
        gradient; with ``False`` it receives ``None`` for them."""
        self._materialize = bool(value)


class _FunctionNode(Node, FunctionCtx):
    """The graph node (and ``ctx``) of one call of a custom Function."""

    _fn_cls = None                  # the user's Function subclass
    _to_save = None
    _dirty = ()
    _non_differentiable = ()
    _materialize = True
    _n_outputs = 1
    _pending = None                 # multi-output: per output, the gradient handed over
    _needs = ()                     # needs_input_grad, fixed at the call

    @classmethod
    def name(cls):
        """``'<FunctionName>Backward'``, PyTorch's name for a custom Function's node."""
        return cls._fn_cls.__name__ + "Backward"

    save_for_backward = FunctionCtx.save_for_backward  # not Node's array-level one

    @property
    def needs_input_grad(self):
        """Per argument of ``apply``: whether it is a Tensor that needs a gradient."""
        return self._needs

    @property
    def saved_tensors(self):
        """The tensors given to ``save_for_backward``, in order (an output comes back with this
        node as its ``grad_fn``).

        Raises:
            RuntimeError: if the graph was freed by a backward without ``retain_graph=True``, or
                if a saved tensor was modified in place since it was saved.
        """
        return Node.saved_tensors.fget(self)

    saved_variables = saved_tensors

    @staticmethod
    def backward(node, grad):
        """Called by the engine: hand the output gradients to the user's ``backward`` and check
        what it returns."""
        fn_cls = node._fn_cls
        if node._n_outputs == 1:
            grads = (grad,)
        else:
            pend = node._pending or [None] * node._n_outputs
            node._pending = None
            grads = tuple(pend)
        if node._materialize:
            grads = tuple(g if g is not None else _zeros_like_output(node, i)
                          for i, g in enumerate(grads))
        result = fn_cls.backward(node, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        n_in = len(node.next)
        if len(result) != n_in:
            if len(result) > n_in and all(r is None for r in result[n_in:]):
                result = result[:n_in]
            else:
                raise RuntimeError(
                    f"function {node.name()} returned an incorrect number of gradients "
                    f"(expected {n_in}, got {len(result)})")
        out = []
        for i, (r, target) in enumerate(zip(result, node.next)):
            if r is None or target is None:
                out.append(None)
                continue
            if not isinstance(r, Tensor):
                raise TypeError(f"function {node.name()} returned a gradient of type "
                                f"{type(r).__name__} at index {i}; expected a Tensor or None")
            if r.dtype != target.dtype:
                r = r.to(target.dtype)
            out.append(r)
        return tuple(out)


def _zeros_like_output(node, i):
    meta = node._out_meta[i]
    if meta is None:  # a non-tensor output
        return None
    return Tensor._make(np.zeros(meta[0], dtype=meta[1]), False, None)


class _OutputNode(Node):
    """Output ``i`` of a Function with several outputs: its backward stores the gradient on the
    shared node and hands that node a placeholder gradient, so the engine runs the shared node
    once, after every output's gradient has arrived (it has the smaller sequence number)."""

    @classmethod
    def name(cls):
        return "OutputBackward"

    def _name(self):
        return self.next[0].name()

    @staticmethod
    def backward(node, grad):
        owner = node.next[0]
        pend = owner._pending
        if pend is None:
            pend = owner._pending = [None] * owner._n_outputs
        i = node._index
        pend[i] = grad if pend[i] is None else pend[i] + grad
        return (_TOKEN,)

    def __repr__(self):
        return f"<{self._name()}>"


# The stand-in gradient each output node hands the shared node (whose real gradients are in
# ``_pending``); the shared node's shape and dtype are this array's, so the engine passes it on.
_TOKEN_ARRAY = np.zeros((), dtype=np.float64)


class _FunctionMeta(type):
    """Gives every Function subclass its graph-node class (``<Name>Backward``)."""

    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._backward_cls = type(name + "Backward", (_FunctionNode,), {"_fn_cls": cls})


class Function(metaclass=_FunctionMeta):
    """Base class of user-defined differentiable operations (``torch.autograd.Function``).

    Subclasses define the static methods ``forward(ctx, *args, **kwargs)`` (or ``forward(*args,
    **kwargs)`` plus ``setup_context(ctx, inputs, output)``) and ``backward(ctx,
    *grad_outputs)``, and are called through :meth:`apply`. See the module docstring.

    ``forward`` runs under ``no_grad`` and receives the arguments unchanged (Tensors as
    Tensors); it returns a Tensor or a tuple of Tensors (non-tensor elements pass through).
    ``backward`` receives one gradient per output and returns one gradient (a Tensor or
    ``None``) per argument of ``apply``; a gradient of a broadcast shape is summed back to the
    input's shape. ``backward`` runs under ``no_grad`` unless ``create_graph=True``, when the
    Tensor ops it uses are recorded, so it is differentiable (unless decorated with
    :func:`once_differentiable`).

    Raises:
        RuntimeError: when instantiated and called the legacy way (``MyFn()(x)``), when
            ``backward`` returns the wrong number of gradients, or when a ``mark_dirty`` input is
            a leaf that requires grad.
    """

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            "new-style autograd function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    @staticmethod
    def forward(*args, **kwargs):
        """The computation, on Tensors (see the class docstring). Subclasses must define it."""
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Optional (PyTorch >= 2.0): save what backward needs, given the inputs (a tuple of the
        arguments of ``apply``) and the output of a ``forward`` that takes no ``ctx``."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        """The vector-Jacobian product (see the class docstring). Subclasses must define it."""
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` and, when grad mode is on and a Tensor argument requires grad, record
        the call in the graph. Returns what ``forward`` returns."""
        node_cls = cls._backward_cls
        ctx = object.__new__(node_cls)
        ctx._saved = None
        nxt = []
        needs = []
        record = False
        enabled = _grad_enabled()
        for a in args:
            if isinstance(a, Tensor) and a.requires_grad and enabled:
                record = True
                fn = a.grad_fn
                nxt.append(a if fn is None else fn)
                needs.append(True)
            else:
                nxt.append(None)
                needs.append(False)
        ctx.next = nxt
        ctx._needs = tuple(needs)
        uses_setup = cls.setup_context is not Function.setup_context
        prev = grad_mode._set(False)
        try:
            if uses_setup:
                output = cls.forward(*args, **kwargs)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        finally:
            grad_mode._set(prev)
        if uses_setup:
            cls.setup_context(ctx, args, output)
        if not record:
            for t in ctx._dirty:
                t._bump_version()
            return output
        return _record(ctx, args, output)


def _record(ctx, args, output):
    """Attach ``ctx`` as the grad_fn of the Tensor outputs of one call."""
    is_tuple = isinstance(output, tuple)
    outs = list(output) if is_tuple else [output]
    dirty = {id(t) for t in ctx._dirty}
    non_diff = {id(t) for t in ctx._non_differentiable}
    input_ids = {id(a) for a in args if isinstance(a, Tensor)}
    tensor_idx = [i for i, o in enumerate(outs) if isinstance(o, Tensor)]
    for t in ctx._dirty:
        if t.requires_grad and t.grad_fn is None and id(t) in input_ids:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
    ctx.seq = next(_seq)
    diff = []
    for i in tensor_idx:
        o = outs[i]
        if id(o) in input_ids and id(o) not in dirty:
            # an input returned as it is: the output is a new tensor over the same memory
            # (PyTorch makes it a view), so the input keeps its own history
            src = o
            o = outs[i] = Tensor._make(src._data, False, None)
            o._vc = src._version_counter()
        if id(o) in non_diff or o._data.dtype.kind not in "fc":
            o.requires_grad = False
            o.grad_fn = None
            continue
        diff.append(i)
    # backward receives one gradient per output of forward: zeros (or None without
    # materialize_grads) for the outputs that got none, None for non-tensor outputs
    ctx._out_meta = [(o.shape, o.dtype) if isinstance(o, Tensor) else None for o in outs]
    differentiable = [outs[i] for i in diff]
    if len(outs) == 1 and diff == [0]:
        ctx._n_outputs = 1
        o = outs[0]
        ctx.shape, ctx.dtype = o.shape, o.dtype
        _attach(o, ctx)
    else:
        ctx._n_outputs = len(outs)
        ctx.shape, ctx.dtype = _TOKEN_ARRAY.shape, _TOKEN_ARRAY.dtype
        for i in diff:
            o = outs[i]
            slot = object.__new__(_OutputNode)
            slot._saved = None
            slot.next = [ctx]
            slot.seq = next(_seq)
            slot.shape, slot.dtype = o.shape, o.dtype
            slot._index = i
            _attach(o, slot)
    for t in ctx._dirty:
        t._bump_version()
    _resolve_saved(ctx, differentiable)
    return tuple(outs) if is_tuple else outs[0]


def _attach(o, node):
    o.grad_fn = node
    o.requires_grad = True


def _resolve_saved(ctx, outputs):
    """Turn ``save_for_backward``'s tensors into the node's saved entries: outputs are kept as
    arrays and re-wrapped with the node as ``grad_fn`` on unpacking (no reference cycle between
    an output and its node); other tensors are kept with their version for the in-place check."""
    from .graph import _Output
    to_save = ctx._to_save
    if to_save is None:
        return
    ctx._to_save = None
    out_ids = {id(o): o for o in outputs}
    resolved = []
    for t in to_save:
        if t is None:
            resolved.append((None, None, None))
        elif id(t) in out_ids and ctx._n_outputs == 1:
            resolved.append((_Output(t._data), t._version, t._version_counter()))
        else:
            vc = t._version_counter()
            resolved.append((t, vc[0], vc))
    ctx._saved = resolved


def once_differentiable(fn):
    """Decorator for a custom Function's ``backward`` that is not itself differentiable
    (``torch.autograd.function.once_differentiable``): it runs under ``no_grad``, and
    differentiating its result (double backward) raises a clear error instead of silently
    giving zero."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with grad_mode.no_grad():
            outputs = fn(ctx, *args)
        if not _grad_enabled():
            return outputs
        requires = any(isinstance(a, Tensor) and a.requires_grad for a in args)
        if not requires:
            return outputs
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        # as PyTorch: the results hang from a node whose backward raises
        sources = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
        wrapped = tuple(_DelayedError.apply(o, *sources, name=ctx.name())
                        if isinstance(o, Tensor) and o._data.dtype.kind == "f" else o
                        for o in outs)
        return wrapped[0] if single else wrapped

    return wrapper


class _DelayedError(Node):
    """Identity in forward; its backward raises (the result of a ``once_differentiable``
    backward taken in a recorded graph)."""

    @staticmethod
    def forward(ctx, a, *sources, name):
        ctx.fn_name = name
        return a

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError(f"trying to differentiate twice a function that was marked with "
                           f"@once_differentiable ({ctx.fn_name})")


class InplaceFunction(Function):
    """A Function that may work in place (``torch.autograd.function.InplaceFunction``): the
    constructor's ``inplace`` flag is kept as ``self.inplace`` for subclasses' use."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace


class NestedIOFunction(Function):
    """Placeholder for PyTorch's legacy ``NestedIOFunction`` (deprecated there): subclassing
    works, calling raises as any legacy function does."""


from .tensor import Tensor  # noqa: E402  (circular: Tensor methods call ops)

_TOKEN = Tensor._make(_TOKEN_ARRAY, False, None)
