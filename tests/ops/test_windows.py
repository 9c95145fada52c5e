"""Window functions, index helpers, tg.range, and the top-level functional/in-place forms."""

import math

import numpy as np
import pytest

import tinygen as tg
from tinygen.autograd import gradcheck

WINDOWS = ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
           "kaiser_window"]


def test_windows_closed_forms():
    n = np.arange(5)
    np.testing.assert_allclose(tg.hann_window(5, periodic=False).numpy(), np.hanning(5),
                               atol=1e-7)
    np.testing.assert_allclose(tg.hamming_window(5, False).numpy(), np.hamming(5), atol=1e-7)
    np.testing.assert_allclose(tg.blackman_window(5, False).numpy(), np.blackman(5), atol=1e-6)
    np.testing.assert_allclose(tg.bartlett_window(5, False).numpy(), np.bartlett(5), atol=1e-7)
    np.testing.assert_allclose(tg.kaiser_window(5, False, 3.0).numpy(), np.kaiser(5, 3.0),
                               rtol=1e-6)
    np.testing.assert_allclose(tg.hann_window(5).numpy(),
                               0.5 - 0.5 * np.cos(2 * math.pi * n / 5), atol=1e-7)
    assert tg.hann_window(1).tolist() == [1.0] and tg.hann_window(0).shape == (0,)
    assert tg.hann_window(3, dtype=tg.float64).dtype == tg.float64


@pytest.mark.parametrize("name", WINDOWS)
def test_windows_match_torch(name):
    torch = pytest.importorskip("torch")
    for n in (1, 4, 7):
        for periodic in (True, False):
            np.testing.assert_allclose(getattr(tg, name)(n, periodic).numpy(),
                                       getattr(torch, name)(n, periodic).numpy(), atol=1e-6)


def test_index_helpers():
    assert tg.tril_indices(3, 3).tolist() == [list(np.tril_indices(3)[0]),
                                              list(np.tril_indices(3)[1])]
    assert tg.triu_indices(2, 3, 1).tolist() == [[0, 0, 1], [1, 2, 2]]
    rows, cols = tg.unravel_index(tg.tensor([5, 0, -1]), (2, 3))
    assert rows.tolist() == [1, 0, 1] and cols.tolist() == [2, 0, 2]
    with pytest.raises(ValueError):
        tg.unravel_index(tg.tensor([6]), (2, 3))
    r = tg.range(0, 1, 0.25)
    assert r.dtype == tg.float32 and r.tolist() == [0, 0.25, 0.5, 0.75, 1.0]
    assert tg.range(3).tolist() == [0, 1, 2, 3]


def test_index_helpers_match_torch():
    torch = pytest.importorskip("torch")
    for args in [(4, 3, 0), (3, 5, -1), (3, 3, 2)]:
        assert tg.tril_indices(*args).tolist() == torch.tril_indices(*args).tolist()
        assert tg.triu_indices(*args).tolist() == torch.triu_indices(*args).tolist()


def test_in_place_function_forms_and_small_ops():
    x = tg.tensor([0.0, 1.0])
    assert tg.exp_(x) is x and np.allclose(x.numpy(), [1, math.e])
    assert tg.zero_(x).tolist() == [0, 0] and tg.fill_(x, 2).tolist() == [2, 2]
    assert tg.clamp_(x, max=1).tolist() == [1, 1]
    assert tg.rsub(tg.tensor([1.0, 2.0]), 5, alpha=2).tolist() == [3, 1]
    w = tg.ones(2, requires_grad=True)
    assert tg.detach(w).requires_grad is False
    r = tg.randint_like(tg.zeros(3, 2, dtype=tg.int32), 4)
    assert r.shape == (3, 2) and r.dtype == tg.int32 and int(r.max()) < 4


def test_top_level_functional_adapters():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 4))
    w, b = rng.normal(size=4), rng.normal(size=4)
    t = torch.tensor(x)
    cases = [
        (tg.layer_norm(tg.tensor(x), (4,), tg.tensor(w), tg.tensor(b), 1e-5, True),
         torch.layer_norm(t, (4,), torch.tensor(w), torch.tensor(b), 1e-5, True)),
        (tg.group_norm(tg.tensor(x), 3), torch.group_norm(t, 3)),
        (tg.batch_norm(tg.tensor(x), None, None, tg.zeros(3, dtype=tg.float64),
                       tg.ones(3, dtype=tg.float64), False, 0.1, 1e-5, True),
         torch.batch_norm(t, None, None, torch.zeros(3, dtype=torch.float64),
                          torch.ones(3, dtype=torch.float64), False, 0.1, 1e-5, True)),
        (tg.embedding(tg.tensor(x[0]), tg.tensor([2, 0])),
         torch.embedding(torch.tensor(x[0]), torch.tensor([2, 0]))),
        (tg.kl_div(tg.tensor(x), tg.tensor(x).exp(), 2, log_target=True),
         torch.kl_div(t, t.exp(), 2, log_target=True)),
        (tg.binary_cross_entropy_with_logits(tg.tensor(x), tg.tensor(x > 0).double()),
         torch.binary_cross_entropy_with_logits(t, (t > 0).double())),
        (tg.constant_pad_nd(tg.tensor(x), (1, 2), 3.0), torch.constant_pad_nd(t, (1, 2), 3.0)),
        (tg.adaptive_avg_pool1d(tg.tensor(x), 2), torch.adaptive_avg_pool1d(t, 2)),
        (tg.max_pool1d(tg.tensor(x), 2), torch.max_pool1d(t, 2)),
        (tg.celu(tg.tensor(x), 0.5), torch.celu(t, 0.5)),
        (tg.margin_ranking_loss(tg.tensor(x[0]), tg.tensor(x[1]), tg.ones(3, 4), 0.1, 0),
         torch.margin_ranking_loss(t[0], t[1], torch.ones(3, 4), 0.1, 0)),
    ]
    for ours, theirs in cases:
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-8)


def test_top_level_adapters_gradcheck():
    rng = np.random.default_rng(1)
    x = tg.tensor(rng.normal(size=(2, 3, 4)), requires_grad=True)
    w = tg.tensor(rng.normal(size=4), requires_grad=True)
    assert gradcheck(lambda a, b: tg.layer_norm(a, (4,), b, None, 1e-5, True), (x, w))
    assert gradcheck(lambda a: tg.adaptive_avg_pool1d(a, 2), (x,))
    assert gradcheck(lambda a: tg.rsub(a, 2.0, alpha=3), (x,))
    target = tg.tensor(rng.normal(size=(2, 3, 4)))
    assert gradcheck(lambda a: tg.kl_div(a, target, 2, log_target=True), (x,))


def test_unravel_index_of_small_int_indices_in_a_large_shape():
    # the shape's size (2**32) does not fit int16; negative indices wrap in int64
    idx = tg.tensor(np.array([5, -1], dtype=np.int16))
    rows, cols = tg.unravel_index(idx, (4, 2 ** 30))
    assert rows.tolist() == [0, 3] and cols.tolist() == [5, 2 ** 30 - 1]
