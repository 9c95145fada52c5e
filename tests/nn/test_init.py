"""nn.init: gains and fans as PyTorch computes them, and each scheme's bounds and spread
against its formula."""

import math
import warnings

import numpy as np
import pytest

import tinygen as tg
from tinygen import nn
from tinygen.nn import init
from tests.helpers import host

SHAPES = [(200, 300), (64, 32, 3, 3), (400, 50, 5)]


@pytest.fixture(autouse=True)
def seeded():
    """Each test draws from a fixed seed: the moment checks below allow about 2.7 standard
    errors, so unseeded draws (or those left by the tests run before) fail now and then."""
    tg.manual_seed(0)


def _fans(shape):
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


@pytest.mark.parametrize("nonlinearity,param,expected", [
    ("linear", None, 1.0), ("conv2d", None, 1.0), ("conv_transpose2d", None, 1.0),
    ("sigmoid", None, 1.0), ("tanh", None, 5 / 3), ("relu", None, math.sqrt(2)),
    ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))),
    ("leaky_relu", 0.2, math.sqrt(2 / 1.04)), ("leaky_relu", math.sqrt(5), math.sqrt(1 / 3)),
    ("selu", None, 0.75)])
def test_calculate_gain(nonlinearity, param, expected):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(expected)


def test_calculate_gain_matches_pytorch():
    torch = pytest.importorskip("torch")
    for name in ["linear", "conv1d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]:
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    assert init.calculate_gain("leaky_relu", 0.3) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", 0.3))


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape", SHAPES + [(3, 7)])
def test_fans(shape):
    assert init._calculate_fan_in_and_fan_out(tg.empty(*shape)) == _fans(shape)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(tg.empty(5))


def _check_uniform(values, bound):
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.98 * bound
    assert values.std() == pytest.approx(bound / math.sqrt(3), rel=0.03)
    assert abs(values.mean()) < 0.02 * bound


def _check_normal(values, std):
    assert values.std() == pytest.approx(std, rel=0.03)
    assert abs(values.mean()) < 0.02 * std
    assert np.abs(values).max() > 3 * std           # not a uniform in disguise


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("gain", [1.0, 0.5])
def test_xavier(shape, gain):
    fan_in, fan_out = _fans(shape)
    std = gain * math.sqrt(2 / (fan_in + fan_out))
    t = tg.empty(*shape)
    assert init.xavier_uniform_(t, gain=gain) is t
    _check_uniform(host(t), math.sqrt(3) * std)
    _check_normal(host(init.xavier_normal_(t, gain=gain)), std)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("a,mode,nonlinearity", [
    (0, "fan_in", "leaky_relu"), (0, "fan_out", "relu"), (0.2, "fan_in", "leaky_relu"),
    (math.sqrt(5), "fan_in", "leaky_relu"), (0, "fan_out", "tanh")])
def test_kaiming(shape, a, mode, nonlinearity):
    fan = _fans(shape)[0 if mode == "fan_in" else 1]
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    t = tg.empty(*shape, dtype=tg.float64)
    assert init.kaiming_uniform_(t, a=a, mode=mode, nonlinearity=nonlinearity) is t
    _check_uniform(host(t), math.sqrt(3) * std)
    _check_normal(host(init.kaiming_normal_(t, a, mode, nonlinearity)), std)
    assert t.dtype == tg.float64


def test_kaiming_bad_mode_and_empty_tensor():
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(tg.empty(3, 4), mode="fan_avg")
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_normal_(tg.empty(0, 4))


@pytest.mark.parametrize("mean,std,a,b", [
    (0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -0.04, 0.04), (1.0, 2.0, 0.5, 1.5), (0.0, 1.0, 2.0, 3.0)])
def test_trunc_normal(mean, std, a, b):
    t = tg.empty(300, 100)
    assert init.trunc_normal_(t, mean, std, a, b) is t
    values = host(t)
    assert values.min() >= a and values.max() <= b
    # Mean of the normal truncated to [alpha, beta] (in std units): mu + std * (phi(alpha) -
    # phi(beta)) / (Phi(beta) - Phi(alpha)).
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)     # noqa: E731
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))            # noqa: E731
    expected_mean = mean + std * (pdf(alpha) - pdf(beta)) / (cdf(beta) - cdf(alpha))
    assert values.mean() == pytest.approx(expected_mean, abs=0.01 * (b - a))
    assert values.min() < a + 0.02 * (b - a) and values.max() > b - 0.02 * (b - a)


def test_trunc_normal_far_tail_is_exact_or_refused():
    values = host(init.trunc_normal_(tg.empty(2000, dtype=tg.float64), 0.0, 1.0, 3.0, 4.0))
    assert values.min() >= 3 and values.max() <= 4
    assert values.mean() == pytest.approx(3.2605, abs=0.02)     # E[Z | 3 <= Z <= 4]
    with pytest.raises(ValueError, match="holds .* of the probability"):
        init.trunc_normal_(tg.empty(3), 0.0, 1.0, 50.0, 60.0)


def test_simple_fills():
    t = tg.empty(3, 4)
    assert init.constant_(t, 0.25) is t and (host(t) == 0.25).all()
    assert (host(init.zeros_(t)) == 0).all() and (host(init.ones_(t)) == 1).all()
    np.testing.assert_array_equal(host(init.eye_(t)), np.eye(3, 4))
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(tg.empty(2, 2, 2))
    values = host(init.uniform_(tg.empty(10000), -3.0, 5.0))
    assert values.min() >= -3 and values.max() < 5 and values.mean() == pytest.approx(1, abs=0.1)
    values = host(init.normal_(tg.empty(10000), 2.0, 0.5))
    assert values.mean() == pytest.approx(2, abs=0.03) and values.std() == pytest.approx(
        0.5, rel=0.05)


def test_init_on_parameter_works_while_recording_and_repeats_with_seed():
    layer = nn.Linear(5, 5)
    version = layer.weight._version
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tg.manual_seed(3)
        first = host(init.kaiming_normal_(layer.weight)).copy()
        tg.manual_seed(3)
        second = host(init.kaiming_normal_(layer.weight))
    np.testing.assert_array_equal(first, second)
    assert layer.weight.requires_grad and layer.weight.is_leaf
    assert layer.weight._version > version        # in-place writes are counted


@pytest.mark.parametrize("shape", [(6, 10), (10, 6), (8, 4, 3, 3), (5, 5)])
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_orthogonal(shape, dtype):
    """The rows (or, for a tall matrix, the columns) of the flattened weight are orthonormal
    times the gain, and the draw repeats with the seed."""
    tg.manual_seed(0)
    w = host(init.orthogonal_(tg.empty(*shape, dtype=dtype), gain=2.0)).reshape(shape[0], -1)
    gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
    tolerance = 1e-5 if dtype == tg.float32 else 1e-12
    np.testing.assert_allclose(gram, 4 * np.eye(min(w.shape)), atol=tolerance)
    tg.manual_seed(0)
    np.testing.assert_array_equal(host(init.orthogonal_(tg.empty(*shape, dtype=dtype),
                                                        gain=2.0)).reshape(w.shape), w)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(tg.empty(4))


def test_orthogonal_is_uniformly_distributed():
    """Without the sign fix a QR's diagonal of R is often positive by convention, biasing Q:
    the mean of Q's diagonal over many draws is 0 for the uniform (Haar) distribution."""
    tg.manual_seed(1)
    diagonals = [np.diag(host(init.orthogonal_(tg.empty(3, 3, dtype=tg.float64))))
                 for _ in range(2000)]
    np.testing.assert_allclose(np.mean(diagonals, axis=0), 0, atol=0.05)


@pytest.mark.parametrize("shape, groups", [((4, 4, 3), 1), ((6, 4, 3, 3), 1), ((6, 2, 3, 5), 3),
                                           ((3, 5, 2, 3, 3), 1), ((8, 3, 1, 1), 2)])
def test_dirac_matches_pytorch(shape, groups):
    torch = pytest.importorskip("torch")
    ours = host(init.dirac_(tg.empty(*shape), groups))
    np.testing.assert_array_equal(ours, torch.nn.init.dirac_(torch.empty(*shape), groups).numpy())


def test_dirac_conv_is_identity(rng):
    """With out == in channels the convolution (padding k // 2) returns its input, per group
    too; with more outputs than inputs the extra channels are zero."""
    x = tg.tensor(rng.standard_normal((2, 4, 5, 6)))
    for groups in (1, 2, 4):
        w = init.dirac_(tg.empty(4, 4 // groups, 3, 3, dtype=tg.float64), groups)
        np.testing.assert_array_equal(host(tg.nn.functional.conv2d(x, w, padding=1,
                                                                   groups=groups)), host(x))
    w = init.dirac_(tg.empty(6, 4, 3, 5, dtype=tg.float64))
    y = host(tg.nn.functional.conv2d(x, w, padding=(1, 2)))
    np.testing.assert_array_equal(y[:, :4], host(x))
    np.testing.assert_array_equal(y[:, 4:], 0)


def test_dirac_errors():
    with pytest.raises(ValueError, match=r"3, 4, or 5 dimensions .* got shape \(3, 3\)"):
        init.dirac_(tg.empty(3, 3))
    with pytest.raises(ValueError, match=r"divisible by groups, got shape \(4, 2, 3\)"):
        init.dirac_(tg.empty(4, 2, 3), groups=3)


@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.5, 1.0])
def test_sparse(sparsity):
    """Each column has ceil(sparsity * rows) zeros, the rest N(0, std^2); the draw repeats with
    the seed; PyTorch leaves the same number of zeros per column."""
    rows, cols, std = 50, 400, 0.02
    tg.manual_seed(0)
    w = host(init.sparse_(tg.empty(rows, cols), sparsity, std))
    zeros = math.ceil(sparsity * rows)
    assert ((w == 0).sum(0) == zeros).all()
    if zeros < rows:
        assert w[w != 0].std() == pytest.approx(std, rel=0.03)
    if 0 < zeros < rows:
        zero_rows = {tuple(np.flatnonzero(column == 0)) for column in w.T}
        assert len(zero_rows) > cols // 2                       # drawn afresh for each column
    tg.manual_seed(0)
    np.testing.assert_array_equal(host(init.sparse_(tg.empty(rows, cols), sparsity, std)), w)
    torch = pytest.importorskip("torch")
    theirs = torch.nn.init.sparse_(torch.empty(rows, cols), sparsity, std).numpy()
    np.testing.assert_array_equal((theirs == 0).sum(0), (w == 0).sum(0))


def test_sparse_errors():
    with pytest.raises(ValueError, match=r"2 dimensions are supported, got shape \(2, 3, 4\)"):
        init.sparse_(tg.empty(2, 3, 4), 0.5)


INIT_DRAWS = {
    "uniform_": lambda t, g: init.uniform_(t, -1, 1, generator=g),
    "normal_": lambda t, g: init.normal_(t, 0, 2, generator=g),
    "trunc_normal_": lambda t, g: init.trunc_normal_(t, generator=g),
    "kaiming_uniform_": lambda t, g: init.kaiming_uniform_(t, generator=g),
    "kaiming_normal_": lambda t, g: init.kaiming_normal_(t, generator=g),
    "xavier_uniform_": lambda t, g: init.xavier_uniform_(t, generator=g),
    "xavier_normal_": lambda t, g: init.xavier_normal_(t, generator=g),
    "orthogonal_": lambda t, g: init.orthogonal_(t, generator=g),
    "sparse_": lambda t, g: init.sparse_(t, 0.5, generator=g),
}


@pytest.mark.parametrize("draw", INIT_DRAWS.values(), ids=INIT_DRAWS.keys())
def test_init_draws_from_the_generator_given(device, draw):
    """The same generator seed gives the same weights, whatever the global seed."""
    weight = nn.Parameter(tg.empty(6, 4, device=device))
    tg.manual_seed(1)
    first = host(draw(weight, tg.Generator(device).manual_seed(7))).copy()
    tg.manual_seed(2)
    assert weight.requires_grad and weight.is_leaf
    np.testing.assert_array_equal(host(draw(weight, tg.Generator(device).manual_seed(7))),
                                  first)
    assert not np.array_equal(host(draw(weight, tg.Generator(device).manual_seed(8))), first)
