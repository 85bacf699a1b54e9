"""nn.Module mechanics (registration, attribute rules, state_dict and load_state_dict, train/eval,
hooks, apply, reprs), the containers (Sequential, ModuleList/Dict, ParameterList/Dict) and
``summary``, against PyTorch's behaviour and text where it is installed.
"""

from collections import OrderedDict

import numpy as np
import pytest

import autograd
import nn
from _nn_helpers import _rand


# ---- registration, attributes, state_dict ---------------------------------------------------
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


# ---- modes, gradients, hooks ----------------------------------------------------------------
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


def test_tensor_node_and_module_hooks_share_one_removable_handle():
    """Issue 17: one RemovableHandle (autograd.utils.hooks, PyTorch's
    torch.utils.hooks.RemovableHandle) serves tensor, graph-node and module hooks alike."""
    from autograd.utils.hooks import RemovableHandle
    x = autograd.ones(2, requires_grad=True)
    y = x * 2.0
    m = nn.Linear(2, 2)
    handles = [x.register_hook(lambda g: g), x.register_post_accumulate_grad_hook(lambda t: None),
               y.grad_fn.register_hook(lambda gi, go: None),
               m.register_forward_hook(lambda mod, args, out: None),
               m.register_forward_pre_hook(lambda mod, args: None)]
    assert all(type(h) is RemovableHandle for h in handles)
    for h in handles:
        h.remove()
    assert not x._hooks and not m._forward_hooks and not m._forward_pre_hooks


# ---- containers and reprs -------------------------------------------------------------------
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


# ---- summary --------------------------------------------------------------------------------
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


def test_summary_of_a_single_layer_with_two_inputs():
    s = nn.Bilinear(3, 4, 2).summary([(5, 3), (5, 4)], print_fn=None)
    assert s.rows == [("(model)", "Bilinear", (5, 2), 26)] and s.total_params == 26
    assert "(model) (Bilinear)" in str(s)
