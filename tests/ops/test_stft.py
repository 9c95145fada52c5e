"""stft and istft: values and gradients against torch, gradcheck, the round trip, bad input."""

import numpy as np
import pytest

import tinygen as tg
from tinygen.autograd import gradcheck, gradgradcheck

pytestmark = pytest.mark.filterwarnings("ignore:A window was not provided")  # torch's
RNG = np.random.default_rng(5)
SIGNAL = RNG.standard_normal((2, 30))

SETTINGS = [
    dict(n_fft=8),
    dict(n_fft=8, hop_length=3, win_length=6, center=False),
    dict(n_fft=7, hop_length=2, normalized=True, pad_mode="constant"),
    dict(n_fft=8, hop_length=2, onesided=False),
    dict(n_fft=6, hop_length=2, pad_mode="replicate", window="hann"),
]


def _window(lib, settings):
    settings = dict(settings)
    if settings.get("window") == "hann":
        size = settings.get("win_length", settings["n_fft"])
        settings["window"] = lib.hann_window(size, dtype=lib.float64)
    return settings


@pytest.mark.parametrize("settings", SETTINGS, ids=range(len(SETTINGS)))
def test_stft_and_istft_match_torch(settings):
    torch = pytest.importorskip("torch")
    ours = tg.stft(tg.tensor(SIGNAL), return_complex=True, **_window(tg, settings))
    theirs = torch.stft(torch.tensor(SIGNAL), return_complex=True, **_window(torch, settings))
    assert tuple(ours.shape) == tuple(theirs.shape) and ours.dtype == tg.complex128
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-12)
    if settings.get("center", True):
        inverse = {k: v for k, v in settings.items() if k != "pad_mode"}
        back = tg.istft(ours, length=30, **_window(tg, inverse))
        expected = torch.istft(theirs, length=30, **_window(torch, inverse))
        np.testing.assert_allclose(back.numpy(), expected.numpy(), atol=1e-12)
        np.testing.assert_allclose(back.numpy(), SIGNAL, atol=1e-12)      # the round trip


def test_gradients_match_torch():
    torch = pytest.importorskip("torch")
    weights = RNG.standard_normal((5, 16))
    grads = []
    for lib in (tg, torch):
        x = lib.tensor(SIGNAL[0], requires_grad=True)
        window = lib.hann_window(8, dtype=lib.float64)
        spec = lib.stft(x, 8, 2, window=window, return_complex=True)
        y = lib.istft(spec * spec.abs(), 8, 2, window=window, length=24)
        loss = (spec.abs() * lib.tensor(weights[:, :spec.shape[1]])).sum() + (y * y).sum()
        loss.backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-9, atol=1e-10)


def test_gradcheck_and_methods():
    x = tg.tensor(SIGNAL[0, :12], requires_grad=True)
    window = tg.hann_window(6, dtype=tg.float64)
    assert gradcheck(lambda t: t.stft(6, 2, window=window, return_complex=True), (x,))
    assert gradgradcheck(lambda t: tg.stft(t, 4, return_complex=True).abs(), (x,))
    spec = tg.stft(x.detach(), 6, 2, window=window, return_complex=True).requires_grad_()
    assert gradcheck(lambda s: s.istft(6, 2, window=window, length=12), (spec,))


def test_bad_arguments_raise():
    x = tg.ones(16)
    with pytest.raises(RuntimeError, match="return_complex"):
        tg.stft(x, 4)
    with pytest.raises(RuntimeError, match="win_length"):
        tg.stft(x, 4, win_length=5, return_complex=True)
    with pytest.raises(RuntimeError, match="1D or 2D"):
        tg.stft(tg.ones(1, 2, 16), 4, return_complex=True)
    with pytest.raises(RuntimeError, match="complex-valued"):
        tg.istft(tg.ones(3, 5), 4)
    with pytest.raises(RuntimeError, match="overlap add"):
        tg.istft(tg.stft(x, 4, 1, return_complex=True), 4, 1, window=tg.zeros(4))
    with pytest.warns(UserWarning, match="deprecated"):
        pairs = tg.stft(x, 4, return_complex=False)
    assert pairs.shape == (3, 17, 2)


def test_complex_signal_needs_no_return_complex():
    z = tg.tensor(SIGNAL[0, :16] * (1 + 1j))
    assert tg.stft(z, 4).shape == (4, 17) and tg.stft(z, 4).dtype == tg.complex128
