"""pytorch/examples mnist_forward_forward, mnist_rnn and gat, ported by changing the imports (see
``scripts_examples_more.py`` and ``scripts_gat.py``), on tiny synthetic data.

Under tinygen each script runs end to end and learns; where PyTorch is importable the training
steps are compared with PyTorch in float64 from the same weights and data (dropout off, and the
random parts, the negative labels and the split, fixed from outside).
"""

import types

import numpy as np
import pytest

import tinygen
import tinygen.nn
import tinygen.nn.functional
import tinygen.optim
import tinygen.optim.lr_scheduler
import tinygen.utils.data

from tests.ports import scripts_examples_more as S
from tests.ports import scripts_gat as G
from tests.ports.test_ports import copy_state
from tests.ports.test_ports_basics import digits

TGM = (tinygen, tinygen.nn, tinygen.nn.functional, tinygen.optim,
       tinygen.optim.lr_scheduler.StepLR, tinygen.utils.data)


def torch_modules():
    torch = pytest.importorskip("torch")
    import torch.nn.functional
    import torch.optim.lr_scheduler
    import torch.utils.data
    return (torch, torch.nn, torch.nn.functional, torch.optim,
            torch.optim.lr_scheduler.StepLR, torch.utils.data)


def normalized(n, seed, dtype=np.float32):
    x, y = digits(n, seed, dtype=np.float64)
    return ((x - 0.1307) / 0.3081).astype(dtype), y


# --- mnist_forward_forward ---------------------------------------------------------------------

def test_forward_forward_helpers_and_training_under_tinygen():
    torch, nn = tinygen, tinygen.nn
    torch.manual_seed(1)
    args = types.SimpleNamespace(lr=0.03, threshold=2.0, epochs=40)
    x, y = map(torch.tensor, normalized(100, 0))
    x_te, y_te = map(torch.tensor, normalized(50, 1))
    net, y_neg, train_error, test_error = S.forward_forward_main(
        torch, nn, torch.optim.Adam, args, x, y, x_te, y_te, dims=(784, 64, 64))
    assert (y_neg != y).all() and y_neg.dtype == torch.int64
    assert set(y_neg.tolist()) <= set(range(10))
    _, overlay, _ = S.make_forward_forward(torch, nn, torch.optim.Adam, args, "cpu")
    o = overlay(x, y).numpy()
    assert (o[:, :10].sum(1) == x.max().item()).all()          # one-hot label, x.max() high
    assert (o[np.arange(100), y.numpy()] == x.max().item()).all()
    np.testing.assert_array_equal(o[:, 10:], x.numpy()[:, 10:])
    for layer in net.layers:
        assert layer.losses[-1] < layer.losses[0]
    assert train_error < 0.5 and test_error < 0.6, (train_error, test_error)


def test_forward_forward_layers_match_torch():
    T = torch_modules()
    args = types.SimpleNamespace(lr=0.03, threshold=2.0, epochs=5)
    x, y = normalized(16, 0, dtype=np.float64)
    y_neg = (y + 1 + np.random.default_rng(0).integers(0, 9, size=16)) % 10
    nets, preds = [], []
    for m in (T, TGM):
        torch = m[0]
        torch.set_default_dtype(torch.float64)
        try:
            torch.manual_seed(0)
            _, overlay, Net = S.make_forward_forward(torch, m[1], m[3].Adam, args, "cpu")
            nets.append(Net([784, 32, 16]))
            if torch is tinygen:               # the weights as PyTorch drew them, untrained
                for t_layer, g_layer in zip(nets[0].layers, nets[1].layers):
                    copy_state(t_layer, g_layer)
                for net, mm in zip(nets, (T, TGM)):
                    xt, yt, nt = (mm[0].tensor(a) for a in (x, y, y_neg))
                    ov = S.make_forward_forward(mm[0], mm[1], mm[3].Adam, args, "cpu")[1]
                    net.train(ov(xt, yt), ov(xt, nt))
                    preds.append(net.predict(xt).numpy())
        finally:
            torch.set_default_dtype(torch.float32)
    np.testing.assert_array_equal(preds[1], preds[0])
    for t_layer, g_layer in zip(*(n.layers for n in nets)):
        np.testing.assert_allclose(g_layer.losses, t_layer.losses, rtol=1e-9)
        np.testing.assert_allclose(g_layer.weight.detach().numpy(),
                                   t_layer.weight.detach().numpy(), rtol=1e-7, atol=1e-10)


# --- mnist_rnn ---------------------------------------------------------------------------------

def rnn_loader(torch, data, n, batch_size, seed=0, dtype=np.float32):
    x, y = normalized(n, seed, dtype)
    ds = data.TensorDataset(torch.tensor(x.reshape(n, 1, 28, 28)), torch.tensor(y))
    return data.DataLoader(ds, batch_size=batch_size)


@pytest.mark.filterwarnings("ignore:dropout2d")
def test_mnist_rnn_trains_under_tinygen():
    torch, nn, F, optim, StepLR, data = TGM
    torch.manual_seed(1)
    args = types.SimpleNamespace(lr=1.0, gamma=0.7, epochs=3, log_interval=10, dry_run=False)
    model, losses, tests = S.rnn_main(torch, nn, F, optim, StepLR, args,
                                      rnn_loader(torch, data, 64, 16),
                                      rnn_loader(torch, data, 32, 32, seed=1))
    assert np.mean(losses[-4:]) < np.mean(losses[:4]), losses
    assert tests[-1][1] > 6, tests                              # chance is 3.2 of 32


def test_dropout2d_on_2d_input_drops_elements_as_torch():
    """The example applies Dropout2d to (N, 64): PyTorch (2.x) warns and drops single elements,
    as plain dropout does (one mask value per (N, C) pair)."""
    tinygen.manual_seed(0)
    with pytest.warns(UserWarning, match="2-D input"):
        out = tinygen.nn.Dropout2d(0.5)(tinygen.ones(64, 8)).numpy()
    assert set(np.unique(out)) == {0.0, 2.0}
    assert sum(len(set(row)) == 2 for row in out) > 32          # rows are not dropped whole
    assert 0.35 < (out == 0).mean() < 0.65


@pytest.mark.filterwarnings("ignore:dropout2d")
def test_mnist_rnn_matches_torch():
    T = torch_modules()
    models = []
    for m in (T, TGM):
        m[0].manual_seed(0)
        models.append(S.make_rnn_net(*m[:3]).double())
    copy_state(*models)
    args = types.SimpleNamespace(lr=1.0, gamma=0.7, epochs=2, log_interval=1, dry_run=False)
    results = []
    for m, model in zip((T, TGM), models):
        model.dropout1.p = model.dropout2.p = 0.0
        results.append(S.rnn_main(*m[:5], args, rnn_loader(m[0], m[5], 8, 4, dtype=np.float64),
                                  rnn_loader(m[0], m[5], 8, 8, 1, np.float64), model=model))
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-8)
    np.testing.assert_allclose([t[0] for t in results[1][2]], [t[0] for t in results[0][2]],
                               rtol=1e-8)
    for (name, tp), gp in zip(models[0].named_parameters(), models[1].parameters()):
        np.testing.assert_allclose(gp.detach().numpy(), tp.detach().numpy(), rtol=1e-6,
                                   atol=1e-9, err_msg=name)


# --- gat ---------------------------------------------------------------------------------------

CLASSES = ["Case_Based", "Genetic_Algorithms", "Neural_Networks"]


def write_cora(path, n=30, n_feat=24, seed=0):
    """cora.content (id, binary features, class name) and cora.cites (cited, citing ids): each
    class has its own favourite features, and most citations stay within a class."""
    rng = np.random.default_rng(seed)
    ids = rng.choice(np.arange(1000, 99999), size=n, replace=False)
    y = rng.integers(0, 3, size=n)
    feats = rng.random((n, n_feat)) < 0.1
    for i, k in enumerate(y):
        feats[i, 8 * k:8 * k + 8] |= rng.random(8) < 0.5
    feats[0] = False                                            # an empty row: 1/0 -> inf -> 0
    path.mkdir(exist_ok=True)
    with open(path / "cora.content", "w") as f:
        for i in range(n):
            f.write("\t".join([str(ids[i])] + [str(int(v)) for v in feats[i]] + [CLASSES[y[i]]])
                    + "\n")
    with open(path / "cora.cites", "w") as f:
        for i in range(n):
            same = np.flatnonzero(y == y[i])
            for j in rng.choice(same, size=2):
                if j != i:
                    f.write(f"{ids[j]}\t{ids[i]}\n")
    return feats, y


def test_load_cora_under_tinygen(tmp_path):
    feats, y = write_cora(tmp_path / "cora")
    features, labels, adj = G.load_cora(tinygen, path=str(tmp_path / "cora"))
    f = feats.astype(np.float64)
    s = f.sum(1, keepdims=True)
    np.testing.assert_allclose(features.numpy(), np.divide(f, s, out=np.zeros_like(f),
                                                           where=s > 0), rtol=1e-6)
    np.testing.assert_array_equal(labels.numpy(), y)
    a = adj.to_dense().numpy() if adj.is_sparse else adj.numpy()
    assert np.all(np.diag(a) >= 1) and a.shape == (30, 30)


def gat_args(**kw):
    args = dict(epochs=30, lr=0.05, l2=5e-4, dropout_p=0.2, hidden_dim=8, num_heads=2,
                concat_heads=False, val_every=20, dry_run=False, seed=13)
    args.update(kw)
    return types.SimpleNamespace(**args)


@pytest.mark.parametrize("concat", [False, True])
def test_gat_trains_under_tinygen(tmp_path, concat):
    torch, nn, F = TGM[:3]
    write_cora(tmp_path / "cora")
    net, history, (loss_test, acc_test), _ = G.gat_main(
        torch, nn, F, torch.optim.Adam, gat_args(concat_heads=concat), str(tmp_path / "cora"),
        n_test=8, n_val=6)
    assert history[-1][0] < 0.7 * history[0][0], history        # loss_train
    assert history[-1][1] >= 0.75 and acc_test >= 0.5, (history[-1], acc_test)


@pytest.mark.filterwarnings("ignore:Sparse invariant")
def test_gat_matches_torch(tmp_path):
    T = torch_modules()
    write_cora(tmp_path / "cora")
    args = gat_args(dropout_p=0.0, concat_heads=True)
    mask_train, mask_val = np.arange(10, 30), np.arange(4, 10)
    nets = []
    for m in (T, TGM):
        m[0].manual_seed(0)
        nets.append(G.make_gat(*m[:3])[1](24, args.hidden_dim, args.num_heads, 3, concat=True,
                                           dropout=0.0).double())
    copy_state(*nets)                          # before either trains
    hist = []
    for m, net in zip((T, TGM), nets):
        torch, nn = m[:2]
        features, labels, adj = G.load_cora(torch, path=str(tmp_path / "cora"))
        opt = m[3].Adam(net.parameters(), lr=args.lr, weight_decay=args.l2)
        test = G.make_test(torch)
        inp = (features.double(), adj)
        hist.append([G.train_iter(e, net, opt, nn.NLLLoss(), inp, labels,
                                  torch.tensor(mask_train), torch.tensor(mask_val), test)
                     for e in range(4)])
    np.testing.assert_allclose(np.array(hist[1]), np.array(hist[0]), rtol=1e-8, atol=1e-12)
    for (name, tp), gp in zip(nets[0].named_parameters(), nets[1].parameters()):
        np.testing.assert_allclose(gp.detach().numpy(), tp.detach().numpy(), rtol=1e-7,
                                   atol=1e-10, err_msg=name)


def test_creation_functions_take_size_as_a_keyword():
    """GraphAttentionLayer calls torch.empty(size=(...)); PyTorch's factories all accept it."""
    for f in (tinygen.empty, tinygen.zeros, tinygen.ones, tinygen.rand, tinygen.randn):
        assert tuple(f(size=(2, 3)).shape) == (2, 3) and tuple(f(size=[4]).shape) == (4,)
        with pytest.raises(TypeError, match="size"):
            f(2, size=(3,))
    assert tinygen.zeros(size=(2,), dtype=tinygen.int64).dtype == tinygen.int64


def test_dense_plus_sparse_is_dense_as_in_torch():
    """load_cora adds torch.eye(V) to a sparse int64 adjacency matrix."""
    s = tinygen.sparse_coo_tensor([[0, 1, 1], [1, 0, 1]], tinygen.ones(3), (2, 2),
                                  dtype=tinygen.int64)
    r = tinygen.eye(2) + s
    assert r.layout == tinygen.strided and r.dtype == tinygen.float32
    np.testing.assert_array_equal(r.numpy(), [[1, 1], [1, 2]])
    np.testing.assert_array_equal((s + tinygen.eye(2)).numpy(), r.numpy())
