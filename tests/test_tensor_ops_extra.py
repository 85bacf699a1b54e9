"""PyTorch surface that real programs use (survey gaps): namespace aliases and constants, the
legacy ``Tensor(...)`` constructor, ``size=`` on factories, device predicates, ``__format__``,
``out=``, the sort/select family, bitwise and remainder ops, comparisons, in-place variants,
silent NumPy warnings, and the small data/loss items.

Comparisons with PyTorch take the ``torch`` fixture (skipped without it); every test that does
not need PyTorch checks against NumPy or a hand-computed value.
"""

import math
import subprocess
import sys
import warnings

import numpy as np
import pytest

import autograd
from autograd import Tensor


def _t(a, requires_grad=False):
    return autograd.tensor(np.asarray(a), requires_grad=requires_grad)


# ---- 1. namespace aliases and constants ---------------------------------------------------------
def test_nn_optim_aliases_are_the_top_level_packages():
    import nn
    import optim
    import autograd.nn as ann
    import autograd.nn.functional as AF
    import autograd.optim.lr_scheduler as AL
    from autograd.nn import Linear
    assert ann is nn and AF is nn.functional and AL is optim.lr_scheduler
    assert autograd.nn.Linear is nn.Linear is Linear
    assert autograd.optim.SGD is optim.SGD
    assert autograd.nn.functional.relu is nn.functional.relu
    assert nn.__spec__.name == "nn" and nn.functional.__spec__.name == "nn.functional"


def test_import_autograd_does_not_import_nn():
    code = ("import sys, autograd; assert 'nn' not in sys.modules and 'optim' not in sys.modules;"
            "autograd.nn.Linear; assert 'nn' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_constants():
    assert autograd.pi == math.pi and autograd.e == math.e
    assert autograd.inf == math.inf and math.isnan(autograd.nan)


def test_constants_match_torch(torch):
    for name in ("pi", "e", "inf"):
        assert getattr(autograd, name) == getattr(torch, name)


# ---- 2. the legacy Tensor(...) constructor and typed constructors -------------------------------
def test_legacy_tensor_constructor_shapes_and_dtypes():
    assert Tensor(2, 3).shape == (2, 3) and Tensor(2, 3).dtype == autograd.float32
    assert Tensor(5).shape == (5,)
    assert Tensor().shape == (0,) and Tensor().dtype == autograd.float32
    assert Tensor(autograd.Size([2, 4])).shape == (2, 4)
    t = Tensor([1, 2])
    assert t.dtype == autograd.float32 and t.tolist() == [1.0, 2.0]
    assert Tensor(1, 3).fill_(-10000.0).tolist() == [[-10000.0] * 3]
    arr = np.arange(3)
    assert np.shares_memory(Tensor(arr)._data, arr) and Tensor(arr).dtype == np.int64
    with pytest.raises(TypeError, match="sizes"):
        Tensor(2, "a")
    with pytest.raises(RuntimeError, match="negative dimension"):
        Tensor(2, -1)
    assert Tensor(np.zeros(2), requires_grad=True).requires_grad


def test_legacy_tensor_constructor_matches_torch(torch):
    for args in [(2, 3), (5,), ([1, 2],), ([[1.5, 2], [3, 4]],), ((1, 2),), ()]:
        ours, theirs = Tensor(*args), torch.Tensor(*args)
        assert ours.shape == tuple(theirs.shape), args
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), args
        if args and isinstance(args[0], (list, tuple)):
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_typed_legacy_constructors(torch):
    for name in ("FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "ByteTensor",
                 "BoolTensor", "HalfTensor", "ShortTensor", "CharTensor"):
        ours, theirs = getattr(autograd, name), getattr(torch, name)
        a, b = ours([1, 0, 2]), theirs([1, 0, 2])
        assert str(a.dtype) == str(b.dtype).replace("torch.", ""), name
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert ours(2, 3).shape == tuple(theirs(2, 3).shape)
        assert isinstance(a, ours)
    assert not isinstance(autograd.zeros(2), autograd.LongTensor)
    assert autograd.zeros(2).type(autograd.DoubleTensor).dtype == autograd.float64
    assert autograd.ones(2).to(autograd.LongTensor).dtype == autograd.int64


def test_parameter_of_legacy_tensor():
    import nn
    p = nn.Parameter(Tensor(3, 4))
    assert p.shape == (3, 4) and p.requires_grad and p.dtype == autograd.float32


# ---- 3. size= on factories, the default device, device predicates -------------------------------
def test_size_keyword_on_factories(torch):
    for name in ("empty", "zeros", "ones", "rand", "randn"):
        ours = getattr(autograd, name)(size=(3, 4))
        theirs = getattr(torch, name)(size=(3, 4))
        assert ours.shape == tuple(theirs.shape) == (3, 4), name
        assert getattr(autograd, name)(size=[2]).shape == (2,)
    np.testing.assert_array_equal(autograd.full(size=(2, 3), fill_value=1.5).numpy(),
                                  torch.full(size=(2, 3), fill_value=1.5).numpy())
    assert autograd.zeros(size=(2,), dtype=autograd.int64).dtype == autograd.int64
    assert autograd.ones(2).new_zeros(size=(3,)).shape == (3,)


def test_size_keyword_errors():
    with pytest.raises(TypeError, match="multiple values for argument 'size'"):
        autograd.zeros(2, size=(3,))
    with pytest.raises(TypeError, match="unexpected keyword argument 'shape'"):
        autograd.zeros(shape=(3,))


def test_default_device():
    autograd.set_default_device("cpu")
    autograd.set_default_device(None)
    autograd.set_default_device(autograd.device("cpu"))
    assert autograd.get_default_device() == autograd.device("cpu")
    with pytest.raises(RuntimeError, match="CPU only"):
        autograd.set_default_device("cuda")


def test_device_predicates(torch):
    ours, theirs = autograd.zeros(2), torch.zeros(2)
    for name in ("is_cpu", "is_cuda", "is_mps", "is_xpu", "is_meta", "is_sparse",
                 "is_quantized", "is_mkldnn", "is_nested", "is_sparse_csr"):
        assert getattr(ours, name) is getattr(theirs, name), name
    assert ours.is_complex() is theirs.is_complex() is False
    for dt in ("float32", "int64", "uint8", "bool"):
        assert (autograd.zeros(1, dtype=getattr(autograd, dt)).is_signed()
                is torch.zeros(1, dtype=getattr(torch, dt)).is_signed()), dt


# ---- 4. __format__, Size, repr padding -----------------------------------------------------------
def test_format_0d_and_errors(torch):
    for v in (1.2345, -3.0):
        for spec in ("+.2f", ".3e", "", "8.1f"):
            assert format(autograd.tensor(v), spec) == format(torch.tensor(v), spec)
    assert "{:+.2f} x^{} ".format(autograd.tensor(0.5), 2) == "+0.50 x^2 "
    assert f"{autograd.tensor(3):03d}" == "003"
    assert format(autograd.ones(2)) == str(autograd.ones(2))
    with pytest.raises(TypeError, match="unsupported format string"):
        "{:.2f}".format(autograd.ones(2))
    with pytest.raises(TypeError):
        "{:.2f}".format(torch.ones(2))


def test_size_returns_size():
    s = autograd.zeros(64, 1, 28, 28).size()
    assert isinstance(s, autograd.Size) and type(s) is autograd.Size
    assert s == (64, 1, 28, 28) and s.numel() == 64 * 28 * 28
    assert repr(s) == "autograd.Size([64, 1, 28, 28])"
    assert type(s[1:]) is autograd.Size and s[0] == 64
    assert autograd.zeros(2, 3).size(-1) == 3


def test_repr_pads_columns_like_torch(torch):
    cases = [[1.0, 23.0], [1.0, math.inf], [-1.0, 23.0], [1.0, math.nan, 100.0], [1e-5, 1.0],
             [1e9, 1.0], [[1.0, -2.0], [300.0, 4.0]], [1.5, -23.25], [0.0, 1e10], [1, 23, -4]]
    for v in cases:
        assert repr(autograd.tensor(v)) == repr(torch.tensor(v)), v


# ---- 5. out= ------------------------------------------------------------------------------------
_OUT_CASES = [
    ("add", lambda M, a, b: (a, b), {}), ("sub", lambda M, a, b: (a, b), {"alpha": 2}),
    ("mul", lambda M, a, b: (a, b), {}), ("div", lambda M, a, b: (a, b), {}),
    ("matmul", lambda M, a, b: (a, b.T), {}), ("mm", lambda M, a, b: (a, b.T), {}),
    ("exp", lambda M, a, b: (a,), {}), ("abs", lambda M, a, b: (a,), {}),
    ("tanh", lambda M, a, b: (a,), {}), ("sqrt", lambda M, a, b: (a.abs(),), {}),
    ("clamp", lambda M, a, b: (a,), {"min": -0.5, "max": 0.5}),
    ("maximum", lambda M, a, b: (a, b), {}), ("pow", lambda M, a, b: (a.abs(), 2), {}),
    ("sum", lambda M, a, b: (a, 1), {}), ("mean", lambda M, a, b: (a,), {"dim": 0}),
    ("prod", lambda M, a, b: (a, 1), {}), ("cumsum", lambda M, a, b: (a, 1), {}),
    ("cat", lambda M, a, b: ([a, b],), {"dim": 1}), ("stack", lambda M, a, b: ([a, b],), {}),
    ("tril", lambda M, a, b: (a,), {}), ("outer", lambda M, a, b: (a[0], b[0]), {}),
]


@pytest.mark.parametrize("name,args,kwargs", _OUT_CASES, ids=[c[0] for c in _OUT_CASES])
def test_out_matches_torch_and_returns_out(torch, name, args, kwargs):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    ours_args = args(autograd, autograd.tensor(a), autograd.tensor(b))
    theirs_args = args(torch, torch.tensor(a), torch.tensor(b))
    expected = getattr(torch, name)(*theirs_args, **kwargs)
    for start in (expected.shape, (0,)):  # the right shape, and an empty out that is resized
        out = autograd.empty(*start, dtype=autograd.float64)
        data = out._data
        got = getattr(autograd, name)(*ours_args, **kwargs, out=out)
        assert got is out
        assert out.shape == tuple(expected.shape)
        np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)
        if start == tuple(expected.shape):
            assert out._data is data  # written in place, not replaced


def test_out_resize_warns_and_casts(torch):
    out = autograd.zeros(1)
    with pytest.warns(UserWarning, match="resized"):
        autograd.add(autograd.ones(3), 1.0, out=out)
    assert out.tolist() == [2.0, 2.0, 2.0]
    out = autograd.zeros(2, dtype=autograd.float32)
    autograd.add(autograd.ones(2, dtype=autograd.float64), 1.0, out=out)  # float64 -> float32
    assert out.dtype == autograd.float32 and out.tolist() == [2.0, 2.0]
    out = autograd.zeros(2, dtype=autograd.float64)
    autograd.add(autograd.tensor([1, 2]), 1, out=out)  # int64 -> float64
    assert out.tolist() == [2.0, 3.0]
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        autograd.add(autograd.ones(2), 1.5, out=autograd.zeros(2, dtype=autograd.int64))
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        torch.add(torch.ones(2), 1.5, out=torch.zeros(2, dtype=torch.int64))


def test_out_refuses_autograd():
    x = autograd.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        autograd.exp(x, out=autograd.zeros(2))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        autograd.cat([x, x], out=autograd.zeros(4))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        autograd.add(autograd.ones(2), 1.0, out=autograd.zeros(2, requires_grad=True))
    with autograd.no_grad():
        out = autograd.zeros(2)
        assert autograd.exp(x, out=out) is out
    with pytest.raises(TypeError, match="argument 'out' must be Tensor"):
        autograd.exp(autograd.ones(2), out=np.zeros(2))


def test_out_tutorial_idioms():
    t = autograd.rand(3, 3)
    c = autograd.zeros(3, 3)
    d = autograd.matmul(t, t.T, out=c)
    assert c is d
    np.testing.assert_allclose(c.numpy(), t.numpy() @ t.numpy().T, rtol=1e-6)
    r = autograd.rand(2, 2, out=c)
    assert r is c and c.shape == (2, 2)
    x = autograd.ones(5, 3)
    result = autograd.empty(5, 3)
    autograd.add(x, x, out=result)
    assert result.tolist() == [[2.0] * 3] * 5
