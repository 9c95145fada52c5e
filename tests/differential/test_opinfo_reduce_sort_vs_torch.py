"""PyTorch's OpInfo samples for the reductions, sorts, scans and statistics (sum, var, sort,
topk, quantile, cumsum, cov, unique, ...) run through tinygen: values, dtypes and float64
gradients must match torch's."""

import numpy as np
import pytest

from tests.differential.opinfo import (
    MAX_SAMPLES, check_op, op_id, ops_in, ours, to_tinygen)
from tests.helpers import host

torch = pytest.importorskip("torch")

DIVERGES = {}

# Ops returning indices of order statistics: among equal values PyTorch's indices are an
# implementation choice (unless sort's stable=True), so where ties are likely (int64 and bool
# samples) only the values are compared, and the indices are checked to point at them.
# Positional parameters after the input, to read dim / keepdim / stable from a sample.
TIE_OPS = {"sort": ("dim", "descending"), "argsort": ("dim", "descending"),
           "topk": ("k", "dim", "largest", "sorted"), "kthvalue": ("k", "dim", "keepdim"),
           "mode": ("dim", "keepdim")}
TIE_DTYPES = ("int64", "bool")


def _params(op, sample):
    return {**dict(zip(TIE_OPS[op.name], sample.args)), **sample.kwargs}


def _check_tie_indices(op):
    """For int64 and bool samples: values equal torch's, and input[indices] equals them."""
    ours_fn, problems = ours(op), []
    supported = {str(d).split(".")[-1] for d in op.supported_dtypes("cpu")}
    for name in TIE_DTYPES:
        if name not in supported:
            continue
        torch.manual_seed(0)
        for i, sample in enumerate(op.sample_inputs("cpu", getattr(torch, name))):
            if i == MAX_SAMPLES:
                break
            params, x = _params(op, sample), sample.input
            if op.name == "argsort":
                values = torch.sort(x, params.get("dim", -1), params.get("descending", False))[0]
                indices = ours_fn(to_tinygen(x, {}), *sample.args, **sample.kwargs)
            else:
                values = op.op(x, *sample.args, **sample.kwargs)[0]
                mine = ours_fn(to_tinygen(x, {}), *sample.args, **sample.kwargs)
                indices = mine[1]
                if not np.array_equal(host(mine[0]), values.numpy()):
                    problems.append(f"{name} sample {i}: values differ")
                    continue
            indices = torch.from_numpy(np.asarray(host(indices)))
            if x.ndim == 0:
                found = x.reshape(1)[indices.reshape(1)].reshape(())
            else:
                dim = params.get("dim", -1)
                if op.name in ("kthvalue", "mode") and not params.get("keepdim", False):
                    indices, values = indices.unsqueeze(dim), values.unsqueeze(dim)
                found = torch.gather(x, dim, indices)
            if not torch.equal(found, values):
                problems.append(f"{name} sample {i}: input at the indices is not the values")
    assert not problems, "\n".join(problems)


def _tie_free(sample):
    """Samples compared in full: all but int64/bool ones, and stable sorts, which must match."""
    return str(sample.input.dtype).split(".")[-1] not in TIE_DTYPES or bool(
        sample.kwargs.get("stable"))


@pytest.mark.parametrize("op", ops_in("reduce_sort", DIVERGES))
def test_reduce_sort_op_matches_torch(op):
    if op_id(op) not in TIE_OPS:
        check_op(op)
        return
    check_op(op, skip=lambda sample: not _tie_free(sample))
    check_op(op, dtypes=TIE_DTYPES, values=False)
    _check_tie_indices(op)
