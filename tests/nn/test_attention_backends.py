"""nn.attention: SDPBackend, sdpa_kernel (what runs and what raises, as PyTorch on a CPU; the
switches come back on exit) and nn.attention.bias's causal masks against closed forms, PyTorch,
and gradcheck."""

import warnings

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tinygen.backends import cuda as sdp_flags
from tinygen.nn.attention import SDPBackend, sdpa_kernel
from tinygen.nn.attention.backends import _cur_sdpa_kernel_backends
from tinygen.nn.attention.bias import (
    CausalBias, CausalVariant, causal_lower_right, causal_upper_left)

NO_VIABLE = "No viable backend for scaled_dot_product_attention"
NO_KERNEL = "No available kernel.  Aborting execution."


def qkv(*shape, seed=0, v_dim=None, requires_grad=False):
    rng = np.random.default_rng(seed)
    v_shape = shape[:-1] + (v_dim or shape[-1],)
    return [tg.tensor(rng.standard_normal(s), dtype=tg.float64, requires_grad=requires_grad)
            for s in (shape, shape, v_shape)]


def reference(q, k, v, mask):
    """softmax(q k^T / sqrt(E), masked) v in NumPy; mask: (L, S) bool."""
    q, k, v = (t.detach().numpy() for t in (q, k, v))
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    scores = np.where(mask, scores, -np.inf)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    return weights / weights.sum(-1, keepdims=True) @ v


def test_enum_values_match_torch():
    assert [(b.name, int(b)) for b in SDPBackend] == [
        ("ERROR", -1), ("MATH", 0), ("FLASH_ATTENTION", 1), ("EFFICIENT_ATTENTION", 2),
        ("CUDNN_ATTENTION", 3), ("OVERRIDEABLE", 4)]
    pytest.importorskip("torch")
    from torch.nn.attention import SDPBackend as TorchBackend
    for b in SDPBackend:
        assert int(getattr(TorchBackend, b.name)) == int(b)
        assert repr(getattr(TorchBackend, b.name)) == repr(b)


def test_sdpa_kernel_sets_and_restores_switches():
    before = _cur_sdpa_kernel_backends()
    assert sdp_flags.math_sdp_enabled() and sdp_flags.flash_sdp_enabled()
    with sdpa_kernel([SDPBackend.MATH, SDPBackend.MATH]) as yielded:
        assert yielded == {}
        assert _cur_sdpa_kernel_backends() == [SDPBackend.MATH]
        assert sdp_flags.math_sdp_enabled() and not sdp_flags.flash_sdp_enabled()
    assert _cur_sdpa_kernel_backends() == before
    with pytest.raises(RuntimeError, match=NO_VIABLE):
        with sdpa_kernel(SDPBackend.EFFICIENT_ATTENTION):
            F.scaled_dot_product_attention(*qkv(1, 2, 3, 4))
    assert _cur_sdpa_kernel_backends() == before          # restored after an exception too


def test_set_priority_orders_backends():
    order = [SDPBackend.CUDNN_ATTENTION, SDPBackend.MATH]
    with sdpa_kernel(order, set_priority=True):
        assert _cur_sdpa_kernel_backends(with_priority=True) == order
    assert _cur_sdpa_kernel_backends(with_priority=True)[0] == SDPBackend.FLASH_ATTENTION


def test_bad_backend_argument():
    with pytest.raises(AssertionError, match="got str"):
        with sdpa_kernel("math"):
            pass


def run(backends, *args, **kwargs):
    """"ok" or the error message of sdpa under ``sdpa_kernel(backends)``."""
    with sdpa_kernel(backends), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            F.scaled_dot_product_attention(*args, **kwargs)
            return "ok"
        except RuntimeError as error:
            return str(error)


CASES = [
    (SDPBackend.MATH, (1, 2, 3, 4), {}, "ok"),
    (SDPBackend.MATH, (1, 2, 3, 4), {"dropout_p": 0.5}, "ok"),
    (SDPBackend.FLASH_ATTENTION, (1, 2, 3, 4), {}, "ok"),
    (SDPBackend.FLASH_ATTENTION, (1, 2, 3, 4), {"is_causal": True}, "ok"),
    (SDPBackend.FLASH_ATTENTION, (1, 2, 3, 4), {"dropout_p": 0.5}, NO_KERNEL),
    (SDPBackend.FLASH_ATTENTION, (2, 3, 4), {}, NO_KERNEL),
    (SDPBackend.FLASH_ATTENTION, (1, 2, 3, 4), {"v_dim": 5}, NO_KERNEL),
    ([SDPBackend.FLASH_ATTENTION, SDPBackend.MATH], (1, 2, 3, 4), {"dropout_p": 0.5}, "ok"),
    (SDPBackend.EFFICIENT_ATTENTION, (1, 2, 3, 4), {}, NO_VIABLE),
    (SDPBackend.CUDNN_ATTENTION, (1, 2, 3, 4), {}, NO_VIABLE),
    (SDPBackend.OVERRIDEABLE, (1, 2, 3, 4), {}, NO_VIABLE),
    ([], (1, 2, 3, 4), {}, NO_VIABLE),
]


def outcome(message):
    return "ok" if message == "ok" else NO_KERNEL if message == NO_KERNEL else \
        NO_VIABLE if message.startswith(NO_VIABLE) else message


@pytest.mark.parametrize("backends, shape, options, expected", CASES)
def test_which_calls_run(backends, shape, options, expected):
    options = dict(options)
    v_dim = options.pop("v_dim", None)
    mine = outcome(run(backends, *qkv(*shape, v_dim=v_dim), **options))
    assert mine == expected
    torch = pytest.importorskip("torch")
    from torch.nn.attention import SDPBackend as TB, sdpa_kernel as torch_kernel
    theirs_backends = ([getattr(TB, b.name) for b in backends] if isinstance(backends, list)
                       else getattr(TB, backends.name))
    q, k, v = (torch.tensor(t.numpy()) for t in qkv(*shape, v_dim=v_dim))
    with torch_kernel(theirs_backends), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.nn.functional.scaled_dot_product_attention(q, k, v, **options)
            theirs = "ok"
        except RuntimeError as error:
            theirs = outcome(str(error))
    assert mine == theirs


def test_flash_refusal_warns_why():
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION), warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(RuntimeError, match=NO_KERNEL):
            F.scaled_dot_product_attention(*qkv(1, 2, 3, 4), dropout_p=0.1)
    assert [str(w.message) for w in seen] == [
        "Flash attention kernel not used because:",
        "Both fused kernels do not support non-zero dropout."]


def test_flash_only_gives_the_math_result():
    q, k, v = qkv(1, 2, 3, 4)
    expected = F.scaled_dot_product_attention(q, k, v).numpy()
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v).numpy(), expected)


@pytest.mark.parametrize("L, S", [(3, 5), (4, 4), (2, 3)])
def test_causal_masks_closed_form(L, S):
    upper, lower = causal_upper_left(L, S), causal_lower_right(L, S)
    assert isinstance(upper, CausalBias) and isinstance(upper, tg.Tensor)
    assert upper.variant == CausalVariant.UPPER_LEFT and lower.variant == CausalVariant.LOWER_RIGHT
    assert (upper.seq_len_q, upper.seq_len_kv) == (L, S)
    np.testing.assert_array_equal(upper._materialize().numpy(), np.tril(np.ones((L, S), bool)))
    np.testing.assert_array_equal(lower._materialize().numpy(),
                                  np.tril(np.ones((L, S), bool), S - L))
    for bias in (upper, lower):
        q, k, v = qkv(2, 2, L, 4)
        k, v = qkv(2, 2, S, 4, seed=1)[1:]
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        np.testing.assert_allclose(out.numpy(), reference(q, k, v, bias.numpy()), rtol=1e-12)


def test_causal_bias_against_torch():
    torch = pytest.importorskip("torch")
    from torch.nn.attention import bias as torch_bias
    q = qkv(1, 2, 3, 4)[0]
    k, v = qkv(1, 2, 5, 4, seed=1)[1:]
    tq, tk, tv = (torch.tensor(t.numpy()) for t in (q, k, v))
    for name in ("causal_upper_left", "causal_lower_right"):
        mine = F.scaled_dot_product_attention(q, k, v, attn_mask=getattr(
            __import__("tinygen.nn.attention.bias", fromlist=[name]), name)(3, 5))
        theirs = torch.nn.functional.scaled_dot_product_attention(
            tq, tk, tv, attn_mask=getattr(torch_bias, name)(3, 5))
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)
    assert repr(causal_lower_right(2, 3)) == repr(
        tg.tensor([[True, True, False], [True, True, True]]))


def test_causal_bias_gradcheck():
    q, k, v = qkv(1, 1, 2, 3, requires_grad=True)
    k2, v2 = qkv(1, 1, 4, 3, seed=1, requires_grad=True)[1:]
    for bias in (causal_lower_right(2, 4), causal_upper_left(2, 4)):
        f = lambda q, k, v, bias=bias: F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        assert tg.autograd.gradcheck(f, (q, k2, v2))
    assert tg.autograd.gradgradcheck(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=causal_lower_right(2, 2)),
        (q, k, v))


def test_causal_bias_errors():
    with pytest.raises(AssertionError, match="only supports 2D"):
        causal_lower_right(2, 3, 4)
    with pytest.raises(AssertionError, match="only supports 2D"):
        causal_upper_left(2)
    with pytest.raises(AssertionError, match="must be a CausalVariant"):
        CausalBias(1, 2, 2)
    with pytest.warns(UserWarning, match="NaNs"):
        causal_lower_right(4, 2)
    with pytest.raises(ValueError, match="causal=True"):
        F.scaled_dot_product_attention(*qkv(1, 1, 2, 3), attn_mask=causal_upper_left(2, 2),
                                       is_causal=True)
