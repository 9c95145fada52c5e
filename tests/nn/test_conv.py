"""Conv2d and ConvTranspose2d modules: parameter shapes, PyTorch's initialisation, padding modes,
output_size, reprs, gradients through the module, PyTorch weights giving PyTorch's outputs, and
constructor errors."""

import math

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host, leaf64
from tinygen import nn
from tinygen.autograd import gradcheck


def test_parameter_shapes_and_names():
    conv = nn.Conv2d(4, 6, (3, 2), groups=2)
    assert conv.weight.shape == (6, 2, 3, 2) and conv.bias.shape == (6,)
    transposed = nn.ConvTranspose2d(4, 6, 3, groups=2, bias=False)
    assert transposed.weight.shape == (4, 3, 3, 3) and transposed.bias is None
    assert list(dict(conv.named_parameters())) == ["weight", "bias"]
    assert list(dict(transposed.named_parameters())) == ["weight"]
    assert conv.kernel_size == (3, 2) and conv.stride == (1, 1) and conv.padding == (0, 0)


@pytest.mark.parametrize("layer, fan_in", [
    (lambda: nn.Conv2d(16, 32, 3), 16 * 9),
    (lambda: nn.Conv2d(16, 32, 3, groups=4), 4 * 9),
    (lambda: nn.ConvTranspose2d(16, 32, 3), 32 * 9),          # weight (in, out, k, k): fan_in
    (lambda: nn.ConvTranspose2d(16, 32, 3, groups=4), 8 * 9),  # is out/groups * k * k
])
def test_default_init_is_pytorchs(layer, fan_in):
    """kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the bias too."""
    tg.manual_seed(0)
    module = layer()
    bound = 1 / math.sqrt(fan_in)
    for t in (module.weight, module.bias):
        values = host(t)
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.8 * bound
    std = host(module.weight).std()
    assert abs(std - bound / math.sqrt(3)) < 0.1 * bound      # std of U(-b, b) is b / sqrt(3)


@pytest.mark.parametrize("kwargs", [
    dict(stride=2, padding=1), dict(padding="same", dilation=2, groups=2),
    dict(padding=(1, 2), padding_mode="reflect"), dict(padding=2, padding_mode="circular"),
    dict(padding="same", padding_mode="replicate", bias=False),
])
def test_conv2d_module_gradcheck(rng, kwargs):
    conv = nn.Conv2d(2, 4, (3, 2), dtype=tg.float64, **kwargs)
    x = leaf64(rng, 2, 2, 5, 6)
    params = list(conv.parameters())

    def f(x, *params):
        return conv(x)
    assert gradcheck(f, (x, *params))


def test_conv_transpose2d_module_gradcheck(rng):
    conv = nn.ConvTranspose2d(2, 4, 3, stride=2, padding=1, output_padding=1, groups=2,
                              dilation=1, dtype=tg.float64)
    x = leaf64(rng, 2, 2, 3, 4)
    assert gradcheck(lambda x, w, b: conv(x), (x, conv.weight, conv.bias))


def test_output_size_picks_output_padding(rng):
    conv = nn.ConvTranspose2d(3, 2, 3, stride=3, padding=1)
    x = tg.randn(1, 3, 4, 4)
    assert conv(x).shape == (1, 2, 10, 10)
    assert conv(x, output_size=(11, 12)).shape == (1, 2, 11, 12)
    assert conv(x, output_size=(1, 2, 12, 10)).shape == (1, 2, 12, 10)
    with pytest.raises(ValueError, match="valid sizes range from 10 to 12"):
        conv(x, output_size=(13, 10))


MODULE_ARGS = [
    ("Conv2d", (3, 8, 3), dict(stride=2, padding="valid", bias=False)),
    ("Conv2d", (4, 8, (3, 2)), dict(padding="same", dilation=2, groups=2,
                                    padding_mode="reflect")),
    ("Conv2d", (4, 4, 3), dict(padding=1, padding_mode="circular")),
    ("ConvTranspose2d", (4, 6, 4), dict(stride=2, padding=1, output_padding=1, groups=2)),
    ("ConvTranspose2d", (4, 2, 3), dict(dilation=2, bias=False)),
]


@pytest.mark.parametrize("kind, args, kwargs", MODULE_ARGS)
def test_modules_match_torch(rng, kind, args, kwargs):
    """Same repr, and PyTorch's weights loaded through state_dict give PyTorch's output."""
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, kind)(*args, **kwargs), getattr(torch.nn, kind)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: tg.tensor(v.detach().cpu().numpy())
                          for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((2, args[0], 7, 6)).astype(np.float32)
    expected = theirs(torch.tensor(x)).detach().cpu().numpy()
    np.testing.assert_allclose(host(ours(tg.tensor(x))), expected, rtol=1e-5, atol=1e-5)


CONSTRUCTOR_ERRORS = [
    (nn.Conv2d, (3, 8, 3), dict(groups=2), "in_channels must be divisible by groups"),
    (nn.Conv2d, (4, 6, 3), dict(groups=4), "out_channels must be divisible by groups"),
    (nn.Conv2d, (4, 8, 3), dict(groups=0), "groups must be a positive integer"),
    (nn.Conv2d, (4, 8, 3), dict(padding="full"), "invalid padding string"),
    (nn.Conv2d, (4, 8, 3), dict(padding="same", stride=2), "not supported for strided"),
    (nn.Conv2d, (4, 8, 3), dict(padding_mode="mirror"), "padding_mode must be one of"),
    (nn.ConvTranspose2d, (4, 8, 3), dict(padding_mode="reflect"), "Only 'zeros' padding"),
    (nn.ConvTranspose2d, (4, 8, 3), dict(padding="same"), "must be an int or a pair"),
]


@pytest.mark.parametrize("cls, args, kwargs, match", CONSTRUCTOR_ERRORS)
def test_constructor_errors(cls, args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(*args, **kwargs)


def test_wrong_input_channels_names_both():
    with pytest.raises(RuntimeError, match="expected input\\[2, 3, 8, 8\\] to have 4 channels, "
                                           "but got 3 channels"):
        nn.Conv2d(4, 8, 3)(tg.randn(2, 3, 8, 8))
    with pytest.raises(RuntimeError, match="to have 4 channels, but got 3"):
        nn.ConvTranspose2d(4, 8, 3)(tg.randn(2, 3, 8, 8))
