"""MultiheadAttention and CausalSelfAttention: PyTorch's parameter names, initialisation and
outputs (weights copied in by state-dict key), every mask form, kdim/vdim, add_bias_kv and
add_zero_attn, gradients in float64, causality, the KV cache, dropout, and clear errors."""

import math

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tinygen import nn
from tinygen.autograd import gradcheck


def test_parameters_and_init():
    mha = nn.MultiheadAttention(16, 4)
    assert list(mha.state_dict()) == ["in_proj_weight", "in_proj_bias", "out_proj.weight",
                                      "out_proj.bias"]
    w = host(mha.in_proj_weight.detach())
    bound = math.sqrt(6 / (16 + 48))                 # xavier_uniform_ on (3E, E)
    assert w.shape == (48, 16) and np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    np.testing.assert_array_equal(host(mha.in_proj_bias.detach()), 0.0)
    np.testing.assert_array_equal(host(mha.out_proj.bias.detach()), 0.0)
    separate = nn.MultiheadAttention(8, 2, kdim=5, vdim=3, bias=False)
    assert list(separate.state_dict()) == ["q_proj_weight", "k_proj_weight", "v_proj_weight",
                                           "out_proj.weight"]
    assert separate.in_proj_weight is None and separate.bias_k is None
    bound = math.sqrt(6 / (8 + 5))                   # xavier_uniform_ on (E, kdim)
    assert np.abs(host(separate.k_proj_weight.detach())).max() <= bound


def test_bias_kv_parameters_and_init():
    mha = nn.MultiheadAttention(512, 4, add_bias_kv=True, add_zero_attn=True, kdim=3, vdim=5)
    assert list(mha.state_dict()) == ["q_proj_weight", "k_proj_weight", "v_proj_weight",
                                      "in_proj_bias", "bias_k", "bias_v", "out_proj.weight",
                                      "out_proj.bias"]
    assert mha.add_zero_attn and mha.bias_k.shape == mha.bias_v.shape == (1, 1, 512)
    for b in (mha.bias_k, mha.bias_v):              # xavier_normal_ on (1, 1, E): std 1/sqrt(E)
        assert host(b.detach()).std() == pytest.approx(1 / math.sqrt(512), rel=0.15)


def test_parameter_names_match_torch():
    torch = pytest.importorskip("torch")
    for kwargs in [dict(add_bias_kv=True), dict(add_bias_kv=True, bias=False, kdim=3),
                   dict(add_zero_attn=True, vdim=5)]:
        ours, theirs = _torch_pair(torch, 8, 2, **kwargs)
        assert [(name, tuple(p.shape)) for name, p in ours.named_parameters()] == [
            (name, tuple(p.shape)) for name, p in theirs.named_parameters()]
        assert repr(ours) == repr(theirs)


def test_extra_positions_closed_form(rng):
    """add_bias_kv appends bias_k as one more key, add_zero_attn then a zero key (score 0 for
    every query): the weights are the softmax over the 5 + 2 scores."""
    mha = nn.MultiheadAttention(4, 1, bias=False, add_bias_kv=True, add_zero_attn=True,
                                batch_first=True).double()
    q = tg.tensor(rng.standard_normal((2, 3, 4)))
    kv = tg.tensor(rng.standard_normal((2, 5, 4)))
    _, weights = mha(q, kv, kv)
    Wq, Wk, Wv = (host(w) for w in mha.in_proj_weight.detach().chunk(3))
    keys = np.concatenate([host(kv) @ Wk.T, np.broadcast_to(host(mha.bias_k.detach()),
                                                            (2, 1, 4)), np.zeros((2, 1, 4))], 1)
    scores = (host(q) @ Wq.T) @ keys.transpose(0, 2, 1) / 2.0       # / sqrt(head_dim = 4)
    expected = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    assert weights.shape == (2, 3, 7)
    np.testing.assert_allclose(host(weights), expected, rtol=1e-12)


def _torch_pair(torch, *args, **kwargs):
    theirs = torch.nn.MultiheadAttention(*args, **kwargs)
    ours = nn.MultiheadAttention(*args, **kwargs)
    ours.load_state_dict({k: tg.tensor(v.detach().cpu().numpy()) for k, v in
                          theirs.state_dict().items()})
    return ours, theirs


CASES = [  # (constructor kwargs, forward kwargs builder, self-attention?)
    (dict(), lambda t, L, S, N: {}, True),
    (dict(batch_first=True), lambda t, L, S, N: {}, False),
    (dict(), lambda t, L, S, N: {"attn_mask": t(np.triu(np.ones((L, S), bool), 1))}, True),
    (dict(batch_first=True), lambda t, L, S, N: {
        "attn_mask": t(np.random.default_rng(1).standard_normal((N * 2, L, S)).astype(
            np.float32))}, False),
    (dict(), lambda t, L, S, N: {"key_padding_mask": t(np.arange(S)[None, :] >= S - np.arange(
        N)[:, None])}, False),
    (dict(), lambda t, L, S, N: {"average_attn_weights": False}, False),
    (dict(kdim=3, vdim=5), lambda t, L, S, N: {}, False),
    (dict(add_bias_kv=True), lambda t, L, S, N: {}, True),
    (dict(add_zero_attn=True, batch_first=True), lambda t, L, S, N: {}, False),
    (dict(add_bias_kv=True, add_zero_attn=True, kdim=3, vdim=5), lambda t, L, S, N: {
        "average_attn_weights": False}, False),
    (dict(add_bias_kv=True, add_zero_attn=True), lambda t, L, S, N: {
        "attn_mask": t(np.triu(np.ones((L, S), bool), 1)),
        "key_padding_mask": t(np.arange(S)[None, :] >= S - np.arange(N)[:, None])}, True),
    (dict(add_bias_kv=True, bias=False, batch_first=True), lambda t, L, S, N: {
        "attn_mask": t(np.random.default_rng(1).standard_normal((N * 2, L, S)).astype(
            np.float32))}, False),
]


@pytest.mark.parametrize("ctor, forward_kwargs, self_attention", CASES)
def test_against_torch(ctor, forward_kwargs, self_attention, rng):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    ours, theirs = _torch_pair(torch, 8, 2, **ctor)
    L, S, N = 4, 4 if self_attention else 6, 3
    first = ctor.get("batch_first", False)

    def shape(n, dim):
        return (N, n, dim) if first else (n, N, dim)
    q = rng.standard_normal(shape(L, 8)).astype(np.float32)
    k = q if self_attention else rng.standard_normal(shape(S, ctor.get("kdim", 8))).astype(
        np.float32)
    v = q if self_attention else rng.standard_normal(shape(S, ctor.get("vdim", 8))).astype(
        np.float32)
    x = [tg.tensor(a, requires_grad=True) for a in (q, k, v)]
    t = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    if self_attention:
        x, t = [x[0]] * 3, [t[0]] * 3
    out, weights = ours(*x, **forward_kwargs(tg.tensor, L, S, N))
    t_out, t_weights = theirs(*t, **forward_kwargs(torch.tensor, L, S, N))
    np.testing.assert_allclose(host(out), t_out.detach().cpu().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(host(weights), t_weights.detach().numpy(), rtol=1e-4, atol=1e-6)
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(tg.tensor(g))
    t_out.backward(torch.tensor(g))
    np.testing.assert_allclose(host(x[0].grad), t[0].grad.cpu().numpy(), rtol=1e-3, atol=1e-5)
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(host(p.grad), tp.grad.cpu().numpy(), rtol=1e-3, atol=1e-5,
                                   err_msg=name)


def test_unbatched_and_no_weights(rng):
    torch = pytest.importorskip("torch")
    ours, theirs = _torch_pair(torch, 6, 3)
    a = rng.standard_normal((5, 6)).astype(np.float32)
    out, weights = ours(*[tg.tensor(a)] * 3, need_weights=False)
    t_out, _ = theirs(*[torch.tensor(a)] * 3)
    assert weights is None and out.shape == (5, 6)
    np.testing.assert_allclose(host(out), t_out.detach().cpu().numpy(), rtol=1e-4, atol=1e-5)
    _, weights = ours(*[tg.tensor(a)] * 3)
    assert weights.shape == (5, 5)


def test_grads_float64(rng):
    mha = nn.MultiheadAttention(4, 2, batch_first=True).double()
    q = tg.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    kv = tg.tensor(rng.standard_normal((2, 5, 4)), requires_grad=True)
    mask = tg.tensor(np.array([[False] * 5, [False, False, False, True, True]]))
    params = list(mha.parameters())

    def f(q, kv, *ps):
        out, weights = mha(q, kv, kv, key_padding_mask=mask)
        return out, weights
    assert gradcheck(f, (q, kv, *params))


def test_grads_with_extra_positions_float64(rng):
    mha = nn.MultiheadAttention(4, 2, add_bias_kv=True, add_zero_attn=True, kdim=3,
                                vdim=2).double()
    q = tg.tensor(rng.standard_normal((3, 2, 4)), requires_grad=True)
    k = tg.tensor(rng.standard_normal((5, 2, 3)), requires_grad=True)
    v = tg.tensor(rng.standard_normal((5, 2, 2)), requires_grad=True)
    mask = tg.tensor(np.triu(np.ones((3, 5), bool), 1))
    params = list(mha.parameters())

    def f(q, k, v, *ps):
        return mha(q, k, v, attn_mask=mask)
    assert gradcheck(f, (q, k, v, *params))


def test_errors():
    mha = nn.MultiheadAttention(8, 2)
    with pytest.raises(ValueError, match="embedding dimension of 8 for the query, but got 6"):
        mha(tg.ones(3, 2, 6), tg.ones(3, 2, 8), tg.ones(3, 2, 8))
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(RuntimeError, match="need attn_mask"):
        mha(tg.ones(3, 2, 8), tg.ones(3, 2, 8), tg.ones(3, 2, 8), is_causal=True)
    with pytest.raises(RuntimeError, match=r"attn_mask has shape \(2, 3\)"):
        mha(tg.ones(3, 2, 8), tg.ones(3, 2, 8), tg.ones(3, 2, 8), attn_mask=tg.ones(2, 3))
    with pytest.raises(ValueError, match=r"same batch size \(dim 1 with batch_first=False\)"):
        mha(tg.ones(5, 3, 8), tg.ones(6, 2, 8), tg.ones(6, 2, 8))
    with pytest.raises(TypeError, match="masks must be bool .* got int64; .* mask.bool()"):
        mha(tg.ones(3, 2, 8), tg.ones(3, 2, 8), tg.ones(3, 2, 8),
            key_padding_mask=tg.tensor([[0, 0, 1], [0, 0, 0]]))


def _causal_block(rng, dropout=0.0):
    tg.manual_seed(0)
    block = nn.CausalSelfAttention(8, 2, dropout=dropout).double()
    x = tg.tensor(rng.standard_normal((2, 5, 8)), requires_grad=True)
    return block, x


def test_causal_block_grads_and_causality(rng):
    block, x = _causal_block(rng)
    assert [n for n, _ in block.named_parameters()] == ["qkv.weight", "qkv.bias", "proj.weight",
                                                        "proj.bias"]
    assert gradcheck(lambda x, *ps: block(x), (x, *block.parameters()))
    y = host(block(x))
    changed = host(x).copy()
    changed[:, 3:] += 1.0                             # change the future
    y2 = host(block(tg.tensor(changed)))
    np.testing.assert_allclose(y2[:, :3], y[:, :3], rtol=1e-12)
    assert np.abs(y2[:, 3:] - y[:, 3:]).max() > 1e-3


def test_kv_cache_matches_full_sequence(rng):
    """Feeding a prompt of 2 then one token at a time through a cache gives the outputs of one
    call on the whole sequence."""
    block, x = _causal_block(rng)
    full = host(block(x))
    cache = nn.KVCache()
    with tg.no_grad():
        parts = [block(x[:, :2], kv_cache=cache)]
        parts += [block(x[:, t:t + 1], kv_cache=cache) for t in range(2, 5)]
    assert len(cache) == 5
    np.testing.assert_allclose(np.concatenate([host(p) for p in parts], 1), full, rtol=1e-10)
    cache.clear()
    assert len(cache) == 0


def test_causal_block_dropout_only_in_training(rng):
    block, x = _causal_block(rng, dropout=0.5)
    block.eval()
    np.testing.assert_array_equal(host(block(x)), host(block(x)))
    block.train()
    assert np.abs(host(block(x)) - host(block(x))).max() > 1e-6


def test_causal_block_errors():
    with pytest.raises(ValueError, match="not divisible"):
        nn.CausalSelfAttention(10, 3)
    with pytest.raises(ValueError, match=r"expected input \(B, T, 8\)"):
        nn.CausalSelfAttention(8, 2)(tg.ones(2, 3, 6))


def test_multihead_dropout_only_in_training(rng):
    mha = nn.MultiheadAttention(4, 2, dropout=0.5, batch_first=True)
    x = tg.tensor(rng.standard_normal((2, 6, 4)).astype(np.float32))
    _, weights = mha(x, x, x)
    sums = host(weights).sum(-1)
    assert np.abs(sums - 1).max() > 1e-3                # dropped weights, rescaled survivors
    mha.eval()
    _, weights = mha(x, x, x)
    np.testing.assert_allclose(host(weights).sum(-1), 1.0, rtol=1e-5)
