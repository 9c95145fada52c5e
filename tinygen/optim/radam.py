"""RAdam (Liu et al. 2020, "On the Variance of the Adaptive Learning Rate and Beyond"), exactly
as PyTorch updates:

    g = grad (+ weight_decay * param; decoupled: param *= 1 - lr * weight_decay instead)
    m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
    rho_inf = 2 / (1 - beta2) - 1;   rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
    rho_t > 5:  r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
                param -= lr m / (1 - beta1^t) * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r
    otherwise:  param -= lr m / (1 - beta1^t)           (SGD with momentum while v is young)
"""

from tinygen.backend import get_array_module
from tinygen.optim.optimizer import (
    Optimizer, check_betas, check_nonnegative, count_step, new_step, prepare_grad,
    update_moments, zeros_like)


class RAdam(Optimizer):
    """``RAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
    differentiable=False)``; state per parameter:
    ``step`` (a float32 scalar tensor), ``exp_avg`` and ``exp_avg_sq``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        check_nonnegative(("learning rate", lr), ("epsilon value", eps),
                          ("weight_decay value", weight_decay))
        defaults = dict(lr=lr, betas=check_betas(betas), eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = new_step()
            state["exp_avg"] = zeros_like(param)
            state["exp_avg_sq"] = zeros_like(param)
        step = count_step(state)
        xp = get_array_module(grad)
        p, lr = param.array, group["lr"]
        beta1, beta2 = group["betas"]
        g = prepare_grad(p, grad, group)
        exp_avg, exp_avg_sq = update_moments(g, state, group["betas"])
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        rho_inf = 2 / (1 - beta2) - 1                      # the longest moving average
        rho_t = rho_inf - 2 * step * beta2**step / bias_correction2
        update = exp_avg / bias_correction1 * lr
        if rho_t > 5.0:                                    # v's variance is tractable: rectify
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive_lr = bias_correction2**0.5 / (xp.sqrt(exp_avg_sq) + group["eps"])
            update = update * adaptive_lr * rect
        p -= update
