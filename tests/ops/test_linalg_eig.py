"""linalg.eig and linalg.eigvals: values against NumPy and the definition A V = V diag(L),
gradients (to second order, complex128 and float64) of phase-invariant losses, the phase check
of PyTorch's backward, values and gradients against torch, and errors."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host, leaf64
from tinygen.autograd import gradcheck, gradgradcheck


def _c(rng, *shape):
    return tg.tensor(rng.standard_normal(shape) + 1j * rng.standard_normal(shape),
                     requires_grad=True)


def test_eig_values_real_and_complex(rng):
    for A in (leaf64(rng, 2, 3, 3), _c(rng, 3, 3)):
        L, V = tg.linalg.eig(A)
        assert L.dtype == V.dtype == tg.complex128
        a = host(A).astype(np.complex128)
        np.testing.assert_allclose(a @ host(V), host(V) * host(L)[..., None, :], atol=1e-12)
        np.testing.assert_allclose(np.linalg.norm(host(V), axis=-2), 1.0, rtol=1e-12)
        np.testing.assert_allclose(host(L), np.linalg.eigvals(a), rtol=1e-12)
        np.testing.assert_allclose(host(tg.linalg.eigvals(A)), host(L), rtol=1e-12)
    rotation = tg.tensor([[0.0, -1.0], [1.0, 0.0]])
    assert tg.linalg.eigvals(rotation).dtype == tg.complex64
    np.testing.assert_allclose(sorted(host(tg.linalg.eigvals(rotation)), key=np.imag),
                               [-1j, 1j], atol=1e-6)


def _phase_free(L, V):
    """A loss of L and V that does not depend on the phases of V's columns."""
    return L, V.abs(), (V * V.conj()).real


def test_eig_gradients(rng):
    A, B = _c(rng, 3, 3), leaf64(rng, 2, 3, 3)
    for x in (A, B):
        assert gradcheck(lambda a: _phase_free(*tg.linalg.eig(a)), (x,))
        assert gradgradcheck(lambda a: _phase_free(*tg.linalg.eig(a)), (x,))
        assert gradcheck(tg.linalg.eigvals, (x,))
        assert gradgradcheck(tg.linalg.eigvals, (x,))
    B.grad = None
    tg.linalg.eigvals(B).real.sum().backward()
    assert B.grad.dtype == tg.float64                     # real input: the real part
    np.testing.assert_allclose(host(B.grad), np.broadcast_to(np.eye(3), (2, 3, 3)), atol=1e-12)


def test_eig_phase_dependent_loss_raises(rng):
    A = _c(rng, 3, 3)
    _, V = tg.linalg.eig(A)
    with pytest.raises(RuntimeError, match="specified up to multiplication by e"):
        V[0, 0].real.backward()


def test_eig_against_torch(rng):
    torch = pytest.importorskip("torch")
    a = rng.standard_normal((2, 4, 4)) + 1j * rng.standard_normal((2, 4, 4))
    ours, theirs = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    L, V = tg.linalg.eig(ours)
    tL, tV = torch.linalg.eig(theirs)
    np.testing.assert_allclose(host(L), tL.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(host(V), tV.detach().numpy(), atol=1e-10)   # same LAPACK geev
    gL = rng.standard_normal(L.shape) + 1j * rng.standard_normal(L.shape)
    ((L * tg.tensor(gL)).real.sum() + V.abs().sum()).backward()
    ((tL * torch.tensor(gL)).real.sum() + tV.abs().sum()).backward()
    np.testing.assert_allclose(host(ours.grad), theirs.grad.numpy(), rtol=1e-8, atol=1e-10)
    with pytest.raises(RuntimeError, match="specified up to multiplication"):
        torch.linalg.eig(theirs)[1][0, 0, 0].real.backward()


def test_eig_errors():
    with pytest.raises(RuntimeError, match="square matrices"):
        tg.linalg.eig(tg.zeros(2, 3))
    with pytest.raises(RuntimeError, match="floating point or complex"):
        tg.linalg.eigvals(tg.zeros(2, 2, dtype=tg.int64))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        tg.linalg.eig(tg.zeros(3))
    with pytest.raises(RuntimeError, match="linalg.eig"):      # torch.eig: removed
        tg.eig(tg.tensor([[1.0]]))
