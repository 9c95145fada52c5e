"""MaxUnpool1d/2d and the pooling indices, RReLU, Softmax2d, ChannelShuffle, LocalResponseNorm,
LPPool1d/2d, pdist, gumbel_softmax, the in-place activation forms and nn.Buffer: NumPy
references, PyTorch values and gradients, float64 gradchecks and bad-input errors."""

import itertools

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import check_functional_against_torch, host
from tinygen import nn
from tinygen.autograd import gradcheck, gradgradcheck


def leaf(values):
    return tg.tensor(values, requires_grad=True)


def test_max_pool_indices_are_flat_per_plane(rng):
    x = rng.standard_normal((2, 3, 5, 6))
    values, indices = F.max_pool2d_with_indices(tg.tensor(x), 2, 2, ceil_mode=True)
    flat = x.reshape(2, 3, -1)
    picked = np.take_along_axis(flat, host(indices).reshape(2, 3, -1), 2)
    np.testing.assert_array_equal(picked.reshape(values.shape), host(values))
    values1, indices1 = F.max_pool1d_with_indices(tg.tensor(x[0]), 3, 2, 1)
    np.testing.assert_array_equal(np.take_along_axis(x[0], host(indices1), 2), host(values1))
    out, index = nn.MaxPool2d(2, return_indices=True)(tg.tensor(x))
    np.testing.assert_array_equal(host(index), host(F.max_pool2d(tg.tensor(x), 2, 2,
                                                                 return_indices=True)[1]))


def test_max_unpool_inverts_pool_and_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 5, 6))
    values, indices = F.max_pool2d(tg.tensor(x), 2, return_indices=True)
    out = nn.MaxUnpool2d(2)(values, indices, output_size=(2, 3, 5, 6))
    expected = np.zeros_like(x).reshape(2, 3, -1)
    np.put_along_axis(expected, host(indices).reshape(2, 3, -1), host(values).reshape(2, 3, -1),
                      2)
    np.testing.assert_array_equal(host(out), expected.reshape(x.shape))
    tv, ti = torch.nn.functional.max_pool1d(torch.tensor(x[0]), 3, 2, 1, return_indices=True)
    ours = nn.MaxUnpool1d(3, 2, 1)(tg.tensor(tv.numpy()), tg.tensor(ti.numpy()), (6,))
    np.testing.assert_array_equal(
        host(ours), torch.nn.functional.max_unpool1d(tv, ti, 3, 2, 1, (6,)).numpy())
    assert repr(nn.MaxUnpool2d(2)) == repr(torch.nn.MaxUnpool2d(2))


def test_max_unpool_gradcheck_and_errors(rng):
    x = leaf(rng.standard_normal((1, 2, 2, 2)))
    _, indices = F.max_pool2d(tg.tensor(rng.standard_normal((1, 2, 4, 4))), 2,
                              return_indices=True)
    assert gradcheck(lambda a: F.max_unpool2d(a, indices, 2), (x,))
    assert gradgradcheck(lambda a: F.max_unpool2d(a, indices, 2) ** 2, (x,))
    with pytest.raises(ValueError, match="invalid output_size"):
        F.max_unpool2d(x, indices, 2, output_size=(9, 9))
    with pytest.raises(RuntimeError, match="invalid max index: 99"):
        F.max_unpool2d(x, tg.full((1, 2, 2, 2), 99, dtype=tg.int64), 2)
    with pytest.raises(RuntimeError, match="same shape"):
        F.max_unpool2d(x, indices[:, :1], 2)
    with pytest.raises(RuntimeError, match="3D or 4D"):
        F.max_unpool2d(x[0, 0], indices[0, 0], 2)


def test_rrelu_train_and_eval(rng):
    x = rng.standard_normal((4, 50))
    tg.manual_seed(0)
    out = host(F.rrelu(tg.tensor(x), 0.1, 0.3, training=True))
    slopes = out[x < 0] / x[x < 0]
    assert np.all((slopes >= 0.1) & (slopes <= 0.3)) and slopes.std() > 0.02
    np.testing.assert_array_equal(out[x >= 0], x[x >= 0])
    tg.manual_seed(0)
    np.testing.assert_array_equal(host(F.rrelu(tg.tensor(x), 0.1, 0.3, training=True)), out)
    layer = nn.RReLU(0.1, 0.3).eval()
    np.testing.assert_allclose(host(layer(tg.tensor(x))), np.where(x >= 0, x, 0.2 * x))
    a = leaf(x)
    y = F.rrelu(a, 0.1, 0.3, training=True)
    y.sum().backward()                       # the gradient is each element's drawn slope
    np.testing.assert_allclose(host(a.grad), host(y) / x)
    with pytest.raises(RuntimeError, match="Lower bound"):
        F.rrelu(tg.tensor(x), 0.5, 0.1)


def test_rrelu_gradcheck_and_inplace(rng):
    x = leaf(rng.standard_normal((3, 4)) + np.where(rng.uniform(size=(3, 4)) > 0.5, 0.2, -0.2))
    tg.manual_seed(1)
    assert gradcheck(lambda a: F.rrelu(a, training=False), (x,))
    y = tg.tensor(host(x))
    assert F.rrelu_(y) is y
    np.testing.assert_allclose(host(y), np.where(host(x) >= 0, host(x), host(x) * 11 / 48))


def test_inplace_activation_forms(rng):
    x = rng.standard_normal(6)
    cases = [("relu_", (), "relu"), ("elu_", (0.5,), "elu"), ("leaky_relu_", (0.2,), "leaky_relu"),
             ("selu_", (), "selu"), ("celu_", (2.0,), "celu"),
             ("hardtanh_", (-0.5, 0.5), "hardtanh"), ("threshold_", (0.1, -3.0), "threshold")]
    for name, args, plain in cases:
        t = tg.tensor(x)
        assert getattr(F, name)(t, *args) is t, name
        np.testing.assert_allclose(host(t), host(getattr(F, plain)(tg.tensor(x), *args)),
                                   err_msg=name)
        assert not np.array_equal(host(t), x), name


def test_softmax2d_and_channel_shuffle(rng):
    x = rng.standard_normal((2, 6, 2, 3))
    e = np.exp(x - x.max(1, keepdims=True))
    np.testing.assert_allclose(host(nn.Softmax2d()(tg.tensor(x))), e / e.sum(1, keepdims=True))
    with pytest.raises(ValueError, match="3D or 4D"):
        nn.Softmax2d()(tg.tensor(x[0, 0]))
    shuffled = host(nn.ChannelShuffle(3)(tg.tensor(x)))
    np.testing.assert_array_equal(shuffled[:, [0, 1, 2, 3, 4, 5]], x[:, [0, 2, 4, 1, 3, 5]])
    assert gradgradcheck(lambda a: F.channel_shuffle(a, 2) ** 2, (leaf(x[:1, :4, :1]),))
    with pytest.raises(RuntimeError, match="divisible by groups"):
        F.channel_shuffle(tg.tensor(x), 4)


def lrn_np(x, size, alpha, beta, k):
    C = x.shape[1]
    out = np.empty_like(x)
    for c in range(C):
        lo, hi = max(0, c - size // 2), min(C, c + (size - 1) // 2 + 1)
        out[:, c] = x[:, c] / (k + alpha / size * (x[:, lo:hi] ** 2).sum(1)) ** beta
    return out


def test_local_response_norm(rng):
    x = rng.standard_normal((2, 5, 3))
    for size in (1, 2, 3):
        np.testing.assert_allclose(host(nn.LocalResponseNorm(size, 0.3, 0.6, 1.5)(tg.tensor(x))),
                                   lrn_np(x, size, 0.3, 0.6, 1.5), atol=1e-12)
    a = leaf(x[:1, :, :2])
    assert gradcheck(lambda t: F.local_response_norm(t, 3, 0.5, 0.75, 1.0), (a,))
    assert gradgradcheck(lambda t: F.local_response_norm(t, 2, 0.5, 0.75, 1.0), (a,))
    with pytest.raises(ValueError, match="3D or higher"):
        F.local_response_norm(tg.tensor(x[0]), 2)


def test_lp_pool(rng):
    x = np.abs(rng.standard_normal((1, 2, 4, 4))) + 0.1
    out = host(nn.LPPool2d(2, 2)(tg.tensor(x)))
    windows = x.reshape(1, 2, 2, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(1, 2, 2, 2, 4)
    np.testing.assert_allclose(out, np.sqrt((windows ** 2).sum(-1)))
    out1 = host(nn.LPPool1d(3, 2, stride=1)(tg.tensor(x[0, :, 0])))
    row = x[0, :, 0]
    np.testing.assert_allclose(out1, np.cbrt(row[:, :-1] ** 3 + row[:, 1:] ** 3))
    assert gradcheck(lambda t: F.lp_pool2d(t, 2.0, 2, 1), (leaf(x[:, :1, :3, :3]),))
    assert gradcheck(lambda t: F.lp_pool1d(t, 1.5, 2), (leaf(x[0, :, :, 0]),))


def test_pdist(rng):
    x = rng.standard_normal((4, 3))
    for p in (1.0, 2.0, 3.0, np.inf):
        expected = [np.linalg.norm(x[i] - x[j], p) for i, j in itertools.combinations(range(4), 2)]
        np.testing.assert_allclose(host(F.pdist(tg.tensor(x), p)), expected)
    assert gradcheck(lambda t: F.pdist(t), (leaf(x),))
    assert gradgradcheck(lambda t: F.pdist(t, 3.0), (leaf(x),))
    with pytest.raises(RuntimeError, match="2D"):
        F.pdist(tg.tensor(x[None]))


def test_gumbel_softmax(rng):
    logits = leaf(rng.standard_normal((3, 4)))
    tg.manual_seed(0)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(host(soft).sum(-1), 1.0)
    tg.manual_seed(0)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
    np.testing.assert_array_equal(host(hard).argmax(-1), host(soft).argmax(-1))
    np.testing.assert_array_equal(np.sort(host(hard), -1)[:, :3], 0)
    weights = tg.tensor(rng.standard_normal((3, 4)))
    (hard * weights).sum().backward()        # straight-through: the soft sample's gradient
    grad_hard = host(logits.grad)
    logits.grad = None
    tg.manual_seed(0)
    (F.gumbel_softmax(logits, tau=0.5) * weights).sum().backward()
    np.testing.assert_allclose(grad_hard, host(logits.grad))
    tg.manual_seed(0)
    assert F.gumbel_softmax(logits, dim=0, hard=True).sum(0).tolist() == [1.0] * 4


def test_against_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 6, 3, 2))
    check_functional_against_torch(torch, rng, "local_response_norm", [x], size=3, alpha=0.1,
                                   beta=0.6, k=2.0)
    check_functional_against_torch(torch, rng, "channel_shuffle", [x], groups=3)
    check_functional_against_torch(torch, rng, "lp_pool2d", [np.abs(x) + 0.1], norm_type=2.0,
                                   kernel_size=2)
    check_functional_against_torch(torch, rng, "pdist", [x[0, :, :, 0]], p=1.5)
    check_functional_against_torch(torch, rng, "rrelu", [x], training=False)
    for name in ("RReLU", "Softmax2d", "LocalResponseNorm", "LPPool2d", "ChannelShuffle"):
        args = {"LocalResponseNorm": (2,), "LPPool2d": (2, 3), "ChannelShuffle": (2,)}
        args = args.get(name, ())
        assert repr(getattr(nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))


def test_buffer_registration():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.running = nn.Buffer(tg.ones(2))
            self.scratch = nn.Buffer(tg.zeros(3), persistent=False)

    net = Net()
    assert list(net.state_dict()) == ["running"]
    assert [name for name, _ in net.named_buffers()] == ["running", "scratch"]
    net.running = tg.zeros(2)                  # reassigning a buffer keeps it a buffer
    assert host(net.state_dict()["running"]).tolist() == [0.0, 0.0]
    net.scratch = nn.Buffer(tg.ones(1))        # a Buffer reassignment takes its persistence
    assert list(net.state_dict()) == ["running", "scratch"]
    with pytest.raises(TypeError, match="Tensor"):
        nn.Buffer([1.0])
    with pytest.raises(AttributeError, match="before Module.__init__"):
        class Early(nn.Module):
            def __init__(self):
                self.x = nn.Buffer(tg.ones(1))
        Early()
