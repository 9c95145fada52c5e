"""ExponentialFamily: densities p(x) = h(x) exp(<theta, t(x)> - A(theta)), whose entropy is
found from the log normaliser A alone (a Bregman divergence): H = A(theta) - <theta, grad A>
- E[log h(x)]. A family supplies ``_natural_params``, ``_log_normalizer`` and
``_mean_carrier_measure`` (E[log h(x)])."""

from tinygen import autograd
from .distribution import Distribution


class ExponentialFamily(Distribution):
    """Base of the exponential families; ``entropy`` by automatic differentiation of A."""

    @property
    def _natural_params(self):
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError

    def entropy(self):
        """A(theta) - sum theta * dA/dtheta - E[log h(x)], differentiable (create_graph)."""
        result = -self._mean_carrier_measure
        params = [p.detach().requires_grad_() for p in self._natural_params]
        with autograd.enable_grad():
            log_norm = self._log_normalizer(*params)
            grads = autograd.grad(log_norm.sum(), params, create_graph=True)
        result = result + log_norm
        for p, g in zip(params, grads):
            result = result - (p * g).reshape(self.batch_shape + (-1,)).sum(-1)
        return result
