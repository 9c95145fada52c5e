"""Elementwise binary ops against PyTorch: broadcasting, type promotion, values, gradients and
the errors PyTorch raises (bool subtraction, integer division by zero, shape mismatch)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygen as tg
from tests.differential import strategies as S

torch = pytest.importorskip("torch")

BINARY = ["add", "sub", "mul", "div", "pow", "remainder", "fmod", "floor_divide", "maximum",
          "minimum", "atan2", "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or",
          "logical_xor"]
FAST = settings(max_examples=25, deadline=None, derandomize=True)


def _call(lib, name, **kwargs):
    return lambda a, b: getattr(lib, name)(a, b, **kwargs)


@FAST
@given(name=st.sampled_from(BINARY), pair=S.broadcast_pairs(), seed=S.seeds,
       dtypes=st.tuples(st.sampled_from(S.DTYPES), st.sampled_from(S.DTYPES)))
def test_binary_ops_match_torch(name, pair, seed, dtypes):
    a = S.array(seed, pair[0], dtypes[0])
    b = S.array(seed + 7, pair[1], dtypes[1])
    S.compare(torch, _call(tg, name), _call(torch, name), [a, b], seed, what=name)


@FAST
@given(mode=st.sampled_from([None, "trunc", "floor"]), pair=S.broadcast_pairs(), seed=S.seeds,
       dtypes=st.tuples(st.sampled_from(S.DTYPES), st.sampled_from(S.DTYPES)))
def test_div_rounding_mode_matches_torch(mode, pair, seed, dtypes):
    a = S.array(seed, pair[0], dtypes[0])
    b = S.array(seed + 7, pair[1], dtypes[1])
    S.compare(torch, _call(tg, "div", rounding_mode=mode), _call(torch, "div", rounding_mode=mode),
              [a, b], seed, what=f"div {mode}")


@FAST
@given(name=st.sampled_from(["__add__", "__sub__", "__mul__", "__truediv__", "__pow__",
                             "__mod__", "__floordiv__", "__rsub__", "__rtruediv__", "__rpow__"]),
       shape=S.shapes(), seed=S.seeds, dtype=st.sampled_from(S.DTYPES),
       scalar=st.sampled_from([2, -3, 0.5, True]))
def test_tensor_scalar_operators_match_torch(name, shape, seed, dtype, scalar):
    a = S.array(seed, shape, dtype)
    S.compare(torch, lambda x: getattr(x, name)(scalar), lambda x: getattr(x, name)(scalar),
              [a], seed, what=f"{name} {scalar!r}")


@pytest.mark.parametrize("shapes", [((2, 3), (3, 2)), ((0,), (2,)), ((2, 1, 3), (4, 3, 1, 2))])
def test_broadcast_mismatch_raises_like_torch(shapes):
    a, b = S.array(0, shapes[0], "float64"), S.array(1, shapes[1], "float64")
    assert S.compare(torch, _call(tg, "add"), _call(torch, "add"), [a, b]) is None
