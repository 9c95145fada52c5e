"""``tg.func``, as ``torch.func``: composable function transforms (grad, vjp, jvp, jacrev,
jacfwd, hessian, vmap), ``functional_call`` and ``stack_module_state``.

Built on tinygen's reverse-mode autograd and a loop for vmap; see transforms.py and vmap.py
for where this differs from functorch's implementation (values and structures do not).
"""

from tinygen.func.functional_call import functional_call, stack_module_state
from tinygen.func.transforms import (
    grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp)
from tinygen.func.vmap import vmap

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp",
           "stack_module_state", "vjp", "vmap"]
