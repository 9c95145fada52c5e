"""``torch.backends.cpu``: the widest vector instructions the CPU offers tinygen's kernels."""

import platform

# PyTorch's names for its x86 kernel levels, widest first, and the CPU features each needs
# (as NumPy's dispatcher names them).
_X86_LEVELS = (("AVX512", ("AVX512F", "AVX512BW", "AVX512VL", "AVX512DQ")),
               ("AVX2", ("AVX2", "FMA3")))


def _numpy_cpu_features():
    """NumPy's runtime CPU feature table ({name: bool}), or {} if this NumPy hides it."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:                     # NumPy 1.x kept it in numpy.core
        try:
            from numpy.core._multiarray_umath import __cpu_features__
        except ImportError:
            return {}
    return __cpu_features__


def get_cpu_capability():
    """'AVX512', 'AVX2' or 'DEFAULT', as PyTorch names the x86 vector level; NumPy and Numba
    pick their kernels from the same CPU features. Other CPUs answer 'DEFAULT'."""
    if platform.machine().lower() not in ("x86_64", "amd64", "i386", "i686", "x86"):
        return "DEFAULT"
    features = _numpy_cpu_features()
    for name, needs in _X86_LEVELS:
        if all(features.get(flag, False) for flag in needs):
            return name
    return "DEFAULT"
