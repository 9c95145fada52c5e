"""Data types and PyTorch's promotion rules.

tinygen's dtypes are NumPy's dtype objects, so ``x.dtype == tg.float32`` and ``x.numpy().dtype``
agree. The rules below are PyTorch's, which differ from NumPy's in two places:

* integer or bool inputs to a floating-point op (``exp``, true division, ``int_tensor * 0.5``)
  give the *default* float dtype (float32), where NumPy would give float64;
* a Python number or a 0-dim tensor never widens a dimensioned tensor of the same category:
  ``float32_tensor * 2.0`` and ``float32_tensor + tg.tensor(1.0, dtype=tg.float64)`` stay float32.
  NumPy scalars count as Python numbers, so ``float32_tensor / np.sqrt(2)`` stays float32 too.
"""

import builtins

import numpy as np

float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int8 = np.dtype("int8")
int16 = np.dtype("int16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
uint8 = np.dtype("uint8")
bool = np.dtype("bool")
half, float, double, long, int = float16, float32, float64, int64, int32
uint16, uint32, uint64 = np.dtype("uint16"), np.dtype("uint32"), np.dtype("uint64")
short = int16
complex64 = np.dtype("complex64")
complex128 = np.dtype("complex128")
cfloat, cdouble = complex64, complex128


class _Unsupported:
    """A PyTorch dtype that NumPy has no type for: a name scripts may mention (nanoGPT builds a
    table of dtypes), and a clear error where a tensor would be made with it."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"tinygen.{self.name}"


bfloat16 = _Unsupported("bfloat16")
complex32 = chalf = _Unsupported("complex32")

_default_float = [float32]

_PYTHON_TYPES = {builtins.float: float32, builtins.int: int64, builtins.bool: bool}


def get_default_dtype():
    return _default_float[0]


def set_default_dtype(dtype):
    dtype = as_dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"the default dtype must be a floating point type, got {dtype}")
    _default_float[0] = dtype


def as_dtype(dtype):
    """A NumPy dtype from a tinygen dtype, a NumPy dtype, a string or a Python type."""
    if dtype is builtins.float:
        return get_default_dtype()
    if isinstance(dtype, _Unsupported):
        instead = "tg.complex64" if dtype.name == "complex32" else "tg.float16 or tg.float32"
        raise TypeError(f"{dtype.name} is not supported: NumPy has no {dtype.name} type; use "
                        f"{instead}")
    try:
        return _PYTHON_TYPES.get(dtype) or np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{dtype!r} is not a dtype; use tg.float32, tg.float64, tg.int64 "
                        f"or tg.bool") from None


def is_floating_point(dtype):
    return dtype.kind == "f"


def to_complex(dtype):
    """The complex dtype whose parts are ``dtype`` (complex128 for float64, else complex64)."""
    if dtype.kind == "c":
        return dtype
    return complex128 if dtype == float64 else complex64


def to_real(dtype):
    """The dtype of a complex dtype's parts (float64 for complex128); others unchanged."""
    if dtype.kind != "c":
        return dtype
    return float64 if dtype == complex128 else float32


def _category(dtype):
    """bool < integer < floating < complex: promotion moves only upward between categories."""
    return {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}.get(dtype.kind, 4)


def _scalar_dtype(value):
    if isinstance(value, builtins.bool):
        return bool
    if isinstance(value, builtins.int):
        return int64
    if isinstance(value, builtins.float):
        return get_default_dtype()
    if isinstance(value, builtins.complex):
        return to_complex(get_default_dtype())
    raise TypeError(f"unsupported operand of type {type(value).__name__}")


def result_type(a_dtype, a_ndim, b_dtype, b_ndim, b_is_number=False):
    """The dtype of a binary op between an array of ``a_dtype`` and one of ``b_dtype``.

    The operand of the higher category (bool < integer < floating) decides; a Python number
    (``b_is_number``) of a higher category gives the default dtype of that category. Within one
    category a Python number or a 0-dim operand yields to a dimensioned operand.
    """
    if a_dtype == b_dtype:
        return a_dtype
    cat_a, cat_b = _category(a_dtype), _category(b_dtype)
    if {cat_a, cat_b} == {2, 3}:
        return _float_and_complex(a_dtype, a_ndim, b_dtype, b_ndim, b_is_number)
    if cat_a != cat_b:
        if cat_b > cat_a and b_is_number:
            return get_default_dtype() if b_dtype.kind == "f" else b_dtype
        return b_dtype if cat_b > cat_a else a_dtype
    if b_is_number or (b_ndim == 0 and a_ndim > 0):
        return a_dtype
    if a_ndim == 0 and b_ndim > 0:
        return b_dtype
    return np.promote_types(a_dtype, b_dtype)


def _float_and_complex(a_dtype, a_ndim, b_dtype, b_ndim, b_is_number):
    """PyTorch's rule for a float operand and a complex one: the complex category wins, and a
    float operand that outranks the complex one (dimensioned against 0-dim or a Python number)
    keeps its precision: float64 * (1+2j) is complex128, float32 * complex128 0-dim complex64."""
    rank_a = 2 if a_ndim > 0 else 1
    rank_b = 0 if b_is_number else (2 if b_ndim > 0 else 1)
    if rank_a == rank_b:
        return np.promote_types(a_dtype, b_dtype)
    higher = a_dtype if rank_a > rank_b else b_dtype
    return higher if higher.kind == "c" else to_complex(higher)


def promote_types(type1, type2):
    """The smallest dtype both convert to without leaving their categories behind, by PyTorch's
    rules: ``promote_types(tg.int64, tg.float16)`` is float16 (NumPy says float64)."""
    return result_type(as_dtype(type1), 1, as_dtype(type2), 1)


def can_cast(from_, to):
    """True when PyTorch's casting rules allow ``from_`` to ``to``: never to a lower category
    (float to int, int to bool), any size within a category."""
    return _category(as_dtype(from_)) <= _category(as_dtype(to))


class finfo:
    """The limits of a floating dtype (the default one when none is given), as ``torch.finfo``:
    ``bits``, ``eps``, ``max``, ``min``, ``tiny`` (= ``smallest_normal``), ``resolution``, and
    ``dtype``, the dtype's name."""

    def __init__(self, type=None):
        dtype = get_default_dtype() if type is None else as_dtype(type)
        if dtype.kind != "f":
            raise TypeError(f"finfo() requires a floating point input type, got {dtype}; use "
                            f"iinfo() for integers")
        info = np.finfo(dtype)
        self.bits, self.dtype = info.bits, dtype.name
        self.eps = builtins.float(info.eps)
        self.max, self.min = builtins.float(info.max), builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.smallest_normal)
        self.resolution = 10.0 ** -info.precision          # computed in double, as PyTorch

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype})")


class iinfo:
    """The limits of an integer dtype, as ``torch.iinfo``: ``bits``, ``max``, ``min`` and
    ``dtype``, the dtype's name (bool is refused, as in PyTorch)."""

    def __init__(self, type):
        dtype = as_dtype(type)
        if dtype.kind not in "iu":
            raise TypeError(f"iinfo() requires an integer input type, got {dtype}; use "
                            f"finfo() for floating point")
        info = np.iinfo(dtype)
        self.bits, self.dtype = info.bits, dtype.name
        self.max, self.min = builtins.int(info.max), builtins.int(info.min)

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
