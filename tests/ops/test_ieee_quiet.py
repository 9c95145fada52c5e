"""Out-of-domain results follow IEEE 754 quietly, as in PyTorch: no NumPy RuntimeWarning, and the
values (inf, -inf, NaN) PyTorch gives."""

import math
import warnings

import numpy as np
import pytest

import tinygen as tg

NAN, INF = math.nan, math.inf

CASES = [
    ("x / 0", lambda x: x / 0, [NAN, INF, -INF]),
    ("log", tg.log, [-INF, 0.0, NAN]),
    ("log2", tg.log2, [-INF, 0.0, NAN]),
    ("log10", tg.log10, [-INF, 0.0, NAN]),
    ("log1p(x - 1)", lambda x: tg.log1p(x - 1), [-INF, 0.0, NAN]),
    ("sqrt", tg.sqrt, [0.0, 1.0, NAN]),
    ("rsqrt", tg.rsqrt, [INF, 1.0, NAN]),
    ("x ** -1", lambda x: x ** -1, [INF, 1.0, -1.0]),
    ("x ** 0.5", lambda x: x ** 0.5, [0.0, 1.0, NAN]),
    ("exp(1e4 x)", lambda x: tg.exp(1e4 * x), [1.0, INF, 0.0]),
    ("logit(2 x)", lambda x: tg.logit(2 * x), [-INF, NAN, NAN]),
]


@pytest.mark.parametrize("name, fn, expected", CASES, ids=[c[0] for c in CASES])
def test_out_of_domain_values_are_ieee_without_warnings(name, fn, expected):
    x = tg.tensor([0.0, 1.0, -1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = fn(x)
    np.testing.assert_array_equal(y.detach().numpy(), np.array(expected, np.float32))


def test_gradient_of_log_at_zero_is_inf_without_warnings():
    x = tg.tensor([0.0, 2.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tg.log(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [INF, 0.5])
