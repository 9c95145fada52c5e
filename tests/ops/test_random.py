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
