"""``tg.func``, as ``torch.func``: composable function transforms (grad, vjp, jvp, jacrev,
jacfwd, hessian, linearize, vmap), ``functional_call``, ``stack_module_state``,
``functionalize`` and ``replace_all_batch_norm_modules_``.

Reverse-mode autograd, forward-mode AD (``tinygen.autograd.forward_ad``) and a loop for vmap;
see transforms.py and vmap.py for where this differs from functorch's implementation (values
and structures do not).
"""

from tinygen.func.functional_call import functional_call, stack_module_state
from tinygen.func.functionalize import functionalize, replace_all_batch_norm_modules_
from tinygen.func.transforms import (
    grad, grad_and_value, hessian, jacfwd, jacrev, jvp, linearize, vjp)
from tinygen.func.vmap import vmap

__all__ = ["functional_call", "functionalize", "grad", "grad_and_value", "hessian", "jacfwd",
           "jacrev", "jvp", "linearize", "replace_all_batch_norm_modules_",
           "stack_module_state", "vjp", "vmap"]
