"""conv1d / conv_transpose1d and the Conv1d / ConvTranspose1d layers: a direct NumPy reference,
gradients, 'same'/'valid' padding, unbatched input, padding modes, state-dict names, init, reprs,
errors, and PyTorch's values and gradients with the same weights."""

import math

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host, leaf64
from tinygen import nn
from tinygen.autograd import gradcheck, gradgradcheck


def conv1d_reference(x, w, b, stride, padding, dilation, groups):
    """y[n, o, t] = b[o] + sum_{c, k} x[n, g*Cg + c, t*s - p + k*d] w[o, c, k], zero outside."""
    N, C, L = x.shape
    OC, Cg, K = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    OL = (L + 2 * padding - dilation * (K - 1) - 1) // stride + 1
    y = np.zeros((N, OC, OL))
    per_group = OC // groups
    for o in range(OC):
        g = o // per_group
        for t in range(OL):
            window = xp[:, g * Cg:(g + 1) * Cg, t * stride:t * stride + dilation * (K - 1) + 1:
                        dilation]
            y[:, o, t] = (window * w[o]).sum((1, 2))
    return y if b is None else y + b[None, :, None]


CONFIGS = [  # (C, OC, K, stride, padding, dilation, groups)
    (3, 4, 3, 1, 0, 1, 1),
    (4, 6, 3, 2, 1, 1, 2),
    (2, 3, 2, 1, 2, 2, 1),
    (4, 4, 5, 3, 2, 1, 4),
]


@pytest.mark.parametrize("C, OC, K, stride, padding, dilation, groups", CONFIGS)
def test_conv1d_matches_reference_and_gradchecks(rng, device, C, OC, K, stride, padding,
                                                 dilation, groups):
    x = leaf64(rng, 2, C, 9, device=device)
    w = leaf64(rng, OC, C // groups, K, device=device)
    b = leaf64(rng, OC, device=device)
    y = F.conv1d(x, w, b, stride, padding, dilation, groups)
    expected = conv1d_reference(host(x), host(w), host(b), stride, padding, dilation, groups)
    np.testing.assert_allclose(host(y), expected, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda x, w, b: F.conv1d(x, w, b, stride, padding, dilation, groups),
                     (x, w, b))


def test_conv1d_second_derivatives(rng):
    x, w = leaf64(rng, 2, 2, 6), leaf64(rng, 3, 2, 3)
    assert gradgradcheck(lambda x, w: F.conv1d(x, w, padding=1), (x, w))


@pytest.mark.parametrize("C, OC, K, stride, padding, dilation, groups", CONFIGS)
def test_conv_transpose1d_is_the_adjoint_and_gradchecks(rng, device, C, OC, K, stride, padding,
                                                        dilation, groups):
    """<conv1d(x, w), y> == <x, conv_transpose1d(y, w)> for the same weight."""
    x = leaf64(rng, 2, C, 9, device=device)
    w = leaf64(rng, OC, C // groups, K, device=device)
    y = F.conv1d(x, w, None, stride, padding, dilation, groups)
    v = leaf64(rng, *y.shape, device=device)
    output_padding = 9 - ((y.shape[-1] - 1) * stride - 2 * padding + dilation * (K - 1) + 1)
    back = F.conv_transpose1d(v, w, None, stride, padding, output_padding, groups, dilation)
    assert back.shape == x.shape
    np.testing.assert_allclose(float((host(y) * host(v)).sum()),
                               float((host(x) * host(back)).sum()), rtol=1e-10)
    b = leaf64(rng, C, device=device)
    assert gradcheck(lambda v, w, b: F.conv_transpose1d(v, w, b, stride, padding,
                                                        output_padding, groups, dilation),
                     (v, w, b))


@pytest.mark.parametrize("K, dilation", [(3, 1), (4, 1), (3, 2), (2, 3)])
def test_same_and_valid_padding(rng, K, dilation):
    x, w = leaf64(rng, 1, 2, 10), leaf64(rng, 3, 2, K)
    same = F.conv1d(x, w, padding="same", dilation=dilation)
    assert same.shape == (1, 3, 10)
    total = dilation * (K - 1)                     # the odd one goes on the right, as PyTorch
    padded = np.pad(host(x), ((0, 0), (0, 0), (total // 2, total - total // 2)))
    np.testing.assert_allclose(host(same), conv1d_reference(padded, host(w), None, 1, 0,
                                                            dilation, 1), rtol=1e-12)
    valid = F.conv1d(x, w, padding="valid", dilation=dilation)
    np.testing.assert_allclose(host(valid), host(F.conv1d(x, w, dilation=dilation)))
    assert gradcheck(lambda x, w: F.conv1d(x, w, padding="same", dilation=dilation), (x, w))


def test_unbatched_input(rng):
    x, w, b = leaf64(rng, 3, 8), leaf64(rng, 4, 3, 3), leaf64(rng, 4)
    y = F.conv1d(x, w, b, padding=1)
    assert y.shape == (4, 8)
    np.testing.assert_allclose(host(y), host(F.conv1d(x.unsqueeze(0), w, b, padding=1))[0])
    t = F.conv_transpose1d(y, w, stride=2)              # w read as (in 4, out 3, k)
    assert t.shape == (3, 17)


def test_errors_name_the_shapes(rng):
    x, w = leaf64(rng, 2, 3, 8), leaf64(rng, 4, 3, 3)
    with pytest.raises(RuntimeError, match=r"Expected 2D \(unbatched\) or 3D"):
        F.conv1d(leaf64(rng, 1, 2, 3, 8), w)
    with pytest.raises(RuntimeError, match="expected a 3D weight"):
        F.conv1d(x, leaf64(rng, 4, 3, 1, 3))
    with pytest.raises(RuntimeError, match=r"to have 3 channels, but got 2"):
        F.conv1d(leaf64(rng, 2, 2, 8), w)
    with pytest.raises(ValueError, match="strided"):
        F.conv1d(x, w, stride=2, padding="same")
    with pytest.raises(RuntimeError, match=r"to have 4 channels, but got 3"):
        F.conv_transpose1d(x, w)
    with pytest.raises(ValueError, match="tuple of one int"):
        F.conv1d(x, w, stride=(1, 1))


def test_modules_state_dict_init_and_repr():
    tg.manual_seed(0)
    conv = nn.Conv1d(4, 6, 3, groups=2)
    assert list(conv.state_dict()) == ["weight", "bias"]
    assert conv.weight.shape == (6, 2, 3) and conv.bias.shape == (6,)
    bound = 1 / math.sqrt(2 * 3)
    assert bound * 0.8 < np.abs(host(conv.weight)).max() <= bound
    assert repr(conv) == "Conv1d(4, 6, kernel_size=(3,), stride=(1,), groups=2)"
    other = nn.Conv1d(4, 6, 3, padding="same", padding_mode="reflect", bias=False, dilation=2,
                      groups=2)
    assert repr(other) == ("Conv1d(4, 6, kernel_size=(3,), stride=(1,), padding=same, "
                           "dilation=(2,), groups=2, bias=False, padding_mode=reflect)")
    transposed = nn.ConvTranspose1d(4, 6, 3, stride=2, output_padding=1)
    assert transposed.weight.shape == (4, 6, 3)
    assert repr(transposed) == ("ConvTranspose1d(4, 6, kernel_size=(3,), stride=(2,), "
                                "output_padding=(1,))")
    assert not isinstance(conv, nn.Conv2d) and not isinstance(transposed, nn.ConvTranspose2d)


def test_module_errors():
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv1d(2, 2, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="strided"):
        nn.Conv1d(2, 2, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv1d(3, 2, 3, groups=2)
    with pytest.raises(ValueError, match="Only 'zeros' padding mode"):
        nn.ConvTranspose1d(2, 2, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="valid sizes range from"):
        nn.ConvTranspose1d(2, 2, 3, stride=2)(tg.zeros(1, 2, 5), output_size=[20])


def _check_module_against_torch(torch, rng, ours, theirs, x, *args):
    """``theirs`` (PyTorch's module) given the weights of ``ours`` (tinygen's), both called on
    the float64 array ``x`` and ``args``: the outputs, then the gradients of x and of the
    weight under a random grad_output, must agree."""
    with torch.no_grad():
        for name, value in ours.state_dict().items():
            getattr(theirs, name).copy_(torch.from_numpy(host(value)))
    x_ours, x_theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_ours, y_theirs = ours(x_ours, *args), theirs(x_theirs, *args)
    np.testing.assert_allclose(host(y_ours), y_theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(y_theirs.shape)
    y_ours.backward(tg.tensor(g))
    y_theirs.backward(torch.tensor(g))
    np.testing.assert_allclose(host(x_ours.grad), x_theirs.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(host(ours.weight.grad), theirs.weight.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=3), dict(kernel_size=3, stride=2, padding=2, dilation=2, groups=2),
    dict(kernel_size=4, padding="same"), dict(kernel_size=3, padding=2, padding_mode="reflect"),
    dict(kernel_size=3, padding="same", padding_mode="circular"),
    dict(kernel_size=2, padding=1, padding_mode="replicate", bias=False),
])
def test_conv1d_module_matches_torch(rng, kwargs):
    torch = pytest.importorskip("torch")
    _check_module_against_torch(torch, rng, nn.Conv1d(4, 6, dtype=tg.float64, **kwargs),
                                torch.nn.Conv1d(4, 6, dtype=torch.float64, **kwargs),
                                rng.standard_normal((2, 4, 11)))


@pytest.mark.parametrize("kwargs, output_size", [
    (dict(kernel_size=3), None), (dict(kernel_size=3, stride=2, padding=1, output_padding=1),
                                  None),
    (dict(kernel_size=3, stride=3, dilation=2, groups=2, bias=False), [24]),
])
def test_conv_transpose1d_module_matches_torch(rng, kwargs, output_size):
    torch = pytest.importorskip("torch")
    _check_module_against_torch(torch, rng, nn.ConvTranspose1d(4, 6, dtype=tg.float64, **kwargs),
                                torch.nn.ConvTranspose1d(4, 6, dtype=torch.float64, **kwargs),
                                rng.standard_normal((2, 4, 7)), output_size)
