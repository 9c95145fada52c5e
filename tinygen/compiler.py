"""``tg.compile``: ``torch.compile`` accepted, so that scripts which call it run (nanoGPT does by
default). tinygen has no graph compiler: the module or function comes back unchanged and runs
eagerly, as it would with ``torch.compile(..., disable=True)``. ``Module.compile`` (in place in
PyTorch) goes through here too, and so leaves the module as it was."""


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,
            options=None, name=None, disable=False, recompile_limit=None,
            isolate_recompiles=False, shapes_spec=None):
    """``model`` itself; ``compile(**options)`` without a model is a decorator that returns what
    it decorates. As PyTorch, ``mode`` and ``options`` together are a RuntimeError."""
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be "
                           "specified at the same time.")
    if model is None:
        def decorate(fn):
            if fn is None:
                raise RuntimeError("Model can't be None")
            return fn
        return decorate
    return model
