"""PyTorch's OpInfo samples for the elementwise ops (unary and binary ufuncs, torch.special,
torch.fft, torch.signal.windows) run through tinygen: values, dtypes and float64 gradients must
match torch's."""

import pytest

from tests.differential.opinfo import check_op, ops_in

DIVERGES = {
    "bfloat16": "x.bfloat16() raises TypeError: NumPy has no bfloat16 dtype, so tinygen has none "
                "(tinygen.dtypes.bfloat16 is a placeholder that says so)",
    "chalf": "x.chalf() raises TypeError: NumPy has no complex32 dtype, so tinygen has none "
             "(tinygen.dtypes.complex32 is a placeholder that says so)",
}


@pytest.mark.parametrize("op", ops_in("pointwise", DIVERGES))
def test_pointwise_op_matches_torch(op):
    check_op(op)
