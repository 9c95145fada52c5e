"""NAdam (Dozat 2016, "Incorporating Nesterov Momentum into Adam"), with the momentum schedule
mu_t = beta1 (1 - 0.5 * 0.96^(t psi)), psi = momentum_decay, exactly as PyTorch updates:

    g = grad (+ weight_decay * param; decoupled: param *= 1 - lr * weight_decay instead)
    mu_product = mu_1 mu_2 ... mu_t                   (kept in the state, float32)
    m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
    denom = sqrt(v / (1 - beta2^t)) + eps
    param -= lr (1 - mu_t) / (1 - mu_product) g / denom
    param -= lr mu_{t+1} / (1 - mu_product mu_{t+1}) m / denom
"""

import numpy as np

from tinygen.backend import get_array_module
from tinygen.optim.optimizer import (
    Optimizer, check_betas, check_nonnegative, count_step, new_step, prepare_grad,
    update_moments, zeros_like)
from tinygen.tensor import Tensor


class NAdam(Optimizer):
    """``NAdam(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None, maximize=False,
    capturable=False, differentiable=False)``; state per parameter: ``step`` and
    ``mu_product`` (float32 scalar tensors on the CPU),
    ``exp_avg`` and ``exp_avg_sq``. As in PyTorch, ``load_state_dict`` casts ``mu_product`` to
    the parameter's dtype and device (only ``step`` stays as saved), so a resumed float64 run
    multiplies it in float64 from then on."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        check_nonnegative(("learning rate", lr), ("epsilon value", eps),
                          ("weight_decay value", weight_decay),
                          ("momentum_decay value", momentum_decay))
        defaults = dict(lr=lr, betas=check_betas(betas), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = new_step()
            state["mu_product"] = _float32_scalar(1.0)
            state["exp_avg"] = zeros_like(param)
            state["exp_avg_sq"] = zeros_like(param)
        step = count_step(state)
        xp = get_array_module(grad)
        p, lr = param.array, group["lr"]
        beta1, beta2 = group["betas"]
        g = prepare_grad(p, grad, group)
        psi = group["momentum_decay"]
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
        product = state["mu_product"].array
        product *= mu                                      # in float32, as PyTorch multiplies
        mu_product = float(product)
        exp_avg, exp_avg_sq = update_moments(g, state, group["betas"])
        denom = xp.sqrt(exp_avg_sq / (1 - beta2**step)) + group["eps"]
        p -= lr * (1.0 - mu) / (1.0 - mu_product) * g / denom
        p -= lr * mu_next / (1.0 - mu_product * mu_next) * exp_avg / denom


def _float32_scalar(value):
    """A 0-d float32 CPU tensor holding ``value``."""
    return Tensor(np.asarray(value, np.float32))
