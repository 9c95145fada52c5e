"""The *_copy twins of the view ops and as_strided_scatter: same values as the view, but their
own memory; gradients against finite differences."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host, shares_memory
from tinygen.autograd import gradcheck, gradgradcheck


@pytest.mark.parametrize("name, args, view", [
    ("t_copy", (), lambda x: x.t()),
    ("transpose_copy", (0, 1), lambda x: x.transpose(0, 1)),
    ("permute_copy", ((1, 0),), lambda x: x.permute(1, 0)),
    ("diagonal_copy", (1,), lambda x: x.diagonal(1)),
    ("expand_copy", ((2, 2, 3),), lambda x: x.expand(2, 2, 3)),
    ("unsqueeze_copy", (1,), lambda x: x.unsqueeze(1)),
    ("view_copy", ((3, 2),), lambda x: x.view(3, 2)),
    ("unfold_copy", (1, 2, 1), lambda x: x.unfold(1, 2, 1)),
    ("as_strided_copy", ((2, 2), (1, 2)), lambda x: x.as_strided((2, 2), (1, 2))),
    ("alias_copy", (), lambda x: x),
])
def test_copies_equal_the_view_in_their_own_memory(name, args, view):
    x = tg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    out = getattr(tg, name)(x, *args)
    np.testing.assert_array_equal(host(out), host(view(x.detach())))
    assert not shares_memory(out, x)
    assert gradcheck(lambda t: getattr(tg, name)(t, *args), (x,))


def test_split_and_unbind_copies_return_fresh_tensors():
    x = tg.arange(6.0).reshape(2, 3)
    parts = tg.split_with_sizes_copy(x, [1, 2], 1)
    assert [p.shape for p in parts] == [(2, 1), (2, 2)]
    rows = tg.unbind_copy(x)
    assert rows[1].tolist() == [3.0, 4.0, 5.0]
    assert not any(shares_memory(p, x) for p in (*parts, *rows))
    assert tg.squeeze_copy(tg.ones(1, 3, 1), 0).shape == (3, 1)


def test_as_strided_scatter_writes_through_the_strided_geometry():
    x = tg.zeros(3, 3, dtype=tg.float64, requires_grad=True)
    src = tg.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=tg.float64, requires_grad=True)
    out = tg.as_strided_scatter(x, src, (2, 2), (1, 2), 1)
    assert out.reshape(-1).tolist() == [0, 1, 3, 2, 4, 0, 0, 0, 0]
    assert x.as_strided_scatter(src, (2, 2), (1, 2)).reshape(-1).tolist()[:4] == [1, 3, 2, 4]
    assert gradgradcheck(lambda a, s: tg.as_strided_scatter(a, s * s, (2, 2), (1, 2), 1),
                         (x, src))
    with pytest.raises(RuntimeError, match="out of bounds"):
        tg.as_strided_scatter(x, src, (2, 2), (1, 2), 6)
    with pytest.raises(RuntimeError, match="src"):
        tg.as_strided_scatter(x, src, (1, 2), (1, 2))


def test_narrow_copy_dim_out_of_range_is_a_runtime_error():
    with pytest.raises(RuntimeError, match="out of range"):
        tg.narrow_copy(tg.zeros(10, 5, 20), 3, 0, 0)
