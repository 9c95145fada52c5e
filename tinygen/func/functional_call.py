"""``functional_call`` (torch.func's spelling of ``nn.utils.stateless.functional_call``) and
``stack_module_state``: the pieces of model ensembling with ``vmap``."""

from tinygen.nn.utils.stateless import functional_call as _stateless_call
from tinygen.ops.shape import stack


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """``module(*args, **kwargs)`` with its parameters and buffers replaced by the tensors in
    ``parameter_and_buffer_dicts`` (a dict, or a tuple of dicts) for this call only; gradients
    flow to the given tensors."""
    return _stateless_call(module, parameter_and_buffer_dicts, args, kwargs,
                           tie_weights=tie_weights, strict=strict)


def _stacked_leaf(tensors, name):
    requires = [t.requires_grad for t in tensors]
    if any(requires) and not all(requires):
        raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
    out = stack(list(tensors))
    return out.detach().requires_grad_(True) if all(requires) else out


def stack_module_state(models):
    """(params, buffers): dicts from each name to the models' tensors stacked on a new dim 0;
    stacked parameters are new leaves (requiring grad when the models' do)."""
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or not any(m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same "
                           "training/eval mode.")
    if any(type(m) is not type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    all_params = [dict(m.named_parameters()) for m in models]
    params = {k: _stacked_leaf([p[k] for p in all_params], k) for k in all_params[0]}
    all_buffers = [dict(m.named_buffers()) for m in models]
    buffers = {k: stack([b[k] for b in all_buffers]) for k in all_buffers[0]}
    return params, buffers
