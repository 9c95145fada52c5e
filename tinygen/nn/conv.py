"""Convolution layers: ``Conv1d/2d/3d`` and ``ConvTranspose1d/2d/3d``.

Each holds a weight of shape (out, in/groups, *kernel_size) (ConvNd) or (in, out/groups,
*kernel_size) (ConvTransposeNd) and an optional bias (out,), initialised as PyTorch's
``_ConvNd``: kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in =
weight.shape[1] * prod(kernel_size), and the bias from the same interval. For the transposed
weight that fan_in is out/groups * prod(kernel_size), as in PyTorch.
"""

from tinygen import creation
from tinygen.nn import init
from tinygen.nn.module import Module, Parameter
from tinygen.ops.conv import conv2d, conv_transpose2d, ntuple, pair
from tinygen.ops.conv1d import conv1d, conv_transpose1d, single
from tinygen.ops.conv3d import conv3d, conv_transpose3d
from tinygen.ops.pad import pad

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(value, n, name, op):
    """An int or a tuple of ints as an n-tuple, one per spatial dim."""
    if n == 1:
        return (single(value, name, op),)
    return pair(value, name, op) if n == 2 else ntuple(value, n, name, op)


def _check_padding_string(name, padding, stride, n):
    """Conv's padding strings: 'valid', or 'same' with stride 1."""
    if padding not in ("valid", "same"):
        raise ValueError(f"{name}: invalid padding string {padding!r}, should be one of "
                         f"{{'valid', 'same'}}")
    if padding == "same" and _ntuple(stride, n, "stride", name) != (1,) * n:
        raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")


class _ConvNd(Module):
    """What the convolutions share: argument checks, parameters, init and repr. ``dims`` is the
    number of spatial dims."""

    dims = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device, dtype):
        super().__init__()
        name = type(self).__name__
        if not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels must be divisible by groups, got "
                             f"in_channels={in_channels}, groups={groups}")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels must be divisible by groups, got "
                             f"out_channels={out_channels}, groups={groups}")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {PADDING_MODES}, but got "
                             f"padding_mode={padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        n = self.dims
        self.kernel_size = _ntuple(kernel_size, n, "kernel_size", name)
        self.stride = _ntuple(stride, n, "stride", name)
        self.padding = (padding if isinstance(padding, str)
                        else _ntuple(padding, n, "padding", name))
        self.dilation = _ntuple(dilation, n, "dilation", name)
        self.transposed = transposed
        self.output_padding = _ntuple(output_padding, n, "output_padding", name)
        self.groups = groups
        self.padding_mode = padding_mode
        shape = ((in_channels, out_channels // groups) if transposed
                 else (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(creation.empty(*shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.default_weight_and_bias_(self.weight, self.bias)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        zeros, ones = (0,) * self.dims, (1,) * self.dims
        if self.padding != zeros:
            s += f", padding={self.padding}"
        if self.dilation != ones:
            s += f", dilation={self.dilation}"
        if self.output_padding != zeros:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    """Conv1d, Conv2d and Conv3d: ``padding`` is an int, a tuple, 'valid' or 'same';
    ``padding_mode`` 'zeros', 'reflect', 'replicate' or 'circular' says what the padding holds."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        if isinstance(padding, str):
            _check_padding_string(type(self).__name__, padding, stride, self.dims)
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         False, 0, groups, bias, padding_mode, device, dtype)

    def _reversed_padding_repeated_twice(self):
        """F.pad's (left, right, top, bottom) for a padding_mode other than 'zeros'; for
        'same' the odd one of d*(k-1) goes right/bottom, as PyTorch."""
        if self.padding == "valid":
            return (0, 0) * self.dims
        if self.padding == "same":
            total = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation)]
            before = [t // 2 for t in total]
        else:
            total, before = [2 * p for p in self.padding], list(self.padding)
        widths = ()
        for t, b in zip(reversed(total), reversed(before)):
            widths += (b, t - b)
        return widths

    def forward(self, input):
        if self.padding_mode == "zeros":
            return self._conv(input, self.padding)
        padded = pad(input, self._reversed_padding_repeated_twice(), mode=self.padding_mode)
        return self._conv(padded, 0)


class Conv1d(_Conv):
    """1-D convolution over (N, C, L) or (C, L) input, as ``torch.nn.Conv1d``: weight
    (out, in/groups, k)."""

    dims = 1

    def _conv(self, input, padding):
        padding = padding if isinstance(padding, str) else single(padding, "padding", "Conv1d")
        return conv1d(input, self.weight, self.bias, self.stride[0], padding, self.dilation[0],
                      self.groups)


class Conv2d(_Conv):
    """2-D convolution over (N, C, H, W) or (C, H, W) input, as ``torch.nn.Conv2d``: weight
    (out, in/groups, kh, kw)."""

    def _conv(self, input, padding):
        return conv2d(input, self.weight, self.bias, self.stride, padding, self.dilation,
                      self.groups)


class _ConvTranspose(_ConvNd):
    """ConvTranspose1d/2d/3d, the adjoints of Conv1d/2d/3d.

    ``forward(input, output_size=None)``: an ``output_size`` picks output_padding, as in PyTorch.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f"Only 'zeros' padding mode is supported for {name}, got "
                             f"padding_mode={padding_mode!r}")
        if isinstance(padding, str):
            kind = {1: "a tuple of one int", 2: "a pair of ints"}.get(self.dims,
                                                                     f"a tuple of {self.dims} ints")
            raise ValueError(f"{name}: padding must be an int or {kind}, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         True, output_padding, groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size):
        """The output_padding that gives ``output_size``: the spatial sizes, or the whole
        output shape."""
        if output_size is None:
            return self.output_padding
        name, n = type(self).__name__, self.dims
        output_size = tuple(output_size)
        if len(output_size) == input.ndim:
            output_size = output_size[-n:]
        if len(output_size) != n:
            raise ValueError(f"{name}: output_size must have {n} or {input.ndim} "
                             f"elements (got {len(output_size)})")
        result = []
        for d in range(n):
            smallest = ((input.shape[d - n] - 1) * self.stride[d] - 2 * self.padding[d]
                        + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            largest = smallest + self.stride[d] - 1
            if not smallest <= output_size[d] <= largest:
                raise ValueError(f"{name}: requested an output size of "
                                 f"{list(output_size)}, but valid sizes range from "
                                 f"{smallest} to {largest} in dim {d} (for an input of "
                                 f"{list(input.shape[-n:])})")
            result.append(output_size[d] - smallest)
        return tuple(result)


class ConvTranspose1d(_ConvTranspose):
    """1-D transposed convolution, as ``torch.nn.ConvTranspose1d``: weight (in, out/groups, k)."""

    dims = 1

    def forward(self, input, output_size=None):
        (output_padding,) = self._output_padding(input, output_size)
        return conv_transpose1d(input, self.weight, self.bias, self.stride[0], self.padding[0],
                                output_padding, self.groups, self.dilation[0])


class ConvTranspose2d(_ConvTranspose):
    """2-D transposed convolution, as ``torch.nn.ConvTranspose2d``: weight
    (in, out/groups, kh, kw)."""

    def forward(self, input, output_size=None):
        return conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups,
                                self.dilation)


class Conv3d(_Conv):
    """3-D convolution over (N, C, D, H, W) or (C, D, H, W) input, as ``torch.nn.Conv3d``:
    weight (out, in/groups, kd, kh, kw)."""

    dims = 3

    def _conv(self, input, padding):
        return conv3d(input, self.weight, self.bias, self.stride, padding, self.dilation,
                      self.groups)


class ConvTranspose3d(_ConvTranspose):
    """3-D transposed convolution, as ``torch.nn.ConvTranspose3d``: weight
    (in, out/groups, kd, kh, kw)."""

    dims = 3

    def forward(self, input, output_size=None):
        return conv_transpose3d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups,
                                self.dilation)
