"""nn.utils.prune: masks, amounts, composition, state_dict keys, gradients, remove."""

import numpy as np
import pytest

import tinygen as tg
from tinygen import nn
from tinygen.nn.utils import prune

W = np.array([[0.5, -0.1, 0.3, -0.2], [0.1, 0.9, -0.05, 0.7], [-0.4, 0.2, 0.6, -0.8]])


def _linear():
    m = nn.Linear(4, 3).double()
    with tg.no_grad():
        m.weight.copy_(tg.tensor(W))
    return m


@pytest.mark.parametrize("amount, count", [(3, 3), (0.5, 6), (0, 0), (1.0, 12)])
def test_l1_unstructured_prunes_smallest(amount, count):
    m = prune.l1_unstructured(_linear(), "weight", amount=amount)
    mask = m.weight_mask.numpy()
    assert (mask == 0).sum() == count
    pruned = np.sort(np.abs(W).ravel())[:count]
    assert set(np.abs(W[mask == 0]).tolist()) == set(pruned.tolist())
    np.testing.assert_allclose(m.weight.detach().numpy(), W * mask)


def test_state_dict_hook_gradient_and_remove():
    m = prune.l1_unstructured(_linear(), "weight", amount=4)
    assert list(m.state_dict()) == ["bias", "weight_orig", "weight_mask"]
    assert isinstance(m.weight_orig, nn.Parameter) and prune.is_pruned(m)
    with tg.no_grad():
        m.weight_orig.add_(1.0)
    m(tg.tensor(np.ones((2, 4)))).sum().backward()       # the pre-hook recomputes weight
    mask = m.weight_mask.numpy()
    np.testing.assert_allclose(m.weight.detach().numpy(), (W + 1) * mask)
    np.testing.assert_allclose(m.weight_orig.grad.numpy(), 2 * mask)
    prune.remove(m, "weight")
    assert list(m.state_dict()) == ["bias", "weight"] and not prune.is_pruned(m)
    assert isinstance(m.weight, nn.Parameter)
    with pytest.raises(ValueError, match="has to be pruned"):
        prune.remove(m, "weight")


def test_pruning_twice_composes_and_structured():
    m = prune.l1_unstructured(_linear(), "weight", amount=2)
    prune.ln_structured(m, "weight", amount=1, n=1, dim=0)
    hooks = [h.fn for h in m._module_hooks.values()]
    assert len(hooks) == 1 and isinstance(hooks[0], prune.PruningContainer)
    mask = m.weight_mask.numpy()
    # first: |w| 0.05, 0.1 pruned (tie: the first 0.1); then the row of smallest L1 norm
    # (row 0: 1.0) goes
    expected = np.ones((3, 4))
    expected[1, 2] = expected[0, 1] = 0
    expected[0] = 0
    np.testing.assert_array_equal(mask, expected)
    prune.l1_unstructured(m, "weight", amount=1)          # among the 7 kept: |w|=0.1 at [1,0]
    assert m.weight_mask.numpy()[1, 0] == 0 and (m.weight_mask.numpy() == 0).sum() == 6


def test_random_custom_global_and_errors():
    tg.manual_seed(0)
    m = prune.random_unstructured(_linear(), "weight", amount=5)
    assert (m.weight_mask.numpy() == 0).sum() == 5
    m = prune.random_structured(_linear(), "weight", amount=2, dim=1)
    assert (m.weight_mask.numpy().sum(0) == 0).sum() == 2
    mask = tg.tensor((np.arange(12).reshape(3, 4) % 2).astype(np.float64))
    m = prune.custom_from_mask(_linear(), "weight", mask)
    np.testing.assert_array_equal(m.weight_mask.numpy(), mask.numpy())
    a, b = _linear(), nn.Linear(2, 2).double()
    with tg.no_grad():
        b.weight.copy_(tg.tensor([[0.01, 2.0], [3.0, 0.02]]))
    prune.global_unstructured([(a, "weight"), (b, "weight")], prune.L1Unstructured, amount=3)
    assert (b.weight_mask.numpy() == 0).sum() == 2 and a.weight_mask.numpy()[1, 2] == 0
    m = prune.identity(_linear(), "bias")
    assert m.bias_mask.numpy().all()
    with pytest.raises(ValueError, match="should either be a float"):
        prune.l1_unstructured(_linear(), "weight", amount=1.5)
    with pytest.raises(ValueError, match="should be smaller than"):
        prune.l1_unstructured(_linear(), "weight", amount=13)
    with pytest.raises(TypeError, match="Invalid type for amount"):
        prune.L1Unstructured("x")
    with pytest.raises(ValueError, match="multidimensional"):
        prune.ln_structured(_linear(), "bias", amount=1, n=2, dim=0)


def test_against_torch():
    torch = pytest.importorskip("torch")
    torch_prune = pytest.importorskip("torch.nn.utils.prune")
    w = np.array([[0.3, -0.35, 0.11, 0.12], [0.2, -0.25, 0.5, 0.9], [0.13, 0.7, -0.1, 0.4]])
    ours, theirs = nn.Linear(4, 3).double(), torch.nn.Linear(4, 3).double()
    with tg.no_grad():
        ours.weight.copy_(tg.tensor(w))
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(w))
    for mod, lib in ((ours, prune), (theirs, torch_prune)):
        lib.l1_unstructured(mod, "weight", amount=0.25)
        lib.ln_structured(mod, "weight", amount=1, n=2, dim=1)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_array_equal(ours.weight_mask.numpy(), theirs.weight_mask.numpy())


def test_ties_at_the_cut_keep_the_lower_index():
    w = tg.tensor([[0.3, 0.1, 0.1, 0.1]])
    m = prune.l1_unstructured(nn.Linear(4, 1), "weight", amount=0)
    m.weight_orig.data = w
    prune.remove(m, "weight")
    prune.l1_unstructured(m, "weight", amount=2)
    np.testing.assert_array_equal(m.weight_mask.numpy(), [[1, 0, 0, 1]])
