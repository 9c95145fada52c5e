"""Differential tests of tinygen.nn.functional against PyTorch, part 5: attention, embedding,
one_hot, the softmaxes, parameterised activations, unfold/fold, pixel_shuffle and
grid_sample/affine_grid on small random configurations (values, float64 gradients, errors)."""

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import tinygen as tg
import tinygen.nn.functional as F
from tests.differential.nn_compare import compare
from tests.helpers import host

torch = pytest.importorskip("torch")
TF = torch.nn.functional
FAST = settings(max_examples=15, deadline=None, derandomize=True, phases=[Phase.generate])


def _rng(data):
    return np.random.default_rng(data.draw(st.integers(0, 2**16)))


def _both(name, *fixed, **kw):
    """(tinygen F.<name>, torch F.<name>) with fixed trailing positional and keyword args."""
    return (lambda *a: getattr(F, name)(*a, *fixed, **kw),
            lambda *a: getattr(TF, name)(*a, *fixed, **kw))


@FAST
@given(data=st.data())
def test_scaled_dot_product_attention(data):
    rng = _rng(data)
    batch = data.draw(st.sampled_from([(), (2,)]))
    hk = data.draw(st.integers(1, 2))
    hq = hk * data.draw(st.integers(1, 2))
    lq, lk, e, ev = (data.draw(st.integers(1, 3)) for _ in range(4))
    q = rng.standard_normal(batch + (hq, lq, e))
    k, v = rng.standard_normal(batch + (hk, lk, e)), rng.standard_normal(batch + (hk, lk, ev))
    kw = dict(is_causal=data.draw(st.booleans()), enable_gqa=data.draw(st.booleans()),
              scale=data.draw(st.sampled_from([None, 0.3])))
    mask = data.draw(st.sampled_from([None, "bool", "float"]))
    if mask == "bool":
        mask = rng.random((lq, lk)) < 0.7
        mask[:, 0] = True                      # no fully masked row (torch gives NaN there)
    elif mask == "float":
        mask = rng.standard_normal((hq, lq, lk) if data.draw(st.booleans()) else (lq, lk))
    if isinstance(mask, np.ndarray):
        kw["is_causal"] = False                # torch refuses both
    ours, theirs = _both("scaled_dot_product_attention", **kw)
    compare(torch, lambda *a: ours(*a[:3], attn_mask=a[3]),
            lambda *a: theirs(*a[:3], attn_mask=a[3]), [q, k, v, mask])


@FAST
@given(data=st.data())
def test_embedding(data):
    rng = _rng(data)
    n, d = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 3))
    ids = rng.integers(0, n, tuple(data.draw(st.integers(1, 3))
                                   for _ in range(data.draw(st.integers(1, 2)))))
    weight = rng.standard_normal((n, d))
    kw = dict(padding_idx=data.draw(st.sampled_from([None, 0, -1])),
              max_norm=data.draw(st.sampled_from([None, 0.5])),
              scale_grad_by_freq=data.draw(st.booleans()))
    ours, theirs = _both("embedding", **kw)
    w_ours, w_theirs = tg.tensor(weight, requires_grad=True), torch.tensor(weight,
                                                                           requires_grad=True)
    compare(torch, lambda i: ours(i, w_ours), lambda i: theirs(i, w_theirs), [ids])
    np.testing.assert_allclose(host(w_ours), w_theirs.detach().numpy(), rtol=1e-10)  # renorm
    if kw["max_norm"] is None:     # torch renormalises in place, its autograd then differs
        compare(torch, lambda w: ours(tg.tensor(ids), w), lambda w: theirs(torch.tensor(ids), w),
                [weight])


@given(data=st.data())
@FAST
def test_one_hot_and_softmaxes(data):
    rng = _rng(data)
    ids = rng.integers(0, 4, tuple(data.draw(st.integers(1, 3)) for _ in range(2)))
    classes = data.draw(st.sampled_from([-1, 2, 4, 6]))
    compare(torch, lambda i: F.one_hot(i, classes), lambda i: TF.one_hot(i, classes), [ids])
    x = rng.standard_normal(ids.shape)
    dim = data.draw(st.sampled_from([0, 1, -1]))
    for name in ("softmax", "log_softmax", "softmin"):
        compare(torch, *_both(name, dim=dim), [x])
    hard = data.draw(st.booleans())
    y = F.gumbel_softmax(tg.tensor(x), tau=0.5, hard=hard, dim=dim)
    t = TF.gumbel_softmax(torch.tensor(x), tau=0.5, hard=hard, dim=dim)
    assert tuple(y.shape) == tuple(t.shape)
    np.testing.assert_allclose(host(y.sum(dim)), 1.0, rtol=1e-12)
    if hard:
        assert set(np.unique(host(y))) <= {0.0, 1.0}


ACTIVATIONS = [("elu", dict(alpha=0.7)), ("celu", dict(alpha=1.3)), ("selu", {}),
               ("leaky_relu", dict(negative_slope=0.2)), ("hardtanh", dict(min_val=-0.5,
                                                                            max_val=0.8)),
               ("relu6", {}), ("softplus", dict(beta=2.0, threshold=1.0)),
               ("threshold", dict(threshold=0.1, value=-2.0)), ("gelu", dict(approximate="tanh")),
               ("gelu", {}), ("silu", {}), ("mish", {}), ("hardswish", {}), ("hardsigmoid", {}),
               ("logsigmoid", {}), ("softsign", {}), ("tanhshrink", {}),
               ("hardshrink", dict(lambd=0.3)), ("softshrink", dict(lambd=0.3)),
               ("glu", dict(dim=-1))]


@pytest.mark.parametrize("name, kw", ACTIVATIONS, ids=lambda v: str(v))
@settings(max_examples=4, deadline=None, derandomize=True, phases=[Phase.generate])
@given(data=st.data())
def test_activations(name, kw, data):
    rng = _rng(data)
    x = rng.standard_normal((data.draw(st.integers(1, 3)), 2 * data.draw(st.integers(1, 2))))
    # torch's celu and hardsigmoid backwards use float32 constants (1/alpha, 1/6) in float64
    rtol = 1e-7 if name in ("celu", "hardsigmoid") else 1e-10
    compare(torch, *_both(name, **kw), [x], rtol=rtol)
    compare(torch, *_both(name, **kw), [x.astype(np.float32)], rtol=1e-5, atol=1e-6)


@FAST
@given(data=st.data())
def test_prelu_and_eval_rrelu(data):
    rng = _rng(data)
    c = data.draw(st.integers(1, 3))
    x = rng.standard_normal((data.draw(st.integers(1, 2)), c, data.draw(st.integers(1, 3))))
    weight = rng.standard_normal(data.draw(st.sampled_from([(1,), (c,), (c + 1,)])))
    compare(torch, F.prelu, TF.prelu, [x, weight])
    compare(torch, *_both("rrelu", lower=0.1, upper=0.4, training=False), [x])


@FAST
@given(data=st.data())
def test_unfold_fold_pixel_shuffle(data):
    rng = _rng(data)
    c, h, w = (data.draw(st.integers(1, 4)) for _ in range(3))
    batch = data.draw(st.sampled_from([(), (2,)]))
    kw = dict(kernel_size=data.draw(st.integers(1, 2)), dilation=data.draw(st.integers(1, 2)),
              padding=data.draw(st.integers(0, 1)), stride=data.draw(st.integers(1, 2)))
    x = rng.standard_normal(batch + (c, h, w))
    compare(torch, *_both("unfold", **kw), [x])
    blocks = [((h + 2 * kw["padding"] - kw["dilation"] * (kw["kernel_size"] - 1) - 1)
               // kw["stride"] + 1) for h in (h, w)]
    cols = rng.standard_normal(batch + (c * kw["kernel_size"] ** 2, max(blocks[0] * blocks[1],
                                                                          1)))
    compare(torch, *_both("fold", (h, w), **kw), [cols])
    r = data.draw(st.integers(1, 2))
    compare(torch, *_both("pixel_shuffle", r), [rng.standard_normal(batch + (c * r * r, h, w))])
    compare(torch, *_both("pixel_unshuffle", r), [rng.standard_normal(batch + (c, h * r, w))])


@FAST
@given(data=st.data())
def test_grid_sample_and_affine_grid(data):
    rng = _rng(data)
    n, c, h, w = 1, data.draw(st.integers(1, 2)), data.draw(st.integers(1, 4)), data.draw(
        st.integers(1, 4))
    ho, wo = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    align = data.draw(st.booleans())
    theta = rng.standard_normal((n, 2, 3))
    compare(torch, lambda t: F.affine_grid(t, (n, c, ho, wo), align_corners=align),
            lambda t: TF.affine_grid(t, (n, c, ho, wo), align_corners=align), [theta])
    grid = rng.uniform(-1.3, 1.3, (n, ho, wo, 2))
    kw = dict(mode=data.draw(st.sampled_from(["bilinear", "nearest"])),   # bicubic: below
              padding_mode=data.draw(st.sampled_from(["zeros", "border", "reflection"])),
              align_corners=align)
    # nearest has no gradient w.r.t. the grid (torch gives zeros); bilinear kinks at pixels
    compare(torch, *_both("grid_sample", **kw), [rng.standard_normal((n, c, h, w)), grid],
            grad=[True, kw["mode"] != "nearest"], rtol=1e-9, atol=1e-11)
