"""Activation layers: thin Modules over the functional forms, with PyTorch's constructor
arguments and reprs (``ReLU``, ``ELU``, ``Softplus``, ``PReLU``, ``GLU``, ``LogSoftmax``, ...).
``PReLU`` is the one with a parameter (its slopes, ``weight``)."""

from tinygen import creation
from tinygen.nn.module import Module, Parameter
from tinygen.ops.activation import (
    celu, elu, gelu, glu, hardsigmoid, hardswish, hardtanh, leaky_relu, logsigmoid, mish, prelu,
    relu, relu6, selu, silu, softmin, softplus, softsign, tanhshrink, threshold)
from tinygen.ops.elementwise import sigmoid, tanh
from tinygen.ops.reduce import log_softmax, softmax
from tinygen.ops.special import hardshrink, softshrink


def _with_inplace(text, inplace):
    """An extra_repr ending in ", inplace=True" when the flag is set, as PyTorch prints it."""
    return ", ".join(part for part in (text, "inplace=True" if inplace else "") if part)


class _Pointwise(Module):
    """An activation without arguments: forward is ``function(input)``."""
    function = None

    def forward(self, input):
        return self.function(input)


class _InplacePointwise(Module):
    """An activation whose only argument is PyTorch's ``inplace`` flag."""
    function = None

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return self.function(input, inplace=self.inplace)

    def extra_repr(self):
        return _with_inplace("", self.inplace)


class ReLU(_InplacePointwise):
    """max(x, 0) elementwise."""
    function = staticmethod(relu)


class SiLU(_InplacePointwise):
    """x * sigmoid(x)."""
    function = staticmethod(silu)


class SELU(_InplacePointwise):
    """scale * elu(x, alpha) with the self-normalizing constants."""
    function = staticmethod(selu)


class Mish(_InplacePointwise):
    """x * tanh(softplus(x))."""
    function = staticmethod(mish)


class ReLU6(_InplacePointwise):
    """min(max(x, 0), 6)."""
    function = staticmethod(relu6)
    min_val, max_val = 0.0, 6.0             # PyTorch's ReLU6 is a Hardtanh and has both


class _InplaceUnprinted(_InplacePointwise):
    """An ``inplace`` activation whose repr leaves the flag out, as PyTorch's does."""

    def extra_repr(self):
        return ""


class Hardswish(_InplaceUnprinted):
    """x * relu6(x + 3) / 6."""
    function = staticmethod(hardswish)


class Hardsigmoid(_InplaceUnprinted):
    """relu6(x + 3) / 6."""
    function = staticmethod(hardsigmoid)


class Tanh(_Pointwise):
    """tanh(x) elementwise."""
    function = staticmethod(tanh)


class Sigmoid(_Pointwise):
    """1 / (1 + exp(-x)) elementwise."""
    function = staticmethod(sigmoid)


class LogSigmoid(_Pointwise):
    """log(sigmoid(x)), stable for any x."""
    function = staticmethod(logsigmoid)


class Softsign(_Pointwise):
    """x / (1 + |x|)."""
    function = staticmethod(softsign)


class Tanhshrink(_Pointwise):
    """x - tanh(x)."""
    function = staticmethod(tanhshrink)


class LeakyReLU(Module):
    """x where x > 0, else negative_slope * x."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return _with_inplace(f"negative_slope={self.negative_slope}", self.inplace)


class ELU(Module):
    """x for x > 0, else alpha (exp(x) - 1)."""
    function = staticmethod(elu)

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return self.function(input, self.alpha, self.inplace)

    def extra_repr(self):
        return _with_inplace(f"alpha={self.alpha}", self.inplace)


class CELU(ELU):
    """max(0, x) + min(0, alpha (exp(x / alpha) - 1))."""
    function = staticmethod(celu)


class Hardtanh(Module):
    """clip(x, min_val, max_val)."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) cannot be greater than max_val "
                             f"({max_val})")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input):
        return hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return _with_inplace(f"min_val={self.min_val}, max_val={self.max_val}", self.inplace)


class _Shrink(Module):
    """A shrinkage activation with PyTorch's ``lambd`` (``Hardshrink``, ``Softshrink``)."""
    function = None

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return self.function(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Hardshrink(_Shrink):
    """x where |x| > lambd, else 0."""
    function = staticmethod(hardshrink)


class Softshrink(_Shrink):
    """x - lambd above lambd, x + lambd below -lambd, else 0."""
    function = staticmethod(softshrink)


class Threshold(Module):
    """x where x > threshold, else value."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input):
        return threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return _with_inplace(f"threshold={self.threshold}, value={self.value}", self.inplace)


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, reverting to x where beta x > threshold."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        return softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class GELU(Module):
    """x Phi(x) (``approximate='none'``) or its tanh approximation (``approximate='tanh'``)."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return gelu(input, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class PReLU(Module):
    """x where x > 0, else a x, with learnable slopes ``weight``: one shared slope
    (``num_parameters=1``) or one per channel (dim 1 of the input), each starting at ``init``."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(creation.full((num_parameters,), init, dtype=dtype,
                                              device=device))

    def forward(self, input):
        return prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class GLU(Module):
    """a * sigmoid(b), a and b the halves of the input along ``dim``."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(Module):
    """softmax over ``dim``. PyTorch's implicit choice for ``dim=None`` is deprecated there, so
    here ``dim`` must be given (also for ``LogSoftmax`` and ``Softmin``)."""
    function = staticmethod(softmax)

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        if self.dim is None:
            name = type(self).__name__
            raise ValueError(f"{name}: dim is None; construct it with the dim to normalise "
                             f"over, e.g. nn.{name}(dim=-1)")
        return self.function(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log(softmax(x)) over ``dim``, computed stably."""
    function = staticmethod(log_softmax)


class Softmin(Softmax):
    """softmax(-x) over ``dim``."""
    function = staticmethod(softmin)
