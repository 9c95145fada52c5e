"""Printing, tinygen against PyTorch: hypothesis draws shapes (0-d to 4-d, empty, summarized),
every dtype, awkward values (every integer width, tiny and huge floats, NaN, inf, -0.0,
denormals), autograd suffixes and print options, and ``repr``, ``str`` and ``format`` must come
out as torch writes them (with ``torch.`` written ``tg.`` in dtypes, tinygen's grad_fn names).
Also ``Size``, ``dtype``, ``device`` and ``Parameter`` reprs, and ``f"{x:.3f}"`` of 0-d tensors.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygen as tg
from tests.test_tensor_repr import assert_same_repr

torch = pytest.importorskip("torch")

INTS = ("uint8", "int8", "int16", "int32", "int64")
FLOATS = ("float16", "float32", "float64")
COMPLEX = {"complex64": "float32", "complex128": "float64"}
DTYPES = ("bool",) + INTS + FLOATS + tuple(COMPLEX)
# decimal exponents of a dtype's finite range, down into its denormals
EXPONENTS = {"float16": (-7, 4), "float32": (-40, 37), "float64": (-310, 300)}
FAST = settings(max_examples=120, deadline=None, derandomize=True)


@pytest.fixture(autouse=True)
def default_printoptions():
    """Every test leaves the default print options and float dtype, in both libraries."""
    yield
    tg.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")
    tg.set_default_dtype(tg.float32)
    torch.set_default_dtype(torch.float32)


@st.composite
def shapes(draw):
    """0-d to 4-d shapes, size-0 dims among them; one in five is over 1000 elements."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.sampled_from([(1001,), (3, 400), (40, 30), (2, 3, 200), (2, 2, 2, 130)]))
    return tuple(draw(st.lists(st.integers(0, 5), max_size=4)))


def special_floats(dtype):
    """NaN, infinities, signed zeros, denormals, the extremes and the edges of torch's choice
    of scientific notation (1e-4, 1e8, a ratio of 1000), or any float of the dtype."""
    info = np.finfo(dtype)
    edges = [math.nan, math.inf, -math.inf, -0.0, 0.0, float(info.smallest_subnormal),
             -float(info.smallest_normal), float(info.max), 1e-4, 9.9999e-5, 1e8, 1e8 + 8,
             1000.0, 0.001, 999.99995, 0.5, -1.0]
    return st.one_of(st.sampled_from(edges), st.floats(width=info.bits))


@st.composite
def float_values(draw, dtype, n, rng):
    """Random floats of a drawn scale, ints-as-floats or a mix, with drawn special values
    (NaN, inf, -0.0, denormals, extremes) written over some of them."""
    low, high = EXPONENTS[dtype]
    scale = 10.0 ** draw(st.integers(low, high))
    style = draw(st.sampled_from(["normal", "integers", "mixed", "constant"]))
    values = rng.standard_normal(n) * scale
    if style == "integers":
        values = np.round(rng.standard_normal(n) * draw(st.sampled_from([1, 10, 1e3, 1e9])))
    elif style == "mixed":
        values = np.where(rng.random(n) < 0.5, np.round(values), rng.standard_normal(n))
    elif style == "constant":
        values = np.full(n, draw(st.floats(width=np.dtype(dtype).itemsize * 8)))
    specials = draw(st.lists(special_floats(dtype), max_size=4))
    for value in specials:
        if n:
            values[rng.integers(n)] = value
    with np.errstate(over="ignore"):
        return values.astype(dtype)


@st.composite
def arrays(draw, dtype, shape):
    """A NumPy array of ``dtype`` and ``shape`` from a drawn seed and drawn extremes."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    n = math.prod(shape)
    if dtype == "bool":
        values = rng.random(n) < draw(st.sampled_from([0.0, 0.5, 1.0]))
    elif dtype in INTS:
        info = np.iinfo(dtype)
        bits = draw(st.integers(1, info.bits))
        low = max(int(info.min), -(2 ** (bits - 1)))
        high = min(int(info.max), 2 ** bits - 1)
        values = rng.integers(low, high, size=n, endpoint=True, dtype=dtype)
        for value in draw(st.lists(st.integers(int(info.min), int(info.max)), max_size=3)):
            if n:
                values[rng.integers(n)] = value
    elif dtype in FLOATS:
        values = draw(float_values(dtype, n, rng))
    else:
        part = COMPLEX[dtype]
        values = np.empty(n, dtype)
        values.real = draw(float_values(part, n, rng))
        values.imag = draw(float_values(part, n, rng))
    return values.reshape(shape)


_OPTION = {
    "precision": st.integers(0, 12),
    "threshold": st.sampled_from([0, 1, 5, 20, 1000, math.inf]),
    "edgeitems": st.integers(0, 6),
    "linewidth": st.integers(1, 150),
    "sci_mode": st.sampled_from([None, True, False]),
    "profile": st.sampled_from(["default", "short", "full"]),
}


@st.composite
def printoptions(draw):
    """A few ``set_printoptions`` keywords (often none)."""
    names = draw(st.lists(st.sampled_from(sorted(_OPTION)), unique=True, max_size=3))
    return {name: draw(_OPTION[name]) for name in names}


@st.composite
def cases(draw):
    """(array, how the tensor is made, default float dtype, print options)."""
    dtype = draw(st.sampled_from(DTYPES))
    values = draw(arrays(dtype, draw(shapes())))
    makes = ["plain", "permuted", "strided"]
    if dtype[0] in "fc":
        makes += ["leaf", "grad_fn", "parameter", "frozen parameter"]
    default = draw(st.sampled_from(["float32", "float64"]))
    return values, draw(st.sampled_from(makes)), default, draw(printoptions())


def _make(lib, values, make):
    """The tensor of ``values`` as ``make`` says: a leaf that requires grad, the output of an
    op (x * 1 keeps -0.0, NaN and inf), a Parameter, or a non-contiguous view."""
    x = lib.tensor(values.copy(), requires_grad=make in ("leaf", "grad_fn"))
    if make == "grad_fn":
        return x * 1
    if make.endswith("parameter"):
        return lib.nn.Parameter(x, requires_grad=make == "parameter")
    if make == "permuted":
        return x.permute(tuple(reversed(range(x.ndim))))
    if make == "strided" and x.ndim:
        return x[..., ::2]
    return x


def _same_format(ours, theirs, spec):
    """``format(x, spec)``: the same text, or the same error type."""
    try:
        expected = format(theirs, spec)
    except (TypeError, ValueError) as error:
        with pytest.raises(type(error)):
            format(ours, spec)
        return
    if expected == repr(theirs):                   # not a number: the repr, compared above
        assert format(ours, spec) == repr(ours)
    else:
        assert format(ours, spec) == expected


@FAST
@given(cases())
def test_repr_str_format_match_torch(case):
    values, make, default, options = case
    tg.set_default_dtype(getattr(tg, default))
    torch.set_default_dtype(getattr(torch, default))
    tg.set_printoptions(**options)
    torch.set_printoptions(**options)
    assert tg.get_printoptions() == torch._tensor_str.get_printoptions()
    ours, theirs = _make(tg, values, make), _make(torch, values, make)
    assert_same_repr(ours, theirs)
    assert str(ours) == repr(ours)
    for spec in ("", ">12") + ((".3f", "e", ".2e", "g") if ours.ndim == 0 else ()):
        _same_format(ours, theirs, spec)


def _torch_names(text):
    """torch's class names written as tinygen's: ``torch.Size`` -> ``tinygen.Size``."""
    return text.replace("torch.", "tinygen.")


@FAST
@given(shapes())
def test_size_repr_matches_torch(shape):
    ours, theirs = tg.zeros(shape), torch.zeros(shape)
    for o, t in ((ours.shape, theirs.shape), (ours.size(), theirs.size()),
                 (ours.shape[1:], theirs.shape[1:]), (ours.shape + (2,), theirs.shape + (2,))):
        assert type(o) is tg.Size
        assert repr(o) == str(o) == f"{o}" == _torch_names(repr(t))
    with pytest.raises(TypeError, match="unsupported format string"):
        format(ours.shape, ">30")


@pytest.mark.parametrize("name", DTYPES)
def test_dtype_names_match_torch(name):
    """tinygen dtypes are NumPy's (``repr`` is ``dtype('float32')``); their names, and the way
    tensor reprs write them, are torch's."""
    ours, theirs = getattr(tg, name), getattr(torch, name)
    assert str(ours) == str(theirs).removeprefix("torch.")
    assert f"tg.{tg.zeros(1, dtype=ours).dtype}" == repr(theirs).replace("torch.", "tg.")


def test_unsupported_dtype_names_match_torch():
    assert repr(tg.bfloat16) == _torch_names(repr(torch.bfloat16))


@pytest.mark.parametrize("args", [("cpu",), ("cuda", 1), ("cuda:2",), ("cuda:0",)])
def test_device_repr_matches_torch(args):
    """The devices whose index both libraries agree on (tinygen drops a CPU index and gives
    "cuda" index 0, where torch keeps what was given: a design difference, not a repr one)."""
    ours, theirs = tg.device(*args), torch.device(*args)
    assert (repr(ours), str(ours)) == (repr(theirs), str(theirs))
    assert repr(tg.zeros(1).device) == repr(torch.zeros(1).device) == "device(type='cpu')"


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Parameter(lib.ones(2)),
    lambda lib: lib.nn.Parameter(lib.ones(2, 2, dtype=lib.float64), requires_grad=False),
    lambda lib: lib.nn.Parameter(),
    lambda lib: lib.nn.Parameter(lib.tensor(1.5)),
    lambda lib: lib.nn.Parameter(lib.arange(2000.0)),
], ids=["ones", "float64 frozen", "empty", "0-d", "summarized"])
def test_parameter_repr_matches_torch(make):
    ours, theirs = make(tg), make(torch)
    assert_same_repr(ours, theirs)
    assert repr(ours).startswith("Parameter containing:\ntensor(")


def test_0d_parameter_formats_as_its_repr():
    """Regression: torch formats only plain 0-d tensors as numbers; a Parameter is its repr,
    and a format spec is a TypeError."""
    p = tg.nn.Parameter(tg.tensor(1.5))
    assert f"{p}" == repr(p) == "Parameter containing:\ntensor(1.5000, requires_grad=True)"
    with pytest.raises(TypeError, match="unsupported format string"):
        format(p, ".3f")


def test_format_spec_of_a_tensor_is_a_type_error():
    """Regression: ``f"{x:.3f}"`` of a 1-d tensor raised ValueError (the spec applied to the
    repr's text) and ``f"{x:>40}"`` padded it; torch raises TypeError for any spec."""
    x = tg.tensor([1.5, 2.0])
    for spec in (".3f", ">40"):
        with pytest.raises(TypeError, match="unsupported format string"):
            format(x, spec)
    assert f"{x}" == repr(x)


@pytest.mark.parametrize("x, spec, expected", [
    (tg.tensor(2.0 / 3.0), ".3f", "0.667"),
    (tg.tensor(2.0 / 3.0, dtype=tg.float64, requires_grad=True) * 1, ".2e", "6.67e-01"),
    (tg.tensor(7), ">4", "   7"),
    (tg.tensor(True), "", "True"),
    (tg.tensor(1 - 2j), "", "(1-2j)"),
    (tg.tensor(float("nan")), ".3f", "nan"),
])
def test_0d_format_is_the_number(x, spec, expected):
    assert format(x, spec) == expected
    theirs = torch.tensor(x.item(), dtype=getattr(torch, str(x.dtype)))
    assert format(theirs, spec) == expected


def test_no_overflow_warning_for_the_widest_float_range():
    """Regression: the largest/smallest ratio of a float64 tensor holding a denormal and
    ~1e308 overflows; that means scientific notation, silently, as in torch."""
    values = [5e-324, 1.7e308, -0.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = repr(tg.tensor(values, dtype=tg.float64))
    assert ours == repr(torch.tensor(values, dtype=torch.float64)).replace("torch.", "tg.")
    assert "4.9407e-324" in ours
