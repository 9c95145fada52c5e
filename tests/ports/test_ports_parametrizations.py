"""PyTorch's parametrizations tutorial, ported by changing the imports (see
``scripts_parametrizations.py``). The tutorial's own claims are checked under tinygen and, where
PyTorch is importable, under PyTorch too (random draws differ, so values are not compared across
frameworks; the printed module reprs are).
"""

import numpy as np
import pytest

import tinygen
import tinygen.nn
import tinygen.nn.utils.parametrize

from tests.ports import scripts_parametrizations as S

LIBS = ["torch", "tinygen"]


def modules(name):
    if name == "torch":
        torch = pytest.importorskip("torch")
        import torch.nn.utils.parametrize
        return torch, torch.nn, torch.nn.utils.parametrize
    return tinygen, tinygen.nn, tinygen.nn.utils.parametrize


def npy(t):
    return np.asarray(t.detach().numpy())


PARAMETRIZED = """ParametrizedLinear(
  in_features=3, out_features=3, bias=True
  (parametrizations): ModuleDict(
    (weight): ParametrizationList(
      (0): Symmetric()
    )
  )
)"""


@pytest.mark.parametrize("library", LIBS)
def test_parametrizations_tutorial(library):
    torch, nn, parametrize = modules(library)
    torch.manual_seed(0)
    out = S.parametrizations(torch, nn, parametrize)
    X, A = map(npy, out["A_by_hand"])
    np.testing.assert_array_equal(A, np.triu(X) + np.triu(X, 1).T)
    assert tuple(out["linear_symmetric"][1].shape) == (8, 3)

    layer = out["symmetric_layer"]
    layer.weight.sum().backward()          # d/dO of sum(triu(O) + triu(O, 1).T)
    np.testing.assert_array_equal(npy(layer.parametrizations.weight.original.grad),
                                  np.triu(np.ones((3, 3))) + np.triu(np.ones((3, 3)), 1))
    for k in out["kernels"]:
        np.testing.assert_array_equal(npy(k), -npy(k).T)
        assert np.all(np.diag(npy(k)) == 0) and np.any(npy(k) != 0)

    unparam, param, pdict, plist, p0 = out["reprs"]
    assert unparam == "Unparametrized:\nLinear(in_features=3, out_features=3, bias=True)"
    assert param == "\nParametrized:\n" + PARAMETRIZED
    assert pdict == ("ModuleDict(\n  (weight): ParametrizationList(\n    (0): Symmetric()\n"
                     "  )\n)")
    assert plist == "ParametrizationList(\n  (0): Symmetric()\n)" and p0 == "Symmetric()"
    assert list(out["named_parameters"]) == ["bias", "parametrizations.weight.original"]
    assert out["dist_symmetric"].item() == 0

    uncached, cached, foo, bar = out["calls"]
    assert (uncached, cached) == (4, 1)                # each layer.weight recomputes, but once
    np.testing.assert_allclose(npy(foo).sum(), 2 * bar.item(), rtol=1e-5)

    assert out["cayley"][1].item() < 1e-5 and out["expm_orthogonal"][1].item() < 1e-5
    spd, dist, positive = out["spd"]
    assert dist.item() < 1e-6 and bool(positive)
    assert np.all(np.linalg.eigvalsh(npy(spd)) > 0)

    layer, X, dist = out["skew_init"]
    assert dist.item() < 1e-6
    np.testing.assert_array_equal(npy(layer.parametrizations.weight.original), np.triu(npy(X), 1))

    # Upstream's CayleyMap.right_inverse has the sign flipped ((I - A)(I + A)^-1 is the inverse
    # of (I + X)(I - X)^-1 up to sign), so the layer gets X^-1 = X.T, not X: in PyTorch too.
    X, dist, layer = out["cayley_init"]
    np.testing.assert_allclose(dist.item(), np.linalg.norm(npy(X) - npy(X).T), rtol=1e-4)
    W = npy(layer.weight)
    np.testing.assert_allclose(W.T @ W, np.eye(3), atol=1e-5)

    X, mask, W = map(npy, out["pruned"])
    assert set(np.unique(mask)) <= {0.0, 1.0}
    np.testing.assert_array_equal(W, X * mask)

    before, skew, layer = out["removed_True"]
    assert not parametrize.is_parametrized(layer) and type(layer) is nn.Linear
    assert isinstance(layer.weight, nn.Parameter)
    np.testing.assert_array_equal(npy(layer.weight), npy(skew))
    # "Same as Before" says upstream, but registering the right_inverse Skew already set the
    # original to triu(before, 1); PyTorch does the same.
    before, skew, layer = out["removed_False"]
    np.testing.assert_array_equal(npy(layer.weight), np.triu(npy(before), 1))
    np.testing.assert_array_equal(npy(skew), np.triu(npy(before), 1) - np.triu(npy(before), 1).T)


def test_pruning_mask_drops_about_p_drop_under_tinygen():
    tinygen.manual_seed(0)
    masks = [npy(S.parametrizations(tinygen, tinygen.nn, tinygen.nn.utils.parametrize)
                 ["pruned"][1]) for _ in range(3)]
    assert 0.05 < 1 - np.mean(masks) < 0.45


def test_cayley_parametrized_layer_trains_and_stays_orthogonal_under_tinygen():
    torch, nn, parametrize = modules("tinygen")
    torch.manual_seed(0)
    layer = S.parametrizations(torch, nn, parametrize)["cayley"][0].double()
    opt = tinygen.optim.SGD(layer.parameters(), lr=0.1)
    target = torch.tensor(np.linalg.qr(np.random.default_rng(0).standard_normal((3, 3)))[0])
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = ((layer.weight - target) ** 2).sum()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    W = npy(layer.weight)
    np.testing.assert_allclose(W.T @ W, np.eye(3), atol=1e-10)
    orig = layer.parametrizations.weight.original.detach().clone().requires_grad_(True)
    f = lambda o: layer.parametrizations.weight[1](layer.parametrizations.weight[0](o))
    assert tinygen.autograd.gradcheck(f, (orig,))
    assert tinygen.autograd.gradgradcheck(f, (orig,))
