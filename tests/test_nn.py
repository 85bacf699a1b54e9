"""nn: Module mechanics, layers, losses, init, against PyTorch where it is installed."""

import math
from collections import OrderedDict

import numpy as np
import pytest
from conftest import import_torch

import autograd
import nn
import nn.functional as F
from autograd import gradcheck


def _t64(*shape, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    return autograd.tensor(rng.standard_normal(shape) * scale, dtype=autograd.float64,
                           requires_grad=True)


# ---- Module mechanics ------------------------------------------------------------------------
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Linear(4 * 3 * 3, 5)
        self.register_buffer("steps", autograd.zeros(1))
        self.register_buffer("scratch", autograd.zeros(2), persistent=False)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


def test_registration_and_state_dict_keys_match_pytorch_naming():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["features.0.weight", "features.0.bias", "head.weight", "head.bias"]
    # PyTorch's order: own parameters, own buffers, then children; non-persistent left out
    assert list(net.state_dict()) == ["steps", *names]
    assert [n for n, _ in net.named_buffers()] == ["steps", "scratch"]
    assert len(list(net.children())) == 2
    assert len(list(net.modules())) == 6  # net, Sequential, conv, relu, pool, linear
    assert sum(p.numel() for p in net.parameters()) == 4 * 9 + 4 + 36 * 5 + 5


def test_setattr_rules_and_errors():
    m = nn.Linear(2, 3)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        m.weight = autograd.zeros(3, 2)
    m.bias = None
    assert m.bias is None and [n for n, _ in m.named_parameters()] == ["weight"]
    assert m(autograd.ones(4, 2)).shape == (4, 3)

    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(autograd.zeros(1))
    with pytest.raises(AttributeError, match="cannot assign parameters before Module.__init__"):
        Bad()

    class Early(nn.Module):  # PyTorch allows plain attributes before super().__init__()
        def __init__(self, k):
            self.k = k
            super().__init__()
            self.lin = nn.Linear(k, 1)
    assert Early(3).k == 3 and [n for n, _ in Early(3).named_parameters()] == ["lin.weight",
                                                                              "lin.bias"]

    class EarlyModule(nn.Module):
        def __init__(self):
            self.lin = nn.Linear(1, 1)
    with pytest.raises(AttributeError, match="cannot assign module before Module.__init__"):
        EarlyModule()
    with pytest.raises(KeyError):
        m.register_buffer("a.b", autograd.zeros(1))


def test_load_state_dict_roundtrip_and_strict_errors():
    a, b = Net(), Net()
    x = autograd.randn(2, 1, 8, 8)
    assert not np.allclose(a(x)._data, b(x)._data)
    res = b.load_state_dict(a.state_dict())
    assert res.missing_keys == [] and res.unexpected_keys == []
    np.testing.assert_array_equal(a(x)._data, b(x)._data)

    sd = a.state_dict()
    sd.pop("head.bias")
    sd["extra"] = autograd.zeros(1)
    before = b.head.weight._data.copy()
    with pytest.raises(RuntimeError, match='(?s)Missing key.*"head.bias".*Unexpected key.*"extra"'):
        b.load_state_dict(sd)
    res = b.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["head.bias"] and res.unexpected_keys == ["extra"]

    sd = a.state_dict()
    sd["head.weight"] = autograd.zeros(5, 7)
    b.head.weight._data[...] = before
    with pytest.raises(RuntimeError, match=r"(?s)size mismatch for head.weight.*\(5, 7\).*\(5, 36\)"):
        b.load_state_dict(sd)
    np.testing.assert_array_equal(b.head.weight._data, before)  # untouched on failure


def test_train_eval_zero_grad_to_and_hooks():
    net = Net()
    net.eval()
    assert all(not m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    out = net(autograd.randn(2, 1, 8, 8)).sum()
    out.backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.to(autograd.float64)
    assert all(p.dtype == autograd.float64 for p in net.parameters())
    assert net.steps.dtype == autograd.float64
    seen = []
    h = net.head.register_forward_hook(lambda m, args, out: seen.append(out.shape))
    net(autograd.randn(3, 1, 8, 8, dtype=autograd.float64))
    h.remove()
    net(autograd.randn(3, 1, 8, 8, dtype=autograd.float64))
    assert seen == [(3, 5)]


def test_sequential_indexing_assignment_len_and_repr():
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    assert len(seq) == 3
    assert isinstance(seq[0], nn.Linear) and isinstance(seq[-1], nn.Linear)
    assert seq[-1].out_features == 2
    seq[1] = nn.Tanh()
    assert isinstance(seq[1], nn.Tanh)
    assert len(seq[:2]) == 2
    with pytest.raises(IndexError):
        seq[3]
    assert repr(seq) == ("Sequential(\n"
                         "  (0): Linear(in_features=3, out_features=4, bias=True)\n"
                         "  (1): Tanh()\n"
                         "  (2): Linear(in_features=4, out_features=2, bias=True)\n)")
    named = nn.Sequential(OrderedDict(fc=nn.Linear(1, 1), act=nn.Sigmoid()))
    assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    assert len(list(ml.parameters())) == 6


def test_reprs_match_pytorch_text():
    assert repr(nn.Conv2d(1, 32, 3)) == "Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))"
    assert repr(nn.Conv2d(3, 8, 5, stride=2, padding=1, bias=False)) == \
        "Conv2d(3, 8, kernel_size=(5, 5), stride=(2, 2), padding=(1, 1), bias=False)"
    assert repr(nn.MaxPool2d(2)) == \
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.Dropout()) == "Dropout(p=0.5, inplace=False)"
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


# ---- default initialisation ---------------------------------------------------------------------
def test_default_init_bounds_follow_pytorch():
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w = lin.weight._data
    assert w.dtype == np.float32 and w.shape == (300, 400)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert np.abs(lin.bias._data).max() <= bound
    conv = nn.Conv2d(16, 32, 3)
    cb = 1 / math.sqrt(16 * 9)
    assert np.abs(conv.weight._data).max() <= cb and np.abs(conv.weight._data).max() > 0.9 * cb
    autograd.manual_seed(3)
    a = nn.Linear(5, 5).weight._data.copy()
    autograd.manual_seed(3)
    np.testing.assert_array_equal(a, nn.Linear(5, 5).weight._data)


def test_init_functions():
    w = autograd.empty(64, 32)
    nn.init.xavier_uniform_(w)
    a = math.sqrt(6 / 96)
    assert np.abs(w._data).max() <= a and np.abs(w._data).max() > 0.9 * a
    nn.init.kaiming_normal_(w, nonlinearity="relu")
    assert abs(w._data.std() - math.sqrt(2 / 32)) < 0.03
    nn.init.zeros_(w)
    assert not w._data.any()
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)
    with pytest.raises(ValueError):
        nn.init.calculate_gain("nope")
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(autograd.empty(3))


# ---- layers and losses: gradients and errors ----------------------------------------------------
def test_linear_gradcheck_and_shape_error():
    x, w, b = _t64(3, 4), _t64(5, 4, seed=1), _t64(5, seed=2)
    assert gradcheck(F.linear, (x, w, b))
    assert gradcheck(lambda x, w: F.linear(x, w), (_t64(2, 3, 4), _t64(5, 4, seed=3)))
    with pytest.raises(RuntimeError, match=r"\(3x4 and 7x2\).*in_features=7"):
        nn.Linear(7, 2)(autograd.randn(3, 4))


def test_conv_pool_gradcheck_and_errors():
    x = _t64(2, 2, 6, 6)
    w = _t64(3, 2, 3, 3, seed=1)
    b = _t64(3, seed=2)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), (x, w, b))
    assert gradcheck(lambda x: F.max_pool2d(x, 2), (_t64(1, 2, 4, 4, seed=5),))
    with pytest.raises(RuntimeError, match="expected input.*to have 3 channels, but got 1"):
        nn.Conv2d(3, 4, 3)(autograd.randn(1, 1, 8, 8))
    with pytest.raises(RuntimeError, match="can't be greater than the padded input"):
        nn.Conv2d(1, 1, 5)(autograd.randn(1, 1, 3, 3))
    with pytest.raises(RuntimeError, match="same floating dtype"):
        nn.Conv2d(1, 1, 3)(autograd.randn(1, 1, 5, 5, dtype=autograd.float64))


def test_grouped_conv_matches_per_group_convs():
    x = autograd.randn(2, 4, 5, 5)
    conv = nn.Conv2d(4, 6, 3, groups=2, padding=1)
    out = conv(x)
    w, b = conv.weight, conv.bias
    first = F.conv2d(x[:, :2], w[:3], b[:3], padding=1)
    np.testing.assert_allclose(out._data[:, :3], first._data, rtol=1e-5, atol=1e-6)


def test_cross_entropy_gradcheck_variants():
    logits = _t64(4, 5)
    target = autograd.tensor([0, 3, 4, 1])
    for kw in ({}, {"reduction": "sum"}, {"reduction": "none"}, {"label_smoothing": 0.1},
               {"weight": autograd.tensor([1., 2., 0.5, 1., 3.], dtype=autograd.float64)}):
        assert gradcheck(lambda z: F.cross_entropy(z, target, **kw), (logits,))
    ignored = autograd.tensor([0, -100, 4, -100])
    assert gradcheck(lambda z: F.cross_entropy(z, ignored), (logits,))
    probs = autograd.tensor(np.full((4, 5), 0.2), dtype=autograd.float64)
    assert gradcheck(lambda z: F.cross_entropy(z, probs), (logits,))


def test_cross_entropy_is_stable_for_huge_logits():
    logits = autograd.tensor([[1e4, -1e4, 0.0], [0.0, 1e4, 1e4]], requires_grad=True)
    loss = F.cross_entropy(logits, autograd.tensor([1, 0]))
    loss.backward()
    assert np.isfinite(loss.item()) and loss.item() == pytest.approx((2e4 + 1e4 + np.log(2)) / 2,
                                                                      rel=1e-5)
    assert np.isfinite(logits.grad._data).all()


def test_loss_errors():
    with pytest.raises(IndexError, match="target 7 is out of bounds"):
        F.cross_entropy(autograd.randn(2, 5), autograd.tensor([1, 7]))
    with pytest.raises(ValueError, match="reduction"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match="expected target of shape"):
        F.cross_entropy(autograd.randn(2, 5), autograd.tensor([1, 2, 3]))


def test_mse_and_dropout():
    x, y = _t64(3, 4), _t64(3, 4, seed=9)
    assert gradcheck(lambda a: F.mse_loss(a, y.detach()), (x,))
    np.testing.assert_allclose(nn.MSELoss()(x, y).item(), ((x._data - y._data) ** 2).mean())
    d = nn.Dropout(0.25)
    z = autograd.ones(1000, 100)
    out = d(z)._data
    kept = out != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(out[kept], 1 / 0.75, rtol=1e-6)
    d.eval()
    assert d(z) is z
    with pytest.raises(ValueError):
        nn.Dropout(1.5)


def test_activation_modules():
    x = autograd.tensor([-2.0, 0.5, 3.0])
    np.testing.assert_allclose(nn.ReLU()(x)._data, [0, 0.5, 3])
    np.testing.assert_allclose(nn.Tanh()(x)._data, np.tanh(x._data), rtol=1e-6)
    np.testing.assert_allclose(nn.Sigmoid()(x)._data, 1 / (1 + np.exp(-x._data)), rtol=1e-6)
    np.testing.assert_allclose(nn.Softmax(dim=0)(x)._data.sum(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(nn.LogSoftmax(dim=0)(x)._data,
                               np.log(nn.Softmax(dim=0)(x)._data), rtol=1e-5)


# ---- against PyTorch ----------------------------------------------------------------------------
def _copy_into_torch(ours, theirs, torch):
    with torch.no_grad():
        for (n1, p1), (n2, p2) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert n1 == n2 and tuple(p1.shape) == tuple(p2.shape)
            p2.copy_(torch.from_numpy(p1._data.copy()))


def test_lenet_forward_backward_matches_pytorch():
    torch = import_torch()

    def build(nn_):
        return nn_.Sequential(nn_.Conv2d(1, 8, 3), nn_.ReLU(), nn_.MaxPool2d(2),
                              nn_.Conv2d(8, 16, 3, padding=1, stride=2), nn_.ReLU(),
                              nn_.Flatten(), nn_.Linear(16 * 7 * 7, 10))
    ours, theirs = build(nn), build(torch.nn)
    _copy_into_torch(ours, theirs, torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((4, 1, 30, 30)).astype(np.float32)
    y = np.array([1, 0, 9, 3])
    loss = F.cross_entropy(ours(autograd.tensor(x)), autograd.tensor(y), label_smoothing=0.05)
    tloss = torch.nn.functional.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(y),
                                              label_smoothing=0.05)
    loss.backward()
    tloss.backward()
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-5)
    for (n, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad._data, tp.grad.numpy(), rtol=1e-4, atol=1e-6,
                                   err_msg=n)


def test_losses_match_pytorch():
    torch = import_torch()
    rng = np.random.default_rng(1)
    z = rng.standard_normal((6, 4))
    t = np.array([0, 3, 1, -100, 2, 2])
    w = np.array([1.0, 0.5, 2.0, 1.5])
    for kw in ({}, {"reduction": "sum"}, {"reduction": "none"}, {"label_smoothing": 0.2}):
        for weight in (None, w):
            ours = autograd.tensor(z, requires_grad=True)
            theirs = torch.tensor(z, requires_grad=True)
            lo = F.cross_entropy(ours, autograd.tensor(t), weight=None if weight is None else
                                 autograd.tensor(weight), **kw)
            lt = torch.nn.functional.cross_entropy(
                theirs, torch.tensor(t), weight=None if weight is None else torch.tensor(weight),
                **kw)
            np.testing.assert_allclose(lo._data, lt.detach().numpy(), rtol=1e-10, atol=1e-12)
            lo.sum().backward()
            lt.sum().backward()
            np.testing.assert_allclose(ours.grad._data, theirs.grad.numpy(), rtol=1e-9,
                                       atol=1e-12)
    a, b = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    np.testing.assert_allclose(
        F.mse_loss(autograd.tensor(a), autograd.tensor(b)).item(),
        torch.nn.functional.mse_loss(torch.tensor(a), torch.tensor(b)).item())


def test_inplace_relu_is_recorded_in_the_graph():
    a = autograd.tensor([-1.0, 2.0, -3.0, 4.0], requires_grad=True)
    x = a * 1.0
    out = F.relu(x, inplace=True)
    assert out is x
    np.testing.assert_array_equal(x._data, [0, 2, 0, 4])
    (x * autograd.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(a.grad._data, [0, 2, 0, 4])
    with pytest.raises(RuntimeError, match="leaf Variable"):
        nn.ReLU(inplace=True)(autograd.randn(3, requires_grad=True))
