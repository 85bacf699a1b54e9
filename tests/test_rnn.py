"""Recurrent layers (nn/rnn.py), their one-node sequence ops (autograd/ops/rnn.py) and the
Numba kernels (kernels/rnn.py).

- the per-step kernels (serial and prange twins, float32/float64) against plain NumPy
  references written here;
- the sequence ops by gradcheck on tiny float64 sizes drawn by hypothesis, and their double
  backward raising;
- every layer and cell, forward and backward, against torch with copied weights, over the
  argument combinations that matter (layers, directions, layouts, unbatched, initial states,
  bias, nonlinearity);
- state_dict keys, initialisation bounds, errors, and a 2,000-step sequence (no recursion,
  memory linear in the length, a constant number of graph nodes per layer).
"""

import itertools
import tracemalloc
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
import nn
from autograd import Tensor
from autograd.ops.rnn import gru_layer, lstm_layer, rnn_layer
from conftest import check_grad, seeds
from kernels import rnn as KR

FLOATS = (np.float32, np.float64)


def tol(dtype):
    return dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-11)


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def draw(seed, dtype, *shapes):
    """Standard-normal arrays of ``shapes`` in ``dtype``, drawn in that order from a generator
    seeded with ``seed``: the inputs of a step-kernel test."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def assert_match(got, want, dtype):
    """Each array a kernel returned (``got``) has ``dtype`` and equals its float64 NumPy
    reference (``want``, in the same order) to ``tol(dtype)``."""
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, w, **tol(dtype))


# ======================================================================================
# kernels vs plain NumPy
# ======================================================================================
def ref_lstm_step(xp, hh, b, c_prev):
    a = (xp + hh + b).astype(np.float64)
    i, f, g, o = np.split(a, 4, axis=1)
    i, f, g, o = sig(i), sig(f), np.tanh(g), sig(o)
    c = f * c_prev + i * g
    return np.concatenate([i, f, g, o], 1), c, o * np.tanh(c)


def ref_lstm_step_bwd(dh, dc, gates, c, c_prev):
    i, f, g, o = np.split(gates.astype(np.float64), 4, axis=1)
    tc = np.tanh(c)
    dcc = dc + dh * o * (1 - tc ** 2)
    dG = np.concatenate([dcc * g * i * (1 - i), dcc * c_prev * f * (1 - f),
                         dcc * i * (1 - g ** 2), dh * tc * o * (1 - o)], 1)
    return dG, dcc * f


def ref_gru_step(xp, hh, b, h_prev):
    H = h_prev.shape[1]
    a = xp[:, :2 * H] + hh[:, :2 * H] + b[:2 * H]
    r, z = sig(a[:, :H]), sig(a[:, H:])
    hn = hh[:, 2 * H:] + b[2 * H:]
    n = np.tanh(xp[:, 2 * H:] + r * hn)
    return np.concatenate([r, z, n, hn], 1), (1 - z) * n + z * h_prev


def ref_gru_step_bwd(dh, gates, h_prev):
    r, z, n, hn = np.split(gates.astype(np.float64), 4, axis=1)
    dn = dh * (1 - z) * (1 - n ** 2)
    dz = dh * (h_prev - n) * z * (1 - z)
    dr = dn * hn * r * (1 - r)
    return (np.concatenate([dr, dz, dn], 1), np.concatenate([dr, dz, dn * r], 1), dh * z)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("parallel", [False, True])
def test_lstm_step_kernels_match_numpy(dtype, parallel):
    N, H = 5, 7
    xp, hh, b, c_prev, gout, dh_next, dc = draw(0, dtype, (N, 4 * H), (N, 4 * H), 4 * H,
                                                 *[(N, H)] * 4)
    gates, c, h = KR.lstm_step_forward(xp, hh, b, c_prev, parallel=parallel)
    assert_match((gates, c, h), ref_lstm_step(xp, hh, b, c_prev), dtype)
    assert_match(KR.lstm_step_backward(gout, dh_next, dc, gates, c, c_prev, parallel=parallel),
                 ref_lstm_step_bwd(gout + dh_next, dc, gates, c, c_prev), dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("parallel", [False, True])
def test_gru_step_kernels_match_numpy(dtype, parallel):
    N, H = 4, 6
    xp, hh, b, h_prev, gout, dh_next = draw(1, dtype, (N, 3 * H), (N, 3 * H), 3 * H,
                                            *[(N, H)] * 3)
    gates, h = KR.gru_step_forward(xp, hh, b, h_prev, parallel=parallel)
    assert_match((gates, h), ref_gru_step(xp, hh, b, h_prev), dtype)
    assert_match(KR.gru_step_backward(gout, dh_next, gates, h_prev, parallel=parallel),
                 ref_gru_step_bwd(gout + dh_next, gates, h_prev), dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("parallel", [False, True])
def test_rnn_step_kernels_match_numpy(dtype, relu, parallel):
    xp, hh, gout, dh_next, b = draw(2, dtype, *[(3, 5)] * 4, 5)
    h = KR.rnn_step_forward(xp, hh, b, relu=relu, parallel=parallel)
    a = xp + hh + b
    assert_match((h,), (np.maximum(a, 0) if relu else np.tanh(a),), dtype)
    dG = KR.rnn_step_backward(gout, dh_next, h, relu=relu, parallel=parallel)
    d = gout + dh_next
    assert_match((dG,), (d * (h > 0) if relu else d * (1 - h ** 2),), dtype)


@pytest.mark.parametrize("reverse", [False, True])
def test_sequence_kernel_matches_stepwise_numpy(reverse):
    """The whole-sequence driver == a plain NumPy loop of the reference step (both orders)."""
    rng = np.random.default_rng(3)
    L, N, H = 6, 3, 4
    xp = rng.standard_normal((L, N, 4 * H))
    w = rng.standard_normal((4 * H, H)) * 0.5
    b = rng.standard_normal(4 * H)
    h0, c0 = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    out, cs, gates = KR.lstm_forward(xp, w, b, h0, c0, reverse=reverse)
    h, c = h0, c0
    for t in (range(L - 1, -1, -1) if reverse else range(L)):
        _, c, h = ref_lstm_step(xp[t], h @ w.T, b, c)
        np.testing.assert_allclose(out[t], h, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(cs[t], c, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reverse", [False, True])
def test_float32_lstm_forward_pipeline_matches_scalar_kernel(reverse):
    """float32 runs the serial and the parallel twin of the step kernel (both with the
    polynomial float32 exp): both agree with the float64 reference, also for saturated gates
    (exp overflowing to inf must give exact 0/1 gates, no nan and no warning)."""
    rng = np.random.default_rng(8)
    L, N, H = 5, 3, 6
    xp = rng.standard_normal((L, N, 4 * H)) * 3
    xp[0, 0, :] = 200.0      # exp(-x) underflows -> gates exactly 1
    xp[1, 1, :] = -200.0     # exp(-x) overflows -> gates exactly 0
    w = rng.standard_normal((4 * H, H)) * 0.5
    b = rng.standard_normal(4 * H)
    want = KR.lstm_forward(xp, w, b, reverse=reverse)[0]
    f32 = [a.astype(np.float32) for a in (xp, w, b)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vec = KR.lstm_forward(*f32, reverse=reverse, parallel=False)
        par = KR.lstm_forward(*f32, reverse=reverse, parallel=True)
    for out, cs, gates in (vec, par):
        assert out.dtype == np.float32 and np.isfinite(out).all()
        np.testing.assert_allclose(out, want, rtol=1e-4, atol=2e-6)
    np.testing.assert_allclose(vec[2], par[2], rtol=1e-5, atol=1e-6)


def test_float32_exp_of_the_gate_kernels_against_numpy():
    """kernels.rnn._exp_f32 (the vectorisable float32 exp of the gates) against float64
    np.exp: at most 2.6e-7 relative inside [-87, 88], clamped outside, exact at +-inf, NaN
    propagated."""
    from numba import njit
    exp_f32 = KR._exp_f32

    @njit
    def run(x, out):
        for i in range(x.size):
            out[i] = exp_f32(x[i])

    rng = np.random.default_rng(3)
    x = np.concatenate([np.linspace(-87, 88, 200_001), rng.uniform(-5, 5, 100_000),
                        [0.0, -0.0, 1e-30, -1e-30, 0.34657359, -0.34657359]]).astype(np.float32)
    out = np.empty_like(x)
    run(x, out)
    want = np.exp(x.astype(np.float64))
    assert out.dtype == np.float32
    assert np.max(np.abs(out / want - 1)) <= 2.6e-7
    edge = np.array([np.nan, np.inf, -np.inf, 200.0, -200.0], np.float32)
    got = np.empty_like(edge)
    run(edge, got)
    assert np.isnan(got[0])
    assert got[1] == np.inf and got[2] == 0.0            # exact at the infinities
    assert got[3] > 1e38 and np.isfinite(got[3])          # clamped beyond [-87, 88]
    assert 0 < got[4] < 2e-38


def test_step_blas_restores_thread_count():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = [i["num_threads"] for i in threadpoolctl.threadpool_info()
              if i["user_api"] == "blas"]
    rng = np.random.default_rng(9)
    xp = rng.standard_normal((4, 2, 12)).astype(np.float32)
    w = rng.standard_normal((12, 3)).astype(np.float32)
    with KR._StepBlas(1) as ctx:
        inside = [lc.num_threads for lc in ctx.libs]
        KR.lstm_forward(xp, w)
    assert all(n == 1 for n in inside)
    after = [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    assert after == before


def test_kernel_rejects_bad_input():
    with pytest.raises(TypeError, match="float32 or float64"):
        KR.lstm_forward(np.zeros((2, 1, 4), np.int64), np.zeros((4, 1)))
    with pytest.raises(ValueError, match="w_hh"):
        KR.gru_forward(np.zeros((2, 1, 6)), np.zeros((6, 3)))


# ======================================================================================
# sequence ops: gradcheck and double backward
# ======================================================================================
@st.composite
def seq_case(draw):
    return (draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 3)),
            draw(st.booleans()), draw(st.booleans()), draw(st.booleans()), draw(seeds))


def _op_inputs(rng, L, N, H, G, with_bias, with_h0, n_states=1):
    xp = Tensor(rng.standard_normal((L, N, G * H)), requires_grad=True)
    w = Tensor(rng.standard_normal((G * H, H)) * 0.6, requires_grad=True)
    b = Tensor(rng.standard_normal(G * H), requires_grad=True) if with_bias else None
    states = [Tensor(rng.standard_normal((N, H)), requires_grad=True) if with_h0 else None
              for _ in range(n_states)]
    return xp, w, b, states


def _present(*ts):
    return [t for t in ts if t is not None]


@given(seq_case())
def test_lstm_layer_gradcheck(case):
    L, N, H, reverse, with_bias, with_h0, seed = case
    xp, w, b, (h0, c0) = _op_inputs(np.random.default_rng(seed), L, N, H, 4, with_bias,
                                    with_h0, 2)
    args = _present(xp, w, b, h0, c0)

    def fn(*a):
        it = iter(a)
        x_, w_ = next(it), next(it)
        b_ = next(it) if with_bias else None
        h_, c_ = (next(it), next(it)) if with_h0 else (None, None)
        return lstm_layer(x_, w_, b_, h_, c_, reverse=reverse)
    check_grad(fn, *args)


@given(seq_case(), st.sampled_from(["gru", "tanh", "relu"]))
def test_gru_rnn_layer_gradcheck(case, kind):
    L, N, H, reverse, with_bias, with_h0, seed = case
    G = 3 if kind == "gru" else 1
    rng = np.random.default_rng(seed)
    xp, w, b, (h0,) = _op_inputs(rng, L, N, H, G, with_bias, with_h0)
    if kind == "relu":  # keep pre-activations away from the kink
        xp._data += np.sign(xp._data) * 0.3

    def fn(*a):
        it = iter(a)
        x_, w_ = next(it), next(it)
        b_ = next(it) if with_bias else None
        h_ = next(it) if with_h0 else None
        if kind == "gru":
            return gru_layer(x_, w_, b_, h_, reverse=reverse)
        return rnn_layer(x_, w_, b_, h_, nonlinearity=kind, reverse=reverse)
    check_grad(fn, *_present(xp, w, b, h0), eps=1e-7 if kind == "relu" else 1e-6)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_double_backward_raises(kind):
    rng = np.random.default_rng(4)
    G = {"lstm": 4, "gru": 3, "rnn": 1}[kind]
    xp, w, b, _ = _op_inputs(rng, 3, 2, 2, G, True, False)
    fn = {"lstm": lstm_layer, "gru": gru_layer, "rnn": rnn_layer}[kind]
    out = fn(xp, w, b)[0]
    g, = autograd.grad((out * out).sum(), [w], create_graph=True)
    with pytest.raises(RuntimeError, match="double backward is not implemented"):
        g.sum().backward()


def test_layer_op_errors():
    x = Tensor(np.zeros((3, 2, 8)))
    with pytest.raises(RuntimeError, match=r"lstm_layer: w_hh must have shape"):
        lstm_layer(x, Tensor(np.zeros((8, 3))))
    with pytest.raises(RuntimeError, match=r"projected input must have shape"):
        gru_layer(x, Tensor(np.zeros((6, 2))))
    with pytest.raises(RuntimeError, match=r"expected h0 of shape \(2, 2\)"):
        lstm_layer(x, Tensor(np.zeros((8, 2))), h0=Tensor(np.zeros((3, 2))))
    with pytest.raises(RuntimeError, match="dtype"):
        lstm_layer(x, Tensor(np.zeros((8, 2), np.float32)))
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        rnn_layer(Tensor(np.zeros((3, 2, 2))), Tensor(np.zeros((2, 2))), nonlinearity="gelu")


# ======================================================================================
# layers against torch
# ======================================================================================
MODES = ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]


def make_pair(torch, mode, input_size, hidden_size, dtype=np.float64, **kw):
    """A tapegrad layer and a torch layer with the same weights."""
    if mode.startswith("RNN"):
        nl = "relu" if mode == "RNN_RELU" else "tanh"
        ours = nn.RNN(input_size, hidden_size, nonlinearity=nl, dtype=dtype, **kw)
        theirs = torch.nn.RNN(input_size, hidden_size, nonlinearity=nl, **kw)
    else:
        ours = getattr(nn, mode)(input_size, hidden_size, dtype=dtype, **kw)
        theirs = getattr(torch.nn, mode)(input_size, hidden_size, **kw)
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    theirs = theirs.to(tdt)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            p.copy_(torch.from_numpy(getattr(ours, name)._data.copy()))
    return ours, theirs


def run_both(torch, ours, theirs, x, states, lstm):
    """Forward both with a random upstream gradient on every output; returns the pairs
    (ours, torch) of outputs and gradients to compare."""
    rng = np.random.default_rng(7)
    ox = Tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    ost = [Tensor(s, requires_grad=True) for s in states]
    tst = [torch.tensor(s, requires_grad=True) for s in states]
    if lstm:
        o_out, (o_h, o_c) = ours(ox, tuple(ost) if ost else None)
        t_out, (t_h, t_c) = theirs(tx, tuple(tst) if tst else None)
        o_res, t_res = [o_out, o_h, o_c], [t_out, t_h, t_c]
    else:
        o_out, o_h = ours(ox, ost[0] if ost else None)
        t_out, t_h = theirs(tx, tst[0] if tst else None)
        o_res, t_res = [o_out, o_h], [t_out, t_h]
    o_loss, t_loss = 0, 0
    pairs = []
    for o, t in zip(o_res, t_res):
        assert tuple(o.shape) == tuple(t.shape)
        pairs.append((o._data, t.detach().numpy()))
        g = rng.standard_normal(o.shape).astype(x.dtype)
        o_loss = o_loss + (o * Tensor(g)).sum()
        t_loss = t_loss + (t * torch.tensor(g)).sum()
    o_loss.backward()
    t_loss.backward()
    pairs.append((ox.grad._data, tx.grad.numpy()))
    for o, t in zip(ost, tst):
        pairs.append((o.grad._data, t.grad.numpy()))
    for name, p in theirs.named_parameters():
        pairs.append((getattr(ours, name).grad._data, p.grad.numpy()))
    return pairs


LAYER_CASES = list(itertools.product(
    MODES, [1, 2], [False, True], ["seq", "batch_first", "unbatched"], [False, True]))


@pytest.mark.parametrize("mode,num_layers,bidirectional,layout,with_states", LAYER_CASES)
def test_layer_matches_torch(torch, mode, num_layers, bidirectional, layout, with_states):
    rng = np.random.default_rng(zlib.crc32(repr((mode, num_layers, bidirectional,
                                                 layout)).encode()))
    L, N, I, H = 4, 3, 5, 4
    ours, theirs = make_pair(torch, mode, I, H, num_layers=num_layers,
                             bidirectional=bidirectional, batch_first=layout == "batch_first")
    D = 2 if bidirectional else 1
    shape = {"seq": (L, N, I), "batch_first": (N, L, I), "unbatched": (L, I)}[layout]
    x = rng.standard_normal(shape)
    sshape = (D * num_layers, H) if layout == "unbatched" else (D * num_layers, N, H)
    n_states = 2 if mode == "LSTM" else 1
    states = [rng.standard_normal(sshape) for _ in range(n_states)] if with_states else []
    for got, want in run_both(torch, ours, theirs, x, states, mode == "LSTM"):
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("mode", MODES)
def test_layer_no_bias_float32_matches_torch(torch, mode):
    rng = np.random.default_rng(11)
    ours, theirs = make_pair(torch, mode, 3, 5, dtype=np.float32, bias=False, num_layers=2)
    assert "bias_ih_l0" not in ours.state_dict()
    x = rng.standard_normal((6, 2, 3)).astype(np.float32)
    for got, want in run_both(torch, ours, theirs, x, [], mode == "LSTM"):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-5)


def test_layer_dropout_between_layers(torch):
    ours, theirs = make_pair(torch, "LSTM", 3, 4, num_layers=2, dropout=0.5)
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    ours.eval()
    theirs.eval()
    out_eval = ours(Tensor(x))[0]._data
    np.testing.assert_allclose(out_eval, theirs(torch.tensor(x))[0].detach().numpy(),
                               rtol=1e-9, atol=1e-10)
    ours.train()
    autograd.manual_seed(0)
    out_train = ours(Tensor(x))[0]._data
    assert not np.allclose(out_train, out_eval)   # the mask changed the second layer's input
    ours.dropout = 1.0                            # everything dropped: layer 2 sees zeros
    out_zero = ours(Tensor(x))[0]._data
    out_ref = ours(Tensor(np.zeros_like(x)))[0]._data
    np.testing.assert_allclose(out_zero, out_ref, rtol=0, atol=0)
    assert not np.allclose(out_zero, out_eval)


@pytest.mark.parametrize("cell,nl", [("RNNCell", "tanh"), ("RNNCell", "relu"), ("LSTMCell", None),
                                     ("GRUCell", None)])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_state", [True, False])
def test_cell_matches_torch(torch, cell, nl, batched, with_state):
    rng = np.random.default_rng(5)
    I, H, N = 3, 4, 2
    kw = {"nonlinearity": nl} if nl else {}
    ours = getattr(nn, cell)(I, H, dtype=np.float64, **kw)
    theirs = getattr(torch.nn, cell)(I, H, **kw).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            p.copy_(torch.from_numpy(getattr(ours, name)._data.copy()))
    x = rng.standard_normal((N, I) if batched else (I,))
    ox, tx = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    sshape = (N, H) if batched else (H,)
    n_states = 2 if cell == "LSTMCell" else 1
    s = [rng.standard_normal(sshape) for _ in range(n_states)] if with_state else []
    os_ = [Tensor(a, requires_grad=True) for a in s]
    ts_ = [torch.tensor(a, requires_grad=True) for a in s]
    if cell == "LSTMCell":
        o = ours(ox, tuple(os_) if os_ else None)
        t = theirs(tx, tuple(ts_) if ts_ else None)
    else:
        o = (ours(ox, os_[0] if os_ else None),)
        t = (theirs(tx, ts_[0] if ts_ else None),)
    o_loss, t_loss = 0, 0
    for k, (a, b) in enumerate(zip(o, t)):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a._data, b.detach().numpy(), rtol=1e-10, atol=1e-12)
        g = rng.standard_normal(a.shape)
        o_loss = o_loss + (a * Tensor(g)).sum()
        t_loss = t_loss + (b * torch.tensor(g)).sum()
    o_loss.backward()
    t_loss.backward()
    np.testing.assert_allclose(ox.grad._data, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    for a, b in zip(os_, ts_):
        np.testing.assert_allclose(a.grad._data, b.grad.numpy(), rtol=1e-10, atol=1e-12)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(getattr(ours, name).grad._data, p.grad.numpy(),
                                   rtol=1e-10, atol=1e-12)


def test_module_gradcheck_two_layer_bidirectional_gru():
    autograd.manual_seed(0)
    m = nn.GRU(2, 2, num_layers=2, bidirectional=True, dtype=np.float64)
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    h0 = Tensor(rng.standard_normal((4, 2, 2)), requires_grad=True)
    params = list(m.parameters())

    def fn(x_, h_, *ps):
        out, h_n = m(x_, h_)
        return out, h_n
    check_grad(fn, x, h0, *params)


# ======================================================================================
# parameters, state_dict, errors
# ======================================================================================
@pytest.mark.parametrize("mode", MODES)
def test_state_dict_keys_and_shapes_match_torch(torch, mode):
    kw = dict(num_layers=3, bidirectional=True)
    ours, theirs = make_pair(torch, mode, 6, 5, **kw)   # asserts the key lists are equal
    for k, v in theirs.state_dict().items():
        assert tuple(ours.state_dict()[k].shape) == tuple(v.shape)
    # a torch state dict loads into ours
    ours.load_state_dict({k: Tensor(v.numpy()) for k, v in theirs.state_dict().items()})


@pytest.mark.parametrize("cls,G", [(nn.LSTM, 4), (nn.GRU, 3), (nn.RNN, 1), (nn.LSTMCell, 4)])
def test_initialisation_bounds(cls, G):
    autograd.manual_seed(0)
    H = 64
    m = cls(10, H)
    bound = 1 / np.sqrt(H)
    for name, p in m.named_parameters():
        assert p.dtype == np.float32
        assert p.shape[0] == G * H
        assert np.abs(p._data).max() <= bound
        assert np.abs(p._data).max() > 0.8 * bound        # uniform over the whole range
        assert abs(p._data.mean()) < 0.3 * bound


def test_module_errors():
    m = nn.LSTM(3, 4)
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D, got 4D"):
        m(autograd.zeros(1, 2, 3, 3))
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. "
                                           "Expected 3, got 5"):
        m(autograd.zeros(2, 2, 5))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(1, 2, 4\)"):
        m(autograd.zeros(2, 2, 3), (autograd.zeros(1, 3, 4), autograd.zeros(1, 2, 4)))
    with pytest.raises(RuntimeError, match="hx and cx should also be 3-D"):
        m(autograd.zeros(2, 2, 3), (autograd.zeros(2, 4), autograd.zeros(2, 4)))
    with pytest.raises(ValueError, match="input must have the type"):
        m(autograd.zeros(2, 2, 3, dtype=autograd.float64))
    with pytest.raises(RuntimeError, match="Expected hidden size"):
        nn.GRU(3, 4)(autograd.zeros(2, 2, 3), autograd.zeros(2, 2, 4))
    with pytest.raises(NotImplementedError, match="proj_size"):
        nn.LSTM(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="proj_size has to be smaller"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.GRU(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.RNN(3, 0)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.2)
    with pytest.raises(RuntimeError, match="input has inconsistent input_size"):
        nn.GRUCell(3, 4)(autograd.zeros(2, 5))
    with pytest.raises(RuntimeError, match="doesn't match hidden0 batch size"):
        nn.RNNCell(3, 4)(autograd.zeros(2, 3), autograd.zeros(3, 4))
    with pytest.raises(TypeError, match="hx must be a tuple"):
        nn.LSTMCell(3, 4)(autograd.zeros(2, 3), autograd.zeros(2, 4))


def test_repr_matches_torch_style():
    assert repr(nn.LSTM(3, 4, 2, batch_first=True)) == \
        "LSTM(3, 4, num_layers=2, batch_first=True)"
    assert repr(nn.GRUCell(3, 4)) == "GRUCell(3, 4)"


# ======================================================================================
# long sequences: constant graph size, no recursion, memory linear in length
# ======================================================================================
def _count_nodes(t):
    seen, stack = set(), [t.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen or isinstance(fn, autograd.graph.AccumulateGrad):
            continue
        seen.add(id(fn))
        stack.extend(node for node, _ in fn.next_functions)
    return len(seen)


@pytest.mark.parametrize("mode", MODES)
def test_graph_size_does_not_grow_with_length(mode):
    m = (nn.RNN(2, 3, num_layers=2) if mode.startswith("RNN") else getattr(nn, mode)(2, 3, 2))
    counts = [_count_nodes(m(autograd.randn(L, 2, 2, requires_grad=True))[0].sum())
              for L in (3, 60)]
    assert counts[0] == counts[1] and counts[0] < 20


def _peak_bytes(L, H=16, N=4):
    autograd.manual_seed(0)
    m = nn.LSTM(8, H)
    x = autograd.randn(L, N, 8, requires_grad=True)
    tracemalloc.start()
    tracemalloc.reset_peak()
    out, (h, c) = m(x)
    (out.sum() + c.sum()).backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert np.isfinite(x.grad._data).all() and np.isfinite(m.weight_hh_l0.grad._data).all()
    return peak


def test_2000_step_sequence_backprop_linear_memory(torch):
    p1, p2 = _peak_bytes(1000), _peak_bytes(2000)
    assert 1.6 < p2 / p1 < 2.4, (p1, p2)
    # per step: the saved gates (4H), cell and hidden states and their gradients, a few copies
    assert p2 / 2000 < 4 * 16 * 8 * 40
    # and the 2,000-step gradients agree with torch
    rng = np.random.default_rng(0)
    ours, theirs = make_pair(torch, "LSTM", 3, 4)
    x = rng.standard_normal((2000, 2, 3)) * 0.5
    for got, want in run_both(torch, ours, theirs, x, [], True):
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)
