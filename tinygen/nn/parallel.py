"""``nn.DataParallel`` and ``nn.SyncBatchNorm``, PyTorch's multi-device wrappers, for scripts
that use them on one device. tinygen runs on one device and has no distributed package, so:

- ``DataParallel`` without a GPU just calls its module, as PyTorch does; with a GPU it runs the
  module on one device (``device_ids[0]``, the first GPU by default) and refuses a request for
  several devices rather than silently using one.
- ``SyncBatchNorm`` has nothing to synchronise with and normalises as ``BatchNorm`` does, as
  PyTorch does when no process group is initialised.

Both keep PyTorch's constructors, reprs and state-dict keys (``module.`` prefixes included).
"""

from tinygen import backend, cuda
from tinygen.autograd import no_grad
from tinygen.nn.module import Module
from tinygen.nn.normalization import _BatchNorm, _InstanceNorm
from tinygen.tensor import Tensor


def _device_index(device):
    """The GPU number of ``device`` (an int, 'cuda:1' or a tg.device); 0 for plain 'cuda'."""
    if isinstance(device, int):
        return device
    return backend.Device(device).index or 0


def _to_device(value, device):
    """``value`` with every Tensor in it (through lists, tuples and dicts) moved to ``device``."""
    if isinstance(value, Tensor):
        return value.to(device)
    if isinstance(value, (list, tuple)):
        return type(value)(_to_device(v, device) for v in value)
    if isinstance(value, dict):
        return {k: _to_device(v, device) for k, v in value.items()}
    return value


class DataParallel(Module):
    """Wraps ``module`` (kept as ``self.module``) and calls it. Differs from PyTorch: inputs
    are not split over several GPUs; asking for more than one device is a RuntimeError."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if not cuda.is_available():                    # PyTorch's CPU path: a plain call
            self.module = module
            self.device_ids = []
            return
        device_ids = [0] if device_ids is None else [_device_index(d) for d in device_ids]
        if len(device_ids) > 1:
            raise RuntimeError(f"DataParallel: tinygen runs on one device and cannot split "
                               f"the batch over device_ids={device_ids}; pass a single device")
        self.dim = dim
        self.module = module
        self.device_ids = device_ids
        self.output_device = _device_index(device_ids[0] if output_device is None
                                           else output_device)
        self.src_device_obj = backend.Device(f"cuda:{device_ids[0]}")
        self.module.to(self.src_device_obj)

    def forward(self, *inputs, **kwargs):
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        for t in list(self.module.parameters()) + list(self.module.buffers()):
            if t.device != self.src_device_obj:
                raise RuntimeError(f"module must have its parameters and buffers on device "
                                   f"{self.src_device_obj} (device_ids[0]) but found one of "
                                   f"them on device: {t.device}")
        inputs, kwargs = _to_device((inputs, kwargs), self.src_device_obj)
        return self.module(*inputs, **kwargs)


class SyncBatchNorm(_BatchNorm):
    """Batch norm over the channel dim 1 of inputs of any rank >= 2. With no process group to
    share the batch statistics with, it computes them over the local batch as BatchNorm does.
    ``process_group`` is kept for PyTorch's API only."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, process_group=None, device=None, dtype=None, *,
                 bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)
        self.process_group = process_group

    def _check_input(self, input):
        if input.ndim < 2:
            raise ValueError(f"expected at least 2D input (got {input.ndim}D input)")
        if input.shape[1] == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")
        if input.shape[1] != self.num_features:
            raise ValueError(f"SyncBatchNorm: expected {self.num_features} channels in dim 1 "
                             f"of the input, got {input.shape[1]} (input shape "
                             f"{tuple(input.shape)})")

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every BatchNorm*d in it (itself included) replaced by a
        SyncBatchNorm sharing its parameters and running statistics."""
        output = module
        if isinstance(module, _BatchNorm) and not isinstance(module, _InstanceNorm):
            output = cls(module.num_features, module.eps, module.momentum, module.affine,
                         module.track_running_stats, process_group,
                         bias=module.bias is not None)
            if module.affine:
                with no_grad():
                    output.weight = module.weight
                    output.bias = module.bias
            output.running_mean = module.running_mean
            output.running_var = module.running_var
            output.num_batches_tracked = module.num_batches_tracked
            output.training = module.training
            if hasattr(module, "qconfig"):
                output.qconfig = module.qconfig
        for name, child in module.named_children():
            output.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return output
