"""The losses of ``nn.functional`` / ``nn`` against PyTorch, by gradcheck, for stability at huge
logits, and for their errors.

Each case is written once against a namespace ``F`` and runs unchanged on ``nn.functional`` and
on ``torch.nn.functional``: the same random float32/float64 inputs (hypothesis-drawn shapes and
seeds) go through both; the values, output shapes and dtypes, and the input gradients of a
random vector-Jacobian product must agree, for every reduction.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
import nn
import nn.functional as F
from autograd import Tensor, gradcheck
from conftest import check_grad, seeds, shapes
from _nn_helpers import _t64

TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-9, atol=1e-11)}
REDUCTIONS = ("mean", "sum", "none")


# ---- input makers (float64 NumPy arrays; cast to the tested dtype later) -----------------------
def normal(rng, shape, scale=1.0):
    return rng.standard_normal(shape) * scale


def unit(rng, shape, lo=0.0, hi=1.0):
    return rng.uniform(lo, hi, shape)


def signs(rng, shape):
    return rng.choice([-1.0, 1.0], shape)


def log_probs(rng, shape):
    x = rng.standard_normal(shape)
    if not x.ndim:
        return np.asarray(0.0)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def last_dim(shape):
    return shape[-1:] if shape else ()


# ---- cases --------------------------------------------------------------------------------------
# name -> (min_dims, max_dims, reductions, make(rng, shape, opt) -> (arrays, requires_grad flags),
#          call(F, tensors, reduction, opt), options strategy)
CASES = {}


def case(name, make, call, dims=(0, 3), reductions=REDUCTIONS, opts=st.just(None)):
    CASES[name] = (dims, reductions, make, call, opts)


def _pair_normal(rng, s, opt):
    return [normal(rng, s), normal(rng, s)], (True, True)


case("l1_loss", _pair_normal, lambda F, a, r, o: F.l1_loss(a[0], a[1], reduction=r))
case("mse_loss", _pair_normal, lambda F, a, r, o: F.mse_loss(a[0], a[1], reduction=r))
case("l1_loss_weight",
     lambda rng, s, o: ([normal(rng, s), normal(rng, s), unit(rng, s, 0.1, 2)],
                        (True, True, False)),
     lambda F, a, r, o: F.l1_loss(a[0], a[1], reduction=r, weight=a[2]))
case("mse_loss_weight",
     lambda rng, s, o: ([normal(rng, s), normal(rng, s), unit(rng, s, 0.1, 2)],
                        (True, True, False)),
     lambda F, a, r, o: F.mse_loss(a[0], a[1], reduction=r, weight=a[2]))
case("smooth_l1_loss", lambda rng, s, o: ([normal(rng, s, 2), normal(rng, s)], (True, True)),
     lambda F, a, r, o: F.smooth_l1_loss(a[0], a[1], reduction=r, beta=o),
     opts=st.sampled_from([0.0, 0.5, 1.0, 2.0]))
case("huber_loss", lambda rng, s, o: ([normal(rng, s, 2), normal(rng, s)], (True, True)),
     lambda F, a, r, o: F.huber_loss(a[0], a[1], reduction=r, delta=o),
     opts=st.sampled_from([0.3, 1.0, 2.5]))
case("huber_loss_weight",
     lambda rng, s, o: ([normal(rng, s, 2), normal(rng, s), unit(rng, s, 0.1, 2)],
                        (True, True, False)),
     lambda F, a, r, o: F.huber_loss(a[0], a[1], reduction=r, weight=a[2]))


def _bce_make(rng, s, opt):
    # the target also requires grad: kept 0.01 inside [0, 1], far beyond gradcheck's eps (1e-6);
    # a target within eps of 0 or 1 is perturbed outside [0, 1] and the loss raises
    arrays = [unit(rng, s, 0.02, 0.98), unit(rng, s, 0.01, 0.99)]
    if opt:  # a weight over the last dimension
        arrays.append(unit(rng, last_dim(s), 0.1, 2))
    return arrays, (True, True, False)[:len(arrays)]


case("binary_cross_entropy", _bce_make,
     lambda F, a, r, o: F.binary_cross_entropy(a[0], a[1], a[2] if o else None, reduction=r),
     opts=st.booleans())


def _bcel_make(rng, s, opt):
    arrays = [normal(rng, s, 3), unit(rng, s)]
    if opt in ("weight", "both"):
        arrays.append(unit(rng, last_dim(s), 0.1, 2))
    if opt in ("pos_weight", "both"):
        arrays.append(unit(rng, last_dim(s), 0.1, 3))
    return arrays, (True, True, False, False)[:len(arrays)]


def _bcel_call(F, a, r, o):
    w = a[2] if o in ("weight", "both") else None
    pw = a[-1] if o in ("pos_weight", "both") else None
    return F.binary_cross_entropy_with_logits(a[0], a[1], weight=w, pos_weight=pw, reduction=r)


case("binary_cross_entropy_with_logits", _bcel_make, _bcel_call,
     opts=st.sampled_from([None, "weight", "pos_weight", "both"]))


def _kl_make(rng, s, log_target):
    if log_target:
        return [log_probs(rng, s), log_probs(rng, s)], (True, True)
    t = np.exp(log_probs(rng, s))
    return [log_probs(rng, s), t], (True, True)


case("kl_div", _kl_make,
     lambda F, a, r, o: F.kl_div(a[0], a[1], reduction=r, log_target=o),
     reductions=REDUCTIONS + ("batchmean",), opts=st.booleans())


def _kl_zero_make(rng, s, opt):  # targets with exact zeros: 0 log 0 = 0
    t = unit(rng, s) * (rng.random(s) < 0.5)
    return [log_probs(rng, s), t], (True, False)


case("kl_div_zero_target", _kl_zero_make, lambda F, a, r, o: F.kl_div(a[0], a[1], reduction=r),
     reductions=("sum", "none", "batchmean"))


def at_least_2_features(s):
    """``s`` with its last (feature) dimension at least 2: with one feature the cosine is a
    constant +-1, and float32 rounding leaves gradients of ~1e-5 / |x| where the true one is 0."""
    return s[:-1] + (max(s[-1], 2),)


def _cos_emb_make(rng, s, margin):
    s = at_least_2_features(s)
    n_shape = s[:-1]
    return [normal(rng, s), normal(rng, s), signs(rng, n_shape)], (True, True, False)


case("cosine_embedding_loss", _cos_emb_make,
     lambda F, a, r, o: F.cosine_embedding_loss(a[0], a[1], a[2], margin=o, reduction=r),
     dims=(1, 2), opts=st.sampled_from([0.0, 0.2, -0.3]))
case("margin_ranking_loss",
     lambda rng, s, o: ([normal(rng, s), normal(rng, s), signs(rng, s)], (True, True, True)),
     lambda F, a, r, o: F.margin_ranking_loss(a[0], a[1], a[2], margin=o, reduction=r),
     dims=(0, 1), opts=st.sampled_from([0.0, 0.5]))


def _triplet_make(rng, s, opt):
    return [normal(rng, s), normal(rng, s), normal(rng, s)], (True, True, True)


case("triplet_margin_loss", _triplet_make,
     lambda F, a, r, o: F.triplet_margin_loss(a[0], a[1], a[2], margin=o[0], p=o[1], swap=o[2],
                                              reduction=r),
     dims=(1, 2), opts=st.tuples(st.sampled_from([0.5, 1.0, 3.0]), st.sampled_from([1, 2, 3]),
                                 st.booleans()))
case("hinge_embedding_loss",
     lambda rng, s, o: ([normal(rng, s), signs(rng, s)], (True, False)),
     lambda F, a, r, o: F.hinge_embedding_loss(a[0], a[1], margin=o, reduction=r),
     opts=st.sampled_from([0.5, 1.0]))
case("soft_margin_loss",
     lambda rng, s, o: ([normal(rng, s, 3), signs(rng, s)], (True, False)),
     lambda F, a, r, o: F.soft_margin_loss(a[0], a[1], reduction=r))


def _mlsm_make(rng, s, opt):
    arrays = [normal(rng, s, 3), (rng.random(s) < 0.5).astype(np.float64)]
    if opt:
        arrays.append(unit(rng, last_dim(s), 0.1, 2))
    return arrays, (True, False, False)[:len(arrays)]


case("multilabel_soft_margin_loss", _mlsm_make,
     lambda F, a, r, o: F.multilabel_soft_margin_loss(a[0], a[1], a[2] if o else None,
                                                      reduction=r),
     dims=(2, 2), opts=st.booleans())


def _poisson_make(rng, s, opt):
    log_input, _ = opt
    x = normal(rng, s) if log_input else unit(rng, s, 0.2, 3)
    return [x, rng.poisson(2.0, s).astype(np.float64)], (True, False)


case("poisson_nll_loss", _poisson_make,
     lambda F, a, r, o: F.poisson_nll_loss(a[0], a[1], log_input=o[0], full=o[1], reduction=r),
     opts=st.tuples(st.booleans(), st.booleans()))


def _gauss_make(rng, s, var_kind):
    v_shape = {"same": s, "last1": s[:-1] + (1,), "fewer": s[:-1]}[var_kind]
    return [normal(rng, s), normal(rng, s), unit(rng, v_shape, 0.2, 2)], (True, True, True)


case("gaussian_nll_loss", _gauss_make,
     lambda F, a, r, o: F.gaussian_nll_loss(a[0], a[1], a[2], reduction=r),
     dims=(1, 3), opts=st.sampled_from(["same", "last1", "fewer"]))
case("gaussian_nll_loss_full",
     lambda rng, s, o: ([normal(rng, s), normal(rng, s)], (True, True)),
     lambda F, a, r, o: F.gaussian_nll_loss(a[0], a[1], 0.7, full=True, reduction=r),
     dims=(1, 3))
case("pairwise_distance",
     lambda rng, s, o: ([normal(rng, s), normal(rng, s)], (True, True)),
     lambda F, a, r, o: F.pairwise_distance(a[0], a[1], p=o[0], keepdim=o[1]),
     dims=(1, 3), reductions=("none",),
     opts=st.tuples(st.sampled_from([1.0, 2.0, 3.0, math.inf]), st.booleans()))
case("cosine_similarity",
     lambda rng, s, o: ([normal(rng, at_least_2_features(s)),
                         normal(rng, at_least_2_features(s)[-1:])], (True, True)),
     lambda F, a, r, o: F.cosine_similarity(a[0], a[1], dim=-1),
     dims=(1, 3), reductions=("none",))


# ---- the comparison -----------------------------------------------------------------------------
def _run(M, arrays, flags, call, reduction, opt, to_tensor):
    ts = [to_tensor(a, f) for a, f in zip(arrays, flags)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = call(M, ts, reduction, opt)
    return ts, out


def compare_with_torch(torch, name, shape, seed, dtype, reduction, opt):
    dims, reductions, make, call, _ = CASES[name]
    rng = np.random.default_rng(seed)
    arrays, flags = make(rng, shape, opt)
    arrays = [np.asarray(a, dtype=dtype) for a in arrays]
    ts, out = _run(F, arrays, flags, call, reduction, opt,
                   lambda a, f: Tensor(a.copy(), requires_grad=f))
    tts, tout = _run(torch.nn.functional, arrays, flags, call, reduction, opt,
                     lambda a, f: torch.tensor(a.copy(), requires_grad=f))
    tol = TOL[dtype]
    assert out.shape == tuple(tout.shape), (name, out.shape, tuple(tout.shape))
    assert out.dtype == np.dtype(str(tout.dtype).replace("torch.", "")), (out.dtype, tout.dtype)
    np.testing.assert_allclose(out._data, tout.detach().numpy(), **tol, err_msg=name)
    g = rng.standard_normal(out.shape).astype(dtype)
    out.backward(Tensor(g))
    tout.backward(torch.tensor(g))
    for i, (t, tt) in enumerate(zip(ts, tts)):
        if flags[i]:
            assert t.grad is not None, (name, i)
            np.testing.assert_allclose(t.grad._data, tt.grad.numpy(), **tol,
                                       err_msg=f"{name}: gradient of input {i}")


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data(), seed=seeds, dtype=st.sampled_from([np.float32, np.float64]))
def test_loss_matches_torch(torch, name, data, seed, dtype):
    dims, reductions, _, _, opts = CASES[name]
    shape = data.draw(shapes(min_dims=dims[0], max_dims=dims[1]), label="shape")
    reduction = data.draw(st.sampled_from(reductions), label="reduction")
    opt = data.draw(opts, label="opt")
    compare_with_torch(torch, name, shape, seed, dtype, reduction, opt)


def test_unbatched_forms_match_torch(torch):
    # 1-D inputs with a 0-d target (cosine embedding), 1-D triplets, 1-D multilabel input
    for name, shape in [("cosine_embedding_loss", (5,)), ("triplet_margin_loss", (4,)),
                        ("multilabel_soft_margin_loss", (3,)), ("pairwise_distance", (4,))]:
        for reduction in CASES[name][1]:
            opt = {"triplet_margin_loss": (1.0, 2, True), "pairwise_distance": (2.0, False),
                   "cosine_embedding_loss": 0.1, "multilabel_soft_margin_loss": True}[name]
            compare_with_torch(torch, name, shape, 7, np.float64, reduction, opt)


# ---- gradcheck (float64, first and second order) ------------------------------------------------
@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data(), seed=seeds)
def test_loss_gradcheck(name, data, seed):
    dims, reductions, make, call, opts = CASES[name]
    shape = data.draw(shapes(min_dims=dims[0], max_dims=dims[1], max_side=3), label="shape")
    reduction = data.draw(st.sampled_from(reductions), label="reduction")
    opt = data.draw(opts, label="opt")
    rng = np.random.default_rng(seed)
    arrays, flags = make(rng, shape, opt)
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    ts = [Tensor(a, requires_grad=f) for a, f in zip(arrays, flags)]

    def fn(*xs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call(F, list(xs), reduction, opt)

    if name in KINKED:
        _avoid_kinks(name, ts)
    check_grad(fn, *ts, gradgrad=name in GRADGRAD)


# piecewise losses: draws near a kink are skipped (finite differences straddle two branches)
KINKED = {"l1_loss", "l1_loss_weight", "smooth_l1_loss", "huber_loss", "huber_loss_weight",
          "margin_ranking_loss", "triplet_margin_loss", "hinge_embedding_loss",
          "cosine_embedding_loss"}
# smooth losses whose second derivatives are checked too
GRADGRAD = {"mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
            "gaussian_nll_loss", "cosine_similarity", "soft_margin_loss",
            "multilabel_soft_margin_loss", "poisson_nll_loss"}


def _avoid_kinks(name, ts):
    """Skip draws that sit within finite-difference reach of a kink (|d| = beta, d = 0, the
    hinge's corner): gradcheck's central differences are not defined there."""
    from hypothesis import assume
    x = [t._data for t in ts]
    if name.startswith(("l1", "smooth_l1", "huber")):
        d = np.abs(x[0] - x[1])
        assume(np.all(d > 1e-3))
        assume(np.all(np.abs(d - 0.3) > 1e-3) and np.all(np.abs(d - 1.0) > 1e-3)
               and np.all(np.abs(d - 2.5) > 1e-3) and np.all(np.abs(d - 0.5) > 1e-3)
               and np.all(np.abs(d - 2.0) > 1e-3))
        return
    if name == "margin_ranking_loss":
        for m in (0.0, 0.5):
            assume(np.all(np.abs(-x[2] * (x[0] - x[1]) + m) > 1e-3))
    elif name == "hinge_embedding_loss":
        for m in (0.5, 1.0):
            assume(np.all(np.abs(m - x[0]) > 1e-3))
    elif name == "triplet_margin_loss":
        for p in (1, 2, 3):
            dp = np.linalg.norm(x[0] - x[1] + 1e-6, ord=p, axis=-1)
            dn = np.linalg.norm(x[0] - x[2] + 1e-6, ord=p, axis=-1)
            ds = np.linalg.norm(x[1] - x[2] + 1e-6, ord=p, axis=-1)
            assume(np.all(np.abs(dn - ds) > 1e-3))
            for m in (0.5, 1.0, 3.0):
                assume(np.all(np.abs(dp - dn + m) > 1e-3) and np.all(np.abs(dp - ds + m) > 1e-3))
            assume(np.all(np.abs(x[0] - x[1]) > 1e-3) and np.all(np.abs(x[0] - x[2]) > 1e-3)
                   and np.all(np.abs(x[1] - x[2]) > 1e-3))
    elif name == "cosine_embedding_loss":
        x1, x2 = x[0], x[1]
        cos = (x1 * x2).sum(-1) / np.sqrt(((x1 * x1).sum(-1) + 1e-12)
                                          * ((x2 * x2).sum(-1) + 1e-12))
        for m in (0.0, 0.2, -0.3):
            assume(np.all(np.abs(cos - m) > 1e-3))


# ---- numerical stability at logits of magnitude 1e4 ---------------------------------------------
BIG = np.array([[1e4, -1e4, 3e4], [-2e4, 0.5, 1e4]])


def _finite_value_and_grad(loss, x):
    loss.backward()
    assert np.all(np.isfinite(loss._data)), loss._data
    assert np.all(np.isfinite(x.grad._data)), x.grad._data


def _stable_and_like_torch(torch, dtype, ours, theirs):
    """``ours(x)``, a tapegrad loss of a leaf holding ``BIG`` (logits of magnitude 1e4), has a
    finite value and gradient, and both agree with ``theirs(tx)``, PyTorch's loss of the same
    leaf."""
    x = Tensor(BIG.astype(dtype), requires_grad=True)
    tx = torch.tensor(BIG.astype(dtype), requires_grad=True)
    loss = ours(x)
    _finite_value_and_grad(loss, x)
    tl = theirs(tx)
    tl.backward()
    np.testing.assert_allclose(loss.item(), tl.item(), rtol=1e-6)
    np.testing.assert_allclose(x.grad._data, tx.grad.numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_stable_at_1e4(torch, dtype):
    for target in (np.zeros_like(BIG), np.ones_like(BIG), np.full_like(BIG, 0.5)):
        for pw in (None, np.array([0.5, 2.0, 3.0])):
            kw = {} if pw is None else {"pos_weight": Tensor(pw.astype(dtype))}
            tkw = {} if pw is None else {"pos_weight": torch.tensor(pw.astype(dtype))}
            _stable_and_like_torch(
                torch, dtype,
                lambda x: F.binary_cross_entropy_with_logits(x, Tensor(target.astype(dtype)),
                                                             **kw),
                lambda tx: torch.nn.functional.binary_cross_entropy_with_logits(
                    tx, torch.tensor(target.astype(dtype)), **tkw))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_stable_at_1e4(torch, dtype):
    target = np.array([1, 0])
    _stable_and_like_torch(torch, dtype, lambda x: F.cross_entropy(x, Tensor(target)),
                           lambda tx: torch.nn.functional.cross_entropy(tx, torch.tensor(target)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_of_log_softmax_stable_at_1e4(torch, dtype, log_target):
    tgt_logits = BIG[::-1].copy().astype(dtype)
    tgt_logp = autograd.log_softmax(Tensor(tgt_logits), 1)
    target = tgt_logp if log_target else tgt_logp.exp()
    tt = torch.log_softmax(torch.tensor(tgt_logits), 1)
    _stable_and_like_torch(
        torch, dtype,
        lambda logits: F.kl_div(autograd.log_softmax(logits, 1), target, reduction="batchmean",
                                log_target=log_target),
        lambda tx: torch.nn.functional.kl_div(torch.log_softmax(tx, 1),
                                              tt if log_target else tt.exp(),
                                              reduction="batchmean", log_target=log_target))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_soft_margin_is_pytorchs_formula_at_large_margins(dtype):
    """``log1p(exp(-y x))`` as PyTorch computes it: inf (gradient NaN) where ``exp``
    overflows, PyTorch's values elsewhere (it used to be a finite softplus there)."""
    y = np.array([[1.0, -1.0, 1.0], [-1.0, 1.0, -1.0], [1.0, 1.0, -1.0]])
    xs = np.concatenate([BIG, [[80.0, -80.0, 700.0]]]).astype(dtype)
    x = Tensor(xs, requires_grad=True)
    loss = F.soft_margin_loss(x, Tensor(y.astype(dtype)), reduction="none")
    loss.sum().backward()
    with np.errstate(over="ignore", invalid="ignore"):
        z = np.exp(-y * xs.astype(np.float64))
        want, grad = np.log1p(z), -y * z / (1 + z)
    if dtype == np.float32:   # exp overflows past 88.7 in float32
        want[(-y * xs) > 88.7], grad[(-y * xs) > 88.7] = np.inf, np.nan
    for got, ref in ((loss._data, want), (x.grad._data, grad)):
        assert got.dtype == dtype
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
        np.testing.assert_allclose(got[~np.isnan(ref)], ref[~np.isnan(ref)], rtol=1e-6)
    assert np.isinf(loss._data[1, 2]) and np.isnan(x.grad._data[1, 2])  # -y x = 1e4


def test_soft_margin_matches_torch_where_exp_overflows(torch):
    for dtype in (np.float32, np.float64):
        xs = np.array([1e4, -1e4, 100.0, -100.0, 0.5, np.inf, -np.inf, np.nan], dtype=dtype)
        y = np.array([1.0, 1.0, -1.0, -1.0, 1.0, -1.0, -1.0, 1.0], dtype=dtype)
        x, tx = Tensor(xs, requires_grad=True), torch.tensor(xs, requires_grad=True)
        ours = F.soft_margin_loss(x, Tensor(y), reduction="none")
        ref = torch.nn.functional.soft_margin_loss(tx, torch.from_numpy(y), reduction="none")
        ours.sum().backward()
        ref.sum().backward()
        for got, want in ((ours._data, ref.detach().numpy()), (x.grad._data, tx.grad.numpy())):
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-40)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softplus_based_losses_stable_at_1e4(dtype):
    y = np.array([[1.0, -1.0, 1.0], [-1.0, 1.0, -1.0]])
    x = Tensor(BIG.astype(dtype), requires_grad=True)
    loss = F.hinge_embedding_loss(x, Tensor(y.astype(dtype)))
    _finite_value_and_grad(loss, x)
    x = Tensor(BIG.astype(dtype) / 1e3, requires_grad=True)  # log-rates -20..30
    loss = F.poisson_nll_loss(x, Tensor(np.ones_like(BIG, dtype=dtype)))
    _finite_value_and_grad(loss, x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_multilabel_soft_margin_stable_at_1e4(torch, dtype):
    y = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]], dtype=dtype)
    _stable_and_like_torch(
        torch, dtype, lambda x: F.multilabel_soft_margin_loss(x, Tensor(y)),
        lambda tx: torch.nn.functional.multilabel_soft_margin_loss(tx, torch.tensor(y)))


def test_bce_probabilities_at_the_edges(torch):
    # input exactly 0 or 1: the log is clamped at -100 and the gradient's denominator at 1e-12
    x = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.3])
    ours = Tensor(x, requires_grad=True)
    loss = F.binary_cross_entropy(ours, Tensor(y), reduction="sum")
    loss.backward()
    tx = torch.tensor(x, requires_grad=True)
    tl = torch.nn.functional.binary_cross_entropy(tx, torch.tensor(y), reduction="sum")
    tl.backward()
    np.testing.assert_allclose(loss.item(), tl.item(), rtol=1e-12)
    # +-1e12 = (x - y) / 1e-12 (PyTorch's 1e-12 is rounded to float32: a 4e-9 difference)
    np.testing.assert_allclose(ours.grad._data, tx.grad.numpy(), rtol=1e-8)


def test_cosine_similarity_of_zero_vector_has_finite_gradient(torch):
    x1 = np.zeros((2, 3))
    x1[1] = [1.0, 2.0, 3.0]
    x2 = np.array([[1.0, 0.5, -1.0], [0.0, 1.0, 1.0]])
    a, b = Tensor(x1, requires_grad=True), Tensor(x2, requires_grad=True)
    F.cosine_similarity(a, b).sum().backward()
    ta, tb = torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)
    torch.nn.functional.cosine_similarity(ta, tb).sum().backward()
    np.testing.assert_allclose(a.grad._data, ta.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b.grad._data, tb.grad.numpy(), rtol=1e-9, atol=1e-12)


# ---- errors -------------------------------------------------------------------------------------
def _t(*shape):
    return Tensor(np.random.default_rng(0).uniform(0.1, 0.9, shape), requires_grad=True)


BAD = [
    # (call, the exception PyTorch raises too, words our message must contain)
    (lambda F, t: F.l1_loss(t(3, 4), t(3)), RuntimeError, ["l1_loss", "(3, 4)", "(3,)"]),
    (lambda F, t: F.mse_loss(t(3, 4), t(2, 4)), RuntimeError, ["mse_loss", "(3, 4)", "(2, 4)"]),
    (lambda F, t: F.smooth_l1_loss(t(3, 4), t(3)), RuntimeError, ["smooth_l1_loss", "(3,)"]),
    (lambda F, t: F.huber_loss(t(3, 4), t(3)), RuntimeError, ["huber_loss", "(3, 4)"]),
    (lambda F, t: F.binary_cross_entropy(t(3, 4), t(4)), ValueError,
     ["binary_cross_entropy", "(4,)", "(3, 4)"]),
    (lambda F, t: F.binary_cross_entropy_with_logits(t(3, 4), t(4)), ValueError,
     ["binary_cross_entropy_with_logits", "(4,)", "(3, 4)"]),
    (lambda F, t: F.binary_cross_entropy_with_logits(t(3, 4), t(3, 4), pos_weight=t(3)),
     RuntimeError, ["pos_weight", "(3,)", "(3, 4)"]),
    (lambda F, t: F.binary_cross_entropy(t(3, 4), t(3, 4), weight=t(5)), RuntimeError,
     ["weight", "(5,)", "(3, 4)"]),
    (lambda F, t: F.kl_div(t(3, 4), t(3), reduction="batchmean"), RuntimeError,
     ["kl_div", "(3, 4)", "(3,)"]),
    (lambda F, t: F.cosine_embedding_loss(t(3, 4), t(3, 5), t(3)), RuntimeError,
     ["cosine_embedding_loss", "(3, 4)", "(3, 5)"]),
    (lambda F, t: F.cosine_embedding_loss(t(3, 4), t(3, 4), t(4)), RuntimeError,
     ["cosine_embedding_loss", "(4,)"]),
    (lambda F, t: F.cosine_embedding_loss(t(3, 4, 2), t(3, 4, 2), t(3)), RuntimeError,
     ["cosine_embedding_loss", "(3, 4, 2)"]),
    (lambda F, t: F.margin_ranking_loss(t(3), t(3, 1), t(3)), RuntimeError,
     ["margin_ranking_loss", "(3, 1)"]),
    (lambda F, t: F.margin_ranking_loss(t(3), t(3), t(4)), RuntimeError,
     ["margin_ranking_loss", "(4,)"]),
    (lambda F, t: F.triplet_margin_loss(t(3, 4), t(3, 4), t(3)), RuntimeError,
     ["triplet_margin_loss", "(3,)"]),
    (lambda F, t: F.triplet_margin_loss(t(3, 4), t(3, 5), t(3, 4)), RuntimeError,
     ["triplet_margin_loss", "(3, 5)"]),
    (lambda F, t: F.triplet_margin_loss(t(3, 4), t(3, 4), t(3, 4), margin=0), ValueError,
     ["margin"]),
    (lambda F, t: F.smooth_l1_loss(t(3), t(3), beta=-1), RuntimeError, ["beta"]),
    (lambda F, t: F.huber_loss(t(3), t(3), delta=0), RuntimeError, ["delta"]),
    (lambda F, t: F.l1_loss(t(3), t(3), reduction="avg"), ValueError, ["avg"]),
    (lambda F, t: F.kl_div(t(3), t(3), reduction="avg"), ValueError, ["avg"]),
    (lambda F, t: F.binary_cross_entropy(t(3) + 1, t(3)), RuntimeError, ["between 0 and 1"]),
    (lambda F, t: F.gaussian_nll_loss(t(3, 4), t(3, 4), t(3, 2)), ValueError, ["var"]),
    (lambda F, t: F.gaussian_nll_loss(t(3, 4), t(3, 4), -t(3, 4)), ValueError, ["var"]),
    (lambda F, t: F.cosine_similarity(t(3, 4), t(2, 4)), RuntimeError, ["(3, 4)", "(2, 4)"]),
]


@pytest.mark.parametrize("i", range(len(BAD)))
def test_bad_arguments_raise_like_torch(torch, i):
    call, exc, words = BAD[i]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc) as info:
            call(F, _t)
        for w in words:
            assert w in str(info.value), (w, str(info.value))
        # PyTorch raises the same exception type (ours may also be a ValueError)
        rng = np.random.default_rng(0)
        with pytest.raises(exc):
            call(torch.nn.functional,
                 lambda *s: torch.tensor(rng.uniform(0.1, 0.9, s), requires_grad=True))


def test_shape_errors_are_value_errors_too():
    with pytest.raises(ValueError, match=r"l1_loss.*\(3, 4\).*\(3,\)"):
        F.l1_loss(_t(3, 4), _t(3))
    with pytest.raises(F.LossArgumentError):
        F.margin_ranking_loss(_t(3), _t(3, 1), _t(3))


def test_broadcast_target_warns_like_torch(torch):
    x, y = _t(3, 4), _t(4)
    for fn in (F.l1_loss, F.mse_loss, F.smooth_l1_loss, F.huber_loss, F.soft_margin_loss):
        with pytest.warns(UserWarning, match="target size"):
            out = fn(x, y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = getattr(torch.nn.functional, fn.__name__)(torch.tensor(x._data),
                                                             torch.tensor(y._data))
        np.testing.assert_allclose(out.item(), ref.item(), rtol=1e-12)


def test_non_tensor_input_is_a_type_error():
    with pytest.raises(TypeError, match="l1_loss"):
        F.l1_loss(np.ones(3), _t(3))
    with pytest.raises(NotImplementedError, match="binary_cross_entropy_with_logits.*int64"):
        F.binary_cross_entropy_with_logits(Tensor(np.ones(3, dtype=np.int64)), _t(3))


def test_integer_and_bool_inputs_follow_pytorch():
    """PyTorch promotes integer inputs in some losses (mse, l1, smooth_l1, poisson, the
    distances...), refuses them in others; bool is refused where its subtraction is."""
    ints = Tensor(np.array([[1, 2], [3, 4]]))
    y = Tensor(np.array([[0.5, 2.0], [1.0, 4.5]], np.float32), requires_grad=True)
    for fn, want in ((F.mse_loss, (0.25 + 4 + 0.25) / 4), (F.l1_loss, (0.5 + 2 + 0.5) / 4),
                     (F.smooth_l1_loss, (0.125 + 1.5 + 0.125) / 4)):
        out = fn(ints, y)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out.item(), want, rtol=1e-6)
        out.backward()
    assert F.mse_loss(ints > 2, y).dtype == np.float32      # bool too, as PyTorch
    np.testing.assert_allclose(F.pairwise_distance(ints, y)._data,
                               np.linalg.norm(ints._data - y._data + 1e-6, axis=1), rtol=1e-6)
    with pytest.raises(RuntimeError, match="l1_loss.*bool"):
        F.l1_loss(ints > 2, y)
    with pytest.raises(RuntimeError, match="huber_loss.*int64"):
        F.huber_loss(ints, y)
    with pytest.raises(RuntimeError, match="kl_div: Integral.*int64"):
        F.kl_div(ints, y, reduction="batchmean")
    with pytest.raises(NotImplementedError, match="multilabel_soft_margin_loss.*int64"):
        F.multilabel_soft_margin_loss(ints, y)
    half = Tensor(np.ones((2, 2), np.float16) / 2)
    for fn in (F.huber_loss, F.binary_cross_entropy):   # PyTorch: no dtype promotion here
        with pytest.raises(RuntimeError, match=fn.__name__ + ".*float16.*float32"):
            fn(half, Tensor(np.ones((2, 2), np.float32) / 2))
    assert F.soft_margin_loss(half, Tensor(np.ones((2, 2), np.float32))).dtype == np.float16
    assert F.binary_cross_entropy_with_logits(
        Tensor(np.ones(2)), Tensor(np.ones(2, np.float32))).dtype == np.float32
    out = F.multilabel_soft_margin_loss(Tensor(np.zeros((2, 3, 4))), Tensor(np.ones((2, 3, 4))),
                                        reduction="none")
    assert out.shape == (2, 3)     # any rank: the last dim holds the classes (PyTorch)
    np.testing.assert_allclose(out._data, np.log(2))


# ---- legacy size_average / reduce ---------------------------------------------------------------
@pytest.mark.parametrize("size_average,reduce,expected", [
    (None, False, "none"), (False, None, "sum"), (True, True, "mean"), (False, False, "none"),
    (True, None, "mean")])
def test_legacy_size_average_reduce(size_average, reduce, expected):
    x, y = _t(2, 3), _t(2, 3)
    with pytest.warns(UserWarning, match=f"reduction='{expected}'"):
        out = F.l1_loss(x, y, size_average=size_average, reduce=reduce)
    np.testing.assert_allclose(out._data, F.l1_loss(x, y, reduction=expected)._data)
    with pytest.warns(UserWarning, match=f"reduction='{expected}'"):
        module = nn.BCELoss(size_average=size_average, reduce=reduce)
    assert module.reduction == expected
    with pytest.warns(UserWarning, match=f"reduction='{expected}'"):
        out = F.kl_div(x, y, size_average=size_average, reduce=reduce)
    np.testing.assert_allclose(out._data, F.kl_div(x, y, reduction=expected)._data
                               if expected != "mean" else (y._data * (np.log(y._data) - x._data))
                               .mean())


# ---- modules ------------------------------------------------------------------------------------
def _mod_inputs(rng):
    x, y = rng.standard_normal((3, 4)), rng.uniform(0.1, 0.9, (3, 4))
    return x, y


MODULES = [
    (lambda M, w: M.L1Loss(reduction="sum"), "xy"),
    (lambda M, w: M.MSELoss(), "xy"),
    (lambda M, w: M.SmoothL1Loss(beta=0.5, reduction="none"), "xy"),
    (lambda M, w: M.HuberLoss(delta=0.7), "xy"),
    (lambda M, w: M.BCELoss(weight=w), "py"),
    (lambda M, w: M.BCEWithLogitsLoss(weight=w, pos_weight=w * 2), "xy"),
    (lambda M, w: M.KLDivLoss(reduction="batchmean", log_target=True), "xl"),
    (lambda M, w: M.SoftMarginLoss(), "xs"),
    (lambda M, w: M.HingeEmbeddingLoss(margin=0.5), "xs"),
    (lambda M, w: M.MultiLabelSoftMarginLoss(weight=w), "xb"),
    (lambda M, w: M.PoissonNLLLoss(full=True), "xc"),
    (lambda M, w: M.GaussianNLLLoss(eps=1e-3), "xyv"),
    (lambda M, w: M.CosineEmbeddingLoss(margin=0.1), "xy1"),
    (lambda M, w: M.MarginRankingLoss(margin=0.2), "abs"),
    (lambda M, w: M.TripletMarginLoss(margin=0.5, p=1, swap=True), "xyz"),
    (lambda M, w: M.PairwiseDistance(p=3, keepdim=True), "xy"),
    (lambda M, w: M.CosineSimilarity(dim=0), "xy"),
]


@pytest.mark.parametrize("i", range(len(MODULES)))
def test_modules_match_torch(torch, i):
    make, kinds = MODULES[i]
    rng = np.random.default_rng(i)
    x, y = _mod_inputs(rng)
    arrays = {
        "x": x, "y": y, "p": rng.uniform(0.05, 0.95, (3, 4)), "l": np.log(y),
        "s": rng.choice([-1.0, 1.0], (3, 4)), "b": (rng.random((3, 4)) < 0.5) * 1.0,
        "c": rng.poisson(2.0, (3, 4)) * 1.0, "v": rng.uniform(0.5, 1.5, (3, 4)),
        "1": rng.choice([-1.0, 1.0], 3), "z": rng.standard_normal((3, 4)),
    }
    if kinds == "abs":
        ins = [rng.standard_normal(3), rng.standard_normal(3), rng.choice([-1.0, 1.0], 3)]
    else:
        ins = [arrays[k] for k in kinds]
    w = rng.uniform(0.5, 2, 4)
    ours = make(nn, Tensor(w))
    theirs = make(torch.nn, torch.tensor(w))
    assert repr(ours) == repr(theirs)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    a = [Tensor(v, requires_grad=j == 0) for j, v in enumerate(ins)]
    ta = [torch.tensor(v, requires_grad=j == 0) for j, v in enumerate(ins)]
    out, tout = ours(*a), theirs(*ta)
    np.testing.assert_allclose(out._data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(a[0].grad._data, ta[0].grad.numpy(), rtol=1e-10, atol=1e-12)


def test_module_reduction_is_checked():
    with pytest.raises(ValueError, match="L1Loss.*'avg'"):
        nn.L1Loss(reduction="avg")
    with pytest.raises(ValueError, match="HuberLoss.*'batchmean'"):
        nn.HuberLoss(reduction="batchmean")
    assert nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"
    with pytest.raises(ValueError, match="margin"):
        nn.TripletMarginLoss(margin=-1.0)


# ---- extreme values: 0, +-1e-30, +-1e30, +-inf, NaN --------------------------------------------
EXTREMES = (0.0, 1e-30, -1e-30, 1e30, -1e30, math.inf, -math.inf, math.nan, 0.5)


def test_smooth_l1_and_huber_gradients_at_inf_are_pytorchs():
    """The where() of the two branches differentiated the unused quadratic at d = +-inf
    (0 * inf = NaN); PyTorch's gradient is clamp(d / beta, -1, 1) (Huber: clamp(d, -delta,
    delta)): +-1/N at +-inf, NaN at NaN."""
    xs = np.array([np.inf, -np.inf, 0.5, np.nan])
    for fn, kw, want in ((F.smooth_l1_loss, {}, [1, -1, 0.5, np.nan]),
                         (F.smooth_l1_loss, {"beta": 2.0}, [1, -1, 0.25, np.nan]),
                         (F.huber_loss, {}, [1, -1, 0.5, np.nan]),
                         (F.huber_loss, {"delta": 2.0}, [2, -2, 0.5, np.nan])):
        x = Tensor(xs.copy(), requires_grad=True)
        y = Tensor(np.zeros(4), requires_grad=True)
        with np.errstate(invalid="ignore"):
            fn(x, y, **kw).backward()
        np.testing.assert_array_equal(x.grad._data, np.array(want) / 4)
        np.testing.assert_array_equal(y.grad._data, -np.array(want) / 4)


def test_l1_gradient_at_nan_is_zero_as_pytorchs():
    """PyTorch's sign(NaN) is 0, so |x - y| has a zero gradient where x - y is NaN."""
    x = Tensor(np.array([np.nan, 2.0, -np.inf]), requires_grad=True)
    with np.errstate(invalid="ignore"):
        F.l1_loss(x, Tensor(np.array([0.0, 1.0, 0.0]))).backward()
    np.testing.assert_array_equal(x.grad._data, np.array([0.0, 1.0, -1.0]) / 3)
    np.testing.assert_array_equal(autograd.sign(Tensor(np.array([np.nan, -0.0, -2.0])))._data,
                                  [0.0, 0.0, -1.0])


def test_pytorch_gradients_at_zero_targets_and_overflow():
    """kl_div's target gradient (xlogy's: NaN at target 0), BCE's target gradient (-logit(x),
    unclamped), poisson_nll_loss(full=True)'s target gradient (NaN at target <= 0), triplet
    margin's rounding order (margin + d_pos - d_neg)."""
    t = Tensor(np.array([[0.0, 0.25]]), requires_grad=True)
    F.kl_div(Tensor(np.array([[0.1, 0.2]])), t, reduction="sum").backward()
    assert np.isnan(t.grad._data[0, 0]) and np.isclose(t.grad._data[0, 1], np.log(0.25) + 0.8)
    t = Tensor(np.array([0.0, 0.5]), requires_grad=True)
    F.binary_cross_entropy(Tensor(np.array([0.0, 0.25])), t, reduction="sum").backward()
    np.testing.assert_allclose(t.grad._data, [np.inf, np.log(3)])
    t = Tensor(np.array([0.0, -1.0, 0.5, 3.0]), requires_grad=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        F.poisson_nll_loss(Tensor(np.ones(4)), t, log_input=False, full=True,
                           reduction="sum").backward()
    assert np.isnan(t.grad._data[:2]).all() and np.isfinite(t.grad._data[2:]).all()
    a = Tensor(np.array([[1e30, 0.2]]))
    loss = F.triplet_margin_loss(a, Tensor(np.array([[0.0, 0.5]])), Tensor(np.array([[0.1, -0.3]])))
    assert loss.item() == 0.0   # (1 + 1e30) - 1e30, as PyTorch rounds it


def _extreme_cases():
    """(name, ours, theirs, arrays, names of the arrays that require grad): every loss of
    nn.functional with one extreme value in its first input and one in its second."""
    def two(a, b, rows=False):
        return ([[a, 0.3]], [[b, 0.7]]) if rows else ([a, 0.25], [b, 0.75])

    specs = [  # name, call(F, *tensors), arrays(a, b), grads (indices)
        ("l1_loss", lambda F, x, y: F.l1_loss(x, y), two, (0, 1)),
        ("mse_loss", lambda F, x, y: F.mse_loss(x, y), two, (0, 1)),
        ("smooth_l1_loss", lambda F, x, y: F.smooth_l1_loss(x, y), two, (0, 1)),
        ("smooth_l1_loss beta=0", lambda F, x, y: F.smooth_l1_loss(x, y, beta=0.0), two, (0, 1)),
        ("huber_loss", lambda F, x, y: F.huber_loss(x, y, delta=0.5), two, (0, 1)),
        ("soft_margin_loss", lambda F, x, y: F.soft_margin_loss(x, y), two, (0,)),
        ("binary_cross_entropy_with_logits",
         lambda F, x, y: F.binary_cross_entropy_with_logits(x, y), two, (0, 1)),
        ("binary_cross_entropy", lambda F, x, y: F.binary_cross_entropy(x, y), two, (0, 1)),
        ("kl_div", lambda F, x, y: F.kl_div(x, y, reduction="batchmean"),
         lambda a, b: two(a, b, True), (0, 1)),
        ("kl_div log_target", lambda F, x, y: F.kl_div(x, y, reduction="batchmean",
                                                       log_target=True),
         lambda a, b: two(a, b, True), (0, 1)),
        ("hinge_embedding_loss", lambda F, x, y: F.hinge_embedding_loss(x, y), two, (0,)),
        ("poisson_nll_loss", lambda F, x, y: F.poisson_nll_loss(x, y), two, (0, 1)),
        ("poisson_nll_loss full", lambda F, x, y: F.poisson_nll_loss(x, y, log_input=False,
                                                                     full=True), two, (0, 1)),
        ("gaussian_nll_loss", lambda F, x, y, v: F.gaussian_nll_loss(x, y, v),
         lambda a, b: two(a, b) + ([1.0, 2.0],), (0, 1, 2)),
        ("gaussian_nll_loss var", lambda F, x, y, v: F.gaussian_nll_loss(x, y, v),
         lambda a, b: ([0.5, 0.25], [a, 0.75], [b, 2.0]), (0, 1, 2)),
        ("multilabel_soft_margin_loss", lambda F, x, y: F.multilabel_soft_margin_loss(x, y),
         lambda a, b: two(a, b, True), (0,)),
        ("margin_ranking_loss", lambda F, a, b, y: F.margin_ranking_loss(a, b, y),
         lambda a, b: two(a, b) + ([1.0, -1.0],), (0, 1)),
        ("cosine_embedding_loss", lambda F, a, b, y: F.cosine_embedding_loss(a, b, y),
         lambda a, b: two(a, b, True) + ([1.0],), (0, 1)),
        ("triplet_margin_loss", lambda F, a, p, n: F.triplet_margin_loss(a, p, n),
         lambda a, b: two(a, b, True) + ([[0.1, -0.3]],), (0, 1, 2)),
        ("cross_entropy probabilities", lambda F, x, y: F.cross_entropy(x, y),
         lambda a, b: two(a, b, True), (0, 1)),
        ("cross_entropy indices", lambda F, x: F.cross_entropy(x, _index(F, [1])),
         lambda a, b: ([[a, b, 0.5]],), (0,)),
        ("cross_entropy smoothing", lambda F, x: F.cross_entropy(x, _index(F, [0]),
                                                                 label_smoothing=0.1),
         lambda a, b: ([[a, b, 0.5]],), (0,)),
        ("nll_loss", lambda F, x: F.nll_loss(x, _index(F, [0])), lambda a, b: ([[a, b]],), (0,)),
        ("log_softmax", lambda F, x: F.log_softmax(x, 1), lambda a, b: ([[a, b, 0.5]],), (0,)),
        ("softmax", lambda F, x: F.softmax(x, 1), lambda a, b: ([[a, b, 0.5]],), (0,)),
    ]
    return specs


def _index(F, values):
    """A class-index tensor in the library of F."""
    mod = autograd if F is globals()["F"] else __import__("torch")
    return mod.tensor(values)


def _run_extreme(F, fn, arrays, grads, lib):
    leaves = [lib(a, i in grads) for i, a in enumerate(arrays)]
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out = fn(F, *leaves)
            (out if out.ndim == 0 else out.sum()).backward()
    except (RuntimeError, ValueError) as e:
        return type(e)
    return [np.asarray(out.detach().numpy())] + [leaves[i].grad.numpy() for i in grads]


def _same_extreme(a, b, dtype):
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    for test in (np.isnan, np.isposinf, np.isneginf):
        if not np.array_equal(test(a), test(b)):
            return False
    ok = np.isfinite(b)
    scale = max(1.0, float(np.abs(b[ok]).max())) if ok.any() else 1.0
    tol = 1e-5 if dtype == np.float32 else 1e-12  # rounding of values near 0
    return bool(np.allclose(a[ok], b[ok], rtol=1e-5, atol=tol * scale))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spec", _extreme_cases(), ids=lambda s: s[0])
def test_losses_match_torch_at_extreme_values(torch, spec, dtype):
    """Values and gradients (input, and target where PyTorch differentiates it) of every loss
    equal PyTorch's at every pair of extreme values, or both raise (BCE's range checks)."""
    name, fn, make, grads = spec
    tf = torch.nn.functional
    bad = []
    for a in EXTREMES:
        for b in EXTREMES:
            arrays = [np.asarray(v, dtype=dtype) for v in make(a, b)]
            ours = _run_extreme(F, fn, arrays, grads,
                                lambda v, g: Tensor(v.copy(), requires_grad=g))
            theirs = _run_extreme(tf, fn, arrays, grads,
                                  lambda v, g: torch.tensor(v.copy(), requires_grad=g))
            if isinstance(ours, type) or isinstance(theirs, type):
                ok = isinstance(ours, type) and isinstance(theirs, type)
            else:
                ok = all(_same_extreme(o, t, dtype) for o, t in zip(ours, theirs))
            if not ok:
                bad.append(((a, b), ours, theirs))
    assert not bad, f"{name}: {len(bad)} of {len(EXTREMES) ** 2} differ, first: {bad[0]}"


def test_div_gradient_of_a_large_denominator():
    """d(a / b)/db = -(a / b) / b, PyTorch's order: -a / (b * b) overflowed b * b to inf in
    float32 for |b| > 1.8e19 and gave 0 (gaussian_nll_loss's var gradient at var = 1e30)."""
    a = Tensor(np.float32([1e20, 2e19]), requires_grad=True)
    b = Tensor(np.float32([1e20, 4e19]), requires_grad=True)
    (a / b).sum().backward()
    np.testing.assert_allclose(b.grad._data, [-1e-20, -1.25e-20], rtol=1e-6)
    np.testing.assert_allclose(a.grad._data, [1e-20, 2.5e-20], rtol=1e-6)


# ---- cross_entropy and mse_loss: gradcheck variants, huge logits, errors, vs PyTorch --------
def test_cross_entropy_gradcheck_variants():
    logits = _t64(4, 5)
    target = autograd.tensor([0, 3, 4, 1])
    for kw in ({}, {"reduction": "sum"}, {"reduction": "none"}, {"label_smoothing": 0.1},
               {"weight": autograd.tensor([1., 2., 0.5, 1., 3.], dtype=autograd.float64)}):
        assert gradcheck(lambda z: F.cross_entropy(z, target, **kw), (logits,))
    ignored = autograd.tensor([0, -100, 4, -100])
    assert gradcheck(lambda z: F.cross_entropy(z, ignored), (logits,))
    probs = autograd.tensor(np.full((4, 5), 0.2), dtype=autograd.float64)
    assert gradcheck(lambda z: F.cross_entropy(z, probs), (logits,))


def test_cross_entropy_is_stable_for_huge_logits():
    logits = autograd.tensor([[1e4, -1e4, 0.0], [0.0, 1e4, 1e4]], requires_grad=True)
    loss = F.cross_entropy(logits, autograd.tensor([1, 0]))
    loss.backward()
    assert np.isfinite(loss.item()) and loss.item() == pytest.approx((2e4 + 1e4 + np.log(2)) / 2,
                                                                      rel=1e-5)
    assert np.isfinite(logits.grad._data).all()


def test_loss_errors():
    with pytest.raises(IndexError, match="target 7 is out of bounds"):
        F.cross_entropy(autograd.randn(2, 5), autograd.tensor([1, 7]))
    with pytest.raises(ValueError, match="reduction"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match="expected target of shape"):
        F.cross_entropy(autograd.randn(2, 5), autograd.tensor([1, 2, 3]))


def test_losses_match_pytorch(torch):
    rng = np.random.default_rng(1)
    z = rng.standard_normal((6, 4))
    t = np.array([0, 3, 1, -100, 2, 2])
    w = np.array([1.0, 0.5, 2.0, 1.5])
    for kw in ({}, {"reduction": "sum"}, {"reduction": "none"}, {"label_smoothing": 0.2}):
        for weight in (None, w):
            ours = autograd.tensor(z, requires_grad=True)
            theirs = torch.tensor(z, requires_grad=True)
            lo = F.cross_entropy(ours, autograd.tensor(t), weight=None if weight is None else
                                 autograd.tensor(weight), **kw)
            lt = torch.nn.functional.cross_entropy(
                theirs, torch.tensor(t), weight=None if weight is None else torch.tensor(weight),
                **kw)
            np.testing.assert_allclose(lo._data, lt.detach().numpy(), rtol=1e-10, atol=1e-12)
            lo.sum().backward()
            lt.sum().backward()
            np.testing.assert_allclose(ours.grad._data, theirs.grad.numpy(), rtol=1e-9,
                                       atol=1e-12)
    a, b = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    np.testing.assert_allclose(
        F.mse_loss(autograd.tensor(a), autograd.tensor(b)).item(),
        torch.nn.functional.mse_loss(torch.tensor(a), torch.tensor(b)).item())
