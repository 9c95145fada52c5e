"""3-D convolutions and the N-d im2col/col2im: nested-loop references, the adjoint identity,
float64 gradients (first and second order), PyTorch's values, and PyTorch's errors."""

import itertools

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host, leaf64
from tinygen import kernels
from tinygen.autograd import gradcheck, gradgradcheck
from tinygen.kernels.reference import col2im_nd, im2col_nd


def conv3d_reference(x, w, b, stride, padding, dilation, groups):
    """out[n, o, z, y, x] = b[o] + sum over the group's channels and the kernel, by loops."""
    N, C, D, H, W = x.shape
    OC, GC, kd, kh, kw = w.shape
    (sd, sh, sw), (pd, ph, pw), (dd, dh, dw) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (pd, pd), (ph, ph), (pw, pw)))
    size = [(m + 2 * p - d * (k - 1) - 1) // s + 1 for m, k, s, p, d in
            zip((D, H, W), (kd, kh, kw), stride, padding, dilation)]
    out = np.zeros((N, OC, *size))
    per_group = OC // groups
    for n, o, z, y, x_ in itertools.product(range(N), range(OC), *map(range, size)):
        g = o // per_group
        total = 0.0 if b is None else b[o]
        for c, i, j, k in itertools.product(range(GC), range(kd), range(kh), range(kw)):
            total += w[o, c, i, j, k] * xp[n, g * GC + c, z * sd + i * dd, y * sh + j * dh,
                                            x_ * sw + k * dw]
        out[n, o, z, y, x_] = total
    return out


def conv_transpose3d_reference(x, w, b, stride, padding, output_padding, dilation, groups):
    """Each input value scatters weight * value onto the (uncropped) output, by loops."""
    N, C, D, H, W = x.shape
    _, GO, kd, kh, kw = w.shape
    per_group = C // groups
    full = [(m - 1) * s + d * (k - 1) + 1 + q for m, k, s, d, q in
            zip((D, H, W), (kd, kh, kw), stride, dilation, output_padding)]
    out = np.zeros((N, GO * groups, *full))
    for n, c, z, y, x_ in itertools.product(range(N), range(C), range(D), range(H), range(W)):
        g = c // per_group
        for o, i, j, k in itertools.product(range(GO), range(kd), range(kh), range(kw)):
            out[n, g * GO + o, z * stride[0] + i * dilation[0], y * stride[1] + j * dilation[1],
                x_ * stride[2] + k * dilation[2]] += w[c, o, i, j, k] * x[n, c, z, y, x_]
    (pd, ph, pw) = padding
    out = out[:, :, pd:full[0] - pd, ph:full[1] - ph, pw:full[2] - pw]
    return out if b is None else out + b.reshape(1, -1, 1, 1, 1)


# (C, OC, groups, kernel, stride, padding, dilation)
CONV_CONFIGS = [
    (2, 2, 1, (2, 2, 2), (1, 1, 1), (0, 0, 0), (1, 1, 1)),
    (2, 4, 2, (2, 3, 2), (2, 1, 2), (1, 1, 0), (1, 1, 2)),
    (3, 3, 3, (3, 2, 2), (1, 2, 1), (1, 0, 1), (2, 1, 1)),
]


@pytest.mark.parametrize("C, OC, groups, kernel, stride, padding, dilation", CONV_CONFIGS)
def test_conv3d_matches_loops_and_gradchecks(rng, C, OC, groups, kernel, stride, padding,
                                             dilation):
    x = leaf64(rng, 2, C, 3, 4, 4)
    w = leaf64(rng, OC, C // groups, *kernel)
    b = leaf64(rng, OC)
    y = F.conv3d(x, w, b, stride, padding, dilation, groups)
    expected = conv3d_reference(host(x), host(w), host(b), stride, padding, dilation, groups)
    np.testing.assert_allclose(host(y), expected, rtol=1e-12, atol=1e-12)
    small = x[:1, :, :3]
    assert gradcheck(lambda x, w, b: F.conv3d(x, w, b, stride, padding, dilation, groups),
                     (small, w, b))


# (C, OC, groups, kernel, stride, padding, output_padding, dilation)
TRANSPOSE_CONFIGS = [
    (2, 2, 1, (2, 2, 2), (1, 1, 1), (0, 0, 0), (0, 0, 0), (1, 1, 1)),
    (2, 4, 2, (2, 3, 2), (2, 1, 2), (1, 1, 0), (1, 0, 1), (1, 1, 1)),
    (2, 2, 1, (2, 2, 1), (1, 2, 1), (0, 1, 0), (1, 1, 0), (2, 1, 1)),
]


@pytest.mark.parametrize("C, OC, groups, kernel, stride, padding, output_padding, dilation",
                         TRANSPOSE_CONFIGS)
def test_conv_transpose3d_matches_loops_and_gradchecks(rng, C, OC, groups, kernel, stride,
                                                       padding, output_padding, dilation):
    x = leaf64(rng, 2, C, 2, 3, 2)
    w = leaf64(rng, C, OC // groups, *kernel)
    b = leaf64(rng, OC)
    y = F.conv_transpose3d(x, w, b, stride, padding, output_padding, groups, dilation)
    expected = conv_transpose3d_reference(host(x), host(w), host(b), stride, padding,
                                          output_padding, dilation, groups)
    np.testing.assert_allclose(host(y), expected, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda x, w, b: F.conv_transpose3d(x, w, b, stride, padding,
                                                        output_padding, groups, dilation),
                     (x[:1], w, b))


def test_second_order_gradients(rng):
    x, w, b = leaf64(rng, 1, 2, 3, 3, 2), leaf64(rng, 2, 2, 2, 2, 1), leaf64(rng, 2)
    assert gradgradcheck(lambda x, w, b: F.conv3d(x, w, b, 1, (1, 0, 0)), (x, w, b))
    assert gradgradcheck(lambda x, w: F.conv_transpose3d(x, w, stride=(2, 1, 1)), (x, w))


def test_im2col_nd_is_the_2d_kernel_and_col2im_its_adjoint(rng):
    x = rng.standard_normal((2, 3, 5, 6))
    geometry = ((2, 3), (2, 1), (1, 1), (1, 2))
    cols = im2col_nd(x, *geometry)
    np.testing.assert_array_equal(cols, kernels.im2col(x, *geometry))
    c = rng.standard_normal(cols.shape)
    np.testing.assert_allclose(col2im_nd(c, x.shape, *geometry),
                               kernels.col2im(c, x.shape, *geometry), rtol=1e-12, atol=1e-12)
    v = rng.standard_normal((1, 2, 4, 3, 5))                     # <im2col v, c> = <v, col2im c>
    geometry3 = ((2, 2, 3), (1, 2, 1), (1, 0, 1), (2, 1, 1))
    cols = im2col_nd(v, *geometry3)
    c = rng.standard_normal(cols.shape)
    assert np.isclose((cols * c).sum(), (v * col2im_nd(c, v.shape, *geometry3)).sum())


def test_same_valid_and_unbatched(rng):
    x, w = leaf64(rng, 2, 3, 4, 4), leaf64(rng, 2, 2, 2, 3, 2)
    y = F.conv3d(x, w, padding="same", dilation=(1, 2, 1))
    assert y.shape == (2, 3, 4, 4)
    expected = F.conv3d(x.unsqueeze(0), w, padding="same", dilation=(1, 2, 1)).squeeze(0)
    np.testing.assert_allclose(host(y), host(expected))
    assert F.conv3d(x, w, padding="valid").shape == (2, 2, 2, 3)
    assert F.conv_transpose3d(x, w.transpose(0, 1)).shape == (2, 4, 6, 5)


def test_conv3d_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x, w, b = rng.standard_normal((2, 4, 4, 5, 4)), rng.standard_normal((4, 2, 3, 2, 3)), \
        rng.standard_normal(4)
    for kwargs in (dict(stride=(2, 1, 1), padding=(1, 0, 1), dilation=(1, 2, 1), groups=2),
                   dict(padding="same", dilation=2, groups=2), dict(stride=2, padding=1)):
        if kwargs.get("groups") != 2:
            kwargs["groups"] = 1
            wk = rng.standard_normal((4, 4, 3, 2, 3))
        else:
            wk = w
        y = F.conv3d(tg.tensor(x), tg.tensor(wk), tg.tensor(b), **kwargs)
        t = torch.nn.functional.conv3d(torch.tensor(x), torch.tensor(wk), torch.tensor(b),
                                       **kwargs)
        np.testing.assert_allclose(host(y), t.numpy(), rtol=1e-10, atol=1e-12)
    t = torch.nn.functional.conv_transpose3d(torch.tensor(x), torch.tensor(w), None, 2, 1, 1, 2)
    y = F.conv_transpose3d(tg.tensor(x), tg.tensor(w), None, 2, 1, 1, 2)
    np.testing.assert_allclose(host(y), t.numpy(), rtol=1e-10, atol=1e-12)


CONV3D_ERRORS = [
    ((3, 4, 4), (2, 3, 2, 2, 2), {}, RuntimeError, "Expected 4D \\(unbatched\\) or 5D"),
    ((1, 2, 3, 4, 4), (2, 3, 2, 2, 2), {}, RuntimeError, "to have 3 channels, but got 2"),
    ((1, 4, 3, 4, 4), (3, 2, 2, 2, 2), dict(groups=2), RuntimeError,
     "expected weight to be divisible by 2"),
    ((1, 3, 3, 4, 4), (2, 3, 2, 2, 2), dict(stride=2, padding="same"), ValueError,
     "padding='same' is not supported for strided"),
    ((1, 3, 1, 4, 4), (2, 3, 2, 2, 2), {}, RuntimeError, "calculated output size"),
    ((1, 3, 3, 4, 4), (2, 3, 2, 2), {}, RuntimeError, "expected a 5D weight"),
]


@pytest.mark.parametrize("shape, wshape, kwargs, error, match", CONV3D_ERRORS)
def test_conv3d_errors(shape, wshape, kwargs, error, match):
    with pytest.raises(error, match=match):
        F.conv3d(tg.zeros(*shape), tg.zeros(*wshape), **kwargs)


def test_conv_transpose3d_errors():
    with pytest.raises(RuntimeError, match="Given transposed=1"):
        F.conv_transpose3d(tg.zeros(1, 2, 2, 2, 2), tg.zeros(3, 1, 2, 2, 2))
    with pytest.raises(ValueError, match="output padding must be smaller"):
        F.conv_transpose3d(tg.zeros(1, 2, 2, 2, 2), tg.zeros(2, 1, 2, 2, 2), output_padding=1)
    with pytest.raises(TypeError, match="same dtype"):
        F.conv3d(tg.zeros(1, 2, 2, 2, 2), tg.zeros(1, 2, 1, 1, 1, dtype=tg.float64))
