"""``nn.Bilinear`` and ``F.bilinear``: y[..., o] = x1[..., i] W[o, i, j] x2[..., j] + b[o]."""

import math

from tinygen import creation
from tinygen.nn import init
from tinygen.nn.module import Module
from tinygen.nn.parameter import Parameter


def bilinear(input1, input2, weight, bias=None):
    """y = x1^T W_o x2 + b_o for every output o: input1 (*, in1), input2 (*, in2) with the same
    leading dims, weight (out, in1, in2), bias (out,) or None; y is (*, out)."""
    if weight.ndim != 3 or input1.shape[-1] != weight.shape[1] \
            or input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(f"bilinear: weight of shape {tuple(weight.shape)} should be "
                           f"(out, {input1.shape[-1]}, {input2.shape[-1]}) for inputs of shapes "
                           f"{tuple(input1.shape)} and {tuple(input2.shape)}")
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear: input batch dimensions do not match: got shapes "
                           f"{tuple(input1.shape)} and {tuple(input2.shape)}")
    out, in1, in2 = weight.shape
    # one matmul: x1 @ W as (in1, out * in2), then a product with x2 summed over j
    x1w = input1 @ weight.permute(1, 0, 2).reshape(in1, out * in2)      # (*, out * in2)
    products = x1w.reshape(*input1.shape[:-1], out, in2) * input2.unsqueeze(-2)
    y = products.sum(-1, dtype=products.dtype)     # (*, out); ints stay in their dtype
    return y if bias is None else y + bias


class Bilinear(Module):
    """y = x1^T W x2 + b. weight (out_features, in1_features, in2_features) and bias start
    uniform in [-1/sqrt(in1_features), 1/sqrt(in1_features)], as in PyTorch."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None):
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(creation.empty(out_features, in1_features, in2_features,
                                               device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
