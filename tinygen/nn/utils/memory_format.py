"""``convert_conv2d_weight_memory_format`` / ``convert_conv3d_weight_memory_format``: PyTorch
re-lays out conv weights as channels_last here. tinygen has no memory formats (its arrays are
NumPy/CuPy ones, always in their own layout), so these return the module unchanged; scripts
that call them run as they are."""


def convert_conv2d_weight_memory_format(module, memory_format):
    """``module``, as is: tinygen has no channels_last layout (see the module docstring)."""
    return module


def convert_conv3d_weight_memory_format(module, memory_format):
    """``module``, as is: tinygen has no channels_last_3d layout (see the module docstring)."""
    return module
