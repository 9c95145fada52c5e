"""PyTorch's NLP tutorials (Bi-LSTM CRF, N-gram language model, CBOW), ported by changing the
imports (see ``scripts_nlp_more.py``).

Under tinygen each script must learn and keep its own claims (the Viterbi path is the best-scoring
path, the CRF's negative log-likelihood is the log-partition minus the gold score, the N-gram
loss goes down every epoch); where PyTorch is importable the same code runs on both from the same
weights in float64 and the losses and decoded paths are compared step by step.
"""

import itertools

import numpy as np
import pytest

import tinygen

from tests.ports import scripts_nlp_more as S
from tests.ports.test_ports import TG, _torch_modules, copy_state


@pytest.fixture
def float64_default():
    """float64 as the default dtype in tinygen (and torch where loaded) for one test."""
    libs = [tinygen]
    try:
        import torch
        libs.append(torch)
    except ImportError:
        pass
    old = [lib.get_default_dtype() for lib in libs]
    for lib in libs:
        lib.set_default_dtype(lib.float64)
    yield
    for lib, dt in zip(libs, old):
        lib.set_default_dtype(dt)


def fixed_hiddens(torch, model, seed=0):
    """Replace the model's init_hidden (torch.randn per sentence) by a fixed cycle of NumPy
    draws, so both frameworks see the same initial states."""
    rng = np.random.default_rng(seed)
    draws = [rng.standard_normal((2, 1, model.hidden_dim // 2)) for _ in range(6)]
    it = itertools.cycle(draws)
    model.init_hidden = lambda: (torch.tensor(next(it)), torch.tensor(next(it)))


def brute_force_best_path(feats, transitions):
    """The max over all tag paths of the CRF score, and the log-partition, by enumeration."""
    start, stop = S.tag_to_ix[S.START_TAG], S.tag_to_ix[S.STOP_TAG]
    n, k = feats.shape
    scores = {}
    for path in itertools.product(range(k), repeat=n):
        tags = (start,) + path
        s = sum(transitions[tags[i + 1], tags[i]] + feats[i, tags[i + 1]] for i in range(n))
        scores[path] = s + transitions[stop, tags[-1]]
    best = max(scores, key=scores.get)
    vals = np.array(list(scores.values()))
    return list(best), scores[best], vals.max() + np.log(np.exp(vals - vals.max()).sum())


def _crf(torch, nn):
    return S.make_bilstm_crf(torch, nn)(len(S.crf_word_to_ix()), S.tag_to_ix,
                                        S.EMBEDDING_DIM, S.HIDDEN_DIM)


def test_crf_viterbi_and_forward_algorithm_are_exact_under_tinygen(float64_default):
    torch, nn = TG[:2]
    torch.manual_seed(1)
    model = _crf(torch, nn)
    fixed_hiddens(torch, model)
    _, prepare_sequence, _ = S.crf_helpers(torch)
    sent = prepare_sequence("georgia tech is a".split(), S.crf_word_to_ix())
    with torch.no_grad():
        feats = model._get_lstm_features(sent)
    fixed_hiddens(torch, model)
    score, path = model(sent)
    f, tr = feats.numpy(), model.transitions.detach().numpy()
    best, best_score, log_z = brute_force_best_path(f[:, :3], tr)   # START/STOP never win
    assert path == best
    np.testing.assert_allclose(score.item(), best_score, rtol=1e-12)
    tags = torch.tensor([0, 1, 2, 2])
    nll = model._forward_alg(feats) - model._score_sentence(feats, tags)
    # the forward algorithm also sums the START/STOP paths, each e^-10000 smaller: invisible
    gold = S.tag_to_ix[S.START_TAG]
    gold_score = sum(tr[t, p] + f[i, t] for i, (p, t) in enumerate(zip([gold, 0, 1, 2],
                                                                       [0, 1, 2, 2])))
    gold_score += tr[S.tag_to_ix[S.STOP_TAG], 2]
    np.testing.assert_allclose(nll.item(), log_z - gold_score, rtol=1e-10)


def test_crf_trains_under_tinygen():
    torch, nn, _, optim = TG
    torch.manual_seed(1)
    model = _crf(torch, nn)
    (s0, p0), (s1, p1), losses = S.crf_train(torch, optim, model, epochs=30, lr=0.05)
    gold = [S.tag_to_ix[t] for t in S.training_data[0][1]]
    assert np.mean(losses[-4:]) < 0.5 * np.mean(losses[:4]), losses
    assert sum(a == b for a, b in zip(p1, gold)) >= sum(a == b for a, b in zip(p0, gold))
    assert len(p1) == len(gold) and all(0 <= t < 3 for t in p1)
    assert s0.dtype == torch.float32 and model.transitions.grad is not None


def test_crf_matches_torch(float64_default):
    T = _torch_modules()
    T[0].manual_seed(1)
    t_model = _crf(*T[:2])
    g_model = _crf(*TG[:2])
    copy_state(t_model, g_model)
    fixed_hiddens(T[0], t_model)
    fixed_hiddens(tinygen, g_model)
    t_out = S.crf_train(T[0], T[3], t_model, epochs=3, lr=0.05)
    g_out = S.crf_train(tinygen, TG[3], g_model, epochs=3, lr=0.05)
    np.testing.assert_allclose(g_out[2], t_out[2], rtol=1e-9)
    for (ts, tp), (gs, gp) in zip(t_out[:2], g_out[:2]):
        assert gp == tp
        np.testing.assert_allclose(gs.item(), ts.item(), rtol=1e-9)
    for (name, tp), gp in zip(t_model.named_parameters(), g_model.parameters()):
        np.testing.assert_allclose(gp.detach().numpy(), tp.detach().numpy(), rtol=1e-8,
                                   atol=1e-12, err_msg=name)


# --- word_embeddings_tutorial.py ---------------------------------------------------------------

def test_embedding_lookup_is_the_first_row_under_tinygen():
    tinygen.manual_seed(1)
    embeds, hello = S.embedding_lookup(*TG[:2])
    assert tuple(hello.shape) == (1, 5) and hello.requires_grad
    np.testing.assert_array_equal(hello.detach().numpy(), embeds.weight.detach().numpy()[:1])


def test_ngram_loss_decreases_every_epoch_under_tinygen():
    torch, nn, F, optim = TG
    torch.manual_seed(1)
    model = S.make_ngram(torch, nn, F)
    losses = S.ngram_train(torch, nn, optim, model, epochs=4, n_trigrams=40, lr=0.01)
    assert all(b < a for a, b in zip(losses, losses[1:])), losses


def test_ngram_matches_torch(float64_default):
    T = _torch_modules()
    T[0].manual_seed(1)
    t_model = S.make_ngram(*T[:3])
    g_model = S.make_ngram(*TG[:3])
    copy_state(t_model, g_model)
    t_losses = S.ngram_train(T[0], T[1], T[3], t_model, epochs=2, n_trigrams=20, lr=0.01)
    g_losses = S.ngram_train(tinygen, TG[1], TG[3], g_model, epochs=2, n_trigrams=20, lr=0.01)
    np.testing.assert_allclose(g_losses, t_losses, rtol=1e-10)


def test_cbow_learns_under_tinygen():
    torch, nn, F, optim = TG
    torch.manual_seed(1)
    model = S.make_cbow(torch, nn, F)
    losses = S.cbow_train(torch, nn, optim, model, epochs=5)
    assert losses[-1] < 0.6 * losses[0], losses
    ctx = S.make_context_vector(torch, S.cbow_data[0][0], S.cbow_word_to_ix)
    assert ctx.dtype == torch.int64 and tuple(ctx.shape) == (4,)


def test_cbow_matches_torch(float64_default):
    T = _torch_modules()
    T[0].manual_seed(1)
    t_model = S.make_cbow(*T[:3])
    g_model = S.make_cbow(*TG[:3])
    copy_state(t_model, g_model)
    t_losses = S.cbow_train(T[0], T[1], T[3], t_model, epochs=2)
    g_losses = S.cbow_train(tinygen, TG[1], TG[3], g_model, epochs=2)
    np.testing.assert_allclose(g_losses, t_losses, rtol=1e-10)
