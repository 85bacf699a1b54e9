"""The PyTorch semantics that real programs lean on, checked against PyTorch itself (values,
gradients, shapes, exception types and messages) where it is installed, and against fixed
expectations otherwise:

- indexing: PyTorch's index forms (ints, slices, None, Ellipsis, bools, ranges, nested lists,
  NumPy arrays, integer and bool tensors) and its advanced-index placement, for reading,
  assignment and gradients; hypothesis builds the index expressions;
- factories (``new_*``, ``*_like``) and the in-place initialisers (``uniform_``, ``normal_``,
  ``bernoulli_``, ``random_`` ...): dtypes, seeding, and their distributions by moments;
- devices and backends on a CPU-only install (``device``, ``cuda``, ``accelerator``,
  ``backends``, ``amp``, ``compile``);
- ``nn.PixelShuffle`` / ``nn.PixelUnshuffle``.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
import nn
import nn.functional as F
from conftest import seeds

# ================================================================================================
# indexing
# ================================================================================================


class _K:
    def __getitem__(self, key):
        return key


K = _K()  # K[1, :, [0, 1]] is the key object Python passes to __getitem__


def _libs(torch):
    return {"torch": torch, "ours": autograd}


class Item:
    """One index item, built for either library (tensor forms become that library's Tensor)."""

    def __init__(self, form, payload):
        self.form, self.payload = form, payload

    def build(self, lib):
        f, p = self.form, self.payload
        if f == "tensor":
            arr = np.asarray(p)
            return lib.tensor(arr.tolist(), dtype=_lib_dtype(lib, arr.dtype))
        if f == "list":
            return np.asarray(p).tolist()
        if f == "nparray":
            return np.asarray(p)
        return p  # int, slice, None, Ellipsis, bool, range, np.int64, tuple

    def __repr__(self):
        return f"{self.form}:{self.payload!r}"


def _lib_dtype(lib, dtype):
    return getattr(lib, np.dtype(dtype).name if np.dtype(dtype).name != "bool" else "bool")


def build_index(items, lib, wrap):
    built = tuple(i.build(lib) for i in items)
    if not wrap and len(built) == 1:
        return built[0]
    return built


@st.composite
def torch_indices(draw, shape):
    """An index expression for a tensor of ``shape`` in PyTorch's vocabulary, as a list of
    :class:`Item` plus whether a single item is passed bare (``x[i]``) or in a tuple."""
    nd = len(shape)
    kinds = []
    consumed = 0
    have_mask = have_arr = have_ellipsis = False
    for _ in range(draw(st.integers(0, nd + 2))):
        options = ["none", "bool"]
        if not have_ellipsis:
            options.append("ellipsis")
        if consumed < nd:
            options += ["int", "slice", "slice"]
            if not have_mask:
                options += ["arr", "arr"]
            if not have_arr and not have_mask:
                options.append("mask")
        kind = draw(st.sampled_from(options))
        width = 0
        if kind == "mask":
            width = draw(st.integers(1, min(2, nd - consumed)))
            have_mask = True
        elif kind in ("int", "slice", "arr"):
            width = 1
            have_arr = have_arr or kind == "arr"
        have_ellipsis = have_ellipsis or kind == "ellipsis"
        consumed += width
        kinds.append((kind, width))
    # the dims each item indexes: left to right before an Ellipsis, right-aligned after it
    dims, d = [], 0
    if have_ellipsis:
        e = [k for k, _ in kinds].index("ellipsis")
        for kind, w in kinds[:e]:
            dims.append(d)
            d += w
        d = nd - sum(w for _, w in kinds[e + 1:])
        dims.append(None)
        for kind, w in kinds[e + 1:]:
            dims.append(d)
            d += w
    else:
        for kind, w in kinds:
            dims.append(d)
            d += w
    bshape = draw(st.sampled_from([(1,), (2,), (3,), (2, 2), (2, 1)]))
    items = []
    for (kind, w), d in zip(kinds, dims):
        if kind == "none":
            items.append(Item("plain", None))
        elif kind == "ellipsis":
            items.append(Item("plain", Ellipsis))
        elif kind == "bool":
            # True adds a dim indexed by [0]; False (an empty index) only where nothing else
            # is advanced, so that the index stays valid
            items.append(Item(draw(st.sampled_from(["plain", "tensor"])), True))
        elif kind == "int":
            n = shape[d]
            v = draw(st.integers(-n, n - 1))
            form = draw(st.sampled_from(["plain", "np", "tensor"]))
            items.append(Item("plain", np.int64(v)) if form == "np" else
                         Item("tensor", v) if form == "tensor" else Item("plain", v))
        elif kind == "slice":
            n = shape[d]
            start = draw(st.none() | st.integers(-n - 1, n + 1))
            stop = draw(st.none() | st.integers(-n - 1, n + 1))
            step = draw(st.none() | st.integers(1, 3))
            items.append(Item("plain", slice(start, stop, step)))
        elif kind == "arr":
            n = shape[d]
            ashape = draw(st.sampled_from([bshape, bshape[-1:], (1,) * len(bshape)]))
            vals = draw(st.lists(st.integers(-n, n - 1), min_size=int(np.prod(ashape)),
                                 max_size=int(np.prod(ashape))))
            arr = np.array(vals, dtype=np.int64).reshape(ashape)
            form = draw(st.sampled_from(["list", "nparray", "tensor", "range", "tuple"]))
            if form == "range" and arr.ndim == 1:
                step = draw(st.integers(1, 2))
                length = arr.shape[0]
                if (length - 1) * step < n:
                    start = draw(st.integers(0, n - 1 - (length - 1) * step))
                    items.append(Item("plain", range(start, start + length * step, step)))
                    continue
            if form == "tuple" and arr.ndim == 1:
                items.append(Item("plain", tuple(int(v) for v in arr)))
                continue
            if form in ("range", "tuple"):
                form = "list"
            if form == "nparray" and draw(st.booleans()):
                arr = arr.astype(np.int32)
            items.append(Item(form, arr))
        else:
            mshape = tuple(shape[d:d + w])
            vals = draw(st.lists(st.booleans(), min_size=int(np.prod(mshape)),
                                 max_size=int(np.prod(mshape))))
            form = draw(st.sampled_from(["list", "nparray", "tensor"]))
            if have_ellipsis and w > 1:
                # PyTorch counts a multi-dim bool *list or array* as one dim when it expands
                # an Ellipsis (a Tensor mask counts all its dims), and then fails; tapegrad
                # treats all mask forms alike (test_multidim_bool_list_with_ellipsis)
                form = "tensor"
            items.append(Item(form, np.array(vals, dtype=bool).reshape(mshape)))
    wrap = len(items) != 1 or draw(st.booleans())
    return items, wrap


def _run_getitem(lib, x_np, items, wrap):
    x = lib.tensor(x_np, requires_grad=True)
    index = build_index(items, lib, wrap)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = x[index]
    w = lib.tensor(np.cos(np.arange(out.numel(), dtype=np.float64)).reshape(tuple(out.shape)))
    (out * w).sum().backward()
    return tuple(out.shape), out.detach().numpy().copy(), x.grad.numpy().copy()


def _outcome(fn):
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - the exception itself is what is compared
        return e


def _same_outcome(a, b):
    if isinstance(a, Exception) or isinstance(b, Exception):
        assert type(a) is type(b), f"torch: {a!r}, ours: {b!r}"
        return False
    return True


def _assert_same_result(a, b, what=None):
    """Two ``(shape, values, input gradient)`` results, PyTorch's ``a`` and ours ``b``, are
    equal."""
    assert a[0] == b[0], (what, a[0], b[0])
    np.testing.assert_array_equal(b[1], a[1])
    np.testing.assert_array_equal(b[2], a[2])  # repeated indices accumulate


def _index_both(torch, x, index_for):
    """``x[index_for(lib.tensor)]`` in PyTorch and in tapegrad, then ``out.pow(2).sum()``
    back-propagated: each library's ``(shape, values, input gradient)``, or the exception it
    raised."""
    def run(lib):
        t = lib.tensor(x, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = t[index_for(lib.tensor)]
        out.pow(2).sum().backward()
        return tuple(out.shape), out.detach().numpy(), t.grad.numpy()

    return _outcome(lambda: run(torch)), _outcome(lambda: run(autograd))


@settings(max_examples=150)
@given(data=st.data(), shape=st.lists(st.integers(1, 4), min_size=0, max_size=4).map(tuple))
def test_getitem_matches_torch(torch, data, shape):
    items, wrap = data.draw(torch_indices(shape))
    x = np.arange(float(np.prod(shape))).reshape(shape) + 1.0
    a = _outcome(lambda: _run_getitem(torch, x, items, wrap))
    b = _outcome(lambda: _run_getitem(autograd, x, items, wrap))
    if _same_outcome(a, b):
        _assert_same_result(a, b, items)


GETITEM_CASES = [
    # the placement rule: ints select first; adjacent advanced items stay, separated ones
    # go to the front
    K[1, :, [0, 1]], K[[0, 1], :, 1], K[:, 1, [0, 1]], K[[0, 1], 2, [0, 1]],
    K[[0, 2], :, [1, 3]], K[:, [0, 2], [1, 3]], K[[[0, 1], [2, 0]], :, [0, 3]],
    K[2:, [0, 0, 3], None, [4, 4, 4]], K[[0, 1], None, [1, 2]], K[None, [0, 1], None, [1, 2]],
    # True / False add a dimension indexed by [0] / []
    K[True], K[False], K[True, :, [0, 1]], K[None, True],
    # sequences: range, nested lists, lists read as tuples
    K[range(3)], K[range(3), [1, 2, 3]], K[[0, 2]], K[[[0, 2], [1, 1]]], K[[[True, False, True]]],
    K[[range(2), [1, 2]]], K[[0, 1], [1.0, 2.0]], K[[1.5]], K[[True, 1]], K[[]], K[[[], []]],
    K[((0, 2),)], K[[None, 0]], K[[...]], K[[slice(1, 2)]],
    # bool masks: lists, arrays, across two dims, after a select
    K[[True, False, True]], K[np.array([True, False, True])], K[:, [True, False, True, True]],
    K[..., [True, False, True, False, True]],
    # NumPy integers and arrays (0-d ones select)
    K[np.int64(1)], K[np.array(1), :, [0, 1]], K[np.array([0, 2])], K[np.array([1.0])],
    K[np.array([[0, 2], [1, 1]])],
    # several Ellipsis (PyTorch accepts them)
    K[..., ...], K[0, ..., 1, ...],
    # errors, with PyTorch's exception types and messages
    K[5], K[:, 7], K[1, 1, 9], K[None, 1, 9], K[0, 0, 0, 0], K[[5]], K[:, [0, 5]],
    K[[0, 1], :, [0, 7]], K[..., [0, -7]], K[[0, 1], [0, 1, 2]], K[[True, False]],
    K[:, :, [True, False]], K[1.5], K[::-1], K[[0, 1], ::-1], K[False, [1, 2]],
]


@pytest.mark.parametrize("index", GETITEM_CASES, ids=[repr(c) for c in GETITEM_CASES])
def test_getitem_cases_match_torch(torch, index):
    a, b = _index_both(torch, np.arange(60.0).reshape(3, 4, 5), lambda T: index)
    if _same_outcome(a, b):
        _assert_same_result(a, b, index)
    elif not isinstance(a, ValueError) and not isinstance(index, float):
        assert str(b).startswith(str(a))  # PyTorch's IndexError messages, then the shape


def test_getitem_with_tensors_of_each_library(torch):
    x = np.arange(60.0).reshape(3, 4, 5)
    rng = np.random.default_rng(0)
    m34, m45 = rng.random((3, 4)) > 0.3, rng.random((4, 5)) > 0.3
    cases = [
        lambda T: K[T(1), :, [0, 1]], lambda T: K[T([1]), :, [0, 1]],
        lambda T: K[T(True), :, [0, 1]], lambda T: K[[T(0), T(2)]], lambda T: K[[T(1)]],
        lambda T: K[[T([0, 1]), T([1, 2])]], lambda T: K[T([[0, 1], [2, 0]]), 1, T([0, 3])],
        lambda T: K[T(m34), 1:3], lambda T: K[T(m34), 2], lambda T: K[T(m34), None, 1:3],
        lambda T: K[:, T(m45)], lambda T: K[1, T(m45)], lambda T: K[T(m34), ..., 1:3],
        lambda T: K[T(m34), [0, 1]], lambda T: K[T(m45)], lambda T: K[[0, 1], T(m45)],
        lambda T: K[1:, T(np.ones((3, 3), bool))], lambda T: K[T(5)], lambda T: K[T([5])],
        lambda T: K[T([0, -1])], lambda T: K[T(0), T(1), T(2)], lambda T: K[T([1.0])],
        lambda T: K[T(1.0)],
    ]
    for make in cases:
        a, b = _index_both(torch, x, make)
        if _same_outcome(a, b):
            _assert_same_result(a, b, make)
        else:
            assert str(b).startswith(str(a))


def test_multidim_bool_list_with_ellipsis(torch):
    # PyTorch: y[..., mask_list] raises (the list counts as one dim for the Ellipsis) where
    # y[..., mask_tensor] works; tapegrad gives the tensor form's answer for both
    y = np.arange(60.0).reshape(3, 4, 5)
    mask = np.random.default_rng(1).random((4, 5)) > 0.5
    ref = torch.tensor(y)[..., torch.tensor(mask)].numpy()
    for form in (mask, mask.tolist(), autograd.tensor(mask)):
        np.testing.assert_array_equal(autograd.tensor(y)[..., form].numpy(), ref)


def test_uint8_index_is_a_mask_as_in_torch(torch):
    x = np.arange(12.0).reshape(3, 4)
    m = np.array([1, 0, 1], dtype=np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = torch.tensor(x)[torch.tensor(m)].numpy()
        ours = autograd.tensor(x)[autograd.tensor(m)]
    np.testing.assert_array_equal(ours.numpy(), ref)


def test_getitem_without_torch():
    x = autograd.tensor(np.arange(60.0).reshape(3, 4, 5), requires_grad=True)
    assert x[1, :, [0, 1]].shape == (4, 2)          # NumPy would give (2, 4)
    assert x[[0, 2], :, [1, 3]].shape == (2, 4)
    assert x[:, [0, 2], [1, 3]].shape == (3, 2)
    assert x[range(3), [1, 2, 3]].shape == (3, 5)
    with pytest.warns(UserWarning, match="non-tuple sequence") as record:
        assert x[[[0, 2], [1, 1]]].shape == (2, 5)  # read as x[[0, 2], [1, 1]]
    assert record[0].filename == __file__  # the warning points at the user's line
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 3"):
        x[5]
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 3"):
        x[0, 0, 0, 0]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1]
    with pytest.raises(IndexError, match="tensors used as indices must be long"):
        x[autograd.tensor([1.0])]
    y = x[[0, 0, 2]]  # repeated indices accumulate in the gradient
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[:, 0, 0], [2.0, 0.0, 1.0])


def test_basic_index_is_a_view_and_advanced_a_copy():
    x = autograd.zeros(3, 4)
    v = x[1]
    v[2] = 5.0
    assert x[1, 2].item() == 5.0
    s = x[1, 2]  # a 0-d view, as in PyTorch
    s += 1.0
    assert x[1, 2].item() == 6.0
    c = x[[1]]
    c[0, 0] = 9.0
    assert x[1, 0].item() == 0.0


# ---- assignment ---------------------------------------------------------------------------------
def _indexed_positions(torch, shape, items, wrap):
    """Flat positions ``x[index]`` reads (via torch), to spot repeated writes."""
    pos = torch.arange(int(np.prod(shape))).reshape(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pos[build_index(items, torch, wrap)].reshape(-1).numpy()


def _run_setitem(lib, x_np, items, wrap, v_np, number):
    x = lib.tensor(x_np, requires_grad=True)
    v = lib.tensor(v_np, requires_grad=True)
    y = x * 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y[build_index(items, lib, wrap)] = 0.5 if number else v
    (y * lib.tensor(np.cos(np.arange(y.numel(), dtype=np.float64)).reshape(y.shape))).sum(
        ).backward()
    return y.detach().numpy().copy(), x.grad.numpy().copy(), (
        None if number else v.grad.numpy().copy())


@settings(max_examples=100)
@given(data=st.data(), shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       number=st.booleans(), seed=seeds)
def test_setitem_matches_torch(torch, data, shape, number, seed):
    items, wrap = data.draw(torch_indices(shape))
    x = np.arange(float(np.prod(shape))).reshape(shape) + 1.0
    target = _outcome(lambda: _run_getitem(torch, x, items, wrap))
    if isinstance(target, Exception):
        return  # an invalid index: test_getitem_matches_torch compares those
    # a value that broadcasts to the indexed shape, maybe with extra leading 1s
    tshape = target[0]
    k = data.draw(st.integers(0, len(tshape)))
    vshape = tuple(1 if data.draw(st.booleans()) else s for s in tshape[k:])
    vshape = (1,) * data.draw(st.integers(0, 1)) + vshape
    v = np.random.default_rng(seed).normal(size=vshape)
    a = _outcome(lambda: _run_setitem(torch, x, items, wrap, v, number))
    b = _outcome(lambda: _run_setitem(autograd, x, items, wrap, v, number))
    if _same_outcome(a, b):
        pos = _indexed_positions(torch, shape, items, wrap)
        if len(np.unique(pos)) == len(pos):  # with repeats, which write wins is unspecified
            np.testing.assert_allclose(b[0], a[0])
        np.testing.assert_allclose(b[1], a[1])
        if not number:
            np.testing.assert_allclose(b[2], a[2])  # each repeat passes its position's grad


def test_setitem_idioms_match_torch(torch):
    def program(lib):
        out = {}
        x = lib.tensor(np.arange(12.0).reshape(3, 4))
        x[x > 5] = 0                              # a mask from a comparison
        out["mask"] = x.numpy().copy()
        x[[0, 2]] = lib.tensor([1.0, 2.0, 3.0, 4.0], dtype=lib.float64)  # broadcast over rows
        out["rows"] = x.numpy().copy()
        p = lib.zeros(3, 4, requires_grad=True)
        with lib.no_grad():
            p[:, [1, 3]] += lib.ones(3, 2)        # read-add-write on a leaf under no_grad
            p[0] = 7
        out["leaf"] = p.detach().numpy().copy()
        z = lib.zeros(5)
        z[[0, 0, 1]] += 1                         # x[i] += v does not accumulate repeats
        out["repeat"] = z.numpy().copy()
        a = lib.zeros(3, dtype=lib.long)
        a[0] = 2.7                                # cast to the tensor's dtype (truncates)
        a[1] = lib.tensor(1.9)
        out["cast"] = a.numpy().copy()
        w = lib.tensor(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)
        v = lib.tensor([10.0, 20.0], dtype=lib.float64, requires_grad=True)
        y = w * 1.0
        y[:, 1] = v                               # a non-leaf: gradient to w and v
        y[1, [0, 2]] = v * 3
        (y * lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
        out["y"] = y.detach().numpy().copy()
        out["gw"], out["gv"] = w.grad.numpy().copy(), v.grad.numpy().copy()
        return out

    a, b = program(torch), program(autograd)
    for k in a:
        np.testing.assert_array_equal(b[k], a[k], err_msg=k)


def test_setitem_errors_match_torch(torch):
    cases = [
        (K[[0, 1]], lambda lib: lib.ones(3)), (K[(slice(None), [0, 5])], lambda lib: 1.0),
        (K[1, 9], lambda lib: 1.0), (K[1, :, [0, 1]], lambda lib: lib.ones(2, 4)),
        (K[[0, 1]], lambda lib: lib.ones(4, 5, dtype=lib.float64)),  # index_put: same dtype
        (K[0], lambda lib: lib.ones(2, 4, 5)),
    ]
    for index, value in cases:
        def run(lib):
            x = lib.zeros(3, 4, 5)
            x[index] = value(lib)
        a, b = _outcome(lambda: run(torch)), _outcome(lambda: run(autograd))
        assert type(a) is type(b) and a is not None, (index, a, b)
        if "dtypes match" in str(a):
            assert str(b) == str(a)
    for lib in (torch, autograd):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            lib.zeros(3, requires_grad=True)[0] = 1.0
        with pytest.raises(TypeError, match="can't assign a str"):
            lib.zeros(3)[0] = "a"


# ================================================================================================
# factories and in-place initialisers
# ================================================================================================
def test_new_factories_match_torch(torch):
    for dt in ("float32", "float64", "int64"):
        x_t = torch.zeros(2, 3, dtype=getattr(torch, dt))
        x_a = autograd.zeros(2, 3, dtype=getattr(autograd, dt))
        exact = [  # deterministic values: compared elementwise
            lambda x, L: x.new_zeros(4, 2), lambda x, L: x.new_zeros((4, 2)),
            lambda x, L: x.new_ones(3), lambda x, L: x.new_full((2,), 7),
            lambda x, L: x.new_full((2, 1), 2.5), lambda x, L: x.new_tensor([1, 2, 3]),
            lambda x, L: x.new_tensor([[1.5], [2.5]]), lambda x, L: x.new_zeros(2, dtype=L.int32),
            lambda x, L: x.new_ones(2, dtype=L.bool), lambda x, L: x.new_tensor([1, 2],
                                                                            dtype=L.float64),
            lambda x, L: x.new([1, 2]), lambda x, L: x.new(), lambda x, L: L.ones_like(x),
            lambda x, L: L.zeros_like(x, dtype=L.float64), lambda x, L: L.full_like(x, 3),
        ]
        shaped = [  # uninitialised or random: shape and dtype only
            lambda x, L: x.new_empty((2, 2)), lambda x, L: x.new(2, 3),
            lambda x, L: L.empty_like(x, dtype=L.int32), lambda x, L: L.randint_like(x, 5),
            lambda x, L: L.randint_like(x, 2, 3),
        ]
        for make in exact + shaped:
            a, b = make(x_t, torch), make(x_a, autograd)
            assert tuple(a.shape) == b.shape
            assert str(a.dtype).replace("torch.", "") == autograd.dtypes.dtype_name(b.dtype)
            if make in exact:
                np.testing.assert_array_equal(b.numpy(), a.numpy())
    f = autograd.zeros(2)
    r = f.new_ones(3, requires_grad=True)
    assert r.requires_grad and r.is_leaf
    assert autograd.zeros_like(f, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="must be tuple of ints"):
        f.new_full(2, 7)
    with pytest.raises(RuntimeError, match="floating point"):
        autograd.zeros(2, dtype=autograd.int64).new_zeros(2, requires_grad=True)
    for fn in (autograd.rand_like, autograd.randn_like):
        with pytest.raises(NotImplementedError):
            fn(autograd.zeros(2, dtype=autograd.int64))
        with pytest.raises(NotImplementedError):
            torch_fn = getattr(torch, fn.__name__)
            torch_fn(torch.zeros(2, dtype=torch.int64))
    with pytest.raises(TypeError, match="unexpected keyword"):
        autograd.zeros(2, requires_gard=True)


def test_factories_out_and_size():
    c = autograd.zeros(2, 2)
    same = c
    autograd.rand(2, 2, out=c)
    assert c is same and (c.numpy() > 0).any() and c._version == 1
    autograd.zeros(3, out=c)
    assert c.shape == (3,)  # resized, as PyTorch
    i = autograd.zeros(2, dtype=autograd.int64)
    assert autograd.arange(2, out=i).dtype == autograd.int64
    with pytest.raises(RuntimeError, match="does not match the dtype of out"):
        autograd.zeros(2, dtype=autograd.float64, out=c)
    s = autograd.Size([2, 3, 4])
    assert s == (2, 3, 4) and s.numel() == 24 and isinstance(s[1:], autograd.Size)
    x = autograd.zeros(2, 3, 4)
    assert isinstance(x.shape, autograd.Size) and x.size()[1:] == (3, 4)
    assert autograd.numel(x) == 24 and x.view(-1, 4).shape == (6, 4)
    assert autograd.arange(autograd.tensor(3)).dtype == autograd.int64


INITIALISERS = [
    # (call, floating only, check(samples))
    ("uniform_", lambda t, g: t.uniform_(-2.0, 3.0, generator=g), "uniform"),
    ("normal_", lambda t, g: t.normal_(1.5, 0.5, generator=g), "normal"),
    ("bernoulli_", lambda t, g: t.bernoulli_(0.3, generator=g), "bernoulli"),
    ("random_", lambda t, g: t.random_(3, 10, generator=g), "random"),
    ("exponential_", lambda t, g: t.exponential_(2.0, generator=g), "exponential"),
    ("geometric_", lambda t, g: t.geometric_(0.25, generator=g), "geometric"),
    ("log_normal_", lambda t, g: t.log_normal_(0.5, 0.75, generator=g), "log_normal"),
    ("cauchy_", lambda t, g: t.cauchy_(1.0, 2.0, generator=g), "cauchy"),
]


@pytest.mark.parametrize("name,call,dist", INITIALISERS, ids=[i[0] for i in INITIALISERS])
def test_initialiser_distributions(name, call, dist):
    """Moments and goodness of fit (scipy's KS test) on 200,000 draws, at fixed seeds."""
    stats = pytest.importorskip("scipy.stats")
    n = 200_000
    g = autograd.Generator().manual_seed(1234)
    x = call(autograd.empty(n, dtype=autograd.float64), g).numpy()
    se = lambda var: 6 * math.sqrt(var / n)  # noqa: E731 - six standard errors
    if dist == "uniform":
        assert x.min() >= -2.0 and x.max() < 3.0
        assert abs(x.mean() - 0.5) < se(25 / 12) and abs(x.var() - 25 / 12) < 0.05
        assert stats.kstest(x, stats.uniform(-2, 5).cdf).pvalue > 1e-3
    elif dist == "normal":
        assert abs(x.mean() - 1.5) < se(0.25) and abs(x.std() - 0.5) < 0.005
        assert stats.kstest(x, stats.norm(1.5, 0.5).cdf).pvalue > 1e-3
    elif dist == "bernoulli":
        assert set(np.unique(x)) == {0.0, 1.0} and abs(x.mean() - 0.3) < se(0.21)
    elif dist == "random":
        assert set(np.unique(x)) == set(range(3, 10)) and abs(x.mean() - 6) < se(4)
        counts = np.bincount(x.astype(int))[3:]
        assert stats.chisquare(counts).pvalue > 1e-3
    elif dist == "exponential":
        assert x.min() >= 0 and abs(x.mean() - 0.5) < se(0.25)
        assert stats.kstest(x, stats.expon(scale=0.5).cdf).pvalue > 1e-3
    elif dist == "geometric":
        assert x.min() == 1 and np.all(x == np.round(x))
        assert abs(x.mean() - 4) < se(0.75 / 0.0625)
        assert abs(np.mean(x == 1) - 0.25) < se(0.1875)  # P(X = 1) = p: trials include the hit
    elif dist == "log_normal":
        lx = np.log(x)
        assert abs(lx.mean() - 0.5) < se(0.5625) and abs(lx.std() - 0.75) < 0.01
        assert stats.kstest(x, stats.lognorm(s=0.75, scale=math.exp(0.5)).cdf).pvalue > 1e-3
    else:
        assert abs(np.median(x) - 1.0) < 0.03
        q1, q3 = np.percentile(x, [25, 75])
        assert abs(q1 - (1.0 - 2.0)) < 0.05 and abs(q3 - (1.0 + 2.0)) < 0.05
        assert stats.kstest(x, stats.cauchy(1.0, 2.0).cdf).pvalue > 1e-3


@pytest.mark.parametrize("name,call,dist", INITIALISERS, ids=[i[0] for i in INITIALISERS])
def test_initialisers_are_seeded_and_in_place(name, call, dist):
    def draw(seed_fn):
        t = autograd.empty(50)
        seed_fn()
        out = call(t, None)
        assert out is t and t.dtype == autograd.float32
        return t.numpy().copy()

    a = draw(lambda: autograd.manual_seed(7))
    b = draw(lambda: autograd.manual_seed(7))
    c = draw(lambda: autograd.manual_seed(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c) or dist == "bernoulli" and False
    g1, g2 = autograd.Generator().manual_seed(3), autograd.Generator().manual_seed(3)
    autograd.manual_seed(0)
    x1 = call(autograd.empty(50), g1).numpy()
    autograd.randn(10)  # the default stream moves; the generator's does not
    x2 = call(autograd.empty(50), g2).numpy()
    np.testing.assert_array_equal(x1, x2)


def test_initialiser_dtypes_and_errors_match_torch(torch):
    calls = [
        ("uniform_", (), {}), ("uniform_", (2.0, 1.0), {}), ("normal_", (0.0, -1.0), {}),
        ("bernoulli_", (1.5,), {}), ("bernoulli_", (0.5,), {}), ("random_", (5, 5), {}),
        ("random_", (5,), {}), ("random_", (), {}), ("exponential_", (-1.0,), {}),
        ("geometric_", (0.0,), {}), ("geometric_", (0.5,), {}), ("log_normal_", (0.0, -1.0), {}),
        ("cauchy_", (0.0, -1.0), {}), ("normal_", (), {}), ("exponential_", (), {}),
        ("random_", (0, 300), {}),
    ]
    for dt in ("float32", "float64", "int64", "int32", "uint8", "bool"):
        for name, args, kw in calls:
            def run(lib):
                t = lib.zeros(64, dtype=getattr(lib, dt))
                out = getattr(t, name)(*args, **kw)
                assert out is t
                return t.numpy().copy()

            a, b = _outcome(lambda: run(torch)), _outcome(lambda: run(autograd))
            if isinstance(a, Exception) or isinstance(b, Exception):
                assert type(a) is type(b), (dt, name, args, a, b)
                continue
            assert a.dtype == b.dtype
            if name == "random_" and args == (5,):
                assert b.min() >= 0 and b.max() < 5
            if name == "bernoulli_":
                assert set(np.unique(b)) <= {0, 1}
    with pytest.raises(RuntimeError, match="0-dimension value tensor"):
        autograd.zeros(3).fill_(autograd.tensor([2.0, 3.0]))
    p = torch.zeros(2, 3).bernoulli_(torch.tensor([0.0, 1.0, 1.0]))
    q = autograd.zeros(2, 3).bernoulli_(autograd.tensor([0.0, 1.0, 1.0]))
    np.testing.assert_array_equal(q.numpy(), p.numpy())  # p = 0 and 1 are certain
    r = autograd.zeros(2000, dtype=autograd.float32).random_()
    assert r.max() <= 2 ** 24 and r.min() >= 0 and r.max() > 2 ** 20


def test_in_place_init_through_data_and_autograd_rules(torch):
    for lib in (torch, autograd):
        p = (torch.nn if lib is torch else nn).Parameter(lib.zeros(4, 3))
        v = p._version
        p.data.normal_(0.0, 0.02)                    # DCGAN's weights_init
        p.data.uniform_(-0.1, 0.1)
        p.data.fill_(0.5)
        p.data.zero_()
        p.data.copy_(lib.ones(4, 3))
        p.data.bernoulli_(0.5)
        assert p._version == v and p.requires_grad   # .data is behind autograd's back
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            p.normal_()
        with lib.no_grad():
            p.uniform_(0, 1)                         # nn.init's way
        y = p * 2.0
        y.normal_()                                  # a non-leaf: zero gradient to its past
        (y * 3).sum().backward()
        np.testing.assert_array_equal(p.grad.numpy(), np.zeros((4, 3)))
        w = lib.tensor(2.0, requires_grad=True)
        z = lib.ones(3) * 1.0
        z.fill_(w)                                   # fill_ with a 0-d tensor is differentiable
        z.sum().backward()
        assert w.grad.item() == 3.0


def test_samplers():
    autograd.manual_seed(0)
    probs = autograd.tensor([[0.0, 1.0, 3.0], [5.0, 0.0, 1.0]])
    s = autograd.multinomial(probs, 2)
    assert s.shape == (2, 2) and s.dtype == autograd.int64
    assert sorted(s[0].tolist()) == [1, 2] and sorted(s[1].tolist()) == [0, 2]
    with pytest.raises(RuntimeError, match="not enough non-negative category"):
        autograd.multinomial(autograd.tensor([5.0, 0.0, 0.0]), 2)
    with pytest.raises(RuntimeError, match="without replacement"):
        autograd.multinomial(probs, 4)
    with pytest.raises(RuntimeError, match="inf"):
        autograd.multinomial(autograd.tensor([1.0, -1.0]), 1)
    d = autograd.multinomial(autograd.tensor([1.0, 3.0]), 40_000, replacement=True)
    assert abs(d.double().mean().item() - 0.75) < 0.02
    w = autograd.tensor([0.2, 0.8]).multinomial(1)  # the Tensor method (word_language_model)
    assert w.shape == (1,)
    b = autograd.bernoulli(autograd.full((10_000,), 0.25))
    assert abs(b.mean().item() - 0.25) < 0.03
    n = autograd.normal(autograd.zeros(20_000), autograd.full((20_000,), 2.0))
    assert abs(n.std().item() - 2.0) < 0.05
    assert autograd.normal(0.0, 1.0, size=(2, 3)).shape == (2, 3)
    assert autograd.poisson(autograd.full((5,), 3.0)).dtype == autograd.float32
    autograd.manual_seed(5)
    st1 = autograd.get_rng_state()
    a = autograd.rand(3).numpy()
    autograd.set_rng_state(st1)
    np.testing.assert_array_equal(autograd.rand(3).numpy(), a)
    autograd.set_rng_state(st1)
    with autograd.random.fork_rng():
        autograd.rand(5)
    np.testing.assert_array_equal(autograd.rand(3).numpy(), a)


def test_in_place_shape_changes_and_scatter_(torch):
    for lib in (torch, autograd):
        b = lib.zeros(3, 5)
        assert b.unsqueeze_(0).shape == (1, 3, 5) and b.squeeze_().shape == (3, 5)
        assert b.t_().shape == (5, 3) and b.transpose_(0, 1).shape == (3, 5)
    idx = np.array([[0], [2], [1]])
    a = autograd.zeros(3, 4).scatter_(1, autograd.tensor(idx), 1.0)
    t = torch.zeros(3, 4).scatter_(1, torch.tensor(idx), 1.0)
    np.testing.assert_array_equal(a.numpy(), t.numpy())  # one-hot rows (pytorch/examples rpc)
    assert autograd.LongTensor(6).random_(0, 10).dtype == autograd.int64


# ================================================================================================
# devices and backends on a CPU-only install
# ================================================================================================
DEVICE_SPECS = [("cuda",), ("cuda:0",), ("mps",), ("cpu", 0), ("cpu",), ("cuda", 1),
                ("cpu:0",), ("meta",), ("xpu:1",)]
BAD_DEVICE_SPECS = [("gpu",), ("cuda:-1",), ("cuda:x",), ("cuda:0", 1), (-1,), ("",), (None,),
                    ("CPU",), ("cuda: 0",), ("cuda:01",), ("cuda", -1), ("cuda", "1"), (0,)]


def test_device_objects_match_torch(torch):
    for spec in DEVICE_SPECS:
        a, b = torch.device(*spec), autograd.device(*spec)
        assert (repr(b), str(b), b.type, b.index) == (repr(a), str(a), a.type, a.index)
        assert autograd.device(b) == b and hash(autograd.device(*spec)) == hash(b)
    for x, y in [(("cuda",), ("cuda:0",)), (("cpu",), ("cpu", 0)), (("cuda", 1), ("cuda:1",))]:
        assert (autograd.device(*x) == autograd.device(*y)) == (torch.device(*x) ==
                                                                torch.device(*y))
    for spec in BAD_DEVICE_SPECS:
        a, b = _outcome(lambda: torch.device(*spec)), _outcome(lambda: autograd.device(*spec))
        assert isinstance(a, Exception) and type(a) is type(b), (spec, a, b)
        if isinstance(a, RuntimeError):
            assert str(b) == str(a)
    assert autograd.device(type="cuda", index=2) == autograd.device("cuda:2")
    assert {autograd.device("cpu"): 1}[autograd.device("cpu")] == 1
    assert autograd.device("cpu") == "cpu"  # differs from PyTorch (False there): documented


def test_placing_anything_off_the_cpu_raises():
    x = autograd.zeros(2)
    cuda = autograd.device("cuda")
    for fn in [lambda: x.to("cuda"), lambda: x.to(cuda), lambda: x.to("cuda:1", autograd.float64),
               lambda: x.to(device="mps"), lambda: x.to(0), lambda: x.cuda(),
               lambda: autograd.zeros(2, device="cuda"), lambda: autograd.randn(2, device=cuda),
               lambda: autograd.tensor([1.0], device="cuda"), lambda: x.new_zeros(2, device="mps"),
               lambda: nn.Linear(2, 2).to("cuda"), lambda: nn.Linear(2, 2).to(cuda),
               lambda: nn.Linear(2, 2).cuda(), lambda: autograd.set_default_device("cuda")]:
        with pytest.raises(RuntimeError, match="tapegrad runs on the CPU only"):
            fn()
    with pytest.raises(RuntimeError, match="CPU only"):
        with autograd.device("meta"):
            pass
    cpu = autograd.device("cpu")
    assert x.to("cpu") is x and x.to(cpu) is x and x.cpu() is x and x.to(x) is x
    assert x.to("cpu", autograd.float64).dtype == autograd.float64
    assert x.to(device=cpu, dtype=autograd.float64, non_blocking=True).dtype == autograd.float64
    assert x.device == cpu and x.is_cpu and not x.is_cuda and x.get_device() == -1
    m = nn.Linear(2, 2)
    assert m.to(cpu) is m and m.to("cpu", autograd.float64).weight.dtype == autograd.float64
    with autograd.device("cpu"):
        assert autograd.zeros(1).device == cpu
    assert autograd.get_default_device() == cpu
    assert autograd.arange(3).to(cpu).tolist() == [0, 1, 2]


def test_cuda_accelerator_backends_as_a_cpu_only_torch(torch):
    import autograd.backends.cudnn as cudnn
    import autograd.cuda
    assert autograd.cuda.is_available() is torch.cuda.is_available() is False
    assert autograd.cuda.device_count() == torch.cuda.device_count() == 0
    assert autograd.cuda.is_initialized() is False and autograd.cuda.is_bf16_supported() is False
    for fn in ("manual_seed", "manual_seed_all"):
        assert getattr(autograd.cuda, fn)(0) is None
    for fn in ("synchronize", "empty_cache", "reset_peak_memory_stats", "ipc_collect"):
        getattr(autograd.cuda, fn)()
    assert autograd.cuda.memory_allocated() == autograd.cuda.max_memory_allocated() == 0
    for fn in (autograd.cuda.current_device, autograd.cuda.get_device_name):
        with pytest.raises(RuntimeError, match="CPU only"):
            fn()
    acc = autograd.accelerator
    assert acc.is_available() is torch.accelerator.is_available() is False
    assert acc.current_accelerator() is torch.accelerator.current_accelerator() is None
    assert acc.device_count() == 0
    for fn in (acc.current_device_index, lambda: acc.set_device_index(0), acc.synchronize):
        assert isinstance(_outcome(fn), RuntimeError)
    assert str(_outcome(torch.accelerator.current_device_index)) == str(
        _outcome(acc.current_device_index))
    for name in ("enabled", "benchmark", "deterministic", "allow_tf32"):
        assert getattr(cudnn, name) == getattr(torch.backends.cudnn, name)
    cudnn.benchmark = True
    assert autograd.backends.cudnn.benchmark is True
    cudnn.benchmark = False
    with cudnn.flags(enabled=False):
        assert autograd.backends.cudnn.enabled is False
    assert autograd.backends.cudnn.enabled is True
    assert autograd.backends.cudnn.is_available() == torch.backends.cudnn.is_available()
    assert autograd.backends.mps.is_available() is torch.backends.mps.is_available() is False
    assert autograd.backends.cuda.matmul.allow_tf32 == torch.backends.cuda.matmul.allow_tf32
    autograd.backends.cuda.matmul.allow_tf32 = True
    autograd.backends.cuda.matmul.allow_tf32 = False
    assert autograd.backends.mkldnn.is_available() in (True, False)


def test_determinism_precision_compile_jit():
    assert autograd.are_deterministic_algorithms_enabled() is False
    autograd.use_deterministic_algorithms(True, warn_only=True)
    assert autograd.are_deterministic_algorithms_enabled()
    assert autograd.is_deterministic_algorithms_warn_only_enabled()
    autograd.use_deterministic_algorithms(False)
    with pytest.raises(TypeError, match="must be bool"):
        autograd.use_deterministic_algorithms("yes")
    assert autograd.get_float32_matmul_precision() == "highest"
    autograd.set_float32_matmul_precision("high")
    assert autograd.get_float32_matmul_precision() == "high"
    with pytest.warns(UserWarning, match="no effect"):
        autograd.set_float32_matmul_precision("bogus")
    autograd.set_float32_matmul_precision("highest")
    m = nn.Linear(2, 2)
    assert autograd.compile(m) is m and autograd.compile(m, mode="max-autotune") is m

    @autograd.compile
    def f(x):
        return x * 2

    @autograd.compile(fullgraph=True)
    def g(x):
        return x + 1

    assert f(3) == 6 and g(3) == 4
    with pytest.raises(RuntimeError, match="callable"):
        autograd.compile(3)
    assert autograd.jit.script(m) is m and autograd.jit.trace(m, autograd.zeros(1, 2)) is m
    assert autograd.jit.is_scripting() is False and autograd.jit.ignore(f) is f
    with pytest.raises(NotImplementedError, match="state_dict"):
        autograd.jit.save(m, "m.pt")


def test_amp_is_a_no_op_in_a_training_loop():
    def train(use_amp):
        autograd.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
        opt = __import__("optim").SGD(model.parameters(), lr=0.1)
        scaler = autograd.amp.GradScaler("cpu", enabled=use_amp)
        x, y = autograd.randn(16, 4), autograd.randn(16, 1)
        losses = []
        for _ in range(5):
            opt.zero_grad()
            with autograd.amp.autocast(device_type="cpu", dtype=autograd.float16,
                                       enabled=use_amp):
                loss = F.mse_loss(model(x), y)
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            scaler.step(opt)
            scaler.update()
            losses.append(loss.item())
        return losses

    assert train(True) == train(False)
    assert autograd.autocast is autograd.amp.autocast
    assert autograd.cuda.amp.GradScaler().get_scale() == 1.0
    with autograd.autocast("cpu"):
        pass

    @autograd.amp.autocast("cpu")
    def h():
        return 5

    assert h() == 5


def test_pytorch_examples_device_selection_runs_unchanged():
    """The device preamble of pytorch/examples' programs (mnist, vae, dcgan ...), renamed."""
    torch = autograd
    use_accel = torch.accelerator.is_available()
    device = torch.accelerator.current_accelerator() if use_accel else torch.device("cpu")
    use_cuda = torch.cuda.is_available()
    use_mps = torch.backends.mps.is_available()
    device2 = torch.device("cuda" if use_cuda else "mps" if use_mps else "cpu")
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(1)
    torch.cuda.manual_seed_all(1)
    kwargs = {"num_workers": 1, "pin_memory": True} if use_cuda else {}
    model = nn.Linear(3, 2).to(device)
    data = torch.randn(4, 3).to(device)
    target = (torch.arange(4) % 2).to(device2)
    loss = F.cross_entropy(model(data), target)
    loss.backward()
    assert str(device) == "cpu" and kwargs == {} and model.weight.grad is not None
    torch.backends.cudnn.benchmark = False


# ================================================================================================
# PixelShuffle / PixelUnshuffle
# ================================================================================================
@settings(max_examples=30)
@given(lead=st.lists(st.integers(1, 2), max_size=2).map(tuple), c=st.integers(1, 3),
       r=st.integers(1, 3), h=st.integers(1, 3), w=st.integers(1, 3), seed=seeds)
def test_pixel_shuffle_matches_torch(torch, lead, c, r, h, w, seed):
    rng = np.random.default_rng(seed)
    for fn, shape, factor in [("pixel_shuffle", lead + (c * r * r, h, w), r),
                              ("pixel_unshuffle", lead + (c, h * r, w * r), r)]:
        x = rng.normal(size=shape)
        g = rng.normal(size=shape)  # same size as the output
        outs = []
        for lib, fns in ((torch, torch.nn.functional), (autograd, F)):
            t = lib.tensor(x, requires_grad=True)
            y = getattr(fns, fn)(t, factor)
            (y * lib.tensor(g.reshape(tuple(y.shape)))).sum().backward()
            outs.append((y.detach().numpy(), t.grad.numpy()))
        np.testing.assert_array_equal(outs[1][0], outs[0][0])
        np.testing.assert_array_equal(outs[1][1], outs[0][1])
    assert autograd.gradgradcheck(lambda t: F.pixel_shuffle(t, r) * t.sum(), (
        autograd.tensor(rng.normal(size=(1, r * r, 2, 2)), requires_grad=True),))


def test_pixel_shuffle_modules_and_errors_match_torch(torch):
    x = np.arange(2 * 8 * 3 * 3, dtype=np.float64).reshape(2, 8, 3, 3)
    m_t, m_a = torch.nn.PixelShuffle(2), nn.PixelShuffle(2)
    y = m_a(autograd.tensor(x))
    np.testing.assert_array_equal(y.numpy(), m_t(torch.tensor(x)).numpy())
    back = nn.PixelUnshuffle(2)(y)
    np.testing.assert_array_equal(back.numpy(), x)
    assert repr(m_a) == repr(m_t) and repr(nn.PixelUnshuffle(3)) == repr(
        torch.nn.PixelUnshuffle(3))
    bad = [("pixel_shuffle", (2, 5, 3, 3), 2), ("pixel_shuffle", (4, 4), 2),
           ("pixel_shuffle", (1, 4, 2, 2), 0), ("pixel_unshuffle", (1, 1, 5, 4), 2),
           ("pixel_unshuffle", (1, 1, 4, 5), 2), ("pixel_unshuffle", (4, 4), 2)]
    for fn, shape, r in bad:
        a = _outcome(lambda: getattr(torch.nn.functional, fn)(torch.zeros(shape), r))
        b = _outcome(lambda: getattr(F, fn)(autograd.zeros(shape), r))
        assert isinstance(a, RuntimeError) and type(b) is type(a), (fn, shape, a, b)
        assert str(b) == str(a)


def test_super_resolution_model_style_trains_like_torch(torch):
    """A sub-pixel convolution net in the style of pytorch/examples' super_resolution (conv,
    ReLU, conv to ``r^2`` channels, PixelShuffle), orthogonal init, Adam: same losses."""
    rng = np.random.default_rng(0)
    lo = rng.random((4, 1, 6, 6))
    hi = rng.random((4, 1, 12, 12))

    def run(lib, nn_mod, optim_mod):
        net = nn_mod.Sequential(nn_mod.Conv2d(1, 8, 3, padding=1), nn_mod.ReLU(),
                                nn_mod.Conv2d(8, 4, 3, padding=1), nn_mod.PixelShuffle(2))
        for i, p in enumerate(net.parameters()):  # identical starting weights
            with lib.no_grad():
                p.copy_(lib.tensor(np.random.default_rng(i).normal(0, 0.2, tuple(p.shape)),
                                   dtype=lib.float32))
        opt = optim_mod.Adam(net.parameters(), lr=1e-2)
        losses = []
        for _ in range(10):
            opt.zero_grad()
            loss = nn_mod.functional.mse_loss(net(lib.tensor(lo, dtype=lib.float32)),
                                              lib.tensor(hi, dtype=lib.float32))
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return np.array(losses)

    import optim
    np.testing.assert_allclose(run(autograd, nn, optim), run(torch, torch.nn, torch.optim),
                               rtol=1e-4)


# ---- index_* families, take/put, nonzero, masked_scatter, repeat_interleave ---------------------
def _both(torch, make):
    """Run ``make(lib, x, s)`` (x: a (3, 4) leaf, s: a (3, 2) leaf, float64) on both libraries:
    forward values and both gradients of a weighted sum, or the exception."""
    rng = np.random.default_rng(0)
    x0, s0 = rng.normal(size=(3, 4)), rng.normal(size=(3, 2))

    def run(lib):
        x = lib.tensor(x0, requires_grad=True)
        s = lib.tensor(s0, requires_grad=True)
        out = make(lib, x, s)
        if isinstance(out, tuple):
            return tuple(o.numpy() for o in out)
        w = lib.tensor(np.cos(np.arange(out.numel(), dtype=np.float64)).reshape(tuple(out.shape)))
        if out.requires_grad:
            (out * w).sum().backward()
        grads = [t.grad.numpy() if t.grad is not None else None for t in (x, s)]
        return out.detach().numpy(), grads

    return _outcome(lambda: run(torch)), _outcome(lambda: run(autograd))


INDEX_OPS = [
    lambda L, x, s: x.index_add(1, L.tensor([0, 0]), s, alpha=2.0),   # repeats accumulate
    lambda L, x, s: L.index_add(x, 1, L.tensor([3, 1]), s),
    lambda L, x, s: x.index_copy(1, L.tensor([2, 0]), s),
    lambda L, x, s: x.index_fill(1, L.tensor([1, 3]), -1.0),
    lambda L, x, s: x.index_fill(0, L.tensor([2]), s[0, 0]),
    lambda L, x, s: x.index_put((L.tensor([0, 0, 2]), L.tensor([1, 1, 3])), s[:, 0],
                                accumulate=True),
    lambda L, x, s: x.index_put((L.tensor([0, 2]),), s[:2, :1]),
    lambda L, x, s: x.take(L.tensor([[0, 11], [-1, 5]])),
    lambda L, x, s: x.put(L.tensor([0, 0, 7]), s[:, 1], accumulate=True),
    lambda L, x, s: x.masked_scatter(x > 0.2, s.reshape(-1).repeat(2)),
    lambda L, x, s: x.repeat_interleave(2, dim=0),
    lambda L, x, s: x.repeat_interleave(L.tensor([1, 0, 2]), dim=0),
    lambda L, x, s: x.repeat_interleave(2),
    lambda L, x, s: L.repeat_interleave(L.tensor([1, 0, 2])).double(),
    lambda L, x, s: (x > 0).nonzero().double(),
    lambda L, x, s: tuple(t.double() for t in (x > 0).nonzero(as_tuple=True)),
    lambda L, x, s: L.argwhere(x > 0).double(),
    # errors
    lambda L, x, s: x.index_add(1, L.tensor([0, 4]), s),
    lambda L, x, s: x.index_add(1, L.tensor([0, 0]), L.ones(3, 3, dtype=L.float64)),
    lambda L, x, s: x.take(L.tensor([12])),
    lambda L, x, s: x.masked_scatter(x > -10, s),
    lambda L, x, s: x.repeat_interleave(L.tensor([1, 2]), dim=0),
    lambda L, x, s: x.repeat_interleave(-1, dim=0),
]


@pytest.mark.parametrize("k", range(len(INDEX_OPS)))
def test_index_family_matches_torch(torch, k):
    a, b = _both(torch, INDEX_OPS[k])
    if not _same_outcome(a, b):
        if isinstance(a, IndexError) or "bounds" in str(a) or "source" in str(a):
            assert str(b).startswith(str(a)) or str(a) in str(b), (a, b)
        return
    if isinstance(a, tuple) and not isinstance(a[1], list):
        for u, v in zip(a, b):
            np.testing.assert_array_equal(v, u)
        return
    np.testing.assert_allclose(b[0], a[0], rtol=1e-12)
    for ga, gb in zip(a[1], b[1]):
        assert (ga is None) == (gb is None)
        if ga is not None:
            np.testing.assert_allclose(gb, ga, rtol=1e-12)


def test_index_family_in_place_forms(torch):
    for lib in (torch, autograd):
        x = lib.zeros(3, 4)
        x.index_add_(0, lib.tensor([0, 0, 2]), lib.ones(3, 4))
        x.index_fill_(1, lib.tensor([3]), 7.0)
        x.index_copy_(0, lib.tensor([1]), lib.full((1, 4), 2.0))
        x.index_put_((lib.tensor([0]), lib.tensor([0])), lib.tensor([9.0]), accumulate=True)
        x.masked_scatter_(x == 0, lib.arange(12.0))
        x.put_(lib.tensor([5]), lib.tensor([-3.0]))
        if lib is torch:
            ref = x.numpy()
        else:
            np.testing.assert_array_equal(x.numpy(), ref)
    assert autograd.zeros(2).is_pinned() is False
    with pytest.raises(RuntimeError, match="accelerator"):
        autograd.zeros(2).pin_memory()


def test_index_family_second_derivatives():
    rng = np.random.default_rng(0)
    x = autograd.tensor(rng.normal(size=(3, 4)), requires_grad=True)
    s = autograd.tensor(rng.normal(size=(3, 2)), requires_grad=True)
    i = autograd.tensor([1, 1])
    for fn in [lambda x, s: x.index_add(1, i, s) ** 2, lambda x, s: x.index_copy(1, i[:1].repeat(
               2) * 0 + autograd.tensor([0, 3]), s) ** 2,
               lambda x, s: x.masked_scatter(x > 0, s.reshape(-1).repeat(2)) ** 2,
               lambda x, s: x.take(autograd.tensor([0, 0, 5])) * s.sum(),
               lambda x, s: x.repeat_interleave(autograd.tensor([2, 0, 1]), dim=0) * s.sum(),
               lambda x, s: x[[0, 0], :, None][:, [1, 2]] * s.sum()]:
        assert autograd.gradcheck(fn, (x, s))
        assert autograd.gradgradcheck(fn, (x, s))


def test_version_module():
    import autograd.version
    assert autograd.version.__version__ == autograd.__version__
    assert autograd.version.cuda is None


def test_torch_device_objects_are_understood(torch):
    assert autograd.device(torch.device("cpu")) == autograd.device("cpu")
    assert autograd.device(torch.device("cuda", 1)) == autograd.device("cuda:1")
    assert autograd.zeros(2).to(torch.device("cpu")).device == autograd.device("cpu")
    with pytest.raises(RuntimeError, match="CPU only"):
        autograd.zeros(2).to(torch.device("cuda"))


def test_getitem_graph_nodes_are_single_numpy_indices():
    """Each GetItem node holds one NumPy index (the ONNX exporter reads them so): ints and
    advanced items together become a basic node followed by an advanced one."""
    x = autograd.randn(3, 4, 5, requires_grad=True)
    y = x[1, :, [0, 1]]
    assert y.shape == (4, 2)
    node = y.grad_fn
    assert node.advanced is True and node.next[0].advanced is False
    z = x[:, [0, 2]]
    assert z.grad_fn.advanced is True and z.grad_fn.next[0] is x


def test_layers_with_a_device_argument_refuse_other_devices():
    for make in (lambda d: nn.Bilinear(2, 2, 2, device=d), lambda d: nn.BatchNorm1d(3, device=d),
                 lambda d: nn.LSTM(2, 3, device=d), lambda d: nn.GRUCell(2, 3, device=d),
                 lambda d: nn.PReLU(device=d), lambda d: nn.MultiheadAttention(4, 2, device=d)):
        make("cpu")
        with pytest.raises(RuntimeError, match="CPU only"):
            make("cuda")
