"""Adagrad (Duchi, Hazan & Singer 2011), with PyTorch's learning-rate decay, exactly as PyTorch
updates:

    g = grad + weight_decay * param              (grad negated first when maximize)
    clr = lr / (1 + (t - 1) lr_decay)
    sum = sum + g^2                              (sum starts at initial_accumulator_value)
    param -= clr g / (sqrt(sum) + eps)

As in PyTorch, every sum starts at the constructor's ``initial_accumulator_value``: a group's
own value (or that of a group added later) is kept in the group but starts no sum.
"""

from tinygen.backend import get_array_module
from tinygen.optim.optimizer import (
    Optimizer, check_nonnegative, count_step, new_step, prepare_grad, refuse_differentiable)
from tinygen.tensor import Tensor


class Adagrad(Optimizer):
    """``Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
    eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None)``; state per
    parameter: ``step`` (a float32 scalar tensor) and ``sum``, made for every parameter when the
    optimizer is, as in PyTorch.

    Differs from PyTorch: ``differentiable=True`` is an error, since tinygen's steps run
    outside the autograd graph."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        check_nonnegative(("learning rate", lr), ("lr_decay value", lr_decay),
                          ("weight_decay value", weight_decay),
                          ("initial_accumulator_value value", initial_accumulator_value),
                          ("epsilon value", eps))
        refuse_differentiable("Adagrad", differentiable)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                _init_state(p, self.state[p], initial_accumulator_value)

    def _update(self, param, grad, state, group):
        if not state:                            # a parameter of a group added later
            _init_state(param, state, self.defaults["initial_accumulator_value"])
        step = count_step(state)
        xp = get_array_module(grad)
        p = param.array
        g = prepare_grad(p, grad, group)
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        state_sum = state["sum"].array
        state_sum += g * g
        p -= clr * (g / (xp.sqrt(state_sum) + group["eps"]))


def _init_state(param, state, initial_value):
    """A zero step count and a sum filled with ``initial_value``."""
    xp = get_array_module(param.array)
    state["step"] = new_step()
    state["sum"] = Tensor(xp.full_like(param.array, initial_value))
