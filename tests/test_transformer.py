"""nn.MultiheadAttention and the transformer layers (nn/attention.py, nn/transformer.py):
forward and backward against torch 2.x with the torch module's state dict loaded by key
(float64, dropout 0, training mode so PyTorch takes no fast path), masks (causal, key padding,
bool/float, 2-D/3-D), batch_first both ways, unbatched inputs, norm_first, gelu, gradcheck of
the attention on tiny float64 sizes, state-dict keys, initialisation, deep-copied layers,
dropout train/eval, and errors.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
import nn
import nn.functional as F
from autograd import Tensor
from conftest import check_grad, seeds

pytestmark = pytest.mark.filterwarnings("ignore:Support for mismatched",
                                        "ignore:enable_nested_tensor is True")

F64 = autograd.float64
TOL = dict(rtol=1e-9, atol=1e-11)


# ---- helpers ------------------------------------------------------------------------------------
def load_torch_state(torch, ours, theirs):
    """Copy ``theirs`` (a torch module) into ``ours`` by state-dict key; the key lists (and
    their order) and shapes must be equal."""
    sd = theirs.state_dict()
    ours_sd = ours.state_dict()
    assert list(ours_sd) == list(sd)
    for k, v in sd.items():
        assert tuple(ours_sd[k].shape) == tuple(v.shape), k
    ours.load_state_dict({k: Tensor(v.detach().numpy().copy()) for k, v in sd.items()})
    for k, v in ours.state_dict().items():
        np.testing.assert_array_equal(v._data, sd[k].detach().numpy())


def run_both(torch, ours, theirs, arrays, fwd, seed=0, shared=None):
    """Load theirs into ours, run ``fwd(module, inputs, conv)`` with both (``conv`` turns a
    NumPy array into the library's tensor), back-propagate the same random gradient and compare
    the output, the input gradients and every parameter gradient. ``shared`` lists groups of
    input indices that must be one tensor object (self-attention)."""
    load_torch_state(torch, ours, theirs)

    def make(conv_leaf):
        ts = [conv_leaf(a) for a in arrays]
        for group in shared or ():
            for i in group[1:]:
                ts[i] = ts[group[0]]
        return ts

    t_in = make(lambda a: torch.tensor(a, requires_grad=True))
    o_in = make(lambda a: Tensor(a.copy(), requires_grad=True))
    t_out = fwd(theirs, t_in, torch.tensor)
    o_out = fwd(ours, o_in, Tensor)
    if isinstance(t_out, tuple):
        t_out, t_w = t_out
        o_out, o_w = o_out
        if t_w is None:
            assert o_w is None
        else:
            np.testing.assert_allclose(o_w._data, t_w.detach().numpy(), **TOL)
    assert tuple(o_out.shape) == tuple(t_out.shape)
    assert o_out.dtype == np.float64
    np.testing.assert_allclose(o_out._data, t_out.detach().numpy(), **TOL)
    g = np.random.default_rng(seed).standard_normal(tuple(t_out.shape))
    t_out.backward(torch.tensor(g))
    o_out.backward(Tensor(g))
    for a, b in zip(o_in, t_in):
        np.testing.assert_allclose(a.grad._data, b.grad.numpy(), **TOL)
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert p.grad is not None, name
        np.testing.assert_allclose(p.grad._data, tp[name].grad.numpy(), **TOL, err_msg=name)
    return o_out


def seq_shape(bf, n, length, e):
    return (n, length, e) if bf else (length, n, e)


def padding_mask(n, s):
    """Bool (N, S): True marks padding; every row keeps its first key."""
    m = np.zeros((n, s), dtype=bool)
    m[0, s - 2:] = True
    m[-1, s - 1] = True
    return m


def causal_bool(length):
    return np.triu(np.ones((length, length), dtype=bool), 1)


def causal_float(length):
    return np.triu(np.full((length, length), -np.inf), 1)


# ---- MultiheadAttention against torch ----------------------------------------------------------
N, L, S, E, H = 3, 5, 4, 8, 2

MHA_CASES = [
    # (name, ctor kwargs, self-attention, mask kind, forward kwargs)
    ("self", {}, True, None, {}),
    ("self_noweights", {}, True, None, dict(need_weights=False)),
    ("self_bf", dict(batch_first=True), True, None, {}),
    ("self_bf_noweights", dict(batch_first=True), True, None, dict(need_weights=False)),
    ("causal_hint", {}, True, "causal", dict(is_causal=True, need_weights=False)),
    ("causal_hint_bf_weights", dict(batch_first=True), True, "causal",
     dict(is_causal=True)),
    ("causal_bool", {}, True, "causal_bool", dict(need_weights=False)),
    ("causal_kpm_hint", dict(batch_first=True), True, "causal+kpm",
     dict(is_causal=True, need_weights=False)),
    ("kpm", {}, False, "kpm", {}),
    ("kpm_noweights_bf", dict(batch_first=True), False, "kpm", dict(need_weights=False)),
    ("kpm_float", {}, False, "kpm_float", dict(need_weights=False)),
    ("bool2d", {}, False, "bool2d", {}),
    ("bool2d_noweights", {}, False, "bool2d", dict(need_weights=False)),
    ("float3d", {}, False, "float3d", dict(need_weights=False)),
    ("float3d_kpm_weights", {}, False, "float3d+kpm", dict(average_attn_weights=False)),
    ("kdim_vdim", dict(kdim=6, vdim=3), False, "kpm", {}),
    ("kdim_vdim_bf", dict(kdim=6, vdim=3, batch_first=True), False, None,
     dict(need_weights=False)),
    ("no_bias", dict(bias=False), True, None, dict(need_weights=False)),
    ("bias_kv", dict(add_bias_kv=True), False, "bool2d+kpm", {}),
    ("zero_attn", dict(add_zero_attn=True), False, "float3d+kpm", dict(need_weights=False)),
    ("per_head_weights", {}, False, None, dict(average_attn_weights=False)),
]


def mha_masks(kind, rng, conv, n=N, length=L, s=S, heads=H):
    """The mask keywords of a MultiheadAttention call for ``kind`` (None, or parts joined by
    ``+``: causal, causal_bool, kpm, kpm_float, bool2d, float3d), for ``n`` batches, ``length``
    queries, ``s`` keys and ``heads`` heads; random masks come from ``rng`` and each array is
    passed through ``conv`` (``Tensor`` or ``torch.tensor``)."""
    kw = {}
    if kind is None:
        return kw
    for part in kind.split("+"):
        if part == "causal":
            kw["attn_mask"] = conv(causal_float(length))
        elif part == "causal_bool":
            kw["attn_mask"] = conv(causal_bool(length))
        elif part == "kpm":
            kw["key_padding_mask"] = conv(padding_mask(n, s))
        elif part == "kpm_float":
            kw["key_padding_mask"] = conv(rng.standard_normal((n, s)))
        elif part == "bool2d":
            m = rng.random((length, s)) < 0.4
            m[:, 0] = False
            kw["attn_mask"] = conv(m)
        elif part == "float3d":
            kw["attn_mask"] = conv(rng.standard_normal((n * heads, length, s)))
    return kw


@pytest.mark.parametrize("name,ctor,self_attn,mask,fkw", MHA_CASES,
                         ids=[c[0] for c in MHA_CASES])
def test_mha_matches_torch(torch, name, ctor, self_attn, mask, fkw):
    rng = np.random.default_rng(1)
    theirs = torch.nn.MultiheadAttention(E, H, **ctor).double()
    ours = nn.MultiheadAttention(E, H, dtype=F64, **ctor)
    bf = ctor.get("batch_first", False)
    s = L if self_attn else S
    arrays = [rng.standard_normal(seq_shape(bf, N, L, E)),
              rng.standard_normal(seq_shape(bf, N, s, ctor.get("kdim", E))),
              rng.standard_normal(seq_shape(bf, N, s, ctor.get("vdim", E)))]

    def fwd(m, x, conv):
        kw = mha_masks(mask, np.random.default_rng(2), conv, s=s)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # torch's mismatched-mask-types warning
            return m(x[0], x[1], x[2], **kw, **fkw)

    run_both(torch, ours, theirs, arrays, fwd, shared=[(0, 1, 2)] if self_attn else None)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_unbatched_matches_torch(torch, need_weights):
    rng = np.random.default_rng(3)
    theirs = torch.nn.MultiheadAttention(E, H, batch_first=True).double()
    ours = nn.MultiheadAttention(E, H, batch_first=True, dtype=F64)
    arrays = [rng.standard_normal((L, E)), rng.standard_normal((S, E)),
              rng.standard_normal((S, E))]
    kpm = np.array([False, False, True, False])
    m3 = rng.standard_normal((H, L, S))

    def fwd(m, x, conv):
        return m(x[0], x[1], x[2], key_padding_mask=conv(kpm), attn_mask=conv(m3),
                 need_weights=need_weights)

    out = run_both(torch, ours, theirs, arrays, fwd)
    assert out.shape == (L, E)


def test_mha_weights_shapes_and_rows():
    m = nn.MultiheadAttention(E, H, dtype=F64)
    x = autograd.randn(L, N, E, dtype=F64)
    out, w = m(x, x, x)
    assert out.shape == (L, N, E) and w.shape == (N, L, L)
    np.testing.assert_allclose(w._data.sum(-1), 1.0, rtol=1e-12)
    _, w = m(x, x, x, average_attn_weights=False)
    assert w.shape == (N, H, L, L)
    out2, none = m(x, x, x, need_weights=False)
    assert none is None
    np.testing.assert_allclose(out2._data, out._data, rtol=1e-10, atol=1e-12)


def test_mha_bool_mask_conventions_agree_with_float():
    """True in MHA's bool masks means 'not allowed': the same as -inf in a float mask."""
    rng = np.random.default_rng(4)
    m = nn.MultiheadAttention(E, H, dtype=F64)
    q = Tensor(rng.standard_normal((L, N, E)))
    kv = Tensor(rng.standard_normal((S, N, E)))
    bm = rng.random((L, S)) < 0.5
    bm[:, 1] = False
    kpm = padding_mask(N, S)
    for need in (True, False):
        a, _ = m(q, kv, kv, attn_mask=Tensor(bm), key_padding_mask=Tensor(kpm),
                 need_weights=need)
        b, _ = m(q, kv, kv, attn_mask=Tensor(np.where(bm, -np.inf, 0.0)),
                 key_padding_mask=Tensor(np.where(kpm, -np.inf, 0.0)), need_weights=need)
        np.testing.assert_allclose(a._data, b._data, rtol=1e-12)
    # a masked key does not influence the output: changing it changes nothing
    kv2 = kv._data.copy()
    kv2[S - 1, N - 1] += 10.0
    c, _ = m(q, kv, kv, key_padding_mask=Tensor(kpm))
    d, _ = m(q, Tensor(kv2), Tensor(kv2), key_padding_mask=Tensor(kpm))
    np.testing.assert_allclose(c._data, d._data, rtol=1e-12)
    e, _ = m(q, Tensor(kv2), Tensor(kv2))
    assert not np.allclose(c._data, e._data)


def test_mha_fully_masked_row_gives_zeros_not_nan():
    m = nn.MultiheadAttention(E, H, dtype=F64)
    x = autograd.randn(L, 1, E, dtype=F64, requires_grad=True)
    mask = np.zeros((L, L), dtype=bool)
    mask[0, :] = True
    for need in (True, False):
        out, w = m(x, x, x, attn_mask=Tensor(mask), need_weights=need)
        assert np.isfinite(out._data).all()
        np.testing.assert_allclose(out._data[0, 0], m.out_proj.bias._data)
        if need:
            np.testing.assert_array_equal(w._data[0, 0], 0.0)
        out.sum().backward()
        assert np.isfinite(x.grad._data).all()
        x.grad = None


# ---- gradcheck ---------------------------------------------------------------------------------
@settings(max_examples=10)
@given(seed=seeds, need_weights=st.booleans(), batch_first=st.booleans(),
       mask=st.sampled_from([None, "kpm", "bool2d", "float3d", "causal"]))
def test_mha_gradcheck(seed, need_weights, batch_first, mask):
    rng = np.random.default_rng(seed)
    n, length, e, h = 2, 3, 4, 2
    m = nn.MultiheadAttention(e, h, batch_first=batch_first, dtype=F64)
    m.in_proj_bias._data[...] = rng.standard_normal(3 * e)
    q = Tensor(rng.standard_normal(seq_shape(batch_first, n, length, e)), requires_grad=True)
    kv = Tensor(rng.standard_normal(seq_shape(batch_first, n, length + 1, e)),
                requires_grad=True)
    kw = mha_masks(mask, rng, Tensor, n=n, length=length, s=length + 1, heads=h)

    if mask == "causal":   # self-attention with the is_causal hint
        def fn(x, w):
            return m(x, x, x, is_causal=True, need_weights=need_weights, **kw)[0]
        check_grad(fn, q, m.in_proj_weight)
        return

    def fn(x, y, w):
        out, weights = m(x, y, y, need_weights=need_weights, **kw)
        return out if weights is None else out.sum() + (weights * weights).sum()
    check_grad(fn, q, kv, m.in_proj_weight)


def test_mha_gradcheck_separate_projections_and_float_mask_grad():
    rng = np.random.default_rng(5)
    m = nn.MultiheadAttention(4, 2, kdim=3, vdim=2, dtype=F64)
    q = Tensor(rng.standard_normal((3, 2, 4)), requires_grad=True)
    k = Tensor(rng.standard_normal((2, 2, 3)), requires_grad=True)
    v = Tensor(rng.standard_normal((2, 2, 2)), requires_grad=True)
    am = Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    for need in (True, False):
        check_grad(lambda a, b, c, mk, wk: m(a, b, c, attn_mask=mk, need_weights=need)[0],
                   q, k, v, am, m.k_proj_weight)


# ---- transformer layers against torch ----------------------------------------------------------
D, NH, FF = 8, 2, 16


def act_pair(torch, kind):
    """(ours, theirs) activation arguments."""
    if kind == "callable":
        return F.silu, torch.nn.functional.silu
    if kind == "module":
        return nn.GELU(), torch.nn.GELU()
    return kind, kind


ENC_CASES = [
    # (norm_first, activation, batch_first, mask kind, is_causal)
    (False, "relu", False, None, False),
    (True, "relu", True, None, False),
    (False, "gelu", True, "causal", True),
    (True, "gelu", False, "causal", True),
    (False, "relu", False, "kpm", False),
    (True, "relu", True, "causal+kpm", True),
    (False, "callable", True, "bool", False),
    (True, "module", False, "float3d", False),
]


def enc_masks(kind, conv, n, length, rng):
    kw = {}
    for part in (kind or "").split("+"):
        if part == "causal":
            kw["src_mask"] = conv(causal_float(length))
        elif part == "kpm":
            kw["src_key_padding_mask"] = conv(padding_mask(n, length))
        elif part == "bool":
            m = rng.random((length, length)) < 0.4
            np.fill_diagonal(m, False)
            kw["src_mask"] = conv(m)
        elif part == "float3d":
            kw["src_mask"] = conv(rng.standard_normal((n * NH, length, length)))
    return kw


@pytest.mark.parametrize("norm_first,act,bf,mask,is_causal", ENC_CASES)
def test_encoder_layer_matches_torch(torch, norm_first, act, bf, mask, is_causal):
    ours_act, their_act = act_pair(torch, act)
    theirs = torch.nn.TransformerEncoderLayer(D, NH, FF, dropout=0.0, activation=their_act,
                                              batch_first=bf, norm_first=norm_first).double()
    ours = nn.TransformerEncoderLayer(D, NH, FF, dropout=0.0, activation=ours_act,
                                      batch_first=bf, norm_first=norm_first, dtype=F64)
    rng = np.random.default_rng(6)
    x = rng.standard_normal(seq_shape(bf, N, L, D))

    def fwd(m, xs, conv):
        kw = enc_masks(mask, conv, N, L, np.random.default_rng(7))
        return m(xs[0], is_causal=is_causal, **kw)

    run_both(torch, ours, theirs, [x], fwd)


def test_encoder_layer_unbatched_and_no_bias_matches_torch(torch):
    theirs = torch.nn.TransformerEncoderLayer(D, NH, FF, dropout=0.0, bias=False,
                                              layer_norm_eps=1e-3).double()
    ours = nn.TransformerEncoderLayer(D, NH, FF, dropout=0.0, bias=False, layer_norm_eps=1e-3,
                                      dtype=F64)
    x = np.random.default_rng(8).standard_normal((L, D))
    run_both(torch, ours, theirs, [x],
             lambda m, xs, conv: m(xs[0], src_mask=conv(causal_bool(L)), is_causal=True))


@pytest.mark.parametrize("bf,norm_first", [(False, False), (True, True)])
def test_encoder_stack_matches_torch(torch, bf, norm_first):
    def build(lib, dtype_kw):
        layer = lib.TransformerEncoderLayer(D, NH, FF, dropout=0.0, batch_first=bf,
                                            norm_first=norm_first, **dtype_kw)
        extra = {"enable_nested_tensor": False} if lib is torch.nn else {}
        return lib.TransformerEncoder(layer, 2, norm=lib.LayerNorm(D, **dtype_kw), **extra)

    theirs = build(torch.nn, {}).double()
    ours = build(nn, {"dtype": F64})
    x = np.random.default_rng(9).standard_normal(seq_shape(bf, N, L, D))
    # is_causal=None: the causal mask is detected, as PyTorch does
    run_both(torch, ours, theirs, [x],
             lambda m, xs, conv: m(xs[0], mask=conv(causal_float(L)),
                                   src_key_padding_mask=conv(padding_mask(N, L))))
    run_both(torch, ours, theirs, [x], lambda m, xs, conv: m(xs[0], mask=conv(causal_float(L))))


DEC_CASES = [(False, "relu", False), (True, "gelu", True), (False, "gelu", True),
             (True, "relu", False)]


@pytest.mark.parametrize("norm_first,act,bf", DEC_CASES)
def test_decoder_layer_matches_torch(torch, norm_first, act, bf):
    theirs = torch.nn.TransformerDecoderLayer(D, NH, FF, dropout=0.0, activation=act,
                                              batch_first=bf, norm_first=norm_first).double()
    ours = nn.TransformerDecoderLayer(D, NH, FF, dropout=0.0, activation=act, batch_first=bf,
                                      norm_first=norm_first, dtype=F64)
    rng = np.random.default_rng(10)
    tgt = rng.standard_normal(seq_shape(bf, N, L, D))
    mem = rng.standard_normal(seq_shape(bf, N, S, D))
    mm = rng.standard_normal((L, S))

    def fwd(m, xs, conv):
        return m(xs[0], xs[1], tgt_mask=conv(causal_float(L)), tgt_is_causal=True,
                 memory_mask=conv(mm), tgt_key_padding_mask=conv(padding_mask(N, L)),
                 memory_key_padding_mask=conv(padding_mask(N, S)))

    run_both(torch, ours, theirs, [tgt, mem], fwd)


def test_decoder_stack_matches_torch(torch):
    def build(lib, dtype_kw):
        layer = lib.TransformerDecoderLayer(D, NH, FF, dropout=0.0, **dtype_kw)
        return lib.TransformerDecoder(layer, 2, norm=lib.LayerNorm(D, **dtype_kw))

    theirs = build(torch.nn, {}).double()
    ours = build(nn, {"dtype": F64})
    rng = np.random.default_rng(11)
    tgt, mem = rng.standard_normal((L, N, D)), rng.standard_normal((S, N, D))
    run_both(torch, ours, theirs, [tgt, mem],
             lambda m, xs, conv: m(xs[0], xs[1], tgt_mask=conv(causal_bool(L))))


@pytest.mark.parametrize("bf", [False, True])
def test_transformer_matches_torch(torch, bf):
    kw = dict(d_model=D, nhead=NH, num_encoder_layers=2, num_decoder_layers=2,
              dim_feedforward=FF, dropout=0.0, batch_first=bf)
    theirs = torch.nn.Transformer(**kw).double()
    ours = nn.Transformer(**kw, dtype=F64)
    rng = np.random.default_rng(12)
    src = rng.standard_normal(seq_shape(bf, N, S, D))
    tgt = rng.standard_normal(seq_shape(bf, N, L, D))

    def fwd(m, xs, conv):
        return m(xs[0], xs[1], tgt_mask=conv(causal_float(L)),
                 src_key_padding_mask=conv(padding_mask(N, S)),
                 memory_key_padding_mask=conv(padding_mask(N, S)))

    out = run_both(torch, ours, theirs, [src, tgt], fwd)
    assert out.shape == seq_shape(bf, N, L, D)


def test_transformer_unbatched_norm_first_gelu_matches_torch(torch):
    kw = dict(d_model=D, nhead=NH, num_encoder_layers=1, num_decoder_layers=2,
              dim_feedforward=FF, dropout=0.0, activation="gelu", norm_first=True)
    theirs = torch.nn.Transformer(**kw).double()
    ours = nn.Transformer(**kw, dtype=F64)
    rng = np.random.default_rng(13)
    run_both(torch, ours, theirs, [rng.standard_normal((S, D)), rng.standard_normal((L, D))],
             lambda m, xs, conv: m(xs[0], xs[1], tgt_mask=conv(causal_float(L)),
                                   tgt_is_causal=True))


def test_generate_square_subsequent_mask(torch):
    for sz in (1, 4):
        ours = nn.Transformer.generate_square_subsequent_mask(sz)
        theirs = torch.nn.Transformer.generate_square_subsequent_mask(sz)
        assert ours.dtype == np.float32
        np.testing.assert_array_equal(ours._data, theirs.numpy())
    assert nn.Transformer.generate_square_subsequent_mask(3, dtype=F64).dtype == np.float64


# ---- structure, init, copies, dropout, errors --------------------------------------------------
def test_state_dict_keys_match_torch(torch):
    cases = [
        (lambda lib: lib.MultiheadAttention(E, H), {}),
        (lambda lib: lib.MultiheadAttention(E, H, kdim=3, vdim=5, bias=False), {}),
        (lambda lib: lib.MultiheadAttention(E, H, add_bias_kv=True), {}),
        (lambda lib: lib.TransformerEncoderLayer(D, NH, FF), {}),
        (lambda lib: lib.TransformerDecoderLayer(D, NH, FF, bias=False), {}),
        (lambda lib: lib.Transformer(D, NH, 2, 1, FF), {}),
    ]
    for build, _ in cases:
        ours, theirs = build(nn), build(torch.nn)
        o, t = ours.state_dict(), theirs.state_dict()
        assert list(o) == list(t)
        assert all(tuple(o[k].shape) == tuple(t[k].shape) for k in o)
        assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]


def test_mha_init():
    m = nn.MultiheadAttention(16, 4)
    bound = np.sqrt(6.0 / (16 + 48))
    w = m.in_proj_weight._data
    assert w.shape == (48, 16) and np.abs(w).max() <= bound and w.std() > bound / 4
    np.testing.assert_array_equal(m.in_proj_bias._data, 0.0)
    np.testing.assert_array_equal(m.out_proj.bias._data, 0.0)
    assert m.bias_k is None and m.in_proj_weight.dtype == np.float32
    s = nn.MultiheadAttention(16, 4, kdim=8, vdim=4)
    assert s.in_proj_weight is None and s.k_proj_weight.shape == (16, 8)
    assert np.abs(s.v_proj_weight._data).max() <= np.sqrt(6.0 / 20)


def test_transformer_xavier_init():
    model = nn.Transformer(D, NH, 1, 1, FF)
    for name, p in model.named_parameters():
        if p.ndim > 1:
            fan_out, fan_in = p.shape
            assert np.abs(p._data).max() <= np.sqrt(6.0 / (fan_in + fan_out)) + 1e-7, name


def test_layers_are_deep_copies():
    layer = nn.TransformerEncoderLayer(D, NH, FF)
    enc = nn.TransformerEncoder(layer, 3)
    ids = {id(p) for p in enc.parameters()}
    assert len(ids) == 3 * len(list(layer.parameters()))
    assert id(layer.linear1.weight) not in ids
    w0, w1 = enc.layers[0].linear1.weight, enc.layers[1].linear1.weight
    np.testing.assert_array_equal(w0._data, w1._data)
    w0._data[...] += 1.0
    assert not np.allclose(w0._data, w1._data)
    assert list(enc.state_dict())[0] == "layers.0.self_attn.in_proj_weight"


def test_dropout_train_eval():
    autograd.manual_seed(0)
    layer = nn.TransformerEncoderLayer(D, NH, FF, dropout=0.3, dtype=F64)
    ref = nn.TransformerEncoderLayer(D, NH, FF, dropout=0.0, dtype=F64)
    ref.load_state_dict(layer.state_dict())
    x = autograd.randn(L, N, D, dtype=F64)
    layer.eval()
    ref.eval()
    a, b = layer(x), layer(x)
    np.testing.assert_array_equal(a._data, b._data)
    np.testing.assert_allclose(a._data, ref(x)._data, rtol=1e-12)
    layer.train()
    c, d = layer(x), layer(x)
    assert not np.allclose(c._data, a._data) and not np.allclose(c._data, d._data)
    mha = nn.MultiheadAttention(E, H, dropout=0.5, dtype=F64)
    y = autograd.randn(L, N, E, dtype=F64)
    _, w = mha(y, y, y)
    assert (w._data == 0).any() or not np.allclose(w._data.sum(-1), 1.0)
    mha.eval()
    _, w = mha(y, y, y)
    np.testing.assert_allclose(w._data.sum(-1), 1.0, rtol=1e-12)


def test_errors(torch):
    m = nn.MultiheadAttention(E, H)
    x = autograd.randn(L, N, E)
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        m(x, x, x, is_causal=True)
    with pytest.raises(RuntimeError, match="2D attn_mask"):
        m(x, x, x, attn_mask=Tensor(np.zeros((L, L + 1), dtype=bool)))
    with pytest.raises(AssertionError, match="only bool and floating"):
        m(x, x, x, attn_mask=Tensor(np.zeros((L, L), dtype=np.int64)))
    with pytest.raises(AssertionError, match="embedding dimension"):
        m(autograd.randn(L, N, E + 1), x, x)
    with pytest.raises(AssertionError, match="key_padding_mask"):
        m(x, x, x, key_padding_mask=Tensor(np.zeros((N, L + 2), dtype=bool)))
    with pytest.raises(AssertionError):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(AssertionError):
        torch.nn.MultiheadAttention(6, 4)
    with pytest.raises(ValueError):
        nn.MultiheadAttention(0, 1)
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerEncoderLayer(D, NH, activation="tanh")
    with pytest.raises(RuntimeError):
        torch.nn.TransformerEncoderLayer(D, NH, activation="tanh")
    t = nn.Transformer(D, NH, 1, 1, FF)
    with pytest.raises(RuntimeError, match="batch number"):
        t(autograd.randn(S, 2, D), autograd.randn(L, 3, D))
    with pytest.raises(RuntimeError, match="d_model"):
        t(autograd.randn(S, 2, D + 1), autograd.randn(L, 2, D + 1))
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        nn.TransformerEncoderLayer(D, NH)(autograd.randn(L, N, D), is_causal=True)


def test_mha_second_order():
    """Double backward through the fused attention path and the explicit-weights path."""
    rng = np.random.default_rng(14)
    m = nn.MultiheadAttention(4, 2, dtype=F64)
    q = Tensor(rng.standard_normal((3, 1, 4)), requires_grad=True)
    kv = Tensor(rng.standard_normal((2, 1, 4)), requires_grad=True)
    for need in (False, True):
        assert autograd.gradgradcheck(lambda a, b: m(a, b, b, need_weights=need)[0], (q, kv))


def test_encoder_layer_float32_matches_torch(torch):
    theirs = torch.nn.TransformerEncoderLayer(D, NH, FF, dropout=0.0, batch_first=True,
                                              norm_first=True)
    ours = nn.TransformerEncoderLayer(D, NH, FF, dropout=0.0, batch_first=True,
                                      norm_first=True)
    load_torch_state(torch, ours, theirs)
    x = np.random.default_rng(15).standard_normal((N, L, D)).astype(np.float32)
    mask = causal_float(L).astype(np.float32)
    out = ours(Tensor(x), src_mask=Tensor(mask), is_causal=True)
    ref = theirs(torch.tensor(x), src_mask=torch.tensor(mask), is_causal=True)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out._data, ref.detach().numpy(), rtol=1e-4, atol=1e-5)
