"""Adamax (Kingma & Ba 2015, section 7.1): Adam with the infinity norm in place of the second
moment, exactly as PyTorch updates:

    g = grad + weight_decay * param              (grad negated first when maximize)
    m = beta1 m + (1 - beta1) g                  (exp_avg)
    u = max(beta2 u, |g| + eps)                  (exp_inf, elementwise)
    param -= lr / (1 - beta1^t) m / u
"""

from tinygen.backend import get_array_module
from tinygen.optim.optimizer import (
    Optimizer, check_betas, check_nonnegative, count_step, new_step, prepare_grad,
    refuse_differentiable, zeros_like)


class Adamax(Optimizer):
    """``Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
    maximize=False, differentiable=False, capturable=False)``; state per parameter: ``step``
    (a float32 scalar tensor), ``exp_avg`` and ``exp_inf``."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        check_nonnegative(("learning rate", lr), ("epsilon value", eps))
        betas = check_betas(betas)
        check_nonnegative(("weight_decay value", weight_decay))
        refuse_differentiable("Adamax", differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = new_step()
            state["exp_avg"] = zeros_like(param)
            state["exp_inf"] = zeros_like(param)
        step = count_step(state)
        xp = get_array_module(grad)
        p = param.array
        beta1, beta2 = group["betas"]
        g = prepare_grad(p, grad, group)
        exp_avg, exp_inf = state["exp_avg"].array, state["exp_inf"].array
        exp_avg += (g - exp_avg) * (1 - beta1)             # PyTorch's lerp form
        exp_inf *= beta2
        xp.maximum(exp_inf, xp.abs(g) + group["eps"], out=exp_inf)
        p -= group["lr"] / (1 - beta1**step) * (exp_avg / exp_inf)
