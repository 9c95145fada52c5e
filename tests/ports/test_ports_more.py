"""More pytorch/examples scripts ported by changing the imports (see ``scripts_more.py``).

As in ``test_ports.py``: part (a) runs each script under tinygen alone (no PyTorch needed) and
checks that it learns; part (b) builds the model in PyTorch, copies the state_dict into tinygen's
(keys, shapes, dtypes and repr must match), feeds both the same float64 data and compares the
losses step by step and the final parameters. The gaps these scripts found in tinygen (a copying
repeat, nn.Transformer, tensors of 0-d tensors, format specs on 0-d tensors, a silent log(0)) each
keep a precise test here.
"""

import math

import numpy as np
import pytest

import tinygen
import tinygen.nn
import tinygen.nn.functional
import tinygen.optim

from tests.ports import scripts_more as S
from tests.ports.test_ports import (TG, _torch_modules, assert_learns, assert_same_losses,
                                    assert_same_params, copy_state, float64_twins, to)

# PyTorch's own note that its TransformerEncoder skips the nested-tensor fast path
pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning")

NTOK = 24


# --- data ---------------------------------------------------------------------------------------

def wlm_tokens(n, seed=0, noise=0.05):
    """A token stream that mostly follows t[i+1] = (5 t[i] + 1) % 24, sometimes jumping."""
    rng = np.random.default_rng(seed)
    out = np.empty(n, dtype=np.int64)
    out[0] = rng.integers(NTOK)
    for i in range(1, n):
        out[i] = rng.integers(NTOK) if rng.random() < noise else (5 * out[i - 1] + 1) % NTOK
    return out


def style_images(n, batch, size=16, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    out = []
    for _ in range(n):
        phase = rng.uniform(0, 6, size=(batch, 3, 1, 1))
        img = 127.5 + 100 * np.sin(xx / 2.0 + phase) * np.cos(yy / 3.0 + phase)
        out.append((img + 10 * rng.standard_normal(img.shape)).astype(dtype))
    style = (127.5 + 120 * np.sign(np.sin((xx + yy) / 1.5)))[None, None].repeat(3, 1)
    return out, style.astype(dtype)


def sr_batches(n, batch=4, size=16, seed=0, dtype=np.float32):
    """Smooth 'high-res' images and their 2x2 average-pooled low-res inputs."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    out = []
    for _ in range(n):
        a, b, c = rng.uniform(1, 4, size=(3, batch, 1, 1, 1))
        hi = 0.5 + 0.4 * np.sin(a * 3 * xx + b * 2 * yy + c)
        lo = hi.reshape(batch, 1, size // 2, 2, size // 2, 2).mean((3, 5))
        out.append((lo.astype(dtype), hi.astype(dtype)))
    return out


def sine_data(N=8, L=30, T=20, seed=0):
    """generate_sine_wave.py, shrunk (N=100, L=1000 upstream)."""
    rng = np.random.default_rng(seed)
    x = np.empty((N, L), 'int64')
    x[:] = np.array(range(L)) + rng.integers(-4 * T, 4 * T, N).reshape(N, 1)
    return np.sin(x / 1.0 / T).astype('float64')


def regression_data(n, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((S.POLY_DEGREE, 1)) * 5
    b = rng.standard_normal(1) * 5
    return W.astype(dtype), b.astype(dtype), [rng.standard_normal(32).astype(dtype)
                                              for _ in range(n)]


def siamese_batches(n, batch=8, seed=0, dtype=np.float32):
    """Pairs of 16x16 images: the same template plus noise (target 1) or two different
    templates (target 0)."""
    templates = np.random.default_rng(7).random((6, 1, 16, 16))
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        i = rng.integers(0, 6, size=batch)
        same = rng.random(batch) < 0.5
        j = np.where(same, i, (i + rng.integers(1, 6, size=batch)) % 6)
        a = templates[i] + 0.1 * rng.standard_normal((batch, 1, 16, 16))
        b = templates[j] + 0.1 * rng.standard_normal((batch, 1, 16, 16))
        out.append((a.astype(dtype), b.astype(dtype), same.astype(dtype)))
    return out


def tensors(torch, *arrays):
    return tuple(to(torch, a) for a in arrays)


# --- 1. word_language_model ---------------------------------------------------------------------

RNN_TYPES = ["LSTM", "GRU", "RNN_TANH"]


def _wlm_run(T, model, model_type, epochs, lr, train_tokens, val_tokens, bsz=4):
    torch, nn = T[0], T[1]
    train_data = S.wlm_batchify(torch, to(torch, train_tokens), bsz)
    val_data = S.wlm_batchify(torch, to(torch, val_tokens), 2)
    before = S.wlm_evaluate(torch, nn, model, val_data, NTOK, model_type, 2)
    losses = S.wlm_train(torch, nn, model, train_data, NTOK, model_type, bsz, lr=lr,
                         epochs=epochs)
    after = S.wlm_evaluate(torch, nn, model, val_data, NTOK, model_type, 2)
    return before, losses, after


@pytest.mark.parametrize("rnn_type", RNN_TYPES)
def test_rnn_model_trains_under_tinygen(rnn_type):
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    model = S.make_rnn_model(torch, nn, F, rnn_type)
    assert model.decoder.weight is model.encoder.weight
    assert sum(1 for _ in model.parameters()) == len(model.state_dict()) - 1
    train = S.wlm_batchify(torch, to(torch, wlm_tokens(200)), 4)
    assert tuple(train.shape) == (50, 4) and train.dtype == torch.long
    data, targets = S.wlm_get_batch(train, 48, 8)            # the short last batch
    assert tuple(data.shape) == (1, 4) and tuple(targets.shape) == (4,)
    hidden = model.init_hidden(4)
    hs = hidden if rnn_type == "LSTM" else (hidden,)
    assert all(tuple(h.shape) == (2, 4, 16) and h.dtype == torch.float32 for h in hs)
    out, hidden = model(train[:8], hidden)
    assert tuple(out.shape) == (32, NTOK)
    np.testing.assert_allclose(np.exp(out.detach().numpy()).sum(1), 1.0, rtol=1e-5)
    rep = S.repackage_hidden(torch, hidden)
    for h in (rep if rnn_type == "LSTM" else (rep,)):
        assert not h.requires_grad and h.grad_fn is None

    torch.manual_seed(0)
    model = S.make_rnn_model(torch, nn, F, rnn_type)
    lr = {"LSTM": 20.0, "GRU": 5.0, "RNN_TANH": 5.0}[rnn_type]
    before, losses, after = _wlm_run(TG, model, rnn_type, 6, lr, wlm_tokens(400),
                                     wlm_tokens(80, seed=1))
    assert losses[0] == pytest.approx(math.log(NTOK), rel=0.05)
    assert_learns(losses, 4, 0.8)
    assert after < 0.8 * before
    words = S.wlm_generate(torch, model, NTOK, rnn_type, words=6)
    assert len(words) == 6 and all(0 <= w < NTOK for w in words)
    model.rnn.flatten_parameters()               # what main.py calls after reloading the model


@pytest.mark.parametrize("rnn_type", RNN_TYPES)
def test_rnn_model_matches_torch(rnn_type):
    T, t_model, g_model = float64_twins(
        lambda torch, nn, F: S.make_rnn_model(torch, nn, F, rnn_type, dropout=0.0))
    tokens, val = wlm_tokens(160), wlm_tokens(40, seed=1)
    t_res = _wlm_run(T, t_model, rnn_type, 2, 5.0, tokens, val)
    g_res = _wlm_run(TG, g_model, rnn_type, 2, 5.0, tokens, val)
    assert_same_losses(t_res[1], g_res[1])
    assert_same_losses([t_res[0], t_res[2]], [g_res[0], g_res[2]])
    assert_same_params(t_model, g_model)


def test_transformer_encoder_model_trains_under_tinygen():
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    model = S.make_transformer_encoder_model(torch, nn, F)
    assert tuple(model.pos_encoder.pe.shape) == (64, 1, 16)
    assert "pos_encoder.pe" in model.state_dict()
    assert "pos_encoder.pe" not in dict(model.named_parameters())
    before, losses, after = _wlm_run(TG, model, "Transformer", 3, 0.5, wlm_tokens(400),
                                     wlm_tokens(80, seed=1))
    assert model.src_mask.size(0) == 7                       # the last (short) batch's
    mask = model._generate_square_subsequent_mask(8).numpy()
    assert mask.shape == (8, 8)
    np.testing.assert_array_equal(np.isneginf(mask), np.triu(np.ones((8, 8)), 1) == 1)
    assert (mask[np.tril_indices(8)] == 0).all()
    assert losses[0] == pytest.approx(math.log(NTOK), rel=0.1)
    assert_learns(losses, 4, 0.85)
    assert after < 0.85 * before


def test_transformer_encoder_model_matches_torch():
    T, t_model, g_model = float64_twins(
        lambda torch, nn, F: S.make_transformer_encoder_model(torch, nn, F, dropout=0.0))
    tokens, val = wlm_tokens(160), wlm_tokens(40, seed=1)
    t_res = _wlm_run(T, t_model, "Transformer", 2, 0.5, tokens, val)
    g_res = _wlm_run(TG, g_model, "Transformer", 2, 0.5, tokens, val)
    assert_same_losses(t_res[1], g_res[1], rtol=1e-7)
    assert_same_losses([t_res[0], t_res[2]], [g_res[0], g_res[2]], rtol=1e-7)
    assert_same_params(t_model, g_model)


@pytest.mark.filterwarnings("ignore:divide by zero encountered in log")
def test_transformer_log_tril_mask_under_tinygen():
    """The mask expression of upstream's current TransformerModel."""
    m = tinygen.log(tinygen.tril(tinygen.ones(5, 5)))
    np.testing.assert_array_equal(np.isneginf(m.numpy()), np.triu(np.ones((5, 5)), 1) == 1)
    assert (m.numpy()[np.tril_indices(5)] == 0).all()


def test_log_of_zero_is_silent_under_tinygen():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tinygen.log(tinygen.tril(tinygen.ones(3, 3)))


def test_transformer_generate_under_tinygen():
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    model = S.make_transformer_encoder_model(torch, nn, F)
    words = S.wlm_generate(torch, model, NTOK, "Transformer", words=6)
    assert len(words) == 6 and all(0 <= w < NTOK for w in words)


def test_transformer_generate_runs_under_torch():
    torch, nn, F, optim = _torch_modules()
    torch.manual_seed(0)
    model = S.make_transformer_encoder_model(torch, nn, F)
    words = S.wlm_generate(torch, model, NTOK, "Transformer", words=6)
    assert len(words) == 6 and all(0 <= w < NTOK for w in words)


def _without_dropout(nn, model):
    """Every dropout of ``model`` off: nn.Transformer's layers keep its default p=0.1 whatever
    TransformerModel's dropout, and two libraries' random masks never agree."""
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = 0.0
        elif isinstance(module, nn.MultiheadAttention):
            module.dropout = 0.0
    return model


def test_transformer_model_nn_transformer_subclass_matches_torch():
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    model = S.make_transformer_model(torch, nn, F)                 # upstream's current form
    _, losses, _ = _wlm_run(TG, model, "Transformer", 1, 0.5, wlm_tokens(160),
                            wlm_tokens(40, seed=1))
    assert np.isfinite(losses).all()
    T, t_model, g_model = float64_twins(
        lambda torch, nn, F: _without_dropout(nn, S.make_transformer_model(torch, nn, F)))
    tokens, val = wlm_tokens(80), wlm_tokens(40, seed=1)
    t_res = _wlm_run(T, t_model, "Transformer", 1, 0.5, tokens, val)
    g_res = _wlm_run(TG, g_model, "Transformer", 1, 0.5, tokens, val)
    assert_same_losses(t_res[1], g_res[1], rtol=1e-7)
    assert_same_params(t_model, g_model)


# --- 2. fast_neural_style -----------------------------------------------------------------------

def _style_run(torch, optim, transformer, vgg, n, batch_size, dtype=np.float32, lr=1e-2):
    xs, style = style_images(n, batch_size, dtype=dtype)
    return S.style_train(torch, optim, transformer, vgg, [to(torch, x) for x in xs],
                         to(torch, style), lr=lr, batch_size=batch_size)


def test_gram_matrix_and_normalize_batch_under_tinygen():
    torch = tinygen
    y = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32)
    g = S.gram_matrix(to(torch, y))
    f = y.reshape(2, 3, 20)
    np.testing.assert_allclose(g.numpy(), f @ f.transpose(0, 2, 1) / 60, rtol=1e-5)
    x = to(torch, np.full((1, 3, 2, 2), 255.0, np.float32))
    out = S.normalize_batch(x)
    np.testing.assert_allclose(out.numpy()[0, :, 0, 0],
                               (1 - np.array([0.485, 0.456, 0.406])) / [0.229, 0.224, 0.225],
                               rtol=1e-5)
    assert float(x.max()) == 1.0                       # div_ is in place, as in PyTorch


def test_style_batch1_trains_under_tinygen(tmp_path):
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    transformer, vgg = S.make_transformer_net(torch), S.make_vgg(torch)
    assert not any(p.requires_grad for p in vgg.parameters())
    history = _style_run(torch, optim, transformer, vgg, 8, 1)
    assert_learns([c + s for c, s in history], 2, 0.8)
    assert all(p.grad is None for p in vgg.parameters())
    content = to(torch, style_images(1, 1)[0][0][0])
    img = S.stylize(torch, transformer, content)
    assert img.shape == (16, 16, 3) and img.dtype == np.uint8
    assert not transformer.training
    reloaded = S.style_save_and_stylize(torch, lambda: S.make_transformer_net(torch),
                                        transformer,
                                        str(tmp_path / "model.pth"), content)
    np.testing.assert_array_equal(reloaded, img)


def test_style_trains_under_tinygen():
    """batch_size=2: style.repeat(2, 1, 1, 1) then normalize_batch's div_ on it."""
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    transformer, vgg = S.make_transformer_net(torch), S.make_vgg(torch)
    history = _style_run(torch, optim, transformer, vgg, 4, 2)
    assert_learns([c + s for c, s in history], 1, 0.9)


def test_repeat_copies_under_tinygen():
    style = tinygen.ones(1, 3, 2, 2)
    r = style.repeat(1, 1, 1, 1)
    r.div_(2.0)
    assert float(style.max()) == 1.0
    r2 = style.repeat(2, 1, 1, 1)
    r2.div_(2.0)
    assert float(r2.max()) == 0.5


def test_style_matches_torch():
    T = _torch_modules()
    torch = T[0]
    torch.manual_seed(0)
    t_net, t_vgg = S.make_transformer_net(torch), S.make_vgg(torch)
    g_net, g_vgg = S.make_transformer_net(tinygen), S.make_vgg(tinygen)
    for t_m, g_m in ((t_net, g_net), (t_vgg, g_vgg)):
        t_m.double()
        g_m.double()
        copy_state(t_m, g_m)
    t_hist = _style_run(torch, T[3], t_net, t_vgg, 3, 1, dtype=np.float64)
    g_hist = _style_run(tinygen, tinygen.optim, g_net, g_vgg, 3, 1, dtype=np.float64)
    assert_same_losses(t_hist, g_hist, rtol=1e-7)
    # A bias that only shifts channels ahead of an InstanceNorm (every conv bias but the last
    # one's, and each residual block's in2.bias, whose shift reaches in4 through the skip path)
    # gets a gradient that is rounding noise, which Adam scales up to about lr a step in either
    # framework: those are only checked to stay within 3 steps of lr=1e-2; the rest closely.
    t_params, g_params = dict(t_net.named_parameters()), dict(g_net.named_parameters())
    assert list(g_params) == list(t_params)
    for name, p in t_params.items():
        noisy = ((name.endswith("conv2d.bias") and not name.startswith("deconv3"))
                 or (name.startswith("res") and name.endswith("in2.bias")))
        np.testing.assert_allclose(g_params[name].detach().numpy(), p.detach().numpy(),
                                   rtol=0 if noisy else 1e-6, atol=3e-2 if noisy else 1e-9,
                                   err_msg=name)


# --- 3. super_resolution ------------------------------------------------------------------------

def test_super_resolution_trains_under_tinygen():
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    model = S.make_sr_net(torch, nn)
    for conv in (model.conv1, model.conv2, model.conv3):      # orthogonal_ with relu gain
        w = conv.weight.detach().numpy().reshape(conv.weight.shape[0], -1)
        np.testing.assert_allclose(w @ w.T, 2.0 * np.eye(w.shape[0]), atol=1e-5)
    data = sr_batches(8)
    losses, psnrs = S.sr_train(torch, nn, optim, model, [tensors(torch, *b) for b in data[:6]],
                               [tensors(torch, *b) for b in data[6:]], epochs=3)
    assert_learns(losses, 6, 0.5)
    assert psnrs[-1] > psnrs[0] + 2
    out = model(to(torch, data[0][0]))
    assert tuple(out.shape) == (4, 1, 16, 16) and out.dtype == torch.float32


def test_super_resolution_matches_torch():
    T, t_model, g_model = float64_twins(lambda torch, nn, F: S.make_sr_net(torch, nn))
    data = sr_batches(4, dtype=np.float64)
    t_res = S.sr_train(T[0], T[1], T[3], t_model, [tensors(T[0], *b) for b in data[:3]],
                       [tensors(T[0], *data[3])], epochs=2)
    g_res = S.sr_train(*TG[:2], TG[3], g_model, [tensors(tinygen, *b) for b in data[:3]],
                       [tensors(tinygen, *data[3])], epochs=2)
    assert_same_losses(t_res[0], g_res[0], rtol=1e-7)
    assert_same_losses(t_res[1], g_res[1], rtol=1e-7)
    assert_same_params(t_model, g_model)


# --- 4. time_sequence_prediction ----------------------------------------------------------------

SEQ_CASES = [("LBFGS", 0.8, "chunk"), ("Adam", 0.01, "chunk"), ("LBFGS", 0.8, "split")]


@pytest.mark.parametrize("optimizer_name,lr,variant", SEQ_CASES[:2])
def test_sequence_trains_under_tinygen(optimizer_name, lr, variant):
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    seq = S.make_sequence(torch, nn, variant)
    assert all(p.dtype == torch.float64 for p in seq.parameters())
    steps = 3 if optimizer_name == "LBFGS" else 15
    closure_losses, test_losses, y = S.sequence_train(torch, nn, optim, seq, sine_data(),
                                                      steps=steps,
                                                      optimizer_name=optimizer_name, lr=lr)
    assert y.shape == (3, 29 + 10) and y.dtype == np.float64
    ratio = 0.3 if optimizer_name == "LBFGS" else 0.7
    assert test_losses[-1] < ratio * test_losses[0]
    if optimizer_name == "LBFGS":
        assert len(closure_losses) == 3 * 20                   # max_iter=20 closures a step


@pytest.mark.parametrize("optimizer_name,lr,variant", SEQ_CASES)
def test_sequence_matches_torch(optimizer_name, lr, variant):
    T, t_seq, g_seq = float64_twins(lambda torch, nn, F: S.make_sequence(torch, nn, variant))
    steps = 2 if optimizer_name == "LBFGS" else 4
    data = sine_data(N=6, L=20)
    t_res = S.sequence_train(T[0], T[1], T[3], t_seq, data, steps=steps,
                             optimizer_name=optimizer_name, lr=lr)
    g_res = S.sequence_train(*TG[:2], TG[3], g_seq, data, steps=steps,
                             optimizer_name=optimizer_name, lr=lr)
    assert_same_losses(t_res[0], g_res[0], rtol=1e-6)
    assert_same_losses(t_res[1], g_res[1], rtol=1e-6)
    np.testing.assert_allclose(g_res[2], t_res[2], rtol=1e-6, atol=1e-9)
    assert_same_params(t_seq, g_seq, rtol=1e-6, atol=1e-8)


# --- 5. regression, siamese_network ---------------------------------------------------------------

def _regression(torch, F, n=200, dtype=np.float32, fc=None):
    W, b, randoms = regression_data(n, dtype=dtype)
    W_t, b_t = to(torch, W), to(torch, b)
    fc = S.make_regression_fc(torch, W_t) if fc is None else fc
    fc, losses, loss, batch_idx = S.regression_main(torch, F, fc, W_t, b_t,
                                                    [to(torch, r) for r in randoms])
    return W_t, b_t, fc, losses, loss, batch_idx


def test_regression_trains_under_tinygen():
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    W, b, fc, losses, loss, batch_idx = _regression(torch, F)
    assert_learns(losses, 10, 0.3)
    assert batch_idx == len(losses) and loss == losses[-1]
    assert tuple(fc.weight.shape) == (1, 4) and fc.weight.dtype == torch.float32


def test_regression_report_under_tinygen():
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    W, b, fc, losses, loss, batch_idx = _regression(torch, F, n=20)
    report = S.regression_report(W, b, fc, loss, batch_idx)
    assert report.count("x^4") == 2


def test_regression_report_runs_under_torch():
    torch, nn, F, optim = _torch_modules()
    torch.manual_seed(0)
    W, b, fc, losses, loss, batch_idx = _regression(torch, F, n=20)
    assert S.regression_report(W, b, fc, loss, batch_idx).count("x^4") == 2


def test_regression_matches_torch():
    T = _torch_modules()
    W = to(T[0], regression_data(1, dtype=np.float64)[0])
    T[0].manual_seed(0)
    t_fc = S.make_regression_fc(T[0], W)
    g_fc = S.make_regression_fc(tinygen, to(tinygen, W.numpy()))
    copy_state(t_fc, g_fc)
    t_res = _regression(T[0], T[2], n=40, dtype=np.float64, fc=t_fc)
    g_res = _regression(tinygen, tinygen.nn.functional, n=40, dtype=np.float64, fc=g_fc)
    assert_same_losses(t_res[3], g_res[3])
    assert_same_params(t_fc, g_fc)


def test_siamese_trains_under_tinygen():
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    model = S.make_siamese(torch, nn)
    assert model.fc_in_features == 8 and len(model.resnet) == 6
    np.testing.assert_allclose(model.fc[0].bias.detach().numpy(), 0.01, rtol=1e-6)
    batches = [tensors(torch, *b) for b in siamese_batches(12)]
    losses = S.siamese_train(torch, nn, optim, model, batches, epochs=4)
    assert losses[0] == pytest.approx(math.log(2), rel=0.2)
    assert_learns(losses, 6, 0.9)
    model.eval()
    with torch.no_grad():
        out = model(batches[0][0], batches[0][1])
    assert tuple(out.shape) == (8, 1) and float(out.min()) >= 0 and float(out.max()) <= 1


def test_siamese_matches_torch():
    T, t_model, g_model = float64_twins(lambda torch, nn, F: S.make_siamese(torch, nn))
    data = siamese_batches(3, dtype=np.float64)
    t_losses = S.siamese_train(T[0], T[1], T[3], t_model, [tensors(T[0], *b) for b in data])
    g_losses = S.siamese_train(*TG[:2], TG[3], g_model, [tensors(tinygen, *b) for b in data])
    assert_same_losses(t_losses, g_losses, rtol=1e-7)
    assert_same_params(t_model, g_model)
