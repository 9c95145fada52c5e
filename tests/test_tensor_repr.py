"""repr(tensor) equals PyTorch's, character for character (with ``torch.`` written ``tg.`` and
tinygen's grad_fn names), and tg.set_printoptions / get_printoptions behave as torch's."""

import re

import numpy as np
import pytest

import tinygen as tg

_RNG = np.random.default_rng(0)
_NORMAL = _RNG.standard_normal(200)
_WIDE = np.linspace(-1.0, 1.0, 30)

# name: (data, dtype name or None, requires_grad)
CASES = {
    "fixed": ([1.5, 0.0, 2.25], None, False),
    "0-d": (3.5, None, False),
    "0-d int": (7, None, False),
    "0-d nan": (float("nan"), None, False),
    "0-d grad": (2.0, None, True),
    "integer-valued": ([1.0, 2.0, 3.0], None, False),
    "matrix": ([[1.0, 2.0], [3.0, 4.0]], None, False),
    "negative": ([-1.2345678, 2.5], None, False),
    "tiny": ([1e-5, 1.0], None, False),
    "huge": ([1e9, 1.0], None, False),
    "ratio over 1000": ([1.0, 2000.5], None, False),
    "ratio under 1000": ([1.0, 999.0], None, False),
    "1e8 exactly": ([100000000.0], None, False),
    "1e10 integer": ([1e10, 3.0], None, False),
    "mixed": ([1e-3, 1.0, 123.456], None, False),
    "rounds to 0.0001": ([0.00012345, 0.5], None, False),
    "plus minus 1e20": ([1e20, -1e20], None, False),
    "nan inf": ([float("nan"), float("inf"), -float("inf"), 1.5], None, False),
    "nan and zero": ([float("nan"), 0.0], None, False),
    "inf integer mode": ([float("inf"), 2.0, -3.0], None, False),
    "negative zero": ([-0.0, 1.5], None, False),
    "zeros signed": ([-0.0, 0.0], None, False),
    "zeros 2-D": (np.zeros((2, 3)).tolist(), None, False),
    "ints": ([1, -20, 300], None, False),
    "int32": ([[1, 2], [30, 4]], "int32", False),
    "uint8": ([0, 255, 7], "uint8", False),
    "bools": ([True, False, True], None, False),
    "bools 2-D": ([[True], [False]], None, False),
    "float64": ([1.5, 2.0], "float64", False),
    "float16": ([1.5, 0.1, 3.0], "float16", False),
    "float16 integer": ([1.0, 2.0], "float16", False),
    "3-D": (_NORMAL[:24].reshape(2, 3, 4).tolist(), None, False),
    "4-D": (np.arange(16.0).reshape(2, 2, 2, 2).tolist(), None, False),
    "nested single": ([[[5.0]]], None, False),
    "wide floats wrap": (_WIDE.tolist(), None, False),
    "wide ints wrap": (list(range(100)), None, False),
    "wide 2-D wrap": (_NORMAL[:75].reshape(3, 25).tolist(), None, False),
    "summarized 1-D": (np.arange(1001.0).tolist(), None, False),
    "summarized 2-D": (np.arange(2000).reshape(40, 50).tolist(), None, False),
    "summarized 3-D": ((_NORMAL[:50] * 1e3).repeat(24).reshape(12, 10, 10).tolist(), None,
                       False),
    "summarized hides tiny": ([1e-9] + [1.5] * 1000 + [1e-9], None, False),
    "requires_grad": ([1.0, 2.0], None, True),
    "float64 grad wraps suffix": (_NORMAL[:14].reshape(2, 7).tolist(), "float64", True),
    "wide row then suffix": (_WIDE[:8].tolist(), "float64", True),
    "long last line then requires_grad": (_NORMAL[:22].reshape(2, 11).tolist(), None, True),
    "full last line then requires_grad": (np.abs(_NORMAL[:18]).tolist(), None, True),
}


def _make(lib, data, dtype, requires_grad):
    return lib.tensor(data, dtype=getattr(lib, dtype) if dtype else None,
                      requires_grad=requires_grad)


def _torch_repr(t):
    """torch's string in tinygen's words: ``tg.float64``, ``<MulBackward>``."""
    text = repr(t).replace("torch.", "tg.")
    return re.sub(r"grad_fn=<(\w+?)\d*>", r"grad_fn=<\1>", text)


def _one_line_suffixes(text):
    """Suffixes joined by ", ": "tg." is 3 characters shorter than "torch.", and grad_fn names
    differ, so a suffix may fit on a line where torch's had to wrap."""
    return re.sub(r",\n +(?=[a-z_]+=)", ", ", text)


def assert_same_repr(ours, theirs):
    expected = _torch_repr(theirs)
    if "dtype=" in expected or "grad_fn=" in expected:
        assert _one_line_suffixes(repr(ours)) == _one_line_suffixes(expected)
    else:
        assert repr(ours) == expected


@pytest.fixture
def torch():
    torch = pytest.importorskip("torch")
    yield torch
    torch.set_printoptions(profile="default")


@pytest.fixture(autouse=True)
def default_printoptions():
    yield
    tg.set_printoptions(profile="default")


@pytest.mark.parametrize("name", CASES)
def test_repr_matches_torch(torch, name):
    ours, theirs = _make(tg, *CASES[name]), _make(torch, *CASES[name])
    assert_same_repr(ours, theirs)
    assert str(ours) == repr(ours)


@pytest.mark.parametrize("make", [
    lambda lib: lib.zeros(0), lambda lib: lib.zeros(0, 3), lambda lib: lib.zeros(2, 0, 1),
    lambda lib: lib.zeros(0, dtype=lib.int64), lambda lib: lib.zeros(0, dtype=lib.float64),
    lambda lib: lib.zeros(0, requires_grad=True),
    lambda lib: lib.ones(3, requires_grad=True) * 2.0,
    lambda lib: (lib.ones(2, 2, dtype=lib.float64, requires_grad=True) + 1).sum(),
], ids=["empty", "0x3", "2x0x1", "empty int64", "empty float64", "empty grad", "mul", "sum"])
def test_repr_of_made_tensors_matches_torch(torch, make):
    assert_same_repr(make(tg), make(torch))


@pytest.mark.parametrize("options", [
    {"precision": 2}, {"precision": 6}, {"threshold": 5}, {"threshold": 5, "edgeitems": 1},
    {"threshold": 5, "edgeitems": 0}, {"linewidth": 40}, {"linewidth": 10}, {"sci_mode": True},
    {"sci_mode": False}, {"profile": "short"}, {"profile": "full"},
    {"profile": "short", "precision": 5},
], ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
@pytest.mark.parametrize("name", ["fixed", "tiny", "integer-valued", "ints", "3-D",
                                  "wide floats wrap", "summarized 2-D", "float64 grad wraps suffix",
                                  "0-d"])
def test_printoptions_match_torch(torch, options, name):
    tg.set_printoptions(**options)
    torch.set_printoptions(**options)
    assert tg.get_printoptions() == torch._tensor_str.get_printoptions()
    assert_same_repr(_make(tg, *CASES[name]), _make(torch, *CASES[name]))


# Without torch: strings written by hand

@pytest.mark.parametrize("t, expected", [
    (tg.tensor([1.5, 0.0, 2.25]), "tensor([1.5000, 0.0000, 2.2500])"),
    (tg.tensor(3.5), "tensor(3.5000)"),
    (tg.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
    (tg.tensor([float("nan"), -0.0, 2.0]), "tensor([nan, -0., 2.])"),
    (tg.tensor([True, False]), "tensor([ True, False])"),
    (tg.tensor([1, 2], dtype=tg.int32), "tensor([1, 2], dtype=tg.int32)"),
    (tg.zeros(0), "tensor([])"),
    (tg.zeros(0, 3, dtype=tg.int64), "tensor([], size=(0, 3), dtype=tg.int64)"),
    (tg.tensor([[1.0, -2.0], [3.0, 4.5]], dtype=tg.float64, requires_grad=True),
     "tensor([[ 1.0000, -2.0000],\n        [ 3.0000,  4.5000]], dtype=tg.float64, "
     "requires_grad=True)"),
    (tg.arange(8.0).reshape(2, 2, 2),
     "tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])"),
    (tg.arange(1001), "tensor([   0,    1,    2,  ...,  998,  999, 1000])"),
], ids=["fixed", "0-d", "sci", "nan -0", "bool", "int32", "empty", "empty 0x3", "float64 grad",
        "3-D", "summarized"])
def test_repr_by_hand(t, expected):
    assert repr(t) == expected and str(t) == expected


def test_repr_wraps_long_rows_under_the_bracket():
    lines = repr(tg.arange(30.0)).split("\n")
    assert lines[0].startswith("tensor([ 0.,  1.,") and len(lines) == 3
    assert all(len(line) <= 80 for line in lines)
    assert lines[1].startswith("        14.,") and lines[2].endswith("29.])")


def test_suffixes_wrap_at_the_line_width():
    values = [0.1257, 0.1321, 0.6404, 0.1049, 0.5357, 0.3616, 1.304, 0.9471, 0.7037,
              1.2654, 0.6233, 0.0413, 2.325, 0.2188, 1.2459, 0.7323, 0.5443, 0.3163]
    assert repr(tg.tensor(values, dtype=tg.float64, requires_grad=True)) == (
        "tensor([0.1257, 0.1321, 0.6404, 0.1049, 0.5357, 0.3616, 1.3040, 0.9471, 0.7037,\n"
        "        1.2654, 0.6233, 0.0413, 2.3250, 0.2188, 1.2459, 0.7323, 0.5443, 0.3163],\n"
        "       dtype=tg.float64, requires_grad=True)")


def test_printoptions_context_restores():
    from tinygen.tensor_str import printoptions
    with printoptions(precision=1, sci_mode=True):
        assert repr(tg.tensor([2.25])) == "tensor([2.2e+00])"
    assert tg.get_printoptions()["precision"] == 4 and repr(tg.tensor([2.25])) == (
        "tensor([2.2500])")


def test_grad_fn_keeps_tinygen_names():
    assert repr(tg.ones(2, requires_grad=True) * 2.0) == (
        "tensor([2., 2.], grad_fn=<MulBackward>)")


def test_set_printoptions_round_trip():
    defaults = tg.get_printoptions()
    assert defaults == {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
                        "sci_mode": None}
    tg.set_printoptions(precision=2, threshold=5, edgeitems=1, linewidth=60, sci_mode=False)
    changed = tg.get_printoptions()
    assert changed == {"precision": 2, "threshold": 5, "edgeitems": 1, "linewidth": 60,
                       "sci_mode": False}
    assert repr(tg.tensor([1.23456, 2.0])) == "tensor([1.23, 2.00])"
    assert repr(tg.arange(10)) == "tensor([0,  ..., 9])"
    tg.set_printoptions(**defaults)
    assert tg.get_printoptions() == defaults
    assert repr(tg.tensor([1.23456, 2.0])) == "tensor([1.2346, 2.0000])"


def test_profiles():
    tg.set_printoptions(profile="short")
    assert tg.get_printoptions()["precision"] == 2 and tg.get_printoptions()["edgeitems"] == 2
    tg.set_printoptions(profile="full")
    assert tg.get_printoptions()["threshold"] == float("inf")
    assert "..." not in repr(tg.arange(1500))
    tg.set_printoptions(profile="default")
    assert "..." in repr(tg.arange(1500))


def test_sci_mode_is_reset_by_each_call():
    tg.set_printoptions(sci_mode=True)
    assert repr(tg.tensor([1.5])) == "tensor([1.5000e+00])"
    tg.set_printoptions(precision=4)                 # as in torch, sci_mode goes back to None
    assert repr(tg.tensor([1.5])) == "tensor([1.5000])"
