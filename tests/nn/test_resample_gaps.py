"""interpolate(antialias=True) for 'bilinear' and 'bicubic', recompute_scale_factor, and
nn.CrossMapLRN2d: values against dense NumPy references and closed forms, against PyTorch when
it is installed (values and gradients), float64 first and second derivatives, and errors.
(grid_sample's bicubic and 5-D modes and 5-D affine_grid are in test_resample_gaps_grid.py.)"""

import itertools

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host, leaf64
from tinygen import nn
from tinygen.autograd import gradcheck, gradgradcheck

AA_SIZES = [(4, 3), (3, 2), (1, 1), (11, 9), (6, 2)]          # from a 7 x 5 image


def aa_filter(x, mode):
    """PIL's filters: the triangle, or Keys' cubic kernel with A = -0.5 (written piecewise)."""
    x = abs(x)
    if mode == "bilinear":
        return max(1 - x, 0.0)
    A = -0.5
    if x < 1:
        return (A + 2) * x ** 3 - (A + 3) * x ** 2 + 1
    if x < 2:
        return A * x ** 3 - 5 * A * x ** 2 + 8 * A * x - 4 * A
    return 0.0


def aa_weights(n_in, n_out, mode, align_corners, ratio=None):
    """Dense (n_out, n_in) weights: input j weighs filter((j + 1/2 - centre) / max(r, 1)) for
    the centre r (i + 1/2) of output i, normalized over j (r = in/out, or (in-1)/(out-1) with
    align_corners, as PyTorch)."""
    if ratio is None:
        if align_corners:
            ratio = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        else:
            ratio = n_in / n_out
    w = np.array([[aa_filter((j + 0.5 - ratio * (i + 0.5)) / max(ratio, 1.0), mode)
                   for j in range(n_in)] for i in range(n_out)])
    return w / w.sum(axis=1, keepdims=True)


def aa_reference(x, out_h, out_w, mode, align_corners):
    wh = aa_weights(x.shape[2], out_h, mode, align_corners)
    ww = aa_weights(x.shape[3], out_w, mode, align_corners)
    return np.einsum("ip,jq,ncpq->ncij", wh, ww, x)


@pytest.mark.parametrize("mode, align_corners",
                         list(itertools.product(["bilinear", "bicubic"], [False, True])))
def test_antialias_matches_dense_reference(mode, align_corners, device, rng):
    x = rng.standard_normal((2, 2, 7, 5))
    for size in AA_SIZES + [(3, 1)]:
        out = F.interpolate(tg.tensor(x, device=device), size=size, mode=mode,
                            align_corners=align_corners, antialias=True)
        np.testing.assert_allclose(host(out), aa_reference(x, *size, mode, align_corners),
                                   atol=1e-12, err_msg=str(size))


def test_antialias_bilinear_closed_form():
    """Halving 4 pixels: the triangle stretched to half-width 2 around centres 1 and 3 gives
    weights (3, 3, 1, 0) / 7 and (0, 1, 3, 3) / 7."""
    x = np.array([1.0, 2.0, 4.0, 8.0])
    out = F.interpolate(tg.tensor(x.reshape(1, 1, 1, 4)), size=(1, 2), mode="bilinear",
                        antialias=True)
    expected = [(3 * 1 + 3 * 2 + 1 * 4) / 7, (1 * 2 + 3 * 4 + 3 * 8) / 7]
    np.testing.assert_allclose(host(out).ravel(), expected, atol=1e-14)
    plain = F.interpolate(tg.tensor(x.reshape(1, 1, 1, 4)), size=(1, 2), mode="bilinear")
    np.testing.assert_allclose(host(plain).ravel(), [1.5, 6.0])      # no averaging without it


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_antialias_keeps_constants_and_float32(mode, rng):
    const = F.interpolate(tg.full((1, 2, 9, 6), 3.5), size=(4, 5), mode=mode, antialias=True)
    assert const.dtype == tg.float32
    np.testing.assert_allclose(host(const), 3.5, rtol=1e-6)


@pytest.mark.parametrize("mode, align_corners",
                         list(itertools.product(["bilinear", "bicubic"], [False, True])))
def test_antialias_against_torch(mode, align_corners, rng):
    """Not compared: an output width of 1 with a changed height (size (3, 1) from 7 x 5), where
    PyTorch 2.13's CPU kernel repeats the first row in every row; the dense test covers it."""
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 2, 7, 5))
    calls = [dict(size=s) for s in AA_SIZES] + [dict(scale_factor=0.45),
                                                 dict(scale_factor=(0.5, 1.7))]
    for kw in calls:
        ours, theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y = F.interpolate(ours, mode=mode, align_corners=align_corners, antialias=True, **kw)
        ty = torch.nn.functional.interpolate(theirs, mode=mode, align_corners=align_corners,
                                             antialias=True, **kw)
        np.testing.assert_allclose(host(y), ty.detach().numpy(), atol=1e-12, err_msg=str(kw))
        g = rng.standard_normal(y.shape)
        y.backward(tg.tensor(g))
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(host(ours.grad), theirs.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_antialias_gradcheck(mode, rng):
    x = leaf64(rng, 1, 2, 5, 4)
    def fn(a):
        return F.interpolate(a, size=(2, 3), mode=mode, antialias=True)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_recompute_scale_factor_uses_the_integer_size(rng):
    """5 * 0.45 -> 2 outputs: the given scale reads at 1/0.45 pixels a step, the recomputed one
    at 5/2 (PyTorch's recompute_scale_factor=True)."""
    x = rng.standard_normal((1, 1, 5, 5))
    kw = dict(scale_factor=0.45, mode="bilinear", antialias=True)
    given = host(F.interpolate(tg.tensor(x), **kw))
    recomputed = host(F.interpolate(tg.tensor(x), recompute_scale_factor=True, **kw))
    wg, wr = aa_weights(5, 2, "bilinear", False, 1 / 0.45), aa_weights(5, 2, "bilinear", False)
    np.testing.assert_allclose(given[0, 0], wg @ x[0, 0] @ wg.T, atol=1e-12)
    np.testing.assert_allclose(recomputed[0, 0], wr @ x[0, 0] @ wr.T, atol=1e-12)
    assert np.abs(given - recomputed).max() > 1e-3
    torch = pytest.importorskip("torch")
    for rsf in (None, True):
        ours = F.interpolate(tg.tensor(x), recompute_scale_factor=rsf, mode="bicubic",
                             scale_factor=0.45)
        theirs = torch.nn.functional.interpolate(torch.tensor(x), recompute_scale_factor=rsf,
                                                 mode="bicubic", scale_factor=0.45)
        np.testing.assert_allclose(host(ours), theirs.numpy(), atol=1e-12)


@pytest.mark.parametrize("shape, kwargs, match", [
    ((1, 1, 4), dict(size=2, mode="linear", antialias=True), "Anti-alias"),
    ((1, 1, 4, 4), dict(size=2, mode="nearest", antialias=True), "Anti-alias"),
    ((1, 1, 4, 4), dict(size=2, recompute_scale_factor=True), "explicit size"),
])
def test_antialias_and_recompute_errors(shape, kwargs, match):
    with pytest.raises(ValueError, match=match):
        F.interpolate(tg.randn(*shape), **kwargs)


def cross_map_lrn_np(x, size, alpha, beta, k):
    """PyTorch's CrossMapLRN2d forward replayed literally: a running sum over channels that adds
    channel c + pre_pad - 1 and removes channel c - pre_pad for c > pre_pad."""
    C = x.shape[1]
    sq = x ** 2
    pre_pad = int((size - 1) / 2 + 1)
    scale = np.zeros_like(x)
    scale[:, 0] = sq[:, :min(pre_pad, C)].sum(axis=1)
    for c in range(1, C):
        scale[:, c] = scale[:, c - 1]
        if c < C - pre_pad + 1:
            scale[:, c] += sq[:, c + pre_pad - 1]
        if c > pre_pad:
            scale[:, c] -= sq[:, c - pre_pad]
    return x * (scale * alpha / size + k) ** -beta


@pytest.mark.parametrize("channels, size", [(1, 3), (3, 3), (6, 3), (6, 4), (7, 5), (4, 1)])
def test_cross_map_lrn2d_values(channels, size, device, rng):
    x = rng.standard_normal((2, channels, 3, 2))
    layer = nn.CrossMapLRN2d(size, alpha=0.3, beta=0.8, k=1.5)
    out = layer(tg.tensor(x, device=device))
    np.testing.assert_allclose(host(out), cross_map_lrn_np(x, size, 0.3, 0.8, 1.5), atol=1e-13)
    torch = pytest.importorskip("torch")
    theirs = torch.nn.CrossMapLRN2d(size, alpha=0.3, beta=0.8, k=1.5)(torch.tensor(x))
    np.testing.assert_allclose(host(out), theirs.numpy(), atol=1e-13)


def test_cross_map_lrn2d_keeps_channel_zero_in_every_window(rng):
    """With 4 channels and size 3 the last channel sums channels {0, 2, 3} (PyTorch's running
    sum never drops channel 0), where LocalResponseNorm sums {2, 3}; with 2 channels the two
    agree."""
    x = rng.standard_normal((1, 4, 2, 2))
    out = host(nn.CrossMapLRN2d(3, alpha=0.6, beta=0.7, k=2.0)(tg.tensor(x)))
    expected = x[:, 3] * (2.0 + 0.6 / 3 * (x[:, 0] ** 2 + x[:, 2] ** 2 + x[:, 3] ** 2)) ** -0.7
    np.testing.assert_allclose(out[:, 3], expected, atol=1e-14)
    lrn = host(nn.LocalResponseNorm(3, alpha=0.6, beta=0.7, k=2.0)(tg.tensor(x)))
    assert np.abs(lrn[:, 3] - out[:, 3]).max() > 1e-3
    two = tg.tensor(x[:, :2])
    np.testing.assert_allclose(host(nn.CrossMapLRN2d(3, 0.6, 0.7, 2.0)(two)),
                               host(nn.LocalResponseNorm(3, 0.6, 0.7, 2.0)(two)), atol=1e-14)


def test_cross_map_lrn2d_gradcheck_repr_and_errors(rng):
    """Gradients are those of the forward; PyTorch's own backward for this layer is not (it
    fails torch.autograd.gradcheck), so it is not compared."""
    layer = nn.CrossMapLRN2d(3, alpha=0.5, beta=0.75, k=1.0)
    x = leaf64(rng, 1, 5, 2, 2)
    assert gradcheck(layer, (x,))
    assert gradgradcheck(layer, (x,))
    assert repr(layer) == "CrossMapLRN2d(3, alpha=0.5, beta=0.75, k=1.0)"
    assert repr(nn.CrossMapLRN2d(5)) == "CrossMapLRN2d(5, alpha=0.0001, beta=0.75, k=1)"
    with pytest.raises(ValueError, match="Expected input to be 4D, got 3D"):
        layer(tg.randn(2, 3, 4))
