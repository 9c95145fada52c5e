"""The GPT model (tinygen/models/gpt.py) and its training recipe (tinygen/train/recipes/gpt.py)."""

import math

import numpy as np
import pytest

import tinygen as tg
from tinygen import device_checks
from tinygen.models import GPT, GPTConfig
from tinygen.train.recipes.gpt import GPTRecipe
from tests.helpers import host

TEXT = ("the quick brown fox jumps over the lazy dog.\n"
        "a stitch in time saves nine; look before you leap!\n") * 12


def tiny(vocab_size=11, block_size=8, dtype=tg.float64, seed=0, device="cpu", **sizes):
    """A small GPT without dropout, float64 unless asked otherwise."""
    tg.manual_seed(seed)
    config = GPTConfig(vocab_size, block_size, **{**dict(n_layer=2, n_head=2, n_embd=16,
                                                        dropout=0.0), **sizes})
    return GPT(config).to(device).to(dtype)


def ids(rng, shape, high=11, device="cpu"):
    return tg.tensor(rng.integers(0, high, size=shape), device=device)


def test_shapes_and_no_loss_without_targets(device):
    model = tiny(device=device)
    logits, loss = model(ids(np.random.default_rng(0), (3, 5), device=device))
    assert logits.shape == (3, 5, 11) and loss is None


def test_without_biases():
    model = tiny(bias=False)
    assert not [name for name, _ in model.named_parameters() if name.endswith("bias")]
    assert model(tg.tensor([[1, 2, 3]]))[0].shape == (1, 3, 11)


def test_loss_is_numpy_cross_entropy(device, rng):
    model = tiny(device=device)
    x, y = ids(rng, (2, 8), device=device), ids(rng, (2, 8), device=device)
    logits, loss = model(x, y)
    z = logits.detach().cpu().numpy().reshape(-1, 11)
    log_probs = z - z.max(1, keepdims=True)
    log_probs -= np.log(np.exp(log_probs).sum(1, keepdims=True))
    expected = -log_probs[np.arange(16), y.cpu().numpy().reshape(-1)].mean()
    assert loss.item() == pytest.approx(expected, rel=1e-12)


def test_gradcheck_every_parameter(rng):
    model = tiny(vocab_size=5, block_size=4, n_embd=4, n_head=2)
    x, y = ids(rng, (2, 4), high=5), ids(rng, (2, 4), high=5)
    params = tuple(model.parameters())
    assert tg.autograd.gradcheck(lambda *_: model(x, y), params, atol=1e-6, rtol=1e-4)


def test_init_follows_gpt2():
    model = tiny(vocab_size=64, block_size=64, n_embd=64, n_layer=3, dtype=tg.float32)
    std = 0.02 / math.sqrt(2 * 3)
    for name, p in model.named_parameters():
        values = p.detach().cpu().numpy()
        if name.endswith(("attn.proj.weight", "mlp.c_proj.weight")):
            assert values.std() == pytest.approx(std, rel=0.1), name
        elif ".ln_" in f".{name}" and name.endswith("weight"):
            assert (values == 1).all(), name
        elif name.endswith("bias"):
            assert (values == 0).all(), name
        else:
            assert values.std() == pytest.approx(0.02, rel=0.1), name


def test_weight_tying_checkpoint_round_trip(tmp_path, rng):
    model = tiny(dtype=tg.float32)
    assert model.lm_head.weight is model.transformer.wte.weight
    names = [name for name, _ in model.named_parameters()]
    assert "transformer.wte.weight" in names and "lm_head.weight" not in names
    assert len(names) == len(model.state_dict()) - 1 == len(list(model.parameters()))
    state = model.state_dict()
    assert np.array_equal(host(state["lm_head.weight"]), host(state["transformer.wte.weight"]))
    tg.save(state, tmp_path / "gpt.safetensors")
    fresh = tiny(dtype=tg.float32, seed=1)
    fresh.load_state_dict(tg.load(tmp_path / "gpt.safetensors"))
    assert fresh.lm_head.weight is fresh.transformer.wte.weight
    x = ids(rng, (2, 6))
    assert np.array_equal(host(fresh(x)[0]), host(model(x)[0]))
    (model(x)[0] ** 2).sum().backward()       # the tied weight gets both paths' gradients
    assert model.lm_head.weight.grad is model.transformer.wte.weight.grad


@pytest.mark.parametrize("prompt_len, new", [(1, 5), (3, 20), (8, 6), (12, 4)])
def test_greedy_generation_with_cache_equals_without(device, rng, prompt_len, new):
    """block_size 8: the runs pass it (the cache is rebuilt), and a 12-token prompt is cropped."""
    model = tiny(device=device)
    prompt = ids(rng, (2, prompt_len), device=device)
    cached = model.generate(prompt, new, temperature=0.0)
    uncached = model.generate(prompt, new, temperature=0.0, use_cache=False)
    assert cached.shape == (2, prompt_len + new)
    np.testing.assert_array_equal(cached.cpu().numpy(), uncached.cpu().numpy())
    np.testing.assert_array_equal(cached[:, :prompt_len].cpu().numpy(), prompt.cpu().numpy())


def test_cache_feeds_one_token_until_the_context_is_full(monkeypatch):
    """block_size 8, prompt 3, 8 new tokens: the prompt, then 1 token at a time while the
    cache has room (positions 3..7), then the whole sliding window of 8."""
    model = tiny()
    lengths = []
    hidden = model._hidden

    def recording(idx, kv_caches=None):
        lengths.append((idx.shape[1], kv_caches is not None))
        return hidden(idx, kv_caches)
    monkeypatch.setattr(model, "_hidden", recording)
    model.generate(tg.tensor([[1, 2, 3]]), 8, temperature=0.0)
    assert lengths == [(3, True)] + [(1, True)] * 5 + [(8, True)] * 2
    lengths.clear()
    model.generate(tg.tensor([[1, 2, 3]]), 2, temperature=0.0, use_cache=False)
    assert lengths == [(3, False), (4, False)]


def test_greedy_is_the_argmax_of_forward(rng):
    model = tiny()
    prompt = ids(rng, (1, 4))
    out = model.generate(prompt, 1, temperature=0.0)
    assert out[0, -1].item() == int(host(model(prompt)[0])[0, -1].argmax())
    narrow = model.generate(prompt.to(tg.int32), 1, temperature=0.0)
    assert narrow.dtype == tg.int32 and np.array_equal(narrow.cpu().numpy(), out.cpu().numpy())


def test_sampling_follows_softmax_over_top_k(rng):
    """Many identical prompts, one new token each: the draws follow softmax(logits / t)
    restricted to the top k; a generator makes them repeat; eval mode and grads restored."""
    model = tiny(vocab_size=6, n_embd=8, dropout=0.5)
    prompt = tg.tensor(np.tile(rng.integers(0, 6, size=(1, 3)), (4000, 1)))
    model.eval()
    logits = host(model(prompt[:1])[0])[0, -1] * 10.0        # sharpen: t = 0.1 below
    model.train()
    order = np.argsort(-logits)
    for top_k, t in [(None, 0.1), (2, 0.1), (None, 1.0)]:
        draws = model.generate(prompt, 1, temperature=t, top_k=top_k,
                               generator=np.random.default_rng(3))[:, -1].cpu().numpy()
        z = logits * (0.1 / t)
        if top_k is not None:
            z = np.where(np.isin(np.arange(6), order[:top_k]), z, -np.inf)
        p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        freq = np.bincount(draws, minlength=6) / len(draws)
        assert (np.abs(freq - p) <= 4 * np.sqrt(p * (1 - p) / len(draws)) + 1e-9).all()
        again = model.generate(prompt[:50], 1, temperature=t, top_k=top_k,
                               generator=np.random.default_rng(3))[:, -1].cpu().numpy()
        np.testing.assert_array_equal(again, draws[:50])
    assert model.training and tg.is_grad_enabled()
    greedy = model.generate(prompt[:1], 3, temperature=0.0)
    assert np.array_equal(host(model.generate(prompt[:1], 3, top_k=1)), host(greedy))


def test_sampling_uses_the_global_generator():
    model = tiny()
    prompt = tg.tensor([[1, 2]])
    tg.manual_seed(5)
    first = model.generate(prompt, 6).cpu().numpy()
    tg.manual_seed(5)
    assert np.array_equal(model.generate(prompt, 6).cpu().numpy(), first)
    tg.manual_seed(6)
    assert not np.array_equal(model.generate(prompt, 6).cpu().numpy(), first)


@pytest.mark.parametrize("call, message", [
    (lambda m: m(tg.tensor([[1] * 9])), "block_size is only 8"),
    (lambda m: m(tg.tensor([1, 2])), "2-D integer tensor"),
    (lambda m: m(tg.tensor([[1.0, 2.0]])), "2-D integer tensor"),
    (lambda m: m(tg.tensor(np.zeros((1, 0), np.int64))), "at least one token"),
    (lambda m: m(tg.tensor([[1, 2]]), tg.tensor([[1, 2, 3]])), "targets must have"),
    (lambda m: m.generate(tg.tensor([[1, 2]]), 3, temperature=-1.0), "temperature"),
    (lambda m: m.generate(tg.tensor([[1, 2]]), 3, temperature=math.nan), "temperature"),
    (lambda m: m.generate(tg.tensor([[1, 2]]), 3, top_k=0), "top_k"),
    (lambda m: m.generate(tg.tensor([[1, 2]]), 3, top_k=2.5), "top_k"),
    (lambda m: m.generate(tg.tensor([[1, 2]]), -1), "max_new_tokens"),
])
def test_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call(tiny())
        device_checks.flush()                 # where a queued check raises (see its module)


@pytest.mark.parametrize("call, message", [
    (lambda m: m(tg.tensor([[1, 11]])), r"embedding: id 11 is out of range for 11 embeddings "
                                        r"\(valid ids are 0 to 10\)"),
    (lambda m: m(tg.tensor([[-1, 2]])), "id -1 is out of range for 11 embeddings"),
    (lambda m: m.generate(tg.tensor([[1, 12]]), 3), "id 12 is out of range for 11 embeddings"),
    (lambda m: m(tg.tensor([[1, 2]]), tg.tensor([[3, 11]])),
     "cross_entropy: target 11 is out of bounds for 11 classes"),
])
def test_ids_outside_the_vocabulary_are_index_errors(call, message):
    """Token ids are checked by the token embedding, targets by cross_entropy."""
    with pytest.raises(IndexError, match=message):
        call(tiny())
        device_checks.flush()                 # where a queued check raises (see its module)


def test_config_errors():
    with pytest.raises(ValueError, match="not divisible"):
        GPTConfig(10, n_embd=30, n_head=4)
    with pytest.raises(ValueError, match="vocab_size"):
        GPTConfig(0)
    with pytest.raises(TypeError, match="GPTConfig"):
        GPT(dict(vocab_size=10))


def test_short_training_lowers_the_loss():
    text = np.frombuffer(TEXT.encode(), np.uint8)
    chars, data = np.unique(text, return_inverse=True)
    model = tiny(vocab_size=len(chars), block_size=16, dtype=tg.float32)
    opt = tg.optim.AdamW(model.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    losses = []
    for _ in range(40):
        rows = rng.integers(0, len(data) - 17, 16)[:, None] + np.arange(17)
        _, loss = model(tg.tensor(data[rows][:, :-1]), tg.tensor(data[rows][:, 1:]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[0] > math.log(len(chars)) - 0.3
    assert np.mean(losses[-5:]) < 0.6 * losses[0]


def recipe(tmp_path, text=TEXT, **overrides):
    path = tmp_path / "text.txt"
    path.write_text(text, encoding="utf-8")
    config = {**GPTRecipe.defaults, "n_layer": 1, "n_head": 2, "n_embd": 16, "block_size": 16,
              "batch_size": 8, "steps": 30, "warmup_steps": 5, "eval_windows": 40, "lr": 1e-2,
              "seed": 0, "data_dir": None, "text": str(path), "out": tmp_path, **overrides}
    tg.manual_seed(0)
    built = GPTRecipe(config, tg.device("cpu"))
    built.load_data()
    return built


def test_recipe_batches_are_a_function_of_the_step(tmp_path):
    r = recipe(tmp_path)
    assert r.vocab.chars == "".join(sorted(set(TEXT))) and r.state == {"chars": r.vocab.chars}
    run = r.batches(0)
    batches = [next(run) for _ in range(4)]
    x, y, step = next(recipe(tmp_path).batches(3))
    assert step == 3 and np.array_equal(x.cpu().numpy(), batches[3][0].cpu().numpy())
    assert x.shape == y.shape == (8, 16)
    assert np.array_equal(x.cpu().numpy()[:, 1:], y.cpu().numpy()[:, :-1])
    assert not np.array_equal(batches[0][0].cpu().numpy(), batches[1][0].cpu().numpy())


def test_recipe_learning_rate_warms_up_then_decays(tmp_path):
    r = recipe(tmp_path)
    lrs = [r.learning_rate(s) for s in range(31)]
    assert lrs[0] == pytest.approx(2e-3) and lrs[4] == pytest.approx(1e-2)
    assert lrs[30] == pytest.approx(1e-3) and all(a >= b for a, b in zip(lrs[4:], lrs[5:]))


def test_recipe_trains_evaluates_and_samples(tmp_path):
    r = recipe(tmp_path)
    before = r.evaluate()
    assert before["val_bpc"] == pytest.approx(before["val_loss"] / math.log(2))
    assert before["val_loss"] == pytest.approx(math.log(r.vocab.size), abs=0.3)
    run = r.batches(0)
    losses = [r.train_step(next(run))["loss"] for _ in range(30)]
    state = tg.backend.get_rng_state()
    after = r.evaluate()
    assert tg.backend.get_rng_state() == state and r.model.training
    assert after["val_loss"] < before["val_loss"] - 0.5 and losses[-1] < losses[0]
    tg.manual_seed(1)
    text = r.sample(40, prompt="the ")
    assert text.startswith("the ") and len(text) == 44 and set(text) <= set(TEXT)
    tg.manual_seed(1)
    assert r.sample(40, prompt="the ") == text
    assert r.sample(5, temperature=0.0)[0] == "\n"
    with pytest.raises(ValueError, match="not in the vocabulary"):
        r.sample(5, prompt="Z")


def test_recipe_checkpoint_rebuilds_its_vocabulary(tmp_path):
    """A recipe built on another text takes the checkpoint's characters and weights, and then
    samples what the trained one does; a text with characters the checkpoint lacks is a clear
    error when the checkpoint is loaded, before any training."""
    trained = recipe(tmp_path)
    run = trained.batches(0)
    for _ in range(3):
        trained.train_step(next(run))
    (tmp_path / "other").mkdir()
    other = recipe(tmp_path / "other", text="the lazy dog. " * 20)     # fewer characters
    other.load_state(trained.state)
    other.model.load_state_dict(trained.model.state_dict())
    assert other.vocab.chars == trained.vocab.chars
    texts = []
    for r in (trained, other):
        tg.manual_seed(2)
        texts.append(r.sample(30, prompt="a ", temperature=1.0))
    assert texts[0] == texts[1]
    unknown = recipe(tmp_path / "other", text="ABC" * 100)
    with pytest.raises(ValueError, match=r"3 character\(s\) that the checkpoint's vocabulary "
                                         r"lacks \('ABC'\).*--text"):
        unknown.load_state(trained.state)


def test_recipe_text_too_short(tmp_path):
    """block_size 16: 170 characters leave 17 to validate, one window; 160 leave too few."""
    r = recipe(tmp_path, text="abcdefghij" * 17)
    assert len(r.val_ids) == 17 and r.evaluate()["val_loss"] > 0
    with pytest.raises(ValueError, match="too short"):
        recipe(tmp_path, text="abcdefghij" * 16)
