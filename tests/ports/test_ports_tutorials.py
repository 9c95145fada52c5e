"""PyTorch tutorial scripts ported by changing the imports (see ``scripts_tutorials.py``).

As in ``test_ports.py``: part (a) runs each script under tinygen alone and checks that it learns
and that its outputs have the right shapes and dtypes; part (b) builds the model in PyTorch,
copies the state_dict into tinygen's (keys, shapes, dtypes and repr must match), feeds both the
same float64 data (float32 for REINFORCE, whose ``.float()`` is part of the script) and compares
the losses step by step and the final parameters.
"""

import math
import types

import numpy as np
import pytest

import tinygen
import tinygen.nn
import tinygen.nn.functional
import tinygen.optim

from tests.ports import scripts_sequences as Q
from tests.ports import scripts_tutorials as S
from tests.ports.test_ports import (TG, _torch_modules, assert_learns, assert_same_losses,
                                    assert_same_params, copy_state, float64_twins, to)


# --- data ---------------------------------------------------------------------------------------

def stn_loader(torch, n, batch_size=8, seed=0, dtype=np.float32):
    """28x28 images: class c is a bright blob at the c-th of ten places on a circle, shifted by
    up to 2 pixels, plus noise."""
    yy, xx = np.mgrid[0:28, 0:28]
    ang = 2 * np.pi * np.arange(10)[:, None, None] / 10
    templates = np.exp(-((yy - 14 - 8 * np.sin(ang)) ** 2 + (xx - 14 - 8 * np.cos(ang)) ** 2) / 8)
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, size=n)
    shifts = rng.integers(-2, 3, size=(n, 2))
    x = np.stack([np.roll(templates[c], tuple(s), (0, 1)) for c, s in zip(y, shifts)])
    x = (x + 0.1 * rng.standard_normal(x.shape))[:, None].astype(dtype)
    dataset = torch.utils.data.TensorDataset(to(torch, x), to(torch, y.astype(np.int64)))
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False)


SUFFIXES = ["ov", "ez", "son"]
LABELS = ["Russian", "Spanish", "English"]


def names(n, seed=0):
    """(label, name): a random capitalized stem of 2-5 letters and its class's suffix."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        c = int(rng.integers(0, 3))
        stem = "".join(rng.choice(list("abdeiklmnoprtu"), size=int(rng.integers(2, 6))))
        out.append((c, stem.capitalize() + SUFFIXES[c]))
    return out


def char_rnn_data(torch, n, seed=0):
    return [(torch.tensor([c], dtype=torch.long), name) for c, name in names(n, seed)]


def pairs(n, MAX_LENGTH=6, vocab=10, seed=0):
    """Id arrays as get_dataloader builds them: a sentence of 2-4 words (ids 2..vocab-1), EOS,
    then zeros; the 'translation' maps word w to 2 + (w + 3) % (vocab - 2) in reverse order."""
    rng = np.random.default_rng(seed)
    inp = np.zeros((n, MAX_LENGTH), dtype=np.int32)
    tgt = np.zeros((n, MAX_LENGTH), dtype=np.int32)
    for i in range(n):
        words = rng.integers(2, vocab, size=int(rng.integers(2, 5)))
        out = 2 + (words[::-1] + 3 - 2) % (vocab - 2)
        inp[i, :len(words) + 1] = np.append(words, Q.EOS_token)
        tgt[i, :len(out) + 1] = np.append(out, Q.EOS_token)
    return inp, tgt


def no_dropout_F(F):
    """F with dropout as the identity: the STN's ``F.dropout(x, training=self.training)`` has no
    module to switch off, and two frameworks' random masks never agree."""
    ns = types.SimpleNamespace(**{k: getattr(F, k) for k in dir(F) if not k.startswith("__")})
    ns.dropout = lambda input, p=0.5, training=True, inplace=False: input
    return ns


# --- 1. custom autograd Function ----------------------------------------------------------------

def test_legendre_fit_under_tinygen():
    losses, (a, b, c, d) = S.legendre_fit(tinygen)
    assert all(t.dtype == tinygen.float32 and t.shape == () for t in (a, b, c, d))
    assert losses[-1] < 0.2 * losses[0]
    assert S.legendre_result(a, b, c, d).startswith("Result: y = ")
    P3 = S.make_legendre(tinygen).apply
    x = tinygen.linspace(-1, 1, 7, dtype=tinygen.float64, requires_grad=True)
    xs = x.detach().numpy()
    np.testing.assert_allclose(P3(x).detach().numpy(), 0.5 * (5 * xs ** 3 - 3 * xs), rtol=1e-12)
    assert tinygen.autograd.gradcheck(P3, (x,))
    assert tinygen.autograd.gradgradcheck(P3, (x,))


def test_legendre_fit_matches_torch():
    torch = _torch_modules()[0]
    t_losses, t_params = S.legendre_fit(torch, steps=50, dtype=torch.float64)
    g_losses, g_params = S.legendre_fit(tinygen, steps=50, dtype=tinygen.float64)
    assert_same_losses(t_losses, g_losses, rtol=1e-10)
    np.testing.assert_allclose([p.item() for p in g_params], [p.item() for p in t_params],
                               rtol=1e-10, atol=1e-15)            # a, c: 0 up to rounding


def _my_relu_check(torch):
    relu = S.make_my_relu(torch).apply
    x = torch.tensor([-1.5, -0.25, 0.5, 2.0], dtype=torch.float64, requires_grad=True)
    y = relu(x)
    (y * torch.arange(4, dtype=torch.float64)).sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), [0, 0, 0.5, 2.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 2, 3])


@pytest.mark.parametrize("library", ["torch", "tinygen"])
def test_my_relu(library):
    """The tutorial's MyReLU calls input.clamp(min=0) in forward: Tensors there, as in PyTorch."""
    _my_relu_check(_torch_modules()[0] if library == "torch" else tinygen)


# --- 2. spatial transformer ---------------------------------------------------------------------

def test_stn_trains_under_tinygen():
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    model = S.make_stn_net(torch, nn, F)
    loader = stn_loader(torch, 32, batch_size=16)
    x, _ = next(iter(loader))
    # fc_loc starts at the identity transform, so stn() gives back its input
    img, warped = S.stn_visualize(torch, model, x)
    assert img.shape == warped.shape == (16, 28, 28, 1) and warped.dtype == np.float32
    np.testing.assert_allclose(warped, img, atol=1e-5)
    losses = S.stn_train(torch, F, optim, model, loader, epochs=12, lr=0.2)
    assert losses[0] == pytest.approx(math.log(10), rel=0.1)
    assert_learns(losses, 4, 0.85)
    test_loss, acc = S.stn_test(torch, F, model, stn_loader(torch, 16, seed=1))
    assert np.isfinite(test_loss) and 0 <= acc <= 1 and not model.training


@pytest.mark.filterwarnings("ignore:Default grid_sample and affine_grid behavior")
def test_stn_matches_torch():
    T, t_model, g_model = float64_twins(lambda torch, nn, F: S.make_stn_net(torch, nn,
                                                                            no_dropout_F(F)))
    t_model.conv2_drop.p = g_model.conv2_drop.p = 0.0
    # move theta off the identity so grid_sample interpolates between pixels
    rng = np.random.default_rng(3)
    w = 0.01 * rng.standard_normal(tuple(t_model.fc_loc[2].weight.shape))
    for torch, m in ((T[0], t_model), (tinygen, g_model)):
        with torch.no_grad():
            m.fc_loc[2].weight.copy_(torch.tensor(w))
    t_losses = S.stn_train(T[0], T[2], T[3], t_model, stn_loader(T[0], 24, dtype=np.float64))
    g_losses = S.stn_train(tinygen, TG[2], TG[3], g_model,
                           stn_loader(tinygen, 24, dtype=np.float64))
    assert_same_losses(t_losses, g_losses, rtol=1e-8)
    assert_same_params(t_model, g_model)
    t_test = S.stn_test(T[0], T[2], t_model, stn_loader(T[0], 8, 8, 1, np.float64))
    g_test = S.stn_test(tinygen, TG[2], g_model, stn_loader(tinygen, 8, 8, 1, np.float64))
    np.testing.assert_allclose(g_test, t_test, rtol=1e-8)


# --- 3. char-RNN classification, padded and packed ------------------------------------------------

def test_char_rnn_pieces_under_tinygen():
    torch, nn, F, optim = TG
    t = S.lineToTensor(torch, "Abe_x!")
    assert tuple(t.shape) == (6, 1, S.N_LETTERS)
    np.testing.assert_array_equal(t.numpy().argmax(2)[:, 0],
                                  [S.letterToIndex(ch) for ch in "Abe_x!"])
    assert S.letterToIndex("!") == S.letterToIndex("_")
    padded, lengths = S.char_rnn_batch(torch, nn, ["Ab", "Abcd", "A"])
    assert tuple(padded.shape) == (4, 3, S.N_LETTERS) and lengths.tolist() == [2, 4, 1]
    assert padded[2:, 0].abs().sum().item() == 0


@pytest.mark.parametrize("rnn_type", ["RNN", "GRU"])
def test_char_rnn_packed_hidden_is_each_names_last_step_under_tinygen(rnn_type):
    """enforce_sorted=False: hidden comes back in the batch's order, taken at each length."""
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    rnn = S.make_char_rnn(torch, nn, F, rnn_type=rnn_type)
    lines = ["Ab", "Abcde", "Xyz"]
    padded, lengths = S.char_rnn_batch(torch, nn, lines)
    out = rnn(padded, lengths)
    assert tuple(out.shape) == (3, 3)
    for i, line in enumerate(lines):
        _, h = rnn.rnn(S.lineToTensor(torch, line))
        one = rnn.softmax(rnn.h2o(h[0]))
        np.testing.assert_allclose(out[i].detach().numpy(), one[0].detach().numpy(), rtol=1e-5,
                                   atol=1e-6)


def test_char_rnn_trains_under_tinygen():
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    rnn = S.make_char_rnn(torch, nn, F)
    losses = S.char_rnn_train(torch, nn, rnn, char_rnn_data(torch, 32), n_epoch=12)
    assert losses[0] == pytest.approx(math.log(3), rel=0.15)
    assert losses[-1] < 0.5 * losses[0]
    rnn.eval()
    with torch.no_grad():
        test = names(12, seed=1)
        padded, lengths = S.char_rnn_batch(torch, nn, [n for _, n in test])
        out = rnn(padded, lengths)
    guesses = [S.char_rnn_label_from_output(out[i:i + 1], LABELS) for i in range(12)]
    assert sum(g[1] == c for g, (c, _) in zip(guesses, test)) >= 9


@pytest.mark.parametrize("rnn_type", ["RNN", "GRU"])
def test_char_rnn_matches_torch(rnn_type):
    T, t_rnn, g_rnn = float64_twins(
        lambda torch, nn, F: S.make_char_rnn(torch, nn, F, rnn_type=rnn_type))
    results = []
    for torch, nn, rnn in ((T[0], T[1], t_rnn), (tinygen, TG[1], g_rnn)):
        torch.set_default_dtype(torch.float64)          # lineToTensor's torch.zeros
        try:
            results.append(S.char_rnn_train(torch, nn, rnn, char_rnn_data(torch, 16), n_epoch=3))
        finally:
            torch.set_default_dtype(torch.float32)
    t_losses, g_losses = results
    assert_same_losses(t_losses, g_losses)
    assert_same_params(t_rnn, g_rnn)


# --- 4. seq2seq translation with Bahdanau attention ----------------------------------------------

VOCAB = 10
INDEX2WORD = {0: "SOS", 1: "EOS", **{i: f"w{i}" for i in range(2, VOCAB)}}


def _seq2seq_run(T, encoder, decoder, n_epochs, n=16, lr=0.01):
    torch, nn, F, optim = T
    loader = Q.seq2seq_dataloader(torch, *pairs(n), batch_size=4)
    return Q.seq2seq_train(torch, nn, optim, loader, encoder, decoder, n_epochs,
                           learning_rate=lr)


def test_seq2seq_trains_under_tinygen():
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    encoder, decoder = Q.make_seq2seq(torch, nn, F, VOCAB, VOCAB)
    inp, tgt = pairs(2, seed=5)
    x = torch.LongTensor(inp)
    assert x.dtype == torch.long and tuple(x.shape) == (2, 6)
    out, hidden = encoder(x)
    assert tuple(out.shape) == (2, 6, 16) and tuple(hidden.shape) == (1, 2, 16)
    dec, dec_hidden, attn = decoder(out, hidden, torch.LongTensor(tgt))
    assert tuple(dec.shape) == (2, 6, VOCAB) and tuple(attn.shape) == (2, 6, 6)
    np.testing.assert_allclose(attn.detach().numpy().sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.exp(dec.detach().numpy()).sum(-1), 1.0, rtol=1e-5)
    losses = _seq2seq_run(TG, encoder, decoder, 8, lr=0.02)
    assert losses[0] == pytest.approx(math.log(VOCAB), rel=0.15)
    assert losses[-1] < 0.5 * losses[0]
    encoder.eval(), decoder.eval()
    words, attn = Q.seq2seq_evaluate(torch, encoder, decoder, x[:1], INDEX2WORD)
    assert 1 <= len(words) <= 6 and all(w in INDEX2WORD.values() or w == "<EOS>" for w in words)
    assert tuple(attn.shape) == (1, 6, 6)


def test_seq2seq_matches_torch():
    def make(torch, nn, F):
        return nn.ModuleList(Q.make_seq2seq(torch, nn, F, VOCAB, VOCAB, dropout_p=0.0))
    T, t_pair, g_pair = float64_twins(make)
    t_losses = _seq2seq_run(T, *t_pair, 3, n=8)
    g_losses = _seq2seq_run(TG, *g_pair, 3, n=8)
    assert_same_losses(t_losses, g_losses)
    assert_same_params(t_pair, g_pair)
    x = pairs(1, seed=9)[0]
    t_words, t_attn = Q.seq2seq_evaluate(T[0], *t_pair, T[0].LongTensor(x), INDEX2WORD)
    g_words, g_attn = Q.seq2seq_evaluate(tinygen, *g_pair, tinygen.LongTensor(x), INDEX2WORD)
    assert g_words == t_words
    np.testing.assert_allclose(g_attn.numpy(), t_attn.numpy(), rtol=1e-8)


# --- 5. REINFORCE ---------------------------------------------------------------------------------

def test_stub_env_follows_the_gym_api():
    env = Q.StubCartPole(max_steps=5)
    state, info = env.reset()
    assert state.shape == (4,) and state.dtype == np.float64 and info == {}
    for t in range(5):
        state, reward, done, truncated, info = env.step(1)
        assert reward == 1.0 and not truncated
        if done:
            break
    assert done


def test_reinforce_learns_under_tinygen():
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    policy = Q.make_policy(torch, nn, F)
    history = Q.reinforce_main(torch, optim, policy, Q.StubCartPole(), episodes=40)
    rewards = [r for r, _ in history]
    assert np.mean(rewards[-8:]) > 1.3 * np.mean(rewards[:8]), rewards
    assert policy.rewards == [] and policy.saved_log_probs == []
    assert all(np.isfinite(loss) for _, loss in history)


def test_reinforce_matches_torch():
    """In float32 (select_action's ``.float()``), with the same uniform draws on both sides."""
    T = _torch_modules()
    T[0].manual_seed(0)
    t_policy, g_policy = Q.make_policy(*T[:3]), Q.make_policy(*TG[:3])
    copy_state(t_policy, g_policy)
    draws = list(np.random.default_rng(4).random(400))
    t_policy.dropout.p = g_policy.dropout.p = 0.0
    t_hist = Q.reinforce_main(T[0], T[3], t_policy, Q.StubCartPole(), 6, draws=list(draws))
    g_hist = Q.reinforce_main(tinygen, TG[3], g_policy, Q.StubCartPole(), 6, draws=list(draws))
    assert [r for r, _ in g_hist] == [r for r, _ in t_hist]
    np.testing.assert_allclose([loss for _, loss in g_hist], [loss for _, loss in t_hist],
                               rtol=1e-5, atol=1e-6)
    assert_same_params(t_policy, g_policy, rtol=1e-4, atol=1e-6)


# --- 6. checkpointed blocks + SWA -----------------------------------------------------------------

def swa_loader(torch, n=32, batch_size=16, seed=0, dtype=np.float32):
    centers = np.random.default_rng(11).standard_normal((3, 8)) * 2
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    x = (centers[y] + rng.standard_normal((n, 8))).astype(dtype)
    dataset = torch.utils.data.TensorDataset(to(torch, x), to(torch, y.astype(np.int64)))
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False)


def test_checkpoint_gives_the_same_gradients_under_tinygen():
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    model = Q.make_checkpointed_mlp(torch, nn, F).double()
    x, y = next(iter(swa_loader(torch, dtype=np.float64)))
    grads = []
    for use in (True, False):
        model.use_checkpoint = use
        model.zero_grad()
        F.cross_entropy(model(x), y).backward()
        grads.append([p.grad.numpy().copy() for p in model.parameters()])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_swa_trains_under_tinygen():
    torch, nn, F, optim = TG
    torch.manual_seed(0)
    model = Q.make_checkpointed_mlp(torch, nn, F)
    loader = swa_loader(torch)
    losses, lrs, swa_model = Q.swa_train(torch, nn, optim, model, loader)
    assert_learns(losses, 3, 0.5)
    np.testing.assert_allclose(lrs[:5], [0.05 * (1 + math.cos(math.pi * e / 8)) for e in
                                         range(5)], rtol=1e-6)
    assert lrs[-1] == pytest.approx(0.05)           # SWALR has annealed to swa_lr
    assert swa_model.n_averaged.item() == 3         # epochs 5, 6, 7
    x, y = next(iter(loader))
    preds = Q.swa_predict(torch, swa_model, x)
    assert tuple(preds.shape) == (16, 3) and (preds.argmax(1) == y).float().mean().item() > 0.8


def test_swa_matches_torch():
    T, t_model, g_model = float64_twins(Q.make_checkpointed_mlp)
    t_res = Q.swa_train(T[0], T[1], T[3], t_model, swa_loader(T[0], dtype=np.float64))
    g_res = Q.swa_train(tinygen, TG[1], TG[3], g_model, swa_loader(tinygen, dtype=np.float64))
    assert_same_losses(t_res[0], g_res[0])
    np.testing.assert_allclose(g_res[1], t_res[1], rtol=1e-12)
    assert_same_params(t_model, g_model)
    assert_same_params(t_res[2], g_res[2])                  # the averages and update_bn's stats
    x = to(T[0], np.random.default_rng(2).standard_normal((5, 8)))
    np.testing.assert_allclose(Q.swa_predict(tinygen, g_res[2], to(tinygen, x.numpy())).numpy(),
                               Q.swa_predict(T[0], t_res[2], x).numpy(), rtol=1e-8)
