"""Scaled dot-product attention: the Numba kernel (kernels/attention.py) against a plain NumPy
reference, the op F.scaled_dot_product_attention (gradcheck, double backward, PyTorch values and
gradients, masks, causal, fully masked rows, dropout, errors) and the memory of its backward.
"""

import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
import nn.functional as F
from autograd import Tensor
from conftest import check_grad, seeds
from kernels import attention as KA

FLOATS = (np.float32, np.float64)


# ---- NumPy reference (float64, written independently of the kernel) -------------------------
def ref_attention(q, k, v, add, scale):
    """out, P for q (..., L, E), k (..., S, E), v (..., S, Ev) and an additive mask (or None);
    fully masked rows give P = 0 (PyTorch 2.x)."""
    q, k, v = (np.asarray(a, np.float64) for a in (q, k, v))
    s = np.einsum("...le,...se->...ls", q, k) * scale
    if add is not None:
        s = s + add
    m = s.max(-1, keepdims=True)
    dead = np.isneginf(m)
    e = np.exp(s - np.where(dead, 0.0, m))
    p = e / np.where(dead, 1.0, e.sum(-1, keepdims=True))
    return np.einsum("...ls,...sv->...lv", p, v), p


def ref_attention_grads(q, k, v, add, scale, g):
    """dQ, dK, dV of sum(g * out), from the reference probabilities."""
    q, k, v, g = (np.asarray(a, np.float64) for a in (q, k, v, g))
    _, p = ref_attention(q, k, v, add, scale)
    dv = np.einsum("...ls,...lv->...sv", p, g)
    dp = np.einsum("...lv,...sv->...ls", g, v)
    ds = p * (dp - (dp * p).sum(-1, keepdims=True))
    return (np.einsum("...ls,...se->...le", ds, k) * scale,
            np.einsum("...ls,...le->...se", ds, q) * scale, dv)


def causal_add(L, S):
    return np.where(np.tri(L, S, dtype=bool), 0.0, -np.inf)


def tol(dtype):
    return dict(rtol=1e-4, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-11)


@st.composite
def attention_case(draw):
    """Sizes, a mask kind and a seed; at most 3 heads of at most 6x6."""
    B = draw(st.integers(1, 3))
    L, S = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    E, Ev = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    mask = draw(st.sampled_from(["none", "float", "bool", "causal", "dead_row"]))
    return B, L, S, E, Ev, mask, draw(seeds)


def make_case(B, L, S, E, Ev, mask, seed, dtype=np.float64, mask_planes=None):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((B, L, E)).astype(dtype)
    k = rng.standard_normal((B, S, E)).astype(dtype)
    v = rng.standard_normal((B, S, Ev)).astype(dtype)
    planes = mask_planes or B
    add = None
    if mask == "float":
        add = rng.standard_normal((planes, L, S))
    elif mask == "bool":
        keep = rng.random((planes, L, S)) < 0.6
        keep[..., 0] = True
        add = np.where(keep, 0.0, -np.inf)
    elif mask == "dead_row":  # row 0 of every plane fully masked, others random
        add = np.where(rng.random((planes, L, S)) < 0.5, -np.inf,
                       rng.standard_normal((planes, L, S)))
        add[:, 0] = -np.inf
    return q, k, v, (None if add is None else add.astype(dtype))


# ---- the kernel against the reference ----------------------------------------------------------
@given(attention_case(), st.sampled_from(FLOATS))
def test_kernel_matches_numpy_reference(case, dtype):
    B, L, S, E, Ev, mask, seed = case
    q, k, v, add = make_case(B, L, S, E, Ev, mask, seed, dtype)
    causal = mask == "causal"
    full_add = causal_add(L, S) if causal else add
    scale = 1 / np.sqrt(E)
    out, lse = KA.sdpa_forward(q, k, v, add, None, causal, None)
    ref, p = ref_attention(q, k, v, full_add, scale)
    assert out.dtype == dtype and lse.dtype == dtype and out.shape == (B, L, Ev)
    np.testing.assert_allclose(out, ref, **tol(dtype))
    g = np.random.default_rng(seed + 1).standard_normal(out.shape).astype(dtype)
    want = ref_attention_grads(q, k, v, full_add, scale, g)
    for rows in (None, 1, 2, L):
        got = KA.sdpa_backward(g, q, k, v, out, lse, add, None, causal, None, block_rows=rows)
        for a, b in zip(got, want):
            assert a.dtype == dtype
            np.testing.assert_allclose(a, b, **tol(dtype))


@pytest.mark.parametrize("dtype", FLOATS)
def test_kernel_parallel_equals_serial_with_shared_mask_planes(dtype):
    B, L, S, E, Ev = 6, 9, 7, 5, 3
    q, k, v, add = make_case(B, L, S, E, Ev, "dead_row", 3, dtype, mask_planes=2)
    midx = np.array([0, 1, 0, 1, 1, 0])
    a = KA.sdpa_forward(q, k, v, add, midx, False, 0.5, parallel=True)
    b = KA.sdpa_forward(q, k, v, add, midx, False, 0.5, parallel=False)
    np.testing.assert_array_equal(a[0], b[0])
    ref, _ = ref_attention(q, k, v, add[midx], 0.5)
    np.testing.assert_allclose(a[0], ref, **tol(dtype))
    g = np.ones_like(a[0])
    ga = KA.sdpa_backward(g, q, k, v, *a, add, midx, False, 0.5, parallel=True)
    gb = KA.sdpa_backward(g, q, k, v, *a, add, midx, False, 0.5, parallel=False)
    for x, y in zip(ga, gb):
        np.testing.assert_array_equal(x, y)


def test_fast_float32_exp_is_accurate():
    x = np.concatenate([-np.geomspace(1e-6, 86.9, 5000), [0.0, -86.99, -87.5, -1e4, -np.inf]])
    row = x.astype(np.float32)
    shift = np.float32(0.25)
    KA._exp_shifted(row, shift, True, np.empty(row.size, np.int32))
    want = np.exp((x.astype(np.float32) - shift).astype(np.float64))  # the float32 argument
    big = want > 1e-36  # float32 normal range
    np.testing.assert_allclose(row[big], want[big], rtol=2.5e-7)
    assert np.all(row[-3:] == 0) and np.all(row[~big] <= 1e-36)
    nan = np.array([np.nan, -1.0], np.float32)
    KA._exp_shifted(nan, np.float32(0), True, np.empty(2, np.int32))
    assert np.isnan(nan[0]) and nan[1] == np.float32(np.exp(-1.0))


def test_kernel_fully_masked_rows_and_empty_sizes():
    q, k, v, add = make_case(2, 3, 4, 2, 2, "dead_row", 0)
    out, lse = KA.sdpa_forward(q, k, v, add)
    assert np.all(out[:, 0] == 0) and np.all(np.isneginf(lse[:, 0]))
    gq, gk, gv = KA.sdpa_backward(np.ones_like(out), q, k, v, out, lse, add)
    assert np.all(gq[:, 0] == 0)
    # S == 0: nothing to attend to; E == 0: uniform weights (scores are all 0)
    o, _ = KA.sdpa_forward(q, k[:, :0], v[:, :0])
    assert o.shape == (2, 3, 2) and not o.any()
    o, _ = KA.sdpa_forward(q[..., :0], k[..., :0], v)
    np.testing.assert_allclose(o, np.broadcast_to(v.mean(1, keepdims=True), o.shape))


def test_kernel_argument_errors():
    q = np.zeros((2, 3, 4))
    with pytest.raises(TypeError, match="scaled_dot_product_attention"):
        KA.sdpa_forward(q.astype(np.int64), q, q)
    with pytest.raises(TypeError, match="dtype"):
        KA.sdpa_forward(q, q.astype(np.float32), q)
    with pytest.raises(ValueError, match=r"k \(2, 3, 5\)"):
        KA.sdpa_forward(q, np.zeros((2, 3, 5)), q)
    with pytest.raises(ValueError, match="mask"):
        KA.sdpa_forward(q, q, q, np.zeros((1, 3, 2)))


# ---- the op: gradients --------------------------------------------------------------------------
@given(attention_case())
def test_gradcheck(case):
    B, L, S, E, Ev, mask, seed = case
    q, k, v, add = make_case(B, L, S, E, Ev, mask, seed)
    tq, tk, tv = (Tensor(a, requires_grad=True) for a in (q, k, v))
    kw = {"is_causal": True} if mask == "causal" else {}
    if add is not None:
        kw["attn_mask"] = Tensor(add) if mask != "bool" else Tensor(np.isfinite(add))
    check_grad(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, **kw), tq, tk, tv)


def test_gradcheck_broadcast_batch_and_double_backward():
    rng = np.random.default_rng(0)
    q = Tensor(rng.standard_normal((2, 2, 3, 4)), requires_grad=True)
    k = Tensor(rng.standard_normal((1, 2, 4, 4)), requires_grad=True)   # broadcast over dim 0
    v = Tensor(rng.standard_normal((2, 1, 4, 2)), requires_grad=True)   # broadcast over heads
    mask = Tensor(rng.random((3, 4)) < 0.7)
    def fn(a, b, c):
        return F.scaled_dot_product_attention(a, b, c, attn_mask=mask, scale=0.8)
    check_grad(fn, q, k, v, gradgrad=True)
    check_grad(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True),
               q, k, v, gradgrad=True)


def test_float_mask_that_requires_grad_gets_its_gradient(torch):
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal(s) for s in [(2, 3, 4), (2, 5, 4), (2, 5, 3)])
    m = rng.standard_normal((3, 5))
    ours = [Tensor(a, requires_grad=True) for a in (q, k, v, m)]
    check_grad(lambda a, b, c, d: F.scaled_dot_product_attention(a, b, c, attn_mask=d), *ours)
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v, m)]
    F.scaled_dot_product_attention(*ours[:3], attn_mask=ours[3]).sum().backward()
    torch.nn.functional.scaled_dot_product_attention(*theirs[:3], attn_mask=theirs[3]).sum() \
        .backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)


# ---- the op against PyTorch ---------------------------------------------------------------
MASKS = ["none", "bool", "float", "causal", "bool_dead_row", "key_padding", "float_dead_row"]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("mask", MASKS)
def test_matches_torch(torch, dtype, mask):
    rng = np.random.default_rng(MASKS.index(mask))
    B, H, L, S, E, Ev = 2, 3, 5, 6, 4, 3
    arrays = [rng.standard_normal(s).astype(dtype)
              for s in [(B, H, L, E), (B, H, S, E), (B, H, S, Ev)]]
    kw, tkw = {}, {}
    if mask == "causal":
        kw = tkw = {"is_causal": True}
    elif mask != "none":
        if mask == "bool":
            m = rng.random((L, S)) < 0.6
        elif mask == "bool_dead_row":
            m = rng.random((B, 1, L, S)) < 0.6
            m[1, 0, 2] = False
        elif mask == "key_padding":
            m = np.ones((B, 1, 1, S), bool)
            m[0, ..., 4:] = False
        else:
            m = rng.standard_normal((H, L, S)).astype(dtype)
            if mask == "float_dead_row":
                m[1, 3] = -np.inf
        kw = {"attn_mask": Tensor(m)}
        tkw = {"attn_mask": torch.from_numpy(m)}
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = F.scaled_dot_product_attention(*ours, **kw)
    tout = torch.nn.functional.scaled_dot_product_attention(*theirs, **tkw)
    assert out.shape == tuple(tout.shape) and out.dtype == dtype
    t = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out._data, tout.detach().numpy(), **t)
    g = rng.standard_normal(out.shape).astype(dtype)
    out.backward(Tensor(g))
    tout.backward(torch.from_numpy(g))
    for a, b in zip(ours, theirs):
        assert a.grad.dtype == dtype
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **t)


def test_scale_and_unequal_lengths_match_torch(torch):
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal(s) for s in [(4, 7, 3), (4, 2, 3), (4, 2, 5)]]
    for kw in ({"scale": 0.25}, {"is_causal": True}):
        out = F.scaled_dot_product_attention(*(Tensor(a) for a in arrays), **kw)
        ref = torch.nn.functional.scaled_dot_product_attention(
            *(torch.from_numpy(a) for a in arrays), **kw)
        np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)


def test_dropout_path_is_the_composed_reference():
    rng = np.random.default_rng(2)
    q, k, v = (Tensor(rng.standard_normal(s), requires_grad=True)
               for s in [(2, 4, 3), (2, 5, 3), (2, 5, 2)])
    autograd.manual_seed(7)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    autograd.manual_seed(7)
    p = F.softmax(q @ k.mT / np.sqrt(3), -1)
    ref = F.dropout(p, 0.5) @ v
    np.testing.assert_allclose(out._data, ref._data, rtol=1e-12)
    out.sum().backward()
    assert q.grad is not None and k.grad is not None and v.grad is not None
    zero = F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    assert not zero._data.any()


def test_errors():
    q = Tensor(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(RuntimeError, match="is_causal"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=Tensor(np.ones((3, 3), bool)),
                                       is_causal=True)
    with pytest.raises(RuntimeError, match=r"key \(2, 3, 5\)"):
        F.scaled_dot_product_attention(q, Tensor(np.zeros((2, 3, 5), np.float32)), q)
    with pytest.raises(RuntimeError, match="dtype"):
        F.scaled_dot_product_attention(q, q, Tensor(np.zeros((2, 3, 4))))
    with pytest.raises(RuntimeError, match="do not broadcast"):
        F.scaled_dot_product_attention(q, Tensor(np.zeros((3, 3, 4), np.float32)), q)
    with pytest.raises(RuntimeError, match=r"attn_mask of shape \(4, 3\)"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=Tensor(np.ones((4, 3), bool)))
    with pytest.raises(TypeError, match="bool or float"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=Tensor(np.ones((3, 3), np.int64)))
    with pytest.raises(ValueError, match="dropout_p"):
        F.scaled_dot_product_attention(q, q, q, dropout_p=1.5)
    with pytest.raises(RuntimeError, match="at least 2 dims"):
        F.scaled_dot_product_attention(Tensor(np.zeros(4, np.float32)), q, q)


def test_double_backward_through_kernel_matches_composed():
    """Under create_graph the backward is recomputed with Tensor ops: its gradient equals the
    gradient of the same expression written by hand."""
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s) for s in [(2, 3, 4), (2, 5, 4), (2, 5, 2)]]
    mask = np.isfinite(np.where(rng.random((3, 5)) < 0.7, 0.0, -np.inf))
    results = []
    for fused in (True, False):
        q, k, v = (Tensor(a, requires_grad=True) for a in arrays)
        if fused:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=Tensor(mask))
        else:
            s = (q @ k.mT / 2.0).masked_fill(Tensor(~mask), float("-inf"))
            out = F.softmax(s, -1) @ v
        gq, = autograd.grad((out ** 2).sum(), q, create_graph=True)
        (gq ** 2).sum().backward()
        results.append([t.grad.numpy() for t in (q, k, v)])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


# ---- memory -------------------------------------------------------------------------------------
def test_backward_does_not_materialise_the_attention_weights():
    """64 heads of 256 x 256 weights would be 16 MiB in float32; the forward and backward must
    stay far below that in Python-visible (NumPy) allocations. The kernel's own scratch (one
    head's rows per thread) is allocated inside Numba and is by design ``O(threads * L * S)``."""
    B, H, L, E = 4, 16, 256, 8
    rng = np.random.default_rng(0)
    q, k, v = (Tensor(rng.standard_normal((B, H, L, E)).astype(np.float32), requires_grad=True)
               for _ in range(3))
    F.scaled_dot_product_attention(q, k, v).sum().backward()  # compile / warm up
    for t in (q, k, v):
        t.grad = None
    weights = B * H * L * L * 4
    tracemalloc.start()
    try:
        F.scaled_dot_product_attention(q, k, v, is_causal=True).sum().backward()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < weights / 4, (peak, weights)


# ---- the benchmark's composed encoder layer -----------------------------------------------
def test_composed_encoder_layer_computes_torch_transformer_encoder_layer(torch):
    """The attention workload's fallback (Linear + LayerNorm + scaled_dot_product_attention)
    is the computation of torch.nn.TransformerEncoderLayer, on both libraries."""
    from benchmarks import workloads as W
    torch.manual_seed(0)
    ref = torch.nn.TransformerEncoderLayer(d_model=W.ATT_D, nhead=W.ATT_HEADS,
                                           dim_feedforward=W.ATT_FF, dropout=0.0,
                                           batch_first=True)
    sd = ref.state_dict()
    names = {"in_proj.weight": "self_attn.in_proj_weight",
             "in_proj.bias": "self_attn.in_proj_bias",
             "out_proj.weight": "self_attn.out_proj.weight",
             "out_proj.bias": "self_attn.out_proj.bias"}
    x = np.random.default_rng(0).standard_normal((2, 5, W.ATT_D)).astype(np.float32)
    want = ref(torch.from_numpy(x)).detach().numpy()
    for ns in (W.tapegrad_namespace(), W.torch_namespace()):
        layer = W._composed_encoder_layer(ns)
        arrays = {k: sd[names.get(k, k)].numpy() for k in layer.state_dict()}
        W.load_state(ns, layer, arrays)
        got = layer(ns.tensor(x)).detach().numpy()
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
