"""The torch.func tutorials, the transformer LM, FGSM and autograd-mechanics snippets, ported by
changing the imports (see ``scripts_func.py`` and ``scripts_func_more.py``).

As in ``test_ports.py``: part (a) runs each script under tinygen alone and checks its results
against closed forms (or that it learns); part (b) builds the model in PyTorch, copies the
state_dict into tinygen's, feeds both the same float64 data and compares the results.
"""

import math

import numpy as np
import pytest

import tinygen

from tests.ports import scripts_func as S
from tests.ports import scripts_func_more as M
from tests.ports.test_ports import (TG, _torch_modules, assert_learns, assert_same_losses,
                                    assert_same_params, copy_state, float64_twins, to)

# torch.func's forward-mode transforms script a helper on first use (torch's own warning)
TORCH_JIT_DEPRECATION = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")
RNG = np.random.default_rng(7)
IMAGES = RNG.standard_normal((4, 1, 8, 8))
LABELS = RNG.integers(0, 10, 4)
W, B, X = RNG.standard_normal((5, 4)), RNG.standard_normal(5), RNG.standard_normal(4)
XB = RNG.standard_normal((3, 4))
TANGENT = RNG.standard_normal(4)
NTK_X1, NTK_X2 = RNG.standard_normal((3, 3, 8, 8)), RNG.standard_normal((2, 3, 8, 8))


def tiny_cnn(torch, nn, F):
    return S.make_simple_cnn(torch, nn, F, c1=2, c2=3, hidden=8, side=8)


def tiny_mlps(torch, nn, F):
    return nn.ModuleList(S.make_models(torch, nn, F, num_models=3, d_in=16, hidden=8))


def tiny_ntk_cnn(torch, nn, F):
    return S.make_ntk_cnn(torch, nn, ch=2, side=8)


def tiny_lm(torch, nn, F):
    return M.make_transformer_lm(torch, nn, 8, d_model=8, nhead=2, d_hid=16, nlayers=2,
                                 dropout=0.0)


def token_stream(torch, n=240, vocab=8):
    """t[i+1] = (t[i] + 3) % vocab: batchify'd (train, val) as the tutorial's wikitext."""
    stream = torch.tensor((3 * np.arange(n)) % vocab)
    return M.batchify(stream[:n * 3 // 4], 4), M.batchify(stream[n * 3 // 4:], 2)


def tiny_fgsm_net(torch, nn, F):
    return M.make_fgsm_net(torch, nn, F, c1=2, c2=3, hidden=8, side=8)


def blobs(n, seed):
    """(normalized 8x8 images in [0, 1], labels): class c is a blob at the c-th of ten places
    on a circle, plus noise."""
    yy, xx = np.mgrid[0:8, 0:8]
    ang = 2 * np.pi * np.arange(10)[:, None, None] / 10
    templates = np.exp(-((yy - 3.5 - 3 * np.sin(ang)) ** 2 + (xx - 3.5 - 3 * np.cos(ang)) ** 2))
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, size=n)
    x = np.clip(templates[y] + 0.1 * rng.standard_normal((n, 8, 8)), 0, 1)[:, None]
    return (x - 0.1307) / 0.3081, y


def trained_fgsm_net(steps=60):
    """The tiny Net under tinygen in float64, trained (Adam, full batch) on 64 blobs: a random
    one predicts one class for every input, which no small step changes."""
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    net = tiny_fgsm_net(torch, nn, F).double()
    x, y = blobs(64, 0)
    opt = optim.Adam(net.parameters(), lr=0.03)
    for _ in range(steps):
        opt.zero_grad()
        F.nll_loss(net(to(torch, x)), to(torch, y)).backward()
        opt.step()
    return net.eval()


class fgsm_loader:
    """The tutorial's test_loader: batches of one held-out image, new tensors on each pass
    (fgsm_test sets their requires_grad)."""

    def __init__(self, torch, n=12):
        self.torch, (self.x, self.y) = torch, blobs(n, 1)

    def __len__(self):
        return len(self.y)

    def __iter__(self):
        for i in range(len(self)):
            yield to(self.torch, self.x[i:i + 1]), to(self.torch, self.y[i:i + 1])


# --- (a) tinygen alone: 1-4, torch.func -----------------------------------------------------------

def test_per_sample_grads_under_tinygen():
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    model = tiny_cnn(torch, nn, F).double()
    loop, ft = S.per_sample_grads(torch, F, model, to(torch, IMAGES), to(torch, LABELS))
    assert list(ft) == [k for k, _ in model.named_parameters()]
    for (name, p), g, h in zip(model.named_parameters(), loop, ft.values()):
        assert tuple(g.shape) == tuple(h.shape) == (4,) + tuple(p.shape)
        np.testing.assert_allclose(h.numpy(), g.numpy(), rtol=1e-10, atol=1e-14)
        # nll_loss averages, so the batch gradient is the mean of the per-sample ones
        np.testing.assert_allclose(g.numpy().mean(0), p.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_ensembling_under_tinygen():
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    models = S.make_models(torch, nn, F, num_models=3, d_in=16, hidden=8)
    with pytest.raises(ValueError, match="unknown device 'meta'"):
        models[0].to('meta')                     # gap: no 'meta' device; a CPU copy stands in
    data = to(torch, RNG.standard_normal((4, 5, 1, 4, 4)).astype(np.float32))
    loop1, vmap1, loop2, vmap2 = S.ensemble(torch, models, data, meta=False)
    assert tuple(vmap1.shape) == tuple(vmap2.shape) == (3, 5, 10)
    np.testing.assert_allclose(vmap1.detach().numpy(), loop1.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(vmap2.detach().numpy(), loop2.detach().numpy(), rtol=1e-6)
    vmap1.sum().backward()                       # the stacked params are leaves that learn
    params, _ = torch.func.stack_module_state(models)
    assert all(p.requires_grad and p.grad is None for p in params.values())


def test_jacobians_and_hessians_under_tinygen():
    torch, nn, F, optim = TG
    w, b, x = to(torch, W[:4, :4]), to(torch, B[:4]), to(torch, X)
    y = np.tanh(W[:4, :4] @ X + B[:4])
    jac = (1 - y ** 2)[:, None] * W[:4, :4]                      # d tanh(Wx+b) / dx
    jacobian, ft_jacobian, fwd, jac_w, jac_b = S.jacobians(torch, F, w, b, x)
    for j in (jacobian, ft_jacobian, fwd):
        np.testing.assert_allclose(j.numpy(), jac, rtol=1e-12)
    np.testing.assert_allclose(jac_b.numpy(), np.diag(1 - y ** 2), rtol=1e-12)
    np.testing.assert_allclose(jac_w.numpy(), np.einsum("ij,k->ijk", np.diag(1 - y ** 2), X),
                               rtol=1e-12, atol=1e-15)
    y = np.tanh(W @ X + B)
    hess = np.einsum("i,ij,ik->ijk", -2 * y * (1 - y ** 2), W, W)
    for h in S.hessians(torch, F, to(torch, W), to(torch, B), x):
        np.testing.assert_allclose(h.numpy(), hess, rtol=1e-10, atol=1e-14)
    j0, j1, bh = S.batch_jacobians(torch, F, to(torch, W), to(torch, B), to(torch, XB))
    yb = np.tanh(XB @ W.T + B)
    for j in (j0, j1):
        np.testing.assert_allclose(j.numpy(), (1 - yb ** 2)[:, :, None] * W, rtol=1e-12)
    np.testing.assert_allclose(bh[1].numpy(), S.hessians(torch, F, to(torch, W), to(torch, B),
                                                         to(torch, XB[1]))[0].numpy(), rtol=1e-12)
    for v in S.hvp_vhp(torch, x, to(torch, TANGENT)):          # H = diag(-sin x)
        np.testing.assert_allclose(v.numpy(), -np.sin(X) * TANGENT, rtol=1e-12)


@pytest.mark.parametrize("compute", ["full", "trace", "diagonal"])
def test_ntk_under_tinygen(compute):
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    net = tiny_ntk_cnn(torch, nn, F).double()
    x1, x2 = to(torch, NTK_X1), to(torch, NTK_X2)
    by_jac, by_vps = S.ntk(torch, net, x1, x2, compute)
    np.testing.assert_allclose(by_vps.numpy(), by_jac.numpy(), rtol=1e-10, atol=1e-12)
    # the (0, 1) entry by hand: J(x1[0]) J(x2[1])^T from autograd rows
    rows = []
    for x in (x1[0], x2[1]):
        out = net(x.unsqueeze(0))[0]
        rows.append(np.stack([np.concatenate([g.numpy().ravel() for g in torch.autograd.grad(
            out[k], list(net.parameters()), retain_graph=True)]) for k in range(10)]))
    full = rows[0] @ rows[1].T
    want = {"full": full, "trace": np.trace(full), "diagonal": np.diag(full)}[compute]
    np.testing.assert_allclose(by_jac[0, 1].numpy(), want, rtol=1e-10, atol=1e-12)


# --- (a) tinygen alone: 5-7 -----------------------------------------------------------------------

def test_transformer_lm_learns_under_tinygen():
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    model = M.make_transformer_lm(torch, nn, 8, d_model=16, nhead=2, d_hid=16, nlayers=1)
    assert model.pos_encoder.pe.shape == (5000, 1, 16) and 'pos_encoder.pe' in model.state_dict()
    pe = model.pos_encoder.pe.numpy()
    np.testing.assert_allclose(pe[3, 0, 2], math.sin(3 * math.exp(2 * -math.log(1e4) / 16)),
                               rtol=1e-6)
    mask = nn.Transformer.generate_square_subsequent_mask(3).numpy()
    np.testing.assert_array_equal(mask, [[0, -np.inf, -np.inf], [0, 0, -np.inf], [0, 0, 0]])
    train, val = token_stream(torch)
    assert tuple(train.shape) == (45, 4) and tuple(val.shape) == (30, 2)
    data, targets = M.get_batch(train, 40, bptt=8)
    assert tuple(data.shape) == (4, 4) and tuple(targets.shape) == (16,)
    np.testing.assert_array_equal(targets.numpy(), train[41:45].numpy().ravel())
    assert tuple(model(data).shape) == (4, 4, 8)
    losses, val_losses, lrs = M.transformer_lm_run(torch, nn, model, train, val, 8, epochs=3,
                                                   lr=1.0, bptt=8)
    assert losses[0] == pytest.approx(math.log(8), rel=0.2)
    assert_learns(losses, 4, 0.2)
    assert val_losses[-1] < 0.2 * math.log(8)
    np.testing.assert_allclose(lrs, [1.0, 0.95, 0.95 ** 2])
    assert not model.training


def test_fgsm_under_tinygen():
    torch, nn, F, optim = TG
    net = trained_fgsm_net()
    loader = fgsm_loader(torch)
    accs = [M.fgsm_test(torch, F, net, 'cpu', loader, eps)[0] for eps in (0, 0.1, 0.3)]
    assert accs[0] >= 0.75 and accs[2] < accs[1] < accs[0], accs   # the attack works
    _, examples = M.fgsm_test(torch, F, net, 'cpu', loader, 0)
    assert len(examples) == 5 and examples[0][2].shape == (8, 8)
    assert all(init == final for init, final, _ in examples)
    # one attack step by hand
    data, target = next(iter(loader))
    data.requires_grad = True
    F.nll_loss(net(data), target).backward()
    raw = M.denorm(torch, data).detach().numpy()
    np.testing.assert_allclose(raw, data.detach().numpy() * 0.3081 + 0.1307, rtol=1e-12)
    adv = M.fgsm_attack(torch, M.denorm(torch, data), 0.1, data.grad.data)
    np.testing.assert_allclose(adv.detach().numpy(),
                               np.clip(raw + 0.1 * np.sign(data.grad.numpy()), 0, 1), rtol=1e-12)


def test_autograd_mechanics_under_tinygen():
    torch, nn, F, optim = TG
    v_grad, x_grad, y_grad, seen, y_grad2, x_grad2 = M.hooks_and_retain_grad(torch)
    np.testing.assert_array_equal(v_grad.numpy(), [2, 4, 6])
    np.testing.assert_array_equal(seen.numpy(), [1, 1, 2])    # the hook sees dz/dy
    np.testing.assert_array_equal(y_grad.numpy(), [10, 10, 20])   # retain_grad sees the hooked
    np.testing.assert_array_equal(x_grad.numpy(), [20, 40, 120])  # 2x * hooked dz/dy
    np.testing.assert_array_equal(y_grad2.numpy(), [11, 11, 22])
    np.testing.assert_array_equal(x_grad2.numpy(), [22, 44, 132])
    flags = M.locally_disabling_grad(torch, nn)
    assert flags == {'no_grad': False, 'decorator': False, 'detach': False, 'before': False,
                     'requires_grad_': True, 'frozen_grads': [False, False, True, True]}


def test_gradient_penalty_under_tinygen():
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    model = nn.Linear(3, 2).double()
    w0, b0 = model.weight.detach().numpy().copy(), model.bias.detach().numpy().copy()
    x, t = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 2))
    hist = M.gradient_penalty_train(torch, model, nn.MSELoss(),
                                    optim.SGD(model.parameters(), lr=0.1),
                                    [(to(torch, x), to(torch, t))])
    r = x @ w0.T + b0 - t                       # MSE's gradient, then its norm, by hand
    gw, gb = 2 * r.T @ x / r.size, 2 * r.sum(0) / r.size
    norm = math.sqrt((gw ** 2).sum() + (gb ** 2).sum())
    assert hist[0][1] == pytest.approx(norm, rel=1e-12)
    assert hist[0][0] == pytest.approx((r ** 2).mean() + norm, rel=1e-12)
    assert not np.allclose(model.weight.detach().numpy(), w0 - 0.1 * gw)  # the penalty's part


# --- (b) against PyTorch --------------------------------------------------------------------------

def test_per_sample_grads_match_torch():
    T, t_model, g_model = float64_twins(tiny_cnn)
    t_loop, t_ft = S.per_sample_grads(T[0], T[2], t_model, to(T[0], IMAGES), to(T[0], LABELS))
    g_loop, g_ft = S.per_sample_grads(tinygen, TG[2], g_model, to(tinygen, IMAGES),
                                      to(tinygen, LABELS))
    assert list(g_ft) == list(t_ft)
    for a, b in zip(list(g_loop) + list(g_ft.values()), list(t_loop) + list(t_ft.values())):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-14)


def test_ensembling_matches_torch():
    T, t_models, g_models = float64_twins(tiny_mlps)
    data = RNG.standard_normal((4, 5, 1, 4, 4))
    t_out = S.ensemble(T[0], list(t_models), to(T[0], data), meta=True)
    g_out = S.ensemble(tinygen, list(g_models), to(tinygen, data), meta=False)
    for a, b in zip(g_out, t_out):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)


@TORCH_JIT_DEPRECATION
def test_jacobians_hessians_hvp_match_torch():
    torch = _torch_modules()[0]
    for fn, args in ((S.jacobians, (W[:4, :4], B[:4], X)), (S.hessians, (W, B, X)),
                     (S.batch_jacobians, (W, B, XB))):
        t_out = fn(torch, torch.nn.functional, *(to(torch, a) for a in args))
        g_out = fn(tinygen, TG[2], *(to(tinygen, a) for a in args))
        for a, b in zip(g_out, t_out):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-15)
    for a, b in zip(S.hvp_vhp(tinygen, to(tinygen, X), to(tinygen, TANGENT)),
                    S.hvp_vhp(torch, to(torch, X), to(torch, TANGENT))):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


@TORCH_JIT_DEPRECATION
def test_ntk_matches_torch():
    T, t_net, g_net = float64_twins(tiny_ntk_cnn)
    for compute in ("full", "diagonal"):
        t_out = S.ntk(T[0], t_net, to(T[0], NTK_X1), to(T[0], NTK_X2), compute)
        g_out = S.ntk(tinygen, g_net, to(tinygen, NTK_X1), to(tinygen, NTK_X2), compute)
        for a, b in zip(g_out, t_out):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
def test_transformer_lm_matches_torch():
    T, t_model, g_model = float64_twins(tiny_lm)
    t_res = M.transformer_lm_run(T[0], T[1], t_model, *token_stream(T[0]), 8, epochs=2, lr=1.0,
                                 bptt=8)
    g_res = M.transformer_lm_run(tinygen, TG[1], g_model, *token_stream(tinygen), 8, epochs=2,
                                 lr=1.0, bptt=8)
    assert_same_losses(t_res[0], g_res[0])
    assert_same_losses(t_res[1], g_res[1])
    assert g_res[2] == pytest.approx(t_res[2], rel=1e-15)
    assert_same_params(t_model, g_model)


def test_fgsm_matches_torch():
    T = _torch_modules()
    g_net = trained_fgsm_net()
    t_net = tiny_fgsm_net(*T[:3]).double().eval()
    t_net.load_state_dict({k: to(T[0], v.numpy()) for k, v in g_net.state_dict().items()})
    t_loader, g_loader = fgsm_loader(T[0]), fgsm_loader(tinygen)
    for eps in (0, 0.05, 0.3):
        t_acc, t_ex = M.fgsm_test(T[0], T[2], t_net, 'cpu', t_loader, eps)
        g_acc, g_ex = M.fgsm_test(tinygen, TG[2], g_net, 'cpu', g_loader, eps)
        assert g_acc == t_acc
        assert [e[:2] for e in g_ex] == [e[:2] for e in t_ex]
        for a, b in zip(g_ex, t_ex):
            np.testing.assert_allclose(a[2], b[2], rtol=1e-12, atol=1e-15)


def test_autograd_mechanics_match_torch():
    T = _torch_modules()
    for a, b in zip(M.hooks_and_retain_grad(tinygen), M.hooks_and_retain_grad(T[0])):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert M.locally_disabling_grad(tinygen, TG[1]) == M.locally_disabling_grad(T[0], T[1])


def test_gradient_penalty_matches_torch():
    T, t_model, g_model = float64_twins(lambda torch, nn, F: nn.Sequential(
        nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)))
    data = [(RNG.standard_normal((4, 3)), RNG.standard_normal((4, 2))) for _ in range(3)]
    hists = []
    for torch, nn, optim, model in ((T[0], T[1], T[3], t_model), (tinygen, TG[1], TG[3],
                                                                  g_model)):
        hists.append(M.gradient_penalty_train(
            torch, model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1),
            [(to(torch, x), to(torch, t)) for x, t in data]))
    np.testing.assert_allclose(hists[1], hists[0], rtol=1e-10)
    assert_same_params(t_model, g_model)
    copy_state(t_model, g_model)                 # still the same architecture, key for key
