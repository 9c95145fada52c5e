"""Neural-network building blocks with PyTorch's names: ``Module``, layers, losses, ``init``.

    from tinygen import nn
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
"""

from tinygen.nn import functional  # noqa: F401
from tinygen.nn import init, utils
from tinygen.nn.activation import GELU, LeakyReLU, ReLU, Sigmoid, SiLU, Softmax, Tanh
from tinygen.nn.attention import CausalSelfAttention, KVCache, MultiheadAttention
from tinygen.nn.containers import ModuleDict, ModuleList, Sequential
from tinygen.nn.conv import Conv2d, ConvTranspose2d
from tinygen.nn.dropout import Dropout
from tinygen.nn.embedding import Embedding
from tinygen.nn.linear import Flatten, Identity, Linear, Unflatten
from tinygen.nn.loss import (
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss)
from tinygen.nn.module import Module, Parameter
from tinygen.nn.normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from tinygen.nn.pooling import AvgPool2d, MaxPool2d, Upsample
