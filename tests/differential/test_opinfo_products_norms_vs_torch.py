"""PyTorch's OpInfo samples for products and norms (matmul family, einsum, tensordot, norms,
distances, normalize, triplet losses) run through tinygen: values, dtypes and float64
gradients must match torch's."""

import pytest

from tests.differential.opinfo import check_op, ops_in

DIVERGES = {}


@pytest.mark.parametrize("op", ops_in("products_norms", DIVERGES))
def test_products_norms_op_matches_torch(op):
    check_op(op)
