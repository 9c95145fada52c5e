"""``assert_close``: PyTorch's closeness test, pair by pair, with PyTorch's messages.

As in ``torch/testing/_comparison.py``, the inputs are walked together: sequences item by item,
mappings key by key, and each leaf pair is handled by the first kind that accepts it: None,
booleans, numbers (Python or NumPy scalars), then tensor-likes (tinygen tensors and NumPy/CuPy
arrays, both of related types). Two values match when ``|a - e| <= atol + rtol * |e|``, or
are equal (infinities), or both NaN with ``equal_nan``. Errors found while walking (lengths,
keys, types, tolerances) ignore ``msg``, as in PyTorch.
"""

import cmath
import collections.abc
import contextlib

import numpy as np

from tinygen import backend, dtypes
from tinygen.tensor import Tensor

# {dtype: (rtol, atol)}; every other dtype (integers, bool) is compared exactly
_PRECISIONS = {dtypes.float16: (0.001, 1e-5), dtypes.float32: (1.3e-6, 1e-5),
               dtypes.float64: (1e-7, 1e-7)}
_NUMBER_DTYPES = {int: dtypes.int64, bool: dtypes.int64, float: dtypes.float64}
_WIDE_UNSIGNED = {np.dtype("uint16"), np.dtype("uint32"), np.dtype("uint64")}


class _Failure(Exception):
    """A mismatch (or bad input) found for the item at path ``id``: raised as ``type``."""

    def __init__(self, type, msg, id=()):
        super().__init__(msg)
        self.type, self.msg, self.id = type, msg, id

    def to_error(self, msg=None):
        if not isinstance(msg, str):
            generated = self.msg
            if self.id:
                path = "".join(str([item]) for item in self.id)
                generated += f"\n\nThe failure occurred for item {path}"
            msg = msg(generated) if callable(msg) else generated
        return self.type(msg)


class _Unsupported(Exception):
    """This kind of pair does not handle these inputs: try the next kind."""


def _tolerances(*dtype_list, rtol, atol, id):
    if (rtol is None) ^ (atol is None):
        raise _Failure(ValueError, f"Both 'rtol' and 'atol' must be either specified or omitted, "
                                   f"but got no {'rtol' if rtol is None else 'atol'}.", id)
    if rtol is not None:
        return rtol, atol
    rtols, atols = zip(*[_PRECISIONS.get(d, (0.0, 0.0)) for d in dtype_list])
    return max(rtols), max(atols)


def _diff_line(kind, diff, idx, tol, equality):
    line = (f"{kind.title()} difference: {diff}" if idx is None
            else f"Greatest {kind} difference: {diff} at index {idx}")
    return line + ("" if equality else f" (up to {tol} allowed)") + "\n"


def _mismatch_msg(identifier, extra, abs_diff, abs_idx, atol, rel_diff, rel_idx, rtol):
    equality = rtol == 0 and atol == 0
    msg = f"{identifier} are not {'equal' if equality else 'close'}!\n\n{extra.strip()}\n"
    msg += _diff_line("absolute", abs_diff, abs_idx, atol, equality)
    msg += _diff_line("relative", rel_diff, rel_idx, rtol, equality)
    return msg.strip()


def _scalar_msg(actual, expected, rtol, atol):
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _mismatch_msg("Scalars", f"Expected {expected} but got {actual}.", abs_diff, None,
                         atol, rel_diff, None, rtol)


def _tensor_msg(actual, expected, matches, rtol, atol):
    """The message for arrays of one shape, dtype and device, ``matches`` their isclose."""
    xp = backend.get_array_module(actual)
    total = matches.size
    mismatches = total - int(matches.sum())
    extra = f"Mismatched elements: {mismatches} / {total} ({mismatches / total:.1%})"
    a, e, m = actual.reshape(-1), expected.reshape(-1), matches.reshape(-1)
    if a.dtype.kind not in "fc":
        a, e = a.astype(dtypes.int64), e.astype(dtypes.int64)
    with np.errstate(all="ignore"):
        abs_diff = xp.abs(a - e)
        abs_diff[m] = 0
        if a.dtype.kind == "f":
            rel_diff = abs_diff / xp.abs(e)
        else:                               # int / int divides in the default float dtype
            float_dtype = dtypes.get_default_dtype()
            rel_diff = abs_diff.astype(float_dtype) / xp.abs(e).astype(float_dtype)
        rel_diff[m] = 0
    abs_i, rel_i = int(xp.argmax(abs_diff)), int(xp.argmax(rel_diff))   # first NaN, if any

    def index(flat):
        return tuple(int(i) for i in np.unravel_index(flat, matches.shape))

    return _mismatch_msg("Tensor-likes", extra, abs_diff[abs_i].item(), index(abs_i), atol,
                         rel_diff[rel_i].item(), index(rel_i), rtol)


def _isclose(actual, expected, rtol, atol, equal_nan):
    """torch.isclose on two arrays of one dtype (integers compared in the default float)."""
    xp = backend.get_array_module(actual)
    close = actual == expected
    if equal_nan and actual.dtype.kind in "fc":
        close |= xp.isnan(actual) & xp.isnan(expected)
    if rtol == 0 and atol == 0:
        return close
    if actual.dtype.kind not in "fc":
        actual = actual.astype(dtypes.get_default_dtype())
        expected = expected.astype(dtypes.get_default_dtype())
    with np.errstate(all="ignore"):
        error = xp.abs(actual - expected)
        return close | (xp.isfinite(error) & (error <= atol + xp.abs(rtol * expected)))


def _none_pair(actual, expected, id, **options):
    if not (actual is None or expected is None):
        raise _Unsupported

    def compare():
        if not (actual is None and expected is None):
            raise _Failure(AssertionError, f"None mismatch: {actual} is not {expected}", id)
    return compare


def _boolean_pair(actual, expected, id, **options):
    if not all(isinstance(x, (bool, np.bool_)) for x in (actual, expected)):
        raise _Unsupported
    actual, expected = bool(actual), bool(expected)

    def compare():
        if actual is not expected:
            raise _Failure(AssertionError, f"Booleans mismatch: {actual} is not {expected}", id)
    return compare


def _number_pair(actual, expected, id, rtol, atol, equal_nan, check_dtype, **options):
    if not all(isinstance(x, (int, float, complex, np.number)) for x in (actual, expected)):
        raise _Unsupported
    actual, expected = (x.item() if isinstance(x, np.number) else x for x in (actual, expected))
    if isinstance(actual, complex) or isinstance(expected, complex):
        raise _Failure(TypeError, "complex numbers are not supported by tinygen", id)
    rtol, atol = _tolerances(_NUMBER_DTYPES[type(actual)], _NUMBER_DTYPES[type(expected)],
                             rtol=rtol, atol=atol, id=id)

    def compare():
        if check_dtype and type(actual) is not type(expected):
            raise _Failure(AssertionError, f"The (d)types do not match: {type(actual)} != "
                                           f"{type(expected)}.", id)
        if actual == expected:
            return
        if equal_nan and cmath.isnan(actual) and cmath.isnan(expected):
            return
        abs_diff = abs(actual - expected)
        if cmath.isfinite(abs_diff) and abs_diff <= atol + rtol * abs(expected):
            return
        raise _Failure(AssertionError, _scalar_msg(actual, expected, rtol, atol), id)
    return compare


def _as_array(value):
    if isinstance(value, Tensor):
        return value.array
    if isinstance(value, np.ndarray) or type(value).__module__.startswith("cupy"):
        return value
    raise _Unsupported


def _device(array):
    return backend.device_of(array)


def _strides(array):
    return tuple(s // array.itemsize for s in array.strides)


def _tensor_pair(actual, expected, id, allow_subclasses, rtol, atol, equal_nan, check_device,
                 check_dtype, check_stride, **options):
    if not (isinstance(actual, type(expected)) or isinstance(expected, type(actual))):
        raise _Unsupported
    if not allow_subclasses and type(actual) is not type(expected):
        raise _Unsupported
    a, e = _as_array(actual), _as_array(expected)
    rtol, atol = _tolerances(a.dtype, e.dtype, rtol=rtol, atol=atol, id=id)

    def mismatch(name, actual_value, expected_value):
        raise _Failure(AssertionError, f"The values for attribute '{name}' do not match: "
                                       f"{actual_value} != {expected_value}.", id)

    def compare():
        nonlocal a, e
        if a.shape != e.shape:
            mismatch("shape", a.shape, e.shape)
        if check_stride and _strides(a) != _strides(e):
            mismatch("stride()", _strides(a), _strides(e))
        if check_device and _device(a) != _device(e):
            mismatch("device", _device(a), _device(e))
        if check_dtype and a.dtype != e.dtype:
            mismatch("dtype", f"tinygen.{a.dtype}", f"tinygen.{e.dtype}")
        if _device(a) != _device(e):
            a, e = backend.to_device(a, "cpu"), backend.to_device(e, "cpu")
        if a.dtype != e.dtype:
            common = dtypes.promote_types(
                *(dtypes.int64 if d in _WIDE_UNSIGNED else d for d in (a.dtype, e.dtype)))
            a, e = a.astype(common), e.astype(common)
        matches = _isclose(a, e, rtol, atol, equal_nan)
        if bool(matches.all()):
            return
        msg = (_scalar_msg(a.item(), e.item(), rtol, atol) if a.shape == ()
               else _tensor_msg(a, e, matches, rtol, atol))
        raise _Failure(AssertionError, msg, id)
    return compare


_PAIR_KINDS = (_none_pair, _boolean_pair, _number_pair, _tensor_pair)


def _originate(actual, expected, id, options):
    """The compare functions of all leaf pairs, walking sequences and mappings together."""
    sequence = collections.abc.Sequence
    if (isinstance(actual, sequence) and not isinstance(actual, str)
            and isinstance(expected, sequence) and not isinstance(expected, str)):
        if len(actual) != len(expected):
            raise _Failure(AssertionError, f"The length of the sequences mismatch: "
                                           f"{len(actual)} != {len(expected)}", id)
        return [c for i in range(len(actual))
                for c in _originate(actual[i], expected[i], (*id, i), options)]
    mapping = collections.abc.Mapping
    if isinstance(actual, mapping) and isinstance(expected, mapping):
        keys, expected_keys = set(actual.keys()), set(expected.keys())
        if keys != expected_keys:
            raise _Failure(AssertionError, (
                f"The keys of the mappings do not match:\n"
                f"Missing keys in the actual mapping: {sorted(expected_keys - keys)}\n"
                f"Additional keys in the actual mapping: {sorted(keys - expected_keys)}"), id)
        with contextlib.suppress(Exception):
            keys = sorted(keys)
        return [c for k in keys for c in _originate(actual[k], expected[k], (*id, k), options)]
    for kind in _PAIR_KINDS:
        try:
            return [kind(actual, expected, id, **options)]
        except _Unsupported:
            continue
    raise _Failure(TypeError, f"No comparison pair was able to handle inputs of type "
                              f"{type(actual)} and {type(expected)}.", id)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Raise unless ``actual`` and ``expected`` are close, as ``torch.testing.assert_close``.

    Default tolerances (rtol, atol): float16 (1e-3, 1e-5), float32 (1.3e-6, 1e-5), float64 and
    Python floats (1e-7, 1e-7), integers and bool exact; give both or neither. ``msg`` (a str,
    or a callable taking the generated message) replaces the mismatch message. tinygen tensors
    are all strided, so ``check_layout`` has nothing to check.
    """
    __tracebackhide__ = True
    options = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol,
                   equal_nan=equal_nan, check_device=check_device, check_dtype=check_dtype,
                   check_stride=check_stride)
    try:
        compares = _originate(actual, expected, (), options)
    except _Failure as failure:
        raise failure.to_error() from None
    for compare in compares:
        try:
            compare()
        except _Failure as failure:
            raise failure.to_error(msg) from None
