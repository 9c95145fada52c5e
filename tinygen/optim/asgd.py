"""ASGD, averaged stochastic gradient descent (Polyak & Juditsky 1992), with the step-size
schedule of Bottou's implementation, exactly as PyTorch updates:

    g = grad + weight_decay * param              (grad negated first when maximize)
    param = param (1 - lambd eta) - eta g
    ax = param if mu = 1, else ax + mu (param - ax)      (the running average)
    eta = lr / (1 + lambd lr t)^alpha;   mu = 1 / max(1, t - t0)

eta and mu are float32 scalars, as PyTorch keeps them: each step reads eta at that precision
(after ``load_state_dict``, at the parameter's precision, as in PyTorch).
"""

import numpy as np

from tinygen.backend import get_array_module
from tinygen.optim.optimizer import (
    Optimizer, check_nonnegative, count_step, new_step, prepare_grad, refuse_differentiable,
    zeros_like)
from tinygen.tensor import Tensor


class ASGD(Optimizer):
    """``ASGD(params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
    maximize=False, differentiable=False, capturable=False)``; state per parameter: ``step``,
    ``eta`` and ``mu`` (float32 scalar tensors, eta and mu on the parameter's device) and
    ``ax``, the averaged parameter. As in PyTorch, ``load_state_dict`` casts ``eta`` and
    ``mu`` to the parameter's dtype, which they keep from then on."""

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        check_nonnegative(("learning rate", lr), ("weight_decay value", weight_decay))
        refuse_differentiable("ASGD", differentiable)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = new_step()
            state["eta"] = _float32_scalar(param, group["lr"])
            state["mu"] = _float32_scalar(param, 1.0)
            state["ax"] = zeros_like(param)
        step = count_step(state)
        p, lr, lambd = param.array, group["lr"], group["lambd"]
        g = prepare_grad(p, grad, group)
        eta = float(state["eta"].array)
        p *= 1 - lambd * eta
        p -= eta * g
        ax = state["ax"].array
        mu = float(state["mu"].array)
        if mu != 1:
            ax += (p - ax) * mu
        else:
            ax[...] = p
        # rounded to float32 even when eta and mu are float64 (after a load), as PyTorch makes
        # them: torch.as_tensor(float) in the default dtype, then copied in
        state["eta"].array[...] = np.float32(lr / ((1 + lambd * lr * step) ** group["alpha"]))
        state["mu"].array[...] = np.float32(1 / max(1, step - group["t0"]))


def _float32_scalar(param, value):
    """A 0-d float32 tensor holding ``value``, on ``param``'s device."""
    return Tensor(get_array_module(param.array).asarray(value, dtype=np.float32))
