"""``Optimizer``: what every optimizer shares. Parameter groups, per-parameter state, the update
loop, ``zero_grad``, and ``state_dict``/``load_state_dict`` in PyTorch's layout.

    opt = optim.SGD([{"params": model.body.parameters()},
                     {"params": model.head.parameters(), "lr": 1e-3}], lr=1e-2, momentum=0.9)

``param_groups`` is a list of dicts: ``"params"`` (a list of tensors) plus every option, the
optimizer's defaults filled in where a group does not set its own. ``state[p]`` is a dict of
tensors for parameter ``p`` (momentum buffers, moments, step), on ``p``'s device.

``state_dict()`` is ``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``,
parameters numbered in group order, as PyTorch writes it, so it goes through ``tg.save``.

A subclass gives its defaults and ``_update(param, grad, state, group)``, which changes
``param.array`` in place from ``grad`` (a raw array); ``step`` calls it for every parameter that
has a gradient, outside the graph, and bumps the parameter's version counter as any in-place op
does (a tensor saved for backward before the step is then reported stale, as in PyTorch).

The optimizers take PyTorch's flags and keep them in ``defaults`` and every group, with its
default values, so state dicts interchange: ``foreach`` and ``fused`` (where PyTorch has them)
choose between implementations there; tinygen has one (a fused kernel or a few array ops per
parameter), so it accepts them and ignores them (nanoGPT's ``AdamW(..., fused=True)`` ports).
``capturable=True`` fails at ``step`` on CPU parameters as in PyTorch (an AssertionError);
``differentiable=True`` (the step recorded in the graph) raises NotImplementedError.
"""

import copy
import warnings
from collections import defaultdict

import numpy as np

from tinygen.autograd.grad_mode import enable_grad, no_grad
from tinygen.backend import get_array_module
from tinygen.optim.optimizer_hooks import (  # noqa: F401  (torch.optim.optimizer's names)
    OptimizerHooks, register_optimizer_step_post_hook, register_optimizer_step_pre_hook)
from tinygen.tensor import Tensor


class _RequiredParameter:
    """The default of an option that has none (SGD's lr in old PyTorch): a group must set it."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer(OptimizerHooks):
    """Base class of the optimizers: ``params`` is an iterable of tensors, of (name, tensor)
    pairs, or of dicts (parameter groups with their own options); ``defaults`` holds the
    options a group does not set. Step and state-dict hooks: ``optimizer_hooks.py``."""

    def __init__(self, params, defaults):
        if defaults.get("fused") and defaults.get("foreach"):
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got a Tensor; wrap it in a list: [tensor]")
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        for group in params:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a group of parameters (a dict with "params" and, optionally, its own options)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs; "
                            "use a list instead")
        params = list(params)
        named = [isinstance(p, tuple) and len(p) == 2 for p in params]
        if any(named) and not all(named):
            raise ValueError("all optimizer params should be with/without names. Some param "
                             "names are missing")
        if params and all(named):
            param_group["param_names"] = [name for name, _ in params]   # named_parameters()
            params = [p for _, p in params]
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params "
                                f"is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor (one computed by an op); "
                                 "optimize the leaf it came from, or .detach() it and set "
                                 "requires_grad=True")
        param_group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        refuse_differentiable(type(self).__name__, param_group.get("differentiable", False))
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):           # PyTorch warns, and steps such a parameter twice
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "each step updates such a parameter once per appearance",
                          UserWarning, stacklevel=3)
        if any(("param_names" in group) != ("param_names" in param_group)
               for group in self.param_groups):
            raise ValueError(f"all optimizer param groups should be with/without names. cannot "
                             f"add param group with{'' if 'param_names' in param_group else 'out'}"
                             f" names to the optimizer")
        taken = {id(p) for group in self.param_groups for p in group["params"]}
        if not taken.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Reset the gradients: to None (the default, as in PyTorch) or to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_().zero_()       # out of any graph, then zeros in place

    def step(self, closure=None):
        """Update every parameter that has a gradient. ``closure``, if given, re-evaluates the
        model and returns the loss; it runs with gradients enabled and its loss is returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                options = _as_numbers(group)
                if options.get("capturable"):
                    check_capturable(self, group)
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    self._update(p, p.grad.array, self.state[p], options)
                    if not self.state[p]:      # stateless (SGD without momentum): no entry,
                        del self.state[p]      # as in PyTorch's state_dict
                    p._shared_version()[0] += 1        # as inplace.py does for x.add_(...)
        return loss

    def _update(self, param, grad, state, group):
        raise NotImplementedError(f"{type(self).__name__} must define _update(param, grad, "
                                  f"state, group)")

    def state_dict(self):
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}``; the
        state's tensors are the optimizer's own (not copies), as in PyTorch."""
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: values for p, values in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load a ``state_dict()`` (or its ``tg.load`` round trip) into an optimizer made over
        parameters of the same group sizes; tensors are copied to each parameter's device and
        (when floating) dtype. Options come from the loaded groups."""
        groups = self.param_groups
        saved_groups = state_dict["param_groups"]
        if len(groups) != len(saved_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, but "
                             f"the optimizer has {len(groups)}")
        for i, (group, saved) in enumerate(zip(groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(f"loaded state dict contains a parameter group that doesn't "
                                 f"match the size of optimizer's group: group {i} has "
                                 f"{len(saved['params'])} parameters in the state dict and "
                                 f"{len(group['params'])} in the optimizer")
        by_index = {int(saved_index): p
                    for group, saved in zip(groups, saved_groups)
                    for saved_index, p in zip(saved["params"], group["params"])}
        on_device = {int(i) for saved in saved_groups if saved.get("fused") or
                     saved.get("capturable") for i in saved["params"]}   # "step" moves along
        state = defaultdict(dict)
        for key, values in state_dict["state"].items():
            if int(key) not in by_index:
                raise ValueError(f"loaded state dict has state for parameter {key}, which no "
                                 f"parameter group lists")
            p = by_index[int(key)]
            state[p] = {name: _cast(p, name, value, int(key) in on_device)
                        for name, value in values.items()}
        new_groups = []
        for group, saved in zip(groups, saved_groups):
            new_group = copy.deepcopy({k: v for k, v in saved.items() if k != "params"})
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            for name, default in self.defaults.items():     # older dicts lack newer flags
                if default is not required:                 # (PyTorch's __setstate__)
                    new_group.setdefault(name, default)
            new_groups.append(new_group)
        self.state, self.param_groups = state, new_groups

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join(lines + [")"])


def _as_numbers(group):
    """The group with each one-element tensor option (a tensor ``lr``, tensor ``betas``, which
    PyTorch allows) read as a number, at its current value; the group itself when it holds no
    tensor option."""
    def number(value):
        if isinstance(value, tuple) and any(isinstance(v, Tensor) for v in value):
            return tuple(number(v) for v in value)
        return value.item() if isinstance(value, Tensor) else value

    options = {key: number(value) for key, value in group.items() if key != "params"}
    if all(options[key] is group[key] for key in options):
        return group
    return {**options, "params": group["params"]}


def check_nonnegative(*named_values):
    """PyTorch's ``ValueError("Invalid <name>: <value>")`` for each (name, value) pair whose
    value is negative or NaN (``not 0 <= value`` is true for both), and its ValueError for a
    tensor value (a tensor ``lr``) with more than one element."""
    for name, value in named_values:
        if isinstance(value, Tensor) and value.numel() != 1:
            raise ValueError(f"Tensor {name} must be 1-element, got shape {tuple(value.shape)}")
        if not 0.0 <= value:
            raise ValueError(f"Invalid {name}: {value}")


def refuse_differentiable(optimizer, differentiable):
    """PyTorch's ``differentiable=True`` records the step in the autograd graph; tinygen's steps
    update the arrays outside it, so asking for it is an error, not a silent no-op."""
    if differentiable:
        raise NotImplementedError(f"{optimizer}(differentiable=True) is not supported: tinygen's "
                                  f"optimizers update parameters outside the autograd graph")


def check_capturable(optimizer, group):
    """PyTorch's error for ``capturable=True`` (the step count kept on the parameter's device, for
    CUDA graphs) with a parameter on the CPU; on CUDA tinygen takes the flag and updates as
    usual (it has no graph capture)."""
    if any(p.device.type == "cpu" for p in group["params"]):
        raise AssertionError(f"If capturable=True, params and state_steps must be on supported "
                             f"devices: ['cuda']. ({type(optimizer).__name__} got a CPU "
                             f"parameter)")


def check_betas(betas):
    """``betas`` as a tuple, after PyTorch's checks: a pair, each in [0, 1)."""
    betas = tuple(betas)
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas}")
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
    return betas


def prepare_grad(p, grad, group):
    """The gradient an update follows, as PyTorch's loops prepare it from the raw arrays ``p``
    (the parameter) and ``grad``: negated under ``maximize``, then with weight decay either
    coupled (L2: ``grad + weight_decay * p``) or, when the group sets
    ``decoupled_weight_decay`` (AdamW's rule), applied to ``p`` itself, in place, as
    ``p *= 1 - lr * weight_decay``."""
    g = -grad if group["maximize"] else grad
    weight_decay = group["weight_decay"]
    if weight_decay != 0:
        if group.get("decoupled_weight_decay", False):
            p *= 1 - group["lr"] * weight_decay
        else:
            g = g + weight_decay * p
    return g


def update_moments(g, state, betas):
    """Adam's moving averages of the gradient ``g``, in place in ``state`` (NAdam, RAdam):
    m = beta1 m + (1 - beta1) g in ``exp_avg`` and v = beta2 v + (1 - beta2) g^2 in
    ``exp_avg_sq``. Returns the arrays (m, v)."""
    beta1, beta2 = betas
    exp_avg, exp_avg_sq = state["exp_avg"].array, state["exp_avg_sq"].array
    lerp_(exp_avg, g, 1 - beta1)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * g * g
    return exp_avg, exp_avg_sq


def lerp_(avg, end, weight):
    """avg += weight * (end - avg) in place, rounded as PyTorch's CPU lerp_: from ``end`` when
    weight >= 0.5, so weight 1 gives ``end`` exactly and small smoothing factors (RMSprop's
    alpha < 0.5, Adam's beta1 < 0.5) round as in PyTorch."""
    if weight < 0.5:
        avg += weight * (end - avg)
    else:
        avg[...] = end - (end - avg) * (1 - weight)


def _cast(param, name, value, on_device=False):
    """A loaded state tensor as a fresh tensor on the parameter's device and, when floating,
    in its dtype; "step" stays as saved (a CPU float32 scalar, as PyTorch keeps it), unless the
    group is ``fused`` or ``capturable``: then a float32 scalar on the parameter's device."""
    if not isinstance(value, Tensor):
        return copy.deepcopy(value)
    if name == "step":
        if on_device:
            return Tensor(value.to(param.device, np.dtype(np.float32)).array.copy())
        return Tensor(value.array.copy())
    if value.ndim and value.shape != param.shape:
        raise ValueError(f"loaded state {name!r} has shape {tuple(value.shape)} but its "
                         f"parameter has shape {tuple(param.shape)}")
    moved = value.to(param.device, param.dtype) if value.is_floating_point() else value.to(
        param.device)
    return Tensor(moved.array.copy() if moved is value else moved.array)


def zeros_like(param):
    """A state tensor of zeros shaped like ``param``, on its device, in its dtype."""
    return Tensor(get_array_module(param.array).zeros_like(param.array))


def new_step():
    """A fresh step count: a 0-d float32 CPU tensor, as PyTorch keeps it."""
    return Tensor(np.zeros((), np.float32))


def count_step(state):
    """Add one to ``state["step"]`` in place and return the new count as a float."""
    step = state["step"]
    if not isinstance(step, Tensor):             # a plain number, e.g. from a hand-made dict
        step = state["step"] = Tensor(np.asarray(step, np.float32))
    step.array[...] += 1
    return float(step.array)
