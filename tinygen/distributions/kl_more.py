"""Closed-form KL(p || q) for the pairs of families that PyTorch registers beyond kl.py's."""

import math

from tinygen.ops import digamma, lgamma, where
from tinygen import linalg
from .beta import Beta
from .binomial import Binomial
from .dirichlet import Dirichlet
from .exponential import Exponential
from .gamma import Gamma
from .geometric import Geometric
from .half_normal import HalfNormal
from .laplace import Laplace
from .kl import kl_divergence, register_kl
from .multivariate_normal import MultivariateNormal, batch_mahalanobis
from .one_hot_categorical import OneHotCategorical
from .poisson import Poisson
from .uniform import Uniform


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    """log((b_q - a_q) / (b_p - a_p)) when p's interval lies inside q's, else inf."""
    result = ((q.high - q.low) / (p.high - p.low)).log()
    return where((q.low > p.low) | (q.high < p.high), math.inf, result)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p, q):
    """r - 1 - log r with r = rate_q / rate_p."""
    ratio = q.rate / p.rate
    return ratio - 1 - ratio.log()


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p, q):
    c_p, r_p, c_q, r_q = p.concentration, p.rate, q.concentration, q.rate
    return c_q * (r_p / r_q).log() + lgamma(c_q) - lgamma(c_p) \
        + (c_p - c_q) * digamma(c_p) + (r_q - r_p) * (c_p / r_p)


@register_kl(Beta, Beta)
def _kl_beta_beta(p, q):
    a_p, b_p, a_q, b_q = p.concentration1, p.concentration0, q.concentration1, q.concentration0
    sum_p, sum_q = a_p + b_p, a_q + b_q
    t1 = lgamma(a_q) + lgamma(b_q) + lgamma(sum_p)
    t2 = lgamma(a_p) + lgamma(b_p) + lgamma(sum_q)
    return t1 - t2 + (a_p - a_q) * digamma(a_p) + (b_p - b_q) * digamma(b_p) \
        + (sum_q - sum_p) * digamma(sum_p)


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p, q):
    c_p, c_q = p.concentration, q.concentration
    sum_p, sum_q = c_p.sum(-1), c_q.sum(-1)
    t1 = lgamma(sum_p) - lgamma(sum_q)
    t2 = (lgamma(c_p) - lgamma(c_q)).sum(-1)
    t4 = digamma(c_p) - digamma(sum_p).unsqueeze(-1)
    return t1 - t2 + ((c_p - c_q) * t4).sum(-1)


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p, q):
    ratio = p.scale / q.scale
    diff = (p.loc - q.loc).abs()
    return -ratio.log() + diff / q.scale + ratio * (-diff / p.scale).exp() - 1


@register_kl(HalfNormal, HalfNormal)
def _kl_halfnormal_halfnormal(p, q):
    var_ratio = (p.scale / q.scale) ** 2
    return 0.5 * (var_ratio - 1 - var_ratio.log())


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p, q):
    """log det L_q - log det L_p + (||L_q^-1 L_p||_F^2 + Mahalanobis_q(mu_p) - n) / 2."""
    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two Multivariate Normals with different event "
                         "shapes cannot be computed")
    n = p.event_shape[0]
    half_term1 = q._half_log_det() - p._half_log_det()
    lq, lp = q.scale_tril, p.scale_tril
    shape = tuple(max(a, b) for a, b in zip(
        (1,) * (lp.ndim - lq.ndim) + tuple(lq.shape), (1,) * (lq.ndim - lp.ndim) + tuple(lp.shape)))
    term2 = (linalg.solve_triangular(lq.expand(shape), lp.expand(shape), upper=False) ** 2
             ).sum((-2, -1))
    term3 = batch_mahalanobis(lq, q.loc - p.loc)
    return half_term1 + 0.5 * (term2 + term3 - n)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehotcategorical(p, q):
    return kl_divergence(p._categorical, q._categorical)


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p, q):
    return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p, q):
    return -p.entropy() - (-q.probs).log1p() / p.probs - q.logits


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p, q):
    """n (p log(p / q) + (1 - p) log((1 - p) / (1 - q))), for equal total counts."""
    if bool((p.total_count < q.total_count).any()):
        raise NotImplementedError("KL between Binomials where q.total_count > p.total_count "
                                  "is not implemented")
    n = p.total_count
    kl = n * (p.probs * (p.logits - q.logits) + (-p.probs).log1p() - (-q.probs).log1p())
    return where(p.total_count > q.total_count, math.inf, kl)


def register_all_kl():
    """Nothing to do: importing this module registered its pairs (the package calls this so
    that the import is explicit)."""
