"""``torch.amp``: ``GradScaler`` and ``autocast``, so mixed-precision training loops run.

GradScaler (Micikevicius et al., "Mixed Precision Training", 2018) multiplies the loss by a scale
S before backward, so that small float16 gradients do not flush to zero, then divides the
gradients by S before the optimizer step. A step whose gradients hold inf or NaN is skipped and
S is halved (``backoff_factor``); after ``growth_interval`` clean steps S doubles
(``growth_factor``). With ``enabled=False`` every method passes through, as in PyTorch.

tinygen has no autocast: ops run in their inputs' dtype. ``autocast(enabled=False)`` is accepted
(scripts build it unconditionally); an enabled one is an error, since silently running in float32
would not be what the script asked for. Cast the model with ``.half()`` instead.
"""

import contextlib

from tinygen.autograd.grad_mode import no_grad
from tinygen.backend import get_array_module


class GradScaler:
    """``GradScaler(device='cuda', init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5,
    growth_interval=2000, enabled=True)``: ``scaler.scale(loss).backward();
    scaler.step(optimizer); scaler.update()``."""

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0,
                 backoff_factor=0.5, growth_interval=2000, enabled=True):
        if growth_factor <= 1.0:
            raise ValueError("The growth factor must be > 1.0.")
        if not 0.0 < backoff_factor < 1.0:
            raise ValueError("The backoff factor must be < 1.0.")
        self.device = device
        self._enabled = enabled
        self._scale = float(init_scale)
        self._growth_factor, self._backoff_factor = growth_factor, backoff_factor
        self._growth_interval = growth_interval
        self._growth_tracker = 0
        self._found_inf = {}          # id(optimizer) -> bool, for the optimizers unscaled so far

    def is_enabled(self):
        return self._enabled

    def get_scale(self):
        return self._scale if self._enabled else 1.0

    def scale(self, outputs):
        """``outputs`` (a tensor, or a list/tuple of them) times the current scale."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(output) for output in outputs)
        return outputs * self._scale

    def unscale_(self, optimizer):
        """Divide ``optimizer``'s gradients by the scale, in place (once per step), and note
        whether any is inf or NaN; call it before clipping gradients."""
        if not self._enabled:
            return
        if id(optimizer) in self._found_inf:
            raise RuntimeError("unscale_() has already been called on this optimizer since the "
                               "last update().")
        found_inf = False
        with no_grad():
            for group in optimizer.param_groups:
                for param in group["params"]:
                    if param.grad is None:
                        continue
                    grad = param.grad.array
                    grad *= 1.0 / self._scale
                    found_inf = found_inf or not bool(get_array_module(grad).isfinite(grad).all())
        self._found_inf[id(optimizer)] = found_inf

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step()`` on unscaled gradients, skipped when any is inf or NaN; returns
        what step returned, or None when skipped."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if id(optimizer) not in self._found_inf:
            self.unscale_(optimizer)
        if self._found_inf[id(optimizer)]:
            return None
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None):
        """Back off the scale after a skipped step, grow it after ``growth_interval`` clean ones
        (or set it to ``new_scale``)."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale)
        elif any(self._found_inf.values()):
            self._scale *= self._backoff_factor
            self._growth_tracker = 0
        else:
            self._growth_tracker += 1
            if self._growth_tracker == self._growth_interval:
                self._scale *= self._growth_factor
                self._growth_tracker = 0
        self._found_inf = {}

    def state_dict(self):
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if not state_dict:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._scale = float(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._growth_tracker = int(state_dict["_growth_tracker"])


class autocast(contextlib.ContextDecorator):
    """``autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``: accepted when
    disabled; tinygen has no automatic casting (see the module docstring)."""

    def __init__(self, device_type="cuda", dtype=None, enabled=True, cache_enabled=None):
        if enabled:
            raise NotImplementedError(
                "tinygen has no autocast: ops run in their inputs' dtype. Cast the model and "
                "inputs instead (model.half(), x.half()), or pass enabled=False")
        self.device_type, self.dtype = device_type, dtype

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

