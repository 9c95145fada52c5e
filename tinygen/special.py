"""tg.special, as torch.special: the special functions under their SciPy-style names, and the
aliases PyTorch keeps here for ops that live elsewhere (expit is sigmoid, psi is digamma, ...).

    import tinygen as tg
    tg.special.gammaln(tg.tensor([0.5, 3.0]))
"""

from tinygen.ops import (
    erf, erfc, exp2, expm1, log1p, log_softmax, logit, logsumexp, round, sigmoid, sinc, softmax,
    xlogy)
from tinygen.ops.special_functions import (
    digamma, entr, erfinv, gammaln, i0, i0e, i1, i1e, log_ndtr, multigammaln, ndtr, ndtri,
    polygamma, xlog1py, zeta)

expit = sigmoid
psi = digamma

__all__ = ["digamma", "entr", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammaln", "i0",
           "i0e", "i1", "i1e", "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp",
           "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round", "sinc", "softmax",
           "xlog1py", "xlogy", "zeta"]
