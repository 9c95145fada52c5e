"""AdaptiveLogSoftmaxWithLoss: a proper distribution over all classes, forward's output equal to
log_prob at the targets, predict, parameter names, derivatives, errors, and PyTorch's values
with PyTorch's weights loaded."""

import numpy as np
import pytest

import tinygen as tg
from tinygen import nn
from tinygen.autograd import gradcheck, gradgradcheck


def model64(head_bias=False):
    tg.manual_seed(0)
    return nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 6], div_value=2.0,
                                         head_bias=head_bias).double()


def test_parameter_names_and_shapes_follow_pytorch():
    shapes = {k: tuple(v.shape) for k, v in model64(head_bias=True).state_dict().items()}
    assert shapes == {"head.weight": (5, 8), "head.bias": (5,), "tail.0.0.weight": (4, 8),
                      "tail.0.1.weight": (3, 4), "tail.1.0.weight": (2, 8),
                      "tail.1.1.weight": (4, 2)}


def test_log_prob_is_a_distribution_and_forward_picks_targets():
    m = model64()
    x = tg.tensor(np.random.default_rng(0).standard_normal((6, 8)))
    target = tg.tensor(np.array([0, 2, 3, 5, 6, 9]))
    full = m.log_prob(x).detach().numpy()
    np.testing.assert_allclose(np.exp(full).sum(1), 1.0, rtol=1e-12)
    out, loss = m(x, target)
    np.testing.assert_allclose(out.detach().numpy(), full[np.arange(6), target.numpy()],
                               rtol=1e-12)
    np.testing.assert_allclose(loss.item(), -full[np.arange(6), target.numpy()].mean())
    np.testing.assert_array_equal(m.predict(x).numpy(), full.argmax(1))
    single = m(x[1], target[1])
    assert single.output.shape == () and np.isclose(single.output.item(), full[1, 2])
    assert m.log_prob(x[0]).shape == (10,)


def test_first_and_second_derivatives_float64():
    m = model64(head_bias=True)
    x = tg.tensor(np.random.default_rng(1).standard_normal((4, 8)), requires_grad=True)
    target = tg.tensor(np.array([1, 4, 7, 8]))
    assert gradcheck(lambda x: m(x, target).output, (x,))
    assert gradgradcheck(lambda x: m(x, target).loss, (x,))
    assert gradcheck(m.log_prob, (x,))
    params = [p for p in m.parameters()]
    m(x, target).loss.backward()
    assert all(p.grad is not None for p in params)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="cutoffs should be a sequence of unique"):
        nn.AdaptiveLogSoftmaxWithLoss(8, 10, [6, 3])
    with pytest.raises(ValueError, match="length larger than 0"):
        nn.AdaptiveLogSoftmaxWithLoss(8, 10, [])
    m = model64()
    x = tg.randn(2, 8, dtype=tg.float64)
    with pytest.raises(RuntimeError, match="Target values should be in"):
        m(x, tg.tensor(np.array([1, 10])))
    with pytest.raises(RuntimeError, match="same size in the batch"):
        m(x, tg.tensor(np.array([1, 2, 3])))


def test_against_torch_with_its_weights():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.AdaptiveLogSoftmaxWithLoss(8, 12, [2, 5, 9], div_value=2.0,
                                                 head_bias=True).double()
    ours = nn.AdaptiveLogSoftmaxWithLoss(8, 12, [2, 5, 9], div_value=2.0,
                                         head_bias=True).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(3).standard_normal((7, 8))
    target = np.array([0, 1, 3, 6, 9, 11, 4])
    want = theirs(torch.tensor(x), torch.tensor(target))
    xg = tg.tensor(x, requires_grad=True)
    got = ours(xg, tg.tensor(target))
    np.testing.assert_allclose(got.output.detach().numpy(), want.output.detach().numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(got.loss.item(), want.loss.item(), rtol=1e-12)
    np.testing.assert_allclose(ours.log_prob(tg.tensor(x)).detach().numpy(),
                               theirs.log_prob(torch.tensor(x)).detach().numpy(), rtol=1e-12)
    np.testing.assert_array_equal(ours.predict(tg.tensor(x)).numpy(),
                                  theirs.predict(torch.tensor(x)).numpy())
    xt = torch.tensor(x, requires_grad=True)
    theirs(xt, torch.tensor(target)).loss.backward()
    got.loss.backward()
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-14)
