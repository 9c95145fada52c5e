"""tg.fft: values against numpy.fft and torch.fft, PyTorch's dtypes, n/s/dim/norm handling,
first and second gradients (gradcheck in float64/complex128) and gradients against torch."""

import numpy as np
import pytest

import tinygen as tg
from tinygen.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(3)
NORMS = [None, "backward", "ortho", "forward"]


def _real(*shape):
    return RNG.standard_normal(shape)


def _complex(*shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


# name, input maker, keyword arguments (n/s/dim), real input allowed for the c2c transforms
CASES = [
    ("fft", _complex, (5,), {}),
    ("fft", _real, (2, 5), {"n": 4, "dim": 0}),
    ("fft", _complex, (3,), {"n": 5}),
    ("ifft", _complex, (4,), {}),
    ("ifft", _real, (3, 2), {"n": 4, "dim": 0}),
    ("rfft", _real, (5,), {}),
    ("rfft", _real, (2, 6), {"n": 7}),
    ("irfft", _complex, (4,), {}),
    ("irfft", _complex, (4,), {"n": 7}),
    ("irfft", _complex, (3, 2), {"n": 6, "dim": 0}),
    ("fft2", _complex, (2, 3), {}),
    ("ifft2", _complex, (2, 3), {"s": (3, 2)}),
    ("rfft2", _real, (3, 4), {}),
    ("irfft2", _complex, (3, 3), {}),
    ("fftn", _complex, (2, 2, 3), {"dim": (0, 2)}),
    ("ifftn", _complex, (2, 3), {}),
    ("rfftn", _real, (2, 3, 4), {"dim": (2, 0)}),
    ("irfftn", _complex, (2, 3, 3), {"s": (3, 4)}),
    ("irfftn", _complex, (2, 3), {"s": (-1, 5), "dim": (0, 1)}),
    ("hfft", _complex, (4,), {}),
    ("hfft", _complex, (3,), {"n": 5}),
    ("ihfft", _real, (5,), {}),
    ("ihfft", _real, (4,), {"n": 3}),
    ("hfft2", _complex, (2, 3), {}),
    ("hfftn", _complex, (2, 3, 3), {"s": (3, 5)}),
    ("hfftn", _complex, (3, 2), {"dim": (1, 0)}),
    ("ihfft2", _real, (3, 4), {}),
    ("ihfftn", _real, (2, 3, 5), {"dim": (2, 0)}),
    ("ihfftn", _real, (2, 4), {"s": (3, 3)}),
]
DUAL = {None: "forward", "backward": "forward", "ortho": "ortho", "forward": "backward"}
IDS = [f"{name}-{i}" for i, (name, *_rest) in enumerate(CASES)]


def _numpy_reference(name, x, kwargs, norm):
    kw = dict(kwargs)
    if "dim" in kw:
        kw["axis" if name[-1] != "n" and name[-1] != "2" else "axes"] = kw.pop("dim")
    if "s" in kw:
        kw["axes"] = axes = kw.get("axes", range(x.ndim - len(kw["s"]), x.ndim))
        kw["s"] = [x.shape[a] if n == -1 else n for a, n in zip(axes, kw["s"])]
    if name in ("hfft2", "hfftn"):       # NumPy has only the 1-D hfft: the same identity
        return np.fft.irfftn(np.conj(x), norm=DUAL[norm], **kw)
    if name in ("ihfft2", "ihfftn"):     # the inverse transform, halved along the last dim
        full = getattr(np.fft, "i" + name[2:])(x, norm=norm, **kw)
        last = list(kw.get("axes", [-1]))[-1]
        return full[(slice(None),) * (last % x.ndim) + (slice(0, full.shape[last] // 2 + 1),)]
    return getattr(np.fft, name)(x, norm=norm, **kw)


@pytest.mark.parametrize("case", range(len(CASES)), ids=IDS)
def test_values_against_numpy(case):
    name, make, shape, kwargs = CASES[case]
    x = make(*shape)
    for norm in NORMS:
        y = getattr(tg.fft, name)(tg.tensor(x), norm=norm, **kwargs)
        expected = _numpy_reference(name, x, kwargs, norm)
        assert y.dtype == expected.dtype and y.shape == expected.shape
        np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", range(len(CASES)), ids=IDS)
def test_gradients(case):
    name, make, shape, kwargs = CASES[case]
    fn = getattr(tg.fft, name)
    for norm in ("backward", "ortho", "forward"):
        x = tg.tensor(make(*shape), requires_grad=True)
        assert gradcheck(lambda t: fn(t, norm=norm, **kwargs), (x,))
    assert gradgradcheck(lambda t: fn(t, norm="ortho", **kwargs), (x,))


def test_values_dtypes_and_gradients_match_torch():
    torch = pytest.importorskip("torch")
    weights = _complex(64)
    for name, make, shape, kwargs in CASES:
        x = make(*shape).astype(np.complex64 if make is _complex else np.float32)
        for norm in ("backward", "ortho"):
            ours = getattr(tg.fft, name)(tg.tensor(x), norm=norm, **kwargs)
            theirs = getattr(torch.fft, name)(torch.tensor(x), norm=norm, **kwargs)
            assert str(theirs.dtype) == f"torch.{ours.dtype}"
            np.testing.assert_allclose(ours.numpy(), theirs.resolve_conj().numpy(),
                                       rtol=1e-4, atol=1e-5)
        grads = []
        x = x.astype(np.complex128 if make is _complex else np.float64)
        for lib in (tg, torch):
            t = lib.tensor(x, requires_grad=True)
            y = getattr(lib.fft, name)(t, norm="ortho", **kwargs)
            w = lib.tensor(weights[:y.numel()].reshape(tuple(y.shape)))
            loss = (w * y).abs().sum() if y.is_complex() else (w.real * y).sum()
            loss.backward()
            grads.append(np.asarray(t.grad.resolve_conj().numpy()))
        np.testing.assert_allclose(grads[0], grads[1], rtol=1e-9, atol=1e-10, err_msg=name)


def test_float32_and_integer_inputs_give_complex64():
    assert tg.fft.fft(tg.ones(4)).dtype == tg.complex64
    assert tg.fft.fft(tg.arange(4)).dtype == tg.complex64
    assert tg.fft.rfft(tg.ones(4, dtype=tg.float64)).dtype == tg.complex128
    assert tg.fft.irfft(tg.ones(3, dtype=tg.complex64)).dtype == tg.float32
    assert tg.fft.irfft(tg.ones(3)).shape == (4,)                 # real input taken as complex
    assert tg.fft.hfft(tg.ones(3)).dtype == tg.float32


def test_shift_and_frequencies():
    x = np.arange(12.0).reshape(3, 4)
    for fn in ("fftshift", "ifftshift"):
        np.testing.assert_array_equal(getattr(tg.fft, fn)(tg.tensor(x)).numpy(),
                                      getattr(np.fft, fn)(x))
        np.testing.assert_array_equal(getattr(tg.fft, fn)(tg.tensor(x), dim=1).numpy(),
                                      getattr(np.fft, fn)(x, axes=1))
    for n, d in ((5, 1.0), (6, 0.5)):
        np.testing.assert_allclose(tg.fft.fftfreq(n, d).numpy(), np.fft.fftfreq(n, d), 1e-6)
        np.testing.assert_allclose(tg.fft.rfftfreq(n, d).numpy(), np.fft.rfftfreq(n, d), 1e-6)
    assert tg.fft.fftfreq(4).dtype == tg.float32
    assert tg.fft.rfftfreq(4, dtype=tg.float64).dtype == tg.float64
    z = tg.tensor(_complex(5), requires_grad=True)
    assert gradcheck(tg.fft.fftshift, (z,)) and gradcheck(tg.fft.ifftshift, (z,))


def test_round_trips():
    x = tg.tensor(_real(2, 6))
    np.testing.assert_allclose(tg.fft.irfft(tg.fft.rfft(x), n=6).numpy(), x.numpy(), atol=1e-12)
    np.testing.assert_allclose(tg.fft.ifftn(tg.fft.fftn(x)).real.numpy(), x.numpy(), atol=1e-12)
    np.testing.assert_allclose(tg.fft.hfft(tg.fft.ihfft(x), n=6).numpy(), x.numpy(), atol=1e-12)


def test_bad_arguments_raise():
    x = tg.ones(4)
    with pytest.raises(RuntimeError, match="Invalid normalization mode"):
        tg.fft.fft(x, norm="bad")
    with pytest.raises(RuntimeError, match="rfft expects a real input"):
        tg.fft.rfft(x.to(tg.complex64))
    with pytest.raises(IndexError, match="out of range"):
        tg.fft.fft(x, dim=2)
    with pytest.raises(RuntimeError, match="same length"):
        tg.fft.fftn(tg.ones(2, 2), s=(2, 2), dim=(0,))
    with pytest.raises(RuntimeError, match="invalid number of data points"):
        tg.fft.fft(x, n=0)
    with pytest.raises(RuntimeError, match="unique"):
        tg.fft.fft2(tg.ones(2, 2), dim=(0, 0))
