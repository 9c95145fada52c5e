"""Neural-network building blocks with PyTorch's names: ``Module``, layers, losses, ``init``.

    from tinygen import nn
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
"""

from tinygen.nn import functional  # noqa: F401
