"""Transformer encoder and decoder layers and stacks: torch parity of outputs and gradients
(float64, eval mode), the zero-attention reduction, deep copies and gradcheck."""

import math

import numpy as np
import pytest

import tinygen as tg
from tinygen import nn
from tinygen.nn.transformer import generate_square_subsequent_mask
from tests.helpers import host


def _load_from_torch(module, torch_module):
    module.load_state_dict({k: v.detach().numpy() for k, v in torch_module.state_dict().items()})


def _compare_with_torch(module, torch_module, inputs, kwargs, torch_kwargs):
    """Outputs and gradients of inputs and parameters agree, with a random grad_output."""
    torch = pytest.importorskip("torch")
    _load_from_torch(module, torch_module)
    module.eval()
    torch_module.eval()
    xs = [tg.tensor(x, requires_grad=True) for x in inputs]
    txs = [torch.tensor(x, requires_grad=True) for x in inputs]
    y = module(*xs, **kwargs)
    ty = torch_module(*txs, **torch_kwargs)
    np.testing.assert_allclose(host(y), ty.detach().numpy(), rtol=1e-9, atol=1e-10)
    g = np.random.default_rng(1).standard_normal(tuple(y.shape))
    y.backward(tg.tensor(g))
    ty.backward(torch.tensor(g))
    for x, tx in zip(xs, txs):
        np.testing.assert_allclose(host(x.grad), tx.grad.numpy(), rtol=1e-8, atol=1e-10)
    torch_params = dict(torch_module.named_parameters())
    for name, p in module.named_parameters():
        np.testing.assert_allclose(host(p.grad), torch_params[name].grad.numpy(), rtol=1e-8,
                                   atol=1e-10, err_msg=name)


def _masks(S, N, lib):
    causal = lib.tensor(np.triu(np.ones((S, S), bool), 1))
    padding = np.zeros((N, S), bool)
    padding[0, -2:] = True
    return causal, lib.tensor(padding)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("bias", [True, False])
def test_encoder_layer_matches_torch(rng, norm_first, batch_first, activation, bias):
    torch = pytest.importorskip("torch")
    kw = dict(dim_feedforward=16, dropout=0.1, activation=activation, batch_first=batch_first,
              norm_first=norm_first, bias=bias)
    layer = nn.TransformerEncoderLayer(8, 2, **kw).double()
    torch_layer = torch.nn.TransformerEncoderLayer(8, 2, **kw).double()
    assert list(layer.state_dict()) == list(torch_layer.state_dict())
    S, N = 5, 3
    x = rng.standard_normal((N, S, 8) if batch_first else (S, N, 8))
    mask, padding = _masks(S, N, tg)
    tmask, tpadding = _masks(S, N, torch)
    _compare_with_torch(layer, torch_layer, [x],
                        dict(src_mask=mask, src_key_padding_mask=padding, is_causal=True),
                        dict(src_mask=tmask, src_key_padding_mask=tpadding, is_causal=True))


def test_encoder_layer_unbatched_and_module_activation_match_torch(rng):
    torch = pytest.importorskip("torch")
    layer = nn.TransformerEncoderLayer(6, 3, 10, activation=nn.GELU()).double()
    torch_layer = torch.nn.TransformerEncoderLayer(6, 3, 10, activation=torch.nn.GELU()).double()
    _compare_with_torch(layer, torch_layer, [rng.standard_normal((4, 6))], {}, {})


def test_encoder_stack_matches_torch(rng):
    torch = pytest.importorskip("torch")
    layer = nn.TransformerEncoderLayer(8, 4, 12, batch_first=True).double()
    encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8).double())
    torch_layer = torch.nn.TransformerEncoderLayer(8, 4, 12, batch_first=True).double()
    torch_encoder = torch.nn.TransformerEncoder(torch_layer, 2, norm=torch.nn.LayerNorm(8),
                                                enable_nested_tensor=False).double()
    assert list(encoder.state_dict()) == list(torch_encoder.state_dict())
    S = 6
    mask = generate_square_subsequent_mask(S, dtype=tg.float64)
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(S, dtype=torch.float64)
    np.testing.assert_array_equal(host(mask), tmask.numpy())
    _compare_with_torch(encoder, torch_encoder, [rng.standard_normal((2, S, 8))],
                        dict(mask=mask), dict(mask=tmask))


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_matches_torch(rng, norm_first):
    torch = pytest.importorskip("torch")
    kw = dict(dim_feedforward=12, norm_first=norm_first)
    layer = nn.TransformerDecoderLayer(8, 2, **kw).double()
    torch_layer = torch.nn.TransformerDecoderLayer(8, 2, **kw).double()
    assert list(layer.state_dict()) == list(torch_layer.state_dict())
    T, S, N = 4, 5, 3
    tgt, memory = rng.standard_normal((T, N, 8)), rng.standard_normal((S, N, 8))
    tgt_mask, _ = _masks(T, N, tg)
    _, memory_padding = _masks(S, N, tg)
    ttgt_mask, _ = _masks(T, N, torch)
    _, tmemory_padding = _masks(S, N, torch)
    _compare_with_torch(layer, torch_layer, [tgt, memory],
                        dict(tgt_mask=tgt_mask, memory_key_padding_mask=memory_padding),
                        dict(tgt_mask=ttgt_mask, memory_key_padding_mask=tmemory_padding))


def test_decoder_stack_matches_torch(rng):
    torch = pytest.importorskip("torch")
    decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 12, batch_first=True), 2,
                                    norm=nn.LayerNorm(8)).double()
    torch_decoder = torch.nn.TransformerDecoder(
        torch.nn.TransformerDecoderLayer(8, 2, 12, batch_first=True), 2,
        norm=torch.nn.LayerNorm(8)).double()
    assert list(decoder.state_dict()) == list(torch_decoder.state_dict())
    T = 4
    mask = generate_square_subsequent_mask(T, dtype=tg.float64)
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(T, dtype=torch.float64)
    _compare_with_torch(decoder, torch_decoder,
                        [rng.standard_normal((2, T, 8)), rng.standard_normal((2, 5, 8))],
                        dict(tgt_mask=mask, tgt_is_causal=True),
                        dict(tgt_mask=tmask, tgt_is_causal=True))


def test_zero_attention_leaves_the_feed_forward_residual(rng):
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0).double()
    with tg.no_grad():
        layer.self_attn.in_proj_weight.zero_()
        layer.self_attn.out_proj.weight.zero_()
        layer.self_attn.out_proj.bias.zero_()
    x = tg.tensor(rng.standard_normal((5, 3, 8)))
    h = layer.norm1(x)                    # the attention adds nothing
    expected = layer.norm2(h + layer.linear2(tg.nn.functional.relu(layer.linear1(h))))
    np.testing.assert_allclose(host(layer(x)), host(expected), rtol=1e-12, atol=1e-12)


def test_encoder_layers_are_independent_copies():
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    encoder = nn.TransformerEncoder(layer, 3)
    weights = [m.linear1.weight for m in encoder.layers]
    assert len({id(w) for w in weights + [layer.linear1.weight]}) == 4
    for w in weights:
        np.testing.assert_array_equal(host(w), host(layer.linear1.weight))
    assert len(list(encoder.parameters())) == 3 * len(list(layer.parameters()))


def test_default_initialisation_in_distribution():
    layer = nn.TransformerEncoderLayer(64, 4, 256)
    w = host(layer.linear1.weight)                        # kaiming-uniform: |w| <= 1/sqrt(64)
    assert np.abs(w).max() <= 1 / 8 and np.abs(w).max() > 0.9 / 8
    bound = np.sqrt(6 / (64 + 3 * 64))                    # xavier-uniform on (3E, E)
    assert np.abs(host(layer.self_attn.in_proj_weight)).max() <= bound
    np.testing.assert_array_equal(host(layer.norm1.weight), np.ones(64))


def test_unknown_activation_raises():
    with pytest.raises(RuntimeError, match="relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")


def test_encoder_layer_gradcheck(rng):
    layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, activation="gelu").double()
    x = tg.tensor(rng.standard_normal((3, 2, 4)), requires_grad=True)
    assert tg.autograd.gradcheck(lambda x: layer(x), (x,))


def test_whole_transformer_matches_torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.Transformer(8, 2, 2, 1, 16, dropout=0.0, batch_first=True).double().eval()
    ours = nn.Transformer(8, 2, 2, 1, 16, dropout=0.0, batch_first=True, dtype=tg.float64).eval()
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert list(state) == list(ours.state_dict())
    ours.load_state_dict(state)
    rng = np.random.default_rng(0)
    src, tgt = rng.standard_normal((2, 5, 8)), rng.standard_normal((2, 4, 8))
    mask = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    np.testing.assert_array_equal(host(nn.Transformer.generate_square_subsequent_mask(
        4, dtype=tg.float64)), mask.numpy())
    expected = theirs(torch.tensor(src), torch.tensor(tgt), tgt_mask=mask).detach().numpy()
    got = ours(tg.tensor(src), tg.tensor(tgt), tgt_mask=tg.tensor(mask.numpy()))
    np.testing.assert_allclose(host(got), expected, rtol=1e-10, atol=1e-12)


def test_whole_transformer_init_and_errors():
    model = nn.Transformer(8, 2, 1, 1, 16)
    bound = math.sqrt(6 / (8 + 8))                    # xavier_uniform_ of an 8x8 projection
    weight = host(model.encoder.layers[0].self_attn.out_proj.weight)
    assert np.abs(weight).max() <= bound and weight.std() > bound / 4
    with pytest.raises(RuntimeError, match="batch number"):
        model(tg.randn(5, 2, 8), tg.randn(4, 3, 8))
    with pytest.raises(RuntimeError, match="d_model"):
        model(tg.randn(5, 2, 6), tg.randn(4, 2, 6))
