"""nn.utils.rnn (pad_sequence, pack_padded_sequence, pad_packed_sequence, pack_sequence,
PackedSequence) and nn.RNN/LSTM/GRU on packed input, against torch; float64 gradchecks."""

import numpy as np
import pytest

import autograd
import nn
from nn.utils.rnn import (PackedSequence, pack_padded_sequence, pack_sequence,
                          pad_packed_sequence, pad_sequence, unpack_sequence, unpad_sequence)

RNG = np.random.default_rng(0)
LENGTHS = [3, 5, 1, 4]          # unsorted, distinct
SEQS = [RNG.standard_normal((n, 2)) for n in LENGTHS]


def _ours(a, grad=False):
    return autograd.tensor(np.array(a, dtype=np.float64), requires_grad=grad)


def _a(t):
    return t.detach().numpy()


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_matches_torch(torch, batch_first, side):
    ours = pad_sequence([_ours(s) for s in SEQS], batch_first=batch_first, padding_value=-1.5,
                        padding_side=side)
    theirs = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in SEQS],
                                             batch_first=batch_first, padding_value=-1.5,
                                             padding_side=side)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(_a(ours), theirs.numpy())


@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_pad_roundtrip_matches_torch(torch, enforce_sorted, batch_first):
    lengths = sorted(LENGTHS, reverse=True) if enforce_sorted else LENGTHS
    seqs = [RNG.standard_normal((n, 3)) for n in lengths]
    padded = pad_sequence([_ours(s) for s in seqs], batch_first=batch_first)
    tpadded = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs],
                                              batch_first=batch_first)
    p = pack_padded_sequence(padded, lengths, batch_first=batch_first,
                             enforce_sorted=enforce_sorted)
    tp = torch.nn.utils.rnn.pack_padded_sequence(tpadded, lengths, batch_first=batch_first,
                                                 enforce_sorted=enforce_sorted)
    np.testing.assert_array_equal(_a(p.data), tp.data.numpy())
    np.testing.assert_array_equal(p.batch_sizes.numpy(), tp.batch_sizes.numpy())
    for a, b in ((p.sorted_indices, tp.sorted_indices), (p.unsorted_indices,
                                                         tp.unsorted_indices)):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    out, lens = pad_packed_sequence(p, batch_first=batch_first, padding_value=7.0,
                                    total_length=6)
    tout, tlens = torch.nn.utils.rnn.pad_packed_sequence(tp, batch_first=batch_first,
                                                         padding_value=7.0, total_length=6)
    np.testing.assert_array_equal(_a(out), tout.numpy())
    np.testing.assert_array_equal(lens.numpy(), tlens.numpy())
    assert lens.dtype == np.int64
    back = unpack_sequence(pack_sequence([_ours(s) for s in seqs], enforce_sorted=False))
    for a, s in zip(back, seqs):
        np.testing.assert_array_equal(_a(a), s)
    for a, s in zip(unpad_sequence(out[:5] if not batch_first else out[:, :5], lens,
                                   batch_first=batch_first), seqs):
        np.testing.assert_array_equal(_a(a), s)


def test_packing_is_differentiable_gradcheck():
    xs = tuple(_ours(s, True) for s in SEQS)

    def f(*xs):
        p = pack_sequence(list(xs), enforce_sorted=False)
        out, _ = pad_packed_sequence(p, batch_first=True, padding_value=0.5)
        return out * out.sum(1, keepdim=True), p.data
    assert autograd.gradcheck(f, xs)


def test_errors():
    x = autograd.zeros(5, 3, 2)
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        pack_padded_sequence(x, [2, 5, 1])
    with pytest.raises(RuntimeError, match="greater than 0"):
        pack_padded_sequence(x, [5, 0, 0])
    with pytest.raises(ValueError, match="batch_size"):
        pack_padded_sequence(x, [5, 2])
    p = pack_padded_sequence(x, [5, 2, 1])
    with pytest.raises(ValueError, match="total_length=3"):
        pad_packed_sequence(p, total_length=3)
    with pytest.raises(ValueError, match="padding_side"):
        pad_sequence([x[0]], padding_side="middle")
    with pytest.raises(RuntimeError, match="trailing dims"):
        pad_sequence([autograd.zeros(2, 3), autograd.zeros(2, 4)])
    with pytest.raises(TypeError, match="PackedSequence"):
        pad_packed_sequence(x)
    assert isinstance(p, PackedSequence) and isinstance(p, tuple) and not p.is_cuda


def _pair(torch, kind, **kw):
    autograd.manual_seed(0)
    ours = getattr(nn, kind)(2, 3, **kw).double()
    theirs = getattr(torch.nn, kind)(2, 3, **kw).double()
    theirs.load_state_dict({k: torch.tensor(_a(v)) for k, v in ours.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("kw", [{}, {"bidirectional": True, "num_layers": 2},
                                {"batch_first": True}], ids=["plain", "bi2", "bf"])
@pytest.mark.parametrize("with_hx", [False, True])
def test_recurrent_layers_on_packed_input_match_torch(torch, kind, kw, with_hx):
    ours, theirs = _pair(torch, kind, **kw)
    xs = [_ours(s, True) for s in SEQS]
    txs = [torch.tensor(s, requires_grad=True) for s in SEQS]
    p = pack_sequence(xs, enforce_sorted=False)
    tp = torch.nn.utils.rnn.pack_sequence(txs, enforce_sorted=False)
    D = 2 if kw.get("bidirectional") else 1
    hshape = (D * kw.get("num_layers", 1), len(SEQS), 3)
    args, targs = (), ()
    if with_hx:
        h0 = RNG.standard_normal(hshape)
        if kind == "LSTM":
            c0 = RNG.standard_normal(hshape)
            args, targs = ((_ours(h0), _ours(c0)),), ((torch.tensor(h0), torch.tensor(c0)),)
        else:
            args, targs = (_ours(h0),), (torch.tensor(h0),)
    out, hn = ours(p, *args)
    tout, thn = theirs(tp, *targs)
    assert isinstance(out, PackedSequence)
    np.testing.assert_allclose(_a(out.data), tout.data.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_array_equal(out.batch_sizes.numpy(), tout.batch_sizes.numpy())
    hs = hn if kind == "LSTM" else (hn,)
    ths = thn if kind == "LSTM" else (thn,)
    for a, b in zip(hs, ths):
        assert a.shape == tuple(b.shape)
        np.testing.assert_allclose(_a(a), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = RNG.standard_normal(out.data.shape)
    loss = (out.data * _ours(w)).sum() + sum((h * h).sum() for h in hs)
    tloss = (tout.data * torch.tensor(w)).sum() + sum((h * h).sum() for h in ths)
    loss.backward()
    tloss.backward()
    for a, b in zip(xs, txs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)
    for (name, pa), (_, pb) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(pa.grad.numpy(), pb.grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)


def test_packed_final_state_is_each_sequences_last_step():
    """h_n of a packed batch equals running each sequence alone (no padding leaks in)."""
    autograd.manual_seed(1)
    gru = nn.GRU(2, 3).double()
    _, hn = gru(pack_sequence([_ours(s) for s in SEQS], enforce_sorted=False))
    for i, s in enumerate(SEQS):
        _, h_alone = gru(_ours(s)[:, None])
        np.testing.assert_allclose(_a(hn[:, i]), _a(h_alone[:, 0]), rtol=1e-12)
    padded_out, lens = pad_packed_sequence(gru(pack_sequence([_ours(s) for s in SEQS],
                                                             enforce_sorted=False))[0])
    for i, n in enumerate(LENGTHS):
        assert np.all(_a(padded_out[n:, i]) == 0) and np.all(_a(padded_out[:n, i]) != 0)
