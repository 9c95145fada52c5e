"""Rprop, resilient backpropagation (Riedmiller & Braun 1993), exactly as PyTorch updates. Each
element keeps its own step size, grown while its gradient keeps its sign, shrunk when it flips:

    s = sign(g * prev)                           (grad negated first when maximize)
    step_size = clamp(step_size * {etaplus if s > 0, etaminus if s < 0, 1 if s = 0},
                      step_size_min, step_size_max)
    g = 0 where s < 0                            (no move after a sign flip)
    param -= sign(g) step_size;   prev = g

step_size starts at lr, which is read only then.
"""

from tinygen.backend import get_array_module
from tinygen.optim.optimizer import (
    Optimizer, check_nonnegative, count_step, new_step, refuse_differentiable, zeros_like)
from tinygen.tensor import Tensor


class Rprop(Optimizer):
    """``Rprop(params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False,
    foreach=None, maximize=False, differentiable=False)``; state per parameter: ``step`` (a
    float32 scalar tensor), ``prev`` (the last gradient followed) and ``step_size``."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_nonnegative(("learning rate", lr))
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        refuse_differentiable("Rprop", differentiable)
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        xp = get_array_module(grad)
        if not state:
            state["step"] = new_step()
            state["prev"] = zeros_like(param)
            state["step_size"] = Tensor(xp.full_like(grad, group["lr"]))
        count_step(state)
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        g = -grad if group["maximize"] else grad
        sign = xp.sign(g * state["prev"].array)
        factor = xp.where(sign > 0, etaplus, xp.where(sign < 0, etaminus,
                                                      xp.where(sign == 0, 1.0, sign)))
        step_size = state["step_size"].array
        step_size *= factor.astype(step_size.dtype, copy=False)
        xp.clip(step_size, step_size_min, step_size_max, out=step_size)
        g = xp.where(sign < 0, 0, g).astype(g.dtype, copy=False)
        param.array[...] -= xp.sign(g) * step_size
        state["prev"].array[...] = g
