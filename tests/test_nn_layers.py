"""nn layers: Linear, Conv/pool modules, activations, BatchNorm, Dropout/Dropout2d, Bilinear,
Upsample/interpolate, and PyTorch's dtype and edge-case rules for them: forward and backward
against PyTorch with copied weights, gradcheck in float64, train/eval behaviour. (Module
mechanics and containers: test_nn_module.py; nn.init and nn.utils: test_nn_init_utils.py;
losses: test_losses.py.)
"""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
import nn
import nn.functional as F
from autograd import gradcheck
from conftest import check_grad, seeds
from _nn_helpers import _compare_module, _copy_into_torch, _copy_params, _pair, _rand, _t64


# ---- Linear, Conv2d, pools ------------------------------------------------------------------
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


def test_lenet_forward_backward_matches_pytorch(torch):

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


# ---- activations ----------------------------------------------------------------------------
def test_activation_modules():
    x = autograd.tensor([-2.0, 0.5, 3.0])
    np.testing.assert_allclose(nn.ReLU()(x)._data, [0, 0.5, 3])
    np.testing.assert_allclose(nn.Tanh()(x)._data, np.tanh(x._data), rtol=1e-6)
    np.testing.assert_allclose(nn.Sigmoid()(x)._data, 1 / (1 + np.exp(-x._data)), rtol=1e-6)
    np.testing.assert_allclose(nn.Softmax(dim=0)(x)._data.sum(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(nn.LogSoftmax(dim=0)(x)._data,
                               np.log(nn.Softmax(dim=0)(x)._data), rtol=1e-5)


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


ACTIVATIONS = [
    ("ReLU6", (), {}), ("LeakyReLU", (0.2,), {}), ("LeakyReLU", (), {}),
    ("ELU", (0.7,), {}), ("SELU", (), {}), ("CELU", (1.5,), {}), ("GELU", (), {}),
    ("GELU", (), {"approximate": "tanh"}), ("SiLU", (), {}), ("Mish", (), {}),
    ("Hardtanh", (-0.5, 1.5), {}), ("Softplus", (2.0, 3.0), {}), ("Hardsigmoid", (), {}),
    ("Hardswish", (), {}), ("LogSigmoid", (), {}), ("PReLU", (), {}), ("PReLU", (3, 0.1), {}),
]


@pytest.mark.parametrize("name,args,kwargs", ACTIVATIONS,
                         ids=[f"{a[0]}{i}" for i, a in enumerate(ACTIVATIONS)])
def test_activation_modules_match_pytorch(torch, name, args, kwargs):
    ours = getattr(nn, name)(*args, **kwargs).double()
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    # values on both sides of every kink (+-3 for the hard ones, 0, thresholds)
    arr = _rand((4, 3, 5), seed=1, scale=3.0)
    _compare_module(ours, theirs, arr, torch)


@pytest.mark.parametrize("name,args", [("LeakyReLU", (0.1, True)), ("ELU", (1.0, True)),
                                       ("ReLU6", (True,)), ("SiLU", (True,)),
                                       ("Hardtanh", (-1.0, 1.0, True))])
def test_inplace_activations_rewrite_their_input(torch, name, args):
    arr = _rand((3, 4), seed=2, scale=3)
    x = autograd.tensor(arr)
    out = getattr(nn, name)(*args)(x)
    assert out is x
    np.testing.assert_allclose(x._data, getattr(torch.nn, name)(*args)(torch.tensor(arr)).numpy(),
                               atol=1e-12)


@given(seed=seeds, channels=st.sampled_from([1, 3]))
def test_prelu_gradcheck_input_and_weight(seed, channels):
    rng = np.random.default_rng(seed)
    x = autograd.tensor(rng.uniform(0.1, 2, (2, 3, 2)) * rng.choice([-1, 1], (2, 3, 2)),
                        requires_grad=True)
    w = autograd.tensor(rng.uniform(0.05, 0.5, channels), requires_grad=True)
    check_grad(lambda a, b: F.prelu(a, b), x, w, gradgrad=True)


def test_prelu_errors_and_init():
    m = nn.PReLU(4, init=0.1)
    assert m.weight.shape == (4,) and np.all(m.weight._data == np.float32(0.1))
    with pytest.raises(RuntimeError, match="parameter numbers = 4 and channel size = 3"):
        m(autograd.randn(2, 3))
    with pytest.raises(ValueError, match="must be greater than min_val"):
        nn.Hardtanh(1.0, 1.0)


# ---- BatchNorm ------------------------------------------------------------------------------
@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)),
                                       ("BatchNorm2d", (3, 3, 4, 2))])
@pytest.mark.parametrize("momentum", [0.1, None, 0.5])
def test_batchnorm_train_eval_and_running_stats_match_pytorch(torch, cls, shape, momentum):
    ours = getattr(nn, cls)(3, momentum=momentum).double()
    theirs = getattr(torch.nn, cls)(3, momentum=momentum).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor([0.5, -1.0, 2.0]))
        theirs.bias.copy_(torch.tensor([0.1, 0.2, -0.3]))
    _copy_params(ours, theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert repr(ours) == repr(theirs)
    for step in range(3):  # training steps: batch statistics and running updates
        arr = _rand(shape, seed=step, scale=2.0) + step
        ours.zero_grad()
        theirs.zero_grad()
        _compare_module(ours, theirs, arr, torch, atol=1e-9)
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(ours, name)._data,
                                   getattr(theirs, name).numpy(), atol=1e-12)
    assert int(ours.num_batches_tracked.item()) == 3
    assert ours.num_batches_tracked.dtype == autograd.int64
    ours.eval()
    theirs.eval()
    arr = _rand(shape, seed=7)
    ours.zero_grad()
    theirs.zero_grad()
    _compare_module(ours, theirs, arr, torch, atol=1e-9)
    # eval mode uses the running statistics, so it differs from a training pass
    ours.train()
    x = autograd.tensor(arr)
    with autograd.no_grad():
        train_out = ours(x)._data
        ours.eval()
        assert not np.allclose(train_out, ours(x)._data)
    assert int(ours.num_batches_tracked.item()) == 4  # only the training pass counted


@pytest.mark.parametrize("affine,track", [(False, True), (True, False), (False, False)])
def test_batchnorm_options_match_pytorch(torch, affine, track):
    ours = nn.BatchNorm2d(2, affine=affine, track_running_stats=track).double()
    theirs = torch.nn.BatchNorm2d(2, affine=affine, track_running_stats=track).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    for mode in ("train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        _compare_module(ours, theirs, _rand((3, 2, 2, 3), seed=3), torch, atol=1e-9)
    if not track:
        assert ours.running_mean is None and ours.num_batches_tracked is None


def test_batchnorm_bias_false_and_state_dict_from_torch(torch):
    ours, theirs = nn.BatchNorm1d(4, bias=False), torch.nn.BatchNorm1d(4, bias=False)
    assert ours.bias is None and list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    theirs.train()
    theirs(torch.randn(8, 4) * 3 + 1)  # non-trivial running statistics
    _copy_params(ours, theirs)
    ours.eval()
    theirs.eval()
    arr = _rand((5, 4), seed=4, dtype=np.float32)
    np.testing.assert_allclose(ours(autograd.tensor(arr))._data,
                               theirs(torch.tensor(arr)).detach().numpy(), atol=1e-5)
    # a state dict without num_batches_tracked still loads (as in PyTorch)
    sd = {k: v.numpy() for k, v in theirs.state_dict().items() if k != "num_batches_tracked"}
    assert ours.load_state_dict(sd).missing_keys == []


@given(seed=seeds, shape=st.sampled_from([(3, 2), (2, 2, 3), (2, 2, 2, 2)]))
def test_batchnorm_gradcheck_train_mode(seed, shape):
    rng = np.random.default_rng(seed)
    x = autograd.tensor(rng.standard_normal(shape), requires_grad=True)
    w = autograd.tensor(rng.uniform(0.5, 2, 2), requires_grad=True)
    b = autograd.tensor(rng.standard_normal(2), requires_grad=True)
    check_grad(lambda a, g, h: F.batch_norm(a, None, None, g, h, training=True), x, w, b,
               gradgrad=True)
    rm = autograd.tensor(rng.standard_normal(2))
    rv = autograd.tensor(rng.uniform(0.5, 2, 2))
    check_grad(lambda a, g, h: F.batch_norm(a, rm, rv, g, h, training=False), x, w, b)


def test_batchnorm_errors_match_pytorch(torch):
    bn1, bn2 = nn.BatchNorm1d(3), nn.BatchNorm2d(3)
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        bn1(autograd.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        bn2(autograd.randn(2, 3, 4))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        bn1(autograd.randn(1, 3))
    bn1.eval()
    assert bn1(autograd.randn(1, 3)).shape == (1, 3)  # fine in eval mode
    with pytest.raises(RuntimeError, match="3 channels"):
        bn2(autograd.randn(2, 4, 3, 3))
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(autograd.randn(2, 3), None, None, training=False)
    with pytest.raises(RuntimeError, match="running_mean should contain 4 elements not 3"):
        F.batch_norm(autograd.randn(2, 4), autograd.zeros(3), autograd.ones(3))


# ---- Dropout, Dropout2d ---------------------------------------------------------------------
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


def test_dropout2d_drops_whole_channels_and_is_identity_in_eval():
    autograd.manual_seed(0)
    m = nn.Dropout2d(p=0.4)
    assert repr(m) == "Dropout2d(p=0.4, inplace=False)"
    x = autograd.ones(40, 50, 3, 4, requires_grad=True)
    y = m(x)
    per_channel = y._data.reshape(40, 50, -1)
    kept = per_channel[:, :, 0] != 0
    # every channel is either all zero or all 1 / (1 - p)
    np.testing.assert_array_equal(per_channel, np.broadcast_to(
        kept[:, :, None] * np.float32(1 / 0.6), per_channel.shape))
    assert abs(1 - kept.mean() - 0.4) < 0.05
    y.sum().backward()
    np.testing.assert_allclose(x.grad._data, y._data)  # the gradient is the same mask
    m.eval()
    assert m(x) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(1.5)


def test_dropout2d_3d_input_p1_and_inplace(torch):
    x = autograd.ones(6, 8, 5)
    with pytest.warns(UserWarning, match="channel-wise 1D dropout"):
        y = F.dropout2d(x, 0.5)
    d = y._data
    assert np.all((d == d[:, :, :1]))  # (N, C, L): masked per (n, c), as PyTorch
    assert np.all(F.dropout2d(autograd.ones(2, 3, 2, 2), 1.0)._data == 0)
    z = autograd.ones(4, 3, 2, 2)
    assert F.dropout2d(z, 0.5, inplace=True) is z
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            F.dropout2d(autograd.ones(4), 0.5)


# ---- Bilinear -------------------------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batch", [(5,), (2, 3), ()])
def test_bilinear_matches_pytorch(torch, bias, batch):
    ours = nn.Bilinear(3, 4, 2, bias=bias).double()
    theirs = torch.nn.Bilinear(3, 4, 2, bias=bias).double()
    _copy_params(ours, theirs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _compare_module(ours, theirs, [_rand(batch + (3,), 1), _rand(batch + (4,), 2)], torch,
                    inputs=2)


@given(seed=seeds)
def test_bilinear_gradcheck(seed):
    rng = np.random.default_rng(seed)
    x1, x2 = (autograd.tensor(rng.standard_normal(s), requires_grad=True) for s in [(2, 3),
                                                                                   (2, 2)])
    w = autograd.tensor(rng.standard_normal((2, 3, 2)), requires_grad=True)
    b = autograd.tensor(rng.standard_normal(2), requires_grad=True)
    check_grad(F.bilinear, x1, x2, w, b, gradgrad=True)


def test_bilinear_init_and_errors():
    m = nn.Bilinear(16, 3, 5)
    assert m.weight.shape == (5, 16, 3) and m.bias.shape == (5,)
    assert np.abs(m.weight._data).max() <= 0.25 and np.abs(m.weight._data).max() > 0.2
    with pytest.raises(RuntimeError, match="batch dimensions do not match at dim 0: got 5 and 4"):
        m(autograd.randn(5, 16), autograd.randn(4, 3))
    with pytest.raises(RuntimeError, match="input1 size does not match weight size: got 3"):
        m(autograd.randn(5, 3), autograd.randn(5, 3))


# ---- Upsample / interpolate -----------------------------------------------------------------
MODES_4D = [("nearest", None), ("nearest-exact", None), ("bilinear", False), ("bilinear", True)]


def _interpolate_like_torch(torch, arr, size, mode, grad_atol=1e-12):
    """``F.interpolate(arr, size, mode)`` (``mode``: a ``MODES_4D`` pair) and its backward
    of a random gradient agree with PyTorch's."""
    x, xt = _pair(arr, torch)
    y = F.interpolate(x, size=size, mode=mode[0], align_corners=mode[1])
    yt = torch.nn.functional.interpolate(xt, size=size, mode=mode[0], align_corners=mode[1])
    np.testing.assert_allclose(y._data, yt.detach().numpy(), atol=1e-12)
    g = _rand(y.shape, seed=1)
    y.backward(autograd.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad._data, xt.grad.numpy(), atol=grad_atol)


@given(seed=seeds, h=st.integers(1, 6), w=st.integers(1, 6), oh=st.integers(1, 13),
       ow=st.integers(1, 13), mode=st.sampled_from(MODES_4D))
def test_interpolate_size_matches_pytorch(torch, seed, h, w, oh, ow, mode):
    _interpolate_like_torch(torch, _rand((2, 2, h, w), seed=seed % 1000), (oh, ow), mode)


@pytest.mark.parametrize("mode", MODES_4D)
@pytest.mark.parametrize("scale", [0.5, 0.7, 1.3, 2, 2.5, (3, 1.5)])
@pytest.mark.parametrize("recompute", [None, True])
def test_interpolate_scale_factor_matches_pytorch(torch, mode, scale, recompute):
    arr = _rand((1, 2, 5, 7), seed=3)
    ours = F.interpolate(autograd.tensor(arr), scale_factor=scale, mode=mode[0],
                         align_corners=mode[1], recompute_scale_factor=recompute)
    theirs = torch.nn.functional.interpolate(torch.tensor(arr), scale_factor=scale,
                                             mode=mode[0], align_corners=mode[1],
                                             recompute_scale_factor=recompute)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours._data, theirs.numpy(), atol=1e-12)


@pytest.mark.parametrize("mode,ac", [("nearest", None), ("nearest-exact", None),
                                     ("linear", False), ("linear", True)])
@pytest.mark.parametrize("size", [1, 4, 9, 17])
def test_interpolate_3d_matches_pytorch(torch, mode, ac, size):
    arr = _rand((2, 3, 6), seed=5).astype(np.float32)
    ours = F.interpolate(autograd.tensor(arr), size=size, mode=mode, align_corners=ac)
    theirs = torch.nn.functional.interpolate(torch.tensor(arr), size=size, mode=mode,
                                             align_corners=ac)
    assert ours.dtype == autograd.float32
    np.testing.assert_allclose(ours._data, theirs.numpy(), atol=1e-6)


@pytest.mark.parametrize("mode", MODES_4D)
def test_interpolate_nonfinite_and_long_inputs_take_the_gather_path(torch, mode):
    # an inf must only reach the outputs that read it (a dense interpolation matrix would
    # spread 0 * inf = nan over the whole row), and long axes (> 256) are gathered too
    arr = _rand((1, 2, 4, 5), seed=9)
    arr[0, 1, 2, 3] = np.inf
    for a, size in [(arr, (7, 9)), (_rand((1, 1, 2, 300), seed=10), (3, 451))]:
        _interpolate_like_torch(torch, a, size, mode, grad_atol=1e-10)


@pytest.mark.parametrize("mode", MODES_4D)
def test_upsample_module_repr_and_gradcheck(torch, mode):
    kw = {"align_corners": mode[1]} if mode[1] is not None else {}
    ours = nn.Upsample(scale_factor=2, mode=mode[0], **kw)
    assert repr(ours) == repr(torch.nn.Upsample(scale_factor=2, mode=mode[0], **kw))
    x = autograd.tensor(_rand((1, 2, 3, 2), seed=6), requires_grad=True)
    assert ours(x).shape == (1, 2, 6, 4)
    check_grad(ours, x, gradgrad=True)
    check_grad(nn.Upsample(size=(2, 5), mode=mode[0], **kw), x)


def test_upsample_reprs_and_aliases(torch):
    for ours, theirs in [(nn.Upsample(size=(3, 4), mode="bilinear"),
                          torch.nn.Upsample(size=(3, 4), mode="bilinear")),
                         (nn.Upsample(scale_factor=(2, 3)), torch.nn.Upsample(scale_factor=(2, 3))),
                         (nn.UpsamplingNearest2d(scale_factor=2),
                          torch.nn.UpsamplingNearest2d(scale_factor=2)),
                         (nn.UpsamplingBilinear2d(size=5), torch.nn.UpsamplingBilinear2d(size=5))]:
        assert repr(ours) == repr(theirs)
    arr = _rand((1, 1, 3, 3), seed=8)
    np.testing.assert_allclose(
        nn.UpsamplingBilinear2d(scale_factor=2)(autograd.tensor(arr))._data,
        torch.nn.UpsamplingBilinear2d(scale_factor=2)(torch.tensor(arr)).numpy(), atol=1e-12)


def test_interpolate_errors_match_pytorch_types():
    x = autograd.randn(1, 1, 4, 4)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(NotImplementedError, match="bilinear mode needs 4D input"):
        F.interpolate(autograd.randn(1, 1, 4), scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match="same number of spatial dimensions"):
        F.interpolate(x, size=(2, 3, 4))
    with pytest.raises(NotImplementedError, match="got foo"):
        F.interpolate(x, scale_factor=2, mode="foo")
    with pytest.raises(RuntimeError, match="greater than 0"):
        F.interpolate(x, scale_factor=0.1)


def test_interpolate_5d_matches_pytorch(torch):
    """5-D input: nearest, nearest-exact and trilinear (it raised NotImplementedError)."""
    arr = _rand((2, 3, 3, 4, 5), seed=3)
    for mode, kw in (("nearest", dict(scale_factor=2)), ("nearest", dict(size=(5, 3, 7))),
                     ("nearest-exact", dict(size=(5, 3, 7))), ("trilinear", dict(size=(5, 3, 7))),
                     ("trilinear", dict(scale_factor=(1.5, 2, 0.5), align_corners=True))):
        ours, theirs = _pair(arr, torch)
        y = F.interpolate(ours, mode=mode, **kw)
        yt = torch.nn.functional.interpolate(theirs, mode=mode, **kw)
        g = _rand(tuple(yt.shape), seed=4)
        y.backward(autograd.tensor(g))
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(y._data, yt.detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(ours.grad._data, theirs.grad.numpy(), atol=1e-12)
    up = nn.Upsample(scale_factor=2, mode="trilinear")(autograd.tensor(arr))
    assert up.shape == (2, 3, 6, 8, 10)


def test_interpolate_dtypes_as_pytorch():
    """uint8 works for nearest (exact) and bilinear (rounded); other integers, bool, and
    uint8 trilinear raise PyTorch's NotImplementedError naming the dtype."""
    img = np.arange(32, dtype=np.uint8).reshape(1, 2, 4, 4) * 7
    near = F.interpolate(autograd.tensor(img), scale_factor=2)
    assert near.dtype == np.uint8
    np.testing.assert_array_equal(near._data, img.repeat(2, 2).repeat(2, 3))
    lin = F.interpolate(autograd.tensor(img), size=(5, 7), mode="bilinear")
    ref = F.interpolate(autograd.tensor(img.astype(np.float32)), size=(5, 7), mode="bilinear")
    assert lin.dtype == np.uint8
    np.testing.assert_array_equal(lin._data, np.rint(ref._data).astype(np.uint8))
    for arr, mode in ((img.astype(np.int64), "nearest"), (img > 3, "nearest"),
                      (img.astype(np.int32), "bilinear"), (img[None], "trilinear")):
        with pytest.raises(NotImplementedError, match=f"interpolate.*{arr.dtype}"):
            F.interpolate(autograd.tensor(arr), scale_factor=2, mode=mode)
    with pytest.raises(NotImplementedError, match="trilinear mode needs 5D input"):
        F.interpolate(autograd.randn(1, 1, 4, 4), scale_factor=2, mode="trilinear")


# ---- dtypes and PyTorch's edge cases --------------------------------------------------------
def test_batch_norm_prelu_bilinear_dtypes_as_pytorch():
    """float16 batch norm with float32 parameters runs in float32 and returns float16 (it
    returned float32); integer inputs and other dtype mixes raise as PyTorch."""
    bn = nn.BatchNorm1d(3)
    x = autograd.tensor(_rand((4, 3), seed=5).astype(np.float16), requires_grad=True)
    out = bn(x)
    assert out.dtype == np.float16 and bn.running_mean.dtype == np.float32
    ref = nn.BatchNorm1d(3)(autograd.tensor(x._data.astype(np.float32)))
    np.testing.assert_allclose(out._data, ref._data, atol=1e-2)
    out.sum().backward()
    assert x.grad.dtype == np.float16 and bn.weight.grad.dtype == np.float32
    with pytest.raises(RuntimeError, match="batch_norm: mixed dtype.*float64"):
        bn(autograd.tensor(_rand((4, 3))))
    with pytest.raises(NotImplementedError, match="batch_norm.*int64"):
        bn(autograd.tensor(np.ones((4, 3), np.int64)))
    with pytest.raises(RuntimeError, match="prelu: Type promoting.*float64.*float32"):
        nn.PReLU()(autograd.tensor(_rand((2, 3))))
    with pytest.raises(RuntimeError, match="bilinear.*same dtype.*input1: float64"):
        nn.Bilinear(3, 2, 4)(autograd.tensor(_rand((2, 3))), autograd.randn(2, 2))
    with pytest.raises(RuntimeError, match="dropout2d.*int64"):
        F.dropout2d(autograd.tensor(np.ones((2, 3, 4, 4), np.int64)), 0.5)


def test_prelu_weight_gradient_at_inf_is_pytorchs():
    x = autograd.tensor([[1.0, np.inf, -2.0, -np.inf]], requires_grad=True)
    w = autograd.tensor([0.25], requires_grad=True)
    with np.errstate(invalid="ignore"):   # the sum of the output is inf - inf
        F.prelu(x, w).sum().backward()
    np.testing.assert_array_equal(w.grad._data, [-np.inf])    # 0 from +inf, -inf from -inf
    np.testing.assert_array_equal(x.grad._data, [[1.0, 1.0, 0.25, 0.25]])
    w.grad = None
    F.prelu(autograd.tensor([[np.inf, -2.0]]), w).sum().backward()
    np.testing.assert_array_equal(w.grad._data, [-2.0])       # it was NaN (0 * inf)


def test_size_arguments_must_be_ints_as_in_pytorch(torch):
    """Linear(4.5, 3) was accepted (a weight of shape (3, 4.5) failed later or never) and
    LayerNorm(4.5) became LayerNorm(4); PyTorch raises TypeError."""
    for make in (lambda M: M.Linear(4.5, 3), lambda M: M.Linear(4, 3.0),
                 lambda M: M.Bilinear(4.5, 3, 2), lambda M: M.Conv2d(3, 4, 2.5),
                 lambda M: M.LayerNorm(4.5)):
        with pytest.raises(TypeError):
            make(torch.nn)
        with pytest.raises(TypeError, match=r"(Linear|Bilinear|Conv2d|LayerNorm): \w+ must be"):
            make(nn)
    assert nn.Linear(np.int64(4), 3).weight.shape == (3, 4)


def test_unflatten_error_names_the_op(torch):
    for shape in ((2, 7, 4), (6, 4)):
        with pytest.raises(RuntimeError) as theirs:
            torch.nn.Unflatten(1, (2, 3))(torch.ones(shape))
        with pytest.raises(RuntimeError, match=r"unflatten: Provided sizes \[2, 3\] don't "
                                               r"multiply up to the size of dim 1"):
            nn.Unflatten(1, (2, 3))(autograd.ones(*shape))
        assert "unflatten" in str(theirs.value)
    assert nn.Unflatten(1, (2, -1))(autograd.ones(2, 6, 4)).shape == (2, 2, 3, 4)


def test_relu_gradient_at_nan_is_pytorchs():
    """PyTorch's threshold_backward zeroes the gradient where relu(x) <= 0, so NaN passes it
    on (it was zeroed)."""
    x = autograd.tensor([np.nan, -1.0, 0.0, 2.0], requires_grad=True)
    nn.ReLU()(x).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [1.0, 0.0, 0.0, 1.0])


def test_attention_of_float16_runs_in_float32(torch):
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    ref = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    ref.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                         for k, v in layer.state_dict().items()})
    layer.to(autograd.float16)
    ref = ref.to(torch.float16)
    arr = _rand((2, 3, 8), seed=6).astype(np.float16)
    x = autograd.tensor(arr, requires_grad=True)
    out = layer(x)
    assert out.dtype == np.float16
    np.testing.assert_allclose(out._data.astype(np.float32),
                               ref(torch.from_numpy(arr)).detach().numpy(), atol=2e-2)
    out.sum().backward()
    assert x.grad.dtype == np.float16 and layer.linear1.weight.grad.dtype == np.float16
