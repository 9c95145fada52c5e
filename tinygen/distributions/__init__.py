"""Probability distributions as in ``torch.distributions``: sampling (``rsample`` is
differentiable by reparameterisation), log densities, entropies and KL divergences, parameters
and values checked against ``constraints``, and ``transforms`` for TransformedDistribution.
Samples come from tinygen's generators, so ``tg.manual_seed`` makes them repeat."""

from . import constraints, transforms
from .bernoulli import Bernoulli
from .categorical import Categorical
from .beta import Beta
from .binomial import Binomial
from .cauchy import Cauchy
from .chi2 import Chi2
from .continuous_bernoulli import ContinuousBernoulli
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exponential import Exponential
from .exp_family import ExponentialFamily
from .fishersnedecor import FisherSnedecor
from .gamma import Gamma
from .generalized_pareto import GeneralizedPareto
from .geometric import Geometric
from .gumbel import Gumbel
from .half_cauchy import HalfCauchy
from .half_normal import HalfNormal
from .independent import Independent
from .inverse_gamma import InverseGamma
from .kl import kl_divergence, register_kl
from .kumaraswamy import Kumaraswamy
from .laplace import Laplace
from .log_normal import LogNormal
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .mixture_same_family import MixtureSameFamily
from .multinomial import Multinomial
from .multivariate_normal import MultivariateNormal
from .negative_binomial import NegativeBinomial
from .normal import Normal
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .pareto import Pareto
from .poisson import Poisson
from .relaxed_bernoulli import LogitRelaxedBernoulli, RelaxedBernoulli
from .relaxed_categorical import ExpRelaxedCategorical, RelaxedOneHotCategorical
from .studentT import StudentT
from .transformed_distribution import TransformedDistribution
from .uniform import Uniform
from .von_mises import VonMises
from .weibull import Weibull
from .transforms import (
    AffineTransform, ComposeTransform, ExpTransform, PowerTransform, SigmoidTransform,
    SoftmaxTransform, TanhTransform, Transform)
from .transforms import (
    AbsTransform, CatTransform, CorrCholeskyTransform, CumulativeDistributionTransform,
    IndependentTransform, LowerCholeskyTransform, PositiveDefiniteTransform, ReshapeTransform,
    SoftplusTransform, StackTransform, StickBreakingTransform)
from .constraint_registry import biject_to, transform_to
from .lkj_cholesky import LKJCholesky
from .logistic_normal import LogisticNormal
from .wishart import Wishart
from .kl_more import register_all_kl
from .kl_families import register_family_kl

register_all_kl()
register_family_kl()

__all__ = ["AffineTransform", "Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2",
           "ComposeTransform", "Dirichlet", "Distribution", "ExpRelaxedCategorical",
           "ExpTransform", "Exponential", "Gamma", "Geometric", "Gumbel", "HalfCauchy",
           "HalfNormal", "Independent", "Laplace", "LogNormal", "LogitRelaxedBernoulli",
           "MixtureSameFamily", "Multinomial", "MultivariateNormal", "Normal",
           "OneHotCategorical", "Poisson", "PowerTransform", "RelaxedBernoulli",
           "RelaxedOneHotCategorical", "SigmoidTransform", "SoftmaxTransform", "StudentT",
           "TanhTransform", "Transform", "TransformedDistribution", "Uniform", "constraints",
           "kl_divergence", "register_kl", "transforms"]
__all__ += ["AbsTransform", "CatTransform", "CorrCholeskyTransform",
            "CumulativeDistributionTransform", "IndependentTransform", "LKJCholesky",
            "LogisticNormal", "LowerCholeskyTransform", "PositiveDefiniteTransform",
            "ReshapeTransform", "SoftplusTransform", "StackTransform", "StickBreakingTransform",
            "Wishart", "biject_to", "transform_to"]
__all__ += ["ContinuousBernoulli", "ExponentialFamily", "FisherSnedecor", "GeneralizedPareto",
            "InverseGamma", "Kumaraswamy", "LowRankMultivariateNormal", "NegativeBinomial",
            "OneHotCategoricalStraightThrough", "Pareto", "VonMises", "Weibull"]
