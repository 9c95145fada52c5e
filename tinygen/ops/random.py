"""Sampling from distributions given as tensors: multinomial (categorical draws, e.g. the next
token of a language model), bernoulli, normal and poisson; and the values of the in-place
fills ``x.uniform_()``, ``x.random_()``, ``x.exponential_()`` and the rest (``fill_values``).
Draws come from ``generator=`` (a ``tg.Generator``) when given, else from the device's default
generator, which ``tg.manual_seed`` resets; none is differentiable (PyTorch's ``normal`` passes
a zero gradient to a mean that requires grad; here the result is simply outside the graph).
"""

import math

import numpy as np

from tinygen import backend, creation, device_checks, dtypes, generator as generators
from tinygen.backend import get_array_module
from tinygen.ops.out_param import accepts_out
from tinygen.tensor import Tensor


@accepts_out(overlap_ok=True)
def multinomial(input, num_samples, replacement=False, generator=None):
    """Category indices drawn with probabilities proportional to the rows of ``input`` (1-D: one
    distribution, 2-D: one per row; rows need not sum to 1). Returns int64 of shape
    (num_samples,) or (rows, num_samples)."""
    if input.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape "
                           f"{tuple(input.shape)}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"multinomial: expected a floating point tensor of probabilities, "
                           f"got {input.dtype}")
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample num_samples={num_samples} <= 0 samples")
    probs = input.array.reshape(-1, input.shape[-1]).astype(dtypes.float64)
    xp = get_array_module(probs)
    device_checks.check(
        ~xp.isfinite(probs).all() | (probs < 0).any(),
        lambda: RuntimeError("multinomial: probability tensor contains either inf, nan or an "
                             "element < 0"), op="multinomial")
    if probs.shape[0]:
        fewest = (probs > 0).sum(axis=1).min()          # non-zero categories in a row
        device_checks.check(
            fewest == 0,
            lambda: RuntimeError("multinomial: invalid multinomial distribution (sum of "
                                 "probabilities <= 0): a row is all zeros"), op="multinomial")
        if not replacement:
            device_checks.check(
                fewest < num_samples,
                lambda fewest: RuntimeError(f"multinomial: cannot draw {num_samples} samples "
                                            f"without replacement from a row with only "
                                            f"{fewest} non-zero categories"),
                fewest, op="multinomial")
    gen = generators.rng(input.device, generator)
    # one draw is the same with or without replacement, and inverse-CDF sampling is cheaper
    draw = _with_replacement if replacement or num_samples == 1 else _without_replacement
    samples = draw(xp, gen, probs, num_samples).astype(dtypes.int64, copy=False)
    return Tensor(samples.reshape(input.shape[:-1] + (num_samples,)))


def _with_replacement(xp, gen, probs, num_samples):
    """Inverse-CDF sampling: a uniform u falls in category j when cdf[j-1] <= u < cdf[j]. All
    rows are searched at once by shifting row r's cdf (in [0, 1]) and its draws by r."""
    rows, n = probs.shape
    cdf = xp.cumsum(probs, axis=1)
    cdf /= cdf[:, -1:]
    shift = xp.arange(rows, dtype=probs.dtype)[:, None]
    u = gen.random((rows, num_samples), dtype=probs.dtype)
    flat = xp.searchsorted((cdf + shift).reshape(-1), (u + shift).reshape(-1), side="right")
    last = n - 1 - xp.argmax(probs[:, ::-1] > 0, axis=1)[:, None]   # if u + r rounds up to r + 1
    return xp.minimum(flat.reshape(rows, num_samples) - shift.astype(flat.dtype) * n, last)


def _without_replacement(xp, gen, probs, num_samples):
    """Gumbel-top-k: the k largest of log p_j + Gumbel noise are distributed as k draws without
    replacement (Kool et al., 2019, "Stochastic Beams and Where to Find Them"). Zero
    probabilities give -inf keys, so they are never drawn."""
    u = xp.maximum(gen.random(probs.shape, dtype=probs.dtype), xp.finfo(probs.dtype).tiny)
    log_p = xp.where(probs > 0, xp.log(xp.where(probs > 0, probs, 1)), -xp.inf)
    keys = log_p - xp.log(-xp.log(u))             # u in (0, 1): -log(u) > 0
    top = xp.argpartition(-keys, num_samples - 1, axis=1)[:, :num_samples]
    order = xp.argsort(-xp.take_along_axis(keys, top, axis=1), axis=1)
    return xp.take_along_axis(top, order, axis=1)       # in the order they were drawn


@accepts_out()
def bernoulli(input, p=None, generator=None):
    """1 with probability ``input`` (or ``p``, when given), else 0, elementwise; the result has
    input's shape and dtype."""
    probs = input.array if p is None else p.array if isinstance(p, Tensor) else p
    xp = get_array_module(input.array)
    if p is None and input.dtype.kind != "f":
        raise RuntimeError(f"bernoulli: expected a floating point tensor of probabilities, "
                           f"got {input.dtype}")
    device_checks.check(
        xp.any((xp.asarray(probs) < 0) | (xp.asarray(probs) > 1)),
        lambda: RuntimeError("bernoulli: probabilities must be in [0, 1]"), op="bernoulli")
    u = _uniform(input, generator)
    return Tensor((u < probs).astype(input.dtype))


def _uniform(like, generator):
    """float64 uniforms in [0, 1) of ``like``'s shape, on its device."""
    gen = generators.rng(like.device, generator)
    return backend.on_device(lambda xp: gen.random(like.shape, dtype=dtypes.float64),
                             like.device)


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False):
    """Normal samples, as PyTorch's overloads: ``normal(mean, std)`` with a tensor mean or std
    (or both, broadcast) gives one draw per element; ``normal(mean, std, size)`` with numbers
    gives a tensor of ``size`` (and takes ``dtype``, ``device`` and ``requires_grad``)."""
    tensors = [v for v in (mean, std) if isinstance(v, Tensor)]
    if not tensors:
        if size is None:
            raise TypeError("normal(mean, std) with numbers for both needs size, e.g. "
                            "tg.normal(0.0, 1.0, size=(3,))")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        dtype, device = creation._place(dtype, device)
        array = creation.random_array("normal", creation._shape((size,)), dtype, device,
                                      float(mean), float(std), generator)
        return Tensor(array, requires_grad=requires_grad)
    if size is not None:
        raise TypeError("normal() takes size only when mean and std are both numbers")
    for v in tensors:
        if v.dtype.kind != "f":
            raise RuntimeError(f"normal expects floating point mean and std, got {v.dtype}")
    xp = get_array_module(tensors[0].array)
    mean_a, std_a = (getattr(v, "array", v) for v in (mean, std))
    device_checks.check(xp.any(xp.asarray(std_a) < 0),
                        lambda: RuntimeError("normal expects std >= 0.0, but found a negative "
                                             "std"), op="normal")
    shape = np.broadcast_shapes(*(v.shape for v in tensors))
    dtype = tensors[0].dtype if len(tensors) == 1 else np.promote_types(mean.dtype, std.dtype)
    z = creation.random_array("normal", shape, dtype, tensors[0].device, generator=generator)
    return Tensor((mean_a + std_a * z).astype(dtype, copy=False))


def poisson(input, generator=None):
    """Counts drawn from Poisson(rate) for each rate in ``input``, in input's dtype."""
    xp = get_array_module(input.array)
    device_checks.check(xp.any(input.array < 0),
                        lambda: RuntimeError("invalid Poisson rate, expected rate to be "
                                             "non-negative"), op="poisson")
    gen = generators.rng(input.device, generator)
    counts = backend.on_device(lambda xp: gen.poisson(input.array), input.device)
    return Tensor(counts.astype(input.dtype))


def fill_values(kind, tensor, *args, generator=None, **kwargs):
    """The values that ``tensor.<kind>_(*args, generator=generator, **kwargs)`` writes: an array
    of its shape, dtype and device, for 'uniform', 'normal', 'random', 'exponential',
    'log_normal', 'cauchy' and 'geometric'."""
    return _FILLS[kind](tensor, *args, generator=generator, **kwargs)


def _check(ok, message):
    if not ok:
        raise RuntimeError(message)


def _continuous(tensor, name):
    if tensor.dtype.kind != "f":
        raise RuntimeError(f"{name} draws from a continuous distribution: the tensor must be "
                           f"floating point, got {tensor.dtype}")


def _fill_uniform(tensor, a=0.0, b=1.0, *, generator):
    _check(a <= b, f"uniform_ expects to return a [from, to) range, but found from={a} > "
                   f"to={b}")
    return creation.random_array("uniform", tensor.shape, tensor.dtype, tensor.device, a, b,
                                 generator)


def _fill_normal(tensor, mean=0.0, std=1.0, *, generator):
    _check(std >= 0, f"normal expects std >= 0.0, but found std {std}")
    return creation.random_array("normal", tensor.shape, tensor.dtype, tensor.device, mean, std,
                                 generator)


def _fill_random(tensor, *bounds, to=None, generator):
    """Integers: ``random_(from, to)`` in [from, to), ``random_(to)`` in [0, to); with no ``to``
    up to the dtype's largest integer, inclusive (2^digits for floats, as in PyTorch)."""
    bounds += () if to is None else (to,)
    if len(bounds) > 2:
        raise TypeError(f"random_ takes (), (to) or (from, to), got {len(bounds)} bounds")
    low, high = (0, None) if not bounds else (0, bounds[0]) if len(bounds) == 1 else bounds
    dtype = tensor.dtype
    if dtype.kind == "f":
        top = 2 ** (np.finfo(dtype).nmant + 1)
    else:
        top = 1 if dtype.kind == "b" else int(np.iinfo(dtype).max)
    high = top + 1 if high is None else high
    _check(low < high, f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                       f"to={high}")
    if dtype.kind != "f":
        bottom = 0 if dtype.kind == "b" else int(np.iinfo(dtype).min)
        _check(bottom <= low and high - 1 <= top, f"random_: [{low}, {high}) is out of bounds "
                                                  f"for {dtype}")
    gen = generators.rng(tensor.device, generator)
    draws = backend.on_device(lambda xp: gen.integers(low, high - 1, tensor.shape,
                                                      dtype=dtypes.int64, endpoint=True),
                              tensor.device)
    return draws.astype(dtype)


def _fill_exponential(tensor, lambd=1.0, *, generator):
    """-log(1 - u) / lambd, u uniform in [0, 1)."""
    _continuous(tensor, "exponential_")
    _check(lambd > 0, f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    xp = get_array_module(tensor.array)
    return (-xp.log1p(-_uniform(tensor, generator)) / lambd).astype(tensor.dtype)


def _fill_log_normal(tensor, mean=1.0, std=2.0, *, generator):
    """exp(N(mean, std^2))."""
    _continuous(tensor, "log_normal_")
    _check(std > 0, f"log_normal_ expects std > 0.0, but found std={std}")
    xp = get_array_module(tensor.array)
    return xp.exp(_fill_normal(tensor, mean, std, generator=generator))


def _fill_cauchy(tensor, median=0.0, sigma=1.0, *, generator):
    """median + sigma * tan(pi (u - 1/2)), u uniform in [0, 1)."""
    _continuous(tensor, "cauchy_")
    _check(sigma > 0, f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    xp = get_array_module(tensor.array)
    u = _uniform(tensor, generator)
    return (median + sigma * xp.tan(math.pi * (u - 0.5))).astype(tensor.dtype)


def _fill_geometric(tensor, p, *, generator):
    """The number of Bernoulli(p) trials up to the first success, 1, 2, ...: for u uniform in
    [0, 1), P(floor(log(1 - u) / log(1 - p)) >= k) = (1 - p)^k."""
    _check(0 < p < 1, f"geometric_ expects p to be in (0, 1), but got p={p}")
    xp = get_array_module(tensor.array)
    trials = xp.floor(xp.log1p(-_uniform(tensor, generator)) / math.log1p(-p)) + 1
    return trials.astype(tensor.dtype)


_FILLS = {"uniform": _fill_uniform, "normal": _fill_normal, "random": _fill_random,
          "exponential": _fill_exponential, "log_normal": _fill_log_normal,
          "cauchy": _fill_cauchy, "geometric": _fill_geometric}
