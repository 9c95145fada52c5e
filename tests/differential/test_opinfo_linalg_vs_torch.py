"""PyTorch's OpInfo samples for the linear-algebra ops (torch.linalg and the older torch.det,
torch.lu, ... names) run through tinygen: values, dtypes and float64 gradients must match.

Where an output is defined only up to a choice the values are not compared directly; the
invariant is checked instead (see the helpers below)."""

import numpy as np
import pytest

from tests.differential.opinfo import (
    MAX_SAMPLES, TOLERANCE, check_op, op_id, ops_in, ours, to_tinygen, torch)
from tests.helpers import host

import tinygen as tg

DIVERGES = {}


def _samples(op, dtype, requires_grad=False):
    torch.manual_seed(0)
    for i, sample in enumerate(op.sample_inputs("cpu", dtype, requires_grad=requires_grad)):
        if i == MAX_SAMPLES:
            return
        yield sample


def _check_eigenpairs(op):
    """Eigenvectors are unique only up to a sign (eigh) or a phase (eig), which depends on the
    LAPACK build: eigenvalues must equal torch's, and each eigenvector must be torch's times a
    unit-modulus factor, |v^H v_torch| = 1 (the samples' eigenvalues are distinct)."""
    fn = ours(op)
    for name in ("float64", "float32", "complex128"):
        if getattr(torch, name) not in op.supported_dtypes("cpu"):
            continue
        rtol, atol = TOLERANCE[name]
        for sample in _samples(op, getattr(torch, name)):
            L_t, V_t = op.op(sample.input, *sample.args, **sample.kwargs)
            memo = {}
            L, V = fn(to_tinygen(sample.input, memo), *to_tinygen(sample.args, memo),
                      **to_tinygen(sample.kwargs, memo))
            np.testing.assert_allclose(host(L), L_t.numpy(), rtol=rtol, atol=atol)
            overlap = np.abs((host(V).conj() * V_t.numpy()).sum(-2))
            np.testing.assert_allclose(overlap, 1, rtol=0, atol=100 * atol)


def _triangular_input_grads(op, idx):
    """cholesky_inverse and cholesky_solve read one triangle of their factor. PyTorch's
    gradient for it is written as if the whole matrix were used (its own OpInfo test runs the
    op on tril/triu of the input, gradcheck_wrapper_triangular_input), so it is non-zero on the
    triangle that is never read, where tinygen's (the true partial derivative) is zero.
    Compared as PyTorch does: both run on the triangle that is read."""
    fn = ours(op)

    def run(f, args, kwargs):
        args = list(args)
        args[idx] = args[idx].triu() if kwargs.get("upper", False) else args[idx].tril()
        return f(*args, **kwargs)

    for sample in _samples(op, torch.float64, requires_grad=True):
        memo = {}
        args = (sample.input, *sample.args)
        t_out = run(op.op, args, sample.kwargs)
        o_out = run(fn, to_tinygen(args, memo), to_tinygen(sample.kwargs, memo))
        weight = np.random.default_rng(0).standard_normal(tuple(t_out.shape))
        leaves = [a for a in args if a.requires_grad]
        t_grads = torch.autograd.grad((t_out * torch.tensor(weight)).sum(), leaves)
        o_grads = tg.autograd.grad((o_out * tg.tensor(weight)).sum(),
                                   [memo[id(a)] for a in leaves])
        for o, t in zip(o_grads, t_grads):
            np.testing.assert_allclose(host(o), t.numpy(), rtol=1e-6, atol=1e-6)


# op id -> (check_op options, extra invariant check)
SPECIAL = {
    "linalg.eig": ({"values": False}, _check_eigenpairs),
    "linalg.eigh": ({"values": False}, _check_eigenpairs),
    # the gradients are compared on the triangle that is read (see _triangular_input_grads)
    "cholesky_inverse": ({"grads": False}, lambda op: _triangular_input_grads(op, 0)),
    "cholesky_solve": ({"grads": False}, lambda op: _triangular_input_grads(op, 1)),
    # tinygen's Pade approximant runs in float64 for float32 input; PyTorch's in float32 is
    # off by 2e-3 (relative) on a sample of norm 27, so float32 values are not compared
    "matrix_exp": ({"dtypes": ("float64", "complex128")}, None),
}


@pytest.mark.parametrize("op", ops_in("linalg", DIVERGES))
def test_linalg_op_matches_torch(op):
    options, invariant = SPECIAL.get(op_id(op), ({}, None))
    check_op(op, **options)
    if invariant is not None:
        invariant(op)
