"""The backward engine: ``Tensor.backward`` and ``autograd.grad``.

The graph is the tape of :class:`autograd.graph.Node` nodes that ops record. Each node has
a creation sequence number ``seq``; a node's inputs were all created before it, so every node
that consumes a tensor has a larger ``seq`` than the node that produced it. The engine therefore
pops nodes from a heap in *decreasing* ``seq``: when a node is popped, every gradient flowing into
it has arrived and been summed. The walk is iterative (no recursion), so a 10,000-step chain
back-propagates without touching Python's recursion limit (Chainer's and PyTorch's scheme).

For each popped node the engine

1. runs the tensor hooks registered on it, and stores ``.grad`` for a ``retain_grad`` tensor;
2. calls ``node.backward(node, grad)`` under ``no_grad`` (or with grad enabled if
   ``create_graph=True``);
3. undoes broadcasting with :func:`~autograd.graph.sum_to` (the one place it is done), casts
   the gradient to the input's dtype and checks its shape;
4. frees the node's saved arrays unless ``retain_graph=True`` and drops the gradient it consumed.

Leaves (tensors with ``requires_grad=True`` and no ``grad_fn``) collect their summed gradient,
run their hooks, and accumulate it into ``.grad`` at the end of the walk; a leaf with leaf hooks
(``register_post_accumulate_grad_hook``, hooks on its ``AccumulateGrad`` node) is finished as soon
as its last incoming edge has run, which a count of its edges made before the walk tells (only
when such leaves exist). Callbacks queued during the pass (:func:`queue_callback`) run last.
"""

import heapq
import threading

import numpy as np

from . import grad_mode
from . import graph as _graph
from .graph import _RELEASED, _anomaly_mode, sum_to

__all__ = ["backward", "grad", "queue_callback"]


def _check_roots(tensors, grad_tensors, op):
    """Normalise the outputs and their gradients (``None`` means 1 for a scalar output) and
    check them; returns two lists."""
    if isinstance(tensors, Tensor):
        tensors = (tensors,)
    if grad_tensors is None:
        grad_tensors = (None,) * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,)
    roots, root_grads = [], []
    for i, (t, g) in enumerate(zip(tensors, grad_tensors)):
        if not t.requires_grad:
            raise RuntimeError(
                f"{op}: element {i} of tensors does not require grad and does not have a grad_fn")
        if g is None:
            if t._data.size != 1:
                raise RuntimeError(
                    f"{op}: grad can be implicitly created only for scalar outputs; the output "
                    f"has shape {tuple(t.shape)}: pass `gradient` (a tensor of that shape)")
            g = Tensor._make(np.ones(t.shape, dtype=t.dtype), False, None)
        else:
            if not isinstance(g, Tensor):
                g = Tensor(np.asarray(g, dtype=t.dtype))
            if g.shape != t.shape:
                raise RuntimeError(
                    f"{op}: mismatch in shape: grad_output[{i}] has a shape of {tuple(g.shape)} "
                    f"and output[{i}] has a shape of {tuple(t.shape)}")
            if g.dtype != t.dtype:
                g = g.to(t.dtype)
        roots.append(t)
        root_grads.append(g)
    return roots, root_grads


def _run_capturing(roots, root_grads, inputs, retain_graph, create_graph):
    """Run backward and return the gradient that reached each of ``inputs`` (or ``None``)."""
    keys = [t if t.grad_fn is None else t.grad_fn for t in inputs]
    capture = dict.fromkeys(keys)
    _run(roots, root_grads, retain_graph, create_graph, capture)
    return [capture[k] for k in keys]


def _run(roots, root_grads, retain_graph, create_graph, capture=None):
    """Propagate ``root_grads`` from ``roots`` through the graph.

    If ``capture`` (a dict whose keys are nodes or leaves) is given, the gradients reaching those
    keys are stored in it and ``.grad`` of leaves is left untouched (``autograd.grad``);
    otherwise leaves accumulate into ``.grad`` (``Tensor.backward``).
    """
    grads = {}       # node -> summed incoming gradient (Tensor)
    leaf_grads = {}  # leaf tensor -> summed incoming gradient
    heap = []  # (-seq, node): seq is unique per node, so nodes themselves are never compared
    push, pop = heapq.heappush, heapq.heappop
    anomaly = _anomaly_mode[0]
    # Leaves with leaf hooks (post-accumulate-grad hooks, AccumulateGrad hooks) are finished as
    # soon as their last incoming edge has run, not after the walk: ``pending`` counts the edges
    # still to come for each of them. Without such leaves (the common case) it stays None.
    pending = _pending_edges(roots) if _graph._hooked and _graph.any_hooked() else None
    callbacks = _callbacks_stack()
    callbacks.append([])

    prev_mode = grad_mode._set(create_graph)
    try:
        for t, g in zip(roots, root_grads):
            if t.grad_fn is None:
                prev = leaf_grads.get(t)
                leaf_grads[t] = g if prev is None else prev + g
                if pending is not None and t in pending:
                    _leaf_edge_done(t, leaf_grads, pending, capture, create_graph)
            elif t.grad_fn in grads:
                grads[t.grad_fn] = grads[t.grad_fn] + g
            else:
                grads[t.grad_fn] = g
                push(heap, (-t.grad_fn.seq, t.grad_fn))

        # The loop below is the per-op cost of backward (the ``tiny_ops`` benchmark): the common
        # case (no hooks, no capture, gradient already of the input's shape and dtype) does no
        # work beyond the node's own backward and the bookkeeping of the heap and dicts.
        while heap:
            node = pop(heap)[1]
            g = grads.pop(node)
            if node._hooks is not None:
                for hook in tuple(node._hooks.values()):
                    r = hook(g)
                    if r is not None:
                        g = r
            if node._retain is not None:
                t = node._retain()
                if t is not None:
                    _accumulate(t, g, create_graph)
            if capture is not None and node in capture:
                capture[node] = g
            in_grads = node.backward(node, g)
            if in_grads.__class__ is not tuple:
                in_grads = (in_grads,)
            nxt = node.next
            if len(in_grads) != len(nxt):
                _check_count(node, in_grads)
            if node._post_hooks is not None:
                in_grads = _run_post_hooks(node, in_grads, g)
            if anomaly:
                _anomaly_check(node, in_grads)
            for target, ig in zip(nxt, in_grads):
                if target is None:
                    continue
                if ig is None:
                    if pending is not None and target in pending:
                        _leaf_edge_done(target, leaf_grads, pending, capture, create_graph)
                    continue
                if target.__class__ is Tensor or isinstance(target, Tensor):
                    d, t = ig._data, target._data
                    if d.shape != t.shape or (d.dtype is not t.dtype and d.dtype != t.dtype):
                        ig = _conform(ig, target, node)
                    prev = leaf_grads.get(target)
                    leaf_grads[target] = ig if prev is None else prev + ig
                    if pending is not None and target in pending:
                        _leaf_edge_done(target, leaf_grads, pending, capture, create_graph)
                    continue
                d = ig._data
                if d.shape != target.shape or (d.dtype is not target.dtype
                                               and d.dtype != target.dtype):
                    ig = _conform(ig, target, node)
                prev = grads.get(target)
                if prev is None:
                    grads[target] = ig
                    push(heap, (-target.seq, target))
                else:
                    grads[target] = prev + ig
            if not retain_graph and node._saved is not None:
                node._saved = _RELEASED

        for leaf, g in leaf_grads.items():
            _finish_leaf(leaf, g, capture, create_graph)
        queued = callbacks[-1]
        while queued:  # a callback may queue another one
            queued.pop(0)()
    finally:
        callbacks.pop()
        grad_mode._set(prev_mode)


def _finish_leaf(leaf, g, capture, create_graph):
    """The leaf's share of backward once its gradient ``g`` is complete: tensor hooks, then
    (``Tensor.backward``) accumulation into ``.grad`` with the leaf hooks around it, or
    (``autograd.grad``) the capture."""
    if leaf._hooks is not None:
        for hook in tuple(leaf._hooks.values()):
            r = hook(g)
            if r is not None:
                g = r
    ex = _graph.leaf_extras(leaf, create=False) if _graph._hooked else None
    acc = None if ex is None else ex.acc
    if acc is not None:
        for hook in tuple(acc._pre_hooks.values()):
            r = hook((g,))
            if r is not None:
                g = r[0]
    if capture is not None:
        if leaf in capture:
            capture[leaf] = g
        return
    _accumulate(leaf, g, create_graph)
    if ex is not None:
        for hook in tuple(ex.post_accumulate.values()):
            hook(leaf)
        if acc is not None:
            for hook in tuple(acc._post_hooks.values()):
                hook((), (g,))


def _leaf_edges(roots):
    """Yield each leaf Tensor that the graphs of ``roots`` (Tensors) lead to, once per edge into
    it (a root that is itself a leaf counts as one edge). An iterative walk that visits each
    node once; no recursion, so deep graphs are fine. Also used by
    ``nn.parallel.DistributedDataParallel`` to find the parameters a forward used."""
    seen = set()
    stack = []
    for t in roots:
        fn = t.grad_fn
        if fn is None:
            yield t
        elif fn not in seen:
            seen.add(fn)
            stack.append(fn)
    while stack:
        node = stack.pop()
        for n in node.next:
            if n is None:
                continue
            if isinstance(n, Tensor):
                yield n
            elif n not in seen:
                seen.add(n)
                stack.append(n)


def _pending_edges(roots):
    """For each leaf with leaf hooks reachable from ``roots``: how many graph edges (and roots)
    lead to it. A walk over the reachable nodes, made only when such leaves exist."""
    hooked = _graph._hooked
    pending = {}
    for t in _leaf_edges(roots):
        if id(t) in hooked:
            pending[t] = pending.get(t, 0) + 1
    return pending


def _leaf_edge_done(leaf, leaf_grads, pending, capture, create_graph):
    """One more edge into a hooked leaf has run; finish the leaf when it was the last."""
    left = pending[leaf] - 1
    if left:
        pending[leaf] = left
        return
    del pending[leaf]
    g = leaf_grads.pop(leaf, None)
    if g is not None:
        _finish_leaf(leaf, g, capture, create_graph)


def _run_post_hooks(node, in_grads, grad_output):
    """``Node.register_hook`` hooks: ``fn(grad_inputs, grad_outputs)`` may replace the inputs'
    gradients."""
    grad_inputs = tuple(in_grads) + (None,) * (len(node.next) - len(in_grads))
    for hook in tuple(node._post_hooks.values()):
        r = hook(grad_inputs, (grad_output,))
        if r is not None:
            grad_inputs = tuple(r) if isinstance(r, (tuple, list)) else (r,)
    return grad_inputs


_tls = threading.local()


def _callbacks_stack():
    """This thread's stack of running backward passes, each a list of queued callbacks."""
    stack = getattr(_tls, "callbacks", None)
    if stack is None:
        stack = _tls.callbacks = []
    return stack


def queue_callback(callback):
    """Run ``callback()`` (no arguments) at the end of the backward pass now running in this
    thread, after every leaf's ``.grad`` is updated (PyTorch's
    ``Variable._execution_engine.queue_callback``, which DistributedDataParallel uses to wait for
    its gradient all-reduces).

    Raises:
        RuntimeError: when no backward pass is running in this thread.
    """
    stack = _callbacks_stack()
    if not stack:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    stack[-1].append(callback)


class _ExecutionEngine:
    """``Variable._execution_engine``: the one method code outside PyTorch uses from it."""

    @staticmethod
    def queue_callback(callback):
        """See :func:`queue_callback`."""
        queue_callback(callback)


execution_engine = _ExecutionEngine()


def _check_count(node, in_grads):
    """Raise unless the extra entries of a too-short gradient tuple are for constant inputs."""
    nxt = node.next
    if len(in_grads) > len(nxt) or any(n is not None for n in nxt[len(in_grads):]):
        raise RuntimeError(
            f"{node.name()}: backward returned {len(in_grads)} gradients but the op has "
            f"{len(nxt)} inputs")


def _anomaly_check(node, in_grads):
    """Under ``detect_anomaly``: raise if ``node``'s backward produced a NaN or inf."""
    for i, ig in enumerate(in_grads):
        if ig is None or node.next[i] is None:
            continue
        d = ig._data
        if d.dtype.kind in "fc" and not np.isfinite(d).all():
            what = "nan" if np.isnan(d).any() else "inf"
            where = node._anomaly or ("  (creation traceback not recorded: the op was created "
                                      "outside detect_anomaly())\n")
            raise RuntimeError(
                f"Function '{node.name()}' returned {what} values in its {i}th output "
                f"(the gradient for input {i}, shape {tuple(d.shape)}).\n"
                f"The op was created at (most recent call last):\n{where}")


def _conform(g, target, node):
    """Sum a gradient back to its input's shape and cast it to the input's dtype."""
    shape, dtype = target.shape, target.dtype
    if g.shape != shape:
        try:
            g = sum_to(g, shape)
        except RuntimeError:
            raise RuntimeError(
                f"{node.name()}: backward returned a gradient of shape {tuple(g.shape)} for an "
                f"input of shape {tuple(shape)}") from None
    if g.dtype != dtype:
        g = g.to(dtype)
    return g


def _accumulate(t, g, create_graph):
    """Add ``g`` into ``t.grad`` (PyTorch's AccumulateGrad).

    The same gradient Tensor may be handed to several tensors (``add`` returns its incoming
    gradient twice) and may be a read-only broadcast view (``expand``), so a new ``.grad`` is
    always a copy of its own; later calls add into it in place when it is a plain writable array,
    and out of place when it is part of a graph (recorded with ``create_graph=True``).
    """
    if create_graph:
        t._grad = g.clone() if t._grad is None else t._grad + g
        return
    old = t._grad
    if old is None:
        t._grad = Tensor._make(g._data.copy(), False, None)
    elif (old.requires_grad or not old._data.flags.writeable or old._data.shape != g._data.shape
          or old._data.dtype != g._data.dtype):
        t._grad = Tensor._make(old._data + g._data, False, None)
    else:
        np.add(old._data, g._data, out=old._data)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Compute the gradient of ``tensors`` w.r.t. graph leaves and accumulate it into ``.grad``
    (``torch.autograd.backward``).

    Args:
        tensors (Tensor or sequence of Tensor): outputs to differentiate.
        grad_tensors (Tensor or sequence, optional): the vector in the vector-Jacobian product,
            one per output, same shape; may be omitted for scalar outputs (taken as 1).
        retain_graph (bool, optional): keep the saved arrays so backward can run again.
            Defaults to ``create_graph``.
        create_graph (bool): record the backward pass so higher-order gradients can be taken.
        inputs (sequence of Tensor, optional): accumulate only into these leaves.

    Raises:
        RuntimeError: if an output does not require grad, if a non-scalar output has no
            gradient, if the graph was freed by a previous backward, or if a tensor saved for
            backward was modified in place.
    """
    if retain_graph is None:
        retain_graph = create_graph
    roots, root_grads = _check_roots(tensors, grad_tensors, "backward")
    if inputs is None:
        _run(roots, root_grads, retain_graph, create_graph)
        return
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    for t, g in zip(inputs, _run_capturing(roots, root_grads, inputs, retain_graph,
                                           create_graph)):
        if g is not None:
            _accumulate(t, g, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Return the gradients of ``outputs`` w.r.t. ``inputs`` without touching ``.grad``
    (``torch.autograd.grad``).

    Args:
        outputs (Tensor or sequence of Tensor): the differentiated outputs.
        inputs (Tensor or sequence of Tensor): the tensors to differentiate with respect to
            (leaves or intermediate results).
        grad_outputs (Tensor or sequence, optional): the vector of the vector-Jacobian product
            per output; ``None`` means 1 for scalar outputs.
        retain_graph (bool, optional): defaults to ``create_graph``.
        create_graph (bool): record the backward pass, so the returned gradients can themselves
            be differentiated (Hessian-vector products, gradient penalties).
        allow_unused (bool): return ``None`` for an input the outputs do not depend on instead
            of raising.

    Returns:
        tuple of Tensor (or ``None`` for unused inputs with ``allow_unused=True``), one per input,
        each of the input's shape and dtype.

    Raises:
        RuntimeError: as :func:`backward`, and if an input was not used in the graph while
            ``allow_unused=False``, or an input does not require grad.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if retain_graph is None:
        retain_graph = create_graph
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {tuple(t.shape)}) does not require grad")
    roots, root_grads = _check_roots(outputs, grad_outputs, "grad")
    result = []
    for i, g in enumerate(_run_capturing(roots, root_grads, inputs, retain_graph,
                                         create_graph)):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: one of the differentiated Tensors (input {i}, shape "
                f"{tuple(inputs[i].shape)}) appears to not have been used in the graph. "
                "Set allow_unused=True if this is the desired behavior.")
        if g is not None and not create_graph:
            # a gradient may be a read-only broadcast view (from expand): hand out a plain array
            data = g._data if g._data.flags.writeable else g._data.copy()
            g = Tensor._make(data, False, None)
        result.append(g)
    return tuple(result)


from .tensor import Tensor  # noqa: E402  (circular: tensor.py imports this module)
