"""Reverse-mode automatic differentiation: Function, the engine, grad modes, gradient checks."""

from tinygen.autograd.anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from tinygen.autograd.engine import backward, grad
from tinygen.autograd.function import ArrayFunction, Function
from tinygen.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
from tinygen.autograd.grad_mode import (
    enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled)
from tinygen.autograd.profiler import profile
from tinygen.autograd import functional  # noqa: E402,F401  (after the engine)
from tinygen.autograd import graph  # noqa: E402,F401  (torch.autograd.graph)

__all__ = ["Function", "ArrayFunction", "backward", "grad", "gradcheck", "gradgradcheck",
           "GradcheckError", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_grad_enabled",
           "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "profile"]
__all__ += ["functional"]
__all__ += ["graph"]
from tinygen.autograd import forward_ad  # noqa: E402,F401  (torch.autograd.forward_ad)
__all__ += ["forward_ad"]
