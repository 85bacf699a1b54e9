"""nn layers of issue 5 (activations, BatchNorm, Dropout2d, Bilinear, Upsample, containers),
Module mechanics (hooks, load_state_dict, repr, summary), nn.init and nn.utils: forward and
backward against PyTorch with copied weights, gradcheck in float64, train/eval behaviour."""

import math
import warnings
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
import nn
import nn.functional as F
from conftest import check_grad, seeds


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


# ---- activations ------------------------------------------------------------------------------
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


# ---- BatchNorm ----------------------------------------------------------------------------------
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


# ---- Dropout2d --------------------------------------------------------------------------------
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


# ---- Bilinear ---------------------------------------------------------------------------------
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


# ---- Upsample / interpolate -------------------------------------------------------------------
MODES_4D = [("nearest", None), ("nearest-exact", None), ("bilinear", False), ("bilinear", True)]


@given(seed=seeds, h=st.integers(1, 6), w=st.integers(1, 6), oh=st.integers(1, 13),
       ow=st.integers(1, 13), mode=st.sampled_from(MODES_4D))
def test_interpolate_size_matches_pytorch(torch, seed, h, w, oh, ow, mode):
    arr = _rand((2, 2, h, w), seed=seed % 1000)
    x, xt = _pair(arr, torch)
    y = F.interpolate(x, size=(oh, ow), mode=mode[0], align_corners=mode[1])
    yt = torch.nn.functional.interpolate(xt, size=(oh, ow), mode=mode[0], align_corners=mode[1])
    np.testing.assert_allclose(y._data, yt.detach().numpy(), atol=1e-12)
    g = _rand(y.shape, seed=1)
    y.backward(autograd.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad._data, xt.grad.numpy(), atol=1e-12)


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
        x, xt = _pair(a, torch)
        y = F.interpolate(x, size=size, mode=mode[0], align_corners=mode[1])
        yt = torch.nn.functional.interpolate(xt, size=size, mode=mode[0],
                                             align_corners=mode[1])
        np.testing.assert_allclose(y._data, yt.detach().numpy(), atol=1e-12)
        g = _rand(y.shape, seed=1)
        y.backward(autograd.tensor(g))
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(x.grad._data, xt.grad.numpy(), atol=1e-10)


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


# ---- containers -------------------------------------------------------------------------------
def test_module_dict_parameter_list_and_dict_keys_and_reprs_match_pytorch(torch):
    def build(lib):
        m = lib.Module()
        m.blocks = lib.ModuleDict({"conv": lib.Conv2d(1, 2, 3), "act": lib.ReLU(),
                                   "bn": lib.BatchNorm2d(2)})
        m.plist = lib.ParameterList([lib.Parameter(lib_ones(lib, 2, 3)),
                                     lib.Parameter(lib_ones(lib, 4))])
        m.pdict = lib.ParameterDict({"b": lib.Parameter(lib_ones(lib, 2)),
                                     "a": lib.Parameter(lib_ones(lib, 3))})
        m.layers = lib.ModuleList([lib.Linear(2, 2) for _ in range(3)] + [lib.Tanh()])
        return m

    def lib_ones(lib, *shape):
        return (torch if lib is torch.nn else autograd).ones(*shape)

    ours, theirs = build(nn), build(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert repr(ours) == repr(theirs).replace("torch.", "autograd.").replace(
        "autograd.FloatTensor", "autograd.float32")
    assert list(ours.pdict.keys()) == ["a", "b"]  # a plain dict is added sorted, as PyTorch


def test_containers_behave_like_python_collections():
    md = nn.ModuleDict([("x", nn.Linear(1, 2)), ("y", nn.ReLU())])
    assert len(md) == 2 and "x" in md and list(md) == ["x", "y"]
    md["z"] = nn.Tanh()
    assert isinstance(md.pop("y"), nn.ReLU) and list(md.keys()) == ["x", "z"]
    with pytest.raises(KeyError):
        md["a.b"] = nn.ReLU()
    with pytest.raises(KeyError, match="already exists"):
        md["training"] = nn.ReLU()
    pl = nn.ParameterList([autograd.ones(2)])
    assert isinstance(pl[0], nn.Parameter) and pl[0].requires_grad  # wrapped like PyTorch
    pl.append(autograd.zeros(3))
    pl += [nn.Parameter(autograd.zeros(1))]
    assert len(pl) == 3 and [p.shape for p in pl] == [(2,), (3,), (1,)]
    assert [p.shape for p in pl[1:]] == [(3,), (1,)] and pl[-1].shape == (1,)
    pl[0] = nn.Parameter(autograd.zeros(5))
    assert list(pl.state_dict()) == ["0", "1", "2"] and pl.state_dict()["0"].shape == (5,)
    with pytest.raises(IndexError):
        pl[3]
    pd = nn.ParameterDict()
    pd["w"] = autograd.ones(2)
    pd.update(OrderedDict([("z", autograd.ones(1)), ("c", autograd.ones(1))]))
    assert list(pd) == ["w", "z", "c"] and isinstance(pd["w"], nn.Parameter)
    del pd["z"]
    assert "z" not in pd and list(pd.state_dict()) == ["w", "c"]
    assert pd.get("q") is None and len(pd) == 2
    with pytest.raises(KeyError):
        pd["missing"]
    ml = nn.ModuleList([nn.ReLU(), nn.Tanh(), nn.Sigmoid()])
    del ml[1]
    assert [type(m).__name__ for m in ml] == ["ReLU", "Sigmoid"] and list(ml._modules) == ["0",
                                                                                         "1"]


# ---- Module mechanics ---------------------------------------------------------------------------
class _Net(nn.Module):
    def __init__(self, lib, tensor_lib):
        super().__init__()
        self.features = lib.Sequential(lib.Conv2d(1, 4, 3), lib.BatchNorm2d(4), lib.ReLU(),
                                       lib.MaxPool2d(2))
        self.head = lib.Linear(4 * 3 * 3, 5)
        self.register_buffer("steps", tensor_lib.zeros(1))
        self.register_buffer("scratch", tensor_lib.zeros(2), persistent=False)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


def _torch_net(torch):
    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.features = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3),
                                                torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                                                torch.nn.MaxPool2d(2))
            self.head = torch.nn.Linear(4 * 3 * 3, 5)
            self.register_buffer("steps", torch.zeros(1))
            self.register_buffer("scratch", torch.zeros(2), persistent=False)

        def forward(self, x):
            return self.head(self.features(x).flatten(1))
    return TorchNet()


def test_state_dict_repr_and_load_from_pytorch(torch):
    ours, theirs = _Net(nn, autograd), _torch_net(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert repr(ours).replace("_Net", "TorchNet") == repr(theirs)
    theirs.train()
    theirs(torch.randn(4, 1, 8, 8))
    theirs.eval()
    assert repr(ours.load_state_dict(theirs.state_dict())) == "<All keys matched successfully>"
    ours.eval()
    arr = _rand((2, 1, 8, 8), seed=1, dtype=np.float32)
    np.testing.assert_allclose(ours(autograd.tensor(arr))._data,
                               theirs(torch.tensor(arr)).detach().numpy(), atol=1e-5)


def test_load_state_dict_error_text_matches_pytorch(torch):
    ours, theirs = nn.Linear(2, 3), torch.nn.Linear(2, 3)
    bad = {"weight": np.ones((3, 3), np.float32), "x": np.ones(1, np.float32)}
    with pytest.raises(RuntimeError) as theirs_err:
        theirs.load_state_dict({k: torch.tensor(v) for k, v in bad.items()})
    with pytest.raises(RuntimeError) as ours_err:
        ours.load_state_dict(bad)
    expected = str(theirs_err.value).replace("torch.Size([3, 3])", "(3, 3)").replace(
        "torch.Size([3, 2])", "(3, 2)")
    assert str(ours_err.value) == expected
    before = ours.weight._data.copy()
    with pytest.raises(RuntimeError, match="size mismatch"):  # also when not strict
        ours.load_state_dict(bad, strict=False)
    np.testing.assert_array_equal(ours.weight._data, before)
    res = ours.load_state_dict({"weight": np.zeros((3, 2)), "y": np.ones(1)}, strict=False)
    res_t = theirs.load_state_dict({"weight": torch.zeros(3, 2), "y": torch.ones(1)},
                                   strict=False)
    assert res == tuple(res_t) and repr(res) == repr(res_t)
    assert res.missing_keys == ["bias"] and np.all(ours.weight._data == 0)
    with pytest.raises(RuntimeError, match="expected Tensor or Tensor-like"):
        ours.load_state_dict({"weight": "abc", "bias": np.zeros(3)})


def test_load_state_dict_assign_replaces_arrays():
    m = nn.Linear(2, 2)
    w = np.arange(4, dtype=np.float64).reshape(2, 2)
    m.load_state_dict({"weight": w, "bias": np.zeros(2)}, assign=True)
    assert m.weight.dtype == autograd.float32 and np.all(m.weight._data == w)
    assert isinstance(m.weight, nn.Parameter)


def test_registration_name_rules_like_pytorch():
    m = nn.Linear(2, 3)
    with pytest.raises(KeyError, match="attribute 'weight' already exists"):
        m.register_buffer("weight", autograd.zeros(1))
    with pytest.raises(KeyError, match="attribute 'forward' already exists"):
        m.register_parameter("forward", None)
    with pytest.raises(KeyError, match="contain"):
        m.add_module("a.b", nn.ReLU())
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("c", 3)
    m.register_buffer("stat", autograd.ones(3), persistent=False)
    m.register_buffer("count", autograd.zeros(1))
    assert list(m.state_dict()) == ["weight", "bias", "count"]
    assert [n for n, _ in m.named_buffers()] == ["stat", "count"]
    m.register_buffer("stat", autograd.ones(3))  # re-registering makes it persistent
    assert "stat" in m.state_dict()
    seq = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU(), nn.Linear(1, 2)))
    assert seq.get_submodule("1.1").out_features == 2
    with pytest.raises(AttributeError, match="has no attribute `x`"):
        seq.get_submodule("1.x")


def test_apply_requires_grad_and_zero_grad():
    net = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.Linear(3, 1)))
    order = []
    net.apply(lambda m: order.append(type(m).__name__))
    assert order == ["Linear", "Linear", "Sequential", "Sequential"]  # children first
    net(autograd.randn(4, 2)).sum().backward()
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and np.all(p.grad._data == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.requires_grad_(False) is net
    assert not any(p.requires_grad for p in net.parameters())


def test_forward_hooks_prepend_kwargs_always_call_and_context_manager():
    calls = []

    class Add(nn.Module):
        def forward(self, x, scale=1.0):
            if scale == 0:
                raise ValueError("boom")
            return x * scale

    m = Add()
    m.register_forward_pre_hook(lambda mod, args: calls.append("pre1"))
    m.register_forward_pre_hook(lambda mod, args: calls.append("pre0"), prepend=True)
    h = m.register_forward_pre_hook(
        lambda mod, args, kwargs: (args, {**kwargs, "scale": 3.0}), with_kwargs=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: out + kwargs.get("scale", 0),
                            with_kwargs=True)
    x = autograd.ones(2)
    np.testing.assert_allclose(m(x, scale=2.0)._data, [6.0, 6.0])  # scale 3 then + 3
    assert calls == ["pre0", "pre1"]
    h.remove()
    with m.register_forward_hook(lambda mod, args, out: out * 0):
        assert np.all(m(x)._data == 0)
    np.testing.assert_allclose(m(x)._data, [1.0, 1.0])  # the context manager removed it
    seen = []
    m.register_forward_hook(lambda mod, args, out: seen.append(out), always_call=True)
    with pytest.raises(ValueError, match="boom"):
        m(x, scale=0)
    assert seen == [None]


def test_summary_table_and_totals(capsys):
    net = _Net(nn, autograd)
    net.features[1].weight.requires_grad_(False)
    net.train()
    before = net.features[1].running_mean._data.copy()
    s = net.summary((2, 1, 8, 8))
    text = capsys.readouterr().out
    assert text.strip() == str(s).strip()
    assert s.total_params == sum(p.numel() for p in net.parameters()) == 233
    assert s.trainable_params == 229 and s.non_trainable_params == 4
    rows = {name: (cls, shape, n) for name, cls, shape, n in s.rows}
    assert rows["features"] == ("Sequential", (2, 4, 3, 3), None)
    assert rows["features.0"] == ("Conv2d", (2, 4, 6, 6), 40)
    assert rows["features.3"] == ("MaxPool2d", (2, 4, 3, 3), 0)
    assert rows["head"] == ("Linear", (2, 5), 185)
    assert sum(n or 0 for _, _, _, n in s.rows) == s.total_params
    lines = text.splitlines()
    assert lines[0] == 'Model: "_Net"' and "Output Shape" in lines[2]
    assert any(line.startswith("features.0 (Conv2d)") and "(2, 4, 6, 6)" in line
               and line.rstrip().endswith("40") for line in lines)
    assert "Total params: 233" in text and "Trainable params: 229" in text
    assert "Non-trainable params: 4" in text
    # the summary leaves the model as it was: train mode, statistics, no hooks left
    assert net.training and all(m.training for m in net.modules())
    np.testing.assert_array_equal(net.features[1].running_mean._data, before)
    assert all(not m._forward_hooks for m in net.modules())
    quiet = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).summary((3, 4),
                                                                             print_fn=None)
    assert capsys.readouterr().out == "" and quiet.total_params == 58
    with pytest.raises(TypeError, match="input_size"):
        net.summary("abc")


def test_summary_removes_hooks_when_forward_fails():
    net = nn.Sequential(nn.Linear(4, 2))
    with pytest.raises(Exception):
        net.summary((3, 5), print_fn=None)
    assert not net[0]._forward_hooks and net.training


# ---- nn.init ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name,param", [("linear", None), ("conv2d", None), ("sigmoid", None),
                                        ("tanh", None), ("relu", None), ("leaky_relu", None),
                                        ("leaky_relu", 0.2), ("selu", None),
                                        ("conv_transpose2d", None)])
def test_calculate_gain_matches_pytorch(torch, name, param):
    assert nn.init.calculate_gain(name, param) == pytest.approx(
        torch.nn.init.calculate_gain(name, param), rel=1e-12)


def test_deterministic_inits_match_pytorch(torch):
    for shape in [(3, 5), (5, 3), (4, 4)]:
        t = torch.empty(shape)
        torch.nn.init.eye_(t)
        np.testing.assert_array_equal(nn.init.eye_(autograd.empty(*shape))._data, t.numpy())
    for shape, groups in [((4, 2, 3), 1), ((6, 3, 3, 3), 2), ((2, 4, 3, 3, 1), 1),
                          ((4, 2, 5, 4), 4)]:
        t = torch.empty(shape)
        torch.nn.init.dirac_(t, groups)
        np.testing.assert_array_equal(nn.init.dirac_(autograd.empty(*shape), groups)._data,
                                      t.numpy())
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        nn.init.eye_(autograd.empty(2, 2, 2))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.init.dirac_(autograd.empty(3, 2, 3), groups=2)


def test_random_inits_have_the_right_distribution():
    autograd.manual_seed(0)
    for shape in [(3, 7), (7, 3), (4, 2, 3)]:
        w = nn.init.orthogonal_(autograd.empty(*shape, dtype=autograd.float64), gain=2.0)
        flat = w._data.reshape(shape[0], -1)
        small = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
        np.testing.assert_allclose(small, 4 * np.eye(len(small)), atol=1e-10)
    w = nn.init.trunc_normal_(autograd.empty(200, 100), mean=0.5, std=2.0, a=-1.0, b=1.5)
    assert w._data.min() >= -1.0 and w._data.max() <= 1.5
    # truncated N(0.5, 4) on [-1, 1.5] is close to uniform with a bump: mean ~ 0.19
    alpha, beta = (-1 - 0.5) / 2, (1.5 - 0.5) / 2
    pdf = [math.exp(-v * v / 2) / math.sqrt(2 * math.pi) for v in (alpha, beta)]
    cdf = [0.5 * (1 + math.erf(v / math.sqrt(2))) for v in (alpha, beta)]
    expected_mean = 0.5 + 2 * (pdf[0] - pdf[1]) / (cdf[1] - cdf[0])
    assert abs(w._data.mean() - expected_mean) < 0.02
    w = nn.init.sparse_(autograd.empty(10, 30), sparsity=0.25, std=0.5)
    assert np.all((w._data == 0).sum(0) == 3)
    assert 0.35 < w._data[w._data != 0].std() < 0.65
    with pytest.warns(UserWarning, match="zero-element"):
        nn.init.kaiming_uniform_(autograd.empty(0, 3))
    with pytest.warns(UserWarning, match="zero-element"):  # PyTorch warns too
        assert nn.Linear(0, 3).weight.shape == (3, 0)


# ---- nn.utils ---------------------------------------------------------------------------------
@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_pytorch(torch, norm_type, max_norm):
    shapes = [(3, 4), (5,), (2, 2, 2)]
    ours = [nn.Parameter(autograd.zeros(*s)) for s in shapes]
    theirs = [torch.nn.Parameter(torch.zeros(*s)) for s in shapes]
    for i, (p, q) in enumerate(zip(ours, theirs)):
        g = _rand(p.shape, seed=i, scale=2.0, dtype=np.float32)
        p.grad = autograd.tensor(g)
        q.grad = torch.tensor(g)
    ours.append(nn.Parameter(autograd.zeros(2)))  # no gradient: skipped
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type, foreach=True)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total.dtype == autograd.float32 and total.shape == ()
    np.testing.assert_allclose(total.item(), total_t.item(), rtol=1e-6)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad._data, q.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_nonfinite_and_value(torch):
    p = nn.Parameter(autograd.zeros(3))
    p.grad = autograd.tensor([1.0, float("nan"), 2.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    total = nn.utils.clip_grad_norm_(p, 1.0)
    assert math.isnan(total.item()) and np.all(np.isnan(p.grad._data))  # as PyTorch
    assert nn.utils.clip_grad_norm_([nn.Parameter(autograd.zeros(1))], 1.0).item() == 0.0
    p.grad = autograd.tensor([-3.0, 0.5, 2.0])
    nn.utils.clip_grad_value_([p], 1.0)
    np.testing.assert_array_equal(p.grad._data, [-1.0, 0.5, 1.0])


def test_parameters_vector_roundtrip(torch):
    m = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    mt = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))
    _copy_params(m, mt)
    v = nn.utils.parameters_to_vector(m.parameters())
    np.testing.assert_allclose(
        v._data, torch.nn.utils.parameters_to_vector(mt.parameters()).detach().numpy())
    (v * v).sum().backward()  # differentiable with respect to the parameters
    np.testing.assert_allclose(m[0].weight.grad._data, 2 * m[0].weight._data)
    nn.utils.vector_to_parameters(autograd.arange(11, dtype=autograd.float32), m.parameters())
    np.testing.assert_array_equal(m[0].weight._data, np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(m[1].bias._data, [10])
    with pytest.raises(ValueError, match="11 elements"):
        nn.utils.vector_to_parameters(autograd.zeros(3), m.parameters())
    with pytest.raises(TypeError, match="expected Tensor"):
        nn.utils.vector_to_parameters(np.zeros(11), m.parameters())


def test_summary_of_a_single_layer_with_two_inputs():
    s = nn.Bilinear(3, 4, 2).summary([(5, 3), (5, 4)], print_fn=None)
    assert s.rows == [("(model)", "Bilinear", (5, 2), 26)] and s.total_params == 26
    assert "(model) (Bilinear)" in str(s)
