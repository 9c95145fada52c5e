"""allclose and equal: Python bools with PyTorch's tolerances, broadcasting and shape rules."""

import pytest

import tinygen as tg


def test_allclose_uses_rtol_and_atol(device):
    x = tg.tensor([1.0, 100.0], dtype=tg.float64, device=device)
    assert tg.allclose(x, x + 1e-9) is True
    assert x.allclose(x * (1 + 1e-6)) is True                # within rtol=1e-5
    assert x.allclose(x * (1 + 1e-4)) is False
    assert x.allclose(x + 0.5, atol=0.6) is True
    assert tg.allclose(x, 1.0) is False
    assert tg.allclose(tg.ones(2, 3, device=device), tg.ones(3, device=device)) is True


def test_allclose_nan(device):
    x = tg.tensor([1.0, float("nan")], device=device)
    assert x.allclose(x) is False
    assert x.allclose(x, equal_nan=True) is True


def test_equal_needs_same_shape_and_values(device):
    x = tg.tensor([[1, 2], [3, 4]], device=device)
    assert tg.equal(x, x.clone()) is True
    assert x.equal(x.float()) is True                        # values compare after promotion
    assert x.equal(tg.tensor([[1, 2], [3, 5]], device=device)) is False
    assert x.equal(tg.tensor([1, 2, 3, 4], device=device)) is False
    assert tg.equal(tg.ones(1, 2), tg.ones(2)) is False      # no broadcasting


def test_matches_torch():
    torch = pytest.importorskip("torch")
    a, b = [1.0, 2.0, 3.0], [1.0, 2.00002, 3.0]
    assert tg.allclose(tg.tensor(a), tg.tensor(b)) == torch.allclose(torch.tensor(a),
                                                                     torch.tensor(b))
    assert tg.equal(tg.tensor(a), tg.tensor(b)) == torch.equal(torch.tensor(a), torch.tensor(b))
