"""tg.testing: assert_close decides and words its errors as torch.testing does; make_tensor."""

import math
import re

import numpy as np
import pytest

import tinygen as tg
from tinygen.testing import assert_close, make_tensor

NAN, INF = float("nan"), float("inf")


def _outcome(fn, *args, **kwargs):
    """(exception type name, message) of fn(...), or None when it passes."""
    try:
        fn(*args, **kwargs)
    except Exception as error:            # noqa: BLE001  (the type is part of the outcome)
        return type(error).__name__, str(error)
    return None


def _to_torch(value, torch):
    if isinstance(value, tg.Tensor):
        return torch.from_numpy(value.numpy().copy())
    if isinstance(value, list):
        return [_to_torch(v, torch) for v in value]
    if isinstance(value, tuple):
        return tuple(_to_torch(v, torch) for v in value)
    if isinstance(value, dict):
        return {k: _to_torch(v, torch) for k, v in value.items()}
    return value


def _normalize(outcome):
    """torch's message with tinygen's names: torch.float32 -> tinygen.float32, Size -> tuple."""
    if outcome is None:
        return None
    kind, msg = outcome
    msg = re.sub(r"torch\.Size\(\[([^\]]*)\]\)",
                 lambda m: str(tuple(int(n) for n in m.group(1).split(", ") if n)), msg)
    msg = msg.replace("<class 'torch.Tensor'>", "<class 'tinygen.tensor.Tensor'>")
    return kind, msg.replace("torch.", "tinygen.")


def _t(data, dtype=tg.float32):
    return tg.tensor(data, dtype=dtype)


CASES = [
    (_t([[1.0, 2.0], [3.0, 4.0]]), _t([[1.0, 2.0], [3.1, 4.0]]), {}),
    (_t([1.0, 2.0, 3.0]), _t([1.0, 2.0 + 1e-6, 3.0]), {}),                    # within float32
    (_t([1.0, 2.0], tg.float64), _t([1.0, 2.0 + 1e-6], tg.float64), {}),      # not in float64
    (_t([1.0, 0.0, 5.0]), _t([1.5, 0.0, 0.0]), {}),                           # rel diff inf
    (_t([1.0, NAN]), _t([1.0, NAN]), {}),
    (_t([1.0, NAN]), _t([1.0, NAN]), {"equal_nan": True}),
    (_t([NAN, 1.0, 3.0]), _t([1.0, 1.0, 4.0]), {}),
    (_t([INF, -INF]), _t([INF, INF]), {}),
    (_t([1.0, 2.0]), _t([1.1, 2.2]), {"rtol": 0.2, "atol": 0.0}),
    (_t([1.0, 2.0]), _t([1.1, 2.5]), {"rtol": 0.0, "atol": 0.0}),
    (_t([1.0, 2.0]), _t([1.1, 2.5]), {"rtol": 0.1}),                          # ValueError
    (_t([1, 2, 3], tg.int64), _t([1, 5, 3], tg.int64), {}),
    (_t([1, 2, 3], tg.int32), _t([1, 2, 0], tg.int32), {}),
    (_t([10, 2], tg.int64), _t([10, 7], tg.int64), {}),                      # 5 / 7 in float32
    (_t([True, False]), _t([True, True]), {}),
    (_t([1.0, 2.0], tg.float16), _t([1.0, 2.001], tg.float16), {}),
    (_t([1.0, 2.0], tg.float16), _t([1.0, 2.01], tg.float16), {}),
    (_t(1.5), _t(2.0), {}),                                                   # 0-dim: scalars
    (_t([1.0, 2.0]), _t([1.0, 2.0], tg.float64), {}),                         # dtype mismatch
    (_t([1.0, 2.0]), _t([1.0, 2.5], tg.float64), {"check_dtype": False}),
    (_t([1, 2], tg.int64), _t([1.0, 2.5], tg.float32), {"check_dtype": False}),
    (_t([1.0, 2.0]), _t([[1.0, 2.0]]), {}),                                   # shape mismatch
    ([_t([1.0]), (_t([2.0]), _t([3.0]))], [_t([1.0]), (_t([2.0]), _t([3.5]))], {}),
    ({"b": _t([1.0]), "a": _t([2.0])}, {"a": _t([2.5]), "b": _t([1.5])}, {}),
    ({"a": _t([1.0])}, {"b": _t([1.0])}, {}),
    ([_t([1.0])], [_t([1.0]), _t([1.0])], {}),
    (1, 1, {}), (1, 2, {}), (1, 1.0, {}), (1, 1.0, {"check_dtype": False}),
    (1.0, 1.0 + 1e-8, {}), (1.0, 1.1, {}), (0.0, 1e-3, {}), (NAN, NAN, {}),
    (NAN, NAN, {"equal_nan": True}), (True, False, {}), (True, True, {}), (None, None, {}),
    (None, 1, {}), (np.float32(1.0), np.float32(1.5), {}), (np.int64(3), 3, {}),
    (_t([1.0]), 1.0, {}), ("a", "a", {}),
    (_t([1.0, 2.0]), _t([1.0, 2.5]), {"msg": "custom"}),
    (_t([1.0, 2.0]), _t([1.0, 2.5]), {"msg": lambda m: "head\n" + m}),
    ([_t([1.0, 2.0])], [_t([1.0, 2.5])], {"msg": lambda m: m + "\nfoot"}),
    ([_t([1.0])], [_t([1.0]), _t([1.0])], {"msg": "ignored, as in torch"}),
]


@pytest.mark.parametrize("actual, expected, kwargs", CASES)
def test_assert_close_matches_torch(actual, expected, kwargs):
    torch = pytest.importorskip("torch")
    ours = _outcome(assert_close, actual, expected, **kwargs)
    theirs = _outcome(torch.testing.assert_close, _to_torch(actual, torch),
                      _to_torch(expected, torch), **kwargs)
    assert ours == _normalize(theirs)


@pytest.mark.parametrize("actual, expected, kwargs", [
    (np.array([1.0, 2.0]), np.array([1.0, 2.5]), {}),
    (np.array(1, np.int32), np.array(2, np.int32), {}),
    (np.array([1.0, 2.0]), np.array([1.0, 2.0]), {}),
    (np.array([1.0]), _t([1.0], tg.float64), {}),
])
def test_assert_close_numpy_inputs_match_torch(actual, expected, kwargs):
    torch = pytest.importorskip("torch")
    ours = _outcome(assert_close, actual, expected, **kwargs)
    theirs = _outcome(torch.testing.assert_close, actual, _to_torch(expected, torch), **kwargs)
    if ours is not None and "No comparison pair" in ours[1]:      # the types' names differ
        assert theirs is not None and ours[0] == theirs[0] == "TypeError"
    else:
        assert ours == _normalize(theirs)


def test_assert_close_check_stride():
    stride_msg = re.escape("'stride()' do not match: (1, 3) != (2, 1).")
    with pytest.raises(AssertionError, match=stride_msg):
        assert_close(tg.ones(2, 3).t(), tg.ones(3, 2), check_stride=True)
    assert_close(tg.ones(2, 3).t(), tg.ones(3, 2))
    torch = pytest.importorskip("torch")
    with pytest.raises(AssertionError, match=stride_msg):
        torch.testing.assert_close(torch.ones(2, 3).t(), torch.ones(3, 2), check_stride=True)


def test_assert_close_message_without_torch():
    with pytest.raises(AssertionError) as info:
        assert_close(_t([[1.0, 2.0], [3.0, 4.0]]), _t([[1.0, 2.0], [3.5, 4.0]]))
    assert str(info.value) == (
        "Tensor-likes are not close!\n\nMismatched elements: 1 / 4 (25.0%)\n"
        "Greatest absolute difference: 0.5 at index (1, 0) (up to 1e-05 allowed)\n"
        "Greatest relative difference: 0.1428571492433548 at index (1, 0) "
        "(up to 1.3e-06 allowed)")
    with pytest.raises(AssertionError, match=r"item \['w'\]\[1\]"):
        assert_close({"w": [1.0, 2.0]}, {"w": [1.0, 3.0]})
    with pytest.raises(AssertionError, match="attribute 'dtype'.*tinygen.float32 != "
                                             "tinygen.float64"):
        assert_close(_t([1.0]), _t([1.0], tg.float64))
    with pytest.raises(TypeError, match="No comparison pair"):
        assert_close(_t([1.0]), [1.0])


def test_assert_close_passes_and_tolerances():
    assert_close(_t([1.0, 2.0]), _t([1.0, 2.0 + 1e-5]))                # atol 1e-5 in float32
    with pytest.raises(AssertionError):
        assert_close(_t([1.0, 2.0]), _t([1.0, 2.0 + 1e-4]))
    assert_close(_t([1.0, 2.0]), _t([1.0, 2.5]), rtol=0.25, atol=0.0)
    assert_close(tg.randn(3, requires_grad=True) * 0, tg.zeros(3))    # graph tensors are fine
    assert_close(tg.nn.Parameter(tg.ones(2)), tg.ones(2))               # subclass allowed
    with pytest.raises(TypeError, match="No comparison pair"):
        assert_close(tg.nn.Parameter(tg.ones(2)), tg.ones(2), allow_subclasses=False)
    assert_close([1, (2.0, {"k": _t([3])})], [1, (2.0, {"k": _t([3])})])


@pytest.mark.parametrize("dtype, low, high", [
    (tg.bool, 0, 1), (tg.uint8, 0, 9), (tg.int32, -9, 9), (tg.int64, -9, 9),
    (tg.float32, -9, 9), (tg.float64, -9, 9), (tg.float16, -9, 9)])
def test_make_tensor_default_ranges(dtype, low, high):
    t = make_tensor(20, 10, dtype=dtype, device="cpu")
    assert t.shape == (20, 10) and t.dtype == dtype and t.is_contiguous()
    values = t.numpy().astype(np.float64)
    assert values.min() >= low and values.max() <= high
    assert len(np.unique(values)) > 1


def test_make_tensor_options():
    t = make_tensor((3, 4), dtype=tg.float64, device="cpu", low=2, high=3, requires_grad=True,
                    noncontiguous=True)
    assert t.shape == (3, 4) and not t.is_contiguous() and t.requires_grad and t.is_leaf
    assert ((t.detach().numpy() >= 2) & (t.detach().numpy() < 3)).all()
    t = make_tensor(200, dtype=tg.int64, device="cpu", low=-1, high=1, exclude_zero=True)
    assert set(np.unique(t.numpy())) == {-1, 1}
    t = make_tensor(50, dtype=tg.float32, device="cpu", low=0, high=1e-30, exclude_zero=True)
    assert (t.numpy() != 0).all()
    assert make_tensor(5, dtype=tg.int8, device="cpu", low=-1000, high=1000).dtype == tg.int8
    assert make_tensor((), dtype=tg.float32, device="cpu").shape == ()
    t = make_tensor(4, dtype=tg.float64, device="cpu", low=-math.inf, high=math.inf)
    assert np.isfinite(t.numpy()).all()


def test_make_tensor_errors_match_torch():
    with pytest.raises(ValueError, match="`low` must be less than `high`, but got 3 >= 1"):
        make_tensor(2, dtype=tg.float32, device="cpu", low=3, high=1)
    with pytest.raises(ValueError, match="cannot be NaN"):
        make_tensor(2, dtype=tg.float32, device="cpu", low=math.nan)
    with pytest.raises(ValueError, match="not supported for boolean and integral"):
        make_tensor(2, dtype=tg.int64, device="cpu", requires_grad=True)
    with pytest.raises(ValueError, match="only supports"):
        make_tensor(2, dtype=tg.uint8, device="cpu", low=300, high=400)
    with pytest.raises(TypeError, match="not supported by tinygen.testing.make_tensor"):
        make_tensor(2, dtype=tg.bfloat16, device="cpu")
