"""Probability distributions as in ``torch.distributions``: sampling (``rsample`` is
differentiable by reparameterisation), log densities, entropies and KL divergences, parameters
and values checked against ``constraints``, and ``transforms`` for TransformedDistribution.
Samples come from tinygen's generators, so ``tg.manual_seed`` makes them repeat."""

from . import constraints, transforms
from .bernoulli import Bernoulli
from .categorical import Categorical
from .continuous import Cauchy, Exponential, Gumbel, HalfCauchy, HalfNormal, Laplace, Uniform
from .discrete import Binomial, Geometric, Multinomial, OneHotCategorical, Poisson
from .distribution import Distribution
from .gamma_family import Beta, Chi2, Dirichlet, Gamma, StudentT
from .independent import Independent
from .kl import kl_divergence, register_kl
from .mixture import MixtureSameFamily
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .relaxed import (
    ExpRelaxedCategorical, LogitRelaxedBernoulli, RelaxedBernoulli, RelaxedOneHotCategorical)
from .transformed import LogNormal, TransformedDistribution
from .transforms import (
    AffineTransform, ComposeTransform, ExpTransform, PowerTransform, SigmoidTransform,
    SoftmaxTransform, TanhTransform, Transform)
from .kl_more import register_all_kl

register_all_kl()

__all__ = ["AffineTransform", "Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2",
           "ComposeTransform", "Dirichlet", "Distribution", "ExpRelaxedCategorical",
           "ExpTransform", "Exponential", "Gamma", "Geometric", "Gumbel", "HalfCauchy",
           "HalfNormal", "Independent", "Laplace", "LogNormal", "LogitRelaxedBernoulli",
           "MixtureSameFamily", "Multinomial", "MultivariateNormal", "Normal",
           "OneHotCategorical", "Poisson", "PowerTransform", "RelaxedBernoulli",
           "RelaxedOneHotCategorical", "SigmoidTransform", "SoftmaxTransform", "StudentT",
           "TanhTransform", "Transform", "TransformedDistribution", "Uniform", "constraints",
           "kl_divergence", "register_kl", "transforms"]
