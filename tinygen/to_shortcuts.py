"""``cpu()``, ``cuda()``, ``float()``, ``double()``, ``half()``: the shorthands for ``to(...)`` that
PyTorch gives both tensors and modules, written once for ``Tensor`` and ``nn.Module``."""

from tinygen import dtypes
from tinygen.backend import Device


class ToShortcuts:
    """Mixed into a class that has ``to(device_or_dtype)``."""
    __slots__ = ()                  # Tensor has slots: the mixin must not add a __dict__

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else Device("cuda", device))

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def half(self):
        return self.to(dtypes.float16)
