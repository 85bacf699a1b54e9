"""Helpers shared by the nn test modules (test_nn_layers.py, test_nn_module.py,
test_nn_init_utils.py, test_losses.py): float64 leaves, the same values as a tapegrad and a torch
leaf, copying parameters between the libraries, comparing a module's forward and backward."""

import numpy as np

import autograd


def _t64(*shape, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    return autograd.tensor(rng.standard_normal(shape) * scale, dtype=autograd.float64,
                           requires_grad=True)


def _rand(shape, seed=0, scale=1.0, dtype=np.float64):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


def _pair(arr, torch, requires_grad=True):
    """The same values as a tapegrad leaf and a torch leaf."""
    ours = autograd.tensor(arr, requires_grad=requires_grad)
    theirs = torch.tensor(arr, requires_grad=requires_grad)
    return ours, theirs


def _copy_params(ours, theirs):
    """Copy every torch parameter and buffer into the tapegrad module (same names)."""
    res = ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert res.missing_keys == [] and res.unexpected_keys == []


def _compare_module(ours, theirs, arr, torch, atol=1e-10, inputs=1):
    """Forward and backward (input and parameter gradients) of both modules agree."""
    xs = [_pair(a, torch) for a in (arr if inputs > 1 else [arr])]
    y = ours(*[x for x, _ in xs])
    yt = theirs(*[t for _, t in xs])
    np.testing.assert_allclose(y._data, yt.detach().numpy(), atol=atol, rtol=1e-6)
    assert y.dtype == autograd.float64 and y.shape == tuple(yt.shape)
    g = _rand(y.shape, seed=99)
    y.backward(autograd.tensor(g))
    yt.backward(torch.tensor(g))
    for x, t in xs:
        np.testing.assert_allclose(x.grad._data, t.grad.numpy(), atol=atol, rtol=1e-6)
    params_t = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad._data, params_t[name].grad.numpy(), atol=atol,
                                   rtol=1e-6, err_msg=name)


def _copy_into_torch(ours, theirs, torch):
    with torch.no_grad():
        for (n1, p1), (n2, p2) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert n1 == n2 and tuple(p1.shape) == tuple(p2.shape)
            p2.copy_(torch.from_numpy(p1._data.copy()))
