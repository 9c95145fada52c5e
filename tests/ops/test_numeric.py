"""trapezoid, cumulative_trapezoid, vander, renorm (ops/numeric.py) and mode, msort, cov,
corrcoef (ops/statistics.py): values against NumPy, gradients against finite differences."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tinygen.autograd import gradcheck, gradgradcheck

# name, shapes of the float64 inputs, tinygen function, NumPy reference
CASES = [
    ("trapezoid", [(3, 5)], lambda y: tg.trapezoid(y, dx=0.5), lambda y: np.trapezoid(y, dx=0.5)),
    ("trapezoid x", [(3, 5), (5,)], lambda y, x: tg.trapezoid(y, x.cumsum(0)),
     lambda y, x: np.trapezoid(y, x.cumsum(0))),
    ("trapz dim 0", [(3, 5), (3, 5)], lambda y, x: tg.trapz(y, x, dim=0),
     lambda y, x: np.trapezoid(y, x, axis=0)),
    ("cumulative_trapezoid", [(3, 5), (5,)], lambda y, x: tg.cumulative_trapezoid(y, x),
     lambda y, x: np.cumsum((y[:, 1:] + y[:, :-1]) * np.diff(x) / 2, -1)),
    ("vander", [(4,)], lambda x: tg.vander(x, 3), lambda x: np.vander(x, 3)),
    ("vander increasing", [(3,)], lambda x: tg.vander(x, increasing=True),
     lambda x: np.vander(x, increasing=True)),
    ("renorm", [(3, 4)], lambda x: (x * 3).renorm(2, 0, 2.0),
     lambda x: 3 * x * np.minimum(1, 2.0 / (np.linalg.norm(3 * x, axis=1, keepdims=True) + 1e-7))),
    ("renorm p=1 dim 1", [(3, 4)], lambda x: tg.renorm(x, 1, 1, 1.0),
     lambda x: x * np.minimum(1, 1.0 / (np.abs(x).sum(0) + 1e-7))),
    ("cov", [(3, 6)], tg.cov, np.cov),
    ("cov 1-d", [(6,)], lambda x: x.cov(correction=0), lambda x: np.cov(x, ddof=0)),
    ("cov weighted", [(2, 5), (5,)], lambda x, w: tg.cov(x, aweights=w + 2,
                                                          fweights=tg.arange(1, 6)),
     lambda x, w: np.cov(x, aweights=w + 2, fweights=np.arange(1, 6))),
    ("corrcoef", [(3, 6)], tg.corrcoef, np.corrcoef),
    ("msort", [(4, 3)], tg.msort, lambda x: np.sort(x, 0)),
]


@pytest.mark.parametrize("name, shapes, fn, ref", CASES, ids=[c[0] for c in CASES])
def test_values_and_gradients(name, shapes, fn, ref, device, rng, leaf):
    inputs = [leaf(rng, *s, device=device) for s in shapes]
    np.testing.assert_allclose(host(fn(*inputs)), ref(*(host(x) for x in inputs)), rtol=1e-10,
                               atol=1e-12)
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_vander_at_zero_and_ints(device):
    x = tg.tensor([0.0, 2.0], dtype=tg.float64, device=device, requires_grad=True)
    assert gradgradcheck(lambda t: tg.vander(t, 4), (x,))
    ints = tg.vander(tg.tensor([2, 3], device=device))
    assert ints.dtype == tg.int64 and host(ints).tolist() == [[2, 1], [3, 1]]


def test_mode(device, rng):
    values = rng.integers(0, 3, (4, 7)).astype(float)
    x = tg.tensor(values, dtype=tg.float64, device=device, requires_grad=True)
    out, indices = x.mode(1)
    for row, value, index in zip(values, host(out), host(indices)):
        counts = {v: (row == v).sum() for v in row}
        assert value == min(v for v in counts if counts[v] == max(counts.values()))
        assert index == np.flatnonzero(row == value)[-1]
    kept = tg.mode(x, 0, keepdim=True)
    assert kept.values.shape == kept.indices.shape == (1, 7)
    out.sum().backward()                  # ties: the gradient goes to the index returned
    want = np.zeros((4, 7))
    want[np.arange(4), host(indices)] = 1
    np.testing.assert_equal(host(x.grad), want)


def test_cov_and_corrcoef_of_one_row_and_of_complex_rows():
    a = np.random.default_rng(4).standard_normal((3, 6))
    assert tg.cov(tg.tensor(a[:1])).shape == () and tg.corrcoef(tg.tensor(a[:1])).shape == ()
    np.testing.assert_allclose(host(tg.cov(tg.tensor(a[:1]))), np.cov(a[0]), rtol=1e-12)
    z = a + 1j * a[::-1]
    np.testing.assert_allclose(host(tg.cov(tg.tensor(z))), np.cov(z), rtol=1e-12)
    np.testing.assert_allclose(host(tg.corrcoef(tg.tensor(z))), np.corrcoef(z), rtol=1e-12)


def test_matches_torch():
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(5).integers(0, 4, (5, 6)).astype(float)
    t, x = torch.tensor(values), tg.tensor(values)
    for dim in (0, 1):
        got, want = x.mode(dim), t.mode(dim)
        np.testing.assert_equal(host(got.values), want.values.numpy())
        np.testing.assert_equal(host(got.indices), want.indices.numpy())
    np.testing.assert_allclose(host(x.renorm(3, 1, 2.0)), t.renorm(3, 1, 2.0).numpy())
    np.testing.assert_allclose(host(tg.corrcoef(x)), torch.corrcoef(t).numpy(), atol=1e-12)
    np.testing.assert_allclose(host(tg.cumulative_trapezoid(x, dx=2.0, dim=0)),
                               torch.cumulative_trapezoid(t, dx=2.0, dim=0).numpy())


def test_cov_refuses_bad_weights_and_renorm_a_vector():
    x = tg.tensor([1.0, 2.0, 4.0])
    with pytest.raises(RuntimeError, match="fweights to have integral dtype"):
        tg.cov(x, fweights=tg.tensor([1.0, 1.0, 1.0]))
    with pytest.raises(RuntimeError, match="fweights cannot be negative"):
        tg.cov(x, fweights=tg.tensor([1, -1, 1]))
    with pytest.raises(RuntimeError, match="aweights cannot be negative"):
        tg.cov(x, aweights=tg.tensor([1.0, -0.5, 1.0]))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        tg.renorm(x, 2, 0, 1.0)


def test_cov_promotes_with_the_aweights_dtype():
    # as PyTorch: the weights take part in the result dtype (float16 rows, float32 weights)
    x = np.array([[1.0, 2.0, 4.0], [0.5, -1.0, 3.0]], dtype=np.float16)
    w = np.array([1.0, 2.0, 0.5], dtype=np.float32)
    y = tg.cov(tg.tensor(x), aweights=tg.tensor(w))
    assert y.dtype == tg.float32
    np.testing.assert_allclose(host(y), np.cov(x.astype(np.float64), aweights=w), rtol=1e-5)
    ints = tg.tensor(np.array([[1, 2, 4]]))
    assert tg.cov(ints, aweights=tg.tensor(w.astype(np.float16))).dtype == tg.float16
