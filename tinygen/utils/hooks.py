"""``tinygen.utils.hooks``, as ``torch.utils.hooks``: the handle that the ``register_*_hook``
methods of modules and optimizers return (``handle.remove()``, or ``with handle:``), for scripts
that import or annotate with it. Tensor hooks (``Tensor.register_hook``) return a handle of
their own with the same ``remove()``."""

from tinygen.nn.hooks import RemovableHandle


def unserializable_hook(f):
    """Mark ``f`` as a hook that is not to be serialized (PyTorch's decorator; tinygen never
    pickles hooks, so the mark is only kept)."""
    f.__torch_unserializable__ = True
    return f


__all__ = ["RemovableHandle", "unserializable_hook"]
