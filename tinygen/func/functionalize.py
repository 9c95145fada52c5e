"""``functionalize`` and ``replace_all_batch_norm_modules_`` of ``torch.func``: the two helpers
for transforming models that tinygen runs eagerly."""


def functionalize(func, *, remove="mutations"):
    """``func`` itself. PyTorch's functionalize rewrites in-place and view ops into out-of-place
    ones for tracing; tinygen has no functionalization pass (nor tracer), and eagerly the
    rewritten function computes the same values and input mutations, so nothing is wrapped."""
    if remove not in ("mutations", "mutations_and_views"):
        raise RuntimeError(f"functionalize(f, remove='mutations'): received invalid argument "
                           f"for remove={remove}. Valid options are 'mutations' and "
                           f"'mutations_and_views'.")
    return func


def replace_all_batch_norm_modules_(root):
    """Turn the running statistics off in every batch norm of ``root`` (in place, as PyTorch:
    ``running_mean``/``running_var``/``num_batches_tracked`` None, ``track_running_stats``
    False), so that vmap'ed models normalise with batch statistics. Returns ``root``."""
    from tinygen.nn.normalization import _BatchNorm, _InstanceNorm
    for module in root.modules():
        if isinstance(module, _BatchNorm) and not isinstance(module, _InstanceNorm) \
                and module.track_running_stats:
            module.running_mean = module.running_var = module.num_batches_tracked = None
            module.track_running_stats = False
    return root
