"""Adadelta (Zeiler 2012), exactly as PyTorch updates:

    g = grad + weight_decay * param              (grad negated first when maximize)
    v = rho v + (1 - rho) g^2                    (square_avg)
    delta = sqrt(u + eps) / sqrt(v + eps) * g
    u = rho u + (1 - rho) delta^2                (acc_delta)
    param -= lr delta
"""

from tinygen.backend import get_array_module
from tinygen.optim.optimizer import (
    Optimizer, check_nonnegative, count_step, new_step, prepare_grad, refuse_differentiable,
    zeros_like)


class Adadelta(Optimizer):
    """``Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
    capturable=False, maximize=False, differentiable=False)``; state per parameter: ``step``,
    ``square_avg`` and ``acc_delta``."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_nonnegative(("learning rate", lr), ("epsilon value", eps),
                          ("weight_decay value", weight_decay))
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        refuse_differentiable("Adadelta", differentiable)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = new_step()
            state["square_avg"] = zeros_like(param)
            state["acc_delta"] = zeros_like(param)
        count_step(state)
        xp = get_array_module(grad)
        p, rho, eps = param.array, group["rho"], group["eps"]
        g = prepare_grad(p, grad, group)
        square_avg, acc_delta = state["square_avg"].array, state["acc_delta"].array
        square_avg *= rho
        square_avg += (1 - rho) * g * g
        delta = xp.sqrt(acc_delta + eps) / xp.sqrt(square_avg + eps) * g
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        p -= group["lr"] * delta
