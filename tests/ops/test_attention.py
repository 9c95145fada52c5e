"""scaled_dot_product_attention and the causal softmax: values against a NumPy reference and
PyTorch, first and second derivatives for causal, boolean- and float-masked attention with
L != S, fully masked rows, dropout on the weights, and shape errors."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host, leaf64
from tinygen.autograd import gradcheck, gradgradcheck
from tinygen.ops.attention import attention_weights, causal_softmax


def sdpa_ref(q, k, v, mask=None, causal=False, scale=None, lower_right=False):
    """softmax(q k^T scale + bias) v in NumPy; query i sees keys j <= i (causal, top left) or
    j <= i + S - L (lower right), and a query that sees no key gets zeros."""
    L, S = q.shape[-2], k.shape[-2]
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if causal:
        mask = np.arange(S)[None, :] <= np.arange(L)[:, None] + (S - L if lower_right else 0)
    if mask is not None:
        s = np.where(mask, s, -np.inf) if mask.dtype == bool else s + mask
    m = s.max(-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0))
    total = e.sum(-1, keepdims=True)
    return (e / np.where(total > 0, total, 1)) @ v           # a row that sees nothing: zeros


CONFIGS = [  # (L, S, mask kind, is_causal)
    (3, 3, None, False), (3, 5, None, False), (4, 4, None, True), (2, 5, None, True),
    (5, 3, None, True), (3, 5, "bool", False), (3, 5, "float", False), (4, 4, "bool4d", False)]


def _mask(kind, L, S, rng, device):
    if kind is None:
        return None
    if kind == "float":
        return tg.tensor(rng.standard_normal((L, S)), device=device)
    shape = (2, 1, L, S) if kind == "bool4d" else (L, S)
    keep = rng.random(shape) > 0.4
    keep[..., 0] = True                               # every query sees something
    return tg.tensor(keep, device=device)


@pytest.mark.parametrize("L, S, kind, causal", CONFIGS)
def test_grads(L, S, kind, causal, device, rng):
    q, k, v = (leaf64(rng, 2, 2, n, 3, device=device) for n in (L, S, S))
    mask = _mask(kind, L, S, rng, device)

    def f(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)
    assert gradcheck(f, (q, k, v))
    assert gradgradcheck(f, (q, k, v))


@pytest.mark.parametrize("L, S, kind, causal", CONFIGS)
def test_values(L, S, kind, causal, device, rng):
    q, k, v = (rng.standard_normal((2, 2, n, 4)) for n in (L, S, S))
    mask = _mask(kind, L, S, rng, device)
    y = F.scaled_dot_product_attention(*(tg.tensor(a, device=device) for a in (q, k, v)),
                                       attn_mask=mask, is_causal=causal, scale=0.3)
    expected = sdpa_ref(q, k, v, None if mask is None else host(mask), causal, scale=0.3)
    np.testing.assert_allclose(host(y), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("L, S", [(2, 5), (5, 3), (4, 4)])
def test_lower_right_causal_attention(L, S, device, rng):
    """The KV cache's alignment: the L queries are the last L of the S positions."""
    q, k, v = (leaf64(rng, 2, 2, n, 3, device=device) for n in (L, S, S))

    def f(q, k, v):
        return attention_weights(q, k, is_causal=True, causal_lower_right=True, scale=0.3) @ v
    expected = sdpa_ref(*(host(a) for a in (q, k, v)), causal=True, scale=0.3, lower_right=True)
    np.testing.assert_allclose(host(f(q, k, v)), expected, rtol=1e-10, atol=1e-12)
    assert gradcheck(f, (q, k, v))


def test_integer_masks_are_refused(rng):
    """A 0/1 int mask would be added to the scores, masking nothing: PyTorch refuses it too."""
    q = tg.randn(1, 3, 4)
    with pytest.raises(TypeError, match="attn_mask must be bool .* or float .* got int64"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=tg.tensor([[1, 1, 0]] * 3))


def test_causal_softmax_grads_and_rows_that_see_nothing(rng):
    """With T > S the first T - S queries see no key: their weights and gradients are zero."""
    x = leaf64(rng, 2, 5, 3)
    y = causal_softmax(x, 0.7)
    np.testing.assert_array_equal(host(y)[:, :2], 0.0)
    np.testing.assert_allclose(host(y)[:, 2:].sum(-1), 1.0)
    assert gradcheck(lambda x: causal_softmax(x, 0.7), (x,))
    assert gradgradcheck(lambda x: causal_softmax(x, 0.7), (x,))


def test_causal_softmax_fused_backward_equals_composite(rng):
    x = leaf64(rng, 3, 4, 6)
    g = tg.tensor(rng.standard_normal((3, 4, 6)))
    (fused,) = tg.autograd.grad(causal_softmax(x, 0.5), [x], g)
    (composite,) = tg.autograd.grad(causal_softmax(x, 0.5), [x], g, create_graph=True)
    np.testing.assert_allclose(host(fused), host(composite), rtol=1e-12, atol=1e-14)


def test_fully_masked_query_gives_zeros_and_finite_grads(rng):
    q, k, v = (leaf64(rng, 3, n, 2) for n in (3, 4, 4))
    mask = np.ones((3, 4), dtype=bool)
    mask[1] = False
    y = F.scaled_dot_product_attention(q, k, v, attn_mask=tg.tensor(mask))
    np.testing.assert_array_equal(host(y)[:, 1], 0.0)
    y.backward(tg.ones_like(y))
    for t in (q, k, v):
        assert np.isfinite(host(t.grad)).all()
    np.testing.assert_array_equal(host(q.grad)[:, 1], 0.0)


def test_dropout_on_weights_is_repeatable_and_unbiased():
    q, k = tg.zeros(1, 1, 2000, 2), tg.zeros(1, 1, 4, 2)
    v = tg.ones(1, 1, 4, 1)                           # uniform weights 1/4, rows sum to 1
    tg.manual_seed(3)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    tg.manual_seed(3)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    np.testing.assert_array_equal(host(a), host(b))
    values = host(a).ravel()
    assert set(np.round(values * 2).astype(int)) <= set(range(5))   # 0.5 * kept count
    assert abs(values.mean() - 1.0) < 0.05


def test_errors():
    q, k = tg.ones(2, 3, 4), tg.ones(2, 5, 4)
    with pytest.raises(RuntimeError, match="query has 4 features.*key has 3"):
        F.scaled_dot_product_attention(q, tg.ones(2, 5, 3), tg.ones(2, 5, 4))
    with pytest.raises(RuntimeError, match="key has 5 positions but value has 6"):
        F.scaled_dot_product_attention(q, k, tg.ones(2, 6, 4))
    with pytest.raises(RuntimeError, match="attn_mask must be None when is_causal"):
        F.scaled_dot_product_attention(q, k, k, attn_mask=tg.ones(3, 5), is_causal=True)


@pytest.mark.parametrize("causal", [False, True])
def test_against_torch(causal, rng):
    torch = pytest.importorskip("torch")
    q, k, v = (rng.standard_normal((2, 3, 5, 4)).astype(np.float32) for _ in range(3))
    mask = None if causal else rng.random((5, 5)) > 0.3
    g = rng.standard_normal((2, 3, 5, 4)).astype(np.float32)
    ours = [tg.tensor(a, requires_grad=True) for a in (q, k, v)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    y = F.scaled_dot_product_attention(*ours, attn_mask=None if causal else tg.tensor(mask),
                                       is_causal=causal)
    ty = torch.nn.functional.scaled_dot_product_attention(
        *theirs, attn_mask=None if causal else torch.tensor(mask), is_causal=causal)
    y.backward(tg.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(host(y), ty.detach().cpu().numpy(), rtol=1e-5, atol=1e-6)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(host(a.grad), b.grad.cpu().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.filterwarnings("ignore:Lower right causal bias will produce NaNs")
@pytest.mark.parametrize("L, S", [(2, 5), (5, 3)])
def test_causal_alignment_against_torch(L, S, rng):
    """is_causal aligns top left as PyTorch's (query i sees keys j <= i); the KV cache's lower
    right alignment is PyTorch's causal_lower_right."""
    torch = pytest.importorskip("torch")
    from torch.nn.attention.bias import causal_lower_right
    q, k, v = (rng.standard_normal((1, 2, n, 4)).astype(np.float32) for n in (L, S, S))
    ours, theirs = [tg.tensor(a) for a in (q, k, v)], [torch.tensor(a) for a in (q, k, v)]
    y = F.scaled_dot_product_attention(*ours, is_causal=True)
    ty = torch.nn.functional.scaled_dot_product_attention(*theirs, is_causal=True)
    np.testing.assert_allclose(host(y), ty.cpu().numpy(), rtol=1e-5, atol=1e-6)
    y = attention_weights(*ours[:2], is_causal=True, causal_lower_right=True) @ ours[2]
    ty = torch.nn.functional.scaled_dot_product_attention(*theirs,
                                                          attn_mask=causal_lower_right(L, S))
    rows = slice(L - S, None) if L > S else slice(None)  # torch gives nan where we give zeros
    np.testing.assert_allclose(host(y)[..., rows, :], ty.cpu().numpy()[..., rows, :],
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("causal", [False, True])
def test_stable_for_huge_scores(causal, rng):
    """Scores of order 1e4 saturate the softmax to one-hot rows but stay finite, as do the
    gradients."""
    q = tg.tensor(rng.standard_normal((2, 4, 3)) * 1e4, requires_grad=True)
    k, v = tg.tensor(rng.standard_normal((2, 4, 3))), tg.tensor(rng.standard_normal((2, 4, 3)))
    mask = None if causal else tg.tensor(rng.standard_normal((4, 4)))
    y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)
    y.backward(tg.ones_like(y))
    assert np.isfinite(host(y)).all() and np.isfinite(host(q.grad)).all()
    rows = np.isin(host(y), host(v)).all(-1)           # each output row is one row of v
    assert rows.all()


def test_grouped_query_attention(rng):
    """enable_gqa: 4 query heads share 2 key/value heads (heads 0, 1 use kv head 0)."""
    q, k, v = leaf64(rng, 2, 4, 3, 2), leaf64(rng, 2, 2, 5, 2), leaf64(rng, 2, 2, 5, 2)

    def f(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    assert gradcheck(f, (q, k, v))
    a = [host(t) for t in (q, k, v)]
    expected = sdpa_ref(a[0], np.repeat(a[1], 2, axis=1), np.repeat(a[2], 2, axis=1),
                        causal=True)
    np.testing.assert_allclose(host(f(q, k, v)), expected, rtol=1e-10)
    with pytest.raises(RuntimeError, match=r"query heads \(4\) must be a multiple"):
        F.scaled_dot_product_attention(q, leaf64(rng, 2, 3, 5, 2), leaf64(rng, 2, 3, 5, 2),
                                       enable_gqa=True)
