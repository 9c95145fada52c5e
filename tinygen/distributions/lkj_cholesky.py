"""LKJCholesky, as ``torch.distributions.LKJCholesky``: a distribution over Cholesky factors L
of dim x dim correlation matrices with density of L L^T proportional to det(L L^T)^(eta - 1);
eta = 1 is uniform over correlation matrices. Samples come from the onion method
(Lewandowski, Kurowicka and Joe, 2009, section 3.2), vectorised over rows as in torch."""

import math

import numpy as np

from tinygen.autograd import no_grad
from tinygen.creation import arange, randn
from tinygen.ops import broadcast_to, cat, clamp, lgamma, mvlgamma, where
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all


class LKJCholesky(Distribution):
    """LKJ over ``dim`` x ``dim`` correlation Cholesky factors with ``concentration`` eta."""

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. "
                             f"Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        self._beta = self._make_beta()
        super().__init__(tuple(self.concentration.shape), (dim, dim),
                         validate_args=validate_args)

    def _make_beta(self):
        """Beta(i / 2, eta + (dim - 2) / 2 - i / 2) for row i: the squared length of the
        off-diagonal part of row i (row 0 gets a dummy 0.5 that the sampler ignores)."""
        from tinygen.distributions import Beta
        c = self.concentration
        offset = arange(self.dim - 1, dtype=c.dtype, device=c.device)
        offset = cat([offset.new_zeros((1,)), offset])
        marginal = c + 0.5 * (self.dim - 2)
        return Beta(offset + 0.5, marginal.unsqueeze(-1) - 0.5 * offset, validate_args=False)

    def expand(self, batch_shape, _instance=None):
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.concentration = broadcast_to(self.concentration, tuple(batch_shape))
        new._beta = new._make_beta()
        new.batch_shape = tuple(batch_shape)
        return new

    def sample(self, sample_shape=()):
        """Row i of L is sqrt(y_i) u_i on the strict lower part (u_i uniform on the unit
        sphere of R^i, y_i ~ Beta) and sqrt(1 - y_i) on the diagonal."""
        with no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)
            u = randn(self._extended_shape(sample_shape), dtype=y.dtype,
                      device=y.device).tril(-1)
            norm = u.norm(dim=-1, keepdim=True)
            u = u / where(norm == 0, 1.0, norm)          # row 0 is all zero: keep it so
            w = y.sqrt() * u
            tiny = float(np.finfo(w.dtype).tiny)
            diag = clamp(1 - (w ** 2).sum(-1), tiny, None).sqrt()
            return w + diag.diag_embed()

    def log_prob(self, value):
        """sum_i (2 (eta - 1) + dim - i) log L_ii over i = 2..dim, minus the log normaliser
        (the Jacobian of L -> L L^T gives the dim - i term)."""
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        diag = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = arange(2, self.dim + 1, dtype=c.dtype, device=c.device)
        order = 2 * (c - 1).unsqueeze(-1) + self.dim - order
        unnormalized = (order * diag.log()).sum(-1)
        dm1 = self.dim - 1
        alpha = c + 0.5 * dm1
        normalizer = 0.5 * dm1 * math.log(math.pi) + mvlgamma(alpha - 0.5, dm1) \
            - lgamma(alpha) * dm1
        return unnormalized - normalizer
