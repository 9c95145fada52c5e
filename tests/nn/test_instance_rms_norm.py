"""InstanceNorm1d/2d and RMSNorm (with F.instance_norm, F.rms_norm): closed-form references,
running statistics, gradients, state-dict names, reprs, errors, and PyTorch's values and
gradients with the same weights."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host, leaf64
from tinygen import nn
from tinygen.autograd import gradcheck, gradgradcheck


def test_instance_norm_normalises_each_channel_of_each_sample(rng, device):
    x, w, b = leaf64(rng, 2, 3, 4, 5, device=device), leaf64(rng, 3), leaf64(rng, 3)
    y = host(F.instance_norm(x, weight=w.to(device), bias=b.to(device), eps=1e-5))
    xs = host(x)
    mean, var = xs.mean((2, 3), keepdims=True), xs.var((2, 3), keepdims=True)
    expected = (xs - mean) / np.sqrt(var + 1e-5) * host(w)[:, None, None] + host(b)[:, None, None]
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", [(2, 3, 6), (2, 2, 3, 4)])
def test_instance_norm_gradchecks(rng, shape):
    x, w, b = leaf64(rng, *shape), leaf64(rng, shape[1]), leaf64(rng, shape[1])
    assert gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (x, w, b))
    assert gradgradcheck(lambda x: F.instance_norm(x), (x,))


def test_running_statistics(rng):
    x = leaf64(rng, 4, 3, 10)
    mean, var = tg.zeros(3, dtype=tg.float64), tg.ones(3, dtype=tg.float64)
    F.instance_norm(x, mean, var, momentum=0.25)
    xs = host(x)
    np.testing.assert_allclose(host(mean), 0.25 * xs.mean(2).mean(0), rtol=1e-12)
    np.testing.assert_allclose(host(var), 0.75 + 0.25 * xs.var(2, ddof=1).mean(0), rtol=1e-12)
    y = F.instance_norm(x, mean, var, use_input_stats=False)
    expected = (xs - host(mean)[:, None]) / np.sqrt(host(var)[:, None] + 1e-5)
    np.testing.assert_allclose(host(y), expected, rtol=1e-10)


def test_modules_defaults_state_dict_and_repr():
    norm = nn.InstanceNorm2d(3)
    assert list(norm.state_dict()) == [] and norm.weight is None
    assert repr(norm) == ("InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, "
                          "track_running_stats=False)")
    tracked = nn.InstanceNorm1d(3, affine=True, track_running_stats=True)
    assert list(tracked.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                          "num_batches_tracked"]
    no_bias = nn.InstanceNorm1d(3, affine=True, bias=False)  # keyword-only, as PyTorch's
    assert list(no_bias.state_dict()) == ["weight"] and no_bias.bias is None
    assert "affine=True, bias=False" in repr(no_bias)
    rms = nn.RMSNorm(8)
    assert list(rms.state_dict()) == ["weight"] and np.all(host(rms.weight) == 1)
    assert repr(rms) == "RMSNorm((8,), eps=None, elementwise_affine=True)"
    assert repr(nn.RMSNorm([2, 3], eps=1e-5, elementwise_affine=False)) == (
        "RMSNorm((2, 3), eps=1e-05, elementwise_affine=False)")


def test_unbatched_and_errors(rng):
    x = leaf64(rng, 3, 7)
    np.testing.assert_allclose(host(nn.InstanceNorm1d(3)(x)),
                               host(nn.InstanceNorm1d(3)(x.unsqueeze(0)))[0])
    with pytest.raises(ValueError, match="expected 3D .* or 4D"):
        nn.InstanceNorm2d(3)(x)
    with pytest.raises(ValueError, match="match num_features"):
        nn.InstanceNorm1d(4, affine=True)(x)
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        F.instance_norm(leaf64(rng, 2, 3, 1))
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[4\]"):
        F.rms_norm(x, (4,))


def test_rms_norm_closed_form_and_gradcheck(rng, device):
    x, w = leaf64(rng, 2, 3, 4, device=device), leaf64(rng, 3, 4, device=device)
    y = F.rms_norm(x, (3, 4), w, eps=1e-6)
    xs = host(x)
    rms = np.sqrt((xs ** 2).mean((1, 2), keepdims=True) + 1e-6)
    np.testing.assert_allclose(host(y), xs / rms * host(w), rtol=1e-12)
    assert gradcheck(lambda x, w: F.rms_norm(x, (3, 4), w), (x, w))
    assert gradgradcheck(lambda x: F.rms_norm(x, 4), (x,))


def test_rms_norm_default_eps_is_the_dtypes():
    x = tg.tensor([[0.0, 0.0]], dtype=tg.float32)
    assert np.all(np.isfinite(host(F.rms_norm(x, 2))))


def test_rms_norm_float16_squares_in_float32():
    # 400^2 overflows float16; PyTorch squares in float32 and rounds the result once
    x = np.array([[400.0, -300.0]], dtype=np.float16)
    y = F.rms_norm(tg.tensor(x), 2, tg.tensor(np.array([2.0, 3.0], dtype=np.float16)))
    x32 = x.astype(np.float32)
    want = x32 / np.sqrt((x32 * x32).mean(-1, keepdims=True) + np.finfo(np.float16).eps)
    assert y.dtype == tg.float16
    np.testing.assert_allclose(host(y), (want * [2, 3]).astype(np.float16), rtol=1e-3)


def _copy(module, torch_module):
    import torch
    with torch.no_grad():
        for name, value in module.state_dict().items():
            getattr(torch_module, name).copy_(torch.from_numpy(host(value)))


@pytest.mark.parametrize("name, args, kwargs, shape", [
    ("InstanceNorm1d", (3,), dict(affine=True), (2, 3, 7)),
    ("InstanceNorm2d", (3,), dict(affine=True, track_running_stats=True), (2, 3, 4, 5)),
    ("InstanceNorm2d", (3,), {}, (3, 4, 5)),
    ("RMSNorm", ((4, 5),), {}, (2, 3, 4, 5)),
    ("RMSNorm", (5,), dict(eps=1e-3), (2, 5)),
])
def test_match_torch(rng, name, args, kwargs, shape):
    torch = pytest.importorskip("torch")
    ours = getattr(nn, name)(*args, dtype=tg.float64, **kwargs)
    theirs = getattr(torch.nn, name)(*args, dtype=torch.float64, **kwargs)
    for p in ours.parameters():                  # not the trivial ones and zeros
        p.data = tg.tensor(rng.standard_normal(p.shape))
    _copy(ours, theirs)
    assert repr(ours) == repr(theirs)
    for _ in range(2):                             # train: batch stats, running stats updated
        x = rng.standard_normal(shape)
        x_ours, x_theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y_ours, y_theirs = ours(x_ours), theirs(x_theirs)
        np.testing.assert_allclose(host(y_ours), y_theirs.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
        g = rng.standard_normal(shape)
        y_ours.backward(tg.tensor(g))
        y_theirs.backward(torch.tensor(g))
        np.testing.assert_allclose(host(x_ours.grad), x_theirs.grad.numpy(), rtol=1e-9,
                                   atol=1e-12)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(host(ours.state_dict()[key]), value.numpy(), rtol=1e-10)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal(shape)
    np.testing.assert_allclose(host(ours(tg.tensor(x))), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)
