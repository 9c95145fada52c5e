"""Making tensors: from data, filled with constants, ranges, and random numbers.

Every function takes ``dtype`` (default: float32 for floating values) and ``device`` (default:
``tg.backend.default_device()``, set by $TINYGEN_DEVICE), as in PyTorch. Random tensors draw
from ``generator=`` (a ``tg.Generator``) when given, else from the device's default generator,
which ``tg.manual_seed`` resets.
"""

import functools
import math
import operator

import numpy as np

from tinygen import backend, dtypes, generator as generators
from tinygen.errors import ArgumentError
from tinygen.tensor import Tensor


def _place(dtype, device):
    return (dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype),
            backend.default_device() if device is None else backend.Device(device))


def _shape(size, keyword=None):
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f(size=(2, 3))``."""
    if keyword is not None:
        if size:
            raise TypeError("got the size both positionally and as size=")
        size = (keyword,)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    for n in size:
        if int(n) < 0:
            raise ArgumentError(f"negative dimension in shape {tuple(size)}")
    return tuple(int(n) for n in size)


def _make(array_fn, dtype, device, requires_grad):
    dtype, device = _place(dtype, device)
    array = backend.on_device(lambda xp: array_fn(xp, dtype), device)
    return Tensor(array, requires_grad=requires_grad)


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data``: a number, nested lists of numbers and one-element
    tensors, an array (converted to the machine's byte order, which CuPy and Numba need), or a
    tensor."""
    if isinstance(data, Tensor):
        array = data.array
    elif hasattr(data, "__array_namespace__") and not isinstance(data, np.generic):
        array = data
    elif dtype is not None:                 # straight to dtype: 0.7 must not pass through float32
        array = np.asarray(data, dtype=dtypes.as_dtype(dtype))
    else:                                   # NumPy scalars become 0-d arrays, keeping dtype
        array = array_from_data(data)
    if device is None:
        device = backend.device_of(array) if not isinstance(array, np.ndarray) else \
            backend.default_device()
    array = backend.to_device(array, device)
    dtype = dtypes.as_dtype(dtype) if dtype is not None else array.dtype.newbyteorder("=")
    return Tensor(array.astype(dtype, copy=True), requires_grad=requires_grad)


def array_from_data(data):
    """A numpy array from Python data: floats become the default dtype, ints int64; lists that
    hold one-element tensors go through ``array_from_items``."""
    array = np.asarray(data)
    if array.dtype == object and isinstance(data, (list, tuple)):
        return array_from_items(data)
    if array.dtype.kind == "f" and not isinstance(data, np.ndarray) and not isinstance(
            data, np.generic):
        array = array.astype(dtypes.get_default_dtype(), copy=False)
    elif array.dtype.kind in "iu" and not isinstance(data, (np.ndarray, np.generic)):
        array = array.astype(dtypes.int64, copy=False)
    elif array.dtype.kind == "c" and not isinstance(data, (np.ndarray, np.generic)):
        array = array.astype(dtypes.to_complex(dtypes.get_default_dtype()), copy=False)
    elif array.dtype.kind not in "biufc":
        raise TypeError(f"can't make a tensor from {type(data).__name__} with dtype "
                        f"{array.dtype}")
    return array


def array_from_items(data):
    """An array from nested lists of numbers and one-element tensors, in PyTorch's dtype for
    them: the items' dtypes promoted together (as the operands of a binary op), a Python float
    counting as the default float and an int as int64."""
    found = []

    def read(item):                         # item as a Python number; its dtype into found
        if isinstance(item, (list, tuple)):
            return [read(i) for i in item]
        if isinstance(item, Tensor) and item.numel() != 1:
            raise ValueError(f"tensor(): only one-element tensors can be list items, got one "
                             f"of shape {tuple(item.shape)}; use tg.stack to join tensors")
        if isinstance(item, (Tensor, np.generic)):
            found.append(item.dtype)
            return item.item()
        if not isinstance(item, (bool, int, float, complex)):
            raise TypeError(f"can't make a tensor from a list holding {type(item).__name__}")
        found.append(dtypes._scalar_dtype(item) if isinstance(item, complex)
                     else dtypes.as_dtype(type(item)))
        return item
    values = read(data)
    dtype = functools.reduce(lambda a, b: dtypes.result_type(a, 1, b, 1), found)
    return np.asarray(values, dtype=dtype)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor``, but shares memory with ``data`` when no conversion is needed."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtypes.as_dtype(dtype)) \
            and (device is None or data.device == backend.Device(device)):
        return data
    if isinstance(data, np.ndarray) and data.dtype.isnative and dtype is None and \
            device in (None, "cpu"):
        return Tensor(data)
    return tensor(data, dtype, device)


def from_numpy(array):
    """A tensor sharing ``array``'s memory (and dtype)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    if not array.dtype.isnative:            # shared memory can't be byte-swapped; PyTorch refuses
        raise ValueError(f"from_numpy: the array's byte order ({array.dtype.str}) is not the "
                         f"machine's; use tg.tensor(array), which converts it")
    return Tensor(array)


def zeros(*args, size=None, dtype=None, device=None, requires_grad=False):
    return _make(lambda xp, dt: xp.zeros(_shape(args, size), dt), dtype, device, requires_grad)


def ones(*args, size=None, dtype=None, device=None, requires_grad=False):
    return _make(lambda xp, dt: xp.ones(_shape(args, size), dt), dtype, device, requires_grad)


def empty(*args, size=None, dtype=None, device=None, requires_grad=False):
    return _make(lambda xp, dt: xp.empty(_shape(args, size), dt), dtype, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor of ``fill_value``, in its dtype: bool, int64 or the default float (NumPy scalars
    and one-element tensors count as Python numbers)."""
    if isinstance(fill_value, (Tensor, np.generic)):
        fill_value = fill_value.item()
    if dtype is None:
        dtype = dtypes.as_dtype(type(fill_value)) if isinstance(fill_value, (bool, int)) \
            else None
    return _make(lambda xp, dt: xp.full(_shape((size,)), _wrapped(fill_value, dt), dt), dtype,
                 device, requires_grad)


def _wrapped(value, dtype):
    """An int as ``dtype`` wraps around as in PyTorch (-9 as uint8 is 247); NumPy refuses it."""
    if isinstance(value, int) and not isinstance(value, bool) and dtype.kind in "iu":
        return np.int64(value).astype(dtype)
    return value


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    for name, value in (("n", n), ("m", m)):
        if value is not None and value < 0:
            raise ArgumentError(f"eye: {name} must be greater or equal to 0, got {value}")
    return _make(lambda xp, dt: xp.eye(n, m, dtype=dt), dtype, device, requires_grad)


def arange(start=0, end=None, step=1, dtype=None, device=None, requires_grad=False, *,
           out=None):
    """[start, end) in steps: ``arange(end)`` or ``arange(start, end, step)``. Integer arguments
    (0-d integer tensors included) give int64, others the default float, as in PyTorch.
    ``out=`` gives the dtype and receives the values (it is not resized, see write_out)."""
    if out is not None:
        from tinygen.ops.convert import write_out
        made = arange(start, end, step, dtype=dtype or out.dtype, device=out.device)
        return write_out(made, out, "arange")
    if end is None:
        start, end = 0, start
    start, end, step = (_arange_number(v) for v in (start, end, step))
    if dtype is None and all(isinstance(v, int) for v in (start, end, step)):
        dtype = dtypes.int64
    if not all(math.isfinite(v) for v in (start, end, step)):
        raise RuntimeError(f"arange: unsupported range: {start} -> {end} (step {step})")
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound and lower bound inconsistent with step sign "
                           f"(start {start}, end {end}, step {step})")
    if dtype is not None and dtypes.as_dtype(dtype).kind in "iu":
        return _make(lambda xp, dt: _integer_arange(xp, start, end, step, dt), dtype, device,
                     requires_grad)
    return _make(lambda xp, dt: xp.arange(start, end, step).astype(dt), dtype, device,
                 requires_grad)


def _integer_arange(xp, start, end, step, dtype):
    """arange in an integer dtype, as PyTorch: int64 truncates start, end and step toward zero
    first; narrower types take the length from the exact bounds and step from int(start) by
    int(step), wrapping around (``arange(0, 5, 1.5, dtype=int32)`` is [0, 1, 2, 3])."""
    if dtype == dtypes.int64:
        start, end, step = int(start), int(end), int(step)
        if step == 0:     # ValueError in PyTorch, unlike a zero step given as such
            raise ArgumentError("arange: step must be nonzero (the step truncated to int64)")
        return xp.arange(start, end, step, dtype=dtype)
    length = max(math.ceil((end - start) / step), 0)
    return (int(start) + xp.arange(length, dtype=dtypes.int64) * int(step)).astype(dtype)


def _arange_number(value):
    """A Python number from a number, a NumPy scalar or a one-element tensor."""
    if isinstance(value, (Tensor, np.generic)):
        value = value.item()
    if not isinstance(value, (int, float)):
        raise TypeError(f"arange: expected numbers, got {type(value).__name__}")
    return value


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """``steps`` values from start to end; an integer dtype truncates start and end first, and
    then each value, as PyTorch."""
    _check_steps("linspace", steps)
    start, end = _integer_bounds(start, end, dtype)
    return _make(lambda xp, dt: xp.linspace(start, end, steps).astype(dt), dtype, device,
                 requires_grad)


def _check_steps(op, steps):
    if steps < 0:
        raise RuntimeError(f"{op}: number of steps must be non-negative, got {steps}")


def _integer_bounds(start, end, dtype):
    """start and end as Python numbers (they may be 0-d tensors), truncated for an integer
    dtype."""
    start, end = (v.item() if isinstance(v, (Tensor, np.generic)) else v for v in (start, end))
    if dtype is not None and dtypes.as_dtype(dtype).kind in "iu":
        return int(start), int(end)
    return start, end


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    """``steps`` values from base**start to base**end, evenly spaced in the exponent (integer
    exponents for an integer dtype, as in ``linspace``)."""
    _check_steps("logspace", steps)
    start, end = _integer_bounds(start, end, dtype)
    return _make(lambda xp, dt: (base ** xp.linspace(start, end, steps)).astype(dt), dtype,
                 device, requires_grad)


def _like(make, t, dtype, device, requires_grad, *args, **kwargs):
    """``make`` with ``t``'s shape, and its dtype and device unless others are given."""
    return make(t.shape, *args, dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad, **kwargs)


def zeros_like(t, dtype=None, device=None, requires_grad=False):
    return _like(zeros, t, dtype, device, requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad=False):
    return _like(ones, t, dtype, device, requires_grad)


def empty_like(t, dtype=None, device=None, requires_grad=False):
    return _like(empty, t, dtype, device, requires_grad)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False):
    return _like(full, t, dtype, device, requires_grad, fill_value)


def random_array(kind, shape, dtype, device, a=0.0, b=1.0, generator=None):
    """An array of ``kind`` 'normal' (mean a, std b) or 'uniform' ([a, b)) from ``generator``
    or the device's, drawn in ``dtype`` directly (no float64 detour). A complex dtype draws both
    parts alike, a normal's variance split evenly between them (as PyTorch: std / sqrt 2)."""
    dtype = dtypes.as_dtype(dtype)
    if dtype.kind == "c":
        scale = 0.5 ** 0.5 if kind == "normal" else 1.0
        parts = random_array(kind, (*shape, 2), dtypes.to_real(dtype), device, a, b * scale,
                             generator)
        return parts.view(dtype)[..., 0]
    if dtype.kind != "f":
        raise TypeError(f"random {kind} numbers need a floating dtype, got {dtype}")
    gen = generators.rng(device, generator)
    draw_dtype = dtype if dtype in (dtypes.float32, dtypes.float64) else dtypes.float32

    def draw(xp):
        if kind == "normal":
            x = gen.standard_normal(size=shape, dtype=draw_dtype)
            return (x * b + a if (a, b) != (0.0, 1.0) else x).astype(dtype, copy=False)
        x = gen.random(size=shape, dtype=draw_dtype)
        return (x * (b - a) + a if (a, b) != (0.0, 1.0) else x).astype(dtype, copy=False)
    return backend.on_device(draw, device)


def randn(*args, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples."""
    dtype, device = _place(dtype, device)
    return Tensor(random_array("normal", _shape(args, size), dtype, device, generator=generator),
                  requires_grad=requires_grad)


def rand(*args, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1)."""
    dtype, device = _place(dtype, device)
    return Tensor(random_array("uniform", _shape(args, size), dtype, device, generator=generator),
                  requires_grad=requires_grad)


def randint(*args, low=None, high=None, size=None, generator=None, dtype=None, device=None,
            requires_grad=False):
    """Integers uniform in [low, high), int64 unless ``dtype`` says otherwise. As in PyTorch:
    ``randint(high, size)`` or ``randint(low, high, size)``, where low defaults to 0 and size is
    a tuple. ``generator``: a ``tg.Generator`` (or a NumPy/CuPy one) to draw from."""
    args = list(args)
    if size is None and args and isinstance(args[-1], (tuple, list)):
        size = args.pop()
    if high is None and args:
        high = args.pop()
    if low is None:
        low = args.pop() if args else 0
    if args or high is None or size is None:
        raise TypeError("randint() takes (high, size) or (low, high, size), size a tuple such "
                        "as (64,)")
    low, high = operator.index(low), operator.index(high)
    if low >= high:
        raise RuntimeError(f"randint: low must be less than high, got low={low} >= "
                           f"high={high}")
    dtype, device = _place(dtypes.int64 if dtype is None else dtype, device)
    if dtype.kind in "biu":                 # NumPy would wrap the draws around silently
        smallest, largest = (0, 1) if dtype.kind == "b" else (np.iinfo(dtype).min,
                                                              np.iinfo(dtype).max)
        if low < smallest or high - 1 > largest:
            raise RuntimeError(f"randint: [{low}, {high}) is out of range for {dtype}")
    gen = generators.rng(device, generator)
    array = backend.on_device(lambda xp: gen.integers(low, high, size=_shape(size)), device)
    return Tensor(array.astype(dtype, copy=False), requires_grad=requires_grad)


def randn_like(t, *, generator=None, dtype=None, device=None, requires_grad=False):
    return _like(randn, t, dtype, device, requires_grad, generator=generator)


def rand_like(t, *, generator=None, dtype=None, device=None, requires_grad=False):
    return _like(rand, t, dtype, device, requires_grad, generator=generator)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0 .. n-1 (int64 by default): the order of n uniform draws, so it
    works the same with NumPy's and CuPy's generators."""
    dtype, device = _place(dtypes.int64 if dtype is None else dtype, device)
    order = random_array("uniform", (n,), dtypes.float64, device, generator=generator)
    return Tensor(order.argsort().astype(dtype, copy=False), requires_grad=requires_grad)


def scalar_tensor(s, dtype=None, device=None, requires_grad=False):
    """A 0-dim tensor holding the number ``s``, in the default float dtype unless ``dtype`` says
    otherwise (an int included, as in PyTorch)."""
    return full((), s, dtype=dtype or dtypes.get_default_dtype(), device=device,
                requires_grad=requires_grad)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=None):
    """``obj`` as a tensor, sharing memory with a tensor or array when no dtype or device change
    is needed (a tensor comes back as itself); ``copy=True`` always copies, ``copy=False``
    refuses to. ``requires_grad`` defaults to that of a tensor given, else False."""
    if copy:
        return tensor(obj, dtype, device, bool(requires_grad))
    result = as_tensor(obj, dtype, device)
    if copy is False and result.array is not getattr(obj, "array", obj):
        raise ValueError(f"asarray(copy=False): a {type(obj).__name__} cannot become a tensor "
                         f"of dtype {result.dtype} on {result.device} without a copy")
    if requires_grad is None or requires_grad == result.requires_grad:
        return result
    return result.detach().requires_grad_(requires_grad)
