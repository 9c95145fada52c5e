"""``stft`` and ``istft``: the short-time Fourier transform and its inverse, as ``torch.stft``.

stft pads the signal (``center``: n_fft // 2 on each side, by ``pad_mode``), cuts it into frames
of ``n_fft`` samples ``hop_length`` apart (a strided view), multiplies each by the window (zero-
padded to n_fft, centred) and transforms it: the result is (batch?, frequencies, frames).
istft inverts each frame, multiplies by the window again and overlap-adds the frames, dividing
by the overlap-added squared window (the envelope), which must stay above 1e-11.

Both are built from differentiable ops (pad, unfold, fft, reshape), so they have gradients.
"""

import warnings

from tinygen import creation, dtypes, fft
from tinygen.ops.complex_ops import view_as_real
from tinygen.ops.pad import pad
from tinygen.ops.shape import reshape, transpose


def _window(window, win_length, n_fft, like):
    """The window (ones in ``like``'s real dtype when None) of win_length samples, centred in
    n_fft."""
    if win_length is None:
        win_length = n_fft if window is None else window.shape[0]
    if not 0 < win_length <= n_fft:
        raise RuntimeError(f"stft: expected 0 < win_length <= n_fft, but got win_length="
                           f"{win_length}, n_fft={n_fft}")
    if window is None:
        window = creation.ones(win_length, dtype=dtypes.to_real(like.dtype), device=like.device)
    if window.ndim != 1 or window.shape[0] != win_length:
        raise RuntimeError(f"stft: expected a 1D window tensor of size equal to win_length="
                           f"{win_length}, but got window with size {tuple(window.shape)}")
    left = (n_fft - win_length) // 2
    return pad(window, (left, n_fft - win_length - left)) if win_length < n_fft else window


def _checked(name, input, n_fft, hop_length):
    if input.ndim not in (1, 2):
        raise RuntimeError(f"{name}: expected a 1D or 2D tensor, but got {input.ndim}D "
                           f"(shape {tuple(input.shape)})")
    hop_length = n_fft // 4 if hop_length is None else hop_length
    if n_fft <= 0 or hop_length <= 0:
        raise RuntimeError(f"{name}: expected n_fft > 0 and hop_length > 0, but got "
                           f"n_fft={n_fft}, hop_length={hop_length}")
    return hop_length


def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
         pad_mode="reflect", normalized=False, onesided=None, return_complex=None):
    """The STFT of a (batch?, time) signal: (batch?, n_fft // 2 + 1 or n_fft, frames)."""
    if return_complex is None and (input.dtype.kind == "c" or getattr(window, "dtype",
                                                                      dtypes.float32).kind == "c"):
        return_complex = True                   # the only form a complex signal has
    if return_complex is None:
        raise RuntimeError("stft requires the return_complex parameter be given for real "
                           "inputs, and will further require that return_complex=True in a "
                           "future PyTorch release.")
    hop_length = _checked("stft", input, n_fft, hop_length)
    x = input if input.ndim == 2 else reshape(input, (1, -1))
    if center:
        half = n_fft // 2
        x = reshape(pad(reshape(x, (1,) + tuple(x.shape)), (half, half), pad_mode),
                    (x.shape[0], -1))
    if not 0 < n_fft <= x.shape[-1]:
        raise RuntimeError(f"stft: expected 0 < n_fft <= {x.shape[-1]} (the padded signal's "
                           f"length), but got n_fft={n_fft}")
    w = _window(window, win_length, n_fft, x)
    frames = x.unfold(-1, n_fft, hop_length) * w                # (batch, frames, n_fft)
    complex_input = x.dtype.kind == "c" or w.dtype.kind == "c"
    onesided = not complex_input if onesided is None else onesided
    if onesided and complex_input:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    norm = "ortho" if normalized else "backward"
    spectrum = fft.rfft(frames, norm=norm) if onesided else fft.fft(frames, norm=norm)
    out = transpose(spectrum, 1, 2)
    out = out if input.ndim == 2 else reshape(out, tuple(out.shape[1:]))
    if not return_complex:
        warnings.warn("stft with return_complex=False is deprecated; use return_complex=True "
                      "and view_as_real", UserWarning, stacklevel=2)
        return view_as_real(out.contiguous())
    return out


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
          normalized=False, onesided=None, length=None, return_complex=False):
    """The inverse of ``stft``: a (batch?, time) signal from (batch?, frequencies, frames)."""
    if input.dtype.kind != "c":
        raise RuntimeError(f"istft requires a complex-valued input tensor, got {input.dtype}")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"istft: expected a 2D or 3D complex tensor, but got {input.ndim}D "
                           f"(shape {tuple(input.shape)})")
    hop_length = _checked("istft", input[..., 0], n_fft, hop_length)
    spectrum = input if input.ndim == 3 else reshape(input, (1,) + tuple(input.shape))
    onesided = spectrum.shape[1] != n_fft if onesided is None else onesided
    expected = n_fft // 2 + 1 if onesided else n_fft
    if spectrum.shape[1] != expected:
        raise RuntimeError(f"istft: expected the frequency dim (-2) to have size {expected} "
                           f"(n_fft={n_fft}, onesided={onesided}), got {spectrum.shape[1]}")
    if onesided and return_complex:
        raise RuntimeError("istft: cannot have onesided and return_complex both True")
    norm = "ortho" if normalized else "backward"
    spectrum = transpose(spectrum, 1, 2)                            # (batch, frames, freq)
    if not onesided and not return_complex:     # a real signal: from its half spectrum, as torch
        spectrum, onesided = spectrum[..., :n_fft // 2 + 1], True
    frames = (fft.irfft(spectrum, n=n_fft, norm=norm) if onesided
              else fft.ifft(spectrum, norm=norm))
    w = _window(window, win_length, n_fft, frames)
    frames = frames * w
    count = frames.shape[1]
    y = _overlap_add(frames, hop_length)
    envelope = _overlap_add(reshape(w * w, (1, 1, n_fft)).expand(1, count, n_fft), hop_length)
    full = n_fft + hop_length * (count - 1)
    start = n_fft // 2 if center else 0
    end = start + length if length is not None else (full - n_fft // 2 if center else full)
    y, envelope = y[:, start:min(end, full)], envelope[:, start:min(end, full)]
    if bool((envelope.detach().abs() < 1e-11).any()):
        raise RuntimeError("istft(...): window overlap add min: the window's squared overlap-add "
                           "is nearly zero somewhere (check window, hop_length and center)")
    y = y / envelope
    if end > full:
        y = pad(y, (0, end - full))
    return y if input.ndim == 3 else reshape(y, tuple(y.shape[1:]))


def _overlap_add(frames, hop):
    """sum over t of frames[:, t] placed at t * hop: (batch, frames, n) -> (batch, length).

    Each frame is cut into pieces of ``hop`` samples; piece j of every frame lands in one
    contiguous stretch shifted by j * hop, so the sum takes ceil(n / hop) padded additions."""
    batch, count, n = frames.shape
    pieces = -(-n // hop)
    frames = pad(frames, (0, pieces * hop - n))
    frames = reshape(frames, (batch, count, pieces, hop))
    total = None
    for j in range(pieces):
        stretch = reshape(frames[:, :, j], (batch, count * hop))
        placed = pad(stretch, (j * hop, (pieces - 1 - j) * hop))
        total = placed if total is None else total + placed
    return total[:, :n + hop * (count - 1)]
