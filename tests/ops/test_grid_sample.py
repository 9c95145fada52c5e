"""grid_sample and affine_grid: a NumPy loop reference, every mode x padding_mode x
align_corners against PyTorch (values and gradients, points outside [-1, 1]), float64 first and
second derivatives w.r.t. input, grid and theta, and bad-input errors."""

import itertools

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import check_functional_against_torch, host
from tinygen.autograd import gradcheck, gradgradcheck


def bilinear_zeros_np(x, grid, align_corners):
    """grid_sample(mode='bilinear', padding_mode='zeros') by loops."""
    N, C, H, W = x.shape
    out = np.zeros((N, C) + grid.shape[1:3])
    for n, i, j in itertools.product(range(N), range(grid.shape[1]), range(grid.shape[2])):
        gx, gy = grid[n, i, j]
        if align_corners:
            px, py = (gx + 1) / 2 * (W - 1), (gy + 1) / 2 * (H - 1)
        else:
            px, py = ((gx + 1) * W - 1) / 2, ((gy + 1) * H - 1) / 2
        x0, y0 = int(np.floor(px)), int(np.floor(py))
        for yy, xx in itertools.product((y0, y0 + 1), (x0, x0 + 1)):
            if 0 <= yy < H and 0 <= xx < W:
                weight = (1 - abs(px - xx)) * (1 - abs(py - yy))
                out[n, :, i, j] += weight * x[n, :, yy, xx]
    return out


def sample_grid(rng):
    """A 2 x 3 x 3 grid of (x, y) points, many outside [-1, 1]."""
    return rng.uniform(-1.5, 1.5, (2, 3, 3, 2))


@pytest.mark.parametrize("align_corners", [False, True])
def test_bilinear_matches_loop_reference(align_corners, device, rng):
    x, grid = rng.standard_normal((2, 2, 4, 5)), sample_grid(rng)
    out = F.grid_sample(tg.tensor(x, device=device), tg.tensor(grid, device=device),
                        align_corners=align_corners)
    np.testing.assert_allclose(host(out), bilinear_zeros_np(x, grid, align_corners), atol=1e-12)


def test_identity_affine_grid_reproduces_input(rng):
    x = rng.standard_normal((1, 2, 4, 5))
    theta = tg.tensor(np.array([[[1.0, 0, 0], [0, 1, 0]]]))
    for align_corners in (False, True):
        grid = F.affine_grid(theta, (1, 2, 4, 5), align_corners=align_corners)
        out = F.grid_sample(tg.tensor(x), grid, align_corners=align_corners)
        np.testing.assert_allclose(host(out), x, atol=1e-12)


@pytest.mark.parametrize("mode, padding_mode, align_corners", list(itertools.product(
    ["bilinear", "nearest"], ["zeros", "border", "reflection"], [False, True])))
def test_grid_sample_against_torch(mode, padding_mode, align_corners, rng):
    torch = pytest.importorskip("torch")
    x, grid = rng.standard_normal((2, 2, 4, 5)), sample_grid(rng)
    kwargs = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    if mode == "bilinear":       # values and the gradients w.r.t. input and grid
        check_functional_against_torch(torch, rng, "grid_sample", [x, grid], **kwargs)
        return
    ours = tg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out = F.grid_sample(ours, tg.tensor(grid), **kwargs)
    expected = torch.nn.functional.grid_sample(theirs, torch.tensor(grid), **kwargs)
    np.testing.assert_array_equal(host(out), expected.detach().numpy())
    g = rng.standard_normal(out.shape)
    out.backward(tg.tensor(g))
    expected.backward(torch.tensor(g))
    np.testing.assert_allclose(host(ours.grad), theirs.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_against_torch(align_corners, rng):
    torch = pytest.importorskip("torch")
    theta = rng.standard_normal((2, 2, 3))
    ours = F.affine_grid(tg.tensor(theta), (2, 3, 4, 5), align_corners=align_corners)
    theirs = torch.nn.functional.affine_grid(torch.tensor(theta), (2, 3, 4, 5),
                                             align_corners=align_corners)
    np.testing.assert_allclose(host(ours), theirs.numpy(), atol=1e-12)


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_gradcheck(padding_mode, rng):
    x = tg.tensor(rng.standard_normal((1, 2, 3, 4)), requires_grad=True)
    grid = tg.tensor(rng.uniform(-1.3, 1.3, (1, 2, 3, 2)), requires_grad=True)
    def fn(a, g):
        return F.grid_sample(a, g, padding_mode=padding_mode, align_corners=False)
    assert gradcheck(fn, (x, grid))
    assert gradgradcheck(fn, (x, grid))


def test_nearest_gradient_reaches_input_only(rng):
    x = tg.tensor(rng.standard_normal((1, 1, 3, 4)), requires_grad=True)
    grid = tg.tensor(rng.uniform(-0.9, 0.9, (1, 2, 2, 2)), requires_grad=True)
    assert gradcheck(lambda a: F.grid_sample(a, grid, mode="nearest"), (x,))
    F.grid_sample(x, grid, mode="nearest").sum().backward()
    assert grid.grad is None or not host(grid.grad).any()
    assert host(x.grad).sum() == 4


def test_affine_grid_then_sample_gradcheck_theta(rng):
    x = tg.tensor(rng.standard_normal((1, 1, 4, 4)))
    theta = tg.tensor(np.array([[[0.9, 0.1, 0.05], [-0.1, 0.8, 0.1]]]), requires_grad=True)
    def fn(t):
        return F.grid_sample(x, F.affine_grid(t, (1, 1, 3, 3), False), align_corners=False)
    assert gradcheck(fn, (theta,))
    assert gradgradcheck(lambda t: F.affine_grid(t, (1, 1, 2, 3), True) ** 2, (theta,))


def test_errors():
    x, grid = tg.zeros(1, 1, 3, 3), tg.zeros(1, 2, 2, 2)
    with pytest.raises(ValueError, match="mode"):
        F.grid_sample(x, grid, mode="cubic")
    with pytest.raises(ValueError, match="padding_mode"):
        F.grid_sample(x, grid, padding_mode="wrap")
    with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4D"):
        F.grid_sample(tg.zeros(1, 1, 2, 2, 2), tg.zeros(1, 1, 1, 1, 3), mode="bicubic")
    with pytest.raises(RuntimeError, match="same batch size"):
        F.grid_sample(x, tg.zeros(2, 2, 2, 2))
    with pytest.raises(RuntimeError, match="size 2 in last dimension"):
        F.grid_sample(x, tg.zeros(1, 2, 2, 3))
    with pytest.raises(RuntimeError, match="same dtype"):
        F.grid_sample(x, tg.zeros(1, 2, 2, 2, dtype=tg.float64))
    with pytest.raises(ValueError, match="Nx2x3"):
        F.affine_grid(tg.zeros(1, 3, 3), (1, 1, 3, 3))
    with pytest.raises(NotImplementedError, match="4D"):
        F.affine_grid(tg.zeros(1, 2, 3), (1, 1, 3))
