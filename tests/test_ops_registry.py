"""Every op of the registry (``tests/opinfo.py``) through the same checks:

- ``test_gradcheck``: float64 ``gradcheck`` (and ``gradgradcheck`` where the entry supports
  second derivatives) over hypothesis-drawn shapes, broadcasting and memory layouts;
- ``test_forward``: the forward against the NumPy reference in float32 and float64, output and
  gradient dtypes and shapes kept, the Tensor method giving the same values;
- ``test_matches_torch``: forward (values, shapes, dtypes, requires_grad) and the input
  gradients of a random vector-Jacobian product against PyTorch (skips without torch);
- ``test_every_public_op_has_an_entry``: the guard. A public op of ``autograd.ops.*`` (the
  names in each family module's ``__all__``) needs an entry, an alias in one, or a line in
  ``opinfo.COVERED_ELSEWHERE`` saying where it is tested.

Few examples per op (``max_examples`` below): the registry is wide, not deep; the profile
``HYPOTHESIS_PROFILE=thorough`` raises it.
"""

import importlib
import os
import pkgutil

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import autograd
import autograd.ops
from autograd import Tensor
from conftest import assert_matches_torch, layouts, relayout, seeds
from opinfo import (COVERED_ELSEWHERE, OPS, REGISTRY, Const, call_einsum, call_list,
                    sample_tensor)

EXAMPLES = 40 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 6
few = settings(max_examples=EXAMPLES, phases=[Phase.explicit, Phase.reuse, Phase.generate])

GRAD_OPS = sorted(n for n, i in REGISTRY.items() if i.grad)
REF_OPS = sorted(n for n, i in REGISTRY.items() if i.ref is not None)
TORCH_OPS = sorted(n for n, i in REGISTRY.items() if i.torch is not None)
DTYPES = ["float32", "float64"]


# ---- building each library's inputs ----------------------------------------------------------
def _ref_input(a, dtype):
    """The reference's input: the same values (rounded to ``dtype``) in float64."""
    if isinstance(a, Const):
        a = a.array
    a = np.asarray(a)
    return a.astype(dtype).astype(np.float64) if a.dtype.kind == "f" else a


def _kwargs(sample, conv):
    return {k: conv(v) if isinstance(v, Const) else v for k, v in sample.kwargs.items()}


def _flat(out):
    """The outputs as a flat list (tuples, lists and named tuples unpacked)."""
    if isinstance(out, (tuple, list)):
        return [o for item in out for o in _flat(item)]
    return [out]


def _draw(info, data, seed):
    rng = np.random.default_rng(seed)
    return info.sample(data.draw, rng), rng


def _run(info, f, tensors, sample, conv=None):
    kwargs = _kwargs(sample, conv) if conv else sample.kwargs
    return info.call(f, *tensors, *sample.args, **kwargs)


# ---- gradcheck --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", GRAD_OPS)
@few
@given(data=st.data(), seed=seeds, layout=layouts)
def test_gradcheck(name, data, seed, layout):
    info = REGISTRY[name]
    sample, _ = _draw(info, data, seed)
    tensors = [sample_tensor(autograd, a, np.float64) for a in sample.inputs]
    wrt = [i for i, t in enumerate(tensors) if t.requires_grad]
    assert wrt, f"{name}: the sample has no floating input"
    lay = layout if info.layouts else "contiguous"
    conv = (lambda c: Tensor(c.array.astype(np.float64)))

    def fn(*xs):
        ts = list(tensors)
        for i, x in zip(wrt, xs):
            ts[i] = relayout(x, lay)
        outs = _flat(_run(info, info.op, ts, sample, conv))
        return tuple(o for o in outs if o.dtype.kind == "f")

    xs = [tensors[i] for i in wrt]
    outs = fn(*xs)
    assert all(o.requires_grad for o in outs), f"{name}: a floating output without grad_fn"
    if not sample.gradcheck or not outs or all(o.numel() == 0 for o in outs):
        return  # nothing to check (e.g. an empty selection)
    assert autograd.gradcheck(fn, xs, **info.gradcheck_kw), sample
    if info.gradgrad:
        assert autograd.gradgradcheck(fn, xs, **info.gradcheck_kw), sample


# ---- forward against NumPy; dtypes ------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", REF_OPS)
@few
@given(data=st.data(), seed=seeds)
def test_forward(name, dtype, data, seed):
    info = REGISTRY[name]
    sample, rng = _draw(info, data, seed)
    tensors = [sample_tensor(autograd, a, dtype, requires_grad=info.grad) for a in sample.inputs]
    conv = (lambda c: Tensor(c.array.astype(dtype)))
    outs = _flat(_run(info, info.op, tensors, sample, conv))
    refs = _flat(_run(info, info.ref, [_ref_input(a, dtype) for a in sample.inputs], sample,
                      lambda c: c.array.astype(np.float64)))
    assert len(outs) == len(refs), f"{name}: {len(outs)} outputs, reference {len(refs)}"
    for k, (o, r) in enumerate(zip(outs, refs)):
        r = np.asarray(r)
        assert o.shape == r.shape, f"{name} output {k}: shape {o.shape}, reference {r.shape}"
        if r.dtype.kind == "f":
            if info.keeps_dtype:
                assert o.dtype == np.dtype(dtype), f"{name} output {k}: {o.dtype} for {dtype}"
            np.testing.assert_allclose(o._data.astype(np.float64), r, equal_nan=True,
                                       err_msg=f"{name} output {k} {sample}",
                                       **info.ref_tol(dtype))
        else:
            assert o.dtype.kind == r.dtype.kind or (r.dtype.kind in "iu" and o.dtype.kind in "iu")
            np.testing.assert_array_equal(o._data, r, err_msg=f"{name} output {k}")
    # the Tensor method of the same name is the same op
    method = info.name if info.method is True else info.method
    if method and info.call not in (call_list, call_einsum) and hasattr(Tensor, method):
        def by_method(x, *rest, **kw):
            return getattr(x, method)(*rest, **kw)
        again = _flat(_run(info, by_method, tensors, sample, conv))
        assert len(again) == len(outs)
        for o, m in zip(outs, again):
            np.testing.assert_array_equal(o._data, m._data, err_msg=f"Tensor.{method}")
    # gradients come back in the inputs' dtype and shape
    if not info.grad:
        return
    loss = None
    for o in outs:
        if o.requires_grad and o.dtype.kind == "f":
            g = Tensor(rng.standard_normal(o.shape).astype(o.dtype))
            term = (o * g).sum()
            loss = term if loss is None else loss + term
    if loss is None:
        return
    loss.backward()
    for i, t in enumerate(tensors):
        if t.requires_grad and t.grad is not None:
            assert t.grad.dtype == t.dtype and t.grad.shape == t.shape, \
                f"{name} grad {i}: {t.grad.dtype}{t.grad.shape} for {t.dtype}{t.shape}"


# ---- against PyTorch --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", TORCH_OPS)
@few
@given(data=st.data(), seed=seeds)
def test_matches_torch(torch, name, dtype, data, seed):
    info = REGISTRY[name]
    sample, rng = _draw(info, data, seed)
    tol = info.torch_tolerance(dtype)
    grad = info.grad and info.torch_grad
    ours = [sample_tensor(autograd, a, dtype, requires_grad=grad) for a in sample.inputs]
    theirs = [sample_tensor(torch, a, dtype) for a in sample.inputs]
    if not grad:
        theirs = [t.detach() for t in theirs]
    outs = _flat(_run(info, info.op, ours, sample, lambda c: Tensor(c.array.astype(dtype))))
    touts = _flat(_run(info, info.torch_fn(torch), theirs, sample,
                       lambda c: torch.tensor(c.array.astype(dtype))))
    assert_matches_torch(torch, name, ours, theirs, outs, touts, rng, tol, label=f" {sample}",
                         equal_nan=True)


# ---- the guard --------------------------------------------------------------------------------
def _public_ops():
    """``{name: function}`` of every family module of ``autograd.ops``: its ``__all__``, or its
    public functions defined there when it has none."""
    ops = {}
    for mod in pkgutil.iter_modules(autograd.ops.__path__):
        if mod.name.startswith("_"):
            continue
        m = importlib.import_module(f"autograd.ops.{mod.name}")
        names = getattr(m, "__all__", None)
        if names is None:
            names = [n for n, v in vars(m).items() if not n.startswith("_") and callable(v)
                     and getattr(v, "__module__", None) == m.__name__ and
                     not isinstance(v, type)]
        for n in names:
            ops[n] = getattr(m, n)
    return ops


def test_every_public_op_has_an_entry():
    ops = _public_ops()
    covered = set(REGISTRY) | set(COVERED_ELSEWHERE)
    aliases = {a: info for info in OPS for a in info.aliases}
    missing = sorted(n for n in ops if n not in covered and n not in aliases)
    assert not missing, (
        f"public ops with no registry entry: {missing}; add an OpInfo line to tests/opinfo.py "
        "(or, with the reason, a line to its COVERED_ELSEWHERE)")
    stale = sorted((covered | set(aliases)) - set(ops))
    assert not stale, f"registry names that are no public op: {stale}"
    for name, info in REGISTRY.items():
        assert info.op is ops[name], f"{name}: the entry tests another function"
    for alias, info in aliases.items():
        assert ops[alias] is info.op, f"{alias} is not the same function as {info.name}"
    assert not set(REGISTRY) & set(COVERED_ELSEWHERE)
