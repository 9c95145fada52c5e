"""Unary math and reductions against PyTorch: dtypes (integer and bool inputs included), 0-d and
empty shapes, dims as None, an int or a tuple (negative too), keepdim, and float64 gradients."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygen as tg
from tests.differential import strategies as S

torch = pytest.importorskip("torch")

UNARY = ["exp", "log", "sqrt", "sin", "tanh", "sigmoid", "abs", "sign", "floor"]
FAST = settings(max_examples=25, deadline=None, derandomize=True)


def _both(name, *args, **kwargs):
    """The op ``name`` called the same way in tinygen and in torch."""
    return [lambda *t, lib=lib: getattr(lib, name)(*t, *args, **kwargs) for lib in (tg, torch)]


@FAST
@given(name=st.sampled_from(UNARY), shape=S.shapes(), seed=S.seeds,
       dtype=st.sampled_from(S.DTYPES))
def test_unary_ops_match_torch(name, shape, seed, dtype):
    a = S.array(seed, shape, dtype)
    S.compare(torch, *_both(name), [a], seed, what=name)


@FAST
@given(shape=S.shapes(), seed=S.seeds, decimals=st.integers(-1, 3),
       dtype=st.sampled_from(S.FLOATS))
def test_round_decimals_matches_torch(shape, seed, decimals, dtype):
    a = S.array(seed, shape, dtype) * 10
    S.compare(torch, *_both("round", decimals=decimals), [a], seed, what=f"round {decimals}")


@FAST
@given(shapes=S.broadcast_pairs(), seed=S.seeds, dtype=st.sampled_from(S.DTYPES[:3]),
       which=st.sampled_from(["both", "min", "max"]))
def test_clamp_with_tensor_bounds_matches_torch(shapes, seed, dtype, which):
    a = S.array(seed, shapes[0], dtype)
    low = S.array(seed + 1, shapes[1], dtype) - 1
    high = low + 2

    def run(lib):
        if which == "both":
            return lambda x, lo, hi: lib.clamp(x, lo, hi)
        if which == "min":
            return lambda x, lo, hi: lib.clamp(x, min=lo)
        return lambda x, lo, hi: lib.clamp(x, max=hi)
    S.compare(torch, run(tg), run(torch), [a, low, high], seed, what=f"clamp {which}")


REDUCTIONS = ["sum", "mean", "prod", "amax", "amin", "logsumexp", "all", "any"]


@st.composite
def reduction_cases(draw, names=REDUCTIONS):
    name = draw(st.sampled_from(names))
    shape = draw(S.shapes())
    dim = draw(S.dims(len(shape), allow_none=name not in ("logsumexp", "prod")))  # torch: int
    if dim is None and name == "logsumexp":
        dim = -1                                  # a 0-d tensor: logsumexp needs a dim
    return name, shape, dim, draw(st.booleans())


@FAST
@given(case=reduction_cases(), seed=S.seeds, dtype=st.sampled_from(S.DTYPES))
def test_reductions_match_torch(case, seed, dtype):
    name, shape, dim, keepdim = case
    a = S.array(seed, shape, dtype)
    kwargs = {} if dim is None and not keepdim else {"dim": dim, "keepdim": keepdim}
    S.compare(torch, *_both(name, **kwargs), [a], seed, what=f"{name} {kwargs}")


@FAST
@given(case=reduction_cases(["var", "std"]), seed=S.seeds, correction=st.sampled_from([0, 1, 2]),
       dtype=st.sampled_from(S.FLOATS))
def test_var_std_correction_match_torch(case, seed, correction, dtype):
    name, shape, dim, keepdim = case
    a = S.array(seed, shape, dtype)
    n = a.size if dim is None else int(np.prod([shape[d] for d in np.atleast_1d(dim)]))
    grad = n > correction          # past it PyTorch's backward does not clamp N - correction
    S.compare(torch, *_both(name, dim=dim, correction=correction, keepdim=keepdim), [a], seed,
              grad=grad, what=f"{name} dim={dim} correction={correction}")


@FAST
@given(shape=S.shapes(), seed=S.seeds, data=st.data(), name=st.sampled_from(["max", "min"]),
       dtype=st.sampled_from(S.DTYPES[:3]))
def test_max_min_with_dim_and_ties_match_torch(shape, seed, data, name, dtype):
    a = S.array(seed, shape, dtype, low=0, high=2)            # few values: many ties
    if dtype in S.FLOATS:
        a = a.round()
    dim = data.draw(st.integers(-len(shape), max(len(shape) - 1, 0)))
    keepdim = data.draw(st.booleans())
    S.compare(torch, *_both(name, dim, keepdim), [a], seed, what=f"{name} dim={dim}")


@FAST
@given(shape=S.shapes(), seed=S.seeds, data=st.data(), name=st.sampled_from(["argmax", "argmin"]),
       dtype=st.sampled_from(S.DTYPES[:3]))
def test_argmax_argmin_match_torch(shape, seed, data, name, dtype):
    a = S.array(seed, shape, dtype, low=0, high=2)
    dim = data.draw(st.sampled_from([None, *range(-len(shape), len(shape))]))
    keepdim = data.draw(st.booleans())
    S.compare(torch, *_both(name, dim=dim, keepdim=keepdim), [a], seed, what=f"{name} {dim}")


@FAST
@given(shape=S.shapes(), seed=S.seeds, data=st.data(), name=st.sampled_from(["cumsum", "cumprod"]),
       dtype=st.sampled_from(S.DTYPES))
def test_cumulative_match_torch(shape, seed, data, name, dtype):
    a = S.array(seed, shape, dtype)
    dim = data.draw(st.integers(-max(len(shape), 1), max(len(shape) - 1, 0)))
    S.compare(torch, *_both(name, dim), [a], seed, what=f"{name} dim={dim}")


@FAST
@given(shape=S.shapes(), seed=S.seeds, data=st.data(), p=st.sampled_from([1, 2, 3, float("inf")]))
def test_norm_matches_torch(shape, seed, data, p):
    a = S.array(seed, shape, "float64")
    dim = data.draw(S.dims(len(shape)))
    keepdim = data.draw(st.booleans())
    S.compare(torch, *_both("norm", p=p, dim=dim, keepdim=keepdim), [a], seed,
              what=f"norm p={p} dim={dim}")
