"""RMSprop (Hinton, Lecture 6e of "Neural Networks for Machine Learning", 2012), centered as in
Graves 2013, with momentum, exactly as PyTorch updates:

    g = grad + weight_decay * param              (grad negated first when maximize)
    v = alpha v + (1 - alpha) g^2
    centered:  gbar = gbar + (1 - alpha)(g - gbar);  avg = sqrt(v - gbar^2) + eps
    otherwise: avg = sqrt(v) + eps
    momentum > 0: buf = momentum buf + g / avg;  param -= lr buf
    otherwise:    param -= lr g / avg
"""

from tinygen.backend import get_array_module
from tinygen.optim.optimizer import (
    Optimizer, check_nonnegative, count_step, lerp_, new_step, prepare_grad, zeros_like)


class RMSprop(Optimizer):
    """``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False, capturable=False, foreach=None, maximize=False, differentiable=False)``;
    state per parameter: ``step``,
    ``square_avg`` and, when used, ``momentum_buffer`` and ``grad_avg``."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check_nonnegative(("learning rate", lr), ("epsilon value", eps),
                          ("momentum value", momentum), ("weight_decay value", weight_decay),
                          ("alpha value", alpha))
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = new_step()
            state["square_avg"] = zeros_like(param)
        if group["momentum"] > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = zeros_like(param)
        if group["centered"] and "grad_avg" not in state:
            state["grad_avg"] = zeros_like(param)
        count_step(state)
        xp = get_array_module(grad)
        p, alpha = param.array, group["alpha"]
        g = prepare_grad(p, grad, group)
        square_avg = state["square_avg"].array
        square_avg *= alpha
        square_avg += (1 - alpha) * (g * g)            # addcmul_ rounds g * g first
        if group["centered"]:
            grad_avg = state["grad_avg"].array
            lerp_(grad_avg, g, 1 - alpha)
            avg = xp.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = xp.sqrt(square_avg)
        avg += group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"].array
            buf *= group["momentum"]
            buf += g / avg
            p -= group["lr"] * buf
        else:
            p -= group["lr"] * (g / avg)
