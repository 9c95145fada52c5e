"""LogisticNormal, as ``torch.distributions.LogisticNormal``: a Normal vector of K - 1
coordinates mapped onto the K-simplex by stick breaking (StickBreakingTransform)."""

from . import constraints
from .independent import Independent
from .transformed_distribution import TransformedDistribution
from .transforms_matrix import StickBreakingTransform


class LogisticNormal(TransformedDistribution):
    """StickBreakingTransform(X) with X ~ N(loc, scale^2) elementwise; the event is the last
    dimension of ``loc`` (a scalar loc gives a 2-simplex)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        from tinygen.distributions import Normal
        base_dist = Normal(loc, scale, validate_args=validate_args)
        if not base_dist.batch_shape:
            base_dist = base_dist.expand((1,))
        super().__init__(base_dist, StickBreakingTransform(), validate_args=validate_args)

    @property
    def loc(self):
        return self._normal().loc

    @property
    def scale(self):
        return self._normal().scale

    def _normal(self):
        base = self.base_dist
        return base.base_dist if isinstance(base, Independent) else base
