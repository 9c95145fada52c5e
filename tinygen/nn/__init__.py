"""Neural-network building blocks with PyTorch's names: ``Module``, layers, losses, ``init``.

    from tinygen import nn
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
"""

from tinygen.nn import functional  # noqa: F401
from tinygen.nn import init, utils
from tinygen.nn.activation import (
    CELU, ELU, GELU, GLU, SELU, Hardshrink, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU,
    LogSigmoid, LogSoftmax, Mish, PReLU, ReLU, ReLU6, Sigmoid, SiLU, Softmax, Softmin, Softplus,
    Softshrink, Softsign, Tanh, Tanhshrink, Threshold)
from tinygen.nn.attention import CausalSelfAttention, KVCache, MultiheadAttention
from tinygen.nn.bilinear import Bilinear
from tinygen.nn.containers import (
    ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential)
from tinygen.nn.conv import (
    Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)
from tinygen.nn.dropout import AlphaDropout, Dropout, Dropout1d, Dropout2d
from tinygen.nn.embedding import Embedding
from tinygen.nn.fold import Fold, Unfold
from tinygen.nn.linear import Flatten, Identity, Linear, Unflatten
from tinygen.nn.distance import CosineSimilarity, PairwiseDistance
from tinygen.nn.loss import (
    BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss, CrossEntropyLoss, GaussianNLLLoss,
    HingeEmbeddingLoss, HuberLoss, KLDivLoss, L1Loss, MarginRankingLoss, MSELoss,
    MultiLabelSoftMarginLoss, NLLLoss, PoissonNLLLoss, SmoothL1Loss, SoftMarginLoss,
    TripletMarginLoss)
from tinygen.nn.module import Module, Parameter
from tinygen.nn.normalization import (
    BatchNorm1d, BatchNorm2d, GroupNorm, InstanceNorm1d, InstanceNorm2d, LayerNorm, RMSNorm)
from tinygen.nn.padding import (
    CircularPad1d, CircularPad2d, ConstantPad1d, ConstantPad2d, ReflectionPad1d, ReflectionPad2d,
    ReplicationPad1d, ReplicationPad2d, ZeroPad1d, ZeroPad2d)
from tinygen.nn.pixel_shuffle import PixelShuffle, PixelUnshuffle
from tinygen.nn.rnn import GRU, LSTM, RNN
from tinygen.nn.rnn_cells import GRUCell, LSTMCell, RNNCell
from tinygen.nn.transformer import (
    Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
    TransformerEncoderLayer)
from tinygen.nn.pooling import (
    AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d, Upsample,
    UpsamplingBilinear2d, UpsamplingNearest2d)
from tinygen.nn.embedding_bag import EmbeddingBag
from tinygen.nn.module import Buffer
from tinygen.nn.more_layers import (
    ChannelShuffle, LocalResponseNorm, LPPool1d, LPPool2d, RReLU, Softmax2d)
from tinygen.nn.more_layers import CrossMapLRN2d
from tinygen.nn.more_losses import (
    MultiLabelMarginLoss, MultiMarginLoss, TripletMarginWithDistanceLoss)
from tinygen.nn.pooling import MaxUnpool1d, MaxUnpool2d
from tinygen.nn.adaptive_softmax import AdaptiveLogSoftmaxWithLoss, CTCLoss, FractionalMaxPool2d
from tinygen.nn.dropout import Dropout3d, FeatureAlphaDropout
from tinygen.nn.layers3d import (
    AdaptiveAvgPool1d, AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool3d, AvgPool3d,
    MaxPool3d)
from tinygen.nn.normalization import BatchNorm3d, InstanceNorm3d
from tinygen.nn.padding import (
    CircularPad3d, ConstantPad3d, ReflectionPad3d, ReplicationPad3d, ZeroPad3d)
from tinygen.nn.lazy import (
    LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d, LazyConv1d, LazyConv2d, LazyConv3d,
    LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d, LazyInstanceNorm1d,
    LazyInstanceNorm2d, LazyInstanceNorm3d, LazyLinear, LazyModuleMixin, UninitializedBuffer,
    UninitializedParameter)
from tinygen.nn import modules  # noqa: E402,F401  (tg.nn.modules.module, as torch)
from tinygen.nn.deprecated import Container, NLLLoss2d  # noqa: E402,F401
from tinygen.nn.parallel import DataParallel, SyncBatchNorm  # noqa: E402,F401
from tinygen.nn.rnn import RNNBase  # noqa: E402,F401
from tinygen.nn.rnn_cells import RNNCellBase  # noqa: E402,F401
from tinygen.nn.pools3d_more import (  # noqa: E402,F401
    FractionalMaxPool3d, LPPool3d, MaxUnpool3d)
