"""tril/triu, repeat, tile, repeat_interleave, roll: values against NumPy (and PyTorch when
installed), gradients against finite differences, and the errors a user sees."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tinygen.autograd import gradcheck, gradgradcheck

# name, tinygen function, NumPy reference
CASES = [
    ("tril", lambda x: x.tril(), lambda a: np.tril(a)),
    ("tril -1", lambda x: tg.tril(x, -1), lambda a: np.tril(a, -1)),
    ("triu", lambda x: x.triu(), lambda a: np.triu(a)),
    ("triu 2", lambda x: tg.triu(x, diagonal=2), lambda a: np.triu(a, 2)),
    ("repeat", lambda x: x.repeat(2, 1, 3), lambda a: np.tile(a, (2, 1, 3))),
    ("repeat tuple", lambda x: x.repeat((1, 2, 1)), lambda a: np.tile(a, (1, 2, 1))),
    ("repeat new dims", lambda x: x.repeat(2, 1, 1, 1), lambda a: np.tile(a, (2, 1, 1, 1))),
    ("tile", lambda x: x.tile((2,)), lambda a: np.tile(a, (1, 1, 2))),
    ("tile more", lambda x: tg.tile(x, (2, 1, 1, 2)), lambda a: np.tile(a, (2, 1, 1, 2))),
    ("repeat_interleave", lambda x: x.repeat_interleave(2, 1), lambda a: np.repeat(a, 2, 1)),
    ("repeat_interleave flat", lambda x: tg.repeat_interleave(x, 3),
     lambda a: np.repeat(a.reshape(-1), 3)),
    ("repeat_interleave counts", lambda x: x.repeat_interleave(tg.tensor([2, 0, 1]), dim=1),
     lambda a: np.repeat(a, [2, 0, 1], 1)),
    ("roll", lambda x: x.roll(1, 2), lambda a: np.roll(a, 1, 2)),
    ("roll flat", lambda x: tg.roll(x, -4), lambda a: np.roll(a, -4)),
    ("roll dims", lambda x: x.roll((1, -5), (0, 2)), lambda a: np.roll(a, (1, -5), (0, 2))),
    ("roll by the size", lambda x: x.roll(3, 1), lambda a: a),
]


@pytest.mark.parametrize("name, fn, ref", CASES, ids=[c[0] for c in CASES])
def test_values_and_gradients(name, fn, ref, device, rng, leaf):
    x = leaf(rng, 2, 3, 4, device=device)
    y = fn(x)
    expected = ref(host(x))
    assert y.shape == expected.shape
    np.testing.assert_array_equal(host(y), expected)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_repeat_sums_the_gradient_of_the_copies(device):
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, device=device, requires_grad=True)
    x.repeat(3).backward(tg.arange(6, dtype=tg.float64, device=device))
    assert host(x.grad).tolist() == [0 + 2 + 4, 1 + 3 + 5]


def test_tril_masks_the_gradient(device):
    x = tg.ones(3, 3, dtype=tg.float64, device=device, requires_grad=True)
    x.tril().sum().backward()
    np.testing.assert_array_equal(host(x.grad), np.tril(np.ones((3, 3))))


@pytest.mark.parametrize("fn, match", [
    (lambda: tg.tril(tg.ones(3)), "at least 2 dimensions"),
    (lambda: tg.ones(2, 3).repeat(2), "can not be smaller"),
    (lambda: tg.ones(2).repeat(-1), "non-negative"),
    (lambda: tg.ones(3).repeat_interleave(-1), "non-negative"),
    (lambda: tg.ones(3).repeat_interleave(tg.tensor([1, 2])), "3 entries"),
    (lambda: tg.ones(3).repeat_interleave(2, output_size=5), "expected 6 but got 5"),
    (lambda: tg.ones(2).repeat_interleave(tg.tensor([1, 2]), 0, output_size=4), "output_size"),
    (lambda: tg.ones(3).roll((1, 2), (0,)), "same length"),
    (lambda: tg.ones(3).roll((1, 2)), "one number"),
])
def test_errors(fn, match):
    with pytest.raises(RuntimeError, match=match):
        fn()


def test_matches_torch(rng):
    torch = pytest.importorskip("torch")
    a = rng.standard_normal((3, 4))
    x, t = tg.tensor(a), torch.tensor(a)
    pairs = [(x.repeat(2, 3), t.repeat(2, 3)), (x.tile((2,)), t.tile((2,))),
             (x.repeat_interleave(2, 0), t.repeat_interleave(2, 0)),
             (x.repeat_interleave(tg.tensor([1, 0, 2]), 0, output_size=3),
              t.repeat_interleave(torch.tensor([1, 0, 2]), 0, output_size=3)),
             (x.roll(-1), t.roll(-1)), (x.roll((1, 2), (1, 0)), t.roll((1, 2), (1, 0))),
             (x.tril(1), t.tril(1)), (x.triu(-1), t.triu(-1))]
    for ours, theirs in pairs:
        np.testing.assert_array_equal(host(ours), theirs.cpu().numpy())
