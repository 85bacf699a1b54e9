"""F.affine_grid and F.grid_sample against torch (values and gradients for every mode,
padding mode and align_corners), float64 gradchecks, 5-D, errors."""

import warnings

import numpy as np
import pytest

import autograd
import nn.functional as F

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 3, 5, 6))
G = RNG.uniform(-1.3, 1.3, (2, 4, 7, 2))      # includes points outside [-1, 1]
THETA = RNG.standard_normal((2, 2, 3))


def _ours(a, grad=False):
    return autograd.tensor(np.array(a, dtype=np.float64), requires_grad=grad)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_matches_torch(torch, mode, padding_mode, align_corners):
    x, g = _ours(X, True), _ours(G, True)
    tx, tg = torch.tensor(X, requires_grad=True), torch.tensor(G, requires_grad=True)
    out = F.grid_sample(x, g, mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    tout = torch.nn.functional.grid_sample(tx, tg, mode=mode, padding_mode=padding_mode,
                                           align_corners=align_corners)
    assert out.shape == tuple(tout.shape) == (2, 3, 4, 7)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), atol=1e-12)
    w = RNG.standard_normal(out.shape)
    (out * _ours(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(g.grad.numpy(), tg.grad.numpy(), atol=1e-10)
    if mode == "bilinear":
        assert np.abs(g.grad.numpy()).max() > 0


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_gradcheck(padding_mode):
    x = _ours(RNG.standard_normal((1, 2, 3, 4)), True)
    g = _ours(RNG.uniform(-1.2, 1.2, (1, 2, 3, 2)), True)
    assert autograd.gradcheck(lambda x, g: F.grid_sample(x, g, padding_mode=padding_mode,
                                                         align_corners=False), (x, g))


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_matches_torch_and_gradcheck(torch, align_corners):
    for theta, size in ((THETA, (2, 3, 4, 5)), (RNG.standard_normal((2, 3, 4)), (2, 1, 3, 4, 5)),
                        (THETA, (2, 1, 1, 3))):
        ours = F.affine_grid(_ours(theta), size, align_corners=align_corners)
        theirs = torch.nn.functional.affine_grid(torch.tensor(theta), size,
                                                 align_corners=align_corners)
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-14)
    assert autograd.gradcheck(lambda t: F.affine_grid(t, (2, 1, 3, 4),
                                                      align_corners=align_corners),
                              (_ours(THETA, True),))


def test_identity_transform_reproduces_input():
    theta = _ours(np.tile(np.array([[1.0, 0, 0], [0, 1.0, 0]]), (2, 1, 1)))
    grid = F.affine_grid(theta, X.shape, align_corners=False)
    out = F.grid_sample(_ours(X), grid, align_corners=False)
    np.testing.assert_allclose(out.numpy(), X, atol=1e-12)


def test_grid_sample_5d_matches_torch(torch):
    x5 = RNG.standard_normal((1, 2, 3, 4, 5))
    g5 = RNG.uniform(-1.2, 1.2, (1, 2, 3, 4, 3))
    for pm in ("zeros", "border", "reflection"):
        x, g = _ours(x5, True), _ours(g5, True)
        tx, tg = torch.tensor(x5, requires_grad=True), torch.tensor(g5, requires_grad=True)
        out = F.grid_sample(x, g, padding_mode=pm, align_corners=True)
        tout = torch.nn.functional.grid_sample(tx, tg, padding_mode=pm, align_corners=True)
        np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), atol=1e-12)
        out.sum().backward()
        tout.sum().backward()
        np.testing.assert_allclose(g.grad.numpy(), tg.grad.numpy(), atol=1e-10)
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-12)


def test_float32_and_stn_idiom():
    x = autograd.randn(3, 1, 28, 28)
    theta = autograd.randn(3, 2, 3, requires_grad=True)
    with pytest.warns(UserWarning, match="align_corners=False"):
        grid = F.affine_grid(theta, x.size())
    with pytest.warns(UserWarning, match="align_corners"):
        out = F.grid_sample(x, grid)
    assert out.shape == (3, 1, 28, 28) and out.dtype == np.float32
    out.sum().backward()
    assert theta.grad.shape == (3, 2, 3) and theta.grad.dtype == np.float32


def test_errors():
    x, g = _ours(X), _ours(G)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="expected mode"):
            F.grid_sample(x, g, mode="cubic", align_corners=False)
        with pytest.raises(ValueError, match="padding_mode"):
            F.grid_sample(x, g, padding_mode="wrap", align_corners=False)
        with pytest.raises(NotImplementedError, match="bicubic"):
            F.grid_sample(x, g, mode="bicubic", align_corners=False)
        with pytest.raises(ValueError, match="same batch size"):
            F.grid_sample(x, g[:1], align_corners=False)
        with pytest.raises(ValueError, match="size 2 in last dimension"):
            F.grid_sample(x, _ours(np.zeros((2, 4, 7, 3))), align_corners=False)
        with pytest.raises(ValueError, match="same dtype"):
            F.grid_sample(x, g.float(), align_corners=False)
        with pytest.raises(ValueError, match="Nx2x3"):
            F.affine_grid(_ours(np.zeros((2, 3, 4))), (2, 1, 4, 4), align_corners=False)
        with pytest.raises(NotImplementedError, match="4D and 5D"):
            F.affine_grid(_ours(THETA), (2, 4, 4), align_corners=False)
