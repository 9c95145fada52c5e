"""tinygen: a from-scratch autograd engine on NumPy and CuPy, with PyTorch's names.

    import tinygen as tg
    x = tg.randn(3, requires_grad=True)
    (x.tanh() ** 2).sum().backward()
    x.grad
"""

__version__ = "0.1.0"

from tinygen import idle_threads, memory  # noqa: E402

memory.keep_freed_memory()              # large temporaries reuse freed memory (see memory.py)
idle_threads.shorten_idle_spins()       # before NumPy and Numba read them (see idle_threads.py)

from tinygen.tensor import Tensor  # noqa: E402  (first: the modules below import it)

from tinygen import autograd, cuda, dtypes  # noqa: E402
from tinygen.autograd import (  # noqa: E402
    enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled)
from tinygen.backend import (  # noqa: E402
    Device, device, get_array_module, initial_seed, manual_seed, set_default_device)
from tinygen.creation import (  # noqa: E402
    arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace, logspace,
    ones, ones_like, rand, rand_like, randint, randn, randn_like, randperm, tensor, zeros,
    zeros_like)
from tinygen.dtypes import (  # noqa: E402
    bool, double, float, float16, float32, float64, get_default_dtype, half, int32, int64, long,
    set_default_dtype, uint8)
from tinygen.ops import (  # noqa: E402
    abs, add, all, amax, amin, any, argmax, argmin, broadcast_to, cat, chunk, clamp, clip, clone,
    concatenate, cos, div, eq, exp, expand, flatten, flip, gather, ge, gt, isfinite, isinf,
    isnan, le, log, log1p, log_softmax, logsumexp, lt, masked_fill, matmul, max, maximum, mean,
    min, minimum, mul, ne, neg, permute, pow, relu, reshape, rsqrt, sigmoid, sign, sin, softmax,
    split, sqrt, square, squeeze, stack, std, sub, sum, tanh, transpose, unsqueeze, var, where)
from tinygen.ops import (  # noqa: E402  (norms, products, ordering, sampling, rearranging)
    allclose, argsort, bernoulli, bmm, ceil, clamp_max, clamp_min, cumsum, dot, einsum, equal,
    erf, floor, index_select, lerp, mm, multinomial, norm, outer, prod, reciprocal,
    repeat_interleave, roll, round, sort, tile, topk, tril, triu, trunc, unbind)
from tinygen.ops import (  # noqa: E402  (integer arithmetic, logic, bits, indices)
    bitwise_and, bitwise_not, bitwise_or, bitwise_xor, floor_divide, fmod, logical_and,
    logical_not, logical_or, logical_xor, nonzero, remainder)
from tinygen.ops import (  # noqa: E402  (more elementwise math)
    atan2, exp2, expm1, float_power, frac, heaviside, hypot, isclose, log2, log10, logaddexp,
    logaddexp2, logit, nan_to_num, sgn, sinc, xlogy)
from tinygen.ops import (  # noqa: E402  (statistics, rearranging, searching, more products)
    aminmax, bincount, block_diag, bucketize, cdist, cross, cummax, cummin, cumprod, diag,
    diagonal, diff, kron, kthvalue, logcumsumexp, masked_select, median, meshgrid, moveaxis,
    movedim, narrow, quantile, scatter, scatter_add, searchsorted, std_mean, swapaxes, swapdims,
    take_along_dim, tensor_split, tensordot, trace, unflatten, unique, var_mean)
from tinygen import linalg  # noqa: E402  (tg.linalg.vector_norm, as torch.linalg)
from tinygen.serialization import load, save  # noqa: E402
from tinygen import viz  # noqa: E402  (graph drawing; imports matplotlib only when drawing)
from tinygen import nn, optim  # noqa: E402  (tg.nn and tg.optim, as torch.nn and torch.optim)
from tinygen import distributions, utils  # noqa: E402  (tg.utils.data, tg.distributions)
