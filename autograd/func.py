"""Composable function transforms (``torch.func``): ``grad``, ``grad_and_value``, ``vjp``,
``jvp``, ``jacrev``, ``jacfwd``, ``hessian``, ``vmap`` and ``functional_call``.

::

    from autograd.func import grad, jacrev, vmap, functional_call
    dfdx = grad(lambda x: (x.sin() ** 2).sum())(x)            # same shape as x
    J = jacrev(f, argnums=1)(w, x)                            # f(w, x).shape + x.shape
    per_sample = vmap(grad(loss), in_dims=(None, 0, 0))(params, xs, ys)

How they are built (and where this differs from PyTorch's functorch):

- Every derivative is a loop over the tape engine's :func:`autograd.grad`. ``grad`` and
  ``vjp`` are one backward pass; ``jacrev`` (and ``jacfwd``, which returns the same Jacobian
  computed in reverse mode) run one backward pass per output element; ``jvp`` uses the
  "double backward trick" (differentiate ``u -> J^T u`` with respect to ``u``).
- Transforms nest (``jacfwd(jacrev(f))``, ``grad(grad(f))``, ``vmap(grad(f))``): while a
  transform runs, inner transforms build their results with ``create_graph=True`` so the outer
  one can differentiate them. At the outermost level the results keep a graph only when some
  tensor argument requires grad (the composition with ordinary autograd PyTorch offers); a
  closure over a requires-grad tensor that is not an argument is not tracked there.
- ``vmap`` batches, as functorch does: it calls ``func`` once with the mapped inputs as
  :class:`autograd._vmap.BatchedTensor` s (a physical tensor with the batch dim in front,
  showing the per-sample shape), and each op runs once on the whole batch by a *batching
  rule* (elementwise ops, reductions, shape ops and basic indexing, ``cat``/``stack``,
  ``where``, ``linear``/``matmul``); ``grad``/``vjp``/``jacrev``/``jacfwd``/``hessian``
  inside ``func`` differentiate the batched tape in one pass (per-sample results, since every
  rule maps sample ``i`` to sample ``i``). Whatever has no rule (reading values: ``item()``,
  ``numpy()``, Python control flow on values; in-place ops; random draws; an op without a
  rule) makes ``vmap`` discard the attempt and run its reference loop: ``func`` once per
  batch entry, results ``stack`` ed; exact, slower. ``randomness='error'`` detects a random
  draw by the default generator changing state; ``'same'`` replays the generator state for
  every entry; ``'different'`` lets each entry draw anew (both always loop).
- Inputs and outputs may be pytrees of tuples, lists and dicts of Tensors.
"""

import contextlib
import threading

import numpy as np

from . import _vmap, grad_mode
from .engine import grad as _autograd_grad
from .graph import _Unbatchable
from .ops.shape import cat, stack
from .random import default_generator
from .tensor import Tensor

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap",
           "functional_call"]

_state = threading.local()


def _depth():
    return getattr(_state, "depth", 0)


@contextlib.contextmanager
def _level():
    _state.depth = _depth() + 1
    try:
        with grad_mode.enable_grad():
            yield
    finally:
        _state.depth -= 1


# ---- pytrees ------------------------------------------------------------------------------------
def _flatten(tree):
    """``(leaves, spec)`` of a nest of tuples, lists and dicts (dict order kept)."""
    if isinstance(tree, (tuple, list)):
        leaves, specs = [], []
        for item in tree:
            lv, sp = _flatten(item)
            leaves += lv
            specs.append(sp)
        return leaves, (type(tree), specs)
    if isinstance(tree, dict):
        leaves, specs = [], []
        for k, item in tree.items():
            lv, sp = _flatten(item)
            leaves += lv
            specs.append(sp)
        return leaves, (dict, (list(tree.keys()), specs))
    return [tree], None


def _unflatten(leaves, spec):
    it = iter(leaves)

    def build(sp):
        if sp is None:
            return next(it)
        kind, inner = sp
        if kind is dict:
            keys, specs = inner
            return {k: build(s) for k, s in zip(keys, specs)}
        items = [build(s) for s in inner]
        if kind is list:
            return items
        if kind is tuple:
            return tuple(items)
        return kind(*items)   # namedtuple
    return build(spec)


def _spec_str(spec):
    return "a leaf" if spec is None else f"a {spec[0].__name__}"


def _tensor_leaves(tree):
    return [x for x in _flatten(tree)[0] if isinstance(x, Tensor)]


# ---- shared pieces ------------------------------------------------------------------------------
def _check_argnums(argnums, nargs, fn):
    nums = (argnums,) if isinstance(argnums, int) else argnums
    if not isinstance(nums, tuple) or not nums or not all(isinstance(a, int) for a in nums):
        raise RuntimeError(f"{fn}: argnums must be int or Tuple[int, ...], got: {argnums!r}")
    out = []
    for a in nums:
        if not -nargs <= a < nargs:
            raise RuntimeError(f"{fn}: Got argnums={a}, but only {nargs} positional inputs")
        out.append(a % nargs)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{fn}: argnums must be unique, got {argnums!r}")
    return out


def _wants_graph(args):
    """Whether results must stay differentiable: inside another transform, or when a tensor
    argument requires grad (composition with ordinary autograd)."""
    if not grad_mode.is_grad_enabled():
        return False
    return _depth() > 1 or any(t.requires_grad for t in _tensor_leaves(args))


def _diff_leaf(t, create_graph, fn):
    if not isinstance(t, Tensor):
        raise RuntimeError(f"{fn}: expected the differentiated arguments to be Tensors (or "
                           f"pytrees of Tensors), got {type(t).__name__}")
    if t.dtype.kind != "f":
        raise RuntimeError(f"{fn}: only floating point Tensors can be differentiated, got "
                           f"{t.dtype}")
    level = _vmap.current_level()
    if level and not _vmap.unwrap(t, level)[1]:
        return _vmap.batched_leaf(t, create_graph, level)
    if create_graph and t.requires_grad:
        return t.view_as(t)
    return t.detach().requires_grad_()


def _prepare(args, nums, create_graph, fn):
    """Replace ``args[i]`` for ``i`` in ``nums`` by differentiable copies; returns
    ``(new_args, [(leaves, spec) per argnum])``."""
    args = list(args)
    flat = []
    for i in nums:
        leaves, spec = _flatten(args[i])
        leaves = [_diff_leaf(t, create_graph, fn) for t in leaves]
        args[i] = _unflatten(leaves, spec)
        flat.append((leaves, spec))
    return args, flat


def _zeros(t):
    return Tensor._make(np.zeros(t.shape, dtype=t.dtype), False, None)


def _grads(outputs, inputs, grad_outputs, create_graph):
    """``autograd.grad`` with zeros for unused inputs and outputs that need no grad."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not pairs or not inputs:
        return [_zeros(t) for t in inputs]
    outs, gouts = zip(*pairs)
    if _vmap.current_level():
        level = _vmap.grads_level(outs, inputs, gouts)
        if level:  # inside a batched vmap: differentiate the physical (batched) tensors
            return _vmap.physical_grads(outs, inputs, gouts, level, _grads, create_graph)
    res = _autograd_grad(list(outs), list(inputs), list(gouts), retain_graph=True,
                         create_graph=create_graph, allow_unused=True)
    return [_zeros(t) if r is None else r for r, t in zip(res, inputs)]


def _detach_tree(tree, keep):
    if keep:
        return tree
    leaves, spec = _flatten(tree)
    return _unflatten([x.detach() if isinstance(x, Tensor) else x for x in leaves], spec)


def _split_aux(out, has_aux, fn):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{fn}(f, ...)(*args): output of function f should be a tuple: "
                           "(output, aux) if has_aux is True")
    return out


# ---- grad ---------------------------------------------------------------------------------------
def grad_and_value(func, argnums=0, has_aux=False):
    """``grad_and_value(func, argnums=0, has_aux=False)`` (``torch.func.grad_and_value``):
    a function returning ``(gradient, value)`` of the scalar-valued ``func``.

    Args:
        func (callable): returns a 0-d (one-element) Tensor, or ``(output, aux)`` with
            ``has_aux=True``.
        argnums (int or tuple of ints): the positional arguments to differentiate; each may be
            a pytree of Tensors. A tuple gives a tuple of gradients.
        has_aux (bool): ``func`` returns ``(output, aux)``; the result is
            ``(gradient, (value, aux))``.

    Shapes: each gradient has its argument's shape (and pytree structure); arguments the
    output does not depend on get zeros.

    Raises:
        RuntimeError: bad ``argnums``; ``func`` does not return a one-element Tensor
            (PyTorch's message); a differentiated argument is not a floating Tensor.
    """
    def wrapper(*args, **kwargs):
        with _level():
            nums = _check_argnums(argnums, len(args), "grad_and_value")
            cg = _wants_graph(args)
            new_args, flat = _prepare(args, nums, cg or _depth() > 1, "grad_and_value")
            out = func(*new_args, **kwargs)
            out, aux = _split_aux(out, has_aux, "grad_and_value")
            if not isinstance(out, Tensor):
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"Tensor, got {type(out).__name__}")
            if out.numel() != 1:
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"scalar Tensor, got tensor with {out.ndim} dims. Maybe you "
                                   "wanted to use the vjp or jacrev APIs instead?")
            leaves = [t for lv, _ in flat for t in lv]
            one = Tensor._make(np.ones(out.shape, dtype=out.dtype), False, None)
            gs = _grads([out], leaves, [one], cg)
            res, k = [], 0
            for lv, spec in flat:
                res.append(_unflatten(gs[k:k + len(lv)], spec))
                k += len(lv)
            g = res[0] if isinstance(argnums, int) else tuple(res)
            value = _detach_tree(out, cg)
            if has_aux:
                return g, (value, _detach_tree(aux, cg))
            return g, value
    wrapper.__name__ = f"grad_and_value({getattr(func, '__name__', 'f')})"
    wrapper.__doc__ = func.__doc__
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """``grad(func, argnums=0, has_aux=False)`` (``torch.func.grad``): a function returning
    the gradient of the scalar-valued ``func`` with respect to ``args[argnums]`` (a tuple of
    gradients for a tuple ``argnums``; ``(gradient, aux)`` with ``has_aux``).

    Shapes, dtypes and errors as :func:`grad_and_value`. Nests: ``grad(grad(f))(x)`` is the
    second derivative.
    """
    gv = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    wrapper.__name__ = f"grad({getattr(func, '__name__', 'f')})"
    wrapper.__doc__ = func.__doc__
    return wrapper


# ---- vjp / jvp ----------------------------------------------------------------------------------
def vjp(func, *primals, has_aux=False):
    """``vjp(func, *primals, has_aux=False)`` (``torch.func.vjp``): ``(output, vjp_fn)``, where
    ``vjp_fn(cotangents)`` returns a tuple with one ``cotangents^T J`` per primal.

    Args:
        func (callable): takes the primals, returns a Tensor or a pytree of Tensors (plus aux).
        primals: Tensors (or pytrees of Tensors), all differentiated.
        has_aux (bool): ``func`` returns ``(output, aux)``; ``vjp`` returns
            ``(output, vjp_fn, aux)``.

    ``vjp_fn`` may be called many times (``vmap(vjp_fn)(unit_vectors)`` gives a Jacobian); its
    cotangents must have the output's structure and shapes.

    Raises:
        RuntimeError: cotangents whose structure or shapes differ from the output's; a primal
            that is not a floating Tensor.
    """
    with _level():
        cg = _wants_graph(primals)
        args, flat = _prepare(primals, range(len(primals)), cg or _depth() > 1, "vjp")
        out = func(*args)
        out, aux = _split_aux(out, has_aux, "vjp")
        out_leaves, out_spec = _flatten(out)
        for o in out_leaves:
            if not isinstance(o, Tensor):
                raise RuntimeError(f"vjp(f, *primals): Expected f to be a function that has "
                                   f"only Tensors as outputs, got {type(o).__name__}")
    in_leaves = [t for lv, _ in flat for t in lv]

    def vjp_fn(cotangents):
        c_leaves, c_spec = _flatten(cotangents)
        if c_spec != out_spec and not (out_spec is None and len(c_leaves) == 1):
            if not (isinstance(cotangents, (tuple, list)) and len(cotangents) == 1
                    and out_spec is None):
                raise RuntimeError(f"vjp_fn: expected cotangents with the structure of the "
                                   f"output ({_spec_str(out_spec)}), got {_spec_str(c_spec)}")
        for c, o in zip(c_leaves, out_leaves):
            if not isinstance(c, Tensor) or tuple(c.shape) != tuple(o.shape):
                raise RuntimeError(f"vjp_fn: Mismatch in shape: cotangent has shape "
                                   f"{tuple(getattr(c, 'shape', ()))} and output has shape "
                                   f"{tuple(o.shape)}")
        with _level():
            keep = cg or _depth() > 1 or any(c.requires_grad for c in c_leaves)
            gs = _grads(out_leaves, in_leaves, c_leaves, keep and grad_mode.is_grad_enabled())
        res, k = [], 0
        for lv, spec in flat:
            res.append(_detach_tree(_unflatten(gs[k:k + len(lv)], spec), keep))
            k += len(lv)
        return tuple(res)

    out = _detach_tree(out, cg)
    if has_aux:
        return out, vjp_fn, _detach_tree(aux, cg)
    return out, vjp_fn


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """``jvp(func, primals, tangents, *, strict=False, has_aux=False)`` (``torch.func.jvp``):
    ``(output, J @ tangents)``.

    Args:
        func (callable): takes ``*primals``, returns a Tensor or pytree of Tensors.
        primals (tuple): the point (a tuple of Tensors / pytrees).
        tangents (tuple): one tangent per primal, same structure and shapes.
        strict: accepted for PyTorch compatibility.
        has_aux (bool): ``func`` returns ``(output, aux)``; returns ``(output, jvp_out, aux)``.

    Computed in reverse mode by the double backward trick, so every op on the path needs a
    differentiable backward.

    Raises:
        RuntimeError: ``primals``/``tangents`` not tuples, or their structures/shapes differ.
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to be "
                           "tuples")
    p_leaves, p_spec = _flatten(tuple(primals))
    t_leaves, t_spec = _flatten(tuple(tangents))
    if p_spec != t_spec:
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have "
                           "the same python structure")
    for p, t in zip(p_leaves, t_leaves):
        if not isinstance(t, Tensor) or tuple(t.shape) != tuple(p.shape):
            raise RuntimeError(f"jvp(f, primals, tangents): Expected primals and tangents to "
                               f"have the same shape, got {tuple(p.shape)} and "
                               f"{tuple(getattr(t, 'shape', ()))}")
    with _level():
        cg = _wants_graph((primals, tangents))
        args, flat = _prepare(tuple(primals), range(len(primals)), True, "jvp")
        out = func(*args)
        out, aux = _split_aux(out, has_aux, "jvp")
        out_leaves, out_spec = _flatten(out)
        in_leaves = [t for lv, _ in flat for t in lv]
        us = [_diff_leaf(_zeros(o), False, "jvp") for o in out_leaves]
        g = _grads(out_leaves, in_leaves, us, True)
        pairs = [(gi, ti) for gi, ti in zip(g, t_leaves) if gi.requires_grad]
        if pairs:
            res = _grads([p[0] for p in pairs], us, [p[1] for p in pairs], cg)
        else:
            res = [_zeros(o) for o in out_leaves]
        jv = _detach_tree(_unflatten(res, out_spec), cg)
        out = _detach_tree(out, cg)
    if has_aux:
        return out, jv, _detach_tree(aux, cg)
    return out, jv


# ---- Jacobians ----------------------------------------------------------------------------------
def _jacobian(func, argnums, has_aux, fn):
    def wrapper(*args, **kwargs):
        with _level():
            nums = _check_argnums(argnums, len(args), fn)
            cg = _wants_graph(args)
            new_args, flat = _prepare(args, nums, cg or _depth() > 1, fn)
            out = func(*new_args, **kwargs)
            out, aux = _split_aux(out, has_aux, fn)
            out_leaves, out_spec = _flatten(out)
            in_leaves = [t for lv, _ in flat for t in lv]
            blocks_per_out = []
            for o in out_leaves:
                if not isinstance(o, Tensor):
                    raise RuntimeError(f"{fn}(f, ...)(*args): Expected f(*args) to return only "
                                       f"Tensors, got {type(o).__name__}")
                rows = [[] for _ in in_leaves]
                flat_o = o.reshape(-1)
                for k in range(flat_o.shape[0]):
                    e = np.zeros(flat_o.shape, dtype=o.dtype)
                    e[k] = 1
                    gs = _grads([flat_o], in_leaves, [Tensor._make(e, False, None)], cg)
                    for j, gj in enumerate(gs):
                        rows[j].append(gj)
                blocks = []
                for j, t in enumerate(in_leaves):
                    shape = tuple(o.shape) + tuple(t.shape)
                    blocks.append(stack(rows[j]).reshape(shape) if rows[j] else
                                  _zeros(Tensor._make(np.empty(shape, t.dtype), False, None)))
                res, k = [], 0
                for lv, spec in flat:
                    res.append(_unflatten(blocks[k:k + len(lv)], spec))
                    k += len(lv)
                blocks_per_out.append(res[0] if isinstance(argnums, int) else tuple(res))
            jac = _detach_tree(_unflatten(blocks_per_out, out_spec), cg)
            if has_aux:
                return jac, _detach_tree(aux, cg)
            return jac
    wrapper.__name__ = f"{fn}({getattr(func, '__name__', 'f')})"
    wrapper.__doc__ = func.__doc__
    return wrapper


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """``jacrev(func, argnums=0, *, has_aux=False, chunk_size=None)`` (``torch.func.jacrev``):
    a function returning the Jacobian of ``func`` with respect to ``args[argnums]``.

    Shapes: for an output of shape ``O`` and an argument of shape ``I`` the Jacobian has shape
    ``O + I``; tuple ``argnums`` give a tuple, pytree outputs give the same pytree of those.
    One backward pass per output element (``chunk_size`` is accepted and ignored). With
    ``has_aux`` returns ``(jacobian, aux)``.

    Raises:
        RuntimeError: bad ``argnums``; a non-Tensor output; a non-floating argument.
    """
    return _jacobian(func, argnums, has_aux, "jacrev")


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """``jacfwd(func, argnums=0, has_aux=False, *, randomness='error')``
    (``torch.func.jacfwd``): the Jacobian, as :func:`jacrev` returns it.

    Difference from PyTorch: tapegrad has no forward-mode AD; the same Jacobian is computed in
    reverse mode (one backward pass per output element), so cost grows with the output size
    rather than the input size. ``randomness`` is accepted for compatibility.
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"jacfwd: Only allowed values for randomness are 'error', "
                           f"'different', or 'same'. Got {randomness}")
    return _jacobian(func, argnums, has_aux, "jacfwd")


def hessian(func, argnums=0):
    """``hessian(func, argnums=0)`` (``torch.func.hessian``): ``jacfwd(jacrev(func, argnums),
    argnums)``; for a scalar output and an argument of shape ``I`` the result has shape
    ``I + I`` (``O + I + I`` in general)."""
    return jacfwd(jacrev(func, argnums), argnums)


# ---- vmap ---------------------------------------------------------------------------------------
def _dims_per_leaf(arg, dim, k, fn):
    leaves, spec = _flatten(arg)
    if dim is None or isinstance(dim, int):
        return leaves, spec, [dim] * len(leaves)
    d_leaves, d_spec = _flatten(dim)
    if d_spec != spec:
        raise ValueError(f"{fn}: in_dim for argument {k} ({dim!r}) is not compatible with the "
                         f"structure of that input ({_spec_str(spec)})")
    return leaves, spec, d_leaves


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``vmap(func, in_dims=0, out_dims=0, randomness='error', *, chunk_size=None)``
    (``torch.func.vmap``): map ``func`` over a dimension of its inputs.

    Args:
        func (callable): takes the per-example inputs, returns Tensors (or a pytree of them).
        in_dims (int, None, or tuple): the mapped dim of each positional argument (``None``:
            passed unchanged to every call); a tuple has one entry per argument, each an int,
            ``None``, or a pytree matching that argument. Keyword arguments are never mapped.
        out_dims (int or tuple): where the mapped dim goes in each output.
        randomness (str): ``'error'`` (a random draw inside ``func`` raises), ``'different'``
            (each entry draws its own numbers), ``'same'`` (every entry sees the same numbers).
        chunk_size (int, optional): batch at most this many samples per call of ``func``
            (PyTorch's meaning); ``None`` (default) batches them all at once.

    Implementation (differs from PyTorch in what is batched): ``func`` runs once on the whole
    batch, as with PyTorch's batching rules: the mapped inputs are BatchedTensors (the mapped
    dim moved to the front of a physical tensor; ``shape``, ``ndim``, ``size()``, ``len()``
    are the per-sample ones) and every op runs once by its batching rule. Batched: the
    one-input elementwise ops (math, activations, casts, ``clone``/``detach``), binary
    arithmetic and comparisons with broadcasting, ``where``, ``clamp``, ``maximum``/
    ``minimum``; ``sum``/``mean``/``prod``/``amax``/``amin``/``max()``/``min()``/norms/
    ``softmax``/``log_softmax``/``cumsum``/``cumprod`` (``dim``, ``keepdim``, ``dim=None``);
    ``reshape``/``view``/``flatten``/``(un)squeeze``/``transpose``/``permute``/``movedim``/
    ``expand``/``contiguous``; basic indexing (ints, slices, ``None``, ``...``); ``cat``/
    ``stack``; ``linear``/``matmul``/``mm``/``mv``/``bmm``/``dot``; and ``grad``, ``vjp``,
    ``jacrev``, ``jacfwd``, ``hessian`` and nested ``vmap`` inside ``func`` (an unbatched
    argument they differentiate is expanded to the batch, giving per-sample gradients).
    Anything else — an op without a rule (e.g. ``max(dim)`` with indices, advanced
    indexing, convolutions), reading values (``item()``, ``tolist()``, ``numpy()``,
    ``float()``, printing, ``if`` on a tensor), in-place ops, ``.data``/``.grad``/``grad_fn``
    of a mapped input, ``randomness='same'``/``'different'``, ``vmap(vjp_fn)`` over
    cotangents of a graph recorded outside the vmap — makes ``vmap`` discard the batched
    attempt (``func`` must be free of side effects, as PyTorch requires) and run the
    reference loop: ``func`` once per index of the mapped dim, the outputs stacked with
    :func:`autograd.stack`; exact, differentiable, but no faster than a loop. Results equal
    the loop's up to floating-point rounding (a batched matrix product rounds like PyTorch's
    batched one, not like per-sample products). Random draws are detected through the
    default generator only (as the loop's ``'error'`` check): a draw from an explicit
    ``generator=`` inside ``func`` is made once for the whole batch (PyTorch raises).

    Raises:
        ValueError: ``in_dims`` not matching the arguments; no mapped Tensor; an ``in_dim`` out
            of range; mapped sizes that differ (PyTorch's wording); a non-Tensor output; a
            ``chunk_size`` that is not a positive int.
        RuntimeError: a random draw with ``randomness='error'``.
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"vmap: Only allowed values for randomness are 'error', "
                           f"'different', or 'same'. Got {randomness}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got "
                         f"{chunk_size!r})")
    name = getattr(func, "__name__", "f")

    def wrapped(*args, **kwargs):
        fn = f"vmap({name}, in_dims={in_dims}, ...)(<inputs>)"
        if isinstance(in_dims, (int, type(None))):
            dims = [in_dims] * len(args)
        elif isinstance(in_dims, (tuple, list)):
            if len(in_dims) != len(args):
                raise ValueError(f"{fn}: in_dims is not compatible with the structure of "
                                 f"`inputs`. in_dims has {len(in_dims)} entries but inputs has "
                                 f"{len(args)} positional arguments")
            dims = list(in_dims)
        else:
            raise ValueError(f"{fn}: expected `in_dims` to be int or a (potentially nested) "
                             f"tuple matching the structure of inputs, got: {type(in_dims)}.")
        per_arg, sizes = [], []
        for k, (a, d) in enumerate(zip(args, dims)):
            leaves, spec, ds = _dims_per_leaf(a, d, k, fn)
            norm = []
            for x, dd in zip(leaves, ds):
                if dd is None:
                    norm.append(None)
                    continue
                if not isinstance(x, Tensor):
                    raise ValueError(f"{fn}: Got in_dim={dd} for an input but the input is of "
                                     f"type {type(x).__name__}. We cannot vmap over non-Tensor "
                                     "arguments, please use None as the respective in_dim")
                if not -x.ndim <= dd < x.ndim:
                    raise ValueError(f"{fn}: Got in_dim={dd} for some input, but that input is "
                                     f"a Tensor of dimensionality {x.ndim} so expected in_dim "
                                     f"to satisfy -{x.ndim} <= in_dim < {x.ndim}.")
                dd %= x.ndim
                norm.append(dd)
                sizes.append(x.shape[dd])
            per_arg.append((leaves, spec, norm))
        if not sizes:
            raise ValueError(f"{fn}: at least one input must be a Tensor to vmap over (got "
                             "in_dims that are all None, or no Tensor inputs)")
        if len(set(sizes)) != 1:
            raise ValueError(f"{fn}: Expected all tensors to have the same size in the mapped "
                             f"dimension, got sizes {sizes} for the mapped dimension")
        size = sizes[0]
        if size == 0:
            raise ValueError(f"{fn}: the mapped dimension has size 0; tapegrad's vmap loops "
                             "over it and cannot infer the output shapes")
        if _vmap.config["enabled"] and randomness == "error":
            res = _vmap_batched(func, per_arg, size, kwargs, out_dims, fn, name, chunk_size)
            if res is not _FALLBACK:
                return res
        return _vmap_loop(func, per_arg, size, kwargs, out_dims, fn, name, randomness)
    wrapped.__name__ = f"vmap({name})"
    wrapped.__doc__ = func.__doc__
    return wrapped


_FALLBACK = object()


def _out_dims_per_leaf(out_dims, out, n, fn):
    if isinstance(out_dims, (int, type(None))):
        return [out_dims] * n
    od_leaves, od_spec = _flatten(out_dims if isinstance(out_dims, (tuple, list))
                                  and isinstance(out, (tuple, list)) else out_dims)
    if len(od_leaves) != n:
        raise ValueError(f"{fn}: out_dims is not compatible with the structure of "
                         f"`outputs`. out_dims has {len(od_leaves)} entries but the "
                         f"output has {n}")
    return od_leaves


def _vmap_batched(func, per_arg, size, kwargs, out_dims, fn, name, chunk_size):
    """One call of ``func`` on the whole batch (see :mod:`autograd._vmap`), or ``_FALLBACK``
    when something in ``func`` has no batching rule (or fails batched: the loop then gives the
    genuine error). ``chunk_size`` splits the batch into calls of at most that many samples."""
    if chunk_size is not None and 0 < chunk_size < size:
        parts = []
        for start in range(0, size, chunk_size):
            n = min(chunk_size, size - start)
            sub = [([x if d is None else x.narrow(d, start, n) for x, d in zip(leaves, norm)],
                    spec, norm) for leaves, spec, norm in per_arg]
            r = _vmap_batched(func, sub, n, kwargs, out_dims, fn, name, None)
            if r is _FALLBACK:
                return r
            parts.append(r)
        leaves0, spec = _flatten(parts[0])
        columns = [_flatten(p)[0] for p in parts]
        odims = _out_dims_per_leaf(out_dims, parts[0], len(leaves0), fn)
        joined = []
        for j, od in enumerate(odims):
            if od is None:
                joined.append(leaves0[j])
            else:
                joined.append(cat([c[j] for c in columns], dim=od))
        return _unflatten(joined, spec)
    state = default_generator.get_state()
    level = _vmap.push_level(size)
    try:
        call_args = []
        for leaves, spec, norm in per_arg:
            call_args.append(_unflatten(
                [x if d is None else _vmap.wrap(x if d == 0 else x.movedim(d, 0), level)
                 for x, d in zip(leaves, norm)], spec))
        out = func(*call_args, **kwargs)
        if default_generator.get_state() != state:
            raise _Unbatchable(level)  # a random draw: the loop raises randomness' error
        leaves, spec = _flatten(out)
        if not all(isinstance(x, Tensor) for x in leaves):
            raise _Unbatchable(level)  # the loop raises the error
        odims = _out_dims_per_leaf(out_dims, out, len(leaves), fn)
        results = []
        for x, od in zip(leaves, odims):
            p, batched = _vmap.unwrap(x, level)
            if not batched:
                p = _vmap.materialize(p, size).clone()
            if od is None:
                results.append(p[0])
                continue
            nd = x.ndim + 1
            if not -nd <= od < nd:
                raise _Unbatchable(level)  # the loop raises the error
            od %= nd
            results.append(p if od == 0 else p.movedim(0, od))
        _vmap.stats["batched"] += 1
        return _unflatten(results, spec)
    except _Unbatchable as e:
        if e.level is not None and e.level < level:
            raise  # an outer vmap's tensor has no rule here: that vmap falls back
        if _vmap.config["strict"]:
            raise RuntimeError(f"{fn}: the batched path fell back to the loop") from e
    except Exception:
        if _vmap.config["strict"]:
            raise
    finally:
        _vmap.pop_level(level)
    default_generator.set_state(state)
    _vmap.stats["fallback"] += 1
    return _FALLBACK


def _vmap_loop(func, per_arg, size, kwargs, out_dims, fn, name, randomness):
    """The reference implementation (and the fallback): one call of ``func`` per sample, the
    outputs stacked."""
    state = default_generator.get_state()
    results, out_spec = [], None
    for i in range(size):
        call_args = []
        for leaves, spec, norm in per_arg:
            sl = [x if d is None else x[(slice(None),) * d + (i,)]
                  for x, d in zip(leaves, norm)]
            call_args.append(_unflatten(sl, spec))
        if randomness == "same":
            default_generator.set_state(state)
        before = default_generator.get_state() if randomness == "error" else None
        out = func(*call_args, **kwargs)
        if randomness == "error" and default_generator.get_state() != before:
            raise RuntimeError("vmap: called random operation while in randomness error "
                               "mode. Please either use the 'same' or 'different' "
                               "randomness flags on vmap or perform the randomness "
                               "operation out of vmap")
        leaves, spec = _flatten(out)
        for x in leaves:
            if not isinstance(x, Tensor):
                raise ValueError(f"{fn}: `{name}` must only return Tensors, got type "
                                 f"{type(x)}. Did you mean to set out_dims= to None for "
                                 "output?")
        if out_spec is None and i == 0:
            out_spec = spec
        results.append(leaves)
    if isinstance(out_dims, (int, type(None))):
        odims = [out_dims] * len(results[0])
    else:
        od_leaves, od_spec = _flatten(out_dims if isinstance(out_dims, (tuple, list))
                                      and isinstance(out, (tuple, list)) else out_dims)
        if len(od_leaves) != len(results[0]):
            raise ValueError(f"{fn}: out_dims is not compatible with the structure of "
                             f"`outputs`. out_dims has {len(od_leaves)} entries but the "
                             f"output has {len(results[0])}")
        odims = od_leaves
    stacked = []
    for j, od in enumerate(odims):
        column = [r[j] for r in results]
        if od is None:
            stacked.append(column[0])
            continue
        nd = column[0].ndim + 1
        if not -nd <= od < nd:
            raise ValueError(f"{fn}: out_dim={od} is out of range for an output of "
                             f"{nd - 1} dims")
        stacked.append(stack(column, dim=od % nd))
    return _unflatten(stacked, out_spec)


# ---- functional_call ----------------------------------------------------------------------------
def _owner(module, dotted):
    parts = dotted.split(".")
    m = module
    for p in parts[:-1]:
        m = getattr(m, p)
    return m, parts[-1]


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """``functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
    tie_weights=True, strict=False)`` (``torch.func.functional_call``): call ``module`` with
    its parameters and buffers replaced by the given Tensors, then put the originals back.

    Args:
        module: an ``nn.Module``.
        parameter_and_buffer_dicts (dict or tuple of dicts): ``{"fc1.weight": tensor, ...}``
            keyed like ``named_parameters()``/``named_buffers()``; keys absent keep the
            module's own tensors (unless ``strict``).
        args: one positional argument or a tuple of them; kwargs: a dict.
        tie_weights: accepted (tied names, given once, are replaced wherever they are used only
            when each name is given).
        strict (bool): require exactly the module's parameter and buffer names.

    Raises:
        ValueError: the same key in two of the dicts.
        RuntimeError: with ``strict``, missing or unexpected keys (PyTorch's wording); a key
            naming no submodule.
    """
    if isinstance(parameter_and_buffer_dicts, dict):
        mapping = dict(parameter_and_buffer_dicts)
    else:
        mapping = {}
        for d in parameter_and_buffer_dicts:
            for k in d:
                if k in mapping:
                    raise ValueError(f"functional_call: {k} appeared in multiple dictionaries; "
                                     "behavior of functional call is ambiguous")
            mapping.update(d)
    if strict:
        names = [n for n, _ in module.named_parameters()] + [n for n, _ in
                                                             module.named_buffers()]
        missing = [n for n in names if n not in mapping]
        unexpected = [k for k in mapping if k not in names]
        if missing or unexpected:
            lines = []
            if unexpected:
                lines.append("Unexpected key(s): " + ", ".join(repr(k) for k in unexpected)
                             + ".")
            if missing:
                lines.append("Missing key(s): " + ", ".join(repr(k) for k in missing) + ".")
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t"
                               + "\n\t".join(lines))
    saved = []
    try:
        for key, value in mapping.items():
            try:
                owner, attr = _owner(module, key)
            except AttributeError:
                raise RuntimeError(f"functional_call: {key!r} names no submodule of "
                                   f"{type(module).__name__}") from None
            for store in ("_parameters", "_buffers"):
                d = owner.__dict__.get(store)
                if d is not None and attr in d:
                    saved.append((d, attr, d[attr]))
                    d[attr] = value
                    break
            else:
                saved.append((owner.__dict__, attr, owner.__dict__.get(attr, _MISSING)))
                owner.__dict__[attr] = value
        if args is None:
            args = ()
        elif not isinstance(args, tuple):
            args = (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for d, attr, old in reversed(saved):
            if old is _MISSING:
                d.pop(attr, None)
            else:
                d[attr] = old


_MISSING = object()
