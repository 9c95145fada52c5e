"""Muon (Jordan et al. 2024, "Muon: An optimizer for hidden layers in neural networks"), as
``torch.optim.Muon``: momentum SGD whose update is replaced by an approximately orthogonal
matrix, the "zeroth power" U V^T of the update's SVD U S V^T, found by a few Newton-Schulz steps:

    buf = momentum * buf + (1 - momentum) * g               (a lerp towards g)
    update = g + momentum * (buf - g) if nesterov else buf  (a lerp from g towards buf)
    O = NS(update);   param *= 1 - lr * weight_decay;   param -= adjust_lr(lr, shape) * O

Muon is for 2-D parameters (hidden layers' weights); biases and embeddings go to AdamW.

Difference from PyTorch: torch runs the Newton-Schulz iteration in bfloat16. NumPy and CuPy have
no bfloat16, so tinygen runs it in the parameter's own dtype (float32 by default). Updates agree
with torch's to bfloat16 precision, and exactly with a float64 run of the same iteration.
"""

import math

from tinygen.backend import get_array_module
from tinygen.optim.optimizer import Optimizer, lerp_, zeros_like
from tinygen.tensor import Tensor

# Keller Jordan's coefficients (https://kellerjordan.github.io/posts/muon/), as torch's.
EPS = 1e-7
DEFAULT_A = 3.4445
DEFAULT_B = -4.7750
DEFAULT_C = 2.0315
DEFAULT_NS_STEPS = 5


def zeropower_via_newtonschulz(grad, ns_coefficients, ns_steps, eps):
    """The quintic Newton-Schulz iteration X <- a X + (b A + c A^2) X, A = X X^T, from
    X = G / max(||G||_F, eps), on the wide orientation of the 2-D array ``grad``. Its
    coefficients maximise the slope at zero, so the singular values land near 1 (in about
    [0.7, 1.2]), not exactly on it: U S' V^T rather than U V^T, which trains as well."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    xp = get_array_module(grad)
    a, b, c = ns_coefficients
    tall = grad.shape[0] > grad.shape[1]
    x = grad.T if tall else grad                # so the Gram matrix is the smaller one
    x = x / max(float(xp.linalg.norm(x)), eps)  # spectral norm <= Frobenius norm <= 1
    for _ in range(ns_steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * (gram @ gram)) @ x
    return x.T if tall else x


def adjust_lr(lr, adjust_lr_fn, param_shape):
    """The lr scaled for the shape (A, B): "original" (Keller Jordan's, the default) by
    sqrt(max(1, A / B)); "match_rms_adamw" (Moonshot's) by 0.2 sqrt(max(A, B)), so that the
    update's RMS matches AdamW's."""
    rows, cols = param_shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, rows / cols))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(rows, cols))
    else:
        ratio = 1.0
    return lr * ratio


class Muon(Optimizer):
    """``Muon(params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
    ns_coefficients=(3.4445, -4.775, 2.0315), eps=1e-7, ns_steps=5, adjust_lr_fn=None)``;
    every parameter must be 2-D; state per parameter: ``momentum_buffer``."""

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps=EPS,
                 ns_steps=DEFAULT_NS_STEPS, adjust_lr_fn=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= float(lr):
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps,
                        adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(f"Muon only supports 2D parameters whereas we found a "
                                     f"parameter with size: {p.size()}")

    def _update(self, param, grad, state, group):
        if param.is_complex():
            raise RuntimeError("Muon does not support complex parameters")
        if grad.ndim != 2:
            raise ValueError("Param gradient must be a 2D matrix")
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = zeros_like(param)
        momentum, lr = group["momentum"], group["lr"]
        buf = state["momentum_buffer"].array
        lerp_(buf, grad, 1 - momentum)
        if group["nesterov"]:
            update = grad.copy()
            lerp_(update, buf, momentum)           # grad.lerp(buf, momentum), rounded as torch
        else:
            update = buf
        update = zeropower_via_newtonschulz(update, group["ns_coefficients"],
                                            group["ns_steps"], group["eps"])
        p = param.array
        p *= 1 - lr * group["weight_decay"]
        p -= adjust_lr(lr, group["adjust_lr_fn"], p.shape) * update.astype(p.dtype, copy=False)
