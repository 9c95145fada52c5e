"""nn.utils.parametrizations.orthogonal: orthogonal after registration and after optimizer
steps, for every map, tall, wide, square and batched weights; right_inverse; PyTorch's values
for the same original parameter; gradcheck through each map."""

import numpy as np
import pytest

import tinygen as tg
from tinygen import nn, optim
from tinygen.nn.utils.parametrizations import orthogonal

MAPS = ["matrix_exp", "cayley", "householder"]
SHAPES = [(4, 4), (5, 3), (3, 5), (2, 3, 3)]


def start(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def holder(values, lib=tg):
    """A module with one float64 parameter ``weight`` holding ``values``."""
    module = (lib.nn.Module if lib is not tg else nn.Module)()
    module.weight = lib.nn.Parameter(lib.tensor(values, dtype=lib.float64))
    return module


def assert_orthogonal(W, atol=1e-10):
    W = np.asarray(W)
    if W.shape[-2] < W.shape[-1]:
        W = np.swapaxes(W, -1, -2)
    gram = np.swapaxes(W, -1, -2) @ W
    np.testing.assert_allclose(gram, np.broadcast_to(np.eye(W.shape[-1]), gram.shape), atol=atol)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("orthogonal_map", MAPS)
@pytest.mark.parametrize("trivialization", [True, False])
def test_orthogonal_after_registration_and_steps(shape, orthogonal_map, trivialization):
    module = orthogonal(holder(start(shape)), orthogonal_map=orthogonal_map,
                        use_trivialization=trivialization)
    assert_orthogonal(module.weight.detach().numpy())
    target = tg.tensor(start(shape, seed=1))
    opt = optim.SGD(module.parameters(), lr=0.1)
    before = module.weight.detach().numpy()
    for _ in range(3):
        opt.zero_grad()
        ((module.weight - target) ** 2).sum().backward()
        opt.step()
    after = module.weight.detach().numpy()
    assert_orthogonal(after)
    assert np.abs(after - before).max() > 1e-3             # the steps moved it


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("orthogonal_map", MAPS)
@pytest.mark.parametrize("trivialization", [True, False])
def test_matches_torch(shape, orthogonal_map, trivialization):
    torch = pytest.importorskip("torch")
    mine = orthogonal(holder(start(shape)), orthogonal_map=orthogonal_map,
                      use_trivialization=trivialization)
    theirs = torch.nn.utils.parametrizations.orthogonal(
        holder(start(shape), torch), orthogonal_map=orthogonal_map,
        use_trivialization=trivialization)
    np.testing.assert_allclose(mine.parametrizations.weight.original.detach().numpy(),
                               theirs.parametrizations.weight.original.detach().numpy(),
                               atol=1e-12)
    np.testing.assert_allclose(mine.weight.detach().numpy(), theirs.weight.detach().numpy(),
                               atol=1e-12)
    # the same SGD steps on the same loss (for the wide and tall shapes the completion of
    # the basis is random, so only the square ones follow one trajectory)
    if shape[-1] == shape[-2]:
        target = start(shape, seed=1)
        for module, lib in ((mine, tg), (theirs, torch)):
            opt = (optim if lib is tg else torch.optim).SGD(module.parameters(), lr=0.1)
            for _ in range(2):
                opt.zero_grad()
                ((module.weight - lib.tensor(target)) ** 2).sum().backward()
                opt.step()
        np.testing.assert_allclose(mine.weight.detach().numpy(),
                                   theirs.weight.detach().numpy(), atol=1e-10)


def test_default_map_and_linear():
    linear = orthogonal(nn.Linear(3, 5))
    assert linear.parametrizations.weight[0].orthogonal_map.name == "householder"
    assert_orthogonal(linear.weight.detach().numpy(), atol=1e-5)
    square = orthogonal(nn.Linear(4, 4))
    assert square.parametrizations.weight[0].orthogonal_map.name == "matrix_exp"
    assert tuple(square.state_dict()["parametrizations.weight.0.base"].shape) == (4, 4)


@pytest.mark.parametrize("orthogonal_map", MAPS)
def test_right_inverse(orthogonal_map):
    module = orthogonal(holder(start((4, 3))), orthogonal_map=orthogonal_map)
    Q = np.linalg.qr(start((4, 3), seed=2))[0]
    module.weight = tg.tensor(Q)                          # orthogonal: kept as it is
    np.testing.assert_allclose(module.weight.detach().numpy(), Q, atol=1e-12)
    np.testing.assert_allclose(module.parametrizations.weight.original.detach().numpy(),
                               -np.eye(4, 3))
    A = start((4, 3), seed=3)
    module.weight = tg.tensor(A)                          # not orthogonal: its QR's Q
    q, r = np.linalg.qr(A)
    np.testing.assert_allclose(module.weight.detach().numpy(), q * np.sign(np.diag(r)),
                               atol=1e-12)
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices of shape"):
        module.weight = tg.zeros(3, 4, dtype=tg.float64)


def test_right_inverse_without_trivialization():
    module = orthogonal(holder(start((3, 3))), orthogonal_map="cayley",
                        use_trivialization=False)
    with pytest.raises(NotImplementedError, match="use_trivialization=False"):
        module.weight = tg.eye(3, dtype=tg.float64)
    module = orthogonal(holder(start((4, 2))), orthogonal_map="householder",
                        use_trivialization=False)
    Q = np.linalg.qr(start((4, 2), seed=4))[0]
    module.weight = tg.tensor(Q)
    np.testing.assert_allclose(module.weight.detach().numpy(), Q, atol=1e-12)


@pytest.mark.parametrize("orthogonal_map", MAPS)
@pytest.mark.parametrize("shape", [(3, 3), (3, 2), (2, 3)])
def test_gradcheck_through_the_map(orthogonal_map, shape):
    module = orthogonal(holder(start(shape)), orthogonal_map=orthogonal_map)
    param = module.parametrizations.weight
    X = tg.tensor(start(shape, seed=5) * 0.3, requires_grad=True)
    assert tg.autograd.gradcheck(lambda X: param[0](X), (X,))
    if orthogonal_map != "matrix_exp":
        assert tg.autograd.gradgradcheck(lambda X: param[0](X), (X,))
    # and through module.weight, from the stored original
    original = param.original
    original.grad = None
    (module.weight * tg.tensor(start(shape, seed=6))).sum().backward()
    assert original.grad is not None and np.abs(original.grad.numpy()).max() > 0


def test_errors():
    with pytest.raises(ValueError, match="Got a tensor of 1 dimensions"):
        orthogonal(holder(start((3,))))
    with pytest.raises(ValueError, match='orthogonal_map has to be one of'):
        orthogonal(holder(start((3, 3))), orthogonal_map="qr")
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'bias'"):
        orthogonal(holder(start((3, 3))), "bias")
