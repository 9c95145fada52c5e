"""Unfold / Fold: a loop reference for the block layout, fold as unfold's adjoint, gradients,
errors, reprs, and PyTorch's values."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host, leaf64
from tinygen import nn
from tinygen.autograd import gradcheck, gradgradcheck


def unfold_reference(x, k, d, p, s):
    """cols[n, (c*kh + i)*kw + j, oh*OW + ow] = x[n, c, oh*s - p + i*d, ow*s - p + j*d]."""
    N, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    OH, OW = ((n + 2 * p - d * (k - 1) - 1) // s + 1 for n in (H, W))
    cols = np.empty((N, C, k, k, OH, OW))
    for i in range(k):
        for j in range(k):
            cols[:, :, i, j] = xp[:, :, i * d:i * d + s * (OH - 1) + 1:s,
                                  j * d:j * d + s * (OW - 1) + 1:s]
    return cols.reshape(N, C * k * k, OH * OW)


@pytest.mark.parametrize("k, d, p, s", [(2, 1, 0, 1), (3, 1, 1, 2), (2, 2, 1, 1), (3, 2, 2, 3)])
def test_unfold_reference_adjoint_and_gradcheck(rng, device, k, d, p, s):
    x = leaf64(rng, 2, 3, 7, 8, device=device)
    cols = F.unfold(x, k, d, p, s)
    np.testing.assert_allclose(host(cols), unfold_reference(host(x), k, d, p, s))
    v = leaf64(rng, *cols.shape, device=device)
    back = F.fold(v, (7, 8), k, d, p, s)
    np.testing.assert_allclose(float((host(cols) * host(v)).sum()),
                               float((host(x) * host(back)).sum()), rtol=1e-10)
    assert gradcheck(lambda x: F.unfold(x, k, d, p, s), (x,))
    assert gradcheck(lambda v: F.fold(v, (7, 8), k, d, p, s), (v,))


def test_unbatched_and_second_derivatives(rng):
    x = leaf64(rng, 2, 4, 5)
    cols = F.unfold(x, (2, 3))
    assert cols.shape == (12, 9)
    assert F.fold(cols, (4, 5), (2, 3)).shape == (2, 4, 5)
    assert gradgradcheck(lambda x: F.unfold(x * x, 2), (x,))


def test_errors():
    with pytest.raises(RuntimeError, match=r"Only 3D or 4D input"):
        F.unfold(tg.zeros(4, 4), 2)
    with pytest.raises(RuntimeError, match="too small"):
        F.unfold(tg.zeros(1, 1, 2, 2), 3)
    with pytest.raises(RuntimeError, match="divisible by the product of kernel_size"):
        F.fold(tg.zeros(1, 5, 12), (4, 5), 2)
    with pytest.raises(RuntimeError, match=r"sliding blocks 3 \* 4 = 12, but got input.size"):
        F.fold(tg.zeros(1, 4, 10), (4, 5), 2)


def test_reprs():
    assert repr(nn.Fold(output_size=(4, 5), kernel_size=2)) == (
        "Fold(output_size=(4, 5), kernel_size=2, dilation=1, padding=0, stride=1)")
    assert repr(nn.Unfold(kernel_size=(2, 3), stride=2)) == (
        "Unfold(kernel_size=(2, 3), dilation=1, padding=0, stride=2)")


def test_match_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 7, 8))
    cols = nn.Unfold(3, 2, 1, 2)(tg.tensor(x))
    expected = torch.nn.Unfold(3, 2, 1, 2)(torch.tensor(x))
    np.testing.assert_allclose(host(cols), expected.numpy())
    np.testing.assert_allclose(host(nn.Fold((7, 8), 3, 2, 1, 2)(cols)),
                               torch.nn.Fold((7, 8), 3, 2, 1, 2)(expected).numpy())
