"""The reference kernels are the specification, so they are checked against closed forms and
straightforward loops, and every backward against central differences of its forward:
<backward(x, g), u> == <forward(x + eps u) - forward(x - eps u), g> / (2 eps) for random u, g."""

import math

import numpy as np
import pytest

from tinygen import device_checks
from tinygen.kernels import reference as R

EPS = 1e-6


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def directional(forward, x, u):
    """The derivative of ``forward`` at x along u, by central differences."""
    return (forward(x + EPS * u) - forward(x - EPS * u)) / (2 * EPS)


def assert_adjoint(forward, x, grad_x, g, rng):
    """<grad_x, u> equals <J u, g> for a random direction u (float64, so 1e-7 is tight)."""
    u = rng.standard_normal(x.shape)
    np.testing.assert_allclose(np.vdot(grad_x, u), np.vdot(directional(forward, x, u), g),
                               rtol=1e-6, atol=1e-8)


def test_softmax_and_log_softmax_closed_forms(rng):
    x = np.array([[0.0, math.log(2.0), math.log(5.0)], [1e4, -1e4, 1e4]])
    np.testing.assert_allclose(R.softmax(x), [[0.125, 0.25, 0.625], [0.5, 0.0, 0.5]])
    np.testing.assert_allclose(R.log_softmax(x)[0], np.log([0.125, 0.25, 0.625]))
    np.testing.assert_allclose(R.log_softmax(x)[1], np.array([0, -2e4, 0]) - math.log(2))
    assert R.softmax(np.zeros((2, 0))).shape == (2, 0)


def test_softmax_backwards_are_the_adjoints(rng):
    x, g = rng.standard_normal((3, 6)), rng.standard_normal((3, 6))
    assert_adjoint(R.softmax, x, R.softmax_backward(R.softmax(x), g), g, rng)
    assert_adjoint(R.log_softmax, x, R.log_softmax_backward(R.log_softmax(x), g), g, rng)


@pytest.mark.parametrize("T, S", [(4, 4), (2, 5), (1, 3), (4, 2)])
def test_causal_softmax_is_softmax_over_visible_keys(T, S, rng):
    scores = rng.standard_normal((2, T, S))
    y = R.causal_softmax(scores, 0.5)
    for i in range(T):
        seen = max(0, min(S, i + S - T + 1))
        want = np.zeros((2, S))
        if seen:
            want[:, :seen] = R.softmax(0.5 * scores[:, i, :seen])
        np.testing.assert_allclose(y[:, i], want, atol=1e-15)
    g = rng.standard_normal(y.shape)
    assert_adjoint(lambda s: R.causal_softmax(s, 0.5), scores,
                   0.5 * R.softmax_backward(y, g), g, rng)


def test_cross_entropy_loss_grad_and_ignored_rows(rng):
    logits, target = rng.standard_normal((4, 5)), np.array([1, -100, 4, 0])
    loss, grad = R.cross_entropy(logits, target, -100)
    kept = target != -100
    want = -np.log(R.softmax(logits)[np.arange(4), np.where(kept, target, 0)]) * kept
    np.testing.assert_allclose(loss, want)
    assert not grad[1].any()
    g = rng.standard_normal(4)
    assert_adjoint(lambda z: R.cross_entropy(z, target, -100)[0], logits, grad * g[:, None], g,
                   rng)
    with pytest.raises(IndexError, match="target 5 is out of bounds for 5 classes"):
        R.cross_entropy(logits, np.array([0, 5, 1, 1]), -100)
        device_checks.flush()                 # where a queued check raises (see its module)
    with pytest.raises(ValueError, match="logits"):
        R.cross_entropy(logits, target[:3], -100)


def test_bce_with_logits_formula_extremes_and_backward(rng):
    x, y = rng.standard_normal((3, 4)), rng.uniform(size=(3, 4))
    pw = rng.uniform(0.5, 2, 4)
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(R.bce_with_logits(x, y, pw),
                               -(pw * y * np.log(s) + (1 - y) * np.log(1 - s)))
    big = np.array([1e4, -1e4, 1e4, -1e4])
    np.testing.assert_allclose(R.bce_with_logits(big, np.array([1.0, 0, 0, 1])),
                               [0, 0, 1e4, 1e4])
    g = rng.standard_normal(x.shape)
    for weight in (None, pw):
        assert_adjoint(lambda z: R.bce_with_logits(z, y, weight), x,
                       R.bce_with_logits_backward(x, y, g, weight), g, rng)


def test_layer_norm_formula_and_backward(rng):
    x, w, b = rng.standard_normal((2, 3, 6)) * 3 + 1, rng.standard_normal(6), rng.standard_normal(6)
    y, mean, rstd = R.layer_norm(x, w, b, 1e-5)
    want = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) * w + b
    np.testing.assert_allclose(y, want)
    assert mean.shape == rstd.shape == (2, 3)
    g = rng.standard_normal(x.shape)
    grad_x, grad_w, grad_b = R.layer_norm_backward(g, x, mean, rstd, w)
    assert_adjoint(lambda z: R.layer_norm(z, w, b, 1e-5)[0], x, grad_x, g, rng)
    assert_adjoint(lambda v: R.layer_norm(x, v, b, 1e-5)[0], w, grad_w, g, rng)
    assert_adjoint(lambda v: R.layer_norm(x, w, v, 1e-5)[0], b, grad_b, g, rng)
    assert R.layer_norm_backward(g, x, mean, rstd, None)[1] is None


def test_batch_norm_formula_eval_and_backward(rng):
    x, w, b = rng.standard_normal((4, 3, 5)) + 2, rng.standard_normal(3), rng.standard_normal(3)
    y, mean, var = R.batch_norm(x, w, b, 1e-5)
    np.testing.assert_allclose(var, x.transpose(1, 0, 2).reshape(3, -1).var(axis=1))
    np.testing.assert_allclose(R.batch_norm_eval(x, mean, var, w, b, 1e-5), y)
    g = rng.standard_normal(x.shape)
    grad_x, grad_w, grad_b = R.batch_norm_backward(g, x, mean, var, w, 1e-5)
    assert_adjoint(lambda z: R.batch_norm(z, w, b, 1e-5)[0], x, grad_x, g, rng)
    assert_adjoint(lambda v: R.batch_norm(x, v, b, 1e-5)[0], w, grad_w, g, rng)
    assert_adjoint(lambda v: R.batch_norm(x, w, v, 1e-5)[0], b, grad_b, g, rng)
    with pytest.raises(ValueError, match="batch norm expects"):
        R.batch_norm(np.zeros(3), None, None, 1e-5)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_closed_form_and_backward(approximate, rng):
    x, g = rng.standard_normal(9) * 2, rng.standard_normal(9)
    if approximate == "none":
        want = [v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x]
    else:
        want = [0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3)))
                for v in x]
    np.testing.assert_allclose(R.gelu(x, approximate), want, rtol=1e-14)
    assert_adjoint(lambda z: R.gelu(z, approximate), x, R.gelu_backward(x, g, approximate), g,
                   rng)
    with pytest.raises(ValueError, match="approximate"):
        R.gelu(x, "erf")


def test_relu_backward_selects_as_pytorch_threshold_backward():
    """0 where y <= 0, else the gradient: an infinite gradient of an off unit gives 0 (leaky
    ReLU's backward with slope 0 would give inf * 0 = nan), and a nan passes its gradient."""
    y = np.array([0.0, 2.0, np.nan, 0.0, 3.0])
    g = np.array([1.0, 1.0, 5.0, np.inf, -np.inf])
    np.testing.assert_array_equal(R.relu_backward(y, g), [0.0, 1.0, 5.0, 0.0, -np.inf])
    np.testing.assert_array_equal(R.bias_act_backward(y - 1, np.ones(5), g, "relu")[0],
                                  R.relu_backward(y, g))
    np.testing.assert_array_equal(R.bias_act(np.array([-2.0, 0.5, np.nan]), np.zeros(3), "relu"),
                                  [0.0, 0.5, np.nan])
    assert R.relu_backward(y.astype(np.float32), g.astype(np.float32)).dtype == np.float32


def test_leaky_relu_and_bias_act_backwards(rng):
    x = rng.choice([-1, 1], (5, 4)) * rng.uniform(0.1, 2, (5, 4))       # off the kink at 0
    g, bias = rng.standard_normal((5, 4)), np.zeros(4)
    np.testing.assert_array_equal(R.leaky_relu(x, 0.1), np.where(x > 0, x, 0.1 * x))
    assert_adjoint(lambda z: R.leaky_relu(z, 0.1), x, R.leaky_relu_backward(x, g, 0.1), g, rng)
    for activation in R.ACTIVATIONS:
        grad_x, grad_b = R.bias_act_backward(x, bias, g, activation, 0.1)
        assert_adjoint(lambda z: R.bias_act(z, bias, activation, 0.1), x, grad_x, g, rng)
        assert_adjoint(lambda v: R.bias_act(x, v, activation, 0.1), bias, grad_b, g, rng)
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        R.bias_act(x, bias, "swish")


@pytest.mark.parametrize("case", [
    ((2, 3, 6, 5), (3, 2), (1, 1), (0, 0), (1, 1)),
    ((1, 2, 7, 7), (3, 3), (2, 2), (1, 1), (1, 1)),
    ((1, 1, 6, 9), (2, 3), (1, 2), (2, 0), (2, 2)),
], ids=str)
def test_im2col_equals_the_loop_and_col2im_is_its_adjoint(case, rng):
    shape, kernel, stride, padding, dilation = case
    x = rng.standard_normal(shape)
    cols = R.im2col(x, kernel, stride, padding, dilation)
    N, C, H, W = shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    OH, OW = (R._conv_geometry(shape, kernel, stride, padding, dilation))
    want = np.zeros((N, C, kh, kw, OH, OW))
    for c, i, j, oh, ow in np.ndindex(C, kh, kw, OH, OW):
        h, w = oh * sh - ph + i * dh, ow * sw - pw + j * dw
        if 0 <= h < H and 0 <= w < W:
            want[:, c, i, j, oh, ow] = x[:, c, h, w]
    np.testing.assert_array_equal(cols, want.reshape(cols.shape))
    np.testing.assert_array_equal(R.im2col_strided(x, kernel, stride, padding, dilation), cols)
    c = rng.standard_normal(cols.shape)
    np.testing.assert_allclose(np.vdot(cols, c),
                               np.vdot(x, R.col2im(c, shape, kernel, stride, padding, dilation)))
    with pytest.raises(ValueError, match="col2im expects cols of shape"):
        R.col2im(c[:, 1:], shape, kernel, stride, padding, dilation)
    with pytest.raises(ValueError, match="does not fit"):
        R.im2col(x, (20, 20), stride, padding, dilation)


@pytest.mark.parametrize("decoupled", [False, True])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_step_matches_torch(decoupled, amsgrad, rng):
    torch = pytest.importorskip("torch")
    param = rng.standard_normal(7)
    state = [np.zeros(7) for _ in range(3)]
    p = torch.tensor(param.copy(), requires_grad=True)
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    opt = cls([p], lr=0.1, betas=(0.8, 0.9), eps=1e-8, weight_decay=0.05, amsgrad=amsgrad,
              maximize=True)
    for step in range(1, 4):
        grad = rng.standard_normal(7) * step
        p.grad = torch.tensor(grad)
        opt.step()
        R.adam_step(param, grad, *state, step=step, lr=0.1, beta1=0.8, beta2=0.9, eps=1e-8,
                    weight_decay=0.05, decoupled=decoupled, amsgrad=amsgrad, maximize=True)
        np.testing.assert_allclose(param, p.detach().cpu().numpy(), rtol=1e-12, atol=1e-14)


def test_adam_first_step_moves_each_weight_by_lr_against_its_gradient_sign():
    param, grad = np.zeros(3), np.array([2.0, -0.5, 1e-3])
    state = [np.zeros(3) for _ in range(3)]
    R.adam_step(param, grad, *state[:2], None, step=1, lr=0.01, beta1=0.9, beta2=0.999,
                eps=1e-12, weight_decay=0.0, decoupled=False, amsgrad=False)
    np.testing.assert_allclose(param, [-0.01, 0.01, -0.01], rtol=1e-8)
