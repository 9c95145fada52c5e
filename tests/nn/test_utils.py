"""nn.utils: gradient clipping against hand computations and PyTorch, and parameters to and
from one vector."""

import math

import numpy as np
import pytest

import tinygen as tg
from tinygen import nn
from tinygen.nn import utils
from tests.helpers import host


def _params_with_grads(rng, device="cpu", scale=1.0):
    shapes = [(3, 4), (4,), (), (2, 2, 2)]
    params = [nn.Parameter(tg.tensor(rng.standard_normal(s), device=device)) for s in shapes]
    for p in params:
        p.grad = tg.tensor(scale * rng.standard_normal(p.shape), device=device)
    params.append(nn.Parameter(tg.zeros(5, device=device)))     # no grad: ignored
    return params


def _flat_grads(params):
    return np.concatenate([host(p.grad).reshape(-1) for p in params if p.grad is not None])


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_against_hand_computation(device, rng, norm_type, max_norm):
    params = _params_with_grads(rng, device)
    before = _flat_grads(params)
    p = float(norm_type)
    expected = np.abs(before).max() if p == math.inf else (np.abs(before) ** p).sum() ** (1 / p)
    total = utils.clip_grad_norm_(params, max_norm, norm_type)
    assert isinstance(total, tg.Tensor) and total.ndim == 0 and total.device == device
    assert total.item() == pytest.approx(expected, rel=1e-6)
    coef = min(max_norm / (expected + 1e-6), 1.0)
    np.testing.assert_allclose(_flat_grads(params), before * coef, rtol=1e-6)
    if max_norm < expected:
        after = _flat_grads(params)
        after_norm = np.abs(after).max() if p == math.inf else (np.abs(after) ** p).sum() ** (
            1 / p)
        assert after_norm == pytest.approx(max_norm, rel=1e-5)


def test_clip_grad_norm_equals_pytorch(rng):
    torch = pytest.importorskip("torch")
    params = _params_with_grads(rng, scale=3.0)
    theirs = [torch.nn.Parameter(torch.from_numpy(host(p).copy())) for p in params]
    for p, q in zip(params, theirs):
        q.grad = None if p.grad is None else torch.from_numpy(host(p.grad).copy())
    for norm_type in (2.0, math.inf):
        ours = utils.clip_grad_norm_(params, 1.0, norm_type)
        expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type)
        assert ours.item() == pytest.approx(expected.item(), rel=1e-6)
        for p, q in zip(params, theirs):
            if p.grad is not None:
                np.testing.assert_allclose(host(p.grad), q.grad.cpu().numpy(), rtol=1e-6)


def test_clip_grad_norm_single_tensor_no_grads_and_nonfinite(rng):
    p = nn.Parameter(tg.ones(4))
    assert utils.clip_grad_norm_(p, 1.0).item() == 0.0                # no gradient yet
    p.grad = tg.full((4,), 3.0)
    assert utils.clip_grad_norm_(p, 1.0).item() == pytest.approx(6.0)
    np.testing.assert_allclose(host(p.grad), np.full(4, 0.5), rtol=1e-5)
    p.grad = tg.tensor([1.0, float("nan"), 0.0, 0.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    assert math.isnan(utils.clip_grad_norm_(p, 1.0).item())
    assert np.isnan(host(p.grad)).all()                                # as PyTorch does


def test_clip_grads_with_norm_takes_a_tensor_or_a_number(device):
    """The two halves of clip_grad_norm_, as PyTorch splits them: the factor min(1, max_norm /
    (norm + 1e-6)) from a 0-d tensor norm (left on the device) or a plain number."""
    p = nn.Parameter(tg.ones(4, device=device))
    p.grad = tg.full((4,), 3.0, device=device)
    total = utils.get_total_norm([p.grad])
    assert total.device == p.device and total.item() == pytest.approx(6.0)
    utils.clip_grads_with_norm_([p], 3.0, total)
    np.testing.assert_allclose(host(p.grad), np.full(4, 1.5), rtol=1e-5)
    utils.clip_grads_with_norm_([p], 1.0, 12.0)                         # a number
    np.testing.assert_allclose(host(p.grad), np.full(4, 1.5 / 12), rtol=1e-5)
    utils.clip_grads_with_norm_([p], 100.0, 3.0)                        # factor at most 1
    np.testing.assert_allclose(host(p.grad), np.full(4, 1.5 / 12), rtol=1e-5)


def test_clip_grad_norm_on_a_model_keeps_training_graph_free():
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    (model(tg.randn(8, 3)) * 100).sum().backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.1)
    assert total.item() > 0.1 and not total.requires_grad
    assert np.sqrt(sum((host(p.grad) ** 2).sum() for p in model.parameters())) == \
        pytest.approx(0.1, rel=1e-4)
    assert all(p.grad.grad_fn is None for p in model.parameters())


def test_clip_grad_value(rng):
    params = _params_with_grads(rng, scale=2.0)
    before = _flat_grads(params)
    assert utils.clip_grad_value_(params, 1.5) is None
    np.testing.assert_array_equal(_flat_grads(params), np.clip(before, -1.5, 1.5))


def test_parameters_to_vector_and_back():
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2, bias=False))
    vec = utils.parameters_to_vector(model.parameters())
    expected = np.concatenate([host(p).reshape(-1) for p in model.parameters()])
    assert vec.shape == (3 * 4 + 4 + 4 * 2,)
    np.testing.assert_array_equal(host(vec), expected)
    vec.sum().backward()                                   # differentiable wrt each parameter
    assert all((host(p.grad) == 1).all() for p in model.parameters())
    new = tg.arange(vec.numel(), dtype=tg.float32)
    utils.vector_to_parameters(new, model.parameters())
    np.testing.assert_array_equal(host(utils.parameters_to_vector(model.parameters())),
                                  host(new))
    assert model[1].weight.shape == (2, 4) and host(model[1].weight)[0, 0] == 16
    with pytest.raises(RuntimeError, match="24 elements"):
        utils.vector_to_parameters(tg.zeros(5), model.parameters())
    with pytest.raises(TypeError, match="expected a Tensor"):
        utils.vector_to_parameters(np.zeros(24), model.parameters())
