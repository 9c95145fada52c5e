"""interpolate: nearest, nearest-exact, linear, bilinear and bicubic values against closed forms
and a nested-loop reference, gradients against finite differences, PyTorch's resize
coordinates (compared with PyTorch when it is installed), and the bad-input errors."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host, leaf64
from tinygen.autograd import gradcheck, gradgradcheck


def cubic_kernel(x, A=-0.75):
    """Keys' cubic convolution kernel W(x), written piecewise from the paper (eq. 15)."""
    x = abs(x)
    if x <= 1:
        return (A + 2) * x ** 3 - (A + 3) * x ** 2 + 1
    if x < 2:
        return A * x ** 3 - 5 * A * x ** 2 + 8 * A * x - 4 * A
    return 0.0


def bicubic_ref(x, out_h, out_w, align_corners):
    """PyTorch's bicubic resize one output pixel at a time: 4 x 4 taps around the source
    position, each read at its index clamped into the image (float64, size given)."""
    def taps(n_in, n_out, dst):
        if align_corners:
            src = dst * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        else:
            src = (dst + 0.5) * n_in / n_out - 0.5
        base = min(int(np.floor(src)), n_in - 1)
        t = min(max(src - base, 0.0), 1.0)
        return [(min(max(base + k, 0), n_in - 1), cubic_kernel(t - k)) for k in (-1, 0, 1, 2)]

    H, W = x.shape[-2:]
    out = np.zeros(x.shape[:-2] + (out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            for row, wy in taps(H, out_h, i):
                for col, wx in taps(W, out_w, j):
                    out[..., i, j] += wy * wx * x[..., row, col]
    return out


def test_interpolate_nearest_closed_forms(device, rng):
    x = leaf64(rng, 2, 3, 4, 5, device=device)
    up = F.interpolate(x, scale_factor=2)                  # each pixel becomes a 2x2 block
    np.testing.assert_array_equal(host(up), host(x).repeat(2, axis=2).repeat(2, axis=3))
    down = F.interpolate(x, size=(2, 5))                   # rows floor(dst * 4/2) = 0, 2
    np.testing.assert_array_equal(host(down), host(x)[:, :, [0, 2]])
    odd = F.interpolate(x, size=(4, 3))                    # cols floor(dst * 5/3) = 0, 1, 3
    np.testing.assert_array_equal(host(odd), host(x)[:, :, :, [0, 1, 3]])
    exact = F.interpolate(x, size=(4, 3), mode="nearest-exact")   # floor((dst+.5)*5/3)
    np.testing.assert_array_equal(host(exact), host(x)[:, :, :, [0, 2, 4]])


def test_interpolate_bilinear_closed_forms(device):
    # a ramp a*y + b*x is reproduced exactly at the new sample positions
    ys, xs = np.meshgrid(np.arange(4.0), np.arange(5.0), indexing="ij")
    x = tg.tensor((2 * ys + 3 * xs)[None, None], device=device)
    y = F.interpolate(x, size=(7, 9), mode="bilinear", align_corners=True)
    src_y, src_x = np.meshgrid(np.arange(7) * 3 / 6, np.arange(9) * 4 / 8, indexing="ij")
    np.testing.assert_allclose(host(y)[0, 0], 2 * src_y + 3 * src_x, rtol=1e-12)
    y = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    # pixel centres: src = (dst + 0.5) / 2 - 0.5, clamped to [0, n - 1]
    src_y = np.clip((np.arange(8) + 0.5) / 2 - 0.5, 0, 3)
    src_x = np.clip((np.arange(10) + 0.5) / 2 - 0.5, 0, 4)
    np.testing.assert_allclose(host(y)[0, 0], 2 * src_y[:, None] + 3 * src_x[None, :],
                               rtol=1e-12)


@pytest.mark.parametrize("size", [(9, 13), (3, 2), (1, 1), (5, 6), (12, 4)])
@pytest.mark.parametrize("align_corners", [False, True])
def test_interpolate_bicubic_matches_nested_loops(device, rng, size, align_corners):
    x = leaf64(rng, 2, 3, 5, 6, device=device)
    y = F.interpolate(x, size, mode="bicubic", align_corners=align_corners)
    np.testing.assert_allclose(host(y), bicubic_ref(host(x), *size, align_corners),
                               rtol=1e-12, atol=1e-12)


def test_interpolate_bicubic_closed_forms(device, rng):
    """The kernel sums to 1, so a constant stays constant (also where the border is clamped);
    it reproduces a linear ramp wherever the four taps lie inside the image; and source
    positions on the input grid (align_corners, (n - 1) divisible) read the input exactly."""
    flat = tg.full((1, 2, 4, 5), 3.0, dtype=tg.float64, device=device)
    for align_corners in (False, True):
        y = F.interpolate(flat, scale_factor=2.5, mode="bicubic", align_corners=align_corners)
        np.testing.assert_allclose(host(y), 3.0, rtol=1e-14)
    ys, xs = np.meshgrid(np.arange(7.0), np.arange(9.0), indexing="ij")
    ramp = tg.tensor((2 * ys - 3 * xs)[None, None], device=device)
    y = host(F.interpolate(ramp, size=(13, 17), mode="bicubic", align_corners=True))[0, 0]
    src_y, src_x = np.meshgrid(np.arange(13) / 2, np.arange(17) / 2, indexing="ij")
    inside = (src_y >= 1) & (src_y < 5) & (src_x >= 1) & (src_x < 7)   # taps floor-1 .. floor+2
    np.testing.assert_allclose(y[inside], (2 * src_y - 3 * src_x)[inside], rtol=1e-12)
    np.testing.assert_allclose(y[::2, ::2], host(ramp)[0, 0], rtol=1e-12)  # on the grid
    x = leaf64(rng, 1, 1, 7, 9, device=device)
    down = F.interpolate(x, size=(4, 5), mode="bicubic", align_corners=True)  # src = 2 * dst
    np.testing.assert_allclose(host(down), host(x)[..., ::2, ::2], rtol=1e-12)
    assert (host(F.interpolate(x, size=(7, 9), mode="bicubic")) == host(x)).all()


@pytest.mark.parametrize("mode, align_corners",
                         [("nearest", None), ("bilinear", False), ("bilinear", True),
                          ("bicubic", False), ("bicubic", True)])
def test_interpolate_gradcheck(device, rng, mode, align_corners):
    x = leaf64(rng, 1, 2, 4, 5, device=device)
    assert gradcheck(lambda x: F.interpolate(x, (7, 3), None, mode, align_corners), (x,))
    assert gradgradcheck(lambda x: F.interpolate(x, None, 1.5, mode, align_corners) ** 2, (x,))


INTERPOLATE_CASES = [(size, scale) for size, scale in [
    ((14, 5), None), ((3, 11), None), ((1, 1), None), (None, 2), (None, (1.7, 0.6)),
    (None, 1.5), (None, 0.3), (None, 3.3)]]


@pytest.mark.parametrize("mode, align_corners", [("nearest", None), ("nearest-exact", None),
                                                 ("bilinear", False), ("bilinear", True),
                                                 ("bicubic", False), ("bicubic", True)])
@pytest.mark.parametrize("size, scale_factor", INTERPOLATE_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_interpolate_matches_torch(rng, mode, align_corners, size, scale_factor, dtype):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 7, 8)).astype(dtype)
    y = F.interpolate(tg.tensor(x), size, scale_factor, mode, align_corners)
    expected = torch.nn.functional.interpolate(torch.tensor(x), size, scale_factor, mode,
                                               align_corners)
    assert y.shape == tuple(expected.shape) and y.dtype == x.dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(host(y), expected.cpu().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("mode, align_corners",
                         [("nearest", None), ("linear", False), ("linear", True)])
def test_interpolate_1d_matches_torch(rng, mode, align_corners):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 9))
    for size, scale in [(None, 1.6), (4, None)]:
        y = F.interpolate(tg.tensor(x), size, scale, mode, align_corners)
        expected = torch.nn.functional.interpolate(torch.tensor(x), size, scale, mode,
                                                   align_corners)
        np.testing.assert_allclose(host(y), expected.cpu().numpy(), rtol=1e-12, atol=1e-12)


INTERPOLATE_ERRORS = [
    ((1, 1, 4, 4), dict(), "exactly one of size or scale_factor"),
    ((1, 1, 4, 4), dict(size=2, scale_factor=2), "exactly one of size or scale_factor"),
    ((1, 1, 4, 4), dict(size=2, mode="lanczos"), "unsupported mode"),
    ((1, 1, 4), dict(size=2, mode="bicubic"), "needs 4D input"),
    ((1, 1, 4, 4), dict(size=2, align_corners=True), "align_corners option can only be set"),
    ((1, 1, 4), dict(size=2, mode="bilinear"), "needs 4D input"),
    ((1, 1, 4, 4), dict(size=2, mode="linear"), "needs 3D input"),
    ((1, 1, 4, 4), dict(size=(2, 2, 2)), "must have 2 entries"),
    ((1, 1, 4, 4), dict(scale_factor=0.1), "must be positive"),
]


@pytest.mark.parametrize("shape, kwargs, match", INTERPOLATE_ERRORS)
def test_interpolate_errors(shape, kwargs, match):
    with pytest.raises(ValueError, match=match):
        F.interpolate(tg.randn(*shape), **kwargs)


def test_interpolate_takes_pytorch_antialias_keyword():
    x = tg.randn(1, 1, 4, 4)
    np.testing.assert_array_equal(host(F.interpolate(x, size=2, mode="bilinear", antialias=False)),
                                  host(F.interpolate(x, size=2, mode="bilinear")))
    with pytest.raises(ValueError, match="Anti-alias option is restricted"):
        F.interpolate(x, size=2, mode="nearest", antialias=True)


@pytest.mark.parametrize("align_corners", [False, True])
def test_interpolate_bicubic_gradient_matches_torch(rng, align_corners):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 5, 6))
    grads = []
    for lib in (tg, torch):
        leaf = lib.tensor(x, requires_grad=True)
        y = lib.nn.functional.interpolate(leaf, None, (2.6, 0.7), "bicubic", align_corners)
        y.backward(lib.tensor(np.linspace(-1, 1, y.numel()).reshape(y.shape)))
        grads.append(host(leaf.grad))
    np.testing.assert_allclose(*grads, rtol=1e-12, atol=1e-12)


def test_bilinear_uint8_and_float16_blend_in_float32():
    # the blend weights were built in the input's dtype: all 0 for uint8
    x = np.array([[[[0, 10], [20, 30]]]], dtype=np.uint8)
    y = F.interpolate(tg.tensor(x), size=(3, 3), mode="bilinear", align_corners=True)
    assert y.dtype == tg.uint8
    np.testing.assert_array_equal(host(y)[0, 0], [[0, 5, 10], [10, 15, 20], [20, 25, 30]])
    half = x.astype(np.float16) / 7
    h = F.interpolate(tg.tensor(half), size=(3, 3), mode="bilinear", align_corners=True)
    want = F.interpolate(tg.tensor(half.astype(np.float32)), size=(3, 3), mode="bilinear",
                         align_corners=True)
    assert h.dtype == tg.float16
    np.testing.assert_array_equal(host(h), host(want).astype(np.float16))
