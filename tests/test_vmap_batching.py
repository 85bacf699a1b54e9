"""vmap's batched path (autograd._vmap): for every batching rule the batched result equals the
per-sample loop's (the fallback, forced by a private switch) in values and gradients, over
generated shapes, in_dims/out_dims and float32/float64; grad/jacrev/jacfwd/hessian/vjp inside
vmap, nested vmap, gradients through vmap; that the batched path is really taken (func called
once); that an op without a rule falls back to the loop with the right answer; PyTorch's
torch.func.vmap where torch is installed; and the jacobians_hessians tutorial's batch Jacobian.
"""

import contextlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import nn.functional as F
from autograd import _vmap
from autograd.func import grad, hessian, jacfwd, jacrev, jvp, vjp, vmap

SETTINGS = settings(max_examples=25, deadline=None)
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-11, atol=1e-12)}


@contextlib.contextmanager
def _mode(enabled, strict=False):
    old = dict(_vmap.config)
    _vmap.config.update(enabled=enabled, strict=strict)
    try:
        yield
    finally:
        _vmap.config.update(old)


def _leaves(out):
    if isinstance(out, (tuple, list)):
        return [x for o in out for x in _leaves(o)]
    if isinstance(out, dict):
        return [x for o in out.values() for x in _leaves(o)]
    return [out]


def _inputs(arrays, dtype, requires_grad):
    return [autograd.tensor(np.asarray(a, dtype=dtype), requires_grad=requires_grad)
            for a in arrays]


def _run(f, arrays, dtype, in_dims=0, out_dims=0, enabled=True, strict=True, grads=True,
         **kw):
    """Outputs of ``vmap(f)`` and, with ``grads``, the gradients of a fixed random weighting
    of them with respect to the inputs (gradient *through* vmap)."""
    xs = _inputs(arrays, dtype, grads)
    with _mode(enabled, strict):
        out = vmap(f, in_dims=in_dims, out_dims=out_dims, **kw)(*xs)
    outs = _leaves(out)
    gs = []
    if grads and any(o.requires_grad for o in outs):
        rng = np.random.default_rng(7)
        total = None
        for o in outs:
            if o.requires_grad:
                w = autograd.tensor(rng.standard_normal(o.shape).astype(o.dtype))
                term = (o * w).sum()
                total = term if total is None else total + term
        gs = autograd.grad(total, xs, allow_unused=True)
    return outs, gs


def check(f, arrays, dtype=np.float64, in_dims=0, out_dims=0, grads=True, **kw):
    """Batched (strict: a fallback raises) == loop, values, dtypes, shapes and gradients."""
    before = _vmap.stats["batched"]
    outs, gs = _run(f, arrays, dtype, in_dims, out_dims, True, True, grads, **kw)
    assert _vmap.stats["batched"] > before, "the batched path was not taken"
    routs, rgs = _run(f, arrays, dtype, in_dims, out_dims, False, False, grads, **kw)
    tol = TOL[dtype]
    assert len(outs) == len(routs)
    for o, r in zip(outs, routs):
        assert type(o) is autograd.Tensor
        assert tuple(o.shape) == tuple(r.shape) and o.dtype == r.dtype
        np.testing.assert_allclose(o.detach().numpy(), r.detach().numpy(), **tol)
    assert len(gs) == len(rgs)
    for g, r in zip(gs, rgs):
        if r is None:
            assert g is None or not np.any(g.numpy())
            continue
        assert tuple(g.shape) == tuple(r.shape) and g.dtype == r.dtype
        np.testing.assert_allclose(g.numpy(), r.numpy(), **tol)
    return outs


# ---- strategies -----------------------------------------------------------------------------
dtypes = st.sampled_from([np.float32, np.float64])


@st.composite
def batched_array(draw, min_dims=0, max_dims=3, shape=None):
    """``(array, in_dim, logical_shape)``: an array with the mapped dim (size 3) at ``in_dim``."""
    if shape is None:
        shape = tuple(draw(st.lists(st.integers(1, 4), min_size=min_dims, max_size=max_dims)))
    d = draw(st.integers(0, len(shape)))
    phys = shape[:d] + (draw(st.sampled_from([3, 1])),) + shape[d:]
    seed = draw(st.integers(0, 2 ** 16))
    a = np.random.default_rng(seed).standard_normal(phys)
    return a, d, shape


UNARY = {
    "sin": lambda x: x.sin(), "exp": lambda x: (x * 0.5).exp(), "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(), "relu": lambda x: x.relu() * x,
    "log": lambda x: (x.abs() + 1).log(), "cos": lambda x: x.cos(),
    "sqrt": lambda x: (x * x + 1).sqrt(), "neg": lambda x: -x, "abs": lambda x: x.abs() * x,
    "gelu": lambda x: F.gelu(x), "silu": lambda x: F.silu(x), "softplus": lambda x: F.softplus(x),
    "leaky": lambda x: F.leaky_relu(x, 0.1), "elu": lambda x: F.elu(x),
    "hardtanh": lambda x: F.hardtanh(x * 2), "clamp": lambda x: x.clamp(-0.5, 0.5),
    "scalars": lambda x: 2.0 - x * 3 + x / 2 + 1, "rsub_rdiv": lambda x: 1 - 2 / (x * x + 1),
    "pow": lambda x: x ** 2 + (x * x + 1) ** 0.5, "clone": lambda x: x.clone(),
    "cast": lambda x: x.double().float() * 1.0,
}


@SETTINGS
@given(batched_array(), dtypes, st.sampled_from(sorted(UNARY)))
def test_unary_rules_match_loop(arr, dtype, name):
    a, d, _ = arr
    f = UNARY[name]
    if name == "cast":
        check(lambda x: f(x).to(x.dtype), [a], dtype, in_dims=d)
    else:
        check(f, [a], dtype, in_dims=d)


BINARY = {
    "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
    "div": lambda x, y: x / (y * y + 1), "pow": lambda x, y: (x * x + 1) ** y,
    "maximum": lambda x, y: autograd.maximum(x, y), "minimum": lambda x, y: autograd.minimum(x, y),
    "atan2": lambda x, y: autograd.atan2(x, y + 3),
    "where": lambda x, y: autograd.where(x > y, x, y * 2),
    "compare": lambda x, y: (x >= y).to(x.dtype) * x + (x != y).to(x.dtype),
}


@st.composite
def broadcast_pair(draw):
    """Two logical shapes that broadcast (the second a suffix of the first with some dims 1,
    or the other way round), each mapped or not (not both unmapped)."""
    base = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=3)))
    k = draw(st.integers(0, len(base)))
    other = tuple(1 if draw(st.booleans()) else n for n in base[len(base) - k:])
    if draw(st.booleans()):
        base, other = other, base
    mapped = draw(st.sampled_from([(True, True), (True, False), (False, True)]))
    arrays, dims = [], []
    for shape, m in zip((base, other), mapped):
        seed = draw(st.integers(0, 2 ** 16))
        if m:
            d = draw(st.integers(0, len(shape)))
            arrays.append(np.random.default_rng(seed).standard_normal(shape[:d] + (3,) +
                                                                      shape[d:]))
            dims.append(d)
        else:
            arrays.append(np.random.default_rng(seed).standard_normal(shape))
            dims.append(None)
    return arrays, tuple(dims)


@SETTINGS
@given(broadcast_pair(), dtypes, st.sampled_from(sorted(BINARY)))
def test_binary_rules_broadcast_like_loop(pair, dtype, name):
    arrays, dims = pair
    check(BINARY[name], arrays, dtype, in_dims=dims)


REDUCTIONS = {
    "sum": lambda x, d, k: x.sum(d, keepdim=k) if d is not None else x.sum(),
    "mean": lambda x, d, k: x.mean(d, keepdim=k) if d is not None else x.mean(),
    "amax": lambda x, d, k: x.amax(d, keepdim=k) if d is not None else x.amax(),
    "amin": lambda x, d, k: x.amin(d, keepdim=k) if d is not None else x.amin(),
    "prod": lambda x, d, k: x.prod(d, keepdim=k) if d is not None else x.prod(),
    "max_all": lambda x, d, k: x.max() if d is None else x.amax(d, keepdim=k),
    "softmax": lambda x, d, k: x.softmax(d if d is not None else -1),
    "log_softmax": lambda x, d, k: x.log_softmax(d if d is not None else -1),
    "cumsum": lambda x, d, k: x.cumsum(d if d is not None else 0),
    "norm": lambda x, d, k: x.norm(dim=d, keepdim=k) if d is not None else x.norm(),
}


@SETTINGS
@given(batched_array(min_dims=1), dtypes, st.sampled_from(sorted(REDUCTIONS)), st.data())
def test_reduction_rules_match_loop(arr, dtype, name, data):
    a, d, shape = arr
    dim = data.draw(st.sampled_from([None] + list(range(-len(shape), len(shape)))))
    keep = data.draw(st.booleans())
    check(lambda x: REDUCTIONS[name](x, dim, keep), [a], dtype, in_dims=d)


def test_reductions_over_several_dims_and_zero_dim_inputs():
    a = np.random.default_rng(1).standard_normal((3, 2, 4, 5))
    check(lambda x: x.sum((0, 2)) + x.mean((-1, 0), keepdim=True).sum(-1).sum(-1), [a])
    check(lambda x: x.sum() * x, [np.arange(3.0)])      # 0-d logical inputs
    check(lambda x: x.softmax(0), [np.arange(6.0).reshape(3, 2)])


SHAPES = {
    "reshape": lambda x: x.reshape(-1),
    "view2": lambda x: x.reshape(1, -1).view(-1, 1),
    "flatten": lambda x: x.flatten(),
    "unsqueeze": lambda x: x.unsqueeze(0).unsqueeze(-1),
    "squeeze": lambda x: x.unsqueeze(-1).squeeze(-1).unsqueeze(0).squeeze(),
    "transpose": lambda x: x.transpose(0, -1) if x.ndim else x,
    "permute": lambda x: x.permute(*reversed(range(x.ndim))),
    "movedim": lambda x: x.movedim(0, -1) if x.ndim else x,
    "expand": lambda x: x.unsqueeze(0).expand(2, *x.shape),
    "contiguous": lambda x: x.t().contiguous() if x.ndim == 2 else x.contiguous(),
    "index_int": lambda x: x[0] if x.ndim else x,
    "index_slices": lambda x: x[1:, None] if x.ndim else x[None],
    "index_ellipsis": lambda x: x[..., :1] if x.ndim else x[...],
    "stack": lambda x: autograd.stack([x, x * 2], dim=-1),
    "cat": lambda x: autograd.cat([x, x.sin()], dim=0) if x.ndim else x,
    "stack_unbatched": lambda x: autograd.stack([x, autograd.ones_like(x)]),
    "mT": lambda x: x.mT if x.ndim >= 2 else x,
    "detach": lambda x: x * x.detach(),
}


@SETTINGS
@given(batched_array(), dtypes, st.sampled_from(sorted(SHAPES)), st.data())
def test_shape_rules_match_loop(arr, dtype, name, data):
    a, d, shape = arr
    out = SHAPES[name](autograd.zeros(shape)) if name != "stack_unbatched" else None
    nd = (out.ndim if out is not None else len(shape) + 1) + 1
    od = data.draw(st.integers(-nd, nd - 1))
    check(SHAPES[name], [a], dtype, in_dims=d, out_dims=od)


MATMULS = [  # (logical shape of a, of b)
    ((4,), (4,)), ((2, 4), (4,)), ((4,), (4, 3)), ((2, 4), (4, 3)), ((5, 2, 4), (4, 3)),
    ((2, 4), (5, 4, 3)), ((5, 2, 4), (5, 4, 3)), ((4,), (5, 4, 3)), ((5, 2, 4), (4,)),
    ((1, 2, 4), (5, 4, 3)),
]


@SETTINGS
@given(st.sampled_from(MATMULS), st.sampled_from([(0, 0), (0, None), (None, 0), (1, 0)]),
       dtypes, st.integers(0, 2 ** 16))
def test_matmul_rule_matches_loop(shapes, dims, dtype, seed):
    rng = np.random.default_rng(seed)
    arrays = []
    dims = tuple(None if d is None else min(d, len(s)) for d, s in zip(dims, shapes))
    for s, d in zip(shapes, dims):
        arrays.append(rng.standard_normal(s if d is None else s[:d] + (3,) + s[d:]))
    check(lambda a, b: a @ b, arrays, dtype, in_dims=dims)


@SETTINGS
@given(st.sampled_from([(0, None, None), (None, 0, None), (0, 0, 0), (None, None, 0),
                        (1, None, None)]), dtypes, st.integers(0, 2 ** 16))
def test_linear_mm_mv_bmm_rules_match_loop(dims, dtype, seed):
    rng = np.random.default_rng(seed)
    shapes = [(2, 5), (4, 5), (4,)]
    arrays = [rng.standard_normal(s if d is None else s[:d] + (3,) + s[d:])
              for s, d in zip(shapes, dims)]
    check(lambda x, w, b: F.linear(x, w, b), arrays, dtype, in_dims=dims)
    check(lambda x, w, b: F.linear(x, w), arrays, dtype, in_dims=dims)
    check(lambda x, w, b: autograd.mm(x, w.t()) + autograd.mv(w, x[0]), arrays, dtype,
          in_dims=dims)
    check(lambda x, w, b: autograd.bmm(x.unsqueeze(0), w.t().unsqueeze(0)), arrays, dtype,
          in_dims=dims)


@pytest.mark.parametrize("eq, shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("i,i->", [(3,), (3,)]), ("ij->ji", [(2, 3)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]), ("...ij,j->...i", [(2, 2, 3), (3,)]),
    ("ij,jk,k->i", [(2, 3), (3, 4), (4,)])])
@pytest.mark.parametrize("mapped", ["all", "first", "last"])
def test_einsum_rule_matches_loop(eq, shapes, mapped):
    rng = np.random.default_rng(11)
    n = len(shapes)
    flags = [True] * n if mapped == "all" else [i == (0 if mapped == "first" else n - 1)
                                                 for i in range(n)]
    arrays = [rng.standard_normal((3,) + s if m else s) for s, m in zip(shapes, flags)]
    check(lambda *ops: autograd.einsum(eq, *ops), arrays,
          in_dims=tuple(0 if m else None for m in flags))


# ---- transforms inside vmap ---------------------------------------------------------------
def _predict(w, b, x):
    return F.linear(x, w, b).tanh()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transforms_inside_vmap_match_loop(dtype):
    rng = np.random.default_rng(3)
    w, b, x = rng.standard_normal((5, 4)), rng.standard_normal(5), rng.standard_normal((6, 4))
    dims = (None, None, 0)
    check(jacrev(_predict, argnums=2), [w, b, x], dtype, in_dims=dims)
    check(jacfwd(_predict, argnums=2), [w, b, x], dtype, in_dims=dims)
    check(hessian(lambda w, b, x: _predict(w, b, x).sum(), argnums=2), [w, b, x], dtype,
          in_dims=dims)
    check(jacrev(_predict, argnums=(0, 1)), [w, b, x], dtype, in_dims=dims)
    check(grad(lambda w, b, x: (_predict(w, b, x) ** 2).sum(), argnums=(0, 2)), [w, b, x],
          dtype, in_dims=dims)
    # vjp inside vmap (cotangent unbatched, then batched with the primal)
    check(lambda x: vjp(lambda x: x.sin() * x, x)[1](autograd.ones_like(x))[0], [x], dtype)
    check(lambda x, v: vjp(lambda x: x.sin() * x, x)[1](v)[0], [x, x[::-1].copy()], dtype)


def test_jvp_inside_vmap_matches_loop():
    rng = np.random.default_rng(12)
    x, t = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    check(lambda x, t: jvp(lambda r: r.sin() * r.sum(), (x,), (t,))[1], [x, t])
    check(lambda x: jvp(lambda r: r.exp() @ r, (x,), (autograd.ones_like(x),))[1], [x])
    check(lambda x, t: jvp(grad(lambda r: (r.sin() * r).sum()), (x,), (t,))[1], [x, t[0]],
          in_dims=(0, None))


def test_per_sample_gradients_match_loop():
    rng = np.random.default_rng(4)
    w, x, y = rng.standard_normal((3, 4)), rng.standard_normal((8, 4)), rng.standard_normal((8, 3))

    def loss(w, x, y):
        return ((F.linear(x, w) - y) ** 2).mean()
    check(grad(loss), [w, x, y], in_dims=(None, 0, 0))
    check(grad(loss, argnums=(0, 1)), [w, x, y], in_dims=(None, 0, 0))


def test_nested_vmap_matches_loop():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((3, 4, 5)), rng.standard_normal((5,))
    check(vmap(lambda r, s: (r.sin() * s).sum(), in_dims=(0, None)), [a, b], in_dims=(0, None))
    check(vmap(lambda r: r.softmax(0) @ r, in_dims=1), [a], in_dims=2)
    check(vmap(jacrev(lambda r: r.tanh() * r.sum())), [a])
    check(vmap(vmap(lambda r: r * 2, in_dims=0), in_dims=1), [a], out_dims=1)
    check(lambda x: vmap(lambda r: r @ x)(x.unsqueeze(0).expand(2, *x.shape)), [b.reshape(1, 5)
                                                                                .repeat(3, 0)])


def test_jacrev_and_hessian_of_vmap():
    x = np.random.default_rng(6).standard_normal((4, 3))
    f = vmap(lambda r: r.sin().sum() * r)
    with _mode(True, True):
        j = jacrev(f)(autograd.tensor(x))
        h = hessian(lambda t: f(t).sum())(autograd.tensor(x))
    with _mode(False):
        rj = jacrev(f)(autograd.tensor(x))
        rh = hessian(lambda t: f(t).sum())(autograd.tensor(x))
    np.testing.assert_allclose(j.numpy(), rj.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h.numpy(), rh.numpy(), rtol=1e-12, atol=1e-12)


def test_pytrees_out_dims_and_chunk_size():
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 4))

    def f(p, q):
        return {"s": p * q, "t": (p.sum(), q.exp())}
    check(f, [a, b], in_dims=(0, 1), out_dims=0)
    check(lambda p, q: (p * q, p.sum()), [a, b], in_dims=(0, 1), out_dims=(1, 0))
    check(lambda p, q: (p * q, q), [a, b.T.copy()], in_dims=(0, None), out_dims=(0, None))
    for cs in (1, 3, 4, 10):
        check(lambda p: p.sin() @ p, [a], chunk_size=cs)
        check(lambda p, q: (p.sin() * q, q), [a, a[0].copy()], in_dims=(0, None),
              out_dims=(0, None), chunk_size=cs)
        check(lambda p, q: p.sin() @ q, [b, a[0].copy()], in_dims=(1, None), chunk_size=cs)
    with _mode(True, True):
        d = vmap(lambda p: p["w"] @ p["v"], in_dims=({"w": 0, "v": None},))(
            {"w": autograd.tensor(a), "v": autograd.tensor(a[0])})
    np.testing.assert_allclose(d.numpy(), a @ a[0], rtol=1e-12)


# ---- the batched path is taken; fallback --------------------------------------------------
def test_batched_path_calls_func_once():
    calls = []

    def f(x):
        calls.append(tuple(x.shape))
        return x.sin().sum(0) * 2
    x = autograd.randn(64, 5, 3)
    out = vmap(f)(x)
    assert calls == [(5, 3)]
    np.testing.assert_allclose(out.numpy(), np.sin(x.numpy()).sum(1) * 2, rtol=1e-6)
    calls.clear()
    with _mode(False):
        vmap(f)(x)
    assert len(calls) == 64


@pytest.mark.parametrize("name, f", [
    ("item", lambda x: x * x.sum().item()),
    ("python control flow", lambda x: x if x.sum() > 0 else -x),
    ("numpy", lambda x: x * float(np.asarray(x).sum())),
    ("in-place", lambda x: x.clone().mul_(2)),
    ("max with indices (no rule)", lambda x: x.max(0).values * 2),
    ("advanced index (no rule)", lambda x: x[[0, 2]]),
    ("tolist", lambda x: x * len(x.tolist())),
])
def test_without_rule_falls_back_to_loop(name, f):
    x = autograd.tensor(np.random.default_rng(9).standard_normal((4, 3)))
    calls = []

    def g(t):
        calls.append(1)
        return f(t)
    before = _vmap.stats["fallback"]
    out = vmap(g)(x)
    assert _vmap.stats["fallback"] == before + 1
    assert len(calls) == 1 + 4          # the batched attempt, then one call per sample
    ref = autograd.stack([f(x[i]) for i in range(4)])
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12)
    with _mode(True, True), pytest.raises(RuntimeError, match="fell back"):
        vmap(f)(x)


def test_vmap_of_vjp_fn_falls_back_exactly():
    x = autograd.randn(5, dtype=autograd.float64)
    _, fn = vjp(lambda t: t.sin() * 2, x)
    jac, = vmap(fn)(autograd.eye(5, dtype=autograd.float64))
    np.testing.assert_allclose(jac.numpy(), np.diag(2 * np.cos(x.numpy())), rtol=1e-12)


def test_randomness_and_errors_as_the_loop():
    with pytest.raises(RuntimeError, match="randomness"):
        vmap(lambda x: x + autograd.rand(()))(autograd.ones(3))
    state = autograd.random.default_generator.get_state()
    autograd.manual_seed(1)
    same = vmap(lambda x: x + autograd.rand(()), randomness="same")(autograd.zeros(3))
    assert np.all(same.numpy() == same.numpy()[0])
    diff = vmap(lambda x: x + autograd.rand(()), randomness="different")(autograd.zeros(3))
    assert len(set(diff.numpy().tolist())) == 3
    autograd.random.default_generator.set_state(state)
    with pytest.raises(RuntimeError, match="cannot be multiplied"):      # the loop's genuine error
        vmap(lambda x, y: x @ y)(autograd.ones(2, 3), autograd.ones(2, 4))
    with pytest.raises(ValueError, match="must only return Tensors"):
        vmap(lambda x: 1.0)(autograd.ones(2))
    with pytest.raises(ValueError, match="out of range"):
        vmap(lambda x: x, out_dims=3)(autograd.ones(2))


def test_batched_tensor_shows_the_logical_view():
    seen = {}

    def f(x):
        seen.update(shape=tuple(x.shape), ndim=x.ndim, dim=x.dim(), size=tuple(x.size()),
                    size1=x.size(1), numel=x.numel(), len=len(x), dtype=x.dtype,
                    rg=x.requires_grad)
        return x
    vmap(f, in_dims=1)(autograd.zeros(2, 7, 3, dtype=autograd.float64))
    assert seen == dict(shape=(2, 3), ndim=2, dim=2, size=(2, 3), size1=3, numel=6, len=2,
                        dtype=np.dtype("float64"), rg=False)


# ---- PyTorch --------------------------------------------------------------------------------
def test_batched_vmap_matches_torch(torch):
    rng = np.random.default_rng(10)
    w, b, x = rng.standard_normal((5, 4)), rng.standard_normal(5), rng.standard_normal((6, 4))
    ours = [autograd.tensor(a) for a in (w, b, x)]
    theirs = [torch.tensor(a) for a in (w, b, x)]

    def pred_t(w, b, x):
        return torch.nn.functional.linear(x, w, b).tanh()

    cases = [
        (jacrev(_predict, argnums=2), torch.func.jacrev(pred_t, argnums=2), (None, None, 0)),
        (hessian(lambda w, b, x: _predict(w, b, x).sum(), argnums=2),
         torch.func.hessian(lambda w, b, x: pred_t(w, b, x).sum(), argnums=2), (None, None, 0)),
        (grad(lambda w, b, x: (_predict(w, b, x) ** 2).sum()),
         torch.func.grad(lambda w, b, x: (pred_t(w, b, x) ** 2).sum()), (None, None, 0)),
        (lambda w, b, x: (x @ w.T + b).softmax(-1).amax(0, keepdim=True) * x.sum(),
         lambda w, b, x: (x @ w.T + b).softmax(-1).amax(0, keepdim=True) * x.sum(),
         (0, None, 1)),
    ]
    for f, tf, dims in cases:
        args = [a if d is None or d == 0 else a for a, d in zip(ours, dims)]
        targs = list(theirs)
        if dims == (0, None, 1):
            args = [autograd.tensor(np.stack([w] * 4)), ours[1], autograd.tensor(
                rng.standard_normal((4, 4)))]
            targs = [torch.tensor(args[0].numpy()), theirs[1], torch.tensor(args[2].numpy())]
        with _mode(True, True):
            out = vmap(f, in_dims=dims)(*args)
        tout = torch.func.vmap(tf, in_dims=dims)(*targs)
        assert tuple(out.shape) == tuple(tout.shape)
        np.testing.assert_allclose(out.numpy(), tout.numpy(), rtol=1e-10, atol=1e-12)


# ---- the tutorial ---------------------------------------------------------------------------
def test_tutorial_batch_jacobian_equals_summed_output_jacobian():
    """pytorch/tutorials jacobians_hessians: vmap(jacrev(predict)) over a batch equals the
    Jacobian of the batch-summed output, with allclose's default tolerances (float32): both
    run one matrix-matrix product, as PyTorch's batching vmap does."""
    autograd.manual_seed(0)
    weight = autograd.randn(33, 31)
    bias = autograd.randn(33)
    x = autograd.randn(64, 31)
    j0 = vmap(jacrev(_predict, argnums=2), in_dims=(None, None, 0))(weight, bias, x)
    j1 = jacrev(lambda w, b, x: _predict(w, b, x).sum(0), argnums=2)(weight, bias, x)
    j1 = j1.movedim(1, 0)
    assert j0.shape == (64, 33, 31) and j0.dtype == autograd.float32
    assert autograd.allclose(j0, j1)


def test_leaked_batched_tensor_is_a_clear_error():
    stash = []
    out = vmap(lambda x: stash.append(x) or x * 2)(autograd.ones(3, 2))
    np.testing.assert_array_equal(out.numpy(), np.full((3, 2), 2.0))
    with pytest.raises(RuntimeError, match="leaked out of the vmapped function"):
        stash[0] + 1
    with pytest.raises(RuntimeError, match="leaked out of the vmapped function"):
        vmap(lambda x: x + stash[0])(autograd.ones(3, 2))    # a later vmap is another level


def test_chunk_size_must_be_positive():
    with pytest.raises(ValueError, match="chunk_size"):
        vmap(lambda x: x, chunk_size=0)
