"""Dense-backed sparse COO tensors (autograd.sparse) against torch: construction, indices and
values, to_sparse/to_dense, sparse.mm/spmm/addmm/sum values and gradients, the GCN idioms,
errors."""

import numpy as np
import pytest

import autograd
from autograd import sparse

RNG = np.random.default_rng(0)
EDGES = np.array([[0, 1], [1, 2], [0, 1], [3, 0], [2, 2]])


def _ours(a, grad=False):
    return autograd.tensor(np.array(a, dtype=np.float64), requires_grad=grad)


def test_sparse_coo_tensor_matches_torch(torch):
    ours = autograd.sparse_coo_tensor(EDGES.T, autograd.ones(5), (4, 4), dtype=autograd.int64)
    theirs = torch.sparse_coo_tensor(torch.tensor(EDGES.T), torch.ones(5), (4, 4),
                                     dtype=torch.int64).coalesce()
    assert ours.is_sparse and ours.layout is autograd.sparse_coo and ours.dtype == np.int64
    assert ours.shape == (4, 4) and ours._nnz() == theirs._nnz() == 4
    np.testing.assert_array_equal(ours.indices().numpy(), theirs.indices().numpy())
    np.testing.assert_array_equal(ours.values().numpy(), theirs.values().numpy())
    np.testing.assert_array_equal(ours.to_dense().numpy(), theirs.to_dense().numpy())
    assert not ours.to_dense().is_sparse and ours.to_dense().layout is autograd.strided
    # inferred size, and dense dims in the values
    vals = RNG.standard_normal((5, 3))
    o = autograd.sparse_coo_tensor(EDGES.T, _ours(vals))
    t = torch.sparse_coo_tensor(torch.tensor(EDGES.T), torch.tensor(vals))
    assert o.shape == tuple(t.shape) and o.sparse_dim() == 2 and o.dense_dim() == 1
    np.testing.assert_allclose(o.to_dense().numpy(), t.to_dense().numpy())
    assert "layout=autograd.sparse_coo" in repr(ours) and "nnz=4" in repr(ours)


def test_values_gradient_and_to_sparse_roundtrip(torch):
    vals = RNG.standard_normal(5)
    v = _ours(vals, True)
    tv = torch.tensor(vals, requires_grad=True)
    w = RNG.standard_normal((4, 4))
    (autograd.sparse_coo_tensor(EDGES.T, v, (4, 4)).to_dense() * _ours(w)).sum().backward()
    (torch.sparse_coo_tensor(torch.tensor(EDGES.T), tv, (4, 4)).to_dense()
     * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), tv.grad.numpy())
    assert autograd.gradcheck(
        lambda v: autograd.sparse_coo_tensor(EDGES.T, v, (4, 4)).to_dense(), (_ours(vals, True),))
    d = autograd.diag(autograd.tensor([1.0, 0.0, 3.0]))
    s = d.to_sparse()
    ts = torch.diag(torch.tensor([1.0, 0.0, 3.0])).to_sparse()
    np.testing.assert_array_equal(s.indices().numpy(), ts.indices().numpy())
    np.testing.assert_array_equal(s.values().numpy(), ts.values().numpy())
    assert s.to_sparse() is s and s.coalesce() is s and s.is_coalesced()


def test_mm_spmm_addmm_sum_match_torch(torch):
    a = RNG.standard_normal((4, 3)) * (RNG.random((4, 3)) < 0.5)
    b = RNG.standard_normal((3, 2))
    x, y = _ours(a, True), _ours(b, True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out = autograd.spmm(x.to_sparse(), y)
    tout = torch.spmm(tx.to_sparse(), ty)
    assert not out.is_sparse
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.to_dense().numpy(), rtol=1e-12)
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=1e-12)
    ss = sparse.mm(_ours(a).to_sparse(), _ours(b).to_sparse())
    assert ss.is_sparse
    np.testing.assert_allclose(ss.to_dense().numpy(), a @ b, rtol=1e-12)
    c = RNG.standard_normal((4, 2))
    np.testing.assert_allclose(
        sparse.addmm(_ours(c), _ours(a).to_sparse(), _ours(b), beta=0.5, alpha=2.0).numpy(),
        torch.sparse.addmm(torch.tensor(c), torch.tensor(a).to_sparse(), torch.tensor(b),
                           beta=0.5, alpha=2.0).numpy(), rtol=1e-12)
    np.testing.assert_allclose(sparse.sum(_ours(a).to_sparse()).item(),
                               torch.sparse.sum(torch.tensor(a).to_sparse()).item())
    s1 = sparse.sum(_ours(a).to_sparse(), dim=1)
    assert s1.is_sparse
    np.testing.assert_allclose(s1.to_dense().numpy(),
                               torch.sparse.sum(torch.tensor(a).to_sparse(), dim=1)
                               .to_dense().numpy())


def test_gcn_idioms_give_dense_results():
    V = 4
    adj = autograd.sparse_coo_tensor(EDGES.T, autograd.ones(len(EDGES)), (V, V),
                                     dtype=autograd.int64)
    adj = autograd.eye(V) + adj                     # dense + sparse -> dense
    assert not adj.is_sparse and adj.dtype == np.float32
    deg = autograd.diag(autograd.sqrt(1 / autograd.sum(adj, dim=1))).to_sparse()
    norm = deg @ adj @ deg
    dense = np.diag(1 / np.sqrt(adj.numpy().sum(1)))
    np.testing.assert_allclose(norm.numpy(), dense @ adj.numpy() @ dense, rtol=1e-6)
    assert norm.to_sparse().to("cpu").is_sparse


def test_errors():
    with pytest.raises(ValueError, match="indices must be"):
        autograd.sparse_coo_tensor([0, 1], [1.0, 2.0], (2,))
    with pytest.raises(ValueError, match="must match the first dim of values"):
        autograd.sparse_coo_tensor([[0, 1]], [1.0, 2.0, 3.0], (2,))
    with pytest.raises(ValueError, match="size is inconsistent"):
        autograd.sparse_coo_tensor([[0, 5]], [1.0, 2.0], (3,))
    with pytest.raises(ValueError, match="negative"):
        autograd.sparse_coo_tensor([[0, -1]], [1.0, 2.0], (3,))
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        autograd.spmm(autograd.ones(2, 3).to_sparse(), autograd.ones(2, 2))
    with pytest.raises(RuntimeError, match="sparse_dim"):
        autograd.ones(2, 2).to_sparse(3)
