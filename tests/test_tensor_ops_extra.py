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


# ---- 6. sorting and selection, remainder, bitwise, comparisons, addc*, in-place variants -------
def _distinct(rng, shape):
    """float64 values with no ties (so every index choice is unique)."""
    n = int(np.prod(shape)) if shape else 1
    return (rng.permutation(n).astype(np.float64) / 3.0 - 1.0).reshape(shape)


def _both(torch, a, requires_grad=True):
    return (autograd.tensor(a, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


def _check_pair(ours, theirs):
    assert type(ours).__name__ == type(theirs).__name__.split(".")[-1]
    np.testing.assert_allclose(ours.values.detach().numpy(), theirs.values.detach().numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    assert ours.indices.dtype == autograd.int64


@pytest.mark.parametrize("shape,dim", [((5,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -2)])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_values_indices_grad(torch, shape, dim, descending):
    rng = np.random.default_rng(1)
    a = _distinct(rng, shape)
    x, tx = _both(torch, a)
    ours, theirs = autograd.sort(x, dim, descending), torch.sort(tx, dim, descending)
    _check_pair(ours, theirs)
    w = rng.standard_normal(shape)
    (ours.values * autograd.tensor(w)).sum().backward()
    (theirs.values * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_array_equal(autograd.argsort(x, dim, descending).numpy(),
                                  torch.argsort(tx, dim, descending).numpy())
    assert autograd.gradcheck(lambda t: autograd.sort(t, dim, descending).values, (x,))


def test_sort_stable_ties_and_nan(torch):
    a = np.array([2.0, 1.0, 2.0, np.nan, 1.0, 0.0])
    for desc in (False, True):
        ours = autograd.sort(autograd.tensor(a), descending=desc, stable=True)
        theirs = torch.sort(torch.tensor(a), descending=desc, stable=True)
        _check_pair(ours, theirs)
    ints = np.array([3, 1, 3, 2, 1])
    _check_pair(autograd.tensor(ints).sort(descending=True, stable=True),
                torch.tensor(ints).sort(descending=True, stable=True))
    assert autograd.msort(autograd.tensor([[2.0, 1.0], [1.0, 3.0]])).tolist() == [[1.0, 1.0],
                                                                                  [2.0, 3.0]]


@pytest.mark.parametrize("largest", [True, False])
def test_topk(torch, largest):
    rng = np.random.default_rng(2)
    a = _distinct(rng, (3, 6))
    x, tx = _both(torch, a)
    ours, theirs = autograd.topk(x, 3, largest=largest), torch.topk(tx, 3, largest=largest)
    _check_pair(ours, theirs)
    _check_pair(x.topk(2, dim=0, largest=largest), tx.topk(2, dim=0, largest=largest))
    ours.values.sum().backward()
    theirs.values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    assert autograd.gradcheck(lambda t: autograd.topk(t, 2, dim=1, largest=largest).values,
                              (x,))
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        autograd.topk(x, 7)


def test_kthvalue_and_median(torch):
    rng = np.random.default_rng(3)
    a = _distinct(rng, (3, 5))
    x, tx = _both(torch, a)
    _check_pair(autograd.kthvalue(x, 2), torch.kthvalue(tx, 2))
    _check_pair(x.kthvalue(3, dim=0, keepdim=True), tx.kthvalue(3, dim=0, keepdim=True))
    _check_pair(autograd.median(x, 1), torch.median(tx, 1))
    _check_pair(x.median(dim=0, keepdim=True), tx.median(dim=0, keepdim=True))
    even = _distinct(rng, (4,))
    assert autograd.median(autograd.tensor(even)).item() == torch.median(torch.tensor(even)).item()
    m, tm = autograd.median(x), torch.median(tx)
    assert m.shape == () and m.item() == tm.item()
    m.backward()
    tm.backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    assert autograd.gradcheck(lambda t: autograd.kthvalue(t, 2, 1).values, (x,))
    assert autograd.gradcheck(lambda t: autograd.median(t, 0).values, (x,))
    with pytest.raises(RuntimeError, match="selected number k out of range"):
        autograd.kthvalue(x, 6)


def test_median_nan(torch):
    a = np.array([[1.0, np.nan, 2.0], [3.0, 1.0, 2.0]])
    assert math.isnan(autograd.median(autograd.tensor(a)).item())
    _check_pair(autograd.median(autograd.tensor(a), 1), torch.median(torch.tensor(a), 1))
    np.testing.assert_allclose(autograd.nanmedian(autograd.tensor(a), 1).values.numpy(),
                               torch.nanmedian(torch.tensor(a), 1).values.numpy())
    assert autograd.nanmedian(autograd.tensor(a)).item() == torch.nanmedian(
        torch.tensor(a)).item()


def test_sort_out_pair(torch):
    x = autograd.tensor([3.0, 1.0, 2.0])
    v, i = autograd.zeros(3), autograd.zeros(3, dtype=autograd.int64)
    r = autograd.sort(x, out=(v, i))
    assert r.values is v and r.indices is i and i.tolist() == [1, 2, 0]


@pytest.mark.parametrize("kwargs", [{}, {"return_inverse": True}, {"return_counts": True},
                                    {"return_inverse": True, "return_counts": True},
                                    {"dim": 0, "return_inverse": True, "return_counts": True},
                                    {"dim": 1, "return_counts": True}])
def test_unique(torch, kwargs):
    a = np.array([[1, 2, 1], [1, 2, 1], [3, 4, 3]])
    ours = autograd.unique(autograd.tensor(a), **kwargs)
    theirs = torch.unique(torch.tensor(a), **kwargs)
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.numpy(), t.numpy())
        assert o.dtype == autograd.int64


def test_unique_consecutive(torch):
    a = np.array([1, 1, 2, 2, 3, 1, 1, 2])
    for kw in ({}, {"return_inverse": True, "return_counts": True}):
        ours = autograd.unique_consecutive(autograd.tensor(a), **kw)
        theirs = torch.unique_consecutive(torch.tensor(a), **kw)
        for o, t in zip(ours if kw else (ours,), theirs if kw else (theirs,)):
            np.testing.assert_array_equal(o.numpy(), t.numpy())
    m = np.array([[1, 1], [1, 1], [2, 0]])
    for o, t in zip(autograd.unique_consecutive(autograd.tensor(m), return_counts=True, dim=0),
                    torch.unique_consecutive(torch.tensor(m), return_counts=True, dim=0)):
        np.testing.assert_array_equal(o.numpy(), t.numpy())


def test_cross(torch):
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    (x, tx), (y, ty) = _both(torch, a), _both(torch, b)
    ours, theirs = autograd.linalg.cross(x, y), torch.linalg.cross(tx, ty)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(autograd.cross(x, y, dim=1).detach().numpy(),
                               theirs.detach().numpy(), rtol=1e-12)
    with pytest.warns(UserWarning, match="without specifying the dim"):
        np.testing.assert_allclose(x.cross(y).detach().numpy(), theirs.detach().numpy())
    p, q = rng.standard_normal((2, 1, 3)), rng.standard_normal((1, 5, 3))
    assert autograd.linalg.cross(_t(p), _t(q)).shape == tuple(
        torch.linalg.cross(torch.tensor(p), torch.tensor(q)).shape)
    assert autograd.gradcheck(lambda u, v: autograd.linalg.cross(u, v), (x, y))
    with pytest.raises(RuntimeError, match="must have length 3"):
        autograd.linalg.cross(autograd.ones(2, 4), autograd.ones(2, 4))
    with pytest.raises(RuntimeError, match="no dimension of size 3"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            autograd.cross(autograd.ones(2, 4), autograd.ones(2, 4))


@pytest.mark.parametrize("name", ["remainder", "fmod"])
def test_remainder_fmod(torch, name):
    rng = np.random.default_rng(5)
    a = rng.uniform(-5, 5, (3, 4))
    b = rng.uniform(0.5, 2, (4,)) * rng.choice([-1, 1], 4)
    (x, tx), (y, ty) = _both(torch, a), _both(torch, b)
    ours, theirs = getattr(autograd, name)(x, y), getattr(torch, name)(tx, ty)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy())
    assert autograd.gradcheck(lambda u, v: getattr(autograd, name)(u, v), (x, y))
    np.testing.assert_allclose(getattr(autograd, name)(x, -1.5).detach().numpy(),
                               getattr(torch, name)(tx, -1.5).detach().numpy())
    ia, ib = np.array([-7, 5, 3]), np.array([2, -3, 3])
    np.testing.assert_array_equal(getattr(autograd, name)(_t(ia), _t(ib)).numpy(),
                                  getattr(torch, name)(torch.tensor(ia), torch.tensor(ib)).numpy())
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        getattr(autograd, name)(_t(ia), 0)
    np.testing.assert_array_equal((_t(ia) % 2).numpy(), (torch.tensor(ia) % 2).numpy())


def test_bitwise(torch):
    a, b = np.array([12, -3, 7, 0]), np.array([10, 5, -1, 3])
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
        np.testing.assert_array_equal(
            getattr(autograd, name)(_t(a), _t(b)).numpy(),
            getattr(torch, name)(torch.tensor(a), torch.tensor(b)).numpy())
        np.testing.assert_array_equal(
            getattr(autograd, name)(_t(a), 6).numpy(),
            getattr(torch, name)(torch.tensor(a), 6).numpy())
    np.testing.assert_array_equal(autograd.bitwise_not(_t(a)).numpy(),
                                  torch.bitwise_not(torch.tensor(a)).numpy())
    np.testing.assert_array_equal((_t(a) & _t(b)).numpy(), (torch.tensor(a) & torch.tensor(b)).numpy())
    np.testing.assert_array_equal((_t(a) ^ 3).numpy(), (torch.tensor(a) ^ 3).numpy())
    np.testing.assert_array_equal((~_t(a)).numpy(), (~torch.tensor(a)).numpy())
    m, n = np.array([True, False, True]), np.array([True, True, False])
    np.testing.assert_array_equal((_t(m) | _t(n)).numpy(), (torch.tensor(m) | torch.tensor(n)).numpy())
    assert (~_t(m)).dtype == autograd.bool
    with pytest.raises(NotImplementedError, match="not implemented for 'Float'"):
        autograd.bitwise_and(autograd.ones(2), autograd.ones(2))
    with pytest.raises(NotImplementedError, match="not implemented for 'Float'"):
        torch.bitwise_and(torch.ones(2), torch.ones(2))
    x = _t(a)
    x.bitwise_xor_(_t(b))
    np.testing.assert_array_equal(x.numpy(), np.bitwise_xor(a, b))


def test_isclose_allclose_equal(torch):
    a = np.array([1.0, 2.0, np.nan, 1e-9])
    b = np.array([1.0 + 1e-7, 2.1, np.nan, 0.0])
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.1}, {"atol": 0.0, "rtol": 0.0}):
        np.testing.assert_array_equal(autograd.isclose(_t(a), _t(b), **kw).numpy(),
                                      torch.isclose(torch.tensor(a), torch.tensor(b), **kw).numpy())
        assert autograd.allclose(_t(a), _t(b), **kw) is torch.allclose(torch.tensor(a),
                                                                       torch.tensor(b), **kw)
    assert autograd.allclose(_t(a[:2]), _t(a[:2])) is True
    assert _t(a[:2]).allclose(_t(b[:2]), rtol=0.1)
    assert autograd.equal(_t([1, 2]), _t([1, 2])) is torch.equal(torch.tensor([1, 2]),
                                                                 torch.tensor([1, 2])) is True
    assert autograd.equal(_t([1, 2]), _t([1, 2, 3])) is False
    assert autograd.equal(_t(a), _t(a)) is torch.equal(torch.tensor(a), torch.tensor(a)) is False
    with pytest.raises(RuntimeError, match="Float did not match Double"):
        autograd.isclose(autograd.ones(2), autograd.ones(2, dtype=autograd.float64))


@pytest.mark.parametrize("name", ["addcmul", "addcdiv"])
def test_addcmul_addcdiv(torch, name):
    rng = np.random.default_rng(6)
    a, b, c = rng.standard_normal((3, 4)), rng.standard_normal((4,)), rng.uniform(1, 2, (3, 1))
    ours_in = [autograd.tensor(v, requires_grad=True) for v in (a, b, c)]
    theirs_in = [torch.tensor(v, requires_grad=True) for v in (a, b, c)]
    ours = getattr(autograd, name)(*ours_in, value=0.5)
    theirs = getattr(torch, name)(*theirs_in, value=0.5)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    ours.sum().backward()
    theirs.sum().backward()
    for o, t in zip(ours_in, theirs_in):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-12)
    assert autograd.gradcheck(lambda *t: getattr(autograd, name)(*t, value=2.0), ours_in)
    x, tx = autograd.tensor(a), torch.tensor(a)
    r = getattr(x, name + "_")(autograd.tensor(b), autograd.tensor(c), value=3)
    getattr(tx, name + "_")(torch.tensor(b), torch.tensor(c), value=3)
    assert r is x
    np.testing.assert_allclose(x.numpy(), tx.numpy(), rtol=1e-12)


_UNARY_INPLACE = ["abs_", "sin_", "cos_", "tan_", "exp_", "log_", "sqrt_", "neg_", "tanh_",
                  "sigmoid_", "relu_", "floor_", "ceil_", "round_", "trunc_", "sign_",
                  "reciprocal_", "square_", "rsqrt_", "log1p_", "expm1_", "log2_", "log10_",
                  "frac_", "erf_", "sinh_", "cosh_", "asin_", "acos_", "atan_", "negative_",
                  "absolute_"]


@pytest.mark.parametrize("name", _UNARY_INPLACE)
def test_unary_inplace_matches_torch(torch, name):
    a = np.array([0.1, 0.5, 0.75, 0.9]) * np.array([1, -1, 1, -1])
    if name in ("log_", "sqrt_", "rsqrt_", "log2_", "log10_", "log1p_"):
        a = np.abs(a)
    x, tx = autograd.tensor(a), torch.tensor(a)
    assert getattr(x, name)() is x
    getattr(tx, name)()
    np.testing.assert_allclose(x.numpy(), tx.numpy(), rtol=1e-12, atol=1e-15)
    if hasattr(torch, name):  # torch.sin_(x) and friends
        y, ty = autograd.tensor(a), torch.tensor(a)
        assert getattr(autograd, name)(y) is y
        getattr(torch, name)(ty)
        np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-12, atol=1e-15)


def test_inplace_autograd_history(torch):
    a = np.array([0.3, -0.2, 0.7])
    x, tx = _both(torch, a)
    y, ty = x * 2, tx * 2
    y.sin_()
    ty.sin_()
    y.clamp_min_(0.0).sum().backward()
    ty.clamp_min_(0.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    leaf = autograd.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf.cos_()
    z = autograd.tensor([1.5, -2.5])
    np.testing.assert_array_equal(z.clamp_max(0.0).numpy(), [0.0, -2.5])
    assert z.fmod_(2.0) is z and z.tolist() == [1.5, -0.5]


# ---- 7. NumPy floating-point warnings do not leak from the library ------------------------------
def test_numpy_fp_warnings_silent_in_ops_but_not_in_user_code():
    code = (
        "import numpy as np, autograd\n"
        "x = autograd.log(autograd.tril(autograd.ones(3, 3)))\n"
        "assert np.isneginf(x.numpy()[0, 1])\n"
        "y = autograd.tensor([0.0, -1.0, 1000.0], requires_grad=True)\n"
        "(autograd.sqrt(y).sum() + autograd.log(y).sum() + autograd.exp(y).sum()"
        " + (1 / y).sum() + (y / 0).sum()).backward()\n"
        "print('OPS-DONE', flush=True)\n"
        "np.log(np.zeros(1))  # the user's own NumPy call still warns\n")
    r = subprocess.run([sys.executable, "-W", "always::RuntimeWarning", "-c", code],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "OPS-DONE" in r.stdout
    warned = [line for line in r.stderr.splitlines() if "RuntimeWarning" in line]
    assert len(warned) == 1 and "<string>:7" in warned[0], r.stderr


# ---- 8. TensorDataset slicing, cat of 0-d tensors, legacy loss reductions ----------------------
def test_tensor_dataset_slicing(torch):
    from autograd.data import TensorDataset
    x, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    ours = TensorDataset(autograd.tensor(x), autograd.tensor(y))
    theirs = torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y))
    for index in (slice(1, 3), slice(None, None, 2), [0, 2, 4], np.array([4, 1])):
        xb, yb = ours[index]
        txb, tyb = theirs[index if not isinstance(index, np.ndarray) else torch.tensor(index)]
        np.testing.assert_array_equal(xb.numpy(), txb.numpy())
        np.testing.assert_array_equal(yb.numpy(), tyb.numpy())
    xb, yb = ours[autograd.tensor(1)]
    assert xb.tolist() == [2.0, 3.0] and yb.item() == 1
    bs = 2
    batches = [ours[i * bs: i * bs + bs] for i in range(3)]  # tu_nn_tutorial's idiom
    assert [b[0].shape[0] for b in batches] == [2, 2, 1]
    with pytest.raises(IndexError):
        ours[5]


def test_cat_zero_dim_error(torch):
    with pytest.raises(RuntimeError, match=r"zero-dimensional tensor \(at position 0\) cannot "
                                           r"be concatenated"):
        autograd.cat([autograd.tensor(1.0), autograd.tensor(2.0)])
    with pytest.raises(RuntimeError, match=r"zero-dimensional tensor \(at position 1\)"):
        autograd.cat([autograd.ones(1), autograd.tensor(2.0)])
    with pytest.raises(RuntimeError, match=r"zero-dimensional tensor \(at position 0\) cannot "
                                           r"be concatenated"):
        torch.cat([torch.tensor(1.0), torch.tensor(2.0)])


@pytest.mark.parametrize("legacy,reduction", [({"size_average": False}, "sum"),
                                              ({"size_average": True}, "mean"),
                                              ({"reduce": False}, "none"),
                                              ({"size_average": False, "reduce": True}, "sum")])
@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
def test_legacy_reduction_args(torch, name, legacy, reduction):
    import nn.functional as F
    import torch.nn.functional as TF
    rng = np.random.default_rng(7)
    a, t = rng.standard_normal((4, 3)), np.array([0, 2, 1, 2])
    x, tx = _both(torch, a)
    with pytest.warns(UserWarning, match=f"reduction='{reduction}' instead"):
        ours = getattr(F, name)(x, autograd.tensor(t), **legacy)
    with pytest.warns(UserWarning, match=f"reduction='{reduction}' instead"):
        theirs = getattr(TF, name)(tx, torch.tensor(t), **legacy)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    plain = getattr(F, name)(autograd.tensor(a), autograd.tensor(t), reduction=reduction)
    np.testing.assert_allclose(ours.detach().numpy(), plain.numpy(), rtol=1e-12)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


# ---- without PyTorch: the new ops against NumPy, and their gradients ----------------------------
def test_new_ops_against_numpy():
    rng = np.random.default_rng(8)
    a = _distinct(rng, (3, 5))
    x = autograd.tensor(a, requires_grad=True)
    s = autograd.sort(x, 1, descending=True)
    np.testing.assert_array_equal(s.values.detach().numpy(), -np.sort(-a, 1))
    np.testing.assert_array_equal(s.indices.numpy(), np.argsort(-a, 1))
    t = autograd.topk(x, 2, dim=0)
    np.testing.assert_array_equal(t.values.detach().numpy(), -np.sort(-a, 0)[:2])
    k = autograd.kthvalue(x, 2, 1)
    np.testing.assert_array_equal(k.values.detach().numpy(), np.sort(a, 1)[:, 1])
    np.testing.assert_array_equal(autograd.median(x, 1).values.detach().numpy(),
                                  np.sort(a, 1)[:, 2])
    assert autograd.median(x).item() == np.sort(a.ravel())[(a.size - 1) // 2]
    (t.values.sum() + k.values.sum()).backward()
    grad = np.zeros_like(a)
    np.add.at(grad, (t.indices.numpy(), np.arange(5)[None, :].repeat(2, 0)), 1.0)
    np.add.at(grad, (np.arange(3), k.indices.numpy()), 1.0)
    np.testing.assert_array_equal(x.grad.numpy(), grad)
    for fn in (lambda u: autograd.sort(u, 0).values, lambda u: autograd.topk(u, 3).values,
               lambda u: autograd.kthvalue(u, 4, 1, keepdim=True).values,
               lambda u: autograd.median(u)):
        assert autograd.gradcheck(fn, (x,))
    ints = np.array([[3, 1, 3], [2, 2, 1]])
    vals, inv, cnt = autograd.unique(autograd.tensor(ints), return_inverse=True,
                                     return_counts=True)
    ev, ei, ec = np.unique(ints, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(vals.numpy(), ev)
    np.testing.assert_array_equal(inv.numpy(), ei.reshape(ints.shape))
    np.testing.assert_array_equal(cnt.numpy(), ec)
    u, v = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    np.testing.assert_allclose(autograd.linalg.cross(_t(u), _t(v)).numpy(), np.cross(u, v),
                               rtol=1e-12)
    p = autograd.tensor(rng.uniform(-4, 4, 6), requires_grad=True)
    q = autograd.tensor(rng.uniform(0.5, 2, 6) * rng.choice([-1, 1], 6), requires_grad=True)
    np.testing.assert_allclose(autograd.remainder(p, q).detach().numpy(),
                               np.remainder(p.detach().numpy(), q.detach().numpy()))
    np.testing.assert_allclose(autograd.fmod(p, q).detach().numpy(),
                               np.fmod(p.detach().numpy(), q.detach().numpy()))
    assert autograd.gradcheck(autograd.remainder, (p, q))
    assert autograd.gradcheck(autograd.fmod, (p, q))
    r = autograd.tensor(rng.standard_normal(6), requires_grad=True)
    assert autograd.gradcheck(lambda *z: autograd.addcdiv(*z, value=0.5), (p, r, q))
    np.testing.assert_array_equal(autograd.bitwise_xor(_t([1, 2]), _t([3, 3])).numpy(), [2, 1])
    assert autograd.allclose(autograd.ones(2), autograd.ones(2) + 1e-9)
    assert not autograd.equal(autograd.ones(2), autograd.zeros(2))
    y = autograd.tensor([0.25, 4.0])
    assert y.sqrt_() is y and y.tolist() == [0.5, 2.0]


# ---- more of torch.Tensor's common surface --------------------------------------------------------
@pytest.mark.parametrize("name", ["logaddexp", "hypot", "xlogy"])
def test_binary_extras(torch, name):
    rng = np.random.default_rng(9)
    a = rng.standard_normal((3, 4))
    b = rng.uniform(0.5, 2.0, (4,))
    if name == "xlogy":
        a[0, :2] = 0.0
    (x, tx), (y, ty) = _both(torch, a), _both(torch, b)
    ours, theirs = getattr(autograd, name)(x, y), getattr(torch, name)(tx, ty)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=1e-12)
    assert autograd.gradcheck(lambda u, v: getattr(autograd, name)(u, v),
                              (autograd.tensor(a, requires_grad=True), y))
    two = np.full((4,), 2.0)
    np.testing.assert_allclose(getattr(x.detach(), name)(_t(two)).numpy(),
                               getattr(tx.detach(), name)(torch.tensor(two)).numpy(), rtol=1e-12)


def test_xlogy_zero_and_logaddexp_inf(torch):
    z = np.array([0.0, 0.0, 1.0])
    y = np.array([0.0, np.nan, 0.0])
    np.testing.assert_array_equal(autograd.xlogy(_t(z), _t(y)).numpy(),
                                  torch.xlogy(torch.tensor(z), torch.tensor(y)).numpy())
    m = np.array([-np.inf, 1.0])
    np.testing.assert_array_equal(autograd.logaddexp(_t(m), _t(m)).numpy(),
                                  torch.logaddexp(torch.tensor(m), torch.tensor(m)).numpy())


def test_reduction_and_shape_extras(torch):
    rng = np.random.default_rng(10)
    a = rng.standard_normal((3, 4))
    a_nan = a.copy()
    a_nan[1, 2] = np.nan
    for name, fn in [("nansum", lambda M, t: M.nansum(t, 1)), ("nanmean", lambda M, t: M.nanmean(t, 0)),
                     ("nansum_all", lambda M, t: M.nansum(t)), ("trace", lambda M, t: M.trace(t)),
                     ("diff", lambda M, t: M.diff(t, n=2, dim=1)),
                     ("diff_pre", lambda M, t: M.diff(t, dim=0, prepend=t[:1] * 2)),
                     ("fliplr", lambda M, t: M.fliplr(t)), ("flipud", lambda M, t: M.flipud(t)),
                     ("select", lambda M, t: M.select(t, 1, -2)), ("ravel", lambda M, t: M.ravel(t)),
                     ("moveaxis", lambda M, t: M.moveaxis(t, 0, 1)),
                     ("swapdims", lambda M, t: M.swapdims(t, 0, 1)),
                     ("deg2rad", lambda M, t: M.deg2rad(t)), ("rad2deg", lambda M, t: M.rad2deg(t))]:
        data = a_nan if name.startswith("nan") else a
        x, tx = _both(torch, data)
        ours, theirs = fn(autograd, x), fn(torch, tx)
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12,
                                   err_msg=name)
        ours.sum().backward()
        theirs.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, err_msg=name)
        if not name.startswith("nan"):
            assert autograd.gradcheck(lambda t: fn(autograd, t), (autograd.tensor(a, requires_grad=True),))
    b = np.array([True, False, False, True])
    np.testing.assert_array_equal(autograd.diff(_t(b)).numpy(), torch.diff(torch.tensor(b)).numpy())
    with pytest.raises(RuntimeError, match="expected a matrix"):
        autograd.trace(autograd.ones(3))


def test_tensor_attribute_extras(torch):
    x, tx = autograd.zeros(2, 3), torch.zeros(2, 3)
    assert x.ndimension() == tx.ndimension() == 2
    assert x.nbytes == tx.nbytes and x.itemsize == tx.itemsize
    assert x.is_same_size(autograd.ones(2, 3)) and not x.is_same_size(autograd.ones(3))
    assert autograd.tensor([2.0]).is_nonzero() is torch.tensor([2.0]).is_nonzero() is True
    assert autograd.tensor(0).is_nonzero() is False
    with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
        x.is_nonzero()
    assert x.reshape_as(autograd.ones(3, 2)).shape == (3, 2)
    assert autograd.positive(x) is x
    with pytest.raises(TypeError):
        autograd.positive(autograd.ones(2, dtype=autograd.bool))


# ---- svd ----------------------------------------------------------------------------------------
def _svd_loss(M, r, w):
    """A loss that does not depend on the singular vectors' signs (squares of U and Vh)."""
    return (r.U ** 2 * w).sum() + r.S.sum() + (r.Vh ** 2 * 0.3).sum() + (r.S ** 2).sum()


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 3, 3)])
def test_linalg_svd_values_and_grad(torch, shape):
    rng = np.random.default_rng(11)
    a = rng.standard_normal(shape)
    x, tx = _both(torch, a)
    ours, theirs = autograd.linalg.svd(x, full_matrices=False), torch.linalg.svd(
        tx, full_matrices=False)
    np.testing.assert_allclose(ours.S.detach().numpy(), theirs.S.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(np.abs(ours.U.detach().numpy()), np.abs(theirs.U.detach().numpy()),
                               rtol=1e-8, atol=1e-10)
    recon = (ours.U * ours.S.unsqueeze(-2)) @ ours.Vh
    np.testing.assert_allclose(recon.detach().numpy(), a, rtol=1e-10, atol=1e-12)
    w = np.arange(np.prod(ours.U.shape), dtype=np.float64).reshape(ours.U.shape)
    _svd_loss(autograd, ours, autograd.tensor(w)).backward()
    _svd_loss(torch, theirs, torch.tensor(w)).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-7, atol=1e-9)
    assert autograd.gradcheck(
        lambda t: _svd_loss(autograd, autograd.linalg.svd(t, full_matrices=False),
                            autograd.tensor(w)), (autograd.tensor(a, requires_grad=True),))
    assert autograd.gradcheck(autograd.linalg.svdvals, (autograd.tensor(a, requires_grad=True),))


def test_svd_legacy_and_full(torch):
    a = np.random.default_rng(12).standard_normal((4, 2))
    ours, theirs = autograd.svd(_t(a)), torch.svd(torch.tensor(a))
    assert [tuple(t.shape) for t in ours] == [tuple(t.shape) for t in theirs]
    np.testing.assert_allclose(((ours.U * ours.S) @ ours.V.T).numpy(), a, rtol=1e-10)
    full, tfull = autograd.linalg.svd(_t(a)), torch.linalg.svd(torch.tensor(a))
    assert [tuple(t.shape) for t in full] == [tuple(t.shape) for t in tfull]
    assert autograd.svd(_t(a), some=False).U.shape == (4, 4)
    no_uv, tno_uv = autograd.svd(_t(a), compute_uv=False), torch.svd(torch.tensor(a),
                                                                      compute_uv=False)
    assert [tuple(t.shape) for t in no_uv] == [tuple(t.shape) for t in tno_uv]
    assert not no_uv.U.numpy().any()
    x = autograd.tensor(a, requires_grad=True)
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        autograd.linalg.svd(x).U.sum().backward()
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        autograd.linalg.svd(autograd.ones(3))


def test_svd_without_torch():
    a = np.random.default_rng(13).standard_normal((3, 4))
    r = autograd.linalg.svd(_t(a), full_matrices=False)
    np.testing.assert_allclose(r.S.numpy(), np.linalg.svd(a, compute_uv=False), rtol=1e-12)
    np.testing.assert_allclose(((r.U * r.S.unsqueeze(-2)) @ r.Vh).numpy(), a, atol=1e-12)
    x = autograd.tensor(a, requires_grad=True)
    assert autograd.gradcheck(autograd.linalg.svdvals, (x,))
    # a sign-invariant function of U and Vh: the projectors U U^T and Vh^T Vh
    assert autograd.gradcheck(lambda t: (lambda q: (q.U @ q.U.mT * 2.0).sum()
                                         + (q.Vh.mT @ q.Vh)[0].sum())(
        autograd.linalg.svd(t, full_matrices=False)), (x,))
