"""The ``out=`` keyword given by ops/out_param.accepts_out: the result lands in ``out``, whose
dtype must match, and ops whose PyTorch kernels read while writing refuse an ``out`` that
shares memory with an input (RuntimeError, as PyTorch)."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host


def test_out_receives_the_result():
    x = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
    index = tg.tensor([[1, 0], [0, 0]])
    out = tg.zeros(2, 2)
    assert tg.gather(x, 1, index, out=out) is out
    np.testing.assert_array_equal(host(out), [[2.0, 1.0], [3.0, 3.0]])
    values, indices = tg.zeros(2), tg.zeros(2, dtype=tg.int64)
    result = tg.kthvalue(x, 1, 1, out=(values, indices))
    assert result.values is values and result.indices is indices
    np.testing.assert_array_equal(host(values), [1.0, 3.0])


@pytest.mark.parametrize("call", [
    lambda x: tg.gather(x, 0, tg.tensor([0, 1, 2]), out=x),
    lambda x: tg.take(x, tg.tensor([0, 1, 2]), out=x),
    lambda x: tg.masked_select(x, x > 0, out=x),
    lambda x: tg.index_select(x, 0, tg.tensor([0, 1, 2]), out=x),
    lambda x: tg.cat([x[:1], x[1:]], out=x),
    lambda x: tg.kthvalue(x, 1, out=(x, tg.zeros(3, dtype=tg.int64))),
    lambda x: tg.bernoulli(x, out=x[:]),
], ids=["gather", "take", "masked_select", "index_select", "cat", "kthvalue", "bernoulli"])
def test_out_sharing_an_input_is_refused(call):
    x = tg.tensor([0.5, 0.25, 1.0])
    with pytest.raises(RuntimeError, match="unsupported operation"):
        call(x)


def test_out_of_another_dtype_is_refused():
    x = tg.tensor([0.5, 0.5])
    with pytest.raises(RuntimeError, match="dtype"):
        tg.multinomial(x, 1, out=tg.zeros(1, dtype=tg.float64))
    with pytest.raises(RuntimeError, match="dtype"):
        tg.complex(x.double(), x.double(), out=tg.zeros(2, dtype=tg.complex64))
    with pytest.raises(RuntimeError, match="dtype"):
        tg.amax(tg.ones(2, 2), 0, out=tg.zeros(2, dtype=tg.int32))


def test_reductions_may_write_into_their_input():
    x = tg.tensor([3.0, 1.0, 2.0])
    tg.amax(x, 0, keepdim=True, out=x[:1])          # PyTorch allows it for amax
    np.testing.assert_array_equal(host(x), [3.0, 1.0, 2.0])


def test_arange_out_takes_its_dtype():
    out = tg.zeros(4, dtype=tg.int64)
    assert tg.arange(0, 4, out=out) is out
    np.testing.assert_array_equal(host(out), [0, 1, 2, 3])
    with pytest.raises(ValueError, match="step must be nonzero"):      # 0.5 truncates to 0
        tg.arange(0, 64, 0.5, out=tg.zeros(128, dtype=tg.int64))
