"""addmm, addmv, addbmm, baddbmm, addr, addcmul, addcdiv and their in-place forms, mv, ger,
inner, vdot, dist, chain_matmul and linalg.multi_dot: values against NumPy, gradients (first
and second order) against finite differences."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tinygen.autograd import gradcheck, gradgradcheck

# name, shapes of the float64 inputs, tinygen function, NumPy reference
CASES = [
    ("addmm", [(1, 4), (3, 5), (5, 4)], lambda c, a, b: tg.addmm(c, a, b, beta=0.5, alpha=2),
     lambda c, a, b: 0.5 * c + 2 * a @ b),
    ("addmv", [(3,), (3, 5), (5,)], lambda c, a, b: c.addmv(a, b, alpha=-1),
     lambda c, a, b: c - a @ b),
    ("addbmm", [(3, 4), (2, 3, 5), (2, 5, 4)], lambda c, a, b: tg.addbmm(c, a, b, beta=2),
     lambda c, a, b: 2 * c + (a @ b).sum(0)),
    ("baddbmm", [(3, 1), (2, 3, 5), (2, 5, 4)], lambda c, a, b: c.baddbmm(a, b, alpha=0.5),
     lambda c, a, b: c + 0.5 * a @ b),
    ("addr", [(3, 4), (3,), (4,)], lambda c, a, b: tg.addr(c, a, b, beta=3, alpha=2),
     lambda c, a, b: 3 * c + 2 * np.outer(a, b)),
    ("addcmul", [(3, 1), (1, 4), (3, 4)], lambda c, a, b: c.addcmul(a, b, value=0.5),
     lambda c, a, b: c + 0.5 * a * b),
    ("addcdiv", [(3, 4), (3, 4), (4,)], lambda c, a, b: tg.addcdiv(c, a, b + 3, value=-2),
     lambda c, a, b: c - 2 * a / (b + 3)),
    ("mv", [(3, 5), (5,)], lambda a, b: a.mv(b), lambda a, b: a @ b),
    ("ger", [(3,), (5,)], lambda a, b: tg.ger(a, b), np.outer),
    ("inner", [(2, 3, 5), (4, 5)], lambda a, b: a.inner(b), np.inner),
    ("inner 0-d", [(), (4, 5)], lambda a, b: tg.inner(a, b), lambda a, b: a * b),
    ("vdot", [(5,), (5,)], lambda a, b: a.vdot(b), np.vdot),
    ("dist", [(3, 4), (4,)], lambda a, b: a.dist(b), lambda a, b: np.linalg.norm(a - b)),
    ("dist p=3", [(3, 4), (3, 4)], lambda a, b: tg.dist(a, b, 3),
     lambda a, b: (np.abs(a - b) ** 3).sum() ** (1 / 3)),
    ("chain_matmul", [(2, 3), (3, 4), (4, 5)], tg.chain_matmul,
     lambda a, b, c: a @ b @ c),
    ("multi_dot", [(3,), (3, 4), (4, 5), (5,)], lambda *ts: tg.linalg.multi_dot(ts),
     lambda *arrays: np.linalg.multi_dot(arrays)),
    ("multi_dot matrices", [(2, 3), (3, 4)], lambda *ts: tg.linalg.multi_dot(list(ts)),
     lambda a, b: a @ b),
]


@pytest.mark.parametrize("name, shapes, fn, ref", CASES, ids=[c[0] for c in CASES])
def test_values_and_gradients(name, shapes, fn, ref, device, rng, leaf):
    inputs = [leaf(rng, *s, device=device) for s in shapes]
    got = fn(*inputs)
    want = ref(*(host(x) for x in inputs))
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(host(got), want, rtol=1e-12, atol=1e-12)
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_beta_zero_ignores_input(device):
    c = tg.full((2, 2), float("nan"), device=device)
    a = tg.eye(2, device=device)
    np.testing.assert_equal(host(tg.addmm(c, a, a, beta=0)), np.eye(2))


def test_integer_products_keep_their_dtype(device):
    """As PyTorch: int stays int with alpha and beta truncated (0.6 -> 0, 2.5 -> 2)."""
    c = tg.tensor([3, 4, 5], device=device)
    m, v = tg.arange(6, device=device).reshape(3, 2), tg.tensor([1, 2], device=device)
    y = tg.addmv(c, m, v, beta=1.7, alpha=2.5)
    assert y.dtype == tg.int64
    np.testing.assert_array_equal(host(y), [7, 20, 33])
    np.testing.assert_array_equal(host(tg.addmv(c, m, v, beta=0.2, alpha=0.6)), [0, 0, 0])
    batch = tg.ones(2, 3, 3, dtype=tg.int64, device=device)
    assert tg.addbmm(c, batch, batch, beta=0.5).dtype == tg.int64
    assert tg.baddbmm(c, batch, batch, alpha=0.5).dtype == tg.int64
    small = batch.to(tg.int32)                    # the sum over the batch keeps int32 too
    assert tg.addbmm(c.to(tg.int32), small, small).dtype == tg.int32


def test_boolean_addr_is_logical(device):
    """(beta and input) or (alpha and outer(vec1, vec2)), a bool tensor."""
    c = tg.tensor([[True, False], [False, True]], device=device)
    v = tg.tensor([True, False], device=device)
    y = tg.addr(c, v, v, beta=3, alpha=2)
    assert y.dtype == tg.bool
    np.testing.assert_array_equal(host(y), [[True, False], [False, True]])
    np.testing.assert_array_equal(host(tg.addr(c, v, v, beta=0)), [[True, False], [False, False]])
    np.testing.assert_array_equal(host(tg.addr(c, v, v, alpha=0)), host(c))


def test_vdot_conjugates_the_first_argument(device):
    a = tg.tensor([1 + 2j, 3j], dtype=tg.complex128, device=device)
    b = tg.tensor([2 - 1j, 1 + 1j], dtype=tg.complex128, device=device)
    np.testing.assert_allclose(host(tg.vdot(a, b)), np.vdot(host(a), host(b)), rtol=1e-12)
    np.testing.assert_allclose(host(b.vdot(a)), np.vdot(host(b), host(a)), rtol=1e-12)


def test_in_place_forms(device, rng, leaf):
    a, b = leaf(rng, 3, 5, device=device), leaf(rng, 5, 4, device=device)
    y = tg.zeros(3, 4, dtype=tg.float64, device=device) + 1
    y.addmm_(a, b, alpha=2).addcmul_(y.detach(), y.detach(), value=0.5)
    first = 1 + 2 * host(a) @ host(b)
    np.testing.assert_allclose(host(y), first + 0.5 * first ** 2)
    y.sum().backward()
    np.testing.assert_allclose(host(a.grad), 2 * np.ones((3, 4)) @ host(b).T)
    z = tg.ones(4, dtype=tg.float64, device=device)
    z.addcdiv_(tg.full((4,), 3.0, dtype=tg.float64, device=device),
               tg.full((4,), 2.0, dtype=tg.float64, device=device))
    np.testing.assert_allclose(host(z), 2.5)


def test_clear_errors(device):
    a = tg.ones(3, 4, device=device)
    with pytest.raises(RuntimeError, match=r"input of shape \(2,\) cannot be broadcast"):
        tg.addmm(tg.ones(2, device=device), a, a.T)
    with pytest.raises(RuntimeError, match="mv: expected a matrix and a vector"):
        tg.mv(a, a)
    with pytest.raises(RuntimeError, match="Integer division"):
        tg.addcdiv(a, tg.ones(2, dtype=tg.int64), tg.ones(2, dtype=tg.int64))
    with pytest.raises(RuntimeError, match="must be 2-D"):
        tg.linalg.multi_dot([a, a[0, :, None, None]])


def test_matches_torch():
    torch = pytest.importorskip("torch")
    r = np.random.default_rng(1)
    c, a, b = r.standard_normal((3, 4)), r.standard_normal((2, 3, 5)), r.standard_normal((2, 5, 4))
    tc, ta, tb = (torch.tensor(v) for v in (c, a, b))
    np.testing.assert_allclose(host(tg.addbmm(tg.tensor(c), tg.tensor(a), tg.tensor(b),
                                              beta=0.5, alpha=3)),
                               torch.addbmm(tc, ta, tb, beta=0.5, alpha=3).numpy())
    np.testing.assert_allclose(host(tg.inner(tg.tensor(a), tg.tensor(b[:, :, 0]))),
                               torch.inner(ta, tb[:, :, 0]).numpy())
