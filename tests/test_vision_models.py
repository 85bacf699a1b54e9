"""vision.models: torchvision's module trees (state_dict keys and shapes), eval outputs equal to
torchvision's after copying its random weights, weights= from a safetensors file written by
``safetensors.torch.save_file``, no hub download, and transfer learning (frozen backbone)."""

import numpy as np
import pytest

import autograd
import nn
import optim
from _torchvision import torchvision  # noqa: F401  (fixture)
from vision import models

SMALL = {"resnet18": 64, "resnet34": 32, "resnet50": 32, "mobilenet_v2": 32,
         "squeezenet1_1": 48, "alexnet": 64, "vgg11": 32}


def _randomise_bn(torch, model):
    """Give BN layers non-trivial statistics and affine parameters, so eval outputs depend on
    them (torchvision's init leaves them at 0/1)."""
    g = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.1)


def _copy(torch, tmodel, omodel):
    omodel.load_state_dict({k: autograd.Tensor(v.detach().numpy().copy())
                            for k, v in tmodel.state_dict().items()})


def _check_tree(tmodel, omodel):
    tsd, osd = tmodel.state_dict(), omodel.state_dict()
    assert list(tsd) == list(osd)
    for k in tsd:
        assert tuple(tsd[k].shape) == tuple(osd[k].shape), k
        assert str(tsd[k].dtype).split(".")[-1] == str(osd[k].dtype).split(".")[-1], k
    assert [n for n, _ in tmodel.named_modules()] == [n for n, _ in omodel.named_modules()]
    assert [type(m).__name__ for m in tmodel.modules()] == \
        [type(m).__name__ for m in omodel.modules()]


@pytest.mark.parametrize("name", sorted(SMALL))
def test_model_matches_torchvision(torchvision, name):
    import torch
    torch.manual_seed(0)
    # VGG's init draws 120M numbers on each side; the weights are copied anyway.
    kwargs = {"num_classes": 10, "init_weights": False} if name == "vgg11" else {}
    tmodel = getattr(torchvision.models, name)(**kwargs).eval()
    omodel = getattr(models, name)(**kwargs).eval()
    _check_tree(tmodel, omodel)
    _randomise_bn(torch, tmodel)
    _copy(torch, tmodel, omodel)
    side = SMALL[name]
    x = torch.randn(2, 3, side, side, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref = tmodel(x).numpy()
    with autograd.no_grad():
        out = omodel(autograd.Tensor(x.numpy())).numpy()
    assert out.shape == ref.shape
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4 * float(np.abs(ref).max()))


@pytest.mark.parametrize("name", ["vgg16", "vgg11_bn", "resnext50_32x4d", "squeezenet1_0"])
def test_other_trees_match_torchvision(torchvision, name):
    """Keys and shapes only, torchvision's side built on the meta device (no memory)."""
    import torch
    with torch.device("meta"):
        tmodel = getattr(torchvision.models, name)()
    tsd = {k: tuple(v.shape) for k, v in tmodel.state_dict().items()}
    if name.startswith("vgg"):  # skip building our 100M-parameter classifier: check features
        osd = {k: tuple(v.shape) for k, v in
               models.vgg.make_layers(models.vgg.cfgs["D" if name == "vgg16" else "A"],
                                      batch_norm=name.endswith("_bn")).state_dict().items()}
        assert {k[len("features."):]: s for k, s in tsd.items() if k.startswith("features.")} \
            == osd
        assert [k for k in tsd if not k.startswith("features.")] == [
            "classifier.0.weight", "classifier.0.bias", "classifier.3.weight",
            "classifier.3.bias", "classifier.6.weight", "classifier.6.bias"]
        return
    osd = {k: tuple(v.shape) for k, v in getattr(models, name)().state_dict().items()}
    assert list(tsd) == list(osd) and tsd == osd


def test_weights_from_safetensors_file(torchvision, tmp_path):
    import safetensors.torch
    import torch
    torch.manual_seed(3)
    tmodel = torchvision.models.resnet18(num_classes=7).eval()
    _randomise_bn(torch, tmodel)
    path = tmp_path / "resnet18.safetensors"
    safetensors.torch.save_file(tmodel.state_dict(), str(path))
    omodel = models.resnet18(weights=path, num_classes=7).eval()
    x = torch.randn(1, 3, 40, 40)
    with torch.no_grad():
        ref = tmodel(x).numpy()
    with autograd.no_grad():
        out = omodel(autograd.Tensor(x.numpy())).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)
    with pytest.raises(RuntimeError):
        models.resnet18(weights=path)  # 1000 classes: fc shapes differ


@pytest.mark.parametrize("weights", ["DEFAULT", "IMAGENET1K_V1",
                                     "https://download.pytorch.org/models/resnet18.pth",
                                     models.ResNet18_Weights.IMAGENET1K_V1,
                                     models.ResNet18_Weights.DEFAULT])
def test_no_hub_download(weights):
    with pytest.raises(ValueError, match="download") as e:
        models.resnet18(weights=weights)
    assert "safetensors.torch.save_file" in str(e.value)


def test_weights_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.safetensors"):
        models.squeezenet1_1(weights=tmp_path / "missing.safetensors")
    with pytest.raises(TypeError, match="weights must be None or a path"):
        models.squeezenet1_1(weights=3)
    assert "resnet18" in models.list_models() and "vgg16" in models.list_models()
    assert isinstance(models.get_model("squeezenet1_1", num_classes=3), models.SqueezeNet)
    with pytest.raises(ValueError, match="Unknown model"):
        models.get_model("resnet9000")


def test_training_step_matches_torchvision(torchvision):
    """One SGD step in train mode (batch-statistics BN) gives the same loss and gradients."""
    import torch
    torch.manual_seed(0)
    tmodel = torchvision.models.resnet18(num_classes=5).train()
    omodel = models.resnet18(num_classes=5).train()
    _copy(torch, tmodel, omodel)
    x = torch.randn(4, 3, 32, 32)
    y = torch.tensor([0, 3, 1, 4])
    tloss = torch.nn.functional.cross_entropy(tmodel(x), y)
    tloss.backward()
    oloss = nn.functional.cross_entropy(omodel(autograd.Tensor(x.numpy())),
                                        autograd.Tensor(y.numpy()))
    oloss.backward()
    np.testing.assert_allclose(oloss.item(), tloss.item(), rtol=1e-5)
    tparams = dict(tmodel.named_parameters())
    for name, p in omodel.named_parameters():
        ref = tparams[name].grad.numpy()
        err = np.linalg.norm(p.grad.numpy() - ref) / (np.linalg.norm(ref) + 1e-12)
        assert err < 1e-3, (name, err)
    tbn, obn = tmodel.bn1, omodel.bn1
    np.testing.assert_allclose(obn.running_var.numpy(), tbn.running_var.numpy(), rtol=1e-5)


def test_transfer_learning_freezes_backbone():
    autograd.manual_seed(0)
    model = models.resnet18()
    for p in model.parameters():
        p.requires_grad_(False)
    model.fc = nn.Linear(model.fc.in_features, 3)
    opt = optim.SGD(model.fc.parameters(), lr=0.1)
    before = model.conv1.weight.numpy().copy()
    x = autograd.randn(4, 3, 32, 32)
    loss = nn.functional.cross_entropy(model(x), autograd.tensor([0, 1, 2, 1]))
    loss.backward()
    assert model.conv1.weight.grad is None and model.fc.weight.grad is not None
    opt.step()
    np.testing.assert_array_equal(model.conv1.weight.numpy(), before)
    assert list(model.state_dict())[-2:] == ["fc.weight", "fc.bias"]
