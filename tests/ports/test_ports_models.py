"""Real model definitions ported by changing the imports: torchvision's ResNet
(``scripts_resnet.py``), Meta's Llama (``scripts_llama.py``) and pytorch/examples' actor-critic
(``scripts_actor_critic.py``).

Under tinygen alone each model runs and its own claims hold (shapes, parameter counts, the KV
cache gives the logits of the full sequence, ...). Where PyTorch is importable both frameworks
build the model, tinygen loads PyTorch's state_dict (the keys must match exactly), and outputs,
gradients, BatchNorm running statistics and optimizer steps are compared in float64 (Llama
rounds through float32 and complex64 as upstream does, so those compare at float32 precision).
"""

import types

import numpy as np
import pytest

import tinygen
import tinygen.distributions
import tinygen.nn
import tinygen.nn.functional
import tinygen.optim

from tests.ports import scripts_actor_critic as AC
from tests.ports import scripts_llama as LL
from tests.ports import scripts_resnet as RN
from tests.ports.test_ports import TG, _torch_modules, assert_same_params, copy_state


def npy(t):
    return np.asarray(t.detach().cpu().numpy())


def assert_close_scaled(g, t, rtol, err_msg=""):
    """|g - t| <= rtol * max|t|: for tensors whose small entries carry only cancellation."""
    g, t = npy(g), npy(t)
    assert g.shape == t.shape, (err_msg, g.shape, t.shape)
    np.testing.assert_allclose(g, t, rtol=0, atol=rtol * np.abs(t).max(), err_msg=err_msg)


def assert_same_grads(t_model, g_model, rtol):
    g_params = dict(g_model.named_parameters())
    for name, p in t_model.named_parameters():
        assert_close_scaled(g_params[name].grad, p.grad, rtol, err_msg=name)


# --- ResNet -------------------------------------------------------------------------------------

def images(n=2, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 3, 32, 32))


def test_resnet18_under_tinygen():
    R = RN.resnet(tinygen, tinygen.nn)
    tinygen.manual_seed(0)
    model = R["resnet18"](num_classes=10, zero_init_residual=True)
    assert sum(p.numel() for p in model.parameters()) == 11_181_642  # 11,689,512 at 1000
    assert model.layer3[0].bn2.weight.abs().sum().item() == 0              # zero_init_residual
    w = model.layer1[0].conv1.weight.detach().numpy()                      # kaiming fan_out
    assert abs(w.std() - np.sqrt(2 / (64 * 9))) < 0.005
    out = model(tinygen.tensor(images(2).astype(np.float32)))
    assert tuple(out.shape) == (2, 10) and out.dtype == tinygen.float32
    with pytest.raises(ValueError, match="BasicBlock only supports"):
        R["BasicBlock"](64, 64, groups=2)
    with pytest.raises(ValueError, match="replace_stride_with_dilation"):
        R["ResNet"](R["BasicBlock"], [1, 1, 1, 1], replace_stride_with_dilation=[True])


def test_bottleneck_gradcheck():
    """The Bottleneck block (stride 2, downsample) in eval mode passes a float64 gradcheck."""
    R = RN.resnet(tinygen, tinygen.nn)
    tinygen.manual_seed(0)
    nn = tinygen.nn
    down = nn.Sequential(R["conv1x1"](8, 8, 2), nn.BatchNorm2d(8))
    block = R["Bottleneck"](8, 2, stride=2, downsample=down).double().eval()
    x = tinygen.tensor(np.random.default_rng(1).standard_normal((1, 8, 5, 5)),
                       requires_grad=True)
    assert tuple(block(x).shape) == (1, 8, 3, 3)
    # ReLU kinks are where finite differences fail; the random input keeps away from them
    assert tinygen.autograd.gradcheck(lambda x: block(x), (x,), eps=1e-6, atol=1e-5)


def resnet_twins(make):
    T = _torch_modules()
    T[0].manual_seed(0)
    t_model = make(RN.resnet(T[0], T[1])).double()
    g_model = make(RN.resnet(tinygen, tinygen.nn)).double()
    copy_state(t_model, g_model)                       # repr and state_dict keys equal
    return T, t_model, g_model


def test_bottleneck_matches_torch_in_train_mode():
    T, t_block, g_block = resnet_twins(lambda R: R["Bottleneck"](
        8, 4, stride=2, groups=2, base_width=32,
        downsample=R["nn"].Sequential(R["conv1x1"](8, 16, 2), R["nn"].BatchNorm2d(16))))
    assert g_block.conv2.groups == 2 and g_block.conv2.weight.shape == (4, 2, 3, 3)
    x = np.random.default_rng(2).standard_normal((3, 8, 6, 6))
    tx, gx = T[0].tensor(x, requires_grad=True), tinygen.tensor(x, requires_grad=True)
    t_out, g_out = t_block(tx), g_block(gx)
    assert_close_scaled(g_out, t_out, 1e-12)
    (t_out * T[0].tensor(x[:, :1].repeat(16, 1)[:, :, ::2, ::2])).sum().backward()
    (g_out * tinygen.tensor(x[:, :1].repeat(16, 1)[:, :, ::2, ::2])).sum().backward()
    assert_close_scaled(gx.grad, tx.grad, 1e-10)
    assert_same_grads(t_block, g_block, 1e-10)
    assert_same_params(t_block, g_block, rtol=1e-10, atol=1e-14)      # running stats


def test_resnet18_matches_torch_train_and_eval():
    T, t_model, g_model = resnet_twins(lambda R: R["resnet18"](num_classes=10))
    x = images(2)
    tx, gx = T[0].tensor(x, requires_grad=True), tinygen.tensor(x, requires_grad=True)
    t_out, g_out = t_model(tx), g_model(gx)                            # train mode
    assert_close_scaled(g_out, t_out, 1e-9)
    (t_out ** 2).sum().backward()
    (g_out ** 2).sum().backward()
    assert_close_scaled(gx.grad, tx.grad, 1e-8)
    assert_same_grads(t_model, g_model, 1e-7)
    assert_same_params(t_model, g_model, rtol=1e-9, atol=1e-12)       # running stats too
    assert g_model.bn1.num_batches_tracked.item() == 1
    t_model.eval(), g_model.eval()
    x = images(1, seed=1)
    assert_close_scaled(g_model(tinygen.tensor(x)), t_model(T[0].tensor(x)), 1e-9)


def test_resnet_sgd_steps_match_torch():
    """Three SGD steps (momentum, weight decay) of a one-block-per-stage BasicBlock ResNet."""
    T, t_model, g_model = resnet_twins(
        lambda R: R["ResNet"](R["BasicBlock"], [1, 1, 1, 1], num_classes=4))
    y = np.array([1, 3, 0, 2])           # batch 4: with 2, layer4's 1x1 BatchNorm is degenerate
    losses = []
    for torch, nn, model in ((T[0], T[1], t_model), (tinygen, tinygen.nn, g_model)):
        opt = (T[3] if torch is T[0] else tinygen.optim).SGD(
            model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
        loss_fn = nn.CrossEntropyLoss()
        run = []
        for step in range(3):
            opt.zero_grad()
            loss = loss_fn(model(torch.tensor(images(4, seed=step))), torch.tensor(y))
            loss.backward()
            opt.step()
            run.append(loss.item())
        losses.append(run)
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-9)
    assert_same_params(t_model, g_model, rtol=1e-7, atol=1e-9)


# --- Llama ------------------------------------------------------------------------------------

LLAMA = dict(dim=32, n_layers=2, n_heads=2, vocab_size=50, multiple_of=16,
             max_batch_size=2, max_seq_len=16)


def llama_model(torch, nn, F, **kw):
    L = LL.llama(torch, nn, F)
    return L, L["Transformer"](L["ModelArgs"](**{**LLAMA, **kw}))


def tokens(shape, seed=0):
    return np.random.default_rng(seed).integers(0, LLAMA["vocab_size"], shape)


def test_llama_under_tinygen_kv_cache():
    """Prefill then one-token decoding through the KV cache gives the full sequence's logits."""
    tinygen.manual_seed(0)
    L, model = llama_model(*TG[:3], n_kv_heads=1)
    assert model.layers[0].attention.n_rep == 2
    assert model.layers[0].feed_forward.w1.weight.shape == (96, 32)   # 2/3 * 4 * 32 -> 16k
    assert model.freqs_cis.dtype == tinygen.complex64 and model.freqs_cis.shape == (32, 8)
    tok = tinygen.tensor(tokens((2, 6)))
    full = model(tok, 0)
    assert full.dtype == tinygen.float32 and tuple(full.shape) == (2, 6, 50)
    assert not full.requires_grad                                      # @inference_mode
    steps = [model(tok[:, :4], 0)] + [model(tok[:, i:i + 1], i) for i in (4, 5)]
    np.testing.assert_allclose(npy(tinygen.cat(steps, 1)), npy(full), rtol=1e-4, atol=1e-5)


def test_llama_rotary_and_rmsnorm_closed_form():
    L = LL.llama(*TG[:3])
    f = L["precompute_freqs_cis"](4, 3)
    theta = np.outer(np.arange(3), 1.0 / 10000.0 ** (np.arange(0, 4, 2) / 4))
    np.testing.assert_allclose(npy(f), np.exp(1j * theta), rtol=1e-6, atol=1e-7)
    x = np.random.default_rng(0).standard_normal((1, 3, 1, 4))
    xq, xk = L["apply_rotary_emb"](tinygen.tensor(x), tinygen.tensor(2 * x), f)
    z = (x[..., 0::2] + 1j * x[..., 1::2]) * np.exp(1j * theta)[None, :, None]
    rot = np.stack([z.real, z.imag], -1).reshape(x.shape)
    assert xq.dtype == tinygen.float64
    np.testing.assert_allclose(npy(xq), rot, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(npy(xk), 2 * rot, rtol=1e-5, atol=1e-6)
    norm = L["RMSNorm"](4, eps=1e-6).double()
    np.testing.assert_allclose(npy(norm(tinygen.tensor(x))),
                               x / np.sqrt((x ** 2).mean(-1, keepdims=True) + 1e-6), rtol=1e-6)


def llama_twins(**kw):
    T = _torch_modules()
    T[0].manual_seed(0)
    t_model = llama_model(*T[:3], **kw)[1].double()
    g_model = llama_model(*TG[:3], **kw)[1].double()
    copy_state(t_model, g_model)
    return T, t_model, g_model


def test_llama_logits_match_torch_with_kv_cache():
    T, t_model, g_model = llama_twins(n_kv_heads=1)
    tok = tokens((2, 5))
    for start, sl in ((0, slice(0, 3)), (3, slice(3, 5)), (5, slice(0, 1))):  # prefill, chunk, 1
        t_out = t_model(T[0].tensor(tok[:, sl]), start)
        g_out = g_model(tinygen.tensor(tok[:, sl]), start)
        assert g_out.dtype == tinygen.float32
        np.testing.assert_allclose(npy(g_out), npy(t_out), rtol=1e-5, atol=1e-5)
    for t_layer, g_layer in zip(t_model.layers, g_model.layers):
        np.testing.assert_allclose(npy(g_layer.attention.cache_k), npy(t_layer.attention.cache_k),
                                   rtol=1e-5, atol=1e-6)


def test_llama_training_step_matches_torch():
    """Gradients of a next-token loss through the un-decorated forward, then one SGD step (not
    Adam: its first step is lr * sign(grad), which float32 noise flips on near-zero grads)."""
    T, t_model, g_model = llama_twins()
    tok = tokens((2, 7), seed=3)
    for torch, F, optim, model in ((T[0], T[2], T[3], t_model),
                                   (tinygen, tinygen.nn.functional, tinygen.optim, g_model)):
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        logits = type(model).forward.__wrapped__(model, torch.tensor(tok[:, :-1]), 0)
        loss = F.cross_entropy(logits.reshape(-1, 50), torch.tensor(tok[:, 1:]).reshape(-1))
        loss.backward()
        opt.step()
        model.loss = loss.item()
    np.testing.assert_allclose(g_model.loss, t_model.loss, rtol=1e-6)
    assert_same_grads(t_model, g_model, 1e-4)
    assert_same_params(t_model, g_model, rtol=1e-5, atol=1e-6)


# --- actor-critic ---------------------------------------------------------------------------

class StubCartPole:
    """A few lines of deterministic CartPole-like dynamics in place of gym's. The run stops
    after ``episodes`` episodes: the reward threshold drops to -inf with the last reset."""

    def __init__(self, episodes, max_steps=12):
        self.episodes, self.max_steps, self.resets, self.actions = episodes, max_steps, 0, []
        self.spec = types.SimpleNamespace(reward_threshold=float("inf"))

    def reset(self, seed=None):
        if seed is not None:                  # the script's seeding call, not an episode
            self.rng = np.random.default_rng(seed)
        else:
            self.resets += 1
        if self.resets >= self.episodes:
            self.spec.reward_threshold = float("-inf")
        self.t, self.state = 0, self.rng.uniform(-0.05, 0.05, 4).astype(np.float32)
        return self.state, {}

    def step(self, action):
        x, v, th, w = self.state.astype(np.float64)
        force = 1.0 if action == 1 else -1.0
        x, v, th, w = x + 0.1 * v, v + 0.1 * force, th + 0.1 * w, w + 0.1 * (3 * th - force)
        self.t += 1
        self.actions.append(action)
        self.state = np.array([x, v, th, w], np.float32)
        return self.state, 1.0, abs(x) > 1 or abs(th) > 0.2, self.t >= self.max_steps, {}


def drawn_categorical(torch, Categorical, draws):
    """Categorical whose sample() inverts the CDF at the next of the given uniform draws, so
    both frameworks take the same actions from the same probabilities."""
    class DrawnCategorical(Categorical):
        def sample(self, sample_shape=()):
            with torch.no_grad():
                cdf = self.probs.cumsum(-1)
                return (cdf[..., :-1] < float(next(draws))).sum(-1)
    return DrawnCategorical


def run_actor_critic(torch, nn, F, optim, Categorical, episodes=4, before_main=None):
    env = StubCartPole(episodes)
    gym = types.SimpleNamespace(make=lambda name, render_mode=None: env)
    draws = iter(np.random.default_rng(5).random(1000))
    log = []
    ns = AC.actor_critic(torch, nn, F, optim, drawn_categorical(torch, Categorical, draws), np, gym,
                         argv=["--log-interval", "2"], print=log.append)
    if before_main:
        before_main(ns["model"])
    ns["main"]()
    return ns, env, log


def test_actor_critic_under_tinygen():
    ns, env, log = run_actor_critic(*TG, tinygen.distributions.Categorical)
    assert len(log) == 3 and log[0].startswith("Episode 2\tLast reward: ")
    assert log[-1].startswith("Solved! Running reward is now ")
    assert ns["model"].saved_actions == [] and ns["model"].rewards == []
    assert set(env.actions) == {0, 1} and ns["optimizer"].state  # Adam took steps
    assert ns["eps"] == np.finfo(np.float32).eps


def test_actor_critic_matches_torch_step_by_step():
    T = _torch_modules()
    import torch.distributions
    init = {}
    t_ns, t_env, t_log = run_actor_critic(*T, torch.distributions.Categorical, before_main=(
        lambda model: init.update({k: v.numpy().copy() for k, v in model.state_dict().items()})))
    g_ns, g_env, g_log = run_actor_critic(
        *TG, tinygen.distributions.Categorical,
        before_main=lambda model: model.load_state_dict(
            {k: tinygen.tensor(v) for k, v in init.items()}))
    assert g_env.actions == t_env.actions and len(t_env.actions) > 12
    assert g_log == t_log
    assert_same_params(t_ns["model"], g_ns["model"], rtol=1e-4, atol=1e-6)
