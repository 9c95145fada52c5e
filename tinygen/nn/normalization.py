"""Normalisation layers: ``LayerNorm``, ``BatchNorm1d/2d/3d``, ``GroupNorm``,
``InstanceNorm1d/2d/3d`` and ``RMSNorm``.

Parameter and buffer names, defaults and state-dict keys are PyTorch's (``weight``, ``bias``,
``running_mean``, ``running_var``, ``num_batches_tracked``), so weights load by key.
"""

from tinygen import creation, dtypes
from tinygen.autograd.grad_mode import no_grad
from tinygen.errors import ArgumentError
from tinygen.nn import init
from tinygen.nn.module import Module, Parameter
from tinygen.ops.normalization import (
    batch_norm, group_norm, instance_norm, layer_norm, rms_norm)


def _add_bias(module, bias, shape, device, dtype):
    """Register ``module.bias``: zeros of ``shape`` when ``bias`` is True, else None."""
    shape = (shape,) if isinstance(shape, int) else shape
    module.register_parameter("bias", Parameter(creation.zeros(*shape, device=device,
                                                               dtype=dtype)) if bias else None)


def _over_last_dims(module, normalized_shape, eps, elementwise_affine, device, dtype):
    """Set up a norm over the last dims (LayerNorm, RMSNorm): keep ``normalized_shape`` (an int
    or a sequence) as a tuple of ints, ``eps`` and ``elementwise_affine``, and register a
    ``weight`` of that shape for reset_parameters to fill (None without elementwise_affine)."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    module.normalized_shape = tuple(int(n) for n in normalized_shape)
    module.eps = eps
    module.elementwise_affine = elementwise_affine
    weight = None
    if elementwise_affine:
        weight = Parameter(creation.empty(*module.normalized_shape, device=device, dtype=dtype))
    module.register_parameter("weight", weight)


class LayerNorm(Module):
    """Normalise over the last dims (``normalized_shape``), then y = xhat * weight + bias.
    weight starts at ones and bias at zeros."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        _over_last_dims(self, normalized_shape, eps, elementwise_affine, device, dtype)
        _add_bias(self, elementwise_affine and bias, self.normalized_shape, device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class _BatchNorm(Module):
    """Shared by BatchNorm1d and BatchNorm2d, which differ only in the input ranks they take.

    Training: normalise with the batch statistics and update the running ones in place,
    r = (1 - momentum) r + momentum * batch statistic (unbiased variance); momentum=None makes
    it the cumulative average over the ``num_batches_tracked`` batches seen. Eval: use the
    running statistics (or the batch ones when track_running_stats=False).
    """

    ranks = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(creation.empty(num_features, device=device, dtype=dtype))
            _add_bias(self, bias, num_features, device, dtype)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, device=device,
                                                                dtype=dtype))
            self.register_buffer("running_var", creation.ones(num_features, device=device,
                                                              dtype=dtype))
            self.register_buffer("num_batches_tracked", creation.tensor(
                0, dtype=dtypes.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _load_from_state_dict(self, state_dict, prefix, *args):
        """Accept a state dict without ``num_batches_tracked`` (saved by PyTorch before 0.4.1,
        or built by hand), keeping the current count as PyTorch does. PyTorch skips this when
        the state dict's metadata says version 2; tinygen's state dicts carry no metadata."""
        key = prefix + "num_batches_tracked"
        if self.num_batches_tracked is not None and key not in state_dict:
            state_dict[key] = self.num_batches_tracked
        super()._load_from_state_dict(state_dict, prefix, *args)

    def _check_input(self, input):
        name = type(self).__name__
        if input.ndim not in self.ranks:
            ranks = " or ".join(f"{r}D" for r in self.ranks)
            raise ValueError(f"{name}: expected {ranks} input, got {input.ndim}D input of shape "
                             f"{tuple(input.shape)}")
        if input.shape[1] != self.num_features:
            raise ArgumentError(f"{name}: expected {self.num_features} channels in dim 1 of "
                                f"the input, got {input.shape[1]} (input shape "
                                f"{tuple(input.shape)})")

    def forward(self, input):
        self._check_input(input)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:                  # cumulative moving average
                momentum = 1.0 / int(self.num_batches_tracked.item())
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return batch_norm(input, self.running_mean if track else None,
                          self.running_var if track else None, self.weight, self.bias,
                          use_batch_stats, momentum, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm of (N, C) or (N, C, L) inputs, per channel C."""
    ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm of (N, C, H, W) inputs, per channel C."""
    ranks = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch norm of (N, C, D, H, W) inputs, per channel C."""
    ranks = (5,)


class GroupNorm(Module):
    """Normalise each of ``num_groups`` channel groups of each sample, then apply per-channel
    weight (ones) and bias (zeros)."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        if affine:
            self.weight = Parameter(creation.ones(num_channels, device=device, dtype=dtype))
            _add_bias(self, bias, num_channels, device, dtype)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _InstanceNorm(_BatchNorm):
    """Normalise each channel of each sample over its spatial dims (``instance_norm``).

    PyTorch's defaults differ from batch norm's: affine=False and track_running_stats=False.
    With running statistics tracked, eval mode uses them; ``ranks`` lists the unbatched rank
    first, then the batched one.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)

    def forward(self, input):
        name = type(self).__name__
        if input.ndim not in self.ranks:
            raise ValueError(f"{name}: expected {self.ranks[0]}D (unbatched) or {self.ranks[1]}D "
                             f"(batched) input, got {input.ndim}D input of shape "
                             f"{tuple(input.shape)}")
        if input.ndim == self.ranks[0]:
            return self.forward(input.unsqueeze(0)).squeeze(0)
        if self.affine and input.shape[1] != self.num_features:
            raise ValueError(f"{name}: expected input's size at dim=1 to match num_features "
                             f"({self.num_features}), but got: {input.shape[1]}.")
        momentum = 0.0 if self.momentum is None else self.momentum
        return instance_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                             self.training or not self.track_running_stats, momentum, self.eps)


class InstanceNorm1d(_InstanceNorm):
    """Instance norm of (N, C, L) or (C, L) inputs."""
    ranks = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """Instance norm of (N, C, H, W) or (C, H, W) inputs."""
    ranks = (3, 4)


class InstanceNorm3d(_InstanceNorm):
    """Instance norm of (N, C, D, H, W) or (C, D, H, W) inputs."""
    ranks = (4, 5)


class RMSNorm(Module):
    """y = x / sqrt(mean(x^2) + eps) * weight over the last dims (``normalized_shape``); weight
    starts at ones, and eps=None means the input dtype's machine epsilon."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__()
        _over_last_dims(self, normalized_shape, eps, elementwise_affine, device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, input):
        return rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
