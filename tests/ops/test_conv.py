"""conv2d / conv_transpose2d and the Im2col/Col2im pair: values against direct nested-loop
references, gradients (first and second order) against finite differences, PyTorch's shapes and
values, and every bad-input error."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host, leaf64
from tinygen import kernels
from tinygen.autograd import gradcheck, gradgradcheck
from tinygen.ops.conv import Col2im, GroupedGemm, Im2col


def pairs(*values):
    return [(v, v) if isinstance(v, int) else tuple(v) for v in values]


def conv2d_ref(x, w, b, stride, padding, dilation, groups):
    """out[n, o, y, x] = b[o] + sum over c in o's group, i, j of w[o, c, i, j] * input pixel
    (y*sh - ph + i*dh, x*sw - pw + j*dw), zero outside the input: the definition, looped."""
    (sh, sw), (dh, dw) = pairs(stride, dilation)
    N, C, H, W = x.shape
    OC, Cg, kh, kw = w.shape
    if padding == "same":
        th, tw = dh * (kh - 1), dw * (kw - 1)
        x = np.pad(x, ((0, 0), (0, 0), (th // 2, th - th // 2), (tw // 2, tw - tw // 2)))
        ph = pw = 0
    else:
        (ph, pw), = pairs(0 if padding == "valid" else padding)
    H, W = x.shape[2:]
    OH, OW = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((N, OC, OH, OW))
    Og = OC // groups
    for n in range(N):
        for o in range(OC):
            for oy in range(OH):
                for ox in range(OW):
                    total = b[o] if b is not None else 0.0
                    for c in range(Cg):
                        for i in range(kh):
                            for j in range(kw):
                                y, xx = oy * sh - ph + i * dh, ox * sw - pw + j * dw
                                if 0 <= y < H and 0 <= xx < W:
                                    total += w[o, c, i, j] * x[n, (o // Og) * Cg + c, y, xx]
                    out[n, o, oy, ox] = total
    return out


def conv_transpose2d_ref(x, w, b, stride, padding, output_padding, groups, dilation):
    """Scatter form: input pixel (y, x) of channel c adds w[c, o, i, j] times itself to output
    pixel (y*sh - ph + i*dh, x*sw - pw + j*dw) of each channel o of its group."""
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = pairs(stride, padding, output_padding, dilation)
    N, C, H, W = x.shape
    _, Og, kh, kw = w.shape
    OH = (H - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    OW = (W - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    out = np.zeros((N, Og * groups, OH, OW))
    Cg = C // groups
    for n in range(N):
        for c in range(C):
            for y in range(H):
                for xx in range(W):
                    for o in range(Og):
                        for i in range(kh):
                            for j in range(kw):
                                oy, ox = y * sh - ph + i * dh, xx * sw - pw + j * dw
                                if 0 <= oy < OH and 0 <= ox < OW:
                                    out[n, (c // Cg) * Og + o, oy, ox] += (
                                        w[c, o, i, j] * x[n, c, y, xx])
    if b is not None:
        out += b[None, :, None, None]
    return out


@pytest.fixture(params=["fused", "reference"])
def layout(request):
    """Run a test with the fused im2col/col2im, whose columns are kept in the GEMM's memory
    order, and with the reference ones, whose columns are copied into it."""
    with kernels.use(request.param):
        yield request.param


# (in channels, out channels, input H, W, kernel, stride, padding, dilation, groups)
CONV_CONFIGS = [
    (2, 3, 5, 6, 3, 1, 0, 1, 1),
    (2, 4, 7, 6, 3, 2, 1, 1, 1),
    (4, 6, 8, 9, (3, 2), (2, 1), (1, 0), (1, 2), 2),
    (3, 2, 5, 5, 2, 1, "same", 1, 1),          # even kernel: the extra pad goes bottom/right
    (2, 4, 6, 7, (4, 3), 1, "same", (1, 2), 2),
    (4, 4, 6, 6, 3, 1, "valid", 2, 4),         # depthwise
    (1, 2, 9, 9, 4, 3, 2, 1, 1),
]
CONV_IDS = [f"cfg{i}" for i in range(len(CONV_CONFIGS))]

# (in channels, out channels, input H, W, kernel, stride, padding, output_padding, groups,
#  dilation)
TRANSPOSE_CONFIGS = [
    (2, 3, 3, 4, 3, 1, 0, 0, 1, 1),
    (2, 4, 3, 4, 3, 2, 1, 1, 1, 1),
    (4, 6, 4, 3, (3, 2), (2, 3), (1, 0), (1, 2), 2, 1),
    (2, 2, 3, 3, 3, 1, 1, 1, 1, 2),            # output_padding < dilation although >= stride
    (2, 3, 3, 3, 4, 2, 1, 0, 1, 1),            # the DCGAN layer
    (4, 4, 2, 3, 2, 3, 0, 2, 4, (2, 1)),
]
TRANSPOSE_IDS = [f"cfg{i}" for i in range(len(TRANSPOSE_CONFIGS))]


def _conv_inputs(rng, config, device, bias=True):
    C, OC, H, W, k, s, p, d, g = config
    (kh, kw), = pairs(k)
    x = leaf64(rng, 2, C, H, W, device=device)
    w = leaf64(rng, OC, C // g, kh, kw, device=device)
    b = leaf64(rng, OC, device=device) if bias else None
    return x, w, b, dict(stride=s, padding=p, dilation=d, groups=g)


def _transpose_inputs(rng, config, device, bias=True):
    C, OC, H, W, k, s, p, op, g, d = config
    (kh, kw), = pairs(k)
    x = leaf64(rng, 2, C, H, W, device=device)
    w = leaf64(rng, C, OC // g, kh, kw, device=device)
    b = leaf64(rng, OC, device=device) if bias else None
    return x, w, b, dict(stride=s, padding=p, output_padding=op, groups=g, dilation=d)


@pytest.mark.parametrize("config", CONV_CONFIGS, ids=CONV_IDS)
def test_conv2d_matches_nested_loops(device, rng, config, layout):
    x, w, b, kw = _conv_inputs(rng, config, device)
    y = F.conv2d(x, w, b, **kw)
    expected = conv2d_ref(host(x), host(w), host(b), kw["stride"], kw["padding"],
                          kw["dilation"], kw["groups"])
    assert y.shape == expected.shape
    np.testing.assert_allclose(host(y), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("config", CONV_CONFIGS, ids=CONV_IDS)
def test_conv2d_gradcheck(device, rng, config, layout):
    x, w, b, kw = _conv_inputs(rng, config, device)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kw), (x, w, b))


@pytest.mark.parametrize("config", [CONV_CONFIGS[1], CONV_CONFIGS[3]], ids=["strided", "same"])
def test_conv2d_gradgradcheck(device, rng, config, layout):
    x, w, _, kw = _conv_inputs(rng, config[:2] + (4, 4) + config[4:], device)
    assert gradgradcheck(lambda x, w: F.conv2d(x, w, **kw), (x, w))


@pytest.mark.parametrize("config", TRANSPOSE_CONFIGS, ids=TRANSPOSE_IDS)
def test_conv_transpose2d_matches_nested_loops(device, rng, config, layout):
    x, w, b, kw = _transpose_inputs(rng, config, device)
    y = F.conv_transpose2d(x, w, b, **kw)
    expected = conv_transpose2d_ref(host(x), host(w), host(b), kw["stride"], kw["padding"],
                                    kw["output_padding"], kw["groups"], kw["dilation"])
    assert y.shape == expected.shape
    np.testing.assert_allclose(host(y), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("config", TRANSPOSE_CONFIGS, ids=TRANSPOSE_IDS)
def test_conv_transpose2d_gradcheck(device, rng, config, layout):
    x, w, b, kw = _transpose_inputs(rng, config, device)
    assert gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, **kw), (x, w, b))


def test_conv_transpose2d_gradgradcheck(device, rng, layout):
    x, w, b, kw = _transpose_inputs(rng, TRANSPOSE_CONFIGS[1], device)
    assert gradgradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, **kw), (x, w, b))


def test_conv_transpose2d_is_the_adjoint_of_conv2d(device, rng):
    """<conv2d(x, w), y> == <x, conv_transpose2d(y, w)> for the same weight and geometry."""
    x = leaf64(rng, 2, 3, 9, 8, device=device)
    w = leaf64(rng, 4, 3, 3, 2, device=device)
    geometry = dict(stride=2, padding=1, dilation=(1, 2))
    y = tg.randn(*F.conv2d(x, w, **geometry).shape, dtype=tg.float64, device=device)
    back = F.conv_transpose2d(y, w, output_padding=(0, 1), **geometry)
    assert back.shape == x.shape
    np.testing.assert_allclose(float((F.conv2d(x, w, **geometry) * y).sum().item()),
                               float((x * back).sum().item()), rtol=1e-10)


def test_im2col_col2im_are_adjoint_and_differentiable(device, rng):
    geometry = ((3, 2), (2, 1), (1, 1), (1, 2))
    x = leaf64(rng, 2, 3, 5, 6, device=device)
    cols = Im2col.apply(x, *geometry)
    c = leaf64(rng, *cols.shape, device=device)
    back = Col2im.apply(c, tuple(x.shape), *geometry)
    np.testing.assert_allclose(float((cols * c).sum().item()), float((x * back).sum().item()),
                               rtol=1e-10)
    assert gradcheck(lambda x: Im2col.apply(x, *geometry), (x,))
    assert gradgradcheck(lambda x: Im2col.apply(x, *geometry) ** 2, (x,))
    assert gradcheck(lambda c: Col2im.apply(c, tuple(x.shape), *geometry), (c,))


@pytest.mark.parametrize("M, K", [(3, 5), (5, 3)], ids=["cols-first", "grad-first"])
def test_grouped_gemm_gradients_in_both_orders(device, rng, M, K):
    """Both ways of taking the weight gradient (by which operand has more rows) are checked."""
    weight, cols = leaf64(rng, 2, M, K, device=device), leaf64(rng, 2, K, 4, device=device)
    np.testing.assert_allclose(host(GroupedGemm.apply(weight, cols)),
                               host(weight) @ host(cols), rtol=1e-12)
    assert gradcheck(GroupedGemm.apply, (weight, cols))
    assert gradgradcheck(GroupedGemm.apply, (weight, cols))


def test_unbatched_input(device, rng):
    x, w, b, kw = _conv_inputs(rng, CONV_CONFIGS[1], device)
    y = F.conv2d(x[0], w, b, **kw)
    np.testing.assert_allclose(host(y), host(F.conv2d(x, w, b, **kw))[0], rtol=1e-12)
    x, w, b, kw = _transpose_inputs(rng, TRANSPOSE_CONFIGS[1], device)
    y = F.conv_transpose2d(x[1], w, b, **kw)
    np.testing.assert_allclose(host(y), host(F.conv_transpose2d(x, w, b, **kw))[1], rtol=1e-12)


def test_same_padding_keeps_the_size(rng):
    for k, d in [(2, 1), (4, 1), (3, 2), ((2, 5), (3, 1))]:
        x = tg.randn(1, 2, 7, 6)
        w = tg.randn(3, 2, *pairs(k)[0])
        assert F.conv2d(x, w, padding="same", dilation=d).shape == (1, 3, 7, 6)


def test_float32_and_reference_kernels_agree(rng):
    x, w, b, kw = _conv_inputs(rng, CONV_CONFIGS[2], "cpu")
    x32, w32, b32 = (t.detach().float() for t in (x, w, b))
    fused = host(F.conv2d(x32, w32, b32, **kw))
    with kernels.use("reference"):
        reference = host(F.conv2d(x32, w32, b32, **kw))
    assert fused.dtype == np.float32
    np.testing.assert_allclose(fused, reference, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fused, host(F.conv2d(x, w, b, **kw)), rtol=1e-4, atol=1e-4)


@pytest.mark.filterwarnings("ignore:Using padding='same'")   # PyTorch's note on even kernels
@pytest.mark.parametrize("config", CONV_CONFIGS, ids=CONV_IDS)
def test_conv2d_matches_torch(rng, config):
    torch = pytest.importorskip("torch")
    x, w, b, kw = _conv_inputs(rng, config, "cpu")
    x, w, b = (t.detach().float() for t in (x, w, b))
    expected = torch.nn.functional.conv2d(*(torch.tensor(host(t)) for t in (x, w, b)), **kw)
    np.testing.assert_allclose(host(F.conv2d(x, w, b, **kw)), expected.cpu().numpy(), rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize("config", TRANSPOSE_CONFIGS, ids=TRANSPOSE_IDS)
def test_conv_transpose2d_matches_torch(rng, config):
    torch = pytest.importorskip("torch")
    x, w, b, kw = _transpose_inputs(rng, config, "cpu")
    x, w, b = (t.detach().float() for t in (x, w, b))
    expected = torch.nn.functional.conv_transpose2d(
        *(torch.tensor(host(t)) for t in (x, w, b)), **kw)
    np.testing.assert_allclose(host(F.conv_transpose2d(x, w, b, **kw)), expected.cpu().numpy(),
                               rtol=1e-5, atol=1e-5)


CONV_ERRORS = [
    ((2, 3), (4, 3, 1, 1), {}, RuntimeError, "Expected 3D \\(unbatched\\) or 4D"),
    ((1, 3, 5, 5), (4, 3, 1), {}, RuntimeError, "4D weight"),
    ((1, 2, 5, 5), (4, 3, 3, 3), {}, RuntimeError, "to have 3 channels, but got 2 channels"),
    ((1, 4, 5, 5), (3, 2, 3, 3), {"groups": 2}, RuntimeError, "divisible by 2 at dimension 0"),
    ((1, 4, 5, 5), (4, 2, 3, 3), {"groups": 0}, ValueError, "groups must be a positive"),
    ((1, 3, 5, 5), (4, 3, 3, 3), {"bias": (3,)}, RuntimeError, "expected bias of shape \\(4,\\)"),
    ((1, 3, 2, 2), (4, 3, 3, 3), {}, RuntimeError, "output size \\(1x4x0x0\\) is too small"),
    ((1, 3, 5, 5), (4, 3, 3, 3), {"padding": "same", "stride": 2}, ValueError,
     "not supported for strided"),
    ((1, 3, 5, 5), (4, 3, 3, 3), {"padding": "full"}, ValueError, "invalid padding string"),
    ((1, 3, 5, 5), (4, 3, 3, 3), {"padding": -1}, ValueError, "negative padding"),
    ((1, 3, 5, 5), (4, 3, 3, 3), {"stride": 0}, ValueError, "stride must be positive"),
    ((1, 3, 5, 5), (4, 3, 3, 3), {"dilation": (1, 2, 3)}, ValueError, "pair of ints"),
]


@pytest.mark.parametrize("x_shape, w_shape, kwargs, error, match", CONV_ERRORS)
def test_conv2d_errors(x_shape, w_shape, kwargs, error, match):
    kwargs = dict(kwargs)
    bias = tg.randn(*kwargs.pop("bias")) if "bias" in kwargs else None
    with pytest.raises(error, match=match):
        F.conv2d(tg.randn(*x_shape), tg.randn(*w_shape), bias, **kwargs)


TRANSPOSE_ERRORS = [
    ((1, 3, 4, 4), (2, 4, 3, 3), {}, RuntimeError, "to have 2 channels, but got 3 channels"),
    ((1, 3, 4, 4), (3, 4, 3, 3), {"groups": 2}, RuntimeError, "divisible by 2 at dimension 0"),
    ((1, 2, 4, 4), (2, 4, 3, 3), {"stride": 2, "output_padding": 2}, ValueError,
     "output padding must be smaller than either stride or dilation"),
    ((1, 2, 4, 4), (2, 4, 3, 3), {"output_padding": 1}, ValueError, "smaller than either"),
    ((1, 2, 1, 1), (2, 4, 1, 1), {"padding": 1}, RuntimeError, "output size .* is too small"),
    ((2, 4), (2, 4, 3, 3), {}, RuntimeError, "Expected 3D \\(unbatched\\) or 4D"),
]


@pytest.mark.parametrize("x_shape, w_shape, kwargs, error, match", TRANSPOSE_ERRORS)
def test_conv_transpose2d_errors(x_shape, w_shape, kwargs, error, match):
    with pytest.raises(error, match=match):
        F.conv_transpose2d(tg.randn(*x_shape), tg.randn(*w_shape), **kwargs)


def test_dtype_mismatch_is_an_error():
    with pytest.raises(TypeError, match="same dtype"):
        F.conv2d(tg.randn(1, 2, 4, 4), tg.randn(3, 2, 3, 3, dtype=tg.float64))


def test_fused_columns_are_the_gemm_matrix_without_a_copy():
    """The fused CPU im2col keeps its columns in (C*kh*kw, N, L) memory order, so conv2d's
    (C*kh*kw, N*L) GEMM operand is a view of them."""
    with kernels.use("fused"):
        cols = Im2col.apply(tg.randn(4, 3, 14, 14, device="cpu"), (4, 4), (2, 2), (1, 1), (1, 1))
    matrix = cols.permute(1, 0, 2).reshape(3 * 16, 4 * 49)
    assert np.shares_memory(matrix.array, cols.array)
