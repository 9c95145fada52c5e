"""F.pad: every mode against NumPy's np.pad, negative (cropping) widths, gradients of first and
second order, PyTorch's values, and the bad-input errors."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host, leaf64
from tinygen.autograd import gradcheck, gradgradcheck

NUMPY_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
               "circular": "wrap"}
PADS = [(1, 2), (2, 1, 0, 3), (1, 1, 2, 2), (0, 1, 1, 0, 1, 1)]


def numpy_widths(pad, ndim):
    pairs = [(pad[i], pad[i + 1]) for i in range(0, len(pad), 2)][::-1]
    return [(0, 0)] * (ndim - len(pairs)) + pairs


@pytest.mark.parametrize("mode", list(NUMPY_MODES))
@pytest.mark.parametrize("pad", PADS, ids=str)
def test_pad_matches_numpy_and_gradcheck(device, rng, mode, pad):
    x = leaf64(rng, 2, 3, 4, 5, device=device)
    y = F.pad(x, pad, mode)
    expected = np.pad(host(x), numpy_widths(pad, 4), NUMPY_MODES[mode])
    np.testing.assert_array_equal(host(y), expected)
    assert gradcheck(lambda x: F.pad(x, pad, mode), (x,))


def test_constant_value_and_cropping(device, rng):
    x = leaf64(rng, 2, 3, 4, 5, device=device)
    y = F.pad(x, (-1, 2, 3, -2), value=1.5)              # crop 1 left, 2 bottom; pad the rest
    expected = np.pad(host(x)[:, :, :-2, 1:], [(0, 0), (0, 0), (3, 0), (0, 2)],
                      constant_values=1.5)
    np.testing.assert_array_equal(host(y), expected)
    assert gradcheck(lambda x: F.pad(x, (-1, 2, 3, -2), value=1.5), (x,))
    assert gradgradcheck(lambda x: F.pad(x, (1, 0, -1, 1)) ** 2, (x,))
    assert F.pad(x, (0, 0)) is x


def test_non_constant_modes_gradgradcheck(device, rng):
    x = leaf64(rng, 1, 2, 3, 4, device=device)
    assert gradgradcheck(lambda x: F.pad(x, (2, 1, 1, 2), "reflect") ** 2, (x,))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_negative_widths_crop_in_every_mode(device, rng, mode):
    """As PyTorch: reflect and replicate index the whole input, circular wraps around what the
    crop leaves. [0 1 2 3] with (-1, 2) -> reflect [1 2 3 2 1], replicate [1 2 3 3 3], circular
    [1 2 3 1 2]."""
    expected = {"reflect": [1, 2, 3, 2, 1], "replicate": [1, 2, 3, 3, 3],
                "circular": [1, 2, 3, 1, 2]}[mode]
    x = tg.arange(4.0, device=device).reshape(1, 1, 4)
    np.testing.assert_array_equal(host(F.pad(x, (-1, 2), mode))[0, 0], expected)
    assert gradcheck(lambda t: F.pad(t, (2, -1), mode), (leaf64(rng, 1, 2, 4, device=device),))


@pytest.mark.parametrize("mode", list(NUMPY_MODES))
def test_pad_matches_torch(rng, mode):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    for pad in [(1, 2, 3, 0), (2, 2)]:
        expected = torch.nn.functional.pad(torch.tensor(x[0] if len(pad) == 2 else x), pad,
                                           mode)
        y = F.pad(tg.tensor(x[0] if len(pad) == 2 else x), pad, mode)
        np.testing.assert_array_equal(host(y), expected.cpu().numpy())


PAD_ERRORS = [
    (dict(pad=(1, 2, 3)), ValueError, "divisible by 2"),
    (dict(pad=(1,) * 10), ValueError, "padding length too large"),
    (dict(pad=(1, 1), mode="wrap"), ValueError, "unknown padding mode"),
    (dict(pad=(1, 1), mode="reflect", value=2.0), ValueError, "doesn't take in a value"),
    (dict(pad=(5, 0), mode="reflect"), RuntimeError, "smaller than the input size"),
    (dict(pad=(6, 0), mode="circular"), RuntimeError, "at most the input size"),
    (dict(pad=(-3, -3)), RuntimeError, "negative output size"),
]


@pytest.mark.parametrize("kwargs, error, match", PAD_ERRORS)
def test_pad_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        F.pad(tg.randn(2, 3, 4, 5), **kwargs)


@pytest.mark.parametrize("mode", ["reflect", "circular"])
def test_reflect_and_circular_pad_an_empty_batch(mode):
    # the size limit applies only to the dims padded, not to an empty batch dim
    x = tg.zeros((0, 3, 3), dtype=tg.float64, requires_grad=True)
    assert F.pad(x, (1, 2), mode).shape == (0, 3, 6)
    assert F.pad(tg.zeros((0, 3, 3, 3)), (0, 2, 0, 1), mode).shape == (0, 3, 4, 5)
