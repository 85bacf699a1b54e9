"""nn.init (default initialisation of the layers, the init functions, calculate_gain) and nn.utils
(clip_grad_norm_/clip_grad_value_, parameters_to_vector/vector_to_parameters), against PyTorch
where it is installed.
"""

import math

import numpy as np
import pytest

import autograd
import nn
from _nn_helpers import _copy_params, _rand


# ---- default initialisation and nn.init -----------------------------------------------------
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


# ---- nn.utils -------------------------------------------------------------------------------
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
