"""Normalisation modules: PyTorch's parameters, buffers and state-dict keys, BatchNorm's train
and eval behaviour and running statistics (momentum and the cumulative momentum=None), gradients
with respect to inputs and parameters, agreement with PyTorch, and clear errors."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tinygen import nn
from tinygen.autograd import gradcheck, gradgradcheck


def test_parameters_buffers_and_keys():
    assert list(nn.LayerNorm(4).state_dict()) == ["weight", "bias"]
    assert list(nn.LayerNorm(4, bias=False).state_dict()) == ["weight"]
    assert list(nn.LayerNorm(4, elementwise_affine=False).state_dict()) == []
    bn = nn.BatchNorm2d(3)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    assert bn.num_batches_tracked.dtype == tg.int64 and bn.num_batches_tracked.ndim == 0
    np.testing.assert_array_equal(host(bn.running_var), 1.0)
    np.testing.assert_array_equal(host(bn.weight), 1.0)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert list(nn.BatchNorm1d(3, affine=False, track_running_stats=False).state_dict()) == []
    assert list(nn.GroupNorm(2, 4).state_dict()) == ["weight", "bias"]


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.LayerNorm((3, 2)), (4, 3, 2)),
    (lambda: nn.BatchNorm1d(3), (5, 3)),
    (lambda: nn.BatchNorm1d(3), (2, 3, 4)),
    (lambda: nn.BatchNorm2d(2), (2, 2, 3, 2)),
    (lambda: nn.GroupNorm(2, 4), (2, 4, 3))])
def test_grads_wrt_input_and_parameters(make, shape, rng):
    module = make().double()
    with tg.no_grad():
        for p in module.parameters():
            p.copy_(tg.tensor(rng.standard_normal(p.shape)))
    x = tg.tensor(rng.standard_normal(shape), requires_grad=True)
    params = list(module.parameters())

    def f(x, *ps):                                    # gradcheck perturbs the parameters in place
        return module(x)
    assert gradcheck(f, (x, *params))
    assert gradgradcheck(f, (x, *params))


def test_batch_norm_running_stats_by_hand(rng):
    bn = nn.BatchNorm1d(2, momentum=0.25).double()
    mean, var = np.zeros(2), np.ones(2)
    for step in range(3):
        a = rng.standard_normal((6, 2, 3)) * (step + 1) + step
        y = bn(tg.tensor(a))
        mean = 0.75 * mean + 0.25 * a.mean(axis=(0, 2))
        var = 0.75 * var + 0.25 * a.var(axis=(0, 2), ddof=1)
        batch = (a - a.mean(axis=(0, 2), keepdims=True)) / np.sqrt(
            a.var(axis=(0, 2), keepdims=True) + 1e-5)
        np.testing.assert_allclose(host(y), batch, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(host(bn.running_mean), mean, rtol=1e-12)
    np.testing.assert_allclose(host(bn.running_var), var, rtol=1e-12)
    assert bn.num_batches_tracked.item() == 3
    bn.eval()
    a = rng.standard_normal((4, 2, 3))
    y = bn(tg.tensor(a))
    np.testing.assert_allclose(host(y), (a - mean[:, None]) / np.sqrt(var[:, None] + 1e-5),
                               rtol=1e-10)
    np.testing.assert_allclose(host(bn.running_mean), mean, rtol=1e-12)   # eval: unchanged
    assert bn.num_batches_tracked.item() == 3


def test_momentum_none_is_the_cumulative_average(rng):
    bn = nn.BatchNorm1d(3, momentum=None).double()
    batches = [rng.standard_normal((5, 3)) * (i + 1) for i in range(4)]
    for a in batches:
        bn(tg.tensor(a))
    np.testing.assert_allclose(host(bn.running_mean), np.mean([a.mean(0) for a in batches], 0),
                               rtol=1e-12)
    np.testing.assert_allclose(host(bn.running_var),
                               np.mean([a.var(0, ddof=1) for a in batches], 0), rtol=1e-12)


def test_without_running_stats_eval_uses_the_batch(rng):
    bn = nn.BatchNorm1d(2, track_running_stats=False).double().eval()
    a = rng.standard_normal((8, 2))
    expected = (a - a.mean(0)) / np.sqrt(a.var(0) + 1e-5)
    np.testing.assert_allclose(host(bn(tg.tensor(a))), expected, rtol=1e-10)


def test_errors():
    with pytest.raises(ValueError, match=r"expected 3 channels in dim 1 of the input, got 4"):
        nn.BatchNorm2d(3)(tg.ones(2, 4, 5, 5))
    with pytest.raises(ValueError, match="expected 4D input, got 3D"):
        nn.BatchNorm2d(3)(tg.ones(2, 3, 5))
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.BatchNorm1d(3)(tg.ones(2, 3, 5, 5))
    with pytest.raises(RuntimeError, match="normalized_shape"):
        nn.LayerNorm(4)(tg.ones(3, 5))
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(3, 4)


@pytest.mark.parametrize("eps", [0.0, -1.0])
def test_batch_norm_eps_must_be_positive_in_training(eps):
    """As in PyTorch: eps <= 0 is a ValueError when training, eps < 0 also in eval."""
    x = tg.ones(2, 3)
    with pytest.raises(ValueError, match="eps must be positive during training"):
        nn.BatchNorm1d(3, eps=eps)(x)
    if eps < 0:
        with pytest.raises(ValueError, match="eps must be non-negative"):
            nn.BatchNorm1d(3, eps=eps).eval()(x)
    else:
        assert nn.BatchNorm1d(3, eps=eps).eval()(x).shape == (2, 3)


def test_batch_norm_loads_a_state_dict_without_num_batches_tracked():
    state = {"weight": np.full(3, 2.0), "bias": np.zeros(3), "running_mean": np.ones(3),
             "running_var": np.ones(3)}
    bn = nn.BatchNorm1d(3)
    assert repr(bn.load_state_dict(state)) == "<All keys matched successfully>"
    assert list(state) == ["weight", "bias", "running_mean", "running_var"]  # not filled in
    assert int(bn.num_batches_tracked.item()) == 0
    np.testing.assert_array_equal(host(bn.weight), 2.0)
    bn(tg.randn(4, 3))
    bn.load_state_dict(state)                       # the count is kept, as PyTorch keeps it
    assert int(bn.num_batches_tracked.item()) == 1
    model = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
    model.load_state_dict({k: v for k, v in model.state_dict().items()
                           if k != "1.num_batches_tracked"})
    assert nn.BatchNorm1d(3, track_running_stats=False).load_state_dict(
        {"weight": np.ones(3), "bias": np.zeros(3), "num_batches_tracked": np.array(0)},
        strict=False) == ([], ["num_batches_tracked"])


def _load_from_torch(ours, theirs):
    ours.load_state_dict({k: tg.tensor(v.detach().cpu().numpy()) for k, v in
                          theirs.state_dict().items()})


@pytest.mark.parametrize("name, args, shape", [
    ("BatchNorm2d", (3,), (4, 3, 5, 5)), ("BatchNorm1d", (3,), (6, 3)),
    ("BatchNorm1d", (3,), (6, 3, 4)), ("LayerNorm", ((5, 5),), (4, 3, 5, 5)),
    ("GroupNorm", (2, 4), (3, 4, 2, 2))])
def test_against_torch(name, args, shape, rng):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape))
    _load_from_torch(ours, theirs)
    assert repr(ours) == repr(theirs)
    for step in range(3):                              # training steps, then eval
        if step == 2:
            ours.eval()
            theirs.eval()
        a = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
        x, t = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y, ty = ours(x), theirs(t)
        g = rng.standard_normal(shape).astype(np.float32)
        y.backward(tg.tensor(g))
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(host(y), ty.detach().cpu().numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(host(x.grad), t.grad.cpu().numpy(), rtol=1e-3, atol=1e-4)
        for (key, value), theirs_value in zip(ours.state_dict().items(),
                                              theirs.state_dict().values()):
            np.testing.assert_allclose(host(value), theirs_value.cpu().numpy(), rtol=1e-5,
                                       atol=1e-6, err_msg=key)
        for p, tp in zip(ours.parameters(), theirs.parameters()):
            np.testing.assert_allclose(host(p.grad), tp.grad.cpu().numpy(), rtol=1e-3, atol=1e-4)
            p.grad, tp.grad = None, None
