"""Module hooks with PyTorch's semantics: forward pre-hooks and hooks, and full backward
hooks and pre-hooks, which see the gradients of a module call's inputs and outputs.

``Module.register_*_hook`` files a ``Hook`` in the module's one ordered dict of hooks;
``Module.__call__`` hands a call to ``call_with_hooks`` when that dict is not empty. Backward
hooks work as PyTorch's ``BackwardHook``: the call's tensor inputs and outputs pass through an
identity Function whose backward sees their gradients (``_BackwardCapture``).
"""

import itertools
import warnings
import weakref
from collections import OrderedDict, namedtuple

from tinygen import creation
from tinygen.autograd.function import ArrayFunction
from tinygen.autograd.grad_mode import is_grad_enabled
from tinygen.autograd.scope import module_scope
from tinygen.tensor import Tensor

Hook = namedtuple("Hook", ["kind", "fn", "with_kwargs", "always_call"])
_hook_ids = itertools.count()
# Forward hooks for every module (handle id -> Hook; module_hooks.py registers them). They run
# before each module's own, as PyTorch's global hooks.
global_module_hooks = OrderedDict()


class RemovableHandle:
    """What the ``register_*_hook`` methods return: ``remove()`` unregisters the hook, and so
    does leaving ``with handle:``. The handle does not keep the module's hooks alive."""

    def __init__(self, hooks):
        self.hooks_ref = weakref.ref(hooks)
        self.id = next(_hook_ids)

    def remove(self):
        hooks = self.hooks_ref()
        if hooks is not None:
            hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


def add_hook(hooks, hook, prepend=False):
    """Put ``hook`` in the ordered dict ``hooks`` (first with ``prepend``) and return the handle
    that removes it: every ``register_*_hook`` of modules and optimizers goes through here."""
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def call_with_hooks(module, args, kwargs):
    """``module(*args, **kwargs)`` when it has hooks, in PyTorch's order: forward pre-hooks, the
    inputs' backward capture, ``forward``, forward hooks, the outputs' backward capture."""
    hooks = [*global_module_hooks.values(), *module._module_hooks.values()]
    forward_hooks = [hook for hook in hooks if hook.kind == "forward"]
    started = 0                    # forward hooks run (or raising): always_call runs once
    result = None
    try:
        for hook in hooks:
            if hook.kind == "forward_pre":
                args, kwargs = _run_forward_pre_hook(module, hook, args, kwargs)
        capture = _BackwardCapture.create(module, hooks)
        if capture is not None:
            args = capture.wrap_inputs(args)
        with module_scope(module):
            result = module.forward(*args, **kwargs)
        for hook in forward_hooks:
            started += 1
            result = _run_forward_hook(module, hook, args, kwargs, result)
        if capture is not None:
            result = capture.wrap_outputs(result)
        return result
    except Exception:
        for hook in forward_hooks[started:]:
            if hook.always_call:
                try:
                    result = _run_forward_hook(module, hook, args, kwargs, result)
                except Exception as error:
                    warnings.warn(f"module forward hook with ``always_call=True`` raised an "
                                  f"exception that was silenced as another error was raised "
                                  f"in forward: {error}", stacklevel=3)
        raise


def _run_forward_pre_hook(module, hook, args, kwargs):
    """Run one forward pre-hook; the ``(args, kwargs)`` that forward gets after it."""
    if hook.with_kwargs:
        result = hook.fn(module, args, kwargs)
        if result is None:
            return args, kwargs
        if not (isinstance(result, tuple) and len(result) == 2):
            raise RuntimeError(f"forward pre-hook must return None or a tuple of "
                               f"(new_args, new_kwargs), but got {result}.")
        return result
    result = hook.fn(module, args)
    if result is None:
        return args, kwargs
    return (result if isinstance(result, tuple) else (result,)), kwargs


def _run_forward_hook(module, hook, args, kwargs, output):
    """Run one forward hook; the module's output after it."""
    if hook.with_kwargs:
        result = hook.fn(module, args, kwargs, output)
    else:
        result = hook.fn(module, args, output)
    return output if result is None else result


class _BackwardCapture:
    """One module call's full backward hooks and pre-hooks (PyTorch's ``BackwardHook``).

    The call's tensor inputs and outputs pass through identity Functions. In backward the
    outputs' identity sees every output gradient at once: it runs the pre-hooks and keeps
    ``grad_output``. Later the inputs' identity sees every input gradient: it runs the hooks
    with both, and returns their ``grad_input`` to the layers before.

    As in PyTorch, ``grad_input`` holds None for a non-tensor input and zeros for a tensor input
    that got no gradient (unused, or one that does not require grad; PyTorch 2.13 routes every
    tensor input through its identity and materialises their gradients), while ``grad_output``
    holds None for an output that got none.
    """

    def __init__(self, module, hooks, pre_hooks):
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.grad_output = None        # from the outputs' backward until the inputs' runs
        self.n_inputs = self.n_outputs = 0
        self.input_tensors = {}        # position: (shape, dtype, device) of each tensor input
        self.input_positions = self.output_positions = None   # None: nothing was wrapped

    @classmethod
    def create(cls, module, hooks):
        """A capture for this call, or None when the module has no backward hooks."""
        backward = [hook.fn for hook in hooks if hook.kind == "backward"]
        backward_pre = [hook.fn for hook in hooks if hook.kind == "backward_pre"]
        return cls(module, backward, backward_pre) if backward or backward_pre else None

    def wrap_inputs(self, args):
        self.n_inputs = len(args)
        self.input_tensors = {i: (arg.shape, arg.dtype, arg.device) for i, arg in enumerate(args)
                              if isinstance(arg, Tensor)}
        args, self.input_positions = _pass_through(args, self.on_grad_input)
        return args

    def wrap_outputs(self, output):
        if not isinstance(output, (Tensor, tuple)):
            warnings.warn(f"For backward hooks to be called, module output should be a Tensor "
                          f"or a tuple of Tensors but received {type(output)}", stacklevel=4)
        single = not isinstance(output, tuple)
        outputs = (output,) if single else output
        self.n_outputs = len(outputs)
        outputs, self.output_positions = _pass_through(outputs, self.on_grad_output)
        return outputs[0] if single else outputs

    def on_grad_output(self, grads):
        grad_output = _spread(grads, self.output_positions, self.n_outputs)
        for hook in self.pre_hooks:
            result = hook(self.module, grad_output)
            if result is not None:
                grad_output = _checked(result, len(grad_output), "pre hook", "grad_output")
        self.grad_output = grad_output
        if self.input_positions is None:       # no input needs a gradient: the hooks run now
            self._run_hooks_without_inputs()
        return tuple([grad_output[i] for i in self.output_positions])

    def on_grad_input(self, grads):
        if self.grad_output is None:    # the gradient reached the inputs by another way
            return grads
        grad_input = tuple(self._zeros_if_missing(i, g) for i, g in
                           enumerate(_spread(grads, self.input_positions, self.n_inputs)))
        for hook in self.hooks:
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                grad_input = _checked(result, len(grad_input), "hook", "grad_input")
        self.grad_output = None
        return tuple([grad_input[i] for i in self.input_positions])

    def _zeros_if_missing(self, position, grad):
        """``grad``, or zeros shaped as the input when it is a tensor that got no gradient."""
        if grad is not None or position not in self.input_tensors:
            return grad
        shape, dtype, device = self.input_tensors[position]
        return creation.zeros(shape, dtype=dtype, device=device)

    def _run_hooks_without_inputs(self):
        if not self.hooks:
            return
        warnings.warn("Full backward hook is firing when gradients are computed with respect "
                      "to module outputs since no inputs require gradients.")
        grad_input = (None,) * self.n_inputs
        for hook in self.hooks:
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None and any(g is not None for g in result):
                raise RuntimeError("Backward hook for Modules where no input requires gradient "
                                   "should always return None or None for all gradients.")
        self.grad_output = None


class _BackwardHookFunction(ArrayFunction):
    """The identity on some tensors; its backward hands their gradients, all at once, to the
    callable passed as the last argument and returns what it gives back."""

    is_view = True      # the outputs alias the inputs: changing one in place is refused

    @staticmethod
    def forward(ctx, *args):
        *arrays, ctx.on_backward = args
        ctx.set_materialize_grads(False)   # an output that got no gradient: None, as PyTorch
        return tuple(arrays)

    @staticmethod
    def backward(ctx, *grads):
        return (*ctx.on_backward(grads), None)


def _pass_through(values, on_backward):
    """``values`` (a tuple) with each tensor that requires grad replaced by its identity through
    ``_BackwardHookFunction``, and the positions replaced (None when nothing was recorded)."""
    positions = [i for i, value in enumerate(values)
                 if isinstance(value, Tensor) and value.requires_grad]
    if not positions or not is_grad_enabled():
        return values, None
    tensors = [values[i] for i in positions]
    replaced = list(values)
    for i, tensor, view in zip(positions, tensors,
                               _BackwardHookFunction.apply(*tensors, on_backward)):
        view._version_box = tensor._shared_version()    # a view of its own input, not input 0
        replaced[i] = view
    return (tuple(replaced) if type(values) is tuple else type(values)(*replaced)), positions


def _spread(grads, positions, size):
    """A ``size``-tuple with ``grads`` at ``positions`` and None elsewhere."""
    spread = [None] * size
    for i, g in zip(positions, grads):
        spread[i] = g
    return tuple(spread)


def _checked(result, expected, what, name):
    if len(result) != expected:
        raise RuntimeError(f"Backward {what} returned an invalid number of {name}, got "
                           f"{len(result)}, but expected {expected}")
    return tuple(result)
