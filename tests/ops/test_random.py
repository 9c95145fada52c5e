"""multinomial and bernoulli: frequencies against the probabilities (with fixed seeds and
tolerances many standard errors wide, so they cannot flake), seeding, and the errors."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host


def frequencies(samples, n):
    return np.bincount(host(samples).reshape(-1), minlength=n) / samples.numel()


def test_multinomial_with_replacement_follows_the_probabilities(device):
    tg.manual_seed(0)
    weights = tg.tensor([[1.0, 0.0, 6.0, 3.0], [2.0, 2.0, 0.0, 4.0]], device=device)
    samples = tg.multinomial(weights, 20000, replacement=True)
    assert samples.shape == (2, 20000) and samples.dtype == tg.int64
    p = host(weights) / host(weights).sum(1, keepdims=True)
    for row in range(2):
        np.testing.assert_allclose(frequencies(samples[row], 4), p[row], atol=0.015)


def test_multinomial_without_replacement_draws_distinct_categories(device):
    tg.manual_seed(1)
    weights = tg.rand(5, 10, device=device) + 0.01
    samples = weights.multinomial(10)
    for row in host(samples):
        assert sorted(row.tolist()) == list(range(10))


def test_multinomial_without_replacement_matches_sequential_draws():
    """P(first = i, second = j) = p_i p_j / (1 - p_i): drawing without replacement one by one."""
    tg.manual_seed(2)
    p = np.array([0.1, 0.0, 0.6, 0.3])
    samples = host(tg.multinomial(tg.tensor(p).expand(6000, 4), 2))
    counts = np.zeros((4, 4))
    np.add.at(counts, (samples[:, 0], samples[:, 1]), 1)
    expected = p[:, None] * p[None, :] / (1 - p[:, None])
    np.fill_diagonal(expected, 0)
    np.testing.assert_allclose(counts / len(samples), expected, atol=0.02)


def test_multinomial_one_dim_input_and_zero_probabilities_never_drawn(device):
    tg.manual_seed(3)
    samples = tg.multinomial(tg.tensor([0.0, 1.0, 0.0, 1.0], device=device), 500, True)
    assert samples.shape == (500,)
    assert set(host(samples).tolist()) == {1, 3}


@pytest.mark.parametrize("replacement", [False, True])
def test_multinomial_of_no_rows_is_an_empty_draw_as_in_pytorch(replacement):
    assert tg.multinomial(tg.zeros(0, 3), 2, replacement).shape == (0, 2)


def test_multinomial_repeats_under_manual_seed():
    weights = tg.tensor([0.2, 0.3, 0.5])
    tg.manual_seed(7)
    first = tg.multinomial(weights, 20, True).tolist()
    tg.manual_seed(7)
    assert tg.multinomial(weights, 20, True).tolist() == first
    gen = np.random.default_rng(7)
    assert tg.multinomial(weights, 3, generator=gen).shape == (3,)


@pytest.mark.parametrize("weights, kwargs, match", [
    ([[0.5, -0.1]], {}, "< 0"),
    ([[0.5, float("nan")]], {}, "nan"),
    ([[0.0, 0.0], [1.0, 1.0]], {"replacement": True}, "all zeros"),
    ([[0.0, 1.0, 1.0]], {"num_samples": 3}, "without replacement"),
    ([[[1.0]]], {}, "1 or 2 dim"),
    ([1.0, 1.0], {"num_samples": 0}, "num_samples=0"),
])
def test_multinomial_errors(weights, kwargs, match):
    num_samples = kwargs.pop("num_samples", 1)
    with pytest.raises(RuntimeError, match=match):
        tg.multinomial(tg.tensor(weights), num_samples, **kwargs).tolist()
    with pytest.raises(RuntimeError, match="floating point"):
        tg.multinomial(tg.tensor([1, 2]), 1)


def test_bernoulli_frequencies_and_dtype(device):
    tg.manual_seed(4)
    p = tg.tensor([0.0, 0.2, 0.9, 1.0], dtype=tg.float64, device=device).expand(20000, 4)
    draws = tg.bernoulli(p)
    assert draws.dtype == tg.float64 and draws.shape == (20000, 4)
    np.testing.assert_allclose(host(draws.mean(0)), [0.0, 0.2, 0.9, 1.0], atol=0.015)
    assert set(np.unique(host(draws)).tolist()) <= {0.0, 1.0}
    np.testing.assert_allclose(host(tg.ones(20000).bernoulli(0.3).mean()), 0.3, atol=0.015)


def test_bernoulli_in_place(device):
    tg.manual_seed(5)
    x = tg.zeros(20000, device=device)
    assert x.bernoulli_(0.25) is x
    np.testing.assert_allclose(host(x.mean()), 0.25, atol=0.015)
    x.bernoulli_(tg.full((20000,), 0.75, device=device))
    np.testing.assert_allclose(host(x.mean()), 0.75, atol=0.015)
    with pytest.raises(RuntimeError, match=r"\[0, 1\]"):
        x.bernoulli_(1.5).tolist()                           # a GPU reports at the read


def test_bernoulli_in_place_on_a_leaf_that_requires_grad_needs_no_grad():
    w = tg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w.bernoulli_(0.5)
    with tg.no_grad():
        w.bernoulli_(1.0)
    assert w.tolist() == [1.0, 1.0, 1.0]


def test_multinomial_single_draws_follow_the_probabilities():
    """One sample per row (how a language model picks its next token): the default,
    replacement=False, draws by the inverse CDF."""
    tg.manual_seed(6)
    p = np.array([0.5, 0.0, 0.2, 0.3])
    samples = tg.multinomial(tg.tensor(p).expand(20000, 4), 1)
    assert samples.shape == (20000, 1)
    np.testing.assert_allclose(frequencies(samples, 4), p, atol=0.015)


# normal, poisson and the in-place fills, by their statistics and PyTorch's errors

def test_normal_overloads_give_pytorchs_shapes_and_dtypes():
    tg.manual_seed(0)
    assert tg.normal(tg.zeros(2, 1), tg.ones(3)).shape == (2, 3)
    assert tg.normal(tg.zeros(4), 2.0).shape == (4,)
    assert tg.normal(1.0, tg.ones(5)).shape == (5,)
    assert tg.normal(0.0, 1.0, (2, 3)).dtype == tg.float32
    assert tg.normal(0.0, 1.0, size=(2,), dtype=tg.float64).dtype == tg.float64
    assert tg.normal(tg.zeros(3, dtype=tg.float64), 1.0).dtype == tg.float64


def test_normal_statistics_follow_mean_and_std():
    tg.manual_seed(1)
    mean = tg.tensor([-2.0, 3.0]).expand(20000, 2)
    x = host(tg.normal(mean, tg.tensor([0.5, 2.0])))
    np.testing.assert_allclose(x.mean(0), [-2, 3], atol=0.05)
    np.testing.assert_allclose(x.std(0), [0.5, 2], rtol=0.03)


def test_complex_normal_splits_the_variance_between_the_parts(device):
    """As PyTorch: both parts have the mean and std / sqrt 2, so E|z - mean|^2 = std^2."""
    tg.manual_seed(2)
    z = tg.empty(40000, dtype=tg.complex128, device=device)
    assert z.normal_(3.0, 2.0) is z
    values = host(z)
    for part in (values.real, values.imag):
        np.testing.assert_allclose([part.mean(), part.std()], [3.0, 2 ** 0.5], rtol=0.03)
    z = tg.randn(3, 2, dtype=tg.complex64, device=device)
    assert z.shape == (3, 2) and z.dtype == tg.complex64 and host(z).imag.any()


@pytest.mark.parametrize("call, error, match", [
    (lambda: tg.normal(0.0, 1.0), TypeError, "needs size"),
    (lambda: tg.normal(tg.zeros(3), -1.0), RuntimeError, "std >= 0.0"),
    (lambda: tg.normal(0.0, -1.0, (2,)), RuntimeError, "std >= 0.0"),
    (lambda: tg.normal(tg.zeros(3), 1.0, (3,)), TypeError, "size only"),
    (lambda: tg.normal(tg.zeros(3, dtype=tg.int64), 1.0), RuntimeError, "floating"),
    (lambda: tg.poisson(-tg.ones(2)), RuntimeError, "non-negative"),
])
def test_normal_and_poisson_errors(call, error, match):
    with pytest.raises(error, match=match):
        call().tolist()


def test_poisson_counts_have_the_rates_mean_and_dtype():
    tg.manual_seed(2)
    rates = tg.tensor([0.5, 4.0, 20.0]).expand(20000, 3)
    counts = tg.poisson(rates)
    assert counts.dtype == tg.float32
    x = host(counts)
    assert (x == np.round(x)).all()
    np.testing.assert_allclose(x.mean(0), [0.5, 4, 20], rtol=0.03)


FILLS = {  # method, args, (mean, variance) of the distribution
    "uniform_": ((-1.0, 3.0), (1.0, 16 / 12)),
    "normal_": ((2.0, 0.5), (2.0, 0.25)),
    "exponential_": ((2.0,), (0.5, 0.25)),
    "log_normal_": ((0.0, 0.5), (np.exp(0.125), (np.exp(0.25) - 1) * np.exp(0.25))),
    "geometric_": ((0.25,), (4.0, 0.75 / 0.25 ** 2)),
}


@pytest.mark.parametrize("method, args, moments", [(m, a, s) for m, (a, s) in FILLS.items()],
                         ids=FILLS.keys())
def test_in_place_fills_have_the_right_moments(device, method, args, moments):
    tg.manual_seed(3)
    x = tg.empty(40000, dtype=tg.float64, device=device)
    assert getattr(x, method)(*args) is x
    values = host(x)
    np.testing.assert_allclose(values.mean(), moments[0], rtol=0.03, atol=0.01)
    np.testing.assert_allclose(values.var(), moments[1], rtol=0.06)


def test_cauchy_has_the_median_and_quartiles():
    tg.manual_seed(4)
    x = host(tg.empty(40000).cauchy_(1.0, 2.0))
    np.testing.assert_allclose(np.percentile(x, [25, 50, 75]), [-1, 1, 3], atol=0.1)


def test_geometric_values_are_counts_from_one():
    tg.manual_seed(5)
    x = host(tg.empty(1000, dtype=tg.int64).geometric_(0.5))
    assert x.min() == 1 and set(np.unique(x)) <= set(range(1, 64))


@pytest.mark.parametrize("dtype, args, low, high", [
    (tg.float32, (), 0, 2 ** 24), (tg.float64, (), 0, 2 ** 53), (tg.int32, (), 0, 2 ** 31 - 1),
    (tg.uint8, (), 0, 255), (tg.bool, (), 0, 1), (tg.int64, (10,), 0, 9),
    (tg.int64, (-5, 5), -5, 4), (tg.float32, (3, None), 3, 2 ** 24),
])
def test_random_draws_integers_in_pytorchs_ranges(dtype, args, low, high):
    tg.manual_seed(6)
    x = host(tg.zeros(4000, dtype=dtype).random_(*args)).astype(np.float64)
    assert (x == np.round(x)).all() and low <= x.min() and x.max() <= high
    assert x.max() - x.min() > (high - low) / 2            # the whole range is used


def test_random_takes_to_as_a_keyword():
    tg.manual_seed(7)
    assert set(host(tg.zeros(100, dtype=tg.int64).random_(2, to=4)).tolist()) == {2, 3}


@pytest.mark.parametrize("method, args, match", [
    ("uniform_", (1.0, 0.0), r"\[from, to\) range"),
    ("normal_", (0.0, -1.0), "std >= 0.0"),
    ("exponential_", (0.0,), "lambda > 0.0"),
    ("log_normal_", (1.0, 0.0), "std > 0.0"),
    ("cauchy_", (0.0, -1.0), "sigma > 0.0"),
    ("geometric_", (1.0,), r"p to be in \(0, 1\)"),
    ("random_", (5, 3), "less than 'to'"),
])
def test_in_place_fills_refuse_pytorchs_bad_parameters(method, args, match):
    with pytest.raises(RuntimeError, match=match):
        getattr(tg.zeros(3), method)(*args)


def test_random_refuses_a_range_the_dtype_cannot_hold_and_continuous_fills_integers():
    with pytest.raises(RuntimeError, match="out of bounds for uint8"):
        tg.zeros(3, dtype=tg.uint8).random_(0, 300)
    with pytest.raises(RuntimeError, match="floating point"):
        tg.zeros(3, dtype=tg.int64).exponential_()


def test_in_place_fills_on_a_leaf_that_requires_grad_need_no_grad():
    w = tg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w.exponential_()
    with tg.no_grad():
        w.cauchy_()
    assert w.requires_grad and w.grad_fn is None


def test_in_place_fill_methods_match_pytorchs_signatures():
    torch = pytest.importorskip("torch")
    for name in ("uniform_", "normal_", "random_", "exponential_", "log_normal_", "cauchy_",
                 "geometric_", "bernoulli_"):
        assert "generator=None" in getattr(torch.Tensor, name).__doc__.splitlines()[1], name
        getattr(tg.zeros(2), name)(*((0.5,) if name == "geometric_" else ()),
                                   generator=tg.Generator())
