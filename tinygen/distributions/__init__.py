"""Probability distributions as in ``torch.distributions``: sampling (``rsample`` is
differentiable by reparameterisation), log densities, entropies and KL divergences. Samples come
from tinygen's generators, so ``tg.manual_seed`` makes them repeat."""

from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .independent import Independent
from .kl import kl_divergence, register_kl
from .normal import Normal

__all__ = ["Bernoulli", "Categorical", "Distribution", "Independent", "Normal",
           "kl_divergence", "register_kl"]
