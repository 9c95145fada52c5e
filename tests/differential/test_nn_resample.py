"""Differential tests of tinygen.nn.functional against PyTorch, part 2: adaptive pools,
interpolate and pad on small random configurations (values and float64 gradients, or
PyTorch's error type where PyTorch refuses the call)."""

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import tinygen as tg
import tinygen.nn.functional as F
from tests.differential.nn_compare import compare

torch = pytest.importorskip("torch")
TF = torch.nn.functional
FAST = settings(max_examples=10, deadline=None, derandomize=True,
                phases=[Phase.generate])


def _input(data, n, lo=1, hi=5):
    """A random (N, C, *spatial) or (C, *spatial) float64 array with n spatial dims."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    batch = data.draw(st.sampled_from([(), (2,)]))
    size = tuple(data.draw(st.integers(lo, hi)) for _ in range(n))
    return rng.standard_normal(batch + (data.draw(st.integers(1, 2)),) + size)


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("kind", ["avg", "max"])
@FAST
@given(data=st.data())
def test_adaptive_pool(n, kind, data):
    x = _input(data, n, hi=6 if n < 3 else 4)
    out = tuple(data.draw(st.one_of(st.none(), st.integers(1, 4))) if n > 1
                else data.draw(st.integers(1, 4)) for _ in range(n))
    size = out[0] if n == 1 or data.draw(st.booleans()) and out[0] else out
    kw = {"return_indices": data.draw(st.booleans())} if kind == "max" else {}
    name = f"adaptive_{kind}_pool{n}d"
    compare(torch, lambda a: getattr(F, name)(a, size, **kw),
            lambda a: getattr(TF, name)(a, size, **kw), [x])


MODES = {"nearest": (1, 2, 3), "nearest-exact": (1, 2, 3), "area": (1, 2, 3), "linear": (1,),
         "bilinear": (2,), "bicubic": (2,), "trilinear": (3,)}


@pytest.mark.parametrize("mode", sorted(MODES))
@settings(max_examples=8, deadline=None, derandomize=True,
                phases=[Phase.generate])
@given(data=st.data())
def test_interpolate(mode, data):
    n = data.draw(st.sampled_from(MODES[mode]))
    x = _input(data, n, hi=4)
    if x.ndim == n + 1:
        x = x[None]                         # interpolate wants a batch dim
    kw = {"mode": mode}
    if data.draw(st.booleans()):
        sizes = tuple(data.draw(st.integers(1, 6)) for _ in range(n))
        kw["size"] = sizes[0] if data.draw(st.booleans()) else sizes
    else:
        scales = tuple(data.draw(st.sampled_from([0.5, 0.7, 1.0, 1.5, 2.0, 2.5]))
                       for _ in range(n))
        kw["scale_factor"] = scales[0] if data.draw(st.booleans()) else scales
        kw["recompute_scale_factor"] = data.draw(st.sampled_from([None, False, True]))
    kw["align_corners"] = data.draw(st.sampled_from([None, False, True]))
    if mode == "area" and kw["align_corners"] is None and TF.interpolate(
            torch.tensor(x), **kw).numel() == 0:
        return  # known divergence: torch gives an empty 'area' output, tinygen raises
    # Known divergence (pinned by tests/ops/test_interpolate.py): an empty output size raises
    # ValueError in tinygen, RuntimeError in torch.
    compare(torch, lambda a: F.interpolate(a, **kw), lambda a: TF.interpolate(a, **kw), [x],
            also=(ValueError,))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@settings(max_examples=15, deadline=None, derandomize=True,
                phases=[Phase.generate])
@given(data=st.data())
def test_pad(mode, data):
    ndim = data.draw(st.integers(1, 5) if mode == "constant" else st.integers(2, 5))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = rng.standard_normal(tuple(data.draw(st.integers(1, 4)) for _ in range(ndim)))
    if mode == "constant":
        padded = data.draw(st.integers(1, min(ndim, 3)))
    else:   # the (input dims, padded dims) torch implements; see the skip below
        padded = data.draw(st.integers(max(1, ndim - 2), min(ndim - 1, 3)))
    low = -2 if mode == "constant" else 0     # see test_pad_negative_widths_non_constant
    widths = tuple(data.draw(st.integers(low, 3)) for _ in range(2 * padded))
    kw = {"mode": mode}
    if mode == "constant":
        kw["value"] = data.draw(st.sampled_from([None, 0.0, -1.5]))
    # Known divergence (pinned by tests/ops/test_pad.py): a too-wide reflect/circular pad, or
    # one checked for size before the dims, raises ValueError in tinygen, RuntimeError or
    # NotImplementedError in torch.
    also = () if mode == "constant" else (ValueError,)
    compare(torch, lambda a: F.pad(a, widths, **kw), lambda a: TF.pad(a, widths, **kw), [x],
            also=also)


def test_pad_crop_past_the_edge_raises_runtime_error():
    """Regression: a negative width that crops past the edge (then pads) raised NumPy's
    ValueError from the copy; PyTorch raises RuntimeError (it crops first)."""
    x = np.ones((2, 1))
    with pytest.raises(RuntimeError):
        TF.pad(torch.tensor(x), (-2, 3))
    with pytest.raises(RuntimeError, match="negative"):
        F.pad(tg.tensor(x), (-2, 3))


def test_pad_negative_widths_non_constant():
    x = np.arange(12.0).reshape(1, 3, 4)
    for mode in ("reflect", "replicate", "circular"):
        compare(torch, lambda a: F.pad(a, (-1, 2), mode=mode),
                lambda a: TF.pad(a, (-1, 2), mode=mode), [x])
