"""The graph: :class:`Node`, the base class of every op of the library, and :func:`sum_to`.

An op is one ``Node`` subclass with its forward and backward declared together::

    class Mul(Node):
        @staticmethod
        def forward(ctx, a, b):          # NumPy arrays in ...
            ctx.save_for_backward(a, b)
            return a * b                 # ... one NumPy array out
        @staticmethod
        def backward(ctx, grad):         # Tensors in ...
            a, b = ctx.saved_tensors
            return grad * b, grad * a    # ... one Tensor (or None) per forward input

This is the library's own, array-level base class (the fast path: forward sees NumPy arrays).
Users write PyTorch's :class:`autograd.Function` instead (forward on Tensors), which
:mod:`autograd.function` builds on this class.

``Mul.apply(x, y)`` runs ``forward`` on the inputs' arrays, wraps the result in a ``Tensor`` and,
when grad mode is on and an input requires grad, makes the ``Mul`` instance the output's
``grad_fn``: the instance *is* the graph node (PyTorch's ``ctx``, and its
``torch.autograd.graph.Node``). It records

- ``next``: per forward input, the input's ``grad_fn`` (a non-leaf), the input itself (a leaf that
  requires grad; its gradient is accumulated into ``.grad``), or ``None``. PyTorch's view of the
  same edges is :attr:`Node.next_functions`, where a leaf shows as its :class:`AccumulateGrad`;
- ``seq``: a creation sequence number; the engine runs nodes in decreasing ``seq`` (see
  :mod:`autograd.engine`);
- ``shape``/``dtype`` of the output, which the engine uses to undo broadcasting in one place
  (:func:`sum_to`) and to check the gradients it is handed.

``backward`` is written with Tensor ops. The engine runs it under ``no_grad`` unless
``create_graph=True``, in which case the same Tensor ops record a graph of the backward pass, so
higher-order gradients work for every op built this way. ``backward`` may return gradients with
the *broadcast* shape; the engine sums them back to each input's shape.

Arrays passed to ``ctx.save_for_backward`` that are an input's array come back from
``ctx.saved_tensors`` as that input Tensor (so double backward connects to the graph); the
output's array comes back as the output (with this node as ``grad_fn`` under ``create_graph``);
any other array comes back as a constant Tensor, and a Python number (a scalar operand) comes
back unchanged, so ``grad * b`` keeps PyTorch's scalar dtype rule. Saved inputs and outputs are
checked against in-place modification (PyTorch's version-counter rule).
"""

import itertools
import weakref

import numpy as np

from . import grad_mode
from .utils.hooks import RemovableHandle, add_hook

__all__ = ["Node", "AccumulateGrad", "RemovableHandle", "sum_to"]

_grad_enabled = grad_mode.grad_enabled  # this thread's grad mode, read by every op

_seq = itertools.count()
_RELEASED = object()     # ``_saved`` of a node whose saved arrays a backward pass freed
_NO_NEXT = tuple((None,) * n for n in range(8))
_anomaly_mode = [False]  # set by autograd.anomaly_mode.detect_anomaly


class _Unbatchable(BaseException):
    """Raised when the values of a vmap ``BatchedTensor`` (:mod:`autograd._vmap`) are read:
    ``Node.apply`` then runs the node by its batching rule, and ``vmap`` falls back to its
    per-sample loop where no rule applies. A ``BaseException`` so that a user's or the
    library's ``except Exception`` cannot swallow it. ``level``: the vmap level concerned (or
    ``None``)."""

    def __init__(self, level=None):
        super().__init__(level)
        self.level = level

    def __str__(self):
        return (f"vmap: the values of a batched tensor (vmap level {self.level}) were read "
                "outside vmap's batched call (did a tensor leak out of the vmapped function?)")


_vmap_dispatch = None  # autograd._vmap.dispatch, installed when that module is imported


class _Output:
    """A saved output array (kept apart from inputs: it is re-wrapped with this node as its
    ``grad_fn`` when a double-backward graph is recorded)."""

    __slots__ = ("_data",)

    def __init__(self, data):
        self._data = data


def _view_source(args, out):
    """The input Tensor whose memory ``out`` views (NumPy keeps the memory's owner as
    ``.base``), or ``None``. (An op that hands back one of its input arrays unchanged returns
    its first input; ``apply`` checks that case by identity.)"""
    base = out.base
    for a in args:
        if isinstance(a, Tensor):
            d = a._data
            if d is out or base is not None and (base is d or base is d.base):
                return a
    return None


def _stale_view(t, cls):
    raise RuntimeError(
        f"{cls.name()}: an input of shape {tuple(t.shape)} is a view ({t.grad_fn.name()}) "
        "whose base was modified by an in-place operation after the view was taken, so its "
        "recorded history no longer describes its values. PyTorch would rebase the view's "
        "history; tapegrad does not: take the view after the in-place operation, or clone() it "
        "before.")


def _creation_trace():
    from .anomaly_mode import creation_trace
    return creation_trace()


class Node:
    """Base class of every differentiable op of the library, and PyTorch's
    ``torch.autograd.graph.Node``: every ``grad_fn`` is one (see the module docstring).

    Subclasses define ``forward(ctx, *arrays, **attrs) -> ndarray`` and
    ``backward(ctx, grad: Tensor) -> Tensor | None | tuple``, and are called through
    ``apply(*inputs, **attrs)``, where inputs are Tensors or plain values (Python numbers,
    arrays), which are treated as constants.
    """

    __slots__ = ("next", "seq", "shape", "dtype", "_saved", "__dict__")

    # Rarely set per node: class-level defaults keep them out of the per-op cost.
    _hooks = None        # tensor hooks of the output (Tensor.register_hook on a non-leaf)
    _retain = None       # weakref to the output for retain_grad()
    _anomaly = None      # creation traceback under autograd.detect_anomaly()
    _view = None         # for an op whose output views an input's memory: the shared version
                         # counter's value when the view was made
    _post_hooks = None   # Node.register_hook: fn(grad_inputs, grad_outputs), after backward

    # --- hot path -------------------------------------------------------------------------
    # Per-op overhead is a measured benchmark (``tiny_ops``): this method and the engine's loop
    # are written for it (no per-call allocations that the answer does not need).
    @classmethod
    def apply(cls, *args, **attrs):
        try:
            ctx = object.__new__(cls)
            ctx._saved = None
            if _grad_enabled():
                arrays = []
                nxt = []
                record = False
                for a in args:
                    if isinstance(a, Tensor):
                        arrays.append(a._data)
                        if a.requires_grad:
                            record = True
                            fn = a.grad_fn
                            if fn is None:
                                nxt.append(a)
                            else:
                                if fn._view is not None and a._vc[0] != fn._view:
                                    _stale_view(a, cls)
                                nxt.append(fn)
                            continue
                    else:
                        arrays.append(a)
                    nxt.append(None)
                if record:
                    ctx.next = nxt
                    raw = out = cls.forward(ctx, *arrays, **attrs)
                    if out.__class__ is not np.ndarray:
                        out = np.asarray(out)  # NumPy returns scalars for 0-d results
                    result = object.__new__(Tensor)  # Tensor._make, inlined
                    result._data = out
                    result._grad = None
                    result.grad_fn = ctx
                    result.requires_grad = True
                    result._vc = None
                    result._hooks = None
                    ctx.seq = next(_seq)
                    ctx.shape = out.shape
                    ctx.dtype = out.dtype
                    if out.base is not None or out is arrays[0]:
                        view_of = _view_source(args, out)
                        if view_of is not None:  # share memory, so share the version counter
                            result._vc = vc = view_of._version_counter()
                            ctx._view = vc[0]
                    if ctx._saved is not None:
                        ctx._resolve_saved(args, raw, out, result)
                    if _anomaly_mode[0]:
                        ctx._anomaly = _creation_trace()
                    return result
            else:
                arrays = [a._data if isinstance(a, Tensor) else a for a in args]
            n = len(args)
            ctx.next = _NO_NEXT[n] if n < 8 else (None,) * n
            out = cls.forward(ctx, *arrays, **attrs)
            if out.__class__ is not np.ndarray:
                out = np.asarray(out)
            result = Tensor._make(out, False, None)
            if out.base is not None or arrays and out is arrays[0]:
                view_of = _view_source(args, out)
                if view_of is not None:
                    result._vc = view_of._version_counter()
            return result
        except _Unbatchable:
            # an input is a vmap BatchedTensor (autograd._vmap): its array refused to be read,
            # so run this node by its batching rule (a try costs nothing when nothing raises)
            return _vmap_dispatch(cls, args, attrs)

    @property
    def needs_input_grad(self):
        """Per forward input, whether it needs a gradient (a tuple of bools, as in PyTorch);
        available in ``forward`` and ``backward``."""
        return tuple([n is not None for n in self.next])

    # --- what forward and backward use ------------------------------------------------------
    def save_for_backward(self, *arrays):
        """Called in ``forward`` with the arrays ``backward`` will need (inputs, output or
        temporaries; ``None`` or Python numbers pass through). Only stored when a graph is being
        recorded. Save only what backward needs (``ctx.needs_input_grad`` says which inputs
        need a gradient)."""
        self._saved = arrays

    def _resolve_saved(self, args, raw, out, result):
        resolved = []
        for arr in self._saved:
            if arr.__class__ is not np.ndarray and arr is not raw:
                resolved.append((arr, None, None))  # a Python number or None: a constant
                continue
            for a in args:
                if isinstance(a, Tensor) and a._data is arr:
                    vc = a._vc
                    if vc is None:
                        vc = a._vc = [0]
                    resolved.append((a, vc[0], vc))
                    break
            else:
                if arr is raw:
                    resolved.append((_Output(out), 0, result._version_counter()))
                else:
                    resolved.append((arr, None, None))
        self._saved = resolved

    @property
    def saved_tensors(self):
        """The saved values as Tensors, in the order given to ``save_for_backward``.

        Raises:
            RuntimeError: if the graph was already freed by a backward pass without
                ``retain_graph=True``, or if a saved input/output was modified in place.
        """
        saved = self._saved
        if saved is _RELEASED:
            raise RuntimeError(
                f"{self.name()}: Trying to backward through the graph a second time (or directly "
                "access saved tensors after they have already been freed). Saved intermediate "
                "values of the graph are freed when you call .backward() or autograd.grad(). "
                "Specify retain_graph=True if you need to backward through the graph a second "
                "time or if you need to access saved tensors after calling backward.")
        if saved is None:
            return ()
        out = []
        for obj, version, vc in saved:
            if vc is not None and vc[0] != version:
                what = ("its output" if obj.__class__ is _Output
                        else f"an input of shape {tuple(obj.shape)}")
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: {what} saved by {self.name()} is at version {vc[0]}; "
                    f"expected version {version} instead.")
            if obj.__class__ is _Output:
                if _grad_enabled():
                    t = Tensor._make(obj._data, True, self)
                else:
                    t = Tensor._make(obj._data, False, None)
                t._vc = vc
                out.append(t)
            elif isinstance(obj, Tensor):
                out.append(obj)
            elif isinstance(obj, np.ndarray):
                out.append(Tensor._make(obj, False, None))
            else:
                out.append(obj)  # a Python number (a scalar operand) or None stays as it is
        return tuple(out)

    # --- graph-node API (torch.autograd.graph.Node) ------------------------------------------
    @classmethod
    def name(cls):
        """PyTorch-style node name, e.g. ``'MulBackward0'``."""
        return cls.__name__ + "Backward0"

    @property
    def next_functions(self):
        """PyTorch's edges of this node: per forward input a pair ``(node, input_nr)`` — the
        input's ``grad_fn``, the :class:`AccumulateGrad` of a leaf that requires grad, or
        ``(None, 0)`` for an input that needs no gradient."""
        return tuple(_edge(n) for n in self.next)

    @property
    def metadata(self):
        """A dict for the user's own annotations of this node (empty at first)."""
        md = self.__dict__.get("_metadata")
        if md is None:
            md = self.__dict__["_metadata"] = {}
        return md

    def register_hook(self, fn):
        """Register a post-hook ``fn(grad_inputs, grad_outputs) -> tuple | None``, run after this
        node's backward (``Node.register_hook``). ``grad_inputs`` holds the gradients this node
        computed for its inputs (``None`` where an input needs none), ``grad_outputs`` the
        gradient it was given; a returned tuple replaces ``grad_inputs``.

        Returns:
            a handle whose ``remove()`` unregisters the hook.
        """
        post = self.__dict__.get("_post_hooks")
        if post is None:
            post = self._post_hooks = {}
        return add_hook(post, fn)

    def register_prehook(self, fn):
        """Register a pre-hook ``fn(grad_outputs) -> tuple | None``, run on the gradient flowing
        into this node before its backward (``Node.register_prehook``); a returned tuple replaces
        ``grad_outputs``.

        Returns:
            a handle whose ``remove()`` unregisters the hook.
        """
        def tensor_hook(g):
            r = fn((g,))
            return None if r is None else r[0]

        return self._add_tensor_hook(tensor_hook)

    def _add_tensor_hook(self, hook):
        """Add ``hook(grad) -> Tensor | None`` (``Tensor.register_hook`` on this node's output);
        returns its handle."""
        if self._hooks is None:
            self._hooks = {}
        return add_hook(self._hooks, hook)

    def __repr__(self):
        return f"<{self.name()}>"

    @staticmethod
    def forward(ctx, *arrays, **attrs):
        """The op on NumPy arrays (inputs in the order given to ``apply``; Tensors arrive as
        their arrays); returns one array. Subclasses must define it."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        """The vector-Jacobian product, written with Tensor ops: ``grad`` (a Tensor of the
        output's shape) -> one gradient (Tensor or ``None``) per forward input. Subclasses must
        define it."""
        raise NotImplementedError


class AccumulateGrad:
    """The graph node of a leaf tensor that requires grad, as PyTorch shows it
    (``x.grad_fn`` of ``y = x * 2`` has ``next_functions == ((AccumulateGrad, 0), ...)``).

    tapegrad's engine accumulates leaf gradients without a node object; this one is made on
    first request, one per leaf (the same object each time while the leaf lives), so that code
    reading or hooking the graph works: ``.variable`` is the leaf, ``register_hook(fn)`` runs
    ``fn(grad_inputs, grad_outputs)`` after the leaf's ``.grad`` is updated (``grad_inputs`` is
    ``()``, ``grad_outputs`` the gradient that was accumulated), ``register_prehook(fn)`` runs
    ``fn(grad_outputs)`` before (a returned tuple replaces the gradient).
    """

    __slots__ = ("_variable", "_pre_hooks", "_post_hooks", "_metadata", "__weakref__")

    next_functions = ()

    def __init__(self, variable):
        self._variable = weakref.ref(variable)
        self._pre_hooks = {}
        self._post_hooks = {}
        self._metadata = None

    @property
    def variable(self):
        """The leaf tensor whose gradient this node accumulates."""
        return self._variable()

    @staticmethod
    def name():
        """``'torch::autograd::AccumulateGrad'``, PyTorch's name for this node."""
        return "torch::autograd::AccumulateGrad"

    @property
    def metadata(self):
        """A dict for the user's own annotations of this node."""
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    def register_hook(self, fn):
        """Register ``fn(grad_inputs, grad_outputs)``, run after the leaf's gradient is
        accumulated; returns a handle with ``remove()``."""
        mark_hooked(self.variable)
        return add_hook(self._post_hooks, fn)

    def register_prehook(self, fn):
        """Register ``fn(grad_outputs) -> tuple | None``, run before the gradient is
        accumulated; returns a handle with ``remove()``."""
        mark_hooked(self.variable)
        return add_hook(self._pre_hooks, fn)

    def __repr__(self):
        return f"<AccumulateGrad object at {id(self):#x}>"


class _LeafExtras:
    """What the engine must do for one leaf beyond accumulating ``.grad``: its AccumulateGrad
    node's hooks and its post-accumulate-grad hooks (``Tensor.register_post_accumulate_grad_hook``).
    Kept outside the Tensor, in :data:`_leaf_extras`, so that the engine pays one emptiness check
    of :data:`_hooked` per backward when no leaf has such hooks."""

    __slots__ = ("acc", "post_accumulate", "ref")

    def __init__(self, t):
        self.acc = None
        self.post_accumulate = {}
        key = id(t)
        self.ref = weakref.ref(t, lambda r, key=key, forget=_forget: forget(key))


# Keyed by id(): a Tensor's ``==`` is elementwise, so Tensors cannot be weak dictionary keys.
_leaf_extras = {}  # id(leaf) -> _LeafExtras
_hooked = set()    # id() of the leaves that have had a leaf hook registered


def _forget(key, extras=_leaf_extras, hooked=_hooked):
    """Weakref callback: the leaf with this id() is gone (it runs before the id can be reused).
    The dicts are bound as defaults: at interpreter exit the module's globals may be gone."""
    extras.pop(key, None)
    hooked.discard(key)


def leaf_extras(t, create=True):
    """The :class:`_LeafExtras` of leaf ``t`` (made on first request when ``create``)."""
    ex = _leaf_extras.get(id(t))
    if ex is not None and ex.ref() is t:
        return ex
    if not create:
        return None
    ex = _leaf_extras[id(t)] = _LeafExtras(t)
    return ex


def mark_hooked(t):
    """Record that leaf ``t`` has a leaf hook: backward then tracks when its gradient is
    complete (see :mod:`autograd.engine`)."""
    leaf_extras(t)
    _hooked.add(id(t))


def any_hooked():
    """True if some live leaf still has a leaf hook. Leaves whose hooks were all removed are
    dropped from :data:`_hooked` here, so that backward stops counting edges once a
    DistributedDataParallel or an optimizer-in-backward is gone."""
    for key in tuple(_hooked):
        ex = _leaf_extras.get(key)
        acc = None if ex is None else ex.acc
        if ex is None or not (ex.post_accumulate or acc is not None and (acc._pre_hooks or
                                                                         acc._post_hooks)):
            _hooked.discard(key)
    return bool(_hooked)


def accumulate_grad_node(t):
    """The :class:`AccumulateGrad` node of leaf ``t`` (made once per leaf)."""
    ex = leaf_extras(t)
    if ex.acc is None:
        ex.acc = AccumulateGrad(t)
    return ex.acc


def _edge(n):
    """One ``next_functions`` entry for a ``next`` entry (a node, a leaf, or ``None``)."""
    if n is None:
        return (None, 0)
    if isinstance(n, Tensor):
        return (accumulate_grad_node(n), 0)
    return (n, 0)


def sum_to(grad, shape):
    """Sum ``grad`` (a Tensor) down to ``shape``: the one place broadcasting is undone.

    Leading dimensions that broadcasting added are summed away; dimensions of size 1 in
    ``shape`` that were broadcast are summed with ``keepdim``. Written with Tensor ops, so it is
    itself differentiable (its gradient is an ``expand``).

    Raises:
        RuntimeError: if ``grad.shape`` cannot have been broadcast from ``shape``.
    """
    gshape = grad.shape
    if gshape == shape:
        return grad
    lead = len(gshape) - len(shape)
    if lead < 0:
        raise RuntimeError(f"sum_to: gradient of shape {gshape} cannot be summed to {shape}")
    dims = list(range(lead))
    for i, n in enumerate(shape):
        g = gshape[lead + i]
        if n == 1 and g != 1:
            dims.append(lead + i)
        elif n != g:
            raise RuntimeError(f"sum_to: gradient of shape {gshape} cannot be summed to {shape}")
    if len(dims) == lead:  # only added leading dims (a bias): one reduction, no reshape
        return grad.sum(dim=tuple(dims))
    grad = grad.sum(dim=tuple(dims), keepdim=True)
    if lead:
        grad = grad.reshape(shape)
    return grad


from .tensor import Tensor  # noqa: E402  (circular: Tensor methods call Functions)
