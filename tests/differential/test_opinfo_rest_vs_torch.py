"""PyTorch's OpInfo samples for the ops no other sweep file takes (indexing, scatter/gather,
creation, views, random sampling, shape manipulation) run through tinygen: values, dtypes
and float64 gradients must match torch's."""

import copy

import numpy as np
import pytest

import tinygen as tg
from tests.differential.opinfo import check_op, op_id, ops_in
from tests.helpers import host

torch = pytest.importorskip("torch")

DIVERGES = {}


def _through_dense(op):
    """to_sparse compared through to_dense: the harness reads strided (dense) tensors only."""
    dense = copy.copy(op)
    dense.op = lambda x, *args: x.to_sparse(*args).to_dense()
    return dense


def _own_storage_offset(sample):
    """An explicit storage_offset into the storage of a view: the harness copies the view, so
    tinygen's input has no such storage (test_as_strided_reads_the_base_storage checks it)."""
    return "storage_offset" in sample.kwargs and sample.input.storage_offset() != 0


OPTIONS = {"as_strided.partial_views": {"skip": _own_storage_offset},
           # torch's own backward masks the complement of the written positions (its
           # gradcheck fails); tests/ops/test_view_copies.py gradchecks tinygen's instead
           "as_strided_scatter": {"grads": False}}
WRAPPED = {"to_sparse": _through_dense}


@pytest.mark.parametrize("op", ops_in("rest", DIVERGES))
def test_rest_op_matches_torch(op):
    check_op(WRAPPED.get(op_id(op), lambda o: o)(op), **OPTIONS.get(op_id(op), {}))


@pytest.mark.parametrize("offset", [0, 6, 10])
def test_as_strided_reads_the_base_storage(offset):
    """as_strided of a view counts storage_offset from its base's memory, and sends gradients
    only to the elements of the view itself, as torch does."""
    base = np.arange(20.0)
    t_base = torch.tensor(base, requires_grad=True)
    o_base = tg.tensor(base, requires_grad=True)
    t_out = t_base[5:15].as_strided((2, 2), (1, 2), storage_offset=offset)
    o_out = o_base[5:15].as_strided((2, 2), (1, 2), storage_offset=offset)
    np.testing.assert_array_equal(host(o_out), t_out.detach().numpy())
    t_out.sum().backward()
    o_out.sum().backward()
    np.testing.assert_array_equal(host(o_base.grad), t_base.grad.numpy())
