"""grid_sample with mode='bicubic' and with 5-D input (trilinear and nearest), and affine_grid
for 5-D sizes: NumPy loop references, every padding_mode x align_corners against PyTorch (values
and gradients w.r.t. input and grid), float64 first and second derivatives, and errors."""

import itertools

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import check_functional_against_torch, host, leaf64
from tinygen.autograd import gradcheck, gradgradcheck

PADDINGS = list(itertools.product(["zeros", "border", "reflection"], [False, True]))


def keys_cubic(x, A=-0.75):
    """Keys' cubic convolution kernel W(x), piecewise as in the paper (eq. 15)."""
    x = abs(x)
    if x <= 1:
        return (A + 2) * x ** 3 - (A + 3) * x ** 2 + 1
    if x < 2:
        return A * x ** 3 - 5 * A * x ** 2 + 8 * A * x - 4 * A
    return 0.0


def unnormalize(g, n, align_corners):
    return (g + 1) / 2 * (n - 1) if align_corners else ((g + 1) * n - 1) / 2


def padded_tap(i, n, padding_mode, align_corners):
    """Where an integer tap i reads, or None for a zero: clamped ('border'), or mirrored with
    period 2 (n - 1) about the corner centres / 2 n about the outer edges ('reflection')."""
    if padding_mode == "zeros":
        return i if 0 <= i < n else None
    if padding_mode == "reflection":
        if align_corners:
            period = 2 * (n - 1)
            i = abs(i) % period if period else 0
            i = period - i if i > n - 1 else i
        else:
            u = abs(i + 0.5) % (2 * n)
            i = int((2 * n - u if u > n else u) - 0.5)
    return min(max(i, 0), n - 1)


def bicubic_np(x, grid, padding_mode, align_corners):
    """grid_sample(mode='bicubic') by loops: 4 x 4 taps around floor(point), weighted by
    W(distance) per axis, each tap read through the padding rule."""
    N, C, H, W = x.shape
    out = np.zeros((N, C) + grid.shape[1:3])
    for n, i, j in itertools.product(range(N), range(grid.shape[1]), range(grid.shape[2])):
        px = unnormalize(grid[n, i, j, 0], W, align_corners)
        py = unnormalize(grid[n, i, j, 1], H, align_corners)
        x0, y0 = int(np.floor(px)), int(np.floor(py))
        for ty, tx in itertools.product(range(y0 - 1, y0 + 3), range(x0 - 1, x0 + 3)):
            yy = padded_tap(ty, H, padding_mode, align_corners)
            xx = padded_tap(tx, W, padding_mode, align_corners)
            if yy is not None and xx is not None:
                weight = keys_cubic(px - tx) * keys_cubic(py - ty)
                out[n, :, i, j] += weight * x[n, :, yy, xx]
    return out


def trilinear_zeros_np(x, grid, align_corners):
    """5-D grid_sample(mode='bilinear', padding_mode='zeros') by loops over the 8 corners."""
    N, C, D, H, W = x.shape
    out = np.zeros((N, C) + grid.shape[1:4])
    for n, a, b, c in itertools.product(*(range(s) for s in (N,) + grid.shape[1:4])):
        p = [unnormalize(g, size, align_corners) for g, size in zip(grid[n, a, b, c], (W, H, D))]
        low = [int(np.floor(v)) for v in p]
        for corner in itertools.product((0, 1), repeat=3):
            xx, yy, zz = (lo + bit for lo, bit in zip(low, corner))
            if 0 <= xx < W and 0 <= yy < H and 0 <= zz < D:
                weight = np.prod([1 - abs(v - k) for v, k in zip(p, (xx, yy, zz))])
                out[n, :, a, b, c] += weight * x[n, :, zz, yy, xx]
    return out


def grid2(rng):
    return rng.uniform(-1.5, 1.5, (2, 3, 3, 2))             # many points outside [-1, 1]


def grid3(rng):
    return rng.uniform(-1.4, 1.4, (2, 2, 3, 2, 3))


@pytest.mark.parametrize("padding_mode, align_corners", PADDINGS)
def test_bicubic_matches_loop_reference(padding_mode, align_corners, device, rng):
    x, grid = rng.standard_normal((2, 2, 4, 5)), grid2(rng)
    out = F.grid_sample(tg.tensor(x, device=device), tg.tensor(grid, device=device), "bicubic",
                        padding_mode, align_corners)
    np.testing.assert_allclose(host(out), bicubic_np(x, grid, padding_mode, align_corners),
                               atol=1e-12)


def test_bicubic_is_exact_on_pixel_centres(rng):
    """At pixel centres Keys' weights are (0, 1, 0, 0): the pixels come back unchanged."""
    x = rng.standard_normal((1, 2, 3, 4))
    theta = tg.tensor(np.array([[[1.0, 0, 0], [0, 1, 0]]]))
    for align_corners in (False, True):
        grid = F.affine_grid(theta, (1, 2, 3, 4), align_corners=align_corners)
        out = F.grid_sample(tg.tensor(x), grid, "bicubic", "zeros", align_corners)
        np.testing.assert_allclose(host(out), x, atol=1e-12)


def test_trilinear_matches_loop_reference(device, rng):
    x, grid = rng.standard_normal((2, 2, 3, 4, 5)), grid3(rng)
    for align_corners in (False, True):
        out = F.grid_sample(tg.tensor(x, device=device), tg.tensor(grid, device=device),
                            align_corners=align_corners)
        np.testing.assert_allclose(host(out), trilinear_zeros_np(x, grid, align_corners),
                                   atol=1e-12)


def test_5d_identity_affine_grid_reproduces_input(rng):
    x = rng.standard_normal((2, 2, 3, 4, 5))
    theta = tg.tensor(np.tile(np.eye(3, 4), (2, 1, 1)))
    for mode, align_corners in itertools.product(["bilinear", "nearest"], [False, True]):
        grid = F.affine_grid(theta, (2, 2, 3, 4, 5), align_corners=align_corners)
        assert grid.shape == (2, 3, 4, 5, 3)
        out = F.grid_sample(tg.tensor(x), grid, mode, align_corners=align_corners)
        np.testing.assert_allclose(host(out), x, atol=1e-12)


@pytest.mark.parametrize("padding_mode, align_corners", PADDINGS)
def test_bicubic_against_torch(padding_mode, align_corners, rng):
    torch = pytest.importorskip("torch")
    check_functional_against_torch(torch, rng, "grid_sample",
                                   [rng.standard_normal((2, 2, 4, 5)), grid2(rng)],
                                   mode="bicubic", padding_mode=padding_mode,
                                   align_corners=align_corners)


@pytest.mark.parametrize("padding_mode, align_corners", PADDINGS)
def test_5d_against_torch(padding_mode, align_corners, rng):
    torch = pytest.importorskip("torch")
    x, grid = rng.standard_normal((2, 2, 3, 4, 3)), grid3(rng)
    kwargs = dict(padding_mode=padding_mode, align_corners=align_corners)
    check_functional_against_torch(torch, rng, "grid_sample", [x, grid], mode="bilinear",
                                   **kwargs)
    ours, theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = F.grid_sample(ours, tg.tensor(grid), mode="nearest", **kwargs)
    expected = torch.nn.functional.grid_sample(theirs, torch.tensor(grid), mode="nearest",
                                               **kwargs)
    np.testing.assert_array_equal(host(out), expected.detach().numpy())
    g = rng.standard_normal(out.shape)
    out.backward(tg.tensor(g))
    expected.backward(torch.tensor(g))
    np.testing.assert_allclose(host(ours.grad), theirs.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("align_corners", [False, True])
def test_5d_affine_grid_against_torch(align_corners, rng):
    torch = pytest.importorskip("torch")
    theta = rng.standard_normal((2, 3, 4))
    ours = F.affine_grid(tg.tensor(theta), (2, 3, 2, 4, 5), align_corners=align_corners)
    theirs = torch.nn.functional.affine_grid(torch.tensor(theta), (2, 3, 2, 4, 5),
                                             align_corners=align_corners)
    np.testing.assert_allclose(host(ours), theirs.numpy(), atol=1e-12)


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_bicubic_gradcheck(padding_mode, rng):
    x = leaf64(rng, 1, 2, 3, 4)
    grid = tg.tensor(rng.uniform(-1.3, 1.3, (1, 2, 2, 2)), requires_grad=True)
    def fn(a, g):
        return F.grid_sample(a, g, "bicubic", padding_mode, align_corners=False)
    assert gradcheck(fn, (x, grid))
    assert gradgradcheck(fn, (x, grid))


@pytest.mark.parametrize("padding_mode", ["zeros", "reflection"])
def test_5d_gradcheck_through_affine_grid(padding_mode, rng):
    x = leaf64(rng, 1, 2, 2, 3, 3)
    theta = tg.tensor(np.eye(3, 4)[None] + rng.uniform(-0.2, 0.2, (1, 3, 4)),
                      requires_grad=True)
    def fn(a, t):
        grid = F.affine_grid(t, (1, 2, 2, 2, 3), align_corners=False)
        return F.grid_sample(a, grid, padding_mode=padding_mode, align_corners=False)
    assert gradcheck(fn, (x, theta))
    assert gradgradcheck(fn, (x, theta))


def test_errors():
    with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4D"):
        F.grid_sample(tg.zeros(1, 1, 2, 2, 2), tg.zeros(1, 1, 1, 1, 3), mode="bicubic")
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        F.grid_sample(tg.zeros(1, 1, 2, 2), tg.zeros(1, 1, 1, 1, 2))
    with pytest.raises(RuntimeError, match="size 3 in last dimension"):
        F.grid_sample(tg.zeros(1, 1, 2, 2, 2), tg.zeros(1, 1, 1, 1, 2))
    with pytest.raises(ValueError, match="Nx3x4"):
        F.affine_grid(tg.zeros(1, 2, 3), (1, 1, 2, 2, 2))
    with pytest.raises(NotImplementedError, match="4D and 5D sizes"):
        F.affine_grid(tg.zeros(1, 3, 4), (1, 1, 2, 2, 2, 2))
