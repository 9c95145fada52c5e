"""Sparse COO tensors (tinygen/sparse/): construction, conversion, printing, the torch.sparse ops
against their dense equivalents and PyTorch, gradients, errors, and a 2-layer GCN whose losses
match PyTorch's step by step."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tinygen import nn, optim

IDX = [[0, 1, 1, 0, 2], [2, 0, 0, 2, 1]]          # (0, 2) and (1, 0) repeat
VAL = [3.0, 4.0, 5.0, 1.0, -2.0]
DENSE = np.array([[0.0, 0.0, 4.0], [9.0, 0.0, 0.0], [0.0, -2.0, 0.0]])


def _sp(dtype=tg.float32, requires_grad=False):
    return tg.sparse_coo_tensor(IDX, tg.tensor(VAL, dtype=dtype), (3, 3),
                                requires_grad=requires_grad)


def _torch_sp(torch, dtype=None):
    return torch.sparse_coo_tensor(IDX, torch.tensor(VAL, dtype=dtype), (3, 3),
                                   check_invariants=True)


def test_construction_and_queries():
    a = _sp()
    assert isinstance(a, tg.Tensor) and a.is_sparse and a.layout is tg.sparse_coo
    assert tuple(a.shape) == (3, 3) and a.dtype == tg.float32 and a.device.type == "cpu"
    assert (a.sparse_dim(), a.dense_dim(), a._nnz(), a.is_coalesced()) == (2, 0, 5, False)
    np.testing.assert_array_equal(a._indices().numpy(), IDX)
    np.testing.assert_array_equal(a.to_dense().numpy(), DENSE)
    c = a.coalesce()
    assert c.is_coalesced() and c._nnz() == 3 and c.coalesce() is c
    np.testing.assert_array_equal(c.indices().numpy(), [[0, 1, 2], [2, 0, 1]])
    np.testing.assert_array_equal(c.values().numpy(), [4.0, 9.0, -2.0])
    assert tuple(tg.sparse_coo_tensor(IDX, VAL).shape) == (3, 3)       # size inferred
    assert not tg.tensor([1.0]).is_sparse and tg.tensor([1.0]).layout is tg.strided


def test_to_sparse_round_trip_and_hybrid():
    x = tg.tensor(DENSE)
    s = x.to_sparse()
    assert s.is_coalesced() and s._nnz() == 3
    np.testing.assert_array_equal(s.to_dense().numpy(), DENSE)
    h = x.to_sparse(1)                                     # rows sparse, columns dense
    assert (h.sparse_dim(), h.dense_dim(), h._nnz()) == (1, 1, 3)
    np.testing.assert_array_equal(h.to_dense().numpy(), DENSE)
    assert x.to_dense() is x


def test_uncoalesced_indices_error():
    with pytest.raises(RuntimeError, match="uncoalesced tensor, please call .coalesce"):
        _sp().indices()
    with pytest.raises(RuntimeError, match="uncoalesced"):
        _sp().values()


def test_construction_errors():
    with pytest.raises(RuntimeError, match="indices must be sparse_dim x nnz, but got: \\[2\\]"):
        tg.sparse_coo_tensor([0, 1], [1.0, 2.0], (2, 2))
    with pytest.raises(RuntimeError, match="len\\(size\\) = 3, sparse_dim = 1, dense_dim = 0"):
        tg.sparse_coo_tensor([[0, 1]], [1.0, 2.0], (2, 2, 3))
    with pytest.raises(RuntimeError, match="for dim 0, size is 1 but found index 2"):
        tg.sparse_coo_tensor(IDX, VAL, (1, 3))
    with pytest.raises(RuntimeError, match="same nnz"):
        tg.sparse_coo_tensor(IDX, VAL[:2], (3, 3))


def test_dense_op_on_sparse_names_op_and_to_dense():
    with pytest.raises(NotImplementedError, match="^exp: .*sparse.*to_dense"):
        _sp().exp()
    with pytest.raises(NotImplementedError, match="^maximum: .*sparse"):
        tg.maximum(tg.ones(3, 3), _sp())
    with pytest.raises(NotImplementedError, match="^matmul: .*to_dense"):
        tg.ones(3, 3) @ _sp()
    with pytest.raises(NotImplementedError, match="^relu: "):
        F.relu(_sp())


def test_repr_matches_torch():
    torch = pytest.importorskip("torch")

    def norm(text):
        return text.replace("torch.", "tg.")
    assert repr(_sp()) == norm(repr(_torch_sp(torch)))
    assert repr(_sp().coalesce()) == norm(repr(_torch_sp(torch).coalesce()))
    assert repr(_sp(tg.float64)) == norm(repr(_torch_sp(torch, torch.float64)))
    assert repr(tg.zeros(2, 3).to_sparse()) == norm(repr(torch.zeros(2, 3).to_sparse()))
    assert repr(tg.tensor(DENSE, dtype=tg.float32).to_sparse(1)) == norm(
        repr(torch.tensor(DENSE, dtype=torch.float32).to_sparse(1)))


def test_mm_matches_dense_and_torch():
    torch = pytest.importorskip("torch")
    d = np.arange(6.0).reshape(3, 2) - 2
    want = DENSE @ d
    for product in (tg.sparse.mm(_sp(), tg.tensor(d, dtype=tg.float32)),
                    tg.mm(_sp(), tg.tensor(d, dtype=tg.float32)),
                    tg.matmul(_sp(), tg.tensor(d, dtype=tg.float32)),
                    _sp() @ tg.tensor(d, dtype=tg.float32), tg.spmm(_sp(), tg.tensor(d).float())):
        np.testing.assert_allclose(product.numpy(), want, rtol=1e-6)
    np.testing.assert_allclose((_sp() @ tg.tensor([1.0, 2.0, 3.0])).numpy(),
                               DENSE @ [1.0, 2.0, 3.0], rtol=1e-6)
    ref = torch.sparse.mm(_torch_sp(torch), torch.tensor(d, dtype=torch.float32))
    np.testing.assert_allclose(tg.sparse.mm(_sp(), tg.tensor(d).float()).numpy(), ref.numpy())
    out = tg.sparse.addmm(tg.ones(3, 2), _sp(), tg.tensor(d).float(), beta=0.5, alpha=2.0)
    np.testing.assert_allclose(out.numpy(), 0.5 + 2 * want, rtol=1e-6)
    with pytest.raises(RuntimeError, match="Expected dim 0 size 3, got 4"):
        tg.sparse.mm(_sp(), tg.ones(4, 2))
    with pytest.raises(RuntimeError, match="same dtype"):
        tg.sparse.mm(_sp(), tg.ones(3, 2, dtype=tg.float64))


def test_mm_gradients_and_sparse_grad_like_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    d = rng.standard_normal((3, 2))
    a, x = _sp(tg.float64, requires_grad=True), tg.tensor(d, requires_grad=True)
    (tg.sparse.mm(a, x) ** 2).sum().backward()
    ta = torch.sparse_coo_tensor(IDX, torch.tensor(VAL, dtype=torch.float64), (3, 3),
                                 requires_grad=True, check_invariants=True)
    tx = torch.tensor(d, requires_grad=True)
    (torch.sparse.mm(ta, tx) ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    assert a.grad.is_sparse and a.grad._nnz() == ta.grad._nnz() == 3
    np.testing.assert_allclose(a.grad.to_dense().numpy(), ta.grad.to_dense().numpy(),
                               rtol=1e-12)


def test_gradcheck_through_sparse_mm():
    rng = np.random.default_rng(1)
    values = tg.tensor(VAL, dtype=tg.float64, requires_grad=True)
    x = tg.tensor(rng.standard_normal((3, 2)), requires_grad=True)

    def fn(v, d):
        return tg.sparse.mm(tg.sparse_coo_tensor(IDX, v, (3, 3)), d).tanh()
    assert tg.autograd.gradcheck(fn, (values, x))
    assert tg.autograd.gradgradcheck(fn, (values, x))

    def dense_of(v):
        return tg.sparse_coo_tensor(IDX, v, (3, 3)).coalesce().to_dense() ** 2
    assert tg.autograd.gradcheck(dense_of, (values,))


def test_sum_matches_torch():
    torch = pytest.importorskip("torch")
    a, ta = _sp(), _torch_sp(torch)
    assert float(tg.sparse.sum(a)) == pytest.approx(DENSE.sum())
    for dim in (0, 1, (0, 1)):
        got, want = tg.sparse.sum(a, dim), torch.sparse.sum(ta, dim)
        assert got.is_sparse == want.is_sparse
        got = got.to_dense() if got.is_sparse else got
        want = want.to_dense() if want.is_sparse else want
        np.testing.assert_allclose(got.numpy(), want.numpy())
        if dim != (0, 1):
            np.testing.assert_allclose(got.numpy(), DENSE.sum(dim))


def test_mul_add_transpose_match_torch():
    torch = pytest.importorskip("torch")
    a, ta = _sp(), _torch_sp(torch)
    c, tc = a.coalesce(), ta.coalesce()
    np.testing.assert_array_equal((a * 2).to_dense().numpy(), 2 * DENSE)
    np.testing.assert_array_equal((3 * c).to_dense().numpy(), 3 * DENSE)
    assert (c * 2).is_coalesced() and not (a * 2).is_coalesced()
    for got, want in ((a + a, ta + ta), (a + a.clone(), ta + ta.clone()), (c + c, tc + tc),
                      (c + c.clone(), tc + tc.clone()), (a - c, ta - tc), (c.t(), tc.t()),
                      (c.transpose(0, 1), tc.transpose(0, 1))):
        assert got.is_coalesced() == want.is_coalesced()
        if got.is_coalesced():                # uncoalesced sums: PyTorch's CPU merge differs
            assert got._nnz() == want._nnz()
        np.testing.assert_array_equal(got.to_dense().numpy(), want.to_dense().numpy())
    np.testing.assert_array_equal((c + c).indices().numpy(), (tc + tc).indices().numpy())
    with pytest.raises(RuntimeError, match="sizes of 'self' and 'other' to match"):
        c + tg.sparse_coo_tensor([[0], [0]], [1.0], (2, 2))


def test_softmax_matches_torch_and_gradcheck():
    torch = pytest.importorskip("torch")
    a, ta = _sp(tg.float64), _torch_sp(torch, torch.float64)
    for dim in (0, 1, -1):
        for ours, theirs in ((tg.sparse.softmax, torch.sparse.softmax),
                             (tg.sparse.log_softmax, torch.sparse.log_softmax)):
            got, want = ours(a, dim), theirs(ta, dim)
            np.testing.assert_array_equal(got.indices().numpy(), want.indices().numpy())
            np.testing.assert_allclose(got.values().numpy(), want.values().numpy(), rtol=1e-12)
    rows = tg.sparse.softmax(tg.tensor([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]]).to_sparse(), 1)
    np.testing.assert_allclose(rows.values().numpy(), [1 / (1 + np.e), np.e / (1 + np.e), 1.0])
    values = tg.tensor([0.5, -1.0, 2.0, 0.3, 1.1], dtype=tg.float64, requires_grad=True)

    def fn(v):
        return tg.sparse.log_softmax(tg.sparse_coo_tensor(IDX, v, (3, 3)), 1).to_dense()
    assert tg.autograd.gradcheck(fn, (values,))


def test_hybrid_sum_and_softmax_match_torch():
    torch = pytest.importorskip("torch")
    cube = np.arange(12.0).reshape(2, 3, 2) % 5 - 1
    cube[0, 1] = 0
    h = tg.tensor(cube).to_sparse(2)                     # (2, 3) sparse, 2 dense
    th = torch.tensor(cube).to_sparse(2)
    assert (h.sparse_dim(), h.dense_dim(), h._nnz()) == (th.sparse_dim(), th.dense_dim(),
                                                         th._nnz())
    for dim in (0, 2, (1, 2), (0, 1)):
        got, want = tg.sparse.sum(h, dim), torch.sparse.sum(th, dim)
        assert got.is_sparse == want.is_sparse
        got = got.to_dense() if got.is_sparse else got
        np.testing.assert_allclose(got.numpy(), want.to_dense().numpy())
        np.testing.assert_allclose(got.numpy(), cube.sum(dim))
    for dim in (1, 2):
        got, want = tg.sparse.softmax(h, dim), torch.sparse.softmax(th, dim)
        np.testing.assert_allclose(got.to_dense().numpy(), want.to_dense().numpy(), rtol=1e-12)


class GraphConv(nn.Module):
    """pytorch/examples gcn's layer, its imports changed."""
    def __init__(self, input_dim, output_dim, use_bias=False):
        super().__init__()
        self.kernel = nn.Parameter(tg.Tensor(input_dim, output_dim))
        nn.init.xavier_normal_(self.kernel)
        self.bias = None
        if use_bias:
            self.bias = nn.Parameter(tg.Tensor(output_dim))
            nn.init.zeros_(self.bias)

    def forward(self, input_tensor, adj_mat):
        support = tg.mm(input_tensor, self.kernel)
        output = tg.spmm(adj_mat, support)
        if self.bias is not None:
            output = output + self.bias
        return output


class GCN(nn.Module):
    def __init__(self, input_dim, hidden_dim, output_dim, use_bias=True, dropout_p=0.0):
        super().__init__()
        self.gc1 = GraphConv(input_dim, hidden_dim, use_bias=use_bias)
        self.gc2 = GraphConv(hidden_dim, output_dim, use_bias=use_bias)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, input_tensor, adj_mat):
        x = self.gc1(input_tensor, adj_mat)
        x = F.relu(x)
        x = self.dropout(x)
        x = self.gc2(x, adj_mat)
        return F.log_softmax(x, dim=1)


def _graph(n=12, edges=30, features=5, classes=3):
    """A random undirected graph with self-loops, normalised as D^-1/2 (A + I) D^-1/2."""
    rng = np.random.default_rng(0)
    pairs = rng.integers(0, n, size=(2, edges))
    a = np.eye(n)
    a[pairs[0], pairs[1]] = a[pairs[1], pairs[0]] = 1.0
    scale = 1 / np.sqrt(a.sum(1))
    norm = a * scale[:, None] * scale[None, :]
    rows, cols = np.nonzero(norm)
    return (np.stack([rows, cols]), norm[rows, cols], rng.standard_normal((n, features)),
            rng.integers(0, classes, size=n))


def test_gcn_trains_and_matches_torch_step_by_step():
    torch = pytest.importorskip("torch")
    indices, weights, feats, labels = _graph()
    n = feats.shape[0]
    tg.manual_seed(0)
    model = GCN(5, 8, 3).double()
    adj = tg.sparse_coo_tensor(indices, tg.tensor(weights), (n, n))
    x, y = tg.tensor(feats), tg.tensor(labels)
    tadj = torch.sparse_coo_tensor(torch.tensor(indices), torch.tensor(weights), (n, n),
                                   check_invariants=True)
    tx, ty = torch.tensor(feats), torch.tensor(labels)
    tparams = [torch.tensor(p.detach().numpy(), requires_grad=True) for p in model.parameters()]
    opt = optim.Adam(model.parameters(), lr=0.05, weight_decay=5e-4)
    topt = torch.optim.Adam(tparams, lr=0.05, weight_decay=5e-4)
    k1, b1, k2, b2 = tparams
    losses = []
    for _ in range(8):
        opt.zero_grad()
        loss = F.nll_loss(model(x, adj), y)
        loss.backward()
        opt.step()
        topt.zero_grad()
        h = torch.relu(torch.sparse.mm(tadj, tx @ k1) + b1)
        tloss = torch.nn.functional.nll_loss(
            torch.log_softmax(torch.sparse.mm(tadj, h @ k2) + b2, dim=1), ty)
        tloss.backward()
        topt.step()
        assert float(loss) == pytest.approx(tloss.item(), rel=1e-10)
        losses.append(float(loss))
    assert losses[-1] < losses[0] - 0.1


def test_dense_plus_sparse_is_the_dense_sum():
    """As PyTorch's ``torch.eye(n) + adj`` (GAT's data loading): a dense result."""
    total = tg.ones(3, 3) + _sp()
    assert not total.is_sparse
    np.testing.assert_array_equal(total.numpy(), 1.0 + _sp().to_dense().numpy())
