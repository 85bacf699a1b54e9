"""Higher-level differentiation of functions (``torch.autograd.functional``): ``vjp``, ``jvp``,
``jacobian``, ``hessian``, ``vhp`` and ``hvp``.

Each takes a function ``func`` of one Tensor or a tuple of Tensors and returns, like PyTorch,
a Tensor where PyTorch returns a Tensor and tuples where it returns tuples:

- ``inputs`` a Tensor and ``func`` returning a Tensor -> a Tensor;
- ``inputs`` a tuple -> a tuple with one entry per input (nested per output for ``jacobian``
  with several outputs).

Everything is a small loop over :func:`autograd.grad`: a vector-Jacobian product is one backward
pass; the Jacobian is one backward pass per output element (PyTorch's ``vectorize=False``
strategy); a Jacobian-vector product uses the "double backward trick" (differentiate the
vector-Jacobian product ``u -> J^T u``, which is linear in ``u``, with respect to ``u``), as
PyTorch's ``jvp`` does; ``hvp``/``vhp`` differentiate the gradient once more. Second-order
results therefore need the double backward of every op on the path (Numba kernel ops that do
not provide it raise a clear error).

Inputs are never modified; they are detached and made to require grad for the computation
(with ``create_graph=True`` they stay connected to their graph, so the results can be
differentiated again). With ``strict=True`` an output that does not depend on an input raises
``RuntimeError``; otherwise that part of the result is zeros.

Differences from PyTorch: ``vectorize`` and ``strategy='forward-mode'`` are accepted but the
computation is always the reverse-mode loop described above.
"""

import numpy as np

from . import grad_mode
from .engine import grad as _grad
from .ops.shape import stack
from .tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _as_tuple(x, arg, fn):
    """``(is_tuple, tuple_of_tensors)``; raises ``TypeError`` for anything but Tensors."""
    is_tuple = isinstance(x, (tuple, list))
    items = tuple(x) if is_tuple else (x,)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}: the {arg} must be a Tensor or a tuple of Tensors, but "
                            f"element {i} is a {type(t).__name__}")
    return is_tuple, items


def _prepare_inputs(inputs, create_graph, fn):
    is_tuple, items = _as_tuple(inputs, "inputs", fn)
    for i, t in enumerate(items):
        if t.dtype.kind != "f":
            raise TypeError(f"{fn}: input {i} has dtype {t.dtype}; only floating tensors can "
                            "be differentiated")
    if create_graph:
        # stay connected to the inputs' own graph, so the result can be differentiated again
        prepared = tuple(t.view_as(t) if t.requires_grad else t.detach().requires_grad_()
                         for t in items)
    else:
        prepared = tuple(t.detach().requires_grad_() for t in items)
    return is_tuple, prepared


def _call(func, inputs, fn):
    with grad_mode.enable_grad():
        out = func(*inputs)
    is_tuple, outs = _as_tuple(out, "outputs of the user-provided function", fn)
    return is_tuple, outs


def _vector(v, like, arg, fn):
    """Check ``v`` (a tuple of Tensors) against ``like`` entry by entry."""
    if len(v) != len(like):
        raise RuntimeError(f"{fn}: {arg} has {len(v)} entries but {len(like)} were expected")
    for i, (a, b) in enumerate(zip(v, like)):
        if a.shape != b.shape:
            raise RuntimeError(f"{fn}: entry {i} of {arg} has shape {tuple(a.shape)}, but the "
                               f"matching tensor has shape {tuple(b.shape)}")
    return v


def _grads(outputs, inputs, grad_outputs, create_graph, strict, fn, what="outputs"):
    """``autograd.grad`` that puts zeros (or raises with ``strict``) for unused inputs and for
    outputs that do not require grad."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not pairs:
        if strict:
            raise RuntimeError(f"{fn}: the {what} of the user-provided function do not require "
                               "grad (they do not depend on the inputs); strict=True forbids it")
        return tuple(_zeros_like(t) for t in inputs)
    outs, gouts = zip(*pairs)
    res = _grad(outs, inputs, gouts, retain_graph=True, create_graph=create_graph,
                allow_unused=True)
    result = []
    for i, (r, t) in enumerate(zip(res, inputs)):
        if r is None:
            if strict:
                raise RuntimeError(f"{fn}: the {what} of the user-provided function are "
                                   f"independent of input {i}; strict=True forbids it")
            r = _zeros_like(t)
        result.append(r)
    return tuple(result)


def _zeros_like(t):
    return Tensor._make(np.zeros(t.shape, dtype=t.dtype), False, None)


def _finish(items, is_tuple, create_graph):
    items = tuple(t if create_graph else t.detach() for t in items)
    return items if is_tuple else items[0]


def _default_v(outputs, fn, arg="v"):
    for o in outputs:
        if o.numel() != 1:
            raise RuntimeError(f"{fn}: {arg} can only be None if the output of the "
                               f"user-provided function is a single element, got shape "
                               f"{tuple(o.shape)}")
    return tuple(Tensor._make(np.ones(o.shape, dtype=o.dtype), False, None) for o in outputs)


def _check_v(v, like, fn):
    """The ``v`` argument of ``fn`` as a tuple matching ``like`` (the outputs for ``vjp``, the
    inputs for ``jvp``/``vhp``/``hvp``): checked entry by entry, or ones when ``v`` is None
    (allowed only for single-element entries)."""
    if v is None:
        return _default_v(like, fn)
    return _vector(_as_tuple(v, "v", fn)[1], like, "v", fn)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """The vector-Jacobian product ``v^T J`` of ``func`` at ``inputs``
    (``torch.autograd.functional.vjp``).

    Args:
        func (callable): takes Tensors (one per input), returns a Tensor or tuple of Tensors.
        inputs (Tensor or tuple of Tensors): the point.
        v (Tensor or tuple of Tensors, optional): one per output, same shapes; may be None when
            the output has one element.
        create_graph (bool): make the result differentiable.
        strict (bool): raise if an output does not depend on an input.

    Returns:
        ``(func_output, vjp)``: ``vjp`` has the structure and shapes of ``inputs``.

    Raises:
        RuntimeError: for ``v`` of the wrong shape, ``v=None`` with a multi-element output, or
            (``strict``) an independent input. TypeError: for non-Tensor inputs/outputs.
    """
    with grad_mode.enable_grad():
        in_tuple, inputs = _prepare_inputs(inputs, create_graph, "vjp")
        out_tuple, outputs = _call(func, inputs, "vjp")
        v = _check_v(v, outputs, "vjp")
        res = _grads(outputs, inputs, v, create_graph, strict, "vjp")
    return _finish(outputs, out_tuple, create_graph), _finish(res, in_tuple, create_graph)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """The Jacobian-vector product ``J v`` of ``func`` at ``inputs``
    (``torch.autograd.functional.jvp``), by the double backward trick: ``J v`` is the gradient
    of ``u -> (J^T u) . v`` with respect to ``u``.

    Args:
        v (Tensor or tuple of Tensors, optional): one per input, same shapes; may be None when
            the input has one element.
        func, inputs, create_graph, strict: as in :func:`vjp` (``strict`` raises if an output
            does not depend on the inputs).

    Returns:
        ``(func_output, jvp)``: ``jvp`` has the structure and shapes of the outputs.

    Raises:
        RuntimeError: for ``v`` of the wrong shape, or (``strict``) independent outputs; and
            from backward, for an op on the path without double backward.
    """
    with grad_mode.enable_grad():
        in_tuple, inputs = _prepare_inputs(inputs, create_graph, "jvp")
        out_tuple, outputs = _call(func, inputs, "jvp")
        v = _check_v(v, inputs, "jvp")
        # u: a dummy cotangent per output; J^T u is linear in u, its gradient along v is J v
        u = tuple(Tensor(np.zeros(o.shape, dtype=o.dtype), requires_grad=True)
                  for o in outputs)
        jtu = _grads(outputs, inputs, u, True, strict, "jvp")
        pairs = [(g, w) for g, w in zip(jtu, v) if g.requires_grad]
        if not pairs:
            res = tuple(_zeros_like(o) for o in outputs)
        else:
            gs, ws = zip(*pairs)
            res = _grads(gs, u, ws, create_graph, strict, "jvp")
    return _finish(outputs, out_tuple, create_graph), _finish(res, out_tuple, create_graph)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs`` (``torch.autograd.functional.jacobian``).

    Shapes: for an output of shape ``O`` and an input of shape ``I`` the block is a Tensor of
    shape ``O + I``. One input and one output give that Tensor; a tuple of inputs gives a tuple
    (one block per input); a tuple of outputs gives a tuple (one per output) of such results.

    Args:
        func (callable): takes Tensors (one per input), returns a Tensor or tuple of Tensors.
        inputs (Tensor or tuple of Tensors): the point.
        create_graph (bool): make the result differentiable.
        strict (bool): raise if an output does not depend on an input.
        vectorize, strategy: accepted for PyTorch compatibility; one backward pass per output
            element is always used.

    Raises:
        RuntimeError: (``strict``) for an output independent of an input.
    """
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"jacobian: strategy must be 'reverse-mode' or 'forward-mode', got "
                         f"{strategy!r}")
    with grad_mode.enable_grad():
        in_tuple, inputs = _prepare_inputs(inputs, create_graph, "jacobian")
        out_tuple, outputs = _call(func, inputs, "jacobian")
        blocks = []
        for o in outputs:
            rows = [[] for _ in inputs]
            flat = o.reshape(-1)
            for k in range(flat.shape[0]):
                e = np.zeros(flat.shape, dtype=o.dtype)
                e[k] = 1
                gs = _grads((flat,), inputs, (Tensor._make(e, False, None),), create_graph,
                            strict, "jacobian")
                for j, g in enumerate(gs):
                    rows[j].append(g)
            per_input = []
            for j, t in enumerate(inputs):
                if rows[j]:
                    block = stack(rows[j]).reshape(tuple(o.shape) + tuple(t.shape))
                else:  # an output with no elements
                    block = _zeros_like(Tensor._make(np.empty(tuple(o.shape) + tuple(t.shape),
                                                              dtype=t.dtype), False, None))
                per_input.append(block)
            blocks.append(_finish(per_input, in_tuple, create_graph))
    return tuple(blocks) if out_tuple else blocks[0]


def _scalar_output(func, fn):
    def wrapped(*inputs):
        out_tuple, outs = _call(func, inputs, fn)
        if out_tuple and len(outs) != 1:
            raise RuntimeError(f"{fn}: the user-provided function must return a single Tensor "
                               f"with one element, got a tuple of {len(outs)}")
        if outs[0].numel() != 1:
            raise RuntimeError(f"{fn}: the user-provided function must return a Tensor with a "
                               f"single element, got shape {tuple(outs[0].shape)}")
        return outs[0]
    return wrapped


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar function (``torch.autograd.functional.hessian``).

    Shapes: one input of shape ``I`` gives a Tensor of shape ``I + I``; a tuple of inputs gives a
    tuple of tuples, entry ``[i][j]`` of shape ``I_i + I_j``.

    Raises:
        RuntimeError: if ``func`` does not return a single-element Tensor; (``strict``) for an
            independent input.
    """
    scalar = _scalar_output(func, "hessian")

    def gradient(*inputs):
        with grad_mode.enable_grad():
            out = scalar(*inputs)
            return _grads((out,), inputs, (Tensor._make(np.ones(out.shape, dtype=out.dtype),
                                                        False, None),),
                          True, strict, "hessian")

    in_tuple, items = _as_tuple(inputs, "inputs", "hessian")
    res = jacobian(gradient, items, create_graph=create_graph, strict=strict)
    # jacobian of a tuple-valued function of a tuple: res[i][j] = d grad_i / d x_j
    return res if in_tuple else res[0][0]


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``v^T H`` for the Hessian ``H`` of a scalar function
    (``torch.autograd.functional.vhp``); returns ``(func_output, vhp)`` with ``vhp`` shaped as
    ``inputs``. For the twice-differentiable functions here ``H`` is symmetric, so it equals
    :func:`hvp`.

    Raises:
        RuntimeError: as :func:`vjp`, and if ``func`` does not return a single element.
    """
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``H v`` for the Hessian ``H`` of a scalar function (``torch.autograd.functional.hvp``);
    returns ``(func_output, hvp)`` with ``hvp`` shaped as ``inputs``. Computed as the gradient
    of ``grad(func) . v`` (Pearlmutter, 1994, "Fast exact multiplication by the Hessian").

    Raises:
        RuntimeError: as :func:`vjp`, and if ``func`` does not return a single element.
    """
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def _hessian_product(func, inputs, v, create_graph, strict, fn):
    scalar = _scalar_output(func, fn)
    with grad_mode.enable_grad():
        in_tuple, inputs = _prepare_inputs(inputs, create_graph, fn)
        out = scalar(*inputs)
        v = _check_v(v, inputs, fn)
        one = Tensor._make(np.ones(out.shape, dtype=out.dtype), False, None)
        g = _grads((out,), inputs, (one,), True, strict, fn)
        pairs = [(gi, vi) for gi, vi in zip(g, v) if gi.requires_grad]
        if not pairs:
            if strict:
                raise RuntimeError(f"{fn}: the gradient of the user-provided function is "
                                   "independent of the inputs; strict=True forbids it")
            res = tuple(_zeros_like(t) for t in inputs)
        else:
            gs, vs = zip(*pairs)
            res = _grads(gs, inputs, vs, create_graph, strict, fn, what="gradients")
    return _finish((out,), False, create_graph), _finish(res, in_tuple, create_graph)
