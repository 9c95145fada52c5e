"""``tg.version``, as ``torch.version``: tinygen's version and the CUDA it runs on.

``cuda`` is the CUDA runtime version CuPy uses ('12.4'), or None without CuPy or a GPU, as in
PyTorch's CPU build; it is looked up when first read, so importing tinygen never loads CuPy.
"""

from tinygen import __version__

git_version = None          # tinygen is not built from a recorded commit
hip = None                  # no ROCm build
debug = False

__all__ = ["__version__", "debug", "git_version", "hip"]          # and cuda, read lazily


def __getattr__(name):
    if name == "cuda":
        from tinygen import cuda
        return cuda.runtime_version() if cuda.is_available() else None
    raise AttributeError(f"module 'tinygen.version' has no attribute {name!r}")
