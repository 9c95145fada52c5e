"""PyTorch's second names (divide, arcsin, fix, concat, ...): the same functions and methods as
the names they stand for, and Tensor.ndimension / nelement."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host

ALIASES = {
    "divide": "div", "true_divide": "div", "multiply": "mul", "subtract": "sub",
    "negative": "neg", "absolute": "abs", "fix": "trunc", "concat": "cat",
    "greater": "gt", "greater_equal": "ge", "less": "lt", "less_equal": "le", "not_equal": "ne",
    "arcsin": "asin", "arccos": "acos", "arctan": "atan", "arctan2": "atan2",
    "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh", "clip": "clamp",
    "concatenate": "cat",
}


@pytest.mark.parametrize("alias, name", ALIASES.items())
def test_alias_is_the_same_function(alias, name):
    assert getattr(tg, alias) is getattr(tg, name)
    if name != "cat":                                   # PyTorch has no Tensor.cat / concat
        assert getattr(tg.Tensor, alias) is getattr(tg.Tensor, name)


def test_aliases_compute(device):
    a = tg.tensor([1.5, -2.5, 3.0], device=device)
    b = tg.tensor([2.0, 2.0, 3.0], device=device)
    np.testing.assert_equal(host(tg.divide(a, b, rounding_mode="floor")), [0, -2, 1])
    np.testing.assert_equal(host(a.subtract(b, alpha=2)), [-2.5, -6.5, -3.0])
    np.testing.assert_equal(host(a.fix()), [1, -2, 3])
    np.testing.assert_equal(host(a.greater_equal(b)), [False, False, True])
    np.testing.assert_equal(host(a.not_equal(b)), [True, True, False])
    np.testing.assert_equal(host(tg.concat([a, b])), np.r_[host(a), host(b)])


def test_ndimension_and_nelement():
    x = tg.zeros(2, 3, 4)
    assert x.ndimension() == x.dim() == 3
    assert x.nelement() == x.numel() == 24


def test_matches_torch():
    torch = pytest.importorskip("torch")
    for alias in ALIASES:
        assert hasattr(torch, alias), alias
    values = np.array([0.1, -0.5, 0.9], dtype=np.float32)
    x, t = tg.tensor(values), torch.tensor(values)
    for alias in ("arcsin", "arctanh", "fix", "negative", "absolute"):
        np.testing.assert_allclose(host(getattr(tg, alias)(x)), getattr(torch, alias)(t).numpy(),
                                   rtol=1e-6, err_msg=alias)
