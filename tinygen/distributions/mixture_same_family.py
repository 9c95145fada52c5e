"""MixtureSameFamily: a Categorical choice among the components of one batched distribution,
p(x) = sum_k pi_k p_k(x), evaluated as a logsumexp so that it stays finite."""

from tinygen.autograd import no_grad
from tinygen.ops import broadcast_to, gather, log_softmax, logsumexp
from .categorical import Categorical
from .distribution import Distribution


class MixtureSameFamily(Distribution):
    """Mixture weights from ``mixture_distribution`` (a Categorical with batch shape B and K
    categories); components from ``component_distribution`` (batch shape B + (K,))."""

    arg_constraints = {}
    has_rsample = False

    def __init__(self, mixture_distribution, component_distribution, validate_args=None):
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError(" The Mixture distribution needs to be an  instance of "
                             "torch.distributions.Categorical")
        if not isinstance(component_distribution, Distribution):
            raise ValueError("The Component distribution need to be an instance of "
                             "torch.distributions.Distribution")
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        mdbs = mixture_distribution.batch_shape
        cdbs = component_distribution.batch_shape[:-1]
        for size1, size2 in zip(reversed(mdbs), reversed(cdbs)):
            if size1 != 1 and size2 != 1 and size1 != size2:
                raise ValueError(f"`mixture_distribution.batch_shape` ({mdbs}) is not "
                                 f"compatible with `component_distribution.batch_shape`({cdbs})")
        km = mixture_distribution.logits.shape[-1]
        kc = component_distribution.batch_shape[-1]
        if km != kc:
            raise ValueError(f"`mixture_distribution component` ({km}) does not equal "
                             f"`component_distribution.batch_shape[-1]` ({kc})")
        self._num_component = km
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(cdbs, component_distribution.event_shape, validate_args=validate_args)

    @property
    def mixture_distribution(self):
        return self._mixture_distribution

    @property
    def component_distribution(self):
        return self._component_distribution

    @property
    def support(self):
        return self._component_distribution.support

    def expand(self, batch_shape, _instance=None):
        batch_shape = tuple(batch_shape)
        return MixtureSameFamily(
            self._mixture_distribution.expand(batch_shape),
            self._component_distribution.expand(batch_shape + (self._num_component,)),
            validate_args=False)

    def _pad(self, x):
        """x with a dim inserted before the event dims (where the component dim goes)."""
        return x.unsqueeze(-1 - self._event_ndims)

    def _pad_mixture(self, x):
        """Mixture weights (batch, K) shaped to broadcast over the event dims."""
        return x.reshape(tuple(x.shape) + (1,) * self._event_ndims)

    @property
    def mean(self):
        probs = self._pad_mixture(self._mixture_distribution.probs)
        return (probs * self._component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self):
        """E[Var(X | k)] + Var(E[X | k]), the law of total variance."""
        probs = self._pad_mixture(self._mixture_distribution.probs)
        dim = -1 - self._event_ndims
        comp = self._component_distribution
        mean_cond_var = (probs * comp.variance).sum(dim)
        var_cond_mean = (probs * (comp.mean - self._pad(self.mean)) ** 2).sum(dim)
        return mean_cond_var + var_cond_mean

    def cdf(self, x):
        cdf_x = self._component_distribution.cdf(self._pad(x))
        return (cdf_x * self._mixture_distribution.probs).sum(-1)

    def log_prob(self, x):
        """logsumexp_k (log p_k(x) + log pi_k)."""
        if self._validate_args:
            self._validate_sample(x)
        log_prob_x = self._component_distribution.log_prob(self._pad(x))
        log_mix = log_softmax(self._mixture_distribution.logits, -1)
        return logsumexp(log_prob_x + log_mix, -1)

    def sample(self, sample_shape=()):
        """Draw a component index, then take that component's draw."""
        with no_grad():
            sample_shape = tuple(sample_shape)
            mix = self._mixture_distribution.sample(sample_shape)          # S + B
            comp = self._component_distribution.sample(sample_shape)       # S + B + (K,) + E
            shape = tuple(comp.shape)
            index = mix.reshape(tuple(mix.shape) + (1,) * (self._event_ndims + 1))
            es = shape[len(shape) - self._event_ndims:]
            index = broadcast_to(index, tuple(shape[:len(shape) - self._event_ndims - 1]) +
                                 (1,) + tuple(es))
            return gather(comp, len(shape) - self._event_ndims - 1, index).squeeze(
                len(shape) - self._event_ndims - 1)
