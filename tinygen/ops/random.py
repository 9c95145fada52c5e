"""Sampling from distributions given as tensors: multinomial (categorical draws, e.g. the next
token of a language model) and bernoulli. Draws come from the device's generator
(``tinygen.backend.generator``), which ``tg.manual_seed`` resets; none is differentiable.
"""

from tinygen import backend, device_checks, dtypes
from tinygen.backend import get_array_module
from tinygen.tensor import Tensor


def multinomial(input, num_samples, replacement=False, generator=None):
    """Category indices drawn with probabilities proportional to the rows of ``input`` (1-D: one
    distribution, 2-D: one per row; rows need not sum to 1). Returns int64 of shape
    (num_samples,) or (rows, num_samples). ``generator`` is a numpy/cupy Generator to draw
    from instead of the device's."""
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
    gen = backend.generator(input.device) if generator is None else generator
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
    gen = backend.generator(input.device) if generator is None else generator
    u = gen.random(input.shape, dtype=dtypes.float64)
    return Tensor((u < probs).astype(input.dtype))
