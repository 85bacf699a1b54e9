"""autograd.distributions against torch.distributions: log_prob, entropy, moments, KL (values
and gradients), float64 gradchecks, sampling statistics, seeding, validation errors."""

import numpy as np
import pytest

import autograd
from autograd import distributions as D
from autograd.distributions._special import digamma, lgamma
from autograd.distributions.gamma import _dgamma_dalpha


def _t(a, grad=False):
    return autograd.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


RNG = np.random.default_rng(0)
P = RNG.random((2, 4)) + 0.1
LOGITS = RNG.standard_normal((2, 4))
LOC, SCALE = RNG.standard_normal(3), RNG.random(3) + 0.5
A, B = RNG.random(3) + 0.5, RNG.random(3) + 1.0


def _cases():
    """(name, our builder, torch builder, params, value) with float64 params."""
    return [
        ("normal", lambda l, s: D.Normal(l, s), lambda T, l, s: T.distributions.Normal(l, s),
         [LOC, SCALE], RNG.standard_normal((2, 3))),
        ("uniform", lambda lo, hi: D.Uniform(lo, hi),
         lambda T, lo, hi: T.distributions.Uniform(lo, hi), [LOC - 1, LOC + 2], LOC[None] + 0.3),
        ("bernoulli_p", lambda p: D.Bernoulli(probs=p),
         lambda T, p: T.distributions.Bernoulli(probs=p), [RNG.random(3) * 0.8 + 0.1],
         np.array([[1., 0., 1.], [0., 0., 1.]])),
        ("bernoulli_l", lambda l: D.Bernoulli(logits=l),
         lambda T, l: T.distributions.Bernoulli(logits=l), [LOC], np.array([1., 0., 1.])),
        ("categorical_p", lambda p: D.Categorical(probs=p),
         lambda T, p: T.distributions.Categorical(probs=p), [P], np.array([[0, 3], [2, 1],
                                                                           [1, 1]])),
        ("categorical_l", lambda l: D.Categorical(logits=l),
         lambda T, l: T.distributions.Categorical(logits=l), [LOGITS], np.array([3, 0])),
        ("onehot", lambda p: D.OneHotCategorical(probs=p),
         lambda T, p: T.distributions.OneHotCategorical(probs=p), [P], np.eye(4)[[1, 3]]),
        ("gamma", lambda a, b: D.Gamma(a, b), lambda T, a, b: T.distributions.Gamma(a, b),
         [A, B], RNG.random(3) * 2 + 0.1),
        ("beta", lambda a, b: D.Beta(a, b), lambda T, a, b: T.distributions.Beta(a, b),
         [A, B], RNG.random((2, 3)) * 0.9 + 0.05),
    ]


CASES = _cases()
IDS = [c[0] for c in CASES]


def _value(name, v, torch=None):
    integer = name.startswith("categorical")
    if torch is not None:
        return torch.tensor(v, dtype=torch.int64 if integer else torch.float64)
    return autograd.tensor(np.asarray(v, dtype=np.int64 if integer else np.float64))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_log_prob_entropy_moments_match_torch(case, torch):
    name, ours, theirs, params, value = case
    pt = [_t(p, True) for p in params]
    tt = [torch.tensor(p, requires_grad=True) for p in params]
    d, td = ours(*pt), theirs(torch, *tt)
    assert d.batch_shape == tuple(td.batch_shape) and d.event_shape == tuple(td.event_shape)
    lp, tlp = d.log_prob(_value(name, value)), td.log_prob(_value(name, value, torch))
    np.testing.assert_allclose(lp.detach().numpy(), tlp.detach().numpy(), rtol=1e-10, atol=1e-12)
    ent, tent = d.entropy(), td.entropy()
    np.testing.assert_allclose(ent.detach().numpy(), tent.detach().numpy(), rtol=1e-10)
    (lp.sum() + ent.sum()).backward()
    (tlp.sum() + tent.sum()).backward()
    for p, q in zip(pt, tt):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-8, atol=1e-12)
    for attr in ("mean", "variance", "stddev"):
        np.testing.assert_allclose(getattr(d, attr).detach().numpy(),
                                   getattr(td, attr).detach().numpy(), rtol=1e-10)


@pytest.mark.parametrize("case", [c for c in CASES if not c[0].startswith(("uniform", "onehot"))],
                         ids=[c[0] for c in CASES if not c[0].startswith(("uniform", "onehot"))])
def test_log_prob_and_entropy_gradcheck(case):
    name, ours, _, params, value = case
    v = _value(name, value)

    def f(*ps):
        d = ours(*ps)
        return d.log_prob(v).sum() + d.entropy().sum()
    assert autograd.gradcheck(f, tuple(_t(p, True) for p in params))


def test_special_functions_match_scipy_and_gradcheck():
    from scipy import special
    x = _t([0.3, 1.5, 4.0], True)
    np.testing.assert_allclose(lgamma(x).detach().numpy(), special.gammaln(x.detach().numpy()))
    np.testing.assert_allclose(digamma(x).detach().numpy(), special.digamma(x.detach().numpy()))
    assert autograd.gradcheck(lgamma, (x,)) and autograd.gradgradcheck(lgamma, (x,))
    assert autograd.gradcheck(digamma, (x,))


KL_PAIRS = [
    ("normal", lambda M: (M.Normal(_T(LOC), _T(SCALE)), M.Normal(_T(LOC[::-1]), _T(SCALE + 1)))),
    ("categorical", lambda M: (M.Categorical(probs=_T(P)), M.Categorical(logits=_T(LOGITS)))),
    ("onehot", lambda M: (M.OneHotCategorical(probs=_T(P)),
                          M.OneHotCategorical(probs=_T(P[::-1].copy())))),
    ("bernoulli", lambda M: (M.Bernoulli(probs=_T(A / 2)), M.Bernoulli(logits=_T(LOC)))),
    ("uniform", lambda M: (M.Uniform(_T(LOC), _T(LOC + 1)), M.Uniform(_T(LOC - 1), _T(LOC + 3)))),
    ("gamma", lambda M: (M.Gamma(_T(A), _T(B)), M.Gamma(_T(B), _T(A)))),
    ("beta", lambda M: (M.Beta(_T(A), _T(B)), M.Beta(_T(B), _T(A + 1)))),
]
_T = None


@pytest.mark.parametrize("pair", KL_PAIRS, ids=[k[0] for k in KL_PAIRS])
def test_kl_divergence_matches_torch(pair, torch):
    global _T
    leaves_ours, leaves_theirs = [], []
    try:
        _T = lambda a: leaves_ours.append(_t(a, True)) or leaves_ours[-1]  # noqa: E731
        p, q = pair[1](D)
        ours = D.kl_divergence(p, q)
        _T = lambda a: (leaves_theirs.append(torch.tensor(np.ascontiguousarray(a),  # noqa: E731
                                                          requires_grad=True))
                        or leaves_theirs[-1])
        tp, tq = pair[1](torch.distributions)
        theirs = torch.distributions.kl_divergence(tp, tq)
    finally:
        _T = None
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-9)
    assert len(leaves_ours) == len(leaves_theirs) >= 2
    assert np.all(np.isfinite(ours.detach().numpy()))
    ours.sum().backward()
    theirs.sum().backward()
    for a, b in zip(leaves_ours, leaves_theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-7, atol=1e-10)


def test_kl_uniform_not_contained_is_inf_and_missing_pair_raises():
    p, q = D.Uniform(0., 2.), D.Uniform(0.5, 3.)
    assert np.isinf(D.kl_divergence(p, q).item())
    with pytest.raises(NotImplementedError, match="Normal.*Gamma"):
        D.kl_divergence(D.Normal(0., 1.), D.Gamma(1., 1.))


def test_sampling_statistics_and_shapes():
    autograd.manual_seed(1)
    probs = autograd.tensor([0.1, 0.2, 0.7])
    s = D.Categorical(probs).sample((20000,))
    assert s.shape == (20000,) and s.dtype == np.int64
    np.testing.assert_allclose(np.bincount(s.numpy(), minlength=3) / 20000, [0.1, 0.2, 0.7],
                               atol=0.015)
    n = D.Normal(autograd.tensor([1.0, -2.0]), autograd.tensor([0.5, 2.0]))
    x = n.sample((20000,))
    assert x.shape == (20000, 2) and x.dtype == np.float32 and not x.requires_grad
    np.testing.assert_allclose(x.numpy().mean(0), [1.0, -2.0], atol=0.06)
    np.testing.assert_allclose(x.numpy().std(0), [0.5, 2.0], rtol=0.03)
    b = D.Bernoulli(probs=autograd.tensor([0.25, 0.9])).sample((20000,)).numpy()
    assert set(np.unique(b)) <= {0.0, 1.0}
    np.testing.assert_allclose(b.mean(0), [0.25, 0.9], atol=0.015)
    g = D.Gamma(autograd.tensor([0.5, 3.0]), autograd.tensor([1.0, 2.0])).sample((20000,))
    np.testing.assert_allclose(g.numpy().mean(0), [0.5, 1.5], rtol=0.05)
    be = D.Beta(autograd.tensor(2.0), autograd.tensor(5.0)).sample((20000,)).numpy()
    assert be.min() > 0 and be.max() < 1
    np.testing.assert_allclose(be.mean(), 2 / 7, rtol=0.03)
    u = D.Uniform(-1.0, 3.0).sample((20000,)).numpy()
    assert u.min() >= -1 and u.max() < 3
    np.testing.assert_allclose(u.mean(), 1.0, atol=0.05)
    oh = D.OneHotCategorical(probs).sample((5, 2))
    assert oh.shape == (5, 2, 3) and np.all(oh.numpy().sum(-1) == 1)


def test_manual_seed_makes_samples_repeatable():
    d = D.Categorical(logits=autograd.zeros(10))
    autograd.manual_seed(7)
    a = d.sample((50,)).numpy()
    autograd.manual_seed(7)
    b = d.sample((50,)).numpy()
    np.testing.assert_array_equal(a, b)
    assert len(np.unique(a)) > 3


def test_rsample_is_reparameterised_normal_uniform():
    loc, scale = _t([0.5, -1.0], True), _t([1.0, 2.0], True)

    def f(loc, scale):
        autograd.manual_seed(3)
        return D.Normal(loc, scale).rsample((4,))
    assert autograd.gradcheck(f, (loc, scale))
    x = f(loc, scale)
    x.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [4.0, 4.0])
    np.testing.assert_allclose(scale.grad.numpy(), ((x - loc) / scale).detach().numpy().sum(0))

    def g(lo, hi):
        autograd.manual_seed(4)
        return D.Uniform(lo, hi).rsample((3,))
    assert autograd.gradcheck(g, (_t([0.0, 1.0], True), _t([2.0, 1.5], True)))
    with pytest.raises(NotImplementedError, match="rsample"):
        D.Categorical(logits=autograd.zeros(3)).rsample()


def test_gamma_implicit_gradient_matches_torch(torch):
    alpha = np.array([0.3, 1.0, 2.5, 7.0, 7.0])
    x = np.array([0.05, 0.7, 2.0, 5.0, 9.0])
    ours = _dgamma_dalpha(x, alpha)
    theirs = torch._standard_gamma_grad(torch.tensor(alpha), torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-4)


def test_gamma_beta_rsample_gradient_unbiased():
    autograd.manual_seed(5)
    a = _t([0.7, 3.0], True)
    D.Gamma(a, 2.0).rsample((20000,)).mean(0).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.5, 0.5], rtol=0.05)   # d(a/rate)/da
    c1, c0 = _t(2.0, True), _t(3.0, True)
    D.Beta(c1, c0).rsample((20000,)).mean().backward()
    # d/da a/(a+b) = b/(a+b)^2 = 0.12, d/db = -a/(a+b)^2 = -0.08
    np.testing.assert_allclose([c1.grad.item(), c0.grad.item()], [0.12, -0.08], atol=0.01)


def test_expand_and_shapes():
    d = D.Normal(autograd.zeros(3), 1.0).expand((4, 3))
    assert d.batch_shape == (4, 3) and d.sample((2,)).shape == (2, 4, 3)
    c = D.Categorical(probs=autograd.ones(5)).expand((2, 3))
    assert c.batch_shape == (2, 3) and c.sample().shape == (2, 3)
    assert c.log_prob(autograd.tensor([0, 1, 4])).shape == (2, 3)
    with pytest.raises(RuntimeError, match="expand"):
        D.Normal(autograd.zeros(3), 1.0).expand((4, 2))
    s = D.Bernoulli(probs=autograd.tensor([0.3, 0.6])).enumerate_support()
    assert s.shape == (2, 2) and s.numpy()[:, 0].tolist() == [0.0, 1.0]


def test_validation_errors():
    with pytest.raises(ValueError, match="Expected parameter scale"):
        D.Normal(0.0, -1.0)
    D.Normal(0.0, -1.0, validate_args=False)      # allowed without validation
    with pytest.raises(ValueError, match="Expected parameter probs"):
        D.Categorical(probs=autograd.tensor([0.5, -0.1]))
    with pytest.raises(ValueError, match="either `probs` or `logits`"):
        D.Categorical()
    with pytest.raises(ValueError, match="either `probs` or `logits`"):
        D.Bernoulli(probs=autograd.tensor(0.2), logits=autograd.tensor(0.1))
    with pytest.raises(ValueError, match="support"):
        D.Categorical(probs=autograd.ones(3)).log_prob(autograd.tensor([3]))
    with pytest.raises(ValueError, match="support"):
        D.Bernoulli(probs=autograd.tensor(0.2)).log_prob(autograd.tensor(0.5))
    with pytest.raises(ValueError, match="low < high"):
        D.Uniform(1.0, 0.0)
    with pytest.raises(ValueError, match="Expected parameter concentration"):
        D.Gamma(-1.0, 1.0)


def test_reinforce_idiom_gradient(torch):
    """The REINFORCE pattern: -log_prob(sample) * reward, back to the policy logits."""
    logits = RNG.standard_normal((5, 3))
    actions = np.array([0, 2, 1, 1, 0])
    x = _t(logits, True)
    m = D.Categorical(x.softmax(-1))
    (-m.log_prob(autograd.tensor(actions)) * 2.0).sum().backward()
    tx = torch.tensor(logits, requires_grad=True)
    tm = torch.distributions.Categorical(tx.softmax(-1))
    (-tm.log_prob(torch.tensor(actions)) * 2.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


# ---- MultivariateNormal -------------------------------------------------------------------------
_X = RNG.standard_normal((3, 3))
COV = _X @ _X.T + np.eye(3)
MLOC = RNG.standard_normal((2, 3))
MVAL = RNG.standard_normal((4, 2, 3))


@pytest.mark.parametrize("kind", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_multivariate_normal_matches_torch(torch, kind):
    mat = np.linalg.cholesky(COV) if kind == "scale_tril" else COV
    loc, m = _t(MLOC, True), _t(mat, True)
    tloc, tm = torch.tensor(MLOC, requires_grad=True), torch.tensor(mat, requires_grad=True)
    d = D.MultivariateNormal(loc, **{kind: m})
    td = torch.distributions.MultivariateNormal(tloc, **{kind: tm})
    assert d.batch_shape == (2,) and d.event_shape == (3,)
    lp, tlp = d.log_prob(_t(MVAL)), td.log_prob(torch.tensor(MVAL))
    np.testing.assert_allclose(lp.detach().numpy(), tlp.detach().numpy(), rtol=1e-10)
    ent, tent = d.entropy(), td.entropy()
    np.testing.assert_allclose(ent.detach().numpy(), tent.detach().numpy(), rtol=1e-10)
    for attr in ("mean", "variance", "covariance_matrix", "scale_tril", "precision_matrix"):
        np.testing.assert_allclose(getattr(d, attr).detach().numpy(),
                                   getattr(td, attr).detach().numpy(), rtol=1e-9, atol=1e-12)
    (lp.sum() + ent.sum()).backward()
    (tlp.sum() + tent.sum()).backward()
    np.testing.assert_allclose(loc.grad.numpy(), tloc.grad.numpy(), rtol=1e-9)
    g, tg = m.grad.numpy(), tm.grad.numpy()
    if kind != "scale_tril":      # both symmetrise differently; compare the symmetric part
        g, tg = (g + g.T) / 2, (tg + tg.T) / 2
    else:
        g, tg = np.tril(g), np.tril(tg)
    np.testing.assert_allclose(g, tg, rtol=1e-8, atol=1e-12)
    q = D.MultivariateNormal(_t(MLOC[::-1].copy()), covariance_matrix=_t(COV + np.eye(3)))
    tq = torch.distributions.MultivariateNormal(torch.tensor(MLOC[::-1].copy()),
                                                covariance_matrix=torch.tensor(COV + np.eye(3)))
    np.testing.assert_allclose(D.kl_divergence(d, q).detach().numpy(),
                               torch.distributions.kl_divergence(td, tq).detach().numpy(),
                               rtol=1e-10)


def test_multivariate_normal_gradcheck_and_sampling():
    def f(loc, a):
        cov = a @ a.mT + _t(np.eye(3))
        d = D.MultivariateNormal(loc, covariance_matrix=cov)
        return d.log_prob(_t(MVAL)).sum() + d.entropy().sum()
    assert autograd.gradcheck(f, (_t(MLOC, True), _t(_X, True)))

    def g(loc, a):
        autograd.manual_seed(2)
        return D.MultivariateNormal(loc, scale_tril=a.tril() + _t(2 * np.eye(3))).rsample((3,))
    assert autograd.gradcheck(g, (_t(MLOC, True), _t(_X, True)))
    autograd.manual_seed(0)
    s = D.MultivariateNormal(_t(MLOC[0]), covariance_matrix=_t(COV)).sample((40000,)).numpy()
    assert s.shape == (40000, 3)
    np.testing.assert_allclose(np.cov(s.T), COV, atol=0.1 * np.abs(COV).max())
    np.testing.assert_allclose(s.mean(0), MLOC[0], atol=0.05)
    with pytest.raises(ValueError, match="Exactly one"):
        D.MultivariateNormal(_t(MLOC))
    with pytest.raises(ValueError, match="positive_definite|PositiveDefinite"):
        D.MultivariateNormal(_t(MLOC), covariance_matrix=_t(-np.eye(3)))
    with pytest.raises(ValueError, match="k = loc.shape"):
        D.MultivariateNormal(_t(MLOC), covariance_matrix=_t(np.eye(2)))
