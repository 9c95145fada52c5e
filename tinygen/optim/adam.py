"""Adam (Kingma & Ba 2015) with AMSGrad (Reddi et al. 2018), and AdamW (Loshchilov & Hutter
2019: weight decay applied to the parameter, not added to the gradient), as PyTorch updates:

    g = grad (+ weight_decay * param for Adam; AdamW instead scales param by 1 - lr * wd)
    m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2;   vmax = max(vmax, v)
    param -= lr / (1 - beta1^t) * m / (sqrt(v or vmax) / sqrt(1 - beta2^t) + eps)

The update runs in one fused pass per parameter (``kernels.adam_step``, in place).
"""

from tinygen import kernels
from tinygen.optim.optimizer import (
    Optimizer, check_betas, check_nonnegative, count_step, new_step, zeros_like)
from tinygen.tensor import Tensor


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
    foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
    decoupled_weight_decay=False)``; state per
    parameter: ``step`` (a float32 scalar tensor), ``exp_avg``, ``exp_avg_sq`` and, with
    amsgrad, ``max_exp_avg_sq``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        check_nonnegative(("learning rate", lr), ("epsilon value", eps),
                          ("weight_decay value", weight_decay))
        _check_tensor_options(lr, betas, foreach, capturable)
        defaults = dict(lr=lr, betas=check_betas(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = new_step()
            state["exp_avg"] = zeros_like(param)
            state["exp_avg_sq"] = zeros_like(param)
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = zeros_like(param)
        beta1, beta2 = group["betas"]
        kernels.adam_step(
            param.array, grad, state["exp_avg"].array, state["exp_avg_sq"].array,
            state["max_exp_avg_sq"].array if group["amsgrad"] else None,
            step=count_step(state), lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
            weight_decay=group["weight_decay"], decoupled=group["decoupled_weight_decay"],
            amsgrad=group["amsgrad"], maximize=group["maximize"])


def _check_tensor_options(lr, betas, foreach, capturable):
    """PyTorch's refusals of tensor options: betas must be two floats or two tensors, and
    neither lr nor betas may be tensors with foreach=True unless capturable."""
    if len(betas) == 2 and isinstance(betas[0], Tensor) != isinstance(betas[1], Tensor):
        raise ValueError("betas must be either both floats or both Tensors")
    if foreach and not capturable:
        if isinstance(lr, Tensor):
            raise ValueError("lr as a Tensor is not supported for capturable=False and "
                             "foreach=True")
        if any(isinstance(beta, Tensor) for beta in betas):
            raise ValueError("betas[0] as a Tensor is not supported for capturable=False and "
                             "foreach=True")


class AdamW(Adam):
    """Adam with decoupled weight decay: ``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
    weight_decay=1e-2, amsgrad=False, *, maximize=False, foreach=None, capturable=False,
    differentiable=False, fused=None)``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
