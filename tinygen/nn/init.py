"""``nn.init``: fill a tensor in place with values from PyTorch's initialisation schemes.

Every function works under ``no_grad`` (so it may be applied to a Parameter), draws from
``generator`` (a ``tg.Generator``) or else the tensor's device generator (``tg.manual_seed``
makes it repeat), and returns the tensor.

The Xavier (Glorot & Bengio, 2010) and Kaiming (He et al., 2015) schemes scale the spread of
the values by the layer's fan: for a weight of shape ``(out, in, *kernel)``,
``fan_in = in * prod(kernel)`` and ``fan_out = out * prod(kernel)``.
"""

import math
import warnings

from tinygen import creation
from tinygen.autograd.grad_mode import no_grad
from tinygen.autograd.inplace import overwrite
from tinygen.backend import get_array_module

_MIN_ACCEPT = 1e-6                 # trunc_normal_: least probability mass of [a, b] it accepts
_MAX_BATCH = 1 << 22               # trunc_normal_: most values drawn per round

_LINEAR_GAIN = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity, param=None):
    """The recommended scale of the weights in front of ``nonlinearity`` (PyTorch's table):
    1 for linear/conv/sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for
    leaky_relu (slope ``param``, default 0.01) and 3/4 for selu."""
    if nonlinearity in _LINEAR_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight shaped (out, in, *kernel)."""
    if tensor.ndim < 2:
        raise ValueError(f"Fan in and fan out can not be computed for tensor with fewer than 2 "
                         f"dimensions (got shape {tuple(tensor.shape)})")
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _is_empty(tensor):
    if tensor.numel() == 0:
        warnings.warn("Initializing zero-element tensors is a no-op")
        return True
    return False


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Values drawn from U(a, b)."""
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Values drawn from N(mean, std^2)."""
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Values drawn from N(mean, std^2) conditioned on [a, b] (``a`` and ``b`` are absolute
    bounds, not in units of std, as in PyTorch).

    Drawn by rejection, which is exact: out-of-range draws are drawn again, in batches enlarged
    by the acceptance probability Phi(beta) - Phi(alpha), so a narrow window takes few rounds.
    (PyTorch inverts the CDF instead and warns that it is inaccurate when the mean is more than
    2 std outside [a, b]; here that case is exact, and only a window holding less than 1e-6 of
    the probability is refused.)
    """
    alpha, beta = (a - mean) / std, (b - mean) / std
    accept = 0.5 * (math.erf(beta / math.sqrt(2)) - math.erf(alpha / math.sqrt(2)))
    if not accept >= _MIN_ACCEPT:
        raise ValueError(f"trunc_normal_: the window [{a}, {b}] holds {accept:.3g} of the "
                         f"probability of N({mean}, {std}^2), less than {_MIN_ACCEPT}; widen it "
                         f"or move the mean closer")
    kept, need = [], tensor.numel()
    while need:
        size = min(int(need / accept) + 16, _MAX_BATCH)
        draw = creation.random_array("normal", (size,), tensor.dtype, tensor.device, mean, std,
                                     generator)
        kept.append(draw[(draw >= a) & (draw <= b)][:need])
        need -= kept[-1].size
    values = get_array_module(tensor.array).concatenate(kept) if kept else tensor.array
    with no_grad():
        return overwrite(tensor, values.reshape(tensor.shape), "trunc_normal_")


def constant_(tensor, val):
    """Every value set to ``val``."""
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor):
    return constant_(tensor, 1.0)


def zeros_(tensor):
    return constant_(tensor, 0.0)


def eye_(tensor):
    """The 2-D identity (ones on the diagonal, zeros elsewhere; rectangular allowed)."""
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported, got shape "
                         f"{tuple(tensor.shape)}")
    with no_grad():
        eye = creation.eye(*tensor.shape, dtype=tensor.dtype, device=tensor.device)
        return overwrite(tensor, eye.array, "eye_")


def dirac_(tensor, groups=1):
    """The Dirac delta of a conv weight (out, in, *kernel) with 1 to 3 kernel dims: in each of
    the ``groups``, output channel d takes input channel d at the kernel's centre, for d below
    min(out / groups, in), so the convolution passes those channels through unchanged."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"Only tensors with 3, 4, or 5 dimensions are supported, got shape "
                         f"{tuple(tensor.shape)}")
    out_channels, in_channels = tensor.shape[:2]
    if groups < 1 or out_channels % groups:
        raise ValueError(f"dim 0 must be divisible by groups, got shape {tuple(tensor.shape)} "
                         f"and groups={groups}")
    xp = get_array_module(tensor.array)
    per_group = out_channels // groups
    channel = xp.arange(min(per_group, in_channels))
    out_index = (xp.arange(groups)[:, None] * per_group + channel).reshape(-1)
    in_index = xp.tile(channel, groups)
    centre = tuple(n // 2 for n in tensor.shape[2:])
    values = xp.zeros(tensor.shape, dtype=tensor.dtype)
    values[(out_index, in_index) + centre] = 1
    with no_grad():
        return overwrite(tensor, values, "dirac_")


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """A 2-D (rows, cols) weight drawn from N(0, std^2) with ceil(sparsity * rows) entries of
    each column, at random rows, set to zero (Martens, 2010, "Deep learning via Hessian-free
    optimization")."""
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported, got shape "
                         f"{tuple(tensor.shape)}")
    rows, cols = tensor.shape
    num_zeros = math.ceil(sparsity * rows)
    values = creation.random_array("normal", (rows, cols), tensor.dtype, tensor.device, 0.0, std,
                                   generator)
    order = creation.random_array("uniform", (rows, cols), "float64", tensor.device,
                                  generator=generator)
    zero_rows = order.argsort(axis=0)[:num_zeros]           # a random permutation per column
    values[zero_rows, get_array_module(values).arange(cols)] = 0
    with no_grad():
        return overwrite(tensor, values, "sparse_")


def orthogonal_(tensor, gain=1.0, generator=None):
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2013), the trailing dims read as
    one: Q of the QR decomposition of a Gaussian matrix, each column's sign fixed by R's
    diagonal so that Q is uniformly distributed (Mezzadri, 2007), as PyTorch draws it."""
    if tensor.ndim < 2:
        raise ValueError(f"Only tensors with 2 or more dimensions are supported, got shape "
                         f"{tuple(tensor.shape)}")
    if _is_empty(tensor):
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = creation.random_array("normal", (rows, cols), tensor.dtype, tensor.device,
                                 generator=generator)
    if rows < cols:
        flat = flat.T                                    # QR of the tall matrix, Q^T after
    q, r = get_array_module(flat).linalg.qr(flat)
    q = q * gain * get_array_module(r).sign(r.diagonal())
    if rows < cols:
        q = q.T
    with no_grad():
        return overwrite(tensor, q.reshape(tensor.shape).astype(tensor.dtype), "orthogonal_")


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std               # U(-a, a) has std a / sqrt(3)
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-bound, bound) with bound = gain * sqrt(3 / fan), ``fan`` chosen by ``mode`` and
    ``gain = calculate_gain(nonlinearity, a)`` (``a``: the leaky_relu negative slope)."""
    if _is_empty(tensor):
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std^2) with std = gain / sqrt(fan) (see ``kaiming_uniform_``)."""
    if _is_empty(tensor):
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def default_weight_and_bias_(weight, bias=None):
    """The default initialisation of PyTorch's Linear and conv layers, in place.

    kaiming_uniform_ with a = sqrt(5) gives gain sqrt(2 / (1 + 5)) = sqrt(1/3), so the weight bound
    is gain * sqrt(3 / fan_in) = 1 / sqrt(fan_in); the bias gets the same bound.
    """
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)



def _make_deprecate(method):
    """``method`` under its old name (without the trailing underscore), warning as PyTorch."""
    new_name = method.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args, **kwargs):
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of "
                      f"`nn.init.{new_name}`.", FutureWarning, stacklevel=2)
        return method(*args, **kwargs)

    deprecated_init.__doc__ = f"{old_name}(...): deprecated; see ``nn.init.{new_name}``."
    deprecated_init.__name__ = old_name
    return deprecated_init


uniform = _make_deprecate(uniform_)
normal = _make_deprecate(normal_)
constant = _make_deprecate(constant_)
eye = _make_deprecate(eye_)
dirac = _make_deprecate(dirac_)
xavier_uniform = _make_deprecate(xavier_uniform_)
xavier_normal = _make_deprecate(xavier_normal_)
kaiming_uniform = _make_deprecate(kaiming_uniform_)
kaiming_normal = _make_deprecate(kaiming_normal_)
orthogonal = _make_deprecate(orthogonal_)
sparse = _make_deprecate(sparse_)
