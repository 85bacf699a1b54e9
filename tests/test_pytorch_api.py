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


@settings(max_examples=150)
@given(data=st.data(), shape=st.lists(st.integers(1, 4), min_size=0, max_size=4).map(tuple))
def test_getitem_matches_torch(torch, data, shape):
    items, wrap = data.draw(torch_indices(shape))
    x = np.arange(float(np.prod(shape))).reshape(shape) + 1.0
    a = _outcome(lambda: _run_getitem(torch, x, items, wrap))
    b = _outcome(lambda: _run_getitem(autograd, x, items, wrap))
    if _same_outcome(a, b):
        assert a[0] == b[0], (items, a[0], b[0])
        np.testing.assert_array_equal(b[1], a[1])
        np.testing.assert_array_equal(b[2], a[2])  # repeated indices accumulate


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
    x = np.arange(60.0).reshape(3, 4, 5)

    def run(lib):
        t = lib.tensor(x, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = t[index]
        out.pow(2).sum().backward()
        return tuple(out.shape), out.detach().numpy(), t.grad.numpy()

    a, b = _outcome(lambda: run(torch)), _outcome(lambda: run(autograd))
    if _same_outcome(a, b):
        assert a[0] == b[0]
        np.testing.assert_array_equal(b[1], a[1])
        np.testing.assert_array_equal(b[2], a[2])
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
        def run(lib):
            t = lib.tensor(x, requires_grad=True)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = t[make(lib.tensor)]
            out.pow(2).sum().backward()
            return tuple(out.shape), out.detach().numpy(), t.grad.numpy()

        a, b = _outcome(lambda: run(torch)), _outcome(lambda: run(autograd))
        if _same_outcome(a, b):
            assert a[0] == b[0]
            np.testing.assert_array_equal(b[1], a[1])
            np.testing.assert_array_equal(b[2], a[2])
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
