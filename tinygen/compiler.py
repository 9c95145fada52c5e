"""``tg.compile``: ``torch.compile`` accepted, so that scripts which call it run (nanoGPT does by
default). tinygen has no graph compiler: the module or function comes back unchanged and runs
eagerly, as it would with ``torch.compile(..., disable=True)``."""


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,
            options=None, disable=False):
    """``model`` itself; ``compile(**options)`` without a model is a decorator that returns what
    it decorates."""
    if model is None:
        return lambda fn: fn
    return model
