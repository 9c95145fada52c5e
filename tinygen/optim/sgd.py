"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay,
exactly PyTorch's update (Sutskever et al. 2013, in the form that scales the step by lr last):

    g = grad + weight_decay * param              (grad negated first when maximize)
    buf = g on the first step, else momentum * buf + (1 - dampening) * g
    g = g + momentum * buf if nesterov else buf
    param = param - lr * g
"""

from tinygen.optim.optimizer import Optimizer, check_nonnegative, prepare_grad
from tinygen.tensor import Tensor


class SGD(Optimizer):
    """``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
    maximize=False, foreach=None, differentiable=False, fused=None)``; state:
    ``momentum_buffer`` per parameter (only with momentum)."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        check_nonnegative(("learning rate", lr), ("momentum value", momentum),
                          ("weight_decay value", weight_decay))
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        p = param.array
        g = prepare_grad(p, grad, group)
        momentum = group["momentum"]
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:                      # the first step starts the buffer at g
                buf = state["momentum_buffer"] = Tensor(g.copy())
            else:
                buf.array *= momentum
                buf.array += (1 - group["dampening"]) * g
            g = g + momentum * buf.array if group["nesterov"] else buf.array
        p -= group["lr"] * g
