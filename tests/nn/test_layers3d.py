"""The 3-D layers (Conv3d, ConvTranspose3d, MaxPool3d, AvgPool3d, the adaptive pools,
BatchNorm3d, InstanceNorm3d, Dropout3d, FeatureAlphaDropout, the 3-D padding layers, Upsample
of volumes): parameters, keys, init, reprs, gradients, errors, and PyTorch's outputs with
copied weights."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host, leaf64
from tinygen import nn
from tinygen.autograd import gradcheck


def test_conv3d_parameters_init_and_repr():
    conv = nn.Conv3d(4, 6, (3, 2, 1), stride=2, padding=1, groups=2)
    assert conv.weight.shape == (6, 2, 3, 2, 1) and conv.bias.shape == (6,)
    assert list(conv.state_dict()) == ["weight", "bias"]
    bound = 1 / np.sqrt(2 * 3 * 2 * 1)
    assert np.abs(host(conv.weight)).max() <= bound and np.abs(host(conv.bias)).max() <= bound
    assert repr(conv) == ("Conv3d(4, 6, kernel_size=(3, 2, 1), stride=(2, 2, 2), "
                          "padding=(1, 1, 1), groups=2)")
    up = nn.ConvTranspose3d(2, 4, 3, stride=2, bias=False)
    assert up.weight.shape == (2, 4, 3, 3, 3) and up.bias is None
    assert np.abs(host(up.weight)).max() <= 1 / np.sqrt(4 * 27)
    assert repr(up) == ("ConvTranspose3d(2, 4, kernel_size=(3, 3, 3), stride=(2, 2, 2), "
                        "bias=False)")


def test_conv3d_module_gradcheck_wrt_parameters(rng):
    conv = nn.Conv3d(2, 2, 2, padding=(1, 0, 0), padding_mode="circular", dtype=tg.float64)
    x = leaf64(rng, 1, 2, 2, 3, 3)
    assert gradcheck(lambda x, w, b: nn.functional.conv3d(
        nn.functional.pad(x, (0, 0, 0, 0, 1, 1), mode="circular"), w, b), (x, conv.weight,
                                                                          conv.bias))
    conv(x).sum().backward()
    assert conv.weight.grad.shape == conv.weight.shape and conv.bias.grad is not None


def _copy_to_torch(torch, module, torch_module):
    torch_module.double().load_state_dict({k: torch.tensor(host(v)) for k, v in
                                           module.state_dict().items()})
    return torch_module


@pytest.mark.parametrize("padding, mode", [(1, "zeros"), ("same", "reflect"),
                                           ((1, 0, 1), "replicate"), ("valid", "circular")])
def test_conv3d_matches_torch(rng, padding, mode):
    torch = pytest.importorskip("torch")
    kwargs = dict(padding=padding, padding_mode=mode, dilation=(1, 2, 1))
    conv = nn.Conv3d(2, 4, (3, 2, 3), dtype=tg.float64, **kwargs)
    reference = _copy_to_torch(torch, conv, torch.nn.Conv3d(2, 4, (3, 2, 3), **kwargs))
    assert repr(conv) == repr(reference)
    x = rng.standard_normal((2, 2, 4, 5, 4))
    np.testing.assert_allclose(host(conv(tg.tensor(x))),
                               reference(torch.tensor(x)).detach().numpy(), rtol=1e-10,
                               atol=1e-12)


def test_conv_transpose3d_matches_torch_with_output_size(rng):
    torch = pytest.importorskip("torch")
    up = nn.ConvTranspose3d(2, 4, 3, stride=2, padding=1, groups=2, dtype=tg.float64)
    reference = _copy_to_torch(torch, up, torch.nn.ConvTranspose3d(2, 4, 3, stride=2, padding=1,
                                                                   groups=2))
    assert repr(up) == repr(reference)
    x = rng.standard_normal((2, 2, 3, 2, 3))
    for size in (None, (6, 4, 5), (2, 4, 5, 4, 6)):
        np.testing.assert_allclose(host(up(tg.tensor(x), output_size=size)),
                                   reference(torch.tensor(x), output_size=size).detach().numpy(),
                                   rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="requested an output size"):
        up(tg.tensor(x), output_size=(9, 4, 5))


def test_conv3d_module_errors():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv3d(3, 4, 2, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv3d(2, 2, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="Only 'zeros' padding mode"):
        nn.ConvTranspose3d(2, 2, 3, padding_mode="reflect")
    with pytest.raises(RuntimeError, match="to have 2 channels, but got 3"):
        nn.Conv3d(2, 2, 2)(tg.zeros(1, 3, 3, 3, 3))


def test_pool_modules_reprs_and_forward(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 2, 4, 5, 4))
    pairs = [(nn.MaxPool3d(2, 1, 1, ceil_mode=True), torch.nn.MaxPool3d(2, 1, 1, ceil_mode=True)),
             (nn.AvgPool3d((2, 3, 2), count_include_pad=False),
              torch.nn.AvgPool3d((2, 3, 2), count_include_pad=False)),
             (nn.AdaptiveAvgPool3d((2, None, 3)), torch.nn.AdaptiveAvgPool3d((2, None, 3))),
             (nn.AdaptiveMaxPool3d(2), torch.nn.AdaptiveMaxPool3d(2))]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(host(ours(tg.tensor(x))), theirs(torch.tensor(x)).numpy(),
                                   rtol=1e-12)
    signal = x[:, :, 0, 0]
    for ours, theirs in [(nn.AdaptiveAvgPool1d(3), torch.nn.AdaptiveAvgPool1d(3)),
                         (nn.AdaptiveMaxPool1d(3), torch.nn.AdaptiveMaxPool1d(3))]:
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(host(ours(tg.tensor(signal))),
                                   theirs(torch.tensor(signal)).numpy(), rtol=1e-12)
    values, indices = nn.MaxPool3d(2, return_indices=True)(tg.tensor(x))
    assert indices.shape == values.shape == (2, 2, 2, 2, 2)
    values, indices = nn.AdaptiveMaxPool1d(2, return_indices=True)(tg.tensor(signal))
    assert indices.dtype == tg.int64 and values.shape == (2, 2, 2)


def test_batch_norm3d_matches_torch_and_gradchecks(rng):
    torch = pytest.importorskip("torch")
    bn = nn.BatchNorm3d(3, momentum=0.2, dtype=tg.float64)
    reference = _copy_to_torch(torch, bn, torch.nn.BatchNorm3d(3, momentum=0.2))
    assert list(bn.state_dict()) == list(reference.state_dict()) and repr(bn) == repr(reference)
    x = rng.standard_normal((2, 3, 2, 3, 2))
    for _ in range(2):
        np.testing.assert_allclose(host(bn(tg.tensor(x))),
                                   reference(torch.tensor(x)).detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(host(bn.running_var), reference.running_var.numpy(), rtol=1e-12)
    bn.eval(), reference.eval()
    np.testing.assert_allclose(host(bn(tg.tensor(x))),
                               reference(torch.tensor(x)).detach().numpy(), rtol=1e-10)
    bn.train()
    small = leaf64(rng, 2, 3, 1, 2, 2)
    bn.weight.requires_grad_(True)
    assert gradcheck(lambda x, w, b: nn.functional.batch_norm(x, None, None, w, b, True),
                     (small, bn.weight, bn.bias))
    with pytest.raises(ValueError, match="expected 5D input"):
        bn(tg.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match="expected 3 channels"):
        bn(tg.zeros(2, 4, 2, 2, 2))


def test_instance_norm3d_matches_torch(rng):
    torch = pytest.importorskip("torch")
    norm = nn.InstanceNorm3d(2, affine=True, track_running_stats=True, dtype=tg.float64)
    reference = _copy_to_torch(torch, norm, torch.nn.InstanceNorm3d(
        2, affine=True, track_running_stats=True))
    assert list(norm.state_dict()) == list(reference.state_dict())
    assert repr(norm) == repr(reference)
    x = rng.standard_normal((2, 2, 2, 3, 2))
    np.testing.assert_allclose(host(norm(tg.tensor(x))),
                               reference(torch.tensor(x)).detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(host(norm(tg.tensor(x[0]))),                    # unbatched
                               reference(torch.tensor(x[0])).detach().numpy(), rtol=1e-10)
    norm.eval(), reference.eval()
    np.testing.assert_allclose(host(norm(tg.tensor(x))),
                               reference(torch.tensor(x)).detach().numpy(), rtol=1e-10)
    with pytest.raises(ValueError, match="4D \\(unbatched\\) or 5D"):
        norm(tg.zeros(2, 2, 2))


def test_dropout3d_zeros_whole_channels():
    layer = nn.Dropout3d(0.5)
    assert repr(layer) == "Dropout3d(p=0.5, inplace=False)"
    x = tg.ones(4, 6, 2, 2, 3)
    y = host(layer(x)).reshape(4, 6, -1)
    assert set(np.unique(y)) <= {0.0, 2.0} and (y.std(-1) == 0).all()
    assert 0 < (y[:, :, 0] == 0).sum() < 24
    unbatched = host(nn.functional.dropout3d(tg.ones(6, 2, 2, 3))).reshape(6, -1)
    assert (unbatched.std(-1) == 0).all()
    layer.eval()
    assert layer(x) is x
    with pytest.warns(UserWarning, match="Received a 3-D input to dropout3d"):
        nn.functional.dropout3d(tg.ones(2, 3, 4))


def test_dropout3d_gradient_is_the_mask(rng):
    x = leaf64(rng, 2, 3, 1, 2, 2)

    def fn(x):
        tg.manual_seed(3)
        return nn.functional.dropout3d(x, 0.4)
    assert gradcheck(fn, (x,))


def test_feature_alpha_dropout(rng):
    layer = nn.FeatureAlphaDropout(0.3)
    assert repr(layer) == "FeatureAlphaDropout(p=0.3, inplace=False)"
    tg.manual_seed(0)
    x = tg.tensor(rng.standard_normal((400, 8, 2, 2, 2)))
    y = host(layer(x))
    dropped = (host(x) != 0) & (np.abs(y.reshape(400, 8, -1).std(-1)) == 0)[..., None, None,
                                                                            None]
    p, alpha = 0.3, 1.7580993408473766
    a = ((alpha ** 2 * p + 1) * (1 - p)) ** -0.5
    np.testing.assert_allclose(y[dropped], a * alpha * p - alpha * a)      # a*(-alpha') + b
    np.testing.assert_allclose(y[~dropped], a * host(x)[~dropped] + a * alpha * p)
    assert abs(dropped.mean() - p) < 0.05
    assert abs(y.mean()) < 0.05 and abs(y.var() - 1) < 0.1                  # SELU's fixed point

    def fn(x):
        tg.manual_seed(1)
        return nn.functional.feature_alpha_dropout(x, 0.5, True)
    assert gradcheck(fn, (leaf64(rng, 2, 3, 2),))
    layer.eval()
    assert layer(x) is x
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        nn.functional.feature_alpha_dropout(tg.ones(3), 0.5, True)


PADS = [(nn.ConstantPad3d((1, 0, 2, 1, 0, 1), 2.5), "constant", 2.5),
        (nn.ZeroPad3d(1), "constant", 0.0),
        (nn.ReflectionPad3d((1, 2, 0, 1, 1, 1)), "reflect", None),
        (nn.ReplicationPad3d((2, 0, 1, 1, 3, 0)), "edge", None),
        (nn.CircularPad3d((1, 1, 2, 0, 0, 2)), "wrap", None)]


@pytest.mark.parametrize("layer, np_mode, value", PADS)
def test_pad3d_layers_match_numpy_and_gradcheck(rng, layer, np_mode, value):
    x = leaf64(rng, 2, 3, 3, 4)                         # (C, D, H, W): unbatched 3-D padding
    left, right, top, bottom, front, back = layer.padding
    widths = ((0, 0), (front, back), (top, bottom), (left, right))
    kwargs = {"constant_values": value} if np_mode == "constant" else {}
    np.testing.assert_array_equal(host(layer(x)), np.pad(host(x), widths, np_mode, **kwargs))
    assert layer(x.unsqueeze(0)).shape == (1,) + layer(x).shape
    assert gradcheck(layer, (x[:1],))


def test_pad3d_reprs():
    torch = pytest.importorskip("torch")
    for ours, theirs in [(nn.ConstantPad3d(1, 3.5), torch.nn.ConstantPad3d(1, 3.5)),
                         (nn.ZeroPad3d((1, 2, 3, 4, 5, 6)), torch.nn.ZeroPad3d((1, 2, 3, 4, 5, 6))),
                         (nn.ReflectionPad3d(1), torch.nn.ReflectionPad3d(1)),
                         (nn.ReplicationPad3d(2), torch.nn.ReplicationPad3d(2)),
                         (nn.CircularPad3d(1), torch.nn.CircularPad3d(1))]:
        assert repr(ours) == repr(theirs)
    with pytest.raises(ValueError, match="tuple of 6 ints"):
        nn.ReflectionPad3d((1, 2))


def test_upsample_of_volumes(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((1, 2, 2, 3, 2))
    for kwargs in (dict(scale_factor=2, mode="trilinear"), dict(size=(3, 4, 5)),
                   dict(scale_factor=(2, 1, 3), mode="nearest-exact")):
        ours, theirs = nn.Upsample(**kwargs), torch.nn.Upsample(**kwargs)
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(host(ours(tg.tensor(x))), theirs(torch.tensor(x)).numpy(),
                                   rtol=1e-12)
