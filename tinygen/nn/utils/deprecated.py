"""``nn.utils.clip_grad_norm``: the old name of ``clip_grad_norm_``, warning as PyTorch does."""

import warnings

from tinygen.nn.utils.clip_grad import clip_grad_norm_


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """``clip_grad_norm_`` under its deprecated name."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)
