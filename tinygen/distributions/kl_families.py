"""Closed-form KL(p || q) for the pairs among the newer families that PyTorch registers:
Pareto-Pareto and ContinuousBernoulli-ContinuousBernoulli."""

import math

from tinygen.ops import where
from .continuous_bernoulli import ContinuousBernoulli
from .kl import register_kl
from .pareto import Pareto


@register_kl(Pareto, Pareto)
def _kl_pareto_pareto(p, q):
    """a_q log(s_p / s_q) - log(a_q / a_p) + a_q / a_p - 1; inf where p's support starts
    below q's."""
    alpha_ratio = q.alpha / p.alpha
    result = q.alpha * (p.scale / q.scale).log() - alpha_ratio.log() + alpha_ratio - 1
    return where(p.scale < q.scale, math.inf, result)


@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def _kl_cb_cb(p, q):
    """E_p[x] (logits_p - logits_q) + log C(p) + log(1 - p) - log C(q) - log(1 - q)."""
    t1 = p.mean * (p.logits - q.logits)
    t2 = p._cont_bern_log_norm() + (-p.probs).log1p()
    t3 = -q._cont_bern_log_norm() - (-q.probs).log1p()
    return t1 + t2 + t3


def register_family_kl():
    """Nothing to do: importing this module registered its pairs."""
