"""Shared test helpers: hypothesis profile and strategies, tensor builders, the torch fixture.

- ``shapes()`` draws shapes of 0-3 dims with sizes 1-4; ``broadcastable_shapes(n)`` draws ``n``
  mutually broadcastable shapes (and their broadcast result).
- ``leaf(rng, shape, ...)`` builds a float64 leaf tensor that requires grad, values drawn from a
  chosen distribution (``"normal"``, ``"positive"``, ``"away0"``, ``"distinct"``); with
  ``contiguous=False`` its array is a transposed (Fortran-order) NumPy array.
- ``relayout(t, layout)`` makes a *differentiable* non-contiguous copy of ``t`` with the same
  shape and values: gradcheck perturbs ``.data`` in place and needs contiguous leaves, so
  non-contiguous inputs are produced inside the function under test.
- ``assert_matches_torch(...)`` compares outputs and the gradients of a random vector-Jacobian
  product with PyTorch's (the comparison of test_ops_registry.py and test_ops_torch.py).
- ``torch`` is a session fixture: ``pytest.importorskip("torch")``, so tests that use it skip
  cleanly where PyTorch is not installed.

Hypothesis profiles: ``tapegrad`` (the default: few examples, no deadline, so the suite stays
fast on 2 cores) and ``thorough`` (``HYPOTHESIS_PROFILE=thorough``).
"""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd

settings.register_profile(
    "tapegrad", max_examples=25, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "thorough", max_examples=200, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "tapegrad"))

MAX_SIDE = 4


# ---- strategies ---------------------------------------------------------------------------------
def shapes(min_dims=0, max_dims=3, min_side=1, max_side=MAX_SIDE):
    """Shapes with ``min_dims..max_dims`` dimensions of sizes ``min_side..max_side``."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=MAX_SIDE):
    """``num_shapes`` shapes that broadcast together: a ``BroadcastableShapes`` with
    ``input_shapes`` and ``result_shape``."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims,
                                             max_dims=max_dims, min_side=1, max_side=max_side)


seeds = st.integers(min_value=0, max_value=2 ** 32 - 1)
layouts = st.sampled_from(["contiguous", "transposed"])


@st.composite
def dims_for(draw, ndim, allow_none=True, allow_tuple=True):
    """A ``dim`` argument for a tensor of ``ndim`` dims: None, an int (maybe negative) or a
    tuple of distinct ints."""
    n = max(ndim, 1)
    options = [st.integers(-n, n - 1)]
    if allow_none:
        options.append(st.none())
    if allow_tuple and ndim:
        options.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim,
                                unique=True).map(lambda ds: tuple(
                                    d - ndim if i % 2 else d for i, d in enumerate(ds))))
    return draw(st.one_of(*options))


# ---- tensor builders ----------------------------------------------------------------------------
def values(rng, shape, kind="normal"):
    """float64 values of ``shape``:

    - ``normal``: N(0, 1);
    - ``positive``: U(0.5, 2);
    - ``away0``: |x| in U(0.3, 2) with a random sign (for abs/relu/division);
    - ``distinct``: a random permutation of a grid with spacing 0.3 plus one common offset, so
      no two elements are within 0.3 of each other (no ties for max/min/sort-like ops).
    """
    shape = tuple(shape)
    n = int(np.prod(shape, dtype=np.int64))
    if kind == "normal":
        out = rng.standard_normal(n)
    elif kind == "positive":
        out = rng.uniform(0.5, 2.0, n)
    elif kind == "away0":
        out = rng.uniform(0.3, 2.0, n) * rng.choice([-1.0, 1.0], n)
    elif kind == "distinct":
        out = (rng.permutation(n) - n / 2) * 0.3 + rng.uniform(-0.05, 0.05)
    else:
        raise ValueError(kind)
    return out.reshape(shape)


def leaf(rng, shape, kind="normal", dtype=np.float64, requires_grad=True, contiguous=True):
    """A leaf tensor of ``shape`` with values from :func:`values`.

    With ``contiguous=False`` (and at least 2 dims) the array is the transpose of a C-ordered
    array, i.e. not C-contiguous; such tensors are for forward/backward comparisons, not for
    gradcheck (which perturbs contiguous inputs in place).
    """
    arr = values(rng, shape, kind).astype(dtype)
    if not contiguous and arr.ndim >= 2:
        arr = np.ascontiguousarray(arr.T).T
        assert sum(n > 1 for n in arr.shape) < 2 or not arr.flags.c_contiguous
    return autograd.Tensor(arr, requires_grad=requires_grad)


def relayout(t, layout):
    """``t`` itself, or a non-contiguous tensor with the same shape and values that stays in the
    graph (reverse the dims, copy, reverse back)."""
    if layout == "contiguous" or t.ndim < 2:
        return t
    rev = tuple(range(t.ndim - 1, -1, -1))
    out = t.permute(rev).contiguous().permute(rev)
    assert out.shape == t.shape
    if sum(n > 1 for n in t.shape) >= 2:  # otherwise every layout is contiguous
        assert not out._data.flags.c_contiguous
    return out


def check_grad(fn, *inputs, gradgrad=False, **kw):
    """``autograd.gradcheck`` (and optionally ``gradgradcheck``) that raises on failure."""
    assert autograd.gradcheck(fn, inputs, **kw)
    if gradgrad:
        assert autograd.gradgradcheck(fn, inputs, **kw)


# ---- comparing with PyTorch ---------------------------------------------------------------------
def torch_dtype_name(t):
    """A torch tensor's dtype as NumPy spells it (``torch.float32`` -> ``"float32"``)."""
    return str(t.dtype).replace("torch.", "")


def assert_matches_torch(torch, name, ours, theirs, outs, touts, rng, tol, label="",
                         equal_nan=False):
    """tapegrad's outputs ``outs`` (of inputs ``ours``) against PyTorch's ``touts`` (of
    ``theirs``): each output's shape, dtype, values (``tol``: rtol/atol) and requires_grad; then
    the input gradients of one random vector-Jacobian product over all outputs that require
    grad: present where PyTorch's is (zero or None where PyTorch's is None), same shape, dtype
    (the input's) and values. ``label`` is added to the value messages."""
    assert len(outs) == len(touts)
    ours_loss = theirs_loss = None
    for k, (o, t) in enumerate(zip(outs, touts)):
        assert o.shape == tuple(t.shape), f"{name} output {k}: shape {o.shape} vs {tuple(t.shape)}"
        assert str(o.dtype) == torch_dtype_name(t), \
            f"{name} output {k}: dtype {o.dtype} vs {t.dtype}"
        np.testing.assert_allclose(o._data, t.detach().numpy(), equal_nan=equal_nan,
                                   err_msg=f"{name} output {k}{label}", **tol)
        assert o.requires_grad == t.requires_grad, f"{name} output {k}: requires_grad"
        if t.requires_grad:
            g = rng.standard_normal(o.shape).astype(o.dtype)
            lo = (o * autograd.Tensor(g)).sum()
            lt = (t * torch.tensor(g)).sum()
            ours_loss = lo if ours_loss is None else ours_loss + lo
            theirs_loss = lt if theirs_loss is None else theirs_loss + lt
    if ours_loss is None:
        return
    ours_loss.backward()
    theirs_loss.backward()
    for i, (x, t) in enumerate(zip(ours, theirs)):
        if not t.requires_grad:
            continue
        if t.grad is None:
            assert x.grad is None or not np.any(x.grad._data), f"{name} input {i}: unused"
            continue
        assert x.grad is not None, f"{name}: no gradient for input {i}"
        assert x.grad.shape == tuple(t.grad.shape) and x.grad.dtype == x.dtype
        assert str(x.grad.dtype) == torch_dtype_name(t.grad)
        np.testing.assert_allclose(x.grad._data, t.grad.numpy(), err_msg=f"{name} grad {i}", **tol)


# ---- fixtures -----------------------------------------------------------------------------------
def import_torch():
    """PyTorch, or skip the calling test when it is not installed or does not import (any
    ``ImportError``, not only ``ModuleNotFoundError``: a broken or hidden install skips too)."""
    try:
        return pytest.importorskip("torch", exc_type=ImportError)
    except TypeError:  # pytest < 8.2 has no exc_type (and skips on any ImportError)
        return pytest.importorskip("torch")


@pytest.fixture(scope="session")
def torch():
    """PyTorch, or skip the test when it is not installed (or does not import)."""
    return import_torch()
