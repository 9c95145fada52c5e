"""``from torch.distributions.<module> import X`` ports as ``tinygen.distributions.<module>``: every
family lives in the module PyTorch names, and is the object the package exports."""

import importlib

import pytest

import tinygen as tg
import tinygen.distributions as D

MODULES = {
    "bernoulli": ["Bernoulli"], "beta": ["Beta"], "binomial": ["Binomial"],
    "categorical": ["Categorical"], "cauchy": ["Cauchy"], "chi2": ["Chi2"],
    "continuous_bernoulli": ["ContinuousBernoulli"], "dirichlet": ["Dirichlet"],
    "distribution": ["Distribution"], "exp_family": ["ExponentialFamily"],
    "exponential": ["Exponential"], "fishersnedecor": ["FisherSnedecor"], "gamma": ["Gamma"],
    "generalized_pareto": ["GeneralizedPareto"], "geometric": ["Geometric"],
    "gumbel": ["Gumbel"], "half_cauchy": ["HalfCauchy"], "half_normal": ["HalfNormal"],
    "independent": ["Independent"], "inverse_gamma": ["InverseGamma"],
    "kl": ["kl_divergence", "register_kl"], "kumaraswamy": ["Kumaraswamy"],
    "laplace": ["Laplace"], "log_normal": ["LogNormal"],
    "mixture_same_family": ["MixtureSameFamily"], "multinomial": ["Multinomial"],
    "multivariate_normal": ["MultivariateNormal"], "negative_binomial": ["NegativeBinomial"],
    "normal": ["Normal"],
    "one_hot_categorical": ["OneHotCategorical", "OneHotCategoricalStraightThrough"],
    "pareto": ["Pareto"], "poisson": ["Poisson"],
    "relaxed_bernoulli": ["LogitRelaxedBernoulli", "RelaxedBernoulli"],
    "relaxed_categorical": ["ExpRelaxedCategorical", "RelaxedOneHotCategorical"],
    "studentT": ["StudentT"], "transformed_distribution": ["TransformedDistribution"],
    "uniform": ["Uniform"], "von_mises": ["VonMises"], "weibull": ["Weibull"],
}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_family_lives_in_pytorch_module(module):
    mod = importlib.import_module(f"tinygen.distributions.{module}")
    for name in MODULES[module]:
        assert getattr(mod, name) is getattr(D, name)
        if isinstance(getattr(D, name), type):
            assert getattr(D, name).__module__ == mod.__name__


def test_constraints_transforms_modules():
    from tinygen.distributions.constraints import positive
    from tinygen.distributions.transforms import ExpTransform
    assert positive is D.constraints.positive and ExpTransform is D.ExpTransform


def test_same_modules_as_torch():
    """Every torch family module we name here exists in torch with the same classes."""
    pytest.importorskip("torch")
    for module, names in MODULES.items():
        mod = importlib.import_module(f"torch.distributions.{module}")
        for name in names:
            assert hasattr(mod, name), (module, name)


def test_utils_helpers():
    from tinygen.distributions.utils import (
        broadcast_all, clamp_probs, lazy_property, logits_to_probs, probs_to_logits)
    a, b = broadcast_all(tg.tensor([1.0, 2.0]), 3.0)
    assert a.shape == b.shape == (2,) and b.tolist() == [3.0, 3.0]
    p = tg.tensor([0.2, 0.5, 0.3], dtype=tg.float64)
    assert logits_to_probs(probs_to_logits(p)).allclose(p)
    assert logits_to_probs(probs_to_logits(p, is_binary=True), is_binary=True).allclose(p)
    assert float(clamp_probs(tg.tensor([0.0])).item()) > 0
    assert isinstance(D.Bernoulli.__dict__["probs"], lazy_property)
    with pytest.raises(TypeError, match="tensors or numbers"):
        broadcast_all([1.0])
